"""The set-up: tools/install_torch.py (which PyTorch build), the Makefile (Python check, data, tutorial),
and the dependency lists. Nothing here downloads anything."""

from __future__ import annotations

import http.server
import importlib.util
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")   # Python >= 3.11

ROOT = Path(__file__).resolve().parent.parent
STAMP = ROOT / ".venv" / ".jarlib-installed"


def _load_install_torch():
    spec = importlib.util.spec_from_file_location("install_torch", ROOT / "tools" / "install_torch.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


it = _load_install_torch()
RANGE, CPU = it.RANGE, ["--index-url", it.CPU_INDEX]
needs_make = pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# --------------------------------------------------------------------------- the decision (pure)

@pytest.mark.parametrize("system", ["Linux", "Windows", "Darwin"])
@pytest.mark.parametrize("gpu", [False, True])
def test_existing_torch_is_left_alone(system, gpu):
    args, why = it.choose_torch(torch_present=True, gpu=gpu, cpu_index_reachable=True, system=system)
    assert args is None and "already installed" in why


def test_gpu_takes_the_default_index_with_the_range():
    args, why = it.choose_torch(False, gpu=True, cpu_index_reachable=True, system="Linux")
    assert args == [RANGE] and "CUDA" in why


def test_gpu_on_windows_says_pypi_is_cpu_only():
    args, why = it.choose_torch(False, gpu=True, cpu_index_reachable=True, system="Windows")
    assert args == [RANGE] and "CPU-only on Windows" in why


@pytest.mark.parametrize("system", ["Linux", "Windows"])
def test_no_gpu_takes_the_cpu_index(system):
    args, why = it.choose_torch(False, gpu=False, cpu_index_reachable=True, system=system)
    assert args == [RANGE, *CPU] and "CPU build" in why


def test_no_gpu_and_no_cpu_index_falls_back_to_the_tested_version():
    args, why = it.choose_torch(False, gpu=False, cpu_index_reachable=False, system="Linux")
    assert args == ["torch==2.13.0"] and "--index-url" not in args
    assert "unreachable" in why and "torch==2.13.0" in why and "tested" in why


@pytest.mark.parametrize("reachable", [False, True])
def test_macos_takes_the_default_index(reachable):
    args, why = it.choose_torch(False, gpu=False, cpu_index_reachable=reachable, system="Darwin")
    assert args == [RANGE] and "macOS" in why


def test_override():
    assert it.choose_torch(False, False, True, "Linux", override="skip")[0] is None
    assert it.choose_torch(True, True, False, "Linux", override="cpu")[0] == [RANGE, *CPU]
    assert it.choose_torch(False, False, True, "Linux", override=" CUDA ")[0] == [RANGE]
    assert it.choose_torch(False, False, True, "Linux", override="")[0] == [RANGE, *CPU]   # empty: decide
    assert it.choose_torch(False, True, False, "Linux", override="cpu", requirement="torch>=2.6")[0] \
        == ["torch>=2.6", *CPU]
    with pytest.raises(ValueError, match="cpu, cuda, skip"):
        it.choose_torch(False, False, True, "Linux", override="rocm")


def test_the_range_is_pyprojects_and_admits_the_tested_version(tmp_path):
    deps = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["dependencies"]
    assert it.torch_range() == RANGE and RANGE in deps          # RANGE is the Python 3.10 fallback
    low = tuple(int(x) for x in re.fullmatch(r"torch>=(\d+)\.(\d+)", RANGE).groups())
    assert (2, 13) >= low
    (tmp_path / "pyproject.toml").write_text('[project]\ndependencies = ["torchvision>=0.1", "torch >=2.6,<3"]\n')
    assert it.torch_range(tmp_path / "pyproject.toml") == "torch >=2.6,<3"
    assert it.torch_range(tmp_path / "missing.toml") == RANGE


def test_environment_yml_lists_pyprojects_dependencies():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = set(project["dependencies"]) | set(project["optional-dependencies"]["test"])
    text = (ROOT / "environment.yml").read_text()
    listed = set(re.findall(r"^  - (\S+)\s*$", text.split("dependencies:")[1], re.M)) - {"pip"}
    listed = {d for d in listed if not d.startswith("python=")}
    assert not any(d.startswith("torch") for d in listed)          # torch: tools/install_torch.py ...
    assert re.search(rf"^  # - {re.escape(RANGE)}\b", text, re.M)     # ... listed as a comment
    assert listed | {RANGE} == wanted
    assert "tools/install_torch.py" in text and "2.13.0" not in text


# --------------------------------------------------------------------------- the probes

def test_no_nvidia_smi_means_no_gpu(monkeypatch):
    monkeypatch.setattr(it.shutil, "which", lambda name: None)
    assert it.nvidia_gpu() is False


@pytest.mark.parametrize("script, gpu", [
    ('echo "GPU 0: NVIDIA H100 80GB HBM3 (UUID: GPU-0)"', True),
    ('echo "No devices were found"; exit 6', False),                # driver there, no GPU
    ('echo "NVIDIA-SMI has failed"; exit 9', False),
    ("exit 0", False),
])
def test_nvidia_smi_output(tmp_path, monkeypatch, script, gpu):
    fake = tmp_path / "nvidia-smi"
    fake.write_text(f"#!/bin/sh\n{script}\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert it.nvidia_gpu() is gpu


def test_nvidia_smi_on_path_but_not_runnable(tmp_path, monkeypatch):
    fake = tmp_path / "nvidia-smi"
    fake.write_text("#!/nonexistent/interpreter\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    assert it.nvidia_gpu() is False


def test_reachable_answers_quickly():
    class Index(http.server.BaseHTTPRequestHandler):
        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, *args):
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Index)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    silent = socket.socket()                      # accepts connections, never answers
    silent.bind(("127.0.0.1", 0))
    silent.listen()
    try:
        assert it.reachable(f"http://127.0.0.1:{server.server_address[1]}/", timeout=5) is True
        assert it.reachable(f"http://127.0.0.1:{_free_port()}/", timeout=5) is False     # refused
        start = time.monotonic()
        assert it.reachable(f"http://127.0.0.1:{silent.getsockname()[1]}/", timeout=0.5) is False
        assert time.monotonic() - start < 2
    finally:
        server.shutdown()
        server.server_close()
        silent.close()


def test_script_dry_run():
    """The script's own line, run as make runs it; JARLIB_TORCH avoids the network probe."""
    env = {**os.environ, "JARLIB_TORCH": "cuda"}
    # -S: no site-packages, so this Python has no torch, like a fresh venv
    out = subprocess.run([sys.executable, "-S", str(ROOT / "tools/install_torch.py"), "--dry-run"],
                         capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0 and out.stdout.startswith("install_torch: JARLIB_TORCH=cuda")
    assert out.stdout.strip().endswith(f"-> pip install {RANGE}")
    env.pop("JARLIB_TORCH")
    out = subprocess.run([sys.executable, str(ROOT / "tools/install_torch.py"), "--dry-run"],
                         capture_output=True, text=True, env=env, timeout=30)
    assert out.returncode == 0 and "already installed" in out.stdout       # this venv has torch
    out = subprocess.run([sys.executable, str(ROOT / "tools/install_torch.py"), "--dry-run"],
                         capture_output=True, text=True, env={**env, "JARLIB_TORCH": "rocm"}, timeout=30)
    assert out.returncode == 2 and "JARLIB_TORCH='rocm'" in out.stderr


# --------------------------------------------------------------------------- the Makefile

def _make(*args: str, **kw) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "--no-print-directory", *args], cwd=ROOT, capture_output=True,
                          text=True, timeout=60, **kw)


@pytest.fixture
def python38(tmp_path) -> Path:
    """A stand-in for an old python3: answers the Makefile's check as Python 3.8 would."""
    fake = tmp_path / "python3.8"
    fake.write_text('#!/bin/sh\ncase "$1" in\n  --version) echo "Python 3.8.18" ;;\n'
                    '  -c) echo 3.8.18; exit 1 ;;\n  *) echo "unexpected: $*" >&2; exit 3 ;;\nesac\n')
    fake.chmod(0o755)
    return fake


@needs_make
def test_check_python_rejects_an_old_python(python38):
    out = _make("check-python", f"PYTHON={python38}")
    assert out.returncode != 0
    assert f"jarlib needs Python >= 3.10 (3.11 recommended); PYTHON={python38} is 3.8.18" in out.stderr


@needs_make
def test_check_python_names_a_missing_python(tmp_path):
    out = _make("check-python", f"PYTHON={tmp_path}/python9")
    assert out.returncode != 0 and "is not a working python" in out.stderr


@needs_make
def test_check_python_accepts_this_python():
    out = _make("check-python", f"PYTHON={sys.executable}")
    assert out.returncode == 0, out.stderr


@needs_make
def test_setup_checks_python_before_making_the_venv(tmp_path, python38):
    venv = tmp_path / "venv"
    out = _make("setup", f"PYTHON={python38}", f"VENV={venv}")
    assert out.returncode != 0 and "needs Python >= 3.10" in out.stderr
    assert not venv.exists()


@needs_make
def test_setup_steps_in_order(tmp_path):
    lines = _make("-n", "setup", f"VENV={tmp_path}/v").stdout.splitlines()
    steps = ["sys.version_info < (3, 10)", "-m venv", "pip install --upgrade pip", "tools/install_torch.py",
             'pip install -e ".[test]"', "-m jarlib.check", "touch"]
    where = [next(i for i, line in enumerate(lines) if s in line) for s in steps]
    assert where == sorted(where), lines


@needs_make
def test_data_target(tmp_path):
    stamp = ["-o", f"{tmp_path}/v/.jarlib-installed", f"VENV={tmp_path}/v"]
    assert _make("-n", *stamp, "data").stdout.strip() == f"{tmp_path}/v/bin/jarlib data fetch"
    assert _make("-n", *stamp, "data", "SETS=classic5 live1_gray").stdout.strip() \
        == f"{tmp_path}/v/bin/jarlib data fetch --sets classic5 live1_gray"


@needs_make
@pytest.mark.skipif(not hasattr(os, "geteuid") or os.geteuid() != 0, reason="needs root (it tests --allow-root)")
@pytest.mark.skipif(not STAMP.exists(), reason="no .venv/.jarlib-installed: run make setup first")
def test_make_tutorial_starts_jupyter_as_root(tmp_path):
    port = _free_port()
    home = tmp_path / "home"
    env = {**os.environ, "HOME": str(home), "JUPYTER_RUNTIME_DIR": str(home / "runtime"),
           "JUPYTER_CONFIG_DIR": str(home / "config"), "JUPYTER_DATA_DIR": str(home / "data"),
           "IPYTHONDIR": str(home / "ipython")}
    log = tmp_path / "make.log"
    # -o: use .venv as it is, even where pyproject.toml is newer than the stamp (no install here)
    cmd = ["make", "--no-print-directory", "-o", str(STAMP.relative_to(ROOT)), "tutorial",
           f"JUPYTER_ARGS=--no-browser --ip=127.0.0.1 --port={port} --ServerApp.port_retries=0"]
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, start_new_session=True)
    try:
        deadline, api = time.monotonic() + 60, None
        while api is None and time.monotonic() < deadline:
            assert proc.poll() is None, f"make tutorial exited with {proc.returncode}:\n{log.read_text()[-3000:]}"
            try:
                with urllib.request.urlopen(f"http://127.0.0.1:{port}/api", timeout=2) as r:
                    api = json.load(r)
            except OSError:
                time.sleep(0.25)
        assert api is not None, f"no server on port {port} after 60 s:\n{log.read_text()[-3000:]}"
        assert "version" in api
        assert "--allow-root" in log.read_text().splitlines()[0]       # the command make ran
    finally:
        if proc.poll() is None:
            os.killpg(proc.pid, signal.SIGTERM)
            try:
                proc.wait(timeout=15)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait(timeout=15)
        try:                                      # jupyter itself, should make have gone first
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) != 0:
                break
        time.sleep(0.2)
    else:
        pytest.fail(f"a server still answers on port {port}")
