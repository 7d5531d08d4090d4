"""What does FBCNN give on a JPEG whose 8x8 grid does not start at the image's corner?

A JPEG file always has its block grid at the top-left corner, and every benchmark of this project
compresses whole images, so the grid is aligned there too. A grid shifted by (a, b) pixels is what
a restorer meets when someone crops a *decoded* JPEG and passes the pixels on. FBCNN's official
code trains half of its patches with the grid shifted at random to cope with that (the ``cpu``
preset does, ``grid_shift=0.5``); the ``aligned`` probe of ``benchmarks/fbcnn_stage2_probes.py``
does not. This script measures each model both ways: LIVE1 gray (MATLAB Y), each image compressed
whole by Pillow, decoded, its first ``a`` rows and ``b`` columns dropped, restored blind from the
pixels (the QF predicted), PSNR / SSIM against the clean image cropped the same way. PSNR-B is left
out: its block boundaries assume an aligned grid.

    python benchmarks/fbcnn_grid_shift.py                                   # the zoo's fbcnn_gray
    python benchmarks/fbcnn_grid_shift.py --models l2_third=runs/fbcnn_gray_l2c/checkpoint.pt

About 40 s per model, shift and QF on 2 cores. Writes ``benchmarks/results/fbcnn_grid_shift.csv``
(rows of the models measured replaced, the others kept).
"""

from __future__ import annotations

import argparse
from pathlib import Path
from typing import Any, Callable

import numpy as np

from jarlib import metrics, zoo
from jarlib.bench import read_csv, write_csv
from jarlib.data import load_dataset
from jarlib.jpeg import decode_bytes, encode_bytes

OUT = Path(__file__).resolve().parent / "results" / "fbcnn_grid_shift.csv"
SHIFTS = ((0, 0), (4, 4), (1, 6))
QFS = (10, 30)
COLUMNS = ["model", "sha256", "shift", "qf", "images", "psnr", "ssim", "psnr_jpeg", "ssim_jpeg", "gain"]


def shifted_scores(restore: Callable[[np.ndarray], np.ndarray], images: list[tuple[str, np.ndarray]],
                   shift: tuple[int, int], qf: int) -> dict[str, float]:
    """Mean PSNR / SSIM (``fbcnn_gray`` convention) of ``restore`` and of the JPEG on ``images``
    compressed whole at ``qf`` and cropped by ``shift = (rows, columns)`` after decoding."""
    a, b = shift
    acc: dict[str, list[float]] = {}
    for _, clean in images:
        jpeg = decode_bytes(encode_bytes(clean, qf)).reshape(clean.shape)
        ref, crop = np.ascontiguousarray(clean[a:, b:]), np.ascontiguousarray(jpeg[a:, b:])
        for suffix, img in (("", restore(crop)), ("_jpeg", crop)):
            m = metrics.evaluate(ref, img, "fbcnn_gray")
            for k in ("psnr", "ssim"):
                acc.setdefault(k + suffix, []).append(float(m[k]))
    return {k: float(np.mean(v)) for k, v in acc.items()}


def source_sha(source: str) -> str:
    """The first 12 hex digits of the SHA-256 of a zoo model's weights or of a checkpoint file."""
    return zoo.info(source)["sha256"][:12] if source in zoo.available() else zoo.sha256(source)[:12]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["fbcnn_gray"],
                        help="zoo names or LABEL=CHECKPOINT (default: fbcnn_gray)")
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only (quick looks; not written)")
    args = parser.parse_args()
    images = load_dataset("live1_gray", mode="gray", limit=args.limit)
    rows: dict[tuple[Any, ...], dict[str, Any]] = (
        {(r["model"], r["shift"], int(r["qf"])): r for r in read_csv(OUT)} if OUT.exists() and not args.limit else {})
    for spec in args.models:
        label, _, source = spec.partition("=")
        source = source or label
        model = zoo.load_any(source, "cpu")
        sha = source_sha(source)
        for shift in SHIFTS:
            for q in QFS:
                s = shifted_scores(model.restore, images, shift, q)
                key = (label, f"{shift[0]},{shift[1]}", q)
                rows[key] = {"model": label, "sha256": sha, "shift": key[1], "qf": q, "images": len(images),
                             **{k: round(v, 4) for k, v in s.items()}, "gain": round(s["psnr"] - s["psnr_jpeg"], 3)}
                print(f"{label} shift {key[1]} QF{q}: {s['psnr']:.3f} dB ({s['psnr'] - s['psnr_jpeg']:+.3f} over JPEG)",
                      flush=True)
    if args.limit:
        return
    write_csv(sorted(rows.values(), key=lambda r: (r["model"], r["shift"], int(r["qf"]))), OUT, COLUMNS)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
