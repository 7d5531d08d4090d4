"""Every notebook runs end to end with small parameters (papermill), and is committed clean: in the
canonical form that ``make strip`` writes (nbstripout, then ``tools/notebooks/colab.py``).

Each notebook has a cell tagged ``parameters`` with ``SMOKE = False``; here it is run with
``SMOKE = True`` (plus the overrides below), from ``notebooks/`` as working directory. The
fundamentals (00-09) are also run at their real defaults by nbval (see ``notebooks/conftest.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOK_DIR = ROOT / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))


def _ids(paths):
    return [p.stem for p in paths]


def test_there_are_notebooks():
    assert len(NOTEBOOKS) >= 3, f"expected the fundamentals notebooks in {NOTEBOOK_DIR}"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_clean_and_parameterised(path: Path):
    nb = json.loads(path.read_text())
    cells = nb["cells"]
    assert cells[0]["cell_type"] == "markdown" and "".join(cells[0]["source"]).lstrip().startswith("# "), \
        "the first cell must be a markdown title"
    params = [c for c in cells if "parameters" in c.get("metadata", {}).get("tags", [])]
    assert len(params) == 1, "exactly one cell must be tagged 'parameters' (papermill)"
    assert "SMOKE = False" in "".join(params[0]["source"]), "the parameters cell must define SMOKE = False"
    for c in cells:
        if c["cell_type"] == "code":
            assert c.get("outputs", []) == [] and c.get("execution_count") is None, \
                f"{path.name} has outputs or execution counts: run `make strip` (notebooks are committed stripped)"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_in_smoke_mode(path: Path, smoke_run):
    """(``smoke_run`` in tests/conftest.py: papermill with ``SMOKE = True`` plus the notebook's
    ``SMOKE_OVERRIDES`` there; tests/test_book.py builds the course book from the same runs.)"""
    executed = json.loads(smoke_run(path).read_text())
    for cell in executed["cells"]:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"error output in {path.name}: {output.get('ename')}"
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                assert "Traceback" not in "".join(output.get("text", "")), \
                    f"a traceback was printed in {path.name} (a widget callback?)"


def _colab():
    """``tools/notebooks/colab.py``, which writes the Colab link and install cell (``make strip`` runs it)."""
    import importlib.util
    import sys

    spec = importlib.util.spec_from_file_location("notebook_colab", ROOT / "tools" / "notebooks" / "colab.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("notebook_colab", module)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def strip_would_change() -> set[str] | None:
    """The notebooks that ``make strip``'s nbstripout would change (``--dry-run`` with the Makefile's
    ``NBSTRIPOUT_ARGS``, one call for all); None where nbstripout is not installed."""
    import importlib.util
    import re
    import shlex
    import subprocess
    import sys

    if importlib.util.find_spec("nbstripout") is None:
        return None
    makefile = re.sub(r"\\\n\s*", " ", (ROOT / "Makefile").read_text())   # join continued lines
    line = re.search(r"^NBSTRIPOUT_ARGS\s*:=(.*)$", makefile, re.M)
    assert line, "the Makefile's strip target takes its arguments from NBSTRIPOUT_ARGS"
    out = subprocess.run([sys.executable, "-m", "nbstripout", "--dry-run", *shlex.split(line.group(1)),
                          *map(str, NOTEBOOKS)], capture_output=True, text=True, cwd=ROOT)
    assert out.returncode == 0, out.stderr
    prefix = "Dry run: would have stripped "
    return {Path(x.removeprefix(prefix)).name for x in out.stdout.splitlines() if x.startswith(prefix)}


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_is_canonical(path: Path, strip_would_change: set[str] | None):
    """The committed file is what ``make strip`` leaves: written as Jupyter writes notebooks, nothing for
    nbstripout to strip, and the "Open in Colab" link under the title and the guarded install cell
    second, both made from pyproject's [project.urls] Repository (``tools/notebooks/colab.py``)."""
    import copy

    colab = _colab()
    text = path.read_text(encoding="utf-8")
    nb = json.loads(text)
    assert text == colab.dumps(nb), (f"{path.name} is not laid out as Jupyter writes notebooks "
                                     "(1-space indent, UTF-8, final newline): run `make strip`")
    assert colab.with_colab(copy.deepcopy(nb), path.name) == nb, \
        f"{path.name}: its Colab link or install cell ({colab.SETUP_CELL_ID!r}) is missing or stale: run `make strip`"
    title = "".join(nb["cells"][0]["source"])
    assert f"colab.research.google.com/github/{colab.repository().removeprefix('https://github.com/')}" \
           f"/blob/main/notebooks/{path.name})" in title
    if strip_would_change is None:
        pytest.skip("nbstripout is not installed (make setup installs it): the rest of `make strip` not checked")
    assert path.name not in strip_would_change, \
        f"{path.name} has outputs, execution counts or kernel details that nbstripout strips: run `make strip`"


def test_the_install_cell_clones_and_installs_only_where_jarlib_is_missing(monkeypatch, tmp_path):
    import importlib.util
    import os
    import subprocess

    colab = _colab()
    source = colab.SETUP_CELL.replace("{repository}", colab.repository())
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, check: calls.append(args))
    exec(compile(source, "setup-cell", "exec"), {})                     # jarlib importable: nothing
    assert calls == []
    (tmp_path / "jarlib" / "notebooks").mkdir(parents=True)             # what the clone would create
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    exec(compile(source, "setup-cell", "exec"), {})
    assert calls[0][:4] == ["git", "clone", "--depth", "1"] and calls[0][4] == colab.repository()
    assert calls[1][1:] == ["-m", "pip", "install", "-q", "-e", "jarlib"]
    assert Path(os.getcwd()) == tmp_path / "jarlib" / "notebooks"


def test_the_measured_times_are_of_these_notebooks():
    """``notebook_times.csv`` (``python benchmarks/notebook_times.py``; its ``--check`` holds the 300 s
    budget, a speed target that lives in benchmarks/, not in a test) has rows only of notebooks that
    exist, each with what the titles quote; a notebook without a row says "not measured yet"."""
    times = _colab().measured_times()
    assert set(times) <= {p.stem for p in NOTEBOOKS}, "notebook_times.csv has rows of notebooks that are gone"
    for stem, row in times.items():
        assert float(row["seconds"]) > 0 and int(row["cores"]) >= 1 and row["cpu"], stem


def test_the_course_plan_quotes_the_measured_times():
    colab = _colab()
    text = colab.COURSE.read_text(encoding="utf-8")
    assert colab.course_with_times(text, colab.measured_times()) == text, \
        "docs/course.md's times differ from benchmarks/results/notebook_times.csv: run `make strip`"
    for p in NOTEBOOKS:
        assert f"](../notebooks/{p.name})" in text, f"docs/course.md does not list {p.name}"
