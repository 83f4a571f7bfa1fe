"""Time one optimizer step on 10M float32 parameters: lossopt_companion against torch's default CPU step and fused step.

Run from the repository root::

    .venv/bin/python benchmarks/optim.py            # about two minutes on 2 cores
    .venv/bin/python benchmarks/optim.py --quick    # fewer repeats, no memory table

The parameters are four float32 arrays of 6M, 3M, 999K and 1K elements (10M in all, 40 MB), with gradients of
the same shapes. Each implementation is warmed up (its state allocated) and then the implementations are timed in
turn, one step each, for ``--repeats`` rounds, so that a burst of load from other processes on this shared machine
hits all of them alike; the table gives medians and the ratios companion / torch.

"torch default" is ``torch.optim.X(params, lr)`` with nothing else set: on CPU, torch resolves ``foreach=None`` to
its single-tensor for-loop implementation. "torch fused" is ``fused=True``, which torch supports on CPU for Adam,
AdamW, SGD and Adagrad (not RMSprop).

Memory, measured per implementation in a fresh subprocess (so that no earlier allocation is reused): after two
warm-up steps (the state exists), the kernel's high-water mark of the resident set is reset
(``echo 5 > /proc/self/clear_refs``), one step is taken, and the extra peak is ``VmHWM`` after the step minus
``VmRSS`` before it. That counts every allocation (NumPy's and torch's alike) that the step touches, temporaries
included, but not memory that an allocator kept from earlier steps and reuses. For the companion, ``tracemalloc``
(to which NumPy reports its array buffers) gives a second, exact figure for NumPy allocations during the step.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from lossopt_companion import optim  # noqa: E402

SIZES = (6_000_000, 3_000_000, 999_000, 1_000)
LR = 1e-3
OPTIMIZERS = {
    # name: (companion factory, torch class name, keyword arguments shared by both, torch has fused on CPU)
    "SGD": (optim.SGD, "SGD", {"lr": LR}, True),
    "SGD momentum": (optim.SGD, "SGD", {"lr": LR, "momentum": 0.9}, True),
    "Adam": (optim.Adam, "Adam", {"lr": LR}, True),
    "AdamW": (optim.AdamW, "AdamW", {"lr": LR}, True),
    "RMSprop": (optim.RMSprop, "RMSprop", {"lr": LR}, False),
    "Adagrad": (optim.Adagrad, "Adagrad", {"lr": LR}, True),
}


def make_arrays(seed: int = 0) -> tuple[list[np.ndarray], list[np.ndarray]]:
    rng = np.random.default_rng(seed)
    params = [rng.standard_normal(size, dtype=np.float32) for size in SIZES]
    grads = [rng.standard_normal(size, dtype=np.float32) * np.float32(1e-3) for size in SIZES]
    return params, grads


def build(implementation: str, name: str, params: list[np.ndarray], grads: list[np.ndarray]):
    """Return a zero-argument function taking one step of ``name`` with ``implementation``."""
    factory, torch_name, kwargs, _ = OPTIMIZERS[name]
    if implementation.startswith("companion"):
        check = implementation == "companion"
        optimizer = factory([p.copy() for p in params], **kwargs, check_finite=check)
        return lambda: optimizer.step(grads)
    import torch

    tensors = [torch.tensor(p) for p in params]
    for tensor, grad in zip(tensors, grads):
        tensor.grad = torch.tensor(grad)
    extra = {"fused": True} if implementation == "torch fused" else {}
    optimizer = getattr(torch.optim, torch_name)(tensors, **kwargs, **extra)
    return optimizer.step


def implementations(name: str, timing: bool = True) -> list[str]:
    companion = ["companion", "companion no check"] if timing else ["companion"]
    return companion + ["torch default"] + (["torch fused"] if OPTIMIZERS[name][3] else [])


def time_steps(repeats: int) -> dict[str, dict[str, float]]:
    params, grads = make_arrays()
    medians: dict[str, dict[str, float]] = {}
    for name in OPTIMIZERS:
        steps = {impl: build(impl, name, params, grads) for impl in implementations(name)}
        for step in steps.values():  # warm-up: allocate the state
            step()
            step()
        times: dict[str, list[float]] = {impl: [] for impl in steps}
        for _ in range(repeats):
            for impl, step in steps.items():
                start = time.perf_counter()
                step()
                times[impl].append(time.perf_counter() - start)
        medians[name] = {impl: statistics.median(values) * 1e3 for impl, values in times.items()}
        del steps
    return medians


def _status_kib(key: str) -> int:
    with open("/proc/self/status", encoding="ascii") as status:
        for line in status:
            if line.startswith(key + ":"):
                return int(line.split()[1])
    raise KeyError(key)


def measure_memory_in_this_process(implementation: str, name: str) -> dict[str, float]:
    """The extra peak resident memory of one steady-state step (MiB), and tracemalloc's peak for the companion."""
    params, grads = make_arrays()
    step = build(implementation, name, params, grads)
    step()
    step()
    result = {}
    if implementation == "companion":
        tracemalloc.start()
        tracemalloc.reset_peak()
        before = tracemalloc.get_traced_memory()[0]
        step()
        result["tracemalloc_kib"] = (tracemalloc.get_traced_memory()[1] - before) / 1024
        tracemalloc.stop()
    with open("/proc/self/clear_refs", "w", encoding="ascii") as clear:
        clear.write("5")
    before = _status_kib("VmRSS")
    step()
    result["rss_mib"] = (_status_kib("VmHWM") - before) / 1024
    return result


def measure_memory() -> dict[str, dict[str, dict[str, float]]]:
    results: dict[str, dict[str, dict[str, float]]] = {}
    for name in OPTIMIZERS:
        results[name] = {}
        for impl in implementations(name, timing=False):
            output = subprocess.run(
                [sys.executable, __file__, "--memory-child", impl, name],
                check=True,
                capture_output=True,
                text=True,
                env={**os.environ, "OMP_NUM_THREADS": os.environ.get("OMP_NUM_THREADS", "2")},
            ).stdout
            results[name][impl] = json.loads(output.strip().splitlines()[-1])
    return results


def print_tables(medians: dict, memory: dict | None, threads: int) -> None:
    import torch

    print(f"one step on {sum(SIZES) / 1e6:.0f}M float32 parameters ({len(SIZES)} arrays); median ms; "
          f"companion threads = {threads}, torch threads = {torch.get_num_threads()}")
    print("(no check: the companion with check_finite=False, which skips the read of the gradients that looks for")
    print(" NaN and infinity before anything is updated; torch does no such check)")
    header = (
        f"{'optimizer':<14}{'companion':>10}{'no check':>10}{'torch':>8}{'fused':>8}"
        f"{'comp/torch':>12}{'comp/fused':>12}{'no check/fused':>16}"
    )
    print(header)
    print("-" * len(header))
    for name, row in medians.items():
        fused = row.get("torch fused")
        fused_ms = f"{fused:.1f}" if fused else "-"
        fused_ratio = f"{row['companion'] / fused:.2f}x" if fused else "-"
        unchecked_ratio = f"{row['companion no check'] / fused:.2f}x" if fused else "-"
        print(
            f"{name:<14}{row['companion']:>10.1f}{row['companion no check']:>10.1f}{row['torch default']:>8.1f}"
            f"{fused_ms:>8}{row['companion'] / row['torch default']:>11.2f}x{fused_ratio:>12}{unchecked_ratio:>16}"
        )
    if memory is None:
        return
    print()
    print("extra peak memory of one steady-state step, MiB (parameters: 38.1 MiB); companion tracemalloc in KiB")
    header = f"{'optimizer':<14}{'companion':>11}{'torch':>9}{'fused':>9}{'tracemalloc':>13}"
    print(header)
    print("-" * len(header))
    for name, row in memory.items():
        fused = row.get("torch fused")
        fused_mib = f"{fused['rss_mib']:.2f}" if fused else "-"
        print(
            f"{name:<14}{row['companion']['rss_mib']:>11.2f}{row['torch default']['rss_mib']:>9.2f}{fused_mib:>9}"
            f"{row['companion']['tracemalloc_kib']:>12.1f}K"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=15, help="timed steps per implementation (default 15)")
    parser.add_argument("--quick", action="store_true", help="5 repeats and no memory table")
    parser.add_argument("--threads", type=int, default=None, help="companion threads (default: its default)")
    parser.add_argument("--memory-child", nargs=2, metavar=("IMPLEMENTATION", "OPTIMIZER"), help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.threads is not None:
        optim.set_num_threads(args.threads)
    if args.memory_child:
        print(json.dumps(measure_memory_in_this_process(*args.memory_child)))
        return
    medians = time_steps(5 if args.quick else args.repeats)
    memory = None if args.quick else measure_memory()
    print_tables(medians, memory, optim.get_num_threads())


if __name__ == "__main__":
    main()
