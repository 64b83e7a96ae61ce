"""Starting values for dose–response fits (a tested ``guess``, as lmfit's ``Model.guess``).

The log-logistic self-starter follows drc's ``LL.ssf``: the asymptotes are put just
outside the observed response range and hill and ic50 come from a straight-line fit of
the logit-transformed response, log((top - y) / (y - bottom)) = hill * (log x -
log ic50), on the positive doses. The Weibull families use the corresponding
log(-log) transforms (drc's ``weibull1``/``weibull2`` self-starters).
"""

from __future__ import annotations

import numpy as np

from nplab.doseresponse.models import PARAMETERS

__all__ = ["guess", "guess_many"]


def guess_many(
    family: str, x: np.ndarray, y: np.ndarray, fixed: dict[str, float] | None = None
) -> np.ndarray:
    """Starting values for many curves at once.

    Parameters
    ----------
    family
        ``"LL"``, ``"W1"`` or ``"W2"``.
    x, y
        (N, n) doses and responses, NaN-padded for curves with fewer points.
    fixed
        Parameter values that are fixed (by model or user); used as they are.

    Returns
    -------
    (N, 5) array in the order of :data:`~nplab.doseresponse.models.PARAMETERS`.
    """
    fixed = fixed or {}
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    ok = np.isfinite(x) & np.isfinite(y)
    with np.errstate(invalid="ignore", divide="ignore", over="ignore"):
        ymin = np.nanmin(np.where(ok, y, np.nan), axis=1)
        ymax = np.nanmax(np.where(ok, y, np.nan), axis=1)
        span = ymax - ymin
        span = np.where(span > 0, span, np.maximum(np.abs(ymax), 1.0))
        lo = ymin - 0.001 * span
        hi = ymax + 0.001 * span
        c = np.full(lo.shape, fixed.get("bottom", np.nan))
        d = np.full(lo.shape, fixed.get("top", np.nan))
        c = np.where(np.isnan(c), lo, c)
        d = np.where(np.isnan(d), hi, d)
        f = np.full(lo.shape, fixed.get("asym", 1.0))
        # fraction of the way from bottom to top, kept inside (0, 1)
        frac = np.clip((y - c[:, None]) / (d - c)[:, None], 1e-3, 1 - 1e-3)
        if family == "LL":
            t = np.log(1.0 / frac - 1.0)  # = hill (log x - log ic50)  (falling: t rises)
        elif family == "W1":
            t = np.log(-np.log(frac))
        else:  # W2
            t = np.log(-np.log1p(-frac))
        pos = ok & (x > 0)
        lx = np.where(pos, np.log(np.where(pos, x, 1.0)), 0.0)
        w = pos.astype(float)
        nw = w.sum(axis=1)
        mx = (w * lx).sum(axis=1) / np.maximum(nw, 1)
        mt = (w * np.where(pos, t, 0.0)).sum(axis=1) / np.maximum(nw, 1)
        sxx = (w * (lx - mx[:, None]) ** 2).sum(axis=1)
        sxt = (w * (lx - mx[:, None]) * (np.where(pos, t, 0.0) - mt[:, None])).sum(axis=1)
        b = np.where(sxx > 0, sxt / np.where(sxx > 0, sxx, 1.0), np.nan)
        # direction from the data when the regression is uninformative
        lxa = np.where(ok & (x > 0), lx, np.where(ok, np.nanmin(np.where(pos, lx, np.inf), axis=1)[:, None] - 1.0, 0.0))
        ya = np.where(ok, y, 0.0)
        mya = (ya * ok).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
        mla = (lxa * ok).sum(axis=1) / np.maximum(ok.sum(axis=1), 1)
        cov = (ok * (lxa - mla[:, None]) * (ya - mya[:, None])).sum(axis=1)
        sign = np.where(cov > 0, -1.0, 1.0)
        if family == "W2":
            sign = -sign
        bad = ~np.isfinite(b) | (np.abs(b) < 1e-3) | (np.abs(b) > 50)
        b = np.where(bad, sign, b)
        e = np.where(bad | ~np.isfinite(mt), np.exp(mx), np.exp(mx - mt / np.where(bad, 1.0, b)))
        gmin = np.exp(np.nanmin(np.where(pos, lx, np.inf), axis=1))
        gmax = np.exp(np.nanmax(np.where(pos, lx, -np.inf), axis=1))
        e = np.where(np.isfinite(e), np.clip(e, gmin / 100, gmax * 100), 1.0)
        e = np.where(np.isfinite(e) & (e > 0), e, 1.0)
    out = np.stack([b, c, d, e, f], axis=1)
    for j, name in enumerate(PARAMETERS):
        if name in fixed:
            out[:, j] = fixed[name]
    return out


def guess(
    family: str, x: np.ndarray, y: np.ndarray, fixed: dict[str, float] | None = None
) -> np.ndarray:
    """Starting values (hill, bottom, top, ic50, asym) for one curve; see :func:`guess_many`."""
    return guess_many(family, np.asarray(x, float)[None, :], np.asarray(y, float)[None, :], fixed)[0]
