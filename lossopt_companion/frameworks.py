r"""Bridges to PyTorch and Keras: the framework version of a companion model, with identical weights.

torch and Keras are imported inside the functions, so importing this module loads neither. The built networks
compute the same function as the companion's ``forward``: ``torch.nn.Linear`` stores its weight as the companion
does, :math:`W` of shape (out, in) with :math:`y = x W^\top + b`, while a Keras ``Dense`` layer stores the kernel
:math:`W^\top` of shape (in, out) with :math:`y = x K + b`.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from .models import DenseNetwork

__all__ = ["keras_mlp", "torch_mlp"]


def torch_mlp(model: DenseNetwork) -> Any:
    r"""Build the ``torch.nn.Sequential`` of ``Linear`` and ``ReLU`` layers that equals a companion model.

    Works for ``MLP`` and for the one-layer models (``LinearRegression``, ``LogisticRegression``,
    ``SoftmaxRegression``, each a single ``torch.nn.Linear``). The weights are copied (not shared), in the model's
    dtype (``torch.float64`` or ``torch.float32``), and torch's random number generator is not used.

    Parameters
    ----------
    model : DenseNetwork
        A companion model.

    Returns
    -------
    torch.nn.Sequential
        ``Sequential(Linear(d_0, d_1), ReLU(), ..., Linear(d_{L-1}, d_L))`` with the model's weights, so that
        ``network(torch.from_numpy(X))`` equals ``model.forward(X)`` and ``network.parameters()`` come in the order
        of ``model.params``.

    Raises
    ------
    ValueError
        If ``model`` is not a companion model.
    ImportError
        If torch is not installed.

    Examples
    --------
    >>> import numpy as np, torch
    >>> from lossopt_companion.models import MLP
    >>> from lossopt_companion.frameworks import torch_mlp
    >>> model = MLP([3, 4, 2])
    >>> network = torch_mlp(model)
    >>> network
    Sequential(
      (0): Linear(in_features=3, out_features=4, bias=True)
      (1): ReLU()
      (2): Linear(in_features=4, out_features=2, bias=True)
    )
    >>> X = np.ones((2, 3))
    >>> outputs = network(torch.from_numpy(X)).detach().numpy()
    >>> bool(np.allclose(outputs, model.forward(X), rtol=1e-12))
    True
    """
    import torch

    _check_model(model)
    dtype = torch.float64 if model.dtype == np.float64 else torch.float32
    layers: list[Any] = []
    for layer, (weight, bias) in enumerate(zip(model.weights, model.biases)):
        if layer > 0:
            layers.append(torch.nn.ReLU())
        # skip_init: no random initialisation (it would advance torch's global generator) before the copy.
        linear = torch.nn.utils.skip_init(torch.nn.Linear, weight.shape[1], weight.shape[0], dtype=dtype)
        with torch.no_grad():
            linear.weight.copy_(torch.from_numpy(weight))
            linear.bias.copy_(torch.from_numpy(bias))
        layers.append(linear)
    return torch.nn.Sequential(*layers)


def keras_mlp(model: DenseNetwork) -> Any:
    r"""Build the ``keras.Sequential`` of ``Dense`` layers that equals a companion model.

    Hidden layers are ``Dense(d_l, activation="relu")``, the last is ``Dense(d_L)`` with no activation; each kernel
    is set to :math:`W_l^\top` and each bias to :math:`b_l`, in the model's dtype (``"float64"`` or
    ``"float32"``). The layers are created with zero initialisers, so Keras's random seed state is not used.

    Parameters
    ----------
    model : DenseNetwork
        A companion model (``MLP`` or a one-layer regression model).

    Returns
    -------
    keras.Sequential
        The network: ``network(X)`` equals ``model.forward(X)``.

    Raises
    ------
    ValueError
        If ``model`` is not a companion model.
    ImportError
        If Keras (TensorFlow) is not installed.

    Examples
    --------
    >>> from lossopt_companion.models import MLP
    >>> from lossopt_companion.frameworks import keras_mlp
    >>> network = keras_mlp(MLP([3, 4, 2]))
    >>> [layer.get_weights()[0].shape for layer in network.layers]
    [(3, 4), (4, 2)]
    """
    import keras

    _check_model(model)
    dtype = model.dtype.name
    last = len(model.weights) - 1
    layers: list[Any] = [keras.Input(shape=(model.n_features,), dtype=dtype)]
    for layer in range(last + 1):
        layers.append(
            keras.layers.Dense(
                model.layer_sizes[layer + 1],
                activation="relu" if layer < last else None,
                kernel_initializer="zeros",
                bias_initializer="zeros",
                dtype=dtype,
            )
        )
    network = keras.Sequential(layers)
    for dense, weight, bias in zip(network.layers, model.weights, model.biases):
        dense.set_weights([weight.T, bias])
    return network


def _check_model(model: Any) -> None:
    if not isinstance(model, DenseNetwork):
        raise ValueError(
            f"model must be a lossopt_companion.models model (MLP, LinearRegression, ...), got {type(model).__name__}"
        )
