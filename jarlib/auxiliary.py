"""Networks that help a restorer but do not restore: CQR's quality ranker, Dual priors' gradient
classifier. They train before their restorer, on pairs or labels made from clean images, with one
small loop (:func:`train_auxiliary`: Adam, cosine decay, atomic checkpoints, exact resume); this
module also makes their batches, measures them (:data:`MEASURES`, what the zoo records) and loads
them (:func:`load_ranker`, :func:`load_classifier`: a zoo name or a checkpoint). Their
architectures, losses and presets are in :mod:`jarlib.models.cqr` and :mod:`jarlib.models.dual_priors`.

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
import torch.nn.functional as F
from scipy.stats import spearmanr
from torch import nn

from jarlib.block import BLOCK
from jarlib.checkpoint import CHECKPOINT_FORMAT, load_checkpoint, save_checkpoint
from jarlib.data.patches import named_images
from jarlib.data.registry import load_dataset
from jarlib.jpeg import compress
from jarlib.models.cqr import LEVELS, RANKER_PRESETS, Ranker, level_of, margin_ranking_loss
from jarlib.models.dual_priors import CLASSIFIER_PRESETS, GradientClassifier, grad_h, grad_v
from jarlib.pretrained import load_auxiliary
from jarlib.progress import bar as progress_bar
from jarlib.progress import enabled as progress_enabled
from jarlib.train import set_threads

# ------------------------------------------------------------------------------- the loop

def auxiliary_config(presets: dict[str, dict[str, Any]], preset: str, steps: Optional[int], seed: int
                     ) -> dict[str, Any]:
    """The run config: the named preset with ``preset`` and ``seed`` recorded, ``steps`` overridden."""
    if preset not in presets:
        raise ValueError(f"unknown preset {preset!r}; known: {', '.join(presets)}")
    cfg = {**presets[preset], "preset": preset, "seed": seed}
    if steps is not None:
        cfg["steps"] = int(steps)
    return cfg


def clean_training_images(images: Optional[Sequence[np.ndarray]], patch: int,
                          train_set: str = "bsds500_train") -> list[np.ndarray]:
    """The clean gray uint8 images to draw patches from: ``images``, or by default the Y channel of
    ``train_set`` (the preset's: BSDS500 train, or the paper's set); only those at least ``patch``
    pixels on each side."""
    if images is None:
        images = [img for _, img in load_dataset(train_set, mode="gray")]
    kept = [np.asarray(i) for i in images if min(np.asarray(i).shape[:2]) >= patch]
    if not kept:
        raise ValueError(f"no image is at least {patch} pixels on each side")
    return kept


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

    net.train()
    bar = progress_bar(total=steps, initial=step, progress=progress and progress_enabled(), desc=kind, unit="step")
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


# ---------------------------------------------------------------------------- CQR's ranker

def ranker_pairs(images: Sequence[np.ndarray], rng: np.random.Generator, batch: int, patch: int
                 ) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """A batch of pairs: the same ``patch`` x ``patch`` crop (on the 8x8 grid) JPEG-compressed at two
    QFs from two different levels. Returns (x_i, x_j, level_i, level_j)."""
    xi, xj, bi, bj = [], [], [], []
    for _ in range(batch):
        img = images[rng.integers(len(images))]
        top = rng.integers(0, (img.shape[0] - patch) // BLOCK + 1) * BLOCK
        left = rng.integers(0, (img.shape[1] - patch) // BLOCK + 1) * BLOCK
        crop = np.ascontiguousarray(img[top:top + patch, left:left + patch])
        la, lb = rng.choice(3, size=2, replace=False) + 1
        for lev, xs, bs in ((la, xi, bi), (lb, xj, bj)):
            lo, hi = LEVELS[lev - 1]
            xs.append(compress(crop, int(rng.integers(lo, hi + 1))))
            bs.append(lev)
    t = lambda a: torch.from_numpy(np.stack(a).astype(np.float32) / 255.0)[:, None]
    return t(xi), t(xj), torch.tensor(bi), torch.tensor(bj)


def train_ranker(out: Optional[str | Path], preset: str = "cpu", steps: Optional[int] = None,
                 images: Optional[Sequence[np.ndarray]] = None, seed: int = 0, resume: bool = False,
                 ckpt_every: int = 250, progress: bool = True) -> tuple[Ranker, dict[str, Any]]:
    """Train the ranker (gray) with the margin ranking loss on :func:`ranker_pairs`; checkpoints
    to ``out/checkpoint.pt`` and resumes (:func:`jarlib.auxiliary.train_auxiliary`). ``images``: clean
    gray uint8 images (default: Y of BSDS500 train). Returns (ranker in eval mode, history)."""
    cfg = auxiliary_config(RANKER_PRESETS, preset, steps, seed)
    images = clean_training_images(images, cfg["patch"], cfg.get("train_set", "bsds500_train"))
    torch.manual_seed(seed)
    ranker = Ranker(1, cfg["widths"], cfg["hidden"])

    def step_loss(net: nn.Module, rng: np.random.Generator) -> torch.Tensor:
        xi, xj, bi, bj = ranker_pairs(images, rng, cfg["batch"], cfg["patch"])
        s = net(torch.cat([xi, xj]))          # one pass: the Siamese branches share their weights
        return margin_ranking_loss(s[: len(xi)], s[len(xi):], bi, bj, cfg["margin"])

    history = train_auxiliary(ranker, "cqr_ranker", cfg, step_loss, out, resume, ckpt_every, progress)
    return ranker, history


def test_patches(images: Sequence[np.ndarray], patch: int, per_image: int) -> list[np.ndarray]:
    """``per_image`` patches of each image on a regular grid of block-aligned positions (deterministic)."""
    out = []
    for img in images:
        rows = np.linspace(0, (img.shape[0] - patch) // BLOCK, per_image + 2).astype(int)[1:-1] * BLOCK
        cols = np.linspace(0, (img.shape[1] - patch) // BLOCK, per_image + 2).astype(int)[1:-1] * BLOCK
        out += [np.ascontiguousarray(img[r:r + patch, c:c + patch]) for r, c in zip(rows, cols[::-1])]
    return out


@torch.no_grad()
def evaluate_ranker(ranker: Ranker, dataset: Any = "live1_gray", qfs: Sequence[int] = tuple(range(1, 31)),
                    patch: int = 48, per_image: int = 4) -> dict[str, Any]:
    """How well the ranker orders quality on held-out images: ``per_image`` patches of each image
    compressed at every QF in ``qfs``; Spearman's rho between score and QF per patch (averaged,
    ``spearman_per_patch``: the same content, as in training) and over all (patch, QF) pairs
    (``spearman_pooled``: across contents too), the share of level pairs ordered right
    (``pair_accuracy``), and the mean score per QF and of the clean patches (never seen in training)."""
    images = [img for _, img in named_images(dataset, "gray")]
    patches = test_patches([i for i in images if min(i.shape) >= patch], patch, per_image)
    ranker = ranker.eval()
    score = lambda arrs: ranker(torch.from_numpy(np.stack(arrs).astype(np.float32) / 255.0)[:, None]).numpy()
    table = np.stack([score([compress(p, q) for p in patches]) for q in qfs], axis=1)   # (patches, qfs)
    clean = score(patches)
    per_patch = [spearmanr(qfs, row).statistic for row in table]
    levels = np.array([level_of(q) if q <= 30 else 4 for q in qfs])
    right = total = 0
    for row in table:
        for a in range(len(qfs)):
            for b in range(len(qfs)):
                if levels[a] < levels[b]:
                    total += 1
                    right += row[a] < row[b]
    return {"set": dataset if isinstance(dataset, str) else "images", "patches": len(patches), "patch": patch,
            "spearman_per_patch": round(float(np.nanmean(per_patch)), 4),
            "spearman_pooled": round(float(spearmanr(np.tile(qfs, len(patches)), table.ravel()).statistic), 4),
            "pair_accuracy": round(right / max(total, 1), 4),
            "score_by_qf": {str(q): round(float(v), 4) for q, v in zip(qfs, table.mean(axis=0))},
            "score_clean": round(float(clean.mean()), 4)}


def load_ranker(source: str | Path) -> Ranker:
    """A trained ranker from a zoo name (``cqr_ranker``) or a :func:`train_ranker` checkpoint."""
    return load_auxiliary(source, "cqr_ranker")  # type: ignore[return-value]


# ------------------------------------------------------------------ Dual priors' classifier

def classifier_batch(images: Sequence[np.ndarray], rng: np.random.Generator, batch: int, patch: int,
                     qf_range: Sequence[int]) -> tuple[torch.Tensor, torch.Tensor]:
    """Half clean, half JPEG (QF uniform in ``qf_range``) gradient patches, the direction (h or v)
    drawn at random: (B, 1, P, P) gradients and labels (B,), 1 = compressed."""
    xs, labels = [], []
    for n in range(batch):
        img = images[rng.integers(len(images))]
        top = rng.integers(0, (img.shape[0] - patch) // BLOCK + 1) * BLOCK
        left = rng.integers(0, (img.shape[1] - patch) // BLOCK + 1) * BLOCK
        crop = np.ascontiguousarray(img[top:top + patch, left:left + patch])
        compressed = n % 2 == 1
        if compressed:
            crop = compress(crop, int(rng.integers(qf_range[0], qf_range[1] + 1)))
        t = torch.from_numpy(crop.astype(np.float32) / 255.0)[None]
        xs.append(grad_h(t) if rng.integers(2) else grad_v(t))
        labels.append(float(compressed))
    return torch.stack(xs), torch.tensor(labels)


def train_classifier(out: Optional[str | Path], preset: str = "cpu", steps: Optional[int] = None,
                     images: Optional[Sequence[np.ndarray]] = None, seed: int = 0, resume: bool = False,
                     ckpt_every: int = 250, progress: bool = True) -> tuple[GradientClassifier, dict[str, Any]]:
    """Stage 1 (paper Eq. 12): the gradient classifier with BCE on :func:`classifier_batch`;
    checkpoints and resumes like :func:`jarlib.auxiliary.train_auxiliary`. ``images``: clean gray uint8
    images (default: Y of BSDS500 train). Returns (classifier in eval mode, history)."""
    cfg = auxiliary_config(CLASSIFIER_PRESETS, preset, steps, seed)
    images = clean_training_images(images, cfg["patch"], cfg.get("train_set", "bsds500_train"))
    torch.manual_seed(seed)
    net = GradientClassifier(cfg["widths"], hidden=cfg["hidden"])

    def step_loss(model: nn.Module, rng: np.random.Generator) -> torch.Tensor:
        g, labels = classifier_batch(images, rng, cfg["batch"], cfg["patch"], cfg["qf_range"])
        return F.binary_cross_entropy_with_logits(model.logit(g), labels)

    history = train_auxiliary(net, "dualpriors_classifier", cfg, step_loss, out, resume, ckpt_every, progress)
    return net, history


def load_classifier(source: str | Path) -> GradientClassifier:
    """A trained classifier from a zoo name (``dualpriors_classifier``) or a checkpoint of
    :func:`train_classifier`."""
    return load_auxiliary(source, "dualpriors_classifier")  # type: ignore[return-value]


@torch.no_grad()
def evaluate_classifier(net: GradientClassifier, dataset: Any = "live1_gray", qfs: Sequence[int] = (10, 20, 30),
                        patch: int = 48, per_image: int = 4) -> dict[str, Any]:
    """Accuracy of the classifier on held-out images: ``per_image`` patches of each image, clean
    (label 0) and JPEG-compressed at each QF (label 1), both gradient directions; the decision at
    probability 0.5. Returns overall accuracy, accuracy on clean patches and per QF."""
    images = [img for _, img in named_images(dataset, "gray")]
    patches = test_patches([i for i in images if min(i.shape) >= patch], patch, per_image)
    net = net.eval()

    def prob(arrs: Sequence[np.ndarray]) -> np.ndarray:
        t = torch.from_numpy(np.stack(arrs).astype(np.float32) / 255.0)[:, None]
        return torch.cat([net(grad_h(t)), net(grad_v(t))]).numpy()

    clean_ok = float((prob(patches) < 0.5).mean())
    per_qf = {str(q): round(float((prob([compress(p, q) for p in patches]) >= 0.5).mean()), 4) for q in qfs}
    overall = (clean_ok * len(qfs) + sum(per_qf.values())) / (2 * len(qfs))   # clean and compressed weighted equally
    return {"set": dataset if isinstance(dataset, str) else "images", "patches": len(patches), "patch": patch,
            "accuracy": round(overall, 4), "accuracy_clean": round(clean_ok, 4), "accuracy_by_qf": per_qf}


# ------------------------------------------------------------------------ the command line

TRAINERS: dict[str, tuple[str, dict[str, dict[str, Any]], Callable[..., Any], str]] = {
    "ranker": ("cqr_ranker", RANKER_PRESETS, train_ranker, "CQR's compression quality ranker (paper Eq. 2)"),
    "classifier": ("dualpriors_classifier", CLASSIFIER_PRESETS, train_classifier,
                   "Dual priors' gradient classifier (stage 1, paper Eq. 12)"),
}
"""The auxiliary networks :func:`main` trains: (kind, presets, trainer
``train_fn(out, preset, steps, seed=, resume=, progress=)``, what it is)."""

MEASURES: dict[str, Callable[[nn.Module], dict[str, Any]]] = {
    "cqr_ranker": evaluate_ranker, "dualpriors_classifier": evaluate_classifier}
"""What the zoo records of an auxiliary network, by kind."""


def main(argv: Optional[Sequence[str]] = None) -> int:
    """``python -m jarlib.auxiliary {ranker,classifier} --out DIR [--preset] [--steps] [--seed]
    [--resume] [-q]``. Exit code 2 (with the reason) on bad settings or a checkpoint of another run."""
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
    _, presets, trainer, _ = TRAINERS[args.network]
    if args.preset not in presets:
        parser.error(f"unknown preset {args.preset!r} for {args.network}; known: {', '.join(presets)}")
    try:
        _, hist = trainer(args.out, args.preset, args.steps, seed=args.seed,
                                        resume=args.resume, progress=not args.quiet)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    print(f"done: {hist['train'][-1]}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
