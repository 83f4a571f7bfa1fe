r"""Line searches: how far to go along a descent direction.

Both functions look at the restriction :math:`\phi(\alpha) = f(x + \alpha d)` of the objective to the ray
from ``x`` along ``direction`` :math:`d`, whose slope at 0 is :math:`\phi'(0) = \nabla f(x)^\top d < 0`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import as_float_array, check_finite, check_in_range, check_int, check_positive
from ._common import Objective, _check_callable, _evaluate
from ._interpolation import _cubic_minimizer, _interpolate, _Trial

#: The textbook constants of the Wolfe conditions for quasi-Newton methods (Nocedal & Wright 2006, p. 142).
SUFFICIENT_DECREASE = 1e-4
CURVATURE = 0.9

#: A rise of the objective within this many units of round-off (times |f(x)|) is not trusted as an increase.
ROUNDING_ULPS = 16


@dataclass(frozen=True)
class LineSearchResult:
    r"""The step a line search accepted.

    Attributes
    ----------
    step : float
        :math:`\alpha`, the accepted step length (0 when the search failed without finding a lower point).
    x : numpy.ndarray
        The new point :math:`x + \alpha d`.
    fun : float
        The objective at the new point.
    grad : numpy.ndarray
        The gradient at the new point.
    n_fev : int
        How many times the objective was evaluated.
    success : bool
        Whether the conditions the search enforces hold at the new point.
    message : str
        What happened.
    """

    step: float
    x: NDArray[np.floating]
    fun: float
    grad: NDArray[np.floating]
    n_fev: int
    success: bool
    message: str


class _Ray:
    """phi(alpha) = f(x + alpha d), counting evaluations."""

    def __init__(self, fun: Objective, x: NDArray[np.floating], direction: NDArray[np.floating]) -> None:
        self.fun, self.x, self.direction, self.n_fev = fun, x, direction, 0

    def __call__(self, step: float) -> _Trial:
        point = self.x + step * self.direction
        value, gradient = _evaluate(self.fun, point)
        self.n_fev += 1
        slope = float(gradient @ self.direction) if np.all(np.isfinite(gradient)) else math.nan
        return _Trial(step, value, slope, point, gradient)


def strong_wolfe_line_search(
    fun: Objective,
    x: ArrayLike,
    value: float,
    gradient: ArrayLike,
    direction: ArrayLike,
    *,
    initial_step: float = 1.0,
    c1: float = SUFFICIENT_DECREASE,
    c2: float = CURVATURE,
    max_evaluations: int = 30,
) -> LineSearchResult:
    r"""Find a step satisfying the strong Wolfe conditions (Nocedal & Wright 2006, Algorithms 3.5 and 3.6).

    The step :math:`\alpha` is accepted when

    .. math::

        \begin{aligned}
        \phi(\alpha) &\le \phi(0) + c_1 \alpha \phi'(0) && \text{(sufficient decrease)}, \\
        |\phi'(\alpha)| &\le c_2 |\phi'(0)| && \text{(curvature)},
        \end{aligned}

    with :math:`0 < c_1 < c_2 < 1` (defaults :math:`c_1 = 10^{-4}`, :math:`c_2 = 0.9`). The first condition
    forbids steps that are too long for the decrease they bring, the second steps so short that the slope is
    still steep; together they guarantee :math:`s^\top y > 0` for :math:`s = \alpha d` and :math:`y` the
    change of gradient, which keeps a quasi-Newton matrix positive definite.

    **Bracketing phase** (Algorithm 3.5). Steps grow from ``initial_step`` until one of them violates
    sufficient decrease or is no lower than the previous one (a minimizer of :math:`\phi` lies before it), or
    has a non-negative slope (a minimizer lies behind it): the bracket then goes to the zoom phase. Between
    trials the step is extrapolated to the minimizer of the cubic interpolating the last two values and
    slopes, kept within 1.1 to 4 times the last increase, as in the MINPACK-2 line search of Moré and Thuente
    (1994).

    **Zoom phase** (Algorithm 3.6). The bracket :math:`[\alpha_{lo}, \alpha_{hi}]` always has
    :math:`\alpha_{lo}` the lowest step satisfying sufficient decrease. The trial step is the minimizer of the
    cubic through both ends' values and slopes (Nocedal & Wright eq. 3.59):

    .. math::

        \begin{aligned}
        d_1 &= \phi'_{lo} + \phi'_{hi} - 3 \frac{\phi_{lo} - \phi_{hi}}{\alpha_{lo} - \alpha_{hi}}, \\
        d_2 &= \operatorname{sign}(\alpha_{hi} - \alpha_{lo}) \sqrt{d_1^2 - \phi'_{lo} \phi'_{hi}}, \\
        \alpha &= \alpha_{hi} - (\alpha_{hi} - \alpha_{lo})
            \frac{\phi'_{hi} + d_2 - d_1}{\phi'_{hi} - \phi'_{lo} + 2 d_2},
        \end{aligned}

    or, when the cubic has no minimizer, of the quadratic through :math:`\phi_{lo}, \phi'_{lo}, \phi_{hi}`; a
    trial within 10 % of the bracket's width from either end is replaced by the midpoint (bisection). The
    bracket then shrinks towards the side that must contain an acceptable step.

    A trial point where the objective is not finite counts as a violation of sufficient decrease, so the
    search backs off from regions where the function overflows. For the first trial step only, sufficient
    decrease is tested up to the rounding error of :math:`f`: a value above the bound by at most
    ``ROUNDING_ULPS`` (16) units of round-off of :math:`|\phi(0)|` is accepted. Close to a minimizer the
    decrease that the natural step of a (quasi-)Newton direction brings is smaller than that error, and a
    strict test would reject the very step that gains the most digits; shorter steps must show a real
    decrease.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient)``.
    x : array_like
        The current point, shape ``(n,)``.
    value : float
        ``fun(x)[0]``.
    gradient : array_like
        ``fun(x)[1]``, shape ``(n,)``.
    direction : array_like
        A descent direction :math:`d`, shape ``(n,)``, with :math:`\nabla f(x)^\top d < 0`.
    initial_step : float, optional
        The first trial step (1 is the natural step of Newton and quasi-Newton directions). Default: 1.0.
    c1, c2 : float, optional
        The constants of the two conditions, :math:`0 < c_1 < c_2 < 1`. Defaults: 1e-4 and 0.9.
    max_evaluations : int, optional
        The most objective evaluations the search may spend. Default: 30.

    Returns
    -------
    LineSearchResult
        ``success`` is True when both conditions hold at the returned step; otherwise the result is the lowest
        point found that satisfies sufficient decrease (``x`` itself, with ``step = 0``, if there is none).

    Raises
    ------
    ValueError
        If the shapes disagree, an input is not finite, ``direction`` is not a descent direction, or a
        constant is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.second_order import strong_wolfe_line_search
    >>> def parabola(x):
    ...     return float(x @ x), 2 * x
    >>> x = np.array([1.0, 2.0])
    >>> value, gradient = parabola(x)
    >>> search = strong_wolfe_line_search(parabola, x, value, gradient, -gradient)
    >>> search.success, search.step, search.x
    (True, 0.5, array([0., 0.]))
    """
    point, current_gradient, search_direction = _check_search_inputs(fun, x, value, gradient, direction)
    c1 = check_in_range(c1, "c1", 0.0, 1.0, low_inclusive=False)
    c2 = check_in_range(c2, "c2", c1, 1.0, low_inclusive=False)
    return _strong_wolfe(
        fun,
        point,
        float(value),
        current_gradient,
        search_direction,
        initial_step=check_positive(initial_step, "initial_step"),
        c1=c1,
        c2=c2,
        max_evaluations=check_int(max_evaluations, "max_evaluations"),
    )


def backtracking_line_search(
    fun: Objective,
    x: ArrayLike,
    value: float,
    gradient: ArrayLike,
    direction: ArrayLike,
    *,
    initial_step: float = 1.0,
    c1: float = SUFFICIENT_DECREASE,
    shrink: float = 0.5,
    max_evaluations: int = 60,
) -> LineSearchResult:
    r"""Shrink the step until it satisfies the Armijo condition (Nocedal & Wright 2006, Algorithm 3.1).

    Starting from :math:`\alpha = ` ``initial_step``, the step is multiplied by ``shrink`` until

    .. math::

        f(x + \alpha d) \le f(x) + c_1 \alpha \nabla f(x)^\top d .

    For Newton's method the full step :math:`\alpha = 1` is accepted close to a minimizer, which preserves the
    quadratic rate of convergence; far from it the search prevents the overshooting of a pure Newton step.
    As in ``strong_wolfe_line_search``, the first trial may raise :math:`f` by its rounding error
    (``ROUNDING_ULPS`` units of round-off of :math:`|f(x)|`); shorter steps must decrease it.

    Parameters
    ----------
    fun : callable
        ``fun(x) -> (value, gradient)``.
    x : array_like
        The current point, shape ``(n,)``.
    value : float
        ``fun(x)[0]``.
    gradient : array_like
        ``fun(x)[1]``, shape ``(n,)``.
    direction : array_like
        A descent direction :math:`d`, shape ``(n,)``.
    initial_step : float, optional
        The first trial step. Default: 1.0.
    c1 : float, optional
        The sufficient-decrease constant, in :math:`(0, 1)`. Default: 1e-4.
    shrink : float, optional
        The factor applied to a rejected step, in :math:`(0, 1)`. Default: 0.5.
    max_evaluations : int, optional
        The most objective evaluations the search may spend (:math:`0.5^{60} \approx 10^{-18}`). Default: 60.

    Returns
    -------
    LineSearchResult
        ``success`` is True when the Armijo condition holds; otherwise ``step`` is 0 and ``x`` is unchanged.

    Raises
    ------
    ValueError
        If the shapes disagree, an input is not finite, ``direction`` is not a descent direction, or a
        constant is out of range.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.second_order import backtracking_line_search
    >>> def parabola(x):
    ...     return float(x @ x), 2 * x
    >>> x = np.array([1.0, 2.0])
    >>> value, gradient = parabola(x)
    >>> # the full step 1 overshoots to -x, where f is as large: halved once
    >>> backtracking_line_search(parabola, x, value, gradient, -gradient).step
    0.5
    """
    point, current_gradient, search_direction = _check_search_inputs(fun, x, value, gradient, direction)
    return _backtracking(
        fun,
        point,
        float(value),
        current_gradient,
        search_direction,
        initial_step=check_positive(initial_step, "initial_step"),
        c1=check_in_range(c1, "c1", 0.0, 1.0, low_inclusive=False),
        shrink=check_in_range(shrink, "shrink", 0.0, 1.0, low_inclusive=False),
        max_evaluations=check_int(max_evaluations, "max_evaluations"),
    )


def _check_search_inputs(
    fun: Objective, x: ArrayLike, value: float, gradient: ArrayLike, direction: ArrayLike
) -> tuple[NDArray[np.floating], NDArray[np.floating], NDArray[np.floating]]:
    _check_callable(fun, "fun")
    point = as_float_array(x, "x")
    if point.ndim != 1:
        raise ValueError(f"x must be a 1-D array (one point), got shape {point.shape}")
    arrays = {"x": point}
    for name, array in (("gradient", gradient), ("direction", direction)):
        arrays[name] = as_float_array(array, name).astype(point.dtype, copy=False)
        if arrays[name].shape != point.shape:
            raise ValueError(f"{name} must have the shape of x, {point.shape}, got {arrays[name].shape}")
    for name, array in arrays.items():
        check_finite(array, name)
    try:
        finite_value = math.isfinite(float(value))
    except (TypeError, ValueError):
        finite_value = False
    if not finite_value:
        raise ValueError(f"value must be a finite real number, got {value!r}")
    if not float(arrays["gradient"] @ arrays["direction"]) < 0:
        raise ValueError("direction must be a descent direction (gradient @ direction < 0), got a slope >= 0")
    return point, arrays["gradient"], arrays["direction"]


def _strong_wolfe(
    fun: Objective,
    x: NDArray[np.floating],
    value: float,
    gradient: NDArray[np.floating],
    direction: NDArray[np.floating],
    *,
    initial_step: float,
    c1: float = SUFFICIENT_DECREASE,
    c2: float = CURVATURE,
    max_evaluations: int = 30,
) -> LineSearchResult:
    ray = _Ray(fun, x, direction)
    start = _Trial(0.0, value, float(gradient @ direction), x, gradient)
    noise = _rounding_noise(value, x.dtype)

    def decreases_enough(trial: _Trial, tolerance: float = 0.0) -> bool:
        return trial.finite and trial.value <= start.value + c1 * trial.step * start.slope + tolerance

    def flat_enough(trial: _Trial) -> bool:
        return abs(trial.slope) <= -c2 * start.slope

    def zoom(low: _Trial, high: _Trial) -> LineSearchResult:
        # x + alpha d stops changing once |alpha_hi - alpha_lo| * |d| is below the spacing of floats near x.
        largest_coordinate = max(1.0, float(np.max(np.abs(x))))
        resolution = np.finfo(x.dtype).eps * largest_coordinate / float(np.max(np.abs(direction)))
        while ray.n_fev < max_evaluations:
            if abs(high.step - low.step) <= resolution:
                return _result(low, ray.n_fev, False, "the bracket shrank below the resolution of x")
            trial = ray(_interpolate(low, high))
            if not decreases_enough(trial) or trial.value >= low.value:
                high = trial
            else:
                if flat_enough(trial):
                    return _result(trial, ray.n_fev, True, "strong Wolfe conditions satisfied")
                if trial.slope * (high.step - low.step) >= 0:
                    high = low
                low = trial
        return _result(low, ray.n_fev, False, f"no acceptable step within {max_evaluations} evaluations")

    previous, step = start, initial_step
    while ray.n_fev < max_evaluations:
        trial = ray(step)
        first = previous is start  # only the first trial may exceed the bound by f's rounding noise
        no_lower = not first and trial.value >= previous.value
        if not decreases_enough(trial, noise if first else 0.0) or no_lower:
            return zoom(previous, trial)
        if flat_enough(trial):
            return _result(trial, ray.n_fev, True, "strong Wolfe conditions satisfied")
        if trial.slope >= 0:
            return zoom(trial, previous)
        # Still descending steeply: extrapolate, between 1.1 and 4 times the last increase (Moré-Thuente).
        increase = trial.step - previous.step
        shortest, longest = trial.step + 1.1 * increase, trial.step + 4.0 * increase
        guess = _cubic_minimizer(previous, trial)
        step = longest if guess is None else min(max(guess, shortest), longest)
        previous = trial
    return _result(previous, ray.n_fev, False, f"no acceptable step within {max_evaluations} evaluations")


def _backtracking(
    fun: Objective,
    x: NDArray[np.floating],
    value: float,
    gradient: NDArray[np.floating],
    direction: NDArray[np.floating],
    *,
    initial_step: float,
    c1: float = SUFFICIENT_DECREASE,
    shrink: float = 0.5,
    max_evaluations: int = 60,
) -> LineSearchResult:
    ray = _Ray(fun, x, direction)
    slope = float(gradient @ direction)
    tolerance = _rounding_noise(value, x.dtype)  # for the first trial only
    step = initial_step
    while ray.n_fev < max_evaluations:
        trial = ray(step)
        if math.isfinite(trial.value) and trial.value <= value + c1 * step * slope + tolerance:
            return _result(trial, ray.n_fev, True, "Armijo condition satisfied")
        step *= shrink
        tolerance = 0.0
    start = _Trial(0.0, value, slope, x, gradient)
    message = f"no step satisfied the Armijo condition in {max_evaluations} trials"
    return _result(start, ray.n_fev, False, message)


def _rounding_noise(value: float, dtype: np.dtype) -> float:
    """How much a computed value of f may exceed its exact value: ROUNDING_ULPS units of round-off of |f(x)|.

    Close to a minimizer the decrease a good step brings, about half of gradient^T H^-1 gradient, falls below
    the rounding error of f itself; a strict test would then reject the very Newton step that doubles the
    number of correct digits. Tolerating a rise of a few ulps for that step lets the gradient test, which
    stays accurate, decide; the optimizers stop when a step raises f without lowering the gradient.
    """
    return ROUNDING_ULPS * float(np.finfo(dtype).eps) * abs(value)


def _result(trial: _Trial, n_fev: int, success: bool, message: str) -> LineSearchResult:
    return LineSearchResult(trial.step, trial.x, trial.value, trial.gradient, n_fev, success, message)
