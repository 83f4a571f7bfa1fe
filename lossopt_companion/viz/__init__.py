"""Figures for the book: loss curves, contour plots with optimizer paths, animated races, training curves and
reliability diagrams. Needs matplotlib (``pip install lossopt-companion[viz]``); ``import lossopt_companion``
never imports this module.

Every function returns the ``matplotlib.figure.Figure`` (or the animation) it drew and works the same in a
script, a test or a notebook: nothing calls ``plt.show()`` and nothing needs IPython. Static figures are
created through pyplot, so a notebook displays them at the end of the cell (assign the result, ``fig = ...``,
so that it is not shown twice); save them with ``fig.savefig(path)``. The style (Okabe-Ito colour-blind-safe
palette, light grid, no top and right spines) is applied with ``matplotlib.rc_context`` inside each function,
so the global ``rcParams`` are never changed; ``style_context()`` applies the same style to a figure drawn by
hand.

============================  =========================================================================
function                      draws
============================  =========================================================================
``plot_loss_and_gradient``    losses and their derivatives against the residual or the margin
``plot_contours``             a 2-D landscape with optimizer trajectories and the minimizers
``animate_race``              the same, animated step by step (``animation_html`` embeds it)
``plot_history``              training and validation curves of one or several runs
``reliability_diagram``       confidence against accuracy per bin, with the expected calibration error
============================  =========================================================================

In a notebook, ``use_book_style()`` applies the same style to every figure of the session (the one global
change the package makes, on request) and shows figures as 2x PNGs; ``COLUMN_WIDTH`` is the widest figure, in
inches, that the book's column shows at full size.
"""

from __future__ import annotations

from ._style import COLUMN_WIDTH, PALETTE, STYLE, style_context, use_book_style
from .animation import animate_race, animation_html
from .calibration import reliability_diagram
from .contours import plot_contours
from .curves import plot_history, plot_loss_and_gradient

__all__ = [
    "plot_loss_and_gradient",
    "plot_contours",
    "animate_race",
    "animation_html",
    "plot_history",
    "reliability_diagram",
    "style_context",
    "use_book_style",
    "COLUMN_WIDTH",
    "PALETTE",
    "STYLE",
]
