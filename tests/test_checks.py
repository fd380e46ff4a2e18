"""styletut.checks.claim: a lesson's claim about its figure fails the full build, and is flagged in quick mode."""

import pytest

from styletut.checks import claim


def test_claim_that_holds_is_printed(capsys, monkeypatch):
    monkeypatch.setenv("STYLETUT_QUICK", "0")
    assert claim(3 < 4, "three is less than four") is True
    assert "✓ checked in this run: three is less than four" in capsys.readouterr().out


def test_failed_claim_raises_in_full_mode(monkeypatch):
    monkeypatch.setenv("STYLETUT_QUICK", "0")
    with pytest.raises(AssertionError, match="the prose claims that deeper layers give larger structures"):
        claim(False, "deeper layers give larger structures")


def test_failed_claim_is_a_visible_note_in_quick_mode(capsys, monkeypatch):
    monkeypatch.setenv("STYLETUT_QUICK", "1")
    assert claim(False, "deeper layers give larger structures") is False
    out = capsys.readouterr().out
    assert "quick mode" in out and "deeper layers give larger structures" in out and "make book" in out
