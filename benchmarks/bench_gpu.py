"""On a CUDA GPU: where a step's time goes, which box L-BFGS to run, and whether mixed precision pays.

Three measurements, chelsea painted with hubble_deep_field (the pair of
``bench.py``), stylize's default layers and weights, single scale:

1. **Optimiser.** The same run with scipy's L-BFGS-B (on the host: each
   evaluation copies the image to the CPU and back, and the Fortran routine
   runs on one core) and with ``styletut.box_lbfgs.projected_lbfgs`` (on the
   GPU). Seconds per step, and the objective ``J`` of each returned image.
2. **The network's pass alone.** One evaluation of the objective (VGG19
   forward to relu5_1, losses, backward) in strict fp32, in TF32 (PyTorch's
   default for cuDNN convolutions), and under ``torch.autocast`` in bf16 and
   fp16 (network in low precision, Gram matrices and losses in fp32): ms per
   evaluation, ratio to fp32, and the gradient's relative error against fp32.
3. **Mixed precision end to end.** stylize with the network under bf16
   autocast against the default; every returned image is scored by one fp32
   objective, so the ``J`` column compares like with like.

Measured on an NVIDIA H200 (torch 2.11.0+cu130), 2026-11-26, 60 steps:

==== ============================ ========= ==========================
size optimiser                    s/step    J returned (scipy = 1)
==== ============================ ========= ==========================
512  scipy L-BFGS-B (host)        0.237     1.000
512  projected L-BFGS (device)    0.0074    0.969
1024 scipy L-BFGS-B (host)        0.957     1.000
1024 projected L-BFGS (device)    0.0162    1.014
==== ============================ ========= ==========================

So on CUDA ``optim.run`` uses the projected L-BFGS (32x and 59x faster per
step, the same J within the spread of repeated GPU runs, which was about 3%
after 60 steps: cuDNN's kernels do not add in a fixed order). These numbers
are from its first version, whose line search only halved a failed step.
Since then it shortens to a fitted parabola's minimum and stretches a full
step that ends still steep; measured on the CPU against scipy's L-BFGS-B
(``optim._BOX_LBFGS["cpu"] = "torch"``): lesson 08's three-layer stained-glass
run (192 px, 28 steps) ends with relu1_1 / relu2_1 / relu3_1 Gram errors
0.012 / 0.006 / 0.022 (first version 0.107 / 0.017 / 0.057 after the parabola
alone, 0.324 / 0.062 / 0.106 before; scipy 0.009 / 0.005 / 0.019), and
chelsea + hubble_deep_field at 128 px, 100 steps, J = 5.875e5 (scipy 5.860e5),
10% faster per step. With that line search it became the default on the CPU
as well (``_BOX_LBFGS`` all ``"torch"``): ``make bench`` on the 2-core CPU,
2026-11-26, gives coarse to fine at 256 px the same final scores as the
first version to four digits, and single scale at 256 / 512 px 910 / 1351 MiB
peak against 1026 / 1595 with scipy.

==== ========= ====== ======== ================
size precision ms     vs fp32  gradient error
==== ========= ====== ======== ================
512  fp32      9.61   1.00x    0
512  TF32      5.30   1.81x    2.0e-2
512  bf16      5.94   1.62x    9.4e-2
512  fp16      6.03   1.59x    NaN
1024 fp32      27.74  1.00x    0
1024 TF32      13.87  2.00x    2.1e-2
1024 bf16      11.78  2.35x    1.3e-1
1024 fp16      11.63  2.38x    NaN
==== ========= ====== ======== ================

End to end (section 3), bf16 against the TF32 default: 0.87x the speed at
512 px, 1.11x at 1024 px, with J of the returned image 0.97x in both (inside
the ~3% run-to-run spread). **Verdict: no mixed-precision path.** TF32,
which PyTorch already uses for cuDNN convolutions, gives most of the gain of
lower precision; bf16 adds at most 11% at 1024 px, loses at 512 px (the
casts cost more than they save on small maps) and multiplies the gradient's
error six-fold; fp16 overflows: the original Caffe VGG19 takes pixels in
0..255, and its deeper activations pass fp16's largest value (65504), so
every gradient is NaN.

Run: ``python benchmarks/bench_gpu.py [--sizes 512 1024 2048] [--steps 100]``.
Prints tables; no timed tests. On a machine without CUDA it says so and exits
(``--device cpu --sizes 64 --steps 5`` is a smoke check of this script itself).
"""

from __future__ import annotations

import argparse
import contextlib
import sys
import time

import torch

from styletut import optim
from styletut.data import sample
from styletut.features import VGG19Features
from styletut.options import StylizeOptions
from styletut.transfer import StyleObjective, stylize

CONTENT, STYLE = "chelsea", "hubble_deep_field"


def _evaluator(opts: StylizeOptions, content_img, style_img, dev: str):
    """One fp32 objective (stylize's default terms) to score every returned image alike."""
    layers = list(dict.fromkeys(opts.content_layers + opts.style_layers))
    net = VGG19Features(layers, device=dev)
    obj = StyleObjective(net, content_img.to(dev), style_img.to(dev), opts.content_layers, opts.style_layers,
                         opts.content_weight, opts.beta, opts.tv_weight, None, opts.crop_frac, opts.style_norm)

    def score(img):
        with torch.no_grad(), _precision("fp32"):
            return float(sum(obj(img.to(dev)).values()))
    return score, obj, net


@contextlib.contextmanager
def _precision(mode: str, dev: str = "cuda"):
    """fp32: TF32 off everywhere; tf32: cuDNN convolutions in TF32 (PyTorch's default); bf16/fp16: autocast."""
    old = torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32
    torch.backends.cudnn.allow_tf32 = mode != "fp32"
    torch.backends.cuda.matmul.allow_tf32 = False
    try:
        if mode in ("bf16", "fp16"):
            with torch.autocast(dev, dtype=torch.bfloat16 if mode == "bf16" else torch.float16):
                yield
        else:
            yield
    finally:
        torch.backends.cudnn.allow_tf32, torch.backends.cuda.matmul.allow_tf32 = old


@contextlib.contextmanager
def _network_autocast(dtype, dev: str = "cuda"):
    """VGG19 under autocast, its features handed back in fp32 (Gram matrices and losses stay fp32)."""
    real = VGG19Features.forward

    def forward(self, x):
        with torch.autocast(dev, dtype=dtype):
            feats = real(self, x)
        return {k: v.float() for k, v in feats.items()}

    VGG19Features.forward = forward
    try:
        yield
    finally:
        VGG19Features.forward = real


def _sync(dev: str) -> None:
    if dev == "cuda":
        torch.cuda.synchronize()


def _median_ms(fn, dev: str, repeats: int = 10) -> float:
    fn()  # warm-up: cuDNN picks its algorithms
    times = []
    for _ in range(repeats):
        _sync(dev)
        t = time.perf_counter()
        fn()
        _sync(dev)
        times.append(1e3 * (time.perf_counter() - t))
    return sorted(times)[len(times) // 2]


def _run(size: int, steps: int, content, style, dev: str):
    if dev == "cuda":
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
    r = stylize(content, style, size=size, num_steps=steps, levels=1, device=dev, progress=False, seed=0)
    return r, (torch.cuda.max_memory_allocated() / 2 ** 20 if dev == "cuda" else float("nan"))


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[512, 1024, 2048])
    ap.add_argument("--steps", type=int, default=100, help="steps of each stylize run (default 100)")
    ap.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    args = ap.parse_args()
    dev = args.device
    if dev == "cuda" and not torch.cuda.is_available():
        print("bench_gpu.py measures a CUDA GPU; this machine has none.", file=sys.stderr)
        return 1
    name = torch.cuda.get_device_name() if dev == "cuda" else "cpu"
    print(f"device {name}, torch {torch.__version__}, {args.steps} steps, "
          f"{CONTENT} + {STYLE}")
    content, style = sample(CONTENT), sample(STYLE)
    _run(min(args.sizes), 3, content, style, dev)  # warm-up: CUDA context, cuDNN, caches

    default_backends = dict(optim._BOX_LBFGS)
    print("\n1. Box-constrained L-BFGS on the GPU: scipy on the host against projected L-BFGS on the device")
    print(f"{'size':>6} {'optimiser':<22} {'s/step':>8} {'ratio':>6} {'J returned':>11} {'J ratio':>8} {'MiB':>7}")
    for size in args.sizes:
        rows = {}
        for backend in ("scipy", "torch"):
            optim._BOX_LBFGS[dev] = backend
            r, mib = _run(size, args.steps, content, style, dev)
            score, _, _ = _evaluator(r.options, r.content_img, r.style_img, dev)
            rows[backend] = (r.timings["per_step_s"], score(r.image), mib)
        optim._BOX_LBFGS.update(default_backends)
        for backend, label in (("scipy", "scipy L-BFGS-B (host)"), ("torch", "projected (device)")):
            s, j, mib = rows[backend]
            print(f"{size:>6} {label:<22} {s:>8.4f} {rows['scipy'][0] / s:>5.2f}x {j:>11.4e} "
                  f"{j / rows['scipy'][1]:>8.3f} {mib:>7.0f}", flush=True)

    print("\n2. One evaluation (forward + losses + backward) by precision")
    print(f"{'size':>6} {'precision':<10} {'ms':>8} {'speed-up':>9} {'grad rel. err':>14}")
    for size in args.sizes:
        opts = StylizeOptions.from_kwargs(size=size)
        c, s = sample(CONTENT, size), sample(STYLE, size)
        _, obj, net = _evaluator(opts, c, s, dev)
        x = c.to(dev).clone().requires_grad_(True)
        grads, ms = {}, {}
        for mode in ("fp32", "tf32", "bf16", "fp16"):
            def once():
                x.grad = None
                with _precision(mode, dev):
                    if mode in ("bf16", "fp16"):
                        with _network_autocast(torch.bfloat16 if mode == "bf16" else torch.float16, dev):
                            total = sum(obj(x).values())
                    else:
                        total = sum(obj(x).values())
                total.backward()
            ms[mode] = _median_ms(once, dev)
            grads[mode] = x.grad.detach().clone()
        for mode in ms:
            err = float((grads[mode] - grads["fp32"]).norm() / grads["fp32"].norm())
            print(f"{size:>6} {mode:<10} {ms[mode]:>8.2f} {ms['fp32'] / ms[mode]:>8.2f}x {err:>14.2e}", flush=True)
        del obj, net, x, grads
        if dev == "cuda":
            torch.cuda.empty_cache()

    print("\n3. stylize end to end: TF32 (the default) against the network under bf16 autocast")
    print(f"{'size':>6} {'precision':<10} {'s/step':>8} {'ratio':>6} {'J returned (fp32)':>18} {'J ratio':>8} {'MiB':>7}")
    for size in args.sizes:
        rows = {}
        for mode in ("tf32", "bf16"):
            ctx = _network_autocast(torch.bfloat16, dev) if mode == "bf16" else contextlib.nullcontext()
            with ctx:
                r, mib = _run(size, args.steps, content, style, dev)
            score, _, _ = _evaluator(r.options, r.content_img, r.style_img, dev)
            rows[mode] = (r.timings["per_step_s"], score(r.image), mib)
        for mode, (s, j, mib) in rows.items():
            print(f"{size:>6} {mode:<10} {s:>8.4f} {rows['tf32'][0] / s:>5.2f}x {j:>18.4e} "
                  f"{j / rows['tf32'][1]:>8.3f} {mib:>7.0f}", flush=True)
    return 0


if __name__ == "__main__":
    t = time.perf_counter()
    code = main()
    print(f"\n({time.perf_counter() - t:.0f} s)")
    sys.exit(code)
