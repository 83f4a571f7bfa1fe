"""The KL divergence from logits and Hinton's distillation loss against the frameworks and the maths.

torch in float64 (values and autograd gradients, relative error <= 1e-9, every reduction); Keras 3's
``KLDivergence`` on softmax outputs in float32 (values and ``tf.GradientTape`` gradients, relative error
<= 2e-5); central differences; logits of +-1e4; dtypes; the identity KL(p || softmax(z)) = CE(p, z) - H(p);
the high-temperature limit of distillation; and every ``ValueError``.

Relative error is measured over the whole result: max |actual - expected| / max |expected|.
"""

from __future__ import annotations

import os
from functools import partial
from typing import Any

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

import keras  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402
from helpers import relative_error, softmax  # noqa: E402

from lossopt_companion import losses, models  # noqa: E402

REDUCTIONS = ("mean", "sum", "none")
TORCH_TOLERANCE = 1e-9
KERAS_TOLERANCE = 2e-5
SHAPES = ((1, 2), (6, 3), (16, 10))
TEMPERATURES = (0.5, 1.0, 2.0, 7.5)


def targets_and_logits(rng: np.random.Generator, shape: tuple[int, int], zeros: bool = False):
    """Target probabilities (rows summing to 1, some entries exactly 0 if ``zeros``) and logits."""
    p = softmax(rng.normal(size=shape) * 2)
    if zeros and shape[1] > 1:
        p[rng.random(shape) < 0.3] = 0.0
        p[:, 0] += 1e-3  # no row entirely 0
        p /= p.sum(axis=1, keepdims=True)
    return p, rng.normal(size=shape) * 3


def torch_kl_with_logits(p: torch.Tensor, z: torch.Tensor, reduction: str) -> torch.Tensor:
    log_q = F.log_softmax(z, dim=1)
    if reduction == "none":
        return F.kl_div(log_q, p, reduction="none").sum(dim=1)
    return F.kl_div(log_q, p, reduction="batchmean" if reduction == "mean" else "sum")


def torch_distillation(t: torch.Tensor, s: torch.Tensor, temperature: float, reduction: str) -> torch.Tensor:
    """The PyTorch recipe (T^2 KL between the softmaxes at temperature T), with the companion's reductions."""
    log_q, p = F.log_softmax(s / temperature, dim=1), F.softmax(t / temperature, dim=1)
    if reduction == "none":
        return F.kl_div(log_q, p, reduction="none").sum(dim=1) * temperature**2
    return F.kl_div(log_q, p, reduction="batchmean" if reduction == "mean" else "sum") * temperature**2


def torch_value_and_gradient(function, target: np.ndarray, logits: np.ndarray) -> tuple[Any, np.ndarray]:
    """torch's value and the autograd gradient of its sum (our gradient for "none") w.r.t. the logits."""
    leaf = torch.tensor(logits, dtype=torch.float64, requires_grad=True)
    value = function(torch.from_numpy(target), leaf)
    value.sum().backward()
    return value.detach().numpy(), leaf.grad.numpy()


# ------------------------------------------------------------------------------------------------------------
# Against torch, float64
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("zeros", [False, True], ids=["dense", "zero-targets"])
def test_kl_divergence_with_logits_equals_torch(reduction: str, zeros: bool) -> None:
    for shape in SHAPES:
        p, z = targets_and_logits(np.random.default_rng(shape[0] * 100 + shape[1]), shape, zeros)
        torch_kl = partial(torch_kl_with_logits, reduction=reduction)
        torch_value, torch_gradient = torch_value_and_gradient(torch_kl, p, z)
        assert np.all(np.isfinite(torch_value))  # with finite log-probabilities torch counts 0 log 0 as 0 too
        value = losses.kl_divergence_with_logits(p, z, reduction=reduction)
        gradient = losses.kl_divergence_with_logits_grad(p, z, reduction=reduction)
        assert np.shape(value) == ((shape[0],) if reduction == "none" else ())
        assert relative_error(value, torch_value) <= TORCH_TOLERANCE
        assert gradient.shape == z.shape
        assert relative_error(gradient, torch_gradient) <= TORCH_TOLERANCE


@pytest.mark.parametrize("reduction", REDUCTIONS)
@pytest.mark.parametrize("temperature", TEMPERATURES)
def test_distillation_equals_the_torch_recipe(reduction: str, temperature: float) -> None:
    for shape in SHAPES:
        rng = np.random.default_rng(shape[0] * 100 + shape[1] + 7)
        teacher, student = rng.normal(size=shape) * 3, rng.normal(size=shape) * 3
        torch_value, torch_gradient = torch_value_and_gradient(
            lambda t, s: torch_distillation(t, s, temperature, reduction), teacher, student
        )
        value = losses.distillation(teacher, student, temperature=temperature, reduction=reduction)
        gradient = losses.distillation_grad(teacher, student, temperature=temperature, reduction=reduction)
        assert relative_error(value, torch_value) <= TORCH_TOLERANCE
        assert relative_error(gradient, torch_gradient) <= TORCH_TOLERANCE


def test_distillation_gradient_is_temperature_times_the_softmax_difference(rng: np.random.Generator) -> None:
    teacher, student = rng.normal(size=(5, 4)), rng.normal(size=(5, 4))
    for temperature in TEMPERATURES:
        expected = temperature * (softmax(student / temperature) - softmax(teacher / temperature)) / 5
        gradient = losses.distillation_grad(teacher, student, temperature=temperature)
        np.testing.assert_allclose(gradient, expected, rtol=1e-12, atol=1e-17)


# ------------------------------------------------------------------------------------------------------------
# Against Keras, float32
# ------------------------------------------------------------------------------------------------------------


def keras_value_and_gradient(target: np.ndarray, logits: np.ndarray, reduction: str | None, scale=1.0):
    """``keras.losses.KLDivergence`` of (target, softmax(logits)) times ``scale``, and its gradient (tape)."""
    prediction = tf.constant(logits)
    with tf.GradientTape() as tape:
        tape.watch(prediction)
        value = keras.losses.KLDivergence(reduction=reduction)(target, keras.ops.softmax(prediction)) * scale
    return value.numpy(), tape.gradient(value, prediction).numpy()


def test_kl_divergence_with_logits_equals_keras_on_softmax_float32() -> None:
    for shape in SHAPES:
        p, z = targets_and_logits(np.random.default_rng(shape[1]), shape)
        p, z = p.astype(np.float32), (z / 3).astype(np.float32)  # logits of scale 1
        assert softmax(z).min() > 1e-6  # above Keras's clip at 1e-7
        for reduction, keras_reduction in [("mean", "sum_over_batch_size"), ("sum", "sum"), ("none", None)]:
            keras_value, keras_gradient = keras_value_and_gradient(p, z, keras_reduction)
            value = losses.kl_divergence_with_logits(p, z, reduction=reduction)
            assert value.dtype == np.float32
            assert relative_error(value, keras_value) <= KERAS_TOLERANCE
            # Keras's gradient for reduction=None is that of the sum of the per-sample losses, as ours.
            gradient = losses.kl_divergence_with_logits_grad(p, z, reduction=reduction)
            assert gradient.dtype == np.float32
            assert relative_error(gradient, keras_gradient) <= KERAS_TOLERANCE


@pytest.mark.parametrize("temperature", [1.0, 4.0])
def test_distillation_equals_the_keras_example_float32(temperature: float) -> None:
    """keras.io's distillation example: KLDivergence()(softmax(t / T), softmax(s / T)) * T**2."""
    rng = np.random.default_rng(3)
    teacher = rng.normal(size=(8, 5)).astype(np.float32)
    student = rng.normal(size=(8, 5)).astype(np.float32)
    p = keras.ops.softmax(teacher / temperature).numpy()
    keras_value, keras_gradient = keras_value_and_gradient(
        p, student / temperature, "sum_over_batch_size", scale=temperature**2
    )
    keras_gradient = keras_gradient / temperature  # the tape differentiated with respect to s / T
    value = losses.distillation(teacher, student, temperature=temperature)
    gradient = losses.distillation_grad(teacher, student, temperature=temperature)
    assert value.dtype == np.float32 and gradient.dtype == np.float32
    assert relative_error(value, keras_value) <= KERAS_TOLERANCE
    assert relative_error(gradient, keras_gradient) <= KERAS_TOLERANCE


# ------------------------------------------------------------------------------------------------------------
# Central differences
# ------------------------------------------------------------------------------------------------------------


def central_differences(function, logits: np.ndarray, step: float = 1e-6) -> np.ndarray:
    gradient = np.zeros_like(logits)
    for index in np.ndindex(logits.shape):
        up, down = logits.copy(), logits.copy()
        up[index] += step
        down[index] -= step
        gradient[index] = (function(up) - function(down)) / (2 * step)
    return gradient


@pytest.mark.parametrize("reduction", REDUCTIONS)
def test_gradients_match_central_differences(reduction: str, rng: np.random.Generator) -> None:
    p, z = targets_and_logits(rng, (4, 5), zeros=True)
    p[0] *= 0.7  # a row that does not sum to 1: the gradient keeps its factor sum(p)

    def summed_kl(logits):
        return np.sum(losses.kl_divergence_with_logits(p, logits, reduction=reduction))

    numeric = central_differences(summed_kl, z)
    assert relative_error(losses.kl_divergence_with_logits_grad(p, z, reduction=reduction), numeric) <= 1e-7

    teacher = rng.normal(size=(4, 5)) * 2
    for temperature in (0.5, 3.0):
        def summed_distillation(logits, temperature=temperature):
            return np.sum(losses.distillation(teacher, logits, temperature=temperature, reduction=reduction))

        numeric = central_differences(summed_distillation, z)
        analytic = losses.distillation_grad(teacher, z, temperature=temperature, reduction=reduction)
        assert relative_error(analytic, numeric) <= 1e-7


# ------------------------------------------------------------------------------------------------------------
# The maths: the identity with cross-entropy, the high-temperature limit
# ------------------------------------------------------------------------------------------------------------


def test_kl_equals_cross_entropy_minus_the_target_entropy(rng: np.random.Generator) -> None:
    p, z = targets_and_logits(rng, (32, 7), zeros=True)
    entropy = -np.sum(p * np.log(np.where(p > 0, p, 1.0)), axis=1)
    kl_rows = losses.kl_divergence_with_logits(p, z, reduction="none")
    cross_entropy_rows = losses.cross_entropy(p, z, reduction="none")
    np.testing.assert_allclose(kl_rows, cross_entropy_rows - entropy, rtol=1e-12, atol=1e-14)
    # ... so the gradients with respect to the logits are the same, and equal to that of kl_divergence
    # pushed through the softmax.
    np.testing.assert_allclose(losses.kl_divergence_with_logits_grad(p, z), losses.cross_entropy_grad(p, z),
                               rtol=1e-13, atol=1e-17)
    np.testing.assert_allclose(kl_rows, losses.kl_divergence(p, softmax(z), reduction="none"), rtol=1e-12)
    # distillation at temperature T is T^2 times the KL of the softened distributions
    teacher = rng.normal(size=(32, 7))
    np.testing.assert_allclose(
        losses.distillation(teacher, z, temperature=3.0, reduction="none"),
        9.0 * losses.kl_divergence_with_logits(softmax(teacher / 3.0), z / 3.0, reduction="none"), rtol=1e-12)


def test_kl_is_zero_at_a_perfect_fit_and_non_negative(rng: np.random.Generator) -> None:
    z = rng.normal(size=(10, 6))
    assert np.all(np.abs(losses.kl_divergence_with_logits(softmax(z), z, reduction="none")) <= 1e-15)
    np.testing.assert_allclose(losses.kl_divergence_with_logits_grad(softmax(z), z), 0, atol=1e-16)
    assert np.all(np.abs(losses.distillation(z, z + 5.0, temperature=2.0, reduction="none")) <= 1e-14)
    p, other = targets_and_logits(rng, (10, 6))
    assert np.all(losses.kl_divergence_with_logits(p, other, reduction="none") > 0)


def test_high_temperature_limit_is_matching_centred_logits(rng: np.random.Generator) -> None:
    """T^2 KL tends to ||(s - mean s) - (t - mean t)||^2 / (2C) and its gradient to that difference / C: the
    T^2 factor makes the size of the gradient independent of the temperature (Hinton et al., section 2.1)."""
    teacher, student = rng.normal(size=(3, 6)), rng.normal(size=(3, 6))
    difference = (student - student.mean(axis=1, keepdims=True)) - (
        teacher - teacher.mean(axis=1, keepdims=True))
    limit_value = np.sum(difference**2, axis=1) / (2 * 6)
    limit_gradient = difference / 6
    for temperature in (1e2, 1e3):
        value = losses.distillation(teacher, student, temperature=temperature, reduction="none")
        gradient = losses.distillation_grad(teacher, student, temperature=temperature, reduction="sum")
        assert relative_error(value, limit_value) <= 10 / temperature
        assert relative_error(gradient, limit_gradient) <= 10 / temperature
        unscaled = gradient / temperature**2  # the gradient of the KL alone falls like 1 / T^2
        assert relative_error(unscaled * temperature**2, limit_gradient) <= 10 / temperature


# ------------------------------------------------------------------------------------------------------------
# Stability and dtypes
# ------------------------------------------------------------------------------------------------------------


def test_logits_of_1e4_stay_finite_and_exact() -> None:
    p = np.array([[1.0, 0.0, 0.0], [0.25, 0.75, 0.0], [0.0, 0.0, 1.0]])
    z = np.array([[-1e4, 1e4, 0.0], [1e4, 1e4, -1e4], [1e4, -1e4, 1e4]])
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        value = losses.kl_divergence_with_logits(p, z, reduction="none")
        gradient = losses.kl_divergence_with_logits_grad(p, z, reduction="sum")
        distill = losses.distillation(z, -z, temperature=1.0, reduction="none")
        distill_gradient = losses.distillation_grad(z, -z, temperature=2.0, reduction="sum")
    # Row 0: -log softmax(z)_0 = 2e4. Row 1: KL(p || (1/2, 1/2, 0)). Row 2: KL(e_3 || (1/2, 0, 1/2)) = log 2.
    expected = [2e4, 0.25 * np.log(0.5) + 0.75 * np.log(1.5), np.log(2.0)]
    np.testing.assert_allclose(value, expected, rtol=1e-15)
    np.testing.assert_allclose(gradient, softmax(z) - p, atol=1e-16)
    torch_value = torch_kl_with_logits(torch.from_numpy(p), torch.from_numpy(z), "none").numpy()
    np.testing.assert_allclose(value, torch_value, rtol=1e-12)
    assert np.all(np.isfinite(distill)) and np.all(np.isfinite(distill_gradient))
    torch_distill = torch_distillation(torch.from_numpy(z), torch.from_numpy(-z), 1.0, "none").numpy()
    np.testing.assert_allclose(distill, torch_distill, rtol=1e-12)


def test_float32_stays_float32_and_mixed_becomes_float64(rng: np.random.Generator) -> None:
    p, z = targets_and_logits(rng, (4, 3))
    p32, z32 = p.astype(np.float32), z.astype(np.float32)
    for reduction in REDUCTIONS:
        assert np.asarray(losses.kl_divergence_with_logits(p32, z32, reduction=reduction)).dtype == np.float32
        assert losses.kl_divergence_with_logits_grad(p32, z32, reduction=reduction).dtype == np.float32
        for function in (losses.distillation, losses.distillation_grad):
            value = function(z32, z32[::-1], temperature=3.0, reduction=reduction)
            assert np.asarray(value).dtype == np.float32
    assert losses.kl_divergence_with_logits(p, z32).dtype == np.float64
    assert losses.distillation_grad(z, z32).dtype == np.float64
    assert losses.kl_divergence_with_logits([[1, 0]], [[0, 1]]).dtype == np.float64  # integers become float64


def test_float32_logits_near_the_largest_float32_stay_finite() -> None:
    z = np.array([[3e38, -3e38], [-3e38, 3e38]], dtype=np.float32)
    p = np.array([[1.0, 0.0], [0.5, 0.5]], dtype=np.float32)
    with np.errstate(over="raise", divide="raise", invalid="raise"):  # underflow to 0 is fine
        value = losses.kl_divergence_with_logits(p, z, reduction="none")
        gradient = losses.kl_divergence_with_logits_grad(p, z)
    assert value[0] == 0 and np.isinf(value[1])  # 0.5 * 6e38 exceeds float32: inf is the rounded value
    np.testing.assert_array_equal(gradient, [[0.0, 0.0], [-0.25, 0.25]])


# ------------------------------------------------------------------------------------------------------------
# As a loss pair for the models
# ------------------------------------------------------------------------------------------------------------


def test_a_distillation_pair_trains_a_model_like_soft_cross_entropy(rng: np.random.Generator) -> None:
    X = rng.normal(size=(40, 3))
    teacher_logits = X @ rng.normal(size=(3, 4))
    temperature = 2.0
    pair = (partial(losses.distillation, temperature=temperature),
            partial(losses.distillation_grad, temperature=temperature))
    student = models.SoftmaxRegression(3, 4, seed=0)
    value, grads = student.loss_and_grad(X, teacher_logits, pair)
    soft = softmax(teacher_logits / temperature)
    reference = models.SoftmaxRegression(3, 4, seed=0)
    # The soft cross-entropy of the tempered logits, scaled as distillation is, has the same gradient ...
    def scaled_cross_entropy(p, z, reduction="mean"):
        return temperature**2 * losses.cross_entropy(p, z / temperature, reduction=reduction)

    def scaled_cross_entropy_grad(p, z, reduction="mean"):
        return temperature * losses.cross_entropy_grad(p, z / temperature, reduction=reduction)

    scaled_pair = (scaled_cross_entropy, scaled_cross_entropy_grad)
    reference_value, reference_grads = reference.loss_and_grad(X, soft, scaled_pair)
    for a, b in zip(grads, reference_grads):
        np.testing.assert_allclose(a, b, rtol=1e-12, atol=1e-15)
    # ... and a value larger by T^2 times the teacher's mean entropy.
    entropy = -np.sum(soft * np.log(soft), axis=1).mean()
    assert abs(reference_value - value - temperature**2 * entropy) <= 1e-12


# ------------------------------------------------------------------------------------------------------------
# Bad input
# ------------------------------------------------------------------------------------------------------------

P = [[0.2, 0.8], [0.5, 0.5]]
Z = [[1.0, -1.0], [0.0, 2.0]]
KL_PAIR = [losses.kl_divergence_with_logits, losses.kl_divergence_with_logits_grad]
DISTILLATION_PAIR = [losses.distillation, losses.distillation_grad]


def test_the_valid_inputs_are_valid() -> None:
    for function in KL_PAIR:
        assert np.all(np.isfinite(function(P, Z)))
    for function in DISTILLATION_PAIR:
        assert np.all(np.isfinite(function(Z, P, temperature=2.0)))


@pytest.mark.parametrize("function", KL_PAIR, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("y_true", "y_pred", "match"),
    [
        (P, [[1.0, -1.0]], r"y_true and y_pred must have the same shape"),
        ([0.2, 0.8], [1.0, -1.0], r"y_pred must be logits of shape \(N, C\)"),
        ([[[0.2, 0.8]]], [[[1.0, -1.0]]], r"y_pred must be logits of shape \(N, C\)"),
        (np.zeros((0, 2)), np.zeros((0, 2)), r"y_pred must hold at least one value"),
        ([[1.2, -0.2], [0.5, 0.5]], Z, r"y_true must hold probabilities in \[0, 1\]"),
        ([[np.nan, 1.0], [0.5, 0.5]], Z, r"y_true must be finite"),
        (P, [[np.inf, 1.0], [0.0, 2.0]], r"y_pred must be finite"),
        (P, [[np.nan, 1.0], [0.0, 2.0]], r"y_pred must be finite"),
        (P, [["a", "b"], ["c", "d"]], r"y_pred must be an array of real numbers"),
    ],
)
def test_kl_divergence_with_logits_rejects_bad_input(function, y_true, y_pred, match) -> None:
    with pytest.raises(ValueError, match=match):
        function(y_true, y_pred)


@pytest.mark.parametrize("function", KL_PAIR + DISTILLATION_PAIR, ids=lambda f: f.__name__)
def test_unknown_reduction(function) -> None:
    expected = r"reduction must be one of \('mean', 'sum', 'none'\), got 'batchmean'"
    with pytest.raises(ValueError, match=expected):
        function(P, Z, reduction="batchmean")


@pytest.mark.parametrize("function", DISTILLATION_PAIR, ids=lambda f: f.__name__)
@pytest.mark.parametrize(
    ("teacher", "student", "temperature", "match"),
    [
        (Z, [[1.0, -1.0]], 1.0, r"teacher_logits and student_logits must have the same shape"),
        ([1.0, 2.0], [1.0, 2.0], 1.0, r"student_logits must be logits of shape \(N, C\)"),
        ([[np.nan, 1.0], [0.0, 2.0]], Z, 1.0, r"teacher_logits must be finite"),
        (Z, [[-np.inf, 1.0], [0.0, 2.0]], 1.0, r"student_logits must be finite"),
        ([["a", "b"], ["c", "d"]], Z, 1.0, r"teacher_logits must be an array of real numbers"),
        (Z, Z, 0.0, r"temperature must be a finite positive number, got 0.0"),
        (Z, Z, -2.0, r"temperature must be a finite positive number"),
        (Z, Z, np.inf, r"temperature must be a finite positive number"),
        (Z, Z, np.nan, r"temperature must be a finite positive number"),
        (Z, Z, "hot", r"temperature must be a real number"),
    ],
)
def test_distillation_rejects_bad_input(function, teacher, student, temperature, match) -> None:
    with pytest.raises(ValueError, match=match):
        function(teacher, student, temperature=temperature)
