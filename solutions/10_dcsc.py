"""Worked solutions to the exercises of notebook 10 (`notebooks/10_dcsc.ipynb`, DCSC).

Run from the repository root: ``python solutions/10_dcsc.py`` (the real sizes, several minutes) or
with ``--smoke`` (tiny sizes, no data set needed, well under a minute).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F

from jarlib import zoo
from jarlib.bench import read_csv
from jarlib.data import evaluation_source, have_sets, sample_images
from jarlib.evaluation import evaluate_restorer
from jarlib.models import DCSC
from jarlib.train import TrainConfig, train

from _run import run  # solutions/_run.py: the command line they share

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def exercise_1(smoke: bool) -> None:
    """How many learned iterations? Train the 1-D LISTA of section 2 with R = 1, 2, 5 and 10 and
    compare its held-out error with ISTA's curve: how many ISTA iterations is each worth?"""
    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    threads = torch.get_num_threads()
    torch.set_num_threads(1)                 # matrices this small run fastest on one thread
    n, m, k, lam = 32, 64, 4, 0.05
    D = rng.normal(size=(n, m))
    D /= np.linalg.norm(D, axis=0)
    L = np.linalg.eigvalsh(D.T @ D).max()

    def pairs(count):
        z = np.zeros((count, m))
        idx = np.argsort(rng.random((count, m)), axis=1)[:, :k]        # k different atoms per code
        np.put_along_axis(z, idx, rng.uniform(0.5, 1.5, (count, k)), axis=1)
        y = z @ D.T + 0.01 * rng.normal(size=(count, n))
        return torch.tensor(y, dtype=torch.float32), torch.tensor(z, dtype=torch.float32)

    def lista(y, W_e, S, theta, iterations):
        b = y @ W_e.T
        z = torch.relu(b - theta)
        for _ in range(iterations - 1):
            z = torch.relu(b + z @ S.T - theta)
        return z

    y_test, z_test = pairs(2000)
    err = lambda z: float(torch.linalg.norm(z - z_test) / torch.linalg.norm(z_test))
    W0, S0 = torch.tensor(D.T / L, dtype=torch.float32), torch.tensor(np.eye(m) - D.T @ D / L, dtype=torch.float32)
    theta0 = torch.full((m,), lam / L)
    ista, z, b = [], torch.zeros_like(z_test), y_test @ W0.T       # ISTA's error after 1..300 iterations
    for _ in range(300):
        z = torch.relu(b + z @ S0.T - theta0)
        ista.append(err(z))                                            # (LISTA at its start is ISTA)
    steps = 60 if smoke else 1500
    errors = {}
    for R in (1, 2, 5, 10):
        params = [torch.nn.Parameter(t.clone()) for t in (W0, S0, theta0)]
        opt = torch.optim.Adam(params, lr=1e-3)
        for _ in range(steps):
            y_b, z_b = pairs(256)
            loss = F.mse_loss(lista(y_b, *params, R), z_b)
            opt.zero_grad()
            loss.backward()
            opt.step()
        with torch.no_grad():
            errors[R] = err(lista(y_test, *params, R))
        worth = next((i + 1 for i, e in enumerate(ista) if e <= errors[R]), None)
        print(f"LISTA R = {R:2d}: error {errors[R]:.3f} (ISTA with {R}: {ista[R - 1]:.3f}); "
              f"worth {worth or 'more than 300'} ISTA iterations")
        assert errors[R] < ista[R - 1]                      # learning the matrices always helps
    assert errors[10] < errors[1]                           # and more learned iterations help
    torch.set_num_threads(threads)


def exercise_2(smoke: bool) -> None:
    """Run-to-run noise: train the ablation's base model (F = 16, R = 6) with a third seed and
    compare its PSNR with the two stored seeds of benchmarks/results/dcsc_ablation.csv."""
    stored = [r for r in read_csv(RESULTS / "dcsc_ablation.csv") if r["variant"] == "F = 16, R = 6"]
    size = {"steps": 5, "patch": 24, "batch": 2} if smoke else {"steps": stored[0]["steps"], "patch": 48, "batch": 16}
    cfg = TrainConfig.from_preset("dcsc", "cpu", model_args={"filters": 8, "features": 16, "iterations": 6},
                                  warmup=min(50, size["steps"] // 5), val_images=0, progress=not smoke, seed=2,
                                  out=None, **size)
    images = None if have_sets("bsds500_train", instead="the sample images") else sample_images("gray")
    net = train(cfg, images=images).model
    s = evaluate_restorer(net.restore, evaluation_source("live1_gray"), [10], "arcnn",
                          limit=1 if smoke else None, progress=not smoke)["10"]
    print(f"seed 2: PSNR {s['psnr']:.2f} (JPEG {s['psnr_jpeg']:.2f}); stored seeds: "
          + ", ".join(f"{r['seed']}: {r['psnr']:.2f}" for r in stored))
    if not smoke:
        spread = max(r["psnr"] for r in stored + [s]) - min(r["psnr"] for r in stored + [s])
        print(f"three seeds span {spread:.2f} dB: ablation differences smaller than that are noise")
        assert s["psnr"] > s["psnr_jpeg"] and spread < 0.3


def exercise_3(smoke: bool) -> None:
    """Share S, or not? DCSC(shared=False) gives each iteration its own S: how many parameters does
    it add, as a formula in F and R? Does it help at equal steps?"""
    f, r = 16, 6
    shared, own = DCSC(filters=8, features=f, iterations=r), DCSC(filters=8, features=f, iterations=r, shared=False)
    extra = own.num_parameters() - shared.num_parameters()
    print(f"shared S: {shared.num_parameters():,} parameters, one S per iteration: {own.num_parameters():,} "
          f"(+{extra:,} = (R - 1) x F x F x 9)")
    assert extra == (r - 1) * f * f * 9
    size = {"steps": 5, "patch": 24, "batch": 2} if smoke else {"steps": 1000, "patch": 48, "batch": 16}
    images = None if have_sets("bsds500_train", instead="the sample images") else sample_images("gray")
    for flag in (True, False):
        cfg = TrainConfig.from_preset("dcsc", "cpu", model_args={"filters": 8, "features": f, "iterations": r, "shared": flag},
                                      warmup=min(50, size["steps"] // 5), val_images=0, progress=not smoke, out=None, **size)
        s = evaluate_restorer(train(cfg, images=images).model.restore, evaluation_source("live1_gray"), [10], "arcnn",
                              limit=1 if smoke else None, progress=not smoke)["10"]
        print(f"shared={flag}: LIVE1 QF 10 PSNR {s['psnr']:.2f} ({s['psnr'] - s['psnr_jpeg']:+.2f} dB over JPEG)")
        if not smoke:
            assert s["psnr"] > s["psnr_jpeg"]
    print("compare the difference with the run-to-run noise of exercise 2 before calling it a gain")


def exercise_4(smoke: bool) -> None:
    """The SSIM window: score dcsc_gray on Classic5 with the conventions arcnn (8x8 uniform window)
    and fbcnn_gray (11x11 Gaussian): which columns change, and by how much?"""
    model = zoo.load("dcsc_gray")
    source = evaluation_source("classic5")
    s = {conv: evaluate_restorer(model.restore, source, [10], conv, limit=1 if smoke else None, progress=False)["10"]
         for conv in ("arcnn", "fbcnn_gray")}
    for k in ("psnr", "ssim", "psnrb"):
        print(f"{k:6s} arcnn {s['arcnn'][k]:.4f}  fbcnn_gray {s['fbcnn_gray'][k]:.4f}  difference {s['arcnn'][k] - s['fbcnn_gray'][k]:+.4f}")
    assert abs(s["arcnn"]["psnr"] - s["fbcnn_gray"]["psnr"]) < 1e-9 and abs(s["arcnn"]["psnrb"] - s["fbcnn_gray"]["psnrb"]) < 1e-9
    assert s["arcnn"]["ssim"] > s["fbcnn_gray"]["ssim"]     # only SSIM moves: the box window reads higher


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "tiny sizes, no data set needed")
