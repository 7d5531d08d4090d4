"""Build the course book: every notebook with its outputs, as a static HTML site (Jupyter Book 1).

    python tools/book.py                      # `make book`: run each notebook at its defaults
                                              # (cached: a rebuild re-runs only what changed)
    python tools/book.py --executed DIR       # build from notebooks already run (DIR/NN_name.ipynb),
                                              # e.g. the test suite's smoke runs; nothing is executed

The site lands in ``build/book/_build/html`` (``--out`` changes ``build/book``); open its
``index.html`` in a browser, no server needed. The book's order and settings are ``book/_toc.yml``
and ``book/_config.yml``. Building needs no internet.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
# What the pages link to or show besides the notebooks (images, the docs the notebooks cite).
CARRIED = ("book", "docs")


def toc_notebooks(toc: Path = BOOK / "_toc.yml") -> list[str]:
    """The notebook stems the book's table of contents lists, in course order."""
    data = yaml.safe_load(toc.read_text())
    files = [ch["file"] for part in data.get("parts", []) for ch in part.get("chapters", [])]
    return [Path(f).name for f in files if f.startswith("notebooks/")]


def stage(executed: Path, where: Path) -> Path:
    """A source tree for the book in ``where``: the book and docs folders, and the executed notebooks
    of ``executed`` under ``notebooks/`` (a notebook missing there is a one-line error)."""
    missing = [s for s in toc_notebooks() if not (executed / f"{s}.ipynb").is_file()]
    if missing:
        raise SystemExit(f"error: {executed} lacks the executed notebooks {', '.join(missing)}")
    for name in CARRIED:
        shutil.copytree(ROOT / name, where / name, dirs_exist_ok=True)
    (where / "notebooks").mkdir(parents=True, exist_ok=True)
    for s in toc_notebooks():
        shutil.copy2(executed / f"{s}.ipynb", where / "notebooks" / f"{s}.ipynb")
    config = yaml.safe_load((BOOK / "_config.yml").read_text())
    config["execute"]["execute_notebooks"] = "off"
    (where / "book" / "_config.yml").write_text(yaml.safe_dump(config, sort_keys=False))
    return where


def jupyter_book() -> str:
    """The ``jupyter-book`` command of this Python's environment."""
    here = Path(sys.executable).parent / "jupyter-book"
    found = str(here) if here.is_file() else shutil.which("jupyter-book")
    if found is None:
        raise SystemExit("error: jupyter-book is missing: pip install -e '.[test]' (or make setup)")
    return found


def build(source: Path, out: Path, quiet: bool = False) -> Path:
    """Run ``jupyter-book build`` on ``source`` (a tree laid out like the repository) into ``out``;
    returns the folder of ``index.html``. Raises ``SystemExit`` with jupyter-book's last lines when
    the build fails."""
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
    p.add_argument("-q", "--quiet", action="store_true")
    args = p.parse_args(argv)
    out = args.out.resolve()
    if args.executed:
        with tempfile.TemporaryDirectory() as tmp:
            html = build(stage(args.executed.resolve(), Path(tmp)), out, args.quiet)
    else:
        html = build(ROOT, out, args.quiet)
    print(f"the book: {html / 'index.html'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
