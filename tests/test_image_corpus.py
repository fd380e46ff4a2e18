"""Every kind of file a learner may bring, made here (no binary is committed), and what load_image does with it.

Each case asserts the exact outcome: the loaded shape and pixel values,
computed independently from the numbers written into the file, or the error
type and the words of its message (the file's name, the reason, the fix).
"""

from __future__ import annotations

import os
import struct
import warnings
import zlib

import numpy as np
import pytest
import torch
from PIL import Image, ImageFile, features
from torch.testing import assert_close

from styletut import images
from styletut.images import ImageError, load_image, load_image_bytes, resize


def _expected(rgb) -> torch.Tensor:
    """(H, W, 3) values in [0, 1] -> the (1, 3, H, W) float32 tensor load_image should return."""
    return torch.as_tensor(np.array(rgb, dtype=np.float64), dtype=torch.float32).permute(2, 0, 1).unsqueeze(0)


def _grey3(g) -> np.ndarray:
    return np.repeat(np.asarray(g, dtype=np.float64)[:, :, None], 3, axis=2)


def _on_white(rgb01, alpha01) -> np.ndarray:
    a = np.asarray(alpha01, dtype=np.float64)[:, :, None]
    return np.asarray(rgb01, dtype=np.float64) * a + (1.0 - a)


def _ramp(h=6, w=10) -> np.ndarray:
    """Distinct uint8 values, so a misplaced pixel or a wrong scale shows."""
    return (np.arange(h * w, dtype=np.int64) * 37 % 256).astype(np.uint8).reshape(h, w)


def _rgb(h=6, w=10) -> np.ndarray:
    r = _ramp(h, w)
    return np.stack([r, r[::-1], (255 - r)], axis=2)


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)


def _png(width: int, height: int, bit_depth: int, colour_type: int, rows: bytes | None) -> bytes:
    """A PNG written by hand: Pillow cannot write 16-bit colour, and a bomb needs a header without pixels."""
    ihdr = struct.pack(">IIBBBBB", width, height, bit_depth, colour_type, 0, 0, 0)
    idat = _png_chunk(b"IDAT", zlib.compress(rows)) if rows is not None else b""
    return b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", ihdr) + idat + _png_chunk(b"IEND", b"")


# --------------------------------------------------------------------------- colour modes


def test_greyscale_png(tmp_path):
    g = _ramp()
    Image.fromarray(g, "L").save(tmp_path / "grey.png")
    t = load_image(tmp_path / "grey.png")
    assert t.shape == (1, 3, 6, 10) and t.dtype == torch.float32
    assert_close(t, _expected(_grey3(g / 255)))


def test_greyscale_with_alpha_is_composited_on_white(tmp_path):
    g, a = _ramp(), _ramp()[::-1].copy()
    Image.fromarray(np.stack([g, a], axis=2), "LA").save(tmp_path / "la.png")
    assert_close(load_image(tmp_path / "la.png"), _expected(_on_white(_grey3(g / 255), a / 255)))


def _palette_image() -> tuple[Image.Image, np.ndarray, np.ndarray]:
    colours = np.array([[255, 0, 0], [0, 128, 255], [10, 200, 30], [250, 250, 5]], np.uint8)
    index = (np.arange(24) % 4).astype(np.uint8).reshape(4, 6)
    im = Image.fromarray(index, "P")
    im.putpalette(colours.flatten().tolist())
    return im, colours, index


def test_palette_without_transparency(tmp_path):
    im, colours, index = _palette_image()
    im.save(tmp_path / "pal.png")
    assert Image.open(tmp_path / "pal.png").mode == "P"
    assert_close(load_image(tmp_path / "pal.png"), _expected(colours[index] / 255))


def test_palette_with_one_transparent_colour_is_white_there(tmp_path):
    im, colours, index = _palette_image()
    im.save(tmp_path / "pal_t.png", transparency=1)  # a tRNS chunk: colour 1 is invisible
    want = colours[index] / 255
    want[index == 1] = 1.0
    assert_close(load_image(tmp_path / "pal_t.png"), _expected(want))


def test_palette_with_partial_transparency(tmp_path):
    im, colours, index = _palette_image()
    alpha = np.array([255, 0, 128, 64], np.uint8)
    im.save(tmp_path / "pal_a.png", transparency=alpha.tobytes())  # one alpha per palette entry
    want = _on_white(colours[index] / 255, alpha[index] / 255)
    assert_close(load_image(tmp_path / "pal_a.png"), _expected(want))


def test_rgba_is_composited_on_white_not_alpha_dropped(tmp_path):
    rgb, a = _rgb(), _ramp()[:, ::-1].copy()
    a[0, 0], a[0, 1] = 0, 255
    Image.fromarray(np.dstack([rgb, a]), "RGBA").save(tmp_path / "rgba.png")
    t = load_image(tmp_path / "rgba.png")
    assert_close(t, _expected(_on_white(rgb / 255, a / 255)))
    assert_close(t[0, :, 0, 0], torch.ones(3))                     # invisible -> white
    assert_close(t[0, :, 0, 1], torch.from_numpy(rgb[0, 1] / 255).float())  # opaque -> its colour


def test_grey_png_with_a_transparent_grey_value(tmp_path):
    g = _ramp()
    Image.fromarray(g, "L").save(tmp_path / "grey_t.png", transparency=int(g[0, 0]))
    want = _grey3(g / 255)
    want[g == g[0, 0]] = 1.0
    assert_close(load_image(tmp_path / "grey_t.png"), _expected(want))


def test_cmyk_jpeg(tmp_path):
    cmyk = np.zeros((16, 48, 4), np.uint8)
    cmyk[:, :16, 0] = 255      # pure cyan
    cmyk[:, 16:32, 3] = 255    # pure black ink
    # the last block: no ink at all, white paper
    Image.fromarray(cmyk, "CMYK").save(tmp_path / "print.jpg", quality=95)
    t = load_image(tmp_path / "print.jpg")
    assert t.shape == (1, 3, 16, 48)
    # block centres, away from JPEG's ringing at the block edges
    assert_close(t[0, :, 8, 8], torch.tensor([0.0, 1.0, 1.0]), atol=2 / 255, rtol=0)
    assert_close(t[0, :, 8, 24], torch.zeros(3), atol=2 / 255, rtol=0)
    assert_close(t[0, :, 8, 40], torch.ones(3), atol=2 / 255, rtol=0)


def test_bilevel_mode_1(tmp_path):
    bits = (_ramp() % 2).astype(bool)
    Image.fromarray(bits).save(tmp_path / "bits.png")
    assert Image.open(tmp_path / "bits.png").mode == "1"
    assert_close(load_image(tmp_path / "bits.png"), _expected(_grey3(bits.astype(float))))


# --------------------------------------------------------------------------- 16 and 32 bits


def test_dark_16bit_png_is_divided_by_65535_not_its_maximum(tmp_path):
    # Regression: this loaded as 1.0 everywhere (divided by its own maximum).
    Image.fromarray(np.full((4, 5), 1000, np.uint16)).save(tmp_path / "dark16.png")
    assert Image.open(tmp_path / "dark16.png").mode == "I;16"
    assert_close(load_image(tmp_path / "dark16.png"), torch.full((1, 3, 4, 5), 1000 / 65535))


@pytest.mark.parametrize("suffix", ["png", "tif"])
def test_16bit_grey_keeps_every_level(tmp_path, suffix):
    g = np.array([[0, 1, 255, 256], [1000, 32768, 65534, 65535]], np.uint16)
    Image.fromarray(g).save(tmp_path / f"g16.{suffix}")
    assert_close(load_image(tmp_path / f"g16.{suffix}"), _expected(_grey3(g / 65535)))


def test_16bit_big_endian_tiff(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    g = np.array([[1000, 2], [40000, 65535]], np.uint16)
    tifffile.imwrite(tmp_path / "be16.tif", g, byteorder=">")
    assert Image.open(tmp_path / "be16.tif").mode == "I;16B"
    assert_close(load_image(tmp_path / "be16.tif"), _expected(_grey3(g / 65535)))


def test_16bit_colour_png_keeps_the_top_8_bits(tmp_path):
    # Pillow opens 16-bit RGB as 8-bit RGB (the high byte): exact to within 1/255.
    px = np.array([[[1000, 40000, 65535], [0, 255, 256]]], np.uint16)   # 1 row, 2 pixels
    rows = b"".join(b"\x00" + row.astype(">u2").tobytes() for row in px)
    (tmp_path / "rgb16.png").write_bytes(_png(2, 1, 16, 2, rows))
    t = load_image(tmp_path / "rgb16.png")
    assert_close(t, _expected((px >> 8) / 255))
    assert (t - _expected(px / 65535)).abs().max() < 1 / 255


def test_16bit_colour_tiff_keeps_the_top_8_bits(tmp_path):
    tifffile = pytest.importorskip("tifffile")
    px = np.array([[[1000, 40000, 65535], [0, 255, 256]]], np.uint16)
    tifffile.imwrite(tmp_path / "rgb16.tif", px, photometric="rgb")
    assert_close(load_image(tmp_path / "rgb16.tif"), _expected((px >> 8) / 255))


def test_32bit_integer_image_is_read_as_16bit_data(tmp_path):
    v = np.array([[0, 7], [1000, 65535]], np.int32)
    Image.fromarray(v).save(tmp_path / "i32.tif")
    assert Image.open(tmp_path / "i32.tif").mode == "I"
    assert_close(load_image(tmp_path / "i32.tif"), _expected(_grey3(v / 65535)))


@pytest.mark.parametrize("value", [-1, 70000])
def test_32bit_integers_outside_16bit_are_refused(tmp_path, value):
    Image.fromarray(np.full((2, 3), value, np.int32)).save(tmp_path / "wide.tif")
    with pytest.raises(ImageError, match=rf"wide\.tif.*32-bit integers from {value} to {value}.*16-bit PNG"):
        load_image(tmp_path / "wide.tif")


def test_float_tiff_keeps_its_values(tmp_path):
    # Regression: a constant 0.25 loaded as 0.0.
    Image.fromarray(np.full((3, 4), 0.25, np.float32)).save(tmp_path / "quarter.tif")
    assert Image.open(tmp_path / "quarter.tif").mode == "F"
    assert_close(load_image(tmp_path / "quarter.tif"), torch.full((1, 3, 3, 4), 0.25))
    f = np.array([[0.0, 0.1, 0.5], [0.75, 0.999, 1.0]], np.float32)
    Image.fromarray(f).save(tmp_path / "ramp.tif")
    assert_close(load_image(tmp_path / "ramp.tif"), _expected(_grey3(f)))


@pytest.mark.parametrize("bad, words", [(1.5, r"\[0, 1\], got \[0.25, 1.5\]"), (-0.5, r"got \[-0.5, 0.25\]"),
                                        (np.nan, "NaN or infinite"), (np.inf, "NaN or infinite")])
def test_float_tiff_outside_0_1_is_refused(tmp_path, bad, words):
    f = np.full((2, 2), 0.25, np.float32)
    f[1, 1] = bad
    Image.fromarray(f).save(tmp_path / "hdr.tif")
    with pytest.raises(ImageError, match=rf"hdr\.tif.*{words}"):
        load_image(tmp_path / "hdr.tif")


# --------------------------------------------------------------------------- orientation, animation, WebP


@pytest.mark.parametrize("orientation, quarter_turns", [(1, 0), (3, 2), (6, -1), (8, 1)])
def test_exif_orientation_is_applied(tmp_path, orientation, quarter_turns):
    im = Image.fromarray(_rgb(16, 24))
    exif = Image.Exif()
    exif[0x0112] = orientation
    im.save(tmp_path / "plain.jpg", quality=90)
    im.save(tmp_path / "phone.jpg", quality=90, exif=exif)  # the same pixels, with a rotation tag
    plain = load_image(tmp_path / "plain.jpg")
    # 6 = "rotate 90 degrees clockwise to display", 8 = counter-clockwise, 3 = half a turn
    assert_close(load_image(tmp_path / "phone.jpg"), torch.rot90(plain, quarter_turns, dims=(2, 3)))


@pytest.mark.parametrize("suffix", ["gif", "png", "webp"])
def test_animation_gives_first_frame_and_says_so(tmp_path, suffix):
    if suffix == "webp" and not features.check("webp"):
        pytest.skip("this Pillow has no WebP support")
    frames = [Image.new("RGB", (5, 3), c) for c in [(255, 0, 0), (0, 255, 0), (0, 0, 255)]]
    kwargs = {"lossless": True} if suffix == "webp" else {}
    frames[0].save(tmp_path / f"anim.{suffix}", save_all=True, append_images=frames[1:], **kwargs)
    with pytest.warns(UserWarning, match=rf"anim\.{suffix}' has 3 frames; using the first only"):
        t = load_image(tmp_path / f"anim.{suffix}")
    assert_close(t, _expected(np.broadcast_to([1.0, 0.0, 0.0], (3, 5, 3))))


def test_palette_with_alpha_in_the_palette():
    im = Image.new("P", (2, 1))
    im.putpalette([255, 0, 0, 255, 0, 255, 0, 0], rawmode="RGBA")  # red, opaque; green, invisible
    im.putdata([0, 1])
    assert "transparency" not in im.info and im.palette.mode == "RGBA"
    assert_close(load_image(im), _expected([[[1.0, 0.0, 0.0], [1.0, 1.0, 1.0]]]))


def test_still_gif_loads_without_warning(tmp_path):
    im, colours, index = _palette_image()
    im.save(tmp_path / "still.gif")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert_close(load_image(tmp_path / "still.gif"), _expected(colours[index] / 255))


@pytest.mark.skipif(not features.check("webp"), reason="this Pillow has no WebP support")
def test_lossless_webp(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "x.webp", lossless=True)
    assert_close(load_image(tmp_path / "x.webp"), _expected(rgb / 255))


def test_webp_without_pillow_support_is_refused_clearly(tmp_path, monkeypatch):
    (tmp_path / "x.webp").write_bytes(b"RIFF\x24\x00\x00\x00WEBPVP8L" + bytes(28))
    monkeypatch.setattr(images, "READ_FORMATS", tuple(f for f in images.READ_FORMATS if f != "WEBP"))
    with pytest.raises(ImageError, match=r"x\.webp.*WEBP image.*built without WEBP support.*PNG or JPEG"):
        load_image(tmp_path / "x.webp")


def test_heic_photo_is_refused_with_the_fix(tmp_path):
    (tmp_path / "IMG_0001.HEIC").write_bytes(b"\x00\x00\x00\x18ftypheic" + bytes(40))
    with pytest.raises(ImageError, match=r"IMG_0001\.HEIC.*HEIC/HEIF.*export it as JPEG or PNG"):
        load_image(tmp_path / "IMG_0001.HEIC")


# --------------------------------------------------------------------------- odd sizes


def test_one_pixel_image(tmp_path):
    Image.new("RGB", (1, 1), (10, 20, 30)).save(tmp_path / "dot.png")
    assert_close(load_image(tmp_path / "dot.png"), torch.tensor([10, 20, 30]).float().view(1, 3, 1, 1) / 255)
    assert_close(load_image(tmp_path / "dot.png", size=5),
                 torch.tensor([10, 20, 30]).float().view(1, 3, 1, 1).expand(1, 3, 5, 5) / 255)


def test_hundred_to_one_aspect(tmp_path):
    strip = np.zeros((3, 300, 3), np.uint8)
    strip[:, :, 1] = 200
    Image.fromarray(strip).save(tmp_path / "strip.png")
    assert_close(load_image(tmp_path / "strip.png"), _expected(strip / 255))
    for size, shape in [(100, (1, 100)), (30, (1, 30)), (1, (1, 1)), (600, (6, 600))]:
        t = load_image(tmp_path / "strip.png", size=size)
        assert t.shape[-2:] == shape  # 0.3 rows round to 1, never to 0
        assert_close(t, torch.tensor([0.0, 200 / 255, 0.0]).view(1, 3, 1, 1).expand(1, 3, *shape))
    assert resize(torch.rand(1, 3, 300, 3), 20).shape == (1, 3, 20, 1)


# --------------------------------------------------------------------------- broken files


def test_truncated_jpeg(tmp_path):
    Image.fromarray(_rgb(32, 32)).save(tmp_path / "whole.jpg", quality=90)
    data = (tmp_path / "whole.jpg").read_bytes()
    (tmp_path / "cut.jpg").write_bytes(data[: len(data) // 2])
    with pytest.raises(ImageError, match=r"cut\.jpg': the file is truncated or damaged.*copy or download it again"):
        load_image(tmp_path / "cut.jpg")


@pytest.mark.parametrize("keep", [0.5, 40 / 113, 12])
def test_truncated_png(tmp_path, keep):
    Image.fromarray(_rgb(32, 32)).save(tmp_path / "whole.png")
    data = (tmp_path / "whole.png").read_bytes()
    n = int(len(data) * keep) if keep < 1 else keep  # in the pixels, in a chunk header, in the signature's wake
    (tmp_path / "cut.png").write_bytes(data[:n])
    with pytest.raises(ImageError, match=r"cut\.png'.*truncated or damaged"):
        load_image(tmp_path / "cut.png")


def test_zero_byte_file(tmp_path):
    (tmp_path / "empty.png").write_bytes(b"")
    with pytest.raises(ImageError, match=r"empty\.png': the file is empty \(0 bytes\)"):
        load_image(tmp_path / "empty.png")


def test_text_file_named_jpg(tmp_path):
    (tmp_path / "notes.jpg").write_text("Remember to buy milk.\n")
    with pytest.raises(ImageError, match=r"notes\.jpg': not an image.*save it as PNG or JPEG"):
        load_image(tmp_path / "notes.jpg")


def test_a_directory(tmp_path):
    (tmp_path / "photos.jpg").mkdir()
    with pytest.raises(IsADirectoryError, match=r"photos\.jpg': it is a folder, not an image file"):
        load_image(tmp_path / "photos.jpg")


def test_a_missing_path(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"nope\.png': no such file; check the path"):
        load_image(tmp_path / "nope.png")


def test_a_missing_relative_path_says_where_it_looked(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    with pytest.raises(FileNotFoundError, match=r"'nope\.png': no such file \(relative to the current folder"):
        load_image("nope.png")


def test_a_path_without_read_permission(tmp_path):
    p = tmp_path / "secret.png"
    Image.new("RGB", (2, 2)).save(p)
    p.chmod(0)
    try:
        if os.geteuid() == 0 and os.access(p, os.R_OK):
            pytest.skip("running as root: chmod 000 does not stop root from reading")
        with pytest.raises(PermissionError, match=r"secret\.png': permission denied.*chmod u\+r"):
            load_image(p)
    finally:
        p.chmod(0o644)


def test_a_device_is_not_an_image():
    if not os.path.exists("/dev/null"):
        pytest.skip("no /dev/null here")
    with pytest.raises(ImageError, match=r"/dev/null': not a regular file"):
        load_image("/dev/null")


# --------------------------------------------------------------------------- too many pixels


def test_pixel_limit_refuses_from_the_header_before_decoding(tmp_path, monkeypatch):
    # A header that promises 10 x 10 pixels and a pixel stream that is garbage:
    # if load_image decoded anything, it would report damage, not the size.
    bad_pixels = _png(10, 10, 8, 0, None) [:-12] + _png_chunk(b"IDAT", b"garbage") + _png_chunk(b"IEND", b"")
    (tmp_path / "bomb.png").write_bytes(bad_pixels)
    monkeypatch.setattr(images, "MAX_PIXELS", 50)
    monkeypatch.delenv("STYLETUT_MAX_PIXELS", raising=False)
    with pytest.raises(ImageError, match=r"bomb\.png': it is 10 x 10 = 100 pixels, more than the limit of 50 pixels "
                                         r"\(refused before decoding.*STYLETUT_MAX_PIXELS=100 "
                                         r"\(or styletut\.images\.MAX_PIXELS = 100"):
        load_image(tmp_path / "bomb.png")
    monkeypatch.setattr(images, "MAX_PIXELS", 100)   # now allowed: the garbage is reached
    with pytest.raises(ImageError, match="truncated or damaged"):
        load_image(tmp_path / "bomb.png")


def test_pixel_limit_from_the_environment(tmp_path, monkeypatch):
    Image.new("RGB", (10, 10), (1, 2, 3)).save(tmp_path / "ten.png")
    monkeypatch.setenv("STYLETUT_MAX_PIXELS", "99")
    with pytest.raises(ImageError, match="more than the limit of 99 pixels"):
        load_image(tmp_path / "ten.png")
    monkeypatch.setenv("STYLETUT_MAX_PIXELS", "100")
    assert load_image(tmp_path / "ten.png").shape == (1, 3, 10, 10)
    monkeypatch.setenv("STYLETUT_MAX_PIXELS", "lots")
    with pytest.raises(ImageError, match=r"STYLETUT_MAX_PIXELS='lots' is not a positive whole number"):
        load_image(tmp_path / "ten.png")


def test_huge_header_never_shows_pillows_own_error(tmp_path):
    # 20000 x 20000 is past Pillow's hard limit too, which fires inside Image.open.
    (tmp_path / "huge.png").write_bytes(_png(20000, 20000, 8, 2, None))
    with pytest.raises(ImageError, match=r"huge\.png': it is 400,000,000 pixels, more than the limit of "
                                         r"100,000,000 pixels.*STYLETUT_MAX_PIXELS=400000000"):
        load_image(tmp_path / "huge.png")
    with pytest.raises(ImageError, match=r"uploaded file 'huge\.png'.*400,000,000 pixels"):
        load_image_bytes((tmp_path / "huge.png").read_bytes(), "huge.png")


def test_pillows_limits_give_way_to_ours(tmp_path, monkeypatch):
    monkeypatch.setattr(Image, "MAX_IMAGE_PIXELS", 100)   # Pillow warns past 100 and refuses past 200
    Image.new("RGB", (12, 10), (9, 9, 9)).save(tmp_path / "warned.png")
    with warnings.catch_warnings():
        warnings.simplefilter("error")                    # no DecompressionBombWarning escapes
        assert load_image(tmp_path / "warned.png").shape == (1, 3, 10, 12)
    Image.new("RGB", (30, 10)).save(tmp_path / "refused.png")
    with pytest.raises(ImageError, match=r"refused\.png': it has 300 pixels, within styletut's limit.*past "
                                         r"Pillow's own \(200\).*PIL\.Image\.MAX_IMAGE_PIXELS = 300"):
        load_image(tmp_path / "refused.png")


def test_running_out_of_memory_while_decoding(tmp_path, monkeypatch):
    Image.new("RGB", (4, 4)).save(tmp_path / "big.png")

    def no_memory(self):
        raise MemoryError

    monkeypatch.setattr(ImageFile.ImageFile, "load", no_memory)
    with pytest.raises(ImageError, match=r"big\.png': not enough memory to decode it.*STYLETUT_MAX_PIXELS"):
        load_image(tmp_path / "big.png")


# --------------------------------------------------------------------------- arrays, uploads, inputs


def test_arrays_with_alpha_are_composited_on_white():
    rgba = np.array([[[255, 0, 0, 255], [255, 0, 0, 128], [0, 0, 0, 0]]], np.uint8)
    assert_close(load_image(rgba), _expected([[[1, 0, 0], [1, 1 - 128 / 255, 1 - 128 / 255], [1, 1, 1]]]))
    la = np.array([[[0.0, 0.5], [0.2, 1.0]]], np.float32)
    assert_close(load_image(la), _expected(_grey3([[0.5, 0.2]])))


@pytest.mark.parametrize("arr, want", [
    (np.array([[0, 65535]], np.uint16), [[0.0, 1.0]]),
    (np.array([[1000]], np.uint16), [[1000 / 65535]]),
    (np.array([[1000, 65535]], ">u2"), [[1000 / 65535, 1.0]]),  # big-endian, as from a TIFF reader
    (np.array([[True, False]]), [[1.0, 0.0]]),
    (np.array([[0.25]], np.float64), [[0.25]]),
    (np.array([[[7], [200]]], np.uint8), [[7 / 255, 200 / 255]]),
])
def test_array_scales(arr, want):
    assert_close(load_image(arr), _expected(_grey3(want)))


@pytest.mark.parametrize("arr, words", [
    (np.array([[0, 255]], np.int64), r"dtype int64.*uint8 \(0\.\.255\).*x\.astype\(np\.uint8\)"),
    (np.array([[np.nan]]), "NaN or infinite"),
    (np.array([[1e300]]), r"\[0, 1\], got \[1e\+300, 1e\+300\]"),
    (np.array([[200.0]]), "divide by 255"),
    (np.zeros((0, 4, 3), np.uint8), "no pixels"),
    (np.zeros((3, 8, 8), np.uint8), r"shape \(3, 8, 8\).*np\.moveaxis"),
    (np.array([["a"]]), "dtype <U1"),
    (np.zeros((2, 2), np.complex64), "dtype complex64"),
])
def test_arrays_refused(arr, words):
    with pytest.raises(ImageError, match=words):
        load_image(arr)


def test_tensors_overshoot_is_clamped_but_0_255_is_refused():
    t = torch.tensor([-0.1, 0.5, 1.2]).view(1, 3, 1, 1)
    assert_close(load_image(t), torch.tensor([0.0, 0.5, 1.0]).view(1, 3, 1, 1))
    with pytest.raises(ImageError, match=r"got \[0, 255\]; divide by 255"):
        load_image(torch.tensor([0.0, 128.0, 255.0]).view(3, 1, 1))
    with pytest.raises(ImageError, match="NaN or infinite"):
        load_image(torch.tensor([0.0, float("nan"), 1.0]).view(3, 1, 1))
    assert_close(load_image(torch.tensor([0, 51, 255], dtype=torch.uint8).view(3, 1, 1)),
                 torch.tensor([0.0, 0.2, 1.0]).view(1, 3, 1, 1))
    with pytest.raises(ImageError, match="dtype torch.int64"):
        load_image(torch.zeros(3, 2, 2, dtype=torch.int64))
    src = torch.rand(1, 3, 2, 2)
    assert load_image(src) is not src  # never the caller's own tensor


def test_upload_bytes_like_files(tmp_path):
    rgb = _rgb()
    Image.fromarray(rgb).save(tmp_path / "up.png")
    data = (tmp_path / "up.png").read_bytes()
    assert_close(load_image_bytes(data, "up.png"), _expected(rgb / 255))
    assert load_image_bytes(data, "up.png", size=5).shape == (1, 3, 3, 5)
    with pytest.raises(ImageError, match=r"uploaded file 'up\.png': the file is empty.*upload it again"):
        load_image_bytes(b"", "up.png")
    with pytest.raises(ImageError, match=r"uploaded file 'notes\.jpg': not an image.*upload it again"):
        load_image_bytes(b"hello", "notes.jpg")
    with pytest.raises(ImageError, match=r"uploaded file 'up\.png'.*truncated or damaged.*upload it again"):
        load_image_bytes(data[: len(data) // 2], "up.png")
    with pytest.raises(TypeError, match="bytes"):
        load_image_bytes("up.png", "up.png")


def test_loading_a_file_marks_it_as_an_input(tmp_path):
    Image.new("RGB", (2, 2)).save(tmp_path / "mine.png")
    load_image(tmp_path / "mine.png")
    with pytest.raises(ValueError, match="is an input image"):
        images.check_output_path(tmp_path / "sub" / ".." / "mine.png")


def test_a_named_pipe_is_refused_without_waiting(tmp_path):
    if not hasattr(os, "mkfifo"):
        pytest.skip("no named pipes here")
    os.mkfifo(tmp_path / "pipe.png")
    with pytest.raises(ImageError, match=r"pipe\.png': not a regular file \(a device or a pipe\)"):
        load_image(tmp_path / "pipe.png")


@pytest.mark.parametrize("name, error, words", [
    ("file.png/inner.png", FileNotFoundError, r"inner\.png': no such file; check the path"),  # a file as a folder
    ("bad\0name.png", ImageError, r"name\.png': embedded null byte; check the path"),
    ("x" * 300 + ".png", ImageError, r"x\.png': File name too long; check the path"),
])
def test_odd_paths(tmp_path, name, error, words):
    (tmp_path / "file.png").write_bytes(b"x")
    with pytest.raises(error, match=words):
        load_image(str(tmp_path) + "/" + name)
