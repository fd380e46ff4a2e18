"""Choosing one image in the panel: a sample photo, a procedural painting or an upload.

One :class:`ImageSource` picks the content, another the style; a smaller
:class:`SecondStyle` (in the Controls tab) picks an optional second style.
Each knows the tensor a run uses and the Python expression that builds the
same tensor in the echoed ``stylize(...)`` call.
"""

from __future__ import annotations

import html
import math

import ipywidgets as W
import torch

from .. import data, images, styles
from .render import THUMB_PX, placeholder_png, png

__all__ = ["UPLOAD", "NO_STYLE", "ImageSource", "SecondStyle", "upload_entry", "decode_upload"]

UPLOAD = "upload"
NO_STYLE = "none"   # the second style's "no second style" (no sample or painting has this name)
_SECOND_THUMB_PX = 56
_LABELS = {"sample": "photo", "procedural": "painting", UPLOAD: "upload"}


def upload_entry(value) -> dict | None:
    """The one file in a ``FileUpload`` value (ipywidgets 8: a tuple of dicts), or ``None``."""
    return value[-1] if value else None


def decode_upload(entry: dict) -> torch.Tensor:
    """Decode one uploaded file (a ``FileUpload`` entry) to a ``(1, 3, H, W)`` tensor.

    Raises:
        ValueError: naming the file and why it cannot be used
            (:func:`styletut.images.load_image_bytes`).
    """
    return images.load_image_bytes(bytes(entry["content"]), entry["name"])


class ImageSource:
    """The widgets that choose one image, with a thumbnail of the choice.

    Args:
        role: ``"content"`` or ``"style"`` (labels, CSS classes and messages).
        kinds: the kinds offered, from ``"sample"``, ``"procedural"``, ``"upload"``.
        kind: the kind chosen at first.
        name: the sample or procedural style chosen at first.
        on_error: shows a message in the panel.
        seed, params: the procedural style's seed and parameters.

    Raises:
        TypeError: ``params`` names a parameter the style does not have.
    """

    def __init__(self, role: str, kinds: tuple[str, ...], kind: str, name: str | None,
                 on_error, seed: int = 0, params: dict | None = None):
        self.role = role
        self._on_error = on_error
        self._upload_tensor: torch.Tensor | None = None
        self._upload_error: str | None = None
        self._thumb_cache: dict[str, bytes] = {}

        self.kind = W.ToggleButtons(options=[(_LABELS[k], k) for k in kinds], value=kind,
                                    style={"button_width": "74px"})
        self.kind.add_class(f"styletut-{role}-kind")
        self.sample = W.Dropdown(options=data.list_samples(), description="photo",
                                 layout=W.Layout(width="230px"), style={"description_width": "60px"})
        self.procedural = W.Dropdown(options=data.list_procedural(), description="painting",
                                     layout=W.Layout(width="230px"), style={"description_width": "60px"})
        self.seed = W.BoundedIntText(value=seed, min=0, max=2**31 - 1, description="seed",
                                     layout=W.Layout(width="160px"), style={"description_width": "60px"})
        self.upload = W.FileUpload(accept="image/*", multiple=False, description="Upload image",
                                   layout=W.Layout(width="230px"))
        self.upload.add_class(f"styletut-{role}-upload")
        self.params: dict[str, W.ValueWidget] = {}
        self._params_box = W.VBox()
        self.thumb = W.Image(value=placeholder_png(), format="png",
                             layout=W.Layout(width=f"{THUMB_PX}px", height=f"{THUMB_PX}px",
                                             object_fit="contain", border="1px solid #ddd"))
        self.thumb.add_class(f"styletut-{role}-thumb")
        self.caption = W.HTML(layout=W.Layout(width=f"{THUMB_PX + 8}px"))
        # Why the picker is off, when a method does not use it (set_enabled).
        self.note = W.HTML(layout=W.Layout(display="none", max_width="380px"))
        self.note.add_class(f"styletut-{role}-note")
        self._enabled = True

        if name is not None:
            (self.procedural if kind == "procedural" else self.sample).value = name
        self._build_params(params or {})

        self._sample_box = W.VBox([self.sample])
        self._procedural_box = W.VBox([self.procedural, self.seed, self._params_box])
        self._upload_box = W.VBox([self.upload])
        controls = W.VBox([self.kind, self._sample_box, self._procedural_box, self._upload_box])
        self.box = W.VBox(
            [W.HTML(f"<b>{role.capitalize()}</b>"), W.HBox([W.VBox([self.thumb, self.caption]), controls],
                                                          layout=W.Layout(grid_gap="10px")), self.note],
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
            w.disabled = not self._enabled
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

    # -- in use or not

    @property
    def enabled(self) -> bool:
        """Whether the run uses this picker (see :meth:`set_enabled`)."""
        return self._enabled

    def set_enabled(self, enabled: bool, note: str = "") -> None:
        """Switch the picker's controls on or off; ``note`` (shown while off) says why."""
        self._enabled = bool(enabled)
        for w in (self.kind, self.sample, self.procedural, self.seed, self.upload, *self.params.values()):
            w.disabled = not self._enabled
        shown = note if not self._enabled else ""
        self.note.value = f"<div style='font-size:12px;color:#8a6d00'>{html.escape(shown)}</div>" if shown else ""
        self.note.layout.display = "" if shown else "none"

    # -- uploads

    def _on_upload(self, change) -> None:
        self._upload_tensor, self._upload_error = None, None
        entry = upload_entry(self.upload.value)
        if entry is not None:
            try:
                self._upload_tensor = decode_upload(entry)
            except ValueError as err:
                self._upload_error = str(err)
                self._on_error(str(err))
            if self.kind.value != UPLOAD:
                self.kind.value = UPLOAD  # uploading a file means "use it" (this refreshes)
                return
        self._refresh()

    @property
    def upload_name(self) -> str | None:
        """The uploaded file's name (``None`` before an upload)."""
        entry = upload_entry(self.upload.value)
        return entry["name"] if entry is not None else None

    # -- what the run uses

    def tensor(self, size: int) -> torch.Tensor:
        """The image for a run whose longest side is ``size``: ``(1, 3, H, W)``.

        Samples and uploads come at their own size (``stylize`` resizes them);
        a procedural painting is drawn at ``size``.

        Raises:
            ValueError: nothing uploaded yet, or the upload is not a readable image.
        """
        kind = self.kind.value
        if kind == "sample":
            return data.sample(self.sample.value)
        if kind == "procedural":
            return data.procedural(self.procedural.value, size, seed=self.seed.value, **self._param_values())
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

    def sized_tensor(self, size: int) -> torch.Tensor:
        """The image resized so its longest side is ``size``, as a trained network takes it (it does not resize).

        Raises:
            ValueError: as :meth:`tensor`.
        """
        return images.load_image(self.tensor(size), size=size)

    def sized_expression(self, size: int) -> str:
        """Python source that builds the same image as :meth:`sized_tensor`.

        Example:
            >>> src.sized_expression(256)             # doctest: +SKIP
            "sample('chelsea', size=256)"
        """
        kind = self.kind.value
        if kind == "sample":
            return f"sample({self.sample.value!r}, size={size})"
        if kind == "procedural":  # drawn square at size: already its longest side
            return self.expression(size)
        return f"load_image({self.upload_name!r}, size={size})"

    # -- thumbnail

    def _refresh(self, change=None) -> None:
        """Show the controls of the chosen kind and a thumbnail of the chosen image."""
        kind = self.kind.value
        self._sample_box.layout.display = "" if kind == "sample" else "none"
        self._procedural_box.layout.display = "" if kind == "procedural" else "none"
        self._upload_box.layout.display = "" if kind == UPLOAD else "none"
        try:
            self.thumb.value, caption = self._thumbnail()
        except (ValueError, TypeError) as err:  # e.g. a parameter out of range
            self.thumb.value, caption = placeholder_png(), "?"
            self._on_error(str(err))
        self.caption.value = (f"<div style='font-size:11px;color:#555;text-align:center;word-break:break-all'>"
                              f"{html.escape(caption)}</div>")

    def _thumbnail(self) -> tuple[bytes, str]:
        kind = self.kind.value
        if kind == UPLOAD:
            t = self._upload_tensor
            if t is None:
                return placeholder_png(), "unreadable file" if self._upload_error else "no file yet"
            return png(images.resize(t, THUMB_PX)), f"{self.upload_name} ({t.shape[-1]}×{t.shape[-2]})"
        key = self.expression(THUMB_PX)
        if key not in self._thumb_cache:  # samples and styles are picked again and again
            self._thumb_cache[key] = png(images.resize(self.tensor(THUMB_PX), THUMB_PX))
        return self._thumb_cache[key], self.sample.value if kind == "sample" else self.procedural.value


class SecondStyle:
    """An optional second style, kept small: none, a procedural painting (default parameters, a seed) or a sample photo.

    Attributes:
        choice: a ``Dropdown``: :data:`NO_STYLE`, a procedural style's name or a sample's.
        seed: the painting's seed (shown for paintings only).
        thumb: a small thumbnail of the choice.
        box: the widgets, for the Controls tab.

    Example:
        >>> s = SecondStyle()                  # doctest: +SKIP
        >>> s.choice.value = "waves"           # doctest: +SKIP
        >>> s.expression(64)                   # doctest: +SKIP
        "procedural('waves', 64, seed=0)"
    """

    def __init__(self):
        self._thumb_cache: dict[str, bytes] = {}
        options = ([(NO_STYLE, NO_STYLE)] + [(f"painting: {n}", n) for n in data.list_procedural()]
                   + [(f"photo: {n}", n) for n in data.list_samples()])
        label = {"description_width": "110px"}
        self.choice = W.Dropdown(options=options, value=NO_STYLE, description="second style", style=label,
                                 layout=W.Layout(width="290px"))
        self.seed = W.BoundedIntText(value=0, min=0, max=2**31 - 1, description="seed", style=label,
                                     layout=W.Layout(width="220px"))
        self.thumb = W.Image(value=placeholder_png(), format="png",
                             layout=W.Layout(width=f"{_SECOND_THUMB_PX}px", height=f"{_SECOND_THUMB_PX}px",
                                             object_fit="contain", border="1px solid #ddd"))
        for w, cls in ((self.choice, "style2"), (self.seed, "style2-seed"), (self.thumb, "style2-thumb")):
            w.add_class(f"styletut-{cls}")
        self.box = W.HBox([W.VBox([self.choice, self.seed]), self.thumb], layout=W.Layout(grid_gap="6px"))
        self.choice.observe(self._refresh, "value")
        self.seed.observe(self._refresh, "value")
        self._refresh()

    @property
    def active(self) -> bool:
        """Whether a second style is picked."""
        return self.choice.value != NO_STYLE

    def choose(self, name: str, seed: int | None = None) -> None:
        """Pick ``name`` (:data:`NO_STYLE`, a procedural style or a sample) and, for a painting, its seed.

        Raises:
            ValueError: an unknown name (the message lists the choices).
        """
        names = [v for _, v in self.choice.options]
        if name not in names:
            raise ValueError(f"unknown second style {name!r}; choose one of: {', '.join(names)}")
        self.choice.value = name
        if seed is not None:
            self.seed.value = int(seed)

    def set_enabled(self, enabled: bool) -> None:
        """Switch the menu and the seed on or off (off while a method cannot use a second style)."""
        self.choice.disabled = self.seed.disabled = not enabled

    def _procedural(self) -> bool:
        return self.choice.value in data.list_procedural()

    def tensor(self, size: int) -> torch.Tensor:
        """The image for a run: a sample at its own size (``stylize`` resizes it), a painting drawn at ``size``.

        Raises:
            ValueError: no second style is picked.
        """
        if not self.active:
            raise ValueError("no second style is picked; choose one in the Controls tab")
        if self._procedural():
            return data.procedural(self.choice.value, size, seed=self.seed.value)
        return data.sample(self.choice.value)

    def expression(self, size: int) -> str:
        """Python source that builds the same image as :meth:`tensor`."""
        if self._procedural():
            return f"procedural({self.choice.value!r}, {size}, seed={self.seed.value})"
        return f"sample({self.choice.value!r})"

    def _refresh(self, change=None) -> None:
        """Show the seed for paintings only, and a thumbnail of the choice."""
        self.seed.layout.display = "" if self._procedural() else "none"
        self.thumb.layout.display = "" if self.active else "none"
        if not self.active:
            return
        key = self.expression(_SECOND_THUMB_PX)
        if key not in self._thumb_cache:  # switching back and forth redraws nothing
            self._thumb_cache[key] = png(images.resize(self.tensor(_SECOND_THUMB_PX), _SECOND_THUMB_PX))
        self.thumb.value = self._thumb_cache[key]
