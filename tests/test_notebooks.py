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
