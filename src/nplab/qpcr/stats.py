"""Group comparisons of relative expression on the ΔCt (log2) scale, animal = unit."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = ["group_statistics"]


def group_statistics(
    expression: pd.DataFrame, control: str, *, value: str = "delta_ct", log_base: float = 2.0,
    sign: float = -1.0, conf_level: float = 0.95,
) -> pd.DataFrame:
    """Dunnett many-to-one comparisons per target (and tissue) on a log-scale value.

    Parameters
    ----------
    expression
        Output of :func:`relative_expression` (one row per animal × target), or any
        table with ``group, target`` and ``value``.
    control
        Control group (e.g. vehicle).
    value
        Column tested (``delta_ct``: log2 scale, one value per animal).
    log_base, sign
        The ratio to control is ``log_base ** (sign * diff)``; for ΔCt (a higher Cq is
        less mRNA) that is 2^-diff, the fold change.

    Returns
    -------
    DataFrame
        ``[tissue,] target, group, n, diff, se, t, df, p`` (from
        :func:`nplab.stats.dunnett`) plus ``ratio, ratio_ci_low, ratio_ci_high``.
    """
    from nplab.stats import dunnett

    strata = [c for c in ("tissue", "target") if c in expression.columns]
    rows = []
    for key, sub in expression.groupby(strata, sort=False):
        sub = sub[np.isfinite(sub[value].to_numpy(float))]
        if control not in set(sub["group"]) or sub["group"].nunique() < 2:
            continue
        res = dunnett(sub, value, "group", control, conf_level=conf_level)
        key = key if isinstance(key, tuple) else (key,)
        for c, v in zip(strata, key, strict=True):
            res.insert(0, c, v) if c not in res.columns else None
        res["n"] = res["group"].map(sub.groupby("group").size())
        lo, hi = log_base ** (sign * res["ci_low"]), log_base ** (sign * res["ci_high"])
        res["ratio"] = log_base ** (sign * res["diff"])
        res["ratio_ci_low"] = np.minimum(lo, hi)
        res["ratio_ci_high"] = np.maximum(lo, hi)
        rows.append(res)
    if not rows:
        raise InputError(f"no target has the control group {control!r} and another group", column="group",
                         expected="animals of the control and at least one other group")
    return pd.concat(rows, ignore_index=True)
