"""Tests of lossopt_companion.problems: derivatives against central differences and SciPy, the documented
minima, the quadratic's condition number, batches, dtypes and validation."""

from __future__ import annotations

import numpy as np
import pytest
import scipy.optimize

from lossopt_companion.problems import (
    Beale,
    Himmelblau,
    IllConditionedQuadratic,
    NonConvex1D,
    Problem,
    Rosenbrock,
)

PROBLEMS = {
    "rosenbrock-2": Rosenbrock(),
    "rosenbrock-5": Rosenbrock(5),
    "rosenbrock-3-a0": Rosenbrock(3, a=0.0),
    "rosenbrock-2-a1.5-b20": Rosenbrock(2, a=1.5, b=20.0),
    "quadratic-100": IllConditionedQuadratic(100.0),
    "quadratic-1e3-dim5-shifted": IllConditionedQuadratic(1e3, dim=5, minimizer=[1.0, -2.0, 0.5, 0.0, 3.0]),
    "quadratic-aligned-dim3-shifted": IllConditionedQuadratic(30.0, dim=3, minimizer=[1.0, 0.0, -1.0], rotated=False),
    "beale": Beale(),
    "himmelblau": Himmelblau(),
    "nonconvex-1d": NonConvex1D(),
}


def _random_points(problem: Problem, rng: np.random.Generator, count: int) -> np.ndarray:
    low, high = np.array(problem.bounds).T
    return rng.uniform(low, high, size=(count, problem.dim))


def _central_gradient(function, x: np.ndarray, step: float) -> np.ndarray:
    """d f / d x_i by (f(x + h e_i) - f(x - h e_i)) / 2h, for every coordinate; f may be vector-valued."""
    columns = []
    for i in range(x.size):
        offset = np.zeros_like(x)
        offset[i] = step
        columns.append((np.asarray(function(x + offset)) - np.asarray(function(x - offset))) / (2 * step))
    return np.stack(columns, axis=-1)


@pytest.mark.parametrize("name", PROBLEMS)
def test_gradient_matches_central_differences(name: str, rng: np.random.Generator) -> None:
    problem = PROBLEMS[name]
    for x in _random_points(problem, rng, 10):
        numerical = _central_gradient(problem.value, x, 1e-6)
        scale = max(1.0, float(np.abs(numerical).max()))
        np.testing.assert_allclose(problem.gradient(x), numerical, rtol=1e-6, atol=1e-6 * scale)


@pytest.mark.parametrize("name", PROBLEMS)
def test_hessian_matches_central_differences_of_the_gradient(name: str, rng: np.random.Generator) -> None:
    problem = PROBLEMS[name]
    for x in _random_points(problem, rng, 10):
        numerical = _central_gradient(problem.gradient, x, 1e-6)
        hessian = problem.hessian(x)
        scale = max(1.0, float(np.abs(numerical).max()))
        np.testing.assert_allclose(hessian, numerical, rtol=1e-6, atol=1e-6 * scale)
        np.testing.assert_array_equal(hessian, hessian.T)


@pytest.mark.parametrize("n", [2, 3, 10])
def test_rosenbrock_agrees_with_scipy(n: int, rng: np.random.Generator) -> None:
    problem = Rosenbrock(n)
    for x in rng.uniform(-2, 2, size=(5, n)):
        assert problem.value(x) == pytest.approx(scipy.optimize.rosen(x), rel=1e-14)
        np.testing.assert_allclose(problem.gradient(x), scipy.optimize.rosen_der(x), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(problem.hessian(x), scipy.optimize.rosen_hess(x), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("name", PROBLEMS)
def test_known_minimizers_are_strict_minima_with_the_documented_value(name: str) -> None:
    problem = PROBLEMS[name]
    assert problem.minimizers.ndim == 2 and problem.minimizers.shape[1] == problem.dim
    for point in problem.minimizers:
        assert problem.value(point) == pytest.approx(problem.minimum_value, abs=1e-12)
        np.testing.assert_allclose(problem.gradient(point), 0.0, atol=1e-12)
        assert np.linalg.eigvalsh(problem.hessian(point)).min() > 0  # second-order sufficient condition


@pytest.mark.parametrize("name", PROBLEMS)
def test_no_sampled_point_is_below_the_minimum(name: str, rng: np.random.Generator) -> None:
    problem = PROBLEMS[name]
    values = problem.value(_random_points(problem, rng, 20_000))
    assert values.min() >= problem.minimum_value - 1e-12


def test_published_values() -> None:
    # Moré, Garbow & Hillstrom (1981): f = 24.2 at the standard start; the other values by hand.
    assert Rosenbrock().value(Rosenbrock().x0) == pytest.approx(24.2, rel=1e-14)
    assert Rosenbrock(2, a=2.0).minimizers.tolist() == [[2.0, 4.0]]
    assert Rosenbrock(4).minimizers.tolist() == [[1.0] * 4]
    # (1.5 - 1 + 1)^2 + (2.25 - 1 + 1)^2 + (2.625 - 1 + 1)^2
    assert Beale().value([1.0, 1.0]) == pytest.approx(1.5**2 + 2.25**2 + 2.625**2, rel=1e-15)
    assert Himmelblau().value([0.0, 0.0]) == 11.0**2 + 7.0**2
    # Himmelblau (1972), to the six decimals usually quoted.
    published = [[3.0, 2.0], [-2.805118, 3.131312], [-3.779310, -3.283186], [3.584428, -1.848127]]
    np.testing.assert_allclose(Himmelblau().minimizers, published, atol=1e-6)


def test_himmelblau_minimizers_solve_both_squares() -> None:
    x, y = Himmelblau().minimizers.T
    np.testing.assert_allclose(x**2 + y - 11, 0.0, atol=1e-13)
    np.testing.assert_allclose(x + y**2 - 7, 0.0, atol=1e-13)
    assert len({tuple(np.round(p, 6)) for p in Himmelblau().minimizers}) == 4


@pytest.mark.parametrize("dim", [2, 3, 10])
@pytest.mark.parametrize("kappa", [1.0, 10.0, 1e4])
def test_quadratic_has_the_requested_condition_number(
    dim: int, kappa: float, rng: np.random.Generator
) -> None:
    problem = IllConditionedQuadratic(kappa, dim)
    hessian = problem.hessian(rng.normal(size=dim))
    assert np.linalg.cond(hessian) == pytest.approx(kappa, rel=1e-10)
    eigenvalues, eigenvectors = np.linalg.eigh(hessian)
    np.testing.assert_allclose(eigenvalues, np.geomspace(1.0, kappa, dim), rtol=1e-10)
    if kappa > 1:  # the flat direction (curvature 1) is the diagonal: the valley is not axis-aligned
        np.testing.assert_allclose(np.abs(eigenvectors[:, 0]), np.full(dim, dim**-0.5), atol=1e-12)


def test_quadratic_closed_form(rng: np.random.Generator) -> None:
    center = np.array([0.5, -1.0, 2.0])
    problem = IllConditionedQuadratic(50.0, dim=3, minimizer=center)
    x = rng.normal(size=3)
    matrix = problem.hessian(x)
    assert problem.value(x) == pytest.approx(0.5 * (x - center) @ matrix @ (x - center), rel=1e-14)
    np.testing.assert_allclose(problem.gradient(x), matrix @ (x - center), rtol=1e-14)
    np.testing.assert_allclose(problem.minimizers, [center])
    assert problem.bounds[0] == (-1.5, 2.5)


def test_aligned_quadratic_is_the_rotated_one_in_its_eigenvector_coordinates(rng: np.random.Generator) -> None:
    center = np.array([0.5, -1.0, 2.0])
    rotated = IllConditionedQuadratic(50.0, dim=3, minimizer=center)
    aligned = IllConditionedQuadratic(50.0, dim=3, minimizer=center, rotated=False)
    np.testing.assert_array_equal(aligned.matrix, np.diag(np.geomspace(1.0, 50.0, 3)))
    # The orthogonal Q with rotated.matrix = Q^T diag Q maps rotated coordinates to aligned ones.
    eigenvalues, eigenvectors = np.linalg.eigh(rotated.matrix)
    q = eigenvectors.T
    np.testing.assert_allclose(q.T @ aligned.matrix @ q, rotated.matrix, atol=1e-12)
    x = rng.normal(size=(4, 3))
    y = center + (x - center) @ q.T
    np.testing.assert_allclose(aligned.value(y), rotated.value(x), rtol=1e-12)
    # The same start, up to the signs of eigenvectors (which no coordinate-wise method can tell apart).
    np.testing.assert_allclose(np.abs(aligned.x0 - center), np.abs(q @ (rotated.x0 - center)), atol=1e-12)
    assert aligned.value(aligned.x0) == pytest.approx(rotated.value(rotated.x0), rel=1e-12)
    assert "rotated=False" in repr(aligned) and "rotated" not in repr(rotated)


def test_nonconvex_1d_stationary_points_are_as_documented() -> None:
    problem = NonConvex1D()
    for point, value, curvature in ((-2.0, -8 / 3, 6.0), (0.0, 0.0, -2.0), (1.0, -5 / 12, 3.0)):
        assert problem.gradient([point])[0] == 0.0
        assert problem.value([point]) == pytest.approx(value, rel=1e-15, abs=1e-15)
        assert problem.hessian([point])[0, 0] == pytest.approx(curvature)
    assert problem.minimizers.tolist() == [[-2.0]]
    assert problem.local_minimizer.tolist() == [[1.0]] and problem.barrier_point.tolist() == [[0.0]]
    assert problem.local_minimum_value == pytest.approx(-5 / 12)
    assert problem.barrier_height == pytest.approx(5 / 12)
    grid = np.linspace(*problem.bounds[0], 6001)[:, None]
    values = problem.value(grid)
    assert grid[np.argmin(values), 0] == pytest.approx(-2.0)
    right = grid[:, 0] > 0  # right of the barrier the lowest point is the local minimum
    assert grid[right][np.argmin(values[right]), 0] == pytest.approx(1.0)
    assert values[right].min() > values.min()


@pytest.mark.parametrize("name", PROBLEMS)
def test_batches_equal_pointwise_evaluation(name: str, rng: np.random.Generator) -> None:
    problem = PROBLEMS[name]
    batch = _random_points(problem, rng, 12).reshape(3, 4, problem.dim)
    values, gradients, hessians = problem.value(batch), problem.gradient(batch), problem.hessian(batch)
    assert values.shape == (3, 4) and gradients.shape == batch.shape
    assert hessians.shape == (3, 4, problem.dim, problem.dim)
    for index in np.ndindex(3, 4):
        assert values[index] == pytest.approx(problem.value(batch[index]), rel=1e-13, abs=1e-13)
        np.testing.assert_allclose(gradients[index], problem.gradient(batch[index]), rtol=1e-13, atol=1e-12)
        np.testing.assert_allclose(hessians[index], problem.hessian(batch[index]), rtol=1e-13, atol=1e-12)


@pytest.mark.parametrize("name", PROBLEMS)
def test_call_returns_value_and_gradient(name: str) -> None:
    problem = PROBLEMS[name]
    value, gradient = problem(problem.x0)
    assert np.ndim(value) == 0 and value == problem.value(problem.x0)
    np.testing.assert_array_equal(gradient, problem.gradient(problem.x0))


@pytest.mark.parametrize("name", PROBLEMS)
def test_float32_in_float32_out(name: str) -> None:
    problem = PROBLEMS[name]
    x = problem.x0.astype(np.float32)
    assert problem.value(x).dtype == np.float32
    assert problem.gradient(x).dtype == np.float32
    assert problem.hessian(x).dtype == np.float32
    assert problem.value(problem.x0).dtype == np.float64


def test_known_points_are_read_only() -> None:
    problem = Rosenbrock()
    with pytest.raises(ValueError):
        problem.minimizers[0, 0] = 5.0
    with pytest.raises(ValueError):
        problem.x0[0] = 5.0


@pytest.mark.parametrize(
    "x", [[1.0, 2.0, 3.0], 1.0, [[1.0], [2.0]], [np.nan, 1.0], [np.inf, 0.0], ["a", "b"]], ids=str
)
def test_bad_points_raise(x: object) -> None:
    with pytest.raises(ValueError, match="x"):
        Rosenbrock().value(x)
    with pytest.raises(ValueError, match="x"):
        Himmelblau().gradient(x)
    with pytest.raises(ValueError, match="x"):
        Beale().hessian(x)


def test_one_dimensional_points_need_a_trailing_axis() -> None:
    with pytest.raises(ValueError, match=r"x must have shape \(1,\)"):
        NonConvex1D().value(np.linspace(-1, 1, 5))
    assert NonConvex1D().value(np.linspace(-1, 1, 5)[:, None]).shape == (5,)


@pytest.mark.parametrize(
    ("factory", "match"),
    [
        (lambda: Rosenbrock(1), "n"),
        (lambda: Rosenbrock(2.0), "n"),
        (lambda: Rosenbrock(3, a=2.0), "a"),
        (lambda: Rosenbrock(2, a=np.nan), "a"),
        (lambda: Rosenbrock(2, b=0.0), "b"),
        (lambda: IllConditionedQuadratic(0.5), "condition_number"),
        (lambda: IllConditionedQuadratic(np.inf), "condition_number"),
        (lambda: IllConditionedQuadratic(10.0, dim=1), "dim"),
        (lambda: IllConditionedQuadratic(10.0, dim=3, minimizer=[0.0, 0.0]), "minimizer"),
        (lambda: IllConditionedQuadratic(10.0, minimizer=[0.0, np.nan]), "minimizer"),
        (lambda: IllConditionedQuadratic(10.0, rotated="no"), "rotated"),
    ],
)
def test_bad_construction_raises(factory, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        factory()


def test_optimizer_path_equals_a_hand_written_loop_and_torch() -> None:
    import torch

    from lossopt_companion import optim
    from lossopt_companion.problems import Rosenbrock, optimizer_path

    problem = Rosenbrock()
    path = optimizer_path(problem, optim.SGD, steps=300, lr=1e-3, momentum=0.9)
    assert path.shape == (301, 2)
    x = torch.tensor(problem.x0, dtype=torch.float64, requires_grad=True)
    reference = torch.optim.SGD([x], lr=1e-3, momentum=0.9)
    for step in range(1, 301):
        reference.zero_grad()
        loss = (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2
        loss.backward()
        reference.step()
        np.testing.assert_allclose(path[step], x.detach().numpy(), rtol=1e-10, atol=1e-14)


def test_optimizer_path_stops_when_the_run_diverges() -> None:
    from lossopt_companion import optim
    from lossopt_companion.problems import IllConditionedQuadratic, optimizer_path, steps_to_tolerance

    quadratic = IllConditionedQuadratic(10.0)  # eigenvalues 1 and 10: GD diverges for lr > 0.2
    stable = optimizer_path(quadratic, optim.GD, steps=500, lr=0.19)
    assert len(stable) == 501 and steps_to_tolerance(stable, quadratic.minimizers[0]) is not None
    diverged = optimizer_path(quadratic, optim.GD, steps=500, lr=0.21, bound=10.0)
    assert 1 < len(diverged) < 501
    assert np.abs(diverged).max() <= 10.0  # the first iterate outside the box is not kept
    # |x_k| grows by |1 - 0.21 * 10| = 1.1 a step along the steep direction: from |x0| it needs about
    # log(10 / |x0|) / log(1.1) steps to leave the box.
    assert steps_to_tolerance(diverged, quadratic.minimizers[0]) is None


def test_steps_to_tolerance_counts_the_first_arrival() -> None:
    from lossopt_companion.problems import steps_to_tolerance

    path = np.array([[3.0, 4.0], [0.0, 2e-4], [0.0, 5e-5], [0.0, 1.0], [0.0, 0.0]])
    assert steps_to_tolerance(path, [0.0, 0.0]) == 2
    assert steps_to_tolerance(path, [0.0, 0.0], tol=1e-3) == 1
    assert steps_to_tolerance(path, [3.0, 4.0], tol=1e-12) == 0


@pytest.mark.parametrize(
    ("call", "match"),
    [
        (lambda p, o: p.optimizer_path(p.Rosenbrock(), o.GD, [0.0, 0.0, 0.0], lr=0.1), r"x0 must have shape \(2,\)"),
        (lambda p, o: p.optimizer_path(p.Rosenbrock(), o.GD, [np.nan, 0.0], lr=0.1), "x0"),
        (lambda p, o: p.optimizer_path(p.Rosenbrock(), o.GD, steps=0, lr=0.1), "steps must be a positive integer"),
        (lambda p, o: p.optimizer_path(p.Rosenbrock(), o.GD, bound=-1.0, lr=0.1), "bound"),
        (lambda p, o: p.steps_to_tolerance(np.zeros(3), [0.0]), "path must have shape"),
        (lambda p, o: p.steps_to_tolerance(np.zeros((3, 2)), [0.0]), r"minimizer must have shape \(2,\)"),
        (lambda p, o: p.steps_to_tolerance(np.zeros((3, 2)), [0.0, 0.0], tol=0.0), "tol"),
    ],
)
def test_runs_reject_bad_input(call, match: str) -> None:
    from lossopt_companion import optim, problems

    with pytest.raises(ValueError, match=match):
        call(problems, optim)
