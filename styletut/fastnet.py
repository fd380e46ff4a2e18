"""Style transfer in one pass: the image transformation network of Johnson et al. 2016.

Optimising pixels (lessons 05-08) costs hundreds of VGG19 passes per image.
Johnson, Alahi & Fei-Fei (2016) train a network ``f_θ`` once, for one style,
so that ``f_θ(c)`` is the stylised photo: afterwards every photo costs one
pass of a small network. Training minimises the very losses of lesson 08 (the
*perceptual losses*: content at ``relu4_2``, Gram matrices at
``relu1_1``..``relu5_1``, total variation), averaged over many photos,
with respect to the weights ``θ`` instead of the pixels.

- :class:`TransformNet`: the network: a 9x9 convolution, two stride-2
  convolutions down, residual blocks (He et al. 2016), two upsamplings by
  resize-convolution (Odena, Dumoulin & Olah 2016: no transposed convolutions,
  so no checkerboard artefacts), a 9x9 convolution back to RGB; instance
  normalisation (Ulyanov, Vedaldi & Lempitsky 2016) after every convolution but the last.
- :func:`perceptual_loss`: the training loss for one style image.
- :func:`train_fast`: trains a network on the offline photos
  (:mod:`styletut.photos`) with the resumable loop of :mod:`styletut.training`.
- :func:`stylize_fast`: one pass; a photo bigger than ``PAINT_SIZE`` is
  painted at that size and scaled back up with its own edges (guided filter).
- :func:`save_model` / :func:`load_model`: a small fp16 file, checked by sha256.

Introduced in notebooks/11_fast_networks.ipynb
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from pathlib import Path
from typing import Callable, Mapping, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from .features import VGG19Features
from .files import atomic_write
from .images import load_image
from .losses import STYLE_NORMS, content_loss, gram_matrix, style_loss, tv_loss
from .photos import PhotoCrops, training_photos
from .runtime import generator, resolve_device
from .training import TrainHistory, fit

__all__ = ["TransformNet", "perceptual_loss", "train_fast", "stylize_fast", "save_model", "load_model", "PAINT_SIZE"]

MODEL_FORMAT = "styletut-fast/1"

# The network's default width (channels after the first convolution; 2w and
# 4w after the two downsamplings), chosen by speed: the floor is a
# 512 px photo in under 0.3 s on 2 CPU cores. Measured on the course's
# machine (2-core AMD EPYC, torch 2.14.1, 2 threads, quiet machine), forward
# pass under inference_mode, best of 5 (`python benchmarks/train_fast.py --speed`):
#
#   width  parameters  memory layout    512x341   512x512
#   16     0.42 M      contiguous       0.154 s   0.247 s
#   16     0.42 M      channels_last    0.176 s   0.312 s
#   32     1.68 M      contiguous       0.510 s   0.779 s
#   32     1.68 M      channels_last    0.510 s   0.795 s
#
# Width 32 is 3x over the floor; width 16 meets it, in the default
# (contiguous) layout, which was also the faster one here.
DEFAULT_WIDTH = 16
DEFAULT_BLOCKS = 5

_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")

# The style weight β for each style normalisation (``style_weight=None``).
# Chosen by 300-step training probes (swirls, crop 128, batch 4, lr 2e-3, on 2
# cores), scored on the held-out astronaut, the harder of the two held-out
# photos, as (style, content) relative to 20 L-BFGS steps of stylize():
#
#   relative, β = 1e7      1.19, 2.33   pure texture: the photo is gone
#   relative, β = 4e6      1.07, 2.16   (1.08, 2.20 after 600 steps)
#   relative, β = 2.5e6    1.26, 1.90
#   relative, β = 1.5e6    1.57, 1.58
#   tutorial, β = 10       1.26, 1.52   (0.77, 1.42 after 600 steps)
#
# Under "relative" every layer counts alike and the network matched the
# shallow layers' colours first, at the photo's expense; "tutorial" lets the
# deep layers count most (as Johnson et al.'s unnormalised Gram loss does),
# and reached both a lower style and a lower content loss. For "relative",
# β is stylize's default; for "gatys", the tutorial β scaled as in
# styletut.options.DEFAULT_STYLE_WEIGHT.
#
# Then the whole 1350-step recipe, "tutorial", on an H100 (style, content at
# 256 px after 1350 steps; chelsea | astronaut):
#
#   β = 10                 0.59, 1.09 | 1.17, 1.21   astronaut's style misses
#   β = 12                 0.47, 1.14 | 0.88, 1.30   both inside the target
#   β = 15                 0.39, 1.29 | 0.78, 1.44
#   β = 20                 0.34, 1.41 | 0.54, 1.72   astronaut's content misses
#   β = 30                 0.36, 1.49 | 0.57, 1.84
#
# Scores wander by ±0.15 from one 150-step checkpoint to the next, so β = 12,
# with room on both sides of the target, is the default.
DEFAULT_STYLE_WEIGHT = {"tutorial": 12.0, "relative": 4e6, "gatys": 2.4e-4}


def _conv(c_in: int, c_out: int, k: int, stride: int = 1, bias: bool = False) -> nn.Conv2d:
    # Reflection padding: zero padding would show the network a dark frame
    # around every image, which it learns to paint as a border.
    return nn.Conv2d(c_in, c_out, k, stride=stride, padding=k // 2, padding_mode="reflect", bias=bias)


def _norm(c: int) -> nn.InstanceNorm2d:
    # Instance normalisation: each image's own channel statistics, whatever
    # the batch; its affine scale and shift are learnt.
    return nn.InstanceNorm2d(c, affine=True)


class _Residual(nn.Module):
    """``x + IN(conv(ReLU(IN(conv(x)))))``: the block learns a change to ``x``."""

    def __init__(self, c: int):
        super().__init__()
        self.body = nn.Sequential(_conv(c, c, 3), _norm(c), nn.ReLU(inplace=True), _conv(c, c, 3), _norm(c))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x + self.body(x)


class _Up(nn.Module):
    """Resize-convolution: nearest-neighbour x2, then a 3x3 convolution, IN, ReLU."""

    def __init__(self, c_in: int, c_out: int):
        super().__init__()
        self.conv, self.norm = _conv(c_in, c_out, 3), _norm(c_out)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, scale_factor=2.0, mode="nearest")
        return F.relu(self.norm(self.conv(x)), inplace=True)


class TransformNet(nn.Module):
    """The image transformation network of Johnson, Alahi & Fei-Fei (2016).

    ``c9s1-w, d2w, d4w, R4w x blocks, u2w, uw, c9s1-3`` with ``w = width``:
    a reflection-padded 9x9 convolution, two stride-2 3x3 convolutions,
    ``blocks`` residual blocks at a quarter of the resolution, two
    resize-convolutions (nearest x2, then 3x3), and a 9x9 convolution to RGB.
    Instance normalisation with a learnt scale and shift follows every
    convolution but the last; ReLU after each of those except where a
    residual block adds its result.

    Args:
        width: channels of the first layer (``w``); the default is the widest
            that met the 0.3 s floor at 512 px (see ``DEFAULT_WIDTH``).
        blocks: residual blocks.
        seed: seeds the initial weights (a local generator: the global
            random state is never touched).

    Forward:
        ``x``: ``(B, 3, H, W)`` in [0, 1], any ``H, W >= 16`` (odd sizes too:
        the input is padded by reflection to a multiple of 4 and the output
        cropped back). Returns ``(B, 3, H, W)`` in [0, 1].

    Raises:
        ValueError: (in forward) not ``(B, 3, H, W)``, not floating point, or
            a side below 16 px.

    Example:
        >>> net = TransformNet(width=8, blocks=1)
        >>> net(torch.rand(2, 3, 17, 23)).shape
        torch.Size([2, 3, 17, 23])

    Introduced in notebooks/11_fast_networks.ipynb
    """

    MIN_SIDE = 16

    def __init__(self, width: int = DEFAULT_WIDTH, blocks: int = DEFAULT_BLOCKS, seed: int = 0):
        super().__init__()
        if not (isinstance(width, int) and width >= 1):
            raise ValueError(f"width must be a positive integer, got {width!r}")
        if not (isinstance(blocks, int) and blocks >= 0):
            raise ValueError(f"blocks must be an integer >= 0, got {blocks!r}")
        self.width, self.blocks = width, blocks
        w = width
        with torch.device("meta"):  # no default init: it would draw from the global generator
            self.head = nn.Sequential(
                _conv(3, w, 9), _norm(w), nn.ReLU(inplace=True),
                _conv(w, 2 * w, 3, stride=2), _norm(2 * w), nn.ReLU(inplace=True),
                _conv(2 * w, 4 * w, 3, stride=2), _norm(4 * w), nn.ReLU(inplace=True),
            )
            self.res = nn.Sequential(*[_Residual(4 * w) for _ in range(blocks)])
            self.up = nn.Sequential(_Up(4 * w, 2 * w), _Up(2 * w, w))
            self.tail = _conv(w, 3, 9, bias=True)
        self.to_empty(device="cpu")
        self._init_weights(seed)

    def _init_weights(self, seed: int) -> None:
        """PyTorch's default initialisation, drawn from a local generator."""
        g = generator(seed)
        with torch.no_grad():
            for m in self.modules():
                if isinstance(m, nn.Conv2d):
                    nn.init.kaiming_uniform_(m.weight, a=math.sqrt(5), generator=g)
                    if m.bias is not None:
                        bound = 1.0 / math.sqrt(m.weight[0].numel())
                        nn.init.uniform_(m.bias, -bound, bound, generator=g)
                elif isinstance(m, nn.InstanceNorm2d):
                    nn.init.ones_(m.weight)
                    nn.init.zeros_(m.bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if not isinstance(x, torch.Tensor) or x.dim() != 4 or x.shape[1] != 3:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"TransformNet expects RGB images (B, 3, H, W) in [0, 1], got {shape}")
        if not x.is_floating_point():
            raise ValueError(f"TransformNet expects a float tensor in [0, 1], got dtype {x.dtype}; "
                             "use styletut.images.load_image")
        h, w = x.shape[-2:]
        if min(h, w) < self.MIN_SIDE:
            raise ValueError(f"image of {h} x {w} px is too small for TransformNet: both sides must be at "
                             f"least {self.MIN_SIDE} px; resize it first")
        # Two stride-2 layers and two x2 upsamplings: pad to a multiple of 4
        # (by reflection, like every convolution here) and crop back.
        ph, pw = -h % 4, -w % 4
        if ph or pw:
            x = F.pad(x, (0, pw, 0, ph), mode="reflect")
        y = self.tail(self.up(self.res(self.head(x))))
        # A sigmoid, not a clamp: every output pixel in (0, 1) keeps a gradient,
        # where a clamp would leave pixels stuck at black or white with none.
        y = torch.sigmoid(y)
        return y[..., :h, :w] if (ph or pw) else y

    def extra_repr(self) -> str:
        return f"width={self.width}, blocks={self.blocks}"


def _features_upto(net: VGG19Features, x: torch.Tensor, layers: Sequence[str]) -> dict[str, torch.Tensor]:
    """``net``'s features at ``layers`` only, running its body no deeper than the deepest of them."""
    wanted = {net._index[n]: n for n in layers}
    h, found = net.normalize(x), {}
    for i, layer in enumerate(net.body[:max(wanted) + 1]):
        h = layer(h)
        if i in wanted:
            found[wanted[i]] = h
    return found


def perceptual_loss(net_vgg: VGG19Features, style_img: torch.Tensor, content_layers: Sequence[str] = ("relu4_2",),
                    style_layers: Sequence[str] = _STYLE_LAYERS, content_weight: float = 1.0,
                    style_weight: float | None = None, tv_weight: float = 0.0, style_norm: str = "tutorial",
                    ) -> Callable[[nn.Module, torch.Tensor], dict[str, torch.Tensor]]:
    """The perceptual losses of Johnson et al. 2016, as a ``loss_fn`` for :func:`styletut.training.fit`.

    For a batch of photos ``c`` and the network's outputs ``x = f_θ(c)``:
    ``α · content_loss(F(x), F(c)) + β · style_loss(F(x), A) + γ · tv_loss(x)``,
    the objective of lesson 08 with the photo itself as the content target.
    The style's Gram matrices ``A`` are computed once, here.

    The style term's per-layer scaling is ``style_norm`` (see
    :func:`styletut.losses.gram_error`). The default, ``"tutorial"`` (the
    mean of ``(G - A)²``), is the per-layer term of Johnson et al. 2016 divided
    by ``C²``: like theirs it lets the deep layers, whose Gram entries are
    large, count most. ``stylize``'s ``"relative"`` scaling counts every
    layer alike; trained with it, the network spent itself on the colours of
    the shallow layers and lost the photo (see ``DEFAULT_STYLE_WEIGHT``).

    Args:
        net_vgg: a :class:`~styletut.features.VGG19Features` that returns (at
            least) ``content_layers`` and ``style_layers``.
        style_img: the style image ``(1, 3, h, w)`` in [0, 1], on ``net_vgg``'s device.
        content_layers, style_layers: VGG19 layer names.
        content_weight: the content term's weight ``α``.
        style_weight: the style term's weight ``β`` (``None``: :data:`DEFAULT_STYLE_WEIGHT` of ``style_norm``).
        tv_weight: the total-variation term's weight ``γ``.
        style_norm: one of ``styletut.losses.STYLE_NORMS``.

    Returns:
        ``loss_fn(model, batch) -> {"content": ..., "style": ..., "tv": ...}``
        (weighted scalar tensors; ``"tv"`` only when ``γ > 0``), with ``batch``
        ``(B, 3, H, W)`` photos in [0, 1].

    Example:
        >>> net_vgg = VGG19Features(["relu1_1", "relu2_1"], weights="random")
        >>> loss_fn = perceptual_loss(net_vgg, torch.rand(1, 3, 32, 32), ["relu2_1"], ["relu1_1"])
        >>> sorted(loss_fn(TransformNet(8, 1), torch.rand(2, 3, 32, 32)))
        ['content', 'style']

    Introduced in notebooks/11_fast_networks.ipynb
    """
    content_layers, style_layers = list(content_layers), list(style_layers)
    if style_norm not in STYLE_NORMS:
        raise ValueError(f"unknown style_norm {style_norm!r}; choose one of: {', '.join(STYLE_NORMS)}")
    if style_weight is None:
        style_weight = DEFAULT_STYLE_WEIGHT[style_norm]
    missing = [n for n in content_layers + style_layers if n not in net_vgg.layers]
    if missing:
        raise ValueError(f"net_vgg does not return layer(s) {missing}; build it with "
                         f"VGG19Features({content_layers + style_layers})")
    with torch.no_grad():
        feats = net_vgg(style_img)
        grams = {n: gram_matrix(feats[n]) for n in style_layers}

    def loss_fn(model: nn.Module, batch: torch.Tensor) -> dict[str, torch.Tensor]:
        out = model(batch)
        with torch.no_grad():
            target = _features_upto(net_vgg, batch, content_layers)
        feats = net_vgg(out)
        terms = {}
        if content_weight:
            terms["content"] = content_weight * sum(content_loss(feats[n], target[n]) for n in content_layers)
        if style_weight:
            b = batch.shape[0]
            targets = {n: g.expand(b, -1, -1) for n, g in grams.items()}
            terms["style"] = style_weight * style_loss(feats, targets, norm=style_norm)
        if tv_weight:
            terms["tv"] = tv_weight * tv_loss(out)
        return terms

    return loss_fn


class _OnDevice:
    """Batches moved to ``device``; the stream's position passes through to the checkpoint."""

    def __init__(self, batches: PhotoCrops, device: torch.device):
        self.batches, self.device = batches, device

    def __iter__(self):
        return self

    def __next__(self) -> torch.Tensor:
        return next(self.batches).to(self.device)

    def state_dict(self) -> dict:
        return self.batches.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.batches.load_state_dict(state)


def _tensor_sha256(t: torch.Tensor) -> str:
    return hashlib.sha256(t.detach().cpu().contiguous().numpy().tobytes()).hexdigest()


def train_fast(style_img, *, photos: Sequence | None = None, folder: str | os.PathLike | None = None,
               num_steps: int = 1350, crop: int = 128, batch: int = 4, width: int = DEFAULT_WIDTH,
               blocks: int = DEFAULT_BLOCKS, lr: float = 2e-3, content_weight: float = 1.0,
               style_weight: float | None = None, tv_weight: float = 0.0, style_norm: str = "tutorial", seed: int = 0,
               checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 100, resume: bool = False,
               progress: bool = True, device: str = "cpu") -> tuple[TransformNet, TrainHistory]:
    """Train a :class:`TransformNet` for one style on random crops of the training photos.

    The defaults are the recipe of the shipped ``styletut/models/fast-swirls.pt``
    (``benchmarks/train_fast.py``): about 21 minutes on 2 CPU cores.

    Args:
        style_img: the style, anything :func:`styletut.images.load_image` takes
            (used at its own size: the strokes the network paints have the
            size, in pixels, that they have in this image).
        photos: training photos ``[(name, (1, 3, H, W)), ...]``; default:
            :func:`styletut.photos.training_photos` at 512 px (with ``folder``).
        folder: a folder of your own photos added to the offline ones
            (ignored when ``photos`` is given).
        num_steps: training steps (Adam updates), one batch each.
        crop: side of the random crops, in pixels.
        batch: crops per step.
        width, blocks: the network's size (see :class:`TransformNet`).
        lr: Adam's learning rate.
        content_weight: ``α`` of :func:`perceptual_loss`.
        style_weight: ``β`` of :func:`perceptual_loss`.
        tv_weight: ``γ`` of :func:`perceptual_loss`.
        style_norm: the style term's scaling, as in :func:`perceptual_loss`.
        seed: seeds the initial weights and the crops.
        checkpoint: a checkpoint file, written atomically every
            ``checkpoint_every`` steps (see :func:`styletut.training.fit`).
        checkpoint_every: steps between checkpoints.
        resume: continue the run saved in ``checkpoint``.
        progress: show a progress bar.
        device: ``"cpu"``, ``"cuda"``, ``"auto"``, ...

    Returns:
        ``(net, history)``: the trained network in ``eval()`` mode on the CPU,
        and the :class:`~styletut.training.TrainHistory`.

    Example:
        >>> from styletut.data import procedural
        >>> net, hist = train_fast(procedural("swirls", 256), num_steps=10)   # doctest: +SKIP
        >>> stylize_fast(net, torch.rand(1, 3, 100, 150)).shape              # doctest: +SKIP
        torch.Size([1, 3, 100, 150])

    Introduced in notebooks/11_fast_networks.ipynb
    """
    dev = resolve_device(device)
    style = load_image(style_img)
    if photos is None:
        photos = training_photos(folder, size=512)
    names = [p[0] if isinstance(p, (tuple, list)) else "photo" for p in photos]
    crops = PhotoCrops(photos, crop=crop, batch=batch, seed=seed)
    layers = list(dict.fromkeys(["relu4_2", *_STYLE_LAYERS]))
    net_vgg = VGG19Features(layers, device=dev)
    loss_fn = perceptual_loss(net_vgg, style.to(dev), content_weight=content_weight,
                              style_weight=style_weight, tv_weight=tv_weight, style_norm=style_norm)
    if style_weight is None:
        style_weight = DEFAULT_STYLE_WEIGHT[style_norm]
    net = TransformNet(width, blocks, seed=seed).to(dev)
    # What makes a checkpoint this run's: everything but num_steps (a resume may train longer).
    meta = {"style_sha256": _tensor_sha256(style), "photos": names, "crop": crop, "batch": batch,
            "width": width, "blocks": blocks, "lr": float(lr), "content_weight": float(content_weight),
            "style_weight": float(style_weight), "tv_weight": float(tv_weight), "style_norm": style_norm,
            "seed": seed}
    hist = fit(net, loss_fn, _OnDevice(crops, dev), num_steps, lr=lr, checkpoint=checkpoint,
               checkpoint_every=checkpoint_every, resume=resume, progress=progress, desc="train fast", meta=meta)
    return net.cpu().eval(), hist


def _box(x: torch.Tensor, r: int) -> torch.Tensor:
    """The mean over each ``(2r+1) x (2r+1)`` window, the borders mirrored."""
    return F.avg_pool2d(F.pad(x, (r, r, r, r), mode="reflect"), 2 * r + 1, stride=1)


def _guided_filter(guide: torch.Tensor, src: torch.Tensor, radius: int, eps: float) -> torch.Tensor:
    """He, Sun & Tang's guided filter (2013) with the guide's grey level as the guide.

    In every window the output is a linear function ``a * I + b`` of the
    guide ``I``, fitted to ``src`` by least squares with ``a`` shrunk by
    ``eps``; each pixel averages the fits of the windows that cover it. Where
    the guide has an edge, the output gets that edge; where the guide is flat,
    the output is ``src`` smoothed. Here the guide is the photo and ``src``
    the network's painting scaled up: the photo's edges come back sharp.

    Args:
        guide: ``(B, 3, H, W)``; src: ``(B, C, H, W)``; radius: window
            half-width in pixels; eps: regularisation (on [0, 1] images).

    Returns:
        ``(B, C, H, W)``.
    """
    radius = max(1, min(radius, min(guide.shape[-2:]) - 1))  # reflection padding needs r < side
    i = guide.mean(1, keepdim=True)
    mean_i, mean_p = _box(i, radius), _box(src, radius)
    a = (_box(i * src, radius) - mean_i * mean_p) / (_box(i * i, radius) - mean_i ** 2 + eps)
    b = mean_p - a * mean_i
    return _box(a, radius) * i + _box(b, radius)


# Where stylize_fast paints a big photo. A network paints strokes of the
# pixel size it learnt (the shipped one: a style drawn at 256 px, on crops of
# photos scaled to 170-512 px), so at 1024 px its strokes would be a quarter
# of the style's. A photo longer than PAINT_SIZE is painted at PAINT_SIZE, or
# at 1/MAX_UPSCALE of its size if that is bigger, scaled back up, and given
# its edges back by a guided filter whose window grows with the picture
# (radius: the long side / GUIDED_RADIUS_PER px). Scores with the evaluator of
# make bench-fast (style drawn at the photo's size), relative to 20 L-BFGS
# steps, content / style, on the training photos coffee | rocket (paint sizes
# 256, 320, 384 tried on coffee; the two rules at 1024 px compared on both):
#
#   512 px   the photo's size        1.36 / 1.35             strokes too small
#            paint 320, plain        1.48 / 0.30             soft edges cost content
#            paint 320, guided r 2   1.22 / 0.35 | 0.95 / 0.97
#   1024 px  the photo's size        1.66 / 4.41
#            paint 320, guided r 4   1.42 / 0.28 | 1.39 / 0.48   content near the limit
#            paint 512, guided r 4   1.21 / 0.43 | 1.15 / 0.60   the default
#
# Scaling up by more than two loses more of the photo than the strokes gain.
# Just above PAINT_SIZE it buys little (chelsea at 384 px: style 1.14 x the
# plain pass's, content 0.72 x).

#: The longest side, in pixels, at which :func:`stylize_fast` paints by default.
PAINT_SIZE = 320
MAX_UPSCALE = 2.0
GUIDED_RADIUS_PER = 256
GUIDED_EPS = 1e-3


def _paint_side(long_side: int, paint_size: int | None) -> int:
    """The long side at which a photo of ``long_side`` px is painted."""
    if paint_size is None or long_side <= paint_size:
        return long_side
    return max(paint_size, math.ceil(long_side / MAX_UPSCALE))


def stylize_fast(net: TransformNet, content_img, paint_size: int | None = PAINT_SIZE) -> torch.Tensor:
    """Stylise a photo in one pass of a trained network.

    A network paints strokes of the pixel size it learnt, however big the
    photo. So a photo whose longest side exceeds ``paint_size`` is scaled
    down to it (or to half its size, if that is bigger: scaling up by more
    than two loses too much of the photo), painted, scaled back up, and given
    back its own edges by a guided filter (He, Sun & Tang 2013) with the photo
    as the guide. The strokes then grow with the picture, as an optimised
    picture's do when the style is drawn at the picture's size: Jing et al.'s
    (2018) observation that stroke size follows the scale the network sees.

    Args:
        net: a trained :class:`TransformNet` (from :func:`train_fast` or :func:`load_model`).
        content_img: ``(1, 3, H, W)`` in [0, 1] (or anything
            :func:`styletut.images.load_image` takes), ``H, W >= 16``.
        paint_size: the long side at which the network paints a bigger photo
            (>= 16; at least half the photo's); ``None``: always at the
            photo's own size, one plain pass.

    Returns:
        ``(1, 3, H, W)`` in [0, 1], on the photo's device; no gradient.

    Raises:
        ValueError: ``paint_size`` not an integer >= 16 (nor None).

    Example:
        >>> stylize_fast(TransformNet(8, 1), torch.rand(1, 3, 31, 40)).shape
        torch.Size([1, 3, 31, 40])
        >>> stylize_fast(TransformNet(8, 1), torch.rand(1, 3, 300, 500), paint_size=64).shape
        torch.Size([1, 3, 300, 500])

    Introduced in notebooks/11_fast_networks.ipynb
    """
    if paint_size is not None and not (isinstance(paint_size, int) and paint_size >= TransformNet.MIN_SIDE):
        raise ValueError(f"paint_size must be an integer >= {TransformNet.MIN_SIDE} (pixels on the long side), "
                         f"or None to paint at the photo's own size; got {paint_size!r}")
    img = content_img if isinstance(content_img, torch.Tensor) and content_img.dim() == 4 else load_image(content_img)
    dev = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        with torch.inference_mode():
            x = img.to(dev)
            h, w = x.shape[-2:]
            side = _paint_side(max(h, w), paint_size)
            if side == max(h, w):
                out = net(x)
            else:
                s = side / max(h, w)
                small = (max(TransformNet.MIN_SIDE, round(h * s)), max(TransformNet.MIN_SIDE, round(w * s)))
                # antialias: without it, scaling down aliases fine texture into the painting
                x_small = F.interpolate(x, size=small, mode="bicubic", align_corners=False, antialias=True)
                painted = F.interpolate(net(x_small.clamp(0, 1)), size=(h, w), mode="bicubic", align_corners=False)
                radius = max(1, round(max(h, w) / GUIDED_RADIUS_PER))
                out = _guided_filter(x, painted, radius, GUIDED_EPS).clamp(0, 1)
    finally:
        net.train(was_training)
    return out.to(img.device).clone()


def save_model(net: TransformNet, path: str | os.PathLike, meta: Mapping | None = None) -> str:
    """Save a trained network as a small fp16 file, atomically; returns its sha256.

    The file holds ``{"format": "styletut-fast/1", "config": {"width", "blocks"},
    "state": fp16 state dict, "meta": meta}``. fp16 halves the file (the
    outputs change by far less than one grey level of 255).

    Args:
        net: the network.
        path: where to write it (its folder is created).
        meta: what to remember about it (style, recipe, scores): plain
            numbers, strings, lists and dicts.

    Returns:
        The file's sha256 (hex), for :func:`load_model`'s check.

    Example:
        >>> digest = save_model(TransformNet(8, 1), "/tmp/net.pt", {"style": "swirls"})   # doctest: +SKIP
        >>> len(digest)                                                                 # doctest: +SKIP
        64

    Introduced in notebooks/11_fast_networks.ipynb
    """
    state = {k: v.detach().cpu().to(torch.float16) if v.is_floating_point() else v.detach().cpu()
             for k, v in net.state_dict().items()}
    payload = {"format": MODEL_FORMAT, "config": {"width": net.width, "blocks": net.blocks},
               "state": state, "meta": dict(meta or {})}
    buf = io.BytesIO()
    torch.save(payload, buf)
    data = buf.getvalue()
    atomic_write(path, lambda fh: fh.write(data), what="model")
    return hashlib.sha256(data).hexdigest()


def load_model(path: str | os.PathLike, sha256: str | None = None) -> tuple[TransformNet, dict]:
    """Load a network written by :func:`save_model`, checking its sha256 first.

    Args:
        path: the model file.
        sha256: the expected hash (hex); when given, a file whose hash
            differs is refused before it is unpickled.

    Returns:
        ``(net, meta)``: the network in fp32, ``eval()`` mode, on the CPU.

    Raises:
        FileNotFoundError: no such file.
        ValueError: the hash differs (the file was changed or corrupted), or
            the file is not a ``styletut-fast/1`` model.

    Example:
        >>> net, meta = load_model("styletut/models/fast-swirls.pt")   # doctest: +SKIP
        >>> net(torch.rand(1, 3, 64, 64)).shape                       # doctest: +SKIP
        torch.Size([1, 3, 64, 64])

    Introduced in notebooks/11_fast_networks.ipynb
    """
    path = Path(path).expanduser()
    if not path.is_file():
        raise FileNotFoundError(f"no model file at '{path}'; train one with benchmarks/train_fast.py "
                                "(make train-fast) or check the path")
    data = path.read_bytes()
    if sha256 is not None:
        actual = hashlib.sha256(data).hexdigest()
        if actual != sha256.lower():
            raise ValueError(f"model file '{path}' fails its sha256 check: expected {sha256.lower()}, "
                             f"found {actual}. The file was changed or corrupted; restore it (re-download "
                             "or check it out again) or retrain it (make train-fast)")
    try:
        payload = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"cannot read model file '{path}' ({type(err).__name__}: {err}); "
                         "it is damaged or not a styletut model: retrain it (make train-fast)") from err
    if not isinstance(payload, dict) or payload.get("format") != MODEL_FORMAT:
        found = payload.get("format") if isinstance(payload, dict) else type(payload).__name__
        raise ValueError(f"'{path}' is not a styletut fast-network model (format {found!r}, expected "
                         f"{MODEL_FORMAT!r}); load it with the tool that wrote it, or retrain it")
    cfg = payload["config"]
    net = TransformNet(int(cfg["width"]), int(cfg["blocks"]))
    net.load_state_dict({k: v.float() if v.is_floating_point() else v for k, v in payload["state"].items()})
    return net.eval(), dict(payload.get("meta") or {})
