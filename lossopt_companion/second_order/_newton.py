"""Newton's method with a backtracking line search and a positive-definite safeguard on the Hessian."""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int
from ._common import (
    Objective,
    OptimizeResult,
    _check_callable,
    _check_tol,
    _check_x0,
    _evaluate_start,
    _History,
    _inf_norm,
)
from ._line_search import _backtracking

#: The shift of the safeguard starts at this fraction of the largest diagonal entry of the Hessian.
_SHIFT_FRACTION = 1e-3


def newton(
    fun: Objective,
    x0: ArrayLike,
    *,
    hess: Callable[[NDArray[np.floating]], ArrayLike],
    max_iter: int = 100,
    tol: float = 1e-10,
) -> OptimizeResult:
    r"""Minimize ``fun`` with Newton's method: a quadratic model of :math:`f` minimized at every step.

    At :math:`x_k` the second-order Taylor model :math:`m_k(d) = f_k + \nabla f_k^\top d + \tfrac12 d^\top
    \nabla^2 f_k\, d` is minimized by the Newton step

    .. math::

        \nabla^2 f(x_k)\, d_k = -\nabla f(x_k), \qquad x_{k+1} = x_k + \alpha_k d_k,

    solved by a Cholesky factorization :math:`\nabla^2 f_k = L L^\top`. The step length :math:`\alpha_k` comes
    from a backtracking line search (``backtracking_line_search``: :math:`\alpha = 1, \frac12, \frac14, \dots`
    until :math:`f(x_k + \alpha d_k) \le f_k + 10^{-4} \alpha \nabla f_k^\top d_k`). Near a minimizer with a
    positive-definite, Lipschitz-continuous Hessian the unit step is accepted and the convergence is
    quadratic: :math:`\|x_{k+1} - x^\star\| \le C \|x_k - x^\star\|^2` (Nocedal & Wright 2006, Theorem 3.5),
    so the number of correct digits roughly doubles per iteration.

    **Safeguard for non-convex regions.** The method is meant for convex problems. Where the Hessian is not
    positive definite the Newton step need not point downhill, so the Hessian is replaced by
    :math:`\nabla^2 f_k + \tau I` with the smallest :math:`\tau` of the sequence
    :math:`0, \beta, 2\beta, 4\beta, \dots` (or starting from :math:`\beta - \min_i (\nabla^2 f_k)_{ii}` when
    a diagonal entry is not positive) for which the Cholesky factorization succeeds, with
    :math:`\beta = 10^{-3} \max(1, \max_i |(\nabla^2 f_k)_{ii}|)`: "Cholesky with added multiple of the
    identity", Nocedal & Wright Algorithm 3.3. This is a Levenberg-style step, between Newton (small
    :math:`\tau`) and a short steepest-descent step (large :math:`\tau`), and always a descent direction. The
    Hessian is symmetrized, :math:`(H + H^\top) / 2`, before it is factorized.

    **Stopping.** The run has converged when :math:`\|\nabla f(x_k)\|_\infty \le` ``tol``; it stops without
    convergence after ``max_iter`` iterations, or when no progress is possible at the current floating-point
    resolution: the line search finds no decrease, or a step lowers neither the objective nor the gradient's
    norm. The computation runs in the dtype of ``x0``.

    It plays the role of ``scipy.optimize.minimize(method="trust-exact")`` or ``"Newton-CG"`` on small
    problems.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient)``.
    x0 : array_like
        The starting point, a finite 1-D array of length :math:`n`.
    hess : callable
        ``hess(x)`` returns the Hessian at ``x``, shape ``(n, n)``; for a problem from
        ``lossopt_companion.problems``, its ``hessian`` method.
    max_iter : int, optional
        The most iterations, at least 1. Default: 100.
    tol : float, optional
        The gradient tolerance (infinity norm), positive. Default: 1e-10.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``grad_norm``, ``n_iter``, ``n_fev``, ``n_hev``, ``converged``, ``message`` and the
        traces ``trace``, ``grad_norm_trace`` and ``path``.

    Raises
    ------
    ValueError
        If ``x0`` is not a finite 1-D array, ``max_iter`` is not an integer >= 1, ``tol`` is not positive,
        ``fun`` or ``hess`` is not callable or returns the wrong shape, ``fun(x0)`` is not finite, or ``hess``
        returns a non-finite matrix.

    References
    ----------
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd edition, Springer (2006), sections 3.3 and 3.4.

    Examples
    --------
    >>> from lossopt_companion.problems import IllConditionedQuadratic
    >>> from lossopt_companion.second_order import newton
    >>> bowl = IllConditionedQuadratic(condition_number=1000.0)
    >>> result = newton(bowl, bowl.x0, hess=bowl.hessian)
    >>> result.n_iter, result.converged, bool(abs(result.x).max() < 1e-12)
    (1, True, True)
    """
    x = _check_x0(x0)
    _check_callable(hess, "hess")
    max_iter = check_int(max_iter, "max_iter")
    tol = _check_tol(tol)
    value, gradient = _evaluate_start(fun, x)
    record = _History(x, value, gradient)
    n_fev, n_hev = 1, 0
    converged = _inf_norm(gradient) <= tol
    message = "the gradient at x0 already satisfies the tolerance" if converged else ""
    while not converged and len(record.path) - 1 < max_iter:
        hessian = _evaluate_hessian(hess, x)
        n_hev += 1
        direction = _newton_direction(hessian, gradient)
        search = _backtracking(fun, x, value, gradient, direction, initial_step=1.0)
        n_fev += search.n_fev
        if not search.success:
            message = f"no progress: no decrease along the Newton direction ({search.message})"
            break
        converged, stalled = record.accept(search, value, gradient, tol)
        x, value, gradient = search.x, search.fun, search.grad
        if stalled:
            message = "no progress: the last step lowered neither the objective nor the gradient"
            break
    return record.result(n_fev=n_fev, n_hev=n_hev, converged=converged, message=message, tol=tol)


def _evaluate_hessian(
    hess: Callable[[NDArray[np.floating]], ArrayLike], x: NDArray[np.floating]
) -> NDArray[np.floating]:
    hessian = np.asarray(hess(x.copy()))
    if hessian.dtype.kind not in "biuf":
        raise ValueError(f"hess must return a real matrix, got dtype {hessian.dtype}")
    if hessian.shape != (x.size, x.size):
        raise ValueError(f"hess must return a matrix of shape {(x.size, x.size)}, got shape {hessian.shape}")
    if not np.all(np.isfinite(hessian)):
        raise ValueError("hess returned a matrix with NaN or infinite entries")
    hessian = hessian.astype(x.dtype, copy=False)
    return (hessian + hessian.T) / 2


def _newton_direction(hessian: NDArray[np.floating], gradient: NDArray[np.floating]) -> NDArray[np.floating]:
    """Solve (H + tau I) d = -g, tau the smallest of Algorithm 3.3 that makes the matrix positive definite."""
    diagonal = np.diag(hessian)
    beta = _SHIFT_FRACTION * max(1.0, float(np.max(np.abs(diagonal))))
    shift = 0.0 if float(np.min(diagonal)) > 0 else beta - float(np.min(diagonal))
    identity = np.eye(hessian.shape[0], dtype=hessian.dtype)
    while True:
        try:
            lower = np.linalg.cholesky(hessian + shift * identity)
            break
        except np.linalg.LinAlgError:
            shift = max(2.0 * shift, beta)
    return np.linalg.solve(lower.T, np.linalg.solve(lower, -gradient))
