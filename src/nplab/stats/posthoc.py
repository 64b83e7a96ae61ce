"""Post hoc comparisons: Dunnett (many-to-one), Tukey (all pairs), adjusted declared pairs.

All comparisons use the pooled error of the fitted one-way model (or, at each time point,
of the mixed design; see :func:`posthoc_by_time`), so a group of n = 1 is accepted.

Dunnett's single-step p-values and simultaneous confidence intervals are computed
**deterministically**.  With a pooled error the comparisons ``T_i = (ȳ_i − ȳ_0)/(s·√(1/n_i +
1/n_0))`` are multivariate t with product correlation ``ρ_ij = λ_i λ_j``,
``λ_i = √(n_i/(n_i + n_0))`` (Dunnett 1955, JASA 50:1096–1121), so conditioning on a common
standard normal ``W`` and on ``S = χ_ν/√ν`` makes them independent:

    P(max_i |T_i| ≥ t) = ∫₀^∞ f_S(s) ∫ φ(w) [1 − Π_i (1 − q_i(w, s))] dw ds,
    q_i = Φ̄((ts − λ_i w)/σ_i) + Φ̄((ts + λ_i w)/σ_i),   σ_i = √(1 − λ_i²)

(Dunnett 1955; Hochberg & Tamhane 1987, *Multiple Comparison Procedures*, ch. 3).
The complement is integrated directly (so small p-values keep their relative accuracy):
the inner integral by a composite 12-point Gauss–Legendre rule on a fixed grid over
``|w| ≤ 9`` whose panel width (≤ 0.5) adapts to the sharpest ``σ_i/λ_i``; the outer one by
a composite 8-point Gauss–Legendre rule over the χ density, evaluated at two resolutions
(panels of 1 and 0.5 SD of S): when the two disagree by more than 1e-9 relative, the
outer integral is redone by adaptive QUADPACK quadrature (``scipy.integrate.quad``,
deterministic) to 1e-10 relative error.  Comparisons with one control have the product
correlation ρᵢⱼ = λᵢλⱼ, so p-values and critical values are first computed by the
one-dimensional product form (:mod:`nplab.stats._dunnett_quad`: trapezoid rules in log S
and in W with steps from a-priori error bounds, each checked against its coarser nested
rule; critical values by Halley steps with the analytic first and second derivatives from
Šidák's bound); only what that path cannot certify falls back to the general
route above (critical values: Brent on the fixed rule, secant on the checked one).  No Monte
Carlo is involved, so p-values are reproducible to the last bit; they agree with an
independent evaluation by R's adaptive ``integrate`` to ~1e-13 relative, with mvtnorm's
``pmvt`` within its ~1e-6 absolute error, and with Dunnett's (1955, 1964) published tables.

Tukey all-pairs uses the studentized range distribution (Tukey–Kramer for unequal n;
``scipy.stats.studentized_range``), as R ``TukeyHSD`` / emmeans ``adjust = "tukey"``.
Declared pairs use pooled-error t tests with Holm, Šidák, Holm–Šidák or Bonferroni
adjustment (Holm 1979, Scand J Stat 6:65–70; Šidák 1967, JASA 62:626–633).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np
import pandas as pd
from scipy import optimize, special

from nplab._dist import chi2_isf, chi2_ppf, chi_pdf, t_isf, t_sf
from nplab.errors import InputError
from nplab.stats import _dunnett_quad
from nplab.stats._design import (
    Design,
    FactorialDesign,
    as_factor_list,
    factorial_design,
    wide_design,
)

__all__ = [
    "DUNNETT_COLUMNS",
    "PAIR_COLUMNS",
    "dunnett",
    "dunnett_by_time",
    "dunnett_critical",
    "dunnett_pvalue",
    "dunnett_pvalues",
    "pairwise",
    "posthoc_by_time",
    "tukey",
]

#: Output columns of :func:`dunnett`.
DUNNETT_COLUMNS = ["group", "diff", "se", "t", "df", "p", "ci_low", "ci_high"]
#: Output columns of :func:`tukey` and :func:`pairwise`.
PAIR_COLUMNS = ["a", "b", "diff", "se", "t", "df", "p", "p_adj", "ci_low", "ci_high"]

_ALTERNATIVES = ("two-sided", "greater", "less")
_ADJUST = {"holm": "holm", "bonferroni": "bonferroni", "sidak": "sidak", "holm-sidak": "holm-sidak",
           "none": None}  # fmt: skip
_GL_X, _GL_W = np.polynomial.legendre.leggauss(12)
_W_MAX = 9.0  # φ(9) ≈ 1e-18: the inner integral's truncation error is below 1e-17


# ----------------------------------------------------------------------------------------
# Dunnett's multivariate-t probability (product correlation), deterministic quadrature
# ----------------------------------------------------------------------------------------
@lru_cache(maxsize=64)
def _inner_grid(min_ratio: float) -> tuple[np.ndarray, np.ndarray]:
    """Nodes and weights (including φ(w)) of the composite Gauss–Legendre rule in w."""
    h = min(0.5, 0.5 * min_ratio)
    n_panels = int(np.ceil(2 * _W_MAX / h))
    edges = np.linspace(-_W_MAX, _W_MAX, n_panels + 1)
    half = np.diff(edges) / 2
    mid = (edges[:-1] + edges[1:]) / 2
    w = (mid[:, None] + half[:, None] * _GL_X[None, :]).ravel()
    wt = (half[:, None] * _GL_W[None, :]).ravel() * np.exp(-0.5 * w * w) / np.sqrt(2 * np.pi)
    return w, wt


def _check_lambdas(lam: Sequence[float]) -> np.ndarray:
    lam = np.asarray(lam, dtype=float)
    if lam.ndim != 1 or lam.size == 0 or np.any(lam <= 0) or np.any(lam >= 1):
        raise ValueError("lambdas must be in (0, 1)")
    return lam


def _exceed_given_s(t: float, s, lam: np.ndarray, alternative: str):
    """P(max statistic exceeds t | S = s), integrated over the common normal W.

    ``s`` may be a scalar (returns a float) or an array (returns an array).
    """
    scalar = np.ndim(s) == 0
    s_arr = np.atleast_1d(np.asarray(s, dtype=float))
    sig = np.sqrt(1.0 - lam * lam)
    w, wt = _inner_grid(round(float(np.min(sig / lam)), 6))
    lw = (w[:, None] * lam[None, :] / sig)[None, :, :]
    out = np.empty(len(s_arr))
    step = max(1, 2_000_000 // (len(w) * len(lam)))
    for i in range(0, len(s_arr), step):
        ts = (t * s_arr[i : i + step])[:, None, None] / sig[None, None, :]
        if alternative == "two-sided":
            q = special.ndtr(lw - ts) + special.ndtr(-lw - ts)
        else:  # "greater"; "less" is mapped onto it by symmetry
            q = special.ndtr(lw - ts)
        q = np.minimum(q, 1.0)
        with np.errstate(divide="ignore"):
            log_keep = np.log1p(-q).sum(axis=2)
        out[i : i + step] = -np.expm1(log_keep) @ wt
    return float(out[0]) if scalar else out


def _exceed(t: float, lam: np.ndarray, df: float, alternative: str) -> float:
    """P(max_i T_i ≥ t) (one-sided) or P(max_i |T_i| ≥ t) (two-sided), df may be inf."""
    if alternative == "two-sided" and t <= 0:
        return 1.0
    if not np.isfinite(df):
        return _exceed_given_s(t, 1.0, lam, alternative)
    # density of S = chi_df / sqrt(df)
    def f_s(s: float) -> float:
        return np.sqrt(df) * chi_pdf(s * np.sqrt(df), df)

    def integrand(s: float) -> float:
        return f_s(s) * _exceed_given_s(t, s, lam, alternative)

    s_hi = np.sqrt(chi2_isf(1e-22, df) / df)
    mode = np.sqrt(max(df - 1.0, 0.0) / df)
    pts = sorted({mode, float(np.sqrt(chi2_ppf(0.5, df) / df))})
    from scipy import integrate  # deferred: only this rarely needed fallback uses QUADPACK

    val, _ = integrate.quad(
        integrand, 0.0, s_hi, points=pts, epsabs=0.0, epsrel=1e-10, limit=400
    )
    return float(min(1.0, max(0.0, val)))


def dunnett_pvalue(
    t: float, lambdas: Sequence[float], df: float, alternative: str = "two-sided"
) -> float:
    """Single-step Dunnett adjusted p-value of an observed statistic ``t``.

    Parameters
    ----------
    t
        Observed t statistic of one comparison (treatment − control).
    lambdas
        ``λ_i = √(n_i/(n_i + n_0))`` of *all* comparisons in the family (correlations
        ``λ_i λ_j``); for a general pooled-error family ``λ_i = √(v_0 / (v_0 + v_i))`` with
        ``v`` the variance factors of the group means.
    df
        Error degrees of freedom (may be non-integer or ``inf``).
    alternative
        ``"two-sided"`` (P(max|T| ≥ |t|)), ``"greater"`` (P(max T ≥ t)) or ``"less"``
        (P(min T ≤ t)).
    """
    return float(dunnett_pvalues([t], lambdas, df, alternative)[0])


def dunnett_pvalues(
    t: Sequence[float], lambdas: Sequence[float], df: float, alternative: str = "two-sided"
) -> np.ndarray:
    """Vectorised :func:`dunnett_pvalue` for several observed statistics of one family."""
    lam = _check_lambdas(lambdas)
    t_arr = np.asarray(t, dtype=float)
    if alternative == "two-sided":
        return _exceed_fast(np.abs(t_arr), lam, df, alternative)
    if alternative == "less":
        t_arr = -t_arr
    return _exceed_fast(t_arr, lam, df, "greater")


def _exceed_fast(t_arr: np.ndarray, lam: np.ndarray, df: float, alternative: str) -> np.ndarray:
    """Nested trapezoidal product rule (:mod:`nplab.stats._dunnett_quad`), vectorised over
    ``t``; statistics it cannot certify go to the reference path :func:`_exceed_checked`."""
    t_arr = np.atleast_1d(np.asarray(t_arr, dtype=float))
    out = np.ones(len(t_arr))
    todo = np.flatnonzero(~((alternative == "two-sided") & (t_arr <= 0)))
    if todo.size:
        p, ok = _dunnett_quad.exceed(t_arr[todo], lam, df, alternative)
        out[todo] = p
        bad = todo[~ok]
        if bad.size:
            out[bad] = _exceed_checked(t_arr[bad], lam, df, alternative)
    return out


@lru_cache(maxsize=64)
def _outer_grid(df: float, width: float = 0.5) -> tuple[np.ndarray, np.ndarray]:
    """Fixed composite 8-point Gauss–Legendre nodes/weights (× density) in s = χ_df/√df.

    Panels ``width`` × SD(S) wide (SD(S) ≈ 1/√(2 df), at most 0.5) over [0, s_hi],
    s_hi the 1 − 1e-22 quantile.
    """
    if not np.isfinite(df):
        return np.array([1.0]), np.array([1.0])
    sd = min(0.5, 1.0 / np.sqrt(2.0 * df))
    s_hi = np.sqrt(chi2_isf(1e-22, df) / df)
    n_panels = int(np.ceil(s_hi / (width * sd)))
    edges = np.linspace(0.0, s_hi, n_panels + 1)
    half = np.diff(edges) / 2
    x8, w8 = np.polynomial.legendre.leggauss(8)
    s = ((edges[:-1] + edges[1:]) / 2)[:, None] + half[:, None] * x8[None, :]
    wt = half[:, None] * w8[None, :] * np.sqrt(df) * chi_pdf(s * np.sqrt(df), df)
    return s.ravel(), wt.ravel()


def _exceed_fixed(t, lam: np.ndarray, df: float, alternative: str, width: float = 1.0):
    """:func:`_exceed` by a fixed product rule, vectorised over ``t`` (array in, array out)."""
    t_arr = np.atleast_1d(np.asarray(t, dtype=float))
    s, ws = _outer_grid(float(df), width)
    vals = _exceed_given_s(1.0, np.outer(t_arr, s).ravel(), lam, alternative)
    out = np.clip(vals.reshape(len(t_arr), len(s)) @ ws, 0.0, 1.0)
    return float(out[0]) if np.ndim(t) == 0 else out


def _exceed_checked(t_arr: np.ndarray, lam: np.ndarray, df: float, alternative: str) -> np.ndarray:
    """Fixed rule at two resolutions; where they differ by > 1e-9 relative, adaptive quad.

    Depends only on the inputs (no random numbers), so results are reproducible exactly.
    """
    t_arr = np.asarray(t_arr, dtype=float)
    out = np.ones(len(t_arr))
    todo = ~((alternative == "two-sided") & (t_arr <= 0))
    if not todo.any():
        return out
    if not np.isfinite(df):
        out[todo] = [_exceed(t, lam, df, alternative) for t in t_arr[todo]]
        return out
    coarse = _exceed_fixed(t_arr[todo], lam, df, alternative, 1.0)
    fine = _exceed_fixed(t_arr[todo], lam, df, alternative, 0.5)
    bad = np.abs(coarse - fine) > 1e-9 * np.abs(fine) + 1e-300
    for i in np.flatnonzero(bad):
        fine[i] = _exceed(float(t_arr[todo][i]), lam, df, alternative)
    out[todo] = fine
    return out


def dunnett_critical(
    lambdas: Sequence[float], df: float, conf_level: float = 0.95, alternative: str = "two-sided"
) -> float:
    """Critical value c with P(max|T| ≤ c) = conf_level (one-sided: P(max T ≤ c)).

    Solved by Halley steps on log P with the analytic derivatives of the one-dimensional
    product form (:mod:`nplab.stats._dunnett_quad`); where that cannot be certified, by Brent's
    method on a fixed product Gauss–Legendre rule polished with secant steps on the
    adaptive integral until the step is below 1e-10.
    """
    lam = _check_lambdas(lambdas)
    alt = "two-sided" if alternative == "two-sided" else "greater"
    return _critical(tuple(float(v) for v in lam), float(df), float(conf_level), alt)


@lru_cache(maxsize=256)
def _critical(lam_t: tuple, df: float, conf_level: float, alt: str) -> float:
    """Halley solve on the fast certified rule; the reference solver when it cannot certify."""
    c = _dunnett_quad.critical(np.array(lam_t), df, conf_level, alt)
    return _critical_reference(lam_t, df, conf_level, alt) if c is None else c


def _critical_reference(lam_t: tuple, df: float, conf_level: float, alt: str) -> float:
    """Reference solver: Brent on the fixed Gauss–Legendre rule, secant on the checked one."""
    lam = np.array(lam_t)
    alpha = 1.0 - conf_level
    # Dunnett's value lies between the single-comparison and the Bonferroni t quantiles
    sides = 2.0 if alt == "two-sided" else 1.0
    lo = float(t_isf(alpha / sides, df)) - 1e-6
    hi = float(t_isf(alpha / (sides * lam.size), df)) + 1e-6
    c0 = optimize.brentq(lambda c: _exceed_fixed(c, lam, df, alt) - alpha, lo, hi, xtol=1e-9)

    def checked(c: float) -> float:
        return float(_exceed_checked(np.array([c]), lam, df, alt)[0]) - alpha

    c1 = c0 + 1e-6
    f0, f1 = checked(c0), checked(c1)
    for _ in range(20):
        if f1 == f0:
            break
        c2 = c1 - f1 * (c1 - c0) / (f1 - f0)
        c0, f0 = c1, f1
        c1, f1 = c2, checked(c2)
        if abs(c1 - c0) < 1e-10:
            break
    return float(c1)


# ----------------------------------------------------------------------------------------
# families of comparisons from group means with a pooled error
# ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class _Family:
    """Group means with variance factors ``v_g`` (Var(mean_g) = σ² v_g) and pooled σ², df."""

    labels: list
    means: np.ndarray
    vfac: np.ndarray
    s2: float
    df: float


def _check_alternative(alternative: str) -> None:
    if alternative not in _ALTERNATIVES:
        raise InputError(
            f"unknown alternative {alternative!r}",
            column="alternative",
            expected=" / ".join(_ALTERNATIVES),
        )


def _check_conf(conf_level: float) -> None:
    if not 0 < conf_level < 1:
        raise InputError(f"conf_level {conf_level} is not a probability", expected="0 < conf_level < 1")


def _label_index(fam: _Family, label, what: str, column: str | None) -> int:
    as_text = [str(x) for x in fam.labels]
    if label in fam.labels:
        return fam.labels.index(label)
    if str(label) in as_text:
        return as_text.index(str(label))
    raise InputError(
        f"{what} {label!r} is not a level of the group column",
        column=column,
        expected="one of " + ", ".join(as_text),
    )


def _dunnett_family(fam: _Family, control, alternative: str, conf_level: float, column) -> pd.DataFrame:
    c = _label_index(fam, control, "control", column)
    others = [i for i in range(len(fam.labels)) if i != c]
    if not others:
        raise InputError("there is no group to compare with the control", column=column)
    if not fam.s2 > 0:
        raise InputError("the pooled error variance is zero: all values within groups are equal",
                         expected="some variation within groups")  # fmt: skip
    diff = fam.means[others] - fam.means[c]
    vf = fam.vfac[others] + fam.vfac[c]
    se = np.sqrt(fam.s2 * vf)
    tval = diff / se
    lam = np.sqrt(fam.vfac[c] / vf)  # = sqrt(n_i/(n_i+n_0)) with pooled error
    p = dunnett_pvalues(tval, lam, fam.df, alternative)
    crit = dunnett_critical(lam, fam.df, conf_level, alternative)
    lo, hi = diff - crit * se, diff + crit * se
    if alternative == "greater":
        hi = np.full_like(hi, np.inf)
    elif alternative == "less":
        lo = np.full_like(lo, -np.inf)
    return pd.DataFrame(
        {
            "group": [fam.labels[i] for i in others],
            "diff": diff,
            "se": se,
            "t": tval,
            "df": float(fam.df),
            "p": p,
            "ci_low": lo,
            "ci_high": hi,
        }
    )


def _pairs_family(
    fam: _Family, pairs, method: str, conf_level: float, column
) -> pd.DataFrame:
    idx = [(_label_index(fam, a, "group", column), _label_index(fam, b, "group", column))
           for a, b in pairs]  # fmt: skip
    if not idx:
        raise InputError("no pairs to compare", column=column)
    for a, b in idx:
        if a == b:
            raise InputError(f"pair compares {fam.labels[a]!r} with itself", column=column)
    if not fam.s2 > 0:
        raise InputError("the pooled error variance is zero: all values within groups are equal",
                         expected="some variation within groups")  # fmt: skip
    ia = np.array([a for a, _ in idx])
    ib = np.array([b for _, b in idx])
    diff = fam.means[ia] - fam.means[ib]
    se = np.sqrt(fam.s2 * (fam.vfac[ia] + fam.vfac[ib]))
    tval = diff / se
    m = len(idx)
    alpha = 1 - conf_level
    if method == "tukey":
        from scipy import stats  # studentized range: scipy.stats only when Tukey is asked for

        k = len(fam.labels)
        p = stats.studentized_range.sf(np.abs(tval) * np.sqrt(2), k, fam.df)
        p_adj = np.minimum(p, 1.0)
        p = 2 * t_sf(np.abs(tval), fam.df)
        crit = stats.studentized_range.ppf(conf_level, k, fam.df) / np.sqrt(2)
    else:
        p = 2 * t_sf(np.abs(tval), fam.df)
        how = _ADJUST[method]
        if how is None:
            p_adj = p.copy()
        else:
            from statsmodels.stats.multitest import multipletests  # loads scipy.stats

            p_adj = multipletests(p, method=how)[1]
        if method == "none":
            a_each = alpha
        elif method in ("sidak", "holm-sidak"):
            a_each = 1 - (1 - alpha) ** (1 / m)
        else:  # bonferroni, and holm (no simultaneous interval; Bonferroni's, as emmeans)
            a_each = alpha / m
        crit = t_isf(a_each / 2, fam.df)
    return pd.DataFrame(
        {
            "a": [fam.labels[i] for i in ia],
            "b": [fam.labels[i] for i in ib],
            "diff": diff,
            "se": se,
            "t": tval,
            "df": float(fam.df),
            "p": p,
            "p_adj": p_adj,
            "ci_low": diff - crit * se,
            "ci_high": diff + crit * se,
        }
    )


def _oneway_family(data: pd.DataFrame, dv: str, group: str, levels) -> _Family:
    design = wide_design(data, dv=dv, subject=None, between=group, within=None, levels=levels)
    return _family_at(design, 0)


def _family_at(design: Design, j: int) -> _Family:
    """Multivariate-model family at within level j: that column's pooled within-group error."""
    y, g = design.y[:, j], design.group
    counts = design.counts
    df = len(y) - design.n_groups
    if df < 1:
        raise InputError(
            f"{len(y)} subject(s) in {design.n_groups} groups leave no error degrees of freedom",
            expected="more subjects than groups",
        )
    means = np.bincount(g, weights=y, minlength=design.n_groups) / counts
    s2 = float(((y - means[g]) ** 2).sum() / df)
    return _Family(list(design.group_levels), means, 1.0 / counts, s2, float(df))


# ----------------------------------------------------------------------------------------
# public one-way API
# ----------------------------------------------------------------------------------------
def dunnett(
    data: pd.DataFrame,
    dv: str,
    group: str,
    control,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
    *,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Dunnett's many-to-one comparisons with the control group (single-step).

    Parameters
    ----------
    data
        Long format, one row per animal.
    dv, group
        Response and group columns.
    control
        The control (e.g. vehicle) level of ``group``.
    alternative
        ``"two-sided"``, ``"greater"`` (treatment > control) or ``"less"``.
    conf_level
        Level of the simultaneous confidence intervals.
    levels
        Level order, ``{group: [...]}``; default: order of first appearance (the rule
        of :mod:`nplab.stats`).

    Returns
    -------
    pandas.DataFrame
        One row per treatment group, in level order (the control left out): ``group``; ``diff`` (treatment −
        control mean); ``se``; ``t``; ``df`` (pooled error, N − k); ``p`` (single-step
        adjusted, deterministic); ``ci_low``, ``ci_high`` (simultaneous; ±inf on the open
        side of a one-sided test).

    References
    ----------
    Dunnett CW (1955) JASA 50:1096–1121; Dunnett CW (1964) Biometrics 20:482–491;
    Hothorn, Bretz & Westfall (2008) Biom J 50:346–363 (multcomp, the R reference).
    """
    _check_alternative(alternative)
    _check_conf(conf_level)
    fam = _oneway_family(data, dv, group, levels)
    return _dunnett_family(fam, control, alternative, conf_level, group)


def tukey(
    data: pd.DataFrame,
    dv: str,
    group: str,
    conf_level: float = 0.95,
    *,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Tukey's all-pairs comparisons (Tukey–Kramer for unequal n), pooled error.

    ``levels`` (``{group: [...]}``) sets the level order; default: first appearance.

    Returns
    -------
    pandas.DataFrame
        Columns ``a, b, diff (a − b), se, t, df, p`` (unadjusted), ``p_adj`` (studentized
        range), ``ci_low, ci_high`` (simultaneous).  Pairs in level order (a before b).

    References
    ----------
    Tukey JW (1953) The problem of multiple comparisons; Kramer CY (1956) Biometrics
    12:307–310.  Equals R ``TukeyHSD`` and ``scipy.stats.tukey_hsd``.
    """
    _check_conf(conf_level)
    fam = _oneway_family(data, dv, group, levels)
    return _pairs_family(fam, _all_pairs(fam.labels), "tukey", conf_level, group)


def _all_pairs(labels: list) -> list[tuple]:
    return [(labels[i], labels[j]) for i in range(len(labels)) for j in range(i + 1, len(labels))]


def pairwise(
    data: pd.DataFrame,
    dv: str,
    group: str,
    pairs: Sequence[tuple] | None = None,
    p_adjust: str = "holm",
    conf_level: float = 0.95,
    *,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Declared pairwise comparisons (pooled-error t tests) with a multiplicity adjustment.

    Parameters
    ----------
    pairs
        ``[(a, b), ...]`` (difference a − b); all pairs when ``None``.
    p_adjust
        ``"holm"`` (default), ``"bonferroni"``, ``"sidak"``, ``"holm-sidak"`` or ``"none"``.
    levels
        Level order, ``{group: [...]}`` (all pairs follow it); default: first appearance.

    Returns
    -------
    pandas.DataFrame
        Columns as :func:`tukey`.  Confidence intervals: Bonferroni (for ``holm`` and
        ``bonferroni``, as emmeans does), Šidák (``sidak``, ``holm-sidak``) or unadjusted.
    """
    _check_conf(conf_level)
    if p_adjust not in _ADJUST:
        raise InputError(f"unknown p_adjust {p_adjust!r}", expected=" / ".join(_ADJUST))
    fam = _oneway_family(data, dv, group, levels)
    pairs = _all_pairs(fam.labels) if pairs is None else list(pairs)
    return _pairs_family(fam, pairs, p_adjust, conf_level, group)


# ----------------------------------------------------------------------------------------
# comparisons between groups at each level of the within factor (mixed design)
# ----------------------------------------------------------------------------------------
_MODELS = ("multivariate", "univariate")
_METHODS = ("dunnett", "tukey", *_ADJUST)


def _univariate_families(design: Design) -> list[_Family]:
    """Split-plot (univariate, ``aov`` with Error(subject/time)) pooled error per cell mean.

    Var(cell mean) = σ²_cell / n_g with σ²_cell = (MS_S + (k − 1) MS_E) / k combining the
    between-subject (MS_S) and within-subject (MS_E) error strata, and Satterthwaite (1946)
    df — the "pooled error" of Kirk (2013, *Experimental Design*, 4th ed., §12.8) and of
    emmeans on an afex ``aov`` model (``model = "univariate"``).
    """
    y, g = design.y, design.group
    n, k = y.shape
    counts = design.counts
    df_s = n - design.n_groups
    if df_s < 1:
        raise InputError("no error degrees of freedom", expected="more subjects than groups")
    cell = np.vstack([y[g == i].mean(axis=0) for i in range(design.n_groups)])
    subj_mean = y.mean(axis=1)
    ss_s = k * ((subj_mean - cell.mean(axis=1)[g]) ** 2).sum()
    resid = y - cell[g] - (subj_mean - cell.mean(axis=1)[g])[:, None]
    ss_e = (resid**2).sum()
    ms_s = ss_s / df_s
    ms_e = ss_e / ((k - 1) * df_s)
    s2 = (ms_s + (k - 1) * ms_e) / k
    df = (ms_s + (k - 1) * ms_e) ** 2 / (ms_s**2 / df_s + ((k - 1) * ms_e) ** 2 / ((k - 1) * df_s))
    return [
        _Family(list(design.group_levels), cell[:, j], 1.0 / counts, float(s2), float(df))
        for j in range(k)
    ]


def _strata_families(design: FactorialDesign, by: list[str]):
    """Families of the first between factor's means at each within cell and ``by`` stratum.

    Multivariate model (one column of the subject × cell matrix at a time): the error is
    pooled over *all* between cells at that within cell, df = N − number of between cells;
    between factors not in ``by`` are averaged over with equal weights (emmeans' marginal
    means), so Var(mean_g) = σ² Σ_c 1/(L² n_c) over the L cells averaged.

    Yields ``(within labels, by labels, _Family)``.
    """
    y, codes = design.y, design.between_codes
    shape = [len(lev) for lev in design.between_levels]
    cell = np.ravel_multi_index(tuple(codes.T), shape)
    n_cells = int(np.prod(shape))
    counts = np.bincount(cell, minlength=n_cells).astype(float)
    df = y.shape[0] - n_cells
    if df < 1:
        raise InputError(
            f"{y.shape[0]} subject(s) in {n_cells} between cells leave no error degrees of "
            "freedom", expected="more subjects than between cells",
        )  # fmt: skip
    sums = np.zeros((n_cells, y.shape[1]))
    np.add.at(sums, cell, y)
    means = sums / counts[:, None]
    s2 = ((y - means[cell]) ** 2).sum(axis=0) / df
    by_idx = [design.between.index(f) for f in by]
    other = tuple(j for j in range(1, len(shape)) if j not in by_idx)
    n_avg = int(np.prod([shape[j] for j in other])) if other else 1
    m = means.reshape(*shape, -1).mean(axis=other) if other else means.reshape(*shape, -1)
    v = (1.0 / counts).reshape(shape)
    v = v.sum(axis=other) / n_avg**2 if other else v
    kept = sorted([0, *by_idx])
    perm = [kept.index(j) for j in by_idx] + [kept.index(0)]
    m = m.transpose([*perm, len(kept)])
    v = v.transpose(perm)
    w_shape = [len(lev) for lev in design.within_levels]
    for k, w_at in enumerate(np.ndindex(*w_shape)):
        w_lab = tuple(lev[i] for lev, i in zip(design.within_levels, w_at, strict=True))
        for b_at in np.ndindex(*[shape[j] for j in by_idx]):
            b_lab = tuple(design.between_levels[j][i] for j, i in zip(by_idx, b_at, strict=True))
            yield w_lab, b_lab, _Family(list(design.between_levels[0]), m[b_at][:, k].copy(),
                                        v[b_at].copy(), float(s2[k]), float(df))


def posthoc_by_time(
    data: pd.DataFrame,
    dv: str,
    between: str | Sequence[str],
    within: str | Sequence[str],
    subject: str,
    method: str = "dunnett",
    control=None,
    pairs: Sequence[tuple] | None = None,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
    model: str = "multivariate",
    by: str | Sequence[str] | None = None,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Compare groups at each level of the within factor (e.g. each time point).

    The family of comparisons (adjusted together) is the set of group comparisons at one
    time point (and one stratum of ``by``), as emmeans
    ``contrast(emmeans(afex_model, ~ group | time * sex), ...)`` does.

    Parameters
    ----------
    data, dv, between, within, subject
        Long-format mixed design as for :func:`nplab.stats.mixed_anova` (complete data).
        ``between`` may name several factors (``["treatment", "sex"]``): the first is the
        one compared; the others are averaged over (equal weights, emmeans' marginal
        means) unless they are in ``by``.  ``within`` may name two factors
        (``["time", "paw"]``): comparisons at every combination.
    method
        ``"dunnett"`` (vs ``control``), ``"tukey"`` (all pairs), or a p-value adjustment for
        declared ``pairs``: ``"holm"``, ``"bonferroni"``, ``"sidak"``, ``"holm-sidak"``,
        ``"none"``.
    control
        Control level for Dunnett.
    pairs
        ``[(a, b), ...]`` for the adjustment methods (all pairs when ``None``).
    alternative
        Dunnett only: ``"two-sided"``, ``"greater"``, ``"less"``.
    model
        Error term. ``"multivariate"`` (default; afex ≥ 1.0's default for emmeans): the
        comparison at time t uses only time t's data, the pooled within-cell variance at
        t and df = N − number of between cells — robust to non-sphericity.
        ``"univariate"``: the split-plot pooled error combining the subject and residual
        strata with Satterthwaite df (assumes sphericity; Prism's and older afex's
        choice; one between and one within factor only).  Both reproduce emmeans
        ``contrast(emmeans(aov_ez(...), ~ group | time, model = ...), "trt.vs.ctrl")`` SEs
        and df exactly, also for unbalanced groups (tests/stats/reference).
    by
        Between factor(s) to compare within (e.g. ``"sex"``: treatment vs control at each
        time point within each sex, as ``emmeans(~ treatment | time * sex)``); added to
        the between factors when not named there.
    levels
        Level order per factor (``{"time": [...]}``), see :func:`nplab.stats.mixed_anova`.

    Returns
    -------
    pandas.DataFrame
        The within column(s) (named after ``within``), then the ``by`` column(s), then the
        columns of :func:`dunnett` (``group, diff, se, t, df, p, ci_low, ci_high``) or of
        :func:`tukey` / :func:`pairwise` (``a, b, diff, se, t, df, p, p_adj, ci_low,
        ci_high``).  Rows: within cells in level order, strata in level order.
    """
    if method not in _METHODS:
        raise InputError(f"unknown method {method!r}", expected=" / ".join(_METHODS))
    if model not in _MODELS:
        raise InputError(f"unknown model {model!r}", expected=" / ".join(_MODELS))
    _check_alternative(alternative)
    _check_conf(conf_level)
    if method == "dunnett" and control is None:
        raise InputError("Dunnett comparisons need the control group", column="control")
    b_list = as_factor_list(between, "between")
    w_list = as_factor_list(within, "within")
    by_list = as_factor_list(by, "by")
    if not b_list or not w_list:
        raise InputError("give the compared between factor and the within factor",
                         column="between" if not b_list else "within")  # fmt: skip
    if b_list[0] in by_list:
        raise InputError(f"{b_list[0]!r} is compared: it cannot also be a 'by' factor",
                         column="by")  # fmt: skip
    b_list += [f for f in by_list if f not in b_list]
    simple = len(b_list) == 1 and len(w_list) == 1
    if not simple and model != "multivariate":
        raise InputError("the univariate (split-plot) error is implemented for one between "
                         "and one within factor", column="model", expected="multivariate")
    cmp = b_list[0]

    def table(fam: _Family) -> pd.DataFrame:
        if method == "dunnett":
            return _dunnett_family(fam, control, alternative, conf_level, cmp)
        todo = _all_pairs(fam.labels) if pairs is None else list(pairs)
        return _pairs_family(fam, todo, method, conf_level, cmp)

    tables = []
    if simple:
        design = wide_design(data, dv=dv, subject=subject, between=cmp, within=w_list[0],
                             levels=levels)
        if model == "multivariate":
            families = [_family_at(design, j) for j in range(len(design.within_levels))]
        else:
            families = _univariate_families(design)
        for level, fam in zip(design.within_levels, families, strict=True):
            tab = table(fam)
            tab.insert(0, w_list[0], level)
            tables.append(tab)
        return pd.concat(tables, ignore_index=True)
    fdesign = factorial_design(data, dv=dv, subject=subject, between=b_list, within=w_list,
                               levels=levels)
    for w_lab, b_lab, fam in _strata_families(fdesign, by_list):
        tab = table(fam)
        for i, (f, lab) in enumerate(zip([*w_list, *by_list], [*w_lab, *b_lab], strict=True)):
            tab.insert(i, f, lab)
        tables.append(tab)
    return pd.concat(tables, ignore_index=True)


def dunnett_by_time(
    data: pd.DataFrame,
    dv: str,
    between: str | Sequence[str],
    within: str | Sequence[str],
    subject: str,
    control,
    alternative: str = "two-sided",
    conf_level: float = 0.95,
    model: str = "multivariate",
    by: str | Sequence[str] | None = None,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Dunnett vs ``control`` at each level of ``within`` (and stratum of ``by``):
    :func:`posthoc_by_time` shortcut."""
    return posthoc_by_time(
        data, dv, between, within, subject, method="dunnett", control=control,
        alternative=alternative, conf_level=conf_level, model=model, by=by, levels=levels,
    )  # fmt: skip
