"""Jobs run in a forked child process while the caller goes on (e.g. saving figures).

Saving a report figure draws it twice (PNG and SVG), ~0.1–0.2 s per figure, while the
process that built it has other work to do (the next assay).  :class:`Background` runs
such a job in a child made with ``os.fork``: the child already holds the objects the
job needs (no pickling, no re-import), writes its files (atomically, see
:func:`nplab.tables.atomic_write`) and leaves with exit status 0 (done) or 1 (failed).
The job is exactly the one a serial run would call, so the bytes written are the same.

A job whose child fails is run again in the calling process by :meth:`Background.wait`,
so its error is raised there with nplab's usual message (a child prints nothing).
Jobs run in the calling process instead of a child where ``os.fork`` does not exist
(Windows), where the process already runs other threads (forking them is unsafe), when
the machine has one core, and when parallel work is switched off (``enabled=False``;
the study runner does so for ``jobs=1`` or ``executor="serial"``).

:meth:`Background.compute` runs a function whose *result* the caller needs later (the
runner reads a recording-heavy assay while it analyses the others): the child sends the
pickled result and the warnings it raised back through a pipe, and
:meth:`Pending.result` returns that result and re-issues the warnings here.  If the
child fails (an error, an unpicklable result), the function is called again here, so
the error is raised with its usual message; the value is the one a serial call returns.
"""

from __future__ import annotations

import os
import pickle
import signal
import threading
import warnings
from collections.abc import Callable
from types import TracebackType
from typing import Any, Generic, TypeVar

__all__ = ["Background", "Pending"]

T = TypeVar("T")


def _other_threads() -> bool:
    """True when this process runs threads besides the caller's (forking them is unsafe)."""
    return threading.active_count() > 1


class Background:
    """Run jobs in forked children, at most ``max_children`` at a time.

    Parameters
    ----------
    enabled
        False: every job runs at once in the calling process.
    max_children
        Children running at the same time (default: the number of cores); a job
        submitted while that many run waits for the oldest to finish.

    Examples
    --------
    >>> with Background() as bg:
    ...     bg.submit(lambda: None)
    ...     bg.wait()   # every job done (failed ones re-run here, raising their error)
    """

    def __init__(self, enabled: bool = True, max_children: int | None = None) -> None:
        cores = os.cpu_count() or 1
        self.enabled = bool(enabled) and hasattr(os, "fork") and cores > 1
        self.max_children = max(1, max_children if max_children is not None else cores)
        self._running: list[tuple[int, Callable[[], object]]] = []
        self._failed: list[Callable[[], object]] = []
        self._pending: list[Pending[Any]] = []
        self._warned: dict[Any, Any] = {}  # registry of warnings re-issued from children

    def _forks(self) -> bool:
        return self.enabled and not _other_threads()

    def submit(self, job: Callable[[], object]) -> None:
        """Start ``job`` in a child (or run it here, see the module notes)."""
        if not self._forks():
            job()
            return
        while len(self._running) >= self.max_children:
            self._reap(self._running[0])
        pid = os.fork()
        if pid == 0:  # the child: run the job, never return into the caller's code
            status = 1
            try:
                job()
                status = 0
            except BaseException:
                pass
            finally:
                os._exit(status)
        self._running.append((pid, job))

    def wait(self) -> None:
        """Wait for every child; run the jobs of failed children here (raising their
        errors)."""
        while self._running:
            self._reap(self._running[0])
        failed, self._failed = self._failed, []
        for job in failed:
            job()

    def _reap(self, entry: tuple[int, Callable[[], object]]) -> None:
        pid, job = entry
        _, status = os.waitpid(pid, 0)
        self._running.remove(entry)
        if not (os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0):
            self._failed.append(job)

    def compute(self, func: Callable[[], T]) -> Pending[T]:
        """Start ``func`` in a child and return at once; ``.result()`` gives its value
        (called here at once instead where jobs run in the caller, see the module notes).

        ``func`` must not depend on changes the caller makes after this call, and what
        it changes in memory (besides its result) stays in the child.
        """
        pending = Pending(func, self._warned, fork=self._forks())
        if pending._pid is not None:
            self._pending.append(pending)
        return pending

    def cancel(self) -> None:
        """Stop every running child (their jobs and results are dropped)."""
        for pid in [pid for pid, _ in self._running] + [p._pid for p in self._pending]:
            if pid is None:
                continue
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        for p in self._pending:
            p._drop()
        self._running, self._failed, self._pending = [], [], []

    def __enter__(self) -> Background:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if exc_type is None:
            self.wait()
        self.cancel()  # after an error: every child; else results nobody asked for


class Pending(Generic[T]):
    """The value of a function computed in a forked child (see :meth:`Background.compute`)."""

    def __init__(self, func: Callable[[], T], registry: dict[Any, Any], fork: bool) -> None:
        self._func = func
        self._registry = registry
        self._pid: int | None = None
        self._fd: int | None = None
        self._done = False
        self._value: T | None = None
        if not fork:
            self._value, self._done = func(), True
            return
        r, w = os.pipe()
        pid = os.fork()
        if pid == 0:  # the child: compute, send, never return into the caller's code
            status = 1
            try:
                os.close(r)
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    value = func()
                sent = [(m.message, m.category, m.filename, m.lineno) for m in seen]
                data = memoryview(pickle.dumps((value, sent), protocol=pickle.HIGHEST_PROTOCOL))
                while data:
                    data = data[os.write(w, data):]
                status = 0
            except BaseException:
                pass
            finally:
                os._exit(status)
        os.close(w)
        self._pid, self._fd = pid, r

    def result(self) -> T:
        """The function's value (waits for the child; re-runs the function here if the
        child failed, raising its error)."""
        if not self._done:
            chunks = []
            while chunk := os.read(self._fd, 1 << 20):
                chunks.append(chunk)
            _, status = os.waitpid(self._pid, 0)
            self._drop()
            ok = os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0
            try:
                value, sent = pickle.loads(b"".join(chunks)) if ok else (None, None)
            except Exception:
                value, sent = None, None
            if sent is None:
                value = self._func()
            else:
                for message, category, filename, lineno in sent:
                    warnings.warn_explicit(message, category, filename, lineno,
                                           registry=self._registry)
            self._value, self._done = value, True
        return self._value  # type: ignore[return-value]

    def _drop(self) -> None:
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._pid = None, None
