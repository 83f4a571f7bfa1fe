r"""Regularization: L1 and L2 penalties with their gradients, and early stopping.

A penalty is added to the data loss, :math:`J(w) = L(w) + R(w)`, and its gradient to the data gradient before the
optimizer step. This module fixes the conventions

.. math::

    R_1(w) = \lambda \sum_i |w_i|, \qquad R_2(w) = \frac{\lambda}{2} \sum_i w_i^2,

so that :math:`\nabla R_2(w) = \lambda w`: the L2 strength is exactly torch's ``weight_decay``
(``torch.optim.SGD(..., weight_decay=λ)`` adds :math:`\lambda w` to the gradient), while Keras's
``keras.regularizers.L2(l2)`` is :math:`l_2 \sum_i w_i^2`, i.e. ``l2 = λ / 2``. Keras's ``keras.regularizers.L1(l1)``
is :math:`R_1` with ``l1 = λ``.

**L2 penalty versus decoupled weight decay.** For plain gradient descent the two are the same thing: the step on
:math:`L + R_2` is

.. math::

    w \leftarrow w - \gamma (\nabla L(w) + \lambda w) = (1 - \gamma\lambda) w - \gamma \nabla L(w),

a shrinking of the weights by the factor :math:`1 - \gamma\lambda` followed by the usual step. For an adaptive
method they differ. Adam with an L2 penalty feeds :math:`\lambda w` through its moments, so the decay of weight
:math:`w_i` is divided by :math:`\sqrt{\hat v_i}`: weights with large gradients are hardly regularized, those with
small gradients strongly. *Decoupled* weight decay (Loshchilov and Hutter, 2019; ``AdamW`` here and in torch, the
``weight_decay`` argument of every Keras optimizer) shrinks each weight by :math:`1 - \gamma\lambda` outside the
adaptive update, :math:`w \leftarrow (1 - \gamma\lambda) w - \gamma\, \hat m / (\sqrt{\hat v} + \epsilon)`, so every
weight decays at the same rate; this usually generalizes better and makes the best :math:`\lambda` less dependent
on :math:`\gamma`. With momentum SGD they also differ, more mildly: the L2 term enters the momentum buffer.

**Early stopping** is regularization by the number of epochs: ``EarlyStopping`` watches a validation metric, stops
when it has not improved for ``patience`` epochs, and puts back the weights of the best epoch.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Union

import numpy as np
from numpy.typing import ArrayLike, NDArray

from ._validation import as_float_array, check_int, check_positive, result_dtype

Params = Union[ArrayLike, Sequence[ArrayLike]]


def _as_arrays(params: Params) -> tuple[list[NDArray[np.floating]], bool]:
    """Return the parameters as a list of float arrays, and whether a single array was given."""
    if isinstance(params, np.ndarray) or np.isscalar(params):
        return [as_float_array(params, "params")], True
    if not isinstance(params, Sequence) or isinstance(params, (str, bytes)) or len(params) == 0:
        raise ValueError(f"params must be an array or a non-empty list of arrays, got {type(params).__name__}")
    return [as_float_array(p, f"params[{i}]") for i, p in enumerate(params)], False


def l1_penalty(params: Params, strength: float) -> np.floating:
    r"""The L1 penalty :math:`R_1(w) = \lambda \sum_i |w_i|`, summed over every array.

    Equals ``keras.regularizers.L1(l1=λ)`` applied to each array and summed, and
    ``λ * sum(p.abs().sum() for p in params)`` in torch.

    Parameters
    ----------
    params : array_like or list of array_like
        One array or a list of arrays (such as ``model.params``).
    strength : float
        The coefficient :math:`\lambda`, non-negative.

    Returns
    -------
    numpy.floating
        The penalty, float32 if every array is float32, float64 otherwise.

    Raises
    ------
    ValueError
        If ``strength`` is negative or not finite, or ``params`` is not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.regularization import l1_penalty
    >>> float(l1_penalty([np.array([1.0, -2.0]), np.array([[0.5]])], strength=0.25))
    0.875
    """
    arrays, _ = _as_arrays(params)
    strength = check_positive(strength, "strength", allow_zero=True)
    dtype = result_dtype(*arrays)
    return dtype.type(strength * sum(np.abs(w).sum(dtype=dtype) for w in arrays))


def l1_penalty_grad(params: Params, strength: float) -> NDArray[np.floating] | list[NDArray[np.floating]]:
    r"""The gradient of the L1 penalty, :math:`\lambda\,\mathrm{sign}(w)`, taking the subgradient 0 at :math:`w_i = 0`.

    :math:`|w|` has no derivative at 0; any value in :math:`[-\lambda, \lambda]` is a subgradient, and 0 is the one
    that torch's and TensorFlow's automatic differentiation of ``abs`` return (``sign(0) = 0``), so a weight that is
    exactly 0 stays there under the penalty alone.

    Parameters
    ----------
    params : array_like or list of array_like
        One array or a list of arrays.
    strength : float
        The coefficient :math:`\lambda`, non-negative.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        An array for an array, a list for a list, each of the shape and dtype of its parameter.

    Raises
    ------
    ValueError
        If ``strength`` is negative or not finite, or ``params`` is not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.regularization import l1_penalty_grad
    >>> l1_penalty_grad(np.array([1.5, 0.0, -2.0]), strength=0.1)
    array([ 0.1,  0. , -0.1])
    """
    arrays, single = _as_arrays(params)
    strength = check_positive(strength, "strength", allow_zero=True)
    grads = [np.sign(w) * w.dtype.type(strength) for w in arrays]
    return grads[0] if single else grads


def soft_threshold(params: Params, threshold: float) -> NDArray[np.floating] | list[NDArray[np.floating]]:
    r"""Soft-thresholding :math:`\operatorname{sign}(v)\max(|v| - \tau, 0)`, the proximal operator of the L1 penalty.

    :math:`\operatorname{prox}_{\tau\|\cdot\|_1}(v) = \arg\min_w \bigl(\tau\|w\|_1 + \tfrac12\|w - v\|^2\bigr)`
    solves coordinate by coordinate: every :math:`v_i` within :math:`\tau` of 0 becomes exactly 0, the others
    move :math:`\tau` towards 0. A gradient step on the smooth part of a loss followed by this operator with
    :math:`\tau = \eta\lambda` is the proximal gradient method (ISTA) for :math:`L(w) + \lambda\|w\|_1`, which,
    unlike a step along :func:`l1_penalty_grad`, gives weights that are exactly 0. Equals
    ``torch.nn.functional.softshrink(v, lambd=threshold)``.

    Parameters
    ----------
    params : array_like or list of array_like
        One array or a list of arrays, :math:`v`.
    threshold : float
        :math:`\tau \ge 0`.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        New arrays (the inputs are not changed): an array for an array, a list for a list.

    Raises
    ------
    ValueError
        If ``threshold`` is negative or not finite, or ``params`` is not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.regularization import soft_threshold
    >>> soft_threshold(np.array([1.5, 0.05, -2.0]), threshold=0.1)
    array([ 1.4,  0. , -1.9])
    """
    arrays, single = _as_arrays(params)
    threshold = check_positive(threshold, "threshold", allow_zero=True)
    shrunk = [np.sign(w) * np.maximum(np.abs(w) - w.dtype.type(threshold), 0) for w in arrays]
    return shrunk[0] if single else shrunk


def l2_penalty(params: Params, strength: float) -> np.floating:
    r"""The L2 penalty :math:`R_2(w) = \frac{\lambda}{2} \sum_i w_i^2`, summed over every array.

    Its gradient :math:`\lambda w` is what torch's ``weight_decay=λ`` adds to the gradient; Keras's
    ``keras.regularizers.L2(l2)`` has no one-half, so it equals this penalty with ``l2 = λ / 2``.

    Parameters
    ----------
    params : array_like or list of array_like
        One array or a list of arrays (such as ``model.params``).
    strength : float
        The coefficient :math:`\lambda`, non-negative.

    Returns
    -------
    numpy.floating
        The penalty, float32 if every array is float32, float64 otherwise.

    Raises
    ------
    ValueError
        If ``strength`` is negative or not finite, or ``params`` is not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.regularization import l2_penalty
    >>> float(l2_penalty([np.array([1.0, -2.0]), np.array([[2.0]])], strength=0.5))
    2.25
    """
    arrays, _ = _as_arrays(params)
    strength = check_positive(strength, "strength", allow_zero=True)
    dtype = result_dtype(*arrays)
    # vdot sums the squares without a temporary array the size of w.
    return dtype.type(strength / 2 * sum(np.vdot(w, w) for w in arrays))


def l2_penalty_grad(params: Params, strength: float) -> NDArray[np.floating] | list[NDArray[np.floating]]:
    r"""The gradient of the L2 penalty, :math:`\nabla R_2(w) = \lambda w`.

    Adding it to the data gradient before an optimizer step is exactly torch's ``weight_decay=λ`` (the L2 kind,
    not ``AdamW``'s decoupled decay; see the module docstring).

    Parameters
    ----------
    params : array_like or list of array_like
        One array or a list of arrays.
    strength : float
        The coefficient :math:`\lambda`, non-negative.

    Returns
    -------
    numpy.ndarray or list of numpy.ndarray
        An array for an array, a list for a list, each of the shape and dtype of its parameter.

    Raises
    ------
    ValueError
        If ``strength`` is negative or not finite, or ``params`` is not numeric.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.regularization import l2_penalty_grad
    >>> l2_penalty_grad(np.array([1.5, 0.0, -2.0]), strength=0.1)
    array([ 0.15,  0.  , -0.2 ])
    """
    arrays, single = _as_arrays(params)
    strength = check_positive(strength, "strength", allow_zero=True)
    grads = [w * w.dtype.type(strength) for w in arrays]
    return grads[0] if single else grads


class EarlyStopping:
    r"""Stop training when a monitored metric has stopped improving, and restore the best weights (a callback).

    After each epoch the value :math:`x_e` of ``logs[monitor]`` is compared with the best so far, :math:`b`. In
    ``"min"`` mode it is an improvement when :math:`x_e + \delta < b` (``"max"``: :math:`x_e - \delta > b`), with
    :math:`\delta` = ``min_delta``; the first epoch always is. An improvement records :math:`b = x_e`, the epoch, and
    a copy of the weights, and resets the count of epochs without improvement; training stops at the end of the
    epoch where that count reaches ``patience``. A NaN value never improves.

    These are the semantics of ``keras.callbacks.EarlyStopping`` (with ``baseline=None``, ``start_from_epoch=0``),
    which the tests check on the same sequences of values, with two differences of defaults: ``patience=5`` here
    (0 in Keras) and ``restore_best_weights=True`` (False in Keras). As in Keras, the best weights are restored at
    the end of training whether or not it stopped early.

    The callback protocol (used by ``lossopt_companion.training.fit``): ``on_train_begin(model)``,
    ``on_epoch_end(epoch, logs, model) -> bool`` (True to stop), ``on_train_end(model)``; ``model.params`` is the
    list of weight arrays, restored in place.

    Parameters
    ----------
    monitor : str, optional
        The key of ``logs`` to watch. Default ``"val_loss"``.
    patience : int, optional
        The number of epochs without improvement after which training stops; 0 stops at the first one.
        Default ``5``.
    min_delta : float, optional
        The smallest change that counts as an improvement, non-negative. Default ``0.0``.
    mode : str, optional
        "min" if the metric should decrease (losses), "max" if it should increase (accuracies). Default ``"min"``.
    restore_best_weights : bool, optional
        Copy the weights of the best epoch back into ``model.params`` when training ends. Default ``True``.

    Attributes
    ----------
    best : float or None
        The best value seen (None before the first epoch).
    best_epoch : int or None
        The epoch of ``best``.
    stopped_epoch : int or None
        The epoch at whose end training was stopped, None if it was not.
    wait : int
        The number of epochs since the last improvement.

    Raises
    ------
    ValueError
        If ``patience`` is not a non-negative integer, ``min_delta`` is negative, ``mode`` is not "min" or "max",
        ``monitor`` is not a non-empty string, or (at an epoch's end) ``logs`` has no ``monitor`` key.

    Examples
    --------
    >>> import numpy as np
    >>> from types import SimpleNamespace
    >>> from lossopt_companion.regularization import EarlyStopping
    >>> model = SimpleNamespace(params=[np.zeros(2)])
    >>> stopper = EarlyStopping(patience=2)
    >>> stopper.on_train_begin(model)
    >>> for epoch, val_loss in enumerate([0.9, 0.5, 0.6, 0.7, 0.4]):
    ...     model.params[0][:] = epoch                  # training changes the weights
    ...     if stopper.on_epoch_end(epoch, {"val_loss": val_loss}, model):
    ...         break
    >>> stopper.on_train_end(model)
    >>> stopper.best, stopper.best_epoch, stopper.stopped_epoch, model.params[0]
    (0.5, 1, 3, array([1., 1.]))
    """

    def __init__(
        self,
        monitor: str = "val_loss",
        patience: int = 5,
        min_delta: float = 0.0,
        mode: str = "min",
        restore_best_weights: bool = True,
    ) -> None:
        if not isinstance(monitor, str) or not monitor:
            raise ValueError(f"monitor must be a non-empty string such as 'val_loss', got {monitor!r}")
        check_int(patience, "patience", minimum=0)
        if mode not in ("min", "max"):
            raise ValueError(f"mode must be 'min' or 'max', got {mode!r}")
        self.monitor = monitor
        self.patience = int(patience)
        self.min_delta = check_positive(min_delta, "min_delta", allow_zero=True)
        self.mode = mode
        self.restore_best_weights = bool(restore_best_weights)
        self._reset()

    def _reset(self) -> None:
        self.best: float | None = None
        self.best_epoch: int | None = None
        self.stopped_epoch: int | None = None
        self.wait = 0
        self._best_weights: list[NDArray[Any]] | None = None

    def _is_improvement(self, value: float) -> bool:
        if self.best is None:
            return True
        # Written as Keras writes it (value shifted by min_delta), so that ties round the same way.
        if self.mode == "min":
            return value + self.min_delta < self.best
        return value - self.min_delta > self.best

    def on_train_begin(self, model: Any) -> None:
        """Forget any previous run (the callback can be reused) and allocate the copy of the best weights.

        Parameters
        ----------
        model : object
            The model being trained; its ``params`` are the weights.
        """
        self._reset()
        if self.restore_best_weights:
            self._best_weights = [np.array(p, copy=True) for p in model.params]

    def on_epoch_end(self, epoch: int, logs: Mapping[str, float], model: Any) -> bool:
        """Record the epoch's value; return True when training should stop.

        Parameters
        ----------
        epoch : int
            The epoch just finished, counted from 0.
        logs : dict
            The epoch's metrics, including ``monitor``.
        model : object
            The model being trained.

        Returns
        -------
        bool
            True if ``patience`` epochs have passed without improvement.

        Raises
        ------
        ValueError
            If ``logs`` has no ``monitor`` key.
        """
        if self.monitor not in logs:
            raise ValueError(
                f"EarlyStopping monitors {self.monitor!r} but the logs of epoch {epoch} hold only {sorted(logs)}; "
                "pass validation data to fit or monitor another key (e.g. monitor='loss')"
            )
        value = float(logs[self.monitor])
        if self._is_improvement(value):
            self.best, self.best_epoch, self.wait = value, epoch, 0
            if self._best_weights is not None:
                for saved, param in zip(self._best_weights, model.params):
                    np.copyto(saved, param)
            return False
        self.wait += 1
        if self.wait >= self.patience:
            self.stopped_epoch = epoch
            return True
        return False

    def on_train_end(self, model: Any) -> None:
        """Copy the best epoch's weights back into ``model.params`` (in place) if ``restore_best_weights``.

        Parameters
        ----------
        model : object
            The model being trained.
        """
        if self._best_weights is not None and self.best_epoch is not None:
            for param, saved in zip(model.params, self._best_weights):
                param[...] = saved

    def __repr__(self) -> str:
        return (
            f"EarlyStopping(monitor={self.monitor!r}, patience={self.patience}, min_delta={self.min_delta}, "
            f"mode={self.mode!r}, restore_best_weights={self.restore_best_weights})"
        )
