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
    Path(path).write_text(json.dumps(nb, indent=1, ensure_ascii=False) + "\n")
    print(f"wrote {path}: {len(cells)} cells")
