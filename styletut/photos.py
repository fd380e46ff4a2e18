"""The photos the feed-forward networks learn from, and the random crops they see.

A network that stylises in one pass has to learn, from examples, what the
optimiser of lesson 08 works out afresh for every photo. Its examples are
every photograph that installs offline with the course's dependencies
(scikit-image, matplotlib and scikit-learn ship a few), plus any folder of the
user's own. :data:`HELD_OUT` (chelsea and astronaut) is never trained on: the
lesson and the benchmark judge the networks on those.

Nine photos are few, so :class:`PhotoCrops` turns them into an endless stream
of different training batches: a random photo at a random scale, a random
crop, a random horizontal flip and a mild colour jitter. Every random number
comes from one local ``torch.Generator`` (the global random state is never
touched), and the stream can be saved and restored with ``state_dict`` /
``load_state_dict``, so a resumed training run sees the very batches an
uninterrupted one would have seen.

Introduced in notebooks/11_fast_networks.ipynb
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Sequence

import torch
import torch.nn.functional as F
from PIL import Image

from .data import sample
from .images import READ_FORMATS, load_image
from .runtime import generator

__all__ = ["HELD_OUT", "list_training_photos", "training_photos", "PhotoCrops"]

# Photos no network ever trains on: the lesson and the benchmark evaluate on them.
HELD_OUT = ("chelsea", "astronaut")


# Every photo that installs with the dependencies (styletut.data.list_samples),
# minus the held-out ones and hubble_deep_field (the benchmark's style image:
# a network trained on it would have seen the answer).
_TRAINING = ("coffee", "rocket", "retina", "immunohistochemistry", "camera", "coins", "grace_hopper",
             "china", "flower")

# File name endings of the formats load_image reads (".jpg", ".png", ...).
_IMAGE_SUFFIXES = frozenset(ext for ext, fmt in Image.registered_extensions().items() if fmt in READ_FORMATS)


def list_training_photos() -> list[str]:
    """Names of the offline photos the networks train on (never those in :data:`HELD_OUT`).

    scikit-image's coffee, rocket, retina, immunohistochemistry, camera and
    coins (the grey ones become 3-channel), matplotlib's grace_hopper and
    scikit-learn's china and flower.

    Returns:
        A list of names, in a fixed order.

    Example:
        >>> "chelsea" in list_training_photos()
        False

    Introduced in notebooks/11_fast_networks.ipynb
    """
    return list(_TRAINING)


def _folder_images(folder: str | os.PathLike) -> list[Path]:
    root = Path(folder).expanduser()
    if not root.exists():
        raise FileNotFoundError(f"photo folder '{root}' does not exist; give a folder of your own photos")
    if not root.is_dir():
        raise NotADirectoryError(f"'{root}' is a file, not a folder; give the folder that holds your photos")
    files = sorted(p for p in root.iterdir()
                   if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in _IMAGE_SUFFIXES)
    if not files:
        suffixes = ", ".join(sorted({s.lstrip(".") for s in _IMAGE_SUFFIXES}))
        what = "is empty" if not any(root.iterdir()) else "holds no image files"
        raise ValueError(f"photo folder '{root}' {what}; put photos there ({suffixes}) or leave folder=None "
                         "to train on the offline photos only")
    return files


def training_photos(folder: str | os.PathLike | None = None, size: int = 512) -> list[tuple[str, torch.Tensor]]:
    """The training photos as tensors: every offline photo, plus every image in ``folder``.

    Args:
        folder: optional folder of your own photos. Every file with an image
            suffix (``.jpg``, ``.png``, ...; hidden files skipped) is used, in
            sorted order; other files are ignored.
        size: longest side of each photo in pixels.

    Returns:
        ``[(name, (1, 3, H, W) tensor in [0, 1]), ...]``, offline photos first
        (names from :func:`list_training_photos`), then the folder's (file names).

    Raises:
        ValueError: ``folder`` is empty or holds no image files.
        FileNotFoundError, NotADirectoryError: ``folder`` is missing or a file.
        styletut.images.ImageError: a file in ``folder`` cannot be read (the
            message names it, says why and what to do).

    Example:
        >>> photos = training_photos(size=64)            # doctest: +SKIP
        >>> photos[0][0], photos[0][1].shape             # doctest: +SKIP
        ('coffee', torch.Size([1, 3, 43, 64]))

    Introduced in notebooks/11_fast_networks.ipynb
    """
    files = _folder_images(folder) if folder is not None else []
    photos = [(name, sample(name, size=size)) for name in _TRAINING]
    photos += [(path.name, load_image(path, size=size)) for path in files]
    return photos


class PhotoCrops:
    """An endless, reproducible stream of augmented training batches.

    Each example: pick a photo at random, rescale it so its longest side is
    uniform between ``crop`` and the photo's own longest side (its short side
    at least ``crop``), cut a random ``crop`` x ``crop`` square, flip it
    horizontally half the time, and jitter brightness, contrast and saturation
    by up to 10% (``torchvision.transforms.v2.functional``). The network thus
    meets the same photo at many scales, positions and exposures.

    Every draw comes from one local ``torch.Generator`` seeded by ``seed``;
    :meth:`state_dict` holds its state and the number of batches drawn, so a
    stream restored with :meth:`load_state_dict` continues exactly.

    Args:
        photos: ``[(name, (1, 3, H, W)), ...]`` as :func:`training_photos` gives,
            or a list of bare ``(1, 3, H, W)`` tensors. Photos smaller than
            ``crop`` are upscaled to fit.
        crop: side of the square crops in pixels (>= 16).
        batch: crops per batch (>= 1).
        seed: seeds the stream.

    Yields:
        ``(batch, 3, crop, crop)`` float tensors in [0, 1].

    Example:
        >>> crops = PhotoCrops(training_photos(size=256), crop=128, batch=4)   # doctest: +SKIP
        >>> next(crops).shape                                                   # doctest: +SKIP
        torch.Size([4, 3, 128, 128])

    Introduced in notebooks/11_fast_networks.ipynb
    """

    # The colour jitter: each factor is drawn uniformly from [1 - j, 1 + j].
    JITTER = 0.1

    def __init__(self, photos: Sequence, crop: int = 128, batch: int = 4, seed: int = 0):
        if not isinstance(crop, int) or crop < 16:
            raise ValueError(f"crop must be an integer >= 16 (VGG19's deepest style layer needs it), got {crop!r}")
        if not isinstance(batch, int) or batch < 1:
            raise ValueError(f"batch must be a positive integer, got {batch!r}")
        self.photos = [_as_photo(p) for p in photos]
        if not self.photos:
            raise ValueError("PhotoCrops needs at least one photo")
        self.crop, self.batch, self.seed = crop, batch, int(seed)
        self._gen = generator(self.seed)
        self.count = 0  # batches drawn so far

    def __iter__(self) -> "PhotoCrops":
        return self

    def __next__(self) -> torch.Tensor:
        out = torch.stack([self._example() for _ in range(self.batch)])
        self.count += 1
        return out

    def _uniform(self, lo: float, hi: float) -> float:
        return lo + (hi - lo) * float(torch.rand((), generator=self._gen))

    def _randint(self, n: int) -> int:
        """An integer in [0, n)."""
        return int(torch.randint(n, (), generator=self._gen))

    def _example(self) -> torch.Tensor:
        from torchvision.transforms.v2 import functional as TF

        img = self.photos[self._randint(len(self.photos))]
        h, w = img.shape[-2:]
        # Scale so the short side is at least `crop`, the long side between that and the photo's own.
        lowest = self.crop * max(h, w) / min(h, w)
        long_side = self._uniform(lowest, max(lowest, max(h, w)))
        scale = long_side / max(h, w)
        nh, nw = max(self.crop, round(h * scale)), max(self.crop, round(w * scale))
        if (nh, nw) != (h, w):
            img = F.interpolate(img, size=(nh, nw), mode="bilinear", align_corners=False, antialias=True)
        top, left = self._randint(nh - self.crop + 1), self._randint(nw - self.crop + 1)
        x = img[0, :, top:top + self.crop, left:left + self.crop]
        if self._uniform(0.0, 1.0) < 0.5:
            x = x.flip(-1)
        j = self.JITTER
        x = TF.adjust_brightness(x, self._uniform(1 - j, 1 + j))
        x = TF.adjust_contrast(x, self._uniform(1 - j, 1 + j))
        x = TF.adjust_saturation(x, self._uniform(1 - j, 1 + j))
        return x.clamp(0.0, 1.0).contiguous()

    def state_dict(self) -> dict:
        """The stream's position: ``{"generator": ByteTensor, "count": int, "seed": int}``."""
        return {"generator": self._gen.get_state(), "count": self.count, "seed": self.seed}

    def load_state_dict(self, state: dict) -> None:
        """Continue from a :meth:`state_dict` (same photos, crop and batch)."""
        self._gen.set_state(state["generator"])
        self.count = int(state["count"])
        self.seed = int(state.get("seed", self.seed))


def _as_photo(p) -> torch.Tensor:
    t = p[1] if isinstance(p, (tuple, list)) else p
    if not isinstance(t, torch.Tensor) or t.dim() != 4 or t.shape[:2] != (1, 3):
        raise ValueError("PhotoCrops wants (name, (1, 3, H, W) tensor) pairs or bare (1, 3, H, W) tensors, got "
                         f"{type(t).__name__} {tuple(t.shape) if isinstance(t, torch.Tensor) else ''}".rstrip())
    return t.detach().float().cpu()
