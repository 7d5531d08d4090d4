"""Small training experiments that notebooks run live and ``benchmarks/`` stores at full length.

:func:`stage_sweep`: Dual priors' number of unrolled stages K against PSNR (the paper's Fig. 8, at
small scale; ``python benchmarks/dualpriors_k_sweep.py``, notebook 14).
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from typing import Any, Optional

from jarlib.evaluation import evaluate_restorer
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
