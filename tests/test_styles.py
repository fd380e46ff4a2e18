"""Tests for styletut.styles: procedural style images that stand in for paintings."""

from __future__ import annotations

import doctest
import sys

import numpy as np
import pytest
from scipy import ndimage

from styletut import styles
from styletut.styles import (
    list_palettes,
    list_procedural,
    procedural_array,
    procedural_param_ranges,
    procedural_params,
)

STYLES = list_procedural()
SIZES = [64, (48, 96)]  # square and non-square; small keeps the suite fast


def _hw(size):
    return (size, size) if isinstance(size, int) else tuple(size)


def _downsample(img: np.ndarray, k: int) -> np.ndarray:
    h, w, _ = img.shape
    return img.reshape(h // k, k, w // k, k, 3).mean(axis=(1, 3))


def _coherence(img: np.ndarray) -> float:
    """Mean structure-tensor coherence: ~1 where texture runs one way, ~0 if isotropic."""
    g = img.mean(axis=-1)
    gy, gx = ndimage.sobel(g, 0), ndimage.sobel(g, 1)
    jyy, jxx, jxy = (ndimage.gaussian_filter(a, 3) for a in (gy * gy, gx * gx, gx * gy))
    return float((np.sqrt((jxx - jyy) ** 2 + 4 * jxy**2) / (jxx + jyy + 1e-9)).mean())


# ----------------------------------------------------------------------------- listing


def test_list_procedural_has_required_styles():
    names = list_procedural()
    assert {"swirls", "stained_glass", "pointillism", "mondrian"} <= set(names)
    assert names == sorted(names)
    assert set(styles.__all__) >= {"list_procedural", "procedural_array", "procedural_params"}


@pytest.mark.parametrize("name", STYLES)
def test_procedural_params_are_defaults_and_a_copy(name):
    params = procedural_params(name)
    assert params and all(isinstance(k, str) for k in params)
    params["bogus"] = 1  # mutating the returned dict must not leak back
    assert "bogus" not in procedural_params(name)
    # Passing the defaults explicitly gives the same image as passing nothing.
    assert np.array_equal(procedural_array(name, 32, seed=4, **procedural_params(name)), procedural_array(name, 32, seed=4))


@pytest.mark.parametrize("name", STYLES)
def test_param_ranges_contain_defaults(name):
    ranges = procedural_param_ranges(name)
    for key, default in procedural_params(name).items():
        if key == "palette":
            assert default in ranges[key] and ranges[key] == list_palettes()
        else:
            low, high = ranges[key]
            assert low <= default <= high
            # Both ends of every range are accepted.
            for v in (low, high):
                procedural_array(name, 16, **{key: type(default)(v)})


# ----------------------------------------------------------------------------- shape, dtype, range


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("name", STYLES)
def test_shape_dtype_range(name, size):
    img = procedural_array(name, size=size, seed=0)
    assert img.shape == (*_hw(size), 3)
    assert img.dtype == np.float32
    assert np.isfinite(img).all()
    assert img.min() >= 0.0 and img.max() <= 1.0
    assert img.flags["C_CONTIGUOUS"]


@pytest.mark.parametrize("name", STYLES)
def test_int_size_equals_square_tuple(name):
    assert np.array_equal(procedural_array(name, 40, seed=2), procedural_array(name, (40, 40), seed=2))


@pytest.mark.parametrize("name", STYLES)
def test_extreme_sizes(name):
    assert procedural_array(name, 8).shape == (8, 8, 3)
    assert procedural_array(name, (8, 200)).shape == (8, 200, 3)


# ----------------------------------------------------------------------------- determinism


@pytest.mark.parametrize("name", STYLES)
def test_same_seed_identical_different_seed_differs(name):
    a = procedural_array(name, 96, seed=7)
    b = procedural_array(name, 96, seed=7)
    c = procedural_array(name, 96, seed=8)
    assert np.array_equal(a, b)
    assert np.abs(a - c).mean() > 0.05


# ----------------------------------------------------------------------------- not flat, colourful


@pytest.mark.parametrize("size", SIZES, ids=str)
@pytest.mark.parametrize("name", STYLES)
def test_not_flat(name, size):
    img = procedural_array(name, size=size, seed=1)
    assert (img.reshape(-1, 3).std(axis=0) > 0.08).all()
    distinct = np.unique(np.round(img * 15).astype(np.int8).reshape(-1, 3), axis=0)
    assert len(distinct) >= 6


@pytest.mark.parametrize("name", [n for n in STYLES if n != "mondrian"])
def test_rich_colour(name):
    img = procedural_array(name, 128, seed=0)
    distinct = np.unique(np.round(img * 15).astype(np.int8).reshape(-1, 3), axis=0)
    assert len(distinct) >= 40


# ----------------------------------------------------------------------------- features scale with size


@pytest.mark.parametrize("name", STYLES)
def test_features_scale_with_size(name):
    """A 256 px image shrunk to 128 px looks like the 128 px image of the same seed."""
    big = _downsample(procedural_array(name, 256, seed=3), 2)
    small = procedural_array(name, 128, seed=3)
    other = procedural_array(name, 128, seed=4)
    same = np.abs(big - small).mean()
    assert same < 0.09
    assert same < 0.5 * np.abs(other - small).mean()


# ----------------------------------------------------------------------------- per-style properties


def test_mondrian_lines_cells_and_primaries():
    for seed in range(3):
        img = procedural_array("mondrian", 256, seed=seed)
        black = (img.max(axis=-1) < 0.2).mean()
        white = (img.min(axis=-1) > 0.8).mean()
        assert 0.06 < black < 0.35, black
        assert white > 0.35, white
        r, g, b = img[..., 0], img[..., 1], img[..., 2]
        red = (r > 0.6) & (g < 0.3) & (b < 0.3)
        yellow = (r > 0.7) & (g > 0.6) & (b < 0.35)
        blue = (b > 0.4) & (r < 0.25)
        assert (red | yellow | blue).mean() > 0.05
        # Lines are straight and axis-aligned: some rows or columns are almost all black.
        dark = img.max(axis=-1) < 0.2
        assert max(dark.mean(axis=0).max(), dark.mean(axis=1).max()) > 0.9


def test_mondrian_line_width_and_colour_fraction():
    thin = procedural_array("mondrian", 256, seed=0, line_width=2.0)
    thick = procedural_array("mondrian", 256, seed=0, line_width=12.0)
    assert (thick.max(-1) < 0.2).mean() > 2 * (thin.max(-1) < 0.2).mean()
    plain = procedural_array("mondrian", 256, seed=0, color_fraction=0.0)
    saturation = plain.max(-1) - plain.min(-1)
    assert (saturation > 0.4).mean() < 0.001


def test_stained_glass_cells_and_lead():
    for num_cells in (40, 140, 400):
        img = procedural_array("stained_glass", 256, seed=1, num_cells=num_cells)
        # Lead lines separate the panes: label the glass and count the panes.
        labels, _ = ndimage.label(img.max(axis=-1) > 0.25)
        sizes = np.bincount(labels.ravel())[1:]
        panes = (sizes >= 10).sum()
        assert 0.85 * num_cells <= panes <= 1.1 * num_cells, (num_cells, panes)
        lead = (img.max(axis=-1) < 0.2).mean()
        assert 0.04 < lead < 0.45
    # Many distinct pane colours, and shading inside each pane.
    img = procedural_array("stained_glass", 256, seed=1)
    labels, n = ndimage.label(img.max(axis=-1) > 0.25)
    means = np.stack([ndimage.mean(img[..., c], labels, np.arange(1, n + 1)) for c in range(3)], axis=1)
    assert len(np.unique(np.round(means * 7), axis=0)) >= 25
    stds = ndimage.standard_deviation(img.mean(-1), labels, np.arange(1, n + 1))
    assert np.median(stds) > 0.01


def test_pointillism_light_ground_and_dot_density():
    img = procedural_array("pointillism", 256, seed=0)
    ground = (img.min(axis=-1) > 0.8).mean()
    assert 0.08 < ground < 0.5, ground
    saturated = (img.max(-1) - img.min(-1) > 0.3).mean()
    assert saturated > 0.4
    sparse = procedural_array("pointillism", 256, seed=0, num_dots=500)
    dense = procedural_array("pointillism", 256, seed=0, num_dots=10000)
    assert (sparse.min(-1) > 0.8).mean() > ground > (dense.min(-1) > 0.8).mean()


def test_pointillism_dots_are_round_blobs():
    img = procedural_array("pointillism", 256, seed=2, num_dots=100, dot_radius=6.0)
    ground = np.array([0.96, 0.93, 0.85])
    labels, _ = ndimage.label(np.abs(img - ground).max(axis=-1) > 0.15)
    sizes = np.bincount(labels.ravel())[1:]
    fills, aspects, areas = [], [], []
    for i, box in enumerate(ndimage.find_objects(labels)):
        # Isolated dots only: merged pairs are bigger than one dot can be.
        if 20 < sizes[i] < np.pi * (6 * 1.3) ** 2 * 1.1:
            hh, ww = box[0].stop - box[0].start, box[1].stop - box[1].start
            fills.append(sizes[i] / (hh * ww))
            aspects.append(max(hh, ww) / min(hh, ww))
            areas.append(sizes[i])
    assert len(areas) > 30
    # A disc fills pi/4 of its bounding square; a radius-6 px dot covers ~pi * 36 px.
    assert 0.7 < np.median(fills) < 0.86
    assert np.median(aspects) < 1.15
    assert np.pi * 4**2 < np.median(areas) < np.pi * 8**2


def test_swirls_strokes_follow_a_flow():
    long_strokes = [_coherence(procedural_array("swirls", 256, seed=s)) for s in range(2)]
    short_strokes = [_coherence(procedural_array("swirls", 256, seed=s, stroke_length=4.0)) for s in range(2)]
    assert min(long_strokes) > 0.6
    assert min(long_strokes) > max(short_strokes) + 0.15
    # Dots are not strokes: the pointillist image is far less directional.
    assert _coherence(procedural_array("pointillism", 256, seed=0)) < 0.45


def test_swirls_uses_its_palette():
    img = procedural_array("swirls", 128, seed=0)
    assert img[..., 2].mean() > img[..., 0].mean()  # starry_night is mostly blue
    warm = procedural_array("swirls", 128, seed=0, palette="autumn")
    assert warm[..., 0].mean() > warm[..., 2].mean() + 0.2


def test_waves_sky_above_sea():
    for seed in range(3):
        img = procedural_array("waves", 256, seed=seed)
        lum = img.mean(axis=-1)
        assert lum[: int(0.2 * 256)].mean() > lum[-80:].mean() + 0.25
        sea = img[128:]
        assert sea[..., 2].mean() > sea[..., 0].mean() + 0.15
        # Foam crests: a little near-white in the sea.
        assert 0.01 < (sea.min(axis=-1) > 0.85).mean() < 0.3


# ----------------------------------------------------------------------------- palettes


def test_palette_as_colour_list():
    img = procedural_array("stained_glass", 64, seed=0, palette=["#ff0000", "#00ff00", (0.0, 0.0, 1.0)])
    assert img.shape == (64, 64, 3)
    for name in list_palettes():
        procedural_array("swirls", 16, palette=name)


@pytest.mark.parametrize("bad", ["nope", ["#ff0000"], ["#ff00"], [(2.0, 0.0, 0.0), (0, 0, 0)], 5])
def test_bad_palette(bad):
    with pytest.raises(ValueError, match="palette"):
        procedural_array("swirls", 32, palette=bad)


def test_unknown_palette_lists_choices():
    with pytest.raises(ValueError) as err:
        procedural_array("swirls", 32, palette="nope")
    for name in list_palettes():
        assert name in str(err.value)


# ----------------------------------------------------------------------------- errors


def test_unknown_style_lists_names():
    with pytest.raises(ValueError) as err:
        procedural_array("foo")
    msg = str(err.value)
    assert "'foo'" in msg
    assert "choose one of: " + ", ".join(sorted(STYLES)) in msg
    with pytest.raises(ValueError, match="choose one of"):
        procedural_params("foo")
    with pytest.raises(ValueError, match="choose one of"):
        procedural_param_ranges("foo")


@pytest.mark.parametrize("name", STYLES)
def test_unknown_param_lists_valid_params(name):
    with pytest.raises(TypeError) as err:
        procedural_array(name, 32, colour="red")
    msg = str(err.value)
    assert "'colour'" in msg and name in msg
    for key in procedural_params(name):
        assert key in msg


@pytest.mark.parametrize(
    "size, words",
    [
        (4, "at least 8"),
        ((8, 7), "width must be at least 8"),
        ((0, 64), "height must be at least 8"),
        (256.0, "int"),
        ("256", "int"),
        (True, "int"),
        ((64, 64, 3), "(height, width)"),
        ((64, 64.5), "whole number"),
        (100_000, "at most"),
        (None, "int"),
    ],
    ids=str,
)
def test_bad_size(size, words):
    with pytest.raises(ValueError) as err:
        procedural_array("mondrian", size)
    assert "size" in str(err.value) and words in str(err.value)


@pytest.mark.parametrize(
    "name, params, words",
    [
        ("mondrian", {"depth": 0}, "between"),
        ("mondrian", {"depth": 2.5}, "whole number"),
        ("mondrian", {"depth": True}, "whole number"),
        ("stained_glass", {"num_cells": 1}, "between"),
        ("pointillism", {"dot_radius": float("nan")}, "finite"),
        ("pointillism", {"dot_radius": "3"}, "number"),
        ("swirls", {"stroke_length": -1.0}, "between"),
    ],
)
def test_bad_param_values(name, params, words):
    with pytest.raises(ValueError) as err:
        procedural_array(name, 32, **params)
    assert list(params)[0] in str(err.value) and words in str(err.value)


def test_int_accepted_for_float_param():
    a = procedural_array("pointillism", 32, seed=1, dot_radius=3)
    b = procedural_array("pointillism", 32, seed=1, dot_radius=3.0)
    assert np.array_equal(a, b)


# ----------------------------------------------------------------------------- docs and cost


def test_docstring_examples():
    result = doctest.testmod(styles, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def _python_calls(name: str, size: int) -> int:
    """How many Python-level and builtin function calls one image costs (a count, not seconds)."""
    calls = 0

    def profile(frame, event, arg):
        nonlocal calls
        calls += event in ("call", "c_call")

    sys.setprofile(profile)
    try:
        procedural_array(name, size, seed=0)
    finally:
        sys.setprofile(None)
    return calls


@pytest.mark.parametrize("name", STYLES)
def test_work_in_python_does_not_grow_with_pixels(name):
    """Styles are cheap because the painting is vectorised: numpy does the per-pixel
    work, so the Python calls are the same at 32 px and at 256 px. A loop over
    rows in Python would add at least 224 calls, one over pixels 64,512."""
    procedural_array(name, 32, seed=0)  # warm-up: one-time caches are not the point
    small, big = _python_calls(name, 32), _python_calls(name, 256)
    assert big - small < 256 - 32, (small, big)
