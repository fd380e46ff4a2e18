"""The panel's settings <-> :class:`~styletut.transfer.StylizeOptions`, as pure functions.

The panel's widgets hold *values* (a slider's number, a checkbox's tick); a
run needs *options*. This module converts between the two without building a
widget, so the conversion is tested on its own (``tests/test_widget_mapping.py``)
and :class:`~styletut.widgets.StylePanel` only reads and writes the widgets' values.

A *values* dict has one key per control, named as the panel's attribute:

- ``size``, ``steps``, ``seed``: ints (``size`` ``None``: the widget keeps its value);
- ``levels``: coarse-to-fine pyramid levels, 0 for automatic (``levels=None``);
- ``optimizer``, ``init``, ``device``, ``style_norm``, ``weights``, ``pooling``: strings;
- ``lr``: the rate slider (``None``: the optimizer picks its rate; the slider keeps its value);
  ``lr_auto``: the "automatic rate" tick of GD and SGD;
- ``crop_frac``: SGD's crop side;
- ``use_content``, ``use_style``, ``use_tv``: whether each loss term is on, and
  ``content_weight``, ``style_weight``, ``tv_weight``: its log slider;
- ``content_layers``, ``style_layers``: ``{layer: ticked}``; ``style_layer_weights``:
  ``{layer: relative weight}``, one entry per row of the layer grid;
- the Controls tab: ``preserve_colour`` and ``style_stats`` (choice names),
  ``style_scale`` (its log slider), ``blend`` (the first style's share of two,
  in [0, 1]) and ``region`` (a :data:`~styletut.names.MASK_SHAPES` name, or a
  mask file's path given in code);
- ``styles``: how many style images the run has, 1 or 2 (2 when a second
  style is picked). Not a widget: the panel counts its style pickers.

How the Controls become options (:func:`options_from_values`): one style
paints ``region`` (``"all"``: no mask); two styles are blended everywhere
(``"all"``) or split into ``region`` and its :data:`COMPLEMENT`, the first
style painting ``region``, and ``blend`` weighs them in both cases.

Options the panel has no control for (:data:`PASSED_THROUGH`) travel beside
the values, unchanged. Options a control cannot show (three styles, two
regions that are not a shape and its complement) are refused with a message
that names the fix, never dropped.

The Method control (issue 13) is not a values key: it picks between
optimising the pixels (:data:`OPTIMISE`, everything above) and one pass of a
shipped network (:mod:`styletut.zoo`), whose echoed call
(:func:`one_pass_call`) is ``zoo.run(zoo.load_model(name), content, ...)``.
"""

from __future__ import annotations

import dataclasses
import math

from .. import zoo
from ..features import list_layers
from ..names import MASK_SHAPES
from ..optim import DEFAULT_LR
from ..options import DEFAULT_STYLE_WEIGHT, MAX_STYLE_SCALE, StylizeOptions

__all__ = ["LAYER_CHOICES", "PASSED_THROUGH", "COMPLEMENT", "MAX_PANEL_STYLES", "grid_layers",
           "values_from_options", "options_from_values", "passed_through", "style_weight_range",
           "log_slider_range", "style_scale_range", "start_value", "round_sig", "style_count",
           "OPTIMISE", "method_choices", "method_kind", "method_label", "one_pass_call"]

# The layers people actually use for style transfer: the first two ReLUs of
# each block (Gatys et al. 2016 take relu*_1 for style and relu4_2 for
# content). Deeper ReLUs in a block add little and would make the grid long;
# panel(style_layers=[...]) with any other layer adds a row for it.
LAYER_CHOICES: tuple[str, ...] = tuple(l for l in list_layers(kind="relu") if l.endswith(("_1", "_2")))

# The options a control of the panel sets; every other field passes through.
_CONTROLLED = ("size", "num_steps", "levels", "optimizer", "lr", "crop_frac", "init", "seed", "device", "weights",
               "pooling", "style_norm", "content_weight", "style_weight", "tv_weight", "content_layers",
               "style_layers", "style_layer_weights", "style_scale", "style_blend", "style_masks", "style_stats",
               "preserve_colour")
# Computed, not listed, so a field added to StylizeOptions later is carried
# through the panel (and its echoed call) rather than silently reset.
PASSED_THROUGH: tuple[str, ...] = tuple(f.name for f in dataclasses.fields(StylizeOptions)
                                        if f.name not in _CONTROLLED)

# Log sliders span what is useful at the loss scale of the Caffe VGG19: the
# content loss starts around 1e4-1e6 (a mean of squared 0..255-scale
# activations), the TV loss of a photo around 1e-2. (min exponent, max exponent).
_LOG_RANGES = {"lr": (-8, 1), "content_weight": (-3, 3), "tv_weight": (2, 9)}
# A term's slider value when its tick is off (so ticking it gives a sensible start).
_ON_VALUE = {"content_weight": 1.0, "tv_weight": 1e6}
_WEIGHT_DIGITS = 3   # significant digits of slider values in the echoed call
_LAYER_DIGITS = 4    # ... and of the typed per-layer weights

# The region the second style paints when the first paints a shape: its
# complement, so that the two regions cover the picture exactly once
# (styletut.regions draws each pair to add up to 1 everywhere).
COMPLEMENT = {"left": "right", "right": "left", "top": "bottom", "bottom": "top", "centre": "border",
              "border": "centre"}
# A style and a second style: more would need a picker per style and a
# weight per style, which stylize(content, [s1, s2, s3], ...) takes in code.
MAX_PANEL_STYLES = 2
# The style-scale slider spans 1/4 .. 4 (base-2 exponents): strokes from a
# quarter to four times their size in the style image.
_STYLE_SCALE_EXPONENTS = (-2, 2)
_EQUAL_SHARE = 0.5   # two styles' equal blend, which style_blend=None already means


def round_sig(x: float, digits: int = 4) -> float:
    """Round to a few significant digits, so echoed calls read ``5.0``, not ``4.999999999``.

    Example:
        >>> round_sig(0.30000000000000004, 3)
        0.3
    """
    return float(f"{x:.{digits}g}")


def style_weight_range(norm: str) -> tuple[int, int, float]:
    """The style weight slider's span for a style normalisation, and its default β.

    The span is three decades either side of ``DEFAULT_STYLE_WEIGHT[norm]``:
    the conventions differ by ten orders of magnitude (lesson 04), so one
    fixed range cannot serve them all.

    Args:
        norm: one of :data:`styletut.losses.STYLE_NORMS`.

    Returns:
        ``(min exponent, max exponent, default β)`` of a base-10 log slider.

    Example:
        >>> style_weight_range("tutorial")
        (-2, 4, 5.0)
    """
    beta = DEFAULT_STYLE_WEIGHT[norm]
    e = round(math.log10(beta))
    return e - 3, e + 3, beta


def log_slider_range(name: str, style_norm: str, value: float | None = None) -> tuple[int, int]:
    """The exponent span of a log slider, widened to whole decades around ``value``.

    A log slider clamps what it is given; widening keeps an option from an
    earlier run or a ``panel(content_weight=1e5)`` exactly as it was.

    Args:
        name: ``"lr"``, ``"content_weight"``, ``"style_weight"`` or ``"tv_weight"``.
        style_norm: the style normalisation (sets the style weight's span).
        value: the value the slider must be able to show (``None`` or ``<= 0``: no widening).

    Returns:
        ``(min exponent, max exponent)``.

    Example:
        >>> log_slider_range("content_weight", "relative", 2e5)
        (-3, 6)
    """
    lo, hi = style_weight_range(style_norm)[:2] if name == "style_weight" else _LOG_RANGES[name]
    if value is not None and value > 0:
        e = math.log10(value)
        lo, hi = min(lo, math.floor(e)), max(hi, math.ceil(e))
    return lo, hi


def start_value(name: str, style_norm: str) -> float:
    """What a loss term's slider shows while the term is off: its usual starting weight.

    Example:
        >>> start_value("style_weight", "tutorial"), start_value("tv_weight", "tutorial")
        (5.0, 1000000.0)
    """
    return DEFAULT_STYLE_WEIGHT[style_norm] if name == "style_weight" else _ON_VALUE[name]


def style_scale_range(value: float | None = None) -> tuple[int, int]:
    """The base-2 exponent span of the style-scale slider, widened to show ``value``.

    Args:
        value: a ``style_scale`` the slider must show (``None``: no widening).

    Returns:
        ``(min exponent, max exponent)``: ``(-2, 2)`` is 1/4 .. 4, widened to
        whole exponents around ``value`` (at most ``MAX_STYLE_SCALE``'s).

    Example:
        >>> style_scale_range(), style_scale_range(6.0)
        ((-2, 2), (-2, 3))
    """
    lo, hi = _STYLE_SCALE_EXPONENTS
    if value is not None and value > 0:
        e = math.log2(value)
        limit = round(math.log2(MAX_STYLE_SCALE))
        lo, hi = max(min(lo, math.floor(e)), -limit), min(max(hi, math.ceil(e)), limit)
    return lo, hi


def style_count(opts: StylizeOptions) -> int | None:
    """How many style images ``opts`` are for, where they say: the length of ``style_blend`` or ``style_masks``.

    Returns:
        That length, or ``None`` when neither is set (one style, or several
        blended equally: the options alone cannot tell).

    Example:
        >>> style_count(StylizeOptions(style_blend=(0.7, 0.3))), style_count(StylizeOptions())
        (2, None)
    """
    for value in (opts.style_blend, opts.style_masks):
        if value is not None:
            return len(value)
    return None


def grid_layers(*options: StylizeOptions) -> tuple[str, ...]:
    """The rows of the layer grid: :data:`LAYER_CHOICES` plus any layer ``options`` use, in network order."""
    wanted = set(LAYER_CHOICES)
    for opts in options:
        wanted |= set(opts.content_layers) | set(opts.style_layers)
    return tuple(l for l in list_layers() if l in wanted)


def passed_through(opts: StylizeOptions) -> dict[str, object]:
    """The fields of ``opts`` that no control shows (:data:`PASSED_THROUGH`)."""
    return {k: getattr(opts, k) for k in PASSED_THROUGH}


def _panel_styles(opts: StylizeOptions, styles: int | None) -> int:
    """The number of style images to show ``opts`` with; refuse what the panel cannot show."""
    implied = style_count(opts)
    n = styles if styles is not None else (implied or 1)
    # Too many styles first: no second style picked or not could fix that.
    most = max(n, implied or 0)
    if most > MAX_PANEL_STYLES:
        raise ValueError(f"these options are for {most} style images, and the panel shows at most "
                         f"{MAX_PANEL_STYLES} (a style and a second style); call "
                         "stylize(content, [style_1, style_2, style_3], ...) in code for more")
    try:
        opts.check_style_count(n)
    except ValueError as err:
        raise ValueError(f"{err}: the panel has {n} style image(s); pick a second style to match (Controls "
                         "tab, or panel(style2=...)), or change style_blend / style_masks") from None
    return n


def _share(opts: StylizeOptions, styles: int) -> float:
    """The first style's share of two, for the blend slider (one style: the equal share, ready for a second)."""
    if styles == 1 or opts.style_blend is None:
        return _EQUAL_SHARE
    first, second = opts.style_blend
    return round_sig(first / (first + second), _WEIGHT_DIGITS)


def _region(opts: StylizeOptions, styles: int) -> str:
    """The region dropdown's value for ``style_masks``; refuses two regions the panel cannot show."""
    masks = opts.style_masks
    if masks is None:
        return "all"
    if styles == 1:
        return masks[0]  # a shape, or a mask file (the dropdown adds it as a choice)
    first, second = masks
    if COMPLEMENT.get(first) != second:
        pairs = ", ".join(f"{a}/{b}" for a, b in COMPLEMENT.items() if MASK_SHAPES.index(a) < MASK_SHAPES.index(b))
        raise ValueError(f"style_masks={masks!r} cannot be shown: the panel gives two styles a shape and its "
                         f"complement ({pairs}); pass these masks to stylize(...) in code, or pick a region "
                         "in the Controls tab")
    return first


def values_from_options(opts: StylizeOptions, layers: tuple[str, ...] | None = None,
                        styles: int | None = None) -> dict[str, object]:
    """The widget values that show ``opts``.

    Args:
        opts: the options to show.
        layers: the rows of the panel's layer grid (default :func:`grid_layers` of ``opts``).
        styles: how many style images the run has (default: :func:`style_count`
            of ``opts``, else 1).

    Returns:
        A values dict (see the module docstring). A term whose weight is 0 is
        unticked and its slider shows the term's usual starting value; the
        style slider shows :attr:`StylizeOptions.beta` (the convention's
        default when ``style_weight`` is ``None``). With one style the blend
        slider shows the equal share 0.5, ready for a second style.

    Raises:
        ValueError: ``opts`` uses a layer that has no row in ``layers``; or
            the panel cannot show its styles: more than two, a count other
            than ``styles``, or two masks that are not a shape and its
            :data:`COMPLEMENT` (the message names the fix).

    Example:
        >>> v = values_from_options(StylizeOptions(optimizer="adam", num_steps=20))
        >>> v["optimizer"], v["lr"], v["steps"], v["style_layers"]["relu1_1"]
        ('adam', 0.02, 20, True)
    """
    layers = grid_layers(opts) if layers is None else tuple(layers)
    n = _panel_styles(opts, styles)
    for name in ("content_layers", "style_layers"):
        missing = [l for l in getattr(opts, name) if l not in layers]
        if missing:
            raise ValueError(f"{name} uses {', '.join(map(repr, missing))}, which has no row in this panel's "
                             f"layer grid; build a panel that shows it: panel({name}=[...])")
    layer_weights = dict.fromkeys(layers, 1.0)
    if opts.style_layer_weights is not None:
        layer_weights.update(zip(opts.style_layers, map(float, opts.style_layer_weights)))
    beta, norm = opts.beta, opts.style_norm
    return {
        "size": opts.size,
        "steps": max(opts.num_steps, 1),  # the panel's Run always takes at least one step
        "levels": opts.levels or 0,  # a dropdown cannot hold None: 0 is "auto"
        "optimizer": opts.optimizer,
        # None: no fixed rate to show (GD/SGD pick theirs from the first gradient).
        "lr": opts.lr if opts.lr is not None else DEFAULT_LR[opts.optimizer],
        "lr_auto": opts.lr is None,
        "crop_frac": opts.crop_frac,
        "init": opts.init,
        "seed": opts.seed,
        "device": opts.device,
        "weights": opts.weights,
        "pooling": opts.pooling,
        "style_norm": opts.style_norm,
        "use_content": opts.content_weight > 0,
        "content_weight": opts.content_weight or start_value("content_weight", norm),
        "use_style": beta > 0,
        "style_weight": beta or start_value("style_weight", norm),
        "use_tv": opts.tv_weight > 0,
        "tv_weight": opts.tv_weight or start_value("tv_weight", norm),
        "content_layers": {l: l in opts.content_layers for l in layers},
        "style_layers": {l: l in opts.style_layers for l in layers},
        "style_layer_weights": layer_weights,
        "preserve_colour": opts.preserve_colour,
        "style_stats": opts.style_stats,
        "style_scale": opts.style_scale,
        "styles": n,
        "blend": _share(opts, n),
        "region": _region(opts, n),
    }


def _lr(values: dict) -> float | None:
    """The rate to pass: ``None`` wherever the optimizer's own choice applies."""
    opt = values["optimizer"]
    default = DEFAULT_LR[opt]
    if opt == "lbfgs":  # L-BFGS-B's line search sets the step length itself
        return None
    if default is None and values["lr_auto"]:  # GD/SGD: from the first gradient
        return None
    if values["lr"] is None:
        return None
    lr = round_sig(float(values["lr"]), _WEIGHT_DIGITS)
    # The optimizer's default is left out of the echoed call.
    return None if default is not None and math.isclose(lr, default, rel_tol=1e-3) else lr


def _layer_weights(values: dict, style_layers: tuple[str, ...]) -> tuple[float, ...] | None:
    """The ticked rows' relative weights; ``None`` when they are all equal (the default)."""
    raw = tuple(round_sig(float(values["style_layer_weights"][l]), _LAYER_DIGITS) for l in style_layers)
    if values["use_style"] and style_layers and not any(w > 0 for w in raw):
        raise ValueError("every ticked style layer has weight 0; give at least one of them a positive "
                         "weight in the Layers tab")
    # Weights are relative (the style loss scales them to sum to 1), so equal
    # weights of any size are the default and need no mention in the call.
    return raw if len(set(raw)) > 1 else None


def _style_blend(values: dict, styles: int) -> tuple[float, float] | None:
    """``(share, 1 - share)`` for two styles, rounded; ``None`` for one style or an equal blend (the default)."""
    if styles == 1:
        return None
    share = round_sig(float(values["blend"]), _WEIGHT_DIGITS)
    if not 0.0 <= share <= 1.0:
        raise ValueError(f"the blend share of style 1 must lie in [0, 1], got {share:g}; move the blend slider "
                         "in the Controls tab")
    if math.isclose(share, _EQUAL_SHARE):
        return None
    return share, round_sig(1.0 - share, _WEIGHT_DIGITS)


def _style_masks(values: dict, styles: int) -> tuple[str, ...] | None:
    """The region rule: one style paints ``region``; two split it with its complement; ``"all"``: no mask."""
    region = values["region"]
    if region == "all":
        return None
    if styles == 1:
        return (region,)
    if region not in COMPLEMENT:
        raise ValueError(f"region {region!r} is a mask file, and two styles need a shape whose complement the "
                         f"second style paints ({', '.join(COMPLEMENT)}); pick one in the Controls tab, or pass "
                         "style_masks=(file_1, file_2) to stylize(...) in code")
    return region, COMPLEMENT[region]


def _styles(values: dict) -> int:
    n = int(values["styles"])
    if not 1 <= n <= MAX_PANEL_STYLES:
        raise ValueError(f"the panel runs 1 or {MAX_PANEL_STYLES} style images, got styles={n}")
    return n


def options_from_values(values: dict, passed_through: dict | None = None) -> StylizeOptions:
    """The :class:`~styletut.transfer.StylizeOptions` that the widget values describe.

    Values equal to ``stylize``'s defaults become defaults, so the echoed call
    lists only what was changed: a rate equal to the optimizer's default (or
    any rate for L-BFGS, or an automatic one) becomes ``lr=None``, a style
    weight equal to the normalisation's default becomes ``style_weight=None``,
    and equal per-layer weights become ``style_layer_weights=None``, as does
    an equal blend of two styles (``style_blend=None``). Slider numbers are
    rounded to 3 significant digits, typed layer weights to 4.

    Args:
        values: a values dict (see the module docstring).
        passed_through: the options without a control (:func:`passed_through`).

    Returns:
        The options (validated by ``StylizeOptions``).

    Raises:
        ValueError: nothing to optimise, or a ticked term without layers or
            with only zero layer weights, or a mask file with two styles; the
            message names the tab to fix.

    Example:
        >>> v = values_from_options(StylizeOptions(num_steps=20, tv_weight=1e5))
        >>> v["use_tv"] = False
        >>> options_from_values(v).changed()
        {'num_steps': 20}
        >>> v.update(styles=2, blend=0.7, region="left")
        >>> options_from_values(v).changed()
        {'num_steps': 20, 'style_blend': (0.7, 0.3), 'style_masks': ('left', 'right')}
    """
    content_layers = tuple(l for l, ticked in values["content_layers"].items() if ticked)
    style_layers = tuple(l for l, ticked in values["style_layers"].items() if ticked)

    def weight(name: str) -> float:
        on = values["use_" + name.split("_")[0]]
        return round_sig(float(values[name]), _WEIGHT_DIGITS) if on else 0.0

    content_weight, style_weight, tv_weight = weight("content_weight"), weight("style_weight"), weight("tv_weight")
    if content_weight == 0 and style_weight == 0 and tv_weight == 0:
        raise ValueError("all loss weights are zero: nothing to optimise; tick content α, style β or TV γ "
                         "in the Loss weights tab")
    if values["use_style"] and not style_layers:
        raise ValueError("no style layer is ticked: tick at least one style layer in the Layers tab "
                         "(or untick style β in the Loss weights tab)")
    if values["use_content"] and not content_layers:
        raise ValueError("no content layer is ticked: tick one in the Layers tab "
                         "(or untick content α in the Loss weights tab)")
    norm = values["style_norm"]
    if math.isclose(style_weight, DEFAULT_STYLE_WEIGHT[norm], rel_tol=1e-3):
        style_weight = None  # the convention's default: left out of the echoed call
    styles = _styles(values)
    return StylizeOptions.from_kwargs(
        size=None if values["size"] is None else int(values["size"]),
        num_steps=int(values["steps"]), levels=int(values["levels"]) or None, optimizer=values["optimizer"],
        lr=_lr(values),
        crop_frac=round_sig(float(values["crop_frac"]), _WEIGHT_DIGITS), init=values["init"],
        seed=int(values["seed"]), device=values["device"], weights=values["weights"],
        pooling=values["pooling"], style_norm=norm, content_weight=content_weight, style_weight=style_weight,
        tv_weight=tv_weight, content_layers=content_layers, style_layers=style_layers,
        style_layer_weights=_layer_weights(values, style_layers),
        style_scale=round_sig(float(values["style_scale"]), _WEIGHT_DIGITS),
        style_blend=_style_blend(values, styles), style_masks=_style_masks(values, styles),
        style_stats=values["style_stats"], preserve_colour=values["preserve_colour"], **(passed_through or {}))


# --------------------------------------------------------------------------- the Method (issue 13)

OPTIMISE = "optimise"   # the Method value for optimising the pixels (stylize); the others are zoo names
_KIND_LABELS = {"fast": "fast network: {name}", "adain": "AdaIN (any style)"}


def method_label(name: str) -> str:
    """How the Method control names a choice: by what it does, the networks by kind.

    Example:
        >>> method_label("optimise"), method_label("fast-swirls"), method_label("adain")
        ('optimise the pixels', 'fast network: fast-swirls', 'AdaIN (any style)')
    """
    if name == OPTIMISE:
        return "optimise the pixels"
    kind = zoo.model_info(name).kind
    if kind == "adain" and name != "adain":  # a second AdaIN decoder is told apart by its name
        return f"AdaIN (any style): {name}"
    return _KIND_LABELS.get(kind, kind + ": {name}").format(name=name)


def method_choices() -> list[tuple[str, str]]:
    """The Method control's ``(label, value)`` pairs: optimise first, then each shipped network.

    Example:
        >>> [v for _, v in method_choices()]
        ['optimise', 'adain', 'fast-swirls']
    """
    return [(method_label(OPTIMISE), OPTIMISE)] + [(method_label(n), n) for n in zoo.list_models()]


def method_kind(method: str) -> str | None:
    """``None`` for :data:`OPTIMISE`, else the network's kind: ``"fast"`` (one style) or ``"adain"`` (any).

    Raises:
        ValueError: an unknown method (the message lists the choices).
    """
    if method == OPTIMISE:
        return None
    try:
        return zoo.model_info(method).kind
    except ValueError:
        raise ValueError(f"unknown method {method!r}; choose one of: "
                         f"{', '.join(v for _, v in method_choices())}") from None


def one_pass_call(model: str, content: str, style: str | None = None, alpha: float | None = None,
                  device: str = "auto") -> str:
    """Python source of one pass of a shipped network, as the panel echoes it.

    Args:
        model: a :func:`styletut.zoo.list_models` name.
        content, style: sources of the images *at the size the pass uses*
            (``sample('chelsea', size=256)``): a network does not resize.
        alpha: AdaIN's content-style mix, always written for AdaIN (it is its
            one knob), rounded to 3 significant digits; ``None`` for a fast network.
        device: written when not ``"auto"`` (``zoo.load_model`` loads on the CPU by default).

    Raises:
        ValueError: a style or alpha for a fast network, none for AdaIN, or alpha outside [0, 1].

    Example:
        >>> one_pass_call("adain", "sample('chelsea', size=256)", "procedural('swirls', 256, seed=0)", 0.5)
        "zoo.run(zoo.load_model('adain'), sample('chelsea', size=256), procedural('swirls', 256, seed=0), alpha=0.5)"
    """
    kind = method_kind(model)
    if kind is None:
        raise ValueError("optimising the pixels is a stylize(...) call; one_pass_call is for a network")
    if kind == "fast" and (style is not None or alpha is not None):
        raise ValueError(f"{model!r} paints the one style it was trained on: no style image, no alpha")
    if kind != "fast" and style is None:
        raise ValueError(f"{model!r} needs a style image")
    load = f"zoo.load_model({model!r}" + ("" if device == "auto" else f", device={device!r}") + ")"
    args = [load, content] + ([] if style is None else [style])
    if kind != "fast":
        a = round_sig(float(1.0 if alpha is None else alpha), _WEIGHT_DIGITS)
        if not 0.0 <= a <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {a:g}")
        args.append(f"alpha={a!r}")
    return f"zoo.run({', '.join(args)})"
