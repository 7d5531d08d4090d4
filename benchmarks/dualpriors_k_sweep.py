"""Dual priors' Fig. 8 at small scale: the same small unrolled model trained with K = 1, 2, 3 stages
(preset ``cpu_sweep``: 16 maps, one unit, 1,500 steps each, the zoo's frozen classifier), scored on
LIVE1 gray at QF 10. The same computation as notebook 14, section 5, which reads this file.

    python benchmarks/dualpriors_k_sweep.py            # about 15 minutes on 2 cores
    python benchmarks/dualpriors_k_sweep.py --stages 1 2 --steps 100 --limit 2   # a quick look

Writes ``benchmarks/results/dualpriors_k_sweep.csv`` (one row per K: PSNR, the JPEG input's, the
gain, training seconds, the learned scalars of the last stage).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jarlib.bench import write_csv
from jarlib.sweeps import stage_sweep

OUT = Path(__file__).resolve().parent / "results" / "dualpriors_k_sweep.csv"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--stages", nargs="+", type=int, default=[1, 2, 3])
    parser.add_argument("--steps", type=int, help="training steps per model (default: the preset's 1,500)")
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only")
    parser.add_argument("--out", default=str(OUT))
    args = parser.parse_args()
    rows = stage_sweep(args.stages, args.steps, args.limit)
    for r in rows:
        print(f"K = {r['stages']}: {r['psnr']:.2f} dB ({r['gain']:+.2f} over JPEG), {r['train_seconds']} s")
    write_csv(rows, Path(args.out), list(rows[0]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
