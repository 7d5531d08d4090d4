"""jarlib.papers: the side-by-side tables of the notebooks."""

import pytest

from jarlib.papers import PAPER_SET_NAMES, paper_rows, side_by_side


def test_side_by_side_puts_ours_next_to_the_printed_rows():
    ours = {"psnr": 29.0123, "ssim": 0.81234, "psnrb": 28.5, "psnr_jpeg": 27.77, "ssim_jpeg": 0.7905, "psnrb_jpeg": 25.33}
    table = side_by_side({"mine": {"live1_gray": {"10": ours, "images": 29}, "samples": {"10": ours}}}, "fbcnn", "Table 1", ["FBCNN", "Nope"])
    lines = table.splitlines()
    assert lines[0] == "| set | QF | JPEG (ours) | JPEG (paper) | mine | gain | FBCNN (paper) | Nope (paper) |"
    live = lines[2].split(" | ")
    assert live[2] == "27.77 / 0.7905 / 25.33" and live[4] == "29.01 / 0.8123 / 28.50" and live[5] == "+1.24"
    row = paper_rows("fbcnn", "Table 1", "LIVE1", qf=10, method="FBCNN")[0]
    assert live[6] == f"{row.psnr:.2f} / {row.ssim:.4f} / {row.psnrb:.2f}"
    assert live[3].startswith("27.77") and lines[2].endswith("| – |")       # no such method: a dash
    assert lines[3].count("–") == 3                                         # a set the paper lacks
    for paper, sets in PAPER_SET_NAMES.items():                             # every mapped name is in that paper
        for ours_name, theirs in sets.items():
            assert paper_rows(paper, dataset=theirs), (paper, ours_name, theirs)
    with pytest.raises(ValueError, match="at least one"):
        side_by_side({}, "fbcnn", "Table 1", ["FBCNN"])
