"""The built book: complete, fresh, of the right mode, offline, no errors shown.

Two sites exist (book/_ext/styletut_book.py, ``SITES``): the reader's site,
full mode, ``book/_build/html`` (`make book`), and the test site, quick mode,
``book/_build/quick/_build/html`` (`make book-quick`). These tests check the
site of the mode they run in: quick under ``STYLETUT_QUICK=1``, full otherwise.

`make test` builds the quick site (`make book-quick`) and then runs pytest
with ``STYLETUT_QUICK=1 STYLETUT_BOOK_CHECK=1``, so these tests check the site
that very command built, and a missing, stale or wrong-mode site fails.
Without STYLETUT_BOOK_CHECK (`make test-fast`, a bare `pytest`) they are
skipped when the site is missing or stale (a stale site is not an error
while you edit a lesson); a fresh site is checked either way.

Staleness is measured, not guessed: the build writes a manifest with its mode
and the hash of every notebook and of the package, and the tests compare it
with the sources.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
from pathlib import Path
from urllib.parse import unquote, urlsplit

import pytest

from styletut.course import quick_mode

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK / "_ext"))
import styletut_book  # noqa: E402  (the build's own list of lessons, hashes and folders)

QUICK = quick_mode()
MODE = styletut_book.mode_name(QUICK)
SITE = styletut_book.SITES[MODE]
BUILD = "make book-quick" if QUICK else "make book"
REQUIRED = os.environ.get("STYLETUT_BOOK_CHECK", "") not in ("", "0")
MANIFEST_PATH = SITE / styletut_book.MANIFEST

if not MANIFEST_PATH.is_file():
    if REQUIRED:
        pytest.fail(f"no built {MODE}-mode book at {SITE.relative_to(ROOT)}: "
                    f"`make test` runs `{BUILD}` first", pytrace=False)
    pytest.skip(f"{MODE}-mode book not built (run `{BUILD}`; `make test` builds and checks "
                "the quick one)", allow_module_level=True)

bs4 = pytest.importorskip("bs4")

MANIFEST = json.loads(MANIFEST_PATH.read_text())


def staleness(manifest: dict) -> list[str]:
    """Why the site no longer matches the sources and the mode (empty: it does)."""
    why = []
    if manifest.get("mode") != MODE or bool(manifest.get("quick")) != QUICK:
        why.append(f"{SITE.relative_to(ROOT)} holds a {manifest.get('mode', 'unknown')}-mode "
                   f"build, this is the {MODE}-mode site")
    stale = [n for n, h in manifest.get("notebooks", {}).items()
             if not (ROOT / "notebooks" / f"{n}.ipynb").is_file()
             or styletut_book.sha256_file(ROOT / "notebooks" / f"{n}.ipynb") != h]
    new = [n for n in styletut_book.present_lessons()[0] if n not in manifest.get("notebooks", {})]
    if stale or new:
        why.append(f"lessons changed since the build: {stale + new}")
    if manifest.get("package") != styletut_book.package_hash():
        why.append("styletut/ changed since the build")
    return why


STALE = staleness(MANIFEST)
if STALE and not REQUIRED:
    pytest.skip(f"the {MODE}-mode book is stale ({'; '.join(STALE)}): run `{BUILD}`",
                allow_module_level=True)
HTML_FILES = sorted(p for p in SITE.rglob("*.html"))
CSS_FILES = sorted(p for p in SITE.rglob("*.css"))
LESSON_PAGES = {n: SITE / "notebooks" / f"{n}.html" for n in styletut_book.LESSONS}


@functools.lru_cache(maxsize=None)
def soup(path: Path):
    """Parsed page, shared by the tests (read-only: do not modify the tree)."""
    return bs4.BeautifulSoup(path.read_text(encoding="utf-8"), "html.parser")


def is_remote(url: str) -> bool:
    url = url.strip()
    return bool(re.match(r"^(https?:)?//", url, re.I))


# -- complete and fresh -----------------------------------------------------------

def test_toc_lists_every_lesson_in_order():
    toc = (BOOK / "_toc.yml").read_text()
    files = re.findall(r"file:\s*notebooks/(\S+)", toc)
    assert files == styletut_book.LESSONS
    assert (BOOK / "notebooks").resolve() == (ROOT / "notebooks").resolve(), \
        "book/notebooks must be the symlink ../notebooks (one copy of each lesson)"


@pytest.mark.parametrize("name", styletut_book.LESSONS)
def test_lesson_page_exists(name):
    nb = ROOT / "notebooks" / f"{name}.ipynb"
    assert nb.is_file(), f"lesson notebook {nb.relative_to(ROOT)} does not exist"
    assert name not in MANIFEST["missing"], f"the book was built without {name}: rebuild it"
    assert LESSON_PAGES[name].is_file(), f"no page for lesson {name}"


def test_site_is_fresh_and_of_its_mode():
    """The site was built in this mode from the notebooks and package as they are now."""
    assert not STALE, f"the {MODE}-mode site is stale: {'; '.join(STALE)}; run `{BUILD}`"


def test_lesson_pages_say_which_mode_built_them():
    for name, page in LESSON_PAGES.items():
        if not page.is_file():
            continue
        note = soup(page).select_one("div.admonition.tip").get_text(" ")
        assert f"{MODE} mode" in note, f"{name}: the note under the title does not say {MODE} mode"


def test_gallery_matches_the_mode():
    """Full mode: 256 px, 100 L-BFGS steps (>= 192 px, converged); quick mode: small."""
    params = styletut_book.gallery_params(QUICK)
    assert MANIFEST["gallery"] == params
    if not QUICK:
        assert params["size"] >= 192 and params["num_steps"] >= 100
    measured = MANIFEST["gallery_measured"]
    assert set(measured) == {f"{c}-{s}" for c, s, _ in styletut_book.GALLERY}
    for key, m in measured.items():
        assert max(m["result_px"]) == params["size"], (key, m)
        assert m["steps"] >= 1, (key, m)
    text = soup(SITE / "index.html").get_text(" ")
    assert f"{MODE} mode: {params['size']} px" in text, "the gallery does not state its size and mode"
    from PIL import Image

    for content, style, _ in styletut_book.GALLERY:
        png = styletut_book.gallery_dir(QUICK) / f"{content}-{style}.png"
        width, height = measured[f"{content}-{style}"]["result_px"]
        with Image.open(png) as im:
            # content, style and result side by side at the result's own height
            assert im.height == height and im.width > 2 * width + height // 2, (png.name, im.size)


# Lines styletut.checks.claim prints next to a figure.
CLAIM_OK = "checked in this run:"
CLAIM_QUICK = "quick mode: this figure is too small"


def test_figures_come_with_their_checked_claims():
    """Each lesson page that shows a figure prints claim() lines next to it.

    Full mode: no quick-mode note may appear (a failed claim stops the full
    build, so a reader never sees a claim beside a figure that contradicts it).
    Quick mode: a figure too small to show its point says so.
    """
    without, quick_notes = [], []
    for name, page in LESSON_PAGES.items():
        if not page.is_file():
            continue
        doc = soup(page)
        outputs = doc.select("div.cell_output")
        figures = sum(len(o.select("img")) for o in outputs)
        text = " ".join(o.get_text(" ") for o in outputs)
        if figures and CLAIM_OK not in text and CLAIM_QUICK not in text:
            without.append(name)
        if CLAIM_QUICK in text:
            quick_notes.append(name)
    assert not without, f"lesson pages with figures but no checked claim (styletut.checks.claim): {without}"
    if not QUICK:
        assert not quick_notes, f"full-mode pages with quick-mode notes: {quick_notes}"


def test_lesson_pages_in_toc_order():
    nav = soup(SITE / "index.html").select("nav.bd-docs-nav a.reference.internal")
    hrefs = [a["href"] for a in nav]
    lessons = [h for h in hrefs if h.startswith("notebooks/")]
    present = [n for n in styletut_book.LESSONS if LESSON_PAGES[n].is_file()]
    assert lessons == [f"notebooks/{n}.html" for n in present]


@pytest.mark.parametrize("name", styletut_book.LESSONS)
def test_lesson_page_links_back_to_its_notebook(name):
    page = LESSON_PAGES[name]
    if not page.is_file():
        pytest.skip(f"no page for {name} (test_lesson_page_exists fails)")
    doc = soup(page)
    note = doc.select_one("div.admonition.tip")
    assert note is not None and f"notebooks/{name}.ipynb" in note.get_text()
    assert "make lab" in note.get_text()
    link = note.select_one("a.download")
    assert link is not None and link["href"].endswith(f"{name}.ipynb")
    target = (page.parent / unquote(link["href"])).resolve()
    assert target.is_file(), f"download link {link['href']} points nowhere"
    assert json.loads(target.read_text())["cells"], "downloaded notebook is empty"


def test_api_reference_documents_every_module():
    doc = soup(SITE / "api.html")
    ids = {s.get("id") for s in doc.select("[id]")}
    for name in styletut_book.api_modules():
        assert f"module-styletut.{name}" in ids, f"styletut.{name} missing from api.html"
    assert "module-styletut.transfer" in ids
    assert doc.select_one('dt[id="styletut.transfer.stylize"]') is not None
    # A re-exported class is documented once, where it is defined (styletut_book.api_reexports).
    assert [dt["id"] for dt in doc.select('dt[id$=".StylizeOptions"]')] == ["styletut.options.StylizeOptions"]


def test_notation_page():
    """One notation for the course (issue #9): in the toc under Reference, linked from the landing page."""
    page = SITE / "notation.html"
    assert page.is_file(), "no notation page"
    nav = [a["href"] for a in soup(SITE / "index.html").select("nav.bd-docs-nav a.reference.internal")]
    assert "notation.html" in nav
    body = soup(SITE / "index.html").select_one("article") or soup(SITE / "index.html")
    assert any(a.get("href", "").split("#")[0] == "notation.html" for a in body.select("a[href]")), \
        "the landing page does not link the notation page"
    html = page.read_text(encoding="utf-8")
    for symbol in [r"\alpha", r"\beta", r"\gamma", r"\eta", r"\theta", r"\xi", "w_l", "E_l",
                   "C_l", "M_l", "P^l", "G^l", "A^l", "F^l", "J(x)"]:
        assert symbol in html, f"{symbol} not on the notation page"
    for code in ["content_img", "style_img", "synth_img", "lr", "style_norm",
                 '"tutorial"', '"gatys"', '"relative"']:
        assert code in soup(page).get_text(" "), f"{code} not on the notation page"
    from styletut.losses import STYLE_NORMS

    assert all(f'"{n}"' in soup(page).get_text(" ") for n in STYLE_NORMS), \
        "a Gram normalisation of styletut.losses.STYLE_NORMS is missing from the notation page"


def test_references_cover_the_papers_cited():
    text = soup(SITE / "references.html").get_text(" ")
    for needle in ["Gatys", "Ecker", "Bethge", "Johnson", "Alahi", "Huang", "Belongie",
                   "Ruder", "Simonyan", "Zisserman", "Kingma", "Nocedal", "Mahendran",
                   "Ulyanov", "texture synthesis", "Identity Mappings", "Adaptive Instance",
                   "Bound Constrained", "Algorithm 778", "Rudin", "Osher", "Fatemi",
                   "Wright", "Numerical Optimization", "Controlling Perceptual Factors",
                   "Sublinear Memory", "Laplacian Pyramid", "Projected Newton", "Projected Quasi-Newton",
                   "Sliced Wasserstein Loss", "Wasserstein Barycenter", "Checkerboard Artifacts"]:
        assert needle.lower() in text.lower(), f"{needle} not on the references page"
    # Every "Name et al. 2016" / "Name & Name 2015" cited in a lesson is listed.
    cite = re.compile(r"\b([A-Z][a-z]+)(?: et al\.?| (?:&|and) [A-Z][a-z]+),? \(?((?:19|20)\d\d)\b")
    missing = set()
    for nb in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.ipynb")):
        cells = json.loads(nb.read_text())["cells"]
        md = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
        for name, year in cite.findall(md):
            if not re.search(rf"{name}\b[^\n]*?{year}|{year}[^\n]*?{name}\b", text):
                if not (name in text and year in text):
                    missing.add(f"{name} {year} ({nb.name})")
    assert not missing, f"cited in lessons but not on the references page: {sorted(missing)}"


# -- what the pages show ------------------------------------------------------------

def test_every_referenced_image_exists():
    missing = []
    for page in HTML_FILES:
        for img in soup(page).select("img[src]"):
            src = img["src"]
            if src.startswith("data:"):
                continue
            assert not is_remote(src), f"{page.name}: remote image {src}"
            path = (page.parent / unquote(urlsplit(src).path)).resolve()
            if not path.is_file():
                missing.append(f"{page.relative_to(SITE)}: {src}")
    assert not missing, missing


def test_gallery_is_on_the_landing_page():
    imgs = [i["src"] for i in soup(SITE / "index.html").select("img[src]")]
    for content, style, _ in styletut_book.GALLERY:
        assert any(s.endswith(f"{content}-{style}.png") for s in imgs), (content, style)


def test_no_execution_errors_on_any_page():
    """No traceback or error output, except in cells tagged raises-exception."""
    bad = []
    for page in HTML_FILES:
        doc = soup(page)
        for out in doc.select("div.cell_output div.output.traceback, div.cell_output .output.error"):
            cell = out.find_parent("div", class_="cell")
            if cell is not None and "tag_raises-exception" in cell.get("class", []):
                continue
            bad.append(f"{page.relative_to(SITE)}: {out.get_text()[:300]}")
        for out in doc.select("div.cell_output"):
            text = out.get_text()
            if "Traceback (most recent call last)" in text:
                cell = out.find_parent("div", class_="cell")
                if cell is None or "tag_raises-exception" not in cell.get("class", []):
                    bad.append(f"{page.relative_to(SITE)}: {text[:300]}")
        # docutils/Sphinx markers of markup that failed to render
        for el in doc.select(".system-message, .problematic"):
            bad.append(f"{page.relative_to(SITE)}: broken markup {el.get_text()[:120]!r}")
        if "CellExecutionError" in doc.get_text():
            bad.append(f"{page.relative_to(SITE)}: CellExecutionError")
    assert not bad, "\n".join(bad)


def test_math_is_typeset_by_the_local_mathjax():
    assert (SITE / "_static" / "mathjax" / "tex-chtml.js").is_file()
    assert (SITE / "_static" / "mathjax" / "output" / "chtml" / "fonts").is_dir()
    pages_with_math = 0
    for page in HTML_FILES:
        doc = soup(page)
        if not doc.select(".math"):
            continue
        pages_with_math += 1
        srcs = [s.get("src", "") for s in doc.select("script[src]")]
        assert any(re.search(r"(^|/)_static/mathjax/tex-chtml\.js", s) for s in srcs), \
            f"{page.name} has maths but does not load the local MathJax"
    assert pages_with_math >= 1


def test_printed_output_wraps():
    """claim()'s lines under a figure are read whole, not cut off at the column's edge."""
    css = SITE / "_static" / styletut_book.SITE_CSS_NAME
    assert css.is_file() and "pre-wrap" in css.read_text()
    for name, page in LESSON_PAGES.items():
        if page.is_file():
            hrefs = [l.get("href", "") for l in soup(page).select('link[rel="stylesheet"]')]
            assert any(h.split("?")[0].endswith(f"_static/{styletut_book.SITE_CSS_NAME}") for h in hrefs), name


def test_widgets_are_served_locally():
    for name in ("require.js", "embed-amd.js"):
        assert (SITE / "_static" / "widgets" / name).is_file()
    for page in HTML_FILES:
        doc = soup(page)
        if not doc.select('script[type="application/vnd.jupyter.widget-state+json"]'):
            continue
        srcs = [s.get("src", "") for s in doc.select("script[src]")]
        for name in ("require.js", "embed-amd.js"):
            assert any(s.split("?")[0].endswith(f"_static/widgets/{name}") for s in srcs), \
                f"{page.name}: widget state without the local {name}"
        for view in doc.select('script[type="application/vnd.jupyter.widget-view+json"]'):
            model = json.loads(view.string)["model_id"]
            state = json.loads(doc.select_one(
                'script[type="application/vnd.jupyter.widget-state+json"]').string)
            assert model in state["state"], f"{page.name}: widget view {model} has no state"


def test_no_asset_loads_from_off_the_machine():
    """Scripts, stylesheets, images, fonts, frames: all local. Plain <a> links may be remote."""
    bad = []
    asset_attrs = {"script": "src", "img": "src", "iframe": "src", "source": "src",
                   "video": "src", "audio": "src", "embed": "src", "object": "data",
                   "link": "href"}
    for page in HTML_FILES:
        doc = soup(page)
        for tag, attr in asset_attrs.items():
            for el in doc.find_all(tag):
                url = el.get(attr)
                if tag == "link" and not set(el.get("rel", [])) & {
                        "stylesheet", "preload", "icon", "modulepreload", "prefetch", "manifest"}:
                    continue
                if url and is_remote(url):
                    bad.append(f"{page.relative_to(SITE)}: <{tag} {attr}={url}>")
        for el in doc.select("[srcset]"):
            if any(is_remote(part.split()[0]) for part in el["srcset"].split(",") if part.strip()):
                bad.append(f"{page.relative_to(SITE)}: srcset {el['srcset']}")
        for style in doc.find_all("style"):
            bad += [f"{page.relative_to(SITE)}: <style> {u}" for u in css_remote_urls(style.get_text())]
        for el in doc.select("[style]"):
            bad += [f"{page.relative_to(SITE)}: style= {u}" for u in css_remote_urls(el["style"])]
    for css in CSS_FILES:
        bad += [f"{css.relative_to(SITE)}: {u}" for u in css_remote_urls(css.read_text(errors="replace"))]
    # The widget manager would fetch unknown widget modules from a CDN; the
    # embedded state must name only the modules its bundle carries.
    for page in HTML_FILES:
        for tag in soup(page).select('script[type="application/vnd.jupyter.widget-state+json"]'):
            for model in json.loads(tag.string)["state"].values():
                module = model.get("model_module", "")
                if module not in ("@jupyter-widgets/controls", "@jupyter-widgets/base",
                                  "@jupyter-widgets/output"):
                    bad.append(f"{page.relative_to(SITE)}: widget module {module} would load from a CDN")
    assert not bad, "\n".join(bad[:50])


def css_remote_urls(css: str) -> list[str]:
    css = re.sub(r"/\*.*?\*/", "", css, flags=re.S)
    urls = re.findall(r"url\(\s*['\"]?([^'\")\s]+)", css)
    urls += re.findall(r"@import\s+['\"]([^'\"]+)", css)
    return [u for u in urls if is_remote(u)]


def rendered_dom(page: Path) -> str:
    """The page's DOM after its scripts ran in headless Chromium (file://, offline)."""
    import subprocess

    sys.path.insert(0, str(BOOK))
    import screenshots

    exe = screenshots.browser()
    if exe is None:
        pytest.skip("no chromium on PATH")
    return subprocess.run(
        [exe, "--headless", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage",
         "--virtual-time-budget=10000", "--dump-dom", page.as_uri()],
        check=True, timeout=180, capture_output=True, text=True).stdout


def pages_with(selector: str, limit: int = 3) -> list[Path]:
    found = [p for p in HTML_FILES if p.parent.name == "notebooks" and soup(p).select(selector)]
    return found[:limit]


def test_math_and_widgets_render_in_a_browser():
    """MathJax typesets (mjx-container), widgets render from embedded state, no error box."""
    math_pages = pages_with(".math")
    widget_pages = pages_with('script[type="application/vnd.jupyter.widget-view+json"]')
    assert math_pages, "no lesson page has maths"
    for page in dict.fromkeys(math_pages + widget_pages):
        dom = rendered_dom(page)
        name = page.relative_to(SITE)
        if page in math_pages:
            assert "<mjx-container" in dom, f"{name}: maths not typeset by MathJax"
        if page in widget_pages:
            views = len(soup(page).select('script[type="application/vnd.jupyter.widget-view+json"]'))
            shown = len(re.findall(r'class="[^"]*\bjupyter-widgets\b', dom))
            assert shown >= 1, f"{name}: {views} widget views embedded, none rendered"
            assert "Error displaying widget" not in dom, f"{name}: a widget failed to render"


def test_screenshots():
    """Landing page and two lessons, desktop and phone; lessons 04 and 08 whole, in headless Chromium.

    The quick site's go to build/screenshots/quick/, so they never replace the
    reader's site's (`make book-screenshots`, build/screenshots/).
    """
    sys.path.insert(0, str(BOOK))
    import screenshots

    if screenshots.browser() is None:
        pytest.skip("no chromium on PATH")
    out = ROOT / "build" / "screenshots" / ("quick" if QUICK else "")
    written = screenshots.take(out, SITE)
    views = [p for p in written if "-page-" not in p.name]
    tiles = [p for p in written if "-page-" in p.name]
    assert len(views) == 2 * len(screenshots.pages(SITE)) >= 2
    whole = screenshots.full_pages(SITE)
    assert len(whole) == 2, "lessons 04 and 08 must be in the site"
    for name in whole:
        assert any(t.name.startswith(name.replace("/", "_")) for t in tiles), name
    from PIL import Image

    for png in written:
        with Image.open(png) as im:
            assert im.width in (390, 1280)
            # not a blank page: some spread of grey levels
            lo, hi = im.convert("L").getextrema()
            assert hi - lo > 100, f"{png.name} looks blank"
