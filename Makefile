# Two entry points (see README):  make tutorial   |   make test
# Both create .venv on first use: the right PyTorch build (tools/install_torch.py), then the project
# in editable mode. Variables: PYTHON=python3.11, JUPYTER_ARGS="--no-browser --port=8889", SETS=...
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.jarlib-installed
SETS   ?=
JUPYTER_ARGS ?=
# Jupyter refuses to run as root (Docker, Colab, course servers) without --allow-root.
ROOT_ARGS := $(if $(filter 0,$(shell id -u)),--allow-root)

# Python >= 3.10 (pyproject's requires-python; the README's 3.11 is what the project is tested with).
CHECK_PYTHON = v=$$($(PYTHON) -c 'import sys; print(sys.version.split()[0]); sys.exit(sys.version_info < (3, 10))' 2>/dev/null) \
	|| { echo "jarlib needs Python >= 3.10 (3.11 recommended); PYTHON=$(PYTHON) is $${v:-not a working python} (e.g. make setup PYTHON=python3.11)" >&2; exit 1; }

.PHONY: setup check-python tutorial explorer book test test-fast data strip clean-venv

setup: $(STAMP)

check-python:
	@$(CHECK_PYTHON)

$(STAMP): pyproject.toml
	@$(CHECK_PYTHON)
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) tools/install_torch.py
	$(PY) -m pip install -e ".[test]"
	$(PY) -m jarlib.check
	touch $(STAMP)

tutorial: setup
	$(VENV)/bin/jupyter lab $(ROOT_ARGS) $(JUPYTER_ARGS) --notebook-dir=notebooks notebooks/00_jpeg_from_scratch.ipynb

# The explorer (notebook 91) as a web page, without the code: Voila on http://localhost:8866
explorer: setup
	cd notebooks && ../$(VENV)/bin/voila 91_explorer.ipynb $(JUPYTER_ARGS)

# The course book: every notebook run at its defaults (cached: a rebuild re-runs only the notebooks
# that changed), as a static site in build/book/_build/html (tools/book.py; offline).
book: setup
	$(PY) tools/book.py

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not notebook"

# The data sets (data/README.md): the test sets and BSDS500; e.g. SETS="classic5 live1_gray" for only those.
data: setup
	$(VENV)/bin/jarlib data fetch $(if $(SETS),--sets $(SETS))

# Notebooks are committed clean (CONTRIBUTING.md): nbstripout drops outputs, execution counts and the
# kernel's version details (cell ids and tags kept), then tools/notebooks/colab.py brings the "Open in
# Colab" link and install cell up to date. tests/test_notebooks.py reads NBSTRIPOUT_ARGS from here.
NBSTRIPOUT_ARGS := --keep-id --extra-keys "metadata.language_info.codemirror_mode \
	metadata.language_info.file_extension metadata.language_info.mimetype metadata.language_info.nbconvert_exporter \
	metadata.language_info.pygments_lexer metadata.language_info.version"
strip: setup
	@$(PY) -c 'import nbstripout' 2>/dev/null || { echo "nbstripout is missing: $(PY) -m pip install nbstripout" >&2; exit 1; }
	$(PY) -m nbstripout $(NBSTRIPOUT_ARGS) notebooks/[0-9][0-9]_*.ipynb
	$(PY) tools/notebooks/colab.py

clean-venv:
	rm -rf $(VENV)
