"""A convex quadratic bowl with a chosen condition number: the model problem of zig-zagging descent."""

from __future__ import annotations

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_int
from ._base import Problem, _frozen


class IllConditionedQuadratic(Problem):
    r"""A quadratic bowl whose Hessian has condition number :math:`\kappa`, its long axis on the diagonal.

    .. math::

        f(x) = \tfrac12 (x - x^\star)^\top A\, (x - x^\star), \qquad
        \nabla f(x) = A (x - x^\star), \qquad \nabla^2 f(x) = A,

    with :math:`A = Q^\top \operatorname{diag}(\lambda_1, \dots, \lambda_n)\, Q`. The eigenvalues are spaced
    geometrically from :math:`\lambda_1 = 1` to :math:`\lambda_n = \kappa`, so :math:`\operatorname{cond}(A) =
    \lambda_n / \lambda_1 = \kappa` exactly. :math:`Q` is the Householder reflection :math:`Q = I - 2 v v^\top
    / v^\top v` with :math:`v = e_1 - u`, :math:`u = (1, \dots, 1) / \sqrt{n}`, which maps :math:`e_1` to
    :math:`u`: the flat direction (curvature 1) is the diagonal :math:`u` and the steep directions are
    orthogonal to it. In two dimensions the valley runs along the line :math:`x_1 - x_1^\star = x_2 -
    x_2^\star` and the steep direction is :math:`(1, -1)/\sqrt2`; the axes are rotated on purpose, because a
    coordinate-aligned valley hides the coupling between coordinates that makes the problem hard for methods
    that scale each coordinate separately (Adagrad, RMSprop, Adam).

    ``rotated=False`` gives the same bowl in the coordinates :math:`y = Q (x - x^\star)` of its eigenvectors:
    :math:`f(x) = \tfrac12 (x - x^\star)^\top \operatorname{diag}(\lambda)\, (x - x^\star)`, started from
    :math:`x^\star + Q (x_0 - x^\star)`, the rotated problem's start in those coordinates. Methods that are
    invariant to rotations (gradient descent, momentum, Newton, L-BFGS) take the same steps on both; the
    adaptive ones do not, which is what the pair is for.

    Gradient descent with step :math:`1/\lambda_n` contracts the error along the flat direction by
    :math:`1 - 1/\kappa` per step; Newton's method reaches :math:`x^\star` in one step.

    The default dimension is 2, the dimension in which contour plots show the zig-zag; any ``dim >= 2`` works.
    The standard starting point is :math:`x^\star + (-1.5, -0.5, \dots, -0.5)`, off the valley's axis.

    Parameters
    ----------
    condition_number : float
        :math:`\kappa \ge 1`, the ratio of the largest to the smallest eigenvalue of :math:`A`.
    dim : int, optional
        The dimension :math:`n \ge 2`. Default: 2.
    minimizer : array_like, optional
        :math:`x^\star`; the origin by default. Shape ``(dim,)``.
    rotated : bool, optional
        True (default): the valley along the diagonal; False: the same bowl with its axes on the coordinate axes.

    Attributes
    ----------
    matrix : numpy.ndarray
        :math:`A`, shape ``(dim, dim)``.
    eigenvalues : numpy.ndarray
        :math:`\lambda_1, \dots, \lambda_n`, ascending.

    Raises
    ------
    ValueError
        If ``condition_number < 1``, ``dim`` is not an integer >= 2, or ``minimizer`` has the wrong shape or
        is not finite.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.problems import IllConditionedQuadratic
    >>> bowl = IllConditionedQuadratic(condition_number=100.0)
    >>> bool(np.isclose(np.linalg.cond(bowl.hessian([0.3, -0.2])), 100.0))
    True
    >>> bowl.gradient([1.0, 1.0])  # along the valley the curvature is 1
    array([1., 1.])
    """

    def __init__(
        self, condition_number: float, dim: int = 2, *, minimizer: ArrayLike | None = None, rotated: bool = True
    ) -> None:
        try:
            kappa = float(condition_number)
        except (TypeError, ValueError):
            message = f"condition_number must be a real number >= 1, got {condition_number!r}"
            raise ValueError(message) from None
        if not (np.isfinite(kappa) and kappa >= 1.0):
            raise ValueError(f"condition_number must be a finite number >= 1, got {condition_number!r}")
        self.dim = check_int(dim, "dim", minimum=2)
        if not isinstance(rotated, (bool, np.bool_)):
            raise ValueError(f"rotated must be True or False, got {rotated!r}")
        self.rotated = bool(rotated)
        self.condition_number = kappa
        if minimizer is None:
            center = np.zeros(self.dim)
        else:
            center = as_float_array(minimizer, "minimizer").astype(np.float64)
            if center.shape != (self.dim,):
                raise ValueError(f"minimizer must have shape ({self.dim},), got shape {center.shape}")
            check_finite(center, "minimizer")
        self.eigenvalues = _frozen(np.geomspace(1.0, kappa, self.dim))
        diagonal_direction = np.full(self.dim, 1.0 / np.sqrt(self.dim))
        v = np.eye(self.dim)[0] - diagonal_direction
        reflection = np.eye(self.dim) - 2.0 * np.outer(v, v) / (v @ v)
        if self.rotated:
            matrix = reflection.T @ np.diag(self.eigenvalues) @ reflection
            self.matrix = _frozen((matrix + matrix.T) / 2.0)  # exactly symmetric despite round-off
        else:
            self.matrix = _frozen(np.diag(self.eigenvalues))
        self.minimizers = _frozen(center[None, :])
        self.minimum_value = 0.0
        self.bounds = tuple((float(c) - 2.0, float(c) + 2.0) for c in center)
        offset = np.full(self.dim, -0.5)
        offset[0] = -1.5
        self.x0 = _frozen(center + (offset if self.rotated else reflection @ offset))

    def __repr__(self) -> str:
        rotation = "" if self.rotated else ", rotated=False"
        return f"IllConditionedQuadratic(condition_number={self.condition_number!r}, dim={self.dim}{rotation})"

    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        displacement = x - self.minimizers[0].astype(x.dtype, copy=False)
        matrix = self.matrix.astype(x.dtype, copy=False)
        return 0.5 * np.einsum("...i,ij,...j->...", displacement, matrix, displacement)

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        displacement = x - self.minimizers[0].astype(x.dtype, copy=False)
        return displacement @ self.matrix.astype(x.dtype, copy=False)  # A is symmetric, so (A d)^T = d^T A

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        return np.broadcast_to(self.matrix.astype(x.dtype, copy=False), (*x.shape, self.dim)).copy()
