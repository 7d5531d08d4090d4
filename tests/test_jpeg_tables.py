"""Quantization tables and zigzag order (jarlib.jpeg.tables) against what libjpeg writes."""

import io

import numpy as np
import pytest
from PIL import Image

from jarlib.jpeg import ZIGZAG, encode_bytes, estimate_quality, quant_table, read_quant_tables, unzigzag, zigzag

GRAY = np.tile(np.arange(16, dtype=np.uint8) * 16, (16, 1))  # (16, 16) ramp
RGB = np.stack([GRAY, GRAY.T, 255 - GRAY], axis=-1)          # (16, 16, 3)


@pytest.fixture(scope="module")
def colour_files() -> dict[int, bytes]:
    """One tiny colour JPEG per quality 1..100 (luma and chroma tables)."""
    return {q: encode_bytes(RGB, q) for q in range(1, 101)}


def test_tables_match_dqt_segments(colour_files):
    for q, data in colour_files.items():
        luma, chroma = read_quant_tables(data)
        np.testing.assert_array_equal(luma, quant_table(q), err_msg=f"luma QF{q}")
        np.testing.assert_array_equal(chroma, quant_table(q, chroma=True), err_msg=f"chroma QF{q}")


def test_tables_match_pillow_quantization(colour_files):
    for q, data in colour_files.items():
        with Image.open(io.BytesIO(data)) as pil:
            tables = pil.quantization  # {id: 64 values}; Pillow >= 8 gives natural order
        np.testing.assert_array_equal(np.reshape(tables[0], (8, 8)), quant_table(q))
        np.testing.assert_array_equal(np.reshape(tables[1], (8, 8)), quant_table(q, chroma=True))


def test_gray_file_has_one_table():
    tables = read_quant_tables(encode_bytes(GRAY, 75))
    assert len(tables) == 1
    np.testing.assert_array_equal(tables[0], quant_table(75))


def test_table_properties():
    assert quant_table(50)[0, 0] == 16 and quant_table(100).max() == 1
    assert (quant_table(10) == 255).sum() == 38
    assert (quant_table(1) == 255).all()
    assert quant_table(50).dtype == np.int32 and quant_table(50).shape == (8, 8)


@pytest.mark.parametrize("bad, error", [
    (0, ValueError), (101, ValueError), (50.0, TypeError), (True, TypeError)])
def test_quant_table_rejects_bad_quality(bad, error):
    with pytest.raises(error, match="quality"):
        quant_table(bad)


def test_zigzag_first_entries():
    # T.81 Figure 5: (0,0) (0,1) (1,0) (2,0) (1,1) (0,2) (0,3) (1,2) (2,1) (3,0) ...
    expected = [(0, 0), (0, 1), (1, 0), (2, 0), (1, 1), (0, 2), (0, 3), (1, 2), (2, 1), (3, 0)]
    assert [divmod(int(k), 8) for k in ZIGZAG[:10]] == expected
    assert divmod(int(ZIGZAG[-1]), 8) == (7, 7)
    assert sorted(ZIGZAG.tolist()) == list(range(64))


def test_zigzag_unzigzag_inverse():
    blocks = np.random.default_rng(0).integers(-50, 50, (3, 4, 8, 8))
    before = blocks.copy()
    np.testing.assert_array_equal(unzigzag(zigzag(blocks)), blocks)
    vec = zigzag(blocks)
    np.testing.assert_array_equal(zigzag(unzigzag(vec)), vec)
    np.testing.assert_array_equal(blocks, before)


def test_zigzag_shape_errors():
    with pytest.raises(ValueError):
        zigzag(np.zeros((8, 7)))
    with pytest.raises(ValueError):
        unzigzag(np.zeros(63))


@pytest.mark.parametrize("data, match", [
    (b"", "not a JPEG"),
    (b"\x89PNG\r\n\x1a\n" + b"\0" * 20, "not a JPEG"),
    (b"\xff\xd8\xff\xdb\x00\x43\x00" + b"\x01" * 10, "truncated|past the end"),
    (b"\xff\xd8\xff\xd9", "no quantization tables"),
])
def test_read_quant_tables_errors(data, match):
    with pytest.raises(ValueError, match=match):
        read_quant_tables(data)


def test_read_quant_tables_type_error():
    with pytest.raises(TypeError):
        read_quant_tables(12345)


def test_estimate_quality_is_exact_for_libjpeg_files():
    img = (np.arange(64 * 64).reshape(64, 64) % 251).astype(np.uint8)
    for q in range(1, 101):
        assert estimate_quality(read_quant_tables(encode_bytes(img, q))) == q


def test_estimate_quality_nearest_for_foreign_tables():
    foreign = np.maximum(1, np.round(quant_table(37) * 1.02)).astype(np.int32)  # a slightly different encoder
    assert abs(estimate_quality(foreign) - 37) <= 1
    with pytest.raises(ValueError, match="8x8"):
        estimate_quality(np.ones((4, 4)))
