"""Shared fixtures. Tests that need the data sets ask for ``datasets_available``: without data they
are skipped with the reason shown in the summary (``-ra``), never silently."""

import os

import pytest

os.environ.setdefault("MPLBACKEND", "Agg")


@pytest.fixture(scope="session")
def datasets_available():
    from jarlib.data import data_root

    root = data_root(required=False)
    if root is None:
        pytest.skip("data sets not found: set JARLIB_DATA or place ../shared/datasets beside the repo")
    return root
