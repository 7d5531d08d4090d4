"""Recipes (jarlib/recipes/): every zoo model has one and it says what the zoo recorded; `python -m
jarlib.zoo build` makes models from them end to end, here at two steps a stage, in a private zoo,
on a tiny data folder (so the test runs with or without the data sets): a one-stage model
(dcsc_gray), a model with an auxiliary network (cqr_ranker, then cqr_gray with it) and a chained
one (fbcnn_gray's six stages, from fbcnn_gray_small)."""

from __future__ import annotations

import json
import shutil
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch
from PIL import Image
from skimage import data

from jarlib import auxiliary, recipes, zoo
from jarlib.auxiliary import auxiliary_config
from jarlib.checkpoint import load_checkpoint
from jarlib.recipes import RECIPES, Recipe, Stage
from jarlib.train import RESUMABLE_KEYS, TrainConfig

QUICK = {"steps": 2, "val_images": 0, "batch": 2, "patch": 32, "ckpt_every": 0, "log_every": 1}


def test_every_zoo_model_has_its_recipe_and_the_manifest_names_it():
    entries = zoo.manifest()
    assert set(RECIPES) == set(entries)
    for name, e in entries.items():
        r = RECIPES[name]
        assert e["recipe"] == {"name": name, "hash": r.digest(), "stages": [s.name for s in r.stages]}, \
            f"{name}: the manifest's recipe is not jarlib/recipes' (rebuild it, or record the change)"
        assert e.get("kind", "restorer") == r.kind and e["command"] == f"python -m jarlib.zoo build {name}"


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_the_recipe_gives_the_config_the_zoo_recorded(name):
    """The last stage, declared here, is the run that made the stored weights (the settings that
    only change how a run is watched aside, and init_from, which the builder sets)."""
    last = RECIPES[name].stages[-1]
    recorded = zoo.info(name)["training"]["config"]
    if last.auxiliary:
        _, presets, _, _ = auxiliary.TRAINERS[last.network]
        assert auxiliary_config(presets, last.preset, last.steps, recorded["seed"]) == recorded
        return
    declared = last.config(init_from=None).to_dict()
    recorded = TrainConfig.from_dict(recorded).to_dict()          # settings added since: their defaults
    skip = RESUMABLE_KEYS | {"init_from"}
    assert {k: v for k, v in declared.items() if k not in skip} == {k: v for k, v in recorded.items() if k not in skip}


@pytest.mark.parametrize("name", sorted(RECIPES))
def test_dry_run_prints_every_stage(name, tmp_path, capsys):
    assert zoo.main(["build", name, "--dry-run", "--runs", str(tmp_path)]) == 0
    out = capsys.readouterr().out
    assert RECIPES[name].digest() in out and "estimated total: ~" in out
    for i, s in enumerate(RECIPES[name].stages, 1):
        assert f"{i}. {s.name}: " in out and f"{tmp_path}/{name}/{s.name}/" in out
    assert not (tmp_path / name).exists()      # a dry run trains nothing


def test_a_recipe_is_checked_when_declared():
    one = Stage("a", model="dncnn")
    with pytest.raises(ValueError, match="cannot start from the entry it builds"):
        Recipe("x", (replace(one, start="x"),))
    with pytest.raises(ValueError, match="not an earlier stage"):
        Recipe("x", (replace(one, start="@b"), Stage("b", model="dncnn")))
    with pytest.raises(ValueError, match="distinct"):
        Recipe("x", (one, one))
    with pytest.raises(ValueError, match="name a model or an auxiliary"):
        Recipe("x", (Stage("a"),))
    r = Recipe("x", (one,))
    assert r.digest() == Recipe("x", (replace(one, why="prose does not count"),)).digest()
    assert r.digest() != Recipe("x", (replace(one, overrides={"steps": 3}),)).digest()
    assert RECIPES["fbcnn_gray"].needs() == ["fbcnn_gray_small"]
    assert RECIPES["cqr_gray"].needs() == ["cqr_ranker"] and RECIPES["cqr_gray_mae"].needs() == []


# ------------------------------------------------------------------------------ building

@pytest.fixture
def private_zoo(tmp_path, monkeypatch) -> Path:
    """An empty zoo and a tiny data folder (Classic5 and BSDS500 train in their layout, small
    images) for this test only."""
    zdir = tmp_path / "zoo"
    (zdir / "weights").mkdir(parents=True)
    monkeypatch.setenv(zoo.ENV_VAR, str(zdir))
    root = tmp_path / "data"
    for sub, count, rgb in (("Classic5", 5, False), ("BSDS500/train", 200, True)):
        (root / sub).mkdir(parents=True)
        img = data.astronaut() if rgb else data.camera()
        for i in range(count):
            top, left = (i * 37) % 400, (i * 53) % 400
            Image.fromarray(np.ascontiguousarray(img[top:top + 64, left:left + 64])).save(root / sub / f"{i:03d}.png")
    monkeypatch.setenv("JARLIB_DATA", str(root))
    return zdir


def test_build_a_one_stage_model_end_to_end(private_zoo, tmp_path, capsys):
    runs = tmp_path / "runs"
    args = ["build", "dcsc_gray", "--runs", str(runs), "--sets", "classic5", "--qfs", "10", "-q",
            "--set", *(f"{k}={v}" for k, v in QUICK.items())]
    assert zoo.main(args) == 0
    e = zoo.info("dcsc_gray")
    (stage,) = [s.name for s in RECIPES["dcsc_gray"].stages]
    assert e["recipe"] == {"name": "dcsc_gray", "hash": RECIPES["dcsc_gray"].digest(), "stages": [stage]}
    assert e["training"]["steps"] == 2 and e["training"]["config"]["out"] == str(runs / "dcsc_gray" / stage)
    assert e["command"].startswith("python -m jarlib.zoo build dcsc_gray --set steps=2")
    assert e["metrics"]["classic5"]["images"] == 5 and e["sha256"] == zoo.sha256(private_zoo / e["file"])
    assert zoo.load("dcsc_gray", "cpu").num_parameters() == e["parameters"]
    capsys.readouterr()
    assert zoo.main(args) == 2                                   # it exists: replaced only when asked
    assert "--replace" in capsys.readouterr().err
    ckpt = runs / "dcsc_gray" / stage / "checkpoint.pt"
    before = load_checkpoint(ckpt)["seconds"]
    assert zoo.main([*args, "--replace"]) == 0                   # the finished stage is not trained again
    assert load_checkpoint(ckpt)["seconds"] == before and f"{stage}: done" in capsys.readouterr().out


def test_an_interrupted_add_leaves_the_zoo_as_it_was(private_zoo, tmp_path, monkeypatch):
    """The new weights are measured before they replace the old: stopping the measurement (Ctrl-C, a
    crash) leaves the old file, its manifest entry and no stray file."""
    from jarlib.zoo import records

    runs = tmp_path / "runs"
    zoo.build("dcsc_gray", runs, QUICK, sets=["classic5"], qfs=(10,), progress=False)
    before = (zoo.info("dcsc_gray"), (private_zoo / "weights" / "dcsc_gray.pt").read_bytes())
    ckpt = next((runs / "dcsc_gray").glob("*/checkpoint.pt"))
    state = load_checkpoint(ckpt)
    state["model"] = {k: v + 1 if v.is_floating_point() else v for k, v in state["model"].items()}
    other = tmp_path / "other.pt"
    torch.save(state, other)

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    monkeypatch.setattr(records, "evaluate", interrupted)
    with pytest.raises(KeyboardInterrupt):
        zoo.add("dcsc_gray", other, "python -m jarlib.zoo build dcsc_gray", sets=["classic5"], qfs=(10,))
    assert (zoo.info("dcsc_gray"), (private_zoo / "weights" / "dcsc_gray.pt").read_bytes()) == before
    assert sorted(p.name for p in (private_zoo / "weights").iterdir()) == ["dcsc_gray.pt"]
    zoo.load("dcsc_gray", "cpu")                                    # still loads: file and SHA-256 agree


def test_build_a_model_with_its_auxiliary_network(private_zoo, tmp_path, monkeypatch):
    """cqr_gray needs the zoo's cqr_ranker: built first from its own recipe, then used in training."""
    monkeypatch.setitem(auxiliary.MEASURES, "cqr_ranker",
                        lambda net: auxiliary.evaluate_ranker(net, [data.camera()[:96, :96]], qfs=(10, 20), per_image=1))
    runs = tmp_path / "runs"
    with pytest.raises(zoo.ZooError, match="cqr_ranker"):       # the ranker is not in this zoo yet
        zoo.build("cqr_gray", runs, QUICK, sets=["classic5"], qfs=(10,), progress=False)
    assert not (runs / "cqr_gray").exists()                        # and nothing trained before saying so
    ranker = zoo.build("cqr_ranker", runs, {"steps": 2}, progress=False)
    assert ranker["kind"] == "cqr_ranker" and ranker["training"]["steps"] == 2
    e = zoo.build("cqr_gray", runs, QUICK, sets=["classic5"], qfs=(10,), progress=False)
    assert e["recipe"]["stages"] == ["stage1", "qf3", "deep", "finish"] and e["model_args"]["pairs"] == 2
    hist = json.loads((runs / "cqr_gray" / "stage1" / "history.json").read_text())["history"]["train"]
    assert {"cqr_q", "cqr_f"} <= set(hist[-1])                      # trained with the ranker's losses
    qf3 = load_checkpoint(runs / "cqr_gray" / "qf3" / "checkpoint.pt")["config"]
    assert qf3["init_from"] == str(runs / "cqr_gray" / "stage1" / "checkpoint.pt") and qf3["qf_choices"] == [10, 20, 30]
    assert e["training"]["cpu_minutes_total"] >= e["training"]["cpu_minutes"]


def test_build_a_chained_model_from_another_zoo_model(private_zoo, tmp_path):
    """fbcnn_gray: six stages from the zoo's fbcnn_gray_small, the later ones from the earlier ones'
    weights as the zoo stores them (fp16)."""
    small = json.loads((zoo.ZOO_DIR / "manifest.json").read_text())["fbcnn_gray_small"]
    shutil.copy(zoo.ZOO_DIR / small["file"], private_zoo / small["file"])
    (private_zoo / "manifest.json").write_text(json.dumps({"fbcnn_gray_small": small}))
    runs = tmp_path / "runs"
    e = zoo.build("fbcnn_gray", runs, QUICK, sets=["classic5"], qfs=(10,), progress=False)
    stages = [s.name for s in RECIPES["fbcnn_gray"].stages]
    assert e["recipe"]["stages"] == stages and e["model_args"]["channels"] == [32, 64, 128, 192]
    assert e["training"]["init_weights"] == {"from": "fbcnn_gray_small", "sha256": small["sha256"]}
    assert e["training"]["cpu_minutes_total"] >= small["training"]["cpu_minutes_total"]
    first = load_checkpoint(runs / "fbcnn_gray" / "wider" / "checkpoint.pt")["config"]
    assert first["init_from"] == "fbcnn_gray_small"
    for earlier, later in zip(stages, stages[1:]):
        cfg = load_checkpoint(runs / "fbcnn_gray" / later / "checkpoint.pt")["config"]
        assert Path(cfg["init_from"]).parent == runs / "fbcnn_gray" / earlier
    stored = torch.load(runs / "fbcnn_gray" / "l2_third" / "stored.pt", weights_only=True)
    assert all(v.dtype == torch.float16 for v in stored.values() if v.is_floating_point())
    assert zoo.manifest()["fbcnn_gray_small"] == small                  # what it started from is untouched


def test_recipes_module_lists_every_paper():
    assert {r.stages[0].model or r.stages[0].network for r in recipes.RECIPES.values()} >= {
        "dcsc", "dncnn", "arcnn", "fbcnn", "qgcn", "cqr", "dualpriors", "ranker", "classifier"}
