"""Where FBCNN-C's colour gain lives: PSNR of each JFIF plane (Y, Cb, Cr) on LIVE1 colour.

Every LIVE1 colour image is compressed by Pillow at 4:2:0 (the convention of FBCNN's Table 2),
restored by ``fbcnn_color``, and the JPEG and the restoration are scored plane by plane with
``jarlib.metrics.psnr_ycbcr`` (full-range JFIF planes, the ones the codec quantizes). A correction
added equally to R, G and B moves only Y; what the model gains in Cb and Cr it learned from colour
patches. Notebook 13, section 8, reads this file by default (``RERUN_TABLES = True`` measures it
there).

    python benchmarks/fbcnn_color_planes.py                 # about 5 minutes on 2 cores
    python benchmarks/fbcnn_color_planes.py --limit 2 --out /tmp/planes.csv

Writes ``benchmarks/results/fbcnn_color_planes.csv``: one row per QF, the mean PSNR (dB) of each
plane for the JPEG (``jpeg_Y`` ...) and the restoration (``Y`` ...), and the weights' SHA-256.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np

from jarlib import zoo
from jarlib.bench import write_csv
from jarlib.data import available, evaluation_images
from jarlib.jpeg import decode_bytes, encode_bytes
from jarlib.metrics import psnr_ycbcr
from jarlib.progress import bar

OUT = Path(__file__).resolve().parent / "results" / "fbcnn_color_planes.csv"
PLANES = ("Y", "Cb", "Cr")
COLUMNS = ["model", "sha256", "set", "qf", "images"] + [f"jpeg_{p}" for p in PLANES] + list(PLANES)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="fbcnn_color")
    parser.add_argument("--set", default="live1_color")
    parser.add_argument("--qfs", nargs="+", type=int, default=[10, 20, 30, 40])
    parser.add_argument("--limit", type=int, help="first N images only")
    parser.add_argument("--out", type=Path, default=OUT, help=f"the CSV to write (default {OUT.name})")
    args = parser.parse_args()
    if not available(args.set):
        raise SystemExit(f"{args.set} is not installed: jarlib data fetch --sets {args.set}")
    model = zoo.load(args.model)
    images = list(evaluation_images(args.set, "rgb", limit=args.limit))
    t0, rows = time.perf_counter(), []
    for q in args.qfs:
        scores: dict[str, list[dict[str, float]]] = {"jpeg": [], "model": []}
        for _, clean in bar(images, desc=f"QF {q}", unit="image"):
            data = encode_bytes(clean, q)
            scores["jpeg"].append(psnr_ycbcr(clean, decode_bytes(data).reshape(clean.shape)))
            scores["model"].append(psnr_ycbcr(clean, model.restore(data)))
        mean = {k: {p: float(np.mean([d[p] for d in v])) for p in PLANES} for k, v in scores.items()}
        rows.append({"model": args.model, "sha256": zoo.info(args.model)["sha256"][:12], "set": args.set, "qf": q,
                     "images": len(images), **{f"jpeg_{p}": round(mean["jpeg"][p], 4) for p in PLANES},
                     **{p: round(mean["model"][p], 4) for p in PLANES}})
        print(f"QF {q}: " + ", ".join(f"{p} {mean['jpeg'][p]:.2f} -> {mean['model'][p]:.2f}" for p in PLANES), flush=True)
    write_csv(rows, args.out, COLUMNS)
    print(f"wrote {args.out} ({time.perf_counter() - t0:.0f} s)")


if __name__ == "__main__":
    main()
