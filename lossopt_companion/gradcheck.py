r"""Gradient checking: an analytic gradient compared with central differences, as in ``torch.autograd.gradcheck``.

A hand-derived gradient is easy to get wrong by a sign, a factor 2 or a missing :math:`1/n`. Finite differences
need nothing but the function, so they are the independent witness: :func:`numerical_gradient` estimates the
gradient one coordinate at a time, and :func:`check_gradient` compares it with the analytic one under the same
tolerance rule as ``torch.autograd.gradcheck``. Both work in float64 only (see :func:`numerical_gradient` for
why float32 cannot resolve the difference quotient).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_finite, check_positive

__all__ = ["numerical_gradient", "check_gradient", "GradientCheck"]

ScalarFunction = Callable[[NDArray[np.float64]], Any]


def _check_point(x: ArrayLike) -> NDArray[np.float64]:
    """``x`` as an array, checked to be finite, non-empty and float64."""
    point = np.asarray(x)
    if point.dtype != np.float64:
        raise ValueError(
            f"x must be a float64 array (in lower precision the round-off of f divided by the step swamps the "
            f"derivative), got dtype {point.dtype}"
        )
    if point.size == 0:
        raise ValueError("x must not be empty")
    check_finite(point, "x")
    return point


def _evaluate(fun: ScalarFunction, point: NDArray[np.float64]) -> float:
    """``fun`` at a copy of ``point`` (so that ``fun`` cannot change it), checked to be a finite real scalar."""
    value = fun(point.copy())
    if np.ndim(value) != 0 or np.asarray(value).dtype.kind not in "biuf":
        raise ValueError(
            f"fun must return a real scalar (reduce a loss with its mean or sum), got {type(value).__name__} "
            f"of shape {np.shape(value)}"
        )
    number = float(value)
    if not np.isfinite(number):
        raise ValueError(f"fun must be finite at x and at the points x +- step * e_i, got {number}")
    return number


def numerical_gradient(fun: ScalarFunction, x: ArrayLike, *, step: float = 1e-6) -> NDArray[np.float64]:
    r"""The gradient of a scalar function of one float64 array, by central differences.

    .. math::

        g_i = \frac{f(x + h e_i) - f(x - h e_i)}{2h}
            = \partial_i f(x) + \frac{h^2}{6}\, \partial_i^3 f(x) + O(h^4),

    from the Taylor expansions of :math:`f(x \pm h e_i)`: the even terms cancel, so the **truncation error**
    is :math:`O(h^2)` (a forward difference :math:`(f(x + h e_i) - f(x)) / h` keeps the :math:`h\,
    \partial_i^2 f / 2` term and is only :math:`O(h)`). Each value of :math:`f` also carries a **round-off**
    error of about :math:`\varepsilon |f|` (:math:`\varepsilon \approx 2.2 \cdot 10^{-16}` in float64), which the
    division by :math:`2h` turns into :math:`O(\varepsilon |f| / h)`. The total
    :math:`h^2 |\partial_i^3 f| / 6 + \varepsilon |f| / h` is smallest at
    :math:`h^* = (3 \varepsilon |f| / |\partial_i^3 f|)^{1/3}`, of the order of :math:`\varepsilon^{1/3}
    \approx 6 \cdot 10^{-6}` when :math:`f` and its derivatives are of order 1, where the error is of the
    order of :math:`\varepsilon^{2/3} \approx 4 \cdot 10^{-11}`. The default step :math:`10^{-6}` is
    ``torch.autograd.gradcheck``'s. In float32 (:math:`\varepsilon \approx 1.2 \cdot 10^{-7}`) the best error
    would be a few times :math:`10^{-5}`, too coarse to check anything, hence float64 only.

    The divisor is the distance between the two points actually evaluated, :math:`\operatorname{fl}(x_i + h)
    - \operatorname{fl}(x_i - h)` (exact in floating point), not :math:`2h`, which :math:`x_i \pm h` may miss.

    Parameters
    ----------
    fun : callable
        :math:`f`: maps a float64 array shaped like ``x`` to a real scalar (a Python or NumPy float, or a 0-d
        array). It is called :math:`2 \times` ``x.size`` times, each time with a fresh copy of the point.
    x : array_like
        The point, a finite float64 array of any shape.
    step : float
        :math:`h > 0`, the same for every coordinate. Default :math:`10^{-6}`.

    Returns
    -------
    numpy.ndarray
        The estimate of :math:`\nabla f(x)`, float64, shaped like ``x``.

    Raises
    ------
    ValueError
        If ``x`` is not a finite, non-empty float64 array; ``step`` is not positive or too small to change a
        coordinate of ``x``; or ``fun`` returns something other than a finite real scalar.

    Examples
    --------
    >>> import numpy as np
    >>> numerical_gradient(lambda x: np.sum(x**2), np.array([1.0, -2.0])).round(6)
    array([ 2., -4.])
    """
    point = _check_point(x).copy()  # perturbed in place, one coordinate at a time
    h = check_positive(step, "step")
    gradient = np.empty_like(point)
    coordinates, out = point.reshape(-1), gradient.reshape(-1)  # views: writing a coordinate moves the point
    for index, original in enumerate(coordinates.copy()):
        coordinates[index] = original + h
        upper, f_upper = coordinates[index], _evaluate(fun, point)
        coordinates[index] = original - h
        lower, f_lower = coordinates[index], _evaluate(fun, point)
        coordinates[index] = original
        if upper == lower:
            raise ValueError(f"step={step!r} is too small to change x's coordinate {index} (value {original!r})")
        out[index] = (f_upper - f_lower) / (upper - lower)
    return gradient


@dataclass(frozen=True, eq=False, repr=False)
class GradientCheck:
    r"""The outcome of :func:`check_gradient`. Its truth value is ``passed``, so ``assert check_gradient(...)``
    works.

    Attributes
    ----------
    passed : bool
        Whether :math:`|a_i - n_i| \le \text{atol} + \text{rtol}\, |n_i|` for every coordinate :math:`i`.
    max_abs_error, max_rel_error : float
        :math:`\max_i |a_i - n_i|` and :math:`\max_i |a_i - n_i| / \max(|a_i|, |n_i|)` (0 where both are 0).
    analytic, numerical : numpy.ndarray
        :math:`a`, the gradient being checked, and :math:`n`, the central-difference estimate, shaped like x.
    step, rtol, atol : float
        The settings of the check.
    """

    passed: bool
    max_abs_error: float
    max_rel_error: float
    analytic: NDArray[np.float64]
    numerical: NDArray[np.float64]
    step: float
    rtol: float
    atol: float

    def __bool__(self) -> bool:
        return self.passed

    def __repr__(self) -> str:
        return (
            f"GradientCheck(passed={self.passed}, max_abs_error={self.max_abs_error:.3g}, "
            f"max_rel_error={self.max_rel_error:.3g}; step={self.step:g}, rtol={self.rtol:g}, atol={self.atol:g})"
        )


def check_gradient(
    fun: ScalarFunction,
    grad: Callable[[NDArray[np.float64]], ArrayLike] | ArrayLike,
    x: ArrayLike,
    *,
    step: float = 1e-6,
    rtol: float = 1e-6,
    atol: float = 1e-8,
) -> GradientCheck:
    r"""Compare an analytic gradient with :func:`numerical_gradient`, coordinate by coordinate.

    The check passes when, for every coordinate, the analytic value :math:`a_i` and the numerical one
    :math:`n_i` satisfy

    .. math::

        |a_i - n_i| \le \text{atol} + \text{rtol}\, |n_i|,

    the rule of ``torch.autograd.gradcheck`` (``torch.allclose(analytical, numerical, rtol, atol)``), which
    this function mirrors for a scalar function of one float64 array. The defaults are stricter than torch's
    (``rtol=1e-3``, ``atol=1e-5``) because they only need to cover the central-difference error, about
    :math:`10^{-10}` for a function of order 1 at the default step; raise ``atol`` for functions whose values
    are large (the round-off grows like :math:`\varepsilon |f| / h`). Near a kink (MAE at a zero residual,
    ReLU at 0) the difference quotient straddles two slopes and the check can fail for a correct gradient.

    Parameters
    ----------
    fun : callable
        :math:`f`, a function from a float64 array shaped like ``x`` to a real scalar.
    grad : callable or array_like
        The analytic gradient: a function of the point (called once, on a copy of ``x``), or its value at ``x``.
    x : array_like
        The point, a finite float64 array.
    step : float
        The step of the central differences. Default :math:`10^{-6}`.
    rtol, atol : float
        The relative and absolute tolerances, non-negative. Defaults :math:`10^{-6}` and :math:`10^{-8}`.

    Returns
    -------
    GradientCheck
        ``passed``, the largest absolute and relative errors, and both gradients.

    Raises
    ------
    ValueError
        As :func:`numerical_gradient`; also if ``grad`` does not give a real array shaped like ``x``, or
        ``rtol`` or ``atol`` is negative.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion import losses
    >>> y, logits = np.array([1.0, 0.0, 1.0]), np.array([0.5, -1.0, 3.0])
    >>> check_gradient(
    ...     lambda z: losses.binary_cross_entropy_with_logits(y, z),
    ...     lambda z: losses.binary_cross_entropy_with_logits_grad(y, z),
    ...     logits,
    ... )
    GradientCheck(passed=True, max_abs_error=..., max_rel_error=...;
                  step=1e-06, rtol=1e-06, atol=1e-08)

    A gradient with a factor 2 missing (that of :math:`\sum_i x_i^2` is :math:`2x`) fails:

    >>> bool(check_gradient(lambda x: np.sum(x**2), lambda x: x, np.array([1.0, 2.0])))
    False
    """
    point = _check_point(x)
    relative, absolute = check_positive(rtol, "rtol", allow_zero=True), check_positive(atol, "atol", allow_zero=True)
    numerical = numerical_gradient(fun, point, step=step)
    analytic = as_float_array(grad(point.copy()) if callable(grad) else grad, "grad").astype(np.float64)
    if analytic.shape != point.shape:
        raise ValueError(f"grad must have the shape of x, {point.shape}, got shape {analytic.shape}")
    error = np.abs(analytic - numerical)
    scale = np.maximum(np.abs(analytic), np.abs(numerical))
    with np.errstate(invalid="ignore", divide="ignore"):  # 0 / 0 where both are 0, replaced by 0
        relative_error = np.where(scale == 0, 0.0, error / scale)
    return GradientCheck(
        passed=bool(np.all(error <= absolute + relative * np.abs(numerical))),
        max_abs_error=float(np.max(error)),
        max_rel_error=float(np.max(relative_error)),
        analytic=analytic,
        numerical=numerical,
        step=float(step),
        rtol=relative,
        atol=absolute,
    )
