"""What the second-order methods share: the result object, the checks of their inputs, and the evaluation
of the objective with a check of what it returns."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_positive

#: The objective: ``fun(x)`` returns the value (a real scalar) and the gradient (an array shaped like ``x``).
Objective = Callable[[NDArray[np.floating]], tuple[Any, ArrayLike]]


@dataclass(frozen=True)
class OptimizeResult:
    """The outcome of ``newton`` or ``lbfgs``, with the whole history of the run for plotting.

    Attributes
    ----------
    x : numpy.ndarray
        The last iterate, shape ``(n,)``.
    fun : float
        The objective at ``x``.
    grad_norm : float
        The infinity norm of the gradient at ``x``, the quantity the convergence test compares with ``tol``.
    n_iter : int
        The number of iterations (accepted steps).
    n_fev : int
        The number of calls of ``fun`` (each returns the value and the gradient).
    n_hev : int
        The number of Hessian evaluations (0 for L-BFGS, which never forms a Hessian).
    converged : bool
        True when the gradient test ``grad_norm <= tol`` was met.
    message : str
        Why the run stopped.
    trace : numpy.ndarray
        The objective at every iterate, ``trace[0] = fun(x0)``, shape ``(n_iter + 1,)``.
    grad_norm_trace : numpy.ndarray
        The infinity norm of the gradient at every iterate, shape ``(n_iter + 1,)``.
    path : numpy.ndarray
        Every iterate, ``path[0] = x0`` and ``path[-1] = x``, shape ``(n_iter + 1, n)``.
    """

    x: NDArray[np.floating]
    fun: float
    grad_norm: float
    n_iter: int
    n_fev: int
    n_hev: int
    converged: bool
    message: str
    trace: NDArray[np.floating]
    grad_norm_trace: NDArray[np.floating]
    path: NDArray[np.floating]


class _History:
    """Collects the iterates of a run and builds the result at the end."""

    def __init__(self, x: NDArray[np.floating], value: float, gradient: NDArray[np.floating]) -> None:
        self.path = [x.copy()]
        self.values = [value]
        self.grad_norms = [_inf_norm(gradient)]

    def record(self, x: NDArray[np.floating], value: float, gradient: NDArray[np.floating]) -> None:
        self.path.append(x.copy())
        self.values.append(value)
        self.grad_norms.append(_inf_norm(gradient))

    def accept(self, search: Any, value: float, gradient: NDArray[np.floating], tol: float) -> tuple[bool, bool]:
        """Record the point a line search reached from ``(value, gradient)``; return ``(converged, stalled)``.

        Stalled: the step lowered neither the objective nor the gradient's norm, and did not converge either.
        """
        converged = _inf_norm(search.grad) <= tol
        stalled = search.fun >= value and _inf_norm(search.grad) >= _inf_norm(gradient) and not converged
        self.record(search.x, search.fun, search.grad)
        return converged, stalled

    def result(self, *, n_fev: int, n_hev: int, converged: bool, message: str, tol: float) -> OptimizeResult:
        """The result of the run; an empty ``message`` is replaced by why the loop ended (tolerance or max_iter)."""
        if not message:
            message = (
                f"converged: the gradient's infinity norm is at most tol = {tol:g}"
                if converged
                else f"stopped after max_iter = {len(self.path) - 1} iterations without reaching tol = {tol:g}"
            )
        dtype = self.path[0].dtype
        return OptimizeResult(
            x=self.path[-1],
            fun=self.values[-1],
            grad_norm=self.grad_norms[-1],
            n_iter=len(self.path) - 1,
            n_fev=n_fev,
            n_hev=n_hev,
            converged=converged,
            message=message,
            trace=np.asarray(self.values, dtype=dtype),
            grad_norm_trace=np.asarray(self.grad_norms, dtype=dtype),
            path=np.stack(self.path),
        )


def _inf_norm(vector: NDArray[np.floating]) -> float:
    return float(np.max(np.abs(vector)))


def _check_x0(x0: ArrayLike) -> NDArray[np.floating]:
    point = as_float_array(x0, "x0")
    if point.ndim != 1 or point.size == 0:
        raise ValueError(f"x0 must be a non-empty 1-D array (one point), got shape {point.shape}")
    check_finite(point, "x0")
    return point.copy()


def _check_tol(tol: float) -> float:
    return check_positive(tol, "tol")


def _check_callable(function: Any, name: str) -> None:
    if not callable(function):
        raise ValueError(f"{name} must be callable, got {type(function).__name__}")


def _evaluate(fun: Objective, x: NDArray[np.floating]) -> tuple[float, NDArray[np.floating]]:
    """Call ``fun(x)`` and check that it returned ``(scalar value, gradient of x's shape)``.

    A non-finite value is returned as it is (a line search treats it as "too far"); a gradient of the wrong
    shape raises, because it is a bug in ``fun``, not a property of the point.
    """
    output = fun(x.copy())  # a copy: fun cannot change the iterate behind the optimizer's back
    if not (isinstance(output, tuple) and len(output) == 2):
        raise ValueError(f"fun must return a pair (value, gradient), got {type(output).__name__}")
    value, gradient = output
    value_array = np.asarray(value)
    if value_array.ndim != 0 or value_array.dtype.kind not in "biuf":
        raise ValueError(
            f"fun must return a real scalar value, got {value_array.dtype} with shape {value_array.shape}"
        )
    gradient = np.asarray(gradient, dtype=x.dtype)
    if gradient.shape != x.shape:
        raise ValueError(f"fun must return a gradient of shape {x.shape} (that of x), got {gradient.shape}")
    return float(value_array), gradient


def _evaluate_start(fun: Objective, x0: NDArray[np.floating]) -> tuple[float, NDArray[np.floating]]:
    _check_callable(fun, "fun")
    value, gradient = _evaluate(fun, x0)
    if not np.isfinite(value):
        raise ValueError(f"fun(x0) must be finite, got {value}")
    check_finite(gradient, "the gradient returned by fun at x0")
    return value, gradient
