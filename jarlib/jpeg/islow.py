"""libjpeg's integer "islow" DCT, reproduced in vectorised numpy (bit-exact with libjpeg-turbo).

libjpeg (and so Pillow, MATLAB's ``imwrite``) does not use a float DCT by default. It uses the
Loeffler-Ligtenberg-Moschytz factorisation in 32-bit integers: 12 multiplications by constants
scaled by 2**13 (``CONST_BITS``), an intermediate scale of 2**2 (``PASS1_BITS``) between the row
and column passes, and rounding shifts (``DESCALE``) after each pass. Its forward transform is
8x the orthonormal DCT, which the quantizer folds into its divisors (table * 8). These roundings
are why a float DCT differs from libjpeg by one grey level here and there
(``notebooks/00_jpeg_from_scratch.ipynb``).

Written from the algorithm's description in libjpeg's ``jfdctint.c`` / ``jidctint.c`` and
``jcdctmgr.c`` (IJG, libjpeg-turbo); all functions work on (..., 8, 8) int64 arrays in natural
order and never modify their inputs.
"""

from __future__ import annotations

import numpy as np

CONST_BITS = 13
PASS1_BITS = 2

# Rotation constants: round(c * 2**13), named by their value c as in libjpeg.
FIX_0_298631336 = 2446
FIX_0_390180644 = 3196
FIX_0_541196100 = 4433
FIX_0_765366865 = 6270
FIX_0_899976223 = 7373
FIX_1_175875602 = 9633
FIX_1_501321110 = 12299
FIX_1_847759065 = 15137
FIX_1_961570560 = 16069
FIX_2_053119869 = 16819
FIX_2_562915447 = 20995
FIX_3_072711026 = 25172


def _descale(x: np.ndarray, n: int) -> np.ndarray:
    """Divide by 2**n, rounding halves up (libjpeg's ``DESCALE``, an arithmetic right shift)."""
    return (x + (1 << (n - 1))) >> n


def _odd_part(t4: np.ndarray, t5: np.ndarray, t6: np.ndarray, t7: np.ndarray) -> tuple[np.ndarray, ...]:
    """The shared odd-part butterfly (Loeffler's figure 8, scaled by sqrt(2)); returns 4 sums."""
    z1, z2, z3, z4 = t4 + t7, t5 + t6, t4 + t6, t5 + t7
    z5 = (z3 + z4) * FIX_1_175875602
    t4, t5 = t4 * FIX_0_298631336, t5 * FIX_2_053119869
    t6, t7 = t6 * FIX_3_072711026, t7 * FIX_1_501321110
    z1, z2 = z1 * -FIX_0_899976223, z2 * -FIX_2_562915447
    z3, z4 = z3 * -FIX_1_961570560 + z5, z4 * -FIX_0_390180644 + z5
    return t4 + z1 + z3, t5 + z2 + z4, t6 + z2 + z3, t7 + z1 + z4


def _fdct_1d(d: np.ndarray, first_pass: bool) -> np.ndarray:
    """One 8-point forward pass along the last axis: (..., 8) int64 -> (..., 8) int64."""
    x = [d[..., k] for k in range(8)]
    t0, t7 = x[0] + x[7], x[0] - x[7]
    t1, t6 = x[1] + x[6], x[1] - x[6]
    t2, t5 = x[2] + x[5], x[2] - x[5]
    t3, t4 = x[3] + x[4], x[3] - x[4]
    t10, t13, t11, t12 = t0 + t3, t0 - t3, t1 + t2, t1 - t2
    bits = CONST_BITS - PASS1_BITS if first_pass else CONST_BITS + PASS1_BITS
    out = [None] * 8
    if first_pass:
        out[0], out[4] = (t10 + t11) << PASS1_BITS, (t10 - t11) << PASS1_BITS
    else:
        out[0], out[4] = _descale(t10 + t11, PASS1_BITS), _descale(t10 - t11, PASS1_BITS)
    z1 = (t12 + t13) * FIX_0_541196100
    out[2] = _descale(z1 + t13 * FIX_0_765366865, bits)
    out[6] = _descale(z1 + t12 * -FIX_1_847759065, bits)
    o7, o5, o3, o1 = _odd_part(t4, t5, t6, t7)
    out[7], out[5], out[3], out[1] = (_descale(v, bits) for v in (o7, o5, o3, o1))
    return np.stack(out, axis=-1)


def fdct(blocks: np.ndarray) -> np.ndarray:
    """libjpeg's ``jpeg_fdct_islow``: level-shifted samples (..., 8, 8) in [-128, 127] -> int64.

    The output is 8x the orthonormal DCT-II (:func:`jarlib.jpeg.codec.dct2`), rounded the way
    libjpeg rounds; [..., 0, 0] is DC. Rows first, then columns (T.81 A.3.3 up to scale).
    """
    b = np.asarray(blocks, dtype=np.int64)
    rows = _fdct_1d(b, first_pass=True)                               # (..., 8, 8), x 2**2
    return _fdct_1d(rows.swapaxes(-1, -2), first_pass=False).swapaxes(-1, -2)


def _reciprocals(divisor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """libjpeg-turbo's ``compute_reciprocal`` (16-bit SIMD build): reciprocal, correction, shift.

    ``(|x| + c) * fq >> r`` then equals |x| / divisor rounded to nearest (halves up) without a
    division. divisor: int64 array of entries >= 8.
    """
    b = np.floor(np.log2(divisor)).astype(np.int64)     # flss(divisor) - 1
    r = 16 + b
    one = np.left_shift(np.int64(1), r)
    fq, fr = one // divisor, one % divisor
    c = divisor // 2
    power_of_two = fr == 0
    below_half = ~power_of_two & (fr <= divisor // 2)
    above_half = ~power_of_two & ~below_half
    fq = np.where(power_of_two, fq >> 1, fq + above_half)
    r = np.where(power_of_two, r - 1, r)
    c = c + below_half
    return fq, c, r


def quantize(coeffs8: np.ndarray, table: np.ndarray) -> np.ndarray:
    """libjpeg-turbo's quantizer for :func:`fdct` output: (..., 8, 8) int64 -> int32 (..., 8, 8).

    Divides by ``8 * table`` (undoing the DCT's 8x scale) and rounds to nearest, halves away
    from zero, through the reciprocal multiplication of ``jcdctmgr.c``.
    """
    fq, c, r = _reciprocals(8 * np.asarray(table, dtype=np.int64))
    x = np.asarray(coeffs8, dtype=np.int64)
    magnitude = ((np.abs(x) + c) * fq) >> r
    return (np.sign(x) * magnitude).astype(np.int32)


def _idct_1d(d: np.ndarray, first_pass: bool) -> np.ndarray:
    """One 8-point inverse pass along the last axis: (..., 8) int64 -> (..., 8) int64."""
    x = [d[..., k] for k in range(8)]
    z1 = (x[2] + x[6]) * FIX_0_541196100
    t2 = z1 + x[6] * -FIX_1_847759065
    t3 = z1 + x[2] * FIX_0_765366865
    t0, t1 = (x[0] + x[4]) << CONST_BITS, (x[0] - x[4]) << CONST_BITS
    t10, t13, t11, t12 = t0 + t3, t0 - t3, t1 + t2, t1 - t2
    o0, o1, o2, o3 = _odd_part(x[7], x[5], x[3], x[1])
    bits = CONST_BITS - PASS1_BITS if first_pass else CONST_BITS + PASS1_BITS + 3
    out = [t10 + o3, t11 + o2, t12 + o1, t13 + o0, t13 - o0, t12 - o1, t11 - o2, t10 - o3]
    return np.stack([_descale(v, bits) for v in out], axis=-1)


def idct(qcoeffs: np.ndarray, table: np.ndarray) -> np.ndarray:
    """libjpeg's ``jpeg_idct_islow``: quantized coefficients (..., 8, 8) -> uint8 samples (..., 8, 8).

    Dequantizes (coefficient x table entry), runs the column pass then the row pass, removes the
    level shift and clips to [0, 255] (libjpeg's range limit).
    """
    deq = np.asarray(qcoeffs, dtype=np.int64) * np.asarray(table, dtype=np.int64)
    cols = _idct_1d(deq.swapaxes(-1, -2), first_pass=True).swapaxes(-1, -2)  # x 2**2
    rows = _idct_1d(cols, first_pass=False)
    return np.clip(rows + 128, 0, 255).astype(np.uint8)


# --------------------------------------------------------------------------------------------
# libjpeg's fixed-point colour conversion (jccolor.c / jdcolor.c), 16 fraction bits
# --------------------------------------------------------------------------------------------

SCALEBITS = 16
ONE_HALF = 1 << (SCALEBITS - 1)


def _fix(x: float) -> int:
    """A constant in libjpeg's 16.16 fixed point: round(x * 2**16)."""
    return int(x * (1 << SCALEBITS) + 0.5)


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """libjpeg's ``rgb_ycc_convert``: (H, W, 3) uint8 RGB -> (H, W, 3) uint8 YCbCr (JFIF).

    The JFIF matrix (:data:`jarlib.color.JFIF_RGB_TO_YCBCR`) with 5-digit constants in 16.16
    fixed point; Y rounds halves up, Cb and Cr round halves down.
    """
    r, g, b = (np.asarray(rgb)[..., k].astype(np.int64) for k in range(3))
    offset = (128 << SCALEBITS) + ONE_HALF - 1
    y = (_fix(0.29900) * r + _fix(0.58700) * g + _fix(0.11400) * b + ONE_HALF) >> SCALEBITS
    cb = (-_fix(0.16874) * r - _fix(0.33126) * g + _fix(0.50000) * b + offset) >> SCALEBITS
    cr = (_fix(0.50000) * r - _fix(0.41869) * g - _fix(0.08131) * b + offset) >> SCALEBITS
    return np.stack([y, cb, cr], axis=-1).astype(np.uint8)


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """libjpeg's ``ycc_rgb_convert``: (H, W, 3) uint8 YCbCr -> (H, W, 3) uint8 RGB, clipped.

    Each chroma term is rounded on its own (16.16 fixed point) and then added to Y.
    """
    y, cb, cr = (np.asarray(ycc)[..., k].astype(np.int64) for k in range(3))
    cb, cr = cb - 128, cr - 128
    r = y + ((_fix(1.40200) * cr + ONE_HALF) >> SCALEBITS)
    g = y + ((-_fix(0.34414) * cb - _fix(0.71414) * cr + ONE_HALF) >> SCALEBITS)
    b = y + ((_fix(1.77200) * cb + ONE_HALF) >> SCALEBITS)
    return np.clip(np.stack([r, g, b], axis=-1), 0, 255).astype(np.uint8)
