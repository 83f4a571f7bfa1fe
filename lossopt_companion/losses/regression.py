"""Regression losses: mean squared error, mean absolute error and the Huber loss, with their gradients."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike

from .._validation import check_finite, check_positive
from . import _parallel
from ._common import (
    FloatArray,
    LossValue,
    apply_reduction,
    gradient_scale,
    prepare_finite_pair,
    prepare_pair,
)

__all__ = ["mse", "mse_grad", "mae", "mae_grad", "huber", "huber_grad"]


def _sum_of_squared_differences(y_true: FloatArray, y_pred: FloatArray) -> np.floating[Any]:
    """The sum of ``(y_pred - y_true) ** 2``, in cache-sized blocks, with no temporary as large as the input.

    Each block is subtracted into a scratch buffer, squared in place and summed (pairwise) while the buffer is
    still in cache; the per-block sums are then added in block order, so the result does not depend on
    threads. Overflow and NaN are not reported here: the caller sees a non-finite sum and takes the checked
    path.
    """
    true_flat, pred_flat = y_true.ravel(), y_pred.ravel()
    n_elements = pred_flat.size
    per_block = _parallel.items_per_block(2 * pred_flat.itemsize)
    n_blocks = _parallel.block_count(n_elements, per_block)
    block_sums = np.empty(n_blocks, dtype=pred_flat.dtype)

    def process_blocks(first: int, stop: int) -> None:
        scratch = np.empty(min(per_block, n_elements), dtype=pred_flat.dtype)
        # errstate is per thread: set it in the worker. A non-finite block sum is dealt with by the caller.
        with np.errstate(over="ignore", invalid="ignore"):
            for block in range(first, stop):
                start = block * per_block
                end = min(start + per_block, n_elements)
                difference = scratch[: end - start]
                np.subtract(pred_flat[start:end], true_flat[start:end], out=difference)
                np.multiply(difference, difference, out=difference)
                block_sums[block] = np.add.reduce(difference)

    _parallel.run_blocks(process_blocks, n_blocks, 2 * pred_flat.nbytes, compute_bound=False)
    with np.errstate(over="ignore", invalid="ignore"):
        return np.add.reduce(block_sums)


def _scaled_differences(y_true: FloatArray, y_pred: FloatArray, scale: float) -> tuple[FloatArray, bool]:
    """``scale * (y_pred - y_true)`` in cache-sized blocks, and whether every value of it is finite.

    The subtraction writes straight into the output and the scaling runs while that block is in cache. Summing
    the block (a cheap pass, in cache) tells whether it holds a NaN or an infinity, so that the inputs need to
    be checked only when something is wrong.
    """
    true_flat, pred_flat = y_true.ravel(), y_pred.ravel()
    gradient = np.empty(y_pred.shape, dtype=y_pred.dtype)
    gradient_flat = gradient.reshape(-1)
    n_elements = pred_flat.size
    per_block = _parallel.items_per_block(2 * pred_flat.itemsize)
    n_blocks = _parallel.block_count(n_elements, per_block)
    block_is_finite = np.empty(n_blocks, dtype=bool)

    def process_blocks(first: int, stop: int) -> None:
        with np.errstate(over="ignore", invalid="ignore"):
            for block in range(first, stop):
                start = block * per_block
                end = min(start + per_block, n_elements)
                out = gradient_flat[start:end]
                np.subtract(pred_flat[start:end], true_flat[start:end], out=out)
                np.multiply(out, scale, out=out)
                block_is_finite[block] = np.isfinite(np.add.reduce(out))

    _parallel.run_blocks(process_blocks, n_blocks, 2 * pred_flat.nbytes, compute_bound=False)
    return gradient, bool(block_is_finite.all())


def mse(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> LossValue:
    r"""Mean squared error.

    .. math::

        \ell_i = (\hat y_i - y_i)^2, \qquad
        L = \frac{1}{n} \sum_{i=1}^{n} \ell_i \quad (\text{reduction="mean"}).

    The gradient is :math:`\partial L / \partial \hat y_i = 2 (\hat y_i - y_i) / n` (see :func:`mse_grad`).
    Equals ``torch.nn.functional.mse_loss(y_pred, y_true)`` (note torch's argument order: prediction first)
    and ``keras.losses.MeanSquaredError()(y_true, y_pred)``.

    Large inputs are processed in cache-sized blocks on all cores; the result is the same bit for bit whatever
    the number of cores.

    Parameters
    ----------
    y_true : array_like
        Targets :math:`y`.
    y_pred : array_like
        Predictions :math:`\hat y`, the same shape as ``y_true``.
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the elementwise losses
        :math:`\ell_i`, ``"sum"`` their sum, ``"mean"`` their mean.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss: a scalar, or an array of the inputs' shape for ``"none"``; float32 when both inputs are
        float32, float64 otherwise.

    Raises
    ------
    ValueError
        If the shapes differ (no broadcasting: (N,) against (N, 1) is an error), an input is empty or holds a
        NaN or an infinity, or ``reduction`` is unknown.

    Examples
    --------
    >>> print(mse([1.0, 2.0], [1.0, 4.0]))
    2.0
    >>> print(mse([1.0, 2.0], [1.0, 4.0], reduction="none"))
    [0. 4.]
    """
    y_true, y_pred = prepare_pair(y_true, y_pred, reduction)
    if reduction != "none":
        total = _sum_of_squared_differences(y_true, y_pred)
        # A finite total proves both inputs finite (a NaN or an infinity would have reached it), so the
        # blocked pass doubles as the finiteness check.
        if np.isfinite(total):
            return total if reduction == "sum" else total / y_pred.size
    # The checked path: reports a NaN or an infinity in the inputs; otherwise the squares overflowed, and the
    # result is +inf as in torch (or, for the mean, recomputed by `apply_reduction` so as not to overflow
    # needlessly).
    check_finite(y_true, "y_true")
    check_finite(y_pred, "y_pred")
    with np.errstate(over="ignore"):
        squared_errors = np.square(y_pred - y_true)
    return apply_reduction(squared_errors, reduction)


def mse_grad(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> FloatArray:
    r"""Gradient of :func:`mse` with respect to ``y_pred``.

    .. math::

        \frac{\partial L}{\partial \hat y_i} = \frac{2}{n} (\hat y_i - y_i) \quad (\texttt{"mean"}), \qquad
        2 (\hat y_i - y_i) \quad (\texttt{"sum"} \text{ and } \texttt{"none"}).

    Equals ``y_pred.grad`` after ``torch.nn.functional.mse_loss(y_pred, y_true).backward()`` (for ``"none"``:
    after ``.sum().backward()``), and TensorFlow's ``tf.GradientTape`` gradient of
    ``keras.losses.MeanSquaredError``.

    Parameters
    ----------
    y_true : array_like
        Targets :math:`y`.
    y_pred : array_like
        Predictions :math:`\hat y`, the same shape as ``y_true``.
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
        As :func:`mse`.

    Examples
    --------
    >>> print(mse_grad([1.0, 2.0], [1.0, 4.0]))
    [0. 2.]
    """
    y_true, y_pred = prepare_pair(y_true, y_pred, reduction)
    scale = 2.0 * gradient_scale(y_pred.size, reduction)
    gradient, all_finite = _scaled_differences(y_true, y_pred, scale)
    if not all_finite:
        # Either an input holds a NaN or an infinity (reported here), or the difference overflowed.
        check_finite(y_true, "y_true")
        check_finite(y_pred, "y_pred")
    return gradient


def mae(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> LossValue:
    r"""Mean absolute error.

    .. math::

        \ell_i = |\hat y_i - y_i|, \qquad L = \frac{1}{n} \sum_{i=1}^{n} \ell_i \quad (\texttt{"mean"}).

    The gradient is :math:`\operatorname{sign}(\hat y_i - y_i) / n`, taken as 0 where :math:`\hat y_i = y_i`
    (see :func:`mae_grad`). Equals ``torch.nn.functional.l1_loss(y_pred, y_true)`` and
    ``keras.losses.MeanAbsoluteError()(y_true, y_pred)``.

    Parameters
    ----------
    y_true : array_like
        Targets :math:`y`.
    y_pred : array_like
        Predictions :math:`\hat y`, the same shape as ``y_true``.
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
        If the shapes differ, an input is empty or not finite, or ``reduction`` is unknown.

    Examples
    --------
    >>> print(mae([1.0, 2.0], [1.0, 4.0]))
    1.0
    """
    y_true, y_pred = prepare_finite_pair(y_true, y_pred, reduction)
    return apply_reduction(np.abs(y_pred - y_true), reduction)


def mae_grad(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> FloatArray:
    r"""Gradient of :func:`mae` with respect to ``y_pred``.

    .. math::

        \frac{\partial L}{\partial \hat y_i} = \frac{1}{n} \operatorname{sign}(\hat y_i - y_i)
        \quad (\texttt{"mean"}), \qquad \operatorname{sign}(0) = 0.

    At :math:`\hat y_i = y_i` the loss has a kink and 0 is the subgradient chosen, as by torch's autograd for
    ``torch.nn.functional.l1_loss`` and TensorFlow's for ``keras.losses.MeanAbsoluteError``.

    Parameters
    ----------
    y_true : array_like
        Targets :math:`y`.
    y_pred : array_like
        Predictions :math:`\hat y`, the same shape as ``y_true``.
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
        As :func:`mae`.

    Examples
    --------
    >>> print(mae_grad([1.0, 2.0, 3.0], [0.0, 2.0, 5.0], reduction="sum"))
    [-1.  0.  1.]
    """
    y_true, y_pred = prepare_finite_pair(y_true, y_pred, reduction)
    return np.sign(y_pred - y_true) * gradient_scale(y_pred.size, reduction)


def huber(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean", delta: float = 1.0) -> LossValue:
    r"""Huber loss: quadratic for small residuals, linear for large ones.

    With the residual :math:`r_i = \hat y_i - y_i`,

    .. math::

        \ell_i = \begin{cases} \tfrac12 r_i^2 & |r_i| \le \delta, \\
        \delta \left(|r_i| - \tfrac12 \delta\right) & |r_i| > \delta, \end{cases}

    a function with a continuous first derivative :math:`\operatorname{clip}(r_i, -\delta, \delta)` (see
    :func:`huber_grad`). Equals ``torch.nn.functional.huber_loss(y_pred, y_true, delta=delta)`` and
    ``keras.losses.Huber(delta=delta)(y_true, y_pred)``. (Torch's ``smooth_l1_loss`` is this loss divided by
    :math:`\delta`.)

    Parameters
    ----------
    y_true : array_like
        Targets :math:`y`.
    y_pred : array_like
        Predictions :math:`\hat y`, the same shape as ``y_true``.
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the elementwise losses, ``"sum"``
        their sum, ``"mean"`` their mean.
    delta : float
        The residual size :math:`\delta > 0` at which the loss turns from quadratic to linear.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss, in the inputs' float dtype.

    Raises
    ------
    ValueError
        If the shapes differ, an input is empty or not finite, ``reduction`` is unknown, or ``delta`` is not a
        positive number.

    Examples
    --------
    >>> print(huber([0.0, 0.0], [0.5, 3.0], reduction="none"))
    [0.125 2.5  ]
    """
    delta = check_positive(delta, "delta")
    y_true, y_pred = prepare_finite_pair(y_true, y_pred, reduction)
    absolute_residual = np.abs(y_pred - y_true)
    quadratic = 0.5 * np.square(absolute_residual)
    linear = delta * (absolute_residual - 0.5 * delta)
    return apply_reduction(np.where(absolute_residual <= delta, quadratic, linear), reduction)


def huber_grad(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean", delta: float = 1.0
) -> FloatArray:
    r"""Gradient of :func:`huber` with respect to ``y_pred``.

    .. math::

        \frac{\partial L}{\partial \hat y_i} = \frac{1}{n} \operatorname{clip}(\hat y_i - y_i, -\delta,
        \delta) \quad (\texttt{"mean"}).

    Equals the gradient of ``torch.nn.functional.huber_loss`` (torch's autograd) and of ``keras.losses.Huber``
    (``tf.GradientTape``).

    Parameters
    ----------
    y_true : array_like
        Targets :math:`y`.
    y_pred : array_like
        Predictions :math:`\hat y`, the same shape as ``y_true``.
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).
    delta : float
        As in :func:`huber`.

    Returns
    -------
    numpy.ndarray
        The gradient, the shape and dtype of the loss's inputs.

    Raises
    ------
    ValueError
        As :func:`huber`.

    Examples
    --------
    >>> print(huber_grad([0.0, 0.0], [0.5, 3.0], reduction="sum"))
    [0.5 1. ]
    """
    delta = check_positive(delta, "delta")
    y_true, y_pred = prepare_finite_pair(y_true, y_pred, reduction)
    return np.clip(y_pred - y_true, -delta, delta) * gradient_scale(y_pred.size, reduction)
