"""Where code runs and how reproducibly: the device, and random generators.

Library code never touches the global random state: everything random in
``styletut`` draws from a local ``torch.Generator`` made by :func:`generator`,
so a run in the control panel's thread cannot change the numbers a notebook
draws next. :func:`seed_everything` exists for the lessons' own cells.
"""

from __future__ import annotations

import contextlib
import ctypes
import functools
import random
import sys
import threading
from typing import Iterator

import numpy as np
import torch

from .names import DEVICES, check_device_name

__all__ = ["DEVICES", "resolve_device", "generator", "seed_everything", "keep_freed_memory"]


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


# glibc's mallopt parameters and their defaults (malloc.h, malloc.c).
_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4
_DEFAULT_TRIM_THRESHOLD, _DEFAULT_MMAP_MAX = 128 * 1024, 65536
# mallopt takes an int: the largest trim threshold it can be given (2 GiB).
_NEVER_TRIM = 2**31 - 1
_alloc_lock = threading.Lock()
_alloc_depth = 0  # how many keep_freed_memory blocks are open (they nest)


@functools.cache  # the answer cannot change while the process runs; every run asks
def _glibc():
    """The process's C library if it is glibc (it has ``mallopt``), else ``None`` (macOS, Windows, musl)."""
    if not sys.platform.startswith("linux"):
        return None
    try:
        libc = ctypes.CDLL(None)
        libc.gnu_get_libc_version, libc.mallopt, libc.malloc_trim  # noqa: B018 (glibc has all three)
    except (OSError, AttributeError):
        return None
    return libc


@contextlib.contextmanager
def keep_freed_memory(enabled: bool = True) -> Iterator[bool]:
    """Within the block, memory the process frees stays with it; at the end it goes back to the system.

    Why: at 1024 px each of VGG19's first activations is some 180 MB. glibc's
    ``malloc`` hands blocks that big out as fresh ``mmap`` regions and unmaps
    them when they are freed, so every step of an optimisation asks the
    kernel again for every page of every activation (millions of page faults
    per step). Inside the block glibc is told to serve them from its heap and
    keep that heap (``mallopt``: no ``mmap``, no trimming), so a step reuses
    the pages the step before freed. Measured on the 2-core CPU
    (``benchmarks/bench_layout.py``): a step is 1.09 times as fast at 512 px,
    1.34 at 1024 and 1.21 at 2048 (where glibc keeps at most 2 GiB of freed
    memory: ``mallopt`` takes an int); at 256 px and below glibc recycles the
    blocks by itself and nothing changes. The price is memory: the holes
    freed blocks leave raise a run's peak, by 14% in a 1024 px run. At the end
    (of the outermost block: they nest) glibc's defaults come back and
    ``malloc_trim`` returns the freed memory, so the process does not hold on
    to a run's peak afterwards.

    Only glibc (Linux) has these switches; elsewhere, or with ``enabled=False``,
    the block changes nothing. The results of what runs inside are identical.

    Args:
        enabled: ``False`` makes the block a no-op (``stylize`` passes
            whether it runs on the CPU; a GPU run's activations are not
            malloc's).

    Returns:
        A context manager whose value is ``True`` when the setting is in force.

    Example:
        >>> with keep_freed_memory() as kept:
        ...     x = torch.ones(1024, 1024).sum()

    Introduced in notebooks/09_what_does_it_cost.ipynb
    """
    global _alloc_depth
    libc = _glibc() if enabled else None
    if libc is None:
        yield False
        return
    with _alloc_lock:
        if _alloc_depth == 0:
            libc.mallopt(_M_MMAP_MAX, 0)
            libc.mallopt(_M_TRIM_THRESHOLD, _NEVER_TRIM)
        _alloc_depth += 1
    try:
        yield True
    finally:
        with _alloc_lock:
            _alloc_depth -= 1
            if _alloc_depth == 0:
                libc.mallopt(_M_TRIM_THRESHOLD, _DEFAULT_TRIM_THRESHOLD)
                libc.mallopt(_M_MMAP_MAX, _DEFAULT_MMAP_MAX)
                libc.malloc_trim(0)
