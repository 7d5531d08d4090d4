"""DCSC's ablations at small scale (the paper's Tables 3, 4 and 5): tiny DCSC models (8 maps per
dilated branch) trained alike for 1,000 steps each — width F of G and S at R = 6, iterations R at
F = 16, undilated branches (1, 1, 1), MSE instead of MAE — scored on LIVE1 gray at QF 10 with the
erratum's convention (``arcnn``: SSIM with the 8x8 uniform window). Each variant is trained once
per seed, so the spread between seeds shows the run-to-run noise. The same computation as notebook
10, section 6 (``jarlib.sweeps.dcsc_ablation``), which reads this file.

    python benchmarks/dcsc_ablation.py                       # about 10 minutes on 2 cores (7 models x 2 seeds)
    python benchmarks/dcsc_ablation.py --steps 50 --limit 2 --seeds 0   # a quick look

Writes ``benchmarks/results/dcsc_ablation.csv`` (one row per variant and seed: F, R, dilations,
loss, parameters, PSNR / SSIM / PSNR-B and the JPEG input's, the gain; the training times are
printed, not stored: they say more about how busy the machine was than about the models).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jarlib.bench import write_csv
from jarlib.sweeps import dcsc_ablation

OUT = Path(__file__).resolve().parent / "results" / "dcsc_ablation.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=1000, help="training steps per model")
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only (default: all 29)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core; 1 on a busy machine)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for r in dcsc_ablation(steps=args.steps, limit=args.limit, seed=seed, threads=args.threads):
            rows.append({"seed": seed, **{k: v for k, v in r.items() if k != "train_seconds"}})
            print(f"seed {seed}  {r['variant']:22s} {r['parameters']:>6,d} params  PSNR {r['psnr']:.2f} "
                  f"({r['gain']:+.2f})  SSIM {r['ssim']:.4f}  PSNR-B {r['psnrb']:.2f}  {r['train_seconds']} s of training", flush=True)
    write_csv(rows, Path(args.out), list(rows[0]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
