"""A one-dimensional tilted double well: a local minimum, a barrier, and a deeper global minimum."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._base import Problem, _frozen


class NonConvex1D(Problem):
    r"""A quartic with a shallow local minimum on the right and a deeper global minimum on the left.

    .. math::

        \begin{aligned}
        f(x) &= \frac{x^4}{4} + \frac{x^3}{3} - x^2, \\
        f'(x) &= x^3 + x^2 - 2x = x (x + 2)(x - 1), \\
        f''(x) &= 3 x^2 + 2 x - 2.
        \end{aligned}

    The three stationary points are exact:

    - the **global minimizer** :math:`x = -2`, with :math:`f(-2) = -8/3` and :math:`f''(-2) = 6`;
    - the **barrier** (a local maximum) at :math:`x = 0`, with :math:`f(0) = 0` and :math:`f''(0) = -2`;
    - the **local minimizer** :math:`x = 1`, with :math:`f(1) = -5/12` and :math:`f''(1) = 3`.

    Gradient descent started to the right of the barrier (for example at the standard start :math:`x_0 = 2.5`)
    with a small step settles in the local minimum at 1, because it never climbs the barrier of height
    :math:`f(0) - f(1) = 5/12`. Momentum stores the speed gained on the way down; with enough of it the
    iterate crosses :math:`x = 0` and falls into the global minimum at :math:`-2`, and with too little it does
    not.

    Points have shape ``(1,)`` (or ``(..., 1)`` for a batch: use ``xs[:, None]`` to evaluate a grid ``xs``).
    Plots use the interval :math:`[-3, 3]`.

    Attributes
    ----------
    minimizers : numpy.ndarray
        ``[[-2.0]]``, the global minimizer.
    minimum_value : float
        :math:`-8/3`.
    local_minimizer : numpy.ndarray
        ``[[1.0]]``.
    local_minimum_value : float
        :math:`-5/12`.
    barrier_point : numpy.ndarray
        ``[[0.0]]``, the local maximum between the two minima.
    barrier_value : float
        :math:`0`.
    barrier_height : float
        :math:`5/12`, the climb from the local minimum to the top of the barrier.

    Examples
    --------
    >>> from lossopt_companion.problems import NonConvex1D
    >>> well = NonConvex1D()
    >>> well.value([[-2.0], [0.0], [1.0]])  # -8/3, 0 and -5/12
    array([-2.66666667,  0.        , -0.41666667])
    >>> well.gradient([[-2.0], [0.0], [1.0]]).ravel()
    array([0., 0., 0.])
    """

    def __init__(self) -> None:
        self.dim = 1
        self.minimizers = _frozen([[-2.0]])
        self.minimum_value = -8.0 / 3.0
        self.local_minimizer = _frozen([[1.0]])
        self.local_minimum_value = -5.0 / 12.0
        self.barrier_point = _frozen([[0.0]])
        self.barrier_value = 0.0
        self.barrier_height = self.barrier_value - self.local_minimum_value
        self.bounds = ((-3.0, 3.0),)
        self.x0 = _frozen([2.5])

    def __repr__(self) -> str:
        return "NonConvex1D()"

    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        point = x[..., 0]
        return point**4 / 4.0 + point**3 / 3.0 - point**2

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        return x**3 + x**2 - 2.0 * x

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        return (3.0 * x**2 + 2.0 * x - 2.0)[..., None]
