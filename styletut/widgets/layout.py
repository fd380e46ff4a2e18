"""The panel itself: :class:`StylePanel` puts the pieces together, :func:`panel` builds one.

With a second style picked (Controls tab) a run paints with both:
``stylize(content, [style, style2], ...)``, and the echoed call reads so.

The Method control (issue 13) picks between optimising the pixels and one
pass of a network that ships with the course (:mod:`styletut.zoo`): a fast
network paints its one style (``zoo.run(zoo.load_model('fast-swirls'),
photo)``), AdaIN any style image (``zoo.run(zoo.load_model('adain'), photo,
style, alpha=...)``). While a network is picked, the settings only
optimisation uses are switched off (their values kept).
"""

from __future__ import annotations

import dataclasses
import html
import threading
from pathlib import Path

import ipywidgets as W

from .. import course, data, images, zoo
from ..optim import StopFlag
from ..options import StylizeOptions
from ..runtime import resolve_device
from .compare import CompareCard
from .job import Job, OnePassJob, OnePassRequest, RunRequest, RunView
from .mapping import (OPTIMISE, grid_layers, method_choices, method_kind, one_pass_call, options_from_values,
                      passed_through, round_sig, style_count, values_from_options)
from .render import PREVIEW_PX, code_text, echo_html, loss_plot_png, placeholder_png
from .result import PanelResult
from .settings import WIDGET_NAMES, Settings
from .sources import UPLOAD, ImageSource

__all__ = ["StylePanel", "panel"]

_COMPARE = 4   # results kept side by side


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
        optimizer: one of :data:`styletut.optim.OPTIMIZERS`.
        lr: learning rate (a log slider; disabled for L-BFGS and automatic rates).
        lr_auto: GD and SGD pick their rate from the first gradient while ticked.
        crop_frac: the crop size of SGD's random crops (shown for SGD only).
        init: start from the content image, noise or the style image.
        seed: random seed of the run.
        device: one of :data:`styletut.runtime.DEVICES` (``cuda`` where there is one).
        weights: the VGG19 weights (Layers tab).
        pooling: the VGG19 pooling (Layers tab).
        style_norm: the style normalisation (sets the style weight's span and default).
        content_weight: log slider, switched on and off by ``use_content``.
        style_weight: log slider, switched on and off by ``use_style``.
        tv_weight: log slider, switched on and off by ``use_tv``.
        content_layers: ``{layer: Checkbox}`` for the content loss.
        style_layers: ``{layer: Checkbox}`` for the style loss.
        style_layer_weights: ``{layer: BoundedFloatText}``, relative weights.
        preserve_colour: keep the photo's colours, one of
            :data:`styletut.names.COLOUR_MODES` (Controls tab, as the next six).
        style_stats: how a style layer is described, one of :data:`styletut.names.STYLE_STATS`.
        style_scale: the style's size relative to the result's, a log slider
            from 1/4 to 4 (bigger: bigger strokes).
        style2: a second style: ``"none"``, a procedural style or a sample
            photo (a ``Dropdown``); ``style2_seed``: a painting's seed.
        blend: style 1's share of two styles in [0, 1] (shown with a second
            style): ``style_blend=(share, 1 - share)``, 0.5 being the default.
        region: where the style paints, one of :data:`styletut.names.MASK_SHAPES`
            (``"all"``: everywhere); with two styles, style 1 paints the region
            and style 2 its complement (left/right, top/bottom, centre/border).
        method: how Run makes the image (a ``Dropdown`` next to Run):
            ``"optimise"`` (optimise the pixels with the settings, the default)
            or the name of a network from :func:`styletut.zoo.list_models`, run
            once: a fast network (its style is fixed: the style picker is
            off, and its note says which style it paints) or AdaIN (the style
            picker applies; a second style, blend and region do not). Either
            way the optimisation settings are off and only size, device (and
            for AdaIN the style scale) apply.
        alpha: AdaIN's content-style mix, 0 (the photo's own features) to 1
            (the full style), step 0.05 (shown for AdaIN only).
        method_note: one line on what the chosen method does and uses.
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
        settings: the settings tabs (Run, Loss weights, Layers, Controls).
        widget: the whole panel (a ``VBox``); a notebook shows the panel when
            the ``StylePanel`` is the last expression of a cell.
        results: the finished runs (:class:`PanelResult`), oldest first.
    """

    def __init__(self, content: str = "chelsea", style: str = "swirls", *, style_seed: int = 0,
                 style_params: dict | None = None, style2: str = "none", style2_seed: int = 0,
                 compare: int = _COMPARE, method: str = OPTIMISE, alpha: float = 1.0, **options):
        defaults = {"size": course.pick(full=192, quick=64), "num_steps": course.pick(full=60, quick=6)}
        opts = StylizeOptions.from_kwargs(**{**defaults, **options})  # validates, names bad options
        if opts.size is None:  # "as loaded" has no slider position
            opts = dataclasses.replace(opts, size=defaults["size"])
        self.results: list[PanelResult] = []
        self._compare = max(int(compare), 1)
        self._stop = StopFlag()
        self._thread: threading.Thread | None = None
        self._last_job_result: PanelResult | None = None
        self._message = ""
        self._protected: set[Path] = set()  # uploaded files' names: never saved over
        self._passed_through: dict = {}
        self._models: dict[tuple[str, str], object] = {}  # (network, device) -> loaded network
        method_kind(method)  # an unknown method fails here, with the list of choices
        if not 0.0 <= alpha <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1] (0: the photo's own features, 1: the full style), "
                             f"got {alpha!r}")

        self.message_box = W.HTML(layout=W.Layout(min_height="22px"))
        self.message_box.add_class("styletut-message")
        self.content = ImageSource("content", ("sample", UPLOAD), "sample", _sample_name(content, "content"),
                                   self._show_error)
        self.style = ImageSource("style", ("procedural", "sample", UPLOAD), _style_kind(style), style,
                                 self._show_error, seed=style_seed, params=style_params)
        self._layers = grid_layers(opts)
        self._settings = Settings(self._layers, opts.style_norm)
        self.settings = self._settings.tab
        for name in WIDGET_NAMES:  # the controls are the panel's attributes, as documented
            setattr(self, name, getattr(self._settings, name))
        self._build_output()
        self.widget = self._layout()
        self.apply_options(opts, style2=style2, style2_seed=style2_seed)
        self.alpha.value = alpha
        self.method.value = method
        self._on_method()

    # ----------------------------------------------------------------- building

    def _build_output(self) -> None:
        self.method = W.Dropdown(options=method_choices(), value=OPTIMISE, description="method",
                                 style={"description_width": "60px"}, layout=W.Layout(width="300px"))
        self.alpha = W.FloatSlider(value=1.0, min=0.0, max=1.0, step=0.05, description="alpha",
                                   readout_format=".2f", continuous_update=False,
                                   style={"description_width": "50px"}, layout=W.Layout(width="280px"))
        self.alpha.tooltip = "AdaIN's mix: 0 decodes the photo's own features, 1 the full style"
        self.method_note = W.HTML(layout=W.Layout(min_height="18px"))
        self.method.observe(lambda ch: self._on_method(), "value")
        self.run_button = W.Button(description="Run", button_style="primary", icon="play",
                                   layout=W.Layout(width="100px"))
        self.stop_button = W.Button(description="Stop", button_style="danger", icon="stop",
                                    disabled=True, layout=W.Layout(width="100px"))
        self.progress = W.IntProgress(value=0, min=0, max=1, layout=W.Layout(width="220px"))
        self.status = W.HTML("ready", layout=W.Layout(width="400px"))
        self.preview = W.Image(value=placeholder_png(), format="png",
                               layout=W.Layout(width=f"{PREVIEW_PX}px", height=f"{PREVIEW_PX}px",
                                               object_fit="contain", border="1px solid #ddd"))
        self.plot = W.Image(value=loss_plot_png({}, 1), format="png",
                            layout=W.Layout(height=f"{PREVIEW_PX}px", border="1px solid #ddd"))
        self.echo = W.HTML()
        self.save_path = W.Text(value="stylized.png", description="save as", style={"description_width": "60px"},
                                layout=W.Layout(width="360px"))
        self.save_button = W.Button(description="Save", icon="save", layout=W.Layout(width="90px"))
        self._compare_cards = [CompareCard(self._restore) for _ in range(self._compare)]

        for w, cls in ((self.method, "method"), (self.alpha, "alpha"), (self.method_note, "method-note"),
                       (self.run_button, "run"), (self.stop_button, "stop"), (self.progress, "progress"),
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
        method_row = W.HBox([self.method, self.alpha], layout=W.Layout(align_items="center", grid_gap="8px"))
        controls = W.HBox([self.run_button, self.stop_button, self.progress, self.status],
                          layout=W.Layout(align_items="center", grid_gap="8px"))
        self._result_label, self._plot_label = W.HTML(), W.HTML()
        outputs = W.HBox([W.VBox([self._result_label, self.preview]), W.VBox([self._plot_label, self.plot])],
                         layout=W.Layout(flex_flow="row wrap", grid_gap="12px"))
        save_row = W.HBox([self.save_path, self.save_button], layout=W.Layout(grid_gap="6px"))
        compare_title = W.HTML("<b>Compare</b> <span style='font-size:12px;color:#555'>"
                               f"(the last {self._compare} results)</span>")
        compare = W.HBox([c.box for c in self._compare_cards], layout=W.Layout(flex_flow="row wrap"))
        box = W.VBox([title, top, method_row, self.method_note, controls, self.message_box, outputs, self.echo, save_row,
                      compare_title, compare], layout=W.Layout(padding="4px"))
        box.add_class("styletut-panel")
        return box

    # ----------------------------------------------------------------- the method

    def _kind(self) -> str | None:
        """The chosen network's kind (``"fast"``, ``"adain"``), ``None`` to optimise."""
        return method_kind(self.method.value)

    def _on_method(self) -> None:
        """Switch the pickers and settings a method does not use off (and back on), and say so."""
        name, kind = self.method.value, self._kind()
        self._settings.set_method(kind)
        self.alpha.layout.display = "" if kind == "adain" else "none"
        if kind == "fast":
            trained = zoo.model_info(name).trained
            self.style.set_enabled(False, f"not used: the network '{name}' paints the one style it was "
                                          f"trained on ({trained})")
        else:
            self.style.set_enabled(True)
        if kind is None:
            note = ("Optimise the pixels (Gatys et al. 2016): every setting applies; each step costs a VGG19 "
                    "pass and its gradient.")
        elif kind == "fast":
            note = (f"One pass of the fast network '{name}' (Johnson et al. 2016): it paints its own style; "
                    "only the content, the image size and the device apply.")
        else:
            note = ("One pass of AdaIN (Huang & Belongie 2017) with the style image: the content, the style, "
                    "the image size, the style scale, the device and alpha apply.")
        self.method_note.value = f"<span style='font-size:12px;color:#555'>{html.escape(note)}</span>"
        self._result_label.value = "<b>Result (best so far)</b>" if kind is None else "<b>Result (one pass)</b>"
        self._plot_label.value = "<b>Losses</b>" if kind is None else "<b>Losses</b> (one pass: none)"

    def _one_pass_options(self, kind: str) -> StylizeOptions:
        """What applies to one pass, as options: size and device, and for AdaIN the style's size.

        Raises:
            ValueError: an invalid size or device, or ``style_size`` and a style scale both set.
        """
        if kind == "fast":
            return StylizeOptions.from_kwargs(size=self.size.value, device=self.device.value)
        return StylizeOptions.from_kwargs(size=self.size.value, device=self.device.value,
                                          style_scale=round_sig(float(self.style_scale.value), 3),
                                          style_size=self._passed_through.get("style_size"))

    def _one_pass_alpha(self, kind: str) -> float | None:
        return round_sig(float(self.alpha.value), 3) if kind != "fast" else None

    def _one_pass_exprs(self, kind: str, opts: StylizeOptions) -> tuple[str, str | None]:
        """The sources of the images a pass takes, at the sizes it takes them."""
        content = self.content.sized_expression(opts.size)
        return content, None if kind == "fast" else self.style.sized_expression(_style_px(opts))

    def _one_pass_call(self) -> str:
        kind = self._kind()
        opts = self._one_pass_options(kind)
        content, style = self._one_pass_exprs(kind, opts)
        return one_pass_call(self.method.value, content, style, self._one_pass_alpha(kind), opts.device)

    def _load_model(self, name: str, device) -> object:
        """A shipped network on ``device``, loaded once per (name, device) and kept."""
        key = (name, str(device))
        if key not in self._models:
            self._models[key] = zoo.load_model(name, device=device)
        return self._models[key]

    # ----------------------------------------------------------------- settings <-> options

    def apply_options(self, opts: StylizeOptions, style2: str | None = None, style2_seed: int | None = None) -> None:
        """Set the widgets from a :class:`~styletut.transfer.StylizeOptions` (e.g. an earlier result's).

        Args:
            opts: the options to show.
            style2: the second style to pick with them (``"none"``: none), and
                ``opts`` must be for as many styles; ``None``: the options'
                count decides (``style_blend`` or ``style_masks`` of length 1
                sets the second style to none), else the pickers keep theirs.
            style2_seed: its seed, for a procedural style (``None``: keep).

        Raises:
            ValueError: ``opts`` uses a layer this panel's grid has no row for,
                or styles the panel cannot show (three, or two without a
                second style picked, or two regions that are not a shape and
                its complement); the message names the fix.
        """
        second = self._settings.second
        if style2 is not None:
            second.choose(style2, style2_seed)
        elif style2_seed is not None:
            second.seed.value = style2_seed
        picked = 2 if second.active else 1
        # A second style asked for must fit the options (values_from_options
        # says so if not); otherwise the options' weights or masks say how
        # many styles, and without either (one style, or two blended equally)
        # the pickers decide.
        styles = picked if style2 is not None else (style_count(opts) or picked)
        self._settings.set_values(values_from_options(opts, self._layers, styles))
        self._passed_through = passed_through(opts)

    def _restore(self, item: PanelResult) -> None:
        """A compare card's Restore: the result's method, and its options and second style.

        For one pass of a network: the network, its alpha, the size and the
        device (and the style scale for AdaIN); the optimisation settings,
        which the pass did not use, stay as they are.
        """
        if not item.one_pass:
            self.method.value = OPTIMISE
            self.apply_options(item.options, style2=item.style2, style2_seed=item.style2_seed)
            return
        o = item.options
        if item.method not in [v for _, v in self.method.options]:
            self._show_error(f"the network {item.method!r} is no longer offered; choose a method")
            return
        self.method.value = item.method
        if item.alpha is not None:
            self.alpha.value = item.alpha
            if o.style_size is None:
                self.style_scale.value = o.style_scale
        self.size.max = max(self.size.max, o.size)
        self.size.value = o.size
        if o.device not in self.device.options:
            self.device.options = [*self.device.options, o.device]
        self.device.value = o.device

    def options(self) -> StylizeOptions:
        """The settings as :class:`~styletut.transfer.StylizeOptions`.

        Values equal to ``stylize``'s defaults are passed as defaults (see
        :func:`styletut.widgets.mapping.options_from_values`), so the echoed
        call lists only what was changed.

        Raises:
            ValueError: invalid settings (no style layer ticked, all weights zero, ...).
        """
        return options_from_values(self._settings.values(), self._passed_through)

    def call(self) -> str:
        """The call that Run would start now (after a run, :attr:`echo` shows the run's).

        ``stylize(...)`` to optimise; ``zoo.run(zoo.load_model(name), ...)``
        for a network, its images at the sizes the pass takes them.

        Raises:
            ValueError: invalid settings, as :meth:`options` (for a network:
                only the size, the device and the style's size count).

        Example:
            >>> panel(size=64, steps=5, style2="waves", style_blend=(0.7, 0.3)).call()  # doctest: +SKIP
            "stylize(sample('chelsea'), [procedural('swirls', 64, seed=0), procedural('waves', 64, seed=0)], ..."
            >>> panel(size=256, method="adain", alpha=0.5).call()                    # doctest: +SKIP
            "zoo.run(zoo.load_model('adain'), sample('chelsea', size=256), procedural('swirls', 256, seed=0), alpha=0.5)"
        """
        if self._kind() is not None:
            return self._one_pass_call()
        opts = self.options()
        return opts.as_call(self.content.expression(opts.size), self._style_expression(opts))

    def _style_pickers(self) -> list:
        """The style pickers a run uses: the style, and the second style when one is picked."""
        second = self._settings.second
        return [self.style, second] if second.active else [self.style]

    def _style_expression(self, opts: StylizeOptions) -> str:
        exprs = [src.expression(_style_px(opts)) for src in self._style_pickers()]
        return exprs[0] if len(exprs) == 1 else f"[{', '.join(exprs)}]"

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
        if self._kind() is not None:
            return self._start_one_pass()
        try:
            opts = self.options()
            content_img = self.content.tensor(opts.size)
            style_imgs = [src.tensor(_style_px(opts)) for src in self._style_pickers()]
        except (ValueError, TypeError) as err:
            self._show_error(str(err))
            return False
        uploads = tuple(src.upload_name for src in (self.content, self.style) if src.kind.value == UPLOAD)
        # Resolved now: the echoed call reads them from today's working folder.
        self._protected |= {Path(n).expanduser().resolve() for n in uploads}
        second = self._settings.second
        request = RunRequest((self.results[-1].number if self.results else 0) + 1, opts,
                             content_img, style_imgs[0] if len(style_imgs) == 1 else style_imgs,
                             self.content.expression(opts.size), self._style_expression(opts), uploads,
                             style2=second.choice.value, style2_seed=second.seed.value)
        job = Job(request, RunView(self.progress, self.status, self.preview, self.plot), self._stop, self._finish)
        self._show_message("")
        self._last_job_result = None
        self._stop.clear()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.progress.max, self.progress.value, self.progress.bar_style = opts.num_steps, 0, ""
        self.status.value = "starting: loading VGG19 and the images ..."
        self._thread = threading.Thread(target=job.run, name="styletut-panel-run", daemon=True)
        self._thread.start()
        return True

    def _start_one_pass(self) -> bool:
        """Run's start for a network: the images at the pass's sizes, then load and pass in the background."""
        kind = self._kind()
        name = self.method.value
        try:
            opts = self._one_pass_options(kind)
            device = resolve_device(opts.device)
            content_expr, style_expr = self._one_pass_exprs(kind, opts)
            content_img = self.content.sized_tensor(opts.size)
            style_img = None if kind == "fast" else self.style.sized_tensor(_style_px(opts))
            alpha = self._one_pass_alpha(kind)
            call = one_pass_call(name, content_expr, style_expr, alpha, opts.device)
        except (ValueError, TypeError) as err:
            self._show_error(str(err))
            return False
        sources = (self.content,) if kind == "fast" else (self.content, self.style)
        uploads = tuple(src.upload_name for src in sources if src.kind.value == UPLOAD)
        self._protected |= {Path(n).expanduser().resolve() for n in uploads}
        request = OnePassRequest((self.results[-1].number if self.results else 0) + 1, name, opts, device,
                                 content_img, style_img, alpha, call,
                                 code_text(call, content_expr, style_expr or ""), uploads)
        job = OnePassJob(request, RunView(self.progress, self.status, self.preview, self.plot), self._stop,
                         self._finish, self._load_model)
        self._show_message("")
        self._last_job_result = None
        self._stop.clear()
        self.run_button.disabled, self.stop_button.disabled = True, False
        self.progress.max, self.progress.value, self.progress.bar_style = 1, 0, ""
        cached = (name, str(device)) in self._models
        self.status.value = f"one pass of {name} ..." if cached else f"starting: loading {name} ..."
        self._thread = threading.Thread(target=job.run, name="styletut-panel-pass", daemon=True)
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
        """Block until the current run ends; return its result.

        Returns:
            The run's :class:`PanelResult`, also for a failed run that did some
            steps (its ``error`` says what happened); ``None`` if it failed
            before its first step.

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
        """End the run after its current step (what Stop does); the best image is kept.

        One pass of a network cannot be cut short: Stop while the network
        loads skips the pass; once it runs, it ends in a moment anyway.
        """
        if self.running:
            self._stop.set()
            self.status.value = "stopping after this step ..."

    def _finish(self, item: PanelResult | None, error: str | None) -> None:
        """The end of a run (called from the run's thread; ipywidgets 8 sends updates from any thread)."""
        self._last_job_result = item
        if item is not None:
            self.results.append(item)
            self.echo.value = echo_html(item.code, item.upload_names)
            recent = self.results[-self._compare:]
            for card, res in zip(self._compare_cards, recent + [None] * (self._compare - len(recent))):
                card.show(res)
        if error:
            self._show_error(error)
        self.run_button.disabled, self.stop_button.disabled = False, True

    # ----------------------------------------------------------------- saving

    def save(self, path: str | Path | None = None) -> Path | None:
        """Save the latest result as an image (what Save does).

        The write is atomic (:func:`styletut.images.save_image`) and refuses
        any file loaded as an input and any uploaded file's name
        (:func:`styletut.images.check_output_path`).

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
        uploads = {s.upload_name for s in (self.content, self.style) if s.upload_name}
        try:
            # save_image checks the path first (styletut.images.check_output_path).
            written = images.save_image(self.results[-1].image, path, inputs=(*self._protected, *uploads))
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


def _style_px(opts: StylizeOptions) -> int:
    """The longest side ``stylize`` gives the style images: a painting drawn at it needs no resampling.

    ``style_size``, else ``style_scale`` times the result's size, floored at
    16 px only so that a painting can be drawn; below that ``stylize`` itself
    refuses the run and says how to fix it.
    """
    return max(16, opts.style_side())


def _sample_name(name: str, role: str) -> str:
    if name not in data.list_samples():
        raise ValueError(f"unknown {role} sample {name!r}; choose one of: {', '.join(data.list_samples())}")
    return name


def _style_kind(style: str) -> str:
    """``"sample"`` or ``"procedural"`` for a style given by name."""
    if style in data.list_samples():
        return "sample"
    if style in data.list_procedural():
        return "procedural"
    raise ValueError(f"unknown style {style!r}; choose a procedural style "
                     f"({', '.join(data.list_procedural())}) or a sample ({', '.join(data.list_samples())})")


def panel(content: str = "chelsea", style: str = "swirls", *, size: int | None = None, steps: int | None = None,
          style_seed: int = 0, style_params: dict | None = None, style2: str = "none", style2_seed: int = 0,
          compare: int = _COMPARE, method: str = OPTIMISE, alpha: float = 1.0, **options) -> StylePanel:
    """Build the style-transfer control panel; show it by making it a cell's last expression.

    Args:
        content: a sample photo (:func:`styletut.data.list_samples`).
        style: a procedural style (:func:`styletut.data.list_procedural`) or a sample photo.
        size: image size in pixels (default 192; 64 in quick mode).
        steps: optimisation steps (default 60; 6 in quick mode).
        style_seed: seed of a procedural style.
        style_params: parameters of a procedural style
            (see :func:`styletut.styles.procedural_params`).
        style2: a second style (``"none"``, a procedural style or a sample);
            options for two styles (``style_blend=(0.7, 0.3)``,
            ``style_masks=("left", "right")``) need one.
        style2_seed: the second style's seed, if it is procedural.
        compare: how many recent results to keep side by side.
        method: ``"optimise"`` (the default) or a shipped network's name
            (:func:`styletut.zoo.list_models`) for Run to use.
        alpha: AdaIN's content-style mix to start from, in [0, 1].
        **options: any other :class:`~styletut.transfer.StylizeOptions` field
            to start from (``optimizer="adam"``, ``style_weight=50``,
            ``style_layers=[...]``, ...).

    Returns:
        A :class:`StylePanel`: its widgets are attributes, :meth:`StylePanel.run`
        runs it from code, :attr:`StylePanel.results` holds the results.

    Raises:
        TypeError: an unknown option or style parameter (the message lists the valid ones).
        ValueError: an unknown image name or method, an invalid option value, or
            styles the panel cannot show (see :meth:`StylePanel.apply_options`).

    Example:
        >>> p = panel(size=64, steps=5)          # doctest: +SKIP
        >>> p2 = panel(style2="waves", style_blend=(0.7, 0.3), style_masks=("left", "right"))  # doctest: +SKIP
        >>> p3 = panel(size=256, method="fast-swirls")  # doctest: +SKIP
        >>> p                                    # doctest: +SKIP
    """
    if size is not None:
        options["size"] = size
    if steps is not None:
        options["num_steps"] = steps
    return StylePanel(content, style, style_seed=style_seed, style_params=style_params, style2=style2,
                      style2_seed=style2_seed, compare=compare, method=method, alpha=alpha, **options)
