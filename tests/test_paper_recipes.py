"""Paper recipes (jarlib.recipes.PAPER_RECIPES): one per model, at the paper's size, on the paper's
data; `zoo build NAME --recipe paper --dry-run` says what it needs and what it would cost, and the
build itself runs end to end (here one step a stage, on a tiny data folder in the papers' layout)."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from jarlib import models, recipes, zoo
from jarlib.data import DATASETS
from jarlib.recipes import PAPER_RECIPES
from jarlib.recipes.cost import GPU_CLASSES, counted_lines, gpu_hours, step_flops

ONE_STEP = {"steps": 1, "patch": 32, "batch": 2, "val_images": 0, "ckpt_every": 0, "log_every": 1}


def test_every_model_has_a_paper_recipe_at_the_papers_size():
    trained = {s.model for r in PAPER_RECIPES.values() for s in r.stages if s.model}
    assert trained == set(models.MODELS)
    for r in PAPER_RECIPES.values():
        assert r.paper and r.source and r.name.endswith("_paper")
        assert all(s.preset == "paper" for s in r.stages), r.name
        assert set(r.train_sets()) <= set(DATASETS)
    assert PAPER_RECIPES["fbcnn_paper"].train_sets() == ["div2k_train", "flickr2k"]
    assert recipes.get("fbcnn_gray", "paper") is recipes.get("fbcnn", "paper") is PAPER_RECIPES["fbcnn_paper"]
    with pytest.raises(ValueError, match="no paper recipe for 'cqr_ranker'"):
        recipes.get("cqr_ranker", "paper")


def test_the_counted_cost_is_the_networks_multiply_adds():
    r = PAPER_RECIPES["dcsc_paper"]
    (stage,) = r.stages
    mdl = models.build("dcsc", **models.presets("dcsc")["paper"]["model_args"])
    assert step_flops(r, stage) == pytest.approx(6 * mdl.macs_per_pixel(80) * 80 * 80 * 10)
    assert gpu_hours(0.3 * 1e15 * 3600 * 2, gpus=2, peak=1e15) == pytest.approx(1.0)   # at UTILISATION = 0.3
    assert any(name in line for line in counted_lines(r) for name in GPU_CLASSES)


@pytest.mark.parametrize("name", sorted(PAPER_RECIPES))
def test_dry_run_names_the_data_and_the_cost(name, tmp_path, capsys):
    model = next(s.model for s in PAPER_RECIPES[name].stages if s.model)
    assert zoo.main(["build", model, "--recipe", "paper", "--dry-run", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    r = PAPER_RECIPES[name]
    for i, s in enumerate(r.stages, 1):
        assert f"{i}. {s.name}: " in out and f"{tmp_path}/{name}/{s.name}/" in out
    for s in r.train_sets():
        assert f"{s} (installed)" in out or f"{s} (not installed)" in out
    assert "from the paper: " in out and "counted: " in out and "H100 SXM: ~" in out and "on eight" in out
    assert not (tmp_path / name).exists()


@pytest.fixture
def paper_data(tmp_path, monkeypatch) -> Path:
    """An empty zoo and a data folder with every set in the registry's layout and count, each image
    a 136x136 crop (big enough for the rankers' 128-pixel patches; the sets' real images are 2K)."""
    zdir = tmp_path / "zoo"
    (zdir / "weights").mkdir(parents=True)
    monkeypatch.setenv(zoo.ENV_VAR, str(zdir))
    root = tmp_path / "data"
    crops = []
    for k in range(8):
        img = data.astronaut() if k % 2 else np.stack([data.camera()] * 3, axis=-1)
        buf = io.BytesIO()
        Image.fromarray(np.ascontiguousarray(img[40 * k:40 * k + 136, 30 * k:30 * k + 136])).save(buf, "PNG")
        crops.append(buf.getvalue())
    for info in DATASETS.values():
        folder = root / info.subdir
        folder.mkdir(parents=True)
        for i in range(info.count):
            (folder / f"{i:04d}.png").write_bytes(crops[i % len(crops)])
    monkeypatch.setenv("JARLIB_DATA", str(root))
    return zdir


@pytest.mark.parametrize("name", sorted(PAPER_RECIPES))
def test_every_paper_recipe_builds_one_step_a_stage(name, paper_data, tmp_path):
    entry = zoo.build(name, tmp_path / "runs", ONE_STEP, sets=["classic5"], qfs=(10,), progress=False,
                      recipe="paper", say=lambda line: None)
    r = PAPER_RECIPES[name]
    assert entry["recipe"] == {"name": name, "hash": r.digest(), "stages": [s.name for s in r.stages]}
    assert entry["command"].startswith(f"python -m jarlib.zoo build {name} --recipe paper --set steps=1")
    last = r.stages[-1].config(init_from=None)
    assert entry["parameters"] == models.build(last.model, **last.model_args).num_parameters()   # the paper's size
    assert entry["training"]["config"]["train_set"] == last.train_set
    assert entry["metrics"]["classic5"]["10"]["psnr"] > 0


def test_estimate_times_every_stage_here(paper_data, capsys):
    """On the CPU: 3 steps a stage at 2 patches, scaled to the recipe's batch; an earlier stage's network
    (Dual priors' classifier, "@classifier") stands in untrained, at its size."""
    assert zoo.main(["build", "dualpriors", "--recipe", "paper", "--estimate"]) == 0
    out = capsys.readouterr().out
    r = PAPER_RECIPES["dualpriors_paper"]
    assert "counted: " in out and "timing 3 steps per stage on the CPU" in out
    for s in r.stages:
        assert f"  {s.name}: " in out and f"h for {s.train_steps():,} steps" in out
    assert "(timed at 2 patches, scaled to 10)" in out and "timed here: ~" in out
    assert not (Path("runs") / "dualpriors_paper").exists()          # nothing trained into runs/


def test_the_paper_recipes_table_is_what_the_recipes_give():
    """benchmarks/results/paper_recipes.md (linked from docs/reproduce.md) is regenerated, not typed."""
    import subprocess
    import sys

    root = Path(__file__).resolve().parents[1]
    proc = subprocess.run([sys.executable, "benchmarks/paper_recipes.py", "--check"], cwd=root, capture_output=True,
                          text=True, timeout=600)
    assert proc.returncode == 0, proc.stdout + proc.stderr
