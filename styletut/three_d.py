"""Style transfer in 3D: stylise an object's texture, not its pictures.

Stylising each picture of a 3D object on its own gives pictures that disagree:
the same point of the surface is painted differently in every view. Here the
object carries one texture, a small differentiable renderer turns the texture
into views, and the style loss of every view flows back into that one texture,
so every view shows the same paint. The idea is the texture style transfer
through a renderer of Mordvintsev et al. (2018, "Differentiable image
parameterizations"); the renderer is differentiable in the texture as in Kato
et al. (2018, "Neural 3D mesh renderer"), and the losses are those of Gatys et
al. (2016).

The renderer, in plain PyTorch:

1. a pinhole :class:`Camera` on a sphere around the origin, looking at it,
   casts one ray per pixel (:func:`camera_rays`);
2. each ray is intersected with an analytic surface, a sphere or a torus
   (:func:`trace`), giving per pixel the hit mask, the surface point, its
   normal and its texture coordinates ``(u, v)``;
3. a Lambert light fixed in the world shades each point (the same point gets
   the same shade in every view);
4. :func:`render` samples the texture ``(1, 3, Ht, Wt)`` at ``(u, v)`` with
   ``torch.nn.functional.grid_sample`` and composites the object over a
   background.

The geometry never changes, so steps 1-3 run once per view (:func:`make_view`,
:func:`views`, no gradient); rendering is then one ``grid_sample``, a product
and a blend: cheap, and differentiable in the texture.

Texture coordinates: ``u`` goes once around the vertical axis and wraps
(the texture is padded circularly in width before sampling, so the seam
interpolates between its last and first columns); on the sphere ``v`` runs
from the north pole (row 0) to the south pole and is clamped there; on the
torus ``v`` goes once around the tube and wraps too.

Introduced in notebooks/13_three_d.ipynb
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass, field
from typing import Mapping, Sequence

import numpy as np
import torch
import torch.nn.functional as F

from .features import VGG19Features
from .optim import History, run
from .options import StylizeOptions
from .runtime import resolve_device
from .transfer import StyleObjective

__all__ = ["SHAPES", "TORUS_RADII", "DEFAULT_LIGHT", "AMBIENT", "Camera", "View", "Correspondence",
           "TextureResult", "camera_rays", "ray_sphere", "ray_torus", "sphere_uv", "torus_uv", "trace",
           "make_view", "views", "render", "render_views", "project", "correspondence", "correspondences",
           "view_inconsistency", "beach_ball", "stylize_texture", "stylize_views_separately",
           "view_style_losses", "turntable", "gif_bytes", "show_gif"]

SHAPES = ("sphere", "torus")
# The torus: distance from the centre to the middle of the tube, and the tube's radius.
TORUS_RADII = (1.0, 0.4)
# Camera distance per shape at which the object fills about 85% of a 45° view.
_FRAMING = {"sphere": 3.0, "torus": 4.2}
# A light from above (and a little in front of azimuth 0), fixed in the world:
# Lambert shading depends on the normal and the light only, never on the
# viewer, so one surface point has one shade in every view.
DEFAULT_LIGHT = (-0.25, 1.0, 0.25)
AMBIENT = 0.4


@dataclass(frozen=True)
class Camera:
    """A pinhole camera on a sphere around the origin, looking at the origin, ``y`` up.

    Attributes:
        azimuth: degrees around the vertical (``y``) axis; 0 looks from ``+z``,
            90 from ``+x``.
        elevation: degrees above the equator, in (-90, 90).
        distance: from the origin.
        fov: the full vertical field of view, degrees.

    Example:
        >>> Camera(azimuth=0, elevation=0, distance=2).position()
        tensor([0., 0., 2.], dtype=torch.float64)
    """

    azimuth: float = 0.0
    elevation: float = 20.0
    distance: float = 3.0
    fov: float = 45.0

    def __post_init__(self):
        if not -90 < self.elevation < 90:
            raise ValueError(f"elevation must lie in (-90, 90) degrees, got {self.elevation}")
        if not 0 < self.fov < 180:
            raise ValueError(f"fov must lie in (0, 180) degrees, got {self.fov}")

    def position(self) -> torch.Tensor:
        """The camera's centre, ``(3,)`` float64."""
        az, el = math.radians(self.azimuth), math.radians(self.elevation)
        return self.distance * torch.tensor([math.cos(el) * math.sin(az), math.sin(el),
                                             math.cos(el) * math.cos(az)], dtype=torch.float64)

    def basis(self) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
        """``(right, up, forward)``: unit vectors of the image's x and y axes and of the viewing direction."""
        forward = -self.position() / self.distance
        right = torch.linalg.cross(forward, torch.tensor([0.0, 1.0, 0.0], dtype=torch.float64))
        right = right / right.norm()
        up = torch.linalg.cross(right, forward)
        return right, up, forward


def _hw(size) -> tuple[int, int]:
    h, w = (size, size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    if h < 1 or w < 1:
        raise ValueError(f"size must be positive, got {size}")
    return h, w


def camera_rays(camera: Camera, size: int | tuple[int, int]) -> tuple[torch.Tensor, torch.Tensor]:
    """One ray per pixel centre: origins and unit directions.

    Pixel ``(i, j)`` (row, column) sits at the image-plane point
    ``x = (2(j + ½)/W − 1)·tan(fov/2)·W/H``, ``y = (1 − 2(i + ½)/H)·tan(fov/2)``
    at distance 1 in front of the camera: the same convention as
    ``grid_sample(align_corners=False)``, so a point's projection
    (:func:`project`) is directly a sampling coordinate.

    Args:
        camera: the :class:`Camera`.
        size: ``H`` (square) or ``(H, W)``.

    Returns:
        ``(origins, directions)``, each ``(H, W, 3)`` float64.

    Example:
        >>> o, d = camera_rays(Camera(), 4)
        >>> o.shape, d.shape
        (torch.Size([4, 4, 3]), torch.Size([4, 4, 3]))
    """
    h, w = _hw(size)
    right, up, forward = camera.basis()
    tan = math.tan(math.radians(camera.fov) / 2)
    xs = ((torch.arange(w, dtype=torch.float64) + 0.5) * 2 / w - 1) * tan * w / h
    ys = (1 - (torch.arange(h, dtype=torch.float64) + 0.5) * 2 / h) * tan
    dirs = forward + xs[None, :, None] * right + ys[:, None, None] * up
    dirs = dirs / dirs.norm(dim=-1, keepdim=True)
    origins = camera.position().expand(h, w, 3)
    return origins, dirs


def ray_sphere(origins: torch.Tensor, dirs: torch.Tensor, radius: float = 1.0) -> torch.Tensor:
    """Distance along each ray to the first hit with the sphere ``|p| = radius`` (``inf``: a miss).

    With ``|d| = 1``, ``|o + t·d|² = r²`` is ``t² + 2bt + c = 0`` with
    ``b = o·d`` and ``c = |o|² − r²``; the nearer root is ``t = −b − √(b² − c)``.

    Args:
        origins, dirs: ``(..., 3)``, ``dirs`` of unit length.
        radius: the sphere's radius (centred at the origin).

    Returns:
        ``(...)``: the distance ``t > 0``, or ``inf`` where the ray misses.

    Example:
        >>> ray_sphere(torch.tensor([[0., 0., 3.]]), torch.tensor([[0., 0., -1.]]))
        tensor([2.])
    """
    b = (origins * dirs).sum(-1)
    c = (origins * origins).sum(-1) - radius ** 2
    disc = b * b - c
    t = -b - disc.clamp_min(0).sqrt()
    return torch.where((disc > 0) & (t > 0), t, torch.full_like(t, math.inf))


def ray_torus(origins: torch.Tensor, dirs: torch.Tensor, radii: tuple[float, float] = TORUS_RADII) -> torch.Tensor:
    """Distance along each ray to the first hit with a torus around the ``y`` axis (``inf``: a miss).

    The torus is ``(|p|² + R² − r²)² = 4R²(p_x² + p_z²)``. With ``p = o + t·d``
    this is a quartic in ``t``; its roots are the eigenvalues of the quartic's
    companion matrix. The smallest positive real root is the hit, polished by
    two Newton steps. Only rays that meet the bounding sphere ``R + r`` are solved.

    Args:
        origins, dirs: ``(..., 3)`` float64, ``dirs`` of unit length.
        radii: ``(R, r)``: centre to the middle of the tube, and the tube's radius.

    Returns:
        ``(...)``: the distance ``t > 0``, or ``inf`` where the ray misses.

    Example:
        >>> ray_torus(torch.tensor([[0., 0., 3.]], dtype=torch.float64),
        ...           torch.tensor([[0., 0., -1.]], dtype=torch.float64))
        tensor([1.6000], dtype=torch.float64)
    """
    big, small = radii
    shape = origins.shape[:-1]
    o, d = origins.reshape(-1, 3).double(), dirs.reshape(-1, 3).double()
    t_out = torch.full((o.shape[0],), math.inf, dtype=torch.float64)
    near = torch.isfinite(ray_sphere(o, d, big + small)) | ((o * o).sum(-1) < (big + small) ** 2)
    if near.any():
        o_n, d_n = o[near], d[near]
        b = (o_n * d_n).sum(-1)
        k = (o_n * o_n).sum(-1) + big ** 2 - small ** 2
        dxz = d_n[:, 0] ** 2 + d_n[:, 2] ** 2
        oxz = o_n[:, 0] * d_n[:, 0] + o_n[:, 2] * d_n[:, 2]
        rxz = o_n[:, 0] ** 2 + o_n[:, 2] ** 2
        # t⁴ + a3 t³ + a2 t² + a1 t + a0, from expanding (t² + 2bt + k)² − 4R²|(o + td)_xz|².
        a3 = 4 * b
        a2 = 4 * b * b + 2 * k - 4 * big ** 2 * dxz
        a1 = 4 * b * k - 8 * big ** 2 * oxz
        a0 = k * k - 4 * big ** 2 * rxz
        comp = torch.zeros(o_n.shape[0], 4, 4, dtype=torch.float64)
        comp[:, 0] = -torch.stack([a3, a2, a1, a0], dim=-1)
        comp[:, 1, 0] = comp[:, 2, 1] = comp[:, 3, 2] = 1.0
        roots = torch.linalg.eigvals(comp)
        # A ray that grazes the tube has a double root, which eigvals returns
        # with a tiny imaginary part: accept near-real roots, then polish.
        real = roots.real.clone()
        ok = (roots.imag.abs() < 1e-5 * (1 + real.abs())) & (real > 1e-9)
        real[~ok] = math.inf
        t = real.min(dim=-1).values
        hit = torch.isfinite(t)
        coef = torch.stack([torch.ones_like(a3), a3, a2, a1, a0], dim=-1)
        for _ in range(2):  # Newton on the quartic; a double root's derivative is ~0, so guard it
            tt = torch.where(hit, t, torch.zeros_like(t))
            f = (((coef[:, 0] * tt + coef[:, 1]) * tt + coef[:, 2]) * tt + coef[:, 3]) * tt + coef[:, 4]
            df = ((4 * coef[:, 0] * tt + 3 * coef[:, 1]) * tt + 2 * coef[:, 2]) * tt + coef[:, 3]
            step = torch.where(df.abs() > 1e-9, f / df, torch.zeros_like(f))
            t = torch.where(hit & (step.abs() < 1e-3), t - step, t)
        t_out[near] = t
    return t_out.reshape(shape)


def sphere_uv(points: torch.Tensor) -> torch.Tensor:
    """Texture coordinates of points on a sphere centred at the origin.

    ``u = ½ + atan2(x, z)/(2π)`` (longitude: 0 and 1 are the seam behind the
    sphere, at ``−z``; ½ faces ``+z``), ``v = acos(y/|p|)/π`` (0 at the north
    pole ``+y``, 1 at the south pole). The texture is then an equirectangular
    map: row 0 the north pole, the middle row the equator.

    Args:
        points: ``(..., 3)``.

    Returns:
        ``(..., 2)``: ``(u, v)`` in [0, 1].

    Example:
        >>> sphere_uv(torch.tensor([[0., 0., 1.], [0., 1., 0.]]))
        tensor([[0.5000, 0.5000],
                [0.5000, 0.0000]])
    """
    x, y, z = points.unbind(-1)
    u = 0.5 + torch.atan2(x, z) / (2 * math.pi)
    v = torch.acos((y / points.norm(dim=-1)).clamp(-1, 1)) / math.pi
    return torch.stack([u, v], dim=-1)


def torus_uv(points: torch.Tensor, radii: tuple[float, float] = TORUS_RADII) -> torch.Tensor:
    """Texture coordinates of points on the torus around the ``y`` axis.

    ``u = ½ + atan2(x, z)/(2π)`` goes around the ``y`` axis, as on the sphere;
    ``v = ½ − atan2(y, ρ − R)/(2π)`` (``ρ = √(x² + z²)``) goes around the
    tube: ½ on the outer equator, ¼ on top, ¾ underneath, 0 and 1 on the
    inner equator. Both wrap: the torus has no poles.

    Args:
        points: ``(..., 3)`` on the torus.
        radii: ``(R, r)``.

    Returns:
        ``(..., 2)``: ``(u, v)`` in [0, 1].

    Example:
        >>> torus_uv(torch.tensor([[0., 0., 1.4], [0., 0.4, 1.]]))
        tensor([[0.5000, 0.5000],
                [0.5000, 0.2500]])
    """
    x, y, z = points.unbind(-1)
    rho = torch.sqrt(x * x + z * z)
    u = 0.5 + torch.atan2(x, z) / (2 * math.pi)
    v = 0.5 - torch.atan2(y, rho - radii[0]) / (2 * math.pi)
    return torch.stack([u, v], dim=-1)


def _check_shape(shape: str) -> str:
    if shape not in SHAPES:
        raise ValueError(f"unknown shape {shape!r}; choose one of: {', '.join(SHAPES)}")
    return shape


def _intersect(shape: str, origins: torch.Tensor, dirs: torch.Tensor) -> torch.Tensor:
    return ray_sphere(origins, dirs) if _check_shape(shape) == "sphere" else ray_torus(origins, dirs)


def _normals_uv(shape: str, points: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    if shape == "sphere":
        return points / points.norm(dim=-1, keepdim=True), sphere_uv(points)
    big, small = TORUS_RADII
    ring = points * torch.tensor([1.0, 0.0, 1.0], dtype=points.dtype)
    ring = big * ring / ring.norm(dim=-1, keepdim=True).clamp_min(1e-12)  # nearest point of the tube's centre circle
    normals = points - ring
    return normals / normals.norm(dim=-1, keepdim=True).clamp_min(1e-12), torus_uv(points)


def trace(camera: Camera, size: int | tuple[int, int], shape: str = "sphere") -> dict[str, torch.Tensor]:
    """Cast the camera's rays at ``shape``: what each pixel sees.

    Args:
        camera: the :class:`Camera`.
        size: ``H`` or ``(H, W)``.
        shape: one of :data:`SHAPES`.

    Returns:
        A dict of tensors, float64 but for the mask, keyed ``"mask"`` ``(H, W)``
        bool, ``"depth"`` ``(H, W)``, ``"points"`` and ``"normals"``
        ``(H, W, 3)``, ``"uv"`` ``(H, W, 2)``; where a ray misses, depth is
        ``inf`` and points, normals and uv are 0.

    Example:
        >>> hit = trace(Camera(), 32)
        >>> hit["mask"].shape, hit["uv"].shape
        (torch.Size([32, 32]), torch.Size([32, 32, 2]))
    """
    origins, dirs = camera_rays(camera, size)
    t = _intersect(shape, origins, dirs)
    mask = torch.isfinite(t)
    points = origins + torch.where(mask, t, torch.zeros_like(t))[..., None] * dirs
    normals, uv = _normals_uv(shape, points)
    zero = ~mask[..., None]
    return {"mask": mask, "depth": t, "points": points.masked_fill(zero, 0.0),
            "normals": normals.masked_fill(zero, 0.0), "uv": uv.masked_fill(zero, 0.0)}


@dataclass
class View:
    """Everything about one view that does not depend on the texture (computed once).

    Attributes:
        camera, shape: what looks at what.
        mask: ``(1, 1, H, W)`` float32, 1 where the pixel sees the object.
        shade: ``(1, 1, H, W)`` float32 Lambert shading (0 off the object).
        uv: ``(H, W, 2)`` float64 texture coordinates (0 off the object).
        points: ``(H, W, 3)`` float64 surface points (0 off the object).
        depth: ``(H, W)`` float64 distance from the camera (``inf`` off the object).
    """

    camera: Camera
    shape: str
    mask: torch.Tensor
    shade: torch.Tensor
    uv: torch.Tensor
    points: torch.Tensor
    depth: torch.Tensor
    _grids: dict = field(default_factory=dict, repr=False)

    @property
    def size(self) -> tuple[int, int]:
        return tuple(self.mask.shape[-2:])

    def to(self, device) -> "View":
        """This view with its float32 tensors (mask, shade) on ``device``."""
        return View(self.camera, self.shape, self.mask.to(device), self.shade.to(device), self.uv, self.points,
                    self.depth)

    def grid(self, texture_hw: tuple[int, int], dtype=torch.float32, device=None) -> torch.Tensor:
        """The ``grid_sample`` coordinates ``(1, H, W, 2)`` of this view's uv in a texture of ``texture_hw``.

        The texture is padded by one texel on each wrapping side (:func:`_wrap`),
        so texel ``j`` of ``W`` sits at index ``j + 1`` of ``W + 2``; its centre
        ``u = (j + ½)/W`` becomes ``x = (2u − 1)·W/(W + 2)``. A side that does
        not wrap (the sphere's ``v``) keeps ``x = 2v − 1`` and is clamped by
        ``padding_mode="border"``.
        """
        key = (tuple(texture_hw), dtype, str(device))
        if key not in self._grids:
            ht, wt = texture_hw
            u, v = self.uv.unbind(-1)
            gx = (2 * u - 1) * wt / (wt + 2)
            gy = (2 * v - 1) * (ht / (ht + 2) if self.shape == "torus" else 1.0)
            self._grids[key] = torch.stack([gx, gy], dim=-1)[None].to(dtype=dtype, device=device)
        return self._grids[key]


def make_view(camera: Camera, size: int | tuple[int, int] = 128, shape: str = "sphere",
              light: Sequence[float] = DEFAULT_LIGHT, ambient: float = AMBIENT) -> View:
    """Trace one view once: its mask, shading and texture coordinates.

    Args:
        camera: the :class:`Camera`.
        size: ``H`` or ``(H, W)`` of the rendered image.
        shape: one of :data:`SHAPES`.
        light: direction towards the light, in the world (normalised here).
        ambient: the shade of a point facing away from the light; a point
            facing it gets 1. Lambert: ``ambient + (1 − ambient)·max(0, n·l)``.

    Returns:
        A :class:`View`.

    Example:
        >>> view = make_view(Camera(azimuth=30), size=64)
        >>> view.mask.shape, view.shade.shape
        (torch.Size([1, 1, 64, 64]), torch.Size([1, 1, 64, 64]))
    """
    hit = trace(camera, size, shape)
    light_dir = torch.tensor(light, dtype=torch.float64)
    light_dir = light_dir / light_dir.norm()
    lambert = (hit["normals"] @ light_dir).clamp_min(0)
    mask = hit["mask"].float()
    shade = (ambient + (1 - ambient) * lambert).float() * mask
    return View(camera, shape, mask[None, None], shade[None, None], hit["uv"], hit["points"], hit["depth"])


def views(n: int, elevation: float = 20.0, size: int | tuple[int, int] = 128, shape: str = "sphere",
          distance: float | None = None, start: float = 0.0, fov: float = 45.0, **kwargs) -> list[View]:
    """``n`` views evenly spaced around the object, at one elevation.

    Args:
        n: how many; azimuths ``start + 360°·k/n``.
        elevation: degrees above the equator.
        size: ``H`` or ``(H, W)`` of each image.
        shape: one of :data:`SHAPES`.
        distance: camera distance (default: the shape fills about 85% of the frame).
        start: the first azimuth, degrees.
        fov: vertical field of view, degrees.
        **kwargs: passed to :func:`make_view` (``light``, ``ambient``).

    Returns:
        A list of :class:`View`.

    Example:
        >>> [v.camera.azimuth for v in views(4, size=16)]
        [0.0, 90.0, 180.0, 270.0]
    """
    if n < 1:
        raise ValueError(f"n must be at least 1, got {n}")
    distance = _FRAMING[_check_shape(shape)] if distance is None else distance
    return [make_view(Camera(start + 360.0 * k / n, elevation, distance, fov), size, shape, **kwargs)
            for k in range(n)]


def _wrap(texture: torch.Tensor, shape: str) -> torch.Tensor:
    """The texture padded circularly by one texel where its coordinate wraps (u; also v on the torus)."""
    pad = (1, 1, 1, 1) if shape == "torus" else (1, 1, 0, 0)
    return F.pad(texture, pad, mode="circular")


def _check_texture(texture: torch.Tensor) -> None:
    if texture.dim() != 4 or texture.shape[:2] != (1, 3):
        raise ValueError(f"texture must be (1, 3, Ht, Wt), got {tuple(texture.shape)}")
    if texture.shape[-1] < 2 or texture.shape[-2] < 2:
        raise ValueError(f"texture must be at least 2x2 texels, got {tuple(texture.shape[-2:])}")


def render(texture: torch.Tensor, view: View, background: float | torch.Tensor = 0.5,
           shading: bool = True) -> torch.Tensor:
    """The picture of the textured object in ``view``, differentiable in ``texture``.

    ``image = mask · shade · texture(u, v) + (1 − mask) · background``, with the
    texture sampled bilinearly (``grid_sample``) at each pixel's ``(u, v)``.

    Args:
        texture: ``(1, 3, Ht, Wt)`` in [0, 1] (any float dtype).
        view: a :class:`View` from :func:`make_view` / :func:`views`.
        background: a grey level, or a tensor broadcastable to ``(1, 3, H, W)``.
        shading: ``False`` leaves the light out (the texture's colours as they are).

    Returns:
        ``(1, 3, H, W)`` in the texture's dtype and device.

    Example:
        >>> view = make_view(Camera(), size=32)
        >>> render(torch.rand(1, 3, 16, 32), view).shape
        torch.Size([1, 3, 32, 32])
    """
    _check_texture(texture)
    dtype, device = texture.dtype, texture.device
    grid = view.grid(tuple(texture.shape[-2:]), dtype, device)
    colour = F.grid_sample(_wrap(texture, view.shape), grid, mode="bilinear", padding_mode="border",
                           align_corners=False)
    mask = view.mask.to(dtype=dtype, device=device)
    if shading:
        colour = colour * view.shade.to(dtype=dtype, device=device)
    if not isinstance(background, torch.Tensor):
        background = torch.tensor(float(background), dtype=dtype, device=device)
    return colour * mask + background.to(dtype=dtype, device=device) * (1 - mask)


def render_views(texture: torch.Tensor, views_: Sequence[View], **kwargs) -> list[torch.Tensor]:
    """:func:`render` for each view: a list of ``(1, 3, H, W)``."""
    return [render(texture, v, **kwargs) for v in views_]


def project(points: torch.Tensor, camera: Camera, size: int | tuple[int, int]) -> torch.Tensor:
    """Where world points fall in ``camera``'s image, as ``grid_sample`` coordinates.

    Args:
        points: ``(..., 3)`` in front of the camera.
        camera: the :class:`Camera`.
        size: ``H`` or ``(H, W)`` of its image.

    Returns:
        ``(..., 2)``: ``(x, y)``, −1 the left / top edge and +1 the right /
        bottom edge of the image (``align_corners=False``: pixel ``j``'s centre
        is at ``(2j + 1)/W − 1``).

    Example:
        >>> project(torch.zeros(1, 3, dtype=torch.float64), Camera(), 8)
        tensor([[0., 0.]], dtype=torch.float64)
    """
    h, w = _hw(size)
    right, up, forward = camera.basis()
    rel = points.double() - camera.position()
    z = rel @ forward
    tan = math.tan(math.radians(camera.fov) / 2)
    x = (rel @ right) / z / (tan * w / h)
    y = -(rel @ up) / z / tan
    return torch.stack([x, y], dim=-1)


@dataclass
class Correspondence:
    """Pixels of view ``a`` whose surface point view ``b`` also sees.

    Attributes:
        mask_a: ``(H, W)`` bool: pixels of ``a`` that have a partner in ``b``.
        grid_b: ``(N, 2)`` where each of those points lies in ``b``'s image
            (``grid_sample`` coordinates), in ``mask_a``'s row-major order.
        points: ``(N, 3)`` the surface points themselves.
    """

    mask_a: torch.Tensor
    grid_b: torch.Tensor
    points: torch.Tensor

    def __len__(self) -> int:
        return int(self.points.shape[0])


def correspondence(view_a: View, view_b: View, tol: float = 1e-5) -> Correspondence:
    """Which pixels of ``view_a`` see a surface point that ``view_b`` sees too, and where in ``b``.

    Each of ``a``'s hit points is joined to ``b``'s camera by a ray; the point
    is visible in ``b`` when that ray's first hit is the point itself (nothing
    of the object in front of it: this is how the torus hides part of itself).
    Points whose bilinear footprint in ``b`` touches the background (the
    silhouette) or straddles a depth edge are left out, so that sampling
    ``b``'s image there reads this surface only.

    Args:
        view_a, view_b: two :class:`View` of the same shape.
        tol: how close (world units) ``b``'s first hit must be to the point.

    Returns:
        A :class:`Correspondence`.

    Example:
        >>> a, b = views(2, size=32, start=-30)[0], views(2, size=32, start=30)[0]
        >>> c = correspondence(a, b)
        >>> c.grid_b.shape[1], len(c) > 0
        (2, True)
    """
    if view_a.shape != view_b.shape:
        raise ValueError(f"the views show different shapes ({view_a.shape}, {view_b.shape})")
    mask_a = view_a.mask[0, 0].bool().cpu()
    points = view_a.points[mask_a]
    origin = view_b.camera.position()
    rel = points - origin
    dist = rel.norm(dim=-1)
    first = _intersect(view_b.shape, origin.expand_as(rel), rel / dist[:, None])
    visible = (first - dist).abs() < tol
    grid = project(points, view_b.camera, view_b.size)
    h, w = view_b.size
    inside = (grid[:, 0].abs() < 1 - 1 / w) & (grid[:, 1].abs() < 1 - 1 / h)
    # The silhouette: bilinear sampling there mixes the background in.
    on_object = F.grid_sample(view_b.mask.double().cpu(), grid.view(1, -1, 1, 2), mode="bilinear",
                              padding_mode="zeros", align_corners=False).view(-1) > 1 - 1e-9
    # Inside the object, a footprint can still straddle a depth edge (the near
    # tube of a torus over its far side): b's points, sampled there, then land
    # far from the point. Keep footprints whose sampled point is within about a
    # pixel's width of surface.
    sampled = F.grid_sample(view_b.points.permute(2, 0, 1)[None], grid.view(1, -1, 1, 2), mode="bilinear",
                            align_corners=False).view(3, -1).T
    pixel = dist * 2 * math.tan(math.radians(view_b.camera.fov) / 2) / h
    smooth = (sampled - points).norm(dim=-1) < 1.5 * pixel
    keep = visible & inside & on_object & smooth
    full = torch.zeros_like(mask_a)
    full[mask_a] = keep
    return Correspondence(full, grid[keep], points[keep])


def correspondences(views_: Sequence[View], pairs: Sequence[tuple[int, int]] | None = None,
                    tol: float = 1e-5) -> dict[tuple[int, int], Correspondence]:
    """:func:`correspondence` for pairs of views (default: every pair ``i < j`` that shares a point).

    Returns:
        ``{(i, j): Correspondence}``.
    """
    if pairs is None:
        pairs = [(i, j) for i in range(len(views_)) for j in range(i + 1, len(views_))]
    found = {(i, j): correspondence(views_[i], views_[j], tol) for i, j in pairs}
    return {k: c for k, c in found.items() if len(c) > 0}


def view_inconsistency(images: Sequence[torch.Tensor], corr: Mapping[tuple[int, int], Correspondence],
                       per_pair: bool = False):
    """How differently the views paint the same surface point: mean absolute colour difference.

    For every pair ``(i, j)`` and every surface point both see, the colour of
    its pixel in image ``i`` against the colour at its place in image ``j``
    (sampled bilinearly), averaged over the three channels and over all
    corresponding points of all pairs. The background never counts. 0 means
    every view shows every shared point in the same colour.

    Args:
        images: one ``(1, 3, H, W)`` per view, in the views' order.
        corr: from :func:`correspondences`.
        per_pair: also return ``{(i, j): value}``.

    Returns:
        A float (and the per-pair dict, with ``per_pair=True``).

    Example:
        >>> vs = views(3, size=32)
        >>> tex = torch.rand(1, 3, 16, 32)
        >>> view_inconsistency(render_views(tex, vs), correspondences(vs)) < 0.1
        True
    """
    if not corr:
        raise ValueError("no corresponding points: the views share no visible surface")
    total, count, pairs = 0.0, 0, {}
    for (i, j), c in corr.items():
        img_a, img_b = images[i].detach(), images[j].detach()
        colour_a = img_a[0][:, c.mask_a.to(img_a.device)]
        grid = c.grid_b.to(dtype=img_b.dtype, device=img_b.device).view(1, -1, 1, 2)
        colour_b = F.grid_sample(img_b, grid, mode="bilinear", align_corners=False).view(3, -1)
        diff = (colour_a - colour_b).abs().mean(0)
        pairs[(i, j)] = float(diff.mean())
        total += float(diff.sum())
        count += diff.numel()
    value = total / count
    return (value, pairs) if per_pair else value


def beach_ball(size: int | tuple[int, int] = (64, 128), stripes: int = 6) -> torch.Tensor:
    """A plain texture to start from: coloured stripes from pole to pole, white caps.

    On the sphere it is a beach ball; its stripes show at a glance where a
    view is looking, and where a method moves the paint.

    Args:
        size: ``(Ht, Wt)`` (an int: ``(size, 2·size)``, the 1:2 of an equirectangular map).
        stripes: how many gores around.

    Returns:
        ``(1, 3, Ht, Wt)`` in [0, 1].

    Example:
        >>> beach_ball((8, 16)).shape
        torch.Size([1, 3, 8, 16])
    """
    ht, wt = (size, 2 * size) if isinstance(size, int) else (int(size[0]), int(size[1]))
    palette = torch.tensor([[0.90, 0.20, 0.20], [0.98, 0.80, 0.20], [0.20, 0.60, 0.90],
                            [0.95, 0.55, 0.15], [0.25, 0.70, 0.35], [0.60, 0.35, 0.80]])
    u = (torch.arange(wt) + 0.5) / wt
    v = (torch.arange(ht) + 0.5) / ht
    colours = palette[(u * stripes).long() % len(palette)]            # (Wt, 3)
    tex = colours.T[:, None, :].expand(3, ht, wt).clone()
    cap = (v < 0.12) | (v > 0.88)
    tex[:, cap, :] = 0.95
    return tex[None].contiguous()


@dataclass
class TextureResult:
    """What :func:`stylize_texture` returns.

    Attributes:
        texture: the stylised texture ``(1, 3, Ht, Wt)`` on the CPU.
        history: the run's :class:`~styletut.optim.History` (losses averaged over the views).
        images: the stylised texture rendered in each view, ``(1, 3, H, W)`` each, on the CPU.
    """

    texture: torch.Tensor
    history: History
    images: list[torch.Tensor]


def _net_and_device(net, device) -> tuple[VGG19Features, torch.device]:
    opts = StylizeOptions()
    if net is None:
        device = resolve_device(device)
        net = VGG19Features(list(dict.fromkeys(opts.content_layers + opts.style_layers)), device=device)
    else:
        device = next(net.parameters()).device
    return net, device


def _objectives(net, style_img, plain_images, views_, content_weight, style_weight, device):
    """One :class:`StyleObjective` per view: content from the plain render, style inside the object only."""
    opts = StylizeOptions()
    style_img = style_img.to(device)
    return [StyleObjective(net, img.to(device), style_img, opts.content_layers, opts.style_layers,
                           content_weight=content_weight, style_weight=style_weight,
                           style_masks=[v.mask.to(device)])
            for img, v in zip(plain_images, views_)]


def stylize_texture(style_img: torch.Tensor, views_: Sequence[View], texture: torch.Tensor, *,
                    num_steps: int = 40, optimizer: str = "lbfgs", lr: float | None = None,
                    content_weight: float | None = None, style_weight: float | None = None,
                    background: float = 0.5, net: VGG19Features | None = None, device="auto",
                    progress: bool = False) -> TextureResult:
    """Stylise one texture through many views (Mordvintsev et al. 2018; losses of Gatys et al. 2016).

    The objective is the mean over views of the style-transfer objective
    ``J_v`` of each rendered view: its style term compares the view's Gram
    matrices, inside the object only (guided statistics, the object's mask as
    the region), with the style image's; its content term keeps the view close
    to the plain object's render in that view (the texture's layout stays).
    Every view's gradient reaches the one texture through :func:`render`, and
    ``styletut.optim.run`` moves the texels, kept in [0, 1].

    Args:
        style_img: ``(1, 3, h, w)`` in [0, 1].
        views_: the :class:`View` list to optimise through.
        texture: the plain texture ``(1, 3, Ht, Wt)``: the start, and through
            its renders the content target.
        num_steps: objective evaluations (each renders and scores every view).
        optimizer, lr: as for :func:`styletut.optim.run`.
        content_weight: α (``None``: :class:`~styletut.options.StylizeOptions`'s).
        style_weight: β (``None``: :class:`~styletut.options.StylizeOptions`'s).
        background: grey level behind the object.
        net: a :class:`~styletut.features.VGG19Features` with the default
            content and style layers (built here when ``None``).
        device: where to run (``"auto"``; with ``net``, the net's device).
        progress: show a progress bar.

    Returns:
        A :class:`TextureResult`.

    Example:
        >>> vs = views(3, size=64)                                                # doctest: +SKIP
        >>> result = stylize_texture(procedural("swirls", 64), vs, beach_ball(32), num_steps=5)  # doctest: +SKIP
        >>> result.texture.shape                                                  # doctest: +SKIP
        torch.Size([1, 3, 32, 64])
    """
    _check_texture(texture)
    opts = StylizeOptions()
    content_weight = opts.content_weight if content_weight is None else content_weight
    style_weight = opts.beta if style_weight is None else style_weight
    net, device = _net_and_device(net, device)
    views_ = [v.to(device) for v in views_]
    start = texture.detach().to(device)
    with torch.no_grad():
        plain = render_views(start, views_, background=background)
    objectives = _objectives(net, style_img, plain, views_, content_weight, style_weight, device)

    def objective(tex, generator=None):
        parts: dict[str, torch.Tensor] = {}
        for v, obj in zip(views_, objectives):
            for k, val in obj(render(tex, v, background=background)).items():
                parts[k] = parts.get(k, 0) + val / len(views_)
        return parts

    synth_tex = start.clone(memory_format=torch.contiguous_format)  # the optimiser views it flat
    history = run(objective, synth_tex, optimizer, lr, num_steps, progress=progress, desc="texture (all views)")
    with torch.no_grad():
        images = [img.cpu() for img in render_views(history.best_image, views_, background=background)]
    return TextureResult(history.best_image.cpu(), history, images)


def stylize_views_separately(style_img: torch.Tensor, views_: Sequence[View], texture: torch.Tensor, *,
                             num_steps: int = 40, optimizer: str = "lbfgs", lr: float | None = None,
                             content_weight: float | None = None, style_weight: float | None = None,
                             background: float = 0.5, net: VGG19Features | None = None, device="auto",
                             progress: bool = False) -> tuple[list[torch.Tensor], list[History]]:
    """The baseline: render the plain object in each view, then stylise each picture on its own.

    The same objective as :func:`stylize_texture` for each view, but the
    parameter is each view's pixels (2D style transfer, Gatys et al. 2016,
    started from the plain render), not a shared texture. The result is
    composited back onto the background with the view's mask, so only the
    object is stylised. Same settings, same budget per view: every argument
    means what it means for :func:`stylize_texture`.

    Returns:
        ``(images, histories)``: one ``(1, 3, H, W)`` (CPU) and one
        :class:`~styletut.optim.History` per view.
    """
    _check_texture(texture)
    opts = StylizeOptions()
    content_weight = opts.content_weight if content_weight is None else content_weight
    style_weight = opts.beta if style_weight is None else style_weight
    net, device = _net_and_device(net, device)
    views_ = [v.to(device) for v in views_]
    with torch.no_grad():
        plain = render_views(texture.detach().to(device), views_, background=background)
    objectives = _objectives(net, style_img, plain, views_, content_weight, style_weight, device)
    out, histories = [], []
    for k, (img, v, obj) in enumerate(zip(plain, views_, objectives)):
        synth_img = img.clone(memory_format=torch.contiguous_format)
        hist = run(obj, synth_img, optimizer, lr, num_steps, progress=progress,
                   desc=f"view {k + 1}/{len(views_)} alone")
        painted = hist.best_image * v.mask + background * (1 - v.mask)
        out.append(painted.cpu())
        histories.append(hist)
    return out, histories


def view_style_losses(images: Sequence[torch.Tensor], style_img: torch.Tensor, views_: Sequence[View],
                      net: VGG19Features | None = None, device="auto") -> list[float]:
    """Each view's style loss ``L_style`` against ``style_img``, inside the object only.

    The style term of :func:`stylize_texture`'s objective without its weight
    β (relative Gram mismatch over the default style layers, the view's
    mask as the region), so the two methods are scored alike.

    Returns:
        One float per view.
    """
    net, device = _net_and_device(net, device)
    opts = StylizeOptions()
    style_img = style_img.to(device)
    losses, made = [], []  # made: (mask, objective); views with the same mask share one
    with torch.no_grad():
        for img, v in zip(images, views_):
            mask = v.mask.to(device)
            obj = next((o for m, o in made if torch.equal(m, mask)), None)
            if obj is None:
                obj = StyleObjective(net, None, style_img, (), opts.style_layers, content_weight=0.0,
                                     style_weight=1.0, style_masks=[mask])
                made.append((mask, obj))
            losses.append(float(obj(img.to(device))["style"]))
    return losses


def turntable(texture: torch.Tensor, n_frames: int = 24, elevation: float = 20.0, size: int = 128,
              shape: str = "sphere", background: float = 0.5, **kwargs) -> torch.Tensor:
    """The textured object turning once around its vertical axis.

    The camera circles the object under the world-fixed light, so the light
    stays put while the object seems to turn.

    Args:
        texture: ``(1, 3, Ht, Wt)``.
        n_frames: frames for one full turn.
        elevation, size, shape: as for :func:`views` (``**kwargs`` too).
        background: grey level behind the object.

    Returns:
        ``(T, 3, H, W)`` on the texture's device, in [0, 1].

    Example:
        >>> turntable(beach_ball(16), n_frames=4, size=32).shape
        torch.Size([4, 3, 32, 32])
    """
    with torch.no_grad():
        frames = render_views(texture.detach(), views(n_frames, elevation, size, shape, **kwargs),
                              background=background)
    return torch.cat(frames).clamp(0, 1)


def gif_bytes(frames: torch.Tensor, fps: float = 12.0) -> bytes:
    """An animated GIF (looping) of ``frames`` ``(T, 3, H, W)`` in [0, 1], made with Pillow.

    Each frame is quantised to its own 256-colour palette (GIF's limit).

    Example:
        >>> gif_bytes(torch.rand(3, 3, 8, 8))[:6]
        b'GIF89a'
    """
    from PIL import Image

    if frames.dim() != 4 or frames.shape[1] != 3 or frames.shape[0] < 1:
        raise ValueError(f"frames must be (T, 3, H, W) with T >= 1, got {tuple(frames.shape)}")
    arrays = (frames.detach().clamp(0, 1).permute(0, 2, 3, 1).cpu().numpy() * 255 + 0.5).astype(np.uint8)
    pics = [Image.fromarray(a).quantize(colors=256, method=Image.Quantize.MEDIANCUT) for a in arrays]
    buf = io.BytesIO()
    pics[0].save(buf, format="GIF", save_all=True, append_images=pics[1:], duration=round(1000 / fps),
                 loop=0, optimize=True)
    return buf.getvalue()


def show_gif(frames: torch.Tensor, fps: float = 12.0):
    """An ``IPython.display.Image`` of :func:`gif_bytes`: it plays inline in a notebook, and the
    book (myst-nb) writes it as a local ``.gif`` file next to the page, so it plays offline too."""
    from IPython.display import Image

    return Image(data=gif_bytes(frames, fps), format="gif")
