"""The real codec: libjpeg(-turbo) through Pillow. The one place in jarlib that encodes JPEG.

Every degradation, dataset and evaluation goes through :func:`compress` (or :func:`encode_bytes`
and :func:`decode_bytes`), so the whole project uses the encoder that reproduces the papers'
JPEG rows (docs/conventions.md: Pillow is pixel-identical to the MATLAB encoder for gray images).
"""

from __future__ import annotations

import io
import os
import warnings
from pathlib import Path

import numpy as np
from PIL import Image, UnidentifiedImageError

from jarlib._checks import as_image_array, check_quality
from jarlib.jpeg.header import DEFAULT_MAX_PIXELS, EOI, JpegHeader, check_header, read_header
from jarlib.jpeg.tables import unzigzag

SUBSAMPLING = {"4:4:4": 0, "4:2:2": 1, "4:2:0": 2}
"""Pillow's codes for chroma subsampling. Pillow's own default for colour is 4:2:0."""


def encode_bytes(img: np.ndarray, quality: int, subsampling: str = "4:2:0",
                 progressive: bool = False) -> bytes:
    """Encode a uint8 image with libjpeg at ``quality`` (1..100) and return the file's bytes.

    img: (H, W) gray or (H, W, 3) RGB uint8. ``subsampling`` ("4:2:0", "4:2:2", "4:4:4")
    applies to colour only. Baseline (or progressive) Huffman JPEG, IJG tables (``quant_table``).
    """
    img = as_image_array(img, "img", allow_float=False)
    q = check_quality(quality)
    if subsampling not in SUBSAMPLING:
        raise ValueError(f"subsampling must be one of {sorted(SUBSAMPLING)}, got {subsampling!r}")
    if img.ndim == 3 and img.shape[2] == 1:
        img = img[..., 0]
    pil = Image.fromarray(img, mode=None)
    buf = io.BytesIO()
    kwargs = {"quality": q, "progressive": progressive}
    if img.ndim == 3:
        kwargs["subsampling"] = SUBSAMPLING[subsampling]
    pil.save(buf, format="JPEG", **kwargs)
    return buf.getvalue()


_PROBE = bytes([0x2A, 0x55, 0xAA, 0x13, 0x7E, 0x81, 0x3C, 0xC3]) * 4
"""Bytes put before an appended end marker to tell a file missing only its EOI from a truncated one."""


def _as_bytes(data: bytes | str | os.PathLike) -> bytes:
    if isinstance(data, (str, os.PathLike)):
        data = Path(data).read_bytes()
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"expected JPEG bytes or a path, got {type(data).__name__}")
    data = bytes(data)
    if len(data) == 0:
        raise ValueError("not a JPEG file: the data is empty")
    return data


def _load(data: bytes, pixel_cap: int | None) -> Image.Image:
    """Pillow's decode of ``data``, with Pillow's own decompression-bomb limit replaced by
    ``pixel_cap``, which :func:`check_header` has already applied."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        limit = Image.MAX_IMAGE_PIXELS
        if pixel_cap is None or (limit is not None and pixel_cap > limit):
            Image.MAX_IMAGE_PIXELS = None
        try:
            pil = Image.open(io.BytesIO(data))
            pil.load()                       # an MPO file: its first frame, the primary image
        finally:
            Image.MAX_IMAGE_PIXELS = limit
    return pil


def open_jpeg(data: bytes | str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS
              ) -> tuple[Image.Image, JpegHeader]:
    """Decode a JPEG file with libjpeg after checking its header (:mod:`jarlib.jpeg.header`).

    The primary image of an MPO file (a camera's photo with a preview or a depth map) is read, as
    viewers do. A file that lacks only its end marker (EOI) is read as if it had one; a file cut
    off inside its image data is refused as truncated (an appended EOI would silently fill it grey:
    it is told apart by decoding twice, with and without extra bytes before the appended marker).
    Raises ``ValueError`` saying what is wrong; ``max_pixels=None`` lifts the pixel cap.
    """
    data = _as_bytes(data)
    header = read_header(data)
    check_header(header, max_pixels)
    try:
        pil = _load(data, max_pixels)
    except (UnidentifiedImageError, OSError, SyntaxError) as exc:
        if header.has_eoi:
            raise ValueError(f"not a readable JPEG file: {exc}") from exc
        try:
            pil = _load(data + EOI, max_pixels)
            complete = np.array_equal(np.asarray(pil), np.asarray(_load(data + _PROBE + EOI, max_pixels)))
        except (UnidentifiedImageError, OSError, SyntaxError):
            complete = False
        if not complete:
            raise ValueError("truncated: the file stops inside its image data") from exc
    if pil.format not in ("JPEG", "MPO"):
        raise ValueError(f"not a JPEG file: Pillow reads it as {pil.format}")
    return pil, header


def decode_bytes(data: bytes | str | os.PathLike, max_pixels: int | None = DEFAULT_MAX_PIXELS) -> np.ndarray:
    """Decode JPEG bytes (or a file path) with libjpeg: gray -> (H, W) uint8, colour -> (H, W, 3) uint8 RGB.

    CMYK and other modes are converted to RGB by Pillow. Raises ``ValueError`` for data that is
    not a readable JPEG (empty, wrong magic, truncated, 12-bit, over ``max_pixels``: see
    :func:`open_jpeg`).
    """
    pil, _ = open_jpeg(data, max_pixels)
    if pil.mode != "L":
        pil = pil.convert("RGB")
    return np.asarray(pil).copy()


def compress(img: np.ndarray, quality: int, subsampling: str = "4:2:0") -> np.ndarray:
    """JPEG round trip through libjpeg: encode at ``quality`` and decode. Same shape and dtype as ``img``.

    img: (H, W) or (H, W, 3) uint8. This is the degradation used throughout the project.
    """
    img = as_image_array(img, "img", allow_float=False)
    out = decode_bytes(encode_bytes(img, quality, subsampling))
    return out.reshape(img.shape)


def read_quant_tables(data: bytes | str | os.PathLike) -> list[np.ndarray]:
    """The quantization tables stored in a JPEG file, parsed from its DQT segments.

    Returns a list indexed by table id (0 = luma, 1 = chroma for IJG files) of (8, 8) int32
    arrays in natural order. DQT stores each table in zigzag order (T.81 B.2.4.1); it is
    un-zigzagged here. Raises ``ValueError`` for non-JPEG data or a file without tables.
    """
    data = _as_bytes(data)
    if len(data) < 4 or data[:2] != b"\xff\xd8":
        raise ValueError("not a JPEG file: it does not start with the SOI marker FFD8")
    tables: dict[int, np.ndarray] = {}
    pos = 2
    while pos + 4 <= len(data):
        if data[pos] != 0xFF:
            raise ValueError(f"corrupt JPEG: expected a marker at byte {pos}")
        marker = data[pos + 1]
        if marker == 0xFF:  # fill byte
            pos += 1
            continue
        if marker in (0xD9, 0xDA):  # EOI or start of scan: no more tables before the data
            break
        length = int.from_bytes(data[pos + 2:pos + 4], "big")
        segment = data[pos + 4:pos + 2 + length]
        if len(segment) != length - 2:
            raise ValueError("corrupt JPEG: a marker segment runs past the end of the file")
        if marker == 0xDB:
            i = 0
            while i < len(segment):
                precision, table_id = segment[i] >> 4, segment[i] & 0x0F
                n = 128 if precision else 64
                raw = segment[i + 1:i + 1 + n]
                if len(raw) != n:
                    raise ValueError("corrupt JPEG: truncated DQT segment")
                values = np.frombuffer(raw, dtype=">u2" if precision else np.uint8)
                tables[table_id] = unzigzag(values.astype(np.int32))
                i += 1 + n
        pos += 2 + length
    if not tables:
        raise ValueError("JPEG file has no quantization tables (DQT) before its first scan")
    return [tables[k] for k in sorted(tables)]
