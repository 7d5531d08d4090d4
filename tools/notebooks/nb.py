"""Tiny helpers to write a notebook from a Python script (the paper notebooks' sources).

    from nb import md, code, params, write
    write("notebooks/13_fbcnn.ipynb", [md("# Title"), params("SMOKE = False"), code("print(1)")])

Cells are stored without outputs, with the kernel metadata the test suite expects; the one
``parameters`` cell is tagged for papermill.
"""

from __future__ import annotations

import json
import textwrap
from pathlib import Path

try:
    import tomllib
except ImportError:  # Python 3.10
    tomllib = None

PYPROJECT = Path(__file__).resolve().parents[2] / "pyproject.toml"
FALLBACK_REPOSITORY = "https://github.com/jarlib/jarlib"


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


def with_colab(nb: dict, notebook: str) -> dict:
    """``nb`` with the Colab link under its title and the install cell second (added or brought up
    to date; applying it twice changes nothing)."""
    title = "".join(nb["cells"][0]["source"])
    lines = [line for line in title.split("\n") if not line.startswith("[![Open in Colab]")]
    head, rest = lines[0], "\n".join(lines[1:]).lstrip("\n")
    nb["cells"][0]["source"] = _lines(f"{head}\n\n{colab_badge(notebook)}\n\n{rest}")
    cell = code(SETUP_CELL.replace("{repository}", repository()))
    cell["id"] = SETUP_CELL_ID
    cells = [c for c in nb["cells"] if c.get("id") != SETUP_CELL_ID]
    nb["cells"] = [cells[0], cell, *cells[1:]]
    return nb


def _lines(text: str) -> list[str]:
    text = textwrap.dedent(text).strip("\n")
    lines = text.split("\n")
    return [line + "\n" for line in lines[:-1]] + [lines[-1]]


def md(text: str) -> dict:
    return {"cell_type": "markdown", "metadata": {}, "source": _lines(text)}


def code(text: str, tags: list[str] | None = None) -> dict:
    meta = {"tags": tags} if tags else {}
    return {"cell_type": "code", "execution_count": None, "metadata": meta, "outputs": [], "source": _lines(text)}


def params(text: str) -> dict:
    return code(text, ["parameters"])


def write(path: str | Path, cells: list[dict]) -> None:
    nb = {
        "cells": cells,
        "metadata": {
            "kernelspec": {"display_name": "Python 3", "language": "python", "name": "python3"},
            "language_info": {"name": "python"},
        },
        "nbformat": 4,
        "nbformat_minor": 5,
    }
    for i, cell in enumerate(cells):
        cell["id"] = f"c{i:03d}"
    with_colab(nb, Path(path).name)
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}: {len(cells)} cells")
