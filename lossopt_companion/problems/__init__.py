"""Test problems for optimizers: classic functions with exact gradients, Hessians and known minima.

Each problem is an object with ``value(x)``, ``gradient(x)``, ``hessian(x)`` (vectorised over a batch of
points of shape ``(..., n)``), ``problem(x) -> (value, gradient)`` (so it can be handed straight to
``second_order.lbfgs``), the known global ``minimizers`` (shape ``(k, n)``) and ``minimum_value``, a plotting
box ``bounds`` and a standard starting point ``x0``. NumPy only.

================================  =====  ==================================================================
problem                           n      what it shows
================================  =====  ==================================================================
``Rosenbrock(n=2, a=1, b=100)``   >= 2   a curved, flat valley: slow progress of first-order methods
``IllConditionedQuadratic(k)``    >= 2   a rotated elliptic bowl of condition number k: zig-zagging
``Beale()``                       2      flat plateaus and steep ridges
``Himmelblau()``                  2      four minima: the start decides which one is reached
``NonConvex1D()``                 1      a local and a global minimum: when momentum crosses the barrier
``LogisticObjective(X, y, l2)``   d + 1  L2-regularized logistic regression on data: Newton's quadratic convergence
================================  =====  ==================================================================

``optimizer_path(problem, optim.Adam, lr=0.1)`` runs an optimizer of ``lossopt_companion.optim`` on a problem
and returns its iterates; ``steps_to_tolerance(path, problem.minimizers[0])`` counts the steps it needed.

Examples
--------
>>> from lossopt_companion.problems import Himmelblau
>>> problem = Himmelblau()
>>> value, gradient = problem([3.0, 2.0])
>>> float(value), gradient
(0.0, array([0., 0.]))
"""

from __future__ import annotations

from ._base import Problem
from ._runs import optimizer_path, steps_to_tolerance
from .logistic import LogisticObjective
from .nonconvex import NonConvex1D
from .quadratic import IllConditionedQuadratic
from .rosenbrock import Rosenbrock
from .surfaces import Beale, Himmelblau

__all__ = [
    "Problem",
    "Rosenbrock",
    "IllConditionedQuadratic",
    "Beale",
    "Himmelblau",
    "NonConvex1D",
    "LogisticObjective",
    "optimizer_path",
    "steps_to_tolerance",
]
