"""The coarse-to-fine schedule: level sizes and step budgets."""

import pytest

from styletut.pyramid import level_count, level_sizes, split_steps


def _sizes_by_loop(height, width, levels):
    """An independent version: halve from the top, then reverse."""
    out, h, w = [], height, width
    for k in range(levels):
        out.append((max(1, round(height / 2 ** k)), max(1, round(width / 2 ** k))))
    return out[::-1]


@pytest.mark.parametrize("h,w,levels", [(341, 512, 3), (683, 1024, 4), (64, 64, 1), (1365, 2048, 3), (7, 700, 2)])
def test_level_sizes_halve_up_to_the_full_size(h, w, levels):
    sizes = level_sizes(h, w, levels)
    assert sizes == _sizes_by_loop(h, w, levels)
    assert sizes[-1] == (h, w) and len(sizes) == levels
    for (h0, w0), (h1, w1) in zip(sizes, sizes[1:]):
        assert abs(2 * w0 - w1) <= 1 and abs(2 * h0 - h1) <= 1


@pytest.mark.parametrize("n,levels", [(150, 3), (150, 4), (300, 6), (10, 3), (0, 3), (7, 1), (2, 4), (1, 3)])
def test_split_steps_spends_exactly_the_budget(n, levels):
    parts = split_steps(n, levels)
    assert sum(parts) == n and len(parts) == levels and min(parts) >= 0
    if levels > 1 and n >= 1:
        assert parts[-1] == max(1, round(0.2 * n))           # the finest level's fifth
        coarse = parts[:-1]
        assert coarse == sorted(coarse, reverse=True)          # fewer steps where they cost more


def test_split_steps_halves_from_the_coarsest_level_up():
    # An independent version with exact fractions: shares 2^(L-2), ..., 2, 1 of the rest.
    from fractions import Fraction

    n, levels = 150, 4
    rest = n - 30
    shares = [Fraction(2 ** (levels - 2 - k), 2 ** (levels - 1) - 1) * rest for k in range(levels - 1)]
    parts = split_steps(n, levels)
    for got, exact in zip(parts[:-1], shares):
        assert abs(got - exact) < levels                       # only rounding differs
    assert split_steps(150, 3) == [80, 40, 30]


def test_level_count_respects_the_threshold_and_the_smallest_level():
    assert level_count(511, None, 512, 3, 64) == 1
    assert level_count(512, None, 512, 3, 64) == 3
    assert level_count(2048, None, 512, 3, 64) == 3
    assert level_count(2048, 6, 512, 3, 64) == 6          # 2048 / 32 = 64 is still allowed
    assert level_count(2048, 7, 512, 3, 64) == 6          # 2048 / 64 = 32 is not
    assert level_count(100, 3, 512, 3, 64) == 1
    assert level_count(128, 3, 512, 3, 64) == 2
