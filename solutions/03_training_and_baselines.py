"""Solutions to the exercises of ``notebooks/03_training_and_baselines.ipynb`` (training, baselines).

Run from the repository root:

    python solutions/03_training_and_baselines.py           # the notebook's sizes: trains 4 small runs, about 15 min on 2 cores
    python solutions/03_training_and_baselines.py --smoke   # tiny networks, a few steps (under 30 s); no data set needed

Each function prints what a student should see and asserts it; in smoke mode the runs are too short
to learn anything, so only the mechanics are checked. Without the data sets the models train on the
bundled scikit-image samples (``jarlib.data.sample_images``) and are scored on them.
"""

from __future__ import annotations

import argparse
import tempfile

import numpy as np
import torch

from jarlib import train as T
from jarlib import zoo
from jarlib.data import available, demo_image, evaluation_source, sample_images
from jarlib.evaluation import evaluate_restorer
from jarlib.jpeg import compress
from jarlib.metrics import psnr_ycbcr

DEMO_STEPS = 300          # the notebook's live run
TINY = {"model_args": {"features": 8, "depth": 3}, "batch": 4, "patch": 32, "val_images": 1, "val_crop": 64}


def _train(model: str, smoke: bool, steps: int, **overrides) -> T.TrainResult:
    """A run like the notebook's section 4 (tiny in smoke mode: pass small ``model_args`` too), in a
    temporary folder. Smoke runs train on the bundled samples and validate on one small crop."""
    args = {**TINY, **overrides} if smoke else overrides
    images = sample_images("gray") if smoke or not available("bsds500_train") else None
    val = None if available("live1_gray") and not smoke else [("camera", sample_images("gray")["camera"])]
    with tempfile.TemporaryDirectory(prefix="sol03_") as out:
        cfg = T.TrainConfig.from_preset(model, "cpu", steps=steps, val_every=max(1, steps // (1 if smoke else 4)),
                                        warmup=min(100, steps // 5), log_every=max(1, steps // 20),
                                        ckpt_every=0, out=out, seed=0, progress=False, **args)
        return T.train(cfg, images=images, val_images=val)


def _scores(result: T.TrainResult, smoke: bool) -> dict:
    return evaluate_restorer(result.model.restore, evaluation_source("live1_gray"), [10, 40],
                             limit=1 if smoke else 8, progress=False)


def exercise_1(smoke: bool) -> None:
    """Train the demo with ``loss="l2"`` instead of L1 (same steps): which wins on PSNR, which on SSIM?"""
    steps = 4 if smoke else DEMO_STEPS
    scores = {loss: _scores(_train("dncnn", smoke, steps, loss=loss), smoke) for loss in ("l1", "l2")}
    for q in ("10", "40"):
        a, b = scores["l1"][q], scores["l2"][q]
        print(f"QF {q}: L1 {a['psnr']:.3f} dB / SSIM {a['ssim']:.4f}   L2 {b['psnr']:.3f} dB / SSIM {b['ssim']:.4f}   "
              f"(JPEG {a['psnr_jpeg']:.3f} / {a['ssim_jpeg']:.4f})")
    print("L2 is the squared error PSNR measures, L1 weighs small errors more and trains a little faster;\n"
          "after a short run the two are within a few hundredths of a dB: compare signs, not sizes.")
    assert all(np.isfinite(s[q]["psnr"]) for s in scores.values() for q in ("10", "40"))
    if not smoke:
        assert all(s[q]["psnr"] > s[q]["psnr_jpeg"] for s in scores.values() for q in ("10", "40"))


def relu_zero_fractions(model: torch.nn.Module, batch: torch.Tensor) -> list[float]:
    """Fraction of zero outputs of every ReLU of ``model`` on ``batch``, in layer order."""
    fractions: list[float] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: fractions.append(float((out == 0).float().mean())))
             for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    with torch.no_grad():
        model(batch)
    for h in hooks:
        h.remove()
    return fractions


def exercise_2(smoke: bool) -> None:
    """Depth without batch normalization: set ``DEMO_ARGS = {"model_args": {"depth": 17, "features": 48,
    "unshuffle": 2}}``. Does its validation PSNR move away from the JPEG line? Look at the fraction of
    ReLUs that output zero in each layer after training — what happened?"""
    steps = 4 if smoke else DEMO_STEPS
    model_args = {"depth": 5 if smoke else 17, "features": 8 if smoke else 48, "unshuffle": 2, "batch_norm": False}
    result = _train("dncnn", smoke, steps, model_args=model_args)
    last = result.history["val"][-1]
    gains = {q: last[q]["psnr"] - last[q]["psnr_jpeg"] for q in ("10", "40")}
    images = sample_images("gray") if smoke or not available("bsds500_train") else None
    batch = T.get_batch(T.make_dataset(result.config, images), step=0, batch=8).compressed
    zeros = relu_zero_fractions(result.model, batch)
    dead = sum(z > 0.99 for z in zeros)
    print(f"deep unshuffled DnCNN after {result.step} steps: validation gain " + ", ".join(f"QF {q} {g:+.2f} dB" for q, g in gains.items()))
    print("fraction of zero ReLU outputs per layer:", [round(z, 2) for z in zeros])
    print(f"{dead} of {len(zeros)} layers output (almost) only zeros. Without batch normalization a deep\n"
          "plain stack is fragile: once a layer's units all go negative it passes nothing on and gets no\n"
          "gradient, and the residual output falls back to the input (a gain near 0 dB).")
    assert len(zeros) == model_args["depth"] - 1 and all(0 <= z <= 1 for z in zeros)


def exercise_3(smoke: bool) -> None:
    """``python -m jarlib.train --model arcnn --preset cpu --set model_args.residual=false --out runs/arcnn_direct``:
    does the direct (non-residual) ARCNN of the paper learn at all in 1000 steps?"""
    steps = 4 if smoke else 1000
    paper_args = dict(T.TrainConfig.from_preset("arcnn", "cpu").model_args, residual=False)
    if smoke:
        paper_args = {"features": [8, 8, 8], "kernels": [9, 7, 1, 5], "residual": False}
    result = _train("arcnn", smoke, steps, model_args=paper_args)
    for v in result.history["val"]:
        print(f"direct ARCNN, step {v['step']}: " + ", ".join(
            f"QF {q} {v[q]['psnr'] - v[q]['psnr_jpeg']:+.2f} dB" for q in ("10", "40")))
    curve = zoo.info("arcnn_gray")["curve"]   # the residual ARCNN of the zoo, same validation crops
    print("residual ARCNN (zoo arcnn_gray), " + "; ".join(
        f"step {c['step']}: QF 10 {c['psnr_q10'] - c['psnr_jpeg_q10']:+.2f} dB" for c in curve[:2]))
    print("The direct network must first learn to copy its input through four layers before it can\n"
          "improve on it; the residual one starts as the identity and only learns the correction.")
    last = result.history["val"][-1]
    if not smoke:
        direct = last["10"]["psnr"] - last["10"]["psnr_jpeg"]
        residual = curve[1]["psnr_q10"] - curve[1]["psnr_jpeg_q10"]   # step 1000
        assert direct < residual, "residual learning is what makes ARCNN train in minutes"


def exercise_4(smoke: bool) -> None:
    """Restore a colour photo with ``zoo.load("dncnn_gray").restore(...)``: the gray model cleans the luma
    only. Where does colour bleeding remain?"""
    _, rgb, _ = demo_image("monarch", mode="rgb")
    if smoke:
        rgb = rgb[:128, :192]
    jpeg = compress(rgb, 10)
    restored = zoo.load("dncnn_gray").restore(jpeg)
    before, after = psnr_ycbcr(rgb, jpeg), psnr_ycbcr(rgb, restored)
    print("PSNR per plane, JPEG -> restored: " + ", ".join(f"{k} {before[k]:.2f} -> {after[k]:.2f} dB" for k in before))
    print("Only Y improves: Cb and Cr come out as the JPEG stored them, so the 16x16 chroma blocks and the\n"
          "colour smeared across edges (4:2:0) stay.")
    assert after["Y"] > before["Y"]
    assert abs(after["Cb"] - before["Cb"]) < 0.05 and abs(after["Cr"] - before["Cr"]) < 0.05


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--smoke", action="store_true", help="tiny networks and runs (tests)")
    smoke = parser.parse_args(argv).smoke
    torch.manual_seed(0)
    for k, exercise in enumerate([exercise_1, exercise_2, exercise_3, exercise_4], 1):
        print(f"--- exercise {k}: {exercise.__doc__.splitlines()[0]}")
        exercise(smoke)


if __name__ == "__main__":
    main()
