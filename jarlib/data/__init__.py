"""Data sets, degradations and patch pipelines.

- registry: ``data_root``, ``list_images``, ``load_image``, ``load_dataset`` (``JARLIB_DATA``)
- degrade:  ``single_jpeg``, ``double_jpeg`` (FBCNN's non-aligned double JPEG)
"""

from jarlib.data.degrade import double_jpeg, single_jpeg
from jarlib.data.registry import (
    DATASETS,
    DatasetInfo,
    DatasetNotFoundError,
    data_root,
    dataset_info,
    list_images,
    load_dataset,
    load_image,
)

__all__ = [
    "DATASETS", "DatasetInfo", "DatasetNotFoundError", "data_root", "dataset_info", "list_images",
    "load_dataset", "load_image", "double_jpeg", "single_jpeg",
]
