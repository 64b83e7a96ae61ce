"""Chunked parallel map over files, identical results to a serial run.

Per-file work in nplab is small (milliseconds per ABF file), so tasks are chunks of
files (50–200 per task by default) to amortise the per-task overhead of process pools
(~0.6 ms) and Dask (~1–3 ms; Dask best practices, dask/dask
``docs/source/best-practices.rst``).  The engine is a local
:class:`concurrent.futures.ProcessPoolExecutor` by default, or any object with the
``Executor.submit`` interface — including a ``dask.distributed.Client`` — or a Dask
scheduler address.  Results are always returned in input order, so outputs do not
depend on the engine or on scheduling.  Memory is bounded by one chunk's results plus
one file per worker.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from typing import Any, TypeVar

from nplab.errors import InputError

__all__ = ["chunk_size_for", "chunks", "map_chunks", "resolve_executor"]

T = TypeVar("T")
R = TypeVar("R")

MIN_CHUNK = 50
MAX_CHUNK = 200


def chunk_size_for(n_items: int, workers: int) -> int:
    """Files per task: 50–200, fewer only when that is needed to use every worker."""
    if n_items <= 0:
        return 1
    per_worker = math.ceil(n_items / max(1, workers))
    if per_worker <= MIN_CHUNK:
        return max(1, per_worker)
    return int(min(MAX_CHUNK, max(MIN_CHUNK, math.ceil(n_items / (4 * workers)))))


def chunks(items: Sequence[T], size: int) -> list[list[T]]:
    """Consecutive chunks of ``size`` items (the last may be shorter)."""
    return [list(items[i : i + size]) for i in range(0, len(items), max(1, size))]


def resolve_executor(executor: Any, n_items: int) -> tuple[Executor | None, bool, int]:
    """``(executor, owned, workers)``; ``None`` executor means run serially.

    ``executor`` may be ``None`` (serial for fewer than ``2 × 50`` items, else a local
    process pool over all cores), ``"serial"``, an int (local processes), a scheduler
    address (``"tcp://host:8786"``, needs ``dask.distributed``) or an executor-like
    object with ``submit`` (used as is, not shut down).
    """
    if executor is None:
        cores = os.cpu_count() or 1
        if n_items < 2 * MIN_CHUNK or cores < 2:
            return None, False, 1
        return ProcessPoolExecutor(max_workers=cores), True, cores
    if isinstance(executor, str):
        if executor == "serial":
            return None, False, 1
        try:
            from distributed import Client
        except ImportError:
            raise InputError(
                "a scheduler address needs dask.distributed",
                column="scheduler",
                expected="pip install 'dask[distributed]'",
            ) from None
        try:
            client = Client(executor, timeout=30)
        except (OSError, TimeoutError, ValueError, TypeError) as exc:  # ValueError: bad address
            raise InputError(
                f"cannot connect to the Dask scheduler {executor!r}: {exc}", column="scheduler"
            ) from None
        workers = max(1, len(client.scheduler_info().get("workers", {})))
        return client, True, workers
    if isinstance(executor, bool):
        raise InputError("executor must not be a bool", column="executor")
    if isinstance(executor, int):
        if executor < 1:
            raise InputError("jobs must be >= 1", column="jobs", expected="an integer >= 1")
        if executor == 1:
            return None, False, 1
        return ProcessPoolExecutor(max_workers=executor), True, executor
    if hasattr(executor, "submit"):
        workers = getattr(executor, "_max_workers", None) or os.cpu_count() or 1
        return executor, False, int(workers)
    raise InputError(
        f"unsupported executor {type(executor).__name__}",
        column="executor",
        expected="None, 'serial', an int, a scheduler address or an Executor",
    )


def _show_progress(progress: bool | None) -> bool:
    if progress is None:
        return bool(getattr(sys.stderr, "isatty", lambda: False)())
    return bool(progress)


def map_chunks(
    func: Callable[[Any], list[R]],
    items: Sequence[T],
    *,
    make_task: Callable[[list[T]], Any] = lambda chunk: chunk,
    executor: Any = None,
    progress: bool | None = None,
    desc: str = "files",
    chunk_size: int | None = None,
) -> list[R]:
    """Apply ``func`` to chunks of ``items``; return the concatenated results in order.

    Parameters
    ----------
    func
        Top-level (picklable) function taking ``make_task(chunk)`` and returning one
        result per item of the chunk.
    items
        Work items (usually file paths).
    make_task
        Builds the task argument from a chunk (e.g. adds the protocol); runs in the
        calling process.
    executor
        See :func:`resolve_executor`.
    progress
        tqdm progress bar over items; ``None``: only when stderr is a terminal.
    chunk_size
        Items per task; default :func:`chunk_size_for`.
    """
    items = list(items)
    pool, owned, workers = resolve_executor(executor, len(items))
    size = chunk_size or (chunk_size_for(len(items), workers) if pool else MIN_CHUNK)
    parts = chunks(items, size)
    show = _show_progress(progress)
    bar = None
    if show:
        from tqdm import tqdm

        bar = tqdm(total=len(items), desc=desc, unit="file", file=sys.stderr)
    results: list[R] = []
    try:
        if pool is None:
            for part in parts:
                results.extend(func(make_task(part)))
                if bar is not None:
                    bar.update(len(part))
        else:
            futures = [pool.submit(func, make_task(part)) for part in parts]
            for part, fut in zip(parts, futures, strict=True):
                results.extend(fut.result())
                if bar is not None:
                    bar.update(len(part))
    finally:
        if bar is not None:
            bar.close()
        if owned:
            if isinstance(pool, ProcessPoolExecutor):
                pool.shutdown()
            else:  # a dask Client we connected: close it, never shut the scheduler down
                pool.close()
    return results
