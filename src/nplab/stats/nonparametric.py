"""Rank-based group tests: Kruskal–Wallis, Dunn, Mann–Whitney and Friedman.

Every function takes a long-format DataFrame (one row per animal and time point) with
pingouin-style keywords and returns a tidy DataFrame.  Rows whose ``dv`` is blank (NaN)
are dropped before ranking (for Friedman: the whole subject, as R's ``friedman.test``
drops incomplete blocks); the ``n`` columns report what was used.

The statistics reproduce R:

* :func:`kruskal` — ``kruskal.test`` (tie-corrected H, chi-squared reference; Kruskal &
  Wallis 1952, JASA 47:583; Hollander & Wolfe 1999, §6.1).
* :func:`dunn` — Dunn (1964) Technometrics 6:241, z statistics on the mean ranks of the
  joint ranking with the tie correction of ``dunn.test`` / scikit-posthocs
  ``posthoc_dunn``; p-values are **two-sided** (as scikit-posthocs and GraphPad Prism;
  R's ``dunn.test`` prints one-sided ``P(Z >= |z|)``, i.e. half of ours).  With a
  ``control`` only the k − 1 comparisons against it are made and adjusted.
* :func:`mann_whitney` — ``wilcox.test(x, y)``: W = rank sum of the first group minus
  n₁(n₁+1)/2; exact null distribution when both n < 50 and there are no ties (unless
  ``exact`` says otherwise), else the normal approximation with tie-corrected variance
  and continuity correction.
* :func:`friedman` — ``friedman.test`` (tie-corrected; Friedman 1937, JASA 32:675;
  Hollander & Wolfe 1999, §7.1), optionally within each level of a grouping column.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nplab._dist import chi2_sf, norm_cdf, norm_sf
from nplab.errors import InputError, row_number
from nplab.stats._levels import given_for, level_order
from nplab.stats._longdata import check_long, show

__all__ = [
    "P_ADJUST_METHODS",
    "adjust_pvalues",
    "dunn",
    "friedman",
    "kruskal",
    "mann_whitney",
    "wilcoxon_exact_cdf",
]

#: Accepted ``p_adjust`` names (R ``p.adjust`` names plus Šidák variants).
P_ADJUST_METHODS = ("holm", "bonferroni", "sidak", "holm-sidak", "hochberg", "BH", "BY", "none")


def adjust_pvalues(p: Sequence[float] | np.ndarray, method: str = "holm") -> np.ndarray:
    """Adjust a family of p-values for multiple comparisons, as R ``p.adjust``.

    Parameters
    ----------
    p
        Unadjusted p-values (NaN entries are left NaN and not counted in the family).
    method
        ``"holm"`` (Holm 1979), ``"bonferroni"``, ``"sidak"`` (1 − (1 − p)^m),
        ``"holm-sidak"`` (step-down Šidák), ``"hochberg"`` (Hochberg 1988), ``"BH"``
        (Benjamini & Hochberg 1995; alias ``"fdr"``), ``"BY"`` (Benjamini & Yekutieli
        2001) or ``"none"``.

    Returns
    -------
    numpy.ndarray
        Adjusted p-values, capped at 1, in the input order.
    """
    if method == "fdr":
        method = "BH"
    if method not in P_ADJUST_METHODS:
        raise InputError(
            f"unknown p-value adjustment {method!r}",
            column="p_adjust",
            expected=", ".join(P_ADJUST_METHODS),
        )
    p = np.asarray(p, dtype=float)
    out = np.full(p.shape, np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    m = q.size
    if m == 0:
        return out
    if method == "none":
        adj = q.copy()
    elif method == "bonferroni":
        adj = np.minimum(1.0, m * q)
    elif method == "sidak":
        adj = -np.expm1(m * np.log1p(-q))
    elif method in ("holm", "holm-sidak"):
        order = np.argsort(q, kind="mergesort")
        factors = m - np.arange(m)
        qs = q[order]
        step = factors * qs if method == "holm" else -np.expm1(factors * np.log1p(-qs))
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, np.maximum.accumulate(step))
    else:  # step-up procedures: hochberg, BH, BY
        order = np.argsort(q, kind="mergesort")[::-1]
        i = np.arange(m, 0, -1)
        qs = q[order]
        if method == "hochberg":
            step = (m - i + 1) * qs
        else:
            c = np.sum(1.0 / np.arange(1, m + 1)) if method == "BY" else 1.0
            step = c * m / i * qs
        adj = np.empty(m)
        adj[order] = np.minimum(1.0, np.minimum.accumulate(step))
    out[ok] = adj
    return out


def _groups(data: pd.DataFrame, dv: str, group: str, given) -> tuple[pd.DataFrame, list]:
    df = check_long(data, numeric=[dv], factors=[group])
    levels = level_order(df[group], group, given=given_for(given, group),
                         source=data.attrs.get("source"))
    df = df[~np.isnan(df[dv].to_numpy())]
    levels = [lev for lev in levels if (df[group] == lev).any()]
    if len(levels) < 2:
        raise InputError(
            "fewer than two groups with data",
            file=data.attrs.get("source"),
            column=group,
            expected="at least two groups",
        )
    return df, levels


def _tie_sum(x: np.ndarray) -> float:
    """Σ (t³ − t) over groups of tied values."""
    _, counts = np.unique(x, return_counts=True)
    counts = counts.astype(float)
    return float(np.sum(counts**3 - counts))


def kruskal(
    data: pd.DataFrame, *, dv: str, group: str, levels: Mapping[str, Sequence] | None = None
) -> pd.DataFrame:
    """Kruskal–Wallis rank-sum test (tie-corrected), as R ``kruskal.test``.

    H = [12 / (N(N+1)) · Σ Rᵢ² / nᵢ − 3(N+1)] / [1 − Σ(t³ − t) / (N³ − N)], referred to
    χ² with k − 1 df (Kruskal & Wallis 1952; Hollander & Wolfe 1999, eq. 6.5 and 6.8).

    Parameters
    ----------
    data
        Long-format table.
    dv
        Numeric response column; blank cells are dropped.
    group
        Grouping column.
    levels
        Level order, ``{group: [...]}`` (validated: every group must be listed); does not
        change the test.

    Returns
    -------
    pandas.DataFrame
        One row: ``H`` (tie-corrected statistic), ``df``, ``p``, ``n`` (observations
        used), ``k`` (groups).
    """
    df, order = _groups(data, dv, group, levels)
    y = df[dv].to_numpy()
    n_tot = y.size
    from scipy.stats import rankdata  # deferred: importing this module must not load scipy.stats

    ranks = rankdata(y)
    h = 0.0
    for lev in order:
        r = ranks[(df[group] == lev).to_numpy()]
        h += r.sum() ** 2 / r.size
    h = 12.0 / (n_tot * (n_tot + 1)) * h - 3.0 * (n_tot + 1)
    denom = 1.0 - _tie_sum(y) / (n_tot**3 - n_tot)
    if denom <= 0:
        raise InputError(
            "all values are tied; the Kruskal–Wallis test is undefined",
            file=data.attrs.get("source"),
            column=dv,
            expected="at least two distinct values",
        )
    h /= denom
    k = len(order)
    return pd.DataFrame(
        {"H": [h], "df": [k - 1], "p": [chi2_sf(h, k - 1)], "n": [n_tot], "k": [k]}
    )


def dunn(
    data: pd.DataFrame,
    *,
    dv: str,
    group: str,
    control: object | None = None,
    p_adjust: str = "holm",
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Dunn's (1964) multiple comparisons on Kruskal–Wallis mean ranks.

    z = (R̄_a − R̄_b) / sqrt{[N(N+1)/12 − Σ(t³ − t) / (12(N − 1))] (1/n_a + 1/n_b)},
    two-sided p = 2[1 − Φ(|z|)] (Dunn 1964, eq. 3; tie correction as ``dunn.test`` and
    scikit-posthocs ``posthoc_dunn``).

    Parameters
    ----------
    data, dv, group
        As :func:`kruskal`; ranks are the joint ranks of all groups.
    control
        Level of ``group`` to compare every other group with (k − 1 comparisons, ``b``
        is the control; rows in level order).  ``None``: all k(k − 1)/2 pairs, ``a``
        before ``b`` in level order.
    p_adjust
        Family-wise adjustment over the comparisons made (see :func:`adjust_pvalues`).
    levels
        Level order, ``{group: [...]}``; default: order of first appearance (the rule of
        :mod:`nplab.stats`; a Categorical's category order).

    Returns
    -------
    pandas.DataFrame
        ``a, b, n_a, n_b, mean_rank_a, mean_rank_b, z, p, p_adj``; z > 0 means ``a``
        ranks higher than ``b``.
    """
    df, levels = _groups(data, dv, group, levels)
    if control is not None and control not in levels:
        raise InputError(
            f"control group {control!r} not found",
            file=data.attrs.get("source"),
            column=group,
            expected=f"one of {', '.join(map(str, levels))}",
        )
    y = df[dv].to_numpy()
    n_tot = y.size
    from scipy.stats import rankdata  # deferred: importing this module must not load scipy.stats

    ranks = rankdata(y)
    g = df[group].to_numpy()
    mean_rank = {lev: float(ranks[g == lev].mean()) for lev in levels}
    size = {lev: int(np.sum(g == lev)) for lev in levels}
    var0 = n_tot * (n_tot + 1) / 12.0 - _tie_sum(y) / (12.0 * (n_tot - 1))
    if control is None:
        pairs = list(itertools.combinations(levels, 2))
    else:
        pairs = [(lev, control) for lev in levels if lev != control]
    rows = []
    for a, b in pairs:
        se = np.sqrt(var0 * (1.0 / size[a] + 1.0 / size[b]))
        z = (mean_rank[a] - mean_rank[b]) / se if se > 0 else np.nan
        p = 2.0 * norm_sf(abs(z)) if se > 0 else np.nan
        rows.append((a, b, size[a], size[b], mean_rank[a], mean_rank[b], z, p))
    out = pd.DataFrame(
        rows, columns=["a", "b", "n_a", "n_b", "mean_rank_a", "mean_rank_b", "z", "p"]
    )
    out["p_adj"] = adjust_pvalues(out["p"].to_numpy(), p_adjust)
    return out


def wilcoxon_exact_cdf(m: int, n: int) -> np.ndarray:
    """Exact null CDF of the Mann–Whitney/Wilcoxon W for sample sizes ``m`` and ``n``.

    ``cdf[w] = P(W ≤ w)`` for w = 0 … m·n (R ``pwilcox``), from the counts of the
    generating function ∏ᵢ (1 − q^(n+i)) / (1 − q^i), i = 1 … m (Mann & Whitney 1947),
    computed in exact integer arithmetic.
    """
    size = m * n + 1
    counts = [0] * size
    counts[0] = 1
    for i in range(1, m + 1):
        shift = n + i
        for w in range(size - 1, shift - 1, -1):  # multiply by (1 - q^(n+i))
            counts[w] -= counts[w - shift]
        for w in range(i, size):  # divide by (1 - q^i)
            counts[w] += counts[w - i]
    total = sum(counts)
    cum = list(itertools.accumulate(counts))
    return np.array([c / total for c in cum])


def mann_whitney(
    data: pd.DataFrame,
    *,
    dv: str,
    group: str,
    a: object | None = None,
    b: object | None = None,
    alternative: str = "two-sided",
    exact: bool | None = None,
    correct: bool = True,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Mann–Whitney U / Wilcoxon rank-sum test of group ``a`` vs ``b``, as R ``wilcox.test``.

    Parameters
    ----------
    data, dv, group
        Long-format table, response and grouping column.
    a, b
        The two levels compared (``x`` and ``y`` of ``wilcox.test``).  Default: the two
        levels of ``group`` in level order (an error if there are more than two), so
        ``levels={group: [a, b]}`` also chooses them.
    alternative
        ``"two-sided"``, ``"greater"`` (``a`` tends to be larger) or ``"less"``.
    exact
        ``None`` (R's rule): exact p-value when n_a < 50, n_b < 50 and no ties, otherwise
        the normal approximation.  ``True`` forces the exact distribution (falls back to
        the normal approximation with ties, as R does); ``False`` forces the normal one.
    correct
        Continuity correction (±0.5) in the normal approximation (R default ``TRUE``).
    levels
        Level order, ``{group: [...]}``; default: order of first appearance.

    Returns
    -------
    pandas.DataFrame
        One row: ``a, b, n_a, n_b, W`` (rank sum of ``a`` − n_a(n_a+1)/2, R's W = U of
        ``a``), ``z`` (NaN for the exact test), ``p``, ``method`` (``"exact"`` or
        ``"normal"``), ``rbc`` (rank-biserial correlation 2W/(n_a n_b) − 1; Kerby 2014).
    """
    if alternative not in ("two-sided", "greater", "less"):
        raise InputError(
            f"unknown alternative {alternative!r}",
            column="alternative",
            expected="two-sided, greater or less",
        )
    df, levels = _groups(data, dv, group, levels)
    if a is None and b is None:
        if len(levels) != 2:
            raise InputError(
                f"{len(levels)} groups found; name the two to compare",
                file=data.attrs.get("source"),
                column=group,
                expected="exactly two groups, or a= and b=",
            )
        a, b = levels
    for lev in (a, b):
        if lev not in levels:
            raise InputError(
                f"group {lev!r} not found (or has no data)",
                file=data.attrs.get("source"),
                column=group,
                expected=f"one of {', '.join(map(str, levels))}",
            )
    g = df[group].to_numpy()
    x = df[dv].to_numpy()[g == a]
    y = df[dv].to_numpy()[g == b]
    nx, ny = x.size, y.size
    from scipy.stats import rankdata  # deferred: importing this module must not load scipy.stats

    r = rankdata(np.concatenate([x, y]))
    w = float(r[:nx].sum() - nx * (nx + 1) / 2.0)
    ties = np.unique(r).size != r.size
    use_exact = (nx < 50 and ny < 50) if exact is None else bool(exact)
    use_exact = use_exact and not ties
    z = np.nan
    if use_exact:
        cdf = wilcoxon_exact_cdf(nx, ny)
        wi = round(w)
        lower = cdf[wi]
        upper = 1.0 - cdf[wi - 1] if wi >= 1 else 1.0
        if alternative == "two-sided":
            p = min(1.0, 2.0 * (upper if w > nx * ny / 2.0 else lower))
        elif alternative == "greater":
            p = upper
        else:
            p = lower
        method = "exact"
    else:
        n = nx + ny
        d = w - nx * ny / 2.0
        sigma = np.sqrt(nx * ny / 12.0 * ((n + 1) - _tie_sum(r) / (n * (n - 1))))
        corr = 0.0
        if correct:
            corr = {"two-sided": np.sign(d) * 0.5, "greater": 0.5, "less": -0.5}[alternative]
        z = (d - corr) / sigma if sigma > 0 else np.nan
        if alternative == "two-sided":
            p = 2.0 * min(norm_cdf(z), norm_sf(z))
        elif alternative == "greater":
            p = norm_sf(z)
        else:
            p = norm_cdf(z)
        p = min(1.0, p)
        method = "normal"
    return pd.DataFrame(
        {
            "a": [a],
            "b": [b],
            "n_a": [nx],
            "n_b": [ny],
            "W": [w],
            "z": [z],
            "p": [p],
            "method": [method],
            "rbc": [2.0 * w / (nx * ny) - 1.0],
        }
    )


def _friedman_one(
    df: pd.DataFrame, dv: str, within: str, subject: str, source: object, order: list
) -> tuple[float, int, float, int, int, int]:
    dup = df.duplicated([subject, within], keep="first").to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(
            f"subject {show(df[subject].iloc[i])} has two values at {within} "
            f"{show(df[within].iloc[i])}",
            file=source,
            row=row_number(df.index[i]),  # index = position in the caller's table
            column=within,
            expected="one value per subject and level",
        )
    wide = df.pivot(index=subject, columns=within, values=dv)
    n_seen = len(wide)
    wide = wide[[lev for lev in order if lev in wide.columns]].dropna(axis=0, how="any")
    n, k = wide.shape
    if n < 1 or k < 2:
        raise InputError(
            "Friedman test needs at least one complete subject and two levels",
            file=source,
            column=within,
            expected="complete subjects measured at every level (for incomplete animals use "
                     "the linear mixed model: nplab stats mixed)",
        )
    y = wide.to_numpy(dtype=float)
    from scipy.stats import rankdata  # deferred: importing this module must not load scipy.stats

    r = np.apply_along_axis(rankdata, 1, y)
    ties = sum(_tie_sum(row) for row in y)
    num = 12.0 * np.sum((r.sum(axis=0) - n * (k + 1) / 2.0) ** 2)
    den = n * k * (k + 1) - ties / (k - 1)
    chi2 = num / den if den > 0 else np.nan
    return chi2, k - 1, float(chi2_sf(chi2, k - 1)), n, k, n_seen - n


def friedman(
    data: pd.DataFrame,
    *,
    dv: str,
    within: str,
    subject: str,
    group: str | None = None,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Friedman rank test across the levels of ``within``, as R ``friedman.test``.

    Q = 12 Σⱼ (Rⱼ − n(k+1)/2)² / [n k (k+1) − Σ(t³ − t)/(k − 1)] with k − 1 df (Friedman
    1937; Hollander & Wolfe 1999, eq. 7.2 and 7.7).  Subjects missing any level are
    dropped (R drops incomplete blocks) and counted in ``n_dropped``.  Kendall's W =
    Q / [n(k − 1)].

    Parameters
    ----------
    data, dv, within, subject
        Long table; one value per subject and level of ``within``.
    group
        Optional between-subject column: the test is run separately within each group
        (e.g. time course within each treatment group).
    levels
        Level order, ``{within: [...], group: [...]}``; default: order of first
        appearance.  Does not change the test.

    Returns
    -------
    pandas.DataFrame
        One row (per ``group`` level, in level order): ``[group], chi2, df, p, n, k, W, n_dropped``
        (animals with some but not all levels, left out of the test).
    """
    factors = [within, subject] + ([group] if group is not None else [])
    df = check_long(data, numeric=[dv], factors=factors)
    source = data.attrs.get("source")
    order = level_order(df[within], within, given=given_for(levels, within), source=source)
    groups = (level_order(df[group], group, given=given_for(levels, group), source=source)
              if group is not None else [])
    df = df[~np.isnan(df[dv].to_numpy())]
    cols = ["chi2", "df", "p", "n", "k", "n_dropped"]
    if group is None:
        res = [_friedman_one(df, dv, within, subject, source, order)]
        out = pd.DataFrame(res, columns=cols)
    else:
        res = []
        for lev in [g for g in groups if (df[group] == g).any()]:
            res.append((lev, *_friedman_one(df[df[group] == lev], dv, within, subject, source,
                                            order)))
        out = pd.DataFrame(res, columns=[group, *cols])
    out["W"] = out["chi2"] / (out["n"] * (out["k"] - 1))
    return out[[c for c in out.columns if c != "n_dropped"] + ["n_dropped"]]
