#!/usr/bin/env python3
"""Install the right PyTorch build into this interpreter, before jarlib itself (``make setup``).

Standard library only: it runs with the new venv's python before anything else is installed.

    python tools/install_torch.py             # choose, say why in one line, then pip install
    python tools/install_torch.py --dry-run   # only say what it would do
    JARLIB_TORCH=cpu|cuda|skip python tools/install_torch.py   # override the choice

The choice (:func:`choose_torch`):

* ``JARLIB_TORCH`` set: ``skip`` leaves torch alone, ``cpu`` takes the CPU index, ``cuda`` the default
  index (pip keeps an installed torch that already satisfies the range);
* torch already importable (Colab, course images): left alone;
* macOS: the default index (PyPI's macOS wheels are the CPU/MPS build);
* an NVIDIA GPU listed by ``nvidia-smi -L``: the default index (the CUDA build on Linux);
* no GPU and the CPU index reachable: the CPU build from https://download.pytorch.org/whl/cpu;
* no GPU and the CPU index unreachable: the default index with ``torch==2.13.0``, the version the
  project is tested with (the project's machines have a local CPU wheel of exactly that version).
"""
from __future__ import annotations

import argparse
import importlib.util
import os
import re
import shutil
import subprocess
import sys
import threading
import urllib.request
from pathlib import Path

CPU_INDEX = "https://download.pytorch.org/whl/cpu"
TESTED = "torch==2.13.0"
# The range in pyproject.toml's dependencies; used only where it cannot be read (Python 3.10: no tomllib).
RANGE = "torch>=2.4"
PYPROJECT = Path(__file__).resolve().parent.parent / "pyproject.toml"
OVERRIDES = ("cpu", "cuda", "skip")


def torch_range(pyproject: Path = PYPROJECT) -> str:
    """The torch requirement of pyproject.toml's ``dependencies`` (else :data:`RANGE`)."""
    try:
        import tomllib
        deps = tomllib.loads(pyproject.read_text(encoding="utf-8"))["project"]["dependencies"]
    except (ImportError, OSError, KeyError, ValueError):
        return RANGE
    return next((d.strip() for d in deps if re.match(r"torch\s*([<>=!~;\[]|$)", d.strip())), RANGE)


def choose_torch(torch_present: bool, gpu: bool, cpu_index_reachable: bool, system: str,
                 override: str | None = None, requirement: str = RANGE) -> tuple[list[str] | None, str]:
    """The ``pip install`` arguments (None: leave torch alone) and the reason, in one line.

    ``system`` is ``platform.system()``; ``override`` is ``JARLIB_TORCH`` (cpu, cuda, skip; empty or
    None: decide). Pure: the probes are done by the caller."""
    override = (override or "").strip().lower() or None
    if override is not None and override not in OVERRIDES:
        raise ValueError(f"JARLIB_TORCH={override!r}: expected one of {', '.join(OVERRIDES)}")
    if override == "skip":
        return None, "JARLIB_TORCH=skip: leaving torch alone"
    if override == "cpu":
        return [requirement, "--index-url", CPU_INDEX], f"JARLIB_TORCH=cpu: the CPU build from {CPU_INDEX}"
    if override == "cuda":
        return [requirement], "JARLIB_TORCH=cuda: the default index (the CUDA build on Linux)"
    if torch_present:
        return None, "torch is already installed in this Python: leaving it alone"
    if system == "Darwin":
        return [requirement], "macOS: the default index (its macOS wheels are the CPU/MPS build)"
    if gpu:
        why = "an NVIDIA GPU (nvidia-smi): the default index"
        if system == "Windows":
            return [requirement], why + " (CPU-only on Windows: for CUDA see https://pytorch.org/get-started/locally/)"
        return [requirement], why + " (the CUDA build)"
    if cpu_index_reachable:
        return [requirement, "--index-url", CPU_INDEX], f"no NVIDIA GPU: the CPU build from {CPU_INDEX}"
    return [TESTED], (f"no NVIDIA GPU and {CPU_INDEX} unreachable: falling back to the default index with "
                      f"{TESTED}, the version jarlib is tested with (set JARLIB_TORCH to choose)")


# ------------------------------------------------------------------------------------------ probes

def torch_importable() -> bool:
    """Whether torch is installed for this interpreter (found, not imported: that takes seconds)."""
    return importlib.util.find_spec("torch") is not None


def nvidia_gpu(timeout: float = 10.0) -> bool:
    """Whether ``nvidia-smi -L`` lists a GPU; False when nvidia-smi is missing, fails or hangs."""
    exe = shutil.which("nvidia-smi")
    if exe is None:
        return False
    try:
        out = subprocess.run([exe, "-L"], capture_output=True, text=True, timeout=timeout)
    except (OSError, subprocess.SubprocessError):
        return False
    return out.returncode == 0 and any(line.startswith("GPU ") for line in out.stdout.splitlines())


def reachable(url: str = CPU_INDEX, timeout: float = 5.0) -> bool:
    """Whether ``url`` answers (2xx/3xx) within ``timeout`` seconds, name lookup included."""
    result: list[bool] = []

    def probe() -> None:
        try:
            with urllib.request.urlopen(url, timeout=timeout) as r:   # GET, as pip does; body unread
                result.append(r.status < 400)
        except Exception:  # DNS, refused, TLS, HTTP error, ...: not usable
            result.append(False)

    thread = threading.Thread(target=probe, daemon=True)   # a hanging DNS lookup ignores timeout
    thread.start()
    thread.join(timeout)
    return bool(result and result[0])


def main(argv: list[str] | None = None) -> int:
    import platform

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--dry-run", action="store_true", help="print the choice, install nothing")
    args = parser.parse_args(argv)

    override, system, present = os.environ.get("JARLIB_TORCH"), platform.system(), torch_importable()
    probe = not (present or (override or "").strip() or system == "Darwin")   # probe only when it matters
    gpu = probe and nvidia_gpu()
    cpu_ok = probe and not gpu and reachable()
    try:
        pip_args, why = choose_torch(present, gpu, cpu_ok, system, override, torch_range())
    except ValueError as exc:
        print(f"install_torch: {exc}", file=sys.stderr)
        return 2
    cmd = None if pip_args is None else [sys.executable, "-m", "pip", "install", *pip_args]
    print(f"install_torch: {why}" + ("" if cmd is None else f" -> pip install {' '.join(pip_args)}"), flush=True)
    if cmd is None or args.dry_run:
        return 0
    return subprocess.call(cmd)


if __name__ == "__main__":
    sys.exit(main())
