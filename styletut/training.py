"""Training a network's weights: one resumable loop, :func:`fit`.

Lessons 05-08 optimise the pixels of one image; a feed-forward network instead
learns weights ``θ`` that serve every image. :func:`fit` is the loop: draw a
batch, evaluate the loss terms, step Adam (Kingma & Ba 2015) on ``θ``, and
keep going. It shares the habits of :func:`styletut.optim.run`:

- a tqdm progress bar with the current loss;
- checkpoints written atomically (:func:`styletut.files.atomic_write`), from
  which ``resume=True`` continues so that the final weights equal an
  uninterrupted run's (the batch stream's position is saved with them);
- Ctrl-C ends the run with the work kept: the checkpoint is written and the
  history comes back with ``interrupted=True``;
- a non-finite loss stops the run with an error that says what to change.

Introduced in notebooks/11_fast_networks.ipynb
"""

from __future__ import annotations

import io
import math
import os
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Callable, Iterator, Mapping

import torch
from torch import nn

from .files import atomic_write

__all__ = ["TrainHistory", "fit"]

_FORMAT = "styletut-train/1"


@dataclass
class TrainHistory:
    """What a :func:`fit` run did.

    Attributes:
        losses: ``{term: [value per step]}`` for every term of the loss, and
            always ``"total"`` (their sum); a resumed run's lists include the
            steps before the resume.
        steps_done: training steps completed (including those before a resume).
        seconds: training time in seconds, summed over the run and any run it
            resumed.
        interrupted: Ctrl-C ended the run early (the checkpoint, if any, holds it).
        resumed_from: the step a resumed run continued from (0 for a fresh run).
    """

    losses: dict[str, list[float]] = field(default_factory=dict)
    steps_done: int = 0
    seconds: float = 0.0
    interrupted: bool = False
    resumed_from: int = 0

    @property
    def total(self) -> list[float]:
        return self.losses.get("total", [])

    def trend(self, fraction: float = 0.1) -> dict[str, tuple[float, float]]:
        """Each term's mean over the first and over the last ``fraction`` of the steps.

        Single steps are noisy (every batch is different), so a training
        report compares averages. At least one step counts at each end.

        Example:
            >>> TrainHistory({"total": [4.0, 3.0, 2.0, 1.0]}).trend(0.5)
            {'total': (3.5, 1.5)}
        """
        out = {}
        for term, values in self.losses.items():
            k = max(1, int(len(values) * fraction))
            out[term] = (sum(values[:k]) / k, sum(values[-k:]) / k) if values else (math.nan, math.nan)
        return out


def fit(model: nn.Module, loss_fn: Callable[[nn.Module, torch.Tensor], Mapping[str, torch.Tensor]],
        batches: Iterator[torch.Tensor], num_steps: int, *, lr: float = 1e-3,
        checkpoint: str | os.PathLike | None = None, checkpoint_every: int = 100, resume: bool = False,
        progress: bool = True, desc: str = "train", meta: Mapping | None = None) -> TrainHistory:
    """Train ``model`` with Adam for ``num_steps`` steps on ``batches``.

    One step: ``batch = next(batches)``, ``terms = loss_fn(model, batch)``,
    ``total = sum(terms.values())``, backward, one Adam update of the
    parameters that require grad.

    Args:
        model: the network; trained in place (and left in ``train()`` mode).
        loss_fn: ``loss_fn(model, batch) -> {term: scalar tensor}``.
        batches: an iterator of batches (e.g. :class:`styletut.photos.PhotoCrops`);
            if it has ``state_dict()`` / ``load_state_dict()`` its position is
            checkpointed, so a resumed run sees the same batches.
        num_steps: the total number of steps (a resumed run does the rest).
        lr: Adam's learning rate.
        checkpoint: a file for the training state (model, optimiser, step,
            history, batch stream, ``meta``), written atomically every
            ``checkpoint_every`` steps, at the end and on Ctrl-C.
        checkpoint_every: steps between checkpoints (>= 1).
        resume: continue the run saved in ``checkpoint``.
        progress: show a tqdm progress bar.
        desc: the progress bar's label.
        meta: what the run is (style, recipe, ...): saved in the checkpoint and
            compared on resume, so a checkpoint of another run is refused.

    Returns:
        A :class:`TrainHistory`.

    Raises:
        FileNotFoundError: ``resume=True`` but ``checkpoint`` does not exist.
        ValueError: bad arguments; a checkpoint whose ``meta`` differs (the
            message names the keys); a loss that becomes inf or NaN.

    Example:
        >>> model = nn.Linear(2, 1)
        >>> data = iter(lambda: torch.ones(8, 2), None)
        >>> hist = fit(model, lambda m, b: {"mse": m(b).pow(2).mean()}, data, 20, lr=0.1, progress=False)
        >>> hist.total[-1] < hist.total[0]
        True

    Introduced in notebooks/11_fast_networks.ipynb
    """
    if not isinstance(num_steps, int) or num_steps < 0:
        raise ValueError(f"num_steps must be an integer >= 0, got {num_steps!r}")
    if not (isinstance(checkpoint_every, int) and checkpoint_every >= 1):
        raise ValueError(f"checkpoint_every must be a positive number of steps, got {checkpoint_every!r}")
    if not (isinstance(lr, (int, float)) and math.isfinite(lr) and lr > 0):
        raise ValueError(f"lr must be a positive number, got {lr!r}")
    if resume and checkpoint is None:
        raise ValueError("resume=True needs checkpoint=PATH, the file that holds the training state")
    meta = dict(meta or {})
    params = [p for p in model.parameters() if p.requires_grad]
    if not params:
        raise ValueError("the model has no parameters that require grad: nothing to train")
    opt = torch.optim.Adam(params, lr=lr)
    hist = TrainHistory()
    if resume:
        _load(Path(checkpoint), model, opt, batches, hist, meta)

    def save() -> None:
        if checkpoint is not None:
            _save(Path(checkpoint), model, opt, batches, hist, meta)

    bar = None
    if progress and num_steps > 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=num_steps, initial=min(hist.steps_done, num_steps), desc=desc, leave=False)
    model.train()
    start = time.perf_counter() - hist.seconds
    try:
        while hist.steps_done < num_steps:
            batch = next(batches)
            opt.zero_grad(set_to_none=True)
            terms = dict(loss_fn(model, batch))
            if not terms:
                raise ValueError("loss_fn returned no loss terms")
            total = sum(terms.values())
            values = {k: float(v.detach()) for k, v in terms.items()}
            values["total"] = float(total.detach())
            if not math.isfinite(values["total"]):
                raise ValueError(f"the training loss became {values['total']} at step {hist.steps_done + 1} "
                                 f"(terms: {values}); lower lr (now {lr:g}) or the loss weights and train "
                                 "again (a resume would start from the last checkpoint)")
            total.backward()
            opt.step()
            for k, v in values.items():
                hist.losses.setdefault(k, []).append(v)
            hist.steps_done += 1
            hist.seconds = time.perf_counter() - start
            if bar is not None:
                bar.update(1)
                bar.set_postfix(loss=f"{values['total']:.4g}")
            if hist.steps_done % checkpoint_every == 0 or hist.steps_done == num_steps:
                save()
    except KeyboardInterrupt:
        # The step in flight is not counted. (Ctrl-C between Adam's update and
        # the count leaves that one update in the weights uncounted: harmless
        # for training, and resume then simply does one more step.)
        hist.interrupted = True
        hist.seconds = time.perf_counter() - start
        save()
    finally:
        if bar is not None:
            bar.close()
    return hist


def _save(path: Path, model: nn.Module, opt: torch.optim.Optimizer, batches, hist: TrainHistory,
          meta: dict) -> None:
    state = {
        "format": _FORMAT,
        "model": {k: v.detach().cpu().clone() for k, v in model.state_dict().items()},
        "optimizer": opt.state_dict(),
        "step": hist.steps_done,
        "history": asdict(hist),
        "batches": batches.state_dict() if hasattr(batches, "state_dict") else None,
        "meta": meta,
    }
    buf = io.BytesIO()
    torch.save(state, buf)  # serialise first: Ctrl-C while pickling must not leave a temp file
    atomic_write(path, lambda fh: fh.write(buf.getbuffer()), what="training checkpoint")


def _load(path: Path, model: nn.Module, opt: torch.optim.Optimizer, batches, hist: TrainHistory,
          meta: dict) -> None:
    if not path.exists():
        raise FileNotFoundError(f"no training checkpoint at '{path}' to resume from; start a fresh run "
                                "with resume=False (it writes that file as it goes)")
    try:
        state = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"cannot read training checkpoint '{path}' ({type(err).__name__}: {err}); "
                         "delete it and start a fresh run") from err
    if not isinstance(state, dict) or state.get("format") != _FORMAT:
        raise ValueError(f"'{path}' is not a training checkpoint written by styletut.training.fit")
    saved = dict(state.get("meta") or {})
    differ = sorted(k for k in set(saved) | set(meta) if saved.get(k, _MISSING) != meta.get(k, _MISSING))
    if differ:
        detail = "; ".join(f"{k}: saved {saved.get(k, '(none)')!r}, now {meta.get(k, '(none)')!r}" for k in differ)
        raise ValueError(f"training checkpoint '{path}' belongs to another run: its meta differs in "
                         f"{', '.join(differ)} ({detail}); resume with the same settings, or start "
                         "afresh with resume=False (or another checkpoint file)")
    model.load_state_dict(state["model"])
    opt.load_state_dict(state["optimizer"])
    if state["batches"] is not None:
        if not hasattr(batches, "load_state_dict"):
            raise ValueError(f"training checkpoint '{path}' saved the batch stream's position, but these "
                             "batches have no load_state_dict(); pass the same kind of batch stream")
        batches.load_state_dict(state["batches"])
    h = state["history"]
    hist.losses = {k: list(v) for k, v in h["losses"].items()}
    hist.steps_done = hist.resumed_from = int(state["step"])
    hist.seconds = float(h["seconds"])


_MISSING = object()
