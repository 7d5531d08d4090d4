"""Worked solutions to the exercises of notebook 13 (`notebooks/13_fbcnn.ipynb`, FBCNN).

Run from the repository root: ``python solutions/13_fbcnn.py`` (the real sizes: two tiny training
runs and a few LIVE1 images, several minutes on 2 cores) or with ``--smoke`` (tiny sizes and
small crops, no data set needed, well under a minute).
"""

from __future__ import annotations

from functools import partial

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from jarlib import train as T
from jarlib import zoo
from jarlib.data import JpegPatchDataset, available, double_jpeg, evaluation_images, sample_images
from jarlib.jpeg import compress, decode_bytes, encode_bytes
from jarlib.metrics import psnr, psnr_ycbcr
from jarlib.models.fbcnn import dominant_qf, mse_curves

from _run import run  # solutions/_run.py: the command line they share

DOMINANT_QUALITIES = list(range(5, 100, 5))   # the notebook's grid


def _images(smoke: bool, count: int, mode: str = "gray") -> list[np.ndarray]:
    """``count`` LIVE1 images (the scikit-image samples without LIVE1); in smoke mode one 128x128
    crop on the 8x8 grid, from the centre of the first."""
    images = [img for _, img in evaluation_images("live1_gray" if mode == "gray" else "live1_color", mode,
                                                  limit=1 if smoke else count)]
    if smoke:
        h, w = images[0].shape[:2]
        top, left = (h - 128) // 2 // 8 * 8, (w - 128) // 2 // 8 * 8
        images = [np.ascontiguousarray(images[0][top:top + 128, left:left + 128])]
    return images


def exercise_1(smoke: bool) -> None:
    """Why the high-pass? Train a tiny QF regressor (an 8x8 stride-8 convolution, ReLU, 1x1
    convolution, ReLU, global average pooling, a linear layer, a sigmoid) with FBCNN's QF loss on
    patches compressed at QF 10 or 90, fed either the raw patch or its high-pass (the patch minus its
    3x3 mean, x20). Which one leaves the constant guess within a few hundred steps, and why?"""
    steps, batch = (10, 8) if smoke else (300, 16)
    images = sample_images("gray") if smoke or not available("bsds500_train") else "bsds500_train"
    high_pass = lambda x: (x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)) * 20
    error = {}
    for inputs in ("raw", "high-pass"):
        torch.manual_seed(0)
        ds = JpegPatchDataset(images, 64, mode="gray", samples_per_epoch=batch * steps, qf_choices=[10, 90], seed=0)
        net = nn.Sequential(nn.Conv2d(1, 64, 8, stride=8), nn.ReLU(), nn.Conv2d(64, 64, 1), nn.ReLU(),
                            nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 1), nn.Sigmoid())
        opt = torch.optim.Adam(net.parameters(), 1e-3)
        losses = []
        for step in range(steps):
            b = T.get_batch(ds, step, batch)
            x = high_pass(b.compressed) if inputs == "high-pass" else b.compressed
            loss = (net(x).reshape(-1) - b.qf).abs().mean()     # FBCNN's QF loss, on QF/100
            opt.zero_grad()
            loss.backward()
            opt.step()
            losses.append(loss.item())
        error[inputs] = float(np.mean(losses[-max(1, steps // 5):]))
    print(f"QF L1 over the last fifth of {steps} steps: raw {error['raw']:.3f}, high-pass {error['high-pass']:.3f} "
          "(always answering 0.5: 0.40)")
    print("The quantization leaves its trace in a few grey levels of high frequency, under a much stronger")
    print("image content: the raw regressor sees mostly the content and stays at the constant guess, the")
    print("high-passed one sees the trace. The paper's predictor, reading the decoupler's features, has the")
    print("raw one's problem (in the full model: qf_input='features' instead of 'highpass').")
    assert all(np.isfinite(v) for v in error.values())
    if not smoke:
        assert error["raw"] > 0.35 and error["high-pass"] < 0.25


def exercise_2(smoke: bool) -> None:
    """Lie to the controller. On a few LIVE1 images compressed at QF 10 and at QF 50, compare the
    mean PSNR of the blind restoration with restore(jpeg, qf=q) for q = 10, 50 and 90. Is the
    predicted QF as good as the true one, and how much does a wrong one cost?"""
    gray = zoo.load("fbcnn_gray")
    images = _images(smoke, 4)
    for true in (10, 50):
        rows = {"blind": [], 10: [], 50: [], 90: []}
        for clean in images:
            jpeg = compress(clean, true)
            rows["blind"].append(psnr(clean, gray.restore(jpeg)))
            for q in (10, 50, 90):
                rows[q].append(psnr(clean, gray.restore(jpeg, qf=q)))
        mean = {k: float(np.mean(v)) for k, v in rows.items()}
        print(f"JPEG at QF {true}: blind {mean['blind']:.2f} dB; told QF 10 {mean[10]:.2f}, QF 50 {mean[50]:.2f}, "
              f"QF 90 {mean[90]:.2f}")
        assert abs(mean["blind"] - mean[true]) < 0.1          # the predictor lands on the true QF
        assert mean["blind"] > max(v for k, v in mean.items() if k not in ("blind", true))
    print("The blind restoration is as good as being told the truth. Too high a QF leaves the artifacts in;")
    print("too low a QF smooths away detail that a mild compression had kept.")


def exercise_3(smoke: bool) -> None:
    """The paper's rule for the dominant QF. On double JPEGs 10 -> 30 and 10 -> 50 (shift (4, 4)) of
    a few LIVE1 images, how often does dominant_qf(..., method="paper") find QF1, against the default
    method="relative"? What threshold T would the paper's rule need?"""
    images = _images(smoke, 8)
    hits, dips = {"paper": 0, "relative": 0}, []
    for clean in images:
        for q2 in (30, 50):
            dj = double_jpeg(clean, 10, q2, (4, 4))
            for method in hits:
                hits[method] += dominant_qf(dj, DOMINANT_QUALITIES, method=method) == 10
            h, w = dj.shape
            side = min(256, h // 8 * 8, w // 8 * 8)
            top, left = (h - side) // 2 // 8 * 8, (w - side) // 2 // 8 * 8
            curves = mse_curves(dj[top:top + side, left:left + side], DOMINANT_QUALITIES)
            dips.append(float(curves[4, 4][DOMINANT_QUALITIES.index(10)]))   # the first grid: shift (8-4, 8-4)
    n = 2 * len(images)
    print(f"found QF 10 in {hits['paper']} of {n} double JPEGs with the paper's rule (T = 30), "
          f"{hits['relative']} of {n} with the relative one")
    print(f"the first grid's MSE at QF 10: {min(dips):.0f} to {max(dips):.0f}; the paper's rule finds QF 10 only where it "
          f"falls below T, and would need T above {max(dips):.0f} to find it in all of these. The relative rule")
    print("compares each shifted curve with their median instead, so it does not depend on the image's MSE level.")
    assert hits["relative"] >= hits["paper"] and max(dips) > 30


def exercise_4(smoke: bool) -> None:
    """Chroma subsampling. Give fbcnn_color JPEGs saved at 4:4:4 instead of 4:2:0: how much of its
    gain over JPEG, and in which JFIF plane, came from undoing the subsampling?"""
    color = zoo.load("fbcnn_color")
    images = _images(smoke, 6, "rgb")
    gains = {}
    for sub in ("4:2:0", "4:4:4"):
        per = []
        for clean in images:
            data = encode_bytes(clean, 10, subsampling=sub)
            before, after = psnr_ycbcr(clean, decode_bytes(data).reshape(clean.shape)), psnr_ycbcr(clean, color.restore(data))
            per.append({p: (before[p], after[p]) for p in before} | {"rgb": (psnr(clean, decode_bytes(data).reshape(clean.shape)),
                                                                             psnr(clean, color.restore(data)))})
        gains[sub] = {p: (float(np.mean([d[p][0] for d in per])), float(np.mean([d[p][1] - d[p][0] for d in per])))
                      for p in ("Y", "Cb", "Cr", "rgb")}
        print(f"{sub}: " + ", ".join(f"{p} JPEG {j:.2f} dB, {g:+.2f}" for p, (j, g) in gains[sub].items()))
    (cb420, g420), (cb444, g444) = gains["4:2:0"]["Cb"], gains["4:4:4"]["Cb"]
    print(f"Without subsampling the JPEG's Cb starts {cb444 - cb420:+.2f} dB higher and the model adds {g444:+.2f} dB "
          f"there instead of {g420:+.2f}:")
    print(f"about {max(0.0, (g420 - g444) / g420):.0%} of its Cb gain at 4:2:0 was undoing the subsampling, the rest is "
          "removing the quantization error; Cr it barely restores either way, Y about alike.")
    assert gains["4:4:4"]["Cb"][0] > gains["4:2:0"]["Cb"][0]          # the JPEG's chroma: better without subsampling
    assert gains["4:4:4"]["Y"][1] > 0 and (smoke or gains["4:2:0"]["Cb"][1] > gains["4:4:4"]["Cb"][1])


def exercise_5(smoke: bool) -> None:
    """Eight looks. Add the transposes to the flip ensemble: restore the transposed image with
    flip_ensemble=True, transpose back and average with the four flips. On a few LIVE1 images at QF
    10, do the four transposed looks help or hurt, and why?"""
    gray = zoo.load("fbcnn_gray")
    images = _images(smoke, 4)
    score = {"one": [], "four flips": [], "four transposed": [], "eight": []}
    for clean in images:
        jpeg = compress(clean, 10)
        one = gray.restore(jpeg).astype(np.float64)
        four = partial(gray.restore, flip_ensemble=True)
        flips = four(jpeg).astype(np.float64)
        transposed = four(np.ascontiguousarray(jpeg.T)).T.astype(np.float64)
        for k, img in (("one", one), ("four flips", flips), ("four transposed", transposed), ("eight", (flips + transposed) / 2)):
            score[k].append(psnr(clean, np.clip(np.round(img), 0, 255).astype(np.uint8)))
    mean = {k: float(np.mean(v)) for k, v in score.items()}
    print(", ".join(f"{k} {v:.3f} dB" for k, v in mean.items()))
    verdict = "help" if mean["eight"] > mean["four flips"] else "hurt"
    print("A transposed JPEG is not a JPEG of the same table (coefficient (u, v) was quantized with step q(u, v)")
    print("and lands where q(v, u) is expected), so the transposed looks are off the training data and worse on")
    print(f"their own ({mean['four transposed'] - mean['four flips']:+.3f} dB against the four flips); averaged in, "
          f"they {verdict} here ({mean['eight'] - mean['four flips']:+.3f} dB).")
    assert mean["four flips"] > mean["one"] and mean["four transposed"] < mean["four flips"]
    assert abs(mean["eight"] - mean["four flips"]) < 0.05


if __name__ == "__main__":
    T.set_threads()
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4, exercise_5],
        "tiny sizes and small crops, no data set needed")
