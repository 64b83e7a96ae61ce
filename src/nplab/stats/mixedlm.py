"""Linear mixed model (REML) for repeated measures with missing values or uneven spacing.

A validated layer over :class:`statsmodels.regression.mixed_linear_model.MixedLM`
(Lindstrom & Bates 1988, JASA 83:1014–1022; REML: Patterson & Thompson 1971) whose REML
optimum is polished in lme4's parametrisation (:mod:`nplab.stats._reml`), with

* a fixed-effects table with **Satterthwaite** degrees of freedom for every t test, as R
  ``lmerTest`` (Kuznetsova et al. 2017, J Stat Softw 82(13)); ``ddf="asymptotic"`` gives
  the Wald z (df = ∞) of the earlier versions;
* a Type III ``anova()`` (sum-to-zero contrasts, Satterthwaite denominator df), as
  ``lmerTest::anova(type = 3)`` on a ``contr.sum`` fit;
* estimated marginal means (Searle, Speed & Milliken 1980, Am Stat 34:216–221; Lenth's
  emmeans): the reference grid of all factor levels (numeric covariates at their mean
  unless given in ``at``), averaged with equal weights over the factors not named, SEs
  ``√(L V Lᵀ)``, Satterthwaite df per mean as emmeans ``lmer.df = "satterthwaite"``;
* Dunnett comparisons with the control within strata (``by=["time", "sex"]``) with each
  contrast's Satterthwaite df and the exact single-step adjustment of
  :mod:`nplab.stats.posthoc`;
* a warning and the ``singular`` flag when a variance component is at the boundary (a
  diagonal element of lme4's relative Cholesky factor below 1e-4, i.e. a zero variance or
  a correlation of ±1; lme4's ``isSingular``).

**Level order** (one rule everywhere in :mod:`nplab.stats`, see
:mod:`nplab.stats._levels`): the order of first appearance in the data (numbers too)
unless the user gives ``levels={"time": [...]}``.  The reference level of the
fixed-effects table is the first level, or ``control=`` (a level of the first between
factor); marginal means and Dunnett rows keep the level order.

Validated against lme4 1.1-31 / lmerTest 3.1-3 / emmeans 1.8.4-1 on ``sleepstudy`` (Bates
et al. 2015, J Stat Softw 67(1)) and on CCI-like designs with missing time points
(``tests/stats/reference/lmm_satterthwaite_reference.R``).
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from nplab._dist import chi2_sf, f_sf, t_isf, t_sf
from nplab.errors import InputError, NplabError, row_number
from nplab.stats._design import as_factor_list, check_frame, numeric_dv
from nplab.stats._levels import given_for, level_order
from nplab.stats._reml import RemlFit, f_ddf, fit_reml, satterthwaite_df

__all__ = ["ANOVA_LMM_COLUMNS", "FIXED_COLUMNS", "MixedModelResult", "mixed_model"]

#: Columns of :attr:`MixedModelResult.fixed`.
FIXED_COLUMNS = ["term", "estimate", "se", "df", "t", "p", "ci_low", "ci_high"]
#: Columns of :meth:`MixedModelResult.anova`.
ANOVA_LMM_COLUMNS = ["source", "df1", "df2", "F", "p"]
_DDF = ("satterthwaite", "asymptotic")
#: Optimizers tried in turn (lbfgs fails on some singular starting points).
_OPTIMIZERS = ("bfgs", "lbfgs", "powell", "nm")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")
#: ``Q("Pain Score")``: patsy's quoting of a column name that is not an identifier.
_QUOTED = re.compile(r"""Q\(\s*(["'])(.*?)\1\s*\)""")


def _formula_names(text: str) -> set[str]:
    """Names a formula (part) may use: identifiers, and the names quoted in ``Q("...")``."""
    return set(_IDENT.findall(_QUOTED.sub(" ", text))) | {m[2] for m in _QUOTED.finditer(text)}


def _unquote(term: str) -> str:
    """``Q("Pain Score")`` -> ``Pain Score``; any other term stripped."""
    m = _QUOTED.fullmatch(term.strip())
    return m[2] if m else term.strip()


def _quote(name: str) -> str:
    """A column name as a formula term: ``Q("Pain Score")`` unless it is an identifier."""
    if _IDENT.fullmatch(name) and "." not in name:
        return name
    return f"Q('{name}')" if '"' in name else f'Q("{name}")'


def _as_factor(name: str, rhs: str) -> bool:
    """Whether the formula wraps ``name`` in ``C(...)`` (bare, or quoted with ``Q``)."""
    bare = r"C\(\s*" + re.escape(name) + r"\b"
    quoted = r"C\(\s*Q\(\s*[\"']" + re.escape(name) + r"[\"']"
    return re.search(bare, rhs) is not None or re.search(quoted, rhs) is not None


def _check_quoting(formula: str, columns) -> None:
    """Refuse a column whose name is not an identifier used without ``Q("...")``."""
    bare = _QUOTED.sub(" ", formula)
    for col in columns:
        name = str(col)
        if _IDENT.fullmatch(name) or not name.strip():
            continue
        if re.search(r"(?<![A-Za-z0-9_.])" + re.escape(name) + r"(?![A-Za-z0-9_.])", bare):
            raise InputError(
                f"the column name {name!r} has a space or symbol, so the formula must quote "
                f"it as {_quote(name)}",
                column=name,
                expected=f"e.g. '{_quote(name)} ~ C(group) * C(time)'",
            )


def _design_rows(spec, grid: pd.DataFrame) -> np.ndarray:
    """Fixed-effects design matrix of ``grid`` under the fitted model's formula spec."""
    if hasattr(spec, "get_model_matrix"):  # formulaic ModelSpec
        return np.asarray(spec.get_model_matrix(grid), dtype=float)
    import patsy

    return np.asarray(patsy.build_design_matrices([spec], grid)[0], dtype=float)


@dataclass
class MixedModelResult:
    """Fitted REML linear mixed model.

    Attributes
    ----------
    fixed
        Fixed effects: ``term, estimate, se, df, t, p, ci_low, ci_high`` (SE from the
        model-based covariance σ²(Σ XᵢᵀVᵢ⁻¹Xᵢ)⁻¹ as lme4; Satterthwaite df as lmerTest, or
        df = ∞ with ``ddf="asymptotic"``).
    variance
        Variance components: ``component`` and ``variance``.  Components are named after
        the subject column: ``"animal (intercept)"`` (the random intercept; statsmodels'
        "Group Var"), ``"animal day"`` (a random slope), covariance rows
        ``"animal (intercept):day"``, and ``"Residual"``.
    n_obs, n_subjects, n_dropped
        Observations and subjects (animals) used, and rows dropped for a blank response.
    converged
        Whether the REML optimum was found.
    singular
        The fit is singular (a variance at zero or a correlation of ±1): Satterthwaite df
        and the variance components are then unreliable; simplify the random part.
    result
        The statsmodels ``MixedLMResults`` used as the starting point.
    """

    fixed: pd.DataFrame
    variance: pd.DataFrame
    n_obs: int
    n_subjects: int
    n_dropped: int
    converged: bool
    result: object = field(repr=False)
    formula: str = ""
    subject: str = ""
    conf_level: float = 0.95
    singular: bool = False
    ddf: str = "satterthwaite"
    _data: pd.DataFrame = field(default=None, repr=False)
    _factors: dict = field(default_factory=dict, repr=False)
    _covariates: list = field(default_factory=list, repr=False)
    _reml: RemlFit = field(default=None, repr=False)

    @property
    def _cov_fe(self) -> np.ndarray:
        return self._reml.cov_beta

    @property
    def _beta(self) -> np.ndarray:
        return self._reml.beta

    def __repr__(self) -> str:
        """A few readable lines: model, data used, the first fixed effects, variances."""
        head = 5
        lines = [f"MixedModelResult: {self.formula} | {self.subject} (REML"
                 f"{', singular' if self.singular else ''}"
                 f"{'' if self.converged else ', NOT converged'})",
                 f"  {self.n_obs} observations from {self.n_subjects} animals"
                 + (f", {self.n_dropped} rows dropped" if self.n_dropped else "")
                 + ("; Satterthwaite df" if self.ddf == "satterthwaite" else "; Wald z")]  # fmt: skip
        if len(self.fixed):
            more = f" (first {head} of {len(self.fixed)})" if len(self.fixed) > head else ""
            lines.append(f"  fixed effects{more}:")
            width = min(max(len(str(t)) for t in self.fixed["term"].head(head)), 40)
            for r in self.fixed.head(head).itertuples(index=False):
                p = "p < 0.001" if r.p < 0.001 else f"p = {r.p:.3g}"
                lines.append(f"    {str(r.term)[:40]:<{width}}  {r.estimate:.4g} "
                             f"(SE {r.se:.3g}, {p})")  # fmt: skip
        if len(self.variance):
            parts = [f"{c} variance {v:.4g}" if ":" not in c else f"{c} covariance {v:.4g}"
                     for c, v in zip(self.variance["component"], self.variance["variance"],
                                     strict=True)]  # fmt: skip
            lines.append("  " + "; ".join(parts))
        return "\n".join(lines)

    def describe(self) -> str:
        """One sentence: observations and animals used, random part, df method, singularity."""
        dropped = f" ({self.n_dropped} rows with a blank response dropped)" if self.n_dropped else ""
        df = ("Satterthwaite df" if self.ddf == "satterthwaite"
              else "Wald z tests (df = ∞)")  # fmt: skip
        sing = "; SINGULAR FIT (a variance component at its boundary)" if self.singular else ""
        return (f"REML linear mixed model {self.formula} with random effects per {self.subject}: "
                f"{self.n_obs} observations from {self.n_subjects} animals{dropped}; {df}{sing}.")  # fmt: skip

    def _df(self, lvec: np.ndarray) -> float:
        if self.ddf == "asymptotic":
            return np.inf
        return satterthwaite_df(self._reml, lvec)

    def _grid_rows(self, specs: list[str], at) -> tuple[list[dict], np.ndarray]:
        """Reference-grid combinations of ``specs`` and their averaged design rows L."""
        at = dict(at or {})
        known = set(self._factors) | set(self._covariates)
        for name in [*specs, *at]:
            if name not in known:
                raise InputError(
                    f"{name!r} is not a variable of the model's fixed part",
                    column=name,
                    expected="one of " + ", ".join(sorted(known)),
                )
        axes: dict[str, list] = {}
        for name, levels in self._factors.items():
            axes[name] = list(at[name]) if name in at else list(levels)
        for name in self._covariates:
            axes[name] = [float(v) for v in at[name]] if name in at else [
                float(self._data[name].mean())
            ]
        grid = pd.DataFrame(list(itertools.product(*axes.values())), columns=list(axes))
        for name in self._factors:
            src = self._data[name]
            if isinstance(src.dtype, pd.CategoricalDtype):
                grid[name] = pd.Categorical(grid[name], categories=src.cat.categories)
            else:
                grid[name] = grid[name].astype(src.dtype)
        x = _design_rows(self.result.model.data.model_spec, grid)
        if not specs:
            return [{}], x.mean(axis=0, keepdims=True)
        keys = grid[specs].astype(object).apply(tuple, axis=1)
        rows, lmat = [], []
        for key in dict.fromkeys(keys):
            lmat.append(x[(keys == key).to_numpy()].mean(axis=0))
            rows.append(dict(zip(specs, key, strict=True)))
        return rows, np.array(lmat)

    def anova(self) -> pd.DataFrame:
        """Type III F tests of the fixed terms (sum-to-zero contrasts), Satterthwaite df.

        Each term's hypothesis is that of its ``contr.sum`` coefficients (equivalently: the
        sum-to-zero contrasts of the cell means over the term's factors, averaged with
        equal weights over the other factors).  The contrast rows are built exactly as
        lmerTest's ``get_contrasts_type3`` does (indicator coding of every term, contrasts
        of lower-order terms orthogonalised against the terms that contain them, mapped
        to the model's coefficients), because the Satterthwaite denominator df of a
        multi-df test depends on the basis of the hypothesis: F = Σ tₘ²/q over the
        eigen-directions of the contrasts' covariance, df2 from the directions' df (Fai &
        Cornelius 1996).  The table therefore equals ``lmerTest::anova(fit, type = 3)``
        for a model fitted under ``options(contrasts = c("contr.sum", "contr.poly"))``.

        Returns
        -------
        pandas.DataFrame
            ``source`` (factor names joined by ``:``), ``df1``, ``df2``, ``F``, ``p``.
        """
        spec = self.result.model.data.model_spec
        terms = spec.terms
        names = list(self._factors) + list(self._covariates)
        term_vars = []
        for term in terms:
            used = set()
            for fac in term.factors:
                code = getattr(fac, "code", str(fac))
                used |= {v for v in _formula_names(code) if v in names}
            if used:
                term_vars.append(tuple(v for v in names if v in used))
        rows = []
        for vars_, lmat in zip(term_vars, self._type3_contrasts(term_vars), strict=True):
            rows.append({"source": ":".join(vars_), **self._f_test(lmat)})
        return pd.DataFrame(rows, columns=ANOVA_LMM_COLUMNS)

    def _type3_contrasts(self, term_vars: list[tuple]) -> list[np.ndarray]:
        """lmerTest's Type III contrast matrices (on the model's β) for each term."""
        data = self._data
        n = len(data)
        codes = {f: data[f].cat.codes.to_numpy() for f in self._factors}

        def columns(vars_: tuple, full: bool) -> list[np.ndarray]:
            cols = [np.ones(n)]
            for v in vars_:  # first variable varies fastest, as patsy
                if v in codes:
                    first = 0 if full else 1
                    levels = [codes[v] == j for j in range(first, len(self._factors[v]))]
                    cols = [c * lv for lv in levels for c in cols]
                else:
                    cols = [c * data[v].to_numpy(float) for c in cols]
            return cols

        rd_cols, tr_cols, keep_rows, slices = [np.ones(n)], [np.ones(n)], [0], []
        for vars_ in term_vars:
            full = columns(vars_, True)
            part = columns(vars_, False)
            # indices (within the full block) of the combinations without a reference level
            shape = [len(self._factors[v]) if v in codes else 1 for v in vars_]
            combos = list(itertools.product(*[range(k) for k in reversed(shape)]))
            combos = [tuple(reversed(c)) for c in combos]  # first variable fastest
            kept = [i for i, c in enumerate(combos)
                    if all(c[j] >= 1 for j, v in enumerate(vars_) if v in codes)]  # fmt: skip
            keep_rows.extend(len(rd_cols) + i for i in kept)
            slices.append(np.arange(len(tr_cols), len(tr_cols) + len(part)))
            rd_cols.extend(full)
            tr_cols.extend(part)
        x_tr, rd_x = np.column_stack(tr_cols), np.column_stack(rd_cols)
        x_model = np.asarray(self.result.model.exog, float)
        pinv = np.linalg.pinv(x_tr)
        if x_tr.shape[1] != x_model.shape[1] or not np.allclose(x_tr @ (pinv @ x_model), x_model,
                                                                  atol=1e-8):  # fmt: skip
            raise InputError("Type III tests need a hierarchical model of factors and covariates "
                             "(every interaction's lower-order terms included)",
                             column="formula")  # fmt: skip
        lmat = (pinv @ rd_x).T
        lmat[np.abs(lmat) < 1e-10 * np.abs(lmat).max()] = 0.0
        numerics = [{v for v in t if v not in codes} for t in term_vars]
        order = sorted(range(len(term_vars)), key=lambda i: -len(term_vars[i]))
        for i in order:
            contains = [j for j in range(len(term_vars)) if j != i
                        and set(term_vars[i]) < set(term_vars[j]) and numerics[i] == numerics[j]]  # fmt: skip
            if contains:
                basis = lmat[:, np.concatenate([slices[j] for j in contains])]
                target = lmat[:, slices[i]]
                coef = np.linalg.lstsq(basis, target, rcond=None)[0]
                resid = target - basis @ coef
                resid[np.abs(resid) < 1e-10] = 0.0
                lmat[:, slices[i]] = resid
        lfin = lmat[keep_rows]
        mapping = pinv @ x_model
        out = []
        for sl in slices:
            lt = lfin[:, sl].T
            lt = lt[np.abs(lt).sum(axis=1) > 1e-8]
            out.append(lt @ mapping)
        return out

    def _f_test(self, lmat: np.ndarray) -> dict:
        beta, cov = self._beta, self._cov_fe
        vl = lmat @ cov @ lmat.T
        d, p = np.linalg.eigh(vl)
        order = np.argsort(d)[::-1]
        d, p = d[order], p[:, order]
        keep = d > max(1e-8 * d[0], 0)
        d, p = d[keep], p[:, keep]
        ptl = p.T @ lmat
        t2 = (ptl @ beta) ** 2 / d
        q = len(d)
        f = float(t2.sum() / q)
        if self.ddf == "asymptotic":
            ddf = np.inf
        else:
            ddf = f_ddf(np.array([satterthwaite_df(self._reml, r) for r in ptl]))
        return {"df1": float(q), "df2": float(ddf), "F": f,
                "p": float(f_sf(f, q, ddf)) if np.isfinite(ddf) else float(chi2_sf(f * q, q))}  # fmt: skip

    def dunnett(
        self,
        group: str,
        control,
        by: str | Sequence[str] | None = None,
        alternative: str = "two-sided",
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Dunnett comparisons of marginal means with ``control``, within each ``by`` stratum.

        Contrasts of :meth:`emmeans` (``group`` levels − control) at each combination of
        the ``by`` factors (e.g. ``by=["time", "sex"]``), averaged with equal weights over
        the factors not named, as R ``contrast(emmeans(fit, ~ group | time * sex,
        lmer.df = "satterthwaite"), "trt.vs.ctrl", adjust = "mvt")``.  Each contrast has
        its own Satterthwaite df; its single-step p is P(max |Tⱼ| ≥ |tᵢ|) for the
        family's Dunnett (product) correlation with that df — what emmeans' ``mvt``
        adjustment computes (by Monte Carlo, with df truncated to an integer; here exactly).
        Different groups hold different animals, so their marginal means are uncorrelated
        and the contrasts have Dunnett's product correlation (checked; a model where this
        fails raises :class:`~nplab.errors.NplabError`).

        Returns
        -------
        pandas.DataFrame
            ``[by columns,] group, diff, se, t, df, p, ci_low, ci_high`` (simultaneous
            intervals with each contrast's df).
        """
        from nplab.stats.posthoc import _check_alternative, dunnett_critical, dunnett_pvalues

        _check_alternative(alternative)
        level = self.conf_level if conf_level is None else conf_level
        by = as_factor_list(by, "by")
        specs = [*by, group]
        rows, lmat = self._grid_rows(specs, None)
        beta, cov = self._beta, self._cov_fe
        frame = pd.DataFrame(rows)
        as_text = frame[group].astype(str)
        if str(control) not in set(as_text):
            raise InputError(f"control {control!r} is not a level of {group!r}", column=group,
                             expected="one of " + ", ".join(dict.fromkeys(as_text)))  # fmt: skip
        if by:
            keys = frame[by].astype(object).apply(tuple, axis=1)
            blocks = [frame.index[(keys == k).to_numpy()] for k in dict.fromkeys(keys)]
        else:
            blocks = [frame.index]
        tables = []
        for idx in blocks:
            idx = np.asarray(idx)
            ctrl = idx[as_text.to_numpy()[idx] == str(control)][0]
            others = idx[idx != ctrl]
            cmat = lmat[others] - lmat[ctrl]
            vc = cmat @ cov @ cmat.T
            v0 = float(lmat[ctrl] @ cov @ lmat[ctrl])
            off = vc[~np.eye(len(others), dtype=bool)]
            if off.size and not np.allclose(off, v0, rtol=1e-6, atol=1e-12 * v0):
                raise NplabError("these comparisons do not have Dunnett's product correlation "
                                 "(groups' marginal means are correlated in this model)")  # fmt: skip
            diff = cmat @ beta
            se = np.sqrt(np.diag(vc))
            lam = np.sqrt(v0 / np.diag(vc))
            tval = diff / se
            dfs = np.array([self._df(c) for c in cmat])
            p = np.array([dunnett_pvalues([t], lam, d, alternative)[0]
                          for t, d in zip(tval, dfs, strict=True)])  # fmt: skip
            crit = np.array([dunnett_critical(lam, d, level, alternative) for d in dfs])
            tab = frame.loc[others].reset_index(drop=True)
            tab["diff"], tab["se"], tab["t"], tab["df"], tab["p"] = diff, se, tval, dfs, p
            tab["ci_low"] = -np.inf if alternative == "less" else diff - crit * se
            tab["ci_high"] = np.inf if alternative == "greater" else diff + crit * se
            tables.append(tab)
        return pd.concat(tables, ignore_index=True)

    def emmeans(
        self,
        specs: str | Sequence[str] | None = None,
        at: Mapping[str, Sequence[float]] | None = None,
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Estimated marginal means for the combinations of ``specs`` (e.g. group × time).

        Parameters
        ----------
        specs
            Variable(s) whose combinations get a mean, e.g. ``["group", "time"]``.
            ``None`` (default): every factor of the fixed part, in the order they first
            appear in the formula (``y ~ C(group) * C(time)`` → group × time).
        at
            Values for numeric covariates (default: their mean), e.g. ``{"day": [0, 7]}``.
        conf_level
            Confidence level (default: the model's).

        Returns
        -------
        pandas.DataFrame
            One row per combination (level order of the model): the ``specs`` columns,
            ``emmean``, ``se``, ``df`` (Satterthwaite, or ∞), ``ci_low``, ``ci_high``.
        """
        if specs is None:
            rhs = self.formula.split("~", 1)[1]
            specs = sorted(self._factors, key=lambda v: re.search(
                r"(?<![A-Za-z0-9_.])" + re.escape(v) + r"(?![A-Za-z0-9_.])", rhs).start())  # fmt: skip
            if not specs:
                raise InputError("the model has no factor: name the covariate(s) in specs",
                                 column="specs")  # fmt: skip
        specs = [specs] if isinstance(specs, str) else list(specs)
        level = self.conf_level if conf_level is None else conf_level
        rows, lmat = self._grid_rows(specs, at)
        est = lmat @ self._beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", lmat, self._cov_fe, lmat))
        dfs = np.array([self._df(r) for r in lmat])
        q = t_isf((1 - level) / 2, dfs)
        out = pd.DataFrame(rows)
        out["emmean"] = est
        out["se"] = se
        out["df"] = dfs
        out["ci_low"] = est - q * se
        out["ci_high"] = est + q * se
        return out


def _model_formula(dv: str | None, between: list[str], within: list[str]) -> str:
    if dv is None:
        raise InputError("give a formula, or dv= with between= and/or within=", column="dv")
    factors = [*between, *within]
    if not factors:
        raise InputError("give a formula, or the between and/or within factors", column="between")
    return f"{_quote(dv)} ~ " + " * ".join(f"C({_quote(f)})" for f in factors)


def mixed_model(
    data: pd.DataFrame,
    formula: str | None = None,
    subject: str | None = None,
    re_formula: str | None = None,
    conf_level: float = 0.95,
    *,
    dv: str | None = None,
    between: str | Sequence[str] | None = None,
    within: str | Sequence[str] | None = None,
    levels: Mapping[str, Sequence] | None = None,
    control=None,
    ddf: str = "satterthwaite",
) -> MixedModelResult:
    """Fit a linear mixed model by REML with a random effect per subject (animal).

    Parameters
    ----------
    data
        Long format, one row per observation; rows with a blank response are dropped
        (counted in ``n_dropped``), which is how missing time points are handled.  No
        reshaping is needed: incomplete animals keep the data they have.
    formula
        Fixed part, patsy syntax, e.g. ``"log_threshold ~ C(group) * C(time)"``.  Or omit
        it and give ``dv``, ``between`` and ``within``: the full factorial
        ``dv ~ C(b1) * C(b2) * C(w1) * C(w2)``.
    subject
        Animal identifier (the grouping factor of the random effects).
    re_formula
        Random-effects formula; ``None`` = random intercept (``(1 | subject)``),
        ``"~day"`` = random intercept and slope with their covariance (``(day | subject)``).
    conf_level
        Level of the confidence intervals.
    dv, between, within
        The factorial model without a formula (e.g. ``between=["treatment", "sex"]``,
        ``within=["time", "paw"]``).
    levels
        Level order per factor (``{"time": ["BL", "D7", "D14"]}``); otherwise the order of
        first appearance.  The first level is the reference of the fixed-effects table.
    control
        Control level of the first between factor (or of the first factor of the
        formula): the reference level of the fixed-effects table (the level order of
        ``emmeans`` and ``dunnett`` rows is unchanged).
    ddf
        ``"satterthwaite"`` (default; as lmerTest) or ``"asymptotic"`` (Wald z, df = ∞).

    Returns
    -------
    MixedModelResult
        ``.fixed``, ``.variance``, ``.anova()``, ``.emmeans(...)``, ``.dunnett(...)``,
        ``.describe()``, ``.n_obs``, ``.n_subjects``, ``.singular``.

    Warns
    -----
    UserWarning
        When the fit is singular (also flagged in ``.singular``).

    References
    ----------
    Bates D, Mächler M, Bolker B, Walker S (2015) J Stat Softw 67(1):1–48 (lme4);
    Kuznetsova A, Brockhoff PB, Christensen RHB (2017) J Stat Softw 82(13) (lmerTest);
    Satterthwaite FE (1946) Biometrics Bull 2:110–114; Fai AH-T, Cornelius PL (1996) J
    Stat Comput Simul 54:363–378; Seabold & Perktold (2010) statsmodels; Lenth R, emmeans.
    """
    import statsmodels.formula.api as smf

    if ddf not in _DDF:
        raise InputError(f"unknown ddf {ddf!r}", column="ddf", expected=" / ".join(_DDF))
    between_l, within_l = as_factor_list(between, "between"), as_factor_list(within, "within")
    if formula is None:
        formula = _model_formula(dv, between_l, within_l)
    if subject is None:
        raise InputError("a mixed model needs the subject (animal) column", column="subject")
    if not isinstance(formula, str) or "~" not in formula:
        raise InputError(f"formula {formula!r} is not of the form 'response ~ terms'",
                         column="formula")  # fmt: skip
    _check_quoting(formula + " " + (re_formula or ""), data.columns)
    dv = _unquote(formula.split("~", 1)[0])
    rhs = formula.split("~", 1)[1]
    tokens = _formula_names(rhs) | (_formula_names(re_formula) if re_formula else set())
    variables = [c for c in data.columns if isinstance(c, str) and c in tokens and c != dv]
    variables.sort(key=lambda v: re.search(r"(?<![A-Za-z0-9_.])" + re.escape(v), rhs).start()
                   if re.search(r"(?<![A-Za-z0-9_.])" + re.escape(v), rhs) else len(rhs))  # fmt: skip
    check_frame(data, [dv, subject, *variables])
    y = numeric_dv(data, dv, allow_missing=True)
    keep = ~np.isnan(y)
    used = data.loc[keep, [dv, subject, *[v for v in variables if v != subject]]].copy()
    used[dv] = y[keep]
    used = used.reset_index(drop=True)
    if used[subject].isna().any():
        i = int(np.flatnonzero(data[subject].isna().to_numpy())[0])
        raise InputError("blank subject", file=data.attrs.get("source"), row=row_number(i),
                         column=subject, expected="an animal id")  # fmt: skip
    factors: dict[str, list] = {}
    covariates: list[str] = []
    first_factor = True
    for v in variables:
        if v == subject:
            continue
        col = used[v]
        as_factor = _as_factor(v, rhs)
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and not as_factor:
            covariates.append(v)
            continue
        is_control_factor = (v == between_l[0]) if between_l else first_factor
        lev = level_order(col, v, given=given_for(levels, v), source=data.attrs.get("source"))
        ref = level_order(pd.Series(lev), v, control=control) if (
            control is not None and is_control_factor) else lev
        first_factor = False
        factors[v] = lev  # the level order of the output tables
        used[v] = pd.Categorical(col, categories=ref)  # the first category is the reference
    n_subj = used[subject].nunique()
    if n_subj < 2:
        raise InputError("a mixed model needs at least two subjects", column=subject)
    try:
        model = smf.mixedlm(formula, used, groups=used[subject], re_formula=re_formula)
    except Exception as exc:  # patsy errors: unknown names, bad syntax
        raise InputError(f"the model cannot be built: {exc}", column="formula") from exc
    if np.linalg.matrix_rank(model.exog) < model.exog.shape[1]:
        raise InputError(
            "the fixed effects are not estimable (an empty combination of factor levels?): "
            "drop the interaction or the empty level", column="formula",
        )  # fmt: skip
    res, last_error = None, None
    for method in _OPTIMIZERS:  # first optimizer that converges (deterministic order)
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                fit = model.fit(reml=True, method=method)
        except (ValueError, np.linalg.LinAlgError) as exc:
            last_error = exc
            continue
        if res is None or (fit.converged and not res.converged):
            res = fit
        if fit.converged:
            break
    if res is None:
        raise InputError(f"the model cannot be fitted: {last_error}", column="formula")
    reml = fit_reml(model.exog_li, model.exog_re_li, model.endog_li,
                    np.asarray(res.cov_re, float), float(res.scale))  # fmt: skip
    cov_fe = reml.cov_beta
    se = np.sqrt(np.diag(cov_fe))
    if not np.all(np.isfinite(se)):
        raise NplabError("the mixed model fit did not give finite standard errors")
    result = MixedModelResult(
        fixed=pd.DataFrame(), variance=pd.DataFrame(), n_obs=len(used),
        n_subjects=int(n_subj), n_dropped=int((~keep).sum()), converged=bool(res.converged),
        result=res, formula=formula, subject=subject, conf_level=conf_level,
        singular=reml.singular, ddf=ddf, _data=used, _factors=factors,
        _covariates=covariates, _reml=reml,
    )  # fmt: skip
    est = reml.beta
    dfs = np.array([result._df(row) for row in np.eye(len(est))])
    tval = est / se
    q = t_isf((1 - conf_level) / 2, dfs)
    result.fixed = pd.DataFrame(
        {"term": list(res.fe_params.index), "estimate": est, "se": se, "df": dfs, "t": tval,
         "p": 2 * t_sf(np.abs(tval), dfs), "ci_low": est - q * se, "ci_high": est + q * se}
    )  # fmt: skip
    # statsmodels calls the random intercept "Group": name it after the subject column
    names = ["(intercept)" if n == "Group" else str(n) for n in res.cov_re.index]
    cov_re = reml.cov_re
    comp, var = [], []
    for i, a in enumerate(names):
        comp.append(f"{subject} {a}")
        var.append(float(cov_re[i, i]))
    for i, j in itertools.combinations(range(len(names)), 2):
        comp.append(f"{subject} {names[i]}:{names[j]}")
        var.append(float(cov_re[i, j]))
    comp.append("Residual")
    var.append(reml.sigma**2)
    result.variance = pd.DataFrame({"component": comp, "variance": var})
    if reml.singular:
        warnings.warn(
            "singular mixed-model fit: a variance component is at its boundary (zero "
            "variance or a correlation of ±1); its df and variance estimates are unreliable "
            "— simplify the random part", UserWarning, stacklevel=2,
        )  # fmt: skip
    return result
