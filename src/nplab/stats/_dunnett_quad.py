"""Fast deterministic Dunnett probabilities: nested trapezoidal product rule.

Private engine behind :func:`nplab.stats.posthoc.dunnett_pvalues` and
:func:`nplab.stats.posthoc.dunnett_critical`.  Same integral as the reference path in
:mod:`nplab.stats.posthoc` (product correlation ``ρ_ij = λ_i λ_j``, Dunnett 1955, JASA
50:1096–1121)::

    P(max_i |T_i| ≥ t) = ∫ f_Z(z) g(t e^z) dz,   g(x) = ∫ φ(w) [1 − Π_i (1 − q_i(w, x))] dw,
    q_i = Φ̄((x − λ_i w)/σ_i) + Φ̄((x + λ_i w)/σ_i)   (one-sided: the first term only),

written over ``z = log S`` (``S = χ_ν/√ν``), where the integrand is smooth and unimodal for
every ν (no ``s^(ν−1)`` singularity at 0), so the **trapezoidal rule on the whole line** is
spectrally accurate in both variables (Trefethen & Weideman 2014, SIAM Rev 56:385–458).
For each t the z-nodes cover the region where the single-comparison bound
``f_Z(z) Φ̄(t e^z)`` is within e^-45 of its maximum (so p-values keep their relative
accuracy however small); the w-nodes cover ``|w| ≤ W`` with ``2Φ̄(W)`` below 1e-16 times the
smallest p, at steps ≤ 0.4·min(1, σ_i).  Both rules are nested: the same sums over every
other node give a second, coarser estimate, and the evaluation is **certified** only when
the two agree to ``_RTOL`` relative; otherwise the caller falls back to the reference
(adaptive) path.  Everything is vectorised over the observed statistics of a family (and
over the candidate critical values of the root search).  No random numbers: results are
reproducible bit for bit.
"""

from __future__ import annotations

import numpy as np
from scipy import special

_D = 42.0  # log-range kept around the mode of the outer integrand (e^-42 ≈ 6e-19)
_SCAN = 256  # points of the scan that locates the outer integrand
_RTOL = 1e-6  # fine and coarse (2h) rules must agree this well: with spectral convergence
# (error ~ e^(-c/h) or e^(-c/h²)) the fine rule's error is then about the coarse one's square
_ATOL = 1e-300
_HZ = 0.4  # z-step in units of the local scale of the outer integrand
_HZ_MAX = 0.11  # cap (analyticity strip of e^(2z) is |Im z| < π/4)
_HW = 0.45  # w-step in units of min(1, σ_i)
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)


def _t_sf(t: float, df: float) -> float:
    """Student t upper tail (normal for df = inf), via the ufuncs (no scipy.stats overhead)."""
    return float(special.ndtr(-t) if not np.isfinite(df) else special.stdtr(df, -t))


def _t_isf(p: float, df: float) -> float:
    return float(-special.ndtri(p) if not np.isfinite(df) else -special.stdtrit(df, p))


def _log_density_z(z: np.ndarray, df: float) -> np.ndarray:
    """log density of Z = log(χ_ν/√ν): with U = ν S²/2 ~ Gamma(a), a = ν/2, log U = 2z + log a.

    Written as ``log 2 + c(a) − a (e^u − 1 − u)``, ``u = 2z``, with the constant
    ``c(a) = a log a − a − lgamma(a)`` from Stirling's series for large a (no cancellation).
    """
    a = df / 2.0
    if a > 10:
        c = (
            -_LOG_SQRT_2PI
            + 0.5 * np.log(a)
            - (1 / (12 * a) - 1 / (360 * a**3) + 1 / (1260 * a**5) - 1 / (1680 * a**7))
        )
    else:
        c = a * np.log(a) - a - special.gammaln(a)
    u = 2.0 * z
    return np.log(2.0) + c - a * (np.expm1(u) - u)


def _outer_nodes(t: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per-t trapezoid nodes z (n_t × 2m+1) and weights (step × density); ok flag.

    The scan evaluates the single-comparison bound ``log f_Z(z) + log Φ̄(t e^z)`` (the true
    integrand lies within ``log k`` of it) on a bracket around its approximate mode.
    """
    tp = np.maximum(t, 0.0)
    zc = 0.5 * np.log(df / (df + tp * tp))
    r = np.sqrt(_D / df)
    lo = zc - _D / df - 2.5 * r - 1.0 / np.sqrt(df)
    hi = zc + max(1.5 * r, 0.5 * np.log1p(4 * _D / df)) + 1.0 / np.sqrt(df) + 0.25
    frac = np.linspace(0.0, 1.0, _SCAN)
    zs = lo[:, None] + (hi - lo)[:, None] * frac[None, :]
    a = _log_density_z(zs, df) + special.log_ndtr(-t[:, None] * np.exp(zs))
    imax = np.argmax(a, axis=1)
    rows = np.arange(len(t))
    amax = a[rows, imax]
    keep = a >= (amax - _D)[:, None]
    ok = bool(
        np.all(~keep[:, 0]) and np.all(~keep[:, -1]) and np.all((imax > 0) & (imax < _SCAN - 1))
    )
    first = np.argmax(keep, axis=1) - 1
    last = _SCAN - np.argmax(keep[:, ::-1], axis=1)
    first = np.clip(first, 0, _SCAN - 1)
    last = np.clip(last, 0, _SCAN - 1)
    step = (hi - lo) / (_SCAN - 1)
    # local scale from the curvature at the mode
    im = np.clip(imax, 1, _SCAN - 2)
    curv = -(a[rows, im - 1] - 2 * a[rows, im] + a[rows, im + 1]) / step**2
    scale = 1.0 / np.sqrt(np.maximum(curv, 1e-300))
    h = np.minimum(_HZ * scale, _HZ_MAX)
    z_lo, z_hi = zs[rows, first], zs[rows, last]
    m = int(np.ceil(np.max((z_hi - z_lo) / h) / 2.0))
    m = max(m, 4)
    h = (z_hi - z_lo) / (2 * m)
    z = z_lo[:, None] + h[:, None] * np.arange(2 * m + 1)[None, :]
    w = h[:, None] * np.exp(_log_density_z(z, df))
    return z, w, ok


def _inner(
    x: np.ndarray, lam: np.ndarray, two_sided: bool, w_max: float, slope: bool = False
) -> tuple[np.ndarray, ...]:
    """g(x) on the fine and on the coarse (every other node) w-rule, vectorised over x.

    With ``slope``, also g'(x) on the fine rule: ``∂q_i/∂x = −[φ((x − λ_i w)/σ_i) +
    φ((x + λ_i w)/σ_i)]/σ_i`` and ``∂(1 − Π(1 − q_i)^m_i)/∂x = Π(1 − q_j)^m_j Σ m_i ∂q_i/(1 − q_i)``
    (only Newton's step uses it: its accuracy sets the speed of the root search, not the root).

    Equal λ's (balanced designs) are evaluated once and counted with their multiplicity;
    ``Φ((λw − x)/σ)`` is evaluated on the symmetric grid ``w = jh``, ``j = −n..n``, so the
    two-sided ``q(w) = Φ((λw − x)/σ) + Φ((−λw − x)/σ)`` reuses the node ``−w``.
    """
    lam_u, mult = np.unique(lam, return_counts=True)
    sig = np.sqrt(1.0 - lam_u * lam_u)
    h = _HW * min(1.0, float(np.min(sig)))
    n = int(np.ceil(w_max / h / 2.0)) * 2
    j = np.arange(-n, n + 1)
    w = j * h
    lw = (w[:, None] * (lam_u / sig)[None, :])[None, :, :]
    arg = lw - (x[:, None, None] / sig[None, None, :])
    cdf = special.ndtr(arg)
    if slope:
        dens = np.exp(-0.5 * arg * arg) / (np.sqrt(2 * np.pi) * sig)
    if two_sided:  # even in w: keep w = jh, j = 0..n, the nodes ±jh together
        q = cdf[:, n:, :] + cdf[:, n::-1, :]
        if slope:
            dq = -(dens[:, n:, :] + dens[:, n::-1, :])
        j = j[n:]
        w = w[n:]
    else:
        q = cdf
        if slope:
            dq = -dens
    np.minimum(q, 1.0, out=q)
    wt = h * np.exp(-0.5 * w * w) / np.sqrt(2 * np.pi)
    if two_sided:
        wt[1:] *= 2.0
    coarse = np.where(j % 2 == 0, 2.0 * wt, 0.0)
    with np.errstate(divide="ignore"):
        log_keep = np.log1p(-q) @ mult.astype(float)
    union = -np.expm1(log_keep)
    if not slope:
        return union @ wt, union @ coarse
    with np.errstate(divide="ignore", invalid="ignore"):
        dunion = np.exp(log_keep) * ((dq / np.maximum(1.0 - q, 1e-300)) @ mult.astype(float))
    return union @ wt, union @ coarse, np.nan_to_num(dunion) @ wt


def exceed(
    t: np.ndarray, lam: np.ndarray, df: float, alternative: str
) -> tuple[np.ndarray, np.ndarray]:
    """P(max_i |T_i| ≥ t) (``"two-sided"``, t > 0) or P(max_i T_i ≥ t) (``"greater"``).

    Returns ``(p, certified)``: ``certified[j]`` is False where the nested rules disagree
    (or the outer integrand was not bracketed); the caller must then use the reference.
    """
    p, ok, _ = _exceed(t, lam, df, alternative, slope=False)
    return p, ok


def _exceed(t, lam, df: float, alternative: str, slope: bool):
    """:func:`exceed`, with ``dP/dt`` (fine rule) as a third output when ``slope``.

    ``dP/dt = ∫ f_Z(z) e^z g'(t e^z) dz`` on the same nodes.
    """
    t = np.asarray(t, dtype=float)
    two_sided = alternative == "two-sided"
    sides = 2.0 if two_sided else 1.0
    p1 = sides * _t_sf(float(np.max(t)), df)
    log_p1 = np.log(max(float(p1), 1e-300))
    w_max = float(np.sqrt(max(2.0 * (37.0 - log_p1), 64.0)))
    dp = None
    if not np.isfinite(df):
        fine, coarse, *dg = _inner(t, lam, two_sided, w_max, slope)
        ok = np.ones(len(t), dtype=bool)
        if slope:
            dp = dg[0]
    else:
        z, wz, ok_scan = _outer_nodes(t, df)
        ez = np.exp(z)
        x = (t[:, None] * ez).ravel()
        g_f, g_c, *dg = _inner(x, lam, two_sided, w_max, slope)
        g_f, g_c = g_f.reshape(z.shape), g_c.reshape(z.shape)
        even = (np.arange(z.shape[1]) % 2 == 0)[None, :]
        fine = (g_f * wz).sum(axis=1)
        coarse = (np.where(even, g_c, 0.0) * 2.0 * wz).sum(axis=1)
        ok = np.full(len(t), ok_scan)
        if slope:
            dp = (dg[0].reshape(z.shape) * ez * wz).sum(axis=1)
    p = np.clip(fine, 0.0, 1.0)
    ok &= np.abs(fine - coarse) <= _RTOL * np.abs(fine) + _ATOL
    return p, ok, dp


def critical(lam: np.ndarray, df: float, conf_level: float, alternative: str) -> float | None:
    """Critical value c with P(max|T| ≥ c) = 1 − conf_level (one-sided: P(max T ≥ c)).

    Newton iterations on ``log P(c) − log α`` from Šidák's bound, with the analytic
    ``dP/dc`` from the same quadrature; each P certified by the nested rules.  Once a
    step is below 1e-7 relative, that last step is taken and the result returned (Newton's
    error after it is of the order of the step squared, ~1e-14).  Returns None when an
    evaluation is not certified or the iteration misbehaves (the caller then uses the
    reference solver).
    """
    alpha = 1.0 - conf_level
    log_alpha = np.log(alpha)
    sides = 2.0 if alternative == "two-sided" else 1.0
    a_each = -np.expm1(np.log1p(-alpha) / lam.size) / sides  # Šidák
    c = _t_isf(a_each, df)
    for _ in range(30):
        p, ok, dp = _exceed(np.array([c]), lam, df, alternative, slope=True)
        if not ok[0] or not p[0] > 0 or not dp[0] < 0:
            return None
        step = -(np.log(p[0]) - log_alpha) * p[0] / dp[0]
        if not np.isfinite(step):
            return None
        c = float(c + step)
        if abs(step) <= 1e-7 * abs(c):
            return c
    return None
