"""Plotting helpers the notebooks share: image grids, zoomed crops, difference maps.

Every function draws with matplotlib and returns the ``Figure`` (so tests can call them headless
with the Agg backend). Images are uint8 (H, W) gray or (H, W, 3) RGB unless stated.
"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from jarlib.block import BLOCK

Box = tuple[int, int, int, int]
"""A crop box ``(top, left, height, width)`` in pixels."""


def crop(img: np.ndarray, box: Box) -> np.ndarray:
    """The ``(top, left, height, width)`` window of ``img`` (a view, clipped to the image)."""
    top, left, h, w = box
    if h <= 0 or w <= 0:
        raise ValueError(f"crop box must have positive height and width, got {box}")
    return img[max(top, 0):top + h, max(left, 0):left + w]


def centre_box(shape: Sequence[int], size: int = 64) -> Box:
    """A ``size`` x ``size`` box at the centre of an image of ``shape``, aligned to the 8x8 grid."""
    h, w = shape[0], shape[1]
    size = min(size, h, w)
    top = max(((h - size) // 2) // BLOCK * BLOCK, 0)
    left = max(((w - size) // 2) // BLOCK * BLOCK, 0)
    return top, left, size, size


def _imshow(ax, img: np.ndarray, title: str = "", vmin: float | None = 0, vmax: float | None = 255,
            cmap: str | None = None) -> None:
    if img.ndim == 2 and cmap is None:
        cmap = "gray"
    ax.imshow(img, cmap=cmap, vmin=vmin if img.ndim == 2 else None,
              vmax=vmax if img.ndim == 2 else None, interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()


def show_images(images: Sequence[np.ndarray], titles: Sequence[str] | None = None, cols: int | None = None,
                size: float = 3.0, cmap: str | None = None, vmin: float | None = 0,
                vmax: float | None = 255) -> Figure:
    """Show images side by side (wrapping after ``cols``), nearest-neighbour so pixels stay visible."""
    n = len(images)
    if n == 0:
        raise ValueError("show_images needs at least one image")
    titles = list(titles) if titles is not None else [""] * n
    cols = cols or n
    rows = (n + cols - 1) // cols
    fig, axes = plt.subplots(rows, cols, figsize=(size * cols, size * rows), squeeze=False)
    for ax in axes.flat[n:]:
        ax.set_axis_off()
    for ax, img, title in zip(axes.flat, images, titles):
        _imshow(ax, np.asarray(img), title, vmin, vmax, cmap)
    fig.tight_layout()
    return fig


def show_crops(images: Sequence[np.ndarray], titles: Sequence[str], box: Box, size: float = 3.0) -> Figure:
    """First row: the first image with the ``box`` outlined; second row: the same zoomed crop of each image."""
    n = len(images)
    fig, axes = plt.subplots(2, n, figsize=(size * n, size * 2), squeeze=False)
    top, left, h, w = box
    _imshow(axes[0, 0], np.asarray(images[0]), titles[0])
    axes[0, 0].add_patch(Rectangle((left - 0.5, top - 0.5), w, h, fill=False, edgecolor="red", lw=1.5))
    for ax in axes[0, 1:]:
        ax.set_axis_off()
    for ax, img, title in zip(axes[1], images, titles):
        _imshow(ax, crop(np.asarray(img), box), f"{title} (crop)")
    fig.tight_layout()
    return fig


def diff_map(reference: np.ndarray, test: np.ndarray) -> np.ndarray:
    """Absolute difference |test - reference| as float64 (H, W); colour images are averaged over channels."""
    d = np.abs(test.astype(np.float64) - reference.astype(np.float64))
    return d.mean(axis=2) if d.ndim == 3 else d


def show_diff(reference: np.ndarray, test: np.ndarray, title: str = "|test - reference|",
              vmax: float | None = None, ax=None) -> Figure:
    """Heat map of :func:`diff_map` with a colour bar (``vmax`` fixes the scale across plots)."""
    d = diff_map(reference, test)
    if ax is None:
        fig, ax = plt.subplots(figsize=(4, 4))
    else:
        fig = ax.figure
    im = ax.imshow(d, cmap="magma", vmin=0, vmax=vmax if vmax is not None else max(float(d.max()), 1e-9),
                   interpolation="nearest")
    ax.set_title(title, fontsize=9)
    ax.set_axis_off()
    fig.colorbar(im, ax=ax, fraction=0.046, pad=0.04)
    return fig
