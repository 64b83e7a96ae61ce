"""Factorial mixed (split-plot) ANOVA: between-subject factors × within-subject factors.

The analysis is the multivariate-model formulation used by R ``car::Anova`` on an ``mlm``
fit and therefore by ``afex::aov_ez`` (Fox & Weisberg 2019, *An R Companion to Applied
Regression*, 3rd ed., ch. 5; O'Brien & Kaiser 1985, Psychol Bull 97:316–333):

* the subject × level matrix ``Y`` is transformed with an orthonormal basis of the
  within-subject space (the constant vector ``1/√k`` for the between effect, ``k − 1``
  orthonormal contrasts for the within effect and the interaction);
* with several within factors, each within term (main effect or interaction) has its own
  stratum: the Kronecker product of the factors' orthonormal contrasts;
* a multivariate linear model with full-factorial sum-to-zero (``contr.sum``) coding of
  the between factors is fitted; Type III hypothesis and error SSP matrices are
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

import itertools
from collections.abc import Mapping, Sequence

import numpy as np
import pandas as pd

from nplab._dist import chi2_sf, f_sf
from nplab.errors import InputError
from nplab.stats._design import FactorialDesign, as_factor_list, factorial_design

__all__ = ["ANOVA_COLUMNS", "factorial_anova", "mixed_anova", "sphericity"]

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


def sphericity(
    error_ssp: np.ndarray, df_error: float, n_cells: int | None = None
) -> dict[str, float]:
    """Greenhouse–Geisser and Huynh–Feldt ε and Mauchly's test from a pooled error SSP.

    Parameters
    ----------
    error_ssp
        ``p × p`` error sums of squares and products of *orthonormal* within-subject
        contrasts, pooled within groups.
    df_error
        Its degrees of freedom (N − number of groups).
    n_cells
        Number of within-subject cells of the whole design (rows of car's ``idata``;
        default ``p + 1``, one within factor).  Only enters the second-order term of
        Mauchly's p-value, as in car.

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
    # its second-order term has ``3 * K`` (K = all within cells of the design, p + 1 with
    # one within factor) where the textbook has 3 pp.
    k_cells = p + 1 if n_cells is None else n_cells
    rho = 1 - (2 * p**2 + p + 2) / (6 * p * n)
    w2 = (p + 2) * (p - 1) * (p - 2) * (2 * p**3 + 6 * p**2 + 3 * k_cells + 2) / (
        288 * (n * p * rho) ** 2
    )
    z = -n * rho * log_w
    f = p * (p + 1) / 2 - 1
    pr1 = chi2_sf(z, f)
    pr2 = chi2_sf(z, f + 4)
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


def _terms(names: list[str]) -> list[tuple[int, ...]]:
    """All non-empty subsets of factor indices, in R's term order (by order, then position)."""
    out: list[tuple[int, ...]] = []
    for order in range(1, len(names) + 1):
        out.extend(itertools.combinations(range(len(names)), order))
    return out


def _between_matrix(codes: np.ndarray, n_levels: list[int]) -> tuple[np.ndarray, list]:
    """Full-factorial ``contr.sum`` design matrix and the column rows of each term.

    Returns ``X`` (intercept first, then each term's columns: products of the factors'
    sum-to-zero codings) and a list ``[(term, rows), ...]``.
    """
    n = codes.shape[0]
    coded = []
    for j, k in enumerate(n_levels):
        c = np.vstack([np.eye(k - 1), -np.ones((1, k - 1))])
        coded.append(c[codes[:, j]])
    cols = [np.ones((n, 1))]
    terms = []
    start = 1
    for term in _terms([str(j) for j in range(len(n_levels))]):
        block = coded[term[0]]
        for j in term[1:]:
            block = (block[:, :, None] * coded[j][:, None, :]).reshape(n, -1)
        cols.append(block)
        terms.append((term, np.arange(start, start + block.shape[1])))
        start += block.shape[1]
    return np.column_stack(cols), terms


def _within_bases(n_levels: list[int]) -> list[tuple[tuple[int, ...], np.ndarray]]:
    """Orthonormal contrast bases of each within term (constant stratum first).

    A term's basis is the Kronecker product over the within factors of the factor's
    orthonormal contrasts (factor in the term) or of the constant ``1/√k`` (not in it);
    the last factor varies fastest, as in :class:`~nplab.stats._design.FactorialDesign`.
    """
    full = [_orthonormal_basis(k) for k in n_levels]
    out = []
    for term in [(), *_terms([str(j) for j in range(len(n_levels))])]:
        m = np.ones((1, 1))
        for j, q in enumerate(full):
            m = np.kron(m, q[:, 1:] if j in term else q[:, :1])
        out.append((term, m))
    return out


def factorial_anova(design: FactorialDesign, *, observed: Sequence[str] = ()) -> pd.DataFrame:
    """:func:`mixed_anova` on an already validated factorial design.

    Each within stratum (the constant, every within term) is analysed as a multivariate
    linear model of its orthonormal contrasts on the full-factorial ``contr.sum`` between
    design, as car's ``Anova.mlm`` with ``type = 3`` (and afex).  Between factors with one
    level are ignored.
    """
    observed = list(observed)
    unknown = [f for f in observed if f not in design.between + design.within]
    if unknown:
        raise InputError(f"observed factor(s) {unknown} are not factors of the design",
                         column="observed", expected="between or within factor names")  # fmt: skip
    keep = [j for j, lev in enumerate(design.between_levels) if len(lev) > 1]
    b_names = [design.between[j] for j in keep]
    b_levels = [len(design.between_levels[j]) for j in keep]
    w_keep = [j for j, lev in enumerate(design.within_levels) if len(lev) > 1]
    y = design.y
    n = y.shape[0]
    if keep:
        x, b_terms = _between_matrix(design.between_codes[:, keep], b_levels)
    else:
        x, b_terms = np.ones((n, 1)), []
    df_err = n - x.shape[1]
    if df_err < 1:
        raise InputError(
            f"{n} subject(s) in {x.shape[1]} between cell(s) leave no error degrees of freedom",
            column=design.between[0] if design.between else None,
            expected="more subjects than between cells",
        )
    # collapse one-level within factors (they carry no contrast)
    w_all = [len(lev) for lev in design.within_levels]
    bases = _within_bases(w_all)
    bases = [(t, m) for t, m in bases if all(j in w_keep for j in t)]
    rows: list[dict] = []
    error_total = 0.0
    b_all = [((), np.array([0])), *b_terms]
    for w_term, basis in bases:
        z = y @ basis
        resid = z - x @ np.linalg.lstsq(x, z, rcond=None)[0]
        e = resid.T @ resid
        sse = float(np.trace(e))
        error_total += sse
        p = basis.shape[1]
        sph = sphericity(e, df_err, y.shape[1]) if w_term else None
        for b_term, b_rows in b_all:
            if not b_term and not w_term:
                continue
            h = _type3_ssp(x, z, b_rows)
            ss = float(np.trace(h))
            df1, df2 = len(b_rows) * p if b_term else p, p * df_err
            f = (ss / df1) / (sse / df2) if sse > 0 else np.inf
            pval = float(f_sf(f, df1, df2))
            names = [b_names[j] for j in b_term] + [design.within[j] for j in w_term]
            row = {"source": ":".join(names), "df1": float(df1), "df2": float(df2),
                   "F": float(f), "p": pval, "eps_gg": np.nan, "p_gg": pval, "eps_hf": np.nan,
                   "p_hf": pval, "mauchly_w": np.nan, "mauchly_p": np.nan, "ss": ss,
                   "ss_error": sse, "_factors": set(names)}  # fmt: skip
            if sph is not None:
                e_gg, e_hf = sph["eps_gg"], min(1.0, sph["eps_hf"])
                row.update(
                    eps_gg=float(sph["eps_gg"]), eps_hf=float(sph["eps_hf"]),
                    p_gg=float(f_sf(f, df1 * e_gg, df2 * e_gg)),
                    p_hf=float(f_sf(f, df1 * e_hf, df2 * e_hf)),
                    mauchly_w=sph["mauchly_w"], mauchly_p=sph["mauchly_p"],
                )  # fmt: skip
            rows.append(row)
    if not rows:
        raise InputError(
            "nothing to test: every factor has a single level",
            expected="at least two levels of a factor",
        )
    out = pd.DataFrame(rows)
    is_obs = out["_factors"].map(lambda fs: bool(fs & set(observed))).to_numpy()
    obs_ss = float(out.loc[is_obs, "ss"].sum())
    out["np2"] = out["ss"] / (out["ss"] + out["ss_error"])
    out["ges"] = out["ss"] / (out["ss"] + error_total + obs_ss - np.where(is_obs, out["ss"], 0.0))
    return out[ANOVA_COLUMNS]


def mixed_anova(
    data: pd.DataFrame,
    dv: str,
    between: str | Sequence[str] | None = None,
    within: str | Sequence[str] | None = None,
    subject: str | None = None,
    observed: str | Sequence[str] | None = None,
    levels: Mapping[str, Sequence] | None = None,
) -> pd.DataFrame:
    """Factorial mixed (split-plot) ANOVA, Type III, with sphericity corrections.

    Equal to R ``afex::aov_ez(id=subject, dv=dv, between=between, within=within,
    observed=observed)`` (Type III sums of squares, ``contr.sum`` coding, so unbalanced
    groups are handled as afex / SPSS do): any number of between factors (e.g.
    ``["treatment", "sex"]``) and any number of within factors (e.g. ``["time", "paw"]``;
    one or two in practice).  Special cases: no ``within`` gives the between-subjects
    ANOVA, no ``between`` the repeated-measures ANOVA.

    Parameters
    ----------
    data
        Long format: one row per subject and within level.
    dv
        Dependent variable column (numeric, no blanks; e.g. log10 50 % threshold).
    between
        Between-subject factor(s) (e.g. ``"group"`` or ``["group", "sex"]``), or ``None``.
    within
        Within-subject factor(s) (e.g. ``"time"`` or ``["time", "paw"]``), or ``None``.
    subject
        Subject (animal) identifier column; required with ``within``.
    observed
        Measured (not manipulated) factor(s), e.g. ``"sex"``: their effects are added to
        the denominator of generalised η² of the other effects, as afex's ``observed=``
        (Olejnik & Algina 2003).  Does not change the tests.
    levels
        Level order per factor, e.g. ``{"time": ["baseline", "d7", "d14"]}``; otherwise
        the order of first appearance (the rule of :mod:`nplab.stats`; every value of a
        listed factor must be in its list).  Level order does not change
        any ANOVA value (only the mixed model's reference level), it is accepted here so
        that one ``levels`` mapping can be passed to every function.

    Returns
    -------
    pandas.DataFrame
        One row per effect, in afex's order (between terms; then each within term
        followed by its interactions with the between terms), ``source`` joining factor
        names with ``:`` (``"treatment:sex:time"``), with columns
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
    design = factorial_design(
        data, dv=dv, subject=subject, between=as_factor_list(between, "between"),
        within=as_factor_list(within, "within"), levels=levels,
    )  # fmt: skip
    return factorial_anova(design, observed=as_factor_list(observed, "observed"))
