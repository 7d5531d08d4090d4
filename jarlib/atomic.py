"""Atomic file writes: a reader (or a crash) never sees half a file.

Every output of the project (checkpoints, restored PNGs, the benchmark table, the zoo manifest,
figures) goes through :func:`atomic_path`: the content is written to a temporary file in the same
folder, flushed to disk, and renamed over the target (``os.replace`` is atomic on one file system).
"""

from __future__ import annotations

import os
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

__all__ = ["atomic_path", "write_text_atomic"]


@contextmanager
def atomic_path(path: str | os.PathLike, suffix: str = "") -> Iterator[Path]:
    """Yield a temporary path next to ``path``; when the block ends without error, replace ``path``
    with it; on error remove it and leave ``path`` as it was. The parent folder is created.

    ``suffix`` ends the temporary name (e.g. ``".png"`` for writers that pick the format from it).
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}{suffix}")
    try:
        yield tmp
        with open(tmp, "rb+") as fh:   # the data reach the disk before the rename makes them visible
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def write_text_atomic(path: str | os.PathLike, text: str) -> None:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")
