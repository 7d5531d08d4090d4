"""Worked solutions to the exercises of notebook 11 (`notebooks/11_qgcn.ipynb`, QGCN).

Run from the repository root: ``python solutions/11_qgcn.py`` (the real sizes, a few minutes) or with
``--smoke`` (tiny sizes, no data set needed, well under a minute).
"""

from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from jarlib import zoo
from jarlib.data import demo_image, evaluation_source
from jarlib.evaluation import evaluate_restorer
from jarlib.jpeg import decode_bytes, encode_bytes, quant_table, read_quant_tables
from jarlib.metrics import psnr
from jarlib.models.qgcn import quant_map

from _run import run  # solutions/_run.py: the command line they share


def exercise_1(smoke: bool) -> None:
    """Where does the table saturate? For each QF from 1 to 30, count the luma and chroma entries at
    255. From which QF on is no entry saturated? Can the map tell QF 1 from QF 2?"""
    counts = {q: (int((quant_table(q) == 255).sum()), int((quant_table(q, chroma=True) == 255).sum())) for q in range(1, 31)}
    for q in (1, 2, 3, 5, 10, 20, 30):
        print(f"QF {q:2d}: {counts[q][0]:2d} luma and {counts[q][1]:2d} chroma entries at 255")
    free = {c: next(q for q in range(1, 31) if counts[q][c] == 0 and all(counts[p][c] == 0 for p in range(q, 31)))
            for c in (0, 1)}
    print(f"no saturated entry from QF {free[0]} on (luma), QF {free[1]} on (chroma)")
    same = int((quant_table(1) == quant_table(2)).sum())
    print(f"QF 1 and QF 2: {same} of 64 luma entries equal (every QF 1 entry is 255)")
    assert counts[1] == (64, 64) and counts[30] == (0, 0) and same > 48


def exercise_2(smoke: bool) -> None:
    """Block alignment: shift the map by 4 pixels against the image and measure the loss."""
    qgcn = zoo.load("qgcn_gray")
    _, clean, (top, left, h, w) = demo_image("monarch", 128)
    clean = clean[top:top + h, left:left + w]
    data = encode_bytes(clean, 20)
    x = torch.from_numpy(decode_bytes(data) / 255.0).float()[None, None]
    qmap = quant_map([read_quant_tables(data)[0]], *x.shape[-2:])[None]
    out = {}
    for label, m in (("aligned", qmap), ("shifted by 4", torch.roll(qmap, (4, 4), dims=(2, 3)))):
        with torch.no_grad():
            y = qgcn(x, m).clamp(0, 1)[0, 0].numpy()
        out[label] = psnr(clean, np.round(y * 255).astype(np.uint8))
    print(f"JPEG {psnr(clean, decode_bytes(data)):.2f} dB; QGCN with the map " + ", ".join(f"{k}: {v:.2f} dB" for k, v in out.items()))
    assert out["aligned"] > out["shifted by 4"]


def exercise_3(smoke: bool) -> None:
    """Information or just a channel? Feed qgcn_gray the table of QF 30 for every image, whatever its
    true QF, and compare the IPSNR with the true tables' across QF 10-90."""
    qgcn = zoo.load("qgcn_gray")
    qfs = [10, 50, 90] if smoke else [10, 20, 30, 40, 50, 60, 70, 80, 90]
    source, limit = evaluation_source("live1_gray"), (1 if smoke else None)
    fixed = lambda data: qgcn.restore(data, tables=[quant_table(30)])
    curves = {label: evaluate_restorer(f, source, qfs, "fbcnn_gray", limit=limit, progress=not smoke)
              for label, f in (("true tables", qgcn.restore), ("QF 30's table", fixed))}
    ip = {label: {q: s[str(q)]["psnr"] - s[str(q)]["psnr_jpeg"] for q in qfs} for label, s in curves.items()}
    for label, row in ip.items():
        print(f"{label:14s} " + "  ".join(f"QF {q} {v:+.2f}" for q, v in row.items()))
    assert ip["true tables"][90] > ip["QF 30's table"][90]          # the map must be the image's own
    assert ip["true tables"][10] > ip["QF 30's table"][10]


def exercise_4(smoke: bool) -> None:
    """Tables that are not IJG's: write a JPEG with a hand-made table (QF 30's, its high frequencies
    doubled) and restore it: the map follows the file."""
    qgcn = zoo.load("qgcn_gray")
    _, clean, _ = demo_image("monarch", 128)
    table = quant_table(30).astype(int)
    i, j = np.mgrid[:8, :8]
    table = np.where(i + j >= 8, np.minimum(2 * table, 255), table)
    buf = io.BytesIO()
    Image.fromarray(clean).save(buf, "JPEG", qtables=[table.flatten().tolist()])
    data = buf.getvalue()
    assert np.array_equal(read_quant_tables(data)[0], table)        # the file carries our table
    jpeg, restored = decode_bytes(data), qgcn.restore(data)
    print(f"custom table: JPEG {psnr(clean, jpeg):.2f} dB, QGCN {psnr(clean, restored):.2f} dB")
    assert psnr(clean, restored) > psnr(clean, jpeg)


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3, exercise_4], "tiny sizes, no data set needed")
