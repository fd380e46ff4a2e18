"""Screenshots of the built book in headless Chromium (Debian's ``chromium``).

    python book/screenshots.py [OUTDIR]      (default: build/screenshots)

Takes the landing page and two lessons (the first of each list below that
exists: one with maths, one with widgets) at a desktop (1280 px) and a phone
(390 px) width. Scripts run for a few seconds of virtual time first, so MathJax
has typeset and the widgets have rendered. Needs a built site: ``make book``.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
SITE = ROOT / "book" / "_build" / "html"
WIDTHS = {"desktop": (1280, 1800), "phone": (390, 1800)}
# Lesson pages to show, in order of preference: maths-heavy, then widget-heavy.
LESSON_CHOICES = [
    ["notebooks/04_style_loss", "notebooks/03_content_loss", "notebooks/05_gradient_descent"],
    ["notebooks/08_full_transfer", "notebooks/07_fixing_a_broken_listing", "notebooks/00_welcome"],
]


def pages() -> list[str]:
    chosen = ["index"]
    for choices in LESSON_CHOICES:
        for page in choices:
            if (SITE / f"{page}.html").is_file() and page not in chosen:
                chosen.append(page)
                break
    return chosen


def browser() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    return None


def take(outdir: Path) -> list[Path]:
    exe = browser()
    if exe is None:
        raise SystemExit("no chromium on PATH (Debian: apt-get install chromium)")
    if not (SITE / "index.html").is_file():
        raise SystemExit(f"no site at {SITE}: run `make book` first")
    outdir.mkdir(parents=True, exist_ok=True)
    written = []
    for page in pages():
        for label, (w, h) in WIDTHS.items():
            out = outdir / f"{page.replace('/', '_')}-{label}.png"
            out.unlink(missing_ok=True)
            cmd = [exe, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars",
                   "--disable-dev-shm-usage", "--virtual-time-budget=10000",
                   f"--window-size={w},{h}", f"--screenshot={out}",
                   (SITE / f"{page}.html").as_uri()]
            subprocess.run(cmd, check=True, timeout=180,
                           stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if not out.is_file():
                raise SystemExit(f"chromium wrote no screenshot for {page} ({label})")
            written.append(out)
            print(out.relative_to(ROOT) if out.is_relative_to(ROOT) else out)
    return written


if __name__ == "__main__":
    take(Path(sys.argv[1]) if len(sys.argv) > 1 else ROOT / "build" / "screenshots")
