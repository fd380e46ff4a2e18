"""Checkpoints of a style transfer: save a run's state, and resume it exactly.

A checkpoint file holds the state :func:`styletut.optim.run` hands out (the
image, the optimiser's state, the random generator, the loss history) next to
what the run was *of*: the options and a fingerprint of the two input images.
Resuming checks both, so a checkpoint can only continue the run that wrote it.
Files are written atomically (:func:`styletut.files.atomic_write`) and read
with ``torch.load(weights_only=True)``, which cannot run code from the file.

Introduced in notebooks/08_full_transfer.ipynb
"""

from __future__ import annotations

import hashlib
import io
import os
from pathlib import Path

import torch

from .files import atomic_write
from .options import StylizeOptions

__all__ = ["Checkpoint", "RESUMABLE_CHANGES"]

_FORMAT = "styletut-checkpoint"
_VERSION = 1

# Options a resumed run may change: more (or fewer) steps, and the progress bar.
RESUMABLE_CHANGES = ("num_steps", "progress")


def _fingerprint(*imgs: torch.Tensor) -> str:
    h = hashlib.sha256()
    for img in imgs:
        t = img.detach().to("cpu", torch.float32).contiguous()
        h.update(str(tuple(t.shape)).encode())
        h.update(t.numpy().tobytes())
    return h.hexdigest()


def _plain(opts: StylizeOptions) -> dict:
    """The options that define a run, as plain values (lists for tuples)."""
    return {k: (list(v) if isinstance(v, tuple) else v) for k, v in opts.as_dict().items()
            if k not in RESUMABLE_CHANGES}


class Checkpoint:
    """The checkpoint file of one run.

    Args:
        path: where the state lives (e.g. ``result.png.ckpt``).
        opts: the run's options.
        content_img, style_img: the inputs as used ``(1, 3, H, W)`` (``style_img``
            may be a list of several styles).
        every: steps between checkpoints (0 when resuming: take the saved one).

    Example:
        >>> ckpt = Checkpoint("out.ckpt", StylizeOptions(), content_img, style_img)  # doctest: +SKIP
        >>> state = ckpt.load()                                                     # doctest: +SKIP
    """

    def __init__(self, path: str | os.PathLike, opts: StylizeOptions, content_img: torch.Tensor,
                 style_img: torch.Tensor | list[torch.Tensor], every: int = 0):
        self.path = Path(path).expanduser()
        self.every = every
        self.options = _plain(opts)
        styles = style_img if isinstance(style_img, (list, tuple)) else [style_img]
        self.inputs = _fingerprint(content_img, *styles)

    def check_free(self) -> None:
        """Refuse to start a new run over the checkpoint of an earlier one.

        Raises:
            ValueError: a checkpoint is already there (the message says how to
                resume it or start over).
        """
        if self.path.exists():
            raise ValueError(f"a checkpoint of an earlier run is at '{self.path}'; resume it "
                             "(--resume, or resume=True) or delete that file to start over")

    def save(self, run_state: dict) -> Path:
        """Write ``run_state`` (from :func:`styletut.optim.run`) atomically."""
        payload = {"format": _FORMAT, "version": _VERSION, "options": self.options,
                   "inputs": self.inputs, "every": self.every, "run": run_state}
        return atomic_write(self.path, lambda fh: torch.save(payload, fh), what="checkpoint")

    def load(self) -> dict:
        """The saved run state, after checking it belongs to this run.

        Sets :attr:`every` to the saved interval when it was 0 (checkpoints
        must fall on the same steps for the resumed run to equal the original).

        Raises:
            FileNotFoundError: no checkpoint there.
            ValueError: the file is damaged or not a checkpoint, or it was
                written by a run with other options or images (the message
                lists what differs).
        """
        if not self.path.is_file():
            raise FileNotFoundError(f"no checkpoint to resume at '{self.path}'; run without --resume "
                                    "(resume=False) to start the run")
        try:
            payload = torch.load(io.BytesIO(self.path.read_bytes()), map_location="cpu", weights_only=True)
        except Exception as err:  # torch.load raises many types for a damaged file
            raise ValueError(f"checkpoint '{self.path}' is damaged or not a styletut checkpoint "
                             f"({type(err).__name__}); delete it and start the run again") from None
        if not (isinstance(payload, dict) and payload.get("format") == _FORMAT):
            raise ValueError(f"'{self.path}' is not a styletut checkpoint; delete it or choose another path")
        if payload.get("version") != _VERSION:
            raise ValueError(f"checkpoint '{self.path}' was written by another version of styletut "
                             f"(format {payload.get('version')}, this one reads {_VERSION}); start the run again")
        saved = payload["options"]
        differ = sorted(k for k in set(saved) | set(self.options) if saved.get(k) != self.options.get(k))
        if differ:
            detail = ", ".join(f"{k}: saved {saved.get(k)!r}, now {self.options.get(k)!r}" for k in differ)
            raise ValueError(f"checkpoint '{self.path}' belongs to a run with other options ({detail}); "
                             "resume with the same options")
        if payload["inputs"] != self.inputs:
            raise ValueError(f"checkpoint '{self.path}' belongs to a run with other content or style "
                             "images (or sizes); resume with the same inputs")
        saved_every = int(payload["every"])
        if self.every and self.every != saved_every:
            raise ValueError(f"checkpoint '{self.path}' was saved every {saved_every} steps, not {self.every}; "
                             f"resume with --checkpoint {saved_every} (or leave it out)")
        self.every = saved_every
        return payload["run"]
