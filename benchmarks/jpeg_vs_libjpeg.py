"""Our step-by-step JPEG (jarlib.jpeg.codec) against libjpeg-turbo (Pillow), image by image.

Sets: LIVE1 gray (29), the scikit-image samples camera/astronaut/coffee/chelsea as gray (MATLAB
Y), and astronaut/coffee/chelsea as colour 4:2:0. QF 10/50/90, both DCTs ("float", "islow").
Prints a summary per set, QF and DCT, and writes every row to
``benchmarks/results/jpeg_vs_libjpeg.csv``. Issue targets for the float DCT: PSNR within
0.02 dB, >= 95 % of pixels within one grey level on average.

Run: ``python benchmarks/jpeg_vs_libjpeg.py`` (about a minute on 2 CPU cores).
"""

from __future__ import annotations

import csv
from pathlib import Path

import numpy as np
from skimage import data as skdata

from jarlib.color import to_gray_y
from jarlib.data import load_dataset
from jarlib.jpeg.codec import compare_with_libjpeg

QUALITIES = (10, 50, 90)
DCTS = ("float", "islow")
SAMPLES = ("camera", "astronaut", "coffee", "chelsea")
OUT = Path(__file__).resolve().parent / "results" / "jpeg_vs_libjpeg.csv"


def image_sets() -> dict[str, list[tuple[str, np.ndarray]]]:
    """The three evaluation sets as lists of (name, uint8 image)."""
    samples = [(name, getattr(skdata, name)()) for name in SAMPLES]
    return {
        "live1_gray": load_dataset("live1_gray"),
        "samples_gray": [(name, to_gray_y(img)) for name, img in samples],
        "samples_rgb420": [(name, img) for name, img in samples if img.ndim == 3],
    }


def run() -> list[dict]:
    """Compare every image at every QF with both DCTs; one dict per (set, image, QF, DCT)."""
    rows = []
    for set_name, images in image_sets().items():
        for stem, img in images:
            for q in QUALITIES:
                for dct in DCTS:
                    r = compare_with_libjpeg(img, q, "4:2:0", dct)
                    rows.append({"set": set_name, "image": stem, "qf": q, "dct": dct, **r})
    return rows


def summarise(rows: list[dict]) -> list[dict]:
    """Mean over images per (set, QF, DCT), plus the worst |PSNR diff| and the lowest % within one."""
    keys = sorted({(r["set"], r["qf"], r["dct"]) for r in rows}, key=lambda k: (k[0], k[2], k[1]))
    out = []
    for key in keys:
        group = [r for r in rows if (r["set"], r["qf"], r["dct"]) == key]
        out.append({
            "set": key[0], "qf": key[1], "dct": key[2], "n": len(group),
            "psnr_ours": np.mean([r["psnr_ours"] for r in group]),
            "psnr_libjpeg": np.mean([r["psnr_libjpeg"] for r in group]),
            "mean_diff": np.mean([r["psnr_diff"] for r in group]),
            "max_abs_diff": max(abs(r["psnr_diff"]) for r in group),
            "within_one": np.mean([r["within_one"] for r in group]),
            "min_within_one": min(r["within_one"] for r in group),
            "identical": np.mean([r["identical"] for r in group]),
        })
    return out


def print_table(summary: list[dict]) -> None:
    """A fixed-width table of :func:`summarise`'s rows."""
    head = (f"{'set':<15}{'QF':>4}{'dct':>7}{'n':>4}{'PSNR ours':>11}{'PSNR lib':>10}"
            f"{'mean d':>9}{'max|d|':>9}{'<=1 lvl %':>11}{'min %':>8}{'equal %':>9}")
    print(head)
    print("-" * len(head))
    for s in summary:
        print(f"{s['set']:<15}{s['qf']:>4}{s['dct']:>7}{s['n']:>4}{s['psnr_ours']:>11.3f}"
              f"{s['psnr_libjpeg']:>10.3f}{s['mean_diff']:>+9.4f}{s['max_abs_diff']:>9.4f}"
              f"{s['within_one']:>11.2f}{s['min_within_one']:>8.2f}{s['identical']:>9.2f}")


def write_csv(rows: list[dict], path: Path = OUT) -> None:
    """Write the per-image rows to ``path`` (folder created if needed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        for r in rows:
            writer.writerow({k: (f"{v:.4f}" if isinstance(v, float) else v) for k, v in r.items()})


def main() -> None:
    rows = run()
    print_table(summarise(rows))
    write_csv(rows)
    print(f"\n{len(rows)} rows written to {OUT}")


if __name__ == "__main__":
    main()
