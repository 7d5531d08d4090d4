"""JPEG degradations used for training and evaluation, all through libjpeg (``jarlib.jpeg.compress``)."""

from __future__ import annotations

import numpy as np

from jarlib._checks import as_image_array, check_quality
from jarlib.jpeg import compress


def single_jpeg(img: np.ndarray, quality: int, subsampling: str = "4:2:0") -> np.ndarray:
    """One libjpeg compression at ``quality``: (H, W) or (H, W, 3) uint8 -> same shape uint8 (colour 4:2:0 by default)."""
    return compress(img, quality, subsampling)


def double_jpeg(img: np.ndarray, quality1: int, quality2: int, shift: tuple[int, int] = (4, 4),
                subsampling: str = "4:2:0") -> np.ndarray:
    """FBCNN's non-aligned double JPEG (paper Eq. 5, §3.3): JPEG(QF1), drop the first ``i`` rows and
    ``j`` columns, JPEG(QF2).

    img: (H, W) or (H, W, 3) uint8; ``shift = (i, j)`` with 0 <= i, j <= 7 ((0, 0) is aligned double
    JPEG). Returns the (H - i, W - j) result; its reference is ``img[i:, j:]``. FBCNN Table 3 uses
    shift (4, 4).
    """
    img = as_image_array(img, "img", allow_float=False)
    check_quality(quality1, "quality1")
    check_quality(quality2, "quality2")
    i, j = (int(s) for s in shift)
    if not (0 <= i <= 7 and 0 <= j <= 7):
        raise ValueError(f"shift must be two integers in 0..7, got {shift}")
    if img.shape[0] <= i or img.shape[1] <= j:
        raise ValueError(f"image of shape {img.shape} is too small for shift {shift}")
    first = compress(img, quality1, subsampling)
    return compress(np.ascontiguousarray(first[i:, j:]), quality2, subsampling)
