"""Tests of lossopt_companion.metrics: accuracy against scikit-learn, calibration bins and ECE by hand."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.metrics import accuracy_score

from lossopt_companion.metrics import accuracy, calibration_bins, expected_calibration_error

# Five predictions over three classes: top-class confidences 0.9 (right), 0.6 (wrong), 0.7 (right),
# 0.4 (wrong) and 0.8 (right).
PROBABILITIES = np.array(
    [[0.9, 0.05, 0.05], [0.6, 0.3, 0.1], [0.2, 0.7, 0.1], [0.4, 0.35, 0.25], [0.1, 0.1, 0.8]]
)
LABELS = np.array([0, 1, 1, 2, 2])


def test_ece_by_hand_with_two_bins() -> None:
    # (0, .5]: {0.4 wrong} -> |0 - 0.4| = 0.4, one sample. (.5, 1]: {.9, .6, .7, .8}, 3 of 4 right ->
    # |0.75 - 0.75| = 0. ECE = 1/5 * 0.4 + 4/5 * 0 = 0.08.
    assert expected_calibration_error(PROBABILITIES, LABELS, n_bins=2) == pytest.approx(0.08, abs=1e-15)
    bins = calibration_bins(PROBABILITIES, LABELS, n_bins=2)
    np.testing.assert_array_equal(bins.counts, [1, 4])
    np.testing.assert_allclose(bins.accuracy, [0.0, 0.75])
    np.testing.assert_allclose(bins.confidence, [0.4, 0.75])
    np.testing.assert_allclose(bins.edges, [0.0, 0.5, 1.0])


def test_ece_by_hand_with_four_bins() -> None:
    # (.25, .5]: {0.4 wrong} gap 0.4; (.5, .75]: {0.6 wrong, 0.7 right} gap |0.5 - 0.65| = 0.15;
    # (.75, 1]: {0.9, 0.8 right} gap |1 - 0.85| = 0.15. ECE = (0.4 + 2 * 0.15 + 2 * 0.15) / 5 = 0.2.
    assert expected_calibration_error(PROBABILITIES, LABELS, n_bins=4) == pytest.approx(0.2, abs=1e-15)
    bins = calibration_bins(PROBABILITIES, LABELS, n_bins=4)
    np.testing.assert_array_equal(bins.counts, [0, 1, 2, 2])
    assert np.isnan(bins.accuracy[0]) and np.isnan(bins.confidence[0])


def test_bins_are_closed_on_the_right() -> None:
    # A confidence of exactly 0.5 belongs to (0.25, 0.5], not to (0.5, 0.75].
    bins = calibration_bins([[0.5, 0.5], [0.75, 0.25]], [0, 0], n_bins=4)
    np.testing.assert_array_equal(bins.counts, [0, 1, 1, 0])
    assert calibration_bins([[1.0, 0.0]], [0], n_bins=3).counts.tolist() == [0, 0, 1]


def test_ece_extremes_and_binary_form(rng: np.random.Generator) -> None:
    one_hot = np.eye(4)[rng.integers(4, size=50)]
    assert expected_calibration_error(one_hot, one_hot.argmax(axis=1)) == 0.0
    assert expected_calibration_error(one_hot, (one_hot.argmax(axis=1) + 1) % 4) == 1.0
    positive = rng.uniform(size=200)
    labels = rng.integers(2, size=200)
    two_columns = np.stack([1 - positive, positive], axis=1)
    assert expected_calibration_error(positive, labels, n_bins=7) == pytest.approx(
        expected_calibration_error(two_columns, labels, n_bins=7), abs=1e-12
    )


def test_ece_matches_a_direct_loop(rng: np.random.Generator) -> None:
    logits = rng.normal(size=(500, 5)) * 2
    probabilities = np.exp(logits) / np.exp(logits).sum(axis=1, keepdims=True)
    labels = rng.integers(5, size=500)
    confidence, correct = probabilities.max(axis=1), probabilities.argmax(axis=1) == labels
    expected = 0.0
    for low, high in zip(np.linspace(0, 1, 16)[:-1], np.linspace(0, 1, 16)[1:]):
        members = (confidence > low) & (confidence <= high)
        if members.any():
            expected += members.mean() * abs(correct[members].mean() - confidence[members].mean())
    assert expected_calibration_error(probabilities, labels, n_bins=15) == pytest.approx(expected, abs=1e-12)


def test_accuracy_matches_scikit_learn(rng: np.random.Generator) -> None:
    scores = rng.normal(size=(300, 6))
    labels = rng.integers(6, size=300)
    assert accuracy(labels, scores) == accuracy_score(labels, scores.argmax(axis=1))
    assert accuracy(labels, scores.argmax(axis=1)) == accuracy_score(labels, scores.argmax(axis=1))
    assert accuracy([1.0, 0.0], [1, 1]) == 0.5


@pytest.mark.parametrize(
    ("probabilities", "labels", "kwargs", "match"),
    [
        ([[1.2, -0.2]], [0], {}, "probabilities"),
        ([[0.5, 0.6]], [0], {}, "probabilities"),
        ([[0.5, np.nan]], [0], {}, "probabilities"),
        ([[0.5, 0.5]], [2], {}, "labels"),
        ([[0.5, 0.5]], [0.5], {}, "labels"),
        ([[0.5, 0.5], [0.2, 0.8]], [0], {}, "probabilities"),
        ([[0.5, 0.5]], [0], {"n_bins": 0}, "n_bins"),
        ([[0.5, 0.5]], [0], {"n_bins": 2.5}, "n_bins"),
        ([[0.5, 0.5]], [0], {"n_bins": True}, "n_bins"),
        (np.ones((1, 1, 2)) / 2, [0], {}, "probabilities"),
    ],
)
def test_bad_calibration_inputs_raise(probabilities, labels, kwargs, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        expected_calibration_error(probabilities, labels, **kwargs)


@pytest.mark.parametrize(
    ("labels", "predictions", "match"),
    [
        ([0, 1], [[0.1, 0.9]], "same number"),
        ([[0, 1]], [0, 1], "labels"),
        ([0, 1], [0.5, 1.5], "predictions"),
    ],
)
def test_bad_accuracy_inputs_raise(labels, predictions, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        accuracy(labels, predictions)
