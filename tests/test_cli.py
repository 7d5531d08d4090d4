"""`jarlib restore`: good and bad inputs, tiling, orientation, bounded memory on a large photo."""

from __future__ import annotations

import io
import subprocess
import sys

import numpy as np
import pytest
from PIL import Image
from skimage import data

from jarlib import cli, zoo
from jarlib.jpeg import decode_bytes, encode_bytes
from jarlib.metrics import psnr

MODEL = "dcsc_gray"   # the fastest zoo model keeps these tests short


@pytest.fixture(scope="module")
def camera() -> np.ndarray:
    return data.camera()[:200, :240]


@pytest.fixture(scope="module")
def astronaut() -> np.ndarray:
    return data.astronaut()[:160, :200]


def run(*args: str) -> int:
    return cli.main(["restore", "-q", *args])


def test_restores_gray_colour_and_progressive_jpeg(tmp_path, camera, astronaut, capsys):
    files = {"gray.jpg": encode_bytes(camera, 10), "colour.jpeg": encode_bytes(astronaut, 20),
             "progressive.jpg": encode_bytes(camera, 10, progressive=True)}
    for name, blob in files.items():
        (tmp_path / name).write_bytes(blob)
    out = tmp_path / "out"
    assert run(*(str(tmp_path / n) for n in files), "-o", str(out), "--model", MODEL) == 0
    assert "restored 3 of 3 files" in capsys.readouterr().out
    gray = np.asarray(Image.open(out / "gray.png"))
    assert gray.shape == camera.shape and psnr(camera, gray) > psnr(camera, decode_bytes(files["gray.jpg"]))
    assert np.asarray(Image.open(out / "colour.png")).shape == astronaut.shape
    assert np.array_equal(np.asarray(Image.open(out / "progressive.png")), gray)   # same pixels decoded


def test_bad_inputs_are_skipped_with_a_reason_and_the_rest_is_kept(tmp_path, camera, capsys):
    good = encode_bytes(camera, 10)
    buf = io.BytesIO()
    Image.fromarray(np.zeros((16, 16, 4), np.uint8)).save(buf, format="PNG")   # RGBA
    cmyk = io.BytesIO()
    Image.fromarray(data.astronaut()[:64, :64]).convert("CMYK").save(cmyk, format="JPEG", quality=30)
    one = io.BytesIO()
    Image.fromarray(np.full((1, 1), 128, np.uint8)).save(one, format="JPEG", quality=50)
    inputs = {"good.jpg": good, "truncated.jpg": good[: len(good) // 2], "alpha.png": buf.getvalue(),
              "notes.txt": b"hello, not an image\n", "empty.jpg": b"", "cmyk.jpg": cmyk.getvalue(),
              "tiny.jpg": one.getvalue()}
    for name, blob in inputs.items():
        (tmp_path / name).write_bytes(blob)
    out = tmp_path / "out"
    paths = [str(tmp_path / n) for n in inputs] + [str(tmp_path / "missing.jpg")]
    assert run(*paths, "-o", str(out), "--model", MODEL) == 1
    err = capsys.readouterr().err
    assert "truncated.jpg" in err and "truncated" in err.split("truncated.jpg", 1)[1].split("\n")[0]
    assert "alpha.png: a PNG image, not a JPEG" in err
    assert "notes.txt: a text file, not a JPEG" in err
    assert "empty.jpg: the file is empty" in err
    assert "missing.jpg: no such file" in err
    assert "cmyk.jpg: CMYK JPEG: restored as RGB" in err
    assert sorted(p.name for p in out.iterdir()) == ["cmyk.png", "good.png", "tiny.png"]
    assert np.asarray(Image.open(out / "tiny.png")).shape == (1, 1)
    assert np.asarray(Image.open(out / "cmyk.png")).shape == (64, 64, 3)
    for name, blob in inputs.items():        # inputs untouched
        assert (tmp_path / name).read_bytes() == blob


def test_never_overwrites_an_input(tmp_path, camera):
    (tmp_path / "x.jpg").write_bytes(encode_bytes(camera, 10))
    (tmp_path / "x.png").write_bytes(b"an input that happens to be called x.png")
    assert run(str(tmp_path / "x.jpg"), str(tmp_path / "x.png"), "-o", str(tmp_path), "--model", MODEL) == 1
    assert (tmp_path / "x.png").read_bytes() == b"an input that happens to be called x.png"
    assert np.asarray(Image.open(tmp_path / "x-2.png")).shape == camera.shape


def test_a_folder_is_expanded_and_same_names_do_not_collide(tmp_path, camera):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "photo.JPG").write_bytes(encode_bytes(camera, 30))
    (tmp_path / "a" / "readme.txt").write_text("ignored: not a .jpg")
    assert run(str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "out"), "--model", MODEL) == 0
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["photo-2.png", "photo.png"]


def test_exif_orientation_is_applied_to_the_output(tmp_path, camera):
    pil = Image.fromarray(camera)
    exif = pil.getexif()
    exif[0x0112] = 6          # "rotate 90 clockwise to display"
    buf = io.BytesIO()
    pil.save(buf, format="JPEG", quality=20, exif=exif.tobytes())
    (tmp_path / "rotated.jpg").write_bytes(buf.getvalue())
    assert run(str(tmp_path / "rotated.jpg"), "-o", str(tmp_path / "out"), "--model", MODEL) == 0
    assert np.asarray(Image.open(tmp_path / "out" / "rotated.png")).shape == camera.shape[::-1]


def test_command_line_errors_exit_with_status_2(tmp_path, camera, capsys):
    (tmp_path / "a.jpg").write_bytes(encode_bytes(camera, 10))
    assert run(str(tmp_path / "a.jpg"), "-o", str(tmp_path), "--model", "no_such_model") == 2
    assert "no zoo model no_such_model" in capsys.readouterr().err
    assert run(str(tmp_path / "a.jpg"), "-o", str(tmp_path), "--model", MODEL, "--qf", "20") == 2
    assert "has no QF input" in capsys.readouterr().err
    assert run(str(tmp_path / "a.jpg"), "-o", str(tmp_path), "--model", MODEL, "--qf", "high") == 2
    assert run(str(tmp_path / "a.jpg"), "-o", str(tmp_path), "--model", MODEL, "--tile", "100") == 2
    assert run(str(tmp_path / "nothing"), "-o", str(tmp_path), "--model", MODEL) == 1   # missing file: skipped


def test_describe_non_jpeg():
    assert cli.describe_non_jpeg(b"\xff\xd8\xff\xe0") is None
    assert cli.describe_non_jpeg(b"GIF89a...") == "a GIF image, not a JPEG"
    assert "not a JPEG file" in cli.describe_non_jpeg(bytes([0, 159, 146, 150, 255]))


def test_tiled_and_whole_image_restoration_agree_on_1024_pixels():
    img = np.asarray(Image.fromarray(data.astronaut()).resize((1024, 1024), Image.LANCZOS))
    blob = encode_bytes(img[..., 1], 10)
    model = zoo.load(MODEL, "cpu")
    whole, tiled = model.restore(blob), model.restore(blob, tile=256, overlap=32)
    assert abs(psnr(img[..., 1], whole) - psnr(img[..., 1], tiled)) < 0.01


def test_a_12_megapixel_photo_is_restored_in_bounded_memory(tmp_path):
    # 4000 x 3000 through the whole network at once needs gigabytes of activations; tiled it stays
    # near what the interpreter, torch and the image itself take. Run in a fresh process to read its peak.
    rng = np.random.default_rng(0)
    small = rng.integers(0, 256, (300, 400), dtype=np.uint8)
    big = np.asarray(Image.fromarray(small).resize((4000, 3000), Image.BICUBIC))
    (tmp_path / "big.jpg").write_bytes(encode_bytes(big, 40))
    script = ("import resource, sys; from jarlib import cli; "
              f"rc = cli.main(['restore', '-q', {str(tmp_path / 'big.jpg')!r}, '-o', {str(tmp_path / 'out')!r}, "
              f"'--model', {MODEL!r}, '--tile', '512']); "
              "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024); sys.exit(rc)")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    peak_mb = int(done.stdout.strip().splitlines()[-1])
    assert np.asarray(Image.open(tmp_path / "out" / "big.png")).shape == (3000, 4000)
    # one 32-channel float32 activation of the whole photo alone would be 1.5 GB
    assert peak_mb < 1200, f"peak memory {peak_mb} MB"
    print(f"peak memory {peak_mb} MB")


def test_flip_ensemble_option_restores_with_the_mean_over_the_flips(tmp_path, camera):
    blob = encode_bytes(camera, 10)
    (tmp_path / "gray.jpg").write_bytes(blob)
    assert run(str(tmp_path / "gray.jpg"), "-o", str(tmp_path / "out"), "--model", MODEL, "--flip-ensemble") == 0
    expected = zoo.load(MODEL, "cpu").restore(blob, tile=512, flip_ensemble=True)
    assert np.array_equal(np.asarray(Image.open(tmp_path / "out" / "gray.png")), expected)
    assert psnr(camera, expected) > psnr(camera, decode_bytes(blob))
