"""jarlib.widgets: the pure functions behind the explorer, and the widget built headless."""

from __future__ import annotations

import base64

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
from scipy.fft import dctn  # noqa: E402

from jarlib import widgets  # noqa: E402


def _image(color: bool = False) -> np.ndarray:
    rng = np.random.default_rng(0)
    yy, xx = np.mgrid[0:48, 0:56]
    base = 128 + 80 * np.sin(xx / 5.0) * np.cos(yy / 7.0)
    if color:
        base = base[..., None] * np.array([1.0, 0.7, 0.4])
    return np.clip(base + rng.normal(0, 5, base.shape), 0, 255).astype(np.uint8)


def test_jpeg_metrics_improve_with_quality():
    img = _image()
    low, high = widgets.jpeg_metrics(img, 10), widgets.jpeg_metrics(img, 90)
    assert set(low) == {"qf", "bpp", "psnr", "ssim", "ssim_uniform8", "psnrb"}
    assert high["psnr"] > low["psnr"] and high["bpp"] > low["bpp"] and high["ssim"] > low["ssim"]
    assert low["psnrb"] <= low["psnr"]
    assert widgets.jpeg_metrics(_image(color=True), 30)["psnr"] > 0


def test_block_dct_matches_scipy_and_picks_the_grid_block():
    img = _image()
    coeffs = widgets.block_dct(img, (13, 21))  # pixel (13, 21) lies in the block at (8, 16)
    expected = np.abs(dctn(img[8:16, 16:24].astype(float) - 128, norm="ortho"))
    np.testing.assert_allclose(coeffs, expected, atol=1e-9)
    assert widgets.block_origin(img.shape, (47, 55)) == (40, 48)
    assert widgets.block_origin(img.shape, (-5, 999)) == (0, 48)
    assert widgets.block_dct(_image(color=True), (0, 0)).shape == (8, 8)
    with pytest.raises(ValueError):
        widgets.block_origin((4, 4), (0, 0))


def test_render_qf_explorer_returns_a_figure_and_keeps_input():
    img = _image(color=True)
    before = img.copy()
    fig = widgets.render_qf_explorer(img, 10, box=(8, 8, 32, 32), position=(20, 20))
    assert len(fig.axes) >= 6
    assert "q10" in fig._suptitle.get_text()
    plt.close(fig)
    assert np.array_equal(img, before)
    with pytest.raises(ValueError):
        widgets.render_qf_explorer(img, 0)


def test_qf_explorer_builds_headless_and_reacts():
    pytest.importorskip("ipywidgets")
    open_before = set(plt.get_fignums())      # figures other tests left open
    ui = widgets.qf_explorer(_image(), qf=20, box=(8, 8, 32, 32))
    quality, row, col = ui.children[0].children
    assert quality.value == 20 and row.min == 8 and col.max == 39
    out = ui.children[1]
    first = out.outputs[0]["data"]["image/png"]
    quality.value = 50  # triggers a redraw: the Output now holds the new picture, as a PNG
    (shown,) = out.outputs
    assert shown["output_type"] == "display_data" and shown["data"]["image/png"] != first
    assert base64.b64decode(shown["data"]["image/png"]).startswith(b"\x89PNG")
    assert set(plt.get_fignums()) <= open_before  # every figure it drew was closed


def test_a_failing_redraw_shows_one_line_in_the_output():
    pytest.importorskip("ipywidgets")
    import ipywidgets

    slider = ipywidgets.IntSlider(value=1)
    open_before = set(plt.get_fignums())

    def draw():
        if slider.value == 2:
            raise ValueError("QF must be in 1..100")
        return plt.figure()

    ui = widgets._figure_under([slider], draw)
    slider.value = 2
    (shown,) = ui.children[1].outputs
    assert shown == {"output_type": "stream", "name": "stderr", "text": "error: QF must be in 1..100\n"}
    assert set(plt.get_fignums()) <= open_before


def test_qf_control_renders_and_builds_headless():
    import torch

    from jarlib.jpeg import compress
    from jarlib.models import FBCNN

    torch.manual_seed(0)
    model = FBCNN(channels=(4, 8, 8, 16), blocks=1, bottleneck_blocks=1, qf_blocks=1, qf_hidden=8, controller_hidden=8)
    clean = _image()
    jpeg = compress(clean, 20)
    fig = widgets.render_qf_control(model, jpeg, clean, 40, box=(0, 0, 32, 32))
    assert len(fig.axes) == 4 and "QF set to 40" in fig.axes[2].get_title()
    plt.close(fig)
    with pytest.raises(ValueError, match="same shape"):
        widgets.render_qf_control(model, jpeg, clean[:40], 40)
    box = widgets.qf_control(model, jpeg, clean)
    assert box.children[0].description == "QF"
    plt.close("all")


def test_table_editor_renders_and_builds_headless():
    import torch

    from jarlib.jpeg import encode_bytes
    from jarlib.models import QGCN

    torch.manual_seed(0)
    model = QGCN(features=8, blocks=1, global_widths=(4, 4, 8, 8), global_hidden=16, global_dim=4, global_size=32)
    clean = _image()
    data = encode_bytes(clean, 20)
    fig = widgets.render_table_edit(model, data, clean, 2.0, box=(0, 0, 32, 32))
    titles = [a.get_title() for a in fig.axes]
    assert titles[0] == "luma table fed to the model" and any(t.startswith("table x 2.00") for t in titles)
    plt.close(fig)
    with pytest.raises(ValueError, match="scale"):
        widgets.render_table_edit(model, data, clean, 0.0)
    box = widgets.table_editor(model, data, clean)
    assert box.children[0].description == "table x"
    plt.close("all")
