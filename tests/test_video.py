"""styletut.video: exact test clips, warping, flow estimation, warping error, clip I/O, temporal stylisation."""

import json
import math

import numpy as np
import pytest
import torch
from PIL import Image

from styletut import video as V
from styletut.data import procedural
from styletut.features import VGG19Features

SIZE = 64  # frames of 42x64: every test here stays tiny


def _masked_mean(diff, mask):
    return float((diff * mask).sum() / mask.sum().clamp_min(1))


def _warp_diff(clip, flows):
    x = clip.frames
    return (x[1:] - V.warp(x[:-1], flows)).abs().mean(1, keepdim=True)


# --------------------------------------------------------------------------- exact motion


@pytest.mark.parametrize("kind", V.MOTIONS)
def test_the_exact_flow_warps_each_frame_onto_the_next_outside_occlusions(kind):
    clip, flows, masks = V.make_clip(kind, size=SIZE, num_frames=4, speed=2)  # twice the default motion
    assert clip.frames.shape == (4, 3, 42, 64) and flows.shape == (3, 2, 42, 64) and masks.shape == (3, 1, 42, 64)
    assert 0 <= clip.frames.min() and clip.frames.max() <= 1
    assert masks.mean() > 0.8  # most of each frame was visible in the one before
    err = V.warping_error(clip, flows, masks)
    still = V.warping_error(clip, torch.zeros_like(flows), masks)  # "nothing moved"
    # What is left is bilinear interpolation of a sharp 64 px frame: small, and far below no motion's.
    assert err < 0.025, err
    assert err < 0.4 * still, (err, still)


def test_an_integer_pan_is_reproduced_to_rounding():
    # 2% and 0.5% of 64 px, times 3.125: exactly 4 and 1 pixels a frame. Without
    # supersampling, frame t is frame t-1 moved by whole pixels: warping must be exact.
    clip, flows, masks = V.make_clip("pan", size=SIZE, num_frames=3, speed=3.125, supersample=1)
    torch.testing.assert_close(flows[:, 0], torch.full_like(flows[:, 0], 4.0), atol=1e-4, rtol=0)
    torch.testing.assert_close(flows[:, 1], torch.full_like(flows[:, 1], 1.0), atol=1e-4, rtol=0)
    # Entering pixels: the right 4 columns and the bottom row are not in frame t-1.
    assert masks[:, :, :, -4:].sum() == 0 and masks[:, :, -1:, :].sum() == 0
    assert masks[:, :, :-1, :-4].min() == 1
    assert _masked_mean(_warp_diff(clip, flows), masks) < 1e-4


def test_warping_does_not_explain_occluded_pixels():
    # The disc uncovers background that frame t-1 never showed: warping cannot reproduce it.
    clip, flows, masks = V.make_clip("object", size=SIZE, num_frames=4)
    diff = _warp_diff(clip, flows)
    hidden = 1 - masks
    assert hidden.sum() > 20
    assert _masked_mean(diff, hidden) > 5 * _masked_mean(diff, masks)
    # Pixels entering a fast pan from outside the frame are not explained either.
    clip, flows, masks = V.make_clip("pan", size=SIZE, num_frames=3, speed=4)
    diff = _warp_diff(clip, flows)
    assert _masked_mean(diff, 1 - masks) > 2 * _masked_mean(diff, masks)


def test_zoom_has_no_occlusion_and_rotation_brings_in_corners():
    assert V.make_clip("zoom", size=SIZE, num_frames=3).masks.min() == 1  # zooming in: all of t was in t-1
    masks = V.make_clip("rotate", size=SIZE, num_frames=3).masks
    assert masks[:, :, 0, 0].sum() == 0 and masks[:, :, 21, 32].min() == 1  # corners enter, the centre stays


def test_make_clip_rejects_unknown_motion():
    with pytest.raises(ValueError, match="pan, zoom, rotate, object"):
        V.make_clip("shake")


# --------------------------------------------------------------------------- warp


def test_warp_with_zero_flow_is_the_identity():
    img = torch.rand(2, 3, 9, 13)
    torch.testing.assert_close(V.warp(img, torch.zeros(2, 2, 9, 13)), img, atol=1e-6, rtol=0)


def _bilinear_loop(img, flow):
    """Independent reference: backward warping written pixel by pixel (edges clamped)."""
    c, h, w = img.shape
    out = np.zeros((c, h, w))
    a = img.double().numpy()
    for y in range(h):
        for x in range(w):
            sx = min(max(x + float(flow[0, y, x]), 0.0), w - 1.0)
            sy = min(max(y + float(flow[1, y, x]), 0.0), h - 1.0)
            x0, y0 = int(math.floor(sx)), int(math.floor(sy))
            x1, y1 = min(x0 + 1, w - 1), min(y0 + 1, h - 1)
            fx, fy = sx - x0, sy - y0
            out[:, y, x] = ((1 - fx) * (1 - fy) * a[:, y0, x0] + fx * (1 - fy) * a[:, y0, x1]
                            + (1 - fx) * fy * a[:, y1, x0] + fx * fy * a[:, y1, x1])
    return torch.from_numpy(out).float()


def test_warp_matches_an_explicit_bilinear_loop():
    g = torch.Generator().manual_seed(1)
    img = torch.rand(2, 3, 7, 10, generator=g)
    flow = (torch.rand(2, 2, 7, 10, generator=g) - 0.5) * 6  # up to 3 px, some points outside the image
    out = V.warp(img, flow)
    for b in range(2):
        torch.testing.assert_close(out[b], _bilinear_loop(img[b], flow[b]), atol=1e-5, rtol=0)


def test_warp_checks_shapes():
    with pytest.raises(ValueError, match="flow must be"):
        V.warp(torch.rand(1, 3, 8, 8), torch.zeros(1, 2, 8, 9))


# --------------------------------------------------------------------------- flow estimation


@pytest.mark.parametrize("method", V.FLOW_METHODS)
def test_estimated_flow_recovers_a_pan(method):
    clip, flows, masks = V.make_clip("pan", size=SIZE, num_frames=2)
    est = V.estimate_flow(clip.frame(0), clip.frame(1), method)
    assert est.shape == (2, 42, 64)
    epe = (est - flows[0]).pow(2).sum(0).sqrt()
    interior = epe[6:-6, 6:-6]  # away from the edges, where pixels enter
    assert float(interior.median()) < 0.5, float(interior.median())


def test_consistency_check_marks_the_disoccluded_background():
    clip, flows, masks = V.make_clip("object", size=96, num_frames=3)
    est, est_masks = V.clip_flows(clip, "dis", progress=False)
    assert est.shape == flows.shape and est_masks.shape == masks.shape
    truly_hidden = (masks == 0)
    # Most pixels the disc uncovered are flagged, and most visible pixels are kept.
    assert float((est_masks[truly_hidden] == 0).float().mean()) > 0.5
    assert float(est_masks[masks == 1].mean()) > 0.7
    # A flow that contradicts itself is flagged everywhere; a consistent one nowhere.
    w = torch.full((2, 10, 12), 1.0)
    assert V.consistency_mask(w, w, motion_edges=False)[:, 2:-2, 2:-2].max() == 0
    assert V.consistency_mask(w, -w, motion_edges=False)[:, 2:-2, 2:-2].min() == 1


def test_flow_image_and_endpoint_error():
    flow = torch.zeros(2, 4, 4)
    flow[0, :, 2:] = 3.0
    img = V.flow_to_image(flow)
    assert img.shape == (1, 3, 4, 4)
    torch.testing.assert_close(img[0, :, 0, 0], torch.ones(3))  # still: white
    assert img[0, :, 0, 3].min() < 0.5  # moving: saturated
    assert V.endpoint_error(flow, torch.zeros_like(flow)) == pytest.approx(1.5)
    assert V.endpoint_error(flow, torch.zeros_like(flow), torch.ones(1, 4, 4) * (flow[:1] == 0)) == 0


# --------------------------------------------------------------------------- stylisation


@pytest.fixture(scope="module")
def small_pan():
    return V.make_clip("pan", size=48, num_frames=3)


@pytest.fixture(scope="module")
def vgg():
    return VGG19Features(("relu4_2", "relu1_1", "relu2_1", "relu3_1", "relu4_1", "relu5_1"), device="cpu")


def test_the_temporal_loss_lowers_warping_error_against_per_frame(small_pan, vgg):
    clip, flows, masks = small_pan
    style_img = procedural("swirls", 48, seed=0)
    kw = dict(num_steps=6, net=vgg, device="cpu", progress=False)
    per_frame = V.stylize_frames(clip, style_img, "optimise", **kw)
    temporal = V.stylize_video(clip, style_img, flows, masks, "optimise", **kw)
    assert per_frame.frames.shape == temporal.frames.shape == clip.frames.shape
    torch.testing.assert_close(temporal.frames[0], per_frame.frames[0])  # frame 0: the same run
    e_per, e_tmp = V.warping_error(per_frame, flows, masks), V.warping_error(temporal, flows, masks)
    assert e_tmp < 0.7 * e_per, (e_tmp, e_per)
    assert not torch.allclose(temporal.frames[1], V.warp(temporal.frames[:1], flows[:1])[0])  # it still optimised


def test_the_fast_blend_lowers_warping_error_against_per_frame_fast(small_pan):
    clip, flows, masks = small_pan
    per_frame = V.stylize_frames(clip, None, "fast", device="cpu", progress=False)
    blended = V.stylize_video(clip, None, flows, masks, "fast-blend", device="cpu", progress=False)
    torch.testing.assert_close(blended.frames[0], per_frame.frames[0])
    assert V.warping_error(blended, flows, masks) < 0.7 * V.warping_error(per_frame, flows, masks)
    assert 0 <= blended.frames.min() and blended.frames.max() <= 1
    # blend=0 is per-frame, exactly.
    none = V.stylize_video(clip, None, flows, masks, "fast-blend", blend=0.0, device="cpu", progress=False)
    torch.testing.assert_close(none.frames, per_frame.frames)


def test_stylize_checks_its_arguments(small_pan):
    clip, flows, masks = small_pan
    with pytest.raises(ValueError, match="one style it was trained on"):
        V.stylize_frames(clip, torch.rand(1, 3, 32, 32), "fast", progress=False)
    with pytest.raises(ValueError, match="fast-blend"):
        V.stylize_video(clip, None, flows, masks, "fast", progress=False)
    with pytest.raises(ValueError, match="needs flows"):
        V.stylize_video(clip, None, flows[:1], masks[:1], "fast-blend", progress=False)


# --------------------------------------------------------------------------- reading, writing, showing


@pytest.fixture(scope="module")
def obj_clip():
    return V.make_clip("object", size=SIZE, num_frames=5).clip


@pytest.mark.parametrize("name, mean_tol, max_tol", [
    ("frames", 0.5 / 255 + 1e-6, 0.5 / 255 + 1e-6),  # PNG: 8-bit rounding only
    ("clip.gif", 0.02, 0.3),                            # 256 colours a frame
    ("clip.mp4", 0.03, 0.4),                            # H.264 in yuv420p: lossy
])
def test_round_trip(tmp_path, obj_clip, name, mean_tol, max_tol):
    path = V.write_clip(obj_clip, tmp_path / name, fps=10, progress=False)
    back = V.read_clip(path)
    assert back.frames.shape == obj_clip.frames.shape
    diff = (back.frames - obj_clip.frames).abs()
    assert float(diff.mean()) <= mean_tol and float(diff.max()) <= max_tol, (float(diff.mean()), float(diff.max()))
    assert back.fps == pytest.approx(10, rel=0.1)  # a GIF keeps 1/100 s
    assert [p.name for p in tmp_path.iterdir()] == [name]  # no temporary left
    assert len(V.read_clip(path, size=32, max_frames=2).frames) == 2


def test_read_clip_sorts_frames_by_number_and_resizes(tmp_path):
    for i in (10, 2, 1):
        Image.new("RGB", (20, 10), (i * 20, 0, 0)).save(tmp_path / f"f{i}.png")
    clip = V.read_clip(tmp_path, size=10)
    assert clip.frames.shape == (3, 3, 5, 10) and clip.fps == V.DEFAULT_FPS
    reds = [round(float(clip.frames[t, 0].mean()) * 255) for t in range(3)]
    assert reds == [20, 40, 200]


def test_clear_errors_for_missing_and_non_video_inputs(tmp_path):
    with pytest.raises(FileNotFoundError, match="nowhere.mp4"):
        V.read_clip(tmp_path / "nowhere.mp4")
    fake = tmp_path / "notes.mp4"
    fake.write_text("not a video")
    with pytest.raises(V.VideoError, match="notes.mp4.*not a video"):
        V.read_clip(fake)
    fake_gif = tmp_path / "notes.gif"
    fake_gif.write_text("not a gif")
    with pytest.raises(V.VideoError, match="notes.gif"):
        V.read_clip(fake_gif)
    with pytest.raises(V.VideoError, match="not a clip format"):
        V.read_clip(fake.rename(tmp_path / "notes.txt"))
    (tmp_path / "empty").mkdir()
    with pytest.raises(V.VideoError, match="empty folder"):
        V.read_clip(tmp_path / "empty")
    mixed = tmp_path / "mixed"
    mixed.mkdir()
    Image.new("RGB", (20, 10)).save(mixed / "a.png")
    Image.new("RGB", (20, 12)).save(mixed / "b.png")
    with pytest.raises(V.VideoError, match="different sizes.*b.png"):
        V.read_clip(mixed)
    Image.new("RGB", (8, 8)).save(tmp_path / "one.png")
    with pytest.raises(V.VideoError, match="single image"):
        V.read_clip(tmp_path / "one.png")


def test_write_clip_never_overwrites_an_input(tmp_path, obj_clip):
    src = V.write_clip(obj_clip, tmp_path / "in.gif", progress=False)
    before = src.read_bytes()
    V.read_clip(src)
    with pytest.raises(V.VideoError, match="input"):
        V.write_clip(obj_clip, src, progress=False)
    assert src.read_bytes() == before
    folder = V.write_clip(obj_clip, tmp_path / "frames_in", progress=False)
    V.read_clip(folder)
    with pytest.raises(V.VideoError, match="input"):
        V.write_clip(obj_clip, folder, progress=False)
    other = tmp_path / "other.mp4"
    with pytest.raises(V.VideoError, match="input"):
        V.write_clip(obj_clip, other, inputs=[other], progress=False)
    assert not other.exists()


def test_write_clip_refuses_foreign_folders_and_unknown_suffixes(tmp_path, obj_clip):
    foreign = tmp_path / "photos"
    foreign.mkdir()
    (foreign / "holiday.jpg").write_bytes(b"x")
    with pytest.raises(V.VideoError, match="not written by write_clip"):
        V.write_clip(obj_clip, foreign, progress=False)
    assert (foreign / "holiday.jpg").exists()
    with pytest.raises(V.VideoError, match="unknown suffix"):
        V.write_clip(obj_clip, tmp_path / "clip.png", progress=False)
    # A folder write_clip wrote is replaced whole.
    out = V.write_clip(obj_clip, tmp_path / "out", progress=False)
    V.write_clip(obj_clip.frames[:2], out, progress=False)
    assert sorted(p.name for p in out.iterdir()) == ["clip.json", "frame_00000.png", "frame_00001.png"]
    assert json.loads((out / "clip.json").read_text())["frames"] == 2


@pytest.mark.parametrize("name", ["out.mp4", "out.gif", "out"])
def test_a_failed_write_leaves_nothing_behind(tmp_path, obj_clip, monkeypatch, name):
    """Each writer fails part-way, after it has written some bytes: no partial file or folder remains."""
    target = tmp_path / name
    if name.endswith(".mp4"):
        real_bar = V._bar

        def bar(items, progress, desc):  # ffmpeg has received three frames when this fails
            for i, item in enumerate(real_bar(items, progress, desc)):
                if i == 3:
                    raise OSError("disk full (simulated)")
                yield item

        monkeypatch.setattr(V, "_bar", bar)
    elif name.endswith(".gif"):
        def save(self, fp, *args, **kwargs):
            open(fp, "wb").write(b"GIF89a, then nothing")
            raise OSError("disk full (simulated)")

        monkeypatch.setattr(Image.Image, "save", save)
    else:
        real_to_pil, calls = V.images.to_pil, []

        def to_pil(img):  # two frames are saved into the temporary folder, the third fails
            calls.append(1)
            if len(calls) == 3:
                raise OSError("disk full (simulated)")
            return real_to_pil(img)

        monkeypatch.setattr(V.images, "to_pil", to_pil)
    with pytest.raises(OSError, match="simulated"):
        V.write_clip(obj_clip, target, progress=False)
    assert list(tmp_path.iterdir()) == [], [p.name for p in tmp_path.iterdir()]
    # An earlier file at the target is left as it was.
    monkeypatch.undo()
    if name.endswith(".gif") or name.endswith(".mp4"):
        target.write_bytes(b"old")
        bad = obj_clip.frames.clone()
        bad[2, 0, 0, 0] = float("nan")
        with pytest.raises(V.VideoError, match="NaN"):
            V.write_clip(bad, target, progress=False)
        assert target.read_bytes() == b"old"


def test_show_clip_embeds_a_playable_mp4(obj_clip):
    html = V.show_clip(obj_clip)._repr_html_()
    assert html.startswith("<video") and 'src="data:video/mp4;base64,' in html and "autoplay" in html
    assert len(html) < 200_000
    tiled = V.tile([obj_clip, obj_clip.frames], ["input", "copy"])
    assert tiled.frames.shape == (5, 3, 42 + 14, 64 + 4 + 64)
    assert "<video" in V.side_by_side([obj_clip, obj_clip], ["a", "b"])._repr_html_()
    with pytest.raises(ValueError, match="same number of frames"):
        V.tile([obj_clip, obj_clip.frames[:2]])


def test_clip_validates_its_frames():
    with pytest.raises(ValueError, match=r"\(T, 3, H, W\)"):
        V.Clip(torch.rand(3, 32, 32))
    with pytest.raises(ValueError, match="255"):
        V.Clip(torch.zeros(2, 3, 4, 4, dtype=torch.uint8))
