r"""Second-order methods: Newton's method and L-BFGS, with the line searches they rely on. NumPy only.

Both optimizers take ``fun(x) -> (value, gradient)`` (a problem from ``lossopt_companion.problems`` can be
passed as it is) and a starting point, and return an ``OptimizeResult`` that records the whole run (``trace``
of the loss, ``grad_norm_trace``, ``path`` of the iterates) so that the book can plot it.

- ``newton(fun, x0, *, hess, max_iter=100, tol=1e-10)``: Newton's method, backtracking (Armijo) line search,
  Hessian shifted towards the identity where it is not positive definite.
- ``lbfgs(fun, x0, *, history=10, max_iter=1000, tol=1e-8)``: limited-memory BFGS, two-loop recursion, strong
  Wolfe line search.
- ``strong_wolfe_line_search`` and ``backtracking_line_search``: the two line searches, usable on their own.

Both stop when the infinity norm of the gradient is at most ``tol``.

References: J. Nocedal, "Updating quasi-Newton matrices with limited storage", Mathematics of Computation 35
(1980); J. Nocedal and S. J. Wright, *Numerical Optimization*, 2nd edition, Springer (2006).

Examples
--------
>>> from lossopt_companion.problems import Rosenbrock
>>> from lossopt_companion.second_order import lbfgs, newton
>>> rosenbrock = Rosenbrock()
>>> quasi_newton = lbfgs(rosenbrock, rosenbrock.x0)
>>> full_newton = newton(rosenbrock, rosenbrock.x0, hess=rosenbrock.hessian)
>>> quasi_newton.converged and full_newton.converged
True
>>> full_newton.n_iter < quasi_newton.n_iter
True
"""

from __future__ import annotations

from ._common import OptimizeResult
from ._lbfgs import lbfgs
from ._line_search import LineSearchResult, backtracking_line_search, strong_wolfe_line_search
from ._newton import newton

__all__ = [
    "newton",
    "lbfgs",
    "OptimizeResult",
    "strong_wolfe_line_search",
    "backtracking_line_search",
    "LineSearchResult",
]
