"""The training loop ``fit`` and the callback protocol it calls."""

from __future__ import annotations

import math
import os
import sys
import warnings
from collections.abc import Callable, Iterator, Sequence
from typing import Any, Protocol

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int
from ..models import DenseNetwork, resolve_loss
from .batches import minibatches
from .history import History
from .metrics import _resolve_metrics

__all__ = ["Callback", "fit"]


class Callback(Protocol):
    """What ``fit`` calls around training. Subclass it to inherit do-nothing versions of the methods.

    ``on_batch_end`` is optional (an object without it is still a callback): it sees every update, for recording
    per-step losses or parameter paths, as Keras's ``Callback.on_train_batch_end`` does.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.models import LinearRegression
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.training import Callback, fit
    >>> class StopBelow(Callback):
    ...     def on_epoch_end(self, epoch, logs, model):
    ...         return logs["loss"] < 1e-3
    >>> X = np.linspace(-1, 1, 20).reshape(-1, 1); y = 3 * X[:, 0] - 1
    >>> model = LinearRegression(1)
    >>> optimizer = SGD(model.params, lr=0.1)
    >>> history = fit(model, "mse", optimizer, (X, y), epochs=100, batch_size=5,
    ...               callbacks=[StopBelow()])
    >>> history.epochs, history["loss"][-1] < 1e-3 <= history["loss"][-2]
    (14, True)
    """

    def on_train_begin(self, model: Any) -> None:
        """Called once, before the first epoch."""

    def on_batch_end(self, step: int, loss: float, model: Any) -> None:
        """Called after each optimizer step: ``step`` counts updates from 1 over all epochs, ``loss`` is the mean
        loss of the batch before the update (its gradient made the step)."""

    def on_epoch_end(self, epoch: int, logs: dict[str, float], model: Any) -> bool:
        """Called after each epoch with its logs; return True to stop training."""
        return False

    def on_train_end(self, model: Any) -> None:
        """Called once, after the last epoch (also after an early stop)."""


def fit(
    model: Any,
    loss: Any,
    optimizer: Any,
    data: tuple[ArrayLike, ArrayLike],
    *,
    epochs: int,
    batch_size: int,
    schedule: Any = None,
    callbacks: Sequence[Callback] = (),
    validation_data: tuple[ArrayLike, ArrayLike] | None = None,
    metrics: Sequence[str | Callable[[ArrayLike, ArrayLike], float]] = (),
    seed: int = 0,
    progress: bool | None = None,
    shuffle: bool = True,
) -> History:
    r"""Train ``model`` by mini-batch gradient descent and return the per-epoch history.

    Each epoch visits the data in batches (reshuffled every epoch by ``numpy.random.default_rng(seed)``: the
    permutations are the successive ``rng.permutation(n_samples)``), calls ``optimizer.step(grads)`` after every
    batch, then records the logs, calls ``schedule.step()`` (torch's convention: once per epoch, after the
    epoch's updates) and the callbacks. The recorded ``"loss"`` is the sample-weighted mean of the batch losses
    during the epoch, as Keras reports it; metrics and ``"val_loss"`` are computed after the epoch with the final
    parameters. Training stops early when a callback returns True or a batch loss becomes NaN or infinite (as
    Keras's ``TerminateOnNaN``). For each mini-batch :math:`B` of an epoch, with the parameters :math:`\theta_B`
    it sees,

    .. math::

        g_B = \nabla_\theta \, \ell_B(\theta_B), \qquad \theta \leftarrow \text{optimizer.step}(g_B), \qquad
        \text{loss}_{\text{epoch}} = \frac{1}{n} \sum_B |B| \, \ell_B(\theta_B),

    where :math:`\ell_B` is the mean loss over the batch. It is the loop that ``keras.Model.fit`` runs and that a
    PyTorch tutorial writes by hand; the tests check it against such a torch loop fed the same batches.

    Parameters
    ----------
    model : DenseNetwork or any object with ``params`` and ``loss_and_grad(X, y, loss)``
        The model: a :class:`~lossopt_companion.models.DenseNetwork` (``LinearRegression``, ``MLP``, ...) or
        a model of your own (``predict(X)`` is needed for metrics). A companion model's data is validated
        once, here, and each step then runs without checks into reused gradient buffers.
    loss : str or tuple of two callables
        A loss name of ``lossopt_companion.losses`` or a pair ``(loss_fn, loss_grad_fn)``.
    optimizer : object
        An optimizer of ``lossopt_companion.optim`` built on ``model.params``.
    data : tuple
        ``(X, y)``, the training data.
    epochs : int
        The number of passes over the data.
    batch_size : int
        Samples per mini-batch.
    schedule : object, optional
        A learning-rate schedule of ``lossopt_companion.schedules`` bound to ``optimizer``.
    callbacks : sequence of Callback, default ()
        Objects following the callback protocol of this module (e.g. ``EarlyStopping``); those with an
        ``on_batch_end(step, loss, model)`` method are also called after every update.
    validation_data : tuple, optional
        ``(X_val, y_val)``; adds ``"val_loss"`` and the metrics' ``"val_"`` versions.
    metrics : sequence of str or callable, default ()
        Names from ``METRICS`` (``"accuracy"``, ``"mse"``, ``"mae"``) or functions ``metric(y_true, y_pred)`` of
        the labels and ``model.predict(X)``, recorded under their ``__name__``.
    seed : int, default 0
        Seeds the shuffling; two runs with the same seed give bit-identical histories and parameters.
    progress : bool, optional
        Show a tqdm progress bar over the epochs. By default only on a terminal, and never under pytest; without
        tqdm installed there is no bar.
    shuffle : bool, default True
        Reshuffle every epoch; False visits the data in its stored order (to show why shuffling matters).

    Returns
    -------
    History
        The per-epoch logs.

    Raises
    ------
    ValueError
        If the data, the loss, a metric, ``epochs``, ``batch_size``, a callback or the schedule is invalid, or the
        optimizer does not update ``model.params``.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.models import LinearRegression
    >>> from lossopt_companion.optim import SGD
    >>> from lossopt_companion.training import fit
    >>> X = np.linspace(-1, 1, 20).reshape(-1, 1); y = 3 * X[:, 0] - 1
    >>> model = LinearRegression(1)
    >>> optimizer = SGD(model.params, lr=0.1)
    >>> history = fit(model, "mse", optimizer, (X, y), epochs=100, batch_size=5)
    >>> history.epochs, history["loss"][-1] < 1e-10
    (100, True)
    >>> np.round([model.params[0][0, 0], model.params[1][0]], 6)
    array([ 3., -1.])
    """
    epochs = check_int(epochs, "epochs")
    batch_size = check_int(batch_size, "batch_size")
    loss_pair = resolve_loss(loss)
    metric_functions = _resolve_metrics(metrics)
    _check_hooks(optimizer, model, schedule, callbacks)
    X, y = _check_data(model, data, "data")
    validation = None if validation_data is None else _check_data(model, validation_data, "validation_data")

    if isinstance(model, DenseNetwork):
        grads = [np.empty_like(p) for p in model.params]

        def loss_and_grad(X_batch: NDArray[Any], y_batch: NDArray[Any]) -> tuple[float, list[NDArray[Any]]]:
            return model.loss_and_grad(X_batch, y_batch, loss_pair, out=grads, check_input=False)

    else:

        def loss_and_grad(X_batch: NDArray[Any], y_batch: NDArray[Any]) -> tuple[float, list[NDArray[Any]]]:
            return model.loss_and_grad(X_batch, y_batch, loss_pair)

    batch_hooks = [hook for hook in (getattr(c, "on_batch_end", None) for c in callbacks) if callable(hook)]
    step_counter = [0]

    def after_step(value: float) -> None:
        step_counter[0] += 1
        for hook in batch_hooks:
            hook(step_counter[0], value, model)

    rng = np.random.default_rng(seed)
    history = History()
    bar = _progress_bar(epochs, progress)
    for callback in callbacks:
        callback.on_train_begin(model)
    try:
        for epoch in range(epochs):
            learning_rate = getattr(optimizer, "lr", None)
            batches = minibatches(X, y, batch_size, shuffle=shuffle, rng=rng)
            logs = {"loss": _train_one_epoch(batches, loss_and_grad, optimizer, after_step if batch_hooks else None)}
            evaluated = math.isfinite(logs["loss"])  # a diverged model's metrics would be NaN anyway
            logs.update(_evaluate(model, loss_pair, metric_functions, X, y, "", evaluated, with_loss=False))
            if validation is not None:
                logs.update(
                    _evaluate(model, loss_pair, metric_functions, *validation, "val_", evaluated, with_loss=True)
                )
            if learning_rate is not None:
                logs["lr"] = float(learning_rate)
            history.append(logs)
            if schedule is not None:
                schedule.step()
            stop = not evaluated
            for callback in callbacks:
                stop = bool(callback.on_epoch_end(epoch, dict(logs), model)) or stop
            if bar is not None:
                bar.set_postfix({name: f"{value:.4g}" for name, value in logs.items()}, refresh=False)
                bar.update(1)
            if stop:
                break
    finally:
        if bar is not None:
            bar.close()
    for callback in callbacks:
        callback.on_train_end(model)
    return history


def _train_one_epoch(
    batches: Iterator[tuple[NDArray[Any], NDArray[Any]]],
    loss_and_grad: Callable[[NDArray[Any], NDArray[Any]], tuple[float, list[NDArray[Any]]]],
    optimizer: Any,
    after_step: Callable[[float], None] | None = None,
) -> float:
    """One optimizer step per batch; returns the sample-weighted mean batch loss (NaN or inf on divergence)."""
    total, n_seen = 0.0, 0
    for X_batch, y_batch in batches:
        value, grads = loss_and_grad(X_batch, y_batch)
        total += value * X_batch.shape[0]
        n_seen += X_batch.shape[0]
        if not math.isfinite(value):
            break
        optimizer.step(grads)
        if after_step is not None:
            after_step(value)
    return total / n_seen


def _evaluate(
    model: Any,
    loss_pair: tuple[Callable[..., Any], ...],
    metric_functions: dict[str, Callable[[ArrayLike, ArrayLike], float]],
    X: NDArray[Any],
    y: NDArray[Any],
    prefix: str,
    evaluated: bool,
    *,
    with_loss: bool,
) -> dict[str, float]:
    names = ([f"{prefix}loss"] if with_loss else []) + [f"{prefix}{name}" for name in metric_functions]
    if not evaluated:
        return dict.fromkeys(names, math.nan)
    logs = {}
    if with_loss:
        if isinstance(model, DenseNetwork):
            logs[f"{prefix}loss"] = float(loss_pair[0](y, model.forward(X), reduction="mean"))
        else:
            logs[f"{prefix}loss"] = float(model.loss_and_grad(X, y, loss_pair)[0])
    if metric_functions:
        predictions = model.predict(X)
        for name, metric in metric_functions.items():
            logs[f"{prefix}{name}"] = float(metric(y, predictions))
    return logs


def _check_data(model: Any, data: Any, name: str) -> tuple[NDArray[Any], NDArray[Any]]:
    if not isinstance(data, (tuple, list)) or len(data) != 2:
        raise ValueError(f"{name} must be a pair (X, y), got {type(data).__name__}")
    X, y = data
    if isinstance(model, DenseNetwork):
        try:
            return model.check_data(X, y)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from None
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0] or X.shape[0] == 0:
        raise ValueError(f"{name} must hold X and y with the same number of rows, got shapes {X.shape}, {y.shape}")
    return X, y


def _check_hooks(optimizer: Any, model: Any, schedule: Any, callbacks: Sequence[Any]) -> None:
    if not callable(getattr(optimizer, "step", None)):
        raise ValueError(f"optimizer must have a step(grads) method, got {type(optimizer).__name__}")
    optimized = getattr(optimizer, "params", None)
    if optimized is not None and (
        len(optimized) != len(model.params) or any(a is not b for a, b in zip(optimized, model.params))
    ):
        raise ValueError("optimizer must update the model's own arrays: build it as Adam(model.params, ...)")
    if schedule is not None and not callable(getattr(schedule, "step", None)):
        raise ValueError(f"schedule must have a step() method, got {type(schedule).__name__}")
    for index, callback in enumerate(callbacks):
        hooks = ("on_train_begin", "on_epoch_end", "on_train_end")
        missing = [hook for hook in hooks if not callable(getattr(callback, hook, None))]
        if missing:
            raise ValueError(
                f"callbacks[{index}] must have on_train_begin, on_epoch_end and on_train_end (subclass "
                f"lossopt_companion.training.Callback to get do-nothing defaults); it lacks {missing}"
            )


def _progress_bar(epochs: int, progress: bool | None) -> Any:
    if progress is None:
        stderr = sys.stderr
        progress = stderr is not None and stderr.isatty() and "PYTEST_CURRENT_TEST" not in os.environ
    if not progress:
        return None
    try:
        from tqdm import tqdm  # optional: the package needs NumPy only
    except ImportError:
        warnings.warn("progress=True needs tqdm (pip install tqdm); training without a progress bar", stacklevel=3)
        return None
    return tqdm(total=epochs, unit="epoch", desc="fit")
