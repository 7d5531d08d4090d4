"""Dual priors: Fu, Wang, Liu, Han, Zha, *Learning Dual Priors for JPEG Compression Artifacts
Removal*, ICCV 2021 — a variational model unrolled into a network.

The model (paper Eq. 3): ``min_x ||y - x||^2 + lambda1 f_p(x) + lambda2 f_s(grad x)``, with a
*regressive* pixel prior f_p (a CNN de-blocker) and a *discriminative* semantic prior f_s (a
classifier telling compressed image gradients from clean ones). Half-quadratic splitting with
auxiliary u (for x) and g (for grad x) alternates three updates; K stages of them are unrolled
(Fig. 2), all stages sharing the two networks:

1. **u-step** (Eq. 8): ``u_k = deblocker(x_{k-1})``.
2. **g-step** (Eq. 9): for each direction d in (h, v), J gradient steps from g = grad_d x_{k-1}:
   ``g <- g - eta * (beta * (g - grad_d x_{k-1}) + lambda2 * d f_s(g) / d g)``; f_s is the frozen
   classifier's probability of "compressed", so the steps move g towards "clean".
3. **x-step** (Eq. 10), closed form by the FFT with circular differences (exact diagonalisation):
   ``x_k = F^-1[(F(y) + alpha F(u_k) + beta sum_d conj(D_d) F(g_d)) / (1 + alpha + beta sum_d |D_d|^2)]``.

The scalars alpha, beta, eta, lambda2 are learned per stage, positive, initialised at 0.01 (§3.4).
The g-step differentiates the classifier with respect to its *input*: in training through
``torch.autograd.grad(create_graph=True)``, at inference with gradients switched on inside
``forward`` (``restore`` works under ``no_grad``).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from typing import Any, Optional

import torch
import torch.nn.functional as F
from torch import nn

from jarlib.models.base import Restorer

# ------------------------------------------------------------------------ image gradients and FFT

def grad_h(x: torch.Tensor) -> torch.Tensor:
    """Circular forward difference along the width: ``x[..., j+1] - x[..., j]`` (last column wraps)."""
    return torch.roll(x, -1, dims=-1) - x


def grad_v(x: torch.Tensor) -> torch.Tensor:
    """Circular forward difference along the height."""
    return torch.roll(x, -1, dims=-2) - x


def difference_otfs(height: int, width: int, device: Any = None, dtype: torch.dtype = torch.float32
                    ) -> tuple[torch.Tensor, torch.Tensor]:
    """The FFTs of the two difference kernels (MATLAB's ``psf2otf``): ``F(grad_d x) = D_d * F(x)``."""
    kh = torch.zeros(height, width, device=device, dtype=dtype)
    kh[0, 0], kh[0, -1] = -1.0, 1.0
    kv = torch.zeros(height, width, device=device, dtype=dtype)
    kv[0, 0], kv[-1, 0] = -1.0, 1.0
    return torch.fft.fft2(kh), torch.fft.fft2(kv)


def x_step(y: torch.Tensor, u: torch.Tensor, g: Sequence[torch.Tensor], alpha: torch.Tensor, beta: torch.Tensor
           ) -> torch.Tensor:
    """Paper Eq. 10: the minimiser of ``||y - x||^2 + alpha ||x - u||^2 + beta sum_d ||grad_d x - g_d||^2``
    in closed form by the FFT. y, u, g_h, g_v: (B, C, H, W); alpha, beta: scalars or (B, 1, 1, 1)."""
    dh, dv = difference_otfs(y.shape[-2], y.shape[-1], y.device, y.dtype)
    num = torch.fft.fft2(y) + alpha * torch.fft.fft2(u) + beta * (dh.conj() * torch.fft.fft2(g[0])
                                                                  + dv.conj() * torch.fft.fft2(g[1]))
    den = 1 + alpha + beta * (dh.abs() ** 2 + dv.abs() ** 2)
    return torch.fft.ifft2(num / den).real


# -------------------------------------------------------------------------------- the classifier

class GradientClassifier(nn.Module):
    """f_s: one image-gradient plane (B, 1, H, W) -> probability (B,) that it comes from a
    compressed image. ``widths`` convolutions (3x3, stride 2 at ``strides``), LeakyReLU 0.2, no
    batch norm (it stays frozen and deterministic inside the unrolled model), global average
    pooling, FC -> ``hidden`` -> 1, sigmoid. Defaults: the paper's 6 x 32 maps."""

    def __init__(self, widths: Sequence[int] = (32,) * 6, strides: Sequence[int] = (2, 4, 6), hidden: int = 32) -> None:
        super().__init__()
        layers, c = [], 1
        for i, w in enumerate((int(v) for v in widths), start=1):
            layers += [nn.Conv2d(c, w, 3, stride=2 if i in strides else 1, padding=1), nn.LeakyReLU(0.2, inplace=True)]
            c = w
        self.body = nn.Sequential(*layers)
        self.head = nn.Sequential(nn.Linear(c, hidden), nn.LeakyReLU(0.2, inplace=True), nn.Linear(hidden, 1))

    def logit(self, g: torch.Tensor) -> torch.Tensor:
        return self.head(self.body(g).mean(dim=(2, 3))).squeeze(1)

    def forward(self, g: torch.Tensor) -> torch.Tensor:
        return torch.sigmoid(self.logit(g))


# --------------------------------------------------------------------------------- the de-blocker

class LinearNonLocal(nn.Module):
    """Paper Eq. 11: ``M + W(theta(M) (nu(M)^T xi(M)) / N)`` with 1x1 theta, nu, xi, W and no
    softmax, so the product is taken as theta (nu^T xi): cost linear in the N pixels. Dividing by
    N (ours) keeps the output independent of the image size."""

    def __init__(self, f: int, inter: int) -> None:
        super().__init__()
        self.theta, self.nu, self.xi = (nn.Conv2d(f, inter, 1) for _ in range(3))
        self.W = nn.Conv2d(inter, f, 1)

    def forward(self, m: torch.Tensor) -> torch.Tensor:
        b, _, h, w = m.shape
        t, n, x = (conv(m).flatten(2) for conv in (self.theta, self.nu, self.xi))     # (B, c', N)
        gram = n @ x.transpose(1, 2) / (h * w)                                          # (B, c', c')
        y = (gram.transpose(1, 2) @ t).reshape(b, -1, h, w)
        return m + self.W(y)


class Unit(nn.Module):
    """The de-blocker's basic unit: linear non-local operation, then three cascaded 3x3
    convolutions with dilation 1, 3, 5 (ReLU after each) and a skip."""

    def __init__(self, f: int, inter: int) -> None:
        super().__init__()
        self.nl = LinearNonLocal(f, inter)
        self.convs = nn.ModuleList(nn.Conv2d(f, f, 3, padding=d, dilation=d) for d in (1, 3, 5))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        y = self.nl(x)
        for conv in self.convs:
            y = F.relu(conv(y))
        return x + y


class Deblocker(nn.Module):
    """f_p: head conv, ``units`` units with dense connections (every unit's output concatenated,
    1x1 fusion), a skip from the head, tail conv, plus the input image."""

    def __init__(self, in_channels: int = 1, features: int = 112, units: int = 4, inter: int = 56) -> None:
        super().__init__()
        self.head = nn.Conv2d(in_channels, features, 3, padding=1)
        self.units = nn.ModuleList(Unit(features, inter) for _ in range(units))
        self.fuse = nn.Conv2d(features * (units + 1), features, 1)
        self.tail = nn.Conv2d(features, in_channels, 3, padding=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        feats = [self.head(x)]
        for unit in self.units:
            feats.append(unit(feats[-1]))
        return x + self.tail(self.fuse(torch.cat(feats, dim=1)) + feats[0])


# ---------------------------------------------------------------------------- the unrolled model

def _inverse_softplus(v: float) -> float:
    return math.log(math.expm1(v))


class DualPriors(Restorer):
    """The unrolled model (defaults: the CPU size, DualPriors-small).

    Args:
        stages: K (paper 5); inner_steps: J (paper 3).
        features, units, inter: the de-blocker (paper: 112 maps; units not stated).
        classifier_widths, classifier_hidden: the classifier's size (paper 6 x 32, FC 32).
        scalar_init: initial alpha, beta, eta, lambda2 (paper 0.01).
        scalar_gain: the scalars are ``softplus(gain * rho)`` with ``rho`` learned; a gain above 1
            lets them move away from 0.01 in a short CPU training (Adam moves ``rho`` by about
            the learning rate per step). 1 is the plain parametrisation.
        use_classifier: ``False`` drops the g-step's prior term (the paper's Fig. 7 "without f_s").
        classifier: a zoo name or a classifier checkpoint (:func:`train_classifier`) whose weights
            are loaded into the frozen classifier when training starts; they are then stored with
            this model's weights.

    ``forward(y)``: y (B, 1, H, W) in [0, 1] -> x_K. ``forward(y, stages=True)`` also returns
    ``[(x_k, u_k, (g_h, g_v)), ...]`` per stage (paper Fig. 5).
    """

    def __init__(self, in_channels: int = 1, stages: int = 3, inner_steps: int = 2, features: int = 32,
                 units: int = 2, inter: int = 16, classifier_widths: Sequence[int] = (16,) * 6,
                 classifier_hidden: int = 16, scalar_init: float = 0.01, scalar_gain: float = 1.0,
                 use_classifier: bool = True, classifier: Optional[str] = None) -> None:
        super().__init__()
        if in_channels != 1:
            raise ValueError("Dual priors restores the Y channel: in_channels must be 1")
        if stages < 1 or inner_steps < 0:
            raise ValueError(f"need stages >= 1 and inner_steps >= 0, got {stages}, {inner_steps}")
        self.in_channels = 1
        self.stages, self.inner_steps = stages, inner_steps
        self.deblocker = Deblocker(1, features, units, inter)
        self.classifier = GradientClassifier(classifier_widths, hidden=classifier_hidden)
        for p in self.classifier.parameters():
            p.requires_grad_(False)
        self.use_classifier = use_classifier
        self.classifier_source = classifier
        self._classifier_loaded = False
        self.scalar_gain = float(scalar_gain)
        rho = _inverse_softplus(scalar_init) / self.scalar_gain
        # per stage: alpha, beta, eta, lambda2
        self.rho = nn.Parameter(torch.full((stages, 4), rho))

    def scalars(self) -> torch.Tensor:
        """(K, 4): alpha, beta, eta, lambda2 of each stage, all positive."""
        return F.softplus(self.scalar_gain * self.rho)

    def train(self, mode: bool = True) -> "DualPriors":
        super().train(mode)
        self.classifier.eval()          # frozen: always in eval mode
        return self

    def prior_gradient(self, g: torch.Tensor) -> torch.Tensor:
        """d f_s(g) / d g for each sample: the classifier's input gradient (graph kept in training)."""
        with torch.enable_grad():
            g_in = g if g.requires_grad else g.detach().requires_grad_(True)
            p = self.classifier(g_in).sum()
            (grad,) = torch.autograd.grad(p, g_in, create_graph=self.training)
        return grad

    def forward(self, y: torch.Tensor, stages: bool = False) -> Any:
        x, trace = y, []
        for k, (alpha, beta, eta, lam) in enumerate(self.scalars()):
            u = self.deblocker(x)
            gs = []
            for grad in (grad_h, grad_v):
                target = grad(x)
                g = target
                for _ in range(self.inner_steps):
                    step = beta * (g - target)
                    if self.use_classifier:
                        step = step + lam * self.prior_gradient(g)
                    g = g - eta * step
                gs.append(g)
            x = x_step(y, u, gs, alpha, beta)
            if stages:
                trace.append((x, u, tuple(gs)))
        return (x, trace) if stages else x

    def output_image(self, out: Any) -> torch.Tensor:
        return out[0] if isinstance(out, tuple) else out

    def auxiliary_needed(self) -> dict[str, tuple[str, str]]:
        """The pretrained classifier named by ``classifier=``, until its weights are copied in."""
        if self.classifier_source is None or self._classifier_loaded:
            return {}
        return {"classifier": ("dualpriors_classifier", str(self.classifier_source))}

    def attach_auxiliary(self, slot: str, net: nn.Module) -> None:
        """Copy the trained classifier's weights into the frozen one this model holds."""
        if slot != "classifier":
            super().attach_auxiliary(slot, net)
        self.classifier.load_state_dict(net.state_dict())
        self._classifier_loaded = True


# ------------------------------------------------------------------ the classifier's presets

CLASSIFIER_PRESETS = {
    "cpu": {"widths": [16] * 6, "hidden": 16, "patch": 48, "batch": 32, "steps": 1000, "lr": 1e-3,
            "qf_range": [10, 30]},
    "paper": {"widths": [32] * 6, "hidden": 32, "patch": 64, "batch": 10, "steps": 100000, "lr": 1e-4,
              "qf_range": [10, 30], "train_set": "bsds500_train+bsds500_test"},
}
"""Classifier sizes and recipes (stage 1, BCE; the paper's §3.4)."""


def _small(features: int = 32, units: int = 2, inter: int = 16) -> dict[str, Any]:
    """DualPriors-small's constructor arguments (K = 3, J = 2, the zoo's classifier)
    at a given de-blocker size; a new dict each call, so no two presets share one."""
    return {"stages": 3, "inner_steps": 2, "features": features, "units": units, "inter": inter,
            "classifier_widths": [16] * 6, "classifier_hidden": 16, "scalar_init": 0.01,
            "scalar_gain": 10.0, "classifier": "dualpriors_classifier"}


def _cpu_train(steps: int, val_every: int) -> dict[str, Any]:
    """The CPU recipe of stage 2: 40x40 patches, batch 8, Adam 5e-4 with cosine decay to zero, L1,
    QF 10-30."""
    return {"patch": 40, "batch": 8, "steps": steps, "lr": 5e-4, "lr_min": 0.0, "schedule": "cosine",
            "warmup": 50, "loss": "l1", "qf_range": [10, 30], "channels_last": False,
            "val_every": val_every, "ckpt_every": 250, "val_qfs": [10, 30]}


PRESETS = {
    # DualPriors-small: K = 3, J = 2, 32 maps, 2 units; stage 2 with the frozen
    # classifier from the zoo (train it first: python -m jarlib.auxiliary classifier --out runs/dp_classifier).
    # Long (12,000 steps): at this size training length, not width, is what pays
    # (benchmarks/results/preset_history.md)
    "cpu": {"model_args": _small(), "train": _cpu_train(steps=12000, val_every=1500)},
    # the de-blocker 3.5x larger (48 maps, 3 units: 211 k trained parameters, ~2.5x the compute at
    # inference) for 3,000 steps: barely better than `cpu` at the same steps and well below `cpu` at
    # its 12,000 (benchmarks/results/preset_history.md), so not in the zoo
    "cpu_wide": {"model_args": _small(48, 3, 24), "train": _cpu_train(steps=3000, val_every=500)},
    # the K sweep (Fig. 8 at small scale; benchmarks/dualpriors_k_sweep.py, notebook 14): a quarter of
    # the cpu model's de-blocker, set stages with model_args; 1,500 steps, as 400 left every K alike
    "cpu_sweep": {
        "model_args": _small(16, 1, 8),
        "train": {"patch": 32, "batch": 8, "steps": 1500, "lr": 5e-4, "lr_min": 0.0, "schedule": "cosine",
                  "warmup": 50, "loss": "l1", "qf_range": [10, 30], "channels_last": False, "val_images": 0},
    },
    # the paper (§3.4): K = 5, J = 3, 112 maps, 64x64 patches, batch 10, Adam 1e-4 fixed
    "paper": {
        "model_args": {"stages": 5, "inner_steps": 3, "features": 112, "units": 4, "inter": 56,
                       "classifier_widths": [32] * 6, "classifier_hidden": 32, "scalar_init": 0.01,
                       "scalar_gain": 1.0, "classifier": "dualpriors_classifier"},
        "train": {"patch": 64, "batch": 10, "steps": 300000, "lr": 1e-4, "schedule": "constant",
                  "warmup": 0, "loss": "l1", "qf_range": [10, 30]},
    },
}
