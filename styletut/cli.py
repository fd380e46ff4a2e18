"""The ``styletut`` command line.

    styletut stylize CONTENT STYLE [STYLE ...] -o OUT.png [--size 256 --steps 150 ...]
    styletut stylize CONTENT -o OUT.png --fast fast-swirls       (one pass, lesson 11)
    styletut stylize CONTENT STYLE -o OUT.png --adain             (any style, one pass)
    styletut samples OUTDIR
    styletut layers

CONTENT and STYLE are image paths, sample names (``sample:chelsea``) or
procedural styles (``procedural:swirls``, optionally ``procedural:swirls:SEED``).

The flags of ``stylize`` are generated from :class:`styletut.options.StylizeOptions`
(its fields' help texts and choices), so every option of the Python API is
reachable from the shell under the same name (``num_steps`` is ``--steps``).
``--help``, ``layers`` and mistyped options answer without importing torch.
"""

from __future__ import annotations

import argparse
import dataclasses
import sys
from pathlib import Path

__all__ = ["main"]


def _source(spec: str, size: int | None, what: str):
    """Resolve a CONTENT/STYLE argument to something ``load_image`` takes."""
    from . import data

    if spec.startswith("sample:"):
        return data.sample(spec.split(":", 1)[1])
    if spec.startswith("procedural:"):
        parts = spec.split(":")
        try:
            seed = int(parts[2]) if len(parts) > 2 else 0
        except ValueError:
            raise ValueError(f"{what} '{spec}': the seed after the second ':' must be a whole number, "
                             "as in procedural:swirls:3") from None
        return data.procedural(parts[1], size=size or 512, seed=seed)
    path = Path(spec)
    if not path.exists():
        raise FileNotFoundError(
            f"{what} image '{spec}' not found. Pass a file path, sample:NAME "
            f"({', '.join(data.list_samples())}) or procedural:NAME ({', '.join(data.list_procedural())})"
        )
    return path


def _comma_list(text: str) -> tuple[str, ...]:
    return tuple(part.strip() for part in text.split(",") if part.strip())


def _comma_floats(text: str) -> tuple[float, ...]:
    try:
        return tuple(float(part) for part in _comma_list(text))
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected comma-separated numbers such as 1,1,2,1,1, got {text!r}") from None


_TYPES = {"size": int, "int": int, "levels": int, "float": float, "layers": _comma_list, "floats": _comma_floats,
          "device": str, "masks": _comma_list}


def _add_option_flags(parser: argparse.ArgumentParser) -> None:
    """One flag per field of StylizeOptions, from its metadata; unset flags keep the defaults."""
    from .options import StylizeOptions

    defaults = StylizeOptions()
    for f in dataclasses.fields(StylizeOptions):
        meta = f.metadata
        flag = meta["flag"] or "--" + f.name.replace("_", "-")
        default = getattr(defaults, f.name)
        shown = ",".join(map(str, default)) if isinstance(default, tuple) else default
        help_ = meta["help"] + ("" if default is None else f" (default {shown})")
        common = dict(dest=f.name, default=argparse.SUPPRESS, help=help_)
        if meta["choices"] is not None:
            parser.add_argument(flag, choices=meta["choices"], **common)
        elif meta["kind"] in ("bool", "tristate"):
            parser.add_argument(flag, action=argparse.BooleanOptionalAction, **common)
        else:
            parser.add_argument(flag, type=_TYPES[meta["kind"]], metavar=f.name.upper(), **common)


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="styletut",
                                description="Neural style transfer (Gatys et al. 2016) from the styletut course.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("stylize", help="paint CONTENT in the style of STYLE",
                       description="Paint CONTENT in the style of STYLE and write OUT. Ctrl-C stops early and "
                                   "still saves the best image.")
    s.add_argument("content", help="image path, sample:NAME or procedural:NAME[:SEED]")
    s.add_argument("style", nargs="*",
                   help="image path, sample:NAME or procedural:NAME[:SEED]; several to blend them "
                        "(--style-blend) or to give each a region (--style-masks); none with --fast")
    s.add_argument("-o", "--output", required=True,
                   help="output image (.png or .jpg); written atomically, never over an input")
    _add_option_flags(s)
    s.add_argument("--quiet", dest="progress", action="store_false", default=argparse.SUPPRESS,
                   help="no progress bar (the same as --no-progress)")
    s.add_argument("--checkpoint", type=int, default=0, metavar="N",
                   help="every N steps, save the run's state to OUT.ckpt and the best image so far to OUT "
                        "(both atomically), so a crash loses at most N steps; with lbfgs N >= 20, since "
                        "each checkpoint restarts its curvature memory")
    s.add_argument("--resume", action="store_true",
                   help="continue the run saved in OUT.ckpt (same inputs and options; --steps may grow)")
    one = s.add_argument_group("one pass of a trained network instead of optimising (lesson 11)")
    one.add_argument("--fast", metavar="MODEL", default=None,
                     help="a per-style network: a shipped name (fast-swirls) or a .pt file you trained; "
                          "give no STYLE, the network's is fixed")
    one.add_argument("--adain", action="store_true",
                     help="any style in one pass with the shipped AdaIN decoder; one STYLE")
    one.add_argument("--adain-decoder", metavar="FILE", default=None,
                     help="with --adain: a decoder file you trained instead of the shipped one")
    one.add_argument("--alpha", type=float, default=None,
                     help="with --adain: 0 keeps the photo, 1 the full style (default 1)")
    one.add_argument("--paint-size", type=int, default=None, metavar="N",
                     help="with --fast: the network paints a bigger photo at N px on the long side and scales "
                          "its painting up, keeping the photo's edges, so strokes grow with the picture "
                          "(default 320); 0 paints at the photo's own size")

    m = sub.add_parser("samples", help="write the sample photos and procedural styles to a folder")
    m.add_argument("outdir")
    m.add_argument("--size", type=int, default=512, help="longest side in pixels (default 512)")

    sub.add_parser("layers", help="list VGG19 layer names")
    return p


def checkpoint_path(output: str | Path) -> Path:
    """Where ``styletut stylize -o OUT --checkpoint N`` keeps the run's state: ``OUT.ckpt``."""
    output = Path(output)
    return output.with_name(output.name + ".ckpt")


def _stylize(args) -> int:
    from .options import StylizeOptions

    options = {k: v for k, v in vars(args).items()
               if k in {f.name for f in dataclasses.fields(StylizeOptions)}}
    if args.fast is not None or args.adain:
        return _one_pass(args, options)
    if args.adain_decoder is not None:
        raise SystemExit("styletut: --adain-decoder goes with --adain")
    if args.alpha is not None:
        raise SystemExit("styletut: --alpha goes with --adain (the content-style mix of one AdaIN pass)")
    if args.paint_size is not None:
        raise SystemExit("styletut: --paint-size goes with --fast (the size at which a trained network paints)")
    if not args.style:
        raise SystemExit("styletut: give at least one STYLE image (or --fast MODEL for a trained network)")
    ckpt = checkpoint_path(args.output)
    try:
        # Bad options fail here, before torch is even imported.
        opts = StylizeOptions.from_kwargs(**options)
        opts.check_style_count(len(args.style))
        if args.checkpoint < 0:
            raise ValueError(f"--checkpoint must be a positive number of steps, got {args.checkpoint}")
    except (ValueError, TypeError) as err:
        raise SystemExit(f"styletut: {err}") from None
    from .images import check_output_path, save_image
    from .transfer import stylize

    try:
        specs = [args.content, *args.style, *(opts.style_masks or ())]
        inputs = [spec for spec in specs if Path(spec).exists()]
        out = check_output_path(args.output, inputs=inputs)  # before any work: no suffix, an input, ...
        content = _source(args.content, opts.size, "content")
        # A procedural style is drawn at the size it will be used, never upsampled into a blur.
        styles = [_source(spec, opts.style_side(), "style") for spec in args.style]
        style = styles[0] if len(styles) == 1 else styles
        use_ckpt = bool(args.checkpoint or args.resume)
        result = stylize(content, style, checkpoint=ckpt if use_ckpt else None,
                         checkpoint_every=args.checkpoint, resume=args.resume,
                         on_checkpoint=lambda best: save_image(best, out), **options)
        path = save_image(result.image, out)
    except (ValueError, TypeError, OSError, RuntimeError) as err:
        raise SystemExit(f"styletut: {err}") from None
    h, t = result.history, result.timings
    early = h.interrupted or h.stopped
    if use_ckpt and not early:
        ckpt.unlink(missing_ok=True)  # the run is complete: its result is the output
    note = " (interrupted: best image so far" + (f"; continue with --resume from {ckpt}" if use_ckpt else "") \
        + ")" if early else ""
    if h.diverged:
        note += " (the loss became inf/NaN: the best finite image is kept; lower --lr)"
    start = f"loss {h.total[0]:.4g} -> " if h.total else "the initial image, loss "
    resumed = f" (resumed at step {h.resumed_from})" if h.resumed_from else ""
    print(f"wrote {path}{note}: {h.steps_done} steps{resumed}, {start}{h.best_loss:.4g}, "
          f"{t['per_step_s']:.3f} s/step, {t['setup_s'] + t['optimize_s']:.1f} s in all")
    return 130 if h.interrupted else 0


# The options a one-pass network uses (the style's size matters to AdaIN); every other
# StylizeOptions flag steers optimisation.
_ONE_PASS_OPTIONS = ("size", "device", "style_size", "style_scale")


def _one_pass(args, options: dict) -> int:
    """``--fast`` / ``--adain``: one pass of a trained network, no optimisation."""
    import time

    flag = "--fast" if args.fast is not None else "--adain"
    try:
        if args.fast is not None and args.adain:
            raise ValueError("choose one of --fast and --adain")
        if args.adain_decoder is not None and not args.adain:
            raise ValueError("--adain-decoder goes with --adain")
        if args.fast is not None and args.style:
            raise ValueError(f"--fast paints the one style its network was trained on; drop the STYLE "
                             f"argument ({' '.join(args.style)}), or use --adain for any style")
        if args.adain and len(args.style) != 1:
            raise ValueError(f"--adain takes exactly one STYLE image, got {len(args.style)}")
        if args.alpha is not None and not args.adain:
            raise ValueError("--alpha goes with --adain")
        if args.alpha is not None and not 0.0 <= args.alpha <= 1.0:
            raise ValueError(f"--alpha must lie in [0, 1], got {args.alpha}")
        if args.paint_size is not None and args.fast is None:
            raise ValueError("--paint-size goes with --fast")
        if args.paint_size is not None and args.paint_size != 0 and args.paint_size < 16:
            raise ValueError(f"--paint-size must be 0 (the photo's own size) or at least 16 px, got {args.paint_size}")
        from .options import StylizeOptions

        flag_of = {f.name: f.metadata["flag"] or "--" + f.name.replace("_", "-")
                   for f in dataclasses.fields(StylizeOptions)}
        names = [flag_of[k] for k in options if k not in _ONE_PASS_OPTIONS]
        names += (["--checkpoint"] if args.checkpoint else []) + (["--resume"] if args.resume else [])
        if names:
            raise ValueError(f"{', '.join(names)} only affect(s) optimisation, and a trained network makes one "
                             f"pass ({flag} uses only --size, --device, --style-size and --style-scale): drop them")
        opts = StylizeOptions.from_kwargs(**options)  # checks --size and --device
    except (ValueError, TypeError) as err:
        raise SystemExit(f"styletut: {err}") from None
    from . import zoo
    from .images import check_output_path, load_image, save_image
    from .runtime import resolve_device

    try:
        specs = [args.content, *args.style]
        out = check_output_path(args.output, inputs=[s for s in specs if Path(s).exists()])
        t0 = time.perf_counter()
        name = args.fast if args.fast is not None else (args.adain_decoder or "adain")
        model = zoo.load_model(name, device=resolve_device(opts.device))
        content_img = load_image(_source(args.content, opts.size, "content"), size=opts.size)
        style_img = None
        if args.adain:
            side = opts.style_side(max(content_img.shape[-2:]))
            style_img = load_image(_source(args.style[0], side, "style"), size=side)
        t1 = time.perf_counter()
        paint = {} if args.paint_size is None else {"paint_size": args.paint_size or None}
        image = zoo.run(model, content_img, style_img, alpha=1.0 if args.alpha is None else args.alpha, **paint)
        t2 = time.perf_counter()
        path = save_image(image, out)
    except (ValueError, TypeError, OSError, RuntimeError) as err:
        raise SystemExit(f"styletut: {err}") from None
    h, w = image.shape[-2:]
    print(f"wrote {path}: {w}x{h}, one pass in {t2 - t1:.2f} s ({t1 - t0:.1f} s to load)")
    return 0


def _samples(args) -> int:
    from . import data, images

    if not 16 <= args.size <= 8192:
        raise ValueError(f"--size must lie between 16 and 8192 pixels, got {args.size}")
    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name in data.list_samples():
        print(images.save_image(data.sample(name, size=args.size), out / f"{name}.png"))
    for name in data.list_procedural():
        print(images.save_image(data.procedural(name, size=args.size, seed=0), out / f"style_{name}.png"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "stylize":
        return _stylize(args)
    if args.command == "samples":
        try:
            return _samples(args)
        except (ValueError, OSError) as err:
            raise SystemExit(f"styletut: {err}") from None
    from .names import list_layers

    print("\n".join(list_layers()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
