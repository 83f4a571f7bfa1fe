"""The losses against the frameworks: torch in float64 (values and autograd gradients, relative error <= 1e-9)
and Keras 3 on TensorFlow in float32 (values, and ``tf.GradientTape`` gradients, relative error <= 2e-5); the
documented differences between the frameworks; and the numerically hard inputs (huge logits, probabilities of
exactly 0 and 1, zeros in KL targets).

Relative error is measured over the whole result: max |actual - expected| / max |expected|.
"""

from __future__ import annotations

import os
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
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


# ------------------------------------------------------------------------------------------------------------
# The cases: data, the companion pair, the torch reference and the Keras reference
# ------------------------------------------------------------------------------------------------------------


def _reduce_torch(values: torch.Tensor, reduction: str) -> torch.Tensor:
    return {"mean": values.mean, "sum": values.sum, "none": lambda: values}[reduction]()


def _torch_kl(p: torch.Tensor, q: torch.Tensor, reduction: str) -> torch.Tensor:
    if reduction == "none":
        return F.kl_div(q.log(), p, reduction="none").sum(dim=1)
    return F.kl_div(q.log(), p, reduction="batchmean" if reduction == "mean" else "sum")


@dataclass
class Case:
    name: str
    loss: Callable[..., Any]
    grad: Callable[..., Any]
    make_data: Callable[[np.random.Generator, tuple[int, ...]], tuple[np.ndarray, np.ndarray]]
    torch_loss: Callable[[torch.Tensor, torch.Tensor, str], torch.Tensor]
    shapes: tuple[tuple[int, ...], ...]
    params: dict[str, Any] = field(default_factory=dict)
    labels: bool = False  # y_true holds integer labels (not differentiable, passed to torch as int64)
    keras_loss: Callable[..., Any] | None = None  # keras.losses class, called with reduction=... and params
    per_sample: bool = False  # "none" returns one loss per sample (else one per element)


ELEMENTWISE_SHAPES = ((7,), (4, 5), (2, 3, 4))
CLASS_SHAPES = ((1, 2), (6, 3), (16, 10))


def _regression_data(rng, shape):
    return rng.standard_normal(shape), 2.0 * rng.standard_normal(shape)


def _probability_data(rng, shape):
    targets = np.where(rng.random(shape) < 0.5, rng.integers(0, 2, shape), rng.random(shape))
    return targets, rng.uniform(0.02, 0.98, shape)


def _logit_data(rng, shape):
    return rng.random(shape), 4.0 * rng.standard_normal(shape)


def _signed_label_data(rng, shape):
    return rng.choice([-1.0, 1.0], shape), 1.5 * rng.standard_normal(shape)


def _binary_label_data(rng, shape):
    return rng.choice([0.0, 1.0], shape), 1.5 * rng.standard_normal(shape)


def _class_label_data(rng, shape):
    return rng.integers(0, shape[1], shape[0]), 3.0 * rng.standard_normal(shape)


def _class_score_data(rng, shape):
    # Small scores, so that most samples have classes within the margin; the first sample surely has.
    scores = 0.5 * rng.standard_normal(shape)
    scores[0] = np.linspace(0.0, 0.1, shape[1])
    return rng.integers(0, shape[1], shape[0]), scores


def _class_probability_data(rng, shape):
    return softmax(2.0 * rng.standard_normal(shape)), 3.0 * rng.standard_normal(shape)


def _distribution_data(rng, shape):
    return softmax(2.0 * rng.standard_normal(shape)), softmax(rng.standard_normal(shape))


def _distribution_data_with_zeros(rng, shape):
    p, q = _distribution_data(rng, shape)
    p[rng.random(shape) < 0.3] = 0.0
    return p, q


CASES = [
    Case(
        "mse", losses.mse, losses.mse_grad, _regression_data,
        lambda t, p, r: F.mse_loss(p, t, reduction=r), ELEMENTWISE_SHAPES,
        keras_loss=keras.losses.MeanSquaredError,
    ),
    Case(
        "mae", losses.mae, losses.mae_grad, _regression_data,
        lambda t, p, r: F.l1_loss(p, t, reduction=r), ELEMENTWISE_SHAPES,
        keras_loss=keras.losses.MeanAbsoluteError,
    ),
    Case(
        "huber", losses.huber, losses.huber_grad, _regression_data,
        lambda t, p, r: F.huber_loss(p, t, reduction=r, delta=1.0), ELEMENTWISE_SHAPES,
        keras_loss=keras.losses.Huber,
    ),
    Case(
        "huber-delta-0.3", losses.huber, losses.huber_grad, _regression_data,
        lambda t, p, r: F.huber_loss(p, t, reduction=r, delta=0.3), ELEMENTWISE_SHAPES,
        params={"delta": 0.3}, keras_loss=keras.losses.Huber,
    ),
    Case(
        "huber-delta-2.5", losses.huber, losses.huber_grad, _regression_data,
        lambda t, p, r: F.huber_loss(p, t, reduction=r, delta=2.5), ELEMENTWISE_SHAPES,
        params={"delta": 2.5}, keras_loss=keras.losses.Huber,
    ),
    Case(
        "binary_cross_entropy", losses.binary_cross_entropy, losses.binary_cross_entropy_grad,
        _probability_data, lambda t, p, r: F.binary_cross_entropy(p, t, reduction=r), ELEMENTWISE_SHAPES,
        keras_loss=keras.losses.BinaryCrossentropy,
    ),
    Case(
        "binary_cross_entropy_with_logits", losses.binary_cross_entropy_with_logits,
        losses.binary_cross_entropy_with_logits_grad, _logit_data,
        lambda t, x, r: F.binary_cross_entropy_with_logits(x, t, reduction=r), ELEMENTWISE_SHAPES,
        keras_loss=lambda **kw: keras.losses.BinaryCrossentropy(from_logits=True, **kw),
    ),
    Case(
        "hinge", losses.hinge, losses.hinge_grad, _signed_label_data,
        lambda y, s, r: _reduce_torch(torch.relu(1 - y * s), r), ELEMENTWISE_SHAPES,
        keras_loss=keras.losses.Hinge,
    ),
    Case(
        "hinge-0-1-labels", losses.hinge, losses.hinge_grad, _binary_label_data,
        lambda y, s, r: _reduce_torch(torch.relu(1 - (2 * y - 1) * s), r), ELEMENTWISE_SHAPES,
        keras_loss=keras.losses.Hinge,
    ),
    Case(
        "cross_entropy-labels", losses.cross_entropy, losses.cross_entropy_grad, _class_label_data,
        lambda y, x, r: F.cross_entropy(x, y, reduction=r), CLASS_SHAPES, labels=True, per_sample=True,
        keras_loss=lambda **kw: keras.losses.SparseCategoricalCrossentropy(from_logits=True, **kw),
    ),
    Case(
        "cross_entropy-labels-smoothing", losses.cross_entropy, losses.cross_entropy_grad, _class_label_data,
        lambda y, x, r: F.cross_entropy(x, y, reduction=r, label_smoothing=0.15), CLASS_SHAPES,
        params={"label_smoothing": 0.15}, labels=True, per_sample=True,
    ),
    Case(
        "cross_entropy-probabilities", losses.cross_entropy, losses.cross_entropy_grad,
        _class_probability_data, lambda t, x, r: F.cross_entropy(x, t, reduction=r), CLASS_SHAPES,
        per_sample=True,
        keras_loss=lambda **kw: keras.losses.CategoricalCrossentropy(from_logits=True, **kw),
    ),
    Case(
        "cross_entropy-probabilities-smoothing", losses.cross_entropy, losses.cross_entropy_grad,
        _class_probability_data, lambda t, x, r: F.cross_entropy(x, t, reduction=r, label_smoothing=0.3),
        CLASS_SHAPES, params={"label_smoothing": 0.3}, per_sample=True,
        keras_loss=lambda **kw: keras.losses.CategoricalCrossentropy(
            from_logits=True, label_smoothing=0.3, **kw
        ),
    ),
    Case(
        "multiclass_hinge", losses.multiclass_hinge, losses.multiclass_hinge_grad, _class_score_data,
        lambda y, s, r: F.multi_margin_loss(s, y, p=1, margin=1.0, reduction=r), CLASS_SHAPES,
        labels=True, per_sample=True,
    ),
    Case(
        "multiclass_hinge-margin-2", losses.multiclass_hinge, losses.multiclass_hinge_grad,
        _class_label_data, lambda y, s, r: F.multi_margin_loss(s, y, p=1, margin=2.0, reduction=r),
        CLASS_SHAPES, params={"margin": 2.0}, labels=True, per_sample=True,
    ),
    Case(
        "kl_divergence", losses.kl_divergence, losses.kl_divergence_grad, _distribution_data, _torch_kl,
        CLASS_SHAPES, per_sample=True, keras_loss=keras.losses.KLDivergence,
    ),
    Case(
        "kl_divergence-zero-targets", losses.kl_divergence, losses.kl_divergence_grad,
        _distribution_data_with_zeros, _torch_kl, CLASS_SHAPES, per_sample=True,
    ),
]
CASE_BY_NAME = {case.name: case for case in CASES}


def _case_seed(case: Case, shape: tuple[int, ...]) -> int:
    return sum(map(ord, case.name)) * 1000 + sum(shape)


def _torch_value_and_gradient(case: Case, y_true: np.ndarray, y_pred: np.ndarray, reduction: str):
    true_tensor = torch.from_numpy(y_true)  # int64 labels stay int64, as torch requires
    pred_tensor = torch.from_numpy(y_pred).requires_grad_(True)
    value = case.torch_loss(true_tensor, pred_tensor, reduction)
    (gradient,) = torch.autograd.grad(value.sum(), pred_tensor)
    return value.detach().numpy(), gradient.numpy()


# ------------------------------------------------------------------------------------------------------------
# torch, float64
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("case", CASES, ids=lambda case: case.name)
def test_value_and_gradient_equal_torch_float64(case: Case, reduction: str) -> None:
    for shape in case.shapes:
        y_true, y_pred = case.make_data(np.random.default_rng(_case_seed(case, shape)), shape)
        expected_value, expected_gradient = _torch_value_and_gradient(case, y_true, y_pred, reduction)
        value = case.loss(y_true, y_pred, reduction=reduction, **case.params)
        gradient = case.grad(y_true, y_pred, reduction=reduction, **case.params)
        assert np.shape(value) == expected_value.shape and np.asarray(value).dtype == np.float64
        assert gradient.shape == y_pred.shape and gradient.dtype == np.float64
        assert relative_error(value, expected_value) <= TORCH_TOLERANCE, (shape, value, expected_value)
        assert relative_error(gradient, expected_gradient) <= TORCH_TOLERANCE, shape


def test_lists_and_integer_inputs_equal_torch() -> None:
    value = losses.mse([[1, 2], [3, 4]], [[1.5, 2.0], [2.0, 8.0]])
    expected = F.mse_loss(torch.tensor([[1.5, 2.0], [2.0, 8.0]], dtype=torch.float64),
                          torch.tensor([[1, 2], [3, 4]], dtype=torch.float64))
    assert isinstance(value, np.float64) and relative_error(value, expected.item()) <= TORCH_TOLERANCE
    labels = [2, 0]
    logits = [[1.0, 2.0, 3.0], [0.5, -1.0, 0.0]]
    expected = F.cross_entropy(torch.tensor(logits, dtype=torch.float64), torch.tensor(labels))
    assert relative_error(losses.cross_entropy(labels, logits), expected.item()) <= TORCH_TOLERANCE


# ------------------------------------------------------------------------------------------------------------
# Keras 3 (TensorFlow backend), float32
# ------------------------------------------------------------------------------------------------------------

KERAS_CASES = [case for case in CASES if case.keras_loss is not None]
KERAS_SHAPES = {False: ((4, 5), (2, 3, 4)), True: ((6, 3), (16, 10))}


def _keras_loss(case: Case, reduction: str | None):
    keyword = {key: value for key, value in case.params.items() if key == "delta"}
    return case.keras_loss(reduction=reduction, **keyword)


@pytest.mark.parametrize("case", KERAS_CASES, ids=lambda case: case.name)
def test_value_and_gradient_equal_keras_float32(case: Case) -> None:
    for shape in KERAS_SHAPES[case.per_sample]:
        y_true, y_pred = case.make_data(np.random.default_rng(_case_seed(case, shape) + 1), shape)
        y_pred = y_pred.astype(np.float32)
        if not case.labels:
            y_true = y_true.astype(np.float32)

        # "mean" is Keras's default reduction, "sum_over_batch_size": the mean over the batch of the
        # per-sample means (elementwise losses are averaged over the last axis), the same as the mean over all
        # elements.
        value = case.loss(y_true, y_pred, **case.params)
        assert isinstance(value, np.float32)
        keras_value = _keras_loss(case, "sum_over_batch_size")(y_true, y_pred)
        assert relative_error(value, keras_value) <= KERAS_TOLERANCE

        unreduced = case.loss(y_true, y_pred, reduction="none", **case.params)
        assert unreduced.dtype == np.float32
        per_sample = unreduced if case.per_sample else unreduced.mean(axis=-1)
        assert relative_error(per_sample, _keras_loss(case, None)(y_true, y_pred)) <= KERAS_TOLERANCE

        prediction = tf.constant(y_pred)
        with tf.GradientTape() as tape:
            tape.watch(prediction)
            keras_value = _keras_loss(case, "sum_over_batch_size")(y_true, prediction)
        gradient = case.grad(y_true, y_pred, **case.params)
        assert gradient.dtype == np.float32
        assert relative_error(gradient, tape.gradient(keras_value, prediction).numpy()) <= KERAS_TOLERANCE


# ------------------------------------------------------------------------------------------------------------
# The documented differences between the frameworks
# ------------------------------------------------------------------------------------------------------------


def test_keras_clips_bce_probabilities_where_torch_clamps_the_logarithm() -> None:
    y_true = np.array([1.0, 0.0, 1.0, 0.0], dtype=np.float32)
    y_pred = np.array([0.0, 1.0, 1.0, 0.0], dtype=np.float32)  # two certain mistakes, two certain hits
    expected_torch = F.binary_cross_entropy(
        torch.from_numpy(y_pred), torch.from_numpy(y_true), reduction="none"
    )
    companion = losses.binary_cross_entropy(y_true, y_pred, reduction="none")
    np.testing.assert_array_equal(companion, expected_torch.numpy())
    np.testing.assert_array_equal(companion, [100.0, 100.0, 0.0, 0.0])

    keras_values = keras.losses.binary_crossentropy(y_true[:, None], y_pred[:, None]).numpy()
    epsilon = np.float32(1e-7)
    clipped = np.clip(y_pred, epsilon, 1 - epsilon)
    expected_keras = -(y_true * np.log(clipped) + (1 - y_true) * np.log(1 - clipped))
    np.testing.assert_allclose(keras_values, expected_keras, rtol=1e-5)
    assert np.all(np.abs(companion[:2] - keras_values[:2]) > 80)  # 100 against about 16
    assert np.all(keras_values[2:] > 0) and np.all(companion[2:] == 0)


def test_kl_divergence_argument_order() -> None:
    rng = np.random.default_rng(1)
    p, q = _distribution_data(rng, (5, 4))
    companion = losses.kl_divergence(p, q)
    # torch takes the log of the prediction first and the target second.
    torch_value = F.kl_div(torch.from_numpy(q).log(), torch.from_numpy(p), reduction="batchmean").item()
    assert relative_error(companion, torch_value) <= TORCH_TOLERANCE
    # The natural-looking call with the arguments in the companion's order computes KL(q || p), another
    # number.
    swapped = F.kl_div(torch.from_numpy(p).log(), torch.from_numpy(q), reduction="batchmean").item()
    assert relative_error(losses.kl_divergence(q, p), swapped) <= TORCH_TOLERANCE
    assert abs(swapped - companion) > 0.05 * companion
    # Keras takes (p, q), like the companion.
    keras_value = keras.losses.KLDivergence()(p.astype(np.float32), q.astype(np.float32))
    assert relative_error(companion, keras_value) <= KERAS_TOLERANCE


def test_kl_divergence_zero_target_and_zero_prediction_is_zero_where_torch_gives_nan() -> None:
    p = np.array([[0.0, 0.5, 0.5]])
    q = np.array([[0.0, 0.25, 0.75]])
    expected = 0.5 * np.log(0.5 / 0.25) + 0.5 * np.log(0.5 / 0.75)
    assert relative_error(losses.kl_divergence(p, q), expected) <= 1e-15
    np.testing.assert_array_equal(losses.kl_divergence_grad(p, q), [[0.0, -2.0, -0.5 / 0.75]])
    q_tensor = torch.from_numpy(q).requires_grad_(True)
    torch_value = F.kl_div(q_tensor.log(), torch.from_numpy(p), reduction="batchmean")
    assert torch.isnan(torch_value)


def test_multiclass_hinge_is_torch_multi_margin_not_keras_categorical_hinge() -> None:
    rng = np.random.default_rng(2)
    labels = rng.integers(0, 4, 12)
    scores = rng.standard_normal((12, 4)).astype(np.float32)
    one_hot = np.eye(4, dtype=np.float32)[labels]
    keras_values = keras.losses.CategoricalHinge(reduction=None)(one_hot, scores).numpy()
    companion = losses.multiclass_hinge(labels, scores, reduction="none")
    torch_values = F.multi_margin_loss(torch.from_numpy(scores), torch.from_numpy(labels), reduction="none")
    np.testing.assert_allclose(companion, torch_values.numpy(), rtol=1e-6)

    # Keras: one term, for the strongest wrong class, whose maximum also sees the 0 left at the true class.
    true_scores = scores[np.arange(12), labels]
    strongest_wrong = np.where(one_hot == 1, -np.inf, scores).max(axis=1)
    expected_keras = np.maximum(0, 1 + np.maximum(0, strongest_wrong) - true_scores)
    np.testing.assert_allclose(keras_values, expected_keras, rtol=1e-6)
    assert np.max(np.abs(keras_values - companion)) > 0.5

    # Two classes and positive scores: Keras's value is C = 2 times torch's (the companion's).
    two_class_scores = rng.uniform(0.1, 3.0, (10, 2)).astype(np.float32)
    two_class_labels = rng.integers(0, 2, 10)
    keras_two = keras.losses.CategoricalHinge(reduction=None)(np.eye(2, dtype=np.float32)[two_class_labels],
                                                              two_class_scores).numpy()
    companion_two = losses.multiclass_hinge(two_class_labels, two_class_scores, reduction="none")
    assert np.any(companion_two > 0)
    np.testing.assert_allclose(keras_two, 2 * companion_two, rtol=1e-6)


def test_hinge_gradient_at_the_kink_is_zero_where_tensorflow_takes_minus_y() -> None:
    y_true = np.array([[1.0, -1.0, 1.0]], dtype=np.float32)
    scores = np.array([[1.0, -1.0, 0.5]], dtype=np.float32)  # the first two exactly on the margin
    np.testing.assert_array_equal(losses.hinge_grad(y_true, scores, reduction="sum"), [[0.0, 0.0, -1.0]])
    prediction = tf.constant(scores)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = tf.reduce_sum(keras.losses.Hinge(reduction=None)(y_true, prediction)) * 3  # undo the row mean
    np.testing.assert_allclose(tape.gradient(value, prediction).numpy(), [[-1.0, 1.0, -1.0]], rtol=1e-6)


# ------------------------------------------------------------------------------------------------------------
# Numerically hard inputs
# ------------------------------------------------------------------------------------------------------------

HUGE_LOGITS = [1e4, -1e4, 1e30, -1e30, 1e300, -1e300]


def test_binary_cross_entropy_with_logits_is_finite_for_huge_logits_float64() -> None:
    logits = np.repeat(HUGE_LOGITS, 3)
    targets = np.tile([0.0, 1.0, 0.3], len(HUGE_LOGITS))
    for reduction in REDUCTIONS:
        value = losses.binary_cross_entropy_with_logits(targets, logits, reduction=reduction)
        gradient = losses.binary_cross_entropy_with_logits_grad(targets, logits, reduction=reduction)
        expected_value, expected_gradient = _torch_value_and_gradient(
            CASE_BY_NAME["binary_cross_entropy_with_logits"], targets, logits, reduction
        )
        assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))
        assert relative_error(value, expected_value) <= TORCH_TOLERANCE
        assert relative_error(gradient, expected_gradient) <= TORCH_TOLERANCE
    # Closed forms: (1 - y) x for x >> 0, -y x for x << 0, gradient 1 - y or -y.
    expected = np.where(logits > 0, (1 - targets) * logits, -targets * logits)
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits(targets, logits, reduction="none"),
                               expected, rtol=1e-15)
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits_grad(targets, logits, reduction="sum"),
                               np.where(logits > 0, 1.0, 0.0) - targets, rtol=1e-15)


def test_binary_cross_entropy_with_logits_does_not_cancel_for_huge_logits() -> None:
    # With y = 1 - 2**-40 the loss of x = 1e4 is (1 - y) x = 2**-40 * 1e4, about 9.1e-9. The textbook form
    # max(x, 0) - y x subtracts two numbers near 1e4 and keeps only about four digits of it.
    y_true = np.array([1 - 2.0**-40, 2.0**-40])
    logits = np.array([1e4, -1e4])
    expected = np.array([2.0**-40 * 1e4, 2.0**-40 * 1e4])
    values = losses.binary_cross_entropy_with_logits(y_true, logits, reduction="none")
    assert relative_error(values, expected) <= 1e-15


def test_binary_cross_entropy_with_logits_float32_extremes() -> None:
    largest = np.finfo(np.float32).max
    logits = np.array([largest, -largest, largest, -largest, 1e4, -1e4], dtype=np.float32)
    targets = np.array([1, 0, 0, 1, 0, 1], dtype=np.float32)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = losses.binary_cross_entropy_with_logits(targets, logits, reduction="none")
        mean = losses.binary_cross_entropy_with_logits(targets, logits)
        gradient = losses.binary_cross_entropy_with_logits_grad(targets, logits, reduction="sum")
    assert values.dtype == np.float32 and gradient.dtype == np.float32
    np.testing.assert_array_equal(values, [0, 0, largest, largest, 1e4, 1e4])
    # The float32 sum overflows, the mean does not: it is (2 * largest + 2e4) / 6.
    assert np.isfinite(mean) and abs(float(mean) - (2 * float(largest) + 2e4) / 6) <= 1e-6 * float(largest)
    np.testing.assert_array_equal(gradient, [0, 0, 1, -1, 1, -1])


def test_cross_entropy_is_finite_for_huge_logits_float64() -> None:
    rows = []
    for magnitude in HUGE_LOGITS[::2]:
        rows += [[magnitude, 0.0, -magnitude], [-magnitude, magnitude, 0.5]]
        rows += [[magnitude, magnitude, -magnitude]]
    logits = np.array(rows)
    labels = np.tile([0, 2, 1], len(rows) // 3 + 1)[: len(rows)]
    probabilities = softmax(np.random.default_rng(3).standard_normal(logits.shape))
    for targets, kwargs in [(labels, {}), (labels, {"label_smoothing": 0.2}), (probabilities, {})]:
        for reduction in REDUCTIONS:
            value = losses.cross_entropy(targets, logits, reduction=reduction, **kwargs)
            gradient = losses.cross_entropy_grad(targets, logits, reduction=reduction, **kwargs)
            leaf = torch.from_numpy(logits).requires_grad_(True)
            expected = F.cross_entropy(leaf, torch.from_numpy(targets), reduction=reduction, **kwargs)
            (expected_gradient,) = torch.autograd.grad(expected.sum(), leaf)
            assert np.all(np.isfinite(value)) and np.all(np.isfinite(gradient))
            assert relative_error(value, expected.detach().numpy()) <= TORCH_TOLERANCE
            assert relative_error(gradient, expected_gradient.numpy()) <= TORCH_TOLERANCE


def test_cross_entropy_float32_extremes() -> None:
    largest = np.finfo(np.float32).max
    logits = np.array(
        [[largest, 0, -largest], [largest, 0, -largest], [1e4, -1e4, 0], [-largest, -largest, 0]],
        dtype=np.float32,
    )
    labels = np.array([0, 1, 1, 2])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        values = losses.cross_entropy(labels, logits, reduction="none")
        mean = losses.cross_entropy(labels, logits)
        gradient = losses.cross_entropy_grad(labels, logits, reduction="sum")
        # The true loss of label 2 in the first row, 2 * largest, is beyond float32: +inf, not NaN.
        beyond = losses.cross_entropy([2], logits[:1], reduction="none")
    assert values.dtype == np.float32 and gradient.dtype == np.float32
    np.testing.assert_array_equal(values, [0, largest, 2e4, 0])
    assert abs(float(mean) - (float(largest) + 2e4) / 4) <= 1e-6 * float(largest)
    np.testing.assert_array_equal(gradient, [[0, 0, 0], [1, -1, 0], [1, -1, 0], [0, 0, 0]])
    assert np.isposinf(beyond[0])


def test_binary_cross_entropy_at_probabilities_zero_and_one_equals_torch() -> None:
    y_pred = np.array([0.0, 0.0, 1.0, 1.0, 0.0, 1.0, 0.5, 1e-300])
    y_true = np.array([0.0, 1.0, 0.0, 1.0, 0.3, 0.7, 1.0, 1.0])
    for dtype, tolerance in [(np.float64, TORCH_TOLERANCE), (np.float32, 1e-6)]:
        for reduction in REDUCTIONS:
            true_tensor = torch.from_numpy(y_true.astype(dtype))
            leaf = torch.from_numpy(y_pred.astype(dtype)).requires_grad_(True)
            expected = F.binary_cross_entropy(leaf, true_tensor, reduction=reduction)
            (expected_gradient,) = torch.autograd.grad(expected.sum(), leaf)
            true_array, pred_array = y_true.astype(dtype), y_pred.astype(dtype)
            value = losses.binary_cross_entropy(true_array, pred_array, reduction=reduction)
            gradient = losses.binary_cross_entropy_grad(true_array, pred_array, reduction=reduction)
            assert relative_error(value, expected.detach().numpy()) <= tolerance
            assert relative_error(gradient, expected_gradient.numpy()) <= tolerance
    # torch's floor is float32's 1e-12 even in float64: the gradient at p = 0, y = 1 is -1 / 9.99999996e-13.
    gradient = losses.binary_cross_entropy_grad([1.0], [0.0], reduction="sum")
    assert gradient[0] == -1 / float(np.float32(1e-12)) and gradient[0] != -1e12
    assert losses.binary_cross_entropy([1.0, 0.0], [0.0, 1.0], reduction="sum") == 200.0


def test_kl_divergence_prediction_zero_where_target_positive_is_inf_not_nan() -> None:
    p = np.array([[0.5, 0.5, 0.0], [0.2, 0.3, 0.5]])
    q = np.array([[0.6, 0.0, 0.4], [0.2, 0.3, 0.5]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        per_row = losses.kl_divergence(p, q, reduction="none")
        mean = losses.kl_divergence(p, q)
        gradient = losses.kl_divergence_grad(p, q, reduction="sum")
    assert np.isposinf(per_row[0]) and per_row[1] == 0.0 and np.isposinf(mean)
    np.testing.assert_array_equal(gradient, [[-0.5 / 0.6, -np.inf, 0.0], [-1.0, -1.0, -1.0]])
    # torch agrees on the value and the gradient; Keras clips q at 1e-7 and reports a large finite number.
    leaf = torch.from_numpy(q).requires_grad_(True)
    torch_value = F.kl_div(leaf.log(), torch.from_numpy(p), reduction="none").sum(dim=1)
    (torch_gradient,) = torch.autograd.grad(torch_value.sum(), leaf)
    assert torch.isinf(torch_value[0]) and torch_value[1].item() == 0.0
    np.testing.assert_array_equal(torch_gradient.numpy(), gradient)
    keras_row = keras.losses.KLDivergence(reduction=None)(p.astype(np.float32), q.astype(np.float32)).numpy()
    clipped_p, clipped_q = np.clip(p, 1e-7, 1), np.clip(q, 1e-7, 1)
    expected_keras = np.sum(clipped_p * np.log(clipped_p / clipped_q), axis=1)
    assert np.isfinite(keras_row[0]) and relative_error(keras_row, expected_keras) <= KERAS_TOLERANCE


def test_float32_results_have_float32_accuracy() -> None:
    rng = np.random.default_rng(4)
    for case in CASES:
        shape = case.shapes[-1]
        y_true, y_pred = case.make_data(rng, shape)
        true32 = y_true if case.labels else y_true.astype(np.float32)
        pred32 = y_pred.astype(np.float32)
        # The float64 reference is computed from the float32-rounded inputs.
        true64 = y_true if case.labels else true32.astype(np.float64)
        for reduction in REDUCTIONS:
            value32 = case.loss(true32, pred32, reduction=reduction, **case.params)
            gradient32 = case.grad(true32, pred32, reduction=reduction, **case.params)
            assert np.asarray(value32).dtype == np.float32 and gradient32.dtype == np.float32, case.name
            value64 = case.loss(true64, pred32.astype(np.float64), reduction=reduction, **case.params)
            gradient64 = case.grad(true64, pred32.astype(np.float64), reduction=reduction, **case.params)
            assert relative_error(value32, value64) <= 1e-5, case.name
            assert relative_error(gradient32, gradient64) <= 1e-5, case.name
