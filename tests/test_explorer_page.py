"""The explorer as users open it: ``voila notebooks/91_explorer.ipynb`` served on 127.0.0.1 and driven
in headless Chromium (the system's), at the notebook's defaults: the picture is shown, moving the QF
slider changes the picture and the PSNR in the status line, FBCNN's QF knob changes the restoration,
and the section for pages without a live kernel shows its figures."""

from __future__ import annotations

import importlib.util
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
pytestmark = pytest.mark.notebook
START_S = 420      # Voilà runs the whole notebook before the page is complete (every zoo model listed)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def voila_url(tmp_path_factory):
    if importlib.util.find_spec("voila") is None:
        pytest.skip("voila is not installed: pip install -e .")
    port = _free_port()
    log = tmp_path_factory.mktemp("voila") / "voila.log"
    env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}   # the kernel's inline backend
    with log.open("w") as out:
        proc = subprocess.Popen(
            [sys.executable, "-m", "voila", "91_explorer.ipynb", "--no-browser", f"--port={port}",
             "--Voila.ip=127.0.0.1", "--show_tracebacks=True", "--Voila.tornado_settings={'autoreload': False}"],
            cwd=ROOT / "notebooks", stdout=out, stderr=subprocess.STDOUT, env=env, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                pytest.fail(f"voila exited ({proc.returncode}):\n{log.read_text()[-2000:]}")
            with socket.socket() as s:
                if s.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.5)
        else:
            pytest.fail(f"voila did not listen on 127.0.0.1:{port} within 60 s:\n{log.read_text()[-2000:]}")
        yield f"http://127.0.0.1:{port}/", log
    finally:
        os.killpg(proc.pid, signal.SIGTERM)     # the server and the kernel it started
        try:
            proc.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


def _wait(browser, script: str, timeout: float, what: str, log: Path, *args):
    """Poll ``script`` (JavaScript returning a truthy value when done; ``args`` are its arguments)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        value = browser.execute_script(script, *args)
        if value:
            return value
        time.sleep(0.5)
    pytest.fail(f"the explorer page never showed {what} within {timeout:.0f} s; "
                f"status: {_status(browser)!r}\nvoila log:\n{log.read_text()[-1500:]}")


STATUS = "const s = document.querySelector('.widget-html-content'); return s ? s.textContent : '';"
PICTURE = "const i = document.querySelector('.widget-output img'); return i && i.naturalWidth > 0 ? i.src : null;"
CHANGED = ("const i = document.querySelector('.widget-output img');"
           "return i && i.naturalWidth > 0 && i.src !== arguments[0] ? i.src : null;")


def _status_with(text: str) -> str:
    """JavaScript: the status line once it contains ``text``, else null."""
    return ("const s = document.querySelector('.widget-html-content');"
            f"return s && s.textContent.includes({text!r}) ? s.textContent : null;")


def _status(browser) -> str:
    return browser.execute_script(STATUS)


def _set_slider(browser, label: str, value: int) -> None:
    """Type ``value`` into the readout of the slider labelled ``label`` (what a user does for an exact
    value; the slider sends it to the kernel on Enter, like a drag's release)."""
    from selenium.webdriver.common.keys import Keys

    readout = browser.execute_script(
        "for (const s of document.querySelectorAll('.widget-slider')) {"
        "  const l = s.querySelector('.widget-label');"
        "  if (l && l.textContent.trim() === arguments[0]) return s.querySelector('.widget-readout'); }"
        "return null;", label)
    assert readout is not None, f"no slider labelled {label!r} on the page"
    readout.click()
    browser.execute_script("document.execCommand('selectAll', false, null);")
    readout.send_keys(str(value), Keys.ENTER)


def test_the_explorer_page_reacts_to_its_controls(voila_url, browser, tmp_path):
    url, log = voila_url
    browser.set_page_load_timeout(START_S)
    browser.get(url)
    first = _wait(browser, PICTURE, START_S, "the explorer's picture", log)
    status = _wait(browser, _status_with("PSNR"), 60, "a status line with PSNR", log)
    assert "JPEG QF 20" in status, status

    _set_slider(browser, "QF", 60)
    status60 = _wait(browser, _status_with("JPEG QF 60"), 120, "the QF 60 picture", log)
    second = _wait(browser, CHANGED, 60, "a new picture", log, first)
    assert second and second != first, "moving the QF slider did not change the picture"
    assert status60.split("PSNR")[1] != status.split("PSNR")[1], "the PSNR did not change with the QF"

    _set_slider(browser, "FBCNN QF", 5)
    told = _wait(browser, _status_with("FBCNN told QF 5"), 120, "FBCNN told QF 5", log)
    third = _wait(browser, CHANGED, 60, "a new restoration", log, second)
    assert third and third != second, "FBCNN's QF knob did not change the restoration"
    assert told.split("PSNR")[1] != status60.split("PSNR")[1]

    # "The same, without a live kernel": figures drawn in the cells' own outputs, outside the widget
    static = browser.execute_script(
        "return [...document.querySelectorAll('img')].filter(i => !i.closest('.widget-output')"
        " && i.naturalWidth > 0).length")
    assert static >= 3, f"the static section shows {static} figures, expected 3"
    browser.save_screenshot(str(tmp_path / "explorer.png"))
    assert (tmp_path / "explorer.png").stat().st_size > 10_000
