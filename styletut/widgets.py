"""A control panel for style transfer: pick the images, turn every knob, watch it run.

``panel()`` builds an ipywidgets panel around :func:`styletut.transfer.stylize`:

- **Images**: the content is a sample photo or an uploaded file; the style is
  a procedural painting (with its own sliders, palette and seed), a sample
  photo or an uploaded file. Thumbnails show what was picked.
- **Settings**: image size, steps, optimizer and learning rate, initialisation,
  seed, device; content / style / TV weights on log sliders; which VGG19
  layers feed the content and style losses, with a relative weight per style
  layer.
- **Run / Stop**: the optimisation runs in a background thread, so the panel
  stays live; Stop ends the run after the current step and keeps the best
  image. A progress bar, a preview of the image and a plot of each loss
  component update while it runs.
- **Reproduce and keep**: the exact ``stylize(...)`` call of each result is
  shown for copying into code, the result can be saved (atomically, never
  over an input), and the last few results stay side by side to compare.

From Python (and in tests) the panel is an object with its widgets as
attributes::

    from styletut.widgets import panel
    p = panel(size=64, steps=10)
    p                                  # shows it in a notebook
    p.optimizer.value = "adam"
    result = p.run()                   # = clicking Run, then waiting
    print(result.call)                 # stylize(sample('chelsea'), procedural('swirls', 64, seed=0), ...)

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import dataclasses
import html
import io
import math
import threading
import time
from dataclasses import dataclass
from pathlib import Path

import ipywidgets as W
import numpy as np
import torch
from PIL import Image

from . import course, images, styles
from .features import list_layers
from .optim import DEFAULT_LR, OPTIMIZERS, StepInfo, StopFlag
from .losses import STYLE_NORMS
from .transfer import DEFAULT_STYLE_WEIGHT, INITS, Result, StylizeOptions, stylize

__all__ = ["panel", "StylePanel", "PanelResult", "LAYER_CHOICES"]

# The layers people actually use for style transfer: the first two ReLUs of
# each block (Gatys et al. 2016 take relu*_1 for style and relu4_2 for
# content). Deeper ReLUs in a block add little and would make the grid long;
# panel(style_layers=[...]) with any other layer adds a row for it.
LAYER_CHOICES: tuple[str, ...] = tuple(l for l in list_layers(kind="relu") if l.endswith(("_1", "_2")))

_THUMB_PX = 112          # thumbnails are rendered at this size
_PREVIEW_PX = 224        # the live preview and the loss plot are this tall
_PREVIEW_EVERY_S = 0.4   # at most this often a new preview PNG ...
_PLOT_EVERY_S = 1.0      # ... and a new loss plot (matplotlib costs ~50 ms)
_COMPARE = 4             # results kept side by side
_UPLOAD = "upload"
# Options the panel has no control for: kept as given to panel(...) and passed on.
_PASSED_THROUGH = ("style_size", "weights", "pooling")

# Sliders span what is useful at the loss scale of the Caffe VGG19: the content
# loss starts around 1e4-1e6 (a mean of squared 0..255-scale activations), the
# TV loss of a photo around 1e-2. The style weight's range is centred on the
# default of the chosen style normalisation (three decades either way).
_WEIGHT_RANGES = {            # (min exponent, max exponent, value when switched on)
    "content_weight": (-3, 3, 1.0),
    "tv_weight": (2, 9, 1e6),
}


def _style_weight_range(norm: str) -> tuple[float, float, float]:
    beta = DEFAULT_STYLE_WEIGHT[norm]
    e = round(math.log10(beta))
    return e - 3, e + 3, beta


# --------------------------------------------------------------------------- small helpers


def _png(img) -> bytes:
    """PNG bytes of a ``(1, 3, H, W)`` tensor, ``(H, W, 3)`` array or PIL image."""
    pil = img if isinstance(img, Image.Image) else images.to_pil(images.load_image(img))
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def _placeholder_png() -> bytes:
    """A light grey square shown where there is no image yet."""
    return _png(Image.new("RGB", (_THUMB_PX, _THUMB_PX), (235, 235, 235)))


def _round_sig(x: float, digits: int = 4) -> float:
    """Round to a few significant digits, so echoed calls read ``5.0``, not ``4.999999999``."""
    return float(f"{x:.{digits}g}")


def _upload_entry(value):
    """The one file in a ``FileUpload`` value (ipywidgets 8: a tuple of dicts), or ``None``."""
    return value[-1] if value else None


def _decode_upload(name: str, data: bytes) -> torch.Tensor:
    """Decode an uploaded file like :func:`styletut.images.load_image` does a path.

    Raises:
        ValueError: naming the file and why it cannot be used.
    """
    if not data:
        raise ValueError(f"cannot read uploaded file '{name}': it is empty")
    return images.load_image(images._decode(io.BytesIO(data), f"uploaded file '{name}'", "upload it again"))


def _loss_plot_png(losses: dict[str, list[float]], num_steps: int) -> bytes:
    """Each loss component against the step, log scale, as PNG bytes.

    Uses matplotlib's object API with the Agg canvas (no pyplot): it is safe
    to call from the run's thread and leaves the notebook's figures alone.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    fig = Figure(figsize=(4.2, _PREVIEW_PX / 80), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    if not losses:  # before the first run: say what will appear, not an empty log axis
        ax.set_axis_off()
        ax.text(0.5, 0.5, "the loss of each term\nappears here during a run", ha="center", va="center",
                fontsize=10, color="#777", transform=ax.transAxes)
        return _fig_png(fig)
    colours = {"total": "black", "content": "tab:blue", "style": "tab:orange", "tv": "tab:green"}
    for name, values in losses.items():
        steps = np.arange(1, len(values) + 1)
        vals = np.asarray(values, dtype=float)
        ok = np.isfinite(vals) & (vals > 0)  # log axis: leave out zeros (a term at its optimum)
        if ok.any():
            ax.plot(steps[ok], vals[ok], label=name, color=colours.get(name),
                    lw=2 if name == "total" else 1.3)
    ax.set_yscale("log")
    ax.set_xlim(1, max(num_steps, 2))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    ax.set_xlabel("step", fontsize=9)
    ax.set_ylabel("weighted loss", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, which="major", alpha=0.3)
    if losses:
        ax.legend(fontsize=8, loc="best", framealpha=0.8)
    fig.tight_layout(pad=0.4)
    return _fig_png(fig)


def _fig_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


# --------------------------------------------------------------------------- results


@dataclass
class PanelResult:
    """One finished (or stopped) run of the panel.

    Attributes:
        number: 1 for the panel's first run, 2 for the next, ...
        image: the stylised image ``(1, 3, H, W)`` (the best one seen).
        options: the :class:`~styletut.transfer.StylizeOptions` of the run, as
            echoed in :attr:`call` (the panel itself also passes ``progress=False``).
        call: the ``stylize(...)`` expression that reproduces the run.
        code: :attr:`call` with the imports it needs, ready to paste in a cell.
        result: what :func:`~styletut.transfer.stylize` returned (history, timings, inputs).
        stopped: the Stop button ended the run early.
        upload_names: names of uploaded files the call reads with ``load_image``.
    """

    number: int
    image: torch.Tensor
    options: StylizeOptions
    call: str
    code: str
    result: Result
    stopped: bool
    upload_names: tuple[str, ...] = ()

    @property
    def steps_done(self) -> int:
        return self.result.history.steps_done

    @property
    def final_loss(self) -> float:
        return self.result.history.best_loss

    def summary(self) -> str:
        """A one-line description of the run's settings and outcome."""
        o = self.options
        weights = f"α={o.content_weight:g} β={o.beta:g}" + (f" γ={o.tv_weight:g}" if o.tv_weight else "")
        end = "stopped" if self.stopped else "done"
        return (f"#{self.number} {o.optimizer} · {o.size} px · {self.steps_done}/{o.num_steps} steps ({end}) · "
                f"{weights} · loss {self.final_loss:.3g} · {self.result.timings['optimize_s']:.1f} s")


# --------------------------------------------------------------------------- image pickers


class _ImageSource:
    """The widgets that choose one image: a sample photo, a procedural style or an upload.

    One instance picks the content, another the style. It knows how to build
    the tensor for a run and the Python expression that builds the same tensor
    in the echoed ``stylize(...)`` call.
    """

    def __init__(self, role: str, kinds: tuple[str, ...], kind: str, name: str | None,
                 on_error, seed: int = 0, params: dict | None = None):
        self.role = role
        self._on_error = on_error  # shows a message in the panel
        self._upload_tensor: torch.Tensor | None = None
        self._upload_error: str | None = None
        self._thumb_cache: dict[str, bytes] = {}

        labels = {"sample": "photo", "procedural": "painting", _UPLOAD: "upload"}
        self.kind = W.ToggleButtons(options=[(labels[k], k) for k in kinds], value=kind,
                                    style={"button_width": "74px"})
        self.kind.add_class(f"styletut-{role}-kind")
        self.sample = W.Dropdown(options=images.list_samples(), description="photo",
                                 layout=W.Layout(width="230px"), style={"description_width": "60px"})
        self.procedural = W.Dropdown(options=styles.list_procedural(), description="painting",
                                     layout=W.Layout(width="230px"), style={"description_width": "60px"})
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                     layout=W.Layout(width="160px"), style={"description_width": "60px"})
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="Upload image",
                                   layout=W.Layout(width="230px"))
        self.upload.add_class(f"styletut-{role}-upload")
        self.params: dict[str, W.ValueWidget] = {}
        self._params_box = W.VBox()
        self.thumb = W.Image(value=_placeholder_png(), format="png",
                             layout=W.Layout(width=f"{_THUMB_PX}px", height=f"{_THUMB_PX}px",
                                             object_fit="contain", border="1px solid #ddd"))
        self.thumb.add_class(f"styletut-{role}-thumb")
        self.caption = W.HTML(layout=W.Layout(width=f"{_THUMB_PX + 8}px"))

        if name is not None:
            (self.procedural if kind == "procedural" else self.sample).value = name
        self._build_params(params or {})

        self._sample_box = W.VBox([self.sample])
        self._procedural_box = W.VBox([self.procedural, self.seed, self._params_box])
        self._upload_box = W.VBox([self.upload])
        controls = W.VBox([self.kind, self._sample_box, self._procedural_box, self._upload_box])
        self.box = W.VBox(
            [W.HTML(f"<b>{role.capitalize()}</b>"), W.HBox([W.VBox([self.thumb, self.caption]), controls],
                                                          layout=W.Layout(grid_gap="10px"))],
            layout=W.Layout(border="1px solid #e0e0e0", padding="6px 10px", margin="0 8px 8px 0"))
        self.box.add_class(f"styletut-{role}")

        self.kind.observe(self._refresh, "value")
        self.sample.observe(self._refresh, "value")
        self.procedural.observe(self._on_procedural, "value")
        self.seed.observe(self._refresh, "value")
        self.upload.observe(self._on_upload, "value")
        self._refresh()

    # -- procedural parameters

    def _build_params(self, values: dict) -> None:
        """Sliders (and a palette menu) for the chosen procedural style's parameters."""
        for w in self.params.values():
            w.close()  # free the old widgets' comms
        name = self.procedural.value
        defaults = styles.procedural_params(name)
        ranges = styles.procedural_param_ranges(name)
        unknown = sorted(set(values) - set(defaults))
        if unknown:
            raise TypeError(f"unknown parameter(s) {unknown} for procedural style '{name}'; "
                            f"valid: {', '.join(defaults)}")
        common = dict(layout=W.Layout(width="230px"), style={"description_width": "90px"})
        self.params = {}
        for key, default in defaults.items():
            value = values.get(key, default)
            label = key.replace("_", " ")
            if isinstance(ranges[key], list):  # the palette
                w = W.Dropdown(options=ranges[key], value=value, description=label, **common)
            elif isinstance(default, int):
                lo, hi = ranges[key]
                w = W.IntSlider(value=value, min=lo, max=hi, description=label, continuous_update=False, **common)
            else:
                lo, hi = ranges[key]
                # A step of about 1/100 of the range, rounded to a power of ten.
                step = 10 ** math.floor(math.log10((hi - lo) / 100))
                w = W.FloatSlider(value=value, min=lo, max=hi, step=step, description=label,
                                  continuous_update=False, **common)
            w.observe(self._refresh, "value")
            self.params[key] = w
        self._params_box.children = list(self.params.values())

    def _on_procedural(self, change) -> None:
        self._build_params({})
        self._refresh()

    def _param_values(self) -> dict:
        out = {}
        for key, w in self.params.items():
            v = w.value
            if isinstance(v, float):
                v = round(v, 6)  # slider steps leave float noise (0.30000000000000004)
            out[key] = v
        return out

    def _changed_params(self) -> dict:
        defaults = styles.procedural_params(self.procedural.value)
        return {k: v for k, v in self._param_values().items() if v != defaults[k]}

    # -- uploads

    def _on_upload(self, change) -> None:
        self._upload_tensor, self._upload_error = None, None
        entry = _upload_entry(self.upload.value)
        if entry is not None:
            try:
                self._upload_tensor = _decode_upload(entry["name"], bytes(entry["content"]))
            except ValueError as err:
                self._upload_error = str(err)
                self._on_error(str(err))
            if self.kind.value != _UPLOAD:
                self.kind.value = _UPLOAD  # uploading a file means "use it" (this refreshes)
                return
        self._refresh()

    @property
    def upload_name(self) -> str | None:
        entry = _upload_entry(self.upload.value)
        return entry["name"] if entry is not None else None

    # -- what the run uses

    def tensor(self, size: int) -> torch.Tensor:
        """The image for a run whose longest side is ``size``.

        Raises:
            ValueError: nothing uploaded yet, or the upload is not a readable image.
        """
        kind = self.kind.value
        if kind == "sample":
            return images.sample(self.sample.value)
        if kind == "procedural":
            return images.procedural(self.procedural.value, size, seed=self.seed.value, **self._param_values())
        if self._upload_error:
            raise ValueError(self._upload_error)
        if self._upload_tensor is None:
            raise ValueError(f"no {self.role} image uploaded yet: click 'Upload image' in the {self.role} box "
                             "or pick a sample")
        return self._upload_tensor

    def expression(self, size: int) -> str:
        """Python source that builds the same image as :meth:`tensor`."""
        kind = self.kind.value
        if kind == "sample":
            return f"sample({self.sample.value!r})"
        if kind == "procedural":
            extra = "".join(f", {k}={v!r}" for k, v in self._changed_params().items())
            return f"procedural({self.procedural.value!r}, {size}, seed={self.seed.value}{extra})"
        return f"load_image({self.upload_name!r})"

    # -- thumbnail

    def _refresh(self, change=None) -> None:
        """Show the controls of the chosen kind and a thumbnail of the chosen image."""
        kind = self.kind.value
        self._sample_box.layout.display = "" if kind == "sample" else "none"
        self._procedural_box.layout.display = "" if kind == "procedural" else "none"
        self._upload_box.layout.display = "" if kind == _UPLOAD else "none"
        try:
            self.thumb.value, caption = self._thumbnail()
        except (ValueError, TypeError) as err:  # e.g. a parameter out of range
            self.thumb.value, caption = _placeholder_png(), "?"
            self._on_error(str(err))
        self.caption.value = (f"<div style='font-size:11px;color:#555;text-align:center;word-break:break-all'>"
                              f"{html.escape(caption)}</div>")

    def _thumbnail(self) -> tuple[bytes, str]:
        kind = self.kind.value
        if kind == _UPLOAD:
            t = self._upload_tensor
            if t is None:
                return _placeholder_png(), "unreadable file" if self._upload_error else "no file yet"
            return _png(images.resize(t, _THUMB_PX)), f"{self.upload_name} ({t.shape[-1]}×{t.shape[-2]})"
        key = self.expression(_THUMB_PX)
        if key not in self._thumb_cache:  # samples and styles are picked again and again
            img = self.tensor(_THUMB_PX)
            self._thumb_cache[key] = _png(images.resize(img, _THUMB_PX))
        return self._thumb_cache[key], self.sample.value if kind == "sample" else self.procedural.value


# --------------------------------------------------------------------------- the panel


class StylePanel:
    """An interactive style-transfer panel; build it with :func:`panel`.

    Every control is a plain ipywidget: set its ``.value`` or ``.click()`` it.

    Attributes:
        content: the content image picker, with ``.kind`` (``"sample"`` or
            ``"upload"``), ``.sample``, ``.upload`` (a ``FileUpload``) and ``.thumb``.
        style: the style image picker, as ``content`` plus ``.procedural``,
            ``.seed`` and ``.params`` (a dict of the style's sliders).
        size: longest side of the result in pixels.
        steps: the optimisation budget.
        optimizer: ``gd``, ``sgd``, ``adam`` or ``lbfgs``.
        lr: learning rate (a log slider; disabled for L-BFGS).
        crop_frac: the crop size of SGD's random crops (shown for SGD only).
        init: start from the content image, noise or the style image.
        seed: random seed of the run.
        device: ``auto``, ``cpu`` or ``cuda``.
        content_weight: log slider, switched on and off by ``use_content``.
        style_weight: log slider, switched on and off by ``use_style``.
        tv_weight: log slider, switched on and off by ``use_tv``.
        content_layers: ``{layer: Checkbox}`` for the content loss.
        style_layers: ``{layer: Checkbox}`` for the style loss.
        style_layer_weights: ``{layer: BoundedFloatText}``, relative weights.
        run_button: starts a run in the background (see :meth:`start`).
        stop_button: ends the run after the current step, keeping the best image.
        progress: an ``IntProgress`` bar of the steps.
        status: one line on the run (steps, time, best loss).
        preview: the live image.
        plot: the live loss plot, one curve per component.
        echo: the ``stylize(...)`` call that reproduces the last result.
        save_path: where Save writes.
        save_button: saves the last result atomically, never over an input.
        message_box: errors and notices (the text is in :attr:`message`).
        widget: the whole panel (a ``VBox``); a notebook shows the panel when
            the ``StylePanel`` is the last expression of a cell.
        results: the finished runs (:class:`PanelResult`), oldest first.
    """

    def __init__(self, content: str = "chelsea", style: str = "swirls", *, style_seed: int = 0,
                 style_params: dict | None = None, compare: int = _COMPARE, **options):
        defaults = {"size": course.pick(full=192, quick=64), "num_steps": course.pick(full=60, quick=6)}
        opts = StylizeOptions.from_kwargs(**{**defaults, **options})  # validates, names bad options
        if opts.size is None:
            opts.size = defaults["size"]
        self.results: list[PanelResult] = []
        self._compare = max(int(compare), 1)
        self._stop = StopFlag()
        self._thread: threading.Thread | None = None
        self._last_job_result: PanelResult | None = None
        self._message = ""
        self._protected: set[Path] = set()  # uploaded file names: never saved over

        self.message_box = W.HTML(layout=W.Layout(min_height="22px"))
        self.message_box.add_class("styletut-message")
        self.content = _ImageSource("content", ("sample", _UPLOAD), "sample", _sample_name(content, "content"),
                                    self._show_error)
        style_kind = "sample" if style in images.list_samples() else "procedural"
        if style_kind == "procedural" and style not in styles.list_procedural():
            raise ValueError(f"unknown style {style!r}; choose a procedural style "
                             f"({', '.join(styles.list_procedural())}) or a sample ({', '.join(images.list_samples())})")
        self.style = _ImageSource("style", ("procedural", "sample", _UPLOAD), style_kind, style, self._show_error,
                                  seed=style_seed, params=style_params)
        self._build_settings(opts)
        self._build_output()
        self.widget = self._layout()
        self.apply_options(opts)

    # ----------------------------------------------------------------- building

    def _build_settings(self, opts: StylizeOptions) -> None:
        label = {"description_width": "110px"}
        def wide():  # each widget needs its own Layout (a shared one is one model)
            return W.Layout(width="360px")

        self.size = W.IntSlider(value=64, min=16, max=512, step=8, description="image size (px)",
                                continuous_update=False, style=label, layout=wide())
        self.steps = W.IntSlider(value=10, min=1, max=1000, description="steps",
                                 continuous_update=False, style=label, layout=wide())
        self.optimizer = W.ToggleButtons(options=list(OPTIMIZERS), description="optimizer",
                                         style={**label, "button_width": "60px"})
        self.optimizer.add_class("styletut-optimizer")
        self.lr = W.FloatLogSlider(value=DEFAULT_LR["lbfgs"], base=10, min=-8, max=1, step=0.1,
                                   description="learning rate", readout_format=".1e",
                                   continuous_update=False, style=label, layout=wide())
        self.lr_auto = W.Checkbox(value=True, description="automatic: 0.01 / rms(∇J) from the first gradient",
                                  indent=False, layout=W.Layout(margin="0 0 0 115px", width="360px"))
        self.lr_auto.observe(lambda ch: self._show_lr_controls(), "value")
        self.lr_note = W.HTML(layout=W.Layout(margin="-4px 0 4px 115px"))
        self.crop_frac = W.FloatSlider(value=0.5, min=0.1, max=1.0, step=0.05, description="SGD crop side",
                                       continuous_update=False, style=label, layout=wide())
        self.init = W.Dropdown(options=list(INITS), description="start from", style=label,
                               layout=W.Layout(width="260px"))
        self.seed = W.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed", style=label,
                                     layout=W.Layout(width="220px"))
        devices = ["auto", "cpu"] + (["cuda"] if torch.cuda.is_available() else [])
        self.device = W.Dropdown(options=devices, description="device", style=label,
                                 layout=W.Layout(width="220px"))
        self.optimizer.observe(self._on_optimizer, "value")
        run_tab = W.VBox([self.size, self.steps, self.optimizer, self.lr, self.lr_auto, self.lr_note, self.crop_frac,
                          self.init, self.seed, self.device])

        # Each loss weight: a switch (a log slider cannot reach 0) and a log slider.
        rows = []
        self.style_norm = W.Dropdown(options=list(STYLE_NORMS), value=opts.style_norm, description="style norm",
                                     layout=W.Layout(width="260px"))
        self.style_norm.observe(self._on_style_norm, "value")
        for name, title in (("content_weight", "content α"), ("style_weight", "style β"), ("tv_weight", "TV γ")):
            lo, hi, on = _style_weight_range(opts.style_norm) if name == "style_weight" else _WEIGHT_RANGES[name]
            slider = W.FloatLogSlider(value=on, base=10, min=lo, max=hi, step=0.1, readout_format=".2g",
                                      continuous_update=False, layout=W.Layout(width="280px"))
            use = W.Checkbox(value=True, description=title, indent=False, layout=W.Layout(width="90px"))
            use.observe(lambda ch, s=slider: setattr(s, "disabled", not ch["new"]), "value")
            setattr(self, name, slider)
            setattr(self, "use_" + name.split("_")[0], use)
            rows.append(W.HBox([use, slider]))
        weights_tab = W.VBox(rows + [self.style_norm, W.HTML(
            "<div style='font-size:12px;color:#555;max-width:400px;line-height:1.4'>J(x) = α·content + β·style + γ·TV. "
            "Untick a term to leave it out (α off: texture synthesis). The content loss starts around 1e4-1e6 "
            "with the Caffe VGG19, TV around 1e-2, hence its large weights. Style norm 'relative' divides each "
            "layer's Gram error by the style's own Gram norm, so one β means about the same for every style; "
            "'tutorial' and 'gatys' depend on the style image's scale (lesson 04).</div>")])

        # Layer grid: one row per layer, content and style ticks and a style weight.
        wanted = set(opts.content_layers) | set(opts.style_layers)
        self._layers = [l for l in list_layers() if l in LAYER_CHOICES or l in wanted]
        cells = [W.HTML(f"<b>{h}</b>") for h in ("layer", "content", "style", "weight")]
        self.content_layers, self.style_layers, self.style_layer_weights = {}, {}, {}
        for layer in self._layers:
            c = W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto"))
            s = W.Checkbox(value=False, indent=False, layout=W.Layout(width="auto"))
            w = W.BoundedFloatText(value=1.0, min=0.0, max=100.0, step=0.5, layout=W.Layout(width="70px"))
            c.add_class(f"styletut-content-{layer}")
            s.add_class(f"styletut-style-{layer}")
            self.content_layers[layer], self.style_layers[layer], self.style_layer_weights[layer] = c, s, w
            cells += [W.HTML(f"<code>{layer}</code>"), c, s, w]
        grid = W.GridBox(cells, layout=W.Layout(grid_template_columns="80px 64px 50px 80px",
                                                 grid_gap="0px 6px", align_items="center"))
        layers_tab = W.VBox([grid, W.HTML(
            "<div style='font-size:12px;color:#555;max-width:400px;line-height:1.4'>Style weights are relative: the "
            "ticked layers' weights are scaled to sum to 1. Deeper layers cost more time.</div>")])

        self.settings = W.Tab(children=[run_tab, weights_tab, layers_tab],
                              layout=W.Layout(width="440px", margin="0 0 8px 0"))
        for i, title in enumerate(("Run", "Loss weights", "Layers")):
            self.settings.set_title(i, title)
        self.settings.add_class("styletut-settings")

    def _build_output(self) -> None:
        self.run_button = W.Button(description="Run", button_style="primary", icon="play",
                                   layout=W.Layout(width="100px"))
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop",
                                    disabled=True, layout=W.Layout(width="100px"))
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="220px"))
        self.status = W.HTML("ready", layout=W.Layout(width="400px"))
        self.preview = W.Image(value=_placeholder_png(), format="png",
                               layout=W.Layout(width=f"{_PREVIEW_PX}px", height=f"{_PREVIEW_PX}px",
                                               object_fit="contain", border="1px solid #ddd"))
        self.plot = W.Image(value=_loss_plot_png({}, 1), format="png",
                            layout=W.Layout(height=f"{_PREVIEW_PX}px", border="1px solid #ddd"))
        self.echo = W.HTML()
        self.save_path = W.Text(value="stylized.png", description="save as", style={"description_width": "60px"},
                                layout=W.Layout(width="360px"))
        self.save_button = W.Button(description="Save", icon="save", layout=W.Layout(width="90px"))
        self._compare_cards = [_CompareCard(self) for _ in range(self._compare)]

        for w, cls in ((self.run_button, "run"), (self.stop_button, "stop"), (self.progress, "progress"),
                       (self.status, "status"), (self.preview, "preview"), (self.plot, "plot"),
                       (self.echo, "echo"), (self.save_path, "save-path"), (self.save_button, "save")):
            w.add_class(f"styletut-{cls}")
        self.run_button.on_click(lambda _: self.start())
        self.stop_button.on_click(lambda _: self.stop())
        self.save_button.on_click(lambda _: self.save())

    def _layout(self) -> W.VBox:
        title = W.HTML("<h3 style='margin:0 0 6px 0'>Style transfer control panel</h3>"
                       "<div style='font-size:12px;color:#555;margin-bottom:6px'>Pick a content and a style "
                       "image, adjust the settings, press Run. Stop keeps the best image so far.</div>")
        pickers = W.VBox([self.content.box, self.style.box])
        top = W.HBox([pickers, self.settings], layout=W.Layout(flex_flow="row wrap", align_items="flex-start"))
        controls = W.HBox([self.run_button, self.stop_button, self.progress, self.status],
                          layout=W.Layout(align_items="center", grid_gap="8px"))
        outputs = W.HBox([self._labelled("Result (best so far)", self.preview),
                          self._labelled("Losses", self.plot)],
                         layout=W.Layout(flex_flow="row wrap", grid_gap="12px"))
        save_row = W.HBox([self.save_path, self.save_button], layout=W.Layout(grid_gap="6px"))
        self._compare_title = W.HTML("<b>Compare</b> <span style='font-size:12px;color:#555'>"
                                     f"(the last {self._compare} results)</span>")
        compare = W.HBox([c.box for c in self._compare_cards], layout=W.Layout(flex_flow="row wrap"))
        box = W.VBox([title, top, controls, self.message_box, outputs, self.echo, save_row,
                      self._compare_title, compare], layout=W.Layout(padding="4px"))
        box.add_class("styletut-panel")
        return box

    @staticmethod
    def _labelled(text: str, widget: W.Widget) -> W.VBox:
        return W.VBox([W.HTML(f"<b>{text}</b>"), widget])

    # ----------------------------------------------------------------- settings <-> options

    def _on_optimizer(self, change) -> None:
        """A new optimizer: its default learning rate (where it has a fixed one), then its controls."""
        if DEFAULT_LR[self.optimizer.value] is not None:
            self.lr.value = DEFAULT_LR[self.optimizer.value]
        self._show_lr_controls()

    def _show_lr_controls(self) -> None:
        """Enable, show and explain the rate controls that apply to the current optimizer."""
        opt = self.optimizer.value
        # GD and SGD may set their rate from the first gradient (styletut.optim.auto_lr).
        self.lr_auto.layout.display = "" if DEFAULT_LR[opt] is None else "none"
        auto = DEFAULT_LR[opt] is None and self.lr_auto.value
        # L-BFGS's line search chooses the step length itself.
        self.lr.disabled = opt == "lbfgs" or auto
        # Only SGD draws random crops (the ξ of its stochastic gradient).
        self.crop_frac.layout.display = "" if opt == "sgd" else "none"
        if opt == "lbfgs":
            note = "L-BFGS-B: its line search sets the step"
        elif auto:
            note = f"{opt}: the first step moves pixels by 0.01 rms"
        else:
            note = f"default for {opt}: {DEFAULT_LR[opt]:g}" if DEFAULT_LR[opt] is not None else f"{opt}: fixed rate"
        self.lr_note.value = f"<span style='font-size:12px;color:#555'>{note}</span>"

    def _on_style_norm(self, change) -> None:
        lo, hi, beta = _style_weight_range(self.style_norm.value)
        slider = self.style_weight
        slider.min, slider.max = min(lo, slider.min), max(hi, slider.max)  # widen first: min < max always
        slider.min, slider.max, slider.value = lo, hi, beta

    def apply_options(self, opts: StylizeOptions) -> None:
        """Set the widgets from a :class:`~styletut.transfer.StylizeOptions` (e.g. an earlier result's)."""
        self.size.value = int(opts.size or self.size.value)
        self.steps.max = max(self.steps.max, opts.num_steps)
        self.steps.value = max(opts.num_steps, 1)
        self.optimizer.value = opts.optimizer
        self.lr_auto.value = opts.lr is None
        self._on_optimizer(None)
        if opts.lr is not None:
            self.lr.value = opts.lr
        self.style_norm.value = opts.style_norm
        self._on_style_norm(None)
        self.init.value, self.seed.value, self.device.value = opts.init, opts.seed, opts.device
        self.crop_frac.value = opts.crop_frac
        self._passed_through = {k: getattr(opts, k) for k in _PASSED_THROUGH}
        for name in ("content_weight", "style_weight", "tv_weight"):
            value = opts.beta if name == "style_weight" else getattr(opts, name)
            getattr(self, "use_" + name.split("_")[0]).value = value > 0
            if value > 0:
                getattr(self, name).value = value
        for layer in self._layers:
            self.content_layers[layer].value = layer in opts.content_layers
            self.style_layers[layer].value = layer in opts.style_layers
            self.style_layer_weights[layer].value = 1.0
        if opts.style_layer_weights is not None:
            for layer, w in zip(opts.style_layers, opts.style_layer_weights):
                self.style_layer_weights[layer].value = w

    def options(self) -> StylizeOptions:
        """The settings as :class:`~styletut.transfer.StylizeOptions`.

        Values equal to ``stylize``'s defaults are passed as defaults (an lr
        equal to the optimizer's default becomes ``None``), so the echoed call
        lists only what was changed.

        Raises:
            ValueError: invalid settings (no style layer ticked, all weights zero, ...).
        """
        content_layers = tuple(l for l in self._layers if self.content_layers[l].value)
        style_layers = tuple(l for l in self._layers if self.style_layers[l].value)
        raw = [float(self.style_layer_weights[l].value) for l in style_layers]
        layer_weights = None
        if style_layers and sum(raw) <= 0:
            raise ValueError("every ticked style layer has weight 0; give one of them a positive weight")
        if len(set(raw)) > 1:  # unequal: scale to sum to 1, like the default equal weights
            layer_weights = tuple(_round_sig(w / sum(raw)) for w in raw)
        opt = self.optimizer.value
        lr = _round_sig(self.lr.value, 3)
        default_lr = DEFAULT_LR[opt]
        if opt == "lbfgs" or (default_lr is None and self.lr_auto.value) or (
                default_lr is not None and math.isclose(lr, default_lr, rel_tol=1e-3)):
            lr = None

        def weight(name):
            on = getattr(self, "use_" + name.split("_")[0]).value
            return _round_sig(getattr(self, name).value, 3) if on else 0.0

        style_weight = weight("style_weight")
        if math.isclose(style_weight, DEFAULT_STYLE_WEIGHT[self.style_norm.value], rel_tol=1e-3):
            style_weight = None  # the convention's default: left out of the echoed call

        return StylizeOptions(
            size=int(self.size.value), num_steps=int(self.steps.value), optimizer=self.optimizer.value, lr=lr,
            content_layers=content_layers, style_layers=style_layers, style_layer_weights=layer_weights,
            content_weight=weight("content_weight"), style_weight=style_weight, style_norm=self.style_norm.value,
            tv_weight=weight("tv_weight"), init=self.init.value, seed=int(self.seed.value),
            device=self.device.value, crop_frac=_round_sig(self.crop_frac.value, 3), **self._passed_through)

    # ----------------------------------------------------------------- running

    @property
    def running(self) -> bool:
        """Whether a run is going on."""
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> bool:
        """Check the settings and start a run in the background (what Run does).

        Returns:
            ``True`` if a run started; ``False`` if the settings are invalid or
            a run is already going (the message line says why).
        """
        if self.running:
            self._show_error("a run is already going; press Stop first")
            return False
        try:
            opts = self.options()
            content_img = self.content.tensor(opts.size)
            style_img = self.style.tensor(opts.size)
        except (ValueError, TypeError) as err:
            self._show_error(str(err))
            return False
        uploads = tuple(src.upload_name for src in (self.content, self.style) if src.kind.value == _UPLOAD)
        self._protected |= {images._resolved(n) for n in uploads}
        content_expr, style_expr = self.content.expression(opts.size), self.style.expression(opts.size)
        job = _Job(self, opts, content_img, style_img, content_expr, style_expr, uploads)
        self._show_message("")
        self._last_job_result = None
        self._stop.clear()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.progress.max, self.progress.value, self.progress.bar_style = opts.num_steps, 0, ""
        self.status.value = "starting: loading VGG19 and the images ..."
        self._thread = threading.Thread(target=job.run, name="styletut-panel-run", daemon=True)
        self._thread.start()
        return True

    def run(self, wait: bool = True, timeout: float | None = None) -> PanelResult | None:
        """Start a run as the Run button does; by default wait for it and return its result.

        Returns:
            The :class:`PanelResult` (with ``wait=True``), or ``None`` when the
            settings were invalid (see :attr:`message`) or ``wait=False``.
        """
        started = self.start()
        if not started or not wait:
            return None
        return self.wait(timeout)

    def wait(self, timeout: float | None = None) -> PanelResult | None:
        """Block until the current run ends; return its result (``None`` if it failed).

        Raises:
            TimeoutError: the run is still going after ``timeout`` seconds.
        """
        thread = self._thread
        if thread is None:
            return self.results[-1] if self.results else None
        thread.join(timeout)
        if thread.is_alive():
            raise TimeoutError(f"the run is still going after {timeout} s")
        return self._last_job_result

    def stop(self) -> None:
        """End the run after its current step (what Stop does); the best image is kept."""
        if self.running:
            self._stop.set()
            self.status.value = "stopping after this step ..."

    # Called from the run's thread (ipywidgets 8 sends updates from any thread).

    def _finish(self, item: PanelResult | None, error: str | None) -> None:
        self._last_job_result = item
        if item is not None:
            self.results.append(item)
            self.echo.value = _echo_html(item)
            for card, res in zip(self._compare_cards, _pad(self.results[-self._compare:], self._compare)):
                card.show(res)
        if error:
            self._show_error(error)
        self.run_button.disabled, self.stop_button.disabled = False, True

    # ----------------------------------------------------------------- saving

    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the latest result as an image (what Save does).

        The write is atomic (:func:`styletut.images.save_image`) and refuses
        any file loaded as an input and any uploaded file's name.

        Returns:
            The path written, or ``None`` (the message line says why).
        """
        if path is None:
            path = self.save_path.value.strip()
        if not self.results:
            self._show_error("nothing to save yet: press Run first")
            return None
        if not str(path):
            self._show_error("type a file name to save to, e.g. stylized.png")
            return None
        target = images._resolved(path)
        uploads = self._protected | {images._resolved(s.upload_name) for s in (self.content, self.style) if s.upload_name}
        if target in uploads:
            self._show_error(f"refusing to write '{path}': it is the name of an uploaded input image; "
                             "choose another output path")
            return None
        try:
            written = images.save_image(self.results[-1].image, path)
        except (ValueError, OSError) as err:
            self._show_error(str(err))
            return None
        h, w = self.results[-1].image.shape[-2:]
        self._show_message(f"saved result #{self.results[-1].number} ({w}×{h}) to {written.resolve()}")
        return written

    # ----------------------------------------------------------------- messages and display

    @property
    def message(self) -> str:
        """The current message as plain text ('' when there is none)."""
        return self._message

    def _show_message(self, text: str, error: bool = False) -> None:
        self._message = text
        if not text:
            self.message_box.value = ""
            return
        colour, icon = ("#b00020", "⚠ ") if error else ("#1b5e20", "")
        self.message_box.value = f"<div style='color:{colour}'>{icon}{html.escape(text)}</div>"

    def _show_error(self, text: str) -> None:
        self._show_message(text, error=True)

    def _repr_mimebundle_(self, **kwargs):
        return self.widget._repr_mimebundle_(**kwargs)

    def __repr__(self) -> str:
        return f"<StylePanel: {len(self.results)} result(s){', running' if self.running else ''}>"


def _sample_name(name: str, role: str) -> str:
    if name not in images.list_samples():
        raise ValueError(f"unknown {role} sample {name!r}; choose one of: {', '.join(images.list_samples())}")
    return name


def _pad(items: list, n: int) -> list:
    return list(items) + [None] * (n - len(items))


def _echo_html(item: PanelResult) -> str:
    note = ""
    if item.upload_names:
        note = ("<div style='font-size:12px;color:#555'>load_image(...) reads the file you uploaded: "
                "put it next to this notebook.</div>")
    return ("<div style='margin-top:6px'><b>Reproduce this result in code</b></div>"
            "<pre style='white-space:pre-wrap;background:#f6f8fa;border:1px solid #e0e0e0;"
            f"padding:6px;margin:2px 0;font-size:12px'>{html.escape(item.code)}</pre>{note}")


class _CompareCard:
    """One slot of the compare row: a result's image, its settings and a Restore button."""

    def __init__(self, owner: StylePanel):
        self._owner = owner
        self._result: PanelResult | None = None
        self.image = W.Image(format="png", layout=W.Layout(width="150px", height="150px", object_fit="contain"))
        self.text = W.HTML(layout=W.Layout(width="170px"))
        self.restore = W.Button(description="Restore settings", layout=W.Layout(width="150px"),
                                tooltip="put this result's settings back into the panel")
        self.restore.on_click(self._on_restore)
        self.box = W.VBox([self.image, self.text, self.restore],
                          layout=W.Layout(border="1px solid #e0e0e0", padding="4px", margin="0 6px 6px 0",
                                          display="none"))
        self.box.add_class("styletut-compare-card")

    def show(self, item: PanelResult | None) -> None:
        self._result = item
        if item is None:
            self.box.layout.display = "none"
            return
        o = item.options
        lines = [f"{o.optimizer}, {item.steps_done}/{o.num_steps} steps"
                 + (" (stopped)" if item.stopped else ""),
                 f"{o.size} px, init {o.init}, seed {o.seed}",
                 f"α={o.content_weight:g} β={o.beta:g} γ={o.tv_weight:g}",
                 f"style: {', '.join(o.style_layers)}",
                 f"loss {item.final_loss:.3g} in {item.result.timings['optimize_s']:.1f} s"]
        self.text.value = (f"<div style='font-size:11px;line-height:1.3'><b>#{item.number}</b> "
                           + "<br>".join(html.escape(l) for l in lines) + "</div>")
        self.image.value = _png(item.image)
        self.box.layout.display = ""

    def _on_restore(self, _) -> None:
        if self._result is not None:
            self._owner.apply_options(self._result.options)


class _Job:
    """One run: calls ``stylize`` in the panel's background thread and feeds the widgets."""

    def __init__(self, owner: StylePanel, opts: StylizeOptions, content_img, style_img,
                 content_expr: str, style_expr: str, uploads: tuple[str, ...]):
        self.owner, self.opts = owner, opts
        self.content_img, self.style_img = content_img, style_img
        self.content_expr, self.style_expr, self.uploads = content_expr, style_expr, uploads
        self.losses: dict[str, list[float]] = {}
        self._last_preview = self._last_plot = -math.inf
        self._plot_cost = 0.0

    def _on_step(self, info: StepInfo) -> None:
        p = self.owner
        for k, v in info.losses.items():
            self.losses.setdefault(k, []).append(v)
        p.progress.value = info.step
        now = time.perf_counter()
        if now - self._last_preview >= _PREVIEW_EVERY_S:
            self._last_preview = now
            p.preview.value = _png(info.image.detach().cpu())
            p.status.value = (f"step {info.step}/{info.num_steps} · loss {info.losses['total']:.3g} · "
                              f"{info.elapsed:.1f} s")
        # Space plots by several times their own cost, so on a busy machine
        # plotting never takes a noticeable share of the run.
        if now - self._last_plot >= max(_PLOT_EVERY_S, 5 * self._plot_cost):
            p.plot.value = _loss_plot_png(self.losses, info.num_steps)
            self._last_plot = time.perf_counter()
            self._plot_cost = self._last_plot - now

    def run(self) -> None:
        p, opts = self.owner, self.opts
        item, error = None, None
        try:
            # progress=False: the panel has its own progress bar (tqdm's would
            # print into whichever cell ran last).
            run_opts = dataclasses.replace(opts, progress=False)
            kwargs = {f.name: getattr(run_opts, f.name) for f in dataclasses.fields(run_opts)}
            result = stylize(self.content_img, self.style_img, callback=self._on_step, stop=p._stop, **kwargs)
            hist = result.history
            number = (p.results[-1].number if p.results else 0) + 1
            call = opts.as_call(self.content_expr, self.style_expr)
            item = PanelResult(number, result.image, opts, call, _code(call, self.content_expr, self.style_expr),
                               result, hist.stopped, self.uploads)
            p.preview.value = _png(result.image)
            # A stopped run's plot spans the steps it did, so its curves stay readable.
            p.plot.value = _loss_plot_png(hist.losses, hist.steps_done if hist.stopped else opts.num_steps)
            p.progress.value = hist.steps_done
            if hist.diverged:
                error = (f"the loss became inf/NaN at step {hist.steps_done}: lower the learning rate "
                         "(the best image before that is kept)")
            p.progress.bar_style = "warning" if hist.stopped else ("danger" if hist.diverged else "success")
            how = f"stopped after {hist.steps_done} steps" if hist.stopped else f"done: {hist.steps_done} steps"
            p.status.value = (f"{how} in {result.timings['optimize_s']:.1f} s · best loss {hist.best_loss:.3g} "
                              f"(step {hist.best_step})")
        except Exception as err:  # the panel must survive any failure of a run
            error = f"the run failed: {type(err).__name__}: {err}"
            p.progress.bar_style = "danger"
            p.status.value = "failed"
        finally:
            p._finish(item, error)


def _code(call: str, content_expr: str, style_expr: str) -> str:
    """The call with the imports it needs and an assignment, ready to paste."""
    names = [n for n in ("load_image", "procedural", "sample") if f"{n}(" in content_expr + style_expr]
    return (f"from styletut.images import {', '.join(names)}\n"
            "from styletut.transfer import stylize\n\n"
            f"result = {call}")


def panel(content: str = "chelsea", style: str = "swirls", *, size: int | None = None, steps: int | None = None,
          style_seed: int = 0, style_params: dict | None = None, compare: int = _COMPARE,
          **options) -> StylePanel:
    """Build the style-transfer control panel; show it by making it a cell's last expression.

    Args:
        content: a sample photo (:func:`styletut.images.list_samples`).
        style: a procedural style (:func:`styletut.images.list_procedural`) or a sample photo.
        size: image size in pixels (default 192; 64 in quick mode).
        steps: optimisation steps (default 60; 6 in quick mode).
        style_seed, style_params: seed and parameters of a procedural style
            (see :func:`styletut.styles.procedural_params`).
        compare: how many recent results to keep side by side.
        **options: any other :class:`~styletut.transfer.StylizeOptions` field
            to start from (``optimizer="adam"``, ``style_weight=50``,
            ``style_layers=[...]``, ...).

    Returns:
        A :class:`StylePanel`: its widgets are attributes, :meth:`StylePanel.run`
        runs it from code, :attr:`StylePanel.results` holds the results.

    Example:
        >>> p = panel(size=64, steps=5)          # doctest: +SKIP
        >>> p                                    # doctest: +SKIP
    """
    if size is not None:
        options["size"] = size
    if steps is not None:
        options["num_steps"] = steps
    return StylePanel(content, style, style_seed=style_seed, style_params=style_params, compare=compare,
                      **options)
