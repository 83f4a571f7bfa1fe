"""Mini-batches: one shuffled (or ordered) pass over the data."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_int

__all__ = ["minibatches"]


def minibatches(
    X: ArrayLike,
    y: ArrayLike,
    batch_size: int,
    *,
    shuffle: bool = True,
    rng: np.random.Generator | int | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    r"""Yield the mini-batches ``(X_batch, y_batch)`` of one pass over the data (one epoch).

    With ``shuffle``, the rows are visited in the order of one permutation ``rng.permutation(n_samples)``, drawn
    anew at every call: pass the same generator to every epoch's call to reshuffle each epoch, reproducibly. With
    ``shuffle=False`` the batches are consecutive slices in the stored order (views, no copy). Equals a
    ``torch.utils.data.DataLoader(TensorDataset(X, y), batch_size, shuffle=shuffle, drop_last=drop_last)`` except
    for the random number generator.

    Parameters
    ----------
    X, y : array_like
        Inputs and targets with the same number of rows (any dtype; nothing is converted).
    batch_size : int
        Rows per batch; the last batch is smaller when ``batch_size`` does not divide ``n_samples``.
    shuffle : bool, default True
        Visit the rows in a random order.
    rng : numpy.random.Generator or int, optional
        The generator (or a seed for a new one) that draws the permutation; a fresh unseeded generator when None.
    drop_last : bool, default False
        Skip the last batch when it is smaller than ``batch_size``.

    Returns
    -------
    iterator of tuple of numpy.ndarray
        The batches, :math:`\lceil n / b \rceil` of them (:math:`\lfloor n / b \rfloor` with ``drop_last``).

    Raises
    ------
    ValueError
        If ``X`` and ``y`` differ in length or ``batch_size`` is not a positive integer.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.training import minibatches
    >>> X, y = np.arange(10).reshape(5, 2), np.arange(5)
    >>> [y_batch.tolist() for _, y_batch in minibatches(X, y, 2, shuffle=False)]
    [[0, 1], [2, 3], [4]]
    >>> sorted(int(v) for _, y_batch in minibatches(X, y, 2, rng=0) for v in y_batch)
    [0, 1, 2, 3, 4]
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got shapes {X.shape} and {y.shape}")
    batch_size = check_int(batch_size, "batch_size")
    order = np.random.default_rng(rng).permutation(X.shape[0]) if shuffle else None
    return _batches(X, y, batch_size, order, drop_last)


def _batches(
    X: NDArray[Any], y: NDArray[Any], batch_size: int, order: NDArray[np.intp] | None, drop_last: bool
) -> Iterator[tuple[NDArray[Any], NDArray[Any]]]:
    n_samples = X.shape[0]
    stop = n_samples - n_samples % batch_size if drop_last else n_samples
    for start in range(0, stop, batch_size):
        if order is None:
            yield X[start : start + batch_size], y[start : start + batch_size]
        else:
            rows = order[start : start + batch_size]
            yield X[rows], y[rows]

