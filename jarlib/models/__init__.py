"""The networks, one file per paper, all :class:`~jarlib.models.base.Restorer` subclasses.

``build(name, **kwargs)`` constructs one by registry name; each module's ``PRESETS`` holds its
``"cpu"`` (what this project trains and ships) and ``"paper"`` (the paper's own size and recipe)
settings, used by :mod:`jarlib.train`.
"""

from __future__ import annotations

from types import ModuleType
from typing import Any

from jarlib.models import arcnn, cqr, dcsc, dncnn, dual_priors, fbcnn, qgcn
from jarlib.models.arcnn import ARCNN
from jarlib.models.cqr import CQR
from jarlib.models.dcsc import DCSC
from jarlib.models.base import DecodedJpeg, Restorer, decode_input, decode_jpeg, resolve_device
from jarlib.models.dncnn import DnCNN
from jarlib.models.dual_priors import DualPriors
from jarlib.models.fbcnn import FBCNN
from jarlib.models.qgcn import QGCN

MODELS: dict[str, tuple[type[Restorer], ModuleType]] = {
    "arcnn": (ARCNN, arcnn),
    "dncnn": (DnCNN, dncnn),
    "dcsc": (DCSC, dcsc),
    "fbcnn": (FBCNN, fbcnn),
    "qgcn": (QGCN, qgcn),
    "cqr": (CQR, cqr),
    "dualpriors": (DualPriors, dual_priors),
}
"""Registry name -> (class, module with ``PRESETS``). Later paper issues add their models here."""


def _entry(name: str) -> tuple[type[Restorer], ModuleType]:
    if name not in MODELS:
        raise ValueError(f"unknown model {name!r}; known: {', '.join(sorted(MODELS))}")
    return MODELS[name]


def build(name: str, **kwargs: Any) -> Restorer:
    """Construct model ``name`` (e.g. ``"dncnn"``) with constructor arguments ``kwargs``."""
    cls, _ = _entry(name)
    try:
        return cls(**kwargs)
    except TypeError as exc:
        raise TypeError(f"bad arguments for {cls.__name__}: {exc}") from None


def presets(name: str) -> dict[str, dict[str, Any]]:
    """The named presets of model ``name`` (at least ``"cpu"`` and ``"paper"``)."""
    return _entry(name)[1].PRESETS


__all__ = ["ARCNN", "CQR", "DCSC", "DnCNN", "DualPriors", "FBCNN", "QGCN", "Restorer", "DecodedJpeg", "decode_input", "decode_jpeg", "resolve_device", "MODELS", "build", "presets"]
