"""The step-by-step codec (jarlib.jpeg.codec, jarlib.jpeg.islow) and its agreement with libjpeg."""

import numpy as np
import pytest
from skimage import data as skdata

from jarlib.color import to_gray_y
from jarlib.jpeg import codec, compress, islow, quant_table

RNG = np.random.default_rng(0)
ODD_SIZES = [(1, 1), (2, 3), (7, 13), (17, 33), (16, 16), (33, 17)]
QUALITIES = [10, 50, 90]


def smooth_image(h: int, w: int, channels: int | None = None) -> np.ndarray:
    """A deterministic uint8 test image: gradients plus a little noise, (h, w) or (h, w, c)."""
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(yy / 5.0) + 40 * np.cos(xx / 7.0)
    if channels is not None:
        base = np.stack([base, base[::-1] if h > 1 else base, 255 - base], axis=-1)
    noisy = base + RNG.normal(0, 8, base.shape)
    return np.clip(np.round(noisy), 0, 255).astype(np.uint8)


# ---------------------------------------------------------------- the steps

def test_dct_orthonormal_and_invertible():
    blocks = RNG.uniform(-128, 127, (3, 2, 8, 8))
    coeffs = codec.dct2(blocks)
    np.testing.assert_allclose((coeffs ** 2).sum(axis=(-2, -1)), (blocks ** 2).sum(axis=(-2, -1)))
    np.testing.assert_allclose(codec.idct2(coeffs), blocks, atol=1e-10)
    np.testing.assert_allclose(codec.dct2(np.full((8, 8), 10.0))[0, 0], 80.0)  # DC = 8 x mean


def test_dct_basis_is_cosine():
    u, v = 1, 2
    impulse = np.zeros((8, 8))
    impulse[u, v] = 1.0
    n = np.arange(8)
    cu, cv = np.sqrt(2 / 8), np.sqrt(2 / 8)
    expected = np.outer(cu * np.cos((2 * n + 1) * u * np.pi / 16), cv * np.cos((2 * n + 1) * v * np.pi / 16))
    np.testing.assert_allclose(codec.idct2(impulse), expected, atol=1e-12)


@pytest.mark.parametrize("shape", ODD_SIZES)
def test_split_merge_round_trip(shape):
    plane = RNG.integers(0, 256, shape, dtype=np.uint8)
    before = plane.copy()
    blocks = codec.split_blocks(plane)
    assert blocks.shape == (-(-shape[0] // 8), -(-shape[1] // 8), 8, 8)
    assert blocks.dtype == np.uint8
    np.testing.assert_array_equal(codec.merge_blocks(blocks, shape), plane)
    # edge padding repeats the last column and row
    padded = codec.merge_blocks(blocks, (blocks.shape[0] * 8, blocks.shape[1] * 8))
    np.testing.assert_array_equal(padded[:shape[0], -1], plane[:, -1])
    np.testing.assert_array_equal(padded[-1, :shape[1]], plane[-1])
    np.testing.assert_array_equal(plane, before)


def test_block_layout():
    plane = np.arange(16 * 24, dtype=np.int32).reshape(16, 24)
    blocks = codec.split_blocks(plane)
    np.testing.assert_array_equal(blocks[1, 2], plane[8:16, 16:24])


def test_quantize_dequantize():
    table = quant_table(50)
    coeffs = RNG.uniform(-500, 500, (4, 8, 8))
    before = coeffs.copy()
    q = codec.quantize(coeffs, table)
    assert q.dtype == np.int32
    err = np.abs(codec.dequantize(q, table) - coeffs)
    assert np.all(err <= table / 2 + 1e-9)
    np.testing.assert_array_equal(codec.quantize(codec.dequantize(q, table), table), q)
    np.testing.assert_array_equal(coeffs, before)


@pytest.mark.parametrize("shape", ODD_SIZES)
def test_420_shapes(shape):
    plane = RNG.integers(0, 256, shape, dtype=np.uint8)
    small = codec.downsample_420(plane)
    assert small.shape == ((shape[0] + 1) // 2, (shape[1] + 1) // 2) and small.dtype == np.uint8
    assert codec.upsample_420(small, shape).shape == shape
    assert codec.upsample_nearest(small, shape).shape == shape


def test_420_constant_and_bias():
    flat = np.full((6, 10), 77, dtype=np.uint8)
    np.testing.assert_array_equal(codec.downsample_420(flat), 77)
    np.testing.assert_array_equal(codec.upsample_420(codec.downsample_420(flat), (6, 10)), 77)
    # a 2x2 sum of 2 (mean 0.5) rounds down then up: bias 1, 2, 1, 2
    halves = np.tile(np.array([[1, 0], [0, 0]], dtype=np.uint8), (1, 2)) * 2
    np.testing.assert_array_equal(codec.downsample_420(halves), [[0, 1]])


def test_islow_fdct_is_8x_float_dct():
    blocks = RNG.integers(-128, 128, (5, 8, 8))
    np.testing.assert_allclose(islow.fdct(blocks) / 8, codec.dct2(blocks), atol=1.0)


def test_islow_colour_conversion_close_to_float():
    from jarlib.color import rgb_to_ycbcr
    rgb = RNG.integers(0, 256, (20, 20, 3), dtype=np.uint8)
    ycc = islow.rgb_to_ycbcr(rgb)
    assert np.abs(ycc - rgb_to_ycbcr(rgb)).max() <= 0.5 + 1e-3
    assert np.abs(islow.ycbcr_to_rgb(ycc).astype(int) - rgb).max() <= 2


# ---------------------------------------------------------------- the codec

@pytest.mark.parametrize("shape", ODD_SIZES)
@pytest.mark.parametrize("channels", [None, 3])
def test_round_trip_any_size(shape, channels):
    img = smooth_image(*shape, channels)
    before = img.copy()
    coeffs = codec.encode(img, 75)
    out = codec.decode(coeffs)
    assert out.shape == img.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - img).mean() < 12
    np.testing.assert_array_equal(img, before)


def test_coefficients_layout():
    img = smooth_image(17, 33, 3)
    c420, c444 = codec.encode(img, 50, "4:2:0"), codec.encode(img, 50, "4:4:4")
    assert [c.shape for c in c420.components] == [(3, 5, 8, 8), (2, 3, 8, 8), (2, 3, 8, 8)]
    assert [c.shape for c in c444.components] == [(3, 5, 8, 8)] * 3
    assert all(c.dtype == np.int32 for c in c420.components)
    np.testing.assert_array_equal(c420.tables[1], quant_table(50, chroma=True))
    assert c420.is_color and c420.shape == img.shape and c420.quality == 50


def test_gray_with_channel_axis():
    img = smooth_image(9, 11)[..., None]
    assert codec.roundtrip(img, 50).shape == (9, 11, 1)


def test_higher_quality_is_closer():
    img = smooth_image(32, 32)
    err = [np.abs(codec.roundtrip(img, q).astype(int) - img).mean() for q in (10, 50, 95)]
    assert err[0] > err[1] > err[2]


@pytest.mark.parametrize("shape", [(1, 1), (3, 5), (7, 13), (17, 33)])
@pytest.mark.parametrize("channels", [None, 3])
@pytest.mark.parametrize("subsampling", ["4:2:0", "4:4:4"])
def test_islow_bit_exact_with_libjpeg_odd_sizes(shape, channels, subsampling):
    img = smooth_image(*shape, channels)
    for q in (10, 75):
        np.testing.assert_array_equal(codec.roundtrip(img, q, subsampling, dct="islow"),
                                      compress(img, q, subsampling))


# ---------------------------------------------------------------- agreement with libjpeg

@pytest.fixture(scope="module")
def live1_few(datasets_available):
    from jarlib.data import load_dataset
    return [img for _, img in load_dataset("live1_gray", limit=3)]


@pytest.fixture(scope="module")
def samples_gray():
    return [skdata.camera()[::2, ::2], to_gray_y(skdata.astronaut())[::2, ::2]]


def _assert_targets(img, q, dct="float", subsampling="4:2:0", min_within=90.0):
    """The issue's targets for one image: |PSNR difference| < 0.02 dB, most pixels within one level."""
    r = codec.compare_with_libjpeg(img, q, subsampling, dct)
    assert abs(r["psnr_diff"]) < 0.02, r
    assert r["within_one"] >= min_within, r
    return r


@pytest.mark.parametrize("q", QUALITIES)
def test_float_agrees_with_libjpeg(live1_few, samples_gray, q):
    # Target: >= 95 % within one level on average (single images go down to ~93.7 % at QF90).
    within = [_assert_targets(img, q)["within_one"] for img in live1_few + samples_gray]
    assert np.mean(within) >= 95.0, within


@pytest.mark.parametrize("q", QUALITIES)
def test_float_colour_close_to_libjpeg(q):
    # Colour adds colour-conversion rounding: the float path is ~93-99.7 % within one level.
    _assert_targets(skdata.chelsea()[::2, ::2], q, min_within=90.0)


@pytest.mark.parametrize("q", QUALITIES)
def test_islow_bit_exact_with_libjpeg(live1_few, q):
    for img in [live1_few[0], skdata.astronaut()[::2, ::2]]:
        r = codec.compare_with_libjpeg(img, q, dct="islow")
        assert r["identical"] == 100.0 and r["psnr_diff"] == 0.0, r


# ---------------------------------------------------------------- errors

@pytest.mark.parametrize("img, error, match", [
    (np.zeros((8, 8), dtype=np.int16), TypeError, "dtype"),
    (np.zeros((8, 8), dtype=np.float32), TypeError, "dtype"),
    ([[0, 1], [2, 3]], TypeError, "numpy array"),
    (np.zeros((8, 8, 4), dtype=np.uint8), ValueError, "shape"),
    (np.zeros((2, 8, 8, 3), dtype=np.uint8), ValueError, "shape"),
    (np.zeros((0, 8), dtype=np.uint8), ValueError, "empty"),
])
def test_encode_rejects_bad_images(img, error, match):
    with pytest.raises(error, match=match):
        codec.encode(img, 50)


@pytest.mark.parametrize("kwargs, error, match", [
    ({"quality": 0}, ValueError, "quality"),
    ({"quality": 101}, ValueError, "quality"),
    ({"quality": 50.5}, TypeError, "quality"),
    ({"quality": 50, "subsampling": "4:1:1"}, ValueError, "subsampling"),
    ({"quality": 50, "dct": "fast"}, ValueError, "dct"),
])
def test_encode_rejects_bad_options(kwargs, error, match):
    with pytest.raises(error, match=match):
        codec.encode(np.zeros((8, 8), dtype=np.uint8), **kwargs)


def test_decode_rejects_non_coefficients():
    with pytest.raises(TypeError, match="JpegCoefficients"):
        codec.decode(b"\xff\xd8 not coefficients")


def test_block_helpers_reject_bad_shapes():
    with pytest.raises(ValueError):
        codec.split_blocks(np.zeros((8, 8, 3)))
    with pytest.raises(ValueError):
        codec.merge_blocks(np.zeros((2, 2, 8, 7)), (16, 14))
    with pytest.raises(ValueError):
        codec.merge_blocks(np.zeros((2, 2, 8, 8)), (17, 16))
    with pytest.raises(ValueError):
        codec.upsample_420(np.zeros((2, 2), dtype=np.uint8), (8, 8))
