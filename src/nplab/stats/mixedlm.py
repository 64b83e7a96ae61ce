"""Linear mixed model (REML) for repeated measures with missing values or uneven spacing.

A thin, validated layer over :class:`statsmodels.regression.mixed_linear_model.MixedLM`
(Lindstrom & Bates 1988, JASA 83:1014–1022; REML: Patterson & Thompson 1971) with a tidy
fixed-effects table and estimated marginal means (Searle, Speed & Milliken 1980, Am Stat
34:216–221; Lenth's emmeans): the reference grid of all factor levels (numeric covariates at
their mean unless given in ``at``), averaged with equal weights over the factors not named,
with Wald standard errors ``√(L V Lᵀ)`` and normal-theory (asymptotic, ``z``) intervals —
statsmodels has no Satterthwaite / Kenward–Roger df, so this matches R emmeans with
``lmer.df = "asymptotic"``.  Validated against lme4 1.1-31 on ``sleepstudy`` (Bates et al.
2015, J Stat Softw 67(1)) and on a CCI-like design with missing time points.
"""

from __future__ import annotations

import itertools
import re
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

import numpy as np
import pandas as pd
from scipy import stats

from nplab.errors import InputError, NplabError, row_number
from nplab.stats._design import check_frame, levels_of, numeric_dv

__all__ = ["FIXED_COLUMNS", "MixedModelResult", "mixed_model"]

#: Columns of :attr:`MixedModelResult.fixed`.
FIXED_COLUMNS = ["term", "estimate", "se", "z", "p", "ci_low", "ci_high"]
#: Optimizers tried in turn (lbfgs fails on some singular starting points).
_OPTIMIZERS = ("bfgs", "lbfgs", "powell", "nm")
_IDENT = re.compile(r"[A-Za-z_][A-Za-z0-9_.]*")


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
        Fixed effects: ``term, estimate, se, z, p, ci_low, ci_high`` (Wald z, normal CI;
        SE from the model-based GLS covariance σ²(Σ XᵢᵀVᵢ⁻¹Xᵢ)⁻¹, as lme4).
    variance
        Variance components: ``component`` (random-effect name, or ``"Residual"``),
        ``variance`` and, for random-effect pairs, ``covariance`` rows named ``"a:b"``.
    n_obs, n_subjects, n_dropped
        Observations used, subjects, and rows dropped for a blank response.
    converged
        statsmodels' convergence flag.
    result
        The statsmodels ``MixedLMResults`` (for anything else).
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
    _data: pd.DataFrame = field(default=None, repr=False)
    _factors: dict = field(default_factory=dict, repr=False)
    _covariates: list = field(default_factory=list, repr=False)
    _cov_fe: np.ndarray = field(default=None, repr=False)

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
        keys = grid[specs].astype(object).apply(tuple, axis=1)
        rows, lmat = [], []
        for key in dict.fromkeys(keys):
            lmat.append(x[(keys == key).to_numpy()].mean(axis=0))
            rows.append(dict(zip(specs, key, strict=True)))
        return rows, np.array(lmat)

    def dunnett(
        self,
        group: str,
        control,
        by: str | None = None,
        alternative: str = "two-sided",
        conf_level: float | None = None,
    ) -> pd.DataFrame:
        """Dunnett comparisons of marginal means with ``control``, at each level of ``by``.

        Contrasts of :meth:`emmeans` (``group`` levels − control) with Wald (z, df = ∞)
        inference and single-step adjustment within each ``by`` level, as R
        ``contrast(emmeans(fit, ~ group | time, lmer.df = "asymptotic"), "trt.vs.ctrl",
        adjust = "mvt")``.  Different groups hold different animals, so their marginal
        means are uncorrelated and the contrasts have Dunnett's product correlation
        (checked; a model where this fails raises :class:`~nplab.errors.NplabError`).

        Returns
        -------
        pandas.DataFrame
            ``[by,] group, diff, se, t (= z), df (= inf), p, ci_low, ci_high``.
        """
        from nplab.stats.posthoc import (
            _check_alternative,
            dunnett_critical,
            dunnett_pvalues,
        )

        _check_alternative(alternative)
        level = self.conf_level if conf_level is None else conf_level
        specs = [group] if by is None else [by, group]
        rows, lmat = self._grid_rows(specs, None)
        beta = self.result.fe_params.to_numpy()
        frame = pd.DataFrame(rows)
        as_text = frame[group].astype(str)
        if str(control) not in set(as_text):
            raise InputError(f"control {control!r} is not a level of {group!r}", column=group,
                             expected="one of " + ", ".join(dict.fromkeys(as_text)))  # fmt: skip
        tables = []
        blocks = [frame.index] if by is None else [
            frame.index[frame[by] == b] for b in dict.fromkeys(frame[by])
        ]
        for idx in blocks:
            idx = np.asarray(idx)
            ctrl = idx[as_text.to_numpy()[idx] == str(control)][0]
            others = idx[idx != ctrl]
            cmat = lmat[others] - lmat[ctrl]
            vc = cmat @ self._cov_fe @ cmat.T
            v0 = float(lmat[ctrl] @ self._cov_fe @ lmat[ctrl])
            off = vc[~np.eye(len(others), dtype=bool)]
            if off.size and not np.allclose(off, v0, rtol=1e-6, atol=1e-12 * v0):
                raise NplabError("these comparisons do not have Dunnett's product correlation "
                                 "(groups' marginal means are correlated in this model)")  # fmt: skip
            diff = cmat @ beta
            se = np.sqrt(np.diag(vc))
            lam = np.sqrt(v0 / np.diag(vc))
            z = diff / se
            p = dunnett_pvalues(z, lam, np.inf, alternative)
            crit = dunnett_critical(lam, np.inf, level, alternative)
            tab = frame.loc[others].reset_index(drop=True)
            tab["diff"], tab["se"], tab["t"], tab["df"], tab["p"] = diff, se, z, np.inf, p
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
            One row per combination (level order of the data): the ``specs`` columns,
            ``emmean``, ``se``, ``ci_low``, ``ci_high`` (Wald, normal quantile).
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
        beta = self.result.fe_params.to_numpy()
        cov = self._cov_fe
        lmat = np.array(lmat)
        est = lmat @ beta
        se = np.sqrt(np.einsum("ij,jk,ik->i", lmat, cov, lmat))
        z = stats.norm.isf((1 - level) / 2)
        out = pd.DataFrame(rows)
        out["emmean"] = est
        out["se"] = se
        out["ci_low"] = est - z * se
        out["ci_high"] = est + z * se
        return out


def _gls_cov(res) -> np.ndarray:
    """Model-based covariance of the fixed effects, σ²-scaled (Σᵢ Xᵢᵀ Vᵢ⁻¹ Xᵢ)⁻¹.

    ``Vᵢ = Zᵢ G Zᵢᵀ + σ² I`` at the REML estimates: the covariance lme4's ``vcov`` and
    emmeans use.  (statsmodels' ``cov_params`` inverts the observed joint Hessian of the
    fixed and variance parameters, which differs slightly with unbalanced data.)
    """
    model = res.model
    g = np.asarray(res.cov_re, dtype=float)
    info = np.zeros((model.k_fe, model.k_fe))
    for x, z in zip(model.exog_li, model.exog_re_li, strict=True):
        v = z @ g @ z.T + res.scale * np.eye(len(x))
        info += x.T @ np.linalg.solve(v, x)
    return np.linalg.inv(info)


def mixed_model(
    data: pd.DataFrame,
    formula: str,
    subject: str,
    re_formula: str | None = None,
    conf_level: float = 0.95,
) -> MixedModelResult:
    """Fit a linear mixed model by REML with a random effect per subject.

    Parameters
    ----------
    data
        Long format, one row per observation; rows with a blank response are dropped
        (counted in ``n_dropped``), which is how missing time points are handled.
    formula
        Fixed part, patsy syntax, e.g. ``"log_threshold ~ C(group) * C(time)"``.  Factor
        levels follow pandas categorical order when the column is categorical (so the first
        category is the reference level), otherwise patsy's sorted order.
    subject
        Animal identifier (the grouping factor of the random effects).
    re_formula
        Random-effects formula; ``None`` = random intercept (``(1 | subject)``),
        ``"~day"`` = random intercept and slope with their covariance (``(day | subject)``).
    conf_level
        Level of the Wald intervals.

    Returns
    -------
    MixedModelResult
        ``.fixed`` (``term, estimate, se, z, p, ci_low, ci_high``), ``.variance``,
        ``.emmeans(specs, at=None)``.

    References
    ----------
    Bates D, Mächler M, Bolker B, Walker S (2015) J Stat Softw 67(1):1–48 (lme4);
    Seabold & Perktold (2010) statsmodels; Lenth R, emmeans (R package).
    """
    import statsmodels.formula.api as smf

    if not isinstance(formula, str) or "~" not in formula:
        raise InputError(f"formula {formula!r} is not of the form 'response ~ terms'",
                         column="formula")  # fmt: skip
    dv = formula.split("~", 1)[0].strip()
    rhs = formula.split("~", 1)[1]
    tokens = set(_IDENT.findall(rhs)) | (set(_IDENT.findall(re_formula)) if re_formula else set())
    variables = [c for c in data.columns if isinstance(c, str) and c in tokens and c != dv]
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
    for v in variables:
        if v == subject:
            continue
        col = used[v]
        as_factor = re.search(r"C\(\s*" + re.escape(v) + r"\b", rhs) is not None
        if pd.api.types.is_numeric_dtype(col) and not pd.api.types.is_bool_dtype(col) and not as_factor:
            covariates.append(v)
        else:
            factors[v] = levels_of(col, v, used)
    n_subj = used[subject].nunique()
    if n_subj < 2:
        raise InputError("a mixed model needs at least two subjects", column=subject)
    try:
        model = smf.mixedlm(formula, used, groups=used[subject], re_formula=re_formula)
    except Exception as exc:  # patsy errors: unknown names, bad syntax
        raise InputError(f"the model cannot be built: {exc}", column="formula") from exc
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
    cov_fe = _gls_cov(res)
    est = res.fe_params
    se = pd.Series(np.sqrt(np.diag(cov_fe)), index=est.index)
    if not np.all(np.isfinite(se)):
        raise NplabError("the mixed model fit did not give finite standard errors")
    zval = est / se
    zc = stats.norm.isf((1 - conf_level) / 2)
    fixed = pd.DataFrame(
        {
            "term": list(est.index),
            "estimate": est.to_numpy(),
            "se": se.to_numpy(),
            "z": zval.to_numpy(),
            "p": 2 * stats.norm.sf(np.abs(zval.to_numpy())),
            "ci_low": (est - zc * se).to_numpy(),
            "ci_high": (est + zc * se).to_numpy(),
        }
    )
    cov_re = res.cov_re
    comp, var = [], []
    names = list(cov_re.index)
    for i, a in enumerate(names):
        comp.append(str(a))
        var.append(float(cov_re.iloc[i, i]))
    for i, j in itertools.combinations(range(len(names)), 2):
        comp.append(f"{names[i]}:{names[j]}")
        var.append(float(cov_re.iloc[i, j]))
    comp.append("Residual")
    var.append(float(res.scale))
    variance = pd.DataFrame({"component": comp, "variance": var})
    return MixedModelResult(
        fixed=fixed,
        variance=variance,
        n_obs=len(used),
        n_subjects=int(n_subj),
        n_dropped=int((~keep).sum()),
        converged=bool(res.converged),
        result=res,
        formula=formula,
        subject=subject,
        conf_level=conf_level,
        _data=used,
        _factors=factors,
        _covariates=covariates,
        _cov_fe=cov_fe,
    )
