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

A worker process that dies (killed by the operating system, e.g. out of memory, or a
crash in a C extension) must not take the batch down: the chunks it broke are re-run
one item per task, and an item whose worker dies even when it runs alone gets the
result of ``on_worker_death(item, "worker died (signal 9)")`` — for ``nplab ephys
measure`` a ``failed`` row — while every other item is processed normally.
"""

from __future__ import annotations

import math
import os
import sys
from collections.abc import Callable, Sequence
from concurrent.futures import Executor, ProcessPoolExecutor
from concurrent.futures.process import BrokenProcessPool
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
    on_worker_death: Callable[[Any, str], R] | None = None,
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
    on_worker_death
        ``(item, reason) -> result`` for an item whose worker process dies even when
        it runs alone (reason e.g. ``"worker died (signal 9)"``); ``None``: such an
        item raises :class:`~nplab.errors.InputError` naming it.
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
            futures = [_submit(pool, func, make_task(part)) for part in parts]
            broken: list[int] = []
            done: list[list[R] | None] = []
            for k, (part, fut) in enumerate(zip(parts, futures, strict=True)):
                try:
                    done.append(fut.result())
                except Exception as exc:
                    if not _worker_died(exc):
                        raise
                    done.append(None)
                    broken.append(k)
                if bar is not None and done[-1] is not None:
                    bar.update(len(part))
            if broken:
                again = [item for k in broken for item in parts[k]]
                alone = _rerun_alone(func, make_task, again, pool, workers, on_worker_death)
                pos = 0
                for k in broken:
                    done[k] = alone[pos : pos + len(parts[k])]
                    pos += len(parts[k])
                    if bar is not None:
                        bar.update(len(parts[k]))
            for part_results in done:
                results.extend(part_results or [])
    finally:
        if bar is not None:
            bar.close()
        if owned:
            if isinstance(pool, ProcessPoolExecutor):
                pool.shutdown()
            else:  # a dask Client we connected: close it, never shut the scheduler down
                pool.close()
    return results


def _submit(pool: Any, func: Callable[[Any], Any], task: Any) -> Any:
    """``pool.submit``; a pool broken by an earlier death yields a failed future."""
    try:
        return pool.submit(func, task)
    except BrokenProcessPool as exc:
        from concurrent.futures import Future

        fut: Future = Future()
        fut.set_exception(exc)
        return fut


def _worker_died(exc: BaseException) -> bool:
    """A process pool broken by a dying worker, or Dask's ``KilledWorker``."""
    return isinstance(exc, BrokenProcessPool) or type(exc).__name__ == "KilledWorker"


def _death_reason(processes: list[Any]) -> str:
    import time

    for proc in processes:
        proc.join(timeout=10)
        # the pool's manager thread may reap the process at the same moment (our waitpid
        # then finds no child and the exit code reads None until it has stored it)
        code = proc.exitcode
        for _ in range(100):
            if code is not None:
                break
            time.sleep(0.02)
            code = proc.exitcode
        if code is not None and code < 0:
            return f"worker died (signal {-code})"
        if code:
            return f"worker died (exit code {code})"
    return "worker died"


def _rerun_alone(
    func: Callable[[Any], list[R]],
    make_task: Callable[[list[Any]], Any],
    items: list[Any],
    pool: Any,
    workers: int,
    on_death: Callable[[Any, str], R] | None,
) -> list[R]:
    """Results of ``items`` run one per task after a worker died.

    Items are first re-run in parallel, one per task (on a fresh process pool when the
    old one is broken); the items whose worker died again then run one at a time in
    a one-worker pool, so the culprit is known and gets ``on_death(item, reason)``.
    """
    is_pool = isinstance(pool, ProcessPoolExecutor)
    ctx = getattr(pool, "_mp_context", None)
    out: list[Any] = [None] * len(items)
    retry: list[int] = []
    fresh = ProcessPoolExecutor(max_workers=max(1, workers), mp_context=ctx) if is_pool else pool
    try:
        futures = [_submit(fresh, func, make_task([item])) for item in items]
        for i, fut in enumerate(futures):
            try:
                out[i] = fut.result()[0]
            except Exception as exc:
                if not _worker_died(exc):
                    raise
                retry.append(i)
    finally:
        if is_pool:
            fresh.shutdown(wait=True, cancel_futures=True)
    single = None
    try:
        for i in retry:
            if not is_pool:  # e.g. Dask: one more try alone, then give up on the item
                fut = _submit(pool, func, make_task([items[i]]))
                try:
                    out[i] = fut.result()[0]
                    continue
                except Exception as exc:
                    if not _worker_died(exc):
                        raise
                    reason = "worker died"
            else:
                if single is None:
                    single = ProcessPoolExecutor(max_workers=1, mp_context=ctx)
                    # start its worker now, so the process whose exit code names the
                    # signal is known before the pool marks itself broken (it then
                    # forgets its processes: the reason lost the signal now and then)
                    single.submit(int).result()
                procs = list((getattr(single, "_processes", None) or {}).values())
                fut = _submit(single, func, make_task([items[i]]))
                try:
                    out[i] = fut.result()[0]
                    continue
                except Exception as exc:
                    if not _worker_died(exc):
                        raise
                    procs += list((getattr(single, "_processes", None) or {}).values())
                    reason = _death_reason(procs)
                    single.shutdown(wait=True)
                    single = None
            if on_death is None:
                raise InputError(f"{reason} while processing {items[i]}", file=str(items[i]))
            out[i] = on_death(items[i], reason)
    finally:
        if single is not None:
            single.shutdown(wait=True)
    return out
