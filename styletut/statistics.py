"""Other ways to describe a style: guided Gram matrices, mean/std, sliced Wasserstein; masks and blends.

A style layer's features ``f`` ``(1, C, H, W)`` can be summarised three ways
(:data:`STYLE_STATS`):

- ``"gram"``: channel correlations ``F Fᵀ / (C·M)`` (Gatys et al. 2016,
  "Image Style Transfer Using Convolutional Neural Networks"); with a mask,
  the *guided* Gram of Gatys et al. 2017, "Controlling Perceptual Factors in
  Neural Style Transfer";
- ``"meanstd"``: per-channel mean and standard deviation, the statistics
  AdaIN aligns (Huang & Belongie 2017, "Arbitrary Style Transfer in
  Real-time with Adaptive Instance Normalization");
- ``"sliced"``: the distributions of random 1-D projections of the feature
  vectors, compared through their quantile functions: the sliced Wasserstein
  distance (Rabin, Peyré, Delon & Bernot 2011, "Wasserstein Barycenter and
  its Application to Texture Mixing"; Heitz, Vanhoey, Chambon & Belcour
  2021, "A Sliced Wasserstein Loss for Neural Texture Synthesis"). It sees
  the whole distribution of features, not only its first two moments.

:func:`describe` computes a style's statistics once (the target, detached);
:func:`mismatch` scores generated features against them, differentiably. All
three mismatches use the "relative" scale of
``styletut.losses.gram_error(..., norm="relative")``: the squared error
divided by the target's own energy, so each is dimensionless and exactly 1
for an all-zero generated feature map, and one style weight suits every
statistic and every layer. :func:`layer_mask` brings a region mask to a
layer's grid; :func:`blend` mixes several styles' descriptions into one target.

Introduced in notebooks/10_controls.ipynb
"""

from __future__ import annotations

import math
from typing import Sequence

import torch
import torch.nn.functional as F

from .losses import gram_error, gram_matrix
from .names import STYLE_STATS
from .runtime import generator

__all__ = ["STYLE_STATS", "NUM_PROJECTIONS", "layer_mask", "describe", "mismatch", "blend"]

# The sliced statistic's default number of random directions per layer.
NUM_PROJECTIONS = 64

# At most this many quantile levels are stored per projection: enough to draw
# a 1-D distribution finely, and it makes a target's size independent of the
# style image's (a 512x512 layer would otherwise store 262144 sorted values).
_MAX_QUANTILES = 256

# ε in σ = sqrt(var + ε) − sqrt(ε); see _mean_std.
_STD_EPS = 1e-12

# Which keys a description of each kind holds (also how blend tells kinds apart).
_KEYS = {"gram": ("gram",), "meanstd": ("mean", "std"), "sliced": ("dirs", "quantiles")}


# ----------------------------------------------------------------------------- masks


def layer_mask(mask: torch.Tensor, hw: Sequence[int]) -> torch.Tensor:
    """A region mask resized to one layer's grid by area averaging.

    Each output value is the mean of the mask over the input pixels that fall
    in that cell, i.e. the fraction of the cell inside the region. Area
    averaging (and not bilinear or nearest sampling) is used because a layer's
    feature at a position summarises its cell of the image: the fraction is how
    much of what that feature sees belongs to the region, and a small region
    is never lost on a coarse grid (its cells keep a positive fraction). When
    the sizes divide (VGG halves the grid at each pooling) every output cell
    is an exact block of input pixels, and the region's share of the grid is
    the same at every layer.

    Args:
        mask: ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)``, values in [0, 1]
            (1: the style applies; fractions are soft edges). A bool mask is
            read as 0/1.
        hw: the layer's ``(h, w)`` (``f.shape[-2:]``).

    Returns:
        ``(1, 1, h, w)``, in [0, 1], on the mask's device.

    Raises:
        ValueError: a mask of another shape, with values outside [0, 1] or not
            finite, or a bad ``hw``.

    Example:
        >>> layer_mask(torch.tensor([[1.0, 1.0, 1.0, 0.0, 0.0, 0.0]]), (1, 3))
        tensor([[[[1.0000, 0.5000, 0.0000]]]])
    """
    if not torch.is_tensor(mask):
        raise ValueError(f"mask must be a tensor, got {type(mask).__name__}; "
                         "pass a (1, 1, H, W) or (H, W) tensor in [0, 1]")
    shape = tuple(mask.shape)
    ok = (mask.dim() == 2 or (mask.dim() == 3 and shape[0] == 1)
          or (mask.dim() == 4 and shape[:2] == (1, 1)))
    if not ok or mask.numel() == 0:
        raise ValueError(f"mask has shape {shape}; pass a (1, 1, H, W), (1, H, W) or (H, W) tensor in [0, 1]")
    hw = tuple(int(n) for n in hw)
    if len(hw) != 2 or min(hw) < 1:
        raise ValueError(f"layer_mask needs the layer's (h, w) with h, w >= 1, got {hw}; pass f.shape[-2:]")
    if not mask.is_floating_point():
        mask = mask.float()
    if not torch.isfinite(mask).all():
        raise ValueError("mask has NaN or infinite values; pass a tensor with values in [0, 1]")
    lo, hi = mask.min().item(), mask.max().item()
    if lo < 0 or hi > 1:
        raise ValueError(f"mask values must lie in [0, 1], got min {lo:g} and max {hi:g}; "
                         "scale it (an 8-bit image: mask / 255) or clamp it")
    m = mask.reshape(1, 1, shape[-2], shape[-1])
    return F.adaptive_avg_pool2d(m, hw)


def _mask_at(mask: torch.Tensor | None, f: torch.Tensor) -> torch.Tensor | None:
    """The mask on ``f``'s grid, device and dtype, checked to cover some of it."""
    if mask is None:
        return None
    if torch.is_tensor(mask) and mask.is_floating_point():
        mask = mask.to(device=f.device, dtype=f.dtype)  # resize in f's precision
    m = layer_mask(mask, f.shape[-2:]).to(device=f.device, dtype=f.dtype)
    if not (m > 0).any():
        raise ValueError(f"the mask covers no position of this {f.shape[-2]}x{f.shape[-1]} layer "
                         "(it is all zero), so its statistics are undefined; give the region some "
                         "nonzero pixels, or pass mask=None")
    return m


# ----------------------------------------------------------------------------- checks


def _check_features(f: torch.Tensor, who: str) -> None:
    if not torch.is_tensor(f) or f.dim() != 4 or f.shape[0] != 1:
        shape = tuple(f.shape) if torch.is_tensor(f) else type(f).__name__
        raise ValueError(f"{who} expects one image's features of shape (1, C, H, W), got {shape}; "
                         "for a batch, describe each image (f[i:i + 1]) separately")
    if not f.is_floating_point():
        raise ValueError(f"{who} expects floating-point features, got {f.dtype}; convert with f.float()")


def _check_kind(kind: str) -> str:
    if kind not in STYLE_STATS:
        raise ValueError(f"unknown style statistic {kind!r}; choose one of: {', '.join(STYLE_STATS)}")
    return kind


def _kind_of(description: dict) -> str | None:
    """Which kind a description is, from its keys (None: not a description)."""
    for kind, keys in _KEYS.items():
        if isinstance(description, dict) and set(description) == set(keys):
            return kind
    return None


def _check_target(target: dict, kind: str, channels: int) -> None:
    found = _kind_of(target)
    if found != kind:
        keys = sorted(target) if isinstance(target, dict) else type(target).__name__
        raise ValueError(f"mismatch was asked for kind {kind!r}, but the target has keys {keys} "
                         f"({'a ' + repr(found) + ' description' if found else 'not a description'}); "
                         "pass the same kind to describe and mismatch")
    c = target["gram"].shape[-1] if kind == "gram" else (
        target["mean"].shape[-1] if kind == "meanstd" else target["dirs"].shape[0])
    if c != channels:
        raise ValueError(f"the target describes {c} channels but the features have {channels}; "
                         "compare features of the same layer as the target's")


# ----------------------------------------------------------------------------- the statistics


def _gram(f: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    """Gram matrix; with a mask, the guided Gram ``(F∘m)(F∘m)ᵀ / (C·Σm)`` (Gatys et al. 2017)."""
    if m is None:
        return gram_matrix(f)
    _, c, h, w = f.shape
    flat = (f * m).reshape(1, c, h * w)
    # Normalised by the region's area (Σm), not the layer's (h·w), so a style
    # painted in a small region is as strong as one painted everywhere, and a
    # full mask gives exactly gram_matrix(f).
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * m.sum())


def _mean_std(f: torch.Tensor, m: torch.Tensor | None) -> tuple[torch.Tensor, torch.Tensor]:
    """Per-channel mean and standard deviation over positions, ``(1, C)`` each, weighted by ``m``.

    The standard deviation is the population one (divide by the weight, not
    weight − 1), computed as ``sqrt(var + ε) − sqrt(ε)`` with ε = 1e-12:
    within sqrt(ε) = 1e-6 of sqrt(var), with a finite slope where var = 0
    (the dead ReLU channels of VGG are constant; plain sqrt has an infinite
    slope there and its gradient becomes NaN), and 0 for a constant channel
    (exactly, for an all-zero one, so an all-zero image scores exactly 1 on
    the relative scale).
    """
    if m is None:
        mean = f.mean(dim=(2, 3))
        var = (f - mean[:, :, None, None]).pow(2).mean(dim=(2, 3))
    else:
        area = m.sum()
        mean = (f * m).sum(dim=(2, 3)) / area
        var = ((f - mean[:, :, None, None]).pow(2) * m).sum(dim=(2, 3)) / area
    # ε as a tensor of var's dtype, so sqrt(0 + ε) − sqrt(ε) is the same number twice: exactly 0.
    eps = torch.full((), _STD_EPS, dtype=var.dtype, device=var.device)
    return mean, torch.sqrt(var + eps) - torch.sqrt(eps)


def _directions(channels: int, k: int, seed: int, like: torch.Tensor) -> torch.Tensor:
    """``(C, K)`` unit columns, drawn on the CPU (same seed, same directions on any device)."""
    d = torch.randn(channels, k, generator=generator(seed), dtype=torch.float64)
    d = d / d.norm(dim=0, keepdim=True)
    return d.to(device=like.device, dtype=like.dtype)


def _positions(f: torch.Tensor, m: torch.Tensor | None) -> torch.Tensor:
    """``(C, N)`` feature vectors of the positions that count (mask > 0.5 when a mask is given)."""
    c = f.shape[1]
    x = f.reshape(c, -1)
    if m is None:
        return x
    # A distribution has no weights to soften an edge with, so a position is
    # in or out: in when more than half of its cell is inside the region.
    keep = m.reshape(-1) > 0.5
    if not keep.any():
        raise ValueError(f"no position of this {f.shape[-2]}x{f.shape[-1]} layer is more than half inside "
                         "the mask, and sliced statistics count only those; use a larger region, "
                         "drop this (deep, coarse) layer, or use kind='gram' or 'meanstd'")
    return x[:, keep]


def _resample(values: torch.Tensor, q: int) -> torch.Tensor:
    """Sample a quantile function at the levels ``(j + 0.5) / q``: ``(K, N)`` -> ``(K, q)``.

    ``values`` are sorted along the last axis and value ``i`` sits at level
    ``(i + 0.5) / N`` (the midpoint, or "Hazen", convention); between levels
    the function is linear, beyond the first and last level it is constant.
    Linear in ``values``, so gradients flow through it; with ``q == N`` it
    returns ``values`` unchanged.
    """
    n = values.shape[-1]
    if n == q:
        return values
    # Positions in float64 on the CPU: they depend only on (n, q), and
    # (j + 0.5) * n / q lands exactly on integers where the grids share levels.
    pos = ((torch.arange(q, dtype=torch.float64) + 0.5) * n / q - 0.5).clamp(0, n - 1)
    lo = pos.floor()
    frac = (pos - lo).to(device=values.device, dtype=values.dtype)
    lo = lo.long()
    hi = (lo + 1).clamp(max=n - 1)
    a = values[..., lo.to(values.device)]
    b = values[..., hi.to(values.device)]
    return a + frac * (b - a)


def _sorted_projections(f: torch.Tensor, m: torch.Tensor | None, dirs: torch.Tensor) -> torch.Tensor:
    """``(K, N)``: each direction's projections of the counted positions, sorted."""
    return torch.sort(dirs.transpose(0, 1) @ _positions(f, m), dim=1).values


# ----------------------------------------------------------------------------- public API


def describe(f: torch.Tensor, kind: str, mask: torch.Tensor | None = None, *, num_projections: int = NUM_PROJECTIONS,
             seed: int = 0) -> dict[str, torch.Tensor]:
    """A style's statistics at one layer: the target that :func:`mismatch` compares with.

    Args:
        f: the style image's features at one layer, ``(1, C, H, W)``.
        kind: one of :data:`STYLE_STATS`:

            - ``"gram"``: ``{"gram": (1, C, C)}``, :func:`styletut.losses.gram_matrix`;
              with a mask ``m`` the guided Gram ``(F∘m)(F∘m)ᵀ / (C·Σm)``
              (Gatys et al. 2017), the Gram of the region normalised by its
              area, so a mask of ones gives exactly the plain Gram.
            - ``"meanstd"``: ``{"mean": (1, C), "std": (1, C)}`` over positions,
              weighted by ``m`` when a mask is given; the standard deviation is
              the population one, as ``sqrt(var + ε) − sqrt(ε)``, ε = 1e-12
              (finite gradient for constant channels, 0 for them).
            - ``"sliced"``: ``{"dirs": (C, K), "quantiles": (K, Q)}``:
              ``K = num_projections`` random unit directions in R^C, and for
              each the quantile function of the projected feature vectors at
              the levels ``(i + 0.5) / Q``, ``Q = min(256, N)`` for ``N``
              counted positions (sorting, then linear interpolation). With a
              mask only positions whose cell is more than half inside the
              region (value > 0.5) count.
        mask: optional region, any size (resized with :func:`layer_mask`):
            ``(H, W)``, ``(1, H, W)`` or ``(1, 1, H, W)`` in [0, 1].
        num_projections: ``K`` for ``"sliced"`` (ignored otherwise).
        seed: seeds the directions of ``"sliced"`` (drawn on the CPU, then
            moved to ``f``'s device: the same seed gives the same directions
            everywhere). Describe every style compared or blended at a layer
            with the same seed and ``num_projections``.

    Returns:
        ``{name: tensor}`` on ``f``'s device and dtype, detached.

    Raises:
        ValueError: unknown ``kind``, features not ``(1, C, H, W)``, a bad mask,
            a mask covering nothing, ``num_projections < 1``.

    Example:
        >>> d = describe(torch.ones(1, 2, 4, 4), "meanstd")
        >>> d["mean"], d["std"]
        (tensor([[1., 1.]]), tensor([[0., 0.]]))
    """
    _check_kind(kind)
    _check_features(f, "describe")
    f = f.detach()
    m = _mask_at(mask, f)
    if kind == "gram":
        return {"gram": _gram(f, m)}
    if kind == "meanstd":
        mean, std = _mean_std(f, m)
        return {"mean": mean, "std": std}
    if isinstance(num_projections, bool) or not isinstance(num_projections, int) or num_projections < 1:
        raise ValueError(f"num_projections must be an integer >= 1, got {num_projections!r}; "
                         "the default is 64")
    dirs = _directions(f.shape[1], num_projections, seed, f)
    proj = _sorted_projections(f, m, dirs)
    return {"dirs": dirs, "quantiles": _resample(proj, min(_MAX_QUANTILES, proj.shape[1]))}


def mismatch(f: torch.Tensor, target: dict[str, torch.Tensor], kind: str,
             mask: torch.Tensor | None = None) -> torch.Tensor:
    """How far features ``f`` are from a target description, on the relative scale.

    Each kind's squared error is divided by the target's energy, so the result
    is dimensionless and exactly 1 when ``f`` is all zero:

    - ``"gram"``: ``‖G(f, m) − A‖² / ‖A‖²``, with ``mask=None`` the same as
      ``styletut.losses.gram_error(gram_matrix(f), A, norm="relative")``;
    - ``"meanstd"``: ``(‖μ − μ_t‖² + ‖σ − σ_t‖²) / (‖μ_t‖² + ‖σ_t‖²)``;
    - ``"sliced"``: project ``f``'s ``N`` (counted) positions on the target's
      directions and sort each projection: these are the generated quantile
      function at the levels ``(j + 0.5) / N``. The target's stored quantile
      function is interpolated to the same levels (a constant), and the
      result is ``mean((sorted − target)²) / mean(target²)``: a sliced
      Wasserstein-2 distance squared, relative. Interpolating the *target*
      to the generated image's levels, not the other way round, lets every
      generated position receive a gradient from every direction, however
      many positions the layer has, and lets a target of any size be
      compared with an image of any other size.

    Args:
        f: the generated image's features at the layer, ``(1, C, H, W)``.
        target: from :func:`describe` (or :func:`blend`) with the same ``kind``;
            treated as a constant.
        kind: one of :data:`STYLE_STATS`.
        mask: optional region of the *generated* image, as in :func:`describe`.

    Returns:
        Scalar tensor, differentiable in ``f``; 0 when ``f`` has the target's statistics.

    Raises:
        ValueError: unknown ``kind``, a target of another kind or channel count,
            a bad mask, or a target whose energy is 0 (its features are all zero
            at this layer, so the relative scale is undefined).

    Example:
        >>> t = describe(torch.ones(1, 2, 4, 4), "meanstd")
        >>> mismatch(torch.zeros(1, 2, 3, 3), t, "meanstd")
        tensor(1.)
    """
    _check_kind(kind)
    _check_features(f, "mismatch")
    _check_target(target, kind, f.shape[1])
    target = {k: v.detach() for k, v in target.items()}
    m = _mask_at(mask, f)
    if kind == "gram":
        a = target["gram"]
        if not (a != 0).any():
            raise ValueError(_zero_energy("Gram matrix"))
        return gram_error(_gram(f, m), a, norm="relative")
    if kind == "meanstd":
        mean, std = _mean_std(f, m)
        mt, st = target["mean"], target["std"]
        energy = mt.pow(2).sum() + st.pow(2).sum()
        if energy == 0:
            raise ValueError(_zero_energy("mean and standard deviation"))
        return ((mean - mt).pow(2).sum() + (std - st).pow(2).sum()) / energy
    proj = _sorted_projections(f, m, target["dirs"])
    ref = _resample(target["quantiles"], proj.shape[1])
    energy = ref.pow(2).mean()
    if energy == 0:
        raise ValueError(_zero_energy("projected quantiles"))
    return (proj - ref).pow(2).mean() / energy


def _zero_energy(what: str) -> str:
    return (f"the target's {what} are all zero at this layer (the style's features there are zero), "
            "so the relative scale (divide by the target's energy) is undefined; drop this layer "
            "or describe a style region where the layer responds")


def blend(descriptions: Sequence[dict[str, torch.Tensor]], weights: Sequence[float]) -> dict[str, torch.Tensor]:
    """Several styles' descriptions at one layer, mixed into one target.

    The weights are relative (divided by their sum). Per kind:

    - ``"gram"``: the weighted sum of the Gram matrices (the Gram of all the
      styles' positions pooled, each style's share of positions its weight);
    - ``"meanstd"``: the weighted sums of the means and of the standard
      deviations (not of the variances): per channel, the Gaussian with these
      is the Wasserstein-2 barycentre of the styles' Gaussians, and halfway
      between a flat and a busy style is then half as busy;
    - ``"sliced"``: the weighted average of the quantile functions. In 1-D this
      is exactly the Wasserstein barycentre of the projected distributions
      (Rabin et al. 2011); quantiles stored at different numbers of levels are
      first resampled to the largest.

    Zero weights drop their description, and a single remaining one is
    returned as an exact copy: weights ``(1, 0)`` reproduce the first style bit
    for bit.

    Args:
        descriptions: from :func:`describe`, all of one kind and one layer
            (for ``"sliced"``: the same directions, i.e. the same seed and
            ``num_projections``).
        weights: one finite weight >= 0 per description, not all zero.

    Returns:
        A description of the same kind (detached).

    Raises:
        ValueError: a length mismatch, negative, non-finite or all-zero weights,
            descriptions of mixed kinds or shapes, different directions.

    Example:
        >>> a, b = {"gram": torch.ones(1, 1, 1)}, {"gram": torch.zeros(1, 1, 1)}
        >>> blend([a, b], [3, 1])["gram"]
        tensor([[[0.7500]]])
    """
    descriptions, weights = list(descriptions), list(weights)
    if not descriptions or len(descriptions) != len(weights):
        raise ValueError(f"blend needs one weight per description, got {len(descriptions)} description(s) "
                         f"and {len(weights)} weight(s)")
    w = [float(x) for x in weights]
    bad = [x for x in w if not (math.isfinite(x) and x >= 0)]
    if bad:
        raise ValueError(f"blend weights must be finite and >= 0, got {w}; give each style a share >= 0")
    total = sum(w)
    if total == 0:
        raise ValueError(f"blend weights are all zero ({w}); give at least one style a positive weight")
    kinds = [_kind_of(d) for d in descriptions]
    if None in kinds:
        i = kinds.index(None)
        raise ValueError(f"description {i} has keys {sorted(descriptions[i]) if isinstance(descriptions[i], dict) else '?'}"
                         f", which is no description; make each with describe()")
    if len(set(kinds)) > 1:
        raise ValueError(f"blend needs descriptions of one kind, got {kinds}; describe every style "
                         "with the same kind")
    kind = kinds[0]
    first = descriptions[0]
    for i, d in enumerate(descriptions[1:], start=1):
        if kind == "sliced":
            if d["dirs"].shape != first["dirs"].shape or not torch.equal(d["dirs"], first["dirs"].to(d["dirs"])):
                raise ValueError(f"description {i} was projected on other directions than description 0; "
                                 "describe every style with the same seed and num_projections")
        else:
            for key in _KEYS[kind]:
                if d[key].shape != first[key].shape:
                    raise ValueError(f"description {i} has a {key} of shape {tuple(d[key].shape)} but "
                                     f"description 0 one of {tuple(first[key].shape)}; blend "
                                     "descriptions of the same layer")
    kept = [(x / total, d) for x, d in zip(w, descriptions) if x > 0]
    if len(kept) == 1:
        # No arithmetic at all, so (1, 0) gives the first style bit for bit.
        return {k: v.detach().clone() for k, v in kept[0][1].items()}
    if kind == "sliced":
        q = max(d["quantiles"].shape[-1] for _, d in kept)
        quantiles = sum(x * _resample(d["quantiles"].detach(), q) for x, d in kept)
        return {"dirs": first["dirs"].detach().clone(), "quantiles": quantiles}
    return {key: sum(x * d[key].detach() for x, d in kept) for key in _KEYS[kind]}
