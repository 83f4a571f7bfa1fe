"""Cache-sized blocks, spread over a thread pool: the engine of the fast losses (MSE and cross-entropy).

Why blocks. A NumPy expression such as ``np.exp(x - x.max(axis=1, keepdims=True)).sum(axis=1)`` makes four
passes over ``x`` and writes two temporaries as large as ``x``. On a (100 000, 1 000) float32 array that is
400 MB of temporaries, and every pass streams from main memory. Cut ``x`` into blocks of rows of about
:data:`BLOCK_BYTES` instead, and only the first pass over a block reads main memory: the later passes find the
block in cache, and the scratch space is one block, reused.

Why threads. NumPy releases the GIL inside its loops, so several threads can work on different blocks at the
same time. Blocks are handed out in a few chunks per worker (not one chunk per worker) so that a core slowed
down by another process does not hold up the others.

Determinism. Each block writes its results to its own slot of an output array and the caller combines the
slots in block order, so the result is bit-for-bit the same whatever the number of threads, and whichever
thread ran which block. Block boundaries depend only on :data:`BLOCK_BYTES` and the shape of the input.
"""

from __future__ import annotations

import os
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

#: Target size of one block of input. Large enough that the interpreter's work per block (about ten NumPy
#: calls, a few microseconds) is small next to the block's arithmetic; small enough that a block and its
#: scratch space stay in cache (on the 2-core AMD EPYC this was tuned on: 512 KB of L2 per core, 32 MB of
#: shared L3). Measured there, 1 MB was fastest for cross-entropy and MSE, with 256 KB about 1.3x and 64 KB
#: about 2x slower.
BLOCK_BYTES = 1024 * 1024

#: Below these sizes of input, handing blocks to threads costs more than it saves. A loss with a few cheap
#: operations per element (MSE) is limited by memory bandwidth, and a second thread paid off only from about
#: 16 MB of input in measurements on the machine above; one with an exponential per element (cross-entropy) is
#: limited by arithmetic, and a second thread paid off from two blocks on.
MEMORY_BOUND_PARALLEL_MIN_BYTES = 16 * 1024 * 1024
COMPUTE_BOUND_PARALLEL_MIN_BYTES = 2 * 1024 * 1024

#: Chunks of blocks handed out per worker, for load balancing on a shared machine.
CHUNKS_PER_WORKER = 4

_pool: ThreadPoolExecutor | None = None
_pool_lock = threading.Lock()


def worker_count() -> int:
    """The number of CPU cores this process may use (at most 8: the losses are memory-bound beyond that)."""
    try:
        available = len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        available = os.cpu_count() or 1
    return max(1, min(available, 8))


def _get_pool(workers: int) -> ThreadPoolExecutor:
    global _pool
    with _pool_lock:
        if _pool is None:
            _pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="lossopt-losses")
        return _pool


def _forget_pool() -> None:
    # A forked child inherits the pool object but not its threads: it must build its own.
    global _pool
    _pool = None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_forget_pool)


def block_count(n_items: int, items_per_block: int) -> int:
    """The number of blocks of ``items_per_block`` items needed to cover ``n_items`` items."""
    return -(-n_items // items_per_block)


def items_per_block(item_bytes: int) -> int:
    """How many items (rows, or elements) of ``item_bytes`` bytes make a block of about ``BLOCK_BYTES``."""
    return max(1, BLOCK_BYTES // item_bytes)


def run_blocks(
    process_blocks: Callable[[int, int], None], n_blocks: int, total_bytes: int, *, compute_bound: bool
) -> None:
    """Call ``process_blocks(first, stop)`` on consecutive ranges of blocks covering ``range(n_blocks)``.

    ``process_blocks`` handles blocks ``first, ..., stop - 1`` and writes each block's results to that block's
    own slot, allocating its scratch space once per call. The ranges run on the thread pool when the machine
    has more than one core and the input is large enough (``total_bytes``, against the threshold for
    ``compute_bound`` or memory-bound work), in the calling thread otherwise. An exception raised in a worker
    is re-raised here.
    """
    workers = worker_count()
    min_bytes = COMPUTE_BOUND_PARALLEL_MIN_BYTES if compute_bound else MEMORY_BOUND_PARALLEL_MIN_BYTES
    if workers == 1 or n_blocks < 2 or total_bytes < min_bytes:
        process_blocks(0, n_blocks)
        return
    n_chunks = min(n_blocks, CHUNKS_PER_WORKER * workers)
    bounds = [n_blocks * chunk // n_chunks for chunk in range(n_chunks + 1)]
    pool = _get_pool(workers)
    futures = [pool.submit(process_blocks, first, stop) for first, stop in zip(bounds[:-1], bounds[1:])]
    for future in futures:
        future.result()
