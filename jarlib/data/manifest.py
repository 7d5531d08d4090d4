"""Check that the data sets on disk are the ones the project's numbers were computed on.

``data/datasets.json`` records, for each registry set (``jarlib.data.DATASETS``): where it comes
from (``jarlib data fetch`` downloads it from the pinned ``data/sources.json``), its terms of use, the expected number of files, and a
set-level SHA-256. ``data/checksums/<set>.sha256`` holds the per-file hashes in ``sha256sum``
format, one ``<hex>  <file name>`` line per file, sorted by file name; the set-level SHA-256 is the
SHA-256 of exactly those bytes. So ``cd <folder> && sha256sum -c <set>.sha256`` checks a set
without Python.

Command line::

    python -m jarlib.data.manifest --verify [SET ...]   # exit status 1 if any set fails
    python -m jarlib.data.manifest --write  [SET ...]   # regenerate the hashes from the data on disk
"""

from __future__ import annotations

import argparse
import hashlib
import json
import sys
from dataclasses import dataclass, field
from pathlib import Path

from jarlib.data.registry import DATASETS, IMAGE_SUFFIXES, MANIFEST, data_root, dataset_info, fetch_command

CHECKSUM_DIR = MANIFEST.parent / "checksums"


@dataclass(frozen=True)
class VerifyReport:
    """What :func:`verify` found for one set. ``ok`` is true only if nothing is missing or differs."""

    name: str
    folder: Path
    expected_count: int
    found_count: int
    missing: tuple[str, ...] = ()
    unexpected: tuple[str, ...] = ()
    mismatched: tuple[str, ...] = ()
    set_sha256_ok: bool = False
    problems: tuple[str, ...] = field(default=())

    @property
    def ok(self) -> bool:
        return (not self.problems and self.found_count == self.expected_count and not self.missing
                and not self.unexpected and not self.mismatched and self.set_sha256_ok)

    def __str__(self) -> str:
        head = f"{self.name:14s} {self.found_count:4d}/{self.expected_count:<4d} {'OK' if self.ok else 'FAILED'}"
        details = [*self.problems]
        for label, items in (("missing", self.missing), ("unexpected", self.unexpected),
                             ("checksum differs", self.mismatched)):
            if items:
                details.append(f"{label}: {', '.join(items[:5])}{' ...' if len(items) > 5 else ''}")
        return head + "".join(f"\n    {d}" for d in details)


def file_sha256(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def checksum_lines(folder: Path) -> str:
    """``sha256sum``-format text for the image files of ``folder``, sorted by file name."""
    files = sorted(p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in IMAGE_SUFFIXES)
    return "".join(f"{file_sha256(p)}  {p.name}\n" for p in files)


def parse_checksums(text: str) -> dict[str, str]:
    """``{file name: hex SHA-256}`` from ``sha256sum``-format text."""
    out = {}
    for line in text.splitlines():
        if line.strip():
            digest, name = line.split(maxsplit=1)
            out[name.strip().lstrip("*")] = digest
    return out


def load_manifest(path: Path = MANIFEST) -> dict:
    """The parsed ``data/datasets.json``."""
    return json.loads(Path(path).read_text())


def verify(name: str, root: Path | None = None) -> VerifyReport:
    """Count and hash the files of set ``name`` and compare with ``data/datasets.json``.

    root: the data root (default :func:`jarlib.data.data_root`). Never raises for a missing or wrong
    set: the report says what is wrong (``report.ok``, ``str(report)``).
    """
    info = dataset_info(name)
    root = root if root is not None else data_root(required=False)
    folder = Path(root) / info.subdir if root is not None else Path(info.subdir)
    try:
        entry = load_manifest()["datasets"][name]
        expected = (parse_checksums((CHECKSUM_DIR / f"{name}.sha256").read_text()) if entry.get("checksums") else None)
    except (OSError, KeyError, ValueError) as exc:
        return VerifyReport(name, folder, info.count, 0, problems=(f"manifest entry unreadable: {exc}",))
    if root is None or not folder.is_dir():
        return VerifyReport(name, folder, entry["count"], 0,
                            problems=(f"folder not found: {folder} (fetch it: {fetch_command(name)})",))
    text = checksum_lines(folder)
    found = parse_checksums(text)
    if expected is None:  # a set without recorded hashes (DIV2K, Flickr2K): the count is all we can check
        return VerifyReport(name, folder, entry["count"], len(found), set_sha256_ok=True)
    return VerifyReport(
        name, folder, entry["count"], len(found),
        missing=tuple(sorted(set(expected) - set(found))),
        unexpected=tuple(sorted(set(found) - set(expected))),
        mismatched=tuple(sorted(n for n in set(found) & set(expected) if found[n] != expected[n])),
        set_sha256_ok=hashlib.sha256(text.encode()).hexdigest() == entry.get("sha256"),
    )


def write(names: list[str], root: Path | None = None) -> None:
    """Regenerate ``data/checksums/<set>.sha256`` and the counts and set hashes in ``data/datasets.json``
    from the data on disk (the sources and terms in the JSON are kept as they are)."""
    root = Path(root) if root is not None else data_root()
    manifest = load_manifest()
    CHECKSUM_DIR.mkdir(parents=True, exist_ok=True)
    for name in names:
        info = dataset_info(name)
        text = checksum_lines(root / info.subdir)
        (CHECKSUM_DIR / f"{name}.sha256").write_text(text)
        entry = manifest["datasets"].setdefault(name, {})
        entry.update(folder=info.subdir, count=text.count("\n"), checksums=f"checksums/{name}.sha256",
                     sha256=hashlib.sha256(text.encode()).hexdigest())
    MANIFEST.write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n")


def main(argv: list[str] | None = None) -> int:
    """Command-line entry: ``--verify`` (default) or ``--write``, for the named sets or all."""
    parser = argparse.ArgumentParser(prog="python -m jarlib.data.manifest", description=__doc__.splitlines()[0])
    group = parser.add_mutually_exclusive_group()
    group.add_argument("--verify", action="store_true", help="check counts and SHA-256 (default)")
    group.add_argument("--write", action="store_true", help="regenerate the hashes from the data on disk")
    parser.add_argument("sets", nargs="*", metavar="SET",
                        help=f"sets to process (default: every set but the optional training sets "
                             f"{', '.join(n for n, i in DATASETS.items() if i.optional)}, which are verified "
                             "when present)")
    args = parser.parse_args(argv)
    root = data_root(required=False)
    names = args.sets or [n for n, i in DATASETS.items()
                          if not i.optional or (root is not None and (root / i.subdir).is_dir())]
    unknown = [n for n in names if n not in DATASETS]
    if unknown:
        parser.error(f"unknown set(s) {', '.join(unknown)}; known: {', '.join(DATASETS)}")
    if args.write:
        write(names)
        print(f"wrote {MANIFEST} and {len(names)} checksum file(s) in {CHECKSUM_DIR}")
        return 0
    print(f"data root: {root}")
    reports = [verify(n) for n in names]
    for r in reports:
        print(r)
    return 0 if all(r.ok for r in reports) else 1


if __name__ == "__main__":
    sys.exit(main())
