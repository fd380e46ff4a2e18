"""Flicker, measured: the temporal warping error of every video method on the exact test clips.

For each motion of ``styletut.video.make_clip`` asked for (``--kinds``; the
frames' long side ``--size``, ``--frames`` frames), every method stylises the
clip in the style of ``procedural("swirls", size, seed=0)`` (the shipped fast
network's style), and ``styletut.video.warping_error`` scores the result with
the clip's *exact* flow and occlusion masks:

- ``input clip``: the clip itself (what warping alone loses: the reference);
- ``per-frame optimise``: ``stylize_frames(..., "optimise")``, ``--steps``
  L-BFGS steps a frame from the frame itself;
- ``temporal optimise``: ``stylize_video(..., "optimise")`` (Ruder et al.
  2016: start from the warped previous result, temporal loss with the masks),
  the same steps;
- ``per-frame fast``: one pass of ``fast-swirls`` a frame;
- ``fast-blend``: ``stylize_video(..., "fast-blend")``, one pass a frame blended
  with the warped previous output;
- with ``--estimated``, ``fast-blend (DIS)``: the same blend along flows
  estimated by ``clip_flows`` (DIS), still scored with the exact flow.

Also printed: the mean over frames of the style term of ``StyleObjective``
(default weights), and wall-clock seconds (``--threads`` CPU threads, 2 by
default; the fast network after a warm-up pass).

    python benchmarks/bench_video.py --kinds pan object --size 192 --frames 8 --steps 30
"""

from __future__ import annotations

import argparse
import time

import torch

from styletut import video, zoo
from styletut.data import procedural
from styletut.features import VGG19Features
from styletut.transfer import StyleObjective


def style_term(net, clip, stylised, style_img) -> float:
    total = 0.0
    with torch.no_grad():
        for t in range(len(clip)):
            objective = StyleObjective(net, clip.frame(t), style_img)
            total += objective(stylised.frame(t))["style"].item()
    return total / len(clip)


def bench(kind: str, args, net, fast_net) -> None:
    clip, flows, masks = video.make_clip(kind, size=args.size, num_frames=args.frames)
    style_img = procedural("swirls", args.size, seed=0)
    runs = {}

    def timed(name, fn):
        start = time.perf_counter()
        runs[name] = (fn(), time.perf_counter() - start)

    runs["input clip"] = (clip, 0.0)
    kw = dict(num_steps=args.steps, net=net, device="cpu", progress=False)
    timed("per-frame optimise", lambda: video.stylize_frames(clip, style_img, "optimise", **kw))
    timed("temporal optimise", lambda: video.stylize_video(clip, style_img, flows, masks, "optimise", **kw))
    video.stylize_frames(clip.frames[:1], None, "fast", model=fast_net, progress=False)  # warm-up
    timed("per-frame fast", lambda: video.stylize_frames(clip, None, "fast", model=fast_net, progress=False))
    timed("fast-blend", lambda: video.stylize_video(clip, None, flows, masks, "fast-blend", model=fast_net,
                                                    progress=False))
    if args.estimated:
        def blend_dis():
            est_flows, est_masks = video.clip_flows(clip, "dis", progress=False)
            return video.stylize_video(clip, None, est_flows, est_masks, "fast-blend", model=fast_net,
                                       progress=False)
        timed("fast-blend (DIS)", blend_dis)
    floor = video.warping_error(clip, flows, masks)
    h, w = clip.size
    print(f"\n{kind}: {len(clip)} frames of {w}x{h}, {args.steps} L-BFGS steps a frame, "
          f"{torch.get_num_threads()} threads")
    print("| method | warping error | x input | style term | seconds |")
    print("|---|---|---|---|---|")
    for name, (out, sec) in runs.items():
        e = video.warping_error(out, flows, masks)
        print(f"| {name} | {e:.4f} | {e / floor:.2f} | {style_term(net, clip, out, style_img):.3g} | {sec:.2f} |")


def main(argv=None) -> None:
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--kinds", nargs="+", default=["pan", "object"], choices=video.MOTIONS)
    p.add_argument("--size", type=int, default=192)
    p.add_argument("--frames", type=int, default=8)
    p.add_argument("--steps", type=int, default=30)
    p.add_argument("--threads", type=int, default=2)
    p.add_argument("--estimated", action="store_true", help="also blend along DIS-estimated flows")
    args = p.parse_args(argv)
    torch.set_num_threads(args.threads)
    net = VGG19Features(("relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), device="cpu")
    fast_net = zoo.load_model("fast-swirls")
    for kind in args.kinds:
        bench(kind, args, net, fast_net)


if __name__ == "__main__":
    main()
