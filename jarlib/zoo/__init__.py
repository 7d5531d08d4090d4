"""The project's own trained models: small fp16 state dicts in ``weights/``, described by ``manifest.json``.

``zoo.load("dncnn_gray")`` is how notebooks, benchmarks and the command line get a trained model;
every zoo model is a :class:`jarlib.models.Restorer`, so ``model.restore(jpeg)`` works for all.
Each manifest entry records the model and its constructor arguments, the training config, data,
QF range, steps and CPU time, the file's SHA-256, the measured PSNR / SSIM / PSNR-B on LIVE1 and
Classic5 gray at QF 10/20/30/40, and the exact commands that reproduce the file.

Command line::

    python -m jarlib.zoo list
    python -m jarlib.zoo add dncnn_gray runs/dncnn_gray/checkpoint.pt --command "python -m jarlib.train ..."
    python -m jarlib.zoo evaluate dncnn_gray --sets classic5
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from jarlib import models as model_registry
from jarlib.atomic import write_text_atomic
from jarlib.models.base import resolve_device

ZOO_DIR = Path(__file__).resolve().parent
MANIFEST = ZOO_DIR / "manifest.json"
EVAL_SETS = ("live1_gray", "classic5")
"""Sets every gray model is measured on (a colour model: :data:`EVAL_SETS_COLOR`)."""
EVAL_SETS_COLOR = ("live1_color",)
EVAL_QFS = (10, 20, 30, 40)
CHECK_IMAGES = 5


def convention_for(dataset: str) -> str:
    """The FBCNN convention a set is scored with: RGB for the colour sets, MATLAB Y otherwise."""
    return "fbcnn_color" if dataset.endswith("_color") else "fbcnn_gray"


def default_sets(in_channels: int) -> tuple[str, ...]:
    """The sets a model with ``in_channels`` inputs is measured on."""
    return EVAL_SETS_COLOR if in_channels == 3 else EVAL_SETS


class ZooError(RuntimeError):
    """A zoo model that cannot be loaded: unknown name, missing file, wrong checksum."""


def manifest() -> dict[str, Any]:
    """The whole manifest: ``{name: entry}``."""
    if not MANIFEST.exists():
        return {}
    return json.loads(MANIFEST.read_text())


AUXILIARY = {
    "cqr_ranker": ("jarlib.models.cqr", "Ranker", "evaluate_ranker"),
    "dualpriors_classifier": ("jarlib.models.dual_priors", "GradientClassifier", "evaluate_classifier"),
}
"""Networks in the zoo that are not restorers, by ``kind``: (module, class, the function that
measures one). Their training checkpoints say their kind (:func:`jarlib.auxiliary.train_auxiliary`)."""


def available(kind: Optional[str] = "restorer") -> list[str]:
    """Names of the zoo's restorers (the default), of its networks of another ``kind`` (e.g.
    ``"cqr_ranker"``), or of everything (``kind=None``)."""
    return sorted(n for n, e in manifest().items() if kind is None or e.get("kind", "restorer") == kind)


def info(name: str) -> dict[str, Any]:
    """The manifest entry of ``name`` (restorer or auxiliary network)."""
    entries = manifest()
    if name not in entries:
        raise ZooError(f"no zoo model {name!r}; available: {', '.join(sorted(entries)) or 'none'}")
    return entries[name]


def _headline(entry: dict[str, Any]) -> str:
    """One model's headline score, in words: LIVE1 QF 10 for a restorer (Y or RGB), what the
    auxiliary networks were measured on for the others."""
    m = entry.get("metrics", {})
    if entry.get("kind", "restorer") == "restorer":
        key = "live1_gray" if entry["in_channels"] == 1 else "live1_color"
        q = m.get(key, {}).get("10")
        if not q:
            return "not measured on LIVE1 at QF 10"
        return (f"LIVE1 QF 10: {q['psnr']:.2f} dB, {q['psnr'] - q['psnr_jpeg']:+.2f} over JPEG "
                f"({'Y' if entry['in_channels'] == 1 else 'RGB'})")
    if "spearman_per_patch" in m:
        return f"orders LIVE1 patches by QF: Spearman {m['spearman_per_patch']:.3f} per patch"
    if "accuracy" in m:
        return f"tells clean from JPEG LIVE1 patches: {m['accuracy']:.1%} right"
    return "no recorded measurement"


def list_lines() -> list[str]:
    """``python -m jarlib.zoo list``: one aligned line per model (name, network, gray or colour,
    parameters, file size, training QF range, headline score), under a header."""
    rows = [("model", "network", "input", "parameters", "file", "trained QF", "measured")]
    for name in available(None):
        e = info(name)
        qf = e.get("training", {}).get("qf_range")
        rows.append((name, e["model"] if e.get("kind", "restorer") == "restorer" else e["kind"],
                     "gray" if e.get("in_channels", 1) == 1 else "colour", f"{e['parameters']:,}",
                     f"{e['bytes'] / 1e6:.2f} MB", f"{qf[0]}-{qf[1]}" if qf else "-", _headline(e)))
    widths = [max(len(r[k]) for r in rows) for k in range(len(rows[0]) - 1)]
    right = {3, 4, 5}
    return ["  ".join([*(c.rjust(w) if k in right else c.ljust(w) for k, (c, w) in enumerate(zip(r, widths))), r[-1]])
            for r in rows]


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def load(name: str, device: str | torch.device = "auto") -> model_registry.Restorer:
    """The trained model ``name`` in eval mode (fp32 on ``device``; ``"auto"``: CUDA when present).

    Checks the weight file's SHA-256 against the manifest and loads it with ``weights_only=True``.
    """
    entry = info(name)
    path = ZOO_DIR / entry["file"]
    if not path.is_file():
        raise ZooError(f"weights of {name!r} missing: {path} (a partial clone? `git lfs` is not used; "
                       f"re-clone, or retrain with: {entry.get('command', '?')})")
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise ZooError(f"weights of {name!r} do not match the manifest: {path} has SHA-256 {digest[:12]}..., "
                       f"manifest says {entry['sha256'][:12]}...; the file is corrupt or from another run")
    kind = entry.get("kind", "restorer")
    if kind == "restorer":
        model = model_registry.build(entry["model"], in_channels=entry["in_channels"], **entry["model_args"])
    else:
        model = _auxiliary(kind)[0](**entry["model_args"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return _ready(model, device)


def _ready(model: torch.nn.Module, device: str | torch.device) -> Any:
    """``model`` in eval mode on ``device`` ("auto": CUDA when present, else the CPU); a restorer
    as its :meth:`~jarlib.models.base.Restorer.for_inference` leaves it (a memory layout)."""
    model = model.to(resolve_device(device)).eval()
    return model.for_inference() if isinstance(model, model_registry.Restorer) else model


def from_checkpoint(checkpoint: str | os.PathLike, device: str | torch.device = "auto") -> model_registry.Restorer:
    """The restorer of a training checkpoint (``python -m jarlib.train --out DIR`` writes
    ``DIR/checkpoint.pt``), fp32 as trained and in eval mode: to measure a run before, or instead
    of, adding it to the zoo."""
    from jarlib.train import load_checkpoint

    state = load_checkpoint(checkpoint)
    if state.get("kind") in AUXILIARY:
        raise ZooError(f"{checkpoint} is a {state['kind']} checkpoint, not a restorer's")
    return _ready(_restorer(state), device)


def _restorer(state: dict[str, Any]) -> model_registry.Restorer:
    """The fp32 restorer of an already-read training checkpoint ``state``, on the CPU."""
    from jarlib.train import TrainConfig

    cfg = TrainConfig.from_dict(state["config"])
    model = model_registry.build(cfg.model, in_channels=1 if cfg.mode == "gray" else 3, **cfg.model_args)
    model.load_state_dict(state["model"])
    return model


def load_any(source: str | os.PathLike, device: str | torch.device = "auto") -> model_registry.Restorer:
    """A zoo model by name, else the restorer of the training checkpoint at path ``source``."""
    if str(source) in available():
        return load(str(source), device)
    if Path(source).is_file():
        return from_checkpoint(source, device)
    raise ZooError(f"{str(source)!r} is neither a zoo model ({', '.join(available())}) nor a checkpoint file")


def evaluate(model: model_registry.Restorer, sets: Optional[Sequence[str]] = None,
             qfs: Sequence[int] = EVAL_QFS, flip_ensemble: bool = False) -> dict[str, Any]:
    """PSNR / SSIM / PSNR-B (FBCNN's conventions: MATLAB Y for gray sets, RGB for ``*_color``) of
    ``model`` and of JPEG on ``sets`` (default: :func:`default_sets`) at ``qfs``, rounded to 4
    decimals: ``{set: {"10": {...}, ...}}``. ``ssim`` uses the 11x11 Gaussian window (FBCNN),
    ``ssim_uniform8`` the 8x8 uniform one (ARCNN's script: the DCSC erratum, QGCN, Dual priors).
    ``flip_ensemble``: restore with the mean over the four flips (``model.restore(..., flip_ensemble=True)``)."""
    from functools import partial

    from jarlib.evaluation import evaluate_restorer

    restore = partial(model.restore, flip_ensemble=True) if flip_ensemble else model.restore
    out: dict[str, Any] = {}
    for s in sets or default_sets(model.in_channels):
        r = evaluate_restorer(restore, s, qfs, convention_for(s), also_ssim=("uniform8",))
        out[s] = {q: {k: round(v, 4) for k, v in r[q].items() if k != "seconds"} for q in map(str, qfs)}
        out[s]["images"] = r["images"]
    return out


def _write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def _auxiliary(kind: str) -> tuple[Any, Any]:
    """(class, measuring function) of an auxiliary kind."""
    import importlib

    if kind not in AUXILIARY:
        raise ZooError(f"unknown kind {kind!r}; known: restorer, {', '.join(AUXILIARY)}")
    module, cls, measure = AUXILIARY[kind]
    mod = importlib.import_module(module)
    return getattr(mod, cls), getattr(mod, measure)


def add_auxiliary(name: str, checkpoint: str | os.PathLike, command: str, half: bool = True) -> dict[str, Any]:
    """Export a checkpoint of an auxiliary network (its ``kind`` in :data:`AUXILIARY`) into the
    zoo, measured by its module's function on the fp16 weights (and on fp32, to record what fp16
    storage changes)."""
    from jarlib.train import load_checkpoint

    return _add_auxiliary(name, load_checkpoint(checkpoint), command, half)


def _add_auxiliary(name: str, state: dict[str, Any], command: str, half: bool) -> dict[str, Any]:
    """:func:`add_auxiliary` of an already-read checkpoint ``state``."""
    from jarlib.train import export_state

    kind = state.get("kind")
    cls, measure = _auxiliary(kind)
    cfg = state["config"]
    args = {k: cfg[k] for k in ("widths", "hidden")}
    fp32 = cls(**args)
    fp32.load_state_dict(state["model"])
    fp32.eval()
    rel = f"weights/{name}.pt"
    run = export_state(state, ZOO_DIR / rel, half=half)
    entry: dict[str, Any] = {
        "kind": kind, "model": kind, "model_args": args, "in_channels": 1, "file": rel,
        "sha256": sha256(ZOO_DIR / rel), "bytes": (ZOO_DIR / rel).stat().st_size,
        "dtype": "float16" if half else "float32", "parameters": sum(p.numel() for p in fp32.parameters()),
        "training": {"data": "bsds500_train", "mode": "gray", "steps": run["step"],
                     "cpu_minutes": round(run["seconds"] / 60, 1), "threads": torch.get_num_threads(),
                     "torch": str(torch.__version__), "config": cfg},
        "command": command, "metrics": {},
        "curve": [{"step": h["step"], "cpu_minutes": round(h["seconds"] / 60, 2), "loss": round(h["loss"], 4)}
                  for h in state["history"]["train"]],
    }
    _write_json_atomic(MANIFEST, {**manifest(), name: entry})
    entry["metrics"] = measure(load(name, "cpu"))
    entry["fp32_metrics"] = measure(fp32)
    _write_json_atomic(MANIFEST, {**manifest(), name: entry})
    return entry


def checkpoint_chain(init_from: Optional[str]) -> tuple[list[tuple[str, float]], Optional[str]]:
    """Follow a run's ``init_from`` back through training checkpoints, each to the ``init_from`` in
    its own config: ``([(checkpoint, its training seconds), ...], start)``, nearest first, where
    ``start`` is the zoo model the chain began at, or ``None`` (no start, or a file not there)."""
    entries = manifest()
    chain: list[tuple[str, float]] = []
    from jarlib.train import load_checkpoint

    while init_from and init_from not in entries and Path(init_from).is_file() and len(chain) < 32:
        state = load_checkpoint(Path(init_from))
        chain.append((init_from, float(state["seconds"])))
        init_from = state.get("config", {}).get("init_from")
    return chain, init_from if init_from in entries else None


def earlier_cpu_minutes(init_from: Optional[str]) -> float:
    """The training minutes a fine-tuning run started from (``init_from``): a zoo model's total, or
    a checkpoint's own training time plus what that checkpoint started from (:func:`checkpoint_chain`);
    0 without a start."""
    chain, start = checkpoint_chain(init_from)
    minutes = sum(seconds for _, seconds in chain) / 60
    if start is not None:
        t = manifest()[start]["training"]
        minutes += float(t.get("cpu_minutes_total", t["cpu_minutes"]))
    return minutes


def qf_prediction_set(in_channels: int) -> str:
    """The set a QF predictor is scored on (:func:`jarlib.evaluation.qf_prediction_error`): LIVE1."""
    return "live1_color" if in_channels == 3 else "live1_gray"


def measure_qf_prediction(model: Any, in_channels: int) -> dict[str, Any]:
    """A QF predictor's error on all of LIVE1 at QF 10-90 (:func:`jarlib.evaluation.qf_prediction_error`),
    as the manifest's ``qf_prediction`` records it."""
    from jarlib.evaluation import qf_prediction_error

    if not hasattr(model, "predict_qf"):
        raise ValueError(f"{type(model).__name__} has no QF predictor (predict_qf): only FBCNN models do")
    return {"set": qf_prediction_set(in_channels), **qf_prediction_error(model.predict_qf, qf_prediction_set(in_channels))}


def record_qf_prediction(name: str) -> dict[str, Any]:
    """Measure zoo model ``name``'s QF predictor and write it into its manifest entry (what `add`
    does for a new FBCNN model; for an entry added before `add` measured it)."""
    entry = info(name)
    measured = measure_qf_prediction(load(name, "cpu"), entry["in_channels"])
    _write_json_atomic(MANIFEST, {**manifest(), name: {**entry, "qf_prediction": measured}})
    return measured


def init_weights(init_from: Optional[str]) -> dict[str, Any]:
    """``{"init_weights": {"from": name, "sha256": ...}}`` when a run started from a zoo model, else
    ``{}``: the zoo model may be replaced later, and its SHA-256 names the weights the run started
    from (recover them with ``git log`` on the manifest, then ``--set init_from=<that file>``).
    A run that started from a training checkpoint is followed back through the checkpoints'
    own ``init_from`` (:func:`checkpoint_chain`); when that chain began at a zoo model,
    ``"via"`` lists the checkpoints in between."""
    chain, start = checkpoint_chain(init_from)
    if start is None:
        return {}
    begun = {"from": start, "sha256": manifest()[start]["sha256"]}
    return {"init_weights": {**begun, "via": [path for path, _ in chain]} if chain else begun}


def frozen_parameters(model: torch.nn.Module) -> dict[str, int]:
    """``{"frozen_parameters": n}`` for the parameters a model stores but does not train (Dual
    priors' classifier, frozen inside it), else ``{}``: the weights file holds ``parameters`` +
    ``frozen_parameters`` numbers."""
    frozen = sum(p.numel() for p in model.parameters() if not p.requires_grad)
    return {"frozen_parameters": frozen} if frozen else {}


def add(name: str, checkpoint: str | os.PathLike, command: str, sets: Optional[Sequence[str]] = None,
        qfs: Sequence[int] = EVAL_QFS, half: bool = True) -> dict[str, Any]:
    """Export a training checkpoint into the zoo as ``weights/<name>.pt`` and write its manifest entry.

    Measures the model on ``sets`` (default: :func:`default_sets`) at ``qfs``, and the fp32
    checkpoint against the stored fp16 weights at the first QF (``fp16_psnr_change``, on Classic5
    when measured, else the last set), so the manifest shows what fp16 storage costs; ``check``
    records the scores of the first :data:`CHECK_IMAGES` images of that set, which the tests reproduce.
    """
    from jarlib.evaluation import evaluate_restorer
    from jarlib.train import TrainConfig, export_state, load_checkpoint

    state = load_checkpoint(checkpoint)
    if state.get("kind") in AUXILIARY:
        return _add_auxiliary(name, state, command, half)
    cfg = TrainConfig.from_dict(state["config"])
    in_channels = 1 if cfg.mode == "gray" else 3
    fp32 = _ready(_restorer(state), "cpu")
    rel = f"weights/{name}.pt"
    run = export_state(state, ZOO_DIR / rel, half=half)
    before = earlier_cpu_minutes(cfg.init_from)
    started = init_weights(cfg.init_from)
    entry: dict[str, Any] = {
        "model": cfg.model, "model_args": cfg.model_args, "in_channels": in_channels,
        "file": rel, "sha256": sha256(ZOO_DIR / rel), "bytes": (ZOO_DIR / rel).stat().st_size,
        "dtype": "float16" if half else "float32", "parameters": fp32.num_parameters(),
        **frozen_parameters(fp32),
        "training": {"data": cfg.train_set, "mode": cfg.mode, "qf_range": list(cfg.qf_range),
                     **({"qf_choices": list(cfg.qf_choices)} if cfg.qf_choices else {}),
                     "steps": run["step"], "patch": cfg.patch, "batch": cfg.batch,
                     "cpu_minutes": round(run["seconds"] / 60, 1),
                     "cpu_minutes_total": round(run["seconds"] / 60 + before, 1),
                     **started,
                     "threads": torch.get_num_threads(), "torch": str(torch.__version__), "config": state["config"]},
        "command": command,
        "curve": [{"step": v["step"], "cpu_minutes": round(v["seconds"] / 60, 2),
                   **{f"psnr_q{q}": round(v[q]["psnr"], 3) for q in map(str, cfg.val_qfs)},
                   **{f"psnr_jpeg_q{q}": round(v[q]["psnr_jpeg"], 3) for q in map(str, cfg.val_qfs)}}
                  for v in state["history"].get("val", [])],
        "curve_note": f"validation during training: {cfg.val_images} {cfg.val_set} images centre-cropped "
                      f"to {cfg.val_crop}x{cfg.val_crop}, PSNR on {'RGB' if in_channels == 3 else 'Y'}; "
                      "cpu_minutes = training time only",
    }
    _write_json_atomic(MANIFEST, {**manifest(), name: {**entry, "metrics": {}}})
    model = load(name, "cpu")
    sets = list(sets or default_sets(in_channels))
    entry["metrics"] = evaluate(model, sets, qfs)
    check = sets[-1] if "classic5" not in sets else "classic5"
    a = evaluate_restorer(fp32.restore, check, (qfs[0],), convention_for(check))[str(qfs[0])]["psnr"]
    b = evaluate_restorer(model.restore, check, (qfs[0],), convention_for(check))[str(qfs[0])]["psnr"]
    entry["fp16_psnr_change"] = {"set": check, "qf": qfs[0], "fp32": round(a, 4), "stored": round(b, 4),
                                 "change_db": round(b - a, 4)}
    if hasattr(model, "predict_qf"):   # FBCNN: how well its QF predictor reads LIVE1 at QF 10-90
        entry["qf_prediction"] = measure_qf_prediction(model, in_channels)
    quick = evaluate_restorer(model.restore, check, (qfs[0],), convention_for(check), limit=CHECK_IMAGES)[str(qfs[0])]
    entry["check"] = {"set": check, "qf": qfs[0], "images": CHECK_IMAGES,
                      **{k: round(quick[k], 4) for k in ("psnr", "ssim", "psnrb")}}
    _write_json_atomic(MANIFEST, {**manifest(), name: entry})
    return entry


def main(argv: Optional[Sequence[str]] = None) -> int:
    import argparse

    parser = argparse.ArgumentParser(prog="python -m jarlib.zoo", description="The project's trained models.")
    sub = parser.add_subparsers(dest="cmd", required=True)
    sub.add_parser("list", help="the zoo models and their LIVE1 QF10 PSNR")
    p_add = sub.add_parser("add", help="export a training checkpoint into the zoo and measure it")
    p_add.add_argument("name")
    p_add.add_argument("checkpoint")
    p_add.add_argument("--command", required=True, help="the training command that made the checkpoint")
    p_add.add_argument("--fp32", action="store_true", help="store fp32 weights (default fp16)")
    p_add.add_argument("--sets", nargs="+", default=None, help="data sets to measure on (default: LIVE1 and "
                       "Classic5 gray; LIVE1 colour for a colour model)")
    p_eval = sub.add_parser("evaluate", help="measure a zoo model or a training checkpoint (FBCNN's conventions: "
                            "Y for gray sets, RGB for colour sets; the metrics `add` records)")
    p_eval.add_argument("name", help="a zoo name, or the path of a training checkpoint (runs/<run>/checkpoint.pt)")
    p_eval.add_argument("--sets", nargs="+", default=None)
    p_eval.add_argument("--qfs", nargs="+", type=int, default=list(EVAL_QFS))
    p_eval.add_argument("--flip-ensemble", action="store_true", help="the mean over the image's four flips "
                        "(4x the time; not what `add` records)")
    p_qf = sub.add_parser("qf-prediction", help="FBCNN: how well the QF predictor reads LIVE1 at QF 10-90 "
                          "(mean absolute error in QF units)")
    p_qf.add_argument("name", help="a zoo name, or the path of a training checkpoint")
    p_qf.add_argument("--record", action="store_true", help="write it into the zoo model's manifest entry")
    args = parser.parse_args(argv)
    from jarlib.data import DatasetNotFoundError
    from jarlib.train import CheckpointError

    try:
        if args.cmd == "list":
            print("\n".join(list_lines()))
        elif args.cmd == "add":
            add(args.name, args.checkpoint, args.command, sets=args.sets, half=not args.fp32)
            print(json.dumps(info(args.name)["metrics"], indent=1))
        elif args.cmd == "qf-prediction":
            if args.record:
                measured = record_qf_prediction(args.name)
            else:
                model = load_any(args.name)
                measured = measure_qf_prediction(model, model.in_channels)
            print(json.dumps(measured, indent=1))
        else:
            print(json.dumps(evaluate(load_any(args.name), args.sets, args.qfs, args.flip_ensemble), indent=1))
    except (ZooError, CheckpointError, ValueError, DatasetNotFoundError) as exc:
        print(f"error: {exc}", file=__import__("sys").stderr)
        return 2
    return 0
