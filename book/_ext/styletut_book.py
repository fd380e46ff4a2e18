"""Sphinx extension for the styletut book: what jupyter-book's config cannot say.

- quick / full mode from ``STYLETUT_QUICK`` (``make book`` sets it to 1,
  ``make book-full`` to 0), with a jupyter-cache folder per mode and package
  version: the cache is keyed by a notebook's code, but the outputs also depend
  on quick mode and on ``styletut/``;
- the nine lessons are checked: a lesson missing from ``notebooks/`` is named
  in a warning (sphinx-external-toc alone would only warn about a "nonexisting
  document") and recorded in the build manifest, which tests/test_book.py reads;
- each lesson page gets a note under its title: the notebook's repo path, how
  to open it in JupyterLab (``make lab``) and a download link of the .ipynb;
- the landing page's gallery is painted during the build by
  ``styletut.transfer.stylize`` (small images in quick mode), into
  ``book/_generated/`` (git-ignored; binary results are never committed);
- the API page gets one ``automodule`` section per module of the package, so a
  new module (``styletut.widgets``) appears without editing the page;
- the ipywidgets HTML manager and require.js are copied from
  ``book/node_modules`` (``npm ci``, see package.json) into ``_static/widgets/``
  of the site: nothing is loaded from a CDN;
- ``_styletut_book.json`` in the site records the mode and a hash of every
  notebook and of the package, so the site test can refuse a stale site.
"""

from __future__ import annotations

import hashlib
import json
import pkgutil
import shutil
import time
from pathlib import Path

from sphinx.errors import ExtensionError
from sphinx.util import logging

from styletut.course import quick_mode

logger = logging.getLogger(__name__)

BOOK = Path(__file__).resolve().parent.parent
REPO = BOOK.parent
NOTEBOOKS = REPO / "notebooks"
PACKAGE = REPO / "styletut"
GENERATED = BOOK / "_generated"
NODE_MODULES = BOOK / "node_modules"
MANIFEST = "_styletut_book.json"

# The lessons, in order (CONTRIBUTING.md). _toc.yml lists the same names.
LESSONS = [
    "00_welcome",
    "01_images_as_tensors",
    "02_cnn_features",
    "03_content_loss",
    "04_style_loss",
    "05_gradient_descent",
    "06_sgd",
    "07_fixing_a_broken_listing",
    "08_full_transfer",
]

# Order of the API page; modules not named here follow alphabetically.
API_ORDER = ["images", "styles", "weights", "features", "losses", "optim",
             "transfer", "course", "checks", "widgets", "cli"]
API_MARKER = "<!-- styletut-api-modules -->"

# (content sample, procedural style, caption) for the landing page's gallery.
GALLERY = [
    ("chelsea", "swirls", "Chelsea the cat, painted with swirling brush strokes"),
    ("astronaut", "stained_glass", "An astronaut as stained glass"),
    ("coffee", "pointillism", "A cup of coffee, pointillist"),
]
GALLERY_QUICK = dict(size=128, num_steps=30)
GALLERY_FULL = dict(size=384, num_steps=200)
GALLERY_THUMB = 256   # px, height of each panel of the composite


def sha256_file(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def package_hash() -> str:
    h = hashlib.sha256()
    for p in sorted(PACKAGE.rglob("*.py")):
        h.update(p.relative_to(REPO).as_posix().encode())
        h.update(p.read_bytes())
    return h.hexdigest()


def present_lessons() -> tuple[list[str], list[str]]:
    present = [n for n in LESSONS if (NOTEBOOKS / f"{n}.ipynb").is_file()]
    missing = [n for n in LESSONS if n not in present]
    return present, missing


# -- configuration ----------------------------------------------------------------

def on_config_inited(app, config):
    quick = quick_mode()
    config.styletut_quick = quick
    mode = "quick" if quick else "full"
    # jupyter-cache keys a notebook by its code only; the outputs also depend
    # on the mode and on the package, so both name the cache folder (a change
    # to styletut/ re-executes every lesson). Older folders of the mode go.
    caches = BOOK / "_build" / ".jupyter_cache"
    folder = f"{mode}-{package_hash()[:16]}"
    if caches.is_dir():
        for old in caches.glob(f"{mode}-*"):
            if old.name != folder:
                shutil.rmtree(old, ignore_errors=True)
    config.nb_execution_cache_path = str(caches / folder)
    params = GALLERY_QUICK if quick else GALLERY_FULL
    subs = dict(config.myst_substitutions or {})
    subs["gallery_note"] = (f"{mode} mode: {params['size']} px, "
                            f"{params['num_steps']} L-BFGS steps")
    config.myst_substitutions = subs


# -- lessons, gallery, widget files: before reading ---------------------------------

def on_builder_inited(app):
    present, missing = present_lessons()
    for name in missing:
        logger.warning("styletut-book: lesson notebooks/%s.ipynb does not exist: "
                       "its page is missing from the book", name)
    logger.info("styletut-book: %d of %d lessons present, %s mode",
                len(present), len(LESSONS), "quick" if app.config.styletut_quick else "full")
    if app.builder.format == "html":
        for src in widget_files():
            if not src.is_file():
                raise ExtensionError(
                    f"{src} is missing: run `make book` (it runs `npm ci` in book/) "
                    "to install the ipywidgets HTML manager served by the site")
    make_gallery(app.config.styletut_quick)


def widget_files() -> list[Path]:
    dist = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
    files = [NODE_MODULES / "requirejs" / "require.js", dist / "embed-amd.js"]
    # Font Awesome files the bundle's CSS loads relative to embed-amd.js.
    if dist.is_dir():
        files += sorted(p for p in dist.iterdir()
                        if p.suffix in (".woff2", ".woff", ".ttf", ".eot", ".svg"))
    return files


def make_gallery(quick: bool) -> None:
    """Paint the gallery with the package, unless the same images exist already."""
    params = GALLERY_QUICK if quick else GALLERY_FULL
    out = GENERATED / "gallery"
    stamp = out / "stamp.json"
    key = {"package": package_hash(), "params": params, "gallery": GALLERY, "thumb": GALLERY_THUMB}
    if stamp.is_file() and json.loads(stamp.read_text()) == key and all(
            (out / f"{c}-{s}.png").is_file() for c, s, _ in GALLERY):
        logger.info("styletut-book: gallery up to date")
        return

    from PIL import Image

    from styletut.images import procedural, sample, to_pil
    from styletut.transfer import stylize

    out.mkdir(parents=True, exist_ok=True)
    for content, style, _ in GALLERY:
        t0 = time.perf_counter()
        style_img = procedural(style, params["size"], seed=0)
        result = stylize(sample(content), style_img, progress=False, **params)
        panels = [to_pil(result.content_img), to_pil(result.style_img), to_pil(result.image)]
        panels = [p.resize((max(1, round(p.width * GALLERY_THUMB / p.height)), GALLERY_THUMB),
                           Image.LANCZOS) for p in panels]
        gap = 8
        sheet = Image.new("RGB", (sum(p.width for p in panels) + gap * (len(panels) - 1),
                                  GALLERY_THUMB), "white")
        x = 0
        for p in panels:
            sheet.paste(p, (x, 0))
            x += p.width + gap
        sheet.save(out / f"{content}-{style}.png", optimize=True)
        logger.info("styletut-book: gallery %s x %s in %.1f s", content, style,
                    time.perf_counter() - t0)
    stamp.write_text(json.dumps(key, indent=1))


# -- page sources -----------------------------------------------------------------

LESSON_NOTE = """
:::{{admonition}} Run this lesson yourself
:class: tip
This page is the notebook `notebooks/{name}.ipynb`, executed when the site was built
({mode}). To run it and change it, open a terminal in the repository and run

```bash
make lab
```

which sets everything up and opens JupyterLab; then open `notebooks/{name}.ipynb`
from the file browser. `make test` runs every lesson under test.
{{download}}`Download notebooks/{name}.ipynb <{name}.ipynb>` (without outputs).
:::
"""


def lesson_note(name: str, quick: bool) -> str:
    mode = ("quick mode: small images and few steps, `STYLETUT_QUICK=1`" if quick
            else "full mode, as in `make lab`")
    return LESSON_NOTE.format(name=name, mode=mode)


def insert_lesson_note(text: str, name: str, quick: bool) -> str:
    """Put the note right under the lesson's ``# Title`` line (or first, if none)."""
    nb = json.loads(text)
    note = lesson_note(name, quick)
    for cell in nb.get("cells", []):
        if cell.get("cell_type") != "markdown":
            continue
        src = cell["source"]
        lines = ("".join(src) if isinstance(src, list) else src).splitlines(keepends=True)
        for i, line in enumerate(lines):
            if line.startswith("# "):
                lines.insert(i + 1, note)
                cell["source"] = "".join(lines)
                return json.dumps(nb)
        break
    nb.setdefault("cells", []).insert(0, {"cell_type": "markdown", "metadata": {},
                                          "source": note})
    return json.dumps(nb)


def api_modules() -> list[str]:
    found = [m.name for m in pkgutil.iter_modules([str(PACKAGE)])
             if not m.name.startswith("_")]
    order = {n: i for i, n in enumerate(API_ORDER)}
    return sorted(found, key=lambda n: (order.get(n, len(order)), n))


def api_sections() -> str:
    parts = []
    for name in api_modules():
        parts.append(f"\n## `styletut.{name}`\n\n```{{eval-rst}}\n"
                     f".. automodule:: styletut.{name}\n"
                     f"   :members:\n   :show-inheritance:\n```\n")
    return "".join(parts)


def on_source_read(app, docname, source):
    if docname.startswith("notebooks/"):
        name = docname.split("/", 1)[1]
        if name in LESSONS:
            source[0] = insert_lesson_note(source[0], name, app.config.styletut_quick)
    elif docname == "api" and API_MARKER in source[0]:
        source[0] = source[0].replace(API_MARKER, api_sections())


def on_env_get_outdated(app, env, added, changed, removed):
    # Pages whose content comes from elsewhere: the package's module list and
    # the gallery. Cheap to re-read, so always re-read them.
    return [d for d in ("api", "index") if d in env.found_docs]


# -- after writing ----------------------------------------------------------------

def on_build_finished(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    dest = Path(app.outdir) / "_static" / "widgets"
    dest.mkdir(parents=True, exist_ok=True)
    for src in widget_files():
        shutil.copy2(src, dest / src.name)
    present, missing = present_lessons()
    manifest = {
        "quick": bool(app.config.styletut_quick),
        "lessons": LESSONS,
        "missing": missing,
        "notebooks": {n: sha256_file(NOTEBOOKS / f"{n}.ipynb") for n in present},
        "package": package_hash(),
        "api_modules": api_modules(),
        "built_at": time.time(),
    }
    (Path(app.outdir) / MANIFEST).write_text(json.dumps(manifest, indent=1))
    if missing:
        logger.warning("styletut-book: built WITHOUT %d lesson(s): %s",
                       len(missing), ", ".join(missing))


def setup(app):
    app.add_config_value("styletut_quick", False, "env")
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("source-read", on_source_read)
    app.connect("env-get-outdated", on_env_get_outdated)
    # After sphinx-mathjax-offline's copy (default priority 500).
    app.connect("build-finished", on_build_finished, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
