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
The steps come from a-priori error bounds (error ≈ ``M(a) e^(−2πa/h)`` for an integrand
analytic and bounded by ``M(a)`` in the strip ``|Im| < a``; Trefethen & Weideman, Thm 5.1):

* **inner rule (w)**: the integrand is entire with Gaussian growth
  ``|φ(w) Π(1 − q_i)| ≲ e^(G v²/2)`` at ``Im w = v``, ``G = 1 + Σ_i λ_i²/σ_i²``, so the
  error is ``≈ e^(−2π²/(h² G))``; ``h = π √(2/(G L))`` gives ``e^(−L)``;
* **outer rule (z)**: ``f_Z`` grows like ``(cos 2y)^(−ν/2)`` at ``Im z = y < π/4`` (and so
  does the single-comparison tail ``Φ̄(t e^z)``), so the error is
  ``≈ exp(−max_y [2πy/h + (ν/2) log cos 2y])`` (closed form below), solved for ``h``.

The z-nodes cover, for each t, the region where the single-comparison bound
``f_Z(z) Φ̄(t e^z)`` is within e^-27 of its maximum (the true integrand is within a factor k
of that bound, so p-values keep their relative accuracy however small); the w-nodes
cover ``|w| ≤ W`` with ``2Φ̄(W)`` below e^-24 times the smallest p.  Both rules are
nested: the same sums over every other node (step ``2h``) give coarser estimates, whose
errors the same bounds predict (``e^(−L/4)`` for the inner rule, the strip bound at ``2h``
for the outer).  An evaluation is **certified** only when each coarse rule agrees with the
fine one within ``_SLACK`` times its predicted error, i.e. when the constant in front of the
bound is as assumed — then the fine rule is within ``_SLACK · e^(−27)`` ≈ 4e-11 relative;
otherwise the caller falls back to the reference (adaptive) path.  Everything is
vectorised over the observed statistics of a family; critical values take two or three
Halley steps with the analytic first and second derivatives of P.  No random numbers:
results are reproducible bit for bit.
"""

from __future__ import annotations

from functools import lru_cache

import numpy as np
from scipy import optimize, special

_D = 27.0  # log-range kept around the mode of the outer integrand (e^-27 ≈ 2e-12)
_SCAN = 64  # points of the scan that brackets the outer integrand
_L_OUTER = 27.0  # a-priori error exponent of the fine outer (z) rule
_L_INNER = 27.0  # a-priori error exponent of the fine inner (w) rule
_L_TAIL = 24.0  # inner truncation: 2Φ̄(W) ≤ e^-24 × (smallest p)
_SLACK = 20.0  # a coarse rule may miss its predicted error by this factor
_STEP_DONE = 2e-4  # critical value: a Halley step this small (relative) is the last one
_ATOL = 1e-300
_LOG_SQRT_2PI = 0.5 * np.log(2 * np.pi)
_INV_SQRT_2PI = 1.0 / np.sqrt(2 * np.pi)


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


def _strip_exponent(h: float, a: float) -> float:
    """``max_{0<y<π/4} [2πy/h + a log cos 2y]``: minus the log error bound of the z-rule.

    The maximiser solves ``tan 2y = π/(a h)``, which gives the closed form
    ``(π/h) atan(r) − (a/2) log(1 + r²)``, ``r = π/(a h)``.
    """
    r = np.pi / (a * h)
    return float(np.pi * np.arctan(r) / h - 0.5 * a * np.log1p(r * r))


@lru_cache(maxsize=256)
def _outer_step(df: float) -> tuple[float, float]:
    """z-step with a-priori error e^-27 for ``df`` and the coarse (2h) rule's tolerance."""
    a = df / 2.0
    h = optimize.brentq(lambda s: _strip_exponent(s, a) - _L_OUTER, 1e-6, 10.0, xtol=1e-8)
    return h, _SLACK * float(np.exp(-_strip_exponent(2.0 * h, a)))


@lru_cache(maxsize=256)
def _family(lam_key: tuple) -> tuple:
    """Distinct λ's with their multiplicities and the inner step ``h = π √(2/(G L))``.

    Equal λ's (balanced designs) are evaluated once and counted with their multiplicity.
    Returns ``(mult, λ/σ, 1/σ, 1/(√(2π) σ), h)`` over the distinct λ's.
    """
    lam_u, mult = np.unique(np.array(lam_key), return_counts=True)
    sig = np.sqrt(1.0 - lam_u * lam_u)
    g = 1.0 + float(np.sum(mult * (lam_u / sig) ** 2))
    h = float(np.pi * np.sqrt(2.0 / (g * _L_INNER)))
    return mult.astype(float), lam_u / sig, 1.0 / sig, _INV_SQRT_2PI / sig, h


def _outer_nodes(t: np.ndarray, df: float) -> tuple[np.ndarray, np.ndarray, bool]:
    """Per-t trapezoid nodes z (n_t × 2m+1) and weights (step × density); ok flag.

    The scan evaluates the single-comparison bound ``log f_Z(z) + log Φ̄(t e^z)`` (concave
    in z; the true integrand lies within ``log k`` of it) on a bracket around its
    approximate mode and keeps the interval within ``_D`` of the maximum; ``ok`` is False
    when that interval reaches an end of the bracket.
    """
    tp = np.maximum(t, 0.0)
    zc = 0.5 * np.log(df / (df + tp * tp))
    r = np.sqrt(_D / df)
    lo = zc - _D / df - 2.5 * r - 1.0 / np.sqrt(df)
    hi = zc + max(1.5 * r, 0.5 * np.log1p(4 * _D / df)) + 1.0 / np.sqrt(df) + 0.25
    step = (hi - lo) / (_SCAN - 1)
    zs = lo[:, None] + step[:, None] * np.arange(_SCAN)[None, :]
    a = _log_density_z(zs, df) + special.log_ndtr(-t[:, None] * np.exp(zs))
    keep = a >= (a.max(axis=1) - _D)[:, None]
    ok = not (keep[:, 0].any() or keep[:, -1].any())
    first = np.maximum(np.argmax(keep, axis=1) - 1, 0)
    last = np.minimum(_SCAN - np.argmax(keep[:, ::-1], axis=1), _SCAN - 1)
    z_lo, z_hi = lo + step * first, lo + step * last
    m = max(int(np.ceil(np.max(z_hi - z_lo) / _outer_step(df)[0] / 2.0)), 4)
    h = (z_hi - z_lo) / (2 * m)
    z = z_lo[:, None] + h[:, None] * np.arange(2 * m + 1)[None, :]
    w = h[:, None] * np.exp(_log_density_z(z, df))
    return z, w, ok


def _inner(
    x: np.ndarray, lam: np.ndarray, two_sided: bool, w_max: float, derivs: int = 0
) -> tuple[np.ndarray, np.ndarray, list]:
    """g(x) on the fine and on the coarse (every other node) w-rule, vectorised over x.

    With ``derivs`` ≥ 1 also g'(x), with 2 also g''(x), on the fine rule.  With
    ``K = Π(1 − q_i)^m_i``, ``g = ∫φ (1 − K)``, ``S₁ = Σ m_i q_i'/(1 − q_i)``::

        (1 − K)' = K S₁,   (1 − K)'' = K [Σ m_i (q_i''/(1 − q_i) + q_i'²/(1 − q_i)²) − S₁²],
        q_i' = −[φ(a₁) + φ(a₂)]/σ_i,   q_i'' = −[a₁ φ(a₁) + a₂ φ(a₂)]/σ_i²,

    ``a₁,₂ = (±λ_i w − x)/σ_i`` (used by the critical-value iteration only: their accuracy
    sets its speed, not the root).  ``Φ((λw − x)/σ)`` is evaluated on the symmetric grid
    ``w = jh``, ``j = −n..n``, so the two-sided ``q(w) = Φ((λw − x)/σ) + Φ((−λw − x)/σ)``
    reuses the node ``−w``.
    """
    mult, ratio, inv_sig, dens_c, h = _family(tuple(lam.tolist()))
    n = int(np.ceil(w_max / h / 2.0)) * 2
    j = np.arange(-n, n + 1)
    w = j * h
    # layout (distinct λ, x, w): the long w axis innermost
    arg = (ratio[:, None] * w)[:, None, :] - (inv_sig[:, None] * x)[:, :, None]
    if derivs:
        dens = np.exp(-0.5 * arg * arg)
        if derivs > 1:
            adens = arg * dens
    cdf = special.ndtr(arg, out=arg)
    if two_sided:  # even in w: keep w = jh, j = 0..n, the nodes ±jh together
        q = cdf[:, :, n:] + cdf[:, :, n::-1]
        if derivs:
            dens = dens[:, :, n:] + dens[:, :, n::-1]
            if derivs > 1:
                adens = adens[:, :, n:] + adens[:, :, n::-1]
        j = j[n:]
        w = w[n:]
    else:
        q = cdf
    np.minimum(q, 1.0, out=q)
    wt = (h * _INV_SQRT_2PI) * np.exp(-0.5 * w * w)
    if two_sided:
        wt[1:] *= 2.0
    rules = np.stack([wt, np.where(j % 2 == 0, 2.0 * wt, 0.0)], axis=1)  # fine, coarse
    if derivs:
        rest = 1.0 - q
    with np.errstate(divide="ignore"):
        lq = np.log1p(np.negative(q, out=q), out=q)
    log_keep = np.tensordot(mult, lq, axes=1)
    g = -(np.expm1(log_keep) @ rules)
    out = []
    if derivs:
        keep = np.exp(log_keep)  # 0 wherever some q_i = 1: those terms drop out
        inv = np.divide(1.0, rest, out=np.zeros_like(rest), where=rest > 0)
        r1 = dens * inv
        r1 *= -dens_c[:, None, None]  # q_i' / (1 − q_i)
        s1 = np.tensordot(mult, r1, axes=1)
        out.append((keep * s1) @ wt)
        if derivs > 1:
            d2 = adens * inv
            d2 *= -(dens_c * inv_sig)[:, None, None]  # q_i'' / (1 − q_i)
            d2 += r1 * r1
            s2 = np.tensordot(mult, d2, axes=1)
            out.append((keep * (s2 - s1 * s1)) @ wt)
    return g[:, 0], g[:, 1], out


def exceed(
    t: np.ndarray, lam: np.ndarray, df: float, alternative: str
) -> tuple[np.ndarray, np.ndarray]:
    """P(max_i |T_i| ≥ t) (``"two-sided"``, t > 0) or P(max_i T_i ≥ t) (``"greater"``).

    Returns ``(p, certified)``: ``certified[j]`` is False where a coarse rule misses its
    predicted error (or the outer integrand was not bracketed); the caller must then use
    the reference.
    """
    p, ok, _ = _exceed(t, lam, df, alternative)
    return p, ok


def _exceed(t, lam, df: float, alternative: str, derivs: int = 0):
    """:func:`exceed`, with the list ``[dP/dt, d²P/dt²][:derivs]`` (fine rule) as a third output.

    ``dP/dt = ∫ f_Z(z) e^z g'(t e^z) dz``, ``d²P/dt² = ∫ f_Z(z) e^(2z) g''(t e^z) dz`` on the
    same nodes.
    """
    t = np.asarray(t, dtype=float)
    lam = np.asarray(lam, dtype=float)
    two_sided = alternative == "two-sided"
    sides = 2.0 if two_sided else 1.0
    p1 = sides * _t_sf(float(np.max(t)), df)
    w_max = float(np.sqrt(2.0 * (_L_TAIL - np.log(max(p1, 1e-300)))))
    tol_inner = _SLACK * np.exp(-_L_INNER / 4.0)  # the inner error at 2h is e^(-L/4)
    if not np.isfinite(df):
        fine, c_in, d = _inner(t, lam, two_sided, w_max, derivs)
        ok = np.ones(len(t), dtype=bool)
    else:
        z, wz, ok_scan = _outer_nodes(t, df)
        ez = np.exp(z)
        g_f, g_c, dg = _inner((t[:, None] * ez).ravel(), lam, two_sided, w_max, derivs)
        g_f, g_c = g_f.reshape(z.shape), g_c.reshape(z.shape)
        gw = g_f * wz
        fine = gw.sum(axis=1)
        c_in = (g_c * wz).sum(axis=1)
        c_out = 2.0 * gw[:, ::2].sum(axis=1)
        d, ezk = [], ez * wz
        for order, dgi in enumerate(dg, start=1):
            d.append((dgi.reshape(z.shape) * ezk).sum(axis=1))
            if order == 1:
                ezk = ezk * ez
        ok = np.full(len(t), ok_scan)
        ok &= np.abs(fine - c_out) <= _outer_step(df)[1] * np.abs(fine) + _ATOL
    ok &= np.abs(fine - c_in) <= tol_inner * np.abs(fine) + _ATOL
    return np.clip(fine, 0.0, 1.0), ok, d


def critical(lam: np.ndarray, df: float, conf_level: float, alternative: str) -> float | None:
    """Critical value c with P(max|T| ≥ c) = 1 − conf_level (one-sided: P(max T ≥ c)).

    Halley iterations on ``f(c) = log P(c) − log α`` from Šidák's bound (an upper bound of
    c for these positively correlated statistics), with ``f'`` and ``f''`` from the
    analytic derivatives of P on the same quadrature; each P certified by the nested
    rules.  Once a Halley step ``s`` is below ``_STEP_DONE`` (2e-4) relative, it is taken and
    the result returned: the error after it is ``C s³``, ``C = f‴/(6f′) − (f″/2f′)²``
    (measured on these families: relative error ≈ 0.15 (s/c)³, so below 2e-12).  From
    Šidák's bound that takes two evaluations for moderate correlations, three when the
    bound is far (many groups, few df).  Returns None when an evaluation is not certified
    or the iteration misbehaves (the caller then uses the reference solver).
    """
    alpha = 1.0 - conf_level
    log_alpha = np.log(alpha)
    sides = 2.0 if alternative == "two-sided" else 1.0
    a_each = -np.expm1(np.log1p(-alpha) / lam.size) / sides  # Šidák
    c = _t_isf(a_each, df)
    for _ in range(30):
        p, ok, (dp, d2p) = _exceed(np.array([c]), lam, df, alternative, derivs=2)
        if not ok[0] or not p[0] > 0 or not dp[0] < 0:
            return None
        f = np.log(p[0]) - log_alpha
        f1 = dp[0] / p[0]
        f2 = d2p[0] / p[0] - f1 * f1
        newton = -f / f1
        denom = 1.0 + 0.5 * newton * f2 / f1  # Halley: step = newton / (1 − f f''/(2 f'²))
        halley = 0.5 < denom < 2.0  # else a plain Newton step, never the last one
        step = newton / denom if halley else newton
        if not np.isfinite(step):
            return None
        c = float(c + step)
        if halley and abs(step) <= _STEP_DONE * abs(c):
            return c
    return None
