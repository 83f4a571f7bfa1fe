"""Tests of lossopt_companion.metrics: accuracy against scikit-learn, calibration bins and ECE by hand, and
the temperature of fit_temperature against SciPy."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.optimize import brentq, minimize_scalar
from scipy.special import logsumexp, softmax
from sklearn.metrics import accuracy_score

from lossopt_companion.metrics import accuracy, calibration_bins, expected_calibration_error, fit_temperature

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


# --- fit_temperature ----------------------------------------------------------------------------------------


def _mean_nll(logits: np.ndarray, labels: np.ndarray, temperature: float) -> float:
    scaled = logits / temperature
    return float(np.mean(logsumexp(scaled, axis=1) - scaled[np.arange(len(labels)), labels]))


def _informative_logits(rng: np.random.Generator, n: int = 400, classes: int = 5):
    """Random logits whose top class is the label for ~70 % of the samples (an optimum inside the bounds)."""
    logits = rng.normal(size=(n, classes)) * 3
    labels = rng.integers(classes, size=n)
    right = rng.uniform(size=n) < 0.6
    labels[right] = logits[right].argmax(axis=1)
    return logits, labels


@pytest.mark.parametrize("seed", range(5))
def test_temperature_matches_scipy(seed: int) -> None:
    logits, labels = _informative_logits(np.random.default_rng(seed))
    temperature = fit_temperature(logits, labels)

    # The root of the derivative in beta = 1/T, found by SciPy's Brent root finder to 1e-15: exact agreement.
    def slope(beta: float) -> float:
        p = softmax(beta * logits, axis=1)
        return float(np.mean(np.sum(p * logits, axis=1) - logits[np.arange(len(labels)), labels]))

    root = brentq(slope, 1e-2, 1e2, xtol=1e-15, rtol=1e-15)
    assert temperature == pytest.approx(1 / root, rel=1e-10)

    # minimize_scalar on the loss itself: a smooth minimum is flat, so a minimizer that compares loss values
    # locates it only to about sqrt(machine epsilon) ~ 1.5e-8 relative, and our loss is never higher.
    fitted = minimize_scalar(lambda log_t: _mean_nll(logits, labels, np.exp(log_t)), bounds=(-4.6, 4.6),
                             method="bounded", options={"xatol": 1e-12})
    assert temperature == pytest.approx(np.exp(fitted.x), rel=1e-7)
    assert _mean_nll(logits, labels, temperature) <= fitted.fun + 1e-15


def test_the_fitted_temperature_is_a_minimum(rng: np.random.Generator) -> None:
    # A small step in T either way raises the loss.
    logits, labels = _informative_logits(rng)
    temperature = fit_temperature(logits, labels)
    h = 1e-4 * temperature
    assert _mean_nll(logits, labels, temperature) < _mean_nll(logits, labels, temperature - h)
    assert _mean_nll(logits, labels, temperature) < _mean_nll(logits, labels, temperature + h)


def test_temperature_of_calibrated_logits_is_near_one() -> None:
    # Labels drawn from softmax(z) itself: the model is calibrated by construction, and T -> 1 as N grows.
    # Over 40 seeds the fitted T for 20 000 such samples has mean 1.001 and standard deviation 0.009
    # (this seed: 0.991); the tolerance 0.04 is more than four standard deviations.
    rng = np.random.default_rng(7)
    logits = rng.normal(size=(20_000, 6)) * 2
    cumulative = np.cumsum(softmax(logits, axis=1), axis=1)
    labels = np.minimum((rng.uniform(size=(20_000, 1)) > cumulative).sum(axis=1), 5)
    assert fit_temperature(logits, labels) == pytest.approx(1.0, abs=0.04)
    # The same labels with the logits doubled or halved: T follows the scale.
    assert fit_temperature(2 * logits, labels) == pytest.approx(2.0, abs=0.08)
    assert fit_temperature(logits / 2, labels) == pytest.approx(0.5, abs=0.02)


@pytest.mark.parametrize("scale", [0.1, 3.0, 25.0])
def test_temperature_is_scale_equivariant(scale: float, rng: np.random.Generator) -> None:
    logits, labels = _informative_logits(rng)
    assert fit_temperature(scale * logits, labels) == pytest.approx(scale * fit_temperature(logits, labels),
                                                                    rel=1e-11)


def test_temperature_ignores_row_shifts_and_keeps_float32_apart(rng: np.random.Generator) -> None:
    logits, labels = _informative_logits(rng)
    shifted = logits + rng.normal(size=(len(labels), 1)) * 100
    assert fit_temperature(shifted, labels) == pytest.approx(fit_temperature(logits, labels), rel=1e-9)
    assert isinstance(fit_temperature(logits.astype(np.float32), labels), float)


def test_temperature_stops_at_the_bounds() -> None:
    separable = np.array([[3.0, 0.0, -1.0], [0.0, 2.0, 1.0], [-2.0, 0.0, 1.0]])
    labels = np.array([0, 1, 2])
    assert fit_temperature(separable, labels) == 1e-2                  # every label on top: T -> 0
    assert fit_temperature(separable, labels, bounds=(0.5, 4.0)) == 0.5
    anti = np.array([[3.0, 0.0], [0.0, 3.0]])
    assert fit_temperature(anti, [1, 0]) == 1e2                        # every label at the bottom: T -> inf
    assert fit_temperature(np.zeros((4, 3)), [0, 1, 2, 0]) == 1.0       # constant rows: T does not matter
    assert fit_temperature(np.zeros((4, 3)), [0, 1, 2, 0], bounds=(2.0, 3.0)) == 2.0
    # An optimum just inside the bounds is found, not clipped.
    logits, y = np.array([[2.0, 0.0], [0.0, 2.0], [2.0, 0.0], [2.0, 0.0]]), np.array([0, 1, 0, 1])
    assert fit_temperature(logits, y, bounds=(1.8, 1.85)) == pytest.approx(2 / np.log(3), rel=1e-12)


@pytest.mark.parametrize(
    ("logits", "labels", "kwargs", "match"),
    [
        (np.zeros(3), [0, 1, 2], {}, "logits"),
        (np.zeros((0, 3)), [], {}, "logits|labels"),
        (np.zeros((2, 1)), [0, 0], {}, "logits"),
        ([[0.0, np.inf], [0.0, 1.0]], [0, 1], {}, "logits"),
        ([["a", "b"]], [0], {}, "logits"),
        ([[0.0, 1.0]], [2], {}, "labels"),
        ([[0.0, 1.0]], [-1], {}, "labels"),
        ([[0.0, 1.0]], [0.5], {}, "labels"),
        ([[0.0, 1.0]], [0, 1], {}, "labels"),
        ([[0.0, 1.0]], [0], {"bounds": (0.0, 1.0)}, "bounds"),
        ([[0.0, 1.0]], [0], {"bounds": (2.0, 1.0)}, "bounds"),
        ([[0.0, 1.0]], [0], {"bounds": (1.0, np.inf)}, "bounds"),
        ([[0.0, 1.0]], [0], {"bounds": 1.0}, "bounds"),
        ([[0.0, 1.0]], [0], {"bounds": (1.0, 2.0, 3.0)}, "bounds"),
    ],
)
def test_bad_temperature_inputs_raise(logits, labels, kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        fit_temperature(logits, labels, **kwargs)
