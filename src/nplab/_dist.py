"""Distribution functions (t, F, χ², χ, normal) on ``scipy.special``, without ``scipy.stats``.

Importing :mod:`scipy.stats` costs about 0.3 s (its ~100 distribution classes are built at
import), most of the start-up of a short ``nplab run``.  The study runner needs only a
few quantiles and tail probabilities, so they are computed here on the same
``scipy.special`` ufuncs that ``scipy.stats`` calls internally (scipy 1.17,
``scipy/stats/_continuous_distns.py``)::

    t:    _cdf = stdtr(df, x)     _sf = stdtr(df, -x)   _ppf = stdtrit(df, q)   _isf = -stdtrit(df, q)
    F:    _cdf = fdtr(n, d, x)    _sf = fdtrc(n, d, x)  _ppf = fdtri(n, d, q)   _isf = _ppf(1.0 - q)
    χ²:   _cdf = chdtr(df, x)     _sf = chdtrc(df, x)   _ppf = 2 gammaincinv(df/2, q)
          _isf = chdtri(df, q)
    norm: _cdf = ndtr(x)          _sf = ndtr(-x)        _ppf = ndtri(q)         _isf = -ndtri(q)
    χ:    _pdf = exp(log 2 − ½ log 2 · df − gammaln(½ df) + xlogy(df − 1, x) − ½ x²)

wrapped as ``rv_continuous.cdf / sf / ppf / isf / pdf`` wrap them
(``scipy/stats/_distn_infrastructure.py``): shape parameters must be > 0 (else NaN); NaN
input gives NaN; outside the open support the cdf / sf are 0 or 1; ``q = 0`` and ``q = 1``
give the ends of the support, ``q`` outside [0, 1] NaN; quantiles are returned as
``value * 1 + 0`` (so never −0.0).  Results are **bit-identical** to ``scipy.stats``
(``tests/test__dist.py`` compares them on grids with edge values), with the same types: a
0-d result is a ``numpy.float64``, otherwise a float64 array of the broadcast shape.
Only float64 (or integer / Python number) arguments are meant; no ``loc`` / ``scale``;
floating-point warnings of the kernels are not raised (``np.errstate``).

References
----------
Virtanen P et al. (2020) SciPy 1.0. Nat Methods 17:261–272 (``scipy.stats``,
``scipy.special``; Cephes: Moshier SL (1989) *Methods and Programs for Mathematical
Functions*).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from numpy.typing import ArrayLike
from scipy import special as sc

__all__ = [
    "chi2_cdf",
    "chi2_isf",
    "chi2_ppf",
    "chi2_sf",
    "chi_pdf",
    "f_cdf",
    "f_isf",
    "f_ppf",
    "f_sf",
    "norm_cdf",
    "norm_isf",
    "norm_ppf",
    "norm_sf",
    "t_cdf",
    "t_isf",
    "t_ppf",
    "t_sf",
]

_INF = np.inf
_LOG2 = np.log(2)


def _finish(out: np.ndarray):
    """A 0-d result as a ``numpy.float64`` (as ``scipy.stats`` returns it)."""
    return out[()] if out.ndim == 0 else out


def _shapes_ok(shapes: tuple[np.ndarray, ...]):
    """``rv_generic._argcheck``: every shape parameter > 0 (NaN is not)."""
    ok = np.asarray(True)
    for s in shapes:
        ok = np.logical_and(ok, s > 0)
    return ok


def _prob(kernel: Callable, x: ArrayLike, shapes: tuple, a: float, b: float, upper: bool):
    """``rv_continuous.cdf`` (``upper=False``) or ``.sf`` (``upper=True``) around ``kernel``."""
    x = np.asarray(x)
    x = np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))
    shapes = tuple(np.asarray(s) for s in shapes)
    ok = _shapes_ok(shapes)
    with np.errstate(invalid="ignore"):
        inside = ok & (a < x) & (x < b)
        one = ok & ((x <= a) if upper else (x >= b))
        bad = ~ok | np.isnan(x)
    with np.errstate(all="ignore"):
        val = kernel(x, *shapes)
    return _finish(np.where(inside, val, np.where(one, 1.0, np.where(bad, np.nan, 0.0))))


def _quantile(kernel: Callable, q: ArrayLike, shapes: tuple, a: float, b: float, upper: bool):
    """``rv_continuous.ppf`` (``upper=False``) or ``.isf`` (``upper=True``) around ``kernel``."""
    q = np.asarray(q)
    shapes = tuple(np.asarray(s) for s in shapes)
    ok = _shapes_ok(shapes)
    with np.errstate(invalid="ignore"):
        inside = ok & (0 < q) & (q < 1)
        at_a = ok & (q == (1 if upper else 0))
        at_b = ok & (q == (0 if upper else 1))
    with np.errstate(all="ignore"):
        val = kernel(q, *shapes) * 1 + 0  # scipy: _ppf(q) * scale + loc (so no -0.0)
    out = np.where(inside, val, np.where(at_a, a * 1 + 0, np.where(at_b, b * 1 + 0, np.nan)))
    return _finish(np.asarray(out, dtype=float))


# ----------------------------------------------------------------------------------------
# Student t (support -inf..inf)
# ----------------------------------------------------------------------------------------
def t_cdf(x: ArrayLike, df: ArrayLike):
    """``scipy.stats.t.cdf(x, df)``: ``stdtr(df, x)``."""
    return _prob(lambda x, df: sc.stdtr(df, x), x, (df,), -_INF, _INF, False)


def t_sf(x: ArrayLike, df: ArrayLike):
    """``scipy.stats.t.sf(x, df)``: ``stdtr(df, -x)``."""
    return _prob(lambda x, df: sc.stdtr(df, -x), x, (df,), -_INF, _INF, True)


def t_ppf(q: ArrayLike, df: ArrayLike):
    """``scipy.stats.t.ppf(q, df)``: ``stdtrit(df, q)``."""
    return _quantile(lambda q, df: sc.stdtrit(df, q), q, (df,), -_INF, _INF, False)


def t_isf(q: ArrayLike, df: ArrayLike):
    """``scipy.stats.t.isf(q, df)``: ``-stdtrit(df, q)``."""
    return _quantile(lambda q, df: -sc.stdtrit(df, q), q, (df,), -_INF, _INF, True)


# ----------------------------------------------------------------------------------------
# F (support 0..inf)
# ----------------------------------------------------------------------------------------
def f_cdf(x: ArrayLike, dfn: ArrayLike, dfd: ArrayLike):
    """``scipy.stats.f.cdf(x, dfn, dfd)``: ``fdtr(dfn, dfd, x)``."""
    return _prob(lambda x, n, d: sc.fdtr(n, d, x), x, (dfn, dfd), 0.0, _INF, False)


def f_sf(x: ArrayLike, dfn: ArrayLike, dfd: ArrayLike):
    """``scipy.stats.f.sf(x, dfn, dfd)``: ``fdtrc(dfn, dfd, x)``."""
    return _prob(lambda x, n, d: sc.fdtrc(n, d, x), x, (dfn, dfd), 0.0, _INF, True)


def f_ppf(q: ArrayLike, dfn: ArrayLike, dfd: ArrayLike):
    """``scipy.stats.f.ppf(q, dfn, dfd)``: ``fdtri(dfn, dfd, q)``."""
    return _quantile(lambda q, n, d: sc.fdtri(n, d, q), q, (dfn, dfd), 0.0, _INF, False)


def f_isf(q: ArrayLike, dfn: ArrayLike, dfd: ArrayLike):
    """``scipy.stats.f.isf(q, dfn, dfd)``: the generic ``_ppf(1.0 - q)``."""
    return _quantile(lambda q, n, d: sc.fdtri(n, d, 1.0 - q), q, (dfn, dfd), 0.0, _INF, True)


# ----------------------------------------------------------------------------------------
# chi-squared (support 0..inf)
# ----------------------------------------------------------------------------------------
def chi2_cdf(x: ArrayLike, df: ArrayLike):
    """``scipy.stats.chi2.cdf(x, df)``: ``chdtr(df, x)``."""
    return _prob(lambda x, df: sc.chdtr(df, x), x, (df,), 0.0, _INF, False)


def chi2_sf(x: ArrayLike, df: ArrayLike):
    """``scipy.stats.chi2.sf(x, df)``: ``chdtrc(df, x)``."""
    return _prob(lambda x, df: sc.chdtrc(df, x), x, (df,), 0.0, _INF, True)


def chi2_ppf(q: ArrayLike, df: ArrayLike):
    """``scipy.stats.chi2.ppf(q, df)``: ``2 * gammaincinv(df / 2, q)``."""
    return _quantile(lambda q, df: 2 * sc.gammaincinv(df / 2, q), q, (df,), 0.0, _INF, False)


def chi2_isf(q: ArrayLike, df: ArrayLike):
    """``scipy.stats.chi2.isf(q, df)``: ``chdtri(df, q)``."""
    return _quantile(lambda q, df: sc.chdtri(df, q), q, (df,), 0.0, _INF, True)


# ----------------------------------------------------------------------------------------
# standard normal (support -inf..inf)
# ----------------------------------------------------------------------------------------
def norm_cdf(x: ArrayLike):
    """``scipy.stats.norm.cdf(x)``: ``ndtr(x)``."""
    return _prob(sc.ndtr, x, (), -_INF, _INF, False)


def norm_sf(x: ArrayLike):
    """``scipy.stats.norm.sf(x)``: ``ndtr(-x)``."""
    return _prob(lambda x: sc.ndtr(-x), x, (), -_INF, _INF, True)


def norm_ppf(q: ArrayLike):
    """``scipy.stats.norm.ppf(q)``: ``ndtri(q)``."""
    return _quantile(sc.ndtri, q, (), -_INF, _INF, False)


def norm_isf(q: ArrayLike):
    """``scipy.stats.norm.isf(q)``: ``-ndtri(q)``."""
    return _quantile(lambda q: -sc.ndtri(q), q, (), -_INF, _INF, True)


# ----------------------------------------------------------------------------------------
# chi (support 0..inf): density only
# ----------------------------------------------------------------------------------------
def chi_pdf(x: ArrayLike, df: ArrayLike):
    """``scipy.stats.chi.pdf(x, df)``.

    ``exp(log 2 − ½ log 2 · df − gammaln(½ df) + xlogy(df − 1, x) − ½ x²)`` on the closed
    support ``x ≥ 0`` (0 below it), evaluated on arrays of at least one dimension as
    ``scipy.stats`` does (so ``x**2`` is the array square).
    """
    x = np.asarray(x)
    x = np.asarray(x, dtype=np.promote_types(x.dtype, np.float64))
    df = np.asarray(df)
    ok = _shapes_ok((df,))
    with np.errstate(invalid="ignore"):
        inside = ok & (0.0 <= x) & (x <= _INF)
        bad = ~ok | np.isnan(x)
    xs, dfs = np.broadcast_arrays(np.atleast_1d(x), np.atleast_1d(df))
    with np.errstate(all="ignore"):
        log_c = _LOG2 - .5 * _LOG2 * dfs - sc.gammaln(.5 * dfs)
        val = np.exp(log_c + sc.xlogy(dfs - 1., xs) - .5 * xs**2) / 1
    val = val.reshape(np.broadcast_shapes(x.shape, df.shape))
    return _finish(np.where(inside, val, np.where(bad, np.nan, 0.0)))
