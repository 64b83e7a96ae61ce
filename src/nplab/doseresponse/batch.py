"""Batched Levenberg–Marquardt for many independent dose–response curves.

All curves are advanced together: the residuals and Jacobians of N curves form
(N, n) and (N, n, p) arrays, the N normal-equation systems
``(J^T J + lambda * diag(J^T J)) delta = -J^T r`` are solved with one batched
``numpy.linalg.solve``, and the damping ``lambda`` is adapted per curve (Marquardt
1963; Nielsen's update, Madsen, Nielsen & Tingleff 2004, "Methods for non-linear least
squares problems", DTU, sect. 3.2). Only curves that have not converged are processed
in each iteration. ic50 is iterated on the log scale (it stays positive), and curves
are padded with masked points so they may have different numbers of observations.

This is the engine behind :func:`nplab.doseresponse.fit_many` and behind
:func:`nplab.doseresponse.fit` for several curves without shared parameters.
"""

from __future__ import annotations

import numpy as np
from scipy.special import expit

from nplab.doseresponse.models import evaluate

__all__ = ["hessian_many", "lm_many", "step_floor"]


def step_floor(param: int, y_scale: np.ndarray | float) -> np.ndarray | float:
    """Smallest magnitude used to size a finite-difference step of parameter ``param``.

    Steps are relative (``h = eps * max(|theta|, floor)``) so that they follow the units
    of the data: ``bottom``/``top`` are in response units (floor 1e-3 of the largest
    |response|), ``ic50`` is in dose units and always > 0 (no absolute floor: molar
    concentrations such as 1e-9 must work), ``hill``/``asym`` are dimensionless.
    """
    if param in (1, 2):
        return 1e-3 * np.maximum(np.asarray(y_scale, dtype=float), 1e-300)
    if param == 3:
        return 1e-300
    return 1e-3


def _resid_jac(
    family: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, full: np.ndarray, free: np.ndarray,
    logx: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Masked residuals (N, n) and Jacobian wrt the free log-coordinates (N, n, p)."""
    if family == "LL" and 4 not in free and np.all(full[:, 4] == 1.0):
        return _resid_jac_ll4(x, y, w, full, free, logx)
    f, jac = evaluate(family, x, full[:, None, :], jacobian=True)
    r = np.where(w, f - y, 0.0)
    j = jac[..., free] * w[..., None]
    # d/d log(ic50) = ic50 * d/d ic50
    if 3 in free:
        col = int(np.flatnonzero(free == 3)[0])
        j[..., col] *= full[:, 3][:, None]
    return r, j


def _resid_jac_ll4(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, full: np.ndarray, free: np.ndarray,
    logx: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Fast path of :func:`_resid_jac` for the log-logistic family with asym = 1.

    Same formulas as :func:`nplab.doseresponse.models.evaluate` (LL, f = 1):
    s = 1 / (1 + exp(z)), z = b (log x - log e), dy/dz = -(d - c) s (1 - s).
    ``logx`` is log x with 0 at zero doses (precomputed by the caller).
    """
    b, c, d, e = full[:, 0:1], full[:, 1:2], full[:, 2:3], full[:, 3:4]
    zero = x <= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        if logx is None:
            logx = np.log(np.where(zero, 1.0, x))
        logr = logx - np.log(e)
        z = b * logr
        if zero.any():
            z = np.where(zero, np.where(b >= 0, -np.inf, np.inf), z)
        s = expit(-z)
        amp = d - c
        r = (c + amp * s - y) * w
        dz = -amp * s * (1.0 - s) * w
    out = np.empty((*x.shape, free.size))
    for a, j in enumerate(free):
        if j == 0:
            out[..., a] = dz * logr
            if zero.any():
                out[..., a][zero] = 0.0
        elif j == 1:
            out[..., a] = (1.0 - s) * w
        elif j == 2:
            out[..., a] = s * w
        else:  # j == 3, derivative with respect to log(ic50)
            out[..., a] = -dz * b
    return r, out


def _to_full(u: np.ndarray, base: np.ndarray, free: np.ndarray, col: int | None = None) -> np.ndarray:
    """Natural parameters (N, 5) from the free log-coordinates ``u``.

    ``col``: position of log(ic50) in ``u`` (-1: ic50 is fixed), found here if None.
    """
    full = base.copy()
    full[:, free] = u
    if col is None:
        col = int(np.flatnonzero(free == 3)[0]) if 3 in free else -1
    if col >= 0:
        with np.errstate(over="ignore"):
            full[:, 3] = np.exp(u[:, col])
    return full


def lm_many(
    family: str,
    x: np.ndarray,
    y: np.ndarray,
    mask: np.ndarray,
    theta0: np.ndarray,
    free: np.ndarray,
    *,
    max_iter: int = 100,
    xtol: float = 1e-8,
) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
    """Fit N independent curves by batched Levenberg–Marquardt.

    Parameters
    ----------
    family
        ``"LL"``, ``"W1"`` or ``"W2"``.
    x, y, mask
        (N, n) doses, responses and a boolean mask of real (non-padding) points.
    theta0
        (N, 5) starting values (fixed parameters hold their fixed values).
    free
        Positions (0–4) of the estimated parameters.
    max_iter, xtol
        Iteration limit; a curve has converged when every coordinate of its step is
        below ``xtol * (|coordinate| + scale)`` (scale: the response range for bottom
        and top, 1 for hill, log ic50 and asym), or the gradient vanishes.

    Returns
    -------
    theta : (N, 5) estimates
    rss : (N,) residual sums of squares
    converged : (N,) bool
    n_iter : (N,) iterations used
    """
    free = np.asarray(free, dtype=int)
    n_curves = theta0.shape[0]
    p = free.size
    w = mask.astype(float)
    zero = mask & (x <= 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        lx_all = np.where(mask & (x > 0), np.log(np.where(mask & (x > 0), x, 1.0)), 0.0)
    xs_all = np.where(mask, np.where(zero, 0.0, x), 1.0)
    ys_all = np.where(mask, y, 0.0)
    base_all = theta0.astype(float).copy()
    # per-coordinate scale of the convergence test: the response range for bottom/top
    with np.errstate(invalid="ignore"):
        yr = np.nanmax(np.where(mask, y, np.nan), axis=1) - np.nanmin(np.where(mask, y, np.nan), axis=1)
    yr = np.where(np.isfinite(yr) & (yr > 0), yr, 1.0)
    scale_all = np.ones((n_curves, free.size))
    for a_, j_ in enumerate(free):
        if j_ in (1, 2):
            scale_all[:, a_] = yr
    u0 = base_all[:, free].copy()
    if 3 in free:
        col3 = int(np.flatnonzero(free == 3)[0])
        u0[:, col3] = np.log(base_all[:, 3])
    # outputs
    u_out = u0.copy()
    cost_out = np.full(n_curves, np.nan)
    conv_out = np.zeros(n_curves, dtype=bool)
    it_out = np.zeros(n_curves, dtype=int)
    # compacted working set
    ids = np.flatnonzero(np.all(np.isfinite(u0), axis=1))
    u, base = u0[ids], base_all[ids]
    xs, ys, ws, lx, sc = xs_all[ids], ys_all[ids], w[ids], lx_all[ids], scale_all[ids]
    with np.errstate(all="ignore"):
        col_e = int(np.flatnonzero(free == 3)[0]) if 3 in free else -1
        # the LL (asym = 1) test of _resid_jac, made once instead of at every iteration
        ll_fast = bool(family == "LL" and 4 not in free and np.all(base[:, 4] == 1.0))

        def resid_jac(xs, ys, ws, full, free, lx):  # same arguments as _resid_jac_ll4
            if ll_fast:
                return _resid_jac_ll4(xs, ys, ws, full, free, lx)
            return _resid_jac(family, xs, ys, ws, full, free, lx)
        r, j = resid_jac(xs, ys, ws, _to_full(u, base, free, col_e), free, lx)
    cost = np.sum(r * r, axis=1)
    lam = np.full(ids.size, 1e-3)
    nu = np.full(ids.size, 2.0)
    its = np.zeros(ids.size, dtype=int)
    eye = np.eye(p)
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if ids.size == 0:
                break
            jt = np.swapaxes(j, 1, 2)
            # a contiguous J^T makes the batched matmul ~2x faster (same sums, same result)
            a = np.ascontiguousarray(jt) @ j
            g = (jt @ r[..., None])[..., 0]
            diag = np.einsum("ipp->ip", a)
            diag = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
            lhs = a + (lam[:, None] * diag)[:, :, None] * eye
            try:
                delta = -np.linalg.solve(lhs, g[..., None])[..., 0]
            except np.linalg.LinAlgError:
                delta = np.zeros_like(g)
                for i in range(ids.size):
                    try:
                        delta[i] = -np.linalg.solve(lhs[i], g[i])
                    except np.linalg.LinAlgError:
                        delta[i] = 0.0
            u_new = u + delta
            r_new, j_new = resid_jac(xs, ys, ws, _to_full(u_new, base, free, col_e), free, lx)
            cost_new = np.sum(r_new * r_new, axis=1)
            ad = (a @ delta[..., None])[..., 0]
            pred = -(2 * np.sum(delta * g, axis=1) + np.sum(delta * ad, axis=1))
            actual = cost - cost_new
            ok = np.isfinite(cost_new) & (actual >= 0) & np.all(np.isfinite(u_new), axis=1)
            rho = np.where(pred > 0, actual / np.where(pred > 0, pred, 1.0), 0.0)
            # keep the new arrays, restoring the old values of the rejected steps only
            bad = ~ok
            if bad.any():
                u_new[bad] = u[bad]
                r_new[bad] = r[bad]
                j_new[bad] = j[bad]
                cost_new[bad] = cost[bad]
            u, r, j, cost = u_new, r_new, j_new, cost_new
            lam = np.where(ok, lam * np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho - 1.0) ** 3), lam * nu)
            nu = np.where(ok, 2.0, nu * 2.0)
            its += 1
            done = np.all(np.abs(delta) <= xtol * (np.abs(u) + sc), axis=1)
            done |= np.max(np.abs(g), axis=1) <= 1e-15 * np.maximum(cost, 1e-300)
            stuck = lam > 1e16
            done |= stuck
            if done.any():
                fin = ids[done]
                u_out[fin] = u[done]
                cost_out[fin] = cost[done]
                conv_out[fin] = ~stuck[done]
                it_out[fin] = its[done]
                keep = ~done
                ids, u, base, xs, ys, ws, lx = ids[keep], u[keep], base[keep], xs[keep], ys[keep], ws[keep], lx[keep]
                sc = sc[keep]
                r, j, cost, lam, nu, its = r[keep], j[keep], cost[keep], lam[keep], nu[keep], its[keep]
    if ids.size:
        u_out[ids] = u
        cost_out[ids] = cost
        it_out[ids] = its
    theta = _to_full(u_out, base_all, free)
    return theta, cost_out, conv_out, it_out


def hessian_many(
    family: str, x: np.ndarray, y: np.ndarray, mask: np.ndarray, theta: np.ndarray, free: np.ndarray
) -> np.ndarray:
    """Observed Hessians of the RSS, (N, p, p), by central differences of the gradient.

    The log-logistic family with asym = 1 (LL.2 to LL.5 with f fixed at 1) uses the
    exact second derivatives instead (:func:`_hessian_ll4`).
    """
    free = np.asarray(free, dtype=int)
    w = mask.astype(bool)
    xs = np.where(w, x, 1.0)
    ys = np.where(w, y, 0.0)

    fast = family == "LL" and 4 not in free and np.all(theta[:, 4] == 1.0)
    wf = w.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        lx = np.where(w & (x > 0), np.log(np.where(w & (x > 0), x, 1.0)), 0.0)
    col3 = int(np.flatnonzero(free == 3)[0]) if 3 in free else -1

    def grad(full: np.ndarray) -> np.ndarray:
        if fast:
            r, jac = _resid_jac_ll4(np.where(w, x, 1.0), ys, wf, full, free, lx)
            if col3 >= 0:  # log(ic50) -> ic50 coordinates
                jac[..., col3] /= full[:, 3][:, None]
            return 2.0 * (np.swapaxes(jac, 1, 2) @ r[..., None])[..., 0]
        f, jac = evaluate(family, xs, full[:, None, :], jacobian=True)
        r = np.where(w, f - ys, 0.0)
        return 2.0 * np.einsum("ikp,ik->ip", jac[..., free] * w[..., None], r)

    if fast:
        return _hessian_ll4(x, ys, w, lx, theta, free)
    n_curves, p = theta.shape[0], free.size
    h = np.empty((n_curves, p, p))
    y_scale = np.max(np.abs(ys), axis=1)
    with np.errstate(all="ignore"):
        for a, jpos in enumerate(free):
            step = 6e-6 * np.maximum(np.abs(theta[:, jpos]), step_floor(int(jpos), y_scale))
            tp, tm = theta.copy(), theta.copy()
            tp[:, jpos] += step
            tm[:, jpos] -= step
            h[:, :, a] = (grad(tp) - grad(tm)) / (2 * step[:, None])
    return (h + np.swapaxes(h, 1, 2)) / 2


def _hessian_ll4(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, lx: np.ndarray, theta: np.ndarray, free: np.ndarray
) -> np.ndarray:
    """Exact Hessians of the RSS for the log-logistic model with asym = 1, (N, p, p).

    f = c + (d - c) s, s = 1 / (1 + exp(z)), z = b (log x - log e) (Ritz et al. 2015,
    "Dose-response analysis using R", PLoS ONE 10:e0146021, LL.4), in the natural
    coordinates (b, c, d, e). The Hessian of RSS = sum r^2 (r = f - y) is
    2 (J^T J + sum_k r_k d2f_k) (Bates & Watts 1988, "Nonlinear regression analysis and
    its applications", sect. 2.2), with ds/dz = -s (1 - s),
    d2s/dz2 = s (1 - s) (1 - 2 s). Zero doses (s = 0 or 1) contribute no curvature.
    """
    b, c, d, e = (theta[:, k][:, None] for k in range(4))
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        pos = w & (x > 0)
        z = np.where(pos, b * (lx - np.log(e)), np.where(b >= 0, -np.inf, np.inf))
        s = expit(-z)
        amp = d - c
        r = np.where(w, c + amp * s - y, 0.0)
        s1 = np.where(pos, -s * (1.0 - s), 0.0)
        s2 = np.where(pos, s * (1.0 - s) * (1.0 - 2.0 * s), 0.0)
        lr = np.where(pos, lx - np.log(e), 0.0)
        ze = -b / e
        wf = w.astype(float)
        # first derivatives (N, n, 4) and second derivatives (N, n, 4, 4) in (b, c, d, e)
        jac = np.empty((*x.shape, 4))
        jac[..., 0] = amp * s1 * lr
        jac[..., 1] = (1.0 - s) * wf
        jac[..., 2] = s * wf
        jac[..., 3] = amp * s1 * ze
        sec = np.zeros((*x.shape, 4, 4))
        sec[..., 0, 0] = amp * s2 * lr * lr
        sec[..., 0, 3] = sec[..., 3, 0] = amp * (s2 * ze * lr - s1 / e)
        sec[..., 3, 3] = amp * (s2 * ze * ze + s1 * b / (e * e))
        sec[..., 0, 1] = sec[..., 1, 0] = -s1 * lr
        sec[..., 0, 2] = sec[..., 2, 0] = s1 * lr
        sec[..., 1, 3] = sec[..., 3, 1] = -s1 * ze
        sec[..., 2, 3] = sec[..., 3, 2] = s1 * ze
        jf = jac[..., free] * wf[..., None]
        sf = sec[..., free[:, None], free[None, :]]
        h = np.einsum("ikp,ikq->ipq", jf, jf) + np.einsum("ik,ikpq->ipq", r, sf)
    return 2.0 * h
