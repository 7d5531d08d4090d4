"""Sample images that need no download: photographs bundled inside the scikit-image wheel.

The default for demos and quick tests when the data sets of ``data/README.md`` are absent. They are
not a benchmark: ``rocket`` is itself a JPEG file, and none of them is in the papers' tables.
Gray versions are the MATLAB Y of the colour photos (``jarlib.color.to_gray_y``), the same
convention as ``LIVE1/gray``; ``camera`` is gray already.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from jarlib.color import to_gray_y
from jarlib.data.registry import available, list_images, load_dataset, load_image

COLOR_SAMPLES = ("astronaut", "chelsea", "coffee", "rocket")
"""Colour photographs shipped with scikit-image (``skimage.data.<name>()``), all (H, W, 3) uint8."""
GRAY_ONLY_SAMPLES = ("camera",)
"""Gray photographs shipped with scikit-image, (H, W) uint8."""


def _load(name: str) -> np.ndarray:
    import skimage.data  # imported here: keeps ``import jarlib.data`` light

    img = np.asarray(getattr(skimage.data, name)())
    if img.dtype != np.uint8:
        raise TypeError(f"skimage.data.{name}() is {img.dtype}, expected uint8")
    return img.copy()


def sample_images(mode: str = "gray") -> dict[str, np.ndarray]:
    """Named sample photographs, loaded from files inside the scikit-image package (no network).

    mode ``"gray"``: ``camera`` plus the MATLAB Y of every colour sample, each (H, W) uint8.
    mode ``"rgb"``: the colour samples only, each (H, W, 3) uint8 RGB.
    Returns a new dict of new arrays on every call (safe to modify). Sizes range from 300x451 to
    512x512, so patches up to 256 fit.
    """
    if mode not in ("gray", "rgb"):
        raise ValueError(f"mode must be 'gray' or 'rgb', got {mode!r}")
    out: dict[str, np.ndarray] = {}
    if mode == "gray":
        for name in GRAY_ONLY_SAMPLES:
            out[name] = _load(name)
    for name in COLOR_SAMPLES:
        rgb = _load(name)
        out[name] = to_gray_y(rgb) if mode == "gray" else rgb
    return out


def samples_available() -> bool:
    """Whether the bundled sample images can be read (scikit-image installed with its data files)."""
    try:
        _load(GRAY_ONLY_SAMPLES[0])
    except Exception:  # noqa: BLE001 - any failure means "not available"; jarlib.check reports it
        return False
    return True


DEMO_BOXES = {"monarch": (192, 312), "camera": (96, 200), "astronaut": (0, 120)}
"""Top-left corners of the zoomed crops the notebooks show for these images (texture and edges)."""


def demo_image(name: str = "monarch", crop: int = 128, mode: str = "gray"
               ) -> tuple[str, np.ndarray, tuple[int, int, int, int]]:
    """The notebooks' picture: LIVE1 image ``name`` in ``mode`` (``"gray"`` or ``"rgb"``) when that
    LIVE1 set is installed, else the scikit-image ``camera`` (gray) or ``astronaut`` (rgb).
    Returns ``(label, image, box)`` with ``box = (top, left, crop, crop)`` for ``viz.show_crops``,
    clamped inside the image."""
    if mode not in ("gray", "rgb"):
        raise ValueError(f"mode must be 'gray' or 'rgb', got {mode!r}")
    live1 = "live1_gray" if mode == "gray" else "live1_color"
    if available(live1):
        paths = {p.stem: p for p in list_images(live1)}
        if name not in paths:
            raise ValueError(f"{name!r} is not a LIVE1 image; known: {', '.join(sorted(paths))}")
        label, img = name, load_image(paths[name], mode=mode)
    else:
        label = "camera" if mode == "gray" else "astronaut"
        img = sample_images(mode)[label]
    top, left = DEMO_BOXES.get(label, (0, 0))
    top, left = max(0, min(top, img.shape[0] - crop)), max(0, min(left, img.shape[1] - crop))
    return label, img, (top, left, crop, crop)


def evaluation_source(name: str, mode: str = "gray") -> str | list[tuple[str, np.ndarray]]:
    """What ``jarlib.evaluation`` should measure on: the data set ``name`` when it is installed, else
    the sample images in ``mode`` as ``(stem, image)`` pairs (so a notebook runs anywhere; its
    numbers are then not the papers')."""
    return name if available(name) else list(sample_images(mode).items())


def evaluation_sets(names: Sequence[str], mode: str = "gray") -> dict[str, str | list[tuple[str, np.ndarray]]]:
    """``{label: source}`` to evaluate on: each installed data set of ``names`` under its own name
    (the missing ones left out), else, when none is installed, the sample images once, as
    ``"samples"`` (not once per name)."""
    found = {n: n for n in names if available(n)}
    return found or {"samples": list(sample_images(mode).items())}


def evaluation_images(name: str, mode: str = "gray", limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """The images behind :func:`evaluation_source`, loaded: the first ``limit`` ``(stem, image)``
    pairs of data set ``name`` when it is installed, else of the sample images."""
    source = evaluation_source(name, mode)
    return load_dataset(source, mode=mode, limit=limit) if isinstance(source, str) else source[:limit]
