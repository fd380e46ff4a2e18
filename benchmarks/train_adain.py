"""`make train-adain`: train the AdaIN decoder that ships in styletut/models/, then look at it.

Trains ``styletut.adain.train_adain`` with the recipe below (the shipped
decoder's: see ``--help`` for the defaults), writes the decoder atomically,
prints its sha256 (``styletut/models.py`` holds the shipped file's), and
scores it with the shared evaluator (``benchmarks/_evaluator.py``) on the
held-out photos (``styletut.photos.HELD_OUT``, never seen in training) with
style images it never saw either: the benchmark's hubble_deep_field and
procedural styles with seeds outside the training stream. ``--look DIR``
writes the stylised pictures there as PNG files.

    python benchmarks/train_adain.py --out styletut/models/adain-relu4_1.pt
    python benchmarks/train_adain.py --device cuda --steps 8000 --out /tmp/dec.pt
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--layer", default="relu4_1")
    p.add_argument("--width", type=int, default=16)
    p.add_argument("--steps", type=int, default=2000)
    p.add_argument("--crop", type=int, default=128)
    p.add_argument("--batch", type=int, default=4)
    p.add_argument("--lr", type=float, default=1e-3)
    p.add_argument("--style-weight", type=float, default=1.0)
    p.add_argument("--identity-weight", type=float, default=1.0)
    p.add_argument("--pool", type=int, default=16)
    p.add_argument("--refresh", type=int, default=50)
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--student-width", type=int, default=None,
                   help="train a StudentEncoder of this width beside the decoder (default: encode with VGG19)")
    p.add_argument("--distill-weight", type=float, default=1.0)
    p.add_argument("--student-init", choices=("default", "he"), default="default")
    p.add_argument("--device", default="cpu", help="cpu, cuda, auto (CUDA when present)")
    p.add_argument("--out", required=True, help="where to write the decoder (.pt)")
    p.add_argument("--checkpoint", default=None, help="training state file (resumable with --resume)")
    p.add_argument("--resume", action="store_true")
    p.add_argument("--look", default=None, metavar="DIR", help="write the held-out results as PNGs here")
    p.add_argument("--size", type=int, default=256, help="held-out evaluation size")
    args = p.parse_args(argv)

    import torch

    from styletut.adain import save_adain, train_adain
    from styletut.runtime import resolve_device

    args.device = str(resolve_device(args.device))  # "auto": CUDA when present (the recipe wants a GPU)

    print(f"recipe: layer {args.layer}, width {args.width}, {args.steps} steps, crop {args.crop}, batch "
          f"{args.batch}, lr {args.lr}, style weight {args.style_weight}, identity weight {args.identity_weight}, student width {args.student_width}, seed {args.seed}, device {args.device}, "
          f"torch {torch.__version__} ({torch.get_num_threads()} threads)", flush=True)
    t0 = time.perf_counter()
    model, hist = train_adain(layer=args.layer, width=args.width, num_steps=args.steps, crop=args.crop,
                                batch=args.batch, lr=args.lr, style_weight=args.style_weight,
                                identity_weight=args.identity_weight, seed=args.seed,
                                device=args.device, checkpoint=args.checkpoint, resume=args.resume,
                                pool=args.pool, refresh=args.refresh, student_width=args.student_width,
                                distill_weight=args.distill_weight, student_init=args.student_init)
    seconds = time.perf_counter() - t0
    print(f"trained {hist.steps_done} steps in {seconds:.0f} s ({seconds / max(len(hist.total), 1):.3f} s/step); "
          "mean of the first and last tenth: "
          + ", ".join(f"{t} {a:.4f} -> {b:.4f}" for t, (a, b) in hist.trend().items()), flush=True)
    meta = {"recipe": vars(args) | {"out": None, "look": None, "checkpoint": None},
            "steps_done": hist.steps_done, "stopped_early": hist.interrupted, "seconds": round(seconds, 1), "device": str(args.device), "torch": str(torch.__version__)}
    digest = save_adain(model.cpu(), args.out, meta=meta)
    params = sum(p.numel() for p in model.parameters() if p.requires_grad)
    print(f"wrote {args.out}: {Path(args.out).stat().st_size / 1e6:.2f} MB, {params} parameters, sha256 {digest}")
    _look(args, digest)
    return 0


def _look(args, digest: str) -> None:
    """Score the written decoder on held-out photos and unseen styles; optionally save the pictures."""
    import torch

    from _evaluator import Evaluator, make_net
    from styletut.adain import load_adain
    from styletut.data import procedural, sample
    from styletut.images import save_image
    from styletut.photos import HELD_OUT

    dev = args.device
    model, _ = load_adain(args.out, sha256=digest, device=dev)
    evaluate = Evaluator(make_net(dev))
    styles = {"hubble_deep_field": sample("hubble_deep_field", size=args.size),
              "swirls_seed1000": procedural("swirls", args.size, seed=1000),
              "stained_glass_seed1000": procedural("stained_glass", args.size, seed=1000)}
    out = Path(args.look) if args.look else None
    if out:
        out.mkdir(parents=True, exist_ok=True)
    print(f"held-out scores at {args.size} px (shared evaluator):")
    for photo in HELD_OUT:
        content_img = sample(photo, size=args.size).to(dev)
        for name, style_img in styles.items():
            style_img = style_img.to(dev)
            with torch.no_grad():
                t = time.perf_counter()
                synth_img = model(content_img, style_img)
                ms = (time.perf_counter() - t) * 1e3
            s = evaluate(content_img, style_img)(synth_img)
            print(f"  {photo:>10} x {name:<24} content {s['content']:.4g}  style {s['style']:.4g}  ({ms:.0f} ms)")
            if out:
                save_image(synth_img, out / f"{photo}-{name}.png")


if __name__ == "__main__":
    sys.exit(main())
