"""Tests of problems.LogisticObjective: derivatives against central differences, the minimizer against
scikit-learn's LogisticRegression, numerical stability, batches, dtypes and validation."""

from __future__ import annotations

import numpy as np
import pytest
from sklearn.datasets import load_breast_cancer
from sklearn.linear_model import LogisticRegression
from sklearn.preprocessing import StandardScaler

from lossopt_companion.problems import LogisticObjective
from lossopt_companion.second_order import lbfgs


def _central_gradient(function, x: np.ndarray, step: float) -> np.ndarray:
    """d f / d x_i by (f(x + h e_i) - f(x - h e_i)) / 2h, for every coordinate; f may be vector-valued."""
    columns = []
    for i in range(x.size):
        offset = np.zeros_like(x)
        offset[i] = step
        columns.append((np.asarray(function(x + offset)) - np.asarray(function(x - offset))) / (2 * step))
    return np.stack(columns, axis=-1)


def _small_problem(rng: np.random.Generator, fit_intercept: bool = True, l2: float = 0.3) -> LogisticObjective:
    X = rng.normal(size=(40, 3)) * [1.0, 3.0, 0.5]
    y = (X @ [1.0, -0.5, 2.0] + rng.normal(size=40) > 0).astype(int)
    return LogisticObjective(X, y, l2=l2, fit_intercept=fit_intercept)


@pytest.fixture(scope="module")
def breast_cancer() -> tuple[np.ndarray, np.ndarray]:
    X, y = load_breast_cancer(return_X_y=True)
    return StandardScaler().fit_transform(X), y


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_value_matches_the_definition(fit_intercept: bool, rng: np.random.Generator) -> None:
    problem = _small_problem(rng, fit_intercept)
    for theta in rng.normal(size=(5, problem.dim)):
        w, b = problem.split(theta)
        p = 1 / (1 + np.exp(-(problem.X @ w + b)))
        log_loss = -np.mean(problem.y * np.log(p) + (1 - problem.y) * np.log(1 - p))
        np.testing.assert_allclose(problem.value(theta), log_loss + 0.15 * w @ w, rtol=1e-13)


@pytest.mark.parametrize("fit_intercept", [True, False])
def test_gradient_and_hessian_match_central_differences(fit_intercept: bool, rng: np.random.Generator) -> None:
    problem = _small_problem(rng, fit_intercept)
    for theta in rng.normal(size=(5, problem.dim)):
        np.testing.assert_allclose(problem.gradient(theta), _central_gradient(problem.value, theta, 1e-6),
                                   rtol=1e-6, atol=1e-8)
        np.testing.assert_allclose(problem.hessian(theta), _central_gradient(problem.gradient, theta, 1e-6),
                                   rtol=1e-6, atol=1e-8)


def test_intercept_is_not_penalized(rng: np.random.Generator) -> None:
    problem = _small_problem(rng, l2=5.0)
    no_penalty = LogisticObjective(problem.X, problem.y, l2=0.0)
    theta = np.array([0.0, 0.0, 0.0, 3.0])  # only the intercept is non-zero
    assert problem.value(theta) == no_penalty.value(theta)
    np.testing.assert_array_equal(problem.hessian(theta)[-1], no_penalty.hessian(theta)[-1])


def test_minimizer_equals_scikit_learn(breast_cancer: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = breast_cancer
    l2 = 0.01
    problem = LogisticObjective(X, y, l2=l2)
    reference = LogisticRegression(C=1 / (len(y) * l2), solver="lbfgs", tol=1e-12, max_iter=10_000).fit(X, y)
    w, b = problem.split(problem.minimizers[0])
    # sklearn's L-BFGS stops on its relative decrease of f (ftol = 64 eps) before gtol=1e-12: a few 1e-7 away
    reference_theta = np.r_[reference.coef_[0], reference.intercept_]
    np.testing.assert_allclose(w, reference.coef_[0], atol=1e-5)
    np.testing.assert_allclose(b, reference.intercept_[0], atol=1e-5)
    assert 0 <= problem.value(reference_theta) - problem.minimum_value < 1e-13
    exact = LogisticRegression(C=1 / (len(y) * l2), solver="newton-cholesky", tol=1e-12, max_iter=100).fit(X, y)
    np.testing.assert_allclose(problem.minimizers[0], np.r_[exact.coef_[0], exact.intercept_], atol=1e-10)
    assert np.abs(problem.gradient(problem.minimizers[0])).max() < 1e-12
    # and the companion's L-BFGS, started from 0, lands on the same point
    result = lbfgs(problem, problem.x0, tol=1e-10)
    np.testing.assert_allclose(result.x, problem.minimizers[0], atol=1e-8)
    assert problem.minimum_value == pytest.approx(result.fun, abs=1e-14)


def test_without_intercept_equals_scikit_learn(breast_cancer: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = breast_cancer
    problem = LogisticObjective(X, y, l2=0.05, fit_intercept=False)
    reference = LogisticRegression(C=1 / (len(y) * 0.05), tol=1e-12, max_iter=10_000, fit_intercept=False).fit(X, y)
    np.testing.assert_allclose(problem.minimizers[0], reference.coef_[0], atol=1e-5)


def test_the_hessian_is_positive_definite_with_a_penalty(breast_cancer: tuple[np.ndarray, np.ndarray]) -> None:
    X, y = breast_cancer
    problem = LogisticObjective(X, y, l2=0.01)
    eigenvalues = np.linalg.eigvalsh(problem.hessian(problem.minimizers[0]))
    assert eigenvalues.min() > 0


def test_stable_for_huge_margins() -> None:
    X = np.array([[1.0], [-1.0]])
    problem = LogisticObjective(X, [1, 0], l2=0.0, fit_intercept=False)
    with np.errstate(over="raise", invalid="raise", divide="raise"):
        value = problem.value([800.0])
        gradient = problem.gradient([800.0])
        hessian = problem.hessian([800.0])
    assert value == 0.0 and np.all(gradient <= 0) and np.all(np.isfinite(hessian))
    # log(1 + e^-40) = 4.248e-18 is kept, not lost to the cancellation of log(1 + e^40) - 40
    np.testing.assert_allclose(problem.value([40.0]), np.log1p(np.exp(-40.0)), rtol=1e-12)
    np.testing.assert_allclose(problem.gradient([40.0]), [-np.exp(-40.0) / (1 + np.exp(-40.0))], rtol=1e-12)


def test_batches_equal_pointwise_evaluation(rng: np.random.Generator) -> None:
    problem = _small_problem(rng)
    points = rng.normal(size=(3, 2, problem.dim))
    values, gradients, hessians = problem.value(points), problem.gradient(points), problem.hessian(points)
    assert values.shape == (3, 2) and gradients.shape == (3, 2, 4) and hessians.shape == (3, 2, 4, 4)
    for index in np.ndindex(3, 2):
        np.testing.assert_allclose(values[index], problem.value(points[index]), rtol=1e-14)
        np.testing.assert_allclose(gradients[index], problem.gradient(points[index]), rtol=1e-13, atol=1e-15)
        np.testing.assert_allclose(hessians[index], problem.hessian(points[index]), rtol=1e-13, atol=1e-15)


def test_float32_in_float32_out(rng: np.random.Generator) -> None:
    problem = _small_problem(rng)
    point = np.zeros(problem.dim, dtype=np.float32)
    value, gradient = problem(point)
    assert value.dtype == np.float32 and gradient.dtype == np.float32
    assert problem.hessian(point).dtype == np.float32


def test_unpenalized_separable_data_have_no_minimizer() -> None:
    problem = LogisticObjective([[0.0], [1.0], [2.0], [3.0]], [0, 0, 1, 1], l2=0.0)
    with pytest.raises(ValueError, match="separable"):
        _ = problem.minimizers


@pytest.mark.parametrize(
    ("X", "y", "l2", "match"),
    [
        (np.ones(4), [0, 1, 0, 1], 0.1, "X must be a 2-D"),
        (np.ones((0, 2)), [], 0.1, "X must be a 2-D"),
        ([[1.0], [np.nan]], [0, 1], 0.1, "X must be finite"),
        ([["a"], ["b"]], [0, 1], 0.1, "X must be an array of real numbers"),
        (np.ones((3, 2)), [0, 1], 0.1, r"y must have shape \(3,\)"),
        (np.ones((3, 2)), [[0], [1], [1]], 0.1, r"y must have shape \(3,\)"),
        (np.ones((3, 2)), [0, 1, 2], 0.1, "only the labels 0 and 1"),
        (np.ones((3, 2)), [-1, 1, 1], 0.1, "only the labels 0 and 1"),
        (np.ones((3, 2)), [1, 1, 1], 0.1, "both classes"),
        (np.ones((3, 2)), [0, 1, 1], -0.1, "l2 must be a finite non-negative"),
        (np.ones((3, 2)), [0, 1, 1], np.inf, "l2 must be a finite non-negative"),
        (np.ones((3, 2)), [0, 1, 1], "strong", "l2 must be a real number"),
    ],
)
def test_bad_input_raises(X: object, y: object, l2: object, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        LogisticObjective(X, y, l2=l2)


def test_bad_points_raise(rng: np.random.Generator) -> None:
    problem = _small_problem(rng)
    with pytest.raises(ValueError, match=r"shape \(4,\)"):
        problem.value(np.zeros(3))
    with pytest.raises(ValueError, match="finite"):
        problem.gradient([0.0, np.inf, 0.0, 0.0])
