"""Download, verify and lay out the data sets: ``jarlib data fetch`` (``make data``).

Every download is pinned in ``data/sources.json``: a base URL per source (Berkeley's BSDS500
archive, FBCNN's ``testsets/`` at a fixed commit, DIV2K, Flickr2K), each file's path under its base
and its hash (the upstream file's own). Downloads go through pooch (hash check, re-fetch of a file
that does not match) with a downloader that resumes a partial download (HTTP ``Range``) and shows a
progress bar. Each set is then extracted (or converted, BMP -> PNG, losslessly) into a hidden staging
folder beside its place, checked image by image against ``data/checksums/<set>.sha256``, and only
then renamed into place: the data folder never holds a half-written set. A set already present and
verified is left alone and nothing is downloaded for it.

Mirrors and tests override a base URL with ``--base-url KEY=URL`` or ``JARLIB_FETCH_<KEY>_URL``;
``--sources FILE`` reads another catalogue in the same format (the tests serve small archives in the
upstream layouts from a server on 127.0.0.1).
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import sys
import tarfile
import urllib.error
import urllib.request
import zipfile
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image

from jarlib.data.manifest import file_sha256, parse_checksums, verify
from jarlib.data.registry import DATASETS, ENV_VAR, IMAGE_SUFFIXES, MANIFEST, data_root, dataset_info, user_data_dir

SOURCES = MANIFEST.parent / "sources.json"
"""The pinned catalogue of downloads (``data/sources.json``)."""
DEFAULT_SETS = tuple(name for name, info in DATASETS.items() if not info.optional)
"""What ``jarlib data fetch`` gets without ``--sets``: the test sets and BSDS500 (not DIV2K / Flickr2K)."""
GROUPS = {"bsds500": ("bsds500_train", "bsds500_val", "bsds500_test"),
          "default": DEFAULT_SETS, "all": tuple(DATASETS)}
"""Names that stand for several sets on the command line."""
STAGING_PREFIX = ".jarlib-staging-"


class FetchError(RuntimeError):
    """A set could not be fetched; the message names the set, the URL tried and the manual way."""


@dataclass(frozen=True)
class Download:
    """One file to download: where from (``base`` key + ``path``), its pinned hash and size."""

    key: str
    base: str
    path: str
    hash: str
    bytes: int | None = None


@dataclass(frozen=True)
class SetSource:
    """Where one registry set comes from: an archive folder (``member_dir``) or single files."""

    name: str
    downloads: tuple[Download, ...]
    member_dir: str | None = None
    convert: str | None = None
    expected: dict[str, str] | None = None  # file name -> SHA-256 of the set as laid out
    count: int = 0


@dataclass
class Catalog:
    """The parsed ``sources.json``: base URLs (after overrides) and one :class:`SetSource` per set."""

    bases: dict[str, str]
    sets: dict[str, SetSource]
    path: Path
    downloads: dict[str, Download] = field(default_factory=dict)

    def url(self, d: Download) -> str:
        return self.bases[d.base].rstrip("/") + "/" + d.path

    def size(self, names: Iterable[str]) -> int | None:
        """Bytes to download for the sets ``names``, each file once (``None`` when a size is not pinned)."""
        unique = {d.key: d.bytes for n in names for d in self.sets[n].downloads}
        return None if None in unique.values() else sum(b for b in unique.values() if b is not None)


def load_catalog(path: str | os.PathLike | None = None, base_urls: dict[str, str] | None = None) -> Catalog:
    """Read a catalogue (default ``data/sources.json``); bases overridden by ``JARLIB_FETCH_<KEY>_URL``
    and then by ``base_urls``. Checksum paths are relative to the catalogue's folder."""
    path = Path(path) if path is not None else SOURCES
    raw = json.loads(path.read_text())
    bases = dict(raw["bases"])
    for key in bases:
        env = os.environ.get(f"JARLIB_FETCH_{key.upper()}_URL")
        if env:
            bases[key] = env
    for key, url in (base_urls or {}).items():
        if key not in bases:
            raise FetchError(f"--base-url: unknown source {key!r}; known: {', '.join(bases)}")
        bases[key] = url
    downloads = {k: Download(k, d["base"], d["path"], d["hash"], d.get("bytes")) for k, d in raw["downloads"].items()}
    sets = {}
    for name, s in raw["sets"].items():
        expected = (parse_checksums((path.parent / s["checksums"]).read_text()) if s.get("checksums") else None)
        if "files" in s:
            dls = tuple(Download(f"{name}:{p}", s["base"], p, v["hash"], v.get("bytes")) for p, v in s["files"].items())
        else:
            dls = (downloads[s["download"]],)
        count = len(expected) if expected is not None else int(s["count"])
        sets[name] = SetSource(name, dls, s.get("member_dir"), s.get("convert"), expected, count)
    return Catalog(bases, sets, path, downloads)


def expand_names(names: Iterable[str] | None, catalog: Catalog) -> list[str]:
    """Registry set names from command-line names (groups ``bsds500``, ``default``, ``all`` expanded),
    in order, without duplicates. Raises :class:`FetchError` for an unknown name."""
    out: list[str] = []
    for n in (names or ["default"]):
        for m in GROUPS.get(n, (n,)):
            if m not in catalog.sets:
                known = ", ".join([*catalog.sets, *GROUPS])
                raise FetchError(f"unknown data set {m!r}; known: {known}")
            if m not in out:
                out.append(m)
    return out


# ---------------------------------------------------------------------------------------------
# Downloading

class ResumableDownloader:
    """A pooch downloader that resumes: bytes already received are kept in ``<cache>/<name>.part``
    and the next attempt asks the server for the rest (HTTP ``Range``); a server that ignores the
    range sends the whole file, which then replaces the part. Only a complete file reaches pooch,
    which checks its hash."""

    def __init__(self, part: Path, progress: bool = True, timeout: float = 30.0) -> None:
        self.part = Path(part)
        self.progress = progress
        self.timeout = timeout

    def __call__(self, url: str, output_file: Any, pooch_: Any = None, check_only: bool = False) -> bool | None:
        if check_only:
            with urllib.request.urlopen(urllib.request.Request(url, method="HEAD"), timeout=self.timeout):
                return True
        from tqdm.auto import tqdm

        offset = self.part.stat().st_size if self.part.exists() else 0
        headers = {"Range": f"bytes={offset}-"} if offset else {}
        try:
            resp = urllib.request.urlopen(urllib.request.Request(url, headers=headers), timeout=self.timeout)
        except urllib.error.HTTPError as exc:
            if exc.code != 416 or not offset:  # 416: the part already holds the whole file
                raise
            resp = None
        if resp is not None:
            with resp:
                resumed = offset > 0 and resp.status == 206
                length = resp.headers.get("Content-Length")
                total = (int(length) + (offset if resumed else 0)) if length else None
                with open(self.part, "ab" if resumed else "wb") as f, tqdm(
                        total=total, initial=offset if resumed else 0, unit="B", unit_scale=True,
                        desc=Path(url).name, disable=not self.progress, leave=False) as bar:
                    for chunk in iter(lambda: resp.read(1 << 20), b""):
                        f.write(chunk)
                        bar.update(len(chunk))
                if total is not None and self.part.stat().st_size != total:
                    raise urllib.error.URLError(f"connection closed after {self.part.stat().st_size} of {total} bytes")
        shutil.move(str(self.part), str(output_file))
        return None


def _cache_name(d: Download) -> str:
    """A file name in the download cache, unique per download (two sets can hold ``bikes.bmp``)."""
    stem = Path(d.path).name
    return stem if ":" not in d.key else f"{hashlib.sha256(d.key.encode()).hexdigest()[:12]}-{stem}"


def download(d: Download, url: str, cache: Path, progress: bool = True) -> Path:
    """The verified file of ``d`` in ``cache``: used as it is when its hash matches, else (missing,
    partial, corrupt) fetched with pooch; raises ``ValueError`` on a hash mismatch, ``OSError`` /
    ``urllib.error.URLError`` when the server cannot be reached."""
    import pooch

    pooch.get_logger().setLevel("WARNING")  # one line per set from fetch(), not one per file
    cache.mkdir(parents=True, exist_ok=True)
    fname = _cache_name(d)
    downloader = ResumableDownloader(cache / f"{fname}.part", progress=progress)
    return Path(pooch.retrieve(url, known_hash=d.hash, fname=fname, path=cache, downloader=downloader,
                               progressbar=False))


# ---------------------------------------------------------------------------------------------
# Laying a set out

def _image_name(name: str) -> bool:
    return Path(name).suffix.lower() in IMAGE_SUFFIXES


def _members(archive: Path, member_dir: str) -> Iterable[tuple[str, Callable[[], bytes]]]:
    """``(file name, read)`` for the images directly inside ``member_dir`` of a tar or zip archive."""
    prefix = member_dir.strip("/") + "/"
    if zipfile.is_zipfile(archive):
        with zipfile.ZipFile(archive) as z:
            for info in z.infolist():
                rest = info.filename[len(prefix):]
                if info.filename.startswith(prefix) and "/" not in rest and not info.is_dir() and _image_name(rest):
                    yield rest, (lambda info=info: z.read(info))
        return
    with tarfile.open(archive) as t:
        for m in t:
            rest = m.name[len(prefix):]
            if m.name.startswith(prefix) and "/" not in rest and m.isfile() and _image_name(rest):
                yield rest, (lambda m=m: t.extractfile(m).read())  # type: ignore[union-attr]


def _png_bytes(data: bytes) -> bytes:
    """The image in ``data`` as a PNG with Pillow's ``optimize=True``: the encoding the registry's
    checksums were made with; checked lossless."""
    with Image.open(io.BytesIO(data)) as im:
        pixels = np.asarray(im)
        buf = io.BytesIO()
        im.save(buf, "PNG", optimize=True)
    with Image.open(io.BytesIO(buf.getvalue())) as back:
        if not np.array_equal(np.asarray(back), pixels):
            raise FetchError("PNG conversion was not lossless")
    return buf.getvalue()


def layout(source: SetSource, files: Sequence[Path], staging: Path) -> None:
    """Write the images of ``source`` into ``staging`` from its downloaded ``files``."""
    staging.mkdir(parents=True)
    if source.member_dir is not None:
        for name, read in _members(files[0], source.member_dir):
            (staging / name).write_bytes(read())
        return
    for d, path in zip(source.downloads, files):
        name = Path(d.path).name
        data = path.read_bytes()
        if source.convert == "png":
            name, data = Path(name).stem + ".png", _png_bytes(data)
        (staging / name).write_bytes(data)


def check_folder(folder: Path, source: SetSource) -> list[str]:
    """What is wrong with ``folder`` as set ``source`` (empty when it is right): file count, and the
    SHA-256 of every image where the catalogue records them."""
    if not folder.is_dir():
        return [f"{folder} not found"]
    found = sorted(p for p in folder.iterdir() if p.is_file() and _image_name(p.name))
    problems = []
    if len(found) != source.count:
        problems.append(f"{len(found)} images, expected {source.count}")
    if source.expected is not None:
        names = {p.name for p in found}
        missing = sorted(set(source.expected) - names)
        extra = sorted(names - set(source.expected))
        bad = sorted(p.name for p in found if p.name in source.expected
                     and file_sha256(p) != source.expected[p.name])
        for label, items in (("missing", missing), ("unexpected", extra), ("checksum differs", bad)):
            if items:
                problems.append(f"{label}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}")
    return problems


# ---------------------------------------------------------------------------------------------
# The whole fetch

@dataclass
class FetchResult:
    """What :func:`fetch` did for one set: ``"present"`` (verified, left alone), ``"fetched"``, or
    ``"failed"`` with the message; ``moved_aside`` is where a wrong folder that was replaced went."""

    name: str
    status: str
    folder: Path
    message: str = ""
    moved_aside: Path | None = None


def manual_way(name: str) -> str:
    """The by-hand instructions for a set (``data/README.md`` in one line)."""
    return (f"get it by hand as data/README.md says (sources and terms: data/datasets.json) and put its "
            f"images in <data root>/{dataset_info(name).subdir}/")


def _aside(folder: Path) -> Path:
    n = 1
    while (target := folder.with_name(f"{folder.name}.replaced-{n}")).exists():
        n += 1
    return target


def fetch(names: Sequence[str], root: Path, catalog: Catalog | None = None, cache: Path | None = None,
          progress: bool = True, keep_downloads: bool = False,
          before_download: Callable[[list[str]], None] | None = None,
          log: Callable[[str], None] = print) -> list[FetchResult]:
    """Fetch the registry sets ``names`` into ``root`` (see the module docstring). Never raises for a
    set that fails: its :class:`FetchResult` says why, and the other sets are still fetched.

    before_download: called once with the names about to be downloaded, before the first byte (the
    CLI prints the terms there and may stop by raising :class:`FetchError`).
    """
    catalog = catalog or load_catalog()
    root = Path(root)
    cache = Path(cache) if cache is not None else root / ".jarlib-downloads"
    results: dict[str, FetchResult] = {}
    todo = []
    for name in names:
        folder = root / dataset_info(name).subdir
        problems = check_folder(folder, catalog.sets[name])
        if not problems:
            results[name] = FetchResult(name, "present", folder, "already there and verified")
        else:
            todo.append(name)
    if todo and before_download is not None:
        before_download(todo)
    used: dict[Path, list[str]] = {}
    for name in todo:
        source, folder = catalog.sets[name], root / dataset_info(name).subdir
        staging = folder.with_name(STAGING_PREFIX + folder.name)
        url = ""
        first = catalog.url(source.downloads[0])
        log(f"{name}: fetching {first}" + (f" and {len(source.downloads) - 1} more files" if len(source.downloads) > 1 else ""))
        try:
            files = []
            for d in source.downloads:
                url = catalog.url(d)
                files.append(download(d, url, cache, progress))
        except ValueError as exc:  # pooch: the hash does not match (the bad file is not kept)
            results[name] = FetchResult(name, "failed", folder,
                                        f"{name}: {url} does not match its pinned hash ({exc}). Nothing was "
                                        f"written. Try again later, or {manual_way(name)}")
            continue
        except (OSError, urllib.error.URLError) as exc:
            reason = getattr(exc, "reason", None) or exc
            results[name] = FetchResult(name, "failed", folder,
                                        f"{name}: could not download {url} ({reason}). Nothing was written to "
                                        f"{folder}. Check the connection and run the command again (a partial "
                                        f"download resumes), or {manual_way(name)}")
            continue
        for f in files:
            used.setdefault(f, []).append(name)
        try:
            if staging.exists():
                shutil.rmtree(staging)
            folder.parent.mkdir(parents=True, exist_ok=True)
            layout(source, files, staging)
            problems = check_folder(staging, source)
            if problems:
                raise FetchError(f"the files downloaded verify, the set laid out from them does not "
                                 f"({'; '.join(problems)})")
            aside = None
            if folder.exists():
                aside = _aside(folder)
                folder.rename(aside)
            staging.rename(folder)
            results[name] = FetchResult(name, "fetched", folder, f"{source.count} images", aside)
        except (FetchError, OSError, tarfile.TarError, zipfile.BadZipFile) as exc:
            results[name] = FetchResult(name, "failed", folder,
                                        f"{name}: could not lay out the set from {url}: {exc}. Nothing was "
                                        f"written to {folder}; {manual_way(name)}")
        finally:
            if staging.exists():
                shutil.rmtree(staging, ignore_errors=True)
    if not keep_downloads:
        for path, users in used.items():
            if all(results[u].status == "fetched" for u in users):
                path.unlink(missing_ok=True)
        try:
            cache.rmdir()  # only when empty
        except OSError:
            pass
    return [results[n] for n in names]


def describe_sets(catalog: Catalog | None = None) -> str:
    """One line per set: name, size to download, source (for ``jarlib data fetch --help``)."""
    catalog = catalog or load_catalog()
    lines = []
    for name, s in catalog.sets.items():
        size = catalog.size([name])
        shared = [n for n, o in catalog.sets.items() if o.downloads == s.downloads and n != name]
        where = s.downloads[0].path if len(s.downloads) == 1 else f"{len(s.downloads)} files under {Path(s.downloads[0].path).parent}/"
        size_text = "size not pinned" if size is None else f"{size / 1e6:,.0f} MB" if size >= 1e6 else f"{size / 1e3:,.0f} kB"
        extra = f", one archive with {', '.join(shared)}" if shared else ""
        opt = " (optional)" if DATASETS[name].optional else ""
        lines.append(f"  {name:14s}{opt:11s} {s.count:5d} images, {size_text}{extra}: {where} ({s.downloads[0].base})")
    return "\n".join(lines)


# ---------------------------------------------------------------------------------------------
# Command line: jarlib data fetch

def default_root() -> Path:
    """Where the sets go without ``--root``: ``JARLIB_DATA`` (created if needed), else the data root
    found (``../shared/datasets`` beside the repository), else :func:`~jarlib.data.registry.user_data_dir`."""
    env = os.environ.get(ENV_VAR)
    if env:
        return Path(env).expanduser()
    return data_root(required=False) or user_data_dir()


def terms(names: Sequence[str]) -> str:
    """The source and terms of each set, as ``data/datasets.json`` states them."""
    entries = json.loads(MANIFEST.read_text())["datasets"]
    return "\n".join(f"- {n}: {entries[n]['source']}\n  Terms: {entries[n]['licence']}" for n in names)


def add_arguments(parser: Any) -> None:
    """The options of ``jarlib data fetch``."""
    parser.add_argument("--sets", nargs="+", metavar="SET", default=None,
                        help="sets to fetch (default: default); groups: bsds500 (its three splits), default "
                             "(every set but the optional ones), all")
    parser.add_argument("--root", metavar="DIR", default=None,
                        help="data folder to fill (default: $JARLIB_DATA, else ../shared/datasets when it "
                             "exists, else ~/.local/share/jarlib/datasets, where jarlib looks by default)")
    parser.add_argument("--yes", "-y", action="store_true",
                        help="accept the terms printed before the first download without asking (scripts)")
    parser.add_argument("--base-url", action="append", default=[], metavar="KEY=URL",
                        help="download source KEY from URL instead (a mirror); also JARLIB_FETCH_<KEY>_URL")
    parser.add_argument("--cache", metavar="DIR", default=None,
                        help="where downloads are kept until their sets are laid out "
                             "(default: <root>/.jarlib-downloads; partial downloads resume from there)")
    parser.add_argument("--keep-downloads", action="store_true", help="keep the downloaded archives and files")
    parser.add_argument("--quiet", "-q", action="store_true", help="no progress bars")
    parser.add_argument("--sources", metavar="FILE", default=None,
                        help="another catalogue in the format of data/sources.json (tests, mirrors)")


def help_epilog() -> str:
    """The sets, sizes and sources, for ``--help``."""
    cat = load_catalog()
    bases = "\n".join(f"  {k:9s} {v}" for k, v in cat.bases.items())
    return (f"sets (registry name, images, download, source):\n{describe_sets(cat)}\n\nsources:\n{bases}\n\n"
            "Each download is checked against its pinned hash (data/sources.json) and each set, image by image, "
            "against data/checksums/; a set already present and verified is left alone; a failed set leaves "
            "nothing in its folder. None of the sets may be redistributed: their terms are printed before the "
            "first download.")


def run(args: Any) -> int:
    """``jarlib data fetch``: exit status 0 when every set is there and verified, 1 when one failed,
    2 for a bad command line or declined terms."""
    try:
        pairs = [b.split("=", 1) for b in args.base_url]
        if any(len(p) != 2 for p in pairs):
            raise FetchError("--base-url takes KEY=URL")
        catalog = load_catalog(args.sources, dict(pairs))  # type: ignore[arg-type]
        names = expand_names(args.sets, catalog)
    except (FetchError, OSError, ValueError, KeyError) as exc:
        print(f"jarlib data fetch: error: {exc}", file=sys.stderr)
        return 2
    root = Path(args.root).expanduser() if args.root else default_root()

    def confirm(todo: list[str]) -> None:
        size = catalog.size(todo)
        amount = "a size not pinned" if size is None else f"about {size / 1e6:,.0f} MB"
        print(f"About to download {', '.join(todo)} ({amount}) into {root}.\n"
              f"These sets are not ours to redistribute; their sources and terms:\n{terms(todo)}")
        if args.yes:
            return
        if not sys.stdin.isatty():
            raise FetchError("pass --yes to accept these terms when not asked at a terminal")
        if input("Accept the terms and download? [y/N] ").strip().lower() not in ("y", "yes"):
            raise FetchError("terms not accepted; nothing was downloaded")

    try:
        results = fetch(names, root, catalog, cache=Path(args.cache) if args.cache else None,
                        progress=not args.quiet, keep_downloads=args.keep_downloads, before_download=confirm)
    except FetchError as exc:
        print(f"jarlib data fetch: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("jarlib data fetch: interrupted; run it again to resume", file=sys.stderr)
        return 130
    for r in results:
        line = f"{r.name:14s} {r.status:8s} {r.folder}  ({r.message})" if r.status != "failed" else f"{r.name:14s} failed"
        print(line)
        if r.moved_aside is not None:
            print(f"{'':14s} the folder that was there did not verify: kept as {r.moved_aside}")
    failed = [r for r in results if r.status == "failed"]
    if args.sources is None:  # the registry's own check, as `python -m jarlib.data.manifest --verify` runs it

        reports = [verify(r.name, root) for r in results if r.status != "failed"]
        print("python -m jarlib.data.manifest --verify:", "; ".join(
            f"{rep.name} {rep.found_count}/{rep.expected_count} {'OK' if rep.ok else 'FAILED'}" for rep in reports))
    for r in failed:
        print(f"jarlib data fetch: {r.message}", file=sys.stderr)

    found = data_root(required=False)
    if found is None or found.resolve() != root.resolve():
        print(f"jarlib looks for the data sets in {found or 'no folder yet'}: set JARLIB_DATA={root} to use these.")
    return 1 if failed else 0
