"""The feed-forward network of Johnson et al. 2016: shapes, files, and a few training steps."""

import hashlib

import pytest
import torch
from torch import nn

from styletut.data import procedural, sample
from styletut.fastnet import (TransformNet, load_model, perceptual_loss, save_model, stylize_fast,
                              train_fast)
from styletut.features import VGG19Features
from styletut.losses import gram_matrix


def _fp16_exact(net):
    """Weights that fp16 storage keeps exactly, so a saved net reloads to identical outputs."""
    with torch.no_grad():
        for p in net.parameters():
            p.copy_(p.half().float())
    return net


@pytest.mark.parametrize("hw", [(17, 23), (101, 64), (16, 16), (33, 40)])
def test_the_network_keeps_the_input_size(hw):
    net = TransformNet(width=4, blocks=1)
    with torch.no_grad():
        out = net(torch.rand(2, 3, *hw))
    assert out.shape == (2, 3, *hw)
    assert 0.0 <= float(out.min()) and float(out.max()) <= 1.0


def test_architecture_is_johnsons_with_resize_convolutions():
    net = TransformNet(width=8, blocks=3)
    convs = [m for m in net.modules() if isinstance(m, nn.Conv2d)]
    assert not any(isinstance(m, nn.ConvTranspose2d) for m in net.modules())
    assert [m.kernel_size for m in (convs[0], convs[-1])] == [(9, 9), (9, 9)]
    assert [m.stride for m in convs[1:3]] == [(2, 2), (2, 2)]
    assert [c.out_channels for c in convs[:3]] == [8, 16, 32]
    assert len(convs) == 3 + 2 * 3 + 2 + 1 and convs[-1].out_channels == 3
    assert all(m.padding_mode == "reflect" for m in convs)
    norms = [m for m in net.modules() if isinstance(m, nn.InstanceNorm2d)]
    assert len(norms) == len(convs) - 1 and all(m.affine for m in norms)


def test_same_seed_same_weights_and_the_global_random_state_is_untouched():
    before = torch.random.get_rng_state()
    a, b, c = TransformNet(8, 1, seed=3), TransformNet(8, 1, seed=3), TransformNet(8, 1, seed=4)
    assert torch.equal(before, torch.random.get_rng_state())
    assert all(torch.equal(x, y) for x, y in zip(a.state_dict().values(), b.state_dict().values()))
    assert not torch.equal(a.head[0].weight, c.head[0].weight)


def test_bad_input_is_refused_clearly():
    net = TransformNet(width=4, blocks=1)
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        net(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        net(torch.rand(1, 4, 32, 32))
    with pytest.raises(ValueError, match="at least 16 px"):
        net(torch.rand(1, 3, 15, 64))
    with pytest.raises(ValueError, match="float"):
        net(torch.zeros(1, 3, 32, 32, dtype=torch.uint8))


def test_stylize_fast_is_one_pass_without_gradients():
    net = TransformNet(width=4, blocks=1)
    img = torch.rand(1, 3, 31, 45)
    out = stylize_fast(net, img)
    assert out.shape == img.shape and not out.requires_grad
    torch.testing.assert_close(out, net.eval()(img).detach())
    assert net.training is False


def _guided_filter_loops(guide, src, r, eps):
    """He, Sun & Tang's guided filter written out pixel by pixel (windows mirrored at the borders)."""
    i = guide.mean(1)[0].double()
    p = src[0].double()
    h, w = i.shape

    def mirror(k, n):
        return -k if k < 0 else (2 * (n - 1) - k if k >= n else k)

    def window(y, x):
        return [(mirror(yy, h), mirror(xx, w)) for yy in range(y - r, y + r + 1) for xx in range(x - r, x + r + 1)]

    a = torch.zeros(p.shape, dtype=torch.double)
    b = torch.zeros(p.shape, dtype=torch.double)
    for y in range(h):
        for x in range(w):
            px = window(y, x)
            iv = torch.stack([i[q] for q in px])
            for c in range(p.shape[0]):
                pv = torch.stack([p[c][q] for q in px])
                a[c, y, x] = ((iv * pv).mean() - iv.mean() * pv.mean()) / (iv.var(unbiased=False) + eps)
                b[c, y, x] = pv.mean() - a[c, y, x] * iv.mean()
    out = torch.zeros(p.shape, dtype=torch.double)
    for y in range(h):
        for x in range(w):
            px = window(y, x)
            for c in range(p.shape[0]):
                out[c, y, x] = torch.stack([a[c][q] for q in px]).mean() * i[y, x] + \
                    torch.stack([b[c][q] for q in px]).mean()
    return out[None].float()


def test_the_guided_filter_matches_its_definition_written_as_loops():
    from styletut.fastnet import _guided_filter

    g = torch.Generator().manual_seed(0)
    guide, src = torch.rand(1, 3, 9, 11, generator=g), torch.rand(1, 3, 9, 11, generator=g)
    torch.testing.assert_close(_guided_filter(guide, src, 2, 1e-2), _guided_filter_loops(guide, src, 2, 1e-2),
                               atol=1e-5, rtol=1e-4)
    # A photo's edge comes back through the filter: with the photo as its own source, tiny eps
    # keeps it (a = 1, b = 0 wherever the window sees any contrast).
    edge = torch.zeros(1, 3, 16, 16)
    edge[..., 8:] = 1.0
    torch.testing.assert_close(_guided_filter(edge, edge, 3, 1e-6), edge, atol=1e-3, rtol=0)


def test_stylize_fast_paints_a_big_photo_at_paint_size_so_the_picture_looks_the_same_at_every_size():
    from styletut import zoo

    net = zoo.load_model("fast-swirls")
    small, big = sample("chelsea", size=256), sample("chelsea", size=512)  # painted at 256: half its size
    seen_small = stylize_fast(net, small)          # at or below paint_size: one plain pass

    def shrink(x):
        return torch.nn.functional.interpolate(x, size=small.shape[-2:], mode="bicubic", antialias=True,
                                               align_corners=False)

    scaled = (shrink(stylize_fast(net, big, paint_size=256)) - seen_small).abs().mean()
    native = (shrink(stylize_fast(net, big, paint_size=None)) - seen_small).abs().mean()
    assert float(scaled) < 0.025 and float(native) > 0.045, (float(scaled), float(native))
    torch.testing.assert_close(stylize_fast(net, small, paint_size=None), seen_small)


def test_a_big_photo_is_painted_at_paint_size_or_at_half_its_size():
    from styletut.fastnet import _paint_side

    assert [_paint_side(n, 320) for n in (256, 320, 512, 640, 1024, 2048)] == [256, 320, 320, 320, 512, 1024]
    assert _paint_side(2048, None) == 2048


@pytest.mark.parametrize("hw", [(300, 500), (201, 77)])
def test_stylize_fast_keeps_the_size_when_it_paints_smaller(hw):
    net = TransformNet(width=4, blocks=1)
    out = stylize_fast(net, torch.rand(1, 3, *hw), paint_size=64)
    assert out.shape == (1, 3, *hw) and 0.0 <= float(out.min()) and float(out.max()) <= 1.0


@pytest.mark.parametrize("bad", [8, 0, 64.0, "320"])
def test_a_bad_paint_size_is_refused_clearly(bad):
    with pytest.raises(ValueError, match="paint_size must be an integer >= 16"):
        stylize_fast(TransformNet(4, 1), torch.rand(1, 3, 40, 40), paint_size=bad)


def test_a_saved_model_reloads_to_identical_outputs(tmp_path):
    net = _fp16_exact(TransformNet(width=8, blocks=2, seed=1))
    path = tmp_path / "m.pt"
    digest = save_model(net, path, {"style": "swirls", "steps": 3})
    assert digest == hashlib.sha256(path.read_bytes()).hexdigest()
    loaded, meta = load_model(path, sha256=digest)
    assert meta == {"style": "swirls", "steps": 3}
    assert (loaded.width, loaded.blocks) == (8, 2)
    assert all(p.dtype == torch.float32 for p in loaded.parameters())
    x = torch.rand(1, 3, 37, 50)
    with torch.no_grad():
        assert torch.equal(net.eval()(x), loaded(x))
    # Any net: saving and loading twice changes nothing more (fp16 storage rounds once).
    save_model(TransformNet(8, 1, seed=5), tmp_path / "o.pt")
    other, _ = load_model(tmp_path / "o.pt")
    save_model(other, tmp_path / "o2.pt")
    twice, _ = load_model(tmp_path / "o2.pt")
    assert all(torch.equal(a, b) for a, b in zip(other.state_dict().values(), twice.state_dict().values()))


def test_a_tampered_model_file_is_refused(tmp_path):
    path = tmp_path / "m.pt"
    digest = save_model(TransformNet(width=4, blocks=1), path)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01  # flip one bit of one byte
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="sha256") as err:
        load_model(path, sha256=digest)
    msg = str(err.value)
    assert "m.pt" in msg and digest in msg and hashlib.sha256(bytes(data)).hexdigest() in msg
    assert "changed or corrupted" in msg


def test_files_of_another_kind_are_refused(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"format": "something-else/9", "state": {}}, path)
    with pytest.raises(ValueError, match="not a styletut fast-network model"):
        load_model(path)
    with pytest.raises(FileNotFoundError, match="train"):
        load_model(tmp_path / "missing.pt")


def test_perceptual_loss_terms_and_weights():
    vgg = VGG19Features(["relu1_1", "relu2_1", "relu2_2"], weights="random")
    style = torch.rand(1, 3, 32, 32)
    batch = torch.rand(2, 3, 32, 32)
    net = TransformNet(4, 1)
    with torch.no_grad():
        base = perceptual_loss(vgg, style, ["relu2_2"], ["relu1_1", "relu2_1"], 1.0, 1.0, 0.0)(net, batch)
        double = perceptual_loss(vgg, style, ["relu2_2"], ["relu1_1", "relu2_1"], 2.0, 3.0, 5.0)(net, batch)
    assert sorted(base) == ["content", "style"]
    torch.testing.assert_close(double["content"], 2 * base["content"])
    torch.testing.assert_close(double["style"], 3 * base["style"])
    assert float(double["tv"]) > 0
    # The identity's content loss is 0: the content target is the photo itself.
    ident = perceptual_loss(vgg, style, ["relu2_2"], ["relu1_1"], 1.0, 0.0)(lambda x: x, batch)
    assert float(ident["content"]) == 0.0
    with pytest.raises(ValueError, match="does not return"):
        perceptual_loss(vgg, style, ["relu4_2"])
    with pytest.raises(ValueError, match="style_norm"):
        perceptual_loss(vgg, style, ["relu2_2"], ["relu1_1"], style_norm="bogus")
    # The norm is the one of styletut.losses: "tutorial" is the plain mean of the Gram mismatch.
    with torch.no_grad():
        tut = perceptual_loss(vgg, style, ["relu2_2"], ["relu1_1"], 0.0, 1.0, style_norm="tutorial")(net, batch)
        g_out = gram_matrix(vgg(net(batch))["relu1_1"])
        g_style = gram_matrix(vgg(style)["relu1_1"]).expand_as(g_out)
    torch.testing.assert_close(tut["style"], (g_out - g_style).pow(2).mean())


def test_a_few_train_fast_steps_lower_the_loss(tmp_path):
    photos = [(name, sample(name, size=48)) for name in ("coffee", "rocket")]
    style = procedural("swirls", 48, seed=0)
    kwargs = dict(photos=photos, crop=32, batch=2, width=4, blocks=1, lr=1e-2, seed=0,
                  progress=False)
    net, hist = train_fast(style, num_steps=10, checkpoint=tmp_path / "t.pt", checkpoint_every=5, **kwargs)
    assert hist.steps_done == 10 and (tmp_path / "t.pt").exists()
    assert not net.training and set(hist.losses) == {"content", "style", "total"}
    # Judge on one fixed batch: the trained net against the same net untrained.
    vgg = VGG19Features(["relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"])
    loss_fn = perceptual_loss(vgg, style)
    batch = torch.cat([p[:, :, :32, :32] for _, p in photos])
    with torch.no_grad():
        before = sum(loss_fn(TransformNet(4, 1, seed=0).eval(), batch).values())
        after = sum(loss_fn(net, batch).values())
    assert float(after) < 0.85 * float(before)
    # Resuming the finished run with more steps continues it.
    _, hist2 = train_fast(style, num_steps=11, checkpoint=tmp_path / "t.pt", resume=True, **kwargs)
    assert hist2.resumed_from == 10 and hist2.steps_done == 11
    assert hist2.total[:10] == hist.total


def test_docstring_examples_run():
    import doctest

    from styletut import fastnet

    result = doctest.testmod(fastnet, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 5
