"""Validation and reductions shared by every loss.

Every public loss starts with one of the ``prepare_*`` functions below, which turn the inputs into floating
NumPy arrays of one dtype and check them (shapes, reduction, emptiness, ranges), and ends with
:func:`apply_reduction` (the value) or :func:`gradient_scale` (the gradient). The reductions follow
``torch.nn.functional``:

- ``"none"``: the elementwise loss (elementwise losses) or the per-sample loss (distribution losses);
- ``"sum"``: the sum of what ``"none"`` returns;
- ``"mean"``: the mean of what ``"none"`` returns.

With ``"none"`` a gradient function returns the gradient of the sum, so ``"sum"`` and ``"none"`` share a scale
of 1 and ``"mean"`` divides by the number of terms.
"""

from __future__ import annotations

from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_reduction, check_same_shape, result_dtype

FloatArray = NDArray[np.floating[Any]]

#: What a loss returns: a NumPy scalar of the input's float dtype for ``"mean"`` and ``"sum"``, an array for
#: ``"none"``.
LossValue = Union[np.floating[Any], FloatArray]


def check_not_empty(array: NDArray[Any], name: str) -> None:
    """Raise ``ValueError`` for an empty array: its mean would be a NaN (0 / 0)."""
    if array.size == 0:
        raise ValueError(f"{name} must hold at least one value, got an empty array of shape {array.shape}")


def check_probabilities(array: NDArray[Any], name: str) -> None:
    """Raise ``ValueError`` unless every value of ``array`` lies in [0, 1] (``array`` is known finite)."""
    low, high = array.min(), array.max()
    if low < 0 or high > 1:
        raise ValueError(f"{name} must hold probabilities in [0, 1], got values from {low!r} to {high!r}")


def prepare_pair(y_true: ArrayLike, y_pred: ArrayLike, reduction: str) -> tuple[FloatArray, FloatArray]:
    """Check the inputs of an elementwise loss and return both as float arrays of one dtype.

    The dtype is float32 only when both inputs are float32 (integers become float64). Finiteness is left to
    the caller, because the fast paths check it while they read the data for the loss anyway.
    """
    check_reduction(reduction)
    true_array = as_float_array(y_true, "y_true")
    pred_array = as_float_array(y_pred, "y_pred")
    check_same_shape(true_array, pred_array, "y_true", "y_pred")
    check_not_empty(pred_array, "y_pred")
    dtype = result_dtype(true_array, pred_array)
    return true_array.astype(dtype, copy=False), pred_array.astype(dtype, copy=False)


def prepare_finite_pair(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str
) -> tuple[FloatArray, FloatArray]:
    """:func:`prepare_pair` followed by a finiteness check of both arrays."""
    true_array, pred_array = prepare_pair(y_true, y_pred, reduction)
    check_finite(true_array, "y_true")
    check_finite(pred_array, "y_pred")
    return true_array, pred_array


def check_two_dimensional(array: NDArray[Any], name: str, what: str) -> None:
    """Raise ``ValueError`` unless ``array`` has shape (N, C) with N >= 1 and C >= 1."""
    if array.ndim != 2 or array.size == 0:
        raise ValueError(f"{name} must be {what} of shape (N, C) with N, C >= 1, got shape {array.shape}")


def class_labels(y_true: ArrayLike, n_samples: int, n_classes: int) -> NDArray[np.intp]:
    """Check integer class labels of shape (N,) with values in ``[0, n_classes)``; return them as ``intp``.

    Floating arrays are accepted when every value is a whole number (labels often come out of a float array);
    booleans are not labels.
    """
    labels = np.asarray(y_true)
    if labels.shape != (n_samples,):
        raise ValueError(
            f"y_true must be integer labels of shape ({n_samples},) or class probabilities of shape "
            f"({n_samples}, {n_classes}) to match y_pred, got shape {labels.shape}"
        )
    if labels.dtype.kind == "f":
        check_finite(labels, "y_true")
        if not np.array_equal(labels, np.round(labels)):
            raise ValueError("y_true of shape (N,) must hold integer class labels, got non-integer values")
    elif labels.dtype.kind not in "iu":
        raise ValueError(f"y_true of shape (N,) must hold integer class labels, got dtype {labels.dtype}")
    low, high = labels.min(), labels.max()
    if low < 0 or high >= n_classes:
        raise ValueError(
            f"y_true labels must lie in [0, {n_classes}) for y_pred with {n_classes} classes, got labels "
            f"from {low!r} to {high!r}"
        )
    return labels.astype(np.intp)


def apply_reduction(values: FloatArray, reduction: str) -> LossValue:
    """Reduce per-element (or per-sample) losses as ``reduction`` says.

    Sums use NumPy's pairwise summation (error growing like log n, not n). A float32 sum of values close to
    the largest float32 can overflow although the mean is representable; the mean is then recomputed as the
    sum of ``values / n``. A sum that overflows is +inf, as in torch: its true value is not representable.
    """
    if reduction == "none":
        return values
    with np.errstate(over="ignore"):
        total = np.add.reduce(values, axis=None)
        if reduction == "sum":
            return total
        mean = total / values.size
        if not np.isfinite(mean):
            mean = np.add.reduce(values / values.size, axis=None)
    return mean


def gradient_scale(n_terms: int, reduction: str) -> float:
    """The factor by which ``reduction`` scales the gradient of the summed loss: 1 / n_terms for "mean"."""
    return 1.0 / n_terms if reduction == "mean" else 1.0


def check_loss_weights(
    weights: ArrayLike,
    name: str,
    target_shape: tuple[int, ...],
    dtype: np.dtype,
    expected: str,
    *,
    broadcast: bool,
) -> FloatArray:
    """Check non-negative, finite weights of shape ``target_shape`` (or, with ``broadcast``, of a shape that
    broadcasts to it); return them in ``dtype``, so that float32 inputs keep a float32 loss.

    ``expected`` describes the accepted shapes for the error message. A weight of 0 is allowed (it switches a
    term off); a negative weight would turn the loss into a quantity to maximise, and is refused.
    """
    array = as_float_array(weights, name)
    shape: tuple[int, ...] | None = array.shape
    if broadcast:
        try:
            shape = np.broadcast_shapes(array.shape, target_shape)
        except ValueError:
            shape = None
    if shape != target_shape:
        raise ValueError(f"{name} must be {expected}, got shape {array.shape}")
    check_finite(array, name)
    if array.min() < 0:
        raise ValueError(f"{name} must hold non-negative weights, got a minimum of {float(array.min())!r}")
    return array.astype(dtype, copy=False)
