"""QGCN: Li, Wang, Xie, Ma, *Learning a Single Model With a Wide Range of Quality Factors for JPEG
Image Artifacts Removal*, IEEE TIP 2020 — a quantization-map input and a global branch.

Two ideas (paper §III):

- **quantization map** (QM, §III-B): the file's 8x8 quantization table(s), tiled over the image
  so that every pixel sees the step sizes of its own block, concatenated with the decoded image
  (gray: 1 + 1 channels; colour: 3 + 2, luma and chroma tables). One model then covers QF 1-60,
  and QFs it never saw, because the table says how strong the quantization was.
- **global branch** (§III-C-2, Table I): the decoded image resized to 112x112, strided
  convolutions and two fully connected layers give a 64-d vector, tiled and concatenated between
  the two residual groups of the restoration branch.

QCN is the same network without the global branch (``global_branch=False``).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jarlib.block import BLOCK
from jarlib.jpeg import quant_table
from jarlib.models.base import DecodedJpeg, Restorer


def quant_map(tables: Sequence[np.ndarray] | np.ndarray, height: int, width: int) -> torch.Tensor:
    """The quantization map: (len(tables), height, width) float32 = table[y % 8, x % 8] / 255.

    ``tables``: 8x8 tables in natural (row-major) order, luma first — one for a gray model, luma
    and chroma for a colour one. The map starts at the image's top-left pixel, which is where the
    JPEG block grid starts.
    """
    planes = []
    for t in (tables if isinstance(tables, (list, tuple)) else [tables]):
        t = np.asarray(t, dtype=np.float32)
        if t.shape != (8, 8):
            raise ValueError(f"quantization tables must be 8x8, got {t.shape}")
        reps = (-(-height // BLOCK), -(-width // BLOCK))
        planes.append(np.tile(t, reps)[:height, :width] / 255.0)
    return torch.from_numpy(np.stack(planes))


def ijg_tables(quality: int, channels: int) -> list[np.ndarray]:
    """The IJG tables of ``quality`` (what Pillow writes): [luma] or [luma, chroma]."""
    return [quant_table(quality)] + ([quant_table(quality, chroma=True)] if channels == 2 else [])


class ScaledResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3, no bias, no BN, residual scaled by ``res_scale`` (EDSR style)."""

    def __init__(self, features: int, res_scale: float = 0.1) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(features, features, 3, padding=1, bias=False), nn.ReLU(inplace=True),
                                  nn.Conv2d(features, features, 3, padding=1, bias=False))
        self.res_scale = res_scale

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.res_scale * self.body(x)


class ResidualGroup(nn.Module):
    """``blocks`` scaled residual blocks with a skip over the group."""

    def __init__(self, features: int, blocks: int, res_scale: float) -> None:
        super().__init__()
        self.body = nn.Sequential(*[ScaledResBlock(features, res_scale) for _ in range(blocks)])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class GlobalBranch(nn.Module):
    """Table I: the image resized to ``size`` x ``size``, four pairs (4x4 stride-2 conv, 3x3 conv),
    each with ReLU, then fc1 - ReLU - fc2: (B, C, H, W) -> (B, out_dim)."""

    def __init__(self, in_channels: int, widths: Sequence[int] = (32, 64, 128, 256), hidden: int = 1024,
                 out_dim: int = 64, size: int = 112) -> None:
        super().__init__()
        if size % 16:
            raise ValueError(f"the global branch's input size must be a multiple of 16, got {size}")
        layers: list[nn.Module] = []
        c = in_channels
        for w in widths:
            layers += [nn.Conv2d(c, w, 4, stride=2, padding=1), nn.ReLU(inplace=True),
                       nn.Conv2d(w, w, 3, padding=1), nn.ReLU(inplace=True)]
            c = w
        self.size = size
        self.convs = nn.Sequential(*layers)
        side = size // 2 ** len(widths)
        self.fc = nn.Sequential(nn.Flatten(), nn.Linear(c * side * side, hidden), nn.ReLU(inplace=True),
                                nn.Linear(hidden, out_dim))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        small = F.interpolate(x, size=(self.size, self.size), mode="bicubic", align_corners=False, antialias=True)
        return self.fc(self.convs(small))


class QGCN(Restorer):
    """Quantization-map guided CNN with a global branch (defaults: the paper's model).

    Args:
        in_channels: 1 (Y; one QM channel) or 3 (RGB; two QM channels, luma and chroma).
        features: width of the restoration branch (paper 64).
        blocks: scaled residual blocks per group, two groups (paper 32 each).
        res_scale: residual scaling (paper 0.1).
        global_branch: ``False`` gives QCN.
        global_widths, global_hidden, global_dim, global_size: the global branch of Table I
            (the official code narrows the last pair to 128: ``(32, 64, 128, 128)``).
        use_qmap: ``False`` feeds a zero map — the same network without the quantization table,
            for the paper's Fig. 6 comparison.
        global_residual: add the input to the output (the paper's QGCN has none; a residual
            makes short CPU trainings converge faster).

    ``forward(x, qmap)``: x (B, C, H, W) in [0, 1] with H, W multiples of 2 (``restore`` pads to 8);
    qmap (B, 1 or 2, H, W) from :func:`quant_map`. Returns the restored (B, C, H, W).
    """

    side_inputs = frozenset({"qf", "tables"})

    def __init__(self, in_channels: int = 1, features: int = 64, blocks: int = 32, res_scale: float = 0.1,
                 global_branch: bool = True, global_widths: Sequence[int] = (32, 64, 128, 256),
                 global_hidden: int = 1024, global_dim: int = 64, global_size: int = 112,
                 use_qmap: bool = True, global_residual: bool = False) -> None:
        super().__init__()
        if in_channels not in (1, 3):
            raise ValueError(f"in_channels must be 1 (gray) or 3 (RGB), got {in_channels}")
        self.in_channels = in_channels
        self.qmap_channels = 1 if in_channels == 1 else 2
        self.use_qmap = use_qmap
        self.global_residual = global_residual
        f = features
        self.head = nn.Conv2d(in_channels + self.qmap_channels, f, 3, padding=1)
        self.down = nn.Sequential(nn.Conv2d(f, f, 4, stride=2, padding=1, bias=False), nn.ReLU(inplace=True))
        self.group1 = ResidualGroup(f, blocks, res_scale)
        self.global_branch = GlobalBranch(in_channels, global_widths, global_hidden, global_dim,
                                          global_size) if global_branch else None
        self.fuse = nn.Sequential(nn.Conv2d(f + (global_dim if global_branch else 0), f, 3, padding=1),
                                  nn.ReLU(inplace=True))
        self.group2 = ResidualGroup(f, blocks, res_scale)
        self.up = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.Conv2d(f, 4 * f, 3, padding=1), nn.PixelShuffle(2))
        self.tail = nn.Conv2d(f, in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor, qmap: torch.Tensor) -> torch.Tensor:
        if qmap.shape[-2:] != x.shape[-2:] or qmap.shape[1] != self.qmap_channels:
            raise ValueError(f"qmap must be (B, {self.qmap_channels}, {x.shape[-2]}, {x.shape[-1]}), "
                             f"got {tuple(qmap.shape)}")
        if x.shape[-2] % 2 or x.shape[-1] % 2:
            raise ValueError(f"height and width must be even, got {tuple(x.shape[-2:])}")
        if not self.use_qmap:
            qmap = torch.zeros_like(qmap)
        first = self.head(torch.cat([x, qmap.to(x.dtype)], dim=1))
        y = self.group1(self.down(first))
        if self.global_branch is not None:
            g = self.global_branch(x)
            y = torch.cat([y, g[:, :, None, None].expand(-1, -1, *y.shape[-2:])], dim=1)
        y = self.up(self.group2(self.fuse(y)))
        if self.global_branch is None:
            y = y + first   # QCN's long skip (official code)
        out = self.tail(y)
        return out + x if self.global_residual else out

    def weights_from(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """:meth:`Restorer.weights_from`, with QGCN's first convolution adapted by hand: a gray
        model's head reads (Y, luma map); the colour head reads (R, G, B, luma map, chroma map).
        R, G, B get a third of the Y weight each, the luma map keeps its weight and the chroma map
        starts at zero, so the colour model starts as the gray one applied to the mean of R, G, B
        (and to the luma table) and training only has to learn colour."""
        head, want = state.get("head.weight"), self.head.weight
        if head is not None and head.shape[1] == 2 and want.shape[1] == 5 and head.shape[0] == want.shape[0]:
            adapted = torch.zeros_like(want.detach())
            adapted[:, :3] = head[:, :1] / 3.0
            adapted[:, 3] = head[:, 1]
            state = {**state, "head.weight": adapted}
        return super().weights_from(state)

    # --------------------------------------------------------------- the common restore interface

    def extra_inputs(self, x: torch.Tensor, jpeg: DecodedJpeg) -> dict[str, Any]:
        """The quantization map: the IJG tables of the QF it is told (``restore(qf=...)``), else the
        tables it is given or the file's own (``restore(tables=...)``, JPEG bytes), else the IJG
        tables of the quality a decoded array came with."""
        if jpeg.qf is not None:
            tables = ijg_tables(int(round(jpeg.qf)), self.qmap_channels)
        elif jpeg.tables is not None:
            tables = list(jpeg.tables[:self.qmap_channels])
            if len(tables) < self.qmap_channels:   # a gray file given to a colour model
                tables.append(tables[0])
        elif jpeg.quality is not None:
            tables = ijg_tables(jpeg.quality, self.qmap_channels)
        else:
            raise ValueError("QGCN needs the quantization tables: give restore() the JPEG file's bytes, "
                             "or the decoded array with qf=QF")
        h, w = x.shape[-2:]
        return {"qmap": quant_map(tables, h, w)[None].expand(x.shape[0], -1, -1, -1).to(x.device)}

    def training_inputs(self, batch: Any) -> dict[str, Any]:
        """The quantization map of each sample's QF (IJG tables, as Pillow writes them); the
        patches start on the block grid (train with ``grid_shift=0`` and no double JPEG)."""
        qf = batch.qf.detach().cpu()
        if torch.isnan(qf).any():
            raise ValueError("QGCN trains on single JPEG with a known QF (double_fraction must be 0)")
        h, w = batch.compressed.shape[-2:]
        maps = [quant_map(ijg_tables(int(round(float(q) * 100)), self.qmap_channels), h, w) for q in qf]
        return {"qmap": torch.stack(maps).to(batch.compressed.device)}


def _small(features: int = 32, blocks: int = 4) -> dict[str, Any]:
    """QGCN-small's constructor arguments at a given width and depth; a new dict
    each call, so no two presets share one."""
    return {"features": features, "blocks": blocks, "global_widths": [8, 16, 32, 32], "global_hidden": 128,
            "global_dim": 32, "global_residual": True}


def _stage(stage: int, steps: int, val_every: int, ckpt_every: int = 250) -> dict[str, Any]:
    """The training settings of the two-stage schedule: stage 1 on 48x48 patches (batch 16, Adam
    5e-4), stage 2 on 128x128 (batch 4, 2e-4); QF 1-60 like the paper, cosine decay to zero."""
    size = {"patch": 48, "batch": 16, "lr": 5e-4, "warmup": 100} if stage == 1 else \
           {"patch": 128, "batch": 4, "lr": 2e-4, "warmup": 0}
    return {**size, "steps": steps, "lr_min": 0.0, "schedule": "cosine", "loss": "l1", "qf_range": [1, 60],
            "grid_shift": 0.0, "channels_last": True, "val_every": val_every, "ckpt_every": ckpt_every,
            "val_qfs": [10, 40]}


PRESETS = {
    # what this project trains on 2 CPU cores (QGCN-small): QF 1-60 like the paper,
    # stage 1 on 48x48 patches; stage 2 (larger patches for the global branch) is `cpu_stage2`.
    # 18,000 steps: three times the first zoo model's 6,000, the better use of the CPU time than
    # width (`cpu_wide`; benchmarks/results/preset_history.md)
    "cpu": {"model_args": _small(), "train": _stage(1, steps=18000, val_every=1000)},
    # stage 2 ("easy-hard transfer"): start it from stage 1 with --set init_from=<stage-1 checkpoint>
    "cpu_stage2": {"model_args": _small(), "train": _stage(2, steps=1500, val_every=500)},
    # a wider and deeper QGCN-small (48 features, 6 blocks per group: 0.93 M parameters, ~2.2x the
    # compute per step of `cpu`), the same two stages with fewer steps; stage 2 is `cpu_wide_stage2`
    # started from stage 1 with --set init_from=<stage-1 checkpoint>: the small model needed length,
    # not width (benchmarks/results/preset_history.md), so this one is not in the zoo
    "cpu_wide": {"model_args": _small(48, 6), "train": _stage(1, steps=3500, val_every=875)},
    "cpu_wide_stage2": {"model_args": _small(48, 6), "train": _stage(2, steps=700, val_every=350, ckpt_every=175)},
    # colour (RGB + luma and chroma maps) started from the zoo's gray model (QGCN.weights_from:
    # it starts as the gray model on the mean of R, G, B) at stage 2's patch size. It starts by
    # correcting luma only; learning the chroma takes the steps, as for FBCNN-C
    # (benchmarks/results/preset_history.md)
    "cpu_color": {
        "model_args": _small(),
        "train": {"mode": "rgb", "patch": 96, "batch": 8, "steps": 16000, "lr": 5e-4, "lr_min": 0.0,
                  "schedule": "cosine", "warmup": 50, "loss": "l1", "qf_range": [1, 60], "grid_shift": 0.0,
                  "channels_last": True, "val_set": "live1_color",
                  "val_every": 2000, "ckpt_every": 250, "val_qfs": [10, 40]},
    },
    # the paper (§III-D): 64x64 patches, batch 256, Adam 1e-4 x0.1 every 20 epochs, QF 1-60;
    # then 256x256 patches, batch 32 (stage 2)
    "paper": {
        "model_args": {},
        "train": {"patch": 64, "batch": 256, "steps": 60000, "lr": 1e-4, "schedule": "step",
                  "milestones": [25000, 50000], "gamma": 0.1, "warmup": 0, "loss": "l1", "qf_range": [1, 60]},
    },
}
