"""CQR: the ranker (size, margin loss, training and resume), the de-blocker's parts, the guided losses."""

from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
from skimage import data

from jarlib import train as T
from jarlib.jpeg import encode_bytes
from jarlib.models import CQR, build, presets
from jarlib.auxiliary import evaluate_ranker, load_ranker, train_ranker
from jarlib.models.cqr import RANKER_PRESETS, NonLocal, Ranker, level_of, margin_ranking_loss


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera()[:160, :160]


def test_ranker_sizes():
    # RankSRGAN's Ranker_VGG12 on one channel (about 13.7 M, counted from RankSRGAN's code) and Ranker-small (about 0.1 M)
    assert Ranker().num_parameters() == 13_733_129
    small = RANKER_PRESETS["cpu"]
    assert 0.09e6 < Ranker(1, small["widths"], small["hidden"]).num_parameters() < 0.12e6
    assert Ranker(1, small["widths"], small["hidden"])(torch.rand(3, 1, 48, 48)).shape == (3,)


def test_margin_ranking_loss_is_eq2():
    s_low, s_high = torch.tensor([0.2, 1.0]), torch.tensor([1.0, 0.2])
    lev_low, lev_high = torch.tensor([1, 1]), torch.tensor([2, 2])
    # pair 1 ranked right by more than the margin: 0; pair 2 ranked wrong: 0.8 + 0.5
    assert float(margin_ranking_loss(s_low, s_high, lev_low, lev_high)) == pytest.approx(1.3 / 2)
    # the same pairs given the other way round: the same loss
    assert float(margin_ranking_loss(s_high, s_low, lev_high, lev_low)) == pytest.approx(1.3 / 2)
    with pytest.raises(ValueError, match="different quality levels"):
        margin_ranking_loss(s_low, s_high, lev_low, lev_low)


def test_levels():
    assert [level_of(q) for q in (1, 10, 11, 20, 21, 30)] == [1, 1, 2, 2, 3, 3]
    with pytest.raises(ValueError):
        level_of(31)


def _attention(nl: NonLocal, x: torch.Tensor) -> torch.Tensor:
    b, c, h, w = x.shape
    q, k, v = (m(x).flatten(2).transpose(1, 2) for m in (nl.theta, nl.phi, nl.g))
    y = (torch.softmax(q @ k.transpose(1, 2), -1) @ v).transpose(1, 2).reshape(b, -1, h, w)
    return x + nl.W(y)


def test_non_local_is_global_within_a_window_and_windowed_beyond():
    torch.manual_seed(0)
    nl = NonLocal(6, 3, window=16, chunk=3)
    x = torch.randn(2, 6, 16, 12)
    with torch.no_grad():
        torch.testing.assert_close(nl(x), _attention(nl, x))          # one window: plain non-local
        big = torch.randn(1, 6, 32, 48)
        out = nl(big)
        torch.testing.assert_close(out[..., 16:32, 32:48], _attention(nl, big[..., 16:32, 32:48]))


def test_non_local_trains_like_the_explicit_attention():
    """Training goes through the fused attention too (a patch inside one window is a strided view
    unless made contiguous): its gradients equal those of the explicit softmax."""
    torch.manual_seed(0)
    nl = NonLocal(6, 3, window=16)
    x = torch.randn(2, 6, 12, 12, requires_grad=True)
    grads = []
    for f in (nl, lambda t: _attention(nl, t)):
        nl.zero_grad()
        x.grad = None
        (f(x) ** 2).sum().backward()
        grads.append([x.grad.clone()] + [p.grad.clone() for p in nl.parameters()])
    for a, b in zip(*grads):
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-4)


def test_deblocker_any_size_and_restore(camera):
    torch.manual_seed(0)
    m = CQR(features=6, nl_inter=3).eval()
    assert m(torch.rand(1, 1, 37, 53)).shape == (1, 1, 37, 53)
    out = m.restore(encode_bytes(camera, 10))
    assert out.shape == camera.shape and out.dtype == np.uint8


def test_guided_losses_train_the_deblocker_not_the_ranker():
    torch.manual_seed(0)
    m = CQR(features=6, nl_inter=3)
    ranker = Ranker(1, [4, 4, 8, 8], 8)
    m.attach_ranker(ranker)
    x, y = torch.rand(2, 1, 24, 24), torch.rand(2, 1, 24, 24)
    img, aux = m(x, clean=y)
    assert img.shape == x.shape and set(aux) == {"q", "f"}
    (aux["q"] + aux["f"]).backward()
    assert m.head.weight.grad is not None and m.head.weight.grad.abs().sum() > 0
    assert all(p.grad is None for p in ranker.parameters())
    assert not any(k.startswith("_ranker") for k in m.state_dict())
    assert m.num_parameters() == sum(p.numel() for p in CQR(features=6, nl_inter=3).parameters())
    with pytest.raises(ValueError, match="feature_layers"):
        CQR(features=6, nl_inter=3, feature_layers=(9,)).attach_ranker(ranker)


def test_ranker_training_resumes_exactly(tmp_path, camera, monkeypatch):
    from jarlib import auxiliary as C

    full, h_full = train_ranker(tmp_path / "a", steps=6, images=[camera], ckpt_every=0, progress=False)
    real, calls = C.ranker_pairs, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise KeyboardInterrupt   # killed during step 5; the last checkpoint is step 3
        return real(*args, **kwargs)

    monkeypatch.setattr(C, "ranker_pairs", interrupted)
    with pytest.raises(KeyboardInterrupt):
        train_ranker(tmp_path / "b", steps=6, images=[camera], ckpt_every=3, progress=False)
    monkeypatch.setattr(C, "ranker_pairs", real)
    resumed, h_res = train_ranker(tmp_path / "b", steps=6, images=[camera], resume=True, progress=False)
    for k, v in full.state_dict().items():
        torch.testing.assert_close(resumed.state_dict()[k], v)
    loaded = load_ranker(tmp_path / "b" / "checkpoint.pt")
    torch.testing.assert_close(loaded(torch.ones(1, 1, 48, 48)), full(torch.ones(1, 1, 48, 48)))
    with pytest.raises(ValueError, match="written by another run"):
        train_ranker(tmp_path / "b", steps=7, images=[camera], resume=True, progress=False)


def test_trains_with_the_engine_and_a_ranker_checkpoint(tmp_path, camera):
    train_ranker(tmp_path / "ranker", steps=2, images=[camera], progress=False)
    args = {**presets("cqr")["cpu"]["model_args"], "features": 6, "nl_inter": 3,
            "ranker": str(tmp_path / "ranker" / "checkpoint.pt")}
    cfg = T.TrainConfig.from_preset("cqr", "cpu", model_args=args, steps=3, patch=24, batch=2, val_images=0,
                                    log_every=1, progress=False, out=None)
    hist = T.train(cfg, images=[("camera", camera)]).history["train"]
    assert {"cqr_q", "cqr_f", "l1"} <= set(hist[-1])
    assert build("cqr", **{**args, "ranker": None}).num_parameters() > 0


def test_evaluate_ranker_and_the_zoo_round_trip(tmp_path, camera, monkeypatch):
    from jarlib import auxiliary, zoo

    net, _ = train_ranker(tmp_path / "r", steps=2, images=[camera], progress=False)
    m = evaluate_ranker(net, [data.camera(), data.camera()[::-1]], qfs=(5, 15, 25), per_image=2)
    assert m["patches"] == 4 and -1 <= m["spearman_per_patch"] <= 1 and 0 <= m["pair_accuracy"] <= 1
    assert set(m["score_by_qf"]) == {"5", "15", "25"}
    # a private zoo: add the ranker, load it back as the same network
    zdir = tmp_path / "zoo"
    (zdir / "weights").mkdir(parents=True)
    monkeypatch.setenv(zoo.ENV_VAR, str(zdir))
    monkeypatch.setitem(auxiliary.MEASURES, "cqr_ranker", lambda r: {"spearman_per_patch": 0.5})
    entry = zoo.add("my_ranker", tmp_path / "r" / "checkpoint.pt", "python -m jarlib.auxiliary ranker --out r")
    assert entry["kind"] == "cqr_ranker" and entry["metrics"] == {"spearman_per_patch": 0.5}
    assert zoo.available() == [] and zoo.available("cqr_ranker") == ["my_ranker"]
    loaded = load_ranker("my_ranker")
    x = torch.rand(2, 1, 48, 48)
    torch.testing.assert_close(loaded(x), net(x), atol=2e-2, rtol=2e-2)     # fp16 weights


def test_the_auxiliary_command_line(tmp_path, monkeypatch, camera, capsys):
    import subprocess
    import sys

    from jarlib import auxiliary

    # runs as a module without runpy's "found in sys.modules" warning
    done = subprocess.run([sys.executable, "-W", "error::RuntimeWarning", "-m", "jarlib.auxiliary", "--help"],
                          capture_output=True, text=True)
    assert done.returncode == 0 and "ranker" in done.stdout and "classifier" in done.stdout
    with pytest.raises(SystemExit) as stop:
        auxiliary.main(["ranker", "--out", str(tmp_path), "--preset", "huge"])
    assert stop.value.code == 2 and "unknown preset 'huge'" in capsys.readouterr().err
    kind, ranker_presets, real, what = auxiliary.TRAINERS["ranker"]
    monkeypatch.setitem(auxiliary.TRAINERS, "ranker",
                        (kind, ranker_presets, lambda *a, **k: real(*a, images=[camera], **k), what))
    out = str(tmp_path / "r")
    assert auxiliary.main(["ranker", "--out", out, "--steps", "2", "--resume", "-q"]) == 0   # nothing to resume: starts
    assert torch.load(tmp_path / "r" / "checkpoint.pt", weights_only=False)["step"] == 2
    assert auxiliary.main(["ranker", "--out", out, "--steps", "3", "--resume", "-q"]) == 2   # another run's checkpoint
    assert "written by another run" in capsys.readouterr().err


def test_relative_feature_loss_does_not_depend_on_the_ranker_scale():
    from jarlib.models.cqr import feature_matching_loss

    torch.manual_seed(0)
    f_out, f_ref = [torch.randn(2, 4, 8, 8) for _ in range(3)], [torch.randn(2, 4, 8, 8) for _ in range(3)]
    plain = feature_matching_loss(f_out, f_ref, (1, 3))
    assert plain == pytest.approx(float(sum((f_out[i] - f_ref[i]).abs().mean() for i in (0, 2))))
    rel = feature_matching_loss(f_out, f_ref, (1, 3), relative=True)
    scaled = feature_matching_loss([10 * f for f in f_out], [10 * f for f in f_ref], (1, 3), relative=True)
    assert float(scaled) == pytest.approx(float(rel), rel=1e-5)
    assert float(feature_matching_loss([10 * f for f in f_out], [10 * f for f in f_ref], (1, 3))) == pytest.approx(10 * float(plain), rel=1e-5)
    with pytest.raises(ValueError, match="feature_loss"):
        CQR(features=6, nl_inter=3, feature_loss="l2")


def test_pixel_feature_loss_equals_the_pixel_l1_for_the_input_itself():
    """feature_loss="pixel": L_F rescaled so that for the JPEG input it equals L1(x, y), whatever the
    ranker's scale; it trains the de-blocker through its output."""
    torch.manual_seed(0)
    m = CQR(features=6, nl_inter=3, feature_loss="pixel")
    m.attach_ranker(Ranker(1, [4, 4, 8, 8], 8))
    torch.nn.init.zeros_(m.tail.weight), torch.nn.init.zeros_(m.tail.bias)     # out = x (global residual)
    clean = torch.rand(2, 1, 16, 16)
    x = (clean + 0.05 * torch.randn_like(clean)).clamp(0, 1)
    out, terms = m(x, clean=clean)
    assert torch.equal(out, x)
    assert float(terms["f"].detach()) == pytest.approx(float((x - clean).abs().mean()), rel=1e-4)
    torch.nn.init.normal_(m.tail.weight, std=0.01)
    out, terms = m(x, clean=clean)
    plain = CQR(features=6, nl_inter=3)
    plain.load_state_dict(m.state_dict())
    plain.attach_ranker(m._ranker[0])
    assert float(terms["f"].detach()) != pytest.approx(float(plain(x, clean=clean)[1]["f"].detach()))
    terms["f"].backward()
    assert m.tail.weight.grad is not None and m.tail.weight.grad.abs().sum() > 0


def test_deepened_weights_compute_the_same_function_and_then_train(tmp_path, camera):
    torch.manual_seed(0)
    shallow = CQR(features=6, nl_inter=3).eval()
    deep = CQR(features=6, nl_inter=3, pairs=2).eval()
    deep.load_state_dict(deep.weights_from(shallow.state_dict()))
    x = torch.rand(1, 1, 24, 32)
    with torch.no_grad():
        assert torch.allclose(deep(x), shallow(x), atol=1e-6)
        assert not torch.allclose(deep.blocks[2].pre.body[0].weight, shallow.blocks[0].pre.body[0].weight)
    with pytest.raises(ValueError, match="whole"):
        shallow.weights_from(deep.state_dict())
    with pytest.raises(ValueError, match="keeps the widths"):
        CQR(features=9, nl_inter=3, pairs=2).weights_from(shallow.state_dict())
    # through the engine: init_from a one-pair checkpoint, the new pair's fusion learns at once
    torch.save(shallow.state_dict(), tmp_path / "shallow.pt")
    cfg = T.TrainConfig.from_preset("cqr", "cpu_mae_deep", model_args={"features": 6, "nl_inter": 3, "pairs": 2},
                                    init_from=str(tmp_path / "shallow.pt"), steps=2, patch=24, batch=2,
                                    val_images=0, progress=False, out=None)
    trained = T.train(cfg, images=[("camera", camera)]).model
    assert trained.blocks[3].trio.fuse.weight.abs().sum() > 0


def test_the_deep_stages_grow_the_stage_two_models_by_one_pair():
    p = presets("cqr")
    for deep, stage2 in (("cpu_deep", "cpu_qf3"), ("cpu_mae_deep", "cpu_mae_qf3")):
        assert p[deep]["model_args"] == {**p[stage2]["model_args"], "pairs": p[stage2]["model_args"]["pairs"] + 1}
        assert p[deep]["train"]["loss"] == p[stage2]["train"]["loss"]
        assert p[deep]["train"]["qf_choices"] == [10, 20, 30]
        finish = deep + "_finish"   # the fourth stage: the same network, the same loss, a lower learning rate
        assert p[finish]["model_args"] == p[deep]["model_args"]
        assert p[finish]["train"]["loss"] == p[deep]["train"]["loss"]
        assert p[finish]["train"]["lr"] < p[deep]["train"]["lr"]


def test_the_zoo_loads_cqr_channels_last_with_the_same_output(camera):
    from jarlib import zoo

    m = zoo.load("cqr_gray", "cpu")
    assert m.head.weight.is_contiguous(memory_format=torch.channels_last)
    plain = copy.deepcopy(m).to(memory_format=torch.contiguous_format)
    assert plain.head.weight.is_contiguous()
    x = torch.from_numpy(camera[:64, :96]).float()[None, None] / 255
    with torch.no_grad():
        assert torch.allclose(m(x), plain(x), atol=1e-5)
