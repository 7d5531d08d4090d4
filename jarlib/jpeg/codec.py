"""Baseline JPEG written out step by step (ITU-T T.81), without entropy coding.

The lesson of ``notebooks/00_jpeg_from_scratch.ipynb``. The steps, in encoder order:

1. colour transform RGB -> YCbCr (JFIF, T.871 §7; :mod:`jarlib.color`), rounded to integers;
2. chroma subsampling 4:2:0 (:func:`downsample_420`) or none (4:4:4);
3. level shift by 128 (T.81 A.3.1, :func:`level_shift`);
4. 8x8 blocks (T.81 A.2, :func:`split_blocks`), edges padded by replicating the last row/column;
5. forward DCT (T.81 A.3.3, :func:`dct2`);
6. quantization with the IJG tables (T.81 A.3.4, :func:`quantize`, :func:`jarlib.jpeg.quant_table`).

The decoder runs the same steps backwards (:func:`dequantize`, :func:`idct2`, :func:`merge_blocks`,
:func:`upsample_420`, colour transform). **Entropy coding (zigzag + run-length + Huffman, T.81 F.1)
is out of scope**: it is lossless, so it changes file sizes, never pixels. File sizes in the
notebook come from real libjpeg encodes (:func:`jarlib.jpeg.encode_bytes`).

Subsampling and upsampling follow libjpeg-turbo (the encoder Pillow uses), so that the only
remaining difference is the DCT: ``dct="float"`` uses an exact float DCT (scipy), libjpeg uses a
scaled integer DCT ("islow"). ``dct="islow"`` uses :mod:`jarlib.jpeg.islow`, which reproduces
libjpeg's integer DCT and quantizer. :func:`compare_with_libjpeg` measures the agreement.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import fft

from jarlib._checks import as_image_array, check_quality
from jarlib.block import BLOCK
from jarlib.color import rgb_to_ycbcr, ycbcr_to_rgb
from jarlib.jpeg import islow
from jarlib.jpeg.libjpeg import compress
from jarlib.jpeg.tables import quant_table

SUBSAMPLINGS = ("4:2:0", "4:4:4")
"""Chroma subsamplings implemented here (4:2:2 is left as an exercise)."""
DCT_METHODS = ("float", "islow")
"""``float``: exact orthonormal DCT (scipy); ``islow``: libjpeg's integer DCT (bit-exact)."""


# --------------------------------------------------------------------------------------------
# Blocks and padding (T.81 A.2)
# --------------------------------------------------------------------------------------------

def pad_to_multiple(plane: np.ndarray, multiple_h: int, multiple_w: int | None = None) -> np.ndarray:
    """Pad a (H, W) plane at the bottom/right by repeating its last row/column (libjpeg's padding).

    Returns a new (ceil(H/mh)*mh, ceil(W/mw)*mw) array of the same dtype; ``multiple_w``
    defaults to ``multiple_h``. The input is never modified.
    """
    multiple_w = multiple_h if multiple_w is None else multiple_w
    h, w = plane.shape
    pad_h, pad_w = -h % multiple_h, -w % multiple_w
    return np.pad(plane, ((0, pad_h), (0, pad_w)), mode="edge")


def split_blocks(plane: np.ndarray) -> np.ndarray:
    """Cut a (H, W) plane into 8x8 blocks: -> (ceil(H/8), ceil(W/8), 8, 8), same dtype.

    The plane is first edge-padded to multiples of 8 (:func:`pad_to_multiple`), as libjpeg does
    (T.81 A.2.1 leaves the padding to the encoder). Block ``[i, j]`` covers rows 8i..8i+7 and
    columns 8j..8j+7.
    """
    if plane.ndim != 2 or plane.size == 0:
        raise ValueError(f"split_blocks expects a non-empty (H, W) plane, got shape {plane.shape}")
    padded = pad_to_multiple(plane, BLOCK)
    nby, nbx = padded.shape[0] // BLOCK, padded.shape[1] // BLOCK
    return padded.reshape(nby, BLOCK, nbx, BLOCK).swapaxes(1, 2).copy()  # (nby, nbx, 8, 8)


def merge_blocks(blocks: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Inverse of :func:`split_blocks`: (nby, nbx, 8, 8) -> (H, W), cropping the padding away."""
    if blocks.ndim != 4 or blocks.shape[2:] != (BLOCK, BLOCK):
        raise ValueError(f"merge_blocks expects (nby, nbx, 8, 8) blocks, got shape {blocks.shape}")
    nby, nbx = blocks.shape[:2]
    h, w = shape
    if h > nby * BLOCK or w > nbx * BLOCK:
        raise ValueError(f"shape {shape} does not fit in {nby}x{nbx} blocks")
    plane = blocks.swapaxes(1, 2).reshape(nby * BLOCK, nbx * BLOCK)
    return plane[:h, :w].copy()


# --------------------------------------------------------------------------------------------
# Level shift, DCT, quantization (T.81 A.3)
# --------------------------------------------------------------------------------------------

def level_shift(samples: np.ndarray) -> np.ndarray:
    """Samples in [0, 255] -> float64 centred on zero, in [-128, 127] (T.81 A.3.1)."""
    return samples.astype(np.float64) - 128.0


def unshift(values: np.ndarray) -> np.ndarray:
    """Inverse level shift: float values -> uint8 samples, rounded to nearest and clipped to [0, 255]."""
    return np.clip(np.round(values + 128.0), 0, 255).astype(np.uint8)


def dct2(blocks: np.ndarray) -> np.ndarray:
    """Forward 2-D DCT-II of each 8x8 block (T.81 A.3.3): (..., 8, 8) float -> (..., 8, 8) float64.

    Orthonormal (``norm="ortho"``), so it preserves energy and equals T.81's FDCT exactly:
    ``[..., 0, 0]`` is the DC coefficient (8 x the block mean), ``[..., u, v]`` the vertical
    frequency u and horizontal frequency v. For level-shifted samples the range is [-1024, 1016].
    """
    return fft.dctn(np.asarray(blocks, dtype=np.float64), type=2, norm="ortho", axes=(-2, -1))


def idct2(coeffs: np.ndarray) -> np.ndarray:
    """Inverse of :func:`dct2` (T.81 A.3.3 IDCT): (..., 8, 8) -> (..., 8, 8) float64."""
    return fft.idctn(np.asarray(coeffs, dtype=np.float64), type=2, norm="ortho", axes=(-2, -1))


def quantize(coeffs: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Divide each coefficient by its table entry and round to the nearest integer (T.81 A.3.4).

    coeffs: (..., 8, 8) float DCT coefficients; table: (8, 8) integers in 1..255 (natural order).
    Returns int32 (..., 8, 8). Halves round away from zero, as libjpeg does (``np.round`` would
    round them to even; exact halves are common, e.g. a DC of 8 x mean over a table entry of 16).
    """
    ratio = np.asarray(coeffs, dtype=np.float64) / table
    return (np.sign(ratio) * np.floor(np.abs(ratio) + 0.5)).astype(np.int32)


def dequantize(qcoeffs: np.ndarray, table: np.ndarray) -> np.ndarray:
    """Multiply quantized coefficients back by their table entries (T.81 A.3.4): -> float64 (..., 8, 8)."""
    return np.asarray(qcoeffs, dtype=np.float64) * table


# --------------------------------------------------------------------------------------------
# Chroma subsampling, as libjpeg-turbo does it (jcsample.c / jdsample.c)
# --------------------------------------------------------------------------------------------

def downsample_420(plane: np.ndarray) -> np.ndarray:
    """Halve a (H, W) plane in both directions: -> (ceil(H/2), ceil(W/2)) uint8.

    Integer 2x2 mean with libjpeg's alternating rounding bias: output column j gets
    ``(a + b + c + d + bias) >> 2`` with bias 1, 2, 1, 2, ... (so halves round down and up in
    turn, with no drift). Odd sizes are first padded by repeating the last row/column.
    plane: integer samples in [0, 255] (uint8 or any integer dtype).
    """
    p = pad_to_multiple(np.asarray(plane), 2).astype(np.int32)
    sums = p[0::2, 0::2] + p[0::2, 1::2] + p[1::2, 0::2] + p[1::2, 1::2]  # (H/2, W/2)
    bias = np.where(np.arange(sums.shape[1]) % 2 == 0, 1, 2)
    return ((sums + bias) >> 2).astype(np.uint8)


def upsample_420(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Double a subsampled (h, w) plane back to ``shape`` = (H, W): -> (H, W) uint8.

    libjpeg's "fancy upsampling": a triangle filter, each output pixel is 3/4 of its nearest
    input sample and 1/4 of the next nearest, separably in both directions, in integers with
    libjpeg's rounding biases (8 for left/top outputs, 7 for right/bottom). Edges repeat the
    last sample. Only the first ceil(H/2) x ceil(W/2) samples are used (the rest is block
    padding). Like libjpeg-turbo, planes at most 2 samples wide are upsampled by replication.
    """
    h, w = (shape[0] + 1) // 2, (shape[1] + 1) // 2
    if plane.shape[0] < h or plane.shape[1] < w:
        raise ValueError(f"a {plane.shape} plane cannot be upsampled to {shape}")
    c = plane[:h, :w].astype(np.int32)
    if w <= 2:  # libjpeg-turbo falls back to plain replication here
        out = np.repeat(np.repeat(c, 2, axis=0), 2, axis=1)
        return out[:shape[0], :shape[1]].astype(np.uint8)
    p = np.pad(c, 1, mode="edge")                                    # (h+2, w+2)
    cols = np.empty((2 * h, w + 2), dtype=np.int32)
    cols[0::2] = 3 * p[1:-1] + p[:-2]                                # rows nearer the row above
    cols[1::2] = 3 * p[1:-1] + p[2:]                                 # rows nearer the row below
    out = np.empty((2 * h, 2 * w), dtype=np.int32)
    out[:, 0::2] = (3 * cols[:, 1:-1] + cols[:, :-2] + 8) >> 4
    out[:, 1::2] = (3 * cols[:, 1:-1] + cols[:, 2:] + 7) >> 4
    return out[:shape[0], :shape[1]].astype(np.uint8)


def upsample_nearest(plane: np.ndarray, shape: tuple[int, int]) -> np.ndarray:
    """Double a subsampled plane by repeating each sample 2x2 (for comparison): -> (H, W) uint8."""
    out = np.repeat(np.repeat(plane, 2, axis=0), 2, axis=1)
    return out[:shape[0], :shape[1]].astype(np.uint8)


# --------------------------------------------------------------------------------------------
# The codec
# --------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class JpegCoefficients:
    """What a baseline JPEG file holds, before entropy coding.

    - ``components``: per component (Y, or Y, Cb, Cr) the quantized DCT coefficients,
      int32 (nby, nbx, 8, 8) in natural order; chroma has half the blocks in 4:2:0.
    - ``tables``: the (8, 8) int32 quantization table of each component (luma, chroma, chroma).
    - ``shape``: the image shape, (H, W) gray or (H, W, 3) RGB (or (H, W, 1)).
    - ``subsampling``: "4:2:0" or "4:4:4" (ignored for gray); ``quality``: 1..100;
      ``dct``: "float" or "islow", the transform the decoder should use.
    """

    components: tuple[np.ndarray, ...]
    tables: tuple[np.ndarray, ...]
    shape: tuple[int, ...]
    subsampling: str
    quality: int
    dct: str = "float"

    @property
    def is_color(self) -> bool:
        """True for a 3-component (YCbCr) image."""
        return len(self.components) == 3


def _check_options(subsampling: str, dct: str) -> None:
    if subsampling not in SUBSAMPLINGS:
        raise ValueError(f"subsampling must be one of {SUBSAMPLINGS}, got {subsampling!r}")
    if dct not in DCT_METHODS:
        raise ValueError(f"dct must be one of {DCT_METHODS}, got {dct!r}")


def _to_ycbcr_planes(rgb: np.ndarray, dct: str) -> list[np.ndarray]:
    """(H, W, 3) uint8 RGB -> three (H, W) uint8 planes Y, Cb, Cr (JFIF, T.871 §7).

    ``dct="float"``: :func:`jarlib.color.rgb_to_ycbcr` rounded to integers; ``"islow"``:
    libjpeg's fixed-point version (:func:`jarlib.jpeg.islow.rgb_to_ycbcr`).
    """
    if dct == "islow":
        ycc = islow.rgb_to_ycbcr(rgb)
    else:
        ycc = np.clip(np.round(rgb_to_ycbcr(rgb)), 0, 255).astype(np.uint8)
    return [ycc[..., k] for k in range(3)]


def _chroma_420(plane: np.ndarray) -> np.ndarray:
    """Subsample a full-size chroma plane the way libjpeg feeds it to the DCT.

    libjpeg pads the image to whole MCUs (16 columns) before downsampling, so the chroma block
    padding on the right comes from the image, and pads the subsampled plane downwards.
    """
    return downsample_420(pad_to_multiple(plane, 2, 2 * BLOCK))


def encode_plane(plane: np.ndarray, table: np.ndarray, dct: str = "float") -> np.ndarray:
    """One component: (H, W) uint8 samples -> quantized coefficients int32 (nby, nbx, 8, 8)."""
    blocks = split_blocks(plane)                                    # (nby, nbx, 8, 8)
    if dct == "islow":
        return islow.quantize(islow.fdct(blocks.astype(np.int64) - 128), table)
    return quantize(dct2(level_shift(blocks)), table)


def decode_plane(qcoeffs: np.ndarray, table: np.ndarray, shape: tuple[int, int],
                 dct: str = "float") -> np.ndarray:
    """One component: quantized coefficients (nby, nbx, 8, 8) -> (H, W) uint8 samples."""
    if dct == "islow":
        blocks = islow.idct(qcoeffs, table)
    else:
        blocks = unshift(idct2(dequantize(qcoeffs, table)))
    return merge_blocks(blocks, shape)


def encode(img: np.ndarray, quality: int, subsampling: str = "4:2:0",
           dct: str = "float") -> JpegCoefficients:
    """Encode an image to quantized DCT coefficients (baseline JPEG without entropy coding).

    img: (H, W) gray, (H, W, 1) or (H, W, 3) RGB uint8, any size >= 1x1. quality: 1..100 (IJG
    tables, :func:`jarlib.jpeg.quant_table`). subsampling: "4:2:0" or "4:4:4" (colour only).
    dct: "float" (scipy, exact) or "islow" (libjpeg's integer DCT).
    """
    img = as_image_array(img, "img", allow_float=False)
    q = check_quality(quality)
    _check_options(subsampling, dct)
    luma, chroma = quant_table(q), quant_table(q, chroma=True)
    if img.ndim == 2 or img.shape[2] == 1:
        plane = img if img.ndim == 2 else img[..., 0]
        return JpegCoefficients((encode_plane(plane, luma, dct),), (luma,), img.shape,
                                subsampling, q, dct)
    y, cb, cr = _to_ycbcr_planes(img, dct)
    if subsampling == "4:2:0":
        cb, cr = _chroma_420(cb), _chroma_420(cr)
    comps = (encode_plane(y, luma, dct), encode_plane(cb, chroma, dct), encode_plane(cr, chroma, dct))
    return JpegCoefficients(comps, (luma, chroma, chroma), img.shape, subsampling, q, dct)


def decode_planes(coeffs: JpegCoefficients) -> list[np.ndarray]:
    """Decode each component to full-size (H, W) uint8 planes (chroma upsampled): Y or Y, Cb, Cr."""
    h, w = coeffs.shape[:2]
    planes = []
    for k, (comp, table) in enumerate(zip(coeffs.components, coeffs.tables)):
        if k > 0 and coeffs.subsampling == "4:2:0":
            small = decode_plane(comp, table, ((h + 1) // 2, (w + 1) // 2), coeffs.dct)
            planes.append(upsample_420(small, (h, w)))
        else:
            planes.append(decode_plane(comp, table, (h, w), coeffs.dct))
    return planes


def decode(coeffs: JpegCoefficients) -> np.ndarray:
    """Decode coefficients to a uint8 image of ``coeffs.shape`` (RGB for colour, JFIF YCbCr -> RGB)."""
    if not isinstance(coeffs, JpegCoefficients):
        raise TypeError(f"decode expects JpegCoefficients, got {type(coeffs).__name__}")
    planes = decode_planes(coeffs)
    if not coeffs.is_color:
        return planes[0].reshape(coeffs.shape)
    ycc = np.stack(planes, axis=-1)                                  # (H, W, 3) uint8
    if coeffs.dct == "islow":
        return islow.ycbcr_to_rgb(ycc)
    return np.clip(np.round(ycbcr_to_rgb(ycc.astype(np.float64))), 0, 255).astype(np.uint8)


def roundtrip(img: np.ndarray, quality: int, subsampling: str = "4:2:0", dct: str = "float") -> np.ndarray:
    """``decode(encode(img, ...))``: the JPEG-degraded image, same shape, uint8."""
    return decode(encode(img, quality, subsampling, dct))


# --------------------------------------------------------------------------------------------
# Agreement with libjpeg
# --------------------------------------------------------------------------------------------

def compare_with_libjpeg(img: np.ndarray, quality: int, subsampling: str = "4:2:0",
                         dct: str = "float") -> dict[str, float]:
    """Round-trip ``img`` with this module and with libjpeg (Pillow) and compare the two.

    Returns a dict: ``psnr_ours`` and ``psnr_libjpeg`` (dB against ``img``,
    :func:`jarlib.metrics.psnr`, RGB for colour), ``psnr_diff`` (ours - libjpeg), ``within_one``
    (% of decoded values within one grey level of libjpeg's), ``identical`` (% exactly equal) and
    ``max_abs_diff`` (grey levels). Issue targets for ``dct="float"``: |psnr_diff| < 0.02 dB and
    ``within_one`` >= 95 % on average over a set; ``dct="islow"`` is bit-exact (100 % identical).
    """
    from jarlib.metrics import psnr  # metrics needs torch; the codec itself does not

    ours = roundtrip(img, quality, subsampling, dct)
    ref = compress(img, quality, subsampling)
    diff = np.abs(ours.astype(np.int32) - ref.astype(np.int32))
    p_ours, p_ref = psnr(img, ours), psnr(img, ref)
    return {
        "psnr_ours": p_ours,
        "psnr_libjpeg": p_ref,
        "psnr_diff": 0.0 if p_ours == p_ref else p_ours - p_ref,
        "within_one": float(100.0 * np.mean(diff <= 1)),
        "identical": float(100.0 * np.mean(diff == 0)),
        "max_abs_diff": float(diff.max()),
    }


# --------------------------------------------------------------------------------------------
# Helpers for the lesson
# --------------------------------------------------------------------------------------------

def dct_basis() -> np.ndarray:
    """The 64 DCT basis images: (8, 8, 8, 8) float64, ``[u, v]`` is the 8x8 pattern of coefficient (u, v).

    Every 8x8 block is a weighted sum of these (T.81 A.3.3); ``[0, 0]`` is flat (the DC).
    """
    impulses = np.eye(64).reshape(8, 8, 8, 8)                        # [u, v] has a 1 at (u, v)
    return idct2(impulses)


def quantization_flips(plane: np.ndarray, quality: int) -> dict[str, np.ndarray]:
    """Where the float DCT and libjpeg's islow DCT quantize a coefficient differently.

    plane: (H, W) uint8. Returns ``float_q`` and ``islow_q`` (int32 (nby, nbx, 8, 8)), ``ratio``
    (float64, the exact coefficient / table entry: flips sit near a ``k + 0.5`` boundary) and
    ``differ`` (bool mask of the coefficients that differ).
    """
    plane = as_image_array(plane, "plane", allow_float=False)
    if plane.ndim != 2:
        raise ValueError(f"plane must be (H, W) gray, got shape {plane.shape}")
    table = quant_table(check_quality(quality))
    ratio = dct2(level_shift(split_blocks(plane))) / table
    float_q, islow_q = encode_plane(plane, table, "float"), encode_plane(plane, table, "islow")
    return {"float_q": float_q, "islow_q": islow_q, "ratio": ratio, "differ": float_q != islow_q}
