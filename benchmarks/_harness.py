"""Tiny benchmark harness: median of repeated runs and the ratio against a baseline.

Each benchmark is one script in this folder that calls :func:`compare`.  Results are
printed as a table and, with ``--json FILE``, written as JSON (for CI dashboards).
Timings are wall-clock ``perf_counter`` medians; the machine is shared and noisy, so
scripts repeat each measurement and report the median and the spread.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Callable
from typing import Any


def measure(fn: Callable[[], Any], repeats: int = 5, warmup: int = 1) -> dict[str, float]:
    """Run ``fn`` ``warmup`` + ``repeats`` times; return median, min and max seconds."""
    for _ in range(warmup):
        fn()
    times = []
    for _ in range(repeats):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return {
        "median_s": statistics.median(times),
        "min_s": min(times),
        "max_s": max(times),
        "repeats": repeats,
    }


def compare(
    name: str,
    candidate: Callable[[], Any],
    baseline: Callable[[], Any] | None = None,
    *,
    baseline_name: str = "baseline",
    repeats: int = 5,
    baseline_repeats: int | None = None,
    extra: dict[str, Any] | None = None,
    argv: list[str] | None = None,
) -> dict[str, Any]:
    """Time ``candidate`` (and ``baseline``), print medians and the speed-up ratio."""
    parser = argparse.ArgumentParser(description=name)
    parser.add_argument("--json", help="write results to this JSON file")
    parser.add_argument("--repeats", type=int, default=repeats)
    args, _ = parser.parse_known_args(sys.argv[1:] if argv is None else argv)
    result: dict[str, Any] = {"benchmark": name, "candidate": measure(candidate, args.repeats)}
    if baseline is not None:
        result["baseline_name"] = baseline_name
        result["baseline"] = measure(baseline, baseline_repeats or args.repeats)
        result["ratio"] = result["baseline"]["median_s"] / result["candidate"]["median_s"]
    if extra:
        result.update(extra)
    c = result["candidate"]
    print(
        f"{name}: nplab median {c['median_s']:.4f} s (min {c['min_s']:.4f}, max {c['max_s']:.4f})"
    )
    if baseline is not None:
        b = result["baseline"]
        print(f"  {baseline_name}: median {b['median_s']:.4f} s; speed-up {result['ratio']:.1f}x")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=2)
    return result


def run_child(
    cmd: list[str], *, env: dict[str, str] | None = None, cwd: str | None = None
) -> dict[str, float]:
    """Run ``cmd`` to completion; its wall time, CPU time (user + sys) and peak RSS.

    Uses ``os.wait4`` so the CPU time and peak RSS are those of this one child (and not
    the maximum over every child so far, as ``RUSAGE_CHILDREN`` would give).  Raises
    ``RuntimeError`` with the child's stderr when it fails.
    """
    import os
    import subprocess
    import tempfile

    with tempfile.TemporaryFile() as err:
        t0 = time.perf_counter()
        proc = subprocess.Popen(cmd, env=env, cwd=cwd, stdout=subprocess.DEVNULL, stderr=err)
        _, status, usage = os.wait4(proc.pid, 0)
        wall = time.perf_counter() - t0
        proc.returncode = os.waitstatus_to_exitcode(status)
        if proc.returncode != 0:
            err.seek(0)
            raise RuntimeError(f"{' '.join(cmd)} failed:\n{err.read().decode()[-2000:]}")
    return {
        "wall_s": wall,
        "cpu_s": usage.ru_utime + usage.ru_stime,
        "peak_rss_mb": usage.ru_maxrss / 1024,
    }
