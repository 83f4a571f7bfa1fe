"""Properties of the losses (hypothesis), gradients against central differences, dtypes, the blocked and
threaded
paths (same result bit for bit whatever the number of threads), the docstring examples and the import rule."""

from __future__ import annotations

import doctest
import importlib
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import numpy as np
import pytest
from hypothesis import assume, given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from lossopt_companion import losses
from lossopt_companion.losses import _parallel

FINITE = st.floats(-1e3, 1e3, allow_nan=False, allow_infinity=False)
PROBABILITY = st.floats(0.0, 1.0, allow_nan=False)
SHAPES = array_shapes(min_dims=1, max_dims=3, min_side=1, max_side=6)


def _relative_error(actual: Any, expected: Any) -> float:
    actual_array, expected_array = np.asarray(actual, float), np.asarray(expected, float)
    assert actual_array.shape == expected_array.shape
    scale = max(np.max(np.abs(expected_array)), 1e-300)
    return float(np.max(np.abs(actual_array - expected_array)) / scale)


def _softmax(x: np.ndarray) -> np.ndarray:
    shifted = np.exp(x - x.max(axis=-1, keepdims=True))
    return shifted / shifted.sum(axis=-1, keepdims=True)


def _entropy(p: np.ndarray) -> np.ndarray:
    return -np.sum(np.where(p > 0, p * np.log(np.where(p > 0, p, 1.0)), 0.0), axis=-1)


@st.composite
def pairs(draw: Any, elements: Any = FINITE, true_elements: Any = None) -> tuple[np.ndarray, np.ndarray]:
    shape = draw(SHAPES)
    y_true = draw(arrays(np.float64, shape, elements=elements if true_elements is None else true_elements))
    return y_true, draw(arrays(np.float64, shape, elements=elements))


@st.composite
def class_problems(draw: Any) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(labels (N,), probabilities (N, C) normalised per row, logits (N, C))."""
    n_samples, n_classes = draw(st.integers(1, 6)), draw(st.integers(2, 6))
    labels = draw(arrays(np.int64, n_samples, elements=st.integers(0, n_classes - 1)))
    weights = draw(arrays(np.float64, (n_samples, n_classes), elements=st.floats(0.0, 1.0)))
    weights[:, 0] += 1e-3  # no all-zero row
    logits = draw(arrays(np.float64, (n_samples, n_classes), elements=st.floats(-50, 50)))
    return labels, weights / weights.sum(axis=1, keepdims=True), logits


ELEMENTWISE = [losses.mse, losses.mae, losses.huber]


# ------------------------------------------------------------------------------------------------------------
# Properties
# ------------------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("loss", ELEMENTWISE, ids=lambda f: f.__name__)
@given(data=pairs())
def test_regression_losses_are_non_negative_and_zero_at_the_target(loss: Callable[..., Any], data: Any):
    y_true, y_pred = data
    assert np.all(loss(y_true, y_pred, reduction="none") >= 0)
    assert np.all(loss(y_true, y_true, reduction="none") == 0)
    assert np.all(getattr(losses, loss.__name__ + "_grad")(y_true, y_true) == 0)


@given(data=pairs(), delta=st.floats(0.01, 100.0))
def test_huber_lies_between_its_quadratic_and_linear_bounds(data: Any, delta: float) -> None:
    y_true, y_pred = data
    residual = np.abs(y_pred - y_true)
    values = losses.huber(y_true, y_pred, reduction="none", delta=delta)
    half_squared = losses.mse(y_true, y_pred, reduction="none") / 2
    slack = 1e-12 * (1 + half_squared)
    assert np.all(values <= np.minimum(half_squared, delta * residual) + slack)
    assert np.all(values >= delta * residual - delta**2 / 2 - slack)
    small = residual <= delta
    np.testing.assert_array_equal(values[small], half_squared[small])  # MSE / 2 for small residuals


@given(data=pairs(true_elements=PROBABILITY, elements=st.floats(-10, 10)))
def test_bce_with_logits_equals_bce_of_the_sigmoid(data: Any) -> None:
    targets, logits = data
    # Moderate logits: beyond |x| ~ 10, 1 - sigmoid(x) loses digits to rounding, on the probability side.
    probabilities = 1 / (1 + np.exp(-logits))
    from_logits = losses.binary_cross_entropy_with_logits(targets, logits, reduction="none")
    from_probabilities = losses.binary_cross_entropy(targets, probabilities, reduction="none")
    np.testing.assert_allclose(from_logits, from_probabilities, rtol=1e-9, atol=1e-9)
    # Chain rule: d/dx = dL/dp * p (1 - p).
    chained = losses.binary_cross_entropy_grad(targets, probabilities) * probabilities * (1 - probabilities)
    np.testing.assert_allclose(losses.binary_cross_entropy_with_logits_grad(targets, logits), chained,
                               rtol=1e-9, atol=1e-12)


@given(data=pairs(true_elements=PROBABILITY, elements=PROBABILITY))
def test_binary_cross_entropy_is_non_negative_and_finite(data: Any) -> None:
    targets, probabilities = data
    values = losses.binary_cross_entropy(targets, probabilities, reduction="none")
    assert np.all(np.isfinite(values)) and np.all(values >= 0) and np.all(values <= 200)
    assert np.all(np.isfinite(losses.binary_cross_entropy_grad(targets, probabilities)))


@given(problem=class_problems(), smoothing=st.sampled_from([0.0, 0.1, 1.0]))
def test_cross_entropy_is_entropy_plus_kl_divergence(problem: Any, smoothing: float) -> None:
    labels, p, logits = problem
    q = _softmax(logits)
    assume(np.all(q > 0))
    # CE(p, softmax(x)) = H(p) + KL(p || softmax(x)), row by row.
    entropy_plus_divergence = _entropy(p) + losses.kl_divergence(p, q, reduction="none")
    np.testing.assert_allclose(losses.cross_entropy(p, logits, reduction="none"), entropy_plus_divergence,
                               rtol=1e-9, atol=1e-9)
    # Labels are one-hot probabilities, and smoothing is the smoothed one-hot target.
    one_hot = np.eye(logits.shape[1])[labels]
    smoothed = (1 - smoothing) * one_hot + smoothing / logits.shape[1]
    for reduction in ("mean", "sum", "none"):
        np.testing.assert_allclose(
            losses.cross_entropy(labels, logits, reduction=reduction, label_smoothing=smoothing),
            losses.cross_entropy(smoothed, logits, reduction=reduction), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(
            losses.cross_entropy_grad(labels, logits, reduction=reduction, label_smoothing=smoothing),
            losses.cross_entropy_grad(smoothed, logits, reduction=reduction), rtol=1e-9, atol=1e-12)
    # The gradient of a normalised target is softmax - target: its rows sum to 0.
    np.testing.assert_allclose(losses.cross_entropy_grad(p, logits).sum(axis=1), 0, atol=1e-12)


@given(problem=class_problems())
def test_kl_divergence_is_non_negative_and_zero_only_at_p(problem: Any) -> None:
    _, p, logits = problem
    q = _softmax(logits)
    assume(np.all(q > 0))
    assert np.all(losses.kl_divergence(p, q, reduction="none") >= -1e-12)
    np.testing.assert_allclose(losses.kl_divergence(p, p, reduction="none"), 0, atol=1e-15)
    # At q = p the gradient -p / q is -1 on the support of p and 0 elsewhere.
    np.testing.assert_array_equal(losses.kl_divergence_grad(p, p, reduction="sum"),
                                  np.where(p > 0, -1.0, 0.0))


@given(data=pairs(true_elements=st.sampled_from([-1.0, 1.0])))
def test_hinge_is_zero_beyond_the_margin_and_linear_inside(data: Any) -> None:
    labels, scores = data
    values = losses.hinge(labels, scores, reduction="none")
    assert np.all(values >= 0)
    np.testing.assert_array_equal(values[labels * scores >= 1], 0)
    np.testing.assert_array_equal(losses.hinge(labels, 2 * labels, reduction="none"), 0)
    np.testing.assert_array_equal(losses.hinge((labels + 1) / 2, scores, reduction="none"), values)


@given(problem=class_problems(), margin=st.floats(0.0, 3.0))
def test_multiclass_hinge_bounds(problem: Any, margin: float) -> None:
    labels, _, scores = problem
    values = losses.multiclass_hinge(labels, scores, reduction="none", margin=margin)
    assert np.all(values >= 0)
    # Zero when the true class beats every other by the margin.
    separated = scores.copy()
    separated[np.arange(len(labels)), labels] = scores.max(axis=1) + margin + 1.0
    separated_values = losses.multiclass_hinge(labels, separated, reduction="none", margin=margin)
    np.testing.assert_array_equal(separated_values, 0)
    # The gradient of each row sums to 0: what the true class loses, the violators gain.
    np.testing.assert_allclose(losses.multiclass_hinge_grad(labels, scores, margin=margin).sum(axis=1), 0,
                               atol=1e-15)


ALL_PAIRS: list[tuple[Callable[..., Any], Callable[..., Any], Any]] = [
    (losses.mse, losses.mse_grad, pairs()),
    (losses.mae, losses.mae_grad, pairs()),
    (losses.huber, losses.huber_grad, pairs()),
    (losses.binary_cross_entropy, losses.binary_cross_entropy_grad, pairs(PROBABILITY)),
    (losses.binary_cross_entropy_with_logits, losses.binary_cross_entropy_with_logits_grad,
     pairs(FINITE, PROBABILITY)),
    (losses.hinge, losses.hinge_grad, pairs(FINITE, st.sampled_from([0.0, 1.0]))),
]


@pytest.mark.parametrize(("loss", "grad", "strategy"), ALL_PAIRS, ids=lambda x: getattr(x, "__name__", ""))
@given(data=st.data())
def test_reductions_are_consistent(loss: Any, grad: Any, strategy: Any, data: Any) -> None:
    y_true, y_pred = data.draw(strategy)
    unreduced = loss(y_true, y_pred, reduction="none")
    assert unreduced.shape == y_pred.shape
    np.testing.assert_allclose(loss(y_true, y_pred, reduction="mean"), unreduced.mean(), rtol=1e-12)
    np.testing.assert_allclose(loss(y_true, y_pred, reduction="sum"), unreduced.sum(), rtol=1e-12)
    gradient_of_sum = grad(y_true, y_pred, reduction="sum")
    np.testing.assert_array_equal(grad(y_true, y_pred, reduction="none"), gradient_of_sum)
    np.testing.assert_allclose(grad(y_true, y_pred, reduction="mean"), gradient_of_sum / y_pred.size,
                               rtol=1e-15)


@given(problem=class_problems())
def test_reductions_are_consistent_for_per_sample_losses(problem: Any) -> None:
    labels, p, logits = problem
    for loss, grad, y_true, y_pred in [
        (losses.cross_entropy, losses.cross_entropy_grad, labels, logits),
        (losses.cross_entropy, losses.cross_entropy_grad, p, logits),
        (losses.multiclass_hinge, losses.multiclass_hinge_grad, labels, logits),
        (losses.kl_divergence, losses.kl_divergence_grad, p, _softmax(logits / 10)),
    ]:
        per_sample = loss(y_true, y_pred, reduction="none")
        assert per_sample.shape == (logits.shape[0],)
        np.testing.assert_allclose(loss(y_true, y_pred), per_sample.mean(), rtol=1e-12)
        np.testing.assert_allclose(loss(y_true, y_pred, reduction="sum"), per_sample.sum(), rtol=1e-12)
        gradient_of_sum = grad(y_true, y_pred, reduction="sum")
        np.testing.assert_array_equal(grad(y_true, y_pred, reduction="none"), gradient_of_sum)
        # 1/N is applied before the target is subtracted, so the two differ by rounding (amplified where the
        # softmax nearly equals the target).
        np.testing.assert_allclose(grad(y_true, y_pred), gradient_of_sum / len(per_sample), rtol=1e-9,
                                   atol=1e-15)


# ------------------------------------------------------------------------------------------------------------
# Gradients against central differences (float64)
# ------------------------------------------------------------------------------------------------------------


def _central_differences(function: Callable[[np.ndarray], float], x: np.ndarray, step: float) -> np.ndarray:
    gradient = np.empty_like(x)
    for index in np.ndindex(x.shape):
        forward, backward = x.copy(), x.copy()
        forward[index] += step
        backward[index] -= step
        gradient[index] = (function(forward) - function(backward)) / (2 * step)
    return gradient


def _smooth_region_data(rng: np.random.Generator) -> list[tuple[str, Any, np.ndarray, dict[str, Any]]]:
    """(name, y_true, y_pred, params) with every y_pred at least 1e-3 away from a kink of its loss."""
    labels = rng.integers(0, 4, 5)
    scores = rng.standard_normal((5, 4))
    margins = 1.0 - scores[np.arange(5), labels][:, None] + scores
    scores += np.where(np.abs(margins) < 1e-2, 0.05, 0.0)  # move scores off the hinge's kinks
    y_true = rng.standard_normal((3, 4))
    y_pred = y_true + rng.choice([-1, 1], (3, 4)) * rng.uniform(0.05, 3.0, (3, 4))
    signs = rng.choice([-1.0, 1.0], (3, 4))
    hinge_scores = signs * rng.uniform(-2, 2, (3, 4))
    hinge_scores[np.abs(1 - signs * hinge_scores) < 1e-2] += 0.05
    p = _softmax(rng.standard_normal((5, 4)))
    p[0, 1] = 0.0
    return [
        ("mse", y_true, y_pred, {}),
        ("mae", y_true, y_pred, {}),
        ("huber", y_true, y_pred, {"delta": 0.7}),
        ("binary_cross_entropy", rng.random((3, 4)), rng.uniform(0.05, 0.95, (3, 4)), {}),
        ("binary_cross_entropy_with_logits", rng.random((3, 4)), 5 * rng.standard_normal((3, 4)), {}),
        ("hinge", signs, hinge_scores, {}),
        ("cross_entropy", labels, 3 * rng.standard_normal((5, 4)), {}),
        ("cross_entropy", labels, 3 * rng.standard_normal((5, 4)), {"label_smoothing": 0.2}),
        ("cross_entropy", p, 3 * rng.standard_normal((5, 4)), {"label_smoothing": 0.1}),
        ("multiclass_hinge", labels, scores, {"margin": 1.0}),
        ("kl_divergence", p, _softmax(rng.standard_normal((5, 4))), {}),
    ]


@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_gradients_equal_central_differences(rng: np.random.Generator, reduction: str) -> None:
    for name, y_true, y_pred, params in _smooth_region_data(rng):
        loss, grad = getattr(losses, name), getattr(losses, name + "_grad")
        def value(x: np.ndarray) -> float:
            return float(loss(y_true, x, reduction=reduction, **params))

        numeric = _central_differences(value, y_pred, 1e-6)
        assert _relative_error(grad(y_true, y_pred, reduction=reduction, **params), numeric) <= 1e-6, name


# ------------------------------------------------------------------------------------------------------------
# Dtypes and array-likes
# ------------------------------------------------------------------------------------------------------------


def test_dtypes_follow_the_inputs() -> None:
    float32 = np.array([[0.25, 0.75]], dtype=np.float32)
    assert losses.mse(float32, float32).dtype == np.float32
    assert losses.mse(float32, float32, reduction="none").dtype == np.float32
    assert losses.kl_divergence_grad(float32, float32).dtype == np.float32
    assert losses.cross_entropy([1], float32).dtype == np.float32
    assert losses.cross_entropy_grad(np.array([1], dtype=np.int32), float32).dtype == np.float32
    assert losses.mse([1, 2], [3, 4]).dtype == np.float64  # integers promote to float64
    assert losses.mse(float32, float32.astype(np.float64)).dtype == np.float64  # mixed: float64
    assert losses.hinge_grad([[1, 0]], float32).dtype == np.float64  # a list of ints is float64 data
    assert losses.cross_entropy([0.0, 1.0], [[1.0, 2.0], [0.0, 0.0]]) == losses.cross_entropy(
        [0, 1], [[1.0, 2.0], [0.0, 0.0]])  # whole-number float labels are labels


def test_non_contiguous_inputs(rng: np.random.Generator) -> None:
    logits = rng.standard_normal((6, 8))
    labels = rng.integers(0, 6, 8)
    np.testing.assert_array_equal(losses.cross_entropy_grad(labels, logits.T),
                                  losses.cross_entropy_grad(labels, np.ascontiguousarray(logits.T)))
    a, b = rng.standard_normal((10, 10)), rng.standard_normal((10, 10))
    assert losses.mse(a[::2, ::3], b[::2, ::3]) == losses.mse(a[::2, ::3].copy(), b[::2, ::3].copy())


# ------------------------------------------------------------------------------------------------------------
# Blocked and threaded paths
# ------------------------------------------------------------------------------------------------------------


@pytest.fixture
def tiny_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks of a few hundred bytes and threads from byte 0: small inputs take the large-input path."""
    monkeypatch.setattr(_parallel, "BLOCK_BYTES", 256)
    monkeypatch.setattr(_parallel, "MEMORY_BOUND_PARALLEL_MIN_BYTES", 0)
    monkeypatch.setattr(_parallel, "COMPUTE_BOUND_PARALLEL_MIN_BYTES", 0)


def _fast_paths(rng: np.random.Generator, dtype: type) -> dict[str, Callable[[], Any]]:
    logits = (3 * rng.standard_normal((301, 17))).astype(dtype)
    labels = rng.integers(0, 17, 301)
    probabilities = _softmax(rng.standard_normal((301, 17))).astype(dtype)
    y_true, y_pred = rng.standard_normal(5001).astype(dtype), rng.standard_normal(5001).astype(dtype)
    return {
        "cross_entropy": lambda: losses.cross_entropy(labels, logits, reduction="none"),
        "cross_entropy smoothing": lambda: losses.cross_entropy(labels, logits, label_smoothing=0.1),
        "cross_entropy probabilities": lambda: losses.cross_entropy(probabilities, logits, reduction="sum"),
        "cross_entropy_grad": lambda: losses.cross_entropy_grad(labels, logits),
        "cross_entropy_grad probabilities": lambda: losses.cross_entropy_grad(probabilities, logits,
                                                                              label_smoothing=0.2),
        "mse": lambda: losses.mse(y_true, y_pred),
        "mse_grad": lambda: losses.mse_grad(y_true, y_pred, reduction="sum"),
    }


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threads_do_not_change_a_bit(tiny_blocks: None, monkeypatch: pytest.MonkeyPatch, dtype: type) -> None:
    threaded = {name: run() for name, run in _fast_paths(np.random.default_rng(5), dtype).items()}
    assert _parallel.worker_count() >= 1
    monkeypatch.setattr(_parallel, "worker_count", lambda: 1)
    serial = {name: run() for name, run in _fast_paths(np.random.default_rng(5), dtype).items()}
    for name in threaded:
        assert np.asarray(threaded[name]).dtype == dtype
        np.testing.assert_array_equal(threaded[name], serial[name], err_msg=name)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_many_blocks_agree_with_one_block(
    tiny_blocks: None, monkeypatch: pytest.MonkeyPatch, dtype: type
) -> None:
    many = {name: run() for name, run in _fast_paths(np.random.default_rng(6), dtype).items()}
    monkeypatch.setattr(_parallel, "BLOCK_BYTES", 1 << 30)
    one = {name: run() for name, run in _fast_paths(np.random.default_rng(6), dtype).items()}
    tolerance = 1e-5 if dtype == np.float32 else 1e-13  # only the order of the summation differs
    for name in many:
        assert _relative_error(many[name], one[name]) <= tolerance, name


def test_a_nan_in_any_block_is_reported(tiny_blocks: None, rng: np.random.Generator) -> None:
    logits = rng.standard_normal((300, 7))
    labels = rng.integers(0, 7, 300)
    y_true, y_pred = rng.standard_normal(3000), rng.standard_normal(3000)
    for position in (0, 150, 299):
        for bad in (np.nan, np.inf, -np.inf):
            broken = logits.copy()
            broken[position, 3] = bad
            for function in (losses.cross_entropy, losses.cross_entropy_grad):
                with pytest.raises(ValueError, match="y_pred must be finite"):
                    function(labels, broken)
            broken_pred = y_pred.copy()
            broken_pred[position * 10] = bad
            for function in (losses.mse, losses.mse_grad):
                with pytest.raises(ValueError, match="y_pred must be finite"):
                    function(y_true, broken_pred)
                with pytest.raises(ValueError, match="y_true must be finite"):
                    function(broken_pred, y_true)


def test_a_worker_exception_reaches_the_caller(tiny_blocks: None) -> None:
    def failing(first: int, stop: int) -> None:
        if first > 0:
            raise RuntimeError("from a worker")

    with pytest.raises(RuntimeError, match="from a worker"):
        _parallel.run_blocks(failing, 10, 10_000, compute_bound=True)


# ------------------------------------------------------------------------------------------------------------
# Docstring examples and the import rule
# ------------------------------------------------------------------------------------------------------------

MODULES = ["", ".regression", ".binary", ".margin", ".cross_entropy", ".divergence"]


@pytest.mark.parametrize("suffix", MODULES)
def test_docstring_examples_run_as_shown(suffix: str) -> None:
    module = importlib.import_module("lossopt_companion.losses" + suffix)
    result = doctest.testmod(module, optionflags=doctest.NORMALIZE_WHITESPACE)
    assert result.attempted > 0 and result.failed == 0


def test_every_public_function_is_documented_with_formula_example_and_sections() -> None:
    for name in losses.__all__:
        docstring = getattr(losses, name).__doc__
        for required in (".. math::", "Parameters", "Returns", "Raises", "Examples", ">>> "):
            assert required in docstring, (name, required)
        if not name.endswith("_grad"):
            assert name + "_grad" in losses.__all__
    assert float(losses.mse([1.0, 2.0], [1.0, 4.0])) == 2.0


def test_importing_the_losses_loads_no_framework() -> None:
    code = (
        "import sys, lossopt_companion as lc; lc.losses.cross_entropy([0], [[1.0, 2.0]]); "
        "print(sorted(m for m in sys.modules if m.split('.')[0] in "
        "('torch', 'tensorflow', 'keras', 'matplotlib', 'scipy')))"
    )
    output = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert output.strip() == "[]"
