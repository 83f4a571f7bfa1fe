"""Binary cross-entropy, from probabilities and from logits, with their gradients."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._common import (
    FloatArray,
    LossValue,
    apply_reduction,
    check_loss_weights,
    check_probabilities,
    gradient_scale,
    prepare_finite_pair,
)

__all__ = [
    "binary_cross_entropy",
    "binary_cross_entropy_grad",
    "binary_cross_entropy_with_logits",
    "binary_cross_entropy_with_logits_grad",
]

#: torch clamps each logarithm of ``binary_cross_entropy`` at -100, so that a probability of exactly 0 or 1
#: costs at most 100 instead of infinity (aten/src/ATen/native/Loss.cpp).
LOG_CLAMP = -100.0

#: torch's floor for the denominator p (1 - p) of the gradient. It is the C++ constant ``constexpr float
#: EPSILON = 1e-12`` converted to the tensor's type, so in float64 it is float32's nearest value to 1e-12
#: (9.9999999600419720e-13), not the double 1e-12: taking it from float32 reproduces torch exactly.
GRADIENT_DENOMINATOR_FLOOR = float(np.float32(1e-12))


def _prepare_probabilities(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str
) -> tuple[FloatArray, FloatArray]:
    y_true, y_pred = prepare_finite_pair(y_true, y_pred, reduction)
    check_probabilities(y_true, "y_true")
    check_probabilities(y_pred, "y_pred")
    return y_true, y_pred


def binary_cross_entropy(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> LossValue:
    r"""Binary cross-entropy of predicted probabilities, each logarithm clamped at -100 as in torch.

    .. math::

        \ell_i = -\bigl[\, y_i \max(\log p_i, -100) + (1 - y_i) \max(\log(1 - p_i), -100) \,\bigr].

    The gradient is :math:`(p_i - y_i) / \max(p_i (1 - p_i), 10^{-12})` (see
    :func:`binary_cross_entropy_grad`). Equals ``torch.nn.functional.binary_cross_entropy(y_pred, y_true)``,
    including at :math:`p_i = 0` and :math:`p_i = 1`, where the clamp makes the loss at most 100 per element.

    ``keras.losses.BinaryCrossentropy()`` agrees for :math:`10^{-7} \le p_i \le 1 - 10^{-7}` but clips the
    probabilities to that interval instead of clamping the logarithms, so at :math:`p_i = 0` with
    :math:`y_i = 1` Keras gives :math:`-\log 10^{-7} \approx 16.12` where torch and this function give 100.
    :math:`\log(1 - p)` is computed as ``log1p(-p)``, which is accurate for tiny :math:`p`.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`y_i \in [0, 1]` (usually labels 0 or 1).
    y_pred : array_like
        Predicted probabilities :math:`p_i \in [0, 1]`, the same shape as ``y_true``.
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
        If the shapes differ, an input is empty or not finite, a value lies outside [0, 1], or ``reduction``
        is unknown.

    Examples
    --------
    >>> print(binary_cross_entropy([1.0, 0.0, 1.0], [0.5, 0.5, 0.0], reduction="none"))
    [  0.69314718   0.69314718 100.        ]
    """
    y_true, y_pred = _prepare_probabilities(y_true, y_pred, reduction)
    # log(0) = -inf is expected here, and clamped to -100 on the same line: silence the divide-by-zero
    # warning.
    with np.errstate(divide="ignore"):
        log_p = np.maximum(np.log(y_pred), LOG_CLAMP)
        log_one_minus_p = np.maximum(np.log1p(-y_pred), LOG_CLAMP)
    return apply_reduction(-(y_true * log_p + (1 - y_true) * log_one_minus_p), reduction)


def binary_cross_entropy_grad(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> FloatArray:
    r"""Gradient of :func:`binary_cross_entropy` with respect to the probabilities ``y_pred``.

    .. math::

        \frac{\partial L}{\partial p_i} = \frac{1}{n} \, \frac{p_i - y_i}{\max\bigl(p_i (1 - p_i),
        10^{-12}\bigr)} \quad (\texttt{"mean"}).

    This is torch's backward formula for ``torch.nn.functional.binary_cross_entropy`` (``Loss.cpp``), floor
    included: at :math:`p_i = 0` or :math:`1` with a wrong label the gradient is :math:`\pm 10^{12}` (finite),
    where the exact derivative of the clamped loss would be 0. Inside :math:`(0, 1)` it is the exact
    derivative, :math:`-y/p + (1 - y)/(1 - p)`.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`y_i \in [0, 1]`.
    y_pred : array_like
        Predicted probabilities :math:`p_i \in [0, 1]`, the same shape as ``y_true``.
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
        As :func:`binary_cross_entropy`.

    Examples
    --------
    >>> print(binary_cross_entropy_grad([1.0, 0.0], [0.5, 0.5], reduction="sum"))
    [-2.  2.]
    """
    y_true, y_pred = _prepare_probabilities(y_true, y_pred, reduction)
    denominator = np.maximum(y_pred * (1 - y_pred), GRADIENT_DENOMINATOR_FLOOR)
    return (y_pred - y_true) / denominator * gradient_scale(y_pred.size, reduction)


def _prepare_logits(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str, pos_weight: ArrayLike | None
) -> tuple[FloatArray, FloatArray, FloatArray | None]:
    y_true, logits = prepare_finite_pair(y_true, y_pred, reduction)
    check_probabilities(y_true, "y_true")
    if pos_weight is None:
        return y_true, logits, None
    expected = (
        f"a scalar, an array of shape ({logits.shape[-1]},) (one weight per entry of y_pred's last axis), "
        f"or any shape that broadcasts to y_pred's shape {logits.shape}"
    )
    return y_true, logits, check_loss_weights(
        pos_weight, "pos_weight", logits.shape, logits.dtype, expected, broadcast=True
    )


def _sigmoid(logits: FloatArray) -> FloatArray:
    # exp(-|x|) lies in (0, 1] and never overflows; 1 / (1 + e) for x >= 0 and e / (1 + e) for x < 0 are both
    # sigma(x), each evaluated where it cannot overflow (exp(-x) would overflow for x < -88 in float32).
    exp_minus_abs = np.exp(-np.abs(logits))
    return np.where(logits >= 0, 1 / (1 + exp_minus_abs), exp_minus_abs / (1 + exp_minus_abs))


def binary_cross_entropy_with_logits(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean", pos_weight: ArrayLike | None = None
) -> LossValue:
    r"""Binary cross-entropy of logits: :func:`binary_cross_entropy` of :math:`\sigma(x)`, computed stably.

    With :math:`\sigma(x) = 1 / (1 + e^{-x})`,

    .. math::

        \begin{aligned}
        \ell_i &= -\bigl[ y_i \log \sigma(x_i) + (1 - y_i) \log(1 - \sigma(x_i)) \bigr] \\
               &= \max(x_i, 0) - y_i x_i + \log\bigl(1 + e^{-|x_i|}\bigr),
        \end{aligned}

    where the right-hand form is finite for every finite logit: :math:`e^{-|x|} \le 1` cannot overflow, and
    ``log1p`` keeps its tiny values. The part :math:`\max(x, 0) - y x` is evaluated as :math:`(1 - y) x` for
    :math:`x \ge 0` and :math:`-y x` for :math:`x < 0`, which does not cancel for huge :math:`|x|`. The
    gradient is :math:`\sigma(x_i) - y_i` (see :func:`binary_cross_entropy_with_logits_grad`).

    Equals ``torch.nn.functional.binary_cross_entropy_with_logits(y_pred, y_true)`` and
    ``keras.losses.BinaryCrossentropy(from_logits=True)(y_true, y_pred)`` (TensorFlow's
    ``tf.nn.sigmoid_cross_entropy_with_logits`` uses the same stable form), for logits of any size: there is
    no clipping, so a logit of 1e4 with the wrong label costs 1e4.

    **Weighting the positives.** With ``pos_weight`` :math:`p` the positive term is multiplied by :math:`p`:

    .. math::

        \begin{aligned}
        \ell_i &= -\bigl[ p\, y_i \log \sigma(x_i) + (1 - y_i) \log(1 - \sigma(x_i)) \bigr] \\
               &= (1 - y_i)\, x_i + \bigl(p\, y_i + 1 - y_i\bigr) \log\bigl(1 + e^{-x_i}\bigr),
        \end{aligned}

    torch's form (``aten/src/ATen/native/Loss.cpp``), evaluated here as :math:`(1 - y_i) x_i` for
    :math:`x_i \ge 0` and :math:`-p\, y_i x_i` for :math:`x_i < 0`, plus
    :math:`(p\, y_i + 1 - y_i) \log(1 + e^{-|x_i|})`, which again cannot overflow or cancel. :math:`p` is a
    scalar, or an array broadcast against ``y_pred`` as torch broadcasts it: shape (C,) gives one weight per
    entry of the last axis (per class of a multi-label (N, C) problem). ``"mean"`` still divides by the number
    of elements, not by the weights. Equals
    ``torch.nn.functional.binary_cross_entropy_with_logits(y_pred, y_true, pos_weight=p)`` and, elementwise,
    TensorFlow's ``tf.nn.weighted_cross_entropy_with_logits(y_true, y_pred, pos_weight=p)``. Keras's losses
    have no such argument; for labels in {0, 1} and one output per sample, ``fit(..., class_weight={0: 1,
    1: p})`` gives the same mean. :math:`p = n_- / n_+` balances the two classes' total weight.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`y_i \in [0, 1]` (usually labels 0 or 1).
    y_pred : array_like
        Logits :math:`x_i`, the same shape as ``y_true``.
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the elementwise losses, ``"sum"``
        their sum, ``"mean"`` their mean.
    pos_weight : array_like, optional
        Non-negative weight :math:`p` of the positive term: a scalar, shape (C,) for ``y_pred`` of shape
        (..., C), or any shape that broadcasts to ``y_pred``'s. ``None`` (default) is :math:`p = 1`.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss, in the inputs' float dtype.

    Raises
    ------
    ValueError
        If the shapes differ, an input is empty or not finite, a target lies outside [0, 1], ``reduction``
        is unknown, or ``pos_weight`` does not broadcast to ``y_pred``'s shape or holds a negative or
        non-finite value.

    Examples
    --------
    >>> y, logits = [1.0, 0.0, 1.0], [0.0, 0.0, -1e4]
    >>> print(binary_cross_entropy_with_logits(y, logits, reduction="none"))
    [6.93147181e-01 6.93147181e-01 1.00000000e+04]
    >>> print(binary_cross_entropy_with_logits(y, logits, reduction="none", pos_weight=3.0))
    [2.07944154e+00 6.93147181e-01 3.00000000e+04]

    A weight per class (column), broadcast over the rows:

    >>> elementwise = binary_cross_entropy_with_logits(
    ...     [[1.0, 1.0]], [[0.0, 0.0]], pos_weight=[1.0, 2.0], reduction="none"
    ... )
    >>> print(elementwise)
    [[0.69314718 1.38629436]]
    """
    y_true, logits, pos_weight_array = _prepare_logits(y_true, y_pred, reduction, pos_weight)
    if pos_weight_array is None:
        linear_part = np.where(logits >= 0, (1 - y_true) * logits, -y_true * logits)
        return apply_reduction(linear_part + np.log1p(np.exp(-np.abs(logits))), reduction)
    # p y + (1 - y) is a sum of non-negative terms: no cancellation (torch writes it 1 + (p - 1) y). A
    # weighted loss beyond the float range is +inf, as in torch: silence the overflow warning.
    with np.errstate(over="ignore"):
        weighted_target = pos_weight_array * y_true
        log_weight = weighted_target + (1 - y_true)
        linear_part = np.where(logits >= 0, (1 - y_true) * logits, -weighted_target * logits)
        values = linear_part + log_weight * np.log1p(np.exp(-np.abs(logits)))
    return apply_reduction(values, reduction)


def binary_cross_entropy_with_logits_grad(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean", pos_weight: ArrayLike | None = None
) -> FloatArray:
    r"""Gradient of :func:`binary_cross_entropy_with_logits` with respect to the logits ``y_pred``.

    .. math::

        \frac{\partial L}{\partial x_i} = \frac{1}{n} \bigl(\sigma(x_i) - y_i\bigr) \quad (\texttt{"mean"}),

    with :math:`\sigma` evaluated without overflow (so the gradient lies in [-1, 1] / n for every finite
    logit). Equals torch's autograd gradient of ``torch.nn.functional.binary_cross_entropy_with_logits`` and
    TensorFlow's of ``keras.losses.BinaryCrossentropy(from_logits=True)``.

    With ``pos_weight`` :math:`p` it is

    .. math::

        \frac{\partial L}{\partial x_i} = \frac{1}{n} \Bigl( \bigl(p\, y_i + 1 - y_i\bigr)\, \sigma(x_i)
        - p\, y_i \Bigr) \quad (\texttt{"mean"}),

    torch's backward formula (``binary_cross_entropy_with_logits_backward``) and its autograd gradient of
    ``binary_cross_entropy_with_logits(y_pred, y_true, pos_weight=p)``.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`y_i \in [0, 1]`.
    y_pred : array_like
        Logits :math:`x_i`, the same shape as ``y_true``.
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).
    pos_weight : array_like, optional
        As in :func:`binary_cross_entropy_with_logits`.

    Returns
    -------
    numpy.ndarray
        The gradient, the shape and dtype of the loss's inputs.

    Raises
    ------
    ValueError
        As :func:`binary_cross_entropy_with_logits`.

    Examples
    --------
    >>> y, logits = [1.0, 0.0], [0.0, 1e30]
    >>> print(binary_cross_entropy_with_logits_grad(y, logits, reduction="sum"))
    [-0.5  1. ]
    >>> print(binary_cross_entropy_with_logits_grad(y, logits, reduction="sum",
    ...                                             pos_weight=3.0))
    [-1.5  1. ]
    """
    y_true, logits, pos_weight_array = _prepare_logits(y_true, y_pred, reduction, pos_weight)
    scale = gradient_scale(logits.size, reduction)
    if pos_weight_array is None:
        return (_sigmoid(logits) - y_true) * scale
    with np.errstate(over="ignore"):  # beyond the float range: +-inf, as in torch
        weighted_target = pos_weight_array * y_true
        return ((weighted_target + (1 - y_true)) * _sigmoid(logits) - weighted_target) * scale
