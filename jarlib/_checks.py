"""Input validation shared by the modules: clear errors naming the problem."""

from __future__ import annotations

import numbers

import numpy as np


def as_image_array(img: object, name: str = "image", *, allow_float: bool = True) -> np.ndarray:
    """Return ``img`` as a numpy array after checking it looks like an image.

    Accepts (H, W) gray or (H, W, C) with C in {1, 3}. uint8 always; float arrays when
    ``allow_float`` (values are not range-checked here). Raises ``TypeError`` for a non-array or
    a wrong dtype, ``ValueError`` for a wrong shape or an empty image. Never copies unless needed.
    """
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name} must be a numpy array, got {type(img).__name__}")
    if img.dtype == np.uint8:
        pass
    elif allow_float and np.issubdtype(img.dtype, np.floating):
        pass
    else:
        allowed = "uint8 or float" if allow_float else "uint8"
        raise TypeError(f"{name} must have dtype {allowed}, got {img.dtype}")
    if img.ndim == 3 and img.shape[2] not in (1, 3):
        raise ValueError(f"{name} must be (H, W) or (H, W, 3), got shape {img.shape}")
    if img.ndim not in (2, 3):
        raise ValueError(f"{name} must be (H, W) or (H, W, 3), got shape {img.shape}")
    if img.shape[0] == 0 or img.shape[1] == 0:
        raise ValueError(f"{name} is empty (shape {img.shape})")
    return img


def check_quality(quality: object, name: str = "quality") -> int:
    """Return ``quality`` as an int after checking it is an integer in 1..100."""
    if isinstance(quality, bool) or not isinstance(quality, numbers.Integral):
        raise TypeError(f"{name} must be an integer in 1..100, got {quality!r}")
    q = int(quality)
    if not 1 <= q <= 100:
        raise ValueError(f"{name} must be in 1..100, got {q}")
    return q
