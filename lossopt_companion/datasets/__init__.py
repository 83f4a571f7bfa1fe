r"""Data for the book: real data sets bundled with scikit-learn, MNIST from local IDX files, and synthetic data
generated from documented models. Nothing is downloaded.

Every loader returns NumPy arrays and, for a given seed, the same split on every installation: the split is this
package's own seeded permutation (stratified by class for classification), not scikit-learn's. scikit-learn is only
the source of the bundled data and is imported inside the loaders, so this module needs NumPy alone.
"""

from __future__ import annotations

from .bundled import load_diabetes, load_digits
from .idx import IDX_DTYPES, MNIST_FILES, load_mnist, read_idx
from .split import Split, train_test_split
from .synthetic import LowRankRatings, make_linear_with_outliers, make_low_rank_ratings

__all__ = [
    "Split",
    "train_test_split",
    "load_digits",
    "load_diabetes",
    "read_idx",
    "load_mnist",
    "IDX_DTYPES",
    "MNIST_FILES",
    "make_linear_with_outliers",
    "LowRankRatings",
    "make_low_rank_ratings",
]
