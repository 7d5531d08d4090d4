"""Build the course book: every notebook with its outputs, as a static HTML site (Jupyter Book 1).

    python tools/book.py                      # `make book`: run each notebook at its defaults, then
                                              # build; a rebuild re-runs only the notebooks that changed
    python tools/book.py --executed DIR       # build from notebooks already run (DIR/NN_name.ipynb),
                                              # e.g. the test suite's smoke runs; nothing is executed

The site lands in ``build/book/_build/html`` (``--out`` changes ``build/book``); open its
``index.html`` in a browser, no server needed. The book's order and settings are ``book/_toc.yml``
and ``book/_config.yml``. Building needs no internet.

Notebooks run with papermill from ``notebooks/`` (as a student runs them), one after another, into
``build/book/executed/``; a run is kept while the notebook file is unchanged (its SHA-256 is stored
beside it), so editing one notebook re-runs that one. A change in the library does not invalidate
the runs: ``--rerun`` runs every notebook again.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
NOTEBOOKS = ROOT / "notebooks"
# What the pages link to or show besides the notebooks (images, the docs the notebooks cite).
CARRIED = ("book", "docs")


def toc_notebooks(toc: Path = BOOK / "_toc.yml") -> list[str]:
    """The notebook stems the book's table of contents lists, in course order."""
    data = yaml.safe_load(toc.read_text())
    files = [ch["file"] for part in data.get("parts", []) for ch in part.get("chapters", [])]
    return [Path(f).name for f in files if f.startswith("notebooks/")]


def as_displayed(text: str) -> str:
    """A stream's text as a terminal or Jupyter shows it: of a line rewritten with carriage returns
    (a progress bar's frames), only the last frame."""
    return "\n".join(re.sub(r"^.*\r(?=[^\r]*$)", "", line.rstrip("\r")) for line in text.split("\n"))


def clean_outputs(nb: dict) -> dict:
    """``nb`` with each stream output reduced to what Jupyter displays (:func:`as_displayed`) and
    consecutive stderr bars merged: a saved run stores every frame of every progress bar."""
    for cell in nb["cells"]:
        outputs, merged = cell.get("outputs", []), []
        for out in outputs:
            if out.get("output_type") == "stream":
                text = "".join(out.get("text", ""))
                if merged and merged[-1].get("output_type") == "stream" and merged[-1]["name"] == out["name"]:
                    merged[-1]["text"] += text
                    continue
                out = {**out, "text": text}
            merged.append(out)
        for out in merged:
            if out.get("output_type") == "stream":
                out["text"] = as_displayed(out["text"])
        if outputs:
            cell["outputs"] = [o for o in merged if o.get("output_type") != "stream" or o["text"].strip()]
    return nb


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def execute(into: Path, rerun: bool = False) -> Path:
    """Run every notebook of the book at its defaults into ``into`` (skipping those whose stored run
    is of the same notebook file, unless ``rerun``); returns ``into``."""
    import papermill

    into.mkdir(parents=True, exist_ok=True)
    for stem in toc_notebooks():
        src, out, stamp = NOTEBOOKS / f"{stem}.ipynb", into / f"{stem}.ipynb", into / f"{stem}.sha256"
        if not rerun and out.is_file() and stamp.is_file() and stamp.read_text().strip() == _digest(src):
            print(f"{stem}: kept (unchanged since its last run)")
            continue
        print(f"{stem}: running at its defaults ...", flush=True)
        backend = os.environ.pop("MPLBACKEND", None)     # the kernel's inline backend: figures in the outputs
        try:
            with tempfile.TemporaryDirectory() as tmp:
                papermill.execute_notebook(str(src), str(Path(tmp) / out.name), cwd=str(NOTEBOOKS),
                                           kernel_name="python3", progress_bar=False, log_output=False)
                shutil.move(str(Path(tmp) / out.name), out)
        finally:
            if backend is not None:
                os.environ["MPLBACKEND"] = backend
        stamp.write_text(_digest(src) + "\n")
    return into


def stage(executed: Path, where: Path) -> Path:
    """A source tree for the book in ``where``: the book and docs folders, and the executed notebooks
    of ``executed`` under ``notebooks/`` with their outputs as Jupyter displays them (a notebook
    missing there is a one-line error)."""
    missing = [s for s in toc_notebooks() if not (executed / f"{s}.ipynb").is_file()]
    if missing:
        raise SystemExit(f"error: {executed} lacks the executed notebooks {', '.join(missing)}")
    for name in CARRIED:
        shutil.copytree(ROOT / name, where / name, dirs_exist_ok=True)
    (where / "notebooks").mkdir(parents=True, exist_ok=True)
    for s in toc_notebooks():
        nb = clean_outputs(json.loads((executed / f"{s}.ipynb").read_text(encoding="utf-8")))
        (where / "notebooks" / f"{s}.ipynb").write_text(json.dumps(nb, indent=1, ensure_ascii=False), encoding="utf-8")
    return where


def jupyter_book() -> str:
    """The ``jupyter-book`` command of this Python's environment."""
    here = Path(sys.executable).parent / "jupyter-book"
    found = str(here) if here.is_file() else shutil.which("jupyter-book")
    if found is None:
        raise SystemExit("error: jupyter-book is missing: pip install -e '.[test]' (or make setup)")
    return found


def build(source: Path, out: Path, quiet: bool = False) -> Path:
    """Run ``jupyter-book build`` on ``source`` (a tree laid out like the repository, its notebooks
    already executed) into ``out``; returns the folder of ``index.html``. Raises ``SystemExit`` with
    jupyter-book's last lines when the build fails."""
    cmd = [jupyter_book(), "build", str(source), "--path-output", str(out),
           "--config", str(source / "book" / "_config.yml"), "--toc", str(source / "book" / "_toc.yml")]
    if quiet:
        cmd.append("-q")
    done = subprocess.run(cmd, cwd=source, capture_output=quiet, text=True)
    html = out / "_build" / "html"
    if done.returncode != 0 or not (html / "index.html").is_file():
        tail = "\n".join(((done.stdout or "") + (done.stderr or "")).splitlines()[-15:])
        raise SystemExit(f"error: the book did not build (jupyter-book exit {done.returncode})\n{tail}")
    return html


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--executed", type=Path, help="build from these already-run notebooks (no execution)")
    p.add_argument("--out", type=Path, default=ROOT / "build" / "book", help="output folder (default build/book)")
    p.add_argument("--rerun", action="store_true", help="run every notebook again, changed or not")
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    jupyter_book()                      # missing: say so before running any notebook
    out = args.out.resolve()
    executed = args.executed.resolve() if args.executed else execute(out / "executed", args.rerun)
    with tempfile.TemporaryDirectory() as tmp:
        html = build(stage(executed, Path(tmp)), out, args.quiet)
    print(f"the book: {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
