"""Tests of lossopt_companion.frameworks: the torch and Keras networks compute what the companion model computes."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from lossopt_companion.frameworks import keras_mlp, torch_mlp
from lossopt_companion.models import MLP, LinearRegression, LogisticRegression, SoftmaxRegression

MODELS = {
    "mlp": lambda dtype: MLP([6, 9, 7, 4], seed=1, dtype=dtype),
    "linear": lambda dtype: LinearRegression(6, 2, seed=2, dtype=dtype),
    "logistic": lambda dtype: LogisticRegression(6, seed=3, dtype=dtype),
    "softmax": lambda dtype: SoftmaxRegression(6, 3, seed=4, dtype=dtype),
}


def _inputs(dtype) -> np.ndarray:
    return np.random.default_rng(0).normal(scale=2.0, size=(25, 6)).astype(dtype)


def test_importing_the_bridges_loads_no_framework() -> None:
    code = (
        "import sys, lossopt_companion.frameworks; "
        "print(sorted(m for m in ('torch', 'tensorflow', 'keras') if m in sys.modules))"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert result.stdout.strip() == "[]"


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("name", sorted(MODELS))
def test_torch_network_equals_the_companion_model(name: str, dtype) -> None:
    torch = pytest.importorskip("torch")
    model = MODELS[name](dtype)
    state = torch.get_rng_state()
    network = torch_mlp(model)
    assert torch.equal(torch.get_rng_state(), state)  # building it draws no random numbers
    X = _inputs(dtype)
    with torch.no_grad():
        outputs = network(torch.from_numpy(X)).numpy()
    assert outputs.dtype == dtype
    expected = model.forward(X)
    tolerance = 1e-12 if dtype == np.float64 else 2e-6
    assert np.max(np.abs(outputs - expected)) <= tolerance * np.max(np.abs(expected))
    parameters = list(network.parameters())
    assert len(parameters) == len(model.params)
    for ours, theirs in zip(model.params, parameters):
        np.testing.assert_array_equal(theirs.detach().numpy(), ours)
    model.params[0][...] += 1.0  # copies, not shared memory
    assert not np.array_equal(parameters[0].detach().numpy(), model.params[0])


def test_torch_network_structure() -> None:
    torch = pytest.importorskip("torch")
    network = torch_mlp(MLP([6, 9, 7, 4]))
    assert [type(layer) for layer in network] == [
        torch.nn.Linear, torch.nn.ReLU, torch.nn.Linear, torch.nn.ReLU, torch.nn.Linear
    ]
    assert all(p.requires_grad for p in network.parameters())


@pytest.mark.parametrize(("dtype", "tolerance"), [(np.float64, 1e-12), (np.float32, 2e-5)])
@pytest.mark.parametrize("name", ["mlp", "logistic"])
def test_keras_network_equals_the_companion_model(name: str, dtype, tolerance: float) -> None:
    keras = pytest.importorskip("keras")
    model = MODELS[name](dtype)
    network = keras_mlp(model)
    X = _inputs(dtype)
    outputs = keras.ops.convert_to_numpy(network(X))
    assert outputs.dtype == dtype
    expected = model.forward(X)
    assert np.max(np.abs(outputs - expected)) <= tolerance * np.max(np.abs(expected))
    dense_layers = network.layers
    assert len(dense_layers) == len(model.weights)
    for layer, weight, bias in zip(dense_layers, model.weights, model.biases):
        kernel, keras_bias = layer.get_weights()
        np.testing.assert_array_equal(kernel, weight.T)
        np.testing.assert_array_equal(keras_bias, bias)
    activations = [layer.get_config()["activation"] for layer in dense_layers]
    assert activations == ["relu"] * (len(dense_layers) - 1) + ["linear"]


def test_bridges_reject_other_objects() -> None:
    pytest.importorskip("torch")
    with pytest.raises(ValueError, match="model must be a lossopt_companion.models model"):
        torch_mlp([np.zeros((2, 2))])
