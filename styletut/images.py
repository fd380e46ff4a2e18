"""Images as tensors: loading, resizing, saving, sample images and showing them.

Everything in the course passes images around as float tensors of shape
``(1, 3, H, W)`` with values in [0, 1], RGB order. Normalisation for a
particular network happens inside that network's feature extractor, never here.

Introduced in notebooks/01_images_as_tensors.ipynb
"""

from __future__ import annotations

import os
import tempfile
from pathlib import Path
from typing import Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError

__all__ = [
    "load_image",
    "save_image",
    "resize",
    "to_pil",
    "to_numpy",
    "list_samples",
    "sample",
    "list_procedural",
    "procedural",
    "show_images",
]

ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray, torch.Tensor]

# Paths read by load_image in this process: save_image refuses to write onto them,
# so a typo in an output path can never destroy a learner's photo.
_INPUT_PATHS: set[Path] = set()


def _resolved(path: str | os.PathLike) -> Path:
    return Path(path).expanduser().resolve()


def _decode(source, what: str, retry: str = "try again") -> Image.Image:
    """Decode an image file (a path or a binary file object), orientation applied.

    ``what`` names the source in errors ("image 'cat.jpg'", "uploaded file 'x.png'").
    """
    try:
        with Image.open(source) as im:
            im.load()
            # Phones store rotation as an EXIF tag; apply it so "up" is up.
            return ImageOps.exif_transpose(im)
    except UnidentifiedImageError as err:
        raise ValueError(
            f"cannot read {what}: not an image format Pillow recognises; save it as PNG or JPEG and {retry}"
        ) from err
    except OSError as err:
        raise ValueError(f"cannot read {what}: {err}; the file may be truncated or damaged") from err


def _open_path(path: str | os.PathLike) -> Image.Image:
    p = Path(path).expanduser()
    if not p.exists():
        raise FileNotFoundError(f"cannot read image '{p}': no such file; check the path")
    if p.is_dir():
        raise IsADirectoryError(f"cannot read image '{p}': it is a folder, not an image file")
    im = _decode(p, f"image '{p}'")
    _INPUT_PATHS.add(_resolved(p))
    return im


def _array_to_tensor(arr: np.ndarray) -> torch.Tensor:
    arr = np.asarray(arr)
    if arr.ndim == 2:
        arr = np.repeat(arr[:, :, None], 3, axis=2)
    if arr.ndim != 3 or arr.shape[2] not in (1, 3, 4):
        raise ValueError(
            f"cannot use an array of shape {arr.shape} as an image; expected (H, W), (H, W, 3) or (H, W, 4)"
        )
    if arr.shape[2] == 1:
        arr = np.repeat(arr, 3, axis=2)
    if arr.shape[2] == 4:
        arr = arr[:, :, :3]  # drop alpha, as PIL's convert("RGB") does
    if arr.dtype == np.uint8:
        arr = arr.astype(np.float32) / 255.0
    elif arr.dtype == np.uint16:
        arr = arr.astype(np.float32) / 65535.0
    elif arr.dtype == bool:
        arr = arr.astype(np.float32)
    else:
        arr = arr.astype(np.float32)
        if arr.size and (arr.min() < 0.0 or arr.max() > 1.0):
            raise ValueError(
                f"float image values must lie in [0, 1], got [{arr.min():.3g}, {arr.max():.3g}]; "
                "divide by 255 for 0..255 data"
            )
    return torch.from_numpy(np.ascontiguousarray(arr)).permute(2, 0, 1).unsqueeze(0).contiguous()


def _tensor_to_bchw(t: torch.Tensor) -> torch.Tensor:
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if t.dim() != 4 or t.shape[0] != 1 or t.shape[1] not in (1, 3):
        raise ValueError(f"expected an image tensor of shape (1, 3, H, W) or (3, H, W), got {tuple(t.shape)}")
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    return t.detach().float()


def resize(img: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize an image tensor so its longest side is ``size`` (aspect kept).

    Args:
        img: ``(B, 3, H, W)`` tensor.
        size: longest side in pixels, or an exact ``(height, width)``.

    Returns:
        ``(B, 3, H', W')`` tensor, antialiased when shrinking.

    Example:
        >>> resize(torch.rand(1, 3, 100, 200), 50).shape
        torch.Size([1, 3, 25, 50])
    """
    h, w = img.shape[-2:]
    if isinstance(size, int):
        if size < 1:
            raise ValueError(f"size must be a positive number of pixels, got {size}")
        scale = size / max(h, w)
        new = (max(1, round(h * scale)), max(1, round(w * scale)))
    else:
        new = (int(size[0]), int(size[1]))
    if new == (h, w):
        return img
    return F.interpolate(img, size=new, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


def load_image(src: ImageLike, size: int | tuple[int, int] | None = None, device=None) -> torch.Tensor:
    """Load anything image-like as a float tensor ``(1, 3, H, W)`` in [0, 1].

    Args:
        src: a file path, a PIL image, a NumPy array ``(H, W)`` / ``(H, W, 3|4)``
            (uint8 0..255 or float 0..1), or a tensor ``(3, H, W)`` / ``(1, 3, H, W)``.
            Files get their EXIF orientation applied; every mode (grey, palette,
            RGBA, CMYK, 16-bit) becomes RGB.
        size: if given, resize so the longest side is ``size`` pixels (or to an
            exact ``(height, width)``).
        device: where to put the tensor (default: CPU).

    Returns:
        Tensor of shape ``(1, 3, H, W)``, dtype float32, values in [0, 1].

    Raises:
        FileNotFoundError, ValueError: naming the file and what is wrong with it.

    Example:
        >>> content_img = load_image("photo.jpg", size=256)   # doctest: +SKIP
        >>> content_img.shape                                 # doctest: +SKIP
        torch.Size([1, 3, 171, 256])
    """
    if isinstance(src, (str, os.PathLike)):
        src = _open_path(src)
    if isinstance(src, Image.Image):
        # convert() handles every PIL mode; 16-bit greyscale needs scaling first.
        if src.mode in ("I;16", "I;16B", "I;16L", "I"):
            arr = np.asarray(src, dtype=np.float32)
            arr = arr / max(float(arr.max()), 1.0)
            t = _array_to_tensor(arr)
        else:
            t = _array_to_tensor(np.asarray(src.convert("RGB")))
    elif isinstance(src, np.ndarray):
        t = _array_to_tensor(src)
    elif isinstance(src, torch.Tensor):
        t = _tensor_to_bchw(src).clone()
    else:
        raise TypeError(
            f"cannot load an image from {type(src).__name__}; pass a path, PIL image, NumPy array or tensor"
        )
    if size is not None:
        t = resize(t, size)
    return t.to(device) if device is not None else t


def to_numpy(img: torch.Tensor) -> np.ndarray:
    """``(1, 3, H, W)`` tensor -> ``(H, W, 3)`` float32 array in [0, 1] (clamped)."""
    return _tensor_to_bchw(img)[0].clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def to_pil(img: torch.Tensor) -> Image.Image:
    """``(1, 3, H, W)`` tensor in [0, 1] -> 8-bit RGB PIL image (values clamped)."""
    return Image.fromarray((to_numpy(img) * 255.0 + 0.5).astype(np.uint8))


def save_image(img: torch.Tensor | Image.Image, path: str | os.PathLike) -> Path:
    """Save an image atomically; never over a file that was loaded as an input.

    The image is written to a temporary file in the same folder and renamed
    into place, so an interrupted save never leaves half a file behind and an
    older result at ``path`` survives until the new one is complete.

    Args:
        img: ``(1, 3, H, W)`` tensor in [0, 1] or a PIL image.
        path: where to write; the format follows the suffix (.png, .jpg, ...).

    Returns:
        The path written.

    Raises:
        ValueError: if ``path`` is an image this process loaded with
            :func:`load_image` (choose another name), or has no known suffix.
    """
    path = Path(path).expanduser()
    if _resolved(path) in _INPUT_PATHS:
        raise ValueError(
            f"refusing to write '{path}': it was loaded as an input image; choose another output path"
        )
    ext = path.suffix.lower()
    if ext not in Image.registered_extensions():
        raise ValueError(f"cannot save '{path}': unknown image suffix {ext!r}; use .png or .jpg")
    pil = img if isinstance(img, Image.Image) else to_pil(img)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}-", suffix=ext, dir=path.parent)
    try:
        with os.fdopen(fd, "wb") as fh:
            pil.save(fh, format=Image.registered_extensions()[ext])
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# --- sample content images that ship with dependencies (offline) -------------

def _skimage(name: str):
    def load():
        import skimage.data

        return getattr(skimage.data, name)()

    return load


def _grace_hopper():
    from matplotlib import cbook

    with cbook.get_sample_data("grace_hopper.jpg") as fh:
        return np.asarray(Image.open(fh).convert("RGB"))


_SAMPLES = {
    "astronaut": _skimage("astronaut"),
    "chelsea": _skimage("chelsea"),
    "coffee": _skimage("coffee"),
    "rocket": _skimage("rocket"),
    "hubble_deep_field": _skimage("hubble_deep_field"),
    "grace_hopper": _grace_hopper,
}


def list_samples() -> list[str]:
    """Names of the sample content images that work offline (see :func:`sample`)."""
    return sorted(_SAMPLES)


def sample(name: str, size: int | tuple[int, int] | None = None, device=None) -> torch.Tensor:
    """A sample photograph that ships with scikit-image or matplotlib.

    Args:
        name: one of :func:`list_samples` (astronaut, chelsea, coffee, rocket,
            hubble_deep_field, grace_hopper).
        size: optional longest side in pixels.

    Returns:
        ``(1, 3, H, W)`` tensor in [0, 1].

    Example:
        >>> content_img = sample("chelsea", size=256)
    """
    if name not in _SAMPLES:
        raise ValueError(f"unknown sample image {name!r}; choose one of: {', '.join(list_samples())}")
    return load_image(_SAMPLES[name](), size=size, device=device)


def list_procedural() -> list[str]:
    """Names of the procedural style images (see :func:`procedural`)."""
    from . import styles

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
        **params: style parameters (see ``styletut.styles.procedural_params``).

    Example:
        >>> style_img = procedural("stained_glass", 256, seed=1)
    """
    from . import styles

    return load_image(styles.procedural_array(name, size=size, seed=seed, **params), device=device)


def show_images(images: Sequence, titles: Sequence[str] | None = None, ncols: int | None = None,
                size: float = 3.0):
    """Show images in a grid with titles; returns the matplotlib figure.

    Args:
        images: tensors ``(1, 3, H, W)`` / ``(3, H, W)``, PIL images or arrays.
        titles: one title per image.
        ncols: images per row (default: all in one row, at most 5).
        size: inches per image.
    """
    import matplotlib.pyplot as plt

    images = list(images)
    if titles is not None and len(titles) != len(images):
        raise ValueError(f"got {len(images)} images but {len(titles)} titles")
    n = len(images)
    ncols = ncols or min(n, 5)
    nrows = (n + ncols - 1) // ncols
    fig, axes = plt.subplots(nrows, ncols, figsize=(size * ncols, size * nrows), squeeze=False)
    for i, ax in enumerate(axes.flat):
        ax.axis("off")
        if i < n:
            ax.imshow(to_numpy(load_image(images[i])))
            if titles is not None:
                ax.set_title(titles[i], fontsize=10)
    fig.tight_layout()
    return fig
