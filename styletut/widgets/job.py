"""One run of the panel in a background thread: ``stylize``, live feedback, Stop, errors.

:class:`Job` optimises (``stylize``); :class:`OnePassJob` runs one pass of a
trained network (:mod:`styletut.zoo`) in the same machinery, so Run, Stop,
the result area, the compare row and the error line work alike for both.

ipywidgets 8 sends widget updates from any thread, so the run writes its
progress, preview and plot straight into the panel's widgets while the
notebook's kernel stays free for clicks (Stop among them). A run with a
second style passes ``stylize`` the list of both images; one that keeps the
photo's colours by luminance shows its preview in the photo's colours, as
``stylize`` delivers its result.
"""

from __future__ import annotations

import dataclasses
import math
import time
from dataclasses import dataclass
from typing import Callable

import torch

from .. import colour, images, zoo
from ..optim import History, StepInfo, StopFlag
from ..options import StylizeOptions
from ..transfer import Result, stylize
from .render import code_text, loss_plot_png, note_png, png
from .result import PanelResult

__all__ = ["RunRequest", "RunView", "Job", "OnePassRequest", "OnePassJob"]

_PREVIEW_EVERY_S = 0.4   # at most this often a new preview PNG ...
_PLOT_EVERY_S = 1.0      # ... and a new loss plot (matplotlib costs ~50 ms)


@dataclass(frozen=True)
class RunRequest:
    """Everything one run needs, fixed when Run is pressed.

    Attributes:
        number: the run's number in the panel (1, 2, ...).
        options: the run's options (as echoed).
        content_img, style_img: the images ``(1, 3, H, W)``, before resizing;
            ``style_img`` is a list ``[style, second style]`` with a second style.
        content_expr, style_expr: Python source that builds the same images
            (``"[a, b]"`` for two styles).
        upload_names: names of uploaded files the echoed call reads.
        style2, style2_seed: the second style picked (``"none"``: one style),
            kept so that Restore can pick it again.
    """

    number: int
    options: StylizeOptions
    content_img: torch.Tensor
    style_img: torch.Tensor | list[torch.Tensor]
    content_expr: str
    style_expr: str
    upload_names: tuple[str, ...] = ()
    style2: str = "none"
    style2_seed: int = 0


@dataclass(frozen=True)
class RunView:
    """The widgets a run writes to: an ``IntProgress``, an ``HTML`` status line, two ``Image`` widgets."""

    progress: object
    status: object
    preview: object
    plot: object


class Job:
    """One run: calls ``stylize`` (in the thread that calls :meth:`run`) and feeds a :class:`RunView`.

    It keeps its own copy of the best image each step reports, so that an
    error mid-run (a failing device, a bug in a callback) still leaves the best
    image so far, as Stop and a NaN do inside ``stylize``.

    Args:
        request: what to run.
        view: where to show progress.
        stop: the flag the Stop button sets.
        on_finish: called once at the end with ``(PanelResult or None, error message or None)``.
    """

    def __init__(self, request: RunRequest, view: RunView, stop: StopFlag,
                 on_finish: Callable[[PanelResult | None, str | None], None]):
        self.request, self.view, self.stop, self.on_finish = request, view, stop, on_finish
        self.losses: dict[str, list[float]] = {}
        self.times: list[float] = []
        self.best: tuple[int, float, torch.Tensor] | None = None   # (step, loss, image)
        self._last_preview = self._last_plot = -math.inf
        self._plot_cost = 0.0
        self._photo: dict[tuple[int, int], torch.Tensor] = {}   # the content at each size a preview needs

    def shown(self, img: torch.Tensor) -> torch.Tensor:
        """What the panel shows of an image the optimiser painted.

        Luminance-only transfer paints a grey image, and ``stylize`` puts the
        photo's colours back only on its result; the preview and a result
        kept after an error get them here, so every image the panel shows
        looks like the result will. Other modes: ``img`` itself.
        """
        if self.request.options.preserve_colour != "luminance":
            return img
        hw = tuple(img.shape[-2:])
        if hw not in self._photo:  # each pyramid level has its own size
            self._photo[hw] = images.load_image(self.request.content_img, size=hw)
        return colour.keep_luminance(img, self._photo[hw].to(img.device))

    def on_step(self, info: StepInfo) -> None:
        """The ``stylize`` callback: record the step, then refresh the view now and then."""
        for k, v in info.losses.items():
            self.losses.setdefault(k, []).append(v)
        self.times.append(info.elapsed)
        # info.best_loss is the total of the image stylize keeps (for SGD, the
        # latest finite one): this step is that image when the two agree.
        if info.losses["total"] == info.best_loss:
            self.best = (info.step, info.best_loss, info.image.detach().cpu().clone())
        v = self.view
        v.progress.value = info.step
        now = time.perf_counter()
        if now - self._last_preview >= _PREVIEW_EVERY_S:
            self._last_preview = now
            v.preview.value = png(self.shown(info.image.detach().cpu()))
            v.status.value = (f"step {info.step}/{info.num_steps} · loss {info.losses['total']:.3g} · "
                              f"{info.elapsed:.1f} s")
        # Space plots by several times their own cost, so on a busy machine
        # plotting never takes a noticeable share of the run.
        if now - self._last_plot >= max(_PLOT_EVERY_S, 5 * self._plot_cost):
            v.plot.value = loss_plot_png(self.losses, info.num_steps)
            self._last_plot = time.perf_counter()
            self._plot_cost = self._last_plot - now

    def run(self) -> None:
        """Run to the end, Stop or an error; never raises (the panel must survive any run)."""
        item, error = None, None
        try:
            item, error = self._stylize()
        except Exception as err:  # noqa: BLE001 - reported in the panel, the best image kept
            error = f"the run failed: {type(err).__name__}: {err}"
            try:
                item = self._partial(error)
            except Exception:  # noqa: BLE001 - the first error is the one to report
                item = None
            if item is not None:
                error += f"; the best image so far (step {item.result.history.best_step}) is kept"
            self.view.progress.bar_style = "danger"
            self.view.status.value = "failed"
        finally:
            self.on_finish(item, error)

    def _item(self, result: Result, error: str | None = None) -> PanelResult:
        r = self.request
        call = r.options.as_call(r.content_expr, r.style_expr)
        return PanelResult(r.number, result.image, r.options, call, code_text(call, r.content_expr, r.style_expr),
                           result, result.history.stopped, r.upload_names, error, style2=r.style2,
                           style2_seed=r.style2_seed)

    def _stylize(self) -> tuple[PanelResult, str | None]:
        r, v = self.request, self.view
        # progress=False: the panel has its own progress bar (tqdm's would
        # print into whichever cell ran last).
        run_opts = dataclasses.replace(r.options, progress=False)
        result = stylize(r.content_img, r.style_img, callback=self.on_step, stop=self.stop,
                         **run_opts.as_dict())
        hist = result.history
        v.preview.value = png(result.image)
        # A stopped run's plot spans the steps it did, so its curves stay readable.
        v.plot.value = loss_plot_png(hist.losses, hist.steps_done if hist.stopped else r.options.num_steps)
        v.progress.value = hist.steps_done
        error = None
        if hist.diverged:
            error = (f"the loss became inf/NaN at step {hist.steps_done}: lower the learning rate "
                     "(the best image before that is kept)")
        v.progress.bar_style = "warning" if hist.stopped else ("danger" if hist.diverged else "success")
        how = f"stopped after {hist.steps_done} steps" if hist.stopped else f"done: {hist.steps_done} steps"
        v.status.value = (f"{how} in {result.timings['optimize_s']:.1f} s · best loss {hist.best_loss:.3g} "
                          f"(step {hist.best_step})")
        return self._item(result), error

    def _partial(self, error: str) -> PanelResult | None:
        """A result from the steps seen before an error (``None`` if none was)."""
        if self.best is None:
            return None
        step, loss, painted = self.best
        image = self.shown(painted)
        r = self.request
        o = r.options
        hist = History(losses=self.losses, times=self.times, best_image=painted, best_loss=loss, best_step=step,
                       steps_done=len(self.times))
        elapsed = self.times[-1]
        content = images.load_image(r.content_img, size=o.size)
        # The style images at the size stylize used (style_size, or style_scale times the result's).
        style_px = o.style_side(max(content.shape[-2:]))
        sources = r.style_img if isinstance(r.style_img, (list, tuple)) else [r.style_img]
        styles = [images.load_image(src, size=style_px) for src in sources]
        result = Result(image, hist, o, {"setup_s": math.nan, "optimize_s": elapsed,
                                         "per_step_s": elapsed / len(self.times)},
                        content, styles[0], style_imgs=styles,
                        painted=painted if o.preserve_colour == "luminance" else None)
        self.view.preview.value = png(image)
        self.view.plot.value = loss_plot_png(self.losses, len(self.times))
        return self._item(result, error)


@dataclass(frozen=True)
class OnePassRequest:
    """One pass of a shipped network, fixed when Run is pressed.

    Attributes:
        number: the run's number in the panel.
        method: the :mod:`styletut.zoo` name of the network.
        options: what applies to a network: ``size``, ``device`` and, for
            AdaIN, the style's size (see :class:`~styletut.widgets.PanelResult`).
        device: where the network runs (``options.device`` resolved).
        content_img: the photo at the run's size ``(1, 3, H, W)`` (a network does not resize).
        style_img: AdaIN's style image at its size; ``None`` for a fast network.
        alpha: AdaIN's content-style mix; ``None`` for a fast network.
        call, code: the echoed ``zoo.run(...)`` and the same with its imports.
        upload_names: names of uploaded files the echoed call reads.
    """

    number: int
    method: str
    options: StylizeOptions
    device: torch.device
    content_img: torch.Tensor
    style_img: torch.Tensor | None
    alpha: float | None
    call: str
    code: str
    upload_names: tuple[str, ...] = ()


class OnePassJob:
    """One pass of a trained network (in the thread that calls :meth:`run`), shown in a :class:`RunView`.

    Loading the network may take a moment the first time (AdaIN builds its
    VGG19 encoder); the pass itself takes a fraction of a second and cannot
    be interrupted, so Stop, pressed while the network loads, skips the pass.

    Args:
        request: what to run.
        view: where to show it.
        stop: the flag the Stop button sets.
        on_finish: called once at the end with ``(PanelResult or None, error message or None)``.
        load: ``load(name, device)`` returns the network (the panel caches them).
    """

    def __init__(self, request: OnePassRequest, view: RunView, stop: StopFlag,
                 on_finish: Callable[[PanelResult | None, str | None], None],
                 load: Callable[[str, torch.device], torch.nn.Module]):
        self.request, self.view, self.stop, self.on_finish, self.load = request, view, stop, on_finish, load

    def run(self) -> None:
        """Load, pass, show; never raises (errors go to ``on_finish``, as a run's do)."""
        item, error = None, None
        r, v = self.request, self.view
        try:
            t0 = time.perf_counter()
            model = self.load(r.method, r.device)
            load_s = time.perf_counter() - t0
            if self.stop.is_set():
                v.progress.bar_style = "warning"
                v.status.value = "stopped before the pass: nothing to show"
                return
            v.status.value = f"one pass of {r.method} ..."
            t1 = time.perf_counter()
            if r.style_img is None:  # a fast network: its style is fixed
                image = zoo.run(model, r.content_img)
            else:
                image = zoo.run(model, r.content_img, r.style_img, alpha=r.alpha)
            seconds = time.perf_counter() - t1
            image = image.detach().cpu().clone()  # a plain tensor (zoo.run's comes from inference mode)
            h, w = image.shape[-2:]
            v.preview.value = png(image)
            v.plot.value = note_png(f"one pass of {r.method}: {seconds:.2f} s\n"
                                    "a trained network minimises no loss\nwhile it runs: nothing to plot")
            v.progress.value, v.progress.bar_style = v.progress.max, "success"
            loaded = f" (network loaded in {load_s:.1f} s)" if load_s >= 0.05 else ""
            v.status.value = f"done: one pass in {seconds:.2f} s at {w}×{h}{loaded}"
            item = PanelResult(r.number, image, r.options, r.call, r.code, None, False, r.upload_names,
                               method=r.method, alpha=r.alpha, pass_s=seconds)
        except Exception as err:  # noqa: BLE001 - reported in the panel, which must survive any run
            error = f"the run failed: {type(err).__name__}: {err}"
            v.progress.bar_style = "danger"
            v.status.value = "failed"
        finally:
            self.on_finish(item, error)
