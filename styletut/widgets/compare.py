"""The compare row: the last few results side by side, each with a Restore button.

A card lists a result's main settings, and the Controls it used (colours,
statistics, style scale, a second style and its region) when they differ
from the defaults; for one pass of a network, the network, size, device and
the pass's time.
"""

from __future__ import annotations

import html
from typing import Callable

import ipywidgets as W

from ..options import StylizeOptions
from .render import png
from .result import PanelResult

__all__ = ["CompareCard"]


class CompareCard:
    """One slot of the compare row: a result's image, its settings and a Restore button.

    Args:
        restore: called with the shown :class:`PanelResult` when Restore is
            clicked (its options, and its second style, go back into the panel).
    """

    def __init__(self, restore: Callable[[PanelResult], None]):
        self._restore = restore
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
        """Show ``item`` (``None``: hide the card)."""
        self._result = item
        if item is None:
            self.box.layout.display = "none"
            return
        o = item.options
        outcome = "" if item.outcome == "done" else f" ({item.outcome})"
        if item.one_pass:
            lines = [f"{item.method_text}{outcome}", f"{o.size} px, device {o.device}",
                     f"one pass in {item.seconds:.2f} s"]
        else:
            lines = self._optimisation_lines(item, outcome)
        self.text.value = (f"<div style='font-size:11px;line-height:1.3'><b>#{item.number}</b> "
                           + "<br>".join(html.escape(l) for l in lines) + "</div>")
        self.image.value = png(item.image)
        self.box.layout.display = ""

    @staticmethod
    def _optimisation_lines(item: PanelResult, outcome: str) -> list[str]:
        o = item.options
        return [f"{o.optimizer}, {item.steps_done}/{o.num_steps} steps{outcome}",
                f"{o.size} px, init {o.init}, seed {o.seed}",
                f"α={o.content_weight:g} β={o.beta:g} γ={o.tv_weight:g}",
                f"style: {', '.join(o.style_layers)}",
                *_controls_lines(item),
                f"loss {item.final_loss:.3g} in {item.result.timings['optimize_s']:.1f} s"]

    def _on_restore(self, _) -> None:
        if self._result is not None:
            self._restore(self._result)


def _controls_lines(item: PanelResult) -> list[str]:
    """The Controls a result used, in a line or two (none for the defaults: the card stays short)."""
    o, default = item.options, StylizeOptions()
    lines = []
    if item.style2 != "none":
        share = "equal" if o.style_blend is None else "/".join(f"{w:g}" for w in o.style_blend)
        where = "blended" if o.style_masks is None else "/".join(o.style_masks)
        lines.append(f"+ {item.style2}: {share}, {where}")
    elif o.style_masks is not None:
        lines.append(f"region {o.style_masks[0]}")
    parts = [f"{name} {getattr(o, field)}" for name, field in (("colour", "preserve_colour"), ("stats", "style_stats"))
             if getattr(o, field) != getattr(default, field)]
    if o.style_scale != default.style_scale:
        parts.append(f"scale {o.style_scale:g}")
    if parts:
        lines.append(", ".join(parts))
    return lines
