"""Interactive explorers for the notebooks. The logic lives in plain functions that tests call
directly (widget callbacks swallow exceptions in headless runs); the ipywidgets wiring is thin.

- :func:`jpeg_at_quality` / :func:`jpeg_metrics`: the JPEG of an image at a QF and its scores
- :func:`block_dct`: the 8x8 DCT coefficient magnitudes of the block under a pixel
- :func:`render_qf_explorer`: the explorer's picture (crops, difference map, DCT of one block)
- :func:`qf_explorer`: the ipywidgets front end (QF slider, block position sliders)
- :func:`render_qf_control` / :func:`qf_control`: FBCNN's QF set by hand (paper Fig. 4)
- :func:`render_table_edit` / :func:`table_editor`: QGCN given an edited quantization table

Taught in ``notebooks/01_artifacts_and_metrics.ipynb`` and ``13_fbcnn.ipynb``.
"""

from __future__ import annotations

import base64
import io
from collections.abc import Callable

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from jarlib._checks import as_image_array, check_quality
from jarlib.block import BLOCK
from jarlib.color import rgb_to_ycbcr
from jarlib.jpeg import decode_bytes, encode_bytes, read_quant_tables
from jarlib.jpeg.codec import dct2, level_shift
from jarlib.metrics import evaluate, ssim
from jarlib.viz import Box, centre_box, crop, diff_map


def jpeg_at_quality(img: np.ndarray, qf: int, subsampling: str = "4:2:0") -> tuple[np.ndarray, int]:
    """(decoded JPEG, file size in bytes) of a uint8 (H, W) or (H, W, 3) image at quality ``qf``."""
    img = as_image_array(img, "img", allow_float=False)
    data = encode_bytes(img, check_quality(qf, "qf"), subsampling)
    return decode_bytes(data).reshape(img.shape), len(data)


def jpeg_metrics(img: np.ndarray, qf: int) -> dict[str, float]:
    """Scores of the JPEG at ``qf`` against ``img``, FBCNN convention (gray: Y; colour: RGB).

    Returns ``{"qf", "bpp", "psnr", "ssim", "ssim_uniform8", "psnrb"}``: bits per pixel of the
    file, PSNR and PSNR-B in dB, SSIM with the Gaussian 11x11 window and with the 8x8 uniform one.
    """
    jpeg, n_bytes = jpeg_at_quality(img, qf)
    convention = "fbcnn_gray" if img.ndim == 2 else "fbcnn_color"
    scores = evaluate(img, jpeg, convention)
    return {"qf": float(qf), "bpp": 8.0 * n_bytes / (img.shape[0] * img.shape[1]),
            "psnr": scores["psnr"], "ssim": scores["ssim"],
            "ssim_uniform8": ssim(img, jpeg, "uniform8"), "psnrb": scores["psnrb"]}


def _luma(img: np.ndarray) -> np.ndarray:
    """The plane JPEG transforms: gray as is, colour -> JFIF Y (float64)."""
    return img.astype(np.float64) if img.ndim == 2 else rgb_to_ycbcr(img)[..., 0]


def block_origin(img_shape: tuple[int, ...], position: tuple[int, int]) -> tuple[int, int]:
    """(top, left) of the 8x8 JPEG block containing pixel ``position = (row, col)``, clipped so the
    block lies inside the image."""
    h, w = img_shape[0], img_shape[1]
    if h < BLOCK or w < BLOCK:
        raise ValueError(f"image of shape {img_shape} is smaller than one 8x8 block")
    row, col = (min(max(int(p), 0), n - 1) for p, n in zip(position, (h, w)))
    last_top, last_left = (h - BLOCK) // BLOCK * BLOCK, (w - BLOCK) // BLOCK * BLOCK
    return min(row // BLOCK * BLOCK, last_top), min(col // BLOCK * BLOCK, last_left)


def block_dct(img: np.ndarray, position: tuple[int, int]) -> np.ndarray:
    """|DCT| of the 8x8 block under pixel ``position``: (8, 8) float64, [0, 0] = DC.

    img: (H, W) or (H, W, 3) uint8 (colour: the JFIF Y the encoder transforms). The block is
    level-shifted by 128 and transformed with the orthonormal 2-D DCT-II (``jarlib.jpeg.codec.dct2``).
    """
    img = as_image_array(img, "img", allow_float=False)
    top, left = block_origin(img.shape, position)
    block = _luma(img)[top:top + BLOCK, left:left + BLOCK]
    return np.abs(dct2(level_shift(block)))


def render_qf_explorer(img: np.ndarray, qf: int, box: Box | None = None,
                       position: tuple[int, int] | None = None) -> Figure:
    """The explorer's picture for one QF.

    Top row: the crop ``box`` (default: a 64x64 box at the centre) of the original and of the JPEG,
    and their difference map. Bottom row: log10(1 + |DCT|) of the 8x8 block under ``position``
    (default: the box's top-left block), original vs JPEG, and their difference. The block is
    outlined in red on the crops. The title gives the scores of :func:`jpeg_metrics`.
    """
    img = as_image_array(img, "img", allow_float=False)
    box = box or centre_box(img.shape)
    position = position or (box[0], box[1])
    jpeg, _ = jpeg_at_quality(img, qf)
    scores = jpeg_metrics(img, qf)
    top, left = block_origin(img.shape, position)
    c_orig, c_jpeg = block_dct(img, position), block_dct(jpeg, position)

    fig, axes = plt.subplots(2, 3, figsize=(10, 6.6))
    gray = {"cmap": "gray", "vmin": 0, "vmax": 255} if img.ndim == 2 else {}
    for ax, im, title in ((axes[0, 0], img, "original"), (axes[0, 1], jpeg, f"JPEG q{qf}")):
        ax.imshow(crop(im, box), interpolation="nearest", **gray)
        ax.add_patch(Rectangle((left - box[1] - 0.5, top - box[0] - 0.5), BLOCK, BLOCK,
                               fill=False, edgecolor="red", lw=1.2))
        ax.set_title(f"{title} (crop)", fontsize=9)
    d = diff_map(crop(img, box), crop(jpeg, box))
    fig.colorbar(axes[0, 2].imshow(d, cmap="magma", vmin=0, interpolation="nearest"), ax=axes[0, 2],
                 fraction=0.046, pad=0.04)
    axes[0, 2].set_title("|JPEG - original|", fontsize=9)
    vmax = float(np.log10(1 + max(c_orig.max(), c_jpeg.max())))
    for ax, c, title in ((axes[1, 0], c_orig, "original"), (axes[1, 1], c_jpeg, "JPEG")):
        fig.colorbar(ax.imshow(np.log10(1 + c), cmap="viridis", vmin=0, vmax=vmax), ax=ax,
                     fraction=0.046, pad=0.04)
        ax.set_title(f"log10(1+|DCT|) {title}, block ({top}, {left})", fontsize=9)
    fig.colorbar(axes[1, 2].imshow(np.abs(c_jpeg - c_orig), cmap="magma"), ax=axes[1, 2],
                 fraction=0.046, pad=0.04)
    axes[1, 2].set_title("| |DCT| JPEG - |DCT| original |", fontsize=9)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"q{qf}: {scores['bpp']:.2f} bpp, PSNR {scores['psnr']:.2f} dB, SSIM {scores['ssim']:.3f} "
                 f"(uniform8 {scores['ssim_uniform8']:.3f}), PSNR-B {scores['psnrb']:.2f} dB", fontsize=10)
    fig.tight_layout()
    return fig


def figure_output(fig: Figure) -> dict:
    """``fig`` as a Jupyter ``display_data`` output (PNG, base64), for an ``Output`` widget's
    ``outputs``. Set directly rather than drawn under ``with out: plt.show()``: capturing a figure
    into an Output widget can stall a kernel driven by nbclient (papermill, the course book)."""
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=fig.dpi)
    return {"output_type": "display_data", "metadata": {},
            "data": {"image/png": base64.b64encode(buf.getvalue()).decode("ascii"), "text/plain": repr(fig)}}


def _figure_under(controls: list, draw: Callable[[], Figure]):
    """``controls`` in a row above an ``Output`` that shows ``draw()``'s figure, redrawn whenever
    a control's value changes (the wiring every explorer here shares). An exception while drawing
    is shown in the Output as a one-line error, not raised into the widget machinery."""
    import ipywidgets as widgets

    out = widgets.Output()

    def redraw(_change: object = None) -> None:
        try:
            fig = draw()
        except Exception as err:  # noqa: BLE001 - shown to the person moving the slider
            out.outputs = ({"output_type": "stream", "name": "stderr", "text": f"error: {err}\n"},)
            return
        try:
            out.outputs = (figure_output(fig),)
        finally:
            plt.close(fig)

    for w in controls:
        w.observe(redraw, names="value")
    redraw()
    return widgets.VBox([widgets.HBox(controls) if len(controls) > 1 else controls[0], out])


def qf_explorer(img: np.ndarray, qf: int = 10, box: Box | None = None):
    """An ipywidgets explorer: QF slider and block-position sliders around :func:`render_qf_explorer`.

    Returns a ``VBox`` (display it as the last expression of a cell). Each change redraws into an
    ``Output`` widget; exceptions inside the callback are shown there, so test the pure function.
    """
    import ipywidgets as widgets

    img = as_image_array(img, "img", allow_float=False)
    box = box or centre_box(img.shape)
    quality = widgets.IntSlider(value=qf, min=1, max=100, step=1, description="QF", continuous_update=False)
    row = widgets.IntSlider(value=box[0], min=box[0], max=box[0] + box[2] - 1, step=BLOCK,
                            description="block row", continuous_update=False)
    col = widgets.IntSlider(value=box[1], min=box[1], max=box[1] + box[3] - 1, step=BLOCK,
                            description="block col", continuous_update=False)
    return _figure_under([quality, row, col],
                         lambda: render_qf_explorer(img, quality.value, box, (row.value, col.value)))


def render_qf_control(model, jpeg: np.ndarray, clean: np.ndarray | None, qf: float, box: Box | None = None) -> Figure:
    """FBCNN's flexible control for one setting (paper Fig. 4): the crop ``box`` of the JPEG, of the
    blind restoration (the model's predicted QF) and of the restoration with ``qf`` set by hand,
    scored against ``clean`` when given. ``model``: a restorer whose ``restore`` takes ``qf=`` and
    that has ``predict_qf`` (:class:`jarlib.models.FBCNN`)."""
    jpeg = as_image_array(jpeg, "jpeg", allow_float=False)
    box = box or centre_box(jpeg.shape, 96)
    predicted = model.predict_qf(jpeg)
    blind, steered = model.restore(jpeg), model.restore(jpeg, qf=qf)
    panels = [(jpeg, "JPEG input"), (blind, f"blind (predicted QF {predicted:.0f})"), (steered, f"QF set to {qf:.0f}")]
    if clean is not None:
        clean = as_image_array(clean, "clean", allow_float=False)
        if clean.shape != jpeg.shape:
            raise ValueError(f"clean {clean.shape} and jpeg {jpeg.shape} must have the same shape")
        panels = [(im, f"{t}\n{evaluate(clean, im, 'fbcnn_gray' if im.ndim == 2 else 'fbcnn_color')['psnr']:.2f} dB")
                  for im, t in panels] + [(clean, "original")]
    fig, axes = plt.subplots(1, len(panels), figsize=(3.2 * len(panels), 3.6))
    gray = {"cmap": "gray", "vmin": 0, "vmax": 255} if jpeg.ndim == 2 else {}
    for ax, (im, title) in zip(axes, panels):
        ax.imshow(crop(im, box), interpolation="nearest", **gray)
        ax.set_title(title, fontsize=9)
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def qf_control(model, jpeg: np.ndarray, clean: np.ndarray | None = None, box: Box | None = None):
    """An ipywidgets slider over the QF given to FBCNN's controller, around :func:`render_qf_control`:
    slide down to remove more artifacts (and detail), up to keep more detail (and artifacts)."""
    import ipywidgets as widgets

    quality = widgets.IntSlider(value=int(round(model.predict_qf(jpeg))), min=1, max=100, step=1,
                                description="QF", continuous_update=False)
    return _figure_under([quality], lambda: render_qf_control(model, jpeg, clean, quality.value, box))


def render_table_edit(model, data: bytes, clean: np.ndarray | None, scale: float, box: Box | None = None) -> Figure:
    """QGCN fed an edited quantization table: the file's luma (and chroma) tables times ``scale``
    (clipped to 1..255). Panels: the table as the model sees it, the JPEG, the restoration with
    the file's tables and with the edited ones (PSNR against ``clean`` when given)."""
    if scale <= 0:
        raise ValueError(f"scale must be positive, got {scale}")
    tables = read_quant_tables(bytes(data))
    edited = [np.clip(np.round(t * scale), 1, 255) for t in tables]
    jpeg = decode_bytes(bytes(data))
    box = box or centre_box(jpeg.shape, 96)
    panels = [(jpeg, "JPEG"), (model.restore(data), "file's table"), (model.restore(data, tables=edited), f"table x {scale:.2f}")]
    if clean is not None:
        clean = as_image_array(clean, "clean", allow_float=False)
        conv = "fbcnn_gray" if jpeg.ndim == 2 else "fbcnn_color"
        panels = [(im, f"{t}\n{evaluate(clean, im, conv)['psnr']:.2f} dB") for im, t in panels]
    fig, axes = plt.subplots(1, len(panels) + 1, figsize=(3.2 * (len(panels) + 1), 3.6))
    fig.colorbar(axes[0].imshow(edited[0], cmap="viridis", vmin=1, vmax=255), ax=axes[0], fraction=0.046, pad=0.04)
    axes[0].set_title("luma table fed to the model", fontsize=9)
    gray = {"cmap": "gray", "vmin": 0, "vmax": 255} if jpeg.ndim == 2 else {}
    for ax, (im, title) in zip(axes[1:], panels):
        ax.imshow(crop(im, box), interpolation="nearest", **gray)
        ax.set_title(title, fontsize=9)
    for ax in axes:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.tight_layout()
    return fig


def table_editor(model, data: bytes, clean: np.ndarray | None = None, box: Box | None = None):
    """An ipywidgets slider that scales the quantization table QGCN is given (log scale, x1/4 to x4)
    around :func:`render_table_edit`."""
    import ipywidgets as widgets

    scale = widgets.FloatLogSlider(value=1.0, base=2, min=-2, max=2, step=0.25, description="table x",
                                   continuous_update=False)
    return _figure_under([scale], lambda: render_table_edit(model, data, clean, scale.value, box))
