"""Tests of lossopt_companion.training: mini-batches, fit against a hand-written torch loop, callbacks, history."""

from __future__ import annotations

import sys

import numpy as np
import pytest
from helpers import relative_error

from lossopt_companion.models import MLP, LinearRegression, LogisticRegression
from lossopt_companion.optim import SGD, Adam
from lossopt_companion.training import METRICS, Callback, History, fit, minibatches

torch = pytest.importorskip("torch")
F = torch.nn.functional


def _classification_data(seed: int = 0, n: int = 70, n_features: int = 8, n_classes: int = 3):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, n_features))
    labels = (X @ rng.normal(size=(n_features, n_classes))).argmax(axis=1)
    return X, labels


# -- minibatches -------------------------------------------------------------------------------------------------
@pytest.mark.parametrize(
    ("n", "batch_size", "drop_last"), [(10, 3, False), (10, 3, True), (9, 3, True), (4, 10, False)]
)
def test_ordered_minibatches_equal_torch_dataloader(n: int, batch_size: int, drop_last: bool) -> None:
    X, y = np.arange(2 * n, dtype=np.float64).reshape(n, 2), np.arange(n)
    ours = list(minibatches(X, y, batch_size, shuffle=False, drop_last=drop_last))
    loader = torch.utils.data.DataLoader(
        torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(y)),
        batch_size=batch_size,
        shuffle=False,
        drop_last=drop_last,
    )
    theirs = list(loader)
    assert len(ours) == len(theirs)
    for (X_batch, y_batch), (X_torch, y_torch) in zip(ours, theirs):
        np.testing.assert_array_equal(X_batch, X_torch.numpy())
        np.testing.assert_array_equal(y_batch, y_torch.numpy())
        assert np.shares_memory(X_batch, X)  # slices, not copies


def test_shuffled_minibatches_follow_the_generator_and_reshuffle_each_call() -> None:
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    rng, reference = np.random.default_rng(9), np.random.default_rng(9)
    epochs = []
    for _ in range(3):
        order = reference.permutation(20)
        batches = list(minibatches(X, y, 6, rng=rng))
        assert [len(b) for _, b in batches] == [6, 6, 6, 2]
        seen = np.concatenate([b for _, b in batches])
        np.testing.assert_array_equal(seen, order)  # the documented permutation
        np.testing.assert_array_equal(np.concatenate([xb for xb, _ in batches]), X[order])
        epochs.append(seen)
    assert not np.array_equal(epochs[0], epochs[1])
    assert sorted(epochs[2].tolist()) == list(range(20))
    seeded = [b for _, b in minibatches(X, y, 20, rng=9)][0]
    np.testing.assert_array_equal(seeded, epochs[0])


def test_minibatches_reject_bad_input_when_called() -> None:
    X, y = np.zeros((5, 2)), np.zeros(5)
    for bad in (0, -1, 2.0, True, None):
        with pytest.raises(ValueError, match="batch_size must be a positive integer"):
            minibatches(X, y, bad)
    with pytest.raises(ValueError, match="X and y must have the same number of rows"):
        minibatches(X, np.zeros(4), 2)


# -- fit against torch -------------------------------------------------------------------------------------------
class StepDecay:
    """The schedule protocol (step() once per epoch, sets optimizer.lr), as torch.optim.lr_scheduler.StepLR."""

    def __init__(self, optimizer, step_size: int, gamma: float) -> None:
        self.optimizer, self.step_size, self.gamma, self.epoch = optimizer, step_size, gamma, 0

    def step(self) -> None:
        self.epoch += 1
        if self.epoch % self.step_size == 0:
            self.optimizer.lr = self.optimizer.lr * self.gamma


def _torch_copy(model):
    layers = []
    for index, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        if index:
            layers.append(torch.nn.ReLU())
        linear = torch.nn.Linear(weight.shape[1], weight.shape[0], dtype=torch.float64)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
    return torch.nn.Sequential(*layers)


def _torch_training_loop(network, X, y, X_val, y_val, *, epochs, batch_size, seed, lr, shuffle=True):
    """The loop of a PyTorch tutorial, fed the same batches: numpy's default_rng(seed).permutation each epoch."""
    optimizer = torch.optim.Adam(network.parameters(), lr=lr)
    scheduler = torch.optim.lr_scheduler.StepLR(optimizer, step_size=2, gamma=0.5)
    rng = np.random.default_rng(seed)
    X_t, y_t, X_val_t, y_val_t = (torch.from_numpy(a) for a in (X, y, X_val, y_val))
    history = {"loss": [], "accuracy": [], "val_loss": [], "val_accuracy": [], "lr": []}
    for _ in range(epochs):
        order = torch.from_numpy(rng.permutation(len(X)) if shuffle else np.arange(len(X)))
        history["lr"].append(optimizer.param_groups[0]["lr"])
        total = 0.0
        for start in range(0, len(X), batch_size):
            rows = order[start : start + batch_size]
            optimizer.zero_grad()
            loss = F.cross_entropy(network(X_t[rows]), y_t[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        history["loss"].append(total / len(X))
        with torch.no_grad():
            history["accuracy"].append((network(X_t).argmax(1) == y_t).double().mean().item())
            val_outputs = network(X_val_t)
            history["val_loss"].append(F.cross_entropy(val_outputs, y_val_t).item())
            history["val_accuracy"].append((val_outputs.argmax(1) == y_val_t).double().mean().item())
        scheduler.step()
    return history


@pytest.mark.parametrize("shuffle", [True, False], ids=["shuffled", "ordered"])
def test_fit_with_adam_reproduces_a_torch_training_loop(shuffle: bool) -> None:
    X, y = _classification_data(n=70)
    X_val, y_val = _classification_data(seed=1, n=30)
    model = MLP([8, 16, 3], seed=2)
    network = _torch_copy(model)
    optimizer = Adam(model.params, lr=0.01)
    history = fit(
        model, "cross_entropy", optimizer, (X, y), epochs=6, batch_size=16, seed=11,
        schedule=StepDecay(optimizer, 2, 0.5), validation_data=(X_val, y_val), metrics=("accuracy",),
        shuffle=shuffle,
    )
    expected = _torch_training_loop(network, X, y, X_val, y_val, epochs=6, batch_size=16, seed=11, lr=0.01,
                                    shuffle=shuffle)
    assert set(history.history) == set(expected)
    assert history["lr"] == [0.01, 0.01, 0.005, 0.005, 0.0025, 0.0025] == expected["lr"]
    for name in ("loss", "val_loss"):
        assert relative_error(history[name], expected[name]) < 1e-9
    assert history["accuracy"] == expected["accuracy"] and history["val_accuracy"] == expected["val_accuracy"]
    for ours, theirs in zip(model.params, network.parameters()):
        assert relative_error(ours, theirs.detach().numpy()) < 1e-9
    assert history["loss"][-1] < history["loss"][0]


def test_fit_is_deterministic_for_a_seed() -> None:
    X, y = _classification_data()
    runs = []
    for _ in range(2):
        model = MLP([8, 10, 3], seed=0)
        history = fit(model, "cross_entropy", Adam(model.params, lr=0.01), (X, y), epochs=4, batch_size=8, seed=5,
                      metrics=("accuracy",))
        runs.append((history.history, [p.copy() for p in model.params]))
    assert runs[0][0] == runs[1][0]
    for a, b in zip(runs[0][1], runs[1][1]):
        np.testing.assert_array_equal(a, b)
    model = MLP([8, 10, 3], seed=0)
    other = fit(model, "cross_entropy", Adam(model.params, lr=0.01), (X, y), epochs=4, batch_size=8, seed=6)
    assert other["loss"] != runs[0][0]["loss"]


def test_fit_converges_to_least_squares_in_float32() -> None:
    rng = np.random.default_rng(3)
    X = rng.normal(size=(64, 3)).astype(np.float32)
    y = (X @ np.array([1.0, -2.0, 0.5]) + 0.3).astype(np.float32)
    model = LinearRegression(3, dtype=np.float32)
    history = fit(model, "mse", SGD(model.params, lr=0.1), (X, y), epochs=60, batch_size=16, metrics=("mse", "mae"))
    assert model.params[0].dtype == np.float32
    np.testing.assert_allclose(model.params[0][0], [1.0, -2.0, 0.5], atol=1e-4)
    assert history["mse"][-1] < 1e-8 and history["mae"][-1] < 1e-4


def test_recorded_loss_is_the_sample_weighted_mean_of_the_batch_losses() -> None:
    X = np.arange(10.0).reshape(10, 1)
    y = np.zeros(10)
    model = LinearRegression(1)
    model.params[0][...] = 1.0
    model.params[1][...] = 0.0

    class NoStep:  # an optimizer that leaves the parameters alone
        lr = 0.0
        params = model.params

        def step(self, grads) -> None:
            pass

    history = fit(model, "mse", NoStep(), (X, y), epochs=1, batch_size=4, shuffle=False)
    assert history["loss"] == [pytest.approx(np.mean(X[:, 0] ** 2), rel=1e-15)]


# -- callbacks and history ---------------------------------------------------------------------------------------
class Recorder(Callback):
    def __init__(self, stop_after: int | None = None) -> None:
        self.calls: list[tuple] = []
        self.stop_after = stop_after

    def on_train_begin(self, model) -> None:
        self.calls.append(("begin",))

    def on_epoch_end(self, epoch, logs, model) -> bool:
        self.calls.append(("epoch", epoch, sorted(logs)))
        return self.stop_after is not None and epoch >= self.stop_after

    def on_train_end(self, model) -> None:
        self.calls.append(("end",))


def test_callbacks_are_called_in_order_and_can_stop_training() -> None:
    X, y = _classification_data()
    model = MLP([8, 6, 3])
    recorder, stopper = Recorder(), Recorder(stop_after=2)
    history = fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=10, batch_size=32,
                  callbacks=[recorder, stopper], validation_data=(X[:10], y[:10]), metrics=["accuracy"])
    keys = ["accuracy", "loss", "lr", "val_accuracy", "val_loss"]
    assert recorder.calls == [("begin",)] + [("epoch", e, keys) for e in range(3)] + [("end",)]
    assert stopper.calls == recorder.calls
    assert history.epochs == 3 and len(history["val_loss"]) == 3


def test_on_batch_end_sees_every_update_with_its_batch_loss() -> None:
    X, y = _classification_data()
    n_batches = -(-len(X) // 32)

    class StepRecorder(Callback):
        def __init__(self) -> None:
            self.steps: list[int] = []
            self.losses: list[float] = []
            self.first_weights: list[np.ndarray] = []

        def on_batch_end(self, step, loss, model) -> None:
            self.steps.append(step)
            self.losses.append(loss)
            self.first_weights.append(model.params[0].copy())

    model, recorder = MLP([8, 6, 3]), StepRecorder()
    start = model.params[0].copy()
    history = fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=3, batch_size=32, callbacks=[recorder])
    assert recorder.steps == list(range(1, 3 * n_batches + 1))
    sizes = [len(rows) for _, rows in minibatches(X, np.arange(len(X)), 32)]
    for epoch in range(3):
        losses = recorder.losses[epoch * n_batches : (epoch + 1) * n_batches]
        assert history["loss"][epoch] == pytest.approx(np.average(losses, weights=sizes), rel=1e-12)
    np.testing.assert_array_equal(recorder.first_weights[-1], model.params[0])  # recorded after the update
    assert not np.array_equal(recorder.first_weights[0], start)

    # The same run with an identical callback that has no on_batch_end: the hook is optional and changes nothing.
    class EpochsOnly:
        def on_train_begin(self, model) -> None: ...
        def on_epoch_end(self, epoch, logs, model) -> bool:
            return False
        def on_train_end(self, model) -> None: ...

    other = MLP([8, 6, 3])
    again = fit(other, "cross_entropy", Adam(other.params), (X, y), epochs=3, batch_size=32, callbacks=[EpochsOnly()])
    assert again["loss"] == history["loss"]


def test_a_callback_may_restore_parameters_in_place() -> None:
    X, y = _classification_data()
    model = MLP([8, 6, 3])
    initial = [p.copy() for p in model.params]

    class Restore(Callback):
        def on_train_end(self, model) -> None:
            for param, saved in zip(model.params, initial):
                param[...] = saved

    fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=2, batch_size=16, callbacks=[Restore()])
    for param, saved in zip(model.params, initial):
        np.testing.assert_array_equal(param, saved)


def test_early_stopping_from_regularization() -> None:
    regularization = pytest.importorskip("lossopt_companion.regularization")
    X, y = _classification_data()
    model = MLP([8, 32, 3])
    stopper = regularization.EarlyStopping(monitor="val_loss", patience=2)
    history = fit(model, "cross_entropy", Adam(model.params, lr=0.05), (X, y), epochs=200, batch_size=8,
                  callbacks=[stopper], validation_data=_classification_data(seed=4, n=20))
    best_epoch, best_value = history.best("val_loss")
    assert history.epochs == best_epoch + 3 < 200  # stopped after `patience` epochs without improvement
    assert model.compute_loss(*_classification_data(seed=4, n=20), "cross_entropy") == pytest.approx(best_value)


def test_a_schedule_from_the_package_is_stepped_once_per_epoch() -> None:
    schedules = pytest.importorskip("lossopt_companion.schedules")
    X, y = _classification_data()
    model = MLP([8, 6, 3])
    optimizer = Adam(model.params, lr=0.1)
    history = fit(model, "cross_entropy", optimizer, (X, y), epochs=5, batch_size=16,
                  schedule=schedules.ExponentialLR(optimizer, gamma=0.5))
    np.testing.assert_allclose(history["lr"], [0.1 * 0.5**k for k in range(5)], rtol=1e-15)
    assert optimizer.lr == pytest.approx(0.1 * 0.5**5)


def test_history() -> None:
    history = History()
    assert history.epochs == 0
    for loss, acc in ((0.9, 0.6), (0.4, 0.9), (0.4, 0.9), (0.7, 0.8)):
        history.append({"loss": loss, "val_accuracy": acc})
    assert history.epochs == 4 and history["loss"] == [0.9, 0.4, 0.4, 0.7] and "loss" in history
    assert history.best("loss") == (1, 0.4) and history.best("val_accuracy") == (1, 0.9)
    assert history.best("loss", mode="max") == (0, 0.9)
    with pytest.raises(KeyError, match="'val_loss' was not recorded"):
        history["val_loss"]
    with pytest.raises(ValueError, match="mode must be"):
        history.best("loss", mode="lowest")
    assert repr(history) == "History(epochs=4, keys=['loss', 'val_accuracy'])"


def test_accuracy_metric_takes_targets_in_every_training_form() -> None:
    accuracy = METRICS["accuracy"]
    assert accuracy([0, 1, 2, 1], [0, 2, 2, 1]) == 0.75
    assert accuracy(np.eye(3)[[0, 1, 2]], [0, 1, 1]) == pytest.approx(2 / 3)  # one-hot rows
    assert accuracy([[1.0], [0.0]], [1, 1]) == 0.5  # a column of 0/1 labels
    assert accuracy([-1, 1, 1, -1], [0, 1, 0, 0]) == 0.75  # hinge labels against 0/1 predictions
    with pytest.raises(ValueError, match="same number of samples"):
        accuracy([0, 1], [0, 1, 1])
    assert set(METRICS) >= {"accuracy", "mse", "mae"}
    assert METRICS["mse"]([[1.0], [2.0]], [1.0, 4.0]) == 2.0 and METRICS["mae"]([1.0, 2.0], [1.0, 4.0]) == 1.0


def test_metrics_by_function_and_binary_labels() -> None:
    rng = np.random.default_rng(0)
    X = rng.normal(size=(50, 2))
    y = (X[:, 0] - X[:, 1] > 0).astype(np.float64)
    model = LogisticRegression(2)

    def error_rate(y_true, y_pred) -> float:
        return float(np.mean(np.asarray(y_true).ravel() != y_pred))

    history = fit(model, "binary_cross_entropy_with_logits", Adam(model.params, lr=0.1), (X, y), epochs=20,
                  batch_size=10, metrics=("accuracy", error_rate))
    assert history["accuracy"][-1] > 0.9
    np.testing.assert_allclose(np.add(history["accuracy"], history["error_rate"]), 1.0)
    assert history["accuracy"][-1] == np.mean(model.predict(X) == y)


def test_fit_works_with_any_model_following_the_protocol() -> None:
    class Quadratic:
        """loss = mean over the batch of |w - x|^2: the minimiser is the mean of the data."""

        def __init__(self) -> None:
            self.params = [np.zeros(2)]

        def loss_and_grad(self, X, y, loss):
            difference = self.params[0] - X
            return float(np.mean(np.sum(difference**2, axis=1))), [2 * difference.mean(axis=0)]

    X = np.random.default_rng(1).normal(loc=[3.0, -1.0], size=(40, 2))
    model = Quadratic()
    history = fit(model, "mse", SGD(model.params, lr=0.1), (X, np.zeros(40)), epochs=300, batch_size=40,
                  validation_data=(X, np.zeros(40)))
    np.testing.assert_allclose(model.params[0], X.mean(axis=0), rtol=1e-10)
    assert history["val_loss"][-1] == pytest.approx(np.mean(np.sum((X - X.mean(axis=0)) ** 2, axis=1)))


def test_training_stops_when_the_loss_diverges() -> None:
    X = np.linspace(-10, 10, 20).reshape(-1, 1)
    model = LinearRegression(1)
    history = fit(model, "mse", SGD(model.params, lr=5.0), (X, 3 * X[:, 0]), epochs=100, batch_size=5,
                  metrics=("mse",))
    assert history.epochs < 100 and not np.isfinite(history["loss"][-1])
    assert np.isnan(history["mse"][-1]) and np.all(np.isfinite(history["loss"][:-1]))


# -- bad input and the progress bar ------------------------------------------------------------------------------
def test_fit_rejects_bad_arguments() -> None:
    X, y = _classification_data()
    model = MLP([8, 6, 3])
    optimizer = Adam(model.params)

    def run(**changes):
        arguments = dict(model=model, loss="cross_entropy", optimizer=optimizer, data=(X, y), epochs=1, batch_size=8)
        arguments.update(changes)
        return fit(arguments.pop("model"), arguments.pop("loss"), arguments.pop("optimizer"), arguments.pop("data"),
                   **arguments)

    with pytest.raises(ValueError, match="epochs must be a positive integer"):
        run(epochs=0)
    with pytest.raises(ValueError, match="batch_size must be a positive integer"):
        run(batch_size=1.5)
    with pytest.raises(ValueError, match="data must be a pair"):
        run(data=X)
    with pytest.raises(ValueError, match=r"data: X must have shape \(n_samples, 8\)"):
        run(data=(X[:, :5], y))
    with pytest.raises(ValueError, match="validation_data: y must hold labels"):
        run(validation_data=(X, y + 3))
    with pytest.raises(ValueError, match="loss must be one of"):
        run(loss="crossentropy")
    with pytest.raises(ValueError, match="metrics must hold names"):
        run(metrics=("precision",))
    with pytest.raises(ValueError, match="optimizer must update the model's own arrays"):
        run(optimizer=Adam([p.copy() for p in model.params]))
    with pytest.raises(ValueError, match="schedule must have a step"):
        run(schedule=0.5)
    with pytest.raises(ValueError, match=r"callbacks\[0\] must have on_train_begin"):
        run(callbacks=[object()])


def test_progress_bar_is_off_under_pytest_and_on_when_asked(capsys) -> None:
    pytest.importorskip("tqdm")
    X, y = _classification_data()
    model = MLP([8, 6, 3])
    fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=2, batch_size=32)
    assert capsys.readouterr().err == ""
    fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=2, batch_size=32, progress=True)
    assert "2/2" in capsys.readouterr().err


def test_fit_works_without_tqdm(monkeypatch) -> None:
    monkeypatch.setitem(sys.modules, "tqdm", None)  # makes `import tqdm` raise ImportError
    X, y = _classification_data()
    model = MLP([8, 6, 3])
    with pytest.warns(UserWarning, match="needs tqdm"):
        history = fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=2, batch_size=32, progress=True)
    assert history.epochs == 2
    assert fit(model, "cross_entropy", Adam(model.params), (X, y), epochs=1, batch_size=32).epochs == 1
