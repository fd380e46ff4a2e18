"""Will a style transfer fit in memory? An estimate, checked before any work.

Optimising an image keeps every VGG19 activation from the input up to the
deepest layer used (autograd needs them for the backward pass), so memory
grows with the number of pixels: about 4 kB per content pixel up to relu5_1
(1.7 kB more with the sliced style statistic, whose sorted projections are kept too),
plus about 0.6 kB for L-BFGS's memory (``2 m`` float32 copies of the image for
its curvature pairs, m = ``styletut.optim.LBFGS_MEMORY`` = 20, and a few working copies). A 4096 px image
would need tens of GB; :func:`check_fits` says so in a second instead of
letting the machine swap or the run die, and suggests a size that fits.
``benchmarks/bench_memory.py`` compares the estimate with measured peaks.

Introduced in notebooks/09_what_does_it_cost.ipynb
"""

from __future__ import annotations

import math
import os

import torch

from .features import list_layers
from .optim import LBFGS_MEMORY
from .statistics import NUM_PROJECTIONS

__all__ = ["estimate_bytes", "available_bytes", "check_fits"]

# Everything that does not grow with the image: Python, torch, scipy and the
# network's weights. benchmarks/bench_memory.py measured a peak of ~730 MiB
# for a tiny image (the intercept of peak against pixels); rounded up.
_FIXED_BYTES = 800 * 2 ** 20

# Keep this share of free memory for everything else on the machine.
_HEADROOM = 0.8


def _activation_elements(height: int, width: int, layers, pooling: str, lean: bool = False) -> int:
    """Float32 elements alive at the peak of one forward + backward of ``(1, 3, H, W)`` through VGG19.

    Plain, autograd keeps every convolution's and ReLU's output (an upper
    bound: a ReLU's input is often freed). Lean (activation checkpointing per
    block, ``VGG19Features(lean=True)``) keeps each block's input, the
    features asked for, and one block at a time while it is recomputed.
    Either way the backward pass adds gradient buffers for about three of
    the largest maps.
    """
    names = list_layers()
    deepest = max(layers, key=names.index)
    plain = kept = largest = 3 * height * width  # the normalised input
    block_now = biggest_block = 0
    h, w = height, width
    for name in names[: names.index(deepest) + 1]:
        channels = min(64 * 2 ** (int(name[4]) - 1), 512)
        if name.startswith("pool"):
            h, w = h // 2, w // 2
            # Max pooling also keeps an int64 index per output: two float32's worth.
            size = channels * h * w * (3 if pooling == "max" else 1)
            plain += size
            kept += size  # the next block's input
            biggest_block = max(biggest_block, block_now)
            block_now = 0
            continue
        size = channels * h * w
        plain += size
        largest = max(largest, size)
        if name.startswith("relu"):
            block_now += size
            if name in layers:
                kept += size
    biggest_block = max(biggest_block, block_now)
    return (kept + biggest_block if lean else plain) + 3 * largest


# Float32 values per position and direction that the sliced statistic keeps
# for the backward pass: the projections, the sorted values, the sort's int64
# indices (two float32's worth) and the difference to the target; plus one
# for the gradient being formed. Measured (2-core CPU, chelsea and
# hubble_deep_field, 3 steps): 1.6 kB per content pixel more than the Gram
# statistic at 512 px and 1.4 kB at 1024 px; this gives 1.7 kB.
_SLICED_FLOATS = 5


def _positions(height: int, width: int, layers) -> int:
    """Σ over ``layers`` of the layer's positions ``h·w`` (each pool halves the sides)."""
    total = 0
    for name in layers:
        block = int(name[4]) if name.startswith(("conv", "relu")) else int(name[4]) + 1
        total += (height >> (block - 1)) * (width >> (block - 1))
    return total


def estimate_bytes(content_hw: tuple[int, int], style_hw: tuple[int, int], layers, optimizer: str = "lbfgs",
                   pooling: str = "max", lean: bool = False, sliced_layers=()) -> int:
    """Estimated peak memory of a style transfer, in bytes.

    Args:
        content_hw: ``(H, W)`` of the content image (and the result).
        style_hw: ``(H, W)`` of the style image (one forward pass, no backward).
        layers: the VGG19 layers used (the deepest sets the cost).
        optimizer: one of ``styletut.optim.OPTIMIZERS``.
        pooling: ``"max"`` or ``"avg"``.
        lean: VGG19 with activation checkpointing (``VGG19Features(lean=True)``).
        sliced_layers: the style layers described by the sliced statistic
            (``style_stats="sliced"``), whose sorted projections are kept for
            the backward pass too: about 1.7 kB per content pixel for the five
            default style layers, 40% more than the activations themselves.

    Returns:
        Bytes: activations kept for the backward pass plus its gradients,
        the optimiser's state, and a fixed part for the weights and framework.

    Example:
        >>> round(estimate_bytes((256, 256), (256, 256), ["relu5_1"]) / 2**30, 2)
        1.06
    """
    h, w = content_hw
    total = 4 * _activation_elements(h, w, layers, pooling, lean)
    # The style image's pass keeps nothing, but two maps are alive at once.
    sh, sw = style_hw
    total += 4 * 2 * 64 * sh * sw
    if sliced_layers:
        total += 4 * _SLICED_FLOATS * NUM_PROJECTIONS * _positions(h, w, sliced_layers)
    n = 3 * h * w
    if optimizer == "lbfgs":
        total += 4 * n * (2 * LBFGS_MEMORY + 8)  # box_lbfgs: 2m pairs + ~8 working copies, float32
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
               available: int | None = None) -> bool:
    """Pick the memory path for a run, or refuse it clearly; before any work.

    Args:
        content_hw, style_hw: image sizes ``(H, W)`` as they will be used
            (the largest level, for a coarse-to-fine run).
        opts: the run's :class:`~styletut.options.StylizeOptions`; its
            ``lean_memory`` is ``True`` (always lean), ``False`` (never) or
            ``None`` (lean only when the plain path would not fit).
        device: where it will run.
        available: free bytes (default: :func:`available_bytes`).

    Returns:
        Whether to use the lean path (``VGG19Features(lean=True)``).

    Raises:
        ValueError: the estimate exceeds 80% of the free memory on every
            allowed path; the message gives the numbers, the largest ``size``
            that fits and, if it would help, the lean path.
    """
    layers = opts.content_layers + opts.style_layers
    free = available_bytes(device) if available is None else available

    def need(hw, lean, style=style_hw):
        sliced = opts.style_layers if opts.style_stats == "sliced" else ()
        return estimate_bytes(hw, style, layers, opts.optimizer, opts.pooling, lean, sliced)

    paths = [True] if opts.lean_memory else [False] if opts.lean_memory is False else [False, True]
    if free is None:
        return paths[0]
    for lean in paths:
        if need(content_hw, lean) <= _HEADROOM * free:
            return lean
    lean = paths[-1]
    # The largest longest side (same aspect) whose estimate fits.
    h, w = content_hw
    long_side = max(h, w)
    lo, hi = 16, long_side
    while lo < hi:
        mid = (lo + hi + 1) // 2
        s = mid / long_side
        hw = (max(1, round(h * s)), max(1, round(w * s)))
        fits = need(hw, lean, tuple(min(a, mid) for a in style_hw)) <= _HEADROOM * free
        lo, hi = (mid, hi) if fits else (lo, mid - 1)
    gib = 2 ** 30
    where = "GPU" if device.type == "cuda" else "RAM"
    hints = [f"try size={lo} (--size {lo})" if lo > 16 else "free some memory first"]
    if not lean and need(content_hw, True) <= _HEADROOM * free:
        hints.append("or lean_memory=True (--lean-memory), which fits")
    elif opts.optimizer == "lbfgs":
        hints.append("or optimizer='adam', which needs less")
    raise ValueError(f"a {w}x{h} image needs about {need(content_hw, lean) / gib:.1f} GiB but only "
                     f"{free / gib:.1f} GiB of {where} is free; " + ", ".join(hints))
