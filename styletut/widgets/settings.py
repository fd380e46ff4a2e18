"""The panel's settings tabs (Run, Loss weights, Layers) and their values.

:class:`Settings` builds the widgets and reads or writes them as a *values*
dict; turning values into options and back is :mod:`.mapping`'s job.
"""

from __future__ import annotations

import ipywidgets as W
import torch

from ..features import POOLINGS, WEIGHTS
from ..losses import STYLE_NORMS
from ..optim import AUTO_LR_STEP, DEFAULT_LR, OPTIMIZERS
from ..options import INITS, MIN_LEVEL_SIZE, MULTISCALE_FROM
from ..runtime import DEVICES
from .mapping import log_slider_range, start_value, style_weight_range

__all__ = ["Settings", "VALUE_NAMES"]

# The settings widgets, named as the keys of a values dict (and as StylePanel's attributes).
_SCALARS = ("size", "steps", "levels", "optimizer", "lr", "lr_auto", "crop_frac", "init", "seed", "device",
            "weights", "pooling", "style_norm", "use_content", "content_weight", "use_style", "style_weight", "use_tv",
            "tv_weight")
_GRIDS = ("content_layers", "style_layers", "style_layer_weights")
VALUE_NAMES = _SCALARS + _GRIDS
_TERMS = (("content_weight", "use_content", "content α"), ("style_weight", "use_style", "style β"),
          ("tv_weight", "use_tv", "TV γ"))
_NOTE = "<div style='font-size:12px;color:#555;max-width:400px;line-height:1.4'>{}</div>"


def _devices() -> list[str]:
    # "cuda" only where there is one: picking it elsewhere could only fail.
    return [d for d in DEVICES if d != "cuda" or torch.cuda.is_available()]


class Settings:
    """The settings widgets, in three tabs (:attr:`tab`).

    Args:
        layers: the rows of the layer grid, in network order.
        style_norm: the style normalisation to start from (sets the style slider's span).
    """

    def __init__(self, layers: tuple[str, ...], style_norm: str):
        self.layers = tuple(layers)
        self.tab = W.Tab(children=[self._run_tab(), self._weights_tab(style_norm), self._layers_tab()],
                         layout=W.Layout(width="440px", margin="0 0 8px 0"))
        for i, title in enumerate(("Run", "Loss weights", "Layers")):
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
        return W.VBox([self.size, self.steps, self.levels, self.optimizer, self.lr, self.lr_auto, self.lr_note,
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
            use.observe(lambda ch, s=slider: setattr(s, "disabled", not ch["new"]), "value")
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

    # ----------------------------------------------------------------- reactions

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
        # L-BFGS's line search chooses the step length itself.
        self.lr.disabled = opt == "lbfgs" or auto
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
        """The current values (see :mod:`styletut.widgets.mapping`)."""
        out = {name: getattr(self, name).value for name in _SCALARS}
        for name in _GRIDS:
            out[name] = {layer: w.value for layer, w in getattr(self, name).items()}
        return out

    def set_values(self, values: dict) -> None:
        """Show ``values``; a ``None`` (``size``, ``lr``) leaves that widget as it is.

        Sliders widen their span to show a value outside it (an option set in
        code) instead of clamping it.
        """
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
        for name in ("levels", "crop_frac", "init", "device", "weights", "pooling", "use_content", "use_style",
                     "use_tv"):
            getattr(self, name).value = values[name]
        for name in _GRIDS:
            for layer, w in getattr(self, name).items():
                value = values[name][layer]
                if name == "style_layer_weights":
                    w.max = max(w.max, value)
                w.value = value
        self.show_lr_controls()


def _set_log_slider(slider: W.FloatLogSlider, lo: int, hi: int, value: float) -> None:
    """Give a log slider the span ``10**lo .. 10**hi`` and a value, never passing through min > max."""
    slider.min, slider.max = min(lo, slider.min), max(hi, slider.max)  # widen first
    slider.min, slider.max = lo, hi
    slider.value = value
