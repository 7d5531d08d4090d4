"""The exercises' worked solutions (``solutions/NN_name.py``, kept apart from the notebooks students
get) run and check themselves; every notebook ends with exercises that have hints, a solutions file,
and a References section that cites only what a student can open."""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
SOLUTIONS = sorted((ROOT / "solutions").glob("[0-9][0-9]_*.py"))


def _markdown(path: Path) -> list[str]:
    return ["".join(c["source"]) for c in json.loads(path.read_text())["cells"] if c["cell_type"] == "markdown"]


@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.stem for p in NOTEBOOKS])
def test_notebook_ends_with_exercises_hints_and_references(path: Path):
    cells = _markdown(path)
    exercises = [c[re.search(r"^#+ Exercises", c, re.M).start():] for c in cells if re.search(r"^#+ Exercises", c, re.M)]
    assert exercises, f"{path.name} has no '## Exercises' section"
    assert "<summary>Hint" in exercises[-1], f"{path.name}: its exercises have no hints (<details><summary>Hint)"
    assert any(re.search(r"^#+ References", c, re.M) for c in cells), f"{path.name} has no References section"
    assert (ROOT / "solutions" / f"{path.stem}.py").is_file(), f"no solutions/{path.stem}.py for {path.name}"
    for text in cells:
        assert "PAPERS.md" not in text, f"{path.name} cites PAPERS.md, which is not in the repository"


@pytest.mark.parametrize("path", SOLUTIONS, ids=[p.stem for p in SOLUTIONS])
def test_solutions_run_and_check_themselves(path: Path):
    env = {**os.environ, "JARLIB_PROGRESS": "0", "MPLBACKEND": "Agg"}
    done = subprocess.run([sys.executable, str(path), "--smoke"], cwd=ROOT, capture_output=True, text=True,
                          timeout=600, env=env)
    assert done.returncode == 0, f"{path.name} --smoke failed:\n{done.stdout[-1500:]}\n{done.stderr[-2500:]}"
    functions = re.findall(r"^def exercise_\d+", path.read_text(), re.M)
    assert functions, f"{path.name} has no exercise_N functions"


def test_nothing_a_reader_gets_cites_the_teams_private_notes():
    """PAPERS.md is the team's reference, beside the repository, not in it: the library, the notebooks
    (code cells too), the docs and the README cite the papers themselves."""
    files = [*ROOT.glob("jarlib/**/*.py"), *ROOT.glob("notebooks/*.ipynb"), *ROOT.glob("docs/*.md"),
             *ROOT.glob("solutions/*.py"), ROOT / "README.md", ROOT / "data" / "README.md"]
    citing = [str(p.relative_to(ROOT)) for p in files if "PAPERS.md" in p.read_text(encoding="utf-8")]
    assert not citing, f"these cite PAPERS.md, which a clone does not have: {citing}"
