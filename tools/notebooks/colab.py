"""Give every notebook its "Open in Colab" link, guarded install cell and measured run time, in place.

    python tools/notebooks/colab.py          # `make strip` runs it after nbstripout

The ``.ipynb`` files are the notebooks' source (CONTRIBUTING.md). This script rewrites two things in
each from pyproject's ``[project.urls] Repository``: the link under the title (first cell) and the
second cell (id ``colab-setup``), which clones and installs jarlib where it is missing; and from
``benchmarks/results/notebook_times.csv`` (``python benchmarks/notebook_times.py``) the title's
paragraph that starts with ``**Run time**``, so the figure a teacher reads is the one measured. A notebook
already up to date is left byte for byte as it is; one that is not is written as Jupyter writes
notebooks (1-space JSON, UTF-8 unescaped, final newline), every key in the order it had.
``tests/test_notebooks.py`` imports :func:`with_colab` and :func:`dumps` to check the committed files.
"""

from __future__ import annotations

import json
import re
import textwrap
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

ROOT = Path(__file__).resolve().parents[2]
PYPROJECT = ROOT / "pyproject.toml"
NOTEBOOKS = ROOT / "notebooks"
FALLBACK_REPOSITORY = "https://github.com/jarlib/jarlib"
TIMES = ROOT / "benchmarks" / "results" / "notebook_times.csv"
RUN_TIME = "**Run time**"


def repository() -> str:
    """The public repository (pyproject's ``[project.urls] Repository``)."""
    if tomllib is None:
        return FALLBACK_REPOSITORY
    return tomllib.loads(PYPROJECT.read_text())["project"]["urls"]["Repository"].rstrip("/")


def colab_badge(notebook: str) -> str:
    """The "Open in Colab" link of ``notebook`` (a file name under ``notebooks/``)."""
    path = repository().removeprefix("https://github.com/")
    return ("[![Open in Colab](https://colab.research.google.com/assets/colab-badge.svg)]"
            f"(https://colab.research.google.com/github/{path}/blob/main/notebooks/{notebook})")


SETUP_CELL_ID = "colab-setup"
SETUP_CELL = '''
# Colab, or any Python without jarlib: fetch this repository and install it (a few minutes, once).
# Everywhere else (`make tutorial`, a clone installed with pip) this cell does nothing.
import importlib.util, os, subprocess, sys
if importlib.util.find_spec("jarlib") is None:
    subprocess.run(["git", "clone", "--depth", "1", "{repository}", "jarlib"], check=True)
    subprocess.run([sys.executable, "-m", "pip", "install", "-q", "-e", "jarlib"], check=True)
    sys.path.insert(0, os.path.abspath("jarlib"))
    os.chdir("jarlib/notebooks")  # where the notebooks read ../benchmarks/results from
'''
"""The guarded install cell every notebook starts with (after its title)."""


def _lines(text: str) -> list[str]:
    """``text`` as a cell's ``source``: a list of lines, each but the last ending in a newline."""
    text = textwrap.dedent(text).strip("\n")
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def setup_cell() -> dict:
    """The install cell, without outputs, keys in the order Jupyter writes them."""
    return {"cell_type": "code", "execution_count": None, "id": SETUP_CELL_ID, "metadata": {}, "outputs": [],
            "source": _lines(SETUP_CELL.replace("{repository}", repository()))}


def _in_order_of(new: dict, old: dict) -> dict:
    """``new`` with its keys in ``old``'s order (new keys last), so that an unchanged cell stays unchanged."""
    return {k: new[k] for k in [*(k for k in old if k in new), *(k for k in new if k not in old)]}


def measured_times(path: Path = TIMES) -> dict[str, dict[str, str]]:
    """``{notebook stem: row}`` of ``notebook_times.csv`` (empty when it does not exist)."""
    import csv

    if not path.is_file():
        return {}
    with path.open(newline="") as f:
        return {row["notebook"]: row for row in csv.DictReader(f)}


def _duration(seconds: float) -> str:
    s = int(round(seconds))
    return f"{s} s" if s < 90 else f"{s // 60} min {s % 60:02d} s"


def run_time_paragraph(stem: str, times: dict[str, dict[str, str]]) -> str:
    """The title's run-time paragraph for notebook ``stem``, from its ``notebook_times.csv`` row."""
    row = times.get(stem)
    if row is None:
        return f"{RUN_TIME} at the defaults: not measured yet (`python benchmarks/notebook_times.py`)."
    return (f"{RUN_TIME} at the defaults: {_duration(float(row['seconds']))} on {row['cores']} CPU cores "
            f"(longest cell {_duration(float(row['longest_cell_seconds']))}; measured alone by "
            f"`python benchmarks/notebook_times.py` on {row['cpu']}).")


def with_run_time(nb: dict, notebook: str, times: dict[str, dict[str, str]]) -> dict:
    """``nb`` with its title's run-time paragraph (the one that starts with ``**Run time**``, or text
    from ``**Run time**`` to the end of a paragraph) replaced by the measured one, or added last."""
    paragraphs = "".join(nb["cells"][0]["source"]).split("\n\n")
    new = run_time_paragraph(Path(notebook).stem, times)
    for i, par in enumerate(paragraphs):
        found = next((m for m in (RUN_TIME, "**Run time:**") if m in par), None)
        if found:
            before = par[:par.index(found)].rstrip()
            paragraphs[i:i + 1] = [before, new] if before else [new]
            break
    else:
        paragraphs.append(new)
    nb["cells"][0]["source"] = _lines("\n\n".join(paragraphs))
    return nb


COURSE = ROOT / "docs" / "course.md"


def course_with_times(text: str, times: dict[str, dict[str, str]]) -> str:
    """docs/course.md with the last column of each notebook's row (a table row linking
    ``../notebooks/NN_name.ipynb``) set to that notebook's measured time."""
    out = []
    for line in text.split("\n"):
        m = re.match(r"\| \[[^]]*\]\(\.\./notebooks/([0-9][0-9]_\w+)\.ipynb\)", line)
        if m and line.rstrip().endswith("|"):
            cells = line.rstrip().rstrip("|").split(" | ")
            row = times.get(m.group(1))
            cells[-1] = _duration(float(row["seconds"])) if row else "not measured yet"
            line = " | ".join(cells) + " |"
        out.append(line)
    return "\n".join(out)


def with_colab(nb: dict, notebook: str) -> dict:
    """``nb`` with the Colab link under its title and the install cell second (added or brought up
    to date; applying it twice changes nothing). Changes ``nb`` and returns it."""
    title = "".join(nb["cells"][0]["source"])
    lines = [line for line in title.split("\n") if not line.startswith("[![Open in Colab]")]
    head, rest = lines[0], "\n".join(lines[1:]).lstrip("\n")
    nb["cells"][0]["source"] = _lines(f"{head}\n\n{colab_badge(notebook)}\n\n{rest}")
    old = next((c for c in nb["cells"] if c.get("id") == SETUP_CELL_ID), None)
    cell = setup_cell() if old is None else _in_order_of(setup_cell(), old)
    cells = [c for c in nb["cells"] if c.get("id") != SETUP_CELL_ID]
    nb["cells"] = [cells[0], cell, *cells[1:]]
    return with_run_time(nb, notebook, measured_times())


def dumps(nb: dict) -> str:
    """A notebook's file text, as Jupyter (nbformat) writes it, keys in ``nb``'s order."""
    return json.dumps(nb, indent=1, ensure_ascii=False) + "\n"


def update(path: Path) -> bool:
    """Bring ``path`` up to date in place; True if it changed."""
    text = path.read_text(encoding="utf-8")
    new = dumps(with_colab(json.loads(text), path.name))
    if new == text:
        return False
    path.write_text(new, encoding="utf-8")
    return True


def main() -> None:
    for path in sorted(NOTEBOOKS.glob("[0-9][0-9]_*.ipynb")):
        if update(path):
            print(f"{path.name}: Colab link, install cell and run time brought up to date")
    if COURSE.is_file():
        text = COURSE.read_text(encoding="utf-8")
        new = course_with_times(text, measured_times())
        if new != text:
            COURSE.write_text(new, encoding="utf-8")
            print(f"{COURSE.relative_to(ROOT)}: run times brought up to date")


if __name__ == "__main__":
    main()
