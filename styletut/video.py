"""Style transfer for video: clips as tensors, optical flow, and temporal consistency.

A *clip* is a float tensor ``(T, 3, H, W)`` in [0, 1] plus a frame rate
(:class:`Clip`). Stylising each frame on its own makes the picture *flicker*:
the optimiser (or the network) makes slightly different choices for frames
that differ only by a small motion. Ruder, Dosovitskiy & Brox (2016) fixed it
with the motion itself. With the *backward optical flow* of frame ``t`` (for
each of its pixels, where that pixel was in frame ``t - 1``), the stylised
previous frame can be warped onto frame ``t``; frame ``t`` then starts from
that warped picture and pays a *temporal loss* for every visible pixel that
moves away from it. Pixels that were not visible in frame ``t - 1``
(disoccluded, or entering the picture from outside) are left out by an
occlusion mask.

This module holds every piece of that:

- reading and writing clips (a folder of frames, GIF, MP4 through imageio and
  the ffmpeg binary of imageio-ffmpeg), and showing them inline in a notebook
  and in the book (an HTML ``<video>`` holding its MP4 as a data URI);
- test clips made here with *exact* motion (:func:`make_clip`: a pan, a zoom,
  a rotation, an object moving over a still background), whose flow and
  occlusions are known analytically;
- :func:`warp` (backward warping with ``grid_sample``), classical flow
  estimation with OpenCV (:func:`estimate_flow`: DIS, Kroeger et al. 2016, or
  Farnebäck 2003) and the forward-backward consistency check for occlusions
  (Sundaram, Brox & Keutzer 2010, as used by Ruder et al. 2016);
- the temporal warping error (:func:`warping_error`), the measure of flicker;
- per-frame stylisation (:func:`stylize_frames`) and temporally consistent
  stylisation (:func:`stylize_video`), by optimisation or by the shipped
  one-pass network.

**Flow convention.** A flow is ``(2, H, W)`` (or ``(T - 1, 2, H, W)`` for a
clip): channel 0 is the horizontal displacement ``u``, channel 1 the vertical
``v``, in pixels, with pixel centres at integer coordinates ``0 .. W - 1``.
The flow *of frame t* is backward: pixel ``(x, y)`` of frame ``t`` shows what
was at ``(x + u, y + v)`` in frame ``t - 1``, so
``warp(frame[t - 1], flow[t - 1]) ≈ frame[t]`` wherever ``mask[t - 1]`` is 1.

Introduced in notebooks/12_video.ipynb
"""

from __future__ import annotations

import base64
import json
import math
import os
import re
import shutil
import tempfile
from dataclasses import dataclass
from pathlib import Path
from typing import NamedTuple, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from . import images, optim, zoo
from .features import VGG19Features
from .runtime import resolve_device
from .transfer import StyleObjective

__all__ = [
    "Clip", "MotionClip", "VideoError", "MOTIONS", "FLOW_METHODS", "STYLIZE_METHODS", "VIDEO_METHODS",
    "DEFAULT_FPS", "DEFAULT_TEMPORAL_WEIGHT", "DEFAULT_BLEND", "WARP_MODE",
    "read_clip", "write_clip", "show_clip", "tile", "side_by_side",
    "make_clip", "warp", "estimate_flow", "clip_flows", "consistency_mask", "flow_to_image",
    "endpoint_error", "warping_error", "stylize_frames", "stylize_video",
]

MOTIONS = ("pan", "zoom", "rotate", "object")
FLOW_METHODS = ("dis", "farneback")
STYLIZE_METHODS = ("optimise", "fast")
VIDEO_METHODS = ("optimise", "fast-blend")

# A folder of frames carries no frame rate; 12 frames a second is smooth
# enough for the short test clips and keeps them small.
DEFAULT_FPS = 12.0

# Weight of the temporal term, on the scale of StyleObjective's defaults
# (style_norm "relative", style weight 4e6, content weight 1; the style term
# starts near 3e6 for a photo). Measured on the lesson's pan clip (8 frames of
# 128x192, 30 L-BFGS steps a frame, bicubic warps; input clip 0.0036,
# per-frame 0.055): 3e8 gives a warping error of 0.0079, 1e9 0.0052, with a
# mean style term below per-frame stylisation's either way (each frame starts
# from a stylised picture). Larger weights freeze each frame onto its warped
# predecessor, which smooths it a little more with every frame.
DEFAULT_TEMPORAL_WEIGHT = 1e9

# The fast network's temporal blend: output_t = m k warped_prev + (1 - m k) net(frame_t).
# k = 0.6 keeps each frame's own pass at 40% or more, so a stale stroke fades
# to under 10% within five frames (0.6**5 = 0.08), while the flicker
# between frames is cut by more than half (notebooks/12_video.ipynb).
DEFAULT_BLEND = 0.6

_FRAME_SUFFIXES = (".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp")
_FFMPEG_SUFFIXES = (".mp4", ".m4v", ".mov", ".avi", ".mkv", ".webm")
_WRITE_SUFFIXES = ("", ".gif", ".mp4")  # "" is a folder of PNG frames
_FOLDER_META = "clip.json"  # what write_clip leaves in a folder it wrote: the frame rate
_FRAME_NAME = "frame_{:05d}.png"

# The warps inside stylize_video: bicubic. The temporal term pulls each frame
# towards a resampled copy of the one before, so resampling blur compounds
# from frame to frame; bilinear warps visibly softened the strokes within 8
# frames of the lesson's pan, bicubic ones much less.
WARP_MODE = "bicubic"

# Clips read by read_clip in this process: write_clip never overwrites them.
_INPUT_CLIPS: set[Path] = set()


class VideoError(ValueError):
    """A clip that cannot be read or written; the message names the file and says why."""


@dataclass
class Clip:
    """A video clip: frames ``(T, 3, H, W)`` float in [0, 1] and a frame rate.

    Attributes:
        frames: ``(T, 3, H, W)`` float tensor, values in [0, 1].
        fps: frames per second (for writing and showing).

    Example:
        >>> clip = Clip(torch.rand(5, 3, 32, 48), fps=10)
        >>> len(clip), clip.size, clip.frame(0).shape
        (5, (32, 48), torch.Size([1, 3, 32, 48]))
    """

    frames: torch.Tensor
    fps: float = DEFAULT_FPS

    def __post_init__(self):
        f = self.frames
        if not isinstance(f, torch.Tensor) or f.dim() != 4 or f.shape[1] != 3 or f.shape[0] < 1:
            shape = tuple(f.shape) if isinstance(f, torch.Tensor) else type(f).__name__
            raise ValueError(f"a clip's frames are a (T, 3, H, W) tensor with T >= 1, got {shape}")
        if not f.is_floating_point():
            raise ValueError(f"a clip's frames are floats in [0, 1], got dtype {f.dtype}; divide 8-bit frames by 255")
        if not self.fps > 0:
            raise ValueError(f"fps must be positive, got {self.fps}")
        self.fps = float(self.fps)

    def __len__(self) -> int:
        return self.frames.shape[0]

    @property
    def size(self) -> tuple[int, int]:
        """``(H, W)``."""
        return tuple(self.frames.shape[-2:])

    def frame(self, t: int) -> torch.Tensor:
        """Frame ``t`` as an image ``(1, 3, H, W)`` (the course's image shape)."""
        return self.frames[t:t + 1]


class MotionClip(NamedTuple):
    """What :func:`make_clip` returns: a clip and its exact motion (unpacks as ``clip, flows, masks``)."""

    clip: Clip
    flows: torch.Tensor
    masks: torch.Tensor


# A NamedTuple's fields are documented on the fields (their default docstring is
# "Alias for field number 0"); an Attributes section as well would list each twice.
MotionClip.clip.__doc__ = "The :class:`Clip`, ``T`` frames."
# (No ": " in these: napoleon would read the text before it as the type.)
MotionClip.flows.__doc__ = (
    "Backward flows ``(T - 1, 2, H, W)`` in pixels. ``flows[t - 1]`` is frame ``t``'s; where it is "
    "``(u, v)`` at pixel ``(x, y)``, that pixel came from ``(x + u, y + v)`` in frame ``t - 1``.")
MotionClip.masks.__doc__ = (
    "Masks ``(T - 1, 1, H, W)``, 1 where the pixel of frame ``t`` was visible in frame ``t - 1`` (not "
    "disoccluded, not coming in from outside the picture, not on an object's anti-aliased edge), else 0.")


# --------------------------------------------------------------------------- reading and writing


def _as_frames(clip_or_frames) -> torch.Tensor:
    """A Clip, a ``(T, 3, H, W)`` tensor or a list of ``(1, 3, H, W)`` / ``(3, H, W)`` frames -> ``(T, 3, H, W)``."""
    if isinstance(clip_or_frames, Clip):
        return clip_or_frames.frames
    if isinstance(clip_or_frames, torch.Tensor):
        return Clip(clip_or_frames).frames  # validates the shape
    frames = [f[0] if f.dim() == 4 else f for f in clip_or_frames]
    return Clip(torch.stack(frames)).frames


def _natural_key(path: Path):
    # frame_2.png before frame_10.png: compare digit runs as numbers.
    return [int(s) if s.isdigit() else s.lower() for s in re.split(r"(\d+)", path.name)]


def _read_folder(folder: Path, max_frames):
    files = sorted((p for p in folder.iterdir() if p.is_file() and p.suffix.lower() in _FRAME_SUFFIXES),
                   key=_natural_key)
    if not files:
        raise VideoError(f"'{folder}' is an empty folder: no frames in it (a folder clip holds image files, "
                         f"{', '.join(_FRAME_SUFFIXES)}, taken in name order)")
    files = files[:max_frames] if max_frames else files
    frames = []
    for p in files:
        img = images.load_image(p)  # its own clear errors (a damaged file, an unknown format)
        if frames and img.shape[1:] != frames[0].shape:
            raise VideoError(f"frames of different sizes in '{folder}': '{p.name}' is {img.shape[-1]}x{img.shape[-2]} "
                             f"but '{files[0].name}' is {frames[0].shape[-1]}x{frames[0].shape[-2]} (width x height); "
                             "every frame of a clip must have the same size")
        frames.append(img[0])
    fps = DEFAULT_FPS
    meta = folder / _FOLDER_META
    if meta.is_file():
        try:
            fps = float(json.loads(meta.read_text())["fps"])
        except (ValueError, KeyError, TypeError):
            pass  # an unreadable note is no reason to refuse the frames
    return np.stack([f.permute(1, 2, 0).numpy() for f in frames]), fps, True


def _read_file(path: Path, max_frames):
    import imageio.v3 as iio

    suffix = path.suffix.lower()
    if suffix in _FRAME_SUFFIXES:
        raise VideoError(f"'{path}' is a single image, not a clip; put its frames in a folder and read the folder "
                         "(read_clip('frames/')), or read it with styletut.images.load_image")
    if suffix == ".gif":
        try:
            arr = iio.imread(path, index=None, mode="RGB", plugin="pillow")
            meta = iio.immeta(path, index=0, plugin="pillow")
        except Exception as err:
            raise VideoError(f"'{path}' is not a GIF that can be read ({type(err).__name__}: {err})") from None
        if arr.ndim == 3:  # a still GIF: one frame
            arr = arr[None]
        duration = float(meta.get("duration") or 0) / 1000.0  # milliseconds per frame
        fps = 1.0 / duration if duration > 0 else DEFAULT_FPS
        return (arr[:max_frames] if max_frames else arr), fps, False
    if suffix in _FFMPEG_SUFFIXES:
        _ffmpeg_exe()
        try:
            meta = iio.immeta(path, plugin="FFMPEG")
            frames = []
            for frame in iio.imiter(path, plugin="FFMPEG"):
                frames.append(frame[..., :3])
                if max_frames and len(frames) >= max_frames:
                    break
        except Exception as err:
            raise VideoError(f"'{path}' is not a video ffmpeg can read ({type(err).__name__}: "
                             f"{str(err).strip().splitlines()[-1] if str(err).strip() else 'no details'})") from None
        if not frames:
            raise VideoError(f"'{path}' holds no frames")
        fps = float(meta.get("fps") or DEFAULT_FPS)
        return np.stack(frames), fps, False
    raise VideoError(f"'{path}' has suffix {suffix or '(none)'!r}, not a clip format: read a folder of frames, "
                     f"a .gif, or a video ({', '.join(_FFMPEG_SUFFIXES)})")


def _ffmpeg_exe() -> str:
    """The ffmpeg binary that imageio-ffmpeg ships (MP4 needs it)."""
    import imageio_ffmpeg

    try:
        return imageio_ffmpeg.get_ffmpeg_exe()
    except RuntimeError as err:
        raise VideoError(f"MP4 needs the ffmpeg binary of imageio-ffmpeg, which was not found ({err}); "
                         "reinstall it (pip install imageio-ffmpeg==0.8.1), or use a .gif or a folder of frames") from None


def read_clip(src: str | os.PathLike, size: int | tuple[int, int] | None = None,
              max_frames: int | None = None) -> Clip:
    """Read a clip from a folder of frames (taken in name order), a GIF, or a video file (MP4 ...).

    Args:
        src: a folder of image files, a ``.gif``, or a video ffmpeg reads
            (``.mp4``, ``.mov``, ``.avi``, ``.mkv``, ``.webm``, ``.m4v``).
        size: optional longest side in pixels, or an exact ``(H, W)``, for every
            frame (as :func:`styletut.images.load_image`).
        max_frames: read at most this many frames from the start.

    Returns:
        A :class:`Clip`, frames ``(T, 3, H, W)`` in [0, 1]. Its frame rate is
        the file's; a folder's is read from the ``clip.json`` that
        :func:`write_clip` leaves there, else :data:`DEFAULT_FPS`.

    Raises:
        FileNotFoundError: ``src`` does not exist (the message names it).
        VideoError: an empty folder, frames of different sizes, a single
            image, or a file that is not a readable video; the message says
            which file and why.

    Example:
        >>> clip = read_clip("my.mp4", size=192, max_frames=24)   # doctest: +SKIP
        >>> clip.frames.shape                                       # doctest: +SKIP
        torch.Size([24, 3, 108, 192])
    """
    if not isinstance(src, (str, os.PathLike)):
        raise TypeError(f"read_clip takes a path (a folder, .gif or .mp4), got {type(src).__name__}; "
                        "a tensor of frames is already a clip: Clip(frames, fps)")
    if max_frames is not None and not (isinstance(max_frames, int) and max_frames > 0):
        raise ValueError(f"max_frames must be a positive number of frames, got {max_frames!r}")
    path = Path(src).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"no clip at '{path}': no such file or folder")
    arr, fps, is_float = _read_folder(path, max_frames) if path.is_dir() else _read_file(path, max_frames)
    frames = torch.from_numpy(np.ascontiguousarray(arr)).permute(0, 3, 1, 2)
    frames = frames.float() if is_float else frames.float() / 255.0
    if size is not None:
        frames = torch.cat([images.resize(frames[t:t + 1], size) for t in range(frames.shape[0])])
    _INPUT_CLIPS.add(path.resolve())
    return Clip(frames.clamp(0, 1).contiguous(), fps=fps)


def _to_uint8(frames: torch.Tensor) -> np.ndarray:
    """``(T, 3, H, W)`` in [0, 1] -> ``(T, H, W, 3)`` uint8 (rounded; NaN refused)."""
    if not torch.isfinite(frames).all():
        raise VideoError("cannot write a clip with NaN or infinite values; replace them first "
                         "(torch.nan_to_num(frames, nan=0.0).clamp(0, 1))")
    return (frames.detach().cpu().clamp(0, 1) * 255 + 0.5).to(torch.uint8).permute(0, 2, 3, 1).numpy()


def _even(arr: np.ndarray) -> np.ndarray:
    # H.264 in yuv420p (what every browser plays) stores colour at half
    # resolution, so width and height must be even: repeat the last row/column.
    h, w = arr.shape[1:3]
    return np.pad(arr, ((0, 0), (0, h % 2), (0, w % 2), (0, 0)), mode="edge")


def _encode_mp4(arr: np.ndarray, path: Path, fps: float, progress: bool, quality: float = 7.0) -> None:
    """Encode ``(T, H, W, 3)`` uint8 frames as H.264 MP4 with imageio-ffmpeg's ffmpeg."""
    import imageio_ffmpeg

    _ffmpeg_exe()
    arr = _even(arr)
    h, w = arr.shape[1:3]
    writer = imageio_ffmpeg.write_frames(str(path), (w, h), fps=fps, codec="libx264", pix_fmt_in="rgb24",
                                         pix_fmt_out="yuv420p", quality=quality, macro_block_size=1,
                                         ffmpeg_log_level="error", output_params=["-movflags", "+faststart"])
    writer.send(None)  # start ffmpeg
    try:
        for frame in _bar(arr, progress, "write mp4"):
            writer.send(np.ascontiguousarray(frame))
    finally:
        writer.close()


def _bar(items, progress: bool, desc: str):
    if not progress:
        return items
    from tqdm.auto import tqdm

    return tqdm(items, desc=desc, leave=False)


def _check_clip_output(path: Path, inputs: Sequence) -> None:
    protected = set(_INPUT_CLIPS) | {Path(p).expanduser().resolve() for p in inputs
                                     if isinstance(p, (str, os.PathLike))}
    target = path.resolve()
    # The target itself, or a folder holding an input (replacing it would delete the input).
    clash = [p for p in protected if p == target or target in p.parents]
    if clash:
        raise VideoError(f"refusing to write '{path}': it is (or holds) an input clip, read by read_clip or named "
                         f"as an input, and would be overwritten; choose another output path, e.g. "
                         f"'{path.with_name(path.stem + '_styled' + path.suffix)}'")
    if path.suffix.lower() not in _WRITE_SUFFIXES:
        raise VideoError(f"cannot write a clip to '{path}': unknown suffix {path.suffix!r}; use .mp4, .gif, or a "
                         f"name without a suffix for a folder of PNG frames (e.g. '{path.with_suffix('.mp4')}')")
    if path.suffix == "" and path.exists():
        if not path.is_dir():
            raise VideoError(f"cannot write a folder of frames at '{path}': a file of that name exists")
        ours = (path / _FOLDER_META).is_file() and all(
            p.name == _FOLDER_META or re.fullmatch(r"frame_\d{5}\.png", p.name) for p in path.iterdir())
        if not ours:
            raise VideoError(f"refusing to replace the folder '{path}': it was not written by write_clip (it holds "
                             "other files); choose a new folder name")
    elif path.suffix and path.is_dir():
        raise VideoError(f"cannot write '{path}': it is a folder")


def write_clip(clip_or_frames, path: str | os.PathLike, fps: float | None = None, inputs: Sequence = (),
               progress: bool = True) -> Path:
    """Write a clip as a folder of PNG frames, a GIF or an MP4 (by the suffix), atomically.

    Nothing is half-written: a file is written to a temporary file in the same
    folder and renamed into place (as :func:`styletut.files.atomic_write`);
    a folder is written as a temporary folder that then takes the name (a
    folder written earlier by :func:`write_clip` is replaced, any other
    existing folder is refused). An input is never overwritten.

    Args:
        clip_or_frames: a :class:`Clip`, a ``(T, 3, H, W)`` tensor in [0, 1],
            or a list of ``(1, 3, H, W)`` frames.
        path: ``*.mp4`` (H.264, plays in browsers; odd widths or heights gain
            one repeated row or column, since H.264's colour planes need even
            sizes; lossy), ``*.gif`` (256 colours a frame), or a name with no
            suffix: a folder of ``frame_00000.png ...`` plus ``clip.json``
            (the frame rate), lossless.
        fps: frames per second (default: the clip's, or :data:`DEFAULT_FPS`).
        inputs: more paths that must not be overwritten.
        progress: a tqdm bar over the frames.

    Returns:
        ``path`` as a ``Path``.

    Raises:
        VideoError: ``path`` is an input (or holds one), has an unknown
            suffix, or is a folder not written by :func:`write_clip`; or the
            frames hold NaN. Nothing is written then.

    Example:
        >>> write_clip(Clip(torch.rand(4, 3, 32, 32)), "/tmp/noise.gif", progress=False)  # doctest: +SKIP
        PosixPath('/tmp/noise.gif')
    """
    frames = _as_frames(clip_or_frames)
    fps = float(fps if fps is not None else getattr(clip_or_frames, "fps", DEFAULT_FPS))
    if not fps > 0:
        raise ValueError(f"fps must be positive, got {fps}")
    path = Path(path).expanduser()
    _check_clip_output(path, inputs)
    arr = _to_uint8(frames)
    path.parent.mkdir(parents=True, exist_ok=True)
    # A temporary name in the same folder (so the rename is one step), with the
    # real suffix (ffmpeg picks the container from it).
    tmp = path.with_name(f".{path.stem}.{os.getpid()}.tmp{path.suffix}")
    old = None
    try:
        if path.suffix == "":
            tmp.mkdir()
            for t, frame in enumerate(_bar(arr, progress, "write frames")):
                images.to_pil(torch.from_numpy(frame).permute(2, 0, 1)[None].float() / 255).save(
                    tmp / _FRAME_NAME.format(t), format="PNG")
            (tmp / _FOLDER_META).write_text(json.dumps({"fps": fps, "frames": len(arr), "writer": "styletut.video"}))
            if path.exists():  # a folder write_clip wrote before (checked above): set it aside, then drop it
                old = path.with_name(f".{path.name}.{os.getpid()}.old")
                os.replace(path, old)
            os.replace(tmp, path)
            if old is not None:
                shutil.rmtree(old, ignore_errors=True)
        elif path.suffix == ".gif":
            from PIL import Image

            pil = [Image.fromarray(f) for f in _bar(arr, progress, "write gif")]
            # duration in milliseconds per frame; loop=0: loop for ever.
            pil[0].save(tmp, format="GIF", save_all=True, append_images=pil[1:], duration=round(1000 / fps),
                        loop=0, disposal=1)
            _fsync(tmp)
            os.replace(tmp, path)
        else:
            _encode_mp4(arr, tmp, fps, progress)
            _fsync(tmp)
            os.replace(tmp, path)
    except BaseException:
        if tmp.is_dir():
            shutil.rmtree(tmp, ignore_errors=True)
        else:
            tmp.unlink(missing_ok=True)
        if old is not None and old.exists() and not path.exists():
            os.replace(old, path)  # the earlier folder goes back where it was
        raise
    return path


def _fsync(path: Path) -> None:
    # On disk before the rename, so a crash cannot leave the new name on an empty file.
    with open(path, "rb+") as fh:
        os.fsync(fh.fileno())


# --------------------------------------------------------------------------- showing


class _ClipHTML:
    """An HTML ``<video>`` for notebooks and the book (``text/html``; myst-nb keeps it)."""

    def __init__(self, html: str, nbytes: int):
        self.html, self.nbytes = html, nbytes

    def _repr_html_(self) -> str:
        return self.html

    def __repr__(self) -> str:
        return f"<video clip, {self.nbytes / 1e3:.0f} kB of MP4>"


def show_clip(clip_or_frames, fps: float | None = None, width: int | None = None, loop: bool = True):
    """Show a clip inline: an HTML ``<video>`` holding its MP4 as a base64 data URI.

    Nothing is fetched when the page is shown (the video is inside the page),
    so it plays in JupyterLab and in the built book, offline. Keep clips
    small: a few hundred kB of MP4 at most.

    Args:
        clip_or_frames: a :class:`Clip`, or frames as :func:`write_clip` takes them.
        fps: frames per second (default: the clip's).
        width: displayed width in CSS pixels (default: twice the frame width
            for frames under 320 px wide, else the frame width).
        loop: play in a loop (the video starts muted and by itself).

    Returns:
        An object that a notebook displays as the video (the last expression
        of a cell, or ``IPython.display.display(...)``).

    Example:
        >>> show_clip(make_clip("pan", size=96).clip)   # doctest: +SKIP
    """
    frames = _as_frames(clip_or_frames)
    fps = float(fps if fps is not None else getattr(clip_or_frames, "fps", DEFAULT_FPS))
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "clip.mp4"
        _encode_mp4(_to_uint8(frames), out, fps, progress=False)  # quality 7 of 10: a 16-frame 584x206 tile is ~230 kB
        data = out.read_bytes()
    w = frames.shape[-1]
    width = width or (2 * w if w < 320 else w)
    src = "data:video/mp4;base64," + base64.b64encode(data).decode("ascii")
    html = (f'<video width="{int(width)}" controls autoplay muted playsinline{" loop" if loop else ""} '
            f'src="{src}"></video>')
    return _ClipHTML(html, len(data))


def _title_bar(text: str, width: int, height: int = 14) -> torch.Tensor:
    """``(3, height, width)``: black text on white, for the panels of :func:`tile`."""
    from PIL import Image, ImageDraw, ImageFont

    im = Image.new("RGB", (width, height), "white")
    draw = ImageDraw.Draw(im)
    font = ImageFont.load_default()
    while text and draw.textlength(text, font=font) > width - 2:
        text = text[:-1]  # a long title is cut to the panel's width
    draw.text((max(1, (width - draw.textlength(text, font=font)) / 2), 1), text, fill="black", font=font)
    return torch.from_numpy(np.asarray(im).copy()).permute(2, 0, 1).float() / 255


def tile(clips: Sequence, titles: Sequence[str] | None = None, gap: int = 4) -> Clip:
    """Put clips side by side in one clip (same number of frames), with a title above each.

    Args:
        clips: :class:`Clip` s or ``(T, 3, H, W)`` tensors; heights may differ
            (shorter ones are padded with white below).
        titles: one title per clip, drawn in a white bar above it.
        gap: white pixels between panels.

    Returns:
        A :class:`Clip` ``(T, 3, H', W')``, at the first clip's frame rate.

    Example:
        >>> tile([Clip(torch.rand(3, 3, 20, 30)), torch.rand(3, 3, 20, 30)], ["a", "b"]).frames.shape
        torch.Size([3, 3, 34, 64])
    """
    frames = [_as_frames(c).detach().cpu() for c in clips]
    if titles is not None and len(titles) != len(frames):
        raise ValueError(f"got {len(frames)} clips but {len(titles)} titles")
    lengths = {f.shape[0] for f in frames}
    if len(lengths) != 1:
        raise ValueError(f"clips to tile need the same number of frames, got {sorted(lengths)}")
    height = max(f.shape[-2] for f in frames)
    panels = []
    for i, f in enumerate(frames):
        f = F.pad(f.clamp(0, 1), (0, 0, 0, height - f.shape[-2]), value=1.0)
        if titles is not None:
            bar = _title_bar(str(titles[i]), f.shape[-1])
            f = torch.cat([bar.expand(f.shape[0], -1, -1, -1), f], dim=2)
        if panels and gap:
            panels.append(torch.ones(f.shape[0], 3, f.shape[2], gap))
        panels.append(f)
    fps = clips[0].fps if isinstance(clips[0], Clip) else DEFAULT_FPS
    return Clip(torch.cat(panels, dim=3), fps=fps)


def side_by_side(clips: Sequence, titles: Sequence[str] | None = None, fps: float | None = None,
                 width: int | None = None):
    """Show clips side by side, playing in step: :func:`tile` then :func:`show_clip`.

    Example:
        >>> side_by_side([clip, stylised], ["input", "per-frame"])   # doctest: +SKIP
    """
    tiled = tile(clips, titles)
    return show_clip(tiled, fps=fps, width=width or (tiled.size[1] if tiled.size[1] >= 480 else None))


# --------------------------------------------------------------------------- test clips with exact motion


def _pixel_grid(h: int, w: int, dtype=torch.float64) -> torch.Tensor:
    """``(3, H*W)`` homogeneous pixel coordinates ``(x, y, 1)``, x along the width."""
    ys, xs = torch.meshgrid(torch.arange(h, dtype=dtype), torch.arange(w, dtype=dtype), indexing="ij")
    return torch.stack([xs.flatten(), ys.flatten(), torch.ones(h * w, dtype=dtype)])


def _camera(theta: float, zoom: float, shift: tuple[float, float], centre: tuple[float, float]) -> torch.Tensor:
    """3x3 map from frame pixels to *un-scaled* source offsets: ``R(θ) z (p - centre) + shift``."""
    c, s = math.cos(theta), math.sin(theta)
    a = torch.tensor([[c * zoom, -s * zoom, 0.0], [s * zoom, c * zoom, 0.0], [0.0, 0.0, 1.0]], dtype=torch.float64)
    a[0, 2] = shift[0] - (a[0, 0] * centre[0] + a[0, 1] * centre[1])
    a[1, 2] = shift[1] - (a[1, 0] * centre[0] + a[1, 1] * centre[1])
    return a


def _fit_scale(cams: Sequence[torch.Tensor], h: int, w: int, src_hw: tuple[int, int], margin: float = 1.0) -> float:
    """The largest source-pixels-per-frame-pixel ``k`` that keeps every frame inside the source photo.

    The frame's corners (widened by half a pixel for the supersamples) are
    mapped by each camera; each must land within the photo around its centre.
    """
    corners = torch.tensor([[-0.5, -0.5, 1.0], [w - 0.5, -0.5, 1.0], [-0.5, h - 0.5, 1.0], [w - 0.5, h - 0.5, 1.0]],
                           dtype=torch.float64).T
    half_w, half_h = (src_hw[1] - 1) / 2 - margin, (src_hw[0] - 1) / 2 - margin
    k = math.inf
    for a in cams:
        off = (a @ corners)[:2].abs().max(dim=1).values
        k = min(k, half_w / max(float(off[0]), 1e-9), half_h / max(float(off[1]), 1e-9))
    return k


def _sample_source(src: torch.Tensor, q: torch.Tensor, h: int, w: int) -> torch.Tensor:
    """Bilinear samples of ``src`` ``(1, 3, Hs, Ws)`` at source pixel coordinates ``q`` ``(2, h*w)`` -> ``(3, h, w)``."""
    hs, ws = src.shape[-2:]
    # align_corners=True: -1 and +1 are the centres of the first and last pixels.
    gx = 2 * q[0] / (ws - 1) - 1
    gy = 2 * q[1] / (hs - 1) - 1
    grid = torch.stack([gx, gy], dim=-1).reshape(1, h, w, 2).to(src.dtype)
    return F.grid_sample(src, grid, mode="bilinear", padding_mode="border", align_corners=True)[0]


def _supersample_offsets(ss: int) -> list[tuple[float, float]]:
    # ss x ss points spread evenly inside each pixel: a box filter against aliasing.
    o = [(i + 0.5) / ss - 0.5 for i in range(ss)]
    return [(ox, oy) for oy in o for ox in o]


def _frame_hw(size, src_hw: tuple[int, int]) -> tuple[int, int]:
    if isinstance(size, int):
        hs, ws = src_hw
        if ws >= hs:
            w, h = size, size * hs / ws
        else:
            h, w = size, size * ws / hs
        # Even sides: an MP4 of the clip keeps its exact size (see write_clip).
        return max(2, 2 * round(h / 2)), max(2, 2 * round(w / 2))
    h, w = size
    return int(h), int(w)


def make_clip(kind: str, photo: str = "chelsea", size: int | tuple[int, int] = 128, num_frames: int = 8,
              speed: float = 1.0, fps: float = DEFAULT_FPS, obj_photo: str = "coffee", supersample: int = 2) -> MotionClip:
    """A test clip with exactly known motion, flow and occlusions, rendered from a still photo.

    Every frame samples the full-resolution photo through an exact affine map
    (frame pixel -> photo pixel) with ``grid_sample``, averaging
    ``supersample²`` points per pixel, so the frames are sharp, not aliased,
    and the flow between any two frames follows from the two maps in closed
    form. The photo is scaled so every frame stays inside it.

    Kinds (speeds for ``speed=1``, in frame pixels or degrees per frame):

    - ``"pan"``: the camera slides right and a little down (2% and 0.5% of
      the width a frame): content moves left; pixels enter at the right edge.
    - ``"zoom"``: the camera zooms in, 3% a frame, about the centre:
      content grows; nothing enters, everything leaves over the edges.
    - ``"rotate"``: the camera turns 2° a frame about the centre; corners enter.
    - ``"object"``: a disc cut from ``obj_photo`` (radius 22% of the height)
      crosses a still background (3.5% of the width a frame): the background
      it uncovers is disoccluded (mask 0), and its anti-aliased rim is masked.

    Args:
        kind: one of :data:`MOTIONS`.
        photo: background photo, a name of :func:`styletut.data.sample`.
        size: the frames' longest side (even sides are chosen, with the
            photo's aspect), or an exact ``(H, W)``.
        num_frames: ``T``.
        speed: multiplies the motion per frame.
        fps: the clip's frame rate.
        obj_photo: the photo the moving disc is cut from (``"object"`` only).
        supersample: points per pixel along each side (1: none).

    Returns:
        A :class:`MotionClip` ``(clip, flows, masks)``: frames ``(T, 3, H, W)``,
        flows ``(T - 1, 2, H, W)``, masks ``(T - 1, 1, H, W)``.

    Example:
        >>> clip, flows, masks = make_clip("pan", size=64, num_frames=4)
        >>> clip.frames.shape, flows.shape, masks.shape
        (torch.Size([4, 3, 42, 64]), torch.Size([3, 2, 42, 64]), torch.Size([3, 1, 42, 64]))
    """
    from .data import sample

    if kind not in MOTIONS:
        raise ValueError(f"unknown motion {kind!r}; choose one of: {', '.join(MOTIONS)}")
    if not (isinstance(num_frames, int) and num_frames >= 2):
        raise ValueError(f"a clip with motion needs num_frames >= 2, got {num_frames!r}")
    src = sample(photo).double()
    src_hw = tuple(src.shape[-2:])
    h, w = _frame_hw(size, src_hw)
    centre = ((w - 1) / 2, (h - 1) / 2)
    mid = (num_frames - 1) / 2  # motion is centred on the middle frame, so the fit is symmetric
    cams = []
    for t in range(num_frames):
        dt = (t - mid) * speed
        if kind == "pan":
            cams.append(_camera(0.0, 1.0, (0.02 * w * dt, 0.005 * w * dt), centre))
        elif kind == "zoom":
            cams.append(_camera(0.0, 0.97 ** dt, (0.0, 0.0), centre))  # window shrinks: content grows
        elif kind == "rotate":
            cams.append(_camera(math.radians(2.0) * dt, 1.0, (0.0, 0.0), centre))
        else:
            cams.append(_camera(0.0, 1.0, (0.0, 0.0), centre))  # a still background
    k = _fit_scale(cams, h, w, src_hw)
    scale = torch.diag(torch.tensor([k, k, 1.0], dtype=torch.float64))
    to_src = torch.eye(3, dtype=torch.float64)
    to_src[0, 2], to_src[1, 2] = (src_hw[1] - 1) / 2, (src_hw[0] - 1) / 2
    maps = [to_src @ scale @ a for a in cams]  # frame pixel -> photo pixel, exactly
    grid = _pixel_grid(h, w)
    offsets = _supersample_offsets(supersample)

    if kind == "object":
        obj = sample(obj_photo).double()
        radius = 0.22 * h
        vel = torch.tensor([0.035 * w * speed, 0.008 * w * speed], dtype=torch.float64)
        centres = [torch.tensor(centre, dtype=torch.float64) + (t - mid) * vel for t in range(num_frames)]
        ohw = tuple(obj.shape[-2:])
        # The disc's texture: the object photo's centre, scaled so the disc spans 60% of its height.
        k_obj = 0.6 * ohw[0] / (2 * radius)
        frames, cover = [], []
        for t in range(num_frames):
            acc, inside_n = torch.zeros(3, h * w, dtype=torch.float64), torch.zeros(h * w, dtype=torch.float64)
            for ox, oy in offsets:
                p = grid.clone()
                p[0] += ox
                p[1] += oy
                bg = _sample_source(src, (maps[t] @ p)[:2], h, w).reshape(3, -1)
                rel = p[:2] - centres[t][:, None]  # the texture moves with the disc
                q_obj = rel * k_obj + torch.tensor([(ohw[1] - 1) / 2, (ohw[0] - 1) / 2], dtype=torch.float64)[:, None]
                fg = _sample_source(obj, q_obj, h, w).reshape(3, -1)
                inside = (rel.pow(2).sum(0) < radius ** 2).double()
                acc += inside * fg + (1 - inside) * bg
                inside_n += inside
            frames.append((acc / len(offsets)).reshape(3, h, w))
            cover.append((inside_n / len(offsets)).reshape(h, w))
        flows, masks = [], []
        xs, ys = grid[0].reshape(h, w), grid[1].reshape(h, w)
        for t in range(1, num_frames):
            move = centres[t - 1] - centres[t]  # where a disc pixel was, relative to where it is
            full, empty = cover[t] == 1, cover[t] == 0
            on_disc = cover[t] >= 0.5
            flow = torch.zeros(2, h, w, dtype=torch.float64)
            flow[0][on_disc], flow[1][on_disc] = move[0], move[1]
            inside_prev = (xs + move[0] >= 0) & (xs + move[0] <= w - 1) & (ys + move[1] >= 0) & (ys + move[1] <= h - 1)
            # Disc pixels: seen in t-1 (the disc only translates) unless they came from outside the frame.
            # Background pixels: seen in t-1 only if the disc did not cover them there (else disoccluded).
            # Rim pixels (partly disc, partly background): a mixture no single flow explains.
            valid = (full & inside_prev) | (empty & (cover[t - 1] == 0))
            flows.append(flow)
            masks.append(valid[None].double())
    else:
        frames = []
        for t in range(num_frames):
            acc = torch.zeros(3, h, w, dtype=torch.float64)
            for ox, oy in offsets:
                p = grid.clone()
                p[0] += ox
                p[1] += oy
                acc += _sample_source(src, (maps[t] @ p)[:2], h, w)
            frames.append(acc / len(offsets))
        flows, masks = [], []
        for t in range(1, num_frames):
            back = torch.linalg.inv(maps[t - 1]) @ maps[t]  # frame t pixel -> frame t-1 pixel
            prev = (back @ grid)[:2]
            flows.append((prev - grid[:2]).reshape(2, h, w))
            inside = (prev[0] >= 0) & (prev[0] <= w - 1) & (prev[1] >= 0) & (prev[1] <= h - 1)
            masks.append(inside.reshape(1, h, w).double())
    clip = Clip(torch.stack(frames).float().clamp(0, 1), fps=fps)
    return MotionClip(clip, torch.stack(flows).float(), torch.stack(masks).float())


# --------------------------------------------------------------------------- warping and flow


def warp(img: torch.Tensor, flow: torch.Tensor, mode: str = "bilinear") -> torch.Tensor:
    """Backward-warp images by a flow: ``out(x, y) = img(x + u(x, y), y + v(x, y))``, interpolated.

    Pixel centres are at integer coordinates ``0 .. W - 1`` (the convention
    of OpenCV's flows), which is ``grid_sample``'s ``align_corners=True``:
    normalised ``-1`` and ``+1`` are the centres of the first and last pixels.
    Points outside the image take the nearest edge pixel
    (``padding_mode="border"``); the occlusion masks say which pixels to trust.

    Args:
        img: ``(B, C, H, W)``.
        flow: ``(B, 2, H, W)`` in pixels (``u`` horizontal, ``v`` vertical), or
            ``(2, H, W)`` for every image of the batch.
        mode: ``"bilinear"`` (the four pixels around each point; what the
            warping error uses) or ``"bicubic"`` (sixteen; keeps edges sharper,
            may overshoot [0, 1] slightly: clamp images).

    Returns:
        ``(B, C, H, W)``: with ``flow`` frame ``t``'s backward flow and ``img``
        frame ``t - 1``, an approximation of frame ``t``.

    Example:
        >>> img = torch.rand(1, 3, 8, 8)
        >>> torch.allclose(warp(img, torch.zeros(1, 2, 8, 8)), img, atol=1e-6)   # zero flow: the identity
        True
    """
    if img.dim() != 4:
        raise ValueError(f"warp takes a batch of images (B, C, H, W), got shape {tuple(img.shape)}")
    if flow.dim() == 3:
        flow = flow[None]
    b, _, h, w = img.shape
    if flow.shape[1] != 2 or flow.shape[-2:] != img.shape[-2:] or flow.shape[0] not in (1, b):
        raise ValueError(f"flow must be (B, 2, H, W) matching the images {tuple(img.shape)}, got {tuple(flow.shape)}")
    flow = flow.to(img.device, img.dtype)
    ys, xs = torch.meshgrid(torch.arange(h, device=img.device, dtype=img.dtype),
                            torch.arange(w, device=img.device, dtype=img.dtype), indexing="ij")
    gx = 2 * (xs + flow[:, 0]) / max(w - 1, 1) - 1
    gy = 2 * (ys + flow[:, 1]) / max(h - 1, 1) - 1
    grid = torch.stack([gx, gy], dim=-1).expand(b, h, w, 2)
    return F.grid_sample(img, grid, mode=mode, padding_mode="border", align_corners=True)


def _grey_u8(img: torch.Tensor) -> np.ndarray:
    img = img[0] if img.dim() == 4 else img
    if img.dim() != 3 or img.shape[0] not in (1, 3):
        raise ValueError(f"a frame is (1, 3, H, W) or (3, H, W), got {tuple(img.shape)}")
    # Rec. 601 luma, the grey of OpenCV's own cvtColor: flow follows brightness.
    g = img.mean(0) if img.shape[0] == 1 else 0.299 * img[0] + 0.587 * img[1] + 0.114 * img[2]
    return (g.detach().cpu().clamp(0, 1) * 255 + 0.5).to(torch.uint8).numpy()


def estimate_flow(prev: torch.Tensor, next: torch.Tensor, method: str = "dis") -> torch.Tensor:
    """Estimate ``next``'s backward flow (where each of its pixels was in ``prev``) with OpenCV.

    Two classical estimators, nothing to download:

    - ``"dis"``: Dense Inverse Search (Kroeger, Timofte, Dai & Van Gool
      2016), OpenCV's ``DISOpticalFlow`` at its ``MEDIUM`` preset: patches
      matched coarse to fine, then a variational refinement. Fast and
      accurate on textured images.
    - ``"farneback"``: Farnebäck (2003)'s polynomial expansion, a smooth
      dense flow; blurrier at motion edges.

    Both work on the frames' grey levels (8 bits).

    Args:
        prev, next: frames ``(1, 3, H, W)`` or ``(3, H, W)`` in [0, 1].
        method: one of :data:`FLOW_METHODS`.

    Returns:
        ``(2, H, W)`` float32 flow in pixels, in this module's convention:
        ``warp(prev, flow) ≈ next``.

    Example:
        >>> clip, exact, _ = make_clip("pan", size=64, num_frames=2)
        >>> estimate_flow(clip.frame(0), clip.frame(1)).shape
        torch.Size([2, 42, 64])
    """
    import cv2

    if method not in FLOW_METHODS:
        raise ValueError(f"unknown flow method {method!r}; choose one of: {', '.join(FLOW_METHODS)}")
    a, b = _grey_u8(next), _grey_u8(prev)
    if a.shape != b.shape:
        raise ValueError(f"frames of different sizes: {a.shape} and {b.shape}")
    # OpenCV's flow(I0, I1) satisfies I0(p) ≈ I1(p + flow(p)); with I0 = next
    # and I1 = prev that is exactly the backward flow of next.
    if method == "dis":
        dis = cv2.DISOpticalFlow_create(cv2.DISOPTICAL_FLOW_PRESET_MEDIUM)
        flow = dis.calc(a, b, None)
    else:
        flow = cv2.calcOpticalFlowFarneback(a, b, None, pyr_scale=0.5, levels=4, winsize=15, iterations=3,
                                            poly_n=5, poly_sigma=1.1, flags=0)
    return torch.from_numpy(np.ascontiguousarray(flow)).permute(2, 0, 1).float()


def consistency_mask(backward: torch.Tensor, forward: torch.Tensor, motion_edges: bool = True) -> torch.Tensor:
    """Occlusion mask by forward-backward consistency (Sundaram et al. 2010; Ruder et al. 2016).

    Follow a pixel of frame ``t`` back to frame ``t - 1`` with the backward
    flow ``w``, then forward again with the forward flow ``ŵ`` read there. A
    pixel visible in both frames comes back where it started:
    ``w + ŵ(p + w) ≈ 0``. It is marked occluded (0) where

    ``|w + ŵ|² > 0.01 (|w|² + |ŵ|²) + 0.5``

    (a tolerance growing with the motion), where it leaves the frame, and,
    with ``motion_edges``, on motion boundaries, where the flow changes
    abruptly and estimates are unreliable: ``|∇u|² + |∇v|² > 0.01 |w|² + 0.002``.

    Args:
        backward: ``(2, H, W)`` or ``(B, 2, H, W)``: frame ``t``'s backward flow (to ``t - 1``).
        forward: same shape: frame ``t - 1``'s forward flow (to ``t``).
        motion_edges: also mask motion boundaries.

    Returns:
        ``(1, H, W)`` or ``(B, 1, H, W)`` float mask, 1 = visible in frame ``t - 1``.
    """
    single = backward.dim() == 3
    w_b = backward[None] if single else backward
    w_f = forward[None] if single else forward
    h, w = w_b.shape[-2:]
    fwd_there = warp(w_f, w_b)  # ŵ read at p + w(p)
    err = (w_b + fwd_there).pow(2).sum(1, keepdim=True)
    bound = 0.01 * (w_b.pow(2).sum(1, keepdim=True) + fwd_there.pow(2).sum(1, keepdim=True)) + 0.5
    ok = err <= bound
    ys, xs = torch.meshgrid(torch.arange(h, dtype=w_b.dtype, device=w_b.device),
                            torch.arange(w, dtype=w_b.dtype, device=w_b.device), indexing="ij")
    x, y = xs + w_b[:, 0:1], ys + w_b[:, 1:2]
    ok &= (x >= 0) & (x <= w - 1) & (y >= 0) & (y <= h - 1)
    if motion_edges:
        gx = F.pad(w_b[..., :, 1:] - w_b[..., :, :-1], (0, 1))
        gy = F.pad(w_b[..., 1:, :] - w_b[..., :-1, :], (0, 0, 0, 1))
        grad = (gx.pow(2) + gy.pow(2)).sum(1, keepdim=True)
        ok &= grad <= 0.01 * w_b.pow(2).sum(1, keepdim=True) + 0.002
    mask = ok.float()
    return mask[0] if single else mask


def clip_flows(clip, method: str = "dis", progress: bool = True) -> tuple[torch.Tensor, torch.Tensor]:
    """Estimated backward flows and occlusion masks for a whole clip (a user's clip, with no known motion).

    For each pair of frames both directions are estimated (:func:`estimate_flow`)
    and checked against each other (:func:`consistency_mask`).

    Args:
        clip: a :class:`Clip` (or frames), ``T >= 2``.
        method: one of :data:`FLOW_METHODS`.
        progress: a tqdm bar over the frame pairs.

    Returns:
        ``(flows, masks)``: ``(T - 1, 2, H, W)`` and ``(T - 1, 1, H, W)``, as :func:`make_clip` gives.

    Example:
        >>> flows, masks = clip_flows(read_clip("my.mp4", size=192))   # doctest: +SKIP
    """
    frames = _as_frames(clip).detach().cpu()
    if frames.shape[0] < 2:
        raise ValueError("a clip of one frame has no motion; flows need two frames or more")
    flows, masks = [], []
    for t in _bar(range(1, frames.shape[0]), progress, f"flow ({method})"):
        back = estimate_flow(frames[t - 1], frames[t], method)
        fwd = estimate_flow(frames[t], frames[t - 1], method)
        flows.append(back)
        masks.append(consistency_mask(back, fwd))
    return torch.stack(flows), torch.stack(masks)


def flow_to_image(flow: torch.Tensor, max_motion: float | None = None) -> torch.Tensor:
    """Colour-code a flow for display: hue = direction, saturation = speed (white = still).

    Args:
        flow: ``(2, H, W)``.
        max_motion: the speed shown fully saturated (default: the largest in ``flow``).

    Returns:
        ``(1, 3, H, W)`` image in [0, 1].
    """
    u, v = flow[0].double(), flow[1].double()
    mag = torch.sqrt(u * u + v * v)
    top = float(max_motion) if max_motion else max(float(mag.max()), 1e-9)
    hue = (torch.atan2(-v, -u) / (2 * math.pi) + 0.5) % 1.0
    sat = (mag / top).clamp(0, 1)
    # HSV -> RGB at value 1.
    h6 = hue * 6
    i = h6.floor() % 6
    f = h6 - h6.floor()
    p, q, t = 1 - sat, 1 - sat * f, 1 - sat * (1 - f)
    one = torch.ones_like(sat)
    table = [(one, t, p), (q, one, p), (p, one, t), (p, q, one), (t, p, one), (one, p, q)]
    rgb = torch.zeros(3, *u.shape, dtype=torch.float64)
    for k, (r, g, b) in enumerate(table):
        sel = i == k
        rgb[0][sel], rgb[1][sel], rgb[2][sel] = r[sel], g[sel], b[sel]
    return rgb[None].float()


def endpoint_error(flow: torch.Tensor, reference: torch.Tensor, mask: torch.Tensor | None = None) -> float:
    """Mean end-point error ``|flow - reference|`` in pixels, over ``mask`` (1 = counted) if given.

    Args:
        flow, reference: ``(..., 2, H, W)``.
        mask: ``(..., 1, H, W)`` or ``None``.

    Returns:
        The mean Euclidean distance between the two flows' vectors.
    """
    epe = (flow - reference).pow(2).sum(-3, keepdim=True).sqrt()
    if mask is None:
        return float(epe.mean())
    return float((epe * mask).sum() / mask.sum().clamp_min(1))


def warping_error(frames, flows: torch.Tensor, masks: torch.Tensor, per_frame: bool = False):
    """The temporal warping error: how much each frame differs from the previous one, moved by the flow.

    ``E = 1/(T-1) Σ_t  Σ_p m_t(p) |x_t(p) - warp(x_{t-1}, w_t)(p)| / (3 Σ_p m_t(p))``:
    the mean absolute difference (on the [0, 1] scale, over colour channels)
    between frame ``t`` and frame ``t - 1`` warped by frame ``t``'s backward
    flow, over the pixels visible in both (mask 1), averaged over ``t``. On
    the input clip it measures what warping itself loses (interpolation, the
    flow's errors): the floor a stylised clip can reach. A stylised clip that
    flickers scores far above it.

    Args:
        frames: a :class:`Clip` or ``(T, 3, H, W)``.
        flows: ``(T - 1, 2, H, W)`` backward flows.
        masks: ``(T - 1, 1, H, W)``.
        per_frame: return the ``T - 1`` values instead of their mean.

    Returns:
        A float (or a ``(T - 1,)`` tensor with ``per_frame``).

    Example:
        >>> clip, flows, masks = make_clip("pan", size=64, num_frames=3)
        >>> warping_error(clip, flows, masks) < 0.05
        True
    """
    x = _as_frames(frames).detach().cpu().float()
    if flows.shape[0] != x.shape[0] - 1 or masks.shape[0] != x.shape[0] - 1:
        raise ValueError(f"{x.shape[0]} frames need {x.shape[0] - 1} flows and masks, got {flows.shape[0]} and "
                         f"{masks.shape[0]}")
    masks = masks.detach().cpu().float()
    diff = (x[1:] - warp(x[:-1], flows.detach().cpu().float())).abs().mean(1, keepdim=True)
    per = (diff * masks).sum((1, 2, 3)) / masks.sum((1, 2, 3)).clamp_min(1)
    return per if per_frame else float(per.mean())


# --------------------------------------------------------------------------- stylising clips


_CONTENT_LAYERS = ("relu4_2",)
_STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


class _TemporalObjective:
    """StyleObjective's terms plus Ruder et al.'s temporal term ``λ mean(m (x - warped)²)``."""

    def __init__(self, objective: StyleObjective, warped: torch.Tensor, mask: torch.Tensor, weight: float):
        self.objective, self.warped, self.mask, self.weight = objective, warped, mask, weight

    def __call__(self, x: torch.Tensor, generator=None) -> dict[str, torch.Tensor]:
        parts = dict(self.objective(x, generator))
        # The mean over all pixels and channels (Ruder et al.'s 1/D), the mask zeroing the occluded ones.
        parts["temporal"] = self.weight * (self.mask * (x - self.warped).pow(2)).mean()
        return parts


def _net_and_device(net, device):
    dev = resolve_device(device)
    if net is None:
        net = VGG19Features(_CONTENT_LAYERS + _STYLE_LAYERS, device=dev)
    return net, dev


def _start_image(content: torch.Tensor, init: str, seed: int, t: int) -> torch.Tensor:
    if init == "content":
        return content.clone()
    if init == "noise":
        g = torch.Generator().manual_seed(seed + t)  # fresh noise per frame: what independent runs would draw
        return torch.rand(content.shape, generator=g).to(content.device)
    raise ValueError(f"unknown init {init!r}; choose 'content' or 'noise'")


def _load_fast(model, device):
    return zoo.load_model(model, device=device) if isinstance(model, (str, os.PathLike)) else model


def _fast_pass(model, frame: torch.Tensor, style) -> torch.Tensor:
    from .adain import AdaIN

    if isinstance(model, AdaIN):
        return zoo.run(model, frame, style)
    if style is not None:
        raise ValueError("the fast network paints the one style it was trained on; pass style=None for "
                         "method='fast', or model='adain' with a style image")
    return zoo.run(model, frame)


def stylize_frames(clip, style=None, method: str = "optimise", *, num_steps: int = 30, optimizer: str = "lbfgs",
                   init: str = "content", seed: int = 0, model="fast-swirls", net=None, device="auto",
                   progress: bool = True, **objective) -> Clip:
    """Stylise every frame on its own (the baseline that flickers).

    Args:
        clip: a :class:`Clip` (or frames).
        style: the style image ``(1, 3, H', W')`` for ``"optimise"`` (and for
            an AdaIN ``model``); ``None`` for a fast network, whose style is fixed.
        method: ``"optimise"`` (Gatys et al. 2016: :func:`styletut.optim.run`
            on :class:`styletut.transfer.StyleObjective`, per frame) or
            ``"fast"`` (one pass of a shipped network, :mod:`styletut.zoo`).
        num_steps: objective evaluations per frame (``"optimise"``).
        optimizer: one of ``styletut.optim.OPTIMIZERS``.
        init: ``"content"`` (each frame starts from itself) or ``"noise"``
            (from fresh noise: independent runs, the strongest flicker).
        seed: seeds the noise.
        model: the fast network: a name of :func:`styletut.zoo.list_models` or a loaded model.
        net: a :class:`~styletut.features.VGG19Features` with relu4_2 and
            relu1_1..relu5_1, to reuse (default: built here).
        device: where to compute (``"auto"``: CUDA when present).
        progress: a tqdm bar over the frames.
        **objective: passed to :class:`~styletut.transfer.StyleObjective`
            (``content_weight``, ``style_weight``, ``tv_weight``, ...).

    Returns:
        The stylised :class:`Clip` (on the CPU, same frame rate).

    Example:
        >>> clip = make_clip("pan", size=64, num_frames=3).clip
        >>> out = stylize_frames(clip, None, method="fast", progress=False)
        >>> out.frames.shape
        torch.Size([3, 3, 42, 64])
    """
    frames = _as_frames(clip)
    fps = getattr(clip, "fps", DEFAULT_FPS)
    if method not in STYLIZE_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(STYLIZE_METHODS)} "
                         f"(temporally consistent ones are stylize_video's: {', '.join(VIDEO_METHODS)})")
    out = []
    if method == "fast":
        dev = resolve_device(device)
        fast = _load_fast(model, dev)
        for t in _bar(range(frames.shape[0]), progress, "fast, per frame"):
            out.append(_fast_pass(fast, frames[t:t + 1], style)[0])
        return Clip(torch.stack(out), fps=fps)
    if style is None:
        raise ValueError("method='optimise' needs a style image")
    net, dev = _net_and_device(net, device)
    style = style.to(dev)
    for t in _bar(range(frames.shape[0]), progress, "optimise, per frame"):
        content = frames[t:t + 1].to(dev)
        obj = StyleObjective(net, content, style, _CONTENT_LAYERS, _STYLE_LAYERS, **objective)
        synth_img = _start_image(content, init, seed, t)
        optim.run(obj, synth_img, optimizer, num_steps=num_steps, seed=seed, progress=False)
        out.append(synth_img.detach().cpu()[0])
    return Clip(torch.stack(out), fps=fps)


def stylize_video(clip, style, flows: torch.Tensor, masks: torch.Tensor, method: str = "optimise", *,
                  temporal_weight: float = DEFAULT_TEMPORAL_WEIGHT, blend: float = DEFAULT_BLEND,
                  num_steps: int = 30, optimizer: str = "lbfgs", init: str = "content", seed: int = 0,
                  model="fast-swirls", net=None, device="auto", progress: bool = True, warp_mode: str = WARP_MODE,
                  **objective) -> Clip:
    """Stylise a clip with temporal consistency (Ruder, Dosovitskiy & Brox 2016).

    ``"optimise"``: frame 0 is stylised as :func:`stylize_frames` would
    (same start, same steps). Each later frame ``t`` starts from the stylised
    frame ``t - 1`` warped by the flow, ``w = warp(x_{t-1}, flow_t)``, with
    the content frame where the mask is 0 (what was hidden has no stylised
    past), and minimises

    ``J(x) = α content + β style + λ · mean(m ⊙ (x - w)²)``,

    the temporal term holding every visible pixel to its stylised past.

    ``"fast-blend"``: one pass of the fast network per frame, blended with
    the previous output warped by the flow where the mask trusts it:
    ``y_t = m k w + (1 - m k) net(frame_t)``, with ``k = blend``. One pass a
    frame, as fast as per-frame; a stale stroke fades by ``k`` each frame.

    Args:
        clip: a :class:`Clip` (or frames), ``T`` frames.
        style: the style image (``"optimise"``; ``None`` for a fast network).
        flows: ``(T - 1, 2, H, W)`` backward flows (exact from :func:`make_clip`,
            or estimated by :func:`clip_flows`).
        masks: ``(T - 1, 1, H, W)``, 1 where the flow can be trusted.
        method: one of :data:`VIDEO_METHODS`.
        temporal_weight: λ (``"optimise"``), on the scale of StyleObjective's
            defaults (:data:`DEFAULT_TEMPORAL_WEIGHT`).
        blend: ``k`` in [0, 1) (``"fast-blend"``; 0 is per-frame).
        warp_mode: how the previous output is resampled (:func:`warp`'s
            ``mode``; default bicubic, clamped to [0, 1]: see :data:`WARP_MODE`).
        num_steps, optimizer, init, seed, model, net, device, progress: as
            :func:`stylize_frames` (``init`` is frame 0's start only).
        **objective: as :func:`stylize_frames`.

    Returns:
        The stylised :class:`Clip` (on the CPU).

    Example:
        >>> clip, flows, masks = make_clip("pan", size=64, num_frames=3)
        >>> out = stylize_video(clip, None, flows, masks, method="fast-blend", progress=False)
        >>> out.frames.shape
        torch.Size([3, 3, 42, 64])
    """
    frames = _as_frames(clip)
    fps = getattr(clip, "fps", DEFAULT_FPS)
    n, (h, w) = frames.shape[0], frames.shape[-2:]
    if method not in VIDEO_METHODS:
        raise ValueError(f"unknown method {method!r}; choose one of: {', '.join(VIDEO_METHODS)} "
                         f"(per-frame ones are stylize_frames': {', '.join(STYLIZE_METHODS)})")
    if tuple(flows.shape) != (n - 1, 2, h, w) or tuple(masks.shape) != (n - 1, 1, h, w):
        raise ValueError(f"a clip of {n} frames of {h}x{w} needs flows ({n - 1}, 2, {h}, {w}) and masks "
                         f"({n - 1}, 1, {h}, {w}), got {tuple(flows.shape)} and {tuple(masks.shape)}")
    if method == "fast-blend":
        if not 0 <= blend < 1:
            raise ValueError(f"blend must be in [0, 1), got {blend}")
        dev = resolve_device(device)
        fast = _load_fast(model, dev)
        out = []
        for t in _bar(range(n), progress, "fast, blended"):
            y = _fast_pass(fast, frames[t:t + 1], style)
            if t > 0:
                warped = warp(out[-1], flows[t - 1:t].float(), warp_mode).clamp(0, 1)
                k = blend * masks[t - 1:t].float()
                y = k * warped + (1 - k) * y
            out.append(y)
        return Clip(torch.cat(out).clamp(0, 1), fps=fps)
    if style is None:
        raise ValueError("method='optimise' needs a style image")
    net, dev = _net_and_device(net, device)
    style = style.to(dev)
    out = []
    for t in _bar(range(n), progress, "optimise, temporal"):
        content = frames[t:t + 1].to(dev)
        obj = StyleObjective(net, content, style, _CONTENT_LAYERS, _STYLE_LAYERS, **objective)
        if t == 0:
            synth_img = _start_image(content, init, seed, t)
        else:
            mask = masks[t - 1:t].to(dev).float()
            warped = warp(out[-1].to(dev), flows[t - 1:t].to(dev).float(), warp_mode).clamp(0, 1)
            synth_img = mask * warped + (1 - mask) * content  # the hidden parts have no stylised past
            obj = _TemporalObjective(obj, warped, mask, temporal_weight)
        optim.run(obj, synth_img, optimizer, num_steps=num_steps, seed=seed, progress=False)
        out.append(synth_img.detach())
    return Clip(torch.cat(out).cpu(), fps=fps)
