"""Baseline JPEG, step by step, and the real codec (libjpeg through Pillow).

- :mod:`jarlib.jpeg.tables`  quantization tables for any quality, zigzag order,
  ``estimate_quality`` (a file's QF from its tables)
- :mod:`jarlib.jpeg.codec`   baseline JPEG step by step: ``encode``, ``decode``, ``roundtrip``,
  ``compare_with_libjpeg`` (blocks, DCT, quantization, 4:2:0 sampling as libjpeg-turbo does it)
- :mod:`jarlib.jpeg.islow`   libjpeg's integer DCT (bit-exact), ``dct="islow"`` in the codec
- :mod:`jarlib.jpeg.libjpeg` the real codec: ``compress`` (round trip), ``encode_bytes``,
  ``decode_bytes``, ``open_jpeg``, ``read_quant_tables`` (tables parsed from a file's DQT segments)
- :mod:`jarlib.jpeg.header`  ``read_header``, ``check_header``: what a file claims, checked before
  decoding (pixel cap, 8-bit only, a scan long enough for its size)

Taught in ``notebooks/00_jpeg_from_scratch.ipynb``.
"""

from jarlib.jpeg.codec import (
    JpegCoefficients,
    compare_with_libjpeg,
    decode,
    encode,
    roundtrip,
)
from jarlib.jpeg.header import DEFAULT_MAX_PIXELS, JpegHeader, check_header, read_header
from jarlib.jpeg.libjpeg import compress, decode_bytes, encode_bytes, open_jpeg, read_quant_tables
from jarlib.jpeg.tables import (
    CHROMA_BASE,
    LUMA_BASE,
    ZIGZAG,
    quality_scale,
    estimate_quality,
    quant_table,
    unzigzag,
    zigzag,
)

__all__ = [
    "CHROMA_BASE", "LUMA_BASE", "ZIGZAG", "estimate_quality", "quality_scale", "quant_table", "unzigzag", "zigzag",
    "compress", "decode_bytes", "encode_bytes", "open_jpeg", "read_quant_tables",
    "DEFAULT_MAX_PIXELS", "JpegHeader", "check_header", "read_header",
    "JpegCoefficients", "compare_with_libjpeg", "decode", "encode", "roundtrip",
]
