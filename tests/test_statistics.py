"""Style statistics, masks and blends against explicit loops, numpy and closed forms."""

import doctest
import math

import numpy as np
import pytest
import torch
from torch.testing import assert_close

from styletut import statistics
from styletut.losses import gram_error, gram_matrix
from styletut.statistics import STYLE_STATS, blend, describe, layer_mask, mismatch


def _randn(*shape, seed=0, dtype=torch.float64):
    return torch.randn(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _rand(*shape, seed=0, dtype=torch.float64):
    return torch.rand(*shape, generator=torch.Generator().manual_seed(seed), dtype=dtype)


def _permute_positions(f, seed=0):
    _, c, h, w = f.shape
    perm = torch.randperm(h * w, generator=torch.Generator().manual_seed(seed))
    return f.reshape(1, c, h * w)[:, :, perm].reshape(1, c, h, w)


# Independent implementations: explicit loops and numpy.

def _guided_gram_loops(f, m):
    _, c, h, w = f.shape
    area = sum(float(m[0, 0, y, x]) for y in range(h) for x in range(w))
    g = torch.zeros(1, c, c, dtype=f.dtype)
    for i in range(c):
        for j in range(c):
            s = 0.0
            for y in range(h):
                for x in range(w):
                    s += float(f[0, i, y, x] * m[0, 0, y, x] * f[0, j, y, x] * m[0, 0, y, x])
            g[0, i, j] = s / (c * area)
    return g


def _mean_std_numpy(f, m=None):
    x = f[0].reshape(f.shape[1], -1).numpy()
    w = np.ones(x.shape[1]) if m is None else m.reshape(-1).numpy()
    mean = (x * w).sum(axis=1) / w.sum()
    var = (((x - mean[:, None]) ** 2) * w).sum(axis=1) / w.sum()
    eps = 1e-12  # the documented definition: sqrt(var + eps) - sqrt(eps)
    return mean, np.sqrt(var + eps) - np.sqrt(eps), np.sqrt(var)


def _levels(q):
    return (np.arange(q) + 0.5) / q


# ----------------------------------------------------------------------------- layer_mask


def test_layer_mask_area_average_hand_computed():
    # Left 3 of 6 columns inside; 3 cells of 2 columns: the middle cell is half inside.
    mask = torch.zeros(4, 6)
    mask[:, :3] = 1.0
    expected = torch.tensor([[[[1.0, 0.5, 0.0], [1.0, 0.5, 0.0]]]])
    for m in (mask, mask[None], mask[None, None]):
        out = layer_mask(m, (2, 3))
        assert out.shape == (1, 1, 2, 3)
        assert torch.equal(out, expected)  # exact 1 and 0 away from the edge
    # A soft value averages with its cell; same size is the identity.
    soft = torch.tensor([[0.2, 0.6], [1.0, 0.0]])
    assert_close(layer_mask(soft, (1, 1)), torch.tensor([[[[0.45]]]]))
    assert torch.equal(layer_mask(soft, (2, 2)), soft[None, None])
    assert torch.equal(layer_mask(mask.bool(), (2, 3)), expected)


def test_layer_mask_errors_name_shape_range_and_fix():
    with pytest.raises(ValueError, match=r"mask has shape \(2, 5, 5\); pass a \(1, 1, H, W\), \(1, H, W\) or \(H, W\) "
                                         r"tensor in \[0, 1\]"):
        layer_mask(torch.zeros(2, 5, 5), (2, 2))
    with pytest.raises(ValueError, match=r"mask has shape \(1, 3, 5, 5\)"):
        layer_mask(torch.zeros(1, 3, 5, 5), (2, 2))
    with pytest.raises(ValueError, match=r"must lie in \[0, 1\], got min 0 and max 255; scale it \(an 8-bit image: "
                                         r"mask / 255\)"):
        layer_mask(torch.tensor([[0.0, 255.0]]), (1, 1))
    with pytest.raises(ValueError, match="got min -0.5"):
        layer_mask(torch.tensor([[-0.5, 1.0]]), (1, 1))
    with pytest.raises(ValueError, match="NaN or infinite"):
        layer_mask(torch.tensor([[float("nan"), 1.0]]), (1, 1))
    with pytest.raises(ValueError, match=r"h, w >= 1, got \(0, 2\)"):
        layer_mask(torch.ones(2, 2), (0, 2))


# ----------------------------------------------------------------------------- gram


def test_guided_gram_full_mask_is_gram_matrix_and_matches_loops():
    f = _randn(1, 3, 4, 5)
    assert_close(describe(f, "gram", torch.ones(4, 5))["gram"], gram_matrix(f))
    assert torch.equal(describe(f, "gram")["gram"], gram_matrix(f))
    m = _rand(4, 5, seed=1)  # soft mask at the layer's size
    assert_close(describe(f, "gram", m)["gram"], _guided_gram_loops(f, m[None, None]))
    # A mask at image resolution is area-averaged to the layer first.
    big = torch.zeros(8, 10, dtype=torch.float64)
    big[:, :5] = 1.0
    assert_close(describe(f, "gram", big)["gram"], _guided_gram_loops(f, layer_mask(big, (4, 5))))


def test_masked_out_region_changes_nothing():
    """Features changed only where the mask is 0 leave every statistic and every loss unchanged."""
    f = _randn(1, 4, 6, 6).abs()
    mask = torch.ones(6, 6, dtype=torch.float64)
    mask[:, 3:] = 0.0
    changed = f.clone()
    changed[..., 3:] = _randn(1, 4, 6, 3, seed=5) * 10
    for kind in STYLE_STATS:
        a, b = describe(f, kind, mask), describe(changed, kind, mask)
        for key in a:
            assert torch.equal(a[key], b[key]), (kind, key)
        target = describe(_randn(1, 4, 6, 6, seed=2).abs(), kind)
        assert_close(mismatch(changed, target, kind, mask), mismatch(f, target, kind, mask), rtol=1e-12, atol=0)
        # ... and the masked-out region gets no gradient: that region's style loss is zero.
        x = changed.clone().requires_grad_(True)
        mismatch(x, target, kind, mask).backward()
        assert torch.equal(x.grad[..., 3:], torch.zeros(1, 4, 6, 3, dtype=torch.float64)), kind
        assert x.grad[..., :3].abs().sum() > 0, kind


def test_all_zero_mask_is_a_clear_error():
    f = _randn(1, 2, 4, 4)
    for kind in STYLE_STATS:
        with pytest.raises(ValueError, match=r"the mask covers no position of this 4x4 layer \(it is all zero\)"):
            describe(f, kind, torch.zeros(4, 4))
        with pytest.raises(ValueError, match="covers no position"):
            mismatch(f, describe(f, kind), kind, torch.zeros(8, 8))


def test_gram_mismatch_is_gram_error_relative():
    f, s = _randn(1, 3, 5, 5), _randn(1, 3, 7, 6, seed=1)
    target = describe(s, "gram")
    assert torch.equal(mismatch(f, target, "gram"),
                       gram_error(gram_matrix(f), gram_matrix(s), norm="relative"))


# ----------------------------------------------------------------------------- meanstd


def test_meanstd_matches_numpy():
    f = _randn(1, 3, 4, 5) * 3 + 1
    d = describe(f, "meanstd")
    mean, std, plain_std = _mean_std_numpy(f)
    assert d["mean"].shape == d["std"].shape == (1, 3)
    assert_close(d["mean"][0], torch.from_numpy(mean))
    assert_close(d["std"][0], torch.from_numpy(std))
    assert_close(d["std"][0], torch.from_numpy(plain_std), rtol=0, atol=1e-6)  # within sqrt(eps)
    m = _rand(4, 5, seed=3)
    dm = describe(f, "meanstd", m)
    mean, std, _ = _mean_std_numpy(f, m)
    assert_close(dm["mean"][0], torch.from_numpy(mean))
    assert_close(dm["std"][0], torch.from_numpy(std))
    # A constant (dead ReLU) channel: std exactly 0, and a finite gradient.
    flat = torch.zeros(1, 2, 3, 3, dtype=torch.float64, requires_grad=True)
    assert torch.equal(describe(flat, "meanstd")["std"], torch.zeros(1, 2, dtype=torch.float64))
    mismatch(flat, describe(f[:, :2], "meanstd"), "meanstd").backward()
    assert torch.isfinite(flat.grad).all()


def test_meanstd_zero_exactly_when_statistics_match():
    f = _randn(1, 3, 6, 6) * 2 + 0.5
    target = describe(f, "meanstd")
    assert mismatch(f, target, "meanstd") == 0
    assert mismatch(_permute_positions(f), target, "meanstd") <= 1e-7
    # Another map built to have f's per-channel mean and std, of another size.
    g = _randn(1, 3, 4, 9, seed=7)
    g = (g - g.mean((2, 3), keepdim=True)) / g.std((2, 3), unbiased=False, keepdim=True)
    g = g * f.std((2, 3), unbiased=False, keepdim=True) + f.mean((2, 3), keepdim=True)
    assert g.shape != f.shape
    assert mismatch(g, target, "meanstd") <= 1e-7
    assert mismatch(g * 1.1, target, "meanstd") > 1e-4
    assert mismatch(g + 0.1, target, "meanstd") > 1e-4


def test_meanstd_hand_computed():
    # Channel values 1, 3 (mean 2, std 1) against target mean 0, std 1: (4 + 0) / (0 + 1).
    f = torch.tensor([[[[1.0, 3.0]]]], dtype=torch.float64)
    target = {"mean": torch.tensor([[0.0]], dtype=torch.float64), "std": torch.tensor([[1.0]], dtype=torch.float64)}
    assert_close(mismatch(f, target, "meanstd"), torch.tensor(4.0, dtype=torch.float64))


# ----------------------------------------------------------------------------- all kinds


@pytest.mark.parametrize("kind", STYLE_STATS)
@pytest.mark.parametrize("masked", [False, True])
def test_zero_for_own_statistics_one_for_zero_image(kind, masked):
    f = _randn(1, 4, 6, 6).abs()
    mask = None
    if masked:
        mask = torch.ones(6, 6, dtype=torch.float64)
        mask[:2] = 0.0
    target = describe(f, kind, mask)
    assert mismatch(f, target, kind, mask) == 0
    assert mismatch(_randn(1, 4, 6, 6, seed=9).abs(), target, kind, mask) > 1e-3
    # The relative scale: an all-zero generated map scores 1, whatever its size.
    for hw in ((6, 6), (3, 5)):
        zero = torch.zeros(1, 4, *hw, dtype=torch.float64)
        assert_close(mismatch(zero, target, kind), torch.tensor(1.0, dtype=torch.float64))


@pytest.mark.parametrize("kind", STYLE_STATS)
def test_zero_target_energy_is_a_clear_error(kind):
    target = describe(torch.zeros(1, 2, 3, 3), kind)
    with pytest.raises(ValueError, match="are all zero at this layer .* the relative scale .* is undefined; "
                                         "drop this layer"):
        mismatch(torch.ones(1, 2, 3, 3), target, kind)


def test_kind_and_shape_errors():
    f = _randn(1, 3, 4, 4)
    with pytest.raises(ValueError, match="unknown style statistic 'hist'; choose one of: gram, meanstd, sliced"):
        describe(f, "hist")
    with pytest.raises(ValueError, match=r"shape \(1, C, H, W\), got \(2, 3, 4, 4\); for a batch, describe each"):
        describe(_randn(2, 3, 4, 4), "gram")
    with pytest.raises(ValueError, match=r"got \(3, 4, 4\)"):
        mismatch(f[0], describe(f, "gram"), "gram")
    with pytest.raises(ValueError, match=r"asked for kind 'meanstd', but the target has keys \['gram'\] "
                                         r"\(a 'gram' description\); pass the same kind"):
        mismatch(f, describe(f, "gram"), "meanstd")
    with pytest.raises(ValueError, match="describes 3 channels but the features have 2"):
        mismatch(f[:, :2], describe(f, "sliced"), "sliced")
    with pytest.raises(ValueError, match="num_projections must be an integer >= 1, got 0"):
        describe(f, "sliced", num_projections=0)


def test_float32_works_and_description_is_detached():
    f = _randn(1, 3, 5, 5, dtype=torch.float32).requires_grad_(True)
    for kind in STYLE_STATS:
        d = describe(f, kind)
        assert all(v.dtype == torch.float32 and not v.requires_grad for v in d.values())
        loss = mismatch(f * 0.5, d, kind)
        assert loss.dtype == torch.float32 and loss.requires_grad


# ----------------------------------------------------------------------------- sliced


def test_sliced_description_matches_numpy():
    f = _randn(1, 5, 4, 6)
    d = describe(f, "sliced", num_projections=7, seed=3)
    dirs, q = d["dirs"], d["quantiles"]
    assert dirs.shape == (5, 7) and q.shape == (7, 24)  # Q = N = 24 < 256
    assert_close(dirs.norm(dim=0), torch.ones(7, dtype=torch.float64))
    proj = (dirs.T @ f[0].reshape(5, -1)).numpy()
    assert_close(q, torch.from_numpy(np.sort(proj, axis=1)))
    # More positions than 256: the quantile function at (i + 0.5) / 256, Hazen's convention.
    big = _randn(1, 5, 20, 30, seed=1)
    qb = describe(big, "sliced", num_projections=7, seed=3)["quantiles"]
    proj = (dirs.T @ big[0].reshape(5, -1)).numpy()
    assert qb.shape == (7, 256)
    assert_close(qb, torch.from_numpy(np.quantile(proj, _levels(256), axis=1, method="hazen").T))


def test_sliced_seed_gives_the_same_directions():
    f = _randn(1, 6, 3, 3)
    a = describe(f, "sliced", seed=11)["dirs"]
    assert a.shape == (6, 64)
    assert torch.equal(a, describe(f * 2, "sliced", seed=11)["dirs"])
    assert not torch.allclose(a, describe(f, "sliced", seed=12)["dirs"])
    # float32 directions are the float64 ones rounded: drawn once, on the CPU.
    assert torch.equal(describe(f.float(), "sliced", seed=11)["dirs"], a.float())
    state = torch.get_rng_state()
    describe(f, "sliced", seed=11)
    assert torch.equal(torch.get_rng_state(), state)  # the global random state is untouched


def test_sliced_invariant_to_permuting_positions():
    # One channel: a projection is one multiplication, rounded the same wherever the
    # position sits, so sorting makes the loss exactly the same.
    f1 = _randn(1, 1, 5, 5)
    target1 = describe(_randn(1, 1, 7, 7, seed=1), "sliced")
    for seed in range(5):
        assert torch.equal(mismatch(_permute_positions(f1, seed), target1, "sliced"), mismatch(f1, target1, "sliced"))
    # Several channels: the projections are dot products, which the BLAS (MKL) may
    # round differently depending on a column's place (about 1 ulp), so equal to rounding.
    f = _randn(1, 4, 5, 5)
    target = describe(_randn(1, 4, 7, 7, seed=1), "sliced")
    for seed in range(5):
        assert_close(mismatch(_permute_positions(f, seed), target, "sliced"), mismatch(f, target, "sliced"),
                     rtol=1e-12, atol=0)
        assert_close(describe(_permute_positions(f, seed), "sliced")["quantiles"], describe(f, "sliced")["quantiles"],
                     rtol=0, atol=1e-14)


def test_sliced_compares_different_sizes():
    s = _randn(1, 4, 16, 16)  # target: 256 positions
    g = _randn(1, 4, 8, 8, seed=1)  # generated: 64 positions
    target = describe(s, "sliced", num_projections=5)
    dirs, q = target["dirs"].numpy(), target["quantiles"].numpy()
    gen = np.sort(dirs.T @ g[0].reshape(4, -1).numpy(), axis=1)
    ref = np.stack([np.interp(_levels(64), _levels(256), row) for row in q])
    expected = ((gen - ref) ** 2).mean() / (ref ** 2).mean()
    assert_close(mismatch(g, target, "sliced"), torch.tensor(expected, dtype=torch.float64))
    # The 8x8 map against its own 2x blow-up (each value 4 times, the same distribution): loss 0.
    up = torch.nn.functional.interpolate(g, scale_factor=2, mode="nearest")
    assert mismatch(g, describe(up, "sliced"), "sliced") <= 1e-12


def test_sliced_mask_keeps_positions_more_than_half_inside():
    f = _randn(1, 3, 2, 4)
    m = torch.tensor([[1.0, 0.6, 0.5, 0.0], [0.9, 0.0, 1.0, 0.2]], dtype=torch.float64)
    kept = f[..., m > 0.5].reshape(1, 3, 1, 4)  # positions with 1.0, 0.6, 0.9, 1.0
    assert torch.equal(describe(f, "sliced", m)["quantiles"], describe(kept, "sliced")["quantiles"])
    with pytest.raises(ValueError, match=r"no position of this 2x4 layer is more than half inside the mask"):
        describe(f, "sliced", torch.full((2, 4), 0.5, dtype=torch.float64))


def test_sliced_gradient_reaches_every_position():
    """With more positions than stored quantiles, every generated position still gets a gradient."""
    f = _randn(1, 8, 32, 32).requires_grad_(True)  # 1024 positions > 256 levels
    mismatch(f, describe(_randn(1, 8, 16, 16, seed=1), "sliced"), "sliced").backward()
    assert (f.grad.abs().sum(dim=1) > 0).all()


# ----------------------------------------------------------------------------- gradients


@pytest.mark.parametrize("kind", STYLE_STATS)
def test_gradcheck(kind):
    f = _randn(1, 3, 3, 4, seed=1).requires_grad_(True)  # random: no ties between projections
    target = describe(_randn(1, 3, 4, 3, seed=2), kind, num_projections=4)
    mask = _rand(3, 4, seed=3)
    assert torch.autograd.gradcheck(lambda x: mismatch(x, target, kind), (f,))
    assert torch.autograd.gradcheck(lambda x: mismatch(x, target, kind, mask), (f,))


# ----------------------------------------------------------------------------- blend


def test_blend_weights_one_zero_reproduce_exactly():
    a, b = _randn(1, 4, 5, 5), _randn(1, 4, 6, 7, seed=1)
    for kind in STYLE_STATS:
        da, db = describe(a, kind), describe(b, kind)
        for w in ((1, 0), (2.5, 0.0), (0.3, 0)):
            out = blend([da, db], w)
            assert set(out) == set(da)
            for key in da:
                assert torch.equal(out[key], da[key]), (kind, w, key)
        assert torch.equal(blend([da, db], (0, 1))[next(iter(db))], db[next(iter(db))])


def test_blend_halves_average():
    a, b = _randn(1, 3, 4, 4), _randn(1, 3, 5, 4, seed=1)
    ga, gb = gram_matrix(a), gram_matrix(b)
    assert_close(blend([describe(a, "gram"), describe(b, "gram")], (0.5, 0.5))["gram"], (ga + gb) / 2)
    assert_close(blend([describe(a, "gram"), describe(b, "gram")], (3, 1))["gram"], 0.75 * ga + 0.25 * gb)
    ma, mb = describe(a, "meanstd"), describe(b, "meanstd")
    out = blend([ma, mb], (1, 1))
    assert_close(out["mean"], (ma["mean"] + mb["mean"]) / 2)
    assert_close(out["std"], (ma["std"] + mb["std"]) / 2)


def test_blend_sliced_is_the_barycentre_of_quantile_functions():
    # Quantile functions of f and 3f are Q and 3Q; their average is 2Q, that of 2f.
    f = _randn(1, 3, 4, 4)
    out = blend([describe(f, "sliced"), describe(3 * f, "sliced")], (0.5, 0.5))
    assert_close(out["quantiles"], describe(2 * f, "sliced")["quantiles"])
    # Different numbers of levels (Q = 256 and Q = 16): resampled to the larger first.
    big = describe(_randn(1, 3, 16, 16, seed=1), "sliced", num_projections=2)
    small = describe(f, "sliced", num_projections=2)
    mixed = blend([big, small], (0.25, 0.75))["quantiles"]
    up = np.stack([np.interp(_levels(256), _levels(16), row) for row in small["quantiles"].numpy()])
    assert_close(mixed, 0.25 * big["quantiles"] + 0.75 * torch.from_numpy(up))


def test_blend_errors():
    f = _randn(1, 3, 4, 4)
    g, m = describe(f, "gram"), describe(f, "meanstd")
    with pytest.raises(ValueError, match=r"finite and >= 0, got \[1.0, -0.5\]"):
        blend([g, g], (1, -0.5))
    with pytest.raises(ValueError, match=r"finite and >= 0, got \[nan, 1.0\]"):
        blend([g, g], (math.nan, 1))
    with pytest.raises(ValueError, match=r"all zero \(\[0.0, 0.0\]\); give at least one style a positive weight"):
        blend([g, g], (0, 0))
    with pytest.raises(ValueError, match=r"one weight per description, got 2 description\(s\) and 3 weight\(s\)"):
        blend([g, g], (1, 1, 1))
    with pytest.raises(ValueError, match=r"one kind, got \['gram', 'meanstd'\]"):
        blend([g, m], (1, 1))
    with pytest.raises(ValueError, match="description 1 was projected on other directions than description 0; "
                                         "describe every style with the same seed and num_projections"):
        blend([describe(f, "sliced", seed=0), describe(f, "sliced", seed=1)], (1, 1))
    with pytest.raises(ValueError, match=r"description 1 has a gram of shape \(1, 2, 2\)"):
        blend([g, describe(f[:, :2], "gram")], (1, 1))


# ----------------------------------------------------------------------------- docs


def test_docstring_examples():
    result = doctest.testmod(statistics, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
