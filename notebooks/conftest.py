"""nbval (``--nbval-lax``) runs only the fundamentals notebooks (00-09) at their real defaults;
the paper and benchmark notebooks train or evaluate at length, and run in smoke mode through
``tests/test_notebooks.py`` instead."""

collect_ignore_glob = ["[1-9][0-9]_*.ipynb", "*.out.ipynb"]
