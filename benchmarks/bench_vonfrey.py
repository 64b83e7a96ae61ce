"""Benchmark: 1e6 von Frey tests from CSV to thresholds, nplab vs a plain per-row loop.

The baseline is what a lab script does: read the CSV with the csv module, and for every
row walk the up-down path, compute Dixon's k by maximum likelihood (scipy, no cache)
and the Chaplan threshold.  The baseline is timed on a 2 000-row slice and scaled to
the full size (it would take tens of minutes otherwise); the ratio is per row.

Run from the repo root: ``PYTHONPATH=src python benchmarks/bench_vonfrey.py``
(``--rows N`` to change the size, ``--json FILE`` to save the numbers).
"""

from __future__ import annotations

import argparse
import csv
import sys
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd
from scipy import optimize, stats

sys.path.insert(0, str(Path(__file__).parent))
from _harness import compare

from nplab.provenance import rng
from nplab.vonfrey import thresholds

HANDLES = [3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18]


def simulate(n: int, seed: int = 1) -> pd.DataFrame:
    """Chaplan sessions of simulated rats (log-normal thresholds, sigma = 1 step)."""
    g = rng(seed)
    mu = g.normal(4.4, 0.35, n)
    out = []
    for m in mu[: min(n, 20000)]:
        idx, s, crossed, after = 3, [], None, 0
        while True:
            x = HANDLES[idx]
            resp = g.random() < stats.norm.cdf((x - m) / 0.224)
            s.append("X" if resp else "O")
            if crossed is None and len(s) > 1 and s[-1] != s[0]:
                crossed = len(s)
            elif crossed is not None:
                after += 1
            nxt = idx - 1 if resp else idx + 1
            if after == 4 or not 0 <= nxt < 8:
                break
            idx = nxt
        out.append("".join(s))
    pats = np.array(out, dtype=object)[g.integers(0, len(out), n)]
    return pd.DataFrame(
        {"animal": np.arange(n), "paw": "left", "timepoint": "day7", "responses": pats}
    )


def baseline(path: Path, limit: int) -> list[float]:
    res = []
    with open(path, newline="") as fh:
        for i, row in enumerate(csv.DictReader(fh)):
            if i >= limit:
                break
            s = row["responses"].upper()
            idx, levels = 3, []
            for c in s:
                levels.append(idx)
                idx += -1 if c == "X" else 1
            if len(set(s)) < 2:
                res.append(0.25 if s[0] == "X" else 15.0)
                continue
            lev = np.cumsum([0] + [-1 if c == "X" else 1 for c in s[:-1]])
            r = np.array([c == "X" for c in s])

            def nll(m, lev=lev, r=r):
                z = lev - m
                return -np.sum(np.where(r, stats.norm.logcdf(z), stats.norm.logcdf(-z)))

            m = optimize.minimize_scalar(nll, bounds=(lev.min() - 10, lev.max() + 10),
                                         method="bounded").x
            k = m - lev[-1]
            res.append(10 ** (HANDLES[levels[-1]] + k * 0.224) / 1e4)
    return res


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1_000_000)
    args, rest = ap.parse_known_args()
    n = args.rows
    tmp = Path(tempfile.mkdtemp())
    data = simulate(n)
    big, small = tmp / "vf.csv", tmp / "vf_small.csv"
    data.to_csv(big, index=False)
    limit = min(n, 2000)
    data.iloc[:limit].to_csv(small, index=False)
    same_size = compare(
        f"vonfrey thresholds, {limit} tests CSV -> DataFrame (same size)",
        lambda: thresholds(small, "vonfrey-updown-rat", on_invalid="flag"),
        lambda: baseline(small, limit),
        baseline_name="per-row Python loop",
        repeats=3,
        argv=rest,
    )
    per_row = same_size["baseline"]["median_s"] / limit
    full = compare(
        f"vonfrey thresholds, {n} tests CSV -> DataFrame",
        lambda: thresholds(big, "vonfrey-updown-rat", on_invalid="flag"),
        None,
        repeats=3,
        extra={"rows": n, "baseline_per_row_s": per_row, "baseline_extrapolated_s": per_row * n},
        argv=rest,
    )
    ratio = per_row * n / full["candidate"]["median_s"]
    print(f"  per-row loop extrapolated to {n} rows: {per_row * n:.1f} s; speed-up {ratio:.0f}x")


if __name__ == "__main__":
    main()
