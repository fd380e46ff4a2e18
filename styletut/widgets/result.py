"""One run of the panel, as the panel keeps it: :class:`PanelResult`."""

from __future__ import annotations

from dataclasses import dataclass

import torch

from ..options import StylizeOptions
from ..transfer import Result

__all__ = ["PanelResult"]


@dataclass(frozen=True)
class PanelResult:
    """One finished, stopped or failed run of the panel.

    Attributes:
        number: 1 for the panel's first run, 2 for the next, ...
        image: the stylised image ``(1, 3, H, W)``: the best one the run saw,
            also when Stop or an error ended it early.
        options: the :class:`~styletut.transfer.StylizeOptions` of the run, as
            echoed in :attr:`call` (the panel itself also passes ``progress=False``).
        call: the ``stylize(...)`` expression that reproduces the run.
        code: :attr:`call` with the imports it needs, ready to paste in a cell.
        result: what :func:`~styletut.transfer.stylize` returned (history,
            timings, inputs); after an error, the same built from the steps
            the panel saw.
        stopped: the Stop button ended the run early.
        upload_names: names of uploaded files the call reads with ``load_image``.
        error: what ended the run, if an error did (``None`` otherwise).
        style2, style2_seed: the second style of the run (``"none"``: one
            style), which Restore picks again with the options.
    """

    number: int
    image: torch.Tensor
    options: StylizeOptions
    call: str
    code: str
    result: Result
    stopped: bool
    upload_names: tuple[str, ...] = ()
    error: str | None = None
    style2: str = "none"
    style2_seed: int = 0

    @property
    def steps_done(self) -> int:
        return self.result.history.steps_done

    @property
    def final_loss(self) -> float:
        return self.result.history.best_loss

    @property
    def outcome(self) -> str:
        """``"done"``, ``"stopped"`` or ``"failed"``."""
        return "failed" if self.error else ("stopped" if self.stopped else "done")

    def summary(self) -> str:
        """A one-line description of the run's settings and outcome."""
        o = self.options
        weights = f"α={o.content_weight:g} β={o.beta:g}" + (f" γ={o.tv_weight:g}" if o.tv_weight else "")
        return (f"#{self.number} {o.optimizer} · {o.size} px · {self.steps_done}/{o.num_steps} steps "
                f"({self.outcome}) · {weights} · loss {self.final_loss:.3g} · "
                f"{self.result.timings['optimize_s']:.1f} s")
