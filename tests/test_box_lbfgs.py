"""styletut.box_lbfgs: projected L-BFGS, checked against scipy's L-BFGS-B and the box's optimality conditions."""

import numpy as np
import pytest
import torch
from scipy.optimize import Bounds, minimize
from torch.testing import assert_close

from styletut import optim
from styletut.box_lbfgs import projected_lbfgs
from styletut.optim import LBFGS_FIRST_STEP, run


def _box_quadratic(n: int, seed: int):
    """J(x) = ½ xᵀQx − bᵀx with an ill-conditioned Q; its box optimum has many pixels on a bound."""
    g = torch.Generator().manual_seed(seed)
    a = torch.randn(n, n, generator=g, dtype=torch.float64)
    q = a @ a.T / n + 1e-2 * torch.eye(n, dtype=torch.float64)
    b = 2 * torch.randn(n, generator=g, dtype=torch.float64)
    return q, b


def _closure_for(j, x, seen=None):
    def closure():
        x.grad = None
        loss = j(x)
        loss.backward()
        if seen is not None:
            seen.append((x.detach().clone(), float(loss.detach())))
        return loss
    return closure


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_reaches_the_box_optimum_scipy_finds(seed):
    q, b = _box_quadratic(60, seed)

    def j(x):
        return 0.5 * x @ q @ x - b @ x

    ref = minimize(lambda v: (float(j(torch.from_numpy(v))), (q @ torch.from_numpy(v) - b).numpy()),
                   np.full(60, 0.5), jac=True, method="L-BFGS-B", bounds=Bounds(0.0, 1.0),
                   options={"maxiter": 10_000, "ftol": 0.0, "gtol": 1e-12})
    x = torch.full((60,), 0.5, dtype=torch.float64, requires_grad=True)
    projected_lbfgs(_closure_for(j, x), x, 500)
    assert_close(x.detach(), torch.from_numpy(ref.x), atol=1e-5, rtol=0)
    # Independently of scipy: the box's optimality (KKT) conditions hold.
    grad = (q @ x.detach() - b)
    free = (x.detach() > 0) & (x.detach() < 1)
    assert float(grad[free].abs().max()) < 1e-6
    assert bool((grad[x.detach() == 0] >= -1e-9).all()) and bool((grad[x.detach() == 1] <= 1e-9).all())
    assert 0 < int((~free).sum()) < 60  # the test means something: some pixels on a bound, some not


def test_every_point_evaluated_is_in_the_box_and_the_budget_holds():
    target = torch.linspace(-2.0, 3.0, 50, dtype=torch.float64)
    x = torch.full((50,), 0.5, dtype=torch.float64, requires_grad=True)
    seen = []
    spent = projected_lbfgs(_closure_for(lambda x: ((x - target) ** 2 * torch.arange(1, 51)).sum(), x, seen),
                            x, 17)
    assert spent == len(seen) <= 17
    assert all(float(p.min()) >= 0.0 and float(p.max()) <= 1.0 for p, _ in seen)


def test_ends_at_the_lowest_point_seen():
    target = torch.linspace(-0.5, 1.5, 40)
    x = torch.full((40,), 0.5, requires_grad=True)
    seen = []
    projected_lbfgs(_closure_for(lambda x: (torch.cos(6 * x) + (x - target) ** 2).sum(), x, seen), x, 25)
    best_x, best_j = min(seen, key=lambda p: p[1])
    assert_close(x.detach(), best_x)


def test_first_trial_moves_no_variable_further_than_first_step():
    target = torch.linspace(0.0, 1.0, 48)
    x = torch.full((48,), 0.5, requires_grad=True)
    seen = []
    projected_lbfgs(_closure_for(lambda x: 1e6 * ((x - target) ** 2).sum(), x, seen), x, 3, first_step=0.05)
    (x0, j0), (x1, j1) = seen[0], seen[1]
    assert float((x1 - x0).abs().max()) <= 0.05 + 1e-6
    assert j1 < j0


def test_a_nan_trial_is_backed_off_never_accepted():
    # J is undefined (NaN) past 0.8: the long steps L-BFGS tries towards the
    # target (1.0) must be cut back, and the run ends at a finite, lower J.
    x = torch.full((10,), 0.2, requires_grad=True)

    def j(x):
        loss = ((x - 1.0) ** 2).sum()
        return torch.where((x > 0.8).any(), torch.full_like(loss, float("nan")), loss)

    seen = []
    projected_lbfgs(_closure_for(j, x, seen), x, 40)
    final = float(j(x.detach()))
    assert any(v != v for _, v in seen)  # NaN was met on the way
    assert final == final and final < seen[0][1]


def test_stops_at_a_stationary_point_without_spending_the_budget():
    x = torch.tensor([0.0, 1.0, 0.0], requires_grad=True)  # the box optimum already
    spent = projected_lbfgs(_closure_for(lambda x: ((x - torch.tensor([-1.0, 2.0, -3.0])) ** 2).sum(), x), x, 50)
    assert spent == 1


@pytest.fixture(params=["torch", "scipy"])
def box_backend(request, monkeypatch):
    """optim.run's box L-BFGS on the CPU: projected_lbfgs (the default) or scipy's L-BFGS-B (the reference)."""
    monkeypatch.setitem(optim._BOX_LBFGS, "cpu", request.param)
    return request.param


def test_the_default_on_every_device_is_the_projected_lbfgs():
    assert optim._BOX_LBFGS == {"cpu": "torch", "cuda": "torch"}


def test_run_uses_it_and_reports_the_delivered_image(box_backend, monkeypatch):
    calls = []
    real = projected_lbfgs

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr("styletut.box_lbfgs.projected_lbfgs", spy)
    target = torch.linspace(-0.6, 1.6, 48).reshape(1, 3, 4, 4)

    def objective(x, generator=None):
        return {"fit": ((x - target) ** 2).sum()}

    x = torch.full((1, 3, 4, 4), 0.5)
    hist = run(objective, x, "lbfgs", num_steps=40, progress=False)
    if box_backend == "torch":
        assert calls and calls[0]["memory"] == optim.LBFGS_MEMORY and calls[0]["first_step"] == LBFGS_FIRST_STEP
    else:
        assert not calls  # scipy's L-BFGS-B ran instead
    assert_close(x, target.clamp(0, 1), atol=1e-5, rtol=0)
    assert hist.best_loss == pytest.approx(float(objective(x)["fit"]), rel=1e-6)


def test_run_resumes_bit_for_bit(box_backend):
    target = torch.linspace(-0.3, 1.2, 75).reshape(1, 3, 5, 5)

    def objective(x, generator=None):
        return {"fit": ((x - target) ** 2 * torch.arange(1, 76).reshape(1, 3, 5, 5)).sum() + torch.sin(9 * x).sum()}

    states = []
    whole = torch.full((1, 3, 5, 5), 0.5)
    run(objective, whole, "lbfgs", num_steps=24, progress=False, checkpoint_every=8,
        on_checkpoint=states.append)
    resumed = torch.full((1, 3, 5, 5), 0.5)
    run(objective, resumed, "lbfgs", num_steps=24, progress=False, checkpoint_every=8, resume=states[0])
    assert torch.equal(whole, resumed)


def test_a_failed_trial_is_shortened_to_the_parabolas_minimum_within_bounds():
    from styletut.box_lbfgs import _shorter_step

    # J(s) = f0 + p s + c s^2 through f(1) = f: c = f - f0 - p, minimum at s = -p / (2c).
    assert _shorter_step(1.0, 0.0, 0.5, -1.0) == pytest.approx(1 / 3)   # c = 1.5: inside [0.1, 0.5]
    assert _shorter_step(2.0, 0.0, 100.0, -1.0) == pytest.approx(0.2)   # a bad overshoot: cut to 0.1 t at once
    assert _shorter_step(1.0, 0.0, -0.9, -1.0) == pytest.approx(0.5)    # nearly linear: at most halve
    assert _shorter_step(1.0, 0.0, float("nan"), -1.0) == 0.5           # no parabola through a NaN: halve


def test_a_full_step_that_is_still_steep_at_its_end_is_stretched():
    # From 0.1 towards a target at 0.9, the first (gradient) step of 0.01 is far
    # too short: the slope at its end is nearly the starting slope, so the
    # line search doubles it (0.02, then 0.04, ...) while J keeps falling.
    x = torch.full((6,), 0.1, dtype=torch.float64, requires_grad=True)
    seen = []
    projected_lbfgs(_closure_for(lambda x: ((x - 0.9) ** 2).sum(), x, seen), x, 4, first_step=0.01)
    moves = [round(float((p - seen[0][0]).abs().max()), 6) for p, _ in seen[1:]]
    assert moves == [0.01, 0.02, 0.04]
    assert seen[1][1] > seen[2][1] > seen[3][1]
