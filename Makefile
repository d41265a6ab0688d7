# Two commands (see README): `make demo` and `make test`. Both create .venv on first use.
PYTHON ?= python3
VENV := .venv
BIN := $(VENV)/bin

.PHONY: demo test browser bench lint clean

$(BIN)/python:
	$(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip

$(VENV)/.installed: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e .
	touch $@

$(VENV)/.installed-dev: pyproject.toml | $(BIN)/python
	$(BIN)/python -m pip install --quiet -e '.[dev]'
	touch $@ $(VENV)/.installed

demo: $(VENV)/.installed
	$(BIN)/geo-dx run --budget 30e9

# The linter first: CI (.ci/run calls exactly `make test`) fails on lint.
test: $(VENV)/.installed-dev browser
	$(BIN)/ruff check geo_dx tests benchmarks
	$(BIN)/python -m pytest

# Headless Chromium for the map's browser test (Debian packages; needs root and apt).
browser:
	@scripts/install-chromium

bench: $(VENV)/.installed-dev
	$(BIN)/python benchmarks/bench_gaps.py

lint: $(VENV)/.installed-dev
	$(BIN)/ruff check geo_dx tests benchmarks

clean:
	rm -rf $(VENV) maps build *.egg-info
