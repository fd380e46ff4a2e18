"""The book's API page renders every docstring cleanly.

The reader sees the package through ``book/api.md``: one ``automodule`` per
module, Google-style docstrings turned into reST by napoleon. A docstring that
reST cannot parse (a stray indent inside ``Args:``, an unescaped ``**kwargs``
or ``name_``) still builds, but as a garbled page and a warning lost in the
build log. This test builds that page alone, with the book's own module list
and autodoc/napoleon settings, and fails on any warning, naming it, and on
a docstring whose first words napoleon shows as a type.
"""

from __future__ import annotations

import re
import sys
from pathlib import Path

import pytest
import yaml
from bs4 import BeautifulSoup
from sphinx import application as sphinx_app
from sphinx.util import console

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
sys.path.insert(0, str(BOOK / "_ext"))
import styletut_book  # noqa: E402  (the book's own list of API modules)


def _book_config() -> dict:
    """The autodoc/napoleon settings of ``book/_config.yml``, so this page is the book's page."""
    config = yaml.safe_load((BOOK / "_config.yml").read_text())["sphinx"]["config"]
    return {k: v for k, v in config.items() if k.startswith(("autodoc_", "napoleon_"))}


def _api_rst() -> str:
    """``book/api.md`` as reST: the same directives, from the same function."""
    parts = ["API\n===\n\n.. automodule:: styletut\n"]
    for name in styletut_book.api_modules():
        title = f"styletut.{name}"
        parts.append(f"\n{title}\n{'-' * len(title)}\n\n{styletut_book.api_automodule(name)}")
    return "".join(parts)


def _build(folder: Path) -> tuple[list[str], Path]:
    """Build the API page into ``folder``; return Sphinx's warnings and the page."""
    src, out = folder / "src", folder / "out"
    src.mkdir()
    (src / "index.rst").write_text(_api_rst())
    warnings = folder / "warnings.txt"
    console.nocolor()  # plain text in the failure message
    with warnings.open("w") as warn:
        app = sphinx_app.Sphinx(
            str(src), None, str(out), str(out / ".doctrees"), "html",
            confoverrides={"extensions": ["sphinx.ext.autodoc", "sphinx.ext.napoleon"],
                           "html_theme": "basic", **_book_config()},
            status=None, warning=warn, freshenv=True)
        app.build()
    return [line for line in warnings.read_text().splitlines() if line.strip()], out / "index.html"


def _prose_types(page: Path) -> list[str]:
    """Attributes and properties whose "Type" is a phrase.

    Napoleon reads the first line of an attribute's or a property's docstring
    as ``type: description`` when it has a colon, so "How long the image took:
    the optimisation's time" is shown as a property of *type* "How long the
    image took". A real type has no two lower-case words in a row.
    """
    soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
    found = []
    for dt in soup.select("dl.field-list > dt"):
        if dt.get_text(strip=True).rstrip(":") != "Type":
            continue
        text = dt.find_next_sibling("dd").get_text(" ", strip=True)
        if re.search(r"\b[a-z]+ [a-z]+\b", text):
            owner = dt.find_parent("dd").find_previous_sibling("dt")
            found.append(f"{owner.get('id')}: type {text!r}")
    return found


@pytest.fixture(scope="module")
def api_page(tmp_path_factory):
    return _build(tmp_path_factory.mktemp("api"))


def test_api_page_builds_without_warnings(api_page):
    warnings, _ = api_page
    assert not warnings, "the API page has docstrings that do not render:\n" + "\n".join(warnings)


def test_no_sentence_is_read_as_a_type(api_page):
    _, page = api_page
    found = _prose_types(page)
    assert not found, ("a docstring's first line reads as 'type: description' (drop the colon):\n"
                       + "\n".join(found))


def test_the_checks_can_fail(tmp_path, monkeypatch):
    """A docstring with an unescaped ``**kwargs`` makes a warning; a property whose first line has a colon
    makes a phrase its type."""
    import styletut.colour as colour

    def broken(**objective):
        """Passes **objective on."""

    class Timed:
        """A class with one property."""

        @property
        def seconds(self) -> float:
            """How long it took: wall-clock seconds."""
            return 0.0

    for obj in (broken, Timed):
        obj.__module__, obj.__qualname__ = colour.__name__, obj.__name__
        monkeypatch.setattr(colour, obj.__name__, obj, raising=False)
    monkeypatch.setattr(colour, "__all__", [*colour.__all__, "broken", "Timed"])
    warnings, page = _build(tmp_path)
    assert any("styletut.colour.broken" in w for w in warnings), warnings
    assert _prose_types(page) == ["styletut.colour.Timed.seconds: type 'How long it took'"]
