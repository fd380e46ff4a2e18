"""Where a style applies: region masks from a shape name or an image file.

A mask is a ``(1, 1, H, W)`` float tensor in [0, 1] at the content image's
size: 1 where a style paints, 0 where it does not, fractions on soft edges.
:func:`list_shapes` names the regions that need no drawing; :func:`make_mask`
turns a shape name or a greyscale image file into a mask. The style loss reads
masks through :func:`styletut.statistics.layer_mask`, which brings them to
each layer's grid.

Introduced in notebooks/10_controls.ipynb
"""

from __future__ import annotations

import os
from pathlib import Path

import torch

from . import images
from .names import MASK_SHAPES

__all__ = ["list_shapes", "make_mask", "MASK_SHAPES"]

# The "centre" ellipse's semi-axes as fractions of the height and width: it
# covers pi * 0.35² ≈ 38% of the picture, and "border" the other 62%.
_CENTRE_RADIUS = 0.35
# Supersampling per side when drawing the ellipse: its edge pixels get the
# fraction of their area inside it (an anti-aliased, not a jagged, edge).
_SUPERSAMPLE = 4


def list_shapes() -> list[str]:
    """The shape names :func:`make_mask` draws without a file.

    Example:
        >>> list_shapes()
        ['all', 'left', 'right', 'top', 'bottom', 'centre', 'border']
    """
    return list(MASK_SHAPES)


def _ellipse(h: int, w: int) -> torch.Tensor:
    s = _SUPERSAMPLE
    # Sample positions at the centres of an s x s grid inside each pixel, in
    # coordinates where the picture spans [-0.5, 0.5] on each axis.
    ys = (torch.arange(h * s, dtype=torch.float64) + 0.5) / (h * s) - 0.5
    xs = (torch.arange(w * s, dtype=torch.float64) + 0.5) / (w * s) - 0.5
    inside = (ys[:, None] / _CENTRE_RADIUS) ** 2 + (xs[None, :] / _CENTRE_RADIUS) ** 2 <= 1.0
    return inside.double().reshape(h, s, w, s).mean(dim=(1, 3))


def _shape(name: str, h: int, w: int) -> torch.Tensor:
    m = torch.zeros(h, w, dtype=torch.float64)
    if name == "all":
        m[:] = 1
    elif name in ("left", "right"):
        # An odd width gives the middle column half to each side.
        half = w / 2
        cols = torch.arange(w, dtype=torch.float64)
        left = (half - cols).clamp(0, 1)
        m[:] = left if name == "left" else 1 - left
    elif name in ("top", "bottom"):
        half = h / 2
        rows = torch.arange(h, dtype=torch.float64)
        top = (half - rows).clamp(0, 1)
        m[:] = (top if name == "top" else 1 - top)[:, None]
    else:
        centre = _ellipse(h, w)
        m = centre if name == "centre" else 1 - centre
    return m


def make_mask(spec: str | os.PathLike, hw: tuple[int, int]) -> torch.Tensor:
    """A region mask at size ``hw``, from a shape name or a greyscale image file.

    Args:
        spec: one of :func:`list_shapes` (``"left"`` is the left half, an odd
            middle column split evenly; ``"centre"`` an ellipse with semi-axes
            0.35 of the height and width, anti-aliased; ``"border"`` everything
            but it), or the path of an image: its luminance (white 1, black 0)
            resized to ``hw``. A colour image is read through its luminance,
            so any drawing program's black-and-white painting works.
        hw: ``(H, W)`` of the content image.

    Returns:
        ``(1, 1, H, W)`` float32 in [0, 1] on the CPU. ``"left"`` and
        ``"right"`` (``"top"`` and ``"bottom"``, ``"centre"`` and ``"border"``)
        add up to exactly 1 everywhere.

    Raises:
        FileNotFoundError, ValueError: ``spec`` is neither a shape name nor a
            readable image (the message names both the shapes and the file).

    Example:
        >>> make_mask("left", (2, 4))[0, 0]
        tensor([[1., 1., 0., 0.],
                [1., 1., 0., 0.]])
    """
    h, w = (int(v) for v in hw)
    if str(spec) in MASK_SHAPES:
        return _shape(str(spec), h, w).float()[None, None]
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(f"mask '{spec}' is neither a shape ({', '.join(MASK_SHAPES)}) nor an existing "
                                "image file; pass a shape name or the path of a greyscale image "
                                "(white where the style applies)")
    from .colour import luminance  # the same Y as luminance-only transfer uses

    img = images.load_image(path, size=(h, w))
    return luminance(img).clamp(0, 1).float()
