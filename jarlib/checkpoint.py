"""Training checkpoints on disk: written atomically, read with ``weights_only=True``, exported as
the small fp16 state dicts the zoo stores.

A checkpoint is a dict with ``format`` = :data:`CHECKPOINT_FORMAT`, the run's ``config``, ``step``,
``seconds`` (training time), ``model`` (state dict), the optimizer's state and the ``history``;
:func:`jarlib.train.train` and :func:`jarlib.auxiliary.train_auxiliary` write them (an auxiliary
network's also says its ``kind``), :mod:`jarlib.pretrained` and :mod:`jarlib.zoo` read them.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import torch

from jarlib.atomic import atomic_path

CHECKPOINT_FORMAT = "jarlib-checkpoint-1"


class CheckpointError(RuntimeError):
    """A checkpoint that cannot be used: unreadable, not a jarlib checkpoint, or from another run."""


def save_checkpoint(path: str | os.PathLike, state: dict[str, Any]) -> None:
    """Write ``state`` to ``path`` atomically: a temporary file in the same folder, fsync, rename."""
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def load_checkpoint(path: str | os.PathLike) -> dict[str, Any]:
    """Read a checkpoint written by :func:`save_checkpoint` (``weights_only=True``: tensors and plain
    data only). Raises :class:`CheckpointError` naming the problem for a corrupt or foreign file."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"no checkpoint at {path}")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as exc:  # truncated zip, pickle garbage, ...
        raise CheckpointError(f"checkpoint {path} is corrupt or unreadable ({type(exc).__name__}: {exc}); "
                              "delete it to start over") from None
    if not isinstance(state, dict) or state.get("format") != CHECKPOINT_FORMAT:
        raise CheckpointError(f"{path} is not a jarlib training checkpoint (format "
                              f"{state.get('format') if isinstance(state, dict) else type(state).__name__!r}, "
                              f"expected {CHECKPOINT_FORMAT!r})")
    return state


def export_weights(checkpoint: str | os.PathLike, path: str | os.PathLike, half: bool = True) -> dict[str, Any]:
    """Write the model weights of a training checkpoint as a small state-dict file (fp16 floats when
    ``half``), atomically. Returns ``{"config": ..., "step": ..., "seconds": ...}`` of the run."""
    return export_state(load_checkpoint(checkpoint), path, half)


def export_state(state: dict[str, Any], path: str | os.PathLike, half: bool = True) -> dict[str, Any]:
    """:func:`export_weights` of an already-read checkpoint ``state`` (``load_checkpoint``'s result)."""
    weights = {k: (v.half() if half and v.is_floating_point() else v) for k, v in state["model"].items()}
    save_checkpoint(path, weights)
    return {"config": state["config"], "step": state["step"], "seconds": state["seconds"]}


def is_state_dict(state: Any) -> bool:
    """Whether ``state`` is a bare state dict (a zoo weights file), not a training checkpoint."""
    return (isinstance(state, dict) and bool(state) and "format" not in state
            and all(isinstance(v, torch.Tensor) for v in state.values()))
