r"""Real data sets that ship inside scikit-learn (no download), split with the package's own seeded split.

scikit-learn is imported inside the loaders, so ``import lossopt_companion.datasets`` needs NumPy only.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

from .split import Split, train_test_split

__all__ = ["load_diabetes", "load_digits"]


def load_digits(*, test_size: float = 0.25, seed: int = 0, scale: bool = True) -> Split:
    r"""Load scikit-learn's 8x8 handwritten digits (1797 images, 10 classes), split stratified by class.

    Each image is a row of 64 pixel intensities from 0 to 16; with ``scale`` they are divided by 16 into [0, 1].
    The data are those of ``sklearn.datasets.load_digits`` (a copy of the UCI test set of optical digits); the split
    is ``train_test_split(..., stratify=True)`` of this package, the same for a seed on every installation.

    Parameters
    ----------
    test_size : float, default 0.25
        The fraction of images in the test part.
    seed : int, default 0
        Seeds the split.
    scale : bool, default True
        Divide the intensities by 16.

    Returns
    -------
    Split
        ``X`` float64 of shape (n, 64), ``y`` int64 labels 0-9, ``feature_names`` ``("pixel_0_0", ...)``,
        ``target_names`` ``("0", ..., "9")``.

    Raises
    ------
    ValueError
        If ``test_size`` is outside (0, 1).
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> from lossopt_companion.datasets import load_digits
    >>> split = load_digits()
    >>> split.X_train.shape, split.y_test.shape, float(split.X_train.max())
    ((1347, 64), (450,), 1.0)
    """
    from sklearn.datasets import load_digits as sklearn_load_digits

    bunch = sklearn_load_digits()
    X = np.asarray(bunch.data, dtype=np.float64)
    if scale:
        X = X / 16.0
    return train_test_split(
        X,
        np.asarray(bunch.target, dtype=np.int64),
        test_size=test_size,
        seed=seed,
        stratify=True,
        feature_names=tuple(bunch.feature_names),
        target_names=tuple(str(name) for name in bunch.target_names),
    )


def load_diabetes(
    *, features: str | Sequence[str] | None = None, test_size: float = 0.2, seed: int = 0
) -> Split:
    r"""Load scikit-learn's diabetes regression data (442 patients, 10 features, disease progression after a year).

    The features are those of ``sklearn.datasets.load_diabetes()``: each column mean-centred and scaled to unit
    Euclidean norm (so a value of 0.05 is about one standard deviation); the target is raw (25 to 346).

    Parameters
    ----------
    features : str or sequence of str, optional
        The columns to keep, by scikit-learn's names: ``"age"``, ``"sex"``, ``"bmi"``, ``"bp"``, ``"s1"`` ...
        ``"s6"``. All ten when None.
    test_size : float, default 0.2
        The fraction of patients in the test part.
    seed : int, default 0
        Seeds the split.

    Returns
    -------
    Split
        ``X`` float64 of shape (n, n_features), ``y`` float64 of shape (n,), ``feature_names``.

    Raises
    ------
    ValueError
        If a feature name is unknown or repeated, or ``test_size`` is outside (0, 1).
    ImportError
        If scikit-learn is not installed.

    Examples
    --------
    >>> from lossopt_companion.datasets import load_diabetes
    >>> split = load_diabetes(features=("bmi",))
    >>> split.X_train.shape, split.X_test.shape, split.feature_names
    ((353, 1), (89, 1), ('bmi',))
    """
    from sklearn.datasets import load_diabetes as sklearn_load_diabetes

    bunch = sklearn_load_diabetes()
    names = tuple(bunch.feature_names)
    chosen = names if features is None else ((features,) if isinstance(features, str) else tuple(features))
    unknown = [name for name in chosen if name not in names]
    if unknown or not chosen or len(set(chosen)) != len(chosen):
        raise ValueError(f"features must be distinct names from {names}, got {features!r}")
    columns = [names.index(name) for name in chosen]
    return train_test_split(
        np.asarray(bunch.data, dtype=np.float64)[:, columns],
        np.asarray(bunch.target, dtype=np.float64),
        test_size=test_size,
        seed=seed,
        feature_names=chosen,
    )
