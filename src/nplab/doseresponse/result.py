"""The result of a dose–response fit (``nplab.doseresponse.result``).

The lowest layer above the models: :class:`FitResult` holds a least-squares fit
(parameter vector, covariance, data) and what follows from it alone: the parameter
table with drc's Wald intervals, log-likelihood and AIC, predictions with delta-method
intervals. :mod:`nplab.doseresponse.inference` (ED values, relative potency, model
comparison) works on a ``FitResult``; :mod:`nplab.doseresponse.fitting` computes one
and returns it as a :class:`~nplab.doseresponse.fitting.DoseResponseFit`. Imports run
one way: ``models``/``design`` -> ``result`` -> ``inference`` -> ``fitting``.

References
----------
Ritz C, Baty F, Streibig JC, Gerhard D (2015) Dose-response analysis using R.
PLoS ONE 10(12): e0146021 (drc ``vcov``, ``confint``, ``logLik``, ``AIC``,
``predict(..., interval = "confidence")``).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

from nplab._dist import t_ppf, t_sf
from nplab.doseresponse.design import Layout
from nplab.doseresponse.models import PARAMETERS, Model, evaluate
from nplab.errors import InputError

__all__ = ["FitResult", "check_level"]


def check_level(level: Any) -> float:
    """Confidence level as a fraction in (0, 1) (0.95, not 95)."""
    try:
        val = float(level)
    except (TypeError, ValueError):
        val = float("nan")
    if not 0.0 < val < 1.0:
        raise InputError(f"confidence level {level!r} is not valid", column="level",
                         expected="a fraction between 0 and 1, e.g. 0.95")
    return val


@dataclass
class _Data:
    x: np.ndarray
    y: np.ndarray
    curve_idx: np.ndarray
    curves: list[Any]
    rows: np.ndarray  # 0-based source rows


@dataclass
class FitResult:
    """What a least-squares fit returns: estimates, covariance, predictions.

    :func:`nplab.doseresponse.fit` returns its subclass
    :class:`~nplab.doseresponse.fitting.DoseResponseFit`, which adds the inference
    methods (``ic``, ``relative_potency``); its attributes are documented there.
    """

    model: Model
    curves: list[Any]
    layout: Layout
    theta: np.ndarray
    vcov_dense: np.ndarray | None
    rss: float
    n_obs: int
    success: bool
    message: str
    fixed: dict[str, float]
    shared: tuple[str, ...]
    level: float
    x_col: str
    y_col: str
    curve_col: str | None
    data: _Data
    se_method: str = "hessian"
    robust: str | None = None
    curve_stats: pd.DataFrame | None = None
    vcov_blocks: np.ndarray | None = field(default=None, repr=False)
    variance: str = "pooled"
    n_unfitted_params: int = field(default=0, repr=False)
    _params: pd.DataFrame | None = field(default=None, repr=False)

    # ------------------------------------------------------------------ basics
    @property
    def n_params(self) -> int:
        """Number of estimated parameters (all curves; curves that could not be fitted
        at all, e.g. flat curves in :func:`fit_many`, are left out with their data)."""
        return int(self.layout.n_free - self.n_unfitted_params)

    @property
    def df_resid(self) -> int:
        return int(self.n_obs - self.n_params)

    @property
    def vcov(self) -> np.ndarray:
        """Covariance matrix of the estimated parameters (order of ``layout.names``).

        For fits of many independent curves the matrix is block-diagonal and kept as
        ``vcov_blocks`` (curves, p, p); the dense matrix is only built up to 5000
        parameters.
        """
        if self.vcov_dense is None:
            if self.n_params > 5000:
                raise InputError(
                    f"the covariance of {self.n_params} parameters is block-diagonal; "
                    "use fit.vcov_blocks (one p x p block per curve)", column="vcov",
                )
            self.vcov_dense = self._vsub(np.arange(self.n_params))
        return self.vcov_dense

    def _vsub(self, idx: np.ndarray) -> np.ndarray:
        """Rows/columns ``idx`` of the covariance (works for block-diagonal storage)."""
        idx = np.asarray(idx, dtype=int)
        if self.vcov_blocks is None:
            return self.vcov_dense[np.ix_(idx, idx)]
        p = self.vcov_blocks.shape[1]
        cur, pos = idx // p, idx % p
        out = self.vcov_blocks[cur[:, None], pos[:, None], pos[None, :]]
        return np.where(cur[:, None] == cur[None, :], out, 0.0)

    def _var_diag(self) -> np.ndarray:
        if self.vcov_blocks is None:
            return np.diag(self.vcov_dense).copy()
        return np.einsum("kpp->kp", self.vcov_blocks).reshape(-1).copy()

    def _df_curve(self, k: int) -> int:
        """Residual df for intervals of curve k (its own df with per-curve variance)."""
        if self.variance == "per_curve" and self.curve_stats is not None:
            return int(self.curve_stats["df_resid"].iloc[k])
        return self.df_resid

    def _curve_theta_idx(self, k: int) -> np.ndarray:
        row = self.layout.index[k]
        return np.unique(row[row >= 0])

    def _curve_jac(self, k: int, x: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Values, Jacobian wrt the curve's own entries of theta, and those entries."""
        full = self.layout.full_curve(self.theta, k)
        y, jfull = evaluate(self.model.family, x, full, jacobian=True)
        idx = self._curve_theta_idx(k)
        jac = np.zeros((x.size, idx.size))
        for j in range(5):
            t = self.layout.index[k, j]
            if t >= 0:
                jac[:, int(np.searchsorted(idx, t))] += jfull[:, j]
        return y, jac, idx

    @property
    def residual_se(self) -> float:
        return float(np.sqrt(self.rss / self.df_resid)) if self.df_resid > 0 else float("nan")

    @property
    def loglik(self) -> float:
        """Gaussian log-likelihood at the LS fit (drc ``logLik.drc``, continuous)."""
        n = self.n_obs
        return float(-n / 2 * (np.log(2 * np.pi) + 1 - np.log(n) + np.log(self.rss)))

    @property
    def aic(self) -> float:
        """AIC = -2 logLik + 2 (p + 1) (the +1 is the residual variance), as drc."""
        return float(-2 * self.loglik + 2 * (self.n_params + 1))

    def curve_parameters(self) -> pd.DataFrame:
        """All five parameters (estimated and fixed) per curve, one row per curve."""
        full = self.layout.full(self.theta)
        df = pd.DataFrame(full, columns=list(PARAMETERS))
        df.insert(0, "curve", self.curves)
        return df

    @property
    def params(self) -> pd.DataFrame:
        if self._params is None:
            self._params = self._param_table()
        return self._params

    def _param_table(self) -> pd.DataFrame:
        var = self._var_diag()
        se_all = np.where(np.isfinite(var), np.sqrt(np.clip(var, 0, None)), np.nan)
        ks, js = np.nonzero(self.layout.index >= 0)  # curve-major, drc parameter order
        idx = self.layout.index[ks, js]
        est = self.theta[idx]
        se = se_all[idx]
        if self.variance == "per_curve" and self.curve_stats is not None:
            df = self.curve_stats["df_resid"].to_numpy()[ks].astype(float)
        else:
            df = np.full(ks.size, float(self.df_resid))
        with np.errstate(invalid="ignore", divide="ignore"):
            dfv = np.where(df > 0, df, np.nan)
            q = t_ppf(0.5 + self.level / 2, dfv)
            tval = np.where(se > 0, est / se, np.nan)
            pval = 2 * t_sf(np.abs(tval), dfv)
        shared_flag = np.array([self.layout.names[i][0] < 0 for i in idx], dtype=bool)
        return pd.DataFrame({
            "curve": pd.Series(self.curves).take(ks).to_numpy(),
            "parameter": np.array(PARAMETERS, dtype=object)[js],
            "estimate": est,
            "se": se,
            "t": tval,
            "p": pval,
            "ci_low": est - q * se,
            "ci_high": est + q * se,
            "shared": shared_flag,
        })

    def coef(self, curve: Any = None) -> dict[str, float]:
        """The five parameters of one curve as a dict (fixed ones included)."""
        k = self._curve_pos(curve)
        return dict(zip(PARAMETERS, self.layout.full_curve(self.theta, k).tolist(), strict=True))

    def _curve_pos(self, curve: Any) -> int:
        if curve is None:
            if len(self.curves) == 1:
                return 0
            raise InputError(
                "this fit has several curves; name one", column="curve",
                expected="one of " + ", ".join(map(str, self.curves)),
            )
        for k, label in enumerate(self.curves):
            if label == curve or str(label) == str(curve):
                return k
        raise InputError(
            f"no curve {curve!r} in this fit", column="curve",
            expected="one of " + ", ".join(map(str, self.curves)),
        )

    def predict(self, x: Any, curve: Any = None) -> np.ndarray:
        """Fitted response at doses ``x`` for one curve (``curve`` needed if several)."""
        k = self._curve_pos(curve)
        xa = np.asarray(x, dtype=float)
        return evaluate(self.model.family, xa, self.layout.full_curve(self.theta, k))

    def predict_interval(self, x: Any, curve: Any = None, level: float | None = None) -> pd.DataFrame:
        """Fitted values with delta-method standard errors and confidence limits.

        Returns a DataFrame with ``x``, ``fit``, ``se``, ``ci_low``, ``ci_high`` (t on
        ``df_resid``), as drc's ``predict(..., interval = "confidence")``.
        """
        level = self.level if level is None else check_level(level)
        k = self._curve_pos(curve)
        xa = np.atleast_1d(np.asarray(x, dtype=float))
        yfit, jac, idx = self._curve_jac(k, xa)
        se = np.sqrt(np.clip(np.einsum("ij,jk,ik->i", jac, self._vsub(idx), jac), 0, None))
        df = self._df_curve(k)
        q = t_ppf(0.5 + level / 2, df) if df > 0 else np.nan
        return pd.DataFrame(
            {"x": xa, "fit": yfit, "se": se, "ci_low": yfit - q * se, "ci_high": yfit + q * se}
        )

    def residuals(self) -> np.ndarray:
        """Observed minus fitted, in input row order (after NaN omission)."""
        d = self.data
        return d.y - self.layout.predict(self.theta, d.x, d.curve_idx)

    def __repr__(self) -> str:  # pragma: no cover - cosmetic
        return (
            f"{type(self).__name__}(model={self.model.name}, curves={len(self.curves)}, "
            f"rss={self.rss:.6g}, df_resid={self.df_resid}, success={self.success})"
        )
