"""Dual priors: the FFT x-step, the linear non-local op, the classifier's input gradient in training
and at inference, the stages, the classifier training and the engine."""

from __future__ import annotations

import pytest
import torch
from skimage import data

from jarlib import train as T
from jarlib.jpeg import encode_bytes
from jarlib.models import DualPriors, presets
from jarlib.auxiliary import evaluate_classifier, load_classifier, train_classifier
from jarlib.models.dual_priors import GradientClassifier, LinearNonLocal, difference_otfs, grad_h, grad_v, x_step
from jarlib.sweeps import stage_sweep


def tiny(**kw) -> DualPriors:
    torch.manual_seed(0)
    args = dict(stages=2, inner_steps=1, features=6, units=1, inter=3, classifier_widths=(4,) * 6,
                classifier_hidden=4, scalar_init=0.5)
    args.update(kw)
    return DualPriors(**args)


def test_difference_otfs_diagonalise_the_circular_differences():
    x = torch.randn(2, 1, 12, 10, dtype=torch.float64)
    dh, dv = difference_otfs(12, 10)
    torch.testing.assert_close(torch.fft.ifft2(dh.to(torch.complex128) * torch.fft.fft2(x)).real, grad_h(x))
    torch.testing.assert_close(torch.fft.ifft2(dv.to(torch.complex128) * torch.fft.fft2(x)).real, grad_v(x))


def test_x_step_minimises_eq10():
    torch.manual_seed(0)
    y, u, gh, gv = (torch.randn(1, 1, 8, 8, dtype=torch.float64) for _ in range(4))
    alpha, beta = 0.7, 0.3
    energy = lambda x: ((y - x) ** 2).sum() + alpha * ((x - u) ** 2).sum() + beta * (
        ((grad_h(x) - gh) ** 2).sum() + ((grad_v(x) - gv) ** 2).sum())
    x = x_step(y, u, (gh, gv), alpha, beta).requires_grad_(True)
    (grad,) = torch.autograd.grad(energy(x), x)
    assert float(grad.abs().max()) < 1e-9            # the closed form is the stationary point


def test_linear_non_local_is_size_independent_and_linear_cost():
    torch.manual_seed(0)
    nl = LinearNonLocal(4, 2)
    x = torch.randn(1, 4, 8, 8)
    tiled = x.repeat(1, 1, 2, 2)            # the same statistics on 4x the pixels
    with torch.no_grad():
        torch.testing.assert_close(nl(tiled)[..., :8, :8], nl(x), rtol=1e-5, atol=1e-5)


def test_classifier_gradient_flows_in_training_and_works_at_inference():
    m = tiny()
    y = torch.rand(2, 1, 16, 16)
    m.train()
    out = m(y)
    out.mean().backward()
    assert m.rho.grad is not None and m.rho.grad[:, 3].abs().sum() > 0      # lambda2 reached through d f_s/d g
    assert all(p.grad is None for p in m.classifier.parameters())           # frozen
    assert not m.classifier.training
    m.eval()
    with torch.no_grad():                                                   # restore() runs under no_grad
        x, trace = m(y, stages=True)
    assert x.shape == y.shape and len(trace) == 2 and trace[0][2][0].shape == y.shape
    img = data.camera()[:64, :72]
    assert m.restore(encode_bytes(img, 10)).shape == img.shape


def test_without_the_classifier_lambda2_gets_no_gradient():
    m = tiny(use_classifier=False).train()
    m(torch.rand(1, 1, 16, 16)).mean().backward()
    assert float(m.rho.grad[:, 3].abs().sum()) == 0.0


def test_scalars_start_at_their_init_and_stay_positive():
    m = tiny(scalar_init=0.01, scalar_gain=10.0)
    torch.testing.assert_close(m.scalars(), torch.full((2, 4), 0.01))
    with torch.no_grad():
        m.rho.fill_(-100.0)
    assert float(m.scalars().detach().min()) >= 0.0


def test_classifier_training_and_use_by_the_engine(tmp_path):
    cam = data.camera()
    net, hist = train_classifier(tmp_path / "clf", steps=3, images=[cam], progress=False)
    assert hist["train"][-1]["step"] == 3
    loaded = load_classifier(tmp_path / "clf" / "checkpoint.pt")
    g = grad_h(torch.rand(1, 1, 48, 48))
    torch.testing.assert_close(loaded(g), net(g))
    args = {**presets("dualpriors")["cpu"]["model_args"], "stages": 1, "inner_steps": 1, "features": 6,
            "units": 1, "inter": 3, "classifier": str(tmp_path / "clf" / "checkpoint.pt")}
    cfg = T.TrainConfig.from_preset("dualpriors", "cpu", model_args=args, steps=2, patch=24, batch=2,
                                    val_images=0, progress=False, out=None)
    model = T.train(cfg, images=[("camera", cam)]).model
    for k, v in loaded.state_dict().items():           # the engine loaded the trained classifier, untouched
        torch.testing.assert_close(model.classifier.state_dict()[k], v)


def test_paper_size_builds():
    m = DualPriors(**presets("dualpriors")["paper"]["model_args"])
    assert m.stages == 5 and m.inner_steps == 3 and m.num_parameters() > 1e6
    with pytest.raises(ValueError, match="in_channels"):
        DualPriors(in_channels=3)


def test_evaluate_classifier():
    torch.manual_seed(0)
    m = evaluate_classifier(GradientClassifier((4,) * 6, hidden=4), [data.camera()], per_image=2)
    assert m["patches"] == 2 and 0 <= m["accuracy"] <= 1 and set(m["accuracy_by_qf"]) == {"10", "20", "30"}


def test_stage_sweep_rows():
    """Fig. 8's sweep: one row per K, each model built with K stages from preset cpu_sweep."""
    cam = data.camera()
    rows = stage_sweep([1, 2], steps=2, limit=1, images=[("camera", cam)], dataset=[("camera", cam[:64, :64])])
    assert [r["stages"] for r in rows] == [1, 2] and all(r["steps"] == 2 and r["images"] == 1 for r in rows)
    assert all(r["gain"] == pytest.approx(r["psnr"] - r["psnr_jpeg"], abs=1e-3) and r["alpha"] > 0 for r in rows)
    assert presets("dualpriors")["cpu_sweep"]["model_args"]["features"] < presets("dualpriors")["cpu"]["model_args"]["features"]
