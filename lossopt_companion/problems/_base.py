"""The interface of every test problem: value, gradient and Hessian, vectorised over a batch of points."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite


def _frozen(array: ArrayLike) -> NDArray[np.float64]:
    """A read-only float64 copy, so that a problem's known minimizers cannot be changed by accident."""
    copy = np.array(array, dtype=np.float64)
    copy.setflags(write=False)
    return copy


class Problem:
    r"""Base class of the test problems: a smooth function :math:`f : \mathbb{R}^n \to \mathbb{R}` with its
    derivatives and what is known about its minima.

    Every method accepts one point of shape ``(n,)`` or a batch of points of shape ``(..., n)`` (for example a
    ``(200, 200, 2)`` grid for a contour plot) and returns, for each point, the value (shape ``(...)``), the
    gradient (shape ``(..., n)``) or the Hessian (shape ``(..., n, n)``). A single point gives a NumPy scalar
    value. Calling the problem returns ``(value, gradient)``, the signature that ``second_order.lbfgs`` and
    ``second_order.newton`` expect, so a problem can be passed to them directly.

    Float64 points give float64 results and float32 points float32 results.

    Attributes
    ----------
    dim : int
        The dimension :math:`n` of the domain.
    minimizers : numpy.ndarray
        The known global minimizers, shape ``(k, n)`` (read-only).
    minimum_value : float
        The global minimum, :math:`f` at every row of ``minimizers``.
    bounds : tuple
        A box ``((lo_1, hi_1), ..., (lo_n, hi_n))`` that shows the interesting part of the landscape; for a
        2-D problem, the ``xlim`` and ``ylim`` of a contour plot.
    x0 : numpy.ndarray
        A standard starting point for an optimizer, shape ``(n,)`` (read-only).
    """

    dim: int
    minimizers: NDArray[np.float64]
    minimum_value: float
    bounds: tuple[tuple[float, float], ...]
    x0: NDArray[np.float64]

    def value(self, x: ArrayLike) -> Any:
        """The function value at ``x``.

        Parameters
        ----------
        x : array_like
            One point, shape ``(n,)``, or a batch of points, shape ``(..., n)``.

        Returns
        -------
        numpy.floating or numpy.ndarray
            A scalar for one point, an array of shape ``(...)`` for a batch.

        Raises
        ------
        ValueError
            If the last axis of ``x`` is not of length ``n``, or ``x`` is not finite.
        """
        return self._value(self._check_point(x))[()]

    def gradient(self, x: ArrayLike) -> NDArray[np.floating]:
        """The gradient at ``x``, of the same shape as ``x``.

        Parameters
        ----------
        x : array_like
            One point, shape ``(n,)``, or a batch of points, shape ``(..., n)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(..., n)``.

        Raises
        ------
        ValueError
            If the last axis of ``x`` is not of length ``n``, or ``x`` is not finite.
        """
        return self._gradient(self._check_point(x))

    def hessian(self, x: ArrayLike) -> NDArray[np.floating]:
        """The Hessian matrix at ``x``.

        Parameters
        ----------
        x : array_like
            One point, shape ``(n,)``, or a batch of points, shape ``(..., n)``.

        Returns
        -------
        numpy.ndarray
            Shape ``(..., n, n)``, symmetric in its last two axes.

        Raises
        ------
        ValueError
            If the last axis of ``x`` is not of length ``n``, or ``x`` is not finite.
        """
        return self._hessian(self._check_point(x))

    def __call__(self, x: ArrayLike) -> tuple[Any, NDArray[np.floating]]:
        """The pair ``(value(x), gradient(x))``, as the optimizers of ``second_order`` expect."""
        point = self._check_point(x)
        return self._value(point)[()], self._gradient(point)

    def __repr__(self) -> str:
        return f"{type(self).__name__}(dim={self.dim})"

    def _check_point(self, x: ArrayLike) -> NDArray[np.floating]:
        point = as_float_array(x, "x")
        if point.ndim == 0 or point.shape[-1] != self.dim:
            raise ValueError(
                f"x must have shape ({self.dim},) or (..., {self.dim}) for {type(self).__name__} in "
                f"dimension {self.dim}, got shape {point.shape}"
            )
        check_finite(point, "x")
        return point

    # Subclasses implement the mathematics on a validated array of shape (..., n).
    def _value(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        raise NotImplementedError

    def _gradient(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        raise NotImplementedError

    def _hessian(self, x: NDArray[np.floating]) -> NDArray[np.floating]:
        raise NotImplementedError
