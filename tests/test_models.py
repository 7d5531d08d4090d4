"""The baselines (ARCNN, DnCNN) and the shared Restorer interface."""

import numpy as np
import pytest
import torch

from jarlib.jpeg import compress, encode_bytes
from jarlib.models import ARCNN, DnCNN, MODELS, Restorer, build, decode_input, presets
from jarlib.train import TrainConfig


def test_arcnn_paper_size():
    m = ARCNN()
    # 9x9x1x64 + 7x7x64x32 + 1x1x32x16 + 5x5x16x1 weights, plus biases
    assert m.num_parameters() == (81 * 64 + 64) + (49 * 64 * 32 + 32) + (32 * 16 + 16) + (25 * 16 + 1)
    assert [c.kernel_size[0] for c in m.modules() if isinstance(c, torch.nn.Conv2d)] == [9, 7, 1, 5]


def test_dncnn_paper_size():
    m = DnCNN()
    convs = [c for c in m.modules() if isinstance(c, torch.nn.Conv2d)]
    bns = [b for b in m.modules() if isinstance(b, torch.nn.BatchNorm2d)]
    assert len(convs) == 20 and len(bns) == 18 and all(c.out_channels == 64 for c in convs[:-1])
    assert m.num_parameters() == (9 * 64 + 64) + 18 * (9 * 64 * 64 + 2 * 64) + (9 * 64 + 1)


@pytest.mark.parametrize("model", [ARCNN(features=(8, 4, 4)), ARCNN(features=(8, 4, 4), residual=True),
                                   DnCNN(features=8, depth=4), DnCNN(features=8, depth=4, unshuffle=2),
                                   DnCNN(in_channels=3, features=8, depth=3, batch_norm=False)])
def test_forward_keeps_shape(model):
    x = torch.rand(2, model.in_channels, 24, 40)
    assert model(x).shape == x.shape


def test_unshuffle_needs_divisible_size():
    with pytest.raises(ValueError, match="multiples of unshuffle"):
        DnCNN(features=8, depth=3, unshuffle=2)(torch.rand(1, 1, 9, 8))
    with pytest.raises(ValueError, match="unshuffle must divide 8"):
        DnCNN(unshuffle=3)


def test_constructor_errors():
    with pytest.raises(ValueError, match="one kernel per layer"):
        ARCNN(kernels=(9, 7, 5))
    with pytest.raises(ValueError, match="odd"):
        ARCNN(kernels=(9, 7, 2, 5))
    with pytest.raises(ValueError, match="depth"):
        DnCNN(depth=1)
    with pytest.raises(ValueError, match="unknown model"):
        build("nope")
    with pytest.raises(TypeError, match="bad arguments for DnCNN"):
        build("dncnn", width=3)


def identity_dncnn(in_channels=1):
    """A DnCNN whose last convolution is zero: the network returns its input exactly."""
    m = DnCNN(in_channels=in_channels, features=8, depth=3, unshuffle=2).eval()
    last = [c for c in m.modules() if isinstance(c, torch.nn.Conv2d)][-1]
    torch.nn.init.zeros_(last.weight)
    torch.nn.init.zeros_(last.bias)
    return m


@pytest.mark.parametrize("shape", [(37, 50), (8, 8), (64, 61)])
def test_restore_gray_any_size_identity(shape):
    rng = np.random.default_rng(0)
    jpeg = compress(rng.integers(0, 256, shape, dtype=np.uint8), 30)
    out = identity_dncnn().restore(jpeg)
    assert out.dtype == np.uint8 and out.shape == jpeg.shape
    np.testing.assert_array_equal(out, jpeg)


def test_restore_rgb_with_gray_model_changes_only_luma():
    rng = np.random.default_rng(1)
    jpeg = compress(rng.integers(0, 256, (30, 45, 3), dtype=np.uint8), 50)
    out = identity_dncnn().restore(jpeg)
    assert out.shape == jpeg.shape and out.dtype == np.uint8
    assert np.abs(out.astype(int) - jpeg).max() <= 1  # YCbCr round trip rounding only


def test_restore_colour_model_on_gray_image():
    jpeg = compress(np.full((16, 24), 100, np.uint8), 50)
    out = identity_dncnn(in_channels=3).restore(jpeg)
    assert out.shape == (16, 24)
    np.testing.assert_array_equal(out, jpeg)


def test_restore_bytes_equals_array_for_blind_model():
    rng = np.random.default_rng(2)
    img = rng.integers(0, 256, (40, 40), dtype=np.uint8)
    model = DnCNN(features=8, depth=3).eval()
    data = encode_bytes(img, 20)
    np.testing.assert_array_equal(model.restore(data), model.restore(compress(img, 20)))
    assert decode_input(data).quality == 20  # read from the file's tables


def test_restore_keeps_training_mode():
    model = DnCNN(features=8, depth=3).train()
    model.restore(np.zeros((8, 8), np.uint8))
    assert model.training


@pytest.mark.parametrize("bad, error, match", [
    (np.zeros((8, 8), np.float32), TypeError, "uint8"),
    (np.zeros((8, 8, 4), np.uint8), ValueError, r"\(H, W, 3\)"),
    ("image.jpg", TypeError, "read_bytes"),
    (b"not a jpeg", ValueError, "JPEG"),
])
def test_restore_rejects_bad_input(bad, error, match):
    with pytest.raises(error, match=match):
        DnCNN(features=8, depth=3).restore(bad)


@pytest.mark.parametrize("name", sorted(MODELS))
def test_presets_exist_and_build(name):
    table = presets(name)
    assert {"cpu", "paper"} <= set(table)
    for key, preset in table.items():
        model = build(name, **preset["model_args"])
        assert isinstance(model, Restorer)
        cfg = TrainConfig.from_preset(name, key)          # every training setting is a known one
        assert cfg.model == name and cfg.steps == preset["train"]["steps"]


def test_macs_per_pixel_counts_every_application():
    # ARCNN: one 9x9, 7x7, 1x1, 5x5 convolution per pixel
    assert ARCNN().macs_per_pixel(32) == pytest.approx(81 * 64 + 49 * 64 * 32 + 32 * 16 + 25 * 16)
    # a shared layer applied R times counts R times (DCSC's S)
    from jarlib.models import DCSC
    r1, r5 = DCSC(filters=4, features=8, iterations=1), DCSC(filters=4, features=8, iterations=5)
    assert r5.macs_per_pixel(16) - r1.macs_per_pixel(16) == pytest.approx(4 * 9 * 8 * 8)


def test_block_count_and_deepened_state():
    from torch import nn

    from jarlib.models.base import block_count, deepened_state

    def net(n: int) -> nn.Module:
        return nn.Sequential(nn.Conv2d(1, 2, 1), nn.ModuleList([nn.Sequential(nn.Conv2d(2, 2, 1), nn.Conv2d(2, 2, 1))
                                                               for _ in range(n)]))

    shallow, deep = net(1), net(3)
    assert block_count(shallow.state_dict(), "1") == 1 and block_count(deep.state_dict(), "1") == 3
    assert block_count(deep.state_dict(), "missing") == 0
    grown = deepened_state(shallow.state_dict(), deep, {"1.{i}.1": range(1, 3)})
    assert torch.equal(grown["0.weight"], shallow.state_dict()["0.weight"])
    assert torch.equal(grown["1.0.1.weight"], shallow.state_dict()["1.0.1.weight"])
    assert not grown["1.2.1.weight"].any() and not grown["1.2.1.bias"].any()
    assert torch.equal(grown["1.2.0.weight"], deep.state_dict()["1.2.0.weight"])   # the rest keeps its random init
    with pytest.raises(ValueError, match=r"0.weight is \(2, 1, 1, 1\).*\(widen\)"):
        deepened_state(shallow.state_dict(), nn.Sequential(nn.Conv2d(1, 3, 1)), {}, hint="widen")


def test_flip_ensemble_is_the_mean_of_the_flipped_restorations():
    """Each of the four flips is restored and flipped back, then averaged: for a model that is not
    flip-equivariant the ensemble differs from one pass, and equals the mean done by hand."""
    from jarlib.models.base import FLIPS, DecodedJpeg

    torch.manual_seed(0)
    model = DnCNN(features=8, depth=3).eval()
    x = 0.2 + 0.6 * torch.rand(1, 1, 24, 32)
    src = DecodedJpeg(np.zeros((24, 32), np.uint8))
    with torch.no_grad():
        by_hand = (sum(model(x.flip(d)).flip(d) for d in FLIPS) / 4).clamp(0, 1)   # flip(()) flips nothing
    torch.testing.assert_close(model.restore_tensor(x, src, flip_ensemble=True), by_hand)
    assert not torch.allclose(model.restore_tensor(x, src), by_hand)
    # any size (padding first keeps the 8x8 grid under the flips), tiles, the uint8 interface
    jpeg = compress(np.random.default_rng(3).integers(0, 256, (37, 50), dtype=np.uint8), 30)
    np.testing.assert_array_equal(identity_dncnn().restore(jpeg, flip_ensemble=True), jpeg)
    whole, tiled = model.restore(jpeg, flip_ensemble=True), model.restore(jpeg, flip_ensemble=True, tile=32, overlap=8)
    assert whole.shape == tiled.shape == jpeg.shape
    assert not np.array_equal(whole, model.restore(jpeg))
