"""How many threads an optimizer step may use, and the shared thread pools."""

from __future__ import annotations

import os
from concurrent.futures import ThreadPoolExecutor
from functools import cache

from .._validation import check_int

# The updates are limited by memory bandwidth, which a few cores saturate: more than 4 threads gain nothing.
_available_cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1
_num_threads = max(1, min(4, _available_cpus))


def set_num_threads(num_threads: int) -> None:
    """Set how many threads an optimizer step may use on large parameters (default: the CPUs available, at most 4).

    The result of a step is the same bit for bit whatever the number of threads, since every update is elementwise.

    Parameters
    ----------
    num_threads : int
        A positive number of threads; 1 runs every step on the calling thread.

    Raises
    ------
    ValueError
        If ``num_threads`` is not a positive integer.

    Examples
    --------
    >>> from lossopt_companion import optim
    >>> previous = optim.get_num_threads()
    >>> optim.set_num_threads(1)
    >>> optim.get_num_threads()
    1
    >>> optim.set_num_threads(previous)
    """
    global _num_threads
    _num_threads = check_int(num_threads, "num_threads")


def get_num_threads() -> int:
    """Return how many threads an optimizer step may use (see ``set_num_threads``).

    Returns
    -------
    int
        The current number of threads.

    Examples
    --------
    >>> from lossopt_companion import optim
    >>> optim.get_num_threads() >= 1
    True
    """
    return _num_threads


@cache
def thread_pool(num_threads: int) -> ThreadPoolExecutor:
    """The process-wide pool of ``num_threads`` workers (created once, shared by every optimizer)."""
    return ThreadPoolExecutor(max_workers=num_threads, thread_name_prefix="lossopt-optim")


# A forked child inherits the cached pools but not their threads: work submitted there would never run.
if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=thread_pool.cache_clear)
