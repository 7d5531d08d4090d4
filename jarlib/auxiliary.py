"""Networks that help a restorer but do not restore: CQR's quality ranker, Dual priors' gradient
classifier. They train before their restorer, on pairs or labels made from clean images, with one
small loop (:func:`train_auxiliary`: Adam, cosine decay, atomic checkpoints, exact resume), and
load from a zoo name or a checkpoint (:func:`load_auxiliary`). :func:`main` trains either:
``python -m jarlib.auxiliary ranker --out runs/cqr_ranker`` or ``... classifier --out runs/dp_classifier``.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Optional

import numpy as np
import torch
from torch import nn

from jarlib.train import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint, set_threads


def auxiliary_config(presets: dict[str, dict[str, Any]], preset: str, steps: Optional[int], seed: int
                     ) -> dict[str, Any]:
    """The run config: the named preset with ``preset`` and ``seed`` recorded, ``steps`` overridden."""
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(presets)}")
    cfg = {**presets[preset], "preset": preset, "seed": seed}
    if steps is not None:
        cfg["steps"] = int(steps)
    return cfg


def clean_training_images(images: Optional[Sequence[np.ndarray]], patch: int) -> list[np.ndarray]:
    """The clean gray uint8 images to draw patches from: ``images``, or by default the Y channel of
    BSDS500 train; only those at least ``patch`` pixels on each side."""
    if images is None:
        from jarlib.data import load_dataset
        images = [img for _, img in load_dataset("bsds500_train", mode="gray")]
    kept = [np.asarray(i) for i in images if min(np.asarray(i).shape[:2]) >= patch]
    if not kept:
        raise ValueError(f"no image is at least {patch} pixels on each side")
    return kept


def load_auxiliary(source: str | os.PathLike, build: Callable[[dict[str, Any]], nn.Module]) -> nn.Module:
    """A trained auxiliary network in eval mode, from a checkpoint of :func:`train_auxiliary` (the
    network made by ``build(config)`` then loaded) or, when no such file exists, a zoo name."""
    path = Path(source)
    if not path.exists():
        from jarlib import zoo
        return zoo.load(str(source), "cpu")
    ck = load_checkpoint(path)
    net = build(ck["config"])
    net.load_state_dict(ck["model"])
    return net.eval()


def train_auxiliary(net: nn.Module, kind: str, config: dict[str, Any],
                    step_loss: Callable[[nn.Module, np.random.Generator], torch.Tensor],
                    out: Optional[str | os.PathLike], resume: bool = False, ckpt_every: int = 250,
                    progress: bool = True) -> dict[str, Any]:
    """Train a network that is not a restorer (CQR's ranker, Dual priors' classifier): Adam at
    ``config["lr"]`` with a cosine decay to 0 over ``config["steps"]``; each step's loss is
    ``step_loss(net, rng)`` with a generator seeded by ``(config["seed"], step)``, so a resumed run
    draws the same batches. Checkpoints (the same atomic format as :func:`train`, with ``kind``)
    go to ``out/checkpoint.pt`` every ``ckpt_every`` steps and at the end; ``resume`` continues from
    it when it exists (the config must match), as ``jarlib.train --resume`` does. Returns the history ``{"train": [{"step", "loss", "seconds"}]}``."""
    for key in ("steps", "lr", "seed"):
        if key not in config:
            raise ValueError(f"config needs {key!r}")
    steps = int(config["steps"])
    set_threads()
    opt = torch.optim.Adam([p for p in net.parameters() if p.requires_grad], lr=config["lr"])
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda s: 0.5 * (1 + math.cos(math.pi * min(s, steps) / steps)))
    history: dict[str, Any] = {"train": []}
    step, seconds = 0, 0.0
    ckpt = Path(out) / "checkpoint.pt" if out is not None else None
    if resume and ckpt is None:
        raise ValueError("resume needs an output folder")
    if resume and ckpt.exists():
        state = load_checkpoint(ckpt)
        if state.get("kind") != kind or state["config"] != config:
            raise ValueError(f"{ckpt} was written by another run ({state.get('kind')}, {state['config']}); "
                             f"this one is {kind}, {config}")
        net.load_state_dict(state["model"])
        opt.load_state_dict(state["optimizer"])
        sched.load_state_dict(state["scheduler"])
        step, seconds, history = state["step"], state["seconds"], state["history"]

    def snapshot() -> None:
        if ckpt is not None:
            save_checkpoint(ckpt, {"format": CHECKPOINT_FORMAT, "kind": kind, "config": config, "step": step,
                                   "seconds": seconds, "model": net.state_dict(), "optimizer": opt.state_dict(),
                                   "scheduler": sched.state_dict(), "history": history})

    from tqdm.auto import tqdm

    net.train()
    bar = tqdm(total=steps, initial=step, disable=not progress, desc=kind, unit="step", file=sys.stdout)
    while step < steps:
        t0 = time.perf_counter()
        loss = step_loss(net, np.random.default_rng([int(config["seed"]), step]))
        if not torch.isfinite(loss):
            raise FloatingPointError(f"{kind}: loss became {float(loss)} at step {step}; lower lr ({config['lr']})")
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
        sched.step()
        step += 1
        seconds += time.perf_counter() - t0
        if step % 20 == 0 or step == steps:
            history["train"].append({"step": step, "loss": float(loss.detach()), "seconds": seconds})
        if ckpt_every and step % ckpt_every == 0 and step != steps:
            snapshot()
        bar.update(1)
    bar.close()
    snapshot()
    net.eval()
    return history


TRAINERS = {
    "ranker": ("jarlib.models.cqr", "RANKER_PRESETS", "train_ranker",
               "CQR's compression quality ranker (paper Eq. 2)"),
    "classifier": ("jarlib.models.dual_priors", "CLASSIFIER_PRESETS", "train_classifier",
                   "Dual priors' gradient classifier (stage 1, paper Eq. 12)"),
}
"""The auxiliary networks :func:`main` trains: (module, its presets, its trainer
``train_fn(out, preset, steps, seed=, resume=, progress=)``, what it is)."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m jarlib.auxiliary {ranker,classifier} --out DIR [--preset] [--steps] [--seed]
    [--resume] [-q]``. Exit code 2 (with the reason) on bad settings or a checkpoint of another run."""
    import importlib

    parser = argparse.ArgumentParser(
        prog="python -m jarlib.auxiliary",
        description="Train an auxiliary network: " + "; ".join(f"{k}: {v[3]}" for k, v in TRAINERS.items()))
    parser.add_argument("network", choices=sorted(TRAINERS))
    parser.add_argument("--out", required=True, help="run folder (checkpoint.pt)")
    parser.add_argument("--preset", default="cpu", help="a preset of the network's module (default cpu)")
    parser.add_argument("--steps", type=int)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--resume", action="store_true", help="continue from OUT/checkpoint.pt if it exists")
    parser.add_argument("-q", "--quiet", action="store_true")
    args = parser.parse_args(argv)
    module, presets, trainer, _ = TRAINERS[args.network]
    mod = importlib.import_module(module)
    if args.preset not in getattr(mod, presets):
        parser.error(f"unknown preset {args.preset!r} for {args.network}; known: {', '.join(getattr(mod, presets))}")
    try:
        _, hist = getattr(mod, trainer)(args.out, args.preset, args.steps, seed=args.seed,
                                        resume=args.resume, progress=not args.quiet)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"done: {hist['train'][-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
