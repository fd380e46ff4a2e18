"""Will a style transfer fit in memory? An estimate, checked before any work.

Optimising an image keeps every VGG19 activation from the input up to the
deepest layer used (autograd needs them for the backward pass), so memory
grows with the number of pixels: about 4 kB per content pixel up to relu5_1,
plus 2.5 kB for L-BFGS-B's curvature memory (``2 m`` float64 copies of the
image, m = ``styletut.optim.LBFGS_MEMORY``). A 4096 px image
would need tens of GB; :func:`check_fits` says so in a second instead of
letting the machine swap or the run die, and suggests a size that fits.
``benchmarks/bench_memory.py`` compares the estimate with measured peaks.

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import math
import os

import torch

from .features import list_layers
from .optim import LBFGS_MEMORY

__all__ = ["estimate_bytes", "available_bytes", "check_fits"]

# Everything that does not grow with the image: Python, torch, scipy and the
# network's weights. benchmarks/bench_memory.py measured a peak of ~730 MiB
# for a tiny image (the intercept of peak against pixels); rounded up.
_FIXED_BYTES = 800 * 2 ** 20

# Keep this share of free memory for everything else on the machine.
_HEADROOM = 0.8


def _activation_elements(height: int, width: int, deepest: str, pooling: str) -> tuple[int, int]:
    """(elements kept by autograd, elements of the largest single layer) for one ``(1, 3, H, W)`` pass."""
    names = list_layers()
    kept, largest = 3 * height * width, 3 * height * width  # the normalised input
    h, w = height, width
    for name in names[: names.index(deepest) + 1]:
        block = int(name[4] if name.startswith("pool") else name[4])
        channels = min(64 * 2 ** (block - 1), 512)
        if name.startswith("pool"):
            h, w = h // 2, w // 2
            # Max pooling also keeps an int64 index per output: two float32's worth.
            kept += channels * h * w * (3 if pooling == "max" else 1)
        else:
            kept += channels * h * w  # conv output, or relu output (both kept)
        largest = max(largest, channels * h * w)
    return kept, largest


def estimate_bytes(content_hw: tuple[int, int], style_hw: tuple[int, int], layers, optimizer: str = "lbfgs",
                   pooling: str = "max") -> int:
    """Estimated peak memory of a style transfer, in bytes.

    Args:
        content_hw: ``(H, W)`` of the content image (and the result).
        style_hw: ``(H, W)`` of the style image (one forward pass, no backward).
        layers: the VGG19 layers used (the deepest sets the cost).
        optimizer: one of ``styletut.optim.OPTIMIZERS``.
        pooling: ``"max"`` or ``"avg"``.

    Returns:
        Bytes: activations kept for the backward pass plus its gradients,
        the optimiser's state, and a fixed part for the weights and framework.

    Example:
        >>> round(estimate_bytes((256, 256), (256, 256), ["relu5_1"]) / 2**30, 2)
        1.18
    """
    names = list_layers()
    deepest = max(layers, key=names.index)
    h, w = content_hw
    kept, largest = _activation_elements(h, w, deepest, pooling)
    # Forward values kept, plus the backward's gradient buffers for the two
    # largest layers in flight; float32.
    total = 4 * (kept + 3 * largest)
    sh, sw = style_hw
    _, style_largest = _activation_elements(sh, sw, deepest, pooling)
    total += 4 * 2 * style_largest  # the style pass keeps nothing, but two layers live at once
    n = 3 * h * w
    if optimizer == "lbfgs":
        total += 8 * n * (2 * LBFGS_MEMORY + 5)  # scipy's L-BFGS-B work arrays, float64
    elif optimizer == "adam":
        total += 4 * n * 2
    return int(total + _FIXED_BYTES)


def available_bytes(device: torch.device) -> int | None:
    """Free memory on ``device`` in bytes (``None`` if unknown)."""
    if device.type == "cuda":
        free, _ = torch.cuda.mem_get_info(device)
        return int(free)
    try:
        with open("/proc/meminfo") as fh:
            for line in fh:
                if line.startswith("MemAvailable:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    try:
        return os.sysconf("SC_AVPHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError, AttributeError):
        return None


def check_fits(content_hw: tuple[int, int], style_hw: tuple[int, int], opts, device: torch.device,
               available: int | None = None) -> int:
    """Raise a clear error if the run would not fit in memory; return the estimate.

    Args:
        content_hw, style_hw: image sizes ``(H, W)`` as they will be used.
        opts: the run's :class:`~styletut.options.StylizeOptions`.
        device: where it will run.
        available: free bytes (default: :func:`available_bytes`).

    Raises:
        ValueError: the estimate exceeds 80% of the free memory; the message
            gives both numbers and the largest ``size`` that fits.
    """
    layers = opts.content_layers + opts.style_layers
    need = estimate_bytes(content_hw, style_hw, layers, opts.optimizer, opts.pooling)
    free = available_bytes(device) if available is None else available
    if free is None or need <= _HEADROOM * free:
        return need
    # The largest longest side (same aspect) whose estimate fits.
    h, w = content_hw
    long_side = max(h, w)
    lo, hi = 16, long_side
    while lo < hi:
        mid = (lo + hi + 1) // 2
        s = mid / long_side
        fit = estimate_bytes((max(1, round(h * s)), max(1, round(w * s))),
                             tuple(min(a, mid) for a in style_hw), layers, opts.optimizer, opts.pooling)
        lo, hi = (mid, hi) if fit <= _HEADROOM * free else (lo, mid - 1)
    gib = 2 ** 30
    where = "GPU" if device.type == "cuda" else "RAM"
    hint = f"try size={lo} (--size {lo})" if lo > 16 else "free some memory first"
    raise ValueError(f"a {w}x{h} image needs about {need / gib:.1f} GiB but only {free / gib:.1f} GiB of {where} "
                     f"is free; {hint}" + (", or optimizer='adam', which needs less" if opts.optimizer == "lbfgs" else ""))
