"""QGCN's Tables III (gray) and II (colour) for the project's models, in QGCN's own conventions
(``qgcn_gray`` / ``qgcn_color``: SSIM with the 8x8 uniform window, QGCN's PSNR-B), at QF 10-50:
``qgcn_gray`` on LIVE1 gray and the 200 BSDS500 test images, ``qgcn_color`` on LIVE1 colour; and
``qgcn_color``'s gain per JFIF plane (Y, Cb, Cr) on LIVE1 at QF 10. The same computation as notebook
11, section 6 (with ``EVAL_LIVE = True``), which reads these files.

    python benchmarks/qgcn_tables.py             # about 10 minutes on 2 cores
    python benchmarks/qgcn_tables.py --limit 2   # a quick look

Writes ``benchmarks/results/qgcn_tables.csv`` (one row per model, set and QF: PSNR / SSIM / PSNR-B of
the model and of the JPEG input) and ``benchmarks/results/qgcn_color_planes.csv`` (one row per JFIF
plane: mean PSNR of the JPEG and of the restoration, and the gain).
"""

from __future__ import annotations

import argparse
from pathlib import Path

import numpy as np

from jarlib import zoo
from jarlib.bench import write_csv
from jarlib.data import evaluation_images, evaluation_sets
from jarlib.evaluation import evaluate_restorer
from jarlib.jpeg import decode_bytes, encode_bytes
from jarlib.metrics import psnr_ycbcr
from jarlib.progress import bar

RESULTS = Path(__file__).resolve().parent / "results"
TABLES = {"qgcn_gray": (("live1_gray", "bsds500_test"), "qgcn_gray", "gray"),
          "qgcn_color": (("live1_color",), "qgcn_color", "rgb")}
QFS = (10, 20, 30, 40, 50)
KEYS = ("psnr", "ssim", "psnrb", "psnr_jpeg", "ssim_jpeg", "psnrb_jpeg")


def tables(limit: int | None = None, qfs=QFS) -> list[dict]:
    """One row per (model, set, QF), in QGCN's conventions."""
    rows = []
    for name, (sets, conv, mode) in TABLES.items():
        model = zoo.load(name)
        for label, src in evaluation_sets(sets, mode).items():
            s = evaluate_restorer(model.restore, src, qfs, conv, limit=limit)
            rows += [{"model": name, "set": label, "convention": conv, "qf": q, "images": s["images"],
                      **{k: round(s[str(q)][k], 4) for k in KEYS}} for q in qfs]
    return rows


def planes(limit: int | None = None, qf: int = 10, name: str = "qgcn_color", dataset: str = "live1_color") -> list[dict]:
    """``name``'s mean PSNR per JFIF plane (Y, Cb, Cr) and the JPEG's, on ``dataset`` at ``qf``."""
    model, jpeg, ours = zoo.load(name), [], []
    images = evaluation_images(dataset, "rgb", limit=limit)
    for _, img in bar(images, desc=f"{name} per plane", unit="image"):
        data = encode_bytes(img, qf)
        jpeg.append(psnr_ycbcr(img, decode_bytes(data).reshape(img.shape)))
        ours.append(psnr_ycbcr(img, model.restore(data)))
    return [{"model": name, "set": dataset, "qf": qf, "images": len(images), "plane": p,
             "psnr_jpeg": round(float(np.mean([j[p] for j in jpeg])), 4), "psnr": round(float(np.mean([o[p] for o in ours])), 4),
             "gain": round(float(np.mean([o[p] - j[p] for o, j in zip(ours, jpeg)])), 4)} for p in ("Y", "Cb", "Cr")]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N images of each set only")
    parser.add_argument("--out", default=str(RESULTS), help="folder for the two CSV files")
    args = parser.parse_args()
    out = Path(args.out)
    rows = tables(args.limit)
    for r in rows:
        print(f"{r['model']:10s} {r['set']:12s} QF {r['qf']:2d}: {r['psnr']:.2f} / {r['ssim']:.4f} / {r['psnrb']:.2f} "
              f"(JPEG {r['psnr_jpeg']:.2f} / {r['ssim_jpeg']:.4f} / {r['psnrb_jpeg']:.2f})", flush=True)
    write_csv(rows, out / "qgcn_tables.csv", list(rows[0]))
    plane_rows = planes(args.limit)
    for r in plane_rows:
        print(f"{r['model']} {r['set']} QF {r['qf']}, plane {r['plane']}: {r['psnr_jpeg']:.2f} -> {r['psnr']:.2f} ({r['gain']:+.2f})")
    write_csv(plane_rows, out / "qgcn_color_planes.csv", list(plane_rows[0]))
    print(f"wrote {out / 'qgcn_tables.csv'} and {out / 'qgcn_color_planes.csv'}")


if __name__ == "__main__":
    main()
