"""ARCNN: Dong, Deng, Loy, Tang, *Compression Artifacts Reduction by a Deep Convolutional Network*, ICCV 2015.

Four convolutions (paper §3.1, Fig. 2): feature extraction 9x9 → 64, feature enhancement 7x7 → 32,
mapping 1x1 → 16, reconstruction 5x5 → 1, with ReLU after the first three. The paper maps the
JPEG directly to the clean image; ``residual=True`` predicts the correction instead (output =
input + net(input)), which is what lets the network train from scratch in CPU minutes (the paper
needed transfer learning from a shallower net to train its deeper variants). Padding keeps the size.
"""

from __future__ import annotations

from collections.abc import Sequence

import torch
from torch import nn

from jarlib.models.base import Restorer


class ARCNN(Restorer):
    """ARCNN with every width and kernel from the constructor (defaults: the paper's 64-32-16, 9-7-1-5).

    Input/output (B, C, H, W) in [0, 1], C = ``in_channels``; any H, W.
    """

    def __init__(self, in_channels: int = 1, features: Sequence[int] = (64, 32, 16),
                 kernels: Sequence[int] = (9, 7, 1, 5), residual: bool = False) -> None:
        super().__init__()
        if len(kernels) != len(features) + 1:
            raise ValueError(f"need one kernel per layer: {len(features) + 1} kernels for "
                             f"{len(features)} hidden widths, got {list(kernels)}")
        if any(k % 2 == 0 for k in kernels):
            raise ValueError(f"kernels must be odd so the padding keeps the size, got {list(kernels)}")
        self.in_channels = in_channels
        self.residual = residual
        widths = [in_channels, *features, in_channels]
        layers: list[nn.Module] = []
        for i, k in enumerate(kernels):
            layers.append(nn.Conv2d(widths[i], widths[i + 1], k, padding=k // 2))
            if i < len(kernels) - 1:
                layers.append(nn.ReLU(inplace=True))
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.body(x)
        return x + y if self.residual else y


PRESETS = {
    # what this project trains on 2 CPU cores and ships in the zoo (see jarlib/zoo/manifest.json)
    "cpu": {
        "model_args": {"features": [64, 32, 16], "kernels": [9, 7, 1, 5], "residual": True},
        "train": {"patch": 64, "batch": 16, "steps": 3000, "lr": 1e-3, "lr_min": 0.0,
                  "schedule": "cosine", "warmup": 100, "loss": "l1", "qf_range": [10, 60],
                  "channels_last": True, "val_every": 500, "ckpt_every": 250},
    },
    # the paper (§4): 32x32 sub-images, batch 128, SGD (lr 5e-4; the paper uses 5e-5 for the last
    # layer), MSE, trained until convergence (one model per QF in the paper; blind QF range here)
    "paper": {
        "model_args": {"features": [64, 32, 16], "kernels": [9, 7, 1, 5], "residual": False},
        "train": {"patch": 32, "batch": 128, "steps": 500000, "lr": 5e-4, "lr_min": 5e-4,
                  "schedule": "constant", "warmup": 0, "optimizer": "sgd", "loss": "l2",
                  "qf_range": [10, 60]},
    },
}
