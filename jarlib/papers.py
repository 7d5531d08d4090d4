"""The five papers' result tables as printed, and our numbers side by side with theirs.

``data/paper_tables.csv`` (a verbatim copy of the course's ``paper_tables.csv``) holds one row per
printed table cell group: ``paper,table,dataset,mode,qf,method,psnr,ssim,psnrb,note``. Papers are
``fbcnn``, ``qgcn``, ``dcsc`` (``Table 1`` is superseded by the ``Errata`` rows, the authors' erratum of February 2020),
``cqr`` and ``dualpriors``. Which SSIM window and PSNR-B definition each table uses is in
:mod:`jarlib.metrics`; which of the "JPEG" rows we reproduce is in :mod:`jarlib.jpeg_rows`.
"""

from __future__ import annotations

import csv
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

TABLES_CSV = Path(__file__).resolve().parents[1] / "data" / "paper_tables.csv"
METRICS = ("psnr", "ssim", "psnrb")
PAPER_SET_NAMES = {
    "fbcnn": {"classic5": "Classic5", "live1_gray": "LIVE1", "live1_color": "LIVE1", "bsds500_test": "BSDS500"},
    "qgcn": {"live1_gray": "LIVE1", "live1_color": "LIVE1", "bsds500_test": "BSDS500"},
    "dcsc": {"classic5": "Classic5", "live1_gray": "LIVE1", "bsds500_val": "BSD500"},
    # CQR claims 500 images, but its comparison rows are DCSC's, computed on the 100 val images
    "cqr": {"classic5": "Classic5", "live1_gray": "LIVE1", "bsds500_val": "BSDS500"},
    "dualpriors": {"classic5": "Classic5", "live1_gray": "LIVE1", "bsds500_val": "BSD500"},
}
"""How each paper names our data sets (a set missing here is not in that paper's tables):
"BSDS500" is the 200 test images for FBCNN and QGCN, the 100 val images for the others (docs/conventions.md, Test sets)."""


@dataclass(frozen=True)
class PaperRow:
    """One printed result: a method on a data set at a QF, in one paper's table.

    ``qf`` is kept as printed: ``"10"``, ``"30-10"`` (double JPEG QF1-QF2) or ``None`` (real-world
    sets without a QF). Missing numbers are ``None``. ``decimals`` is how many decimals each of
    (psnr, ssim, psnrb) was printed with, so comparisons can round ours the same way.
    """

    paper: str
    table: str
    dataset: str
    mode: str
    qf: str | None
    method: str
    psnr: float | None
    ssim: float | None
    psnrb: float | None
    note: str
    decimals: tuple[int | None, int | None, int | None]

    def value(self, metric: str) -> float | None:
        """The printed value of ``metric`` (``psnr``, ``ssim`` or ``psnrb``)."""
        return getattr(self, _check_metric(metric))

    def printed_decimals(self, metric: str) -> int | None:
        """Decimals ``metric`` was printed with (None when the cell is empty)."""
        return self.decimals[METRICS.index(_check_metric(metric))]

    @property
    def key(self) -> str:
        """A short label, e.g. ``fbcnn Table 1 LIVE1 gray q10 JPEG``."""
        return f"{self.paper} {self.table} {self.dataset} {self.mode} q{self.qf} {self.method}"


def _check_metric(metric: str) -> str:
    if metric not in METRICS:
        raise ValueError(f"metric must be one of {METRICS}, got {metric!r}")
    return metric


def _number(text: str) -> tuple[float | None, int | None]:
    text = text.strip()
    if not text:
        return None, None
    return float(text), len(text.split(".")[1]) if "." in text else 0


def _parse(record: Mapping[str, str]) -> PaperRow:
    values = [_number(record[m]) for m in METRICS]
    return PaperRow(
        paper=record["paper"], table=record["table"], dataset=record["dataset"], mode=record["mode"],
        qf=record["qf"].strip() or None, method=record["method"],
        psnr=values[0][0], ssim=values[1][0], psnrb=values[2][0], note=record["note"],
        decimals=(values[0][1], values[1][1], values[2][1]),
    )


@functools.lru_cache(maxsize=4)
def _load(path: Path) -> tuple[PaperRow, ...]:
    with open(path, newline="", encoding="utf-8") as f:
        return tuple(_parse(r) for r in csv.DictReader(f))


def paper_rows(paper: str | None = None, table: str | None = None, dataset: str | None = None,
               mode: str | None = None, qf: str | int | None = None, method: str | None = None,
               path: str | Path | None = None) -> list[PaperRow]:
    """Rows of the papers' tables matching every filter given (exact, case-sensitive; ``qf`` may be
    an int for single JPEG), in file order. ``path`` defaults to ``data/paper_tables.csv``.

    >>> paper_rows("fbcnn", "Table 1", "LIVE1", qf=10, method="JPEG")[0].psnr
    27.77
    """
    wanted = {"paper": paper, "table": table, "dataset": dataset, "mode": mode,
              "qf": None if qf is None else str(qf), "method": method}
    rows = _load(Path(path) if path is not None else TABLES_CSV)
    return [r for r in rows if all(v is None or getattr(r, k) == v for k, v in wanted.items())]


def compare(row: PaperRow, ours: Mapping[str, float | None]) -> dict[str, object]:
    """Our numbers next to one paper row: ``{label, ours_psnr, paper_psnr, diff_psnr, ...}``.

    ``ours`` maps metric names to values (missing or None -> blank). Differences are ours minus the
    paper's, after rounding ours to the paper's printed precision.
    """
    out: dict[str, object] = {"paper": row.paper, "table": row.table, "dataset": row.dataset,
                              "mode": row.mode, "qf": row.qf, "method": row.method}
    for m in METRICS:
        mine, theirs, dec = ours.get(m), row.value(m), row.printed_decimals(m)
        shown = round(float(mine), dec) if mine is not None and dec is not None else mine
        out[f"ours_{m}"] = shown
        out[f"paper_{m}"] = theirs
        out[f"diff_{m}"] = (round(shown - theirs, dec) if shown is not None and theirs is not None
                            and dec is not None else None)
    return out


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "yes" if value else "NO"
    if isinstance(value, float):
        return f"{value:.4f}".rstrip("0").rstrip(".")
    return str(value)


def markdown_table(records: Sequence[Mapping[str, object]], columns: Sequence[str] | None = None) -> str:
    """A GitHub-markdown table of ``records`` (dicts), columns in the order given (default: the
    first record's keys). Floats are shown with up to 4 decimals, None as blank, booleans yes/NO."""
    if not records:
        return ""
    columns = list(columns) if columns is not None else list(records[0])
    lines = ["| " + " | ".join(columns) + " |", "|" + "---|" * len(columns)]
    lines += ["| " + " | ".join(_cell(r.get(c)) for c in columns) + " |" for r in records]
    return "\n".join(lines)


def side_by_side(ours: Mapping[str, Mapping[str, Mapping[str, Mapping[str, float]]]], paper: str, table: str,
                 methods: Sequence[str], metrics: Sequence[str] = METRICS) -> str:
    """The notebooks' results table in Markdown: one line per data set and QF with the JPEG input
    (ours, and the paper's JPEG row), each of our models, the gain of the last one over JPEG, and
    the paper's rows for ``methods``; cells show ``metrics`` (e.g. ``psnr / ssim / psnrb``), "–"
    where the paper has no such row.

    ``ours`` maps a column label to ``{set: {qf: scores}}`` as :func:`jarlib.evaluation.evaluate_restorer`
    returns them per set (``scores`` holds ``psnr``, ``psnr_jpeg``, ...). Sets are named as in
    :mod:`jarlib.data` and matched to the paper's through :data:`PAPER_SET_NAMES`.
    """
    if not ours:
        raise ValueError("side_by_side needs at least one model's scores")
    digits = {"psnr": 2, "ssim": 4, "psnrb": 2}

    def cell(values: Mapping[str, float | None], suffix: str = "") -> str:
        got = [values.get(m + suffix) for m in metrics]
        return " / ".join("–" if v is None else f"{v:.{digits.get(m, 4)}f}" for m, v in zip(metrics, got))

    def printed(dataset: str | None, qf: str, method: str) -> str:
        rows = paper_rows(paper, table, dataset, qf=qf, method=method) if dataset else []
        return cell({m: rows[0].value(m) for m in metrics}) if rows else "–"

    labels = list(ours)
    head = ["set", "QF", "JPEG (ours)", "JPEG (paper)", *labels, "gain", *[f"{m} (paper)" for m in methods]]
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    first = ours[labels[0]]
    for dataset, by_qf in first.items():
        name = PAPER_SET_NAMES.get(paper, {}).get(dataset)
        for qf in [k for k, v in by_qf.items() if isinstance(v, Mapping)]:   # skip "images", "per_image"
            last = ours[labels[-1]][dataset][qf]
            row = [dataset, qf, cell(by_qf[qf], "_jpeg"), printed(name, qf, "JPEG"),
                   *[cell(ours[lab][dataset][qf]) for lab in labels], f"{last['psnr'] - last['psnr_jpeg']:+.2f}",
                   *[printed(name, qf, m) for m in methods]]
            lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines)
