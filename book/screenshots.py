"""Screenshots of the built book in headless Chromium (Debian's ``chromium``).

    python book/screenshots.py [--site full|quick|PATH] [OUTDIR]

``make book-screenshots`` runs it on the reader's site (``make book``, full
mode, ``book/_build/html``) into ``build/screenshots/``; the book test runs it
on the quick-mode test site (``make book-quick``) into
``build/screenshots/quick/``. It writes

- the landing page and two lessons (the first of each list below that exists:
  one with maths, one with widgets) at a desktop (1280 px) and a phone
  (390 px) width, the first 1800 px of each page: ``<page>-<width>.png``;
- lessons 04 and 08, whose figures issue #9 is about, at desktop width from
  top to bottom, cut into tiles at most 2400 px tall so each can be looked at:
  ``<page>-desktop-page-01.png``, ``-02``, ...

Pages are loaded over ``file://`` (nothing is served, nothing downloaded) and
given time for MathJax to typeset and the widgets to render. It drives
Chromium with playwright (a dev dependency; ``make venv``), as the browser
test of the control panel does.
"""

from __future__ import annotations

import argparse
import shutil
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent / "_ext"))
import styletut_book  # noqa: E402  (where each mode's site is built)

SITE = styletut_book.SITES["full"]
WIDTHS = {"desktop": (1280, 1800), "phone": (390, 1800)}
# Lesson pages to show, in order of preference: maths-heavy, then widget-heavy.
LESSON_CHOICES = [
    ["notebooks/04_style_loss", "notebooks/03_content_loss", "notebooks/05_gradient_descent"],
    ["notebooks/08_full_transfer", "notebooks/07_fixing_a_broken_listing", "notebooks/00_welcome"],
]
# Whole pages, top to bottom, at desktop width.
FULL_PAGES = ["notebooks/04_style_loss", "notebooks/08_full_transfer"]
TILE = 2400          # px, height of one tile of a whole-page screenshot
SETTLE_MS = 4000     # after load: MathJax typesets, widgets render


def pages(site: Path = SITE) -> list[str]:
    chosen = ["index"]
    for choices in LESSON_CHOICES:
        for page in choices:
            if (site / f"{page}.html").is_file() and page not in chosen:
                chosen.append(page)
                break
    return chosen


def full_pages(site: Path = SITE) -> list[str]:
    return [p for p in FULL_PAGES if (site / f"{p}.html").is_file()]


def browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def _open(context, path: Path, timeout_ms: int = 120_000):
    page = context.new_page()
    page.set_default_timeout(timeout_ms)
    page.goto(path.as_uri(), wait_until="load")
    # MathJax 3 resolves startup.promise once the page is typeset.
    page.evaluate("() => (window.MathJax && MathJax.startup && MathJax.startup.promise) || null")
    page.wait_for_timeout(SETTLE_MS)
    return page


def take(outdir: Path, site: Path = SITE) -> list[Path]:
    """Write the screenshots of ``site`` into ``outdir``; return their paths."""
    exe = browser()
    if exe is None:
        raise SystemExit("no chromium on PATH (Debian: apt-get install chromium)")
    if not (site / "index.html").is_file():
        raise SystemExit(f"no site at {site}: run `make book` first")
    from playwright.sync_api import sync_playwright

    outdir.mkdir(parents=True, exist_ok=True)
    for old in outdir.glob("*-page-*.png"):   # tiles of an earlier, longer page
        old.unlink()
    written = []

    def done(out: Path) -> None:
        if not out.is_file():
            raise SystemExit(f"chromium wrote no screenshot {out.name}")
        written.append(out)
        print(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)

    with sync_playwright() as pw:
        chrome = pw.chromium.launch(executable_path=exe,
                                    args=["--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu"])
        try:
            for label, (w, h) in WIDTHS.items():
                context = chrome.new_context(viewport={"width": w, "height": h})
                for name in pages(site):
                    page = _open(context, site / f"{name}.html")
                    out = outdir / f"{name.replace('/', '_')}-{label}.png"
                    page.screenshot(path=str(out))
                    page.close()
                    done(out)
                context.close()
            w, h = WIDTHS["desktop"]
            context = chrome.new_context(viewport={"width": w, "height": h})
            for name in full_pages(site):
                page = _open(context, site / f"{name}.html")
                height = page.evaluate("() => document.documentElement.scrollHeight")
                count = -(-height // TILE)
                tile = -(-height // count)   # equal tiles, none a thin strip
                for i in range(count):
                    out = outdir / f"{name.replace('/', '_')}-desktop-page-{i + 1:02d}.png"
                    page.screenshot(path=str(out), full_page=True,
                                    clip={"x": 0, "y": i * tile, "width": w,
                                          "height": min(tile, height - i * tile)})
                    done(out)
                page.close()
            context.close()
        finally:
            chrome.close()
    return written


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--site", default="full",
                        help="full (the reader's site, default), quick (the test site) or a folder")
    parser.add_argument("outdir", nargs="?", default=str(ROOT / "build" / "screenshots"))
    args = parser.parse_args(argv)
    site = styletut_book.SITES.get(args.site) or Path(args.site).resolve()
    take(Path(args.outdir), site)


if __name__ == "__main__":
    main()
