"""Every notebook runs end to end with small parameters (papermill), and is committed clean.

Each notebook has a cell tagged ``parameters`` with ``SMOKE = False``; here it is run with
``SMOKE = True`` (plus the overrides below), from ``notebooks/`` as working directory. The
fundamentals (00-09) are also run at their real defaults by nbval (see ``notebooks/conftest.py``).
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest

NOTEBOOK_DIR = Path(__file__).resolve().parents[1] / "notebooks"
NOTEBOOKS = sorted(NOTEBOOK_DIR.glob("[0-9][0-9]_*.ipynb"))
SMOKE_OVERRIDES: dict[str, dict] = {}  # per-notebook extra parameters, keyed by file stem


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
                "notebooks are committed with outputs stripped"


@pytest.mark.notebook
@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_runs_in_smoke_mode(path: Path, tmp_path: Path):
    papermill = pytest.importorskip("papermill")
    params = {"SMOKE": True, **SMOKE_OVERRIDES.get(path.stem, {})}
    out = tmp_path / path.name
    papermill.execute_notebook(
        str(path), str(out), parameters=params, cwd=str(NOTEBOOK_DIR), kernel_name="python3",
        execution_timeout=900, progress_bar=False, log_output=False,
    )
    executed = json.loads(out.read_text())
    for cell in executed["cells"]:
        for output in cell.get("outputs", []):
            assert output.get("output_type") != "error", f"error output in {path.name}: {output.get('ename')}"
            if output.get("output_type") == "stream" and output.get("name") == "stderr":
                assert "Traceback" not in "".join(output.get("text", "")), \
                    f"a traceback was printed in {path.name} (a widget callback?)"


def _nb_tools():
    import importlib.util
    import sys

    path = Path(__file__).resolve().parents[1] / "tools" / "notebooks" / "nb.py"
    spec = importlib.util.spec_from_file_location("nb_tools", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules.setdefault("nb_tools", module)
    spec.loader.exec_module(module)
    return module


@pytest.mark.parametrize("path", NOTEBOOKS, ids=_ids(NOTEBOOKS))
def test_notebook_opens_in_colab_and_installs_jarlib_there(path: Path):
    """The "Open in Colab" link under the title names this notebook in the repository of pyproject's
    [project.urls]; the second cell is the guarded install cell (``python tools/notebooks/colab.py``)."""
    import copy

    tools = _nb_tools()
    nb = json.loads(path.read_text())
    assert tools.with_colab(copy.deepcopy(nb), path.name) == nb, "run python tools/notebooks/colab.py"
    title = "".join(nb["cells"][0]["source"])
    assert f"colab.research.google.com/github/{tools.repository().removeprefix('https://github.com/')}" \
           f"/blob/main/notebooks/{path.name})" in title


def test_the_install_cell_clones_and_installs_only_where_jarlib_is_missing(monkeypatch, tmp_path):
    import importlib.util
    import os
    import subprocess

    tools = _nb_tools()
    source = tools.SETUP_CELL.replace("{repository}", tools.repository())
    calls = []
    monkeypatch.setattr(subprocess, "run", lambda args, check: calls.append(args))
    exec(compile(source, "setup-cell", "exec"), {})                     # jarlib importable: nothing
    assert calls == []
    (tmp_path / "jarlib" / "notebooks").mkdir(parents=True)             # what the clone would create
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr(importlib.util, "find_spec", lambda name: None)
    monkeypatch.setattr("sys.path", list(__import__("sys").path))
    exec(compile(source, "setup-cell", "exec"), {})
    assert calls[0][:4] == ["git", "clone", "--depth", "1"] and calls[0][4] == tools.repository()
    assert calls[1][1:] == ["-m", "pip", "install", "-q", "-e", "jarlib"]
    assert Path(os.getcwd()) == tmp_path / "jarlib" / "notebooks"
