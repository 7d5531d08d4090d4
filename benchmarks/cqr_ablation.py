"""CQR's loss terms at small scale (the paper's Table 1): small de-blockers (12 features, 6
attention channels) trained alike for 600 steps each with L1 + L_Q + L_F (L_F in pixel units, as
the shipped ``cqr_gray``), without L_Q, without L_F, with L1 alone, and with L_F as Eq. 5 writes it
and in relative units; the zoo's ranker frozen inside. Scored on LIVE1 gray at QF 10 (FBCNN's
convention). Each variant is trained once per seed, so the spread between seeds shows the
run-to-run noise. The same computation as notebook 12, section 4 (``jarlib.sweeps.cqr_loss_ablation``),
which reads this file.

    python benchmarks/cqr_ablation.py                        # about 20 minutes on 2 cores (6 models x 2 seeds)
    python benchmarks/cqr_ablation.py --steps 20 --limit 2 --seeds 0 --variants full mae   # a quick look

Writes ``benchmarks/results/cqr_ablation.csv`` (one row per variant and seed: the loss, the scale of
L_F, each term's last value, PSNR / SSIM / PSNR-B and the JPEG input's, the gain; the training
times are printed, not stored: they say more about how busy the machine was than about the models).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jarlib.bench import write_csv
from jarlib.sweeps import CQR_LOSSES, cqr_loss_ablation

OUT = Path(__file__).resolve().parent / "results" / "cqr_ablation.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--steps", type=int, default=600, help="training steps per model")
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only (default: all 29)")
    parser.add_argument("--seeds", nargs="+", type=int, default=[0, 1])
    parser.add_argument("--variants", nargs="+", default=list(CQR_LOSSES), choices=list(CQR_LOSSES))
    parser.add_argument("--threads", type=int, default=0, help="CPU threads (0: every core; 1 on a busy machine)")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    rows = []
    for seed in args.seeds:
        for r in cqr_loss_ablation(args.variants, steps=args.steps, limit=args.limit, seed=seed, threads=args.threads):
            rows.append({"seed": seed, **{k: v for k, v in r.items() if k != "train_seconds"}})
            print(f"seed {seed}  {r['variant']:22s} PSNR {r['psnr']:.2f} ({r['gain']:+.2f})  SSIM {r['ssim']:.4f}  "
                  f"PSNR-B {r['psnrb']:.2f}  {r['train_seconds']} s of training", flush=True)
    write_csv(rows, Path(args.out), list(rows[0]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
