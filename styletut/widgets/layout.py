"""The panel itself: :class:`StylePanel` puts the pieces together, :func:`panel` builds one.

With a second style picked (Controls tab) a run paints with both:
``stylize(content, [style, style2], ...)``, and the echoed call reads so.
"""

from __future__ import annotations

import dataclasses
import html
import threading
from pathlib import Path

import ipywidgets as W

from .. import course, data, images
from ..optim import StopFlag
from ..options import StylizeOptions
from .compare import CompareCard
from .job import Job, RunRequest, RunView
from .mapping import grid_layers, options_from_values, passed_through, style_count, values_from_options
from .render import PREVIEW_PX, echo_html, loss_plot_png, placeholder_png
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
        weights, pooling: the VGG19 weights and pooling (Layers tab).
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
                 compare: int = _COMPARE, **options):
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

    # ----------------------------------------------------------------- building

    def _build_output(self) -> None:
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
        outputs = W.HBox([_labelled("Result (best so far)", self.preview), _labelled("Losses", self.plot)],
                         layout=W.Layout(flex_flow="row wrap", grid_gap="12px"))
        save_row = W.HBox([self.save_path, self.save_button], layout=W.Layout(grid_gap="6px"))
        compare_title = W.HTML("<b>Compare</b> <span style='font-size:12px;color:#555'>"
                               f"(the last {self._compare} results)</span>")
        compare = W.HBox([c.box for c in self._compare_cards], layout=W.Layout(flex_flow="row wrap"))
        box = W.VBox([title, top, controls, self.message_box, outputs, self.echo, save_row,
                      compare_title, compare], layout=W.Layout(padding="4px"))
        box.add_class("styletut-panel")
        return box

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
        """A compare card's Restore: the result's options and its second style."""
        self.apply_options(item.options, style2=item.style2, style2_seed=item.style2_seed)

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
        """The ``stylize(...)`` call that Run would start now (after a run, :attr:`echo` shows the run's).

        Raises:
            ValueError: invalid settings, as :meth:`options`.

        Example:
            >>> panel(size=64, steps=5, style2="waves", style_blend=(0.7, 0.3)).call()  # doctest: +SKIP
            "stylize(sample('chelsea'), [procedural('swirls', 64, seed=0), procedural('waves', 64, seed=0)], ..."
        """
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
        """End the run after its current step (what Stop does); the best image is kept."""
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


def _labelled(text: str, widget: W.Widget) -> W.VBox:
    return W.VBox([W.HTML(f"<b>{text}</b>"), widget])


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
          compare: int = _COMPARE, **options) -> StylePanel:
    """Build the style-transfer control panel; show it by making it a cell's last expression.

    Args:
        content: a sample photo (:func:`styletut.data.list_samples`).
        style: a procedural style (:func:`styletut.data.list_procedural`) or a sample photo.
        size: image size in pixels (default 192; 64 in quick mode).
        steps: optimisation steps (default 60; 6 in quick mode).
        style_seed, style_params: seed and parameters of a procedural style
            (see :func:`styletut.styles.procedural_params`).
        style2, style2_seed: a second style (``"none"``, a procedural style
            or a sample) and a painting's seed; options for two styles
            (``style_blend=(0.7, 0.3)``, ``style_masks=("left", "right")``) need one.
        compare: how many recent results to keep side by side.
        **options: any other :class:`~styletut.transfer.StylizeOptions` field
            to start from (``optimizer="adam"``, ``style_weight=50``,
            ``style_layers=[...]``, ...).

    Returns:
        A :class:`StylePanel`: its widgets are attributes, :meth:`StylePanel.run`
        runs it from code, :attr:`StylePanel.results` holds the results.

    Raises:
        TypeError: an unknown option or style parameter (the message lists the valid ones).
        ValueError: an unknown image name, an invalid option value, or
            styles the panel cannot show (see :meth:`StylePanel.apply_options`).

    Example:
        >>> p = panel(size=64, steps=5)          # doctest: +SKIP
        >>> p2 = panel(style2="waves", style_blend=(0.7, 0.3), style_masks=("left", "right"))  # doctest: +SKIP
        >>> p                                    # doctest: +SKIP
    """
    if size is not None:
        options["size"] = size
    if steps is not None:
        options["num_steps"] = steps
    return StylePanel(content, style, style_seed=style_seed, style_params=style_params, style2=style2,
                      style2_seed=style2_seed, compare=compare, **options)
