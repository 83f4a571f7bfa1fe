"""Rosenbrock's banana-shaped valley, in any dimension."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from .._validation import check_int, check_positive
from ._base import Problem, _frozen


class Rosenbrock(Problem):
    r"""Rosenbrock's function: a curved, flat-bottomed valley that first-order methods follow slowly.

    .. math::

        f(x) = \sum_{i=1}^{n-1} \Big[ b\,(x_{i+1} - x_i^2)^2 + (a - x_i)^2 \Big]

    with gradient

    .. math::

        \frac{\partial f}{\partial x_i} = -4 b\, x_i (x_{i+1} - x_i^2) - 2 (a - x_i)
            + 2 b\, (x_i - x_{i-1}^2),

    where the first two terms are present for :math:`i < n` and the last for :math:`i > 1`. The Hessian is
    tridiagonal: :math:`\partial^2 f / \partial x_i^2 = 12 b x_i^2 - 4 b x_{i+1} + 2` (for :math:`i < n`) plus
    :math:`2 b` (for :math:`i > 1`), and :math:`\partial^2 f / \partial x_i \partial x_{i+1} = -4 b x_i`.

    The global minimum is :math:`f = 0`. In two dimensions it is at :math:`(a, a^2)` for any ``a``; in more
    dimensions every term vanishes only when :math:`x_i = a` and :math:`a = a^2`, so ``n > 2`` requires ``a``
    to be 1 (minimizer :math:`(1, \dots, 1)`) or 0 (minimizer the origin). For :math:`4 \le n \le 7` and ``a =
    1`` there is also a local minimum near :math:`(-1, 1, \dots, 1)` (Shang and Qiu, 2006).

    The standard starting point is :math:`(-1.2, 1, -1.2, 1, \dots)` (Moré, Garbow and Hillstrom, 1981).
    Reference: H. H. Rosenbrock, "An automatic method for finding the greatest or least value of a function",
    The Computer Journal 3 (1960).

    Parameters
    ----------
    n : int, optional
        The dimension, at least 2. Default: 2.
    a : float, optional
        The position of the minimum. Default: 1.0.
    b : float, optional
        The steepness of the valley walls (positive). Default: 100.0.

    Raises
    ------
    ValueError
        If ``n`` is not an integer >= 2, ``b`` is not positive, or ``n > 2`` with ``a`` other than 0 or 1.

    Examples
    --------
    >>> from lossopt_companion.problems import Rosenbrock
    >>> rosen = Rosenbrock()
    >>> float(rosen.value([-1.2, 1.0]))
    24.199999999999996
    >>> rosen.gradient([1.0, 1.0])
    array([0., 0.])
    >>> rosen.value([[1.0, 1.0], [0.0, 0.0]])
    array([0., 1.])
    """

    def __init__(self, n: int = 2, a: float = 1.0, b: float = 100.0) -> None:
        check_int(n, "n", minimum=2)
        try:
            a = float(a)
        except (TypeError, ValueError):
            raise ValueError(f"a must be a real number, got {a!r}") from None
        if not np.isfinite(a):
            raise ValueError(f"a must be finite, got {a!r}")
        if n > 2 and a not in (0.0, 1.0):
            raise ValueError(
                f"a must be 0 or 1 when n > 2 (otherwise the minimizer has no closed form), "
                f"got a={a!r} with n={n}"
            )
        self.dim = int(n)
        self.a = a
        self.b = check_positive(b, "b")
        minimizer = np.full(self.dim, a)
        if self.dim == 2:
            minimizer[1] = a * a
        self.minimizers = _frozen(minimizer[None, :])
        self.minimum_value = 0.0
        self.bounds = ((-2.0, 2.0),) * (self.dim - 1) + ((-1.0, 3.0),)
        self.x0 = _frozen(np.where(np.arange(self.dim) % 2 == 0, -1.2, 1.0))

    def __repr__(self) -> str:
        return f"Rosenbrock(n={self.dim}, a={self.a!r}, b={self.b!r})"

    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        head, tail = x[..., :-1], x[..., 1:]
        return np.sum(self.b * (tail - head**2) ** 2 + (self.a - head) ** 2, axis=-1)

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        head, tail = x[..., :-1], x[..., 1:]
        valley = tail - head**2
        gradient = np.zeros_like(x)
        gradient[..., :-1] += -4.0 * self.b * head * valley - 2.0 * (self.a - head)
        gradient[..., 1:] += 2.0 * self.b * valley
        return gradient

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        head, tail = x[..., :-1], x[..., 1:]
        diagonal = np.zeros_like(x)
        diagonal[..., :-1] += 12.0 * self.b * head**2 - 4.0 * self.b * tail + 2.0
        diagonal[..., 1:] += 2.0 * self.b
        hessian = np.zeros((*x.shape, self.dim), dtype=x.dtype)
        index = np.arange(self.dim)
        hessian[..., index, index] = diagonal
        hessian[..., index[:-1], index[1:]] = -4.0 * self.b * head
        hessian[..., index[1:], index[:-1]] = -4.0 * self.b * head
        return hessian
