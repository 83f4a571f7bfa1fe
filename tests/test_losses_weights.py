"""Class weights of the losses against torch: ``pos_weight`` of ``binary_cross_entropy_with_logits`` and
``weight`` of ``cross_entropy``, values and autograd gradients in float64 (relative error <= 1e-9) for every
reduction; huge logits; float32 kept; TensorFlow's and Keras's weighted counterparts; every ``ValueError``.

Relative error is measured over the whole result: max |actual - expected| / max |expected|.
"""

from __future__ import annotations

import os
import warnings
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from helpers import relative_error, softmax  # noqa: E402

from lossopt_companion import losses  # noqa: E402

REDUCTIONS = ("mean", "sum", "none")
TORCH_TOLERANCE = 1e-9
KERAS_TOLERANCE = 2e-5


def torch_bce(y_true, logits, reduction, pos_weight):
    """torch's value and autograd gradient (of the sum of the result) of the weighted BCE with logits."""
    leaf = torch.from_numpy(logits).requires_grad_(True)
    value = F.binary_cross_entropy_with_logits(
        leaf, torch.from_numpy(y_true), reduction=reduction,
        pos_weight=torch.as_tensor(pos_weight, dtype=leaf.dtype),
    )
    (gradient,) = torch.autograd.grad(value.sum(), leaf)
    return value.detach().numpy(), gradient.numpy()


def torch_cross_entropy(y_true, logits, reduction, weight, label_smoothing=0.0):
    leaf = torch.from_numpy(logits).requires_grad_(True)
    value = F.cross_entropy(leaf, torch.from_numpy(y_true), weight=torch.as_tensor(weight, dtype=leaf.dtype),
                            reduction=reduction, label_smoothing=label_smoothing)
    (gradient,) = torch.autograd.grad(value.sum(), leaf)
    return value.detach().numpy(), gradient.numpy()


# ------------------------------------------------------------------------------------------------------------
# binary_cross_entropy_with_logits(..., pos_weight=p)
# ------------------------------------------------------------------------------------------------------------


def _pos_weights(rng: np.random.Generator, shape: tuple[int, ...]) -> list[Any]:
    """The pos_weight shapes torch broadcasts: a scalar, one per class (the last axis), and others."""
    per_class = rng.uniform(0.0, 5.0, shape[-1])
    per_class[0] = 0.0  # a weight of 0 switches the positive term off
    weights: list[Any] = [float(rng.uniform(0.1, 10.0)), np.float64(0.0), per_class, rng.uniform(0, 3, shape)]
    if len(shape) == 3:
        weights.append(rng.uniform(0.0, 3.0, (shape[1], 1)))  # torch's [C, 1, 1] example, one axis shorter
    return weights


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(7,), (1, 1), (4, 5), (2, 3, 4), (30, 6)])
def test_bce_with_logits_pos_weight_equals_torch_float64(shape: tuple[int, ...], reduction: str) -> None:
    rng = np.random.default_rng(sum(shape) + len(reduction))
    y_true = np.where(rng.random(shape) < 0.5, rng.integers(0, 2, shape), rng.random(shape)).astype(float)
    logits = 4.0 * rng.standard_normal(shape)
    for pos_weight in _pos_weights(rng, shape):
        expected_value, expected_gradient = torch_bce(y_true, logits, reduction, pos_weight)
        kwargs = {"reduction": reduction, "pos_weight": pos_weight}
        value = losses.binary_cross_entropy_with_logits(y_true, logits, **kwargs)
        gradient = losses.binary_cross_entropy_with_logits_grad(y_true, logits, **kwargs)
        assert np.shape(value) == expected_value.shape and np.asarray(value).dtype == np.float64
        assert gradient.shape == logits.shape and gradient.dtype == np.float64
        assert relative_error(value, expected_value) <= TORCH_TOLERANCE, (shape, np.shape(pos_weight))
        assert relative_error(gradient, expected_gradient) <= TORCH_TOLERANCE, (shape, np.shape(pos_weight))


def test_bce_with_logits_pos_weight_one_is_the_unweighted_loss() -> None:
    rng = np.random.default_rng(0)
    y_true, logits = rng.random((5, 3)), 3.0 * rng.standard_normal((5, 3))
    for reduction in REDUCTIONS:
        plain = losses.binary_cross_entropy_with_logits(y_true, logits, reduction=reduction)
        for ones in (1.0, np.ones(3)):
            kwargs = {"reduction": reduction, "pos_weight": ones}
            weighted = losses.binary_cross_entropy_with_logits(y_true, logits, **kwargs)
            np.testing.assert_allclose(weighted, plain, rtol=1e-15)
            np.testing.assert_allclose(
                losses.binary_cross_entropy_with_logits_grad(y_true, logits, **kwargs),
                losses.binary_cross_entropy_with_logits_grad(y_true, logits, reduction=reduction), rtol=1e-15,
            )


def test_bce_with_logits_pos_weight_is_finite_for_huge_logits_float64() -> None:
    logits = np.repeat([1e4, -1e4, 1e30, -1e30], 3)
    targets = np.tile([0.0, 1.0, 0.3], 4)
    pos_weight = 2.5
    for reduction in REDUCTIONS:
        kwargs = {"reduction": reduction, "pos_weight": pos_weight}
        value = losses.binary_cross_entropy_with_logits(targets, logits, **kwargs)
        gradient = losses.binary_cross_entropy_with_logits_grad(targets, logits, **kwargs)
        expected_value, expected_gradient = torch_bce(targets, logits, reduction, pos_weight)
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))
        assert relative_error(value, expected_value) <= TORCH_TOLERANCE
        assert relative_error(gradient, expected_gradient) <= TORCH_TOLERANCE
    # Closed forms: (1 - y) x for x >> 0, -p y x for x << 0; gradient 1 - y or -p y.
    values = losses.binary_cross_entropy_with_logits(targets, logits, reduction="none", pos_weight=pos_weight)
    expected = np.where(logits > 0, (1 - targets) * logits, -pos_weight * targets * logits)
    np.testing.assert_allclose(values, expected, rtol=1e-15)
    gradient = losses.binary_cross_entropy_with_logits_grad(
        targets, logits, reduction="sum", pos_weight=pos_weight
    )
    np.testing.assert_allclose(gradient, np.where(logits > 0, 1 - targets, -pos_weight * targets), rtol=1e-15)


def test_bce_with_logits_pos_weight_does_not_cancel_for_huge_logits() -> None:
    # torch's (1 - y) x + (1 + (p - 1) y) log(1 + e^-x) at x = -1e4 adds -1e4 (1 - y) to about
    # 1e4 (1 + (p - 1) y): for y = 2**-40 the true loss, p y 1e4 (about 2.7e-8 for p = 3), is lost in the
    # cancellation. Here it is exact.
    y_true = np.array([1 - 2.0**-40, 2.0**-40])
    logits = np.array([1e4, -1e4])
    values = losses.binary_cross_entropy_with_logits(y_true, logits, reduction="none", pos_weight=3.0)
    assert relative_error(values, [2.0**-40 * 1e4, 3 * 2.0**-40 * 1e4]) <= 1e-15


def test_bce_with_logits_pos_weight_float32_stays_float32() -> None:
    rng = np.random.default_rng(5)
    y_true = rng.random((8, 4)).astype(np.float32)
    logits = (3.0 * rng.standard_normal((8, 4))).astype(np.float32)
    logits[0] = [1e4, -1e4, 1e4, -1e4]
    pos_weight = rng.uniform(0.5, 4.0, 4)  # float64 weights do not promote float32 inputs
    for reduction in REDUCTIONS:
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            kwargs = {"reduction": reduction, "pos_weight": pos_weight}
            value = losses.binary_cross_entropy_with_logits(y_true, logits, **kwargs)
            gradient = losses.binary_cross_entropy_with_logits_grad(y_true, logits, **kwargs)
        assert np.asarray(value).dtype == np.float32 and gradient.dtype == np.float32
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))
        expected_value, expected_gradient = torch_bce(
            y_true, logits, reduction, pos_weight.astype(np.float32)
        )
        assert relative_error(value, expected_value) <= 1e-6
        assert relative_error(gradient, expected_gradient) <= 1e-6


def test_bce_with_logits_pos_weight_equals_tensorflow_weighted_cross_entropy() -> None:
    rng = np.random.default_rng(6)
    y_true = rng.integers(0, 2, (12, 3)).astype(np.float32)
    logits = (3.0 * rng.standard_normal((12, 3))).astype(np.float32)
    pos_weight = np.array([0.5, 2.0, 7.0], dtype=np.float32)
    expected = tf.nn.weighted_cross_entropy_with_logits(y_true, logits, pos_weight).numpy()
    values = losses.binary_cross_entropy_with_logits(y_true, logits, reduction="none", pos_weight=pos_weight)
    assert relative_error(values, expected) <= KERAS_TOLERANCE
    # Keras: no pos_weight argument, but the sample weights 1 + (p - 1) y of class_weight={0: 1, 1: p} give
    # the same mean for 0/1 labels and one output per sample.
    column_true, column_logits = y_true[:, :1], logits[:, :1]
    keras_value = keras.losses.BinaryCrossentropy(from_logits=True)(
        column_true, column_logits, sample_weight=1 + (7.0 - 1) * column_true[:, 0]
    )
    assert relative_error(
        losses.binary_cross_entropy_with_logits(column_true, column_logits, pos_weight=7.0), keras_value
    ) <= KERAS_TOLERANCE


@pytest.mark.parametrize(
    "pos_weight, message",
    [
        (np.ones(4), r"pos_weight must be a scalar, an array of shape \(3,\).*got shape \(4,\)"),
        (np.ones((3, 3)), r"pos_weight must be .*broadcasts to y_pred's shape \(2, 3\), got shape \(3, 3\)"),
        (np.ones((1, 2, 3)), r"pos_weight .* got shape \(1, 2, 3\)"),
        (-0.5, r"pos_weight must hold non-negative weights, got a minimum of -0.5"),
        ([1.0, -1.0, 1.0], r"pos_weight must hold non-negative weights"),
        (np.nan, r"pos_weight must be finite"),
        ([1.0, np.inf, 1.0], r"pos_weight must be finite"),
        ("heavy", r"pos_weight must be an array of real numbers"),
    ],
)
def test_bad_pos_weight_raises(pos_weight: Any, message: str) -> None:
    y_true, logits = np.zeros((2, 3)), np.zeros((2, 3))
    for function in (losses.binary_cross_entropy_with_logits, losses.binary_cross_entropy_with_logits_grad):
        with pytest.raises(ValueError, match=message):
            function(y_true, logits, pos_weight=pos_weight)


# ------------------------------------------------------------------------------------------------------------
# cross_entropy(..., weight=w)
# ------------------------------------------------------------------------------------------------------------


def _class_weights(rng: np.random.Generator, n_classes: int) -> np.ndarray:
    weights = rng.uniform(0.0, 4.0, n_classes)
    if n_classes > 2:
        weights[1] = 0.0  # a dropped class
    return weights


@pytest.mark.parametrize("label_smoothing", [0.0, 0.15])
@pytest.mark.parametrize("target_kind", ["labels", "probabilities"])
@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("shape", [(1, 2), (6, 3), (16, 10), (40, 7)])
def test_cross_entropy_weight_equals_torch_float64(
    shape: tuple[int, int], reduction: str, target_kind: str, label_smoothing: float
) -> None:
    rng = np.random.default_rng(sum(shape) * 7 + len(reduction) + len(target_kind))
    logits = 3.0 * rng.standard_normal(shape)
    if target_kind == "labels":
        y_true = rng.integers(0, shape[1], shape[0])
        y_true[0] = 0  # class 0 never has weight 0 below: the weighted mean's denominator is positive
    else:
        y_true = softmax(2.0 * rng.standard_normal(shape))
    for weight in (_class_weights(rng, shape[1]), np.full(shape[1], 2.0)):
        weight[0] = max(weight[0], 0.5)
        expected_value, expected_gradient = torch_cross_entropy(
            y_true, logits, reduction, weight, label_smoothing
        )
        kwargs = {"reduction": reduction, "weight": weight, "label_smoothing": label_smoothing}
        value = losses.cross_entropy(y_true, logits, **kwargs)
        gradient = losses.cross_entropy_grad(y_true, logits, **kwargs)
        assert np.shape(value) == expected_value.shape and np.asarray(value).dtype == np.float64
        assert gradient.shape == logits.shape and gradient.dtype == np.float64
        assert relative_error(value, expected_value) <= TORCH_TOLERANCE
        assert relative_error(gradient, expected_gradient) <= TORCH_TOLERANCE


def test_cross_entropy_weighted_mean_divides_by_the_label_weights_for_labels_only() -> None:
    rng = np.random.default_rng(8)
    logits = rng.standard_normal((9, 4))
    labels = rng.integers(0, 4, 9)
    probabilities = np.eye(4)[labels]
    weight = np.array([0.5, 1.0, 2.0, 4.0])
    total = losses.cross_entropy(labels, logits, weight=weight, reduction="sum")
    mean = losses.cross_entropy(labels, logits, weight=weight)
    assert relative_error(mean, total / weight[labels].sum()) <= 1e-15
    # The same one-hot targets as probabilities: the same sum, but "mean" divides by N (torch does the same).
    probability_sum = losses.cross_entropy(probabilities, logits, weight=weight, reduction="sum")
    assert relative_error(probability_sum, total) <= 1e-14
    assert relative_error(losses.cross_entropy(probabilities, logits, weight=weight), total / 9) <= 1e-14
    # Equal weights: the weighted mean of labels is the plain mean.
    for reduction in ("mean", "none"):
        np.testing.assert_allclose(
            losses.cross_entropy(labels, logits, weight=np.ones(4), reduction=reduction),
            losses.cross_entropy(labels, logits, reduction=reduction), rtol=1e-15,
        )
        factor = 1 if reduction == "mean" else 3  # the weighted mean divides the factor 3 out again
        np.testing.assert_allclose(
            losses.cross_entropy_grad(labels, logits, weight=np.full(4, 3.0), reduction=reduction),
            losses.cross_entropy_grad(labels, logits, reduction=reduction) * factor, rtol=1e-14,
        )


def test_cross_entropy_weight_is_finite_for_huge_logits_float64() -> None:
    logits = np.array([[1e4, 0.0, -1e4], [-1e4, 1e4, 0.5], [1e4, 1e4, -1e4], [1e30, -1e30, 0.0]])
    labels = np.array([0, 2, 1, 1])
    probabilities = softmax(np.random.default_rng(9).standard_normal(logits.shape))
    weight = np.array([0.5, 2.0, 3.0])
    for targets in (labels, probabilities):
        for label_smoothing in (0.0, 0.2):
            for reduction in REDUCTIONS:
                kwargs = {"reduction": reduction, "weight": weight, "label_smoothing": label_smoothing}
                value = losses.cross_entropy(targets, logits, **kwargs)
                gradient = losses.cross_entropy_grad(targets, logits, **kwargs)
                expected_value, expected_gradient = torch_cross_entropy(
                    targets, logits, reduction, weight, label_smoothing
                )
                assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))
                assert relative_error(value, expected_value) <= TORCH_TOLERANCE
                assert relative_error(gradient, expected_gradient) <= TORCH_TOLERANCE


def test_cross_entropy_weight_float32_stays_float32() -> None:
    rng = np.random.default_rng(10)
    logits = (3.0 * rng.standard_normal((12, 5))).astype(np.float32)
    logits[0] = [1e4, -1e4, 0, 0, 0]
    labels = rng.integers(0, 5, 12)
    probabilities = softmax(rng.standard_normal((12, 5))).astype(np.float32)
    weight = rng.uniform(0.5, 3.0, 5)  # float64 weights do not promote float32 logits
    for targets in (labels, probabilities):
        for label_smoothing in (0.0, 0.1):
            for reduction in REDUCTIONS:
                kwargs = {"reduction": reduction, "weight": weight, "label_smoothing": label_smoothing}
                with warnings.catch_warnings():
                    warnings.simplefilter("error")
                    value = losses.cross_entropy(targets, logits, **kwargs)
                    gradient = losses.cross_entropy_grad(targets, logits, **kwargs)
                assert np.asarray(value).dtype == np.float32 and gradient.dtype == np.float32
                expected_value, expected_gradient = torch_cross_entropy(
                    targets, logits, reduction, weight.astype(np.float32), label_smoothing
                )
                assert relative_error(value, expected_value) <= 1e-5
                assert relative_error(gradient, expected_gradient) <= 1e-5


def test_cross_entropy_weight_and_keras_sample_weights() -> None:
    rng = np.random.default_rng(11)
    logits = (2.0 * rng.standard_normal((20, 4))).astype(np.float32)
    labels = rng.integers(0, 4, 20)
    weight = np.array([0.2, 1.0, 3.0, 5.0], dtype=np.float32)
    # reduction="mean_with_sample_weight" with per-sample weights w[y] is torch's weighted mean...
    weighted_mean = keras.losses.SparseCategoricalCrossentropy(
        from_logits=True, reduction="mean_with_sample_weight"
    )(labels, logits, sample_weight=weight[labels])
    companion_mean = losses.cross_entropy(labels, logits, weight=weight)
    assert relative_error(companion_mean, weighted_mean) <= KERAS_TOLERANCE
    # ... and Keras's default reduction (which fit's class_weight keeps) divides the weighted sum by N.
    per_batch = keras.losses.SparseCategoricalCrossentropy(from_logits=True)(
        labels, logits, sample_weight=weight[labels]
    )
    weighted_sum = losses.cross_entropy(labels, logits, weight=weight, reduction="sum")
    assert relative_error(weighted_sum / 20, per_batch) <= KERAS_TOLERANCE


@pytest.mark.parametrize(
    "weight, message",
    [
        (np.ones(4), r"weight must be an array of shape \(3,\), one weight per class of y_pred, got shape"),
        (np.ones((1, 3)), r"weight must be an array of shape \(3,\).*got shape \(1, 3\)"),
        (np.ones((2, 3)), r"weight must be an array of shape \(3,\).*got shape \(2, 3\)"),
        (1.0, r"weight must be an array of shape \(3,\).*got shape \(\)"),
        ([1.0, -2.0, 1.0], r"weight must hold non-negative weights, got a minimum of -2.0"),
        ([1.0, np.nan, 1.0], r"weight must be finite"),
        ([np.inf, 1.0, 1.0], r"weight must be finite"),
        (["a", "b", "c"], r"weight must be an array of real numbers"),
    ],
)
def test_bad_weight_raises(weight: Any, message: str) -> None:
    logits = np.zeros((2, 3))
    for targets in (np.array([0, 2]), np.full((2, 3), 1 / 3)):
        for function in (losses.cross_entropy, losses.cross_entropy_grad):
            with pytest.raises(ValueError, match=message):
                function(targets, logits, weight=weight)


def test_weighted_mean_over_labels_of_zero_weight_raises() -> None:
    logits = np.zeros((2, 3))
    labels = np.array([1, 1])
    weight = np.array([1.0, 0.0, 1.0])
    for function in (losses.cross_entropy, losses.cross_entropy_grad):
        with pytest.raises(ValueError, match=r"weight gives every label in y_true a weight of 0"):
            function(labels, logits, weight=weight)
        with pytest.raises(ValueError, match=r"weight gives every label"):
            function(labels, logits, weight=weight, label_smoothing=0.1)
    # "sum" and "none" are defined (zero), and probabilities divide by N: no error.
    assert losses.cross_entropy(labels, logits, weight=weight, reduction="sum") == 0.0
    assert np.all(losses.cross_entropy_grad(labels, logits, weight=weight, reduction="none") == 0.0)
    assert losses.cross_entropy(np.eye(3)[labels], logits, weight=weight) == 0.0
