"""Weighted standard-curve fitting and inverse prediction for many plates at once.

The unweighted least-squares fit of every plate comes from the batched fitter
:func:`nplab.doseresponse.fit_many` (drc's LL.4 / LL.5, parameter names ``hill, bottom,
top, ic50, asym``). Weighted fits (``1/y^2`` or a power-of-the-mean variance function)
start from it and are refined here by a batched, damped Gauss–Newton
(Levenberg–Marquardt) on the weighted residuals ``sqrt(w) (f(x) - y)``, with ic50 on the
log scale; power-of-the-mean weights are iterated (iteratively reweighted least
squares) because they depend on the fitted mean.

The parameter covariance is ``s^2 (J^T W J)^-1`` with ``s^2 = sum w r^2 / (n - p)``,
the Gauss–Newton covariance that R's ``nls`` reports (with ``weights = w``).

Inverse prediction (back-calculation) inverts the five-parameter log-logistic,

    x = ic50 * (((top - bottom) / (y - bottom)) ** (1 / asym) - 1) ** (1 / hill),

defined for responses strictly between the asymptotes; its gradient with respect to the
parameters is ``-(df/dtheta) / (df/dx)`` at the back-calculated x (implicit function
theorem).

References
----------
Ritz C, Baty F, Streibig JC, Gerhard D (2015) Dose-response analysis using R. PLoS ONE
10:e0146021. Bates DM, Watts DG (1988) Nonlinear Regression Analysis and Its
Applications, Wiley, sect. 2.3 (Gauss–Newton covariance). Davidian M, Giltinan DM (1995)
Nonlinear Models for Repeated Measurement Data, ch. 2 (power-of-the-mean variance, IRLS).
Marquardt DW (1963) J Soc Ind Appl Math 11:431-441.
"""

from __future__ import annotations

import numpy as np

from nplab.doseresponse import evaluate

__all__ = ["covariance_many", "inverse", "refine_weighted"]


def _resid_jac(
    x: np.ndarray, y: np.ndarray, sw: np.ndarray, full: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    f, jac = evaluate("LL", x, full[:, None, :], jacobian=True)
    r = sw * (f - y)
    j = jac[..., free] * sw[..., None]
    col = int(np.flatnonzero(free == 3)[0])
    j[..., col] *= full[:, 3][:, None]  # d/d log(ic50)
    return np.where(sw > 0, r, 0.0), j


def refine_weighted(
    x: np.ndarray,
    y: np.ndarray,
    w: np.ndarray,
    theta: np.ndarray,
    free: np.ndarray,
    *,
    max_iter: int = 200,
    tol: float = 1e-12,
) -> tuple[np.ndarray, np.ndarray]:
    """Minimise ``sum w (f(x) - y)^2`` for N curves at once (log-logistic family).

    Parameters
    ----------
    x, y, w
        (N, n) doses, responses and weights (weight 0 marks padding).
    theta
        (N, 5) starting parameters (drc order); fixed entries are kept.
    free
        Indices of the estimated parameters (must include 3, ic50).

    Returns
    -------
    theta, converged
        (N, 5) estimates and a boolean per curve.
    """
    theta = np.array(theta, dtype=float)
    sw = np.sqrt(np.where(np.isfinite(w) & np.isfinite(y), w, 0.0))
    y = np.where(sw > 0, y, 0.0)
    x = np.where(sw > 0, x, 1.0)
    lam = np.full(theta.shape[0], 1e-3)
    done = ~np.all(np.isfinite(theta), axis=1)
    r, j = _resid_jac(x, y, sw, theta, free)
    cost = np.sum(r * r, axis=1)
    for _ in range(max_iter):
        act = np.flatnonzero(~done)
        if act.size == 0:
            break
        ja, ra = j[act], r[act]
        a = np.einsum("ikp,ikq->ipq", ja, ja)
        g = np.einsum("ikp,ik->ip", ja, ra)
        diag = np.einsum("ipp->ip", a)
        damp = a + lam[act, None, None] * np.eye(free.size)[None] * np.maximum(diag, 1e-12)[:, :, None]
        try:
            step = -np.linalg.solve(damp, g[..., None])[..., 0]
        except np.linalg.LinAlgError:
            step = np.stack([-np.linalg.lstsq(m, v, rcond=None)[0] for m, v in zip(damp, g, strict=True)])
        trial = theta[act].copy()
        u = trial[:, free]
        col = int(np.flatnonzero(free == 3)[0])
        u[:, col] = np.log(u[:, col])
        u = u + step
        u[:, col] = np.exp(np.clip(u[:, col], -700, 700))
        trial[:, free] = u
        rt, jt = _resid_jac(x[act], y[act], sw[act], trial, free)
        ct = np.sum(rt * rt, axis=1)
        better = np.isfinite(ct) & (ct <= cost[act])
        idx = act[better]
        rel = np.abs(cost[idx] - ct[better]) <= tol * np.maximum(cost[idx], 1e-300)
        theta[idx], r[idx], j[idx], cost[idx] = trial[better], rt[better], jt[better], ct[better]
        lam[idx] = np.maximum(lam[idx] / 3.0, 1e-12)
        lam[act[~better]] *= 4.0
        small = np.max(np.abs(step), axis=1) < 1e-10
        done[idx[rel]] = True
        done[act[small]] = True
        done[act[lam[act] > 1e12]] = True
    converged = np.isfinite(cost) & (lam < 1e10)
    return theta, converged


def covariance_many(
    x: np.ndarray, y: np.ndarray, w: np.ndarray, theta: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Gauss–Newton covariance ``s^2 (J^T W J)^-1`` per curve (natural parameters).

    Returns
    -------
    cov, s2, df
        (N, p, p) covariance of the free parameters, residual variance and residual df.
    """
    ok = np.isfinite(w) & np.isfinite(y) & (w > 0)
    wz = np.where(ok, w, 0.0)
    xz = np.where(ok, x, 1.0)
    f, jac = evaluate("LL", xz, theta[:, None, :], jacobian=True)
    r = np.where(ok, f - np.where(ok, y, 0.0), 0.0)
    jf = jac[..., free]
    a = np.einsum("ik,ikp,ikq->ipq", wz, jf, jf)
    df = ok.sum(axis=1) - free.size
    with np.errstate(invalid="ignore", divide="ignore"):
        s2 = np.where(df > 0, np.sum(wz * r * r, axis=1) / np.maximum(df, 1), np.nan)
    cov = np.full(a.shape, np.nan)
    for k in range(a.shape[0]):  # small p x p inverses; singular ones stay NaN
        if np.all(np.isfinite(a[k])) and np.isfinite(s2[k]):
            try:
                cov[k] = s2[k] * np.linalg.inv(a[k])
            except np.linalg.LinAlgError:
                pass
    return cov, s2, df


def inverse(
    y: np.ndarray, theta: np.ndarray, free: np.ndarray
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Back-calculate concentrations from responses, with gradients.

    Parameters
    ----------
    y
        (m,) responses.
    theta
        (m, 5) parameters of the curve each response is read on.
    free
        Indices of the estimated parameters.

    Returns
    -------
    x, grad, dxdy
        (m,) concentrations (NaN outside the open interval between the asymptotes),
        (m, p) derivatives with respect to the free parameters and (m,) dx/dy.
    """
    y = np.asarray(y, dtype=float)
    b, c, d, e, f = (theta[:, k] for k in range(5))
    with np.errstate(all="ignore"):
        ratio = (d - c) / (y - c)
        inner = ratio ** (1.0 / f) - 1.0
        x = e * inner ** (1.0 / b)
    good = np.isfinite(x) & (ratio > 1) & (x > 0)
    x = np.where(good, x, np.nan)
    xe = np.where(good, x, 1.0)
    _, jac = evaluate("LL", xe, theta, jacobian=True)
    dfdx = -(theta[:, 3] / xe) * jac[:, 3]
    with np.errstate(all="ignore"):
        dxdy = np.where(good, 1.0 / dfdx, np.nan)
        grad = -jac[:, free] * dxdy[:, None]
    return x, grad, dxdy
