"""stylize(): options, validation, and a short real run that transfers style."""

import re

import pytest
import torch

from styletut.features import VGG19Features
from styletut.data import procedural, sample
from styletut.losses import DEFAULT_STYLE_NORM, content_loss
from styletut.optim import StopFlag
from styletut.pyramid import split_steps
from styletut.transfer import DEFAULT_STYLE_WEIGHT, StyleObjective, StylizeOptions, stylize


def test_unknown_option_lists_valid_ones():
    with pytest.raises(TypeError) as err:
        stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), stlye_weight=3)
    assert "'stlye_weight'" in str(err.value) and "style_weight" in str(err.value) and "num_steps" in str(err.value)


@pytest.mark.parametrize("kwargs,match", [
    ({"style_layers": ("relu1_1", "relu9_9")}, r"relu9_9.*list_layers\(\).*conv1_1"),
    ({"content_layers": "conv4_3x"}, "conv4_3x"),
    ({"optimizer": "rmsprop"}, "lbfgs"),
    ({"init": "zeros"}, "content, noise, style"),
    ({"style_layers": (), "style_weight": 1.0}, "tick at least one style layer"),
    ({"content_weight": 0, "style_weight": 0, "tv_weight": 0}, "all loss weights are zero"),
    ({"style_layer_weights": (1.0, 2.0)}, "one weight per layer"),
    ({"size": 4}, "at least 16"),
    ({"device": "tpu"}, "auto"),
    ({"lr": -0.1}, "positive"),
    ({"num_steps": -1}, "non-negative"),
])
def test_bad_options_give_clear_errors(kwargs, match):
    with pytest.raises(ValueError, match=match):
        StylizeOptions.from_kwargs(**kwargs)


def test_as_call_reproduces_options():
    opts = StylizeOptions(num_steps=7, style_weight=3.0, style_layers=("relu1_1",), optimizer="adam")
    call = opts.as_call("c", "s")
    assert call.startswith("stylize(c, s, ") and "num_steps=7" in call and "size=" not in call
    captured = {}
    eval(call, {"stylize": lambda c, s, **kw: captured.update(kw), "c": None, "s": None})
    assert StylizeOptions(**captured) == opts


def test_short_run_transfers_style_and_keeps_content():
    content_img = sample("chelsea", size=96)
    style_img = procedural("pointillism", 96, seed=0)
    # A light touch (0.4x the default weight, as the test always used): style
    # must still fall tenfold while the photo stays recognisable.
    beta = 0.4 * DEFAULT_STYLE_WEIGHT[DEFAULT_STYLE_NORM]
    result = stylize(content_img, style_img, size=96, num_steps=40, style_weight=beta, progress=False)
    style = result.history.losses["style"]
    assert min(style) <= 0.1 * style[0], f"style loss only fell from {style[0]:.4g} to {style[-1]:.4g}"
    # Content stays recognisable: far closer to the photo (in relu4_2 features)
    # than a noise image is, and correlated with it pixel for pixel.
    net = VGG19Features(["relu4_2"])
    with torch.no_grad():
        target = net(content_img)["relu4_2"]
        ours = content_loss(net(result.image)["relu4_2"], target).item()
        noise = content_loss(net(torch.rand_like(content_img))["relu4_2"], target).item()
    assert ours < 0.6 * noise, (ours, noise)
    # Layout kept: brightness averaged over 8x8 blocks correlates with the photo's
    # (pixel for pixel the pointillist dots are the style, so blocks, not pixels).
    def blocks(img):
        return torch.nn.functional.avg_pool2d(img.mean(1, keepdim=True), 8).flatten()

    corr = torch.corrcoef(torch.stack([blocks(result.image), blocks(content_img)]))[0, 1]
    assert corr > 0.75, corr
    assert result.image.shape == content_img.shape and 0 <= result.image.min() and result.image.max() <= 1
    assert set(result.timings) == {"setup_s", "optimize_s", "per_step_s"}
    assert not torch.equal(result.image, content_img)


def test_noise_init_is_seeded():
    kw = dict(size=32, num_steps=2, init="noise", progress=False, optimizer="adam")
    a = stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), seed=5, **kw)
    b = stylize(a.content_img, a.style_img, seed=5, **kw)
    c = stylize(a.content_img, a.style_img, seed=6, **kw)
    assert torch.equal(a.image, b.image) and not torch.equal(a.image, c.image)


def test_stop_flag_in_stylize():
    stop = StopFlag()
    result = stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), size=32, num_steps=500, progress=False,
                     optimizer="adam", stop=stop, callback=lambda info: info.step == 2 and stop.set())
    assert result.history.stopped and result.history.steps_done == 2


def test_sgd_objective_uses_random_crops():
    net = VGG19Features(["relu1_1", "relu2_1"])
    content_img, style_img = torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64)
    obj = StyleObjective(net, content_img, style_img, ("relu2_1",), ("relu1_1",), crop_frac=0.5)
    x = content_img.clone()
    full = obj(x)
    assert full["content"].item() == 0.0
    g = torch.Generator().manual_seed(0)
    # a crop of x == content: the crop's content target is the same crop, so still 0
    assert obj(x, g)["content"].item() == pytest.approx(0.0, abs=1e-6)
    y = torch.rand(1, 3, 64, 64, requires_grad=True)
    obj(y, torch.Generator().manual_seed(1))["style"].backward()
    touched = (y.grad.abs().sum(1) > 0).float().mean().item()
    assert 0.15 < touched < 0.5  # only the 32x32 crop (plus no more) receives gradient


def _objective_of(result):
    """The objective stylize optimised, rebuilt from the result's options (independently of the run)."""
    o = result.options
    net = VGG19Features(list(dict.fromkeys(o.content_layers + o.style_layers)))
    return StyleObjective(net, result.content_img, result.style_img, o.content_layers, o.style_layers,
                          o.content_weight, o.beta, o.tv_weight, crop_frac=o.crop_frac, style_norm=o.style_norm)


@pytest.mark.parametrize("optimizer", ["lbfgs", "adam", "gd", "sgd"])
def test_reported_best_loss_is_the_loss_of_the_returned_image(optimizer):
    """Issue #9: the number reported describes the delivered image, for every optimiser."""
    result = stylize(sample("chelsea", size=40), procedural("stained_glass", 40), size=40, num_steps=12,
                     optimizer=optimizer, progress=False)
    img = result.image
    assert 0.0 <= img.min() and img.max() <= 1.0
    with torch.no_grad():
        j = float(sum(_objective_of(result)(img).values()))
    assert result.history.best_loss == pytest.approx(j, rel=1e-4)


@pytest.mark.parametrize("style_norm", ["tutorial", "relative"])
def test_more_lbfgs_steps_never_deliver_a_worse_image(style_norm):
    """Issue #9: J of the returned image does not rise from 10 to 20 to 30 steps (was: clamping made it rise)."""
    content_img, style_img = sample("chelsea", size=40), procedural("swirls", 40)
    delivered = []
    for n in (10, 20, 30):
        result = stylize(content_img, style_img, size=40, num_steps=n, style_norm=style_norm, progress=False)
        with torch.no_grad():
            delivered.append(float(sum(_objective_of(result)(result.image).values())))
    assert delivered[0] >= delivered[1] >= delivered[2], delivered
    assert delivered[2] < delivered[0]


def test_style_norm_option_and_default_weight():
    assert StylizeOptions().style_norm == "relative" and StylizeOptions().style_weight is None
    assert StylizeOptions(style_norm="tutorial").beta == 5.0
    assert StylizeOptions(style_weight=7.0).beta == 7.0
    with pytest.raises(ValueError, match="tutorial, gatys, relative"):
        StylizeOptions(style_norm="paper")
    call = StylizeOptions(style_norm="gatys").as_call()
    assert call == "stylize(content_img, style_img, style_norm='gatys')"


def test_stylize_leaves_the_global_random_state_alone():
    """Regression: stylize reseeded the global RNGs, also from the panel's worker thread."""
    import random

    import numpy as np

    content_img, style_img = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    torch.manual_seed(123)
    np.random.seed(123)
    random.seed(123)
    states = (torch.get_rng_state(), np.random.get_state()[1].copy(), random.getstate())
    stylize(content_img, style_img, size=32, num_steps=2, init="noise", optimizer="sgd", seed=9, progress=False)
    assert torch.equal(torch.get_rng_state(), states[0])
    assert np.array_equal(np.random.get_state()[1], states[1]) and random.getstate() == states[2]


def test_same_seed_and_options_give_the_same_bytes_on_the_cpu():
    content_img, style_img = sample("chelsea", size=40), procedural("waves", 40)
    for optimizer in ("lbfgs", "sgd"):
        a = stylize(content_img, style_img, size=40, num_steps=6, optimizer=optimizer, init="noise",
                    progress=False, device="cpu")
        b = stylize(content_img, style_img, size=40, num_steps=6, optimizer=optimizer, init="noise",
                    progress=False, device="cpu")
        assert a.image.numpy().tobytes() == b.image.numpy().tobytes()


def test_style_layer_weights_are_relative_everywhere():
    """Regression: five 1's gave 5x the default style in stylize (the panel normalised, stylize did not)."""
    content_img, style_img = sample("chelsea", size=32), procedural("swirls", 32)
    kw = dict(size=32, num_steps=0, progress=False)
    default = stylize(content_img, style_img, **kw).history.best_loss
    ones = stylize(content_img, style_img, style_layer_weights=(1, 1, 1, 1, 1), **kw).history.best_loss
    fives = stylize(content_img, style_img, style_layer_weights=(5,) * 5, **kw).history.best_loss
    assert ones == pytest.approx(default, rel=1e-6) and fives == pytest.approx(default, rel=1e-6)
    shallow = stylize(content_img, style_img, style_layer_weights=(4, 0, 0, 0, 0), **kw).history.best_loss
    assert shallow != pytest.approx(default, rel=1e-3)


def test_zero_steps_return_the_initial_image_with_its_loss():
    """Regression: --steps 0 crashed on h.total[0]; stylize must report J of the image it returns."""
    content_img, style_img = sample("chelsea", size=32), procedural("swirls", 32)
    result = stylize(content_img, style_img, size=32, num_steps=0, progress=False)
    assert torch.equal(result.image, result.content_img) and result.history.steps_done == 0
    with torch.no_grad():
        j = float(sum(_objective_of(result)(result.image).values()))
    assert result.history.best_loss == pytest.approx(j, rel=1e-5)


def test_a_nan_mid_run_keeps_the_best_finite_image(monkeypatch):
    """Fault: the objective returns NaN from the 4th evaluation on; the run stops with a finite image."""
    calls = []
    real = StyleObjective.__call__

    def poisoned(self, x, generator=None):
        calls.append(1)
        parts = real(self, x, generator)
        return {k: v * float("nan") for k, v in parts.items()} if len(calls) > 3 else parts

    monkeypatch.setattr(StyleObjective, "__call__", poisoned)
    for optimizer in ("lbfgs", "adam"):
        calls.clear()
        r = stylize(sample("chelsea", size=32), procedural("swirls", 32), size=32, num_steps=20,
                    optimizer=optimizer, progress=False)
        assert r.history.diverged and r.history.steps_done < 20
        assert torch.isfinite(r.image).all() and r.history.best_step <= 3
        assert torch.equal(r.image, r.history.best_image.cpu())


def test_ctrl_c_returns_the_best_image_so_far():
    def interrupt(info):
        if info.step == 3:
            raise KeyboardInterrupt

    r = stylize(sample("chelsea", size=32), procedural("swirls", 32), size=32, num_steps=20, optimizer="adam",
                callback=interrupt, progress=False)
    h = r.history
    assert h.interrupted and h.steps_done == 3 and h.best_loss == min(h.total)
    assert torch.equal(r.image, h.best_image.cpu())


def test_checkpointed_stylize_resumes_to_the_same_bytes(tmp_path):
    content_img, style_img = sample("chelsea", size=32), procedural("swirls", 32)
    kw = dict(size=32, num_steps=9, optimizer="adam", progress=False)
    full = stylize(content_img, style_img, checkpoint=tmp_path / "a.ckpt", checkpoint_every=3, **kw)
    stop = StopFlag()
    seen = []
    cut = stylize(content_img, style_img, checkpoint=tmp_path / "b.ckpt", checkpoint_every=3, stop=stop,
                  on_checkpoint=seen.append, callback=lambda i: i.step == 7 and stop.set(), **kw)
    assert cut.history.stopped and len(seen) == 2
    resumed = stylize(content_img, style_img, checkpoint=tmp_path / "b.ckpt", resume=True, **kw)
    assert resumed.history.resumed_from == 6
    assert resumed.image.numpy().tobytes() == full.image.numpy().tobytes()
    # A checkpoint only continues its own run.
    with pytest.raises(ValueError, match=r"other options \(style_weight: saved None, now 1.0\)"):
        stylize(content_img, style_img, checkpoint=tmp_path / "b.ckpt", resume=True, style_weight=1.0, **kw)
    with pytest.raises(ValueError, match="other content or style images"):
        stylize(style_img, content_img, checkpoint=tmp_path / "b.ckpt", resume=True, **kw)
    with pytest.raises(ValueError, match="a checkpoint of an earlier run is at .*b.ckpt"):
        stylize(content_img, style_img, checkpoint=tmp_path / "b.ckpt", checkpoint_every=3, **kw)
    (tmp_path / "c.ckpt").write_bytes((tmp_path / "b.ckpt").read_bytes()[:200])
    with pytest.raises(ValueError, match="c.ckpt' is damaged or not a styletut checkpoint"):
        stylize(content_img, style_img, checkpoint=tmp_path / "c.ckpt", resume=True, **kw)
    with pytest.raises(FileNotFoundError, match="no checkpoint to resume"):
        stylize(content_img, style_img, checkpoint=tmp_path / "d.ckpt", resume=True, **kw)


def test_a_size_too_big_for_memory_is_refused_before_any_work(monkeypatch):
    from styletut import memory

    monkeypatch.setattr(memory, "available_bytes", lambda device: 2 * 2 ** 30)
    built = []
    monkeypatch.setattr("styletut.transfer.VGG19Features", lambda *a, **k: built.append(1))
    with pytest.raises(ValueError, match=r"needs about [\d.]+ GiB but only 2.0 GiB of RAM is free; try size=(\d+)") as err:
        stylize(torch.rand(1, 3, 64, 64), torch.rand(1, 3, 64, 64), size=2048, progress=False)
    assert not built
    suggested = int(re.search(r"size=(\d+)", str(err.value)).group(1))
    assert 16 < suggested < 2048
    # The suggestion is the largest size that fits (on the lean path, the leaner of the two).
    layers = StylizeOptions().content_layers + StylizeOptions().style_layers
    fits = memory.estimate_bytes((suggested, suggested), (suggested, suggested), layers, lean=True)
    too_big = memory.estimate_bytes((suggested + 8, suggested + 8), (suggested + 8,) * 2, layers, lean=True)
    assert fits <= 0.8 * 2 * 2 ** 30 < too_big


def test_the_lean_path_is_picked_when_only_it_fits(monkeypatch):
    from styletut import memory

    opts = StylizeOptions(size=1024)
    hw = (683, 1024)
    plain = memory.estimate_bytes(hw, hw, opts.content_layers + opts.style_layers)
    lean = memory.estimate_bytes(hw, hw, opts.content_layers + opts.style_layers, lean=True)
    assert lean < plain
    between = int((plain + lean) / 2 / 0.8)  # free memory where only the lean path fits
    assert memory.check_fits(hw, hw, opts, torch.device("cpu"), available=10 * plain) is False
    assert memory.check_fits(hw, hw, opts, torch.device("cpu"), available=between) is True
    with pytest.raises(ValueError, match="or lean_memory=True \\(--lean-memory\\), which fits"):
        memory.check_fits(hw, hw, StylizeOptions(size=1024, lean_memory=False), torch.device("cpu"),
                          available=between)


def test_the_lean_path_gives_the_same_image():
    """Activation checkpointing recomputes the same numbers: the same image as the plain path."""
    content_img, style_img = sample("chelsea", size=48), procedural("swirls", 48)
    kw = dict(size=48, num_steps=5, progress=False)
    plain = stylize(content_img, style_img, lean_memory=False, **kw)
    lean = stylize(content_img, style_img, lean_memory=True, **kw)
    assert lean.lean_memory and not plain.lean_memory
    torch.testing.assert_close(lean.image, plain.image, rtol=0, atol=1e-5)


def test_coarse_to_fine_returns_the_requested_size_and_lowers_the_full_size_objective():
    content_img, style_img = sample("chelsea", size=256), procedural("stained_glass", 256)
    result = stylize(content_img, style_img, size=256, num_steps=30, levels=3, progress=False)
    assert result.image.shape == result.content_img.shape == (1, 3, 170, 256)
    assert [hw for hw, _ in result.levels] == [(42, 64), (85, 128), (170, 256)]
    assert [n for _, n in result.levels] == split_steps(30, 3) and result.history.steps_done == 30
    objective = _objective_of(result)
    with torch.no_grad():
        start = float(sum(objective(result.content_img).values()))
        end = float(sum(objective(result.image).values()))
    assert end < 0.8 * start, (start, end)  # measured: 0.48 after 16 + 8 + 6 steps
    assert result.history.best_loss == pytest.approx(end, rel=1e-4)


def test_coarse_to_fine_by_default_only_from_the_threshold_up():
    from styletut.options import MIN_LEVEL_SIZE, MULTISCALE_FROM, MULTISCALE_LEVELS
    from styletut.pyramid import level_count

    def auto(side):
        return level_count(side, None, MULTISCALE_FROM, MULTISCALE_LEVELS, MIN_LEVEL_SIZE)

    assert auto(MULTISCALE_FROM - 1) == 1
    assert [auto(s) for s in (512, 1000, 1024, 2048)] == [4, 4, 5, 6]  # the smallest level 64..127 px
    assert level_count(200, 5, MULTISCALE_FROM, 3, 64) == 2  # no level under 64 px


def test_a_finer_level_starts_from_the_upsampled_result_plus_the_lost_band():
    from styletut.transfer import _next_level_start

    g = torch.Generator().manual_seed(0)
    result = torch.rand(1, 3, 8, 12, generator=g)
    start, start_prev = torch.rand(1, 3, 16, 24, generator=g), torch.rand(1, 3, 8, 12, generator=g)
    got = _next_level_start(result.clone(), start, start_prev)
    # Written out: bilinear upsampling is linear, so up(result) + start - up(start_prev) = up(result - start_prev) + start.
    up = torch.nn.functional.interpolate(result - start_prev, size=(16, 24), mode="bilinear", align_corners=False)
    torch.testing.assert_close(got, (up + start).clamp(0, 1))
    # If the coarse result is the coarse start, nothing changed there: the level starts at its own start.
    torch.testing.assert_close(_next_level_start(start_prev.clone(), start, start_prev), start)


def test_the_second_level_starts_from_the_first_levels_best_image_plus_the_band():
    from styletut import images
    from styletut.transfer import _next_level_start

    seen = []  # (level size, image evaluated, its loss), in order
    result = stylize(sample("chelsea", size=128), procedural("swirls", 128), size=128, num_steps=10, levels=2,
                     progress=False,
                     callback=lambda i: seen.append((tuple(i.image.shape[-2:]), i.image.clone(), i.losses["total"])))
    coarse = [(img, j) for hw, img, j in seen if hw == (42, 64)]
    fine = [img for hw, img, _ in seen if hw == (85, 128)]
    best_coarse = min(coarse, key=lambda t: t[1])[0]
    content_fine = result.content_img
    content_coarse = images.resize(content_fine, (42, 64))
    assert not torch.equal(best_coarse, content_coarse)  # the coarse level did change its image
    expected = _next_level_start(best_coarse, content_fine, content_coarse)
    torch.testing.assert_close(fine[0], expected)


@pytest.mark.parametrize("init,banded", [("content", True), ("style", True), ("noise", False)])
def test_only_content_and_style_starts_get_the_band(init, banded, monkeypatch):
    # Fresh noise is drawn at each size, so its band would be unrelated noise:
    # a noise run's finer level starts from the coarser result upsampled alone.
    from styletut import transfer

    calls = []
    real = transfer._next_level_start
    monkeypatch.setattr(transfer, "_next_level_start", lambda *a: calls.append(1) or real(*a))
    result = stylize(sample("chelsea", size=128), procedural("swirls", 128), size=128, num_steps=4, levels=2,
                     init=init, progress=False)
    assert result.image.shape[-2:] == (85, 128) and result.history.steps_done == 4
    assert len(calls) == (1 if banded else 0)


def test_a_stop_at_a_coarse_level_still_delivers_the_requested_size():
    stop = StopFlag()
    result = stylize(sample("chelsea", size=128), procedural("swirls", 128), size=128, num_steps=30, levels=3,
                     stop=stop, callback=lambda info: info.step == 3 and stop.set(), progress=False)
    assert result.history.stopped and result.image.shape[-2:] == (85, 128)
    with torch.no_grad():
        j = float(sum(_objective_of(result)(result.image).values()))
    assert result.history.best_loss == pytest.approx(j, rel=1e-4)


def test_a_multiscale_run_resumes_to_the_same_bytes(tmp_path):
    content_img, style_img = sample("chelsea", size=128), procedural("swirls", 128)
    kw = dict(size=128, num_steps=20, levels=2, optimizer="adam", progress=False)
    first = split_steps(20, 2)[0]
    full = stylize(content_img, style_img, checkpoint=tmp_path / "a.ckpt", checkpoint_every=2, **kw)
    assert [hw for hw, _ in full.levels] == [(42, 64), (85, 128)]
    stop = StopFlag()
    stylize(content_img, style_img, checkpoint=tmp_path / "b.ckpt", checkpoint_every=2, stop=stop,
            callback=lambda i: i.step == first + 3 and stop.set(), **kw)  # in the second level, after its step 2
    resumed = stylize(content_img, style_img, checkpoint=tmp_path / "b.ckpt", resume=True, **kw)
    assert resumed.history.resumed_from == first + 2 and [hw for hw, _ in resumed.levels] == [(85, 128)]
    assert resumed.image.numpy().tobytes() == full.image.numpy().tobytes()


def test_lbfgs_checkpoints_must_be_far_enough_apart(tmp_path):
    with pytest.raises(ValueError, match="checkpoint every 20 steps or more"):
        stylize(torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), size=32, num_steps=5, progress=False,
                checkpoint=tmp_path / "x.ckpt", checkpoint_every=5)
    assert not (tmp_path / "x.ckpt").exists()
