"""Benchmark: censoring-aware Hargreaves summary of a large study.

Study: 48 animals x 2 paws x 8 time points x 3 trials (2304 trials, ~20 % at the 20 s
cut-off).  Candidate: ``nplab.hargreaves.summarise`` (validation, summaries, Tobit per paw x
timepoint with analytic gradient/Hessian, trust-region Newton).  Baseline: the naive
alternative, the same Tobit likelihood maximised per paw x timepoint with
``scipy.optimize.minimize`` (BFGS, numerical gradient) on the plain summaries.

Run: ``PYTHONPATH=src python benchmarks/bench_hargreaves.py [--json out.json]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _harness import compare
from scipy import optimize, special

from nplab.hargreaves import summarise
from nplab.provenance import rng


def make_study(n_animals: int = 48, n_tp: int = 8, n_trials: int = 3) -> pd.DataFrame:
    gen = rng(3)
    rows = []
    for a in range(n_animals):
        for paw, base in (("ipsi", np.log(8.0)), ("contra", np.log(12.0))):
            for tp in range(n_tp):
                mu = base + 0.05 * tp * (a % 4) + gen.normal(0, 0.2)
                for t in range(1, n_trials + 1):
                    lat = float(np.exp(mu + gen.normal(0, 0.25)))
                    rows.append((f"A{a:02d}", paw, tp, t, min(round(lat, 2), 20.0)))
    return pd.DataFrame(rows, columns=["animal", "paw", "timepoint", "trial", "latency_s"])


def naive(df: pd.DataFrame) -> list[np.ndarray]:
    """Plain groupby means + per paw x timepoint Tobit by BFGS with numerical gradient."""
    df.groupby(["animal", "paw", "timepoint"])["latency_s"].agg(["mean", "median", "std"])
    out = []
    for _, sub in df.groupby(["paw", "timepoint"]):
        codes, _ = pd.factorize(sub["animal"])
        y = np.log(sub["latency_s"].to_numpy())
        c = sub["latency_s"].to_numpy() >= 20.0
        k = codes.max() + 1

        def nll(t, y=y, c=c, codes=codes, k=k):
            s = np.exp(t[k])
            z = (y - t[:k][codes]) / s
            return -(
                np.sum(-t[k] - 0.5 * z[~c] ** 2 - 0.5 * np.log(2 * np.pi))
                + np.sum(special.log_ndtr(-z[c]))
            )

        start = np.append(np.bincount(codes, weights=y) / np.bincount(codes), np.log(0.2))
        out.append(optimize.minimize(nll, start, method="BFGS").x)
    return out


if __name__ == "__main__":
    study = make_study()
    cens = float((study["latency_s"] >= 20).mean())
    compare(
        "hargreaves summarise (2304 trials, 16 paw x timepoint Tobit fits)",
        lambda: summarise(study, "hargreaves-rat", baseline_window_s=None),
        lambda: naive(study),
        baseline_name="naive groupby + BFGS Tobit (numerical gradient)",
        repeats=3,
        extra={"fraction_censored": cens},
    )
