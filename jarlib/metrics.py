"""Image-quality metrics with their conventions written down: PSNR, SSIM (two windows), PSNR-B.

Arguments are always ``(reference, test)``; inputs are never modified. Two kinds of input:

- **numpy**: (H, W) or (H, W, C) uint8, or float in [0, 255]; ``data_range`` defaults to 255;
  the result is a Python ``float``.
- **torch**: (N, C, H, W) or (C, H, W) float in [0, 1]; ``data_range`` defaults to 1; the result
  is a tensor of per-image values, shape (N,) (or a 0-d tensor for a (C, H, W) input). The maths
  runs in the input's dtype on its device, batched (the training engine validates with these).

Both kinds share one implementation, so they agree to rounding (``tests/test_metrics.py``).
Colour images are scored per channel and averaged (SSIM) or over all channels at once (PSNR).

The conventions each paper uses (docs/conventions.md). Every row was checked against the papers'
"JPEG (no restoration)" rows (``jarlib.jpeg_rows``, ``benchmarks/paper_jpeg_rows.py``):

================  ==========================  =======  ================  ===================================
``convention``    encoder (how inputs made)   scored   SSIM window       PSNR-B
================  ==========================  =======  ================  ===================================
``fbcnn_gray``    Pillow, gray JPEG of Y      Y        gaussian11        :func:`psnrb` (BEF of the test Y)
``fbcnn_color``   Pillow, 4:2:0               RGB      gaussian11 / ch.  :func:`psnrb_fbcnn_color`
``fbcnn_double``  Pillow, JPEG-shift(4,4)-JPEG Y       gaussian11        :func:`psnrb_fbcnn_double`
``qgcn_gray``     any libjpeg, gray JPEG of Y Y        uniform8          :func:`psnrb`
``qgcn_color``    IJG libjpeg 9b, 4:2:0 [1]_  RGB      uniform8 / ch.    :func:`psnrb_qgcn_color`
``arcnn``         MATLAB ``imwrite`` = Pillow Y        uniform8          :func:`psnrb`
================  ==========================  =======  ================  ===================================

Y is always MATLAB ``rgb2ycbcr`` luma (:func:`jarlib.color.rgb_to_y`), never Pillow's ``convert("L")``.

- **gaussian11**: 11x11 Gaussian window, sigma 1.5 (Wang et al. 2004; KAIR/FBCNN ``calculate_ssim``;
  identical to ``skimage.metrics.structural_similarity(gaussian_weights=True, sigma=1.5,
  use_sample_covariance=False)``).
- **uniform8**: 8x8 uniform window of the ARCNN MATLAB script ``compute_errors.m`` (QGCN, the DCSC
  erratum, Dual priors). It reads 0.013-0.021 higher than gaussian11 on JPEG inputs (docs/conventions.md).
- Both: "valid" region only (no padding), K1 = 0.01, K2 = 0.03, population (co)variances.
- **PSNR-B** (Yim & Bovik 2011): 10 log10(R^2 / (MSE + BEF)), the blocking-effect factor BEF computed
  on the *test* image with MATLAB ``compute_bef``'s fractional boundary counts N_hb = H (W/8 - 1),
  N_vb = W (H/8 - 1) (exact counts read higher on BSDS500, whose sides are not whole blocks;
  docs/conventions.md, The JPEG baseline).

.. [1] QGCN's colour JPEG rows were made with the IJG libjpeg 9b of their day; today's Pillow
   (libjpeg-turbo) reads 0.09-0.12 dB higher, so they do not reproduce (``jarlib.jpeg_rows``).
   QGCN's LIVE1 colour SSIM also looks like scikit-image's default 7x7 window; we use uniform8.

Taught in ``notebooks/01_artifacts_and_metrics.ipynb``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Callable, Union

import numpy as np
import torch
import torch.nn.functional as F
from scipy import ndimage

from jarlib._checks import as_image_array
from jarlib.block import BLOCK
from jarlib.color import rgb_to_y, rgb_to_ycbcr

Image = Union[np.ndarray, torch.Tensor]
Score = Union[float, torch.Tensor]

K1 = 0.01
K2 = 0.03
GAUSSIAN_SIGMA = 1.5
GAUSSIAN_SIZE = 11
UNIFORM_SIZE = 8
SSIM_WINDOWS = ("gaussian11", "uniform8")


# --------------------------------------------------------------------------------------------
# Input handling: everything becomes "planes" of shape (..., C, H, W) in a float dtype.
# --------------------------------------------------------------------------------------------

def _torch_planes(img: object, name: str) -> torch.Tensor:
    if not isinstance(img, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor like the other argument, got {type(img).__name__}")
    if not img.is_floating_point():
        raise TypeError(f"{name} must be a float tensor in [0, 1], got {img.dtype}")
    if img.ndim not in (3, 4):
        raise ValueError(f"{name} must be (N, C, H, W) or (C, H, W), got shape {tuple(img.shape)}")
    if img.numel() == 0:
        raise ValueError(f"{name} is empty (shape {tuple(img.shape)})")
    if img.dtype in (torch.float16, torch.bfloat16):
        return img.float()
    return img


def _numpy_planes(img: object, name: str) -> np.ndarray:
    if not isinstance(img, np.ndarray):
        raise TypeError(f"{name} must be a numpy array like the other argument, got {type(img).__name__}")
    img = as_image_array(img, name)
    planes = img[None] if img.ndim == 2 else np.moveaxis(img, -1, 0)  # (C, H, W), a view
    return planes.astype(np.float64)  # a new array: the caller's is never touched


def _planes(reference: Image, test: Image, data_range: float | None) -> tuple[Image, Image, float]:
    """(reference, test) as float planes (..., C, H, W) with the data range to use."""
    if isinstance(reference, torch.Tensor) or isinstance(test, torch.Tensor):
        ref, tst = _torch_planes(reference, "reference"), _torch_planes(test, "test")
        if ref.dtype != tst.dtype:
            ref, tst = ref.to(torch.promote_types(ref.dtype, tst.dtype)), tst.to(torch.promote_types(ref.dtype, tst.dtype))
        default = 1.0
    elif isinstance(reference, np.ndarray):
        ref, tst = _numpy_planes(reference, "reference"), _numpy_planes(test, "test")
        default = 255.0
    else:
        raise TypeError(f"reference must be a numpy array or a torch.Tensor, got {type(reference).__name__}")
    if tuple(ref.shape) != tuple(tst.shape):
        raise ValueError(f"reference and test shapes differ: {tuple(reference.shape)} vs {tuple(test.shape)}")
    if data_range is None:
        data_range = default
    if not data_range > 0:
        raise ValueError(f"data_range must be positive, got {data_range}")
    return ref, tst, float(data_range)


def _result(value: Image) -> Score:
    """numpy 0-d -> float; tensors stay tensors (per image)."""
    return value if isinstance(value, torch.Tensor) else float(value)


def _mean_chw(x: Image) -> Image:
    return x.mean(axis=(-3, -2, -1))


def _sum_chw(x: Image) -> Image:
    return x.sum(axis=(-3, -2, -1))


def _log10(x: Image) -> Image:
    if isinstance(x, torch.Tensor):
        return torch.log10(x)
    with np.errstate(divide="ignore"):
        return np.log10(x)


def _psnr_from_mse(mse: Image, data_range: float) -> Image:
    """10 log10(R^2 / mse); +inf where mse == 0 (identical images)."""
    if isinstance(mse, torch.Tensor):
        return 10.0 * torch.log10(data_range ** 2 / mse)
    with np.errstate(divide="ignore"):
        return 10.0 * np.log10(data_range ** 2 / mse)


# --------------------------------------------------------------------------------------------
# PSNR
# --------------------------------------------------------------------------------------------

def mse(reference: Image, test: Image) -> Score:
    """Mean squared error over all pixels and channels, in the input's units (no scaling)."""
    ref, tst, _ = _planes(reference, test, None)
    return _result(_mean_chw((ref - tst) ** 2))


def psnr(reference: Image, test: Image, data_range: float | None = None) -> Score:
    """Peak signal-to-noise ratio in dB: 10 log10(R^2 / MSE), MSE over all pixels and channels.

    Identical images give ``inf`` (a float ``inf`` or an ``inf`` entry in the tensor), never an
    error. Colour inputs give RGB PSNR (FBCNN Table 2, QGCN Table II); for the papers' gray numbers
    pass MATLAB Y images. numpy: R defaults to 255; torch (N, C, H, W) in [0, 1]: R defaults to 1.
    """
    ref, tst, r = _planes(reference, test, data_range)
    return _result(_psnr_from_mse(_mean_chw((ref - tst) ** 2), r))


def psnr_ycbcr(reference: np.ndarray, test: np.ndarray) -> dict[str, float]:
    """PSNR of each plane JPEG codes, ``{"Y", "Cb", "Cr"}`` in dB: where a colour error lives.

    numpy (H, W, 3) RGB, uint8 or float in [0, 255]; the planes are the full-range JFIF ones
    (:func:`jarlib.color.rgb_to_ycbcr`, T.871), each scored with R = 255. A change added equally to
    R, G and B moves only Y; 4:2:0 subsampling and the coarse chroma table put error into Cb and Cr.
    (Not the papers' MATLAB Y: for their gray numbers use :func:`psnr` on :func:`jarlib.color.rgb_to_y`.)
    """
    ref, tst = rgb_to_ycbcr(reference), rgb_to_ycbcr(test)  # each checks its image; psnr the shapes
    return {name: psnr(ref[..., i], tst[..., i]) for i, name in enumerate(("Y", "Cb", "Cr"))}


# --------------------------------------------------------------------------------------------
# SSIM
# --------------------------------------------------------------------------------------------

def gaussian_kernel1d(size: int = GAUSSIAN_SIZE, sigma: float = GAUSSIAN_SIGMA) -> np.ndarray:
    """Normalised 1-D Gaussian taps (the 2-D window is their outer product, like ``fspecial``)."""
    t = np.arange(size, dtype=np.float64) - (size - 1) / 2.0
    k = np.exp(-(t ** 2) / (2.0 * sigma ** 2))
    return k / k.sum()


def ssim_kernel1d(window: str) -> np.ndarray:
    """The separable 1-D taps of an SSIM window: ``"gaussian11"`` or ``"uniform8"``."""
    if window == "gaussian11":
        return gaussian_kernel1d()
    if window == "uniform8":
        return np.full(UNIFORM_SIZE, 1.0 / UNIFORM_SIZE)
    raise ValueError(f"window must be one of {SSIM_WINDOWS}, got {window!r}")


def _filter_valid(x: Image, taps: np.ndarray) -> Image:
    """Separable 'valid' correlation over the last two axes: (..., H, W) -> (..., H-k+1, W-k+1).

    numpy: two ``scipy.ndimage`` 1-D passes (a running sum for the uniform window), then the valid
    part is cut out. torch: ``avg_pool2d`` for the uniform window, else two grouped 1-D ``conv2d``
    passes over all planes at once (fast on CPU and GPU).
    """
    k = len(taps)
    h, w = x.shape[-2] - k + 1, x.shape[-1] - k + 1
    uniform = bool(np.all(taps == taps[0]))
    if isinstance(x, torch.Tensor):
        planes = x.reshape(1, -1, *x.shape[-2:])  # (1, B, H, W)
        if uniform:
            return F.avg_pool2d(planes, k, stride=1).reshape(*x.shape[:-2], h, w)
        b = planes.shape[1]
        t = torch.as_tensor(taps, dtype=x.dtype, device=x.device)
        out = F.conv2d(planes, t.view(1, 1, k, 1).expand(b, 1, k, 1), groups=b)
        out = F.conv2d(out, t.view(1, 1, 1, k).expand(b, 1, 1, k), groups=b)  # (1, B, h, w)
        return out.reshape(*x.shape[:-2], h, w)
    s = k // 2  # scipy centres a k-tap window on tap k // 2; filter the contiguous axis first
    if uniform:
        cols = ndimage.uniform_filter1d(x, k, axis=-1, mode="constant")[..., :, s:s + w]
        return ndimage.uniform_filter1d(cols, k, axis=-2, mode="constant")[..., s:s + h, :]
    cols = ndimage.correlate1d(x, taps, axis=-1, mode="constant")[..., :, s:s + w]
    return ndimage.correlate1d(cols, taps, axis=-2, mode="constant")[..., s:s + h, :]


def _ssim_map(ref: Image, tst: Image, taps: np.ndarray, data_range: float) -> Image:
    """SSIM index of every valid window position, (..., C, H, W) -> (..., C, H-k+1, W-k+1)."""
    c1, c2 = (K1 * data_range) ** 2, (K2 * data_range) ** 2
    stack = torch.stack if isinstance(ref, torch.Tensor) else np.stack
    moments = _filter_valid(stack([ref, tst, ref * ref, tst * tst, ref * tst]), taps)  # one pass
    mu_r, mu_t = moments[0], moments[1]
    var_r = moments[2] - mu_r * mu_r
    var_t = moments[3] - mu_t * mu_t
    cov = moments[4] - mu_r * mu_t
    num = (2 * mu_r * mu_t + c1) * (2 * cov + c2)
    den = (mu_r * mu_r + mu_t * mu_t + c1) * (var_r + var_t + c2)
    return num / den


def ssim_map(reference: Image, test: Image, window: str = "gaussian11",
             data_range: float | None = None) -> Image:
    """The SSIM map over the valid region: numpy (C, H-k+1, W-k+1) float64; torch (..., C, H', W').

    k = 11 for ``gaussian11``, 8 for ``uniform8``. Its mean is :func:`ssim`.
    """
    ref, tst, r = _planes(reference, test, data_range)
    taps = ssim_kernel1d(window)
    _check_window_fits(ref, taps, window)
    return _ssim_map(ref, tst, taps, r)


def _check_window_fits(planes: Image, taps: np.ndarray, window: str) -> None:
    if planes.shape[-2] < len(taps) or planes.shape[-1] < len(taps):
        raise ValueError(f"images of {planes.shape[-2]}x{planes.shape[-1]} pixels are smaller than "
                         f"the {window} window")


def ssim(reference: Image, test: Image, window: str = "gaussian11", data_range: float | None = None) -> Score:
    """Structural similarity, mean over the valid region; colour: per channel, then averaged.

    window: ``"gaussian11"`` (FBCNN, KAIR, Wang et al.'s ``ssim_index`` default) or ``"uniform8"``
    (ARCNN ``compute_errors.m``: QGCN, DCSC erratum, Dual priors). Never mix the two in one table:
    uniform8 reads 0.013-0.021 higher on JPEG inputs (docs/conventions.md).
    """
    ref, tst, r = _planes(reference, test, data_range)
    taps = ssim_kernel1d(window)
    _check_window_fits(ref, taps, window)
    if isinstance(ref, torch.Tensor):
        return _mean_chw(_ssim_map(ref, tst, taps, r))
    # numpy: one channel at a time keeps the temporaries small (about 20% faster)
    return float(np.mean([_ssim_map(ref[c], tst[c], taps, r).mean() for c in range(ref.shape[0])]))


# --------------------------------------------------------------------------------------------
# PSNR-B
# --------------------------------------------------------------------------------------------

def _bef_planes(x: Image) -> Image:
    """Blocking-effect factor of planes (..., C, H, W), squared differences summed over C.

    MATLAB ``compute_bef`` with fractional boundary counts: for C = 1 this is Yim & Bovik's BEF;
    for C = 3 it is QGCN's "BEF summed over channels".
    """
    h, w = x.shape[-2], x.shape[-1]
    dh = (x[..., :, 1:] - x[..., :, :-1]) ** 2  # (..., C, H, W-1): pairs (j, j+1)
    dv = (x[..., 1:, :] - x[..., :-1, :]) ** 2  # (..., C, H-1, W)
    d_hb, d_vb = _sum_chw(dh[..., :, BLOCK - 1::BLOCK]), _sum_chw(dv[..., BLOCK - 1::BLOCK, :])
    d_hbc, d_vbc = _sum_chw(dh) - d_hb, _sum_chw(dv) - d_vb
    n_hb, n_vb = h * (w / BLOCK - 1), w * (h / BLOCK - 1)  # fractional, as MATLAB
    n_hbc, n_vbc = h * (w - 1) - n_hb, w * (h - 1) - n_vb
    d_b = (d_hb + d_vb) / (n_hb + n_vb)
    d_bc = (d_hbc + d_vbc) / (n_hbc + n_vbc)
    eta = math.log2(BLOCK) / math.log2(min(h, w))
    diff = d_b - d_bc
    return eta * (diff.clamp(min=0) if isinstance(diff, torch.Tensor) else np.maximum(diff, 0.0))


def _check_block_size(x: Image, name: str) -> None:
    if x.shape[-2] < 2 * BLOCK or x.shape[-1] < 2 * BLOCK:
        raise ValueError(f"{name} must be at least 16x16 for PSNR-B (it needs a block boundary), "
                         f"got {x.shape[-2]}x{x.shape[-1]}")


def blocking_effect_factor(test: Image) -> Score:
    """BEF of a gray image (Yim & Bovik 2011, MATLAB ``compute_bef``): how much larger the squared
    neighbour differences are across the 8x8 block boundaries than inside blocks.

    BEF = eta * max(D_B - D_BC, 0), eta = log2(8) / log2(min(H, W)); D_B (D_BC) is the mean squared
    difference of horizontally and vertically adjacent pixel pairs that straddle (do not straddle) a
    block boundary, with the fractional counts N_hb = H (W/8 - 1), N_vb = W (H/8 - 1). Units: the
    image's squared units. numpy (H, W) -> float; torch (N, 1, H, W) -> (N,).
    """
    planes = test if isinstance(test, torch.Tensor) else None
    if planes is None:
        planes = _numpy_planes(test, "test")
    else:
        planes = _torch_planes(test, "test")
    if planes.shape[-3] != 1:
        raise ValueError(f"blocking_effect_factor takes a gray image; got {planes.shape[-3]} channels")
    _check_block_size(planes, "test")
    return _result(_bef_planes(planes))


def _psnrb(ref: Image, tst: Image, bef_source: Image, r: float) -> Image:
    _check_block_size(tst, "test")
    return _psnr_from_mse(_mean_chw((ref - tst) ** 2) + _bef_planes(bef_source), r)


def psnrb(reference: Image, test: Image, data_range: float | None = None) -> Score:
    """PSNR-B of a gray image: 10 log10(R^2 / (MSE + BEF(test))) (Yim & Bovik 2011; MATLAB).

    BEF is computed on the *test* image only (:func:`blocking_effect_factor`). numpy (H, W) or
    (H, W, 1); torch (N, 1, H, W). Colour images raise ``ValueError``: the papers disagree on colour
    PSNR-B, choose :func:`psnrb_fbcnn_color` or :func:`psnrb_qgcn_color`.
    """
    ref, tst, r = _planes(reference, test, data_range)
    if ref.shape[-3] != 1:
        raise ValueError("psnrb takes gray images; for colour use psnrb_fbcnn_color or psnrb_qgcn_color")
    return _result(_psnrb(ref, tst, tst, r))


def _rgb_planes(ref: Image, name: str) -> None:
    if ref.shape[-3] != 3:
        raise ValueError(f"{name} needs RGB images (3 channels), got {ref.shape[-3]}")


def psnrb_fbcnn_color(reference: Image, test: Image, data_range: float | None = None) -> Score:
    """FBCNN's colour PSNR-B (FBCNN Table 2): MSE over all RGB values + BEF of the *test image's Y*.

    Y is MATLAB ``rgb2ycbcr`` luma (:func:`jarlib.color.rgb_to_y`), rounded to uint8 when ``test``
    is a uint8 array (as KAIR's ``rgb2ycbcr`` does), not rounded for float arrays and tensors.
    numpy (H, W, 3) RGB; torch (N, 3, H, W) in [0, 1].
    """
    ref, tst, r = _planes(reference, test, data_range)
    _rgb_planes(ref, "psnrb_fbcnn_color")
    y = rgb_to_y(test)  # numpy (H, W) or torch (..., 1, H, W)
    y = _numpy_planes(y, "test Y") if isinstance(y, np.ndarray) else y.to(tst.dtype)
    return _result(_psnrb(ref, tst, y, r))


def psnrb_qgcn_color(reference: Image, test: Image, data_range: float | None = None) -> Score:
    """QGCN's colour PSNR-B (QGCN Table II): MSE over all RGB values + BEF summed over R, G, B.

    The boundary differences of the three channels are added up but divided by the pixel-pair
    counts of one channel, so this BEF is about 3x a gray BEF and the numbers read ~3 dB below
    FBCNN's definition. numpy (H, W, 3) RGB; torch (N, 3, H, W) in [0, 1].
    """
    ref, tst, r = _planes(reference, test, data_range)
    _rgb_planes(ref, "psnrb_qgcn_color")
    return _result(_psnrb(ref, tst, tst, r))


# --------------------------------------------------------------------------------------------
# Named conventions
# --------------------------------------------------------------------------------------------

def _gray_as_rgb(img: Image) -> Image:
    if isinstance(img, torch.Tensor):
        return img.expand(*img.shape[:-3], 3, *img.shape[-2:]) if img.shape[-3] == 1 else img
    return np.repeat(img[..., None], 3, axis=-1) if img.ndim == 2 else np.repeat(img[..., :1], 3, axis=-1)


def psnrb_fbcnn_double(reference: Image, test: Image, data_range: float | None = None) -> Score:
    """FBCNN Table 3: the gray pair scored as three equal channels through the colour formula,
    i.e. MSE of the gray pair + BEF of round(16 + 0.8588 y)."""
    return psnrb_fbcnn_color(_gray_as_rgb(reference), _gray_as_rgb(test), data_range)


@dataclass(frozen=True)
class Convention:
    """How one paper scores an image pair (see the module docstring's table)."""

    name: str
    color: bool  # True: score RGB; False: score MATLAB Y (colour inputs are converted first)
    ssim_window: str
    psnrb: Callable[..., Score]
    encoder: str
    papers: str


CONVENTIONS: dict[str, Convention] = {
    c.name: c for c in [
        Convention("fbcnn_gray", False, "gaussian11", psnrb, "Pillow, gray JPEG of Y", "FBCNN Table 1"),
        Convention("fbcnn_color", True, "gaussian11", psnrb_fbcnn_color, "Pillow, 4:2:0", "FBCNN Table 2"),
        Convention("fbcnn_double", False, "gaussian11", psnrb_fbcnn_double,
                   "Pillow JPEG(QF1), drop 4 rows/cols, JPEG(QF2)", "FBCNN Table 3"),
        Convention("qgcn_gray", False, "uniform8", psnrb, "any libjpeg, gray JPEG of Y", "QGCN Table III"),
        Convention("qgcn_color", True, "uniform8", psnrb_qgcn_color, "IJG libjpeg 9b, 4:2:0",
                   "QGCN Table II"),
        Convention("arcnn", False, "uniform8", psnrb, "MATLAB imwrite (= Pillow for gray)",
                   "ARCNN compute_errors.m; DCSC erratum, Dual priors"),
    ]
}


def _as_y(img: Image) -> Image:
    """MATLAB Y of a colour image; gray images pass through."""
    if isinstance(img, torch.Tensor):
        return rgb_to_y(img) if img.ndim >= 3 and img.shape[-3] == 3 else img
    return rgb_to_y(img) if img.ndim == 3 and img.shape[-1] == 3 else img


def evaluate(reference: Image, test: Image, convention: str = "fbcnn_gray",
             data_range: float | None = None) -> dict[str, Score]:
    """``{"psnr", "ssim", "psnrb"}`` of one pair (numpy) or a batch (torch) under a named convention.

    convention: one of :data:`CONVENTIONS` (``fbcnn_gray``, ``fbcnn_color``, ``fbcnn_double``,
    ``qgcn_gray``, ``qgcn_color``, ``arcnn``). Gray conventions convert RGB inputs to MATLAB Y
    first; colour conventions need RGB.
    """
    try:
        conv = CONVENTIONS[convention]
    except KeyError:
        raise ValueError(f"unknown convention {convention!r}; known: {', '.join(CONVENTIONS)}") from None
    if not conv.color:
        reference, test = _as_y(reference), _as_y(test)
    return {
        "psnr": psnr(reference, test, data_range),
        "ssim": ssim(reference, test, conv.ssim_window, data_range),
        "psnrb": conv.psnrb(reference, test, data_range),
    }
