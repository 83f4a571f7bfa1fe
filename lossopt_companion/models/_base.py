r"""The machinery every companion model shares: a stack of fully connected layers trained by hand-written
backpropagation.

A network with layer sizes :math:`(d_0, d_1, \dots, d_L)` holds, for each layer :math:`l = 1, \dots, L`, a weight
matrix :math:`W_l` of shape :math:`(d_l, d_{l-1})` (stored as ``torch.nn.Linear`` stores it, out by in) and a bias
:math:`b_l` of shape :math:`(d_l,)`. The models of this subpackage are all such stacks: linear, logistic and softmax
regression are one layer; :class:`~lossopt_companion.models.MLP` is several, with ReLU between them.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .._validation import as_float_array, check_finite
from ._checks import (
    _check_dtype,
    _check_gradient_buffers,
    _check_layer_sizes,
    _check_training_reduction,
    _sigmoid,
    _softmax,
    resolve_loss,
)

__all__ = ["DenseNetwork"]

class DenseNetwork:
    r"""A stack of fully connected layers with ReLU between them, trained by hand-written backpropagation.

    The base class of every companion model. With :math:`a_0 = X` (one sample per row), the forward pass is

    .. math::

        z_l = a_{l-1} W_l^\top + b_l, \qquad a_l = \max(z_l, 0) \quad (l < L), \qquad \hat y = z_L,

    exactly ``torch.nn.Sequential(Linear, ReLU, ..., Linear)``. Given the loss :math:`\ell(y, \hat y)` and its
    gradient :math:`\delta_L = \partial \ell / \partial z_L` (from ``lossopt_companion.losses``), backpropagation
    runs the chain rule from the last layer to the first:

    .. math::

        \frac{\partial \ell}{\partial W_l} = \delta_l^\top a_{l-1}, \qquad
        \frac{\partial \ell}{\partial b_l} = \sum_{n} \delta_{l, n}, \qquad
        \delta_{l-1} = (\delta_l W_l) \odot \mathbb{1}[z_{l-1} > 0],

    where the ReLU's derivative is taken as 0 at 0, as torch does. Each layer costs three matrix products.

    Parameters
    ----------
    layer_sizes : sequence of int
        :math:`(d_0, \dots, d_L)`: the number of input features, the hidden widths, the number of outputs.
    seed : int or numpy.random.Generator, default 0
        Seeds the initialisation. The weights of layer :math:`l` and then its bias are drawn from
        :math:`U(-1/\sqrt{d_{l-1}}, 1/\sqrt{d_{l-1}})`, the distribution ``torch.nn.Linear`` uses
        (``kaiming_uniform_`` with ``a = sqrt(5)``); they are drawn in float64 and rounded to ``dtype``, so float32
        and float64 models from one seed agree to float32 precision.
    dtype : float32 or float64, default float64
        The dtype of the parameters; inputs are converted to it.

    Attributes
    ----------
    params : list of numpy.ndarray
        :math:`[W_1, b_1, W_2, b_2, \dots]`, in the order of ``torch.nn.Module.parameters()``. Optimizers update
        these arrays in place.

    Raises
    ------
    ValueError
        If ``layer_sizes`` does not hold at least two positive integers or ``dtype`` is not a float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.models import DenseNetwork
    >>> network = DenseNetwork([2, 3, 1])
    >>> X, y = np.array([[1.0, -1.0], [0.5, 2.0]]), np.array([1.0, -1.0])
    >>> network.forward(X).shape
    (2, 1)
    >>> loss, grads = network.loss_and_grad(X, y, "mse")
    >>> [g.shape for g in grads]
    [(3, 2), (3,), (1, 3), (1,)]
    """

    #: "regression", "binary" (one logit) or "multiclass" (one logit per class): decides targets and predictions.
    task = "regression"

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        seed: int | np.random.Generator = 0,
        dtype: DTypeLike = np.float64,
    ):
        self.layer_sizes = _check_layer_sizes(layer_sizes)
        self.dtype = _check_dtype(dtype)
        rng = np.random.default_rng(seed)
        self.params: list[NDArray[np.floating]] = []
        for fan_in, fan_out in zip(self.layer_sizes[:-1], self.layer_sizes[1:]):
            bound = 1.0 / math.sqrt(fan_in)
            self.params.append(rng.uniform(-bound, bound, size=(fan_out, fan_in)).astype(self.dtype))
            self.params.append(rng.uniform(-bound, bound, size=fan_out).astype(self.dtype))
        # Activations and backpropagated errors of the last batch size seen, reused from one step to the next.
        self._workspace_rows = -1
        self._activations: list[NDArray[np.floating]] = []
        self._errors: list[NDArray[np.floating]] = []

    @property
    def n_features(self) -> int:
        """The number of input features :math:`d_0`."""
        return self.layer_sizes[0]

    @property
    def n_outputs(self) -> int:
        """The number of outputs :math:`d_L` (logits for classifiers)."""
        return self.layer_sizes[-1]

    @property
    def weights(self) -> list[NDArray[np.floating]]:
        """The weight matrices :math:`W_l`, each of shape (out, in): the arrays ``params[0::2]`` (not copies)."""
        return self.params[0::2]

    @property
    def biases(self) -> list[NDArray[np.floating]]:
        """The bias vectors :math:`b_l`: the arrays ``params[1::2]`` (not copies)."""
        return self.params[1::2]

    def __repr__(self) -> str:
        return f"{type(self).__name__}(layer_sizes={self.layer_sizes}, dtype={self.dtype.name})"

    # -- validation (once, at the public boundary) ------------------------------------------------------------
    def check_inputs(self, X: ArrayLike) -> NDArray[np.floating]:
        """Return ``X`` as a finite 2-D array of the model's dtype with ``n_features`` columns.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs, one sample per row.

        Returns
        -------
        numpy.ndarray
            ``X`` converted to the model's dtype (no copy when it already has it).

        Raises
        ------
        ValueError
            If ``X`` is not 2-D, has the wrong number of features, or holds NaN or infinity.
        """
        X = as_float_array(X, "X")
        if X.ndim != 2 or X.shape[1] != self.n_features:
            raise ValueError(
                f"X must have shape (n_samples, {self.n_features}) for this model, got shape {X.shape}"
            )
        check_finite(X, "X")
        return X.astype(self.dtype, copy=False)

    def check_data(self, X: ArrayLike, y: ArrayLike) -> tuple[NDArray[np.floating], NDArray[Any]]:
        """Validate inputs and targets together and return them in the form the loss receives.

        Targets of a single-output model may be given as shape (n_samples,) and are reshaped to (n_samples, 1), the
        shape of the output. Class labels of a multi-class model stay integers; every other target is converted to
        the model's dtype.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs.
        y : array_like
            The targets: values of shape (n_samples,) or (n_samples, n_outputs) for regression; labels in
            {0, 1} (or probabilities) of shape (n_samples,) for a binary classifier; integer labels of shape
            (n_samples,) or rows of class probabilities of shape (n_samples, n_classes) for a multi-class one.

        Returns
        -------
        tuple of numpy.ndarray
            ``(X, y)`` ready for ``loss_and_grad(..., check_input=False)``.

        Raises
        ------
        ValueError
            If ``X`` is malformed, ``y`` has the wrong shape or a different number of samples, or integer labels
            fall outside ``0 .. n_classes - 1``.
        """
        X = self.check_inputs(X)
        y = np.asarray(y)
        n_samples = X.shape[0]
        if y.ndim == 0 or y.shape[0] != n_samples:
            raise ValueError(
                f"y must have one target per row of X ({n_samples}), got y with shape {y.shape}"
            )
        if self.task == "multiclass" and y.ndim == 1:
            if y.dtype.kind not in "iu" and not (y.dtype.kind == "f" and np.all(np.mod(y, 1) == 0)):
                raise ValueError(f"y must hold integer class labels, got dtype {y.dtype}")
            labels = y.astype(np.int64, copy=False)
            if labels.size and (labels.min() < 0 or labels.max() >= self.n_outputs):
                raise ValueError(
                    f"y must hold labels from 0 to {self.n_outputs - 1} (n_classes={self.n_outputs}), "
                    f"got labels from {labels.min()} to {labels.max()}"
                )
            return X, labels
        targets = as_float_array(y, "y")
        if targets.ndim == 1 and self.n_outputs == 1:
            targets = targets.reshape(n_samples, 1)
        if targets.shape != (n_samples, self.n_outputs):
            expected = "(n_samples,) or " if self.n_outputs == 1 else ""
            raise ValueError(
                f"y must have shape {expected}(n_samples, {self.n_outputs}) for this model, got shape {y.shape}"
            )
        check_finite(targets, "y")
        return X, targets.astype(self.dtype, copy=False)

    # -- forward pass, loss, gradients ------------------------------------------------------------------------
    def forward(self, X: ArrayLike) -> NDArray[np.floating]:
        """Return the raw outputs :math:`z_L` (predictions for regression, logits for classifiers).

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        numpy.ndarray, shape (n_samples, n_outputs)
            A new array of the model's dtype, the same as the torch network's output.

        Raises
        ------
        ValueError
            If ``X`` is malformed (see ``check_inputs``).
        """
        activation = self.check_inputs(X)
        last = len(self.weights) - 1
        for layer, (weight, bias) in enumerate(zip(self.weights, self.biases)):
            activation = activation @ weight.T + bias
            if layer < last:
                np.maximum(activation, 0, out=activation)
        return activation

    def compute_loss(self, X: ArrayLike, y: ArrayLike, loss: Any, *, reduction: str = "mean") -> float:
        """Return the loss of the model on ``(X, y)``, without gradients.

        Parameters
        ----------
        X, y : array_like
            Inputs and targets, as for ``check_data``.
        loss : str or tuple of two callables
            A loss name of ``lossopt_companion.losses`` or a pair ``(loss_fn, loss_grad_fn)``.
        reduction : {"mean", "sum"}, default "mean"
            How the per-sample losses are combined.

        Returns
        -------
        float
            The loss.

        Raises
        ------
        ValueError
            On malformed data, an unknown loss or reduction.
        """
        loss_fn, _ = resolve_loss(loss)
        _check_training_reduction(reduction)
        X, y = self.check_data(X, y)
        return float(loss_fn(y, self.forward(X), reduction=reduction))

    def loss_and_grad(
        self,
        X: ArrayLike,
        y: ArrayLike,
        loss: Any,
        *,
        reduction: str = "mean",
        out: list[NDArray[np.floating]] | None = None,
        check_input: bool = True,
    ) -> tuple[float, list[NDArray[np.floating]]]:
        """Return the loss on ``(X, y)`` and its gradient with respect to every parameter (one forward, one
        backward pass; the equations are in the class docstring).

        Parameters
        ----------
        X, y : array_like
            Inputs and targets, as for ``check_data``.
        loss : str or tuple of two callables
            A loss name of ``lossopt_companion.losses`` or a pair ``(loss_fn, loss_grad_fn)``.
        reduction : {"mean", "sum"}, default "mean"
            How the per-sample losses are combined (``"mean"`` is torch's and Keras's default).
        out : list of numpy.ndarray, optional
            Arrays shaped like ``params`` that receive the gradients (no allocation); new arrays when omitted.
        check_input : bool, default True
            When False, ``X`` and ``y`` must already be what ``check_data`` returns: the training loop validates
            the whole data set once and then skips the checks on every mini-batch.

        Returns
        -------
        tuple
            ``(loss, grads)``: the loss as a float and the gradients in the order of ``params``.

        Raises
        ------
        ValueError
            On malformed data, an unknown loss or reduction, or ``out`` not shaped like ``params``.
        """
        loss_fn, loss_grad_fn = resolve_loss(loss)
        if check_input:
            _check_training_reduction(reduction)
            X, y = self.check_data(X, y)
            if out is not None:
                _check_gradient_buffers(out, self.params)
        grads = out if out is not None else [np.empty_like(p) for p in self.params]
        return self._forward_backward(X, y, loss_fn, loss_grad_fn, reduction, grads), grads

    def _forward_backward(
        self,
        X: NDArray[np.floating],
        y: NDArray[Any],
        loss_fn: Callable[..., Any],
        loss_grad_fn: Callable[..., Any],
        reduction: str,
        grads: list[NDArray[np.floating]],
    ) -> float:
        weights, biases = self.params[0::2], self.params[1::2]
        activations = self._workspace(X.shape[0])
        inputs = [X, *activations[:-1]]  # a_0, ..., a_{L-1}: the input of each layer
        last = len(weights) - 1
        for layer in range(last + 1):
            z = activations[layer]
            np.matmul(inputs[layer], weights[layer].T, out=z)
            z += biases[layer]
            if layer < last:
                np.maximum(z, 0, out=z)
        outputs = activations[last]
        value = float(loss_fn(y, outputs, reduction=reduction))
        error = loss_grad_fn(y, outputs, reduction=reduction)  # delta_L = d loss / d z_L
        for layer in range(last, -1, -1):
            np.matmul(error.T, inputs[layer], out=grads[2 * layer])
            np.add.reduce(error, axis=0, out=grads[2 * layer + 1])
            if layer > 0:
                previous = self._errors[layer - 1]
                np.matmul(error, weights[layer], out=previous)
                # ReLU'(z) is 1 where the activation a = max(z, 0) is positive, else 0.
                np.multiply(previous, inputs[layer] > 0, out=previous)
                error = previous
        return value

    def _workspace(self, n_rows: int) -> list[NDArray[np.floating]]:
        """Buffers for the activations of a batch of ``n_rows`` samples, kept for the next batch of that size."""
        if n_rows != self._workspace_rows:
            self._activations = [np.empty((n_rows, size), self.dtype) for size in self.layer_sizes[1:]]
            self._errors = [np.empty((n_rows, size), self.dtype) for size in self.layer_sizes[1:-1]]
            self._workspace_rows = n_rows
        return self._activations

    # -- predictions ------------------------------------------------------------------------------------------
    def predict(self, X: ArrayLike) -> NDArray[Any]:
        """Return predictions: values for regression, class labels for classifiers.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        numpy.ndarray
            Regression: the outputs, shape (n_samples,) for one output, else (n_samples, n_outputs). Binary
            classifier: labels 0/1 (``logit > 0``). Multi-class classifier: ``argmax`` of the logits. Labels are
            int64.

        Raises
        ------
        ValueError
            If ``X`` is malformed.
        """
        outputs = self.forward(X)
        if self.task == "binary":
            return (outputs[:, 0] > 0).astype(np.int64)
        if self.task == "multiclass":
            return outputs.argmax(axis=1)
        return outputs[:, 0] if self.n_outputs == 1 else outputs

    def _predict_proba(self, X: ArrayLike) -> NDArray[np.floating]:
        if self.task == "regression":
            raise ValueError(f"predict_proba needs a classifier, but this {type(self).__name__} does regression")
        outputs = self.forward(X)
        if self.task == "binary":
            return _sigmoid(outputs[:, 0])
        return _softmax(outputs)
