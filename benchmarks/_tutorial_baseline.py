"""A baseline in the style of the classic tutorial listings of neural style transfer.

The method is Gatys, Ecker & Bethge (2016), "Image Style Transfer Using
Convolutional Neural Networks" (CVPR). This module writes it the way the
well-known tutorial listings do, so ``benchmarks/bench.py`` can measure that
way of writing it against styletut and pastiche:

- a copy of VGG19 is rebuilt as one ``nn.Sequential`` (input normalisation,
  then conv / ReLU / pool), with *loss modules* inserted right after the
  chosen layers and everything past the deepest one cut off;
- each loss module stores its loss in ``forward`` and passes its input on,
  so one call ``model(x)`` fills every ``module.loss``;
- the targets are computed while the network is being assembled, by running
  the partial network built so far on the content (or style) image: one
  prefix forward per loss module;
- the image is optimised with ``torch.optim.LBFGS`` (``lr=1``, 20 iterations
  per ``step`` call, no line search) and clamped to [0, 1] inside the closure
  before every evaluation, and once more at the end.

Losses (``x`` the image, ``F^l`` its features at layer ``l``, ``P^l`` the
content image's, ``G^l`` / ``A^l`` Gram matrices of ``x`` / the style image):

    content = mean((F^l - P^l)^2)                         (one layer: relu4_2)
    style   = sum_l mean((G^l - A^l)^2),  G^l = F Fᵀ / (C·H·W)
    J       = CONTENT_WEIGHT * content + STYLE_WEIGHT * style

The weights are those of the tutorial listings (content 1, style 1e6)
carried over to the original Caffe VGG19 used here. The listings feed
torchvision's VGG19 an RGB image in [0, 1] standardised with the ImageNet
statistics; the Caffe network is fed BGR in 0..255 minus the mean pixel, so
its features are about ``255 * 0.226 ≈ 57.6`` times larger (0.226 is the mean
ImageNet standard deviation). The content term grows with the square of that
factor and the Gram term with its fourth power, so the listings' balance of
content and style is ``STYLE_WEIGHT = 1e6 / 57.6² ≈ 301`` here. Keeping 1e6
would weight style about 3300 times more than the listings do.

One deliberate difference: the budget is counted in objective evaluations
(closure calls, one forward and one backward each), and the last ``step``
call gets only the evaluations that remain, so the run stops at exactly
``num_steps`` evaluations, as styletut and pastiche do. (The listings stop at
the first ``step`` call that ends past the budget.)

Example:
    >>> from styletut.data import sample
    >>> img = transfer(sample("chelsea", 64), sample("hubble_deep_field", 64), num_steps=5)  # doctest: +SKIP
    >>> img.shape                                                                              # doctest: +SKIP
    torch.Size([1, 3, 43, 64])
"""

from __future__ import annotations

from typing import Callable, Sequence

import torch
import torch.nn.functional as F
from torch import nn

__all__ = ["CONTENT_WEIGHT", "STYLE_WEIGHT", "ContentLoss", "StyleLoss", "build_model", "objective", "transfer"]

CONTENT_WEIGHT = 1.0
# The tutorial listings' 1e6, in the units of the Caffe network (module docstring).
_FEATURE_SCALE = 255.0 * (0.229 + 0.224 + 0.225) / 3.0
STYLE_WEIGHT = 1e6 / _FEATURE_SCALE ** 2

# The mean pixel the Caffe VGG19 was trained with, BGR order, 0..255.
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# VGG19 (Simonyan & Zisserman 2014, configuration E): convolutions per block.
_BLOCKS = (2, 2, 4, 4, 4)
# The iterations one LBFGS.step call runs (torch's default max_iter).
_ITERS_PER_STEP = 20


def _gram(f: torch.Tensor) -> torch.Tensor:
    """``F Fᵀ / (C·H·W)`` of a ``(1, C, H, W)`` feature map; ``(C, C)``."""
    _, c, h, w = f.shape
    flat = f.view(c, h * w)
    return flat @ flat.t() / (c * h * w)


class _CaffeInput(nn.Module):
    """RGB in [0, 1] -> what the Caffe VGG19 was trained on (BGR, 0..255, mean pixel removed)."""

    def __init__(self):
        super().__init__()
        self.register_buffer("mean", torch.tensor(_CAFFE_MEAN_BGR).view(1, 3, 1, 1))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return x.flip(1) * 255.0 - self.mean


class ContentLoss(nn.Module):
    """A transparent layer that records ``mean((x - target)²)`` as ``self.loss``.

    Args:
        target: ``(1, C, H, W)`` content features at this depth (stored detached).
    """

    def __init__(self, target: torch.Tensor):
        super().__init__()
        self.target = target.detach()
        self.loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(x, self.target)
        return x


class StyleLoss(nn.Module):
    """A transparent layer that records the Gram mismatch ``mean((G(x) - A)²)`` as ``self.loss``.

    Args:
        target_features: ``(1, C, H, W)`` style features at this depth; only
            their Gram matrix ``A`` is kept.
    """

    def __init__(self, target_features: torch.Tensor):
        super().__init__()
        self.target = _gram(target_features).detach()
        self.loss = torch.zeros(())

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        self.loss = F.mse_loss(_gram(x), self.target)
        return x


def _vgg19_layers() -> list[tuple[str, nn.Module]]:
    """VGG19's body as ``(name, module)`` pairs with the original Caffe weights.

    The weights come from ``styletut.weights.caffe_vgg19_convs()``, the very
    tensors styletut's own network loads (checked against their sha256).
    """
    from styletut.weights import caffe_vgg19_convs

    convs = iter(caffe_vgg19_convs())
    layers: list[tuple[str, nn.Module]] = []
    for block, n in enumerate(_BLOCKS, start=1):
        for i in range(1, n + 1):
            weight, bias = next(convs)
            conv = nn.Conv2d(weight.shape[1], weight.shape[0], 3, padding=1)
            with torch.no_grad():
                conv.weight.copy_(weight)
                conv.bias.copy_(bias)
            # Not in place: the loss modules keep references to these outputs.
            layers += [(f"conv{block}_{i}", conv), (f"relu{block}_{i}", nn.ReLU(inplace=False))]
        layers.append((f"pool{block}", nn.MaxPool2d(2, 2)))
    return layers


@torch.no_grad()
def _prefix_features(model: nn.Sequential, img: torch.Tensor) -> torch.Tensor:
    """``img`` through the network assembled so far, passing over the loss modules.

    The listings call ``model(img)`` here; that needs the style image to have
    the content image's size (its pass runs through the content loss modules
    already inserted). Passing over them lets the two images differ in shape.
    """
    for layer in model:
        if not isinstance(layer, (ContentLoss, StyleLoss)):
            img = layer(img)
    return img


def build_model(content_img: torch.Tensor, style_img: torch.Tensor,
                content_layers: Sequence[str] = ("relu4_2",),
                style_layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
                device: str | torch.device = "cpu"):
    """The ``nn.Sequential`` with loss modules, and the two lists of loss modules.

    Args:
        content_img: ``(1, 3, H, W)`` in [0, 1].
        style_img: ``(1, 3, H', W')`` in [0, 1].
        content_layers, style_layers: VGG19 layer names (``relu4_2``, ...).
        device: where the model and the targets live.

    Returns:
        ``(model, content_losses, style_losses)``; after ``model(x)`` each loss
        module's ``.loss`` holds its term for ``x``.

    Raises:
        ValueError: a layer name VGG19 does not have (the message lists them).
    """
    content_img, style_img = content_img.to(device), style_img.to(device)
    vgg = _vgg19_layers()
    names = [name for name, _ in vgg]
    unknown = [n for n in (*content_layers, *style_layers) if n not in names]
    if unknown:
        raise ValueError(f"unknown VGG19 layer(s) {unknown}; choose from: {', '.join(names)}")
    model = nn.Sequential(_CaffeInput()).to(device)
    content_losses, style_losses = [], []
    deepest = max(names.index(n) for n in (*content_layers, *style_layers))
    for name, layer in vgg[:deepest + 1]:
        model.add_module(name, layer.to(device))
        # The listings' way: run the network assembled so far to get this depth's target.
        if name in content_layers:
            loss = ContentLoss(_prefix_features(model, content_img))
            model.add_module(f"content_loss_{name}", loss)
            content_losses.append(loss)
        if name in style_layers:
            loss = StyleLoss(_prefix_features(model, style_img))
            model.add_module(f"style_loss_{name}", loss)
            style_losses.append(loss)
    model.requires_grad_(False)
    model.eval()
    return model, content_losses, style_losses


def objective(model: nn.Module, content_losses, style_losses, x: torch.Tensor,
              content_weight: float = CONTENT_WEIGHT, style_weight: float = STYLE_WEIGHT) -> torch.Tensor:
    """``J(x)``: one forward pass through ``model``, then the weighted sum of the recorded losses."""
    model(x)
    content = sum(m.loss for m in content_losses)
    style = sum(m.loss for m in style_losses)
    return content_weight * content + style_weight * style


def transfer(content_img: torch.Tensor, style_img: torch.Tensor, num_steps: int = 300, *,
             content_weight: float = CONTENT_WEIGHT, style_weight: float = STYLE_WEIGHT,
             content_layers: Sequence[str] = ("relu4_2",),
             style_layers: Sequence[str] = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"),
             device: str | torch.device = "cpu",
             callback: Callable[[int, torch.Tensor], None] | None = None) -> torch.Tensor:
    """Style transfer as the tutorial listings write it, for ``num_steps`` objective evaluations.

    Args:
        content_img: ``(1, 3, H, W)`` in [0, 1]; also the starting image.
        style_img: ``(1, 3, H', W')`` in [0, 1].
        num_steps: objective evaluations (forward + backward) to spend.
        content_weight, style_weight: α and β of ``J``.
        content_layers, style_layers: VGG19 layer names.
        device: ``"cpu"``, ``"cuda"``, ...
        callback: ``callback(evaluation, image)`` after each evaluation, with
            the (clamped) image that was evaluated; do not modify it.

    Returns:
        The final image ``(1, 3, H, W)``, clamped to [0, 1], detached.

    Raises:
        ValueError: ``num_steps`` below 1, or an unknown layer name.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be at least 1, got {num_steps}")
    model, content_losses, style_losses = build_model(content_img, style_img, content_layers, style_layers, device)
    x = content_img.to(device).clone().requires_grad_(True)
    opt = torch.optim.LBFGS([x])
    evaluations = 0

    def closure():
        nonlocal evaluations
        # The listings' clamp: in place, behind the optimiser's back.
        with torch.no_grad():
            x.clamp_(0.0, 1.0)
        opt.zero_grad()
        loss = objective(model, content_losses, style_losses, x, content_weight, style_weight)
        loss.backward()
        evaluations += 1
        if callback is not None:
            callback(evaluations, x.detach())
        return loss

    while evaluations < num_steps:
        # Without a line search one iteration is one evaluation: give the
        # last call only what remains, so the budget is met exactly.
        left = min(_ITERS_PER_STEP, num_steps - evaluations)
        opt.param_groups[0]["max_iter"] = left
        # One more than max_iter, so max_iter is the limit that binds (with
        # max_eval == max_iter torch's LBFGS skips the call's last update).
        opt.param_groups[0]["max_eval"] = left + 1
        opt.step(closure)
    with torch.no_grad():
        x.clamp_(0.0, 1.0)
    return x.detach()
