"""styletut: the companion package of a course on neural style transfer.

Each idea of the course lives here once, is tested here, and is shown or
re-derived in a lesson:

- :mod:`styletut.images`     images as ``(1, 3, H, W)`` tensors in [0, 1]: loading (every
  kind of file, or a clear refusal) and atomic saving
- :mod:`styletut.data`       sample photos and procedural styles that work offline
- :mod:`styletut.styles`     the procedural style painter (no paintings ship offline)
- :mod:`styletut.weights`    the original ImageNet VGG19 weights, offline and verified
- :mod:`styletut.features`   VGG19 (and ResNet-50) feature extractors by layer name
- :mod:`styletut.losses`     content, Gram-matrix style and total-variation losses
- :mod:`styletut.optim`      gradient descent, SGD, Adam and L-BFGS through one loop
- :mod:`styletut.box_lbfgs`  projected L-BFGS: L-BFGS inside the box [0, 1], on any device
- :mod:`styletut.pyramid`    the coarse-to-fine schedule: level sizes and step budgets
- :mod:`styletut.names`      the vocabulary (layer names, every list of choices), without torch
- :mod:`styletut.options`    ``StylizeOptions``: every knob, validated once
- :mod:`styletut.transfer`   ``stylize(content, style, **options)``
- :mod:`styletut.colour`     keeping the photo's colours (luminance-only, colour matching)
- :mod:`styletut.statistics` Gram, mean/std and sliced-Wasserstein style statistics; masks, blends
- :mod:`styletut.regions`    region masks from shape names or image files
- :mod:`styletut.checkpoint` saving and resuming a run
- :mod:`styletut.memory`     will a run fit in memory? (checked before any work)
- :mod:`styletut.files`      atomic writes
- :mod:`styletut.runtime`    the device and local random generators
- :mod:`styletut.course`     quick mode and the setup cell of the notebooks
- :mod:`styletut.checks`     exercise and figure checks used by the notebooks
- :mod:`styletut.widgets`    the ipywidgets control panel
- :mod:`styletut.cli`        the ``styletut`` command line

Submodules are imported on demand so ``import styletut`` stays cheap.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
