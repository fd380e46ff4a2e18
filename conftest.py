"""Root conftest: reports each notebook's time in the nbval run.

It lives at the root (not in tests/) because pytest applies a conftest's
hooks only to items below its folder, and the notebooks are in notebooks/.
"""

from __future__ import annotations

import os
import time
from collections import defaultdict
from pathlib import Path

import pytest

_nb_times: dict[str, float] = defaultdict(float)


@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_call(item):
    start = time.perf_counter()
    yield
    path = str(getattr(item, "path", ""))
    if path.endswith(".ipynb"):
        _nb_times[Path(path).name] += time.perf_counter() - start


def pytest_terminal_summary(terminalreporter):
    if not _nb_times:
        return
    tr = terminalreporter
    tr.section("notebook times (quick mode)" if os.environ.get("STYLETUT_QUICK") == "1" else "notebook times")
    for name in sorted(_nb_times):
        tr.write_line(f"{_nb_times[name]:8.1f} s  {name}")
    tr.write_line(f"{sum(_nb_times.values()):8.1f} s  all notebooks")
