"""Adding to the zoo: a training checkpoint exported as fp16 weights, measured (PSNR / SSIM /
PSNR-B on LIVE1 and Classic5 at QF 10-40, FBCNN's conventions) and written into the manifest with
its training record; an auxiliary network measured by its own function."""

from __future__ import annotations

import json
import os
from functools import partial
from pathlib import Path
from typing import Any, Optional, Sequence

import torch

from jarlib import models as model_registry
from jarlib.atomic import write_text_atomic
from jarlib.auxiliary import MEASURES
from jarlib.checkpoint import CheckpointError, export_state, load_checkpoint
from jarlib.data.registry import available
from jarlib.evaluation import evaluate_restorer, qf_prediction_error
from jarlib.pretrained import (AUXILIARY, build_auxiliary, info, load, manifest, manifest_path, ready,
                               restorer_of, sha256, zoo_dir)
from jarlib.train import TrainConfig

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


def evaluate(model: model_registry.Restorer, sets: Optional[Sequence[str]] = None,
             qfs: Sequence[int] = EVAL_QFS, flip_ensemble: bool = False) -> dict[str, Any]:
    """PSNR / SSIM / PSNR-B (FBCNN's conventions: MATLAB Y for gray sets, RGB for ``*_color``) of
    ``model`` and of JPEG on ``sets`` (default: :func:`default_sets`) at ``qfs``, rounded to 4
    decimals: ``{set: {"10": {...}, ...}}``. ``ssim`` uses the 11x11 Gaussian window (FBCNN),
    ``ssim_uniform8`` the 8x8 uniform one (ARCNN's script: the DCSC erratum, QGCN, Dual priors).
    ``flip_ensemble``: restore with the mean over the four flips (``model.restore(..., flip_ensemble=True)``)."""
    restore = partial(model.restore, flip_ensemble=True) if flip_ensemble else model.restore
    out: dict[str, Any] = {}
    for s in sets or default_sets(model.in_channels):
        r = evaluate_restorer(restore, s, qfs, convention_for(s), also_ssim=("uniform8",))
        out[s] = {q: {k: round(v, 4) for k, v in r[q].items() if k != "seconds"} for q in map(str, qfs)}
        out[s]["images"] = r["images"]
    return out


def _write_json_atomic(path: Path, data: Any) -> None:
    write_text_atomic(path, json.dumps(data, indent=1) + "\n")


def write_entry(name: str, entry: dict[str, Any]) -> None:
    """Put ``entry`` into the manifest under ``name`` (atomically; the other entries as they are)."""
    _write_json_atomic(manifest_path(), {**manifest(), name: entry})


def _staged(name: str) -> Path:
    """Where ``zoo add`` writes a model's new weights while it measures them: beside the zoo's file,
    published (renamed over it) only with the finished entry, so an interrupted add leaves the zoo
    as it was."""
    return zoo_dir() / "weights" / f".{name}.pt.new"


def _stored_weights(model: torch.nn.Module, path: Path) -> torch.nn.Module:
    """``model`` with the weights of the zoo file ``path`` (fp16 as stored, loaded to fp32)."""
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return model


def _publish(name: str, staged: Path, entry: dict[str, Any]) -> None:
    """Move the measured weights into place, then write their manifest entry (both atomic)."""
    os.replace(staged, zoo_dir() / entry["file"])
    write_entry(name, entry)


def add_auxiliary(name: str, checkpoint: str | os.PathLike, command: str, half: bool = True) -> dict[str, Any]:
    """Export a checkpoint of an auxiliary network (its ``kind`` in :data:`AUXILIARY`) into the
    zoo, measured by its module's function on the fp16 weights (and on fp32, to record what fp16
    storage changes)."""
    return _add_auxiliary(name, load_checkpoint(checkpoint), command, half)


def _add_auxiliary(name: str, state: dict[str, Any], command: str, half: bool) -> dict[str, Any]:
    """:func:`add_auxiliary` of an already-read checkpoint ``state``."""
    kind = state.get("kind")
    cfg = state["config"]
    args = {k: cfg[k] for k in ("widths", "hidden")}
    fp32 = build_auxiliary(kind, args)
    measure = MEASURES[kind]
    fp32.load_state_dict(state["model"])
    fp32.eval()
    rel, staged = f"weights/{name}.pt", _staged(name)
    run = export_state(state, staged, half=half)
    entry: dict[str, Any] = {
        "kind": kind, "model": kind, "model_args": args, "in_channels": 1, "file": rel,
        "sha256": sha256(staged), "bytes": staged.stat().st_size,
        "dtype": "float16" if half else "float32", "parameters": sum(p.numel() for p in fp32.parameters()),
        "training": {"data": "bsds500_train", "mode": "gray", "steps": run["step"],
                     "cpu_minutes": round(run["seconds"] / 60, 1), "threads": torch.get_num_threads(),
                     "torch": str(torch.__version__), "config": cfg},
        "command": command, "metrics": {},
        "curve": [{"step": h["step"], "cpu_minutes": round(h["seconds"] / 60, 2), "loss": round(h["loss"], 4)}
                  for h in state["history"]["train"]],
    }
    try:
        entry["metrics"] = measure(_stored_weights(build_auxiliary(kind, args), staged).eval())
        entry["fp32_metrics"] = measure(fp32)
        _publish(name, staged, entry)
    finally:
        staged.unlink(missing_ok=True)
    return entry


def checkpoint_chain(init_from: Optional[str]) -> tuple[list[tuple[str, float]], Optional[str]]:
    """Follow a run's ``init_from`` back through training checkpoints, each to the ``init_from`` in
    its own config: ``([(checkpoint, its training seconds), ...], start)``, nearest first, where
    ``start`` is the zoo model the chain began at, or ``None`` (no start, or a file not there)."""
    entries = manifest()
    chain: list[tuple[str, float]] = []
    while init_from and init_from not in entries and Path(init_from).is_file() and len(chain) < 32:
        try:
            state = load_checkpoint(Path(init_from))
        except CheckpointError:     # a weights file (a recipe stage's fp16 export): no record to follow
            break
        chain.append((init_from, float(state["seconds"])))
        init_from = state.get("config", {}).get("init_from")
    return chain, init_from if init_from in entries else None


def _validation_points(history: dict[str, Any], qfs: Sequence[Any], step0: int = 0,
                       minutes0: float = 0.0, stage: Optional[str] = None) -> list[dict[str, Any]]:
    """A run's validation history as the manifest's ``curve`` points, shifted by ``step0`` steps
    and ``minutes0`` minutes (the stages before it)."""
    return [{"step": step0 + v["step"], "cpu_minutes": round(minutes0 + v["seconds"] / 60, 2),
             **({"stage": stage} if stage else {}),
             **{f"psnr_q{q}": round(v[q]["psnr"], 3) for q in map(str, qfs)},
             **{f"psnr_jpeg_q{q}": round(v[q]["psnr_jpeg"], 3) for q in map(str, qfs)}}
            for v in history.get("val", [])]


def earlier_curve(init_from: Optional[str]) -> tuple[list[dict[str, Any]], int, float]:
    """What a run continued (:func:`checkpoint_chain`): the validation curves of its training
    checkpoints, oldest first, as one curve whose points name their stage (the checkpoint's folder);
    the steps of those checkpoints; and the minutes of :func:`earlier_cpu_minutes`. Steps count from
    the chain's first checkpoint; minutes, like ``cpu_minutes_total``, also count the zoo model the
    chain started from. ``([], 0, 0.0)`` without a start."""
    chain, start = checkpoint_chain(init_from)
    points: list[dict[str, Any]] = []
    step0, minutes0 = 0, (earlier_cpu_minutes(start) if start else 0.0)
    for path, seconds in reversed(chain):
        state = load_checkpoint(Path(path))
        qfs = state["config"].get("val_qfs", [])
        points += _validation_points(state["history"], qfs, step0, minutes0, Path(path).parent.name)
        step0, minutes0 = step0 + int(state["step"]), minutes0 + seconds / 60
    return points, step0, minutes0


def training_curve(entry: dict[str, Any]) -> list[dict[str, Any]]:
    """A restorer entry's whole validation curve: the stages it continued (``curve_earlier``, when
    the zoo recorded them) and then its own, whose steps and minutes count on from them."""
    earlier = entry.get("curve_earlier", [])
    if not earlier:
        return list(entry.get("curve", []))
    t = entry["training"]
    step0 = int(t.get("steps_before", 0))
    minutes0 = float(t.get("cpu_minutes_total", t["cpu_minutes"])) - float(t["cpu_minutes"])
    stage = Path(t["config"].get("out") or "").name
    return earlier + [{**c, "step": step0 + c["step"], "cpu_minutes": round(minutes0 + c["cpu_minutes"], 2),
                       **({"stage": stage} if stage else {})} for c in entry.get("curve", [])]


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
    if not hasattr(model, "predict_qf"):
        raise ValueError(f"{type(model).__name__} has no QF predictor (predict_qf): only FBCNN models do")
    return {"set": qf_prediction_set(in_channels), **qf_prediction_error(model.predict_qf, qf_prediction_set(in_channels))}


def record_qf_prediction(name: str) -> dict[str, Any]:
    """Measure zoo model ``name``'s QF predictor and write it into its manifest entry (what `add`
    does for a new FBCNN model; for an entry added before `add` measured it)."""
    entry = info(name)
    measured = measure_qf_prediction(load(name, "cpu"), entry["in_channels"])
    write_entry(name, {**entry, "qf_prediction": measured})
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

    The weights are measured before they are published: an add that is interrupted (or fails) leaves
    the zoo's file and entry as they were.

    Measures the model on ``sets`` (default: :func:`default_sets`) at ``qfs``, and the fp32
    checkpoint against the stored fp16 weights at the first QF (``fp16_psnr_change``, on Classic5
    when measured, else the last set), so the manifest shows what fp16 storage costs; ``check``
    records the scores of the first :data:`CHECK_IMAGES` images of that set, which the tests reproduce.
    """
    state = load_checkpoint(checkpoint)
    if state.get("kind") in AUXILIARY:
        return _add_auxiliary(name, state, command, half)
    cfg = TrainConfig.from_dict(state["config"])
    in_channels = 1 if cfg.mode == "gray" else 3
    fp32 = ready(restorer_of(state), "cpu")
    rel, staged = f"weights/{name}.pt", _staged(name)
    run = export_state(state, staged, half=half)
    earlier, steps_before, before = earlier_curve(cfg.init_from)
    started = init_weights(cfg.init_from)
    entry: dict[str, Any] = {
        "model": cfg.model, "model_args": cfg.model_args, "in_channels": in_channels,
        "file": rel, "sha256": sha256(staged), "bytes": staged.stat().st_size,
        "dtype": "float16" if half else "float32", "parameters": fp32.num_parameters(),
        **frozen_parameters(fp32),
        "training": {"data": cfg.train_set, "mode": cfg.mode, "qf_range": list(cfg.qf_range),
                     **({"qf_choices": list(cfg.qf_choices)} if cfg.qf_choices else {}),
                     "steps": run["step"], "patch": cfg.patch, "batch": cfg.batch,
                     "cpu_minutes": round(run["seconds"] / 60, 1),
                     "cpu_minutes_total": round(run["seconds"] / 60 + before, 1),
                     **({"steps_before": steps_before} if steps_before else {}),
                     **started,
                     "threads": torch.get_num_threads(), "torch": str(torch.__version__), "config": state["config"]},
        "command": command,
        "curve": _validation_points(state["history"], cfg.val_qfs),
        **({"curve_earlier": earlier} if earlier else {}),
        "curve_note": f"validation during training: {cfg.val_images} {cfg.val_set} images centre-cropped "
                      f"to {cfg.val_crop}x{cfg.val_crop}, PSNR on {'RGB' if in_channels == 3 else 'Y'}; "
                      "cpu_minutes = training time only",
    }
    try:
        _measure(entry, ready(_stored_weights(restorer_of(state), staged), "cpu"), fp32, in_channels, sets, qfs)
        _publish(name, staged, entry)
    finally:
        staged.unlink(missing_ok=True)
    return entry


def _measure(entry: dict[str, Any], model: Any, fp32: Any, in_channels: int, sets: Optional[Sequence[str]],
             qfs: Sequence[int]) -> None:
    """:func:`add`'s measurements of the stored (fp16) ``model``, into ``entry``."""
    sets = list(sets or default_sets(in_channels))
    entry["metrics"] = evaluate(model, sets, qfs)
    check = sets[-1] if "classic5" not in sets else "classic5"
    a = evaluate_restorer(fp32.restore, check, (qfs[0],), convention_for(check))[str(qfs[0])]["psnr"]
    b = evaluate_restorer(model.restore, check, (qfs[0],), convention_for(check))[str(qfs[0])]["psnr"]
    entry["fp16_psnr_change"] = {"set": check, "qf": qfs[0], "fp32": round(a, 4), "stored": round(b, 4),
                                 "change_db": round(b - a, 4)}
    if hasattr(model, "predict_qf") and available(qf_prediction_set(in_channels)):
        # FBCNN: how well its QF predictor reads LIVE1 at QF 10-90 (without LIVE1: `zoo qf-prediction --record`)
        entry["qf_prediction"] = measure_qf_prediction(model, in_channels)
    quick = evaluate_restorer(model.restore, check, (qfs[0],), convention_for(check), limit=CHECK_IMAGES)[str(qfs[0])]
    entry["check"] = {"set": check, "qf": qfs[0], "images": CHECK_IMAGES,
                      **{k: round(quick[k], 4) for k in ("psnr", "ssim", "psnrb")}}
