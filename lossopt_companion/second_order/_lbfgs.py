"""Limited-memory BFGS (Nocedal 1980) with a strong Wolfe line search."""

from __future__ import annotations

from collections import deque

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_in_range, check_int
from ._common import (
    Objective,
    OptimizeResult,
    _check_tol,
    _check_x0,
    _evaluate_start,
    _History,
    _inf_norm,
)
from ._line_search import CURVATURE, SUFFICIENT_DECREASE, _strong_wolfe

_Pair = tuple[NDArray[np.floating], NDArray[np.floating], float]  # (s, y, rho = 1 / s^T y)


def lbfgs(
    fun: Objective,
    x0: ArrayLike,
    *,
    history: int = 10,
    max_iter: int = 1000,
    tol: float = 1e-8,
    c1: float = SUFFICIENT_DECREASE,
    c2: float = CURVATURE,
) -> OptimizeResult:
    r"""Minimize ``fun`` with limited-memory BFGS (Nocedal 1980; Nocedal & Wright 2006, Algorithm 7.5).

    L-BFGS keeps the last :math:`m` = ``history`` pairs :math:`s_i = x_{i+1} - x_i`,
    :math:`y_i = \nabla f_{i+1} - \nabla f_i` and uses them to apply an approximation :math:`H_k` of the
    inverse Hessian to the gradient without ever forming a matrix: :math:`O(mn)` memory and work per iteration
    instead of BFGS's :math:`O(n^2)`. Each iteration

    1. computes the direction :math:`d_k = -H_k \nabla f_k` by the **two-loop recursion** (Algorithm 7.4),
       with :math:`\rho_i = 1 / (y_i^\top s_i)`:

       .. math::

           & q \leftarrow \nabla f_k \\
           & \text{for } i = k-1, k-2, \dots, k-m: \quad
               \alpha_i \leftarrow \rho_i\, s_i^\top q, \quad q \leftarrow q - \alpha_i y_i \\
           & r \leftarrow \gamma_k\, q, \qquad
               \gamma_k = \frac{s_{k-1}^\top y_{k-1}}{y_{k-1}^\top y_{k-1}} \\
           & \text{for } i = k-m, \dots, k-1: \quad
               \beta \leftarrow \rho_i\, y_i^\top r, \quad r \leftarrow r + s_i (\alpha_i - \beta) \\
           & d_k = -r ;

       the initial matrix :math:`H_k^0 = \gamma_k I` scales the direction to the curvature seen along the last
       step, which is why the unit step is usually accepted;
    2. finds a step :math:`\alpha_k` satisfying the strong Wolfe conditions with :math:`c_1 = 10^{-4}`,
       :math:`c_2 = 0.9` by default (``strong_wolfe_line_search``), trying :math:`\alpha = 1` first (on the
       first iteration, when there is no curvature information yet, :math:`\alpha = \min(1, 1/\|\nabla
       f_0\|_2)` along :math:`-\nabla f_0`), and sets :math:`x_{k+1} = x_k + \alpha_k d_k`;
    3. stores the new pair :math:`(s_k, y_k)`, dropping the oldest beyond :math:`m`, but only if the curvature
       condition :math:`s_k^\top y_k > 0` holds (tested as :math:`s_k^\top y_k > \epsilon\, y_k^\top y_k` with
       :math:`\epsilon` the machine epsilon, so that :math:`\rho_k` stays finite); otherwise the update is
       skipped and :math:`H_{k+1}` stays positive definite.

    **Stopping.** The run has converged when :math:`\|\nabla f(x_k)\|_\infty \le` ``tol`` (the test of SciPy's
    ``L-BFGS-B`` on an unconstrained problem). It stops without convergence after ``max_iter`` iterations, or
    when no progress is possible: the line search fails along both the L-BFGS direction and, after the memory
    is cleared, the steepest-descent direction (typically when round-off makes the objective flat at the
    current resolution), or a step lowers neither the objective nor the gradient's norm.

    It plays the role of ``scipy.optimize.minimize(method="L-BFGS-B")`` without bounds and of
    ``torch.optim.LBFGS(line_search_fn="strong_wolfe")``. The computation runs in the dtype of ``x0``; in
    float32 a ``tol`` near the float32 resolution of the gradient (about 1e-4 to 1e-3) is reachable, 1e-8 is
    not.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient)`` with ``value`` a real scalar and ``gradient`` of the shape of ``x``; a
        problem from ``lossopt_companion.problems`` works as it is.
    x0 : array_like
        The starting point, a finite 1-D array.
    history : int, optional
        :math:`m`, the number of stored pairs, at least 1. Default: 10.
    max_iter : int, optional
        The most iterations, at least 1. Default: 1000.
    tol : float, optional
        The gradient tolerance (infinity norm), positive. Default: 1e-8.
    c1, c2 : float, optional
        The constants of the strong Wolfe conditions, :math:`0 < c_1 < c_2 < 1`. The loose default
        :math:`c_2 = 0.9` accepts the unit step almost always and saves evaluations per iteration; a small
        :math:`c_2` (0.1 or less) makes the line search nearly exact, and on a convex quadratic L-BFGS with
        exact line searches and ``history >= n`` then finds the minimizer in at most :math:`n` iterations,
        like the conjugate gradient method (Nocedal & Wright, section 7.2). Defaults: 1e-4 and 0.9.

    Returns
    -------
    OptimizeResult
        ``x``, ``fun``, ``grad_norm``, ``n_iter``, ``n_fev``, ``converged``, ``message`` and the traces
        ``trace``, ``grad_norm_trace`` and ``path``.

    Raises
    ------
    ValueError
        If ``x0`` is not a finite 1-D array, ``history`` or ``max_iter`` is not an integer >= 1, ``tol`` is
        not positive, ``c1`` and ``c2`` do not satisfy :math:`0 < c_1 < c_2 < 1`, ``fun`` does not return
        ``(scalar, gradient of x's shape)``, or ``fun(x0)`` is not finite.

    References
    ----------
    J. Nocedal, "Updating quasi-Newton matrices with limited storage", Mathematics of Computation 35 (1980).
    J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd edition, Springer (2006), chapters 3 and 7.

    Examples
    --------
    >>> from lossopt_companion.problems import Rosenbrock
    >>> from lossopt_companion.second_order import lbfgs
    >>> result = lbfgs(Rosenbrock(), [-1.2, 1.0])
    >>> result.converged, result.x.round(8)
    (True, array([1., 1.]))
    >>> result.trace[0]  # f(x0); result.trace[-1] is f at the minimizer
    np.float64(24.199999999999996)
    """
    x = _check_x0(x0)
    history = check_int(history, "history")
    max_iter = check_int(max_iter, "max_iter")
    tol = _check_tol(tol)
    c1 = check_in_range(c1, "c1", 0.0, 1.0, low_inclusive=False)
    c2 = check_in_range(c2, "c2", c1, 1.0, low_inclusive=False)
    value, gradient = _evaluate_start(fun, x)
    record = _History(x, value, gradient)
    n_fev = 1
    pairs: deque[_Pair] = deque(maxlen=history)
    converged = _inf_norm(gradient) <= tol
    message = "the gradient at x0 already satisfies the tolerance" if converged else ""
    while not converged and len(record.path) - 1 < max_iter:
        direction = _two_loop_direction(gradient, pairs)
        if not float(gradient @ direction) < 0:
            pairs.clear()  # round-off broke positive definiteness: restart from steepest descent
            direction = -gradient
        initial_step = 1.0 if pairs else min(1.0, 1.0 / float(np.linalg.norm(gradient)))
        search = _strong_wolfe(fun, x, value, gradient, direction, initial_step=initial_step, c1=c1, c2=c2)
        n_fev += search.n_fev
        if not search.success:
            if pairs:  # the quasi-Newton model misled the search: forget it and try steepest descent
                pairs.clear()
                continue
            message = f"no progress: the line search along steepest descent failed ({search.message})"
            break
        step, change = search.x - x, search.grad - gradient
        curvature = float(step @ change)
        if curvature > np.finfo(x.dtype).eps * float(change @ change):
            pairs.append((step, change, 1.0 / curvature))
        converged, stalled = record.accept(search, value, gradient, tol)
        x, value, gradient = search.x, search.fun, search.grad
        if stalled:
            message = "no progress: the last step lowered neither the objective nor the gradient"
            break
    return record.result(n_fev=n_fev, n_hev=0, converged=converged, message=message, tol=tol)


def _two_loop_direction(gradient: NDArray[np.floating], pairs: deque[_Pair]) -> NDArray[np.floating]:
    """d = -H g by the two-loop recursion (Nocedal & Wright Algorithm 7.4); d = -g when no pair is stored."""
    q = gradient.copy()
    alphas = []
    for s, y, rho in reversed(pairs):
        alpha = rho * float(s @ q)
        q -= alpha * y
        alphas.append(alpha)
    if pairs:
        s, y, _ = pairs[-1]
        q *= float(s @ y) / float(y @ y)
    for (s, y, rho), alpha in zip(pairs, reversed(alphas)):
        beta = rho * float(y @ q)
        q += (alpha - beta) * s
    return -q
