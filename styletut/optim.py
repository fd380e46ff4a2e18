"""Optimising pixels: gradient descent by hand, SGD, Adam and L-BFGS in one loop.

Style transfer has no training set and no weights to learn: the *image* is the
parameter ``θ``. Every optimiser here updates it from the gradient of an
objective ``J(θ)``; :func:`run` is the one loop they share, with a progress
bar, per-component loss history, a stop flag, and best-image tracking.

- ``"gd"``: plain gradient descent, θ ← θ − η ∇J(θ), written out in
  :class:`GradientDescent`.
- ``"sgd"``: the same update with a *stochastic* gradient ∇J(θ, ξ): here ξ is
  a random crop of the image drawn afresh every step (the objective decides
  what the crop means; see ``styletut.transfer.StyleObjective``). Each step is
  cheaper and noisier than a full-image step.
- ``"adam"``: ``torch.optim.Adam`` (Kingma & Ba 2015).
- ``"lbfgs"``: L-BFGS (Liu & Nocedal 1989), the optimiser Gatys et al. used. Pixels
  must stay in [0, 1], so by default the bounds are inside the algorithm: the
  projected L-BFGS of ``styletut.box_lbfgs`` (Bertsekas 1982), which, like
  scipy's **L-BFGS-B** (Byrd, Lu, Nocedal & Zhu 1995), evaluates only valid
  images; the image returned is the best one evaluated. scipy's L-BFGS-B is
  kept as the reference it is tested and benchmarked against (``_BOX_LBFGS``).
  ``clamp=False`` gives ``torch.optim.LBFGS``, unconstrained.

For every optimiser the loss reported as ``History.best_loss`` is the objective
of the image returned (lesson 05 shows what goes wrong when it is not).

Runs never lose work: a non-finite loss or image makes GD, SGD and Adam step
back to the last good image with half the rate (L-BFGS stops there); Ctrl-C
and a stop flag end the run with the best image; and with ``checkpoint_every``
the run's whole state goes to a callback every few steps, from which
``resume=`` continues it exactly.

Introduced in notebooks/05_gradient_descent.ipynb (GD, Adam, L-BFGS) and
notebooks/06_sgd.ipynb (SGD)
"""

from __future__ import annotations

import copy
import math
import os
import threading
import time
from dataclasses import dataclass, field
from typing import Callable, Mapping

import torch

from .names import OPTIMIZERS
from .runtime import keep_freed_memory

__all__ = [
    "OPTIMIZERS",
    "DEFAULT_LR",
    "AUTO_LR_STEP",
    "LBFGS_MEMORY",
    "LBFGS_FIRST_STEP",
    "auto_lr",
    "GradientDescent",
    "make_optimizer",
    "StopFlag",
    "StepInfo",
    "History",
    "MAX_LR_CUTS",
    "run",
]


# Default step sizes. ``None`` (GD, SGD) means "automatic": plain gradient
# descent has no scale of its own, and the gradient's size depends on the loss
# weights, the layers and the image size (losses are means over positions, so
# the per-pixel gradient shrinks like 1/(H*W)). The rule of lesson 05 sets the
# rate from the first gradient instead (see auto_lr). Adam's rate is already a
# step in pixel units (2% of the [0, 1] range); L-BFGS's line search scales
# its steps itself.
DEFAULT_LR = {"gd": None, "sgd": None, "adam": 0.02, "lbfgs": 1.0}

# auto_lr's target: the first GD step moves pixels by 0.01 rms, 1% of the
# [0, 1] range (~2.5 grey levels of 255): small enough to stay in the region
# where the first-order model holds, large enough to make visible progress
# in tens of steps (notebooks/05_gradient_descent.ipynb sweeps it).
AUTO_LR_STEP = 0.01

# L-BFGS keeps this many (s, y) curvature pairs. scipy's default is 10.
# Measured on 2 cores (the benchmark's pair, 300 steps at 256 px and 120 at
# 512): m = 20 reached the same J per step as m = 50 (within 0.3%; lower at
# 512) and m = 10 1.8% higher. But L-BFGS-B's own work grows with m once the
# memory fills: at 512 px a step took 1.84 s throughout with m = 20 and rose
# from 1.90 to 2.40 s with m = 50 (the network's pass is ~1.7 s of it).
LBFGS_MEMORY = 20

# L-BFGS-B's first trial step moves no pixel further than this (see _lbfgsb).
LBFGS_FIRST_STEP = 0.05

# After a non-finite loss or image, GD/SGD/Adam go back to the last good image
# and halve the rate, at most this many times in a run; then the run stops.
# Five halvings is a 32x smaller rate: past that, the problem is not the rate.
MAX_LR_CUTS = 5

# objective(image, generator) -> {component name: weighted scalar loss}
Objective = Callable[[torch.Tensor, "torch.Generator | None"], Mapping[str, torch.Tensor]]


class GradientDescent(torch.optim.Optimizer):
    """Plain gradient descent: ``θ ← θ − η ∇J(θ)``, nothing else.

    No momentum, no per-pixel scaling: the update is the negative gradient
    times the learning rate ``η`` (``lr``). With a stochastic objective the
    same class performs SGD.

    Args:
        params: tensors to optimise (here: the image).
        lr: the learning rate η > 0, or ``None`` to set it from the first
            gradient with :func:`auto_lr` (the chosen value is then in
            ``param_groups[0]["lr"]``).

    Introduced in notebooks/05_gradient_descent.ipynb
    """

    def __init__(self, params, lr: float | None = None):
        if lr is not None and not lr > 0:
            raise ValueError(f"learning rate must be positive, got {lr}")
        super().__init__(params, {"lr": lr})

    @torch.no_grad()
    def step(self, closure=None):
        loss = None
        if closure is not None:
            with torch.enable_grad():
                loss = closure()
        for group in self.param_groups:
            for p in group["params"]:
                if p.grad is None:
                    continue
                if group["lr"] is None:  # first step: the rate comes from this gradient
                    group["lr"] = auto_lr(p.grad)
                p.sub_(group["lr"] * p.grad)  # θ ← θ − η ∇J(θ)
        return loss


def auto_lr(grad: torch.Tensor, step: float = AUTO_LR_STEP) -> float:
    """A gradient-descent learning rate from a gradient: ``η = step / rms(∇J)``.

    With this η the first update ``η ∇J`` moves pixels by ``step`` in root mean
    square, whatever the loss weights and the image size. The rms is taken
    over the entries that have a gradient at all, so for SGD, whose random
    crop ξ leaves the pixels outside it at zero, the crop's own pixels move by
    ``step``.

    Args:
        grad: ``∇J``, any shape (e.g. ``(1, 3, H, W)``).
        step: the rms pixel change wanted from the first step.

    Returns:
        The learning rate, a float (``step`` itself for an all-zero gradient,
        where no rate moves anything).

    Example:
        >>> auto_lr(torch.full((1, 3, 4, 4), 2.0))
        0.005

    Introduced in notebooks/05_gradient_descent.ipynb
    """
    g = grad.detach()
    g = g[g != 0]
    if g.numel() == 0:
        return float(step)
    return float(step / g.double().pow(2).mean().sqrt())


def make_optimizer(name: str, params, lr: float | None = None, num_steps: int = 100) -> torch.optim.Optimizer:
    """Build one of :data:`OPTIMIZERS` over ``params`` with ``lr`` (or its default).

    For ``"lbfgs"`` this is torch's unconstrained L-BFGS, and ``num_steps``
    is its budget of objective evaluations; :func:`run` uses scipy's
    L-BFGS-B instead whenever pixels must stay in [0, 1].
    """
    if name not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of: {', '.join(OPTIMIZERS)}")
    lr = DEFAULT_LR[name] if lr is None else float(lr)
    if lr is not None and not lr > 0:
        raise ValueError(f"learning rate must be positive, got {lr}")
    if name in ("gd", "sgd"):
        return GradientDescent(params, lr=lr)
    if name == "adam":
        return torch.optim.Adam(params, lr=lr)
    # The strong-Wolfe line search makes L-BFGS indifferent to the scale of the
    # loss (style losses on VGG features run to millions); without it the first
    # steps overshoot badly at that scale. A step of ours is one evaluation, so
    # the budget is max_eval; line-search trials count as steps.
    n = max(int(num_steps), 1)
    return torch.optim.LBFGS(params, lr=lr, max_iter=n, max_eval=n, history_size=LBFGS_MEMORY,
                             line_search_fn="strong_wolfe", tolerance_grad=0.0, tolerance_change=0.0)


class _Stop(Exception):
    """Raised inside the closure to leave L-BFGS's internal loop early."""


class _SegmentEnd(Exception):
    """Raised inside the closure at a checkpoint of L-BFGS-B (see :func:`run`)."""


class _StepBack(Exception):
    """Raised inside the closure on a non-finite loss that GD/SGD/Adam can recover from."""


class StopFlag:
    """A thread-safe flag a user interface sets to stop a run between steps."""

    def __init__(self):
        self._event = threading.Event()

    def set(self) -> None:
        self._event.set()

    def clear(self) -> None:
        self._event.clear()

    def is_set(self) -> bool:
        return self._event.is_set()


@dataclass
class StepInfo:
    """What a callback sees after each step.

    Attributes:
        step: steps done so far (1-based).
        num_steps: steps planned.
        losses: this step's loss components plus ``"total"`` (floats).
        image: the current image ``(1, 3, H, W)`` (do not modify).
        elapsed: seconds since the run started.
        best_loss: lowest total so far.
    """

    step: int
    num_steps: int
    losses: dict[str, float]
    image: torch.Tensor
    elapsed: float
    best_loss: float


@dataclass
class History:
    """Record of a run.

    Attributes:
        losses: ``{component: [value per step]}``, always with ``"total"``.
        times: seconds since start after each step.
        best_image: image with the lowest total loss seen (for ``"sgd"``,
            whose sampled losses are not comparable step to step, the latest
            image whose loss was finite).
        best_loss: the objective of ``best_image``. For ``"sgd"`` this is the
            full (not sampled) objective, evaluated once more on ``best_image``
            at the end.
        best_step: the step ``best_image`` was seen at.
        lr: the learning rate used (for GD/SGD with ``lr=None``, the one
            :func:`auto_lr` chose); ``None`` before the first update.
        steps_done: how many steps (objective evaluations) ran.
        stopped: a stop flag ended the run early.
        interrupted: Ctrl-C ended it early (the best image is kept).
        diverged: the loss or the image became inf/NaN and the run gave up
            (at once for L-BFGS; after :data:`MAX_LR_CUTS` step-backs for the others).
        lr_cuts: how often GD/SGD/Adam stepped back to the last good image
            and halved the rate after a non-finite loss or image.
        resumed_from: the step a resumed run continued from (0 for a fresh run).
    """

    losses: dict[str, list[float]] = field(default_factory=dict)
    times: list[float] = field(default_factory=list)
    best_image: torch.Tensor | None = None
    best_loss: float = math.inf
    best_step: int = 0
    steps_done: int = 0
    stopped: bool = False
    interrupted: bool = False
    diverged: bool = False
    lr: float | None = None
    lr_cuts: int = 0
    resumed_from: int = 0

    @property
    def total(self) -> list[float]:
        return self.losses.get("total", [])


def run(objective: Objective, synth_img: torch.Tensor, optimizer: str = "lbfgs", lr: float | None = None,
        num_steps: int = 100, *, seed: int = 0, callback: Callable[[StepInfo], None] | None = None,
        stop: StopFlag | None = None, progress: bool = True, clamp: bool = True,
        desc: str | None = None, checkpoint_every: int = 0,
        on_checkpoint: Callable[[dict], None] | None = None, resume: dict | None = None) -> History:
    """Optimise ``synth_img`` in place to lower ``objective``; the one loop of the course.

    A *step* is one evaluation of the objective (a forward and a backward
    pass), so every optimiser gets the same budget for ``num_steps``. For GD,
    SGD and Adam each evaluation is followed by an update; L-BFGS decides
    itself where to evaluate (its line search tries points along a direction),
    so its recorded losses include those trials.

    Args:
        objective: ``objective(image, generator) -> {name: weighted scalar loss}``.
            ``generator`` is ``None`` for the full objective and a seeded
            ``torch.Generator`` for ``"sgd"``'s sampled steps (the source of ξ).
        synth_img: ``(1, 3, H, W)`` tensor; it becomes the parameter
            (``requires_grad`` is switched on), is updated in place, and ends
            as the best image seen.
        optimizer: one of :data:`OPTIMIZERS`.
        lr: learning rate (default :data:`DEFAULT_LR`; ``None`` for GD/SGD
            means :func:`auto_lr` from the first gradient).
        num_steps: objective evaluations to spend (0: evaluate the start once,
            so ``best_loss`` is its objective, and change nothing).
        seed: seeds the stochastic draws of ``"sgd"`` (a local generator).
        callback: called with a :class:`StepInfo` after every step.
        stop: a :class:`StopFlag`; when set, the run ends after the current step.
        progress: show a tqdm progress bar.
        clamp: keep pixels in [0, 1]. GD, SGD and Adam clamp after every
            update (a projection); L-BFGS becomes ``box_lbfgs.projected_lbfgs``,
            with the bounds inside the algorithm. Either way every image
            evaluated, and so the image returned, is a valid image. ``False``: unconstrained
            (torch's L-BFGS), and nothing is clamped.
        desc: label for the progress bar.
        checkpoint_every: every this many steps (0: never) call ``on_checkpoint``
            with the run's state, a dict of tensors and numbers that
            ``torch.save`` can write and ``torch.load(weights_only=True)`` read.
            The box L-BFGS does not save its curvature memory, so with
            checkpoints it restarts from the best image at each one:
            a resumed run equals an uninterrupted run with the same
            ``checkpoint_every``, bit for bit on the CPU.
        on_checkpoint: receives that state.
        resume: a state from ``on_checkpoint``: continue that run (same
            objective, optimizer and image size) instead of starting afresh.

    Returns:
        A :class:`History`; ``history.best_image`` is a detached copy, and
        ``history.best_loss`` is the objective of that very image.

    Raises:
        ValueError: bad arguments, or a ``resume`` state from another kind of run.

    Example:
        >>> synth_img = torch.rand(1, 3, 8, 8)
        >>> target = torch.full_like(synth_img, 0.5)
        >>> hist = run(lambda x, g: {"mse": ((x - target) ** 2).mean()}, synth_img,
        ...            optimizer="adam", lr=0.1, num_steps=50, progress=False)
        >>> hist.total[-1] < hist.total[0]
        True
    """
    if num_steps < 0:
        raise ValueError(f"num_steps must be >= 0, got {num_steps}")
    if optimizer not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {optimizer!r}; choose one of: {', '.join(OPTIMIZERS)}")
    if checkpoint_every < 0:
        raise ValueError(f"checkpoint_every must be >= 0, got {checkpoint_every}")
    box_lbfgs = optimizer == "lbfgs" and clamp
    if checkpoint_every and optimizer == "lbfgs" and not clamp:
        raise ValueError("checkpoints need clamp=True for L-BFGS (torch's unconstrained L-BFGS keeps "
                         "state it cannot restore); use clamp=True or checkpoint_every=0")
    if clamp:
        with torch.no_grad():
            synth_img.clamp_(0.0, 1.0)  # the start must be feasible too
    synth_img.requires_grad_(True)
    opt = None if box_lbfgs else make_optimizer(optimizer, [synth_img], lr, num_steps)
    stochastic = optimizer == "sgd"
    gen = torch.Generator().manual_seed(seed) if stochastic else None
    can_step_back = optimizer in ("gd", "sgd", "adam")
    hist = History(best_image=synth_img.detach().clone())
    elapsed0 = 0.0
    if resume is not None:
        elapsed0 = _restore(resume, hist, synth_img, opt, gen, optimizer, clamp)
    bar = None
    if progress and num_steps > 0:
        from tqdm.auto import tqdm

        bar = tqdm(total=num_steps, initial=min(hist.steps_done, num_steps), desc=desc or optimizer, leave=False)
    start = time.perf_counter() - elapsed0
    segment_end = num_steps  # L-BFGS-B: where the current checkpoint segment ends

    def record(parts: Mapping[str, torch.Tensor], total: torch.Tensor) -> None:
        values = {k: float(v.detach()) for k, v in parts.items()}
        values["total"] = float(total.detach())
        for k, v in values.items():
            hist.losses.setdefault(k, []).append(v)
        hist.times.append(time.perf_counter() - start)
        step = hist.steps_done = len(hist.times)
        finite = math.isfinite(values["total"])
        # SGD's sampled losses are not comparable step to step: keep its latest
        # finite image (the image itself is finite: updates that break it are undone).
        if finite and (stochastic or values["total"] < hist.best_loss):
            hist.best_loss, hist.best_step = values["total"], step
            hist.best_image = synth_img.detach().clone()
        if bar is not None:
            bar.update(1)
            bar.set_postfix(loss=f"{values['total']:.4g}")
        if not finite:
            if can_step_back and step < num_steps:
                raise _StepBack  # the loop decides: step back, or give up
            hist.diverged = True
            raise _Stop
        if callback is not None:
            callback(StepInfo(step, num_steps, values, synth_img.detach(), hist.times[-1], hist.best_loss))
        if stop is not None and stop.is_set():
            hist.stopped = True
            raise _Stop
        if step >= num_steps:
            raise _Stop  # L-BFGS's line search may ask for more than the budget
        if step >= segment_end:
            raise _SegmentEnd

    def evaluate(generator=None) -> tuple[dict[str, torch.Tensor], torch.Tensor]:
        parts = dict(objective(synth_img, generator))
        if not parts:
            raise ValueError("the objective returned no loss terms; give some term a positive weight")
        return parts, sum(parts.values())

    def closure():
        synth_img.grad = None  # the image is the only parameter: this is zero_grad
        parts, total = evaluate(gen)
        total.backward()
        # Bookkeeping sees the image this loss belongs to (before any update).
        record(parts, total)
        return total

    def checkpoint(image: torch.Tensor) -> None:
        if on_checkpoint is not None:
            on_checkpoint(_state(hist, image, opt, gen, optimizer, time.perf_counter() - start))

    # Big activations re-use the pages the last step freed (see keep_freed_memory).
    with keep_freed_memory(synth_img.device.type == "cpu"):
        try:
            if num_steps == 0 or hist.steps_done >= num_steps:
                pass
            elif box_lbfgs:
                while True:
                    if checkpoint_every:
                        segment_end = min(num_steps, (hist.steps_done // checkpoint_every + 1) * checkpoint_every)
                    try:
                        _lbfgsb(closure, synth_img, segment_end - hist.steps_done)
                        break  # it stopped by itself (a failed line search, or a stationary point): the run ends
                    except _SegmentEnd:
                        # Restart from the best image: the state a checkpoint can hold.
                        with torch.no_grad():
                            synth_img.copy_(hist.best_image)
                        checkpoint(hist.best_image)
            elif optimizer == "lbfgs":
                opt.step(closure)  # evaluates up to num_steps times, then stops
            else:
                good = None  # the last image whose loss was finite, with the state before its update
                while hist.steps_done < num_steps:
                    before = _snapshot(synth_img, opt)
                    try:
                        opt.step(closure)  # evaluates the image (raises _StepBack if J is not finite), updates it
                        if clamp:
                            with torch.no_grad():
                                synth_img.clamp_(0.0, 1.0)
                        good = before
                        if not bool(torch.isfinite(synth_img).all()):
                            raise _StepBack  # a finite loss with a non-finite gradient broke the image
                        if checkpoint_every and hist.steps_done % checkpoint_every == 0:
                            checkpoint(synth_img)
                    except _StepBack:
                        if good is None or hist.lr_cuts >= MAX_LR_CUTS:
                            hist.diverged = True
                            break
                        # Back to the last good image and the optimiser's state before
                        # its update, to redo that update at half the rate.
                        _restore_snapshot(good, synth_img, opt)
                        hist.lr_cuts += 1
                        for group in opt.param_groups:
                            if group["lr"] is not None:
                                group["lr"] *= 0.5
        except _Stop:
            pass
        except KeyboardInterrupt:
            hist.interrupted = True
        finally:
            if bar is not None:
                bar.close()
            synth_img.requires_grad_(False)
            synth_img.grad = None
            if opt is not None:
                hist.lr = opt.param_groups[0]["lr"]
            synth_img.copy_(hist.best_image)
    if (stochastic and hist.steps_done) or num_steps == 0 or not math.isfinite(hist.best_loss):
        # SGD's sampled losses describe crops, and a run of no steps saw no
        # loss: report the objective of the image returned.
        with torch.no_grad():
            hist.best_loss = float(evaluate(None)[1])
    return hist


def _snapshot(synth_img: torch.Tensor, opt) -> tuple[torch.Tensor, dict]:
    """A copy of the image and the optimiser's state, to step back to."""
    return synth_img.detach().clone(), copy.deepcopy(opt.state_dict())


def _restore_snapshot(snap, synth_img: torch.Tensor, opt) -> None:
    image, state = snap
    with torch.no_grad():
        synth_img.copy_(image)
    # Keep the current (possibly already cut) rates: only the moments go back.
    lrs = [g["lr"] for g in opt.param_groups]
    opt.load_state_dict(copy.deepcopy(state))
    for g, lr in zip(opt.param_groups, lrs):
        g["lr"] = lr


_STATE_VERSION = 1


def _state(hist: History, image: torch.Tensor, opt, gen, optimizer: str, elapsed: float) -> dict:
    """Everything :func:`run` needs to continue: tensors, numbers, lists and strings only."""
    return {
        "version": _STATE_VERSION,
        "optimizer": optimizer,
        "step": hist.steps_done,
        "image": image.detach().cpu().clone(),
        "best_image": hist.best_image.detach().cpu().clone(),
        "best_loss": hist.best_loss,
        "best_step": hist.best_step,
        "losses": {k: list(v) for k, v in hist.losses.items()},
        "times": list(hist.times),
        "lr_cuts": hist.lr_cuts,
        "optimizer_state": None if opt is None else copy.deepcopy(opt.state_dict()),  # not live tensors
        "generator": None if gen is None else gen.get_state(),
        "elapsed": elapsed,
    }


def _restore(state: dict, hist: History, synth_img: torch.Tensor, opt, gen, optimizer: str,
             clamp: bool) -> float:
    """Load a :func:`_state` into a fresh run; returns the seconds it had already run."""
    if not isinstance(state, dict) or state.get("version") != _STATE_VERSION:
        raise ValueError("resume: not a run state saved by this version of styletut.optim.run")
    if state["optimizer"] != optimizer:
        raise ValueError(f"resume: the saved run used optimizer {state['optimizer']!r}, this one {optimizer!r}; "
                         "resume with the same options")
    if tuple(state["image"].shape) != tuple(synth_img.shape):
        raise ValueError(f"resume: the saved image is {tuple(state['image'].shape)}, this run's "
                         f"{tuple(synth_img.shape)}; resume with the same images and size")
    with torch.no_grad():
        synth_img.copy_(state["image"].to(synth_img.device))
    hist.best_image = state["best_image"].to(synth_img.device).clone()
    hist.best_loss, hist.best_step = float(state["best_loss"]), int(state["best_step"])
    hist.losses = {k: list(v) for k, v in state["losses"].items()}
    hist.times = list(state["times"])
    hist.steps_done = hist.resumed_from = int(state["step"])
    hist.lr_cuts = int(state["lr_cuts"])
    if opt is not None:
        opt.load_state_dict(state["optimizer_state"])
    if gen is not None:
        gen.set_state(state["generator"])
    return float(state["elapsed"])


# Which box-constrained L-BFGS runs on which device (see _lbfgsb): the
# projected L-BFGS everywhere. Measured against scipy's L-BFGS-B:
# - on CUDA (benchmarks/bench_gpu.py, H200): 32x faster per step at 512 px
#   and 59x at 1024, same J; scipy copies the image to the host at every
#   evaluation and does its vector work on one CPU core;
# - on the 2-core CPU (bench.py --box-lbfgs, 256 px, coarse to fine, one
#   session): 0.138 against 0.153 s per step, 895 against 982 MiB peak
#   (float32 pairs instead of float64), final content and style scores 1%
#   lower, pastiche's point reached in 0.099 of pastiche's time against
#   0.109; single scale (make bench, 2026-11-26) peaks at 910 / 1351 MiB at
#   256 / 512 px against 1026 / 1595 with scipy.
_BOX_LBFGS = {"cpu": "torch", "cuda": "torch"}


def _lbfgsb(closure: Callable[[], torch.Tensor], synth_img: torch.Tensor, num_steps: int) -> None:
    """Minimise over ``synth_img`` in the box [0, 1]: projected L-BFGS, or scipy's L-BFGS-B.

    Both evaluate only points inside the box and spend at most ``num_steps``
    evaluations; ``_BOX_LBFGS`` says which runs on which device type.
    """
    if _BOX_LBFGS.get(synth_img.device.type, "scipy") == "torch":
        from .box_lbfgs import projected_lbfgs

        projected_lbfgs(closure, synth_img, num_steps, memory=LBFGS_MEMORY, first_step=LBFGS_FIRST_STEP)
    else:
        _scipy_lbfgsb(closure, synth_img, num_steps)


def _scipy_lbfgsb(closure: Callable[[], torch.Tensor], synth_img: torch.Tensor, num_steps: int) -> None:
    """Minimise over ``synth_img`` in the box [0, 1] with scipy's L-BFGS-B.

    scipy works on a float64 vector; each evaluation copies it into the image,
    runs ``closure`` (forward, backward, bookkeeping) and hands back the loss
    and gradient. The bounds are part of the algorithm (projected gradient,
    generalised Cauchy point, a line search that stays in the box), so the
    curvature pairs describe the constrained problem, and no point outside
    [0, 1] is ever evaluated. ``closure`` raises ``_Stop`` at the budget.
    """
    import numpy as np
    from scipy.optimize import Bounds, minimize

    shape, dtype, device = synth_img.shape, synth_img.dtype, synth_img.device

    scale = []

    def fun(v: np.ndarray):
        with torch.no_grad():
            synth_img.copy_(torch.from_numpy(v).view(shape).to(device=device, dtype=dtype))
        loss = closure()
        grad = synth_img.grad.detach()
        if not scale:  # the first evaluation sets the scale for the whole run
            g = float(grad.abs().max())
            scale.append(LBFGS_FIRST_STEP / g if math.isfinite(g) and g > 0 else 1.0)
        return float(loss.detach()) * scale[0], (grad.double() * scale[0]).cpu().numpy().ravel()

    x0 = synth_img.detach().double().cpu().numpy().ravel()
    # scipy sees J scaled by a constant c (same minimiser, same later steps:
    # L-BFGS rescales its curvature model from the pairs it collects). Only
    # the first step depends on c: with no curvature yet, L-BFGS-B's first
    # trial point is x - c * grad J clipped to the box. With c = 1 that sends
    # almost every pixel to 0 or 1, and the line search spends several VGG19
    # passes backing off (measured: 3-4 passes at 512 px, at the start of every
    # pyramid level). With c = LBFGS_FIRST_STEP / max|grad J| no pixel moves
    # more than LBFGS_FIRST_STEP on the first trial, and the loss falls from the first step.
    # ftol = gtol = 0: spend the whole budget (the stop is ours, by evaluations).
    with _one_blas_thread():
        minimize(fun, x0, jac=True, method="L-BFGS-B", bounds=Bounds(0.0, 1.0),
                 options={"maxfun": num_steps + 1, "maxiter": num_steps + 1, "maxcor": LBFGS_MEMORY,
                          "ftol": 0.0, "gtol": 0.0})


def _one_blas_thread():
    """Limit numpy's and scipy's BLAS (not torch's) to one thread while L-BFGS-B runs.

    Why: after each call OpenBLAS's worker threads spin, waiting for more work,
    and on a small CPU they take cores from torch's next VGG19 pass. Measured
    on 2 cores at 256 px: 0.52 s per step with two BLAS threads, 0.44 s with
    one (the network alone: 0.37 s). L-BFGS-B's own vector work is too small
    to gain from threads.
    """
    from threadpoolctl import ThreadpoolController

    controller = ThreadpoolController()
    torch_dir = os.path.realpath(os.path.dirname(torch.__file__))
    theirs = [lib.filepath for lib in controller.lib_controllers
              if lib.user_api == "blas" and not os.path.realpath(lib.filepath).startswith(torch_dir)]
    return controller.select(filepath=theirs).limit(limits=1)
