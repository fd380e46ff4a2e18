"""Would channels_last, more threads or torch.compile make a VGG19 step faster here?

One step = forward and backward of the default style-transfer objective at
``--size`` px. Each variant is timed in this one process, interleaved over
several rounds (best time per variant), and printed as a ratio to the plain
step: above 1 means faster. The package adopts a variant only where this says
so on the machine in question; see the notes in the docstring's results.

    python benchmarks/bench_layout.py [--size 256] [--rounds 5] [--compile]

Measured on the 2-core CPU machine (2026-11-26, torch 2.14.1, 2 threads, 256 px,
best of 4): plain 378.2 ms/step, channels_last 378.4 ms/step (1.00x). No gain,
so the package keeps the default layout. torch.compile (``--compile``, the
default inductor mode, compiling VGG19Features.forward), measured on the same
machine later that day, interleaved with the plain step in one process while
another job shared the two cores (so every step was slower; the ratios are
what count), 256 px, best of 4: plain 730 ms/step, torch.compile 776 ms/step
(0.94x), channels_last 845 ms/step (0.86x). No gain, so no compile path in
the package: the convolutions, ~95% of a step, run in the same library
kernels either way, and what inductor can fuse around them is a few percent.
Mixed precision is a CUDA option and needs a GPU to measure; none was lent to
this task.
"""

from __future__ import annotations

import argparse
import time

import torch


def _step_time(objective, img, memory_format=torch.contiguous_format) -> float:
    x = img.clone().to(memory_format=memory_format).requires_grad_(True)
    t = time.perf_counter()
    sum(objective(x).values()).backward()
    return time.perf_counter() - t


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--compile", action="store_true", help="also try torch.compile (minutes to compile)")
    args = ap.parse_args()
    from styletut.data import sample
    from styletut.features import VGG19Features
    from styletut.transfer import StyleObjective

    layers = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu4_2")
    content, style = sample("chelsea", size=args.size), sample("hubble_deep_field", size=args.size)
    plain_net = VGG19Features(layers)
    cl_net = VGG19Features(layers).to(memory_format=torch.channels_last)
    variants = {
        "plain": (StyleObjective(plain_net, content, style), torch.contiguous_format),
        "channels_last": (StyleObjective(cl_net, content.to(memory_format=torch.channels_last),
                                         style.to(memory_format=torch.channels_last)), torch.channels_last),
    }
    if args.compile:
        compiled = VGG19Features(layers)
        compiled.forward = torch.compile(compiled.forward)
        variants["torch.compile"] = (StyleObjective(compiled, content, style), torch.contiguous_format)
    best = {k: float("inf") for k in variants}
    for name, (obj, fmt) in variants.items():
        _step_time(obj, content, fmt)  # warm-up (and compilation)
    for _ in range(args.rounds):
        for name, (obj, fmt) in variants.items():
            best[name] = min(best[name], _step_time(obj, content, fmt))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.size} px, best of {args.rounds}")
    for name, t in best.items():
        print(f"{name:<15}{t * 1000:9.1f} ms/step   speed-up {best['plain'] / t:5.2f}x")


if __name__ == "__main__":
    main()
