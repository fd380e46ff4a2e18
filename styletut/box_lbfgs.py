"""L-BFGS inside a box, on the tensor's own device: the GPU path of ``optim.run``.

scipy's L-BFGS-B (what ``optim.run`` uses on the CPU) works on a float64
NumPy vector, so on a GPU every evaluation copies the image to the host and
back and the Fortran routine does its vector work on one CPU core; at 512 px
and up that costs more than VGG19's whole forward and backward pass on the
GPU. This module keeps everything on the device.

The method is *projected* L-BFGS (Bertsekas 1982, "Projected Newton methods
for optimization problems with simple constraints"; Kim, Sra & Dhillon 2010):

1. Pixels sitting on a bound whose gradient pushes them outwards are
   *active*: they stay where they are this step.
2. The other (*free*) pixels get the L-BFGS direction, from the two-loop
   recursion over the last ``memory`` curvature pairs (Nocedal 1980).
3. A line search along the *projected* path ``clip(x + t d, lower, upper)``
   from ``t = 1``: shorter (to the minimum of a fitted parabola) until the
   decrease is sufficient (Armijo's rule, measured on the step actually
   taken), or, when the full step is accepted but the slope is still steep
   at its end, longer (doubling, while ``J`` keeps falling).

Every point evaluated lies in the box, as with L-BFGS-B. It is simpler than
L-BFGS-B (no generalised Cauchy point, no subspace minimisation), which is
why ``optim.run`` keeps scipy's proven code where the copies are cheap.

Introduced in notebooks/09_what_does_it_cost.ipynb
"""

from __future__ import annotations

from collections import deque
from typing import Callable

import torch

__all__ = ["projected_lbfgs"]

# Armijo's constant: accept a step that achieves this fraction of the decrease
# the gradient predicts for it (the usual textbook value).
_ARMIJO = 1e-4
# Wolfe's curvature constant: a full step after which the slope along it is
# still more than this fraction of the starting slope was too short.
_CURVATURE = 0.9
# The longest step tried, as a multiple of the L-BFGS step (doubling from 1).
_MAX_STRETCH = 8.0
# Shortenings of the step (each to 0.1-0.5 of the last) before the line search gives up on a direction.
_MAX_BACKTRACKS = 12


def projected_lbfgs(closure: Callable[[], torch.Tensor], x: torch.Tensor, max_evals: int, *,
                    lower: float = 0.0, upper: float = 1.0, memory: int = 20,
                    first_step: float = 0.05) -> int:
    """Minimise ``J(x)`` over the box ``lower <= x <= upper``, updating ``x`` in place.

    Args:
        closure: evaluates ``J`` at the current ``x``, fills ``x.grad`` (by
            ``backward``) and returns ``J`` as a scalar tensor. It may raise
            to stop the run (``optim.run``'s budget does); ``x`` then holds
            the point just evaluated.
        x: the variables, any shape, ``requires_grad=True``; the start is
            clipped into the box.
        max_evals: evaluations of ``closure`` to spend at most.
        lower, upper: the box.
        memory: curvature pairs ``(s, y)`` kept (L-BFGS's ``m``).
        first_step: the first trial moves no variable further than this
            (with no curvature yet, the gradient says nothing about scale).

    Returns:
        The evaluations spent. ``x`` ends at the last accepted point (the
        lowest ``J`` seen); it stops early at a point where no free variable
        has a gradient, or when a line search finds no decrease.

    Example:
        >>> x = torch.zeros(4, requires_grad=True)
        >>> target = torch.tensor([-1.0, 0.25, 0.5, 2.0])
        >>> def closure():
        ...     x.grad = None
        ...     loss = ((x - target) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = projected_lbfgs(closure, x, 30)
        >>> [round(v, 4) for v in x.tolist()]  # the target, clipped to [0, 1]
        [0.0, 0.25, 0.5, 1.0]
    """
    if max_evals <= 0:
        return 0
    with torch.no_grad():
        x.clamp_(lower, upper)
    pairs: deque[tuple[torch.Tensor, torch.Tensor, float]] = deque(maxlen=memory)
    evals = 0

    def evaluate() -> tuple[float, torch.Tensor]:
        nonlocal evals
        evals += 1
        f = float(closure().detach())
        return f, x.grad.detach().reshape(-1).clone()

    def trial(x0: torch.Tensor, d: torch.Tensor, t: float) -> tuple[float, torch.Tensor, torch.Tensor]:
        """Evaluate at clip(x0 + t d): J, its gradient, and the step actually taken."""
        with torch.no_grad():
            x.view(-1).copy_(torch.clamp(x0 + t * d, lower, upper))
        f, g = evaluate()
        return f, g, x.detach().reshape(-1) - x0

    f, g = evaluate()
    while evals < max_evals:
        xv = x.detach().reshape(-1)
        # Active: on a bound, and the gradient points out of the box.
        active = ((xv <= lower) & (g > 0)) | ((xv >= upper) & (g < 0))
        g_free = g.masked_fill(active, 0.0)
        g_max = float(g_free.abs().max())
        if not g_max > 0:  # a stationary point of the box problem (or a NaN gradient)
            break
        if pairs:
            d = -_two_loop(g_free, pairs).masked_fill_(active, 0.0)
        else:  # no curvature yet: a scaled gradient step, the largest move first_step
            d = g_free * (-first_step / g_max)
        x0, f0, g0 = xv.clone(), f, g
        t, accepted = 1.0, False
        for _ in range(_MAX_BACKTRACKS):
            f, g, step = trial(x0, d, t)
            predicted = float(torch.dot(g0, step))  # <= 0: d is a descent direction on the free set
            if f == f and f <= f0 + _ARMIJO * predicted:  # f == f: not NaN
                accepted = True
                stretch = t == 1.0  # a step already shortened was too long, not too short
                while (stretch and t < _MAX_STRETCH and evals < max_evals
                       and float(torch.dot(g, step)) < _CURVATURE * predicted):
                    # Still going steeply downhill at the end of a full step: the curvature
                    # model (measured at earlier points) was too cautious. Try twice as far,
                    # and keep the longer step only if it is lower (Wolfe's second condition
                    # asks for this flattening; L-BFGS-B's line search extrapolates likewise).
                    kept = (f, g, step)
                    t *= 2.0
                    f, g, step = trial(x0, d, t)
                    if not (f == f and f < kept[0]):
                        f, g, step = kept
                        with torch.no_grad():  # back to the shorter step's point, bit for bit
                            x.view(-1).copy_(torch.clamp(x0 + (t / 2.0) * d, lower, upper))
                        break
                    predicted = float(torch.dot(g0, step))
                break
            if evals >= max_evals:
                break
            t = _shorter_step(t, f0, f, predicted)
        if not accepted:
            with torch.no_grad():
                x.view(-1).copy_(x0)  # back to the last accepted point
            f, g = f0, g0
            if not pairs:
                break  # even a small gradient step failed: nothing left to try
            pairs.clear()  # forget curvature that led nowhere; retry from the gradient
            continue
        s, y = step, g - g0
        sy = float(torch.dot(s, y))
        # Keep the pair only if it describes positive curvature (J convex along s);
        # otherwise the inverse-Hessian model would stop being positive definite.
        if sy > 1e-10 * float(torch.dot(y, y)):
            pairs.append((s, y, 1.0 / sy))
    return evals


def _shorter_step(t: float, f0: float, f: float, predicted: float) -> float:
    """The next, shorter trial after ``t`` failed: the minimum of the parabola through what was seen.

    Along the step, J ≈ f0 + predicted·(τ/t) + c·(τ/t)² with c fitted so that
    τ = t gives the ``f`` measured; its minimum is at τ = t · predicted / (2 (predicted − (f − f0))).
    A trial that overshot badly (J many times larger) is cut back in one go
    instead of by several halvings, each of which costs a VGG19 pass. Kept in
    [0.1 t, 0.5 t] so that it always shrinks, and never collapses; a NaN
    trial is simply halved.
    """
    rise = f - f0 - predicted  # the curvature term c, > 0 when Armijo failed with predicted <= 0
    if not (f == f and rise > 0 and predicted < 0):
        return 0.5 * t
    return t * min(0.5, max(0.1, -predicted / (2.0 * rise)))


def _two_loop(q: torch.Tensor, pairs) -> torch.Tensor:
    """``H q`` for L-BFGS's inverse-Hessian model ``H`` (Nocedal & Wright, Algorithm 7.4)."""
    q = q.clone()
    alphas = []
    for s, y, rho in reversed(pairs):
        a = rho * float(torch.dot(s, q))
        q.add_(y, alpha=-a)
        alphas.append(a)
    s, y, rho = pairs[-1]
    q.mul_(1.0 / (rho * float(torch.dot(y, y))))  # H0 = (s.y / y.y) I
    for (s, y, rho), a in zip(pairs, reversed(alphas)):
        b = rho * float(torch.dot(y, q))
        q.add_(s, alpha=a - b)
    return q
