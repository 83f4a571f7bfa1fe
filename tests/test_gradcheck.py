"""gradcheck: central differences are exact on quadratics, agree with every loss's gradient, catch wrong ones."""

from __future__ import annotations

import numpy as np
import pytest

from lossopt_companion import gradcheck, losses


def test_central_differences_are_exact_on_quadratics_up_to_round_off(rng: np.random.Generator) -> None:
    # f(x) = x^T A x / 2 + b^T x: the third derivative is 0, so the truncation error vanishes.
    matrix = rng.normal(size=(6, 6))
    matrix = matrix @ matrix.T
    offset = rng.normal(size=6)
    x = rng.normal(size=6)

    def quadratic(z: np.ndarray) -> float:
        return 0.5 * z @ matrix @ z + offset @ z

    for step in (1e-3, 1e-1, 1.0):  # even large steps: exact whatever h
        estimate = gradcheck.numerical_gradient(quadratic, x, step=step)
        np.testing.assert_allclose(estimate, matrix @ x + offset, rtol=0, atol=1e-9 / step)
    check = gradcheck.check_gradient(quadratic, lambda z: matrix @ z + offset, x, step=1e-2)
    assert check.passed and check.max_rel_error < 1e-10


def test_shape_is_kept_and_the_point_is_not_modified() -> None:
    x = np.arange(6.0).reshape(2, 3)
    before = x.copy()
    estimate = gradcheck.numerical_gradient(lambda z: np.sum(z**3), x)
    assert estimate.shape == (2, 3)
    np.testing.assert_allclose(estimate, 3 * before**2, rtol=1e-8, atol=1e-8)
    assert np.array_equal(x, before)
    assert gradcheck.numerical_gradient(lambda z: float(z) ** 2, np.float64(3.0)).shape == ()


def test_a_function_that_modifies_its_argument_cannot_spoil_the_estimate() -> None:
    def destructive(z: np.ndarray) -> float:
        value = float(np.sum(z**2))
        z[...] = 0.0
        return value

    np.testing.assert_allclose(gradcheck.numerical_gradient(destructive, np.array([1.0, 2.0])), [2.0, 4.0])


def _logits(rng: np.random.Generator, shape: tuple[int, ...]) -> np.ndarray:
    return rng.normal(scale=2.0, size=shape)


@pytest.mark.parametrize(
    "name",
    ["mse", "huber", "binary_cross_entropy", "binary_cross_entropy_with_logits", "cross_entropy", "kl_divergence"],
)
@pytest.mark.parametrize("reduction", ["mean", "sum"])
def test_agrees_with_the_gradients_of_the_losses(name: str, reduction: str, rng: np.random.Generator) -> None:
    if name == "cross_entropy":
        y_true, y_pred = rng.integers(0, 4, size=5), _logits(rng, (5, 4))
    elif name == "kl_divergence":
        y_true, y_pred = (rng.dirichlet(np.ones(4), size=5) for _ in range(2))
    elif name == "binary_cross_entropy":
        y_true, y_pred = rng.integers(0, 2, size=7).astype(float), rng.uniform(0.05, 0.95, size=7)
    elif name == "binary_cross_entropy_with_logits":
        y_true, y_pred = rng.integers(0, 2, size=7).astype(float), _logits(rng, (7,))
    else:  # residuals inside and outside Huber's |r| <= 1, away from the switch at |r| = 1
        y_true = rng.normal(size=(3, 4))
        sizes = np.concatenate([rng.uniform(0.1, 0.8, size=6), rng.uniform(1.2, 3.0, size=6)]).reshape(3, 4)
        y_pred = y_true + rng.choice([-1.0, 1.0], size=(3, 4)) * sizes
    loss, grad = getattr(losses, name), getattr(losses, f"{name}_grad")
    check = gradcheck.check_gradient(
        lambda z: loss(y_true, z, reduction=reduction), lambda z: grad(y_true, z, reduction=reduction), y_pred
    )
    assert check.passed, check
    assert check.max_rel_error < 1e-7
    assert bool(check) is True


def test_label_smoothing_gradient_agrees() -> None:
    logits = np.array([[2.0, -1.0, 0.5], [0.0, 3.0, -2.0]])
    labels = np.array([0, 2])
    check = gradcheck.check_gradient(
        lambda z: losses.cross_entropy(labels, z, label_smoothing=0.1),
        lambda z: losses.cross_entropy_grad(labels, z, label_smoothing=0.1),
        logits,
    )
    assert check.passed, check


def test_a_wrong_gradient_is_detected() -> None:
    y = np.array([1.0, 0.0, 1.0])
    z = np.array([0.3, -0.7, 1.5])

    def loss(logits: np.ndarray) -> float:
        return losses.binary_cross_entropy_with_logits(y, logits)

    right = losses.binary_cross_entropy_with_logits_grad(y, z)
    assert gradcheck.check_gradient(loss, right, z).passed  # an array works as well as a function
    for wrong in (-right, right * len(y), right + 1e-5, np.where(np.arange(3) == 1, 0.0, right)):
        check = gradcheck.check_gradient(loss, wrong, z)
        assert not check.passed and not check
        assert check.max_abs_error > 0.9e-5
    # The relative error |a - n| / max(|a|, |n|) is 2 when the signs are flipped.
    assert gradcheck.check_gradient(loss, -right, z).max_rel_error == pytest.approx(2.0)


def test_the_tolerance_rule_is_torchs() -> None:
    # |a - n| <= atol + rtol |n| with n = 2 (the derivative of x^2 at 1, exact up to ~1e-10) and a = 2 + 3e-6:
    # rtol alone passes when 2 rtol >= 3e-6, atol alone when atol >= 3e-6.
    def fun(x: np.ndarray) -> float:
        return float(x[0] ** 2)

    x = np.array([1.0])
    assert not gradcheck.check_gradient(fun, [2.0 + 3e-6], x, rtol=1e-6, atol=0.0).passed
    assert gradcheck.check_gradient(fun, [2.0 + 3e-6], x, rtol=2e-6, atol=0.0).passed
    assert gradcheck.check_gradient(fun, [2.0 + 3e-6], x, rtol=0.0, atol=4e-6).passed
    assert not gradcheck.check_gradient(fun, [2.0 + 3e-6], x, rtol=0.0, atol=2e-6).passed


def test_repr_is_readable() -> None:
    check = gradcheck.check_gradient(lambda x: float(np.sum(x**2)), lambda x: 2 * x, np.array([1.0, 2.0]))
    text = repr(check)
    assert text.startswith("GradientCheck(passed=True, max_abs_error=")
    assert "rtol=1e-06" in text and "atol=1e-08" in text and "array" not in text


def _square_sum(x: np.ndarray) -> float:
    return float(np.sum(x**2))


@pytest.mark.parametrize(
    ("x", "match"),
    [
        (np.array([1.0, 2.0], dtype=np.float32), "x must be a float64 array"),
        (np.array([1, 2]), "x must be a float64 array"),
        (np.array([1.0, np.nan]), "x must be finite"),
        (np.array([1.0, np.inf]), "x must be finite"),
        (np.array([], dtype=np.float64), "x must not be empty"),
    ],
)
def test_bad_points_raise(x: np.ndarray, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        gradcheck.numerical_gradient(_square_sum, x)
    with pytest.raises(ValueError, match=match):
        gradcheck.check_gradient(_square_sum, lambda z: 2 * z, x)


@pytest.mark.parametrize("step", [0.0, -1e-6, np.nan, np.inf, "small"])
def test_bad_steps_raise(step: object) -> None:
    with pytest.raises(ValueError, match="step must be"):
        gradcheck.numerical_gradient(_square_sum, np.array([1.0]), step=step)
    with pytest.raises(ValueError, match="step must be"):
        gradcheck.check_gradient(_square_sum, [2.0], np.array([1.0]), step=step)


def test_a_step_too_small_to_move_x_raises() -> None:
    with pytest.raises(ValueError, match="step=1e-20 is too small to change x's coordinate 0"):
        gradcheck.numerical_gradient(_square_sum, np.array([1.0]), step=1e-20)


@pytest.mark.parametrize(
    "fun",
    [lambda x: x**2, lambda x: np.array([np.sum(x)]), lambda x: "1.0", lambda x: 1j * np.sum(x), lambda x: None],
)
def test_functions_that_do_not_return_a_real_scalar_raise(fun: object) -> None:
    with pytest.raises(ValueError, match="fun must return a real scalar"):
        gradcheck.numerical_gradient(fun, np.array([1.0, 2.0]))


def test_a_function_that_is_not_finite_near_x_raises() -> None:
    with pytest.raises(ValueError, match="fun must be finite"):
        gradcheck.numerical_gradient(lambda x: float(np.sqrt(x[0])) if x[0] >= 0 else np.nan, np.array([0.0]))


@pytest.mark.parametrize("grad", [np.ones(3), lambda x: np.ones((2, 1)), [[1.0, 2.0]], np.float64(1.0)])
def test_a_gradient_of_the_wrong_shape_raises(grad: object) -> None:
    with pytest.raises(ValueError, match=r"grad must have the shape of x, \(2,\)"):
        gradcheck.check_gradient(_square_sum, grad, np.array([1.0, 2.0]))


def test_a_non_numeric_gradient_raises() -> None:
    with pytest.raises(ValueError, match="grad must be an array of real numbers"):
        gradcheck.check_gradient(_square_sum, ["a", "b"], np.array([1.0, 2.0]))


@pytest.mark.parametrize(("name", "value"), [("rtol", -1e-6), ("atol", -1.0), ("rtol", np.nan), ("atol", "x")])
def test_bad_tolerances_raise(name: str, value: object) -> None:
    with pytest.raises(ValueError, match=f"{name} must be"):
        gradcheck.check_gradient(_square_sum, [2.0, 4.0], np.array([1.0, 2.0]), **{name: value})
