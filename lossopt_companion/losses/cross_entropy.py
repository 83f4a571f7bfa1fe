r"""Softmax cross-entropy of logits, with integer labels or class probabilities and optional label smoothing.

The computation goes through the log-sum-exp trick. For a row of logits :math:`x` with maximum :math:`m`,

.. math::

    \log \sum_c e^{x_c} = m + \log \sum_c e^{x_c - m},

where every :math:`x_c - m \le 0`, so no exponential overflows, and the largest one is :math:`e^0 = 1`, so the
sum lies in :math:`[1, C]` and its logarithm never sees 0. The loss of a row is then a sum of non-negative
terms :math:`(m - x_c) + \log \sum_c e^{x_c - m}`, with no cancellation between large numbers, which keeps it
accurate for logits of 1e30 (or float32's largest value) as well as for logits near 0.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import (
    as_float_array,
    check_finite,
    check_in_range,
    check_reduction,
    result_dtype,
)
from . import _parallel
from ._common import (
    FloatArray,
    LossValue,
    apply_reduction,
    check_loss_weights,
    check_probabilities,
    check_two_dimensional,
    class_labels,
    gradient_scale,
)

__all__ = ["cross_entropy", "cross_entropy_grad"]


def _prepare(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str, label_smoothing: float
) -> tuple[NDArray[np.intp] | None, FloatArray | None, FloatArray, float]:
    """Validate; return (labels or None, class probabilities or None, contiguous logits, label smoothing)."""
    check_reduction(reduction)
    smoothing = check_in_range(label_smoothing, "label_smoothing", 0.0, 1.0, high_inclusive=True)
    logits = as_float_array(y_pred, "y_pred")
    check_two_dimensional(logits, "y_pred", "logits")
    true_array = np.asarray(y_true)
    if true_array.shape == logits.shape:
        probabilities = as_float_array(true_array, "y_true")
        dtype = result_dtype(probabilities, logits)
        probabilities = np.ascontiguousarray(probabilities, dtype=dtype)
        check_finite(probabilities, "y_true")
        check_probabilities(probabilities, "y_true")
        return None, probabilities, np.ascontiguousarray(logits, dtype=dtype), smoothing
    labels = class_labels(true_array, *logits.shape)  # any other shape is an error, reported here
    # Finiteness of the logits is checked inside the blocked pass, which reads them anyway.
    return labels, None, np.ascontiguousarray(logits), smoothing


def _row_blocks(logits: FloatArray) -> tuple[int, int]:
    """(rows per block, number of blocks) for cache-sized blocks of rows of ``logits``."""
    rows_per_block = _parallel.items_per_block(logits.shape[1] * logits.itemsize)
    return rows_per_block, _parallel.block_count(logits.shape[0], rows_per_block)


# Both kernels below keep the Python work per block small (a handful of NumPy calls, each writing its per-row
# results straight into slices of arrays of length N) and do the per-row arithmetic once, on whole arrays,
# after the blocked pass: over hundreds of blocks, interpreter overhead per block would otherwise add up.
#
# Error state is per thread, so it is set inside the function that the worker threads run. "over": for float32
# logits near +-3.4e38, x - m can exceed the float range; it becomes -inf, whose exp is the correct 0.
# "invalid": NaN or infinite logits, which are reported after the pass (through the row minima and maxima,
# which propagate NaN and show an infinity) instead of as warnings.


def _per_sample_losses(
    logits: FloatArray,
    labels: NDArray[np.intp] | None,
    probabilities: FloatArray | None,
    smoothing: float,
) -> tuple[FloatArray, bool]:
    """The loss of every row, and whether every logit is finite.

    Per block of rows, in a scratch buffer that stays in cache: ``shifted = x - m`` (all <= 0); the target's
    part of it (``x_y - m`` for a label, the probability-weighted sum of ``x_c - m`` otherwise) and, for
    smoothing, its row sum; then ``exp`` in place and the row sums for the log-sum-exp.
    """
    n_samples, n_classes = logits.shape
    rows_per_block, n_blocks = _row_blocks(logits)
    row_max, row_min, sum_exp, target_shifted = (np.empty(n_samples, dtype=logits.dtype) for _ in range(4))
    shifted_sum = np.empty(n_samples, dtype=logits.dtype) if smoothing > 0 else None
    row_index = np.arange(min(rows_per_block, n_samples))  # the rows of one block

    def process_blocks(first: int, stop: int) -> None:
        scratch = np.empty((min(rows_per_block, n_samples), n_classes), dtype=logits.dtype)
        with np.errstate(over="ignore", invalid="ignore"):
            for block in range(first, stop):
                rows = slice(block * rows_per_block, min((block + 1) * rows_per_block, n_samples))
                block_logits = logits[rows]
                shifted = scratch[: block_logits.shape[0]]
                np.maximum.reduce(block_logits, axis=1, out=row_max[rows])
                np.minimum.reduce(block_logits, axis=1, out=row_min[rows])
                np.subtract(block_logits, row_max[rows, np.newaxis], out=shifted)
                if labels is not None:
                    target_shifted[rows] = shifted[row_index[: shifted.shape[0]], labels[rows]]
                else:
                    # sum_c t_c (x_c - m), skipping t_c = 0 so that 0 * (-inf) cannot make a NaN.
                    block_probabilities = probabilities[rows]
                    weighted = np.zeros_like(shifted)
                    np.multiply(block_probabilities, shifted, out=weighted, where=block_probabilities > 0)
                    np.add.reduce(weighted, axis=1, out=target_shifted[rows])
                if shifted_sum is not None:
                    np.add.reduce(shifted, axis=1, out=shifted_sum[rows])
                np.exp(shifted, out=shifted)
                np.add.reduce(shifted, axis=1, out=sum_exp[rows])

    _parallel.run_blocks(process_blocks, n_blocks, logits.nbytes, compute_bound=True)
    all_finite = bool(np.isfinite(row_min).all() and np.isfinite(row_max).all())
    # The loss of a row, sum_c t_c (lse - x_c) = sum(t) log(sum_exp) - sum_c t_c (x_c - m): two non-negative
    # terms, so no cancellation (see the module's notes).
    log_sum_exp_shifted = np.log(sum_exp)
    target_mass = 1.0 if probabilities is None else probabilities.sum(axis=1)
    with np.errstate(invalid="ignore"):  # NaN logits: reported by the caller
        losses = target_mass * log_sum_exp_shifted - target_shifted
        if shifted_sum is not None:
            # Smoothed target (1 - eps) t + eps / C: the uniform part costs the mean over c of lse - x_c.
            uniform_part = log_sum_exp_shifted - shifted_sum / n_classes
            losses = (1 - smoothing) * losses + smoothing * uniform_part
    return losses, all_finite


def _gradient(
    logits: FloatArray,
    labels: NDArray[np.intp] | None,
    probabilities: FloatArray | None,
    smoothing: float,
    scale: float,
) -> tuple[FloatArray, bool]:
    """``scale * (softmax(x) * sum(t) - t)`` for the (smoothed) targets t, and whether every logit is finite.

    Each block of the output is written once from memory's point of view: the softmax is computed in place in
    the output block (subtract the row maximum, exp, multiply by the reciprocal of the row sum, times the
    scale) and the target subtracted while the block is in cache.
    """
    n_samples, n_classes = logits.shape
    rows_per_block, n_blocks = _row_blocks(logits)
    gradient = np.empty(logits.shape, dtype=logits.dtype)
    row_max, row_min, row_factor = (np.empty(n_samples, dtype=logits.dtype) for _ in range(3))
    row_index = np.arange(min(rows_per_block, n_samples))  # the rows of one block
    if probabilities is None:
        row_scale: float | FloatArray = scale  # the smoothed one-hot target sums to 1
    else:
        row_scale = scale * ((1 - smoothing) * probabilities.sum(axis=1) + smoothing)
    uniform_target = smoothing / n_classes * scale
    true_class_target = (1 - smoothing) * scale

    def process_blocks(first: int, stop: int) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            for block in range(first, stop):
                rows = slice(block * rows_per_block, min((block + 1) * rows_per_block, n_samples))
                block_logits = logits[rows]
                out = gradient[rows]
                np.maximum.reduce(block_logits, axis=1, out=row_max[rows])
                np.minimum.reduce(block_logits, axis=1, out=row_min[rows])
                np.subtract(block_logits, row_max[rows, np.newaxis], out=out)
                np.exp(out, out=out)
                factor = row_factor[rows]
                np.add.reduce(out, axis=1, out=factor)
                np.divide(row_scale if probabilities is None else row_scale[rows], factor, out=factor)
                np.multiply(out, factor[:, np.newaxis], out=out)
                if smoothing > 0:
                    np.subtract(out, uniform_target, out=out)
                if labels is not None:
                    out[row_index[: out.shape[0]], labels[rows]] -= true_class_target
                else:
                    out -= true_class_target * probabilities[rows]

    _parallel.run_blocks(process_blocks, n_blocks, logits.nbytes, compute_bound=True)
    return gradient, bool(np.isfinite(row_min).all() and np.isfinite(row_max).all())


def _class_weights(weight: ArrayLike, logits: FloatArray) -> FloatArray:
    n_classes = logits.shape[1]
    expected = f"an array of shape ({n_classes},), one weight per class of y_pred"
    return check_loss_weights(weight, "weight", (n_classes,), logits.dtype, expected, broadcast=False)


def _weighted_targets(
    labels: NDArray[np.intp] | None,
    probabilities: FloatArray | None,
    weights: FloatArray,
    smoothing: float,
    n_classes: int,
) -> FloatArray:
    """The targets T, shape (N, C), for which the weighted loss of row i is sum_c T_ic (lse_i - x_ic).

    Labels: T_ic = (1 - eps) w_c [c = y_i] + (eps / C) w_c; probabilities: T_ic = ((1 - eps) t_ic + eps / C)
    w_c, as torch builds them (``cross_entropy_loss_label_smoothing`` and ``cross_entropy_loss_prob_target``).
    """
    if probabilities is not None:
        if smoothing > 0:
            return (probabilities * (1 - smoothing) + smoothing / n_classes) * weights
        return probabilities * weights
    targets = np.empty((labels.shape[0], n_classes), dtype=weights.dtype)
    targets[...] = weights * (smoothing / n_classes)
    targets[np.arange(labels.shape[0]), labels] += (1 - smoothing) * weights[labels]
    return targets


def _weighted_mean_denominator(labels: NDArray[np.intp] | None, weights: FloatArray, n_samples: int) -> float:
    """What torch's "mean" divides by: sum_i w[y_i] for labels, N for probabilities."""
    if labels is None:
        return float(n_samples)
    total = weights[labels].sum()
    if total == 0:
        raise ValueError(
            "weight gives every label in y_true a weight of 0, so the weighted mean (divided by the sum of "
            "weight[y_true]) is undefined (torch returns NaN); use reduction='sum' or 'none'"
        )
    return total


def cross_entropy(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    weight: ArrayLike | None = None,
) -> LossValue:
    r"""Softmax cross-entropy of logits against integer labels or class probabilities, stable for any logits.

    For logits :math:`x_i \in \mathbb{R}^C` and target probabilities :math:`t_i` (a one-hot vector for an
    integer label),

    .. math::

        \begin{aligned}
        \ell_i &= -\sum_{c=1}^{C} \tilde t_{ic} \log \operatorname{softmax}(x_i)_c
                = \sum_{c=1}^{C} \tilde t_{ic} \Bigl( \log \sum_{k=1}^{C} e^{x_{ik}} - x_{ic} \Bigr), \\
        \tilde t_{ic} &= (1 - \varepsilon)\, t_{ic} + \frac{\varepsilon}{C},
        \end{aligned}

    with the label smoothing :math:`\varepsilon` (0 by default). For a label :math:`y_i` and
    :math:`\varepsilon = 0` this is :math:`\log \sum_k e^{x_{ik}} - x_{i, y_i}`. The log-sum-exp is computed
    with the row maximum subtracted (see the module's notes), so it is finite for any finite logits. The
    gradient is :math:`\operatorname{softmax}(x_i) \sum_c \tilde t_{ic} - \tilde t_i` (see
    :func:`cross_entropy_grad`).

    Equals ``torch.nn.functional.cross_entropy(y_pred, y_true, label_smoothing=label_smoothing)`` for labels
    (``y_true`` of dtype int64 in torch) and for probabilities, and Keras's
    ``CategoricalCrossentropy(from_logits=True, label_smoothing=label_smoothing)`` (on one-hot targets) or
    ``SparseCategoricalCrossentropy(from_logits=True)`` (on labels, without smoothing), from ``keras.losses``.
    Probability rows need not sum to 1 (neither framework requires it), and ``ignore_index`` is not supported.
    Large inputs are processed in cache-sized blocks of rows on all cores; the result is the same bit for bit
    whatever the number of cores.

    **Class weights.** With ``weight`` :math:`w \in \mathbb{R}^C` each class's term is multiplied by its
    weight, as torch does (``aten/src/ATen/native/LossNLL.cpp``):

    .. math::

        \ell_i = \sum_{c=1}^{C} w_c\, \tilde t_{ic} \Bigl( \log \sum_{k=1}^{C} e^{x_{ik}} - x_{ic} \Bigr),

    which for a label and :math:`\varepsilon = 0` is :math:`w_{y_i} (\log \sum_k e^{x_{ik}} - x_{i, y_i})`.
    ``"none"`` and ``"sum"`` are as without weights, but ``"mean"`` differs between the two kinds of target:
    for labels it is torch's weighted mean :math:`\sum_i \ell_i / \sum_i w_{y_i}` (with or without label
    smoothing: the smoothing term is divided by the same :math:`\sum_i w_{y_i}`), for probabilities it is
    :math:`\sum_i \ell_i / N`. Equals ``torch.nn.functional.cross_entropy(y_pred, y_true, weight=w,
    label_smoothing=label_smoothing)`` for every reduction and both kinds of target. Keras's losses have no
    class-weight argument: ``SparseCategoricalCrossentropy(from_logits=True,
    reduction="mean_with_sample_weight")(y_true, y_pred, sample_weight=w[y_true])`` gives the weighted mean
    for labels without smoothing, and ``fit(..., class_weight=...)``, which weights each sample by its class
    but keeps the default reduction ``"sum_over_batch_size"``, divides by :math:`N` instead: it is
    ``cross_entropy(..., weight=w, reduction="sum") / N``. A weight of 0 drops a class; if every label has
    weight 0, the weighted ``"mean"`` is 0 / 0 and raises ``ValueError`` (torch returns NaN).

    Parameters
    ----------
    y_true : array_like
        Integer class labels of shape (N,) with values in :math:`[0, C)` (a float array of whole numbers is
        accepted), or class probabilities of shape (N, C) with values in [0, 1].
    y_pred : array_like
        Logits (unnormalised log-probabilities) of shape (N, C).
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the per-sample losses (shape (N,)),
        ``"sum"`` their sum, ``"mean"`` their mean.
    label_smoothing : float
        :math:`\varepsilon \in [0, 1]`: the weight moved from the targets to the uniform distribution.
    weight : array_like, optional
        Non-negative class weights :math:`w` of shape (C,). ``None`` (default) weighs every class 1.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss, in the logits' float dtype (float64 if probabilities in float64 meet float32 logits).

    Raises
    ------
    ValueError
        If ``y_pred`` is not a finite (N, C) array; ``y_true`` is neither integer labels of shape (N,) in
        :math:`[0, C)` nor finite probabilities in [0, 1] of shape (N, C); ``label_smoothing`` lies outside
        [0, 1]; ``reduction`` is unknown; ``weight`` is not of shape (C,) or holds a negative or non-finite
        value; or ``reduction="mean"`` with labels whose weights are all 0.

    Examples
    --------
    >>> print(cross_entropy([0, 1], [[2.0, 0.0], [1e4, -1e4]], reduction="none"))
    [1.26928011e-01 2.00000000e+04]

    Weights 1 and 3: the second sample counts three times, and "mean" divides by 1 + 3.

    >>> labels, logits = [0, 1], [[0.0, 0.0], [0.0, 0.0]]
    >>> print(cross_entropy(labels, logits, weight=[1.0, 3.0], reduction="none"))
    [0.69314718 2.07944154]
    >>> print(cross_entropy(labels, logits, weight=[1.0, 3.0]))
    0.6931471805599453
    """
    labels, probabilities, logits, smoothing = _prepare(y_true, y_pred, reduction, label_smoothing)
    if weight is None:
        losses, all_finite = _per_sample_losses(logits, labels, probabilities, smoothing)
        if not all_finite:
            check_finite(logits, "y_pred")
        return apply_reduction(losses, reduction)
    weights = _class_weights(weight, logits)
    if labels is not None and smoothing == 0:
        losses, all_finite = _per_sample_losses(logits, labels, None, 0.0)
        losses = losses * weights[labels]
    else:
        targets = _weighted_targets(labels, probabilities, weights, smoothing, logits.shape[1])
        losses, all_finite = _per_sample_losses(logits, None, targets, 0.0)
    if not all_finite:
        check_finite(logits, "y_pred")
    if reduction != "mean":
        return apply_reduction(losses, reduction)
    denominator = _weighted_mean_denominator(labels, weights, logits.shape[0])
    # As apply_reduction: a float32 sum can overflow where the mean does not.
    with np.errstate(over="ignore"):
        mean = np.add.reduce(losses, axis=None) / denominator
        if not np.isfinite(mean):
            mean = np.add.reduce(losses / denominator, axis=None)
    return mean


def cross_entropy_grad(
    y_true: ArrayLike,
    y_pred: ArrayLike,
    *,
    reduction: str = "mean",
    label_smoothing: float = 0.0,
    weight: ArrayLike | None = None,
) -> FloatArray:
    r"""Gradient of :func:`cross_entropy` with respect to the logits ``y_pred``.

    .. math::

        \frac{\partial L}{\partial x_{ic}} = \frac{1}{N} \Bigl( \operatorname{softmax}(x_i)_c
        \sum_{k} \tilde t_{ik} - \tilde t_{ic} \Bigr) \quad (\texttt{"mean"}),

    which is :math:`(\operatorname{softmax}(x_i) - \tilde t_i) / N` when the targets sum to 1 (always the case
    for labels). The softmax is computed with the row maximum subtracted, so it is finite for any finite
    logits and the gradient lies in [-1, 1] / N. Equals torch's autograd gradient of
    ``torch.nn.functional.cross_entropy`` (with the same ``label_smoothing``) and TensorFlow's of
    ``keras.losses.CategoricalCrossentropy(from_logits=True)``.

    With class weights :math:`w` the targets become :math:`u_{ic} = w_c \tilde t_{ic}` and the gradient is

    .. math::

        \begin{aligned}
        \frac{\partial L}{\partial x_{ic}} &= \frac{1}{D} \Bigl( \operatorname{softmax}(x_i)_c
            \sum_{k} u_{ik} - u_{ic} \Bigr) \quad (\texttt{"mean"}), \\
        D &= \sum_i w_{y_i} \text{ (labels)}, \qquad D = N \text{ (probabilities)},
        \end{aligned}

    (:math:`D = 1` for ``"sum"`` and ``"none"``), torch's autograd gradient of
    ``cross_entropy(y_pred, y_true, weight=w, label_smoothing=label_smoothing)``.

    Parameters
    ----------
    y_true : array_like
        Integer class labels of shape (N,), or class probabilities of shape (N, C).
    y_pred : array_like
        Logits of shape (N, C).
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).
    label_smoothing : float
        As in :func:`cross_entropy`.
    weight : array_like, optional
        As in :func:`cross_entropy`.

    Returns
    -------
    numpy.ndarray
        The gradient, shape (N, C), in the logits' float dtype.

    Raises
    ------
    ValueError
        As :func:`cross_entropy`.

    Examples
    --------
    >>> print(cross_entropy_grad([0], [[0.0, 0.0]], reduction="sum"))
    [[-0.5  0.5]]
    >>> print(cross_entropy_grad([0], [[0.0, 0.0]], reduction="sum", weight=[3.0, 1.0]))
    [[-1.5  1.5]]
    """
    labels, probabilities, logits, smoothing = _prepare(y_true, y_pred, reduction, label_smoothing)
    if weight is None:
        scale = gradient_scale(logits.shape[0], reduction)
        gradient, all_finite = _gradient(logits, labels, probabilities, smoothing, scale)
        if not all_finite:
            check_finite(logits, "y_pred")
        return gradient
    weights = _class_weights(weight, logits)
    scale = 1.0
    if reduction == "mean":
        scale = 1.0 / _weighted_mean_denominator(labels, weights, logits.shape[0])
    if labels is not None and smoothing == 0:
        gradient, all_finite = _gradient(logits, labels, None, 0.0, scale)
        gradient *= weights[labels, np.newaxis]
    else:
        targets = _weighted_targets(labels, probabilities, weights, smoothing, logits.shape[1])
        gradient, all_finite = _gradient(logits, None, targets, 0.0, scale)
    if not all_finite:
        check_finite(logits, "y_pred")
    return gradient
