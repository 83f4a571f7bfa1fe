"""L1/L2 penalties against torch autograd, Keras regularizers and central differences; L2 versus weight decay in the
optimizers; EarlyStopping against ``keras.callbacks.EarlyStopping`` on the same sequences of values."""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from lossopt_companion import optim
from lossopt_companion.regularization import (
    EarlyStopping,
    l1_penalty,
    l1_penalty_grad,
    l2_penalty,
    l2_penalty_grad,
    soft_threshold,
)


def some_params(rng: np.random.Generator, dtype: type = np.float64) -> list[np.ndarray]:
    params = [rng.normal(size=(4, 3)), rng.normal(size=5), rng.normal(size=(2, 2, 2))]
    params[1][2] = 0.0  # an exact zero: the L1 subgradient there is 0
    return [p.astype(dtype) for p in params]


# -- penalties ----------------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("penalty", "gradient", "torch_penalty"),
    [
        (l1_penalty, l1_penalty_grad, lambda ps, s: s * sum(p.abs().sum() for p in ps)),
        (l2_penalty, l2_penalty_grad, lambda ps, s: s / 2 * sum((p * p).sum() for p in ps)),
    ],
    ids=["L1", "L2"],
)
def test_penalties_match_torch_autograd(penalty, gradient, torch_penalty, rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    params = some_params(rng)
    tensors = [torch.tensor(p, requires_grad=True) for p in params]
    value = torch_penalty(tensors, 0.3)
    value.backward()
    assert float(penalty(params, 0.3)) == pytest.approx(value.item(), rel=1e-12)
    for ours, tensor in zip(gradient(params, 0.3), tensors):
        np.testing.assert_allclose(ours, tensor.grad.numpy(), rtol=1e-12, atol=0)
    assert gradient(params, 0.3)[1][2] == 0.0


def test_penalties_match_keras_regularizers(rng: np.random.Generator) -> None:
    """``keras.regularizers.L1(l1=λ)`` is our L1 with strength λ; ``keras.regularizers.L2(l2=c)`` is our L2 with
    strength 2c (Keras has no one-half). Float32, relative 2e-5."""
    keras = pytest.importorskip("keras")
    params = some_params(rng, np.float32)
    keras_l1 = sum(float(keras.regularizers.L1(l1=0.3)(keras.ops.convert_to_tensor(p))) for p in params)
    keras_l2 = sum(float(keras.regularizers.L2(l2=0.15)(keras.ops.convert_to_tensor(p))) for p in params)
    assert float(l1_penalty(params, 0.3)) == pytest.approx(keras_l1, rel=2e-5)
    assert float(l2_penalty(params, 0.3)) == pytest.approx(keras_l2, rel=2e-5)


@pytest.mark.parametrize(("penalty", "gradient"), [(l1_penalty, l1_penalty_grad), (l2_penalty, l2_penalty_grad)])
def test_gradients_match_central_differences(penalty, gradient, rng: np.random.Generator) -> None:
    params = [rng.normal(size=(3, 2)), rng.normal(size=4)]  # no zeros: |w| is differentiable everywhere here
    analytic = gradient(params, 0.7)
    h = 1e-6
    for array, grad in zip(params, analytic):
        for index in np.ndindex(array.shape):
            saved = array[index]
            array[index] = saved + h
            up = float(penalty(params, 0.7))
            array[index] = saved - h
            down = float(penalty(params, 0.7))
            array[index] = saved
            assert grad[index] == pytest.approx((up - down) / (2 * h), rel=1e-7, abs=1e-9)


def test_shapes_types_and_dtypes(rng: np.random.Generator) -> None:
    single = rng.normal(size=(3, 2)).astype(np.float32)
    assert l2_penalty(single, 1.0).dtype == np.float32 and l1_penalty(single, 1.0).dtype == np.float32
    assert isinstance(l2_penalty_grad(single, 1.0), np.ndarray) and l2_penalty_grad(single, 1.0).dtype == np.float32
    assert l1_penalty_grad(single, 1.0).dtype == np.float32
    mixed = [single, rng.normal(size=3)]
    assert l2_penalty(mixed, 1.0).dtype == np.float64
    grads = l1_penalty_grad(mixed, 1.0)
    assert isinstance(grads, list) and [g.shape for g in grads] == [(3, 2), (3,)]
    assert float(l1_penalty([1.0, -2.0], 1.0)) == 3.0  # a list of numbers is a list of 0-d arrays
    assert float(l2_penalty(single, 0.0)) == 0.0


@pytest.mark.parametrize("function", [l1_penalty, l1_penalty_grad, l2_penalty, l2_penalty_grad])
def test_bad_inputs_raise(function) -> None:
    with pytest.raises(ValueError, match="strength"):
        function(np.ones(3), -0.1)
    with pytest.raises(ValueError, match="strength"):
        function(np.ones(3), float("nan"))
    with pytest.raises(ValueError, match="params"):
        function([], 0.1)
    with pytest.raises(ValueError, match=r"params\[1\]"):
        function([np.ones(2), np.array(["a", "b"])], 0.1)


def test_soft_threshold_matches_torch_softshrink_and_is_the_l1_prox(rng: np.random.Generator) -> None:
    torch = pytest.importorskip("torch")
    params = some_params(rng)
    shrunk = soft_threshold(params, 0.3)
    for v, w in zip(params, shrunk):
        np.testing.assert_array_equal(w, torch.nn.functional.softshrink(torch.from_numpy(v), lambd=0.3).numpy())
    # The prox: w minimizes 0.3 |w| + (w - v)^2 / 2 elementwise, so no point of a fine grid does better.
    v = params[0].ravel()
    grid = np.linspace(-4, 4, 80_001)[:, None]
    objective = lambda w: 0.3 * np.abs(w) + 0.5 * (w - v) ** 2  # noqa: E731
    assert np.all(objective(shrunk[0].ravel()) <= objective(grid).min(axis=0) + 1e-12)
    assert np.all((shrunk[0] == 0) == (np.abs(params[0]) <= 0.3))  # exact zeros, and only there
    assert all(np.shares_memory(v, w) is False for v, w in zip(params, shrunk))  # new arrays
    single = soft_threshold(np.array([0.5, -0.05], dtype=np.float32), 0.1)
    assert single.dtype == np.float32 and np.array_equal(single, np.array([0.4, 0.0], dtype=np.float32))
    with pytest.raises(ValueError, match="threshold"):
        soft_threshold(np.ones(2), -1.0)
    with pytest.raises(ValueError, match="params"):
        soft_threshold([], 0.1)


@pytest.mark.parametrize(
    ("make", "coupled"),
    [
        (lambda p, wd: optim.SGD(p, lr=0.05, momentum=0.9, weight_decay=wd), True),
        (lambda p, wd: optim.Adam(p, lr=0.01, weight_decay=wd), True),
        (lambda p, wd: optim.RMSprop(p, lr=0.01, weight_decay=wd), True),
        (lambda p, wd: optim.Adagrad(p, lr=0.1, weight_decay=wd), True),
        (lambda p, wd: optim.AdamW(p, lr=0.01, weight_decay=wd), False),
    ],
    ids=["SGD", "Adam", "RMSprop", "Adagrad", "AdamW"],
)
def test_weight_decay_is_the_l2_penalty_except_in_adamw(make, coupled: bool, rng: np.random.Generator) -> None:
    """``weight_decay=λ`` in SGD/Adam/RMSprop/Adagrad is the same run as adding ``l2_penalty_grad(params, λ)`` to the
    gradient (identical bits); in AdamW (decoupled) it is not."""
    wd = 0.1
    decayed = [rng.normal(size=(3, 2)), rng.normal(size=4)]
    penalized = [p.copy() for p in decayed]
    target = [np.ones((3, 2)), -np.ones(4)]
    with_decay = make(decayed, wd)
    without = make(penalized, 0.0) if coupled else optim.Adam(penalized, lr=0.01)
    for _ in range(50):
        with_decay.step([p - t for p, t in zip(decayed, target)])
        data_grads = [p - t for p, t in zip(penalized, target)]
        without.step([g + r for g, r in zip(data_grads, l2_penalty_grad(penalized, wd))])
    for a, b in zip(decayed, penalized):
        if coupled:
            np.testing.assert_array_equal(a, b)
        else:
            assert np.max(np.abs(a - b)) > 1e-4


# -- early stopping -----------------------------------------------------------------------------------------------


def run_ours(values: list[float], **kwargs) -> tuple[EarlyStopping, np.ndarray, int]:
    model = SimpleNamespace(params=[np.zeros(2), np.zeros((1, 3))])
    stopper = EarlyStopping(**kwargs)
    stopper.on_train_begin(model)
    epochs_run = 0
    for epoch, value in enumerate(values):
        for p in model.params:
            p[...] = epoch  # the weights of epoch e are all e
        epochs_run += 1
        if stopper.on_epoch_end(epoch, {"val_loss": value, "loss": 0.0}, model):
            break
    stopper.on_train_end(model)
    return stopper, model.params[1], epochs_run


def test_early_stopping_basic_semantics() -> None:
    values = [1.0, 0.8, 0.85, 0.79, 0.9, 0.95, 0.99, 0.7]
    stopper, weights, epochs_run = run_ours(values, patience=3)
    # 0.79 at epoch 3 is the last improvement; epochs 4, 5, 6 do not improve -> stop at the end of epoch 6.
    assert (stopper.best, stopper.best_epoch, stopper.stopped_epoch, epochs_run) == (0.79, 3, 6, 7)
    np.testing.assert_array_equal(weights, np.full((1, 3), 3.0))  # restored in place to epoch 3's weights
    stopper, _, _ = run_ours(values, patience=3, min_delta=0.05)
    assert stopper.best_epoch == 1 and stopper.stopped_epoch == 4  # 0.79 is not 0.05 better than 0.8
    stopper, weights, epochs_run = run_ours(values, patience=10)
    assert stopper.stopped_epoch is None and epochs_run == len(values) and stopper.best_epoch == 7
    np.testing.assert_array_equal(weights, np.full((1, 3), 7.0))
    stopper, weights, _ = run_ours(values, patience=1, restore_best_weights=False)
    np.testing.assert_array_equal(weights, np.full((1, 3), 2.0))  # left as the last epoch's
    stopper, _, _ = run_ours([0.1, 0.2, 0.3, 0.25], patience=1, mode="max")
    assert stopper.best == 0.3 and stopper.stopped_epoch == 3
    stopper, _, _ = run_ours([1.0, float("nan"), float("nan")], patience=2)
    assert stopper.best == 1.0 and stopper.stopped_epoch == 2


def test_early_stopping_can_be_reused_and_validates() -> None:
    stopper = EarlyStopping(patience=1)
    model = SimpleNamespace(params=[np.zeros(2)])
    for _ in range(2):
        stopper.on_train_begin(model)
        assert stopper.best is None and stopper.wait == 0
        assert not stopper.on_epoch_end(0, {"val_loss": 1.0}, model)
        assert stopper.on_epoch_end(1, {"val_loss": 2.0}, model)
    with pytest.raises(ValueError, match="monitors 'val_loss' but the logs of epoch 0 hold only \\['loss'\\]"):
        stopper.on_train_begin(model)
        stopper.on_epoch_end(0, {"loss": 1.0}, model)
    for kwargs, match in [
        ({"patience": -1}, "patience"),
        ({"patience": 1.5}, "patience"),
        ({"min_delta": -0.1}, "min_delta"),
        ({"mode": "auto"}, "mode"),
        ({"monitor": ""}, "monitor"),
    ]:
        with pytest.raises(ValueError, match=match):
            EarlyStopping(**kwargs)
    assert "patience=1" in repr(stopper)


class FakeKerasModel:
    """What ``keras.callbacks.EarlyStopping`` touches on a model: weights and the stop flag."""

    def __init__(self) -> None:
        self.weights = [np.zeros(2), np.zeros((1, 3))]
        self.stop_training = False

    def get_weights(self) -> list[np.ndarray]:
        return [w.copy() for w in self.weights]

    def set_weights(self, weights: list[np.ndarray]) -> None:
        self.weights = [np.array(w) for w in weights]


def run_keras(values: list[float], patience: int, min_delta: float, mode: str):
    keras = pytest.importorskip("keras")
    model = FakeKerasModel()
    callback = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=patience, min_delta=min_delta, mode=mode, restore_best_weights=True
    )
    callback.set_model(model)
    callback.on_train_begin()
    for epoch, value in enumerate(values):
        for w in model.weights:
            w[...] = epoch
        callback.on_epoch_end(epoch, {"val_loss": value})
        if model.stop_training:
            break
    callback.on_train_end()
    return callback, model.weights[1]


@pytest.mark.parametrize("mode", ["min", "max"])
@pytest.mark.parametrize("min_delta", [0.0, 0.125, 0.25])
@pytest.mark.parametrize("patience", [0, 2, 5])
@pytest.mark.parametrize("seed", [1, 3])
def test_early_stopping_agrees_with_keras(seed: int, patience: int, min_delta: float, mode: str) -> None:
    """The same values give the same best value, best epoch, stopping epoch (Keras writes 0 for "did not stop", we
    write None) and restored weights. The values are random walks drifting towards improvement in steps of
    -4/8 to 2/8 (plateaus, ties, and changes equal to min_delta), exact in float32 as Keras compares in float32;
    with these seeds they stop anywhere between epoch 1 and 33 depending on patience and min_delta."""
    rng = np.random.default_rng(seed)
    steps = rng.integers(-4, 3, size=60) / 8.0
    values = list(10.0 + np.cumsum(steps if mode == "min" else -steps))
    keras_callback, keras_weights = run_keras(values, patience, min_delta, mode)
    ours, our_weights, _ = run_ours(values, patience=patience, min_delta=min_delta, mode=mode)
    assert ours.best == float(keras_callback.best)
    assert ours.best_epoch == keras_callback.best_epoch
    assert (ours.stopped_epoch or 0) == keras_callback.stopped_epoch
    np.testing.assert_array_equal(our_weights, keras_weights)
