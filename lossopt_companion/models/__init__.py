r"""Models written with NumPy and trained by hand-written backpropagation.

Each model is a stack of fully connected layers (:class:`DenseNetwork`) whose parameters live in ``model.params``,
a list of NumPy arrays ``[W_1, b_1, W_2, b_2, ...]`` in the order of ``torch.nn.Module.parameters()``, with weights
of shape (out, in) as ``torch.nn.Linear`` stores them and the same initialisation. The optimizers of
``lossopt_companion.optim`` update that list in place. Every model has

- ``forward(X)``: the raw outputs (predictions or logits), shape (n_samples, n_outputs);
- ``predict(X)``: values for regression, class labels for classifiers (and ``predict_proba`` for classifiers);
- ``loss_and_grad(X, y, loss)``: the loss (by name from ``lossopt_companion.losses`` or as a pair
  ``(loss_fn, loss_grad_fn)``) and the list of its gradients, one per parameter.

The training loop is ``lossopt_companion.training.fit``.
"""

from __future__ import annotations

from ._base import DenseNetwork
from ._checks import resolve_loss
from .linear import LinearRegression, LogisticRegression, SoftmaxRegression
from .mlp import MLP

__all__ = [
    "DenseNetwork",
    "LinearRegression",
    "LogisticRegression",
    "SoftmaxRegression",
    "MLP",
    "resolve_loss",
]
