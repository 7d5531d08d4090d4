"""The training engine: learning, exact resume, checkpoints, config and CLI errors.

Uses scikit-image's bundled photos and tiny models, so it needs no data set and runs in seconds.
"""

import json
import math
import os

import pytest
import torch

from jarlib import train as T
from jarlib.data import sample_images
from jarlib.models import presets

IMAGES = sample_images("gray")
VAL = [("camera", IMAGES["camera"][:64, :64])]


def tiny_config(tmp_path=None, **overrides):
    base = dict(model_args={"features": 8, "depth": 3, "unshuffle": 2}, patch=32, batch=4, steps=12,
                lr=2e-3, warmup=2, val_images=1, val_crop=64, val_qfs=(10,), val_every=6, ckpt_every=4,
                log_every=2, progress=False, out=str(tmp_path / "run") if tmp_path else None, threads=1)
    base.update(overrides)
    return T.TrainConfig.from_preset("dncnn", "cpu", **base)


def run(cfg, **kw):
    return T.train(cfg, images=IMAGES, val_images=VAL, **kw)


def test_a_few_steps_reduce_the_loss():
    cfg = tiny_config(steps=40, log_every=10, val_every=0, ckpt_every=0)
    hist = run(cfg).history["train"]
    assert len(hist) == 4 and hist[0]["step"] == 10
    assert hist[-1]["loss"] < 0.5 * hist[0]["loss"]
    assert all(math.isfinite(h["psnr"]) and h["seconds"] > 0 for h in hist)


def test_resume_is_exact(tmp_path):
    straight = run(tiny_config(tmp_path / "a"))
    part = run(tiny_config(tmp_path / "b"), stop_after=5)
    assert part.step == 5
    assert T.load_checkpoint(tmp_path / "b" / "run" / "checkpoint.pt")["step"] == 5
    resumed = run(tiny_config(tmp_path / "b"), resume=True)
    assert resumed.step == straight.step == 12
    a, b = straight.model.state_dict(), resumed.model.state_dict()
    assert a.keys() == b.keys()
    for k in a:
        assert torch.equal(a[k], b[k]), k
    strip = lambda h: [{k: v for k, v in e.items() if k != "seconds"} for e in h]
    assert strip(straight.history["train"]) == strip(resumed.history["train"])
    assert strip(straight.history["val"]) == strip(resumed.history["val"])
    assert [v["step"] for v in straight.history["val"]] == [6, 12]


def test_resume_of_a_finished_run_does_nothing(tmp_path):
    first = run(tiny_config(tmp_path))
    again = run(tiny_config(tmp_path), resume=True)
    assert again.step == first.step
    for k, v in first.model.state_dict().items():
        assert torch.equal(v, again.model.state_dict()[k])


def test_checkpoint_holds_everything(tmp_path):
    run(tiny_config(tmp_path))
    ckpt = T.load_checkpoint(tmp_path / "run" / "checkpoint.pt")
    assert {"model", "optimizer", "scheduler", "step", "rng", "config", "history", "seconds"} <= set(ckpt)
    assert ckpt["config"] == tiny_config(tmp_path).to_dict()
    assert [p.name for p in (tmp_path / "run").iterdir()] == ["checkpoint.pt"]  # no temporary left


def test_corrupt_checkpoint_is_a_clear_error(tmp_path):
    run(tiny_config(tmp_path), stop_after=4)
    path = tmp_path / "run" / "checkpoint.pt"
    data = path.read_bytes()
    path.write_bytes(data[: len(data) // 2])  # a half-written file (what atomic writes prevent)
    with pytest.raises(T.CheckpointError, match="corrupt"):
        run(tiny_config(tmp_path), resume=True)
    path.write_bytes(b"garbage")
    with pytest.raises(T.CheckpointError, match="corrupt"):
        T.load_checkpoint(path)
    torch.save({"weights": torch.zeros(1)}, path)
    with pytest.raises(T.CheckpointError, match="not a jarlib training checkpoint"):
        T.load_checkpoint(path)
    with pytest.raises(T.CheckpointError, match="no checkpoint"):
        T.load_checkpoint(tmp_path / "missing.pt")


def test_mismatched_checkpoint_lists_differences(tmp_path):
    run(tiny_config(tmp_path), stop_after=4)
    with pytest.raises(T.CheckpointError, match=r"lr: 0.002 -> 0.001"):
        run(tiny_config(tmp_path, lr=1e-3), resume=True)
    # watching settings may change on resume
    run(tiny_config(tmp_path, log_every=3, val_every=0), resume=True)


def test_atomic_save_leaves_old_file_on_failure(tmp_path, monkeypatch):
    path = tmp_path / "ck.pt"
    T.save_checkpoint(path, {"format": T.CHECKPOINT_FORMAT, "x": 1})

    def boom(*a, **k):
        raise OSError("disk full")

    monkeypatch.setattr(torch, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        T.save_checkpoint(path, {"format": T.CHECKPOINT_FORMAT, "x": 2})
    assert T.load_checkpoint(path)["x"] == 1
    assert os.listdir(tmp_path) == ["ck.pt"]


def test_learning_rate_schedules():
    cfg = tiny_config(steps=100, warmup=10, lr=1.0, lr_min=0.1)
    assert T.learning_rate(cfg, 0) == pytest.approx(0.1)
    assert T.learning_rate(cfg, 9) == pytest.approx(1.0)
    assert T.learning_rate(cfg, 10) == pytest.approx(1.0)
    assert T.learning_rate(cfg, 100) == pytest.approx(0.1)
    assert T.learning_rate(cfg, 55) == pytest.approx(0.55)
    step = tiny_config(schedule="step", milestones=(20, 50), gamma=0.1, warmup=0, lr=1.0)
    assert [T.learning_rate(step, s) for s in (0, 19, 20, 50)] == pytest.approx([1, 1, 0.1, 0.01])


def test_losses_compose():
    assert T.parse_loss("l1") == [(1.0, "l1")]
    assert T.parse_loss("0.5*l1 + l2") == [(0.5, "l1"), (1.0, "l2")]
    batch = T.Batch(torch.zeros(1, 1, 4, 4), torch.ones(1, 1, 4, 4), torch.zeros(1))
    total, parts = T.compose_loss("0.5*l1+l2")(torch.zeros(1, 1, 4, 4), batch)
    assert float(total) == pytest.approx(1.5) and parts == {"l1": 1.0, "l2": 1.0}
    with pytest.raises(ValueError, match="unknown loss"):
        T.parse_loss("l3")
    with pytest.raises(ValueError, match="bad loss term"):
        T.parse_loss("l1 * 2")


@pytest.mark.parametrize("key, value, match", [
    ("qf_range", (60, 10), "qf_range"), ("batch", 0, "batch"), ("mode", "cmyk", "mode"),
    ("amp", "int8", "amp"), ("schedule", "linear", "schedule"), ("loss", "ssim", "unknown loss"),
    ("qf_choices", [], "qf_choices"), ("qf_choices", [10, 101], "qf_choices"),
])
def test_bad_config_is_named(key, value, match):
    with pytest.raises(ValueError, match=match):
        tiny_config(**{key: value})


def test_qf_choices_draw_only_the_listed_qualities():
    """``qf_choices`` (a paper's fixed QFs, e.g. CQR's 10/20/30) replaces the ``qf_range`` draw."""
    cfg = tiny_config(qf_choices=[10, 30], steps=50)
    assert cfg.qf_choices == (10, 30) and list(cfg.to_dict()["qf_choices"]) == [10, 30]
    data = T.make_dataset(cfg, images=IMAGES)
    drawn = {round(float(data[i][2]) * 100) for i in range(40)}
    assert drawn == {10, 30}
    assert {round(float(T.make_dataset(tiny_config(), images=IMAGES)[i][2]) * 100) for i in range(40)} > {10, 30}


def test_unknown_preset_and_key():
    with pytest.raises(ValueError, match="no preset"):
        T.TrainConfig.from_preset("dncnn", "huge")
    with pytest.raises(ValueError, match="unknown config key"):
        T.TrainConfig.from_preset("dncnn", "cpu", stepz=3)


@pytest.mark.parametrize("model", ["arcnn", "dncnn", "dcsc"])
def test_paper_preset_runs_one_step(model):
    """The paper's size and recipe, run for one step (batch as in the paper for ARCNN; DnCNN's
    128 x 50x50 batch is cut to 16 to keep the suite fast)."""
    overrides = {"steps": 1, "val_every": 0, "ckpt_every": 0, "progress": False}
    if model == "dncnn":
        overrides["batch"] = 16
    cfg = T.TrainConfig.from_preset(model, "paper", **overrides)
    assert cfg.model_args == presets(model)["paper"]["model_args"]
    result = T.train(cfg, images=IMAGES)
    assert result.step == 1 and math.isfinite(result.history["train"][-1]["loss"])


def test_cli_trains_resumes_and_reports_errors(tmp_path, capsys):
    out = tmp_path / "cli"
    args = ["--model", "arcnn", "--qf", "20-30", "--steps", "4", "--out", str(out), "--set",
            "model_args.features=[4,4,4]", "patch=16", "batch=2", "val_images=0", "progress=false",
            "train_set=classic5"]
    from jarlib.data import available, fetch_command
    if not available("classic5"):
        pytest.skip(f"the CLI trains on a registry set: needs classic5 (fetch with `{fetch_command('classic5')}`)")
    assert T.main(args + ["--stop-after", "2"]) == 0
    assert T.load_checkpoint(out / "checkpoint.pt")["step"] == 2
    assert T.main(args + ["--resume"]) == 0
    assert (out / "history.json").exists()
    assert "step 4/4" in capsys.readouterr().out
    assert T.main(["--model", "arcnn", "--qf", "0-30", "--out", str(tmp_path / "x")]) == 2
    assert "qf_range" in capsys.readouterr().err
    assert T.main(["--model", "arcnn", "--out", str(tmp_path / "x"), "--set", "progress=maybe"]) == 2
    assert "progress must be true or false" in capsys.readouterr().err


@pytest.mark.parametrize("text, value", [("False", False), ("false", False), ("True", True), ("1e-3", 1e-3),
                                         ("[10, 40]", [10, 40]), ("l1+0.5*l2", "l1+0.5*l2"), ("None", None)])
def test_cli_values(text, value):
    assert T.parse_value(text) == value


def test_export_weights_is_small_fp16(tmp_path):
    run(tiny_config(tmp_path))
    meta = T.export_weights(tmp_path / "run" / "checkpoint.pt", tmp_path / "w.pt")
    state = torch.load(tmp_path / "w.pt", weights_only=True)
    assert meta["step"] == 12
    assert all(v.dtype == torch.float16 for v in state.values() if v.is_floating_point())


def test_init_from_starts_from_trained_weights(tmp_path):
    first = run(tiny_config(tmp_path, steps=4))
    cfg = tiny_config(None, init_from=str(tmp_path / "run" / "checkpoint.pt"), steps=4, seed=1)
    start = run(cfg, stop_after=0).model
    for a, b in zip(first.model.state_dict().values(), start.state_dict().values()):
        torch.testing.assert_close(a, b)
    # or from a zoo weights file (fp16 state dict), e.g. an earlier version of a zoo model
    T.export_weights(tmp_path / "run" / "checkpoint.pt", tmp_path / "w.pt")
    from_file = run(tiny_config(None, init_from=str(tmp_path / "w.pt"), steps=4, seed=1), stop_after=0).model
    for a, b in zip(first.model.state_dict().values(), from_file.state_dict().values()):
        torch.testing.assert_close(a, b, atol=1e-3, rtol=1e-3)
    with pytest.raises(ValueError, match="neither a zoo model"):
        run(tiny_config(None, init_from=str(tmp_path / "missing.pt")), stop_after=0)
    (tmp_path / "garbage.pt").write_bytes(b"not a file torch wrote")
    with pytest.raises(ValueError, match="unreadable"):
        run(tiny_config(None, init_from=str(tmp_path / "garbage.pt")), stop_after=0)
    with pytest.raises(ValueError, match="does not fit"):
        run(tiny_config(None, init_from=str(tmp_path / "run" / "checkpoint.pt"),
                        model_args={"features": 4, "depth": 3, "unshuffle": 2}), stop_after=0)


def test_a_checkpoint_is_measured_without_touching_the_zoo(tmp_path, capsys, datasets_available):
    """``python -m jarlib.zoo evaluate runs/<run>/checkpoint.pt``: the trained (fp32) model, scored with
    the conventions `zoo add` records; a wrong name or a foreign file is a clear error."""
    from jarlib import zoo
    from jarlib.evaluation import evaluate_restorer

    result = run(tiny_config(tmp_path, steps=4))
    ckpt = tmp_path / "run" / "checkpoint.pt"
    model = zoo.from_checkpoint(ckpt, "cpu")
    assert not model.training
    for a, b in zip(result.model.state_dict().values(), model.state_dict().values()):
        torch.testing.assert_close(a.cpu(), b)
    manifest = zoo.manifest_path().read_bytes()
    capsys.readouterr()
    assert zoo.main(["evaluate", str(ckpt), "--sets", "classic5", "--qfs", "10"]) == 0
    scores = json.loads(capsys.readouterr().out)["classic5"]
    direct = evaluate_restorer(model.restore, "classic5", (10,), "fbcnn_gray")["10"]
    assert scores["images"] == 5 and scores["10"]["psnr"] == pytest.approx(direct["psnr"], abs=1e-4)
    assert zoo.manifest_path().read_bytes() == manifest
    assert zoo.main(["evaluate", str(tmp_path / "nope.pt")]) == 2
    assert "neither a zoo model (" in capsys.readouterr().err   # it names the zoo models
    (tmp_path / "junk.pt").write_bytes(b"not a checkpoint")
    assert zoo.main(["evaluate", str(tmp_path / "junk.pt")]) == 2
    assert "corrupt or unreadable" in capsys.readouterr().err


def test_zoo_add_exports_measures_and_loads_a_run(tmp_path, monkeypatch, datasets_available):
    """``python -m jarlib.zoo add``: fp16 weights, a manifest entry with the command, training record,
    metrics, the fp16 cost and the quick check; the entry loads and reproduces the check."""
    from jarlib import zoo
    from jarlib.evaluation import evaluate_restorer

    run(tiny_config(tmp_path, steps=4))
    (tmp_path / "zoo" / "weights").mkdir(parents=True)
    monkeypatch.setenv(zoo.ENV_VAR, str(tmp_path / "zoo"))
    entry = zoo.add("tiny", tmp_path / "run" / "checkpoint.pt", "python -m jarlib.train ...", sets=["classic5"], qfs=(10,))
    assert zoo.available() == ["tiny"] and zoo.info("tiny") == json.loads(json.dumps(entry))
    assert entry["command"] == "python -m jarlib.train ..." and entry["training"]["steps"] == 4
    assert entry["dtype"] == "float16" and entry["sha256"] == zoo.sha256(tmp_path / "zoo" / entry["file"])
    assert abs(entry["fp16_psnr_change"]["change_db"]) < 0.01 and entry["metrics"]["classic5"]["images"] == 5
    quick = evaluate_restorer(zoo.load("tiny", "cpu").restore, "classic5", (10,), "fbcnn_gray", limit=zoo.CHECK_IMAGES)
    assert quick["10"]["psnr"] == pytest.approx(entry["check"]["psnr"], abs=1e-4)


def test_cli_without_its_data_set_says_how_to_fetch_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))            # an empty data folder
    assert T.main(["--model", "arcnn", "--steps", "2", "--out", str(tmp_path / "run")]) == 2
    err = capsys.readouterr().err
    assert "jarlib data fetch --sets bsds500_train" in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_a_missing_validation_set_falls_back_on_the_samples(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    cfg = tiny_config(val_images=1, val_crop=32)
    assert [name for name, _ in T.load_validation(cfg)] == ["camera"]
    assert "validating on the scikit-image samples" in capsys.readouterr().out


def test_worker_processes_make_the_same_batches():
    """On a GPU the patches are made by DataLoader workers ahead of the loop: the very batches the
    main process would make (the patch stream depends only on (seed, index))."""
    cfg = T.TrainConfig(model="dncnn", patch=16, batch=4, steps=3, val_images=0)
    ds = T.make_dataset(cfg, sample_images("gray"))
    here = list(T.batches(ds, cfg, 1, 3, workers=0))
    ahead = list(T.batches(ds, cfg, 1, 3, workers=2))
    assert len(here) == len(ahead) == 2
    for a, b in zip(here, ahead):
        assert torch.equal(a.compressed, b.compressed) and torch.equal(a.clean, b.clean) and torch.equal(a.qf, b.qf)


def test_gpu_settings_default_by_device(monkeypatch):
    cfg = T.TrainConfig(model="dncnn")
    cpu = torch.device("cpu")
    assert T.amp_dtype(cfg, cpu) is None and T.data_workers(cfg, cpu) == 0      # 2-core CPU training: fp32, no workers
    assert T.amp_dtype(T.TrainConfig(model="dncnn", amp="bf16"), cpu) == torch.bfloat16
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: False)
    assert T.amp_dtype(cfg, torch.device("cuda")) == torch.float16               # an older GPU: fp16 + scaler
    monkeypatch.setattr(torch.cuda, "is_bf16_supported", lambda *a, **k: True)
    assert T.amp_dtype(cfg, torch.device("cuda")) == torch.bfloat16
    assert 1 <= T.data_workers(cfg, torch.device("cuda"), local_world=1) <= 8
    assert T.data_workers(T.TrainConfig(model="dncnn", workers=3), torch.device("cuda")) == 3
    with pytest.raises(ValueError, match="workers must be -1"):
        T.TrainConfig(model="dncnn", workers=-2)
