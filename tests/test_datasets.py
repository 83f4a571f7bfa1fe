"""Tests of lossopt_companion.datasets: seeded splits, the bundled loaders, the IDX reader and the generators."""

from __future__ import annotations

import gzip
import math
import re

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st

from lossopt_companion import datasets
from lossopt_companion.datasets import (
    Split,
    load_diabetes,
    load_digits,
    load_mnist,
    make_linear_with_outliers,
    make_low_rank_ratings,
    read_idx,
    train_test_split,
)

sklearn_datasets = pytest.importorskip("sklearn.datasets")


def _sorted_rows(array: np.ndarray) -> np.ndarray:
    array = array.reshape(array.shape[0], -1)
    return array[np.lexsort(array.T[::-1])]


# -- the split ---------------------------------------------------------------------------------------------------
def test_split_unpacks_into_four_arrays() -> None:
    split = train_test_split(np.arange(20).reshape(10, 2), np.arange(10), test_size=0.3)
    X_train, X_test, y_train, y_test = split
    assert isinstance(split, Split)
    assert X_train is split.X_train and y_test is split.y_test
    assert X_train.shape == (7, 2) and X_test.shape == (3, 2) and y_train.shape == (7,)


def test_split_is_a_partition_and_keeps_rows_with_their_targets() -> None:
    X = np.arange(50).reshape(25, 2)
    split = train_test_split(X, X[:, 0] * 10, test_size=0.2, seed=3)
    rows = np.concatenate([split.X_train[:, 0], split.X_test[:, 0]])
    assert sorted(rows.tolist()) == X[:, 0].tolist()
    assert split.X_test.shape[0] == math.ceil(0.2 * 25)
    np.testing.assert_array_equal(split.y_train, split.X_train[:, 0] * 10)
    np.testing.assert_array_equal(split.y_test, split.X_test[:, 0] * 10)


def test_split_is_fixed_by_the_seed() -> None:
    X, y = np.arange(100).reshape(50, 2), np.arange(50) % 3
    first, again, other = (train_test_split(X, y, seed=s, stratify=True) for s in (7, 7, 8))
    for a, b in zip(first, again):
        np.testing.assert_array_equal(a, b)
    assert not np.array_equal(first.y_train, other.y_train) or not np.array_equal(first.X_train, other.X_train)


@given(
    counts=st.lists(st.integers(1, 40), min_size=2, max_size=6),
    test_size=st.floats(0.05, 0.9),
    seed=st.integers(0, 10),
)
def test_stratified_split_keeps_class_proportions(counts: list[int], test_size: float, seed: int) -> None:
    y = np.repeat(np.arange(len(counts)), counts)
    n_test = math.ceil(test_size * y.size)
    if not 0 < n_test < y.size:
        return
    split = train_test_split(np.arange(y.size), y, test_size=test_size, seed=seed, stratify=True)
    test_counts = np.bincount(split.y_test, minlength=len(counts))
    assert test_counts.sum() == n_test
    # each class gives floor or ceil of its exact share
    exact = n_test * np.asarray(counts) / y.size
    assert np.all(np.abs(test_counts - exact) < 1)
    np.testing.assert_array_equal(test_counts + np.bincount(split.y_train, minlength=len(counts)), counts)


def test_split_rejects_bad_input() -> None:
    X, y = np.zeros((10, 2)), np.zeros(10)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=1.0)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(X, y, test_size=0.0)
    with pytest.raises(ValueError, match="X and y"):
        train_test_split(X, np.zeros(9))
    with pytest.raises(ValueError, match="y must be a 1-D"):
        train_test_split(X, np.zeros((10, 2)), stratify=True)
    with pytest.raises(ValueError, match="test_size"):
        train_test_split(np.zeros((2, 1)), np.zeros(2), test_size=0.6)


# -- bundled data ------------------------------------------------------------------------------------------------
def test_load_digits_shapes_dtypes_scaling_and_content() -> None:
    split = load_digits()
    assert split.X_train.shape == (1347, 64) and split.X_test.shape == (450, 64)
    assert split.X_train.dtype == np.float64 and split.y_train.dtype == np.int64
    assert split.X_train.min() == 0.0 and split.X_train.max() == 1.0
    assert split.target_names == tuple(str(d) for d in range(10)) and len(split.feature_names) == 64
    reference = sklearn_datasets.load_digits()
    labels = np.concatenate([split.y_train, split.y_test])
    together = np.column_stack([np.vstack([split.X_train, split.X_test]) * 16, labels])
    expected = np.column_stack([reference.data, reference.target])
    np.testing.assert_array_equal(_sorted_rows(together), _sorted_rows(expected))
    raw = load_digits(scale=False)
    np.testing.assert_array_equal(raw.X_train, split.X_train * 16)
    np.testing.assert_array_equal(raw.y_train, split.y_train)


def test_load_digits_is_stratified_and_seeded() -> None:
    split = load_digits(test_size=0.25, seed=0)
    class_counts = np.bincount(sklearn_datasets.load_digits().target)
    test_counts = np.bincount(split.y_test)
    assert np.all(np.abs(test_counts - 450 * class_counts / class_counts.sum()) < 1)
    again, other = load_digits(seed=0), load_digits(seed=1)
    np.testing.assert_array_equal(split.X_train, again.X_train)
    assert not np.array_equal(split.y_train, other.y_train)


def test_load_diabetes_selects_features_by_name() -> None:
    reference = sklearn_datasets.load_diabetes()
    split = load_diabetes(features=("bmi", "bp"))
    assert split.X_train.shape == (353, 2) and split.X_test.shape == (89, 2)
    assert split.feature_names == ("bmi", "bp") and split.target_names is None
    columns = [reference.feature_names.index("bmi"), reference.feature_names.index("bp")]
    targets = np.concatenate([split.y_train, split.y_test])
    together = np.column_stack([np.vstack([split.X_train, split.X_test]), targets])
    expected = np.column_stack([reference.data[:, columns], reference.target])
    np.testing.assert_array_equal(_sorted_rows(together), _sorted_rows(expected))
    assert split.y_train.min() >= 25  # the target is raw, not scaled
    assert load_diabetes().X_train.shape == (353, 10)
    np.testing.assert_array_equal(load_diabetes(features="bmi").X_train, split.X_train[:, :1])


def test_load_diabetes_rejects_unknown_or_repeated_features() -> None:
    with pytest.raises(ValueError, match="features must be distinct names"):
        load_diabetes(features=("weight",))
    with pytest.raises(ValueError, match="features"):
        load_diabetes(features=("bmi", "bmi"))
    with pytest.raises(ValueError, match="features"):
        load_diabetes(features=())


# -- IDX files ---------------------------------------------------------------------------------------------------
IDX_CASES = [
    (0x08, np.array([[0, 1, 255], [128, 7, 9]], dtype=np.uint8)),
    (0x09, np.array([-128, -1, 0, 127], dtype=np.int8)),
    (0x0B, np.array([[-32768, 300], [1, 32767]], dtype=np.int16)),
    (0x0C, np.arange(-12, 12, dtype=np.int32).reshape(2, 3, 4) * 100_000),
    (0x0D, np.array([1.5, -2.25, 3.0e7], dtype=np.float32)),
    (0x0E, np.array([[np.pi, -1e-300]], dtype=np.float64)),
]


def _idx_bytes(code: int, array: np.ndarray) -> bytes:
    header = bytes([0, 0, code, array.ndim]) + b"".join(size.to_bytes(4, "big") for size in array.shape)
    return header + array.astype(array.dtype.newbyteorder(">")).tobytes()


@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
@pytest.mark.parametrize(("code", "array"), IDX_CASES, ids=[f"{c:#04x}" for c, _ in IDX_CASES])
def test_read_idx_reads_every_type_plain_and_gzip(tmp_path, code: int, array: np.ndarray, compress: bool) -> None:
    content = _idx_bytes(code, array)
    path = tmp_path / "data-idx"
    path.write_bytes(gzip.compress(content) if compress else content)
    result = read_idx(path)
    assert result.dtype == array.dtype and result.dtype.isnative and result.shape == array.shape
    np.testing.assert_array_equal(result, array)
    result[...] = 0  # a writable array of its own


def test_read_idx_reads_big_endian_data() -> None:
    # 0x0102 big-endian is 258: a reader that ignored the byte order would return 513.
    content = bytes([0, 0, 0x0B, 1, 0, 0, 0, 1, 0x01, 0x02])
    import tempfile
    from pathlib import Path

    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "one"
        path.write_bytes(content)
        assert read_idx(path).tolist() == [258]


MALFORMED = {
    "bad magic": (b"\x01\x00\x08\x01\x00\x00\x00\x01\x05", "first two bytes must be 0"),
    "unknown type": (b"\x00\x00\x0a\x01\x00\x00\x00\x01\x05", "unknown IDX type code 0x0a"),
    "short file": (b"\x00\x00", "truncated header"),
    "short sizes": (b"\x00\x00\x08\x03\x00\x00\x00\x02\x00\x00", "truncated header: 3 dimensions"),
    "short data": (_idx_bytes(0x08, np.arange(6, dtype=np.uint8).reshape(2, 3))[:-1], "truncated data"),
    "trailing": (_idx_bytes(0x0C, np.arange(3, dtype=np.int32)) + b"\x00\x00", "2 trailing bytes"),
    "short float data": (_idx_bytes(0x0E, np.ones(2))[:-3], "truncated data"),
}


@pytest.mark.parametrize("case", sorted(MALFORMED))
@pytest.mark.parametrize("compress", [False, True], ids=["plain", "gzip"])
def test_read_idx_rejects_malformed_files_naming_file_and_problem(tmp_path, case: str, compress: bool) -> None:
    content, problem = MALFORMED[case]
    path = tmp_path / f"broken-{case.replace(' ', '-')}"
    path.write_bytes(gzip.compress(content) if compress else content)
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*" + re.escape(problem)):
        read_idx(path)


def test_read_idx_rejects_a_truncated_gzip_stream(tmp_path) -> None:
    path = tmp_path / "cut.gz"
    path.write_bytes(gzip.compress(_idx_bytes(0x08, np.arange(200, dtype=np.uint8)))[:-10])
    with pytest.raises(ValueError, match=re.escape(str(path)) + ".*gzip"):
        read_idx(path)


def test_read_idx_missing_file(tmp_path) -> None:
    with pytest.raises(FileNotFoundError):
        read_idx(tmp_path / "absent")


def _write_fake_mnist(folder, n_train: int = 5, n_test: int = 3, compress: bool = True) -> tuple[np.ndarray, ...]:
    rng = np.random.default_rng(0)
    arrays = (
        rng.integers(0, 256, size=(n_train, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n_train, dtype=np.uint8),
        rng.integers(0, 256, size=(n_test, 28, 28), dtype=np.uint8),
        rng.integers(0, 10, size=n_test, dtype=np.uint8),
    )
    for index, (name, array) in enumerate(zip(datasets.MNIST_FILES, arrays)):
        content = _idx_bytes(0x08, array)
        if compress and index % 2 == 0:  # a mix of .gz and plain files
            (folder / f"{name}.gz").write_bytes(gzip.compress(content))
        else:
            (folder / name).write_bytes(content)
    return arrays


def test_load_mnist_reads_the_four_files(tmp_path) -> None:
    images, labels, test_images, test_labels = _write_fake_mnist(tmp_path)
    split = load_mnist(tmp_path)
    assert split.X_train.shape == (5, 784) and split.X_test.shape == (3, 784)
    assert split.X_train.dtype == np.float32 and split.y_train.dtype == np.int64
    np.testing.assert_allclose(split.X_train, images.reshape(5, 784) / 255, rtol=1e-6)
    np.testing.assert_array_equal(split.y_test, test_labels)
    raw = load_mnist(tmp_path, scale=False, dtype=np.float64)
    np.testing.assert_array_equal(raw.X_test, test_images.reshape(3, 784))


def test_load_mnist_lists_the_expected_names_when_files_are_missing(tmp_path) -> None:
    with pytest.raises(FileNotFoundError, match="t10k-images-idx3-ubyte"):
        load_mnist(tmp_path)
    _write_fake_mnist(tmp_path)
    (tmp_path / "train-labels-idx1-ubyte").unlink()
    with pytest.raises(FileNotFoundError, match=r"missing .*\['train-labels-idx1-ubyte'\]"):
        load_mnist(tmp_path)


def test_load_mnist_rejects_images_and_labels_that_do_not_fit(tmp_path) -> None:
    _write_fake_mnist(tmp_path, compress=False)
    (tmp_path / "train-labels-idx1-ubyte").write_bytes(_idx_bytes(0x08, np.zeros(4, dtype=np.uint8)))
    with pytest.raises(ValueError, match="do not fit"):
        load_mnist(tmp_path)


# -- synthetic data ----------------------------------------------------------------------------------------------
def test_linear_with_outliers_follows_its_documented_model() -> None:
    x, y, is_outlier = make_linear_with_outliers(300, slope=-1.5, intercept=4.0, noise=0.0, outlier_fraction=0.2,
                                                 outlier_scale=10.0, seed=5)
    assert x.shape == y.shape == is_outlier.shape == (300,) and is_outlier.dtype == bool
    assert is_outlier.sum() == 60 and x.min() >= 0 and x.max() <= 10
    offsets = y - (4.0 - 1.5 * x)
    np.testing.assert_allclose(offsets[~is_outlier], 0.0, atol=1e-12)  # noise 0: inliers on the line
    assert np.all((offsets[is_outlier] >= 10.0) & (offsets[is_outlier] <= 20.0))
    assert np.all(x[is_outlier] >= np.median(x))  # the outliers sit in the upper half of x


def test_linear_with_outliers_biases_least_squares_but_not_the_inliers() -> None:
    x, y, is_outlier = make_linear_with_outliers()
    slope_inliers, intercept_inliers = np.polyfit(x[~is_outlier], y[~is_outlier], 1)
    assert abs(slope_inliers - 2.0) < 0.1 and abs(intercept_inliers - 1.0) < 0.5
    slope_all, _ = np.polyfit(x, y, 1)
    assert slope_all > 2.5  # what the outliers do to least squares
    residual_std = np.std(y[~is_outlier] - (1.0 + 2.0 * x[~is_outlier]))
    assert 0.4 < residual_std < 0.6  # the documented noise 0.5
    again = make_linear_with_outliers()
    np.testing.assert_array_equal(again[1], y)


def test_linear_with_outliers_rejects_bad_arguments() -> None:
    with pytest.raises(ValueError, match="n_samples"):
        make_linear_with_outliers(0)
    with pytest.raises(ValueError, match="outlier_fraction"):
        make_linear_with_outliers(outlier_fraction=0.6)
    with pytest.raises(ValueError, match="noise"):
        make_linear_with_outliers(noise=-1.0)


def test_low_rank_ratings_follow_their_documented_model() -> None:
    data = make_low_rank_ratings(40, 30, rank=2, noise=0.0, outlier_fraction=0.1, outlier_scale=3.0, density=0.5,
                                 test_size=0.25, seed=1)
    n_observed = round(0.5 * 40 * 30)
    users, items, ratings = data.train
    test_users, test_items, test_ratings = data.test
    assert users.dtype == items.dtype == np.int64 and ratings.dtype == np.float64
    assert test_ratings.size == math.ceil(0.25 * n_observed) and ratings.size + test_ratings.size == n_observed
    pairs = set(zip(users.tolist(), items.tolist())) | set(zip(test_users.tolist(), test_items.tolist()))
    assert len(pairs) == n_observed  # distinct observed cells, train and test disjoint
    assert users.max() < 40 and items.max() < 30 and min(users.min(), items.min()) >= 0
    true = data.user_factors @ data.item_factors.T
    assert np.linalg.matrix_rank(true) == 2
    np.testing.assert_allclose(test_ratings, true[test_users, test_items], atol=1e-12)  # clean test part
    errors = ratings - true[users, items]
    assert data.train_outliers.sum() == round(0.1 * ratings.size)
    np.testing.assert_allclose(errors[~data.train_outliers], 0.0, atol=1e-12)
    assert np.all((np.abs(errors[data.train_outliers]) >= 3.0) & (np.abs(errors[data.train_outliers]) <= 6.0))


def test_low_rank_ratings_have_unit_scale_and_the_stated_noise() -> None:
    data = make_low_rank_ratings(200, 150, rank=4, noise=0.3, outlier_fraction=0.0, density=0.3, seed=2)
    users, items, ratings = data.test
    true = np.einsum("nr,nr->n", data.user_factors[users], data.item_factors[items])
    assert 0.8 < np.std(true) < 1.2
    assert 0.27 < np.std(ratings - true) < 0.33
    np.testing.assert_array_equal(make_low_rank_ratings(200, 150, rank=4, noise=0.3, outlier_fraction=0.0,
                                                        density=0.3, seed=2).train[2], data.train[2])


def test_low_rank_ratings_reject_bad_arguments() -> None:
    with pytest.raises(ValueError, match="rank"):
        make_low_rank_ratings(10, 10, rank=0)
    with pytest.raises(ValueError, match="density"):
        make_low_rank_ratings(10, 10, density=0.0)
    with pytest.raises(ValueError, match="n_users"):
        make_low_rank_ratings(-1, 10)
    with pytest.raises(ValueError, match="empty part"):
        make_low_rank_ratings(2, 2, density=0.25)
