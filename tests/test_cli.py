"""The styletut command line."""

import subprocess
import sys

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
