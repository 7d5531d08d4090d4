"""The course book builds offline from the notebooks' smoke runs, and a real browser shows its figures
and tables (``make book`` builds the same site from runs at the defaults; tools/book.py)."""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tools"))
book = pytest.importorskip("book", reason="tools/book.py")   # tools/ is not a package



def test_saved_progress_bars_become_what_jupyter_shows():
    nb = {"cells": [{"cell_type": "code", "outputs": [
        {"output_type": "stream", "name": "stderr", "text": "eval:   0%|  | 0/4\reval:  50%|  | 2/4"},
        {"output_type": "stream", "name": "stderr", "text": "\reval: 100%|##| 4/4\n"},
        {"output_type": "stream", "name": "stdout", "text": "PSNR 30.1\n"},
        {"output_type": "display_data", "data": {"text/plain": "<Figure>"}}]}]}
    outs = book.clean_outputs(nb)["cells"][0]["outputs"]
    assert outs[0]["text"] == "eval: 100%|##| 4/4\n" and outs[1]["text"] == "PSNR 30.1\n"
    assert [o["output_type"] for o in outs] == ["stream", "stream", "display_data"]


def test_the_table_of_contents_lists_every_notebook_in_course_order():
    stems = sorted(p.stem for p in (ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb"))
    assert book.toc_notebooks() == stems


@pytest.fixture(scope="module")
def site(smoke_run, tmp_path_factory) -> Path:
    if importlib.util.find_spec("jupyter_book") is None:
        pytest.skip("jupyter-book is not installed: pip install -e '.[test]'")
    for stem in book.toc_notebooks():
        smoke_run(ROOT / "notebooks" / f"{stem}.ipynb")
    src = book.stage(smoke_run.folder, tmp_path_factory.mktemp("book_src"))
    return book.build(src, tmp_path_factory.mktemp("book"), quiet=True)


def _shown_images(browser) -> int:
    """Images the browser decoded (a broken link has naturalWidth 0)."""
    return browser.execute_script(
        "return [...document.querySelectorAll('main img')].filter(i => i.complete && i.naturalWidth > 0).length")


@pytest.mark.notebook
def test_the_book_builds_with_every_notebook_and_the_course_plan(site: Path):
    for stem in book.toc_notebooks():
        assert (site / "notebooks" / f"{stem}.html").is_file(), stem
    assert (site / "docs" / "course.html").is_file() and (site / "docs" / "conventions.html").is_file()


@pytest.mark.notebook
def test_a_lesson_page_shows_its_figures(site: Path, browser, tmp_path: Path):
    browser.get((site / "notebooks" / "01_artifacts_and_metrics.html").as_uri())
    assert "artifacts" in browser.title.lower()
    assert _shown_images(browser) >= 3, "the executed figures of notebook 01 are not shown"
    # the table of contents leads through the course
    links = [a.get_attribute("href") for a in browser.find_elements("css selector", "nav a")]
    assert any(h and h.endswith("13_fbcnn.html") for h in links)
    browser.save_screenshot(str(tmp_path / "book_01.png"))


@pytest.mark.notebook
def test_a_results_page_shows_a_table_and_a_figure(site: Path, browser, tmp_path: Path):
    browser.get((site / "notebooks" / "90_benchmark.html").as_uri())
    rows = browser.execute_script("return document.querySelectorAll('main table tr').length")
    assert rows >= 3, "notebook 90's results table is not on its page"
    assert _shown_images(browser) >= 1
    browser.save_screenshot(str(tmp_path / "book_90.png"))
