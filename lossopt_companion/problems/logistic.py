"""L2-regularized logistic regression on a data set, as a test problem with exact gradient and Hessian."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_positive
from ._base import Problem, _frozen

#: The gradient tolerance (infinity norm) to which ``minimizers`` is computed by Newton's method.
_MINIMIZER_TOL = 1e-12
#: A Newton run that stalls at round-off is accepted when its gradient is at most this (infinity norm).
_MINIMIZER_ACCEPT = 1e-9
#: ... and when its distance to the minimizer, bounded by the gradient over the least curvature, is at most this.
_MINIMIZER_DISTANCE = 1e-6


def _softplus(t: NDArray[np.floating]) -> NDArray[np.floating]:
    """log(1 + exp(t)) without overflow for large t and without loss of digits for very negative t."""
    return np.logaddexp(0.0, t)


def _sigmoid(t: NDArray[np.floating]) -> NDArray[np.floating]:
    """1 / (1 + exp(-t)) as exp(-log(1 + exp(-t))): no overflow warning for t -> -inf, exact 1 for t -> +inf."""
    return np.exp(-_softplus(-t))


class LogisticObjective(Problem):
    r"""The L2-regularized mean log-loss of logistic regression on the data ``(X, y)``, as a function of the
    weights.

    With :math:`n` samples :math:`x_i \in \mathbb{R}^d` (the rows of ``X``), labels :math:`y_i \in \{0, 1\}`,
    weights :math:`w \in \mathbb{R}^d`, an intercept :math:`b` and :math:`z_i = x_i^\top w + b`,

    .. math::

        f(w, b) = \frac1n \sum_{i=1}^n \Big[ \log\big(1 + e^{z_i}\big) - y_i z_i \Big]
                  + \frac{\lambda}{2} \|w\|^2,

    the mean binary cross-entropy of the probabilities :math:`p_i = \sigma(z_i) = 1 / (1 + e^{-z_i})` plus an
    L2 penalty of strength :math:`\lambda` = ``l2``. The **intercept is not penalized** (as in scikit-learn's
    ``lbfgs``, ``newton-cg`` and ``newton-cholesky`` solvers): a penalty on :math:`b` would pull the predicted
    base rate towards 1/2. The parameter vector is :math:`\theta = (w, b)` of length :math:`d + 1`, the
    intercept last (scikit-learn's internal layout); with ``fit_intercept=False`` it is :math:`w` alone and
    :math:`b = 0`. Writing :math:`\tilde X` for ``X`` with a column of ones appended (for the intercept),
    :math:`p = \sigma(\tilde X \theta)` and :math:`P = \operatorname{diag}(1, \dots, 1, 0)` for the penalized
    coordinates,

    .. math::

        \begin{aligned}
        \nabla f(\theta) &= \frac1n \tilde X^\top (p - y) + \lambda P \theta, \\
        \nabla^2 f(\theta) &= \frac1n \tilde X^\top S \tilde X + \lambda P, \qquad
        S = \operatorname{diag}\big(p_i (1 - p_i)\big).
        \end{aligned}

    The Hessian is positive semi-definite everywhere, so :math:`f` is convex; for :math:`\lambda > 0` it is
    strictly convex in :math:`w`, and with both classes present the minimizer exists and is unique.

    **Numerical stability.** Each sample's loss is computed as :math:`\operatorname{softplus}(z_i)` for
    :math:`y_i = 0` and :math:`\operatorname{softplus}(-z_i)` for :math:`y_i = 1`, with
    :math:`\operatorname{softplus}(t) = \log(1 + e^t)` evaluated by ``np.logaddexp(0, t)``: finite for every
    finite :math:`z_i`, and without the cancellation of :math:`\log(1 + e^{z}) - z` at large :math:`z`. The
    residual :math:`p_i - y_i` is :math:`\sigma(z_i)` or :math:`-\sigma(-z_i)`, and :math:`p_i(1 - p_i) =
    \sigma(z_i)\sigma(-z_i)`, each with :math:`\sigma(t) = \exp(-\operatorname{softplus}(-t))`, so that a
    residual of :math:`10^{-30}` is not rounded to 0 by forming :math:`1 - p_i`.

    **scikit-learn.** ``sklearn.linear_model.LogisticRegression(C=C)`` (L2 penalty, binary labels) is
    documented as minimizing :math:`C \sum_i \ell_i + \tfrac12 \|w\|^2`; with :math:`C = 1 / (n\lambda)` that
    is :math:`f / \lambda`, so both have the same minimizer (``coef_`` is :math:`w`, ``intercept_`` is
    :math:`b`). Its ``lbfgs``, ``newton-cg`` and ``newton-cholesky`` solvers in fact minimize :math:`f` itself:
    ``LinearModelLoss`` with ``l2_reg_strength = 1 / (C n)``.

    **Known minimum.** The minimizer has no closed form. ``minimizers``, ``minimum_value`` and ``bounds`` are
    computed on first access by Newton's method (``second_order.newton``) from :math:`\theta = 0` to a
    gradient of :math:`10^{-12}` (infinity norm), and cached. The result is accepted only if its distance to
    the minimizer, at most :math:`\|\nabla f\|_2 / \lambda_{\min}(\nabla^2 f)`, is below :math:`10^{-6}`
    (this rejects the escape to infinity on separable data without a penalty). ``x0`` is :math:`\theta = 0`,
    where every :math:`p_i = 1/2`. ``bounds`` is the box of half-width 2 around the minimizer.

    Parameters
    ----------
    X : array_like
        The features, shape ``(n, d)``, finite, :math:`n \ge 1`, :math:`d \ge 1`. Standardized features make
        the problem well conditioned.
    y : array_like
        The labels, shape ``(n,)``, each 0 or 1 (booleans allowed), with both classes present.
    l2 : float, optional
        The penalty strength :math:`\lambda \ge 0`. With :math:`\lambda = 0` and linearly separable data the
        infimum is not attained and ``minimizers`` raises ``ValueError``. Default: 0.01.
    fit_intercept : bool, optional
        Include the unpenalized intercept :math:`b` as the last parameter. Default: True.

    Attributes
    ----------
    X, y : numpy.ndarray
        Read-only float64 copies of the data.
    l2 : float
        :math:`\lambda`.
    fit_intercept : bool
        Whether the last parameter is the intercept.
    n_samples, n_features : int
        :math:`n` and :math:`d`; ``dim`` is :math:`d + 1` with an intercept, :math:`d` without.

    Raises
    ------
    ValueError
        If ``X`` is not a finite 2-D array of real numbers with at least one row and one column, ``y`` does not
        have shape ``(n,)``, holds a value other than 0 and 1 or only one class, or ``l2`` is negative or not
        finite.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.problems import LogisticObjective
    >>> X = np.array([[0.0], [1.0], [2.0], [3.0]])
    >>> objective = LogisticObjective(X, [0, 0, 1, 1], l2=0.1)
    >>> objective.dim  # one weight and the intercept
    2
    >>> float(objective.value([0.0, 0.0]))  # every p_i = 1/2: the loss is log 2
    0.6931471805599453
    >>> objective.gradient([0.0, 0.0])  # mean of (p_i - y_i) x_i, and of p_i - y_i
    array([-0.5,  0. ])
    >>> objective.minimizers.round(4)
    array([[ 1.5077, -2.2615]])
    >>> bool(np.abs(objective.gradient(objective.minimizers[0])).max() < 1e-12)
    True
    """

    def __init__(self, X: ArrayLike, y: ArrayLike, l2: float = 0.01, *, fit_intercept: bool = True) -> None:
        features = as_float_array(X, "X").astype(np.float64)
        if features.ndim != 2 or features.shape[0] < 1 or features.shape[1] < 1:
            raise ValueError(
                f"X must be a 2-D array of shape (n_samples, n_features) with at least one of each, "
                f"got shape {features.shape}"
            )
        check_finite(features, "X")
        labels = as_float_array(y, "y").astype(np.float64)
        if labels.shape != (features.shape[0],):
            raise ValueError(
                f"y must have shape ({features.shape[0]},), one label per row of X, got shape {labels.shape}"
            )
        if not np.all((labels == 0.0) | (labels == 1.0)):
            bad = labels[(labels != 0.0) & (labels != 1.0)][:3]
            raise ValueError(f"y must hold only the labels 0 and 1, got for example {bad.tolist()}")
        if labels.min() == labels.max():
            raise ValueError(
                f"y must contain both classes 0 and 1 (with one class the minimum is not attained), "
                f"got only {int(labels[0])}"
            )
        self.l2 = check_positive(l2, "l2", allow_zero=True)
        self.fit_intercept = bool(fit_intercept)
        self.n_samples, self.n_features = features.shape
        self.dim = self.n_features + int(self.fit_intercept)
        self.X = _frozen(features)
        self.y = _frozen(labels)
        design = np.hstack([features, np.ones((self.n_samples, 1))]) if self.fit_intercept else features
        self._design = _frozen(design)
        self._sign = _frozen(1.0 - 2.0 * labels)  # +1 for y = 0, -1 for y = 1: loss_i = softplus(sign_i z_i)
        penalized = np.ones(self.dim)
        if self.fit_intercept:
            penalized[-1] = 0.0
        self._penalized = _frozen(penalized)
        self.x0 = _frozen(np.zeros(self.dim))
        self._minimizer: NDArray[np.float64] | None = None

    def __repr__(self) -> str:
        return (
            f"LogisticObjective(n_samples={self.n_samples}, n_features={self.n_features}, l2={self.l2!r}, "
            f"fit_intercept={self.fit_intercept})"
        )

    # The known minimum, computed once on first use.
    @property
    def minimizers(self) -> NDArray[np.float64]:  # type: ignore[override]
        """The minimizer, shape ``(1, dim)``, computed by Newton's method on first access (read-only)."""
        if self._minimizer is None:
            from ..second_order import newton  # second_order is a sibling layer; imported here, when needed

            result = newton(self, self.x0, hess=self.hessian, max_iter=200, tol=_MINIMIZER_TOL)
            # A small gradient is not enough: on separable data without a penalty the gradient also vanishes as
            # |w| -> infinity. The distance to a minimizer is at most |gradient| / (smallest Hessian eigenvalue).
            smallest_curvature = float(np.linalg.eigvalsh(self.hessian(result.x))[0])
            distance_bound = result.grad_norm * np.sqrt(self.dim) / max(smallest_curvature, 1e-300)
            if not (result.grad_norm <= _MINIMIZER_ACCEPT and distance_bound <= _MINIMIZER_DISTANCE):
                raise ValueError(
                    f"the objective has no minimizer that Newton's method can reach (gradient norm "
                    f"{result.grad_norm:.1e} after {result.n_iter} iterations: {result.message}); with l2=0 the "
                    f"data are probably linearly separable, so use l2 > 0"
                )
            self._minimizer = _frozen(result.x[None, :])
        return self._minimizer

    @property
    def minimum_value(self) -> float:  # type: ignore[override]
        """:math:`f` at the minimizer."""
        return float(self._value(self.minimizers[0]))

    @property
    def bounds(self) -> tuple[tuple[float, float], ...]:  # type: ignore[override]
        """The box of half-width 2 around the minimizer."""
        return tuple((float(c) - 2.0, float(c) + 2.0) for c in self.minimizers[0])

    def split(self, theta: ArrayLike) -> tuple[NDArray[np.floating], Any]:
        """The weights :math:`w` and the intercept :math:`b` (0.0 without ``fit_intercept``) of a parameter
        vector, as scikit-learn's ``coef_`` (without its leading axis) and ``intercept_``."""
        point = self._check_point(theta)
        if self.fit_intercept:
            return point[..., :-1], point[..., -1]
        return point, 0.0

    # The mathematics, on a validated array of shape (..., dim).
    def _margins(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        """sign_i z_i for every sample, shape (..., n)."""
        return (x @ self._design.T.astype(x.dtype, copy=False)) * self._sign.astype(x.dtype, copy=False)

    def _penalty_gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        return x.dtype.type(self.l2) * self._penalized.astype(x.dtype, copy=False) * x

    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        log_loss = np.mean(_softplus(self._margins(x)), axis=-1)
        return log_loss + 0.5 * np.sum(x * self._penalty_gradient(x), axis=-1)

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        sign = self._sign.astype(x.dtype, copy=False)
        residual = sign * _sigmoid(self._margins(x))  # p_i - y_i, without forming 1 - p_i
        design = self._design.astype(x.dtype, copy=False)
        return residual @ design / x.dtype.type(self.n_samples) + self._penalty_gradient(x)

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        z = x @ self._design.T.astype(x.dtype, copy=False)
        weights = np.exp(-_softplus(z) - _softplus(-z))  # p_i (1 - p_i) = sigma(z_i) sigma(-z_i)
        design = self._design.astype(x.dtype, copy=False)
        if weights.ndim == 1:  # one point: a single matrix product (BLAS), the case of Newton's method
            curvature = (design.T * weights) @ design
        else:
            curvature = np.einsum("...i,ij,ik->...jk", weights, design, design, optimize=True)
        curvature /= x.dtype.type(self.n_samples)
        index = np.arange(self.dim)
        curvature[..., index, index] += x.dtype.type(self.l2) * self._penalized.astype(x.dtype, copy=False)
        return curvature
