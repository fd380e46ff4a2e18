"""styletut.three_d: the differentiable renderer, correspondences, and texture stylisation.

The geometry is checked against formulas written out here independently (the
sphere's silhouette cone, its longitude and latitude); the gradient against
the bilinear footprint of each pixel and against finite differences; the
method against its claims (lower style loss on every view, fewer
disagreements between views than stylising each view alone).
"""

from __future__ import annotations

import io
import math

import pytest
import torch
from PIL import Image

from styletut import three_d
from styletut.data import procedural
from styletut.features import VGG19Features
from styletut.options import StylizeOptions
from styletut.three_d import (Camera, beach_ball, correspondence, correspondences, gif_bytes, make_view,
                              project, ray_sphere, ray_torus, render, render_views, stylize_texture,
                              stylize_views_separately, turntable, view_inconsistency, view_style_losses,
                              views)


def _pinhole_dirs(cam: Camera, n: int) -> torch.Tensor:
    """Unit ray directions per pixel, written out again from the camera's angles."""
    az, el = math.radians(cam.azimuth), math.radians(cam.elevation)
    pos = cam.distance * torch.tensor([math.cos(el) * math.sin(az), math.sin(el), math.cos(el) * math.cos(az)],
                                      dtype=torch.float64)
    fwd = -pos / pos.norm()
    right = torch.tensor([math.cos(az), 0.0, -math.sin(az)], dtype=torch.float64)  # horizontal, to the right
    up = torch.linalg.cross(right, fwd)
    tan = math.tan(math.radians(cam.fov) / 2)
    c = (torch.arange(n, dtype=torch.float64) + 0.5) / n * 2 - 1
    d = fwd + c[None, :, None] * tan * right - c[:, None, None] * tan * up
    return pos, d / d.norm(dim=-1, keepdim=True)


# -- geometry ---------------------------------------------------------------------

def test_sphere_mask_is_the_analytic_silhouette():
    """A sphere seen from distance d fills the cone of half-angle asin(1/d) around the view axis."""
    for cam in [Camera(0, 20, 3.0), Camera(137, -35, 2.2, fov=60)]:
        n = 40
        view = make_view(cam, n)
        pos, d = _pinhole_dirs(cam, n)
        angle = torch.acos((d @ (-pos / pos.norm())).clamp(-1, 1))
        half = math.asin(1 / cam.distance)
        inside, outside = angle < half - 1e-9, angle > half + 1e-9
        mask = view.mask[0, 0].bool()
        assert inside.any() and outside.any()
        assert torch.equal(mask[inside], torch.ones_like(mask[inside]))
        assert not mask[outside].any()


def test_known_texture_renders_the_analytic_uv():
    """A texture whose colours are its own (u, v) renders to each hit point's longitude and latitude."""
    ht, wt = 16, 32
    u = ((torch.arange(wt) + 0.5) / wt).expand(ht, wt)
    v = ((torch.arange(ht) + 0.5) / ht)[:, None].expand(ht, wt)
    tex = torch.stack([u, v, torch.zeros(ht, wt)])[None].double()
    cam = Camera(40, 25, 3.0)
    n = 48
    img = render(tex, make_view(cam, n), background=0.25, shading=False)[0]
    # The hit points, solved again here: |pos + t d| = 1.
    pos, d = _pinhole_dirs(cam, n)
    b = d @ pos
    disc = b * b - (pos @ pos - 1)
    hit = disc > 0
    p = pos + (-b - disc.clamp_min(0).sqrt())[..., None] * d
    lon = 0.5 + torch.atan2(p[..., 0], p[..., 2]) / (2 * math.pi)
    lat = torch.acos(p[..., 1].clamp(-1, 1)) / math.pi
    # Away from the seam (u wraps from 1 to 0) and the pole rows (clamped), bilinear
    # interpolation of a linear ramp is exact.
    inner = hit & (lon > 1 / wt) & (lon < 1 - 1 / wt) & (lat > 0.5 / ht) & (lat < 1 - 0.5 / ht)
    assert inner.sum() > 0.5 * hit.sum()
    torch.testing.assert_close(img[0][inner], lon[inner], atol=1e-6, rtol=0)
    torch.testing.assert_close(img[1][inner], lat[inner], atol=1e-6, rtol=0)
    assert torch.all(img[:, ~hit] == 0.25)


def test_texture_wraps_across_the_seam():
    """Just either side of u = 0 = 1 the render blends the first and last columns, not the border."""
    tex = torch.zeros(1, 3, 8, 16)
    tex[..., 0] = 1.0   # first column white, last column black
    view = make_view(Camera(180, 0, 3.0), 33)  # looking at the seam (behind the sphere, -z)
    img = render(tex, view, shading=False)
    uv = view.uv
    seam = view.mask[0, 0].bool() & ((uv[..., 0] < 0.5 / 16) | (uv[..., 0] > 1 - 0.5 / 16))
    assert seam.any()
    values = img[0, 0][seam]
    assert (values > 0).all() and (values < 1).all()  # a blend of column 0 and column 15


def test_ray_torus_hits_and_misses():
    o = torch.tensor([[0.0, 0.0, 3.0], [0.0, 3.0, 0.0], [0.0, 0.0, 3.0]], dtype=torch.float64)
    d = torch.tensor([[0.0, 0.0, -1.0], [0.0, -1.0, 0.0], [1.0, 0.0, 0.0]], dtype=torch.float64)
    t = ray_torus(o, d)
    assert t[0].item() == pytest.approx(3.0 - 1.4, abs=1e-9)   # the outer equator
    assert math.isinf(t[1]) and math.isinf(t[2])                # down the hole; beside it
    torch.testing.assert_close(ray_sphere(o[:1], d[:1]), torch.tensor([2.0], dtype=torch.float64))


# -- the gradient reaches the texture -----------------------------------------------

def _footprint(view, ht: int, wt: int, min_weight: float) -> torch.Tensor:
    """Texels with bilinear weight > min_weight in some hit pixel (u wraps, v clamps at the poles)."""
    hit = view.mask[0, 0].bool()
    u, v = view.uv[hit].unbind(-1)
    x = u * wt - 0.5
    y = (v * ht - 0.5).clamp(0, ht - 1)
    x0, y0 = torch.floor(x), torch.floor(y)
    fx, fy = x - x0, y - y0
    used = torch.zeros(ht, wt, dtype=torch.bool)
    for dy, wy in ((0, 1 - fy), (1, fy)):
        for dx, wx in ((0, 1 - fx), (1, fx)):
            rows = (y0 + dy).clamp(max=ht - 1).long()
            cols = (x0 + dx).long() % wt
            w = wy * wx
            used[rows[w > min_weight], cols[w > min_weight]] = True
    return used


def test_gradient_reaches_exactly_the_visible_texels():
    ht, wt = 12, 24
    view = make_view(Camera(30, 0, 3.0), 40)
    tex = torch.rand(1, 3, ht, wt, generator=torch.Generator().manual_seed(0), requires_grad=True)
    weights = 0.5 + torch.rand(1, 3, 40, 40, generator=torch.Generator().manual_seed(1))
    (render(tex, view) * weights).sum().backward()
    moved = (tex.grad[0] != 0).any(0)
    assert torch.equal(moved, (tex.grad[0] != 0).all(0))  # every channel alike
    must = _footprint(view, ht, wt, 1e-6)    # sampled with a real weight: must get gradient
    may = _footprint(view, ht, wt, -1.0)     # anywhere in a footprint: may get gradient
    assert (moved & ~may).sum() == 0, "gradient on texels no pixel samples"
    assert (must & ~moved).sum() == 0, "visible texels without gradient"
    # From the equator the back half of the sphere is hidden: its texels get exactly 0.
    assert (~may).sum() > ht * wt // 3
    assert torch.all(tex.grad[0][:, ~may] == 0)


@pytest.mark.parametrize("shape", ["sphere", "torus"])
def test_render_gradcheck(shape):
    view = make_view(Camera(20, 30, 4.2 if shape == "torus" else 3.0), 7, shape=shape)
    assert view.mask.sum() > 10
    tex = torch.rand(1, 3, 4, 6, dtype=torch.float64, generator=torch.Generator().manual_seed(2), requires_grad=True)
    assert torch.autograd.gradcheck(lambda t: render(t, view), (tex,))


# -- correspondences ------------------------------------------------------------------

@pytest.mark.parametrize("shape", ["sphere", "torus"])
def test_correspondences_join_the_same_surface_point(shape):
    a, b = views(5, 30, size=48, shape=shape)[:2]   # 72 degrees apart
    c = correspondence(a, b)
    assert len(c) > 100
    assert torch.equal(c.points, a.points[c.mask_a])
    # Exactly: the ray of b through the projected position meets the surface at the point.
    right, up, fwd = b.camera.basis()
    tan = math.tan(math.radians(b.camera.fov) / 2)
    x, y = c.grid_b.unbind(-1)
    d = fwd + (x * tan)[:, None] * right - (y * tan)[:, None] * up
    d = d / d.norm(dim=-1, keepdim=True)
    o = b.camera.position().expand_as(d)
    t = ray_sphere(o, d) if shape == "sphere" else ray_torus(o, d)
    torch.testing.assert_close(o + t[:, None] * d, c.points, atol=1e-6, rtol=0)
    # Through b's image: its per-pixel points, sampled there, are the same points
    # up to bilinear interpolation over about a pixel of surface.
    pts_b = torch.nn.functional.grid_sample(b.points.permute(2, 0, 1)[None], c.grid_b.view(1, -1, 1, 2),
                                            align_corners=False).view(3, -1).T
    pixel = 2 * b.camera.distance * tan / 48
    err = (pts_b - c.points).norm(dim=-1)
    assert err.max() < 2 * pixel and err.median() < 0.2 * pixel
    # Projection into a's own camera gives a's own pixel centres.
    rows, cols = torch.nonzero(c.mask_a, as_tuple=True)
    own = project(c.points, a.camera, a.size)
    torch.testing.assert_close(own[:, 0], (2 * cols.double() + 1) / 48 - 1, atol=1e-9, rtol=0)
    torch.testing.assert_close(own[:, 1], (2 * rows.double() + 1) / 48 - 1, atol=1e-9, rtol=0)


def test_torus_hides_part_of_itself():
    """Points that face b's camera but lie behind the tube are not corresponding points."""
    a, b = views(2, 15, size=48, shape="torus", start=60)
    c = correspondence(a, b)
    hit = a.mask[0, 0].bool()
    p = a.points[hit]
    rel = b.camera.position() - p
    normals, _ = three_d._normals_uv("torus", p)
    facing = (normals * rel).sum(-1) > 0
    grid = project(p, b.camera, b.size)
    on_image = (grid.abs() < 0.9).all(-1)
    hidden = facing & on_image & ~c.mask_a[hit]
    assert hidden.sum() > 20


def test_view_inconsistency():
    vs = views(4, size=48)
    corr = correspondences(vs)
    assert set(corr) >= {(0, 1), (1, 2), (2, 3), (0, 3)}
    flat = torch.full((1, 3, 8, 16), 0.3)
    value, pairs = view_inconsistency(render_views(flat, vs, shading=False), corr, per_pair=True)
    assert value < 1e-6 and set(pairs) == set(corr)
    noise = [torch.rand(1, 3, 48, 48, generator=torch.Generator().manual_seed(k)) for k in range(4)]
    assert view_inconsistency(noise, corr) > 0.2
    assert view_inconsistency(render_views(beach_ball((16, 32)), vs), corr) < 0.05


# -- the method ---------------------------------------------------------------------

@pytest.fixture(scope="module")
def net():
    opts = StylizeOptions()
    return VGG19Features(list(dict.fromkeys(opts.content_layers + opts.style_layers)), device="cpu")


def test_multi_view_texture_beats_per_view_stylisation(net):
    torch.manual_seed(0)
    vs = views(3, size=64)
    tex = beach_ball((32, 64))
    style_img = procedural("swirls", 64, seed=0)
    result = stylize_texture(style_img, vs, tex, num_steps=8, net=net)
    separate, histories = stylize_views_separately(style_img, vs, tex, num_steps=8, net=net)
    assert result.texture.shape == tex.shape and 0 <= result.texture.min() and result.texture.max() <= 1
    assert result.history.best_loss < result.history.total[0]
    plain = render_views(tex, vs)
    before = view_style_losses(plain, style_img, vs, net=net)
    after = view_style_losses(result.images, style_img, vs, net=net)
    assert all(a < b for a, b in zip(after, before)), (after, before)
    # The renders of the result are the result's texture, rendered.
    torch.testing.assert_close(result.images[1], render(result.texture, vs[1]))
    # Per-view stylisation leaves the background alone.
    off = ~vs[0].mask[0, 0].bool()
    assert torch.all(separate[0][0][:, off] == 0.5)
    corr = correspondences(vs)
    shared, alone = view_inconsistency(result.images, corr), view_inconsistency(separate, corr)
    assert shared < 0.7 * alone, (shared, alone)


def test_turntable_and_gif():
    tex = beach_ball((16, 32))
    frames = turntable(tex, n_frames=6, size=32)
    assert frames.shape == (6, 3, 32, 32)
    torch.testing.assert_close(frames[0:1], render(tex, views(1, size=32)[0]))
    data = gif_bytes(frames, fps=10)
    with Image.open(io.BytesIO(data)) as im:
        assert im.format == "GIF" and im.size == (32, 32) and im.n_frames == 6
        assert im.info.get("loop") == 0
    assert len(data) < 100_000


def test_bad_inputs():
    view = make_view(Camera(), 8)
    with pytest.raises(ValueError, match="shape"):
        make_view(Camera(), 8, shape="cube")
    with pytest.raises(ValueError, match="texture"):
        render(torch.rand(3, 4, 8), view)
    with pytest.raises(ValueError, match="elevation"):
        Camera(elevation=90)
    with pytest.raises(ValueError, match="different shapes"):
        correspondence(view, make_view(Camera(distance=4.2), 8, shape="torus"))
