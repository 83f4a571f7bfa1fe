"""Contour plots of two-dimensional objectives with optimizer trajectories on top."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import BoundaryNorm
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int
from ._style import _check_interval, _check_points, _color, style_context

#: With log-spaced levels, the lowest level lies this fraction of the value range above the grid's minimum.
_LOG_LEVEL_DEPTH = 1e-5


def plot_contours(
    fun: Callable[..., Any],
    xlim: Sequence[float] | None = None,
    ylim: Sequence[float] | None = None,
    *,
    paths: Mapping[str, ArrayLike] | None = None,
    levels: int | Sequence[float] = 30,
    log_levels: bool = True,
    minimizers: ArrayLike | None = None,
    ax: Axes | None = None,
    title: str | None = None,
    resolution: int = 200,
    colorbar: bool = True,
) -> Figure:
    r"""Draw the filled contours of a function of two variables and the paths optimizers took across them.

    The function is evaluated on a ``resolution`` x ``resolution`` grid of the box ``xlim`` x ``ylim``. With
    ``log_levels`` the contour levels are spaced geometrically above the grid's minimum,

    .. math::

        \ell_j = f_{\min} + (f_{\max} - f_{\min})\, 10^{-5 (1 - j / (L - 1))}, \qquad j = 0, \dots, L - 1,

    so that a narrow valley such as Rosenbrock's, where the values span several orders of magnitude, shows its
    floor as well as its walls. Every path is drawn as a line with a marker per iterate, a hollow circle at
    its start and a cross at its end; known minimizers are stars.

    Parameters
    ----------
    fun : callable or Problem
        A problem from ``lossopt_companion.problems`` (its vectorised ``value`` is used on the whole grid at
        once), or any callable taking a point of shape ``(2,)`` and returning the value or a ``(value,
        gradient)`` pair (evaluated point by point).
    xlim, ylim : tuple, optional
        The plotting box; by default the problem's ``bounds``.
    paths : dict, optional
        Trajectories to draw, by label, for example ``{"Adam": result.path}``.
    levels : int or array_like, optional
        The number of contour levels, or the levels themselves (increasing). Default: 30.
    log_levels : bool, optional
        Space the levels geometrically above the minimum (ignored when ``levels`` is a sequence). Default:
        True.
    minimizers : array_like, optional
        Points to mark with a star; by default the problem's ``minimizers`` (pass ``[]`` for none).
        Shape ``(k, 2)``.
    ax : matplotlib.axes.Axes, optional
        Draw into these axes instead of a new figure.
    title : str, optional
        The title; by default the problem's class name.
    resolution : int, optional
        Grid points per axis, at least 10. Default: 200.
    colorbar : bool, optional
        Add a colour bar of the function's values. Default: True.

    Returns
    -------
    matplotlib.figure.Figure
        The figure (the one holding ``ax`` when it is given).

    Raises
    ------
    ValueError
        If a box is not an increasing pair of finite numbers (or is missing for a plain callable), a path is
        not of shape ``(k, 2)`` with finite entries, ``levels`` or ``resolution`` is invalid, or the function
        is not finite anywhere on the grid.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from lossopt_companion.problems import Rosenbrock
    >>> from lossopt_companion.second_order import lbfgs
    >>> from lossopt_companion.viz import plot_contours
    >>> rosenbrock = Rosenbrock()
    >>> path = lbfgs(rosenbrock, rosenbrock.x0).path
    >>> fig = plot_contours(rosenbrock, paths={"L-BFGS": path})
    >>> len(fig.axes)  # the contour plot and its colour bar
    2
    >>> plt.close(fig)
    """
    xlim, ylim = _resolve_box(fun, xlim, ylim)
    checked_paths = _check_paths(paths)
    stars = _resolve_minimizers(fun, minimizers)
    with style_context():
        if ax is None:
            fig, ax = plt.subplots(figsize=(6.4, 5.2), layout="constrained")
        else:
            fig = ax.figure
        filled = _draw_landscape(
            ax, fun, xlim, ylim, levels=levels, log_levels=log_levels, resolution=resolution
        )
        if colorbar:
            bar = fig.colorbar(filled, ax=ax, shrink=0.9, format="%.3g")
            bar.set_label("f(x)")
        for index, (label, path) in enumerate(checked_paths.items()):
            _draw_path(ax, path, label, _color(index))
        _draw_minimizers(ax, stars)
        _finish_axes(ax, fun, title)
    return fig


def _resolve_box(
    fun: Any, xlim: Sequence[float] | None, ylim: Sequence[float] | None
) -> tuple[tuple[float, float], tuple[float, float]]:
    bounds = getattr(fun, "bounds", None)
    limits = []
    for index, (limit, name) in enumerate(((xlim, "xlim"), (ylim, "ylim"))):
        if limit is None:
            if bounds is None or len(bounds) != 2:
                raise ValueError(f"{name} must be given (the function has no 2-D bounds to default to)")
            limit = bounds[index]
        limits.append(_check_interval(limit, name))
    return limits[0], limits[1]


def _check_paths(paths: Mapping[str, ArrayLike] | None) -> dict[str, NDArray[np.float64]]:
    if paths is None:
        return {}
    if not isinstance(paths, Mapping):
        raise ValueError(
            f"paths must be a dict mapping a label to an array of shape (k, 2), got {type(paths).__name__}"
        )
    return {str(label): _check_points(path, f"paths[{label!r}]") for label, path in paths.items()}


def _resolve_minimizers(fun: Any, minimizers: ArrayLike | None) -> NDArray[np.float64]:
    if minimizers is None:
        known = getattr(fun, "minimizers", None)
        if known is None or np.shape(known)[-1:] != (2,):
            return np.empty((0, 2))
        minimizers = known
    if np.size(minimizers) == 0:
        return np.empty((0, 2))
    return _check_points(minimizers, "minimizers")


def _grid_values(fun: Any, xs: NDArray[np.float64], ys: NDArray[np.float64]) -> NDArray[np.float64]:
    """f on the grid xs x ys, shape (len(ys), len(xs)); vectorised for problems, point by point otherwise."""
    grid = np.stack(np.meshgrid(xs, ys), axis=-1)
    value = getattr(fun, "value", None)
    if callable(value) and getattr(fun, "dim", 2) == 2:
        return np.asarray(value(grid), dtype=np.float64)
    if not callable(fun):
        raise ValueError(f"fun must be callable or a problem with a value method, got {type(fun).__name__}")
    values = np.empty(grid.shape[:2])
    for index in np.ndindex(*values.shape):
        output = fun(grid[index].copy())
        values[index] = float(output[0] if isinstance(output, tuple) else output)
    return values


def _contour_levels(
    values: NDArray[np.float64], levels: int | Sequence[float], log_levels: bool
) -> NDArray[np.float64]:
    expected = f"levels must be an integer >= 2 or an increasing sequence of >= 2 values, got {levels!r}"
    if not np.isscalar(levels):
        chosen = np.asarray(levels, dtype=np.float64)
        if chosen.ndim != 1 or chosen.size < 2 or not np.all(np.diff(chosen) > 0):
            raise ValueError(expected)
        return chosen
    if isinstance(levels, bool) or not isinstance(levels, (int, np.integer)) or levels < 2:
        raise ValueError(expected)
    finite = values[np.isfinite(values)]
    if finite.size == 0:
        raise ValueError("fun is not finite anywhere on the grid")
    low, high = float(finite.min()), float(finite.max())
    if high <= low:  # a flat function: one band is all there is to show
        return np.array([low - 0.5, low + 0.5])
    if log_levels:
        offsets = (high - low) * np.geomspace(_LOG_LEVEL_DEPTH, 1.0, levels - 1)
        return np.concatenate([[low], low + offsets])
    return np.linspace(low, high, levels)


def _draw_landscape(
    ax: Axes,
    fun: Any,
    xlim: tuple[float, float],
    ylim: tuple[float, float],
    *,
    levels: int | Sequence[float],
    log_levels: bool,
    resolution: int,
) -> Any:
    check_int(resolution, "resolution", minimum=10)
    xs, ys = np.linspace(*xlim, resolution), np.linspace(*ylim, resolution)
    values = _grid_values(fun, xs, ys)
    chosen = _contour_levels(values, levels, log_levels)
    colormap = plt.get_cmap("viridis")
    # Values above the top level exist only when the levels were given: then the last colour extends to them.
    extend = "max" if np.nanmax(values) > chosen[-1] else "neither"
    norm = BoundaryNorm(chosen, colormap.N, extend=extend)
    masked = np.ma.masked_invalid(values)
    filled = ax.contourf(xs, ys, masked, levels=chosen, cmap=colormap, norm=norm, alpha=0.55, extend=extend)
    ax.contour(xs, ys, masked, levels=chosen, colors="white", linewidths=0.4, alpha=0.8)
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    return filled


def _draw_path(ax: Axes, path: NDArray[np.float64], label: str, color: str) -> None:
    steps = len(path) - 1
    # At most ~100 markers, evenly spaced in iterations: their spacing still shows where progress is slow.
    every = max(1, -(-steps // 100))
    ax.plot(path[:, 0], path[:, 1], "-o", color=color, markersize=2.5, linewidth=1.4, markevery=every,
            label=f"{label} ({steps} step{'s' if steps != 1 else ''})")
    ax.plot(*path[0], marker="o", markersize=8, markerfacecolor="white", markeredgecolor=color,
            markeredgewidth=1.8, linestyle="none")
    ax.plot(*path[-1], marker="X", markersize=9, color=color, markeredgecolor="white", linestyle="none")


def _draw_minimizers(ax: Axes, minimizers: NDArray[np.float64]) -> None:
    if len(minimizers):
        ax.plot(minimizers[:, 0], minimizers[:, 1], linestyle="none", marker="*", markersize=15,
                color="white", markeredgecolor="black", markeredgewidth=1.0, label="minimizer", zorder=5)


def _finish_axes(ax: Axes, fun: Any, title: str | None) -> None:
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.set_aspect("equal", adjustable="box")
    ax.grid(False)
    if title is None and hasattr(fun, "value") and hasattr(fun, "minimizers"):
        title = type(fun).__name__
    if title:
        ax.set_title(title)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.12), ncols=2, frameon=False)
