"""The three losses of neural style transfer (Gatys et al. 2016).

- content: mean squared error between feature maps (keeps *what* is where)
- style: mean squared error between Gram matrices (keeps *which features
  co-occur*, wherever they are)
- total variation: a smoothness prior on the pixels (Mahendran & Vedaldi 2015)

Each returns a scalar tensor differentiable in its first argument.

Introduced in notebooks/03_content_loss.ipynb (content) and
notebooks/04_style_loss.ipynb (Gram matrix, style, total variation)
"""

from __future__ import annotations

import math

from typing import Mapping

import torch
import torch.nn.functional as F

from .names import DEFAULT_STYLE_NORM, STYLE_NORMS

__all__ = ["STYLE_NORMS", "DEFAULT_STYLE_NORM", "content_loss", "gram_matrix", "gram_error",
           "style_loss", "tv_loss"]

# How one layer's Gram mismatch is scaled (notebooks/04_style_loss.ipynb compares them).
# With G = F Fᵀ / (C·M) (gram_matrix) and A the target Gram of a C-channel layer
# with M = H·W positions:
#   "tutorial": mean over the C² entries of (G − A)², the PyTorch tutorial's
#               convention; equal to Gatys's E_l · 4 / C², so it weights a
#               64-channel layer 64x more than a 512-channel one, relative to
#               the paper;
#   "gatys":    E_l = Σ (FFᵀ − A_raw)² / (4 C² M²), eq. 4 of Gatys et al. 2016;
#   "relative": ‖G − A‖² / ‖A‖², per layer: dimensionless, 1 for a zero
#               image, so layers and style images are on one scale.
# STYLE_NORMS = ("tutorial", "gatys", "relative") and DEFAULT_STYLE_NORM =
# "relative" (chosen by benchmarks/bench_style_norm.py: under it one
# style_weight paints every procedural style with about the same strength)
# are defined in styletut.names, which the command line reads without torch.


def content_loss(gen: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
    """Mean squared error over all elements: ``mean((gen - target) ** 2)``.

    Args:
        gen: features of the image being optimised, ``(B, C, H, W)``.
        target: features of the content image, same shape (treated as constant).

    Returns:
        Scalar tensor.

    Introduced in notebooks/03_content_loss.ipynb
    """
    if gen.shape != target.shape:
        raise ValueError(f"content_loss needs equal shapes, got {tuple(gen.shape)} and {tuple(target.shape)}")
    return F.mse_loss(gen, target.detach())


def gram_matrix(f: torch.Tensor) -> torch.Tensor:
    """Channel correlations of a feature map: ``F Fᵀ / (C·H·W)``.

    With ``F`` the ``(B, C, H·W)`` reshape of ``f``, entry ``(i, j)`` is how
    strongly channels ``i`` and ``j`` fire together, averaged over positions:
    the positions themselves are summed away, which is why a Gram matrix
    describes texture and not layout.

    Args:
        f: features ``(B, C, H, W)``.

    Returns:
        ``(B, C, C)``, symmetric positive semi-definite.

    Example:
        >>> gram_matrix(torch.ones(1, 2, 3, 3))
        tensor([[[0.5000, 0.5000],
                 [0.5000, 0.5000]]])

    Introduced in notebooks/04_style_loss.ipynb
    """
    if f.dim() != 4:
        raise ValueError(f"gram_matrix expects (B, C, H, W) features, got shape {tuple(f.shape)}")
    b, c, h, w = f.shape
    flat = f.reshape(b, c, h * w)
    return torch.bmm(flat, flat.transpose(1, 2)) / (c * h * w)


def _check_norm(norm: str | None) -> str:
    norm = DEFAULT_STYLE_NORM if norm is None else norm
    if norm not in STYLE_NORMS:
        raise ValueError(f"unknown style normalisation {norm!r}; choose one of: {', '.join(STYLE_NORMS)}")
    return norm


def gram_error(gen_gram: torch.Tensor, target_gram: torch.Tensor, norm: str | None = None,
               num_positions: int | None = None) -> torch.Tensor:
    """One layer's style term: the mismatch of two Gram matrices, scaled by ``norm``.

    Args:
        gen_gram: ``(B, C, C)`` Gram matrix of the image being optimised.
        target_gram: ``(B, C, C)`` the style image's (a constant).
        norm: one of :data:`STYLE_NORMS` (``None``: :data:`DEFAULT_STYLE_NORM`).
        num_positions: ``M = H·W`` of the generated features; only ``"gatys"``
            needs it, to undo :func:`gram_matrix`'s division by ``C·M``.

    Returns:
        Scalar tensor: ``mean((G − A)²)`` (``"tutorial"``), ``C² M² mean((G − A)²) · C²/(4 C² M²)``
        = ``C²/4 · mean((G − A)²)`` (``"gatys"``, the paper's ``E_l``), or
        ``‖G − A‖² / ‖A‖²`` (``"relative"``).

    Introduced in notebooks/04_style_loss.ipynb
    """
    norm = _check_norm(norm)
    target = target_gram.detach()
    mse = F.mse_loss(gen_gram, target)
    if norm == "tutorial":
        return mse
    if norm == "gatys":
        if num_positions is None:
            raise ValueError("the 'gatys' normalisation needs num_positions (H*W of the layer)")
        # Σ(FFᵀ − A_raw)² / (4C²M²) with FFᵀ = C·M·G: the C·M factors cancel,
        # leaving Σ(G − A)² / 4 = C² · mse / 4.
        c = gen_gram.shape[-1]
        return mse * (c * c / 4.0)
    # "relative": both sums over the same C² entries, so the means' ratio is the norms' ratio.
    energy = target.pow(2).mean()
    if energy == 0:
        raise ValueError("the style image's Gram matrix is all zero at this layer, so the 'relative' "
                         "normalisation (divide by its norm) is undefined; use norm='tutorial' or drop the layer")
    return mse / energy


def style_loss(gen_feats: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor],
               layer_weights: Mapping[str, float] | None = None, norm: str | None = None) -> torch.Tensor:
    """Weighted sum over layers of the Gram mismatch.

    ``sum_l w_l * E_l`` with ``E_l = gram_error(G(gen_l), A_l, norm)`` and
    ``A_l`` the style image's Gram matrix at layer ``l``. The weights are
    *relative*: they are divided by their sum, so they always sum to 1. The
    default is ``1 / num_layers`` each, as in Gatys et al., and any equal
    weights (five 1's) mean the same; the strength of style as a whole is the
    style weight β outside this function, never the scale of these weights.

    Args:
        gen_feats: ``{layer: (B, C, H, W)}`` features of the image being optimised.
        target_grams: ``{layer: (B, C, C)}`` Gram matrices of the style image
            (computed once, outside the loop).
        layer_weights: optional ``{layer: relative weight >= 0}``; layers missing
            from it get 0. Normalised to sum 1.
        norm: the per-layer scaling, one of :data:`STYLE_NORMS`
            (``None``: :data:`DEFAULT_STYLE_NORM`).

    Returns:
        Scalar tensor.

    Introduced in notebooks/04_style_loss.ipynb
    """
    norm = _check_norm(norm)
    if not target_grams:
        raise ValueError("style_loss needs at least one style layer")
    missing = [k for k in target_grams if k not in gen_feats]
    if missing:
        raise KeyError(f"style_loss: no features given for style layer(s) {missing}; got {list(gen_feats)}")
    weights = _relative_weights(layer_weights, list(target_grams))
    total = None
    for layer, target in target_grams.items():
        w = weights[layer]
        if w == 0.0:
            continue
        f = gen_feats[layer]
        term = w * gram_error(gram_matrix(f), target, norm, num_positions=f.shape[-2] * f.shape[-1])
        total = term if total is None else total + term
    return total


def _relative_weights(layer_weights: Mapping[str, float] | None, layers: list[str]) -> dict[str, float]:
    """``{layer: w_l / sum(w)}`` for ``layers``; the one meaning of per-layer style weights."""
    if layer_weights is None:
        return {k: 1.0 / len(layers) for k in layers}
    unknown = [k for k in layer_weights if k not in layers]
    if unknown:
        raise KeyError(f"style_loss: layer_weights names layer(s) {unknown} that have no target; "
                       f"style layers: {layers}")
    raw = {k: float(layer_weights.get(k, 0.0)) for k in layers}
    bad = {k: w for k, w in raw.items() if not (math.isfinite(w) and w >= 0)}
    if bad:
        raise ValueError(f"style_loss: layer weights must be finite and >= 0, got {bad}")
    total = sum(raw.values())
    if total == 0:
        raise ValueError("style_loss: every style layer has weight 0; give at least one a positive weight")
    return {k: w / total for k, w in raw.items()}


def tv_loss(img: torch.Tensor, power: int = 2) -> torch.Tensor:
    """Total variation: mean (squared) difference of neighbouring pixels.

    ``power=2`` (default): ``mean(dv ** 2) + mean(dh ** 2)`` with ``dv``, ``dh``
    the vertical and horizontal neighbour differences. A quadratic smoothness
    prior: it penalises one big step more than many small ones, so it removes
    speckle and also blurs edges.

    ``power=1``: ``mean(|dv|) + mean(|dh|)``, the (anisotropic) l1 total
    variation of Rudin, Osher & Fatemi (1992). A step of height h costs h
    however it is spread, so sharp edges survive while speckle goes.

    Args:
        img: ``(B, C, H, W)`` with ``H, W >= 2``.
        power: 2 (squared) or 1 (absolute differences).

    Returns:
        Scalar tensor; 0 for a constant image.

    Introduced in notebooks/04_style_loss.ipynb (power 2) and
    notebooks/08_full_transfer.ipynb (power 1)
    """
    if img.dim() != 4 or img.shape[-1] < 2 or img.shape[-2] < 2:
        raise ValueError(f"tv_loss expects (B, C, H, W) with H, W >= 2, got {tuple(img.shape)}")
    if power not in (1, 2):
        raise ValueError(f"tv_loss power must be 1 (l1 TV) or 2 (squared TV), got {power!r}")
    dv = img[..., 1:, :] - img[..., :-1, :]
    dh = img[..., :, 1:] - img[..., :, :-1]
    if power == 1:
        return dv.abs().mean() + dh.abs().mean()
    return dv.pow(2).mean() + dh.pow(2).mean()
