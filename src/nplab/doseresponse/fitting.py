"""Least-squares fitting of dose–response curves (``nplab.doseresponse.fit``).

The fit minimises the residual sum of squares (RSS) of one or several curves that may
share parameters, as drc's ``drm(..., type = "continuous")`` does. Standard errors
are drc's: the covariance is ``s^2 * (H / 2)^-1`` with H the observed Hessian of the
RSS at the minimum and ``s^2 = RSS / df`` (drc ``vcov.drc`` for continuous data);
``se="jtj"`` gives the Gauss–Newton ``s^2 (J^T J)^-1`` of ``nls``/``curve_fit``
instead. Confidence intervals of the parameters are Wald intervals with t quantiles on
the residual degrees of freedom (drc ``confint``).

References
----------
Ritz C, Baty F, Streibig JC, Gerhard D (2015) Dose-response analysis using R.
PLoS ONE 10(12): e0146021.
Bates DM, Watts DG (1988) Nonlinear Regression Analysis and Its Applications. Wiley.
More JJ (1978) The Levenberg-Marquardt algorithm: implementation and theory.
Lecture Notes in Mathematics 630: 105-116.
"""

from __future__ import annotations

import warnings
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, Literal

import numpy as np
import pandas as pd
from scipy import optimize

from nplab.checks import raise_first_bad
from nplab.doseresponse.batch import hessian_many, lm_many, step_floor
from nplab.doseresponse.design import Layout
from nplab.doseresponse.inference import effective_doses, relative_potency
from nplab.doseresponse.models import PARAMETERS, Model, evaluate, get_model
from nplab.doseresponse.result import FitResult, _Data, check_level
from nplab.doseresponse.start import guess_many
from nplab.errors import InputError, row_number
from nplab.tables import require_columns, to_numeric_column

__all__ = ["DoseResponseFit", "fit", "fit_many"]

ALL_CURVES = "all"
ROBUST_LOSSES = ("huber", "soft_l1", "cauchy", "arctan")


class DoseResponseFit(FitResult):
    """Result of :func:`fit`.

    A :class:`~nplab.doseresponse.result.FitResult` (parameters, covariance,
    predictions) with the inference methods ``ic``/``ed`` and ``relative_potency``
    of :mod:`nplab.doseresponse.inference`.

    Attributes
    ----------
    params : pandas.DataFrame
        One row per curve and estimated parameter: ``curve``, ``parameter`` (``hill``,
        ``bottom``, ``top``, ``ic50``, ``asym``), ``estimate``, ``se``, ``t``, ``p``
        (two-sided, t on ``df_resid``), ``ci_low``, ``ci_high`` (Wald, t quantile),
        ``shared`` (True when the parameter is common to all curves: then every curve
        repeats the same row values). Fixed parameters are not listed (see ``fixed``).
    residual_se, df_resid, rss, n_obs
        Residual standard error sqrt(RSS / df), residual degrees of freedom, residual
        sum of squares and number of observations (pooled over curves).
    success, message
        Whether the optimiser converged to a usable minimum, and why not.
    curves : list
        Curve labels in output order (``["all"]`` without a ``curve`` column).
    """

    def ic(
        self, levels: float | Iterable[float] = 50, interval: str = "delta", **kwargs: Any
    ) -> pd.DataFrame:
        """ED_p / IC_p per curve with CIs; see :func:`nplab.doseresponse.inference.effective_doses`."""
        return effective_doses(self, levels, interval, **kwargs)

    ed = ic

    def relative_potency(
        self, curve1: Any, curve2: Any, levels: float | Iterable[float] = 50,
        interval: str = "delta", **kwargs: Any,
    ) -> pd.DataFrame:
        """ED_p(curve1) / ED_p(curve2); see :func:`nplab.doseresponse.inference.relative_potency`."""
        return relative_potency(self, curve1, curve2, levels, interval, **kwargs)


# ---------------------------------------------------------------------- input checks
def _prepare(
    data: pd.DataFrame, x: str, y: str, curve: str | None, nan_policy: str
) -> _Data:
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a table (pandas DataFrame)", expected="a DataFrame")
    if nan_policy not in ("raise", "omit"):
        raise InputError(
            f"unknown nan_policy {nan_policy!r}", column="nan_policy", expected="'raise' or 'omit'"
        )
    cols = [x, y] + ([curve] if curve is not None else [])
    require_columns(data, cols, file=data.attrs.get("source"))
    source = data.attrs.get("source")
    xv = to_numeric_column(data, x, allow_missing=True, expected="a dose >= 0")
    yv = to_numeric_column(data, y, allow_missing=True, expected="a number")
    missing = np.isnan(xv) | np.isnan(yv)
    if curve is not None:
        missing |= data[curve].isna().to_numpy()
    if missing.any() and nan_policy == "raise":
        i = int(np.flatnonzero(missing)[0])
        col = x if np.isnan(xv[i]) else (y if np.isnan(yv[i]) else curve)
        raise InputError(
            f"missing value ({int(missing.sum())} row(s) with missing values)",
            file=source, row=row_number(i), column=col,
            expected="a value, or nan_policy='omit' to drop such rows",
        )
    for name, vals in ((x, xv), (y, yv)):
        raise_first_bad(np.isinf(vals), "infinite value", file=source, column=name,
                        expected="a finite number")  # fmt: skip
    raise_first_bad(
        ~missing & (xv < 0), lambda i: f"negative dose {xv[i]:g}", file=source, column=x,
        expected="a dose >= 0 (concentrations, not log concentrations)",
    )
    keep = ~missing
    rows = np.flatnonzero(keep)
    if rows.size == 0:
        raise InputError("no usable rows (all values missing)", file=source, column=y)
    if curve is None:
        labels = [ALL_CURVES]
        cidx = np.zeros(rows.size, dtype=int)
    else:
        raw = data[curve].to_numpy()[rows]
        # factorize once (same uniques, same order as pd.unique), then map each unique
        # label to its sorted position: a dict look-up per curve, not per row
        codes, uniq = pd.factorize(raw)
        uniq = uniq.tolist() if hasattr(uniq, "tolist") else list(uniq)
        labels = sorted(uniq, key=lambda v: (str(type(v)), v))
        pos = {v: i for i, v in enumerate(labels)}
        cidx = np.array([pos[v] for v in uniq], dtype=int)[codes]
    return _Data(xv[rows], yv[rows], cidx, labels, rows)


def _check_spec(
    model: Model, fixed: dict[str, float] | None, shared: Iterable[str]
) -> tuple[dict[str, float], tuple[str, ...]]:
    if fixed is not None and not isinstance(fixed, Mapping):
        raise InputError(
            f"fixed must map parameter names to values, not {type(fixed).__name__}",
            column="fixed", expected="a dict such as {'bottom': 0, 'top': 100}",
        )
    fixed = dict(fixed or {})
    for key, val in list(fixed.items()):
        if key not in PARAMETERS:
            raise InputError(
                f"unknown parameter {key!r} in fixed", column="fixed",
                expected="one of " + ", ".join(PARAMETERS),
            )
        if key not in model.parameters:
            raise InputError(
                f"parameter {key!r} is not estimated by {model.name}", column="fixed",
                expected="one of " + ", ".join(model.parameters),
            )
        try:
            fixed[key] = float(val)
        except (TypeError, ValueError):
            raise InputError(f"fixed {key} = {val!r} is not a number", column="fixed") from None
        if not np.isfinite(fixed[key]) or (key == "ic50" and fixed[key] <= 0):
            raise InputError(
                f"fixed {key} = {val!r} is not valid", column="fixed",
                expected="a finite number (ic50 > 0)",
            )
    if all(p in fixed for p in model.parameters):
        raise InputError(
            f"every parameter of {model.name} is fixed: nothing to estimate", column="fixed",
            expected="at least one of " + ", ".join(model.parameters) + " left free",
        )
    shared_t = tuple(dict.fromkeys([shared] if isinstance(shared, str) else shared))
    for key in shared_t:
        if key not in model.parameters or key in fixed:
            raise InputError(
                f"cannot share parameter {key!r}", column="shared",
                expected="an estimated parameter of " + model.name + ": "
                + ", ".join(p for p in model.parameters if p not in fixed),
            )
    return fixed, shared_t


def _free_names(model: Model, fixed: dict[str, float]) -> tuple[str, ...]:
    return tuple(p for p in model.parameters if p not in fixed)


def _all_fixed(model: Model, fixed: dict[str, float]) -> dict[str, float]:
    out = dict(model.all_defaults)
    out.update(fixed)
    return out


def _degenerate(d: _Data, model: Model, n_free_per_curve: int, k: int) -> str | None:
    sel = d.curve_idx == k
    xs, ys = d.x[sel], d.y[sel]
    label = d.curves[k]
    if xs.size == 0:
        return f"curve {label!r}: no data"
    if np.unique(xs).size < 2:
        return f"curve {label!r}: only one concentration ({xs[0]:g}); a curve needs several"
    if np.all(ys == ys[0]):
        return f"curve {label!r}: flat data (every response is {ys[0]:g}); no curve to fit"
    return None


# ---------------------------------------------------------------------- optimiser
def _hessian_rss(layout: Layout, theta: np.ndarray, d: _Data) -> np.ndarray:
    """Observed Hessian of the RSS by central differences of its analytic gradient."""
    m = theta.size
    h = np.empty((m, m))
    def grad(t: np.ndarray) -> np.ndarray:
        f, jac = layout.jacobian(t, d.x, d.curve_idx)
        return 2.0 * jac.T @ (f - d.y)
    y_scale = float(np.max(np.abs(d.y))) if d.y.size else 1.0
    for i in range(m):
        floor = step_floor(PARAMETERS.index(layout.names[i][1]), y_scale)
        step = 6e-6 * max(abs(theta[i]), float(floor))
        tp, tm = theta.copy(), theta.copy()
        tp[i] += step
        tm[i] -= step
        h[:, i] = (grad(tp) - grad(tm)) / (2 * step)
    return (h + h.T) / 2


def _is_ic50(layout: Layout) -> np.ndarray:
    return np.array([name == "ic50" for _, name in layout.names], dtype=bool)


def _least_squares(
    layout: Layout, d: _Data, theta0: np.ndarray, robust: str | None, robust_scale: float | None
) -> optimize.OptimizeResult:
    """LM (or TRF with a robust loss) in (log ic50, others) coordinates."""
    logm = _is_ic50(layout)

    def to_nat(u: np.ndarray) -> np.ndarray:
        t = u.copy()
        t[logm] = np.exp(u[logm])
        return t

    def fun(u: np.ndarray) -> np.ndarray:
        return layout.predict(to_nat(u), d.x, d.curve_idx) - d.y

    def jac(u: np.ndarray) -> np.ndarray:
        t = to_nat(u)
        _, j = layout.jacobian(t, d.x, d.curve_idx)
        j[:, logm] *= t[logm]
        return j

    u0 = theta0.copy()
    u0[logm] = np.log(theta0[logm])
    kw: dict[str, Any] = {"jac": jac, "x_scale": "jac", "ftol": 1e-15, "xtol": 1e-15, "gtol": 1e-15}
    with warnings.catch_warnings(), np.errstate(all="ignore"):
        warnings.simplefilter("ignore")
        if robust is None and d.x.size >= u0.size:
            res = optimize.least_squares(fun, u0, method="lm", max_nfev=2000, **kw)
        else:
            res = optimize.least_squares(
                fun, u0, method="trf", loss=robust or "linear",
                f_scale=robust_scale or 1.0, max_nfev=2000, **kw,
            )
    with np.errstate(over="ignore"):
        res.theta = to_nat(res.x)
    return res


def _starts(model: Model, layout: Layout, d: _Data, fixed_all: dict[str, float]) -> list[np.ndarray]:
    """Candidate starting vectors: the self-starter plus ic50/hill alternatives."""
    kmax = len(d.curves)
    n = np.bincount(d.curve_idx, minlength=kmax).max()
    xs = np.full((kmax, n), np.nan)
    ys = np.full((kmax, n), np.nan)
    for k in range(kmax):
        sel = d.curve_idx == k
        xs[k, : sel.sum()] = d.x[sel]
        ys[k, : sel.sum()] = d.y[sel]
    base = guess_many(model.family, xs, ys, fixed_all)
    cands = [base]
    pos = d.x[d.x > 0]
    if pos.size and kmax <= 50:
        for q in (0.25, 0.5, 0.75):
            alt = base.copy()
            alt[:, 3] = np.where(layout.index[:, 3] >= 0, np.exp(np.quantile(np.log(pos), q)), alt[:, 3])
            cands.append(alt)
        flip = base.copy()
        flip[:, 0] = np.where(layout.index[:, 0] >= 0, -flip[:, 0], flip[:, 0])
        cands.append(flip)
    return [layout.pack(c) for c in cands]


def fit(
    data: pd.DataFrame,
    x: str,
    y: str,
    model: str | Model = "LL.4",
    curve: str | None = None,
    shared: Sequence[str] = (),
    fixed: dict[str, float] | None = None,
    *,
    nan_policy: Literal["raise", "omit"] = "raise",
    se: Literal["hessian", "jtj"] = "hessian",
    robust: str | None = None,
    robust_scale: float | None = None,
    start: dict[str, float] | None = None,
    level: float = 0.95,
) -> DoseResponseFit:
    """Fit a dose–response model by least squares, as drc's ``drm``.

    Parameters
    ----------
    data
        Long table, one row per observation.
    x, y
        Column names of the dose (concentration, >= 0; zero doses are ordinary
        points) and the response.
    model
        ``"LL.2"``, ``"LL.3"``, ``"LL.4"`` (default), ``"LL.5"``, ``"W1.4"``, ``"W2.4"``
        (see :mod:`nplab.doseresponse.models`).
    curve
        Column splitting the data into curves (drc ``curveid``), or None.
    shared
        Parameters common to all curves (drc ``pmodels``), e.g. ``("bottom", "top")``.
    fixed
        ``{parameter: value}`` held fixed, e.g. ``{"bottom": 0, "top": 100}``.
    nan_policy
        ``"raise"`` (default): a missing dose/response/curve label is an
        :class:`~nplab.errors.InputError` naming its row; ``"omit"`` drops such rows.
    se
        ``"hessian"`` (drc): covariance from the observed Hessian of the RSS;
        ``"jtj"``: Gauss–Newton ``s^2 (J^T J)^-1``.
    robust
        None (least squares) or a robust loss of ``scipy.optimize.least_squares``:
        ``"huber"``, ``"soft_l1"``, ``"cauchy"``, ``"arctan"``; residuals are scaled by
        ``robust_scale`` (default 1.4826 * MAD of the least-squares residuals).
        Standard errors then use the same formula at the robust estimate
        (approximate).
    start
        Optional starting values ``{parameter: value}`` (all curves).
    level
        Confidence level of the parameter intervals.

    Returns
    -------
    DoseResponseFit
        ``params`` table (columns ``curve, parameter, estimate, se, t, p, ci_low,
        ci_high, shared``), ``residual_se``, ``df_resid``, ``rss``, ``success``,
        ``message``, ``predict``, ``ic``, ``relative_potency``.

    Notes
    -----
    Several curves without shared parameters are fitted by the batched
    Levenberg–Marquardt of :mod:`nplab.doseresponse.batch` (same minimum as a joint
    fit, whose Hessian is block-diagonal); the residual variance is pooled over curves
    as in drc (``fit_many`` offers per-curve variances). Otherwise MINPACK's LM
    (``scipy.optimize.least_squares``) is run from the self-starter and from
    alternative ic50/hill starts, keeping the lowest RSS. ic50 is iterated on the log
    scale so it stays positive.

    Raises
    ------
    InputError
        Missing columns, bad values, unknown model/parameters, or a curve that cannot
        be fitted at all (one concentration, flat data, fewer points than
        parameters). A fit that does not converge returns ``success=False`` instead.
    """
    mdl = get_model(model)
    check_level(level)
    fixed_user, shared_t = _check_spec(mdl, fixed, shared)
    if robust is not None and robust not in ROBUST_LOSSES:
        raise InputError(
            f"unknown robust loss {robust!r}", column="robust",
            expected="one of " + ", ".join(ROBUST_LOSSES),
        )
    if se not in ("hessian", "jtj"):
        raise InputError(f"unknown se method {se!r}", column="se", expected="'hessian' or 'jtj'")
    d = _prepare(data, x, y, curve, nan_policy)
    free = _free_names(mdl, fixed_user)
    fixed_all = _all_fixed(mdl, fixed_user)
    layout = Layout.build(mdl.family, len(d.curves), free, fixed_user, shared_t)
    # layout.build puts the model's own defaults in via 'free'; set them explicitly
    for j, pname in enumerate(PARAMETERS):
        if pname in fixed_all:
            layout.fixed_values[:, j] = fixed_all[pname]
    n_spec = len(free) - len(shared_t)
    counts = np.bincount(d.curve_idx, minlength=len(d.curves))
    for k in range(len(d.curves)):
        why = _degenerate(d, mdl, n_spec, k)
        if why:
            raise InputError(why, file=data.attrs.get("source"), column=y,
                             expected="responses that change over several concentrations")
        if counts[k] < n_spec:
            raise InputError(
                f"curve {d.curves[k]!r}: too few points ({counts[k]}) for {n_spec} "
                "curve-specific parameters", file=data.attrs.get("source"), column=y,
                expected=f"at least {n_spec} observations per curve",
            )
    if d.x.size < layout.n_free:
        raise InputError(
            f"too few points: {d.x.size} observations for {layout.n_free} parameters",
            file=data.attrs.get("source"), column=y,
            expected=f"at least {layout.n_free} observations",
        )
    if not shared_t and robust is None and len(d.curves) > 1:
        return _fit_independent(
            d, mdl, layout, fixed_user, fixed_all, se=se, variance="pooled", start=start,
            level=level, x=x, y=y, curve=curve, degenerate={},
        )
    starts = _starts(mdl, layout, d, fixed_all)
    if start:
        s0 = layout.full(starts[0])
        for key, val in start.items():
            if key not in PARAMETERS:
                raise InputError(f"unknown parameter {key!r} in start", column="start")
            s0[:, PARAMETERS.index(key)] = float(val)
        starts.insert(0, layout.pack(s0))
    best = None
    best_key: tuple[int, float] = (2, np.inf)
    for s in starts:
        if not np.all(np.isfinite(s)) or np.any(s[_is_ic50(layout)] <= 0):
            continue
        res = _least_squares(layout, d, s, None, None)
        if not np.all(np.isfinite(res.theta)):
            continue
        # Weibull type 1 and 2 are mirror images of each other when hill changes sign
        # and bottom/top swap; keep drc's orientation (bottom <= top) when it exists.
        # With shared parameters the mirrored log-logistic fit (hill < 0 on falling
        # data, bottom > top) is a different model -- "shared top" would then share
        # the lower asymptote -- so drc's orientation is preferred there too.
        full = layout.full(res.theta)
        orient = mdl.family in ("W1", "W2") or bool(shared_t)
        mirrored = orient and bool(np.any(full[:, 1] > full[:, 2]))
        key = (int(mirrored), float(res.cost))
        if best is None or key[0] < best_key[0] or (
            key[0] == best_key[0] and key[1] < best_key[1] - 1e-15 * max(best_key[1], 1)
        ):
            best, best_key = res, key
    if best is None:
        theta = starts[0]
        ok, msg = False, "no starting value gave a finite fit"
    else:
        theta = best.theta
        ok, msg = bool(best.success), str(best.message)
    if robust is not None and best is not None:
        r = d.y - layout.predict(theta, d.x, d.curve_idx)
        scale = robust_scale or float(1.4826 * np.median(np.abs(r - np.median(r))))
        scale = scale if scale > 0 else 1.0
        res = _least_squares(layout, d, theta, robust, scale)
        theta = res.theta
        ok, msg = bool(res.success), str(res.message)
        robust_scale = scale
    resid = d.y - layout.predict(theta, d.x, d.curve_idx)
    rss = float(resid @ resid)
    vcov, ok2, msg2 = _covariance(layout, theta, d, rss, se)
    if not ok2:
        # not identifiable (no residual df, singular or non-finite Hessian): no estimates,
        # so a script that ignores `success` cannot use an arbitrary IC50
        ok, msg = False, msg2 + "; estimates set to NaN"
        theta = np.full(np.shape(theta), np.nan)
    if ok:
        msg = "converged"
    return DoseResponseFit(
        model=mdl, curves=d.curves, layout=layout, theta=np.asarray(theta, float), vcov_dense=vcov,
        rss=rss, n_obs=int(d.x.size), success=ok, message=msg, fixed=fixed_user,
        shared=shared_t, level=level, x_col=x, y_col=y, curve_col=curve, data=d,
        se_method=se, robust=robust,
    )


def _covariance(
    layout: Layout, theta: np.ndarray, d: _Data, rss: float, se: str
) -> tuple[np.ndarray, bool, str]:
    m = theta.size
    df = d.x.size - m
    nan = np.full((m, m), np.nan)
    if df <= 0:
        return nan, False, "no residual degrees of freedom: standard errors not estimable"
    s2 = rss / df
    if se == "jtj":
        _, jac = layout.jacobian(theta, d.x, d.curve_idx)
        mat = jac.T @ jac
    else:
        mat = _hessian_rss(layout, theta, d) / 2.0
    if not np.all(np.isfinite(mat)):
        return nan, False, "non-finite Hessian: the fit is degenerate"
    inv = _scaled_inverse(mat[None])[0]
    if not np.all(np.isfinite(inv)):
        return nan, False, "singular Hessian: parameters not identifiable from these data"
    return s2 * inv, True, "converged"


def _scaled_inverse(mat: np.ndarray) -> np.ndarray:
    """Inverses of symmetric (N, p, p) matrices, NaN where singular or not positive definite.

    The test is made on the unit-diagonal matrix ``D^-1/2 M D^-1/2`` (D = diag M), so
    it does not depend on the units of the parameters (doses in mol/L, responses in pA).
    """
    mat = np.asarray(mat, dtype=float)
    p = mat.shape[-1]
    out = np.full(mat.shape, np.nan)
    with np.errstate(all="ignore"):
        diag = np.einsum("kpp->kp", mat)
        ok = np.all(np.isfinite(mat), axis=(1, 2)) & np.all(diag > 0, axis=1)
        if not ok.any():
            return out
        s = 1.0 / np.sqrt(diag[ok])
        scaled = mat[ok] * s[:, :, None] * s[:, None, :]
        w = np.linalg.eigvalsh(scaled)
        regular = w.min(axis=1) > np.maximum(np.abs(w).max(axis=1), 1e-300) * 1e-13
        inv = np.linalg.inv(np.where(regular[:, None, None], scaled, np.eye(p)))
        inv = inv * s[:, :, None] * s[:, None, :]
        inv[~regular] = np.nan
    out[np.flatnonzero(ok)] = inv
    return out


def _padded(d: _Data) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """(K, nmax) doses, responses, mask, and the per-curve counts."""
    k = len(d.curves)
    order = np.argsort(d.curve_idx, kind="stable")
    cidx = d.curve_idx[order]
    counts = np.bincount(cidx, minlength=k)
    nmax = int(counts.max()) if counts.size else 0
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    col = np.arange(order.size) - starts[cidx]
    xs = np.full((k, nmax), np.nan)
    ys = np.full((k, nmax), np.nan)
    xs[cidx, col] = d.x[order]
    ys[cidx, col] = d.y[order]
    return xs, ys, ~np.isnan(xs), counts


def _fit_independent(
    d: _Data,
    mdl: Model,
    layout: Layout,
    fixed_user: dict[str, float],
    fixed_all: dict[str, float],
    *,
    se: str,
    variance: str,
    start: dict[str, float] | None,
    level: float,
    x: str,
    y: str,
    curve: str | None,
    degenerate: dict[int, str],
) -> DoseResponseFit:
    """Independent curves (no shared parameters) with the batched LM of :mod:`.batch`."""
    family = mdl.family
    free = np.flatnonzero(layout.index[0] >= 0)
    p = free.size
    xs, ys, mask, counts = _padded(d)
    ncurve = len(d.curves)
    skip = np.zeros(ncurve, dtype=bool)
    skip[list(degenerate)] = True
    # too few points: per-curve variance needs df > 0; pooled variance only needs n >= p
    skip |= (counts <= p) if variance == "per_curve" else (counts < p)
    theta0 = guess_many(family, xs, ys, fixed_all)
    if start:
        for key, val in start.items():
            if key not in PARAMETERS:
                raise InputError(f"unknown parameter {key!r} in start", column="start")
            theta0[:, PARAMETERS.index(key)] = float(val)
    theta0[skip] = np.nan
    run = ~skip & np.all(np.isfinite(theta0), axis=1)
    theta = np.full((ncurve, 5), np.nan)
    rss = np.full(ncurve, np.nan)
    conv = np.zeros(ncurve, dtype=bool)
    if run.any():
        t, c, ok, _ = lm_many(family, xs[run], ys[run], mask[run], theta0[run], free)
        theta[run], rss[run], conv[run] = t, c, ok
    # alternative starts: every curve of a small fit, else the ones that did not converge
    # (large batches: skip step-like curves, |hill| > 8, whose hill diverges between two
    # doses -- other starts do not help them; they are continued below)
    # Weibull 1 and 2 are mirror images (hill -> -hill, bottom <-> top); as in fit(),
    # drc's orientation (bottom <= top) is kept when a start reaches it
    orient = family in ("W1", "W2")

    def mirrored(th: np.ndarray) -> np.ndarray:
        with np.errstate(invalid="ignore"):
            return np.asarray(orient & (th[..., 1] > th[..., 2]), dtype=bool)

    if ncurve > 50:
        retry = run & ((~conv & ~(np.abs(theta[:, 0]) > 8)) | mirrored(theta))
    else:
        retry = run.copy()
    if retry.any():
        rows = np.flatnonzero(retry)
        lx = np.sort(np.log(np.where(mask[rows] & (xs[rows] > 0), xs[rows], np.nan)), axis=1)
        npos = np.sum(np.isfinite(lx), axis=1)
        alts = []
        if 3 in free:
            for q in (0.25, 0.5, 0.75):
                alt = theta0[rows].copy()
                pick = np.clip(np.round(q * (npos - 1)).astype(int), 0, None)
                alt[:, 3] = np.where(npos > 0, np.exp(lx[np.arange(rows.size), pick]), np.nan)
                alts.append(alt)
        if 0 in free:
            alt = theta0[rows].copy()
            alt[:, 0] = -alt[:, 0]
            alts.append(alt)
        if alts:
            # all alternative starts of all retried curves in one batched call
            stack = np.concatenate(alts)
            src = np.tile(rows, len(alts))
            ok_alt = np.all(np.isfinite(stack), axis=1)
            stack, src = stack[ok_alt], src[ok_alt]
            if src.size:
                t, c, ok, _ = lm_many(family, xs[src], ys[src], mask[src], stack, free, max_iter=30)
                for i in np.argsort(c, kind="stable"):
                    k = src[i]
                    if not np.isfinite(c[i]):
                        continue
                    cand_m, cur_m = bool(mirrored(t[i])), bool(mirrored(theta[k]))
                    if cand_m and not cur_m and np.isfinite(rss[k]):
                        continue
                    if ((cur_m and not cand_m) or c[i] < rss[k] * (1 - 1e-12)
                            or not np.isfinite(rss[k])
                            or (ok[i] and not conv[k] and c[i] <= rss[k])):
                        theta[k], rss[k], conv[k] = t[i], c[i], ok[i]
    # curves still not converged (typically hill -> infinity between two doses, or an
    # asymptote running away): continue from the best point found so far
    cont = run & ~conv & np.all(np.isfinite(theta), axis=1)
    if cont.any():
        t, c, ok, _ = lm_many(family, xs[cont], ys[cont], mask[cont], theta[cont], free, max_iter=150)
        better = np.isfinite(c) & (c <= rss[cont]) & ~(mirrored(t) & ~mirrored(theta[cont]))
        idx = np.flatnonzero(cont)[better]
        theta[idx], rss[idx], conv[idx] = t[better], c[better], ok[better]
    # covariance blocks
    df_curve = np.maximum(counts - p, 0)
    fitted = np.isfinite(rss)
    if variance == "per_curve":
        s2 = np.where(df_curve > 0, rss / np.maximum(df_curve, 1), np.nan)
    else:
        # pooled over the curves that were fitted: a skipped (flat, one-concentration)
        # curve must not add residual df to the other curves' variance
        fit_ok = np.isfinite(rss)
        tot_df = int(counts[fit_ok].sum() - p * fit_ok.sum())
        s2 = np.full(ncurve, np.nansum(rss) / tot_df if tot_df > 0 else np.nan)
    blocks = np.full((ncurve, p, p), np.nan)
    messages = np.array(["converged"] * ncurve, dtype=object)
    success = conv.copy()
    messages[run & ~conv] = "did not converge (iteration limit); estimates unreliable"
    for k, why in degenerate.items():
        messages[k] = why
    messages[~run & ~np.isin(np.arange(ncurve), list(degenerate))] = (
        f"too few points for {p} parameters"
    )
    if fitted.any():
        if se == "jtj":
            _, jac = evaluate(family, np.where(mask, xs, 1.0)[fitted], theta[fitted][:, None, :], jacobian=True)
            jf = jac[..., free] * mask[fitted][..., None]
            mat = np.einsum("ikp,ikq->ipq", jf, jf)
        else:
            mat = hessian_many(family, xs[fitted], ys[fitted], mask[fitted], theta[fitted], free) / 2.0
        inv = _scaled_inverse(mat)
        regular = np.all(np.isfinite(inv), axis=(1, 2))
        with np.errstate(all="ignore"):
            blk = s2[fitted, None, None] * inv
        blocks[fitted] = blk
        fidx = np.flatnonzero(fitted)
        bad = fidx[~regular]
        success[bad] = False
        messages[bad] = "singular Hessian: parameters not identifiable from these data"
    no_df = fitted & (df_curve <= 0)
    messages[no_df] = "no residual degrees of freedom: standard errors not estimable"
    unidentifiable = np.flatnonzero(no_df | np.isin(np.arange(ncurve),
                                                    fidx[~regular] if fitted.any() else []))
    messages[unidentifiable] = messages[unidentifiable] + "; estimates set to NaN"
    theta[unidentifiable] = np.nan
    success &= fitted & (df_curve > 0)
    theta_vec = theta[:, free].reshape(-1)
    with np.errstate(invalid="ignore", divide="ignore"):
        rse = np.sqrt(rss / np.where(df_curve > 0, df_curve, np.nan))
    stats_table = pd.DataFrame({
        "curve": d.curves, "n_obs": counts, "df_resid": df_curve, "rss": rss,
        "residual_se": rse, "success": success, "message": messages.astype(str),
    })
    n_fail = int((~success).sum())
    msg = "converged" if n_fail == 0 else f"{n_fail} of {ncurve} curves failed (see curve_stats)"
    return DoseResponseFit(
        model=mdl, curves=d.curves, layout=layout, theta=theta_vec, vcov_dense=None,
        rss=float(np.nansum(rss)), n_obs=int(counts[fitted].sum()), success=n_fail == 0, message=msg,
        fixed=fixed_user, shared=(), level=level, x_col=x, y_col=y, curve_col=curve, data=d,
        se_method=se, robust=None, curve_stats=stats_table, vcov_blocks=blocks, variance=variance,
        n_unfitted_params=int(p * (~fitted).sum()),
    )


def fit_many(
    data: pd.DataFrame,
    x: str,
    y: str,
    curve: str,
    model: str | Model = "LL.4",
    fixed: dict[str, float] | None = None,
    *,
    nan_policy: Literal["raise", "omit"] = "raise",
    se: Literal["hessian", "jtj"] = "hessian",
    variance: Literal["per_curve", "pooled"] = "per_curve",
    start: dict[str, float] | None = None,
    level: float = 0.95,
) -> DoseResponseFit:
    """Fit thousands of independent curves at once (one per cell or well).

    Same model and fixed parameters for every curve, no shared parameters. All curves
    are fitted together by the batched Levenberg–Marquardt of
    :mod:`nplab.doseresponse.batch` (curves that do not converge are retried from
    alternative starting values). Unlike :func:`fit`, a curve that cannot be fitted
    (one concentration, flat, too few points, singular Hessian, no convergence) does
    not raise: its row in ``fit.curve_stats`` has ``success=False`` and a
    ``message``, and its standard errors are NaN.

    Parameters
    ----------
    data, x, y, curve, model, fixed, nan_policy, se, start, level
        As in :func:`fit` (``curve`` is required).
    variance
        ``"per_curve"`` (default): each curve's own residual variance and df, as a
        per-curve ``curve_fit`` loop; ``"pooled"``: one residual variance over all
        curves, as drc's ``drm`` with ``curveid``.

    Returns
    -------
    DoseResponseFit
        With ``curve_stats``: ``curve``, ``n_obs``, ``df_resid``, ``rss``,
        ``residual_se``, ``success``, ``message`` (one row per curve).
    """
    mdl = get_model(model)
    check_level(level)
    fixed_user, _ = _check_spec(mdl, fixed, ())
    if se not in ("hessian", "jtj"):
        raise InputError(f"unknown se method {se!r}", column="se", expected="'hessian' or 'jtj'")
    if variance not in ("per_curve", "pooled"):
        raise InputError(f"unknown variance {variance!r}", column="variance",
                         expected="'per_curve' or 'pooled'")
    d = _prepare(data, x, y, curve, nan_policy)
    free = _free_names(mdl, fixed_user)
    fixed_all = _all_fixed(mdl, fixed_user)
    layout = Layout.build(mdl.family, len(d.curves), free, fixed_user, ())
    for j, pname in enumerate(PARAMETERS):
        if pname in fixed_all:
            layout.fixed_values[:, j] = fixed_all[pname]
    xs, ys, _, _ = _padded(d)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        xsort = np.sort(xs, axis=1)
        n_conc = np.sum(np.diff(xsort, axis=1) > 0, axis=1) + 1
        flat = np.nanmax(ys, axis=1) == np.nanmin(ys, axis=1)
    degenerate = {}
    for k in np.flatnonzero((n_conc < 2) | flat):
        degenerate[int(k)] = _degenerate(d, mdl, len(free), int(k)) or "degenerate curve"
    return _fit_independent(
        d, mdl, layout, fixed_user, fixed_all, se=se, variance=variance, start=start,
        level=level, x=x, y=y, curve=curve, degenerate=degenerate,
    )
