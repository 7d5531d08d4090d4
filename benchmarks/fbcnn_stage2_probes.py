"""What lifts FBCNN-cpu at QF 10? Probes that continue the zoo's ``fbcnn_gray_small``, one change each.

Each probe starts from ``fbcnn_gray_small`` (or from an earlier probe), changes one thing, trains
with a fresh warm-up and cosine decay to zero, and is scored on LIVE1 (gray, FBCNN's convention)
at QF 10, 30 and 70 next to the model it started from. The results are
``benchmarks/results/fbcnn_stage2_probes.csv`` (``vs_start``: the gain over ``fbcnn_gray_small``).

Experiments (trained here, into ``runs/fbcnn_probe_<name>``):

- ``patch128``: 128x128 patches, batch 4 (the paper's patch size, the same pixels per step):
  more context for the 1/8-scale bottleneck;
- ``log_qf``: the QF drawn log-uniform over 10-90 (a third of the draws at QF <= 20, not 14 %);
- ``deeper``: after ``wider_long``, one more residual block in each 1/8-scale stack
  (Net2DeeperNet, ``jarlib.models.fbcnn.deepen_bottleneck``: it starts as the same function).

The stages of the zoo's ``fbcnn_gray`` (its recipe, ``jarlib/recipes/fbcnn.py``, is where they are
declared and ``python -m jarlib.zoo build fbcnn_gray`` trains them into ``runs/fbcnn_gray/<stage>``;
here they are only scored): ``wider`` (Net2WiderNet to channels [32, 64, 128, 192]), ``wider_long``
(with the QF log-uniform), ``l2_finish`` (an L2 image loss: PSNR is a mean squared error; L1 pulls
each pixel toward the median of what the JPEG could have been, L2 toward the mean), ``l2_cycle`` and
``l2_third`` (second and third cosine cycles, SGDR: Loshchilov and Hutter, ICLR 2017) and
``aligned`` (every patch on the JPEG block grid, as in a file; ``benchmarks/fbcnn_grid_shift.py``).

    python benchmarks/fbcnn_stage2_probes.py                 # train the experiments, score everything there
    python benchmarks/fbcnn_stage2_probes.py --only log_qf   # one probe
    python benchmarks/fbcnn_stage2_probes.py --commands      # the experiments' command lines
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from jarlib import recipes
from jarlib import train as T
from jarlib import zoo
from jarlib.bench import read_csv, write_csv
from jarlib.data import log_spaced_qualities
from jarlib.evaluation import evaluate_restorer

OUT = Path(__file__).resolve().parent / "results" / "fbcnn_stage2_probes.csv"
START = "fbcnn_gray_small"
QFS = (10, 30, 70)
COLUMNS = ["probe", "change", "steps", "cpu_minutes", "parameters", "qf", "psnr", "psnrb", "ssim", "psnr_jpeg", "gain",
           "vs_start", "start_sha256"]
COMMON = {"init_from": START, "lr": 2e-4, "warmup": 100, "steps": 6000}
LOG_QF = {"qf_choices": list(log_spaced_qualities(10, 90, 40)), "val_qfs": list(QFS)}
WIDE = {"channels": [32, 64, 128, 192]}
L2 = {"loss": "l2 + 0.1*qf_l1"}
EXPERIMENTS: dict[str, dict[str, Any]] = {
    "patch128": {"change": "128x128 patches, batch 4", "set": {**COMMON, "patch": 128, "batch": 4}},
    "log_qf": {"change": "QF log-uniform over 10-90", "set": {**COMMON, **LOG_QF}},
    "deeper": {"change": "wider_long, then one more bottleneck block each side, 10,000 steps",
               "set": {**COMMON, "init_from": "runs/fbcnn_gray/wider_long/stored.pt", "steps": 10000, "lr": 3e-4,
                       "warmup": 200, **LOG_QF}, "model_args": {**WIDE, "bottleneck_blocks": 2}},
}
"""Probes trained by this script, each in ``runs/fbcnn_probe_<name>``."""
RECIPE = recipes.get("fbcnn_gray")
PROBES = [*EXPERIMENTS, *(s.name for s in RECIPE.stages)]


def folder(name: str) -> Path:
    """Where a probe's checkpoint is: its own run, or the recipe stage's."""
    return Path(f"runs/fbcnn_probe_{name}") if name in EXPERIMENTS else Path("runs/fbcnn_gray") / name


def change(name: str) -> str:
    if name in EXPERIMENTS:
        return EXPERIMENTS[name]["change"]
    stage = next(s for s in RECIPE.stages if s.name == name)
    return f"stage {name} of the fbcnn_gray recipe: {stage.why}"


def config(name: str) -> T.TrainConfig:
    p = EXPERIMENTS[name]
    return T.TrainConfig.from_preset("fbcnn", "cpu", model_args=dict(p.get("model_args", {})), out=str(folder(name)),
                                     progress=False, **p["set"])


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def command(name: str) -> str:
    p = EXPERIMENTS[name]
    sets = [f"model_args.{k}={_value(v)}" for k, v in p.get("model_args", {}).items()]
    sets += [f"{k}={_value(v)}" for k, v in p["set"].items()]
    return (f"python -m jarlib.train --model fbcnn --preset cpu --out {folder(name)} --resume --set "
            + " ".join(f"'{s}'" for s in sets) + " progress=False")


def score(restore: Any) -> dict[str, Any]:
    return evaluate_restorer(restore, "live1_gray", QFS, zoo.convention_for("live1_gray"))


def row(info: dict[str, Any], q: int, s: dict[str, float], start: dict[str, float]) -> dict[str, Any]:
    """One CSV row: ``info`` (which probe) and its scores ``s`` at QF ``q`` next to the start's."""
    return {**info, "qf": q, "psnr": round(s["psnr"], 4), "psnrb": round(s["psnrb"], 4), "ssim": round(s["ssim"], 4),
            "psnr_jpeg": round(s["psnr_jpeg"], 4), "gain": round(s["psnr"] - s["psnr_jpeg"], 3),
            "vs_start": round(s["psnr"] - start["psnr"], 3)}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--only", choices=PROBES, nargs="+", help="these probes only")
    parser.add_argument("--commands", action="store_true", help="print the experiments' command lines and stop")
    args = parser.parse_args()
    names = args.only or list(PROBES)
    if args.commands:
        print("\n".join(command(n) for n in names if n in EXPERIMENTS))
        return
    start = score(zoo.load(START, "cpu").restore)
    entry = zoo.info(START)
    sha = entry["sha256"][:12]
    base = {"probe": "start", "change": f"the zoo's {START} as shipped", "steps": 0, "cpu_minutes": 0.0,
            "parameters": entry["parameters"], "start_sha256": sha}
    rows = {(r["probe"], int(r["qf"])): r for r in read_csv(OUT)} if OUT.exists() else {}
    for name in names:
        ckpt = folder(name) / "checkpoint.pt"
        if name in EXPERIMENTS:
            T.train(config(name), resume=True)
        elif not ckpt.exists():
            print(f"{name}: not trained here (python -m jarlib.zoo build fbcnn_gray trains it); skipped")
            continue
        state = T.load_checkpoint(ckpt)
        model = zoo.from_checkpoint(ckpt, "cpu")
        scores = score(model.restore)
        info = {"probe": name, "change": change(name), "steps": int(state["step"]),
                "cpu_minutes": round(float(state["seconds"]) / 60, 1),
                "parameters": sum(p.numel() for p in model.parameters()), "start_sha256": sha}
        for q in QFS:
            s, b = scores[str(q)], start[str(q)]
            rows[(name, q)] = row(info, q, s, b)
            print(f"{name:9s} QF{q}: {s['psnr']:.3f} dB ({s['psnr'] - s['psnr_jpeg']:+.3f} over JPEG, "
                  f"{s['psnr'] - b['psnr']:+.3f} vs {START})", flush=True)
    for q in QFS:
        rows[("start", q)] = row(base, q, start[str(q)], start[str(q)])
    order = ["start", *PROBES]
    rows = {k: r for k, r in rows.items() if r["probe"] in order}
    write_csv(sorted(rows.values(), key=lambda r: (order.index(r["probe"]), int(r["qf"]))), OUT, COLUMNS)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
