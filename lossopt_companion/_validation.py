"""Input validation shared by every public entry point.

Following scikit-learn's ``utils/validation.py``: inputs are checked once, at the public boundary, and a bad input
raises ``ValueError`` with a message that names the argument, says what was expected and what was given. Nothing
is silently broadcast, and nothing is allowed to turn into a NaN later on.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

REDUCTIONS = ("mean", "sum", "none")


def as_float_array(value: ArrayLike, name: str) -> NDArray[np.floating]:
    """Return ``value`` as a floating NumPy array: float32 and float64 are kept, anything else becomes float64.

    Raises ``ValueError`` naming ``name`` when the value is not numeric (strings, objects, complex numbers).
    """
    array = np.asarray(value)
    if array.dtype.kind == "f" and array.dtype.itemsize >= 4:
        return array
    if array.dtype.kind in "biuf":
        return array.astype(np.float64)
    raise ValueError(f"{name} must be an array of real numbers, got dtype {array.dtype}")


def result_dtype(*arrays: NDArray[Any]) -> np.dtype[Any]:
    """The floating dtype of a computation on ``arrays``: float32 only when every input is float32."""
    return np.result_type(*arrays, np.float32)


def check_same_shape(a: NDArray[Any], b: NDArray[Any], name_a: str, name_b: str) -> None:
    """Raise ``ValueError`` unless ``a`` and ``b`` have exactly the same shape (no broadcasting, so that
    ``(N,)`` against ``(N, 1)`` is caught instead of silently becoming ``(N, N)``)."""
    if a.shape != b.shape:
        raise ValueError(
            f"{name_a} and {name_b} must have the same shape, got {name_a}.shape={a.shape} and "
            f"{name_b}.shape={b.shape}; reshape one of them explicitly (no broadcasting is done)"
        )


def check_reduction(reduction: str) -> str:
    """Return ``reduction`` if it is one of ``"mean"``, ``"sum"``, ``"none"``; raise ``ValueError`` otherwise."""
    if reduction not in REDUCTIONS:
        raise ValueError(f"reduction must be one of {REDUCTIONS}, got {reduction!r}")
    return reduction


def check_finite(array: NDArray[Any], name: str) -> None:
    """Raise ``ValueError`` if ``array`` holds a NaN or an infinity."""
    if not np.all(np.isfinite(array)):
        bad = int(np.size(array) - np.count_nonzero(np.isfinite(array)))
        raise ValueError(f"{name} must be finite, got {bad} NaN or infinite value(s)")


def check_positive(value: float, name: str, *, allow_zero: bool = False) -> float:
    """Return ``value`` as a float if it is positive (or zero when ``allow_zero``); raise ``ValueError`` otherwise."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    if not np.isfinite(number) or number < 0 or (number == 0 and not allow_zero):
        expected = "non-negative" if allow_zero else "positive"
        raise ValueError(f"{name} must be a finite {expected} number, got {value!r}")
    return number


def check_int(value: Any, name: str, *, minimum: int = 1, unit: str = "") -> int:
    """Return ``value`` as an ``int`` if it is an integer ``>= minimum`` (``bool`` is not an integer here).

    Raises ``ValueError`` naming ``name``: "must be a positive integer" for ``minimum=1``, "a non-negative
    integer" for 0, "an integer >= minimum" otherwise, followed by ``unit`` in parentheses when given.
    """
    if isinstance(value, bool) or not isinstance(value, (int, np.integer)) or value < minimum:
        expected = {1: "a positive integer", 0: "a non-negative integer"}.get(minimum, f"an integer >= {minimum}")
        suffix = f" ({unit})" if unit else ""
        raise ValueError(f"{name} must be {expected}{suffix}, got {value!r}")
    return int(value)


def check_in_range(
    value: float, name: str, low: float, high: float, *, low_inclusive: bool = True, high_inclusive: bool = False
) -> float:
    """Return ``value`` as a float if it lies in the interval from ``low`` to ``high``; raise ``ValueError``
    otherwise. The interval is closed or open at each end as the two flags say (default ``[low, high)``)."""
    try:
        number = float(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be a real number, got {value!r}") from None
    above_low = number >= low if low_inclusive else number > low
    below_high = number <= high if high_inclusive else number < high
    if not (np.isfinite(number) and above_low and below_high):
        interval = f"{'[' if low_inclusive else '('}{low}, {high}{']' if high_inclusive else ')'}"
        raise ValueError(f"{name} must lie in {interval}, got {value!r}")
    return number


def check_array_list(arrays: Sequence[Any], name: str) -> list[NDArray[np.floating]]:
    """Check that ``arrays`` is a non-empty list of floating NumPy arrays and return it as a list.

    Used for optimizer parameters, which are updated in place: a Python list, a tuple or an integer array cannot be
    updated in place, so they are rejected instead of copied.
    """
    if isinstance(arrays, np.ndarray) or not isinstance(arrays, Sequence) or len(arrays) == 0:
        raise ValueError(f"{name} must be a non-empty list of NumPy arrays, got {type(arrays).__name__}")
    for index, array in enumerate(arrays):
        if not isinstance(array, np.ndarray):
            raise ValueError(f"{name}[{index}] must be a NumPy array, got {type(array).__name__}")
        if array.dtype.kind != "f":
            raise ValueError(
                f"{name}[{index}] must be a floating-point array (it is updated in place), got dtype {array.dtype}"
            )
    return list(arrays)
