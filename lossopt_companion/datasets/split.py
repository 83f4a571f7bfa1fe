r"""Train/test splits that depend on NumPy only: a seeded permutation, stratified for classification.

The split is written out here rather than taken from ``sklearn.model_selection.train_test_split`` so that a seed
gives the same split whatever version of scikit-learn is installed (or none).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np
from numpy.typing import ArrayLike, NDArray

from .._validation import check_in_range

__all__ = ["Split", "train_test_split"]


@dataclass(frozen=True, eq=False)
class Split:
    """A data set split into training and test parts; unpacks as ``X_train, X_test, y_train, y_test = split``.

    Attributes
    ----------
    X_train, X_test : numpy.ndarray
        Inputs, one sample per row.
    y_train, y_test : numpy.ndarray
        Targets (int64 class labels for classification, floats for regression).
    feature_names : tuple of str, optional
        The names of the columns of ``X``.
    target_names : tuple of str, optional
        The names of the classes (None for regression).

    Examples
    --------
    >>> from lossopt_companion.datasets import load_digits
    >>> X_train, X_test, y_train, y_test = load_digits()
    >>> X_train.shape, X_test.shape
    ((1347, 64), (450, 64))
    """

    X_train: NDArray[Any]
    X_test: NDArray[Any]
    y_train: NDArray[Any]
    y_test: NDArray[Any]
    feature_names: tuple[str, ...] | None = None
    target_names: tuple[str, ...] | None = None

    def __iter__(self) -> Any:
        return iter((self.X_train, self.X_test, self.y_train, self.y_test))


def train_test_split(
    X: ArrayLike,
    y: ArrayLike,
    *,
    test_size: float = 0.25,
    seed: int = 0,
    stratify: bool = False,
    feature_names: tuple[str, ...] | None = None,
    target_names: tuple[str, ...] | None = None,
) -> Split:
    r"""Split ``(X, y)`` into a training and a test part with a seeded random permutation.

    The test part has :math:`\lceil \text{test\_size} \cdot n \rceil` samples. With ``stratify``, each class
    :math:`c` of :math:`n_c` samples contributes :math:`\lfloor q_c \rfloor` or :math:`\lceil q_c \rceil` test
    samples, :math:`q_c = n_{\text{test}} \, n_c / n` (the largest remainders get the extra ones), so that the class
    proportions of both parts match those of the whole. Both parts are then shuffled.

    Parameters
    ----------
    X, y : array_like
        Inputs and targets with the same number of rows.
    test_size : float, default 0.25
        The fraction of samples in the test part, in (0, 1).
    seed : int, default 0
        Seeds ``numpy.random.default_rng``: the same seed gives the same split.
    stratify : bool, default False
        Keep the class proportions of ``y`` (a 1-D array of labels) in both parts.
    feature_names, target_names : tuple of str, optional
        Stored in the returned ``Split``.

    Returns
    -------
    Split
        The two parts.

    Raises
    ------
    ValueError
        If ``X`` and ``y`` differ in length, ``test_size`` is outside (0, 1), or a part would be empty.

    Examples
    --------
    >>> import numpy as np
    >>> from lossopt_companion.datasets import train_test_split
    >>> X, y = np.arange(20).reshape(10, 2), np.array([0] * 6 + [1] * 4)
    >>> split = train_test_split(X, y, test_size=0.5, stratify=True)
    >>> np.bincount(split.y_train), np.bincount(split.y_test)
    (array([3, 2]), array([3, 2]))
    """
    X, y = np.asarray(X), np.asarray(y)
    if X.ndim == 0 or y.ndim == 0 or X.shape[0] != y.shape[0]:
        raise ValueError(f"X and y must have the same number of rows, got shapes {X.shape} and {y.shape}")
    check_in_range(test_size, "test_size", 0.0, 1.0, low_inclusive=False)
    n_samples = X.shape[0]
    n_test = math.ceil(test_size * n_samples)
    if not 0 < n_test < n_samples:
        raise ValueError(
            f"test_size={test_size} leaves an empty part: {n_samples} samples give {n_test} test samples"
        )
    rng = np.random.default_rng(seed)
    if stratify:
        if y.ndim != 1:
            raise ValueError(f"y must be a 1-D array of class labels to stratify, got shape {y.shape}")
        test_rows = _stratified_test_rows(y, n_test, rng)
    else:
        test_rows = rng.permutation(n_samples)[:n_test]
    is_test = np.zeros(n_samples, dtype=bool)
    is_test[test_rows] = True
    train_rows = rng.permutation(np.flatnonzero(~is_test))
    test_rows = rng.permutation(np.flatnonzero(is_test))
    return Split(X[train_rows], X[test_rows], y[train_rows], y[test_rows], feature_names, target_names)


def _stratified_test_rows(y: NDArray[Any], n_test: int, rng: np.random.Generator) -> NDArray[np.intp]:
    classes, class_of_row, counts = np.unique(y, return_inverse=True, return_counts=True)
    quotas = n_test * counts / y.shape[0]
    per_class = np.floor(quotas).astype(np.int64)
    # Largest remainders first; a stable sort breaks ties by class order, so the allocation is deterministic.
    leftover = n_test - int(per_class.sum())
    per_class[np.argsort(-(quotas - per_class), kind="stable")[:leftover]] += 1
    rows = [rng.permutation(np.flatnonzero(class_of_row == c))[:k] for c, k in enumerate(per_class)]
    return np.concatenate(rows)
