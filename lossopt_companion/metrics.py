r"""Classification metrics: accuracy and calibration (how far the predicted confidence is from the accuracy).

NumPy only; ``viz.reliability_diagram`` draws what ``calibration_bins`` computes, and ``fit_temperature``
recalibrates a classifier's logits with one fitted number.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_finite, check_int

__all__ = ["accuracy", "CalibrationBins", "calibration_bins", "expected_calibration_error", "fit_temperature"]

#: How far the rows of a probability matrix may sum from 1 (float32 softmax outputs are within ~1e-6).
_ROW_SUM_TOLERANCE = 1e-3

#: ``fit_temperature`` stops when a Newton step or the bracket is this small relative to beta = 1/T.
_TEMPERATURE_TOLERANCE = 1e-12


def accuracy(labels: ArrayLike, predictions: ArrayLike) -> float:
    r"""The fraction of samples whose predicted class equals the label.

    .. math::

        \operatorname{accuracy} = \frac{1}{N} \sum_{i=1}^{N} [\hat y_i = y_i], \qquad
        \hat y_i = \arg\max_c s_{ic} \text{ when scores are given.}

    Equals ``sklearn.metrics.accuracy_score(labels, predictions.argmax(axis=1))`` and Keras's
    ``SparseCategoricalAccuracy``.

    Parameters
    ----------
    labels : array_like
        The true classes. Shape ``(N,)``.
    predictions : array_like
        Predicted classes (integers), or scores, probabilities or logits of each class (the largest wins).
        Shape ``(N,)`` or ``(N, C)``.

    Returns
    -------
    float
        In :math:`[0, 1]`.

    Raises
    ------
    ValueError
        If ``labels`` is not a 1-D array of integers, the lengths differ, or ``predictions`` has another
        shape.

    Examples
    --------
    >>> from lossopt_companion.metrics import accuracy
    >>> accuracy([0, 1, 1], [[0.9, 0.1], [0.2, 0.8], [0.6, 0.4]])
    0.6666666666666666
    >>> accuracy([0, 1, 1], [0, 1, 1])
    1.0
    """
    true_classes = _check_labels(labels)
    scores = np.asarray(predictions)
    if scores.ndim == 2:
        check_finite(as_float_array(scores, "predictions"), "predictions")
        predicted = np.argmax(scores, axis=1)
    elif scores.ndim == 1:
        predicted = _check_labels(scores, "predictions")
    else:
        raise ValueError(f"predictions must have shape (N,) or (N, C), got shape {scores.shape}")
    if predicted.shape[0] != true_classes.shape[0]:
        raise ValueError(
            f"labels and predictions must have the same number of samples, got {true_classes.shape[0]} "
            f"and {predicted.shape[0]}"
        )
    return float(np.mean(predicted == true_classes))


@dataclass(frozen=True)
class CalibrationBins:
    """Per-bin statistics of a reliability diagram.

    Attributes
    ----------
    edges : numpy.ndarray
        The ``n_bins + 1`` bin edges, ``0, 1/n_bins, ..., 1``.
    confidence : numpy.ndarray
        The mean top-class confidence in each bin (NaN for an empty bin).
    accuracy : numpy.ndarray
        The fraction of correct predictions in each bin (NaN for an empty bin).
    counts : numpy.ndarray
        The number of samples in each bin (integers).
    """

    edges: NDArray[np.float64]
    confidence: NDArray[np.float64]
    accuracy: NDArray[np.float64]
    counts: NDArray[np.int64]


def calibration_bins(probabilities: ArrayLike, labels: ArrayLike, n_bins: int = 10) -> CalibrationBins:
    r"""Group predictions by their confidence and compare each group's mean confidence with its accuracy.

    The confidence of a prediction is the probability of the predicted (top) class,
    :math:`\hat p_i = \max_c p_{ic}`, and it is correct when :math:`\arg\max_c p_{ic} = y_i`. Bin :math:`m`
    (:math:`m = 1, \dots, M`) holds the samples with :math:`\hat p_i \in ((m-1)/M, m/M]` (a confidence of 0
    joins the first bin), as in Guo et al., "On calibration of modern neural networks", ICML (2017):

    .. math::

        \operatorname{acc}(B_m) = \frac{1}{|B_m|} \sum_{i \in B_m} [\hat y_i = y_i], \qquad
        \operatorname{conf}(B_m) = \frac{1}{|B_m|} \sum_{i \in B_m} \hat p_i .

    For binary problems, ``probabilities`` may be the probability of class 1, shape ``(N,)``; the predicted
    class is then 1 when :math:`p_i \ge 0.5` and the confidence :math:`\max(p_i, 1 - p_i)`.

    Parameters
    ----------
    probabilities : array_like
        Predicted class probabilities (rows summing to 1), or the probability of class 1.
        Shape ``(N, C)`` or ``(N,)``.
    labels : array_like
        The true classes, in ``0 .. C-1``. Shape ``(N,)``.
    n_bins : int, optional
        :math:`M`, the number of equal-width bins on :math:`[0, 1]`. Default: 10.

    Returns
    -------
    CalibrationBins
        ``edges``, ``confidence``, ``accuracy`` and ``counts`` per bin.

    Raises
    ------
    ValueError
        If a probability lies outside :math:`[0, 1]`, rows do not sum to 1, the labels are not integers in
        range, the numbers of samples differ, or ``n_bins`` is not an integer >= 1.

    Examples
    --------
    >>> from lossopt_companion.metrics import calibration_bins
    >>> bins = calibration_bins([[0.9, 0.1], [0.3, 0.7], [0.6, 0.4]], [0, 0, 0], n_bins=2)
    >>> bins.counts  # no confidence is at most 0.5
    array([0, 3])
    >>> # the second bin: 2 of 3 right, mean confidence (0.9 + 0.7 + 0.6) / 3
    >>> bins.accuracy[1], bins.confidence[1]
    (np.float64(0.6666666666666666), np.float64(0.7333333333333334))
    """
    confidence, correct = _top_class(probabilities, labels)
    edges = np.linspace(0.0, 1.0, check_int(n_bins, "n_bins") + 1)
    # side="left" puts a confidence equal to an edge into the bin that edge closes: bins are (lo, hi].
    index = np.clip(np.searchsorted(edges, confidence, side="left") - 1, 0, n_bins - 1)
    counts = np.bincount(index, minlength=n_bins)
    confidence_sums = np.bincount(index, weights=confidence, minlength=n_bins)
    correct_sums = np.bincount(index, weights=correct.astype(np.float64), minlength=n_bins)
    empty = counts == 0
    safe_counts = np.where(empty, 1, counts)  # empty bins report NaN below, without a 0/0 warning
    mean_confidence = np.where(empty, np.nan, confidence_sums / safe_counts)
    bin_accuracy = np.where(empty, np.nan, correct_sums / safe_counts)
    return CalibrationBins(edges, mean_confidence, bin_accuracy, counts.astype(np.int64))


def expected_calibration_error(probabilities: ArrayLike, labels: ArrayLike, n_bins: int = 10) -> float:
    r"""The expected calibration error (ECE): the gap between confidence and accuracy, averaged over bins.

    .. math::

        \operatorname{ECE} = \sum_{m=1}^{M} \frac{|B_m|}{N} \,
            \big| \operatorname{acc}(B_m) - \operatorname{conf}(B_m) \big|

    with the bins of ``calibration_bins`` (Naeini, Cooper and Hauskrecht, AAAI 2015; Guo et al., ICML 2017).
    It is 0 for a perfectly calibrated model and at most 1.

    Parameters
    ----------
    probabilities : array_like
        Predicted class probabilities (rows summing to 1), or the probability of class 1.
        Shape ``(N, C)`` or ``(N,)``.
    labels : array_like
        The true classes. Shape ``(N,)``.
    n_bins : int, optional
        The number of equal-width confidence bins. Default: 10.

    Returns
    -------
    float
        The ECE, in :math:`[0, 1]`.

    Raises
    ------
    ValueError
        As ``calibration_bins``.

    Examples
    --------
    >>> from lossopt_companion.metrics import expected_calibration_error
    >>> probabilities = [[0.9, 0.1], [0.8, 0.2], [0.3, 0.7], [0.4, 0.6]]
    >>> # bins (0.4, 0.6]: gap 0.4; (0.6, 0.8]: two samples, gap 0.25; (0.8, 1]: gap 0.1
    >>> round(expected_calibration_error(probabilities, [0, 1, 1, 1], n_bins=5), 10)
    0.25
    """
    bins = calibration_bins(probabilities, labels, n_bins)
    filled = bins.counts > 0
    gaps = np.abs(bins.accuracy[filled] - bins.confidence[filled])
    return float(np.sum(bins.counts[filled] * gaps) / np.sum(bins.counts))


def fit_temperature(
    logits: ArrayLike, labels: ArrayLike, *, bounds: tuple[float, float] = (1e-2, 1e2)
) -> float:
    r"""The temperature :math:`T` whose softmax of ``logits / T`` has the lowest mean cross-entropy.

    Temperature scaling (Guo et al., "On calibration of modern neural networks", ICML 2017) recalibrates a
    trained classifier with one number fitted on held-out data; dividing every logit by :math:`T` keeps their
    order, so no prediction changes. With :math:`\beta = 1/T` and :math:`p_i(\beta) = \operatorname{softmax}
    (\beta z_i)`, the mean cross-entropy and its first two derivatives are

    .. math::

        L(\beta) &= \frac{1}{N} \sum_{i=1}^{N} \Big( \log \sum_{c} e^{\beta z_{ic}} - \beta z_{i y_i} \Big),
        \\
        L'(\beta) &= \frac{1}{N} \sum_{i=1}^{N}
            \big( \mathbb{E}_{c \sim p_i(\beta)}[z_{ic}] - z_{i y_i} \big),
        \qquad
        L''(\beta) = \frac{1}{N} \sum_{i=1}^{N} \operatorname{Var}_{c \sim p_i(\beta)}[z_{ic}] \ge 0 .

    :math:`L` is convex in :math:`\beta` (a log-sum-exp of functions linear in :math:`\beta`, minus a linear
    term), so the minimum is the root of :math:`L'`. It is found by Newton's method on :math:`L'`, kept inside
    a bracket where :math:`L'` changes sign (a step that leaves the bracket is replaced by a geometric
    bisection), until a step or the bracket is below :math:`10^{-12}\,\beta`. The cost is a few passes over
    the logits; no SciPy is needed, and the result is what ``scipy.optimize.minimize_scalar`` finds on the
    same objective, to its (lower) accuracy.

    When :math:`L'` has one sign on all of :math:`[1/T_{\max}, 1/T_{\min}]` the optimum lies beyond the bounds
    and the nearest bound is returned: :math:`T_{\min}` when every label is already the top class and the
    loss keeps falling as :math:`T \to 0` (perfectly separated data), :math:`T_{\max}` when the logits
    mislead about the labels (:math:`T \to \infty`, the uniform prediction, is best). If every row of
    logits is constant, :math:`T` does not matter and 1 (clipped to the bounds) is returned.

    Parameters
    ----------
    logits : array_like
        The classifier's scores before the softmax, usually on a validation set. Shape ``(N, C)``, C >= 2.
    labels : array_like
        The true classes, integers in ``0 .. C-1``. Shape ``(N,)``.
    bounds : tuple of float, optional
        :math:`(T_{\min}, T_{\max})`, with :math:`0 < T_{\min} < T_{\max}` finite. Default: ``(1e-2, 1e2)``.

    Returns
    -------
    float
        The fitted temperature, in ``bounds``. Divide the logits by it: ``softmax(logits / T)``.

    Raises
    ------
    ValueError
        If ``logits`` is not a finite ``(N, C)`` array with N >= 1 and C >= 2, ``labels`` are not N
        integers in range, or ``bounds`` is not a pair ``0 < T_min < T_max`` of finite numbers.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.metrics import fit_temperature
    >>> logits = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]])
    >>> # 3 of 4 right: the best sigmoid(2 / T) is 3/4, so T = 2 / log 3
    >>> labels = np.array([0, 1, 0, 1])
    >>> round(fit_temperature(logits, labels), 12), round(2 / float(np.log(3)), 12)
    (1.820478453254, 1.820478453254)
    >>> # every label the top class: T -> 0, stopped at the bound
    >>> fit_temperature(logits, [0, 1, 0, 0])
    0.01
    """
    scores = as_float_array(logits, "logits").astype(np.float64)
    if scores.ndim != 2 or scores.shape[0] < 1 or scores.shape[1] < 2:
        raise ValueError(f"logits must have shape (N, C) with N >= 1 and C >= 2, got shape {scores.shape}")
    check_finite(scores, "logits")
    true_classes = _check_labels(labels)
    if true_classes.shape[0] != scores.shape[0]:
        raise ValueError(
            f"labels must hold one class per row of logits, got {true_classes.shape[0]} labels for "
            f"{scores.shape[0]} rows"
        )
    if np.any((true_classes < 0) | (true_classes >= scores.shape[1])):
        raise ValueError(
            f"labels must lie in 0 .. {scores.shape[1] - 1}, got values from {true_classes.min()} "
            f"to {true_classes.max()}"
        )
    t_min, t_max = _check_bounds(bounds)

    # Shifting each row changes neither softmax(beta z) nor L'(beta); centring keeps exp(beta z) in range.
    centred = scores - scores.max(axis=1, keepdims=True)
    if np.all(centred.min(axis=1) == 0):
        return float(np.clip(1.0, t_min, t_max))
    label_scores = centred[np.arange(centred.shape[0]), true_classes]

    def derivatives(beta: float) -> tuple[float, float]:
        weights = np.exp(beta * centred)
        probabilities = weights / weights.sum(axis=1, keepdims=True)
        mean = np.sum(probabilities * centred, axis=1)
        variance = np.sum(probabilities * (centred - mean[:, None]) ** 2, axis=1)
        return float(np.mean(mean - label_scores)), float(np.mean(variance))

    low, high = 1.0 / t_max, 1.0 / t_min  # the bracket in beta
    if derivatives(low)[0] >= 0:
        return t_max
    if derivatives(high)[0] <= 0:
        return t_min
    beta = float(np.clip(1.0, low, high))
    for _ in range(200):
        slope, curvature = derivatives(beta)
        if slope == 0:
            break
        if slope < 0:
            low = beta
        else:
            high = beta
        step = -slope / curvature if curvature > 0 else np.inf
        candidate = beta + step
        if not low < candidate < high:
            candidate = np.sqrt(low * high)  # geometric: the bracket may span four orders of magnitude
            step = candidate - beta
        beta = float(candidate)
        if abs(step) <= _TEMPERATURE_TOLERANCE * beta or high - low <= _TEMPERATURE_TOLERANCE * beta:
            break
    return float(1.0 / beta)


def _check_bounds(bounds: tuple[float, float]) -> tuple[float, float]:
    try:
        t_min, t_max = (float(value) for value in bounds)
    except (TypeError, ValueError):
        raise ValueError(f"bounds must be a pair (T_min, T_max) of numbers, got {bounds!r}") from None
    if not (np.isfinite(t_min) and np.isfinite(t_max) and 0 < t_min < t_max):
        raise ValueError(f"bounds must satisfy 0 < T_min < T_max (both finite), got {bounds!r}")
    return t_min, t_max


def _check_labels(labels: ArrayLike, name: str = "labels") -> NDArray[np.int64]:
    array = np.asarray(labels)
    if array.ndim != 1 or array.size == 0:
        raise ValueError(f"{name} must be a non-empty 1-D array of class indices, got shape {array.shape}")
    if array.dtype.kind == "b":
        return array.astype(np.int64)
    if array.dtype.kind == "f" and np.all(np.isfinite(array)) and np.all(array == np.round(array)):
        return array.astype(np.int64)
    if array.dtype.kind not in "iu":
        raise ValueError(f"{name} must hold integer class indices, got dtype {array.dtype}")
    return array.astype(np.int64)


def _top_class(probabilities: ArrayLike, labels: ArrayLike) -> tuple[NDArray[np.float64], NDArray[np.bool_]]:
    """The top-class confidence of every sample and whether the top class is the label."""
    probs = as_float_array(probabilities, "probabilities").astype(np.float64)
    true_classes = _check_labels(labels)
    if probs.ndim not in (1, 2) or probs.shape[0] != true_classes.shape[0]:
        raise ValueError(
            f"probabilities must have shape (N, C) or (N,) with N = len(labels) = {true_classes.shape[0]}, "
            f"got shape {probs.shape}"
        )
    check_finite(probs, "probabilities")
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError(
            f"probabilities must lie in [0, 1], got values from {probs.min():g} to {probs.max():g} "
            "(pass probabilities, not logits: apply a softmax or sigmoid first)"
        )
    n_classes = 2 if probs.ndim == 1 else probs.shape[1]
    if np.any((true_classes < 0) | (true_classes >= n_classes)):
        raise ValueError(
            f"labels must lie in 0 .. {n_classes - 1}, got values from {true_classes.min()} "
            f"to {true_classes.max()}"
        )
    if probs.ndim == 1:
        predicted = (probs >= 0.5).astype(np.int64)
        return np.maximum(probs, 1.0 - probs), predicted == true_classes
    row_sums = probs.sum(axis=1)
    if np.any(np.abs(row_sums - 1.0) > _ROW_SUM_TOLERANCE):
        worst = row_sums[np.argmax(np.abs(row_sums - 1.0))]
        raise ValueError(f"each row of probabilities must sum to 1, got a row summing to {worst:g}")
    return probs.max(axis=1), np.argmax(probs, axis=1) == true_classes
