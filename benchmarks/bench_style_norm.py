"""Benchmark: how strongly one style_weight paints each style, under each Gram normalisation.

Issue #9 found that under the tutorial convention one ``style_weight`` paints the
five procedural styles with roughly 10x different strength, because their Gram
matrices differ in size. This script measures it for the three conventions of
``styletut.losses.STYLE_NORMS``:

1. For every style, the unweighted style loss of the *content* photo (the style
   gap the optimiser starts from) in each convention.
2. A calibrated weight per convention: ``beta = 5 * median(S_tutorial / S_conv)``,
   so that on a typical style every convention starts with the same balance as
   the old default (tutorial, beta = 5).
3. One transfer per style and convention (chelsea, L-BFGS-B, same budget), scored
   by one independent evaluator on the returned image:
   - ``gap closed`` = 1 - R(x) / R(c), with R the mean over relu1_1..relu5_1 of
     ||G - A||^2 / ||A||^2: how much of the style gap the result closed;
   - ``content moved`` = ||F(x) - F(c)||^2 / ||F(c)||^2 at relu4_2.
   A convention whose weight "means the same for every style" gives similar
   numbers in every row; the spread (max / min over styles) says how similar.

Run: `.venv/bin/python benchmarks/bench_style_norm.py [--size 128 --steps 60]`.
"""

from __future__ import annotations

import argparse
import statistics

import torch

from styletut.data import list_procedural, procedural, sample
from styletut.features import VGG19Features
from styletut.losses import STYLE_NORMS, gram_matrix, style_loss
from styletut.transfer import stylize

STYLE_LAYERS = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1")


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=128)
    p.add_argument("--steps", type=int, default=60)
    args = p.parse_args()
    torch.manual_seed(0)
    net = VGG19Features(STYLE_LAYERS + ("relu4_2",))
    content = sample("chelsea", size=args.size)
    styles = {name: procedural(name, args.size, seed=0) for name in list_procedural()}
    with torch.no_grad():
        fc = net(content)
        grams = {n: {l: gram_matrix(f) for l, f in net(s).items() if l in STYLE_LAYERS} for n, s in styles.items()}
        gap = {n: {norm: style_loss(fc, grams[n], norm=norm).item() for norm in STYLE_NORMS} for n in styles}

    print(f"1. style loss of the content photo (unweighted), chelsea at {args.size} px")
    print(f"{'style':<15}" + "".join(f"{norm:>14}" for norm in STYLE_NORMS))
    for n in styles:
        print(f"{n:<15}" + "".join(f"{gap[n][norm]:>14.4g}" for norm in STYLE_NORMS))
    for norm in STYLE_NORMS:
        vals = [gap[n][norm] for n in styles]
        print(f"   spread of the start gap under {norm!r}: max/min = {max(vals) / min(vals):.1f}")

    beta = {norm: 5.0 * statistics.median(gap[n]["tutorial"] / gap[n][norm] for n in styles) for norm in STYLE_NORMS}
    print("\n2. calibrated style_weight: " + ", ".join(f"{k} {v:.4g}" for k, v in beta.items()))

    print(f"\n3. transfers ({args.steps} L-BFGS-B steps), scored on the returned image")
    print(f"{'style':<15}" + "".join(f"{norm + ' gap/moved':>26}" for norm in STYLE_NORMS))
    table = {norm: {} for norm in STYLE_NORMS}
    for n, s in styles.items():
        row = f"{n:<15}"
        for norm in STYLE_NORMS:
            res = stylize(content, s, size=args.size, num_steps=args.steps, style_norm=norm,
                          style_weight=beta[norm], progress=False, device="cpu")
            with torch.no_grad():
                fx = net(res.image)
                r_x = style_loss(fx, grams[n], norm="relative").item()
                moved = ((fx["relu4_2"] - fc["relu4_2"]).pow(2).sum() / fc["relu4_2"].pow(2).sum()).item()
            closed = 1 - r_x / gap[n]["relative"]
            table[norm][n] = (closed, moved)
            row += f"{closed:>16.2f} / {moved:<7.3f}"
        print(row)
    print()
    for norm in STYLE_NORMS:
        closed = [v[0] for v in table[norm].values()]
        moved = [v[1] for v in table[norm].values()]
        left = [1 - c for c in closed]
        print(f"{norm:<10} gap closed {min(closed):.2f}..{max(closed):.2f} (gap left max/min {max(left) / min(left):.1f}x), "
              f"content moved {min(moved):.3f}..{max(moved):.3f} (max/min {max(moved) / min(moved):.1f}x)")


if __name__ == "__main__":
    main()
