"""The package's vocabulary: layer names and every list of choices, without torch.

The command line builds its flags, and validates what was typed, from
:class:`styletut.options.StylizeOptions`; these names are all it needs. They
live here, in a module that imports nothing heavy, so ``styletut --help`` and
a mistyped option answer at once instead of after loading PyTorch (about
1.5 s). Each is defined once, here, and re-exported by the module that uses
it (``styletut.optim.OPTIMIZERS``, ``styletut.features.list_layers``, ...),
where its meaning is documented.
"""

from __future__ import annotations

import re

__all__ = ["OPTIMIZERS", "STYLE_NORMS", "DEFAULT_STYLE_NORM", "WEIGHTS", "POOLINGS", "DEVICES", "INITS",
           "STYLE_STATS", "COLOUR_MODES", "MASK_SHAPES", "list_layers", "check_device_name"]

OPTIMIZERS = ("gd", "sgd", "adam", "lbfgs")

# Per-layer scalings of the Gram mismatch (see styletut.losses.gram_error).
STYLE_NORMS = ("tutorial", "gatys", "relative")
# Chosen by benchmarks/bench_style_norm.py: under "relative" one style_weight
# paints every procedural style with about the same strength (see that file).
DEFAULT_STYLE_NORM = "relative"

# VGG19Features' choices: which weights, and which pooling.
WEIGHTS = ("caffe", "torchvision", "random")
POOLINGS = ("max", "avg")

# What a user types for a device; "cuda:N" (a particular GPU) is accepted too.
DEVICES = ("auto", "cpu", "cuda")

# The image a transfer starts from.
INITS = ("content", "noise", "style")

# How a style layer's features are summarised (see styletut.statistics):
# Gram matrices (Gatys et al. 2016), per-channel mean and standard deviation
# (the statistics AdaIN matches), or the sorted values of random projections
# (sliced Wasserstein distance).
STYLE_STATS = ("gram", "meanstd", "sliced")

# Keeping the photo's colours (see styletut.colour): not at all, by painting
# only the luminance, or by recolouring the style image to the photo's colour
# mean and covariance, or its per-channel histograms (Gatys et al. 2017).
COLOUR_MODES = ("none", "luminance", "meancov", "histogram")

# Regions a style can be limited to without drawing a mask (see
# styletut.regions): a half of the picture, an ellipse in the middle, the rest
# around it, or everything.
MASK_SHAPES = ("all", "left", "right", "top", "bottom", "centre", "border")

# VGG19's convolutions per block; naming follows the papers (conv3_2 = block 3, conv 2).
VGG19_BLOCKS = (2, 2, 4, 4, 4)
RESNET50_STAGES = ("stem", "maxpool", "layer1", "layer2", "layer3", "layer4")


def _vgg19_names() -> tuple[str, ...]:
    names = []
    for b, n in enumerate(VGG19_BLOCKS, start=1):
        for i in range(1, n + 1):
            names += [f"conv{b}_{i}", f"relu{b}_{i}"]
        names.append(f"pool{b}")
    return tuple(names)


VGG19_LAYERS = _vgg19_names()
MODELS = {"vgg19": VGG19_LAYERS, "resnet50": RESNET50_STAGES}


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
    if model not in MODELS:
        raise ValueError(f"unknown model {model!r}; choose one of: {', '.join(MODELS)}")
    names = list(MODELS[model])
    if kind is not None:
        if kind not in ("conv", "relu", "pool"):
            raise ValueError(f"unknown layer kind {kind!r}; choose one of: conv, relu, pool")
        names = [n for n in names if n.startswith(kind)]
    return names


def check_device_name(name: str) -> str:
    """Check the spelling of a device name (not whether this machine has it: see ``styletut.runtime``).

    Raises:
        ValueError: not one of :data:`DEVICES` or ``"cuda:N"``.

    Example:
        >>> check_device_name("cuda:1")
        'cuda:1'
    """
    if name not in DEVICES and not re.fullmatch(r"cuda:\d+", name):
        raise ValueError(f"unknown device {name!r}; use one of: {', '.join(DEVICES)} (or 'cuda:N')")
    return name
