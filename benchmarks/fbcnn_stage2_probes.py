"""What lifts FBCNN-cpu at QF 10? Probes that continue the 1.7 M-parameter model, one change each.

The zoo's ``fbcnn_gray_small`` (1.7 M parameters, 24,000 steps, LIVE1 QF 10 +1.46 dB) misses the
project's +1.6 dB. Each probe starts from it (``init_from``), changes one thing, trains with a fresh
warm-up and cosine decay to zero, and is scored on LIVE1 (gray, FBCNN's convention) at QF 10, 30
and 70 next to the model it started from:

- ``patch128``: 6,000 steps on 128x128 patches, batch 4 (the paper's patch size, the same pixels
  per step as 64x64 x 16): more context for the 1/8-scale bottleneck;
- ``log_qf``: 6,000 steps with the QF drawn log-uniform over 10-90
  (``jarlib.data.log_spaced_qualities(10, 90, 40)``: a third of the draws at QF <= 20, not 14 %);
- ``wider``: the network grown to channels [32, 64, 128, 192] (3.3 M parameters) by Net2WiderNet
  (``jarlib.models.fbcnn.widen_weights``: it starts as the same function) and trained 9,000 steps;
- ``wider_long``: not one change but the two that helped, together: ``wider`` trained 16,000 steps
  more with the QF log-uniform (it starts from ``wider``'s checkpoint; its ``vs_start`` is still
  against ``fbcnn_gray_small``). The zoo's ``fbcnn_gray`` before ``l2_finish``.
- ``deeper``: capacity where it is cheapest, after ``wider_long``: the zoo's ``fbcnn_gray`` (the
  ``wider_long`` weights as stored, fp16, SHA-256 7643c8206e77...) grown by one residual block in
  each 1/8-scale stack (encoder and decoder bottleneck, 4.6 M parameters) by Net2DeeperNet
  (``jarlib.models.fbcnn.deepen_bottleneck``: it starts as the same function) and trained 10,000
  steps more with the QF log-uniform. ``init_from=fbcnn_gray`` names the zoo model: after a
  replacement, recover those weights with ``git log`` on the manifest.
- ``l2_finish``: the loss, not the network: ``wider_long`` (the zoo's ``fbcnn_gray`` as stored then,
  SHA-256 7643c8206e77...) trained 8,000 steps more at lr 1e-4 with an L2 image loss instead of L1.
  PSNR is a mean squared error; L1 pulls each pixel toward the median of what the JPEG could have
  been, L2 toward the mean, which is what minimizes it. The zoo's ``fbcnn_gray`` from 10d5973.
- ``l2_cycle``: the schedule, not the loss: ``l2_finish`` (the zoo's ``fbcnn_gray`` as stored
  then, SHA-256 7ae6470abb03...) trained 12,000 steps more with the L2 loss in a second cosine
  cycle, its peak at lr 1.5e-4. ``l2_finish`` ended with its validation flat at lr -> 0; a restart
  at a higher learning rate leaves that minimum and can settle in a better one (SGDR, Loshchilov
  and Hutter, ICLR 2017). The zoo's ``fbcnn_gray`` from b98e650.
- ``l2_third``: ``l2_cycle`` (the zoo's ``fbcnn_gray`` as stored then, SHA-256 df346b9de2bc...)
  trained 12,000 steps more in a third L2 cycle with a lower peak, lr 1e-4 (SGDR's restarts with
  a decaying peak): the one CPU-only step left after ``l2_cycle``, whose validation was flat over
  its last 2,000 steps. The zoo's ``fbcnn_gray`` from e0c481d.
- ``aligned``: the data, not the schedule: ``l2_third`` (the zoo's ``fbcnn_gray`` as stored then,
  SHA-256 dc479078c281...) trained 10,000 steps more in the same kind of L2 cycle (peak lr 1e-4)
  with every patch on the JPEG block grid (``grid_shift=0``). The preset shifts the grid for half
  of the patches (FBCNN's code), a case a JPEG file never is: its grid starts at the top-left
  corner, and the network's three stride-2 steps (1/8 scale) then line up with the 8x8 blocks.
  ``benchmarks/fbcnn_grid_shift.py`` measures what it costs on crops of decoded JPEGs. Stored
  fp16 as the zoo's ``fbcnn_gray`` (SHA-256 ca3cd3997998...).

Each probe is exactly a ``python -m jarlib.train`` command (printed by ``--commands``) and trains in
``runs/<folder>``, resumable; a finished one is only scored. On a fast 2-core machine the probes took
25, 25, 58, 108, 100, 56, 86, 76 and 67 minutes, the scoring about 5 minutes for the first three.

    python benchmarks/fbcnn_stage2_probes.py                 # train what is missing, score all
    python benchmarks/fbcnn_stage2_probes.py --only log_qf   # one probe
    python benchmarks/fbcnn_stage2_probes.py --commands      # the equivalent command lines

Writes ``benchmarks/results/fbcnn_stage2_probes.csv`` (the rows of the probes scored, kept for the others).
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

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
PROBES: dict[str, dict[str, Any]] = {
    "patch128": {"folder": "runs/fbcnn_gray_ft128", "change": "128x128 patches, batch 4",
                 "set": {**COMMON, "patch": 128, "batch": 4}},
    "log_qf": {"folder": "runs/fbcnn_gray_ftlog", "change": "QF log-uniform over 10-90",
               "set": {**COMMON, **LOG_QF}},
    "wider": {"folder": "runs/fbcnn_gray_grow32", "change": "grown to channels [32, 64, 128, 192]",
              "set": {**COMMON, "steps": 9000, "lr": 3e-4, "warmup": 200}, "model_args": WIDE},
    "wider_long": {"folder": "runs/fbcnn_gray_w32long", "change": "wider, then 16,000 steps more with QF log-uniform",
                   "set": {**COMMON, "init_from": "runs/fbcnn_gray_grow32/checkpoint.pt", "steps": 16000, "lr": 3e-4,
                           "warmup": 200, **LOG_QF}, "model_args": WIDE},
    "deeper": {"folder": "runs/fbcnn_gray_deep", "change": "wider_long, then one more bottleneck block each side, "
               "10,000 steps", "set": {**COMMON, "init_from": "fbcnn_gray", "steps": 10000, "lr": 3e-4, "warmup": 200,
                                       **LOG_QF}, "model_args": {**WIDE, "bottleneck_blocks": 2}},
    "l2_finish": {"folder": "runs/fbcnn_gray_l2", "change": "wider_long, then 8,000 steps more with an L2 image loss",
                  "set": {**COMMON, "init_from": "fbcnn_gray", "steps": 8000, "lr": 1e-4, "warmup": 100,
                          **L2, **LOG_QF}, "model_args": WIDE},
    "l2_cycle": {"folder": "runs/fbcnn_gray_l2b", "change": "l2_finish, then a second L2 cycle of 12,000 steps",
                 "set": {**COMMON, "init_from": "fbcnn_gray", "steps": 12000, "lr": 1.5e-4,
                         "warmup": 200, **L2, **LOG_QF}, "model_args": WIDE},
    "l2_third": {"folder": "runs/fbcnn_gray_l2c",
                 "change": "l2_cycle, then a third L2 cycle of 12,000 steps, peak lr 1e-4",
                 "set": {**COMMON, "init_from": "fbcnn_gray", "steps": 12000, "lr": 1e-4,
                         "warmup": 200, **L2, **LOG_QF}, "model_args": WIDE},
    "aligned": {"folder": "runs/fbcnn_gray_aligned",
                "change": "l2_third, then 10,000 steps with every patch on the JPEG block grid (no grid shift)",
                "set": {**COMMON, "init_from": "fbcnn_gray", "steps": 10000, "lr": 1e-4, "grid_shift": 0.0,
                        "warmup": 200, **L2, **LOG_QF}, "model_args": WIDE},
}


def config(name: str) -> T.TrainConfig:
    p = PROBES[name]
    return T.TrainConfig.from_preset("fbcnn", "cpu", model_args=dict(p.get("model_args", {})), out=p["folder"],
                                     progress=False, **p["set"])


def _value(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, separators=(",", ":"))


def command(name: str) -> str:
    p = PROBES[name]
    sets = [f"model_args.{k}={_value(v)}" for k, v in p.get("model_args", {}).items()]
    sets += [f"{k}={_value(v)}" for k, v in p["set"].items()]
    return (f"python -m jarlib.train --model fbcnn --preset cpu --out {p['folder']} --resume --set "
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
    parser.add_argument("--only", choices=sorted(PROBES), nargs="+", help="these probes only")
    parser.add_argument("--commands", action="store_true", help="print the probes' command lines and stop")
    args = parser.parse_args()
    names = args.only or list(PROBES)
    if args.commands:
        print("\n".join(command(n) for n in names))
        return
    start = score(zoo.load(START, "cpu").restore)
    entry = zoo.info(START)
    sha = entry["sha256"][:12]
    base = {"probe": "start", "change": f"the zoo's {START} as shipped", "steps": 0, "cpu_minutes": 0.0,
            "parameters": entry["parameters"], "start_sha256": sha}
    rows = {(r["probe"], int(r["qf"])): r for r in read_csv(OUT)} if OUT.exists() else {}
    for name in names:
        result = T.train(config(name), resume=True)
        model = zoo.from_checkpoint(Path(PROBES[name]["folder"]) / "checkpoint.pt", "cpu")
        scores = score(model.restore)
        info = {"probe": name, "change": PROBES[name]["change"], "steps": result.step,
                "cpu_minutes": round(result.history["train"][-1]["seconds"] / 60, 1),
                "parameters": sum(p.numel() for p in model.parameters()), "start_sha256": sha}
        for q in QFS:
            s, b = scores[str(q)], start[str(q)]
            rows[(name, q)] = row(info, q, s, b)
            print(f"{name:9s} QF{q}: {s['psnr']:.3f} dB ({s['psnr'] - s['psnr_jpeg']:+.3f} over JPEG, "
                  f"{s['psnr'] - b['psnr']:+.3f} vs {START})", flush=True)
    for q in QFS:
        rows[("start", q)] = row(base, q, start[str(q)], start[str(q)])
    order = ["start", *PROBES]
    write_csv(sorted(rows.values(), key=lambda r: (order.index(r["probe"]), int(r["qf"]))), OUT, COLUMNS)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
