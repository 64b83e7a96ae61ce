"""Inference after fitting: ED/IC values, relative potency, nested-model comparison.

* :func:`effective_doses` (``fit.ic``): ED_p / IC_p with delta-method standard errors
  and three interval types: ``"delta"`` (symmetric, t on the residual df, drc
  ``ED(..., interval = "delta")``), ``"log"`` (delta method on log ED, back-
  transformed: asymmetric and always positive, drc's ``"tfls"``) and ``"profile"``
  (profile likelihood: the set of ED values whose constrained least-squares fit is not
  significantly worse, ``|tau| <= t_{df, 1 - alpha/2}`` with ``tau^2 = (RSS(ED) -
  RSS) / s^2``, the ``profile``/``confint`` construction of MASS for ``nls``; Bates &
  Watts 1988, ch. 6). Each row carries a ``status`` flag (IC outside the tested dose
  range, curve incomplete).
* :func:`relative_potency` (``fit.relative_potency``): ratio of ED_p between two curves
  with a delta-method (drc ``EDcomp``/``SI``, t quantile) or Fieller interval
  (Fieller 1954; drc's ``fieller``), plus the t test of ratio = 1.
* :func:`compare`: extra-sum-of-squares F test of nested fits and their AICs
  (drc ``anova.drclist``; Motulsky & Christopoulos 2004, ch. 22).

References
----------
Ritz C, Baty F, Streibig JC, Gerhard D (2015) PLoS ONE 10(12): e0146021.
Fieller EC (1954) Some problems in interval estimation. J R Stat Soc B 16: 175-185.
Bates DM, Watts DG (1988) Nonlinear Regression Analysis and Its Applications. Wiley.
Motulsky H, Christopoulos A (2004) Fitting Models to Biological Data Using Linear and
Nonlinear Regression. Oxford University Press.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from nplab._dist import f_sf, t_ppf, t_sf
from nplab.doseresponse.batch import step_floor
from nplab.doseresponse.models import PARAMETERS, ed_value, evaluate
from nplab.doseresponse.result import FitResult, check_level
from nplab.errors import InputError

__all__ = ["compare", "curve_flags", "effective_doses", "relative_potency"]

#: fraction of the response span the tested range must cover at each end
COMPLETE_FRACTION = 0.2
#: the profile-interval search stops this far (natural log units) from the estimate
PROFILE_SPAN = 23.0


def _ed_theta(fit: FitResult, theta: np.ndarray, k: int, p: float, reference: str, type: str) -> float:
    full = fit.layout.full_curve(theta, k)
    return float(ed_value(fit.model.family, full, p, reference=reference, type=type))


def _ed_grad(
    fit: FitResult, k: int, p: float, reference: str, type: str, idx: np.ndarray | None = None
) -> tuple[float, np.ndarray, np.ndarray]:
    """ED value, its gradient over the entries ``idx`` of theta (default: the curve's
    own), by central differences, and ``idx``."""
    theta = fit.theta
    val = _ed_theta(fit, theta, k, p, reference, type)
    idx = fit._curve_theta_idx(k) if idx is None else idx
    own = set(fit._curve_theta_idx(k).tolist())
    g = np.zeros(idx.size)
    y_scale = float(np.max(np.abs(fit.data.y))) if fit.data.y.size else 1.0
    for a, i in enumerate(idx):
        if i not in own:
            continue
        floor = step_floor(PARAMETERS.index(fit.layout.names[i][1]), y_scale)
        h = 1e-6 * max(abs(theta[i]), float(floor))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += h
        tm[i] -= h
        g[a] = (_ed_theta(fit, tp, k, p, reference, type) - _ed_theta(fit, tm, k, p, reference, type)) / (2 * h)
    return val, g, idx


def curve_flags(fit: FitResult, k: int, ed: float | None = None) -> str:
    """Quality flags of curve ``k``: ``"ok"`` or ``;``-joined flags.

    ``ic_below_range`` / ``ic_above_range``: the ED lies below the lowest positive
    or above the highest tested dose (extrapolated). ``incomplete_top`` /
    ``incomplete_bottom``: the tested doses do not bring the fitted curve within
    20 % of the span of its control-side / far asymptote (zero doses count as
    reaching the control asymptote), so that asymptote is extrapolated.
    ``not_converged``: the fit failed.
    """
    d = fit.data
    sel = d.curve_idx == k
    xs = d.x[sel]
    pos = xs[xs > 0]
    flags = []
    if not fit.success:
        flags.append("not_converged")
    if ed is not None and np.isfinite(ed) and pos.size:
        if ed < pos.min():
            flags.append("ic_below_range")
        elif ed > pos.max():
            flags.append("ic_above_range")
    full = fit.layout.full_curve(fit.theta, k)
    c, dd = full[1], full[2]
    span = dd - c
    if pos.size and span != 0:
        y0 = float(evaluate(fit.model.family, np.array(0.0), full))
        yinf = c + dd - y0
        lo = 0.0 if np.any(xs == 0) else pos.min()
        ylo = float(evaluate(fit.model.family, np.array(lo), full))
        yhi = float(evaluate(fit.model.family, np.array(pos.max()), full))
        if abs(ylo - y0) > COMPLETE_FRACTION * abs(span):
            flags.append("incomplete_top" if y0 >= yinf else "incomplete_bottom")
        if abs(yhi - yinf) > COMPLETE_FRACTION * abs(span):
            flags.append("incomplete_bottom" if y0 >= yinf else "incomplete_top")
    return ";".join(flags) if flags else "ok"


def _profile_ci(
    fit: FitResult, k: int, p: float, reference: str, type: str, est: float, se: float, q: float
) -> tuple[float, float, str]:
    """Profile-likelihood interval of ED_p of curve k (see module docstring)."""
    lay = fit.layout
    j_e = lay.index[k, 3]
    if j_e < 0 or lay.names[j_e][0] < 0 or type != "relative":
        return np.nan, np.nan, "profile interval needs a curve-specific, estimated ic50 (relative ED)"
    d = fit.data
    own = fit._curve_theta_idx(k)
    shared_any = any(lay.names[i][0] < 0 for i in range(lay.n_free))
    if shared_any:  # joint profile over every curve and parameter
        sel = np.ones(d.x.size, dtype=bool)
        keep = [i for i in range(lay.n_free) if i != j_e]
        rss_min = fit.rss
    else:  # independent curves: only curve k's data and parameters move
        sel = d.curve_idx == k
        keep = [int(i) for i in own if i != j_e]
        r0 = d.y[sel] - lay.predict(fit.theta, d.x[sel], d.curve_idx[sel])
        rss_min = float(r0 @ r0)
    xs, ys, cs = d.x[sel], d.y[sel], d.curve_idx[sel]
    if fit.variance == "per_curve":
        s2 = rss_min / fit._df_curve(k)
    else:
        s2 = fit.rss / fit.df_resid

    def ratio(theta: np.ndarray) -> float:
        # ED / ic50 depends on hill (and asym) only
        full = lay.full_curve(theta, k)
        full[3] = 1.0
        return float(ed_value(lay.family, full, p, reference=reference, type=type))

    warm = {"theta": fit.theta.copy()}

    def with_ed(u: np.ndarray, ed: float) -> np.ndarray | None:
        t = warm["theta"].copy()
        t[keep] = u
        rt = ratio(t)
        if not (np.isfinite(rt) and rt > 0):  # ED/ic50 under- or overflows for this hill
            return None
        t[j_e] = ed / rt
        return t

    def rss_at(ed: float) -> float:
        def fun(u: np.ndarray) -> np.ndarray:
            t = with_ed(u, ed)
            if t is None:
                return np.full(ys.size, 1e100)
            r = lay.predict(t, xs, cs) - ys
            return np.where(np.isfinite(r), r, 1e100)

        u0 = warm["theta"][keep]
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                res = optimize.least_squares(fun, u0, method="lm", xtol=1e-12, ftol=1e-12,
                                             gtol=1e-12)
            except (ValueError, ZeroDivisionError, FloatingPointError):
                return np.inf
            r = fun(res.x)
            val = float(r @ r)
        t = with_ed(res.x, ed)
        if np.isfinite(val) and t is not None:
            warm["theta"] = t
        return val

    def tau(log_ed: float) -> float:
        with np.errstate(over="ignore"):
            ed = float(np.exp(log_ed))
        if not 0.0 < ed < np.inf:
            return np.inf
        return np.sqrt(max(rss_at(ed) - rss_min, 0.0) / s2)

    out = []
    for sign in (-1.0, 1.0):
        warm["theta"] = fit.theta.copy()
        step = max(se / est, 0.05) if np.isfinite(se) and se > 0 else 0.1
        lo = np.log(est)
        hi = lo
        found = False
        start = lo
        for _ in range(60):
            hi = hi + sign * step
            if abs(hi - start) > PROFILE_SPAN:  # more than ~1e10-fold from the estimate
                break
            if tau(hi) > q:
                found = True
                break
            lo = hi
            step *= 1.6
        if not found:
            out.append(np.inf if sign > 0 else 0.0)
            continue
        a, b = (lo, hi) if lo < hi else (hi, lo)
        warm["theta"] = fit.theta.copy()
        root = optimize.brentq(lambda v: tau(v) - q, a, b, xtol=1e-10)
        out.append(float(np.exp(root)))
    msg = "" if np.all(np.isfinite(out)) and out[0] > 0 else "profile does not close within the search range"
    return out[0], out[1], msg


def effective_doses(
    fit: FitResult,
    levels: float | Iterable[float] = 50,
    interval: Literal["delta", "log", "profile", "none"] = "delta",
    *,
    curve: Any = None,
    reference: Literal["control", "upper"] = "control",
    type: Literal["relative", "absolute"] = "relative",
    level: float | None = None,
) -> pd.DataFrame:
    """ED_p / IC_p values of every curve (drc ``ED``).

    Parameters
    ----------
    fit
        A fit (:class:`~nplab.doseresponse.fitting.DoseResponseFit`, or any
        :class:`~nplab.doseresponse.result.FitResult`).
    levels
        Response level(s) p in percent (relative, 0 < p < 100), or response values for
        ``type="absolute"``. ``50`` gives the IC50 (= ``ic50`` for log-logistic models).
    interval
        ``"delta"``, ``"log"``, ``"profile"`` or ``"none"`` (see module docstring).
    curve
        Restrict to one curve.
    reference, type
        As in drc: count p from the control level (default) or from ``top``;
        relative levels or absolute response values.
    level
        Confidence level (default: the fit's, 0.95).

    Returns
    -------
    pandas.DataFrame
        ``curve``, ``level`` (p), ``estimate``, ``se`` (delta method), ``ci_low``,
        ``ci_high``, ``interval``, ``status`` (``"ok"`` or flags, see
        :func:`curve_flags`; profile problems are appended).
    """
    if interval not in ("delta", "log", "profile", "none"):
        raise InputError(
            f"unknown interval {interval!r}", column="interval",
            expected="'delta', 'log', 'profile' or 'none'",
        )
    lv = np.atleast_1d(np.asarray(list(levels) if not np.isscalar(levels) else [levels], dtype=float))
    if type == "relative" and np.any((lv <= 0) | (lv >= 100)):
        raise InputError("relative response levels must lie strictly between 0 and 100",
                         column="levels", expected="0 < p < 100")
    level = fit.level if level is None else check_level(level)
    ks = range(len(fit.curves)) if curve is None else [fit._curve_pos(curve)]
    if fit.vcov_blocks is not None and interval != "profile" and curve is None:
        return _effective_doses_many(fit, lv, interval, reference, type, level)
    rows = []
    for k in ks:
        df = fit._df_curve(k)
        q = t_ppf(0.5 + level / 2, df) if df > 0 else np.nan
        for p in lv:
            est, g, idx = _ed_grad(fit, k, float(p), reference, type)
            v = fit._vsub(idx)
            se = float(np.sqrt(max(g @ v @ g, 0.0))) if np.all(np.isfinite(v)) else np.nan
            lo = hi = np.nan
            status = curve_flags(fit, k, est)
            if interval == "delta":
                lo, hi = est - q * se, est + q * se
            elif interval == "log":
                with np.errstate(over="ignore", invalid="ignore"):
                    lo, hi = est * np.exp(-q * se / est), est * np.exp(q * se / est)
            elif interval == "profile" and np.isfinite(est) and fit.success:
                lo, hi, msg = _profile_ci(fit, k, float(p), reference, type, est, se, q)
                if msg:
                    status = msg if status == "ok" else status + ";" + msg
            rows.append({
                "curve": fit.curves[k], "level": float(p), "estimate": est, "se": se,
                "ci_low": lo, "ci_high": hi, "interval": interval, "status": status,
            })
    cols = ["curve", "level", "estimate", "se", "ci_low", "ci_high", "interval", "status"]
    return pd.DataFrame(rows, columns=cols)


def _flags_many(fit: FitResult, ed: np.ndarray) -> np.ndarray:
    """Vectorised :func:`curve_flags` for independent curves (same rules)."""
    d = fit.data
    ncurve = len(fit.curves)
    full = fit.layout.fixed_values.copy()
    mask = fit.layout.index >= 0
    full[mask] = fit.theta[fit.layout.index[mask]]
    big = np.inf
    pos = d.x > 0
    pmin = np.full(ncurve, big)
    pmax = np.full(ncurve, -big)
    np.minimum.at(pmin, d.curve_idx[pos], d.x[pos])
    np.maximum.at(pmax, d.curve_idx[pos], d.x[pos])
    has_zero = np.zeros(ncurve, dtype=bool)
    has_zero[d.curve_idx[~pos]] = True
    has_pos = np.isfinite(pmin)
    fam = fit.model.family
    with np.errstate(all="ignore"):
        y0 = evaluate(fam, np.zeros(ncurve), full)
        yinf = full[:, 1] + full[:, 2] - y0
        ylo = evaluate(fam, np.where(has_zero, 0.0, np.where(has_pos, pmin, 1.0)), full)
        yhi = evaluate(fam, np.where(has_pos, pmax, 1.0), full)
        span = np.abs(full[:, 2] - full[:, 1])
        falling = y0 >= yinf
        low_end = np.abs(ylo - y0) > COMPLETE_FRACTION * span
        high_end = np.abs(yhi - yinf) > COMPLETE_FRACTION * span
    ok_curve = fit.curve_stats["success"].to_numpy() if fit.curve_stats is not None else np.full(ncurve, fit.success)
    out = np.empty(ed.shape, dtype=object)
    for k in range(ncurve):
        base = []
        if not ok_curve[k]:
            base.append("not_converged")
        tail = []
        if has_pos[k] and span[k] > 0:
            if low_end[k]:
                tail.append("incomplete_top" if falling[k] else "incomplete_bottom")
            if high_end[k]:
                tail.append("incomplete_bottom" if falling[k] else "incomplete_top")
        for i in range(ed.shape[1]):
            mid = []
            e = ed[k, i]
            if np.isfinite(e) and has_pos[k]:
                if e < pmin[k]:
                    mid.append("ic_below_range")
                elif e > pmax[k]:
                    mid.append("ic_above_range")
            flags = base + mid + tail
            out[k, i] = ";".join(flags) if flags else "ok"
    return out


def _effective_doses_many(
    fit: FitResult, lv: np.ndarray, interval: str, reference: str, type: str, level: float
) -> pd.DataFrame:
    """Vectorised ED table for independent curves (block-diagonal covariance)."""
    lay = fit.layout
    ncurve = len(fit.curves)
    free = np.flatnonzero(lay.index[0] >= 0)
    full = lay.fixed_values.copy()
    mask = lay.index >= 0
    full[mask] = fit.theta[lay.index[mask]]
    if fit.variance == "per_curve" and fit.curve_stats is not None:
        df = fit.curve_stats["df_resid"].to_numpy().astype(float)
    else:
        df = np.full(ncurve, float(fit.df_resid))
    with np.errstate(all="ignore"):
        q = t_ppf(0.5 + level / 2, np.where(df > 0, df, np.nan))
    est = np.empty((ncurve, lv.size))
    se = np.empty((ncurve, lv.size))
    for i, p in enumerate(lv):
        with np.errstate(all="ignore"):
            e0 = ed_value(lay.family, full, p, reference=reference, type=type)
            g = np.zeros((ncurve, free.size))
            y_scale = np.zeros(ncurve)
            np.maximum.at(y_scale, fit.data.curve_idx, np.abs(fit.data.y))
            for a, j in enumerate(free):
                h = 1e-6 * np.maximum(np.abs(full[:, j]), step_floor(int(j), y_scale))
                fp, fm = full.copy(), full.copy()
                fp[:, j] += h
                fm[:, j] -= h
                g[:, a] = (ed_value(lay.family, fp, p, reference=reference, type=type)
                           - ed_value(lay.family, fm, p, reference=reference, type=type)) / (2 * h)
            var = np.einsum("kp,kpq,kq->k", g, fit.vcov_blocks, g)
        est[:, i] = e0
        se[:, i] = np.sqrt(np.clip(var, 0, None))
    qq = q[:, None]
    with np.errstate(all="ignore"):
        if interval == "delta":
            lo, hi = est - qq * se, est + qq * se
        elif interval == "log":
            lo, hi = est * np.exp(-qq * se / est), est * np.exp(qq * se / est)
        else:
            lo = hi = np.full(est.shape, np.nan)
    status = _flags_many(fit, est)
    return pd.DataFrame({
        "curve": pd.Series(fit.curves).take(np.repeat(np.arange(ncurve), lv.size)).to_numpy(),
        "level": np.tile(lv, ncurve),
        "estimate": est.ravel(),
        "se": se.ravel(),
        "ci_low": lo.ravel(),
        "ci_high": hi.ravel(),
        "interval": interval,
        "status": status.ravel(),
    })


def _fieller(mu1: float, mu2: float, v11: float, v22: float, v12: float, q: float) -> tuple[float, float]:
    """Fieller interval of mu1/mu2 (drc ``fieller``, Encycl. Stat. Sci. 3: 86)."""
    t2 = q * q
    f0 = mu1 * mu2 - t2 * v12
    disc = f0 * f0 - (mu1 * mu1 - t2 * v11) * (mu2 * mu2 - t2 * v22)
    denom = mu2 * mu2 - t2 * v22
    if denom <= 0 or disc < 0:
        return np.nan, np.nan  # ratio not bounded at this level (g >= 1)
    root = np.sqrt(disc)
    return (f0 - root) / denom, (f0 + root) / denom


def relative_potency(
    fit: FitResult,
    curve1: Any,
    curve2: Any,
    levels: float | Iterable[float] = 50,
    interval: Literal["delta", "fieller", "log"] = "delta",
    *,
    reference: Literal["control", "upper"] = "control",
    level: float | None = None,
) -> pd.DataFrame:
    """Ratio ED_p(curve1) / ED_p(curve2) with its CI (drc ``EDcomp``/``SI``).

    Both curves must come from the same fit so that their covariance is known
    (independent curves: zero covariance). With per-curve variances
    (``fit_many``) the t quantile uses the sum of the two curves' residual df.

    Returns
    -------
    pandas.DataFrame
        ``curve1``, ``curve2``, ``level``, ``ratio``, ``se`` (delta), ``t`` and ``p``
        (test of ratio = 1, t on ``df_resid``), ``ci_low``, ``ci_high``, ``interval``.
        Fieller limits are NaN when the denominator is not significantly different
        from 0 (the interval is unbounded).
    """
    if interval not in ("delta", "fieller", "log"):
        raise InputError(f"unknown interval {interval!r}", column="interval",
                         expected="'delta', 'fieller' or 'log'")
    k1, k2 = fit._curve_pos(curve1), fit._curve_pos(curve2)
    level = fit.level if level is None else check_level(level)
    df = fit.df_resid
    q = t_ppf(0.5 + level / 2, df) if df > 0 else np.nan
    lv = [levels] if np.isscalar(levels) else list(levels)
    rows = []
    idx = np.union1d(fit._curve_theta_idx(k1), fit._curve_theta_idx(k2))
    if fit.variance == "per_curve":
        df = fit._df_curve(k1) + fit._df_curve(k2)
        q = t_ppf(0.5 + level / 2, df) if df > 0 else np.nan
    V = fit._vsub(idx)
    for p in lv:
        e1, g1, _ = _ed_grad(fit, k1, float(p), reference, "relative", idx)
        e2, g2, _ = _ed_grad(fit, k2, float(p), reference, "relative", idx)
        r = e1 / e2
        g = (g1 - r * g2) / e2
        se = float(np.sqrt(max(g @ V @ g, 0.0)))
        tval = (r - 1) / se if se > 0 else np.nan
        pval = 2 * t_sf(abs(tval), df) if np.isfinite(tval) else np.nan
        if interval == "delta":
            lo, hi = r - q * se, r + q * se
        elif interval == "log":
            with np.errstate(over="ignore", invalid="ignore"):
                lo, hi = r * np.exp(-q * se / r), r * np.exp(q * se / r)
        else:
            lo, hi = _fieller(e1, e2, g1 @ V @ g1, g2 @ V @ g2, g1 @ V @ g2, q)
        rows.append({
            "curve1": fit.curves[k1], "curve2": fit.curves[k2], "level": float(p), "ratio": r,
            "se": se, "t": tval, "p": pval, "ci_low": lo, "ci_high": hi, "interval": interval,
        })
    return pd.DataFrame(rows)


def compare(fit_reduced: FitResult, fit_full: FitResult) -> pd.DataFrame:
    """Extra-sum-of-squares F test and AIC of two nested least-squares fits.

    ``F = ((RSS_r - RSS_f) / (df_r - df_f)) / (RSS_f / df_f)`` on (df_r - df_f, df_f)
    degrees of freedom (drc ``anova``; e.g. shared vs separate curves, LL.3 vs
    LL.4). Both fits must use the same observations.

    Returns
    -------
    pandas.DataFrame
        Two rows (``reduced``, ``full``): ``model``, ``n_params``, ``df_resid``, ``rss``,
        ``aic``, and on the ``full`` row ``df``, ``f``, ``p``.
    """
    a, b = fit_reduced, fit_full
    if a.n_obs != b.n_obs or not np.allclose(np.sort(a.data.y), np.sort(b.data.y)):
        raise InputError("the two fits are not on the same observations",
                         expected="nested fits of the same data")
    if a.df_resid <= b.df_resid:
        raise InputError(
            "the first fit must be the reduced model (more residual df than the second)",
            expected=f"df_resid {a.df_resid} > {b.df_resid}",
        )
    ddf = a.df_resid - b.df_resid
    f = ((a.rss - b.rss) / ddf) / (b.rss / b.df_resid)
    p = float(f_sf(f, ddf, b.df_resid))
    def label(x: FitResult) -> str:
        extra = []
        if x.shared:
            extra.append("shared " + ",".join(x.shared))
        if x.fixed:
            extra.append(",".join(f"{k}={v:g}" for k, v in x.fixed.items()))
        return x.model.name + (" (" + "; ".join(extra) + ")" if extra else "")
    return pd.DataFrame([
        {"fit": "reduced", "model": label(a), "n_params": a.n_params, "df_resid": a.df_resid,
         "rss": a.rss, "aic": a.aic, "df": np.nan, "f": np.nan, "p": np.nan},
        {"fit": "full", "model": label(b), "n_params": b.n_params, "df_resid": b.df_resid,
         "rss": b.rss, "aic": b.aic, "df": float(ddf), "f": float(f), "p": p},
    ])
