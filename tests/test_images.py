"""Loading, resizing, atomic saving, samples (the corpus of odd files is in test_image_corpus.py)."""

import errno
import os

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from styletut import data, images
from styletut.data import list_samples, sample
from styletut.images import load_image, resize, save_image


def _gradient_rgb(h=20, w=30):
    arr = np.zeros((h, w, 3), np.uint8)
    arr[..., 0] = np.linspace(0, 255, w, dtype=np.uint8)[None, :]
    arr[..., 1] = np.linspace(0, 255, h, dtype=np.uint8)[:, None]
    arr[..., 2] = 77
    return arr


def test_load_png_roundtrip(tmp_path):
    arr = _gradient_rgb()
    Image.fromarray(arr).save(tmp_path / "a.png")
    t = load_image(tmp_path / "a.png")
    assert t.shape == (1, 3, 20, 30) and t.dtype == torch.float32
    assert_close(t[0].permute(1, 2, 0), torch.from_numpy(arr).float() / 255)
    out = save_image(t, tmp_path / "b.png")
    assert np.array_equal(np.asarray(Image.open(out)), arr)


@pytest.mark.parametrize("mode", ["L", "P", "RGBA", "CMYK", "I;16", "LA", "1"])
def test_every_mode_becomes_rgb(tmp_path, mode):
    im = Image.fromarray(_gradient_rgb()).convert(mode) if mode != "I;16" else Image.fromarray(
        (np.linspace(0, 65535, 600).reshape(20, 30)).astype(np.uint16))
    ext = "tiff" if mode in ("CMYK", "I;16") else "png"
    im.save(tmp_path / f"x.{ext}")
    t = load_image(tmp_path / f"x.{ext}")
    assert t.shape == (1, 3, 20, 30) and 0 <= t.min() and t.max() <= 1


def test_exif_orientation_applied(tmp_path):
    im = Image.fromarray(_gradient_rgb(20, 30))
    exif = Image.Exif()
    exif[0x0112] = 6  # "rotate 90 CW to display"
    im.save(tmp_path / "phone.jpg", exif=exif)
    assert load_image(tmp_path / "phone.jpg").shape == (1, 3, 30, 20)


def test_arrays_and_tensors():
    assert load_image(np.zeros((5, 6), np.uint8)).shape == (1, 3, 5, 6)
    assert load_image(np.ones((5, 6, 4), np.float32)).shape == (1, 3, 5, 6)
    t = torch.rand(3, 5, 6)
    assert_close(load_image(t)[0], t)
    with pytest.raises(ValueError, match="divide by 255"):
        load_image(np.full((4, 4, 3), 200.0))
    with pytest.raises(ValueError, match="shape"):
        load_image(np.zeros((4, 4, 5)))
    with pytest.raises(TypeError, match="path, PIL image"):
        load_image(42)


def test_unreadable_files_say_which_and_why(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png.*no such file"):
        load_image(tmp_path / "nope.png")
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    with pytest.raises(ValueError, match="notes.png.*not an image"):
        load_image(bad)
    trunc = tmp_path / "cut.png"
    Image.fromarray(_gradient_rgb()).save(trunc)
    trunc.write_bytes(trunc.read_bytes()[:60])
    with pytest.raises(ValueError, match="cut.png"):
        load_image(trunc)
    with pytest.raises(IsADirectoryError, match="folder"):
        load_image(tmp_path)


def test_resize_longest_side():
    assert resize(torch.rand(1, 3, 100, 200), 50).shape == (1, 3, 25, 50)
    assert resize(torch.rand(1, 3, 300, 100), 60).shape == (1, 3, 60, 20)
    assert resize(torch.rand(1, 3, 10, 10), (4, 7)).shape == (1, 3, 4, 7)
    assert load_image(np.zeros((40, 80, 3), np.uint8), size=20).shape == (1, 3, 10, 20)


def test_save_is_atomic_and_never_over_input(tmp_path, monkeypatch):
    src = tmp_path / "photo.png"
    Image.fromarray(_gradient_rgb()).save(src)
    before = src.read_bytes()
    img = load_image(src)
    with pytest.raises(ValueError, match="is an input image"):
        save_image(img, src)
    assert src.read_bytes() == before

    out = tmp_path / "out.png"
    save_image(torch.zeros(1, 3, 4, 4), out)
    old = out.read_bytes()

    def boom(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr(Image.Image, "save", boom)
    with pytest.raises(OSError, match="disk full"):
        save_image(torch.ones(1, 3, 4, 4), out)
    assert out.read_bytes() == old  # the old result survives a failed save
    assert sorted(p.name for p in tmp_path.iterdir()) == ["out.png", "photo.png"]  # no temp files left
    with pytest.raises(ValueError, match="suffix"):
        save_image(img, tmp_path / "x.unknown")


def test_samples_load_offline():
    assert set(list_samples()) >= {"astronaut", "chelsea", "coffee", "rocket", "hubble_deep_field", "grace_hopper"}
    for name in list_samples():
        t = sample(name, size=64)
        assert t.shape[:2] == (1, 3) and max(t.shape[-2:]) == 64 and t.std() > 0.05
    with pytest.raises(ValueError, match="chelsea"):
        sample("mona_lisa")


def test_procedural_through_data():
    a = data.procedural(data.list_procedural()[0], 32, seed=1)
    assert a.shape == (1, 3, 32, 32)
    assert_close(a, data.procedural(data.list_procedural()[0], 32, seed=1))


def test_show_images_returns_figure():
    import matplotlib

    matplotlib.use("Agg")
    fig = images.show_images([torch.rand(1, 3, 8, 8), torch.rand(3, 8, 8)], ["a", "b"])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    with pytest.raises(ValueError, match="titles"):
        images.show_images([torch.rand(1, 3, 8, 8)], ["a", "b"])


# --------------------------------------------------------------------------- saving: permissions, faults, paths


@pytest.fixture
def umask():
    """Set the process umask for one test, and restore it."""
    old = os.umask(0o022)
    yield os.umask
    os.umask(old)


@pytest.mark.parametrize("mask, mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_saved_file_follows_the_umask(tmp_path, umask, mask, mode):
    # Regression: mkstemp made every saved image 0600, private to its owner.
    umask(mask)
    out = save_image(torch.zeros(1, 3, 2, 2), tmp_path / "shared.png")
    assert out.stat().st_mode & 0o777 == mode


def _previous_output(tmp_path):
    out = tmp_path / "out.png"
    save_image(torch.zeros(1, 3, 4, 4), out)
    return out, out.read_bytes()


def _fail_after_some_bytes(error):
    """A stand-in for PIL's save that writes half a PNG to the file, then fails."""
    def save(self, fp, format=None, **kwargs):
        fp.write(b"\x89PNG\r\n\x1a\n" + bytes(100))
        raise error

    return save


def test_write_failing_halfway_leaves_the_previous_file(tmp_path, monkeypatch):
    out, old = _previous_output(tmp_path)
    monkeypatch.setattr(Image.Image, "save", _fail_after_some_bytes(OSError(errno.EIO, "Input/output error")))
    with pytest.raises(OSError, match=r"could not write '.*out\.png' \(Input/output error\); "
                                      r"the previous file is untouched") as info:
        save_image(torch.ones(1, 3, 4, 4), out)
    assert info.value.errno == errno.EIO
    assert out.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]  # no temp file left behind


@pytest.mark.parametrize("where", ["write", "fsync"])
def test_full_disk_gives_a_clear_error_and_keeps_the_previous_file(tmp_path, monkeypatch, where):
    out, old = _previous_output(tmp_path)
    full = OSError(errno.ENOSPC, "No space left on device")
    if where == "write":
        monkeypatch.setattr(Image.Image, "save", _fail_after_some_bytes(full))
    else:
        def fsync(fd):
            raise full

        monkeypatch.setattr(os, "fsync", fsync)
    with pytest.raises(OSError, match=r"disk full while writing '.*out\.png'; free some space or choose another "
                                      r"folder; the previous file is untouched") as info:
        save_image(torch.ones(1, 3, 4, 4), out)
    assert info.value.errno == errno.ENOSPC
    assert out.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_full_disk_with_no_previous_file(tmp_path, monkeypatch):
    monkeypatch.setattr(Image.Image, "save", _fail_after_some_bytes(OSError(errno.ENOSPC, "No space left")))
    with pytest.raises(OSError, match=r"disk full while writing '.*new\.png'.*nothing was written"):
        save_image(torch.ones(1, 3, 4, 4), tmp_path / "new.png")
    assert list(tmp_path.iterdir()) == []


def test_interrupted_save_leaves_no_temp_file(tmp_path, monkeypatch):
    out, old = _previous_output(tmp_path)
    monkeypatch.setattr(Image.Image, "save", _fail_after_some_bytes(KeyboardInterrupt()))
    with pytest.raises(KeyboardInterrupt):
        save_image(torch.ones(1, 3, 4, 4), out)
    assert out.read_bytes() == old
    assert [p.name for p in tmp_path.iterdir()] == ["out.png"]


def test_read_only_folder(tmp_path, monkeypatch):
    folder = tmp_path / "ro"
    folder.mkdir()
    folder.chmod(0o555)
    try:
        if not os.access(folder, os.W_OK):  # not root: the real thing
            with pytest.raises(PermissionError, match=r"no permission to write in folder '.*ro'; choose another"):
                images.check_output_path(folder / "x.png")
            with pytest.raises(PermissionError, match="no permission to write in folder"):
                save_image(torch.zeros(1, 3, 2, 2), folder / "x.png")
        # As root (or on a system that ignores the mode), the refusal from the
        # folder itself is simulated: the message is the same either way.
        monkeypatch.setattr(os, "access", lambda *a, **k: False)
        with pytest.raises(PermissionError, match=r"no permission to write in folder '.*ro'; choose another"):
            images.check_output_path(folder / "x.png")
        # The folder may also refuse only when the file is created (a network drive, a race):
        monkeypatch.setattr(os, "access", lambda *a, **k: True)
        real_open = os.open

        def refuse(path, *args, **kwargs):
            if str(path).endswith(".tmp"):
                raise PermissionError(errno.EACCES, "Permission denied")
            return real_open(path, *args, **kwargs)

        monkeypatch.setattr(os, "open", refuse)
        with pytest.raises(PermissionError, match=r"cannot write '.*x\.png': permission denied in folder '.*ro'; "
                                                  r"choose another folder; nothing was written"):
            save_image(torch.zeros(1, 3, 2, 2), folder / "x.png")
    finally:
        folder.chmod(0o755)
    assert list(folder.iterdir()) == []


def test_check_output_path_before_any_work(tmp_path):
    out = images.check_output_path(tmp_path / "new" / "dir" / "result.png")
    assert out == tmp_path / "new" / "dir" / "result.png" and not (tmp_path / "new").exists()  # nothing made yet
    with pytest.raises(ValueError, match=r"'.*result': it has no suffix, so no image format; "
                                         r"did you mean '.*result\.png'\?"):
        images.check_output_path(tmp_path / "result")
    with pytest.raises(ValueError, match=r"unknown image suffix '\.v2'; use one of .*\.png.*'.*result\.v2\.png'"):
        images.check_output_path(tmp_path / "result.v2")
    with pytest.raises(IsADirectoryError, match=r"it is a folder; name a file inside it"):
        images.check_output_path(tmp_path)
    (tmp_path / "file").write_text("x")
    with pytest.raises(NotADirectoryError, match=r"'.*file' is a file, not a folder"):
        images.check_output_path(tmp_path / "file" / "out.png")
    assert images.check_output_path(tmp_path / "UPPER.PNG").suffix == ".PNG"


def test_check_output_path_protects_inputs(tmp_path):
    photo = tmp_path / "photo.jpg"
    Image.new("RGB", (4, 4)).save(photo)
    style = tmp_path / "style.png"
    Image.new("RGB", (4, 4)).save(style)
    with pytest.raises(ValueError, match=r"refusing to write '.*style\.png': it is an input image.*"
                                         r"e\.g\. '.*style_styled\.png'"):
        images.check_output_path(style, inputs=[photo, str(style), torch.zeros(1), "sample:chelsea"])
    (tmp_path / "link.png").symlink_to(style)
    with pytest.raises(ValueError, match="is an input image"):
        images.check_output_path(tmp_path / "link.png", inputs=[style])
    os.link(style, tmp_path / "hard.png")
    with pytest.raises(ValueError, match="is an input image"):
        images.check_output_path(tmp_path / "hard.png", inputs=[style])
    with pytest.raises(ValueError, match="is an input image"):
        save_image(torch.zeros(1, 3, 2, 2), style, inputs=[style])
    assert np.asarray(Image.open(style)).sum() == 0  # untouched


@pytest.mark.parametrize("suffix", [".png", ".jpg", ".jpeg", ".tif", ".bmp", ".webp"])
def test_save_formats_roundtrip(tmp_path, suffix):
    if suffix not in images.SAVE_SUFFIXES:
        pytest.skip(f"this Pillow cannot write {suffix}")
    img = torch.full((1, 3, 8, 12), 0.5)
    out = save_image(img, tmp_path / f"x{suffix}")
    back = load_image(out)
    assert back.shape == (1, 3, 8, 12)
    assert_close(back, img, atol=3 / 255, rtol=0)


def test_save_refuses_nan_and_writes_nothing(tmp_path):
    with pytest.raises(ValueError, match="NaN or infinite"):
        save_image(torch.full((1, 3, 2, 2), float("nan")), tmp_path / "nan.png")
    assert list(tmp_path.iterdir()) == []


def test_save_pil_rgba_is_composited_on_white(tmp_path):
    im = Image.new("RGBA", (2, 1), (255, 0, 0, 0))
    out = save_image(im, tmp_path / "white.jpg")
    assert Image.open(out).mode == "RGB"
    assert_close(load_image(out), torch.ones(1, 3, 1, 2), atol=2 / 255, rtol=0)
