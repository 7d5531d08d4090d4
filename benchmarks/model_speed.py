"""Training throughput and inference time of every registered model, at its CPU and paper sizes.

Training: optimizer steps (forward, L1 loss, backward, Adam) on batches of 16 gray 64x64 patches
made by ``jarlib.train.get_batch`` (the real data path, JPEG included), in fp32, fp32 +
channels_last and bf16 autocast + channels_last; reported as patches/s. Inference:
``model.restore`` of a 512x512 gray JPEG (median of several runs). Prints a table and writes
``benchmarks/results/model_speed.csv``, which the README quotes.

    python benchmarks/model_speed.py            # about 20 minutes on 2 cores
    python benchmarks/model_speed.py --quick    # fewer steps (a smoke run; numbers noisier)

Whether bf16 autocast helps depends on the CPU: 10-20x *slower* than fp32 on an AMD EPYC without
AVX-512 BF16, about 2x faster on an Intel Xeon with AMX-BF16 (both have served this project's
2-core machines): measure before you switch it on. Each row names the CPU it was measured on
(``cpu``: the model name and its bf16 instructions). bf16 is timed at the CPU sizes only.
"""

from __future__ import annotations

import argparse
import shutil
import tempfile
from pathlib import Path

import torch

from jarlib import models as registry
from jarlib import train as T
from jarlib.bench import cpu_description, read_csv, restore_ms, write_csv
from jarlib.data import sample_images

OUT = Path(__file__).resolve().parent / "results" / "model_speed.csv"
BATCH, PATCH = 16, 64


def train_speed(name: str, preset: str, amp: str, channels_last: bool, steps: int, model_args: dict) -> float:
    """Patches/s of ``steps`` timed training steps (after 2 warm-up steps) of ``preset``'s model and
    loss, on this benchmark's batches."""
    cfg = T.TrainConfig.from_preset(name, preset, model_args=model_args, batch=BATCH, patch=PATCH, steps=steps + 2,
                                    amp=amp, channels_last=channels_last, val_images=0, progress=False,
                                    ckpt_every=0, log_every=1)
    hist = T.train(cfg, images=sample_images("gray")).history["train"]
    seconds = hist[-1]["seconds"] - hist[1]["seconds"]
    return steps * BATCH / seconds


def auxiliary_args(name: str, preset: str, folder: Path) -> dict:
    """Model arguments that point CQR's ranker / Dual priors' classifier at a 1-step checkpoint of
    the matching preset in ``folder`` (their speed does not depend on their weights), so the
    benchmark runs without the trained zoo networks."""
    images = [sample_images("gray")["camera"]]
    if name == "cqr" and registry.presets(name)[preset]["model_args"].get("ranker"):
        from jarlib.auxiliary import train_ranker
        train_ranker(folder / f"ranker_{preset}", preset, steps=1, images=images, progress=False)
        return {"ranker": str(folder / f"ranker_{preset}" / "checkpoint.pt")}
    if name == "dualpriors" and registry.presets(name)[preset]["model_args"].get("classifier"):
        from jarlib.auxiliary import train_classifier
        train_classifier(folder / f"classifier_{preset}", preset, steps=1, images=images, progress=False)
        return {"classifier": str(folder / f"classifier_{preset}" / "checkpoint.pt")}
    return {}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--models", nargs="+", choices=sorted(registry.MODELS), help="default: all")
    args = parser.parse_args()
    steps, repeats = (3, 2) if args.quick else (15, 5)
    T.set_threads()
    rows = []
    aux = Path(tempfile.mkdtemp(prefix="model_speed-"))
    for name in args.models or sorted(registry.MODELS):
        for preset in ("cpu", "paper"):
            extra = auxiliary_args(name, preset, aux)
            margs = {**registry.presets(name)[preset]["model_args"], **extra}
            model = registry.build(name, **margs).for_inference()   # as the zoo loads it
            row = {"model": name, "preset": preset, "parameters": model.num_parameters(),
                   "kmacs_per_pixel": round(model.macs_per_pixel() / 1e3, 1),
                   "restore_512_ms": round(restore_ms(model, repeats), 1), "threads": torch.get_num_threads(),
                   "cpu": cpu_description()}
            for label, amp, cl in (("fp32", "off", False), ("fp32_cl", "off", True), ("bf16_cl", "bf16", True)):
                if amp == "bf16" and preset == "paper":  # minutes per step here: measured at the CPU size only
                    row[f"train_patches_s_{label}"] = ""
                    continue
                # bf16 here, and the paper sizes, take seconds per step: fewer steps
                n = steps if amp == "off" and preset == "cpu" else max(2, steps // 5)
                row[f"train_patches_s_{label}"] = round(train_speed(name, preset, amp, cl, n, extra), 1)
            rows.append(row)
            print(row, flush=True)
    shutil.rmtree(aux, ignore_errors=True)
    if args.models and OUT.exists():   # keep the other models' rows
        rows = [r for r in read_csv(OUT) if r["model"] not in args.models] + rows
        rows.sort(key=lambda r: (r["model"], r["preset"] != "cpu"))
    write_csv(rows, OUT, list(rows[0]))
    print(f"{BATCH}x1x{PATCH}x{PATCH} batches; wrote {OUT}")


if __name__ == "__main__":
    main()
