"""REML deviance of a linear mixed model in lme4's parametrisation, and Satterthwaite df.

Private machinery of :mod:`nplab.stats.mixedlm`.  The model is, per subject *i*,
``yᵢ = Xᵢβ + Zᵢbᵢ + εᵢ`` with ``bᵢ ~ N(0, σ²ΛΛᵀ)`` and ``εᵢ ~ N(0, σ²I)``; ``Λ`` is lower
triangular and ``θ`` its lower triangle column by column (lme4's ``theta``, Bates et al.
2015, J Stat Softw 67(1), §3).  The variance parameters are ``varpar = (θ, σ)`` as in
lmerTest (Kuznetsova, Brockhoff & Christensen 2017, J Stat Softw 82(13), §3):

* ``deviance(varpar)`` is −2 × the REML log-likelihood
  ``Σ log|Vᵢ| + log|Σ XᵢᵀVᵢ⁻¹Xᵢ| + Σ rᵢᵀVᵢ⁻¹rᵢ + (n − p) log 2π``;
* ``A = 2 H⁻¹``, ``H`` its Hessian at the optimum (numerical, Richardson-extrapolated
  central differences, as numDeriv's ``hessian`` that lmerTest calls), is the asymptotic
  covariance of ``varpar``;
* ``Cov(β̂)(varpar) = σ² (Σ XᵢᵀMᵢ⁻¹Xᵢ)⁻¹``, ``Mᵢ = ZᵢΛΛᵀZᵢᵀ + I``, with its Jacobian in
  closed form (lmerTest differentiates numerically; the values agree);
* for a contrast ``l``: ``ν = 2 (lᵀCl)² / (gᵀAg)``, ``gₖ = lᵀ (∂C/∂varparₖ) l``
  (Satterthwaite 1946; Giesbrecht & Burns 1985); for an F test of ``L`` (q rows) the q
  eigen-directions of ``LCLᵀ`` each get a ν and the F denominator df is
  ``2E/(E − q)``, ``E = Σ νₘ/(νₘ − 2)`` (Fai & Cornelius 1996), lmerTest's
  ``get_Fstat_ddf``.

The optimum itself is polished here (profiled REML deviance over θ, as lme4 optimises)
starting from statsmodels' estimate, so that all quantities are evaluated at the same,
accurately located optimum.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import optimize

__all__ = ["RemlFit", "f_ddf", "fit_reml", "satterthwaite_df"]


def _tri_index(q: int) -> tuple[np.ndarray, np.ndarray]:
    """Row/column indices of the lower triangle, column by column (lme4's theta order)."""
    rows, cols = [], []
    for j in range(q):
        for i in range(j, q):
            rows.append(i)
            cols.append(j)
    return np.array(rows), np.array(cols)


@dataclass
class _Groups:
    """Per-subject design, reduced once to the cross-products every evaluation needs.

    With ``Mᵢ = I + ZᵢΛΛᵀZᵢᵀ`` the Woodbury identity and the matrix determinant lemma give
    ``Mᵢ⁻¹ = I − ZᵢΛKᵢ⁻¹ΛᵀZᵢᵀ`` and ``log|Mᵢ| = log|Kᵢ|`` with the q × q matrix
    ``Kᵢ = I + ΛᵀZᵢᵀZᵢΛ`` (Henderson & Searle 1981, SIAM Rev 23(1):53-60; lme4 works with
    the same ``ΛᵀZᵀZΛ + I``, Bates et al. 2015 §3.2), so one evaluation is a batched q × q
    factorisation over the subjects instead of a dense nᵢ × nᵢ inverse per subject.
    """

    x: list
    z: list
    y: list
    n: int
    p: int
    q: int

    def __post_init__(self) -> None:
        self.xtx = sum(x.T @ x for x in self.x)
        self.ztz = np.stack([z.T @ z for z in self.z])  # (G, q, q)
        self.ztx = np.stack([z.T @ x for x, z in zip(self.x, self.z, strict=True)])  # (G, q, p)
        self.zty = np.stack([z.T @ y for y, z in zip(self.y, self.z, strict=True)])  # (G, q)
        self.x_all = np.concatenate(self.x)
        self.z_all = np.concatenate(self.z)
        self.y_all = np.concatenate(self.y)
        self.starts = np.cumsum([0, *(len(y) for y in self.y[:-1])])

    def lam(self, theta: np.ndarray) -> np.ndarray:
        r, c = _tri_index(self.q)
        out = np.zeros((self.q, self.q))
        out[r, c] = theta
        return out

    def parts(self, theta: np.ndarray):
        """Σ log|Mᵢ|, XᵀM⁻¹X, the GLS β̂, rᵀM⁻¹r (r = y − Xβ̂) and the stacked ZᵢᵀMᵢ⁻¹Xᵢ.

        The residual quadratic form is taken from the residuals themselves rather than as
        ``yᵀM⁻¹y − β̂ᵀXᵀM⁻¹y`` (no cancellation of large sums: the deviance stays smooth
        to rounding, which the numerical Hessian needs).
        """
        lam = self.lam(theta)
        k = lam.T @ self.ztz @ lam + np.eye(self.q)  # (G, q, q)
        logdet = float(np.sum(np.linalg.slogdet(k)[1]))
        kinv = np.linalg.inv(k)  # eigenvalues of Kᵢ are >= 1: well conditioned
        u = lam.T @ self.ztx  # (G, q, p): ΛᵀZᵢᵀXᵢ
        w = kinv @ u
        xmx = self.xtx - np.sum(np.swapaxes(u, 1, 2) @ w, axis=0)
        xmy = self.x_all.T @ self.y_all - np.einsum("gqp,gq->p", w, self.zty @ lam)
        beta = np.linalg.solve(xmx, xmy)
        resid = self.y_all - self.x_all @ beta
        ltzr = np.add.reduceat(self.z_all * resid[:, None], self.starts, axis=0) @ lam  # (G, q)
        rss = float(resid @ resid - np.einsum("gq,gqr,gr->", ltzr, kinv, ltzr))
        zmx = self.ztx - self.ztz @ lam @ w  # ZᵢᵀMᵢ⁻¹Xᵢ = ZᵢᵀXᵢ − ZᵢᵀZᵢΛKᵢ⁻¹ΛᵀZᵢᵀXᵢ
        return logdet, xmx, beta, rss, zmx

    def profiled(self, theta: np.ndarray) -> float:
        """REML deviance with σ² profiled out (lme4's objective)."""
        logdet, xmx, _, rss, _ = self.parts(theta)
        dof = self.n - self.p
        return float(logdet + np.linalg.slogdet(xmx)[1] + dof * (1 + np.log(2 * np.pi * rss / dof)))

    def deviance(self, varpar: np.ndarray) -> float:
        theta, sigma = varpar[:-1], varpar[-1]
        s2 = sigma * sigma
        logdet, xmx, _, rss, _ = self.parts(theta)
        dof = self.n - self.p
        return float(logdet + self.n * np.log(s2) + np.linalg.slogdet(xmx)[1] - self.p * np.log(s2)
                     + rss / s2 + dof * np.log(2 * np.pi))  # fmt: skip

    def cov_and_jacobian(self, varpar: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """Cov(β̂) and its derivatives w.r.t. each varpar (shape (k, p, p))."""
        theta, sigma = varpar[:-1], varpar[-1]
        lam = self.lam(theta)
        _, xmx, _, _, zmx = self.parts(theta)
        c0 = np.linalg.inv(xmx)
        cov = sigma**2 * c0
        r, c = _tri_index(self.q)
        jac = np.zeros((len(varpar), self.p, self.p))
        for k in range(len(theta)):
            e = np.zeros((self.q, self.q))
            e[r[k], c[k]] = 1.0
            dt = e @ lam.T + lam @ e.T
            d = np.sum(np.swapaxes(zmx, 1, 2) @ dt @ zmx, axis=0)
            jac[k] = sigma**2 * c0 @ d @ c0
        jac[-1] = 2 * sigma * c0
        return cov, jac


def _hessian(f, x: np.ndarray, rel: float = 1e-3, floor: float = 1e-4, levels: int = 4):
    """Numerical Hessian by central differences with Richardson extrapolation (as numDeriv)."""
    k = len(x)
    h0 = np.maximum(np.abs(x) * rel, floor)
    f0 = f(x)
    out = np.zeros((k, k))
    for i in range(k):
        for j in range(i, k):
            ests = []
            for lev in range(levels):
                hi, hj = h0[i] / 2**lev, h0[j] / 2**lev
                if i == j:
                    e = np.zeros(k)
                    e[i] = hi
                    val = (f(x + e) - 2 * f0 + f(x - e)) / hi**2
                else:
                    ei = np.zeros(k)
                    ej = np.zeros(k)
                    ei[i], ej[j] = hi, hj
                    val = (f(x + ei + ej) - f(x + ei - ej) - f(x - ei + ej) + f(x - ei - ej)) / (
                        4 * hi * hj
                    )
                ests.append(val)
            # Richardson: error O(h²), halving steps
            for m in range(1, levels):
                ests = [(4**m * ests[t + 1] - ests[t]) / (4**m - 1) for t in range(len(ests) - 1)]
            out[i, j] = out[j, i] = ests[0]
    return out


@dataclass
class RemlFit:
    """Polished REML optimum with everything Satterthwaite's df need."""

    theta: np.ndarray
    sigma: float
    beta: np.ndarray
    cov_beta: np.ndarray
    jac: np.ndarray  # (k, p, p)
    vcov_varpar: np.ndarray  # (k, k) = 2 H⁻¹
    deviance: float
    singular: bool
    lam: np.ndarray

    @property
    def cov_re(self) -> np.ndarray:
        return self.sigma**2 * self.lam @ self.lam.T


def fit_reml(x_li, z_li, y_li, cov_re_start: np.ndarray, scale_start: float) -> RemlFit:
    """Polish a REML fit (start: statsmodels' ``cov_re`` and ``scale``) and derive df inputs."""
    x_li = [np.asarray(a, float) for a in x_li]
    z_li = [np.asarray(a, float) for a in z_li]
    y_li = [np.asarray(a, float) for a in y_li]
    q = z_li[0].shape[1]
    g = _Groups(x_li, z_li, y_li, sum(len(y) for y in y_li), x_li[0].shape[1], q)
    rel = np.asarray(cov_re_start, float) / scale_start
    try:
        lam0 = np.linalg.cholesky(rel + 1e-12 * np.eye(q))
    except np.linalg.LinAlgError:
        w, v = np.linalg.eigh(rel)
        lam0 = np.linalg.cholesky(v @ np.diag(np.maximum(w, 1e-10)) @ v.T)
    r, c = _tri_index(q)
    theta0 = lam0[r, c]
    bounds = [(0.0, None) if r[k] == c[k] else (None, None) for k in range(len(theta0))]
    best = optimize.minimize(g.profiled, theta0, method="L-BFGS-B", bounds=bounds,
                             options={"ftol": 1e-15, "gtol": 1e-10, "maxiter": 2000})  # fmt: skip
    theta = best.x if best.fun <= g.profiled(theta0) else theta0
    # a second, derivative-free pass from there (bounded Nelder–Mead, as lme4's default);
    # the f tolerance is relative (an absolute 1e-13 is below the deviance's rounding at
    # |f| ~ 1e2 and left the simplex cycling to maxiter), x must still agree to 1e-10
    fatol = 1e-13 * max(1.0, abs(float(g.profiled(theta))))
    nm = optimize.minimize(g.profiled, theta, method="Nelder-Mead", bounds=bounds,
                           options={"xatol": 1e-10, "fatol": fatol, "maxiter": 4000})  # fmt: skip
    if nm.fun < g.profiled(theta):
        theta = nm.x
    _, _, beta, rss, _ = g.parts(theta)
    sigma = float(np.sqrt(rss / (g.n - g.p)))
    varpar = np.append(theta, sigma)
    diag = r == c
    singular = bool(np.any(theta[diag] < 1e-4))
    hess = _hessian(g.deviance, varpar)
    try:
        vcov_vp = 2 * np.linalg.inv(hess)
    except np.linalg.LinAlgError:
        vcov_vp = np.full_like(hess, np.nan)
    cov, jac = g.cov_and_jacobian(varpar)
    return RemlFit(theta=theta, sigma=sigma, beta=beta, cov_beta=cov, jac=jac,
                   vcov_varpar=vcov_vp, deviance=g.deviance(varpar), singular=singular,
                   lam=g.lam(theta))  # fmt: skip


def satterthwaite_df(fit: RemlFit, lvec: np.ndarray) -> float:
    """Satterthwaite df of the contrast ``lvec @ β``."""
    var = float(lvec @ fit.cov_beta @ lvec)
    grad = np.einsum("i,kij,j->k", lvec, fit.jac, lvec)
    denom = float(grad @ fit.vcov_varpar @ grad)
    return 2 * var * var / denom if denom > 0 else np.inf


def f_ddf(nu: np.ndarray, tol: float = 1e-8) -> float:
    """lmerTest's ``get_Fstat_ddf``: combine the per-direction df of an F test."""
    nu = np.asarray(nu, float)
    if len(nu) == 1:
        return float(nu[0])
    if np.all(np.abs(np.diff(nu)) < tol):
        return float(nu.mean())
    if np.any(nu <= 2):
        return 2.0
    e = float(np.sum(nu / (nu - 2)))
    return 2 * e / (e - len(nu))
