"""Metrics that ``fit`` records by name: functions ``metric(y_true, model.predict(X)) -> float``.

``fit`` passes the targets in the form the model trains on (integer labels, one-hot or probability rows, a column of
0/1 labels, or labels in {-1, +1} for the hinge loss), so each metric first brings them to the form of the
predictions and then calls the package's own function: ``lossopt_companion.metrics.accuracy`` for accuracy, the
losses ``mse`` and ``mae`` of ``lossopt_companion.losses`` for regression.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .. import losses, metrics

__all__ = ["METRICS"]


def _as_labels(values: ArrayLike) -> NDArray[Any]:
    array = np.asarray(values)
    if array.ndim == 2 and array.shape[1] > 1:
        return array.argmax(axis=1)  # one-hot or probability rows
    return array.reshape(-1)


def _accuracy(y_true: ArrayLike, y_pred: ArrayLike) -> float:
    labels = _as_labels(y_true)
    predictions = np.asarray(y_pred)
    # The hinge loss's labels are -1/+1 while a binary classifier predicts 0/1.
    if labels.size and set(np.unique(labels)) <= {-1, 1} and set(np.unique(predictions)) <= {0, 1}:
        labels = (labels > 0).astype(np.int64)
    return metrics.accuracy(labels, predictions)


_accuracy.__name__ = "accuracy"


def _regression_metric(loss_fn: Callable[..., Any]) -> Callable[[ArrayLike, ArrayLike], float]:
    def metric(y_true: ArrayLike, y_pred: ArrayLike) -> float:
        predictions = np.asarray(y_pred)
        targets = np.asarray(y_true).reshape(predictions.shape)
        return float(loss_fn(targets, predictions))

    metric.__name__ = loss_fn.__name__
    return metric


#: The metrics ``fit(..., metrics=(name, ...))`` knows by name, each ``metric(y_true, y_pred) -> float`` with
#: ``y_pred = model.predict(X)``: ``"accuracy"`` (``lossopt_companion.metrics.accuracy``), ``"mse"`` and ``"mae"``.
METRICS: dict[str, Callable[[ArrayLike, ArrayLike], float]] = {
    "accuracy": _accuracy,
    "mse": _regression_metric(losses.mse),
    "mae": _regression_metric(losses.mae),
}


def _resolve_metrics(
    requested: Sequence[str | Callable[[ArrayLike, ArrayLike], float]],
) -> dict[str, Callable[[ArrayLike, ArrayLike], float]]:
    if isinstance(requested, str):
        requested = (requested,)
    resolved = {}
    for metric in requested:
        if isinstance(metric, str) and metric in METRICS:
            resolved[metric] = METRICS[metric]
        elif callable(metric) and not isinstance(metric, str):
            resolved[getattr(metric, "__name__", type(metric).__name__)] = metric
        else:
            raise ValueError(f"metrics must hold names from {sorted(METRICS)} or functions, got {metric!r}")
    return resolved
