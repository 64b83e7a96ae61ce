"""Simulated qPCR runs with known fold changes (tests, sample data, benchmarks)."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

__all__ = ["simulate_run"]


def simulate_run(
    log2_fold: Mapping[str, Mapping[str, float]],
    *,
    groups: Sequence[str] = ("sham", "vehicle", "drug"),
    n_per_group: int = 6,
    references: Mapping[str, float] = {"Gapdh": 18.0, "Actb": 17.0, "Hprt1": 24.0},
    baseline: Mapping[str, float] | None = None,
    replicates: int = 3,
    animal_sd: float = 0.35,
    well_sd: float = 0.12,
    input_sd: float = 0.5,
    tissue: str | None = None,
    seed: int | np.random.Generator = 0,
) -> pd.DataFrame:
    """Wells of a run: ``animal, group, [tissue,] target, replicate, cq``.

    ``log2_fold[target][group]`` is the true log2 expression relative to the first
    group (so the true ΔΔCt against group g0 is ``-(log2_fold[g] - log2_fold[g0])``).
    Each animal gets a common input offset (RNA amount, ``input_sd``) shared by all its
    genes, a biological deviation per target (``animal_sd``) and well noise.
    """
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    baseline = dict(baseline or {t: 26.0 for t in log2_fold})
    rows = []
    k = 0
    for g in groups:
        for _ in range(n_per_group):
            k += 1
            animal = f"{g[:3]}{k:02d}"
            offset = rng.normal(0, input_sd)
            for tgt, base in list(references.items()) + list(baseline.items()):
                lf = log2_fold.get(tgt, {}).get(g, 0.0)
                bio = rng.normal(0, animal_sd) if tgt in log2_fold else rng.normal(0, 0.1)
                mu = base + offset - lf + bio
                for r in range(replicates):
                    row = {"animal": animal, "group": g, "target": tgt, "replicate": r + 1,
                           "cq": round(float(mu + rng.normal(0, well_sd)), 3)}
                    if tissue is not None:
                        row["tissue"] = tissue
                    rows.append(row)
    return pd.DataFrame(rows)
