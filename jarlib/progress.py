"""One progress bar for every long loop, so no notebook cell is silent for more than a few seconds.

A text bar (``tqdm.tqdm`` on stderr), not a widget: a saved notebook keeps the finished bar
("29/29"), where a widget bar shows its first frame ("0/600") once the kernel is gone.
``JARLIB_PROGRESS=0`` turns every bar off (scripts that log, CI); ``progress=False`` turns one off.
"""

from __future__ import annotations

import os
import sys
from collections.abc import Iterable
from typing import Any, Optional

from tqdm import tqdm


def enabled(progress: Optional[bool] = None) -> bool:
    """``progress`` if given, else on unless ``JARLIB_PROGRESS`` is ``0`` / ``false`` / ``no``."""
    if progress is not None:
        return bool(progress)
    return os.environ.get("JARLIB_PROGRESS", "1").strip().lower() not in {"0", "false", "no", "off"}


def bar(iterable: Optional[Iterable[Any]] = None, *, total: Optional[int] = None, desc: str = "",
        unit: str = "it", progress: Optional[bool] = None, leave: bool = True, **kwargs: Any) -> tqdm:
    """``tqdm(iterable, ...)`` on stderr, shown when :func:`enabled` says so; refreshed at least
    every 2 s so a slow item still moves the clock. ``leave=False`` clears it when done."""
    return tqdm(iterable, total=total, desc=desc, unit=unit, disable=not enabled(progress), file=sys.stderr,
                mininterval=0.5, maxinterval=2.0, dynamic_ncols=True, leave=leave, **kwargs)
