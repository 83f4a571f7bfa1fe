r"""One-layer models: linear, logistic and softmax regression (each is ``torch.nn.Linear`` followed by a loss)."""

from __future__ import annotations

from typing import Any

import numpy as np
from numpy.typing import ArrayLike, DTypeLike, NDArray

from .._validation import check_int
from ._base import DenseNetwork

__all__ = ["LinearRegression", "LogisticRegression", "SoftmaxRegression"]


class LinearRegression(DenseNetwork):
    r"""Linear regression :math:`\hat y = X W^\top + b`, trained by gradient descent on any regression loss.

    With the mean squared error over :math:`N` samples and :math:`k` outputs,

    .. math::

        \begin{aligned}
        \ell &= \frac{1}{Nk} \sum_{n, j} (\hat y_{nj} - y_{nj})^2, \qquad
            \delta = \frac{\partial \ell}{\partial \hat y} = \frac{2}{Nk} (\hat y - y), \\
        \frac{\partial \ell}{\partial W} &= \delta^\top X, \qquad
            \frac{\partial \ell}{\partial b} = \sum_n \delta_n.
        \end{aligned}

    Any other loss (``"mae"``, ``"huber"``, ...) only changes :math:`\delta`. Equals ``torch.nn.Linear(n_features,
    n_outputs)`` and ``keras.layers.Dense(n_outputs)`` (whose kernel is :math:`W^\top`).

    Parameters
    ----------
    n_features : int
        The number of input features.
    n_outputs : int, default 1
        The number of outputs. With one output, targets may be given with shape (n_samples,).
    seed : int or numpy.random.Generator, default 0
        Seeds the ``torch.nn.Linear``-style initialisation :math:`U(-1/\sqrt{d}, 1/\sqrt{d})`.
    dtype : float32 or float64, default float64
        The dtype of the parameters.

    Raises
    ------
    ValueError
        If a size is not a positive integer or ``dtype`` is not a float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.models import LinearRegression
    >>> model = LinearRegression(2)
    >>> [p.shape for p in model.params]
    [(1, 2), (1,)]
    >>> model.params[0][...] = [[2.0, -1.0]]; model.params[1][...] = 0.5
    >>> model.predict([[1.0, 1.0], [0.0, 2.0]])
    array([ 1.5, -1.5])
    >>> loss, grads = model.loss_and_grad([[1.0, 1.0]], [0.5], "mse")
    >>> loss, grads[0], grads[1]
    (1.0, array([[2., 2.]]), array([2.]))
    """

    task = "regression"

    def __init__(
        self,
        n_features: int,
        n_outputs: int = 1,
        *,
        seed: int | np.random.Generator = 0,
        dtype: DTypeLike = np.float64,
    ):
        super().__init__(
            [check_int(n_features, "n_features"), check_int(n_outputs, "n_outputs")], seed=seed, dtype=dtype
        )


class LogisticRegression(DenseNetwork):
    r"""Binary logistic regression: one logit :math:`z = X w^\top + b`, probability :math:`p = \sigma(z)`.

    Trained with ``"binary_cross_entropy_with_logits"`` on labels :math:`y \in \{0, 1\}`, the loss and the
    gradient of the logit over :math:`N` samples are

    .. math::

        \begin{aligned}
        \ell &= -\frac{1}{N} \sum_n \bigl[y_n \log \sigma(z_n) + (1 - y_n) \log(1 - \sigma(z_n))\bigr], \\
        \delta_n &= \frac{\partial \ell}{\partial z_n} = \frac{\sigma(z_n) - y_n}{N},
        \end{aligned}

    so :math:`\partial \ell / \partial w = \delta^\top X` and :math:`\partial \ell / \partial b = \sum_n \delta_n`.
    Equals ``torch.nn.Linear(n_features, 1)`` with ``torch.nn.BCEWithLogitsLoss``. The output of ``forward`` has
    shape (n_samples, 1) as torch's; labels may be given with shape (n_samples,).

    Parameters
    ----------
    n_features : int
        The number of input features.
    seed : int or numpy.random.Generator, default 0
        Seeds the ``torch.nn.Linear``-style initialisation.
    dtype : float32 or float64, default float64
        The dtype of the parameters.

    Raises
    ------
    ValueError
        If ``n_features`` is not a positive integer or ``dtype`` is not a float dtype.

    Examples
    --------
    >>> from lossopt_companion.models import LogisticRegression
    >>> model = LogisticRegression(2)
    >>> model.params[0][...] = [[1.0, -1.0]]; model.params[1][...] = 0.0
    >>> model.predict([[2.0, 0.0], [0.0, 2.0]])
    array([1, 0])
    >>> model.predict_proba([[0.0, 0.0]])
    array([0.5])
    """

    task = "binary"

    def __init__(self, n_features: int, *, seed: int | np.random.Generator = 0, dtype: DTypeLike = np.float64):
        super().__init__([check_int(n_features, "n_features"), 1], seed=seed, dtype=dtype)

    def predict_proba(self, X: ArrayLike) -> NDArray[np.floating]:
        r"""Return :math:`P(y = 1 \mid x) = \sigma(z)`, shape (n_samples,), computed without overflow.

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        numpy.ndarray, shape (n_samples,)
            The probability of the positive class.

        Raises
        ------
        ValueError
            If ``X`` is malformed.
        """
        return self._predict_proba(X)


class SoftmaxRegression(DenseNetwork):
    r"""Multinomial (softmax) regression: logits :math:`Z = X W^\top + b`, probabilities :math:`\mathrm{softmax}(Z)`.

    Trained with ``"cross_entropy"`` on integer labels, the loss and the gradient of the logits are

    .. math::

        \begin{aligned}
        \ell &= -\frac{1}{N} \sum_n \log \mathrm{softmax}(z_n)_{y_n}, \\
        \delta &= \frac{\partial \ell}{\partial Z}
            = \frac{1}{N} \bigl(\mathrm{softmax}(Z) - \mathrm{onehot}(y)\bigr),
        \end{aligned}

    so :math:`\partial \ell / \partial W = \delta^\top X` and :math:`\partial \ell / \partial b = \sum_n \delta_n`.
    Equals ``torch.nn.Linear(n_features, n_classes)`` with ``torch.nn.CrossEntropyLoss``.

    Parameters
    ----------
    n_features : int
        The number of input features.
    n_classes : int
        The number of classes (at least 2).
    seed : int or numpy.random.Generator, default 0
        Seeds the ``torch.nn.Linear``-style initialisation.
    dtype : float32 or float64, default float64
        The dtype of the parameters.

    Raises
    ------
    ValueError
        If a size is not a positive integer, ``n_classes < 2`` or ``dtype`` is not a float dtype.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.models import SoftmaxRegression
    >>> model = SoftmaxRegression(4, 3)
    >>> [p.shape for p in model.params]
    [(3, 4), (3,)]
    >>> model.params[1][...] = [0.0, 0.0, np.log(2.0)]
    >>> model.predict_proba([[0.0, 0.0, 0.0, 0.0]])
    array([[0.25, 0.25, 0.5 ]])
    >>> model.predict([[0.0, 0.0, 0.0, 0.0]])
    array([2])
    """

    task = "multiclass"

    def __init__(
        self,
        n_features: int,
        n_classes: int,
        *,
        seed: int | np.random.Generator = 0,
        dtype: DTypeLike = np.float64,
    ):
        if check_int(n_classes, "n_classes") < 2:
            raise ValueError(f"n_classes must be at least 2, got {n_classes!r}")
        super().__init__([check_int(n_features, "n_features"), n_classes], seed=seed, dtype=dtype)

    def predict_proba(self, X: ArrayLike) -> NDArray[Any]:
        r"""Return the class probabilities :math:`\mathrm{softmax}(Z)`, shape (n_samples, n_classes).

        Parameters
        ----------
        X : array_like, shape (n_samples, n_features)
            The inputs.

        Returns
        -------
        numpy.ndarray, shape (n_samples, n_classes)
            Rows that sum to 1.

        Raises
        ------
        ValueError
            If ``X`` is malformed.
        """
        return self._predict_proba(X)
