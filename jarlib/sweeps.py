"""Small training experiments that notebooks run live and ``benchmarks/`` stores at full length.

:func:`stage_sweep`: Dual priors' number of unrolled stages K against PSNR (the paper's Fig. 8, at
small scale; ``python benchmarks/dualpriors_k_sweep.py``, notebook 14).
:func:`dcsc_ablation`: DCSC's width, iterations, dilations and loss (Tables 3-5; notebook 10).
:func:`cqr_loss_ablation`: CQR's loss terms (Table 1; notebook 12).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Optional

from jarlib.evaluation import evaluate_restorer
from jarlib.models import presets
from jarlib.train import TrainConfig, train


def stage_sweep(stages: Sequence[int] = (1, 2, 3), steps: Optional[int] = None, limit: Optional[int] = None,
                seed: int = 0, images: Any = None, dataset: Any = "live1_gray") -> list[dict[str, Any]]:
    """One row per K: train preset ``cpu_sweep`` with K stages (``images``: training images, default
    BSDS500 train), score it on ``dataset`` (LIVE1 gray) at QF 10 (ARCNN's convention, as the paper's Table 1).
    ``python benchmarks/dualpriors_k_sweep.py`` stores the full run for notebook 14."""
    rows = []
    for k in stages:
        extra = {} if steps is None else {"steps": steps, "warmup": min(50, steps // 5)}
        cfg = TrainConfig.from_preset("dualpriors", "cpu_sweep", model_args={"stages": k}, out=None,
                                      progress=False, seed=seed, **extra)
        t0 = time.perf_counter()
        net = train(cfg, images=images).model
        seconds = time.perf_counter() - t0
        s = evaluate_restorer(net.restore, dataset, [10], "arcnn", limit=limit)
        alpha, beta, eta, lam = net.scalars()[-1].tolist()
        rows.append({"stages": k, "steps": cfg.steps, "images": s["images"], "psnr": round(s["10"]["psnr"], 4),
                     "psnr_jpeg": round(s["10"]["psnr_jpeg"], 4),
                     "gain": round(s["10"]["psnr"] - s["10"]["psnr_jpeg"], 4), "train_seconds": round(seconds),
                     "alpha": round(alpha, 4), "beta": round(beta, 4), "eta": round(eta, 4), "lambda2": round(lam, 4)})
    return rows


def _ablation_row(label: str, net: Any, seconds: float, scores: dict[str, Any], steps: int, **extra: Any) -> dict[str, Any]:
    s = scores["10"]
    return {"variant": label, **extra, "parameters": net.num_parameters(), "steps": steps, "images": scores["images"],
            **{k: round(s[k], 4) for k in ("psnr", "ssim", "psnrb", "psnr_jpeg", "ssim_jpeg", "psnrb_jpeg")},
            "gain": round(s["psnr"] - s["psnr_jpeg"], 4), "train_seconds": round(seconds)}


def dcsc_ablation(widths: Sequence[int] = (8, 16, 32), iterations: Sequence[int] = (2, 6, 12), base: tuple[int, int] = (16, 6),
                  steps: int = 1000, limit: Optional[int] = 10, seed: int = 0, images: Any = None,
                  dataset: Any = "live1_gray", patch: int = 48, batch: int = 16, threads: int = 0,
                  progress: Optional[bool] = None) -> list[dict[str, Any]]:
    """DCSC's ablations at small scale (the paper's Tables 3-5): tiny models (8 maps per dilated
    branch) of preset ``cpu`` trained alike for ``steps`` steps on ``patch`` x ``batch`` patches of
    ``images`` (default BSDS500 train), scored on the first ``limit`` images of ``dataset`` at QF 10
    (``arcnn`` convention: SSIM with the 8x8 uniform window, as the erratum).

    One row per variant (``variant``, ``features`` F, ``iterations`` R, ``dilations``, ``loss``, the
    scores, ``gain`` over the JPEG, ``train_seconds``): width F in ``widths`` at R = ``base[1]``,
    iterations R in ``iterations`` at F = ``base[0]`` (Table 4), then at ``base`` the undilated
    branches (1, 1, 1; Table 3) and the MSE loss (Table 5). ``threads``: CPU threads (0: every core;
    1 is much faster on a machine other jobs keep busy). ``python benchmarks/dcsc_ablation.py``
    stores the full run for notebook 10."""
    f0, r0 = base
    plan = [(f, r0, (1, 2, 4), "l1") for f in widths] + [(f0, r, (1, 2, 4), "l1") for r in iterations]
    plan += [(f0, r0, (1, 1, 1), "l1"), (f0, r0, (1, 2, 4), "l2")]
    plan = list(dict.fromkeys(plan))
    rows = []
    for f, r, dil, loss in plan:
        cfg = TrainConfig.from_preset("dcsc", "cpu", model_args={"filters": 8, "features": f, "iterations": r, "dilations": dil},
                                      steps=steps, loss=loss, warmup=min(50, steps // 5), val_images=0,
                                      progress=progress is not False, seed=seed, out=None, patch=patch, batch=batch,
                                      threads=threads)
        t0 = time.perf_counter()
        net = train(cfg, images=images).model
        seconds = time.perf_counter() - t0
        scores = evaluate_restorer(net.restore, dataset, [10], "arcnn", limit=limit, progress=progress)
        label = "undilated (1, 1, 1)" if dil == (1, 1, 1) else "MSE loss" if loss == "l2" else f"F = {f}, R = {r}"
        rows.append(_ablation_row(label, net, seconds, scores, steps, features=f, iterations=r,
                                  dilations="-".join(map(str, dil)), loss=loss))
    return rows


CQR_LOSSES = {"full": ("L1 + L_Q + L_F (CQR)", "l1 + 0.01*cqr_q + 0.9*cqr_f", "pixel"),
              "no_q": ("without L_Q", "l1 + 0.9*cqr_f", "pixel"),
              "no_f": ("without L_F", "l1 + 0.01*cqr_q", "pixel"),
              "mae": ("L1 only (no ranker)", "l1", "pixel"),
              "eq5": ("CQR, L_F as Eq. 5", "l1 + 0.01*cqr_q + 0.9*cqr_f", "l1"),
              "relative": ("CQR, relative L_F", "l1 + 0.01*cqr_q + 0.9*cqr_f", "relative")}
"""CQR's loss ablation (Table 1 at small scale): key -> (label, loss, ``feature_loss``: the scale of
L_F, ``"pixel"`` as the shipped ``cqr_gray``, ``"l1"`` as Eq. 5 writes it, or ``"relative"``)."""


def cqr_loss_ablation(variants: Sequence[str] = tuple(CQR_LOSSES), steps: int = 600, limit: Optional[int] = 10,
                      seed: int = 0, images: Any = None, dataset: Any = "live1_gray", features: int = 12,
                      nl_inter: int = 6, patch: int = 32, batch: int = 8, threads: int = 0,
                      progress: Optional[bool] = None) -> list[dict[str, Any]]:
    """CQR's loss terms at small scale (the paper's Table 1): small de-blockers of preset ``cpu``
    (``features`` maps, ``nl_inter`` attention channels) trained alike for ``steps`` steps with each
    loss of :data:`CQR_LOSSES` (the shipped ranker frozen inside), scored on the first ``limit``
    images of ``dataset`` at QF 10 (``fbcnn_gray`` convention). One row per variant, with each loss
    term's value at the last step (``l1``, ``cqr_q``, ``cqr_f``, unweighted; blank when not used).
    ``threads`` as in :func:`dcsc_ablation`.
    ``python benchmarks/cqr_ablation.py`` stores the full run for notebook 12."""
    rows = []
    for key in variants:
        label, loss, feature_loss = CQR_LOSSES[key]
        args = {**presets("cqr")["cpu"]["model_args"], "features": features, "nl_inter": nl_inter,
                "feature_loss": feature_loss}
        if "cqr_" not in loss:
            args["ranker"] = None
        cfg = TrainConfig.from_preset("cqr", "cpu", model_args=args, steps=steps, loss=loss,
                                      warmup=min(50, steps // 5), val_images=0, progress=progress is not False,
                                      seed=seed, out=None, patch=patch, batch=batch, threads=threads)
        t0 = time.perf_counter()
        result = train(cfg, images=images)
        seconds = time.perf_counter() - t0
        scores = evaluate_restorer(result.model.restore, dataset, [10], "fbcnn_gray", limit=limit, progress=progress)
        last = result.history["train"][-1]
        rows.append(_ablation_row(label, result.model, seconds, scores, steps, key=key, loss=loss,
                                  feature_loss=feature_loss,
                                  **{k: round(last[k], 4) if k in last else None for k in ("l1", "cqr_q", "cqr_f")}))
    return rows
