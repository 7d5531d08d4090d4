"""One training loop for every model: config, patches, losses, validation, checkpoints, resume.

From Python (the notebooks)::

    cfg = TrainConfig.from_preset("dncnn", "cpu", steps=500, out="runs/dncnn_demo")
    result = train(cfg)              # returns the model and its history
    result = train(cfg, resume=True) # continues bit-for-bit from runs/dncnn_demo/checkpoint.pt

From the command line::

    python -m jarlib.train --model dncnn --preset cpu --qf 10-60 --steps 8000 --out runs/dncnn_gray
    torchrun --nproc_per_node 8 -m jarlib.train --model fbcnn --preset paper --out runs/fbcnn_paper   # 8 GPUs

Design (notebook 03 teaches it):

- **Data**: :class:`jarlib.data.JpegPatchDataset` makes every patch from ``(seed, 0, index)``; step
  ``s`` uses items ``s*B .. s*B+B-1``, so a resumed run sees exactly the patches the uninterrupted one
  would, without saving any data-loader state. Batches are stacked in the main process (no worker
  processes: on 2 cores a worker steals a core from the convolutions).
- **Device**: CUDA when present, else CPU with ``torch.set_num_threads`` = the cores; overridable.
  Mixed precision on CUDA: bf16 autocast where the GPU has it, else fp16 with a gradient scaler; on
  the CPU bf16 only when asked (``amp="bf16"``: faster only on CPUs with AMX; measure). On a GPU the
  patches are made by ``workers`` CPU processes and copied from pinned memory; ``compile=True``
  runs the network through ``torch.compile``.
- **Several processes** (``torchrun``, :mod:`jarlib.distributed`): DistributedDataParallel; each
  rank trains on its share of every step's items, only rank 0 logs, validates and checkpoints.
- **Losses** compose from named terms (``"l1"``, ``"l2"``, ``"charbonnier"``, ``"0.5*l1+l2"``); a
  model adds its own terms (e.g. FBCNN's QF loss) to :data:`LOSSES` without touching the loop.
- **Validation** every ``val_every`` steps: PSNR/SSIM (Gaussian 11x11) of ``model.restore`` on a few
  held-out images at chosen QFs, next to the JPEG input's, stored in ``history``.
- **Checkpoints** every ``ckpt_every`` steps and at the end, written to a temporary file and renamed
  (never half-written): model, optimizer, scheduler, step, RNG states, history and the full config.
"""

from __future__ import annotations

import argparse
import dataclasses
import itertools
import json
import math
import os
import random
import re
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jarlib import distributed
from jarlib import models as model_registry
from jarlib.atomic import write_text_atomic
from jarlib.block import BLOCK
from jarlib.checkpoint import (CHECKPOINT_FORMAT, CheckpointError, export_state, export_weights, load_checkpoint,
                               save_checkpoint)
from jarlib.color import to_gray_y
from jarlib.data import JpegPatchDataset, available, evaluation_images, fetch_command
from jarlib.data.patches import named_images
from jarlib.data.registry import DatasetNotFoundError
from jarlib.distributed import Context, rank_items, shard
from jarlib.evaluation import evaluate_restorer
from jarlib.models.base import resolve_device
from jarlib.pretrained import initial_weights, load_auxiliary
from jarlib.progress import bar as progress_bar
from jarlib.progress import enabled as progress_enabled

__all__ = ["CHECKPOINT_FORMAT", "CheckpointError", "TrainConfig", "TrainResult", "export_state", "export_weights",
           "load_checkpoint", "save_checkpoint", "train"]

# Keys that may differ between a checkpoint and the config resuming it: they change how a run is
# watched or where it runs, never what it computes.
RESUMABLE_KEYS = frozenset({"out", "device", "threads", "val_every", "ckpt_every", "log_every",
                            "progress", "val_images", "workers", "compile"})


# ----------------------------------------------------------------------------------------- config

@dataclass
class TrainConfig:
    """Everything that defines a training run (saved in every checkpoint; JSON-serialisable).

    Sizes: ``patch`` P (square patches), ``batch`` B, ``steps`` optimizer steps. QFs are IJG
    qualities; ``qf_range`` is inclusive; ``qf_choices`` (e.g. ``(10, 20, 30)``), when set, draws the
    QF uniformly from that list instead (a paper that trains on a few fixed QFs). ``batch`` is the
    global batch: under ``torchrun`` each of W processes trains on B/W of it. ``train_set`` is a
    registry name, or several joined by ``+`` (``"div2k_train+flickr2k"``). ``lr`` peaks
    after ``warmup`` linear steps, then follows ``schedule``: ``"cosine"`` down to ``lr_min`` at
    the last step, ``"step"`` (x ``gamma`` at each of ``milestones``) or ``"constant"``.
    ``init_from`` (a zoo name or checkpoint path) starts from trained weights instead of a random
    init: fine-tuning, e.g. FBCNN-A from FBCNN.
    """

    model: str = "dncnn"
    model_args: dict[str, Any] = field(default_factory=dict)
    preset: Optional[str] = None
    mode: str = "gray"
    train_set: str = "bsds500_train"
    patch: int = 64
    batch: int = 16
    qf_range: tuple[int, int] = (10, 60)
    qf_choices: Optional[tuple[int, ...]] = None
    double_fraction: float = 0.0
    grid_shift: float = 0.0
    steps: int = 1000
    optimizer: str = "adam"
    lr: float = 1e-3
    lr_min: float = 0.0
    schedule: str = "cosine"
    warmup: int = 0
    milestones: tuple[int, ...] = ()
    gamma: float = 0.5
    weight_decay: float = 0.0
    grad_clip: float = 0.0
    loss: str = "l1"
    amp: str = "auto"
    channels_last: bool = False
    seed: int = 0
    init_from: Optional[str] = None
    val_set: str = "live1_gray"
    val_images: int = 4
    val_crop: int = 256
    val_qfs: tuple[int, ...] = (10, 40)
    val_every: int = 500
    ckpt_every: int = 500
    log_every: int = 20
    device: str = "auto"
    threads: int = 0
    workers: int = -1
    compile: bool = False
    progress: bool = True
    out: Optional[str] = None

    def __post_init__(self) -> None:
        self.qf_range = tuple(int(q) for q in self.qf_range)  # type: ignore[assignment]
        self.val_qfs = tuple(int(q) for q in self.val_qfs)
        if self.qf_choices is not None:
            self.qf_choices = tuple(int(q) for q in self.qf_choices)  # type: ignore[assignment]
        self.milestones = tuple(int(m) for m in self.milestones)
        self.model_args = dict(self.model_args)
        self.validate()

    def validate(self) -> None:
        """Raise ``ValueError`` naming the first bad setting."""
        model_registry._entry(self.model)
        if self.mode not in ("gray", "rgb"):
            raise ValueError(f"mode must be 'gray' or 'rgb', got {self.mode!r}")
        for name in ("patch", "batch", "steps"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 1:
                raise ValueError(f"{name} must be a positive integer, got {v!r}")
        lo, hi = self.qf_range if len(self.qf_range) == 2 else (0, 0)
        if len(self.qf_range) != 2 or not 1 <= lo <= hi <= 100:
            raise ValueError(f"qf_range must be (low, high) with 1 <= low <= high <= 100, got {self.qf_range}")
        if self.qf_choices is not None and not (self.qf_choices and all(1 <= q <= 100 for q in self.qf_choices)):
            raise ValueError(f"qf_choices must be a non-empty list of qualities in 1..100, got {self.qf_choices}")
        if not all(1 <= q <= 100 for q in self.val_qfs):
            raise ValueError(f"val_qfs must be qualities in 1..100, got {self.val_qfs}")
        if self.optimizer not in ("adam", "adamw", "sgd"):
            raise ValueError(f"optimizer must be 'adam', 'adamw' or 'sgd', got {self.optimizer!r}")
        if self.schedule not in ("cosine", "step", "constant"):
            raise ValueError(f"schedule must be 'cosine', 'step' or 'constant', got {self.schedule!r}")
        if not (self.lr > 0 and self.lr_min >= 0):
            raise ValueError(f"lr must be > 0 and lr_min >= 0, got lr={self.lr}, lr_min={self.lr_min}")
        if self.amp not in ("auto", "off", "bf16", "fp16"):
            raise ValueError(f"amp must be 'auto', 'off', 'bf16' or 'fp16', got {self.amp!r}")
        for name in ("warmup", "val_every", "ckpt_every", "log_every", "val_images", "threads", "seed"):
            v = getattr(self, name)
            if isinstance(v, bool) or not isinstance(v, int) or v < 0:
                raise ValueError(f"{name} must be a non-negative integer, got {v!r}")
        if isinstance(self.workers, bool) or not isinstance(self.workers, int) or self.workers < -1:
            raise ValueError(f"workers must be -1 (auto: 0 on the CPU, several with a GPU) or a count >= 0, "
                             f"got {self.workers!r}")
        for name in ("channels_last", "progress", "compile"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        parse_loss(self.loss)

    @classmethod
    def from_preset(cls, model: str, preset: str = "cpu", **overrides: Any) -> "TrainConfig":
        """The config of ``preset`` (``"cpu"`` or ``"paper"``) for ``model``, with ``overrides``
        (``model_args`` overrides are merged into the preset's)."""
        table = model_registry.presets(model)
        if preset not in table:
            raise ValueError(f"model {model!r} has no preset {preset!r}; presets: {', '.join(table)}")
        p = table[preset]
        args = {**p.get("model_args", {}), **overrides.pop("model_args", {})}
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(overrides) - fields
        if unknown:
            raise ValueError(f"unknown config key(s): {', '.join(sorted(unknown))}")
        return cls(model=model, preset=preset, model_args=args, **{**p.get("train", {}), **overrides})

    def to_dict(self) -> dict[str, Any]:
        """Plain JSON-able dict (tuples as lists)."""
        return json.loads(json.dumps(dataclasses.asdict(self)))

    @classmethod
    def from_dict(cls, d: dict[str, Any]) -> "TrainConfig":
        fields = {f.name for f in dataclasses.fields(cls)}
        unknown = set(d) - fields
        if unknown:
            raise ValueError(f"unknown config key(s): {', '.join(sorted(unknown))}")
        return cls(**d)


# ----------------------------------------------------------------------------------------- losses

LossTerm = Callable[[Any, "Batch"], torch.Tensor]


class Batch:
    """A training batch: ``compressed`` and ``clean`` (B, C, P, P) in [0, 1], ``qf`` (B,) = QF/100
    (NaN for double JPEG)."""

    def __init__(self, compressed: torch.Tensor, clean: torch.Tensor, qf: torch.Tensor) -> None:
        self.compressed, self.clean, self.qf = compressed, clean, qf

    def to(self, device: torch.device, channels_last: bool = False) -> "Batch":
        """On ``device``; to CUDA through pinned memory, without waiting for the copy."""
        fmt = torch.channels_last if channels_last else torch.contiguous_format
        cuda = device.type == "cuda"
        move = lambda t: (t.pin_memory() if cuda and not t.is_pinned() else t).to(device, non_blocking=cuda)
        return Batch(move(self.compressed).contiguous(memory_format=fmt), move(self.clean).contiguous(memory_format=fmt),
                     move(self.qf))


def _image(out: Any) -> torch.Tensor:
    return out[0] if isinstance(out, (tuple, list)) else out


LOSSES: dict[str, LossTerm] = {
    "l1": lambda out, b: F.l1_loss(_image(out).float(), b.clean),
    "l2": lambda out, b: F.mse_loss(_image(out).float(), b.clean),
    "charbonnier": lambda out, b: torch.sqrt((_image(out).float() - b.clean) ** 2 + 1e-6).mean(),
}
"""Named loss terms ``(model output, batch) -> scalar``. A model module adds its own terms in a
module-level ``LOSSES`` dict (e.g. FBCNN's ``qf_l1``), collected here."""
for _cls, _module in model_registry.MODELS.values():
    LOSSES.update(getattr(_module, "LOSSES", {}))


def parse_loss(spec: str) -> list[tuple[float, str]]:
    """``"l1"``, ``"0.5*l1 + l2"`` -> ``[(weight, name), ...]``; unknown names raise ``ValueError``."""
    terms = []
    for part in spec.replace(" ", "").split("+"):
        m = re.fullmatch(r"(?:([0-9.eE-]+)\*)?([A-Za-z_][A-Za-z0-9_]*)", part)
        if not m:
            raise ValueError(f"bad loss term {part!r} in {spec!r}; write e.g. 'l1' or '0.5*l1+l2'")
        weight, name = float(m.group(1) or 1.0), m.group(2)
        if name not in LOSSES:
            raise ValueError(f"unknown loss {name!r}; known: {', '.join(sorted(LOSSES))}")
        terms.append((weight, name))
    return terms


def compose_loss(spec: str) -> Callable[[Any, Batch], tuple[torch.Tensor, dict[str, float]]]:
    """The loss function of ``spec``: returns the weighted sum and each term's value."""
    terms = parse_loss(spec)

    def loss_fn(out: Any, batch: Batch) -> tuple[torch.Tensor, dict[str, float]]:
        values = {name: LOSSES[name](out, batch) for _, name in terms}
        total = sum(w * values[name] for w, name in terms)
        return total, {k: float(v.detach()) for k, v in values.items()}

    return loss_fn


# ----------------------------------------------------------------------------------------- pieces

def pick_device(name: str = "auto") -> torch.device:
    """``"auto"``: CUDA when present, else CPU (:func:`jarlib.models.base.resolve_device`)."""
    return resolve_device(name)


def usable_cores() -> int:
    """The CPU cores this process may run on (its affinity mask where the OS has one)."""
    if hasattr(os, "sched_getaffinity"):
        return len(os.sched_getaffinity(0))
    return os.cpu_count() or 1


def set_threads(threads: int = 0) -> int:
    """CPU threads for the convolutions: ``threads`` or, when 0, the cores this process may use."""
    torch.set_num_threads(max(1, threads or usable_cores()))
    return torch.get_num_threads()


def seed_everything(seed: int) -> None:
    """Seed Python, numpy's global RNG and torch (CPU and CUDA)."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def amp_dtype(cfg: TrainConfig, device: torch.device) -> Optional[torch.dtype]:
    """Autocast dtype. ``"auto"``: on CUDA bf16 where the GPU supports it (no gradient scaler
    needed), else fp16 (with the scaler); on the CPU none (fp32), since bf16 is faster only on CPUs
    with AMX. ``None`` = fp32."""
    if cfg.amp == "off":
        return None
    if cfg.amp == "bf16":
        return torch.bfloat16
    if cfg.amp == "fp16":
        return torch.float16
    if device.type != "cuda":
        return None
    return torch.bfloat16 if torch.cuda.is_bf16_supported() else torch.float16


def data_workers(cfg: TrainConfig, device: torch.device, local_world: int = 1) -> int:
    """Processes that make patches: ``cfg.workers``, or for ``-1`` none on the CPU (on 2 cores a
    worker takes a core from the convolutions) and, with a GPU, the CPU cores this process's share
    leaves after the main thread (at most 8)."""
    if cfg.workers >= 0:
        return cfg.workers
    if device.type != "cuda":
        return 0
    return max(1, min(8, usable_cores() // max(1, local_world) - 1))


def learning_rate(cfg: TrainConfig, step: int) -> float:
    """The learning rate used for optimizer step ``step`` (0-based)."""
    if cfg.warmup and step < cfg.warmup:
        return cfg.lr * (step + 1) / cfg.warmup
    if cfg.schedule == "constant":
        return cfg.lr
    if cfg.schedule == "step":
        return cfg.lr * cfg.gamma ** sum(step >= m for m in cfg.milestones)
    span = max(1, cfg.steps - cfg.warmup)
    t = min(1.0, (step - cfg.warmup) / span)
    return cfg.lr_min + 0.5 * (cfg.lr - cfg.lr_min) * (1 + math.cos(math.pi * t))


def make_optimizer(cfg: TrainConfig, model: nn.Module) -> torch.optim.Optimizer:
    params = [p for p in model.parameters() if p.requires_grad]
    if cfg.optimizer == "sgd":
        return torch.optim.SGD(params, lr=cfg.lr, momentum=0.9, weight_decay=cfg.weight_decay)
    cls = torch.optim.AdamW if cfg.optimizer == "adamw" else torch.optim.Adam
    return cls(params, lr=cfg.lr, weight_decay=cfg.weight_decay)


def make_scheduler(cfg: TrainConfig, optimizer: torch.optim.Optimizer) -> torch.optim.lr_scheduler.LambdaLR:
    """LambdaLR following :func:`learning_rate` (its state is the step count, saved in checkpoints)."""
    return torch.optim.lr_scheduler.LambdaLR(optimizer, lambda s: learning_rate(cfg, s) / cfg.lr)


def make_dataset(cfg: TrainConfig, images: Any = None):
    """The patch stream of a run: ``steps * batch`` items of :class:`~jarlib.data.JpegPatchDataset`."""
    return JpegPatchDataset(images if images is not None else cfg.train_set, cfg.patch, mode=cfg.mode,
                            samples_per_epoch=cfg.steps * cfg.batch, qf_range=tuple(cfg.qf_range),
                            qf_choices=cfg.qf_choices, double_fraction=cfg.double_fraction,
                            grid_shift=cfg.grid_shift, seed=cfg.seed)


def get_batch(dataset: Any, step: int, batch: int, ctx: Context = Context()) -> Batch:
    """Items ``step*batch .. step*batch+batch-1`` stacked: the batch of optimizer step ``step``
    (under ``torchrun``, this rank's share of it: :func:`jarlib.distributed.rank_items`)."""
    items = [dataset[i] for i in rank_items(step, batch, ctx)]
    return Batch(*(torch.stack(parts) for parts in zip(*items)))


class _StepItems(torch.utils.data.Sampler):
    """The item indices of steps ``start .. end-1`` for this rank, in order (a DataLoader with
    ``batch_size`` = the rank's share then yields exactly :func:`get_batch`'s batches)."""

    def __init__(self, start: int, end: int, batch: int, ctx: Context) -> None:
        self.start, self.end, self.batch, self.ctx = start, end, batch, ctx

    def __iter__(self):
        for step in range(self.start, self.end):
            yield from rank_items(step, self.batch, self.ctx)

    def __len__(self) -> int:
        return (self.end - self.start) * shard(self.batch, self.ctx.world)


def batches(dataset: Any, cfg: TrainConfig, start: int, end: int, workers: int, ctx: Context = Context(),
            pin: bool = False):
    """The batches of steps ``start .. end-1``, made in this process (``workers=0``) or by
    ``workers`` processes ahead of the training loop; the same tensors either way."""
    if workers == 0:
        for step in range(start, end):
            yield get_batch(dataset, step, cfg.batch, ctx)
        return
    loader = torch.utils.data.DataLoader(dataset, batch_size=shard(cfg.batch, ctx.world),
                                         sampler=_StepItems(start, end, cfg.batch, ctx), num_workers=workers,
                                         pin_memory=pin, prefetch_factor=4, persistent_workers=False)
    for compressed, clean, qf in loader:
        yield Batch(compressed, clean, qf)


def load_validation(cfg: TrainConfig, images: Any = None) -> list[tuple[str, np.ndarray]]:
    """The first ``val_images`` images of ``val_set`` (or ``images``), centre-cropped to
    ``val_crop`` (a multiple of 8; 0 keeps the whole image), in the run's mode. When ``val_set`` is
    not installed the run validates on the scikit-image samples instead, and says so."""
    if cfg.val_images == 0:
        return []
    if images is None:
        if not available(cfg.val_set):
            print(f"validation set {cfg.val_set} is not installed: validating on the scikit-image samples "
                  f"instead (fetch it: {fetch_command(cfg.val_set)})")
        named = evaluation_images(cfg.val_set, mode=cfg.mode, limit=cfg.val_images)
    else:
        named = named_images(images, cfg.mode)[:cfg.val_images]
    out = []
    for name, img in named:
        if cfg.mode == "gray" and img.ndim == 3:
            img = to_gray_y(img)
        if cfg.val_crop:
            c = cfg.val_crop
            top = max(0, (img.shape[0] - c) // 2) // BLOCK * BLOCK
            left = max(0, (img.shape[1] - c) // 2) // BLOCK * BLOCK
            img = img[top:top + c, left:left + c]
        out.append((name, np.ascontiguousarray(img)))
    return out


def validate(model: nn.Module, images: Sequence[tuple[str, np.ndarray]], qfs: Sequence[int]) -> dict[str, dict[str, float]]:
    """Mean PSNR / SSIM (Gaussian 11x11; RGB for colour runs) of ``model.restore`` and of the JPEG
    input, per QF: ``{"10": {"psnr": .., "ssim": .., "psnr_jpeg": .., "ssim_jpeg": ..}, ...}``
    (:func:`jarlib.evaluation.evaluate_restorer` under FBCNN's convention, on these images)."""
    if not images:
        return {}
    convention = "fbcnn_color" if images[0][1].ndim == 3 else "fbcnn_gray"
    scores = evaluate_restorer(model.restore, images, qfs, convention, progress=False)
    return {str(q): {k: scores[str(q)][k] for k in ("psnr", "ssim", "psnr_jpeg", "ssim_jpeg")} for q in qfs}


# ----------------------------------------------------------------------------------------- checkpoints

def config_mismatch(saved: dict[str, Any], current: dict[str, Any]) -> list[str]:
    """Keys (outside :data:`RESUMABLE_KEYS`) whose values differ: ``"lr: 0.001 -> 0.002"``."""
    keys = sorted((set(saved) | set(current)) - RESUMABLE_KEYS)
    return [f"{k}: {saved.get(k)!r} -> {current.get(k)!r}" for k in keys if saved.get(k) != current.get(k)]


# ----------------------------------------------------------------------------------------- the loop

@dataclass
class TrainResult:
    """What :func:`train` returns: the trained model (eval mode), its config and history.

    ``history`` is ``{"train": [{"step", "loss", "psnr", "lr", "seconds"}, ...],
    "val": [{"step", "seconds", "10": {"psnr", ...}, ...}, ...]}``; ``seconds`` counts training time
    only (validation and checkpoint writing excluded), summed over resumed sessions.
    """

    model: nn.Module
    config: TrainConfig
    history: dict[str, list[dict[str, Any]]]
    step: int
    checkpoint: Optional[Path]
    rank: int = 0
    world: int = 1


def train(cfg: TrainConfig, *, resume: bool = False, stop_after: Optional[int] = None,
          images: Any = None, val_images: Any = None) -> TrainResult:
    """Train ``cfg.model`` as ``cfg`` says; checkpoint to ``cfg.out/checkpoint.pt``.

    Under ``torchrun`` every process calls this; they train one model together
    (:mod:`jarlib.distributed`) and only rank 0 validates and writes the checkpoint.

    Args:
        resume: continue from ``cfg.out/checkpoint.pt`` when it exists (bit-for-bit: the same
            patches, RNG states, optimizer and schedule; with another number of processes the
            patches are the same, the RNG streams not, and a warning says so). A checkpoint from a
            different config raises :class:`CheckpointError` listing the differences.
        stop_after: stop (with a checkpoint) after this global step — to split a run in sessions,
            or to test resuming.
        images, val_images: image sources instead of ``cfg.train_set`` / ``cfg.val_set`` (e.g.
            :func:`jarlib.data.sample_images` when no data set is installed).
    """
    device = pick_device(cfg.device)
    ctx = distributed.setup(device)
    try:
        return _train(cfg, ctx, distributed.rank_device(device, ctx), resume, stop_after, images, val_images)
    finally:
        distributed.teardown(ctx)


def _unused_parameters(model: nn.Module, batch: Batch, loss_fn: Callable, dtype: Optional[torch.dtype]) -> list[str]:
    """Trainable parameters the loss does not reach (DDP must be told to expect them), found by one
    forward and backward pass that leaves no trace: the gradients are cleared, the RNG restored."""
    rng = torch.get_rng_state()
    with torch.autocast(batch.clean.device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
        loss, _ = loss_fn(model(batch.compressed, **model.training_inputs(batch)), batch)
    loss.backward()
    unused = [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]
    model.zero_grad(set_to_none=True)
    torch.set_rng_state(rng)
    return unused


def _train(cfg: TrainConfig, ctx: Context, device: torch.device, resume: bool, stop_after: Optional[int],
           images: Any, val_images: Any) -> TrainResult:
    shard(cfg.batch, ctx.world)   # a batch that does not split is an error before any work
    local_world = int(os.environ.get("LOCAL_WORLD_SIZE", ctx.world))
    if device.type == "cpu":
        threads = set_threads(cfg.threads or max(1, usable_cores() // local_world))   # the machine's cores, shared by its ranks
    else:
        threads = torch.get_num_threads()
    seed_everything(cfg.seed)
    model = model_registry.build(cfg.model, in_channels=1 if cfg.mode == "gray" else 3, **cfg.model_args).to(device)
    if cfg.channels_last:
        model = model.to(memory_format=torch.channels_last)
    optimizer = make_optimizer(cfg, model)
    scheduler = make_scheduler(cfg, optimizer)
    dtype = amp_dtype(cfg, device)
    scaler = torch.amp.GradScaler("cuda", enabled=(dtype == torch.float16 and device.type == "cuda"))
    loss_fn = compose_loss(cfg.loss)
    history: dict[str, list[dict[str, Any]]] = {"train": [], "val": []}
    window: list[tuple[float, float]] = []  # (loss, psnr) of the steps since the last history entry
    step, seconds = 0, 0.0
    ckpt = Path(cfg.out) / "checkpoint.pt" if cfg.out else None
    say = print if ctx.main else (lambda *a, **k: None)

    if resume and ckpt is not None and ckpt.exists():
        state = load_checkpoint(ckpt)
        diff = config_mismatch(state["config"], cfg.to_dict())
        if diff:
            raise CheckpointError(f"{ckpt} was written by a different run; differing settings: "
                                  + "; ".join(diff) + ". Use another --out or the checkpoint's settings.")
        try:
            model.load_state_dict(state["model"])
            optimizer.load_state_dict(state["optimizer"])
            scheduler.load_state_dict(state["scheduler"])
            if "scaler" in state and scaler.is_enabled():
                scaler.load_state_dict(state["scaler"])
        except (RuntimeError, KeyError, ValueError) as exc:
            raise CheckpointError(f"{ckpt} does not fit this model: {exc}") from None
        saved_world = int(state.get("world", 1))
        rngs = state["rng"].get("ranks") or [state["rng"]["torch"]]
        if saved_world != ctx.world:
            say(f"warning: {ckpt} was written by {saved_world} process(es), resumed by {ctx.world}: every step "
                "trains on the same patches, but the random streams differ, so the run is not bit-for-bit "
                f"the one it would have been with {saved_world}")
        torch.set_rng_state(rngs[ctx.rank] if saved_world == ctx.world else rngs[0])
        if device.type == "cuda" and state["rng"].get("cuda") is not None and saved_world == ctx.world:
            torch.cuda.set_rng_state(state["rng"]["cuda"])
        step, seconds, history = int(state["step"]), float(state["seconds"]), state["history"]
        window = [tuple(w) for w in state.get("window", [])]

    if step == 0 and cfg.init_from:
        try:
            model.load_state_dict(model.weights_from(initial_weights(cfg.init_from)))
        except RuntimeError as exc:
            raise ValueError(f"init_from {cfg.init_from!r} does not fit this model: {exc}") from None
    for slot, (kind, source) in model.auxiliary_needed().items():   # CQR's ranker, Dual priors' classifier
        model.attach_auxiliary(slot, load_auxiliary(source, kind).to(device))
    dataset = make_dataset(cfg, images)
    val_set = load_validation(cfg, val_images) if ctx.main else []
    end = cfg.steps if stop_after is None else min(cfg.steps, stop_after)
    workers = data_workers(cfg, device, local_world)
    stream = batches(dataset, cfg, step, end, workers, ctx, pin=device.type == "cuda")

    net: nn.Module = model
    if ctx.distributed:
        first = next(stream, None)
        unused = _unused_parameters(model, first.to(device, cfg.channels_last), loss_fn, dtype) if first else []
        if unused and ctx.main:
            say(f"{len(unused)} parameter tensor(s) get no gradient from the loss {cfg.loss!r} "
                f"(e.g. {unused[0]}): DistributedDataParallel is told to expect that")
        net = distributed.wrap(model, ctx, device, find_unused=bool(unused))
        model = net.module
        stream = itertools.chain([first] if first else [], stream)
    if cfg.compile:
        net = torch.compile(net)

    def snapshot() -> None:
        rngs = distributed.gather(torch.get_rng_state(), ctx)     # every rank's stream, for an exact resume
        if ckpt is None or not ctx.main:
            return
        save_checkpoint(ckpt, {
            "format": CHECKPOINT_FORMAT, "config": cfg.to_dict(), "step": step, "seconds": seconds,
            "model": model.state_dict(), "optimizer": optimizer.state_dict(),
            "scheduler": scheduler.state_dict(), "scaler": scaler.state_dict(),
            "rng": {"torch": rngs[0], "ranks": rngs,
                    "cuda": torch.cuda.get_rng_state() if device.type == "cuda" else None},
            "history": history, "window": window, "torch": str(torch.__version__), "threads": threads,
            "world": ctx.world,
        })

    def run_validation() -> None:
        if not val_set:
            return
        entry: dict[str, Any] = {"step": step, "seconds": seconds}
        entry.update(validate(model, val_set, cfg.val_qfs))
        history["val"].append(entry)
        model.train()

    bar = progress_bar(total=cfg.steps, initial=step, progress=cfg.progress and progress_enabled() and ctx.main,
                       desc=f"{cfg.model}", unit="step")
    model.train()
    while step < end:
        t0 = time.perf_counter()
        batch = next(stream).to(device, cfg.channels_last)
        with torch.autocast(device.type, dtype=dtype or torch.float32, enabled=dtype is not None):
            out = net(batch.compressed, **model.training_inputs(batch))
            loss, parts = loss_fn(out, batch)
        with torch.no_grad():
            mse = F.mse_loss(_image(out).float().clamp(0, 1), batch.clean)
        # the global batch's loss and error (the mean over the ranks' equal shares), seen alike by every rank
        loss_value, mse_value, *part_values = distributed.mean([float(loss.detach()), float(mse), *parts.values()], ctx)
        parts = dict(zip(parts, part_values))
        if not math.isfinite(loss_value):
            raise FloatingPointError(f"loss became {loss_value} at step {step}; lower lr "
                                     f"({cfg.lr}) or turn amp off (amp={cfg.amp!r})")
        optimizer.zero_grad(set_to_none=True)
        scaler.scale(loss).backward()
        if cfg.grad_clip:
            scaler.unscale_(optimizer)
            nn.utils.clip_grad_norm_(model.parameters(), cfg.grad_clip)
        lr = optimizer.param_groups[0]["lr"]
        scaler.step(optimizer)
        scaler.update()
        scheduler.step()
        step += 1
        seconds += time.perf_counter() - t0
        window.append((loss_value, 10 * math.log10(1.0 / max(mse_value, 1e-12))))
        if step % cfg.log_every == 0 or step == cfg.steps:
            loss_avg, psnr_avg = (float(np.mean(v)) for v in zip(*window))
            history["train"].append({"step": step, "loss": loss_avg, "psnr": psnr_avg,
                                     "lr": lr, "seconds": seconds, **parts})
            bar.set_postfix(loss=f"{loss_avg:.4f}", psnr=f"{psnr_avg:.2f}")
            window = []
        bar.update(1)
        if cfg.val_every and (step % cfg.val_every == 0 or step == cfg.steps):
            run_validation()
            if history["val"] and history["val"][-1]["step"] == step:
                v = history["val"][-1]
                bar.write(f"step {step}: " + "  ".join(
                    f"QF{q} {v[str(q)]['psnr']:.2f} dB (JPEG {v[str(q)]['psnr_jpeg']:.2f})" for q in cfg.val_qfs))
        if cfg.ckpt_every and step % cfg.ckpt_every == 0 and step != end:
            snapshot()
    bar.close()
    snapshot()
    model.eval()
    return TrainResult(model, cfg, history, step, ckpt, ctx.rank, ctx.world)


# ----------------------------------------------------------------------------------------- export

def write_history(result: TrainResult) -> Path:
    """``<out>/history.json`` of a finished (or stopped) run: its config, step and history, written
    atomically; returns the path."""
    path = Path(result.config.out) / "history.json"
    write_text_atomic(path, json.dumps({"config": result.config.to_dict(), "step": result.step,
                                        "history": result.history}, indent=1))
    return path


# ----------------------------------------------------------------------------------------- CLI

def parse_value(text: str) -> Any:
    """A --set value: JSON (``1e-3``, ``[10, 40]``, ``true``), Python's True/False/None, else the text."""
    if text in ("True", "False", "None"):
        return {"True": True, "False": False, "None": None}[text]
    try:
        return json.loads(text)
    except json.JSONDecodeError:
        return text


def main(argv: Optional[Sequence[str]] = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m jarlib.train",
        description="Train a jarlib model on JPEG patches (resumable; see jarlib.train).")
    parser.add_argument("--model", required=True, choices=sorted(model_registry.MODELS))
    parser.add_argument("--preset", default="cpu", help="named preset of the model: cpu (default) or paper")
    parser.add_argument("--qf", help="QF range, e.g. 10-60 (or one QF, e.g. 10)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--out", required=True, help="run folder: checkpoint.pt, history.json")
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    parser.add_argument("--stop-after", type=int, help="stop (with a checkpoint) after this step")
    parser.add_argument("--set", nargs="*", default=[], metavar="KEY=VALUE",
                        help="other config settings, e.g. amp=bf16 lr=5e-4 model_args.features=32")
    args = parser.parse_args(argv)
    overrides: dict[str, Any] = {"out": args.out}
    if args.steps is not None:
        overrides["steps"] = args.steps
    if args.qf:
        lo, _, hi = args.qf.partition("-")
        overrides["qf_range"] = (int(lo), int(hi or lo))
    model_args: dict[str, Any] = {}
    for item in args.set:
        key, eq, value = item.partition("=")
        if not eq:
            parser.error(f"--set expects KEY=VALUE, got {item!r}")
        if key.startswith("model_args."):
            model_args[key.split(".", 1)[1]] = parse_value(value)
        else:
            overrides[key] = parse_value(value)
    try:
        cfg = TrainConfig.from_preset(args.model, args.preset, model_args=model_args, **overrides)
        result = train(cfg, resume=args.resume, stop_after=args.stop_after)
    except (ValueError, TypeError, CheckpointError, DatasetNotFoundError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    if result.rank == 0:   # under torchrun: one history, one line
        hist = write_history(result)
        print(f"step {result.step}/{cfg.steps}; checkpoint {result.checkpoint}; history {hist}"
              + (f" ({result.world} processes)" if result.world > 1 else ""))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
