"""DCSC: Fu, Zha, Wu, Ding, Paisley, *JPEG Artifacts Reduction via Deep Convolutional Sparse Coding*,
ICCV 2019 — convolutional LISTA unrolled into a network.

The JPEG image J goes through three parallel *linear* dilated 3x3 convolutions (dilations 1, 2, 4,
paper Eq. 1), concatenated into X. Sparse codes come from the convolutional LISTA recursion (Eq. 3)
with ReLU as the shrinkage and one S shared by all R iterations::

    U_0 = ReLU(G * X),   U_r = ReLU(G * X + S * U_{r-1}),  r = 1..R

and the image is rebuilt from the last code with a global residual (Eqs. 5-6):
O = J + W_R * U_R + b. G and S have no bias (their bias would be a learned threshold; the
authors' code has none, and the paper's parameter count, 93,697, only matches without it).
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
import torch.nn.functional as F
from torch import nn

from jarlib.models.base import Restorer


class DCSC(Restorer):
    """Deep convolutional sparse coding (defaults: the paper's model, 3x32 maps, 64 features, R=40).

    Args:
        in_channels: 1 (Y) as in the paper, 3 for RGB.
        filters: maps per dilated convolution (paper 32; the authors' updated model 48).
        features: channels of the codes U (G and S width; paper 64, updated model 128).
        iterations: R, the number of LISTA iterations after U_0 (paper 40).
        dilations: dilation of each parallel branch; ``(1, 1, 1)`` is the undilated ablation (Table 3).
        shared: one S for all iterations (the paper); ``False`` gives each iteration its own S.

    Input/output (B, C, H, W) in [0, 1]; any H, W.
    """

    def __init__(self, in_channels: int = 1, filters: int = 32, features: int = 64,
                 iterations: int = 40, dilations: Sequence[int] = (1, 2, 4), shared: bool = True) -> None:
        super().__init__()
        if iterations < 0:
            raise ValueError(f"iterations must be >= 0, got {iterations}")
        if not dilations or any(int(d) < 1 for d in dilations):
            raise ValueError(f"dilations must be positive integers, got {list(dilations)}")
        self.in_channels = in_channels
        self.iterations = iterations
        self.dilations = tuple(int(d) for d in dilations)
        self.shared = shared
        self.extract = nn.ModuleList(
            nn.Conv2d(in_channels, filters, 3, padding=d, dilation=d) for d in self.dilations)
        self.G = nn.Conv2d(filters * len(self.dilations), features, 3, padding=1, bias=False)
        n_s = 1 if shared else max(iterations, 1)
        self.S = nn.ModuleList(nn.Conv2d(features, features, 3, padding=1, bias=False) for _ in range(n_s))
        self.reconstruct = nn.Conv2d(features, in_channels, 3, padding=1)

    def features_x(self, j: torch.Tensor) -> torch.Tensor:
        """X: the concatenated linear multi-scale features of J (Eq. 1), (B, len(dilations)*filters, H, W)."""
        return torch.cat([conv(j) for conv in self.extract], dim=1)

    def codes(self, j: torch.Tensor) -> list[torch.Tensor]:
        """[U_0, ..., U_R]: the sparse codes of every LISTA iteration (Eq. 3), each (B, features, H, W)."""
        gx = self.G(self.features_x(j))
        u = F.relu(gx)
        out = [u]
        for r in range(self.iterations):
            s = self.S[0 if self.shared else r]
            u = F.relu(gx + s(u))
            out.append(u)
        return out

    def forward(self, j: torch.Tensor) -> torch.Tensor:
        gx = self.G(self.features_x(j))
        u = F.relu(gx)
        for r in range(self.iterations):
            u = F.relu(gx + self.S[0 if self.shared else r](u))
        return j + self.reconstruct(u)


PRESETS = {
    # what this project trains on 2 CPU cores and ships as dcsc_gray (DCSC-small
    # widened a little): one model for QF 10-40 like the authors' updated model
    "cpu": {
        "model_args": {"filters": 16, "features": 32, "iterations": 10},
        "train": {"patch": 64, "batch": 16, "steps": 4000, "lr": 1e-3, "lr_min": 0.0,
                  "schedule": "cosine", "warmup": 100, "loss": "l1", "qf_range": [10, 40],
                  "channels_last": True, "val_every": 1000, "ckpt_every": 250, "val_qfs": [10, 40]},
    },
    # the paper (§2.4): 80x80 patches, batch 10, Adam at a fixed 1e-4, MAE, 1,000,000 patch pairs
    # (100,000 steps of 10), QF 10/20/30 (drawn here from the whole 10-30 range)
    "paper": {
        "model_args": {"filters": 32, "features": 64, "iterations": 40},
        "train": {"patch": 80, "batch": 10, "steps": 100000, "lr": 1e-4, "schedule": "constant",
                  "warmup": 0, "loss": "l1", "qf_range": [10, 30]},
    },
    # the authors' released ("updated", erratum) model: 48 maps, 128 features, QF 10-40
    "updated": {
        "model_args": {"filters": 48, "features": 128, "iterations": 40},
        "train": {"patch": 80, "batch": 10, "steps": 100000, "lr": 1e-4, "schedule": "constant",
                  "warmup": 0, "loss": "l1", "qf_range": [10, 40]},
    },
}
