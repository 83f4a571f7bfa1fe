"""Reliability diagrams: is a classifier's confidence as high as its accuracy?"""

from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure
from numpy.typing import ArrayLike

from .._validation import check_int
from ..metrics import calibration_bins, expected_calibration_error
from ._style import PALETTE, style_context

_DIAGONAL_ID = "perfect-calibration"


def reliability_diagram(
    probabilities: ArrayLike,
    labels: ArrayLike,
    *,
    n_bins: int = 10,
    min_count: int = 0,
    ax: Axes | Sequence[Axes] | None = None,
    label: str | None = None,
    color: str | None = None,
) -> Figure:
    r"""Draw a reliability diagram: accuracy against confidence per bin, with the bin counts below.

    Predictions are grouped into ``n_bins`` equal-width bins of top-class confidence
    (``metrics.calibration_bins``); each bin is drawn at its mean confidence and its accuracy. A calibrated
    model lies on the diagonal :math:`\operatorname{acc} = \operatorname{conf}`; points below it are
    over-confident, points above under-confident. The legend reports the expected calibration error
    (``metrics.expected_calibration_error``), the count-weighted mean distance to the diagonal; the lower
    panel shows how many predictions fall in each bin, since a bin with few samples has a noisy accuracy.

    A bin's accuracy is a mean over its samples, so a bin of two or three samples can land anywhere between
    0 and 1; ``min_count`` leaves such bins out of the diagram (no point, and the curve joins the bins on
    either side). They still count in the histogram below, which marks ``min_count`` (when above 1) with a
    dotted line, and in the ECE, which weights every bin by its count anyway.

    To compare models, call it again with the returned figure's axes: ``reliability_diagram(p2, y,
    ax=fig.axes, label="after temperature scaling")``.

    Parameters
    ----------
    probabilities : array_like
        Predicted class probabilities (rows summing to 1), or the probability of class 1 for a binary problem.
        Shape ``(N, C)`` or ``(N,)``.
    labels : array_like
        The true classes. Shape ``(N,)``.
    n_bins : int, optional
        The number of confidence bins, at least 1. Default: 10.
    min_count : int, optional
        Draw only the bins holding at least this many samples. Default: 0 (every non-empty bin).
    ax : matplotlib.axes.Axes or tuple, optional
        Draw into these axes: one Axes for the diagram only, or ``(diagram, counts)``. By default a new figure
        with both panels.
    label : str, optional
        The model's name in the legend.
    color : str, optional
        The colour of this model's curve (by default the next colour of the palette).

    Returns
    -------
    matplotlib.figure.Figure
        The figure: the diagram and, unless a single Axes was given, the histogram of counts.

    Raises
    ------
    ValueError
        If ``n_bins < 1``, ``min_count`` is not a non-negative integer, a probability lies outside
        :math:`[0, 1]`, rows do not sum to 1, or the labels do not match (see ``metrics.calibration_bins``).

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from lossopt_companion.viz import reliability_diagram
    >>> probabilities = np.array([[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]])
    >>> fig = reliability_diagram(probabilities, [0, 1, 1, 1], n_bins=5, label="model")
    >>> fig.axes[0].get_legend().get_texts()[-1].get_text()
    'model (ECE = 0.250)'
    >>> plt.close(fig)
    """
    bins = calibration_bins(probabilities, labels, n_bins)
    min_count = check_int(min_count, "min_count", minimum=0)
    ece = expected_calibration_error(probabilities, labels, n_bins)
    with style_context():
        diagram_ax, counts_ax = _resolve_axes(ax)
        fig = diagram_ax.figure
        if not any(line.get_gid() == _DIAGONAL_ID for line in diagram_ax.get_lines()):
            diagram_ax.plot([0, 1], [0, 1], "--", color="0.45", linewidth=1.0, gid=_DIAGONAL_ID,
                            label="perfect calibration")
        n_models = sum(1 for line in diagram_ax.get_lines() if line.get_gid() != _DIAGONAL_ID)
        color = color or PALETTE[n_models % len(PALETTE)]
        filled = (bins.counts > 0) & (bins.counts >= min_count)
        name = f"{label} (ECE = {ece:.3f})" if label else f"ECE = {ece:.3f}"
        diagram_ax.plot(
            bins.confidence[filled], bins.accuracy[filled], "-o", color=color, markersize=5, label=name
        )
        diagram_ax.set_xlim(0, 1)
        diagram_ax.set_ylim(0, 1)
        diagram_ax.set_xlabel("confidence (top-class probability)")
        diagram_ax.set_ylabel("accuracy")
        diagram_ax.set_title("reliability diagram")
        diagram_ax.legend(loc="upper left")
        if counts_ax is not None:
            centers = (bins.edges[:-1] + bins.edges[1:]) / 2
            width = np.diff(bins.edges)
            counts_ax.bar(centers, bins.counts, width=width * 0.9, color=color, alpha=0.45, label=label)
            if min_count > 1:  # 0 and 1 leave no non-empty bin out
                counts_ax.axhline(min_count, color="0.45", linestyle=":", linewidth=1.0)
            counts_ax.set_xlim(0, 1)
            counts_ax.set_xlabel("confidence")
            counts_ax.set_ylabel("count")
    return fig


def _resolve_axes(ax: Axes | Sequence[Axes] | None) -> tuple[Axes, Axes | None]:
    if ax is None:
        fig, (diagram_ax, counts_ax) = plt.subplots(
            2, 1, figsize=(4.8, 6.2), height_ratios=(3, 1), layout="constrained"
        )
        return diagram_ax, counts_ax
    if isinstance(ax, Axes):
        return ax, None
    axes = list(ax) if isinstance(ax, (list, tuple, np.ndarray)) else []
    if len(axes) == 2 and all(isinstance(a, Axes) for a in axes):
        return axes[0], axes[1]
    raise ValueError(f"ax must be an Axes or a pair (diagram Axes, counts Axes), got {type(ax).__name__}")
