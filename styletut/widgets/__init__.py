"""A control panel for style transfer: pick the images, turn every knob, watch it run.

``panel()`` builds an ipywidgets panel around :func:`styletut.transfer.stylize`:

- **Images**: the content is a sample photo or an uploaded file; the style is
  a procedural painting (with its own sliders, palette and seed), a sample
  photo or an uploaded file. Thumbnails show what was picked.
- **Settings**: image size, steps, optimizer and learning rate, initialisation,
  seed, device; content / style / TV weights on log sliders; which VGG19
  layers feed the content and style losses, with a relative weight per style
  layer, and the network's weights and pooling.
- **Controls** (a fourth settings tab): keep the photo's colours, the style
  statistics (Gram, mean/std, sliced Wasserstein), the style's scale (the
  stroke size), a second style blended with the first, and the region a
  style paints (with two styles: a shape and its complement).
- **Method** (next to Run): optimise the pixels (the default), or one pass
  of a network that ships with the course (:mod:`styletut.zoo`, lesson 11):
  a fast network paints the one style it was trained on (the style picker
  is off and says which), AdaIN takes the style image and an ``alpha``
  slider (0: the photo's own features, 1: the full style). While a network
  is picked, the settings only optimisation uses are switched off (their
  values kept); size and device apply, and AdaIN's style scale.
- **Run / Stop**: the optimisation runs in a background thread, so the panel
  stays live; Stop ends the run after the current step and keeps the best
  image (so does an error mid-run). A progress bar, a preview of the image
  and a plot of each loss component update while it runs. A network is
  loaded once per (network, device) and makes its pass in the same thread.
- **Reproduce and keep**: the exact ``stylize(...)`` call of each result (for
  a network, ``zoo.run(zoo.load_model(...), ...)``) is shown for copying
  into code, the result can be saved (atomically, never over an input), and
  the last few results stay side by side to compare.

From Python (and in tests) the panel is an object with its widgets as
attributes::

    from styletut.widgets import panel
    p = panel(size=64, steps=10)
    p                                  # shows it in a notebook
    p.optimizer.value = "adam"
    result = p.run()                   # = clicking Run, then waiting
    print(result.call)                 # stylize(sample('chelsea'), procedural('swirls', 64, seed=0), ...)
    p.style2.value = "waves"           # a second style ...
    p.region.value = "left"            # ... painting the right half, the first the left
    print(p.call())                    # stylize(sample('chelsea'), [procedural('swirls', ...), ...], ...)
    p.method.value = "adain"           # one pass of AdaIN instead
    p.alpha.value = 0.5
    print(p.call())                    # zoo.run(zoo.load_model('adain'), sample('chelsea', size=64), ..., alpha=0.5)

The package is split by concern: ``mapping`` (settings <-> options, pure
functions), ``sources`` (image pickers and uploads), ``settings`` (the tabs),
``job`` (the run's thread), ``render`` (PNGs, the loss plot, the echoed code),
``compare`` (the compare row) and ``layout`` (the panel).

Introduced in notebooks/08_full_transfer.ipynb
"""

from .layout import StylePanel, panel
from .result import PanelResult

__all__ = ["panel", "StylePanel", "PanelResult"]
