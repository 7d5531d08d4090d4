"""Worked solutions to the exercises of notebooks/91_explorer.ipynb (for teachers).

    python solutions/91_explorer.py            # the real sizes (about a minute on 2 cores)
    python solutions/91_explorer.py --smoke    # a quick pass on small crops (the tests run this)

Each exercise is a function that computes what the student should find with the explorer's own
functions (``jarlib.explorer``: ``degrade``, ``restore_all``, ``scores``), prints it and checks it.
"""

from __future__ import annotations

import numpy as np

from jarlib import zoo
from jarlib.data import sample_images
from jarlib.explorer import Scene, degrade, restore_all, scores

from _run import run  # solutions/_run.py: the command line they share


def _gain(clean: np.ndarray, scene: Scene, models: dict) -> dict[str, float]:
    """PSNR gain over the JPEG of each model of ``scene`` on ``clean``."""
    data, reference = degrade(clean, scene)
    s = scores(reference, restore_all(data, scene, models))
    return {k: s[k] - s["JPEG"] for k in s if k != "JPEG"}


def _camera(smoke: bool) -> np.ndarray:
    img = sample_images("gray")["camera"]
    return img[128:256, 128:256] if smoke else img


def exercise_1(smoke: bool) -> None:
    """Find an image and a QF where two models disagree most, and explain why from their training."""
    clean = _camera(smoke)
    names = ("dcsc_gray", "fbcnn_gray")
    models = {n: zoo.load(n) for n in names}
    rows = []
    for qf in (10, 40, 80):
        g = _gain(clean, Scene(qf=qf, models=names), models)
        rows.append((qf, g[names[0]], g[names[1]]))
        print(f"QF {qf:2d}: {names[0]} {g[names[0]]:+.2f} dB, {names[1]} {g[names[1]]:+.2f} dB")
    spread = {qf: abs(a - b) for qf, a, b in rows}
    worst = max(spread, key=spread.get)
    trained = {n: zoo.info(n)["training"]["config"]["qf_range"] for n in names}
    print(f"they disagree most at QF {worst}; trained on QF " +
          ", ".join(f"{lo}-{hi} ({n})" for n, (lo, hi) in trained.items()))
    assert all(np.isfinite(v) for v in spread.values())
    # Outside DCSC's training range (QF 80) FBCNN, which saw such files, does at least as well.
    assert trained["dcsc_gray"][1] < 80 <= trained["fbcnn_gray"][1]
    assert rows[-1][2] >= rows[-1][1] - 0.05


def exercise_2(smoke: bool) -> None:
    """Your own JPEG photo: which model, and which FBCNN QF? (Here: a photo saved at QF 30.)"""
    from jarlib.jpeg import encode_bytes

    clean = _camera(smoke)
    fbcnn = zoo.load("fbcnn_gray")
    data = encode_bytes(clean, 30)
    guess = float(fbcnn.predict_qf(data))
    print(f"FBCNN's own estimate of the QF: {guess:.0f} (the file was saved at QF 30)")
    gains = {knob: _gain(clean, Scene(qf=30, models=("fbcnn_gray",), fbcnn_qf=knob), {"fbcnn_gray": fbcnn})
             ["fbcnn_gray"] for knob in (10, 30, 90)}
    for knob, g in gains.items():
        print(f"knob {knob:2d}: {g:+.2f} dB over the JPEG")
    assert abs(guess - 30) < 15, "the blind estimate should land near the true QF"
    assert gains[30] >= gains[90] - 0.05, "telling FBCNN the true QF should beat telling it 'almost clean'"


def exercise_3(smoke: bool) -> None:
    """Double JPEG (QF 10, then QF 30): at which shifts does the blind model fail?"""
    clean = _camera(smoke)
    model = {"fbcnn_gray": zoo.load("fbcnn_gray")}
    shifts = (0, 4) if smoke else range(8)
    gains = {s: _gain(clean, Scene(qf=30, double=True, qf1=10, shift=(s, s), models=("fbcnn_gray",)), model)
             ["fbcnn_gray"] for s in shifts}
    for s, g in gains.items():
        print(f"shift {s}: {g:+.2f} dB")
    print("aligned (shift 0) the first JPEG's blocks sit on the second's grid and the blind model handles"
          " them; shifted, they fall inside the blocks and the gain drops (FBCNN §3.3)")
    assert gains[0] > gains[4]


if __name__ == "__main__":
    run(__doc__, [exercise_1, exercise_2, exercise_3], "small crops: a quick check")
