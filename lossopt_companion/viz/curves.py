"""Line plots: losses with their gradients, and training curves."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure
from numpy.typing import ArrayLike, NDArray

from ._style import COLUMN_WIDTH, _color, style_context

_Curve = Callable[[NDArray[np.float64]], ArrayLike]
LossAndGradient = tuple[_Curve, _Curve]


def plot_loss_and_gradient(
    functions: Mapping[str, LossAndGradient],
    x: ArrayLike,
    *,
    xlabel: str = "residual",
    title: str | None = None,
    figsize: tuple[float, float] = (COLUMN_WIDTH, 3.4),
) -> Figure:
    r"""Plot several losses and their derivatives side by side, as functions of one variable.

    The left panel shows each loss :math:`\ell(x)`, the right panel its derivative :math:`\ell'(x)`: for
    regression losses against the residual :math:`x = \hat y - y` (MSE's gradient grows linearly, MAE's is a
    constant :math:`\pm 1`, Huber's is linear then clipped), for classification losses against the margin
    :math:`x = y f` (cross-entropy's gradient never vanishes, the hinge's is exactly 0 beyond the margin).

    Parameters
    ----------
    functions : dict
        By label, a pair ``(loss_fn, grad_fn)``; each maps the array ``x`` to an array of the same shape (the
        elementwise loss and its derivative).
    x : array_like
        The points to evaluate, increasing. Shape ``(N,)``.
    xlabel : str, optional
        What ``x`` is, for the axis labels ("margin" for classification losses). Default: ``"residual"``.
    title : str, optional
        A title above both panels.
    figsize : tuple, optional
        The figure size in inches. Default: ``(8.0, 3.4)``, the width of the book's column.

    Returns
    -------
    matplotlib.figure.Figure
        Two axes: the losses and their gradients, one line per function in each.

    Raises
    ------
    ValueError
        If ``functions`` is empty or a value is not a pair of callables, ``x`` is not a finite 1-D array of at
        least 2 points, or a function returns an array of another shape.

    Examples
    --------
    >>> import numpy as np
    >>> import matplotlib.pyplot as plt
    >>> from lossopt_companion.viz import plot_loss_and_gradient
    >>> curves = {"MSE": (lambda r: r**2, lambda r: 2 * r), "MAE": (np.abs, np.sign)}
    >>> fig = plot_loss_and_gradient(curves, np.linspace(-3, 3, 101))
    >>> [ax.get_ylabel() for ax in fig.axes]
    ['loss', 'd loss / d residual']
    >>> plt.close(fig)
    """
    if not isinstance(functions, Mapping) or len(functions) == 0:
        raise ValueError("functions must be a non-empty dict mapping a label to a pair (loss_fn, grad_fn)")
    points = np.asarray(x, dtype=np.float64) if np.asarray(x).dtype.kind in "biuf" else None
    if points is None or points.ndim != 1 or points.size < 2 or not np.all(np.isfinite(points)):
        raise ValueError(f"x must be a finite 1-D array of at least 2 numbers, got {np.shape(x)}")
    curves = {}
    for label, pair in functions.items():
        if not (isinstance(pair, (tuple, list)) and len(pair) == 2 and all(callable(f) for f in pair)):
            raise ValueError(f"functions[{label!r}] must be a pair (loss_fn, grad_fn) of callables")
        outputs = []
        for role, function in zip(("loss_fn", "grad_fn"), pair):
            output = np.asarray(function(points.copy()), dtype=np.float64)
            if output.shape != points.shape:
                raise ValueError(
                    f"the {role} of functions[{label!r}] must return an array of the shape of x, "
                    f"{points.shape}, got {output.shape}"
                )
            outputs.append(output)
        curves[str(label)] = outputs

    with style_context():
        fig, (loss_ax, grad_ax) = plt.subplots(1, 2, figsize=figsize, layout="constrained")
        for index, (label, (loss, gradient)) in enumerate(curves.items()):
            loss_ax.plot(points, loss, color=_color(index), label=label)
            grad_ax.plot(points, gradient, color=_color(index))
        for ax in (loss_ax, grad_ax):
            ax.axhline(0.0, color="0.3", linewidth=0.8, zorder=1)
            ax.axvline(0.0, color="0.3", linewidth=0.8, zorder=1)
            ax.set_xlabel(xlabel)
        loss_ax.set_ylabel("loss")
        loss_ax.set_title("loss")
        grad_ax.set_ylabel(f"d loss / d {xlabel}")
        grad_ax.set_title("gradient")
        fig.legend(loc="outside right upper")
        if title:
            fig.suptitle(title)
    return fig


def plot_history(
    history: Any,
    *,
    metrics: str | Sequence[str] = ("loss",),
    log_scale: bool = False,
    title: str | None = None,
    figsize: tuple[float, float] | None = None,
    validation_label: str = "validation",
) -> Figure:
    """Plot training curves: one panel per metric, training solid and validation dashed, one colour per run.

    The legend names each run, followed by "(training)" or "(validation)" when some run has validation curves;
    ``validation_label`` replaces the word "validation", e.g. by "test" when the held-out data is the test
    set.

    Parameters
    ----------
    history : object or dict
        A training history: an object with a ``history`` attribute (such as the ``History`` that
        ``training.fit`` returns, or Keras's), or a plain dict ``{"loss": [...], "val_loss": [...]}`` of
        per-epoch values; or a dict mapping a run's label to such a history, to overlay several runs.
    metrics : str or tuple, optional
        The metrics to plot; ``"loss"`` draws ``history["loss"]`` and, if present, ``history["val_loss"]``.
        Default: ``("loss",)``.
    log_scale : bool, optional
        A logarithmic y axis (every plotted value must then be positive). Default: False.
    title : str, optional
        A title above the panels.
    figsize : tuple, optional
        The figure size in inches; by default 3.2 wide per panel plus 1.6 for the legend, at most the book's
        column (8.0), and 3.4 high.
    validation_label : str, optional
        What the legend calls the ``val_`` curves. Default: ``"validation"``.

    Returns
    -------
    matplotlib.figure.Figure
        One axes per metric, x axis the epoch (starting at 1).

    Raises
    ------
    ValueError
        If ``history`` is neither form, ``metrics`` is empty, a metric is recorded in no run (neither training
        nor validation), a record is not a 1-D list of numbers, ``log_scale`` meets a non-positive value, or
        ``validation_label`` is not a non-empty string.

    Examples
    --------
    >>> import matplotlib.pyplot as plt
    >>> from lossopt_companion.viz import plot_history
    >>> runs = {"lr=0.1": {"loss": [1.0, 0.5, 0.3], "val_loss": [1.1, 0.7, 0.6]},
    ...         "lr=0.01": {"loss": [1.0, 0.9, 0.8]}}
    >>> fig = plot_history(runs, log_scale=True)
    >>> len(fig.axes[0].get_lines())  # two curves for the first run, one for the second
    3
    >>> plt.close(fig)
    """
    runs = _as_runs(history)
    if not isinstance(validation_label, str) or not validation_label:
        raise ValueError(f"validation_label must be a non-empty string, got {validation_label!r}")
    names = [metrics] if isinstance(metrics, str) else list(metrics)
    if not names or not all(isinstance(name, str) for name in names):
        raise ValueError(f"metrics must be a metric name or a non-empty sequence of names, got {metrics!r}")
    series = {}
    for name in names:
        found = False
        for run, records in runs.items():
            for key, style in ((name, "-"), (f"val_{name}", "--")):
                if key in records:
                    values = _check_series(records[key], f"history[{key!r}]", log_scale)
                    series[(name, run, key)] = (values, style)
                    found = True
        if not found:
            available = sorted({key for records in runs.values() for key in records})
            raise ValueError(f"metrics: {name!r} is recorded in no run; available: {available}")

    has_validation = any(key.startswith("val_") for (_, _, key) in series)
    with style_context():
        size = figsize or (min(COLUMN_WIDTH, 3.2 * len(names) + 1.6), 3.4)
        fig, axes = plt.subplots(1, len(names), figsize=size, layout="constrained", squeeze=False)
        for ax, name in zip(axes[0], names):
            for index, run in enumerate(runs):
                for key in (name, f"val_{name}"):
                    if (name, run, key) not in series:
                        continue
                    values, style = series[(name, run, key)]
                    part = validation_label if key.startswith("val_") else "training"
                    if run and not has_validation:  # nothing to tell training curves apart from
                        label = run
                    else:
                        label = f"{run} ({part})" if run else part
                    epochs = np.arange(1, len(values) + 1)
                    marker = "o" if len(values) <= 30 else None
                    ax.plot(
                        epochs, values, style, color=_color(index), marker=marker, markersize=3, label=label
                    )
            ax.set_xlabel("epoch")
            ax.set_ylabel(name)
            ax.set_title(name)
            if log_scale:
                ax.set_yscale("log")
        legend_entries: dict[str, Any] = {}
        for ax in axes[0]:
            for handle, label in zip(*ax.get_legend_handles_labels()):
                legend_entries.setdefault(label, handle)
        fig.legend(list(legend_entries.values()), list(legend_entries), loc="outside right upper")
        if title:
            fig.suptitle(title)
    return fig


def _as_runs(history: Any) -> dict[str, Mapping[str, Any]]:
    """{run label: {metric: values}}; a single history gets the empty label."""
    records = getattr(history, "history", None)
    if isinstance(records, Mapping):
        return {"": records}
    if not isinstance(history, Mapping) or len(history) == 0:
        raise ValueError(
            "history must be a History (with a .history dict), a non-empty dict of metric lists, or a dict "
            f"of run label to such histories; got {type(history).__name__}"
        )
    values = list(history.values())
    nested = [getattr(v, "history", v) for v in values]
    if all(isinstance(v, Mapping) for v in nested):
        return {str(label): records for label, records in zip(history, nested)}
    if any(isinstance(v, Mapping) for v in nested):
        raise ValueError("history mixes runs (dicts or Histories) with metric lists; give one or the other")
    return {"": history}


def _check_series(values: Any, name: str, log_scale: bool) -> NDArray[np.float64]:
    try:
        array = np.asarray(values, dtype=np.float64)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a list of numbers") from None
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D list of numbers, got shape {array.shape}")
    if log_scale and np.any(array[np.isfinite(array)] <= 0):
        raise ValueError(f"{name} has non-positive values, which a log scale cannot show (log_scale=True)")
    return array
