"""Margin losses: the binary hinge loss (Keras's ``Hinge``) and the multi-class hinge loss (torch's
``multi_margin_loss``), with their gradients."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_positive, check_reduction
from ._common import (
    FloatArray,
    LossValue,
    apply_reduction,
    check_two_dimensional,
    class_labels,
    gradient_scale,
    prepare_finite_pair,
)

__all__ = ["hinge", "hinge_grad", "multiclass_hinge", "multiclass_hinge_grad"]


def _signed_labels(y_true: FloatArray) -> FloatArray:
    """Labels in {-1, +1}: labels in {0, 1} are mapped by 2y - 1, as Keras's ``hinge`` does."""
    if np.all((y_true == 0) | (y_true == 1)):
        return 2 * y_true - 1
    if np.all(np.abs(y_true) == 1):
        return y_true
    values = np.unique(y_true)
    shown = ", ".join(repr(float(value)) for value in values[:5]) + (", ..." if values.size > 5 else "")
    raise ValueError(f"y_true must hold labels in {{-1, 1}} or in {{0, 1}}, got the values {shown}")


def hinge(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> LossValue:
    r"""Hinge loss of raw scores against labels :math:`\pm 1`, the loss of the linear support vector machine.

    .. math::

        \ell_i = \max(0,\, 1 - y_i s_i), \qquad y_i \in \{-1, +1\},

    with the subgradient :math:`-y_i` where :math:`y_i s_i < 1` and 0 elsewhere (see :func:`hinge_grad`).
    Labels in {0, 1} are first mapped to :math:`2y - 1`, as Keras does. Equals
    ``keras.losses.Hinge()(y_true, y_pred)`` for ``"mean"`` (Keras averages over the last axis, then over the
    batch; with equal-size rows that is the mean over all elements). Torch has no equivalent:
    ``torch.nn.functional.hinge_embedding_loss`` is a different loss, on distances.

    Parameters
    ----------
    y_true : array_like
        Labels, all in {-1, +1} or all in {0, 1}.
    y_pred : array_like
        Raw scores :math:`s_i` (not probabilities), the same shape as ``y_true``.
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the elementwise losses, ``"sum"``
        their sum, ``"mean"`` their mean.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss, in the inputs' float dtype.

    Raises
    ------
    ValueError
        If the shapes differ, an input is empty or not finite, the labels are not all in {-1, 1} or all in
        {0, 1}, or ``reduction`` is unknown.

    Examples
    --------
    >>> print(hinge([1, -1, 1], [2.0, 0.5, -1.0], reduction="none"))
    [0.  1.5 2. ]
    """
    y_true, scores = prepare_finite_pair(y_true, y_pred, reduction)
    labels = _signed_labels(y_true)
    return apply_reduction(np.maximum(1 - labels * scores, 0), reduction)


def hinge_grad(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> FloatArray:
    r"""Subgradient of :func:`hinge` with respect to the scores ``y_pred``.

    .. math::

        \frac{\partial L}{\partial s_i} = \begin{cases} -y_i / n & y_i s_i < 1, \\ 0 & y_i s_i \ge 1
        \end{cases} \quad (\texttt{"mean"}).

    At the kink :math:`y_i s_i = 1` this function takes 0, as torch's autograd does for ``relu`` and
    ``multi_margin_loss``; TensorFlow's gradient of ``maximum(1 - y s, 0)`` (inside ``keras.losses.Hinge``)
    takes :math:`-y_i` there. Away from the kink the two agree.

    Parameters
    ----------
    y_true : array_like
        Labels, all in {-1, +1} or all in {0, 1}.
    y_pred : array_like
        Raw scores :math:`s_i`, the same shape as ``y_true``.
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).

    Returns
    -------
    numpy.ndarray
        The gradient, the shape and dtype of the loss's inputs.

    Raises
    ------
    ValueError
        As :func:`hinge`.

    Examples
    --------
    >>> print(hinge_grad([1, -1, -1], [2.0, 0.5, -1.0], reduction="sum"))
    [0. 1. 0.]
    """
    y_true, scores = prepare_finite_pair(y_true, y_pred, reduction)
    labels = _signed_labels(y_true)
    inside_margin = labels * scores < 1
    return np.where(inside_margin, -labels, 0) * gradient_scale(scores.size, reduction)


def _margin_violations(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str, margin: float
) -> tuple[NDArray[np.intp], FloatArray]:
    """Validate, then return the labels and the matrix m - s_{i, y_i} + s_{i, j}, zero in each true class."""
    check_reduction(reduction)
    check_positive(margin, "margin", allow_zero=True)
    scores = as_float_array(y_pred, "y_pred")
    check_two_dimensional(scores, "y_pred", "scores")
    check_finite(scores, "y_pred")
    labels = class_labels(y_true, *scores.shape)
    rows = np.arange(scores.shape[0])
    true_class_scores = scores[rows, labels][:, np.newaxis]
    # Same order of operations as torch (margin - s_y + s_j), so that float64 results agree to the last bit.
    violations = margin - true_class_scores + scores
    violations[rows, labels] = 0  # the true class is not compared with itself
    return labels, violations



def multiclass_hinge(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean", margin: float = 1.0
) -> LossValue:
    r"""Multi-class hinge loss (Weston and Watkins): every wrong class within the margin of the true one
    costs.

    For scores :math:`s_i \in \mathbb{R}^C` and a label :math:`y_i \in \{0, \dots, C - 1\}`,

    .. math::

        \ell_i = \frac{1}{C} \sum_{j \ne y_i} \max\bigl(0,\, m - s_{i, y_i} + s_{i, j}\bigr),

    with the subgradient :math:`1/C` for each violating class :math:`j` and minus the number of violators over
    :math:`C` for the true class (see :func:`multiclass_hinge_grad`). ``"none"`` returns :math:`\ell_i` per
    sample. Equals ``torch.nn.functional.multi_margin_loss(y_pred, y_true, p=1, margin=margin)``.

    It is **not** ``keras.losses.CategoricalHinge``, which follows Crammer and Singer: one term, for the
    strongest wrong class only, not divided by :math:`C`, and with one-hot targets :math:`t` it computes
    :math:`\max(0, 1 + \max_j (1 - t_{ij}) s_{ij} - s_{i, y_i})`, whose inner maximum also sees the 0 left at
    the true class, so it is :math:`\max(0, 1 + \max(0, \max_{j \ne y_i} s_{ij}) - s_{i, y_i})`. With two
    classes and positive scores, Keras's value is exactly :math:`C = 2` times this one.

    Parameters
    ----------
    y_true : array_like
        Integer class labels of shape (N,), in :math:`[0, C)`.
    y_pred : array_like
        Scores of shape (N, C).
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the per-sample losses (shape (N,)),
        ``"sum"`` their sum, ``"mean"`` their mean.
    margin : float
        The margin :math:`m \ge 0`.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss, in the scores' float dtype.

    Raises
    ------
    ValueError
        If ``y_pred`` is not a finite (N, C) array, ``y_true`` is not integer labels of shape (N,) in
        :math:`[0, C)`, ``margin`` is negative, or ``reduction`` is unknown.

    Examples
    --------
    >>> print(multiclass_hinge([0], [[2.0, 1.5, -1.0]], reduction="none"))
    [0.16666667]
    """
    _, violations = _margin_violations(y_true, y_pred, reduction, margin)
    return apply_reduction(np.maximum(violations, 0).sum(axis=1) / violations.shape[1], reduction)


def multiclass_hinge_grad(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean", margin: float = 1.0
) -> FloatArray:
    r"""Subgradient of :func:`multiclass_hinge` with respect to the scores ``y_pred``.

    With :math:`v_{ij} = [\, m - s_{i, y_i} + s_{ij} > 0 \,]` for :math:`j \ne y_i`,

    .. math::

        \frac{\partial L}{\partial s_{ij}} = \frac{v_{ij}}{N C} \;(j \ne y_i), \qquad
        \frac{\partial L}{\partial s_{i, y_i}} = -\frac{1}{N C} \sum_{j \ne y_i} v_{ij}
        \quad (\texttt{"mean"}).

    A class exactly on the margin does not count, as in torch's backward of
    ``torch.nn.functional.multi_margin_loss`` (whose gradient this equals).

    Parameters
    ----------
    y_true : array_like
        Integer class labels of shape (N,), in :math:`[0, C)`.
    y_pred : array_like
        Scores of shape (N, C).
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).
    margin : float
        The margin :math:`m \ge 0`.

    Returns
    -------
    numpy.ndarray
        The gradient, shape (N, C), in the scores' float dtype.

    Raises
    ------
    ValueError
        As :func:`multiclass_hinge`.

    Examples
    --------
    >>> print(multiclass_hinge_grad([0], [[2.0, 1.5, -1.0]], reduction="sum"))
    [[-0.33333333  0.33333333  0.        ]]
    """
    labels, violations = _margin_violations(y_true, y_pred, reduction, margin)
    n_samples, n_classes = violations.shape
    scale = gradient_scale(n_samples, reduction) / n_classes
    gradient = (violations > 0).astype(violations.dtype)
    gradient[np.arange(n_samples), labels] = -gradient.sum(axis=1)
    return gradient * scale
