"""Benchmark: the Hargreaves Tobit fit at 1,000 / 5,000 / 20,000 animals in one paw x timepoint.

Data: 3 trials per animal, log-normal latencies (animal medians ~18 s, SD 0.3 on the log
scale), cut-off 20 s (~35 % of trials censored).  Candidate: ``nplab.hargreaves.tobit_fit``
(damped Newton on the arrowhead Hessian, O(k) memory).  Baseline ("dense"): the fit nplab
used before issue 18 (``scipy.optimize.minimize(method="trust-exact")`` on the dense
(k+1) x (k+1) Hessian), loaded from git (default commit 2d784b9); it is run only up to
``--baseline-max`` animals (default 2,000: at 5,000 it needs ~1.6 GB, at 16,700 it
crashed inside scipy).  Peak memory is tracemalloc's peak of one fit (numpy buffers).

Run: ``PYTHONPATH=src python benchmarks/bench_tobit_scale.py [--json out.json]
[--baseline-max 5000] [--commit 2d784b9]``.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import tracemalloc
from pathlib import Path

import numpy as np
from _harness import measure

from nplab.hargreaves.censored import tobit_fit

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "hargreaves"
                       / "reference"))
from make_tobit_dense_reference import dense_module


def make(k: int, m: int = 3, seed: int = 1):
    gen = np.random.default_rng(seed)
    y = gen.normal(np.log(18.0), 0.15, k)[:, None] + gen.normal(0, 0.3, (k, m))
    c = np.log(20.0)
    return np.minimum(y, c).ravel(), (y >= c).ravel(), np.repeat(np.arange(k), m)


def peak_mb(fn) -> float:
    tracemalloc.start()
    try:
        fn()
        return tracemalloc.get_traced_memory()[1] / 1e6
    finally:
        tracemalloc.stop()


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--json")
    ap.add_argument("--repeats", type=int, default=3)
    ap.add_argument("--baseline-max", type=int, default=2000)
    ap.add_argument("--commit", default="2d784b9")
    ap.add_argument("--sizes", default="1000,5000,20000")
    args = ap.parse_args()
    dense = dense_module(args.commit).tobit_fit
    rows = []
    for k in [int(s) for s in args.sizes.split(",")]:
        y, c, g = make(k)
        new_fit = functools.partial(tobit_fit, y, c, g)
        row = {"animals": k, "trials": int(y.size), "censored": int(c.sum())}
        row["nplab"] = measure(new_fit, args.repeats)
        row["nplab_peak_mb"] = peak_mb(new_fit)
        line = (f"{k:>6} animals: nplab {row['nplab']['median_s']:.3f} s, "
                f"peak {row['nplab_peak_mb']:.1f} MB")
        if k <= args.baseline_max:
            old_fit = functools.partial(dense, y, c, g)
            row["dense"] = measure(old_fit, 1, warmup=0)
            row["dense_peak_mb"] = peak_mb(old_fit)
            new, old = new_fit(), old_fit()
            row["max_rel_diff_mu"] = float(np.nanmax(np.abs(new.mu - old.mu) / np.abs(old.mu)))
            row["ratio_time"] = row["dense"]["median_s"] / row["nplab"]["median_s"]
            row["ratio_memory"] = row["dense_peak_mb"] / row["nplab_peak_mb"]
            line += (f"; dense {row['dense']['median_s']:.3f} s, peak "
                     f"{row['dense_peak_mb']:.1f} MB (x{row['ratio_time']:.0f} time, "
                     f"x{row['ratio_memory']:.0f} memory; max rel diff mu "
                     f"{row['max_rel_diff_mu']:.1e})")
        else:
            line += "; dense not run (memory quadratic in animals)"
        print(line, flush=True)
        rows.append(row)
    if args.json:
        Path(args.json).write_text(json.dumps(rows, indent=2), encoding="utf-8")


if __name__ == "__main__":
    main()
