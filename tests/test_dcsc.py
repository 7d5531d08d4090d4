"""DCSC (Fu et al. ICCV 2019): sizes, the LISTA recursion, the ablation switches."""

import pytest
import torch
import torch.nn.functional as F

from jarlib.models import DCSC, build, presets


def test_paper_parameter_count():
    # Table 1 of the paper: 0.94 x 10^5 parameters
    m = DCSC()
    assert m.num_parameters() == 93_697
    assert round(m.num_parameters() / 1e5, 2) == 0.94


def test_updated_model_parameter_count():
    # the authors' released checkpoint holds exactly 315,937 floats (in the authors' DCSC download)
    assert build("dcsc", **presets("dcsc")["updated"]["model_args"]).num_parameters() == 315_937


def test_extractors_are_linear_dilated_and_G_S_have_no_bias():
    m = DCSC(filters=4, features=8, iterations=2)
    assert [c.dilation[0] for c in m.extract] == [1, 2, 4]
    assert m.G.bias is None and all(s.bias is None for s in m.S)
    assert len(m.S) == 1  # one S shared by every iteration
    # the multi-scale features are linear in the input (no activation, Eq. 1) up to the bias
    j = torch.rand(1, 1, 16, 16)
    zero = m.features_x(torch.zeros_like(j))
    torch.testing.assert_close(m.features_x(2 * j) - zero, 2 * (m.features_x(j) - zero))


def test_forward_is_the_lista_recursion():
    torch.manual_seed(0)
    m = DCSC(filters=4, features=8, iterations=3)
    j = torch.rand(2, 1, 20, 12)
    x = torch.cat([F.conv2d(j, c.weight, c.bias, padding=c.dilation[0], dilation=c.dilation[0])
                   for c in m.extract], dim=1)
    gx = F.conv2d(x, m.G.weight, padding=1)
    u = torch.relu(gx)
    for _ in range(3):
        u = torch.relu(gx + F.conv2d(u, m.S[0].weight, padding=1))
    expected = j + F.conv2d(u, m.reconstruct.weight, m.reconstruct.bias, padding=1)
    torch.testing.assert_close(m(j), expected)
    codes = m.codes(j)
    assert len(codes) == 4 and all((c >= 0).all() for c in codes)
    torch.testing.assert_close(codes[-1], u)


def test_ablation_switches():
    plain = DCSC(filters=4, features=8, iterations=2, dilations=(1, 1, 1))
    assert [c.dilation[0] for c in plain.extract] == [1, 1, 1]
    unshared = DCSC(filters=4, features=8, iterations=3, shared=False)
    assert len(unshared.S) == 3
    zero_iter = DCSC(filters=4, features=8, iterations=0)
    x = torch.rand(1, 1, 9, 11)
    for m in (plain, unshared, zero_iter):
        assert m(x).shape == x.shape
    with pytest.raises(ValueError, match="iterations"):
        DCSC(iterations=-1)
    with pytest.raises(ValueError, match="dilations"):
        DCSC(dilations=(1, 0))


def test_gradients_reach_the_shared_S_from_every_iteration():
    m = DCSC(filters=4, features=8, iterations=4)
    m(torch.rand(1, 1, 16, 16)).mean().backward()
    assert m.S[0].weight.grad is not None and m.S[0].weight.grad.abs().sum() > 0


def test_shipped_model_is_one_model_for_qf_10_to_40():
    from jarlib import zoo

    e = zoo.info("dcsc_gray")
    assert e["model"] == "dcsc" and e["training"]["qf_range"] == [10, 40]
    model = zoo.load("dcsc_gray", "cpu")
    assert isinstance(model, DCSC) and model.shared and model.dilations == (1, 2, 4)
    # measured on the paper's three test sets, BSDS500 val included
    assert {"classic5", "live1_gray", "bsds500_val"} <= set(e["metrics"])
