"""The ``styletut`` command line.

    styletut stylize CONTENT STYLE -o OUT.png [--size 256 --steps 150 ...]
    styletut samples OUTDIR
    styletut layers

CONTENT and STYLE are image paths, sample names (``sample:chelsea``) or
procedural styles (``procedural:swirls``, optionally ``procedural:swirls:SEED``).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

__all__ = ["main"]


def _source(spec: str, size: int | None, what: str):
    """Resolve a CONTENT/STYLE argument to something ``load_image`` takes."""
    from . import images

    if spec.startswith("sample:"):
        return images.sample(spec.split(":", 1)[1])
    if spec.startswith("procedural:"):
        parts = spec.split(":")
        seed = int(parts[2]) if len(parts) > 2 else 0
        return images.procedural(parts[1], size=size or 512, seed=seed)
    path = Path(spec)
    if not path.exists():
        raise SystemExit(
            f"styletut: {what} image '{spec}' not found. Pass a file path, sample:NAME "
            f"({', '.join(images.list_samples())}) or procedural:NAME ({', '.join(images.list_procedural())})"
        )
    return images.load_image(path)


def _parser() -> argparse.ArgumentParser:
    from .losses import STYLE_NORMS
    from .optim import OPTIMIZERS
    from .transfer import DEFAULT_STYLE_WEIGHT, INITS, StylizeOptions

    d = StylizeOptions()
    p = argparse.ArgumentParser(prog="styletut", description="Neural style transfer (Gatys et al. 2016) from the styletut course.")
    sub = p.add_subparsers(dest="command", required=True)

    s = sub.add_parser("stylize", help="paint CONTENT in the style of STYLE",
                       description="Paint CONTENT in the style of STYLE and write OUT. Ctrl-C stops early and still saves the best image.")
    s.add_argument("content", help="image path, sample:NAME or procedural:NAME[:SEED]")
    s.add_argument("style", help="image path, sample:NAME or procedural:NAME[:SEED]")
    s.add_argument("-o", "--output", required=True, help="output image (.png or .jpg); written atomically, never over an input")
    s.add_argument("--size", type=int, default=d.size, help=f"longest side of the result in pixels (default {d.size})")
    s.add_argument("--style-size", type=int, default=None, help="longest side of the style image (default: --size)")
    s.add_argument("--steps", type=int, default=d.num_steps, help=f"optimisation steps (default {d.num_steps})")
    s.add_argument("--optimizer", choices=OPTIMIZERS, default=d.optimizer, help=f"default {d.optimizer}")
    s.add_argument("--lr", type=float, default=None, help="learning rate (default depends on the optimizer)")
    s.add_argument("--content-weight", type=float, default=d.content_weight)
    s.add_argument("--style-weight", type=float, default=None,
                   help="weight β of the style loss (default depends on --style-norm: "
                        + ", ".join(f"{k} {v:g}" for k, v in DEFAULT_STYLE_WEIGHT.items()) + ")")
    s.add_argument("--tv-weight", type=float, default=d.tv_weight)
    s.add_argument("--style-norm", choices=STYLE_NORMS, default=d.style_norm,
                   help=f"how each style layer's Gram mismatch is scaled (default {d.style_norm}: "
                        "divided by the style's own Gram norm, so one --style-weight means the same for every style)")
    s.add_argument("--content-layers", default=",".join(d.content_layers), help="comma-separated VGG19 layers (see `styletut layers`)")
    s.add_argument("--style-layers", default=",".join(d.style_layers), help="comma-separated VGG19 layers")
    s.add_argument("--init", choices=INITS, default=d.init)
    s.add_argument("--pooling", choices=("max", "avg"), default=d.pooling)
    s.add_argument("--weights", choices=("caffe", "torchvision", "random"), default=d.weights)
    s.add_argument("--device", default=d.device, help="auto (CUDA when present), cpu or cuda")
    s.add_argument("--seed", type=int, default=d.seed)
    s.add_argument("--quiet", action="store_true", help="no progress bar")

    m = sub.add_parser("samples", help="write the sample photos and procedural styles to a folder")
    m.add_argument("outdir")
    m.add_argument("--size", type=int, default=512, help="longest side in pixels (default 512)")

    sub.add_parser("layers", help="list VGG19 layer names")
    return p


def _stylize(args) -> int:
    from .images import _resolved, save_image
    from .transfer import stylize

    out = Path(args.output)
    for spec in (args.content, args.style):
        if Path(spec).exists() and _resolved(spec) == _resolved(out):
            raise SystemExit(f"styletut: refusing to write '{out}': it is an input image; choose another output path")
    options = dict(
        size=args.size, style_size=args.style_size, num_steps=args.steps, optimizer=args.optimizer, lr=args.lr,
        content_weight=args.content_weight, style_weight=args.style_weight, tv_weight=args.tv_weight,
        style_norm=args.style_norm, content_layers=tuple(l for l in args.content_layers.split(",") if l),
        style_layers=tuple(l for l in args.style_layers.split(",") if l),
        init=args.init, pooling=args.pooling, weights=args.weights, device=args.device, seed=args.seed,
        progress=not args.quiet,
    )
    try:
        from .transfer import StylizeOptions

        StylizeOptions.from_kwargs(**options)  # fail on bad options before loading anything
        content = _source(args.content, args.size, "content")
        style = _source(args.style, args.style_size or args.size, "style")
        result = stylize(content, style, **options)
    except (ValueError, TypeError, FileNotFoundError) as err:
        raise SystemExit(f"styletut: {err}") from None
    path = save_image(result.image, out)
    h, t = result.history, result.timings
    note = " (interrupted: best image so far)" if h.interrupted else ""
    print(f"wrote {path}{note}: {h.steps_done} steps, loss {h.total[0]:.4g} -> {h.best_loss:.4g}, "
          f"{t['per_step_s']:.3f} s/step, {t['setup_s'] + t['optimize_s']:.1f} s in all")
    return 130 if h.interrupted else 0


def _samples(args) -> int:
    from . import images

    out = Path(args.outdir)
    out.mkdir(parents=True, exist_ok=True)
    for name in images.list_samples():
        print(images.save_image(images.sample(name, size=args.size), out / f"{name}.png"))
    for name in images.list_procedural():
        print(images.save_image(images.procedural(name, size=args.size, seed=0), out / f"style_{name}.png"))
    return 0


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    if args.command == "stylize":
        return _stylize(args)
    if args.command == "samples":
        return _samples(args)
    from .features import list_layers

    print("\n".join(list_layers()))
    return 0


if __name__ == "__main__":
    sys.exit(main())
