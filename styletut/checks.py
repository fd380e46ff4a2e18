"""Checks for the lessons' exercises: verify a learner's answer, say what is wrong.

Every check raises ``AssertionError`` with a hint when the answer is wrong and
prints a short confirmation when it is right, so a check cell fails loudly
under test (nbval) and in the learner's notebook alike.

Introduced in notebooks/00_welcome.ipynb
"""

from __future__ import annotations

from typing import Callable, Iterable

import torch

from .course import quick_mode

__all__ = ["check_close", "check_true", "check_function", "claim"]


def _as_tensor(x) -> torch.Tensor:
    return x.detach().cpu().double() if isinstance(x, torch.Tensor) else torch.as_tensor(x, dtype=torch.float64)


def check_close(answer, expected, name: str = "your answer", rtol: float = 1e-4, atol: float = 1e-6,
                hint: str = "") -> None:
    """Check that ``answer`` equals ``expected`` (numbers, arrays or tensors) within tolerance.

    Raises:
        AssertionError: naming what differs (shape or largest difference) and ``hint``.
    """
    if answer is None or answer is Ellipsis:
        raise AssertionError(f"{name} is still empty: fill in the exercise cell above. {hint}".strip())
    a, e = _as_tensor(answer), _as_tensor(expected)
    if a.shape != e.shape:
        raise AssertionError(f"{name} has shape {tuple(a.shape)}, expected {tuple(e.shape)}. {hint}".strip())
    if not torch.allclose(a, e, rtol=rtol, atol=atol, equal_nan=False):
        worst = (a - e).abs().max().item()
        raise AssertionError(f"{name} is not right yet: largest difference {worst:.4g}. {hint}".strip())
    print(f"✓ {name} is correct")


def check_true(condition: bool, message: str, success: str = "✓ correct") -> None:
    """Raise ``AssertionError(message)`` unless ``condition``; print ``success`` otherwise."""
    if not condition:
        raise AssertionError(message)
    print(success)


def check_function(fn: Callable, reference: Callable, inputs: Iterable[tuple], name: str | None = None,
                   rtol: float = 1e-4, atol: float = 1e-6, hint: str = "") -> None:
    """Check a learner's function against a reference on several inputs.

    Args:
        fn: the learner's function.
        reference: the package's function (or any trusted one).
        inputs: argument tuples to call both with.
    """
    name = name or getattr(fn, "__name__", "your function")
    for i, args in enumerate(inputs):
        try:
            got = fn(*args)
        except NotImplementedError:
            raise AssertionError(f"{name} is not written yet: replace the `raise NotImplementedError`. {hint}".strip()) from None
        want = reference(*args)
        shapes = ", ".join(str(tuple(a.shape)) if hasattr(a, "shape") else repr(a) for a in args)
        check_close(got, want, name=f"{name} on input {i + 1} ({shapes})", rtol=rtol, atol=atol, hint=hint)


def claim(holds: bool, statement: str) -> bool:
    """Check a claim the lesson's prose makes about the figure this cell draws.

    Lessons call it in the cell that draws a figure, with the measured
    condition and the sentence the prose says (``claim(tex_err < 0.1 * noise_err,
    "the texture's Gram loss is under 10% of the noise's")``), so the text and
    the figure cannot drift apart: every build of the book checks them.

    - A claim that holds prints ``✓ checked in this run: <statement>``, so the
      reader sees what was verified next to the figure.
    - In full mode a claim that fails raises ``AssertionError``: the book
      build (and the learner's notebook) stops there.
    - In quick mode (``STYLETUT_QUICK=1``: tiny images, few steps, meant for
      tests) a failed claim prints a visible note instead: the quick figure
      is too small or too short to show it, and full mode (``make book``)
      does. The same code runs in both modes; only the sizes differ.

    Args:
        holds: the measured condition (anything truthy; a tensor is turned into a bool).
        statement: the claim in the prose's words.

    Returns:
        Whether the claim held.

    Introduced in notebooks/00_welcome.ipynb
    """
    ok = bool(holds)
    if ok:
        print(f"✓ checked in this run: {statement}")
    elif quick_mode():
        print(f"⚠ quick mode: this figure is too small or too short to show that {statement}. "
              "The full-mode build (`make book`, or this notebook run without STYLETUT_QUICK) shows it.")
    else:
        raise AssertionError(f"the prose claims that {statement}, but this run does not show it")
    return ok
