"""The styletut command line."""

import errno
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from styletut.cli import main


def test_help_runs_as_a_program():
    out = subprocess.run([sys.executable, "-m", "styletut", "stylize", "--help"], capture_output=True, text=True, check=True)
    assert "--style-weight" in out.stdout and "procedural:NAME" in out.stdout


def test_stylize_writes_a_real_png(tmp_path, capsys):
    out = tmp_path / "result.png"
    code = main(["stylize", "sample:chelsea", "procedural:pointillism:2", "-o", str(out),
                 "--size", "48", "--steps", "3", "--quiet"])
    assert code == 0
    im = Image.open(out)
    assert im.format == "PNG" and im.size == (48, 32) and im.mode == "RGB"
    assert np.asarray(im).std() > 5
    assert "wrote" in capsys.readouterr().out


def test_stylize_from_files_and_never_over_input(tmp_path):
    content = tmp_path / "c.png"
    Image.fromarray((np.random.default_rng(0).random((40, 40, 3)) * 255).astype(np.uint8)).save(content)
    before = content.read_bytes()
    with pytest.raises(SystemExit, match="is an input image"):
        main(["stylize", str(content), "procedural:mondrian", "-o", str(content), "--size", "32", "--steps", "1"])
    assert content.read_bytes() == before


@pytest.mark.parametrize("args,match", [
    (["--style-layers", "relu1_1,relu7_1"], "relu7_1.*valid names"),
    (["--style-weight", "-1"], "style_weight must be >= 0"),
    (["--size", "8"], "at least 16"),
])
def test_bad_options_fail_cleanly(tmp_path, args, match):
    with pytest.raises(SystemExit, match=match):
        main(["stylize", "sample:chelsea", "procedural:swirls", "-o", str(tmp_path / "o.png"), *args])
    assert not (tmp_path / "o.png").exists()


def test_missing_input_names_the_choices(tmp_path):
    with pytest.raises(SystemExit, match="not found.*sample:NAME.*chelsea"):
        main(["stylize", str(tmp_path / "missing.jpg"), "procedural:swirls", "-o", str(tmp_path / "o.png")])


def test_samples_and_layers(tmp_path, capsys):
    assert main(["samples", str(tmp_path), "--size", "32"]) == 0
    names = sorted(p.name for p in tmp_path.iterdir())
    assert "chelsea.png" in names and "style_swirls.png" in names
    assert main(["layers"]) == 0
    assert "relu4_2" in capsys.readouterr().out


def test_an_output_without_suffix_fails_before_any_work(tmp_path, monkeypatch):
    """Regression: `-o result` ran the whole optimisation, then save_image raised a traceback."""
    called = []
    monkeypatch.setattr("styletut.transfer.stylize", lambda *a, **k: called.append(1))
    with pytest.raises(SystemExit, match=r"no suffix.*did you mean '.*result.png'"):
        main(["stylize", "sample:chelsea", "procedural:swirls", "-o", str(tmp_path / "result"), "--size", "32"])
    assert not called and not list(tmp_path.iterdir())


def test_zero_steps_write_the_initial_image_and_its_loss(tmp_path, capsys):
    """Regression: --steps 0 passed validation, then crashed with an IndexError on h.total[0]."""
    out = tmp_path / "zero.png"
    assert main(["stylize", "sample:chelsea", "procedural:swirls", "-o", str(out), "--size", "32",
                 "--steps", "0", "--quiet"]) == 0
    printed = capsys.readouterr().out
    assert "0 steps, the initial image, loss " in printed
    from styletut.data import sample
    from styletut.images import load_image

    expected = (sample("chelsea", size=32)[0].permute(1, 2, 0).numpy() * 255 + 0.5).astype(np.uint8)
    assert np.array_equal(np.asarray(Image.open(out)), expected)
    assert load_image(out).shape == (1, 3, 21, 32)


def test_a_full_disk_at_the_end_keeps_the_previous_output(tmp_path, monkeypatch):
    out = tmp_path / "r.png"
    Image.new("RGB", (8, 8), (1, 2, 3)).save(out)
    before = out.read_bytes()

    def full(self, fp, *a, **k):
        fp.write(b"\x89PNG half")
        raise OSError(errno.ENOSPC, "No space left on device")

    monkeypatch.setattr(Image.Image, "save", full)
    with pytest.raises(SystemExit, match="disk full while writing .*r.png.*previous file is untouched"):
        main(["stylize", "sample:chelsea", "procedural:swirls", "-o", str(out), "--size", "32", "--steps", "1",
              "--quiet"])
    assert out.read_bytes() == before and [p.name for p in tmp_path.iterdir()] == ["r.png"]


# Runs the CLI with every objective evaluation slowed down, so the test can kill it mid-run.
_SLOW_CLI = """
import sys, time
import styletut.transfer as t
real = t.StyleObjective.__call__
def slow(self, x, generator=None):
    time.sleep(0.25)
    return real(self, x, generator)
t.StyleObjective.__call__ = slow
from styletut.cli import main
sys.exit(main(sys.argv[1:]))
"""


def _cli(*args, slow=False):
    cmd = [sys.executable, "-c", _SLOW_CLI] if slow else [sys.executable, "-m", "styletut"]
    return cmd + ["stylize", "sample:chelsea", "procedural:mondrian:1", "--size", "32", "--steps", "12",
                  "--optimizer", "adam", "--quiet", *args]


def test_kill_9_mid_run_then_resume_gives_the_uninterrupted_result(tmp_path):
    """Fault: SIGKILL during a checkpointed run. Its last best image is on disk, and --resume finishes the
    same run: the same bytes as a run that was never interrupted."""
    whole, killed = tmp_path / "whole.png", tmp_path / "killed.png"
    subprocess.run(_cli("-o", str(whole), "--checkpoint", "3"), check=True, capture_output=True)
    assert not Path(str(whole) + ".ckpt").exists()  # a finished run removes its checkpoint
    ckpt = Path(str(killed) + ".ckpt")
    proc = subprocess.Popen(_cli("-o", str(killed), "--checkpoint", "3", slow=True))
    deadline = time.time() + 120
    while not ckpt.exists() and time.time() < deadline and proc.poll() is None:
        time.sleep(0.05)
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    assert proc.returncode == -signal.SIGKILL, "the run ended before it could be killed"
    assert ckpt.exists() and killed.exists()  # the state and the best image so far survived
    assert Image.open(killed).size == (32, 21)
    assert not [p for p in tmp_path.iterdir() if p.name.endswith(".tmp")]
    # Resuming without --resume is refused rather than overwriting the checkpoint.
    again = subprocess.run(_cli("-o", str(killed), "--checkpoint", "3"), capture_output=True, text=True)
    assert again.returncode == 1 and "a checkpoint of an earlier run is at" in again.stderr
    done = subprocess.run(_cli("-o", str(killed), "--resume"), capture_output=True, text=True, check=True)
    assert "resumed at step" in done.stdout
    assert killed.read_bytes() == whole.read_bytes()
    assert not ckpt.exists()


@pytest.mark.parametrize("argv", [["stylize", "--help"], ["stylize", "a.png", "b.png", "-o", "c.png", "--size", "5"],
                                  ["layers"]])
def test_help_and_option_errors_answer_without_importing_torch(argv):
    """`styletut --help` took 1.7 s, most of it importing torch before parsing anything."""
    code = ("import sys\nfrom styletut.cli import main\ntry:\n    main(sys.argv[1:])\nexcept SystemExit:\n    pass\n"
            "print('torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code, *argv], capture_output=True, text=True, check=True)
    assert out.stdout.strip().splitlines()[-1] == "False"
