"""Solutions to the exercises of ``notebooks/00_jpeg_from_scratch.ipynb`` (JPEG from scratch).

Run from the repository root:

    python solutions/00_jpeg_from_scratch.py           # the notebook's sizes (a few seconds)
    python solutions/00_jpeg_from_scratch.py --smoke   # small crops, no data set needed

Each function prints what a student should see and asserts it. Without the data sets the images
are the bundled scikit-image samples (``jarlib.data.sample_images``).
"""

from __future__ import annotations

import numpy as np

from jarlib.color import ycbcr_to_rgb
from jarlib.data import evaluation_images, sample_images
from jarlib.jpeg import ZIGZAG, codec, compress, quant_table
from jarlib.metrics import psnr

from _run import run  # solutions/_run.py: the command line they share


def _gray(smoke: bool) -> np.ndarray:
    """The notebook's gray image (LIVE1's first, else scikit-image's camera); a crop in smoke mode."""
    img = evaluation_images("live1_gray", limit=1)[0][1]
    return img[:128, :192] if smoke else img


def _rgb(smoke: bool) -> np.ndarray:
    img = sample_images("rgb")["astronaut"]
    return img[:128, :128] if smoke else img


def exercise_1(smoke: bool) -> None:
    """Change ``QUALITIES`` to ``[1, 5, 100]``: at QF1 every table entry is 255; what is left of the
    image? At QF100 every entry is 1; is the round trip lossless? Why not?"""
    gray = _gray(smoke)
    assert (quant_table(1) == 255).all() and (quant_table(100) == 1).all()
    scores = {q: psnr(gray, codec.roundtrip(gray, q)) for q in (1, 5, 100)}
    print("PSNR of the round trip:", {q: round(s, 2) for q, s in scores.items()})
    q1 = codec.encode(gray, 1).components[0]
    nonzero_ac = np.count_nonzero(q1.reshape(-1, 64)[:, 1:])
    print(f"QF1: {nonzero_ac} non-zero AC coefficients in {q1.shape[0] * q1.shape[1]} blocks; "
          "what is left is (almost) each block's mean: a mosaic of 8x8 tiles")
    # QF100 is not lossless: the DCT of integer pixels is real-valued and is still rounded to an
    # integer (step 1), and the decoded block is rounded and clipped back to 0..255 again.
    assert scores[1] < scores[5] < scores[100] < float("inf")
    assert scores[100] > 45, "QF100 loses only rounding: about half a grey level"
    assert nonzero_ac < 0.05 * q1.size


def _decode_with(coeffs: codec.JpegCoefficients, upsample) -> np.ndarray:
    """Decode a 4:2:0 colour file, upsampling its chroma with ``upsample``."""
    h, w = coeffs.shape[:2]
    y = codec.decode_plane(coeffs.components[0], coeffs.tables[0], (h, w))
    chroma = [upsample(codec.decode_plane(c, t, ((h + 1) // 2, (w + 1) // 2)), (h, w))
              for c, t in zip(coeffs.components[1:], coeffs.tables[1:])]
    ycc = np.stack([y, *chroma], axis=-1).astype(np.float64)
    return np.clip(np.round(ycbcr_to_rgb(ycc)), 0, 255).astype(np.uint8)


def exercise_2(smoke: bool) -> None:
    """In section 1, replace ``upsample_420`` by ``upsample_nearest`` in a colour round trip and
    compare the RGB PSNR at QF90."""
    rgb = _rgb(smoke)
    coeffs = codec.encode(rgb, 90, "4:2:0")
    fancy, nearest = _decode_with(coeffs, codec.upsample_420), _decode_with(coeffs, codec.upsample_nearest)
    p_fancy, p_nearest = psnr(rgb, fancy), psnr(rgb, nearest)
    print(f"QF 90, 4:2:0: RGB PSNR fancy (triangle) {p_fancy:.2f} dB, nearest {p_nearest:.2f} dB "
          f"({p_fancy - p_nearest:+.2f} dB for the triangle filter)")
    assert np.array_equal(fancy, codec.roundtrip(rgb, 90, "4:2:0")), "fancy is what the codec does"
    assert p_fancy > p_nearest


def exercise_3(smoke: bool) -> None:
    """Zero all but the first k zigzag coefficients of every block (no quantization) and plot PSNR vs k."""
    gray = _gray(smoke)
    coeffs = codec.dct2(codec.level_shift(codec.split_blocks(gray)))
    curve = {}
    for k in (1, 3, 6, 10, 15, 21, 28, 36, 64):
        mask = np.zeros(64)
        mask[ZIGZAG[:k]] = 1.0                       # ZIGZAG[i]: natural index of the i-th coefficient
        kept = coeffs * mask.reshape(8, 8)
        out = codec.merge_blocks(codec.unshift(codec.idct2(kept)), gray.shape)
        curve[k] = psnr(gray, out)
    print("PSNR (dB) keeping the first k zigzag coefficients:", {k: round(p, 2) for k, p in curve.items()})
    values = list(curve.values())
    assert all(a <= b + 1e-9 for a, b in zip(values, values[1:])), "more coefficients, never worse"
    assert curve[64] == float("inf") or curve[64] > 50, "all 64: only the final rounding is lost"
    assert curve[10] > 25, "the first 10 already give a recognisable image"


def exercise_4(smoke: bool) -> None:
    """Change ``codec.quantize`` to round towards zero (``np.trunc``) and see how much PSNR you lose."""
    gray = _gray(smoke)
    coeffs = codec.dct2(codec.level_shift(codec.split_blocks(gray)))
    for q in (10, 50, 90):
        table = quant_table(q)
        scores = {}
        for label, rounded in [("nearest", codec.quantize(coeffs, table)), ("trunc", np.trunc(coeffs / table))]:
            out = codec.unshift(codec.idct2(codec.dequantize(rounded.astype(np.int32), table)))
            scores[label] = psnr(gray, codec.merge_blocks(out, gray.shape))
        print(f"QF {q}: round to nearest {scores['nearest']:.2f} dB, towards zero {scores['trunc']:.2f} dB "
              f"({scores['trunc'] - scores['nearest']:+.2f} dB)")
        # truncation doubles the worst error (a whole step instead of half) and biases every
        # coefficient towards 0: more zeros (smaller files), lower PSNR
        assert scores["trunc"] < scores["nearest"]


def downsample_h2v1(plane: np.ndarray) -> np.ndarray:
    """libjpeg's 4:2:2 chroma downsampling: mean of 2 horizontal pixels, rounding bias 0, 1, 0, 1, ..."""
    p = codec.pad_to_multiple(np.asarray(plane), 1, 2).astype(np.int32)
    sums = p[:, 0::2] + p[:, 1::2]
    bias = np.arange(sums.shape[1]) % 2
    return ((sums + bias) >> 1).astype(np.uint8)


def upsample_h2v1(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """libjpeg's fancy 4:2:2 upsampling: 3/4 nearest + 1/4 next sample, biases 1 (left) and 2 (right)."""
    h, w = shape[0], (shape[1] + 1) // 2
    c = plane[:h, :w].astype(np.int32)
    p = np.pad(c, ((0, 0), (1, 1)), mode="edge")
    out = np.empty((h, 2 * w), dtype=np.int32)
    out[:, 0::2] = (3 * p[:, 1:-1] + p[:, :-2] + 1) >> 2
    out[:, 1::2] = (3 * p[:, 1:-1] + p[:, 2:] + 2) >> 2
    return out[:, :shape[1]].astype(np.uint8)


def roundtrip_422(rgb: np.ndarray, quality: int, dct: str = "islow") -> np.ndarray:
    """A 4:2:2 round trip built from the codec's pieces (chroma halved horizontally only)."""
    from jarlib.jpeg import islow

    ycc = islow.rgb_to_ycbcr(rgb) if dct == "islow" else np.clip(np.round(codec.rgb_to_ycbcr(rgb)), 0, 255).astype(np.uint8)
    h, w = rgb.shape[:2]
    luma, chroma = quant_table(quality), quant_table(quality, chroma=True)
    y = codec.decode_plane(codec.encode_plane(ycc[..., 0], luma, dct), luma, (h, w), dct)
    planes = [y]
    for k in (1, 2):
        small = downsample_h2v1(codec.pad_to_multiple(ycc[..., k], 1, 16))  # pad to whole 16x8 MCUs first
        dec = codec.decode_plane(codec.encode_plane(small, chroma, dct), chroma, (h, (w + 1) // 2), dct)
        planes.append(upsample_h2v1(dec, (h, w)))
    out = np.stack(planes, axis=-1)
    if dct == "islow":
        return islow.ycbcr_to_rgb(out)
    return np.clip(np.round(ycbcr_to_rgb(out.astype(np.float64))), 0, 255).astype(np.uint8)


def exercise_5(smoke: bool) -> None:
    """Implement 4:2:2 (halve only horizontally) and check it against ``compress(..., "4:2:2")``."""
    rgb = _rgb(smoke)
    for q in (10, 50, 90):
        ours, lib = roundtrip_422(rgb, q), compress(rgb, q, "4:2:2")
        diff = np.abs(ours.astype(int) - lib)
        print(f"QF {q}: 4:2:2 ours {psnr(rgb, ours):.3f} dB, libjpeg {psnr(rgb, lib):.3f} dB, "
              f"{100 * np.mean(diff == 0):.2f} % identical, {100 * np.mean(diff <= 1):.2f} % within one level")
        assert np.all(diff == 0), "with libjpeg's integer DCT the 4:2:2 round trip is bit-exact"
    p420, p422 = psnr(rgb, compress(rgb, 50, "4:2:0")), psnr(rgb, compress(rgb, 50, "4:2:2"))
    print(f"QF 50: 4:2:0 {p420:.2f} dB < 4:2:2 {p422:.2f} dB (twice the chroma samples)")
    assert p422 > p420


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4, exercise_5], "small crops (tests)")
