"""Interpolation inside a line search: the minimizer of a cubic or a quadratic fitted to trial steps
(Nocedal & Wright 2006, section 3.5)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray


@dataclass(frozen=True)
class _Trial:
    """One evaluated step: phi(step), phi'(step) and the point and gradient behind them."""

    step: float
    value: float
    slope: float
    x: NDArray[np.floating]
    gradient: NDArray[np.floating]

    @property
    def finite(self) -> bool:
        return math.isfinite(self.value) and math.isfinite(self.slope)


def _interpolate(low: _Trial, high: _Trial) -> float:
    """The zoom phase's trial step: cubic, else quadratic interpolation, else bisection, kept inside the
    bracket and at least 10 % of its width away from both ends, so the bracket shrinks by a fixed factor."""
    left, right = min(low.step, high.step), max(low.step, high.step)
    margin = 0.1 * (right - left)
    for candidate in (_cubic_minimizer(low, high), _quadratic_minimizer(low, high)):
        if candidate is not None and left + margin <= candidate <= right - margin:
            return candidate
    return 0.5 * (left + right)


def _cubic_minimizer(first: _Trial, second: _Trial) -> float | None:
    """The minimizer of the cubic matching value and slope at both steps (Nocedal & Wright eq. 3.59), or None
    when it has none. Plain Python floats: an overflow becomes inf or nan, not a warning."""
    if not (first.finite and second.finite) or first.step == second.step:
        return None
    d1 = first.slope + second.slope - 3.0 * (first.value - second.value) / (first.step - second.step)
    radicand = d1 * d1 - first.slope * second.slope
    if not (math.isfinite(radicand) and radicand >= 0.0):
        return None
    d2 = math.copysign(math.sqrt(radicand), second.step - first.step)
    denominator = second.slope - first.slope + 2.0 * d2
    if denominator == 0.0:
        return None
    minimizer = second.step - (second.step - first.step) * (second.slope + d2 - d1) / denominator
    return minimizer if math.isfinite(minimizer) else None


def _quadratic_minimizer(low: _Trial, high: _Trial) -> float | None:
    """The minimizer of the parabola through phi(low), phi'(low) and phi(high); None if it opens downwards."""
    if not (low.finite and math.isfinite(high.value)) or low.step == high.step:
        return None
    width = high.step - low.step
    curvature = (high.value - low.value - low.slope * width) / (width * width)
    if not (math.isfinite(curvature) and curvature > 0.0):
        return None
    minimizer = low.step - low.slope / (2.0 * curvature)
    return minimizer if math.isfinite(minimizer) else None
