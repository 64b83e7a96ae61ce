"""Benchmark: the value engine (acetone scores) and the randomiser on a large study.

Study: 200 animals x 2 paws x 8 time points x 3 applications (9,600 acetone trials).
Candidate: ``nplab.behaviour.acetone`` (validation, statuses, sum/mean/% response per
animal x paw x timepoint).  Baseline: a plain pandas ``groupby().agg`` of the same three
numbers without validation or statuses (what a spreadsheet replacement would do).  Also
times ``nplab.randomise.randomise`` for 2,000 animals in 4 strata.

Run: ``PYTHONPATH=src python benchmarks/bench_behaviour.py [--json out.json]``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from _harness import compare

from nplab.behaviour import acetone
from nplab.provenance import rng
from nplab.randomise import randomise


def make_trials(n_animals: int = 200, n_tp: int = 8) -> pd.DataFrame:
    gen = rng(5)
    n = n_animals * 2 * n_tp * 3
    return pd.DataFrame(
        {
            "animal": np.repeat([f"A{i:03d}" for i in range(n_animals)], 2 * n_tp * 3),
            "paw": np.tile(np.repeat(["ipsi", "contra"], n_tp * 3), n_animals),
            "timepoint": np.tile(np.repeat(np.arange(n_tp), 3), 2 * n_animals),
            "trial": np.tile([1, 2, 3], n // 3),
            "score": gen.integers(0, 4, n),
        }
    )


def naive(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["animal", "paw", "timepoint"])["score"]
    return g.agg(score_sum="sum", score_mean="mean", response=lambda s: (s > 0).mean() * 100)


if __name__ == "__main__":
    trials = make_trials()
    compare(
        "acetone engine, 9,600 trials",
        lambda: acetone(trials),
        lambda: naive(trials),
        baseline_name="pandas groupby.agg (no validation)",
        repeats=3,
    )
    animals = pd.DataFrame(
        {
            "animal": [f"R{i:04d}" for i in range(2000)],
            "sex": np.tile(["m", "f"], 1000),
            "site": np.repeat(["a", "b"], 1000),
        }
    )
    compare(
        "randomise 2,000 animals, 4 strata",
        lambda: randomise(animals, ["v", "a3", "a10", "d30"], seed=7, strata=["sex", "site"]),
        repeats=3,
    )
