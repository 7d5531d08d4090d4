"""The LIVE1 part of the benchmark table, as the README's results section quotes it.

LIVE1 is the one test set all five papers report, so the README shows every model on it; the full
table (Classic5, BSDS500 test and val too) is ``benchmarks/results/benchmark.md``. Reads
``benchmarks/results/benchmark.csv`` (written by ``python -m jarlib.bench``), nothing is recomputed,
writes ``benchmarks/results/benchmark_live1.md`` and puts the same table into README.md, under the
line ``<!-- results table: ... -->``:

    python benchmarks/readme_results.py
"""

from __future__ import annotations

from pathlib import Path

from jarlib import bench
from jarlib.atomic import write_text_atomic

RESULTS = Path(__file__).resolve().parent / "results"
README = Path(__file__).resolve().parents[1] / "README.md"
MARKER = "<!-- results table: benchmarks/results/benchmark_live1.md -->"
SETS = ("live1_gray", "live1_color")


def with_table(readme: str, table: str, marker: str = MARKER) -> str:
    """``readme`` with the Markdown table right under the line ``marker`` replaced by ``table``
    (also used by ``benchmarks/zoo_table.py`` for the zoo table)."""
    lines = readme.split("\n")
    if marker not in lines:
        raise SystemExit(f"README.md has no line {marker!r} to put the table under")
    start = lines.index(marker) + 1
    end = start
    while end < len(lines) and lines[end].startswith("|"):
        end += 1
    return "\n".join(lines[:start] + table.rstrip("\n").split("\n") + lines[end:])


def main() -> None:
    rows = [r for r in bench.read_csv(RESULTS / "benchmark.csv") if r["set"] in SETS]
    if not rows:
        raise SystemExit(f"no LIVE1 rows in {RESULTS / 'benchmark.csv'}: run python -m jarlib.bench first")
    text = bench.summary(rows)
    print(text)
    out = RESULTS / "benchmark_live1.md"
    write_text_atomic(out, text)
    write_text_atomic(README, with_table(README.read_text(), text))
    print(f"wrote {out} and the table in {README}")


if __name__ == "__main__":
    main()
