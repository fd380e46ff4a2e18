"""The generic resumable training loop, styletut.training.fit, on tiny models."""

import pytest
import torch
from torch import nn

from styletut.photos import PhotoCrops
from styletut.training import TrainHistory, fit


def _model(seed=0):
    g = torch.Generator().manual_seed(seed)
    net = nn.Sequential(nn.Conv2d(3, 4, 3, padding=1), nn.ReLU(), nn.Conv2d(4, 3, 1))
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(torch.randn(p.shape, generator=g) * 0.3)
    return net


def _denoise(model, batch):
    """Learn the identity: a loss with a known minimum (0)."""
    return {"mse": (model(batch) - batch).pow(2).mean(), "small": 1e-3 * model[0].weight.pow(2).mean()}


def _stream(seed=0):
    photos = [torch.rand(1, 3, 24, 30, generator=torch.Generator().manual_seed(i)) for i in range(3)]
    return PhotoCrops(photos, crop=16, batch=2, seed=seed)


def test_a_few_steps_lower_the_training_loss_on_a_fixed_batch():
    batch = torch.rand(2, 3, 16, 16, generator=torch.Generator().manual_seed(1))
    hist = fit(_model(), _denoise, iter(lambda: batch, None), 40, lr=1e-2, progress=False)
    assert isinstance(hist, TrainHistory)
    assert hist.steps_done == 40 and len(hist.total) == 40 and set(hist.losses) == {"mse", "small", "total"}
    assert hist.total[-1] < 0.5 * hist.total[0]
    assert hist.total[0] == pytest.approx(hist.losses["mse"][0] + hist.losses["small"][0])
    assert not hist.interrupted and hist.resumed_from == 0 and hist.seconds > 0


def test_frozen_parameters_stay_put():
    model = _model()
    model[0].requires_grad_(False)
    frozen = model[0].weight.clone()
    fit(model, _denoise, _stream(), 5, progress=False)
    assert torch.equal(model[0].weight, frozen)


def test_checkpoint_and_resume_equal_an_uninterrupted_run(tmp_path):
    straight = _model()
    hist_a = fit(straight, _denoise, _stream(), 12, lr=1e-2, checkpoint=tmp_path / "a.pt", checkpoint_every=4,
                 progress=False, meta={"run": "x"})
    first = _model()
    fit(first, _denoise, _stream(), 8, lr=1e-2, checkpoint=tmp_path / "b.pt", checkpoint_every=4,
        progress=False, meta={"run": "x"})
    resumed = _model(seed=9)  # other starting weights: the checkpoint must replace them
    hist_b = fit(resumed, _denoise, _stream(), 12, lr=1e-2, checkpoint=tmp_path / "b.pt", checkpoint_every=4,
                 resume=True, progress=False, meta={"run": "x"})
    assert hist_b.resumed_from == 8 and hist_b.steps_done == 12
    assert hist_b.total == hist_a.total
    for (name, a), b in zip(straight.state_dict().items(), resumed.state_dict().values()):
        assert torch.equal(a, b), name
    saved = torch.load(tmp_path / "b.pt", weights_only=True)
    assert saved["step"] == 12 and saved["batches"]["count"] == 12 and saved["meta"] == {"run": "x"}
    assert not list(tmp_path.glob(".*.tmp"))  # atomic writes leave no temporary file


def test_a_checkpoint_of_another_run_is_refused(tmp_path):
    path = tmp_path / "c.pt"
    fit(_model(), _denoise, _stream(), 3, checkpoint=path, progress=False, meta={"style": "swirls", "lr": 1e-3})
    with pytest.raises(ValueError, match="style") as err:
        fit(_model(), _denoise, _stream(), 6, checkpoint=path, resume=True, progress=False,
            meta={"style": "dots", "lr": 1e-3})
    assert "lr" not in str(err.value).split("differs in")[1].split("(")[0]


def test_resume_without_a_checkpoint_says_how_to_start(tmp_path):
    with pytest.raises(FileNotFoundError, match="resume=False"):
        fit(_model(), _denoise, _stream(), 3, checkpoint=tmp_path / "none.pt", resume=True, progress=False)


def test_ctrl_c_keeps_the_work_in_the_checkpoint(tmp_path):
    path = tmp_path / "k.pt"
    calls = []

    def interrupted_at_step_7(model, batch):
        calls.append(1)
        if len(calls) == 7:
            raise KeyboardInterrupt
        return _denoise(model, batch)

    model = _model()
    hist = fit(model, interrupted_at_step_7, _stream(), 20, lr=1e-2, checkpoint=path, checkpoint_every=5,
               progress=False)
    assert hist.interrupted and hist.steps_done == 6
    saved = torch.load(path, weights_only=True)
    assert saved["step"] == 6  # written on Ctrl-C, not only at step 5
    assert all(torch.equal(saved["model"][k], v) for k, v in model.state_dict().items())
    # ... and the run continues from there.
    again = fit(_model(), _denoise, _stream(), 20, lr=1e-2, checkpoint=path, checkpoint_every=5, resume=True,
                progress=False)
    assert again.resumed_from == 6 and again.steps_done == 20 and not again.interrupted


def test_a_non_finite_loss_stops_with_advice():
    with pytest.raises(ValueError, match="lower lr"):
        fit(_model(), lambda m, b: {"bad": m(b).sum() * float("nan")}, _stream(), 3, progress=False)


def test_bad_arguments_are_refused():
    with pytest.raises(ValueError, match="checkpoint=PATH"):
        fit(_model(), _denoise, _stream(), 3, resume=True, progress=False)
    with pytest.raises(ValueError, match="checkpoint_every"):
        fit(_model(), _denoise, _stream(), 3, checkpoint_every=0, progress=False)
    with pytest.raises(ValueError, match="lr"):
        fit(_model(), _denoise, _stream(), 3, lr=-1.0, progress=False)


def test_docstring_examples_run():
    import doctest

    from styletut import training

    result = doctest.testmod(training, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 3


def test_trend_averages_the_first_and_last_tenth():
    from styletut.training import TrainHistory

    hist = TrainHistory({"total": [10.0] * 10 + [5.0] * 80 + [1.0] * 10, "style": []})
    assert hist.trend() == {"total": (10.0, 1.0), "style": (pytest.approx(float("nan"), nan_ok=True),) * 2}
    assert TrainHistory({"total": [3.0]}).trend() == {"total": (3.0, 3.0)}
