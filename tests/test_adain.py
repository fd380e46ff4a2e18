"""styletut.adain: the AdaIN operation, the decoder, its loss, style batches, model files."""

import pytest
import torch
from torch.testing import assert_close

from styletut import statistics
from styletut.adain import (ENCODER_LAYERS, AdaIN, Decoder, StudentEncoder, StyleCrops, adain, adain_loss,
                            channel_stats, load_adain, save_adain)
from styletut.data import procedural, sample
from styletut.features import VGG19Features


def _adain_by_loops(x, y, eps=1e-5):
    """AdaIN written out channel by channel, as an independent reference."""
    out = torch.empty_like(x)
    for b in range(x.shape[0]):
        for c in range(x.shape[1]):
            xc, yc = x[b, c].double(), y[min(b, y.shape[0] - 1), c].double()
            xs = ((xc - xc.mean()) ** 2).mean().add(eps).sqrt()
            ys = ((yc - yc.mean()) ** 2).mean().add(eps).sqrt()
            out[b, c] = ((xc - xc.mean()) / xs * ys + yc.mean()).float()
    return out


@pytest.mark.parametrize("style_batch", [1, 3])
def test_adain_matches_explicit_loops(style_batch):
    gen = torch.Generator().manual_seed(0)
    x = torch.randn(3, 5, 7, 6, generator=gen) * 2 + 1
    y = torch.randn(style_batch, 5, 4, 9, generator=gen) * 3 - 2
    assert_close(adain(x, y), _adain_by_loops(x, y), rtol=1e-5, atol=1e-5)


def test_adain_features_have_the_styles_channel_statistics():
    # The check, on real VGG19 features: AdaIN's output at the encoder
    # layer has the style's per-channel means and standard deviations, measured
    # by lesson 10's independent "meanstd" statistic.
    net = VGG19Features(["relu4_1"])
    with torch.no_grad():
        fc = net(sample("chelsea", size=96))["relu4_1"]
        fs = net(procedural("swirls", 80, seed=3))["relu4_1"]
    t = adain(fc, fs)
    got, want = statistics.describe(t, "meanstd"), statistics.describe(fs, "meanstd")
    assert_close(got["mean"], want["mean"], rtol=1e-4, atol=1e-3)
    # std(t) = sqrt(var(y)+ε)·sqrt(var(x)/(var(x)+ε)): σ(y) to within sqrt(ε) = 0.0032 (a flat
    # style channel gets 0.0032, not 0), except where the photo's channel is flat too
    live = channel_stats(fc)[1].flatten() > 1.0
    assert live.sum() > 100
    assert_close(got["std"][0, live], want["std"][0, live], rtol=1e-3, atol=4e-3)
    # and the spatial pattern is the photo's: per channel, t is an increasing affine map of fc
    corr = torch.corrcoef(torch.stack([t[0, live].flatten(), fc[0, live].flatten()]))[0, 1]
    assert corr > 0.5


def test_adain_refuses_mismatched_features():
    with pytest.raises(ValueError, match="same C"):
        adain(torch.randn(1, 4, 3, 3), torch.randn(1, 5, 3, 3))
    with pytest.raises(ValueError, match="style batch"):
        adain(torch.randn(2, 4, 3, 3), torch.randn(3, 4, 3, 3))


@pytest.mark.parametrize("layer", ENCODER_LAYERS)
def test_decoder_inverts_the_encoders_downsampling(layer):
    pools = int(layer[4]) - 1
    dec = Decoder(layer, width=4)
    out = dec(torch.randn(2, 64 * 2 ** pools, 5, 3))
    assert out.shape == (2, 3, 5 * 2 ** pools, 3 * 2 ** pools)


def test_decoder_refuses_unknown_layer():
    with pytest.raises(ValueError, match="relu2_1, relu3_1, relu4_1"):
        Decoder("relu5_1")


@pytest.mark.parametrize("hw", [(37, 53), (64, 64), (33, 90)])
def test_adain_model_keeps_the_input_size(hw):
    model = AdaIN(Decoder("relu3_1", width=4))
    with torch.no_grad():
        out = model(torch.rand(1, 3, *hw), torch.rand(1, 3, 48, 40))
    assert out.shape == (1, 3, *hw)
    assert 0 <= out.min() and out.max() <= 1


def test_alpha_zero_decodes_the_photos_own_features():
    torch.manual_seed(0)
    model = AdaIN(Decoder("relu2_1", width=4))
    c, s1, s2 = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32), torch.rand(1, 3, 40, 40) * 0.2
    with torch.no_grad():
        assert_close(model(c, s1, alpha=0.0), model(c, s2, alpha=0.0))
        assert not torch.allclose(model(c, s1), model(c, s2))
    with pytest.raises(ValueError, match="alpha"):
        model(c, s1, alpha=1.5)


def test_save_load_round_trip_and_tampering(tmp_path):
    torch.manual_seed(1)
    dec = Decoder("relu2_1", width=4)
    # fp16-exact weights, so the float16 file holds exactly these numbers
    with torch.no_grad():
        for p in dec.parameters():
            p.copy_(p.half().float())
    path = tmp_path / "dec.pt"
    digest = save_adain(dec, path, meta={"note": "test"})
    model, meta = load_adain(path, sha256=digest)
    assert meta == {"note": "test"}
    x, y = torch.rand(1, 3, 30, 26), torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        assert torch.equal(model(x, y), AdaIN(dec.eval())(x, y))
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0xFF
    path.write_bytes(bytes(data))
    with pytest.raises(ValueError, match="has sha256 .* expected .*changed or damaged"):
        load_adain(path, sha256=digest)


def _fp16_exact(module):
    with torch.no_grad():
        for p in module.parameters():
            p.copy_(p.half().float())
    return module


@pytest.mark.parametrize("layer", ENCODER_LAYERS)
@pytest.mark.parametrize("hw", [(32, 40), (37, 53)])
def test_student_gives_vgg19s_feature_shape(layer, hw):
    # It stands in for VGG19 at `layer`: same channels, same downsampling, odd sizes too.
    x = torch.rand(2, 3, *hw)
    with torch.no_grad():
        want = VGG19Features([layer])(x)[layer].shape
        assert StudentEncoder(layer, width=4)(x).shape == want
    with pytest.raises(ValueError, match="relu2_1, relu3_1, relu4_1"):
        StudentEncoder("relu5_1")


def test_adain_with_a_student_round_trips_and_keeps_the_size(tmp_path):
    torch.manual_seed(2)
    dec, student = _fp16_exact(Decoder("relu3_1", width=4)), _fp16_exact(StudentEncoder("relu3_1", width=4))
    model = AdaIN(dec, student=student).eval()
    assert model.encoder is None  # no VGG19 inside a model that has a student
    x, y = torch.rand(1, 3, 37, 29), torch.rand(1, 3, 24, 24)
    with torch.no_grad():
        out = model(x, y)
    assert out.shape == x.shape
    path = tmp_path / "s.pt"
    digest = save_adain(model, path)
    loaded, _ = load_adain(path, sha256=digest)
    assert loaded.student is not None and loaded.encoder is None
    with torch.no_grad():
        assert torch.equal(loaded(x, y), out)
    with pytest.raises(ValueError, match="imitates relu2_1 but the decoder reads relu3_1"):
        AdaIN(dec, student=StudentEncoder("relu2_1", 4))


def test_files_of_the_first_format_still_load(tmp_path):
    # A decoder saved before students existed (format /1) runs with VGG19.
    import io

    dec = _fp16_exact(Decoder("relu2_1", width=4))
    blob = {"format": "styletut-adain/1", "config": {"layer": "relu2_1", "width": 4},
            "state": {k: v.half() for k, v in dec.state_dict().items()}, "meta": {}}
    path = tmp_path / "old.pt"
    buf = io.BytesIO()
    torch.save(blob, buf)
    path.write_bytes(buf.getvalue())
    model, _ = load_adain(path)
    x, y = torch.rand(1, 3, 32, 32), torch.rand(1, 3, 32, 32)
    with torch.no_grad():
        assert model.student is None and torch.equal(model(x, y), AdaIN(dec.eval())(x, y))


def test_a_student_started_at_vgg19s_scale_learns_to_imitate_it():
    # The distillation term, trained alone (a student needs no decoder to learn
    # VGG19's features), falls; the loss of adain_loss carries it for an AdaIN model.
    from styletut.adain import _seeded
    from styletut.training import fit

    enc = VGG19Features(["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
    model = AdaIN(Decoder("relu2_1", width=4), student=_seeded(StudentEncoder("relu2_1", 8), 0, keep_scale=True))
    batch = (sample("chelsea", size=48)[..., :32, :32], procedural("waves", 32, seed=1))
    terms = adain_loss(enc, model.decoder)(model, batch)
    assert set(terms) == {"content", "style", "identity", "distill"}
    hist = fit(model, lambda m, b: {"distill": adain_loss(enc, m.decoder)(m, b)["distill"]},
               iter(lambda: batch, None), 30, lr=3e-3, progress=False)
    assert hist.losses["distill"][-1] < 0.7 * hist.losses["distill"][0]
    assert all(p.grad is None or not p.requires_grad for p in enc.parameters())


def test_not_a_decoder_file(tmp_path):
    path = tmp_path / "other.pt"
    torch.save({"format": "something-else"}, path)
    with pytest.raises(ValueError, match="not an AdaIN decoder file"):
        load_adain(path)


def test_loss_terms_and_encoder_check():
    dec = Decoder("relu2_1", width=4)
    with pytest.raises(ValueError, match="must return relu1_1"):
        adain_loss(VGG19Features(["relu2_1"]), dec)
    enc = VGG19Features(["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
    terms = adain_loss(enc, dec)(dec, (torch.rand(2, 3, 32, 32), torch.rand(2, 3, 32, 32)))
    assert set(terms) == {"content", "style", "identity"}
    assert all(v.dim() == 0 and v > 0 for v in terms.values())
    terms["content"].add(terms["style"]).backward()
    assert all(p.grad is not None for p in dec.parameters())


def test_style_crops_are_seeded_and_resumable():
    a = StyleCrops(crop=24, batch=3, seed=5, pool=2, refresh=3)
    b = StyleCrops(crop=24, batch=3, seed=5, pool=2, refresh=3)
    first = [next(a) for _ in range(4)]
    assert first[0].shape == (3, 3, 24, 24) and 0 <= first[0].min() and first[0].max() <= 1
    assert all(torch.equal(x, next(b)) for x in first)
    state = a.state_dict()
    cont = [next(a) for _ in range(4)]  # crosses a refresh: a new pool is painted
    c = StyleCrops(crop=24, batch=3, seed=5, pool=2, refresh=3)
    c.load_state_dict(state)
    assert all(torch.equal(x, next(c)) for x in cont)
    assert not torch.equal(first[0], next(StyleCrops(crop=24, batch=3, seed=6, pool=2)))


def test_style_crops_check_user_images():
    with pytest.raises(ValueError, match="at least crop=64"):
        StyleCrops(crop=64, extra=[torch.rand(1, 3, 40, 100)])


def test_a_few_steps_lower_the_decoders_loss():
    from styletut.training import fit

    torch.manual_seed(0)
    dec = Decoder("relu2_1", width=8)
    enc = VGG19Features(["relu1_1", "relu2_1", "relu3_1", "relu4_1"])
    batch = (sample("chelsea", size=48)[..., :32, :32], procedural("waves", 32, seed=1))
    hist = fit(dec, adain_loss(enc, dec), iter(lambda: batch, None), 25, lr=3e-3, progress=False)
    assert sum(hist.total[-5:]) / 5 < 0.5 * sum(hist.total[:5]) / 5


def test_train_adain_resumes_to_the_same_decoder(tmp_path):
    from styletut.adain import train_adain

    kw = dict(layer="relu2_1", width=4, crop=32, batch=2, pool=2, refresh=3, progress=False,
              photo_folder=None, checkpoint_every=2)
    whole, hist = train_adain(num_steps=4, checkpoint=tmp_path / "a.ckpt", **kw)
    assert hist.steps_done == 4 and len(hist.total) == 4
    train_adain(num_steps=2, checkpoint=tmp_path / "b.ckpt", **kw)
    resumed, hist_b = train_adain(num_steps=4, checkpoint=tmp_path / "b.ckpt", resume=True, **kw)
    assert hist_b.resumed_from == 2 and hist_b.steps_done == 4
    for (k, a), (_, b) in zip(whole.state_dict().items(), resumed.state_dict().items()):
        assert torch.equal(a, b), k


def test_the_docstring_examples_run():
    import doctest

    from styletut import adain as module

    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0
