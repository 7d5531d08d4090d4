"""Every checkable "JPEG (no restoration)" row of the papers reproduces with Pillow, except exactly the
rows listed in ``jarlib.jpeg_rows.NOT_REPRODUCED`` (docs/conventions.md). Needs the data sets.

Tolerances (``jarlib.jpeg_rows.TOLERANCE``), ours rounded to the printed precision first:
PSNR and PSNR-B +-0.01 dB, SSIM +-0.001. One evaluator is shared by the whole module, so each
(data set, QF, convention) is scored once (about 3 minutes on 2 CPU cores, BSDS500 colour dominating).
"""

from __future__ import annotations

import pytest

from jarlib.jpeg_rows import (
    NOT_REPRODUCED,
    JpegRowEvaluator,
    RowResult,
    expected_to_reproduce,
    is_checkable,
    jpeg_pair,
    jpeg_rows,
    parse_qf,
)
from jarlib.papers import paper_rows

ROWS = jpeg_rows(checkable_only=True)


@pytest.fixture(scope="module")
def evaluator(datasets_available) -> JpegRowEvaluator:
    return JpegRowEvaluator()


def test_row_inventory():
    """49 checkable JPEG rows (FBCNN T1-T3, QGCN T2-T3); ICB's 4 rows have no data; every
    NOT_REPRODUCED entry names rows that exist."""
    assert len(ROWS) == 49
    unchecked = [r for r in jpeg_rows() if not is_checkable(r)]
    assert {(r.paper, r.table, r.dataset) for r in unchecked} == {("fbcnn", "Table 2", "ICB")}
    assert len(unchecked) == 4
    for paper, table, dataset in NOT_REPRODUCED:
        assert paper_rows(paper, table, dataset, method="JPEG"), (paper, table, dataset)


@pytest.mark.parametrize("row", ROWS, ids=[r.key.replace(" ", "_") for r in ROWS])
def test_jpeg_row(evaluator: JpegRowEvaluator, row):
    result: RowResult = evaluator.evaluate(row)
    detail = (f"{row.key}: ours {result.psnr:.3f} | {result.ssim:.4f} | {result.psnrb:.3f}, "
              f"paper {row.psnr} | {row.ssim} | {row.psnrb} ({result.convention}, {result.n_images} images)")
    if expected_to_reproduce(row):
        assert result.reproduced, detail
    else:
        assert not result.reproduced, f"listed in NOT_REPRODUCED but reproduces: {detail}"


def test_unavailable_rows_raise(evaluator: JpegRowEvaluator):
    icb = paper_rows("fbcnn", "Table 2", "ICB", method="JPEG")[0]
    with pytest.raises(ValueError, match="no data set"):
        evaluator.evaluate(icb)
    with pytest.raises(ValueError, match="no JPEG-row convention"):
        evaluator.evaluate(paper_rows("dcsc", method="DCSC")[0])


def test_jpeg_pair_shapes_and_qf_parsing():
    import numpy as np

    img = np.random.default_rng(0).integers(0, 256, (40, 48), dtype=np.uint8)
    before = img.copy()
    ref, test = jpeg_pair(img, "30-10")
    assert ref.shape == test.shape == (36, 44)
    assert np.array_equal(ref, img[4:, 4:]) and np.array_equal(img, before)
    ref, test = jpeg_pair(img, "10")
    assert ref.shape == test.shape == img.shape
    assert parse_qf("50-30") == (50, 30)
    with pytest.raises(ValueError):
        parse_qf("q10")
