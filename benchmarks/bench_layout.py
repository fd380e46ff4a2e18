"""Would channels_last, torch.compile or keeping freed memory make a VGG19 step faster here?

One step = forward and backward of the default style-transfer objective at
``--size`` px. Each variant is timed in this one process, interleaved over
several rounds (best time per variant), and printed as a ratio to the plain
step: above 1 means faster. The package adopts a variant only where this says
so on the machine in question; see the notes in the docstring's results.

    python benchmarks/bench_layout.py [--size 256] [--rounds 5] [--compile] [--only NAME ...]
    python benchmarks/bench_layout.py --size 1024 --peak 6

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

Keeping freed memory (``styletut.runtime.keep_freed_memory``, which ``run``
and ``stylize`` now use on the CPU), measured on the same machine
(2026-11-26, later), each time the mean of two steps after a first:

    size     plain      keep_freed   speed-up   page faults per step
    512 px   1636 ms    1503 ms      1.09x      76,391 -> 2,732       (best of 3)
    1024 px  7925 ms    5927 ms      1.34x      1,602,085 -> 5,440    (best of 2)
    2048 px  35278 ms   29195 ms     1.21x      7,166,150 -> 1,690,857 (one round, --only keep_freed)

Whole single-scale stylize runs (``--peak 6``: six steps, each run in a fresh
process, same machine and day): 512 px 1.90 -> 1.72 s/step, peak RSS 1255 ->
1273 MiB; 1024 px 9.09 -> 6.99 s/step, peak RSS 2595 -> 2948 MiB. The price is
memory: freed blocks stay with the process until the run ends, and the holes
they leave raise the peak by up to 14%, still under the estimate stylize
checks before a run (1582 and 3928 MiB at these sizes).

At 1024 px channels_last was 1.09x (it faulted 996,238 pages a step); not
adopted, as keeping freed memory removes the faults it partly avoids. At 2048
px some pages still go back to the kernel: mallopt's trim threshold is an int,
so glibc can be told to keep at most 2 GiB of freed memory at the top of its heap.
"""

from __future__ import annotations

import argparse
import contextlib
import resource
import time

import torch

from styletut.runtime import keep_freed_memory

# Steps timed per variant and round; the first of them is a warm-up, not timed: inside
# keep_freed_memory the first step still has to fetch its pages, as a run's first step does.
STEPS = 3


def _step_time(objective, img, memory_format=torch.contiguous_format, block=contextlib.nullcontext):
    """Mean seconds and minor page faults of the warm steps of a batch of STEPS steps inside ``block()``."""
    x = img.clone().to(memory_format=memory_format).requires_grad_(True)
    times, faults = [], []
    with block():
        for _ in range(STEPS):
            f = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
            t = time.perf_counter()
            x.grad = None
            sum(objective(x).values()).backward()
            times.append(time.perf_counter() - t)
            faults.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - f)
    return sum(times[1:]) / (STEPS - 1), sum(faults[1:]) / (STEPS - 1)


# --peak: a whole stylize run in a fresh process, so that its peak RSS is its own.
_PEAK_RUN = r"""
import contextlib, resource, sys
from styletut import optim, transfer
from styletut.data import sample
size, steps, keep = int(sys.argv[1]), int(sys.argv[2]), sys.argv[3] == "keep"
if not keep:  # the plain allocator: the block becomes a no-op
    optim.keep_freed_memory = transfer.keep_freed_memory = lambda enabled=True: contextlib.nullcontext(False)
r = transfer.stylize(sample("chelsea", size=size), sample("hubble_deep_field", size=size), size=size,
                     num_steps=steps, levels=1, progress=False, device="cpu")
print(r.timings["per_step_s"], resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024)
"""


def _peak(size: int, steps: int) -> None:
    """Seconds per step and peak RSS of single-scale ``stylize`` runs, plain allocator against keep_freed_memory."""
    import subprocess
    import sys

    print(f"stylize, single scale, {size} px, {steps} steps, each run in a fresh process:")
    for mode in ("plain", "keep"):
        out = subprocess.run([sys.executable, "-c", _PEAK_RUN, str(size), str(steps), mode], check=True,
                             capture_output=True, text=True).stdout.split()
        per_step, peak = float(out[-2]), int(out[-1])
        name = "keep_freed" if mode == "keep" else mode
        print(f"  {name:<12}{per_step:8.2f} s/step   peak RSS {peak / 2**20:7.0f} MiB")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--size", type=int, default=256)
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--compile", action="store_true", help="also try torch.compile (minutes to compile)")
    ap.add_argument("--only", nargs="+", metavar="NAME", help="time only these variants (plain is always timed)")
    ap.add_argument("--peak", type=int, metavar="STEPS",
                    help="instead: whole stylize runs of STEPS steps, plain against keep_freed_memory, with peak RSS")
    args = ap.parse_args()
    if args.peak:
        _peak(args.size, args.peak)
        return
    from styletut.data import sample
    from styletut.features import VGG19Features
    from styletut.transfer import StyleObjective

    layers = ("relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1", "relu4_2")
    content, style = sample("chelsea", size=args.size), sample("hubble_deep_field", size=args.size)
    plain_net = VGG19Features(layers)
    cl_net = VGG19Features(layers).to(memory_format=torch.channels_last)
    plain = StyleObjective(plain_net, content, style)
    variants = {
        "plain": (plain, torch.contiguous_format),
        "channels_last": (StyleObjective(cl_net, content.to(memory_format=torch.channels_last),
                                         style.to(memory_format=torch.channels_last)), torch.channels_last),
        "keep_freed": (plain, torch.contiguous_format, keep_freed_memory),
    }
    if args.compile:
        compiled = VGG19Features(layers)
        compiled.forward = torch.compile(compiled.forward)
        variants["torch.compile"] = (StyleObjective(compiled, content, style), torch.contiguous_format)
    if args.only:
        unknown = set(args.only) - set(variants)
        if unknown:
            ap.error(f"unknown variant(s) {', '.join(sorted(unknown))}; choose from {', '.join(variants)}")
        variants = {k: v for k, v in variants.items() if k == "plain" or k in args.only}
    best = {k: (float("inf"), 0.0) for k in variants}
    for obj, fmt, *_ in variants.values():
        _step_time(obj, content, fmt)  # warm-up (and compilation)
    for _ in range(args.rounds):
        for name, (obj, fmt, *block) in variants.items():
            best[name] = min(best[name], _step_time(obj, content, fmt, *block))
    print(f"torch {torch.__version__}, {torch.get_num_threads()} threads, {args.size} px, best of {args.rounds} "
          f"(each the mean of {STEPS - 1} steps after a first)")
    for name, (t, faults) in best.items():
        print(f"{name:<15}{t * 1000:9.1f} ms/step   speed-up {best['plain'][0] / t:5.2f}x   "
              f"{faults:10.0f} page faults/step")


if __name__ == "__main__":
    main()
