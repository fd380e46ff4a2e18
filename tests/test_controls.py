"""The controls of issue #12 through stylize, StyleObjective and the command line.

Colour preservation, several styles with blend weights, style scale, region
masks and other style statistics. The building blocks are tested on their own
in test_colour.py, test_statistics.py and test_regions (below); here they are
tested as a user reaches them.
"""

import ast
import shlex

import pytest
import torch

from styletut import cli
from styletut.colour import rgb_to_yiq
from styletut.features import VGG19Features
from styletut.names import COLOUR_MODES, MASK_SHAPES, STYLE_STATS
from styletut.options import StylizeOptions
from styletut.regions import list_shapes, make_mask
from styletut.images import save_image
from styletut.transfer import StyleObjective, stylize

LAYERS = ("relu1_1", "relu2_1", "relu3_1")


def _img(seed, h=48, w=64):
    return torch.rand(1, 3, h, w, generator=torch.Generator().manual_seed(seed))


@pytest.fixture(scope="module")
def net():
    return VGG19Features(("relu2_2",) + LAYERS)


def _objective(net, content, styles, **kw):
    return StyleObjective(net, content, styles, ("relu2_2",), LAYERS, style_weight=1.0, style_norm="relative", **kw)


# ----------------------------------------------------------------------------- regions

def test_shapes_and_their_complements_add_up_to_one():
    pairs = [("left", "right"), ("top", "bottom"), ("centre", "border")]
    for a, b in pairs:
        for hw in [(7, 9), (16, 16), (5, 12)]:
            total = make_mask(a, hw) + make_mask(b, hw)
            torch.testing.assert_close(total, torch.ones(1, 1, *hw))
    assert make_mask("all", (3, 4)).eq(1).all()
    assert list_shapes() == list(MASK_SHAPES)


def test_left_half_of_an_odd_width_splits_the_middle_column():
    m = make_mask("left", (2, 5))[0, 0]
    torch.testing.assert_close(m[0], torch.tensor([1.0, 1.0, 0.5, 0.0, 0.0]))


def test_centre_ellipse_covers_its_area():
    # An ellipse with semi-axes 0.35 H and 0.35 W covers pi * 0.35^2 of the picture.
    m = make_mask("centre", (200, 300))
    assert abs(m.mean().item() - torch.pi * 0.35 ** 2) < 2e-3
    assert m[0, 0, 100, 150] == 1 and m[0, 0, 0, 0] == 0


def test_a_mask_file_is_read_through_its_luminance(tmp_path):
    img = torch.zeros(1, 3, 10, 20)
    img[..., :, 10:] = 1.0  # white right half
    path = save_image(img, tmp_path / "mask.png")
    torch.testing.assert_close(make_mask(path, (10, 20)), make_mask("right", (10, 20)))


def test_an_unknown_mask_names_the_shapes_and_the_file(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"'lefft' is neither a shape \(all, left, right"):
        make_mask("lefft", (4, 4))


# ----------------------------------------------------------------------------- the objective

def test_one_style_general_path_equals_lesson_04s_style_loss(net):
    content, style = _img(0), _img(1)
    plain = _objective(net, content, style)
    general = _objective(net, content, style, style_masks=[torch.ones(1, 1, 48, 64)])
    x = _img(2)
    torch.testing.assert_close(general(x)["style"], plain(x)["style"], rtol=1e-5, atol=0)


def test_a_full_mask_equals_no_mask(net):
    content, s1, s2 = _img(0), _img(1), _img(3)
    x = _img(2)
    blended = _objective(net, content, [s1, s2], style_blend=(0.5, 0.5), style_stats="meanstd")
    # With masks each style keeps its own target: a full mask for one style
    # with the other's weight 0 is that style alone, unmasked.
    alone = _objective(net, content, s1, style_stats="meanstd")
    masked = _objective(net, content, [s1, s2], style_blend=(1, 0), style_stats="meanstd",
                        style_masks=[torch.ones(1, 1, 48, 64), torch.ones(1, 1, 48, 64)])
    torch.testing.assert_close(masked(x)["style"], 2 * alone(x)["style"])  # n·w_i = 2·1: weight as if alone ×2
    assert blended(x)["style"] > 0


@pytest.mark.parametrize("stats", STYLE_STATS)
def test_a_mask_of_zeros_leaves_that_regions_style_loss_at_zero(net, stats):
    content, style = _img(0), _img(1)
    obj = _objective(net, content, style, style_stats=stats, style_masks=[torch.zeros(1, 1, 48, 64)])
    parts = obj(_img(2).requires_grad_())
    assert parts["style"].item() == 0.0
    assert not parts["style"].requires_grad  # nothing in it depends on the pixels
    assert parts["content"].requires_grad


@pytest.mark.parametrize("stats", STYLE_STATS)
def test_two_regions_each_pull_only_their_own_style(net, stats):
    # Style 1 on the left half, style 2 on the right: swapping the two styles'
    # images must give the same loss as swapping the two regions.
    content, s1, s2, x = _img(0), _img(1), _img(3), _img(2)
    left, right = make_mask("left", (48, 64)), make_mask("right", (48, 64))
    a = _objective(net, content, [s1, s2], style_stats=stats, style_masks=[left, right])(x)["style"]
    b = _objective(net, content, [s2, s1], style_stats=stats, style_masks=[right, left])(x)["style"]
    torch.testing.assert_close(a, b)


def test_blend_weights_one_zero_reproduce_the_single_style_target_exactly(net):
    content, s1, s2 = _img(0), _img(1), _img(3)
    for stats in STYLE_STATS:
        single = _objective(net, content, [s1], style_stats=stats, style_masks=None) if stats != "gram" else \
            _objective(net, content, s1, style_masks=[torch.ones(1, 1, 48, 64)])
        mixed = _objective(net, content, [s1, s2], style_blend=(1, 0), style_stats=stats)
        for layer in LAYERS:
            one, both = single.style_targets[layer][0], mixed.style_targets[layer][0]
            assert one.keys() == both.keys()
            for key in one:
                assert torch.equal(one[key], both[key]), (stats, layer, key)


def test_blend_mixes_the_targets_linearly(net):
    content, s1, s2 = _img(0), _img(1), _img(3)
    a = _objective(net, content, [s1, s2], style_blend=(1, 0))
    b = _objective(net, content, [s1, s2], style_blend=(0, 1))
    mix = _objective(net, content, [s1, s2], style_blend=(3, 1))
    for layer in LAYERS:
        want = 0.75 * a.style_targets[layer][0]["gram"] + 0.25 * b.style_targets[layer][0]["gram"]
        torch.testing.assert_close(mix.style_targets[layer][0]["gram"], want)


def test_several_styles_need_the_relative_scale(net):
    with pytest.raises(ValueError, match="relative scale only; use style_norm='relative', not 'tutorial'"):
        StyleObjective(net, _img(0), [_img(1), _img(2)], ("relu2_2",), LAYERS, style_weight=1.0,
                       style_norm="tutorial")


# ----------------------------------------------------------------------------- stylize

SMALL = dict(size=48, num_steps=3, progress=False, weights="random", style_layers=LAYERS,
             content_layers=("relu2_2",))


def test_luminance_transfer_keeps_the_contents_chrominance():
    content, style = _img(0), _img(1)
    result = stylize(content, style, preserve_colour="luminance", **SMALL)
    iq_result = rgb_to_yiq(result.image.double())[:, 1:]
    iq_content = rgb_to_yiq(result.content_img.double())[:, 1:]
    # Clamping to the RGB cube moves chrominance where a bright stroke meets a
    # saturated pixel; on average it stays the photo's to 8-bit precision.
    assert (iq_result - iq_content).abs().mean() < 1 / 255
    # ... and the delivered image's luminance is what it painted.
    torch.testing.assert_close(rgb_to_yiq(result.image.double())[:, :1],
                               rgb_to_yiq(result.painted.double())[:, :1], atol=2e-2, rtol=0)


@pytest.mark.parametrize("mode", ["meancov", "histogram"])
def test_colour_matching_gives_the_style_the_contents_colour_mean(mode):
    content, style = _img(0) * 0.5, _img(1) * 0.5 + 0.5  # a dark photo, a bright style
    result = stylize(content, style, preserve_colour=mode, num_steps=0, size=48, progress=False)
    s, c = result.style_img.double(), result.content_img.double()
    torch.testing.assert_close(s.mean(dim=(2, 3)), c.mean(dim=(2, 3)), atol=1e-2, rtol=0)
    cov = lambda t: torch.cov(t.reshape(3, -1))
    tol = 2e-3 if mode == "meancov" else 1e-2
    torch.testing.assert_close(cov(s), cov(c), atol=tol, rtol=0)


def test_style_scale_resizes_the_style_relative_to_the_result():
    result = stylize(_img(0, 48, 64), _img(1, 100, 100), style_scale=2.0, num_steps=0, size=48, progress=False)
    assert max(result.style_img.shape[-2:]) == 96
    with pytest.raises(ValueError, match="both set the style image's size"):
        stylize(_img(0), _img(1), style_scale=2.0, style_size=64, size=48)


def test_two_styles_in_two_regions_run_and_report_both():
    result = stylize(_img(0), [_img(1), _img(3)], style_masks=("left", "right"), **SMALL)
    assert result.image.shape == (1, 3, 36, 48) and len(result.style_imgs) == 2
    assert result.history.best_loss < result.history.total[0]


@pytest.mark.parametrize("stats", STYLE_STATS)
def test_each_statistic_lowers_the_objective(stats):
    result = stylize(_img(0), _img(1), style_stats=stats, **SMALL)
    assert result.history.best_loss < result.history.total[0]


@pytest.mark.parametrize("kwargs,match", [
    (dict(style_blend=(1, 1)), "style_blend has 2 entries for 1 style image"),
    (dict(style_masks=("left", "right")), "style_masks has 2 entries for 1 style image"),
    (dict(style_masks=("nowhere.png",)), "'nowhere.png' is neither a shape"),
    (dict(style_stats="meanstd", style_norm="tutorial"), "relative scale only"),
    (dict(style_blend=(0, 0)), "all zero"),
    (dict(style_scale=20.0), r"style_scale must lie in \[0.125, 8\]"),
])
def test_bad_controls_say_what_to_do(kwargs, match):
    with pytest.raises((ValueError, FileNotFoundError), match=match):
        stylize(_img(0), _img(1), size=48, num_steps=1, progress=False, **kwargs)


def test_the_same_seed_gives_the_same_bytes_for_every_init():
    for init in ("content", "noise", "style"):
        runs = [stylize(_img(0), [_img(1), _img(3)], init=init, seed=7, style_stats="sliced", **SMALL)
                for _ in range(2)]
        assert torch.equal(runs[0].image, runs[1].image), init


# ----------------------------------------------------------------------------- command line

def _cli_options(argv: str) -> tuple[StylizeOptions, list[str]]:
    """The options and style arguments the CLI would run with, without running."""
    args = cli._parser().parse_args(shlex.split(argv))
    fields = StylizeOptions.__dataclass_fields__
    return StylizeOptions(**{k: v for k, v in vars(args).items() if k in fields}), args.style


def _echoed_options(call: str) -> StylizeOptions:
    """Rebuild the options from an echoed ``stylize(...)`` call, reading literals only."""
    node = ast.parse(call, mode="eval").body
    assert isinstance(node, ast.Call) and node.func.id == "stylize"
    return StylizeOptions(**{kw.arg: ast.literal_eval(kw.value) for kw in node.keywords})


@pytest.mark.parametrize("flags,field,value", [
    *((f"--preserve-colour {m}", "preserve_colour", m) for m in COLOUR_MODES),
    *((f"--style-stats {s}", "style_stats", s) for s in STYLE_STATS),
    ("--style-scale 2.5", "style_scale", 2.5),
    ("--style-masks centre", "style_masks", ("centre",)),
    ("--style-masks masks/sky.png", "style_masks", ("masks/sky.png",)),
])
def test_every_cli_control_round_trips_through_the_echoed_call(flags, field, value):
    opts, styles = _cli_options(f"stylize c.png s.png -o out.png {flags} --steps 7")
    assert styles == ["s.png"]
    assert getattr(opts, field) == value and opts.num_steps == 7  # the flag did reach the options
    assert _echoed_options(opts.as_call("content_img", "style_img")) == opts


def test_two_styles_with_blend_and_masks_from_the_cli():
    opts, styles = _cli_options("stylize c.png a.png b.png -o out.png --style-blend 3,1 --style-masks left,right")
    assert styles == ["a.png", "b.png"]
    assert opts.style_blend == (3.0, 1.0) and opts.style_masks == ("left", "right")
    opts.check_style_count(len(styles))
    assert _echoed_options(opts.as_call("content_img", "[a, b]")) == opts


def test_cli_refuses_a_blend_that_does_not_match_the_styles(tmp_path, capsys):
    with pytest.raises(SystemExit, match="style_blend has 3 entries for 2 style image"):
        cli.main(["stylize", "sample:chelsea", "procedural:swirls", "procedural:waves", "-o",
                  str(tmp_path / "o.png"), "--style-blend", "1,1,1"])


def test_cli_paints_two_styles_in_two_regions(tmp_path, capsys):
    out = tmp_path / "o.png"
    code = cli.main(["stylize", "sample:chelsea", "procedural:swirls", "procedural:waves", "-o", str(out),
                     "--size", "48", "--steps", "2", "--weights", "random", "--style-masks", "top,bottom",
                     "--preserve-colour", "luminance", "--quiet"])
    assert code == 0 and out.stat().st_size > 0


def test_style_scale_combines_with_coarse_to_fine():
    # Each pyramid level shrinks the (already scaled) style by the level's factor,
    # so the strokes keep their size relative to the picture at every level.
    seen = []
    from styletut import transfer

    original = transfer.StyleObjective

    class Spy(original):
        def __init__(self, net, content_img, style_img, *args, **kwargs):
            seen.append((tuple(content_img.shape[-2:]), tuple(style_img[0].shape[-2:])))
            super().__init__(net, content_img, style_img, *args, **kwargs)

    transfer.StyleObjective = Spy
    try:
        result = stylize(_img(0, 120, 160), _img(1, 64, 64), style_scale=2.0, levels=2,
                         **dict(SMALL, size=160, num_steps=2))
    finally:
        transfer.StyleObjective = original
    assert seen == [((60, 80), (160, 160)), ((120, 160), (320, 320))]
    assert result.image.shape[-2:] == (120, 160)


def test_the_memory_check_counts_the_sliced_statistic():
    from styletut import memory

    layers = ("relu4_2",) + StylizeOptions().style_layers
    hw, style_hw = (341, 512), (446, 512)
    gram = memory.estimate_bytes(hw, style_hw, layers)
    sliced = memory.estimate_bytes(hw, style_hw, layers, sliced_layers=layers[1:])
    positions = sum((341 >> k) * (512 >> k) for k in range(5))  # relu1_1 .. relu5_1
    assert sliced - gram == 4 * 5 * 64 * positions
    # Memory for the Gram run but not the sliced one: the check must refuse only the latter.
    between = int((gram + sliced) / 2 / 0.8)
    for stats, fits in (("gram", True), ("sliced", False)):
        opts = StylizeOptions(style_stats=stats, lean_memory=False)
        if fits:
            memory.check_fits(hw, style_hw, opts, torch.device("cpu"), available=between)
        else:
            with pytest.raises(ValueError):
                memory.check_fits(hw, style_hw, opts, torch.device("cpu"), available=between)
