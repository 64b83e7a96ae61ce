"""Mixed (split-plot) ANOVA: one between-subject factor × one within-subject factor.

The analysis is the multivariate-model formulation used by R ``car::Anova`` on an ``mlm``
fit and therefore by ``afex::aov_ez`` (Fox & Weisberg 2019, *An R Companion to Applied
Regression*, 3rd ed., ch. 5; O'Brien & Kaiser 1985, Psychol Bull 97:316–333):

* the subject × level matrix ``Y`` is transformed with an orthonormal basis of the
  within-subject space (the constant vector ``1/√k`` for the between effect, ``k − 1``
  orthonormal contrasts for the within effect and the interaction);
* a multivariate linear model with sum-to-zero (``contr.sum``) coding of the between
  factor is fitted; Type III hypothesis and error SSP matrices are
  ``H = (LB)ᵀ [L (XᵀX)⁻¹ Lᵀ]⁻¹ (LB)`` and ``E = Zᵀ (I − P_X) Z`` (the pooled within-group
  SSP, so sphericity is assessed on the pooled within-group covariance, not the total);
* univariate F = [tr H / (q p)] / [tr E / (p (N − G))].

Sphericity (for within effects with ≥ 3 levels) uses the pooled within-group covariance
``S = E / (N − G)`` of the orthonormal contrasts: Greenhouse & Geisser (1959,
Psychometrika 24:95–112) ε = (tr S)² / (p tr S²); Huynh–Feldt ε with the Lecoutre (1991,
J Educ Stat 16:371–372) correction, ε̃ = ((N − G + 1) p ε − 2) / (p (N − G − p ε)), reported
uncapped as car does while its p-value uses min(1, ε̃); Mauchly (1940, Ann Math Stat
11:204–209) W with the χ² approximation and second-order term of R ``stats:::mauchly.test``
(Anderson 1958) exactly as car computes it (its second-order term uses the number
of levels k where the textbook has k − 1; matched so that results agree with afex).  Effect sizes: partial η² = SS / (SS + SS_error) and generalised η²
(Olejnik & Algina 2003, Psychol Methods 8:434–447; Bakeman 2005) = SS / (SS + Σ all
error SS), both as in afex with all factors manipulated.

Validated against R afex 1.2.1 / car 3.1.1 to 1e-6 relative (``tests/stats/reference``).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy import stats

from nplab.errors import InputError
from nplab.stats._design import Design, wide_design

__all__ = ["ANOVA_COLUMNS", "mixed_anova", "sphericity"]

#: Output columns of :func:`mixed_anova`, in order.
ANOVA_COLUMNS = [
    "source",
    "df1",
    "df2",
    "F",
    "p",
    "eps_gg",
    "p_gg",
    "eps_hf",
    "p_hf",
    "mauchly_w",
    "mauchly_p",
    "np2",
    "ges",
    "ss",
    "ss_error",
]


def _orthonormal_basis(k: int) -> np.ndarray:
    """k × k orthonormal matrix whose first column is the constant 1/√k."""
    m = np.eye(k)
    m[:, 0] = 1.0
    q, _ = np.linalg.qr(m)
    return q * np.sign(q[0, 0])


def _sum_coding(group: np.ndarray, n_groups: int) -> np.ndarray:
    """Design matrix [1, contr.sum] of the between factor (R's ``contr.sum``)."""
    c = np.vstack([np.eye(n_groups - 1), -np.ones((1, n_groups - 1))])
    return np.column_stack([np.ones(len(group)), c[group]]) if n_groups > 1 else np.ones(
        (len(group), 1)
    )


def sphericity(error_ssp: np.ndarray, df_error: float) -> dict[str, float]:
    """Greenhouse–Geisser and Huynh–Feldt ε and Mauchly's test from a pooled error SSP.

    Parameters
    ----------
    error_ssp
        ``p × p`` error sums of squares and products of *orthonormal* within-subject
        contrasts, pooled within groups.
    df_error
        Its degrees of freedom (N − number of groups).

    Returns
    -------
    dict
        ``eps_gg, eps_hf, mauchly_w, mauchly_p`` (Mauchly NaN when p < 2; ε = 1 then).
    """
    p = error_ssp.shape[0]
    if p < 2:
        return {"eps_gg": 1.0, "eps_hf": 1.0, "mauchly_w": np.nan, "mauchly_p": np.nan}
    s = error_ssp / df_error
    tr = np.trace(s)
    eps_gg = tr**2 / (p * np.trace(s @ s))
    n = df_error
    eps_hf = ((n + 1) * p * eps_gg - 2) / (p * (n - p * eps_gg))
    sign, logdet = np.linalg.slogdet(s)
    if sign <= 0 or n < p:
        return {"eps_gg": eps_gg, "eps_hf": eps_hf, "mauchly_w": np.nan, "mauchly_p": np.nan}
    log_w = logdet - p * np.log(tr / p)
    # car's summary.Anova.mlm ``mauchly`` (used by afex): n = error df, pp = p contrasts;
    # its second-order term has ``3 * k`` (k = p + 1 levels) where the textbook has 3 pp.
    rho = 1 - (2 * p**2 + p + 2) / (6 * p * n)
    w2 = (p + 2) * (p - 1) * (p - 2) * (2 * p**3 + 6 * p**2 + 3 * (p + 1) + 2) / (
        288 * (n * p * rho) ** 2
    )
    z = -n * rho * log_w
    f = p * (p + 1) / 2 - 1
    pr1 = stats.chi2.sf(z, f)
    pr2 = stats.chi2.sf(z, f + 4)
    return {
        "eps_gg": eps_gg,
        "eps_hf": eps_hf,
        "mauchly_w": float(np.exp(log_w)),
        "mauchly_p": float(pr1 + w2 * (pr2 - pr1)),
    }


def _type3_ssp(x: np.ndarray, z: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """Type III hypothesis SSP for the coefficient rows ``rows`` of ``x`` (Z ~ X)."""
    xtx_inv = np.linalg.inv(x.T @ x)
    b = xtx_inv @ x.T @ z
    lb = b[rows]
    middle = np.linalg.inv(xtx_inv[np.ix_(rows, rows)])
    return lb.T @ middle @ lb


def anova_from_design(design: Design, *, between: str | None, within: str | None) -> pd.DataFrame:
    """:func:`mixed_anova` on an already validated :class:`~nplab.stats._design.Design`."""
    y, g = design.y, design.group
    n, k = y.shape
    n_groups = design.n_groups
    df_err = n - n_groups
    if df_err < 1:
        raise InputError(
            f"{n} subject(s) in {n_groups} group(s) leave no error degrees of freedom",
            column=between,
            expected="more subjects than groups",
        )
    x = _sum_coding(g, n_groups)
    q = _orthonormal_basis(k)
    z = y @ q
    resid = z - x @ np.linalg.lstsq(x, z, rcond=None)[0]
    sspe = resid.T @ resid
    rows: list[dict] = []

    def add(source, h, e, df1, df2, sph=None):
        ss, sse = float(np.trace(h)), float(np.trace(e))
        f = (ss / df1) / (sse / df2) if sse > 0 else np.inf
        pval = float(stats.f.sf(f, df1, df2))
        row = {
            "source": source,
            "df1": float(df1),
            "df2": float(df2),
            "F": float(f),
            "p": pval,
            "eps_gg": np.nan,
            "p_gg": pval,
            "eps_hf": np.nan,
            "p_hf": pval,
            "mauchly_w": np.nan,
            "mauchly_p": np.nan,
            "ss": ss,
            "ss_error": sse,
        }
        if sph is not None:
            e_gg, e_hf = sph["eps_gg"], min(1.0, sph["eps_hf"])
            row.update(
                eps_gg=float(sph["eps_gg"]),
                eps_hf=float(sph["eps_hf"]),
                p_gg=float(stats.f.sf(f, df1 * e_gg, df2 * e_gg)),
                p_hf=float(stats.f.sf(f, df1 * e_hf, df2 * e_hf)),
                mauchly_w=sph["mauchly_w"],
                mauchly_p=sph["mauchly_p"],
            )
        rows.append(row)

    if between is not None and n_groups > 1:
        effect_rows = np.arange(1, n_groups)
        h = _type3_ssp(x, z[:, :1], effect_rows)
        add(between, h, sspe[:1, :1], n_groups - 1, df_err)
    if within is not None and k > 1:
        p = k - 1
        zw = z[:, 1:]
        ew = sspe[1:, 1:]
        sph = sphericity(ew, df_err)
        add(within, _type3_ssp(x, zw, np.array([0])), ew, p, p * df_err, sph)
        if between is not None and n_groups > 1:
            h = _type3_ssp(x, zw, np.arange(1, n_groups))
            add(f"{between}:{within}", h, ew, (n_groups - 1) * p, p * df_err, sph)
    if not rows:
        raise InputError(
            "nothing to test: the between factor has one level and the within factor one level",
            expected="at least two levels of a factor",
        )
    out = pd.DataFrame(rows)
    error_total = float(sspe[0, 0]) + (float(np.trace(sspe[1:, 1:])) if k > 1 else 0.0)
    if between is None or n_groups == 1:
        # within-only: the subjects' (between) error stratum still counts for ges
        error_total = float(sspe[0, 0]) + float(np.trace(sspe[1:, 1:]))
    out["np2"] = out["ss"] / (out["ss"] + out["ss_error"])
    out["ges"] = out["ss"] / (out["ss"] + error_total)
    return out[ANOVA_COLUMNS]


def mixed_anova(
    data: pd.DataFrame,
    dv: str,
    between: str | None = None,
    within: str | None = None,
    subject: str | None = None,
) -> pd.DataFrame:
    """Two-way mixed (split-plot) ANOVA, Type III, with sphericity corrections.

    Equal to R ``afex::aov_ez(id=subject, dv=dv, between=between, within=within)`` (Type
    III sums of squares, ``contr.sum`` coding, so unbalanced groups are handled as afex /
    SPSS do).  Special cases: ``within=None`` gives the one-way between-subjects ANOVA,
    ``between=None`` the one-way repeated-measures ANOVA.

    Parameters
    ----------
    data
        Long format: one row per subject and within level.
    dv
        Dependent variable column (numeric, no blanks; e.g. log10 50 % threshold).
    between
        Between-subject factor (e.g. ``"group"``), or ``None``.
    within
        Within-subject factor (e.g. ``"time"``), or ``None``.
    subject
        Subject (animal) identifier column; required with ``within``.

    Returns
    -------
    pandas.DataFrame
        One row per effect (between, within, ``"<between>:<within>"``) with columns
        ``source``; ``df1``, ``df2`` (uncorrected); ``F``; ``p``; ``eps_gg`` and ``p_gg``
        (Greenhouse–Geisser ε and corrected p); ``eps_hf`` and ``p_hf`` (Huynh–Feldt ε as
        car reports it, may exceed 1; p uses min(1, ε)); ``mauchly_w``, ``mauchly_p``
        (Mauchly's sphericity test, NaN for 2-level within factors); ``np2`` (partial η²);
        ``ges`` (generalised η²); ``ss``, ``ss_error`` (effect and error sums of squares).
        Between-subject rows have NaN ε and Mauchly values and ``p_gg = p_hf = p``
        (no correction applies).

    Raises
    ------
    InputError
        Missing columns, non-numeric or blank values, duplicate or missing subject ×
        level cells (use :func:`nplab.stats.mixed_model` for incomplete data), a subject
        in two groups, or no error degrees of freedom.

    References
    ----------
    Singmann et al., afex (R package) ``aov_car``; Fox & Weisberg (2019) car ``Anova.mlm``;
    Greenhouse & Geisser (1959); Huynh & Feldt (1976); Lecoutre (1991); Mauchly (1940);
    Olejnik & Algina (2003).
    """
    design = wide_design(data, dv=dv, subject=subject, between=between, within=within)
    return anova_from_design(design, between=between, within=within)
