"""The control panel in a real JupyterLab, driven by headless Chromium.

The unit tests (test_widgets.py) drive the panel from Python; this test checks
what only a browser shows: the panel renders in JupyterLab, the Run button
starts a run whose preview and status update live while the kernel stays
responsive, and Stop (a click handled while the run goes on) ends it.

It starts its own JupyterLab on a free port, with HOME, config, runtime and
settings in a temporary folder, and stops it by its PID. The browser is the
system's Chromium (Debian's package; `playwright install` would download
one, and nothing here downloads). A screenshot goes to build/screenshots/.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path

import nbformat
import pytest

pytestmark = pytest.mark.browser

ROOT = Path(__file__).resolve().parents[1]
SCREENSHOT = ROOT / "build" / "screenshots" / "panel.png"
TIMEOUT_MS = 180_000  # generous: two shared CPU cores, torch import and VGG19 load in the kernel

PANEL_CELL = """\
from styletut.widgets import panel

p = panel(size=64, steps=200)
p"""


def _need(what: str, fix: str) -> None:
    """Skip on a laptop without the browser; fail in CI, which installs it (.ci/run)."""
    message = f"{what} is not available: {fix}"
    if os.environ.get("CI"):
        pytest.fail(f"{message} (CI must provide it: .ci/run installs Debian's chromium)")
    pytest.skip(message)


@pytest.fixture(scope="module")
def chromium_path() -> str:
    path = shutil.which("chromium")
    if path is None:
        _need("the chromium browser", "install Debian's package: apt-get install chromium")
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        _need("playwright for Python", "pip install -e '.[dev]' (make venv)")
    return path


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _get(url: str, method: str = "GET"):
    req = urllib.request.Request(url, method=method)
    with urllib.request.urlopen(req, timeout=5) as resp:
        body = resp.read()
    return json.loads(body) if body else None


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A private JupyterLab serving a folder with a notebook that shows the panel."""
    base = tmp_path_factory.mktemp("lab")
    work = base / "work"
    work.mkdir()
    env = dict(os.environ)
    for var, sub in (("HOME", "home"), ("JUPYTER_CONFIG_DIR", "config"), ("JUPYTER_RUNTIME_DIR", "runtime"),
                     ("IPYTHONDIR", "ipython"), ("JUPYTERLAB_SETTINGS_DIR", "settings"),
                     ("JUPYTERLAB_WORKSPACES_DIR", "workspaces")):
        (base / sub).mkdir()
        env[var] = str(base / sub)
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.pop("STYLETUT_QUICK", None)  # the cell sets its own sizes
    # Offline: stop the "fetch Jupyter news?" pop-up that would cover the page.
    notif = base / "settings" / "@jupyterlab" / "apputils-extension" / "notification.jupyterlab-settings"
    notif.parent.mkdir(parents=True)
    notif.write_text(json.dumps({"fetchNews": "false", "checkForUpdates": False}))

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(PANEL_CELL)]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, work / "panel.ipynb")

    port, token = _free_port(), secrets.token_hex(16)
    log = open(base / "server.log", "wb")
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--ServerApp.token={token}", f"--ServerApp.root_dir={work}", "--ServerApp.port_retries=0"]
    if hasattr(os, "geteuid") and os.geteuid() == 0:
        cmd.append("--allow-root")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT, cwd=work)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise RuntimeError(f"JupyterLab exited with {proc.returncode}:\n{(base / 'server.log').read_text()[-3000:]}")
            try:
                _get(f"{url}/api/status?token={token}")
                break
            except (urllib.error.URLError, ConnectionError, TimeoutError):
                if time.monotonic() > deadline:
                    raise RuntimeError("JupyterLab did not answer within 90 s")
                time.sleep(0.5)
        yield {"url": url, "token": token, "log": base / "server.log"}
    finally:
        # Shut the kernels down through the API first, so none outlives the server.
        try:
            for kernel in _get(f"{url}/api/kernels?token={token}") or []:
                _get(f"{url}/api/kernels/{kernel['id']}?token={token}", method="DELETE")
        except (urllib.error.URLError, OSError, ValueError):
            pass
        proc.terminate()  # this server only, by its PID
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(timeout=10)
        log.close()


def test_panel_runs_and_stops_in_jupyterlab(chromium_path, lab):  # browser first: a skip starts no server
    from playwright.sync_api import sync_playwright

    with sync_playwright() as pw:
        browser = pw.chromium.launch(executable_path=chromium_path,
                                     args=["--no-sandbox", "--disable-dev-shm-usage"])
        page = browser.new_page(viewport={"width": 1280, "height": 1900})
        page.set_default_timeout(TIMEOUT_MS)
        try:
            page.goto(f"{lab['url']}/lab/tree/panel.ipynb?token={lab['token']}")
            page.wait_for_selector(".jp-Notebook .jp-Cell")
            # The toolbar's indicator says "idle" before any kernel exists; the
            # status bar names the kernel once it is connected and idle.
            page.wait_for_function(
                "(document.querySelector('#jp-main-statusbar')?.textContent ?? '').includes('(ipykernel) | Idle')")

            # Run the cell: focus its editor, then Shift+Enter.
            page.click(".jp-Notebook .jp-Cell .jp-InputArea-editor")
            page.keyboard.press("Shift+Enter")
            run = page.wait_for_selector(".jp-OutputArea-output .styletut-run")
            # Thumbnails of the default picks are there before any run.
            page.wait_for_function("document.querySelector('.styletut-style-thumb')?.naturalWidth > 0")

            run.click()
            # The first preview arrives after step 1: chelsea at 64 px is 64x43
            # (the placeholder is a 112 px square).
            page.wait_for_function("document.querySelector('.styletut-preview')?.naturalWidth === 64")
            # Let a few steps go by, so the plot has a curve, then Stop mid-run.
            page.wait_for_function(
                "(() => { const m = /step (\\d+)\\//.exec(document.querySelector('.styletut-status')?.textContent ?? '');"
                " return m && Number(m[1]) >= 4; })()")
            page.click(".styletut-stop")
            page.wait_for_function("(document.querySelector('.styletut-status')?.textContent ?? '').includes('stopped')")
            page.wait_for_selector(".styletut-compare-card img")
            status = page.inner_text(".styletut-status")
            steps = int(status.split("stopped after ")[1].split()[0])
            assert 4 <= steps < 200, status
            echo = page.inner_text(".styletut-echo")
            assert "stylize(sample('chelsea'), procedural('swirls', 64, seed=0), size=64, num_steps=200)" in echo
            assert page.inner_text(".styletut-message").strip() == ""

            page.wait_for_timeout(500)  # let the last images paint
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            page.locator(".styletut-panel").screenshot(path=str(SCREENSHOT))
            print(f"\nscreenshot of the panel: {SCREENSHOT}")
        except Exception:
            SCREENSHOT.parent.mkdir(parents=True, exist_ok=True)
            failed = SCREENSHOT.with_name("panel-failure.png")
            page.screenshot(path=str(failed), full_page=True)
            print(f"\nscreenshot at failure: {failed}\nserver log: {lab['log']}")
            raise
        finally:
            browser.close()
