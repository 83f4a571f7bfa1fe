r"""The Kullback-Leibler divergence of rows of probabilities :math:`q` (:func:`kl_divergence`).

Its versions for logits, :func:`~lossopt_companion.losses.kl_divergence_with_logits` and the distillation loss,
are in ``lossopt_companion.losses.distillation``.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from ._common import (
    FloatArray,
    LossValue,
    apply_reduction,
    check_probabilities,
    check_two_dimensional,
    gradient_scale,
    prepare_finite_pair,
)

__all__ = ["kl_divergence", "kl_divergence_grad"]


def _prepare_distributions(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str
) -> tuple[FloatArray, FloatArray]:
    p, q = prepare_finite_pair(y_true, y_pred, reduction)
    check_two_dimensional(q, "y_pred", "class probabilities")
    check_probabilities(p, "y_true")
    check_probabilities(q, "y_pred")
    return p, q


def kl_divergence(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> LossValue:
    r"""Kullback-Leibler divergence :math:`D_{\mathrm{KL}}(p \,\|\, q)` of each row, with :math:`0 \log 0 =
    0`.

    For target probabilities :math:`p_i` (``y_true``) and predicted probabilities :math:`q_i` (``y_pred``),

    .. math::

        \ell_i = \sum_{c \,:\, p_{ic} > 0} p_{ic} \log \frac{p_{ic}}{q_{ic}},

    with the gradient :math:`-p_{ic} / q_{ic}` (0 where :math:`p_{ic} = 0`; see :func:`kl_divergence_grad`).
    ``"none"`` returns :math:`\ell_i` per row; ``"mean"`` averages over the N rows. Classes with
    :math:`p_{ic} = 0` contribute exactly 0, whatever :math:`q_{ic}`. Where :math:`q_{ic} = 0` but
    :math:`p_{ic} > 0` the divergence is :math:`+\infty` (q rules out an outcome that happens), and this
    function returns ``inf`` for that row, without a warning and never a NaN.

    Equals ``torch.nn.functional.kl_div(q.log(), p, reduction="batchmean")`` -- note torch's argument order:
    the **log** of the prediction first, the target second, whereas this function and Keras take (p, q) -- and
    ``keras.losses.KLDivergence()(p, q)`` for :math:`q` inside :math:`[10^{-7}, 1]`. The differences at the
    edges: Keras clips both arguments to :math:`[10^{-7}, 1]`, so a zero in :math:`q` costs a finite
    :math:`p \log(p / 10^{-7})` and a zero in :math:`p` a small non-zero term; torch returns NaN for
    :math:`p_{ic} = q_{ic} = 0` (it computes :math:`0 \cdot \log 0` as ``0 * -inf``), where this function
    counts 0. Rows need not sum to 1 (no framework requires it), but the divergence is non-negative only when
    they do.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`p`, shape (N, C), values in [0, 1].
    y_pred : array_like
        Predicted probabilities :math:`q`, the same shape, values in [0, 1].
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the per-row divergences (shape
        (N,)), ``"sum"`` their sum, ``"mean"`` their mean.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The divergence, in the inputs' float dtype; ``inf`` where :math:`q` is 0 and :math:`p` is not.

    Raises
    ------
    ValueError
        If the shapes differ or are not (N, C), an input is not finite, a value lies outside [0, 1], or
        ``reduction`` is unknown.

    Examples
    --------
    >>> print(kl_divergence([[0.5, 0.5, 0.0]], [[0.25, 0.5, 0.25]], reduction="none"))
    [0.34657359]
    >>> print(kl_divergence([[0.5, 0.5]], [[1.0, 0.0]]))
    inf
    """
    p, q = _prepare_distributions(y_true, y_pred, reduction)
    counted = p > 0
    # Logarithms are taken only where p > 0 (elsewhere the term is 0 by convention, so 0 * log 0 never makes a
    # NaN). log(0) = -inf for q = 0 is the true value there: silence the divide-by-zero warning.
    with np.errstate(divide="ignore"):
        log_p = np.log(p, out=np.zeros_like(p), where=counted)
        log_q = np.log(q, out=np.zeros_like(q), where=counted)
    return apply_reduction((p * (log_p - log_q)).sum(axis=1), reduction)


def kl_divergence_grad(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> FloatArray:
    r"""Gradient of :func:`kl_divergence` with respect to the predicted probabilities ``y_pred``.

    .. math::

        \frac{\partial L}{\partial q_{ic}} = -\frac{1}{N} \frac{p_{ic}}{q_{ic}} \quad (\texttt{"mean"}),
        \qquad 0 \text{ where } p_{ic} = 0.

    Where :math:`q_{ic} = 0 < p_{ic}` the gradient is ``-inf``, the limit of :math:`-p/q` (torch's autograd
    gives the same); where :math:`p_{ic} = 0` it is 0 even if :math:`q_{ic} = 0` (torch gives NaN there).
    Inside the simplex it equals torch's autograd gradient of ``torch.nn.functional.kl_div(q.log(), p,
    reduction="batchmean")`` with respect to ``q``, and TensorFlow's of ``keras.losses.KLDivergence`` for
    :math:`q \ge 10^{-7}`. The entries of :math:`q` are treated as free variables. For :math:`q` the softmax
    of logits :math:`x`, the gradient with respect to :math:`x` is :func:`cross_entropy_grad` of (p, x): the
    two losses differ by the entropy of :math:`p`, which does not depend on :math:`x`.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`p`, shape (N, C).
    y_pred : array_like
        Predicted probabilities :math:`q`, the same shape.
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).

    Returns
    -------
    numpy.ndarray
        The gradient, shape (N, C), in the inputs' float dtype.

    Raises
    ------
    ValueError
        As :func:`kl_divergence`.

    Examples
    --------
    >>> print(kl_divergence_grad([[0.5, 0.5, 0.0]], [[0.25, 0.5, 0.25]]))
    [[-2. -1.  0.]]
    """
    p, q = _prepare_distributions(y_true, y_pred, reduction)
    counted = p > 0
    # -p / 0 = -inf where q = 0 < p: the true limit, returned without a warning (as is an overflow of p / q
    # for a subnormal q).
    with np.errstate(divide="ignore", over="ignore"):
        minus_ratio = np.divide(-p, q, out=np.zeros_like(p), where=counted)
    return minus_ratio * gradient_scale(p.shape[0], reduction)


# ------------------------------------------------------------------------------------------------------------
