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

from typing import Mapping

import torch
import torch.nn.functional as F

__all__ = ["content_loss", "gram_matrix", "style_loss", "tv_loss"]


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


def style_loss(gen_feats: Mapping[str, torch.Tensor], target_grams: Mapping[str, torch.Tensor],
               layer_weights: Mapping[str, float] | None = None) -> torch.Tensor:
    """Weighted sum over layers of the MSE between Gram matrices.

    ``sum_l w_l * mean((G(gen_l) - A_l) ** 2)`` with ``A_l`` the style image's
    Gram matrix at layer ``l``. Default weights are ``1 / num_layers`` each,
    as in Gatys et al., so adding layers does not change the loss scale.

    Args:
        gen_feats: ``{layer: (B, C, H, W)}`` features of the image being optimised.
        target_grams: ``{layer: (B, C, C)}`` Gram matrices of the style image
            (computed once, outside the loop).
        layer_weights: optional ``{layer: weight}``; layers missing from it get 0.

    Returns:
        Scalar tensor.

    Introduced in notebooks/04_style_loss.ipynb
    """
    if not target_grams:
        raise ValueError("style_loss needs at least one style layer")
    missing = [k for k in target_grams if k not in gen_feats]
    if missing:
        raise KeyError(f"style_loss: no features given for style layer(s) {missing}; got {list(gen_feats)}")
    if layer_weights is None:
        layer_weights = {k: 1.0 / len(target_grams) for k in target_grams}
    total = None
    for layer, target in target_grams.items():
        w = float(layer_weights.get(layer, 0.0))
        if w == 0.0:
            continue
        term = w * F.mse_loss(gram_matrix(gen_feats[layer]), target.detach())
        total = term if total is None else total + term
    if total is None:
        raise ValueError("style_loss: every style layer has weight 0; give at least one a positive weight")
    return total


def tv_loss(img: torch.Tensor) -> torch.Tensor:
    """Total variation: mean squared difference of neighbouring pixels.

    ``mean((x[..., 1:, :] - x[..., :-1, :]) ** 2) + mean((x[..., :, 1:] - x[..., :, :-1]) ** 2)``

    Args:
        img: ``(B, C, H, W)`` with ``H, W >= 2``.

    Returns:
        Scalar tensor; 0 for a constant image.

    Introduced in notebooks/04_style_loss.ipynb
    """
    if img.dim() != 4 or img.shape[-1] < 2 or img.shape[-2] < 2:
        raise ValueError(f"tv_loss expects (B, C, H, W) with H, W >= 2, got {tuple(img.shape)}")
    dv = img[..., 1:, :] - img[..., :-1, :]
    dh = img[..., :, 1:] - img[..., :, :-1]
    return dv.pow(2).mean() + dh.pow(2).mean()
