"""Bad input to the losses: each raises ValueError with a message that names the argument."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np
import pytest

from lossopt_companion import losses

# Functions whose y_true and y_pred have the same shape, with a valid (y_true, y_pred) pair for each.
ELEMENTWISE: dict[str, tuple[Any, Any]] = {
    "mse": ([0.5, 1.0, 2.0], [1.0, 1.0, 1.0]),
    "mae": ([0.5, 1.0, 2.0], [1.0, 1.0, 1.0]),
    "huber": ([0.5, 1.0, 2.0], [1.0, 1.0, 1.0]),
    "binary_cross_entropy": ([0.0, 1.0, 1.0], [0.2, 0.7, 0.9]),
    "binary_cross_entropy_with_logits": ([0.0, 1.0, 1.0], [-2.0, 0.5, 3.0]),
    "hinge": ([-1.0, 1.0, 1.0], [0.2, -0.5, 2.0]),
}
DISTRIBUTIONS = {"kl_divergence": ([[0.2, 0.8], [0.5, 0.5]], [[0.4, 0.6], [0.9, 0.1]])}
LABELLED = {
    "cross_entropy": ([0, 2], [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]),
    "multiclass_hinge": ([0, 2], [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]),
}
ALL = {**ELEMENTWISE, **DISTRIBUTIONS, **LABELLED}


def both(name: str) -> list[Callable[..., Any]]:
    """The loss and its gradient."""
    return [getattr(losses, name), getattr(losses, name + "_grad")]


def test_the_valid_inputs_are_valid() -> None:
    for name, (y_true, y_pred) in ALL.items():
        for function in both(name):
            assert np.all(np.isfinite(function(y_true, y_pred))), name


@pytest.mark.parametrize("name", [*ELEMENTWISE, *DISTRIBUTIONS])
def test_shape_mismatch_is_an_error_not_a_broadcast(name: str) -> None:
    y_true, y_pred = (np.asarray(a) for a in ALL[name])
    column = y_pred.reshape(-1, 1) if name not in DISTRIBUTIONS else y_pred[:, :1]
    for function in both(name):
        # The classic silent broadcast: (N,) against (N, 1) would give an (N, N) loss.
        with pytest.raises(ValueError, match="y_true and y_pred must have the same shape"):
            function(y_true, column)
        with pytest.raises(ValueError, match="y_true and y_pred must have the same shape"):
            function(y_true.reshape(-1, 1) if name not in DISTRIBUTIONS else y_true[:1], y_pred)


def test_the_shape_message_says_what_was_given() -> None:
    with pytest.raises(ValueError, match=r"y_true\.shape=\(3,\) and y_pred\.shape=\(3, 1\)"):
        losses.mse([1.0, 2.0, 3.0], [[1.0], [2.0], [3.0]])


@pytest.mark.parametrize("name", ALL)
def test_unknown_reduction(name: str) -> None:
    for function in both(name):
        with pytest.raises(ValueError, match="reduction must be one of"):
            function(*ALL[name], reduction="average")
        with pytest.raises(ValueError, match="reduction must be one of"):
            function(*ALL[name], reduction=None)


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
def test_nan_and_infinite_predictions(name: str, bad: float) -> None:
    y_true, y_pred = ALL[name]
    broken = np.array(y_pred, dtype=float)
    broken.flat[1] = bad
    for function in both(name):
        with pytest.raises(ValueError, match="y_pred must be finite"):
            function(y_true, broken)


@pytest.mark.parametrize("name", [*ELEMENTWISE, *DISTRIBUTIONS])
def test_nan_targets(name: str) -> None:
    y_true, y_pred = ALL[name]
    broken = np.array(y_true, dtype=float)
    broken.flat[0] = np.nan
    for function in both(name):
        with pytest.raises(ValueError, match="y_true must be finite"):
            function(broken, y_pred)


def test_nan_class_targets() -> None:
    for function in both("cross_entropy"):
        with pytest.raises(ValueError, match="y_true must be finite"):
            function([[np.nan, 1.0]], [[0.0, 1.0]])
        with pytest.raises(ValueError, match="y_true must be finite"):
            function([np.nan], [[0.0, 1.0]])


@pytest.mark.parametrize("name", ALL)
def test_empty_and_non_numeric_input(name: str) -> None:
    for function in both(name):
        with pytest.raises(ValueError, match="y_pred"):
            function(np.zeros((0, 2)), np.zeros((0, 2)))
        with pytest.raises(ValueError, match="y_pred must be an array of real numbers"):
            function(ALL[name][0], [["a", "b"]])


@pytest.mark.parametrize("name", LABELLED)
def test_labels_out_of_range_or_not_integers(name: str) -> None:
    _, scores = LABELLED[name]
    for function in both(name):
        for labels in ([0, 3], [-1, 0]):
            with pytest.raises(ValueError, match=r"y_true labels must lie in \[0, 3\)"):
                function(labels, scores)
        with pytest.raises(ValueError, match="y_true of shape \\(N,\\) must hold integer class labels"):
            function([0.0, 1.5], scores)
        with pytest.raises(ValueError, match="y_true of shape \\(N,\\) must hold integer class labels"):
            function([True, False], scores)
        with pytest.raises(ValueError, match="y_true must be integer labels of shape \\(2,\\)"):
            function([0, 1, 2], scores)  # one label too many
        with pytest.raises(ValueError, match="y_true must be integer labels of shape \\(2,\\)"):
            function([[0], [1]], scores)  # (N, 1): neither labels nor probabilities
        with pytest.raises(ValueError, match="y_pred must be .* of shape \\(N, C\\)"):
            function([0, 1], [1.0, 2.0])  # scores for one sample, without the batch axis


def test_class_probability_targets() -> None:
    logits = [[1.0, 2.0, 0.5], [0.0, -1.0, 3.0]]
    for function in both("cross_entropy"):
        with pytest.raises(ValueError, match=r"or class probabilities of shape \(2, 3\) to match y_pred"):
            function([[0.5, 0.5], [1.0, 0.0]], logits)
        with pytest.raises(ValueError, match=r"y_true must hold probabilities in \[0, 1\]"):
            function([[0.5, 0.7, -0.2], [1.0, 0.0, 0.0]], logits)
    for function in both("multiclass_hinge"):
        with pytest.raises(ValueError, match="y_true must be integer labels"):
            function([[0.5, 0.5, 0.0], [1.0, 0.0, 0.0]], logits)  # probabilities are not its targets


@pytest.mark.parametrize("name", ["binary_cross_entropy", "kl_divergence"])
def test_probabilities_outside_zero_one(name: str) -> None:
    y_true, y_pred = (np.array(a, dtype=float) for a in ALL[name])
    for function in both(name):
        for bad in (-1e-9, 1.5):
            too_far = y_pred.copy()
            too_far.flat[0] = bad
            with pytest.raises(ValueError, match=r"y_pred must hold probabilities in \[0, 1\]"):
                function(y_true, too_far)
            too_far = y_true.copy()
            too_far.flat[0] = bad
            with pytest.raises(ValueError, match=r"y_true must hold probabilities in \[0, 1\]"):
                function(too_far, y_pred)


def test_bce_with_logits_targets_are_probabilities() -> None:
    for function in both("binary_cross_entropy_with_logits"):
        with pytest.raises(ValueError, match=r"y_true must hold probabilities in \[0, 1\]"):
            function([0.0, 2.0], [1.0, 1.0])


def test_kl_divergence_needs_rows_of_probabilities() -> None:
    for function in both("kl_divergence"):
        with pytest.raises(ValueError, match="y_pred must be class probabilities of shape \\(N, C\\)"):
            function([0.2, 0.8], [0.4, 0.6])


@pytest.mark.parametrize("labels", [[-1.0, 0.0, 1.0], [2.0, 1.0, 1.0], [0.5, 1.0, 0.0], [-1.0, 0.0, 0.0]])
def test_hinge_labels_not_in_plus_minus_one_or_zero_one(labels: list[float]) -> None:
    for function in both("hinge"):
        with pytest.raises(ValueError, match=r"y_true must hold labels in \{-1, 1\} or in \{0, 1\}"):
            function(labels, [0.2, -0.5, 2.0])


@pytest.mark.parametrize("delta", [0.0, -1.0, np.nan, np.inf, "one"])
def test_huber_delta_must_be_positive(delta: Any) -> None:
    for function in both("huber"):
        with pytest.raises(ValueError, match="delta must be"):
            function(*ELEMENTWISE["huber"], delta=delta)


@pytest.mark.parametrize("margin", [-0.5, np.nan])
def test_multiclass_hinge_margin_must_be_non_negative(margin: float) -> None:
    for function in both("multiclass_hinge"):
        with pytest.raises(ValueError, match="margin must be"):
            function(*LABELLED["multiclass_hinge"], margin=margin)


@pytest.mark.parametrize("smoothing", [-0.1, 1.5, np.nan])
def test_label_smoothing_must_lie_in_zero_one(smoothing: float) -> None:
    for function in both("cross_entropy"):
        with pytest.raises(ValueError, match=r"label_smoothing must lie in \[0.0, 1.0\]"):
            function(*LABELLED["cross_entropy"], label_smoothing=smoothing)


def test_parameters_are_keyword_only() -> None:
    with pytest.raises(TypeError):
        losses.mse([1.0], [2.0], "sum")  # type: ignore[misc]
    with pytest.raises(TypeError):
        losses.huber([1.0], [2.0], "mean", 2.0)  # type: ignore[misc]
