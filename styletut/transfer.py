"""Neural style transfer end to end: ``stylize(content, style, **options)``.

The method of Gatys, Ecker & Bethge (2016): start from an image (the content
photo, or noise) and change its pixels until its VGG19 features match the
content image's deep features and its Gram matrices match the style image's,
with a little total-variation smoothing.

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import dataclass
from typing import Callable, Mapping

import torch

from . import course, images
from .features import VGG19Features, list_layers
from .losses import DEFAULT_STYLE_NORM, STYLE_NORMS, content_loss, gram_matrix, style_loss, tv_loss
from .optim import OPTIMIZERS, History, StepInfo, StopFlag, run

__all__ = ["StylizeOptions", "StyleObjective", "Result", "stylize", "INITS", "DEFAULT_STYLE_WEIGHT"]

INITS = ("content", "noise", "style")

# The default β for each style normalisation (``style_weight=None``), measured by
# benchmarks/bench_style_norm.py: each is the old default (tutorial, β = 5)
# times the median ratio of the tutorial style loss to the convention's over
# the five procedural styles, rounded, so a typical style starts from the same
# balance of content and style in every convention.
DEFAULT_STYLE_WEIGHT = {"tutorial": 5.0, "gatys": 1e-4, "relative": 4e6}


@dataclass
class StylizeOptions:
    """Every knob of :func:`stylize`, validated on creation.

    Attributes:
        size: longest side of the content image in pixels (``None``: as loaded).
        style_size: longest side of the style image (default: ``size``).
        num_steps: optimisation steps.
        optimizer: ``"lbfgs"``, ``"adam"``, ``"gd"`` or ``"sgd"``.
        lr: learning rate (default per optimizer, ``styletut.optim.DEFAULT_LR``).
        content_layers: VGG19 layers for the content loss.
        style_layers: VGG19 layers for the style loss.
        style_layer_weights: one weight per style layer (default equal, summing to 1).
        style_norm: how each layer's Gram mismatch is scaled, one of
            ``styletut.losses.STYLE_NORMS`` (``"relative"``: divided by the
            style Gram's own norm, so one ``style_weight`` means about the same
            strength for every style image; ``"tutorial"``, ``"gatys"``).
        content_weight, style_weight, tv_weight: weights of the three losses
            (``style_weight=None``: ``DEFAULT_STYLE_WEIGHT[style_norm]``).
        init: start from ``"content"``, ``"noise"`` or the resized ``"style"`` image.
        seed: seeds the noise init and SGD's random crops.
        device: ``"auto"`` (CUDA when present), ``"cpu"`` or ``"cuda"``.
        weights: ``"caffe"`` (original VGG19), ``"torchvision"`` or ``"random"``.
        pooling: ``"max"`` or ``"avg"``.
        crop_frac: for ``"sgd"``, the side of the random crop ξ as a fraction of the image.
        progress: show a progress bar.
    """

    size: int | None = 256
    style_size: int | None = None
    num_steps: int = 150
    optimizer: str = "lbfgs"
    lr: float | None = None
    content_layers: tuple[str, ...] = ("relu4_2",)
    style_layers: tuple[str, ...] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")
    style_layer_weights: tuple[float, ...] | None = None
    style_norm: str = DEFAULT_STYLE_NORM
    content_weight: float = 1.0
    style_weight: float | None = None
    tv_weight: float = 0.0
    init: str = "content"
    seed: int = 0
    device: str = "auto"
    weights: str = "caffe"
    pooling: str = "max"
    crop_frac: float = 0.5
    progress: bool = True

    def __post_init__(self):
        valid = list_layers()
        for name in ("content_layers", "style_layers"):
            value = getattr(self, name)
            value = (value,) if isinstance(value, str) else tuple(value)
            setattr(self, name, value)
            bad = [v for v in value if v not in valid]
            if bad:
                raise ValueError(
                    f"unknown layer name(s) in {name}: {', '.join(map(repr, bad))}; valid names "
                    f"(styletut.features.list_layers()): {', '.join(valid)}"
                )
        if not self.style_layers and (self.style_weight is None or self.style_weight > 0):
            raise ValueError("style_layers is empty but style_weight > 0; tick at least one style layer")
        if not self.content_layers and self.content_weight > 0:
            raise ValueError("content_layers is empty but content_weight > 0; pick a content layer or set content_weight=0")
        if self.style_layer_weights is not None:
            self.style_layer_weights = tuple(float(w) for w in self.style_layer_weights)
            if len(self.style_layer_weights) != len(self.style_layers):
                raise ValueError(
                    f"style_layer_weights has {len(self.style_layer_weights)} entries for "
                    f"{len(self.style_layers)} style layers; give one weight per layer"
                )
            if any(w < 0 for w in self.style_layer_weights):
                raise ValueError("style_layer_weights must be >= 0")
        if self.style_norm not in STYLE_NORMS:
            raise ValueError(f"unknown style_norm {self.style_norm!r}; choose one of: {', '.join(STYLE_NORMS)}")
        for name in ("content_weight", "style_weight", "tv_weight"):
            if getattr(self, name) is not None and getattr(self, name) < 0:
                raise ValueError(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.content_weight == 0 and self.beta == 0 and self.tv_weight == 0:
            raise ValueError("all loss weights are zero: nothing to optimise; give style_weight a positive value")
        if self.optimizer not in OPTIMIZERS:
            raise ValueError(f"unknown optimizer {self.optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
        if self.lr is not None and not self.lr > 0:
            raise ValueError(f"lr must be positive, got {self.lr}")
        if self.init not in INITS:
            raise ValueError(f"unknown init {self.init!r}; choose one of: {', '.join(INITS)}")
        for name in ("size", "style_size"):
            v = getattr(self, name)
            if v is not None and (not isinstance(v, int) or v < 16):
                raise ValueError(f"{name} must be an integer of at least 16 pixels, got {v!r}")
        if not isinstance(self.num_steps, int) or self.num_steps < 0:
            raise ValueError(f"num_steps must be a non-negative integer, got {self.num_steps!r}")
        if not 0.1 <= self.crop_frac <= 1.0:
            raise ValueError(f"crop_frac must lie in [0.1, 1], got {self.crop_frac}")
        course.resolve_device(self.device)  # raises a clear error for a bad device

    @property
    def beta(self) -> float:
        """The style weight in effect: ``style_weight``, or the default of ``style_norm``."""
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

    def changed(self) -> dict[str, object]:
        """The options that differ from their defaults."""
        default = StylizeOptions()
        return {f.name: getattr(self, f.name) for f in dataclasses.fields(self)
                if getattr(self, f.name) != getattr(default, f.name)}

    def as_call(self, content: str = "content_img", style: str = "style_img") -> str:
        """Python source of the :func:`stylize` call with these options.

        Example:
            >>> StylizeOptions(num_steps=50).as_call("sample('chelsea')", "style_img")
            "stylize(sample('chelsea'), style_img, num_steps=50)"
        """
        args = [content, style] + [f"{k}={v!r}" for k, v in self.changed().items()]
        return f"stylize({', '.join(args)})"


class StyleObjective:
    """The style-transfer objective ``J(x) = α·content + β·style + γ·TV``.

    Targets are computed once at construction: content features and style
    Gram matrices never change during the optimisation.

    Args:
        net: a :class:`~styletut.features.VGG19Features` returning at least the
            content and style layers.
        content_img: ``(1, 3, H, W)`` or ``None`` (texture synthesis).
        style_img: ``(1, 3, H', W')`` or ``None`` (reconstruction only).
        content_layers, style_layers: layer names.
        content_weight, style_weight, tv_weight: α, β, γ (``style_weight=None``:
            ``DEFAULT_STYLE_WEIGHT[style_norm]``).
        style_layer_weights: ``{layer: weight}`` (default equal).
        crop_frac: side of SGD's random crop ξ, as a fraction of the image.
        style_norm: per-layer scaling of the style term (``styletut.losses.STYLE_NORMS``;
            ``None``: ``DEFAULT_STYLE_NORM``).

    Call:
        ``objective(x, generator=None) -> {"content": ..., "style": ..., "tv": ...}``
        (weighted terms; zero-weight terms are left out). With a generator, the
        loss is computed on one random crop ξ of ``x`` (the same crop of the
        content image gives the content target), which makes the gradient
        stochastic and each step cheaper: this is SGD's ∇J(θ, ξ).
    """

    def __init__(self, net, content_img, style_img, content_layers=("relu4_2",),
                 style_layers=("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                 content_weight=1.0, style_weight=None, tv_weight=0.0,
                 style_layer_weights: Mapping[str, float] | None = None, crop_frac: float = 0.5,
                 style_norm: str | None = None):
        self.net = net
        self.content_layers = tuple(content_layers) if content_weight > 0 else ()
        style_norm = DEFAULT_STYLE_NORM if style_norm is None else style_norm
        if style_weight is None:
            style_weight = DEFAULT_STYLE_WEIGHT[style_norm]
        self.style_layers = tuple(style_layers) if style_weight > 0 else ()
        self.content_weight, self.style_weight, self.tv_weight = content_weight, style_weight, tv_weight
        self.style_layer_weights = dict(style_layer_weights) if style_layer_weights else None
        self.crop_frac = crop_frac
        self.style_norm = style_norm
        self.content_img = content_img
        missing = [l for l in self.content_layers + self.style_layers if l not in net.layers]
        if missing:
            raise ValueError(f"the network does not return layer(s) {missing}; build it with them")
        if self.content_layers and content_img is None:
            raise ValueError("content_weight > 0 needs a content image")
        if self.style_layers and style_img is None:
            raise ValueError("style_weight > 0 needs a style image")
        with torch.no_grad():
            self.content_targets = self._content_targets(content_img) if self.content_layers else {}
            self.style_grams = {}
            if self.style_layers:
                feats = net(style_img)
                self.style_grams = {l: gram_matrix(feats[l]) for l in self.style_layers}

    def _content_targets(self, img):
        feats = self.net(img)
        return {l: feats[l] for l in self.content_layers}

    def random_crop(self, x: torch.Tensor, generator: torch.Generator) -> tuple[slice, slice]:
        """SGD's ξ: a random window of ``x``, ``crop_frac`` of each side, drawn from ``generator``.

        The window is at least 16 px a side (or the whole side, if smaller):
        VGG19 halves the resolution at each of its four pools before relu5_1,
        so 16 px is the smallest window that still leaves a 1x1 map there.

        Args:
            x: ``(B, C, H, W)``.
            generator: a seeded ``torch.Generator`` (the same seed gives the same crops).

        Returns:
            ``(rows, cols)`` slices: ``x[..., rows, cols]`` is the crop.

        Introduced in notebooks/06_sgd.ipynb
        """
        h, w = x.shape[-2:]
        ch, cw = max(16, round(h * self.crop_frac)), max(16, round(w * self.crop_frac))
        ch, cw = min(ch, h), min(cw, w)
        top = int(torch.randint(0, h - ch + 1, (1,), generator=generator))
        left = int(torch.randint(0, w - cw + 1, (1,), generator=generator))
        return (slice(top, top + ch), slice(left, left + cw))

    def __call__(self, x: torch.Tensor, generator: torch.Generator | None = None) -> dict[str, torch.Tensor]:
        content_targets = self.content_targets
        if generator is not None:
            rows, cols = self.random_crop(x, generator)
            x = x[..., rows, cols]
            if self.content_layers:
                with torch.no_grad():
                    content_targets = self._content_targets(self.content_img[..., rows, cols])
        feats = self.net(x)
        parts = {}
        if self.content_layers:
            c = sum(content_loss(feats[l], content_targets[l]) for l in self.content_layers)
            parts["content"] = self.content_weight * c / len(self.content_layers)
        if self.style_layers:
            parts["style"] = self.style_weight * style_loss(feats, self.style_grams, self.style_layer_weights,
                                                            norm=self.style_norm)
        if self.tv_weight > 0:
            parts["tv"] = self.tv_weight * tv_loss(x)
        return parts


@dataclass
class Result:
    """What :func:`stylize` returns.

    Attributes:
        image: the stylised image ``(1, 3, H, W)`` on the CPU (the best one seen).
        history: the run's :class:`~styletut.optim.History` (losses per step).
        options: the :class:`StylizeOptions` used.
        timings: ``{"setup_s", "optimize_s", "per_step_s"}`` in seconds.
        content_img, style_img: the inputs as used (resized), on the CPU.
    """

    image: torch.Tensor
    history: History
    options: StylizeOptions
    timings: dict[str, float]
    content_img: torch.Tensor
    style_img: torch.Tensor

    def save(self, path) -> "object":
        """Save :attr:`image` atomically (see :func:`styletut.images.save_image`)."""
        return images.save_image(self.image, path)

    def show(self, **kwargs):
        """Show content, style and result side by side."""
        return images.show_images([self.content_img, self.style_img, self.image],
                                  ["content", "style", "result"], **kwargs)


def _init_image(init: str, content_img: torch.Tensor, style_img: torch.Tensor, seed: int) -> torch.Tensor:
    if init == "content":
        return content_img.clone()
    if init == "style":
        return images.resize(style_img, tuple(content_img.shape[-2:])).clone()
    g = torch.Generator().manual_seed(seed)
    return torch.rand(content_img.shape, generator=g).to(content_img.device)


def stylize(content, style, *, callback: Callable[[StepInfo], None] | None = None,
            stop: StopFlag | None = None, **options) -> Result:
    """Paint ``content`` in the style of ``style`` (Gatys et al. 2016).

    Args:
        content: anything :func:`styletut.images.load_image` takes (path,
            PIL image, array, ``(1, 3, H, W)`` tensor).
        style: likewise.
        callback: called after every step with a :class:`~styletut.optim.StepInfo`.
        stop: a :class:`~styletut.optim.StopFlag` to end the run early.
        **options: any field of :class:`StylizeOptions` (``size``, ``num_steps``,
            ``optimizer``, ``style_weight``, ``content_layers``, ...). Unknown
            names raise ``TypeError`` listing the valid ones.

    Returns:
        A :class:`Result` with the image, loss history and timings. Ctrl-C or
        ``stop`` end the run early and still return the best image so far.

    Example:
        >>> from styletut.images import sample, procedural
        >>> result = stylize(sample("chelsea"), procedural("swirls", 128),
        ...                  size=128, num_steps=20, progress=False)   # doctest: +SKIP
        >>> result.image.shape                                          # doctest: +SKIP
        torch.Size([1, 3, 85, 128])
    """
    opts = StylizeOptions.from_kwargs(**options)
    t0 = time.perf_counter()
    device = course.resolve_device(opts.device)
    course.seed_everything(opts.seed)
    content_img = images.load_image(content, size=opts.size).to(device)
    style_img = images.load_image(style, size=opts.style_size or opts.size).to(device)
    layers = list(dict.fromkeys(opts.content_layers + opts.style_layers))
    net = VGG19Features(layers, weights=opts.weights, pooling=opts.pooling, device=device)
    layer_weights = None
    if opts.style_layer_weights is not None:
        layer_weights = dict(zip(opts.style_layers, opts.style_layer_weights))
    objective = StyleObjective(net, content_img, style_img, opts.content_layers, opts.style_layers,
                               opts.content_weight, opts.beta, opts.tv_weight,
                               layer_weights, opts.crop_frac, opts.style_norm)
    synth_img = _init_image(opts.init, content_img, style_img, opts.seed)
    if device.type == "cuda":
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    history = run(objective, synth_img, opts.optimizer, opts.lr, opts.num_steps, seed=opts.seed,
                  callback=callback, stop=stop, progress=opts.progress, desc=f"stylize ({opts.optimizer})")
    t2 = time.perf_counter()
    steps = max(history.steps_done, 1)
    timings = {"setup_s": t1 - t0, "optimize_s": t2 - t1, "per_step_s": (t2 - t1) / steps}
    return Result(history.best_image.cpu(), history, opts, timings, content_img.cpu(), style_img.cpu())
