"""FBCNN (Jiang et al., ICCV 2021): architecture, QF control, QF loss, tiling, FBCNN-D."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jarlib import train as T
from jarlib import zoo
from jarlib.jpeg import compress, encode_bytes
from jarlib.models import DnCNN, FBCNN, presets
from jarlib.models.fbcnn import (QFAttention, deepen_bottleneck, dominant_qf, qf_l1, restore_with_dominant_qf,
                                 widen_weights)


def tiny(**kw) -> FBCNN:
    args = dict(channels=(4, 8, 8, 16), blocks=1, bottleneck_blocks=1, qf_blocks=1, qf_hidden=8,
                controller_hidden=8)
    args.update(kw)
    torch.manual_seed(0)
    return FBCNN(**args)


def test_paper_size_is_about_72_million():
    m = FBCNN()
    n = m.num_parameters()
    assert 71.5e6 < n < 72.3e6, n           # about 71.9 M, counted from the official code
    qf_branch = sum(p.numel() for p in m.qf_predictor.parameters())
    assert 19.0e6 < qf_branch < 19.8e6       # 4 RB@512 + the MLP: about 19.4 M


def test_cpu_preset_keeps_every_mechanism():
    m = FBCNN(**presets("fbcnn")["cpu"]["model_args"])
    assert len(m.down) == 3 and len(m.up) == 3 and len(m.attention) == 3
    assert all(len(a) >= 1 for a in m.attention) and len(m.body_encoder) >= 1
    assert m.qf_input == "highpass" and 0 < m.teacher_forcing < 1
    assert m.num_parameters() < 5e6


@pytest.mark.parametrize("shape", [(1, 1, 37, 50), (2, 1, 8, 8), (1, 3, 24, 17)])
def test_forward_pads_inside_and_crops_back(shape):
    m = tiny(in_channels=shape[1]).eval()
    x = torch.rand(shape)
    y, q = m(x)
    assert y.shape == x.shape and q.shape == (shape[0], 1)
    assert ((q > 0) & (q < 1)).all()


def test_qf_attention_is_eq2_in_the_code_form():
    block = QFAttention(4)
    x = torch.randn(2, 4, 5, 5)
    g, b = torch.rand(2, 4), torch.randn(2, 4)
    res = block.conv2(torch.relu(block.conv1(x)))
    torch.testing.assert_close(block(x, g, b), x + g[:, :, None, None] * res + b[:, :, None, None])


def test_qf_override_steers_the_decoder_only():
    m = tiny().eval()
    x = torch.rand(1, 1, 32, 32)
    with torch.no_grad():
        y_pred, q_pred = m(x)
        y_same, _ = m(x, qf=q_pred[:, 0])
        y_low, q_low = m(x, qf=torch.tensor([0.1]))
    torch.testing.assert_close(y_same, y_pred)
    torch.testing.assert_close(q_low, q_pred)       # the prediction does not depend on the override
    assert not torch.allclose(y_low, y_pred)


def test_restore_with_and_without_qf():
    m = tiny()
    jpeg = compress(np.random.default_rng(0).integers(0, 256, (30, 41), dtype=np.uint8), 20)
    blind = m.restore(jpeg)
    assert blind.shape == jpeg.shape and blind.dtype == np.uint8
    with torch.no_grad():
        x = torch.from_numpy(jpeg / 255.0).float()[None, None]
        q = float(m(x)[1]) * 100
    assert m.predict_qf(jpeg) == pytest.approx(q, abs=1e-4)
    np.testing.assert_array_equal(m.restore(jpeg, qf=q), blind)
    assert not hasattr(m, "_control_qf") and m.side_inputs == {"qf"}   # told through the input, nothing kept
    ensemble = m.restore(jpeg, qf=30, flip_ensemble=True)   # passed on to Restorer.restore_tensor
    assert ensemble.shape == jpeg.shape and not np.array_equal(ensemble, m.restore(jpeg, qf=30))
    with pytest.raises(ValueError, match="qf must be"):
        m.restore(jpeg, qf=0)


def test_qf_loss_skips_double_jpeg_samples():
    pred = torch.tensor([[0.2], [0.9], [0.5]], requires_grad=True)
    batch = T.Batch(torch.zeros(3, 1, 8, 8), torch.zeros(3, 1, 8, 8), torch.tensor([0.3, float("nan"), 0.5]))
    loss = qf_l1((None, pred), batch)
    assert loss.item() == pytest.approx(0.05)       # (|0.2-0.3| + |0.5-0.5|) / 2
    all_double = T.Batch(batch.compressed, batch.clean, torch.full((3,), float("nan")))
    zero = qf_l1((None, pred), all_double)
    zero.backward()
    assert zero.item() == 0.0 and torch.equal(pred.grad, torch.zeros_like(pred))


def test_loss_spec_with_the_qf_term_trains(tmp_path):
    rng = np.random.default_rng(0)
    images = [("a", rng.integers(0, 256, (64, 64), dtype=np.uint8)), ("b", rng.integers(0, 256, (64, 64), dtype=np.uint8))]
    cfg = T.TrainConfig(model="fbcnn", model_args=dict(channels=[4, 8, 8, 16], blocks=1, bottleneck_blocks=1,
                                                       qf_blocks=1, qf_hidden=8, controller_hidden=8),
                        loss="l1 + 0.1*qf_l1", patch=32, batch=4, steps=3, double_fraction=0.5,
                        val_images=1, val_crop=32, val_every=3, ckpt_every=0, progress=False)
    result = T.train(cfg, images=images)
    last = result.history["train"][-1]
    assert {"l1", "qf_l1"} <= set(last) and math.isfinite(last["loss"])


def test_paper_preset_runs_one_step():
    """The paper's model and recipe (72 M parameters) for one step; its 256 x 128x128 batch is cut
    to 2 x 64x64 to keep the suite fast."""
    rng = np.random.default_rng(1)
    images = [("a", rng.integers(0, 256, (96, 96), dtype=np.uint8))]
    cfg = T.TrainConfig.from_preset("fbcnn", "paper", steps=1, batch=2, patch=64, val_images=0,
                                    ckpt_every=0, progress=False)
    assert cfg.model_args == {} and cfg.loss == "l1 + 0.1*qf_l1"
    result = T.train(cfg, images=images)
    assert result.step == 1 and math.isfinite(result.history["train"][-1]["loss"])


def test_tiled_restore_equals_whole_image_for_a_local_model():
    # a 3-layer DnCNN sees 3 pixels around each output: with 16-pixel overlaps the tiles agree exactly
    torch.manual_seed(0)
    m = DnCNN(features=8, depth=3).eval()
    jpeg = compress(np.random.default_rng(2).integers(0, 256, (101, 77), dtype=np.uint8), 30)
    whole = m.restore(jpeg)
    for tile, overlap in ((32, 16), (48, 16), (64, 32)):
        np.testing.assert_array_equal(m.restore(jpeg, tile=tile, overlap=overlap), whole)
    with pytest.raises(ValueError, match="multiples of 8"):
        m.restore(jpeg, tile=30)


def test_fbcnn_tiled_restore_uses_one_qf():
    m = tiny()
    jpeg = compress(np.random.default_rng(3).integers(0, 256, (70, 90), dtype=np.uint8), 30)
    q = m.predict_qf(jpeg)
    tiled = m.restore(jpeg, tile=32, overlap=16)
    assert tiled.shape == jpeg.shape
    np.testing.assert_array_equal(tiled, m.restore(jpeg, qf=q, tile=32, overlap=16))


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    from skimage import data

    return data.camera()[160:288, 192:320]


def test_dominant_qf_of_a_single_jpeg(camera):
    assert dominant_qf(compress(camera, 30), qualities=range(20, 41), shifts=2) == 30


def test_dominant_qf_finds_the_lower_qf_of_a_non_aligned_double_jpeg(camera):
    first = compress(camera, 20)
    double = compress(np.ascontiguousarray(first[3:, 5:]), 60)
    assert dominant_qf(double, qualities=range(10, 71, 2)) == 20


def test_dominant_qf_of_an_uncompressed_image_is_none():
    rng = np.random.default_rng(4)
    assert dominant_qf(rng.integers(0, 256, (32, 32), dtype=np.uint8), qualities=range(50, 60), shifts=2) is None


def test_evaluate_double_scores_the_shifted_double_jpeg(camera):
    from jarlib import metrics
    from jarlib.data.degrade import double_jpeg
    from jarlib.evaluation import evaluate_double
    from jarlib.jpeg import decode_bytes

    images = [("camera", camera)]
    r = evaluate_double(lambda data: decode_bytes(data), images, [(10, 30)], shift=(4, 4))
    expected = metrics.evaluate(camera[4:, 4:], double_jpeg(camera, 10, 30, (4, 4)), "fbcnn_gray")
    assert r["images"] == 1
    assert r["10,30"]["psnr_jpeg"] == pytest.approx(expected["psnr"])
    assert r["10,30"]["psnr"] == pytest.approx(r["10,30"]["psnr_jpeg"])   # the identity restorer
    with pytest.raises(ValueError, match="shift"):
        evaluate_double(None, images, [(10, 30)], shift=(8, 0))


def test_qf_prediction_error_scores_a_predictor_against_the_true_qf(camera):
    """A reader of the file's quantization table is exact; a constant guess at the median QF scores
    ``mae_constant``, the bar a QF predictor that learned nothing reaches."""
    from jarlib.evaluation import qf_prediction_error
    from jarlib.jpeg import estimate_quality, read_quant_tables

    images = [("camera", camera), ("flipped", np.ascontiguousarray(camera[::-1]))]
    exact = qf_prediction_error(lambda data: estimate_quality(read_quant_tables(data)), images, pairs=True)
    assert exact["images"] == 2 and exact["qfs"] == list(range(10, 91, 10))
    assert exact["mae"] == 0.0 and set(exact["mae_by_qf"]) == {str(q) for q in range(10, 91, 10)}
    assert exact["guess"] == exact["truth"] and len(exact["truth"]) == 18
    blind = qf_prediction_error(lambda data: 50.0, images, qfs=(10, 50, 90))
    assert blind["mae"] == pytest.approx(blind["mae_constant"]) == pytest.approx(80 / 3, abs=1e-3)
    assert blind["mae_by_qf"] == {"10": 40.0, "50": 0.0, "90": 40.0}
    with pytest.raises(ValueError, match="qualities"):
        qf_prediction_error(lambda data: 50.0, images, qfs=(0, 50))
    with pytest.raises(ValueError, match="no images"):
        qf_prediction_error(lambda data: 50.0, [])


def test_colour_and_double_presets_train_a_step(tmp_path):
    """FBCNN-C (RGB) and FBCNN-A (double JPEG, fine-tuned from a checkpoint) use the same loop."""
    rng = np.random.default_rng(5)
    rgb = [(f"c{i}", rng.integers(0, 256, (64, 64, 3), dtype=np.uint8)) for i in range(2)]
    small = dict(channels=[4, 8, 8, 16], blocks=1, bottleneck_blocks=1, qf_blocks=1, qf_hidden=8, controller_hidden=8,
                 global_residual=True, qf_input="highpass")
    gray = [(n, img.mean(axis=2).astype(np.uint8)) for n, img in rgb]
    first = T.train(T.TrainConfig(model="fbcnn", model_args=small, steps=1, patch=32, batch=2, val_images=0,
                                  progress=False, out=str(tmp_path / "gray")), images=gray)
    cfg = T.TrainConfig.from_preset("fbcnn", "cpu_color", model_args=small, steps=2, patch=32, batch=2,
                                    val_images=1, val_crop=32, val_every=2, ckpt_every=0, progress=False,
                                    init_from=str(tmp_path / "gray" / "checkpoint.pt"))
    start = T.train(cfg, images=rgb, val_images=rgb, stop_after=0).model
    # started from the gray model: on a gray image (R = G = B) it gives the gray model's answer
    g = compress(gray[0][1], 20)
    np.testing.assert_allclose(start.restore(g).astype(float), first.model.restore(g).astype(float), atol=1)
    result = T.train(cfg, images=rgb, val_images=rgb)
    assert result.model.in_channels == 3 and result.history["val"]
    out = result.model.restore(compress(rgb[0][1], 20))
    assert out.shape == (64, 64, 3)

    cfg = T.TrainConfig.from_preset("fbcnn", "cpu_double", model_args=small, steps=1, patch=32, batch=4,
                                    val_images=0, progress=False, init_from=str(tmp_path / "gray" / "checkpoint.pt"))
    assert cfg.double_fraction > 0
    result = T.train(cfg, images=gray)
    assert math.isfinite(result.history["train"][-1]["loss"])
    assert first.step == 1


@pytest.mark.parametrize("preset, made", [("cpu_double", "fbcnn_gray_double"), ("cpu_color", "fbcnn_color")])
def test_fine_tuning_recipes_start_from_the_zoo_model_they_were_made_from(preset, made):
    """FBCNN-A and FBCNN-C start from a zoo model of their own widths: the one their shipped weights
    were fine-tuned from (its SHA-256 in their manifest entries), not whatever ``fbcnn_gray`` is now."""
    from jarlib.recipes import RECIPES

    p = presets("fbcnn")[preset]
    stage = RECIPES[made].stages[-1]
    start = stage.start
    assert stage.preset == preset and "init_from" not in p["train"]   # the recipe says where it starts
    assert start in zoo.available()
    assert zoo.info(start)["model_args"] == p["model_args"]
    assert zoo.info(made)["training"]["init_weights"] == {"from": start, "sha256": zoo.info(start)["sha256"]}


def test_nan_qf_keeps_the_prediction_and_teacher_forcing_uses_the_labels():
    m = tiny().eval()
    x = torch.rand(2, 1, 32, 32)
    with torch.no_grad():
        mixed, _ = m(x, qf=torch.tensor([float("nan"), 0.3]))
        blind, _ = m(x)
        set03, _ = m(x, qf=torch.tensor([0.3, 0.3]))
    torch.testing.assert_close(mixed[0], blind[0])
    torch.testing.assert_close(mixed[1], set03[1])
    batch = T.Batch(x, x, torch.tensor([float("nan"), 0.3]))
    m = tiny(teacher_forcing=1.0)
    assert m.training_inputs(batch)["qf"] is batch.qf
    assert tiny().training_inputs(batch) == {}
    half = tiny(teacher_forcing=0.5)
    labels = T.Batch(x, x, torch.full((2000,), 0.4))
    given = half.training_inputs(labels)["qf"]
    assert 0.4 < float((given == 0.4).float().mean()) < 0.6 and bool(torch.isnan(given[given != 0.4]).all())
    with pytest.raises(ValueError, match="teacher_forcing"):
        tiny(teacher_forcing=1.5)


def test_highpass_qf_input_learns_qf_10_from_90_quickly():
    """The ``"highpass"`` predictor reads the grid's evidence directly: a couple of hundred steps
    separate QF 10 from QF 90 (the paper's predictor on raw features stays at 0.40 far longer,
    see benchmarks/qf_predictor_probe.py)."""
    from jarlib.data import JpegPatchDataset, sample_images

    torch.manual_seed(0)
    m = tiny(qf_input="highpass", qf_stem=32, qf_hidden=32)
    with pytest.raises(ValueError, match="qf_input"):
        tiny(qf_input="pixels")
    x = torch.rand(2, 1, 40, 48)
    y, q = m(x)
    assert y.shape == x.shape and q.shape == (2, 1) and m.qf_stem is not None
    ds = JpegPatchDataset(list(sample_images("gray").items()), 64, samples_per_epoch=16 * 250, qf_choices=[10, 90], seed=0)
    params = list(m.qf_stem.parameters()) + list(m.qf_predictor.parameters())
    opt = torch.optim.Adam(params, 1e-3)
    losses = []
    for step in range(250):
        b = T.get_batch(ds, step, 16)
        loss = qf_l1((None, m.predict(b.compressed)), b)
        opt.zero_grad()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert np.mean(losses[:25]) > 0.3 and np.mean(losses[-50:]) < 0.2, (np.mean(losses[:25]), np.mean(losses[-50:]))


def test_dominant_qf_finds_qf1_below_qf2_at_the_table3_shift():
    # the case FBCNN-D exists for (paper Table 3, QF_1 < QF_2, shift (4, 4))
    from jarlib.data.degrade import double_jpeg

    from skimage import data

    img = data.camera()[128:384, 128:384]
    assert dominant_qf(double_jpeg(img, 10, 30, (4, 4))) == 10
    assert dominant_qf(compress(img, 30)) == 30


def test_dominant_qf_rejects_an_unknown_method(camera):
    with pytest.raises(ValueError, match="method"):
        dominant_qf(compress(camera, 30), method="magic")


@pytest.mark.parametrize("qf_input", ["highpass", "features"])
def test_widened_weights_compute_the_same_function(qf_input):
    """Net2WiderNet: every scale made wider, the output and the QF prediction unchanged (noise 0)."""
    narrow = tiny(qf_input=qf_input, qf_stem=8, global_residual=True).eval()
    for p in narrow.parameters():   # not the init's small weights: a trained-like spread
        p.data.normal_(0.0, 0.1)
    wide_channels = (6, 11, 9, 16) if qf_input == "features" else (6, 11, 9, 20)
    wide = tiny(qf_input=qf_input, qf_stem=8, global_residual=True, channels=wide_channels).eval()
    wide.load_state_dict(widen_weights(narrow.state_dict(), wide, noise=0.0))
    x = torch.rand(2, 1, 40, 48)
    with torch.no_grad():
        (a, qa), (b, qb) = narrow(x), wide(x)
    torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(qb, qa)
    # the new channels really are used: a copied channel's share of a reading layer is split
    assert not torch.equal(wide.tail.weight[:, :4], narrow.tail.weight)
    # with noise the copies differ from the channels they copied, and the function barely moves
    noisy = tiny(qf_input=qf_input, qf_stem=8, global_residual=True, channels=wide_channels).eval()
    noisy.load_state_dict(noisy.weights_from(narrow.state_dict()))   # init_from goes through here
    with torch.no_grad():
        c, _ = noisy(x)
    assert 0 < (c - a).abs().max() < 0.05 * a.abs().max()


def test_a_deeper_bottleneck_computes_the_same_function_and_then_learns():
    """Net2DeeperNet: new bottleneck blocks start as the identity (last conv zeroed), also after
    widening (init_from goes through weights_from), and one training step moves them."""
    shallow = tiny(qf_input="highpass", qf_stem=8, global_residual=True).eval()
    for p in shallow.parameters():   # a trained-like spread
        p.data.normal_(0.0, 0.1)
    deep = tiny(qf_input="highpass", qf_stem=8, global_residual=True, bottleneck_blocks=3).eval()
    deep.load_state_dict(deepen_bottleneck(shallow.state_dict(), deep))
    x = torch.rand(2, 1, 40, 48)
    with torch.no_grad():
        (a, qa), (b, qb) = shallow(x), deep(x)
    torch.testing.assert_close(b, a, atol=1e-5, rtol=1e-5)
    torch.testing.assert_close(qb, qa)
    both = tiny(qf_input="highpass", qf_stem=8, global_residual=True, bottleneck_blocks=2, channels=(6, 8, 9, 20))
    both.load_state_dict(both.weights_from(shallow.state_dict()))   # widened with noise, then deepened
    with torch.no_grad():
        c, _ = both.eval()(x)
    assert (c - a).abs().max() < 0.05 * a.abs().max()
    new = deep.body_decoder[2].conv2.weight
    assert not new.any()
    deep.train()
    out, _ = deep(x)
    (out - x).abs().mean().backward()
    assert new.grad is not None and new.grad.abs().sum() > 0


def test_deepening_refuses_what_it_cannot_do():
    with pytest.raises(ValueError, match="shallower"):
        deepen_bottleneck(tiny(bottleneck_blocks=2).state_dict(), tiny())
    with pytest.raises(ValueError, match="widen first"):
        deepen_bottleneck(tiny(channels=(4, 8, 8, 20), qf_input="highpass", qf_stem=8).state_dict(),
                          tiny(bottleneck_blocks=2, qf_input="highpass", qf_stem=8))


def test_widening_refuses_what_it_cannot_do():
    narrow = tiny(qf_input="highpass", qf_stem=8)
    with pytest.raises(ValueError, match="narrower"):
        widen_weights(tiny(qf_input="highpass", qf_stem=8, channels=(6, 8, 8, 16)).state_dict(), narrow)
    with pytest.raises(ValueError, match="highpass"):
        widen_weights(tiny().state_dict(), tiny(channels=(4, 8, 8, 20)))
    with pytest.raises(ValueError, match="not an FBCNN"):
        widen_weights({"head.weight": torch.zeros(4, 1, 3, 3)}, narrow)


def test_fbcnn_d_restores_at_the_dominant_qf_and_records_it(camera):
    model = tiny()
    data = encode_bytes(np.ascontiguousarray(compress(camera, 20)[3:, 5:]), 60)   # QF 20, shifted, then QF 60
    found: list = []
    out = restore_with_dominant_qf(model, data, range(10, 71, 2), found)
    assert found == [20]
    assert np.array_equal(out, model.restore(data, qf=20))
    restore_with_dominant_qf(model, data, range(10, 71, 2))   # found is optional
