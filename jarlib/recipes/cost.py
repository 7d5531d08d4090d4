"""What a recipe costs: counted from the network's multiply-adds (``--dry-run``) or timed on this
machine (``--estimate``).

Counted: a training step costs about three forward passes (the backward pass two), so
``6 x MACs per pixel x patch^2 x batch`` floating-point operations. Divided by a GPU's dense
bf16/fp16 tensor peak times :data:`UTILISATION`, that is an estimate for a GPU class nobody here has
measured; the operations of the loss's own networks (CQR's ranker, Dual priors' classifier) and of
making the patches are not in it. Timed: :func:`time_stage` runs a few real steps here.
"""

from __future__ import annotations

import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch

from jarlib import models as model_registry
from jarlib.auxiliary import TRAINERS
from jarlib.checkpoint import CHECKPOINT_FORMAT, save_checkpoint
from jarlib.data import available, load_dataset
from jarlib.models.base import conv_macs
from jarlib.pretrained import build_auxiliary, load_auxiliary
from jarlib.recipes.base import Recipe, Stage
from jarlib.train import train

GPU_CLASSES: dict[str, float] = {
    "T4 (Colab's free GPU)": 65e12,
    "A100": 312e12,
    "H100 SXM": 989e12,
}
"""Dense fp16/bf16 tensor-core peak, FLOP/s, from each GPU's data sheet."""

UTILISATION = 0.3
"""The share of that peak assumed for these convolutional networks under AMP: an assumption,
stated with every estimate. Small batches (DCSC's and Dual priors' 10 patches) run below it."""


def _auxiliary_for(recipe: Recipe, source: str, kind: str) -> torch.nn.Module:
    """The network a ``"@stage"`` reference or zoo name stands for, untrained when it is a stage's
    (only its size matters here)."""
    if source.startswith("@"):
        stage = recipe.stage(source[1:])
        return build_auxiliary(kind, TRAINERS[stage.network][1][stage.preset])
    return load_auxiliary(source, kind)


def step_flops(recipe: Recipe, stage: Stage) -> float:
    """Floating-point operations of one training step of ``stage`` (see the module docstring)."""
    if stage.auxiliary:
        kind, presets, _, _ = TRAINERS[stage.network]
        cfg = presets[stage.preset]
        net = build_auxiliary(kind, cfg)
        p = int(cfg["patch"])
        first = next(m for m in net.modules() if isinstance(m, torch.nn.Conv2d))
        per_patch = conv_macs(net, torch.zeros(1, first.in_channels, p, p))
        pairs = 2 if stage.network == "ranker" else 1      # the ranker scores both patches of a pair
        return 6.0 * per_patch * pairs * int(cfg["batch"])
    cfg = stage.config(init_from=None)
    model = model_registry.build(cfg.model, in_channels=1 if cfg.mode == "gray" else 3, **cfg.model_args)
    for slot, (kind, source) in model.auxiliary_needed().items():
        model.attach_auxiliary(slot, _auxiliary_for(recipe, source, kind))
    return 6.0 * model.macs_per_pixel(size=cfg.patch) * cfg.patch ** 2 * cfg.batch


def gpu_hours(flops: float, gpus: int = 1, peak: float = GPU_CLASSES["A100"]) -> float:
    """Hours for ``flops`` on ``gpus`` GPUs of ``peak`` FLOP/s at :data:`UTILISATION` (ideal scaling)."""
    return flops / (peak * UTILISATION * gpus) / 3600.0


def _flop(x: float) -> str:
    for unit, scale in (("EFLOP", 1e18), ("PFLOP", 1e15), ("TFLOP", 1e12), ("GFLOP", 1e9)):
        if x >= scale:
            return f"{x / scale:,.2f} {unit}"
    return f"{x:,.0f} FLOP"


def counted_lines(recipe: Recipe) -> list[str]:
    """The counted estimate of every stage and of the whole recipe, per GPU class."""
    total = 0.0
    lines = []
    for s in recipe.stages:
        f = step_flops(recipe, s)
        steps = s.train_steps()
        total += f * steps
        lines.append(f"  {s.name}: {_flop(f)} per step x {steps:,} steps = {_flop(f * steps)}")
    lines.append(f"counted: {_flop(total)} in all; at {UTILISATION:.0%} of the tensor peak (an assumption real runs "
                 "often miss; the loss's own networks and the patch making not counted), ideal scaling:")
    for name, peak in GPU_CLASSES.items():
        lines.append(f"  {name}: ~{gpu_hours(total, 1, peak):,.1f} h on one, ~{gpu_hours(total, 8, peak):,.1f} h on eight")
    return lines


def _probe_images(stage: Stage, patch: int, mode: str) -> tuple[Any, str]:
    """A few training images for timing: the first 16 of the stage's set when installed (making
    patches from 16 images costs what it costs from 3,000), else random images, and which."""
    first = stage.train_sets()[0]
    if available(first):
        return load_dataset(first, mode="gray" if mode == "gray" else "rgb", limit=16), f"16 images of {first}"
    rng = np.random.default_rng(0)
    side = max(2 * patch, 256)
    shape = (side, side) if mode == "gray" else (side, side, 3)
    return [rng.integers(0, 256, shape, dtype=np.uint8) for _ in range(4)], f"random images ({first} not installed)"


def time_stage(recipe: Recipe, stage: Stage, steps: int = 20, device: str = "auto",
               batch: Optional[int] = None) -> dict[str, Any]:
    """Seconds per step of ``stage`` measured here: ``steps`` steps after two warm-up steps, at the
    recipe's batch or, when given, at ``batch`` patches and scaled to the recipe's batch (a CPU cannot
    run a paper's batch in reasonable time; compute grows with the batch). Returns the measurement
    and how it was made."""
    if stage.auxiliary:
        _, presets, trainer, _ = TRAINERS[stage.network]
        cfg = presets[stage.preset]
        images, what = _probe_images(stage, int(cfg["patch"]), "gray")
        t0 = time.perf_counter()
        trainer(None, stage.preset, steps, images=[img for _, img in images] if isinstance(images[0], tuple)
                else images, progress=False)
        seconds = (time.perf_counter() - t0) / steps
        return {"stage": stage.name, "seconds_per_step": seconds, "batch": int(cfg["batch"]),
                "timed_batch": int(cfg["batch"]), "device": "cpu", "images": what, "steps": steps}
    full = stage.config(init_from=None)
    b = min(batch or full.batch, full.batch)
    images, what = _probe_images(stage, full.patch, full.mode)
    with tempfile.TemporaryDirectory() as tmp:
        # an earlier stage's network ("@ranker") does not exist yet: an untrained one of its size times the same
        args = {}
        for key, name in stage.auxiliary_stages().items():
            earlier = recipe.stage(name)
            kind, presets, _, _ = TRAINERS[earlier.network]
            config = presets[earlier.preset]
            args[key] = str(Path(tmp) / f"{key}.pt")
            save_checkpoint(args[key], {"format": CHECKPOINT_FORMAT, "kind": kind, "config": config,
                                        "model": build_auxiliary(kind, config).state_dict()})
        cfg = stage.config(init_from=None, batch=b, steps=steps + 2, val_images=0, ckpt_every=0, log_every=1,
                           progress=False, device=device, out=None, model_args=args)
        result = train(cfg, images=images)
    sec = [h["seconds"] for h in result.history["train"]]
    per_step = (sec[-1] - sec[1]) / steps * (full.batch / b)
    dev = str(next(result.model.parameters()).device)
    return {"stage": stage.name, "seconds_per_step": per_step, "batch": full.batch, "timed_batch": b,
            "device": dev, "images": what, "steps": steps}


def timed_lines(recipe: Recipe, steps: int = 20, device: str = "auto") -> Iterator[str]:
    """``--estimate``: every stage timed here (at the full batch on a GPU; at 2 patches, scaled, on
    the CPU), one line each as it is measured, then the recipe's hours on this machine, one process."""
    on_gpu = torch.cuda.is_available() and device != "cpu"
    hours = 0.0
    for s in recipe.stages:
        t = time_stage(recipe, s, steps if on_gpu else min(steps, 3), device, None if on_gpu else 2)
        h = t["seconds_per_step"] * s.train_steps() / 3600
        hours += h
        scaled = f" (timed at {t['timed_batch']} patches, scaled to {t['batch']})" if t["timed_batch"] != t["batch"] else ""
        yield (f"  {s.name}: {t['seconds_per_step']:,.2f} s per step on {t['device']}{scaled}, {t['steps']} steps "
               f"on {t['images']}: ~{h:,.1f} h for {s.train_steps():,} steps")
    yield f"timed here: ~{hours:,.1f} hours for the whole recipe in one process on this machine"


__all__ = ["GPU_CLASSES", "UTILISATION", "counted_lines", "gpu_hours", "step_flops", "time_stage", "timed_lines"]
