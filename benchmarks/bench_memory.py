"""Does styletut.memory's estimate describe real peaks? Measured in fresh processes.

For each size and optimiser, a child process runs a short ``stylize`` and
reports its peak resident memory (``ru_maxrss``); the table prints it next to
``styletut.memory.estimate_bytes``. The estimate is meant to be an upper
bound within a small factor: ``check_fits`` refuses runs on it.

    python benchmarks/bench_memory.py [--sizes 128 256 384] [--optimizers lbfgs adam]

Measured on the 2-core CPU machine (2026-11-26, when ``LBFGS_MEMORY`` was 50;
it is 20 now, which takes 30 float64 copies of the image, ~0.7 kB per pixel,
off L-BFGS's rows. L-BFGS runs LBFGS_MEMORY + 5 steps, past its memory, so
all its work arrays are touched; Adam runs 3):

     size optimizer      H x W  measured MiB  estimate MiB  estimate/measured
      128     lbfgs   85 x 128           801           870               1.09
      256     lbfgs  170 x 256          1014          1080               1.06
      384     lbfgs  255 x 384          1338          1429               1.07
      128      adam   85 x 128           901           844               0.94
      256      adam  170 x 256           994           976               0.98
      384      adam  255 x 384          1163          1195               1.03

The slope (memory per pixel) is what matters for large images: L-BFGS's
measured 6.45 kB/pixel between 128 and 384 px against the estimate's 6.4.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys

_CHILD = r"""
import json, resource, sys
import torch
from styletut.data import procedural, sample
from styletut.transfer import stylize
size, optimizer, steps = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
r = stylize(sample("chelsea", size=size), procedural("swirls", size), size=size, num_steps=steps,
            optimizer=optimizer, progress=False, device="cpu")
h, w = r.image.shape[-2:]
print(json.dumps({"peak": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024, "hw": [h, w]}))
"""


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[128, 256, 384])
    ap.add_argument("--optimizers", nargs="+", default=["lbfgs", "adam"])
    args = ap.parse_args()
    from styletut.memory import estimate_bytes
    from styletut.optim import LBFGS_MEMORY
    from styletut.options import StylizeOptions

    layers = StylizeOptions().content_layers + StylizeOptions().style_layers
    mib = 2 ** 20
    print(f"{'size':>5} {'optimizer':>9} {'H x W':>10} {'measured MiB':>13} {'estimate MiB':>13} {'estimate/measured':>18}")
    for optimizer in args.optimizers:
        for size in args.sizes:
            # L-BFGS-B's work arrays are reserved at once but filled one pair per
            # step: only a run past LBFGS_MEMORY steps touches (and so holds) them all.
            steps = LBFGS_MEMORY + 5 if optimizer == "lbfgs" else 3
            out = subprocess.run([sys.executable, "-c", _CHILD, str(size), optimizer, str(steps)],
                                 capture_output=True, text=True, check=True)
            res = json.loads(out.stdout.strip().splitlines()[-1])
            h, w = res["hw"]
            est = estimate_bytes((h, w), (size, size), layers, optimizer)
            print(f"{size:>5} {optimizer:>9} {f'{h} x {w}':>10} {res['peak'] / mib:>13.0f} {est / mib:>13.0f} "
                  f"{est / res['peak']:>18.2f}")


if __name__ == "__main__":
    main()
