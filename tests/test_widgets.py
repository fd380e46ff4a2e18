"""The control panel (styletut.widgets), driven from Python as a learner's clicks would.

Runs are tiny (32-48 px, shallow layers, a few steps) so the file stays fast
on two CPU cores; the real browser is exercised in test_browser.py.
"""

from __future__ import annotations

import ast
import dataclasses
import datetime as dt
import html
import io
import time
from pathlib import Path

import pytest
import torch
from PIL import Image

from styletut.colour import keep_luminance
from styletut.data import list_procedural, list_samples, procedural, sample
from styletut.features import POOLINGS, WEIGHTS
from styletut.images import load_image, save_image, to_pil
from styletut.losses import STYLE_NORMS
from styletut.names import COLOUR_MODES, MASK_SHAPES, STYLE_STATS
from styletut.optim import DEFAULT_LR, OPTIMIZERS
from styletut.options import INITS, StylizeOptions
from styletut.runtime import DEVICES, resolve_device
from styletut.styles import procedural_param_ranges, procedural_params
from styletut import zoo
from styletut.adain import AdaIN, Decoder
from styletut.fastnet import TransformNet
from styletut.widgets import PanelResult, StylePanel, panel
from styletut.widgets import job as job_module
from styletut.widgets.mapping import LAYER_CHOICES, OPTIMISE, method_choices
from styletut.widgets.render import code_text
from styletut.widgets.settings import OPTIMISATION_NAMES

# Shallow layers keep each step cheap: the extractor stops at relu2_2.
FAST = dict(content_layers=["relu2_2"], style_layers=["relu1_1", "relu2_1"])
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


def _upload_value(name: str, data: bytes, mime: str = "image/png"):
    """What ipywidgets 8's FileUpload holds after a browser upload."""
    return ({"name": name, "type": mime, "size": len(data), "content": memoryview(data),
             "last_modified": dt.datetime.now(dt.timezone.utc)},)


def _png_bytes(img: torch.Tensor) -> bytes:
    buf = io.BytesIO()
    to_pil(img).save(buf, format="PNG")
    return buf.getvalue()


def _recording(monkeypatch, fail_after: int | None = None) -> list[tuple[float, torch.Tensor]]:
    """Wrap the panel's ``stylize`` so each step's (total loss, image) is recorded.

    With ``fail_after``, the wrapped callback raises after that many steps,
    as a failing device or a bug in a run would.
    """
    seen: list[tuple[float, torch.Tensor]] = []
    real = job_module.stylize

    def stylize(content, style, *, callback, **kwargs):
        def cb(info):
            callback(info)
            seen.append((info.losses["total"], info.image.detach().cpu().clone()))
            if fail_after is not None and info.step >= fail_after:
                raise RuntimeError("the device went away")
        return real(content, style, callback=cb, **kwargs)

    monkeypatch.setattr(job_module, "stylize", stylize)
    return seen


def _wait_for(predicate, timeout: float, what: str) -> None:
    end = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > end:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.02)


@pytest.fixture(scope="module")
def finished():
    """A panel after one short run with non-default settings everywhere it matters."""
    p = panel(size=40, steps=3, style_seed=2, style_params={"stroke_length": 60.0, "palette": "ocean"},
              tv_weight=1e5, **FAST)
    p.style_layer_weights["relu2_1"].value = 3.0
    empty_plot, placeholder = p.plot.value, p.preview.value
    p.run_button.click()
    result = p.wait(timeout=300)
    assert result is not None, p.message
    return p, empty_plot, placeholder


# --------------------------------------------------------------------------- building


def test_panel_builds_its_widgets_and_displays():
    p = panel(size=64, steps=6)
    assert isinstance(p, StylePanel)
    assert (p.size.value, p.steps.value, p.optimizer.value) == (64, 6, "lbfgs")
    assert set(LAYER_CHOICES) <= set(p.style_layers) and "relu4_2" in p.content_layers
    assert p.content_layers["relu4_2"].value and not p.content_layers["relu1_1"].value
    assert [l for l, box in p.style_layers.items() if box.value] == list(StylizeOptions().style_layers)
    assert "styletut-panel" in p.widget._dom_classes
    assert "styletut-run" in p.run_button._dom_classes and "styletut-preview" in p.preview._dom_classes
    # Every choice list is its owner's.
    assert [list(w.options) for w in (p.optimizer, p.init, p.style_norm, p.weights, p.pooling)] == \
        [list(OPTIMIZERS), list(INITS), list(STYLE_NORMS), list(WEIGHTS), list(POOLINGS)]
    assert set(p.device.options) <= set(DEVICES) and "cpu" in p.device.options
    bundle = p._repr_mimebundle_()
    assert "application/vnd.jupyter.widget-view+json" in bundle
    # Thumbnails are real PNGs of the chosen images.
    for src in (p.content, p.style):
        assert bytes(src.thumb.value).startswith(PNG_SIGNATURE)
    # The default settings are stylize's defaults, so the echo lists only size and steps.
    assert p.options().changed() == {"size": 64, "num_steps": 6}


def test_unknown_option_names_the_valid_ones():
    with pytest.raises(TypeError, match="valid options"):
        panel(stepz=3)
    with pytest.raises(ValueError, match="choose a procedural style"):
        panel(style="picasso")


def test_procedural_style_sliders_follow_the_style():
    p = panel(size=64)
    assert set(p.style.params) == set(procedural_params("swirls"))
    for key, rng in procedural_param_ranges("swirls").items():
        w = p.style.params[key]
        if isinstance(rng, list):
            assert list(w.options) == rng  # the palette menu
        else:
            assert (w.min, w.max) == rng
    before = p.style.thumb.value
    p.style.params["palette"].value = "sunset"
    assert p.style.thumb.value != before, "the thumbnail follows the parameters"
    p.style.procedural.value = "mondrian"
    assert set(p.style.params) == set(procedural_params("mondrian"))
    p.style.params["depth"].value = 3
    assert p.style.expression(64) == "procedural('mondrian', 64, seed=0, depth=3)"


def test_learning_rate_follows_the_optimizer():
    p = panel(size=64)
    assert p.lr.disabled and p.options().lr is None  # L-BFGS: its line search picks the step
    p.optimizer.value = "adam"
    assert not p.lr.disabled and p.lr.value == pytest.approx(DEFAULT_LR["adam"])
    assert p.options().lr is None  # the default is left out of the echoed call
    p.lr.value = 0.05
    assert p.options().lr == pytest.approx(0.05)
    p.optimizer.value = "gd"  # GD: automatic rate from the first gradient, unless unticked
    assert p.lr_auto.value and p.lr.disabled and p.options().lr is None
    p.lr_auto.value = False
    assert not p.lr.disabled
    p.lr.value = 3e-5
    assert p.options().lr == pytest.approx(3e-5)
    assert p.crop_frac.layout.display == "none"
    p.optimizer.value = "sgd"  # only SGD draws random crops
    assert p.crop_frac.layout.display == ""


def test_options_without_a_control_are_passed_through():
    p = panel(size=64, pooling="avg", style_size=48)
    assert p.pooling.value == "avg"
    assert p.options().changed() == {"size": 64, "num_steps": p.steps.value, "pooling": "avg", "style_size": 48}


def test_options_outside_the_sliders_spans_are_kept_exactly():
    p = panel(size=64, steps=2000, content_weight=2e5, tv_weight=5.0, optimizer="adam", lr=20.0)
    assert (p.content_weight.max, p.tv_weight.min, p.lr.max, p.steps.max) == (6, 0, 2, 2000)
    assert p.options().changed() == {"size": 64, "num_steps": 2000, "content_weight": 2e5, "tv_weight": 5.0,
                                     "optimizer": "adam", "lr": 20.0}


# --------------------------------------------------------------------------- a run


def test_run_shows_the_result_preview_plot_and_progress(finished):
    p, empty_plot, placeholder = finished
    assert len(p.results) == 1 and not p.running
    item = p.results[-1]
    assert isinstance(item, PanelResult) and item.number == 1 and not item.stopped
    assert item.image.shape == (1, 3, 27, 40)  # chelsea is 300x451: longest side 40
    assert item.steps_done == 3 and p.progress.value == 3 and p.progress.bar_style == "success"
    assert p.preview.value != placeholder and bytes(p.preview.value).startswith(PNG_SIGNATURE)
    with Image.open(io.BytesIO(bytes(p.preview.value))) as im:
        assert im.size == (40, 27)
    # The plot was redrawn with data: all three weighted components and the total.
    assert p.plot.value != empty_plot and bytes(p.plot.value).startswith(PNG_SIGNATURE)
    assert set(item.result.history.losses) == {"content", "style", "tv", "total"}
    assert "done" in p.status.value
    assert "stylize(" in p.echo.value
    card = p._compare_cards[0]
    assert card.box.layout.display == "" and bytes(card.image.value).startswith(PNG_SIGNATURE)
    assert p._compare_cards[1].box.layout.display == "none"
    assert not p.run_button.disabled and p.stop_button.disabled


def test_echoed_call_reproduces_the_run(finished):
    p = finished[0]
    item = p.results[-1]
    assert item.call.startswith("stylize(sample('chelsea'), procedural('swirls', 40, seed=2, ")
    assert "stroke_length=60.0" in item.call and "palette='ocean'" in item.call
    # Evaluate the call with a stand-in stylize: same images, same options.
    seen = {}

    def fake_stylize(content, style, **kwargs):
        seen.update(content=content, style=style, kwargs=kwargs)

    eval(item.call, {"stylize": fake_stylize, "sample": sample, "procedural": procedural})
    opts = StylizeOptions.from_kwargs(**seen["kwargs"])
    assert opts == item.options
    assert opts == dataclasses.replace(item.result.options, progress=True)  # the panel hides tqdm only
    # Relative layer weights pass as typed (the style loss normalises them).
    assert opts.style_layer_weights == (1.0, 3.0) and opts.tv_weight == 1e5
    torch.testing.assert_close(load_image(seen["content"], size=40), item.result.content_img)
    torch.testing.assert_close(load_image(seen["style"], size=40), item.result.style_img)
    # And the pasted code, run for real, gives the same image.
    ns: dict = {}
    exec(item.code, ns)
    torch.testing.assert_close(ns["result"].image, item.image, atol=1e-4, rtol=0)


def test_restore_puts_a_result_settings_back(finished):
    p = finished[0]
    item = p.results[-1]
    p.steps.value, p.optimizer.value, p.use_tv.value = 99, "adam", False
    p.style_layers["relu5_1"].value = True
    assert p.options() != item.options
    p._compare_cards[0].restore.click()
    assert p.options() == item.options


def test_save_writes_a_png_atomically(finished, tmp_path):
    p = finished[0]
    out = tmp_path / "sub" / "cat.png"
    p.save_path.value = str(out)
    p.save_button.click()
    assert out.read_bytes().startswith(PNG_SIGNATURE), p.message
    with Image.open(out) as im:
        assert im.size == (40, 27)
    assert sorted(x.name for x in out.parent.iterdir()) == ["cat.png"], "no temporary file left behind"
    assert "saved" in p.message and str(out) in p.message


def test_save_refuses_to_overwrite_an_input(finished, tmp_path):
    p = finished[0]
    photo = tmp_path / "photo.png"
    save_image(sample("coffee", size=32), photo)
    original = photo.read_bytes()
    load_image(photo)  # now an input of this process
    assert p.save(photo) is None
    assert "refusing" in p.message and "input" in p.message
    assert photo.read_bytes() == original


# --------------------------------------------------------------------------- stop


def test_stop_interrupts_a_long_run_and_keeps_the_best_image(monkeypatch):
    seen = _recording(monkeypatch)
    p = panel(size=32, steps=500, optimizer="adam", **FAST)
    assert p.start()
    assert p.running and p.run_button.disabled and not p.stop_button.disabled
    assert not p.start() and "already" in p.message  # a second Run is refused meanwhile
    _wait_for(lambda: p.progress.value >= 2, 120, "two steps")
    clicked_at = p.progress.value
    p.stop_button.click()
    item = p.wait(timeout=300)
    hist = item.result.history
    assert item.stopped and hist.stopped and clicked_at <= item.steps_done <= clicked_at + 2
    assert item.steps_done == len(seen) == len(hist.total) < 500
    assert item.image.shape == (1, 3, 21, 32) and torch.isfinite(item.image).all()
    # The image kept is the best one the run saw: the lowest loss among the steps recorded.
    best = min(range(len(seen)), key=lambda i: seen[i][0])
    assert hist.best_step == best + 1 and hist.best_loss == seen[best][0]
    assert torch.equal(item.image, seen[best][1]) and torch.equal(item.image, hist.best_image.cpu())
    assert p.progress.bar_style == "warning" and "stopped" in p.status.value
    assert not p.running and not p.run_button.disabled


def test_an_error_mid_run_keeps_the_best_image_so_far(monkeypatch, tmp_path):
    seen = _recording(monkeypatch, fail_after=3)
    p = panel(size=32, steps=50, optimizer="adam", **FAST)
    item = p.run(timeout=300)
    assert item is not None, p.message
    best = min(range(len(seen)), key=lambda i: seen[i][0])
    assert len(seen) == item.steps_done == 3 and item.outcome == "failed" and not item.stopped
    assert torch.equal(item.image, seen[best][1]) and item.result.history.best_step == best + 1
    assert item.error.startswith("the run failed: RuntimeError: the device went away")
    assert p.message == f"{item.error}; the best image so far (step {best + 1}) is kept"
    assert p.progress.bar_style == "danger" and p.status.value == "failed" and not p.running
    assert len(p.results) == 1 and p.results[0] is item and "(failed)" in p._compare_cards[0].text.value
    assert "3/50 steps (failed)" in item.summary()
    # What was kept can be saved like any result.
    out = p.save(tmp_path / "kept.png")
    assert out == tmp_path / "kept.png"
    torch.testing.assert_close(load_image(out), item.image, atol=1 / 255, rtol=0)


def test_an_error_before_the_first_step_gives_a_message_and_no_result(monkeypatch):
    def broken(*args, **kwargs):
        raise OSError("no space left on device")

    monkeypatch.setattr(job_module, "stylize", broken)
    p = panel(size=32, steps=2, **FAST)
    assert p.run(timeout=60) is None and p.results == []
    assert p.message == "the run failed: OSError: no space left on device"
    assert not p.run_button.disabled and p.stop_button.disabled


# --------------------------------------------------------------------------- invalid settings


def test_a_file_that_is_not_an_image_gives_a_message_and_no_run():
    p = panel(size=32, steps=2, **FAST)
    p.content.upload.value = _upload_value("holiday.png", b"this is not a picture")
    assert p.content.kind.value == "upload"
    assert "holiday.png" in p.message and "not an image" in p.message
    p.message_box.value = ""
    p.run_button.click()
    assert not p.running and p.results == []
    assert "holiday.png" in p.message
    assert "⚠" in p.message_box.value


def test_no_upload_yet_gives_a_message():
    p = panel(size=32, steps=2, **FAST)
    p.style.kind.value = "upload"
    assert not p.start() and "no style image uploaded" in p.message


def test_no_style_layer_ticked_gives_a_message_and_no_run():
    p = panel(size=32, steps=2, **FAST)
    for box in p.style_layers.values():
        box.value = False
    p.run_button.click()
    assert not p.running and p.results == []
    assert "tick at least one style layer" in p.message


def test_all_weights_zero_gives_a_message_and_no_run():
    p = panel(size=32, steps=2, **FAST)
    p.use_content.value = p.use_style.value = p.use_tv.value = False
    assert p.content_weight.disabled
    assert p.run() is None and p.results == []
    assert "all loss weights are zero" in p.message


def test_zero_weight_on_every_ticked_style_layer_gives_a_message():
    p = panel(size=32, steps=2, **FAST)
    for layer in FAST["style_layers"]:
        p.style_layer_weights[layer].value = 0.0
    assert not p.start() and "weight 0" in p.message


# --------------------------------------------------------------------------- uploads


def test_uploaded_style_is_used_echoed_and_never_saved_over(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    p = panel(size=32, steps=2, **FAST)
    data = _png_bytes(procedural("stained_glass", 48, seed=1))
    before = p.style.thumb.value
    p.style.upload.value = _upload_value("mine.png", data)
    assert p.style.kind.value == "upload" and p.style.thumb.value != before
    assert "mine.png" in p.style.caption.value and p.message == ""
    item = p.run(timeout=300)
    assert item is not None, p.message
    assert "load_image('mine.png')" in item.call
    assert "from styletut.data import sample\nfrom styletut.images import load_image\n" in item.code
    torch.testing.assert_close(item.result.style_img, load_image(Image.open(io.BytesIO(data)), size=32))
    # The upload's name is an input: saving over it is refused, nothing is written.
    assert p.save("mine.png") is None
    assert "refusing" in p.message and not (tmp_path / "mine.png").exists()
    assert p.save("result.png") == Path("result.png")
    assert (tmp_path / "result.png").read_bytes().startswith(PNG_SIGNATURE)


def test_save_before_any_run_says_so():
    p = panel(size=32)
    assert p.save("x.png") is None and "Run first" in p.message


def test_style_norm_sets_the_style_weight_range_and_round_trips():
    p = panel(size=64)
    assert p.style_norm.value == "relative" and p.options().style_weight is None
    p.style_norm.value = "tutorial"
    assert p.style_weight.value == pytest.approx(5.0) and p.style_weight.min < 0.7 < p.style_weight.max
    assert p.options().style_norm == "tutorial" and p.options().style_weight is None
    p.style_weight.value = 50.0
    opts = p.options()
    assert opts.style_weight == pytest.approx(50.0)
    assert "style_norm='tutorial'" in opts.as_call() and "style_weight=50.0" in opts.as_call()
    q = panel(size=64)
    q.apply_options(opts)  # an echoed call's options give back the same settings
    assert q.options() == opts


# --------------------------------------------------------------------------- the Controls tab (issue 12)


def _set_controls(p: StylePanel, *, preserve_colour="none", style_stats="gram", style_scale=1.0, style2="none",
                  style2_seed=0, blend=0.5, region="all") -> None:
    """Set every control of the Controls tab, as clicks would (unnamed ones to their defaults)."""
    p.preserve_colour.value, p.style_stats.value, p.style_scale.value = preserve_colour, style_stats, style_scale
    p.style2.value, p.style2_seed.value, p.blend.value, p.region.value = style2, style2_seed, blend, region


def _parse_call(call: str) -> tuple[str, list[str] | str, StylizeOptions]:
    """The echoed ``stylize(content, style, **options)``, read with ``ast`` (nothing is evaluated).

    Returns:
        The content's source, the style's source (a list of sources for a
        list of styles) and the options rebuilt from the keyword arguments.
    """
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and ast.unparse(node.func) == "stylize" and len(node.args) == 2
    content, style = node.args
    styles = [ast.unparse(e) for e in style.elts] if isinstance(style, ast.List) else ast.unparse(style)
    kwargs = {k.arg: ast.literal_eval(k.value) for k in node.keywords}
    return ast.unparse(content), styles, StylizeOptions(**kwargs)


@pytest.fixture(scope="module")
def bare():
    """One panel whose controls each test sets in full (building a panel per case would cost seconds)."""
    return panel(size=64, steps=2, **FAST)


def test_the_controls_tab_offers_every_choice():
    p = panel(size=64)
    assert p.settings.titles == ("Run", "Loss weights", "Layers", "Controls")
    assert [v for _, v in p.preserve_colour.options] == list(COLOUR_MODES)
    assert [v for _, v in p.style_stats.options] == list(STYLE_STATS)
    assert [v for _, v in p.region.options] == list(MASK_SHAPES)
    assert [v for _, v in p.style2.options] == ["none", *list_procedural(), *list_samples()]
    assert (p.style_scale.base, p.style_scale.min, p.style_scale.max, p.style_scale.value) == (2, -2, 2, 1.0)
    assert (p.blend.min, p.blend.max, p.blend.step, p.blend.value) == (0.0, 1.0, 0.05, 0.5)
    assert p.options().changed() == {"size": 64, "num_steps": p.steps.value}  # the defaults change nothing
    # The blend slider and the seed appear only when they mean something.
    assert p.blend.layout.display == "none"
    p.style2.value = "waves"
    assert p.blend.layout.display == "" and p.style2_seed.layout.display == ""
    assert bytes(p._settings.second.thumb.value).startswith(PNG_SIGNATURE)
    p.style2.value = "coffee"
    assert p.style2_seed.layout.display == "none"
    p.region.value = "centre"
    assert "style 1 paints the centre" in p._settings.region_note.value
    assert "style 2 the border" in p._settings.region_note.value


CASES = {
    "every control, two styles in two regions": dict(preserve_colour="luminance", style_stats="meanstd",
                                                      style_scale=2.0, style2="waves", style2_seed=3, blend=0.7,
                                                      region="centre"),
    "two styles blended": dict(preserve_colour="meancov", style2="coffee", blend=0.25),
    "one style in a region": dict(preserve_colour="histogram", style_stats="sliced", style_scale=0.5,
                                  region="left"),
    **{f"colour {m}": dict(preserve_colour=m) for m in COLOUR_MODES},
    **{f"stats {m}": dict(style_stats=m) for m in STYLE_STATS},
    **{f"scale {x}": dict(style_scale=x) for x in (0.25, 2 ** -0.75, 2 ** 1.5, 4.0)},
    **{f"region {r}, one style": dict(region=r) for r in MASK_SHAPES},
    **{f"region {r}, two styles": dict(region=r, style2="stained_glass", blend=0.6) for r in MASK_SHAPES},
}


@pytest.mark.parametrize("case", CASES)
def test_every_control_round_trips_through_the_echoed_call(bare, case):
    p = bare
    _set_controls(p, **CASES[case])
    content, style, opts = _parse_call(p.call())
    assert opts == p.options()  # what Run would start with
    assert content == "sample('chelsea')"
    settings = CASES[case]
    if settings.get("style2", "none") != "none":
        assert isinstance(style, list) and len(style) == 2
        assert style[1] == p._settings.second.expression(round(opts.style_scale * 64))
    else:
        assert isinstance(style, str) and style.startswith("procedural('swirls', ")
    # And the options show the same settings again.
    q_values = dict(settings)
    _set_controls(p)
    p.apply_options(opts, style2=q_values.get("style2", "none"), style2_seed=q_values.get("style2_seed", 0))
    assert p.options() == opts


def _recorded_run(case: str, steps: int = 2) -> tuple[StylePanel, PanelResult, dict]:
    """A short run of a panel set as ``CASES[case]``, and what ``stylize`` received."""
    seen = {}
    real = job_module.stylize

    def stylize(content, style, **kwargs):
        seen.update(content=content, style=style, kwargs=kwargs)
        return real(content, style, **kwargs)

    job_module.stylize = stylize  # by hand: module fixtures cannot use monkeypatch
    try:
        p = panel(size=32, steps=steps, **FAST)
        _set_controls(p, **CASES[case])
        item = p.run(timeout=300)
    finally:
        job_module.stylize = real
    assert item is not None and item.error is None, p.message
    return p, item, seen


def _options_used(seen: dict) -> StylizeOptions:
    """The options ``stylize`` ran with, as the panel shows them (it hides only tqdm's bar)."""
    kwargs = {k: v for k, v in seen["kwargs"].items() if k not in ("callback", "stop")}
    return dataclasses.replace(StylizeOptions.from_kwargs(**kwargs), progress=True)


@pytest.fixture(scope="module")
def two_styles():
    """A short run with every control of the Controls tab set."""
    return _recorded_run("every control, two styles in two regions")


def test_the_echoed_call_reproduces_a_run_with_two_styles(two_styles):
    p, item, seen = two_styles
    content, style, echoed = _parse_call(item.call)
    assert echoed == item.options == _options_used(seen)
    assert echoed.changed() == {"size": 32, "num_steps": 2, "content_layers": ("relu2_2",),
                                "style_layers": ("relu1_1", "relu2_1"), "style_scale": 2.0,
                                "style_blend": (0.7, 0.3), "style_masks": ("centre", "border"),
                                "style_stats": "meanstd", "preserve_colour": "luminance"}
    # The style argument is a list of two expressions; the images the run got are theirs.
    assert style == ["procedural('swirls', 64, seed=0)", "procedural('waves', 64, seed=3)"]
    assert content == "sample('chelsea')"
    assert isinstance(seen["style"], list) and len(seen["style"]) == 2
    torch.testing.assert_close(seen["style"][0], procedural("swirls", 64, seed=0))
    torch.testing.assert_close(seen["style"][1], procedural("waves", 64, seed=3))
    assert len(item.result.style_imgs) == 2 and item.result.style_imgs[1].shape[-1] == 64  # 2 x 32 px
    assert "[procedural('swirls', 64, seed=0), procedural('waves', 64, seed=3)]" in html.unescape(p.echo.value)
    assert "from styletut.data import procedural, sample" in item.code


@pytest.mark.parametrize("case", ["one style in a region", "two styles blended"])
def test_the_echoed_call_is_the_run_for_other_controls(case):
    _, item, seen = _recorded_run(case, steps=1)
    content, style, echoed = _parse_call(item.call)
    assert echoed == item.options == _options_used(seen)
    if case == "two styles blended":
        assert style == ["procedural('swirls', 32, seed=0)", "sample('coffee')"]
        assert echoed.style_blend == (0.25, 0.75) and echoed.style_masks is None
        torch.testing.assert_close(seen["style"][1], sample("coffee"))
    else:
        assert style == "procedural('swirls', 16, seed=0)"  # style_scale 0.5 of 32 px
        assert (echoed.style_masks, echoed.style_stats, echoed.preserve_colour) == (("left",), "sliced", "histogram")
        torch.testing.assert_close(seen["style"], procedural("swirls", 16, seed=0))


def test_restore_puts_back_the_second_style(two_styles):
    p, item, _ = two_styles
    _set_controls(p)
    assert p.style2.value == "none" and p.options() != item.options
    p._compare_cards[0].restore.click()
    assert (p.style2.value, p.style2_seed.value, p.region.value, p.blend.value) == ("waves", 3, "centre", 0.7)
    assert p.options() == item.options
    card = p._compare_cards[0].text.value
    assert "+ waves: 0.7/0.3, centre/border" in card and "colour luminance, stats meanstd, scale 2" in card


def test_options_for_two_styles_need_a_second_style():
    with pytest.raises(ValueError, match=r"style_blend has 2 entries for 1 style image\(s\).*pick a second style"):
        panel(size=32, style_blend=(0.7, 0.3))
    p = panel(size=32, style2="waves", style2_seed=5, style_blend=(0.7, 0.3), style_masks=("right", "left"))
    assert (p.style2.value, p.style2_seed.value, p.blend.value, p.region.value) == ("waves", 5, 0.7, "right")
    assert p.options().style_masks == ("right", "left") and p.options().style_blend == (0.7, 0.3)
    with pytest.raises(ValueError, match="the panel shows at most 2"):
        panel(size=32, style2="waves", style_blend=(1, 1, 1))
    with pytest.raises(ValueError, match="cannot be shown"):
        panel(size=32, style2="waves", style_masks=("left", "top"))
    with pytest.raises(ValueError, match="unknown second style 'picasso'; choose one of: none, mondrian"):
        panel(size=32, style2="picasso")


def test_one_style_options_set_the_second_style_to_none():
    p = panel(size=32, style2="waves")
    p.apply_options(StylizeOptions(size=32, style_masks=("left",)))
    assert p.style2.value == "none" and p.region.value == "left"
    # Equal blends say nothing of the count: the second style stays.
    p.style2.value = "waves"
    p.apply_options(StylizeOptions(size=32))
    assert p.style2.value == "waves" and p.options().style_blend is None


def test_a_mask_file_given_in_code_is_kept_and_needs_one_style():
    p = panel(size=32, steps=2, style_masks=("sky.png",))
    assert p.region.value == "sky.png" and ("file: sky.png", "sky.png") in p.region.options
    assert p.options().style_masks == ("sky.png",) and "style_masks=('sky.png',)" in p.call()
    p.style2.value = "waves"
    assert not p.start() and "region 'sky.png' is a mask file" in p.message


def test_style_scale_draws_a_painting_at_the_size_the_run_uses():
    p = panel(size=64, steps=2)
    p.style_scale.value = 2.0
    assert "procedural('swirls', 128, seed=0)" in p.call() and "style_scale=2.0" in p.call()
    p.style2.value = "waves"
    assert "[procedural('swirls', 128, seed=0), procedural('waves', 128, seed=0)]" in p.call()


def test_controls_the_style_norm_forbids_give_a_message_and_no_run():
    p = panel(size=32, steps=2, **FAST)
    p.style_norm.value = "tutorial"
    p.style_stats.value = "sliced"
    assert not p.start() and "relative scale only" in p.message
    p.style_stats.value = "gram"
    p.region.value = "top"
    assert not p.start() and "relative scale only" in p.message


def test_an_error_mid_run_keeps_the_photos_colours(monkeypatch):
    _recording(monkeypatch, fail_after=2)
    p = panel(size=32, steps=20, optimizer="adam", preserve_colour="luminance", **FAST)
    item = p.run(timeout=300)
    assert item is not None and item.outcome == "failed", p.message
    # The optimiser paints the luminance; what the panel keeps wears the photo's colours, as a
    # finished run's result does.
    painted = item.result.painted
    assert painted is not None and not torch.equal(item.image, painted)
    torch.testing.assert_close(item.image, keep_luminance(painted, load_image(sample("chelsea"), size=32)))


# --------------------------------------------------------------------------- one pass of a network (issue 13)
#
# The shipped model files may not exist yet (they are trained by make train-fast /
# make train-adain): these tests give zoo.load_model tiny untrained networks instead.


@pytest.fixture(scope="module")
def tiny_networks():
    """A tiny network of each kind, under the shipped names (built once: AdaIN builds a VGG19 encoder)."""
    torch.manual_seed(0)
    return {"fast-swirls": TransformNet(4, 1).eval(), "adain": AdaIN(Decoder("relu2_1", 4)).eval()}


@pytest.fixture()
def networks(monkeypatch, tiny_networks):
    """``zoo.load_model`` gives the tiny networks; the list records each load as ``(name, device)``."""
    loads = []

    def load_model(name, device=None):
        loads.append((name, device))
        return tiny_networks[name]

    monkeypatch.setattr(zoo, "load_model", load_model)
    return loads


def _one_pass_parts(call: str) -> tuple[str, list[str], dict]:
    """The echoed ``zoo.run(zoo.load_model(name), *images, **kw)``, read with ``ast``: name, images, kw."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and ast.unparse(node.func) == "zoo.run"
    load, *imgs = node.args
    assert isinstance(load, ast.Call) and ast.unparse(load.func) == "zoo.load_model"
    return (ast.literal_eval(load.args[0]), [ast.unparse(i) for i in imgs],
            {k.arg: ast.literal_eval(k.value) for k in node.keywords})


def test_the_method_control_offers_optimisation_and_every_network():
    p = panel(size=64)
    assert p.method.value == OPTIMISE and list(p.method.options) == method_choices()
    assert [v for _, v in p.method.options] == [OPTIMISE, *zoo.list_models()]
    assert "fast network: fast-swirls" in dict(p.method.options) and "AdaIN (any style)" in dict(p.method.options)
    assert (p.alpha.min, p.alpha.max, p.alpha.step, p.alpha.value) == (0.0, 1.0, 0.05, 1.0)
    assert p.alpha.layout.display == "none"  # AdaIN's only
    assert "styletut-method" in p.method._dom_classes
    with pytest.raises(ValueError, match="unknown method 'picasso'; choose one of: optimise"):
        panel(method="picasso")
    with pytest.raises(ValueError, match=r"alpha must lie in \[0, 1\]"):
        panel(method="adain", alpha=2.0)


@pytest.mark.parametrize("method", [v for _, v in method_choices()])
def test_every_method_round_trips_through_the_echoed_call(bare, method):
    p = bare
    _set_controls(p)
    p.alpha.value = 0.35
    p.method.value = method
    try:
        call = p.call()
        if method == OPTIMISE:
            content, style, opts = _parse_call(call)
            assert opts == p.options() and content == "sample('chelsea')"
            return
        name, imgs, kw = _one_pass_parts(call)
        assert name == method
        assert imgs[0] == "sample('chelsea', size=64)"  # a network does not resize: the photo comes sized
        if zoo.model_info(method).kind == "adain":
            assert imgs[1:] == ["procedural('swirls', 64, seed=0)"] and kw == {"alpha": 0.35}
        else:
            assert imgs[1:] == [] and kw == {}
    finally:
        p.method.value = OPTIMISE


def test_a_fast_network_runs_once_and_its_echo_reproduces_it(networks, tiny_networks):
    p = panel(size=40, steps=3, method="fast-swirls")
    placeholder, empty_plot = p.preview.value, p.plot.value
    item = p.run(timeout=120)
    assert item is not None and item.error is None, p.message
    assert isinstance(item, PanelResult) and item.one_pass and item.method == "fast-swirls"
    assert item.image.shape == (1, 3, 27, 40)  # chelsea is 300x451: longest side 40
    assert item.result is None and item.steps_done == 0 and item.alpha is None
    assert 0 < item.seconds < 30 and item.pass_s == item.seconds
    assert (item.options.size, item.options.device) == (40, "auto")
    assert item.call == "zoo.run(zoo.load_model('fast-swirls'), sample('chelsea', size=40))"
    assert item.code.startswith("from styletut import zoo\nfrom styletut.data import sample\n")
    # It is the network's image of the photo at that size ...
    expected = tiny_networks["fast-swirls"](sample("chelsea", size=40))
    torch.testing.assert_close(item.image, expected)
    # ... and the pasted code gives the same image.
    ns: dict = {}
    exec(item.code, ns)
    torch.testing.assert_close(ns["result"], item.image)
    # Shown like any result: preview, a note where the loss plot was, progress, echo, compare card.
    with Image.open(io.BytesIO(bytes(p.preview.value))) as im:
        assert im.size == (40, 27)
    assert p.preview.value != placeholder and p.plot.value != empty_plot
    assert (p.progress.value, p.progress.max, p.progress.bar_style) == (1, 1, "success")
    assert "one pass" in p.status.value and "zoo.run(zoo.load_model(&#x27;fast-swirls&#x27;)" in p.echo.value
    card = p._compare_cards[0]
    assert card.box.layout.display == "" and "fast network fast-swirls" in card.text.value
    assert "one pass in" in card.text.value and "one pass (done)" in item.summary()
    assert not p.running and not p.run_button.disabled and p.stop_button.disabled
    # The network is loaded once per (name, device) and kept.
    assert p.run(timeout=120) is not None and len(p.results) == 2
    here = resolve_device("auto")  # the panel's device "auto": CUDA where there is one
    assert [load for load in networks if load[1] is not None] == [("fast-swirls", here)]  # (the echo's: None)
    torch.testing.assert_close(p.results[1].image, item.image)
    p.device.value = "cpu"  # a device picked is echoed (zoo.load_model's default is the CPU, not "auto")
    assert p.call() == "zoo.run(zoo.load_model('fast-swirls', device='cpu'), sample('chelsea', size=40))"


def test_adain_uses_the_style_picker_and_alpha(networks, tiny_networks):
    p = panel(size=40, method="adain", style="waves", style_seed=3)
    assert p.alpha.layout.display == "" and not p.style.kind.disabled
    p.style_scale.value = 2.0  # the style is used at the size the options give (style_side)
    p.alpha.value = 0.0
    photo_only = p.run(timeout=120)
    assert photo_only is not None and photo_only.error is None, p.message
    p.alpha.value = 1.0
    styled = p.run(timeout=120)
    assert styled.image.shape == photo_only.image.shape == (1, 3, 27, 40)
    assert not torch.allclose(styled.image, photo_only.image), "alpha is used"
    for item, alpha in ((photo_only, 0.0), (styled, 1.0)):
        name, imgs, kw = _one_pass_parts(item.call)
        assert (name, imgs, kw) == ("adain", ["sample('chelsea', size=40)", "procedural('waves', 80, seed=3)"],
                                    {"alpha": alpha})
        assert item.alpha == alpha and f"alpha {alpha:g}" in item.summary()
        ns: dict = {}
        exec(item.code, ns)
        torch.testing.assert_close(ns["result"], item.image)
    direct = zoo.run(tiny_networks["adain"], sample("chelsea", size=40), procedural("waves", 80, seed=3))
    torch.testing.assert_close(styled.image, direct)
    panel_loads = [load for load in networks if load[1] is not None]  # (the echoes load with device None)
    assert panel_loads == [("adain", resolve_device("auto"))]  # once for both runs


def test_a_network_switches_the_optimisation_controls_off_and_optimise_back_on():
    p = panel(size=64, optimizer="adam")
    assert not p.use_tv.value  # TV is off by default: its slider is off for its own reason, and stays so
    assert not p.steps.disabled and not p.lr.disabled and p.tv_weight.disabled
    p.method.value = "fast-swirls"
    for name in OPTIMISATION_NAMES:
        widget = getattr(p, name)
        for w in (widget.values() if isinstance(widget, dict) else [widget]):
            assert w.disabled, f"{name} applies to optimisation only"
    assert not p.size.disabled and not p.device.disabled
    assert p.style_scale.disabled  # a fast network's style is fixed
    assert p.style.kind.disabled and p.style.procedural.disabled and p.style.seed.disabled
    assert all(w.disabled for w in p.style.params.values())
    assert "paints the one style it was trained on" in p.style.note.value
    assert zoo.model_info("fast-swirls").trained[:40] in html.unescape(p.style.note.value)
    assert p.style.note.layout.display == "" and p._settings.one_pass_note.layout.display == ""
    assert not p.content.kind.disabled  # the photo applies to every method
    p.use_content.value = False
    p.use_content.value = True  # a tick while a network is chosen does not switch its slider back on
    assert p.content_weight.disabled
    p.method.value = "adain"
    assert not p.style.kind.disabled and not p.style_scale.disabled and p.style.note.layout.display == "none"
    assert p.style2.disabled and p.blend.disabled and p.region.disabled and p.steps.disabled
    p.method.value = OPTIMISE
    for name in ("steps", "levels", "optimizer", "lr", "init", "seed", "weights", "pooling", "style_norm",
                 "use_tv", "content_weight", "style_weight", "preserve_colour", "style_stats", "style_scale",
                 "style2", "style2_seed", "blend", "region"):
        assert not getattr(p, name).disabled, name
    assert not any(w.disabled for grid in (p.content_layers, p.style_layers, p.style_layer_weights)
                   for w in grid.values())
    assert p.tv_weight.disabled and p.alpha.layout.display == "none"
    assert p._settings.one_pass_note.layout.display == "none"
    p.optimizer.value = "lbfgs"
    assert p.lr.disabled  # L-BFGS's own reason, as before
    assert p.options().changed() == {"size": 64, "num_steps": p.steps.value}  # every value kept


def test_settings_only_optimisation_checks_do_not_stop_a_network(networks):
    p = panel(size=32, steps=2, **FAST)
    for box in p.style_layers.values():
        box.value = False
    assert not p.start() and "tick at least one style layer" in p.message
    p.method.value = "fast-swirls"
    item = p.run(timeout=120)
    assert item is not None and item.error is None and p.message == ""


def test_restore_brings_the_method_back(networks, finished):
    p = finished[0]
    optimised = p.results[0]
    p.method.value = "fast-swirls"
    p.size.value = 48
    item = p.run(timeout=120)
    assert item is not None and item.one_pass, p.message
    p.method.value, p.size.value = OPTIMISE, 64
    card = next(c for c in p._compare_cards if c._result is item)
    card.restore.click()
    assert (p.method.value, p.size.value) == ("fast-swirls", 48) and p.steps.disabled
    assert p.call() == item.call
    p._compare_cards[0].restore.click()  # the optimisation: optimise again, with its options
    assert p.method.value == OPTIMISE and not p.steps.disabled and p.options() == optimised.options


def test_restore_brings_adain_and_its_alpha_back(networks):
    p = panel(size=32, method="adain", alpha=0.25)
    item = p.run(timeout=120)
    assert item is not None and item.alpha == 0.25, p.message
    p.method.value, p.alpha.value = "fast-swirls", 1.0
    p._compare_cards[0].restore.click()
    assert (p.method.value, p.alpha.value) == ("adain", 0.25) and p.call() == item.call


def test_a_network_that_fails_to_load_gives_the_run_error(monkeypatch):
    def refuse(name, device=None):
        raise ValueError(f"{name}: sha256 differs from the recorded hash")

    monkeypatch.setattr(zoo, "load_model", refuse)
    p = panel(size=32, method="fast-swirls")
    assert p.run(timeout=60) is None and p.results == []
    assert p.message == "the run failed: ValueError: fast-swirls: sha256 differs from the recorded hash"
    assert p.status.value == "failed" and p.progress.bar_style == "danger"
    assert not p.running and not p.run_button.disabled and p.stop_button.disabled


def test_adain_without_an_uploaded_style_says_so(networks):
    p = panel(size=32, method="adain")
    p.style.kind.value = "upload"
    assert not p.start() and "no style image uploaded" in p.message and networks == []


def test_stop_while_the_network_loads_skips_the_pass_and_the_panel_runs_again(monkeypatch, tiny_networks):
    import threading

    release = threading.Event()

    def slow_load(name, device=None):
        release.wait(30)
        return tiny_networks[name]

    monkeypatch.setattr(zoo, "load_model", slow_load)
    p = panel(size=32, method="fast-swirls")
    assert p.start() and p.running and not p.stop_button.disabled
    p.stop_button.click()
    release.set()
    assert p.wait(timeout=60) is None and p.results == []
    assert "stopped before the pass" in p.status.value and p.message == ""
    assert not p.running and not p.run_button.disabled
    item = p.run(timeout=60)  # Stop leaves the panel ready, and the network loaded
    assert item is not None and item.error is None and item.image.shape == (1, 3, 21, 32)


def test_the_code_of_a_network_imports_zoo_and_the_images():
    code = code_text("zoo.run(zoo.load_model('adain'), load_image('a.png', size=64), sample('coffee', size=64), "
                     "alpha=1.0)", "load_image('a.png', size=64)", "sample('coffee', size=64)")
    assert code.splitlines()[:3] == ["from styletut import zoo", "from styletut.data import sample",
                                     "from styletut.images import load_image"]
    assert "stylize" not in code and code.endswith("result = zoo.run(zoo.load_model('adain'), "
                                                   "load_image('a.png', size=64), sample('coffee', size=64), "
                                                   "alpha=1.0)")
