"""Solutions to the exercises of ``notebooks/01_artifacts_and_metrics.ipynb`` (artifacts and metrics).

Run from the repository root:

    python solutions/01_artifacts_and_metrics.py           # whole sets, as the notebook (about a minute)
    python solutions/01_artifacts_and_metrics.py --smoke   # a few images; no data set needed

Each function prints what a student should see and asserts it. Without the data sets the images
are the bundled scikit-image samples (``jarlib.data.sample_images``); their numbers are then not
the papers'.
"""

from __future__ import annotations

import numpy as np
from PIL import Image

from jarlib import metrics
from jarlib.color import rgb_to_y
from jarlib.data import available, demo_image, evaluation_images, load_dataset, sample_images
from jarlib.jpeg import codec, compress, islow, quant_table
from jarlib.papers import paper_rows

from _run import run  # solutions/_run.py: the command line they share


def _limit(smoke: bool) -> int | None:
    return 3 if smoke else None


def _color_images(smoke: bool) -> list[tuple[str, np.ndarray]]:
    return evaluation_images("live1_color", mode="rgb", limit=_limit(smoke))


def exercise_1(smoke: bool) -> None:
    """Replace ``rgb_to_y`` by Pillow's ``convert("L")`` for LIVE1 and recompute the q10 row: how far off is it?"""
    rows = {"MATLAB Y": [], 'convert("L")': []}
    for _, rgb in _color_images(smoke):
        for label, gray in [("MATLAB Y", rgb_to_y(rgb)), ('convert("L")', np.asarray(Image.fromarray(rgb).convert("L")))]:
            rows[label].append(metrics.evaluate(gray, compress(gray, 10), "fbcnn_gray"))
    mean = {label: {k: float(np.mean([s[k] for s in scores])) for k in ("psnr", "ssim", "psnrb")}
            for label, scores in rows.items()}
    for label, m in mean.items():
        print(f"q10 JPEG row with {label:13s}: PSNR {m['psnr']:.2f} / SSIM {m['ssim']:.3f} / PSNR-B {m['psnrb']:.2f}")
    gap = mean['convert("L")']["psnr"] - mean["MATLAB Y"]["psnr"]
    print(f'convert("L") moves the PSNR by {gap:+.2f} dB')
    if available("live1_color") and not smoke:
        paper = paper_rows("fbcnn", "Table 1", "LIVE1", qf=10, method="JPEG")[0]
        print(f"FBCNN Table 1 prints {paper.psnr:.2f} / {paper.ssim:.3f} / {paper.psnrb:.2f}")
        assert abs(mean["MATLAB Y"]["psnr"] - paper.psnr) < 0.01, "MATLAB Y reproduces the row"
        assert gap < -0.5, "convert('L') is off by most of a dB"
    assert gap < 0


def exercise_2(smoke: bool) -> None:
    """Encode the colour rows with ``subsampling="4:4:4"``: by how much does PSNR rise at q10 and q40?"""
    images = _color_images(smoke)
    for q in (10, 40):
        p420 = np.mean([metrics.psnr(rgb, compress(rgb, q)) for _, rgb in images])
        p444 = np.mean([metrics.psnr(rgb, compress(rgb, q, subsampling="4:4:4")) for _, rgb in images])
        planes = [metrics.psnr_ycbcr(rgb, compress(rgb, q)) for _, rgb in images]
        by_plane = {k: np.mean([p[k] for p in planes]) for k in ("Y", "Cb", "Cr")}
        print(f"q{q}: RGB PSNR 4:2:0 {p420:.2f} dB, 4:4:4 {p444:.2f} dB ({p444 - p420:+.2f} dB); "
              f"4:2:0 per plane: " + ", ".join(f"{k} {v:.2f}" for k, v in by_plane.items()))
        assert p444 > p420, "keeping the chroma at full resolution helps"


def bef(img: np.ndarray, counts: str = "fractional") -> float:
    """Blocking-effect factor of a gray image with three ways of counting the boundary pairs.

    ``fractional``: MATLAB ``compute_bef``, N_hb = H (W/8 - 1) (the papers; :func:`metrics.blocking_effect_factor`);
    ``integer``: N_hb = H (W // 8 - 1); ``exact``: the number of pairs actually summed.
    """
    x = img.astype(np.float64)
    h, w = x.shape
    dh = (x[:, 1:] - x[:, :-1]) ** 2                  # pairs (j, j+1), shape (H, W-1)
    dv = (x[1:, :] - x[:-1, :]) ** 2                  # pairs (i, i+1), shape (H-1, W)
    hb, vb = dh[:, 7::8], dv[7::8, :]                 # pairs across a block boundary
    if counts == "fractional":
        n_hb, n_vb = h * (w / 8 - 1), w * (h / 8 - 1)
    elif counts == "integer":
        n_hb, n_vb = h * (w // 8 - 1), w * (h // 8 - 1)
    else:
        n_hb, n_vb = hb.size, vb.size
    d_b = (hb.sum() + vb.sum()) / (n_hb + n_vb)
    d_bc = (dh.sum() - hb.sum() + dv.sum() - vb.sum()) / (dh.size - n_hb + dv.size - n_vb)
    eta = np.log2(8) / np.log2(min(h, w))
    return float(eta * max(d_b - d_bc, 0.0))


def _psnrb(ref: np.ndarray, test: np.ndarray, counts: str) -> float:
    mse = np.mean((ref.astype(np.float64) - test) ** 2)
    return float(10 * np.log10(255.0 ** 2 / (mse + bef(test, counts))))


def exercise_3(smoke: bool) -> None:
    """Write the integer-count BEF (N_hb = H (W // 8 − 1)) and compare PSNR-B on Classic5 and on
    BSDS500 test. Why is Classic5 unaffected?"""
    camera = sample_images("gray")["camera"]
    # our fractional version must be the library's (MATLAB compute_bef)
    jpeg = compress(camera[:321, :481], 10)
    assert abs(bef(jpeg) - metrics.blocking_effect_factor(jpeg)) < 1e-9
    sets = {}
    for name in ("classic5", "bsds500_test"):
        if available(name):
            sets[name] = [im for _, im in load_dataset(name, mode="gray", limit=_limit(smoke))]
    if not sets:  # no data: a 512x512 photo and a BSDS500-sized crop of it
        sets = {"camera 512x512": [camera], "camera 321x481": [camera[:321, :481]]}
    for name, images in sets.items():
        score = {c: np.mean([_psnrb(im, compress(im, 10), c) for im in images]) for c in ("fractional", "integer", "exact")}
        sides = sorted({im.shape for im in images})
        print(f"{name} {sides}: q10 PSNR-B with fractional counts {score['fractional']:.3f} dB; "
              f"integer {score['integer'] - score['fractional']:+.3f}, exact {score['exact'] - score['fractional']:+.3f}")
        if all(h % 8 == 0 and w % 8 == 0 for h, w in sides):
            assert len({round(v, 9) for v in score.values()}) == 1, "sides that are multiples of 8: all counts agree"
        else:
            assert score["integer"] < score["fractional"] < score["exact"]
    print("Where both sides are multiples of 8 (Classic5), W/8 is a whole number and every count agrees.\n"
          "BSDS500's 481x321: 60 boundary columns are summed, but MATLAB counts 59.125 and W // 8 - 1 = 59.")


def exercise_4(smoke: bool) -> None:
    """Shift an image by 4 pixels before compressing: what happens to the BEF of the result if you
    measure it on the original grid? (FBCNN Table 3 uses this non-aligned double JPEG.)"""
    _, gray, _ = demo_image("monarch")
    if smoke:
        gray = gray[:256, :256]
    aligned = compress(gray, 10)
    shifted = compress(gray[4:, 4:], 10)   # its blocks start 4 pixels into the original grid
    own = metrics.blocking_effect_factor(shifted)
    original_grid = metrics.blocking_effect_factor(shifted[4:, 4:])
    print(f"BEF: aligned JPEG {metrics.blocking_effect_factor(aligned):.2f}; shifted JPEG on its own grid {own:.2f}, "
          f"on the original grid {original_grid:.2f}; clean image {metrics.blocking_effect_factor(gray):.2f}")
    print("BEF (and PSNR-B) only look at one grid: blocks off that grid are invisible to it.")
    assert original_grid < 0.2 * own


def exercise_5(smoke: bool) -> None:
    """In the explorer, find the QF at which the block's highest-frequency coefficients first survive."""
    _, rgb, box = demo_image("monarch", 64, mode="rgb")
    top, left = box[0] + 24, box[1] + 24             # the notebook's explorer position
    by, bx = top // 8, left // 8
    y = islow.rgb_to_ycbcr(rgb)[..., 0]              # the Y plane libjpeg codes
    high = np.add.outer(np.arange(8), np.arange(8)) >= 10
    first = None
    for q in range(1, 101):
        block = codec.encode_plane(y, quant_table(q), "islow")[by, bx]
        if np.any(block[high] != 0):
            first = q
            break
    n_nonzero = {q: int(np.count_nonzero(codec.encode_plane(y, quant_table(q), "islow")[by, bx])) for q in (10, 50, 90)}
    print(f"block ({by * 8}, {bx * 8}): the first coefficient with u + v >= 10 survives at QF {first}; "
          f"non-zero coefficients at QF 10/50/90: {n_nonzero}")
    assert first is not None and first > 50, "the highest frequencies survive only at high quality"
    assert n_nonzero[10] < n_nonzero[50] < n_nonzero[90]


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4, exercise_5], "a few images (tests)")
