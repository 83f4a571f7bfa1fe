"""Two classic two-dimensional test surfaces: Beale's (one minimum in a narrow flat valley) and Himmelblau's
(four minima)."""

from __future__ import annotations

import numpy as np
from numpy.typing import NDArray

from ._base import Problem, _frozen

_BEALE_CONSTANTS = (1.5, 2.25, 2.625)


class Beale(Problem):
    r"""Beale's function: sharp ridges at the corners of the box, a flat curved valley leading to the minimum.

    .. math::

        f(x, y) = \sum_{k=1}^{3} r_k^2, \qquad r_k = c_k - x + x y^k, \qquad c = (1.5,\ 2.25,\ 2.625),

    so :math:`\nabla f = 2 \sum_k r_k \nabla r_k` with :math:`\nabla r_k = (y^k - 1,\ k x y^{k-1})`, and
    :math:`\nabla^2 f = 2 \sum_k (\nabla r_k \nabla r_k^\top + r_k \nabla^2 r_k)` with
    :math:`\partial^2 r_k / \partial x \partial y = k y^{k-1}`, :math:`\partial^2 r_k / \partial y^2 = k (k-1)
    x y^{k-2}` and :math:`\partial^2 r_k / \partial x^2 = 0`.

    The global minimum is :math:`f(3, 0.5) = 0`; plots use the box :math:`[-4.5, 4.5]^2` and the standard
    starting point is :math:`(1, 1)` (Moré, Garbow and Hillstrom, 1981). Reference: E. M. L. Beale, "On an
    iterative method for finding a local minimum of a function of more than one variable", Princeton
    University technical report (1958).

    The minimum is not the only place descent methods go. As :math:`x \to -\infty` with :math:`x (y - 1) \to
    t`, every :math:`r_k \to c_k + k t`, so along that escape valley :math:`f` decreases towards :math:`\min_t
    \sum_k (c_k + k t)^2 = \sum_k c_k^2 - (\sum_k k c_k)^2 / 14 \approx 0.452` without reaching it; and as
    :math:`y \to -\infty` with :math:`x y^3 \to -2.625`, towards :math:`1.5^2 + 2.25^2 = 7.3125`. Gradient
    methods started in much of the left half of the box run off to infinity along the first valley (so does
    SciPy's L-BFGS-B): a reminder that a minimizer need not attract every starting point.

    Examples
    --------
    >>> from lossopt_companion.problems import Beale
    >>> beale = Beale()
    >>> float(beale.value([3.0, 0.5]))
    0.0
    >>> float(beale.value([1.0, 1.0]))
    14.203125
    """

    def __init__(self) -> None:
        self.dim = 2
        self.minimizers = _frozen([[3.0, 0.5]])
        self.minimum_value = 0.0
        self.bounds = ((-4.5, 4.5), (-4.5, 4.5))
        self.x0 = _frozen([1.0, 1.0])

    def __repr__(self) -> str:
        return "Beale()"

    def _residuals(self, x: NDArray[np.floating]) -> list[tuple[int, NDArray[np.floating]]]:
        first, second = x[..., 0], x[..., 1]
        return [(k, c - first + first * second**k) for k, c in enumerate(_BEALE_CONSTANTS, start=1)]

    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        return sum(residual**2 for _, residual in self._residuals(x))

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        first, second = x[..., 0], x[..., 1]
        gradient = np.zeros_like(x)
        for k, residual in self._residuals(x):
            gradient[..., 0] += 2.0 * residual * (second**k - 1.0)
            gradient[..., 1] += 2.0 * residual * k * first * second ** (k - 1)
        return gradient

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        first, second = x[..., 0], x[..., 1]
        hessian = np.zeros((*x.shape, 2), dtype=x.dtype)
        for k, residual in self._residuals(x):
            d_first = second**k - 1.0
            d_second = k * first * second ** (k - 1)
            mixed = k * second ** (k - 1)
            curvature_second = k * (k - 1) * first * second ** (k - 2) if k >= 2 else np.zeros_like(first)
            hessian[..., 0, 0] += 2.0 * d_first**2
            hessian[..., 0, 1] += 2.0 * (d_first * d_second + residual * mixed)
            hessian[..., 1, 1] += 2.0 * (d_second**2 + residual * curvature_second)
        hessian[..., 1, 0] = hessian[..., 0, 1]
        return hessian


class Himmelblau(Problem):
    r"""Himmelblau's function: four global minima of equal depth, separated by ridges and one central peak.

    .. math::

        f(x, y) = (x^2 + y - 11)^2 + (x + y^2 - 7)^2,

    .. math::

        \nabla f = \big(4 x u + 2 v,\ 2 u + 4 y v\big), \qquad
        \nabla^2 f = \begin{pmatrix} 12 x^2 + 4 y - 42 & 4 (x + y) \\
            4 (x + y) & 12 y^2 + 4 x - 26 \end{pmatrix},

    where :math:`u = x^2 + y - 11` and :math:`v = x + y^2 - 7`. The minima are the four points where both
    squares vanish, :math:`f = 0`: substituting :math:`y = 11 - x^2` into :math:`v = 0` gives
    :math:`x^4 - 22 x^2 + x + 114 = (x - 3)(x^3 + 3 x^2 - 13 x - 38) = 0`, whose four real roots are computed
    (and polished by Newton's method on :math:`u = v = 0`) when the object is built:

    .. math::

        \begin{aligned}
        &(3, 2), && (-2.805118, 3.131313), \\
        &(-3.779310, -3.283186), && (3.584428, -1.848127).
        \end{aligned}

    Which of them an optimizer reaches depends on where it starts, which makes the function a good picture of
    basins of attraction. The local maximum is near :math:`(-0.270845, -0.923039)`, where :math:`f \approx
    181.617`. Plots use the box :math:`[-5, 5]^2`; the standard start is the origin. Reference:
    D. M. Himmelblau, *Applied Nonlinear Programming*, McGraw-Hill (1972).

    Examples
    --------
    >>> from lossopt_companion.problems import Himmelblau
    >>> himmelblau = Himmelblau()
    >>> himmelblau.minimizers.round(6)
    array([[ 3.      ,  2.      ],
           [-2.805118,  3.131313],
           [-3.77931 , -3.283186],
           [ 3.584428, -1.848127]])
    >>> float(himmelblau.value([0.0, 0.0]))
    170.0
    """

    def __init__(self) -> None:
        self.dim = 2
        # (3, 2) is exact; the other three come from the cubic factor, then two Newton steps on the system
        # u = v = 0 remove the error left by the eigenvalue solver behind np.roots.
        cubic_roots = np.sort(np.roots([1.0, 3.0, -13.0, -38.0]).real)  # about -3.78, -2.81, 3.58
        points = np.array([[x, 11.0 - x * x] for x in cubic_roots[[1, 0, 2]]])
        for _ in range(2):
            first, second = points[:, 0], points[:, 1]
            residual = np.stack([first**2 + second - 11.0, first + second**2 - 7.0], axis=-1)
            ones = np.ones_like(first)
            rows = [np.stack([2.0 * first, ones], axis=-1), np.stack([ones, 2.0 * second], axis=-1)]
            jacobian = np.stack(rows, axis=-2)
            points = points - np.linalg.solve(jacobian, residual[..., None])[..., 0]
        self.minimizers = _frozen(np.vstack([[3.0, 2.0], points]))
        self.minimum_value = 0.0
        self.bounds = ((-5.0, 5.0), (-5.0, 5.0))
        self.x0 = _frozen([0.0, 0.0])

    def __repr__(self) -> str:
        return "Himmelblau()"

    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        first, second = x[..., 0], x[..., 1]
        return (first**2 + second - 11.0) ** 2 + (first + second**2 - 7.0) ** 2

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        first, second = x[..., 0], x[..., 1]
        u = first**2 + second - 11.0
        v = first + second**2 - 7.0
        return np.stack([4.0 * first * u + 2.0 * v, 2.0 * u + 4.0 * second * v], axis=-1)

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        first, second = x[..., 0], x[..., 1]
        mixed = 4.0 * (first + second)
        top = np.stack([12.0 * first**2 + 4.0 * second - 42.0, mixed], axis=-1)
        bottom = np.stack([mixed, 12.0 * second**2 + 4.0 * first - 26.0], axis=-1)
        return np.stack([top, bottom], axis=-2)
