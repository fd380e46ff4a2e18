"""Where code runs and how reproducibly: the device, and random generators.

Library code never touches the global random state: everything random in
``styletut`` draws from a local ``torch.Generator`` made by :func:`generator`,
so a run in the control panel's thread cannot change the numbers a notebook
draws next. :func:`seed_everything` exists for the lessons' own cells.
"""

from __future__ import annotations

import random

import numpy as np
import torch

from .names import DEVICES, check_device_name

__all__ = ["DEVICES", "resolve_device", "generator", "seed_everything"]



def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """Turn ``"auto"``, ``"cpu"``, ``"cuda"``, ``"cuda:N"`` (or a ``torch.device``) into a device.

    ``"auto"`` picks CUDA when it is present and the CPU otherwise.

    Raises:
        ValueError: for any other name, or for CUDA asked for where there is none.

    Example:
        >>> resolve_device("cpu")
        device(type='cpu')
    """
    if isinstance(device, torch.device):
        dev = device
    elif device == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    else:
        if isinstance(device, str):
            check_device_name(device)  # a misspelt name gets the list of valid ones
        try:
            dev = torch.device(device)
        except (RuntimeError, TypeError, ValueError) as err:
            raise ValueError(f"unknown device {device!r}; use one of: {', '.join(DEVICES)} (or 'cuda:N')") from err
        if dev.type not in ("cpu", "cuda"):
            raise ValueError(f"unsupported device {device!r}; use one of: {', '.join(DEVICES)} (or 'cuda:N')")
    if dev.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(f"device {device!r} asked for, but CUDA is not available here; use 'auto' or 'cpu'")
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise ValueError(f"device {device!r} asked for, but this machine has "
                             f"{torch.cuda.device_count()} GPU(s); use 'cuda' or 'auto'")
    return dev


def generator(seed: int, device: str | torch.device = "cpu") -> torch.Generator:
    """A fresh ``torch.Generator`` on ``device`` seeded with ``seed``; the global RNGs are untouched.

    Example:
        >>> a = torch.rand(2, generator=generator(0))
        >>> torch.equal(a, torch.rand(2, generator=generator(0)))
        True
    """
    return torch.Generator(device=device).manual_seed(int(seed))


def seed_everything(seed: int = 0) -> None:
    """Seed Python's, NumPy's and PyTorch's global generators (for a lesson's own cells).

    ``styletut`` itself never calls this from library code (see :func:`generator`).
    """
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
