"""jarlib.metrics: known values, agreement with scikit-image and with straightforward re-computations,
numpy vs torch, errors, and inputs left untouched. No data sets needed."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from skimage.metrics import structural_similarity

from jarlib import metrics
from jarlib.color import rgb_to_y
from jarlib.jpeg import compress


def _smooth_image(shape: tuple[int, ...], seed: int = 0) -> np.ndarray:
    """A smooth uint8 test image with some texture (JPEG makes visible blocks on it)."""
    rng = np.random.default_rng(seed)
    h, w = shape[:2]
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 9.0) * np.cos(yy / 13.0)
    extra = (3,) if len(shape) == 3 else ()
    img = base[..., None] * np.array([1.0, 0.8, 0.6]) if extra else base
    return np.clip(img + rng.normal(0, 12, size=(h, w) + extra), 0, 255).astype(np.uint8)


@pytest.fixture(scope="module")
def gray_pair() -> tuple[np.ndarray, np.ndarray]:
    img = _smooth_image((45, 61))
    return img, compress(img, 10)


@pytest.fixture(scope="module")
def color_pair() -> tuple[np.ndarray, np.ndarray]:
    img = _smooth_image((40, 52, 3), seed=1)
    return img, compress(img, 20)


def _to_tensor(img: np.ndarray) -> torch.Tensor:
    """(H, W) or (H, W, C) uint8 -> (1, C, H, W) float64 in [0, 1]."""
    t = torch.from_numpy(np.array(img, dtype=np.float64) / 255.0)
    return (t[None] if t.ndim == 2 else t.permute(2, 0, 1))[None]


# ---------------------------------------------------------------------------------------- PSNR

def test_psnr_known_mse_and_identical_images():
    ref = np.zeros((8, 8), np.uint8)
    test = np.full((8, 8), 10, np.uint8)  # MSE = 100
    assert metrics.mse(ref, test) == pytest.approx(100.0)
    assert metrics.psnr(ref, test) == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert metrics.psnr(ref, ref) == math.inf
    t = metrics.psnr(_to_tensor(ref).repeat(2, 1, 1, 1), torch.cat([_to_tensor(test), _to_tensor(ref)]))
    assert t.shape == (2,)
    assert t[0].item() == pytest.approx(10 * math.log10(255 ** 2 / 100))
    assert math.isinf(t[1].item())


def test_psnr_data_range_scales():
    ref = np.zeros((8, 8))
    test = np.full((8, 8), 0.1)
    assert metrics.psnr(ref, test, data_range=1.0) == pytest.approx(20.0)


def test_psnr_ycbcr_puts_a_grey_change_in_y_only_and_a_colour_jpeg_error_in_the_chroma():
    rng = np.random.default_rng(0)
    ref = rng.integers(20, 236, (16, 16, 3), dtype=np.uint8)
    grey_shift = ref + np.uint8(10)                 # the same on R, G, B: luma only
    planes = metrics.psnr_ycbcr(ref, grey_shift)
    assert planes["Y"] == pytest.approx(20 * math.log10(255 / 10))
    assert planes["Cb"] > 200 and planes["Cr"] > 200  # zero error, up to float rounding
    # Pillow's colour JPEG (4:2:0, chroma table) of a smooth colour image: chroma is coded coarser
    yy, xx = np.mgrid[0:64, 0:64]
    smooth = np.stack([128 + 100 * np.sin(xx / 5), 128 + 100 * np.cos(yy / 7), 128 + 60 * np.sin((xx + yy) / 3)], -1)
    smooth = smooth.astype(np.uint8)
    jpeg = metrics.psnr_ycbcr(smooth, compress(smooth, 30))
    assert jpeg["Cb"] < jpeg["Y"] and jpeg["Cr"] < jpeg["Y"]
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.psnr_ycbcr(ref, ref[:8])
    with pytest.raises(ValueError, match="RGB"):
        metrics.psnr_ycbcr(ref[..., 0], ref[..., 0])


# ---------------------------------------------------------------------------------------- SSIM

def test_ssim_gaussian_matches_skimage_gray(gray_pair):
    ref, test = gray_pair
    expected = structural_similarity(ref, test, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255)
    assert metrics.ssim(ref, test, "gaussian11") == pytest.approx(expected, abs=1e-4)


def test_ssim_gaussian_matches_skimage_color(color_pair):
    ref, test = color_pair
    expected = structural_similarity(ref, test, gaussian_weights=True, sigma=1.5,
                                     use_sample_covariance=False, data_range=255, channel_axis=-1)
    assert metrics.ssim(ref, test, "gaussian11") == pytest.approx(expected, abs=1e-4)


def _uniform8_ssim_by_hand(ref: np.ndarray, test: np.ndarray) -> float:
    """Every 8x8 window, its plain means and population (co)variances, SSIM averaged."""
    from numpy.lib.stride_tricks import sliding_window_view

    x = sliding_window_view(ref.astype(np.float64), (8, 8))  # (H-7, W-7, 8, 8)
    y = sliding_window_view(test.astype(np.float64), (8, 8))
    mx, my = x.mean(axis=(-2, -1)), y.mean(axis=(-2, -1))
    vx, vy = x.var(axis=(-2, -1)), y.var(axis=(-2, -1))
    cxy = ((x - mx[..., None, None]) * (y - my[..., None, None])).mean(axis=(-2, -1))
    c1, c2 = (0.01 * 255) ** 2, (0.03 * 255) ** 2
    s = (2 * mx * my + c1) * (2 * cxy + c2) / ((mx ** 2 + my ** 2 + c1) * (vx + vy + c2))
    return float(s.mean())


def test_ssim_uniform8_matches_direct_computation(gray_pair, color_pair):
    ref, test = gray_pair
    assert metrics.ssim(ref, test, "uniform8") == pytest.approx(_uniform8_ssim_by_hand(ref, test), abs=1e-10)
    ref, test = color_pair
    by_hand = np.mean([_uniform8_ssim_by_hand(ref[..., c], test[..., c]) for c in range(3)])
    assert metrics.ssim(ref, test, "uniform8") == pytest.approx(by_hand, abs=1e-10)


def test_ssim_window_offset_and_identity(gray_pair):
    ref, test = gray_pair
    assert metrics.ssim(ref, ref) == pytest.approx(1.0)
    assert metrics.ssim(ref, test, "uniform8") > metrics.ssim(ref, test, "gaussian11")
    assert metrics.ssim_map(ref, test, "uniform8").shape == (1, ref.shape[0] - 7, ref.shape[1] - 7)
    assert metrics.ssim_map(ref, test, "gaussian11").shape == (1, ref.shape[0] - 10, ref.shape[1] - 10)


# ---------------------------------------------------------------------------------------- PSNR-B

def _bef_by_hand(img: np.ndarray) -> float:
    """MATLAB compute_bef written out with loops over pixel pairs and fractional counts."""
    x = img.astype(np.float64)
    h, w = x.shape
    d_b = d_bc = 0.0
    for j in range(w - 1):  # horizontal neighbours (j, j+1)
        s = float(((x[:, j] - x[:, j + 1]) ** 2).sum())
        if (j + 1) % 8 == 0:
            d_b += s
        else:
            d_bc += s
    for i in range(h - 1):
        s = float(((x[i] - x[i + 1]) ** 2).sum())
        if (i + 1) % 8 == 0:
            d_b += s
        else:
            d_bc += s
    n_hb, n_vb = h * (w / 8 - 1), w * (h / 8 - 1)
    d_b /= n_hb + n_vb
    d_bc /= h * (w - 1) - n_hb + w * (h - 1) - n_vb
    return math.log2(8) / math.log2(min(h, w)) * max(d_b - d_bc, 0.0)


def test_bef_known_value_with_fractional_counts():
    img = np.zeros((20, 20), np.uint8)
    img[:, 8:] = 10  # one vertical step, on the block boundary between columns 7 and 8
    # 20 pairs of squared difference 100 over N_hb + N_vb = 20 (20/8 - 1) * 2 = 60 boundary pairs
    expected = math.log2(8) / math.log2(20) * (2000 / 60)
    assert metrics.blocking_effect_factor(img) == pytest.approx(expected)
    integer_counts = math.log2(8) / math.log2(20) * (2000 / 40)
    assert metrics.blocking_effect_factor(img) != pytest.approx(integer_counts)


def test_psnrb_on_non_multiple_of_8_matches_loops(gray_pair):
    ref, test = gray_pair  # 45 x 61
    bef = _bef_by_hand(test)
    assert bef > 0
    assert metrics.blocking_effect_factor(test) == pytest.approx(bef, rel=1e-12)
    mse = float(((ref.astype(float) - test) ** 2).mean())
    assert metrics.psnrb(ref, test) == pytest.approx(10 * math.log10(255 ** 2 / (mse + bef)), rel=1e-12)
    # BEF is of the test image only: swapping the arguments changes the result.
    assert metrics.psnrb(test, ref) != pytest.approx(metrics.psnrb(ref, test))
    assert metrics.psnrb(ref, test) < metrics.psnr(ref, test)


def test_color_psnrb_definitions(color_pair):
    ref, test = color_pair
    mse = float(((ref.astype(float) - test) ** 2).mean())
    fb = metrics.psnrb_fbcnn_color(ref, test)
    assert fb == pytest.approx(10 * math.log10(255 ** 2 / (mse + _bef_by_hand(rgb_to_y(test)))), rel=1e-12)
    befs = [_bef_by_hand(test[..., c]) for c in range(3)]
    assert min(befs) > 0  # then "BEF summed over channels" is exactly the sum of the channels' BEFs
    assert metrics.psnrb_qgcn_color(ref, test) == pytest.approx(
        10 * math.log10(255 ** 2 / (mse + sum(befs))), rel=1e-12)
    assert metrics.psnrb_qgcn_color(ref, test) < fb


def test_psnrb_rejects_colour(color_pair):
    with pytest.raises(ValueError, match="psnrb_fbcnn_color"):
        metrics.psnrb(*color_pair)


# ---------------------------------------------------------------------------------------- torch

@pytest.mark.parametrize("dtype,tol", [(torch.float64, 1e-9), (torch.float32, 1e-4)])
def test_torch_matches_numpy(gray_pair, color_pair, dtype, tol):
    for ref, test in (gray_pair, color_pair):
        rf, tf = ref.astype(np.float64), test.astype(np.float64)  # float: Y is not rounded on either side
        r = torch.cat([_to_tensor(ref), _to_tensor(test)]).to(dtype)  # a batch of 2
        t = torch.cat([_to_tensor(test), _to_tensor(test)]).to(dtype)
        fns = [(metrics.psnr, {}), (metrics.ssim, {"window": "gaussian11"}), (metrics.ssim, {"window": "uniform8"})]
        fns += [(metrics.psnrb, {})] if ref.ndim == 2 else [(metrics.psnrb_fbcnn_color, {}),
                                                            (metrics.psnrb_qgcn_color, {})]
        for fn, kw in fns:
            batch = fn(r, t, **kw)
            assert isinstance(batch, torch.Tensor) and batch.shape == (2,)
            assert batch[0].item() == pytest.approx(fn(rf, tf, **kw), rel=tol, abs=tol), fn.__name__
            single = fn(r[0], t[0], **kw)  # (C, H, W) -> 0-d tensor
            assert single.ndim == 0 and single.item() == pytest.approx(batch[0].item(), rel=1e-6)


def test_evaluate_conventions(gray_pair, color_pair):
    ref, test = color_pair
    for name in ("fbcnn_gray", "qgcn_gray", "arcnn", "fbcnn_double"):
        out = metrics.evaluate(ref, test, name)
        assert set(out) == {"psnr", "ssim", "psnrb"}
        assert out == metrics.evaluate(rgb_to_y(ref), rgb_to_y(test), name), "gray conventions score Y"
    assert metrics.evaluate(ref, test, "fbcnn_color")["ssim"] == metrics.ssim(ref, test)
    assert metrics.evaluate(ref, test, "qgcn_color")["psnrb"] == metrics.psnrb_qgcn_color(ref, test)
    g_ref, g_test = gray_pair
    double = metrics.evaluate(g_ref, g_test, "fbcnn_double")
    assert double["psnrb"] == metrics.psnrb_fbcnn_color(np.repeat(g_ref[..., None], 3, -1),
                                                        np.repeat(g_test[..., None], 3, -1))
    batch = metrics.evaluate(_to_tensor(ref), _to_tensor(test), "fbcnn_color")
    assert batch["psnr"].shape == (1,)
    with pytest.raises(ValueError, match="unknown convention"):
        metrics.evaluate(ref, test, "matlab")


# ---------------------------------------------------------------------------------------- errors

def test_errors():
    a = np.zeros((16, 16), np.uint8)
    with pytest.raises(ValueError, match="shapes differ"):
        metrics.psnr(a, np.zeros((16, 17), np.uint8))
    with pytest.raises(TypeError, match="dtype"):
        metrics.psnr(a, a.astype(np.int16))
    with pytest.raises(ValueError, match="empty"):
        metrics.psnr(np.zeros((0, 4), np.uint8), np.zeros((0, 4), np.uint8))
    with pytest.raises(TypeError, match="torch.Tensor"):
        metrics.psnr(a, torch.zeros(1, 16, 16))
    with pytest.raises(TypeError, match="numpy array or a torch.Tensor"):
        metrics.psnr([[0]], [[0]])
    with pytest.raises(TypeError, match="float tensor"):
        metrics.ssim(torch.zeros(1, 1, 16, 16, dtype=torch.uint8), torch.zeros(1, 1, 16, 16, dtype=torch.uint8))
    with pytest.raises(ValueError, match=r"\(N, C, H, W\)"):
        metrics.psnr(torch.zeros(16, 16), torch.zeros(16, 16))
    with pytest.raises(ValueError, match="window"):
        metrics.ssim(a, a, window="gaussian7")
    with pytest.raises(ValueError, match="smaller than"):
        metrics.ssim(np.zeros((7, 30), np.uint8), np.zeros((7, 30), np.uint8), "uniform8")
    with pytest.raises(ValueError, match="16x16"):
        metrics.psnrb(np.zeros((12, 30), np.uint8), np.zeros((12, 30), np.uint8))
    with pytest.raises(ValueError, match="RGB"):
        metrics.psnrb_qgcn_color(a, a)
    with pytest.raises(ValueError, match="data_range"):
        metrics.psnr(a, a, data_range=0)


def test_inputs_not_mutated(color_pair):
    ref, test = color_pair
    r0, t0 = ref.copy(), test.copy()
    tr, tt = _to_tensor(ref), _to_tensor(test)
    tr0, tt0 = tr.clone(), tt.clone()
    for conv in metrics.CONVENTIONS:
        metrics.evaluate(ref, test, conv)
        metrics.evaluate(tr, tt, conv)
    assert np.array_equal(ref, r0) and np.array_equal(test, t0)
    assert torch.equal(tr, tr0) and torch.equal(tt, tt0)
