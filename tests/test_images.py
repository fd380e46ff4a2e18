"""Loading, resizing, atomic saving, samples."""

import os

import numpy as np
import pytest
import torch
from PIL import Image
from torch.testing import assert_close

from styletut import images
from styletut.images import list_samples, load_image, resize, sample, save_image


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
        load_image(np.zeros((4, 4, 2)))
    with pytest.raises(TypeError, match="path, PIL image"):
        load_image(42)


def test_unreadable_files_say_which_and_why(tmp_path):
    with pytest.raises(FileNotFoundError, match="nope.png.*no such file"):
        load_image(tmp_path / "nope.png")
    bad = tmp_path / "notes.png"
    bad.write_text("this is not a picture")
    with pytest.raises(ValueError, match="notes.png.*not an image format"):
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
    with pytest.raises(ValueError, match="loaded as an input"):
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


def test_procedural_through_images():
    a = images.procedural(images.list_procedural()[0], 32, seed=1)
    assert a.shape == (1, 3, 32, 32)
    assert_close(a, images.procedural(images.list_procedural()[0], 32, seed=1))


def test_show_images_returns_figure():
    import matplotlib

    matplotlib.use("Agg")
    fig = images.show_images([torch.rand(1, 3, 8, 8), torch.rand(3, 8, 8)], ["a", "b"])
    assert [ax.get_title() for ax in fig.axes[:2]] == ["a", "b"]
    with pytest.raises(ValueError, match="titles"):
        images.show_images([torch.rand(1, 3, 8, 8)], ["a", "b"])
