"""The model zoo: every committed model loads, matches its checksum, and reproduces its manifest."""

import json
import shutil

import numpy as np
import pytest
import torch

from jarlib import zoo
from jarlib.evaluation import evaluate_restorer
from jarlib.jpeg import encode_bytes

NAMES = zoo.available()


def test_the_baselines_are_in_the_zoo():
    assert {"arcnn_gray", "dncnn_gray"} <= set(NAMES)


@pytest.mark.parametrize("name", NAMES)
def test_entry_is_complete_and_file_small(name):
    e = zoo.info(name)
    for key in ("model", "model_args", "file", "sha256", "parameters", "training", "command", "metrics", "curve"):
        assert key in e, key
    assert e["bytes"] < 7e6   # a few MB each, light to clone (the largest: fbcnn_gray, 3.3 M fp16 parameters)
    lo, hi = e["training"]["qf_range"]
    for s in zoo.default_sets(e["in_channels"]):
        for q in map(str, zoo.EVAL_QFS):
            m = e["metrics"][s][q]
            assert m["psnr"] is not None and m["psnr_jpeg"] is not None
            if lo <= int(q) <= hi:   # outside its training QFs a model may fall below JPEG (CQR on Classic5 at 40)
                assert m["psnr"] > m["psnr_jpeg"], f"{name} does not beat JPEG on {s} QF{q}"
    assert abs(e["fp16_psnr_change"]["change_db"]) < 0.01  # fp16 storage costs no measurable PSNR


@pytest.mark.parametrize("name", NAMES)
def test_load_and_restore(name):
    model = zoo.load(name, "cpu")
    assert not model.training
    state = torch.load(zoo.ZOO_DIR / zoo.info(name)["file"], weights_only=True)
    assert sum(v.numel() for k, v in state.items() if "running" not in k and "num_batches" not in k) \
        == zoo.info(name)["parameters"] + zoo.info(name).get("frozen_parameters", 0)
    img = (np.add.outer(np.arange(37), np.arange(45)) * 3 % 256).astype(np.uint8)
    out = model.restore(encode_bytes(img, 10))
    assert out.shape == img.shape and out.dtype == np.uint8


@pytest.mark.parametrize("name", NAMES)
def test_reproduces_manifest(name, datasets_available):
    """A model's recorded ``check`` (its first images at one QF), else Classic5 at every QF (5 images)."""
    model = zoo.load(name, "cpu")
    e = zoo.info(name)
    if "check" in e:
        c = e["check"]
        m = evaluate_restorer(model.restore, c["set"], (c["qf"],), zoo.convention_for(c["set"]), limit=c["images"])
        m = m[str(c["qf"])]
        assert (m["psnr"], m["ssim"], m["psnrb"]) == pytest.approx((c["psnr"], c["ssim"], c["psnrb"]), abs=2e-4)
        return     # the check reproduces the stored scores; the full Classic5 below is for older entries (CI time)
    if "classic5" not in e["metrics"]:
        return
    measured = evaluate_restorer(model.restore, "classic5", zoo.EVAL_QFS, "fbcnn_gray")
    for q in map(str, zoo.EVAL_QFS):
        stored = zoo.info(name)["metrics"]["classic5"][q]
        assert measured[q]["psnr"] == pytest.approx(stored["psnr"], abs=0.01)
        assert measured[q]["ssim"] == pytest.approx(stored["ssim"], abs=0.001)
        assert measured[q]["psnrb"] == pytest.approx(stored["psnrb"], abs=0.01)


def test_unknown_and_corrupt_models_are_clear_errors(tmp_path, monkeypatch):
    with pytest.raises(zoo.ZooError, match="no zoo model 'nope'"):
        zoo.load("nope")
    name = NAMES[0]
    entry = zoo.info(name)
    (tmp_path / "weights").mkdir()
    shutil.copy(zoo.ZOO_DIR / entry["file"], tmp_path / entry["file"])
    (tmp_path / "manifest.json").write_text(json.dumps({name: entry}))
    monkeypatch.setenv(zoo.ENV_VAR, str(tmp_path))
    zoo.load(name, "cpu")  # the copy loads
    data = bytearray((tmp_path / entry["file"]).read_bytes())
    data[-100] ^= 0xFF
    (tmp_path / entry["file"]).write_bytes(bytes(data))
    with pytest.raises(zoo.ZooError, match="do not match the manifest"):
        zoo.load(name, "cpu")
    (tmp_path / entry["file"]).unlink()
    with pytest.raises(zoo.ZooError, match="missing"):
        zoo.load(name, "cpu")


def test_cpu_minutes_total_follows_the_chain_of_fine_tunes(tmp_path):
    """A two-stage model (QGCN: stage 2 starts from stage 1) reports the training time of both."""
    from jarlib.checkpoint import CHECKPOINT_FORMAT, save_checkpoint

    first, second = tmp_path / "s1.pt", tmp_path / "s2.pt"
    save_checkpoint(first, {"format": CHECKPOINT_FORMAT, "seconds": 600.0, "config": {"init_from": None}})
    save_checkpoint(second, {"format": CHECKPOINT_FORMAT, "seconds": 120.0, "config": {"init_from": str(first)}})
    assert zoo.earlier_cpu_minutes(None) == 0.0
    assert zoo.earlier_cpu_minutes(str(first)) == pytest.approx(10.0)
    assert zoo.earlier_cpu_minutes(str(second)) == pytest.approx(12.0)
    name = NAMES[0]   # a zoo name counts its recorded total
    t = zoo.info(name)["training"]
    assert zoo.earlier_cpu_minutes(name) == pytest.approx(t.get("cpu_minutes_total", t["cpu_minutes"]))


def test_a_chained_model_keeps_the_validation_curve_of_every_stage(tmp_path):
    """dncnn_gray's L2 finish continues a 15,000-step run: the entry keeps that run's curve too, and
    ``training_curve`` puts the two on one axis of steps and minutes."""
    from jarlib.checkpoint import CHECKPOINT_FORMAT, save_checkpoint

    def val(step, seconds, gain):
        return {"step": step, "seconds": seconds, "10": {"psnr": 26.0 + gain, "psnr_jpeg": 26.0}}

    first = tmp_path / "long" / "checkpoint.pt"
    first.parent.mkdir()
    save_checkpoint(first, {"format": CHECKPOINT_FORMAT, "step": 200, "seconds": 120.0,
                            "config": {"init_from": None, "val_qfs": [10]},
                            "history": {"val": [val(100, 60.0, 0.5), val(200, 120.0, 0.8)]}})
    points, steps, minutes = zoo.earlier_curve(str(first))
    assert steps == 200 and [p["step"] for p in points] == [100, 200]
    assert points[-1] == {"step": 200, "cpu_minutes": 2.0, "stage": "long", "psnr_q10": 26.8, "psnr_jpeg_q10": 26.0}
    assert minutes == pytest.approx(2.0) and minutes == pytest.approx(zoo.earlier_cpu_minutes(str(first)))
    assert zoo.earlier_curve(None) == ([], 0, 0.0)
    name = NAMES[0]   # a chain that began at a zoo model: its minutes come first, as in cpu_minutes_total
    t = zoo.info(name)["training"]
    zoo_minutes = t.get("cpu_minutes_total", t["cpu_minutes"])
    save_checkpoint(first, {"format": CHECKPOINT_FORMAT, "step": 200, "seconds": 120.0,
                            "config": {"init_from": name, "val_qfs": [10]}, "history": {"val": [val(200, 120.0, 0.8)]}})
    after, _, minutes = zoo.earlier_curve(str(first))
    assert after[0]["cpu_minutes"] == pytest.approx(zoo_minutes + 2.0, abs=0.01)
    assert minutes == pytest.approx(zoo.earlier_cpu_minutes(str(first)))
    own = [{"step": 50, "cpu_minutes": 0.5, "psnr_q10": 26.9, "psnr_jpeg_q10": 26.0}]
    entry = {"curve_earlier": points, "curve": own,
             "training": {"steps_before": steps, "cpu_minutes": 0.5, "cpu_minutes_total": 2.5,
                          "config": {"out": "runs/x/l2_finish"}}}
    whole = zoo.training_curve(entry)
    assert [(c["step"], c["cpu_minutes"], c["stage"]) for c in whole] == [(100, 1.0, "long"), (200, 2.0, "long"),
                                                                          (250, 2.5, "l2_finish")]
    one = {"curve": entry["curve"], "training": {"cpu_minutes": 0.5}}   # a single-stage entry: its own curve
    assert zoo.training_curve(one) == entry["curve"]


def test_a_fine_tune_records_the_weights_it_started_from(tmp_path):
    """A zoo name can be replaced later: the entry keeps the SHA-256 of the weights the run started from."""
    name = NAMES[0]
    assert zoo.init_weights(name) == {"init_weights": {"from": name, "sha256": zoo.info(name)["sha256"]}}
    assert zoo.init_weights(None) == {}
    assert zoo.init_weights(str(tmp_path / "checkpoint.pt")) == {}   # not there: nothing to follow


def test_the_start_weights_are_found_through_a_chain_of_checkpoints(tmp_path):
    """Stage 3 started from the zoo model, stage 4 from stage 3's checkpoint: stage 4's entry still names the zoo
    weights at the start of the chain; a chain that starts from scratch names none."""
    from jarlib.checkpoint import CHECKPOINT_FORMAT, save_checkpoint

    name = NAMES[0]
    third, fourth, alone = tmp_path / "s3.pt", tmp_path / "s4.pt", tmp_path / "alone.pt"
    save_checkpoint(third, {"format": CHECKPOINT_FORMAT, "seconds": 1.0, "config": {"init_from": name}})
    save_checkpoint(fourth, {"format": CHECKPOINT_FORMAT, "seconds": 1.0, "config": {"init_from": str(third)}})
    save_checkpoint(alone, {"format": CHECKPOINT_FORMAT, "seconds": 1.0, "config": {"init_from": None}})
    assert zoo.init_weights(str(fourth)) == {"init_weights": {"from": name, "sha256": zoo.info(name)["sha256"],
                                                              "via": [str(fourth), str(third)]}}
    assert zoo.init_weights(str(alone)) == {}
    assert zoo.checkpoint_chain(str(fourth)) == ([(str(fourth), 1.0), (str(third), 1.0)], name)
    assert zoo.checkpoint_chain(str(alone)) == ([(str(alone), 1.0)], None)
    t = zoo.info(name)["training"]   # the minutes add up along the chain, down to the zoo model's total
    assert zoo.earlier_cpu_minutes(str(fourth)) == pytest.approx(2 / 60 + t.get("cpu_minutes_total", t["cpu_minutes"]))


def test_fbcnn_entries_record_how_well_their_qf_predictor_reads_live1():
    """`zoo add` scores FBCNN's QF predictor on LIVE1 at QF 10-90 (the issue: at most 5 QF units)."""
    fbcnn = [n for n in zoo.available() if zoo.info(n)["model"] == "fbcnn"]
    assert fbcnn
    for name in fbcnn:
        rec = zoo.info(name)["qf_prediction"]
        assert rec["set"] == zoo.qf_prediction_set(zoo.info(name)["in_channels"])
        assert rec["qfs"] == list(range(10, 91, 10)) and rec["images"] == 29
        assert rec["mae"] == pytest.approx(np.mean(list(rec["mae_by_qf"].values())), abs=2e-3)
        assert rec["mae"] < rec["mae_constant"]


def test_qf_prediction_needs_a_qf_predictor(capsys):
    assert zoo.main(["qf-prediction", "dncnn_gray"]) == 2
    assert "no QF predictor" in capsys.readouterr().err


def test_evaluate_without_the_set_says_how_to_fetch_it(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))            # an empty data folder
    assert zoo.main(["evaluate", "dcsc_gray", "--sets", "live1_gray", "--qfs", "10"]) == 2
    err = capsys.readouterr().err
    assert "jarlib data fetch --sets live1_gray" in err and len(err.strip().splitlines()) == 1
