"""jarlib.color: JFIF YCbCr and the MATLAB Y the papers evaluate on."""

import numpy as np
import pytest
import torch

from jarlib import color


def test_jfif_round_trip_and_known_values():
    rng = np.random.default_rng(0)
    rgb = rng.integers(0, 256, size=(17, 9, 3), dtype=np.uint8)
    before = rgb.copy()
    back = color.ycbcr_to_rgb(color.rgb_to_ycbcr(rgb))
    np.testing.assert_allclose(back, rgb, atol=1e-6)
    assert np.array_equal(rgb, before), "input was modified"
    # White is Y=255, Cb=Cr=128; pure red has Cr at its maximum 255.5 - tiny.
    white = color.rgb_to_ycbcr(np.full((1, 1, 3), 255, np.uint8))[0, 0]
    np.testing.assert_allclose(white, [255, 128, 128], atol=1e-6)
    red = color.rgb_to_ycbcr(np.array([[[255, 0, 0]]], np.uint8))[0, 0]
    np.testing.assert_allclose(red, [76.245, 84.972, 255.5], atol=1e-3)


def test_matlab_y_known_values():
    # MATLAB rgb2ycbcr(uint8([0 0 0; 255 255 255])) luma: 16 and 235.
    rgb = np.array([[[0, 0, 0], [255, 255, 255]]], np.uint8)
    assert color.rgb_to_y(rgb).tolist() == [[16, 235]]
    # Float input is not rounded.
    y = color.rgb_to_y(np.array([[[255.0, 0.0, 0.0]]]))
    assert y[0, 0] == pytest.approx(16 + 65.481)


def test_matlab_y_torch_matches_numpy():
    rng = np.random.default_rng(1)
    rgb = rng.integers(0, 256, size=(5, 6, 3), dtype=np.uint8)
    t = torch.from_numpy(rgb).permute(2, 0, 1)[None].double() / 255
    yt = color.rgb_to_y(t)
    assert yt.shape == (1, 1, 5, 6)
    np.testing.assert_allclose(yt[0, 0].numpy() * 255, color.rgb_to_y(rgb.astype(np.float64)), atol=1e-9)


def test_matlab_y_is_not_pillow_L():
    from PIL import Image

    rgb = np.array([[[200, 30, 90]]], np.uint8)
    pil_l = np.asarray(Image.fromarray(rgb).convert("L"))[0, 0]
    assert color.rgb_to_y(rgb)[0, 0] != pil_l  # studio swing vs full range


def test_to_gray_y_shapes():
    g = np.zeros((4, 5), np.uint8)
    assert color.to_gray_y(g) is g
    assert color.to_gray_y(np.zeros((4, 5, 1), np.uint8)).shape == (4, 5)
    assert color.to_gray_y(np.zeros((4, 5, 3), np.uint8)).shape == (4, 5)


@pytest.mark.parametrize("bad, exc", [
    (np.zeros((4, 5), np.uint8), ValueError),          # gray where RGB is needed
    (np.zeros((4, 5, 4), np.uint8), ValueError),       # RGBA
    (np.zeros((0, 5, 3), np.uint8), ValueError),       # empty
    (np.zeros((4, 5, 3), np.int64), TypeError),        # wrong dtype
    ([[1, 2, 3]], TypeError),                          # not an array
])
def test_rgb_errors(bad, exc):
    with pytest.raises(exc):
        color.rgb_to_y(bad)


def test_live1_gray_is_matlab_y_of_live1_color(datasets_available):
    from jarlib.data import load_dataset

    gray = load_dataset("live1_gray")
    rgb = load_dataset("live1_color", mode="rgb")
    differing = sum(int((g != color.rgb_to_y(c)).sum()) for (_, g), (_, c) in zip(gray, rgb))
    assert differing <= 2  # of 10.4 M pixels; the shipped files were made with MATLAB
