"""The panel's settings <-> options mapping (styletut.widgets.mapping), without widgets or VGG.

Values dicts are built here by hand or from options; no widget is created and
no network runs, so these tests are fast and exact.
"""

from __future__ import annotations

import ast
import dataclasses
import math
from pathlib import Path

import pytest
import torch
from hypothesis import given, settings, strategies as st

from styletut.features import POOLINGS, WEIGHTS, list_layers
from styletut.losses import STYLE_NORMS
from styletut.names import COLOUR_MODES, MASK_SHAPES, STYLE_STATS
from styletut.optim import DEFAULT_LR, OPTIMIZERS
from styletut.options import DEFAULT_STYLE_WEIGHT, INITS, StylizeOptions
from styletut.regions import make_mask
from styletut.runtime import DEVICES
from styletut import zoo
from styletut.widgets.mapping import (COMPLEMENT, LAYER_CHOICES, MAX_PANEL_STYLES, OPTIMISE, PASSED_THROUGH,
                                      grid_layers, log_slider_range, method_choices, method_kind, method_label,
                                      one_pass_call, options_from_values, passed_through, round_sig,
                                      start_value, style_count, style_scale_range, style_weight_range,
                                      values_from_options)

PACKAGE = Path(__file__).resolve().parents[1] / "styletut"
FEW = settings(max_examples=60, deadline=None)


def round_trip(opts: StylizeOptions, styles: int | None = None) -> StylizeOptions:
    return options_from_values(values_from_options(opts, styles=styles), passed_through(opts))


def values(**changes) -> dict:
    """The values of the default options, with some changed."""
    v = values_from_options(StylizeOptions())
    for key, value in changes.items():
        v[key] = {**v[key], **value} if isinstance(value, dict) else value
    return v


# --------------------------------------------------------------------------- strategies


def sig(digits: int, lo_exp: int, hi_exp: int):
    """Positive floats with exactly ``digits`` significant digits (what the panel echoes)."""
    return st.builds(lambda m, e: float(f"{m}e{e}"), st.integers(10 ** (digits - 1), 10 ** digits - 1),
                     st.integers(lo_exp, hi_exp))


def in_order(layers: set[str]) -> tuple[str, ...]:
    return tuple(l for l in list_layers() if l in layers)


# Style scales on the slider's grid (2**(k/4)) and past it, to 1/8 and 8, rounded as echoed.
SCALES = st.integers(-12, 12).map(lambda k: round_sig(2 ** (k / 4), 3))
# Style 1's share of two styles, on the blend slider's grid (0.05); 0.5 is the default (None).
SHARES = st.integers(0, 20).filter(lambda k: k != 10).map(lambda k: k / 20)


@st.composite
def controls(draw, norm: str, style_size: int | None) -> dict:
    """The Controls tab's options in the form the panel echoes (one or two styles)."""
    relative = norm == "relative"  # other statistics and masks exist on the relative scale only
    styles = draw(st.sampled_from((1, 2)))
    blend = None
    if styles == 2 and draw(st.booleans()):
        share = draw(SHARES)
        blend = (share, round_sig(1 - share, 3))
    masks = None
    if relative and draw(st.booleans()):
        region = draw(st.sampled_from(sorted(COMPLEMENT)))
        masks = (region,) if styles == 1 else (region, COMPLEMENT[region])
    return dict(preserve_colour=draw(st.sampled_from(COLOUR_MODES)),
                style_stats=draw(st.sampled_from(STYLE_STATS)) if relative else "gram",
                style_scale=draw(SCALES) if style_size is None else 1.0, style_blend=blend, style_masks=masks)


@st.composite
def panel_options(draw) -> StylizeOptions:
    """Options in the form the panel echoes: every one must survive options -> values -> options."""
    optimizer = draw(st.sampled_from(OPTIMIZERS))
    lr = None
    if optimizer != "lbfgs":  # L-BFGS-B takes no rate
        lr = draw(st.none() | sig(3, -9, 0).filter(
            lambda x: DEFAULT_LR[optimizer] is None or not math.isclose(x, DEFAULT_LR[optimizer], rel_tol=1e-3)))
    norm = draw(st.sampled_from(STYLE_NORMS))
    content_weight = draw(st.just(0.0) | sig(3, -4, 6))
    style_weight = draw(st.none() | st.just(0.0) | sig(3, -9, 9).filter(
        lambda x: not math.isclose(x, DEFAULT_STYLE_WEIGHT[norm], rel_tol=1e-3)))
    tv_weight = draw(st.just(0.0) | sig(3, 0, 9))
    if content_weight == 0 and style_weight == 0 and tv_weight == 0:
        tv_weight = 1e6
    content_layers = in_order(draw(st.sets(st.sampled_from(LAYER_CHOICES), min_size=int(content_weight > 0))))
    beta = DEFAULT_STYLE_WEIGHT[norm] if style_weight is None else style_weight
    style_layers = in_order(draw(st.sets(st.sampled_from(LAYER_CHOICES), min_size=int(beta > 0))))
    layer_weights = None
    if len(style_layers) > 1 and draw(st.booleans()):
        ws = draw(st.lists(st.integers(0, 200).map(lambda k: k / 2), min_size=len(style_layers),
                           max_size=len(style_layers)).filter(lambda ws: len(set(ws)) > 1))
        layer_weights = tuple(ws)
    style_size = draw(st.none() | st.integers(16, 1024))
    return StylizeOptions(
        size=draw(st.integers(16, 4096)), style_size=style_size,
        num_steps=draw(st.integers(1, 5000)), optimizer=optimizer, lr=lr,
        crop_frac=draw(st.integers(10, 100)) / 100, init=draw(st.sampled_from(INITS)),
        seed=draw(st.integers(0, 2**31 - 1)),
        device=draw(st.sampled_from([d for d in DEVICES if d != "cuda" or torch.cuda.is_available()])),
        weights=draw(st.sampled_from(WEIGHTS)), pooling=draw(st.sampled_from(POOLINGS)), style_norm=norm,
        content_weight=content_weight, style_weight=style_weight, tv_weight=tv_weight,
        content_layers=content_layers, style_layers=style_layers, style_layer_weights=layer_weights,
        progress=draw(st.booleans()), **draw(controls(norm, style_size)))


# --------------------------------------------------------------------------- round trips


@FEW
@given(panel_options())
def test_options_survive_the_round_trip_through_widget_values(opts):
    assert round_trip(opts) == opts


@FEW
@given(panel_options(), st.data())
def test_any_options_reach_a_fixed_point_that_means_the_same(opts, data):
    # Spoil the canonical form the ways code may: an explicit default rate or
    # style weight, equal layer weights of any size, unrounded numbers.
    spoil = {}
    if data.draw(st.booleans(), "explicit defaults"):
        spoil["style_weight"] = DEFAULT_STYLE_WEIGHT[opts.style_norm] if opts.beta > 0 else 0.0
        if DEFAULT_LR[opts.optimizer] is not None:
            spoil["lr"] = DEFAULT_LR[opts.optimizer]
    if len(opts.style_layers) > 1 and data.draw(st.booleans(), "equal layer weights"):
        spoil["style_layer_weights"] = (2.5,) * len(opts.style_layers)
    if opts.content_weight > 0:
        spoil["content_weight"] = opts.content_weight * (1 + 1e-7)
    spoilt = dataclasses.replace(opts, **spoil)
    once = round_trip(spoilt)
    assert round_trip(once) == once
    assert once.beta == pytest.approx(spoilt.beta, rel=1e-3)
    assert once.content_weight == pytest.approx(spoilt.content_weight, rel=1e-3)
    equal = "style_layer_weights" in spoil  # equal relative weights are the default
    assert once.lr == (None if "lr" in spoil else opts.lr)  # the optimizer's default rate is left out
    assert once.style_layer_weights == (None if equal else opts.style_layer_weights)


def test_the_default_options_change_nothing():
    assert round_trip(StylizeOptions()) == StylizeOptions()
    assert round_trip(StylizeOptions()).changed() == {}


def test_layers_come_back_in_network_order():
    opts = StylizeOptions(style_layers=("relu3_1", "relu1_1"), style_layer_weights=(3.0, 1.0))
    assert round_trip(opts) == StylizeOptions(style_layers=("relu1_1", "relu3_1"), style_layer_weights=(1.0, 3.0))


# --------------------------------------------------------------------------- learning rate


@pytest.mark.parametrize("optimizer", [o for o in OPTIMIZERS if DEFAULT_LR[o] is not None and o != "lbfgs"])
def test_a_rate_equal_to_the_optimizer_default_is_left_out(optimizer):
    default = DEFAULT_LR[optimizer]
    shown = values_from_options(StylizeOptions(optimizer=optimizer))
    assert shown["lr"] == default  # the slider shows the default rate
    assert options_from_values(shown).lr is None
    assert options_from_values(values(optimizer=optimizer, lr=default * (1 + 5e-4))).lr is None
    assert options_from_values(values(optimizer=optimizer, lr=default * 2)).lr == round_sig(default * 2, 3)


def test_lbfgs_never_passes_a_rate():
    shown = values_from_options(StylizeOptions(optimizer="lbfgs", lr=0.5))
    assert (shown["lr"], shown["lr_auto"]) == (0.5, False)
    assert options_from_values(shown).lr is None


@pytest.mark.parametrize("optimizer", [o for o in OPTIMIZERS if DEFAULT_LR[o] is None])
def test_automatic_rate_of_gd_and_sgd(optimizer):
    shown = values_from_options(StylizeOptions(optimizer=optimizer))
    assert (shown["lr"], shown["lr_auto"]) == (None, True)  # no number to show: the slider keeps its own
    assert options_from_values(shown).lr is None
    assert options_from_values(values(optimizer=optimizer, lr=4e-5, lr_auto=True)).lr is None
    assert options_from_values(values(optimizer=optimizer, lr=0.0123456, lr_auto=False)).lr == 0.0123
    shown = values_from_options(StylizeOptions(optimizer=optimizer, lr=3e-5))
    assert (shown["lr"], shown["lr_auto"]) == (3e-5, False)


# --------------------------------------------------------------------------- loss weights


@pytest.mark.parametrize("norm", STYLE_NORMS)
def test_style_weight_default_follows_the_style_norm(norm):
    default = DEFAULT_STYLE_WEIGHT[norm]
    shown = values_from_options(StylizeOptions(style_norm=norm))
    assert (shown["use_style"], shown["style_weight"]) == (True, default)
    assert options_from_values(shown).style_weight is None
    assert options_from_values(values(style_norm=norm, style_weight=default * (1 + 5e-4))).style_weight is None
    assert options_from_values(values(style_norm=norm, style_weight=default * 3)).style_weight == round_sig(3 * default, 3)
    # Another norm's default is an explicit weight here.
    other = next(n for n in STYLE_NORMS if n != norm and DEFAULT_STYLE_WEIGHT[n] != default)
    assert options_from_values(values(style_norm=norm, style_weight=DEFAULT_STYLE_WEIGHT[other])).style_weight \
        == DEFAULT_STYLE_WEIGHT[other]


@pytest.mark.parametrize("norm", STYLE_NORMS)
def test_style_weight_slider_spans_three_decades_around_the_default(norm):
    lo, hi, beta = style_weight_range(norm)
    assert beta == DEFAULT_STYLE_WEIGHT[norm]
    assert (hi - lo, isinstance(lo, int)) == (6, True)
    assert abs(math.log10(beta) - (lo + hi) / 2) <= 0.5
    assert log_slider_range("style_weight", norm) == (lo, hi)


def test_log_sliders_widen_to_whole_decades_around_a_value():
    assert log_slider_range("content_weight", "relative") == (-3, 3)
    assert log_slider_range("content_weight", "relative", 2e5) == (-3, 6)
    assert log_slider_range("content_weight", "relative", 1e-5) == (-5, 3)
    assert log_slider_range("content_weight", "relative", 0.5) == (-3, 3)
    assert log_slider_range("tv_weight", "relative", 10.0) == (1, 9)
    assert log_slider_range("lr", "relative", 5.0) == (-8, 1)
    assert log_slider_range("lr", "relative", 50.0) == (-8, 2)
    assert log_slider_range("tv_weight", "relative", 0.0) == log_slider_range("tv_weight", "relative")


def test_a_term_that_is_off_is_unticked_and_its_slider_keeps_a_starting_value():
    opts = StylizeOptions(content_weight=0.0, style_norm="tutorial", tv_weight=0.0)
    shown = values_from_options(opts)
    assert (shown["use_content"], shown["use_style"], shown["use_tv"]) == (False, True, False)
    assert shown["content_weight"] == start_value("content_weight", "tutorial") == 1.0
    assert shown["tv_weight"] == start_value("tv_weight", "tutorial") == 1e6
    assert round_trip(opts) == opts
    off = values_from_options(StylizeOptions(style_weight=0.0, tv_weight=1e5))
    assert (off["use_style"], off["style_weight"]) == (False, DEFAULT_STYLE_WEIGHT["relative"])


def test_slider_noise_is_rounded_to_three_significant_digits():
    opts = options_from_values(values(content_weight=0.30000000000000004, use_tv=True, tv_weight=123456.7,
                                      crop_frac=0.35000000000000003))
    assert (opts.content_weight, opts.tv_weight, opts.crop_frac) == (0.3, 123000.0, 0.35)


def test_all_terms_off_is_refused():
    with pytest.raises(ValueError, match="all loss weights are zero: nothing to optimise; tick content α, "
                                         "style β or TV γ in the Loss weights tab"):
        options_from_values(values(use_content=False, use_style=False, use_tv=False))


def test_a_ticked_term_without_layers_is_refused():
    no_style = dict.fromkeys(grid_layers(StylizeOptions()), False)
    with pytest.raises(ValueError, match="no style layer is ticked: tick at least one style layer in the "
                                         "Layers tab"):
        options_from_values(values(style_layers=no_style))
    with pytest.raises(ValueError, match="no content layer is ticked: tick one in the Layers tab"):
        options_from_values(values(content_layers=no_style))
    # Unticking the term instead is fine.
    assert options_from_values(values(style_layers=no_style, use_style=False)).style_layers == ()


# --------------------------------------------------------------------------- per-layer style weights


def test_equal_layer_weights_are_the_default():
    five = StylizeOptions().style_layers
    for w in (1.0, 2.5, 100.0):
        opts = options_from_values(values(style_layer_weights=dict.fromkeys(five, w)))
        assert opts.style_layer_weights is None


def test_unequal_layer_weights_are_passed_as_given():
    # Relative weights: the style loss normalises them, so the panel does not.
    opts = options_from_values(values(style_layers={"relu3_1": False, "relu4_1": False, "relu5_1": False},
                                      style_layer_weights={"relu1_1": 1.0, "relu2_1": 3.0}))
    assert (opts.style_layers, opts.style_layer_weights) == (("relu1_1", "relu2_1"), (1.0, 3.0))
    shown = values_from_options(opts)
    assert shown["style_layer_weights"]["relu2_1"] == 3.0 and shown["style_layer_weights"]["relu5_1"] == 1.0


def test_unticked_layers_weights_do_not_matter():
    opts = options_from_values(values(style_layer_weights={"relu1_2": 0.0, "relu5_2": 7.0}))
    assert opts.style_layer_weights is None


def test_zero_weight_on_every_ticked_style_layer_is_refused():
    zeros = dict.fromkeys(StylizeOptions().style_layers, 0.0)
    with pytest.raises(ValueError, match="every ticked style layer has weight 0; give at least one of them a "
                                         "positive weight in the Layers tab"):
        options_from_values(values(style_layer_weights=zeros))
    # With the style term off the layer weights are not used.
    assert options_from_values(values(style_layer_weights=zeros, use_style=False)).style_weight == 0.0


# --------------------------------------------------------------------------- layer grid and pass-through


def test_the_grid_has_the_usual_layers_plus_any_the_options_use():
    assert LAYER_CHOICES == tuple(l for l in list_layers(kind="relu") if l[-2:] in ("_1", "_2"))
    extra = StylizeOptions(content_layers=("conv4_2",), style_layers=("relu1_1", "relu3_3"))
    rows = grid_layers(extra)
    assert set(rows) == set(LAYER_CHOICES) | {"conv4_2", "relu3_3"}
    assert list(rows) == sorted(rows, key=list_layers().index)
    assert round_trip(extra) == extra


def test_a_layer_without_a_row_is_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"style_layers uses 'relu3_3', which has no row in this panel's layer "
                                         r"grid; build a panel that shows it: panel\(style_layers=\[\.\.\.\]\)"):
        values_from_options(StylizeOptions(style_layers=("relu3_3",)), LAYER_CHOICES)


def test_options_without_a_control_pass_through_unchanged():
    assert PASSED_THROUGH == ("style_size", "lean_memory", "progress")
    opts = StylizeOptions(style_size=48, progress=False)
    assert passed_through(opts) == {"style_size": 48, "lean_memory": None, "progress": False}
    assert round_trip(opts) == opts
    assert options_from_values(values_from_options(opts)) == dataclasses.replace(opts, style_size=None,
                                                                                  progress=True)


def test_num_steps_zero_shows_one_step():
    assert values_from_options(StylizeOptions(num_steps=0))["steps"] == 1


# --------------------------------------------------------------------------- the Controls tab


@pytest.mark.parametrize("name,choice", [("preserve_colour", m) for m in COLOUR_MODES]
                         + [("style_stats", s) for s in STYLE_STATS])
def test_colour_mode_and_statistic_round_trip(name, choice):
    shown = values(**{name: choice})
    opts = options_from_values(shown)
    assert getattr(opts, name) == choice and values_from_options(opts) == shown
    assert round_trip(StylizeOptions(**{name: choice})) == StylizeOptions(**{name: choice})


@pytest.mark.parametrize("scale", [0.25, 0.354, 0.5, 0.841, 1.0, 1.41, 2.0, 2.83, 4.0])
def test_style_scale_round_trips(scale):
    shown = values(style_scale=scale)
    opts = options_from_values(shown)
    assert opts.style_scale == scale and values_from_options(opts) == shown
    assert round_trip(StylizeOptions(style_scale=scale)) == StylizeOptions(style_scale=scale)


def test_style_scale_is_rounded_like_the_other_sliders():
    assert options_from_values(values(style_scale=2 ** 0.5)).style_scale == 1.41
    assert options_from_values(values(style_scale=2 ** 0.25)).style_scale == 1.19
    assert options_from_values(values(style_scale=1.0000000001)).changed() == {}


def test_style_scale_slider_spans_a_quarter_to_four_and_widens_for_more():
    assert style_scale_range() == (-2, 2)  # base 2: 1/4 .. 4
    assert style_scale_range(2 ** -0.5) == (-2, 2)
    assert style_scale_range(8.0) == (-2, 3) and style_scale_range(6.0) == (-2, 3)
    assert style_scale_range(0.125) == (-3, 2)


@pytest.mark.parametrize("styles", [1, 2])
@pytest.mark.parametrize("region", MASK_SHAPES)
def test_every_region_round_trips(region, styles):
    shown = values(styles=styles, region=region)
    opts = options_from_values(shown)
    if region == "all":
        assert opts.style_masks is None
    else:
        assert opts.style_masks == ((region,) if styles == 1 else (region, COMPLEMENT[region]))
    assert values_from_options(opts, styles=styles) == shown
    assert round_trip(opts, styles) == opts


@pytest.mark.parametrize("share", [0.0, 0.05, 0.3, 0.5, 0.7, 0.95, 1.0])
def test_every_blend_share_round_trips(share):
    shown = values(styles=2, blend=share)
    opts = options_from_values(shown)
    assert opts.style_blend == (None if share == 0.5 else (share, round_sig(1 - share, 3)))
    assert values_from_options(opts, styles=2) == shown
    assert round_trip(opts, 2) == opts


def test_the_region_rule():
    # One style paints its region; two split the picture into a shape and its
    # complement; "all" blends two styles everywhere, by the blend weights.
    assert options_from_values(values(region="left")).style_masks == ("left",)
    assert options_from_values(values(styles=2, region="centre")).style_masks == ("centre", "border")
    blended = options_from_values(values(styles=2, region="all", blend=0.7))
    assert (blended.style_masks, blended.style_blend) == (None, (0.7, 0.3))
    assert options_from_values(values(styles=2, region="top", blend=0.25)).changed() == {
        "style_blend": (0.25, 0.75), "style_masks": ("top", "bottom")}


def test_complements_cover_the_picture_exactly_once():
    assert set(COMPLEMENT) == set(MASK_SHAPES) - {"all"}
    for region, other in COMPLEMENT.items():
        assert COMPLEMENT[other] == region
        total = make_mask(region, (9, 13)) + make_mask(other, (9, 13))
        torch.testing.assert_close(total, torch.ones_like(total))


def test_one_style_ignores_the_blend_slider():
    assert options_from_values(values(blend=0.9)).style_blend is None
    # A single style's weight is normalised to 1 by stylize: the same run as no weight.
    assert round_trip(StylizeOptions(style_blend=(3.0,))) == StylizeOptions()


def test_unnormalised_blend_weights_reach_a_fixed_point_that_means_the_same():
    for given, share, echoed in (((3.0, 1.0), 0.75, (0.75, 0.25)), ((2.0, 1.0), 0.667, (0.667, 0.333)),
                                 ((1.0, 1.0), 0.5, None)):
        shown = values_from_options(StylizeOptions(style_blend=given))
        assert (shown["styles"], shown["blend"]) == (2, share)
        once = round_trip(StylizeOptions(style_blend=given))
        assert once.style_blend == echoed and round_trip(once, 2) == once
    assert options_from_values(values(styles=2, blend=0.7000000000000001)).style_blend == (0.7, 0.3)


def test_the_style_count_comes_from_the_weights_or_the_masks():
    assert style_count(StylizeOptions()) is None
    assert style_count(StylizeOptions(style_blend=(0.7, 0.3))) == 2
    assert style_count(StylizeOptions(style_masks=("left",))) == 1
    assert values_from_options(StylizeOptions(style_masks=("left", "right")))["styles"] == 2
    assert values_from_options(StylizeOptions())["styles"] == 1
    # Two styles blended equally look like one in the options: the caller says.
    assert values_from_options(StylizeOptions(), styles=2)["styles"] == 2


def test_a_mask_file_with_one_style_passes_unchanged():
    opts = StylizeOptions(style_masks=("masks/sky.png",), style_blend=None)
    assert values_from_options(opts)["region"] == "masks/sky.png"
    assert round_trip(opts) == opts


def test_styles_the_panel_cannot_show_are_refused_with_the_fix():
    with pytest.raises(ValueError, match=r"these options are for 3 style images, and the panel shows at most 2 "
                                         r"\(a style and a second style\); call stylize\(content, \[style_1"):
        values_from_options(StylizeOptions(style_blend=(1, 2, 3)))
    assert MAX_PANEL_STYLES == 2
    with pytest.raises(ValueError, match=r"style_blend has 2 entries for 1 style image\(s\); give one per style "
                                         r"image: the panel has 1 style image\(s\); pick a second style"):
        values_from_options(StylizeOptions(style_blend=(0.7, 0.3)), styles=1)
    with pytest.raises(ValueError, match=r"style_masks=\('left', 'top'\) cannot be shown: the panel gives two "
                                         r"styles a shape and its complement \(left/right, top/bottom, "
                                         r"centre/border\); pass these masks to stylize"):
        values_from_options(StylizeOptions(style_masks=("left", "top")))
    with pytest.raises(ValueError, match="cannot be shown"):
        values_from_options(StylizeOptions(style_masks=("a.png", "b.png")))
    with pytest.raises(ValueError, match=r"region 'sky.png' is a mask file, and two styles need a shape whose "
                                         r"complement the second style paints"):
        options_from_values(values(styles=2, region="sky.png"))
    with pytest.raises(ValueError, match=r"the blend share of style 1 must lie in \[0, 1\], got 1.5"):
        options_from_values(values(styles=2, blend=1.5))
    with pytest.raises(ValueError, match="the panel runs 1 or 2 style images, got styles=3"):
        options_from_values(values(styles=3))


def test_a_control_the_options_forbid_together_names_the_fix():
    # The panel shows StylizeOptions' own messages: they say what to change.
    with pytest.raises(ValueError, match="relative scale only; use style_norm='relative'"):
        options_from_values(values(style_stats="meanstd", style_norm="tutorial"))
    with pytest.raises(ValueError, match="style_size=48 and style_scale=2 both set"):
        options_from_values(values(style_scale=2.0), {"style_size": 48})


# --------------------------------------------------------------------------- the Method (issue 13)


def test_the_method_offers_optimisation_then_every_shipped_network_by_kind():
    choices = method_choices()
    assert [v for _, v in choices] == [OPTIMISE, *zoo.list_models()]
    labels = dict((v, label) for label, v in choices)
    assert labels["fast-swirls"] == "fast network: fast-swirls" and labels["adain"] == "AdaIN (any style)"
    assert len(set(labels.values())) == len(labels), "every choice reads differently"
    assert method_kind(OPTIMISE) is None
    assert {name: method_kind(name) for name in zoo.list_models()} == \
        {name: zoo.model_info(name).kind for name in zoo.list_models()}
    with pytest.raises(ValueError, match="unknown method 'picasso'; choose one of: optimise, adain, fast-swirls"):
        method_kind("picasso")


def test_a_second_adain_decoder_would_be_told_apart_by_name(monkeypatch):
    extra = zoo.ModelInfo("adain-relu4_1", "adain", "x.pt", "0" * 64, "by hand")
    monkeypatch.setitem(zoo._MODELS, extra.name, extra)
    assert method_label("adain-relu4_1") == "AdaIN (any style): adain-relu4_1"
    assert method_label("adain") == "AdaIN (any style)"


def _one_pass_parts(call: str) -> tuple[str, dict, list[str], dict]:
    """``zoo.run(zoo.load_model(name, **load), *images, **kw)`` read with ``ast``: name, load kwargs, images, kw."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and ast.unparse(node.func) == "zoo.run"
    load, *imgs = node.args
    assert isinstance(load, ast.Call) and ast.unparse(load.func) == "zoo.load_model" and len(load.args) == 1
    return (ast.literal_eval(load.args[0]), {k.arg: ast.literal_eval(k.value) for k in load.keywords},
            [ast.unparse(i) for i in imgs], {k.arg: ast.literal_eval(k.value) for k in node.keywords})


@pytest.mark.parametrize("alpha", [0.0, 0.05, 0.30000000000000004, 0.5, 1.0])
def test_the_one_pass_call_names_the_network_its_images_and_alpha(alpha):
    c, s = "sample('chelsea', size=256)", "procedural('swirls', 256, seed=0)"
    assert one_pass_call("fast-swirls", c) == "zoo.run(zoo.load_model('fast-swirls'), sample('chelsea', size=256))"
    name, load, imgs, kw = _one_pass_parts(one_pass_call("adain", c, s, alpha))
    assert (name, load, imgs) == ("adain", {}, [c, s])
    assert kw == {"alpha": round_sig(alpha, 3)}  # slider noise rounded, and always written for AdaIN
    assert _one_pass_parts(one_pass_call("adain", c, s))[3] == {"alpha": 1.0}


def test_the_one_pass_call_names_a_device_other_than_auto():
    c = "sample('chelsea', size=64)"
    assert _one_pass_parts(one_pass_call("fast-swirls", c, device="auto"))[1] == {}
    assert _one_pass_parts(one_pass_call("fast-swirls", c, device="cuda"))[1] == {"device": "cuda"}


def test_the_one_pass_call_refuses_what_the_network_cannot_take():
    c, s = "sample('chelsea', size=64)", "procedural('swirls', 64, seed=0)"
    with pytest.raises(ValueError, match="paints the one style it was trained on"):
        one_pass_call("fast-swirls", c, s)
    with pytest.raises(ValueError, match="paints the one style it was trained on"):
        one_pass_call("fast-swirls", c, alpha=0.5)
    with pytest.raises(ValueError, match="needs a style image"):
        one_pass_call("adain", c)
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]"):
        one_pass_call("adain", c, s, alpha=1.5)
    with pytest.raises(ValueError, match="stylize"):
        one_pass_call(OPTIMISE, c)


# --------------------------------------------------------------------------- structure


def _imports(path: Path) -> set[str]:
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name for a in node.names}
        elif isinstance(node, ast.ImportFrom):
            names.add("." * node.level + (node.module or ""))
            names |= {"." * node.level + a.name for a in node.names if not node.module}
    return names


def test_the_mapping_is_pure():
    names = _imports(PACKAGE / "widgets" / "mapping.py")
    assert not {n for n in names if n.split(".")[0] in ("ipywidgets", "torch", "threading")}, names
    assert not {n for n in names if n.startswith(".") and not n.startswith("..")}, "no sibling widget modules"
