"""Keeping the photo's colours: luminance-only transfer, or recolouring the style first.

A plain transfer copies the style image's colours along with its strokes.
Gatys et al. 2017 ("Controlling Perceptual Factors in Neural Style Transfer")
give two ways to keep the content photo's colours instead; both are here.

- **Luminance-only transfer.** Split colour into luminance ``Y`` (how bright)
  and chrominance ``I, Q`` (which hue) with the NTSC YIQ transform. Transfer
  the style between grey images: the content's luminance, and the style's
  luminance rescaled to the content's mean and spread
  (:func:`match_luminance`), both shown to the network as grey RGB
  (:func:`luminance_image`). Then put the result's luminance under the
  content's chrominance (:func:`keep_luminance`).
- **Colour matching before transfer** (:func:`match_colour`). Recolour the
  style image so its colour statistics are the content's, then transfer as
  usual: ``"meancov"`` matches the pixel mean and covariance with an affine
  map, ``"histogram"`` matches each RGB channel's histogram exactly.

Every function takes ``(B, 3, H, W)`` float tensors (the course uses
``B = 1``) with values in [0, 1], works on their device, and returns their
dtype; statistics are computed in float64, where float32 would lose digits.

Introduced in notebooks/10_controls.ipynb
"""

from __future__ import annotations

import torch

from .names import COLOUR_MODES

__all__ = ["COLOUR_METHODS", "rgb_to_yiq", "yiq_to_rgb", "luminance", "luminance_image",
           "match_luminance", "keep_luminance", "match_colour"]

# The colour modes that recolour the style image before transfer; the others
# ("none", "luminance") are not recolourings. Derived from the one vocabulary in
# styletut.names so the two lists cannot drift apart.
COLOUR_METHODS = tuple(m for m in COLOUR_MODES if m not in ("none", "luminance"))

# NTSC YIQ, FCC coefficients. Y weights green most because the eye is most
# sensitive to it; the I and Q rows sum to 0, so every grey (R = G = B) has
# I = Q = 0, and a grey image Y·(1, 1, 1) has luminance exactly Y.
_RGB_TO_YIQ = torch.tensor([[0.299, 0.587, 0.114],
                            [0.5959, -0.2746, -0.3213],
                            [0.2115, -0.5227, 0.3112]], dtype=torch.float64)
# The true inverse, computed once in float64: the rounded inverse usually
# published (1, 0.956, 0.621, ...) would make the round trip off by up to 1.3e-3.
_YIQ_TO_RGB = torch.linalg.inv(_RGB_TO_YIQ)

# Added to the style covariance's eigenvalues before the inverse square root:
# a flat-colour (or grey) style has a singular covariance, whose inverse root
# does not exist. 1e-10 is a variance far below one 8-bit level's rounding
# noise ((1/255)² / 12 ≈ 1.3e-6), so a real image's map changes by ~1e-10/λ.
_EPS = 1e-10


# ----------------------------------------------------------------------------- checks


def _check_image(img: torch.Tensor, name: str, what: str = "RGB image in [0, 1]") -> None:
    """Raise with the problem and the fix unless ``img`` is a finite float ``(B, 3, H, W)`` tensor."""
    if not isinstance(img, torch.Tensor):
        raise TypeError(f"{name} must be a torch.Tensor, got {type(img).__name__}; "
                        f"pass a (B, 3, H, W) float {what} (styletut.images.load_image gives one)")
    shape = tuple(img.shape)
    if img.dim() != 4 or shape[1] != 3:
        hint = "; add the batch axis with img.unsqueeze(0)" if img.dim() == 3 and shape[0] == 3 else ""
        raise ValueError(f"{name} has shape {shape}; pass a (B, 3, H, W) {what}{hint}")
    if shape[2] == 0 or shape[3] == 0:
        raise ValueError(f"{name} has shape {shape}, with no pixels; pass an image with H, W >= 1")
    if not img.is_floating_point():
        raise TypeError(f"{name} has dtype {img.dtype}; pass a float {what}, e.g. img.float() / 255")
    if not torch.isfinite(img).all():
        raise ValueError(f"{name} contains NaN or infinite values; pass finite values "
                         "(check how the image was made, e.g. an optimiser that diverged)")


def _check_pair(style: torch.Tensor, content: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Check both images and broadcast a batch of 1 against the other's batch size."""
    _check_image(style, "style")
    _check_image(content, "content")
    if style.device != content.device:
        raise ValueError(f"style is on {style.device} and content on {content.device}; "
                         "move both to one device with .to(device)")
    bs, bc = style.shape[0], content.shape[0]
    if bs != bc and 1 not in (bs, bc):
        raise ValueError(f"style has batch size {bs} and content {bc}; pass equal batch sizes, "
                         "or a batch of 1 for one of them to pair it with every image of the other")
    b = max(bs, bc)
    return style.expand(b, -1, -1, -1), content.expand(b, -1, -1, -1)


# ----------------------------------------------------------------------------- YIQ


def _mix_channels(matrix: torch.Tensor, img: torch.Tensor) -> torch.Tensor:
    """``matrix @ pixel`` at every pixel of ``(B, 3, H, W)``, in ``img``'s device and dtype."""
    return torch.einsum("ij,bjhw->bihw", matrix.to(device=img.device, dtype=img.dtype), img)


def rgb_to_yiq(img: torch.Tensor) -> torch.Tensor:
    """RGB to NTSC YIQ: luminance ``Y`` and chrominance ``I`` (orange-blue), ``Q`` (purple-green).

    ``Y = 0.299 R + 0.587 G + 0.114 B``, ``I = 0.5959 R − 0.2746 G − 0.3213 B``,
    ``Q = 0.2115 R − 0.5227 G + 0.3112 B``. A linear map, so it is differentiable
    and exactly undone by :func:`yiq_to_rgb`.

    Args:
        img: ``(B, 3, H, W)`` RGB, float.

    Returns:
        ``(B, 3, H, W)``: ``Y`` in [0, 1] for RGB in [0, 1]; ``I``, ``Q`` of either sign
        (0 for greys).

    Raises:
        TypeError, ValueError: ``img`` is not a finite float ``(B, 3, H, W)`` tensor.

    Example:
        >>> white = torch.ones(1, 3, 1, 1, dtype=torch.float64)
        >>> torch.allclose(rgb_to_yiq(white).flatten(), torch.tensor([1.0, 0.0, 0.0], dtype=torch.float64))
        True

    Introduced in notebooks/10_controls.ipynb
    """
    _check_image(img, "img")
    return _mix_channels(_RGB_TO_YIQ, img)


def yiq_to_rgb(yiq: torch.Tensor) -> torch.Tensor:
    """YIQ back to RGB: the exact inverse of :func:`rgb_to_yiq`.

    It does **not** clamp. Mixing one image's ``Y`` with another's ``I, Q`` can
    ask for colours outside the RGB cube (bright luminance with a saturated
    hue), and whether to clamp, rescale or keep those values for further
    arithmetic is the caller's decision; :func:`keep_luminance` clamps.

    Args:
        yiq: ``(B, 3, H, W)`` float, channels ``Y, I, Q``.

    Returns:
        ``(B, 3, H, W)`` RGB, possibly outside [0, 1].

    Raises:
        TypeError, ValueError: ``yiq`` is not a finite float ``(B, 3, H, W)`` tensor.

    Example:
        >>> img = torch.linspace(0, 1, 48, dtype=torch.float64).reshape(1, 3, 4, 4)
        >>> torch.allclose(yiq_to_rgb(rgb_to_yiq(img)), img)
        True

    Introduced in notebooks/10_controls.ipynb
    """
    _check_image(yiq, "yiq", what="YIQ tensor (channels Y, I, Q)")
    return _mix_channels(_YIQ_TO_RGB, yiq)


def luminance(img: torch.Tensor) -> torch.Tensor:
    """The luminance ``Y = 0.299 R + 0.587 G + 0.114 B`` of each pixel.

    Args:
        img: ``(B, 3, H, W)`` RGB, float.

    Returns:
        ``(B, 1, H, W)``.

    Raises:
        TypeError, ValueError: ``img`` is not a finite float ``(B, 3, H, W)`` tensor.

    Example:
        >>> red = torch.tensor([1.0, 0.0, 0.0]).view(1, 3, 1, 1)
        >>> round(luminance(red).item(), 6)
        0.299

    Introduced in notebooks/10_controls.ipynb
    """
    return rgb_to_yiq(img)[:, :1]


def luminance_image(img: torch.Tensor) -> torch.Tensor:
    """A grey RGB image with ``img``'s luminance: ``Y`` copied to R, G and B.

    The network reads RGB, so luminance-only transfer shows it grey images; this
    is the image the optimiser paints in that mode. Its own luminance is ``Y``
    again and its chrominance is 0 (the I and Q rows of YIQ sum to 0).

    Args:
        img: ``(B, 3, H, W)`` RGB, float.

    Returns:
        ``(B, 3, H, W)`` with three equal channels.

    Raises:
        TypeError, ValueError: ``img`` is not a finite float ``(B, 3, H, W)`` tensor.

    Example:
        >>> grey = luminance_image(torch.linspace(0, 1, 48).reshape(1, 3, 4, 4))
        >>> grey.shape, bool((grey[:, 0] == grey[:, 2]).all())
        (torch.Size([1, 3, 4, 4]), True)

    Introduced in notebooks/10_controls.ipynb
    """
    # repeat, not expand: callers optimise or edit this image in place.
    return luminance(img).repeat(1, 3, 1, 1)


def match_luminance(style: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The style's luminance, shifted and scaled to the content's mean and spread, as a grey image.

    The step Gatys et al. 2017 take before luminance-only transfer:
    ``Y_s' = σ_c / σ_s · (Y_s − μ_s) + μ_c``, with ``μ``, ``σ`` each image's mean
    and (population) standard deviation of ``Y``. Without it a dark style would
    darken the photo, since the optimiser copies the style's brightness too.
    The result is clamped to [0, 1], which moves ``μ`` and ``σ`` slightly where
    it clips (a high-contrast content with a long-tailed style). A flat style
    (``σ_s = 0``) has no spread to scale: it becomes the content's mean grey.

    Args:
        style: ``(B, 3, H, W)`` RGB in [0, 1].
        content: ``(B', 3, H', W')`` RGB in [0, 1]; sizes may differ, and a batch
            of 1 pairs with every image of the other argument.

    Returns:
        ``(B, 3, H, W)``, three equal channels, in [0, 1], in ``style``'s dtype.

    Raises:
        TypeError, ValueError: an argument is not a finite float ``(B, 3, H, W)``
        tensor, the two are on different devices, or their batch sizes do not pair.

    Example:
        >>> style = torch.linspace(0, 0.5, 192).reshape(1, 3, 8, 8)  # dark
        >>> photo = torch.linspace(0.4, 1, 108).reshape(1, 3, 6, 6)  # bright
        >>> grey_style = match_luminance(style, photo)
        >>> grey_style.shape
        torch.Size([1, 3, 8, 8])
        >>> bool(abs(luminance(grey_style).mean() - luminance(photo).mean()) < 1e-6)  # as bright as the photo
        True

    Introduced in notebooks/10_controls.ipynb
    """
    style, content = _check_pair(style, content)
    y_s = luminance(style.double())
    y_c = luminance(content.double())
    mu_s, sd_s = y_s.mean((1, 2, 3), keepdim=True), y_s.std((1, 2, 3), correction=0, keepdim=True)
    mu_c, sd_c = y_c.mean((1, 2, 3), keepdim=True), y_c.std((1, 2, 3), correction=0, keepdim=True)
    # A flat style's σ is 0 (or rounding noise): scale its (zero) deviations by 0, not by σ_c / 0.
    scale = torch.where(sd_s > 1e-12, sd_c / sd_s.clamp_min(1e-12), torch.zeros_like(sd_s))
    y = ((y_s - mu_s) * scale + mu_c).clamp(0.0, 1.0)
    return y.repeat(1, 3, 1, 1).to(style.dtype)


def keep_luminance(result: torch.Tensor, content: torch.Tensor) -> torch.Tensor:
    """The result's luminance under the content's colours: the last step of luminance-only transfer.

    Takes ``Y`` from ``result`` and ``I, Q`` from ``content``, converts back to
    RGB and clamps to [0, 1]: a bright stroke over a saturated part of the
    photo can ask for a colour outside the RGB cube, and clamping is the
    choice made here (where it clips, ``Y``, ``I`` and ``Q`` move slightly).

    Args:
        result: ``(B, 3, H, W)`` the stylised image (grey or not; only its ``Y`` is used).
        content: the photo, the same shape (resize it with
            ``styletut.images.resize`` first if needed).

    Returns:
        ``(B, 3, H, W)`` RGB in [0, 1], in ``result``'s dtype.

    Raises:
        TypeError, ValueError: an argument is not a finite float ``(B, 3, H, W)``
        tensor, or the shapes or devices differ.

    Example:
        >>> stylised = torch.linspace(0, 1, 192).reshape(1, 3, 8, 8)
        >>> photo = torch.linspace(1, 0, 192).reshape(1, 3, 8, 8)
        >>> out = keep_luminance(stylised, photo)
        >>> bool(out.min() >= 0 and out.max() <= 1)
        True

    Introduced in notebooks/10_controls.ipynb
    """
    _check_image(result, "result")
    _check_image(content, "content")
    if result.shape != content.shape:
        raise ValueError(f"keep_luminance needs result and content of one shape, got {tuple(result.shape)} "
                         f"and {tuple(content.shape)}; resize the content to the result's size first "
                         "(styletut.images.resize(content, (H, W)))")
    if result.device != content.device:
        raise ValueError(f"result is on {result.device} and content on {content.device}; "
                         "move both to one device with .to(device)")
    # float64: the two may differ in dtype, and the output's I, Q should be the content's to the last digit.
    y = rgb_to_yiq(result.double())[:, :1]
    iq = rgb_to_yiq(content.double())[:, 1:]
    return yiq_to_rgb(torch.cat([y, iq], dim=1)).clamp(0.0, 1.0).to(result.dtype)


# ----------------------------------------------------------------------------- recolouring the style


def match_colour(style: torch.Tensor, content: torch.Tensor, method: str = "meancov") -> torch.Tensor:
    """Recolour the style image with the content's colours, before transfer (Gatys et al. 2017).

    The pixels of each image are treated as a cloud of points in RGB space.

    - ``"meancov"``: the affine map ``x ↦ A x + b`` that gives the style's
      pixels the content's mean ``μ_c`` and 3×3 covariance ``Σ_c``, with
      ``A = Σ_c^{1/2} Σ_s^{-1/2}`` (symmetric square roots, from
      ``torch.linalg.eigh``) and ``b = μ_c − A μ_s``. Covariances are the
      population ones (divide by the pixel count). ``Σ_s`` gets ``1e-10·I``
      added before the inverse root, since a flat-colour or grey style has a
      singular covariance: such a style cannot gain variation it lacks, so a
      flat style becomes the content's mean colour and a grey one stays
      along one line of colours.
    - ``"histogram"``: each RGB channel of the style gets the same channel's
      histogram from the content, by quantile mapping: the k-th smallest of
      ``N`` style values becomes the content's quantile at ``k / (N − 1)``
      (linear interpolation between the content's sorted values, as
      ``numpy.quantile`` does), so with equal pixel counts each channel takes
      exactly the content's values, in the style's order. Tied style values
      (flat areas; 8-bit images have at most 256 levels) stay tied: they share
      the quantile at their average rank, deterministically on every device,
      so a style with ties matches the histogram a little less than exactly.
      This matches each channel's **marginal** distribution, not the joint
      distribution of colours: the three channels are matched separately, so
      the result can contain colour combinations neither image has, and its
      covariance between channels is not the content's in general.

    The ``"meancov"`` result is clamped to [0, 1], which moves its statistics
    where the map sends pixels outside the RGB cube (a style with far more
    contrast than the photo); ``"histogram"`` needs no clamp, as its values are
    mixtures of neighbouring content values.

    Args:
        style: ``(B, 3, H, W)`` RGB in [0, 1], the image to recolour.
        content: ``(B', 3, H', W')`` RGB in [0, 1]; sizes may differ, and a batch of
            1 pairs with every image of the other argument.
        method: one of :data:`COLOUR_METHODS`.

    Returns:
        ``(B, 3, H, W)`` the recoloured style, in ``style``'s dtype.

    Raises:
        ValueError: unknown ``method``; an argument is not a finite float
        ``(B, 3, H, W)`` tensor (TypeError for a non-tensor or an integer dtype),
        the two are on different devices, or their batch sizes do not pair.

    Example:
        >>> style = torch.linspace(0, 1, 192).reshape(1, 3, 8, 8)
        >>> photo = torch.linspace(0.2, 0.6, 108).reshape(1, 3, 6, 6)
        >>> match_colour(style, photo, method="histogram").shape
        torch.Size([1, 3, 8, 8])

    Introduced in notebooks/10_controls.ipynb
    """
    if method not in COLOUR_METHODS:
        raise ValueError(f"unknown colour method {method!r}; choose one of: {', '.join(COLOUR_METHODS)}")
    style, content = _check_pair(style, content)
    b, _, h, w = style.shape
    # Pixels as columns, (B, 3, N), in float64: covariances and sorts of many pixels lose digits in float32.
    s = style.double().reshape(b, 3, -1)
    c = content.double().reshape(b, 3, -1)
    out = _match_meancov(s, c).clamp(0.0, 1.0) if method == "meancov" else _match_histogram(s, c)
    return out.reshape(b, 3, h, w).to(style.dtype)


def _sym_power(cov: torch.Tensor, power: float, shift: float = 0.0) -> torch.Tensor:
    """``(cov + shift·I) ** power`` for symmetric PSD ``(B, 3, 3)``, through its eigendecomposition."""
    evals, evecs = torch.linalg.eigh(cov)
    # Rounding can make a zero eigenvalue slightly negative; a PSD matrix has none below 0.
    evals = (evals.clamp_min(0.0) + shift) ** power
    return evecs @ torch.diag_embed(evals) @ evecs.transpose(-1, -2)


def _match_meancov(s: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """``A (s − μ_s) + μ_c`` with ``A = Σ_c^{1/2} Σ_s^{-1/2}``; ``s``, ``c`` are ``(B, 3, N)`` pixels."""
    mu_s, mu_c = s.mean(-1, keepdim=True), c.mean(-1, keepdim=True)
    ds, dc = s - mu_s, c - mu_c
    cov_s = ds @ ds.transpose(-1, -2) / ds.shape[-1]
    cov_c = dc @ dc.transpose(-1, -2) / dc.shape[-1]
    # Then cov(A s) = Σ_c^{1/2} Σ_s^{-1/2} Σ_s Σ_s^{-1/2} Σ_c^{1/2} = Σ_c. Any A with A Σ_s Aᵀ = Σ_c
    # would do (Cholesky factors give another); the symmetric roots
    # come straight from eigh and need no positive-definite Σ_c.
    a = _sym_power(cov_c, 0.5) @ _sym_power(cov_s, -0.5, shift=_EPS)
    return a @ ds + mu_c


def _match_histogram(s: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Quantile-map every row (image, channel) of ``s`` ``(B, 3, N_s)`` onto the same row of ``c``."""
    out = torch.empty_like(s)
    # A loop over the B·3 rows: each is a few sorts, and tie groups differ from row to row.
    for i in range(s.shape[0]):
        for ch in range(3):
            out[i, ch] = _quantile_map(s[i, ch], c[i, ch])
    return out


def _quantile_map(s: torch.Tensor, c: torch.Tensor) -> torch.Tensor:
    """Each value of ``s`` (1-D) replaced by ``c``'s quantile at its (average) rank in ``s``."""
    n_s, n_c = s.numel(), c.numel()
    s_sorted, order = torch.sort(s, stable=True)
    k = torch.arange(n_s, device=s.device)
    # Each sorted value's tie group runs from its first to its last rank; the group
    # shares the average of the two, so equal style pixels stay equal.
    starts = torch.ones(n_s, dtype=torch.bool, device=s.device)
    starts[1:] = s_sorted[1:] != s_sorted[:-1]
    ends = torch.ones(n_s, dtype=torch.bool, device=s.device)
    ends[:-1] = starts[1:]
    first = torch.where(starts, k, 0).cummax(0).values
    last = torch.where(ends, k, n_s - 1).flip(0).cummin(0).values.flip(0)
    rank = (first + last).double() / 2
    # Rank r of n_s is quantile r / (n_s − 1), position r (n_c − 1) / (n_s − 1) among c's
    # sorted values (numpy.quantile's "linear" rule). With n_s = n_c the positions are whole
    # numbers and the values are exactly the content's. One pixel: the median.
    pos = rank * (n_c - 1) / (n_s - 1) if n_s > 1 else torch.full_like(rank, (n_c - 1) / 2)
    c_sorted = torch.sort(c).values
    lo = pos.floor().long().clamp(0, n_c - 1)
    hi = (lo + 1).clamp(max=n_c - 1)
    frac = pos - lo
    matched = c_sorted[lo] + frac * (c_sorted[hi] - c_sorted[lo])
    out = torch.empty_like(s)
    out[order] = matched
    return out
