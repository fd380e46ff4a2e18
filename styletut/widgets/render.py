"""What the panel draws: PNG bytes of images and of the loss plot, and the echo's text.

Everything here returns bytes or strings (no widgets), so the run's thread can
call it and the tests can check it without a browser.
"""

from __future__ import annotations

import html
import io

import numpy as np
from PIL import Image

from .. import images

__all__ = ["THUMB_PX", "PREVIEW_PX", "png", "placeholder_png", "loss_plot_png", "note_png", "code_text",
           "echo_html"]

THUMB_PX = 112      # thumbnails are rendered at this size
PREVIEW_PX = 224    # the live preview and the loss plot are this tall
_COLOURS = {"total": "black", "content": "tab:blue", "style": "tab:orange", "tv": "tab:green"}


def png(img) -> bytes:
    """PNG bytes of a ``(1, 3, H, W)`` tensor, an ``(H, W, 3)`` array or a PIL image.

    Example:
        >>> png(Image.new("RGB", (2, 2)))[:4]
        b'\\x89PNG'
    """
    pil = img if isinstance(img, Image.Image) else images.to_pil(images.load_image(img))
    buf = io.BytesIO()
    pil.save(buf, format="PNG")
    return buf.getvalue()


def placeholder_png() -> bytes:
    """A light grey square shown where there is no image yet."""
    return png(Image.new("RGB", (THUMB_PX, THUMB_PX), (235, 235, 235)))


def loss_plot_png(losses: dict[str, list[float]], num_steps: int) -> bytes:
    """Each loss component against the step, log scale, as PNG bytes.

    Uses matplotlib's object API with the Agg canvas (no pyplot): it is safe
    to call from the run's thread and leaves the notebook's figures alone.

    Args:
        losses: ``{component: [value per step]}`` (``{}``: a note saying what will appear).
        num_steps: the x axis spans steps 1 .. ``num_steps``.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.ticker import MaxNLocator

    if not losses:  # before the first run: say what will appear, not an empty log axis
        return note_png("the loss of each term\nappears here during a run")
    fig = Figure(figsize=(4.2, PREVIEW_PX / 80), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    for name, values in losses.items():
        steps = np.arange(1, len(values) + 1)
        vals = np.asarray(values, dtype=float)
        ok = np.isfinite(vals) & (vals > 0)  # log axis: leave out zeros (a term at its optimum)
        if ok.any():
            ax.plot(steps[ok], vals[ok], label=name, color=_COLOURS.get(name), lw=2 if name == "total" else 1.3)
    ax.set_yscale("log")
    ax.set_xlim(1, max(num_steps, 2))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))  # steps are whole numbers
    ax.set_xlabel("step", fontsize=9)
    ax.set_ylabel("weighted loss", fontsize=9)
    ax.tick_params(labelsize=8)
    ax.grid(True, which="major", alpha=0.3)
    ax.legend(fontsize=8, loc="best", framealpha=0.8)
    fig.tight_layout(pad=0.4)
    return _fig_png(fig)


def note_png(text: str) -> bytes:
    """A few centred lines of grey text, as PNG bytes the size of the loss plot.

    Shown where the loss plot would be when there is none: before the first
    run, and after one pass of a network (no loss is minimised).
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    fig = Figure(figsize=(4.2, PREVIEW_PX / 80), dpi=80)
    FigureCanvasAgg(fig)
    ax = fig.add_subplot()
    ax.set_axis_off()
    ax.text(0.5, 0.5, text, ha="center", va="center", fontsize=10, color="#777", transform=ax.transAxes)
    return _fig_png(fig)


def _fig_png(fig) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png")
    return buf.getvalue()


def code_text(call: str, content_expr: str, style_expr: str) -> str:
    """The ``stylize(...)`` (or ``zoo.run(...)``) call with the imports it needs and an assignment, ready to paste.

    Example:
        >>> print(code_text("stylize(sample('chelsea'), s)", "sample('chelsea')", "s"))
        from styletut.data import sample
        from styletut.transfer import stylize
        <BLANKLINE>
        result = stylize(sample('chelsea'), s)
        >>> print(code_text("zoo.run(zoo.load_model('fast-swirls'), sample('chelsea', size=64))",
        ...                 "sample('chelsea', size=64)", ""))
        from styletut import zoo
        from styletut.data import sample
        <BLANKLINE>
        result = zoo.run(zoo.load_model('fast-swirls'), sample('chelsea', size=64))
    """
    used = content_expr + style_expr
    one_pass = call.startswith("zoo.")
    lines = ["from styletut import zoo"] if one_pass else []
    data_names = [n for n in ("procedural", "sample") if f"{n}(" in used]
    if data_names:
        lines.append(f"from styletut.data import {', '.join(data_names)}")
    if "load_image(" in used:
        lines.append("from styletut.images import load_image")
    if not one_pass:
        lines.append("from styletut.transfer import stylize")
    return "\n".join(lines) + f"\n\nresult = {call}"


def echo_html(code: str, upload_names: tuple[str, ...] = ()) -> str:
    """The "Reproduce this result in code" block under the result."""
    note = ""
    if upload_names:
        note = ("<div style='font-size:12px;color:#555'>load_image(...) reads the file you uploaded: "
                "put it next to this notebook.</div>")
    return ("<div style='margin-top:6px'><b>Reproduce this result in code</b></div>"
            "<pre style='white-space:pre-wrap;background:#f6f8fa;border:1px solid #e0e0e0;"
            f"padding:6px;margin:2px 0;font-size:12px'>{html.escape(code)}</pre>{note}")
