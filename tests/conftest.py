"""Shared fixtures. Tests that need data sets say which (``@pytest.mark.needs_data("live1_gray")``,
or every default set with a bare ``needs_data`` or the ``datasets_available`` fixture); without them
they are skipped with the reason and the command that fetches the sets (``-ra`` shows it), never
failed. Availability is per set: a data folder may hold some sets and not others."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


def _missing(names):
    from jarlib.data import DATASETS, available

    names = names or [n for n, info in DATASETS.items() if not info.optional]
    return [n for n in names if not available(n)]


def _skip_reason(missing):
    from jarlib.data import fetch_command

    return f"needs data set(s) {', '.join(missing)}: fetch with `{fetch_command(*missing)}`"


def pytest_configure(config):
    config.addinivalue_line("markers", "needs_data(*sets): skip unless these data sets (default: every "
                                       "non-optional set) are installed")


def pytest_runtest_setup(item):
    for mark in item.iter_markers("needs_data"):
        missing = _missing(list(mark.args))
        if missing:
            pytest.skip(_skip_reason(missing))


@pytest.fixture(scope="session")
def datasets_available():
    """The data root, when every non-optional set is installed; else the test is skipped."""
    from jarlib.data import data_root

    missing = _missing([])
    if missing:
        pytest.skip(_skip_reason(missing))
    return data_root()


# --- notebooks run once per session -------------------------------------------------------------
# tests/test_notebooks.py runs every notebook in smoke mode; tests/test_book.py builds the course book
# from those same runs. Both ask `smoke_run(path)`, which executes a notebook the first time and hands
# back the executed copy after that (a failed run is not cached: the next caller sees the error again).
NOTEBOOK_DIR = os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__))), "notebooks")
SMOKE_OVERRIDES: dict = {}  # per-notebook extra parameters, keyed by file stem


@pytest.fixture(scope="session")
def smoke_run(tmp_path_factory):
    """``smoke_run(path) -> Path`` of the notebook executed with ``SMOKE = True`` (papermill, from
    ``notebooks/``), cached for the session."""
    from pathlib import Path

    where = tmp_path_factory.mktemp("smoke_runs")
    done: dict = {}

    def run(path):
        path = Path(path)
        if path.stem not in done:
            papermill = pytest.importorskip("papermill")
            out = where / path.name
            # The kernel inherits this process's MPLBACKEND=Agg (set above for the tests), under which
            # plt.show() draws nothing: unset, the kernel uses its inline backend and the figures are
            # in the outputs, as in JupyterLab (the course book is built from these runs).
            backend = os.environ.pop("MPLBACKEND", None)
            try:
                papermill.execute_notebook(
                    str(path), str(out), parameters={"SMOKE": True, **SMOKE_OVERRIDES.get(path.stem, {})},
                    cwd=NOTEBOOK_DIR, kernel_name="python3", execution_timeout=900, progress_bar=False,
                    log_output=False)
            finally:
                if backend is not None:
                    os.environ["MPLBACKEND"] = backend
            done[path.stem] = out
        return done[path.stem]

    run.folder = where
    return run


# --- a real browser (Debian's chromium, driven by Selenium) ---------------------------------------
CHROMIUM, CHROMEDRIVER = "/usr/bin/chromium", "/usr/bin/chromedriver"


@pytest.fixture
def browser():
    """A headless Chromium (the system's, not a download). Skipped where it is not installed, unless
    ``JARLIB_REQUIRE_BROWSER=1`` (CI sets it: `.ci/run` installs chromium), which makes that a failure."""
    missing = [p for p in (CHROMIUM, CHROMEDRIVER) if not os.path.exists(p)]
    try:
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service
    except ImportError:
        missing.append("selenium (pip install -e '.[test]')")
    if missing:
        message = f"needs {', '.join(missing)} (Debian: apt-get install chromium chromium-driver)"
        if os.environ.get("JARLIB_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    options = webdriver.ChromeOptions()
    options.binary_location = CHROMIUM
    for arg in ("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
                "--window-size=1280,1000"):
        options.add_argument(arg)
    driver = webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)
    driver.set_page_load_timeout(120)
    try:
        yield driver
    finally:
        driver.quit()
