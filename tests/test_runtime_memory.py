"""keep_freed_memory: big freed blocks are reused without new page faults, and given back at the end.

The page-fault counts are the process's own (``getrusage``), so these tests
check what the setting does, not that a function was called. They are
measured in a fresh interpreter: how glibc places blocks depends on what the
process allocated before, and a test suite allocates a lot. They need glibc
(Linux); elsewhere the block is a documented no-op.
"""

import contextlib
import json
import subprocess
import sys

import pytest
import torch

from styletut import optim, runtime, transfer
from styletut.runtime import keep_freed_memory

needs_glibc = pytest.mark.skipif(runtime._glibc() is None, reason="keep_freed_memory acts only under glibc")

# One forward and backward pass of two convolutions at 512 px, as an optimisation step
# does: each 64-channel activation is a 64 MiB block, far above glibc's mmap threshold.
_PROBE = r"""
import json, resource, torch
from styletut.runtime import keep_freed_memory
net = torch.nn.Sequential(torch.nn.Conv2d(3, 64, 3, padding=1), torch.nn.ReLU(),
                          torch.nn.Conv2d(64, 64, 3, padding=1)).requires_grad_(False)
img = torch.rand(1, 3, 512, 512, generator=torch.Generator().manual_seed(0), requires_grad=True)

def faults(steps):
    out = []
    for _ in range(steps):
        before = resource.getrusage(resource.RUSAGE_SELF).ru_minflt
        img.grad = None
        net(img).square().mean().backward()
        out.append(resource.getrusage(resource.RUSAGE_SELF).ru_minflt - before)
    return out

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * resource.getpagesize()

r = {"page": resource.getpagesize(), "default": faults(3)}
with keep_freed_memory(enabled=False) as kept:
    r["disabled_kept"], r["disabled"] = kept, faults(3)
with keep_freed_memory() as kept:
    r["kept"] = kept
    with keep_freed_memory():
        r["inner"] = faults(1)
    r["after_inner"] = faults(3)  # the inner block's end must leave the setting in force
    r["rss_inside"] = rss()
r["rss_after"] = rss()
print(json.dumps(r))
"""


@pytest.fixture(scope="module")
def probe():
    out = subprocess.run([sys.executable, "-c", _PROBE], capture_output=True, text=True, timeout=300, check=True)
    return json.loads(out.stdout.strip().splitlines()[-1])


ACTIVATION = 64 * 512 * 512 * 4  # bytes


@needs_glibc
def test_by_default_every_step_faults_its_pages_in_afresh(probe):
    # The premise: glibc maps each big block anew, so every step's pages fault in again
    # (forward and backward hold several activations: many times one block's pages).
    assert min(probe["default"]) > 4 * ACTIVATION // probe["page"]
    assert probe["disabled_kept"] is False and min(probe["disabled"]) > 4 * ACTIVATION // probe["page"]


@needs_glibc
def test_inside_the_block_later_steps_reuse_the_freed_pages(probe):
    # The first step inside grows the heap; the later ones find their pages there (now and
    # then a block does not fit the hole another left, and some pages fault in).
    assert probe["kept"] is True
    assert sum(probe["after_inner"]) < sum(probe["default"]) / 5, probe


@needs_glibc
def test_the_memory_goes_back_at_the_end(probe):
    # Inside, the freed activations stay with the process; malloc_trim gives them back at the end.
    assert probe["rss_inside"] - probe["rss_after"] > 2 * ACTIVATION


def test_nested_blocks_restore_once_and_without_glibc_nothing_changes(monkeypatch):
    with keep_freed_memory() as outer:
        with keep_freed_memory():
            pass
        assert runtime._alloc_depth == (1 if outer else 0)
    assert runtime._alloc_depth == 0
    monkeypatch.setattr(runtime, "_glibc", lambda: None)
    with keep_freed_memory() as kept:
        assert kept is False and runtime._alloc_depth == 0


def test_stylize_and_run_keep_freed_memory_on_the_cpu(monkeypatch):
    entered = []

    @contextlib.contextmanager
    def recording(enabled=True):
        entered.append(enabled)
        yield enabled

    monkeypatch.setattr(transfer, "keep_freed_memory", recording)
    monkeypatch.setattr(optim, "keep_freed_memory", recording)
    content = torch.rand(1, 3, 96, 128)
    result = transfer.stylize(content, torch.rand(1, 3, 64, 64), size=128, num_steps=4, levels=2,
                              progress=False, device="cpu")
    assert len(result.levels) == 2
    # stylize's block spans both levels; each level's run opens its own (nested) block.
    assert entered == [True, True, True]
