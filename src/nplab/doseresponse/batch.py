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

__all__ = ["hessian_many", "lm_many"]


def _resid_jac(
    family: str, x: np.ndarray, y: np.ndarray, w: np.ndarray, full: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Masked residuals (N, n) and Jacobian wrt the free log-coordinates (N, n, p)."""
    if family == "LL" and 4 not in free and np.all(full[:, 4] == 1.0):
        return _resid_jac_ll4(x, y, w, full, free)
    f, jac = evaluate(family, x, full[:, None, :], jacobian=True)
    r = np.where(w, f - y, 0.0)
    j = jac[..., free] * w[..., None]
    # d/d log(ic50) = ic50 * d/d ic50
    if 3 in free:
        col = int(np.flatnonzero(free == 3)[0])
        j[..., col] *= full[:, 3][:, None]
    return r, j


def _resid_jac_ll4(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, full: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """Fast path of :func:`_resid_jac` for the log-logistic family with asym = 1.

    Same formulas as :func:`nplab.doseresponse.models.evaluate` (LL, f = 1):
    s = 1 / (1 + exp(z)), z = b (log x - log e), dy/dz = -(d - c) s (1 - s).
    """
    b, c, d, e = full[:, 0:1], full[:, 1:2], full[:, 2:3], full[:, 3:4]
    zero = x <= 0
    with np.errstate(divide="ignore", invalid="ignore", over="ignore"):
        logr = np.where(zero, 0.0, np.log(np.where(zero, 1.0, x))) - np.log(e)
        z = b * logr
        z = np.where(zero, np.where(b >= 0, -np.inf, np.inf), z)
        s = expit(-z)
        amp = d - c
        r = np.where(w, c + amp * s - y, 0.0)
        dz = -amp * s * (1.0 - s) * w
    cols = []
    for j in free:
        if j == 0:
            cols.append(np.where(zero, 0.0, dz * logr))
        elif j == 1:
            cols.append((1.0 - s) * w)
        elif j == 2:
            cols.append(s * w)
        else:  # j == 3, derivative with respect to log(ic50)
            cols.append(-dz * b)
    return r, np.stack(cols, axis=-1)


def _to_full(u: np.ndarray, base: np.ndarray, free: np.ndarray) -> np.ndarray:
    full = base.copy()
    full[:, free] = u
    if 3 in free:
        col = int(np.flatnonzero(free == 3)[0])
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
    xtol: float = 1e-10,
    ftol: float = 0.0,
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
    max_iter, xtol, ftol
        Iteration limit; convergence when the relative step is below ``xtol`` or the
        relative decrease of the RSS of an accepted step is below ``ftol``.

    Returns
    -------
    theta : (N, 5) estimates
    rss : (N,) residual sums of squares
    converged : (N,) bool
    n_iter : (N,) iterations used
    """
    free = np.asarray(free, dtype=int)
    n_curves = theta0.shape[0]
    w = mask.astype(bool)
    xs = np.where(w, x, 1.0)
    ys = np.where(w, y, 0.0)
    base = theta0.astype(float).copy()
    u = base[:, free].copy()
    if 3 in free:
        col = int(np.flatnonzero(free == 3)[0])
        u[:, col] = np.log(base[:, 3])
    full = _to_full(u, base, free)
    r, j = _resid_jac(family, xs, ys, w, full, free)
    cost = np.einsum("ij,ij->i", r, r)
    lam = np.full(n_curves, 1e-3)
    nu = np.full(n_curves, 2.0)
    converged = np.zeros(n_curves, dtype=bool)
    n_iter = np.zeros(n_curves, dtype=int)
    active = np.flatnonzero(np.isfinite(cost))
    p = free.size
    eye = np.eye(p)
    with np.errstate(all="ignore"):
        for _ in range(max_iter):
            if active.size == 0:
                break
            ja, ra = j[active], r[active]
            jt = np.swapaxes(ja, 1, 2)
            a = jt @ ja
            g = (jt @ ra[..., None])[..., 0]
            diag = np.einsum("ipp->ip", a)
            diag = np.maximum(diag, 1e-12 * np.maximum(diag.max(axis=1, keepdims=True), 1e-300))
            lhs = a + lam[active, None, None] * diag[:, :, None] * eye
            try:
                delta = -np.linalg.solve(lhs, g[..., None])[..., 0]
            except np.linalg.LinAlgError:
                delta = np.zeros_like(g)
                for i in range(active.size):
                    try:
                        delta[i] = -np.linalg.solve(lhs[i], g[i])
                    except np.linalg.LinAlgError:
                        delta[i] = 0.0
            u_new = u[active] + delta
            full_new = _to_full(u_new, base[active], free)
            r_new, j_new = _resid_jac(family, xs[active], ys[active], w[active], full_new, free)
            cost_new = np.sum(r_new * r_new, axis=1)
            # gain ratio: actual / predicted decrease
            ad = (a @ delta[..., None])[..., 0]
            pred = -(2 * np.sum(delta * g, axis=1) + np.sum(delta * ad, axis=1))
            actual = cost[active] - cost_new
            ok = np.isfinite(cost_new) & (actual >= 0) & np.all(np.isfinite(u_new), axis=1)
            rho = np.where(pred > 0, actual / np.where(pred > 0, pred, 1.0), 0.0)
            idx_ok = active[ok]
            u[idx_ok] = u_new[ok]
            r[idx_ok] = r_new[ok]
            j[idx_ok] = j_new[ok]
            old_cost = cost[idx_ok].copy()
            cost[idx_ok] = cost_new[ok]
            lam[idx_ok] *= np.maximum(1.0 / 3.0, 1.0 - (2.0 * rho[ok] - 1.0) ** 3)
            nu[idx_ok] = 2.0
            bad = active[~ok]
            lam[bad] *= nu[bad]
            nu[bad] *= 2.0
            n_iter[active] += 1
            step_small = np.linalg.norm(delta, axis=1) <= xtol * (np.linalg.norm(u[active], axis=1) + xtol)
            done = step_small.copy()
            done[ok] |= (old_cost - cost[idx_ok]) <= ftol * np.maximum(old_cost, 1e-300)
            grad_small = np.max(np.abs(g), axis=1) <= 1e-15 * np.maximum(cost[active], 1e-300)
            done |= grad_small
            done |= lam[active] > 1e16
            converged[active[done]] = lam[active[done]] <= 1e16
            active = active[~done]
    theta = _to_full(u, base, free)
    return theta, cost, converged, n_iter


def hessian_many(
    family: str, x: np.ndarray, y: np.ndarray, mask: np.ndarray, theta: np.ndarray, free: np.ndarray
) -> np.ndarray:
    """Observed Hessians of the RSS, (N, p, p), by central differences of the gradient."""
    free = np.asarray(free, dtype=int)
    w = mask.astype(bool)
    xs = np.where(w, x, 1.0)
    ys = np.where(w, y, 0.0)

    def grad(full: np.ndarray) -> np.ndarray:
        f, jac = evaluate(family, xs, full[:, None, :], jacobian=True)
        r = np.where(w, f - ys, 0.0)
        return 2.0 * np.einsum("ikp,ik->ip", jac[..., free] * w[..., None], r)

    n_curves, p = theta.shape[0], free.size
    h = np.empty((n_curves, p, p))
    with np.errstate(all="ignore"):
        for a, jpos in enumerate(free):
            step = 6e-6 * np.maximum(np.abs(theta[:, jpos]), 1e-3)
            tp, tm = theta.copy(), theta.copy()
            tp[:, jpos] += step
            tm[:, jpos] -= step
            h[:, :, a] = (grad(tp) - grad(tm)) / (2 * step[:, None])
    return (h + np.swapaxes(h, 1, 2)) / 2
