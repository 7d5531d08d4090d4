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
