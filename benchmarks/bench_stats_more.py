"""Benchmarks for nplab.stats endpoints and the exact Mann–Whitney distribution.

1. ``endpoints`` on a simulated study (500 rats × 2 paws × baseline, pre-dose and 6
   post-dose times = 8 000 rows) vs a naive per-animal loop over a pandas groupby that
   computes the same change / %MPE / % reversal / AUC values.
2. Exact two-sided Mann–Whitney p-value for n = 9 vs 9 (no ties): nplab's generating-
   function count vs brute-force enumeration of all C(18, 9) = 48 620 rank splits.

Run: ``PYTHONPATH=src python benchmarks/bench_stats_more.py [--repeats 5]``.
"""

from __future__ import annotations

import itertools
import sys
from pathlib import Path

import numpy as np
import pandas as pd

sys.path.insert(0, str(Path(__file__).parent))
from _harness import compare

from nplab.provenance import rng
from nplab.stats.endpoints import endpoints
from nplab.stats.nonparametric import mann_whitney

TIMES = ["BL", "pre", 0.5, 1, 2, 3, 4, 6]
FILAMENTS = [0.4, 0.6, 1, 1.4, 2, 4, 6, 8, 10, 15]


def study(n_rats: int = 500) -> pd.DataFrame:
    g = rng()
    rows = [
        (f"r{a:04d}", f"g{a % 5}", paw, t, float(g.choice(FILAMENTS)))
        for a in range(n_rats)
        for paw in ("ipsi", "contra")
        for t in TIMES
    ]
    return pd.DataFrame(rows, columns=["rat", "group", "paw", "time", "threshold_g"])


def naive_endpoints(d: pd.DataFrame, cutoff: float = 15.0) -> list[tuple]:
    out = []
    for (rat, paw), g in d.groupby(["rat", "paw"], sort=True):
        v = {str(t): np.log10(y) for t, y in zip(g["time"], g["threshold_g"], strict=True)}
        base, pre = v["BL"], v["pre"]
        ts = [0.5, 1, 2, 3, 4, 6]
        post = [v[str(t)] for t in ts]
        ch = [p - pre for p in post]
        mpe = [c / (np.log10(cutoff) - pre) * 100 if np.log10(cutoff) != pre else np.nan
               for c in ch]
        rev = [c / (base - pre) * 100 if base != pre else np.nan for c in ch]
        tt = [0.0, *ts]
        yy = [pre, *post]
        auc = sum((tt[i + 1] - tt[i]) * (yy[i] + yy[i + 1]) / 2 for i in range(len(tt) - 1))
        out.append((rat, paw, ch, mpe, rev, auc))
    return out


def brute_force_mw_p(x: np.ndarray, y: np.ndarray) -> float:
    r = pd.Series(np.r_[x, y]).rank().to_numpy()
    nx = len(x)
    w = r[:nx].sum() - nx * (nx + 1) / 2
    ws = [sum(c) - nx * (nx + 1) / 2 for c in itertools.combinations(range(1, len(r) + 1), nx)]
    ws = np.array(ws)
    return min(1.0, 2 * min(np.mean(ws <= w), np.mean(ws >= w)))


if __name__ == "__main__":
    d = study()
    kw = dict(dv="threshold_g", subject="rat", time="time", baseline="BL", predose="pre",
              cutoff=15.0, paw="paw", group="group")
    compare("endpoints, 500 rats x 2 paws x 8 times", lambda: endpoints(d, **kw),
            lambda: naive_endpoints(d), baseline_name="naive per-animal groupby loop")
    g = rng(5)
    x, y = g.normal(0, 1, 9), g.normal(1, 1, 9)
    mw = pd.DataFrame({"v": np.r_[x, y], "g": ["x"] * 9 + ["y"] * 9})
    p_nplab = mann_whitney(mw, dv="v", group="g").loc[0, "p"]
    p_brute = brute_force_mw_p(x, y)
    assert abs(p_nplab - p_brute) < 1e-12, (p_nplab, p_brute)
    compare("exact Mann-Whitney p, n = 9 vs 9", lambda: mann_whitney(mw, dv="v", group="g"),
            lambda: brute_force_mw_p(x, y), baseline_name="brute-force enumeration",
            extra={"p": p_nplab})
