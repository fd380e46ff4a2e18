"""Images as tensors: loading, resizing, saving and showing them.

Everything in the course passes images around as float tensors of shape
``(1, 3, H, W)`` with values in [0, 1], RGB order. Normalisation for a
particular network happens inside that network's feature extractor, never here.
Sample photos and procedural styles live in :mod:`styletut.data`; this module
is only input and output.

What :func:`load_image` does with each kind of input (every case is tested in
``tests/test_image_corpus.py``):

- Files in :data:`READ_FORMATS` (PNG, JPEG, GIF, BMP, TIFF, WebP, AVIF, PPM,
  ICO) are read; others, such as an iPhone's HEIC, are refused with the fix.
- 8-bit files of any colour mode (grey, palette, RGB, CMYK, YCbCr, ...) become
  RGB, with the EXIF orientation a phone stores applied.
- Transparent images (RGBA, grey + alpha, a palette or grey/RGB PNG with a
  transparent colour, arrays ``(H, W, 4)`` and ``(H, W, 2)``) are composited
  on **white**: a half-transparent red pixel becomes pink, an invisible one
  white, as on a white web page. Dropping the alpha instead would reveal the
  colour hidden under transparent pixels, often black.
- 16-bit grey PNG/TIFF (and ``uint16`` arrays) are divided by 65535, so a dark
  image stays dark. Pillow reads 16-bit *colour* PNG/TIFF as 8 bits per
  channel (the top byte), so those are exact to within 1/255.
- 32-bit integer images (Pillow mode ``"I"``, e.g. signed 16-bit TIFF) are read
  as 16-bit data, divided by 65535; values outside 0..65535 are refused.
- 32-bit float TIFF (mode ``"F"``) and float arrays keep their values, which
  must lie in [0, 1]; anything else (including NaN) is refused.
- Animations (GIF, APNG, WebP) and multi-page TIFF give their first frame, with
  a warning that names the file and the number of frames.
- Tensors are the course's own format: float values slightly outside [0, 1]
  (an optimiser's overshoot, within [-1, 2]) are clamped; beyond that, or NaN,
  they are refused.
- Files with more than :data:`MAX_PIXELS` pixels are refused from their header,
  before any decoding (raise the limit with the environment variable
  ``STYLETUT_MAX_PIXELS``).
- Anything else (a truncated or empty file, a text file, a folder, a missing or
  unreadable path) is refused with an error that names the file, the reason
  and the fix: only ``FileNotFoundError``, ``IsADirectoryError``,
  ``PermissionError``, :class:`ImageError` (a ``ValueError``) and, for a
  wrong Python type, ``TypeError`` leave :func:`load_image`.

:func:`save_image` writes 8-bit RGB atomically and never over an input; the
check behind that, :func:`check_output_path`, is public so that a front end
can run it before any work.

Introduced in notebooks/01_images_as_tensors.ipynb
"""

from __future__ import annotations

import errno
import io
import os
import re
import stat
import threading
import warnings
from pathlib import Path
from typing import Iterable, Sequence, Union

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image, ImageOps, UnidentifiedImageError, features

from .files import atomic_write
from .runtime import resolve_device

__all__ = [
    "ImageError",
    "MAX_PIXELS",
    "READ_FORMATS",
    "SAVE_SUFFIXES",
    "load_image",
    "load_image_bytes",
    "check_output_path",
    "save_image",
    "resize",
    "to_pil",
    "to_numpy",
    "show_images",
]

ImageLike = Union[str, os.PathLike, Image.Image, np.ndarray, torch.Tensor]


class ImageError(ValueError):
    """An image that cannot be used; the message names it, says why and what to do."""


# The largest image load_image decodes: 100 megapixels (10000 x 10000), whose
# float copy alone takes 1.2 GB. Checked from the file's header, before any
# pixel is decoded, so a tiny "decompression bomb" file cannot exhaust memory.
# The environment variable STYLETUT_MAX_PIXELS, when set, replaces it.
MAX_PIXELS = 100_000_000
MAX_PIXELS_ENV = "STYLETUT_MAX_PIXELS"

# The formats load_image reads. A short list on purpose: uploads from a browser
# must not reach Pillow's exotic decoders (EPS, for one, runs Ghostscript).
READ_FORMATS = tuple(f for f in ("PNG", "JPEG", "GIF", "BMP", "TIFF", "WEBP", "AVIF", "PPM", "ICO")
                     if f not in ("WEBP", "AVIF") or features.check(f.lower()))

# Suffix -> Pillow format for save_image: formats that store 8-bit RGB as it is
# (GIF would reduce the colours to a palette of 256).
_SAVE_FORMATS = {ext: fmt for ext, fmt in Image.registered_extensions().items()
                 if fmt in {"PNG", "JPEG", "TIFF", "WEBP", "BMP"} and fmt in Image.SAVE}
SAVE_SUFFIXES = tuple(sorted(_SAVE_FORMATS))

# Paths read by load_image in this process: check_output_path refuses to write
# onto them, so a typo in an output path can never destroy a learner's photo.
_INPUT_PATHS: set[Path] = set()

# warnings.catch_warnings changes process-wide state; this lock keeps two
# styletut threads (a notebook and the panel's worker) from interleaving it.
_DECODE_LOCK = threading.Lock()

# First bytes of formats people try, for a precise "cannot read" message.
_SIGNATURES = {
    b"\x89PNG\r\n\x1a\n": "PNG",
    b"\xff\xd8\xff": "JPEG",
    b"GIF87a": "GIF",
    b"GIF89a": "GIF",
    b"II*\x00": "TIFF",
    b"MM\x00*": "TIFF",
    b"BM": "BMP",
}


# --------------------------------------------------------------------------- paths and limits


def _resolved(path: str | os.PathLike) -> Path:
    """The absolute, symlink-free form of ``path`` (best effort for odd paths)."""
    p = Path(path).expanduser()
    try:
        return p.resolve()
    except (OSError, RuntimeError):  # a symlink loop, say: compare as written
        return Path(os.path.abspath(p))


def _max_pixels() -> int:
    """The pixel limit in force: ``$STYLETUT_MAX_PIXELS`` if set, else :data:`MAX_PIXELS`."""
    raw = os.environ.get(MAX_PIXELS_ENV, "").strip()
    if not raw:
        return int(MAX_PIXELS)
    try:
        value = int(raw)
    except ValueError:
        value = 0
    if value < 1:
        raise ImageError(f"the environment variable {MAX_PIXELS_ENV}={raw!r} is not a positive whole number "
                         f"of pixels; set it to, e.g., {MAX_PIXELS_ENV}=200000000, or unset it for the "
                         f"default ({MAX_PIXELS:,})")
    return value


def _too_many_pixels(what: str, pixels: int, limit: int, dims: tuple[int, int] | None = None) -> ImageError:
    shape = f"{dims[0]} x {dims[1]} = {pixels:,} pixels" if dims else f"{pixels:,} pixels"
    return ImageError(
        f"cannot read {what}: it is {shape}, more than the limit of {limit:,} pixels "
        f"(refused before decoding, to protect memory: as floats it would take "
        f"{pixels * 12 / 2**30:.1f} GB). If you trust the file, raise the limit: set the environment "
        f"variable {MAX_PIXELS_ENV}={pixels} (or styletut.images.MAX_PIXELS = {pixels} in Python); "
        f"or shrink the image in an image editor first")


def _check_pixels(dims: tuple[int, int], what: str) -> None:
    w, h = int(dims[0]), int(dims[1])
    limit = _max_pixels()
    if w * h > limit:
        raise _too_many_pixels(what, w * h, limit, (w, h))


# --------------------------------------------------------------------------- decoding files


def _unidentified(what: str, head: bytes, retry: str) -> ImageError:
    """The message for bytes Pillow does not recognise, as precise as the first bytes allow."""
    known = next((fmt for sig, fmt in _SIGNATURES.items() if head.startswith(sig)), None)
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        known = "WEBP"
    brand = head[8:12] if head[4:8] == b"ftyp" else b""
    if brand in (b"heic", b"heix", b"hevc", b"heim", b"heis", b"mif1", b"msf1"):
        return ImageError(f"cannot read {what}: it is a HEIC/HEIF photo (the iPhone's format), which Pillow "
                          f"cannot decode; export it as JPEG or PNG and {retry}")
    if brand in (b"avif", b"avis") and "AVIF" not in READ_FORMATS:
        known = "AVIF"
    if known in ("WEBP", "AVIF") and known not in READ_FORMATS:
        return ImageError(f"cannot read {what}: it is a {known} image, and this Pillow was built without "
                          f"{known} support; convert it to PNG or JPEG and {retry}")
    if known:
        return ImageError(f"cannot read {what}: it starts like a {known} file but Pillow cannot decode it: "
                          f"it is truncated or damaged, or a {known} variant Pillow does not support; "
                          f"copy it again, or re-save it as an 8-bit PNG and {retry}")
    return ImageError(f"cannot read {what}: not an image, or not in a format styletut reads "
                      f"({', '.join(READ_FORMATS)}); save it as PNG or JPEG and {retry}")


def _apply_orientation(im: Image.Image, notes: list[str], what: str) -> Image.Image:
    """Apply the EXIF orientation tag, so "up" is up; a broken tag only costs a note."""
    try:
        return ImageOps.exif_transpose(im)
    except Exception as err:  # malformed EXIF must not make a good picture unreadable
        notes.append(f"{what}: its EXIF orientation could not be read ({err}); loaded as stored")
        return im


def _first_frame(im: Image.Image, notes: list[str], what: str) -> None:
    """Move to the first frame of an animation, noting that the others are ignored."""
    if im.format == "MPO" or not getattr(im, "is_animated", False):
        return  # MPO: a camera's main picture plus previews, not an animation
    kind = "pages" if im.format == "TIFF" else "frames"
    notes.append(f"{what} has {im.n_frames} {kind}; using the first only (save the one you want as PNG "
                 f"to use another)")
    im.seek(0)


def _decode(fp, what: str, retry: str, stacklevel: int) -> np.ndarray:
    """Decode an image file (a binary file object) to an ``(H, W, 3)`` float32 array.

    ``what`` names the source in errors ("image 'cat.jpg'", "uploaded file
    'x.png'"), ``retry`` ends the fix ("try again", "upload it again");
    ``stacklevel`` points warnings at the caller of the public function.
    """
    head = fp.read(32)
    fp.seek(0)
    notes: list[str] = []
    arr = _decode_locked(fp, head, notes, what, retry)
    # Warned only now, outside the try: a warnings filter set to "error" must
    # not turn "first frame only" into "the file is damaged".
    for note in notes:
        warnings.warn(note, UserWarning, stacklevel=stacklevel + 1)
    return arr


def _decode_locked(fp, head: bytes, notes: list[str], what: str, retry: str) -> np.ndarray:
    with _DECODE_LOCK, warnings.catch_warnings():
        # Pillow warns from its own, lower limit without naming the file; the
        # limit that counts is ours, checked from the header below.
        warnings.simplefilter("ignore", Image.DecompressionBombWarning)
        try:
            with Image.open(fp, formats=READ_FORMATS) as im:
                _check_pixels(im.size, what)  # im.size comes from the header: nothing decoded yet
                _first_frame(im, notes, what)
                im.load()
                return _pil_to_array(_apply_orientation(im, notes, what), what)
        except ImageError:
            raise
        except UnidentifiedImageError as err:
            raise _unidentified(what, head, retry) from err
        except Image.DecompressionBombError as err:
            # Pillow's own hard limit (twice PIL.Image.MAX_IMAGE_PIXELS) fired in Image.open.
            found = re.search(r"\((\d+) pixels\)", str(err))
            pixels = int(found.group(1)) if found else 2 * (Image.MAX_IMAGE_PIXELS or 0) + 1
            limit = _max_pixels()
            if pixels > limit:
                raise _too_many_pixels(what, pixels, limit) from err
            raise ImageError(
                f"cannot read {what}: it has {pixels:,} pixels, within styletut's limit ({limit:,}) but past "
                f"Pillow's own ({2 * Image.MAX_IMAGE_PIXELS:,}); if you trust the file, also raise Pillow's: "
                f"PIL.Image.MAX_IMAGE_PIXELS = {pixels} in Python") from err
        except MemoryError as err:
            raise ImageError(f"cannot read {what}: not enough memory to decode it; shrink it in an image "
                             f"editor first, or lower {MAX_PIXELS_ENV} to refuse such files early") from err
        except Exception as err:
            # Pillow's decoders signal a bad file with many types (OSError,
            # SyntaxError, struct.error, EOFError, ValueError, ...): all mean the same.
            raise ImageError(f"cannot read {what}: the file is truncated or damaged ({type(err).__name__}: "
                             f"{err}); copy or download it again, or re-save it as PNG and {retry}") from err


def _open_path(path: str | os.PathLike) -> np.ndarray:
    p = Path(path).expanduser()
    what = f"image '{p}'"
    folder_msg = f"cannot read {what}: it is a folder, not an image file; name one of the files inside it"
    try:
        # stat first: opening a named pipe would wait for a writer forever.
        info = os.stat(p)
        if stat.S_ISDIR(info.st_mode):
            raise IsADirectoryError(errno.EISDIR, folder_msg)
        if not stat.S_ISREG(info.st_mode):
            raise ImageError(f"cannot read {what}: not a regular file (a device or a pipe); "
                             f"save the image to a file first")
        if info.st_size == 0:
            raise ImageError(f"cannot read {what}: the file is empty (0 bytes); copy or save it again")
        fh = open(p, "rb")
    except (ImageError, IsADirectoryError):
        raise
    except (FileNotFoundError, NotADirectoryError) as err:
        where = "" if p.is_absolute() else f" (relative to the current folder, {Path.cwd()})"
        raise FileNotFoundError(errno.ENOENT, f"cannot read {what}: no such file{where}; check the path") from err
    except PermissionError as err:
        raise PermissionError(errno.EACCES, f"cannot read {what}: permission denied; make it readable "
                              f"(chmod u+r '{p}') or copy it somewhere you can read") from err
    except (OSError, ValueError) as err:  # a name too long, a NUL byte, an I/O error
        raise ImageError(f"cannot read {what}: {getattr(err, 'strerror', None) or err}; check the path") from err
    with fh:
        arr = _decode(fh, what, "try again", stacklevel=3)
    _INPUT_PATHS.add(_resolved(p))
    return arr


# --------------------------------------------------------------------------- pixels to [0, 1]


def _on_white(rgb: np.ndarray, alpha: np.ndarray) -> np.ndarray:
    """Composite colours in [0, 1] with opacity in [0, 1] over a white background."""
    a = alpha[..., None] if alpha.ndim == rgb.ndim - 1 else alpha
    return rgb * a + (1.0 - a)


def _pil_to_array(im: Image.Image, what: str) -> np.ndarray:
    """A loaded PIL image of any mode -> ``(H, W, 3)`` float32 in [0, 1] (see the module docstring)."""
    if im.width < 1 or im.height < 1:
        raise ImageError(f"cannot use {what}: it is {im.width} x {im.height}, with no pixels")
    mode = im.mode
    if mode.startswith("I;16"):
        grey = np.asarray(im).astype(np.float32) / 65535.0
    elif mode == "I":
        raw = np.asarray(im)
        lo, hi = (int(raw.min()), int(raw.max())) if raw.size else (0, 0)
        if lo < 0 or hi > 65535:
            raise ImageError(f"cannot use {what}: it holds 32-bit integers from {lo} to {hi}, and styletut reads "
                             f"integer images as 16-bit (0..65535); save it as a 16-bit PNG, or as a "
                             f"float TIFF scaled to [0, 1]")
        grey = raw.astype(np.float32) / 65535.0
    elif mode == "F":
        grey = _check_float(np.asarray(im, dtype=np.float32), what)
    else:
        # An alpha channel, a palette with alpha, or a "transparency" colour (PNG tRNS, GIF).
        if im.has_transparency_data:
            # "La" (premultiplied) has no direct route to RGBA.
            rgba = (im.convert("LA") if mode == "La" else im).convert("RGBA")
            arr = np.asarray(rgba).astype(np.float32) / 255.0
            return _on_white(arr[..., :3], arr[..., 3])
        return np.asarray(im.convert("RGB")).astype(np.float32) / 255.0
    return np.repeat(grey[:, :, None], 3, axis=2)


def _check_float(arr: np.ndarray, what: str) -> np.ndarray:
    """Float pixels must already be in [0, 1]: refuse NaN, inf and other scales, naming the fix."""
    if arr.size == 0:
        return arr.astype(np.float32)
    if not np.isfinite(arr).all():
        raise ImageError(f"cannot use {what}: it contains NaN or infinite values; replace them "
                         f"(e.g. np.nan_to_num(x, nan=0.0, posinf=1.0, neginf=0.0)) first")
    lo, hi = float(arr.min()), float(arr.max())
    if lo < 0.0 or hi > 1.0:
        hint = "divide by 255 for 0..255 data" if hi <= 255.0 and lo >= 0.0 else "rescale it to [0, 1]"
        raise ImageError(f"cannot use {what}: float image values must lie in [0, 1], got [{lo:.3g}, {hi:.3g}]; "
                         f"{hint}")
    return arr.astype(np.float32)


def _array_to_rgb(arr: np.ndarray, what: str = "the array") -> np.ndarray:
    """``(H, W)`` or ``(H, W, 1|2|3|4)`` array -> ``(H, W, 3)`` float32 in [0, 1]."""
    if arr.ndim == 2:
        arr = arr[:, :, None]
    if arr.ndim != 3 or arr.shape[2] not in (1, 2, 3, 4):
        raise ImageError(f"cannot use an array of shape {arr.shape} as an image; expected (H, W), "
                         f"(H, W, 3) or (H, W, 4) (channels last; use np.moveaxis(x, 0, -1) for (3, H, W))")
    if arr.shape[0] == 0 or arr.shape[1] == 0:
        raise ImageError(f"cannot use an array of shape {arr.shape} as an image: it has no pixels")
    kind, nbytes = arr.dtype.kind, arr.dtype.itemsize  # by kind and size: big-endian '>u2' is uint16 too
    if kind == "u" and nbytes == 1:
        x = arr.astype(np.float32) / 255.0
    elif kind == "u" and nbytes == 2:
        x = arr.astype(np.float32) / 65535.0
    elif arr.dtype == np.bool_:
        x = arr.astype(np.float32)
    elif np.issubdtype(arr.dtype, np.floating):
        x = _check_float(arr, f"{what} (dtype {arr.dtype})")  # check before float32 can overflow
    elif np.issubdtype(arr.dtype, np.integer):
        raise ImageError(f"cannot use {what} of dtype {arr.dtype} as an image: integer pixels must be uint8 "
                         f"(0..255) or uint16 (0..65535); convert with x.astype(np.uint8) for 0..255 data, "
                         f"or to float in [0, 1]")
    else:
        raise ImageError(f"cannot use {what} of dtype {arr.dtype} as an image; use uint8, uint16 or "
                         f"float values in [0, 1]")
    channels = x.shape[2]
    if channels in (2, 4):  # grey + alpha, RGB + alpha: on white, as for files
        x = _on_white(x[:, :, : channels - 1], x[:, :, channels - 1])
    if x.shape[2] == 1:
        x = np.repeat(x, 3, axis=2)
    return x


def _rgb_to_tensor(rgb: np.ndarray) -> torch.Tensor:
    return torch.from_numpy(np.ascontiguousarray(rgb, dtype=np.float32)).permute(2, 0, 1).unsqueeze(0).contiguous()


def _tensor_to_bchw(t: torch.Tensor) -> torch.Tensor:
    """``(3, H, W)`` / ``(1, 3, H, W)`` (or one channel) -> float ``(1, 3, H, W)``, values as they are."""
    if t.dim() == 3:
        t = t.unsqueeze(0)
    if t.dim() != 4 or t.shape[0] != 1 or t.shape[1] not in (1, 3):
        raise ImageError(f"expected an image tensor of shape (1, 3, H, W) or (3, H, W), got {tuple(t.shape)}")
    if t.shape[2] == 0 or t.shape[3] == 0:
        raise ImageError(f"cannot use a tensor of shape {tuple(t.shape)} as an image: it has no pixels")
    t = t.detach()
    if t.dtype == torch.uint8:
        t = t.float() / 255.0
    elif t.dtype == torch.bool:
        t = t.float()
    elif not t.is_floating_point():
        raise ImageError(f"cannot use a tensor of dtype {t.dtype} as an image; use float values in [0, 1] "
                         f"or uint8 0..255")
    if t.shape[1] == 1:
        t = t.expand(-1, 3, -1, -1)
    return t.float()


# How far outside [0, 1] a tensor may stray and still be clamped: an optimiser
# without box constraints overshoots a little; 0..255 data is far beyond.
_TENSOR_SLACK = 1.0


def _tensor_to_image(t: torch.Tensor) -> torch.Tensor:
    t = _tensor_to_bchw(t)
    if not torch.isfinite(t).all():
        raise ImageError("cannot use a tensor with NaN or infinite values as an image; "
                         "replace them first (torch.nan_to_num(x, nan=0.0).clamp(0, 1))")
    lo, hi = t.min().item(), t.max().item()
    if lo < -_TENSOR_SLACK or hi > 1.0 + _TENSOR_SLACK:
        raise ImageError(f"image tensor values must lie in [0, 1], got [{lo:.3g}, {hi:.3g}]; "
                         f"divide by 255 for 0..255 data")
    return t.clamp(0.0, 1.0)  # clone: never hand back the caller's own tensor


# --------------------------------------------------------------------------- sizes


def _is_int(x) -> bool:
    return isinstance(x, (int, np.integer)) and not isinstance(x, (bool, np.bool_))


def _check_size(size) -> None:
    if size is None:
        return
    if _is_int(size):
        if size < 1:
            raise ValueError(f"size must be a positive number of pixels, got {size}")
        return
    if isinstance(size, (tuple, list)) and len(size) == 2 and all(_is_int(s) for s in size):
        if min(size) < 1:
            raise ValueError(f"size (height, width) must be positive numbers of pixels, got {tuple(size)}")
        return
    raise TypeError(f"size must be a whole number of pixels (the longest side) or a (height, width) pair "
                    f"of them, got {size!r}")


def _new_shape(h: int, w: int, size) -> tuple[int, int]:
    if _is_int(size):
        scale = int(size) / max(h, w)
        # max(1, ...): a 100:1 strip shrunk to 50 px keeps a side of 1, never 0.
        return max(1, round(h * scale)), max(1, round(w * scale))
    return int(size[0]), int(size[1])


def resize(img: torch.Tensor, size: int | tuple[int, int]) -> torch.Tensor:
    """Resize an image tensor so its longest side is ``size`` (aspect kept).

    Args:
        img: ``(B, 3, H, W)`` float tensor.
        size: longest side in pixels, or an exact ``(height, width)``.

    Returns:
        ``(B, 3, H', W')`` tensor, antialiased when shrinking; no side is ever 0.

    Raises:
        TypeError: ``img`` is not a float tensor, or ``size`` is not a whole number or pair.
        ValueError: ``size`` is not positive, or the result would have more than
            :data:`MAX_PIXELS` pixels.

    Example:
        >>> resize(torch.rand(1, 3, 100, 200), 50).shape
        torch.Size([1, 3, 25, 50])
    """
    if not isinstance(img, torch.Tensor) or not img.is_floating_point() or img.dim() < 3:
        raise TypeError(f"resize takes a float image tensor (B, 3, H, W); got {type(img).__name__}"
                        + (f" of shape {tuple(img.shape)}, dtype {img.dtype}" if isinstance(img, torch.Tensor) else "")
                        + "; use load_image first")
    _check_size(size)
    h, w = img.shape[-2:]
    new = _new_shape(h, w, size)
    if new == (h, w):
        return img
    limit = _max_pixels()
    if new[0] * new[1] > limit:
        raise ImageError(f"resizing to size={size!r} would make a {new[0]} x {new[1]} image "
                         f"({new[0] * new[1]:,} pixels), more than the limit of {limit:,}; choose a smaller "
                         f"size (or raise {MAX_PIXELS_ENV})")
    return F.interpolate(img, size=new, mode="bilinear", align_corners=False, antialias=True).clamp(0, 1)


# --------------------------------------------------------------------------- loading


def _finish(t: torch.Tensor, size, device) -> torch.Tensor:
    if size is not None:
        t = resize(t, size)
    return t.to(resolve_device(device)) if device is not None else t


def load_image(src: ImageLike, size: int | tuple[int, int] | None = None, device=None) -> torch.Tensor:
    """Load anything image-like as a float tensor ``(1, 3, H, W)`` in [0, 1].

    The module docstring lists what happens to each kind of file: transparent
    images are composited on white, 16-bit images divided by 65535, float TIFFs
    kept as they are, animations reduced to their first frame (with a warning),
    and oversized files refused before decoding.

    Args:
        src: a file path, a PIL image, a NumPy array ``(H, W)`` / ``(H, W, 1|2|3|4)``
            (uint8 0..255, uint16 0..65535, bool, or float in [0, 1]), or a tensor
            ``(3, H, W)`` / ``(1, 3, H, W)`` (float, or uint8 0..255). Float
            tensors slightly outside [0, 1] (an optimiser's overshoot, within
            [-1, 2]) are clamped; arrays must already be in range.
        size: if given, resize so the longest side is ``size`` pixels (or to an
            exact ``(height, width)``).
        device: where to put the tensor (default: CPU), e.g. ``"cuda"``.

    Returns:
        Tensor of shape ``(1, 3, H, W)``, dtype float32, values in [0, 1].

    Raises:
        FileNotFoundError: no such file.
        IsADirectoryError: the path is a folder.
        PermissionError: the file cannot be read.
        ImageError: (a ``ValueError``) anything else: empty, truncated or not an
            image, too many pixels, values out of range, a bad shape or dtype.
            The message names the file, the reason and the fix.
        ValueError: ``size`` is not positive.
        TypeError: ``src`` or ``size`` of a type that is no image or size.

    Example:
        >>> content_img = load_image("photo.jpg", size=256)   # doctest: +SKIP
        >>> content_img.shape                                 # doctest: +SKIP
        torch.Size([1, 3, 171, 256])
    """
    _check_size(size)
    if isinstance(src, (str, os.PathLike)):
        t = _rgb_to_tensor(_open_path(src))
    elif isinstance(src, Image.Image):
        what = f"the PIL image (mode {src.mode!r}, {src.size[0]} x {src.size[1]})"
        try:
            src.load()
            rgb = _pil_to_array(src, what)
        except ImageError:
            raise
        except Exception as err:  # a lazily opened image whose file turns out damaged
            raise ImageError(f"cannot use {what}: Pillow cannot decode it ({type(err).__name__}: {err}); "
                             f"open the file with load_image(path) to see which file is at fault") from err
        t = _rgb_to_tensor(rgb)
    elif isinstance(src, np.ndarray):
        t = _rgb_to_tensor(_array_to_rgb(src))
    elif isinstance(src, torch.Tensor):
        t = _tensor_to_image(src)
    else:
        hint = " (for a file's contents, use load_image_bytes)" if isinstance(src, (bytes, bytearray)) else ""
        raise TypeError(f"cannot load an image from {type(src).__name__}; pass a path, PIL image, "
                        f"NumPy array or tensor{hint}")
    return _finish(t, size, device)


def load_image_bytes(data: bytes, name: str, size: int | tuple[int, int] | None = None, device=None) -> torch.Tensor:
    """Load an uploaded file's bytes, as :func:`load_image` loads a path.

    Args:
        data: the file's contents.
        name: the file's name as the user knows it; every error names it.
        size, device: as for :func:`load_image`.

    Returns:
        Tensor of shape ``(1, 3, H, W)``, dtype float32, values in [0, 1].

    Raises:
        ImageError: (a ``ValueError``) empty, truncated, not an image, too many
            pixels, ...; the message names ``name`` and says to upload it again.
        TypeError: ``data`` is not bytes.

    Example:
        >>> load_image_bytes(Path("cat.png").read_bytes(), "cat.png").shape  # doctest: +SKIP
        torch.Size([1, 3, 300, 451])
    """
    if not isinstance(data, (bytes, bytearray, memoryview)):
        raise TypeError(f"load_image_bytes takes the file's bytes, got {type(data).__name__}")
    _check_size(size)
    what = f"uploaded file '{name}'"
    if len(data) == 0:
        raise ImageError(f"cannot read {what}: the file is empty (0 bytes); upload it again")
    rgb = _decode(io.BytesIO(bytes(data)), what, "upload it again", stacklevel=2)
    return _finish(_rgb_to_tensor(rgb), size, device)


# --------------------------------------------------------------------------- back to pixels


def to_numpy(img) -> np.ndarray:
    """``(1, 3, H, W)`` tensor (or anything :func:`load_image` takes) -> ``(H, W, 3)`` float32 array in [0, 1].

    Tensor values are clamped to [0, 1], whatever their range.
    """
    t = _tensor_to_bchw(img) if isinstance(img, torch.Tensor) else load_image(img)
    return t[0].clamp(0, 1).permute(1, 2, 0).cpu().numpy()


def to_pil(img) -> Image.Image:
    """``(1, 3, H, W)`` tensor in [0, 1] -> 8-bit RGB PIL image (values clamped, rounded).

    Raises:
        ImageError: the tensor holds NaN or infinite values (no picture to make).
    """
    arr = to_numpy(img)
    if not np.isfinite(arr).all():
        raise ImageError("cannot convert an image with NaN or infinite values to pixels; "
                         "replace them first (torch.nan_to_num(x, nan=0.0).clamp(0, 1))")
    return Image.fromarray((arr * 255.0 + 0.5).astype(np.uint8))


# --------------------------------------------------------------------------- saving


def check_output_path(path: str | os.PathLike, inputs: Iterable = ()) -> Path:
    """Check, before any work, that an image may be written to ``path``.

    The one place that says no to: overwriting an input (a file read by
    :func:`load_image` in this process, or any path in ``inputs``); a missing
    or unknown suffix; a folder; a folder you cannot write to.

    Args:
        path: where the image will go; the suffix picks the format (see :data:`SAVE_SUFFIXES`).
        inputs: more paths that must not be overwritten (anything else in it,
            such as a tensor or ``"sample:chelsea"`` that is no file, is ignored).

    Returns:
        ``path`` as a ``Path`` (``~`` expanded).

    Raises:
        ValueError: ``path`` is an input, or its suffix is missing or unknown
            (the message suggests a name with ``.png``).
        IsADirectoryError: ``path`` is a folder.
        NotADirectoryError: a parent of ``path`` is a file.
        PermissionError: the folder cannot be written to.

    Example:
        >>> check_output_path("result")                      # doctest: +SKIP
        ValueError: cannot save to 'result': it has no suffix ... did you mean 'result.png'?
    """
    if not isinstance(path, (str, os.PathLike)):
        raise TypeError(f"an output path must be a str or Path, got {type(path).__name__}")
    p = Path(path).expanduser()
    if p.is_dir():
        raise IsADirectoryError(errno.EISDIR, f"cannot save to '{p}': it is a folder; name a file inside it, "
                                f"e.g. '{p / 'result.png'}'")
    target = _resolved(p)
    protected = set(_INPUT_PATHS)
    protected |= {_resolved(x) for x in inputs if isinstance(x, (str, os.PathLike))}
    same = target in protected or (p.exists() and any(q.exists() and os.path.samefile(p, q) for q in protected))
    if same:
        other = p.with_name(p.stem + "_styled.png")
        raise ValueError(f"refusing to write '{p}': it is an input image (read by load_image, or named as an "
                         f"input) and would be overwritten; choose another output path, e.g. '{other}'")
    ext = p.suffix.lower()
    if not ext:
        raise ValueError(f"cannot save to '{p}': it has no suffix, so no image format; "
                         f"did you mean '{p.with_name(p.name + '.png')}'? (formats: {', '.join(SAVE_SUFFIXES)})")
    if ext not in _SAVE_FORMATS:
        raise ValueError(f"cannot save to '{p}': unknown image suffix {ext!r}; use one of "
                         f"{', '.join(SAVE_SUFFIXES)}, e.g. '{p.with_name(p.name + '.png')}'")
    folder = p.parent
    while not folder.exists() and folder != folder.parent:  # save_image creates missing folders
        folder = folder.parent
    if not folder.is_dir():
        raise NotADirectoryError(errno.ENOTDIR, f"cannot save to '{p}': '{folder}' is a file, not a folder; "
                                 f"choose another output path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise PermissionError(errno.EACCES, f"cannot save to '{p}': no permission to write in folder "
                              f"'{folder}'; choose another folder")
    return p


def save_image(img, path: str | os.PathLike, inputs: Iterable = ()) -> Path:
    """Save an image as 8-bit RGB, atomically; never over an input.

    The image goes through :func:`styletut.files.atomic_write`: a temporary
    file in the same folder, renamed into place, so an interrupted or failed
    save (a full disk, Ctrl-C) leaves no half file behind and an older result
    at ``path`` intact. The file gets
    the usual permissions (``0o666`` less the umask), like any other new file.

    Args:
        img: ``(1, 3, H, W)`` tensor in [0, 1], a PIL image, or anything
            :func:`load_image` takes (transparency is composited on white).
        path: where to write; the format follows the suffix (:data:`SAVE_SUFFIXES`).
        inputs: more paths that must not be overwritten (see :func:`check_output_path`).

    Returns:
        The path written.

    Raises:
        ValueError, IsADirectoryError, NotADirectoryError, PermissionError:
            from :func:`check_output_path` (an input, no or unknown suffix, a folder).
        ImageError: the image holds NaN or infinite values; nothing is written.
        OSError: the disk is full (``errno.ENOSPC``) or another write error; the
            message says so and that the previous file is untouched.

    Example:
        >>> save_image(torch.rand(1, 3, 32, 32), "out/noise.png")   # doctest: +SKIP
        PosixPath('out/noise.png')
    """
    path = check_output_path(path, inputs)
    fmt = _SAVE_FORMATS[path.suffix.lower()]
    pil = img if isinstance(img, Image.Image) and img.mode == "RGB" else to_pil(img)
    kept = "the previous file is untouched" if path.exists() else "nothing was written"
    try:
        # One implementation of "temporary file, fsync, os.replace" for the package.
        return atomic_write(path, lambda fh: pil.save(fh, format=fmt), what="image")
    except OSError as err:
        if err.errno in (errno.ENOSPC, getattr(errno, "EDQUOT", errno.ENOSPC)):
            raise OSError(errno.ENOSPC, f"disk full while writing '{path}'; free some space or choose "
                          f"another folder; {kept}") from err
        if isinstance(err, PermissionError):
            raise PermissionError(errno.EACCES, f"cannot write '{path}': permission denied in folder "
                                  f"'{path.parent}'; choose another folder; {kept}") from err
        msg = f"could not write '{path}' ({err.strerror or err}); {kept}"
        raise (OSError(err.errno, msg) if err.errno else OSError(msg)) from err


# --------------------------------------------------------------------------- showing


def show_images(images: Sequence, titles: Sequence[str] | None = None, ncols: int | None = None,
                size: float = 3.0):
    """Show images in a grid with titles; returns the matplotlib figure.

    Args:
        images: tensors ``(1, 3, H, W)`` / ``(3, H, W)`` (clamped to [0, 1] for
            display, whatever their range), PIL images or arrays.
        titles: one title per image.
        ncols: images per row (default: all in one row, at most 5).
        size: inches per image.

    Raises:
        ValueError: as many titles as images are needed.
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
            ax.imshow(to_numpy(images[i]))
            if titles is not None:
                ax.set_title(titles[i], fontsize=10)
    fig.tight_layout()
    return fig
