"""Colour conversions, one owner per convention.

Two different "YCbCr"s matter in this project:

- **JFIF YCbCr** (full range, what a JPEG file stores): used by the codec in ``jarlib.jpeg``.
- **MATLAB ``rgb2ycbcr`` luma** (BT.601 studio swing, Y in [16, 235]): what the papers call "Y"
  and evaluate on (docs/conventions.md). ``LIVE1/gray`` is exactly this Y. Pillow's ``convert("L")``
  is a *different*, full-range luma: do not use it for evaluation (−0.75 dB on LIVE1 QF10).
"""

from __future__ import annotations

import sys
from typing import TYPE_CHECKING, TypeVar

import numpy as np

from jarlib._checks import as_image_array

if TYPE_CHECKING:
    import torch

ArrayOrTensor = TypeVar("ArrayOrTensor", np.ndarray, "torch.Tensor")


def _is_tensor(x: object) -> bool:
    """Whether ``x`` is a torch tensor, without importing torch (a tensor exists only once torch
    has been imported): the JPEG code and ``jarlib restore``'s input checks run without torch."""
    torch = sys.modules.get("torch")
    return torch is not None and isinstance(x, torch.Tensor)

# JFIF (ITU-T T.871) full-range matrices; rows give Y, Cb, Cr from R, G, B.
JFIF_RGB_TO_YCBCR = np.array(
    [[0.299, 0.587, 0.114],
     [-0.168735892, -0.331264108, 0.5],
     [0.5, -0.418687589, -0.081312411]]
)
JFIF_YCBCR_TO_RGB = np.array(
    [[1.0, 0.0, 1.402],
     [1.0, -0.344136286, -0.714136286],
     [1.0, 1.772, 0.0]]
)
# MATLAB rgb2ycbcr luma row for R, G, B in [0, 255]: Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255.
MATLAB_Y_WEIGHTS = np.array([65.481, 128.553, 24.966]) / 255.0


def _check_rgb(rgb: np.ndarray, name: str) -> np.ndarray:
    rgb = as_image_array(rgb, name)
    if rgb.ndim != 3 or rgb.shape[2] != 3:
        raise ValueError(f"{name} must be (H, W, 3) RGB, got shape {rgb.shape}")
    return rgb


def rgb_to_ycbcr(rgb: np.ndarray) -> np.ndarray:
    """JFIF RGB -> YCbCr, full range: (H, W, 3) uint8/float in [0, 255] -> float64 (H, W, 3).

    Y in [0, 255], Cb and Cr centred on 128. This is the transform a JPEG encoder applies
    before the DCT (T.871 §7).
    """
    rgb = _check_rgb(rgb, "rgb")
    ycc = rgb.astype(np.float64) @ JFIF_RGB_TO_YCBCR.T
    ycc[..., 1:] += 128.0
    return ycc


def ycbcr_to_rgb(ycc: np.ndarray) -> np.ndarray:
    """JFIF YCbCr -> RGB, full range: (H, W, 3) float -> float64 (H, W, 3), not clipped or rounded."""
    ycc = _check_rgb(ycc, "ycc")
    centred = ycc.astype(np.float64).copy()
    centred[..., 1:] -= 128.0
    return centred @ JFIF_YCBCR_TO_RGB.T


def rgb_to_y(rgb: ArrayOrTensor) -> ArrayOrTensor:
    """MATLAB ``rgb2ycbcr`` luma, the "Y" every paper evaluates on (BT.601 studio swing).

    - numpy (H, W, 3) uint8 -> (H, W) uint8, rounded to the nearest level.
    - numpy (H, W, 3) float in [0, 255] -> (H, W) float64, not rounded.
    - torch (..., 3, H, W) float in [0, 1] -> (..., 1, H, W) float in [16/255, 235/255], not rounded.

    Y = 16 + (65.481 R + 128.553 G + 24.966 B) / 255 with R, G, B in [0, 255] (docs/conventions.md).
    """
    if _is_tensor(rgb):
        import torch

        if rgb.ndim < 3 or rgb.shape[-3] != 3:
            raise ValueError(f"rgb tensor must be (..., 3, H, W), got shape {tuple(rgb.shape)}")
        if not rgb.is_floating_point():
            raise TypeError(f"rgb tensor must be float in [0, 1], got {rgb.dtype}")
        w = torch.as_tensor(MATLAB_Y_WEIGHTS, dtype=rgb.dtype, device=rgb.device).view(3, 1, 1)
        return (rgb * w).sum(dim=-3, keepdim=True) + 16.0 / 255.0
    rgb = _check_rgb(rgb, "rgb")
    x = rgb.astype(np.float64)
    # Summed in this order, and rounded, the result matches the shipped LIVE1/gray (the MATLAB Y
    # of LIVE1/color) on all but 2 of its 6.3 M pixels (tests/test_color.py).
    y = 16.0 + x[..., 0] * MATLAB_Y_WEIGHTS[0] + x[..., 1] * MATLAB_Y_WEIGHTS[1] + x[..., 2] * MATLAB_Y_WEIGHTS[2]
    if rgb.dtype == np.uint8:
        return np.round(y).astype(np.uint8)
    return y


def to_gray_y(img: np.ndarray) -> np.ndarray:
    """Gray image for evaluation: MATLAB Y of an RGB uint8 image; a gray image is returned as is.

    (H, W) or (H, W, 1) or (H, W, 3) uint8 -> (H, W) uint8.
    """
    img = as_image_array(img, "img", allow_float=False)
    if img.ndim == 2:
        return img
    if img.shape[2] == 1:
        return img[..., 0]
    return rgb_to_y(img)
