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
