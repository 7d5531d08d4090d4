"""QGCN's Fig. 6 on LIVE1 gray: the gain over the JPEG input (IPSNR) of QGCN, QCN (no global branch)
and QGCN without the quantization map, at QF 5-90 (the models trained on QF 1-60, so QF 70-90 were
never seen). The same computation as notebook 11, section 5.

    python benchmarks/qgcn_qf_sweep.py            # about 5 minutes on 2 cores
    python benchmarks/qgcn_qf_sweep.py --limit 3

Writes ``benchmarks/results/qgcn_qf_sweep.csv`` (one row per model and QF) and prints, per QF,
whether the map helps (QGCN vs the same network without it).
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

from jarlib import zoo
from jarlib.bench import write_csv
from jarlib.evaluation import evaluate_restorer

OUT = Path(__file__).resolve().parent / "results" / "qgcn_qf_sweep.csv"
MODELS = {"QGCN": "qgcn_gray", "QCN": "qcn_gray", "QGCN without the map": "qgcn_gray_noqm"}
QFS = [5, 10, 15, 20, 30, 40, 50, 60, 70, 80, 90]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--limit", type=int, help="first N LIVE1 images only")
    args = parser.parse_args()
    rows, gains = [], {}
    for label, name in MODELS.items():
        t0 = time.perf_counter()
        s = evaluate_restorer(zoo.load(name).restore, "live1_gray", QFS, "fbcnn_gray", limit=args.limit)
        gains[label] = {q: s[str(q)]["psnr"] - s[str(q)]["psnr_jpeg"] for q in QFS}
        for q in QFS:
            r = s[str(q)]
            rows.append({"model": name, "label": label, "qf": q, "images": s["images"], "psnr": round(r["psnr"], 4),
                         "psnr_jpeg": round(r["psnr_jpeg"], 4), "ipsnr": round(r["psnr"] - r["psnr_jpeg"], 4),
                         "seen_in_training": q <= 60})
        print(f"{label:22s} " + " ".join(f"{gains[label][q]:+.2f}" for q in QFS) + f"   ({time.perf_counter() - t0:.0f} s)")
    print(f"{'QF':22s} " + " ".join(f"{q:5d}" for q in QFS))
    wins = [q for q in QFS if gains["QGCN"][q] > gains["QGCN without the map"][q]]
    print(f"the map helps at QF {wins} ({len(wins)} of {len(QFS)})")
    write_csv(rows, OUT, list(rows[0]))
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
