"""Tests of lossopt_companion.models: gradients against central differences and torch, initialisation, bad input."""

from __future__ import annotations

from functools import partial

import numpy as np
import pytest
from helpers import relative_error

from lossopt_companion import losses
from lossopt_companion.models import (
    MLP,
    DenseNetwork,
    LinearRegression,
    LogisticRegression,
    SoftmaxRegression,
    resolve_loss,
)

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _targets(kind: str, rng: np.random.Generator, n: int, n_outputs: int) -> np.ndarray:
    if kind == "values":
        return rng.normal(size=(n, n_outputs)) if n_outputs > 1 else rng.normal(size=n)
    if kind == "binary":
        return rng.integers(0, 2, size=n).astype(np.float64)
    if kind == "signed":
        return rng.choice([-1.0, 1.0], size=n)
    if kind == "labels":
        return rng.integers(0, n_outputs, size=n)
    if kind == "probabilities":
        weights = rng.uniform(size=(n, n_outputs))
        return weights / weights.sum(axis=1, keepdims=True)
    if kind == "onehot":
        return np.eye(n_outputs)[rng.integers(0, n_outputs, size=n)]
    raise AssertionError(kind)


# model factory, loss, target kind
CASES = [
    (lambda: LinearRegression(3), "mse", "values"),
    (lambda: LinearRegression(3, 2), "mse", "values"),
    (lambda: LinearRegression(3, 2), "mae", "values"),
    (lambda: LinearRegression(3), "huber", "values"),
    (lambda: LogisticRegression(4), "binary_cross_entropy_with_logits", "binary"),
    (lambda: LogisticRegression(4), "hinge", "signed"),
    (lambda: SoftmaxRegression(4, 3), "cross_entropy", "labels"),
    (lambda: SoftmaxRegression(4, 3), "cross_entropy", "probabilities"),
    (lambda: SoftmaxRegression(4, 3), "multiclass_hinge", "labels"),
    (lambda: MLP([4, 6, 5, 3]), "cross_entropy", "labels"),
    (lambda: MLP([4, 6, 5, 3]), "mse", "onehot"),
    (lambda: MLP([4, 7, 1]), "binary_cross_entropy_with_logits", "binary"),
    (lambda: MLP([3, 8, 2], task="regression"), "huber", "values"),
    (lambda: MLP([3, 8, 2], task="regression"), "mse", "values"),
]
CASE_IDS = [
    "linear-mse", "linear2-mse", "linear2-mae", "linear-huber", "logistic-bce", "logistic-hinge",
    "softmax-ce-labels", "softmax-ce-probs", "softmax-multihinge", "mlp-ce", "mlp-mse-onehot", "mlp-binary-bce",
    "mlp-regression-huber", "mlp-regression-mse",
]


def _case_data(make_model, kind, seed=0, n=9):
    rng = np.random.default_rng(seed)
    model = make_model()
    for param in model.params:  # larger than the default init, so the ReLUs and losses see varied inputs
        param[...] = rng.normal(scale=0.8, size=param.shape)
    X = rng.normal(size=(n, model.n_features))
    return model, X, _targets(kind, rng, n, model.n_outputs)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(("make_model", "loss", "kind"), CASES, ids=CASE_IDS)
def test_gradients_match_central_differences(make_model, loss, kind, reduction) -> None:
    model, X, y = _case_data(make_model, kind)
    value, grads = model.loss_and_grad(X, y, loss, reduction=reduction)
    assert value == pytest.approx(model.compute_loss(X, y, loss, reduction=reduction), rel=1e-12)
    step = 1e-6
    for param, grad in zip(model.params, grads):
        numeric = np.empty_like(param)
        for index in np.ndindex(param.shape):
            saved = param[index]
            param[index] = saved + step
            upper = model.compute_loss(X, y, loss, reduction=reduction)
            param[index] = saved - step
            lower = model.compute_loss(X, y, loss, reduction=reduction)
            param[index] = saved
            numeric[index] = (upper - lower) / (2 * step)
        assert grad.shape == param.shape and grad.dtype == np.float64
        assert relative_error(grad, numeric) < 1e-6


def _torch_network(model: DenseNetwork) -> torch.nn.Sequential:
    """The same network written by hand in torch, weights copied from the companion model."""
    layers = []
    for index, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        if index > 0:
            layers.append(torch.nn.ReLU())
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
    return torch.nn.Sequential(*layers)


def _torch_loss(loss: str, kind: str, outputs, y: np.ndarray, reduction: str):
    target = torch.from_numpy(np.asarray(y))
    if outputs.shape[1] == 1 and target.ndim == 1:
        target = target.reshape(-1, 1)
    if loss == "mse":
        return F.mse_loss(outputs, target, reduction=reduction)
    if loss == "mae":
        return F.l1_loss(outputs, target, reduction=reduction)
    if loss == "huber":
        return F.huber_loss(outputs, target, reduction=reduction)
    if loss == "binary_cross_entropy_with_logits":
        return F.binary_cross_entropy_with_logits(outputs, target, reduction=reduction)
    if loss == "hinge":  # Keras's hinge, mean of max(0, 1 - y f)
        per_sample = torch.clamp(1 - target * outputs, min=0)
        return per_sample.mean() if reduction == "mean" else per_sample.sum()
    if loss == "cross_entropy":
        return F.cross_entropy(outputs, target, reduction=reduction)
    if loss == "multiclass_hinge":
        return F.multi_margin_loss(outputs, target, reduction=reduction)
    raise AssertionError(loss)


@pytest.mark.parametrize("reduction", ["mean", "sum"])
@pytest.mark.parametrize(("make_model", "loss", "kind"), CASES, ids=CASE_IDS)
def test_loss_and_gradients_equal_torch(make_model, loss, kind, reduction) -> None:
    model, X, y = _case_data(make_model, kind, seed=1, n=16)
    value, grads = model.loss_and_grad(X, y, loss, reduction=reduction)
    network = _torch_network(model)
    outputs = network(torch.from_numpy(X))
    np.testing.assert_allclose(model.forward(X), outputs.detach().numpy(), rtol=1e-12, atol=1e-14)
    torch_loss = _torch_loss(loss, kind, outputs, y, reduction)
    torch_loss.backward()
    assert value == pytest.approx(torch_loss.item(), rel=1e-9)
    for grad, param in zip(grads, network.parameters()):
        assert relative_error(grad, param.grad.numpy()) < 1e-9


def test_loss_given_as_a_pair_of_functions() -> None:
    model, X, y = _case_data(lambda: LinearRegression(3), "values")
    pair = (partial(losses.huber, delta=0.3), partial(losses.huber_grad, delta=0.3))
    value, grads = model.loss_and_grad(X, y, pair)
    network = _torch_network(model)
    torch_loss = F.huber_loss(network(torch.from_numpy(X)), torch.from_numpy(y).reshape(-1, 1), delta=0.3)
    torch_loss.backward()
    assert value == pytest.approx(torch_loss.item(), rel=1e-12)
    for grad, param in zip(grads, network.parameters()):
        assert relative_error(grad, param.grad.numpy()) < 1e-12
    assert resolve_loss(pair) is pair
    assert resolve_loss("cross_entropy") == (losses.cross_entropy, losses.cross_entropy_grad)


@pytest.mark.parametrize(
    "make_model",
    [lambda dtype: MLP([5, 8, 3], dtype=dtype), lambda dtype: LogisticRegression(5, dtype=dtype)],
    ids=["mlp", "logistic"],
)
def test_float32_model_computes_in_float32(make_model) -> None:
    rng = np.random.default_rng(2)
    model32, model64 = make_model(np.float32), make_model(np.float64)
    for p32, p64 in zip(model32.params, model64.params):
        assert p32.dtype == np.float32
        np.testing.assert_array_equal(p32, p64.astype(np.float32))  # one seed, one init, rounded
        p64[...] = p32
    X = rng.normal(size=(12, 5))
    loss = "cross_entropy" if model64.n_outputs > 1 else "binary_cross_entropy_with_logits"
    y = rng.integers(0, model64.n_outputs, size=12) if model64.n_outputs > 1 else rng.integers(0, 2, 12) * 1.0
    value32, grads32 = model32.loss_and_grad(X, y, loss)
    value64, grads64 = model64.loss_and_grad(X, y, loss)
    assert model32.forward(X).dtype == np.float32
    assert value32 == pytest.approx(value64, rel=1e-5)
    for g32, g64 in zip(grads32, grads64):
        assert g32.dtype == np.float32 and relative_error(g32, g64) < 1e-5


def test_initialisation_matches_torch_linear() -> None:
    stats = pytest.importorskip("scipy.stats")
    sizes = [400, 300, 60]
    model = MLP(sizes, seed=3)
    torch.manual_seed(0)
    reference = [torch.nn.Linear(a, b, dtype=torch.float64) for a, b in zip(sizes[:-1], sizes[1:])]
    for layer, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        fan_in = sizes[layer]
        bound = 1 / np.sqrt(fan_in)
        torch_weight = reference[layer].weight.detach().numpy()
        torch_bias = reference[layer].bias.detach().numpy()
        assert weight.shape == torch_weight.shape and bias.shape == torch_bias.shape
        for ours, theirs in ((weight, torch_weight), (bias, torch_bias)):
            assert np.abs(ours).max() <= bound and np.abs(theirs).max() <= bound
            assert np.abs(ours).max() > 0.95 * bound
            # the same distribution as torch's, and uniform on [-bound, bound]
            assert stats.ks_2samp(ours.ravel(), theirs.ravel()).pvalue > 0.001
            assert stats.kstest(ours.ravel(), stats.uniform(-bound, 2 * bound).cdf).pvalue > 0.001
        assert abs(weight.var() - bound**2 / 3) < 0.05 * bound**2 / 3


def test_initialisation_is_seeded() -> None:
    first, again, other = MLP([6, 5, 2], seed=4), MLP([6, 5, 2], seed=4), MLP([6, 5, 2], seed=5)
    for a, b, c in zip(first.params, again.params, other.params):
        np.testing.assert_array_equal(a, b)
        assert not np.array_equal(a, c)
    generator_model = MLP([6, 5, 2], seed=np.random.default_rng(4))
    np.testing.assert_array_equal(generator_model.params[0], first.params[0])


def test_params_are_ordered_like_torch_parameters() -> None:
    model = MLP([64, 128, 10])
    network = torch.nn.Sequential(torch.nn.Linear(64, 128), torch.nn.ReLU(), torch.nn.Linear(128, 10))
    assert [p.shape for p in model.params] == [tuple(p.shape) for p in network.parameters()]
    assert model.weights[1] is model.params[2] and model.biases[0] is model.params[1]
    assert (model.n_features, model.n_outputs, model.layer_sizes) == (64, 10, (64, 128, 10))
    assert repr(model) == "MLP(layer_sizes=(64, 128, 10), dtype=float64)"


def test_predictions() -> None:
    rng = np.random.default_rng(5)
    X = rng.normal(size=(20, 4))
    regression = LinearRegression(4)
    np.testing.assert_array_equal(regression.predict(X), regression.forward(X)[:, 0])
    assert LinearRegression(4, 3).predict(X).shape == (20, 3)
    logistic = LogisticRegression(4, seed=1)
    probabilities = logistic.predict_proba(X)
    expected = torch.sigmoid(torch.from_numpy(logistic.forward(X)[:, 0])).numpy()
    np.testing.assert_allclose(probabilities, expected, rtol=1e-14)
    np.testing.assert_array_equal(logistic.predict(X), (probabilities > 0.5).astype(np.int64))
    softmax = SoftmaxRegression(4, 5, seed=2)
    expected = torch.softmax(torch.from_numpy(softmax.forward(X)), dim=1).numpy()
    np.testing.assert_allclose(softmax.predict_proba(X), expected, rtol=1e-13)
    np.testing.assert_array_equal(softmax.predict(X), expected.argmax(axis=1))
    mlp = MLP([4, 6, 3], seed=3)
    np.testing.assert_allclose(mlp.predict_proba(X).sum(axis=1), 1.0, rtol=1e-14)
    assert MLP([4, 6, 1]).predict_proba(X).shape == (20,)
    with pytest.raises(ValueError, match="predict_proba needs a classifier"):
        MLP([4, 6, 2], task="regression").predict_proba(X)


def test_probabilities_are_finite_for_huge_logits() -> None:
    logistic = LogisticRegression(1)
    logistic.params[0][...] = 1.0
    logistic.params[1][...] = 0.0
    np.testing.assert_array_equal(logistic.predict_proba([[-1e4], [1e4]]), [0.0, 1.0])
    softmax = SoftmaxRegression(1, 2)
    softmax.params[0][...] = [[1e4], [-1e4]]
    np.testing.assert_array_equal(softmax.predict_proba([[1.0]]), [[1.0, 0.0]])


def test_buffers_are_reused_only_where_asked() -> None:
    model, X, y = _case_data(lambda: MLP([4, 6, 5, 3]), "labels")
    _, first = model.loss_and_grad(X, y, "cross_entropy")
    kept = [g.copy() for g in first]
    _, second = model.loss_and_grad(X[:5], y[:5], "cross_entropy")
    for a, b in zip(first, kept):  # a later call does not overwrite returned gradients
        np.testing.assert_array_equal(a, b)
    out = [np.zeros_like(p) for p in model.params]
    _, written = model.loss_and_grad(X, y, "cross_entropy", out=out)
    assert all(a is b for a, b in zip(written, out))
    for a, b in zip(out, kept):
        np.testing.assert_array_equal(a, b)
    checked_X, checked_y = model.check_data(X, y)
    _, unchecked = model.loss_and_grad(checked_X, checked_y, "cross_entropy", check_input=False)
    for a, b in zip(unchecked, kept):
        np.testing.assert_array_equal(a, b)
    outputs = model.forward(X)
    model.forward(X * 2)
    np.testing.assert_array_equal(outputs, model.forward(X))  # forward returns a new array


def test_targets_of_single_output_models_may_be_one_dimensional() -> None:
    model, X, y = _case_data(lambda: LinearRegression(3), "values")
    column = y[:, None]
    np.testing.assert_array_equal(model.loss_and_grad(X, y, "mse")[1][0], model.loss_and_grad(X, column, "mse")[1][0])
    assert model.check_data(X, y)[1].shape == (9, 1)
    labels = np.array([0.0, 1.0, 2.0, 1.0])
    assert SoftmaxRegression(3, 3).check_data(np.zeros((4, 3)), labels)[1].dtype == np.int64


def test_bad_input_names_the_argument() -> None:
    model = MLP([4, 5, 3])
    X, labels = np.zeros((6, 4)), np.array([0, 1, 2, 0, 1, 2])
    with pytest.raises(ValueError, match=r"X must have shape \(n_samples, 4\)"):
        model.forward(np.zeros((6, 5)))
    with pytest.raises(ValueError, match="X must have shape"):
        model.forward(np.zeros(4))
    with pytest.raises(ValueError, match="X must be finite"):
        model.forward(np.full((2, 4), np.nan))
    with pytest.raises(ValueError, match="X must be an array of real numbers"):
        model.forward([["a"] * 4])
    with pytest.raises(ValueError, match="y must have one target per row of X"):
        model.loss_and_grad(X, labels[:5], "cross_entropy")
    with pytest.raises(ValueError, match="y must hold labels from 0 to 2"):
        model.loss_and_grad(X, labels + 1, "cross_entropy")
    with pytest.raises(ValueError, match="y must hold integer class labels"):
        model.loss_and_grad(X, labels + 0.5, "cross_entropy")
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples, 3\)"):
        model.loss_and_grad(X, np.zeros((6, 2)), "mse")
    with pytest.raises(ValueError, match=r"y must have shape \(n_samples,\) or \(n_samples, 1\)"):
        LinearRegression(4).loss_and_grad(X, np.zeros((6, 2)), "mse")
    with pytest.raises(ValueError, match="y must be finite"):
        LinearRegression(4).loss_and_grad(X, np.full(6, np.inf), "mse")
    with pytest.raises(ValueError, match="loss must be one of"):
        model.loss_and_grad(X, labels, "cross_entropie")
    with pytest.raises(ValueError, match="loss must be the name"):
        model.loss_and_grad(X, labels, (losses.mse,))
    with pytest.raises(ValueError, match="reduction must be one of"):
        model.loss_and_grad(X, labels, "cross_entropy", reduction="none")
    with pytest.raises(ValueError, match=r"out\[1\] must be an array of shape \(5,\)"):
        wrong = [np.zeros((5, 4)), np.zeros(4), np.zeros((3, 5)), np.zeros(3)]
        model.loss_and_grad(X, labels, "cross_entropy", out=wrong)
    with pytest.raises(ValueError, match="out must hold 4 arrays"):
        model.loss_and_grad(X, labels, "cross_entropy", out=[np.zeros((5, 4))])


@pytest.mark.parametrize(
    ("build", "message"),
    [
        (lambda: MLP([4]), "layer_sizes must hold at least two"),
        (lambda: MLP([4, 0, 2]), "layer_sizes"),
        (lambda: MLP([4, 2.5, 2]), "layer_sizes"),
        (lambda: MLP("abc"), "layer_sizes"),
        (lambda: MLP([4, 2], task="ranking"), "task must be one of"),
        (lambda: MLP([4, 2], dtype=np.int64), "dtype must be float32 or float64"),
        (lambda: SoftmaxRegression(4, 1), "n_classes must be at least 2"),
        (lambda: LinearRegression(0), "n_features must be a positive integer"),
        (lambda: LinearRegression(3, n_outputs=1.5), "n_outputs"),
        (lambda: LogisticRegression(-2), "n_features"),
        (lambda: SoftmaxRegression(3, 2.0), "n_classes"),
    ],
)
def test_bad_construction(build, message) -> None:
    with pytest.raises(ValueError, match=message):
        build()
