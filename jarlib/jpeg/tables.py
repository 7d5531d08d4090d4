"""Quantization tables (IJG/libjpeg scaling of the Annex K tables) and the zigzag order.

These are exactly the tables libjpeg (and so Pillow) writes into a file for ``quality`` 1..100
(checked for all 100 qualities in ``tests/test_jpeg_tables.py``).
"""

from __future__ import annotations

import numpy as np

from jarlib._checks import check_quality

# ITU-T T.81 Annex K.1, natural (row-major) order: K.1 luminance, K.2 chrominance.
LUMA_BASE = np.array(
    [[16, 11, 10, 16, 24, 40, 51, 61],
     [12, 12, 14, 19, 26, 58, 60, 55],
     [14, 13, 16, 24, 40, 57, 69, 56],
     [14, 17, 22, 29, 51, 87, 80, 62],
     [18, 22, 37, 56, 68, 109, 103, 77],
     [24, 35, 55, 64, 81, 104, 113, 92],
     [49, 64, 78, 87, 103, 121, 120, 101],
     [72, 92, 95, 98, 112, 100, 103, 99]], dtype=np.int32)
CHROMA_BASE = np.array(
    [[17, 18, 24, 47, 99, 99, 99, 99],
     [18, 21, 26, 66, 99, 99, 99, 99],
     [24, 26, 56, 99, 99, 99, 99, 99],
     [47, 66, 99, 99, 99, 99, 99, 99],
     [99, 99, 99, 99, 99, 99, 99, 99],
     [99, 99, 99, 99, 99, 99, 99, 99],
     [99, 99, 99, 99, 99, 99, 99, 99],
     [99, 99, 99, 99, 99, 99, 99, 99]], dtype=np.int32)


def _zigzag_order() -> np.ndarray:
    """Flat natural-order indices (row * 8 + col) visited in zigzag order (T.81 Figure 5)."""
    cells = [(r, c) for r in range(8) for c in range(8)]
    # Walk anti-diagonals s = r + c; odd diagonals go down (row increasing), even go up.
    cells.sort(key=lambda rc: (rc[0] + rc[1], rc[0] if (rc[0] + rc[1]) % 2 else rc[1]))
    return np.array([r * 8 + c for r, c in cells], dtype=np.intp)


ZIGZAG = _zigzag_order()
"""``ZIGZAG[k]`` is the natural-order index (row*8+col) of the k-th coefficient in zigzag order."""
ZIGZAG.setflags(write=False)


def quality_scale(quality: int) -> int:
    """IJG percentage scale S for a quality: 5000 // q below 50, else 200 - 2 q (``jpeg_quality_scaling``)."""
    q = check_quality(quality)
    return 5000 // q if q < 50 else 200 - 2 * q


def quant_table(quality: int, chroma: bool = False) -> np.ndarray:
    """The 8x8 quantization table libjpeg uses at ``quality`` (1..100): (8, 8) int32, natural order.

    Q = clip((T * S + 50) // 100, 1, 255) with T the Annex K base table and S = ``quality_scale``
    (libjpeg ``jpeg_add_quant_table`` with ``force_baseline``). At QF10, 38 of 64 luma entries
    saturate at 255; at QF1 all 64 do.
    """
    base = CHROMA_BASE if chroma else LUMA_BASE
    s = quality_scale(quality)
    return np.clip((base * s + 50) // 100, 1, 255).astype(np.int32)


def zigzag(block: np.ndarray) -> np.ndarray:
    """(..., 8, 8) natural order -> (..., 64) zigzag order. Does not modify its input."""
    block = np.asarray(block)
    if block.shape[-2:] != (8, 8):
        raise ValueError(f"zigzag expects (..., 8, 8) blocks, got shape {block.shape}")
    return block.reshape(*block.shape[:-2], 64)[..., ZIGZAG]


def unzigzag(vector: np.ndarray) -> np.ndarray:
    """(..., 64) zigzag order -> (..., 8, 8) natural order; inverse of :func:`zigzag`."""
    vector = np.asarray(vector)
    if vector.shape[-1] != 64:
        raise ValueError(f"unzigzag expects (..., 64) vectors, got shape {vector.shape}")
    out = np.empty_like(vector)
    out[..., ZIGZAG] = vector
    return out.reshape(*vector.shape[:-1], 8, 8)


def estimate_quality(tables: "list[np.ndarray] | np.ndarray") -> int:
    """The IJG quality 1..100 whose luma table is closest to a file's (exact for libjpeg/Pillow files).

    ``tables``: the list :func:`jarlib.jpeg.read_quant_tables` returns (table 0 is luma) or one
    (8, 8) luma table. Closest means the smallest mean squared difference of log-steps, so tables
    from other encoders (e.g. a camera's) map to the IJG quality with the same overall coarseness.
    """
    luma = np.asarray(tables[0] if isinstance(tables, (list, tuple)) else tables, dtype=np.float64)
    if luma.shape != (8, 8):
        raise ValueError(f"a quantization table must be 8x8, got shape {luma.shape}")
    if np.any(luma < 1):
        raise ValueError("quantization steps must be >= 1")
    errors = [np.mean((np.log(quant_table(q).astype(np.float64)) - np.log(luma)) ** 2) for q in range(1, 101)]
    return int(np.argmin(errors)) + 1
