"""The LIVE1 part of the benchmark table, as the README's results section quotes it.

LIVE1 is the one test set all five papers report, so the README shows every model on it; the full
table (Classic5, BSDS500 test and val too) is ``benchmarks/results/benchmark.md``. Reads
``benchmarks/results/benchmark.csv`` (written by ``python -m jarlib.bench``), nothing is recomputed:

    python benchmarks/readme_results.py      # -> benchmarks/results/benchmark_live1.md
"""

from __future__ import annotations

from pathlib import Path

from jarlib import bench
from jarlib.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parent / "results"
SETS = ("live1_gray", "live1_color")


def main() -> None:
    rows = [r for r in bench.read_csv(RESULTS / "benchmark.csv") if r["set"] in SETS]
    if not rows:
        raise SystemExit(f"no LIVE1 rows in {RESULTS / 'benchmark.csv'}: run python -m jarlib.bench first")
    text = bench.summary(rows)
    print(text)
    out = RESULTS / "benchmark_live1.md"
    write_text_atomic(out, text)
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
