"""Group comparisons of excitability with the animal as the experimental unit.

Cells are nested in animals, so cells are never independent samples (Lazic SE 2010,
BMC Neurosci 11:5; Aarts E et al. 2014, Nat Neurosci 17:491–496).  Two analyses:

* ``method="animal_means"``: average the cells of each animal, then compare groups on
  the animal means (Welch t test for two groups, one-way ANOVA for more);
* ``method="mixed"``: linear mixed model ``measure ~ C(group)`` with a random intercept
  per animal (:func:`nplab.stats.mixed_model`, REML).

:func:`paired_within_cell` compares before/after bath application within cells: the
within-cell differences are averaged per animal and tested against 0 (one-sample t on
animal means).  Every table reports n cells and n animals.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = ["animal_means", "compare_groups", "paired_within_cell"]


def _need(df: pd.DataFrame, cols: list[str]) -> None:
    missing = [c for c in cols if c not in df.columns]
    if missing:
        raise InputError(
            f"the cells table has no column(s) {', '.join(missing)}",
            column=missing[0],
            expected="an experiment table joined to the cells (file, cell, animal, group)",
        )


def animal_means(cells: pd.DataFrame, measure: str, group: str = "group", animal: str = "animal") -> pd.DataFrame:
    """One row per animal: ``group, animal, n_cells, <measure>`` (mean over its cells
    with a finite value; cells with status ``failed`` are left out)."""
    _need(cells, [measure, group, animal])
    d = cells
    if "status" in d.columns:
        d = d[d["status"] != "failed"]
    d = d[np.isfinite(pd.to_numeric(d[measure], errors="coerce"))]
    out = (
        d.groupby([group, animal], sort=True)[measure]
        .agg(n_cells="count", mean="mean")
        .reset_index()
        .rename(columns={"mean": measure})
    )
    return out


def compare_groups(
    cells: pd.DataFrame,
    measure: str,
    *,
    group: str = "group",
    animal: str = "animal",
    method: str = "animal_means",
) -> pd.DataFrame:
    """Compare groups on ``measure`` with the animal as the unit.

    Returns
    -------
    pandas.DataFrame
        One row per group (``level = "group"``: ``n_cells``, ``n_animals``, ``mean``,
        ``sd`` of animal means) and one row with the test (``level = "test"``:
        ``method``, ``test``, ``statistic``, ``df``, ``p``; for the mixed model one
        ``level = "term"`` row per fixed effect with estimate, se, t (Satterthwaite df), p).
    """
    means = animal_means(cells, measure, group, animal)
    rows = []
    for g, d in means.groupby(group, sort=True):
        rows.append({"level": "group", "group": g, "n_cells": int(d["n_cells"].sum()),
                     "n_animals": len(d), "mean": float(d[measure].mean()),
                     "sd": float(d[measure].std(ddof=1)) if len(d) > 1 else np.nan})
    samples = [d[measure].to_numpy(float) for _, d in means.groupby(group, sort=True)]
    if len(samples) < 2 or any(s.size < 2 for s in samples):
        raise InputError("each group needs at least 2 animals", column=group)
    base = {"measure": measure, "method": method, "n_cells": int(means["n_cells"].sum()),
            "n_animals": len(means)}
    if method == "animal_means":
        from scipy import stats  # deferred: importing this module must not load scipy.stats

        if len(samples) == 2:
            r = stats.ttest_ind(samples[0], samples[1], equal_var=False)
            v = [s.var(ddof=1) / s.size for s in samples]
            df = sum(v) ** 2 / sum(x**2 / (s.size - 1) for x, s in zip(v, samples, strict=True))
            rows.append({"level": "test", **base, "test": "Welch t on animal means",
                         "statistic": float(r.statistic), "df": float(df), "p": float(r.pvalue)})
        else:
            r = stats.f_oneway(*samples)
            rows.append({"level": "test", **base, "test": "one-way ANOVA on animal means",
                         "statistic": float(r.statistic),
                         "df": f"{len(samples) - 1}, {len(means) - len(samples)}", "p": float(r.pvalue)})
    elif method == "mixed":
        from nplab.stats import mixed_model

        d = cells[[measure, group, animal]].dropna()
        if "status" in cells.columns:
            d = d[cells.loc[d.index, "status"] != "failed"]
        fit = mixed_model(d.assign(**{group: d[group].astype(str)}), f"{measure} ~ C({group})", subject=animal)
        for _, t in fit.fixed.iterrows():
            rows.append({"level": "term", **base, "test": "linear mixed model, random intercept per animal (REML)",
                         "term": t["term"], "estimate": t["estimate"], "se": t["se"],
                         "statistic": t.get("t", t.get("z")), "df": t.get("df"), "p": t["p"]})
    else:
        raise InputError(f"unknown method {method!r}", column="method", expected="animal_means or mixed")
    return pd.DataFrame(rows)


def paired_within_cell(
    cells: pd.DataFrame,
    measure: str,
    *,
    condition: str = "condition",
    before: str = "baseline",
    after: str = "drug",
    animal: str = "animal",
    cell: str = "cell",
) -> pd.DataFrame:
    """Before/after comparison within cells, animal as the unit: per-cell difference
    (after − before), averaged per animal, one-sample t test against 0.

    Returns one row: ``measure, n_cells, n_animals, mean_difference, sd, t, df, p``.
    """
    _need(cells, [measure, condition, animal, cell])
    wide = cells.pivot_table(index=[animal, cell], columns=condition, values=measure, aggfunc="mean")
    if before not in wide.columns or after not in wide.columns:
        raise InputError(f"conditions {before!r} and {after!r} are needed", column=condition)
    diff = (wide[after] - wide[before]).dropna()
    per_animal = diff.groupby(level=0).mean()
    if per_animal.size < 2:
        raise InputError("at least 2 animals with paired cells are needed", column=animal)
    from scipy import stats

    r = stats.ttest_1samp(per_animal.to_numpy(float), 0.0)
    return pd.DataFrame([{
        "measure": measure, "n_cells": int(diff.size), "n_animals": int(per_animal.size),
        "mean_difference": float(per_animal.mean()), "sd": float(per_animal.std(ddof=1)),
        "t": float(r.statistic), "df": int(per_animal.size - 1), "p": float(r.pvalue),
    }])
