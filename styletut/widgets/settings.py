"""The panel's settings tabs (Run, Loss weights, Layers, Controls) and their values.

:class:`Settings` builds the widgets and reads or writes them as a *values*
dict; turning values into options and back is :mod:`.mapping`'s job. The
Controls tab holds what artists ask for (issue 12): keep the photo's colours,
other style statistics, the style's scale, a second style with its blend,
and the region each style paints.
"""

from __future__ import annotations

import html

import ipywidgets as W
import torch

from ..features import POOLINGS, WEIGHTS
from ..losses import STYLE_NORMS
from ..names import COLOUR_MODES, MASK_SHAPES, STYLE_STATS
from ..optim import AUTO_LR_STEP, DEFAULT_LR, OPTIMIZERS
from ..options import INITS, MIN_LEVEL_SIZE, MULTISCALE_FROM
from ..runtime import DEVICES
from .mapping import COMPLEMENT, log_slider_range, start_value, style_scale_range, style_weight_range
from .sources import NO_STYLE, SecondStyle

__all__ = ["Settings", "VALUE_NAMES", "WIDGET_NAMES", "OPTIMISATION_NAMES"]

# The settings widgets, named as the keys of a values dict (and as StylePanel's attributes).
_SCALARS = ("size", "steps", "levels", "optimizer", "lr", "lr_auto", "crop_frac", "init", "seed", "device",
            "weights", "pooling", "style_norm", "use_content", "content_weight", "use_style", "style_weight", "use_tv",
            "tv_weight", "preserve_colour", "style_stats", "style_scale", "blend", "region")
_GRIDS = ("content_layers", "style_layers", "style_layer_weights")
VALUE_NAMES = _SCALARS + _GRIDS
# Every settings widget the panel shows as an attribute: the values' widgets
# and the second style's picker (an image, like the first style: not a value).
WIDGET_NAMES = VALUE_NAMES + ("style2", "style2_seed")

# Friendlier labels for the Controls' choices; the values stay the option's
# names, and a choice added to styletut.names later shows under its name.
_COLOUR_LABELS = {"none": "no: the style's colours", "luminance": "yes: paint the luminance only",
                  "meancov": "yes: recolour the style (mean, covariance)",
                  "histogram": "yes: recolour the style (histograms)"}
_STATS_LABELS = {"gram": "Gram matrices", "meanstd": "channel means and stds", "sliced": "sliced Wasserstein"}
_REGION_LABELS = {"all": "the whole image", "left": "the left half", "right": "the right half",
                  "top": "the top half", "bottom": "the bottom half", "centre": "the centre (an ellipse)",
                  "border": "the border (around the centre)"}
_TERMS = (("content_weight", "use_content", "content α"), ("style_weight", "use_style", "style β"),
          ("tv_weight", "use_tv", "TV γ"))
_NOTE = "<div style='font-size:12px;color:#555;max-width:400px;line-height:1.4'>{}</div>"
# The settings only optimisation uses: off while the Method is a trained network (set_method).
# Size and device apply to every method; the style scale to optimisation and AdaIN (the style's size).
OPTIMISATION_NAMES = tuple(n for n in VALUE_NAMES if n not in ("size", "device", "style_scale")) + ("style2",
                                                                                                   "style2_seed")
_ONE_PASS_NOTE = {
    "fast": "A fast network makes one pass and paints the one style it was trained on: only the image size "
            "and the device apply. The other settings are kept for when you optimise again.",
    "adain": "AdaIN makes one pass with any style image: the image size, the device and the style scale apply "
             "(and alpha, next to Run). The other settings are kept for when you optimise again.",
}


def _devices() -> list[str]:
    # "cuda" only where there is one: picking it elsewhere could only fail.
    return [d for d in DEVICES if d != "cuda" or torch.cuda.is_available()]


class Settings:
    """The settings widgets, in four tabs (:attr:`tab`): Run, Loss weights, Layers, Controls.

    The Controls tab's second style is a :class:`~styletut.widgets.sources.SecondStyle`
    (:attr:`second`), whose menu and seed are also :attr:`style2` and :attr:`style2_seed`.

    Args:
        layers: the rows of the layer grid, in network order.
        style_norm: the style normalisation to start from (sets the style slider's span).
    """

    def __init__(self, layers: tuple[str, ...], style_norm: str):
        self.layers = tuple(layers)
        self.one_pass: str | None = None   # the Method's network kind ("fast", "adain"); None: optimise
        self.tab = W.Tab(children=[self._run_tab(), self._weights_tab(style_norm), self._layers_tab(),
                                   self._controls_tab()],
                         layout=W.Layout(width="440px", margin="0 0 8px 0"))
        for i, title in enumerate(("Run", "Loss weights", "Layers", "Controls")):
            self.tab.set_title(i, title)
        self.tab.add_class("styletut-settings")

    # ----------------------------------------------------------------- building

    def _run_tab(self) -> W.VBox:
        label = {"description_width": "110px"}

        def wide():  # each widget needs its own Layout (a shared one is one model)
            return W.Layout(width="360px")

        self.size = W.IntSlider(value=64, min=16, max=512, step=8, description="image size (px)",
                                continuous_update=False, style=label, layout=wide())
        self.steps = W.IntSlider(value=10, min=1, max=1000, description="steps",
                                 continuous_update=False, style=label, layout=wide())
        self.levels = W.Dropdown(options=[("auto", 0), ("1 (single scale)", 1)] + [(str(n), n) for n in (2, 3, 4, 5, 6)],
                                 value=0, description="coarse to fine", style=label,
                                 layout=W.Layout(width="260px"))
        self.levels.tooltip = ("pyramid levels: optimise at 1/2, 1/4, ... of the size first "
                               f"(auto: from {MULTISCALE_FROM} px up, down to {MIN_LEVEL_SIZE} px)")
        self.optimizer = W.ToggleButtons(options=list(OPTIMIZERS), description="optimizer",
                                         style={**label, "button_width": "60px"})
        self.optimizer.add_class("styletut-optimizer")
        lo, hi = log_slider_range("lr", "relative")
        self.lr = W.FloatLogSlider(value=DEFAULT_LR["lbfgs"], base=10, min=lo, max=hi, step=0.1,
                                   description="learning rate", readout_format=".1e",
                                   continuous_update=False, style=label, layout=wide())
        self.lr_auto = W.Checkbox(value=True, description=f"automatic: {AUTO_LR_STEP:g} / rms(∇J) from the first "
                                  "gradient", indent=False, layout=W.Layout(margin="0 0 0 115px", width="360px"))
        self.lr_auto.observe(lambda ch: self.show_lr_controls(), "value")
        self.lr_note = W.HTML(layout=W.Layout(margin="-4px 0 4px 115px"))
        self.crop_frac = W.FloatSlider(value=0.5, min=0.1, max=1.0, step=0.05, description="SGD crop side",
                                       continuous_update=False, style=label, layout=wide())
        self.init = W.Dropdown(options=list(INITS), description="start from", style=label,
                               layout=W.Layout(width="260px"))
        self.seed = W.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed", style=label,
                                     layout=W.Layout(width="220px"))
        self.device = W.Dropdown(options=_devices(), description="device", style=label,
                                 layout=W.Layout(width="220px"))
        self.optimizer.observe(self._on_optimizer, "value")
        self.one_pass_note = W.HTML(layout=W.Layout(display="none"))
        self.one_pass_note.add_class("styletut-one-pass-note")
        return W.VBox([self.one_pass_note, self.size, self.steps, self.levels, self.optimizer, self.lr, self.lr_auto, self.lr_note,
                       self.crop_frac, self.init, self.seed, self.device])

    def _weights_tab(self, style_norm: str) -> W.VBox:
        # Each loss weight: a switch (a log slider cannot reach 0) and a log slider.
        rows = []
        self.style_norm = W.Dropdown(options=list(STYLE_NORMS), value=style_norm, description="style norm",
                                     layout=W.Layout(width="260px"))
        self.style_norm.observe(self._on_style_norm, "value")
        for name, use_name, title in _TERMS:
            lo, hi = log_slider_range(name, style_norm)
            slider = W.FloatLogSlider(value=start_value(name, style_norm), base=10, min=lo, max=hi, step=0.1,
                                      readout_format=".2g", continuous_update=False, layout=W.Layout(width="280px"))
            use = W.Checkbox(value=True, description=title, indent=False, layout=W.Layout(width="90px"))
            use.observe(lambda ch, s=slider: setattr(s, "disabled", self.one_pass is not None or not ch["new"]),
                        "value")
            setattr(self, name, slider)
            setattr(self, use_name, use)
            rows.append(W.HBox([use, slider]))
        return W.VBox(rows + [self.style_norm, W.HTML(_NOTE.format(
            "J(x) = α·content + β·style + γ·TV. Untick a term to leave it out (α off: texture synthesis). "
            "The content loss starts around 1e4-1e6 with the Caffe VGG19, TV around 1e-2, hence its large "
            "weights. Style norm 'relative' divides each layer's Gram error by the style's own Gram norm, so "
            "one β means about the same for every style; 'tutorial' and 'gatys' depend on the style image's "
            "scale (lesson 04)."))])

    def _layers_tab(self) -> W.VBox:
        # Layer grid: one row per layer, content and style ticks and a style weight.
        cells = [W.HTML(f"<b>{h}</b>") for h in ("layer", "content", "style", "weight")]
        self.content_layers, self.style_layers, self.style_layer_weights = {}, {}, {}
        for layer in self.layers:
            c = W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto"))
            s = W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto"))
            w = W.BoundedFloatText(value=1.0, min=0.0, max=100.0, step=0.5, layout=W.Layout(width="70px"))
            c.add_class(f"styletut-content-{layer}")
            s.add_class(f"styletut-style-{layer}")
            self.content_layers[layer], self.style_layers[layer], self.style_layer_weights[layer] = c, s, w
            cells += [W.HTML(f"<code>{layer}</code>"), c, s, w]
        grid = W.GridBox(cells, layout=W.Layout(grid_template_columns="80px 64px 50px 80px",
                                                 grid_gap="0px 6px", align_items="center"))
        label = {"description_width": "110px"}
        self.weights = W.Dropdown(options=list(WEIGHTS), description="VGG19 weights", style=label,
                                  layout=W.Layout(width="260px"))
        self.pooling = W.Dropdown(options=list(POOLINGS), description="pooling", style=label,
                                  layout=W.Layout(width="260px"))
        return W.VBox([grid, W.HTML(_NOTE.format(
            "Style weights are relative: the style loss scales the ticked layers' weights to sum to 1, so "
            "only their ratios matter. Deeper layers cost more time.")), self.weights, self.pooling])

    def _controls_tab(self) -> W.VBox:
        label = {"description_width": "110px"}

        def wide():
            return W.Layout(width="360px")

        self.preserve_colour = W.Dropdown(options=[(_COLOUR_LABELS.get(m, m), m) for m in COLOUR_MODES],
                                          description="keep colours", style=label, layout=wide())
        self.style_stats = W.Dropdown(options=[(_STATS_LABELS.get(m, m), m) for m in STYLE_STATS],
                                      description="style statistics", style=label, layout=wide())
        lo, hi = style_scale_range()
        # Base 2: equal steps of the slider multiply the stroke size by equal factors.
        self.style_scale = W.FloatLogSlider(value=1.0, base=2, min=lo, max=hi, step=0.25, description="style scale",
                                            readout_format=".3g", continuous_update=False, style=label,
                                            layout=wide())
        self.second = SecondStyle()
        self.style2, self.style2_seed = self.second.choice, self.second.seed
        self.blend = W.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.05, description="style 1 share",
                                   readout_format=".2f", continuous_update=False, style=label, layout=wide())
        self.region = W.Dropdown(options=[(_REGION_LABELS.get(r, r), r) for r in MASK_SHAPES],
                                 description="region", style=label, layout=wide())
        self.region_note = W.HTML(layout=W.Layout(margin="-4px 0 4px 115px"))
        for w, cls in ((self.preserve_colour, "preserve-colour"), (self.style_stats, "style-stats"),
                       (self.style_scale, "style-scale"), (self.blend, "blend"), (self.region, "region")):
            w.add_class(f"styletut-{cls}")
        for w in (self.style2, self.region):
            w.observe(lambda ch: self.show_style_controls(), "value")
        self.show_style_controls()
        return W.VBox([self.preserve_colour, self.style_stats, self.style_scale, self.second.box, self.blend,
                       self.region, self.region_note, W.HTML(_NOTE.format(
                           "Style scale 2 paints strokes twice as big. A second style is blended with the first "
                           "(the share is style 1's), or, with a region, paints the rest of the picture. "
                           "Statistics other than Gram matrices, and regions, need style norm 'relative' "
                           "(Loss weights tab)."))])

    # ----------------------------------------------------------------- reactions

    def show_style_controls(self) -> None:
        """Show the blend slider with two styles only, and say in words where each style paints."""
        two = self.second.active
        self.blend.layout.display = "" if two else "none"
        region = self.region.value
        where = _REGION_LABELS.get(region, f"the white of {region}")
        if not two:
            note = f"the style paints {where}" + ("" if region == "all" else "; elsewhere only the content acts")
        elif region == "all":
            note = "the two styles are blended over the whole image"
        elif region in COMPLEMENT:
            note = f"style 1 paints {where}, style 2 {_REGION_LABELS[COMPLEMENT[region]]}"
        else:
            note = "a mask file takes one style: pick a shape for two"
        self.region_note.value = f"<span style='font-size:12px;color:#555'>{html.escape(note)}</span>"

    def set_method(self, kind: str | None) -> None:
        """Switch off the settings a method does not use, and back on for optimisation.

        Args:
            kind: ``None`` to optimise (everything applies); ``"fast"`` or
                ``"adain"`` for one pass of a trained network: every setting of
                :data:`OPTIMISATION_NAMES` is disabled (its value kept), and the
                style scale too for a fast network (its style is fixed).
        """
        self.one_pass = kind
        off = kind is not None
        for name in OPTIMISATION_NAMES:
            widget = getattr(self, name)
            for w in (widget.values() if isinstance(widget, dict) else [widget]):
                w.disabled = off
        self.style_scale.disabled = kind == "fast"
        # What is off for its own reasons stays off: an unticked term's slider, L-BFGS's rate.
        for name, use_name, _ in _TERMS:
            getattr(self, name).disabled = off or not getattr(self, use_name).value
        self.show_lr_controls()
        note = _ONE_PASS_NOTE.get(kind, "A trained network makes one pass: only the size and the device apply.")
        self.one_pass_note.value = (f"<div style='font-size:12px;color:#8a6d00;max-width:400px;margin-bottom:4px'>"
                                    f"{html.escape(note)}</div>") if off else ""
        self.one_pass_note.layout.display = "" if off else "none"

    def _on_optimizer(self, change) -> None:
        """A new optimizer: its default learning rate (where it has a fixed one), then its controls."""
        if DEFAULT_LR[self.optimizer.value] is not None:
            self.lr.value = DEFAULT_LR[self.optimizer.value]
        self.show_lr_controls()

    def show_lr_controls(self) -> None:
        """Enable, show and explain the rate controls that apply to the current optimizer."""
        opt = self.optimizer.value
        default = DEFAULT_LR[opt]
        # GD and SGD may set their rate from the first gradient (styletut.optim.auto_lr).
        self.lr_auto.layout.display = "" if default is None else "none"
        auto = default is None and self.lr_auto.value
        # L-BFGS's line search chooses the step length itself; a network has no rate at all.
        self.lr.disabled = self.one_pass is not None or opt == "lbfgs" or auto
        # Only SGD draws random crops (the ξ of its stochastic gradient).
        self.crop_frac.layout.display = "" if opt == "sgd" else "none"
        if opt == "lbfgs":
            note = "L-BFGS-B: its line search sets the step"
        elif auto:
            note = f"{opt}: the first step moves pixels by {AUTO_LR_STEP:g} rms"
        else:
            note = f"default for {opt}: {default:g}" if default is not None else f"{opt}: fixed rate"
        self.lr_note.value = f"<span style='font-size:12px;color:#555'>{note}</span>"

    def _on_style_norm(self, change) -> None:
        """A new normalisation: the style slider moves to its span and default β."""
        lo, hi, beta = style_weight_range(self.style_norm.value)
        _set_log_slider(self.style_weight, lo, hi, beta)

    # ----------------------------------------------------------------- values

    def values(self) -> dict:
        """The current values (see :mod:`styletut.widgets.mapping`), ``styles`` counted from the pickers."""
        out = {name: getattr(self, name).value for name in _SCALARS}
        for name in _GRIDS:
            out[name] = {layer: w.value for layer, w in getattr(self, name).items()}
        out["styles"] = 2 if self.second.active else 1
        return out

    def set_values(self, values: dict) -> None:
        """Show ``values``; a ``None`` (``size``, ``lr``) leaves that widget as it is.

        Sliders widen their span to show a value outside it (an option set in
        code) instead of clamping it, and a mask file becomes a choice of the
        region menu. ``styles=1`` sets the second style to none; ``styles=2``
        keeps the second style picked (which image is not a value).

        Raises:
            ValueError: ``styles=2`` while no second style is picked (nothing
                is changed then).
        """
        if values["styles"] == 2 and not self.second.active:
            raise ValueError("these options are for two style images, but no second style is picked: pick one "
                             "in the Controls tab, or pass style2=... to panel() or apply_options()")
        if values["styles"] == 1:
            self.style2.value = NO_STYLE
        # The optimizer and the norm first: their reactions reset the rate and
        # the style weight, which are then set to the values asked for.
        self.optimizer.value = values["optimizer"]
        self.style_norm.value = values["style_norm"]
        self.lr_auto.value = values["lr_auto"]
        for name in ("size", "steps", "seed"):  # an option set in code may lie past the usual span
            if values[name] is not None:
                slider = getattr(self, name)
                slider.max = max(slider.max, values[name])
                slider.value = values[name]
        norm = values["style_norm"]
        for name in ("lr", "content_weight", "style_weight", "tv_weight"):
            if values[name] is not None:
                _set_log_slider(getattr(self, name), *log_slider_range(name, norm, values[name]), values[name])
        if values["device"] not in self.device.options:  # e.g. "cuda:1"
            self.device.options = [*self.device.options, values["device"]]
        _set_log_slider(self.style_scale, *style_scale_range(values["style_scale"]), values["style_scale"])
        if values["region"] not in [v for _, v in self.region.options]:  # a mask file given in code
            self.region.options = [*self.region.options, (f"file: {values['region']}", values["region"])]
        for name in ("levels", "crop_frac", "init", "device", "weights", "pooling", "use_content", "use_style",
                     "use_tv", "preserve_colour", "style_stats", "blend", "region"):
            getattr(self, name).value = values[name]
        for name in _GRIDS:
            for layer, w in getattr(self, name).items():
                value = values[name][layer]
                if name == "style_layer_weights":
                    w.max = max(w.max, value)
                w.value = value
        self.show_lr_controls()
        self.show_style_controls()


def _set_log_slider(slider: W.FloatLogSlider, lo: int, hi: int, value: float) -> None:
    """Give a log slider the span ``10**lo .. 10**hi`` and a value, never passing through min > max."""
    slider.min, slider.max = min(lo, slider.min), max(hi, slider.max)  # widen first
    slider.min, slider.max = lo, hi
    slider.value = value
