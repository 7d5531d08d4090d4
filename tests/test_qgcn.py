"""QGCN (Li et al., TIP 2020): quantization map, global branch, QCN, the tables from the file."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch

from jarlib import train as T
from jarlib.jpeg import compress, encode_bytes, quant_table, read_quant_tables
from jarlib.models import QGCN, presets
from jarlib.models.qgcn import ijg_tables, quant_map

TINY = dict(features=8, blocks=1, global_widths=(4, 4, 8, 8), global_hidden=16, global_dim=4, global_size=32)


def test_sizes_match_the_paper_and_the_code():
    # counted from the official code (VDIGPKU/QGCN): QGCN about 12.3 M (global branch 7.3 M),
    # QCN about 5.0 M; the paper's Table I widths (last pair 256) make the global branch larger
    code = QGCN(global_widths=(32, 64, 128, 128))
    assert 12.2e6 < code.num_parameters() < 12.4e6
    assert 7.2e6 < sum(p.numel() for p in code.global_branch.parameters()) < 7.35e6
    assert 4.95e6 < QGCN(global_branch=False).num_parameters() < 5.05e6
    assert QGCN().num_parameters() == 19_428_993
    assert QGCN(**presets("qgcn")["cpu"]["model_args"]).num_parameters() < 0.6e6
    assert 0.9e6 < QGCN(**presets("qgcn")["cpu_wide"]["model_args"]).num_parameters() < 1.0e6


def test_each_stage_2_preset_builds_the_network_of_its_stage_1():
    # stage 2 starts from stage 1's checkpoint (--set init_from=...): the shapes must agree
    p = presets("qgcn")
    for first, second in (("cpu", "cpu_stage2"), ("cpu_wide", "cpu_wide_stage2")):
        assert p[first]["model_args"] == p[second]["model_args"]
        assert p[first]["train"]["patch"] < p[second]["train"]["patch"]


def test_quant_map_tiles_the_table_on_the_block_grid():
    t = quant_table(30)
    m = quant_map([t, quant_table(30, chroma=True)], 21, 19)
    assert m.shape == (2, 21, 19) and m.dtype == torch.float32
    for y, x in ((0, 0), (7, 7), (8, 0), (13, 18), (20, 9)):
        assert m[0, y, x] == pytest.approx(t[y % 8, x % 8] / 255)
    assert float(quant_map(quant_table(1), 8, 8).min()) == 1.0    # QF 1: every step saturates at 255
    with pytest.raises(ValueError, match="8x8"):
        quant_map(np.ones((4, 4)), 8, 8)


@pytest.mark.parametrize("quality", [1, 5, 10, 37, 60, 95])
def test_tables_in_the_file_equal_the_ijg_formula(quality):
    rng = np.random.default_rng(quality)
    gray = rng.integers(0, 256, (16, 16), dtype=np.uint8)
    rgb = rng.integers(0, 256, (16, 16, 3), dtype=np.uint8)
    np.testing.assert_array_equal(read_quant_tables(encode_bytes(gray, quality))[0], ijg_tables(quality, 1)[0])
    file_tables = read_quant_tables(encode_bytes(rgb, quality))
    for a, b in zip(file_tables, ijg_tables(quality, 2)):
        np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("in_channels", [1, 3])
def test_forward_and_qcn(in_channels):
    q = 1 if in_channels == 1 else 2
    x, qm = torch.rand(2, in_channels, 24, 40), torch.rand(2, q, 24, 40)
    for global_branch in (True, False):
        m = QGCN(in_channels=in_channels, global_branch=global_branch, **TINY).eval()
        assert m(x, qm).shape == x.shape
    with pytest.raises(ValueError, match="qmap must be"):
        m(x, qm[:, :, :8])
    with pytest.raises(ValueError, match="even"):
        m(x[..., :23, :], qm[..., :23, :])


def test_the_map_matters_unless_switched_off():
    x = torch.rand(1, 1, 16, 16)
    a, b = quant_map(quant_table(10), 16, 16)[None], quant_map(quant_table(50), 16, 16)[None]
    torch.manual_seed(0)
    m = QGCN(**TINY).eval()
    with torch.no_grad():
        assert not torch.allclose(m(x, a), m(x, b))
        m.use_qmap = False
        torch.testing.assert_close(m(x, a), m(x, b))


def test_restore_reads_the_tables_from_the_file():
    torch.manual_seed(0)
    m = QGCN(**TINY)
    img = np.random.default_rng(0).integers(0, 256, (30, 21), dtype=np.uint8)
    data = encode_bytes(img, 20)
    from_file = m.restore(data)
    assert from_file.shape == img.shape
    np.testing.assert_array_equal(from_file, m.restore(compress(img, 20), qf=20))
    with pytest.raises(ValueError, match="quantization tables"):
        m.restore(compress(img, 20))
    colour = QGCN(in_channels=3, **TINY)
    assert colour.restore(encode_bytes(np.stack([img] * 3, axis=2), 20)).shape == (30, 21, 3)
    assert colour.restore(data).shape == img.shape             # a gray file: luma table for both maps


def test_training_builds_each_samples_map(tmp_path):
    rng = np.random.default_rng(1)
    images = [("a", rng.integers(0, 256, (64, 64), dtype=np.uint8))]
    m = QGCN(**TINY)
    batch = T.Batch(torch.rand(2, 1, 16, 16), torch.rand(2, 1, 16, 16), torch.tensor([0.05, 0.6]))
    qm = m.training_inputs(batch)["qmap"]
    torch.testing.assert_close(qm[1, 0], quant_map(quant_table(60), 16, 16)[0])
    with pytest.raises(ValueError, match="single JPEG"):
        m.training_inputs(T.Batch(batch.compressed, batch.clean, torch.tensor([float("nan"), 0.3])))
    cfg = T.TrainConfig.from_preset("qgcn", "cpu", model_args=TINY, steps=2, patch=32, batch=2, val_images=1,
                                    val_crop=32, val_every=2, ckpt_every=0, progress=False)
    result = T.train(cfg, images=images, val_images=images)
    assert math.isfinite(result.history["train"][-1]["loss"]) and result.history["val"]


def test_paper_preset_runs_one_step():
    rng = np.random.default_rng(2)
    images = [("a", rng.integers(0, 256, (96, 96), dtype=np.uint8))]
    cfg = T.TrainConfig.from_preset("qgcn", "paper", steps=1, batch=2, val_images=0, ckpt_every=0, progress=False)
    assert cfg.qf_range == (1, 60) and cfg.model_args == {}
    result = T.train(cfg, images=images)
    assert result.step == 1 and math.isfinite(result.history["train"][-1]["loss"])


def test_restore_with_edited_tables():
    torch.manual_seed(0)
    m = QGCN(**TINY)
    img = np.random.default_rng(3).integers(0, 256, (24, 24), dtype=np.uint8)
    data = encode_bytes(img, 30)
    same = m.restore(data, tables=[quant_table(30)])
    np.testing.assert_array_equal(same, m.restore(data))
    coarser = m.restore(data, tables=[np.minimum(quant_table(30) * 4, 255)])
    assert not np.array_equal(coarser, same)
    ensemble = m.restore(data, tables=[quant_table(30)], flip_ensemble=True)   # the file's map for every flip
    assert ensemble.shape == same.shape and not np.array_equal(ensemble, same)
    with pytest.raises(ValueError, match="1..255"):
        m.restore(data, tables=[np.zeros((8, 8))])


@pytest.mark.parametrize("global_residual", [False, True])
def test_a_colour_model_starts_as_the_gray_one(global_residual):
    torch.manual_seed(0)
    gray = QGCN(in_channels=1, global_residual=global_residual, **TINY).eval()
    color = QGCN(in_channels=3, global_residual=global_residual, **TINY).eval()
    color.load_state_dict(color.weights_from(gray.state_dict()))
    y, luma = torch.rand(1, 1, 32, 48), torch.rand(1, 1, 32, 48)
    with torch.no_grad():
        want = gray(y, luma)
        got = color(y.expand(-1, 3, -1, -1), torch.cat([luma, torch.rand_like(luma)], dim=1))   # chroma map ignored
    for c in range(3):
        torch.testing.assert_close(got[:, c:c + 1], want, atol=1e-5, rtol=1e-4)
    assert torch.equal(color.state_dict()["head.weight"][:, 4], torch.zeros_like(color.head.weight[:, 4]))
