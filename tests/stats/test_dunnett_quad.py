"""Fast Dunnett engine (nested trapezoidal rule) against the reference quadrature path.

The reference is the previous exact implementation kept in ``nplab.stats.posthoc``
(``_exceed_checked``: composite Gauss–Legendre at two resolutions with adaptive QUADPACK
fallback; ``_critical_reference``: Brent + secant on it), itself checked against R's
``integrate``, mvtnorm and Dunnett's tables in ``test_posthoc.py``.  Tolerances (issue 19):
p within 1e-9 absolute, and 1e-6 relative for p down to 1e-12; critical values 1e-9.

The grid test covers k = 1..10 comparisons (unbalanced λ, some repeated), df from 2 to
1000 and ∞, t from 0.1 to 12 (p from 1 down to ~1e-30), one- and two-sided, and critical
values at 90/95/99 %.  The reference is slow (≈1 s per family), so each k meets two of the
ten df and each (k, df, side) one confidence level, rotated so that every df, side and
level is met several times; ``NPLAB_DUNNETT_FULL_GRID=1`` runs the full product instead
(≈20 minutes).
"""

from __future__ import annotations

import os

import numpy as np
import pytest
from scipy import stats

from nplab.stats import _dunnett_quad
from nplab.stats.posthoc import (
    _critical,
    _critical_reference,
    _exceed_checked,
    dunnett_pvalues,
)

# (df, lambdas): balanced and unbalanced families, fractional and large df, the normal limit
FAMILIES = [
    (2.5, [0.6, 0.55, 0.7]),
    (4.0, [0.5, 0.8]),
    (9.0, np.sqrt([0.5] * 4).tolist()),
    (17.5, [0.3, 0.45, 0.6, 0.75, 0.9]),
    (45.0, np.sqrt([0.4, 0.5, 0.6, 0.7]).tolist()),
    (120.0, [0.2, 0.95]),
    (3000.0, [0.65, 0.7, 0.75]),
    (np.inf, [0.4, 0.6, 0.7, 0.8, 0.5, 0.55, 0.65, 0.3]),
]
T_TWO = np.array([0.2, 0.9, 1.7, 2.4, 3.1, 4.5, 6.0, 8.0, 12.0, 25.0])
T_ONE = np.array([-2.0, -0.4, 0.0, 0.7, 1.9, 3.3, 5.0, 7.5, 15.0])


GRID_DF = [2.0, 2.5, 4.0, 7.0, 12.0, 22.0, 45.0, 120.0, 1000.0, np.inf]
GRID_T = np.array(
    [0.1, 0.3, 0.6, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5, 4.0, 5.0, 6.0, 7.0, 8.0, 10.0, 12.0]
)
GRID_CONF = [0.90, 0.95, 0.99]
SIDES = ["two-sided", "greater"]


def _grid_lambdas(k: int) -> np.ndarray:
    """Unbalanced λ in (0.1, 0.97) for k comparisons; from k = 4 two of them equal."""
    lam = np.random.default_rng(100 + k).uniform(0.1, 0.97, k)
    if k >= 4:
        lam[-1] = lam[-2]
    return lam


def _grid():
    """(k, df, alternative, conf) cases: rotated (default) or the full product."""
    if os.environ.get("NPLAB_DUNNETT_FULL_GRID"):
        return [(k, df, alt, tuple(GRID_CONF)) for k in range(1, 11) for df in GRID_DF
                for alt in SIDES]  # fmt: skip
    cases = []
    for k in range(1, 11):
        for i_df in (k - 1, k + 4):
            for i_alt, alt in enumerate(SIDES):
                conf = GRID_CONF[(k + i_df + i_alt) % 3]
                cases.append((k, GRID_DF[i_df % 10], alt, (conf,)))
    return cases


def _agree(got, ref):
    got, ref = np.asarray(got), np.asarray(ref)
    np.testing.assert_allclose(got, ref, rtol=0, atol=1e-9)
    big = ref >= 1e-12
    np.testing.assert_allclose(got[big], ref[big], rtol=1e-6, atol=0)


@pytest.mark.parametrize(("df", "lam"), FAMILIES)
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_fast_pvalues_match_reference(df, lam, alternative):
    lam = np.array(lam)
    t = T_TWO if alternative == "two-sided" else T_ONE
    if not np.isfinite(df):
        t = t[t < 9]  # the reference at df = inf is a fixed rule without tail refinement
    p, ok = _dunnett_quad.exceed(t, lam, df, alternative)
    assert ok.all(), "the nested rules should certify these families"
    _agree(p, _exceed_checked(t, lam, df, alternative))
    # the public function (with its fallback) gives the same numbers
    _agree(dunnett_pvalues(t, lam, df, alternative), p)


@pytest.mark.slow
@pytest.mark.parametrize(("df", "lam"), FAMILIES)
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_fast_critical_values_match_reference(df, lam, alternative):
    key = (tuple(float(v) for v in lam), float(df))
    for conf in (0.95, 0.99) if len(lam) <= 3 else (0.95,):
        fast = _dunnett_quad.critical(np.array(lam), df, conf, alternative)
        assert fast is not None
        ref = _critical_reference(*key, conf, alternative)
        assert fast == pytest.approx(ref, abs=1e-9, rel=0)
        # the p-value at the critical value is 1 - conf
        p = _dunnett_quad.exceed(np.array([fast]), np.array(lam), df, alternative)[0][0]
        assert p == pytest.approx(1 - conf, rel=1e-9)
        assert _critical(*key, conf, alternative) == fast


def test_uncertified_statistics_fall_back_to_reference(monkeypatch):
    lam = np.array([0.6, 0.55, 0.7])
    t = np.array([1.0, 2.5, 4.0])

    def never_certified(t, lam, df, alternative):
        return np.zeros(len(t)), np.zeros(len(t), dtype=bool)

    monkeypatch.setattr(_dunnett_quad, "exceed", never_certified)
    got = dunnett_pvalues(t, lam, 12.0)
    np.testing.assert_array_equal(got, _exceed_checked(t, lam, 12.0, "two-sided"))
    assert got.min() > 0


def test_tiny_p_keeps_relative_accuracy_single_comparison():
    # one comparison: the exact answer is Student's t tail (scipy.special.stdtr)
    from scipy import special

    t = np.array([5.0, 9.0, 20.0, 40.0])
    for df in (3.0, 20.0, 200.0):
        p, ok = _dunnett_quad.exceed(t, np.array([0.7]), df, "greater")
        assert ok.all()
        np.testing.assert_allclose(p, special.stdtr(df, -t), rtol=1e-10)


@pytest.mark.parametrize(("df", "lam"), FAMILIES)
@pytest.mark.parametrize("alternative", ["two-sided", "greater"])
def test_derivatives_match_central_differences(df, lam, alternative):
    # dP/dc (analytic, same quadrature) against a central difference of P
    lam = np.array(lam)
    t = np.array([1.5, 2.5, 3.5])
    _, ok, (dp, d2p) = _dunnett_quad._exceed(t, lam, df, alternative, derivs=2)
    assert ok.all()
    h = 1e-5
    fd = (_dunnett_quad.exceed(t + h, lam, df, alternative)[0]
          - _dunnett_quad.exceed(t - h, lam, df, alternative)[0]) / (2 * h)  # fmt: skip
    np.testing.assert_allclose(dp, fd, rtol=1e-6)
    # Halley's d²P/dc² against a central difference of the analytic dP/dc
    fd2 = (_dunnett_quad._exceed(t + h, lam, df, alternative, derivs=1)[2][0]
           - _dunnett_quad._exceed(t - h, lam, df, alternative, derivs=1)[2][0]) / (2 * h)  # fmt: skip
    np.testing.assert_allclose(d2p, fd2, rtol=1e-5, atol=1e-9)


@pytest.mark.slow
@pytest.mark.parametrize(("k", "df", "alternative", "confs"), _grid())
def test_grid_matches_reference(k, df, alternative, confs):
    lam = _grid_lambdas(k)
    t = GRID_T if alternative == "two-sided" else np.r_[-3.0, -1.0, 0.0, GRID_T]
    if not np.isfinite(df):
        t = t[t <= 8]  # the reference at df = inf is a fixed rule without tail refinement
    p, ok = _dunnett_quad.exceed(t, lam, df, alternative)
    assert ok.all(), "the nested rules should certify every family of the grid"
    ref = _exceed_checked(t, lam, df, alternative)
    _agree(p, ref)
    _agree(dunnett_pvalues(t, lam, df, alternative), ref)
    for conf in confs:
        fast = _dunnett_quad.critical(lam, df, conf, alternative)
        assert fast is not None, "the critical value should be certified"
        if k == 1:  # exact: Student's t quantile (the reference's bracket is empty there)
            ref_c = float(stats.t.isf((1 - conf) / (2 if alternative == "two-sided" else 1), df))
        else:
            ref_c = _critical_reference(tuple(float(v) for v in lam), df, conf, alternative)
        assert fast == pytest.approx(ref_c, abs=1e-9, rel=0)
