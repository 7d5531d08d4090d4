"""Where the data sets live and how to load them: one setting, ``JARLIB_DATA``.

Resolution order for the data root:
1. the environment variable ``JARLIB_DATA`` (a folder holding ``Classic5/``, ``LIVE1/``, ``BSDS500/``);
2. ``../shared/datasets`` next to the repository, when it exists (the course machines' layout);
3. ``~/.local/share/jarlib/datasets`` (``$XDG_DATA_HOME/jarlib/datasets``), where ``jarlib data fetch``
   puts the sets when neither of the others is there.

Availability is per set (:func:`available`): a data root may hold some sets and not others. A missing
set raises :class:`DatasetNotFoundError` whose message names the command that fetches it
(``jarlib data fetch --sets NAME``; sources and licences: ``data/datasets.json``).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from jarlib.color import to_gray_y

ENV_VAR = "JARLIB_DATA"
REPO_ROOT = Path(__file__).resolve().parents[2]
MANIFEST = REPO_ROOT / "data" / "datasets.json"
IMAGE_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff")


class DatasetNotFoundError(FileNotFoundError):
    """A data set is not where ``JARLIB_DATA`` says; the message says how to get it."""


@dataclass(frozen=True)
class DatasetInfo:
    """One evaluation or training set: its folder under the data root and what it should hold."""

    name: str
    subdir: str
    count: int
    mode: str  # "gray" (stored as gray) or "rgb" (stored as colour)
    description: str
    optional: bool = False  # the papers' own training sets: fetched only when asked for


DATASETS: dict[str, DatasetInfo] = {
    d.name: d
    for d in [
        DatasetInfo("classic5", "Classic5", 5, "gray",
                    "Classic5: 5 gray test images (ARCNN's set); FBCNN/DCSC/CQR/Dual priors test set"),
        DatasetInfo("live1_gray", "LIVE1/gray", 29, "gray",
                    "LIVE1 gray: the MATLAB Y of LIVE1 colour (identical to FBCNN's testsets/LIVE1_gray)"),
        DatasetInfo("live1_color", "LIVE1/color", 29, "rgb",
                    "LIVE1 colour: 29 reference images of the LIVE IQA database"),
        DatasetInfo("bsds500_train", "BSDS500/train", 200, "rgb",
                    "BSDS500 train (200): the project's only training set"),
        DatasetInfo("bsds500_val", "BSDS500/val", 100, "rgb",
                    "BSDS500 val (100): the DCSC / Dual priors test protocol"),
        DatasetInfo("bsds500_test", "BSDS500/test", 200, "rgb",
                    "BSDS500 test (200): the FBCNN / QGCN test protocol"),
        DatasetInfo("div2k_train", "DIV2K/train_HR", 800, "rgb",
                    "DIV2K train HR (800, 2K): QGCN's, CQR's and (with Flickr2K) FBCNN's training set",
                    optional=True),
        DatasetInfo("flickr2k", "Flickr2K", 2650, "rgb",
                    "Flickr2K HR (2,650, 2K): FBCNN's second training set", optional=True),
    ]
}


def user_data_dir() -> Path:
    """Where ``jarlib data fetch`` puts the sets by default: ``$XDG_DATA_HOME/jarlib/datasets``
    (``~/.local/share/jarlib/datasets``)."""
    base = os.environ.get("XDG_DATA_HOME") or str(Path.home() / ".local" / "share")
    return Path(base).expanduser() / "jarlib" / "datasets"


def fetch_command(*names: str) -> str:
    """The command that fetches ``names`` (for messages and skip reasons)."""
    return "jarlib data fetch" + (f" --sets {' '.join(names)}" if names else "")


def data_root(required: bool = True) -> Path | None:
    """The folder holding the data sets: ``JARLIB_DATA``, else ``../shared/datasets`` beside the repo,
    else :func:`user_data_dir` (see the module docstring).

    With ``required=False`` returns ``None`` instead of raising when nothing is found.
    """
    env = os.environ.get(ENV_VAR)
    if env:
        root = Path(env).expanduser()
        if root.is_dir():
            return root.resolve()
        if required:
            raise DatasetNotFoundError(
                f"{ENV_VAR}={env!r} is not a folder. Point it at the folder that holds "
                "Classic5/, LIVE1/ and BSDS500/ (see data/README.md).")
        return None
    default = REPO_ROOT.parent / "shared" / "datasets"
    for folder in (default, user_data_dir()):
        if folder.is_dir():
            return folder.resolve()
    if required:
        raise DatasetNotFoundError(
            f"No data folder found: run `{fetch_command()}` (or set {ENV_VAR} to the folder that holds "
            f"Classic5/, LIVE1/ and BSDS500/; looked for {default} and {user_data_dir()}). "
            "Demos and quick tests can use jarlib.data.sample_images() instead, which needs no download.")
    return None


def available(name: str) -> bool:
    """Whether set ``name`` is installed: its folder under the data root holds its full image count
    (cheap: counts files, hashes nothing; ``python -m jarlib.data.manifest --verify`` checks them)."""
    info = dataset_info(name)
    root = data_root(required=False)
    folder = root / info.subdir if root is not None else None
    if folder is None or not folder.is_dir():
        return False
    return sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES) == info.count


def _source_hint(name: str) -> str:
    return (f" Fetch it with `{fetch_command(name)}`, or by hand as data/README.md says "
            "(sources, terms and checksums: data/datasets.json).")


def have_sets(*names: str, instead: str = "the scikit-image samples") -> bool:
    """Whether every set of ``names`` is installed; when one is not, prints which, what is used
    ``instead`` and the command that fetches them (the notebooks' way of asking, per section)."""
    missing = [n for n in names if not available(n)]
    if missing:
        print(f"Data set(s) {', '.join(missing)} not installed: using {instead}. "
              f"Fetch them with `{fetch_command(*missing)}`.")
    return not missing


def dataset_info(name: str) -> DatasetInfo:
    """Registry entry for a set name (``classic5``, ``live1_gray``, ``live1_color``, ``bsds500_{train,val,test}``)."""
    try:
        return DATASETS[name]
    except KeyError:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(DATASETS)}") from None


def list_images(name: str) -> list[Path]:
    """Sorted image paths of a data set; raises :class:`DatasetNotFoundError` if absent or incomplete."""
    info = dataset_info(name)
    root = data_root(required=False)
    if root is None:
        raise DatasetNotFoundError(f"data set {name!r} not found: no data folder.{_source_hint(name)}")
    folder = root / info.subdir
    if not folder.is_dir():
        raise DatasetNotFoundError(
            f"data set {name!r} not found at {folder}.{_source_hint(name)}")
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    if len(paths) != info.count:
        raise DatasetNotFoundError(
            f"data set {name!r} at {folder} has {len(paths)} images, expected {info.count}."
            f"{_source_hint(name)}")
    return paths


def load_image(path: str | os.PathLike, mode: str = "auto") -> np.ndarray:
    """Read an image file as uint8.

    mode: ``"gray"`` -> (H, W), colour files converted with MATLAB Y (never Pillow's ``convert("L")``);
    ``"rgb"`` -> (H, W, 3); ``"auto"`` -> as stored (gray stays (H, W), anything else RGB).
    """
    if mode not in ("auto", "gray", "rgb"):
        raise ValueError(f"mode must be 'auto', 'gray' or 'rgb', got {mode!r}")
    with Image.open(path) as pil:
        if pil.mode == "L" and mode != "rgb":
            return np.asarray(pil).copy()
        rgb = np.asarray(pil.convert("RGB")).copy()
    return to_gray_y(rgb) if mode == "gray" else rgb


def set_names(spec: str) -> list[str]:
    """The set names of a training-data spec: one name, or several joined by ``+``
    (``"div2k_train+flickr2k"``: a paper that trains on two sets); each is checked."""
    names = [n.strip() for n in spec.split("+")]
    for n in names:
        dataset_info(n)
    return names


def load_dataset(name: str, mode: str | None = None, limit: int | None = None) -> list[tuple[str, np.ndarray]]:
    """Load a set as a list of ``(stem, image)`` pairs, sorted by file name.

    mode: ``"gray"`` (MATLAB Y), ``"rgb"``, or ``None`` for the set's own (``DatasetInfo.mode``).
    ``limit`` keeps the first N images (for smoke runs). ``name`` may join sets with ``+``: their
    images one set after another, each named ``set/stem``.
    """
    if "+" in name:
        out = [(f"{n}/{stem}", img) for n in set_names(name) for stem, img in load_dataset(n, mode)]
        return out[:limit]
    info = dataset_info(name)
    paths = list_images(name)[:limit]
    return [(p.stem, load_image(p, mode or info.mode)) for p in paths]
