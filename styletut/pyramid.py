"""Coarse to fine: the image sizes and step budgets of a multi-scale run.

Style transfer at a large size spends most of its steps arranging the
picture's large-scale structure, which a smaller image shows just as well at
a fraction of the cost (one VGG19 step costs in proportion to the pixels).
A pyramid run optimises at a small size (64 px on the long side by default),
upsamples the result as the start at twice that size, and so on up to the
full size (Gatys, Ecker, Bethge, Hertzmann &
Shechtman 2017, "Controlling perceptual factors in neural style transfer",
section 5, coarse-to-fine).

Introduced in notebooks/09_what_does_it_cost.ipynb
"""

from __future__ import annotations

__all__ = ["level_count", "level_sizes", "split_steps", "FINEST_SHARE"]


def level_count(long_side: int, levels: int | None, from_size: int, default_levels: int, min_size: int) -> int:
    """How many levels a run of ``long_side`` pixels gets.

    Args:
        long_side: the final image's longest side.
        levels: what was asked for (``None``: automatic).
        from_size: automatic pyramids start at this size ...
        default_levels: ... with this many levels.
        min_size: no level's longest side below this (fewer levels instead).

    Returns:
        At least 1.

    Example:
        >>> level_count(1024, None, 512, 3, 64), level_count(256, None, 512, 3, 64), level_count(100, 3, 512, 3, 64)
        (3, 1, 1)
    """
    wanted = (default_levels if long_side >= from_size else 1) if levels is None else levels
    n = 1
    while n < wanted and long_side / 2 ** n >= min_size:
        n += 1
    return n


def level_sizes(height: int, width: int, levels: int) -> list[tuple[int, int]]:
    """``(H, W)`` of each level, coarsest first; the last is ``(height, width)``.

    Example:
        >>> level_sizes(341, 512, 3)
        [(85, 128), (170, 256), (341, 512)]
    """
    return [(max(1, round(height / 2 ** k)), max(1, round(width / 2 ** k))) for k in range(levels - 1, -1, -1)]


def split_steps(num_steps: int, levels: int) -> list[int]:
    """Split ``num_steps`` across the levels, coarsest first.

    The finest level gets a fifth of the budget (:data:`FINEST_SHARE`): it
    only has to add the detail that the upsampled start lacks. The rest goes to
    the coarser levels, halving from the coarsest up: a step one level down
    costs a quarter as much (VGG19's cost is proportional to the pixels), so
    twice the steps there still cost half the time, and the layout settled
    there is what every finer level builds on. In exploratory runs on the
    benchmark's pair at 256 px (before the detail band of
    ``styletut.transfer`` existed), an even split (50/50/50) reached
    pastiche's 300-step point in 0.13 of pastiche's time, and splits with
    most steps at the coarsest level (80/20/40, 100/20/30) in 0.10-0.11;
    ``benchmarks/bench.py`` measures the default against pastiche.

    Args:
        num_steps: the whole budget (objective evaluations).
        levels: how many levels, at least 1.

    Returns:
        Steps per level, coarsest first; they sum to ``num_steps``.

    Example:
        >>> split_steps(150, 3), split_steps(150, 4), split_steps(10, 3)
        ([80, 40, 30], [69, 34, 17, 30], [6, 2, 2])
    """
    if levels <= 1:
        return [num_steps]
    finest = min(num_steps, max(1, round(FINEST_SHARE * num_steps)))
    rest = num_steps - finest
    weights = [2 ** (levels - 2 - k) for k in range(levels - 1)]  # coarsest first: ..., 4, 2, 1
    parts = [rest * w // sum(weights) for w in weights]
    parts[0] += rest - sum(parts)  # the rounding remainder goes where steps are cheapest
    return parts + [finest]


# The finest level's share of the steps (see split_steps).
FINEST_SHARE = 0.2
