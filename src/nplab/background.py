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
"""

from __future__ import annotations

import os
import signal
import threading
from collections.abc import Callable
from types import TracebackType

__all__ = ["Background"]


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

    def submit(self, job: Callable[[], object]) -> None:
        """Start ``job`` in a child (or run it here, see the module notes)."""
        if not self.enabled or _other_threads():
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

    def cancel(self) -> None:
        """Stop every running child (their jobs are dropped)."""
        for pid, _ in self._running:
            try:
                os.kill(pid, signal.SIGKILL)
                os.waitpid(pid, 0)
            except (ProcessLookupError, ChildProcessError):
                pass
        self._running, self._failed = [], []

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
        else:
            self.cancel()
