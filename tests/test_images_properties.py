"""Property-based tests of the loaders: whatever comes in, only documented exceptions come out.

Documented: ``ImageError`` (a ``ValueError``) for bad contents, ``TypeError``
for a wrong Python type; for paths also ``FileNotFoundError``,
``IsADirectoryError`` and ``PermissionError``. A successful load is always a
``(1, 3, H, W)`` float32 tensor with values in [0, 1]. Runs are kept small
(``max_examples`` <= 60) so the file takes seconds on one core.
"""

from __future__ import annotations

import io
import tempfile
import warnings
from pathlib import Path

import numpy as np
import pytest
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from PIL import Image, features

from styletut import images
from styletut.images import ImageError, load_image, load_image_bytes, resize

SMALL = settings(max_examples=60, deadline=None, database=None, suppress_health_check=[HealthCheck.too_slow])


@pytest.fixture(autouse=True)
def _quiet_animation_warnings():
    # A fuzzed GIF may well be "animated"; the warning is expected, not a failure.
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        yield


def _assert_image(t: torch.Tensor, shape: tuple[int, int] | None = None) -> None:
    assert isinstance(t, torch.Tensor) and t.dtype == torch.float32
    assert t.dim() == 4 and t.shape[:2] == (1, 3) and t.shape[2] >= 1 and t.shape[3] >= 1
    assert torch.isfinite(t).all() and t.min() >= 0.0 and t.max() <= 1.0
    if shape is not None:
        assert tuple(t.shape[-2:]) == shape


def _small_files() -> dict[str, bytes]:
    """One small, valid file per format: fuzzing starts from these to reach deep into the decoders."""
    rng = np.random.default_rng(0)
    rgb = Image.fromarray(rng.integers(0, 256, (6, 5, 3), dtype=np.uint8))
    out = {}
    for fmt, im, kwargs in [("PNG", rgb, {}), ("JPEG", rgb, {"quality": 80}), ("GIF", rgb.convert("P"), {}),
                            ("BMP", rgb, {}), ("TIFF", rgb, {}), ("PNG16", Image.fromarray(
                                rng.integers(0, 65536, (6, 5), dtype=np.uint16)), {}),
                            ("TIFFF", Image.fromarray(rng.random((6, 5), dtype=np.float32)), {}),
                            ("WEBP", rgb, {"lossless": True})]:
        if fmt == "WEBP" and not features.check("webp"):
            continue
        buf = io.BytesIO()
        im.save(buf, format={"PNG16": "PNG", "TIFFF": "TIFF"}.get(fmt, fmt), **kwargs)
        out[fmt] = buf.getvalue()
    return out


FILES = _small_files()


@st.composite
def damaged_files(draw) -> bytes:
    """A valid small file, then truncated, with some bytes overwritten, or both."""
    data = bytearray(FILES[draw(st.sampled_from(sorted(FILES)))])
    for _ in range(draw(st.integers(0, 6))):
        pos = draw(st.integers(0, len(data) - 1))
        data[pos] = draw(st.integers(0, 255))
    cut = draw(st.integers(0, len(data)))
    return bytes(data[:cut] if draw(st.booleans()) else data)


any_bytes = st.one_of(
    st.binary(max_size=300),
    st.sampled_from([b"\x89PNG\r\n\x1a\n", b"\xff\xd8\xff", b"GIF89a", b"II*\x00", b"MM\x00*", b"BM",
                     b"RIFF\x00\x00\x00\x00WEBP", b"\x00\x00\x00\x18ftypheic"]).flatmap(
        lambda head: st.binary(max_size=200).map(lambda tail: head + tail)),
    damaged_files(),
)


@SMALL
@given(data=any_bytes)
def test_random_bytes_as_upload(data):
    try:
        t = load_image_bytes(data, "upload.bin")
    except ImageError as err:
        assert "uploaded file 'upload.bin'" in str(err)
    else:
        _assert_image(t)


@SMALL
@given(data=any_bytes, suffix=st.sampled_from([".png", ".jpg", ".gif", ".tif", ".webp", ".bin", ""]))
def test_random_bytes_as_file(data, suffix):
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / f"fuzz{suffix}"
        path.write_bytes(data)
        try:
            t = load_image(path)
        except ImageError as err:
            assert str(path) in str(err)
        else:
            _assert_image(t)


DTYPES = [np.uint8, np.uint16, np.int8, np.int32, np.int64, np.float16, np.float32, np.float64, np.bool_,
          np.complex64]


@SMALL
@given(arr=st.sampled_from(DTYPES).flatmap(lambda dt: hnp.arrays(
    dt, st.one_of(hnp.array_shapes(min_dims=2, max_dims=2, min_side=0, max_side=6),
                  st.tuples(st.integers(0, 6), st.integers(0, 6), st.integers(0, 6)),
                  hnp.array_shapes(min_dims=1, max_dims=4, min_side=1, max_side=3)))))
def test_random_arrays(arr):
    try:
        t = load_image(arr)
    except ImageError:
        return
    _assert_image(t, arr.shape[:2])
    if arr.dtype == np.uint8:  # the one scale everyone knows: exact
        grey = arr if arr.ndim == 2 else arr[:, :, 0]
        if arr.ndim == 2 or arr.shape[2] in (1, 3):
            torch.testing.assert_close(t[0, 0], torch.from_numpy(grey.astype(np.float32) / 255))


MODES = ["1", "L", "P", "LA", "PA", "La", "RGB", "RGBA", "RGBa", "RGBX", "CMYK", "YCbCr", "LAB", "HSV",
         "I", "F", "I;16", "I;16B", "I;16L"]


@SMALL
@given(mode=st.sampled_from(MODES), w=st.integers(0, 5), h=st.integers(0, 5), data=st.data())
def test_random_pil_images(mode, w, h, data):
    nbytes = len(Image.new(mode, (w, h)).tobytes())
    im = Image.frombytes(mode, (w, h), data.draw(st.binary(min_size=nbytes, max_size=nbytes)))
    try:
        t = load_image(im)
    except ImageError as err:
        assert "cannot use the PIL image" in str(err)
        assert mode in ("I", "F") or w * h == 0  # out-of-range values, or no pixels at all
        return
    _assert_image(t, (h, w))


@SMALL
@given(shape=st.one_of(st.tuples(st.integers(1, 2), st.integers(1, 4), st.integers(0, 4), st.integers(0, 4)),
                       st.tuples(st.integers(1, 4), st.integers(0, 4), st.integers(0, 4))),
       dtype=st.sampled_from([torch.float32, torch.float64, torch.uint8, torch.int64, torch.bool]),
       scale=st.sampled_from([1.0, 1.5, 255.0, -3.0, float("nan")]))
def test_random_tensors(shape, dtype, scale):
    t = (torch.rand(shape) * scale).to(dtype)
    try:
        out = load_image(t)
    except ImageError:
        return
    _assert_image(out, tuple(shape[-2:]))


sizes = st.one_of(
    st.none(), st.integers(-3, 400), st.integers(10**6, 10**12),
    st.tuples(st.integers(-2, 300), st.integers(-2, 300)), st.lists(st.integers(1, 50), min_size=1, max_size=3),
    st.floats(allow_nan=True), st.booleans(), st.text(max_size=3),
)


@SMALL
@given(size=sizes, h=st.integers(1, 40), w=st.integers(1, 40))
def test_random_sizes(size, h, w):
    img = np.full((h, w, 3), 128, np.uint8)
    try:
        t = load_image(img, size=size)
    except (TypeError, ValueError):
        return
    _assert_image(t)
    if size is None:
        assert t.shape[-2:] == (h, w)
    elif isinstance(size, int):
        assert max(t.shape[-2:]) == size
    else:
        assert tuple(t.shape[-2:]) == tuple(size)
    torch.testing.assert_close(t, torch.full_like(t, 128 / 255))  # a flat image stays flat at any size


@SMALL
@given(size=sizes)
def test_resize_refuses_only_with_documented_errors(size):
    try:
        t = resize(torch.rand(1, 3, 7, 3), size)
    except (TypeError, ValueError):
        return
    _assert_image(t)


def test_limit_from_environment_is_checked_once_per_load(monkeypatch):
    # Not random, but the property above relies on it: the limit applies to resize too.
    monkeypatch.setattr(images, "MAX_PIXELS", 100)
    monkeypatch.delenv("STYLETUT_MAX_PIXELS", raising=False)
    with pytest.raises(ImageError, match=r"resizing to size=11 would make a 11 x 11 image \(121 pixels\), "
                                         r"more than the limit of 100"):
        load_image(np.zeros((2, 2), np.uint8), size=11)
