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
import select
import signal
import struct
import sys
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

    def compute(self, func: Callable[[], T], fork: bool = True) -> Pending[T]:
        """Start ``func`` in a child and return at once; ``.result()`` gives its value
        (called here at once instead where jobs run in the caller, see the module notes).

        ``func`` must not depend on changes the caller makes after this call, and what
        it changes in memory (besides its result) stays in the child.  ``fork=False``:
        called here at once.
        """
        pending = Pending(func, self._warned, fork=fork and self._forks())
        if pending._pid is not None:
            self._pending.append(pending)
        return pending

    def cancel(self) -> None:
        """Stop every running child (their jobs and results are dropped); a computing
        child is stopped with the processes it started (its process group)."""
        for pid, _ in self._running:
            _kill(pid, group=False)
        for p in self._pending:
            p._drop(kill=True)
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


def _kill(pid: int, group: bool) -> None:
    """SIGKILL ``pid`` (``group``: its whole process group) and reap it."""
    try:
        if group:
            os.killpg(pid, signal.SIGKILL)
        else:
            os.kill(pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        os.waitpid(pid, 0)
    except ChildProcessError:
        pass


def _module_registry(filename: str) -> tuple[str | None, dict[Any, Any] | None]:
    """The module name and ``__warningregistry__`` of the module loaded from
    ``filename`` (so that a warning re-issued here meets the filters and the once-only
    bookkeeping a serial run's warning would)."""
    for name, module in list(sys.modules.items()):
        if getattr(module, "__file__", None) == filename:
            return name, vars(module).setdefault("__warningregistry__", {})
    return None, None


class Pending(Generic[T]):
    """The value of a function computed in a forked child (see :meth:`Background.compute`).

    The child runs in its own process group (stopping it stops any worker processes it
    started) and sends an 8-byte length, then the pickled ``(value, warnings)``.  The
    caller reads exactly that many bytes and reaps the child; a short message (the child
    failed) or a child that exits with an error makes :meth:`result` call the function
    here.  Processes left in the child's group afterwards are stopped.
    """

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
                os.setpgid(0, 0)
                os.close(r)
                with warnings.catch_warnings(record=True) as seen:
                    warnings.simplefilter("always")
                    value = func()
                sent = [(m.message, m.category, m.filename, m.lineno) for m in seen]
                data = pickle.dumps((value, sent), protocol=pickle.HIGHEST_PROTOCOL)
                view = memoryview(struct.pack("<Q", len(data)) + data)
                while view:
                    view = view[os.write(w, view):]
                status = 0
            except BaseException:
                pass
            finally:
                os._exit(status)
        try:
            os.setpgid(pid, pid)  # also here: no window in which a kill misses the group
        except OSError:
            pass
        os.close(w)
        self._pid, self._fd = pid, r

    def _receive(self) -> tuple[bytes | None, int]:
        """The child's message (None if incomplete) and its exit status; processes the
        child left in its group are stopped before it is reaped (its id stays taken)."""
        assert self._fd is not None and self._pid is not None
        pid = self._pid
        buf, need, exited = bytearray(), None, False
        while need is None or len(buf) < 8 + need:
            ready, _, _ = select.select([self._fd], [], [], 0.05)
            if ready:
                chunk = os.read(self._fd, 1 << 20)
                if not chunk:  # every writer gone
                    break
                buf += chunk
                if need is None and len(buf) >= 8:
                    need = struct.unpack("<Q", bytes(buf[:8]))[0]
            elif not exited:  # exited: what it wrote is readable now, or never comes
                exited = os.waitid(os.P_PID, pid, os.WEXITED | os.WNOHANG | os.WNOWAIT) is not None
                if exited and not select.select([self._fd], [], [], 0)[0]:
                    break
        os.waitid(os.P_PID, pid, os.WEXITED | os.WNOWAIT)  # the child is done (not reaped)
        try:
            os.killpg(pid, signal.SIGKILL)  # workers it left behind
        except (ProcessLookupError, PermissionError):
            pass
        _, status = os.waitpid(pid, 0)
        complete = need is not None and len(buf) >= 8 + need
        return (bytes(buf[8:8 + need]) if complete else None), status

    def result(self) -> T:
        """The function's value (waits for the child; re-runs the function here if the
        child failed, raising its error)."""
        if not self._done:
            data, status = self._receive()
            self._drop(kill=False)
            value, sent = None, None
            if data is not None and os.WIFEXITED(status) and os.WEXITSTATUS(status) == 0:
                try:
                    value, sent = pickle.loads(data)
                except Exception:
                    sent = None
            if sent is None:
                value = self._func()
            else:
                for message, category, filename, lineno in sent:
                    module, registry = _module_registry(filename)
                    warnings.warn_explicit(message, category, filename, lineno,
                                           module=module, registry=registry or self._registry)
            self._value, self._done = value, True
        return self._value  # type: ignore[return-value]

    def _drop(self, kill: bool) -> None:
        """Close the pipe (``kill``: stop the child and its process group first)."""
        if kill and self._pid is not None:
            _kill(self._pid, group=True)
        if self._fd is not None:
            os.close(self._fd)
        self._fd, self._pid = None, None
