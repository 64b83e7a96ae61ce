"""``nplab._dist`` equals ``scipy.stats`` bit for bit (values, NaN, ±inf, −0.0, types, shapes)."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from nplab import _dist

X = np.array([-np.inf, -1e300, -40.0, -8.5, -3.0, -1.0, -0.5, -1e-12, -0.0, 0.0, 1e-300,
              1e-12, 0.3, 0.5, 1.0, 1.959963984540054, 2.5, 7.0, 38.5, 1e4, 1e300,
              np.inf, np.nan])  # fmt: skip
Q = np.array([-0.5, -0.0, 0.0, 1e-300, 1e-22, 1e-12, 1e-6, 0.001, 0.025, 0.05, 0.1, 0.5,
              0.6, 0.95, 0.975, 0.999, 1 - 1e-12, 1 - 2**-53, 1.0, 1.5, np.inf, np.nan])  # fmt: skip
DF = [-1.0, 0.0, 1e-3, 0.5, 1.0, 1.5, 2.0, 3.0, 4.7, 10.0, 29.0, 1e3, 1e7, np.inf, np.nan]
DF_INT = [1, 2, 5, 17]

# (name, nplab function, scipy method, number of shape parameters)
PROB = [("t_cdf", _dist.t_cdf, stats.t.cdf, 1), ("t_sf", _dist.t_sf, stats.t.sf, 1),
        ("f_cdf", _dist.f_cdf, stats.f.cdf, 2), ("f_sf", _dist.f_sf, stats.f.sf, 2),
        ("chi2_cdf", _dist.chi2_cdf, stats.chi2.cdf, 1),
        ("chi2_sf", _dist.chi2_sf, stats.chi2.sf, 1),
        ("norm_cdf", _dist.norm_cdf, stats.norm.cdf, 0),
        ("norm_sf", _dist.norm_sf, stats.norm.sf, 0),
        ("chi_pdf", _dist.chi_pdf, stats.chi.pdf, 1)]  # fmt: skip
QUANT = [("t_ppf", _dist.t_ppf, stats.t.ppf, 1), ("t_isf", _dist.t_isf, stats.t.isf, 1),
         ("f_ppf", _dist.f_ppf, stats.f.ppf, 2), ("f_isf", _dist.f_isf, stats.f.isf, 2),
         ("chi2_ppf", _dist.chi2_ppf, stats.chi2.ppf, 1),
         ("chi2_isf", _dist.chi2_isf, stats.chi2.isf, 1),
         ("norm_ppf", _dist.norm_ppf, stats.norm.ppf, 0),
         ("norm_isf", _dist.norm_isf, stats.norm.isf, 0)]  # fmt: skip
ALL = PROB + QUANT


def _scipy(method, *args):
    """``scipy.stats`` result (its chi.pdf warns on the overflow of x**2 at x = 1e300)."""
    with np.errstate(all="ignore"):
        return method(*args)


def _same(ours, theirs):
    """Equal bit for bit: same type, shape, dtype, NaN pattern and sign of zero."""
    assert type(ours) is type(theirs)
    ours, theirs = np.asarray(ours), np.asarray(theirs)
    assert ours.dtype == theirs.dtype and ours.shape == theirs.shape
    np.testing.assert_array_equal(ours, theirs)
    np.testing.assert_array_equal(np.signbit(ours), np.signbit(theirs))


def _shape_grid(k: int, values) -> list[tuple]:
    if k == 0:
        return [()]
    if k == 1:
        return [(v,) for v in values]
    return [(a, b) for a in values for b in values]


@pytest.mark.parametrize(("name", "ours", "theirs", "k"), ALL, ids=[a[0] for a in ALL])
def test_arrays_match_scipy_on_a_grid_with_edge_values(name, ours, theirs, k):
    grid = Q if name in {q[0] for q in QUANT} else X
    dfs = DF if k < 2 else [-1.0, 0.0, 0.5, 1.0, 3.0, 10.0, 1e7, np.inf, np.nan]
    for shapes in _shape_grid(k, dfs):
        _same(ours(grid, *shapes), _scipy(theirs, grid, *shapes))


@pytest.mark.parametrize(("name", "ours", "theirs", "k"), ALL, ids=[a[0] for a in ALL])
def test_scalars_are_numpy_float64_like_scipy(name, ours, theirs, k):
    grid = Q if name in {q[0] for q in QUANT} else X
    for shapes in _shape_grid(k, [*DF_INT, 4.7, np.inf, 0, -2]):
        for v in [*grid.tolist(), 0, 1]:  # Python floats and ints
            _same(ours(v, *shapes), _scipy(theirs, v, *shapes))


@pytest.mark.parametrize(("name", "ours", "theirs", "k"), ALL, ids=[a[0] for a in ALL])
def test_broadcasting_of_array_shape_parameters(name, ours, theirs, k):
    grid = (Q if name in {q[0] for q in QUANT} else X)[:, None]
    df = np.array([[np.nan, -1.0, 0.5, 2.0, 7.0, np.inf]])
    shapes = [df, np.array([3.0, 0.0, 12.0, np.inf, 1.0, 5.0])][:k]
    _same(ours(grid, *shapes), _scipy(theirs, grid, *shapes))
    ints = [np.array([1, 4, 9]), np.array([[2], [30]])][:k]  # integer df arrays
    _same(ours(0.3, *ints), theirs(0.3, *ints))
    _same(ours(np.float64(0.975), *[np.float64(5.0)] * k),
          theirs(np.float64(0.975), *[np.float64(5.0)] * k))  # fmt: skip


def test_quantiles_are_never_negative_zero():
    # scipy returns value * scale + loc, which turns -0.0 into 0.0
    assert not np.signbit(_dist.t_isf(0.5, 7.0)) and not np.signbit(_dist.norm_isf(0.5))
    assert _dist.t_ppf(0.0, 3.0) == -np.inf and _dist.chi2_ppf(0.0, 3.0) == 0.0
