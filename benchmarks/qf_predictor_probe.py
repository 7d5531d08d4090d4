"""Why FBCNN's QF predictor sits at the median in a short CPU run: a conditioning probe.

A tiny QF regressor — an 8x8 stride-8 convolution (it can compute each block's DCT), ReLU, 1x1
convolution, ReLU, global average pooling, linear, sigmoid — trained with FBCNN's QF loss (L1 on
QF/100) on BSDS500 train patches, fed either the raw JPEG patch or its high-pass (patch minus its
3x3 mean) scaled x20. Tasks: QF 10 vs 90 ("binary"), and QF 10-90 with FBCNN's random grid shift.
The L1 of a constant prediction is 0.40 (binary) and 0.20 (10-90). Prints the mean L1 of each
block of steps and writes ``benchmarks/results/qf_predictor_probe.csv``.

    python benchmarks/qf_predictor_probe.py            # about 2 minutes on one core
"""

from __future__ import annotations

import time
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from jarlib import train as T
from jarlib.bench import write_csv
from jarlib.data import JpegPatchDataset

OUT = Path(__file__).resolve().parent / "results" / "qf_predictor_probe.csv"
STEPS, EVERY, BATCH = 600, 100, 16


def high_pass(x: torch.Tensor) -> torch.Tensor:
    return (x - F.avg_pool2d(F.pad(x, (1, 1, 1, 1), mode="replicate"), 3, 1)) * 20


def run(task: str, inputs: str) -> list[float]:
    torch.manual_seed(0)
    choices = [10, 90] if task == "binary" else list(range(10, 91))
    ds = JpegPatchDataset("bsds500_train", 64, mode="gray", samples_per_epoch=BATCH * STEPS, qf_choices=choices,
                          grid_shift=0.0 if task == "binary" else 0.5, seed=0)
    net = nn.Sequential(nn.Conv2d(1, 64, 8, stride=8), nn.ReLU(), nn.Conv2d(64, 64, 1), nn.ReLU(),
                        nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(64, 1), nn.Sigmoid())
    opt = torch.optim.Adam(net.parameters(), 1e-3)
    losses, means = [], []
    for step in range(STEPS):
        b = T.get_batch(ds, step, BATCH)
        x = high_pass(b.compressed) if inputs == "high-pass x20" else b.compressed
        loss = (net(x).reshape(-1) - b.qf).abs().mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
        if (step + 1) % EVERY == 0:
            means.append(sum(losses[-EVERY:]) / EVERY)
    return means


def main() -> None:
    torch.set_num_threads(1)
    rows = []
    for task in ("binary", "10-90"):
        for inputs in ("raw", "high-pass x20"):
            t0 = time.perf_counter()
            means = run(task, inputs)
            print(f"{task:7s} {inputs:14s} " + " ".join(f"{m:.3f}" for m in means) + f"   ({time.perf_counter() - t0:.0f} s)")
            rows.append({"task": task, "input": inputs, **{f"l1_steps_{(i + 1) * EVERY}": round(m, 4) for i, m in enumerate(means)}})
    write_csv(rows, OUT, list(rows[0]))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
