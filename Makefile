# Two entry points (see README):  make tutorial   |   make test
# Both create .venv on first use with the pinned CPU PyTorch and the project in editable mode.
PYTHON ?= python3
VENV   ?= .venv
PY     := $(VENV)/bin/python
STAMP  := $(VENV)/.jarlib-installed

.PHONY: setup tutorial test test-fast clean-venv

setup: $(STAMP)

$(STAMP): pyproject.toml
	test -x $(PY) || $(PYTHON) -m venv $(VENV)
	$(PY) -m pip install --upgrade pip
	$(PY) -m pip install "torch==2.13.0"
	$(PY) -m pip install -e ".[test]"
	$(PY) -m jarlib.check
	touch $(STAMP)

tutorial: setup
	$(VENV)/bin/jupyter lab --notebook-dir=notebooks notebooks/00_jpeg_from_scratch.ipynb

test: setup
	$(PY) -m pytest

test-fast: setup
	$(PY) -m pytest -m "not notebook"

clean-venv:
	rm -rf $(VENV)
