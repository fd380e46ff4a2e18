"""Neural style transfer end to end: ``stylize(content, style, **options)``.

The method of Gatys, Ecker & Bethge (2016): start from an image (the content
photo, or noise) and change its pixels until its VGG19 features match the
content image's deep features and its Gram matrices match the style image's,
with a little total-variation smoothing.

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Mapping

import torch

from . import checkpoint as _ckpt
from . import images, memory
from .features import VGG19Features
from .losses import DEFAULT_STYLE_NORM, content_loss, gram_matrix, style_loss, tv_loss
from .optim import History, StepInfo, StopFlag, run
from .options import DEFAULT_STYLE_WEIGHT, INITS, StylizeOptions
from .runtime import generator, resolve_device

__all__ = ["StylizeOptions", "StyleObjective", "Result", "stylize", "INITS", "DEFAULT_STYLE_WEIGHT"]

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
        style_layer_weights: ``{layer: relative weight}`` (default equal;
            normalised to sum 1, see :func:`styletut.losses.style_loss`).
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
    # Drawn on the CPU from a local generator: the same noise on every device,
    # and the global random state is left alone.
    return torch.rand(content_img.shape, generator=generator(seed)).to(content_img.device)


def stylize(content, style, *, callback: Callable[[StepInfo], None] | None = None,
            stop: StopFlag | None = None, checkpoint: str | os.PathLike | None = None,
            checkpoint_every: int = 0, resume: bool = False,
            on_checkpoint: Callable[[torch.Tensor], None] | None = None, **options) -> Result:
    """Paint ``content`` in the style of ``style`` (Gatys et al. 2016).

    Args:
        content: anything :func:`styletut.images.load_image` takes (path,
            PIL image, array, ``(1, 3, H, W)`` tensor).
        style: likewise.
        callback: called after every step with a :class:`~styletut.optim.StepInfo`.
        stop: a :class:`~styletut.optim.StopFlag` to end the run early.
        checkpoint: a file for the run's state (image, optimiser state, history),
            written atomically every ``checkpoint_every`` steps.
        checkpoint_every: steps between checkpoints (needs ``checkpoint``; when
            resuming, 0 means the interval the checkpoint was saved with).
        resume: continue the run saved in ``checkpoint`` (same inputs and
            options, else a ``ValueError`` says what differs).
        on_checkpoint: called with the best image so far just before each
            checkpoint is written (the command line saves it to the output file).
        **options: any field of :class:`StylizeOptions` (``size``, ``num_steps``,
            ``optimizer``, ``style_weight``, ``content_layers``, ...). Unknown
            names raise ``TypeError`` listing the valid ones.

    Returns:
        A :class:`Result` with the image, loss history and timings. Ctrl-C or
        ``stop`` end the run early and still return the best image so far.

    Raises:
        ValueError: bad options, an image too large for this machine's memory
            (with a size that fits), or a checkpoint that does not match.

    The global random state is never touched (the seed drives local
    generators), so the same seed and options give the same image, bit for bit,
    on the same CPU machine. On CUDA two runs agree to float32 rounding only,
    unless ``torch.use_deterministic_algorithms(True)`` is set (cuDNN's
    backward kernels may add in a different order each run).

    Example:
        >>> from styletut.data import sample, procedural
        >>> result = stylize(sample("chelsea"), procedural("swirls", 128),
        ...                  size=128, num_steps=20, progress=False)   # doctest: +SKIP
        >>> result.image.shape                                          # doctest: +SKIP
        torch.Size([1, 3, 85, 128])
    """
    opts = StylizeOptions.from_kwargs(**options)
    if (checkpoint_every or resume) and checkpoint is None:
        raise ValueError("checkpoint_every and resume need checkpoint=PATH, the file that holds the run's state")
    if not (isinstance(checkpoint_every, int) and checkpoint_every >= 0) or (
            checkpoint is not None and not resume and checkpoint_every == 0):
        raise ValueError(f"checkpoint_every must be a positive number of steps, got {checkpoint_every!r}")
    t0 = time.perf_counter()
    device = resolve_device(opts.device)
    content_img = images.load_image(content, size=opts.size)
    style_img = images.load_image(style, size=opts.style_size or opts.size)
    # Before any real work: does the run fit this machine's memory?
    memory.check_fits(tuple(content_img.shape[-2:]), tuple(style_img.shape[-2:]), opts, device)
    content_img, style_img = content_img.to(device), style_img.to(device)
    state = None
    if checkpoint is not None:
        ckpt = _ckpt.Checkpoint(checkpoint, opts, content_img, style_img, checkpoint_every)
        state = ckpt.load() if resume else ckpt.check_free()
        checkpoint_every = ckpt.every
    layers = list(dict.fromkeys(opts.content_layers + opts.style_layers))
    net = VGG19Features(layers, weights=opts.weights, pooling=opts.pooling, device=device)
    layer_weights = None
    if opts.style_layer_weights is not None:
        layer_weights = dict(zip(opts.style_layers, opts.style_layer_weights))
    objective = StyleObjective(net, content_img, style_img, opts.content_layers, opts.style_layers,
                               opts.content_weight, opts.beta, opts.tv_weight,
                               layer_weights, opts.crop_frac, opts.style_norm)
    synth_img = _init_image(opts.init, content_img, style_img, opts.seed)

    def saved(run_state: dict) -> None:
        # The image first: a crash between the two writes leaves a newer image
        # and an older state, from which --resume still continues correctly.
        if on_checkpoint is not None:
            on_checkpoint(run_state["best_image"])
        ckpt.save(run_state)

    if device.type == "cuda":
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    history = run(objective, synth_img, opts.optimizer, opts.lr, opts.num_steps, seed=opts.seed,
                  callback=callback, stop=stop, progress=opts.progress, desc=f"stylize ({opts.optimizer})",
                  checkpoint_every=checkpoint_every if checkpoint is not None else 0,
                  on_checkpoint=saved if checkpoint is not None else None, resume=state)
    t2 = time.perf_counter()
    steps = max(history.steps_done - history.resumed_from, 1)
    timings = {"setup_s": t1 - t0, "optimize_s": t2 - t1, "per_step_s": (t2 - t1) / steps}
    return Result(history.best_image.cpu(), history, opts, timings, content_img.cpu(), style_img.cpu())
