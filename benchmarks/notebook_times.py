"""How long each notebook takes at its defaults, as a student's Run All: one after another, each in a
fresh kernel (papermill, from ``notebooks/``), on this machine, which should be otherwise idle.

    python benchmarks/notebook_times.py                  # every notebook (about 30-40 min on 2 cores)
    python benchmarks/notebook_times.py 13_fbcnn 91_explorer    # only these; the other rows are kept
    python benchmarks/notebook_times.py 91_explorer --repeat 10  # ten runs in a row: none may hang

Writes ``benchmarks/results/notebook_times.csv``: per notebook the wall time, the longest cell
(what a student waits for in one go), how many runs in a row finished (the slowest is kept) and
the machine; a cell running over 10 minutes counts as a hang and stops the script. ``make strip`` (tools/notebooks/colab.py)
copies each figure into the notebook's title. The course's budget is 300 s per notebook on 2 cores
(issue 44); ``--check`` exits 1 when a notebook is over it.
"""

from __future__ import annotations

import argparse
import csv
import datetime as dt
import io
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
OUT = ROOT / "benchmarks" / "results" / "notebook_times.csv"
BUDGET_S = 300
FIELDS = ["notebook", "seconds", "longest_cell_seconds", "longest_cell", "runs", "budget_s", "cores", "cpu", "date"]
CELL_TIMEOUT_S = 600    # a cell that runs longer is a hang (papermill stops the run with an error)


def cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def time_notebook(path: Path) -> dict:
    """Run ``path`` at its defaults; its wall time and longest cell (papermill's per-cell durations)."""
    import papermill

    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / path.name
        env_backend = os.environ.pop("MPLBACKEND", None)    # the kernel's inline backend, as in JupyterLab
        t0 = time.perf_counter()
        try:
            papermill.execute_notebook(str(path), str(out), cwd=str(NOTEBOOKS), kernel_name="python3",
                                       progress_bar=False, log_output=False, execution_timeout=CELL_TIMEOUT_S)
        finally:
            if env_backend is not None:
                os.environ["MPLBACKEND"] = env_backend
        seconds = time.perf_counter() - t0
        cells = json.loads(out.read_text())["cells"]
    durations = [(c.get("metadata", {}).get("papermill", {}).get("duration") or 0.0, i)
                 for i, c in enumerate(cells) if c["cell_type"] == "code"]
    longest, index = max(durations)
    return {"notebook": path.stem, "seconds": round(seconds, 1), "longest_cell_seconds": round(longest, 1),
            "longest_cell": index, "runs": 1, "budget_s": BUDGET_S, "cores": os.cpu_count(), "cpu": cpu_name(),
            "date": dt.date.today().isoformat()}


def read(path: Path = OUT) -> dict[str, dict]:
    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {r["notebook"]: r for r in csv.DictReader(f)}


def write(rows: dict[str, dict], path: Path = OUT) -> None:
    """All rows, in notebook order, written atomically (a half-written CSV never replaces the old)."""
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=FIELDS, lineterminator="\n")
    w.writeheader()
    for name in sorted(rows):
        w.writerow({k: rows[name].get(k, "") for k in FIELDS})
    tmp = path.with_suffix(".csv.tmp")
    tmp.write_text(buf.getvalue())
    os.replace(tmp, path)


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("notebooks", nargs="*", help="stems (e.g. 13_fbcnn); default: all")
    p.add_argument("--check", action="store_true", help=f"exit 1 when a notebook takes over {BUDGET_S} s")
    p.add_argument("--out", type=Path, default=OUT, help="the CSV to write (default: benchmarks/results/)")
    p.add_argument("--repeat", type=int, default=1, metavar="N",
                   help="run each notebook N times in a row (a hang fails the run); the row keeps the slowest")
    args = p.parse_args(argv)
    paths = sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb"))
    known = {q.stem for q in paths}
    unknown = [n for n in args.notebooks if n not in known]
    if unknown:
        print(f"error: no notebook {', '.join(unknown)}; known: {', '.join(sorted(known))}", file=sys.stderr)
        return 2
    if args.notebooks:
        paths = [q for q in paths if q.stem in args.notebooks]
    rows = read(args.out)
    for path in paths:
        runs = []
        for k in range(max(1, args.repeat)):
            print(f"{path.stem}{f' run {k + 1}/{args.repeat}' if args.repeat > 1 else ''} ...", end=" ", flush=True)
            runs.append(time_notebook(path))
            r = runs[-1]
            print(f"{r['seconds']:.0f} s (longest cell #{r['longest_cell']}: {r['longest_cell_seconds']:.0f} s)")
        rows[path.stem] = {**max(runs, key=lambda r: r["seconds"]), "runs": len(runs)}
        write(rows, args.out)
    over = [n for n, r in rows.items() if float(r["seconds"]) > BUDGET_S]
    if over:
        print(f"over {BUDGET_S} s: {', '.join(over)}")
    return 1 if (args.check and over) else 0


if __name__ == "__main__":
    sys.exit(main())
