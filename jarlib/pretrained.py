"""Reading the zoo: its manifest, and its trained networks loaded and checked (SHA-256,
``weights_only=True``); also a training checkpoint's network, and the weights a fine-tuning run
starts from.

This is the part of the zoo that training needs (``init_from``, CQR's ranker, Dual priors'
classifier), so it sits below :mod:`jarlib.train`; adding, measuring and building zoo models is
:mod:`jarlib.zoo` (which re-exports everything here: ``zoo.load("dncnn_gray")``).

The zoo lives in the package (``jarlib/zoo/manifest.json``, ``jarlib/zoo/weights/``);
``JARLIB_ZOO_DIR`` names another folder of the same layout (tests, a private zoo).
"""

from __future__ import annotations

import hashlib
import json
import os
from pathlib import Path
from typing import Any, Optional

import torch
from torch import nn

from jarlib import models as model_registry
from jarlib.checkpoint import CheckpointError, is_state_dict, load_checkpoint
from jarlib.models.base import Restorer, resolve_device
from jarlib.models.cqr import Ranker
from jarlib.models.dual_priors import GradientClassifier

ZOO_DIR = Path(__file__).resolve().parent / "zoo"
"""The zoo shipped in the package."""
ENV_VAR = "JARLIB_ZOO_DIR"

AUXILIARY: dict[str, type[nn.Module]] = {"cqr_ranker": Ranker, "dualpriors_classifier": GradientClassifier}
"""Networks in the zoo that are not restorers, by ``kind`` (what their checkpoints say they are);
both are made from ``widths`` and ``hidden``."""


class ZooError(RuntimeError):
    """A zoo model that cannot be loaded: unknown name, missing file, wrong checksum."""


def zoo_dir() -> Path:
    """The zoo folder: ``$JARLIB_ZOO_DIR`` when set, else the package's."""
    return Path(os.environ[ENV_VAR]) if os.environ.get(ENV_VAR) else ZOO_DIR


def manifest_path() -> Path:
    return zoo_dir() / "manifest.json"


def manifest() -> dict[str, Any]:
    """The whole manifest: ``{name: entry}``."""
    path = manifest_path()
    return json.loads(path.read_text()) if path.exists() else {}


def available(kind: Optional[str] = "restorer") -> list[str]:
    """Names of the zoo's restorers (the default), of its networks of another ``kind`` (e.g.
    ``"cqr_ranker"``), or of everything (``kind=None``)."""
    return sorted(n for n, e in manifest().items() if kind is None or e.get("kind", "restorer") == kind)


def info(name: str) -> dict[str, Any]:
    """The manifest entry of ``name`` (restorer or auxiliary network)."""
    entries = manifest()
    if name not in entries:
        raise ZooError(f"no zoo model {name!r}; available: {', '.join(sorted(entries)) or 'none'}")
    return entries[name]


def sha256(path: str | os.PathLike) -> str:
    """SHA-256 of a file, hex."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for chunk in iter(lambda: fh.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def build_auxiliary(kind: str, config: dict[str, Any]) -> nn.Module:
    """An untrained auxiliary network of ``kind`` with the ``widths`` and ``hidden`` of ``config``."""
    if kind not in AUXILIARY:
        raise ZooError(f"unknown kind {kind!r}; known: restorer, {', '.join(AUXILIARY)}")
    return AUXILIARY[kind](widths=config["widths"], hidden=config["hidden"])


def load(name: str, device: str | torch.device = "auto") -> Any:
    """The trained network ``name`` in eval mode (fp32 on ``device``; ``"auto"``: CUDA when present):
    a :class:`~jarlib.models.base.Restorer`, or an auxiliary network (CQR's ranker, ...).

    Checks the weight file's SHA-256 against the manifest and loads it with ``weights_only=True``.
    """
    entry = info(name)
    path = zoo_dir() / entry["file"]
    if not path.is_file():
        raise ZooError(f"weights of {name!r} missing: {path} (a partial clone? `git lfs` is not used; "
                       f"re-clone, or rebuild it: python -m jarlib.zoo build {name})")
    digest = sha256(path)
    if digest != entry["sha256"]:
        raise ZooError(f"weights of {name!r} do not match the manifest: {path} has SHA-256 {digest[:12]}..., "
                       f"manifest says {entry['sha256'][:12]}...; the file is corrupt or from another run")
    kind = entry.get("kind", "restorer")
    if kind == "restorer":
        model = model_registry.build(entry["model"], in_channels=entry["in_channels"], **entry["model_args"])
    else:
        model = build_auxiliary(kind, entry["model_args"])
    state = torch.load(path, map_location="cpu", weights_only=True)
    model.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in state.items()})
    return ready(model, device)


def ready(model: nn.Module, device: str | torch.device) -> Any:
    """``model`` in eval mode on ``device`` ("auto": CUDA when present, else the CPU); a restorer
    as its :meth:`~jarlib.models.base.Restorer.for_inference` leaves it (a memory layout)."""
    model = model.to(resolve_device(device)).eval()
    return model.for_inference() if isinstance(model, Restorer) else model


def restorer_of(state: dict[str, Any]) -> Restorer:
    """The fp32 restorer of an already-read training checkpoint ``state``, on the CPU."""
    cfg = state["config"]
    model = model_registry.build(cfg["model"], in_channels=1 if cfg.get("mode", "gray") == "gray" else 3,
                                 **cfg.get("model_args", {}))
    model.load_state_dict(state["model"])
    return model


def from_checkpoint(checkpoint: str | os.PathLike, device: str | torch.device = "auto") -> Restorer:
    """The restorer of a training checkpoint (``python -m jarlib.train --out DIR`` writes
    ``DIR/checkpoint.pt``), fp32 as trained and in eval mode: to measure a run before, or instead
    of, adding it to the zoo."""
    state = load_checkpoint(checkpoint)
    if state.get("kind") in AUXILIARY:
        raise ZooError(f"{checkpoint} is a {state['kind']} checkpoint, not a restorer's")
    return ready(restorer_of(state), device)


def load_any(source: str | os.PathLike, device: str | torch.device = "auto") -> Restorer:
    """A zoo model by name, else the restorer of the training checkpoint at path ``source``."""
    if str(source) in available():
        return load(str(source), device)
    if Path(source).is_file():
        return from_checkpoint(source, device)
    raise ZooError(f"{str(source)!r} is neither a zoo model ({', '.join(available())}) nor a checkpoint file")


def load_auxiliary(source: str | os.PathLike, kind: str) -> nn.Module:
    """A trained auxiliary network of ``kind`` in eval mode, on the CPU: from a checkpoint of
    :func:`jarlib.auxiliary.train_auxiliary` or, when no such file exists, a zoo name."""
    path = Path(source)
    if not path.exists():
        if str(source) not in manifest():
            raise ZooError(f"{kind} {str(source)!r} is neither a checkpoint file nor a zoo model "
                           f"({', '.join(available(kind)) or 'none of this kind'})")
        found = info(str(source)).get("kind", "restorer")
        if found != kind:
            raise ZooError(f"zoo model {str(source)!r} is a {found}, not a {kind}")
        return load(str(source), "cpu")
    ck = load_checkpoint(path)
    if ck.get("kind") != kind:
        raise CheckpointError(f"{path} is a {ck.get('kind') or 'restorer'} checkpoint, not a {kind}'s")
    net = build_auxiliary(kind, ck["config"])
    net.load_state_dict(ck["model"])
    return net.eval()


def initial_weights(source: str) -> dict[str, torch.Tensor]:
    """The model weights to start a fine-tuning run from (``init_from``): a zoo name (e.g.
    ``"fbcnn_gray"``), the path of a training checkpoint, or the path of a zoo weights file (a
    state dict, fp16 or fp32: e.g. an earlier version, ``git show <commit>:jarlib/zoo/weights/<name>.pt``,
    or an earlier stage of a recipe as the zoo would store it)."""
    if source in available():
        return load(source, "cpu").state_dict()
    if not Path(source).exists():
        raise ValueError(f"init_from {source!r} is neither a zoo model ({', '.join(available())}) nor a file")
    try:
        state = torch.load(source, map_location="cpu", weights_only=True)
    except Exception as exc:
        raise ValueError(f"init_from {source!r} is unreadable ({type(exc).__name__}: {exc})") from None
    if is_state_dict(state):
        return {k: v.float() if v.is_floating_point() else v for k, v in state.items()}
    return load_checkpoint(source)["model"]
