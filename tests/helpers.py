"""Helpers shared by the test modules, imported as ``from helpers import ...`` (pytest puts tests/ on sys.path)."""

from __future__ import annotations

from typing import Any

import numpy as np


def relative_error(actual: Any, expected: Any) -> float:
    """max |actual - expected| / max |expected|: the error relative to the scale of the whole array.

    The shapes must match (no broadcasting) and ``expected`` must not be all zeros: a comparison against zeros
    would prove little.
    """
    actual_array = np.asarray(actual, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    assert actual_array.shape == expected_array.shape, (actual_array.shape, expected_array.shape)
    scale = np.max(np.abs(expected_array))
    assert scale > 0, "a comparison against all zeros would prove little"
    return float(np.max(np.abs(actual_array - expected_array)) / scale)


def softmax(x: np.ndarray) -> np.ndarray:
    """The softmax along the last axis, with the row maximum subtracted (a reference, not the package's)."""
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)
