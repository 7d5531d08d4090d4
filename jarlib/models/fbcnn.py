"""FBCNN: Jiang, Zhang, Timofte, *Towards Flexible Blind JPEG Artifacts Removal*, ICCV 2021.

Four parts (paper §3.1, Fig. 1):

- **decoupler**: a multi-scale encoder (residual blocks, 2x2 stride-2 convolutions down) whose
  bottleneck features feed both the image path and the QF branch;
- **QF predictor**: residual blocks, global average pooling and an MLP with a sigmoid, giving the
  estimated quality as QF/100;
- **flexible controller**: an MLP turning a quality value (predicted, or set by the user) into one
  (gamma, beta) pair per decoder scale;
- **reconstructor**: transposed convolutions up, QF-attention blocks ``x + gamma * res(x) + beta``
  (Eq. 2 in the form of the authors' code), additive skips from the encoder.

Trained with ``L1(image) + lambda * L1(QF)`` (Eqs. 1, 3, 4); the QF term is the loss
``"qf_l1"`` registered in :data:`LOSSES`. Label convention here: QF/100 (the official code uses
1 - QF/100; only the sign of the controller's input differs). The zoo's ``fbcnn_gray`` ends with
three cosine cycles of ``"l2 + 0.1*qf_l1"`` (PSNR is a squared error), then a fourth with every
patch on the JPEG block grid (``grid_shift=0``: a JPEG file's grid starts at its corner); its recipe
is ``jarlib/recipes/fbcnn.py``, what each stage bought ``benchmarks/results/fbcnn_stage2_probes.csv``
and what the aligned grid costs on shifted crops ``benchmarks/results/fbcnn_grid_shift.csv``.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import replace
from typing import Any, Optional

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jarlib.block import BLOCK
from jarlib.color import to_gray_y
from jarlib.jpeg import compress, decode_bytes
from jarlib.models.base import DecodedJpeg, JpegInput, Restorer, block_count, decode_input, deepened_state


def high_pass(x: torch.Tensor, gain: float = 20.0) -> torch.Tensor:
    """``gain`` x (x minus its 3x3 mean, edges replicated): the few grey levels of high frequency
    where the quantization shows, at a scale a network learns from."""
    return gain * (x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1))


class ResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3 with an identity skip (no BN, as in the released weights)."""

    def __init__(self, channels: int) -> None:
        super().__init__()
        self.conv1 = nn.Conv2d(channels, channels, 3, padding=1)
        self.conv2 = nn.Conv2d(channels, channels, 3, padding=1)

    def residual(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv2(F.relu(self.conv1(x)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.residual(x)


class QFAttention(ResBlock):
    """QF-attention block (paper Eq. 2, official-code form): ``x + gamma * res(x) + beta``;
    gamma, beta (B, C) from the controller, broadcast over space."""

    def forward(self, x: torch.Tensor, gamma: torch.Tensor, beta: torch.Tensor) -> torch.Tensor:  # type: ignore[override]
        return x + gamma[:, :, None, None] * self.residual(x) + beta[:, :, None, None]


def _mlp(sizes: Sequence[int]) -> nn.Sequential:
    """Linear layers of ``sizes`` with a ReLU after each (also the last)."""
    layers: list[nn.Module] = []
    for a, b in zip(sizes[:-1], sizes[1:]):
        layers += [nn.Linear(a, b), nn.ReLU(inplace=True)]
    return nn.Sequential(*layers)


class FBCNN(Restorer):
    """Flexible blind CNN (defaults: the paper's model, 64/128/256/512 channels, 4 blocks, 512-wide MLPs).

    Args:
        in_channels: 1 (Y) or 3 (RGB; FBCNN-C).
        channels: widths of the four scales (full, 1/2, 1/4, 1/8 resolution).
        blocks: residual blocks per encoder scale and QF-attention blocks per decoder scale.
        bottleneck_blocks: residual blocks of the body encoder and of the body decoder (1/8 scale).
        qf_blocks: residual blocks of the QF branch before pooling.
        qf_hidden: width of the QF predictor's MLP (bottleneck -> hidden -> hidden -> 1).
        controller_hidden: width of the controller's three shared layers (1 -> h -> h -> h).
        global_residual: add the input to the output. The paper's network outputs the image
            directly; a residual makes short CPU trainings converge faster (used by the ``cpu`` preset).
        qf_input: what the QF predictor reads. ``"features"`` (the paper): the decoupler's
            bottleneck features through ``qf_blocks`` residual blocks. ``"highpass"`` (ours): the
            input's high-pass (minus its 3x3 mean, x20) through an 8x8 stride-8 convolution on the
            block grid and a 1x1 convolution, ``qf_stem`` maps each. The QF evidence is a few grey
            levels of high frequency; from raw intensities through a deep encoder the predictor
            stays at the median for thousands of steps (``benchmarks/qf_predictor_probe.py``).
        qf_stem: width of the ``"highpass"`` stem.
        teacher_forcing: probability, per training sample, of giving the controller the *true*
            QF instead of the predicted one (the prediction is still trained by the QF loss;
            double-JPEG samples, whose QF is unknown, always use it). The paper feeds the
            prediction (0); early in a short CPU run the predictor is still near-constant, and a
            decoder trained only on a constant would learn to ignore the controller. The ``cpu``
            preset uses 0.5: half the samples teach the controller, the other half still make the
            encoder infer the artifact strength, which is what the predictor learns from.

    ``forward(x, qf=None)``: x (B, C, H, W) in [0, 1], any H, W (replicate-padded to a multiple of
    8 inside and cropped back); ``qf`` (B,) or (B, 1) as QF/100 overrides the prediction (NaN
    entries keep it for that sample).
    Returns ``(image (B, C, H, W), predicted QF/100 (B, 1))``.
    """

    pad_multiple = 8

    side_inputs = frozenset({"qf"})

    def __init__(self, in_channels: int = 1, channels: Sequence[int] = (64, 128, 256, 512), blocks: int = 4,
                 bottleneck_blocks: int = 4, qf_blocks: int = 4, qf_hidden: int = 512,
                 controller_hidden: int = 512, global_residual: bool = False, teacher_forcing: float = 0.0,
                 qf_input: str = "features", qf_stem: int = 64) -> None:
        super().__init__()
        channels = tuple(int(c) for c in channels)
        if len(channels) != 4 or min(channels) < 1:
            raise ValueError(f"channels must be four positive widths (one per scale), got {list(channels)}")
        for name, v in (("blocks", blocks), ("bottleneck_blocks", bottleneck_blocks), ("qf_blocks", qf_blocks)):
            if v < 0:
                raise ValueError(f"{name} must be >= 0, got {v}")
        self.in_channels = in_channels
        self.channels = channels
        self.global_residual = global_residual
        if not 0.0 <= float(teacher_forcing) <= 1.0:
            raise ValueError(f"teacher_forcing must be a probability in [0, 1], got {teacher_forcing}")
        self.teacher_forcing = float(teacher_forcing)
        c = channels
        self.head = nn.Conv2d(in_channels, c[0], 3, padding=1)
        self.down = nn.ModuleList(
            nn.Sequential(*[ResBlock(c[i]) for _ in range(blocks)],
                          nn.Conv2d(c[i], c[i + 1], 2, stride=2))
            for i in range(3))
        self.body_encoder = nn.Sequential(*[ResBlock(c[3]) for _ in range(bottleneck_blocks)])
        if qf_input not in ("features", "highpass"):
            raise ValueError(f"qf_input must be 'features' or 'highpass', got {qf_input!r}")
        self.qf_input = qf_input
        if qf_input == "highpass":
            self.qf_stem = nn.Sequential(nn.Conv2d(in_channels, qf_stem, 8, stride=8), nn.ReLU(inplace=True),
                                         nn.Conv2d(qf_stem, qf_stem, 1), nn.ReLU(inplace=True))
            pooled, rbs = qf_stem, []
        else:
            self.qf_stem = None
            pooled, rbs = c[3], [ResBlock(c[3]) for _ in range(qf_blocks)]
        self.qf_predictor = nn.Sequential(
            *rbs, nn.AdaptiveAvgPool2d(1), nn.Flatten(),
            *_mlp([pooled, qf_hidden, qf_hidden]), nn.Linear(qf_hidden, 1), nn.Sigmoid())
        self.body_decoder = nn.Sequential(*[ResBlock(c[3]) for _ in range(bottleneck_blocks)])
        self.controller = _mlp([1, controller_hidden, controller_hidden, controller_hidden])
        # decoder scales from coarse to fine: 1/4, 1/2, full resolution
        self.to_gamma = nn.ModuleList(nn.Linear(controller_hidden, c[i]) for i in (2, 1, 0))
        self.to_beta = nn.ModuleList(nn.Linear(controller_hidden, c[i]) for i in (2, 1, 0))
        self.up = nn.ModuleList(nn.ConvTranspose2d(c[i + 1], c[i], 2, stride=2) for i in (2, 1, 0))
        self.attention = nn.ModuleList(
            nn.ModuleList(QFAttention(c[i]) for _ in range(blocks)) for i in (2, 1, 0))
        self.tail = nn.Conv2d(c[0], in_channels, 3, padding=1)

    def modulation(self, qf: torch.Tensor) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """The controller: QF/100 (B, 1) -> [(gamma, beta)] for the 1/4, 1/2 and full scale, each
        (B, C_s); gamma in (0, 1) by a sigmoid, beta in (-1, 1) by a tanh."""
        e = self.controller(qf)
        return [(torch.sigmoid(g(e)), torch.tanh(b(e))) for g, b in zip(self.to_gamma, self.to_beta)]

    def predict(self, x: torch.Tensor, z: Optional[torch.Tensor] = None) -> torch.Tensor:
        """The QF predictor: padded input (and its bottleneck features ``z``, computed when
        needed) -> QF/100, (B, 1)."""
        if self.qf_stem is not None:
            return self.qf_predictor(self.qf_stem(high_pass(x)))
        if z is None:
            z = self.encode(x)[1]
        return self.qf_predictor(z)

    def encode(self, x: torch.Tensor) -> tuple[list[torch.Tensor], torch.Tensor]:
        """Decoupler: padded input -> ([skip at full, 1/2, 1/4, 1/8 scale], body-encoder features)."""
        skips = [self.head(x)]
        for down in self.down:
            skips.append(down(skips[-1]))
        return skips, self.body_encoder(skips[-1])

    def forward(self, x: torch.Tensor, qf: Optional[torch.Tensor] = None) -> tuple[torch.Tensor, torch.Tensor]:
        h, w = x.shape[-2:]
        ph, pw = (-h) % 8, (-w) % 8
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        skips, z = self.encode(xp)
        qf_pred = self.predict(xp, z)
        if qf is None:
            control = qf_pred
        else:
            qf = qf.reshape(-1, 1).to(qf_pred.dtype).expand_as(qf_pred)
            control = torch.where(torch.isnan(qf), qf_pred, qf)
        y = self.body_decoder(z) + skips[3]
        for s, (gamma, beta) in enumerate(self.modulation(control)):
            y = self.up[s](y)
            for block in self.attention[s]:
                y = block(y, gamma, beta)
            y = y + skips[2 - s]
        out = self.tail(y)
        if self.global_residual:
            out = out + xp
        return out[..., :h, :w], qf_pred

    def training_inputs(self, batch: Any) -> dict[str, Any]:
        """Teacher forcing: the true QF/100 for a ``teacher_forcing`` share of the samples, NaN
        (= use the prediction) for the rest and for double JPEG."""
        if not self.teacher_forcing:
            return {}
        qf = batch.qf
        if self.teacher_forcing < 1.0:
            keep = torch.rand(qf.shape, device=qf.device) < self.teacher_forcing
            qf = torch.where(keep, qf, torch.full_like(qf, float("nan")))
        return {"qf": qf}

    def weights_from(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """:meth:`Restorer.weights_from`, and a narrower FBCNN's weights widened to this one's
        ``channels`` by :func:`widen_weights`, a shallower bottleneck's deepened to this one's
        ``bottleneck_blocks`` by :func:`deepen_bottleneck` (each: the same function, more to train)."""
        widths = state_widths(state, self)
        if widths is not None and widths != list(self.channels):
            state = widen_weights(state, self)
        if any(block_count(state, part) < len(getattr(self, part)) for part in BOTTLENECK):
            state = deepen_bottleneck(state, self)
        return super().weights_from(state)

    # --------------------------------------------------------------- the common restore interface

    def output_image(self, out: Any) -> torch.Tensor:
        return out[0]

    def extra_inputs(self, x: torch.Tensor, jpeg: DecodedJpeg) -> dict[str, Any]:
        """The QF the decoder is told (``restore(qf=...)``: lower removes more artifacts and more
        detail, paper Fig. 4); none when restoring blind (the predicted QF steers it)."""
        if jpeg.qf is None:
            return {}
        return {"qf": torch.full((x.shape[0],), jpeg.qf / 100.0, device=x.device)}

    def ready_to_restore(self, src: DecodedJpeg, tile: int) -> DecodedJpeg:
        """Blind and tiled: one QF predicted for the whole image, so that all tiles agree."""
        if src.qf is None and tile:
            return replace(src, qf=self.predict_qf(src))
        return src

    @torch.no_grad()
    def predict_qf(self, jpeg: JpegInput, quality: Optional[int] = None, max_side: int = 1024) -> float:
        """The QF predictor's estimate (0..100) for a decoded JPEG or JPEG bytes. Images larger
        than ``max_side`` are scored on their central crop (the pooled features are an average)."""
        src = decode_input(jpeg, quality)
        x = self.prepare(src)
        h, w = x.shape[-2:]
        if max_side % BLOCK:
            raise ValueError(f"max_side must be a multiple of 8, got {max_side}")
        if h > max_side:   # central crop starting on the 8x8 grid
            top = (h - max_side) // 2 // BLOCK * BLOCK
            x = x[..., top:top + max_side, :]
        if w > max_side:
            left = (w - max_side) // 2 // BLOCK * BLOCK
            x = x[..., left:left + max_side]
        ch, cw = x.shape[-2:]
        was_training = self.training
        self.eval()
        try:
            return float(self.predict(F.pad(x, (0, (-cw) % 8, 0, (-ch) % 8), mode="replicate"))[0, 0]) * 100.0
        finally:
            self.train(was_training)


# ------------------------------------------------------------------ growing a trained model wider

def _channel_roles(key: str, blocks: int) -> dict[int, tuple[int, str]]:
    """Which scale's channels each dimension of FBCNN parameter ``key`` runs over: ``{dim: (scale,
    role)}``, role ``"out"`` (channels a layer writes) or ``"in"`` (channels it reads); scales 0-3
    are full, 1/2, 1/4 and 1/8 resolution. Dimensions not listed (the QF branch, the controller's
    input, the image channels) keep their size."""
    parts = key.split(".")
    weight = parts[-1] == "weight"
    if parts[0] == "head":
        return {0: (0, "out")}
    if parts[0] == "tail":
        return {1: (0, "in")} if weight else {}
    if parts[0] == "down":
        i = int(parts[1])
        if int(parts[2]) == blocks:   # the stride-2 convolution to the next scale
            return {0: (i + 1, "out"), 1: (i, "in")} if weight else {0: (i + 1, "out")}
        return {0: (i, "out"), 1: (i, "in")} if weight else {0: (i, "out")}
    if parts[0] in ("body_encoder", "body_decoder"):
        return {0: (3, "out"), 1: (3, "in")} if weight else {0: (3, "out")}
    decoder_scale = {0: 2, 1: 1, 2: 0}
    if parts[0] in ("to_gamma", "to_beta"):
        return {0: (decoder_scale[int(parts[1])], "out")}
    if parts[0] == "up":   # ConvTranspose2d weight: (in, out, kh, kw)
        s = decoder_scale[int(parts[1])]
        return {0: (s + 1, "in"), 1: (s, "out")} if weight else {0: (s, "out")}
    if parts[0] == "attention":
        s = decoder_scale[int(parts[1])]
        return {0: (s, "out"), 1: (s, "in")} if weight else {0: (s, "out")}
    return {}


def state_widths(state: dict[str, torch.Tensor], model: "FBCNN") -> Optional[list[int]]:
    """The four scale widths of the FBCNN weights ``state`` (laid out like ``model``: same number of
    blocks per scale), or None when it lacks the tensors that tell."""
    keys = ["head.weight"] + [f"down.{i}.{len(model.down[i]) - 1}.weight" for i in range(3)]
    if not all(k in state for k in keys):
        return None
    return [int(state[k].shape[0]) for k in keys]


def widen_weights(state: dict[str, torch.Tensor], model: "FBCNN", noise: float = 1e-3,
                  seed: int = 0) -> dict[str, torch.Tensor]:
    """A narrower FBCNN's weights made to fit ``model`` (same layout, ``channels`` at least as wide
    at every scale) so that it computes the same function: Net2WiderNet (Chen, Goodfellow, Shlens,
    ICLR 2016). Each new channel copies a random old one of its scale; a layer reading a copied
    channel divides the weights of every copy by their count, so each sum is unchanged. ``noise``
    (relative to each tensor's spread) is added to what the copies write, so that copies drift
    apart in training instead of receiving identical gradients forever; 0 keeps the function exact.
    Why: a trained model is grown instead of training the wider one from scratch (CPU-hours)."""
    old = state_widths(state, model)
    if old is None:
        raise ValueError("these weights are not an FBCNN's with this model's layout (head / down convolutions missing)")
    new = list(model.channels)
    if any(o > n for o, n in zip(old, new)):
        raise ValueError(f"cannot widen channels {old} to the narrower {new}")
    if model.qf_stem is None and old[3] != new[3]:
        raise ValueError("widening the bottleneck needs qf_input='highpass' (the QF predictor reads it otherwise)")
    gen = torch.Generator().manual_seed(seed)
    pick = [torch.cat([torch.arange(o), torch.randint(0, o, (n - o,), generator=gen)]) for o, n in zip(old, new)]
    copies = [torch.bincount(p, minlength=o).to(torch.float32) for p, o in zip(pick, old)]
    blocks = len(model.down[0]) - 1
    out = {}
    for key, v in state.items():
        v = v.float()
        roles = _channel_roles(key, blocks)
        fresh = torch.zeros(v.shape, dtype=torch.bool)
        for dim, (scale, role) in sorted(roles.items()):
            if old[scale] == new[scale]:
                continue
            v = v.index_select(dim, pick[scale])
            fresh = fresh.index_select(dim, pick[scale])
            if role == "in":
                shape = [1] * v.dim()
                shape[dim] = -1
                v = v / copies[scale][pick[scale]].reshape(shape)
            else:
                index = [slice(None)] * v.dim()
                index[dim] = slice(old[scale], None)
                fresh[tuple(index)] = True
        if noise and fresh.any():
            spread = float(v.std()) if v.numel() > 1 else 0.0
            v = v + fresh * torch.randn(v.shape, generator=gen) * noise * spread
        out[key] = v
    return out


BOTTLENECK = ("body_encoder", "body_decoder")
"""The two stacks of residual blocks at 1/8 scale (the paper's bottleneck: 4 blocks each)."""


def deepen_bottleneck(state: dict[str, torch.Tensor], model: "FBCNN") -> dict[str, torch.Tensor]:
    """An FBCNN's weights with fewer bottleneck blocks (:data:`BOTTLENECK`) made to fit ``model``
    (same widths, more blocks) so that it computes the same function: the trained blocks come
    first, each new one after them with its last convolution zeroed, so that it adds nothing
    (``x + 0``); its first convolution keeps ``model``'s random initialisation, so the zeroed one
    gets a gradient at the first step (:func:`~jarlib.models.base.deepened_state`). Only the
    bottleneck: a new QF-attention block would add the controller's beta, which its scale's other
    blocks share, so it cannot start as the identity."""
    depth = {part: (block_count(state, part), len(getattr(model, part))) for part in BOTTLENECK}
    for part, (old, new) in depth.items():
        if old > new:
            raise ValueError(f"cannot deepen {part} from {old} blocks to the shallower {new}")
    return deepened_state(state, model, {f"{part}.{{i}}.conv2": range(old, new) for part, (old, new) in depth.items()},
                          hint="deepening keeps the widths: widen first")


# ------------------------------------------------------------------------------ the QF loss term

def qf_l1(out: Any, batch: Any) -> torch.Tensor:
    """L1 between the predicted and the true QF/100 (paper Eq. 3), over the samples whose QF is
    known: double-JPEG samples carry NaN and are left out (FBCNN-A, §3.3)."""
    pred = out[1].float().reshape(-1)
    target = batch.qf.to(pred.device).float().reshape(-1)
    known = ~torch.isnan(target)
    if not bool(known.any()):
        return pred.sum() * 0.0
    return F.l1_loss(pred[known], target[known])


LOSSES = {"qf_l1": qf_l1}
"""Loss terms this model adds to :data:`jarlib.train.LOSSES` (use e.g. ``"l1 + 0.1*qf_l1"``)."""


# ---------------------------------------------------------------------- FBCNN-D (paper §3.3)

def mse_curves(image: np.ndarray, qualities: Sequence[int], shifts: int = 8) -> np.ndarray:
    """MSE between the image and its recompression at each quality, for each grid shift:
    (shifts, shifts, len(qualities)); entry [i, j] drops the first i rows and j columns first."""
    curves = np.empty((shifts, shifts, len(qualities)))
    for i in range(shifts):
        for j in range(shifts):
            part = np.ascontiguousarray(image[i:, j:])
            ref = part.astype(np.float64)
            curves[i, j] = [np.mean((compress(part, q).astype(np.float64) - ref) ** 2) for q in qualities]
    return curves


def first_minimum(curve: Sequence[float]) -> Optional[int]:
    """Index of the first interior local minimum of ``curve`` (None for a monotone curve)."""
    for k in range(1, len(curve) - 1):
        if curve[k] <= curve[k - 1] and curve[k] < curve[k + 1]:
            return k
    return None


DOMINANT_QF_GRID = tuple(range(5, 100, 5))
"""The qualities FBCNN-D recompresses at by default (:func:`dominant_qf`): 5, 10, ..., 95."""


def dominant_qf(image: np.ndarray, qualities: Sequence[int] = DOMINANT_QF_GRID, shifts: int = 8,
                method: str = "relative", threshold: Optional[float] = None, max_side: int = 256) -> Optional[int]:
    """FBCNN-D (paper §3.3): training-free estimate of the *dominant* (lowest) QF of a single or
    double-compressed image, for correcting FBCNN's predicted QF without retraining.

    Recompress at every quality after every grid shift (i, j) in 0..shifts-1 (:func:`mse_curves`).
    The unshifted curve's first minimum is the *last* compression's QF (its grid is the image's
    own, and recompressing at its QF changes almost nothing). An *earlier* compression on another
    grid shows on the curve of that shift, at its QF; two ways to find it:

    - ``"paper"``: the paper's rule, the smallest first minimum (:func:`first_minimum`) of the
      shifted curves, if its MSE is below ``threshold`` (T = 30). Read literally over all shifts it
      would find the last compression at shift (0, 0), so (our reading) that curve is left out.
      Measured on LIVE1 with Pillow, the earlier compression's minimum has an MSE of 50-80 after a
      second JPEG at QF 30-50, above T, so this rule mostly returns the last QF.
    - ``"relative"`` (default, ours): for each QF below the last one, divide every shifted curve
      by the median over all shifted curves; the earlier grid shows as a dip there (ratio 0.1-0.5
      on LIVE1 for QF_1 < QF_2, against 0.7-0.95 for grids partially aligned with the last one).
      The deepest dip below ``threshold`` (default 0.6) gives the earlier QF.

    Returns the lowest QF found, ``None`` when there is no JPEG trace (no minimum on the unshifted
    curve). image: uint8 gray (H, W), or RGB (its MATLAB Y is used); its central ``max_side``
    square (starting on the 8x8 grid) is analysed. The QF is resolved to the ``qualities`` grid.
    Cost: ``shifts**2 * len(qualities)`` Pillow encodes (about 1 s at the defaults).
    """
    if method not in ("relative", "paper"):
        raise ValueError(f"method must be 'relative' or 'paper', got {method!r}")
    img = to_gray_y(image)
    if min(img.shape) < 8 + shifts:
        raise ValueError(f"image too small for dominant_qf: {img.shape}")
    h, w = img.shape
    top, left = max(0, (h - max_side) // 2 // BLOCK * BLOCK), max(0, (w - max_side) // 2 // BLOCK * BLOCK)
    img = img[top:top + max_side, left:left + max_side]
    qualities = sorted(int(q) for q in qualities)
    if len(qualities) < 3:
        raise ValueError("qualities must hold at least three values (a minimum needs two neighbours)")
    curves = mse_curves(img, qualities, shifts)
    k_last = first_minimum(curves[0, 0])
    last = None if k_last is None else qualities[k_last]
    shifted = curves.reshape(shifts * shifts, -1)[1:]
    earlier: Optional[int] = None
    if method == "paper":
        limit = 30.0 if threshold is None else threshold
        found = [(float(c[k]), qualities[k]) for c in shifted
                 if (k := first_minimum(c)) is not None and c[k] < limit]
        earlier = min(found)[1] if found else None
    elif k_last:
        limit = 0.6 if threshold is None else threshold
        below = shifted[:, :k_last]
        ratio = below / np.maximum(np.median(below, axis=0), 1e-12)
        _, k = np.unravel_index(int(np.argmin(ratio)), ratio.shape)
        if ratio.min() < limit:
            earlier = qualities[k]
    qfs = [q for q in (last, earlier) if q is not None]
    return min(qfs) if qfs else None


def restore_with_dominant_qf(model: FBCNN, jpeg: bytes, qualities: Sequence[int] = DOMINANT_QF_GRID,
                             found: Optional[list[Optional[int]]] = None) -> np.ndarray:
    """FBCNN-D (paper §3.3): restore the JPEG file ``jpeg`` with the QF set by hand to the dominant
    QF :func:`dominant_qf` estimates on the ``qualities`` grid; blind (the predicted QF) when it
    finds no JPEG trace. The estimate (or None) is appended to ``found`` when given, so that a
    caller can count the images it was found for. Returns the restored image, uint8."""
    q = dominant_qf(decode_bytes(jpeg), qualities)
    if found is not None:
        found.append(q)
    return model.restore(jpeg) if q is None else model.restore(jpeg, qf=q)


PRESETS = {
    # what this project trains on 2 CPU cores (FBCNN-tiny made wider and deeper
    # where it is cheap: the coarse scales), blind over QF 10-90 with the grid shifted at random;
    # the QF predictor reads the high-passed input (the paper's, on raw features, stays at the
    # median for thousands of steps: benchmarks/qf_predictor_probe.py) and the controller is
    # teacher-forced for half the samples. 24,000 steps: the zoo's fbcnn_gray_small (the first zoo
    # model had 7,000: benchmarks/results/preset_history.md). The zoo's fbcnn_gray continues it
    # at channels [32, 64, 128, 192] and finishes with an L2 image loss (benchmarks/fbcnn_stage2_probes.py,
    # probes wider, wider_long, l2_finish, l2_cycle and l2_third), then on block-aligned patches only
    # (grid_shift=0, probe aligned: the grid of a JPEG file starts at its corner)
    "cpu": {
        "model_args": {"channels": [24, 48, 96, 128], "blocks": 2, "bottleneck_blocks": 1, "qf_blocks": 1,
                       "qf_hidden": 128, "controller_hidden": 128, "global_residual": True,
                       "teacher_forcing": 0.5, "qf_input": "highpass"},
        "train": {"patch": 64, "batch": 16, "steps": 24000, "lr": 1e-3, "lr_min": 0.0, "schedule": "cosine",
                  "warmup": 200, "grad_clip": 1.0, "loss": "l1 + 0.1*qf_l1", "qf_range": [10, 90], "grid_shift": 0.5,
                  "channels_last": True, "val_every": 1000, "ckpt_every": 250, "val_qfs": [10, 30]},
    },
    # FBCNN-A (§3.3): fbcnn_gray_small fine-tuned (recipe fbcnn_gray_double, jarlib/recipes/fbcnn.py) with non-aligned double JPEG (shift 0-7, QF loss
    # off for those samples) in half of the patches; fine-tuning instead of the paper's training
    # from scratch saves CPU-hours
    "cpu_double": {
        "model_args": {"channels": [24, 48, 96, 128], "blocks": 2, "bottleneck_blocks": 1, "qf_blocks": 1,
                       "qf_hidden": 128, "controller_hidden": 128, "global_residual": True,
                       "teacher_forcing": 0.5, "qf_input": "highpass"},
        "train": {"patch": 64, "batch": 16, "steps": 1500, "lr": 2e-4, "lr_min": 0.0, "schedule": "cosine",
                  "warmup": 0, "grad_clip": 1.0, "loss": "l1 + 0.1*qf_l1", "qf_range": [10, 90],
                  "double_fraction": 0.5, "grid_shift": 0.5, "channels_last": True,
                  "val_every": 750, "ckpt_every": 250, "val_qfs": [10, 30]},
    },
    # FBCNN-C: the same network on RGB, started from fbcnn_gray_small (jarlib.models.base.gray_to_color:
    # the first convolution reads the mean of R, G, B, the last writes to all three) so that the
    # CPU-hours go into colour, not into relearning deblocking. It starts by correcting luma only
    # (the same correction on R, G, B leaves Cb and Cr as they were); learning the chroma is what
    # takes the steps, and a better gray start still helps (benchmarks/results/preset_history.md)
    "cpu_color": {
        "model_args": {"channels": [24, 48, 96, 128], "blocks": 2, "bottleneck_blocks": 1, "qf_blocks": 1,
                       "qf_hidden": 128, "controller_hidden": 128, "global_residual": True,
                       "teacher_forcing": 0.5, "qf_input": "highpass"},
        "train": {"mode": "rgb", "patch": 64, "batch": 16, "steps": 8000, "lr": 5e-4, "lr_min": 0.0,
                  "schedule": "cosine", "warmup": 100, "grad_clip": 1.0, "loss": "l1 + 0.1*qf_l1",
                  "qf_range": [10, 90], "grid_shift": 0.5, "channels_last": True, "val_set": "live1_color",
                  "val_every": 1000, "ckpt_every": 250, "val_qfs": [10, 30]},
    },
    # the paper (§4.1): 128x128 patches, batch 256, Adam 1e-4 halved every 40k iterations down to
    # 1.25e-5 (160k iterations), QF 10-95, lambda 0.1
    "paper": {
        "model_args": {},
        "train": {"patch": 128, "batch": 256, "steps": 160000, "lr": 1e-4, "schedule": "step",
                  "milestones": [40000, 80000, 120000], "gamma": 0.5, "warmup": 0,
                  "loss": "l1 + 0.1*qf_l1", "qf_range": [10, 95]},
    },
}
