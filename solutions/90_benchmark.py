"""Worked solutions to the exercises of notebook 90 (`notebooks/90_benchmark.ipynb`).

Run from the repository root: ``python solutions/90_benchmark.py`` (the real sizes) or with
``--smoke`` (tiny sizes, no data set needed, well under a minute). Exercises 1-3 read the stored
benchmark (``benchmarks/results/benchmark.csv`` and ``qf_sweep.csv``, written by ``python -m
jarlib.bench``); exercise 4 measures.
"""

from __future__ import annotations

import math
from pathlib import Path

from jarlib import zoo
from jarlib.bench import read_csv
from jarlib.data import evaluation_source
from jarlib.evaluation import evaluate_double

from _run import run  # solutions/_run.py: the command line they share

RESULTS = Path(__file__).resolve().parents[1] / "benchmarks" / "results"


def _benchmark() -> list[dict]:
    return read_csv(RESULTS / "benchmark.csv")


def exercise_1(smoke: bool) -> None:
    """Value for money: which model gains most per millisecond of CPU time per 512x512 image? Per
    parameter? Per CPU-minute of training?"""
    rows = [r for r in _benchmark() if r["set"] in ("live1_gray", "live1_color") and r["qf"] == 10]
    minutes = {r["model"]: zoo.info(r["model"])["training"].get("cpu_minutes_total", zoo.info(r["model"])["training"]["cpu_minutes"])
               for r in rows}
    measures = {"dB per second per 512x512 image": lambda r: r["gain"] / (r["ms_512"] / 1000),
                "dB per million parameters": lambda r: r["gain"] / (r["parameters"] / 1e6),
                "dB per CPU-hour of training": lambda r: r["gain"] / (minutes[r["model"]] / 60)}
    for what, f in measures.items():
        ranked = sorted(rows, key=f, reverse=True)
        print(f"{what}: " + ", ".join(f"{r['model']} {f(r):.2f}" for r in ranked[:3]))
    fastest_half = sorted(r["ms_512"] for r in rows)[len(rows) // 2]
    best = max(rows, key=measures["dB per second per 512x512 image"])
    assert best["gain"] > 0 and best["ms_512"] <= fastest_half      # the best value per ms is a fast model
    assert max(rows, key=measures["dB per million parameters"])["parameters"] < 2e5   # and per parameter a small one


def exercise_2(smoke: bool) -> None:
    """How much does the SSIM window move? For each set, how much higher is ``ssim_uniform8`` than
    ``ssim``, for the JPEG input and for the models? Is the ranking the same under both windows?"""
    rows = [r for r in _benchmark() if r["mode"] == "gray"]
    for s in sorted({r["set"] for r in rows}):
        sub = [r for r in rows if r["set"] == s]
        dj = [r["ssim_uniform8_jpeg"] - r["ssim_jpeg"] for r in sub]
        dm = [r["ssim_uniform8"] - r["ssim"] for r in sub]
        print(f"{s:12s} uniform8 minus gaussian11: JPEG {min(dj):+.4f} to {max(dj):+.4f}, models {min(dm):+.4f} to {max(dm):+.4f}")
        assert min(dj) > 0                    # on JPEG inputs the box window reads higher
    live = [r for r in rows if r["set"] == "live1_gray" and r["qf"] == 10]
    by = lambda k: [r["model"] for r in sorted(live, key=lambda r: -r[k])]
    swaps = sum(a != b for a, b in zip(by("ssim"), by("ssim_uniform8")))
    print(f"LIVE1 QF 10 ranking by SSIM: {by('ssim')}\n  by SSIM (8x8 uniform): {by('ssim_uniform8')}; {swaps} places differ")
    assert len(live) > 2


def exercise_3(smoke: bool) -> None:
    """Robust outside the range: each gray model's gain at QF 90 against the top of its training
    range. Which model loses least beyond its range, and what does it read that the others do not?"""
    sweep = [r for r in read_csv(RESULTS / "qf_sweep.csv") if r["set"] == "live1_gray" and r["qf"] == 90]
    top = {r["model"]: int(str(r["training_qf"]).split("-")[1]) for r in sweep}
    for r in sorted(sweep, key=lambda r: -r["gain"]):
        print(f"{r['model']:18s} trained up to QF {top[r['model']]:2d}: QF 90 gain {r['gain']:+.2f} dB")
    beyond = [r for r in sweep if top[r["model"]] < 90]
    best = max(beyond, key=lambda r: r["gain"])
    print(f"least loss beyond its range: {best['model']} ({best['family']}: reads the file's quantization tables)")
    assert best["family"] == "qgcn" and best["model"] != "qgcn_gray_noqm"


def exercise_4(smoke: bool) -> None:
    """Double JPEG: score fbcnn_gray and dcsc_gray on FBCNN's non-aligned double JPEG (QF 10 then 30)
    with jarlib.evaluation.evaluate_double: which copes better, and why might it?"""
    source = evaluation_source("live1_gray")
    limit = 1 if smoke else None
    gains = {}
    for name in ("fbcnn_gray", "dcsc_gray"):
        s = evaluate_double(zoo.load(name).restore, source, [(10, 30)], convention="fbcnn_double", limit=limit,
                            progress=not smoke)["10,30"]
        gains[name] = s["psnr"] - s["psnr_jpeg"]
        print(f"{name}: double JPEG 10 -> 30, PSNR {s['psnr']:.2f} (JPEG {s['psnr_jpeg']:.2f}, {gains[name]:+.2f} dB)")
    assert all(math.isfinite(g) for g in gains.values())
    if not smoke:
        assert gains["fbcnn_gray"] > gains["dcsc_gray"]   # FBCNN is trained for it (and is far larger)


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "tiny sizes, no data set needed")
