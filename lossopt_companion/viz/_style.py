"""The house style of the book's figures: applied inside each plotting function, globally only on request."""

from __future__ import annotations

import contextlib
import math
from collections.abc import Iterator
from typing import Any, cast

import matplotlib as mpl
import numpy as np
from cycler import cycler
from numpy.typing import ArrayLike, NDArray

#: Okabe and Ito's palette ("Color Universal Design", 2008), distinguishable with every common colour-vision
#: deficiency, in the order lines get them. Yellow and black come last: yellow is faint on white.
PALETTE: tuple[str, ...] = (
    "#0072B2",  # blue
    "#E69F00",  # orange
    "#009E73",  # bluish green
    "#D55E00",  # vermillion
    "#CC79A7",  # reddish purple
    "#56B4E9",  # sky blue
    "#F0E442",  # yellow
    "#000000",  # black
)

#: The widest figure, in inches, that the book's article column shows at full size. Figures are drawn at 100
#: dots per inch, so 8 inches are 800 CSS pixels: the column holds 822 px in a 1440 px window, and at full
#: size the smallest text of the house style (the legend's 8.3 pt) is 11.6 px high.
COLUMN_WIDTH: float = 8.0

#: The rcParams every figure of the package is drawn with (see ``style_context``).
STYLE: dict[str, Any] = {
    "axes.prop_cycle": cycler(color=PALETTE),
    "axes.grid": True,
    "axes.axisbelow": True,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.titlesize": "medium",
    "axes.titleweight": "bold",
    "axes.labelsize": "medium",
    "grid.alpha": 0.35,
    "grid.linewidth": 0.6,
    "font.size": 10.0,
    "legend.frameon": False,
    "legend.fontsize": "small",
    "lines.linewidth": 1.8,
    "lines.markersize": 4.0,
    "image.cmap": "viridis",
    "figure.dpi": 100.0,
    "figure.figsize": (7.2, 4.0),
    "figure.facecolor": "white",
}


@contextlib.contextmanager
def style_context() -> Iterator[None]:
    """Apply the package's figure style (``STYLE``) in a ``with`` block, leaving the global rcParams alone.

    Only interactive mode is kept as the block left it, since a backend set up inside the block (Jupyter's
    inline backend, on a session's first figure) switches it on for the rest of the session.

    Use it for a figure drawn by hand in a notebook so that it matches the package's figures.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from lossopt_companion.viz import style_context
    >>> with style_context():
    ...     fig, ax = plt.subplots()
    ...     _ = ax.plot([0, 1], [1, 0])
    >>> plt.close(fig)
    """
    with mpl.rc_context(cast(Any, STYLE)):
        try:
            yield
        finally:
            # The first figure of a session makes pyplot set up its backend, and Jupyter's inline backend
            # turns interactive mode on while doing so. Restoring the rcParams would turn it off again, and
            # figures would stop appearing at the end of notebook cells; so interactive mode set inside the
            # block stays.
            interactive = mpl.is_interactive()
    mpl.interactive(interactive)


def use_book_style() -> None:
    """Draw every figure of this session in the book's style, and show it in Jupyter as a sharp 2x PNG.

    This is the one function of the package that changes global state, on purpose: call it once at the top of
    a notebook so that figures drawn by hand look like the package's own. It updates ``matplotlib.rcParams``
    with ``STYLE`` (colour-blind-safe palette, 10 pt text at 100 dpi, a default size of 7.2 x 4 inches that
    fits the book's column, see ``COLUMN_WIDTH``) and, when it runs inside IPython, switches the inline
    backend to ``"retina"``: each figure is saved at twice its resolution and displayed at its size in inches
    x 100 px, so text stays sharp on high-density screens. Outside IPython only the rcParams change.

    Examples
    --------
    >>> import matplotlib as mpl
    >>> from lossopt_companion.viz import STYLE, style_context, use_book_style
    >>> with mpl.rc_context():
    ...     use_book_style()
    ...     mpl.rcParams["figure.figsize"] == list(STYLE["figure.figsize"])
    True
    """
    # matplotlib's stubs type rcParams keys as a Literal of every known name; STYLE's keys are such names.
    mpl.rcParams.update(cast(Any, STYLE))
    try:
        from IPython import get_ipython
    except ImportError:  # matplotlib alone, no IPython: nothing more to set up
        return
    shell = get_ipython()
    if shell is None:
        return
    from matplotlib_inline.config import InlineBackend

    # The trait's observer re-registers the figure formatter at once when the inline backend is active, and
    # the backend reads the trait when pyplot activates it later: either order gives 2x PNGs.
    InlineBackend.instance(parent=shell).figure_formats = {"retina"}


def _color(index: int) -> str:
    return PALETTE[index % len(PALETTE)]


def _check_interval(interval: Any, name: str) -> tuple[float, float]:
    """A plotting range (lo, hi) of finite numbers with lo < hi."""
    try:
        low, high = (float(v) for v in interval)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a pair (low, high) of numbers, got {interval!r}") from None
    if not (math.isfinite(low) and math.isfinite(high) and low < high):
        raise ValueError(f"{name} must be a pair (low, high) of finite numbers, low < high, got {interval!r}")
    return low, high


def _check_points(points: ArrayLike, name: str, *, min_rows: int = 1) -> NDArray[np.float64]:
    """An array of shape (k, 2) of finite numbers, k >= min_rows."""
    try:
        array = np.asarray(points, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an array of shape (k, 2) of numbers") from None
    if array.ndim != 2 or array.shape[1] != 2 or array.shape[0] < min_rows:
        raise ValueError(f"{name} must have shape (k, 2) with k >= {min_rows}, got shape {array.shape}")
    if not np.all(np.isfinite(array)):
        raise ValueError(f"{name} must be finite, got NaN or infinite coordinates")
    return array
