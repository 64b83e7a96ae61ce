"""Within-animal comparisons of two conditions: paired t test and Wilcoxon signed-rank test.

The typical use is ipsilateral vs contralateral paw of the same animal at each time point
(:func:`paired_tests` with ``by="time"``), with a Holm or Šidák adjustment across the
time points.  Animals lacking either value at a time point are left out of that time
point's test and counted in ``n_dropped`` (never silently).

* Paired t test: t = d̄ / (s_d/√n) with n − 1 df and the t interval for the mean
  difference (Student 1908), as R ``t.test(x, y, paired = TRUE)``.
* Wilcoxon signed-rank test (Wilcoxon 1945; Hollander & Wolfe 1999, §3.1), as R
  ``wilcox.test(x, y, paired = TRUE)``: zero differences are dropped; V = sum of the
  ranks of the positive differences (mid-ranks for ties); the exact null distribution
  when n < 50 and there are no ties or zeros (unless ``exact`` says otherwise), else the
  normal approximation with the tie-corrected variance
  n(n+1)(2n+1)/24 − Σ(t³ − t)/48 and a continuity correction of ½.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nplab._dist import norm_cdf, norm_sf, t_isf, t_sf
from nplab.errors import InputError
from nplab.stats._design import levels_of
from nplab.stats._levels import given_for
from nplab.stats._longdata import check_long, show
from nplab.stats.nonparametric import adjust_pvalues

__all__ = ["PAIRED_COLUMNS", "paired_tests", "paired_ttest", "signrank_exact_sf", "wilcoxon_signed_rank"]

#: Output columns of :func:`paired_tests` (after the ``by`` column).
PAIRED_COLUMNS = ["a", "b", "n", "n_dropped", "mean_diff", "statistic", "df", "p", "p_adj",
                  "ci_low", "ci_high", "method"]  # fmt: skip
_TESTS = ("t", "wilcoxon")


def paired_ttest(x, y, conf_level: float = 0.95) -> dict:
    """Paired t test of ``x − y`` (arrays of equal length, no NaN)."""
    d = np.asarray(x, float) - np.asarray(y, float)
    n = len(d)
    if n < 2:
        raise InputError(f"a paired t test needs at least two pairs (got {n})")
    se = d.std(ddof=1) / np.sqrt(n)
    mean = float(d.mean())
    t = mean / se if se > 0 else np.copysign(np.inf, mean) if mean else np.nan
    q = t_isf((1 - conf_level) / 2, n - 1)
    return {"n": n, "mean_diff": mean, "statistic": float(t), "df": float(n - 1),
            "p": float(2 * t_sf(abs(t), n - 1)), "ci_low": mean - q * se,
            "ci_high": mean + q * se, "method": "paired t"}  # fmt: skip


def signrank_exact_sf(v: float, n: int) -> float:
    """P(V ≥ v) under H0 for the signed-rank statistic of n untied, non-zero differences."""
    counts = np.zeros(n * (n + 1) // 2 + 1)
    counts[0] = 1.0
    for k in range(1, n + 1):  # add rank k with or without a positive sign
        counts[k:] = counts[k:] + counts[: len(counts) - k].copy()
    probs = counts / counts.sum()
    lo = int(np.ceil(v - 1e-9))
    return float(probs[max(lo, 0):].sum())


def wilcoxon_signed_rank(x, y, exact: bool | None = None, correct: bool = True) -> dict:
    """Wilcoxon signed-rank test of ``x − y``, two-sided, as R ``wilcox.test(paired = TRUE)``."""
    d = np.asarray(x, float) - np.asarray(y, float)
    n_all = len(d)
    d = d[d != 0]
    n = len(d)
    if n < 1:
        raise InputError("every paired difference is zero: nothing to rank")
    from scipy.stats import rankdata  # deferred: importing this module must not load scipy.stats

    r = rankdata(np.abs(d))
    v = float(r[d > 0].sum())
    ties = len(np.unique(np.abs(d))) < n
    use_exact = (n < 50) if exact is None else bool(exact)
    if use_exact and not ties and n == n_all:
        upper = signrank_exact_sf(v, n)
        lower = 1.0 - signrank_exact_sf(v + 1, n)  # P(V ≤ v)
        p = min(1.0, 2 * min(upper, lower))
        method = "Wilcoxon signed-rank, exact"
    else:
        _, counts = np.unique(r, return_counts=True)
        sigma = np.sqrt(n * (n + 1) * (2 * n + 1) / 24 - np.sum(counts**3 - counts) / 48)
        z = v - n * (n + 1) / 4
        z = (z - (np.sign(z) * 0.5 if correct else 0.0)) / sigma
        p = float(2 * min(norm_cdf(z), norm_sf(z)))
        method = "Wilcoxon signed-rank, normal approximation" + (
            " with continuity correction" if correct else "")  # fmt: skip
    return {"n": n_all, "mean_diff": float(np.mean(np.asarray(x, float) - np.asarray(y, float))),
            "statistic": v, "df": np.nan, "p": float(p), "ci_low": np.nan, "ci_high": np.nan,
            "method": method}  # fmt: skip


def paired_tests(
    data: pd.DataFrame,
    *,
    dv: str,
    within: str,
    subject: str,
    a=None,
    b=None,
    by: str | None = None,
    test: str = "t",
    p_adjust: str = "holm",
    exact: bool | None = None,
    conf_level: float = 0.95,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Compare two levels of a within-animal factor (``a − b``), at each level of ``by``.

    Parameters
    ----------
    data
        Long table, one row per animal × ``within`` level (× ``by`` level).
    dv, within, subject
        Response, the within-animal factor with the two conditions (e.g. ``"paw"``) and
        the animal id.
    a, b
        The two levels compared (difference ``a − b``); default: the first two levels
        (order of first appearance, or ``levels``).
    by
        Optional factor (e.g. ``"time"``): one test per level, adjusted together.
    test
        ``"t"`` (paired t test) or ``"wilcoxon"`` (signed-rank test).
    p_adjust
        Adjustment across the ``by`` levels: ``"holm"`` (default), ``"sidak"``,
        ``"holm-sidak"``, ``"bonferroni"``, ``"none"``, … (see
        :func:`nplab.stats.adjust_pvalues`).
    exact
        Wilcoxon only: force (``True``) or forbid (``False``) the exact distribution.

    Returns
    -------
    pandas.DataFrame
        ``[by,] a, b, n`` (pairs used), ``n_dropped`` (animals with only one of the two
        values there), ``mean_diff``, ``statistic`` (t or V), ``df`` (t test), ``p``,
        ``p_adj``, ``ci_low, ci_high`` (t test: interval of the mean difference),
        ``method``.
    """
    if test not in _TESTS:
        raise InputError(f"unknown test {test!r}", column="test", expected=" / ".join(_TESTS))
    factors = [within, subject] + ([by] if by else [])
    df = check_long(data, numeric=[dv], factors=factors)
    df = df[~np.isnan(df[dv].to_numpy())]
    source = data.attrs.get("source")
    lev = levels_of(df[within], within, df, given_for(levels, within))
    a = lev[0] if a is None else a
    b = (lev[1] if len(lev) > 1 else None) if b is None else b
    for name, value in (("a", a), ("b", b)):
        if value is None or not any(str(v) == str(value) for v in lev):
            raise InputError(f"{name} = {value!r} is not a level of {within!r}", file=source,
                             column=within, expected="one of " + ", ".join(map(str, lev)))  # fmt: skip
    dup = df.duplicated([subject, within, *([by] if by else [])]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(f"animal {show(df[subject].iloc[i])} has two values at {within} "
                         f"{show(df[within].iloc[i])}", file=source, column=dv,
                         expected="one value per animal and condition")  # fmt: skip
    strata = levels_of(df[by], by, df, given_for(levels, by)) if by else [None]
    rows = []
    for s in strata:
        part = df if by is None else df[df[by] == s]
        text = part[within].astype(str)
        xa = part[text == str(a)].set_index(subject)[dv]
        xb = part[text == str(b)].set_index(subject)[dv]
        both = xa.index.intersection(xb.index, sort=False)
        dropped = len(xa.index.union(xb.index)) - len(both)
        x, y = xa.loc[both].to_numpy(float), xb.loc[both].to_numpy(float)
        res = paired_ttest(x, y, conf_level) if test == "t" else wilcoxon_signed_rank(x, y, exact)
        rows.append({**({by: s} if by else {}), "a": a, "b": b, "n_dropped": dropped, **res})
    out = pd.DataFrame(rows)
    out["p_adj"] = adjust_pvalues(out["p"].to_numpy(), p_adjust)
    return out[([by] if by else []) + PAIRED_COLUMNS]
