"""The interactive explorer of ``notebooks/91_explorer.ipynb``: any image, any JPEG, any zoo model.

Choose an image (a data-set image, a bundled sample, or an uploaded file), how it is compressed
(single JPEG at a QF, or FBCNN's non-aligned double JPEG: QF1, a grid shift, QF2) and one or two zoo
models; see synchronised zoomed crops of the original, the JPEG and each restoration, their
difference maps on one colour scale, and the PSNR of each. For an FBCNN model the QF knob sets
the quality its controller is given (paper Fig. 4). An uploaded JPEG is restored as it is (there
is no original to compare with).

The logic is plain functions (:func:`degrade`, :func:`restore_all`, :func:`render`, and
:func:`picture`, all three for one scene without widgets) and the
:class:`Explorer`'s ``update``, which tests call directly; the ipywidgets wiring is thin. Served as
a standalone page with Voilà: ``voila notebooks/91_explorer.ipynb`` (README).
"""

from __future__ import annotations

import io
from collections.abc import Callable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any, Optional

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from matplotlib.patches import Rectangle

from jarlib import zoo
from jarlib.data import available, list_images, load_image, sample_images
from jarlib.jpeg import compress, decode_bytes, encode_bytes
from jarlib.metrics import evaluate
from jarlib.viz import crop, diff_map

NONE = "(none)"


@dataclass(frozen=True)
class Scene:
    """One setting of the explorer.

    qf: the (last) JPEG quality. double: FBCNN's non-aligned double JPEG (JPEG at ``qf1``, drop the
    first ``shift`` rows and columns, JPEG at ``qf``). models: one or two zoo names. fbcnn_qf: the
    quality given to FBCNN's controller (``None``: blind, the predicted QF). centre: the zoom's
    centre as fractions of (height, width); zoom: its size in pixels.
    """

    qf: int = 20
    double: bool = False
    qf1: int = 10
    shift: tuple[int, int] = (4, 4)
    models: tuple[str, ...] = ("fbcnn_gray",)
    fbcnn_qf: Optional[int] = None
    centre: tuple[float, float] = (0.5, 0.5)
    zoom: int = 96

    def __post_init__(self) -> None:
        for name in ("qf", "qf1"):
            v = getattr(self, name)
            if not 1 <= v <= 100:
                raise ValueError(f"{name} must be a JPEG quality in 1..100, got {v}")
        if not all(0 <= s <= 7 for s in self.shift):
            raise ValueError(f"shift must be two integers in 0..7, got {self.shift}")
        if not 1 <= len(self.models) <= 2:
            raise ValueError(f"choose one or two models, got {list(self.models)}")
        if self.fbcnn_qf is not None and not 1 <= self.fbcnn_qf <= 100:
            raise ValueError(f"fbcnn_qf must be None (blind) or 1..100, got {self.fbcnn_qf}")
        if self.zoom < 16:
            raise ValueError(f"zoom must be at least 16 pixels, got {self.zoom}")


def degrade(clean: np.ndarray, scene: Scene) -> tuple[bytes, np.ndarray]:
    """The JPEG file of ``clean`` under ``scene`` and the reference to score it against (the
    original, cropped by the shift for a double JPEG)."""
    if not scene.double:
        return encode_bytes(clean, scene.qf), clean
    i, j = scene.shift
    if clean.shape[0] <= i + 8 or clean.shape[1] <= j + 8:
        raise ValueError(f"image of shape {clean.shape} is too small for a shift of {scene.shift}")
    first = compress(clean, scene.qf1)
    return encode_bytes(np.ascontiguousarray(first[i:, j:]), scene.qf), np.ascontiguousarray(clean[i:, j:])


def restore_with(model: Any, data: bytes, fbcnn_qf: Optional[int]) -> np.ndarray:
    """``model.restore`` of the JPEG bytes; a model steered by a QF alone (FBCNN: its
    :attr:`~jarlib.models.base.Restorer.side_inputs` are just ``qf``) is told ``fbcnn_qf`` when it is set."""
    if fbcnn_qf is not None and model.side_inputs == {"qf"}:
        return model.restore(data, qf=fbcnn_qf)
    return model.restore(data)


def restore_all(data: bytes, scene: Scene, models: Mapping[str, Any]) -> dict[str, np.ndarray]:
    """``{"JPEG": decoded, name: restored, ...}`` for the scene's models (looked up in ``models``)."""
    out = {"JPEG": decode_bytes(data)}
    for name in scene.models:   # a gray model keeps a colour image's chroma: shapes always match
        out[name] = restore_with(models[name], data, scene.fbcnn_qf)
    return out


def zoom_box(shape: Sequence[int], scene: Scene) -> tuple[int, int, int, int]:
    """The zoom window ``(top, left, size, size)`` around ``scene.centre``, inside the image."""
    h, w = shape[0], shape[1]
    size = min(scene.zoom, h, w)
    top = int(round(scene.centre[0] * h - size / 2))
    left = int(round(scene.centre[1] * w - size / 2))
    return min(max(top, 0), h - size), min(max(left, 0), w - size), size, size


def scores(reference: Optional[np.ndarray], panels: Mapping[str, np.ndarray]) -> dict[str, Optional[float]]:
    """PSNR of each panel against ``reference`` (FBCNN's conventions: RGB for colour, MATLAB Y for
    gray), or ``None`` for every panel when there is no reference."""
    if reference is None:
        return {k: None for k in panels}
    conv = "fbcnn_color" if reference.ndim == 3 else "fbcnn_gray"
    return {k: float(evaluate(reference, img, conv)["psnr"]) for k, img in panels.items()}


def render(reference: Optional[np.ndarray], panels: Mapping[str, np.ndarray], scene: Scene,
           title: str = "") -> Figure:
    """The explorer's picture: the whole JPEG with the zoom outlined, then the zoomed crops of the
    original (when known), the JPEG and each restoration with their PSNR; below them the
    difference maps |x - original| on one colour scale."""
    jpeg = panels["JPEG"]
    box = zoom_box(jpeg.shape, scene)
    psnrs = scores(reference, panels)
    crops = ([("original", reference)] if reference is not None else []) + list(panels.items())
    cols = 1 + len(crops)
    rows = 2 if reference is not None else 1
    fig, axes = plt.subplots(rows, cols, figsize=(2.9 * cols, 3.1 * rows), squeeze=False)
    show = lambda ax, im: ax.imshow(im, interpolation="nearest",
                                    **({"cmap": "gray", "vmin": 0, "vmax": 255} if im.ndim == 2 else {}))
    show(axes[0, 0], jpeg)
    axes[0, 0].add_patch(Rectangle((box[1], box[0]), box[3], box[2], fill=False, edgecolor="red", lw=1.5))
    axes[0, 0].set_title("JPEG, whole image", fontsize=9)
    for ax, (name, im) in zip(axes[0, 1:], crops):
        show(ax, crop(im, box))
        p = psnrs.get(name)
        ax.set_title(name + (f"\n{p:.2f} dB" if p is not None else ""), fontsize=9)
    if reference is not None:
        diffs = {name: crop(diff_map(reference, im), box) for name, im in panels.items()}
        vmax = max(max(float(d.max()) for d in diffs.values()), 1e-9)
        axes[1, 0].axis("off")
        axes[1, 1].axis("off")
        for ax, (name, d) in zip(axes[1, 2:], diffs.items()):
            im = ax.imshow(d, cmap="magma", vmin=0, vmax=vmax, interpolation="nearest")
            ax.set_title(f"|{name} - original|", fontsize=9)
        fig.colorbar(im, ax=list(axes[1, 2:]), fraction=0.02, pad=0.02)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    if title:
        fig.suptitle(title, fontsize=10)
    return fig


def picture(clean: np.ndarray, scene: Scene, models: Mapping[str, Any]) -> tuple[Figure, str]:
    """The explorer's figure and caption for ``clean`` compressed as ``scene`` says, restored by
    ``models`` (name -> model, for ``scene.models``), with no widget involved: what a static notebook
    cell, a saved copy or a Voilà page shows (``display(fig)``), and what a test checks."""
    data, reference = degrade(np.asarray(clean), scene)
    panels = restore_all(data, scene, {m: models[m] for m in scene.models})
    caption = describe(scene)
    return render(reference, panels, scene, caption), caption


def describe(scene: Scene, uploaded_jpeg: bool = False) -> str:
    """A one-line caption of the scene."""
    if uploaded_jpeg:
        how = "the uploaded JPEG as it is"
    elif scene.double:
        how = f"JPEG QF {scene.qf1}, shift {scene.shift}, JPEG QF {scene.qf}"
    else:
        how = f"JPEG QF {scene.qf}"
    knob = "" if scene.fbcnn_qf is None else f"; FBCNN told QF {scene.fbcnn_qf}"
    return how + knob


def read_upload(name: str, content: bytes) -> tuple[Optional[np.ndarray], Optional[bytes]]:
    """An uploaded file as ``(clean image, None)`` (PNG, BMP, ...: compressed by the explorer) or
    ``(None, jpeg bytes)`` (a JPEG: restored as it is). Alpha is dropped. Raises ``ValueError`` for
    something that is not an image."""
    from PIL import Image, UnidentifiedImageError

    if content[:2] == b"\xff\xd8":
        decode_bytes(content)            # raises ValueError naming the problem
        return None, bytes(content)
    try:
        pil = Image.open(io.BytesIO(content))
        pil.load()
    except (UnidentifiedImageError, OSError) as exc:
        raise ValueError(f"{name}: not an image ({exc})") from exc
    pil = pil.convert("L") if pil.mode in ("L", "I;16", "1", "LA") else pil.convert("RGB")
    return np.asarray(pil).copy(), None


class Explorer:
    """The explorer's state and widgets. ``images``: name -> uint8 image, or a callable returning
    one (loaded on first use); ``models``: zoo names offered; ``loader``: name -> model
    (``jarlib.zoo.load``). ``update()`` is the widgets' callback: it redraws into the page's output
    area; ``draw()`` makes the same figure without touching the page, and ``paused()`` sets controls
    from code without a redraw for each: what a static notebook cell, a test or a script uses."""

    def __init__(self, images: Mapping[str, Any], models: Sequence[str],
                 loader: Optional[Callable[[str], Any]] = None, scene: Optional[Scene] = None) -> None:
        import ipywidgets as w

        if not images:
            raise ValueError("the explorer needs at least one image")
        if not models:
            raise ValueError("the explorer needs at least one model")
        if loader is None:
            loader = zoo.load
        self._sources: dict[str, Any] = dict(images)
        self._images: dict[str, np.ndarray] = {}
        self._uploaded_jpegs: dict[str, bytes] = {}
        self._loader, self._models = loader, {}
        scene = scene or Scene(models=(list(models)[0],))
        self.image = w.Dropdown(options=list(self._sources), description="image")
        self.upload = w.FileUpload(accept="image/*", multiple=False, description="upload")
        self.qf = w.IntSlider(value=scene.qf, min=1, max=100, description="QF", continuous_update=False)
        self.double = w.ToggleButtons(options=["single JPEG", "double JPEG"],
                                      value="double JPEG" if scene.double else "single JPEG")
        self.qf1 = w.IntSlider(value=scene.qf1, min=1, max=100, description="first QF", continuous_update=False)
        self.shift = w.IntSlider(value=scene.shift[0], min=0, max=7, description="shift", continuous_update=False)
        self.model_a = w.Dropdown(options=list(models), value=scene.models[0], description="model")
        self.model_b = w.Dropdown(options=[NONE, *models],
                                  value=scene.models[1] if len(scene.models) > 1 else NONE, description="and")
        self.knob = w.IntSlider(value=scene.fbcnn_qf or 0, min=0, max=100, description="FBCNN QF",
                                continuous_update=False)
        self.row = w.FloatSlider(value=scene.centre[0], min=0, max=1, step=0.01, description="zoom row",
                                 continuous_update=False)
        self.col = w.FloatSlider(value=scene.centre[1], min=0, max=1, step=0.01, description="zoom col",
                                 continuous_update=False)
        self.zoom = w.IntSlider(value=scene.zoom, min=32, max=256, step=8, description="zoom px",
                                continuous_update=False)
        self.status = w.HTML()
        self.output = w.Output()
        self.figure: Optional[Figure] = None
        self._paused = False
        for control in (self.image, self.qf, self.double, self.qf1, self.shift, self.model_a, self.model_b,
                        self.knob, self.row, self.col, self.zoom):
            control.observe(self.update, names="value")
        self.upload.observe(self._on_upload, names="value")

    # ------------------------------------------------------------------ state
    def scene(self) -> Scene:
        models = (self.model_a.value,) + (() if self.model_b.value in (NONE, self.model_a.value) else (self.model_b.value,))
        return Scene(qf=self.qf.value, double=self.double.value == "double JPEG", qf1=self.qf1.value,
                     shift=(self.shift.value, self.shift.value), models=models,
                     fbcnn_qf=self.knob.value or None, centre=(self.row.value, self.col.value), zoom=self.zoom.value)

    def clean_image(self, name: str) -> np.ndarray:
        if name not in self._images:
            src = self._sources[name]
            self._images[name] = np.asarray(src() if callable(src) else src)
        return self._images[name]

    def model(self, name: str) -> Any:
        if name not in self._models:
            self._models[name] = self._loader(name)
        return self._models[name]

    def add_upload(self, name: str, content: bytes) -> str:
        """Add an uploaded file to the image list and select it; returns its entry's name."""
        clean, jpeg = read_upload(name, bytes(content))
        key = f"uploaded: {name}"
        if jpeg is not None:
            self._uploaded_jpegs[key] = jpeg
            self._sources[key] = lambda: decode_bytes(jpeg)
        else:
            self._sources[key] = clean
        self._images.pop(key, None)
        self.image.options = list(self._sources)
        self.image.value = key
        return key

    def _on_upload(self, change: Any) -> None:
        value = change["new"] if isinstance(change, dict) else change
        files = list(value.values()) if isinstance(value, dict) else list(value or [])
        for f in files:
            name = f.get("name") or f.get("metadata", {}).get("name", "upload")
            try:
                self.add_upload(name, bytes(f["content"]))
            except ValueError as exc:
                self.status.value = f"<b>cannot use {name}</b>: {exc}"

    # ------------------------------------------------------------------ drawing
    def compute(self) -> tuple[Optional[np.ndarray], dict[str, np.ndarray], Scene, str]:
        scene = self.scene()
        name = self.image.value
        if name in self._uploaded_jpegs:
            data, reference = self._uploaded_jpegs[name], None
            caption = describe(scene, uploaded_jpeg=True)
        else:
            data, reference = degrade(self.clean_image(name), scene)
            caption = describe(scene)
        panels = restore_all(data, scene, {m: self.model(m) for m in scene.models})
        return reference, panels, scene, f"{name}: {caption}"

    @contextmanager
    def paused(self) -> Iterator["Explorer"]:
        """Set several controls from code without the callbacks redrawing at each one."""
        self._paused = True
        try:
            yield self
        finally:
            self._paused = False

    def draw(self) -> Optional[Figure]:
        """The figure for the current values, with the status line set (the caption and each panel's
        PSNR when the original is known); shown nowhere (display it,
        or let ``update`` put it on the page). Errors go to the status line and give ``None``."""
        try:
            reference, panels, scene, caption = self.compute()
            fig = render(reference, panels, scene, caption)
        except (ValueError, RuntimeError, KeyError) as exc:
            self.status.value = f"<b>cannot show this</b>: {exc}"
            return None
        psnrs = {k: v for k, v in scores(reference, panels).items() if v is not None}
        self.status.value = caption + ("" if not psnrs else
                                       " · PSNR " + ", ".join(f"{k} {v:.2f} dB" for k, v in psnrs.items()))
        self.figure = fig
        return fig

    def update(self, _change: Any = None) -> Optional[Figure]:
        """The widgets' callback: redraw into the page's output area (nothing while ``paused``)."""
        if self._paused:
            return None
        fig = self.draw()
        if fig is None:
            return None
        from IPython.display import display

        self.output.clear_output(wait=True)
        with self.output:
            display(fig)
        plt.close(fig)          # shown once, in the output widget
        return fig

    def widget(self) -> Any:
        """The page: controls on top, status line, picture."""
        import ipywidgets as w

        self.update()
        return w.VBox([w.HBox([self.image, self.upload]), w.HBox([self.double, self.qf, self.qf1, self.shift]),
                       w.HBox([self.model_a, self.model_b, self.knob]), w.HBox([self.row, self.col, self.zoom]),
                       self.status, self.output])


def default_images(limit: Optional[int] = None) -> dict[str, Any]:
    """The explorer's image list: the bundled samples, then the LIVE1 (colour) and Classic5 images
    of whichever of the two sets is installed (loaded on first use)."""
    images: dict[str, Any] = {f"sample: {k}": v for k, v in sample_images("rgb").items()}
    images["sample: camera (gray)"] = sample_images("gray")["camera"]
    for set_name, label in (("live1_color", "LIVE1"), ("classic5", "Classic5")):
        if available(set_name):
            for path in list_images(set_name)[:limit]:
                images[f"{label}: {path.stem}"] = (lambda p=path: load_image(p))
    return images

