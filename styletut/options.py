"""Every knob of a style transfer, validated once: :class:`StylizeOptions`.

One source of truth: ``stylize``, the control panel and the command line all
take their options from this class. Each field carries its help text and its
choices in ``metadata``; ``styletut.cli`` generates its flags from them, so a
new option is reachable from the shell the moment it exists here. Choice
lists are defined once, in :mod:`styletut.names`, and only referred to. This
module imports no torch, so the command line answers ``--help`` and rejects a
mistyped option at once; whether a device exists is checked when a run starts.

Options are immutable: change one with ``dataclasses.replace(opts, lr=0.1)``,
which validates again.

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import dataclasses
import math
import numbers
from dataclasses import dataclass, field

from .names import (COLOUR_MODES, DEFAULT_STYLE_NORM, DEVICES, INITS, MASK_SHAPES, OPTIMIZERS, POOLINGS,
                    STYLE_NORMS, STYLE_STATS, WEIGHTS, check_device_name, list_layers)

__all__ = ["StylizeOptions", "INITS", "DEFAULT_STYLE_WEIGHT", "MIN_SIZE", "MAX_SIZE", "MULTISCALE_FROM",
           "MULTISCALE_LEVELS", "MAX_STYLE_SCALE"]


# The default β for each style normalisation (``style_weight=None``), measured by
# benchmarks/bench_style_norm.py: each is the old default (tutorial, β = 5)
# times the median ratio of the tutorial style loss to the convention's over
# the five procedural styles, rounded, so a typical style starts from the same
# balance of content and style in every convention.
DEFAULT_STYLE_WEIGHT = {"tutorial": 5.0, "gatys": 1e-4, "relative": 4e6}

# VGG19 halves the resolution at each of the four pools before relu5_1: below
# 16 px the deepest style layer has no pixels left.
MIN_SIZE = 16
# A sanity bound on the number itself (typos like 25600); whether a size fits
# this machine's memory is checked separately (styletut.memory.check_fits).
MAX_SIZE = 16384

# Coarse-to-fine by default from this size up (benchmarks/bench.py measures
# the gain): optimise at MIN_LEVEL_SIZE..2*MIN_LEVEL_SIZE px first, then at
# each doubling up to the full size, at most MULTISCALE_LEVELS levels. Below
# 512 px the default stays single scale, which the lessons' small images use.
MULTISCALE_FROM = 512
MULTISCALE_LEVELS = 6
# No level smaller than this: below it VGG19's deep layers see almost nothing.
MIN_LEVEL_SIZE = 64
MAX_LEVELS = 6

# style_scale's range: a style image 1/8 to 8 times the result's size. Beyond
# it the style is either a few pixels wide or mostly unseen by VGG19's
# receptive fields (and 8x a 512 px result is already 4096 px to encode).
MAX_STYLE_SCALE = 8.0

_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def _opt(default, help: str, *, choices=None, flag: str | None = None, kind: str | None = None, **kw):
    """A dataclass field with the metadata the CLI and the panel read."""
    return field(default=default, metadata={"help": help, "choices": choices, "flag": flag, "kind": kind}, **kw)


@dataclass(frozen=True)
class StylizeOptions:
    """Every knob of :func:`~styletut.transfer.stylize`, validated on creation.

    Attributes:
        size: longest side of the content image (and the result) in pixels
            (``None``: as loaded).
        style_size: longest side of the style image (default: ``size``).
        num_steps: optimisation steps (objective evaluations); 0 returns the
            initial image.
        optimizer: one of ``styletut.optim.OPTIMIZERS``.
        lr: learning rate (``None``: the optimizer's default, ``styletut.optim.DEFAULT_LR``).
        content_layers: VGG19 layers for the content loss.
        style_layers: VGG19 layers for the style loss.
        style_layer_weights: one *relative* weight per style layer, normalised
            to sum 1 (``None``: equal). The strength of style is ``style_weight``.
        style_norm: how each layer's Gram mismatch is scaled, one of
            ``styletut.losses.STYLE_NORMS``.
        content_weight: the content term's weight α.
        style_weight: the style term's weight β (``None``: ``DEFAULT_STYLE_WEIGHT[style_norm]``).
        tv_weight: the total-variation term's weight γ.
        init: start from ``"content"``, ``"noise"`` or the resized ``"style"`` image.
        seed: seeds the noise init and SGD's random crops (local generators:
            the global random state is never touched).
        device: ``"auto"`` (CUDA when present), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``.
        weights: one of ``styletut.features.WEIGHTS``.
        pooling: one of ``styletut.features.POOLINGS``.
        crop_frac: for ``"sgd"``, the side of the random crop ξ as a fraction of the image.
        levels: coarse-to-fine pyramid levels (``None``: from
            :data:`MULTISCALE_FROM` px up, as many as keep the smallest level
            at least :data:`MIN_LEVEL_SIZE` px, else 1). Level k from the top
            optimises at 1/2**k of the size, starting from the coarser level's
            result upsampled; ``num_steps`` is split across the levels by
            :func:`styletut.pyramid.split_steps`.
        lean_memory: recompute activations in the backward pass
            (``VGG19Features(lean=True)``): ``None`` picks it only when the
            plain path would not fit in memory (``styletut.memory.check_fits``).
        style_scale: the style image's longest side relative to the result's
            (2: the style is seen twice as large, so its strokes come out twice
            as big; 0.5: finer). Exclusive with ``style_size``.
        style_blend: with several style images, one relative weight each
            (normalised to sum 1; ``None``: equal). Without masks the styles'
            statistics are mixed per layer; with masks each weight scales its
            region's style term.
        style_masks: with masks, one region per style image, each a shape
            name from ``styletut.names.MASK_SHAPES`` (``"left"``, ``"centre"``,
            ...) or a greyscale image file (white: the style applies there).
            Each style then paints only its region (guided statistics, Gatys
            et al. 2017); outside every region only the content loss acts.
        style_stats: how a style layer is summarised, one of
            ``styletut.names.STYLE_STATS`` (``"gram"``, ``"meanstd"``,
            ``"sliced"``; see ``styletut.statistics``). Other than ``"gram"``
            needs ``style_norm="relative"``.
        preserve_colour: keep the content photo's colours, one of
            ``styletut.names.COLOUR_MODES``: ``"luminance"`` paints the
            luminance only, ``"meancov"`` / ``"histogram"`` recolour the style
            image first (see ``styletut.colour``).
        progress: show a progress bar.

    Raises:
        ValueError: a value out of range or not among the choices (the message
            names the field, the value and the valid choices).
        TypeError: a value of the wrong type (a string for a number, ...).

    Example:
        >>> opts = StylizeOptions(num_steps=50, optimizer="adam")
        >>> dataclasses.replace(opts, lr=0.05).lr
        0.05
    """

    size: int | None = _opt(256, "longest side of the result in pixels", kind="size")
    style_size: int | None = _opt(None, "longest side of the style image (default: --size)", kind="size")
    num_steps: int = _opt(150, "optimisation steps (objective evaluations)", flag="--steps", kind="int")
    optimizer: str = _opt("lbfgs", "the optimiser", choices=OPTIMIZERS)
    lr: float | None = _opt(None, "learning rate (default depends on the optimizer)", kind="float")
    content_layers: tuple[str, ...] = _opt(("relu4_2",), "comma-separated VGG19 layers for the content loss "
                                           "(see `styletut layers`)", kind="layers")
    style_layers: tuple[str, ...] = _opt(_STYLE_LAYERS, "comma-separated VGG19 layers for the style loss",
                                         kind="layers")
    style_layer_weights: tuple[float, ...] | None = _opt(
        None, "comma-separated relative weights, one per style layer (normalised to sum 1; default equal)",
        kind="floats")
    style_norm: str = _opt(DEFAULT_STYLE_NORM, "how each style layer's Gram mismatch is scaled "
                           "(relative: divided by the style's own Gram norm)", choices=STYLE_NORMS)
    content_weight: float = _opt(1.0, "weight α of the content loss", kind="float")
    style_weight: float | None = _opt(None, "weight β of the style loss (default depends on --style-norm: "
                                      + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_STYLE_WEIGHT.items()) + ")",
                                      kind="float")
    tv_weight: float = _opt(0.0, "weight γ of the total-variation loss", kind="float")
    init: str = _opt("content", "the starting image", choices=INITS)
    seed: int = _opt(0, "random seed (noise init, SGD crops)", kind="int")
    device: str = _opt("auto", "auto (CUDA when present), cpu, cuda or cuda:N", kind="device")
    weights: str = _opt("caffe", "VGG19 weights", choices=WEIGHTS)
    pooling: str = _opt("max", "VGG19 pooling", choices=POOLINGS)
    crop_frac: float = _opt(0.5, "for sgd: side of the random crop as a fraction of the image", kind="float")
    levels: int | None = _opt(None, "coarse-to-fine pyramid levels, each twice the size of the one before "
                              f"(default: from {MULTISCALE_FROM} px up, down to {MIN_LEVEL_SIZE} px; else 1 = single scale)",
                              kind="levels")
    lean_memory: bool | None = _opt(None, "recompute VGG19 activations in the backward pass to save memory "
                                    "(default: only when the plain path would not fit)", kind="tristate")
    style_scale: float = _opt(1.0, "size of the style image relative to the result: 2 paints strokes twice "
                              "as big, 0.5 half as big (not with --style-size)", kind="float")
    style_blend: tuple[float, ...] | None = _opt(
        None, "with several style images: comma-separated relative weights, one per style (default equal)",
        kind="floats")
    style_masks: tuple[str, ...] | None = _opt(
        None, "comma-separated regions, one per style image: a shape (" + ", ".join(MASK_SHAPES)
        + ") or a greyscale image file, white where the style applies", kind="masks")
    style_stats: str = _opt("gram", "how a style layer is described: Gram matrix, per-channel mean and std, "
                            "or sliced Wasserstein (random 1-D projections)", choices=STYLE_STATS)
    preserve_colour: str = _opt("none", "keep the photo's colours: paint the luminance only, or recolour "
                                "the style first (mean/covariance or per-channel histograms)",
                                choices=COLOUR_MODES)
    progress: bool = _opt(True, "show a progress bar", kind="bool")

    def __post_init__(self):
        for f in dataclasses.fields(self):
            value = _check_field(f, getattr(self, f.name))
            object.__setattr__(self, f.name, value)  # normalised form (tuples, floats)
        self._check_together()

    def _check_together(self) -> None:
        if not self.style_layers and (self.style_weight is None or self.style_weight > 0):
            raise ValueError("style_layers is empty but style_weight > 0; tick at least one style layer "
                             "or set style_weight=0")
        if not self.content_layers and self.content_weight > 0:
            raise ValueError("content_layers is empty but content_weight > 0; pick a content layer "
                             "or set content_weight=0")
        if self.style_layer_weights is not None:
            if len(self.style_layer_weights) != len(self.style_layers):
                raise ValueError(
                    f"style_layer_weights has {len(self.style_layer_weights)} entries for "
                    f"{len(self.style_layers)} style layers; give one weight per layer")
            if self.style_layers and self.beta > 0 and sum(self.style_layer_weights) == 0:
                raise ValueError("style_layer_weights are all zero; give at least one style layer a "
                                 "positive weight (or set style_weight=0 for no style)")
        if self.style_size is not None and self.style_scale != 1.0:
            raise ValueError(f"style_size={self.style_size} and style_scale={self.style_scale:g} both set the style "
                             "image's size; give one (style_scale is relative to the result)")
        if self.style_stats != "gram" and self.style_norm != "relative":
            raise ValueError(f"style_stats={self.style_stats!r} is measured on the relative scale only; "
                             f"use style_norm='relative' (the default) or style_stats='gram'")
        if self.style_masks is not None and self.style_norm != "relative":
            raise ValueError("style_masks compare guided statistics on the relative scale only; "
                             "use style_norm='relative' (the default)")
        if self.style_masks is not None and self.style_blend is not None \
                and len(self.style_masks) != len(self.style_blend):
            raise ValueError(f"style_masks has {len(self.style_masks)} entries and style_blend "
                             f"{len(self.style_blend)}; give one of each per style image")
        if self.content_weight == 0 and self.beta == 0 and self.tv_weight == 0:
            raise ValueError("all loss weights are zero: nothing to optimise; give style_weight a positive value")

    def check_style_count(self, n: int) -> None:
        """Check that ``style_blend`` and ``style_masks`` have one entry per style image.

        Raises:
            ValueError: no style image, or a list of another length.

        Example:
            >>> StylizeOptions(style_blend=(3, 1)).check_style_count(1)
            Traceback (most recent call last):
            ...
            ValueError: style_blend has 2 entries for 1 style image(s); give one per style image
        """
        if n == 0:
            raise ValueError("no style image given; pass one image, or a list of them to blend")
        for name in ("style_blend", "style_masks"):
            value = getattr(self, name)
            if value is not None and len(value) != n:
                raise ValueError(f"{name} has {len(value)} entr{'y' if len(value) == 1 else 'ies'} for {n} "
                                 "style image(s); give one per style image")

    def style_side(self, content_side: int | None = None) -> int | None:
        """The longest side the style images are used at, in pixels (``None``: as loaded).

        ``style_size`` if set; else ``style_scale`` times the result's longest
        side (``size``, or ``content_side``, the content as loaded, when
        ``size`` is ``None``); with ``style_scale`` 1, simply ``size``.

        Example:
            >>> StylizeOptions(size=256, style_scale=1.5).style_side()
            384
        """
        if self.style_size is not None:
            return self.style_size
        if self.style_scale == 1.0:
            return self.size
        side = self.size if self.size is not None else content_side
        return None if side is None else round(self.style_scale * side)

    @property
    def beta(self) -> float:
        """The style weight in effect (``style_weight``, or else the default of ``style_norm``)."""
        return DEFAULT_STYLE_WEIGHT[self.style_norm] if self.style_weight is None else float(self.style_weight)

    @classmethod
    def from_kwargs(cls, **options) -> "StylizeOptions":
        """Like the constructor, but unknown names fail with the list of valid ones."""
        valid = [f.name for f in dataclasses.fields(cls)]
        unknown = [k for k in options if k not in valid]
        if unknown:
            raise TypeError(
                f"unknown option(s) {', '.join(map(repr, unknown))}; valid options: {', '.join(valid)}"
            )
        return cls(**options)

    def as_dict(self) -> dict[str, object]:
        """All fields as a plain dict (what ``stylize(**...)`` takes)."""
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)}

    def changed(self) -> dict[str, object]:
        """The options that differ from their defaults."""
        default = StylizeOptions()
        return {k: v for k, v in self.as_dict().items() if v != getattr(default, k)}

    def as_call(self, content: str = "content_img", style: str = "style_img") -> str:
        """Python source of the :func:`~styletut.transfer.stylize` call with these options.

        Example:
            >>> StylizeOptions(num_steps=50).as_call("sample('chelsea')", "style_img")
            "stylize(sample('chelsea'), style_img, num_steps=50)"
        """
        args = [content, style] + [f"{k}={v!r}" for k, v in self.changed().items()]
        return f"stylize({', '.join(args)})"


# ----------------------------------------------------------------- validation

def _is_int(v) -> bool:
    return isinstance(v, numbers.Integral) and not isinstance(v, bool)


def _is_real(v) -> bool:
    return isinstance(v, numbers.Real) and not isinstance(v, bool)


def _check_field(f: dataclasses.Field, value):
    """Validate one field's value on its own; return its normalised form."""
    name, meta = f.name, f.metadata
    if meta.get("choices") is not None:
        choices = meta["choices"]
        if not isinstance(value, str) or value not in choices:
            raise ValueError(f"unknown {name} {value!r}; choose one of: {', '.join(choices)}")
        return value
    kind = meta["kind"]
    if kind == "size":
        if value is None:
            return None
        if not _is_int(value):
            raise TypeError(f"{name} must be a whole number of pixels, got {value!r}")
        if not MIN_SIZE <= value <= MAX_SIZE:
            raise ValueError(f"{name} must be an integer of at least {MIN_SIZE} pixels and at most "
                             f"{MAX_SIZE}, got {value!r}; 256 to 512 is usual on a CPU")
        return int(value)
    if kind == "int":
        if not _is_int(value):
            raise TypeError(f"{name} must be an integer, got {value!r}")
        if name == "num_steps" and value < 0:
            raise ValueError(f"num_steps must be a non-negative integer, got {value!r}")
        if name == "seed" and not 0 <= value < 2 ** 63:
            raise ValueError(f"seed must lie in [0, 2**63), got {value!r}")
        return int(value)
    if kind == "float":
        if value is None and name in ("lr", "style_weight"):
            return None
        if not _is_real(value):
            raise TypeError(f"{name} must be a number, got {value!r}")
        value = float(value)
        if not math.isfinite(value):
            raise ValueError(f"{name} must be a finite number, got {value!r}")
        if name == "lr" and not value > 0:
            raise ValueError(f"lr must be positive, got {value}")
        if name == "style_scale" and not 1 / MAX_STYLE_SCALE <= value <= MAX_STYLE_SCALE:
            raise ValueError(f"style_scale must lie in [{1 / MAX_STYLE_SCALE:g}, {MAX_STYLE_SCALE:g}] "
                             f"(relative to the result's size), got {value:g}")
        if name == "crop_frac" and not 0.1 <= value <= 1.0:
            raise ValueError(f"crop_frac must lie in [0.1, 1], got {value}")
        if name.endswith("_weight") and value < 0:
            raise ValueError(f"{name} must be >= 0, got {value}")
        return value
    if kind == "layers":
        return _check_layers(name, value)
    if kind == "floats":
        if value is None:
            return None
        if isinstance(value, (str, bytes)) or not hasattr(value, "__iter__"):
            raise TypeError(f"{name} must be a sequence of numbers, got {value!r}")
        weights = tuple(value)
        if not all(_is_real(w) for w in weights):
            raise TypeError(f"{name} must be a sequence of numbers, got {value!r}")
        weights = tuple(float(w) for w in weights)
        if not all(math.isfinite(w) and w >= 0 for w in weights):
            raise ValueError(f"{name} must be finite and >= 0, got {weights}")
        if name == "style_blend" and not weights:
            raise ValueError("style_blend is empty; give one weight per style image, or None for equal weights")
        if name == "style_blend" and sum(weights) == 0:
            raise ValueError(f"style_blend weights are all zero ({weights}); give at least one style a positive weight")
        return weights
    if kind == "masks":
        return _check_masks(value)
    if kind == "device":
        if type(value).__module__ == "torch" and type(value).__name__ == "device":  # course.setup()'s
            value = str(value)
        if not isinstance(value, str):
            raise TypeError(f"device must be a string such as {', '.join(map(repr, DEVICES))}, got {value!r}")
        # The spelling only: whether this machine has the device is checked when
        # a run starts (styletut.runtime.resolve_device), before any work.
        return check_device_name(value)
    if kind == "levels":
        if value is None:
            return None
        if not _is_int(value):
            raise TypeError(f"levels must be a whole number of pyramid levels, got {value!r}")
        if not 1 <= value <= MAX_LEVELS:
            raise ValueError(f"levels must lie between 1 (single scale) and {MAX_LEVELS}, got {value!r}")
        return int(value)
    if kind == "tristate":
        if value is not None and not isinstance(value, bool):
            raise TypeError(f"{name} must be True, False or None (automatic), got {value!r}")
        return value
    if kind == "bool":
        if not isinstance(value, bool):
            raise TypeError(f"{name} must be True or False, got {value!r}")
        return value
    raise AssertionError(f"field {name} has no validation rule")  # a new field must get one


def _check_layers(name: str, value) -> tuple[str, ...]:
    if isinstance(value, str):
        value = (value,)
    if not hasattr(value, "__iter__"):
        raise TypeError(f"{name} must be a sequence of layer names, got {value!r}")
    value = tuple(value)
    valid = list_layers()
    bad = [v for v in value if v not in valid]
    if bad:
        raise ValueError(
            f"unknown layer name(s) in {name}: {', '.join(map(repr, bad))}; valid names "
            f"(styletut.features.list_layers()): {', '.join(valid)}"
        )
    dup = sorted({v for v in value if value.count(v) > 1})
    if dup:
        raise ValueError(f"{name} lists {', '.join(dup)} more than once; name each layer once")
    return value


def _check_masks(value) -> tuple[str, ...] | None:
    """Mask specs: shape names or file paths (whether a file exists is checked when a run loads it)."""
    if value is None:
        return None
    if isinstance(value, str):
        value = (value,)
    if not hasattr(value, "__iter__"):
        raise TypeError(f"style_masks must be a sequence of shape names or file paths, got {value!r}")
    specs = tuple(str(v) if hasattr(v, "__fspath__") else v for v in value)
    bad = [v for v in specs if not isinstance(v, str) or not v.strip()]
    if bad or not specs:
        raise TypeError(f"style_masks must be non-empty shape names ({', '.join(MASK_SHAPES)}) or image file "
                        f"paths, one per style image, got {value!r}")
    return specs
