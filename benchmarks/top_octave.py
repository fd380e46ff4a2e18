"""How much of a picture's style score lives in its finest octave?

A coarse-to-fine run's last level starts from the level below, upsampled: a
picture without its finest octave (the detail between half the size and the
full size). This script takes a finished picture, removes that octave
(downsample by 2 with antialiasing, upsample back), and scores both with the
benchmarks' shared evaluator, layer by layer. If the style score rises a lot,
no coarser level can deliver it: the finest level has to paint that octave,
and its steps cost the full size.

    python benchmarks/top_octave.py KEEP [--size 1024] [--picture styletut/000300.png]

KEEP is a ``bench.py --keep`` folder (it holds ``<size>px/content.png``,
``style.png`` and the systems' snapshots). Measured on the 2-core CPU
(2026-11-26) with the single-scale 300-step picture of
``bench.py --sizes 1024 --systems styletut styletut-multi --reference styletut``:

                  picture   without its finest octave   ratio
    relu1_1          30.76                       37.83    1.23
    relu2_1          101.5                        2486    24.5
    relu3_1          46.31                        1956    42.2
    relu4_1      1.613e+04                   1.597e+05     9.9
    relu5_1         0.2933                       10.37    35.3
    style             3262                   3.284e+04    10.1
    content      2.171e+05                   2.081e+05   0.959

relu4_1 carries 99% of the style score at this size, and losing the finest
octave multiplies it by 10 while the content score falls 4%. The last level
of a pyramid therefore starts about 10 times off in style however good the
levels below were.
"""

from __future__ import annotations

import argparse
import os
import sys

import torch
import torch.nn.functional as F

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from _evaluator import CONTENT_LAYER, STYLE_LAYERS, gram, make_net  # noqa: E402


def without_finest_octave(img: torch.Tensor) -> torch.Tensor:
    """``img`` ``(1, 3, H, W)`` downsampled to half its sides (antialiased) and upsampled back."""
    h, w = img.shape[-2:]
    half = F.interpolate(img, size=(round(h / 2), round(w / 2)), mode="bilinear", antialias=True,
                         align_corners=False)
    return F.interpolate(half, size=(h, w), mode="bilinear", align_corners=False).clamp(0, 1)


@torch.no_grad()
def per_layer(net, img, content_target, style_grams) -> dict:
    feats = net(img)
    out = {l: F.mse_loss(gram(feats[l]), style_grams[l]).item() for l in STYLE_LAYERS}
    out["style"] = sum(out[l] for l in STYLE_LAYERS) / len(STYLE_LAYERS)
    out["content"] = F.mse_loss(feats[CONTENT_LAYER], content_target).item()
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("keep", help="a bench.py --keep folder")
    ap.add_argument("--size", type=int, default=1024)
    ap.add_argument("--picture", default="styletut/000300.png", help="the picture, relative to KEEP/<size>px")
    args = ap.parse_args()
    from styletut.images import load_image

    folder = os.path.join(args.keep, f"{args.size}px")
    content, style = load_image(os.path.join(folder, "content.png")), load_image(os.path.join(folder, "style.png"))
    picture = load_image(os.path.join(folder, args.picture))
    if picture.shape != content.shape:
        raise SystemExit(f"{args.picture} is {tuple(picture.shape[-2:])}, the content {tuple(content.shape[-2:])}: "
                         "pick a snapshot of the last (full-size) level")
    net = make_net()
    with torch.no_grad():
        content_target = net(content)[CONTENT_LAYER]
        style_grams = {l: gram(f) for l, f in net(style).items() if l in STYLE_LAYERS}
    full = per_layer(net, picture, content_target, style_grams)
    blurred = per_layer(net, without_finest_octave(picture), content_target, style_grams)
    print(f"{args.picture} at {tuple(picture.shape[-2:])}, scored by the shared evaluator")
    print(f"{'':10}{'picture':>12}{'without its finest octave':>28}{'ratio':>8}")
    for key in (*STYLE_LAYERS, "style", "content"):
        print(f"{key:10}{full[key]:12.4g}{blurred[key]:28.4g}{blurred[key] / full[key]:8.3g}")


if __name__ == "__main__":
    main()
