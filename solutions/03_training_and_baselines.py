"""Solutions to the exercises of ``notebooks/03_training_and_baselines.ipynb`` (training, baselines).

Run from the repository root:

    python solutions/03_training_and_baselines.py           # the notebook's sizes: trains 4 small runs, about 15 min on 2 cores
    python solutions/03_training_and_baselines.py --smoke   # tiny networks, a few steps (under 30 s); no data set needed

Each function prints what a student should see and asserts it; in smoke mode the runs are too short
to learn anything, so only the mechanics are checked. Without the data sets the models train on the
bundled scikit-image samples (``jarlib.data.sample_images``) and are scored on them.
"""

from __future__ import annotations

import tempfile

import numpy as np
import torch

from jarlib import train as T
from jarlib import zoo
from jarlib.data import available, demo_image, evaluation_source, sample_images
from jarlib.evaluation import evaluate_restorer
from jarlib.jpeg import compress
from jarlib.metrics import psnr_ycbcr

from _run import run  # solutions/_run.py: the command line they share

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
    for q in ("10", "40"):
        print(f"QF {q}: higher PSNR with {max(scores, key=lambda k: scores[k][q]['psnr'])}, "
              f"higher SSIM with {max(scores, key=lambda k: scores[k][q]['ssim'])}")
    print("After a short run the two are within a few hundredths of a dB and neither wins everywhere:\n"
          "L2 is the squared error PSNR measures, L1 is less swayed by the few large errors at edges.\n"
          "Differences this small need the full sets (and several seeds) before they mean anything.")
    assert all(np.isfinite(s[q]["psnr"]) for s in scores.values() for q in ("10", "40"))
    if not smoke:
        assert all(s[q]["psnr"] > s[q]["psnr_jpeg"] for s in scores.values() for q in ("10", "40"))


def relu_statistics(model: torch.nn.Module, batch: torch.Tensor) -> tuple[list[float], list[float], list[float]]:
    """Per ReLU of ``model`` on ``batch``, in layer order: the fraction of zero outputs, the fraction of
    channels that are zero everywhere (dead units) and the standard deviation of the output."""
    outputs: list[torch.Tensor] = []
    hooks = [m.register_forward_hook(lambda _m, _i, out: outputs.append(out.detach().clone()))
             for m in model.modules() if isinstance(m, torch.nn.ReLU)]
    with torch.no_grad():
        model(batch)
    for h in hooks:
        h.remove()
    zeros = [float((o == 0).float().mean()) for o in outputs]
    dead = [float(((o > 0).sum(dim=(0, 2, 3)) == 0).float().mean()) for o in outputs]
    return zeros, dead, [float(o.std()) for o in outputs]


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
    zeros, dead, spread = relu_statistics(result.model, batch)
    with torch.no_grad():
        correction = float((result.model(batch) - batch).abs().mean() * 255)
    print(f"deep unshuffled DnCNN after {result.step} steps: validation gain " + ", ".join(f"QF {q} {g:+.2f} dB" for q, g in gains.items())
          + f"; mean |output - input| {correction:.2f} grey levels")
    print("per layer, zero outputs:", [round(z, 2) for z in zeros])
    print("per layer, dead channels (zero everywhere):", [round(d, 2) for d in dead])
    print("per layer, output std:", [round(v, 3) for v in spread])
    print("The network has collapsed onto the identity: it outputs (almost) no correction, so it sits on the\n"
          "JPEG line. Without batch normalization the signal fades layer by layer (the std falls towards the\n"
          "output) and units in the deep layers die, so the little gradient that reaches the early layers\n"
          "cannot move it; the shallower CPU preset (12 layers of 32) does not fall into this.")
    assert len(zeros) == model_args["depth"] - 1 and all(0 <= z <= 1 for z in zeros)
    if not smoke:
        assert max(abs(g) for g in gains.values()) < 0.05, "stuck on the JPEG line"
        assert correction < 0.5 and spread[-1] < 0.25 * spread[0]


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
    for c in curve[:2]:
        print(f"residual ARCNN (zoo arcnn_gray), step {c['step']}: " + ", ".join(
            f"QF {q} {c[f'psnr_q{q}'] - c[f'psnr_jpeg_q{q}']:+.2f} dB" for q in ("10", "40")))
    print("It learns, but more slowly: the direct network must first learn to copy its input through four\n"
          "layers (at high QF it stays below the JPEG input for a while), where the residual one starts as\n"
          "the identity and only learns the correction.")
    last = result.history["val"][-1]
    if not smoke:
        for q in ("10", "40"):
            direct = last[q]["psnr"] - last[q]["psnr_jpeg"]
            residual = curve[1][f"psnr_q{q}"] - curve[1][f"psnr_jpeg_q{q}"]   # the zoo run at step 1000
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


if __name__ == "__main__":
    torch.manual_seed(0)
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "tiny networks and runs (tests)")
