"""The Tobit fit is linear in animals (issue 18 item 9) and gives today's numbers.

16,700 animals in one paw x timepoint crashed inside scipy (dense (k+1)^2 Hessian,
trust-exact); 5,000 took 1.6 GB.  The fit now uses the arrowhead structure of the
Hessian.  References: ``reference/tobit_dense_reference.csv`` (the earlier dense fit,
recorded by ``make_tobit_dense_reference.py``), compared at 1e-8 relative; the R
``survreg`` references stay in ``test_hargreaves_censored.py``.
"""

from __future__ import annotations

import sys
import tracemalloc
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.hargreaves.censored import _sigma_estimable, tobit_fit

REF = Path(__file__).parent / "reference"
sys.path.insert(0, str(REF))
from make_tobit_dense_reference import datasets  # noqa: E402


@pytest.fixture(scope="module")
def dense_ref() -> pd.DataFrame:
    return pd.read_csv(REF / "tobit_dense_reference.csv")


def test_same_numbers_as_the_dense_fit(dense_ref):
    """Reference sets, the CCI sample study and heavily censored simulations: 1e-8."""
    sets = datasets()
    assert {s[0] for s in sets} == set(dense_ref["set"])
    for name, y, cens, g in sets:
        ref = dense_ref[dense_ref["set"] == name]
        fit = tobit_fit(y, cens, g)
        assert list(fit.estimable) == list(ref["estimable"])
        assert fit.converged == ref["converged"].iloc[0] and fit.df == ref["df"].iloc[0]
        for col in ("mu", "se", "se_adj"):
            np.testing.assert_allclose(getattr(fit, col), ref[col], rtol=1e-8, err_msg=name)
        for col in ("sigma", "se_log_sigma", "loglik"):
            np.testing.assert_allclose(getattr(fit, col), ref[col].iloc[0], rtol=1e-8,
                                       err_msg=f"{name} {col}")


def _simulate(k: int, m: int = 3, seed: int = 5):
    gen = np.random.default_rng(seed)
    y = gen.normal(np.log(18.0), 0.15, k)[:, None] + gen.normal(0, 0.3, (k, m))
    c = np.log(20.0)
    return np.minimum(y, c).ravel(), (y >= c).ravel(), np.repeat(np.arange(k), m)


def test_twenty_thousand_animals_in_bounded_memory():
    """20,000 animals x 3 trials: the dense Hessian alone would be 3.2 GB; the peak of
    numpy allocations must stay below 100 MB (measured ~7 MB), and the fit must converge
    to the ML estimate (Neyman-Scott: sigma_ML ~ 0.3 sqrt(2/3) = 0.245)."""
    y, cens, g = _simulate(20_000)
    assert 0.2 < cens.mean() < 0.5
    tracemalloc.start()
    try:
        fit = tobit_fit(y, cens, g)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100e6, peak
    assert fit.converged and fit.estimable.sum() > 17_000  # ~9 % of animals: all trials censored
    assert abs(fit.sigma - 0.3 * np.sqrt(2 / 3)) < 0.02
    assert np.isfinite(fit.se[fit.estimable]).all()


def test_split_fit_with_fixed_sigma_is_separable():
    """Given sigma the likelihood separates by animal: fitting animals 0..9 alone with the
    others' data removed moves their estimates only through sigma; with identical copies
    of one data set (sigma unchanged) the per-animal estimates are identical."""
    y, cens, g = _simulate(10, seed=9)
    one = tobit_fit(y, cens, g)
    k = 10
    two = tobit_fit(np.concatenate([y, y]), np.concatenate([cens, cens]),
                    np.concatenate([g, g + k]))
    np.testing.assert_allclose(two.mu[:k], one.mu, rtol=1e-10)
    np.testing.assert_allclose(two.mu[k:], one.mu, rtol=1e-10)
    np.testing.assert_allclose(two.sigma, one.sigma, rtol=1e-10)


def test_sigma_estimable_is_vectorised_and_unchanged():
    y = np.log([10.0, 10.0, 20.0, 12.0])
    assert not _sigma_estimable(y[:2], np.array([False, False]), np.array([0, 0]), 1)
    assert _sigma_estimable(y[1:3], np.array([False, True]), np.array([0, 0]), 1)
    assert _sigma_estimable(y, np.zeros(4, bool), np.array([0, 0, 1, 1]), 2)
    assert not _sigma_estimable(y[[0, 3]], np.zeros(2, bool), np.array([0, 1]), 2)
