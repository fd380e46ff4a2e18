"""The shared evaluator: one yardstick for every system in every benchmark.

Content: the mean squared error between VGG19 relu4_2 features of the image
and of the content photo. Style: the mean over relu1_1 .. relu5_1 of the mean
squared error between Gram matrices ``F Fᵀ / (C·H·W)`` of the image and of
the style image. The original Caffe VGG19 (styletut's default weights), fp32.
Every system is scored by this, whatever loss it optimised or was trained
with, so the numbers compare across methods. An image of another size than
the content photo (a coarse pyramid level) is resized to it first.
"""

from __future__ import annotations

CONTENT_LAYER = "relu4_2"
STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def gram(f):
    """``F Fᵀ / (C·H·W)`` of a ``(1, C, H, W)`` feature map."""
    _, c, h, w = f.shape
    flat = f.reshape(c, h * w)
    return flat @ flat.t() / (c * h * w)


class Evaluator:
    """``Evaluator(net)(content, style)`` gives ``score(img) -> {"content": float, "style": float}``.

    ``net``: a ``styletut.features.VGG19Features`` with (at least) CONTENT_LAYER and STYLE_LAYERS, built
    once and shared by every pair; content and style are ``(1, 3, H, W)`` in [0, 1] on the net's device.
    """

    def __init__(self, net):
        self.net = net

    def __call__(self, content, style):
        import torch
        import torch.nn.functional as F

        net = self.net
        with torch.no_grad():
            content_target = net(content)[CONTENT_LAYER]
            style_feats = net(style)
            style_grams = {l: gram(style_feats[l]) for l in STYLE_LAYERS}
        hw = tuple(content.shape[-2:])

        @torch.no_grad()
        def score(img) -> dict:
            img = img.to(content.device)
            if tuple(img.shape[-2:]) != hw:
                img = F.interpolate(img, size=hw, mode="bilinear", align_corners=False)
            feats = net(img)
            style_mse = [F.mse_loss(gram(feats[l]), style_grams[l]).item() for l in STYLE_LAYERS]
            return {"content": F.mse_loss(feats[CONTENT_LAYER], content_target).item(),
                    "style": sum(style_mse) / len(style_mse)}

        return score


def make_net(device="cpu"):
    """The evaluator's VGG19 (Caffe weights), returning CONTENT_LAYER and STYLE_LAYERS."""
    from styletut.features import VGG19Features

    return VGG19Features(STYLE_LAYERS + (CONTENT_LAYER,), weights="caffe", device=device)
