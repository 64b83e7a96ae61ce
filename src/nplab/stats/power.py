"""Power and sample size for two-group, one-way, group × time and factorial designs.

Everything is closed-form (noncentral t / F), so results are deterministic.  Give all
quantities but one of ``n`` and ``power``; the other is computed.

Two groups (:func:`power_ttest`)
    Two-sample t test with effect ``d = (μ₁ − μ₂)/σ``, as R ``power.t.test(type =
    "two.sample", strict = FALSE)``: df = 2(n − 1), ncp = d·sqrt(n/2), power = P(T' >
    t_{1−α/s, df}) with s = 2 for two-sided (the far tail is ignored, as R's default).
One-way ANOVA (:func:`power_anova`)
    Cohen's f, λ = k·n·f², df = (k − 1, k(n − 1)) (Cohen 1988, ch. 8; R ``pwr.anova.test``;
    ``power.anova.test`` with f² = (k − 1)/k · between.var / within.var).
Group × time (:func:`power_rm_anova`)
    G*Power 3 repeated-measures F tests (Faul, Erdfelder, Lang & Buchner 2007, Behav Res
    Methods 39:175–191; G*Power manual, "ANOVA: repeated measures"), with N total
    subjects, k groups, m measurements, correlation ρ among repeated measures and
    nonsphericity correction ε:

    * between (group main effect): λ = f²·N·m / (1 + (m − 1)ρ), df = (k − 1, N − k);
    * within (time): λ = f²·N·m·ε / (1 − ρ), df = ((m − 1)ε, (N − k)(m − 1)ε);
    * interaction: λ = f²·N·m·ε / (1 − ρ), df = ((k − 1)(m − 1)ε, (N − k)(m − 1)ε).

    The sample size searched for is the smallest N total with equal group sizes (a
    multiple of k) reaching the target power, as G*Power reports.

Factorial designs (:func:`power_interaction`, :func:`power_paw_contrast`)
    The A × B (treatment × sex) interaction of a between-animal factorial from cell means
    (λ = N f², Cohen 1988 §8.3.4; checked by simulation against car::Anova type 3), and a
    within-animal paw contrast as a paired (or two-group) t test on the paw differences
    with σ_d = σ√(2(1 − ρ)) (R ``power.t.test``).

Effects from pilot data (:func:`pilot_effects`) estimate d, f, σ, ρ and ε from a long
table (see there), so a pilot study plugs straight into the functions above.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd
from scipy import optimize

from nplab._dist import f_isf, t_isf
from nplab.errors import InputError, row_number
from nplab.stats._levels import given_for, level_order
from nplab.stats._longdata import check_long, show

__all__ = [
    "RM_EFFECTS",
    "cohens_f",
    "pilot_effects",
    "power_anova",
    "power_interaction",
    "power_paw_contrast",
    "power_rm_anova",
    "power_ttest",
]

RM_EFFECTS = ("between", "within", "interaction")
_COLUMNS = [
    "design",
    "effect",
    "effect_size",
    "alpha",
    "groups",
    "measures",
    "rho",
    "eps",
    "n_per_group",
    "n_total",
    "power",
    "target_power",
    "ncp",
    "df1",
    "df2",
]


def _check_range(name: str, value: float | None, low: float, high: float, *, closed: bool) -> None:
    if value is None:
        return
    ok = (low <= value <= high) if closed else (low < value < high)
    if not (ok and math.isfinite(value)):
        br = "[]" if closed else "()"
        raise InputError(
            f"{name} = {value!r} is out of range",
            column=name,
            expected=f"a number in {br[0]}{low}, {high}{br[1]}",
        )


def _one_missing(n: float | None, power: float | None) -> None:
    if (n is None) == (power is None):
        raise InputError(
            "give exactly one of n and power (the other is computed)",
            column="n/power",
            expected="n (to compute power) or power (to compute n)",
        )


def _row(**kw: object) -> pd.DataFrame:
    row = dict.fromkeys(_COLUMNS, np.nan)
    row.update(kw)
    return pd.DataFrame([row], columns=_COLUMNS)


def _t_power(d: float, n: float, alpha: float, sides: int) -> float:
    from scipy import stats as sps  # deferred: importing this module must not load scipy.stats

    nu = 2.0 * (n - 1.0)
    q = t_isf(alpha / sides, nu)
    return float(sps.nct.sf(q, nu, d * math.sqrt(n / 2.0)))


def power_ttest(
    d: float,
    *,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    alternative: str = "two-sided",
) -> pd.DataFrame:
    """Power or per-group n of a two-sample t test, as R ``power.t.test``.

    Parameters
    ----------
    d
        Standardised difference (μ₁ − μ₂)/σ (Cohen's d); positive.
    n
        Animals per group (may be fractional when given).  Give ``n`` or ``power``.
    power
        Target power; the exact (fractional) n solving power(n) = target is
        ``n_per_group`` (R's ``n``); round it up for the design.
    alpha
        Significance level.
    alternative
        ``"two-sided"`` or ``"one-sided"``.

    Returns
    -------
    pandas.DataFrame
        One row with ``design = "two-sample t"``, ``effect = "d"``, ``effect_size``,
        ``alpha``, ``groups = 2``, ``n_per_group``, ``n_total``, ``power``,
        ``target_power``, ``ncp``, ``df1 = 1``, ``df2``; unused columns are NaN.
    """
    _one_missing(n, power)
    _check_range("d", d, 0.0, math.inf, closed=False)
    _check_range("alpha", alpha, 0.0, 1.0, closed=False)
    _check_range("power", power, 0.0, 1.0, closed=False)
    if alternative not in ("two-sided", "one-sided"):
        raise InputError(
            f"unknown alternative {alternative!r}",
            column="alternative",
            expected="two-sided or one-sided",
        )
    sides = 2 if alternative == "two-sided" else 1
    target = power
    if n is None:
        if _t_power(d, 2.0, alpha, sides) >= power:
            n = 2.0
        else:
            n = optimize.brentq(
                lambda x: _t_power(d, x, alpha, sides) - power, 2.0, 1e7, xtol=1e-12, rtol=1e-14
            )
    elif n < 2:
        raise InputError(f"n = {n} per group is too small", column="n", expected="n >= 2")
    pw = _t_power(d, n, alpha, sides)
    return _row(
        design="two-sample t",
        effect="d",
        effect_size=d,
        alpha=alpha,
        groups=2,
        measures=1,
        n_per_group=n,
        n_total=2 * n,
        power=pw,
        target_power=target if target is not None else np.nan,
        ncp=d * math.sqrt(n / 2.0),
        df1=1.0,
        df2=2.0 * (n - 1.0),
    )


def _f_power(ncp: float, df1: float, df2: float, alpha: float) -> float:
    from scipy import stats as sps  # deferred: importing this module must not load scipy.stats

    crit = f_isf(alpha, df1, df2)
    return float(sps.ncf.sf(crit, df1, df2, ncp))


def power_anova(
    f: float,
    *,
    groups: int,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Power or per-group n of a balanced one-way ANOVA (Cohen 1988, §8.3).

    λ = k·n·f², df1 = k − 1, df2 = k(n − 1); power = P(F'(df1, df2, λ) > F_{1−α}).
    Matches R ``pwr.anova.test(k, n, f)`` and ``power.anova.test`` (with
    f = sqrt((k − 1)/k · between.var/within.var)).

    Parameters
    ----------
    f
        Cohen's f (see :func:`cohens_f`).
    groups
        Number of groups k ≥ 2.
    n, power
        Give one: animals per group, or target power (then ``n_per_group`` is the exact
        fractional solution, as R's ``n``).
    alpha
        Significance level.

    Returns
    -------
    pandas.DataFrame
        One row, columns as :func:`power_ttest` (``design = "one-way ANOVA"``,
        ``effect = "f"``).
    """
    _one_missing(n, power)
    _check_range("f", f, 0.0, math.inf, closed=False)
    _check_range("alpha", alpha, 0.0, 1.0, closed=False)
    _check_range("power", power, 0.0, 1.0, closed=False)
    if int(groups) != groups or groups < 2:
        raise InputError(f"groups = {groups!r}", column="groups", expected="an integer >= 2")
    k = int(groups)

    def pw(x: float) -> float:
        return _f_power(k * x * f * f, k - 1, k * (x - 1), alpha)

    target = power
    if n is None:
        n = 2.0 if pw(2.0) >= power else optimize.brentq(
            lambda x: pw(x) - power, 2.0, 1e7, xtol=1e-12, rtol=1e-14
        )
    elif n < 2:
        raise InputError(f"n = {n} per group is too small", column="n", expected="n >= 2")
    return _row(
        design="one-way ANOVA",
        effect="f",
        effect_size=f,
        alpha=alpha,
        groups=k,
        measures=1,
        n_per_group=n,
        n_total=k * n,
        power=pw(n),
        target_power=target if target is not None else np.nan,
        ncp=k * n * f * f,
        df1=k - 1.0,
        df2=k * (n - 1.0),
    )


def _rm_terms(
    effect: str, f: float, n_total: float, k: int, m: int, rho: float, eps: float
) -> tuple[float, float, float]:
    if effect == "between":
        return f * f * n_total * m / (1.0 + (m - 1.0) * rho), k - 1.0, n_total - k
    ncp = f * f * n_total * m * eps / (1.0 - rho)
    df2 = (n_total - k) * (m - 1.0) * eps
    df1 = (m - 1.0) * eps if effect == "within" else (k - 1.0) * (m - 1.0) * eps
    return ncp, df1, df2


def power_rm_anova(
    f: float,
    *,
    groups: int,
    measures: int,
    rho: float = 0.5,
    eps: float = 1.0,
    effect: str = "interaction",
    n_total: int | None = None,
    power: float | None = None,
    alpha: float = 0.05,
) -> pd.DataFrame:
    """Power or total N for a group × time (split-plot) design, G*Power 3 formulas.

    See the module docstring for λ and the degrees of freedom of each ``effect`` (Faul
    et al. 2007; G*Power manual "ANOVA: Repeated measures, between factors / within
    factors / within-between interaction", default effect-size convention).

    Parameters
    ----------
    f
        Cohen's f of the effect (e.g. from :func:`pilot_effects`).
    groups
        Number of groups k (1 allowed for ``effect="within"``).
    measures
        Number of repeated measurements m ≥ 2.
    rho
        Correlation among repeated measures (−1/(m − 1) < ρ < 1).
    eps
        Nonsphericity correction ε, 1/(m − 1) ≤ ε ≤ 1 (not used for ``between``).
    effect
        ``"between"``, ``"within"`` or ``"interaction"``.
    n_total, power
        Give one: total animals N (power is computed), or the target power (then the
        smallest N, a multiple of ``groups``, reaching it is returned).
    alpha
        Significance level.

    Returns
    -------
    pandas.DataFrame
        One row: ``design = "group x time (G*Power)"``, ``effect``, ``effect_size``,
        ``alpha``, ``groups``, ``measures``, ``rho``, ``eps``, ``n_per_group``
        (N/k), ``n_total``, ``power``, ``target_power``, ``ncp`` (λ), ``df1``, ``df2``.
    """
    _one_missing(n_total, power)
    if effect not in RM_EFFECTS:
        raise InputError(f"unknown effect {effect!r}", column="effect", expected=", ".join(RM_EFFECTS))
    _check_range("f", f, 0.0, math.inf, closed=False)
    _check_range("alpha", alpha, 0.0, 1.0, closed=False)
    _check_range("power", power, 0.0, 1.0, closed=False)
    if int(measures) != measures or measures < 2:
        raise InputError(f"measures = {measures!r}", column="measures", expected="an integer >= 2")
    min_groups = 1 if effect == "within" else 2
    if int(groups) != groups or groups < min_groups:
        raise InputError(
            f"groups = {groups!r}", column="groups", expected=f"an integer >= {min_groups}"
        )
    k, m = int(groups), int(measures)
    _check_range("rho", rho, -1.0 / (m - 1.0), 1.0, closed=False)
    _check_range("eps", eps, 1.0 / (m - 1.0), 1.0, closed=True)

    def pw(big_n: float) -> float:
        ncp, df1, df2 = _rm_terms(effect, f, big_n, k, m, rho, eps)
        return _f_power(ncp, df1, df2, alpha)

    target = power
    if n_total is None:
        big_n = 2 * k  # two animals per group: the smallest design with error df
        while pw(big_n) < power:
            big_n += k
            if big_n > 10_000_000:
                raise InputError(
                    "the target power needs more than 10 million animals",
                    column="f",
                    expected="a larger effect size",
                )
    else:
        if n_total <= k:
            raise InputError(
                f"n_total = {n_total} leaves no error degrees of freedom",
                column="n_total",
                expected=f"more than {k} animals",
            )
        big_n = n_total
    ncp, df1, df2 = _rm_terms(effect, f, big_n, k, m, rho, eps)
    return _row(
        design="group x time (G*Power)",
        effect=effect,
        effect_size=f,
        alpha=alpha,
        groups=k,
        measures=m,
        rho=rho,
        eps=eps if effect != "between" else np.nan,
        n_per_group=big_n / k,
        n_total=big_n,
        power=_f_power(ncp, df1, df2, alpha),
        target_power=target if target is not None else np.nan,
        ncp=ncp,
        df1=df1,
        df2=df2,
    )


def cohens_f(means: np.ndarray | list[float], sd: float) -> float:
    """Cohen's f = σ_means / σ with σ_means the population SD (divisor k) of the means.

    Cohen (1988) eq. 8.2.1–8.2.2, equal group sizes.
    """
    mu = np.asarray(means, dtype=float)
    return float(np.sqrt(np.mean((mu - mu.mean()) ** 2)) / sd)


def _gg_epsilon(cov: np.ndarray) -> float:
    """Greenhouse–Geisser ε from a covariance matrix (Box 1954; double-centred form)."""
    m = cov.shape[0]
    c = np.eye(m) - 1.0 / m
    s = c @ cov @ c
    return float(np.trace(s) ** 2 / ((m - 1) * np.sum(s * s)))


def pilot_effects(
    data: pd.DataFrame,
    *,
    dv: str,
    subject: str,
    between: str | None = None,
    within: str | None = None,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Estimate design effect sizes, σ, ρ and ε from a pilot study (long table).

    Cell means μ_jt (group j, time t) are averaged over animals; σ² is the pooled
    within-cell variance (pooled within-group covariance matrix S, Σ_j (n_j − 1) S_j /
    (N − k), averaged over its diagonal); ρ is the mean off-diagonal correlation of S;
    ε is Greenhouse–Geisser's ε of S.  Effect sizes in G*Power's convention (Cohen 1988):

    * ``between``: f = SD(μ_j.)/σ; ``within``: f = SD(μ_.t)/σ;
    * ``interaction``: f = sqrt(mean((μ_jt − μ_j. − μ_.t + μ..)²))/σ;
    * with two groups and no ``within``: also Cohen's ``d`` = (μ₁ − μ₂)/σ (groups in
      level order), and f = d/2.

    SDs of means use divisor (number of means), unweighted.  Only complete animals
    (measured at every time) are used; ``n_subjects`` reports how many.  ``levels``
    (``{between: [...], within: [...]}``) sets the level order (default: first
    appearance, the rule of :mod:`nplab.stats`); only the sign of ``d`` depends on it.

    Returns
    -------
    pandas.DataFrame
        One row per effect: ``effect, f, d, sd, rho, eps, groups, measures, n_subjects``.
    """
    factors = [subject] + [c for c in (between, within) if c is not None]
    if between is None and within is None:
        raise InputError("give between=, within= or both", column="between/within")
    df = check_long(data, numeric=[dv], factors=factors)
    df = df[~np.isnan(df[dv].to_numpy())]
    source = data.attrs.get("source")
    if between is None:
        df = df.assign(_grp="all")
        between_col = "_grp"
    else:
        between_col = between
    if within is None:
        df = df.assign(_time="t")
        within_col = "_time"
    else:
        within_col = within
    dup = df.duplicated([subject, within_col]).to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        raise InputError(
            f"subject {show(df[subject].iloc[i])} has more than one value here",
            file=source,
            row=row_number(df.index[i]),  # index = position in the caller's table
            column=within if within is not None else subject,
            expected="one value per subject (and time)",
        )
    times = level_order(df[within_col], within_col, given=given_for(levels, within),
                        source=source)
    wide = df.pivot(index=subject, columns=within_col, values=dv)[times].dropna()
    grp_of = df.drop_duplicates(subject).set_index(subject)[between_col]
    wide_groups = grp_of.loc[wide.index]
    present = set(wide_groups)
    levels = [g for g in level_order(df[between_col], between_col,
                                     given=given_for(levels, between), source=source)
              if g in present]
    k, m = len(levels), len(times)
    cell = np.vstack([wide[(wide_groups == g).to_numpy()].to_numpy().mean(axis=0) for g in levels])
    ns = np.array([int((wide_groups == g).sum()) for g in levels])
    if np.sum(ns) - k < 1 or np.any(ns < 1):
        raise InputError(
            "too few complete animals to estimate the variance",
            file=source,
            column=subject,
            expected="more animals than groups",
        )
    resid = wide.to_numpy() - cell[[levels.index(g) for g in wide_groups]]
    cov = resid.T @ resid / (np.sum(ns) - k)
    sigma = float(np.sqrt(np.mean(np.diag(cov))))
    if m > 1:
        corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
        rho = float(corr[~np.eye(m, dtype=bool)].mean())
        eps = _gg_epsilon(cov)
    else:
        rho = eps = np.nan
    rows = []
    if between is not None:
        d = (cell[0, 0] - cell[1, 0]) / sigma if (k == 2 and m == 1) else np.nan
        rows.append(("between", cohens_f(cell.mean(axis=1), sigma), d))
    if within is not None:
        rows.append(("within", cohens_f(cell.mean(axis=0), sigma), np.nan))
    if between is not None and within is not None:
        inter = cell - cell.mean(axis=1, keepdims=True) - cell.mean(axis=0) + cell.mean()
        rows.append(("interaction", float(np.sqrt(np.mean(inter**2)) / sigma), np.nan))
    out = pd.DataFrame(rows, columns=["effect", "f", "d"])
    out["sd"] = sigma
    out["rho"] = rho
    out["eps"] = eps
    out["groups"] = k
    out["measures"] = m
    out["n_subjects"] = int(np.sum(ns))
    return out


# ----------------------------------------------------------------------------------------
# factorial designs (issue 14.8): treatment × sex interaction, within-animal paw contrast
# ----------------------------------------------------------------------------------------
def _solve_n(pw, power: float, lo: float) -> float:
    """Smallest (fractional) n with pw(n) = power (n = lo if already reached)."""
    if pw(lo) >= power:
        return lo
    return float(optimize.brentq(lambda x: pw(x) - power, lo, 1e7, xtol=1e-10, rtol=1e-12))


def power_interaction(
    cell_means: np.ndarray | list[list[float]],
    sd: float,
    *,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    measures: int = 1,
    rho: float = 0.0,
) -> pd.DataFrame:
    """Power or animals per cell for the A × B interaction of a between-animal factorial
    (e.g. treatment × sex), balanced cells.

    Method: the interaction effects γ_ij = μ_ij − μ_i· − μ_·j + μ_·· of the cell means give
    Cohen's f² = mean(γ²)/σ²; the Type III interaction F test has df1 = (a − 1)(b − 1),
    df2 = N − ab and noncentrality λ = N f² (N = ab·n), as G*Power's "ANOVA: fixed effects,
    special, main effects and interactions" (Faul et al. 2007; Cohen 1988 §8.3.4).  With
    ``measures`` repeated measures per animal (correlation ρ) analysed as a between effect
    of the animal mean, σ² is replaced by σ²(1 + (m − 1)ρ)/m (the G*Power between-effect
    formula of :func:`power_rm_anova`).  Checked against Monte Carlo power of
    ``car::Anova(type = 3)`` on simulated studies (tests/stats/reference).

    Parameters
    ----------
    cell_means
        a × b matrix of expected cell means (rows: levels of A, e.g. treatment; columns:
        levels of B, e.g. sex), in the analysed unit (e.g. log10 g).
    sd
        Within-cell SD of one measurement.
    n, power
        Give one: animals per cell, or the target power (``n_per_group`` is then the
        exact fractional solution; round up).
    alpha
        Significance level.
    measures, rho
        Repeated measures per animal averaged in the between test, and their correlation.

    Returns
    -------
    pandas.DataFrame
        One row, the columns of :func:`power_ttest` (``design = "factorial interaction"``,
        ``effect = "f"``, ``groups`` = number of cells, ``n_per_group`` per cell).
    """
    _one_missing(n, power)
    mu = np.asarray(cell_means, dtype=float)
    if mu.ndim != 2 or min(mu.shape) < 2 or not np.isfinite(mu).all():
        raise InputError("cell_means must be an a × b matrix of numbers (a, b >= 2)",
                         column="cell_means")  # fmt: skip
    _check_range("sd", sd, 0.0, math.inf, closed=False)
    _check_range("alpha", alpha, 0.0, 1.0, closed=False)
    _check_range("power", power, 0.0, 1.0, closed=False)
    _check_range("rho", rho, -1.0, 1.0, closed=False)
    m = int(measures)
    if m != measures or m < 1:
        raise InputError(f"measures = {measures!r}", column="measures", expected="an integer >= 1")
    gamma = mu - mu.mean(axis=1, keepdims=True) - mu.mean(axis=0, keepdims=True) + mu.mean()
    var = sd * sd * (1 + (m - 1) * rho) / m
    f = float(np.sqrt((gamma**2).mean() / var))
    cells = mu.size
    df1 = float((mu.shape[0] - 1) * (mu.shape[1] - 1))

    def pw(x: float) -> float:
        return _f_power(cells * x * f * f, df1, cells * (x - 1), alpha)

    target = power
    if n is None:
        n = _solve_n(pw, power, 2.0)
    elif n < 2:
        raise InputError(f"n = {n} per cell is too small", column="n", expected="n >= 2")
    return _row(design="factorial interaction", effect="f", effect_size=f, alpha=alpha,
                groups=cells, measures=m, rho=rho, n_per_group=n, n_total=cells * n,
                power=pw(n), target_power=target if target is not None else np.nan,
                ncp=cells * n * f * f, df1=df1, df2=cells * (n - 1.0))


def power_paw_contrast(
    diff: float,
    sd: float,
    rho: float,
    *,
    n: float | None = None,
    power: float | None = None,
    alpha: float = 0.05,
    groups: int = 1,
) -> pd.DataFrame:
    """Power or animals (per group) for a within-animal contrast such as ipsi − contra.

    Method: the contrast is analysed as each animal's paw difference, whose SD is
    σ_d = σ·√(2(1 − ρ)) (σ the SD of one paw's value, ρ the correlation of the two paws
    within an animal).  ``groups = 1``: paired t test of the mean difference ``diff``
    (df = n − 1, ncp = diff/σ_d·√n), as R ``power.t.test(type = "paired", sd = σ_d)``;
    ``groups = 2``: the group × paw interaction of two groups, a two-sample t test of the
    paw differences (df = 2(n − 1), ncp = diff/σ_d·√(n/2)), as ``power.t.test(type =
    "two.sample", sd = σ_d)``.  Two-sided.

    Returns
    -------
    pandas.DataFrame
        One row as :func:`power_ttest` (``design = "paw contrast, paired"`` or ``"paw
        contrast, two groups"``, ``effect = "d"`` = diff/σ_d).
    """
    _check_range("sd", sd, 0.0, math.inf, closed=False)
    _check_range("rho", rho, -1.0, 1.0, closed=False)
    if groups not in (1, 2):
        raise InputError(f"groups = {groups!r}", column="groups", expected="1 or 2")
    sd_d = sd * math.sqrt(2.0 * (1.0 - rho))
    d = abs(diff) / sd_d
    if groups == 2:
        out = power_ttest(d, n=n, power=power, alpha=alpha)
        out["design"] = "paw contrast, two groups"
        out["measures"] = 2
    else:
        _one_missing(n, power)
        _check_range("alpha", alpha, 0.0, 1.0, closed=False)
        _check_range("power", power, 0.0, 1.0, closed=False)

        from scipy import stats as sps  # deferred: importing this module must not load scipy.stats

        def pw(x: float) -> float:
            df = x - 1.0
            return float(sps.nct.sf(t_isf(alpha / 2, df), df, d * math.sqrt(x)))

        target = power
        if n is None:
            n = _solve_n(pw, power, 2.0)
        elif n < 2:
            raise InputError(f"n = {n} animals is too small", column="n", expected="n >= 2")
        out = _row(design="paw contrast, paired", effect="d", effect_size=d, alpha=alpha,
                   groups=1, measures=2, n_per_group=n, n_total=n, power=pw(n),
                   target_power=target if target is not None else np.nan,
                   ncp=d * math.sqrt(n), df1=1.0, df2=n - 1.0)
    out["rho"] = rho
    return out
