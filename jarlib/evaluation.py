"""Evaluate a restorer on a test set at given QFs, the way the papers score it.

Every image is JPEG-compressed by libjpeg (Pillow) at each QF, the *file's bytes* go to
``model.restore`` (so models that read the QF or the tables from the file get them), and the
result is scored against the clean image with one of :data:`jarlib.metrics.CONVENTIONS`
(default ``fbcnn_gray``: MATLAB Y, SSIM Gaussian 11x11, PSNR-B with fractional counts — FBCNN
Table 1, where the ARCNN and DnCNN rows this project compares with come from).
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any, Optional

import numpy as np

from jarlib import metrics
from jarlib.color import rgb_to_y
from jarlib.data import load_dataset
from jarlib.data.degrade import MAX_SHIFT
from jarlib.jpeg import compress, decode_bytes, encode_bytes
from jarlib.progress import bar


def evaluate_restorer(restore: Optional[Callable[[bytes], np.ndarray]], dataset: str | Sequence[tuple[str, np.ndarray]],
                      qfs: Sequence[int] = (10, 20, 30, 40), convention: str = "fbcnn_gray",
                      limit: Optional[int] = None, per_image: bool = False,
                      also_ssim: Sequence[str] = (), progress: Optional[bool] = None) -> dict[str, Any]:
    """Mean PSNR / SSIM / PSNR-B of ``restore`` (and of the JPEG input) per QF.

    Args:
        restore: JPEG bytes -> uint8 image (e.g. ``model.restore``); ``None`` scores the JPEG only.
        dataset: a registry name (``"live1_gray"``, ``"classic5"``) or ``(name, image)`` pairs.
        qfs: IJG qualities.
        convention: a :data:`jarlib.metrics.CONVENTIONS` name; gray conventions compress the gray image.
        limit: only the first ``limit`` images (quick looks; not comparable with the papers).
        per_image: also return every image's scores.
        also_ssim: more SSIM windows to report as ``ssim_<window>`` (e.g. ``("uniform8",)``: the
            papers disagree on the window, and it moves SSIM by 0.01-0.02).
        progress: a bar over images x QFs (default on; ``JARLIB_PROGRESS=0`` turns all off).

    Returns ``{"10": {"psnr", "ssim", "psnrb", "psnr_jpeg", "ssim_jpeg", "psnrb_jpeg", "seconds"}, ...,
    "images": n}`` (+ ``"per_image"``); ``seconds`` is the mean restore time per image.
    """
    conv = metrics.CONVENTIONS.get(convention)
    if conv is None:
        raise ValueError(f"unknown convention {convention!r}; known: {', '.join(metrics.CONVENTIONS)}")
    if isinstance(dataset, str):
        images = load_dataset(dataset, mode="rgb" if conv.color else "gray", limit=limit)
    else:
        images = list(dataset)[:limit]
    if not images:
        raise ValueError("no images to evaluate")
    result: dict[str, Any] = {"images": len(images)}
    rows = []
    counter = bar(total=len(qfs) * len(images), desc=f"evaluating on {dataset if isinstance(dataset, str) else 'images'}",
                  unit="image", progress=progress)
    for q in qfs:
        acc: dict[str, list[float]] = {}
        counter.set_postfix_str(f"QF {q}")
        for name, clean in images:
            counter.update()
            data = encode_bytes(clean, int(q))
            jpeg = decode_bytes(data).reshape(clean.shape)
            scored = {"_jpeg": jpeg}
            if restore is not None:
                t0 = time.perf_counter()
                scored[""] = restore(data)
                acc.setdefault("seconds", []).append(time.perf_counter() - t0)
            for suffix, img in scored.items():
                m = metrics.evaluate(clean, img, convention)
                for window in also_ssim:
                    m[f"ssim_{window}"] = metrics.ssim(_scored_planes(clean, conv.color),
                                                       _scored_planes(img, conv.color), window)
                for k, v in m.items():
                    acc.setdefault(k + suffix, []).append(float(v))
                if per_image:
                    rows.append({"image": name, "qf": int(q), "which": "jpeg" if suffix else "model",
                                 **{k: float(v) for k, v in m.items()}})
        result[str(q)] = {k: float(np.mean(v)) for k, v in acc.items()}
    counter.close()
    if per_image:
        result["per_image"] = rows
    return result


def evaluate_double(restore: Optional[Callable[[bytes], np.ndarray]], dataset: str | Sequence[tuple[str, np.ndarray]],
                    pairs: Sequence[tuple[int, int]], shift: tuple[int, int] = (4, 4),
                    convention: str = "fbcnn_gray", limit: Optional[int] = None,
                    progress: Optional[bool] = None) -> dict[str, Any]:
    """Like :func:`evaluate_restorer`, on FBCNN's non-aligned double JPEG (paper §3.3, Table 3).

    Each clean image is compressed at QF1, its first ``shift = (i, j)`` rows and columns are
    dropped, and the rest is compressed at QF2; ``restore`` gets that second file's bytes and is
    scored against ``clean[i:, j:]`` (the official test script crops the ground truth the same way).
    Returns ``{"QF1,QF2": {"psnr", ..., "psnr_jpeg", ...}, ..., "images": n}``.
    """
    conv = metrics.CONVENTIONS.get(convention)
    if conv is None:
        raise ValueError(f"unknown convention {convention!r}; known: {', '.join(metrics.CONVENTIONS)}")
    i, j = (int(v) for v in shift)
    if not (0 <= i <= MAX_SHIFT and 0 <= j <= MAX_SHIFT):
        raise ValueError(f"shift must be two integers in 0..{MAX_SHIFT}, got {shift}")
    images = (load_dataset(dataset, mode="rgb" if conv.color else "gray", limit=limit)
              if isinstance(dataset, str) else list(dataset)[:limit])
    if not images:
        raise ValueError("no images to evaluate")
    result: dict[str, Any] = {"images": len(images)}
    counter = bar(total=len(pairs) * len(images), desc="evaluating double JPEG", unit="image", progress=progress)
    for q1, q2 in pairs:
        acc: dict[str, list[float]] = {}
        counter.set_postfix_str(f"QF {q1} then {q2}")
        for _, clean in images:
            counter.update()
            ref = np.ascontiguousarray(clean[i:, j:])
            data = encode_bytes(np.ascontiguousarray(compress(clean, int(q1))[i:, j:]), int(q2))
            scored = {"_jpeg": decode_bytes(data).reshape(ref.shape)}
            if restore is not None:
                scored[""] = restore(data)
            for suffix, img in scored.items():
                for k, v in metrics.evaluate(ref, img, convention).items():
                    acc.setdefault(k + suffix, []).append(float(v))
        result[f"{q1},{q2}"] = {k: float(np.mean(v)) for k, v in acc.items()}
    counter.close()
    return result


def qf_prediction_error(predict_qf: Callable[[bytes], float], dataset: str | Sequence[tuple[str, np.ndarray]],
                        qfs: Sequence[int] = tuple(range(10, 91, 10)), limit: Optional[int] = None,
                        mode: Optional[str] = None, pairs: bool = False,
                        progress: Optional[bool] = None) -> dict[str, Any]:
    """How well a QF predictor reads the quality (FBCNN §3.2; the zoo records it for FBCNN models).

    Every image compressed (Pillow) at every QF in ``qfs`` and handed to ``predict_qf`` as JPEG bytes
    (e.g. ``model.predict_qf``). ``mode``: ``"gray"`` / ``"rgb"``, default the set's own.
    Returns ``{"qfs", "images", "mae", "mae_by_qf": {"10": ...}, "mae_constant"}``, QF units;
    ``mae_constant`` is the error of always answering the median QF (a predictor that learned
    nothing); ``pairs=True`` adds ``"truth"`` and ``"guess"`` (one entry per image and QF) for a scatter.
    """
    qfs = [int(q) for q in qfs]
    if not qfs or not all(1 <= q <= 100 for q in qfs):
        raise ValueError(f"qfs must be IJG qualities in 1..100, got {qfs}")
    images = load_dataset(dataset, mode=mode, limit=limit) if isinstance(dataset, str) else list(dataset)[:limit]
    if not images:
        raise ValueError("no images to evaluate")
    truth = np.array([q for _ in images for q in qfs], dtype=np.float64)
    jobs = bar([(clean, q) for _, clean in images for q in qfs], desc="predicting QFs", unit="file", progress=progress)
    guess = np.array([float(predict_qf(encode_bytes(clean, q))) for clean, q in jobs])
    error = np.abs(guess - truth)
    result: dict[str, Any] = {
        "qfs": qfs, "images": len(images), "mae": round(float(error.mean()), 3),
        "mae_by_qf": {str(q): round(float(error[truth == q].mean()), 3) for q in qfs},
        "mae_constant": round(float(np.abs(np.median(truth) - truth).mean()), 3)}
    if pairs:
        result.update(truth=truth.tolist(), guess=guess.tolist())
    return result


def _scored_planes(img: np.ndarray, color: bool) -> np.ndarray:
    """What a convention scores: the image itself (colour) or its MATLAB Y (gray)."""
    return img if color or img.ndim == 2 else rgb_to_y(img)
