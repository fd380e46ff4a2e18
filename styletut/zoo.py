"""The trained networks that ship with the course: find them, load them (checked), run them.

Two kinds of one-pass network live in ``styletut/models/``:

- ``"fast"``: an image transformation network for one style
  (:mod:`styletut.fastnet`, Johnson et al. 2016): ``run(model, photo)``;
- ``"adain"``: an AdaIN decoder that takes any style image
  (:mod:`styletut.adain`, Huang & Belongie 2017): ``run(model, photo, style)``.

:func:`list_models` names them; :func:`load_model` reads one after checking
its sha256 against the hash recorded here, so a changed or damaged file is
refused instead of producing garbage. Each entry says how the file was made
(``make train-fast`` / ``make train-adain`` retrain them).

Introduced in notebooks/11_fast_networks.ipynb
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

__all__ = ["ModelInfo", "list_models", "model_info", "load_model", "run", "MODEL_DIR"]

MODEL_DIR = Path(__file__).resolve().parent / "models"


@dataclass(frozen=True)
class ModelInfo:
    """One shipped network.

    Attributes:
        name: what :func:`load_model` takes.
        kind: ``"fast"`` (one style) or ``"adain"`` (any style).
        file: the file's name in :data:`MODEL_DIR`.
        sha256: the file's hash; :func:`load_model` refuses any other.
        trained: how it was made, in a sentence.
    """

    name: str
    kind: str
    file: str
    sha256: str
    trained: str

    @property
    def path(self) -> Path:
        return MODEL_DIR / self.file


_MODELS = {m.name: m for m in [
    ModelInfo("fast-swirls", "fast", "fast-swirls.pt",
              "a807969a3b48383d57ecc28a3f94ba201eaf121bb0f7f4065dc362e92ac1c1d8",
              "make train-fast: a TransformNet (width 16, 0.42 M weights) for procedural('swirls', 256, "
              "seed=0), 1350 Adam steps on 4 crops of 128 px of the offline photos (not chelsea or "
              "astronaut), style weight 12; this file was trained on an H100 (58 s), the same recipe "
              "takes about 21 minutes on a 2-core CPU"),
    ModelInfo("adain", "adain", "adain-relu3_1.pt",
              "9a199b6858fa01aec382a3601e21771502d006fc422c1210785c0ee48004cace",
              "make train-adain: an AdaIN decoder for relu3_1 (width 16) and a student encoder (width 16) "
              "trained with it, 0.18 M weights in all; 4000 Adam steps on 8 crops of 256 px with the "
              "content, style, identity and distillation losses, on the offline photos (not chelsea or "
              "astronaut) and seeded procedural styles; 6 minutes on an H100 (hours on a 2-core CPU)"),
]}


def list_models() -> list[str]:
    """Names of the shipped networks (see :func:`model_info`).

    Example:
        >>> list_models()
        ['adain', 'fast-swirls']
    """
    return sorted(_MODELS)


def model_info(name: str) -> ModelInfo:
    """What :func:`list_models`' ``name`` is: kind, file, hash and how it was trained.

    Raises:
        ValueError: an unknown name (the message lists the known ones).
    """
    try:
        return _MODELS[name]
    except (KeyError, TypeError):
        raise ValueError(f"unknown model {name!r}; the shipped ones are: {', '.join(list_models())} "
                         "(see styletut.zoo.list_models()), or pass the path of a .pt file you trained") from None


def load_model(name: str | os.PathLike, device=None):
    """Load a shipped network by name (sha256-checked), or a model file you trained by path.

    Args:
        name: a name from :func:`list_models`, or the path of a file written by
            ``styletut.fastnet.save_model`` / ``styletut.adain.save_adain``
            (not hash-checked: it is yours).
        device: where to run it: ``"cpu"``, ``"cuda"``, ``"auto"`` (CUDA when
            present), a ``torch.device``; default CPU.

    Returns:
        A ``styletut.fastnet.TransformNet`` or a ``styletut.adain.AdaIN``, in eval mode.

    Raises:
        ValueError: an unknown name, a file whose hash differs from the one
            recorded, or a file that is not a model.

    Example:
        >>> net = load_model("fast-swirls")                      # doctest: +SKIP
        >>> run(net, torch.rand(1, 3, 64, 80)).shape              # doctest: +SKIP
        torch.Size([1, 3, 64, 80])
    """
    from . import adain, fastnet
    from .runtime import resolve_device

    device = resolve_device(device) if device is not None else None  # "auto" picks CUDA when present
    if isinstance(name, str) and name in _MODELS:
        info = _MODELS[name]
        path, digest, kind = info.path, info.sha256, info.kind
    elif isinstance(name, (str, os.PathLike)) and str(name).endswith(".pt"):
        path, digest, kind = Path(name), None, _kind_of(Path(name))
    else:
        model_info(name)  # raises with the list of names
    if kind == "fast":
        net, _ = fastnet.load_model(path, sha256=digest)
        return net.to(device) if device is not None else net
    model, _ = adain.load_adain(path, sha256=digest, device=device)
    return model


def _kind_of(path: Path) -> str:
    """``"fast"`` or ``"adain"``, from the format tag inside a model file."""
    import torch

    if not path.is_file():
        raise FileNotFoundError(f"no model file at '{path}'; the shipped models are: {', '.join(list_models())}")
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:
        raise ValueError(f"{path} is not a readable model file ({type(err).__name__}: {err})") from None
    fmt = blob.get("format") if isinstance(blob, dict) else None
    if fmt == "styletut-fast/1":
        return "fast"
    if fmt in ("styletut-adain/1", "styletut-adain/2"):
        return "adain"
    raise ValueError(f"{path} is not a styletut model file (format {fmt!r}); write one with "
                     "styletut.fastnet.save_model or styletut.adain.save_adain")


def run(model, content_img, style_img=None, alpha: float = 1.0, paint_size="default"):
    """One pass: stylise ``content_img`` ``(1, 3, H, W)`` in [0, 1]; returns ``(1, 3, H, W)``.

    Args:
        model: from :func:`load_model`.
        content_img: the photo (any size with both sides >= 16).
        style_img: the style image, for an AdaIN model only (a fast network's
            style is fixed when it is trained).
        alpha: AdaIN only: 0 decodes the photo's own features (the decoder's
            reconstruction of the photo), 1 the full style.
        paint_size: fast networks only: the longest side at which the network
            paints, a bigger photo being scaled down, painted and scaled back
            up with its own edges (``styletut.fastnet.stylize_fast``);
            ``"default"``: ``styletut.fastnet.PAINT_SIZE``; ``None``: the
            photo's own size.

    Raises:
        ValueError: a style image for a fast network, or none for AdaIN.
    """
    import torch

    from .adain import AdaIN
    from .fastnet import PAINT_SIZE, stylize_fast

    device = next(model.parameters()).device
    with torch.inference_mode():
        if isinstance(model, AdaIN):
            if style_img is None:
                raise ValueError("an AdaIN model needs a style image: run(model, content_img, style_img)")
            if paint_size != "default":
                raise ValueError("paint_size applies to fast networks only (AdaIN paints at the photo's size)")
            return model(content_img.to(device), style_img.to(device), alpha=alpha).cpu()
        if style_img is not None:
            raise ValueError("a fast network paints the one style it was trained on; drop style_img, "
                             "or use the 'adain' model for any style")
        if alpha != 1.0:
            raise ValueError("alpha applies to AdaIN models only")
        return stylize_fast(model, content_img.to(device), PAINT_SIZE if paint_size == "default" else paint_size).cpu()
