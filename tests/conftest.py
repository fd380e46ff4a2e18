"""Shared fixtures, and a per-notebook time report for the nbval run."""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest
import torch

ROOT = Path(__file__).resolve().parents[1]

_nb_times: dict[str, float] = defaultdict(float)


@pytest.fixture(autouse=True)
def _seed():
    torch.manual_seed(0)


@pytest.fixture
def tiny_style():
    """A small colourful, textured style image (1, 3, 64, 64)."""
    from styletut.images import procedural

    return procedural("stained_glass", 64, seed=3)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = time.perf_counter()
    yield
    path = str(getattr(item, "fspath", ""))
    if path.endswith(".ipynb"):
        _nb_times[Path(path).name] += time.perf_counter() - start


def pytest_terminal_summary(terminalreporter):
    if not _nb_times:
        return
    tr = terminalreporter
    tr.section("notebook times (quick mode)" if os.environ.get("STYLETUT_QUICK") else "notebook times")
    for name in sorted(_nb_times):
        tr.write_line(f"{_nb_times[name]:8.1f} s  {name}")
    tr.write_line(f"{sum(_nb_times.values()):8.1f} s  all notebooks")
