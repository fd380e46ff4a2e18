"""The course's images, all offline: sample photos and procedural styles.

Photos come from the sample data that scikit-image, matplotlib and scikit-learn install on
disk; "paintings" are painted by :mod:`styletut.styles` with NumPy, since no
artwork ships with the course. Both arrive as ``(1, 3, H, W)`` tensors in
[0, 1], through :func:`styletut.images.load_image`.

Introduced in notebooks/01_images_as_tensors.ipynb
"""

from __future__ import annotations

import numpy as np
import torch
from PIL import Image

from . import styles
from .images import load_image

__all__ = ["list_samples", "sample", "list_procedural", "procedural"]


def _skimage(name: str):
    def load() -> np.ndarray:
        import skimage.data  # imported on demand: scikit-image is slow to import

        return getattr(skimage.data, name)()

    return load


def _sklearn(name: str):
    def load() -> np.ndarray:
        from sklearn.datasets import load_sample_image  # two JPEGs inside the package, read from disk

        return load_sample_image(f"{name}.jpg")

    return load


def _grace_hopper() -> np.ndarray:
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as fh, Image.open(fh) as im:
        return np.asarray(im.convert("RGB"))


_SAMPLES = {
    "astronaut": _skimage("astronaut"),
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "hubble_deep_field": _skimage("hubble_deep_field"),
    "grace_hopper": _grace_hopper,
    # More photos on disk, which the one-pass networks of lesson 11 train on
    # (styletut.photos); camera and coins are grey (load_image makes them RGB).
    "retina": _skimage("retina"),
    "immunohistochemistry": _skimage("immunohistochemistry"),
    "camera": _skimage("camera"),
    "coins": _skimage("coins"),
    "china": _sklearn("china"),
    "flower": _sklearn("flower"),
}


def list_samples() -> list[str]:
    """Names of the sample content images that work offline (see :func:`sample`).

    Example:
        >>> "chelsea" in list_samples()
        True
    """
    return sorted(_SAMPLES)


def sample(name: str, size: int | tuple[int, int] | None = None, device=None) -> torch.Tensor:
    """A sample photograph that ships with scikit-image, matplotlib or scikit-learn.

    Args:
        name: one of :func:`list_samples` (astronaut, chelsea, coffee, rocket,
            hubble_deep_field, grace_hopper, retina, immunohistochemistry,
            camera, coins, china, flower).
        size: optional longest side in pixels, or an exact ``(height, width)``.
        device: where to put the tensor (default: CPU).

    Returns:
        ``(1, 3, H, W)`` tensor in [0, 1].

    Raises:
        ValueError: an unknown name (the message lists the known ones).

    Example:
        >>> sample("chelsea", size=256).shape
        torch.Size([1, 3, 170, 256])
    """
    if not isinstance(name, str) or name not in _SAMPLES:
        raise ValueError(f"unknown sample image {name!r}; choose one of: {', '.join(list_samples())}")
    return load_image(_SAMPLES[name](), size=size, device=device)


def list_procedural() -> list[str]:
    """Names of the procedural style images (see :func:`procedural`).

    Example:
        >>> "swirls" in list_procedural()
        True
    """
    return styles.list_procedural()


def procedural(name: str, size: int | tuple[int, int] = 256, seed: int = 0, device=None, **params) -> torch.Tensor:
    """A procedurally generated style image as a ``(1, 3, H, W)`` tensor.

    No paintings ship offline, so the course paints its own: swirling strokes,
    stained glass, pointillist dots, a Mondrian grid, ... (see
    :func:`list_procedural`). The same ``seed`` always gives the same image.

    Args:
        name: style name.
        size: side in pixels, or ``(height, width)``.
        seed: random seed.
        device: where to put the tensor (default: CPU).
        **params: style parameters (see ``styletut.styles.procedural_params``).

    Returns:
        ``(1, 3, H, W)`` tensor in [0, 1].

    Example:
        >>> procedural("stained_glass", 64, seed=1).shape
        torch.Size([1, 3, 64, 64])
    """
    return load_image(styles.procedural_array(name, size=size, seed=seed, **params), device=device)
