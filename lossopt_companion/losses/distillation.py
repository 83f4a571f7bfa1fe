r"""The Kullback-Leibler divergence of logits, and Hinton's distillation loss.

- :func:`kl_divergence_with_logits` takes target probabilities :math:`p` and logits :math:`z` and works with
  :math:`\log \operatorname{softmax}(z)` computed through the log-sum-exp, so it is finite for any finite
  logits (no :math:`\log 0`);
- :func:`distillation` is the soft-target loss of Hinton et al. (2015), a KL divergence between the teacher's
  and the student's softmax at a temperature :math:`T`, scaled by :math:`T^2`.

:func:`~lossopt_companion.losses.kl_divergence` (in ``lossopt_companion.losses.divergence``) takes
probabilities instead of logits.
"""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike

from .._validation import (
    as_float_array,
    check_finite,
    check_positive,
    check_reduction,
    check_same_shape,
    result_dtype,
)
from ._common import (
    FloatArray,
    LossValue,
    apply_reduction,
    check_probabilities,
    check_two_dimensional,
    gradient_scale,
    prepare_finite_pair,
)

__all__ = ["distillation", "distillation_grad", "kl_divergence_with_logits", "kl_divergence_with_logits_grad"]


def _log_softmax(logits: FloatArray) -> FloatArray:
    r""":math:`\log \operatorname{softmax}(z)` of each row, :math:`z - m - \log \sum_c e^{z_c - m}` with the
    row maximum :math:`m`: every exponent is :math:`\le 0` and the sum lies in :math:`[1, C]`, so nothing
    overflows and the logarithm never sees 0 (the log-sum-exp trick, as in :func:`cross_entropy`)."""
    # "over": float32 logits near +-3.4e38, where z - m exceeds the float range and becomes -inf (exp: 0).
    with np.errstate(over="ignore"):
        shifted = logits - logits.max(axis=1, keepdims=True)
        return shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))


def _divergence_rows(p: FloatArray, log_p: FloatArray, log_q: FloatArray) -> FloatArray:
    r""":math:`\sum_{c : p_c > 0} p_c (\log p_c - \log q_c)` of each row; terms with :math:`p_c = 0` are 0."""
    counted = p > 0
    # Differences first, then the weighted sum (torch's order too): for q close to p the divergence is small
    # and a difference of the two sums, cross-entropy minus entropy, would lose its leading digits.
    terms = np.multiply(p, log_p - log_q, out=np.zeros_like(p), where=counted)
    return terms.sum(axis=1)


def _prepare_target_and_logits(
    y_true: ArrayLike, y_pred: ArrayLike, reduction: str
) -> tuple[FloatArray, FloatArray]:
    p, logits = prepare_finite_pair(y_true, y_pred, reduction)
    check_two_dimensional(logits, "y_pred", "logits")
    check_probabilities(p, "y_true")
    return p, logits


def kl_divergence_with_logits(y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean") -> LossValue:
    r"""Kullback-Leibler divergence :math:`D_{\mathrm{KL}}(p \,\|\, \operatorname{softmax}(z))` of each row,
    from logits :math:`z`, stable for any finite logits.

    For target probabilities :math:`p_i` (``y_true``) and logits :math:`z_i` (``y_pred``),

    .. math::

        \begin{aligned}
        \ell_i &= \sum_{c \,:\, p_{ic} > 0} p_{ic}
                  \bigl( \log p_{ic} - \log \operatorname{softmax}(z_i)_c \bigr), \\
        \log \operatorname{softmax}(z_i)_c &= z_{ic} - m_i - \log \sum_k e^{z_{ik} - m_i},
        \end{aligned}

    with :math:`m_i = \max_k z_{ik}` (the log-sum-exp trick: no exponential overflows and no logarithm sees
    0, so the result is finite even where the softmax underflows to 0, as for logits of :math:`\pm 10^4`).
    Classes with :math:`p_{ic} = 0` contribute exactly 0. The gradient with respect to the logits is
    :math:`\operatorname{softmax}(z_i) \sum_c p_{ic} - p_i` (see :func:`kl_divergence_with_logits_grad`).
    Since :math:`\ell_i = \mathrm{CE}(p_i, z_i) - H(p_i)`, with :math:`H(p) = -\sum_c p_c \log p_c` the
    entropy of the target, this differs from :func:`cross_entropy` with probability targets by a constant
    that does not depend on :math:`z`; it reads 0 at a perfect fit.

    Equals ``torch.nn.functional.kl_div(F.log_softmax(z, dim=1), p, reduction="batchmean")`` (``"mean"``: the
    sum over classes averaged over the N rows, as in :func:`kl_divergence`; torch's own ``reduction="mean"``
    would average over all N·C entries), ``reduction="sum"`` for ``"sum"`` and ``F.kl_div(...,
    reduction="none").sum(dim=1)`` for ``"none"``; and ``keras.losses.KLDivergence()(p,
    keras.ops.softmax(z))`` where the softmax stays above Keras's clip of :math:`10^{-7}`.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`p`, shape (N, C), values in [0, 1] (rows need not sum to 1, as in torch
        and Keras, but the divergence is non-negative only when they do).
    y_pred : array_like
        Logits :math:`z`, the same shape.
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the per-row divergences (shape
        (N,)), ``"sum"`` their sum, ``"mean"`` their mean.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The divergence, in the inputs' float dtype (float32 only when both are float32).

    Raises
    ------
    ValueError
        If the shapes differ or are not (N, C), an input is not finite, a target lies outside [0, 1], or
        ``reduction`` is unknown.

    Examples
    --------
    >>> p, logits = [[0.5, 0.5, 0.0]], [[0.0, 0.0, 0.0]]
    >>> print(kl_divergence_with_logits(p, logits, reduction="none"))
    [0.40546511]
    >>> print(kl_divergence_with_logits([[1.0, 0.0]], [[-1e4, 1e4]]))
    20000.0
    """
    p, logits = _prepare_target_and_logits(y_true, y_pred, reduction)
    with np.errstate(divide="ignore"):  # log 0 is never used: the terms with p = 0 are masked
        log_p = np.log(p, out=np.zeros_like(p), where=p > 0)
    return apply_reduction(_divergence_rows(p, log_p, _log_softmax(logits)), reduction)


def kl_divergence_with_logits_grad(
    y_true: ArrayLike, y_pred: ArrayLike, *, reduction: str = "mean"
) -> FloatArray:
    r"""Gradient of :func:`kl_divergence_with_logits` with respect to the logits ``y_pred``.

    .. math::

        \frac{\partial L}{\partial z_{ic}} = \frac{1}{N} \Bigl( \operatorname{softmax}(z_i)_c \sum_k p_{ik}
        - p_{ic} \Bigr) \quad (\texttt{"mean"}),

    which is :math:`(\operatorname{softmax}(z_i) - p_i) / N` when the targets sum to 1. The entropy of
    :math:`p` does not depend on :math:`z`, so this is also :func:`cross_entropy_grad` of (p, z). The softmax
    is computed as the exponential of the stable log-softmax, so the gradient is finite for any finite logits.
    Equals torch's autograd gradient of ``F.kl_div(F.log_softmax(z, dim=1), p, reduction="batchmean")`` with
    respect to ``z``.

    Parameters
    ----------
    y_true : array_like
        Target probabilities :math:`p`, shape (N, C).
    y_pred : array_like
        Logits :math:`z`, the same shape.
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
        As :func:`kl_divergence_with_logits`.

    Examples
    --------
    >>> p, logits = [[0.5, 0.5, 0.0]], [[0.0, 0.0, 0.0]]
    >>> print(kl_divergence_with_logits_grad(p, logits, reduction="sum"))
    [[-0.16666667 -0.16666667  0.33333333]]
    """
    p, logits = _prepare_target_and_logits(y_true, y_pred, reduction)
    q = np.exp(_log_softmax(logits))
    scale = gradient_scale(p.shape[0], reduction)
    return (q * p.sum(axis=1, keepdims=True) - p) * scale


def _prepare_teacher_and_student(
    teacher_logits: ArrayLike, student_logits: ArrayLike, temperature: float, reduction: str
) -> tuple[FloatArray, FloatArray, float]:
    """Validate; return the teacher's and the student's logits in one float dtype, and the temperature."""
    check_reduction(reduction)
    teacher = as_float_array(teacher_logits, "teacher_logits")
    student = as_float_array(student_logits, "student_logits")
    check_same_shape(teacher, student, "teacher_logits", "student_logits")
    check_two_dimensional(student, "student_logits", "logits")
    check_finite(teacher, "teacher_logits")
    check_finite(student, "student_logits")
    temperature = check_positive(temperature, "temperature")
    dtype = result_dtype(teacher, student)
    return teacher.astype(dtype, copy=False), student.astype(dtype, copy=False), temperature


def distillation(
    teacher_logits: ArrayLike,
    student_logits: ArrayLike,
    *,
    temperature: float = 1.0,
    reduction: str = "mean",
) -> LossValue:
    r"""Hinton et al.'s soft-target (knowledge distillation) loss: :math:`T^2` times the KL divergence from
    the teacher's to the student's softmax at temperature :math:`T`.

    For teacher logits :math:`t_i` and student logits :math:`s_i`, with :math:`p_i = \operatorname{softmax}
    (t_i / T)` and :math:`q_i = \operatorname{softmax}(s_i / T)`,

    .. math::

        \ell_i = T^2 \, D_{\mathrm{KL}}(p_i \,\|\, q_i), \qquad
        \frac{\partial \ell_i}{\partial s_i} = T \, (q_i - p_i),

    both computed through log-softmaxes (see :func:`kl_divergence_with_logits`), so they are finite for any
    finite logits. A temperature :math:`T > 1` softens both distributions and brings out the teacher's small
    probabilities of the wrong classes, the information a one-hot label lacks (Hinton, Vinyals and Dean,
    "Distilling the Knowledge in a Neural Network", 2015).

    **Why** :math:`T^2`. Without it the gradient would be :math:`(q_i - p_i) / T`, and :math:`q_i - p_i`
    shrinks as well when :math:`T` grows: for :math:`T` large against the spread of the logits,
    :math:`\operatorname{softmax}(x / T)_c \approx 1/C + (x_c - \bar x) / (C T)`, so
    :math:`q_i - p_i \approx \bigl((s_i - \bar s_i) - (t_i - \bar t_i)\bigr) / (C T)` and the unscaled
    gradient falls like :math:`1 / T^2`. Multiplied by :math:`T^2` it tends to
    :math:`\bigl((s_i - \bar s_i) - (t_i - \bar t_i)\bigr) / C`, independent of :math:`T` (and
    :math:`\ell_i` to :math:`\lVert (s_i - \bar s_i) - (t_i - \bar t_i) \rVert^2 / (2C)`, the matching of
    centred logits), so the weight of this loss against a hard-label loss stays about the same when the
    temperature is changed. At :math:`T = 1` the factor is 1.

    **KL or cross-entropy.** :math:`\mathrm{CE}(p_i, q_i) = H(p_i) + D_{\mathrm{KL}}(p_i \,\|\, q_i)`, and the
    teacher's entropy :math:`H(p_i)` does not depend on the student: minimizing this loss over the student is
    minimizing :math:`T^2` times the soft cross-entropy ``cross_entropy(p, s / T)``, with the same gradient.
    The KL form reads 0 when the student matches the teacher.

    **Mixing with the labels** is left to the caller; the usual objective is
    ``alpha * cross_entropy(labels, s) + (1 - alpha) * distillation(t, s, temperature=T)``, the hard-label
    term at temperature 1, with the same combination of the two ``_grad`` functions.

    Equals the PyTorch recipe ``F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1),
    reduction="batchmean") * T**2`` (``"mean"``: per-sample divergences averaged over the N rows; ``"sum"``
    and ``"none"`` as in :func:`kl_divergence_with_logits`), and Keras's ``keras.losses.KLDivergence()(
    keras.ops.softmax(t / T), keras.ops.softmax(s / T)) * T**2`` (the keras.io distillation example) where
    the softmaxes stay above Keras's clip of :math:`10^{-7}`.

    Parameters
    ----------
    teacher_logits : array_like
        The teacher's logits :math:`t`, shape (N, C) (the targets: they take the place of ``y_true``).
    student_logits : array_like
        The student's logits :math:`s`, the same shape.
    temperature : float
        :math:`T > 0`, finite (1 by default; Hinton et al. use values from 1 to 20).
    reduction : str
        ``"mean"`` (default), ``"sum"`` or ``"none"``: ``"none"`` returns the per-sample losses (shape (N,)),
        ``"sum"`` their sum, ``"mean"`` their mean.

    Returns
    -------
    numpy.floating or numpy.ndarray
        The loss, in the logits' float dtype (float32 only when both are float32).

    Raises
    ------
    ValueError
        If the shapes differ or are not (N, C), a logit is not finite, ``temperature`` is not a finite
        positive number, or ``reduction`` is unknown.

    Examples
    --------
    >>> print(distillation([[2.0, 0.0]], [[0.0, 0.0]], temperature=2.0, reduction="none"))
    [0.44377629]
    >>> print(distillation([[2.0, 0.0]], [[2.0, 0.0]], temperature=2.0))
    0.0
    """
    teacher, student, temperature = _prepare_teacher_and_student(
        teacher_logits, student_logits, temperature, reduction
    )
    log_p = _log_softmax(teacher / temperature)
    rows = _divergence_rows(np.exp(log_p), log_p, _log_softmax(student / temperature))
    return apply_reduction(rows * temperature**2, reduction)


def distillation_grad(
    teacher_logits: ArrayLike,
    student_logits: ArrayLike,
    *,
    temperature: float = 1.0,
    reduction: str = "mean",
) -> FloatArray:
    r"""Gradient of :func:`distillation` with respect to the student's logits.

    .. math::

        \frac{\partial L}{\partial s_{ic}} = \frac{T}{N} \bigl( \operatorname{softmax}(s_i / T)_c
        - \operatorname{softmax}(t_i / T)_c \bigr) \quad (\texttt{"mean"}):

    the factor :math:`T^2` of the loss times the :math:`1/T` of the chain rule through :math:`s / T` (see
    :func:`distillation` for why). Equals torch's autograd gradient, with respect to ``s``, of
    ``F.kl_div(F.log_softmax(s / T, dim=1), F.softmax(t / T, dim=1), reduction="batchmean") * T**2``; the
    teacher's logits get no gradient (they are constants, ``t.detach()`` in torch).

    Parameters
    ----------
    teacher_logits : array_like
        The teacher's logits :math:`t`, shape (N, C).
    student_logits : array_like
        The student's logits :math:`s`, the same shape.
    temperature : float
        :math:`T > 0`, finite.
    reduction : str
        The reduction of the loss being differentiated, ``"mean"`` (default), ``"sum"`` or ``"none"`` (which
        gives the gradient of the sum).

    Returns
    -------
    numpy.ndarray
        The gradient, shape (N, C), in the logits' float dtype.

    Raises
    ------
    ValueError
        As :func:`distillation`.

    Examples
    --------
    >>> print(distillation_grad([[2.0, 0.0]], [[0.0, 0.0]], temperature=2.0))
    [[-0.46211716  0.46211716]]
    """
    teacher, student, temperature = _prepare_teacher_and_student(
        teacher_logits, student_logits, temperature, reduction
    )
    difference = np.exp(_log_softmax(student / temperature)) - np.exp(_log_softmax(teacher / temperature))
    return difference * (temperature * gradient_scale(student.shape[0], reduction))
