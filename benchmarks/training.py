"""Time one training epoch of the companion's NumPy MLP against the same network in PyTorch and in Keras.

The task: the MLP 64-128-10 (ReLU) on the training split of scikit-learn's digits (1347 images), mini-batches of
32 (43 steps per epoch), Adam with lr 1e-3, softmax cross-entropy, float32, all three starting from the same
weights. Each framework runs its usual loop:

- companion: ``lossopt_companion.training.fit(..., epochs=1, batch_size=32)``;
- PyTorch: a plain loop (``randperm``, ``zero_grad``, forward, ``CrossEntropyLoss``, ``backward``, ``step``) with
  torch's default number of threads, and the same loop again with ``torch.set_num_threads(1)``: on a busy shared
  machine torch's thread pool can slow each step down many times over;
- Keras: ``model.fit(X, y, epochs=1, batch_size=32, verbose=0)``, after one warm-up epoch so that the time spent
  tracing the ``tf.function`` is excluded.

The frameworks run in turn, round after round, so that a slow spell of the (shared) machine hits all of them; the
table gives the median epoch time over the rounds and the ratios companion/torch and companion/keras. At batch 32
the matrices are tiny, so an epoch's time is mostly the per-step overhead of Python and of each library's calls;
a second table splits the companion's step into its three parts.

Run it with ``.venv/bin/python benchmarks/training.py [--rounds N]``.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
import timeit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # before TensorFlow is imported

import numpy as np  # noqa: E402

from lossopt_companion.datasets import load_digits  # noqa: E402
from lossopt_companion.frameworks import keras_mlp, torch_mlp  # noqa: E402
from lossopt_companion.models import MLP, resolve_loss  # noqa: E402
from lossopt_companion.optim import Adam  # noqa: E402
from lossopt_companion.training import fit, minibatches  # noqa: E402

LAYER_SIZES = (64, 128, 10)
BATCH_SIZE = 32
LEARNING_RATE = 1e-3


def companion_runner(X: np.ndarray, y: np.ndarray, model: MLP):
    optimizer = Adam(model.params, lr=LEARNING_RATE)
    epoch = [0]

    def run_epoch() -> float:
        epoch[0] += 1
        history = fit(model, "cross_entropy", optimizer, (X, y), epochs=1, batch_size=BATCH_SIZE, seed=epoch[0],
                      progress=False)
        return history["loss"][0]

    return run_epoch


def torch_runner(X: np.ndarray, y: np.ndarray, model: MLP, threads: int | None = None):
    import torch

    torch.manual_seed(0)
    network = torch_mlp(model)
    optimizer = torch.optim.Adam(network.parameters(), lr=LEARNING_RATE)
    loss_function = torch.nn.CrossEntropyLoss()
    X_t, y_t = torch.from_numpy(X), torch.from_numpy(y)

    def run_epoch() -> float:
        default_threads = torch.get_num_threads()
        if threads is not None:
            torch.set_num_threads(threads)
        order = torch.randperm(len(X_t))
        total = 0.0
        for start in range(0, len(X_t), BATCH_SIZE):
            rows = order[start : start + BATCH_SIZE]
            optimizer.zero_grad()
            loss = loss_function(network(X_t[rows]), y_t[rows])
            loss.backward()
            optimizer.step()
            total += loss.item() * len(rows)
        torch.set_num_threads(default_threads)
        return total / len(X_t)

    return run_epoch


def keras_runner(X: np.ndarray, y: np.ndarray, model: MLP):
    import keras

    keras.utils.set_random_seed(0)
    network = keras_mlp(model)
    network.compile(
        optimizer=keras.optimizers.Adam(learning_rate=LEARNING_RATE),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
    )
    network.fit(X, y, epochs=1, batch_size=BATCH_SIZE, verbose=0)  # warm-up: traces the train step

    def run_epoch() -> float:
        return network.fit(X, y, epochs=1, batch_size=BATCH_SIZE, verbose=0).history["loss"][0]

    return run_epoch


def companion_step_parts(X: np.ndarray, y: np.ndarray, model: MLP, repeats: int = 2000) -> dict[str, float]:
    """Median microseconds of the three parts of one companion step on a batch of 32."""
    X_checked, y_checked = model.check_data(X, y)
    X_batch, y_batch = next(iter(minibatches(X_checked, y_checked, BATCH_SIZE, rng=0)))
    loss_fn, loss_grad_fn = resolve_loss("cross_entropy")
    grads = [np.empty_like(p) for p in model.params]
    optimizer = Adam([p.copy() for p in model.params], lr=LEARNING_RATE)
    logits = model.forward(X_batch)
    output_grad = loss_grad_fn(y_batch, logits)
    fixed_loss = (lambda y_true, y_pred, reduction: 0.0, lambda y_true, y_pred, reduction: output_grad)

    parts = {
        "forward + backward (models)": lambda: model.loss_and_grad(
            X_batch, y_batch, fixed_loss, out=grads, check_input=False
        ),
        "loss + its gradient (losses)": lambda: (loss_fn(y_batch, logits), loss_grad_fn(y_batch, logits)),
        "Adam step (optim)": lambda: optimizer.step(grads),
    }
    result = {}
    for name, call in parts.items():
        samples = [timeit.timeit(call, number=repeats // 10) / (repeats // 10) for _ in range(10)]
        result[name] = (statistics.median(samples) * 1e6, count_c_calls(call))
    return result


def count_c_calls(call) -> int:
    """How many calls into C functions (NumPy functions, ufuncs, array methods, builtins) one call makes."""
    count = 0

    def profile(frame, event, arg) -> None:
        nonlocal count
        if event == "c_call":
            count += 1

    sys.setprofile(profile)
    try:
        call()
    finally:
        sys.setprofile(None)
    return count


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rounds", type=int, default=9, help="timed epochs per framework (default 9)")
    rounds = parser.parse_args().rounds

    split = load_digits()
    X = split.X_train.astype(np.float32)
    y = split.y_train
    n_steps = -(-len(X) // BATCH_SIZE)
    makers = {
        "companion (NumPy)": companion_runner,
        "PyTorch": torch_runner,
        "PyTorch, 1 thread": lambda X, y, model: torch_runner(X, y, model, threads=1),
        "Keras": keras_runner,
    }
    # Every framework starts from the same initial weights.
    runners = {name: make(X, y, MLP(LAYER_SIZES, seed=0, dtype=np.float32)) for name, make in makers.items()}

    times: dict[str, list[float]] = {name: [] for name in runners}
    last_loss: dict[str, float] = {}
    for _ in range(rounds):
        for name, run_epoch in runners.items():
            start = time.perf_counter()
            last_loss[name] = run_epoch()
            times[name].append(time.perf_counter() - start)

    medians = {name: statistics.median(samples) for name, samples in times.items()}
    companion = medians["companion (NumPy)"]
    import torch

    print(f"One epoch: MLP {'-'.join(map(str, LAYER_SIZES))} on digits ({len(X)} samples, batch {BATCH_SIZE}, "
          f"{n_steps} steps), Adam lr {LEARNING_RATE}, float32; median of {rounds} epochs")
    print(f"(torch's default threads: {torch.get_num_threads()}; the extra row sets torch.set_num_threads(1) for its "
          "epochs, which\n avoids oversubscription when the machine is busy; Keras timed after a warm-up epoch, "
          "tracing excluded)\n")
    print(f"{'framework':<20} {'epoch [ms]':>11} {'per step [us]':>14} {'companion/this':>15} {'last loss':>11}")
    for name, median in medians.items():
        print(f"{name:<20} {median * 1e3:>11.1f} {median / n_steps * 1e6:>14.0f} {companion / median:>15.2f} "
              f"{last_loss[name]:>11.4f}")
    print(f"\ncompanion / torch = {companion / medians['PyTorch']:.2f} (1 thread: "
          f"{companion / medians['PyTorch, 1 thread']:.2f}), companion / keras = {companion / medians['Keras']:.2f}"
          "  (goal: companion / torch <= 1.5)")

    print("\nThe companion's step on one batch of 32, by part (C calls: calls of NumPy functions and methods and of")
    print("builtins; operators such as += are not counted):")
    print(f"  {'part':<30} {'median [us]':>12} {'C calls':>14}")
    for name, (microseconds, calls) in companion_step_parts(X, y, MLP(LAYER_SIZES, dtype=np.float32)).items():
        print(f"  {name:<30} {microseconds:>12.1f} {calls:>14}")


if __name__ == "__main__":
    main()
