r"""Checks and small helpers of the models: which loss a name means, valid sizes and dtypes, the link functions."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from numpy.typing import DTypeLike, NDArray

from .. import losses

__all__ = ["resolve_loss"]

#: The reductions a training loss may use: a gradient is the gradient of one number.
TRAINING_REDUCTIONS = ("mean", "sum")


def resolve_loss(loss: str | tuple[Callable[..., Any], Callable[..., Any]]) -> tuple[Callable[..., Any], ...]:
    """Return the pair ``(loss_fn, loss_grad_fn)`` that ``loss`` names.

    Parameters
    ----------
    loss : str or tuple of two callables
        The name of a loss of ``lossopt_companion.losses`` that has a ``_grad`` twin (``"mse"``,
        ``"cross_entropy"``, ``"binary_cross_entropy_with_logits"``, ...), or a pair ``(loss_fn, loss_grad_fn)``
        called as ``loss_fn(y_true, y_pred, reduction=...)``.

    Returns
    -------
    tuple of two callables
        The loss and its gradient with respect to ``y_pred``.

    Raises
    ------
    ValueError
        If ``loss`` is neither a known name nor a pair of callables.

    Examples
    --------
    >>> from lossopt_companion.models import resolve_loss
    >>> loss_fn, loss_grad_fn = resolve_loss("mse")
    >>> loss_fn.__name__, loss_grad_fn.__name__
    ('mse', 'mse_grad')
    """
    if isinstance(loss, str):
        loss_fn = getattr(losses, loss, None)
        loss_grad_fn = getattr(losses, f"{loss}_grad", None)
        if callable(loss_fn) and callable(loss_grad_fn):
            return loss_fn, loss_grad_fn
        known = sorted(
            name[: -len("_grad")]
            for name in dir(losses)
            if name.endswith("_grad") and callable(getattr(losses, name[: -len("_grad")], None))
        )
        raise ValueError(f"loss must be one of {known} or a pair (loss_fn, loss_grad_fn), got {loss!r}")
    if isinstance(loss, tuple) and len(loss) == 2 and all(callable(f) for f in loss):
        return loss
    raise ValueError(
        f"loss must be the name of a loss in lossopt_companion.losses or a pair (loss_fn, loss_grad_fn), got {loss!r}"
    )


def _check_dtype(dtype: DTypeLike) -> np.dtype[Any]:
    checked = np.dtype(dtype)
    if checked not in (np.dtype(np.float32), np.dtype(np.float64)):
        raise ValueError(f"dtype must be float32 or float64, got {checked}")
    return checked


def _check_layer_sizes(layer_sizes: Sequence[int]) -> tuple[int, ...]:
    try:
        sizes = tuple(int(size) for size in layer_sizes)
        integral = all(int(size) == size for size in layer_sizes)
    except (TypeError, ValueError):
        raise ValueError(f"layer_sizes must be a sequence of positive integers, got {layer_sizes!r}") from None
    if len(sizes) < 2 or not integral or min(sizes) < 1:
        raise ValueError(
            f"layer_sizes must hold at least two positive integers (inputs and outputs), got {layer_sizes!r}"
        )
    return sizes


def _sigmoid(z: NDArray[np.floating]) -> NDArray[np.floating]:
    # exp(-|z|) lies in (0, 1] for every finite z, so neither branch can overflow.
    exp_minus_abs = np.exp(-np.abs(z))
    return np.where(z >= 0, 1.0, exp_minus_abs) / (1.0 + exp_minus_abs)


def _softmax(z: NDArray[np.floating]) -> NDArray[np.floating]:
    # Subtracting the row maximum leaves softmax unchanged and keeps every exponent <= 0 (no overflow).
    exp_shifted = np.exp(z - z.max(axis=1, keepdims=True))
    return exp_shifted / exp_shifted.sum(axis=1, keepdims=True)


def _check_training_reduction(reduction: str) -> None:
    if reduction not in TRAINING_REDUCTIONS:
        raise ValueError(
            f"reduction must be one of {TRAINING_REDUCTIONS} for training (a gradient needs one number), "
            f"got {reduction!r}"
        )


def _check_gradient_buffers(out: Sequence[Any], params: Sequence[NDArray[np.floating]]) -> None:
    if len(out) != len(params):
        raise ValueError(f"out must hold {len(params)} arrays (one per parameter), got {len(out)}")
    for index, (buffer, param) in enumerate(zip(out, params)):
        if not isinstance(buffer, np.ndarray) or buffer.shape != param.shape or buffer.dtype != param.dtype:
            raise ValueError(
                f"out[{index}] must be an array of shape {param.shape} and dtype {param.dtype}, got "
                f"{getattr(buffer, 'shape', type(buffer).__name__)}"
            )
