"""The benchmark: every zoo model on the papers' test sets, next to the papers' own numbers.

    python -m jarlib.bench                      # every zoo model, every set, QF 10-40 (CPU-hours)
    python -m jarlib.bench --models fbcnn_gray --sets live1_gray --qfs 10 20 --limit 5   # a quick look

It keeps the rows of the CSV it writes that still match (same weights, images and QFs) and computes
only the rest, saving after each model and set: an interrupted run resumes, and a new zoo model is
added with ``--models NAME`` (``--fresh`` recomputes everything). Where the zoo manifest already
holds a model's scores on a whole set at the QFs asked for (``zoo add`` measures LIVE1 and Classic5
with the same function and conventions, on the CPU), the rows are taken from it instead of computed
again. Each model is timed once, when first loaded; ``--retime`` times every model of the table
again (run it alone on the machine).

Gray models are scored on Classic5, LIVE1, BSDS500 test (200, the FBCNN / QGCN protocol) and
BSDS500 val (100, the DCSC / Dual priors protocol) with FBCNN's gray convention (MATLAB Y); colour
models on LIVE1 and BSDS500 test in RGB. Each row has PSNR, SSIM with both windows (``ssim``: the
11x11 Gaussian window of FBCNN; ``ssim_uniform8``: the 8x8 uniform window of ARCNN's script, used by
the DCSC erratum, QGCN and Dual priors), PSNR-B, the same for the Pillow JPEG input, the model's
size and CPU time per 512x512 image (``ms_512``, measured on the machine named in ``cpu``), and the
paper's row for the same model, set and QF with that paper's JPEG row (``../shared/paper_tables.csv``;
the paper's SSIM uses the window named in ``paper_ssim_window``). Written to
``benchmarks/results/benchmark.csv`` (atomically) and summarised in ``benchmark.md``, which the
README quotes.
"""

from __future__ import annotations

import argparse
import csv
import os
import statistics
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

from jarlib import zoo
from jarlib.atomic import atomic_path, write_text_atomic
from jarlib.data import sample_images
from jarlib.data.registry import dataset_info
from jarlib import evaluation
from jarlib.jpeg import encode_bytes
from jarlib.papers import PAPER_SET_NAMES, paper_rows
from jarlib.zoo import convention_for

OUT_DIR = Path(__file__).resolve().parents[1] / "benchmarks" / "results"
GRAY_SETS = ("classic5", "live1_gray", "bsds500_test", "bsds500_val")
COLOR_SETS = ("live1_color", "bsds500_test")
QFS = (10, 20, 30, 40)

# model family -> (paper, table, method) of its published row, gray and colour
PAPER_ROWS = {
    ("arcnn", "gray"): ("fbcnn", "Table 1", "ARCNN"),
    ("dncnn", "gray"): ("fbcnn", "Table 1", "DnCNN"),
    ("dcsc", "gray"): ("dcsc", "Errata", "DCSC (updated model)"),
    ("fbcnn", "gray"): ("fbcnn", "Table 1", "FBCNN"),
    ("fbcnn", "color"): ("fbcnn", "Table 2", "FBCNN-C"),
    ("qgcn", "gray"): ("qgcn", "Table III", "QGCN"),
    ("qgcn", "color"): ("qgcn", "Table II", "QGCN"),
    ("cqr", "gray"): ("cqr", "Table 2", "CQR"),
    ("dualpriors", "gray"): ("dualpriors", "Table 1", "DUALPRIORS"),
}
PAPER_SSIM_WINDOW = {"fbcnn": "gaussian11", "qgcn": "uniform8", "dcsc": "uniform8", "dualpriors": "uniform8",
                     "cqr": "unstated"}
ABLATIONS = {"qgcn": {"global_branch": False, "use_qmap": False}, "cqr": {"ranker": None}}
"""Model arguments that make a zoo model one of its paper's ablations (QCN, QGCN without the map,
CQR without the ranker): the paper has no row for it in the compared table, so its paper columns
hold only the JPEG row."""

COLUMNS = ["model", "family", "mode", "set", "images", "qf", "psnr", "ssim", "ssim_uniform8", "psnrb",
           "psnr_jpeg", "ssim_jpeg", "ssim_uniform8_jpeg", "psnrb_jpeg", "gain",
           "paper", "paper_method", "paper_psnr", "paper_ssim", "paper_psnrb", "paper_ssim_window",
           "paper_jpeg_psnr", "paper_jpeg_ssim", "paper_jpeg_psnrb", "parameters", "ms_512", "cpu", "training_qf",
           "weights_sha256"]


def paper_reference(family: str, mode: str, dataset: str, qf: int,
                    model_args: Optional[dict[str, Any]] = None) -> dict[str, Any]:
    """The paper's row for a model family on ``dataset`` at ``qf``, and that paper's JPEG row
    (empty fields when the paper has no such row; only the JPEG row for an ablation, see
    :data:`ABLATIONS`, given the zoo model's ``model_args``)."""
    out: dict[str, Any] = {k: None for k in COLUMNS if k.startswith("paper")}
    ref = PAPER_ROWS.get((family, mode))
    if ref is None:
        return out
    paper, table, method = ref
    name = PAPER_SET_NAMES.get(paper, {}).get(dataset)
    if name is None:
        return out
    ablation = any(k in (model_args or {}) and model_args[k] == v for k, v in ABLATIONS.get(family, {}).items())
    rows = [] if ablation else paper_rows(paper, table, name, qf=qf, method=method)
    jpeg = paper_rows(paper, table, name, qf=qf, method="JPEG")
    if not jpeg and paper == "dcsc" and name != "BSD500":
        # the erratum prints no JPEG row; FBCNN's Table 1 has the same inputs (not for BSDS500 val)
        jpeg = paper_rows("fbcnn", "Table 1", name, qf=qf, method="JPEG")
    out.update(paper=f"{paper} {table}", paper_method=None if ablation else method,
               paper_ssim_window=PAPER_SSIM_WINDOW[paper])
    if rows:
        out.update(paper_psnr=rows[0].psnr, paper_ssim=rows[0].ssim, paper_psnrb=rows[0].psnrb)
    if jpeg:
        out.update(paper_jpeg_psnr=jpeg[0].psnr, paper_jpeg_ssim=jpeg[0].ssim, paper_jpeg_psnrb=jpeg[0].psnrb)
    return out


def cpu_description() -> str:
    """This machine's CPU model name and the bf16 instructions it has (Linux: /proc/cpuinfo): what a
    speed column was measured on, since the same code runs 10x apart on two 2-core machines."""
    try:
        info = Path("/proc/cpuinfo").read_text()
    except OSError:
        import platform
        return platform.processor() or "unknown"
    lines = info.splitlines()
    name = next((line.split(":", 1)[1].strip() for line in lines if line.startswith("model name")), "unknown")
    flags = set(next((line.split(":", 1)[1].split() for line in lines if line.startswith("flags")), []))
    bf16 = [f for f in ("avx512_bf16", "amx_bf16") if f in flags]
    return f"{name} ({', '.join(bf16) if bf16 else 'no bf16 instructions'})"


def restore_ms(model: Any, repeats: int = 3) -> float:
    """Median milliseconds of ``model.restore`` on a 512x512 JPEG (QF 20, gray or colour as the model)."""
    img = sample_images("rgb")["astronaut"] if model.in_channels == 3 else sample_images("gray")["camera"]
    data = encode_bytes(img[:512, :512], 20)
    model.restore(data)
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        model.restore(data)
        times.append(time.perf_counter() - t0)
    return 1000 * statistics.median(times)


def plan(models: Sequence[str], sets: Optional[Sequence[str]] = None) -> list[tuple[str, str, str]]:
    """``(model, set, mode)`` for every model and every set that fits its mode (or the given ``sets``;
    a colour-only set is skipped for a gray model and vice versa)."""
    out = []
    for m in models:
        mode = "color" if zoo.info(m)["in_channels"] == 3 else "gray"
        wanted = sets or (COLOR_SETS if mode == "color" else GRAY_SETS)
        for s in wanted:
            if (mode == "gray" and s.endswith("_color")) or (mode == "color" and s.endswith("_gray")):
                continue
            out.append((m, s, mode))
    return out


def _row_key(row: dict[str, Any]) -> tuple[str, str, str, int]:
    return row["model"], row["set"], row["mode"], int(row["qf"])


def _expected_images(dataset: str, limit: Optional[int]) -> int:

    count = dataset_info(dataset).count
    return count if limit is None else min(limit, count)


SCORE_KEYS = ("psnr", "ssim", "ssim_uniform8", "psnrb", "psnr_jpeg", "ssim_jpeg", "ssim_uniform8_jpeg", "psnrb_jpeg")


def convention(mode: str) -> str:
    """The benchmark's scoring convention for a model of ``mode`` ("gray" or "color"): RGB for a
    colour model on every set, MATLAB Y for a gray one (names from :data:`jarlib.metrics.CONVENTIONS`)."""
    return "fbcnn_color" if mode == "color" else "fbcnn_gray"


def manifest_scores(entry: dict[str, Any], dataset: str, qfs: Sequence[int],
                    convention: str = "fbcnn_gray") -> Optional[dict[str, Any]]:
    """A zoo entry's own scores on ``dataset`` at ``qfs`` in the form :func:`run` computes them
    (``{"images": n, "10": {...}, ...}``), or None unless the manifest has every QF on the whole set,
    scored with ``convention``. ``zoo add`` measures with the same
    :func:`jarlib.evaluation.evaluate_restorer` and rounding, on the weights it stores, in the
    convention of :func:`jarlib.zoo.convention_for` (a colour model on a set without ``_color``,
    e.g. BSDS500 test, it scores in Y, the benchmark in RGB: those are not reused)."""
    if convention != convention_for(dataset):
        return None
    measured = entry.get("metrics", {}).get(dataset)
    if not measured or measured.get("images") != _expected_images(dataset, None):
        return None
    if not all(str(q) in measured and all(k in measured[str(q)] for k in SCORE_KEYS) for q in qfs):
        return None
    return {"images": measured["images"], **{str(q): {k: measured[str(q)][k] for k in SCORE_KEYS} for q in qfs}}


def run(models: Optional[Sequence[str]] = None, sets: Optional[Sequence[str]] = None, qfs: Sequence[int] = QFS,
        limit: Optional[int] = None, progress: bool = True, previous: Sequence[dict[str, Any]] = (),
        save: Optional[Callable[[list[dict[str, Any]]], None]] = None) -> list[dict[str, Any]]:
    """Benchmark rows (dicts with :data:`COLUMNS`) for ``models`` (default: the whole zoo).

    A model's rows for one set are taken from ``previous`` (rows of an earlier run) when they cover
    every QF asked for, on the same number of images, with the same weights (``weights_sha256``), so an
    interrupted or extended benchmark only computes what is missing (the papers' columns of reused
    rows are looked up again); on a whole set the zoo manifest measured (:func:`manifest_scores`) the
    scores are the manifest's. ``save(rows)`` is called after each (model, set) it computes and once
    at the end, with every row so far: ``previous`` rows outside this run kept, in their order."""
    from tqdm import tqdm

    models = list(models or zoo.available())
    unknown = [m for m in models if m not in zoo.available()]
    if unknown:
        raise ValueError(f"no zoo model {', '.join(unknown)}; available: {', '.join(zoo.available())}")
    todo = plan(models, sets)
    table = {_row_key(r): dict(r) for r in previous}
    loaded: dict[str, Any] = {}
    speed: dict[str, float] = {}
    cpu = cpu_description()
    bar = tqdm(todo, desc="benchmark", unit="set", disable=not progress, file=sys.stderr)
    for name, dataset, mode in bar:
        entry = zoo.info(name)
        sha = entry["sha256"][:12]
        old = [table.get((name, dataset, mode, q)) for q in qfs]
        if all(r is not None and r.get("weights_sha256") == sha and r["images"] == _expected_images(dataset, limit)
               for r in old):
            bar.set_postfix_str(f"{name} on {dataset}: from the earlier run")
            for r, q in zip(old, qfs):   # the papers' columns are looked up again (cheap, and may have been corrected)
                r.update(paper_reference(entry["model"], mode, dataset, q, entry["model_args"]))
            continue
        bar.set_postfix_str(f"{name} on {dataset}")
        if name not in loaded:
            loaded[name] = zoo.load(name)
            speed[name] = restore_ms(loaded[name])
        conv = convention(mode)
        scores = manifest_scores(entry, dataset, qfs, conv) if limit is None else None
        if scores is None:
            scores = evaluation.evaluate_restorer(loaded[name].restore, dataset, qfs, conv, limit=limit,
                                                  also_ssim=("uniform8",))
        for q in qfs:
            s = scores[str(q)]
            table[(name, dataset, mode, q)] = {
                "model": name, "family": entry["model"], "mode": mode, "set": dataset, "images": scores["images"],
                "qf": q, **{k: round(s[k], 4) for k in SCORE_KEYS},
                "gain": round(s["psnr"] - s["psnr_jpeg"], 4),
                **paper_reference(entry["model"], mode, dataset, q, entry["model_args"]),
                "parameters": entry["parameters"], "ms_512": round(speed[name], 1),
                "cpu": cpu,
                "training_qf": "-".join(map(str, entry["training"].get("qf_range", []))),
                "weights_sha256": sha,
            }
        if save is not None:
            save(list(table.values()))
    if save is not None:
        save(list(table.values()))   # also when every row was reused (their papers' columns are refreshed)
    wanted = {(m, s, mode, q) for m, s, mode in todo for q in qfs}
    return [r for k, r in table.items() if k in wanted]


def retime(rows: Sequence[dict[str, Any]], repeats: int = 5, progress: bool = True) -> list[dict[str, Any]]:
    """``rows`` with ``ms_512`` measured again for every model in them (nothing else recomputed).

    The benchmark times each model once, when it first loads it, so anything else running on the
    machine at that moment inflates that model's number; run this alone, after the benchmark."""
    from tqdm import tqdm

    names = list(dict.fromkeys(r["model"] for r in rows))
    speed = {}
    for name in tqdm(names, desc="timing", unit="model", disable=not progress, file=sys.stderr):
        if zoo.info(name)["sha256"][:12] not in {r["weights_sha256"] for r in rows if r["model"] == name}:
            raise ValueError(f"{name}: the zoo's weights changed since the benchmark; rerun it for this model first")
        speed[name] = round(restore_ms(zoo.load(name), repeats), 1)
    cpu = cpu_description()
    return [{**r, "ms_512": speed[r["model"]], "cpu": cpu} for r in rows]


def write_csv(rows: Sequence[dict[str, Any]], path: Path, columns: Optional[Sequence[str]] = None) -> None:
    """The rows as CSV (``columns``, default :data:`COLUMNS`; None written blank), written to a
    temporary file and renamed, so a reader never sees half a table."""
    columns = list(columns or COLUMNS)
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as fh:
        w = csv.DictWriter(fh, fieldnames=columns)
        w.writeheader()
        for r in rows:
            w.writerow({k: ("" if r.get(k) is None else r[k]) for k in columns})


def read_csv(path: Path) -> list[dict[str, Any]]:
    """Rows written by :func:`write_csv`: whole numbers as int, other numbers as float, blanks as None."""
    def value(v: str) -> Any:
        if v == "":
            return None
        for kind in (int, float):
            try:
                return kind(v)
            except ValueError:
                pass
        return v
    with open(path, newline="") as fh:
        return [{k: value(v) for k, v in r.items()} for r in csv.DictReader(fh)]


def summary(rows: Sequence[dict[str, Any]]) -> str:
    """The Markdown table the README quotes: PSNR (gain) per model, set and QF, the paper's PSNR,
    parameters and CPU time."""
    qfs = sorted({int(r["qf"]) for r in rows})
    head = ("| model | set | " + " | ".join(f"QF{q} ours (paper)" for q in qfs) + " | parameters | ms / 512² |\n"
            "|---|---|" + "---|" * len(qfs) + "---|---|\n")
    lines, jpeg = [], {}
    keys = list(dict.fromkeys((r["model"], r["set"], r["mode"]) for r in rows))
    by = {(r["model"], r["set"], r["mode"], int(r["qf"])): r for r in rows}
    for m, s, mode in keys:
        cells = []
        for q in qfs:
            r = by.get((m, s, mode, q))
            if r is None:
                cells.append("–")
                continue
            paper = f" ({r['paper_psnr']:.2f})" if r.get("paper_psnr") is not None else ""
            cells.append(f"{r['psnr']:.2f} {r['gain']:+.2f}{paper}")
            jpeg.setdefault((s, mode, q), r["psnr_jpeg"])
        r0 = next(r for r in rows if r["model"] == m)
        label = s + (" (RGB)" if mode == "color" else "")
        lines.append(f"| `{m}` | {label} | " + " | ".join(cells) + f" | {int(r0['parameters']):,} | {r0['ms_512']:.0f} |")
    for s, mode in dict.fromkeys((s, mode) for s, mode, _ in jpeg):
        label = s + (" (RGB)" if mode == "color" else "")
        lines.append(f"| JPEG | {label} | " + " | ".join(f"{jpeg.get((s, mode, q), float('nan')):.2f}" for q in qfs) + " | | |")
    return head + "\n".join(lines) + "\n"


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m jarlib.bench", description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", help="zoo models (default: all)")
    parser.add_argument("--sets", nargs="+", help=f"data sets (default: {', '.join(GRAY_SETS)} for gray models, "
                        f"{', '.join(COLOR_SETS)} for colour)")
    parser.add_argument("--qfs", nargs="+", type=int, default=list(QFS))
    parser.add_argument("--limit", type=int, help="only the first N images of each set (not comparable with the papers)")
    parser.add_argument("--out", default=str(OUT_DIR / "benchmark.csv"), help="CSV to write (a .md summary is written next to it)")
    parser.add_argument("--fresh", action="store_true",
                        help="recompute everything (default: keep the rows of OUT that still match, add the rest)")
    parser.add_argument("--retime", action="store_true",
                        help="only measure ms_512 again for every model in OUT (run it alone on the machine)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no progress bar")
    args = parser.parse_args(argv)
    out = Path(args.out)
    previous = read_csv(out) if out.is_file() and not args.fresh else []

    def save(rows: list[dict[str, Any]]) -> None:
        write_csv(rows, out)
        write_text_atomic(out.with_suffix(".md"), summary(rows))

    if args.quiet:
        os.environ["JARLIB_PROGRESS"] = "0"     # the evaluations' bars too (jarlib.progress)
    try:
        if args.retime:
            if not previous:
                raise ValueError(f"--retime needs a benchmark table; {out} does not exist")
            save(retime(previous, progress=not args.quiet))
            print(f"timed again: {out}")
            return 0
        rows = run(args.models, args.sets, args.qfs, args.limit, not args.quiet, previous, save)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(summary(rows))      # run() saved the table after each set it computed and at the end
    print(f"wrote {out} and {out.with_suffix('.md')}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
