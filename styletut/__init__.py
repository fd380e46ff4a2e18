"""styletut: the companion package of a course on neural style transfer.

Each idea of the course lives here once, is tested here, and is shown or
re-derived in a lesson:

- :mod:`styletut.images`    images as ``(1, 3, H, W)`` tensors in [0, 1], samples, saving
- :mod:`styletut.styles`    procedural style images (no paintings ship offline)
- :mod:`styletut.weights`   the original ImageNet VGG19 weights, offline and verified
- :mod:`styletut.features`  VGG19 (and ResNet-50) feature extractors by layer name
- :mod:`styletut.losses`    content, Gram-matrix style and total-variation losses
- :mod:`styletut.optim`     gradient descent, SGD, Adam and L-BFGS through one loop
- :mod:`styletut.transfer`  ``stylize(content, style, **options)``
- :mod:`styletut.course`    quick mode, seeding and device choice for the notebooks
- :mod:`styletut.checks`    exercise checks used by the notebooks
- :mod:`styletut.widgets`   the ipywidgets control panel

Submodules are imported on demand so ``import styletut`` stays cheap.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
