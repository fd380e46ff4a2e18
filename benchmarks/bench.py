"""`make bench`: styletut against pastiche and a classic-tutorial baseline, measured alike.

Every system paints the same content photo (``styletut.data.sample("chelsea")``)
in the style of the same image (``sample("hubble_deep_field")``), both written
once to PNG files at each size (longest side = ``--sizes``), with the method
of Gatys, Ecker & Bethge (2016): content layer relu4_2, style layers
relu1_1 .. relu5_1, the original Caffe VGG19 (styletut's default weights;
pastiche ships the same quantised file), L-BFGS, seed 0, starting from the
content image. Each system keeps its own loss weights and normalisation
(that is part of what is compared); one shared evaluator scores them all.

Systems (``--systems``), each run in a fresh process of its own, so the peak
memory is that system's alone:

- ``styletut``: ``stylize(..., levels=1, optimizer="lbfgs")``, ``--steps`` steps;
- ``styletut-multi``: ``stylize(..., levels=6)``, the coarse-to-fine pyramid
  with as many levels as keep the smallest at least 64 px on its long side
  (3 levels at 256 px, 4 at 512: the same pyramid ``stylize`` picks by
  itself from ``styletut.options.MULTISCALE_FROM`` = 512 px up), with
  stylize's default ``num_steps`` split across the levels by
  ``styletut.pyramid.split_steps`` (or ``--styletut-steps``;
  ``--styletut-levels`` asks for another number of levels). The levels it
  ran are printed under the table;
- ``pastiche``: pastiche 1.6.0's command line (its entry point
  ``pastiche.pastiche:main``, called in the child process with the argv
  ``.venv/bin/pastiche`` would get), ``--steps`` steps, saving its workspace
  images every ``--every`` steps;
- ``tutorial``: ``benchmarks/_tutorial_baseline.py``, the classic tutorial
  listing (loss modules inside an ``nn.Sequential`` copy of VGG19, torch's
  L-BFGS, clamping in the closure), ``--steps`` evaluations.

One iteration is one evaluation of the objective (one forward and one
backward pass through VGG19) in every system: styletut counts its steps that
way (the line-search trials of its box-constrained L-BFGS included); pastiche's step is one
``LBFGS.step`` with ``max_iter=1``, which evaluates once and updates once (no
line search); the tutorial baseline counts closure calls.

Trajectories. Every ``--every`` iterations (and at the end) each system's
current image is written to a PNG file, and the time it was written is
recorded, in seconds since the system's run began: after the interpreter and
the system's package were imported, before the images were read, the
weights loaded and the targets computed (so set-up is included, interpreter
start is not). styletut's snapshot is the best image of the current pyramid
level so far (what ``stylize`` would return if stopped there); the tutorial
baseline's and pastiche's are their current image. pastiche writes its own
workspace images; their times are the files' modification times (a few ms
coarse). Every system pays the same cost of writing a PNG per snapshot.

Columns of the table (one table per size):

- ``s/iter``: (time of the last snapshot - time of the first snapshot after
  iteration 0) / the iterations between them; set-up is excluded. For
  multi-scale this is the average over its levels (level changes included).
- ``xpast``: pastiche's s/iter divided by the system's (> 1: faster).
- ``setup s``: time of the first snapshot minus its iterations x s/iter
  (multi-scale: ``stylize``'s own ``setup_s``, as its steps differ in cost).
- ``GFLOP/it``: FLOPs of one forward + backward of the system's own
  objective at that size, counted by ``torch.utils.flop_counter.FlopCounterMode``
  (for multi-scale: per level, weighted by the steps run at each level).
- ``GFLOP/s``, ``%mm``: GFLOP/it / s/iter, and that as a percentage of the
  fp32 matmul rate measured in the same run (best of five 2048 x 2048
  ``torch.mm`` on the same device and threads).
- ``peak MiB``: on the CPU, the child process's peak resident set size
  (``VmHWM`` from ``/proc/self/status``; ``ru_maxrss`` where there is no
  /proc: on Linux ``ru_maxrss`` carries over the parent's peak across
  ``exec``, which is why this parent never imports torch); on CUDA,
  ``torch.cuda.max_memory_allocated``.
- ``content``, ``style``: the shared evaluator on the final image. At the
  benchmark size, content = mean squared error of VGG19 relu4_2 features
  against the content image's; style = the mean over relu1_1 .. relu5_1 of
  the mean squared error between Gram matrices ``F Fᵀ / (C·H·W)`` and the
  style image's. An image of another size (a coarse pyramid level) is
  resized to the content image's size first.
- ``to R@N s``, ``/R@N``: the time of the first snapshot whose content AND
  style are both at or below the reference R's at its last iteration N, and
  that time as a fraction of R's time to N (set-up included on both sides);
  "not reached" if no snapshot gets there. R is pastiche unless
  ``--reference`` names another system: at 1024 px, where pastiche's 300
  iterations would take most of an hour on 2 cores, the question is how soon
  coarse to fine matches styletut's own single-scale 300-step result:
  ``--sizes 1024 --systems styletut styletut-multi --reference styletut``.
  Measured on 2 CPU cores (2026-11-26): single scale's 300 steps take 2696 s;
  coarse to fine with ``--styletut-steps 500`` (100 at full size) passes that
  point on both axes after 1108 s (0.41; other work slowed 40 of its
  full-size steps, and undisturbed it would be about 890 s, 0.33); with 150
  or 350 steps it does not,
  because the content term needs about 90 full-size steps to come down. A
  sweep of 40 schedules on a GPU (levels, steps per level, a higher content
  weight on the coarse levels, a start mixed with the photo, L-BFGS memory
  8-100), costed in full-size steps, found none below 0.32, so the default
  split is unchanged. Why: the last level starts about ten times off in style
  however good the levels below were, because at this size the style score
  lives in the finest octave, which no coarser level can hold
  (``benchmarks/top_octave.py``); painting it costs full-size steps.
  (These times predate ``keep_freed_memory``, which makes a 1024 px step
  1.34 times as fast, single scale and the pyramid's last level alike:
  ``benchmarks/bench_layout.py``.)
  Five ways to paint it sooner were measured on 2 CPU cores (2026-11-26), each
  from the same cached start of the last level (the 500-step run's levels
  below it), scored as (content, style) relative to single scale's 300-step
  point. The plain last level starts at (1.06, 13.2) and is at (1.46, 0.87),
  (1.24, 0.74), (1.14, 0.86), (1.10, 0.86) after 10, 20, 30 and 40 steps: ten
  steps paint the style, and the content spike they cause is what the next 80
  undo. None of the five helped, so none is in the code: adding the style
  image's own finest octave (tiled) to the start, times 0.5, 1 or 2, starts at
  (1.20, 9.7), (1.43, 6.2), (1.88, 4.4), a worse trade than ten steps make; an
  extra level at 1/sqrt(2) of the size (30 steps, about 15 full-size steps'
  cost) starts the last level at (1.06, 7.2) and leaves it at (1.10, 0.88)
  after 30 steps, 4% better in content for a quarter of the 60 full-size steps
  that 1/5 of single scale's time allows; a content weight 4 times the user's
  for the last level's first 15 steps holds the content at 0.88-0.93 but
  leaves the style at 5.3, and the spike follows as soon as the weight returns
  ((1.12, 0.92) at step 30); Adam (lr 0.02) on the last level is at content
  1.68 after 15 steps; and L-BFGS on a Fourier-preconditioned image (low
  frequencies moved up to 33 times as far, ``(|f| + 1/64)^-1``) is at content
  1.23 after 30 steps against 1.16 for the same L-BFGS unpreconditioned;
  the reverse, high frequencies moved farther (2026-11-27; ``|f|`` raised to
  0.5 or 1 instead of -1, so the lowest move 0.17 or 0.03 times as far as the
  highest), is at 1.18 or 1.21 after 30 steps: a fixed rescaling of the
  frequencies slows L-BFGS whichever way it leans.

On CUDA (``--device cuda``, or ``auto`` where there is a GPU) the same table
is printed with ``CUDA MiB``; a GPU step takes milliseconds, so the PNG each
snapshot writes weighs more there: use a larger ``--every`` (20 was used on an
H200). Which box-constrained L-BFGS runs on a GPU, and why there is no
mixed-precision path, is measured in ``benchmarks/bench_gpu.py``.

No timed assertions anywhere: the numbers are printed, and depend on the
machine and its load. ``--quick`` (64 px, 30 iterations) checks that the
script runs end to end in a few minutes; the full run at 256 and 512 px
takes tens of minutes on 2 CPU cores.

Run: ``make bench`` or
``.venv/bin/python benchmarks/bench.py [--sizes 256 512] [--systems styletut pastiche] [--device auto] [--quick]``.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

# The parent process never imports torch: the children's peak memory must be
# theirs alone (see the docstring on ru_maxrss), and torch is imported only
# inside the child functions below. styletut.options is torch-free.
from styletut.options import MAX_LEVELS, MIN_LEVEL_SIZE  # noqa: E402

from _evaluator import CONTENT_LAYER, STYLE_LAYERS, Evaluator, make_net  # noqa: E402  (the shared evaluator)

CONTENT_NAME, STYLE_NAME = "chelsea", "hubble_deep_field"
SEED = 0

SYSTEMS = {
    "styletut": "styletut single-scale",
    "styletut-multi": "styletut multi-scale",
    "pastiche": "pastiche",
    "tutorial": "tutorial baseline",
}

_MATMUL_N, _MATMUL_REPEATS = 2048, 5
_HERE = Path(__file__).resolve().parent


# ============================================================ the parent


def _parse_args(argv=None) -> argparse.Namespace:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0],
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--sizes", type=int, nargs="+", default=None,
                   help="longest sides in pixels (default 256 512; --quick: 64)")
    p.add_argument("--systems", nargs="+", choices=list(SYSTEMS), default=list(SYSTEMS),
                   help="which systems to run (default: all)")
    p.add_argument("--steps", type=int, default=None,
                   help="iterations of pastiche, the tutorial baseline and styletut single-scale; "
                        "pastiche at this iteration is the reference point (default 300; --quick: 30)")
    p.add_argument("--styletut-steps", type=int, default=None,
                   help="steps of styletut multi-scale (default: stylize's own num_steps; --quick: 30)")
    p.add_argument("--styletut-levels", type=int, default=MAX_LEVELS,
                   help=f"pyramid levels of styletut multi-scale (default {MAX_LEVELS}: as many as keep the "
                        f"smallest level at least {MIN_LEVEL_SIZE} px)")
    p.add_argument("--reference", choices=list(SYSTEMS), default="pastiche",
                   help="the system whose result at its last iteration (--steps) is the point the others "
                        "race to (default pastiche; at 1024 px and up, styletut single-scale)")
    p.add_argument("--every", type=int, default=None,
                   help="iterations between saved snapshots (default 10; --quick: 5)")
    p.add_argument("--device", choices=("auto", "cpu", "cuda"), default="auto",
                   help="auto: CUDA when present (default)")
    p.add_argument("--box-lbfgs", choices=("auto", "scipy", "torch"), default="auto",
                   help="styletut's box-constrained L-BFGS: scipy's L-BFGS-B or styletut.box_lbfgs "
                        "(default auto: what optim.run picks for the device)")
    p.add_argument("--quick", action="store_true", help="64 px and 30 iterations: an end-to-end check")
    p.add_argument("--tutorial-style-weight", type=float, default=None,
                   help="β of the tutorial baseline (default: _tutorial_baseline.STYLE_WEIGHT, ~301)")
    p.add_argument("--keep", metavar="DIR", default=None,
                   help="keep the images, snapshots and results.json in DIR (default: a temporary "
                        "folder, removed at the end)")
    p.add_argument("--_child", default=None, help=argparse.SUPPRESS)
    p.add_argument("--_params", default=None, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args._child is None:
        if args.sizes is None:
            args.sizes = [64] if args.quick else [256, 512]
        if args.steps is None:
            args.steps = 30 if args.quick else 300
        if args.styletut_steps is None and args.quick:
            args.styletut_steps = 30
        if args.every is None:
            args.every = 5 if args.quick else 10
        for name in ("steps", "every"):
            if getattr(args, name) < 1:
                p.error(f"--{name} must be at least 1, got {getattr(args, name)}")
        for name in ("styletut_steps", "styletut_levels"):
            value = getattr(args, name)
            if value is not None and value < 1:
                p.error(f"--{name.replace('_', '-')} must be at least 1, got {value}")
        if args.reference not in args.systems:
            p.error(f"--reference {args.reference} must be one of the systems run: {' '.join(args.systems)}")
        bad = [s for s in args.sizes if s < 16]
        if bad:
            p.error(f"--sizes must be at least 16 px (VGG19 pools four times before relu5_1), got {bad}")
    return args


def _spawn(kind: str, params: dict, work: Path) -> dict:
    """Run one child process; return its result dict, or ``{"error": ...}`` if it failed."""
    result = work / f"result-{kind}-{params.get('system', 'all')}-{params.get('size', 'all')}.json"
    params = dict(params, result=str(result))
    cmd = [sys.executable, str(Path(__file__).resolve()), "--_child", kind, "--_params", json.dumps(params)]
    proc = subprocess.run(cmd, capture_output=True, text=True)
    if proc.returncode != 0 or not result.exists():
        tail = "\n".join((proc.stderr or proc.stdout).strip().splitlines()[-6:])
        return {"error": f"exit status {proc.returncode}: {tail}"}
    return json.loads(result.read_text())


def _cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or platform.machine()


def _machine_line(info: dict) -> str:
    usable = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    dev = info["device"] + (f" ({info['device_name']})" if info.get("device_name") else "")
    return (f"machine: {_cpu_model()}, {os.cpu_count()} CPUs ({usable} usable), "
            f"OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS', 'unset')}, torch {info['torch']} "
            f"({info['threads']} threads), python {platform.python_version()}, device {dev}")


def main(argv=None) -> int:
    args = _parse_args(argv)
    if args._child is not None:
        _child_main(args._child, json.loads(args._params))
        return 0
    work = Path(args.keep) if args.keep else Path(tempfile.mkdtemp(prefix="styletut-bench-"))
    work.mkdir(parents=True, exist_ok=True)
    try:
        return _bench(args, work)
    finally:
        if not args.keep:
            shutil.rmtree(work, ignore_errors=True)


def _bench(args: argparse.Namespace, work: Path) -> int:
    t_start = time.perf_counter()
    info = _spawn("prepare", {"sizes": args.sizes, "device": args.device, "work": str(work)}, work)
    if "error" in info:
        print(f"could not prepare the images or the device:\n{info['error']}", file=sys.stderr)
        return 1
    print(_machine_line(info))
    print(f"content {CONTENT_NAME!r}, style {STYLE_NAME!r}; content layer {CONTENT_LAYER}, style layers "
          f"{', '.join(STYLE_LAYERS)}; original Caffe VGG19; L-BFGS; seed {SEED}; snapshot every "
          f"{args.every} iterations" + ("" if args.box_lbfgs == "auto" else
                                         f"; styletut's box L-BFGS: {args.box_lbfgs}"))
    systems = [s for s in SYSTEMS if s in args.systems]
    if "styletut-multi" in systems and not info["has_levels"]:
        print("note: styletut multi-scale skipped: StylizeOptions has no 'levels' field yet "
              "(styletut/options.py); single-scale runs without it")
        systems.remove("styletut-multi")
    runs: dict[str, dict[str, dict]] = {}
    for size in args.sizes:
        runs[str(size)] = {}
        for system in systems:
            params = {"system": system, "size": size, "device": info["device"], "work": str(work),
                      "steps": args.styletut_steps if system == "styletut-multi" else args.steps,
                      "every": args.every, "has_levels": info["has_levels"], "styletut_levels": args.styletut_levels,
                      "tutorial_style_weight": args.tutorial_style_weight, "box_lbfgs": args.box_lbfgs}
            t = time.perf_counter()
            print(f"  running {SYSTEMS[system]} at {size} px ...", end="", flush=True)
            res = _spawn("run", params, work)
            runs[str(size)][system] = res
            print(" failed" if "error" in res else f" {time.perf_counter() - t:.0f} s", flush=True)
    print("  scoring every snapshot with the shared evaluator ...", flush=True)
    scores = _spawn("analyse", {"sizes": args.sizes, "device": info["device"], "work": str(work),
                                "runs": runs}, work)
    if "error" in scores:
        print(f"the evaluation failed:\n{scores['error']}", file=sys.stderr)
        return 1
    print(f"fp32 matmul rate ({_MATMUL_N} x {_MATMUL_N} torch.mm, best of {_MATMUL_REPEATS}): "
          f"{scores['matmul_flops'] / 1e9:.1f} GFLOP/s")
    for size in args.sizes:
        print()
        _print_table(size, info, runs[str(size)], scores["sizes"][str(size)], scores["matmul_flops"], args.steps,
                     args.reference)
    peak = ("CUDA MiB = torch.cuda.max_memory_allocated" if info["device"] == "cuda"
            else "peak MiB = the child process's peak RSS (VmHWM)")
    print()
    print(_LEGEND.format(peak=peak))
    (work / "results.json").write_text(json.dumps({"info": info, "runs": runs, "scores": scores}, indent=1))
    if args.keep:
        print(f"\nimages, snapshots and results.json kept in {work}")
    print(f"\nbenchmark wall time {time.perf_counter() - t_start:.0f} s")
    return 0


# ------------------------------------------------------------ the table


def _summary(run: dict, scored: dict) -> dict:
    """s/iter, set-up and the final scores of one system from its snapshots."""
    snaps = sorted(({**s, **e} for s, e in zip(run["snapshots"], scored["evals"])), key=lambda s: s["t"])
    after0 = [s for s in snaps if s["step"] > 0]
    first, last = after0[0], after0[-1]
    if last["step"] > first["step"]:
        s_iter = (last["t"] - first["t"]) / (last["step"] - first["step"])
    else:  # one snapshot only: set-up cannot be separated out
        s_iter = last["t"] / last["step"]
    return {"snaps": snaps, "s_iter": s_iter, "setup": first["t"] - first["step"] * s_iter,
            "final": max(after0, key=lambda s: (s["step"], s["t"])), "iters": last["step"]}


def _fmt(x: float | None, spec: str, width: int) -> str:
    return f"{'n/a':>{width}}" if x is None else f"{x:>{width}{spec}}"


def _print_table(size: int, info: dict, runs: dict, scored: dict, matmul: float, ref_steps: int,
                 ref_system: str = "pastiche") -> None:
    shapes = info["shapes"][str(size)]
    print(f"size {size} px: content {shapes['content'][1]}x{shapes['content'][0]}, style "
          f"{shapes['style'][1]}x{shapes['style'][0]} (width x height), device {info['device']}")
    rows, failed = {}, []
    for system, run in runs.items():
        if "error" in run or "error" in scored.get(system, {"error": "not scored"}):
            failed.append((system, run.get("error") or scored[system]["error"]))
            continue
        if not any(s["step"] > 0 for s in run["snapshots"]):
            failed.append((system, "no snapshot after iteration 0 (the run ended before its first step)"))
            continue
        rows[system] = {**_summary(run, scored[system]), "run": run, "flops": scored[system]["flops"]}
        if len(run.get("levels") or []) > 1 and run.get("stylize_timings"):
            # Steps at different levels cost different times, so "first snapshot
            # less its steps x s/iter" means nothing here: take stylize's own count.
            rows[system]["setup"] = run["stylize_timings"]["setup_s"]
    past, ref = rows.get("pastiche"), rows.get(ref_system)
    ref_point = None
    if ref is not None and ref["final"]["step"] == ref_steps:
        ref_point = ref["final"]
        print(f"reference R: {SYSTEMS[ref_system]} at iteration {ref_steps}: content {ref_point['content']:.4g}, "
              f"style {ref_point['style']:.4g}, {ref_point['t']:.1f} s")
    else:
        print(f"reference: none ({SYSTEMS[ref_system]} did not run to its last iteration)")
    peak_kind = "CUDA MiB" if info["device"].startswith("cuda") else "peak MiB"
    head = (f"{'system':<22}{'iters':>6}{'s/iter':>9}{'vsPast':>7}{'setup s':>8}{'GFLOP/it':>9}{'GFLOP/s':>9}"
            f"{'%mm':>6}{peak_kind:>10}{'content':>11}{'style':>11}{f'to R@{ref_steps} s':>13}{f'/R@{ref_steps}':>8}")
    print(head)
    print("-" * len(head))
    for system, r in rows.items():
        ratio = past["s_iter"] / r["s_iter"] if past is not None else None
        gflop = r["flops"] / 1e9
        rate = r["flops"] / r["s_iter"]
        reach_t = reach_f = None
        if ref_point is not None:
            hit = next((s for s in r["snaps"] if s["step"] > 0 and s["content"] <= ref_point["content"]
                        and s["style"] <= ref_point["style"]), None)
            if hit is not None:
                reach_t, reach_f = hit["t"], hit["t"] / ref_point["t"]
        line = (f"{SYSTEMS[system]:<22}{r['iters']:>6d}{r['s_iter']:>9.3f}{_fmt(ratio, '.2f', 7)}"
                f"{r['setup']:>8.2f}{gflop:>9.2f}{rate / 1e9:>9.1f}{100 * rate / matmul:>5.0f}%"
                f"{r['run']['peak_bytes'] / 2 ** 20:>10.0f}{r['final']['content']:>11.4g}{r['final']['style']:>11.4g}")
        if ref_point is None:
            line += f"{'n/a':>13}{'n/a':>8}"
        elif reach_t is None:
            line += f"{'not reached':>13}{'':>8}"
        else:
            line += f"{reach_t:>13.1f}{reach_f:>8.3f}"
        print(line)
    for system, r in rows.items():
        levels = r["run"].get("levels") or []
        if len(levels) > 1:
            desc = ", ".join(f"{w}x{h} ({n} steps)" for h, w, n in levels)
            print(f"  {SYSTEMS[system]} levels: {desc}")
    for system, err in failed:
        print(f"  {SYSTEMS[system]}: FAILED: {err}")


_LEGEND = """\
columns: s/iter = seconds per iteration (one forward + backward), set-up excluded; vsPast = pastiche's
s/iter / this s/iter (> 1: faster than pastiche); setup s = time to the first snapshot less its iterations
(multi-scale: stylize's own set-up time, as its steps differ in cost from level to level);
GFLOP/it = FlopCounterMode on one forward + backward at this size (multi-scale: step-weighted over levels);
GFLOP/s = GFLOP/it / s/iter, %mm = that against the fp32 matmul rate above;
{peak};
content, style = the shared evaluator on the final image (relu4_2 feature MSE; mean over relu1_1..relu5_1
of Gram MSE, Gram = F F^T / (C*H*W)); to R@N s = time (set-up included) of the first snapshot at or below
the reference R's iteration-N content AND style, /R@N = that time / R's time to iteration N."""


# ============================================================ the children


def _child_main(kind: str, params: dict) -> None:
    out = {"prepare": _child_prepare, "run": _child_run, "analyse": _child_analyse}[kind](params)
    Path(params["result"]).write_text(json.dumps(out))


def _size_dir(work: str, size: int) -> Path:
    return Path(work) / f"{size}px"


def _child_prepare(p: dict) -> dict:
    """Write the content and style PNGs at every size; describe torch and the device."""
    import dataclasses

    import torch

    from styletut.data import sample
    from styletut.images import save_image
    from styletut.runtime import resolve_device
    from styletut.transfer import StylizeOptions

    device = resolve_device(p["device"])
    shapes = {}
    for size in p["sizes"]:
        d = _size_dir(p["work"], size)
        d.mkdir(parents=True, exist_ok=True)
        content, style = sample(CONTENT_NAME, size=size), sample(STYLE_NAME, size=size)
        save_image(content, d / "content.png")
        save_image(style, d / "style.png")
        shapes[str(size)] = {"content": list(content.shape[-2:]), "style": list(style.shape[-2:])}
    return {
        "torch": torch.__version__,
        "threads": torch.get_num_threads(),
        "device": "cuda" if device.type == "cuda" else "cpu",
        "device_name": torch.cuda.get_device_name(device) if device.type == "cuda" else None,
        "has_levels": "levels" in {f.name for f in dataclasses.fields(StylizeOptions)},
        "shapes": shapes,
    }


def _write_png(img, path: Path) -> None:
    """``(1, 3, H, W)`` in [0, 1] -> 8-bit PNG (rounded, as pastiche writes its own)."""
    import torch
    from PIL import Image

    arr = (img.detach()[0].clamp(0, 1) * 255).round().to(torch.uint8).permute(1, 2, 0).cpu().numpy()
    Image.fromarray(arr).save(path)


def _peak_memory(device: str) -> tuple[int, str, int]:
    """``(peak bytes, what was measured, ru_maxrss in bytes)`` of this process."""
    import resource

    import torch

    maxrss = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    maxrss *= 1 if sys.platform == "darwin" else 1024  # bytes on macOS, KiB on Linux
    if device.startswith("cuda"):
        torch.cuda.synchronize()
        return torch.cuda.max_memory_allocated(), "cuda max_memory_allocated", maxrss
    try:
        # VmHWM is this process image's own peak; ru_maxrss keeps the parent's
        # peak across exec (the larger of the two), so it is the fallback only.
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024, "VmHWM", maxrss
    except OSError:
        pass
    return maxrss, "ru_maxrss", maxrss


class _Snapshots:
    """Writes snapshot PNGs and records when each was written (seconds since ``t0``)."""

    def __init__(self, folder: Path, device: str, t0: float):
        self.folder, self.device, self.t0 = folder, device, t0
        self.folder.mkdir(parents=True, exist_ok=True)
        self.taken: list[dict] = []

    def take(self, step: int, img) -> None:
        import torch

        name = f"{step:06d}.png"
        _write_png(img, self.folder / name)
        if self.device.startswith("cuda"):
            torch.cuda.synchronize()
        self.taken.append({"step": step, "t": time.perf_counter() - self.t0, "file": name})

    @property
    def last_step(self) -> int:
        return self.taken[-1]["step"] if self.taken else 0


class _StyletutRecorder:
    """``stylize``'s callback: counts steps and levels, keeps each level's best image, snapshots it."""

    def __init__(self, snaps: _Snapshots, every: int):
        self.snaps, self.every = snaps, every
        self.calls = 0
        self.levels: list[list[int]] = []  # [height, width, steps] per pyramid level
        self.best, self.best_total = None, float("inf")

    def __call__(self, info) -> None:
        self.calls += 1
        h, w = info.image.shape[-2:]
        if not self.levels or self.levels[-1][:2] != [h, w]:
            # A new pyramid level: losses at another size are not comparable.
            self.levels.append([h, w, 0])
            self.best, self.best_total = None, float("inf")
        self.levels[-1][2] += 1
        total = info.losses["total"]
        if self.best is None or total < self.best_total:
            self.best, self.best_total = info.image.detach().clone(), total
        if self.calls % self.every == 0:
            self.snaps.take(self.calls, self.best)


def _child_run(p: dict) -> dict:
    """Run one system at one size; write its snapshots; return their times and the peak memory."""
    import torch  # imported before t0: interpreter start-up is not timed

    system, size, device, every = p["system"], p["size"], p["device"], p["every"]
    if device.startswith("cuda"):
        # Create the CUDA context before t0 too: like interpreter start-up, it
        # is the same for every system and not part of style transfer.
        torch.zeros(1, device=device)
        torch.cuda.synchronize()
    d = _size_dir(p["work"], size)
    content_png, style_png = str(d / "content.png"), str(d / "style.png")
    folder = d / system
    out = {"system": system, "size": size, "threads": torch.get_num_threads()}
    if system in ("styletut", "styletut-multi"):
        from styletut.transfer import stylize

        if p.get("box_lbfgs", "auto") != "auto":
            from styletut import optim

            optim._BOX_LBFGS[torch.device(device).type] = p["box_lbfgs"]

        kwargs = dict(size=size, style_size=size, optimizer="lbfgs", device=device, seed=SEED, progress=False,
                      weights="caffe", content_layers=(CONTENT_LAYER,), style_layers=STYLE_LAYERS)
        if p["has_levels"]:
            kwargs["levels"] = 1 if system == "styletut" else p["styletut_levels"]
        if p["steps"] is not None:
            kwargs["num_steps"] = p["steps"]
        t0 = time.perf_counter()
        snaps = _Snapshots(folder, device, t0)
        recorder = _StyletutRecorder(snaps, every)
        result = stylize(content_png, style_png, callback=recorder, **kwargs)
        if snaps.last_step != recorder.calls:  # the end, when not on a multiple of `every`
            snaps.take(recorder.calls, result.image)
        out.update(levels=recorder.levels, stylize_timings=result.timings,
                   stylize_levels=getattr(result, "levels", None), lean=bool(getattr(result, "lean_memory", False)))
    elif system == "tutorial":
        import _tutorial_baseline as tutorial

        from styletut.images import load_image

        weight = p["tutorial_style_weight"]
        weight = tutorial.STYLE_WEIGHT if weight is None else weight
        t0 = time.perf_counter()
        snaps = _Snapshots(folder, device, t0)
        steps = p["steps"]
        content, style = load_image(content_png), load_image(style_png)

        def on_eval(k: int, img) -> None:
            if k % every == 0 or k == steps:
                snaps.take(k, img)

        img = tutorial.transfer(content, style, steps, style_weight=weight, content_layers=(CONTENT_LAYER,),
                                style_layers=STYLE_LAYERS, device=device, callback=on_eval)
        h, w = img.shape[-2:]
        out.update(levels=[[h, w, steps]], style_weight=weight)
    elif system == "pastiche":
        from pastiche.pastiche import main as pastiche_main

        folder.mkdir(parents=True, exist_ok=True)
        argv = ["pastiche", "--content", content_png, "--styles", style_png, "--output", str(d / "pastiche.png"),
                "--size", str(size), "--style-size", str(size), "--num-steps", str(p["steps"]),
                "--optimizer", "lbfgs", "--pooling", "max", "--seed", str(SEED), "--device", device,
                "--content-layers", _pastiche_layer(CONTENT_LAYER),
                "--style-layers", *map(_pastiche_layer, STYLE_LAYERS),
                "--workspace", str(folder), "--workspace-step", str(every), "--no-verbose"]
        t0_wall = time.time()
        pastiche_main(argv)
        taken = []
        for f in sorted(folder.glob("*.png")):
            # pastiche names its workspace images by step; the file's mtime is when it was written.
            taken.append({"step": int(f.stem), "t": f.stat().st_mtime - t0_wall, "file": f.name})
        snaps = argparse.Namespace(taken=taken)
        out.update(levels=[[None, None, p["steps"]]])
    else:
        raise ValueError(f"unknown system {system!r}; choose one of: {', '.join(SYSTEMS)}")
    peak, kind, maxrss = _peak_memory(device)
    out.update(snapshots=snaps.taken, peak_bytes=peak, peak_kind=kind, ru_maxrss_bytes=maxrss)
    return out


def _pastiche_layer(name: str) -> str:
    """styletut's ``relu4_2`` is pastiche's ``block4_relu2``."""
    block, index = name.removeprefix("relu").split("_")
    return f"block{block}_relu{index}"


# ------------------------------------------------------------ scoring


def _matmul_rate(device: str) -> float:
    """The best fp32 ``torch.mm`` rate in FLOP/s on ``device``, with this process's threads."""
    import torch

    g = torch.Generator().manual_seed(0)
    a = torch.randn(_MATMUL_N, _MATMUL_N, generator=g).to(device)
    b = torch.randn(_MATMUL_N, _MATMUL_N, generator=g).to(device)
    torch.mm(a, b)  # warm-up: thread pool, kernels, caches
    best = float("inf")
    for _ in range(_MATMUL_REPEATS):
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        t = time.perf_counter()
        torch.mm(a, b)
        if device.startswith("cuda"):
            torch.cuda.synchronize()
        best = min(best, time.perf_counter() - t)
    return 2 * _MATMUL_N ** 3 / best


def _count_flops(fn) -> int:
    """FLOPs of ``fn()`` (a forward and a backward), as ``FlopCounterMode`` counts them."""
    from torch.utils.flop_counter import FlopCounterMode

    with FlopCounterMode(display=False) as counter:
        fn()
    return counter.get_total_flops()


def _styletut_flops(net, content, style, hw) -> int:
    """One forward + backward of styletut's objective for an image of size ``hw``."""
    import torch.nn.functional as F

    from styletut.transfer import StyleObjective

    c = content if tuple(content.shape[-2:]) == tuple(hw) else F.interpolate(
        content, size=tuple(hw), mode="bilinear", align_corners=False, antialias=True)
    objective = StyleObjective(net, c, style, (CONTENT_LAYER,), STYLE_LAYERS)
    x = c.clone().requires_grad_(True)
    return _count_flops(lambda: sum(objective(x).values()).backward())


def _system_flops(system: str, run: dict, d: Path, content, style, device: str) -> float:
    """FLOPs per iteration of ``system`` (multi-scale: weighted by the steps at each level)."""
    if system in ("styletut", "styletut-multi"):
        from styletut.features import VGG19Features

        # The network stylize ran: with the memory-lean path the backward
        # pass recomputes activations, and those FLOPs count too.
        net = VGG19Features(list(dict.fromkeys((CONTENT_LAYER, *STYLE_LAYERS))), weights="caffe",
                            device=device, lean=run.get("lean", False))
        total = sum(_styletut_flops(net, content, style, (h, w)) * n for h, w, n in run["levels"])
        return total / sum(n for _, _, n in run["levels"])
    if system == "tutorial":
        import _tutorial_baseline as tutorial

        model, c_losses, s_losses = tutorial.build_model(content, style, (CONTENT_LAYER,), STYLE_LAYERS, device)
        x = content.clone().requires_grad_(True)
        return _count_flops(lambda: tutorial.objective(model, c_losses, s_losses, x).backward())
    if system == "pastiche":
        from pastiche.pastiche import PasticheArtist

        size = max(content.shape[-2:])
        artist = PasticheArtist(str(d / "content.png"), [str(d / "style.png")], size=size, style_size=size,
                                device=device, content_layers=[_pastiche_layer(CONTENT_LAYER)],
                                style_layers=[_pastiche_layer(l) for l in STYLE_LAYERS])
        # What each of its steps evaluates (its LBFGS.step with max_iter=1 calls this once).
        return _count_flops(lambda: artist._calc_loss().backward())
    raise ValueError(f"unknown system {system!r}")


def _child_analyse(p: dict) -> dict:
    """The shared evaluator on every snapshot, FLOPs per iteration, and the matmul rate."""
    from styletut.images import load_image

    device = p["device"]
    out = {"matmul_flops": _matmul_rate(device), "sizes": {}}
    net = make_net(device)
    for size in p["sizes"]:
        d = _size_dir(p["work"], size)
        content = load_image(d / "content.png").to(device)
        style = load_image(d / "style.png").to(device)
        score = Evaluator(net)(content, style)

        per_system = {}
        for system, run in p["runs"][str(size)].items():
            if "error" in run:
                continue
            try:
                evals = [score(load_image(d / system / s["file"]).to(device)) for s in run["snapshots"]]
                flops = _system_flops(system, run, d, content, style, device)
                per_system[system] = {"evals": evals, "flops": flops}
            except Exception as err:  # one system's failure must not hide the others' numbers
                per_system[system] = {"error": f"{type(err).__name__}: {err}"}
        out["sizes"][str(size)] = per_system
    return out


if __name__ == "__main__":
    sys.exit(main())
