"""Time the execution of the book's notebooks as ``make book`` runs them: ``--jobs`` processes at once.

``make book`` spends most of its time executing the 18 notebooks (``book/_ext/execute_notebooks.py``, which
runs them in parallel into Jupyter Book's cache), then renders the pages from the cache. This benchmark runs
the same executor into a temporary cache and prints each notebook's time, longest first, the sum (the time one
process would need, roughly) and the wall-clock time, so that the gain of running several at once can be read
off one run. With ``--jobs 1`` it measures the one-at-a-time build that ``make book`` did before.

A notebook's time under ``--jobs 2`` on 2 cores is longer than alone (two kernels share the cores); what the
reader of the book sees on the *Execution times* page is that time.

Run it with ``.venv/bin/python benchmarks/book.py [--jobs N]``.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "book" / "_ext"))
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")  # the kernels inherit it, before TensorFlow is imported

from execute_notebooks import execute_into_cache, execution_settings, toc_notebooks  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument(
        "--jobs", type=int, default=os.cpu_count() or 1, help="worker processes (default: CPUs)"
    )
    args = parser.parse_args()
    notebooks = toc_notebooks()
    with tempfile.TemporaryDirectory() as cache:
        times, failures, wall = execute_into_cache(
            notebooks, Path(cache), jobs=args.jobs, **execution_settings()
        )
    print(f"\n{'notebook':58s} {'seconds':>8s}")
    for path, seconds in sorted(times.items(), key=lambda item: -item[1]):
        print(f"{str(path.relative_to(ROOT)):58s} {seconds:8.1f}{'  FAILED' if path in failures else ''}")
    total = sum(times.values())
    print(f"{'sum of the notebooks':58s} {total:8.1f}")
    print(f"{f'wall clock, {args.jobs} at a time on {os.cpu_count()} CPUs':58s} {wall:8.1f}")
    print(f"speed-up over the sum: {total / wall:.2f}x")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
