"""Issue 46: do DCSC and DnCNN reach +1.0 dB at QF 10 with longer schedules? Each recipe stage's
checkpoint (``runs/<model>/<stage>/checkpoint.pt``, trained by ``python -m jarlib.zoo build``) and the
shipped zoo weights, scored alike: all of LIVE1 gray, Pillow JPEG, MATLAB Y, FBCNN's convention.

The replacement rule: a run replaces the zoo weights only where LIVE1 QF 10 reaches +1.00 dB over
JPEG with QF 20-40 not worse than the shipped model's by more than 0.02 dB.

    python benchmarks/longer_runs.py --runs dcsc_gray/l1 dcsc_gray/l2          # stages to score
    python benchmarks/longer_runs.py --runs dcsc_gray/l2 --shipped dcsc_gray    # also the zoo model

Writes ``benchmarks/results/longer_runs.csv`` (rows of other runs kept): per run and QF the PSNR,
the JPEG's, the gain, the change against the zoo entry it would replace (``vs_shipped``), steps and
training CPU-minutes of the stage (summed over the stages it continues).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jarlib import zoo
from jarlib.bench import read_csv, write_csv
from jarlib.checkpoint import load_checkpoint

OUT = Path(__file__).resolve().parent / "results" / "longer_runs.csv"
COLUMNS = ["run", "model", "steps", "cpu_minutes", "qf", "psnr", "psnr_jpeg", "gain", "vs_shipped", "shipped_sha256"]
QFS = (10, 20, 30, 40)


def minutes(ckpt: Path) -> float:
    """Training minutes of a checkpoint and of the checkpoints it started from (``init_from``)."""
    total, path = 0.0, ckpt
    while path is not None and Path(path).is_file() and Path(path).name == "checkpoint.pt":
        state = load_checkpoint(path)
        total += float(state["seconds"]) / 60
        path = state["config"].get("init_from")
    return total


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", nargs="*", default=[], help="MODEL/STAGE under runs/")
    parser.add_argument("--shipped", nargs="*", default=[], help="zoo names to score as shipped")
    parser.add_argument("--root", default="runs")
    args = parser.parse_args()
    rows = {(r["run"], int(r["qf"])): r for r in read_csv(OUT)} if OUT.exists() else {}
    for name in args.shipped:
        e = zoo.info(name)
        for q in QFS:
            m = e["metrics"]["live1_gray"][str(q)]
            rows[(f"zoo:{name}", q)] = {"run": f"zoo:{name}", "model": name, "steps": e["training"]["steps"],
                                        "cpu_minutes": e["training"].get("cpu_minutes_total", e["training"]["cpu_minutes"]),
                                        "qf": q, "psnr": m["psnr"], "psnr_jpeg": m["psnr_jpeg"],
                                        "gain": round(m["psnr"] - m["psnr_jpeg"], 4), "vs_shipped": 0.0,
                                        "shipped_sha256": e["sha256"][:12]}
    for run in args.runs:
        model_name = run.split("/")[0]
        ckpt = Path(args.root) / run / "checkpoint.pt"
        shipped = zoo.info(model_name)
        scores = zoo.evaluate(zoo.from_checkpoint(ckpt, "cpu"), ["live1_gray"], QFS)["live1_gray"]
        steps = int(load_checkpoint(ckpt)["step"])
        for q in QFS:
            s, ref = scores[str(q)], shipped["metrics"]["live1_gray"][str(q)]
            rows[(run, q)] = {"run": run, "model": model_name, "steps": steps, "cpu_minutes": round(minutes(ckpt), 1),
                              "qf": q, "psnr": s["psnr"], "psnr_jpeg": s["psnr_jpeg"],
                              "gain": round(s["psnr"] - s["psnr_jpeg"], 4),
                              "vs_shipped": round(s["psnr"] - ref["psnr"], 4), "shipped_sha256": shipped["sha256"][:12]}
            print(f"{run} QF{q}: {s['psnr']:.3f} dB, {s['psnr'] - s['psnr_jpeg']:+.3f} over JPEG, "
                  f"{s['psnr'] - ref['psnr']:+.3f} vs the zoo's {model_name}", flush=True)
    write_csv(sorted(rows.values(), key=lambda r: (r["run"], int(r["qf"]))), OUT, COLUMNS)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
