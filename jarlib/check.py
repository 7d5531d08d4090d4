"""Setup check: ``python -m jarlib.check`` (run by ``make setup``).

Prints the versions that matter for reproducing the papers' numbers (Pillow's JPEG library above
all: libjpeg-turbo reproduces the FBCNN tables, docs/conventions.md), whether CUDA is available, the
data root and the sets found there (the missing ones with the command that fetches them), and whether
the bundled sample images load. Exit status 0 even when data are missing; non-zero only when an
import fails.
"""

from __future__ import annotations

import importlib
import platform
import sys

REQUIRED = ("numpy", "torch", "PIL", "scipy", "matplotlib", "skimage", "jarlib.data")


def _imports() -> list[str]:
    failures = []
    for name in REQUIRED:
        try:
            importlib.import_module(name)
        except Exception as exc:  # noqa: BLE001 - report any import failure, keep checking the others
            failures.append(f"{name}: {type(exc).__name__}: {exc}")
    return failures


def versions() -> dict[str, str]:
    """Python, numpy, torch, Pillow (and its JPEG library), scikit-image versions, and the CUDA status."""
    import numpy
    import PIL
    import skimage
    import torch
    from PIL import features

    turbo = features.check_feature("libjpeg_turbo")
    cuda = f"yes ({torch.cuda.get_device_name(0)})" if torch.cuda.is_available() else "no (CPU only)"
    return {
        "python": platform.python_version(),
        "numpy": numpy.__version__,
        "torch": torch.__version__,
        "torch threads": str(torch.get_num_threads()),
        "CUDA": cuda,
        "Pillow": PIL.__version__,
        "JPEG library": (f"libjpeg-turbo {features.version('libjpeg_turbo')}" if turbo
                         else f"libjpeg {features.version('jpg')} (not turbo: colour rows may differ)"),
        "scikit-image": skimage.__version__,
    }


def data_summary() -> tuple[str | None, dict[str, int | None]]:
    """The data root (or ``None``) and, per registry set, how many image files its folder holds
    (``None`` when the folder is absent). Never raises for missing data."""
    # lazy: the check reports a broken install instead of failing to import
    from jarlib.data.registry import DATASETS, IMAGE_SUFFIXES, data_root

    root = data_root(required=False)
    counts: dict[str, int | None] = {}
    for name, info in DATASETS.items():
        folder = root / info.subdir if root is not None else None
        if folder is None or not folder.is_dir():
            counts[name] = None
        else:
            counts[name] = sum(1 for p in folder.iterdir() if p.suffix.lower() in IMAGE_SUFFIXES)
    return (str(root) if root is not None else None), counts


def main() -> int:
    """Print the report; return 0, or 1 if a required package fails to import."""
    failures = _imports()
    if failures:
        print("jarlib setup check: FAILED imports")
        for f in failures:
            print(f"  {f}")
        return 1
    # lazy: the check reports a broken install instead of failing to import
    from jarlib.data.registry import DATASETS, ENV_VAR, fetch_command
    from jarlib.data.samples import samples_available

    print("jarlib setup check")
    for key, value in versions().items():
        print(f"  {key:14s} {value}")
    root, counts = data_summary()
    print(f"  {'data root':14s} {root or f'not found (run `jarlib data fetch`, or set {ENV_VAR}; data/README.md)'}")
    missing = []
    for name, n in counts.items():
        info = DATASETS[name]
        if n is None and info.optional:
            state = "not fetched (optional: the papers' own training data)"
        else:
            state = "missing" if n is None else f"{n}/{info.count}" + ("" if n == info.count else "  (count differs)")
        print(f"    {name:14s} {state}")
        if n != info.count and not info.optional:
            missing.append(name)
    ok = samples_available()
    print(f"  {'sample images':14s} {'available (jarlib.data.sample_images)' if ok else 'NOT available'}")
    if missing:
        print(f"Data sets missing or incomplete: {', '.join(missing)}. Everything runs without them (the notebooks "
              "use the sample images and the tests that need a set skip); the papers' tables need them. "
              f"Fetch them with: {fetch_command(*missing)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
