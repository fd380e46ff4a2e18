"""One run of the panel, as the panel keeps it: :class:`PanelResult`."""

from __future__ import annotations

import math
from dataclasses import dataclass

import torch

from ..options import StylizeOptions
from ..transfer import Result

__all__ = ["PanelResult"]


@dataclass(frozen=True)
class PanelResult:
    """One finished, stopped or failed run of the panel: an optimisation, or one pass of a network.

    Attributes:
        number: 1 for the panel's first run, 2 for the next, ...
        image: the stylised image ``(1, 3, H, W)``: the best one the run saw,
            also when Stop or an error ended it early.
        options: the :class:`~styletut.transfer.StylizeOptions` of the run, as
            echoed in :attr:`call` (the panel itself also passes ``progress=False``).
            For one pass of a network, only what applies to it: ``size``,
            ``device`` and, for AdaIN, the style's size (``style_scale``,
            ``style_size``); the rest are defaults.
        call: the ``stylize(...)`` expression that reproduces the run, or
            ``zoo.run(zoo.load_model(...), ...)`` for a network.
        code: :attr:`call` with the imports it needs, ready to paste in a cell.
        result: what :func:`~styletut.transfer.stylize` returned (history,
            timings, inputs); after an error, the same built from the steps
            the panel saw. ``None`` for one pass of a network (no loss history).
        stopped: the Stop button ended the run early.
        upload_names: names of uploaded files the call reads with ``load_image``.
        error: what ended the run, if an error did (``None`` otherwise).
        style2: the second style of the run (``"none"``: one style), which
            Restore picks again with the options.
        style2_seed: its seed, which Restore sets again too.
        method: ``"optimise"``, or the :mod:`styletut.zoo` network that made
            the image in one pass (the panel's Method).
        alpha: AdaIN's content-style mix (``None`` otherwise).
        pass_s: seconds of the network's pass (``None`` for an optimisation;
            see :attr:`seconds`).
    """

    number: int
    image: torch.Tensor
    options: StylizeOptions
    call: str
    code: str
    result: Result | None
    stopped: bool
    upload_names: tuple[str, ...] = ()
    error: str | None = None
    style2: str = "none"
    style2_seed: int = 0
    method: str = "optimise"
    alpha: float | None = None
    pass_s: float | None = None

    @property
    def one_pass(self) -> bool:
        """Whether a trained network made the image in one pass (no optimisation)."""
        return self.method != "optimise"

    @property
    def seconds(self) -> float:
        """How long the image took (the optimisation's time, or the network's one pass)."""
        if self.result is None:
            return math.nan if self.pass_s is None else self.pass_s
        return self.result.timings["optimize_s"]

    @property
    def steps_done(self) -> int:
        """Optimisation steps done (0 for one pass of a network, which minimises nothing)."""
        return 0 if self.result is None else self.result.history.steps_done

    @property
    def final_loss(self) -> float:
        """The best total loss of an optimisation (NaN for one pass of a network, which has no loss)."""
        return math.nan if self.result is None else self.result.history.best_loss

    @property
    def outcome(self) -> str:
        """``"done"``, ``"stopped"`` or ``"failed"``."""
        return "failed" if self.error else ("stopped" if self.stopped else "done")

    @property
    def method_text(self) -> str:
        """The method in words (the optimizer, or the network with AdaIN's alpha)."""
        if not self.one_pass:
            return self.options.optimizer
        if self.alpha is None:
            return f"fast network {self.method}"
        return f"AdaIN {self.method}, alpha {self.alpha:g}" if self.method != "adain" else f"AdaIN, alpha {self.alpha:g}"

    def summary(self) -> str:
        """A one-line description of the run's settings and outcome."""
        o = self.options
        if self.one_pass:
            return (f"#{self.number} {self.method_text} · {o.size} px · one pass ({self.outcome}) · "
                    f"{self.seconds:.2f} s")
        weights = f"α={o.content_weight:g} β={o.beta:g}" + (f" γ={o.tv_weight:g}" if o.tv_weight else "")
        return (f"#{self.number} {o.optimizer} · {o.size} px · {self.steps_done}/{o.num_steps} steps "
                f"({self.outcome}) · {weights} · loss {self.final_loss:.3g} · "
                f"{self.result.timings['optimize_s']:.1f} s")
