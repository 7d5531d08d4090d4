"""`jarlib restore` on files nobody checked: decompression bombs, MPO photos, 12-bit and sizeless
headers, a missing end marker, outputs that exist, symlink loops, impossible output folders.

Every row: crafted file(s) built here, then a good file in the same run; assert the exit status,
the one-line message, no traceback, the good file written and no existing file changed.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image
from skimage import data

from jarlib import cli, zoo
from jarlib.jpeg import decode_bytes, encode_bytes, quant_table, read_header

MODEL = "dcsc_gray"   # the fastest zoo model


@pytest.fixture(scope="module")
def good() -> bytes:
    return encode_bytes(data.camera()[:96, :128], 20)


def with_frame(jpeg: bytes, height: int | None = None, width: int | None = None, precision: int | None = None) -> bytes:
    """``jpeg`` with its frame header (SOF0) claiming another size or precision: a few hundred bytes
    that say 65000 x 65000, say."""
    i = jpeg.find(b"\xff\xc0")
    b = bytearray(jpeg)
    if precision is not None:
        b[i + 4] = precision
    if height is not None:
        b[i + 5:i + 7] = height.to_bytes(2, "big")
    if width is not None:
        b[i + 7:i + 9] = width.to_bytes(2, "big")
    return bytes(b)


@pytest.fixture(scope="module")
def tiny() -> bytes:
    """A 333-byte-class JPEG (16 x 16 gray) to patch headers into."""
    return encode_bytes(np.full((16, 16), 100, np.uint8), 50)


def restore(tmp_path: Path, capsys, files: dict[str, bytes], *extra: str, out: Path | None = None):
    """Write ``files`` (then ``good.jpg`` last, when given) and run ``jarlib restore`` on them, in that
    order; returns (rc, stdout, stderr, outdir)."""
    src = tmp_path / "in"
    src.mkdir(exist_ok=True)
    paths = []
    for name, blob in files.items():
        (src / name).write_bytes(blob)
        paths.append(str(src / name))
    out = out or tmp_path / "out"
    rc = cli.main(["restore", "-q", "--model", MODEL, *paths, "-o", str(out), *extra])
    captured = capsys.readouterr()
    assert "Traceback" not in captured.err + captured.out
    return rc, captured.out, captured.err, out


def skipped_line(err: str, name: str) -> str:
    lines = [line for line in err.splitlines() if line.startswith("skipped") and name in line]
    assert len(lines) == 1, err
    return lines[0]


@pytest.mark.parametrize("height, width, words", [
    (65000, 65000, "4,225 megapixels, over the cap of 100 (--max-pixels)"),
    (12000, 12000, "144 megapixels, over the cap of 100"),
    (2048, 2048, "cannot hold the 2048x2048 pixels its header claims"),
])
def test_a_decompression_bomb_is_refused_and_the_batch_goes_on(tmp_path, capsys, tiny, good, height, width, words):
    bomb = with_frame(tiny, height, width)
    assert len(bomb) < 400
    rc, out, err, outdir = restore(tmp_path, capsys, {"bomb.jpg": bomb, "good.jpg": good})
    assert rc == 1
    assert words in skipped_line(err, "bomb.jpg")
    assert sorted(p.name for p in outdir.iterdir()) == ["good.png"]
    assert f"{tmp_path / 'in' / 'good.jpg'} -> {outdir / 'good.png'}" in out


def test_the_pixel_cap_is_an_option(tmp_path, capsys, good):
    rc, _, err, _ = restore(tmp_path, capsys, {"good.jpg": good}, "--max-pixels", "0.01M")
    assert rc == 1 and "over the cap of 0" in skipped_line(err, "good.jpg")
    rc, _, err, outdir = restore(tmp_path, capsys, {"good.jpg": good}, "--max-pixels", "20000")
    assert rc == 0 and (outdir / "good.png").exists()
    assert cli.main(["restore", "x.jpg", "-o", str(tmp_path / "o"), "--max-pixels", "lots"]) == 2
    assert "--max-pixels must be a number" in capsys.readouterr().err


def test_a_bomb_costs_under_a_second_and_500_mb(tmp_path, tiny):
    """The 12000 x 12000 bomb alone, in a fresh process: refused from its header, before torch is
    even imported (measured with getrusage on the child process, in a wrapper of its own)."""
    (tmp_path / "bomb.jpg").write_bytes(with_frame(tiny, 12000, 12000))
    wrapper = (
        "import resource, subprocess, sys\n"
        f"r = subprocess.run([sys.executable, '-m', 'jarlib.cli', 'restore', '-q', {str(tmp_path / 'bomb.jpg')!r}, "
        f"'-o', {str(tmp_path / 'out')!r}], capture_output=True, text=True)\n"
        "u = resource.getrusage(resource.RUSAGE_CHILDREN)\n"
        "print(r.returncode, u.ru_utime + u.ru_stime, u.ru_maxrss, repr(r.stderr))\n")
    rc, cpu, maxrss_kb, err = subprocess.run([sys.executable, "-c", wrapper], capture_output=True, text=True,
                                             check=True).stdout.split(" ", 3)
    assert rc == "1" and "over the cap" in err and "Traceback" not in err
    assert float(cpu) < 1.0, f"{cpu} s of CPU"
    assert int(maxrss_kb) < 500 * 1024, f"{int(maxrss_kb) // 1024} MB"
    assert list((tmp_path / "out").iterdir()) == []


def test_an_mpo_photo_restores_its_primary_image(tmp_path, capsys, good):
    a, b = data.camera()[:64, :64], data.camera()[64:128, :64]
    buf = io.BytesIO()
    Image.fromarray(a).save(buf, "MPO", save_all=True, append_images=[Image.fromarray(b)], quality=30)
    mpo = buf.getvalue()
    assert Image.open(io.BytesIO(mpo)).format == "MPO" and read_header(mpo).mpo
    rc, out, err, outdir = restore(tmp_path, capsys, {"photo.jpg": mpo, "good.jpg": good})
    assert rc == 0, err
    assert "MPO" in err and "primary image" in err
    restored = np.asarray(Image.open(outdir / "photo.png"))
    primary = decode_bytes(mpo)
    assert restored.shape == a.shape and np.array_equal(primary, np.asarray(Image.open(io.BytesIO(mpo))))
    assert (outdir / "good.png").exists()


@pytest.mark.parametrize("target", ["file", "under a file"])
def test_an_output_that_cannot_be_a_folder_is_one_line_and_nothing_is_written(tmp_path, capsys, good, target):
    (tmp_path / "taken").write_text("keep me")
    out = tmp_path / "taken" if target == "file" else tmp_path / "taken" / "sub"
    (tmp_path / "good.jpg").write_bytes(good)
    rc = cli.main(["restore", "-q", "--model", MODEL, str(tmp_path / "good.jpg"), "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 2 and len(err.strip().splitlines()) == 1 and "Traceback" not in err
    assert ("a file exists there" if target == "file" else "is a file, not a folder") in err
    assert (tmp_path / "taken").read_text() == "keep me"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["good.jpg", "taken"]


def test_a_symlink_loop_is_skipped_and_the_rest_written(tmp_path, capsys, good):
    os.symlink(tmp_path / "loop.jpg", tmp_path / "loop.jpg")
    (tmp_path / "good.jpg").write_bytes(good)
    out = tmp_path / "out"
    rc = cli.main(["restore", "-q", "--model", MODEL, str(tmp_path / "loop.jpg"), str(tmp_path / "good.jpg"),
                   "-o", str(out)])
    err = capsys.readouterr().err
    assert rc == 1 and "Traceback" not in err
    assert "a symlink loop" in skipped_line(err, "loop.jpg")
    assert (out / "good.png").exists()


@pytest.mark.parametrize("name, make, words", [
    ("12bit.jpg", lambda t: with_frame(t, precision=12), "12-bit JPEG: not supported (8-bit JPEG only)"),
    ("noheight.jpg", lambda t: with_frame(t, height=0), "the header gives no image size (16x0"),
    ("markers.jpg", lambda t: b"\xff\xd8\xff\xd9", "no image data"),
])
def test_unreadable_headers_are_said_in_words(tmp_path, capsys, tiny, good, name, make, words):
    rc, _, err, outdir = restore(tmp_path, capsys, {name: make(tiny), "good.jpg": good})
    assert rc == 1
    line = skipped_line(err, name)
    assert words in line and "BytesIO" not in line and "cannot identify" not in line
    assert sorted(p.name for p in outdir.iterdir()) == ["good.png"]


def test_a_missing_end_marker_is_restored_with_a_note_and_a_truncated_file_is_not(tmp_path, capsys, good):
    rc, _, err, outdir = restore(tmp_path, capsys, {"noeoi.jpg": good[:-2], "cut.jpg": good[:-40], "good.jpg": good})
    assert rc == 1
    assert "end marker (EOI) is missing" in err
    assert "truncated" in skipped_line(err, "cut.jpg")
    assert np.array_equal(np.asarray(Image.open(outdir / "noeoi.png")), np.asarray(Image.open(outdir / "good.png")))
    assert not (outdir / "cut.png").exists()
    assert np.array_equal(decode_bytes(good[:-2]), decode_bytes(good))     # the library reads it too


def test_an_existing_output_is_never_overwritten_unless_asked(tmp_path, capsys, good):
    out = tmp_path / "out"
    out.mkdir()
    (out / "photo.png").write_bytes(b"somebody's file")
    rc, stdout, err, _ = restore(tmp_path, capsys, {"photo.jpg": good, "good.jpg": good}, out=out)
    assert rc == 1
    assert "already exists (--overwrite replaces it)" in skipped_line(err, "photo.jpg")
    assert (out / "photo.png").read_bytes() == b"somebody's file"
    assert f"-> {out / 'good.png'}" in stdout
    rc, stdout, err, _ = restore(tmp_path, capsys, {"photo.jpg": good}, "--overwrite", out=out)
    assert rc == 0 and (out / "photo.png").read_bytes() != b"somebody's file"
    assert f"{tmp_path / 'in' / 'photo.jpg'} -> {out / 'photo.png'}" in stdout


def test_output_names_depend_only_on_the_inputs(tmp_path, capsys, good):
    for folder in ("a", "b"):
        (tmp_path / folder).mkdir()
        (tmp_path / folder / "x.jpg").write_bytes(good)
    args = ["restore", "-q", "--model", MODEL, str(tmp_path / "a"), str(tmp_path / "b"), "-o", str(tmp_path / "out")]
    assert cli.main(args) == 0
    first = capsys.readouterr().out
    assert f"{tmp_path / 'a' / 'x.jpg'} -> {tmp_path / 'out' / 'x.png'}" in first
    assert f"{tmp_path / 'b' / 'x.jpg'} -> {tmp_path / 'out' / 'x-2.png'}" in first
    assert cli.main(args) == 1                      # the same names again: found, not replaced, not renamed
    err = capsys.readouterr().err
    assert "out/x.png already exists" in err and "out/x-2.png already exists" in err
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["x-2.png", "x.png"]


def test_cuda_where_there_is_none_is_said_in_words():
    import torch

    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    with pytest.raises(ValueError, match="no CUDA device is available here"):
        zoo.load(MODEL, "cuda")


def test_restore_takes_one_signature_and_says_what_a_model_cannot_be_told(good):
    blind = zoo.load("dncnn_gray", "cpu")
    with pytest.raises(ValueError, match="DnCNN takes no QF"):
        blind.restore(good, qf=10)
    with pytest.raises(ValueError, match="takes no quantization tables"):
        blind.restore(good, tables=[np.ones((8, 8))])
    for name in ("fbcnn_gray_small", "qgcn_gray"):
        with pytest.raises(ValueError, match=r"qf must be a quality in \(0, 100\], got 0"):
            zoo.load(name, "cpu").restore(good, qf=0)
    qgcn = zoo.load("qgcn_gray", "cpu")
    with pytest.raises(ValueError, match="a qf or tables, not both"):
        qgcn.restore(good, qf=10, tables=[np.ones((8, 8))])
    # QGCN told a QF restores with the IJG tables of that QF, not the file's
    told = qgcn.restore(good, qf=5)
    assert not np.array_equal(told, qgcn.restore(good))
    assert np.array_equal(told, qgcn.restore(good, tables=[quant_table(5)]))


def test_zoo_list_is_a_table_a_person_reads():
    lines = zoo.list_lines()
    assert lines[0].split()[:3] == ["model", "network", "input"]
    assert len(lines) == len(zoo.available(None)) + 1
    text = "\n".join(lines)
    assert "nan" not in text and "{" not in text
    assert "fbcnn_color" in text and "(RGB)" in text and "Spearman" in text
