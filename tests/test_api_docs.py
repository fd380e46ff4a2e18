"""The book's API page renders every docstring cleanly.

The reader sees the package through ``book/api.md``: one ``automodule`` per
module, Google-style docstrings turned into reST by napoleon. A docstring that
reST cannot parse (a stray indent inside ``Args:``, an unescaped ``**kwargs``
or ``name_``) still builds, but as a garbled page and a warning lost in the
build log. This test builds that page alone, with the book's own module list
and autodoc/napoleon settings, and fails on any warning, naming it.
"""

from __future__ import annotations

import sys
from pathlib import Path

import pytest
import yaml
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


def test_api_page_builds_without_warnings(tmp_path):
    src, out = tmp_path / "src", tmp_path / "out"
    src.mkdir()
    (src / "index.rst").write_text(_api_rst())
    warnings = tmp_path / "warnings.txt"
    console.nocolor()  # plain text in the failure message
    with warnings.open("w") as warn:
        app = sphinx_app.Sphinx(
            str(src), None, str(out), str(out / ".doctrees"), "html",
            confoverrides={"extensions": ["sphinx.ext.autodoc", "sphinx.ext.napoleon"],
                           "html_theme": "basic", **_book_config()},
            status=None, warning=warn, freshenv=True)
        app.build()
    found = [line for line in warnings.read_text().splitlines() if line.strip()]
    assert not found, "the API page has docstrings that do not render:\n" + "\n".join(found)


def test_a_broken_docstring_is_caught(tmp_path, monkeypatch):
    """The check above can fail: a docstring with an unescaped ``**kwargs`` makes a warning."""
    import styletut.colour as colour

    def broken(**objective):
        """Passes **objective on."""
    broken.__module__ = colour.__name__
    monkeypatch.setattr(colour, "broken", broken, raising=False)
    monkeypatch.setattr(colour, "__all__", [*getattr(colour, "__all__", []), "broken"])
    with pytest.raises(AssertionError, match="broken"):
        test_api_page_builds_without_warnings(tmp_path)
