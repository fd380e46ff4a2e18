"""Losses against hand-computed values, explicit loops and gradcheck."""

import pytest
import torch
from torch.testing import assert_close

from styletut.losses import (DEFAULT_STYLE_NORM, STYLE_NORMS, content_loss, gram_error, gram_matrix,
                             style_loss, tv_loss)


def _gram_loops(f):
    b, c, h, w = f.shape
    g = torch.zeros(b, c, c, dtype=f.dtype)
    for n in range(b):
        for i in range(c):
            for j in range(c):
                s = 0.0
                for y in range(h):
                    for x in range(w):
                        s += f[n, i, y, x] * f[n, j, y, x]
                g[n, i, j] = s / (c * h * w)
    return g


def test_content_loss_hand_computed():
    gen = torch.tensor([[[[1.0, 2.0], [3.0, 4.0]]]])
    target = torch.tensor([[[[1.0, 0.0], [3.0, 1.0]]]])
    # differences 0, 2, 0, 3 -> squares 0, 4, 0, 9 -> mean 13/4
    assert_close(content_loss(gen, target), torch.tensor(13 / 4))


def test_content_loss_shape_mismatch_is_clear():
    with pytest.raises(ValueError, match="equal shapes"):
        content_loss(torch.zeros(1, 2, 3, 3), torch.zeros(1, 2, 3, 4))


def test_gram_hand_computed():
    f = torch.tensor([[[[1.0, 2.0]], [[3.0, -1.0]]]])  # (1, 2, 1, 2)
    # F = [[1, 2], [3, -1]]; F F^T = [[5, 1], [1, 10]]; / (C*H*W = 4)
    assert_close(gram_matrix(f), torch.tensor([[[5.0, 1.0], [1.0, 10.0]]]) / 4)


def test_gram_matches_explicit_loops():
    f = torch.randn(2, 3, 4, 5, dtype=torch.float64)
    assert_close(gram_matrix(f), _gram_loops(f))


def test_gram_symmetric_and_psd():
    g = gram_matrix(torch.randn(3, 8, 6, 7, dtype=torch.float64))
    assert g.shape == (3, 8, 8)
    assert_close(g, g.transpose(1, 2))
    assert torch.linalg.eigvalsh(g).min() > -1e-12


def test_gram_ignores_positions():
    """Shuffling spatial positions leaves the Gram matrix unchanged: texture, not layout."""
    f = torch.randn(1, 4, 5, 5, dtype=torch.float64)
    perm = torch.randperm(25)
    shuffled = f.reshape(1, 4, 25)[:, :, perm].reshape(1, 4, 5, 5)
    assert_close(gram_matrix(shuffled), gram_matrix(f))


def test_style_loss_hand_computed_and_weights():
    a = torch.ones(1, 1, 2, 2)
    b = torch.zeros(1, 1, 2, 2)
    targets = {"x": gram_matrix(b), "y": gram_matrix(a)}
    feats = {"x": a, "y": a}
    # layer x: G(a) = 1, A = 0 -> MSE 1; layer y: 0. Default weights 1/2 each.
    assert_close(style_loss(feats, targets, norm="tutorial"), torch.tensor(0.5))
    # Weights are relative: {x: 3, y: 1} means 3/4 and 1/4 ...
    assert_close(style_loss(feats, targets, {"x": 3.0, "y": 1.0}, norm="tutorial"), torch.tensor(0.75))
    # ... so any equal weights are the default, whatever their scale (issue #10).
    for w in (1.0, 5.0, 1e-3):
        assert_close(style_loss(feats, targets, {"x": w, "y": w}, norm="tutorial"), torch.tensor(0.5))
    with pytest.raises(ValueError, match=r"finite and >= 0, got \{'x': nan\}"):
        style_loss(feats, targets, {"x": float("nan"), "y": 1.0}, norm="tutorial")
    with pytest.raises(ValueError, match="weight 0"):
        style_loss(feats, targets, {"x": 0.0}, norm="tutorial")
    with pytest.raises(KeyError, match="no features"):
        style_loss({"x": a}, targets)
    # a misspelt layer in the weights is an error, not silently dropped
    with pytest.raises(KeyError, match="relu9_9"):
        style_loss(feats, targets, {"x": 1.0, "relu9_9": 1.0}, norm="tutorial")
    # "relative" divides by the target's norm: undefined for an all-zero target Gram
    with pytest.raises(ValueError, match="all zero"):
        style_loss(feats, targets, norm="relative")
    with pytest.raises(ValueError, match="tutorial, gatys, relative"):
        style_loss(feats, targets, norm="paper")


def _raw_gatys_E(f, a_img_feats):
    """Gatys et al. 2016 eq. 4 with explicit loops: raw Gram sums, 1 / (4 N^2 M^2)."""
    _, n, h, w = f.shape
    m = h * w
    F_ = f[0].reshape(n, m)
    S_ = a_img_feats[0].reshape(n, m)
    total = 0.0
    for i in range(n):
        for j in range(n):
            g = sum(F_[i, k] * F_[j, k] for k in range(m))
            a = sum(S_[i, k] * S_[j, k] for k in range(m))
            total = total + (g - a) ** 2
    return total / (4 * n ** 2 * m ** 2)


def test_style_norms_against_the_paper_and_each_other():
    g = torch.Generator().manual_seed(0)
    f = torch.rand(1, 3, 3, 4, generator=g, dtype=torch.float64)
    s = torch.rand(1, 3, 3, 4, generator=g, dtype=torch.float64)
    G, A = gram_matrix(f), gram_matrix(s)
    assert_close(gram_error(G, A, "gatys", num_positions=12), _raw_gatys_E(f, s))
    assert_close(gram_error(G, A, "tutorial"), ((G - A) ** 2).mean())
    # the tutorial convention is Gatys's E_l * 4 / C^2
    assert_close(gram_error(G, A, "tutorial"), _raw_gatys_E(f, s) * 4 / 3 ** 2)
    rel = torch.linalg.matrix_norm(G - A) ** 2 / torch.linalg.matrix_norm(A) ** 2
    assert_close(gram_error(G, A, "relative"), rel[0])
    # "relative" is scale-free: scaling both feature maps changes nothing
    assert_close(gram_error(gram_matrix(7 * f), gram_matrix(7 * s), "relative"), rel[0])
    assert_close(style_loss({"l": f}, {"l": A}), gram_error(G, A, DEFAULT_STYLE_NORM, num_positions=12))
    assert set(STYLE_NORMS) == {"tutorial", "gatys", "relative"}


def test_tv_hand_computed_and_constant():
    img = torch.tensor([[[[0.0, 1.0], [2.0, 4.0]]]])
    # vertical diffs 2, 3 -> mean 13/2; horizontal diffs 1, 2 -> mean 5/2
    assert_close(tv_loss(img), torch.tensor(13 / 2 + 5 / 2))
    assert tv_loss(torch.full((1, 3, 5, 5), 0.3)).item() == 0.0


def test_tv_matches_loops():
    img = torch.rand(1, 3, 4, 5, dtype=torch.float64)
    v = sum((img[0, c, y + 1, x] - img[0, c, y, x]) ** 2 for c in range(3) for y in range(3) for x in range(5)) / (3 * 3 * 5)
    h = sum((img[0, c, y, x + 1] - img[0, c, y, x]) ** 2 for c in range(3) for y in range(4) for x in range(4)) / (3 * 4 * 4)
    assert_close(tv_loss(img), v + h)
    v1 = sum(abs(img[0, c, y + 1, x] - img[0, c, y, x]) for c in range(3) for y in range(3) for x in range(5)) / (3 * 3 * 5)
    h1 = sum(abs(img[0, c, y, x + 1] - img[0, c, y, x]) for c in range(3) for y in range(4) for x in range(4)) / (3 * 4 * 4)
    assert_close(tv_loss(img, power=1), v1 + h1)
    with pytest.raises(ValueError, match="power"):
        tv_loss(img, power=3)


def test_l1_tv_keeps_a_step_edge_cheaper_than_squared_tv():
    """A sharp step and the same rise spread over 4 pixels: l1 TV rates them equal, squared TV prefers the ramp."""
    step = torch.zeros(1, 1, 2, 8)
    step[..., 4:] = 1.0
    ramp = torch.clamp((torch.arange(8.0) - 1.5) / 4, 0, 1).expand(1, 1, 2, 8)
    assert_close(tv_loss(step, power=1), tv_loss(ramp, power=1))
    assert tv_loss(ramp, power=2) < 0.5 * tv_loss(step, power=2)


def test_gradcheck_all_losses():
    f = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    t = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    grams = {"a": gram_matrix(torch.randn(1, 3, 4, 4, dtype=torch.float64))}
    assert torch.autograd.gradcheck(lambda x: content_loss(x, t), (f,))
    assert torch.autograd.gradcheck(gram_matrix, (f,))
    for norm in STYLE_NORMS:
        assert torch.autograd.gradcheck(lambda x: style_loss({"a": x}, grams, norm=norm), (f,))
    assert torch.autograd.gradcheck(tv_loss, (f,))


def test_losses_are_scalars():
    f = torch.rand(2, 3, 4, 4, requires_grad=True)
    for value in (content_loss(f, f.detach() * 0.5), style_loss({"a": f}, {"a": gram_matrix(f.detach())}), tv_loss(f)):
        assert value.dim() == 0 and value.requires_grad
