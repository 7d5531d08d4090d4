"""Reproduce the papers' "JPEG (no restoration)" rows: Pillow encodes, the right metric convention.

A paper's JPEG row scores the decoded JPEG input against the ground truth. Reproducing it to the
printed precision pins down the whole evaluation pipeline (Y definition, encoder, SSIM window,
PSNR-B formula, test split) before any model is compared with the paper (docs/conventions.md).

==================  ============================  ======================================  ================
paper, table        data sets (ours)              inputs                                  convention
==================  ============================  ======================================  ================
FBCNN Table 1       classic5, live1_gray,          gray JPEG of MATLAB Y                   ``fbcnn_gray``
                    bsds500_test (Y)
FBCNN Table 2       live1_color, bsds500_test      colour JPEG, 4:2:0                      ``fbcnn_color``
FBCNN Table 3       live1_gray                     JPEG(QF1), drop 4 rows and columns,     ``fbcnn_double``
                                                   JPEG(QF2); reference cropped the same
QGCN Table III      live1_gray, bsds500_test (Y)   gray JPEG of MATLAB Y                   ``qgcn_gray``
QGCN Table II       live1_color, bsds500_test      colour JPEG, 4:2:0                      ``qgcn_color``
==================  ============================  ======================================  ================

Rows that do not reproduce are listed, with the reason, in :data:`NOT_REPRODUCED` and nowhere
else; ``tests/test_paper_jpeg_rows.py`` checks that exactly those rows miss.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from jarlib.data import double_jpeg, load_dataset, single_jpeg
from jarlib.metrics import evaluate
from jarlib.papers import METRICS, PaperRow, compare, paper_rows

CONVENTION_OF_TABLE: dict[tuple[str, str], str] = {
    ("fbcnn", "Table 1"): "fbcnn_gray",
    ("fbcnn", "Table 2"): "fbcnn_color",
    ("fbcnn", "Table 3"): "fbcnn_double",
    ("qgcn", "Table III"): "qgcn_gray",
    ("qgcn", "Table II"): "qgcn_color",
}
"""The metric convention (:data:`jarlib.metrics.CONVENTIONS`) each table with JPEG rows uses."""

DATASET_OF: dict[tuple[str, str], tuple[str, str]] = {
    ("Classic5", "gray"): ("classic5", "gray"),
    ("LIVE1", "gray"): ("live1_gray", "gray"),
    ("LIVE1", "color"): ("live1_color", "rgb"),
    ("BSDS500", "gray"): ("bsds500_test", "gray"),  # FBCNN and QGCN test on the 200 test images
    ("BSDS500", "color"): ("bsds500_test", "rgb"),
}
"""(paper's data set name, mode) -> (``jarlib.data`` set name, load mode)."""

NOT_REPRODUCED: dict[tuple[str, str, str], str] = {
    ("qgcn", "Table II", "LIVE1"):
        "encoded with IJG libjpeg 9b (the Pillow of 2020); today's Pillow/libjpeg-turbo colour "
        "JPEGs read 0.09-0.12 dB higher PSNR (docs/conventions.md)",
    ("qgcn", "Table II", "BSDS500"):
        "encoded with IJG libjpeg 9b (the Pillow of 2020); today's Pillow/libjpeg-turbo colour "
        "JPEGs read 0.09-0.12 dB higher PSNR (docs/conventions.md)",
    ("fbcnn", "Table 2", "ICB"):
        "no data: the ICB set is not among the project's data sets",
}
"""The one place that lists the JPEG rows we do not reproduce, keyed by (paper, table, data set)."""

TOLERANCE: dict[str, float] = {"psnr": 0.01, "ssim": 0.001, "psnrb": 0.01}
"""Largest |ours rounded to the printed precision - paper| that counts as reproduced."""

DOUBLE_JPEG_SHIFT = (4, 4)
"""FBCNN Table 3: rows and columns dropped between the two compressions."""

def jpeg_rows(checkable_only: bool = False) -> list[PaperRow]:
    """The JPEG-input rows of the tables in :data:`CONVENTION_OF_TABLE`, in file order.

    ``checkable_only`` drops the rows whose data set we do not have (ICB).
    """
    rows = [r for r in paper_rows(method="JPEG") if (r.paper, r.table) in CONVENTION_OF_TABLE]
    return [r for r in rows if is_checkable(r)] if checkable_only else rows


def is_checkable(row: PaperRow) -> bool:
    """Whether the row's data set is one of ours (:data:`DATASET_OF`)."""
    return (row.dataset, row.mode) in DATASET_OF


def expected_to_reproduce(row: PaperRow) -> bool:
    """False exactly for the rows listed in :data:`NOT_REPRODUCED`."""
    return (row.paper, row.table, row.dataset) not in NOT_REPRODUCED


def parse_qf(qf: str) -> tuple[int, ...]:
    """``"10"`` -> (10,); ``"30-10"`` -> (30, 10) (double JPEG: QF1 then QF2)."""
    try:
        return tuple(int(q) for q in qf.split("-"))
    except (AttributeError, ValueError):
        raise ValueError(f"qf must look like '10' or '30-10', got {qf!r}") from None


def jpeg_pair(img: np.ndarray, qf: str) -> tuple[np.ndarray, np.ndarray]:
    """(reference, decoded JPEG) for one image: single JPEG for ``"10"`` (colour 4:2:0), FBCNN's
    non-aligned double JPEG with shift (4, 4) for ``"30-10"`` (reference cropped the same way).

    img: (H, W) or (H, W, 3) uint8. Returns uint8 arrays of equal shape; ``img`` is not modified.
    """
    qfs = parse_qf(qf)
    if len(qfs) == 1:
        return img, single_jpeg(img, qfs[0])
    if len(qfs) == 2:
        i, j = DOUBLE_JPEG_SHIFT
        return img[i:, j:], double_jpeg(img, qfs[0], qfs[1], shift=DOUBLE_JPEG_SHIFT)
    raise ValueError(f"qf must name one or two qualities, got {qf!r}")


@dataclass(frozen=True)
class RowResult:
    """Our numbers for one paper row (means over the set's images), and how they compare."""

    row: PaperRow
    convention: str
    n_images: int
    psnr: float
    ssim: float
    psnrb: float

    def ours(self) -> dict[str, float]:
        """``{"psnr", "ssim", "psnrb"}``: our values, unrounded."""
        return {m: getattr(self, m) for m in METRICS}

    def matches(self, metric: str) -> bool:
        """Ours, rounded to the paper's printed decimals, is within :data:`TOLERANCE` of the paper."""
        theirs, dec = self.row.value(metric), self.row.printed_decimals(metric)
        if theirs is None or dec is None:
            return True  # nothing printed, nothing to miss
        return abs(round(getattr(self, metric), dec) - theirs) <= TOLERANCE[metric] + 1e-9

    @property
    def reproduced(self) -> bool:
        """PSNR, SSIM and PSNR-B all match."""
        return all(self.matches(m) for m in METRICS)

    def as_dict(self) -> dict[str, object]:
        """One line of the comparison table: paper columns, ours | paper | diff, reproduced?"""
        out = compare(self.row, self.ours())
        out.update(convention=self.convention, n_images=self.n_images, reproduced=self.reproduced,
                   expected=expected_to_reproduce(self.row),
                   reason=NOT_REPRODUCED.get((self.row.paper, self.row.table, self.row.dataset), ""))
        return out


class JpegRowEvaluator:
    """Scores paper rows, caching the per-set means of each (data set, QF, convention).

    ``limit`` keeps the first N images of each set (smoke runs: the means then differ from the
    paper's). Reference images are kept in memory; encodes are not (only their scores).
    """

    def __init__(self, limit: int | None = None) -> None:
        self.limit = limit
        self._images: dict[tuple[str, str], list[np.ndarray]] = {}
        self._scores: dict[tuple[str, str, str, str], dict[str, float]] = {}

    def images(self, dataset: str, mode: str) -> list[np.ndarray]:
        """The set's uint8 images (``jarlib.data`` name and load mode), loaded once."""
        key = (dataset, mode)
        if key not in self._images:
            self._images[key] = [img for _, img in load_dataset(dataset, mode=mode, limit=self.limit)]
        return self._images[key]

    def scores(self, dataset: str, mode: str, qf: str, convention: str) -> dict[str, float]:
        """Mean ``{"psnr", "ssim", "psnrb"}`` of the set's JPEG inputs at ``qf`` under ``convention``.

        Each image is encoded again per convention: encoding costs a few per cent of scoring.
        """
        key = (dataset, mode, qf, convention)
        if key not in self._scores:
            images = self.images(dataset, mode)
            sums = dict.fromkeys(METRICS, 0.0)
            for img in images:
                for m, v in evaluate(*jpeg_pair(img, qf), convention).items():
                    sums[m] += v
            self._scores[key] = {m: v / len(images) for m, v in sums.items()}
        return self._scores[key]

    def evaluate(self, row: PaperRow) -> RowResult:
        """Our numbers for one JPEG row. Raises ``ValueError`` for rows we cannot check (ICB)."""
        if (row.paper, row.table) not in CONVENTION_OF_TABLE:
            raise ValueError(f"no JPEG-row convention for {row.paper} {row.table}")
        if not is_checkable(row):
            raise ValueError(f"cannot check {row.key}: no data set for {row.dataset} ({row.mode})")
        if row.qf is None:
            raise ValueError(f"row {row.key} has no QF")
        convention = CONVENTION_OF_TABLE[(row.paper, row.table)]
        dataset, mode = DATASET_OF[(row.dataset, row.mode)]
        s = self.scores(dataset, mode, row.qf, convention)
        return RowResult(row, convention, len(self.images(dataset, mode)), s["psnr"], s["ssim"], s["psnrb"])

    def evaluate_all(self, rows: Iterable[PaperRow] | None = None) -> list[RowResult]:
        """:meth:`evaluate` for every checkable row (default: all checkable JPEG rows)."""
        rows = jpeg_rows(checkable_only=True) if rows is None else [r for r in rows if is_checkable(r)]
        return [self.evaluate(r) for r in rows]
