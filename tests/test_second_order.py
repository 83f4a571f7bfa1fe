"""Tests of lossopt_companion.second_order: L-BFGS against SciPy and torch, Newton's quadratic convergence
on logistic regression, the strong Wolfe conditions at every accepted step, the quadratic bowl, validation."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import scipy.optimize
from scipy.special import expit

from lossopt_companion.problems import Beale, Himmelblau, IllConditionedQuadratic, NonConvex1D, Rosenbrock
from lossopt_companion.second_order import (
    OptimizeResult,
    backtracking_line_search,
    lbfgs,
    newton,
    strong_wolfe_line_search,
)
from lossopt_companion.second_order._lbfgs import _two_loop_direction
from lossopt_companion.second_order._line_search import ROUNDING_ULPS

C1, C2 = 1e-4, 0.9


class CountingObjective:
    """Wraps a problem and counts how often it is evaluated, to check n_fev independently."""

    def __init__(self, problem) -> None:
        self.problem, self.calls = problem, 0

    def __call__(self, x):
        self.calls += 1
        return self.problem(x)


def _scipy_lbfgs(problem, x0) -> scipy.optimize.OptimizeResult:
    # ftol=0 disables SciPy's relative-decrease test so that both stop on the same gradient test.
    options = {"gtol": 1e-8, "ftol": 0.0, "maxcor": 10, "maxiter": 1000}
    return scipy.optimize.minimize(problem, x0, jac=True, method="L-BFGS-B", options=options)


# --- L-BFGS -------------------------------------------------------------------------------------------------


@pytest.mark.parametrize("n", [2, 10])
def test_lbfgs_is_as_fast_as_scipy_on_rosenbrock(n: int) -> None:
    problem = Rosenbrock(n)
    ours = lbfgs(problem, problem.x0, history=10, tol=1e-8)
    reference = _scipy_lbfgs(problem, problem.x0)
    assert ours.converged and reference.success
    np.testing.assert_allclose(ours.x, problem.minimizers[0], atol=1e-7)
    np.testing.assert_allclose(reference.x, problem.minimizers[0], atol=1e-7)
    assert ours.n_iter <= 1.5 * reference.nit, (ours.n_iter, reference.nit)
    assert ours.grad_norm <= 1e-8


@pytest.mark.parametrize("n", [2, 10])
def test_lbfgs_iteration_count_is_in_the_range_of_torch(n: int) -> None:
    torch = pytest.importorskip("torch")
    problem = Rosenbrock(n)
    x = torch.tensor(problem.x0, dtype=torch.float64, requires_grad=True)
    optimizer = torch.optim.LBFGS(
        [x],
        lr=1.0,
        max_iter=1000,
        max_eval=2000,
        tolerance_grad=1e-8,
        tolerance_change=0.0,  # stop on the gradient only, like ours
        history_size=10,
        line_search_fn="strong_wolfe",
    )

    def closure():
        optimizer.zero_grad()
        loss = torch.sum(100.0 * (x[1:] - x[:-1] ** 2) ** 2 + (1.0 - x[:-1]) ** 2)
        loss.backward()
        return loss

    optimizer.step(closure)
    torch_iterations = optimizer.state[x]["n_iter"]
    ours = lbfgs(problem, problem.x0)
    assert ours.converged
    np.testing.assert_allclose(x.detach().numpy(), problem.minimizers[0], atol=1e-7)
    np.testing.assert_allclose(ours.x, problem.minimizers[0], atol=1e-7)
    assert 0.5 <= ours.n_iter / torch_iterations <= 2.0, (ours.n_iter, torch_iterations)


PATH_PROBLEMS = {
    "rosenbrock-2": Rosenbrock(),
    "rosenbrock-10": Rosenbrock(10),
    "beale": Beale(),
    "himmelblau": Himmelblau(),
    "quadratic": IllConditionedQuadratic(1e3, dim=6),
    "nonconvex-1d": NonConvex1D(),
}


@pytest.mark.parametrize("name", PATH_PROBLEMS)
def test_every_accepted_lbfgs_step_satisfies_the_strong_wolfe_conditions(name: str) -> None:
    problem = PATH_PROBLEMS[name]
    result = lbfgs(problem, problem.x0)
    assert result.converged
    assert result.n_iter >= 3
    for k in range(result.n_iter):
        x, x_next = result.path[k], result.path[k + 1]
        step = x_next - x
        slope, slope_next = problem.gradient(x) @ step, problem.gradient(x_next) @ step
        value, value_next = problem.value(x), problem.value(x_next)
        rounding = ROUNDING_ULPS * np.finfo(float).eps * abs(value)
        assert slope < 0, f"step {k} is not a descent step"
        assert value_next <= value + C1 * slope + rounding, f"step {k} violates sufficient decrease"
        # 1e-6 relative slack: step = x_next - x is recomputed from the path (cancellation near convergence)
        assert abs(slope_next) <= C2 * abs(slope) * (1 + 1e-6), f"step {k} violates the curvature condition"


def test_lbfgs_result_records_the_run() -> None:
    problem = Himmelblau()
    objective = CountingObjective(problem)
    result = lbfgs(objective, [-1.0, -1.0])
    assert isinstance(result, OptimizeResult)
    assert result.n_fev == objective.calls and result.n_hev == 0
    assert result.trace.shape == result.grad_norm_trace.shape == (result.n_iter + 1,)
    assert result.path.shape == (result.n_iter + 1, 2)
    np.testing.assert_array_equal(result.path[0], [-1.0, -1.0])
    np.testing.assert_array_equal(result.path[-1], result.x)
    assert result.trace[0] == problem.value([-1.0, -1.0]) and result.fun == result.trace[-1]
    np.testing.assert_allclose(result.trace, problem.value(result.path), rtol=0, atol=0)
    grad_norms = np.abs(problem.gradient(result.path)).max(axis=1)
    np.testing.assert_array_equal(result.grad_norm_trace, grad_norms)
    assert np.all(np.diff(result.trace) < 0)  # sufficient decrease at every step, far above round-off here
    assert "converged" in result.message
    with pytest.raises(dataclasses.FrozenInstanceError):
        result.n_iter = 0  # type: ignore[misc]


def test_two_loop_recursion_applies_the_bfgs_inverse_hessian(rng: np.random.Generator) -> None:
    """The recursion must equal H g for H built explicitly by the BFGS update (Nocedal & Wright eq. 7.19)."""
    n = 6
    pairs = []
    for _ in range(4):
        s = rng.normal(size=n)
        y = s + 0.3 * rng.normal(size=n)  # s^T y > 0 with overwhelming probability; checked below
        assert s @ y > 0
        pairs.append((s, y, 1.0 / (s @ y)))
    gradient = rng.normal(size=n)
    s_last, y_last, _ = pairs[-1]
    inverse = (s_last @ y_last) / (y_last @ y_last) * np.eye(n)
    for s, y, rho in pairs:
        v = np.eye(n) - rho * np.outer(y, s)
        inverse = v.T @ inverse @ v + rho * np.outer(s, s)
    from collections import deque

    np.testing.assert_allclose(_two_loop_direction(gradient, deque(pairs)), -inverse @ gradient, rtol=1e-12)
    np.testing.assert_array_equal(_two_loop_direction(gradient, deque()), -gradient)


@pytest.mark.parametrize("dim", [2, 10])
def test_lbfgs_with_an_accurate_line_search_solves_the_quadratic_in_about_dim_steps(dim: int) -> None:
    # With (nearly) exact line searches L-BFGS on a quadratic makes conjugate steps, like CG: <= n iterations.
    problem = IllConditionedQuadratic(1e3, dim=dim)
    result = lbfgs(problem, problem.x0, history=max(10, dim), c2=0.01)
    assert result.converged
    assert result.n_iter <= dim + 2, result.n_iter
    np.testing.assert_allclose(result.x, problem.minimizers[0], atol=1e-8)


@pytest.mark.parametrize("dim", [2, 10])
def test_lbfgs_default_on_the_quadratic_matches_scipy(dim: int) -> None:
    # With c2 = 0.9 the unit step is accepted and the finite termination is lost; SciPy behaves the same.
    problem = IllConditionedQuadratic(1e3, dim=dim)
    ours = lbfgs(problem, problem.x0)
    reference = _scipy_lbfgs(problem, problem.x0)
    assert ours.converged and reference.success
    assert ours.n_iter <= 1.5 * reference.nit, (ours.n_iter, reference.nit)
    np.testing.assert_allclose(ours.x, problem.minimizers[0], atol=1e-7)


def test_lbfgs_in_float32_stays_float32() -> None:
    problem = Rosenbrock()
    result = lbfgs(problem, problem.x0.astype(np.float32), tol=1e-2)
    assert result.x.dtype == result.trace.dtype == result.path.dtype == np.float32
    assert result.converged
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-2)


def test_lbfgs_stops_at_max_iter_and_at_a_minimizer() -> None:
    problem = Rosenbrock()
    capped = lbfgs(problem, problem.x0, max_iter=3)
    assert capped.n_iter == 3 and not capped.converged and "max_iter" in capped.message
    at_minimum = lbfgs(problem, [1.0, 1.0])
    assert at_minimum.n_iter == 0 and at_minimum.converged and at_minimum.n_fev == 1


def test_a_wrong_gradient_stops_with_no_progress_instead_of_looping() -> None:
    def parabola_with_a_wrong_gradient(x):
        return float(x @ x), np.exp(x)  # always points right: left of 0 the "descent" direction climbs

    result = lbfgs(parabola_with_a_wrong_gradient, [3.0], max_iter=500)
    assert not result.converged and "no progress" in result.message and result.n_iter < 500
    def constant_hessian(x):
        return 2.0 * np.eye(1)

    newton_result = newton(parabola_with_a_wrong_gradient, [3.0], hess=constant_hessian, max_iter=500)
    assert not newton_result.converged and "no progress" in newton_result.message
    assert newton_result.n_iter < 500


# --- Newton -------------------------------------------------------------------------------------------------


class RegularizedLogisticRegression:
    r"""mean(log(1 + exp(z_i)) - y_i z_i) + lam/2 |w|^2 with z = X w, written independently of the package."""

    def __init__(self, rng: np.random.Generator, n_samples=300, n_features=5, lam=0.01):
        self.X = rng.normal(size=(n_samples, n_features))
        true_weights = rng.normal(size=n_features) * 2.0
        self.y = (rng.uniform(size=n_samples) < expit(self.X @ true_weights)).astype(float)
        self.lam = lam

    def __call__(self, w):
        z = self.X @ w
        value = np.mean(np.logaddexp(0.0, z) - self.y * z) + 0.5 * self.lam * w @ w
        gradient = self.X.T @ (expit(z) - self.y) / len(self.y) + self.lam * w
        return value, gradient

    def hessian(self, w):
        p = expit(self.X @ w)
        return (self.X.T * (p * (1 - p))) @ self.X / len(self.y) + self.lam * np.eye(len(w))

    def hessian_lipschitz_constant(self) -> float:
        # |sigma''| <= 1 / (6 sqrt 3), so |H(w) - H(v)| <= mean(|x_i|^3) / (6 sqrt 3) |w - v|.
        return float(np.mean(np.linalg.norm(self.X, axis=1) ** 3)) / (6 * np.sqrt(3))


def test_newton_on_logistic_regression_converges_quadratically_to_scipys_answer(
    rng: np.random.Generator,
) -> None:
    problem = RegularizedLogisticRegression(rng)
    x0 = np.zeros(problem.X.shape[1])
    result = newton(problem, x0, hess=problem.hessian, tol=1e-10)
    assert result.converged and result.n_iter <= 10, result
    assert result.n_hev == result.n_iter

    reference = scipy.optimize.minimize(
        problem, x0, jac=True, hess=problem.hessian, method="trust-exact", options={"gtol": 1e-13}
    )
    assert reference.success
    np.testing.assert_allclose(result.x, reference.x, rtol=1e-8, atol=1e-10)

    # The exact minimizer, to round-off: a few more pure Newton steps from SciPy's answer.
    optimum = reference.x
    for _ in range(3):
        optimum = optimum - np.linalg.solve(problem.hessian(optimum), problem(optimum)[1])
    errors = np.linalg.norm(result.path - optimum, axis=1)
    lipschitz = problem.hessian_lipschitz_constant()
    final_steps = [k for k in range(result.n_iter) if errors[k] < 0.5 and errors[k + 1] > 1e-13]
    assert len(final_steps) >= 2
    for k in final_steps:
        # A full Newton step was taken ...
        newton_step = -np.linalg.solve(problem.hessian(result.path[k]), problem(result.path[k])[1])
        np.testing.assert_allclose(result.path[k + 1] - result.path[k], newton_step, rtol=1e-10, atol=1e-15)
        # ... and the error obeys |e_{k+1}| <= L / (2 mu_k) |e_k|^2 (Nocedal & Wright, Theorem 3.5).
        mu = np.linalg.eigvalsh(problem.hessian(result.path[k])).min()
        assert errors[k + 1] <= lipschitz / (2 * mu) * errors[k] ** 2 + 1e-14, (k, errors)
    # Quadratic, not linear: the ratio e_{k+1} / e_k itself goes to zero.
    assert errors[final_steps[-1] + 1] / errors[final_steps[-1]] < 1e-2


@pytest.mark.parametrize("dim", [2, 10])
@pytest.mark.parametrize("kappa", [10.0, 1e6])
def test_newton_solves_the_quadratic_in_one_step(dim: int, kappa: float) -> None:
    problem = IllConditionedQuadratic(kappa, dim=dim, minimizer=np.linspace(-1, 1, dim))
    # Round-off leaves a gradient of about kappa * eps * |x| at the computed minimizer.
    result = newton(problem, problem.x0, hess=problem.hessian, tol=max(1e-10, 1e-14 * kappa))
    assert result.converged and result.n_iter == 1
    np.testing.assert_allclose(result.x, problem.minimizers[0], atol=1e-12)


@pytest.mark.parametrize("start", [[0.0, 0.0], [-0.3, -0.9], [0.5, -3.0]])
def test_newton_safeguard_descends_where_the_hessian_is_indefinite(start: list[float]) -> None:
    problem = Himmelblau()
    assert np.linalg.eigvalsh(problem.hessian(start)).min() < 0  # pure Newton could climb here
    result = newton(problem, start, hess=problem.hessian)
    assert result.converged
    assert np.all(np.diff(result.trace) <= 0)
    assert np.min(np.linalg.norm(problem.minimizers - result.x, axis=1)) < 1e-8


def test_newton_moves_off_the_barrier_of_the_double_well() -> None:
    problem = NonConvex1D()
    result = newton(problem, [0.05], hess=problem.hessian)  # f'' < 0 here: Newton's step would point uphill
    assert result.converged and result.x[0] == pytest.approx(1.0, abs=1e-10)
    result = newton(problem, [-0.05], hess=problem.hessian)
    assert result.converged and result.x[0] == pytest.approx(-2.0, abs=1e-10)


def test_newton_on_rosenbrock_counts_evaluations() -> None:
    problem = Rosenbrock()
    objective = CountingObjective(problem)
    result = newton(objective, problem.x0, hess=problem.hessian)
    assert result.converged and result.n_iter < 30 and result.n_fev == objective.calls
    np.testing.assert_allclose(result.x, [1.0, 1.0], atol=1e-10)


# --- line searches ------------------------------------------------------------------------------------------


@pytest.mark.parametrize("initial_step", [1e-6, 1e-3, 1.0, 1e3])
@pytest.mark.parametrize("c2", [0.1, 0.9])
def test_strong_wolfe_line_search_returns_a_wolfe_step(
    initial_step: float, c2: float, rng: np.random.Generator
) -> None:
    problem = Rosenbrock(4)
    for _ in range(10):
        x = rng.uniform(-1.5, 1.5, size=4)
        value, gradient = problem(x)
        direction = -gradient + 0.5 * np.linalg.norm(gradient) * rng.normal(size=4) / 4
        if gradient @ direction >= 0:
            direction = -gradient
        search = strong_wolfe_line_search(
            problem, x, value, gradient, direction, initial_step=initial_step, c2=c2
        )
        assert search.success, search.message
        np.testing.assert_allclose(search.x, x + search.step * direction, rtol=1e-15)
        assert search.fun == problem.value(search.x)
        assert search.fun <= value + C1 * search.step * (gradient @ direction)
        assert abs(problem.gradient(search.x) @ direction) <= c2 * abs(gradient @ direction)


def test_strong_wolfe_line_search_backs_off_where_the_function_is_infinite() -> None:
    def walled_parabola(x):
        if abs(x[0]) > 2.0:
            return np.inf, np.full(1, np.nan)
        return float(x[0] ** 2), 2.0 * x

    x = np.array([1.5])
    value, gradient = walled_parabola(x)
    left = np.array([-1.0])
    search = strong_wolfe_line_search(walled_parabola, x, value, gradient, left, initial_step=100.0)
    assert search.success and abs(search.x[0]) <= 2.0 and search.fun < value


def test_backtracking_halves_until_armijo() -> None:
    problem = Rosenbrock()
    value, gradient = problem(problem.x0)
    search = backtracking_line_search(problem, problem.x0, value, gradient, -gradient)
    assert search.success
    # The accepted step satisfies Armijo, and twice the step (the previous trial) does not.
    slope = gradient @ -gradient
    assert search.fun <= value + C1 * search.step * slope
    assert problem.value(problem.x0 - 2 * search.step * gradient) > value + C1 * 2 * search.step * slope
    assert np.log2(search.step) == int(np.log2(search.step)) and search.n_fev == 1 - int(np.log2(search.step))


# --- validation ---------------------------------------------------------------------------------------------


@pytest.mark.parametrize("method", ["lbfgs", "newton"])
@pytest.mark.parametrize(
    ("kwargs", "match"),
    [
        ({"x0": [[1.0, 2.0]]}, "x0"),
        ({"x0": []}, "x0"),
        ({"x0": [np.nan, 1.0]}, "x0"),
        ({"x0": ["a", "b"]}, "x0"),
        ({"max_iter": 0}, "max_iter"),
        ({"max_iter": 2.5}, "max_iter"),
        ({"tol": 0.0}, "tol"),
        ({"tol": -1e-8}, "tol"),
        ({"tol": np.nan}, "tol"),
    ],
)
def test_bad_arguments_raise(method: str, kwargs: dict, match: str) -> None:
    problem = Rosenbrock()
    arguments = {"x0": problem.x0, **kwargs}
    if method == "newton":
        arguments["hess"] = problem.hessian
    with pytest.raises(ValueError, match=match):
        {"lbfgs": lbfgs, "newton": newton}[method](problem, **arguments)


@pytest.mark.parametrize(
    ("kwargs", "match"),
    [({"history": 0}, "history"), ({"history": True}, "history"), ({"c1": 0.0}, "c1"), ({"c2": 1e-5}, "c2")],
)
def test_bad_lbfgs_arguments_raise(kwargs: dict, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lbfgs(Rosenbrock(), [0.0, 0.0], **kwargs)


@pytest.mark.parametrize(
    ("fun", "match"),
    [
        (lambda x: (np.inf, x), r"fun\(x0\) must be finite"),
        (lambda x: (np.nan, x), r"fun\(x0\) must be finite"),
        (lambda x: (float(x @ x), np.zeros(3)), "fun must return a gradient of shape"),
        (lambda x: (x, x), "fun must return a real scalar"),
        (lambda x: float(x @ x), "fun must return a pair"),
        (lambda x: (0.0, np.full_like(x, np.nan)), "gradient"),
        ("not callable", "fun must be callable"),
    ],
)
def test_bad_objectives_raise(fun, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        lbfgs(fun, [1.0, 2.0])
    with pytest.raises(ValueError, match=match):
        newton(fun, [1.0, 2.0], hess=lambda x: np.eye(2))


@pytest.mark.parametrize(
    ("hess", "match"),
    [
        (lambda x: np.eye(3), r"hess must return a matrix of shape \(2, 2\)"),
        (lambda x: np.full((2, 2), np.nan), "hess returned a matrix with NaN"),
        (None, "hess must be callable"),
    ],
)
def test_bad_hessians_raise(hess, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        newton(Rosenbrock(), [0.0, 0.0], hess=hess)


def test_line_search_rejects_an_ascent_direction() -> None:
    problem = Rosenbrock()
    value, gradient = problem(problem.x0)
    for search in (strong_wolfe_line_search, backtracking_line_search):
        with pytest.raises(ValueError, match="direction must be a descent direction"):
            search(problem, problem.x0, value, gradient, gradient)
        with pytest.raises(ValueError, match="direction must have the shape of x"):
            search(problem, problem.x0, value, gradient, np.ones(3))
        with pytest.raises(ValueError, match="value"):
            search(problem, problem.x0, np.nan, gradient, -gradient)
    with pytest.raises(ValueError, match="c2"):
        strong_wolfe_line_search(problem, problem.x0, value, gradient, -gradient, c1=0.5, c2=0.4)
    with pytest.raises(ValueError, match="shrink"):
        backtracking_line_search(problem, problem.x0, value, gradient, -gradient, shrink=1.0)
