"""Worked solutions to the exercises of notebook 12 (`notebooks/12_cqr.ipynb`, CQR).

Run from the repository root: ``python solutions/12_cqr.py`` (the real sizes, about half an hour on
2 cores) or with ``--smoke`` (tiny sizes, no data set needed, under a minute).
"""

from __future__ import annotations

import math

import numpy as np
import torch

from jarlib import zoo
from jarlib.auxiliary import evaluate_ranker, ranker_pairs
from jarlib.data import evaluation_images, evaluation_source, have_sets, load_dataset, sample_images
from jarlib.evaluation import evaluate_restorer
from jarlib.jpeg import compress
from jarlib.models import CQR, presets
from jarlib.models.cqr import Ranker, margin_ranking_loss
from jarlib.train import TrainConfig, train

from _run import run  # solutions/_run.py: the command line they share


def _test_images(smoke: bool):
    """Where the exercises score: LIVE1 gray (its first 10 images), or in a smoke run two 96x96 crops."""
    if smoke:
        return [(stem, img[:96, :96]) for stem, img in evaluation_images("live1_gray", limit=2)], None
    return evaluation_source("live1_gray"), 10


def _gray_images(count: int) -> list[np.ndarray]:
    if have_sets("bsds500_train", instead="the sample images"):
        return [img for _, img in load_dataset("bsds500_train", mode="gray", limit=count)]
    return list(sample_images("gray").values())


def exercise_1(smoke: bool) -> None:
    """Same content or not? Train the ranker on pairs of different content (shuffle one side of each
    pair): what happens to the per-patch and pooled Spearman rho?"""
    images, steps, batch = _gray_images(8 if smoke else 40), (10 if smoke else 600), (8 if smoke else 32)
    result = {}
    for shuffle in (False, True):
        torch.manual_seed(0)
        rng = np.random.default_rng(0)
        ranker = Ranker(1, (16, 16, 32, 32, 64, 64), 32)
        opt = torch.optim.Adam(ranker.parameters(), lr=1e-3)
        for _ in range(steps):
            xi, xj, bi, bj = ranker_pairs(images, rng, batch, 48)
            if shuffle:                                   # one side from another image; keep pairs of two levels
                xj, bj = xj.roll(1, 0), bj.roll(1, 0)
                keep = bi != bj
                xi, xj, bi, bj = xi[keep], xj[keep], bi[keep], bj[keep]
            loss = margin_ranking_loss(ranker(xi), ranker(xj), bi, bj)
            opt.zero_grad()
            loss.backward()
            opt.step()
        m = evaluate_ranker(ranker.eval(), _test_images(smoke)[0], (5, 15, 25) if smoke else tuple(range(1, 31)),
                            per_image=1 if smoke else 4)
        result[shuffle] = m
        print(f"{'shuffled' if shuffle else 'same content'}: Spearman per patch {m['spearman_per_patch']:.3f}, "
              f"pooled {m['spearman_pooled']:.3f}")
    assert all(math.isfinite(m["spearman_per_patch"]) for m in result.values())
    if not smoke:   # same-content pairs teach the order at least as well
        assert result[False]["spearman_per_patch"] >= result[True]["spearman_per_patch"] - 0.02


def _small_cqr(loss: str, steps: int, smoke: bool, **model_args):
    """A small de-blocker as notebook 12's ablation trains it (jarlib.sweeps.cqr_loss_ablation)."""
    args = {**presets("cqr")["cpu"]["model_args"], "features": 12, "nl_inter": 6, "feature_loss": "pixel", **model_args}
    size = {"patch": 24, "batch": 2, "threads": 1} if smoke else {"patch": 32, "batch": 8}
    cfg = TrainConfig.from_preset("cqr", "cpu", model_args=args, steps=steps, loss=loss, warmup=min(50, steps // 5),
                                  val_images=0, progress=not smoke, seed=0, out=None, **size)
    return train(cfg, images=None if have_sets("bsds500_train", instead="the sample images") else sample_images("gray")).model


def exercise_2(smoke: bool) -> None:
    """A critic can be fooled: raise alpha to 0.1. Does the ranker's score of the output keep rising
    while PSNR falls?"""
    steps, ranker = (2 if smoke else 600), zoo.load("cqr_ranker")
    source, limit = _test_images(smoke)
    images = [img for _, img in (source if smoke else evaluation_images("live1_gray", limit=limit))]
    out = {}
    for alpha in (0.01, 0.1):
        net = _small_cqr(f"l1 + {alpha}*cqr_q + 0.9*cqr_f", steps, smoke)
        restored = [net.restore(compress(img, 10)) for img in images]
        with torch.no_grad():
            score = float(np.mean([ranker(torch.from_numpy(r / 255.0).float()[None, None]).item() for r in restored]))
        s = evaluate_restorer(net.restore, source, [10], "fbcnn_gray", limit=limit, progress=False)["10"]
        out[alpha] = (score, s["psnr"])
        print(f"alpha = {alpha}: ranker score of the output {score:.2f}, PSNR {s['psnr']:.2f} dB")
    assert all(math.isfinite(v) for pair in out.values() for v in pair)
    if not smoke:
        assert out[0.1][0] >= out[0.01][0] - 0.5      # the critic is pleased at least as much


def exercise_3(smoke: bool) -> None:
    """Which features? Move L_F to the ranker's last two layers: does PSNR-B change?"""
    steps, res = (2 if smoke else 600), {}
    for layers in ((2, 4), (4, 5)):
        net = _small_cqr("l1 + 0.01*cqr_q + 0.9*cqr_f", steps, smoke, feature_layers=layers)
        source, limit = _test_images(smoke)
        s = evaluate_restorer(net.restore, source, [10], "fbcnn_gray", limit=limit, progress=False)["10"]
        res[layers] = s
        print(f"L_F on ranker layers {layers}: PSNR {s['psnr']:.2f}, PSNR-B {s['psnrb']:.2f} (JPEG {s['psnrb_jpeg']:.2f})")
    print("compare the difference with the two-seed noise the notebook prints (section 4)")
    assert all(math.isfinite(s["psnrb"]) for s in res.values())


def exercise_4(smoke: bool) -> None:
    """Grow, do not restart: CQR.weights_from gives a network with two more pairs the same output,
    and the new pairs' fusion weights are zero."""
    cqr = zoo.load("cqr_gray")
    args = zoo.info("cqr_gray")["model_args"]
    deeper = CQR(**{**args, "pairs": args["pairs"] + 2, "ranker": None})
    deeper.load_state_dict(deeper.weights_from(cqr.state_dict()))
    x = torch.rand(1, 1, 40, 56)
    with torch.no_grad():
        gap = (deeper.eval()(x) - cqr(x)).abs().max().item()
    new = [f"blocks.{i}.trio.fuse.weight" for i in range(2 * args["pairs"], 2 * (args["pairs"] + 2))]
    state = deeper.state_dict()
    print(f"{args['pairs']} -> {args['pairs'] + 2} pairs: largest output difference {gap:.1e}; "
          f"new fusion weights {', '.join(new)}: all zero = {all(bool((state[k] == 0).all()) for k in new)}")
    assert gap < 1e-5 and all(bool((state[k] == 0).all()) for k in new)


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "tiny sizes, no data set needed")
