"""The training photos and the augmented crop stream of the feed-forward networks."""

import numpy as np
import pytest
import torch
from PIL import Image

from styletut.images import ImageError
from styletut.photos import HELD_OUT, PhotoCrops, list_training_photos, training_photos


@pytest.fixture(scope="module")
def photos():
    return training_photos(size=64)


def test_every_training_photo_loads_offline_as_rgb(photos):
    names = [n for n, _ in photos]
    assert names == list_training_photos()
    assert set(names) == {"coffee", "rocket", "retina", "immunohistochemistry", "camera", "coins",
                          "grace_hopper", "china", "flower"}
    for name, img in photos:
        assert img.dtype == torch.float32 and img.shape[:2] == (1, 3), name
        assert max(img.shape[-2:]) == 64, name
        assert 0.0 <= float(img.min()) and float(img.max()) <= 1.0, name
        assert float(img.std()) > 0.02, f"{name} looks blank"
    grey = dict(photos)["camera"]  # a grey photo: three equal channels
    assert torch.equal(grey[:, 0], grey[:, 1]) and torch.equal(grey[:, 1], grey[:, 2])


def test_held_out_and_style_photos_are_never_trained_on(photos):
    names = set(list_training_photos()) | {n for n, _ in photos}
    assert HELD_OUT == ("chelsea", "astronaut")
    assert not names & set(HELD_OUT)
    assert "hubble_deep_field" not in names


def test_crops_have_the_shape_and_range_asked_for(photos):
    crops = PhotoCrops(photos, crop=32, batch=3, seed=0)
    for _ in range(4):
        b = next(crops)
        assert b.shape == (3, 3, 32, 32) and b.dtype == torch.float32
        assert 0.0 <= float(b.min()) and float(b.max()) <= 1.0
    assert crops.count == 4
    # Different crops within a batch and between batches: it is an augmentation, not a copy.
    assert not torch.equal(b[0], b[1])


def test_same_seed_same_batches_other_seed_other_batches(photos):
    a = [next(PhotoCrops(photos, crop=24, batch=2, seed=5)) for _ in range(1)]
    s1, s2 = PhotoCrops(photos, crop=24, batch=2, seed=5), PhotoCrops(photos, crop=24, batch=2, seed=5)
    assert all(torch.equal(next(s1), next(s2)) for _ in range(3))
    assert torch.equal(a[0], next(PhotoCrops(photos, crop=24, batch=2, seed=5)))
    assert not torch.equal(a[0], next(PhotoCrops(photos, crop=24, batch=2, seed=6)))


def test_crops_never_touch_the_global_random_state(photos):
    before = torch.random.get_rng_state()
    next(PhotoCrops(photos, crop=24, batch=2, seed=0))
    assert torch.equal(before, torch.random.get_rng_state())


def test_state_dict_round_trip_continues_identically(photos):
    stream = PhotoCrops(photos, crop=24, batch=2, seed=1)
    next(stream), next(stream)
    state = stream.state_dict()
    expected = [next(stream) for _ in range(3)]
    resumed = PhotoCrops(photos, crop=24, batch=2, seed=1)
    resumed.load_state_dict(state)
    assert resumed.count == 2
    got = [next(resumed) for _ in range(3)]
    assert all(torch.equal(e, g) for e, g in zip(expected, got))
    # Without the state the stream starts from the beginning, so the test can tell.
    assert not torch.equal(expected[0], next(PhotoCrops(photos, crop=24, batch=2, seed=1)))


def test_small_and_elongated_photos_still_give_full_crops():
    tiny = torch.rand(1, 3, 10, 40)
    b = next(PhotoCrops([("tiny", tiny)], crop=16, batch=2))
    assert b.shape == (2, 3, 16, 16)


def test_bad_arguments_are_refused(photos):
    with pytest.raises(ValueError, match="crop"):
        PhotoCrops(photos, crop=8)
    with pytest.raises(ValueError, match="batch"):
        PhotoCrops(photos, batch=0)
    with pytest.raises(ValueError, match="at least one photo"):
        PhotoCrops([])


def _png(path, seed=0):
    rng = np.random.default_rng(seed)
    Image.fromarray(rng.integers(0, 256, (40, 60, 3), dtype=np.uint8)).save(path)


def test_a_folder_adds_its_images_in_sorted_order_and_skips_other_files(tmp_path):
    _png(tmp_path / "b.png", 1)
    _png(tmp_path / "a.jpg", 2)
    (tmp_path / "notes.txt").write_text("not a photo")
    photos = training_photos(tmp_path, size=32)
    names = [n for n, _ in photos]
    assert names[:len(list_training_photos())] == list_training_photos()
    assert names[-2:] == ["a.jpg", "b.png"]
    assert photos[-1][1].shape == (1, 3, 21, 32)


def test_folder_errors_are_clear(tmp_path):
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ValueError, match="empty"):
        training_photos(empty, size=32)
    texts = tmp_path / "texts"
    texts.mkdir()
    (texts / "readme.txt").write_text("hello")
    with pytest.raises(ValueError, match="no image files"):
        training_photos(texts, size=32)
    broken = tmp_path / "broken"
    broken.mkdir()
    _png(broken / "good.png")
    (broken / "bad.png").write_bytes(b"\x89PNG\r\n\x1a\n" + b"\x00" * 20)
    with pytest.raises(ImageError, match="bad.png"):
        training_photos(broken, size=32)
    with pytest.raises(FileNotFoundError, match="does not exist"):
        training_photos(tmp_path / "missing", size=32)


def test_docstring_examples_run():
    import doctest

    from styletut import photos

    result = doctest.testmod(photos, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.failed == 0 and result.attempted >= 1
