"""FBCNN's Table 3 on LIVE1: non-aligned double JPEG (shift (4, 4)), blind FBCNN, FBCNN-D (the QF
set to the dominant QF estimated by ``jarlib.models.fbcnn.dominant_qf``) and FBCNN-A
(``fbcnn_gray_double``), next to the paper's rows; FBCNN and FBCNN-D are ``fbcnn_gray_small``, the
model FBCNN-A was fine-tuned from. The same computation as notebook 13, section 7
(``RERUN_TABLE3 = True``); by default the notebook reads this script's CSV.

    python benchmarks/fbcnn_double_jpeg.py          # about 25 minutes on 2 cores (1464 s measured)
    python benchmarks/fbcnn_double_jpeg.py --limit 3 --out /tmp/table3.csv
    python benchmarks/fbcnn_double_jpeg.py --counts-only   # only the FBCNN-D counts, into the CSV there (~3 min)

Writes ``benchmarks/results/fbcnn_table3.csv``: one row per (QF1, QF2), PSNR and PSNR-B on Y of
the JPEG, FBCNN, FBCNN-D and FBCNN-A next to the paper's PSNR; ``FBCNN-D_found``: the images
for which ``dominant_qf`` found a dominant QF (the others are restored blind), ``FBCNN-D_qf1``:
those for which it found QF1 itself; ``base_sha256``, ``double_sha256``: the weights scored.
"""

from __future__ import annotations

import argparse
import time
from functools import partial
from pathlib import Path

import numpy as np

from jarlib import zoo
from jarlib.bench import read_csv, write_csv
from jarlib.data import load_dataset
from jarlib.evaluation import evaluate_double
from jarlib.jpeg import compress, decode_bytes, encode_bytes
from jarlib.models.fbcnn import dominant_qf, restore_with_dominant_qf
from jarlib.papers import paper_rows
from jarlib.progress import bar

OUT = Path(__file__).resolve().parent / "results" / "fbcnn_table3.csv"
PAIRS = [(10, 30), (10, 50), (30, 50), (30, 10), (50, 10), (50, 30), (10, 10), (30, 30), (50, 50)]
BASE = "fbcnn_gray_small"   # the model FBCNN-A (fbcnn_gray_double) was fine-tuned from: the fixes, not the sizes


def counts(estimates: list, q1: int) -> dict[str, int]:
    """The FBCNN-D columns of one row from ``dominant_qf``'s estimates for its images."""
    return {"FBCNN-D_found": sum(q is not None for q in estimates), "FBCNN-D_qf1": sum(q == q1 for q in estimates)}


def counts_only(path: Path, limit: int | None) -> None:
    """Add (or refresh) the FBCNN-D count columns of an existing CSV without restoring anything:
    ``dominant_qf`` on the same double JPEGs as ``evaluate_double`` makes (the count depends on no model)."""
    rows = read_csv(path)
    images = load_dataset("live1_gray", mode="gray", limit=limit)
    if any(r["images"] != len(images) for r in rows):
        raise SystemExit(f"{path.name} was measured on other images than the {len(images)} here")
    for r in bar(rows, desc="dominant QF", unit="pair"):
        q1, q2 = r["qf1"], r["qf2"]
        estimates = [dominant_qf(decode_bytes(encode_bytes(np.ascontiguousarray(compress(clean, q1)[4:, 4:]), q2)))
                     for _, clean in images]
        r.update(counts(estimates, q1))
        print(f"QF {q1:2d} -> {q2:2d}: a dominant QF for {r['FBCNN-D_found']} of {len(images)} images, QF1 for {r['FBCNN-D_qf1']}",
              flush=True)
    write_csv(rows, path, list(rows[0]))
    print(f"wrote {path}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the CSV to write (default {OUT.name})")
    parser.add_argument("--counts-only", action="store_true", help="only add FBCNN-D's counts to the CSV at --out")
    args = parser.parse_args()
    if args.counts_only:
        counts_only(args.out, args.limit)
        return
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
        estimates = found[len(rows) * row["images"]:(len(rows) + 1) * row["images"]]   # evaluate_double: pairs, then images
        row.update(counts(estimates, q1))
        row["base_sha256"], row["double_sha256"] = zoo.info(BASE)["sha256"][:12], zoo.info("fbcnn_gray_double")["sha256"][:12]
        rows.append(row)
        print(f"QF {q1:2d} -> {q2:2d}: JPEG {row['jpeg']:.2f} ({row['paper_jpeg']:.2f})  "
              + "  ".join(f"{m} {row[m]:.2f} ({row['paper_' + m]:.2f})" for m in ("FBCNN", "FBCNN-D", "FBCNN-A")))
    n_found = sum(q is not None for q in found)
    print(f"ours (paper) PSNR on Y; FBCNN-D found a QF for {n_found} of {len(found)} images; {time.perf_counter() - t0:.0f} s")
    write_csv(rows, args.out, list(rows[0]))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
