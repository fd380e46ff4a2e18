"""Sphinx extension for the styletut book: what jupyter-book's config cannot say.

- quick / full mode from ``STYLETUT_QUICK``: ``make book`` (alias
  ``make book-full``) builds the reader's site in full mode into
  ``book/_build/html``; ``make book-quick`` (what ``make test`` builds and
  checks) builds a quick-mode site into ``book/_build/quick/_build/html``
  (jupyter-book's ``--path-output book/_build/quick``). Each mode has its own
  output folder, doctrees and jupyter-cache folder, so building one never
  invalidates the other; a quick build aimed at the reader's folder (or the
  other way round) is refused. The cache folder is also keyed by the package
  version: jupyter-cache keys a notebook by its code only, but the outputs
  also depend on the mode and on ``styletut/``;
- the nine lessons are checked: a lesson missing from ``notebooks/`` is named
  in a warning (sphinx-external-toc alone would only warn about a "nonexisting
  document") and recorded in the build manifest, which tests/test_book.py reads;
- each lesson page gets a note under its title: the notebook's repo path, how
  to open it in JupyterLab (``make lab``) and a download link of the .ipynb;
- the landing page's gallery is painted during the build by
  ``styletut.transfer.stylize`` into ``book/_generated/gallery-<mode>/``
  (git-ignored; binary results are never committed): in full mode at 256 px
  with 100 L-BFGS steps, in quick mode small; the page states the size, the
  steps and how much the last fifth of the steps still lowered the loss;
- the API page gets one ``automodule`` section per module of the package, so a
  new module (``styletut.widgets``) appears without editing the page; a name a
  module re-exports is documented once, where it is defined;
- the ipywidgets HTML manager and require.js are copied from
  ``book/node_modules`` (``npm ci``, see package.json) into ``_static/widgets/``
  of the site: nothing is loaded from a CDN;
- printed output of a cell wraps instead of scrolling sideways
  (``_static/styletut.css``), so a checked claim (``✓ checked in this run:
  ...``) or a quick-mode note next to a figure can be read whole;
- ``_styletut_book.json`` in the site records the mode, the gallery's
  parameters and a hash of every notebook and of the package, so the site
  test can refuse a stale site or one of the wrong mode.
"""

from __future__ import annotations

import ast
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
    "09_what_does_it_cost",
    "10_controls",
    "11_fast_networks",
    "12_video",
    "13_three_d",
    "14_where_next",
]

# Order of the API page; modules not named here follow alphabetically.
API_ORDER = ["images", "data", "styles", "weights", "features", "losses", "optim",
             "options", "transfer", "colour", "statistics", "regions", "checkpoint", "memory",
             "photos", "training", "fastnet", "adain", "zoo", "video", "three_d", "files", "runtime", "course", "checks",
             "widgets", "cli"]
API_MARKER = "<!-- styletut-api-modules -->"

# (content sample, procedural style, caption) for the landing page's gallery.
GALLERY = [
    ("chelsea", "swirls", "Chelsea the cat, painted with swirling brush strokes"),
    ("astronaut", "stained_glass", "An astronaut as stained glass"),
    ("coffee", "pointillism", "A cup of coffee, pointillist"),
]
# Full mode: 256 px on the long side (the course's default size) and 100
# L-BFGS steps, enough for the loss to flatten out (the page prints how much
# the last 20 steps still lowered it). About 3 x 100 x 0.4 s on 2 CPU cores.
# Quick mode: small and short, for tests only.
GALLERY_QUICK = dict(size=128, num_steps=30)
GALLERY_FULL = dict(size=256, num_steps=100)
GALLERY_MARKER = "<!-- styletut-gallery-note -->"
GALLERY_SRC = "_generated/gallery/"   # as index.md writes it; per mode in the site
GALLERY_GAP = 8   # px between the panels of a composite

# Where each mode's site is built (the Makefile's `book` and `book-quick`).
SITES = {
    "full": BOOK / "_build" / "html",
    "quick": BOOK / "_build" / "quick" / "_build" / "html",
}


def mode_name(quick: bool) -> str:
    return "quick" if quick else "full"


def gallery_params(quick: bool) -> dict:
    return dict(GALLERY_QUICK if quick else GALLERY_FULL)


def gallery_dir(quick: bool) -> Path:
    return GENERATED / f"gallery-{mode_name(quick)}"


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
    mode = mode_name(quick)
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
    # The footer of every page says which build this is.
    opts = dict(config.html_theme_options or {})
    opts["extra_footer"] = "Built offline from <code>notebooks/</code>" + (
        " in quick mode with <code>make book-quick</code>: the test build, small figures. "
        "<code>make book</code> builds the reader's site." if quick else
        " in full mode with <code>make book</code>.")
    config.html_theme_options = opts


# -- lessons, gallery, widget files: before reading ---------------------------------

def check_output_folder(app) -> None:
    """Refuse to write one mode's site into the other mode's folder."""
    mode = mode_name(app.config.styletut_quick)
    out = Path(app.outdir).resolve()
    for other, folder in SITES.items():
        if other != mode and out == folder.resolve():
            target = "make book-quick" if mode == "quick" else "make book"
            raise ExtensionError(
                f"this is a {mode}-mode build (STYLETUT_QUICK), but its output folder {out} is "
                f"where the {other}-mode site goes: run `{target}`, which builds into "
                f"{SITES[mode].relative_to(REPO)}")


def on_builder_inited(app):
    check_output_folder(app)
    present, missing = present_lessons()
    for name in missing:
        logger.warning("styletut-book: lesson notebooks/%s.ipynb does not exist: "
                       "its page is missing from the book", name)
    logger.info("styletut-book: %d of %d lessons present, %s mode",
                len(present), len(LESSONS), mode_name(app.config.styletut_quick))
    if app.builder.format == "html":
        for src in widget_files():
            if not src.is_file():
                raise ExtensionError(
                    f"{src} is missing: run `make book` (it runs `npm ci` in book/) "
                    "to install the ipywidgets HTML manager served by the site")
    # Kept for this run only: index.md's source-read prints it.
    app.styletut_gallery = make_gallery(app.config.styletut_quick)


def widget_files() -> list[Path]:
    dist = NODE_MODULES / "@jupyter-widgets" / "html-manager" / "dist"
    files = [NODE_MODULES / "requirejs" / "require.js", dist / "embed-amd.js"]
    # Font Awesome files the bundle's CSS loads relative to embed-amd.js.
    if dist.is_dir():
        files += sorted(p for p in dist.iterdir()
                        if p.suffix in (".woff2", ".woff", ".ttf", ".eot", ".svg"))
    return files


def make_gallery(quick: bool) -> dict:
    """Paint the gallery with the package, unless the same images exist already.

    Returns what was measured (per image: size, steps, seconds, and how much
    the last fifth of the steps lowered the objective), also kept in the
    folder's ``stamp.json``.
    """
    params = gallery_params(quick)
    out = gallery_dir(quick)
    stamp = out / "stamp.json"
    key = {"package": package_hash(), "params": params, "gallery": GALLERY, "gap": GALLERY_GAP}
    key = json.loads(json.dumps(key))   # as stored: tuples become lists
    if stamp.is_file():
        old = json.loads(stamp.read_text())
        if old.get("key") == key and all((out / f"{c}-{s}.png").is_file() for c, s, _ in GALLERY):
            logger.info("styletut-book: gallery (%s mode) up to date", mode_name(quick))
            return old["measured"]

    from PIL import Image

    from styletut.data import procedural, sample
    from styletut.images import to_pil
    from styletut.transfer import stylize

    out.mkdir(parents=True, exist_ok=True)
    measured = {}
    for content, style, _ in GALLERY:
        t0 = time.perf_counter()
        style_img = procedural(style, params["size"], seed=0)
        result = stylize(sample(content), style_img, progress=False, **params)
        # Content, style and result side by side at the result's own height:
        # the result is never resampled, the other two are scaled to match.
        panels = [to_pil(result.content_img), to_pil(result.style_img), to_pil(result.image)]
        height = panels[2].height
        panels = [p if p.height == height else
                  p.resize((max(1, round(p.width * height / p.height)), height), Image.LANCZOS)
                  for p in panels]
        sheet = Image.new("RGB", (sum(p.width for p in panels) + GALLERY_GAP * (len(panels) - 1),
                                  height), "white")
        x = 0
        for p in panels:
            sheet.paste(p, (x, 0))
            x += p.width + GALLERY_GAP
        sheet.save(out / f"{content}-{style}.png", optimize=True)
        seconds = time.perf_counter() - t0
        measured[f"{content}-{style}"] = info = {
            "result_px": list(panels[2].size),
            "steps": result.history.steps_done,
            "seconds": round(seconds, 1),
            "last_fifth_gain": last_fifth_gain(result.history.losses.get("total", [])),
        }
        logger.info("styletut-book: gallery %s x %s (%s mode) in %.1f s: %dx%d px, %d steps, "
                    "the last fifth of the steps lowered J by %.1f%%", content, style,
                    mode_name(quick), seconds, *info["result_px"], info["steps"],
                    100 * info["last_fifth_gain"])
    stamp.write_text(json.dumps({"key": key, "measured": measured}, indent=1))
    return measured


def last_fifth_gain(losses: list[float]) -> float:
    """How much the last fifth of a run lowered the best objective seen, as a fraction of it.

    Small (a percent or two) means the run had flattened out; it is printed
    under the gallery so the claim "converged" is a measured one.
    """
    finite = [v for v in losses if v == v and abs(v) != float("inf")]
    if len(finite) < 5:
        return float("nan")
    cut = len(finite) - len(finite) // 5
    before, after = min(finite[:cut]), min(finite)
    return float((before - after) / before) if before > 0 else 0.0


def gallery_note(quick: bool, measured: dict) -> str:
    params = gallery_params(quick)
    gains = [m["last_fifth_gain"] for m in measured.values() if m["last_fifth_gain"] == m["last_fifth_gain"]]
    note = (f"{mode_name(quick)} mode: {params['size']} px on the long side, "
            f"{params['num_steps']} L-BFGS steps each")
    if gains:
        note += (f"; the last {params['num_steps'] // 5} steps lowered the objective $J$ "
                 f"by at most {100 * max(gains):.1f}%")
    if quick:
        note += (". Quick mode is the test build: these thumbnails are too small and too "
                 "short to show the styles well; `make book` paints them at full size")
    return note


# -- page sources -----------------------------------------------------------------

LESSON_NOTE = """
:::{{admonition}} Run this lesson yourself
:class: tip
This page is the notebook `notebooks/{name}.ipynb`, executed when the site was built
{mode}. To run it and change it, open a terminal in the repository and run

```bash
make lab
```

which sets everything up and opens JupyterLab; then open `notebooks/{name}.ipynb`
from the file browser. `make test` runs every lesson under test.
{{download}}`Download notebooks/{name}.ipynb <{name}.ipynb>` (without outputs).
:::
"""


def lesson_note(name: str, quick: bool) -> str:
    mode = ("in quick mode, `STYLETUT_QUICK=1`: small images and few steps, the test "
            "build of `make test`. A figure whose quick version is too small to show "
            "what the text says carries a note saying so; the reader's site, "
            "`make book`, shows every figure at full size" if quick
            else "in full mode, as in `make lab`: every claim the text makes about a "
            "figure is checked in the cell that draws it")
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


def api_reexports(name: str) -> dict[str, str]:
    """Names in ``styletut.<name>.__all__`` that it imports from another module on the API page.

    Returns ``{name: defining module}``. Autodoc documents every name in
    ``__all__``, imported or not, so ``StylizeOptions`` (re-exported by
    ``styletut.transfer``) would appear twice on the page and ``:class:`StylizeOptions```
    would be an ambiguous reference. Two kinds stay where they are re-exported:
    a name from a module with no section of its own (``styletut.widgets.layout``),
    and the vocabulary of ``styletut.names``, which is documented by the module
    that uses it (see that module). Read from the source (no import needed).
    """
    path = PACKAGE / f"{name}.py"
    package = path.is_file() is False  # a subpackage: relative imports start inside it
    path = PACKAGE / name / "__init__.py" if package else path
    here = ["styletut", name] if package else ["styletut"]
    on_page = {f"styletut.{m}" for m in api_modules()} - {"styletut.names"}
    tree = ast.parse(path.read_text(encoding="utf-8"))
    exported: list[str] = []
    imported: dict[str, str] = {}
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(isinstance(t, ast.Name) and t.id == "__all__" for t in node.targets):
            exported = list(ast.literal_eval(node.value))
        elif isinstance(node, ast.ImportFrom) and node.level >= 1 and node.module:
            source = ".".join([*here[:len(here) - node.level + 1], node.module])
            for alias in node.names:
                imported[alias.asname or alias.name] = source
    return {n: imported[n] for n in exported if imported.get(n) in on_page}


def api_automodule(name: str) -> str:
    """The reST that documents ``styletut.<name>``: its own members, re-exports only named."""
    text = f".. automodule:: styletut.{name}\n   :members:\n   :show-inheritance:\n"
    again = api_reexports(name)
    if again:
        text += f"   :exclude-members: {', '.join(again)}\n"
        listed = "; ".join(f"``{n}`` (:mod:`{m}`)" for n, m in again.items())
        text += f"\nAlso exported here, documented where defined: {listed}.\n"
    return text


def api_sections() -> str:
    parts = []
    for name in api_modules():
        parts.append(f"\n## `styletut.{name}`\n\n```{{eval-rst}}\n{api_automodule(name)}```\n")
    return "".join(parts)


def on_source_read(app, docname, source):
    if docname.startswith("notebooks/"):
        name = docname.split("/", 1)[1]
        if name in LESSONS:
            source[0] = insert_lesson_note(source[0], name, app.config.styletut_quick)
    elif docname == "api" and API_MARKER in source[0]:
        source[0] = source[0].replace(API_MARKER, api_sections())
    elif docname == "index":
        quick = app.config.styletut_quick
        text = source[0].replace(GALLERY_SRC, f"_generated/{gallery_dir(quick).name}/")
        source[0] = text.replace(GALLERY_MARKER, gallery_note(quick, app.styletut_gallery))


def on_env_get_outdated(app, env, added, changed, removed):
    # Pages whose content comes from elsewhere: the package's module list and
    # the gallery. Cheap to re-read, so always re-read them.
    return [d for d in ("api", "index") if d in env.found_docs]


# -- after writing ----------------------------------------------------------------

# Printed output (a cell's stdout) wraps: the lines claim() prints under a
# figure are long sentences, and a reader should not have to scroll sideways
# to read what was checked. Only lines wider than the column wrap; code
# cells keep their horizontal scroll.
SITE_CSS = """\
div.cell_output div.output.stream pre {
  white-space: pre-wrap;
  overflow-wrap: anywhere;
}
"""
SITE_CSS_NAME = "styletut.css"

def on_build_finished(app, exc):
    if exc is not None or app.builder.format != "html":
        return
    (Path(app.outdir) / "_static" / SITE_CSS_NAME).write_text(SITE_CSS)
    dest = Path(app.outdir) / "_static" / "widgets"
    dest.mkdir(parents=True, exist_ok=True)
    for src in widget_files():
        shutil.copy2(src, dest / src.name)
    present, missing = present_lessons()
    quick = bool(app.config.styletut_quick)
    manifest = {
        "mode": mode_name(quick),
        "quick": quick,
        "gallery": gallery_params(quick),
        "gallery_measured": getattr(app, "styletut_gallery", {}),
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
    app.add_css_file(SITE_CSS_NAME)   # written into the site by on_build_finished
    # Part of the HTML build's hash (.buildinfo): a new or changed stylesheet
    # rewrites every page, so none is left without its link.
    app.add_config_value("styletut_site_css", SITE_CSS, "html")
    app.connect("config-inited", on_config_inited)
    app.connect("builder-inited", on_builder_inited)
    app.connect("source-read", on_source_read)
    app.connect("env-get-outdated", on_env_get_outdated)
    # After sphinx-mathjax-offline's copy (default priority 500).
    app.connect("build-finished", on_build_finished, priority=600)
    return {"version": "1.0", "parallel_read_safe": True, "parallel_write_safe": True}
