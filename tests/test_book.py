"""The built book (book/_build/html): complete, fresh, offline, no errors shown.

`make test` builds the book in quick mode (`make book`) and then runs pytest
with STYLETUT_BOOK_CHECK=1, so these tests check the site that very command
built. Without that variable (`make test-fast`, a bare `pytest`) they are
skipped when no site exists; a site that exists is checked either way.

A stale site cannot pass: the build writes a manifest with the hash of every
notebook and of the package, and the tests compare it with the sources.
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

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SITE = BOOK / "_build" / "html"
sys.path.insert(0, str(BOOK / "_ext"))
import styletut_book  # noqa: E402  (the build's own list of lessons and hashes)

REQUIRED = os.environ.get("STYLETUT_BOOK_CHECK", "") not in ("", "0")
MANIFEST_PATH = SITE / styletut_book.MANIFEST

if not MANIFEST_PATH.is_file():
    if REQUIRED:
        pytest.fail(f"no built book at {SITE}: `make test` runs `make book` first",
                    pytrace=False)
    pytest.skip("book not built (run `make book`; `make test` builds and checks it)",
                allow_module_level=True)

bs4 = pytest.importorskip("bs4")

MANIFEST = json.loads(MANIFEST_PATH.read_text())
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


def test_site_is_fresh():
    """The site was built from the notebooks and package as they are now."""
    stale = [n for n, h in MANIFEST["notebooks"].items()
             if not (ROOT / "notebooks" / f"{n}.ipynb").is_file()
             or styletut_book.sha256_file(ROOT / "notebooks" / f"{n}.ipynb") != h]
    new = [n for n in styletut_book.present_lessons()[0] if n not in MANIFEST["notebooks"]]
    assert not stale and not new, f"site is stale: changed {stale}, new {new}; run `make book`"
    assert MANIFEST["package"] == styletut_book.package_hash(), \
        "site was built from another version of styletut/: run `make book`"
    if REQUIRED:
        assert MANIFEST["quick"], "make test checks the quick-mode build (`make book`)"


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


def test_references_cover_the_papers_cited():
    text = soup(SITE / "references.html").get_text(" ")
    for needle in ["Gatys", "Ecker", "Bethge", "Johnson", "Alahi", "Huang", "Belongie",
                   "Ruder", "Simonyan", "Zisserman", "Kingma", "Nocedal", "Mahendran",
                   "Ulyanov", "texture synthesis"]:
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
    """Landing page and two lessons, desktop and phone, in headless Chromium."""
    sys.path.insert(0, str(BOOK))
    import screenshots

    if screenshots.browser() is None:
        pytest.skip("no chromium on PATH")
    out = ROOT / "build" / "screenshots"
    written = screenshots.take(out)
    assert len(written) == 2 * len(screenshots.pages()) >= 2
    from PIL import Image

    for png in written:
        with Image.open(png) as im:
            assert im.width in (390, 1280)
            # not a blank page: some spread of grey levels
            lo, hi = im.convert("L").getextrema()
            assert hi - lo > 100, f"{png.name} looks blank"
