r"""Synthetic data sets, each generated from a model stated in its docstring (so the truth is known)."""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np
from numpy.typing import NDArray

from .._validation import check_in_range, check_int, check_positive

__all__ = ["LowRankRatings", "make_linear_with_outliers", "make_low_rank_ratings"]


def make_linear_with_outliers(
    n_samples: int = 200,
    *,
    slope: float = 2.0,
    intercept: float = 1.0,
    noise: float = 0.5,
    outlier_fraction: float = 0.1,
    outlier_scale: float = 20.0,
    seed: int = 0,
) -> tuple[NDArray[np.float64], NDArray[np.float64], NDArray[np.bool_]]:
    r"""Points on a line with Gaussian noise, some of them replaced by gross one-sided errors.

    The model: :math:`x_i \sim U(0, 10)` and

    .. math::

        y_i = \text{intercept} + \text{slope} \cdot x_i + \varepsilon_i + o_i, \qquad
        \varepsilon_i \sim \mathcal{N}(0, \text{noise}^2),

    where :math:`o_i = 0` for inliers and, for :math:`k = \mathrm{round}(\text{outlier\_fraction} \cdot n)` points
    drawn at random among the half of the points with the largest :math:`x`,
    :math:`o_i = \text{outlier\_scale} \cdot (1 + u_i)`, :math:`u_i \sim U(0, 1)`: a sensor that fails high under
    load. Because the outliers sit at large :math:`x`, they pull the least-squares slope up, while robust losses
    (MAE, Huber) stay close to the true ``slope`` and ``intercept``.

    Parameters
    ----------
    n_samples : int, default 200
        The number of points.
    slope, intercept : float, default 2.0 and 1.0
        The true line.
    noise : float, default 0.5
        The standard deviation of the Gaussian noise (>= 0).
    outlier_fraction : float, default 0.1
        The fraction of outliers, in [0, 0.5].
    outlier_scale : float, default 20.0
        Outliers lie between ``outlier_scale`` and ``2 * outlier_scale`` above the line (plus noise).
    seed : int, default 0
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    tuple of numpy.ndarray
        ``(x, y, is_outlier)``: ``x`` and ``y`` of shape (n_samples,), and a boolean mask of the outliers.

    Raises
    ------
    ValueError
        If ``n_samples`` is not a positive integer, ``noise`` or ``outlier_scale`` is negative, or
        ``outlier_fraction`` is outside [0, 0.5].

    Examples
    --------
    >>> from lossopt_companion.datasets import make_linear_with_outliers
    >>> x, y, is_outlier = make_linear_with_outliers(200)
    >>> x.shape, y.shape, int(is_outlier.sum())
    ((200,), (200,), 20)
    """
    n_samples = check_int(n_samples, "n_samples")
    check_positive(noise, "noise", allow_zero=True)
    check_positive(outlier_scale, "outlier_scale", allow_zero=True)
    check_in_range(outlier_fraction, "outlier_fraction", 0.0, 0.5, high_inclusive=True)
    rng = np.random.default_rng(seed)
    x = rng.uniform(0.0, 10.0, size=n_samples)
    y = intercept + slope * x + rng.normal(0.0, noise, size=n_samples)
    n_outliers = round(outlier_fraction * n_samples)
    upper_half = np.argsort(x, kind="stable")[n_samples - math.ceil(n_samples / 2) :]
    outliers = rng.choice(upper_half, size=n_outliers, replace=False)
    y[outliers] += outlier_scale * (1.0 + rng.uniform(size=n_outliers))
    is_outlier = np.zeros(n_samples, dtype=bool)
    is_outlier[outliers] = True
    return x, y, is_outlier


@dataclass(frozen=True, eq=False)
class LowRankRatings:
    """Ratings drawn from a low-rank model, split into training and test triples (see ``make_low_rank_ratings``).

    Attributes
    ----------
    train, test : tuple of numpy.ndarray
        ``(users, items, ratings)``: int64 user and item indices and float64 ratings, one entry per observed pair.
    user_factors : numpy.ndarray, shape (n_users, rank)
        The true :math:`U`.
    item_factors : numpy.ndarray, shape (n_items, rank)
        The true :math:`V`.
    train_outliers : numpy.ndarray of bool
        Which training ratings are gross outliers (the test ratings have none).
    """

    train: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]
    test: tuple[NDArray[np.int64], NDArray[np.int64], NDArray[np.float64]]
    user_factors: NDArray[np.float64]
    item_factors: NDArray[np.float64]
    train_outliers: NDArray[np.bool_]


def make_low_rank_ratings(
    n_users: int = 100,
    n_items: int = 80,
    *,
    rank: int = 3,
    noise: float = 0.1,
    outlier_fraction: float = 0.05,
    outlier_scale: float = 5.0,
    density: float = 0.2,
    test_size: float = 0.2,
    seed: int = 0,
) -> LowRankRatings:
    r"""Sparse ratings from a low-rank matrix plus noise, with gross outliers in the training part.

    The model: user and item factors :math:`U \in \mathbb{R}^{n_u \times r}`, :math:`V \in \mathbb{R}^{n_i \times r}`
    with entries :math:`\mathcal{N}(0, 1/\sqrt{r})` (variance :math:`1/\sqrt r`, so that every true rating
    :math:`(U V^\top)_{ui}` has variance 1), and

    .. math::

        R_{ui} = (U V^\top)_{ui} + \varepsilon_{ui}, \qquad
        \varepsilon_{ui} \sim \mathcal{N}(0, \text{noise}^2),

    observed on :math:`m = \mathrm{round}(\text{density} \cdot n_u n_i)` distinct pairs drawn uniformly. The observed
    pairs are split at random into training and test parts (:math:`\lceil \text{test\_size} \cdot m \rceil` test
    pairs). In the training part, :math:`\mathrm{round}(\text{outlier\_fraction} \cdot m_{\text{train}})` ratings
    are gross errors: :math:`R_{ui} \pm \text{outlier\_scale} \cdot (1 + u)`, :math:`u \sim U(0, 1)`, random sign.
    The test ratings are clean, so the test error measures how well the true preferences are recovered. Some users
    or items may have no training rating when the density is low.

    Parameters
    ----------
    n_users, n_items : int, default 100 and 80
        The size of the rating matrix.
    rank : int, default 3
        The rank :math:`r` of the true matrix.
    noise : float, default 0.1
        The standard deviation of the Gaussian noise (>= 0).
    outlier_fraction : float, default 0.05
        The fraction of training ratings that are outliers, in [0, 1).
    outlier_scale : float, default 5.0
        Outliers are off by between ``outlier_scale`` and ``2 * outlier_scale``.
    density : float, default 0.2
        The fraction of the matrix that is observed, in (0, 1].
    test_size : float, default 0.2
        The fraction of the observed ratings in the test part, in (0, 1).
    seed : int, default 0
        Seeds ``numpy.random.default_rng``.

    Returns
    -------
    LowRankRatings
        The training and test triples and the true factors.

    Raises
    ------
    ValueError
        If a size is not a positive integer, a fraction is out of range, or a part would be empty.

    Examples
    --------
    >>> from lossopt_companion.datasets import make_low_rank_ratings
    >>> data = make_low_rank_ratings(100, 80, rank=3, density=0.2)
    >>> users, items, ratings = data.train
    >>> ratings.shape, data.test[2].shape, data.user_factors.shape
    ((1280,), (320,), (100, 3))
    >>> int(data.train_outliers.sum())
    64
    """
    n_users, n_items = check_int(n_users, "n_users"), check_int(n_items, "n_items")
    rank = check_int(rank, "rank")
    check_positive(noise, "noise", allow_zero=True)
    check_positive(outlier_scale, "outlier_scale", allow_zero=True)
    check_in_range(outlier_fraction, "outlier_fraction", 0.0, 1.0)
    check_in_range(density, "density", 0.0, 1.0, low_inclusive=False, high_inclusive=True)
    check_in_range(test_size, "test_size", 0.0, 1.0, low_inclusive=False)
    n_observed = round(density * n_users * n_items)
    n_test = math.ceil(test_size * n_observed)
    if not 0 < n_test < n_observed:
        raise ValueError(
            f"density={density} and test_size={test_size} leave an empty part: {n_observed} observed ratings "
            f"give {n_test} test ratings"
        )
    rng = np.random.default_rng(seed)
    factor_std = rank**-0.25
    user_factors = rng.normal(0.0, factor_std, size=(n_users, rank))
    item_factors = rng.normal(0.0, factor_std, size=(n_items, rank))
    cells = rng.choice(n_users * n_items, size=n_observed, replace=False)
    users, items = np.divmod(cells, n_items)
    ratings = np.einsum("nr,nr->n", user_factors[users], item_factors[items])
    ratings += rng.normal(0.0, noise, size=n_observed)
    is_test = np.zeros(n_observed, dtype=bool)
    is_test[rng.permutation(n_observed)[:n_test]] = True
    train_ratings = ratings[~is_test]
    n_outliers = round(outlier_fraction * train_ratings.size)
    outliers = rng.choice(train_ratings.size, size=n_outliers, replace=False)
    signs = rng.choice([-1.0, 1.0], size=n_outliers)
    train_ratings[outliers] += signs * outlier_scale * (1.0 + rng.uniform(size=n_outliers))
    train_outliers = np.zeros(train_ratings.size, dtype=bool)
    train_outliers[outliers] = True
    return LowRankRatings(
        train=(users[~is_test].astype(np.int64), items[~is_test].astype(np.int64), train_ratings),
        test=(users[is_test].astype(np.int64), items[is_test].astype(np.int64), ratings[is_test]),
        user_factors=user_factors,
        item_factors=item_factors,
        train_outliers=train_outliers,
    )
