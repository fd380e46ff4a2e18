"""Losses against hand-computed values, explicit loops and gradcheck."""

import pytest
import torch
from torch.testing import assert_close

from styletut.losses import content_loss, gram_matrix, style_loss, tv_loss


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
    assert_close(style_loss(feats, targets), torch.tensor(0.5))
    assert_close(style_loss(feats, targets, {"x": 3.0, "y": 1.0}), torch.tensor(3.0))
    with pytest.raises(ValueError, match="weight 0"):
        style_loss(feats, targets, {"x": 0.0})
    with pytest.raises(KeyError, match="no features"):
        style_loss({"x": a}, targets)


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


def test_gradcheck_all_losses():
    f = torch.randn(1, 3, 4, 4, dtype=torch.float64, requires_grad=True)
    t = torch.randn(1, 3, 4, 4, dtype=torch.float64)
    grams = {"a": gram_matrix(torch.randn(1, 3, 4, 4, dtype=torch.float64))}
    assert torch.autograd.gradcheck(lambda x: content_loss(x, t), (f,))
    assert torch.autograd.gradcheck(gram_matrix, (f,))
    assert torch.autograd.gradcheck(lambda x: style_loss({"a": x}, grams), (f,))
    assert torch.autograd.gradcheck(tv_loss, (f,))


def test_losses_are_scalars():
    f = torch.rand(2, 3, 4, 4, requires_grad=True)
    for value in (content_loss(f, f.detach() * 0.5), style_loss({"a": f}, {"a": gram_matrix(f.detach())}), tv_loss(f)):
        assert value.dim() == 0 and value.requires_grad
