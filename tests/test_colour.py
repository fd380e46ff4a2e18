"""Colour preservation (styletut.colour) against numpy, closed forms and explicit loops.

The references here are written independently of the module: the YIQ matrix
is typed out again and inverted by numpy, mean/covariance matching uses
numpy's eigh, histogram matching uses numpy.quantile and a loop for ranks.
Inputs whose results must not clip are checked to stay inside [0, 1] first,
so a statistic test never passes or fails because of the clamp.
"""

from __future__ import annotations

import doctest

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from styletut import colour
from styletut.colour import (COLOUR_METHODS, keep_luminance, luminance, luminance_image, match_colour,
                             match_luminance, rgb_to_yiq, yiq_to_rgb)
from styletut.names import COLOUR_MODES

# NTSC YIQ (FCC coefficients), typed out independently of the module.
YIQ = np.array([[0.299, 0.587, 0.114],
                [0.5959, -0.2746, -0.3213],
                [0.2115, -0.5227, 0.3112]])
YIQ_INV = np.linalg.inv(YIQ)


def _rand(shape, seed, low=0.0, high=1.0, dtype=torch.float64):
    gen = torch.Generator().manual_seed(seed)
    return low + (high - low) * torch.rand(shape, generator=gen, dtype=dtype)


def _np_mix(matrix, img):
    """``matrix @ pixel`` at every pixel of a (B, 3, H, W) array."""
    return np.einsum("ij,bjhw->bihw", matrix, img)


def _pixels(img):
    """(3, N) numpy pixels of a (1, 3, H, W) tensor."""
    return img.detach().double().numpy().reshape(3, -1)


def _np_sqrtm(cov, power):
    vals, vecs = np.linalg.eigh(cov)
    return vecs @ np.diag(np.clip(vals, 0, None) ** power) @ vecs.T


def _np_meancov(style, content):
    """Numpy reference of the mean/covariance map, unclamped (no regularisation: inputs are well conditioned)."""
    s, c = _pixels(style), _pixels(content)
    mu_s, mu_c = s.mean(1, keepdims=True), c.mean(1, keepdims=True)
    a = _np_sqrtm(np.cov(c, bias=True), 0.5) @ _np_sqrtm(np.cov(s, bias=True), -0.5)
    return (a @ (s - mu_s) + mu_c).reshape(style.shape)


def _colourful(shape, seed, spread=0.08):
    """Pixels around mid-grey with correlated channels (a non-diagonal covariance), well inside [0, 1]."""
    noise = _rand(shape, seed, -1.0, 1.0)
    mix = torch.tensor([[1.0, 0.3, 0.1], [0.4, 0.8, -0.2], [-0.1, 0.5, 0.6]], dtype=torch.float64)
    return 0.5 + spread * torch.einsum("ij,bjhw->bihw", mix, noise)


# ----------------------------------------------------------------------------- names


def test_public_names():
    assert sorted(colour.__all__) == sorted(["COLOUR_METHODS", "rgb_to_yiq", "yiq_to_rgb", "luminance",
                                             "luminance_image", "match_luminance", "keep_luminance",
                                             "match_colour"])
    assert COLOUR_METHODS == ("meancov", "histogram")
    # The recolouring methods are the vocabulary's colour modes other than none/luminance.
    assert COLOUR_MODES == ("none", "luminance") + COLOUR_METHODS


def test_docstring_examples_run():
    result = doctest.testmod(colour, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


# ----------------------------------------------------------------------------- YIQ


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_yiq_round_trip_is_identity(dtype, tol):
    img = _rand((2, 3, 5, 7), 1, dtype=dtype)
    assert_close(yiq_to_rgb(rgb_to_yiq(img)), img, atol=tol, rtol=0)
    yiq = rgb_to_yiq(img)
    assert_close(rgb_to_yiq(yiq_to_rgb(yiq)), yiq, atol=tol, rtol=0)


def test_yiq_matches_numpy():
    img = _rand((1, 3, 4, 6), 2)
    assert_close(rgb_to_yiq(img), torch.from_numpy(_np_mix(YIQ, img.numpy())))
    yiq = _rand((1, 3, 4, 6), 3, -0.5, 1.0)
    assert_close(yiq_to_rgb(yiq), torch.from_numpy(_np_mix(YIQ_INV, yiq.numpy())))


def test_luminance_of_primaries_and_white():
    # Columns: pure red, green, blue, white.
    img = torch.tensor([[1.0, 0.0, 0.0, 1.0],
                        [0.0, 1.0, 0.0, 1.0],
                        [0.0, 0.0, 1.0, 1.0]], dtype=torch.float64).reshape(1, 3, 1, 4)
    y = luminance(img)
    assert y.shape == (1, 1, 1, 4)
    assert_close(y.flatten(), torch.tensor([0.299, 0.587, 0.114, 1.0], dtype=torch.float64))


def test_greys_have_no_chrominance():
    grey = _rand((1, 1, 3, 3), 4).expand(1, 3, 3, 3)
    yiq = rgb_to_yiq(grey)
    assert_close(yiq[:, 1:], torch.zeros(1, 2, 3, 3, dtype=torch.float64), atol=1e-15, rtol=0)
    assert_close(yiq[:, :1], grey[:, :1])


def test_luminance_image_is_grey_with_the_same_luminance():
    img = _rand((1, 3, 4, 5), 5)
    grey = luminance_image(img)
    assert grey.shape == (1, 3, 4, 5)
    expected_y = torch.from_numpy(_np_mix(YIQ, img.numpy())[:, :1])
    for ch in range(3):
        assert_close(grey[:, ch:ch + 1], expected_y)
    yiq = rgb_to_yiq(grey)
    assert_close(yiq[:, :1], expected_y)
    assert_close(yiq[:, 1:], torch.zeros(1, 2, 4, 5, dtype=torch.float64), atol=1e-15, rtol=0)


def test_yiq_to_rgb_does_not_clamp():
    # Full luminance with a strong orange-blue chrominance is outside the RGB cube.
    yiq = torch.tensor([1.0, 0.5, 0.0], dtype=torch.float64).reshape(1, 3, 1, 1)
    rgb = yiq_to_rgb(yiq)
    expected = YIQ_INV @ np.array([1.0, 0.5, 0.0])
    assert expected.max() > 1
    assert_close(rgb.flatten(), torch.from_numpy(expected))


# ----------------------------------------------------------------------------- keep_luminance


def _np_keep(result, content):
    y = _np_mix(YIQ, result.double().numpy())[:, :1]
    iq = _np_mix(YIQ, content.double().numpy())[:, 1:]
    return _np_mix(YIQ_INV, np.concatenate([y, iq], axis=1))


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-6), (torch.float64, 1e-12)])
def test_keep_luminance_takes_y_from_result_and_iq_from_content(dtype, tol):
    result = _rand((1, 3, 6, 5), 6, 0.3, 0.7, dtype=dtype)
    content = _rand((1, 3, 6, 5), 7, 0.4, 0.6, dtype=dtype)
    expected = _np_keep(result, content)
    assert expected.min() > 0 and expected.max() < 1  # nothing clips: the statistics are exact
    out = keep_luminance(result, content)
    assert out.dtype == dtype and out.shape == result.shape
    assert_close(out, torch.from_numpy(expected).to(dtype), atol=tol, rtol=0)
    out_yiq = _np_mix(YIQ, out.double().numpy())
    assert_close(torch.from_numpy(out_yiq[:, :1]), torch.from_numpy(_np_mix(YIQ, result.double().numpy())[:, :1]),
                 atol=tol, rtol=0)
    assert_close(torch.from_numpy(out_yiq[:, 1:]), torch.from_numpy(_np_mix(YIQ, content.double().numpy())[:, 1:]),
                 atol=tol, rtol=0)


def test_keep_luminance_clamps_colours_outside_the_cube():
    # Saturated red under a white stroke asks for R > 1, under a black one for G, B < 0.
    result = torch.ones(1, 3, 2, 2, dtype=torch.float64)
    result[:, :, 1] = 0.0
    content = torch.zeros(1, 3, 2, 2, dtype=torch.float64)
    content[:, 0] = 1.0
    content[:, :, 0, 0] = 0.5  # one grey pixel, under white, which does not clip
    expected = _np_keep(result, content)
    assert expected.max() > 1 and expected.min() < 0
    out = keep_luminance(result, content)
    assert_close(out, torch.from_numpy(np.clip(expected, 0, 1)))
    assert_close(out[0, :, 0, 0], torch.ones(3, dtype=torch.float64))  # grey under white stays white


def test_keep_luminance_shape_mismatch():
    with pytest.raises(ValueError) as err:
        keep_luminance(torch.rand(1, 3, 8, 8), torch.rand(1, 3, 9, 8))
    assert str(err.value) == ("keep_luminance needs result and content of one shape, got (1, 3, 8, 8) and "
                              "(1, 3, 9, 8); resize the content to the result's size first "
                              "(styletut.images.resize(content, (H, W)))")


# ----------------------------------------------------------------------------- match_luminance


def _y(img):
    return _np_mix(YIQ, img.double().numpy())[:, 0]


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-5), (torch.float64, 1e-12)])
def test_match_luminance_gives_the_content_mean_and_std(dtype, tol):
    style = _rand((1, 3, 9, 11), 8, 0.0, 0.6, dtype=dtype)  # dark, high contrast, other size
    content = _rand((1, 3, 6, 7), 9, 0.45, 0.8, dtype=dtype)  # bright, low contrast
    y_s, y_c = _y(style), _y(content)
    expected = (y_s - y_s.mean()) * (y_c.std() / y_s.std()) + y_c.mean()  # np.std: population (ddof=0)
    assert expected.min() > 0 and expected.max() < 1  # nothing clips
    out = match_luminance(style, content)
    assert out.shape == style.shape and out.dtype == dtype
    for ch in range(3):
        assert_close(out[:, ch], torch.from_numpy(expected).to(dtype), atol=tol, rtol=0)
    y_out = _y(out)
    assert abs(y_out.mean() - y_c.mean()) < tol and abs(y_out.std() - y_c.std()) < tol


def test_match_luminance_flat_style_becomes_the_content_mean():
    style = torch.full((1, 3, 4, 4), 0.2, dtype=torch.float64)
    content = _rand((1, 3, 5, 5), 10)
    out = match_luminance(style, content)
    assert torch.isfinite(out).all()
    assert_close(out, torch.full_like(out, _y(content).mean()))


def test_match_luminance_clamps():
    style = _rand((1, 3, 8, 8), 11)  # wide spread
    content = _rand((1, 3, 8, 8), 12, 0.85, 1.0)
    content[:, :, :4] = 0.0  # half black, half bright: a spread wider than the style's, which overshoots
    y_s, y_c = _y(style), _y(content)
    expected = (y_s - y_s.mean()) * (y_c.std() / y_s.std()) + y_c.mean()
    assert expected.max() > 1 or expected.min() < 0  # the test exercises the clamp
    out = match_luminance(style, content)
    assert_close(out[:, 0], torch.from_numpy(np.clip(expected, 0, 1)))


# ----------------------------------------------------------------------------- match_colour: meancov


@pytest.mark.parametrize("dtype, tol", [(torch.float32, 1e-4), (torch.float64, 1e-9)])
def test_meancov_gives_the_content_mean_and_covariance(dtype, tol):
    style = _colourful((1, 3, 10, 12), 13, spread=0.05).flip(1).to(dtype)  # other colours, other correlations
    shift = torch.tensor([0.05, -0.1, 0.0], dtype=torch.float64).view(1, 3, 1, 1)  # another mean colour
    content = (_colourful((1, 3, 9, 7), 14, spread=0.1) + shift).to(dtype)
    expected = _np_meancov(style, content)
    assert expected.min() > 0 and expected.max() < 1  # nothing clips
    out = match_colour(style, content, method="meancov")
    assert out.shape == style.shape and out.dtype == dtype
    p, c = _pixels(out), _pixels(content)
    assert_close(torch.from_numpy(p.mean(1)), torch.from_numpy(c.mean(1)), atol=tol, rtol=0)
    assert_close(torch.from_numpy(np.cov(p, bias=True)), torch.from_numpy(np.cov(c, bias=True)), atol=tol, rtol=0)
    # The same map as numpy's eigh gives, unregularised: the module's 1e-10 added to eigenvalues
    # of 3e-4 to 2e-3 (this style's) moves the map by ~1e-8.
    assert_close(out, torch.from_numpy(expected).to(dtype), atol=max(tol, 1e-7), rtol=0)


def test_meancov_of_an_image_onto_itself_is_the_identity():
    img = _colourful((1, 3, 6, 6), 15)
    assert_close(match_colour(img, img), img, atol=1e-8, rtol=0)


def test_meancov_flat_style_gets_the_content_mean():
    style = torch.tensor([0.9, 0.1, 0.3]).view(1, 3, 1, 1).expand(1, 3, 5, 5).contiguous()
    content = _rand((1, 3, 6, 4), 16, dtype=torch.float32)
    out = match_colour(style, content, method="meancov")
    assert torch.isfinite(out).all()
    mean = torch.from_numpy(_pixels(content).mean(1)).float()
    assert_close(out, mean.view(1, 3, 1, 1).expand_as(out), atol=1e-6, rtol=0)


def test_meancov_grey_style_does_not_crash():
    # R = G = B: the covariance has rank 1, its inverse square root exists only regularised.
    style = _rand((1, 1, 6, 6), 17).expand(1, 3, 6, 6)
    out = match_colour(style, _rand((1, 3, 6, 6), 18))
    assert torch.isfinite(out).all() and out.min() >= 0 and out.max() <= 1


def test_meancov_clamps_to_the_cube():
    style = _rand((1, 3, 8, 8), 19, 0.45, 0.55)  # low contrast: the map stretches it a lot
    content = _rand((1, 3, 8, 8), 20).round()  # black-and-white-and-primaries: high contrast
    expected = _np_meancov(style, content)
    assert expected.max() > 1 or expected.min() < 0  # the test exercises the clamp
    out = match_colour(style, content)
    assert out.min() >= 0 and out.max() <= 1
    assert_close(out, torch.from_numpy(np.clip(expected, 0, 1)), atol=1e-6, rtol=0)


# ----------------------------------------------------------------------------- match_colour: histogram


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_histogram_equal_counts_takes_exactly_the_content_values(dtype):
    style = _rand((1, 3, 6, 10), 21, dtype=dtype)
    content = _rand((1, 3, 12, 5), 22, 0.2, 0.9, dtype=dtype) ** 2  # other shape, same 60 pixels
    out = match_colour(style, content, method="histogram")
    assert out.shape == style.shape and out.dtype == dtype
    for ch in range(3):
        assert torch.equal(out[0, ch].flatten().sort().values, content[0, ch].flatten().sort().values)


def test_histogram_keeps_the_order_of_the_style_pixels():
    style = _rand((1, 3, 7, 9), 23)
    content = _rand((1, 3, 5, 5), 24)
    out = match_colour(style, content, method="histogram")
    for ch in range(3):
        order = np.argsort(style[0, ch].numpy().ravel(), kind="stable")
        along = out[0, ch].numpy().ravel()[order]
        assert np.all(np.diff(along) >= 0)
    # With equal counts and no ties the order is strict.
    out = match_colour(style, _rand((1, 3, 9, 7), 25), method="histogram")
    for ch in range(3):
        order = np.argsort(style[0, ch].numpy().ravel())
        assert np.all(np.diff(out[0, ch].numpy().ravel()[order]) > 0)


def test_histogram_different_counts_matches_numpy_quantiles():
    style = _rand((1, 3, 20, 20), 26)  # 400 pixels
    content = _rand((1, 3, 30, 30), 27) ** 3  # 900 pixels, skewed
    out = match_colour(style, content, method="histogram")
    n = 400
    for ch in range(3):
        s, c, o = (x[0, ch].numpy().ravel() for x in (style, content, out))
        # The k-th smallest style value becomes the content's quantile k / (n - 1), exactly.
        expected = np.empty(n)
        expected[np.argsort(s)] = np.quantile(c, np.arange(n) / (n - 1))
        assert_close(torch.from_numpy(o), torch.from_numpy(expected), atol=1e-12, rtol=0)
        # Between those levels both quantile functions are monotone and meet at the levels, so
        # at any q they differ by at most the content's step between the neighbouring levels.
        q = np.linspace(0, 1, 101)
        k = np.minimum(np.floor(q * (n - 1)), n - 2)
        step = np.quantile(c, (k + 1) / (n - 1)) - np.quantile(c, k / (n - 1))
        assert np.all(np.abs(np.quantile(o, q) - np.quantile(c, q)) <= step + 1e-12)
        assert np.max(np.abs(np.quantile(o, q) - np.quantile(c, q))) < 1e-2


def test_histogram_ties_stay_tied_at_the_average_rank():
    gen = torch.Generator().manual_seed(28)
    style = torch.randint(0, 4, (1, 3, 5, 6), generator=gen).double() / 3  # 4 levels per channel: many ties
    content = _rand((1, 3, 6, 5), 29)
    out = match_colour(style, content, method="histogram")
    n = 30
    for ch in range(3):
        s, c, o = (x[0, ch].numpy().ravel() for x in (style, content, out))
        c_sorted = np.sort(c)
        for level in np.unique(s):
            members = np.flatnonzero(s == level)
            ranks = [np.sum(s < level) + i for i in range(len(members))]  # the ranks the group occupies
            mid = np.mean(ranks)  # its average rank, maybe a half: between two content values
            expected = np.interp(mid, np.arange(n), c_sorted)
            assert np.all(o[members] == o[members[0]])
            assert abs(o[members[0]] - expected) < 1e-12
    assert torch.equal(out, match_colour(style, content, method="histogram"))  # deterministic


def test_histogram_single_pixel_style_gets_the_median():
    style = torch.tensor([0.2, 0.5, 0.9], dtype=torch.float64).view(1, 3, 1, 1)
    content = _rand((1, 3, 4, 5), 30)
    out = match_colour(style, content, method="histogram")
    assert_close(out.flatten(), torch.from_numpy(np.median(content[0].numpy().reshape(3, -1), axis=1)))


# ----------------------------------------------------------------------------- batches


@pytest.mark.parametrize("method", COLOUR_METHODS)
def test_batches_pair_image_by_image(method):
    style = _colourful((2, 3, 5, 6), 31, spread=0.05)
    content = _colourful((2, 3, 4, 4), 32)
    out = match_colour(style, content, method)
    for i in range(2):
        assert_close(out[i:i + 1], match_colour(style[i:i + 1], content[i:i + 1], method))
    # A single content image pairs with every style image.
    out = match_colour(style, content[:1], method)
    for i in range(2):
        assert_close(out[i:i + 1], match_colour(style[i:i + 1], content[:1], method))
    lum = match_luminance(style, content[:1])
    assert_close(lum[1:], match_luminance(style[1:], content[:1]))


def test_batch_sizes_that_do_not_pair():
    with pytest.raises(ValueError) as err:
        match_colour(torch.rand(2, 3, 4, 4), torch.rand(3, 3, 4, 4))
    assert str(err.value) == ("style has batch size 2 and content 3; pass equal batch sizes, or a batch of 1 "
                              "for one of them to pair it with every image of the other")


# ----------------------------------------------------------------------------- errors


def test_unknown_method_lists_the_valid_ones():
    with pytest.raises(ValueError) as err:
        match_colour(torch.rand(1, 3, 4, 4), torch.rand(1, 3, 4, 4), method="lab")
    assert str(err.value) == "unknown colour method 'lab'; choose one of: meancov, histogram"


@pytest.mark.parametrize("shape, hint", [
    ((3, 4, 4), "style has shape (3, 4, 4); pass a (B, 3, H, W) RGB image in [0, 1]; "
                "add the batch axis with img.unsqueeze(0)"),
    ((1, 1, 4, 4), "style has shape (1, 1, 4, 4); pass a (B, 3, H, W) RGB image in [0, 1]"),
    ((1, 4, 4, 4), "style has shape (1, 4, 4, 4); pass a (B, 3, H, W) RGB image in [0, 1]"),
    ((1, 3, 0, 4), "style has shape (1, 3, 0, 4), with no pixels; pass an image with H, W >= 1"),
])
def test_wrong_shapes(shape, hint):
    with pytest.raises(ValueError) as err:
        match_colour(torch.rand(shape), torch.rand(1, 3, 4, 4))
    assert str(err.value) == hint


def test_wrong_types():
    with pytest.raises(TypeError) as err:
        luminance([[0.5]])
    assert str(err.value) == ("img must be a torch.Tensor, got list; pass a (B, 3, H, W) float RGB image "
                              "in [0, 1] (styletut.images.load_image gives one)")
    with pytest.raises(TypeError) as err:
        match_luminance(torch.rand(1, 3, 4, 4), torch.zeros(1, 3, 4, 4, dtype=torch.uint8))
    assert str(err.value) == ("content has dtype torch.uint8; pass a float RGB image in [0, 1], "
                              "e.g. img.float() / 255")


@pytest.mark.parametrize("bad", [float("nan"), float("inf"), -float("inf")])
def test_non_finite_values(bad):
    img = torch.rand(1, 3, 4, 4)
    img[0, 1, 2, 3] = bad
    message = ("result contains NaN or infinite values; pass finite values "
               "(check how the image was made, e.g. an optimiser that diverged)")
    with pytest.raises(ValueError) as err:
        keep_luminance(img, torch.rand(1, 3, 4, 4))
    assert str(err.value) == message
    with pytest.raises(ValueError, match="yiq contains NaN"):
        yiq_to_rgb(img)


# ----------------------------------------------------------------------------- dtype and device


@pytest.mark.parametrize("dtype", [torch.float32, torch.float64])
def test_output_dtype_is_the_input_dtype(dtype):
    a, b = _rand((1, 3, 4, 4), 33, dtype=dtype), _rand((1, 3, 4, 4), 34, dtype=dtype)
    outs = [rgb_to_yiq(a), yiq_to_rgb(a), luminance(a), luminance_image(a), match_luminance(a, b),
            keep_luminance(a, b)] + [match_colour(a, b, m) for m in COLOUR_METHODS]
    assert all(o.dtype == dtype for o in outs)


@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs CUDA")
def test_cuda_agrees_with_cpu():
    cuda = torch.device("cuda")
    style, content = _colourful((1, 3, 16, 16), 35, 0.05).float(), _colourful((1, 3, 12, 12), 36).float()
    cpu = [match_colour(style, content, m) for m in COLOUR_METHODS] + [match_luminance(style, content)]
    gpu = [match_colour(style.to(cuda), content.to(cuda), m) for m in COLOUR_METHODS]
    gpu += [match_luminance(style.to(cuda), content.to(cuda))]
    for a, b in zip(cpu, gpu):
        assert b.device.type == "cuda"
        assert_close(b.cpu(), a, atol=1e-6, rtol=0)
    result = _colourful((1, 3, 12, 12), 37).float()
    assert_close(keep_luminance(result.to(cuda), content.to(cuda)).cpu(), keep_luminance(result, content),
                 atol=1e-6, rtol=0)
