"""The optimisation loop: GD by hand, SGD's noise, stop flag, best image."""

import io
import math

import pytest
import torch
from torch.testing import assert_close

from styletut.optim import LBFGS_FIRST_STEP, MAX_LR_CUTS, GradientDescent, StopFlag, auto_lr, make_optimizer, run


def _quadratic(target):
    return lambda x, g: {"mse": ((x - target) ** 2).sum()}


def test_gradient_descent_is_theta_minus_lr_grad():
    theta = torch.tensor([1.0, -2.0, 3.0], requires_grad=True)
    (theta ** 2).sum().backward()  # grad = 2 theta
    expected = theta.detach() - 0.1 * 2 * theta.detach()
    GradientDescent([theta], lr=0.1).step()
    assert_close(theta.detach(), expected)


def test_gd_converges_on_quadratic_at_known_rate():
    # J = sum (x - t)^2, grad 2(x - t): each step shrinks the error by (1 - 2 lr).
    target = torch.full((1, 3, 4, 4), 0.5)
    x = torch.zeros(1, 3, 4, 4)
    hist = run(_quadratic(target), x, "gd", lr=0.1, num_steps=5, progress=False)
    assert_close(hist.total[1] / hist.total[0], (1 - 0.2) ** 2)
    # x ends as the best image: the one evaluated at step 5, after 4 updates
    assert_close(x, target - 0.5 * 0.8 ** 4)


@pytest.mark.parametrize("opt,lr", [("gd", 0.2), ("adam", 0.05), ("lbfgs", 1.0), ("sgd", 0.2)])
def test_every_optimizer_lowers_the_loss(opt, lr):
    target = torch.rand(1, 3, 6, 6)
    x = torch.zeros(1, 3, 6, 6)
    hist = run(_quadratic(target), x, opt, lr=lr, num_steps=40, progress=False)
    assert hist.total[-1] < 0.05 * hist.total[0]
    assert len(hist.times) == hist.steps_done
    # L-BFGS solves a quadratic exactly in a few evaluations and stops there.
    assert hist.steps_done == 40 or (opt == "lbfgs" and hist.total[-1] < 1e-8)


def test_sgd_gradient_is_stochastic_and_seeded():
    """For "sgd" the objective gets a seeded generator: the source of xi."""
    draws = []

    def objective(x, g):
        if g is None:  # the full objective: run() reports it for the image returned
            return {"mse": ((x - 1) ** 2).sum()}
        mask = (torch.rand(x.shape, generator=g) < 0.5).float()  # xi: a random half of the pixels
        draws[-1].append(mask)
        return {"mse": ((x - 1) ** 2 * mask).sum()}

    for seed in (0, 0, 1):
        draws.append([])
        run(objective, torch.zeros(1, 1, 4, 4), "sgd", lr=0.1, num_steps=3, seed=seed, progress=False)
    a, b, c = draws
    assert all(torch.equal(p, q) for p, q in zip(a, b))  # same seed, same xi
    assert not torch.equal(a[0], a[1])  # a fresh xi every step
    assert not all(torch.equal(p, q) for p, q in zip(a, c))
    full = []
    run(lambda x, g: full.append(g) or {"l": x.sum()}, torch.zeros(1, 1, 2, 2), "gd", lr=0.1, num_steps=2, progress=False)
    assert full == [None, None]  # full-batch optimisers get no xi


def test_stop_flag_stops_within_a_step():
    stop = StopFlag()
    seen = []

    def callback(info):
        seen.append(info.step)
        if info.step == 3:
            stop.set()

    hist = run(_quadratic(torch.ones(1, 3, 4, 4)), torch.zeros(1, 3, 4, 4), "adam", lr=0.01,
               num_steps=1000, callback=callback, stop=stop, progress=False)
    assert hist.stopped and hist.steps_done == 3 and seen == [1, 2, 3]


def test_interrupt_keeps_best_image():
    target = torch.ones(1, 3, 4, 4)
    calls = {"n": 0}

    def objective(x, g):
        calls["n"] += 1
        if calls["n"] == 6:
            raise KeyboardInterrupt
        return {"mse": ((x - target) ** 2).sum()}

    x = torch.zeros(1, 3, 4, 4)
    hist = run(objective, x, "gd", lr=0.1, num_steps=100, progress=False)
    assert hist.interrupted and hist.steps_done == 5
    assert hist.best_step == 5 and hist.best_loss == min(hist.total)
    assert ((hist.best_image - target) ** 2).sum().item() == pytest.approx(hist.best_loss)


def test_a_rate_that_overflows_is_halved_and_the_run_recovers():
    # |1 - 2 lr| = 2 > 1: GD grows the error until the loss overflows to inf;
    # stepping back to the last finite image at half the rate (|1 - 2 lr| = 0.5) converges.
    x = torch.zeros(1, 1, 3, 3)
    hist = run(_quadratic(torch.ones(1, 1, 3, 3)), x, "gd", lr=1.5, num_steps=300, clamp=False, progress=False)
    assert hist.lr_cuts == 1 and hist.lr == pytest.approx(0.75) and not hist.diverged
    assert any(not math.isfinite(v) for v in hist.total)
    assert hist.best_loss < 1e-6 and torch.isfinite(x).all()
    assert hist.best_loss == pytest.approx(float(((x - 1) ** 2).sum()), abs=1e-9)

def test_clamp_keeps_pixels_in_range():
    x = torch.full((1, 3, 4, 4), 0.5)
    run(lambda x, g: {"push": -x.sum()}, x, "gd", lr=10.0, num_steps=2, progress=False)
    assert x.max().item() == 1.0


def test_bad_optimizer_and_lr():
    with pytest.raises(ValueError, match="gd, sgd, adam, lbfgs"):
        make_optimizer("rmsprop", [torch.zeros(1, requires_grad=True)])
    with pytest.raises(ValueError, match="positive"):
        make_optimizer("gd", [torch.zeros(1, requires_grad=True)], lr=-1)


def test_lbfgs_budget_counts_line_search_evaluations():
    calls = []
    target = torch.rand(1, 3, 8, 8)

    def objective(x, g):
        calls.append(1)
        return {"quartic": ((x - target) ** 4).sum() + (x.sum() - 3) ** 2}

    hist = run(objective, torch.zeros(1, 3, 8, 8), "lbfgs", num_steps=12, progress=False)
    assert len(calls) == hist.steps_done <= 12


# -- the delivered image is the one whose loss is reported (issue #9) --------------

def _outside_box_objective():
    """A quadratic whose unconstrained optimum leaves [0, 1]: the box matters."""
    target = torch.linspace(-0.6, 1.6, 3 * 5 * 5).reshape(1, 3, 5, 5)
    return lambda x, g: {"mse": ((x - target) ** 2).sum(), "l4": ((x - 0.3) ** 4).sum()}


@pytest.mark.parametrize("opt,lr", [("gd", None), ("sgd", None), ("adam", 0.05), ("lbfgs", None)])
def test_reported_best_loss_is_the_objective_of_the_returned_image(opt, lr):
    objective = _outside_box_objective()
    x = torch.full((1, 3, 5, 5), 0.5)
    hist = run(objective, x, opt, lr=lr, num_steps=30, progress=False)
    assert 0.0 <= x.min() and x.max() <= 1.0           # a valid image ...
    assert_close(x, hist.best_image)                     # ... the one returned ...
    j = float(sum(objective(x, None).values()))
    assert hist.best_loss == pytest.approx(j, rel=1e-6)  # ... whose loss is the one reported


def test_box_constrained_lbfgs_reaches_the_box_optimum():
    # Separable quadratic: the box optimum is the target clipped to [0, 1].
    target = torch.linspace(-0.6, 1.6, 48).reshape(1, 3, 4, 4)
    x = torch.full((1, 3, 4, 4), 0.5)
    hist = run(_quadratic(target), x, "lbfgs", num_steps=40, progress=False)
    assert_close(x, target.clamp(0, 1), atol=1e-5, rtol=0)
    assert hist.steps_done <= 40


def test_lbfgs_delivered_loss_never_rises_with_more_steps():
    objective = _outside_box_objective()
    delivered = []
    for n in (5, 10, 20):
        x = torch.full((1, 3, 5, 5), 0.5)
        run(objective, x, "lbfgs", num_steps=n, progress=False)
        delivered.append(float(sum(objective(x, None).values())))
    assert delivered[0] >= delivered[1] >= delivered[2]
    assert delivered[2] < delivered[0]


def test_lbfgs_first_trial_moves_no_pixel_further_than_the_first_step():
    # A steep quadratic: unscaled, L-BFGS-B's first trial would jump every pixel
    # to a bound. Scaled, the second evaluation is within LBFGS_FIRST_STEP of
    # the start, and already lower.
    target = torch.linspace(0.0, 1.0, 48).reshape(1, 3, 4, 4)

    def steep(x, generator=None):
        return {"fit": 1e6 * ((x - target) ** 2).sum()}

    seen = []
    x = torch.full((1, 3, 4, 4), 0.5)
    run(steep, x, "lbfgs", num_steps=3, progress=False,
        callback=lambda info: seen.append((info.image.clone(), info.losses["total"])))
    (x0, j0), (x1, j1) = seen[0], seen[1]
    assert float((x1 - x0).abs().max()) <= LBFGS_FIRST_STEP + 1e-6
    assert j1 < j0


def test_lbfgs_runs_numpys_blas_on_one_thread_and_gives_the_threads_back():
    # OpenBLAS threads spin after each call and take cores from torch's next pass.
    import os

    from threadpoolctl import threadpool_info

    from styletut.optim import _one_blas_thread

    torch_dir = os.path.realpath(os.path.dirname(torch.__file__))

    def theirs():
        return {i["filepath"]: i["num_threads"] for i in threadpool_info()
                if i["user_api"] == "blas" and not os.path.realpath(i["filepath"]).startswith(torch_dir)}

    import scipy.optimize  # noqa: F401  (loads scipy's BLAS)

    before = theirs()
    with _one_blas_thread():
        assert all(n == 1 for n in theirs().values())
    assert theirs() == before


def test_unconstrained_lbfgs_is_not_clamped():
    target = torch.full((1, 3, 4, 4), 1.5)
    x = torch.full((1, 3, 4, 4), 0.5)
    run(_quadratic(target), x, "lbfgs", num_steps=20, clamp=False, progress=False)
    assert_close(x, target)  # went straight to the unconstrained optimum, outside [0, 1]


def test_auto_lr_moves_pixels_by_the_target_rms():
    grad = torch.tensor([[0.0, 3.0], [4.0, 0.0]])  # rms over the nonzero entries: sqrt(12.5)
    assert auto_lr(grad) == pytest.approx(0.01 / math.sqrt(12.5))
    assert auto_lr(torch.zeros(3)) == 0.01


def test_gd_without_lr_uses_auto_lr_of_the_first_gradient():
    target = torch.rand(1, 3, 6, 6, generator=torch.Generator().manual_seed(1))
    x0 = torch.zeros(1, 3, 6, 6)
    expected = auto_lr(2 * (x0 - target))  # gradient of sum (x - t)^2
    x = x0.clone()
    hist = run(_quadratic(target), x, "gd", num_steps=3, progress=False)
    assert hist.lr == pytest.approx(expected)
    step1 = x0 - expected * 2 * (x0 - target)
    # rms pixel change of the first step is AUTO_LR_STEP
    assert (step1 - x0).pow(2).mean().sqrt().item() == pytest.approx(0.01, rel=1e-4)


def test_sgd_steps_back_with_half_the_rate_when_a_step_goes_nan():
    calls = []

    def objective(x, g):
        calls.append(1)
        loss = ((x - 1) ** 2).sum()
        if g is not None and len(calls) == 3:
            loss = loss * float("nan")
        return {"mse": loss}

    x = torch.zeros(1, 1, 3, 3)
    hist = run(objective, x, "sgd", lr=0.1, num_steps=5, progress=False)
    assert not hist.diverged and hist.lr_cuts == 1 and hist.lr == pytest.approx(0.05)
    assert math.isnan(hist.total[2]) and all(math.isfinite(v) for v in hist.total[3:])
    assert torch.isfinite(x).all()
    assert hist.best_loss == pytest.approx(float(((x - 1) ** 2).sum()))


@pytest.mark.parametrize("optimizer", ["gd", "adam", "sgd", "lbfgs"])
def test_a_nan_that_never_goes_away_stops_the_run_with_the_best_finite_image(optimizer):
    calls = []

    def objective(x, g):
        calls.append(1)
        loss = ((x - 0.3) ** 2).sum()
        return {"mse": loss * float("nan") if len(calls) > 3 else loss}

    x = torch.zeros(1, 1, 4, 4)
    hist = run(objective, x, optimizer, lr=0.1, num_steps=50, progress=False)
    assert hist.diverged and hist.steps_done < 50
    # L-BFGS stops at once; the others try MAX_LR_CUTS smaller rates first.
    assert hist.lr_cuts == (0 if optimizer == "lbfgs" else MAX_LR_CUTS)
    assert torch.isfinite(x).all() and hist.best_step <= 3
    assert torch.equal(x, hist.best_image)
    if optimizer != "sgd":  # SGD re-evaluates J on the image returned, which is NaN here by design
        assert math.isfinite(hist.best_loss)


def test_a_finite_loss_with_a_nan_gradient_never_reaches_the_image():
    # Regression: SGD kept "the latest image" as best; a NaN gradient outside the
    # crop left NaN pixels in an image whose sampled loss was finite.
    calls = []

    def objective(x, g):
        calls.append(1)
        y = x + 0
        if len(calls) == 2:
            y.register_hook(lambda grad: grad * float("nan"))
        return {"mse": ((y - 1) ** 2).sum()}

    x = torch.zeros(1, 1, 3, 3)
    hist = run(objective, x, "sgd", lr=0.1, num_steps=6, progress=False)
    assert torch.isfinite(x).all() and torch.isfinite(hist.best_image).all()
    assert hist.lr_cuts == 1 and not hist.diverged
    assert hist.best_loss == pytest.approx(float(((x - 1) ** 2).sum()))


def test_zero_steps_change_nothing_and_report_the_start():
    x = torch.full((1, 1, 3, 3), 0.25)
    hist = run(_quadratic(torch.ones(1, 1, 3, 3)), x, "lbfgs", num_steps=0, progress=False)
    assert hist.steps_done == 0 and hist.total == [] and torch.equal(x, torch.full((1, 1, 3, 3), 0.25))
    assert hist.best_loss == pytest.approx(9 * 0.75 ** 2)


def _bumpy(x, g):
    # Not a quadratic, so L-BFGS keeps working; g (SGD) picks a random half of the pixels.
    t = torch.linspace(0, 1, x.numel()).view_as(x)
    e = (x - t) ** 2 + 0.1 * torch.sin(7 * x) ** 2
    if g is not None:
        e = e * (torch.rand(x.shape, generator=g) < 0.5)
    return {"e": e.sum()}


@pytest.mark.parametrize("optimizer,lr", [("gd", None), ("sgd", None), ("adam", 0.05), ("lbfgs", None)])
def test_a_resumed_run_equals_an_uninterrupted_one(optimizer, lr):
    x0 = torch.rand(1, 3, 5, 5, generator=torch.Generator().manual_seed(3))
    kwargs = dict(lr=lr, num_steps=14, seed=7, progress=False, checkpoint_every=4)
    states = []
    full = run(_bumpy, x0.clone(), optimizer, on_checkpoint=states.append, **kwargs)
    assert [s["step"] for s in states] == [4, 8, 12]
    # The same run, stopped at step 10: its last checkpoint is at step 8 ...
    flag, saved = StopFlag(), []
    cut = run(_bumpy, x0.clone(), optimizer, on_checkpoint=saved.append,
              callback=lambda info: flag.set() if info.step == 10 else None, stop=flag, **kwargs)
    assert cut.stopped and cut.steps_done == 10 and saved[-1]["step"] == 8
    # ... and continuing from there, through a file, gives the same bits.
    buf = io.BytesIO()
    torch.save(saved[-1], buf)
    state = torch.load(io.BytesIO(buf.getvalue()), weights_only=True)
    x = torch.zeros(1, 3, 5, 5)
    resumed = run(_bumpy, x, optimizer, resume=state, **kwargs)
    assert resumed.resumed_from == 8 and resumed.steps_done == 14
    assert torch.equal(resumed.best_image, full.best_image) and torch.equal(x, full.best_image)
    assert resumed.total == full.total and resumed.best_loss == full.best_loss


def test_checkpoints_do_not_change_an_adam_run():
    x0 = torch.rand(1, 3, 5, 5, generator=torch.Generator().manual_seed(3))
    plain = run(_bumpy, x0.clone(), "adam", lr=0.05, num_steps=12, progress=False)
    ckpt = run(_bumpy, x0.clone(), "adam", lr=0.05, num_steps=12, progress=False, checkpoint_every=5,
               on_checkpoint=lambda s: None)
    assert plain.total == ckpt.total and torch.equal(plain.best_image, ckpt.best_image)


def test_resume_refuses_a_state_of_another_run():
    states = []
    run(_bumpy, torch.rand(1, 3, 5, 5), "adam", lr=0.05, num_steps=6, progress=False, checkpoint_every=3,
        on_checkpoint=states.append)
    with pytest.raises(ValueError, match="optimizer 'adam', this one 'gd'"):
        run(_bumpy, torch.rand(1, 3, 5, 5), "gd", num_steps=6, progress=False, resume=states[0])
    with pytest.raises(ValueError, match=r"saved image is \(1, 3, 5, 5\)"):
        run(_bumpy, torch.rand(1, 3, 4, 4), "adam", num_steps=6, progress=False, resume=states[0])
