"""nplab.background: jobs in forked children, failures re-run (and raised) in the parent."""

from __future__ import annotations

import os
import threading
import time

import pytest

from nplab import background
from nplab.background import Background

needs_fork = pytest.mark.skipif(
    not hasattr(os, "fork") or (os.cpu_count() or 1) < 2, reason="needs os.fork and 2+ cores"
)


@pytest.fixture
def no_other_threads(monkeypatch):
    """Earlier tests can leave idle threads behind (pools, timers), which would make
    Background run every job inline; the fork tests are about the forking path."""
    monkeypatch.setattr(background, "_other_threads", lambda: False)


def forks(test):
    return needs_fork(pytest.mark.usefixtures("no_other_threads")(test))


@forks
def test_job_runs_in_a_child_and_its_file_is_there_after_wait(tmp_path):
    seen: list[int] = []

    def job():
        seen.append(os.getpid())  # appended in the child's memory only
        (tmp_path / "out.txt").write_text(str(os.getpid()))

    with Background() as bg:
        bg.submit(job)
        bg.wait()
        assert (tmp_path / "out.txt").exists()
    assert seen == []  # the parent's list is untouched: the job ran in a child
    assert int((tmp_path / "out.txt").read_text()) != os.getpid()


@forks
def test_failed_child_is_rerun_in_the_parent_and_raises(tmp_path):
    calls = []

    def job():
        calls.append(1)
        raise ValueError("cannot write figures/x.png")

    bg = Background()
    bg.submit(job)  # fails silently in the child
    assert calls == []
    with pytest.raises(ValueError, match="cannot write"):
        bg.wait()
    assert calls == [1]  # re-run here, once


def test_disabled_runs_inline():
    calls = []
    bg = Background(enabled=False)
    bg.submit(lambda: calls.append(os.getpid()))
    assert calls == [os.getpid()]
    bg.wait()


def test_runs_inline_while_other_threads_run():
    calls = []
    stop = threading.Event()
    t = threading.Thread(target=stop.wait)
    t.start()
    try:
        bg = Background()
        bg.submit(lambda: calls.append(os.getpid()))
        assert calls == [os.getpid()]  # forking a threaded process is unsafe
    finally:
        stop.set()
        t.join()


@forks
def test_at_most_max_children_run_at_once(tmp_path):
    def job(i):
        def run():
            (tmp_path / f"start{i}").write_text(str(time.monotonic()))
            time.sleep(0.3)
            (tmp_path / f"end{i}").write_text(str(time.monotonic()))

        return run

    with Background(max_children=1) as bg:
        for i in range(2):
            bg.submit(job(i))
    end0 = float((tmp_path / "end0").read_text())
    start1 = float((tmp_path / "start1").read_text())
    assert start1 >= end0  # the second waited for the first


@forks
def test_exception_in_the_block_stops_the_children(tmp_path):
    with pytest.raises(RuntimeError), Background() as bg:
        bg.submit(lambda: (time.sleep(5), (tmp_path / "late").write_text("x")))
        raise RuntimeError("analysis failed")
    assert bg._running == []
    time.sleep(0.1)
    assert not (tmp_path / "late").exists()


# --- Background.compute: a value computed in a child ------------------------------


def _pid_and(x):
    return os.getpid(), x


@forks
def test_compute_returns_the_childs_value():
    with Background() as bg:
        pending = bg.compute(lambda: _pid_and({"rows": [1, 2, 3]}))
        pid, value = pending.result()
    assert pid != os.getpid()  # computed in a child
    assert value == {"rows": [1, 2, 3]}
    assert pending.result() == (pid, value)  # collected once, kept


@forks
def test_compute_reissues_the_childs_warnings_here():
    import warnings

    def job():
        warnings.warn("sweep 3 of cell01.abf is clipped", UserWarning, stacklevel=1)
        return 7

    with Background() as bg, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("always")
        assert bg.compute(job).result() == 7
    assert [str(w.message) for w in seen] == ["sweep 3 of cell01.abf is clipped"]
    assert seen[0].category is UserWarning


@forks
def test_compute_failure_is_rerun_here_with_its_error():
    calls = []

    def job():
        calls.append(os.getpid())
        raise ValueError("recording not found: cell09.abf")

    with Background() as bg:
        pending = bg.compute(job)
        assert calls == []  # the first call was the child's
        with pytest.raises(ValueError, match=r"cell09\.abf"):
            pending.result()
    assert calls == [os.getpid()]


@forks
def test_compute_unpicklable_value_is_recomputed_here():
    calls = []

    def job():
        calls.append(os.getpid())
        return lambda: "a closure cannot be pickled"

    with Background() as bg:
        value = bg.compute(job).result()
    assert value() == "a closure cannot be pickled"
    assert calls == [os.getpid()]


def test_compute_runs_at_once_when_disabled():
    calls = []
    bg = Background(enabled=False)
    pending = bg.compute(lambda: calls.append(os.getpid()) or 5)
    assert calls == [os.getpid()]  # here, at the call
    assert pending.result() == 5


@forks
def test_uncollected_and_cancelled_computations_leave_no_child(tmp_path):
    with pytest.raises(RuntimeError), Background() as bg:
        pending = bg.compute(lambda: (time.sleep(5), (tmp_path / "late").write_text("x")))
        pid = pending._pid
        raise RuntimeError("analysis failed")
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)  # killed and reaped
    with Background() as bg:
        pid = bg.compute(lambda: time.sleep(5))._pid  # never asked for
    with pytest.raises(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)
    assert not (tmp_path / "late").exists()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    with open(f"/proc/{pid}/stat") as fh:  # a zombie not yet reaped by init is dead too
        return fh.read().split(")")[-1].split()[0] != "Z"


def _start_lingering_grandchild(tmp_path):
    """Fork a process that outlives its parent (like a pool worker never shut down),
    holding every inherited file descriptor open; return its pid."""
    pid = os.fork()
    if pid == 0:
        time.sleep(30)
        os._exit(0)
    (tmp_path / "grandchild").write_text(str(pid))
    return pid


@forks
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_result_does_not_wait_for_processes_the_child_left_behind(tmp_path):
    with Background() as bg:
        pending = bg.compute(lambda: (_start_lingering_grandchild(tmp_path), "value")[1])
        t0 = time.monotonic()
        assert pending.result() == "value"
        assert time.monotonic() - t0 < 5  # not the grandchild's 30 s
    grandchild = int((tmp_path / "grandchild").read_text())
    time.sleep(0.2)
    assert not _alive(grandchild)  # stopped with the child's process group


@forks
@pytest.mark.skipif(not os.path.isdir("/proc"), reason="needs /proc")
def test_cancel_stops_the_processes_a_computing_child_started(tmp_path):
    with pytest.raises(RuntimeError), Background() as bg:
        bg.compute(lambda: (_start_lingering_grandchild(tmp_path), time.sleep(30)))
        for _ in range(100):
            if (tmp_path / "grandchild").exists():
                break
            time.sleep(0.05)
        raise RuntimeError("another room failed")
    grandchild = int((tmp_path / "grandchild").read_text())
    time.sleep(0.2)
    assert not _alive(grandchild)


@forks
def test_reissued_warnings_meet_module_filters_and_are_shown_once():
    import re
    import warnings

    def job():
        for _ in range(3):
            warnings.warn("clipped sweep", UserWarning, stacklevel=1)
        return 1

    with Background() as bg, warnings.catch_warnings(record=True) as seen:
        warnings.simplefilter("default")  # once per location, as in a plain run
        assert bg.compute(job).result() == 1
        warnings.filterwarnings("ignore", module=re.escape(__name__))
        assert bg.compute(job).result() == 1
    assert [str(w.message) for w in seen] == ["clipped sweep"]  # once, then filtered out
