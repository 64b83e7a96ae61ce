"""Exact LL.4 Hessian of the batched fitter against numerical differentiation."""

import numpy as np

from nplab.doseresponse.batch import _hessian_ll4


def _rss(t: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    b, c, d, e = t
    f = c + (d - c) / (1 + np.exp(b * (np.log(x) - np.log(e))))
    return float(np.sum((f - y) ** 2))


def test_exact_hessian_matches_second_differences_of_rss():
    # independent reference: 4-point central second differences of the RSS itself
    # (no Jacobian code involved); the step 1e-4 relative gives ~1e-7 relative accuracy
    x = np.array([0.01, 0.03, 0.1, 0.3, 1.0, 3.0, 10.0, 30.0])
    y = np.array([98.0, 97.5, 90.1, 71.0, 48.2, 22.9, 9.1, 4.4])
    t = np.array([1.1, 3.2, 99.0, 0.9])
    h_ref = np.empty((4, 4))
    step = 1e-4 * np.abs(t)
    for p in range(4):
        for q in range(4):
            def f(a: float, b: float, p: int = p, q: int = q) -> float:
                tt = t.copy()
                tt[p] += a * step[p]
                tt[q] += b * step[q]
                return _rss(tt, x, y)
            h_ref[p, q] = (f(1, 1) - f(1, -1) - f(-1, 1) + f(-1, -1)) / (4 * step[p] * step[q])
    h = _hessian_ll4(x[None], y[None], np.ones((1, 8), bool), np.log(x)[None],
                     np.r_[t, 1.0][None], np.arange(4))[0]
    np.testing.assert_allclose(h, h_ref, rtol=1e-5, atol=1e-6 * np.abs(h_ref).max())
    # a fixed parameter (bottom, position 1) drops its row and column; zero dose adds no curvature
    x0 = np.r_[0.0, x[1:]]
    lx0 = np.where(x0 > 0, np.log(np.where(x0 > 0, x0, 1.0)), 0.0)
    h3 = _hessian_ll4(x0[None], y[None], np.ones((1, 8), bool), lx0[None], np.r_[t, 1.0][None],
                      np.array([0, 2, 3]))[0]
    assert np.all(np.isfinite(h3)) and h3.shape == (3, 3)
    np.testing.assert_allclose(h3, h3.T)
