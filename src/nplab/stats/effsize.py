"""Effect sizes: Hedges' g with confidence intervals, partial and generalised η².

Hedges' g (:func:`hedges_g`, :func:`hedges_g_from_stats`)
    d = (ȳ_a − ȳ_b)/s_p with the pooled SD s_p (df = n_a + n_b − 2); g = J·d with the
    exact small-sample correction J = Γ(df/2) / [sqrt(df/2) Γ((df − 1)/2)] (Hedges 1981,
    J Educ Stat 6:107, eq. 6e).  Confidence interval, ``ci_method``:

    * ``"exact"`` (default): the noncentrality parameter of t = d / sqrt(1/n_a + 1/n_b) is
      bracketed by inverting the noncentral t CDF (Steiger & Fouladi 1997; Cumming &
      Finch 2001), converted back to d and multiplied by J — the method of R
      ``effectsize::hedges_g``;
    * ``"normal"``: g ± z·SE with SE² = (n_a + n_b)/(n_a n_b) + g²/[2(n_a + n_b)]
      (Hedges & Olkin 1985, Statistical Methods for Meta-Analysis, eq. 5.8.13 / p. 86).

η² from an ANOVA table (:func:`eta_squared`)
    partial η²_p = F·df1 / (F·df1 + df2) (= SS/(SS + SS_error)); generalised η²_G =
    SS / (SS + Σ unique SS_error + Σ SS of observed (measured) effects involving the
    effect's observed factors) (Olejnik & Algina 2003, Psychol Methods 8:434, Table 2;
    Bakeman 2005, Behav Res Methods 37:379), computed exactly as R ``afex``.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize
from scipy.special import gammaln

from nplab._dist import norm_isf
from nplab.errors import InputError
from nplab.stats._levels import given_for, level_order
from nplab.stats._longdata import check_long

__all__ = ["CI_METHODS", "eta_squared", "hedges_g", "hedges_g_from_stats", "hedges_j"]

CI_METHODS = ("exact", "normal")


def hedges_j(df: float) -> float:
    """Exact small-sample bias correction J(df) of Hedges (1981), eq. 6e."""
    return float(np.exp(gammaln(df / 2.0) - 0.5 * np.log(df / 2.0) - gammaln((df - 1.0) / 2.0)))


def _ncp_ci(t: float, df: float, conf: float) -> tuple[float, float]:
    """CI of the noncentrality parameter of a noncentral t observed at ``t``."""
    if t < 0:  # T(df, -ncp) = -T(df, ncp): work on |t| where scipy's CDF is stable
        lo, hi = _ncp_ci(-t, df, conf)
        return -hi, -lo
    a = (1.0 - conf) / 2.0
    from scipy import stats as sps  # deferred: importing this module must not load scipy.stats

    def cdf(ncp: float) -> float:
        value = sps.nct.cdf(t, df, ncp)
        return 1.0 - sps.nct.sf(t, df, ncp) if np.isnan(value) else value

    def root(target: float) -> float:
        f = lambda ncp: cdf(ncp) - target  # noqa: E731
        lo, hi = t - 10.0, t + 10.0
        while f(lo) < 0:
            lo -= 10.0
        while f(hi) > 0:
            hi += 10.0
        return optimize.brentq(f, lo, hi, xtol=1e-13, rtol=1e-14)

    return root(1.0 - a), root(a)


def hedges_g_from_stats(
    mean_a: float,
    sd_a: float,
    n_a: int,
    mean_b: float,
    sd_b: float,
    n_b: int,
    *,
    ci: float = 0.95,
    ci_method: str = "exact",
) -> dict[str, float]:
    """Hedges' g of a − b from summary statistics (means, SDs with n − 1, sizes).

    Returns
    -------
    dict
        ``d`` (Cohen's d, pooled SD), ``g``, ``ci_low``, ``ci_high`` (for g), ``se``
        (Hedges & Olkin SE of g), ``df``.
    """
    if ci_method not in CI_METHODS:
        raise InputError(
            f"unknown ci_method {ci_method!r}", column="ci_method", expected=" or ".join(CI_METHODS)
        )
    if not 0 < ci < 1:
        raise InputError(f"ci = {ci!r}", column="ci", expected="a level in (0, 1), e.g. 0.95")
    if n_a < 2 or n_b < 2:
        raise InputError(
            f"groups of {n_a} and {n_b} animals", column="n", expected="at least 2 per group"
        )
    df = n_a + n_b - 2.0
    sp = math.sqrt(((n_a - 1) * sd_a**2 + (n_b - 1) * sd_b**2) / df)
    if not sp > 0:
        raise InputError(
            "the pooled SD is zero; the standardised difference is undefined",
            column="dv",
            expected="variation within groups",
        )
    d = (mean_a - mean_b) / sp
    j = hedges_j(df)
    g = d * j
    scale = math.sqrt(1.0 / n_a + 1.0 / n_b)
    se = math.sqrt((n_a + n_b) / (n_a * n_b) + g * g / (2.0 * (n_a + n_b)))
    if ci_method == "exact":
        lo, hi = _ncp_ci(d / scale, df, ci)
        ci_low, ci_high = lo * scale * j, hi * scale * j
    else:
        z = norm_isf((1.0 - ci) / 2.0)
        ci_low, ci_high = g - z * se, g + z * se
    return {"d": d, "g": g, "ci_low": ci_low, "ci_high": ci_high, "se": se, "df": df}


def hedges_g(
    data: pd.DataFrame,
    *,
    dv: str,
    group: str,
    a: object | None = None,
    b: object | None = None,
    control: object | None = None,
    ci: float = 0.95,
    ci_method: str = "exact",
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Hedges' g with CI for group contrasts in a long table (blank ``dv`` dropped).

    Parameters
    ----------
    data, dv, group
        Long-format table, response and grouping column.
    a, b
        One contrast a − b.  Alternatively ``control``: every other group − control.
        Neither: all pairs in level order (a before b).  Rows follow the level order.
    ci, ci_method
        Confidence level and ``"exact"`` (noncentral t) or ``"normal"`` (Hedges & Olkin).
    levels
        Level order, ``{group: [...]}``; default: order of first appearance (the rule of
        :mod:`nplab.stats`).

    Returns
    -------
    pandas.DataFrame
        ``a, b, n_a, n_b, mean_a, mean_b, d, g, se, ci_low, ci_high, ci_level, ci_method``.
    """
    df = check_long(data, numeric=[dv], factors=[group])
    source = data.attrs.get("source")
    order = level_order(df[group], group, given=given_for(levels, group), source=source)
    df = df[~np.isnan(df[dv].to_numpy())]
    levels = [lev for lev in order if (df[group] == lev).any()]
    named = [x for x in (a, b, control) if x is not None]
    for lev in named:
        if lev not in levels:
            raise InputError(
                f"group {lev!r} not found (or has no data)",
                file=source,
                column=group,
                expected=f"one of {', '.join(map(str, levels))}",
            )
    if a is not None or b is not None:
        if a is None or b is None:
            raise InputError("give both a= and b=", column=group, expected="two group names")
        pairs: Sequence[tuple] = [(a, b)]
    elif control is not None:
        pairs = [(lev, control) for lev in levels if lev != control]
    else:
        pairs = [(levels[i], levels[j]) for i in range(len(levels)) for j in range(i + 1, len(levels))]
    rows = []
    for ga, gb in pairs:
        ya = df.loc[df[group] == ga, dv].to_numpy()
        yb = df.loc[df[group] == gb, dv].to_numpy()
        if ya.size < 2 or yb.size < 2:
            raise InputError(
                f"groups {ga!r} and {gb!r} have {ya.size} and {yb.size} values",
                file=source,
                column=dv,
                expected="at least 2 values per group",
            )
        r = hedges_g_from_stats(
            ya.mean(), ya.std(ddof=1), ya.size, yb.mean(), yb.std(ddof=1), yb.size,
            ci=ci, ci_method=ci_method,
        )
        rows.append(
            (ga, gb, ya.size, yb.size, ya.mean(), yb.mean(), r["d"], r["g"], r["se"],
             r["ci_low"], r["ci_high"], ci, ci_method)
        )
    return pd.DataFrame(
        rows,
        columns=["a", "b", "n_a", "n_b", "mean_a", "mean_b", "d", "g", "se", "ci_low",
                 "ci_high", "ci_level", "ci_method"],
    )


def _sum_distinct(values: np.ndarray, rel: float = 1e-10) -> float:
    """Sum of the distinct error SS (afex ``sum(unique(...))``), equal within ``rel``.

    Effects sharing an error stratum (e.g. time and group × time) carry the same error SS;
    a tolerance keeps floating-point noise from counting it twice.
    """
    kept: list[float] = []
    for v in np.sort(values):
        if not kept or abs(v - kept[-1]) > rel * max(abs(v), abs(kept[-1])):
            kept.append(float(v))
    return float(np.sum(kept))


def eta_squared(table: pd.DataFrame, *, observed: Sequence[str] = ()) -> pd.DataFrame:
    """Add partial (``np2``) and generalised (``ges``) η² to an ANOVA table.

    Parameters
    ----------
    table
        One row per effect with columns ``source`` (e.g. ``group``, ``time``,
        ``group:time``), ``df1``, ``df2``, ``F`` (the :func:`nplab.stats.mixed_anova`
        output works), and optionally ``ss`` and ``ss_error`` (sum of squares of the
        effect and of its error term).  Without ``ss``/``ss_error`` only ``np2`` can be
        computed and ``ges`` is NaN.  Uncorrected df (``df1``, ``df2``) are used; a
        sphericity correction multiplies both by ε and leaves η²_p unchanged.
    observed
        Names of measured (not manipulated) factors, e.g. sex; η²_G then adds the SS of
        every effect that involves them to the denominator (Olejnik & Algina 2003).

    Returns
    -------
    pandas.DataFrame
        A copy of ``table`` with ``np2`` and ``ges`` (overwritten if present).
    """
    if not isinstance(table, pd.DataFrame):
        raise InputError("the ANOVA table must be a DataFrame", expected="columns source, df1, df2, F")
    for col in ("source", "df1", "df2", "F"):
        if col not in table.columns:
            raise InputError(
                "required column is missing",
                column=col,
                expected="an ANOVA table with columns source, df1, df2, F [, ss, ss_error]",
            )
    out = table.copy()
    f = pd.to_numeric(out["F"], errors="coerce").to_numpy(dtype=float)
    df1 = pd.to_numeric(out["df1"], errors="coerce").to_numpy(dtype=float)
    df2 = pd.to_numeric(out["df2"], errors="coerce").to_numpy(dtype=float)
    out["np2"] = f * df1 / (f * df1 + df2)
    if "ss" in out.columns and "ss_error" in out.columns:
        ss = pd.to_numeric(out["ss"], errors="coerce").to_numpy(dtype=float)
        sse = pd.to_numeric(out["ss_error"], errors="coerce").to_numpy(dtype=float)
        sources = out["source"].astype(str).tolist()
        obs = np.zeros(len(out), dtype=bool)
        for name in observed:
            hit = np.array([re.search(rf"\b{re.escape(name)}\b", s) is not None for s in sources])
            if not hit.any():
                raise InputError(
                    f"observed factor {name!r} is not in the table",
                    column="source",
                    expected=f"one of {', '.join(sources)}",
                )
            obs |= hit
        obs_ss = ss * obs
        err_total = _sum_distinct(sse[~np.isnan(sse)])
        out["ges"] = ss / (ss + err_total + obs_ss.sum() - obs_ss)
    else:
        out["ges"] = np.nan
    return out
