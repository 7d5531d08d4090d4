"""FBCNN's Table 3 on LIVE1: non-aligned double JPEG (shift (4, 4)), blind FBCNN, FBCNN-D (the QF
set to the dominant QF estimated by ``jarlib.models.fbcnn.dominant_qf``) and FBCNN-A
(``fbcnn_gray_double``), next to the paper's rows; FBCNN and FBCNN-D are ``fbcnn_gray_small``, the
model FBCNN-A was fine-tuned from. The same computation as notebook 13, section 7.

    python benchmarks/fbcnn_double_jpeg.py          # about 25 minutes on 2 cores (1464 s measured)
    python benchmarks/fbcnn_double_jpeg.py --limit 3

Writes ``benchmarks/results/fbcnn_table3.csv``.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

from jarlib import zoo
from jarlib.bench import write_csv
from jarlib.evaluation import evaluate_double
from jarlib.models.fbcnn import restore_with_dominant_qf
from jarlib.papers import paper_rows

OUT = Path(__file__).resolve().parent / "results" / "fbcnn_table3.csv"
PAIRS = [(10, 30), (10, 50), (30, 50), (30, 10), (50, 10), (50, 30), (10, 10), (30, 30), (50, 50)]
BASE = "fbcnn_gray_small"   # the model FBCNN-A (fbcnn_gray_double) was fine-tuned from: the fixes, not the sizes


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only")
    args = parser.parse_args()
    base, double = zoo.load(BASE), zoo.load("fbcnn_gray_double")
    found: list = []
    fbcnn_d = partial(restore_with_dominant_qf, base, found=found)

    t0 = time.perf_counter()
    res = {label: evaluate_double(fn, "live1_gray", PAIRS, (4, 4), "fbcnn_gray", limit=args.limit)
           for label, fn in (("FBCNN", base.restore), ("FBCNN-D", fbcnn_d), ("FBCNN-A", double.restore))}
    paper = {(r.qf, r.method): r for r in paper_rows("fbcnn", "Table 3")}
    rows = []
    for q1, q2 in PAIRS:
        k = f"{q1},{q2}"
        row = {"qf1": q1, "qf2": q2, "images": res["FBCNN"]["images"], "jpeg": round(res["FBCNN"][k]["psnr_jpeg"], 4),
               "paper_jpeg": paper[(f"{q1}-{q2}", "JPEG")].psnr}
        for m in ("FBCNN", "FBCNN-D", "FBCNN-A"):
            row[m] = round(res[m][k]["psnr"], 4)
            row[f"{m}_psnrb"] = round(res[m][k]["psnrb"], 4)
            row[f"paper_{m}"] = paper[(f"{q1}-{q2}", m)].psnr
        rows.append(row)
        print(f"QF {q1:2d} -> {q2:2d}: JPEG {row['jpeg']:.2f} ({row['paper_jpeg']:.2f})  "
              + "  ".join(f"{m} {row[m]:.2f} ({row['paper_' + m]:.2f})" for m in ("FBCNN", "FBCNN-D", "FBCNN-A")))
    n_found = sum(q is not None for q in found)
    print(f"ours (paper) PSNR on Y; FBCNN-D found a QF for {n_found} of {len(found)} images; {time.perf_counter() - t0:.0f} s")
    write_csv(rows, OUT, list(rows[0]))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
