"""Worked solutions to the exercises of notebook 14 (`notebooks/14_dual_priors.ipynb`, Dual priors).

Run from the repository root: ``python solutions/14_dual_priors.py`` (the real sizes, a few minutes)
or with ``--smoke`` (small crops, no data set needed, well under a minute).
"""

from __future__ import annotations

import numpy as np
import torch

from jarlib import zoo
from jarlib.auxiliary import evaluate_classifier
from jarlib.data import demo_image, evaluation_images
from jarlib.jpeg import compress
from jarlib.metrics import psnr
from jarlib.models.dual_priors import grad_h, grad_v, x_step

from _run import run  # solutions/_run.py: the command line they share


def _crop(smoke: bool, size: int = 96) -> tuple[np.ndarray, np.ndarray]:
    """The notebook's picture (monarch, or scikit-image's camera without LIVE1), the clean image
    and its JPEG at QF 10; in smoke mode a 128x128 region on the 8x8 grid around the crop."""
    _, clean, box = demo_image("monarch", size)
    if smoke:
        top, left = box[0] // 8 * 8, box[1] // 8 * 8
        clean = np.ascontiguousarray(clean[top:top + 128, left:left + 128])
    return clean, compress(clean, 10)


def _to_uint8(x: torch.Tensor) -> np.ndarray:
    return np.clip(x[0, 0].numpy() * 255, 0, 255).round().astype(np.uint8)


def exercise_1(smoke: bool) -> None:
    """Hard threshold. Replace TV's soft threshold in section 1 by a hard one (keep a gradient whole
    where it is large, zero it where it is small): what happens to the PSNR and to the picture?"""
    clean, jpeg = _crop(smoke)
    y = torch.from_numpy(jpeg / 255.0)[None, None]
    result = {}
    for kind in ("soft", "hard"):
        lam, beta, x = 0.02, 0.05, y.clone()
        for _ in range(60):   # the notebook's TV_ITERS
            ds = (grad_h(x), grad_v(x))
            if kind == "soft":   # L1: shrink every gradient by lam / 2 beta
                g = [torch.sign(d) * torch.clamp(d.abs() - lam / (2 * beta), min=0) for d in ds]
            else:                # L0: keep or kill, at sqrt(lam / beta)
                g = [d * (d.abs() > (lam / beta) ** 0.5) for d in ds]
            x = x_step(y, torch.zeros_like(y), g, 0.0, beta)
            beta *= 1.08
        result[kind] = psnr(clean, _to_uint8(x))
    print(f"JPEG {psnr(clean, jpeg):.2f} dB; TV with a soft threshold {result['soft']:.2f} dB, hard {result['hard']:.2f} dB")
    print("The hard threshold keeps strong edges at full height but zeroes every weak gradient: flat patches")
    print("with hard steps between them (staircasing; on the whole image below even the JPEG); the soft one")
    print("shrinks every edge a little and keeps more of the texture.")
    assert result["soft"] > result["hard"] and result["soft"] > psnr(clean, jpeg)
    assert smoke or psnr(clean, jpeg) > result["hard"]


def exercise_2(smoke: bool) -> None:
    """Check the x-step. Verify that x_step(y, u, g, alpha, beta) minimises
    ||y - x||^2 + alpha ||x - u||^2 + beta sum_d ||grad_d x - g_d||^2: the gradient of this energy at
    its output should be zero. Then repeat with non-circular differences (the last column's
    difference set to zero): is the FFT solution still the minimiser?"""
    torch.manual_seed(0)
    size = 32 if smoke else 96
    y, u = torch.rand(1, 1, size, size, dtype=torch.float64), torch.rand(1, 1, size, size, dtype=torch.float64)
    g = [0.1 * torch.randn(1, 1, size, size, dtype=torch.float64) for _ in range(2)]
    alpha, beta = 0.3, 0.7
    x = x_step(y, u, g, alpha, beta).requires_grad_(True)

    def energy(x, circular):
        dh, dv = grad_h(x), grad_v(x)
        if not circular:   # the wrap-around differences dropped
            dh, dv = dh[..., :-1], dv[..., :-1, :]
            gh, gv = g[0][..., :-1], g[1][..., :-1, :]
        else:
            gh, gv = g
        return ((y - x) ** 2).sum() + alpha * ((x - u) ** 2).sum() + beta * (((dh - gh) ** 2).sum() + ((dv - gv) ** 2).sum())

    worst = {c: float(torch.autograd.grad(energy(x, c), x)[0].abs().max()) for c in (True, False)}
    print(f"largest |dE/dx| at the FFT solution: circular differences {worst[True]:.1e}, non-circular {worst[False]:.1e}")
    print("The FFT diagonalises only the circular difference operator; with the border differences dropped")
    print("the FFT answer is no longer the minimiser (the error sits at the borders).")
    assert worst[True] < 1e-10 and worst[False] > 1e-3


def exercise_3(smoke: bool) -> None:
    """Turn the semantic prior up. Multiply lambda2 of every stage of the trained model by 10, 100,
    ... 10^6 and restore the QF 10 crop: when does the prior start to change the PSNR? Print the
    classifier's output on the JPEG's gradients and the size of its input gradient: why so little?"""
    clean, jpeg = _crop(True)   # the 128x128 region: enough to see it, and quick
    model = zoo.load("dualpriors_gray")
    g = grad_h(torch.from_numpy(jpeg / 255.0).float()[None, None])
    with torch.no_grad():
        p = float(model.classifier(g).mean())
    slope = float(model.prior_gradient(g).abs().mean())
    scalars, rho = model.scalars().detach(), model.rho.detach().clone()
    base = psnr(clean, model.restore(jpeg))
    change = {}
    try:
        for s in ([1e2, 1e6] if smoke else [1e1, 1e2, 1e3, 1e4, 1e5, 1e6]):
            t = scalars.clone()
            t[:, 3] *= s
            with torch.no_grad():
                model.rho.copy_((t + torch.log(-torch.expm1(-t))) / model.scalar_gain)   # softplus^-1(t)
            change[s] = psnr(clean, model.restore(jpeg)) - base
    finally:
        with torch.no_grad():
            model.rho.copy_(rho)
    print(f"classifier on the JPEG's gradients: {p:.4f} (1 = compressed); mean |df_s/dg| {slope:.1e}")
    print("PSNR change with lambda2 scaled: " + ", ".join(f"x{s:.0e} {v:+.4f} dB" for s, v in change.items()))
    print("The classifier is sure (its sigmoid saturated), so its input gradient is almost zero: even a")
    print("million times the weight moves the gradients by a negligible amount.")
    assert p > 0.99 and slope < 1e-3 and all(abs(v) < 0.05 for v in change.values())


def exercise_4(smoke: bool) -> None:
    """The classifier outside its training range. It was trained on QF 10-30. Measure its accuracy
    on LIVE1 patches at QF 50, 70 and 90: where does it stop telling JPEG from clean, and why?"""
    clf = zoo.load("dualpriors_classifier")
    images = evaluation_images("live1_gray", "gray", limit=2 if smoke else None)
    acc = evaluate_classifier(clf, images, qfs=(10, 30, 50, 70, 90), per_image=1 if smoke else 4)
    print(f"{acc['patches']} patches: clean {acc['accuracy_clean']:.1%}; JPEG called JPEG at "
          + ", ".join(f"QF {q} {a:.1%}" for q, a in acc["accuracy_by_qf"].items()))
    print("Beyond its training range the accuracy falls with the QF: the finer the quantization, the closer")
    print("a JPEG's gradients are to clean ones, and the classifier calls them clean.")
    by = acc["accuracy_by_qf"]
    assert by["90"] <= by["50"] <= by["10"] and by["90"] < by["10"] and (smoke or (by["10"] > 0.95 and by["90"] < 0.5))


if __name__ == "__main__":
    torch.set_num_threads(min(2, torch.get_num_threads()))
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "small crops, no data set needed")
