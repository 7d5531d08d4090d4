"""``jarlib data fetch`` against a server on 127.0.0.1 that serves small files in the upstream layouts.

The test builds, from a few synthetic images: Berkeley's ``BSR_bsds500.tgz`` (``BSR/BSDS500/data/
images/{train,val,test}/*.jpg`` plus a ``Thumbs.db`` and ground truth), FBCNN's raw ``testsets/``
files (``LIVE1_color/*.bmp``, ``LIVE1_gray/*.png``, ``Classic5/*.bmp``), ``DIV2K_train_HR.zip`` and
``Flickr2K.tar``; a catalogue in the format of ``data/sources.json`` pinning their hashes; and the
per-image checksums of the sets as they should be laid out. The real catalogue is checked for
shape only (no internet here).
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import re
import socket
import tarfile
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from jarlib.cli import main
from jarlib.data import DATASETS
from jarlib.data.fetch import _cache_name, load_catalog

RNG = np.random.default_rng(0)


def _image(shape) -> np.ndarray:
    return RNG.integers(0, 256, size=shape, dtype=np.uint8)


def _encode(img: np.ndarray, fmt: str, **kw) -> bytes:
    buf = io.BytesIO()
    Image.fromarray(img).save(buf, fmt, **kw)
    return buf.getvalue()


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


class RangeHandler(http.server.SimpleHTTPRequestHandler):
    """Serves a folder, honours ``Range: bytes=N-`` and records every request."""

    log: list[tuple[str, str | None]]

    def log_message(self, *args):  # quiet
        pass

    def do_GET(self):
        self.log.append((self.path, self.headers.get("Range")))
        path = Path(self.translate_path(self.path))
        if not path.is_file():
            self.send_error(404)
            return
        data = path.read_bytes()
        m = re.fullmatch(r"bytes=(\d+)-", self.headers.get("Range") or "")
        start = int(m.group(1)) if m else 0
        if start >= len(data) and m:
            self.send_response(416)
            self.end_headers()
            return
        self.send_response(206 if m else 200)
        if m:
            self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
        self.send_header("Content-Length", str(len(data) - start))
        self.end_headers()
        self.wfile.write(data[start:])


@pytest.fixture
def upstream(tmp_path):
    """The served folder, the catalogue pinning it, and the server's request log."""
    site = tmp_path / "site"
    expected: dict[str, dict[str, bytes]] = {}      # set -> {file name: bytes as laid out}
    sources: dict = {"bases": {}, "downloads": {}, "sets": {}}

    # Berkeley: one archive for the three BSDS500 splits
    tgz = io.BytesIO()
    with tarfile.open(fileobj=tgz, mode="w:gz") as t:
        def add(name: str, data: bytes):
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
        for split, n in (("train", 3), ("val", 2), ("test", 2)):
            files = {f"{100 + i}{split[0]}.jpg": _encode(_image((24, 32, 3)), "JPEG", quality=95) for i in range(n)}
            expected[f"bsds500_{split}"] = files
            for name, data in files.items():
                add(f"BSR/BSDS500/data/images/{split}/{name}", data)
            add(f"BSR/BSDS500/data/images/{split}/Thumbs.db", b"not an image")
            add(f"BSR/BSDS500/data/groundTruth/{split}/100{split[0]}.mat", b"mat")
    (site / "berkeley").mkdir(parents=True)
    (site / "berkeley" / "BSR_bsds500.tgz").write_bytes(tgz.getvalue())
    sources["downloads"]["bsds500"] = {"base": "berkeley", "path": "BSR_bsds500.tgz",
                                       "hash": "sha256:" + _sha(tgz.getvalue()), "bytes": len(tgz.getvalue())}
    for split in ("train", "val", "test"):
        sources["sets"][f"bsds500_{split}"] = {"download": "bsds500", "member_dir": f"BSR/BSDS500/data/images/{split}",
                                               "checksums": f"checksums/bsds500_{split}.sha256"}

    # FBCNN's testsets/: raw files, BMP converted to PNG on the way
    for set_name, folder, shape, ext in (("live1_color", "LIVE1_color", (16, 24, 3), "bmp"),
                                        ("live1_gray", "LIVE1_gray", (16, 24), "png"),
                                        ("classic5", "Classic5", (16, 16), "bmp")):
        files, laid = {}, {}
        for stem in ("bikes", "monarch"):
            img = _image(shape)
            data = _encode(img, ext.upper())
            rel = f"testsets/{folder}/{stem}.{ext}"
            (site / "fbcnn" / rel).parent.mkdir(parents=True, exist_ok=True)
            (site / "fbcnn" / rel).write_bytes(data)
            files[rel] = {"hash": "sha256:" + _sha(data), "bytes": len(data)}
            laid[f"{stem}.png"] = _encode(img, "PNG", optimize=True)
        expected[set_name] = laid
        sources["sets"][set_name] = {"base": "fbcnn", "files": files, "convert": "png",
                                     "checksums": f"checksums/{set_name}.sha256"}

    # DIV2K (zip) and Flickr2K (tar): optional sets, counted only
    z = io.BytesIO()
    with zipfile.ZipFile(z, "w") as zf:
        for i in range(2):
            zf.writestr(f"DIV2K_train_HR/{i + 1:04d}.png", _encode(_image((8, 8, 3)), "PNG"))
        zf.writestr("DIV2K_train_HR/readme.txt", "x")
    t2 = io.BytesIO()
    with tarfile.open(fileobj=t2, mode="w") as t:
        for name in ("Flickr2K/Flickr2K_HR/000001.png", "Flickr2K/Flickr2K_LR_bicubic/X2/000001x2.png"):
            data = _encode(_image((8, 8, 3)), "PNG")
            info = tarfile.TarInfo(name)
            info.size = len(data)
            t.addfile(info, io.BytesIO(data))
    for key, base, name, blob, member, count in (("div2k_train", "div2k", "DIV2K_train_HR.zip", z, "DIV2K_train_HR", 2),
                                                 ("flickr2k", "flickr2k", "Flickr2K.tar", t2, "Flickr2K/Flickr2K_HR", 1)):
        (site / base).mkdir()
        (site / base / name).write_bytes(blob.getvalue())
        sources["downloads"][key] = {"base": base, "path": name, "hash": "md5:" + hashlib.md5(blob.getvalue()).hexdigest(),
                                     "bytes": len(blob.getvalue())}
        sources["sets"][key] = {"download": key, "member_dir": member, "count": count}

    catalog_dir = tmp_path / "catalog"
    (catalog_dir / "checksums").mkdir(parents=True)
    for set_name, files in expected.items():
        (catalog_dir / "checksums" / f"{set_name}.sha256").write_text(
            "".join(f"{_sha(files[n])}  {n}\n" for n in sorted(files)))

    handler = type("Handler", (RangeHandler,), {"log": []})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), lambda *a: handler(*a, directory=str(site)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    sources["bases"] = {b: f"{url}/{b}/" for b in ("berkeley", "fbcnn", "div2k", "flickr2k")}
    (catalog_dir / "sources.json").write_text(json.dumps(sources))
    yield {"site": site, "catalog": catalog_dir / "sources.json", "expected": expected, "log": handler.log,
           "url": url}
    server.shutdown()
    server.server_close()


def _fetch(upstream, root, *extra, sets=("all",)):
    return main(["data", "fetch", "--sources", str(upstream["catalog"]), "--root", str(root), "--yes", "-q",
                 "--sets", *sets, *extra])


def _leftovers(root: Path) -> list[str]:
    return sorted(str(p.relative_to(root)) for p in root.rglob("*") if ".jarlib" in p.name or p.suffix == ".part")


def test_fetch_lays_out_every_set_verifies_it_and_a_second_run_downloads_nothing(upstream, tmp_path, capsys):
    root = tmp_path / "data"
    assert _fetch(upstream, root) == 0
    out = capsys.readouterr().out
    for name, files in upstream["expected"].items():
        folder = root / DATASETS[name].subdir
        assert sorted(p.name for p in folder.iterdir()) == sorted(files), name   # no Thumbs.db, no .mat
        for file_name, data in files.items():
            assert (folder / file_name).read_bytes() == data, (name, file_name)
        assert f"{name:14s} fetched  {folder}" in out
    # BMP -> PNG is lossless: the pixels of the served BMP
    served = np.asarray(Image.open(upstream["site"] / "fbcnn/testsets/LIVE1_color/monarch.bmp"))
    assert np.array_equal(np.asarray(Image.open(root / "LIVE1/color/monarch.png")), served)
    assert sorted(p.name for p in (root / "DIV2K/train_HR").iterdir()) == ["0001.png", "0002.png"]
    assert [p.name for p in (root / "Flickr2K").iterdir()] == ["000001.png"]
    assert _leftovers(root) == []                      # no staging folder, no download cache, no .part
    assert "Terms:" in out and "Do not redistribute" in out

    requests = len(upstream["log"])
    assert _fetch(upstream, root) == 0
    assert len(upstream["log"]) == requests            # idempotent: nothing downloaded
    out = capsys.readouterr().out
    assert "About to download" not in out
    assert out.count("already there and verified") == len(DATASETS)


def test_a_tampered_file_is_refused_and_nothing_is_written(upstream, tmp_path, capsys):
    served = upstream["site"] / "fbcnn/testsets/Classic5/bikes.bmp"
    served.write_bytes(served.read_bytes()[:-1] + b"\x00")   # one byte changed after pinning
    root = tmp_path / "data"
    assert _fetch(upstream, root, sets=["classic5", "live1_gray"]) == 1
    err = capsys.readouterr().err
    assert "classic5" in err and f"{upstream['url']}/fbcnn/testsets/Classic5/bikes.bmp" in err
    assert "pinned hash" in err and "data/README.md" in err and "Traceback" not in err
    assert not (root / "Classic5").exists()
    assert (root / "LIVE1/gray").is_dir()              # the other set of the same run is fetched
    assert _leftovers(root) == []                      # the bad file is not kept, no .part, no staging


def test_a_partial_download_resumes_and_a_truncated_file_is_refetched(upstream, tmp_path):
    root = tmp_path / "data"
    cache = root / ".jarlib-downloads"
    cache.mkdir(parents=True)
    archive = (upstream["site"] / "berkeley/BSR_bsds500.tgz").read_bytes()
    catalog = load_catalog(upstream["catalog"])
    (cache / f"{_cache_name(catalog.downloads['bsds500'])}.part").write_bytes(archive[:1000])
    div2k = catalog.downloads["div2k_train"]
    (cache / _cache_name(div2k)).write_bytes(b"PK truncated")   # a file at the final name that is wrong
    assert _fetch(upstream, root, sets=["bsds500", "div2k_train"]) == 0
    log = upstream["log"]
    assert ("/berkeley/BSR_bsds500.tgz", "bytes=1000-") in log    # asked only for the rest ...
    assert sum(p == "/berkeley/BSR_bsds500.tgz" for p, _ in log) == 1
    assert ("/div2k/DIV2K_train_HR.zip", None) in log              # ... and the wrong file fetched again whole
    assert len(list((root / "BSDS500/train").iterdir())) == 3
    assert _leftovers(root) == []


def test_offline_names_the_set_the_url_and_the_manual_way(upstream, tmp_path, capsys):
    with socket.socket() as s:                        # a port with nobody listening
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    root = tmp_path / "data"
    rc = _fetch(upstream, root, "--base-url", f"fbcnn=http://127.0.0.1:{port}/", sets=["live1_color"])
    err = capsys.readouterr().err
    assert rc == 1
    assert "live1_color: could not download" in err and f"http://127.0.0.1:{port}/testsets/LIVE1_color/" in err
    assert "data/README.md" in err and "Traceback" not in err
    assert not (root / "LIVE1").exists()


def test_the_base_url_comes_from_the_environment(upstream, tmp_path, monkeypatch):
    monkeypatch.setenv("JARLIB_FETCH_FBCNN_URL", f"{upstream['url']}/fbcnn/")
    catalog = json.loads(upstream["catalog"].read_text())
    catalog["bases"]["fbcnn"] = "http://127.0.0.1:9/unused/"
    upstream["catalog"].write_text(json.dumps(catalog))
    assert _fetch(upstream, tmp_path / "data", sets=["classic5"]) == 0


def test_a_set_that_does_not_verify_is_fetched_again_and_the_old_folder_kept(upstream, tmp_path, capsys):
    root = tmp_path / "data"
    assert _fetch(upstream, root, sets=["classic5"]) == 0
    changed = root / "Classic5" / "bikes.png"
    changed.write_bytes(b"edited by hand")
    assert _fetch(upstream, root, sets=["classic5"]) == 0
    out = capsys.readouterr().out
    assert changed.read_bytes() == upstream["expected"]["classic5"]["bikes.png"]
    assert (root / "Classic5.replaced-1" / "bikes.png").read_bytes() == b"edited by hand"
    assert "kept as" in out


def test_the_terms_must_be_accepted(upstream, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr("sys.stdin", io.StringIO(""))   # no terminal: --yes is required
    rc = main(["data", "fetch", "--sources", str(upstream["catalog"]), "--root", str(tmp_path / "d"),
               "--sets", "classic5", "-q"])
    captured = capsys.readouterr()
    assert rc == 2 and "--yes" in captured.err
    assert "Terms:" in captured.out                     # printed before anything is downloaded
    assert upstream["log"] == [] and not (tmp_path / "d" / "Classic5").exists()


def test_bad_command_lines_get_one_line(tmp_path, capsys):
    assert main(["data", "fetch", "--sets", "lena", "--root", str(tmp_path)]) == 2
    assert main(["data", "fetch", "--base-url", "nowhere", "--root", str(tmp_path)]) == 2
    assert main(["data", "fetch", "--base-url", "ftp=http://x/", "--root", str(tmp_path)]) == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 3 and "unknown data set 'lena'" in err[0] and "KEY=URL" in err[1] and "'ftp'" in err[2]


def test_help_documents_every_set_with_its_size_and_source(capsys):
    with pytest.raises(SystemExit):
        main(["data", "fetch", "--help"])
    out = capsys.readouterr().out
    for name in DATASETS:
        line = next(line for line in out.splitlines() if line.strip().startswith(name + " "))
        assert "images" in line and ("MB" in line or "not pinned" in line), line
    for url in ("www.eecs.berkeley.edu", "raw.githubusercontent.com/jiaxi-jiang/FBCNN/", "data.vision.ee.ethz.ch",
                "cv.snu.ac.kr"):
        assert url in out


def test_the_real_catalogue_pins_every_registry_set():
    catalog = load_catalog()
    assert set(catalog.sets) == set(DATASETS)
    assert re.search(r"/FBCNN/[0-9a-f]{40}/$", catalog.bases["fbcnn"])
    for name, source in catalog.sets.items():
        assert source.count == DATASETS[name].count, name
        for d in source.downloads:
            assert re.fullmatch(r"(sha256:[0-9a-f]{64}|md5:[0-9a-f]{32})", d.hash), (name, d.path)
        if not DATASETS[name].optional:
            assert source.expected is not None and len(source.expected) == DATASETS[name].count
    assert catalog.size(["live1_color", "live1_gray", "classic5"]) == 38_440_666


@pytest.mark.needs_data("classic5", "live1_gray", "live1_color")
def test_the_real_sets_in_place_verify_and_nothing_is_downloaded(capsys):
    """With the real catalogue on the real sets (../shared/datasets): every set is found verified and
    no connection is made (the sources point at a closed port)."""
    from jarlib.data import data_root

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        closed = f"http://127.0.0.1:{s.getsockname()[1]}/"
    args = ["data", "fetch", "--root", str(data_root()), "-q", "--sets", "classic5", "live1_gray", "live1_color"]
    for key in ("fbcnn", "berkeley"):
        args += ["--base-url", f"{key}={closed}"]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert out.count("already there and verified") == 3
    assert "manifest --verify: classic5 5/5 OK; live1_gray 29/29 OK; live1_color 29/29 OK" in out
