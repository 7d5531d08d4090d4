"""Baseline JPEG, step by step, and the real codec (libjpeg through Pillow).

- :mod:`jarlib.jpeg.tables`  quantization tables for any quality, zigzag order
- :mod:`jarlib.jpeg.libjpeg` the real codec: ``compress`` (round trip), ``encode_bytes``,
  ``decode_bytes``, ``read_quant_tables`` (tables parsed from a file's DQT segments)

Taught in ``notebooks/00_jpeg_from_scratch.ipynb``.
"""

from jarlib.jpeg.libjpeg import compress, decode_bytes, encode_bytes, read_quant_tables
from jarlib.jpeg.tables import (
    CHROMA_BASE,
    LUMA_BASE,
    ZIGZAG,
    quality_scale,
    quant_table,
    unzigzag,
    zigzag,
)

__all__ = [
    "CHROMA_BASE", "LUMA_BASE", "ZIGZAG", "quality_scale", "quant_table", "unzigzag", "zigzag",
    "compress", "decode_bytes", "encode_bytes", "read_quant_tables",
]
