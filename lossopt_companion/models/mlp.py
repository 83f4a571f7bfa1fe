r"""The multi-layer perceptron: fully connected layers with ReLU between them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from ._base import DenseNetwork

__all__ = ["MLP"]

TASKS = ("classification", "regression")


class MLP(DenseNetwork):
    r"""A multi-layer perceptron with ReLU hidden layers and raw outputs (logits for classification).

    For ``layer_sizes = (d_0, ..., d_L)``, with :math:`a_0 = X`,

    .. math::

        z_l = a_{l-1} W_l^\top + b_l, \qquad a_l = \mathrm{ReLU}(z_l) = \max(z_l, 0) \quad (l < L),
        \qquad \hat y = z_L,

    and backpropagation, from :math:`\delta_L = \partial \ell / \partial z_L` given by the loss's gradient,

    .. math::

        \frac{\partial \ell}{\partial W_l} = \delta_l^\top a_{l-1}, \qquad
        \frac{\partial \ell}{\partial b_l} = \sum_n \delta_{l, n}, \qquad
        \delta_{l-1} = (\delta_l W_l) \odot \mathbb{1}[a_{l-1} > 0].

    Equals ``torch.nn.Sequential(Linear(d_0, d_1), ReLU(), ..., Linear(d_{L-1}, d_L))`` with the same weights
    (``lossopt_companion.frameworks.torch_mlp`` builds it). A training step is a handful of BLAS calls into buffers
    that are reused from one mini-batch to the next.

    Parameters
    ----------
    layer_sizes : sequence of int
        :math:`(d_0, \dots, d_L)`, e.g. ``[64, 128, 10]``: 64 inputs, one hidden layer of 128, 10 outputs.
    task : {"classification", "regression"}, default "classification"
        What ``predict`` returns and which targets ``loss_and_grad`` expects. Classification with
        :math:`d_L \ge 2` outputs takes integer labels (or rows of class probabilities) and predicts the argmax;
        with one output it is binary (labels in {0, 1}, ``binary_cross_entropy_with_logits``). Regression predicts
        the outputs.
    seed : int or numpy.random.Generator, default 0
        Seeds the ``torch.nn.Linear``-style initialisation :math:`U(-1/\sqrt{d_{l-1}}, 1/\sqrt{d_{l-1}})`.
    dtype : float32 or float64, default float64
        The dtype of the parameters.

    Raises
    ------
    ValueError
        If ``layer_sizes`` does not hold at least two positive integers, ``task`` is unknown, or ``dtype`` is not
        a float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.models import MLP
    >>> model = MLP([64, 128, 10])
    >>> [p.shape for p in model.params]
    [(128, 64), (128,), (10, 128), (10,)]
    >>> X, labels = np.zeros((5, 64)), np.array([0, 1, 2, 3, 4])
    >>> model.forward(X).shape, model.predict(X).shape
    ((5, 10), (5,))
    >>> loss, grads = model.loss_and_grad(X, labels, "cross_entropy")
    >>> [g.shape for g in grads] == [p.shape for p in model.params]
    True
    """

    def __init__(
        self,
        layer_sizes: Sequence[int],
        *,
        task: str = "classification",
        seed: int | np.random.Generator = 0,
        dtype: DTypeLike = np.float64,
    ):
        if task not in TASKS:
            raise ValueError(f"task must be one of {TASKS}, got {task!r}")
        super().__init__(layer_sizes, seed=seed, dtype=dtype)
        if task == "regression":
            self.task = "regression"
        else:
            self.task = "binary" if self.n_outputs == 1 else "multiclass"

    def predict_proba(self, X: ArrayLike) -> NDArray[Any]:
        r"""Return class probabilities: :math:`\mathrm{softmax}(z_L)` of shape (n_samples, n_classes), or
        :math:`\sigma(z_L)` of shape (n_samples,) for one output.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        numpy.ndarray
            The probabilities.

        Raises
        ------
        ValueError
            If ``X`` is malformed or the network was built with ``task="regression"``.
        """
        return self._predict_proba(X)
