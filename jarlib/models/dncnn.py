"""DnCNN: Zhang, Zuo, Chen, Meng, Zhang, *Beyond a Gaussian Denoiser: Residual Learning of Deep CNN
for Image Denoising*, IEEE TIP 2017 — the blind JPEG deblocking model DnCNN-3 (§IV-A, §IV-E).

Depth D (paper: 20) of 3x3 convolutions with F channels (paper: 64): Conv+ReLU, then D-2 times
Conv+BN+ReLU, then Conv; the network predicts the residual (the artifacts), output = input −
net(input) (paper Eq. 1-2). ``unshuffle=s`` (s > 1) adds FFDNet's reversible downsampling (Zhang
et al., TIP 2018): the network runs on the s x s pixel-unshuffled image (s² channels per input
channel, 1/s² of the pixels) and shuffles back, so the same depth and width costs s² less and sees
s times farther — how this project makes a DnCNN that trains usefully on two CPU cores.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from jarlib.models.base import Restorer


class DnCNN(Restorer):
    """DnCNN with every size from the constructor (defaults: the paper's DnCNN-3, 20 layers x 64, BN).

    Input/output (B, C, H, W) in [0, 1], C = ``in_channels``; H and W multiples of ``unshuffle``
    (``restore`` pads to 8).
    """

    def __init__(self, in_channels: int = 1, features: int = 64, depth: int = 20,
                 batch_norm: bool = True, unshuffle: int = 1) -> None:
        super().__init__()
        if depth < 2:
            raise ValueError(f"depth must be at least 2, got {depth}")
        if unshuffle < 1 or 8 % unshuffle:
            raise ValueError(f"unshuffle must divide 8 (1, 2, 4 or 8), got {unshuffle}")
        self.in_channels = in_channels
        self.unshuffle = unshuffle
        c = in_channels * unshuffle ** 2
        layers: list[nn.Module] = [nn.Conv2d(c, features, 3, padding=1), nn.ReLU(inplace=True)]
        for _ in range(depth - 2):
            layers.append(nn.Conv2d(features, features, 3, padding=1, bias=not batch_norm))
            if batch_norm:
                layers.append(nn.BatchNorm2d(features))
            layers.append(nn.ReLU(inplace=True))
        layers.append(nn.Conv2d(features, c, 3, padding=1))
        self.body = nn.Sequential(*layers)
        convs = [m for m in self.body if isinstance(m, nn.Conv2d)]
        for conv in convs[:-1]:  # He initialisation for ReLU layers (He et al. 2015, as DnCNN §III-C)
            nn.init.kaiming_normal_(conv.weight, nonlinearity="relu")
            if conv.bias is not None:
                nn.init.zeros_(conv.bias)
        # the last layer keeps PyTorch's default (small, uniform) initialisation: a zero start looks
        # neater (output = input) but Adam turns its tiny gradients into full-size steps of the hidden
        # layers, and a 17-layer net without BN had its last ReLU layer dead after 600 steps

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        s = self.unshuffle
        if s > 1:
            if x.shape[-1] % s or x.shape[-2] % s:
                raise ValueError(f"H and W must be multiples of unshuffle={s}, got {tuple(x.shape[-2:])}")
            return x - F.pixel_shuffle(self.body(F.pixel_unshuffle(x, s)), s)
        return x - self.body(x)


PRESETS = {
    # what this project trains on 2 CPU cores and ships in the zoo (see jarlib/zoo/manifest.json)
    "cpu": {
        # no BN: with batch 16 and a short schedule its running statistics lag the weights, and the
        # eval-mode network falls far below the train-mode one. 12 x 32 at full resolution: a deeper,
        # wider net on the 2x2-unshuffled image (4x cheaper per layer) learned nothing in the same
        # steps (benchmarks/results/preset_history.md; notebook 03 shows why depth without BN is
        # hard: exercise 2)
        "model_args": {"features": 32, "depth": 12, "batch_norm": False, "unshuffle": 1},
        "train": {"patch": 64, "batch": 16, "steps": 5000, "lr": 1e-3, "lr_min": 0.0,
                  "schedule": "cosine", "warmup": 100, "loss": "l1", "qf_range": [10, 60],
                  "channels_last": True, "val_every": 1000, "ckpt_every": 250},
    },
    # the paper (§IV-A, DnCNN-3): 50x50 patches, batch 128, 128 x 8,000 patches per epoch, 50 epochs,
    # Adam lr 1e-3 divided by 10 after 30 epochs, MSE; QF drawn from 5..99
    "paper": {
        "model_args": {"features": 64, "depth": 20, "batch_norm": True, "unshuffle": 1},
        "train": {"patch": 50, "batch": 128, "steps": 400000, "lr": 1e-3, "schedule": "step",
                  "milestones": [240000], "gamma": 0.1, "warmup": 0, "loss": "l2", "qf_range": [5, 99]},
    },
}
