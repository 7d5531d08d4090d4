"""JPEG degradations used for training and evaluation, all through libjpeg (``jarlib.jpeg.compress``).

- fixed quality: :func:`single_jpeg`, :func:`double_jpeg` (FBCNN's non-aligned double JPEG, Eq. 5);
- random quality: :func:`draw_quality`, :func:`draw_shift`, :func:`random_single_jpeg`,
  :func:`random_double_jpeg`; :func:`log_spaced_qualities` (a QF list for log-uniform sampling).
  Randomness comes only from the ``numpy.random.Generator`` passed in,
  so the same generator state gives the same degradation (no global RNG is touched).

Taught in ``notebooks/02_degradations_and_data.ipynb``.
"""

from __future__ import annotations

from typing import NamedTuple, Union

import numpy as np

from jarlib._checks import as_image_array, check_quality
from jarlib.jpeg import compress

QualitySpec = Union[int, tuple[int, int]]
"""A fixed quality ``q`` or an inclusive range ``(low, high)`` drawn uniformly, both in 1..100."""

MAX_SHIFT = 7
"""Largest grid shift of FBCNN's double JPEG: 0 <= i, j <= 7 (paper §3.3)."""


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
    if not (0 <= i <= MAX_SHIFT and 0 <= j <= MAX_SHIFT):
        raise ValueError(f"shift must be two integers in 0..{MAX_SHIFT}, got {shift}")
    if img.shape[0] <= i or img.shape[1] <= j:
        raise ValueError(f"image of shape {img.shape} is too small for shift {shift}")
    first = compress(img, quality1, subsampling)
    return compress(np.ascontiguousarray(first[i:, j:]), quality2, subsampling)


def check_quality_spec(quality: QualitySpec, name: str = "quality") -> tuple[int, int]:
    """Return ``quality`` as an inclusive range ``(low, high)``; a fixed ``q`` becomes ``(q, q)``.

    Raises ``TypeError``/``ValueError`` naming ``name`` for non-integers, values outside 1..100,
    or ``low > high``.
    """
    if isinstance(quality, (tuple, list)):
        if len(quality) != 2:
            raise ValueError(f"{name} must be an int or a (low, high) pair, got {quality!r}")
        low = check_quality(quality[0], f"{name}[0]")
        high = check_quality(quality[1], f"{name}[1]")
        if low > high:
            raise ValueError(f"{name} range must have low <= high, got {quality!r}")
        return low, high
    q = check_quality(quality, name)
    return q, q


def draw_quality(rng: np.random.Generator, quality: QualitySpec) -> int:
    """A quality factor: ``quality`` itself if an int, else uniform on the inclusive range ``(low, high)``."""
    low, high = check_quality_spec(quality)
    return int(rng.integers(low, high + 1))


def log_spaced_qualities(low: int, high: int, count: int) -> tuple[int, ...]:
    """``count`` qualities spaced evenly in log QF from ``low`` to ``high`` (rounded; low ones repeat).

    Drawn uniformly (``qf_choices``), they make QF log-uniform: below QF 50 the IJG scale is 50 / QF
    (``jpeg.quant_table``), so equal steps in log QF are equal steps in log quantization step, and the
    strong compressions get more of the draws (QF 10-20: a third of them, against 14 % for a uniform
    QF over 10-90). Example: ``log_spaced_qualities(10, 90, 40)`` -> ``(10, 11, 11, 12, ..., 85, 90)``.
    """
    low, high = check_quality(low, "low"), check_quality(high, "high")
    if low > high:
        raise ValueError(f"low must be <= high, got {low} > {high}")
    if isinstance(count, bool) or not isinstance(count, int) or count < 2:
        raise ValueError(f"count must be an integer >= 2, got {count!r}")
    return tuple(int(round(low * (high / low) ** (k / (count - 1)))) for k in range(count))


def draw_shift(rng: np.random.Generator, max_shift: int = MAX_SHIFT) -> tuple[int, int]:
    """A grid shift ``(i, j)``, each uniform on 0..``max_shift`` (FBCNN Eq. 5: 0..7)."""
    if not 0 <= max_shift <= MAX_SHIFT:
        raise ValueError(f"max_shift must be in 0..{MAX_SHIFT}, got {max_shift}")
    i, j = rng.integers(0, max_shift + 1, size=2)
    return int(i), int(j)


class DoubleJpeg(NamedTuple):
    """Result of :func:`random_double_jpeg`. ``compressed`` and ``reference`` are (H - i, W - j[, 3]) uint8."""

    compressed: np.ndarray
    reference: np.ndarray
    quality1: int
    quality2: int
    shift: tuple[int, int]


def random_single_jpeg(img: np.ndarray, rng: np.random.Generator, quality: QualitySpec = (10, 95),
                       subsampling: str = "4:2:0") -> tuple[np.ndarray, int]:
    """JPEG at a quality drawn with ``rng`` (see :func:`draw_quality`): returns ``(compressed, qf)``.

    img: (H, W) or (H, W, 3) uint8; ``compressed`` has the same shape and dtype. The default range is
    the paper's U[10, 95] (FBCNN §4.1).
    """
    img = as_image_array(img, "img", allow_float=False)
    qf = draw_quality(rng, quality)
    return compress(img, qf, subsampling), qf


def random_double_jpeg(img: np.ndarray, rng: np.random.Generator, quality1: QualitySpec = (10, 95),
                       quality2: QualitySpec = (10, 95), max_shift: int = MAX_SHIFT,
                       subsampling: str = "4:2:0") -> DoubleJpeg:
    """FBCNN's random non-aligned double JPEG (Eq. 5): QF1, QF2 and the shift ``(i, j)`` drawn with ``rng``.

    img: (H, W) or (H, W, 3) uint8 with H, W > ``max_shift``. The draws happen in a fixed order
    (QF1, QF2, shift), so a generator in a given state always gives the same result. ``reference``
    is a copy of ``img[i:, j:]``, the ground truth that matches ``compressed``.
    """
    img = as_image_array(img, "img", allow_float=False)
    q1 = draw_quality(rng, quality1)
    q2 = draw_quality(rng, quality2)
    i, j = draw_shift(rng, max_shift)
    out = double_jpeg(img, q1, q2, (i, j), subsampling)
    return DoubleJpeg(out, img[i:, j:].copy(), q1, q2, (i, j))
