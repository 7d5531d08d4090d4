"""The ``jarlib`` command: restore your own JPEG photos with a zoo model; fetch the data sets.

    jarlib restore photo.jpg more/*.jpg -o restored/            # the FBCNN models, blind
    jarlib restore scan.jpg -o out/ --model dcsc_gray --tile 256
    jarlib restore photo.jpg -o out/ --qf 20                     # FBCNN: set the QF by hand
    jarlib data fetch                                            # the data sets (jarlib.data.fetch)

Every input is read as a JPEG file (baseline or progressive, 8-bit gray, colour or CMYK, any size up
to ``--max-pixels``; the primary image of an MPO file; the quantization tables come from the file for
the models that use them) and written as ``OUTDIR/<name>.png``; each written file is printed as
``input -> output``. Large photos are restored in overlapping tiles, so memory depends on the tile
size, not on the photo. Every input is checked from its header before anything is decoded, so a
decompression bomb is refused at once. Existing files are never overwritten (``--overwrite``
replaces outputs); a file that cannot be restored is skipped with a one-line reason, the others
are still written, and the exit status is 1 at the end (2: a command-line problem, nothing done).
"""

from __future__ import annotations

import argparse
import errno
import sys
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

import numpy as np

from jarlib.atomic import atomic_path
from jarlib.block import BLOCK
from jarlib.jpeg.header import DEFAULT_MAX_PIXELS

JPEG_SUFFIXES = {".jpg", ".jpeg", ".jpe", ".jfif"}
AUTO_MODELS = {"gray": "fbcnn_gray", "color": "fbcnn_color"}
"""What ``--model auto`` uses for gray and for colour files."""

_MAGIC = [(b"\x89PNG\r\n\x1a\n", "a PNG image"), (b"GIF8", "a GIF image"), (b"BM", "a BMP image"),
          (b"II*\x00", "a TIFF image"), (b"MM\x00*", "a TIFF image"), (b"%PDF", "a PDF document")]


class CliError(Exception):
    """A problem with the command line itself (unknown model, no CUDA): exit status 2."""


def describe_non_jpeg(data: bytes) -> Optional[str]:
    """Why ``data`` is not a JPEG file, in words (``None`` when it starts like one)."""
    if not data:
        return "the file is empty"
    if data[:2] == b"\xff\xd8":
        return None
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return "a WebP image, not a JPEG"
    for magic, what in _MAGIC:
        if data.startswith(magic):
            return f"{what}, not a JPEG"
    try:
        data[:4096].decode("utf-8")
        return "a text file, not a JPEG"
    except UnicodeDecodeError:
        return "not a JPEG file (it does not start with the JPEG marker FF D8)"


def _key(p: Path) -> Path:
    """The resolved path, or the absolute one where resolving fails (a symlink loop): such an
    input is kept, and skipped later with its reason."""
    try:
        return p.resolve()
    except (OSError, RuntimeError):
        return p.absolute()


def expand_inputs(inputs: Sequence[str]) -> list[Path]:
    """Files as given, directories expanded to the JPEG files directly inside them (by suffix),
    in order, without duplicates."""
    out: list[Path] = []
    seen: set[Path] = set()
    for item in inputs:
        p = Path(item)
        try:
            paths = sorted(q for q in p.iterdir() if q.suffix.lower() in JPEG_SUFFIXES) if p.is_dir() else [p]
        except OSError:
            paths = [p]                       # an unreadable folder: skipped later with its reason
        for q in paths:
            key = _key(q)
            if key not in seen:
                seen.add(key)
                out.append(q)
    return out


def output_paths(inputs: Sequence[Path], outdir: Path) -> list[Path]:
    """``outdir/<stem>.png`` for each input, made unique (``<stem>-2.png``, ...) and never one of
    the inputs themselves. The names depend only on the inputs and their order, never on what the
    folder already holds: a rerun writes the same names (and finds them there)."""
    taken = {_key(p) for p in inputs}
    out = []
    for p in inputs:
        candidate, n = outdir / f"{p.stem}.png", 1
        while _key(candidate) in taken:
            n += 1
            candidate = outdir / f"{p.stem}-{n}.png"
        taken.add(_key(candidate))
        out.append(candidate)
    return out


def read_input(path: Path) -> bytes:
    """The bytes of an input file; ``ValueError`` saying why not (missing, a folder, a symlink loop,
    no permission)."""
    try:
        if path.is_dir():
            raise ValueError("a folder with no JPEG files directly inside" if path.exists() else "not a file")
        return path.read_bytes()
    except OSError as exc:
        reasons = {errno.ENOENT: "no such file", errno.ELOOP: "a symlink loop", errno.EACCES: "permission denied",
                   errno.EISDIR: "not a file"}
        raise ValueError(reasons.get(exc.errno, exc.strerror or str(exc))) from None


def prepare_outdir(outdir: Path) -> None:
    """Create the output folder, or raise :class:`CliError` when it cannot be one (an existing
    file, a path under a file, no permission): before anything is read or written."""
    if outdir.exists() and not outdir.is_dir():
        raise CliError(f"-o {outdir}: a file exists there; name a folder")
    try:
        outdir.mkdir(parents=True, exist_ok=True)
    except (FileExistsError, NotADirectoryError):
        raise CliError(f"-o {outdir}: a part of the path is a file, not a folder") from None
    except OSError as exc:
        raise CliError(f"-o {outdir}: cannot create the folder ({exc.strerror or exc})") from None


def _orientation(pil: Any) -> int:
    try:
        return int(pil.getexif().get(0x0112, 1))
    except Exception:  # a broken EXIF block does not stop the restoration
        return 1


def _apply_orientation(img: np.ndarray, orientation: int) -> np.ndarray:
    """The EXIF orientation (1-8) applied to the restored pixels, as viewers show the photo. The
    network works on the stored pixels, where the 8x8 JPEG grid is."""
    from PIL import Image

    ops = {2: [Image.Transpose.FLIP_LEFT_RIGHT], 3: [Image.Transpose.ROTATE_180],
           4: [Image.Transpose.FLIP_TOP_BOTTOM], 5: [Image.Transpose.TRANSPOSE],
           6: [Image.Transpose.ROTATE_270], 7: [Image.Transpose.TRANSVERSE], 8: [Image.Transpose.ROTATE_90]}
    pil = Image.fromarray(img)
    for op in ops.get(orientation, []):
        pil = pil.transpose(op)
    return np.asarray(pil)


def write_png_atomic(img: np.ndarray, path: Path, icc_profile: Optional[bytes] = None) -> None:
    """Save ``img`` as PNG at ``path`` through a temporary file in the same folder and a rename, so
    an interrupted run never leaves a half-written image."""
    from PIL import Image

    kwargs = {"icc_profile": icc_profile} if icc_profile else {}
    with atomic_path(path) as tmp:
        Image.fromarray(img).save(tmp, format="PNG", **kwargs)


@dataclass
class RestoreReport:
    """What :func:`restore_files` did: written ``(input, output)`` pairs, skipped ``(input, reason)``."""

    written: list[tuple[Path, Path]] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    notes: list[tuple[Path, str]] = field(default_factory=list)


class ModelCache:
    """Zoo models loaded on first use (``auto`` needs up to two: gray and colour)."""

    def __init__(self, name: str, device: str) -> None:
        # lazy: `jarlib restore`'s checks and --help run before torch is imported
        from jarlib import zoo

        self.name, self.device, self.models = name, device, {}
        names = set(AUTO_MODELS.values()) if name == "auto" else {name}
        missing = sorted(n for n in names if n not in zoo.available())
        if missing:
            raise CliError(f"no zoo model {', '.join(missing)}; available: {', '.join(zoo.available()) or 'none'}")

    def for_image(self, color: bool) -> tuple[str, Any]:
        # lazy: `jarlib restore`'s checks and --help run before torch is imported
        from jarlib import zoo

        name = AUTO_MODELS["color" if color else "gray"] if self.name == "auto" else self.name
        if name not in self.models:
            self.models[name] = zoo.load(name, self.device)
        return name, self.models[name]


def restore_one(model: Any, data: Any, qf: Optional[int], tile: int, flip_ensemble: bool = False) -> np.ndarray:
    """One JPEG (its bytes, or a :class:`~jarlib.models.base.DecodedJpeg`) -> restored uint8 image
    (stored orientation); ``flip_ensemble``: the mean over the image's four flips
    (:meth:`jarlib.models.base.Restorer.restore_tensor`, 4x the time)."""
    if qf is not None and "qf" not in model.side_inputs:
        raise CliError(f"--qf {qf}: the model {type(model).__name__} has no QF input (FBCNN and QGCN do); drop --qf")
    return model.restore(data, qf=qf, tile=tile, flip_ensemble=flip_ensemble)


def restore_files(inputs: Sequence[Path], outdir: Path, model: str = "auto", qf: Optional[int] = None,
                  tile: int = 512, device: str = "auto", progress: bool = True,
                  flip_ensemble: bool = False, max_pixels: int = DEFAULT_MAX_PIXELS,
                  overwrite: bool = False) -> RestoreReport:
    """Restore JPEG files into ``outdir`` as PNG (see the module docstring); returns a report.

    Every input is checked first, from its header and without torch (a decompression bomb costs
    nothing); then the models are loaded only if something is left to restore. An existing output
    is never replaced unless ``overwrite``. Raises :class:`CliError` for a problem that concerns
    every file (unknown model, ``--qf`` for a model without one, CUDA asked for and absent, an
    output folder that cannot be); a problem with one file skips that file.
    """
    from tqdm import tqdm

    # lazy: `jarlib restore`'s checks and --help run before torch is imported
    from jarlib.jpeg.header import check_header, read_header

    if qf is not None and not 1 <= qf <= 100:
        raise CliError(f"--qf must be auto or a quality in 1..100, got {qf}")
    if tile and (tile % BLOCK or tile < 64):
        raise CliError(f"--tile must be 0 (no tiling) or a multiple of 8 of at least 64, got {tile}")
    if max_pixels < 1:
        raise CliError(f"--max-pixels must be a positive number of pixels, got {max_pixels}")
    prepare_outdir(outdir)
    report = RestoreReport()
    jobs = []
    for src, dst in zip(inputs, output_paths(inputs, outdir)):
        try:
            data = read_input(src)
            why = describe_non_jpeg(data)
            if why:
                raise ValueError(why)
            check_header(read_header(data), max_pixels)
            if dst.exists() and not overwrite:
                raise ValueError(f"{dst} already exists (--overwrite replaces it)")
            jobs.append((src, dst, data))
        except ValueError as exc:
            report.skipped.append((src, str(exc)))
    if not jobs:
        return report

    # lazy: `jarlib restore`'s checks and --help run before torch is imported
    from jarlib.jpeg import open_jpeg
    from jarlib.models.base import resolve_device, with_file_tables

    try:
        device = str(resolve_device(device))
    except ValueError as exc:
        raise CliError(f"--device {device}: {exc}") from None
    models = ModelCache(model, device)
    for src, dst, data in tqdm(jobs, desc="restoring", unit="file", disable=not progress, file=sys.stderr):
        try:
            pil, header = open_jpeg(data, max_pixels)   # raises ValueError naming the problem (truncated, ...)
            mode, orientation, icc = pil.mode, _orientation(pil), pil.info.get("icc_profile")
            pixels = np.asarray(pil if mode == "L" else pil.convert("RGB"))
            name, net = models.for_image(pixels.ndim == 3)
            restored = restore_one(net, with_file_tables(pixels, data), qf, tile, flip_ensemble)
            if mode == "CMYK":
                report.notes.append((src, "CMYK JPEG: restored as RGB"))
                icc = None                        # a CMYK profile does not describe the RGB output
            if header.mpo:
                report.notes.append((src, "an MPO file (a camera's photo with more images): restored its primary image"))
            if not header.has_eoi:
                report.notes.append((src, "the end marker (EOI) is missing; the image data is complete"))
            if dst.exists() and not overwrite:      # appeared while this run was working
                raise ValueError(f"{dst} already exists (--overwrite replaces it)")
            write_png_atomic(_apply_orientation(restored, orientation), dst, icc)
            report.written.append((src, dst))
        except CliError:
            raise
        except (ValueError, OSError, RuntimeError) as exc:
            report.skipped.append((src, str(exc)))
    return report


def _restore_main(args: argparse.Namespace) -> int:
    qf = None if args.qf == "auto" else _int(args.qf, "--qf")
    inputs = expand_inputs(args.inputs)
    if not inputs:
        raise CliError("no input files (a folder is searched for .jpg/.jpeg/.jpe/.jfif files)")
    report = restore_files(inputs, Path(args.output), args.model, qf, args.tile, args.device, not args.quiet,
                           args.flip_ensemble, _pixels(args.max_pixels), args.overwrite)
    for src, dst in report.written:
        print(f"{src} -> {dst}")
    for src, note in report.notes:
        print(f"note: {src}: {note}", file=sys.stderr)
    for src, why in report.skipped:
        print(f"skipped {src}: {why}", file=sys.stderr)
    print(f"restored {len(report.written)} of {len(inputs)} files into {args.output}")
    return 1 if report.skipped else 0


def _pixels(text: str) -> int:
    """``--max-pixels``: a count (``50000000``) or megapixels (``50M``, ``0.5M``)."""
    try:
        value = float(text[:-1]) * 1e6 if text.upper().endswith("M") else float(text)
    except ValueError:
        raise CliError(f"--max-pixels must be a number of pixels (e.g. 100M), got {text!r}") from None
    return int(value)


def _int(text: str, flag: str) -> int:
    try:
        return int(text)
    except ValueError:
        raise CliError(f"{flag} must be auto or an integer, got {text!r}") from None


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="jarlib", description="JPEG artifact removal with the jarlib model zoo.")
    sub = parser.add_subparsers(dest="command", required=True)
    p = sub.add_parser("restore", help="restore JPEG files into PNG files",
                       description="Restore JPEG files (or the JPEG files in folders) into OUTDIR as PNG.")
    p.add_argument("inputs", nargs="+", metavar="IN", help="JPEG files or folders of JPEG files")
    p.add_argument("-o", "--output", required=True, metavar="OUTDIR", help="folder for the PNG files (created)")
    p.add_argument("--model", default="auto",
                   help=f"a zoo model (python -m jarlib.zoo list); auto: {AUTO_MODELS['gray']} for gray files, "
                        f"{AUTO_MODELS['color']} for colour (default)")
    p.add_argument("--qf", default="auto", help="auto (the model reads the file, default) or 1..100: FBCNN's "
                   "QF knob (lower removes more), QGCN's tables")
    p.add_argument("--tile", type=int, default=512, help="tile size in pixels, a multiple of 8 (0: whole image; "
                   "default 512: memory stays bounded on large photos)")
    p.add_argument("--flip-ensemble", action="store_true", help="average the restorations of the image and its "
                   "three flips (a little better, 4x the time)")
    p.add_argument("--device", choices=["auto", "cpu", "cuda"], default="auto")
    p.add_argument("--max-pixels", default=f"{DEFAULT_MAX_PIXELS // 1_000_000}M", metavar="N",
                   help=f"refuse, before decoding, a file whose header claims more pixels (default "
                        f"{DEFAULT_MAX_PIXELS // 1_000_000}M: {DEFAULT_MAX_PIXELS:,}; a decompression bomb costs "
                        "nothing); also refused: a file whose image data is far too short for the size it claims")
    p.add_argument("--overwrite", action="store_true", help="replace output files that exist (default: skip "
                   "those inputs and say so)")
    p.add_argument("-q", "--quiet", action="store_true", help="no progress bar")

    # lazy: `jarlib restore`'s checks and --help run before torch is imported
    from jarlib.data import fetch

    data = sub.add_parser("data", help="fetch and check the data sets",
                          description="The data sets of the papers' tables (data/README.md).")
    data_sub = data.add_subparsers(dest="data_command", required=True)
    f = data_sub.add_parser("fetch", help="download, verify and lay out the data sets",
                            description="Download the data sets from their pinned public sources, verify them "
                                        "and lay them out where jarlib finds them.",
                            epilog=fetch.help_epilog(), formatter_class=argparse.RawDescriptionHelpFormatter)
    fetch.add_arguments(f)
    return parser


def main(argv: Optional[Sequence[str]] = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        if args.command == "restore":
            return _restore_main(args)
        if args.command == "data":
            # lazy: `jarlib restore`'s checks and --help run before torch is imported
            from jarlib.data import fetch

            return fetch.run(args)
    except CliError as exc:
        print(f"jarlib {args.command}: error: {exc}", file=sys.stderr)
        return 2
    return 2


if __name__ == "__main__":
    sys.exit(main())
