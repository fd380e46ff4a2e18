"""styletut.zoo: the shipped networks load only with their recorded hash, and run in one pass; the CLI's --fast/--adain."""

import hashlib

import pytest
import torch

from styletut import zoo
from styletut.adain import AdaIN, Decoder, save_adain
from styletut.cli import main
from styletut.fastnet import PAINT_SIZE, TransformNet, save_model, stylize_fast


@pytest.mark.parametrize("name", zoo.list_models())
def test_every_shipped_model_is_there_with_its_recorded_hash(name):
    info = zoo.model_info(name)
    assert info.path.is_file(), f"{info.path} is missing: retrain it ({info.trained})"
    assert hashlib.sha256(info.path.read_bytes()).hexdigest() == info.sha256
    assert info.path.stat().st_size < 5e6  # "small (a few MB)"
    model = zoo.load_model(name)
    content_img = torch.rand(1, 3, 45, 67)
    style_img = torch.rand(1, 3, 64, 64) if info.kind == "adain" else None
    out = zoo.run(model, content_img, style_img)
    assert out.shape == content_img.shape and 0 <= out.min() and out.max() <= 1


def test_a_tampered_shipped_model_is_refused(tmp_path, monkeypatch):
    name = zoo.list_models()[0]
    info = zoo.model_info(name)
    copy = tmp_path / info.file
    data = bytearray(info.path.read_bytes())
    data[-100] ^= 0x01
    copy.write_bytes(bytes(data))
    monkeypatch.setattr(zoo, "MODEL_DIR", tmp_path)
    with pytest.raises(ValueError, match="sha256"):
        zoo.load_model(name)


def test_unknown_model_lists_the_shipped_ones():
    with pytest.raises(ValueError, match="adain, fast-swirls"):
        zoo.load_model("fast-starry-night")


def test_own_files_load_by_path_and_run(tmp_path):
    fast, dec = TransformNet(4, 1), Decoder("relu2_1", 4)
    save_model(fast, tmp_path / "f.pt")
    save_adain(dec, tmp_path / "a.pt")
    f, a = zoo.load_model(tmp_path / "f.pt"), zoo.load_model(str(tmp_path / "a.pt"))
    assert isinstance(f, TransformNet) and isinstance(a, AdaIN)
    x, s = torch.rand(1, 3, 33, 20), torch.rand(1, 3, 40, 40)
    assert zoo.run(f, x).shape == x.shape
    assert zoo.run(a, x, s, alpha=0.5).shape == x.shape
    with pytest.raises(ValueError, match="drop style_img"):
        zoo.run(f, x, s)
    with pytest.raises(ValueError, match="needs a style image"):
        zoo.run(a, x)
    big = torch.rand(1, 3, 90, 130)
    torch.testing.assert_close(zoo.run(f, big, paint_size=None), f(big).detach())
    torch.testing.assert_close(zoo.run(f, big, paint_size=32), stylize_fast(f, big, paint_size=32))
    with pytest.raises(ValueError, match="paint_size applies to fast networks only"):
        zoo.run(a, x, s, paint_size=64)
    (tmp_path / "x.pt").write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable model file"):
        zoo.load_model(tmp_path / "x.pt")


@pytest.fixture()
def tiny_models(tmp_path):
    fast, dec = TransformNet(4, 1), Decoder("relu2_1", 4)
    return str(tmp_path / "f.pt"), str(tmp_path / "a.pt"), save_model(fast, tmp_path / "f.pt"), \
        save_adain(dec, tmp_path / "a.pt")


def test_cli_fast_and_adain_write_the_picture(tmp_path, tiny_models, capsys):
    f, a, *_ = tiny_models
    out = tmp_path / "out.png"
    assert main(["stylize", "sample:chelsea", "-o", str(out), "--fast", f, "--size", "48"]) == 0
    assert out.is_file() and "one pass" in capsys.readouterr().out
    out2 = tmp_path / "out2.png"
    assert main(["stylize", "sample:chelsea", "procedural:waves:2", "-o", str(out2), "--adain", "--adain-decoder", a,
                 "--size", "48", "--alpha", "0.5"]) == 0
    from PIL import Image

    assert Image.open(out2).size == (48, 32)
    out3 = tmp_path / "out3.png"
    assert main(["stylize", "sample:chelsea", "-o", str(out3), "--fast", f, "--size", "64", "--paint-size", "32"]) == 0
    assert Image.open(out3).size == (64, 43)


def test_cli_help_states_the_paint_size_the_package_uses(capsys):
    with pytest.raises(SystemExit):
        main(["stylize", "--help"])
    assert f"(default {PAINT_SIZE})" in " ".join(capsys.readouterr().out.split())


@pytest.mark.parametrize("styles, flags, message", [
    (["procedural:swirls"], ["--fast", "F"], "drop the STYLE argument"),
    ([], ["--adain", "--adain-decoder", "A"], "exactly one STYLE"),
    (["procedural:swirls", "procedural:waves"], ["--adain", "--adain-decoder", "A"], "exactly one STYLE"),
    ([], ["--fast", "F", "--steps", "10"], "--steps only affect"),
    (["procedural:swirls"], ["--adain", "--adain-decoder", "A", "--alpha", "2"], "--alpha must lie in"),
    ([], ["--fast", "F", "--alpha", "0.5"], "--alpha goes with --adain"),
    (["procedural:swirls"], ["--alpha", "0.5"], "--alpha goes with --adain"),
    (["procedural:swirls"], ["--adain-decoder", "A"], "--adain-decoder goes with --adain"),
    ([], [], "at least one STYLE"),
    (["procedural:swirls"], ["--fast", "F", "--adain"], "one of --fast and --adain"),
    ([], ["--fast", "F", "--paint-size", "8"], "--paint-size must be 0"),
    (["procedural:swirls"], ["--adain", "--adain-decoder", "A", "--paint-size", "64"], "--paint-size goes with --fast"),
    (["procedural:swirls"], ["--paint-size", "64"], "--paint-size goes with --fast"),
])
def test_cli_one_pass_mistakes_are_named(tmp_path, tiny_models, styles, flags, message):
    f, a, *_ = tiny_models
    flags = [{"F": f, "A": a}.get(x, x) for x in flags]
    with pytest.raises(SystemExit, match=message):
        main(["stylize", "sample:chelsea", *styles, "-o", str(tmp_path / "o.png"), *flags])
    assert not (tmp_path / "o.png").exists()


def test_the_docstring_examples_run():
    import doctest

    result = doctest.testmod(zoo, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
