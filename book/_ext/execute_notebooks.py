"""Execute the notebooks into Jupyter Book's cache, several at once, before the book is built.

``make book`` runs this first and then ``jupyter-book build``, whose
``execute_notebooks: cache`` finds every notebook already executed in the cache and
renders it without running it again. Each notebook runs as under the book build: in its
own folder, with the ``timeout`` and ``allow_errors`` of ``_config.yml``, in a fresh
kernel. The cache is emptied first, so every build still executes every notebook exactly
once.

Usage::

    python book/_ext/execute_notebooks.py [--jobs N] [--cache DIR] [NOTEBOOK ...]

Without notebooks it executes every notebook that ``_toc.yml`` lists. It prints each
notebook's time, the sum, and the wall-clock time; a notebook that fails prints its
traceback, and the command exits with status 1.
"""

from __future__ import annotations

import argparse
import concurrent.futures
import os
import sys
import time
from pathlib import Path
from typing import Any

import nbformat
import yaml
from jupyter_cache import get_cache
from jupyter_cache.base import CacheBundleIn
from jupyter_cache.executors.utils import single_nb_execution

ROOT = Path(__file__).resolve().parents[2]


def toc_notebooks(root: Path = ROOT) -> list[Path]:
    """Every notebook that the table of contents lists, in its order."""

    def files(node: Any) -> list[str]:
        if isinstance(node, dict):
            found = [node["file"]] if "file" in node else []
            found += [node["root"]] if "root" in node else []
            return found + [f for value in node.values() for f in files(value)]
        if isinstance(node, list):
            return [f for item in node for f in files(item)]
        return []

    toc = yaml.safe_load((root / "_toc.yml").read_text(encoding="utf-8"))
    candidates = [root / f"{entry}.ipynb" for entry in files(toc)]
    return [path for path in candidates if path.is_file()]


def execution_settings(root: Path = ROOT) -> dict[str, Any]:
    """The ``execute:`` settings of ``_config.yml`` that this runner shares with the build."""
    config = yaml.safe_load((root / "_config.yml").read_text(encoding="utf-8"))
    execute = config.get("execute", {})
    if execute.get("run_in_temp", False):
        raise SystemExit(
            "execute.run_in_temp is true in _config.yml; this runner executes in each notebook's folder"
        )
    return {
        "timeout": int(execute.get("timeout", 30)),
        "allow_errors": bool(execute.get("allow_errors", False)),
    }


def _execute(path: Path, timeout: int, allow_errors: bool) -> tuple[Path, Any, float, str | None]:
    """Run one notebook in a fresh kernel (in a worker process).

    Returns the path, the executed notebook, the seconds it took and the traceback (or None).
    """
    notebook = nbformat.read(path, as_version=4)
    result = single_nb_execution(notebook, cwd=str(path.parent), timeout=timeout, allow_errors=allow_errors)
    return (
        path,
        notebook,
        result.time,
        (result.exc_string if result.err is not None else None),
    )


def execute_into_cache(
    notebooks: list[Path],
    cache_dir: Path,
    *,
    jobs: int,
    timeout: int,
    allow_errors: bool,
) -> tuple[dict[Path, float], dict[Path, str], float]:
    """Execute ``notebooks`` with ``jobs`` worker processes into an emptied cache at ``cache_dir``.

    Returns each notebook's execution time, the tracebacks of those that failed, and the
    wall-clock time.
    """
    cache = get_cache(str(cache_dir))
    cache.clear_cache()  # the folder and its database are made again on first use
    # Longest first, so that the last notebook to start is a short one: the stored size
    # is a fair proxy.
    order = sorted(notebooks, key=lambda path: path.stat().st_size, reverse=True)
    times: dict[Path, float] = {}
    failures: dict[Path, str] = {}
    start = time.perf_counter()
    with concurrent.futures.ProcessPoolExecutor(max_workers=jobs) as pool:
        futures = [pool.submit(_execute, path, timeout, allow_errors) for path in order]
        for future in concurrent.futures.as_completed(futures):
            path, notebook, seconds, traceback = future.result()
            times[path] = seconds
            if traceback is not None:
                failures[path] = traceback
                continue
            record = cache.add_nb_to_project(str(path))
            cache.cache_notebook_bundle(
                CacheBundleIn(notebook, record.uri, data={"execution_seconds": seconds}),
                check_validity=False,
                overwrite=True,
            )
            print(f"{seconds:6.1f} s  {path.relative_to(ROOT)}", flush=True)
    return times, failures, time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every notebook of _toc.yml")
    parser.add_argument(
        "--jobs",
        type=int,
        default=os.cpu_count() or 1,
        help="worker processes (default: CPUs)",
    )
    parser.add_argument(
        "--cache",
        type=Path,
        default=ROOT / "_build" / ".jupyter_cache",
        help="the cache folder",
    )
    args = parser.parse_args(argv)
    notebooks = [path.resolve() for path in args.notebooks] or toc_notebooks()
    settings = execution_settings()
    print(
        f"executing {len(notebooks)} notebooks, {args.jobs} at a time, into {args.cache}",
        flush=True,
    )
    times, failures, wall = execute_into_cache(notebooks, args.cache, jobs=args.jobs, **settings)
    for path, traceback in failures.items():
        print(f"\n{path.relative_to(ROOT)} failed:\n{traceback}", file=sys.stderr)
    print(f"{len(times)} notebooks: {sum(times.values()):.1f} s of execution in {wall:.1f} s of wall time")
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
