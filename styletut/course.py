"""Lesson settings: quick mode, and the setup cell (seed, device, mode).

Quick mode (``STYLETUT_QUICK=1``) exists so the whole course runs under test
in minutes on two CPU cores. It changes sizes and step counts only: every
lesson calls :func:`pick` for such numbers and runs the same code either way.
"""

from __future__ import annotations

import os

import torch

# Device choice and seeding live in styletut.runtime (library code needs them
# without lesson settings); lessons keep importing them from here.
from .runtime import resolve_device, seed_everything

__all__ = ["QUICK_ENV", "quick_mode", "pick", "seed_everything", "resolve_device", "setup", "rerun_tol"]

QUICK_ENV = "STYLETUT_QUICK"


def quick_mode() -> bool:
    """Whether quick mode is on (environment variable ``STYLETUT_QUICK``).

    Returns:
        ``True`` when ``STYLETUT_QUICK`` is set to anything but ``""``, ``"0"``,
        ``"false"`` or ``"no"``.
    """
    return os.environ.get(QUICK_ENV, "").strip().lower() not in ("", "0", "false", "no")


def pick(full, quick):
    """Return ``quick`` in quick mode and ``full`` otherwise.

    Only sizes and counts should go through this function, never a choice of
    which code runs.

    Example:
        >>> num_steps = pick(full=300, quick=10)
    """
    return quick if quick_mode() else full


def rerun_tol(device: torch.device | str) -> dict:
    """Tolerances for ``assert_close`` between two runs of the same computation on ``device``.

    On the CPU the lessons' hand-written loops and the package do the same
    float32 arithmetic in the same order, so ``assert_close``'s own float32
    tolerances hold (``{}``). On a GPU, cuDNN may pick other kernels, or add
    in another order, from one call to the next (and convolutions run in TF32
    by default), so the same steps agree to about 1e-4 relative, not 1e-6
    (measured on an H200: 1.5e-4 after six GD steps of lesson 05).

    Args:
        device: where both runs ran.

    Returns:
        Keyword arguments for ``torch.testing.assert_close``.

    Example:
        >>> rerun_tol("cpu")
        {}
        >>> rerun_tol("cuda")
        {'rtol': 0.001, 'atol': 0.001}
    """
    return {} if torch.device(device).type == "cpu" else {"rtol": 1e-3, "atol": 1e-3}


def setup(seed: int = 0, device: str = "auto") -> torch.device:
    """The first cell of every lesson: seed everything, pick the device, say the mode.

    Returns:
        The device lessons should put tensors and networks on.
    """
    seed_everything(seed)
    dev = resolve_device(device)
    mode = "quick mode (small sizes and step counts)" if quick_mode() else "full mode"
    print(f"styletut: {mode}, device={dev}, torch {torch.__version__}, seed={seed}")
    return dev
