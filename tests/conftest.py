"""Shared test set-up.

TensorFlow reads ``TF_CPP_MIN_LOG_LEVEL`` when it is first imported, and nbmake's kernels inherit this process's
environment, so it is set here, before any test module imports TensorFlow or starts a kernel.
"""

from __future__ import annotations

import os

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
os.environ.setdefault("MPLBACKEND", "Agg")

import numpy as np  # noqa: E402
import pytest  # noqa: E402
from hypothesis import settings  # noqa: E402

# Property tests: no per-example deadline (machines are shared and noisy), derandomized so CI is repeatable.
settings.register_profile("lossopt", deadline=None, max_examples=60, derandomize=True, print_blob=True)
settings.load_profile("lossopt")


@pytest.fixture
def rng() -> np.random.Generator:
    """A freshly seeded generator, so that every test sees the same numbers whatever order tests run in."""
    return np.random.default_rng(20261125)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--book-html",
        default=None,
        help="a built book (e.g. _build/html) for tests/test_book_pages.py; default: build the small fixture book",
    )
