"""`python -m jarlib.bench` on a tiny slice: rows, paper references, CSV round trip, summary."""

from __future__ import annotations

import pytest

from jarlib import bench
from jarlib.data import data_root

needs_data = pytest.mark.skipif(data_root(required=False) is None, reason="needs ../shared/datasets")


def test_paper_reference_finds_the_published_rows():
    r = bench.paper_reference("dcsc", "gray", "live1_gray", 10)
    assert r["paper_psnr"] == 29.34 and r["paper_ssim_window"] == "uniform8"
    assert r["paper_jpeg_psnr"] == 27.77              # from FBCNN's Table 1: the erratum has no JPEG row
    r = bench.paper_reference("fbcnn", "color", "live1_color", 10)
    assert r["paper_method"] == "FBCNN-C" and r["paper_jpeg_psnr"] == 25.69
    assert bench.paper_reference("fbcnn", "gray", "bsds500_val", 10)["paper_psnr"] is None   # FBCNN tests on test
    assert bench.paper_reference("nosuch", "gray", "live1_gray", 10)["paper"] is None


def test_plan_matches_sets_to_the_model_mode():
    assert bench.plan(["dcsc_gray"]) == [("dcsc_gray", s, "gray") for s in bench.GRAY_SETS]
    assert bench.plan(["dcsc_gray"], ["live1_color", "classic5"]) == [("dcsc_gray", "classic5", "gray")]


@needs_data
def test_run_writes_csv_and_summary(tmp_path, capsys):
    out = tmp_path / "b.csv"
    assert bench.main(["--models", "dcsc_gray", "--sets", "live1_gray", "--qfs", "10", "--limit", "1", "-q",
                       "--out", str(out)]) == 0
    rows = bench.read_csv(out)
    assert len(rows) == 1 and rows[0]["model"] == "dcsc_gray" and rows[0]["images"] == 1
    assert rows[0]["psnr"] > rows[0]["psnr_jpeg"] and rows[0]["paper_psnr"] == 29.34 and rows[0]["ms_512"] > 0
    md = (tmp_path / "b.md").read_text()
    assert "| `dcsc_gray` | live1_gray |" in md and "(29.34)" in md and "| JPEG | live1_gray |" in md


def test_unknown_model_is_a_clear_error(capsys):
    assert bench.main(["--models", "nope", "-q"]) == 2
    assert "no zoo model nope" in capsys.readouterr().err
