"""Procedural "painting-like" style images, made with numpy and scipy.

No paintings ship with the course (they would need a download and a licence),
so these generated images stand in for them as style targets. Each one imitates
a family of artworks whose texture a style-transfer network can pick up:

- ``"swirls"``        Van Gogh-like brush strokes that swirl around vortices
- ``"stained_glass"`` a mosaic of coloured glass cells held by dark lead lines
- ``"pointillism"``   Seurat-like dots of pure colour on a light ground
- ``"mondrian"``      rectangles, thick black lines and a few primary colours
- ``"waves"``         Hokusai-like layered waves with foam crests

Every style is deterministic for a given ``seed`` and its features scale with
the image, so a 64 px and a 512 px image of the same seed look alike. Lengths
given as parameters (stroke length, dot radius, line width, ...) are in pixels
*of a 256 px image* and are scaled with the short side of the requested size.

Example:
    >>> from styletut.styles import list_procedural, procedural_array
    >>> list_procedural()
    ['mondrian', 'pointillism', 'stained_glass', 'swirls', 'waves']
    >>> procedural_array("swirls", size=(128, 192), seed=3).shape
    (128, 192, 3)
"""

from __future__ import annotations

import math
import numbers
from dataclasses import dataclass
from typing import Callable, Sequence, Union

import numpy as np
from scipy.spatial import cKDTree

__all__ = [
    "list_procedural",
    "procedural_array",
    "procedural_params",
    "procedural_param_ranges",
    "list_palettes",
    "PALETTES",
]

# Lengths in the parameters are pixels of an image whose short side is this.
_REFERENCE_SIZE = 256
_MIN_SIZE = 8
_MAX_SIZE = 4096
# Images whose short side is below this are rendered larger and downsampled.
_SUPERSAMPLE_BELOW = 128
_SUPERSAMPLE_MAX_SIDE = 2048

# Palettes are ordered dark -> light where a style maps a smooth value onto
# them (swirls, waves, pointillism); stained glass just draws from them.
PALETTES: dict[str, tuple[str, ...]] = {
    "starry_night": ("#0a1633", "#17336b", "#2a5ea8", "#4f8fd0", "#9cc3e0", "#e9e2a8", "#f4c842", "#e58f2a"),
    "sunset": ("#24103f", "#5b1a57", "#9c2755", "#d4434a", "#f07a3a", "#f8b24a", "#fde3a0"),
    "ocean": ("#03162b", "#0a3357", "#11577f", "#2186a5", "#4fb2c2", "#a7dcd9", "#eef6ef"),
    "forest": ("#142414", "#27431f", "#46672c", "#7d8f35", "#b8a748", "#e3cf86", "#f5ecc8"),
    "autumn": ("#2e1409", "#6b2410", "#a93a17", "#d9611f", "#ec9a2e", "#f5c95a", "#f8ebc0"),
    "jewel": ("#9b1027", "#d2362d", "#e98b1c", "#f2c230", "#2e8b3e", "#127a86", "#1d4fa3", "#5a2b8c", "#b83a8f"),
    "seurat": ("#1f3f8a", "#3a6cc4", "#6aaee0", "#45a89c", "#f0c845", "#ee923c", "#d95a3c", "#93c04c", "#4f9440", "#2a6236"),
    "hokusai": ("#0c1e3e", "#163a68", "#2b5b8c", "#5f88ad", "#a7bfcf", "#e9e1cb", "#f6f1e3"),
}


def list_palettes() -> list[str]:
    """Names of the built-in palettes, usable as the ``palette`` parameter.

    Returns:
        The palette names, sorted.

    Example:
        >>> "starry_night" in list_palettes()
        True
    """
    return sorted(PALETTES)


# --------------------------------------------------------------------------- helpers

Size = Union[int, Sequence[int]]


def _parse_size(size: Size) -> tuple[int, int]:
    def one(v, what: str) -> int:
        if isinstance(v, bool) or not isinstance(v, numbers.Integral):
            raise ValueError(f"size {what} must be a whole number of pixels, got {v!r}")
        v = int(v)
        if v < _MIN_SIZE:
            raise ValueError(f"size {what} must be at least {_MIN_SIZE} px, got {v}")
        if v > _MAX_SIZE:
            raise ValueError(f"size {what} must be at most {_MAX_SIZE} px, got {v}")
        return v

    if isinstance(size, (tuple, list)):
        if len(size) != 2:
            raise ValueError(f"size must be an int or a (height, width) pair, got {size!r}")
        return one(size[0], "height"), one(size[1], "width")
    if isinstance(size, (str, bytes, float)) or not isinstance(size, numbers.Integral) or isinstance(size, bool):
        raise ValueError(f"size must be an int or a (height, width) pair of ints, got {size!r}")
    s = one(size, "")
    return s, s


def _hex_to_rgb(c: str) -> np.ndarray:
    c = c.lstrip("#")
    if len(c) != 6:
        raise ValueError(f"colour '#{c}' is not of the form '#rrggbb'")
    return np.array([int(c[i : i + 2], 16) for i in (0, 2, 4)], dtype=np.float32) / 255.0


def _palette_colors(palette) -> np.ndarray:
    """Resolve a palette name or a list of colours into an (n, 3) float array."""
    if isinstance(palette, str):
        if palette not in PALETTES:
            raise ValueError(f"unknown palette '{palette}'; choose one of: {', '.join(list_palettes())}")
        palette = PALETTES[palette]
    try:
        cols = [_hex_to_rgb(c) if isinstance(c, str) else np.asarray(c, dtype=np.float32) for c in palette]
        arr = np.stack(cols).astype(np.float32)
    except (TypeError, ValueError) as err:
        raise ValueError(
            "palette must be a palette name or a list of '#rrggbb' strings / RGB triples in [0, 1]"
        ) from err
    if arr.ndim != 2 or arr.shape[1] != 3 or len(arr) < 2:
        raise ValueError("palette must hold at least 2 colours, each '#rrggbb' or an RGB triple in [0, 1]")
    if arr.min() < 0 or arr.max() > 1:
        raise ValueError("palette RGB triples must have values in [0, 1]")
    return arr


def _ramp(colors: np.ndarray, t: np.ndarray) -> np.ndarray:
    """Map values in [0, 1] onto a palette, interpolating between its colours."""
    n = len(colors)
    x = np.clip(t, 0.0, 1.0) * (n - 1)
    i = np.minimum(x.astype(np.intp), n - 2)
    f = (x - i)[..., None]
    return colors[i] * (1 - f) + colors[i + 1] * f


def _bspline_taps(n_out: int, cell: float, offset: float) -> tuple[np.ndarray, np.ndarray]:
    """Indices (n_out,) and weights (n_out, 4) of cubic B-spline interpolation on a 1-D grid."""
    u = np.arange(n_out, dtype=np.float32) / cell + offset
    i = np.floor(u).astype(np.intp)
    t = u - i
    w = np.stack(
        [(1 - t) ** 3 / 6, (3 * t**3 - 6 * t**2 + 4) / 6, (-3 * t**3 + 3 * t**2 + 3 * t + 1) / 6, t**3 / 6],
        axis=1,
    )
    return i - 1, w


def _smooth_noise(rng: np.random.Generator, h: int, w: int, features: float) -> np.ndarray:
    """Smooth random field in [0, 1] with about ``features`` blobs across the short side.

    A coarse random grid is interpolated with a cubic B-spline, one axis at a
    time (4 taps each), so the cost is a few passes over the image. The grid
    is padded so the taps never run off it.
    """
    cell = min(h, w) / max(features, 1e-3)
    gh, gw = int(math.ceil(h / cell)) + 4, int(math.ceil(w / cell)) + 4
    grid = rng.standard_normal((gh, gw), dtype=np.float32)
    iy, wy = _bspline_taps(h, cell, 1.5)
    rows = sum(grid[iy + k] * wy[:, k : k + 1] for k in range(4))  # (h, gw)
    ix, wx = _bspline_taps(w, cell, 1.5)
    f = sum(rows[:, ix + k] * wx[:, k] for k in range(4))  # (h, w)
    f -= f.min()
    return f / max(float(f.max()), 1e-12)


def _fractal_noise(rng, h, w, features: float, octaves: int = 3) -> np.ndarray:
    total = np.zeros((h, w), np.float32)
    amp, norm = 1.0, 0.0
    for o in range(octaves):
        total += amp * _smooth_noise(rng, h, w, features * 2**o)
        norm += amp
        amp *= 0.5
    return total / norm


def _canvas_grain(rng, h, w, amount: float = 0.04) -> np.ndarray:
    """Multiplicative canvas texture so flat areas still look hand-made."""
    weave = _smooth_noise(rng, h, w, _REFERENCE_SIZE / 1.5)
    return (1.0 + amount * (weave - 0.5) * 2.0)[..., None]


def _stretch(a: np.ndarray, lo: float = 1.0, hi: float = 99.0) -> np.ndarray:
    """Rescale to [0, 1] between two percentiles (robust to a few outliers)."""
    p0, p1 = np.percentile(a, [lo, hi])
    return np.clip((a - p0) / max(p1 - p0, 1e-6), 0.0, 1.0)


# --------------------------------------------------------------------------- swirls


def _swirls(rng, h, w, scale, *, stroke_length, stroke_width, num_vortices, palette):
    colors = _palette_colors(palette)
    m = min(h, w)
    yy, xx = np.mgrid[0:h, 0:w].astype(np.float32)

    # Vector field: a few Gaussian vortices (rotation around a centre) on top of
    # a gentle drift, bent by curl noise so strokes wander like a hand's.
    angle = rng.uniform(0, 2 * np.pi)
    vy = np.full((h, w), 0.3 * math.sin(angle), np.float32)
    vx = np.full((h, w), 0.3 * math.cos(angle), np.float32)
    for _ in range(num_vortices):
        cy, cx = rng.uniform(0, h), rng.uniform(0, w)
        r = rng.uniform(0.1, 0.25) * m
        spin = rng.choice([-1.0, 1.0]) * rng.uniform(0.8, 1.4)
        dy, dx = (yy - cy) / r, (xx - cx) / r
        g = spin * np.exp(-(dy * dy + dx * dx) * 0.5) * 1.6
        vy += g * dx
        vx -= g * dy
    psi = _smooth_noise(rng, h, w, 3.0)  # stream function -> divergence-free wiggle
    gy, gx = np.gradient(psi)
    curl = np.percentile(np.hypot(gy, gx), 90) + 1e-9
    vy += 0.4 * gx / curl
    vx -= 0.4 * gy / curl
    # Soft normalisation: strokes shorten where the flow is slow instead of
    # piling up into hard lines along the stagnation curves.
    speed = np.sqrt(vy * vy + vx * vx)
    norm = speed + 0.35 * np.median(speed) + 1e-6
    vy /= norm
    vx /= norm

    # Paint to smear: sparse blobs (where a brush touched) each carrying its own
    # shade offset, so strokes come out as separate dabs of different colours.
    cell = _REFERENCE_SIZE / stroke_width
    blobs = _smooth_noise(rng, h, w, cell / 1.2)
    paint = np.clip((blobs - 0.46) * 5.0, 0, 1)
    shade = _smooth_noise(rng, h, w, cell / 3.0)
    # Fine noise smeared the same way leaves bristle marks inside each stroke.
    bristle = _smooth_noise(rng, h, w, _REFERENCE_SIZE / 1.2)
    data = np.stack([vy, vx, paint, paint * shade, bristle], axis=-1).astype(np.float32)

    # Line-integral convolution: average the paint along each pixel's
    # streamline, both ways. A fixed step count (step length scaled with the
    # image) keeps the cost per pixel constant and the look size-independent.
    steps = 10
    step = stroke_length * scale / (2 * steps)
    acc = _lic(data, steps, step)
    # Sharpen the smeared paint into strokes with definite edges.
    cover = _stretch(acc[..., 0], 2, 99.5)
    cover = cover * cover * (3 - 2 * cover)
    tint = acc[..., 1] / np.maximum(acc[..., 0], 1e-4)

    # Colour: a smooth field picks each region's hue; each stroke shifts it by
    # its own tint, so neighbouring strokes differ like separately loaded brushes.
    region = _stretch(_fractal_noise(rng, h, w, 3.0, octaves=2), 0.5, 99.5)
    t = 0.08 + 0.8 * region + 0.5 * (tint - 0.5) * cover + 0.15 * (cover - 0.5)
    img = _ramp(colors, t)
    # Impasto: thick paint catches light, thin paint lets the ground darken it.
    bristle = _stretch(acc[..., 2], 1, 99)
    img *= (0.72 + 0.36 * cover + 0.14 * (bristle - 0.5))[..., None]
    return img * _canvas_grain(rng, h, w, 0.03)


def _lic(data: np.ndarray, steps: int, step: float) -> np.ndarray:
    """Line-integral convolution of data[..., 2:] along the field data[..., :2]."""
    h, w, c = data.shape
    flat = data.reshape(-1, c)
    y0 = np.repeat(np.arange(h, dtype=np.float32), w)
    x0 = np.tile(np.arange(w, dtype=np.float32), h)
    total = flat[:, 2:].copy()
    weight_sum = 1.0
    for direction in (step, -step):
        y, x, v = y0, x0, flat
        for k in range(1, steps + 1):
            y = np.clip(y + direction * v[:, 0], 0, h - 1.001)
            x = np.clip(x + direction * v[:, 1], 0, w - 1.001)
            v = _bilinear(flat, y, x, w)
            wk = 0.5 + 0.5 * math.cos(math.pi * k / (steps + 1))  # Hann taper
            total += wk * v[:, 2:]
            weight_sum += wk
    return (total / weight_sum).reshape(h, w, c - 2)


def _bilinear(flat: np.ndarray, y: np.ndarray, x: np.ndarray, w: int) -> np.ndarray:
    iy = y.astype(np.intp)
    ix = x.astype(np.intp)
    fy = (y - iy)[:, None]
    fx = (x - ix)[:, None]
    i = iy * w + ix
    # np.take is several times faster than fancy indexing for row gathers;
    # in-place arithmetic avoids temporaries in this hot loop.
    top = np.take(flat, i, axis=0)
    b = np.take(flat, i + 1, axis=0)
    b -= top
    b *= fx
    top += b
    bot = np.take(flat, i + w, axis=0)
    b = np.take(flat, i + w + 1, axis=0)
    b -= bot
    b *= fx
    bot += b
    bot -= top
    bot *= fy
    top += bot
    return top


# --------------------------------------------------------------------------- stained glass


def _stained_glass(rng, h, w, scale, *, num_cells, line_width, palette):
    colors = _palette_colors(palette)
    n = num_cells
    # Random seeds, evened out by two relaxation steps so cells have similar
    # sizes, as a glazier would cut them.
    pts = rng.uniform([0, 0], [h, w], size=(n, 2))
    pts = _relax(pts, h, w, iterations=2)
    tree = cKDTree(pts)
    yy, xx = np.mgrid[0:h, 0:w]
    pix = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float64)
    d, idx = tree.query(pix, k=2, workers=-1)
    a, b = pts[idx[:, 0]], pts[idx[:, 1]]
    # Distance to the bisector between the two nearest seeds = distance to the cell border.
    sep = np.linalg.norm(b - a, axis=1) + 1e-9
    border = (d[:, 1] ** 2 - d[:, 0] ** 2) / (2 * sep)
    border = border.reshape(h, w).astype(np.float32)
    label = idx[:, 0].reshape(h, w)

    # Neighbouring cells take different colours from the palette; a smooth
    # field biases them so larger areas share a mood (like a window's design).
    mood = _smooth_noise(rng, h, w, 2.0)
    cy = np.clip(pts[:, 0].astype(int), 0, h - 1)
    cx = np.clip(pts[:, 1].astype(int), 0, w - 1)
    k = len(colors)
    choice = (mood[cy, cx] * k * 0.8 + rng.integers(0, k, n) * 0.6).astype(int) % k
    cell_rgb = colors[choice] * rng.uniform(0.8, 1.1, (n, 1))
    cell_rgb = np.clip(cell_rgb + rng.normal(0, 0.04, (n, 3)), 0, 1)

    # Per-cell shading: light falls through each pane unevenly (a gradient in a
    # random direction) and glass darkens towards the lead.
    ang = rng.uniform(0, 2 * np.pi, n)
    gy, gx = np.sin(ang), np.cos(ang)
    cell_r = np.sqrt(h * w / n)
    rel = (yy - pts[label, 0]) * gy[label] + (xx - pts[label, 1]) * gx[label]
    shade = 1.0 + 0.22 * np.clip(rel / cell_r, -1, 1)
    shade *= 0.75 + 0.25 * np.clip(border / (0.35 * cell_r), 0, 1)
    streaks = _smooth_noise(rng, h, w, _REFERENCE_SIZE / 6)  # glass imperfections
    shade *= 0.92 + 0.16 * streaks
    img = cell_rgb[label] * shade[..., None]

    # Lead lines with soft edges and a faint highlight along their middle.
    lw = line_width * scale / 2
    lead = np.clip((lw + 0.75 - border) / 1.5, 0, 1)[..., None]
    lead_col = 0.06 + 0.08 * np.exp(-((border / max(lw * 0.5, 0.5)) ** 2))[..., None]
    return img * (1 - lead) + lead_col * lead


def _relax(pts: np.ndarray, h: int, w: int, iterations: int) -> np.ndarray:
    """Lloyd relaxation on a coarse grid: move each seed to its cell's centroid."""
    gs = max(1.0, min(h, w) / 96)
    ys, xs = np.mgrid[0:h:gs, 0:w:gs]
    grid = np.stack([ys.ravel(), xs.ravel()], axis=1)
    for _ in range(iterations):
        _, lab = cKDTree(pts).query(grid, workers=-1)
        cnt = np.bincount(lab, minlength=len(pts))
        ok = cnt > 0
        for j in range(2):
            s = np.bincount(lab, weights=grid[:, j], minlength=len(pts))
            pts[ok, j] = s[ok] / cnt[ok]
    return pts


# --------------------------------------------------------------------------- pointillism


def _pointillism(rng, h, w, scale, *, num_dots, dot_radius, palette):
    colors = _palette_colors(palette)
    k = len(colors)
    # Dot count given for a square image; keep density for other aspect ratios.
    n = max(1, int(num_dots * (h * w) / min(h, w) ** 2))

    # An underlying "scene": palette index flows from top (sky) to bottom
    # (grass) with smooth wobbles; each dot takes a nearby palette colour, so
    # neighbouring dots mix hues that the eye blends, as in divisionism.
    scene = _fractal_noise(rng, h, w, 2.0, octaves=2)
    down = np.linspace(0, 1, h, dtype=np.float32)[:, None]
    scene = np.clip(0.75 * down + 0.5 * (scene - 0.5) + 0.1, 0, 1)

    pts = rng.uniform([0, 0], [h, w], size=(n, 2))
    iy = np.clip(pts[:, 0].astype(int), 0, h - 1)
    ix = np.clip(pts[:, 1].astype(int), 0, w - 1)
    ci = np.rint(scene[iy, ix] * (k - 1) + rng.normal(0, 0.8, n)).astype(int)
    ci = np.clip(ci, 0, k - 1)
    # A few complementary accents anywhere, as Seurat scattered them.
    accent = rng.random(n) < 0.08
    ci[accent] = rng.integers(0, k, accent.sum())
    dot_rgb = colors[ci] * rng.uniform(0.9, 1.08, (n, 1))
    radii = dot_radius * scale * rng.uniform(0.7, 1.3, n)

    # Each pixel belongs to its nearest dot centre; it is painted if within
    # that dot's radius. Overlapping dots get cut along the bisector, which
    # reads as one dab pressed against another.
    tree = cKDTree(pts)
    yy, xx = np.mgrid[0:h, 0:w]
    pix = np.stack([yy.ravel(), xx.ravel()], axis=1).astype(np.float64)
    d, idx = tree.query(pix, k=1, workers=-1)
    rr = radii[idx]
    cover = np.clip((rr - d) / 0.9 + 0.5, 0, 1).reshape(h, w, 1).astype(np.float32)
    # Dabs are a bit lighter on one side: a round brush pressed at an angle.
    rel = ((pix[:, 0] - pts[idx, 0]) + (pix[:, 1] - pts[idx, 1])) / (rr * 1.4 + 1e-6)
    dab = (dot_rgb[idx] * (1.0 - 0.12 * rel)[:, None]).reshape(h, w, 3)

    ground = np.array([0.96, 0.93, 0.85], np.float32)
    ground_img = ground * (0.96 + 0.06 * _smooth_noise(rng, h, w, 6.0))[..., None]
    img = ground_img * (1 - cover) + dab * cover
    return img * _canvas_grain(rng, h, w, 0.04)


# --------------------------------------------------------------------------- mondrian


_MONDRIAN_COLORS = {
    "white": (0.95, 0.93, 0.87),
    "red": (0.80, 0.13, 0.11),
    "yellow": (0.98, 0.80, 0.13),
    "blue": (0.10, 0.22, 0.55),
    "black": (0.07, 0.07, 0.08),
    "grey": (0.80, 0.80, 0.78),
}


def _mondrian(rng, h, w, scale, *, depth, line_width, color_fraction):
    # Recursive splits in unit coordinates (fractions of height and width) so
    # the composition is the same at every size; only rasterising uses pixels.
    rects: list[tuple[float, float, float, float]] = []
    aspect = w / h

    def split(y0, x0, y1, x1, level):
        hh, ww = y1 - y0, (x1 - x0) * aspect  # sides in units of the height
        big = max(hh, ww) / max(1.0, aspect)
        # Big fields almost always split; small ones stop more often with depth,
        # which gives Mondrian's mix of a few large and many small rectangles.
        stop_p = 0.0 if big > 0.55 else min(0.9, 0.2 + 0.15 * level)
        if level >= depth or big < 0.1 or rng.random() < stop_p:
            rects.append((y0, x0, y1, x1))
            return
        # Cut across the longer side, mostly off-centre, as Mondrian did.
        horizontal = hh > ww if abs(hh - ww) > 0.2 * max(hh, ww) else rng.random() < 0.5
        f = rng.uniform(0.18, 0.4) if rng.random() < 0.5 else rng.uniform(0.6, 0.82)
        if horizontal:
            c = y0 + f * (y1 - y0)
            split(y0, x0, c, x1, level + 1)
            split(c, x0, y1, x1, level + 1)
        else:
            c = x0 + f * (x1 - x0)
            split(y0, x0, y1, c, level + 1)
            split(y0, c, y1, x1, level + 1)

    split(0.0, 0.0, 1.0, 1.0, 0)

    def px(v: float, n: int) -> int:
        return int(round(v * n))

    img = np.empty((h, w, 3), np.float32)
    img[:] = _MONDRIAN_COLORS["white"]
    # Colour a few cells, preferring middle-sized ones (a huge coloured field
    # or a sliver of colour both look wrong), cycling through the primaries so
    # each appears before any repeats.
    areas = np.array([(r[2] - r[0]) * (r[3] - r[1]) for r in rects])
    pref = np.sqrt(areas) * np.exp(-((areas / 0.12) ** 2))
    n_col = min(len(rects), int(round(color_fraction * len(rects))))
    if color_fraction > 0:
        n_col = max(1, n_col)
    chosen = rng.choice(len(rects), size=n_col, replace=False, p=pref / pref.sum())
    order = [str(c) for c in rng.permutation(["red", "yellow", "blue"])] * 2 + ["black", "grey"]
    for j, r in enumerate(chosen):
        y0, x0, y1, x1 = rects[r]
        img[px(y0, h) : px(y1, h), px(x0, w) : px(x1, w)] = _MONDRIAN_COLORS[order[j % len(order)]]

    # Thick black lines along every rectangle edge (edges are shared, so the
    # grid appears once), plus the frame.
    lw = max(1, int(round(line_width * scale)))
    lo, hi = lw // 2, lw - lw // 2
    black = _MONDRIAN_COLORS["black"]
    for y0, x0, y1, x1 in rects:
        ya, yb, xa, xb = px(y0, h), px(y1, h), px(x0, w), px(x1, w)
        img[max(0, ya - lo) : ya + hi, max(0, xa - lo) : xb + hi] = black
        img[max(0, yb - lo) : yb + hi, max(0, xa - lo) : xb + hi] = black
        img[max(0, ya - lo) : yb + hi, max(0, xa - lo) : xa + hi] = black
        img[max(0, ya - lo) : yb + hi, max(0, xb - lo) : xb + hi] = black
    # Paint texture so flat fields look brushed, not printed.
    brush = _smooth_noise(rng, h, w, _REFERENCE_SIZE / 4)
    return img * (0.97 + 0.05 * brush)[..., None] * _canvas_grain(rng, h, w, 0.03)


# --------------------------------------------------------------------------- waves


def _waves(rng, h, w, scale, *, num_waves, amplitude, palette):
    colors = _palette_colors(palette)
    yy = np.arange(h, dtype=np.float32)[:, None]
    xx = np.arange(w, dtype=np.float32)[None, :]
    m = min(h, w)
    horizon = rng.uniform(0.24, 0.36) * h

    # Sky: the palette's light end, darker towards the top, with faint
    # horizontal cloud bands (noise stretched sideways).
    clouds = _smooth_noise(rng, h, w, 4.0)[:, :1] + 0.5 * _smooth_noise(rng, h, w, 1.5)
    sky_t = 0.74 + 0.16 * (yy / horizon).clip(0, 1) + 0.06 * (clouds - 0.75)
    img = _ramp(colors, sky_t)

    # A small snow-capped mountain on the horizon, for the Hokusai reference.
    foam = _ramp(colors, np.ones(1, np.float32))[0]
    mx = rng.uniform(0.25, 0.75) * w
    peak = horizon - 0.12 * m
    slope = np.abs(xx - mx) / (0.3 * m)
    ridge = peak + (horizon - peak) * np.minimum(slope, 1) ** 0.7
    mountain = (yy >= ridge) & (slope < 1)
    snow_line = peak + 0.45 * (horizon - peak) + 0.008 * m * np.sin((xx - mx) / (0.012 * m))
    img = np.where(mountain[..., None], np.where((yy < snow_line)[..., None], foam, colors[2]), img)
    # A woodblock-print outline keeps the snow cap distinct from the pale sky.
    outline = mountain & (yy < ridge + max(1.0, 1.2 * scale))
    img = np.where(outline[..., None], colors[1], img)

    # Layers from far to near, each covering the ones behind it. Nearer waves
    # are taller, longer and darker, as in The Great Wave.
    for i in range(num_waves):
        depth = i / max(num_waves - 1, 1)  # 0 far .. 1 near
        base = horizon + 0.01 * h + (0.97 * h - horizon) * depth**1.2
        amp = amplitude * (0.02 + 0.2 * depth**1.5) * m
        wavelength = (0.12 + 0.5 * depth) * m * rng.uniform(0.8, 1.25)
        phase = rng.uniform(0, 2 * np.pi)
        theta = 2 * np.pi * xx / wavelength + phase
        # Peaked crests and wide troughs: raise a 0..1 sine to a power.
        crest = ((1 + np.sin(theta + 0.55 * np.sin(theta))) / 2) ** 3
        ripple = 0.12 * amp * np.sin(3.1 * theta + rng.uniform(0, 2 * np.pi))
        top = base - amp * crest + ripple
        d = yy - top  # depth below this wave's surface
        inside = d >= 0
        # Body: far waves lighter, each wave lighter near its crest.
        near_crest = np.clip(1 - d / (0.12 * m + amp), 0, 1)
        col_t = 0.5 - 0.42 * depth + 0.22 * near_crest * (0.3 + crest)
        body = _ramp(colors, col_t)
        # Hokusai's fine light lines running parallel to the surface.
        spacing = 0.035 * m * (0.5 + depth)
        lines = (np.cos(2 * np.pi * d / spacing) > 0.9) & (d > 0.025 * m) & (near_crest > 0.45)
        body = np.where(lines[..., None], body * 0.5 + colors[-2] * 0.5, body)
        # Foam on the crests: wider at peaks, ragged like claws.
        claws = 0.5 + 0.5 * np.sin(2 * np.pi * xx / (0.025 * m) + 2 * np.sin(3 * theta))
        foam_w = (0.005 + 0.035 * crest**2 * (0.4 + 0.6 * claws)) * m * (0.3 + depth)
        body = np.where((d < foam_w)[..., None], foam, body)
        img = np.where(inside[..., None], body, img)
    return img * _canvas_grain(rng, h, w, 0.04)


# --------------------------------------------------------------------------- registry


@dataclass(frozen=True)
class _Param:
    default: object
    low: float | None = None
    high: float | None = None


@dataclass(frozen=True)
class _Style:
    render: Callable[..., np.ndarray]
    params: dict[str, _Param]
    summary: str


_STYLES: dict[str, _Style] = {
    "swirls": _Style(
        _swirls,
        {
            "stroke_length": _Param(40.0, 4.0, 120.0),
            "stroke_width": _Param(2.5, 1.0, 10.0),
            "num_vortices": _Param(5, 0, 20),
            "palette": _Param("starry_night"),
        },
        "swirling brush strokes (line-integral convolution along vortices)",
    ),
    "stained_glass": _Style(
        _stained_glass,
        {
            "num_cells": _Param(140, 4, 3000),
            "line_width": _Param(3.0, 0.5, 12.0),
            "palette": _Param("jewel"),
        },
        "Voronoi glass cells separated by dark lead lines",
    ),
    "pointillism": _Style(
        _pointillism,
        {
            "num_dots": _Param(3000, 50, 40000),
            "dot_radius": _Param(3.0, 0.8, 12.0),
            "palette": _Param("seurat"),
        },
        "Seurat-like dots of pure colour on a light ground",
    ),
    "mondrian": _Style(
        _mondrian,
        {
            "depth": _Param(5, 1, 8),
            "line_width": _Param(6.0, 1.0, 20.0),
            "color_fraction": _Param(0.3, 0.0, 1.0),
        },
        "rectangles, thick black lines and a few primary colours",
    ),
    "waves": _Style(
        _waves,
        {
            "num_waves": _Param(7, 1, 20),
            "amplitude": _Param(1.0, 0.0, 3.0),
            "palette": _Param("hokusai"),
        },
        "Hokusai-like layered waves with foam crests",
    ),
}


def _get_style(name: str) -> _Style:
    if name not in _STYLES:
        raise ValueError(f"unknown procedural style {name!r}; choose one of: {', '.join(list_procedural())}")
    return _STYLES[name]


def _check_params(name: str, style: _Style, params: dict) -> dict:
    unknown = sorted(set(params) - set(style.params))
    if unknown:
        raise TypeError(
            f"unknown parameter{'s' if len(unknown) > 1 else ''} {', '.join(map(repr, unknown))} for procedural "
            f"style '{name}'; valid parameters: {', '.join(sorted(style.params))}"
        )
    out = {}
    for key, spec in style.params.items():
        v = params.get(key, spec.default)
        if key == "palette":
            _palette_colors(v)  # raises a ValueError that names the choices
        elif isinstance(spec.default, int):
            if isinstance(v, bool) or not isinstance(v, numbers.Integral):
                raise ValueError(f"{name} parameter '{key}' must be a whole number, got {v!r}")
            v = int(v)
        else:
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(v):
                raise ValueError(f"{name} parameter '{key}' must be a finite number, got {v!r}")
            v = float(v)
        if spec.low is not None and not (spec.low <= v <= spec.high):
            raise ValueError(f"{name} parameter '{key}' must be between {spec.low} and {spec.high}, got {v}")
        out[key] = v
    return out


# --------------------------------------------------------------------------- public API


def list_procedural() -> list[str]:
    """Names of the procedural style images.

    Returns:
        The style names, sorted alphabetically.

    Example:
        >>> list_procedural()
        ['mondrian', 'pointillism', 'stained_glass', 'swirls', 'waves']
    """
    return sorted(_STYLES)


def procedural_params(name: str) -> dict[str, object]:
    """Default parameters of one procedural style.

    Args:
        name: a style from :func:`list_procedural`.

    Returns:
        A new dict ``{parameter: default}``; lengths are pixels of a 256 px image.

    Raises:
        ValueError: ``name`` is not a known style (the message lists them).

    Example:
        >>> procedural_params("stained_glass")
        {'num_cells': 140, 'line_width': 3.0, 'palette': 'jewel'}
    """
    return {k: p.default for k, p in _get_style(name).params.items()}


def procedural_param_ranges(name: str) -> dict[str, tuple[float, float] | list[str]]:
    """Allowed values of each parameter of one style, for building sliders.

    Args:
        name: a style from :func:`list_procedural`.

    Returns:
        ``{parameter: (low, high)}`` for numbers (inclusive) and
        ``{"palette": [palette names]}`` for palettes.

    Example:
        >>> procedural_param_ranges("mondrian")["depth"]
        (1, 8)
    """
    out: dict[str, tuple[float, float] | list[str]] = {}
    for k, p in _get_style(name).params.items():
        out[k] = list_palettes() if k == "palette" else (p.low, p.high)
    return out


def procedural_array(name: str, size: Size = 256, seed: int = 0, **params) -> np.ndarray:
    """Generate a procedural painting-like style image.

    Args:
        name: one of :func:`list_procedural`.
        size: an int for a square image or a ``(height, width)`` pair; each
            side between 8 and 4096 px.
        seed: random seed; the same seed gives the identical image.
        **params: style parameters overriding the defaults from
            :func:`procedural_params` (lengths are pixels of a 256 px image and
            scale with the image; ``palette`` is a name from
            :func:`list_palettes` or a list of ``'#rrggbb'`` colours).

    Returns:
        A float32 array of shape ``(H, W, 3)`` with values in [0, 1].

    Raises:
        ValueError: unknown style, bad size or a parameter value out of range.
        TypeError: a parameter the style does not have (the message lists the valid ones).

    Example:
        >>> img = procedural_array("mondrian", size=(96, 128), seed=2, depth=4)
        >>> img.shape, img.dtype
        ((96, 128, 3), dtype('float32'))
    """
    style = _get_style(name)
    h, w = _parse_size(size)
    values = _check_params(name, style, params)
    rng = np.random.default_rng(seed)
    # Small images are drawn larger and averaged down: thin lines and dots
    # then blend into their neighbours instead of aliasing into noise.
    k = max(1, min(math.ceil(_SUPERSAMPLE_BELOW / min(h, w)), _SUPERSAMPLE_MAX_SIDE // max(h, w)))
    H, W = h * k, w * k
    img = style.render(rng, H, W, min(H, W) / _REFERENCE_SIZE, **values)
    img = np.clip(img, 0.0, 1.0).astype(np.float32)
    if k > 1:
        img = img.reshape(h, k, w, k, 3).mean(axis=(1, 3))
    return np.ascontiguousarray(img, dtype=np.float32)
