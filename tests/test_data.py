"""jarlib.data: registry, degradations, sample images, patch dataset, manifest."""

from __future__ import annotations

import math

import numpy as np
import pytest
import torch
from PIL import Image

from jarlib.data import (
    DATASETS,
    DatasetNotFoundError,
    JpegPatchDataset,
    available,
    data_root,
    demo_image,
    double_jpeg,
    draw_quality,
    draw_shift,
    evaluation_images,
    evaluation_sets,
    evaluation_source,
    list_images,
    load_dataset,
    load_image,
    log_spaced_qualities,
    random_double_jpeg,
    random_single_jpeg,
    sample_images,
    single_jpeg,
)
from jarlib.data import manifest
from jarlib.data.patches import dihedral
from jarlib.jpeg import compress


def _photo(h: int = 80, w: int = 96, colour: bool = False, seed: int = 0) -> np.ndarray:
    """A smooth random test image (JPEG artefacts are visible on it), uint8."""
    rng = np.random.default_rng(seed)
    yy, xx = np.mgrid[0:h, 0:w]
    base = 128 + 60 * np.sin(xx / 7.0) * np.cos(yy / 11.0)
    shape = (h, w, 3) if colour else (h, w)
    noise = rng.normal(0, 12, size=shape)
    img = (base[..., None] if colour else base) + noise
    return np.clip(img, 0, 255).astype(np.uint8)


# ----------------------------------------------------------------------------- registry
def _fake_set(root, subdir: str, n: int) -> None:
    folder = root / subdir
    folder.mkdir(parents=True)
    for k in range(n):
        Image.fromarray(_photo(16, 16, seed=k)).save(folder / f"{k}.png")


def test_env_var_overrides_data_root(tmp_path, monkeypatch):
    _fake_set(tmp_path, "Classic5", 5)
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    assert data_root() == tmp_path.resolve()
    names = [stem for stem, _ in load_dataset("classic5")]
    assert names == ["0", "1", "2", "3", "4"]


def test_missing_set_says_how_to_get_it(tmp_path, monkeypatch):
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="live1_color") as info:
        list_images("live1_color")
    msg = str(info.value)
    assert "jarlib data fetch --sets live1_color" in msg and "data/README.md" in msg


def test_availability_is_per_set(tmp_path, monkeypatch):
    """A data folder with only some sets (a fetch stopped half-way): each set is found or not on its own."""
    _fake_set(tmp_path, "Classic5", 5)
    _fake_set(tmp_path, "LIVE1/gray", 3)                       # incomplete: not available
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    assert available("classic5") and not available("live1_gray") and not available("bsds500_val")
    assert evaluation_sets(["classic5", "live1_gray"]) == {"classic5": "classic5"}
    assert isinstance(evaluation_source("live1_gray"), list)   # the samples
    assert demo_image("monarch")[0] == "camera"
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path / "empty"))
    (tmp_path / "empty").mkdir()
    assert not any(available(n) for n in DATASETS)
    assert list(evaluation_sets(["classic5"])) == ["samples"]


def test_the_fetched_data_folder_is_found_without_any_setting(tmp_path, monkeypatch):
    import jarlib.data.registry as registry

    monkeypatch.delenv("JARLIB_DATA", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    monkeypatch.setattr(registry, "REPO_ROOT", tmp_path / "clone" / "repo")   # no ../shared beside it
    assert data_root(required=False) is None
    with pytest.raises(DatasetNotFoundError, match="jarlib data fetch"):
        data_root()
    _fake_set(tmp_path / "jarlib" / "datasets", "Classic5", 5)
    assert data_root() == (tmp_path / "jarlib" / "datasets").resolve() and available("classic5")


def test_wrong_count_and_bad_root(tmp_path, monkeypatch):
    _fake_set(tmp_path, "Classic5", 3)
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    with pytest.raises(DatasetNotFoundError, match="has 3 images, expected 5"):
        list_images("classic5")
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path / "nowhere"))
    assert data_root(required=False) is None
    with pytest.raises(DatasetNotFoundError, match="not a folder"):
        data_root()
    with pytest.raises(ValueError, match="unknown data set"):
        list_images("div2k")


def test_load_image_gray_is_matlab_y(datasets_available):
    colour = list_images("live1_color")[:3]
    gray = list_images("live1_gray")[:3]
    for c, g in zip(colour, gray):
        assert c.name == g.name
        y = load_image(c, "gray")
        ref = load_image(g, "gray")
        assert y.dtype == np.uint8 and y.shape == ref.shape
        differ = np.abs(y.astype(int) - ref.astype(int))
        assert differ.max() <= 1 and int((differ > 0).sum()) <= 5
        # Pillow's convert("L") is a different luma: far from the shipped gray images
        with Image.open(c) as pil:
            pil_l = np.asarray(pil.convert("L")).astype(int)
        assert np.abs(pil_l - ref.astype(int)).mean() > 5


# ------------------------------------------------------------------------- degradations
def test_single_and_double_jpeg_shapes_and_inputs_untouched():
    img = _photo(colour=True)
    before = img.copy()
    assert single_jpeg(img, 30).shape == img.shape
    out = double_jpeg(img, 30, 50, (3, 5))
    assert out.shape == (77, 91, 3) and out.dtype == np.uint8
    assert np.array_equal(img, before)
    with pytest.raises(ValueError, match="shift"):
        double_jpeg(img, 30, 50, (8, 0))


def test_double_jpeg_shift_semantics():
    img = _photo()
    # shift (0, 0): aligned double JPEG, the same as compressing twice in place
    assert np.array_equal(double_jpeg(img, 30, 50, (0, 0)), compress(compress(img, 30), 50))
    # shift (i, j): the second JPEG sees the first one's output without its first i rows, j columns
    i, j = 4, 2
    expected = compress(np.ascontiguousarray(compress(img, 30)[i:, j:]), 50)
    assert np.array_equal(double_jpeg(img, 30, 50, (i, j)), expected)


def test_random_degradations_are_deterministic_given_the_generator():
    img = _photo(colour=True)
    a = random_double_jpeg(img, np.random.default_rng(7), (10, 60), (30, 90))
    b = random_double_jpeg(img, np.random.default_rng(7), (10, 60), (30, 90))
    assert np.array_equal(a.compressed, b.compressed) and (a.quality1, a.quality2, a.shift) == (b.quality1, b.quality2, b.shift)
    i, j = a.shift
    assert a.compressed.shape == a.reference.shape == (80 - i, 96 - j, 3)
    assert np.array_equal(a.reference, img[i:, j:])
    assert np.array_equal(a.compressed, double_jpeg(img, a.quality1, a.quality2, a.shift))
    out, q = random_single_jpeg(img, np.random.default_rng(3), (20, 20))
    assert q == 20 and np.array_equal(out, compress(img, 20))


def test_draw_quality_and_shift_ranges():
    rng = np.random.default_rng(0)
    qs = [draw_quality(rng, (10, 12)) for _ in range(200)]
    assert set(qs) == {10, 11, 12}
    assert draw_quality(rng, 37) == 37
    shifts = {draw_shift(rng) for _ in range(500)}
    assert {s for pair in shifts for s in pair} == set(range(8))
    for bad in [(60, 10), (0, 50), (10, 101), (10,), 10.5]:
        with pytest.raises((ValueError, TypeError)):
            draw_quality(rng, bad)


def test_log_spaced_qualities_are_even_in_log_qf():
    q = log_spaced_qualities(10, 90, 40)
    assert len(q) == 40 and q[0] == 10 and q[-1] == 90 and list(q) == sorted(q)
    assert np.allclose(np.log(q), np.linspace(np.log(10), np.log(90), 40), atol=0.05)  # rounding only
    # the point of it: a third of the draws at QF <= 20, against 11 of 81 for uniform 10..90
    assert sum(v <= 20 for v in q) / len(q) > 0.3 > 11 / 81
    assert log_spaced_qualities(30, 30, 3) == (30, 30, 30)
    ds = JpegPatchDataset([("flat", np.full((80, 80), 128, np.uint8))], 16, qf_choices=q, samples_per_epoch=400)
    drawn = [ds.sample(k).quality for k in range(400)]
    assert set(drawn) <= set(q) and np.mean(np.array(drawn) <= 20) > 0.25
    for bad in [(90, 10, 5), (0, 90, 5), (10, 90, 1), (10, 90, 2.5)]:
        with pytest.raises((ValueError, TypeError)):
            log_spaced_qualities(*bad)


# ------------------------------------------------------------------------------ samples
def test_sample_images_load_without_data():
    gray, rgb = sample_images("gray"), sample_images("rgb")
    assert "camera" in gray and "astronaut" in gray and "astronaut" in rgb and "camera" not in rgb
    assert all(v.dtype == np.uint8 and v.ndim == 2 for v in gray.values())
    assert all(v.ndim == 3 and v.shape[2] == 3 for v in rgb.values())
    from jarlib.color import to_gray_y

    assert np.array_equal(gray["coffee"], to_gray_y(rgb["coffee"]))
    with pytest.raises(ValueError):
        sample_images("L")


def test_demo_image_and_evaluation_images_use_the_data_sets_when_installed(datasets_available):
    label, img, box = demo_image("monarch", crop=128)
    stem, expected = next((s, i) for s, i in load_dataset("live1_gray") if s == "monarch")
    assert label == stem and np.array_equal(img, expected)
    top, left, h, w = box
    assert (h, w) == (128, 128) and 0 <= top <= img.shape[0] - 128 and 0 <= left <= img.shape[1] - 128
    assert demo_image("monarch", mode="rgb")[1].shape == expected.shape + (3,)
    with pytest.raises(ValueError, match="not a LIVE1 image"):
        demo_image("lena")
    pairs = evaluation_images("classic5", limit=2)
    assert [s for s, _ in pairs] == [s for s, _ in load_dataset("classic5", limit=2)]
    assert evaluation_source("classic5") == "classic5"
    assert evaluation_sets(["classic5", "live1_gray"]) == {"classic5": "classic5", "live1_gray": "live1_gray"}


def test_demo_image_and_evaluation_images_fall_back_to_the_samples(monkeypatch):
    import jarlib.data.registry as registry

    monkeypatch.setattr(registry, "data_root", lambda required=True: None)
    label, img, (top, left, h, w) = demo_image("monarch", crop=600)     # crop larger than the image
    assert label == "camera" and np.array_equal(img, sample_images("gray")["camera"])
    assert (top, left) == (0, 0)
    assert demo_image(mode="rgb")[0] == "astronaut"
    pairs = evaluation_images("live1_color", mode="rgb", limit=2)
    assert [s for s, _ in pairs] == list(sample_images("rgb"))[:2] and pairs[0][1].ndim == 3
    assert isinstance(evaluation_source("live1_gray"), list)
    sets = evaluation_sets(["classic5", "live1_gray"], mode="rgb")       # the samples once, not once per set
    assert list(sets) == ["samples"] and [s for s, _ in sets["samples"]] == list(sample_images("rgb"))
    with pytest.raises(ValueError, match="mode"):
        demo_image(mode="L")


# --------------------------------------------------------------------------- patch data
@pytest.fixture(scope="module")
def small_images():
    return {f"img{k}": _photo(90, 100, seed=k) for k in range(3)}


def test_patch_shapes_ranges_and_types(small_images):
    ds = JpegPatchDataset(small_images, 32, samples_per_epoch=12, qf_range=(10, 60))
    x, y, q = ds[0]
    assert x.shape == y.shape == (1, 32, 32) and x.dtype == y.dtype == torch.float32
    assert 0.0 <= float(x.min()) and float(x.max()) <= 1.0
    assert q.dtype == torch.float32 and q.ndim == 0 and 0.10 <= float(q) <= 0.60
    loader = torch.utils.data.DataLoader(ds, batch_size=4, num_workers=0)
    xb, yb, qb = next(iter(loader))
    assert xb.shape == (4, 1, 32, 32) and qb.shape == (4,)
    rgb = JpegPatchDataset([_photo(64, 64, colour=True)], 32, mode="rgb", samples_per_epoch=2)
    assert rgb[1][0].shape == (3, 32, 32)


def test_patches_deterministic_by_seed_epoch_index(small_images):
    kwargs = dict(samples_per_epoch=20, double_fraction=0.5, grid_shift=0.5, seed=3)
    a = JpegPatchDataset(small_images, 32, **kwargs)
    b = JpegPatchDataset(small_images, 32, **kwargs)
    late = [b[k] for k in (17, 5)]  # asked out of order, as a resumed run would
    for got, k in zip(late, (17, 5)):
        for t1, t2 in zip(got, a[k]):
            assert torch.equal(t1, t2) or (math.isnan(t1) and math.isnan(t2))
    state = torch.get_rng_state(), np.random.get_state()[1].copy()
    a[0]
    assert torch.equal(state[0], torch.get_rng_state()) and np.array_equal(state[1], np.random.get_state()[1])
    x0 = a[0][0]
    a.set_epoch(1)
    assert not torch.equal(x0, a[0][0]), "a new epoch draws new patches"
    c = JpegPatchDataset(small_images, 32, **{**kwargs, "seed": 4})
    assert not torch.equal(x0, c[0][0])


def test_double_jpeg_items_have_nan_qf_and_match_double_jpeg(small_images):
    ds = JpegPatchDataset(small_images, 32, samples_per_epoch=8, double_fraction=1.0, qf_range=(10, 30),
                          qf2_range=(50, 70))
    for k in range(8):
        s = ds.sample(k)
        assert s.quality is None and 10 <= s.quality1 <= 30 and 50 <= s.quality2 <= 70
        assert math.isnan(float(ds[k][2]))
        # rebuild from the recorded recipe: the crop, its flip/rotation, then Eq. 5
        top, left, size = s.box
        region = dihedral(small_images[s.image][top:top + size, left:left + size], s.dihedral)
        i, j = s.shift
        part = region[:32 + i, :32 + j]
        assert np.array_equal(s.compressed, double_jpeg(part, s.quality1, s.quality2, (i, j)))
        assert np.array_equal(s.clean, part[i:, j:])


def test_augmented_patches_keep_jpeg_alignment(small_images):
    ds = JpegPatchDataset(small_images, 32, samples_per_epoch=16, qf_choices=[10, 40])
    seen = set()
    for k in range(16):
        s = ds.sample(k)
        seen.add(s.dihedral)
        assert s.quality in (10, 40) and s.shift == (0, 0)
        # the patch itself was compressed: blocks start at its top-left corner whatever the flip
        assert np.array_equal(s.compressed, compress(s.clean, s.quality))
    assert len(seen) > 2


def test_grid_shift_breaks_alignment_on_purpose(small_images):
    ds = JpegPatchDataset(small_images, 32, samples_per_epoch=30, grid_shift=1.0)
    shifted = [ds.sample(k) for k in range(30)]
    assert any(s.shift != (0, 0) for s in shifted)
    s = next(s for s in shifted if s.shift != (0, 0))
    assert not np.array_equal(s.compressed, compress(s.clean, s.quality))


def test_dihedral_gives_eight_distinct_transforms():
    a = np.arange(9, dtype=np.uint8).reshape(3, 3)
    outs = {dihedral(a, d).tobytes() for d in range(8)}
    assert len(outs) == 8
    assert np.array_equal(a, np.arange(9).reshape(3, 3))


def test_patch_dataset_rejects_bad_arguments(small_images):
    with pytest.raises(ValueError, match="tiny"):
        JpegPatchDataset({"tiny": np.zeros((20, 40), np.uint8), **small_images}, 32)
    with pytest.raises(ValueError, match=r"40x40 crop"):  # shift needs P + 8
        JpegPatchDataset({"edge": np.zeros((36, 36), np.uint8)}, 32, grid_shift=0.5)
    with pytest.raises(ValueError, match="qf_range"):
        JpegPatchDataset(small_images, 32, qf_range=(60, 10))
    with pytest.raises(ValueError, match="qf_range"):
        JpegPatchDataset(small_images, 32, qf_range=(0, 10))
    with pytest.raises(ValueError, match="double_fraction"):
        JpegPatchDataset(small_images, 32, double_fraction=1.5)
    with pytest.raises(ValueError, match="gray"):
        JpegPatchDataset(small_images, 32, mode="rgb")
    with pytest.raises(IndexError):
        JpegPatchDataset(small_images, 32, samples_per_epoch=4)[4]


def test_patch_dataset_copies_its_images(small_images):
    img = small_images["img0"].copy()
    ds = JpegPatchDataset([img], 32, samples_per_epoch=2, augment=False)
    before = ds[0][1].clone()
    img[:] = 0
    assert torch.equal(before, ds[0][1])


def test_patch_dataset_from_registry_name(datasets_available):
    ds = JpegPatchDataset("classic5", 64, samples_per_epoch=4)
    assert len(ds.names) == 5 and ds[3][0].shape == (1, 64, 64)


# ----------------------------------------------------------------------------- manifest
def test_manifest_verifies_the_shared_data(datasets_available):
    for name in ("classic5", "live1_gray", "bsds500_val"):
        report = manifest.verify(name)
        assert report.ok, str(report)


def test_manifest_reports_a_changed_file(tmp_path, monkeypatch, datasets_available):
    src = datasets_available / "Classic5"
    dst = tmp_path / "Classic5"
    dst.mkdir()
    for p in sorted(src.iterdir()):
        (dst / p.name).write_bytes(p.read_bytes())
    (dst / "5.png").write_bytes(b"not the image")
    (dst / "1.png").unlink()
    report = manifest.verify("classic5", root=tmp_path)
    assert not report.ok and report.missing == ("1.png",) and report.mismatched == ("5.png",)
    assert "FAILED" in str(report)
    missing = manifest.verify("classic5", root=tmp_path / "nothing")
    assert not missing.ok and "not found" in str(missing)


def test_training_sets_join_with_plus(tmp_path, monkeypatch):
    """A paper that trains on two sets names them "a+b" (FBCNN: div2k_train+flickr2k)."""
    from PIL import Image

    from jarlib.data import load_dataset, set_names

    for sub, count in (("BSDS500/train", 200), ("BSDS500/test", 200)):
        (tmp_path / sub).mkdir(parents=True)
        for i in range(count):
            Image.fromarray(np.full((8, 8), i % 256, np.uint8)).save(tmp_path / sub / f"{i:03d}.png")
    monkeypatch.setenv("JARLIB_DATA", str(tmp_path))
    both = load_dataset("bsds500_train+bsds500_test", mode="gray")
    assert len(both) == 400 and both[0][0] == "bsds500_train/000" and both[200][0] == "bsds500_test/000"
    assert set_names("div2k_train+flickr2k") == ["div2k_train", "flickr2k"]
    with pytest.raises(ValueError, match="unknown data set 'nope'"):
        set_names("bsds500_train+nope")
