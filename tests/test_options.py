"""StylizeOptions: one validated, immutable source of truth; the CLI is generated from it."""

import dataclasses
import math

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from styletut.cli import _parser
from styletut.features import POOLINGS, WEIGHTS, list_layers
from styletut.losses import STYLE_NORMS
from styletut.optim import OPTIMIZERS
from styletut.options import MAX_SIZE, StylizeOptions

FIELDS = [f.name for f in dataclasses.fields(StylizeOptions)]


def test_options_are_immutable():
    opts = StylizeOptions()
    with pytest.raises(dataclasses.FrozenInstanceError):
        opts.num_steps = 3
    assert dataclasses.replace(opts, num_steps=3).num_steps == 3
    with pytest.raises(ValueError, match="num_steps must be a non-negative integer"):
        dataclasses.replace(opts, num_steps=-3)  # replace validates again


@pytest.mark.parametrize("kwargs,error,match", [
    ({"weights": "imagenet"}, ValueError, "unknown weights 'imagenet'; choose one of: caffe, torchvision, random"),
    ({"pooling": "min"}, ValueError, "unknown pooling 'min'; choose one of: max, avg"),
    ({"size": -5}, ValueError, "at least 16 pixels"),
    ({"size": 10 ** 9}, ValueError, f"at most {MAX_SIZE}"),
    ({"size": 256.0}, TypeError, "whole number of pixels"),
    ({"size": True}, TypeError, "whole number of pixels"),
    ({"style_weight": math.nan}, ValueError, "style_weight must be a finite number"),
    ({"content_weight": math.inf}, ValueError, "content_weight must be a finite number"),
    ({"lr": math.inf}, ValueError, "lr must be a finite number"),
    ({"lr": 0.0}, ValueError, "lr must be positive"),
    ({"tv_weight": "0.1"}, TypeError, "tv_weight must be a number"),
    ({"crop_frac": 0.01}, ValueError, r"crop_frac must lie in \[0.1, 1\]"),
    ({"style_layer_weights": (0, 0, 0, 0, 0)}, ValueError, "style_layer_weights are all zero"),
    ({"style_layer_weights": (1, 1, math.nan, 1, 1)}, ValueError, "finite and >= 0"),
    ({"style_layer_weights": "1,1,1,1,1"}, TypeError, "sequence of numbers"),
    ({"style_layers": ("relu1_1", "relu1_1")}, ValueError, "relu1_1 more than once"),
    ({"device": "tpu"}, ValueError, "unknown device 'tpu'; use one of: auto, cpu, cuda"),
    ({"device": "cuda7"}, ValueError, r"unknown device 'cuda7'.*'cuda:N'"),
    ({"device": 0}, TypeError, "device must be a string"),
    ({"seed": -1}, ValueError, r"seed must lie in \[0, 2\*\*63\)"),
    ({"num_steps": 2.5}, TypeError, "num_steps must be an integer"),
    ({"progress": "yes"}, TypeError, "progress must be True or False"),
])
def test_every_field_is_validated(kwargs, error, match):
    with pytest.raises(error, match=match):
        StylizeOptions(**kwargs)


def test_zero_steps_are_valid():
    assert StylizeOptions(num_steps=0).num_steps == 0


def _cli_options(argv):
    """The StylizeOptions the CLI would build from ``argv`` (flags after CONTENT STYLE -o OUT)."""
    args = _parser().parse_args(["stylize", "c.png", "s.png", "-o", "o.png", *argv])
    return StylizeOptions.from_kwargs(**{k: v for k, v in vars(args).items() if k in FIELDS})


def _flag(value) -> str:
    if isinstance(value, tuple):
        return ",".join(map(str, value))
    return str(value)


# A value different from the default for every field: each must be reachable from the shell.
_NON_DEFAULT = {
    "size": 128, "style_size": 96, "num_steps": 7, "optimizer": "adam", "lr": 0.05,
    "content_layers": ("relu3_2", "relu4_2"), "style_layers": ("relu1_1", "relu3_1"),
    "style_layer_weights": (1.0, 3.0), "style_norm": "gatys", "content_weight": 2.0, "style_weight": 1e-3,
    "tv_weight": 0.5, "init": "noise", "seed": 11, "device": "cpu", "weights": "random", "pooling": "avg",
    "crop_frac": 0.25, "levels": 2, "lean_memory": True, "progress": False,
    "style_scale": 2.0, "style_blend": (3.0, 1.0), "style_masks": ("left", "sky.png"), "style_stats": "sliced",
    "preserve_colour": "histogram",
}
# Pairs that cannot both differ from their defaults (style_size and style_scale
# both size the style; other statistics and masks need the relative scale):
# each round sets one of each pair.
_ROUNDS = [("style_scale", "style_stats", "style_masks"), ("style_size", "style_norm")]


def _argv(values: dict) -> list[str]:
    argv = []
    for name, value in values.items():
        f = next(f for f in dataclasses.fields(StylizeOptions) if f.name == name)
        flag = f.metadata["flag"] or "--" + name.replace("_", "-")
        if isinstance(value, bool):
            argv.append(flag if value else "--no-" + flag[2:])
        else:
            argv += [flag, _flag(value)]
    return argv


@pytest.mark.parametrize("left_out", _ROUNDS)
def test_every_option_is_reachable_from_the_shell(left_out):
    """Regression: --crop-frac and the per-layer style weights had no flag."""
    assert set(_NON_DEFAULT) == set(FIELDS), "a new option needs a non-default value here"
    values = {k: v for k, v in _NON_DEFAULT.items() if k not in left_out}
    assert _cli_options(_argv(values)) == StylizeOptions(**values)
    assert _cli_options([]) == StylizeOptions()
    assert _cli_options(["--quiet"]).progress is False


def test_cli_help_lists_the_choices_from_their_owners():
    helptext = _parser()._subparsers._group_actions[0].choices["stylize"].format_help()
    for choices in (OPTIMIZERS, STYLE_NORMS, WEIGHTS, POOLINGS):
        assert "{" + ",".join(choices) + "}" in helptext


# ------------------------------------------------------------ property-based

_layers = st.lists(st.sampled_from(list_layers()), min_size=0, max_size=4, unique=True).map(tuple)
_numbers = st.one_of(st.floats(allow_nan=True, allow_infinity=True), st.integers(-10, 10 ** 6),
                     st.none(), st.text(max_size=3), st.booleans())

_fields = st.fixed_dictionaries({}, optional={
    "size": st.one_of(st.none(), st.integers(-100, 40000), st.floats(0, 1000), st.booleans()),
    "style_size": st.one_of(st.none(), st.integers(-100, 40000)),
    "num_steps": st.one_of(st.integers(-5, 10 ** 6), st.floats(-1, 10)),
    "optimizer": st.one_of(st.sampled_from(OPTIMIZERS), st.text(max_size=6)),
    "lr": _numbers, "content_weight": _numbers, "style_weight": _numbers, "tv_weight": _numbers,
    "crop_frac": _numbers,
    "content_layers": st.one_of(_layers, st.text(max_size=8)),
    "style_layers": st.one_of(_layers, st.text(max_size=8)),
    "style_layer_weights": st.one_of(st.none(), st.lists(st.floats(allow_nan=True), max_size=5).map(tuple)),
    "style_norm": st.one_of(st.sampled_from(STYLE_NORMS), st.text(max_size=6)),
    "init": st.text(max_size=8), "seed": st.one_of(st.integers(-5, 2 ** 64), st.floats()),
    "device": st.one_of(st.sampled_from(["auto", "cpu", "cuda", "cuda:1", "mps", "", "gpu"]), st.integers()),
    "weights": st.one_of(st.sampled_from(WEIGHTS), st.text(max_size=6)),
    "pooling": st.one_of(st.sampled_from(POOLINGS), st.text(max_size=6)),
    "progress": st.one_of(st.booleans(), st.integers(0, 1)),
})


@settings(max_examples=300, deadline=None)
@given(_fields)
def test_random_options_either_validate_or_raise_a_documented_error(kwargs):
    try:
        opts = StylizeOptions(**kwargs)
    except (ValueError, TypeError) as err:
        assert str(err)  # a message, always
        return
    # What validates is fully usable: finite numbers, known names, consistent lengths.
    assert opts.optimizer in OPTIMIZERS and opts.style_norm in STYLE_NORMS
    assert all(l in list_layers() for l in opts.content_layers + opts.style_layers)
    assert math.isfinite(opts.beta) and opts.beta >= 0 and math.isfinite(opts.content_weight)
    assert opts.content_weight > 0 or opts.beta > 0 or opts.tv_weight > 0
    if opts.style_layer_weights is not None:
        assert len(opts.style_layer_weights) == len(opts.style_layers)
    assert dataclasses.replace(opts) == opts


_argv_token = st.one_of(st.sampled_from(["--size", "--steps", "--lr", "--style-layers", "--style-layer-weights",
                                         "--crop-frac", "--device", "--optimizer", "--seed", "--no-progress",
                                         "--style-weight", "--init", "--weights"]),
                        st.text(alphabet="0123456789.,-eanifrelu_", max_size=8))


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.lists(_argv_token, max_size=6))
def test_random_command_lines_parse_or_exit_cleanly(argv):
    """Whatever is typed, the CLI's option parsing ends in options or a clean exit with a message."""
    try:
        _cli_options(argv)
    except SystemExit as err:  # argparse: usage error, exit status 2
        assert err.code == 2
    except (ValueError, TypeError) as err:  # the CLI turns these into `styletut: <message>`
        assert str(err)


def test_a_torch_device_is_accepted_as_its_name():
    import torch

    assert StylizeOptions(device=torch.device("cpu")).device == "cpu"
