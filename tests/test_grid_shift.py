"""benchmarks/fbcnn_grid_shift.py: the shifted-grid evaluation crops what it should, and with no
shift scores the JPEG exactly as :func:`jarlib.evaluation.evaluate_restorer` does."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pytest

from jarlib.evaluation import evaluate_restorer

SCRIPT = Path(__file__).resolve().parents[1] / "benchmarks" / "fbcnn_grid_shift.py"


@pytest.fixture(scope="module")
def grid_shift():
    spec = importlib.util.spec_from_file_location("fbcnn_grid_shift", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def images() -> list[tuple[str, np.ndarray]]:
    rng = np.random.default_rng(0)
    y, x = np.mgrid[0:56, 0:72]
    smooth = 128 + 60 * np.sin(x / 7.0) * np.cos(y / 5.0)
    return [("a", np.clip(smooth + rng.normal(0, 8, smooth.shape), 0, 255).astype(np.uint8))]


def test_restorer_gets_the_cropped_decoded_jpeg(grid_shift, images):
    seen = []
    scores = grid_shift.shifted_scores(lambda px: seen.append(px.shape) or px, images, (4, 6), 20)
    assert seen == [(52, 66)]
    assert scores["psnr"] == pytest.approx(scores["psnr_jpeg"])   # an identity restorer is the JPEG
    assert scores["ssim"] == pytest.approx(scores["ssim_jpeg"])


def test_no_shift_matches_the_benchmark_evaluation(grid_shift, images):
    scores = grid_shift.shifted_scores(lambda px: px, images, (0, 0), 20)
    reference = evaluate_restorer(None, images, [20], "fbcnn_gray")["20"]
    assert scores["psnr_jpeg"] == pytest.approx(reference["psnr_jpeg"], abs=1e-9)
    assert scores["ssim_jpeg"] == pytest.approx(reference["ssim_jpeg"], abs=1e-9)
