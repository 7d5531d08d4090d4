"""nbval (``--nbval-lax``) runs the fundamentals notebooks at their real defaults, except 03, whose
default run trains a network for minutes; 03 and the paper and benchmark notebooks (10+) train or
evaluate at length, and run in smoke mode through ``tests/test_notebooks.py`` instead."""

collect_ignore_glob = ["[1-9][0-9]_*.ipynb", "03_*.ipynb", "*.out.ipynb"]
