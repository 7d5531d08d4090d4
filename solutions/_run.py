"""The command line every solutions file shares: ``python solutions/NN_name.py [--smoke]`` runs the
file's ``exercise_N(smoke)`` functions in order, each under a header (``tests/test_solutions.py``
runs every file with ``--smoke``)."""

from __future__ import annotations

import argparse
from collections.abc import Callable, Sequence


def run(doc: str, exercises: Sequence[Callable[[bool], None]], smoke_help: str,
        argv: list[str] | None = None) -> None:
    """Parse ``--smoke`` (described by ``smoke_help``; ``doc``'s first line is the description) and run
    ``exercises`` in order, each announced by its number and the first line of its docstring."""
    parser = argparse.ArgumentParser(description=doc.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help=smoke_help)
    smoke = parser.parse_args(argv).smoke
    for k, exercise in enumerate(exercises, 1):
        title = (exercise.__doc__ or "").strip().splitlines()
        print(f"--- exercise {k}" + (f": {title[0]}" if title else ""))
        exercise(smoke)
