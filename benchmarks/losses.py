"""Benchmark: the companion's losses against PyTorch and TensorFlow, in float32, on CPU.

Run from the repository root::

    .venv/bin/python benchmarks/losses.py            # the full sizes (about a minute, 2.5 GB of memory)
    .venv/bin/python benchmarks/losses.py --quick    # 10x smaller, for a smoke test

Rows:

- cross-entropy of (N, C) = (100 000, 1 000) float32 logits against int64 labels, ``reduction="mean"``;
- mean squared error of two float32 arrays of 10 000 000 elements.

What is compared:

- "value": ``losses.cross_entropy`` / ``losses.mse`` against ``torch.nn.functional.cross_entropy`` /
  ``mse_loss`` (a forward pass, no autograd graph) and TensorFlow's
  ``sparse_softmax_cross_entropy_with_logits`` / ``reduce_mean(square(...))``;
- "gradient": ``losses.cross_entropy_grad`` / ``losses.mse_grad`` (the gradient only) against torch's forward
  plus backward (``torch.autograd.grad`` of the loss: the cost of getting the gradient in torch) and
  TensorFlow's ``GradientTape`` (forward plus gradient).

Each timing is the median of --repeats runs after one warm-up run; the ratio is companion / torch (below 1
means the companion is faster). Every result is checked against torch's before timing, and the companion's
threaded result against its single-threaded one (they must be equal bit for bit).
"""

from __future__ import annotations

import argparse
import contextlib
import os
import platform
import statistics
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported: silence its C++ logging

import numpy as np  # noqa: E402
import tensorflow as tf  # noqa: E402
import torch  # noqa: E402
import torch.nn.functional as F  # noqa: E402

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from lossopt_companion import losses  # noqa: E402
from lossopt_companion.losses import _parallel  # noqa: E402


def median_milliseconds(function: Callable[[], object], repeats: int) -> float:
    """Median wall-clock time of ``function()`` in milliseconds, after one untimed warm-up call."""
    function()
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


def relative_difference(actual: object, expected: object) -> float:
    """max |actual - expected| / max |expected|, computed in float64."""
    actual_array = np.asarray(actual, dtype=np.float64)
    expected_array = np.asarray(expected, dtype=np.float64)
    return float(np.max(np.abs(actual_array - expected_array)) / np.max(np.abs(expected_array)))


Cases = dict[str, dict[str, Callable[[], object]]]  # {"value" or "gradient": {implementation: function}}


def cross_entropy_cases(n_samples: int, n_classes: int, seed: int) -> Cases:
    rng = np.random.default_rng(seed)
    logits = 3 * rng.standard_normal((n_samples, n_classes), dtype=np.float32)
    labels = rng.integers(0, n_classes, size=n_samples)
    torch_logits, torch_labels = torch.from_numpy(logits), torch.from_numpy(labels)
    tf_logits, tf_labels = tf.constant(logits), tf.constant(labels)

    def torch_gradient() -> torch.Tensor:
        leaf = torch_logits.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(F.cross_entropy(leaf, torch_labels), leaf)
        return gradient

    def tf_loss(logits_tensor: tf.Tensor) -> tf.Tensor:
        per_sample = tf.nn.sparse_softmax_cross_entropy_with_logits(labels=tf_labels, logits=logits_tensor)
        return tf.reduce_mean(per_sample)

    def tf_gradient() -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(tf_logits)
            loss = tf_loss(tf_logits)
        return tape.gradient(loss, tf_logits)

    def torch_value() -> torch.Tensor:
        with torch.no_grad():
            return F.cross_entropy(torch_logits, torch_labels)

    return {
        "value": {
            "companion": lambda: losses.cross_entropy(labels, logits),
            "torch": torch_value,
            "tensorflow": lambda: tf_loss(tf_logits),
        },
        "gradient": {
            "companion": lambda: losses.cross_entropy_grad(labels, logits),
            "torch": torch_gradient,
            "tensorflow": tf_gradient,
        },
    }


def mse_cases(n_elements: int, seed: int) -> Cases:
    rng = np.random.default_rng(seed)
    y_true = rng.standard_normal(n_elements, dtype=np.float32)
    y_pred = rng.standard_normal(n_elements, dtype=np.float32)
    torch_true, torch_pred = torch.from_numpy(y_true), torch.from_numpy(y_pred)
    tf_true, tf_pred = tf.constant(y_true), tf.constant(y_pred)

    def torch_value() -> torch.Tensor:
        with torch.no_grad():
            return F.mse_loss(torch_pred, torch_true)

    def torch_gradient() -> torch.Tensor:
        leaf = torch_pred.detach().requires_grad_(True)
        (gradient,) = torch.autograd.grad(F.mse_loss(leaf, torch_true), leaf)
        return gradient

    def tf_gradient() -> tf.Tensor:
        with tf.GradientTape() as tape:
            tape.watch(tf_pred)
            loss = tf.reduce_mean(tf.square(tf_pred - tf_true))
        return tape.gradient(loss, tf_pred)

    return {
        "value": {
            "companion": lambda: losses.mse(y_true, y_pred),
            "torch": torch_value,
            "tensorflow": lambda: tf.reduce_mean(tf.square(tf_pred - tf_true)),
        },
        "gradient": {
            "companion": lambda: losses.mse_grad(y_true, y_pred),
            "torch": torch_gradient,
            "tensorflow": tf_gradient,
        },
    }


def to_numpy(result: object) -> np.ndarray:
    if isinstance(result, torch.Tensor):
        return result.detach().numpy()
    if isinstance(result, tf.Tensor):
        return result.numpy()
    return np.asarray(result)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7, help="timed runs per measurement (median reported)")
    parser.add_argument("--quick", action="store_true", help="10x smaller inputs, for a smoke test")
    arguments = parser.parse_args()
    scale = 10 if arguments.quick else 1
    n_samples, n_classes, n_elements = 100_000 // scale, 1_000, 10_000_000 // scale

    print(
        f"numpy {np.__version__}, torch {torch.__version__} ({torch.get_num_threads()} threads), "
        f"tensorflow {tf.__version__}; companion worker threads: {_parallel.worker_count()}; "
        f"{os.cpu_count()} CPUs ({platform.machine()})"
    )
    print(f"median of {arguments.repeats} runs after one warm-up, float32, times in ms")
    print("'1 thread': the companion with its thread pool switched off\n")
    cases = {
        f"cross_entropy ({n_samples:_}, {n_classes:_})": cross_entropy_cases(n_samples, n_classes, seed=0),
        f"mse ({n_elements:_},)": mse_cases(n_elements, seed=1),
    }
    columns = ("companion", "1 thread", "torch", "tensorflow", "companion/torch")
    header = f"{'loss':<31}{'what':<10}" + "".join(f"{column:>16}" for column in columns)
    print(header)
    print("-" * len(header))
    for loss_name, by_kind in cases.items():
        for kind, implementations in by_kind.items():
            reference = to_numpy(implementations["torch"]())
            for name in ("companion", "tensorflow"):
                difference = relative_difference(to_numpy(implementations[name]()), reference)
                if difference > 1e-4:
                    raise SystemExit(f"{loss_name} {kind}: {name} differs from torch by {difference:.2e}")
            timings = {
                name: median_milliseconds(run, arguments.repeats) for name, run in implementations.items()
            }
            with serial_companion():
                single_thread = median_milliseconds(implementations["companion"], arguments.repeats)
                serial_result = to_numpy(implementations["companion"]())
            if not np.array_equal(serial_result, to_numpy(implementations["companion"]())):
                raise SystemExit(f"{loss_name} {kind}: the threaded result differs from the serial one")
            row = (timings["companion"], single_thread, timings["torch"], timings["tensorflow"])
            ratio = timings["companion"] / timings["torch"]
            cells = "".join(f"{value:>16.1f}" for value in row)
            print(f"{loss_name:<31}{kind:<10}{cells}{ratio:>16.2f}")


@contextlib.contextmanager
def serial_companion() -> Iterator[None]:
    """Run the companion's losses in the calling thread only (its thread pool unused)."""
    names = ("MEMORY_BOUND_PARALLEL_MIN_BYTES", "COMPUTE_BOUND_PARALLEL_MIN_BYTES")
    saved = {name: getattr(_parallel, name) for name in names}
    for name in names:
        setattr(_parallel, name, sys.maxsize)
    try:
        yield
    finally:
        for name, value in saved.items():
            setattr(_parallel, name, value)


if __name__ == "__main__":
    main()
