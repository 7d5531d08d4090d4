"""What the flip ensemble buys: zoo models restored once and as the mean over the image's four flips.

``model.restore(jpeg, flip_ensemble=True)`` restores the image and its left-right, up-down and
double flips, flips each result back and averages them (4x the time; flips keep JPEG's 8x8 grid and
quantization, see :meth:`jarlib.models.base.Restorer.restore_tensor`). The single-pass numbers are
the zoo manifest's (``python -m jarlib.zoo add`` measured them with the same evaluation); the
ensemble is measured here, on all of LIVE1 and Classic5 (gray, FBCNN's conventions) at QF 10-40.

    python benchmarks/flip_ensemble.py                      # fbcnn_gray, about 15 minutes on 2 cores
    python benchmarks/flip_ensemble.py --models qgcn_gray --qfs 10

Writes ``benchmarks/results/flip_ensemble.csv`` (rows of other models and QFs kept).
"""

from __future__ import annotations

import argparse
from pathlib import Path

from jarlib import zoo
from jarlib.bench import read_csv, write_csv

OUT = Path(__file__).resolve().parent / "results" / "flip_ensemble.csv"
COLUMNS = ["model", "sha256", "set", "qf", "psnr_jpeg", "psnr", "psnr_flips", "flips_gain", "psnrb", "psnrb_flips",
           "ssim", "ssim_flips"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", nargs="+", default=["fbcnn_gray"])
    parser.add_argument("--sets", nargs="+", default=["live1_gray", "classic5"])
    parser.add_argument("--qfs", nargs="+", type=int, default=list(zoo.EVAL_QFS))
    args = parser.parse_args()
    rows = {(r["model"], r["set"], int(r["qf"])): r for r in read_csv(OUT)} if OUT.exists() else {}
    for name in args.models:
        entry = zoo.info(name)
        flips = zoo.evaluate(zoo.load(name, "cpu"), args.sets, args.qfs, flip_ensemble=True)
        for s in args.sets:
            for q in args.qfs:
                one, four = entry["metrics"][s][str(q)], flips[s][str(q)]
                assert abs(one["psnr_jpeg"] - four["psnr_jpeg"]) < 1e-3, "not the manifest's JPEG inputs"
                rows[(name, s, q)] = {"model": name, "sha256": entry["sha256"][:12], "set": s, "qf": q,
                                      "psnr_jpeg": one["psnr_jpeg"], "psnr": one["psnr"], "psnr_flips": four["psnr"],
                                      "flips_gain": round(four["psnr"] - one["psnr"], 4), "psnrb": one["psnrb"],
                                      "psnrb_flips": four["psnrb"], "ssim": one["ssim"], "ssim_flips": four["ssim"]}
                print(f"{name} {s} QF{q}: {one['psnr']:.3f} -> {four['psnr']:.3f} dB with the flips "
                      f"({four['psnr'] - one['psnr']:+.3f}; {four['psnr'] - one['psnr_jpeg']:+.3f} over JPEG)", flush=True)
    write_csv(sorted(rows.values(), key=lambda r: (r["model"], r["set"], int(r["qf"]))), OUT, COLUMNS)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
