"""Any style in one pass: adaptive instance normalisation (AdaIN).

Huang & Belongie (2017, "Arbitrary Style Transfer in Real-time with Adaptive
Instance Normalization") observed that much of a style lives in the
per-channel means and standard deviations of a network's features (the
statistics of lesson 10's ``"meanstd"``). So: encode the photo and the style
image with VGG19 up to one layer, give the photo's features the style's
channel statistics (:func:`adain`), and let a trained decoder turn the result
back into pixels. One encoder pass per image and one decoder pass: no
optimisation at run time, and any style image, including ones the decoder
never saw.

Only the decoder is trained (:func:`train_adain`); the encoder is the fixed
VGG19 of the rest of the course, or, for speed, a :class:`StudentEncoder`: a
narrow copy of VGG19's first blocks trained beside the decoder to imitate
VGG19's features (knowledge distillation, Hinton et al. 2015; for AdaIN's
encoder, Wang et al. 2020). VGG19 up to relu3_1 costs 59 GFLOP at 512x512,
more than two CPU cores manage in 0.3 s; a width-16 student costs 6. Its loss has two parts, both measured by
that same encoder: the decoded image's features should equal the AdaIN
target ``t`` (content), and its channel statistics at relu1_1 .. relu4_1
should equal the style image's (style).

Introduced in notebooks/11_fast_networks.ipynb
"""

from __future__ import annotations

import hashlib
import io
import math
import os
from typing import Iterator, Sequence

import torch
import torch.nn.functional as F
from torch import nn

from . import files
from .features import VGG19Features
from .names import VGG19_BLOCKS

__all__ = ["ENCODER_LAYERS", "STYLE_LAYERS", "channel_stats", "adain", "Decoder", "StudentEncoder", "AdaIN",
           "adain_loss", "StyleCrops", "train_adain", "save_adain", "load_adain"]

# The encoder layers a decoder can be built for: the first ReLU of blocks 2-4.
# Huang & Belongie use relu4_1; relu3_1 is cheaper (the encoder costs 59 instead
# of 127 GFLOP at 512x512) and keeps more of the photo, with less abstract style.
ENCODER_LAYERS = ("relu2_1", "relu3_1", "relu4_1")
# Where the style's statistics are matched during training (Huang & Belongie).
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1")
# /2 adds an optional trained encoder (a StudentEncoder); /1 files (VGG19 encoder) still load.
_FORMAT = "styletut-adain/2"
_FORMATS = ("styletut-adain/1", _FORMAT)
# Channel statistics: the standard deviation is sqrt(var + EPS), finite for a flat channel.
EPS = 1e-5


def channel_stats(f: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-image, per-channel mean and standard deviation over positions.

    Args:
        f: features ``(B, C, H, W)``.

    Returns:
        ``(mean, std)``, each ``(B, C, 1, 1)``; ``std = sqrt(var + EPS)`` with
        the population variance (divide by ``H·W``).

    Example:
        >>> m, s = channel_stats(torch.ones(2, 3, 4, 4))
        >>> m.shape, float(m.mean()), round(float(s.mean()), 4)
        (torch.Size([2, 3, 1, 1]), 1.0, 0.0032)
    """
    if f.dim() != 4:
        raise ValueError(f"expected features (B, C, H, W), got shape {tuple(f.shape)}")
    var, mean = torch.var_mean(f, dim=(2, 3), keepdim=True, correction=0)
    return mean, torch.sqrt(var + EPS)


def adain(content: torch.Tensor, style: torch.Tensor) -> torch.Tensor:
    """Adaptive instance normalisation: the content's features with the style's channel statistics.

    ``AdaIN(x, y) = σ(y) · (x − μ(x)) / σ(x) + μ(y)``, per image and channel
    (Huang & Belongie 2017, eq. 8). Each channel of ``x`` keeps its spatial
    pattern (where things are) and takes ``y``'s mean and spread (how strongly
    the pattern's feature is present, on average): the style is moved as
    first and second moments, and no parameter is learned.

    Args:
        content: ``(B, C, H, W)``.
        style: ``(B, C, H', W')`` or ``(1, C, H', W')`` (one style for the whole
            batch); any spatial size.

    Returns:
        ``(B, C, H, W)``.

    Example:
        >>> x, y = torch.randn(1, 8, 5, 5), 3 + 2 * torch.randn(1, 8, 9, 9)
        >>> out = adain(x, y)
        >>> torch.allclose(channel_stats(out)[0], channel_stats(y)[0], atol=1e-5)
        True
    """
    if content.dim() != 4 or style.dim() != 4 or content.shape[1] != style.shape[1]:
        raise ValueError(f"adain needs (B, C, H, W) features with the same C; got content "
                         f"{tuple(content.shape)} and style {tuple(style.shape)}")
    if style.shape[0] not in (1, content.shape[0]):
        raise ValueError(f"style batch {style.shape[0]} must be 1 or the content's {content.shape[0]}")
    cm, cs = channel_stats(content)
    sm, ss = channel_stats(style)
    return (content - cm) / cs * ss + sm


def _pools_before(layer: str) -> int:
    """How many 2x poolings VGG19 applies before ``layer`` (relu4_1: 3)."""
    return int(layer[4]) - 1


def _check_layer_and_width(layer: str, width: int) -> None:
    """The arguments a decoder and a student encoder share: an encoder layer and a channel width."""
    if layer not in ENCODER_LAYERS:
        raise ValueError(f"unknown encoder layer {layer!r}; choose one of: {', '.join(ENCODER_LAYERS)}")
    if not (isinstance(width, int) and width >= 1):
        raise ValueError(f"width must be a positive integer, got {width!r}")


def _conv(cin: int, cout: int, relu: bool = True) -> list[nn.Module]:
    # Reflection padding, as in the encoder's mirror: zero padding darkens the borders.
    layers: list[nn.Module] = [nn.ReflectionPad2d(1), nn.Conv2d(cin, cout, 3)]
    return layers + [nn.ReLU(inplace=True)] if relu else layers


class Decoder(nn.Module):
    """Features at an encoder layer back to an image: a slim mirror of VGG19.

    For each pooling of the encoder it upsamples by 2 (nearest neighbour, then
    convolutions: no transposed convolutions, so no checkerboard; Odena,
    Dumoulin & Olah 2016). Widths are ``width · 2^k`` at the ``k``-th
    resolution (VGG19's are 64 · 2^k): ``width=16`` keeps the decoder near 1 MB.

    Args:
        layer: the encoder layer it decodes from, one of :data:`ENCODER_LAYERS`.
        width: channels at full resolution.

    Example:
        >>> dec = Decoder("relu3_1", width=8)
        >>> dec(torch.randn(1, 256, 16, 12)).shape
        torch.Size([1, 3, 64, 48])
    """

    def __init__(self, layer: str = "relu4_1", width: int = 16):
        super().__init__()
        _check_layer_and_width(layer, width)
        self.layer, self.width = layer, width
        pools = _pools_before(layer)
        in_ch = 64 * 2 ** pools  # VGG19's channels at relu{pools+1}_1
        block_convs = VGG19_BLOCKS  # the encoder's convolutions per block, mirrored
        layers = _conv(in_ch, width * 2 ** (pools - 1))
        for k in range(pools - 1, -1, -1):  # coarsest resolution first
            ch = width * 2 ** k
            layers.append(nn.Upsample(scale_factor=2, mode="nearest"))
            for _ in range(block_convs[k] - 1):
                layers += _conv(ch, ch)
            layers += _conv(ch, width * 2 ** (k - 1)) if k > 0 else _conv(ch, 3, relu=False)
        self.body = nn.Sequential(*layers)

    def forward(self, t: torch.Tensor) -> torch.Tensor:
        """``(B, C, h, w)`` features -> ``(B, 3, h·2^p, w·2^p)`` image (not clamped), ``p`` poolings."""
        return self.body(t)

    def extra_repr(self) -> str:
        return f"layer={self.layer!r}, width={self.width}"


class StudentEncoder(nn.Module):
    """A narrow VGG19 up to one layer, trained to give VGG19's features there (distillation).

    Same layout as VGG19's first blocks (its convolutions per block, 2x2 max
    pooling, zero padding, ReLU), ``width · 2^k`` channels in block ``k``
    instead of ``64 · 2^k``, and VGG19's channel count at ``layer`` in its last
    convolution, so its output can stand in for VGG19's features: the decoder,
    :func:`adain` and the loss need no change. It sees the photo as VGG19 does,
    on a 0..255 scale (centred), so its outputs start near VGG19's magnitudes.

    Args:
        layer: the VGG19 layer it imitates, one of :data:`ENCODER_LAYERS`.
        width: channels in the first block.

    Example:
        >>> StudentEncoder("relu3_1", width=8)(torch.rand(2, 3, 32, 40)).shape
        torch.Size([2, 256, 8, 10])

    Introduced in notebooks/11_fast_networks.ipynb
    """

    def __init__(self, layer: str = "relu3_1", width: int = 16):
        super().__init__()
        _check_layer_and_width(layer, width)
        self.layer, self.width = layer, width
        pools = _pools_before(layer)
        layers: list[nn.Module] = []
        ch = 3
        for k in range(pools):
            for _ in range(VGG19_BLOCKS[k]):
                layers += [nn.Conv2d(ch, width * 2 ** k, 3, padding=1), nn.ReLU(inplace=True)]
                ch = width * 2 ** k
            layers.append(nn.MaxPool2d(2))
        layers += [nn.Conv2d(ch, 64 * 2 ** pools, 3, padding=1), nn.ReLU(inplace=True)]
        self.body = nn.Sequential(*layers)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> ``(B, C, H/2^p, W/2^p)``, VGG19's ``C`` at :attr:`layer`."""
        return self.body((x - 0.45) * 255.0)

    def extra_repr(self) -> str:
        return f"layer={self.layer!r}, width={self.width}"


class AdaIN(nn.Module):
    """Encoder + :func:`adain` + :class:`Decoder`: any style in one pass.

    Args:
        decoder: a trained :class:`Decoder` (see :func:`load_adain`).
        device: where to run.
        student: a trained :class:`StudentEncoder` for ``decoder.layer`` to
            encode with, or ``None`` for the fixed VGG19 (slower).

    Example:
        >>> model = AdaIN(Decoder("relu2_1", width=4))                     # doctest: +SKIP
        >>> model(torch.rand(1, 3, 64, 48), torch.rand(1, 3, 80, 80)).shape  # doctest: +SKIP
        torch.Size([1, 3, 64, 48])
    """

    def __init__(self, decoder: Decoder, device=None, student: StudentEncoder | None = None):
        super().__init__()
        self.layer = decoder.layer
        if student is not None and student.layer != decoder.layer:
            raise ValueError(f"the student imitates {student.layer} but the decoder reads {decoder.layer}")
        self.student = student.to(device) if student is not None and device is not None else student
        # Only one encoder is built: VGG19 stays out of a model that has a student.
        self.encoder = None if student is not None else VGG19Features([decoder.layer], weights="caffe", device=device)
        self.decoder = decoder.to(device) if device is not None else decoder

    def encode(self, img: torch.Tensor) -> torch.Tensor:
        """``(B, 3, H, W)`` in [0, 1] -> the encoder layer's features."""
        if self.student is not None:
            return self.student(img)
        return self.encoder(img)[self.layer]

    def forward(self, content_img: torch.Tensor, style_img: torch.Tensor, alpha: float = 1.0) -> torch.Tensor:
        """Stylise ``content_img`` ``(B, 3, H, W)`` with ``style_img``; returns ``(B, 3, H, W)`` in [0, 1].

        ``alpha`` in [0, 1] mixes the AdaIN target with the photo's own
        features before decoding (Huang & Belongie's content-style trade-off):
        0 decodes the photo's features, 1 the full style.
        """
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"alpha must lie in [0, 1], got {alpha!r}")
        h, w = content_img.shape[-2:]
        x = _pad_to(content_img, 2 ** _pools_before(self.layer))
        fc, fs = self.encode(x), self.encode(style_img)
        t = adain(fc, fs)
        t = alpha * t + (1 - alpha) * fc
        return self.decoder(t)[..., :h, :w].clamp(0, 1)


def _pad_to(img: torch.Tensor, multiple: int) -> torch.Tensor:
    """Reflection-pad the bottom and right so H and W are multiples of ``multiple``."""
    h, w = img.shape[-2:]
    ph, pw = -h % multiple, -w % multiple
    if ph == 0 and pw == 0:
        return img
    return F.pad(img, (0, pw, 0, ph), mode="reflect" if min(h, w) > max(ph, pw) else "replicate")


def adain_loss(encoder: VGG19Features, decoder: Decoder, style_weight: float = 1.0,
               identity_weight: float = 1.0, distill_weight: float = 1.0):
    """The decoder's training loss, as a ``loss_fn(decoder, (content, style))`` for ``styletut.training.fit``.

    Every term is relative (divided by its target's own energy, as the
    course's ``"relative"`` style norm), so each reads as a fraction and one
    weight suits any encoder layer:

    - ``content``: ``‖φ(g(t)) − t‖² / ‖t‖²`` at the encoder layer, where ``t``
      is the AdaIN target and ``g`` the decoder: decoding must give back
      features with the target's pattern *and* statistics;
    - ``style``: over :data:`STYLE_LAYERS`, ``(‖μ − μ_s‖² + ‖σ − σ_s‖²) /
      (‖μ_s‖² + ‖σ_s‖²)`` of the decoded image's channel statistics against
      the style's, averaged over the layers, times ``style_weight``
      (Huang & Belongie 2017 use these two terms, with absolute errors);
    - ``identity``: ``‖g(φ(c)) − c‖² / ‖c‖²`` in pixels, times
      ``identity_weight``: with the photo as its own style, AdaIN changes
      nothing, so the decoder must give the photo back. This *identity loss*
      (Park & Lee 2019) hands the decoder a direct, per-pixel signal for
      colours and shapes, which the feature losses alone convey slowly; on a
      CPU budget of a few thousand steps it is the difference between a
      decoder that paints and one that does not. (``identity_weight=0``
      drops it, and its decoder pass.)

    When the model trained is an :class:`AdaIN` with a :class:`StudentEncoder`,
    the student encodes (and is trained through every term), while the targets
    stay VGG19's: ``t`` is VGG19's AdaIN target, and a fourth term,

    - ``distill``: ``‖ψ(x) − φ(x)‖² / ‖φ(x)‖²`` for the photo and the style
      image, averaged, times ``distill_weight``, keeps the student's features
      ``ψ`` close to VGG19's ``φ`` (Hinton et al. 2015's distillation, on
      features; Wang et al. 2020 train AdaIN's small encoder with the decoder
      in this collaborative way).

    Args:
        encoder: a :class:`~styletut.features.VGG19Features` returning at least
            :data:`STYLE_LAYERS` and ``decoder.layer``.
        decoder: the decoder being trained (its ``layer`` is read once).
        style_weight: λ.
        identity_weight: the identity term's weight.
        distill_weight: the distillation term's weight (with a student only).

    Returns:
        ``loss_fn(model, batch) -> {"content", "style"[, "identity"][, "distill"]: scalar}``,
        ``model`` a :class:`Decoder` or an :class:`AdaIN` (its decoder and student are trained),
        ``batch = (content (B, 3, S, S), style (B, 3, S, S))``.
    """
    layer = decoder.layer
    missing = [n for n in (*STYLE_LAYERS, layer) if n not in encoder.layers]
    if missing:
        raise ValueError(f"the encoder must return {', '.join(missing)}; build it with "
                         f"VGG19Features({list(dict.fromkeys((*STYLE_LAYERS, layer)))!r})")

    def loss_fn(model: Decoder | AdaIN, batch) -> dict[str, torch.Tensor]:
        content, style = batch
        dec, student = (model.decoder, model.student) if isinstance(model, AdaIN) else (model, None)
        with torch.no_grad():
            fs = encoder(style)
            fc = encoder(content)[layer]
            t = adain(fc, fs[layer])
        if student is None:
            out = encoder(dec(t))
        else:
            # The student encodes; the decoded image is judged against VGG19's target t.
            psi_c, psi_s = student(content), student(style)
            out = encoder(dec(adain(psi_c, psi_s)))
        style_terms = []
        for n in STYLE_LAYERS:
            gm, gs = channel_stats(out[n])
            sm, ss = channel_stats(fs[n])
            energy = sm.pow(2).sum() + ss.pow(2).sum()
            style_terms.append(((gm - sm).pow(2).sum() + (gs - ss).pow(2).sum()) / energy)
        terms = {"content": (out[layer] - t).pow(2).sum() / t.pow(2).sum(),
                 "style": style_weight * torch.stack(style_terms).mean()}
        if identity_weight:
            h, w = content.shape[-2:]
            back = dec(fc if student is None else psi_c)[..., :h, :w]
            terms["identity"] = identity_weight * (back - content).pow(2).sum() / content.pow(2).sum()
        if student is not None:
            terms["distill"] = distill_weight * 0.5 * ((psi_c - fc).pow(2).sum() / fc.pow(2).sum()
                                                       + (psi_s - fs[layer]).pow(2).sum() / fs[layer].pow(2).sum())
        return terms

    return loss_fn


class StyleCrops:
    """Endless style images for training: seeded procedural variations, plus the user's.

    Every ``refresh`` batches, a new pool of procedural style images is painted
    (each a random style of ``styletut.data.list_procedural()`` with a fresh
    seed and random parameters left at their defaults), so the decoder sees a
    new variation of every style again and again. Batches are random crops of
    the pool and of ``extra`` images, flipped at random.

    Args:
        crop: side of the square crops.
        batch: images per batch.
        seed: seeds everything (a local generator: the global random state is untouched).
        extra: the user's style images, ``(1, 3, H, W)`` each, at least ``crop`` on each side.
        pool: procedural images per refresh.
        refresh: batches between refreshes.

    Example:
        >>> crops = StyleCrops(crop=32, batch=2, pool=2)   # doctest: +SKIP
        >>> next(iter(crops)).shape                         # doctest: +SKIP
        torch.Size([2, 3, 32, 32])
    """

    def __init__(self, crop: int = 128, batch: int = 4, seed: int = 0,
                 extra: Sequence[torch.Tensor] = (), pool: int = 16, refresh: int = 50):
        self.crop, self.batch, self.seed = crop, batch, seed
        self.pool_size, self.refresh = pool, refresh
        self.extra = [e for e in extra]
        for k, e in enumerate(self.extra):
            if e.dim() != 4 or min(e.shape[-2:]) < crop:
                raise ValueError(f"style image {k} has shape {tuple(e.shape)}; each must be (1, 3, H, W) "
                                 f"with both sides at least crop={crop}")
        self._gen = torch.Generator().manual_seed(seed)
        self._count = 0
        self._pool: list[torch.Tensor] = []

    def _paint_pool(self) -> None:
        from .data import list_procedural, procedural

        names = list_procedural()
        side = 2 * self.crop
        pool = []
        for _ in range(self.pool_size):
            name = names[int(torch.randint(len(names), (1,), generator=self._gen))]
            seed = int(torch.randint(2 ** 31 - 1, (1,), generator=self._gen))
            pool.append(procedural(name, side, seed=seed))
        self._pool = pool

    def __iter__(self) -> Iterator[torch.Tensor]:
        return self

    def __next__(self) -> torch.Tensor:
        if self._count % self.refresh == 0 or not self._pool:
            self._paint_pool()
        self._count += 1
        sources = self._pool + self.extra
        out = []
        for _ in range(self.batch):
            img = sources[int(torch.randint(len(sources), (1,), generator=self._gen))]
            h, w = img.shape[-2:]
            y = int(torch.randint(h - self.crop + 1, (1,), generator=self._gen))
            x = int(torch.randint(w - self.crop + 1, (1,), generator=self._gen))
            c = img[..., y:y + self.crop, x:x + self.crop]
            if bool(torch.rand(1, generator=self._gen) < 0.5):
                c = c.flip(-1)
            out.append(c)
        return torch.cat(out)

    def state_dict(self) -> dict:
        """The generator state and counters, so a resumed run draws the same batches."""
        return {"gen": self._gen.get_state(), "count": self._count, "pool": self._pool}

    def load_state_dict(self, state: dict) -> None:
        self._gen.set_state(state["gen"])
        self._count = int(state["count"])
        self._pool = list(state["pool"])


class _Pairs:
    """Zip content and style batches into ``(content, style)`` pairs, resumably."""

    def __init__(self, contents, styles, device):
        self.contents, self.styles, self.device = contents, styles, device

    def __iter__(self):
        return self

    def __next__(self):
        return next(self.contents).to(self.device), next(self.styles).to(self.device)

    def state_dict(self) -> dict:
        return {"contents": self.contents.state_dict(), "styles": self.styles.state_dict()}

    def load_state_dict(self, state: dict) -> None:
        self.contents.load_state_dict(state["contents"])
        self.styles.load_state_dict(state["styles"])


def train_adain(*, layer: str = "relu4_1", width: int = 16, num_steps: int = 2000, crop: int = 128,
                batch: int = 4, lr: float = 1e-3, style_weight: float = 1.0, identity_weight: float = 1.0,
                seed: int = 0,
                photo_folder=None, style_images: Sequence[torch.Tensor] = (), checkpoint=None,
                checkpoint_every: int = 100, resume: bool = False, progress: bool = True, device="cpu",
                pool: int = 16, refresh: int = 50, student_width: int | None = None, distill_weight: float = 1.0,
                student_init: str = "default"):
    """Train a :class:`Decoder` (and a :class:`StudentEncoder`) on the offline photos and endless procedural styles.

    Args:
        layer: the encoder layer, one of :data:`ENCODER_LAYERS`.
        width: the decoder's width (see :class:`Decoder`).
        num_steps: Adam steps.
        crop: training crop side (content and style).
        batch: pairs per step.
        lr: Adam's learning rate.
        style_weight, identity_weight: the weights of :func:`adain_loss`.
        seed: seeds the decoder's initial weights and every random choice.
        photo_folder: more content photos (see ``styletut.photos.training_photos``).
        style_images: more style images ``(1, 3, H, W)``, besides the procedural ones.
        checkpoint, checkpoint_every, resume, progress: as in ``styletut.training.fit``.
        device: where to train.
        pool: procedural style images painted per refresh (see :class:`StyleCrops`).
        refresh: batches between refreshes.
        student_width: train a :class:`StudentEncoder` of this width beside
            the decoder (``None``: encode with VGG19, train the decoder only).
        distill_weight: the student's distillation weight (:func:`adain_loss`).
        student_init: ``"default"`` (PyTorch's initialisation: the student
            starts with features hundreds of times smaller than VGG19's) or
            ``"he"`` (He et al. 2015: it starts near VGG19's scale). What we
            measured (lesson 11): from ``"he"`` the student imitates VGG19
            (the distillation term falls from 1 towards 0.6 in 1870 GPU steps);
            from ``"default"`` the term stays at 1: the student learns features
            of its own, which the decoder learns to read, and that pair scored
            better on held-out photos. The shipped model is the latter.

    Returns:
        ``(model, history)``: the trained :class:`AdaIN` (eval mode, on
        ``device``) and the ``styletut.training.TrainHistory``.
    """
    from . import photos, training
    from .runtime import resolve_device

    device = resolve_device(device)
    decoder = _seeded(Decoder(layer, width), seed).to(device)
    if student_init not in ("default", "he"):
        raise ValueError(f"unknown student_init {student_init!r}; choose 'default' or 'he'")
    student = None if student_width is None else _seeded(StudentEncoder(layer, student_width), seed + 2,
                                                         keep_scale=student_init == "he")
    model = AdaIN(decoder, device=device, student=student)
    encoder = VGG19Features(list(dict.fromkeys((*STYLE_LAYERS, layer))), weights="caffe", device=device)
    contents = photos.PhotoCrops(photos.training_photos(photo_folder), crop=crop, batch=batch, seed=seed)
    styles = StyleCrops(crop=crop, batch=batch, seed=seed + 1, extra=style_images, pool=pool, refresh=refresh)
    # Not num_steps: a resumed run may be asked to go further than the first.
    meta = {"kind": "adain", "layer": layer, "width": width, "crop": crop, "batch": batch, "lr": lr,
            "style_weight": style_weight, "identity_weight": identity_weight, "seed": seed, "pool": pool, "refresh": refresh}
    if student is not None:
        meta |= {"student_width": student_width, "distill_weight": distill_weight}
        if student_init != "default":  # absent means "default", as in checkpoints written before the option
            meta["student_init"] = student_init
    model.train()
    history = training.fit(model, adain_loss(encoder, decoder, style_weight, identity_weight, distill_weight),
                           _Pairs(contents, styles, device), num_steps, lr=lr, checkpoint=checkpoint,
                           checkpoint_every=checkpoint_every, resume=resume, progress=progress,
                           desc="train AdaIN " + ("decoder" if student is None else "decoder and student"), meta=meta)
    return model.eval(), history


def _seeded(module: nn.Module, seed: int, keep_scale: bool = False) -> nn.Module:
    """Re-initialise every convolution from a local generator: the same seed, the same start.

    ``keep_scale=False``: PyTorch's default for convolutions (uniform in
    ``±1/sqrt(fan_in)``), which shrinks the signal at every layer.
    ``keep_scale=True``: He et al. (2015)'s uniform in ``±sqrt(6/fan_in)`` and
    zero biases, which keeps the signal's size through ReLU layers: a student
    encoder must start near its teacher's feature magnitudes (PyTorch's default
    left one 600 times too small, and its distillation term never moved).
    """
    gen = torch.Generator().manual_seed(seed)
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            fan_in = m.in_channels * m.kernel_size[0] * m.kernel_size[1]
            bound = math.sqrt(6 / fan_in) if keep_scale else 1 / math.sqrt(fan_in)
            with torch.no_grad():
                m.weight.uniform_(-bound, bound, generator=gen)
                if keep_scale:
                    m.bias.zero_()
                else:
                    m.bias.uniform_(-bound, bound, generator=gen)
    return module


def save_adain(model: AdaIN | Decoder, path: str | os.PathLike, meta: dict | None = None) -> str:
    """Write a decoder (and its student encoder) atomically, weights in float16; return the file's sha256.

    Args:
        model: an :class:`AdaIN` (its decoder, and its student if it has one)
            or a bare :class:`Decoder` (to run with VGG19).
        path: the file to write.
        meta: anything to record with it (the recipe).

    Example:
        >>> digest = save_adain(Decoder("relu2_1", 4), "/tmp/dec.pt")   # doctest: +SKIP
    """
    decoder, student = (model.decoder, model.student) if isinstance(model, AdaIN) else (model, None)

    def half(m: nn.Module) -> dict:
        return {k: v.detach().to("cpu", torch.float16) for k, v in m.state_dict().items()}

    blob = {"format": _FORMAT, "config": {"layer": decoder.layer, "width": decoder.width},
            "state": half(decoder), "meta": dict(meta or {})}
    if student is not None:
        blob["student"] = {"config": {"layer": student.layer, "width": student.width}, "state": half(student)}
    buf = io.BytesIO()
    torch.save(blob, buf)
    data = buf.getvalue()
    files.atomic_write(path, lambda fh: fh.write(data), what="AdaIN decoder")
    return hashlib.sha256(data).hexdigest()


def load_adain(path: str | os.PathLike, sha256: str | None = None, device=None) -> tuple[AdaIN, dict]:
    """Read a decoder written by :func:`save_adain` and wrap it in :class:`AdaIN`.

    Args:
        path: the file.
        sha256: the expected hash; a file whose hash differs is refused.
        device: where to run.

    Returns:
        ``(model, meta)``.

    Raises:
        ValueError: a hash mismatch (the file was changed or damaged), or not a decoder file.
    """
    data = files.read_checked(path, sha256, "AdaIN decoder",
                              "restore it (git checkout styletut/models) or retrain it (make train-adain)")
    try:
        blob = torch.load(io.BytesIO(data), map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{os.fspath(path)} is not a readable model file ({type(err).__name__}: {err})") from err
    if not isinstance(blob, dict) or blob.get("format") not in _FORMATS:
        raise ValueError(f"{os.fspath(path)} is not an AdaIN decoder file (format {_FORMAT!r})")
    decoder = Decoder(**blob["config"])
    decoder.load_state_dict({k: v.float() for k, v in blob["state"].items()})
    student = None
    if "student" in blob:
        student = StudentEncoder(**blob["student"]["config"])
        student.load_state_dict({k: v.float() for k, v in blob["student"]["state"].items()})
        student.eval()
    return AdaIN(decoder.eval(), device=device, student=student).eval(), blob["meta"]
