"""How fast does ``JpegPatchDataset`` make training patches on a 2-core CPU, and is it fast enough?

Measures patches/s through a ``DataLoader(batch_size=16, num_workers=0)`` for gray patches of 64,
96 and 128 and colour 64, single JPEG only and all non-aligned double JPEG; then times one training
step (forward, backward, Adam) of a tiny 8-layer 32-channel conv net on a 16x1x64x64 batch, and
reports what share of a step the data would take. Prints a table and writes
``benchmarks/results/patch_throughput.csv``.

    python benchmarks/patch_throughput.py            # about a minute
    python benchmarks/patch_throughput.py --quick    # a few seconds (fewer batches)
"""

from __future__ import annotations

import argparse
import csv
import time
from pathlib import Path

import torch
from torch import nn
from torch.utils.data import DataLoader

from jarlib.data import JpegPatchDataset, available, load_dataset, sample_images

BATCH = 16
CONFIGS = [  # (mode, patch, double_fraction)
    ("gray", 64, 0.0), ("gray", 64, 1.0), ("gray", 96, 0.0), ("gray", 96, 1.0),
    ("gray", 128, 0.0), ("gray", 128, 1.0), ("rgb", 64, 0.0), ("rgb", 64, 1.0),
]
OUT = Path(__file__).resolve().parent / "results" / "patch_throughput.csv"


def tiny_net(channels: int = 1, width: int = 32, depth: int = 8) -> nn.Sequential:
    """A DnCNN-like stack: ``depth`` 3x3 convs of ``width`` channels with ReLU (no BN)."""
    layers: list[nn.Module] = [nn.Conv2d(channels, width, 3, padding=1), nn.ReLU()]
    for _ in range(depth - 2):
        layers += [nn.Conv2d(width, width, 3, padding=1), nn.ReLU()]
    layers.append(nn.Conv2d(width, channels, 3, padding=1))
    return nn.Sequential(*layers)


def images(mode: str) -> tuple[str, list]:
    """BSDS500 train when present (the project's training set), else the bundled samples."""
    if available("bsds500_train"):
        return "bsds500_train", load_dataset("bsds500_train", mode=mode)
    return "skimage samples", list(sample_images(mode).items())


def patches_per_second(ds: JpegPatchDataset, batches: int) -> float:
    """Patches/s drawing ``batches`` batches of :data:`BATCH` through a single-process DataLoader."""
    loader = DataLoader(ds, batch_size=BATCH, num_workers=0)
    it = iter(loader)
    next(it)  # warm-up batch
    t0 = time.perf_counter()
    for _ in range(batches):
        next(it)
    return batches * BATCH / (time.perf_counter() - t0)


def step_seconds(steps: int, patch: int = 64) -> float:
    """Mean seconds of one L1 training step of :func:`tiny_net` on a (16, 1, patch, patch) batch."""
    torch.manual_seed(0)
    net = tiny_net()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    x, y = torch.rand(BATCH, 1, patch, patch), torch.rand(BATCH, 1, patch, patch)
    times = []
    for k in range(steps + 2):
        t0 = time.perf_counter()
        loss = nn.functional.l1_loss(net(x), y)
        opt.zero_grad()
        loss.backward()
        opt.step()
        if k >= 2:  # skip warm-up steps
            times.append(time.perf_counter() - t0)
    return sorted(times)[len(times) // 2]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true", help="few batches (a smoke run)")
    args = parser.parse_args()
    batches = 5 if args.quick else 40
    rows = []
    cache: dict[str, tuple[str, list]] = {}
    for mode, patch, double in CONFIGS:
        if mode not in cache:
            cache[mode] = images(mode)
        source, imgs = cache[mode]
        ds = JpegPatchDataset(imgs, patch, mode=mode, samples_per_epoch=(batches + 1) * BATCH,
                              qf_range=(10, 95), double_fraction=double, seed=0)
        pps = patches_per_second(ds, batches)
        rows.append({"source": source, "mode": mode, "patch": patch, "double_fraction": double,
                     "patches_per_s": round(pps, 1), "ms_per_batch16": round(1000 * BATCH / pps, 2)})
    step = step_seconds(3 if args.quick else 15)
    data64 = next(r for r in rows if (r["mode"], r["patch"], r["double_fraction"]) == ("gray", 64, 0.0))
    data_ms = data64["ms_per_batch16"]
    share = data_ms / (data_ms + 1000 * step)
    rows.append({"source": "tiny net 8x32, 16x1x64x64, fwd+bwd+Adam", "mode": "gray", "patch": 64,
                 "double_fraction": "", "patches_per_s": round(BATCH / step, 1),
                 "ms_per_batch16": round(1000 * step, 2)})

    print(f"torch threads: {torch.get_num_threads()}, batch {BATCH}, DataLoader num_workers=0, "
          f"{batches} batches per row")
    print(f"{'source':18s} {'mode':5s} {'patch':>5s} {'double':>6s} {'patches/s':>10s} {'ms/batch':>9s}")
    for r in rows[:-1]:
        print(f"{r['source']:18s} {r['mode']:5s} {r['patch']:5d} {r['double_fraction']:6.1f} "
              f"{r['patches_per_s']:10.1f} {r['ms_per_batch16']:9.2f}")
    print(f"tiny 8-layer 32-channel net, one training step on 16x1x64x64: {1000 * step:.1f} ms "
          f"({BATCH / step:.0f} patches/s)")
    print(f"data share of a step (gray 64, single JPEG, same process): {100 * share:.1f} %")
    OUT.parent.mkdir(parents=True, exist_ok=True)
    with open(OUT, "w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(rows[0]))
        writer.writeheader()
        writer.writerows(rows)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
