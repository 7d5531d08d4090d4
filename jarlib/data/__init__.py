"""Data sets, degradations and patch pipelines.

- registry: ``data_root``, ``available`` (is this set installed?), ``list_images``, ``load_image``,
  ``load_dataset`` (``JARLIB_DATA``), ``fetch_command`` (what fetches a set), ``have_sets``
  (are these sets installed? says what is used instead)
- degrade:  ``single_jpeg``, ``double_jpeg`` (FBCNN's non-aligned double JPEG) and their random-QF
  versions ``random_single_jpeg``, ``random_double_jpeg`` (``draw_quality``, ``draw_shift``;
  ``log_spaced_qualities`` for log-uniform QF sampling)
- samples:  ``sample_images`` (photos bundled with scikit-image: no data set needed), ``demo_image``,
  ``evaluation_source``, ``evaluation_sets`` and ``evaluation_images`` (a data set when installed, else the samples:
  notebooks run anywhere)
- fetch:    ``jarlib data fetch`` (download, verify, lay out; not imported here)
- patches:  ``JpegPatchDataset`` (on-the-fly (compressed, clean, qf) training patches; imported on
  first use, since it needs torch and the rest of ``jarlib.data`` does not)
- manifest: ``jarlib.data.manifest.verify`` (counts and SHA-256 against ``data/datasets.json``;
  not imported here, so ``python -m jarlib.data.manifest`` runs cleanly)
"""

from jarlib.data.degrade import (
    DoubleJpeg,
    double_jpeg,
    draw_quality,
    draw_shift,
    log_spaced_qualities,
    random_double_jpeg,
    random_single_jpeg,
    single_jpeg,
)
from jarlib.data.registry import (
    DATASETS,
    DatasetInfo,
    DatasetNotFoundError,
    available,
    data_root,
    dataset_info,
    fetch_command,
    have_sets,
    list_images,
    load_dataset,
    load_image,
    set_names,
)
from jarlib.data.samples import demo_image, evaluation_images, evaluation_sets, evaluation_source, sample_images

__all__ = [
    "DATASETS", "DatasetInfo", "DatasetNotFoundError", "available", "data_root", "dataset_info", "fetch_command",
    "have_sets", "list_images", "set_names",
    "load_dataset", "load_image", "double_jpeg", "single_jpeg", "DoubleJpeg", "draw_quality",
    "draw_shift", "log_spaced_qualities", "random_double_jpeg", "random_single_jpeg", "JpegPatchDataset", "PatchSample",
    "sample_images", "demo_image", "evaluation_source", "evaluation_sets", "evaluation_images",
]


def __getattr__(name: str):
    """``JpegPatchDataset`` and ``PatchSample`` on first use (PEP 562): importing torch takes
    seconds, and ``jarlib data fetch`` or ``jarlib restore``'s input checks need none of it."""
    if name in ("JpegPatchDataset", "PatchSample"):
        from jarlib.data import patches  # lazy: it imports torch

        return getattr(patches, name)
    raise AttributeError(f"module 'jarlib.data' has no attribute {name!r}")
