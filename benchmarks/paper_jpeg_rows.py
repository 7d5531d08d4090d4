"""Reproduce every checkable "JPEG (no restoration)" row of the papers' tables with Pillow.

Prints ours | paper | difference | reproduced? for each row and writes
``benchmarks/results/paper_jpeg_rows.csv``. The conventions are in ``jarlib.jpeg_rows`` and
``jarlib.metrics``; the rows expected to miss, with the reason, in ``jarlib.jpeg_rows.NOT_REPRODUCED``.

    python benchmarks/paper_jpeg_rows.py            # all rows, about 2-4 minutes on 2 CPU cores
    python benchmarks/paper_jpeg_rows.py --limit 3  # first 3 images of each set (smoke; not comparable)
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

from jarlib.jpeg_rows import NOT_REPRODUCED, JpegRowEvaluator, jpeg_rows
from jarlib.papers import markdown_table

RESULTS = Path(__file__).resolve().parent / "results" / "paper_jpeg_rows.csv"
COLUMNS = ["paper", "table", "dataset", "mode", "qf", "convention", "n_images",
           "ours_psnr", "paper_psnr", "diff_psnr", "ours_ssim", "paper_ssim", "diff_ssim",
           "ours_psnrb", "paper_psnrb", "diff_psnrb", "reproduced", "expected", "reason"]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, default=None, help="images per set (smoke runs)")
    parser.add_argument("--out", type=Path, default=RESULTS, help=f"CSV to write (default {RESULTS})")
    args = parser.parse_args(argv)

    start = time.perf_counter()
    results = JpegRowEvaluator(limit=args.limit).evaluate_all()
    records = [r.as_dict() for r in results]
    print(markdown_table(records, [c for c in COLUMNS if c != "reason"]))

    args.out.parent.mkdir(parents=True, exist_ok=True)
    with open(args.out, "w", newline="", encoding="utf-8") as f:
        writer = csv.DictWriter(f, fieldnames=COLUMNS, extrasaction="ignore")
        writer.writeheader()
        writer.writerows(records)

    unchecked = [r for r in jpeg_rows() if r not in {x.row for x in results}]
    surprises = [r for r in results if r.reproduced != r.as_dict()["expected"]]
    print(f"\n{sum(r.reproduced for r in results)} of {len(results)} checkable rows reproduced "
          f"({len(unchecked)} rows without data). Not reproduced, by design:")
    for (paper, table, dataset), reason in NOT_REPRODUCED.items():
        print(f"  - {paper} {table} {dataset}: {reason}")
    if args.limit is not None:
        print(f"(smoke run: first {args.limit} images per set; numbers are not the papers')")
    elif surprises:
        print("UNEXPECTED:", ", ".join(r.row.key for r in surprises))
    print(f"wrote {args.out} in {time.perf_counter() - start:.0f} s")
    return 1 if surprises and args.limit is None else 0


if __name__ == "__main__":
    raise SystemExit(main())
