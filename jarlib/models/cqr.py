"""CQR: Wang, Fu, Sun, Zha, *JPEG Artifacts Removal via Compression Quality Ranker-Guided Networks*,
IJCAI 2020.

Two networks (paper §3, Figs. 1-2):

- the **compression quality ranker** (:class:`Ranker`): a Siamese network (one set of weights
  scoring both images of a pair) of conv-BN-LeakyReLU layers, global average pooling and two fully
  connected layers; trained with the margin ranking loss (Eq. 2, :func:`margin_ranking_loss`) on
  pairs of the same content at different quality levels, so that a better-quality image scores
  higher. The paper says "VGG, 10 conv layers"; that matches RankSRGAN's ``Ranker_VGG12`` (our
  reading), the ``paper`` preset.
- the **de-blocking network** (:class:`CQR`): blocks with a mask-attention branch (non-local in
  the first of each pair, RNAN's "dilated non-local" / "dilated local" blocks) and a trio of
  dilated 3x3 convolutions (dilation 1, 2, 4) concatenated and fused by a 1x1 convolution.

It is trained with ``L = MAE + alpha * L_Q + beta * L_F`` (Eqs. 3-6; alpha = 0.01, beta = 0.9):
``L_Q = sigmoid(-R(M(x)))`` pushes the frozen ranker's score of the output up, ``L_F`` is the L1
distance between ranker features of the output and of the ground truth. Their loss names here:
``"cqr_q"`` and ``"cqr_f"`` (:data:`LOSSES`); the ranker is given by ``ranker=`` (a zoo name or a
checkpoint), loaded when training starts, frozen, and not part of the de-blocker's weights.

The paper leaves the de-blocker's size and layout open (no code was released); every choice here
is an interpretation, listed in notebook 12 with its reason.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn

from jarlib.models.base import Restorer, block_count, deepened_state

# ------------------------------------------------------------------------------------ the ranker


class Ranker(nn.Module):
    """Compression quality ranker: image (B, C, H, W) in [0, 1] -> score (B,), higher = better quality.

    Layer i (0-based) is a 3x3 stride-1 convolution for even i and a 4x4 stride-2 one for odd i
    (``widths`` gives the channels), BN on all but the first, LeakyReLU 0.2; then global average
    pooling and FC ``widths[-1] -> hidden -> 1`` with a LeakyReLU between. Defaults: the paper's
    (RankSRGAN's VGG, 10 convolutions, 64 ... 512 channels, FC 512 -> 100 -> 1).
    """

    def __init__(self, in_channels: int = 1, widths: Sequence[int] = (64, 64, 128, 128, 256, 256, 512, 512, 512, 512),
                 hidden: int = 100) -> None:
        super().__init__()
        if not widths:
            raise ValueError("widths must name at least one convolution")
        self.in_channels = in_channels
        layers, c = [], in_channels
        for i, w in enumerate(int(v) for v in widths):
            conv = nn.Conv2d(c, w, 3, 1, 1) if i % 2 == 0 else nn.Conv2d(c, w, 4, 2, 1)
            layers.append(nn.Sequential(conv, *([nn.BatchNorm2d(w)] if i else []), nn.LeakyReLU(0.2, inplace=True)))
            c = w
        self.layers = nn.ModuleList(layers)
        self.head = nn.Sequential(nn.Linear(c, hidden), nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, 1))

    def features(self, x: torch.Tensor) -> list[torch.Tensor]:
        """The activation after every convolution layer (for the feature loss L_F)."""
        out = []
        for layer in self.layers:
            x = layer(x)
            out.append(x)
        return out

    def score_features(self, feats: Sequence[torch.Tensor]) -> torch.Tensor:
        return self.head(feats[-1].mean(dim=(2, 3))).squeeze(1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.score_features(self.features(x))

    def num_parameters(self) -> int:
        return sum(p.numel() for p in self.parameters())


def margin_ranking_loss(s_i: torch.Tensor, s_j: torch.Tensor, b_i: torch.Tensor, b_j: torch.Tensor,
                        margin: float = 0.5) -> torch.Tensor:
    """Paper Eq. 2: mean of ``max(0, (s_i - s_j) * eta + margin)``, eta = +1 where b_i < b_j (image
    i has the lower quality level, so its score should be lower) and -1 otherwise. Pairs must have
    different levels."""
    if bool((b_i == b_j).any()):
        raise ValueError("every pair must have two different quality levels")
    eta = torch.where(b_i < b_j, 1.0, -1.0).to(s_i.dtype)
    return torch.clamp((s_i - s_j) * eta + margin, min=0).mean()


LEVELS = ((1, 10), (11, 20), (21, 30))
"""The paper's three quality levels (§4.1): QF 1-10 -> 1, 11-20 -> 2, 21-30 -> 3."""


def level_of(qf: int) -> int:
    """The quality level (1, 2, 3) of a QF in 1..30."""
    for k, (lo, hi) in enumerate(LEVELS, start=1):
        if lo <= qf <= hi:
            return k
    raise ValueError(f"QF {qf} is outside the ranker's levels (1..30)")


# ------------------------------------------------------------------------------- the de-blocker

class ResBlock(nn.Module):
    """conv3x3 - ReLU - conv3x3 + identity."""

    def __init__(self, f: int) -> None:
        super().__init__()
        self.body = nn.Sequential(nn.Conv2d(f, f, 3, padding=1), nn.ReLU(inplace=True), nn.Conv2d(f, f, 3, padding=1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class NonLocal(nn.Module):
    """Embedded-Gaussian non-local block (RNAN's mask module): ``x + W g(x) softmax(theta(x)^T phi(x))``
    with 1x1 theta, phi, g to ``inter`` channels. Attention runs inside non-overlapping ``window`` x
    ``window`` windows (padded at the bottom/right), ``chunk`` windows at a time: a training patch
    that fits in one window is attended as a whole, and a large photo costs memory bounded by the
    chunk (our choice: the paper's global attention is quadratic in the pixels and a whole photo
    does not fit). The attention itself is PyTorch's fused ``scaled_dot_product_attention`` with
    ``scale=1`` (the embedded Gaussian has no 1/sqrt(d)): the same numbers as softmax(QK^T)V to
    ~1e-5, never storing the 2304x2304 matrix, 4x faster on a CPU than the explicit softmax."""

    def __init__(self, f: int, inter: int, window: int = 48, chunk: int = 64) -> None:
        super().__init__()
        self.theta, self.phi, self.g = (nn.Conv2d(f, inter, 1) for _ in range(3))
        self.W = nn.Conv2d(inter, f, 1)
        self.window, self.chunk = int(window), max(1, int(chunk))
        if self.window < 1:
            raise ValueError(f"window must be positive, got {window}")

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, _, h, w = x.shape
        sh, sw = min(self.window, h), min(self.window, w)
        ph, pw = (-h) % sh, (-w) % sw
        xp = F.pad(x, (0, pw, 0, ph), mode="replicate") if ph or pw else x
        H, W = xp.shape[-2:]

        def windows(t: torch.Tensor) -> torch.Tensor:   # (B, C, H, W) -> (B * nw, 1, sh*sw, C)
            c = t.shape[1]
            t = t.reshape(b, c, H // sh, sh, W // sw, sw).permute(0, 2, 4, 3, 5, 1)
            # one "head": the fused CPU kernel wants 4-D and a contiguous last dimension (a patch that
            # fits in one window would otherwise be a strided view, and PyTorch falls back to the
            # 5x slower explicit softmax in training)
            return t.reshape(-1, 1, sh * sw, c).contiguous()

        q, k, v = windows(self.theta(xp)), windows(self.phi(xp)), windows(self.g(xp))
        y = torch.cat([F.scaled_dot_product_attention(q[i:i + self.chunk], k[i:i + self.chunk],
                                                      v[i:i + self.chunk], scale=1.0)
                       for i in range(0, len(q), self.chunk)])   # (B * nw, 1, sh*sw, inter)
        c = y.shape[-1]
        y = y.reshape(b, H // sh, W // sw, sh, sw, c).permute(0, 5, 1, 3, 2, 4).reshape(b, c, H, W)
        return x + self.W(y)[..., :h, :w]


class DilatedTrio(nn.Module):
    """Three 3x3 convolutions with dilation 1, 2, 4 (``f // 3`` channels each, the rest to the
    first), concatenated, ReLU, 1x1 fusion back to ``f`` (the paper's multi-scale dilated convs)."""

    def __init__(self, f: int) -> None:
        super().__init__()
        parts = [f - 2 * (f // 3), f // 3, f // 3]
        if min(parts) < 1:
            raise ValueError(f"features must be at least 3 for the dilated trio, got {f}")
        self.convs = nn.ModuleList(nn.Conv2d(f, p, 3, padding=d, dilation=d) for p, d in zip(parts, (1, 2, 4)))
        self.fuse = nn.Conv2d(f, f, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fuse(F.relu(torch.cat([c(x) for c in self.convs], dim=1)))


class CQRBlock(nn.Module):
    """One block: RB -> trunk (``trunk`` RBs) x (1 + mask) -> dilated trio -> + block input.

    The mask branch (RNAN): [non-local] -> stride-2 conv -> RB -> 2x transposed conv -> 1x1 ->
    sigmoid. ``(1 + mask) * trunk`` is RNAN's residual attention: the mask can only emphasise."""

    def __init__(self, f: int, nonlocal_: bool, inter: int, window: int, trunk: int = 1) -> None:
        super().__init__()
        self.pre = ResBlock(f)
        self.trunk = nn.Sequential(*[ResBlock(f) for _ in range(trunk)])
        self.mask = nn.Sequential(*([NonLocal(f, inter, window)] if nonlocal_ else []),
                                  nn.Conv2d(f, f, 3, stride=2, padding=1), ResBlock(f),
                                  nn.ConvTranspose2d(f, f, 2, stride=2), nn.Conv2d(f, f, 1), nn.Sigmoid())
        self.trio = DilatedTrio(f)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.pre(x)
        t = self.trunk(y)
        m = self.mask(y)[..., :t.shape[-2], :t.shape[-1]]
        return x + self.trio(t * (1 + m))


class CQR(Restorer):
    """The CQR de-blocking network (defaults: the CPU size, CQR-small).

    Args:
        in_channels: 1 (Y, as the paper).
        features: width.
        pairs: number of [non-local block, local block] pairs.
        trunk: residual blocks in each block's trunk.
        nl_inter: inter-channels of the non-local attention; nl_window: its window (pixels).
        global_residual: add the input to the output.
        ranker: the frozen ranker for the losses ``cqr_q`` / ``cqr_f`` (a zoo name or a ranker
            checkpoint from :func:`train_ranker`), loaded when training starts; ``None`` trains
            with image losses only. Not part of this model's weights.
        feature_layers: the ranker layers (1-based) of the feature loss L_F.
        feature_loss: ``"l1"`` (Eq. 5 as written: mean absolute difference), ``"relative"`` (each
            layer's difference divided by the mean absolute feature of the truth) or ``"pixel"``
            (L_F in the units of the pixel L1: multiplied by L1(x, y) / L_F(x, y) of the JPEG input
            x itself, per batch and not differentiated, so that for the input the two terms are
            equal): the ranker's activations have no fixed scale (the margin loss fixes only an
            order), so with ``"l1"`` the weight β = 0.9 means something different for every ranker.

    ``forward(x)``: x (B, C, H, W) in [0, 1], H and W even (``restore`` pads to 8) -> restored image.
    In training with a ranker, ``forward(x, clean=...)`` returns ``(image, {"q": L_Q, "f": L_F})``.
    """

    # restore() in fp32 on 2 cores, 512x512, 0.37 M parameters: 3.3 s in channels-last layout against
    # 5.0 s (measured beside a training run), outputs equal to 6e-7 (tests/test_cqr.py); the zoo's
    # two-pair cqr_gray: 3.1 s, alone on the machine (ms_512 in benchmarks/results/benchmark.csv)
    channels_last_inference = True

    def __init__(self, in_channels: int = 1, features: int = 24, pairs: int = 1, trunk: int = 1,
                 nl_inter: int = 12, nl_window: int = 48, global_residual: bool = True,
                 ranker: Optional[str] = None, feature_layers: Sequence[int] = (2, 4),
                 feature_loss: str = "l1") -> None:
        super().__init__()
        if pairs < 1:
            raise ValueError(f"pairs must be >= 1, got {pairs}")
        if feature_loss not in FEATURE_LOSSES:
            raise ValueError(f"feature_loss must be one of {FEATURE_LOSSES}, got {feature_loss!r}")
        self.feature_loss = feature_loss
        self.in_channels = in_channels
        self.global_residual = global_residual
        self.head = nn.Conv2d(in_channels, features, 3, padding=1)
        self.blocks = nn.Sequential(*[CQRBlock(features, nonlocal_=(i % 2 == 0), inter=nl_inter, window=nl_window,
                                               trunk=trunk) for i in range(2 * pairs)])
        self.tail = nn.Conv2d(features, in_channels, 3, padding=1)
        self.ranker_source = ranker
        self.feature_layers = tuple(int(i) for i in feature_layers)
        self._ranker: list[Ranker] = []          # a list keeps it out of parameters() and state_dict()

    def forward(self, x: torch.Tensor, clean: Optional[torch.Tensor] = None) -> Any:
        out = self.tail(self.blocks(self.head(x)))
        if self.global_residual:
            out = out + x
        if clean is None or not self._ranker:
            return out
        ranker = self._ranker[0].to(x.device)
        f_out = ranker.features(out)
        with torch.no_grad():
            f_ref = ranker.features(clean)
        l_q = torch.sigmoid(-ranker.score_features(f_out)).mean()
        l_f = feature_matching_loss(f_out, f_ref, self.feature_layers, self.feature_loss == "relative")
        if self.feature_loss == "pixel":
            with torch.no_grad():
                f_in = ranker.features(x)
                scale = F.l1_loss(x, clean) / feature_matching_loss(f_in, f_ref, self.feature_layers).clamp_min(1e-8)
            l_f = l_f * scale
        return out, {"q": l_q, "f": l_f}

    def weights_from(self, state: dict[str, torch.Tensor]) -> dict[str, torch.Tensor]:
        """:meth:`Restorer.weights_from`, and a shallower CQR's weights (fewer pairs, same widths)
        made to fit this one by :func:`deepen_weights` (the same function, more blocks to train)."""
        old = block_count(state, "blocks")
        if old and old != len(self.blocks):
            state = deepen_weights(state, self)
        return super().weights_from(state)

    def output_image(self, out: Any) -> torch.Tensor:
        return out[0] if isinstance(out, tuple) else out

    def attach_ranker(self, ranker: Ranker) -> None:
        """Use ``ranker`` (frozen, eval mode) for the losses ``cqr_q`` and ``cqr_f``."""
        ranker.eval()
        for p in ranker.parameters():
            p.requires_grad_(False)
        self._ranker[:] = [ranker]
        if self.feature_layers and max(self.feature_layers) > len(ranker.layers):
            raise ValueError(f"feature_layers {self.feature_layers} beyond the ranker's {len(ranker.layers)} layers")

    def auxiliary_needed(self) -> dict[str, tuple[str, str]]:
        """The ranker named by ``ranker=``, until one is attached."""
        if self.ranker_source is None or self._ranker:
            return {}
        return {"ranker": ("cqr_ranker", str(self.ranker_source))}

    def attach_auxiliary(self, slot: str, net: nn.Module) -> None:
        if slot != "ranker":
            super().attach_auxiliary(slot, net)
        self.attach_ranker(net)  # type: ignore[arg-type]

    def training_inputs(self, batch: Any) -> dict[str, Any]:
        """The ground truth, for the ranker's losses (the ranker is attached before training)."""
        if self.ranker_source is None:
            return {}
        if not self._ranker:
            raise RuntimeError(f"CQR trains with the ranker {self.ranker_source!r}: attach it first "
                               "(jarlib.train does, from auxiliary_needed())")
        return {"clean": batch.clean}


# ------------------------------------------------------------------ growing a trained model deeper

def deepen_weights(state: dict[str, torch.Tensor], model: "CQR") -> dict[str, torch.Tensor]:
    """A CQR's weights with fewer [non-local, local] pairs made to fit ``model`` (same widths, more
    pairs) so that it computes the same function: the trained blocks come first, the new pairs
    after them, each new block with its last convolution (the dilated trio's 1x1 fusion) zeroed,
    so that it adds nothing and passes its input on (``x + 0``); the rest of a new block keeps
    ``model``'s random initialisation, so that the fusion's gradient is not zero and the block
    starts to learn at the first step (:func:`~jarlib.models.base.deepened_state`). Why: a trained
    model is grown instead of training the deeper one from scratch (CPU-hours)."""
    old, new = block_count(state, "blocks"), len(model.blocks)
    if old == 0:
        raise ValueError("these weights are not a CQR's (no blocks.<i> tensors)")
    if old % 2 or old > new:
        raise ValueError(f"cannot deepen {old} blocks to {new}: whole [non-local, local] pairs can only be added")
    return deepened_state(state, model, {"blocks.{i}.trio.fuse": range(old, new)})


FEATURE_LOSSES = ("l1", "relative", "pixel")
"""The scales of L_F that :class:`CQR` offers (``feature_loss=``)."""


def feature_matching_loss(f_out: Sequence[torch.Tensor], f_ref: Sequence[torch.Tensor], layers: Sequence[int],
                          relative: bool = False) -> torch.Tensor:
    """L_F (paper Eq. 5): the mean absolute difference of the ranker's activations at ``layers``
    (1-based) for the output and the truth, summed over layers; ``relative`` divides each layer's
    term by the truth's mean absolute activation (a scale-free L_F)."""
    total = f_out[0].new_zeros(())
    for i in layers:
        term = F.l1_loss(f_out[i - 1], f_ref[i - 1])
        total = total + (term / f_ref[i - 1].abs().mean().clamp_min(1e-8) if relative else term)
    return total


def _aux(out: Any, key: str) -> torch.Tensor:
    if not isinstance(out, tuple) or key not in out[1]:
        raise ValueError("the losses cqr_q / cqr_f need the ranker: build CQR with ranker=<zoo name or checkpoint>")
    return out[1][key]


LOSSES = {"cqr_q": lambda out, batch: _aux(out, "q"), "cqr_f": lambda out, batch: _aux(out, "f")}
"""The ranker-guided terms (paper Eqs. 4-5); the paper's total loss is :data:`CQR_LOSS`."""

CQR_LOSS = "l1 + 0.01*cqr_q + 0.9*cqr_f"
"""The paper's total loss (Eq. 6): L1 + alpha L_Q + beta L_F with alpha = 0.01, beta = 0.9 (§4.1)."""


# ---------------------------------------------------------------------- the ranker's presets

RANKER_PRESETS = {
    "cpu": {"widths": [16, 16, 32, 32, 64, 64], "hidden": 32, "patch": 48, "batch": 32, "steps": 1500,
            "lr": 1e-3, "margin": 0.5},
    "paper": {"widths": [64, 64, 128, 128, 256, 256, 512, 512, 512, 512], "hidden": 100, "patch": 128,
              "batch": 32, "steps": 100000, "lr": 1e-4, "margin": 0.5, "train_set": "div2k_train"},
}
"""Ranker sizes and recipes. ``cpu``: Ranker-small (about 0.1 M parameters), with
stride 2 on layers 2, 4, 6 as in the paper's alternation."""


# ---------------------------------------------------------------------------------- presets

def _small(ranker: Optional[str] = "cqr_ranker", **changes: Any) -> dict[str, Any]:
    """CQR-small's constructor arguments at the width the zoo uses (one [non-local, local] pair,
    48 features, 24 attention channels); ``ranker=None`` for the MAE-only twin, ``changes`` for a
    later stage's (e.g. ``pairs=2``). A new dict each call."""
    return {"features": 48, "pairs": 1, "trunk": 1, "nl_inter": 24, "nl_window": 48,
            "global_residual": True, "ranker": ranker, **changes}


def _cpu_train(loss: str) -> dict[str, Any]:
    """The CPU recipe: 40x40 patches, batch 16, Adam 5e-4 with cosine decay to zero over 7,000
    steps, QF 10-30 as the paper."""
    return {"patch": 40, "batch": 16, "steps": 7000, "lr": 5e-4, "lr_min": 0.0, "schedule": "cosine",
            "warmup": 100, "loss": loss, "qf_range": [10, 30],
            "channels_last": False, "val_every": 1000, "ckpt_every": 250, "val_qfs": [10, 30]}


def _qf3_stage(train: dict[str, Any]) -> dict[str, Any]:
    """A second stage at the paper's QFs (§4.2: one model for QF 10, 20 and 30, drawn equally)
    instead of 10-30: 2,500 steps, Adam 2e-4 with cosine decay; it continues stage 1 (the recipe
    says from where: jarlib/recipes/cqr.py)."""
    return {**train, "qf_choices": [10, 20, 30], "lr": 2e-4, "steps": 2500, "val_every": 500,
            "val_qfs": [10, 20, 30]}


def _deep_stage(train: dict[str, Any]) -> dict[str, Any]:
    """A third stage: the stage-2 model grown to two pairs (:func:`deepen_weights`) and trained
    4,000 steps more at QF 10/20/30, Adam 3e-4 with cosine decay to zero."""
    return {**_qf3_stage(train), "steps": 4000, "lr": 3e-4}


def _deep_finish(train: dict[str, Any]) -> dict[str, Any]:
    """A fourth stage: the stage-3 model trained 2,000 steps more at QF 10/20/30, Adam 1e-4 with
    cosine decay to zero (a second, lower cycle of the learning rate)."""
    return {**_deep_stage(train), "steps": 2000, "lr": 1e-4}


PRESETS = {
    # CQR-small (one [non-local, local] pair) at twice its width, 48 features and
    # 24 attention channels (0.37 M parameters), QF 10-30 as the paper;
    # the ranker-guided loss needs a ranker: --set model_args.ranker=cqr_ranker (zoo) or a checkpoint.
    # L_F as Eq. 5 writes it; stage 1 of the zoo's cqr_gray is this preset with
    # --set model_args.feature_loss=pixel (L_F in pixel units, notebook 12).
    "cpu": {"model_args": _small(), "train": _cpu_train(CQR_LOSS)},
    # the same network with MAE alone (the paper's "w/o CQR" ablation)
    "cpu_mae": {"model_args": _small(ranker=None), "train": _cpu_train("l1")},
    # stages 2-4 of the zoo's cqr_gray / cqr_gray_mae (recipes in jarlib/recipes/cqr.py): the paper's
    # QFs 10/20/30; then grown to two [non-local, local] pairs (0.73 M parameters; the new pair
    # starts as the identity, deepen_weights); then a second, lower learning-rate cycle
    "cpu_qf3": {"model_args": _small(feature_loss="pixel"), "train": _qf3_stage(_cpu_train(CQR_LOSS))},
    "cpu_mae_qf3": {"model_args": _small(ranker=None), "train": _qf3_stage(_cpu_train("l1"))},
    "cpu_deep": {"model_args": _small(feature_loss="pixel", pairs=2), "train": _deep_stage(_cpu_train(CQR_LOSS))},
    "cpu_mae_deep": {"model_args": _small(ranker=None, pairs=2), "train": _deep_stage(_cpu_train("l1"))},
    "cpu_deep_finish": {"model_args": _small(feature_loss="pixel", pairs=2),
                        "train": _deep_finish(_cpu_train(CQR_LOSS))},
    "cpu_mae_deep_finish": {"model_args": _small(ranker=None, pairs=2), "train": _deep_finish(_cpu_train("l1"))},
    # RNAN's CAR layout (our reading: the paper does not give the size):
    # 64 features, 10 blocks, Adam 1e-4 halved every 1e5 iterations
    "paper": {
        "model_args": {"features": 64, "pairs": 5, "trunk": 2, "nl_inter": 32, "nl_window": 48,
                       "global_residual": True, "ranker": "cqr_ranker"},
        "train": {"patch": 48, "batch": 16, "steps": 300000, "lr": 1e-4, "schedule": "step",
                  "milestones": [100000, 200000], "gamma": 0.5, "warmup": 0,
                  "loss": CQR_LOSS, "qf_range": [10, 30]},
    },
}

