"""The batched (Woodbury) REML pieces equal the dense per-subject computation."""

import numpy as np

from nplab.stats._reml import _Groups


def _dense(g: _Groups, theta: np.ndarray):
    """Reference: explicit nᵢ × nᵢ Mᵢ = I + ZᵢΛΛᵀZᵢᵀ, its inverse and determinant."""
    lam = g.lam(theta)
    logdet, xmx, xmy = 0.0, np.zeros((g.p, g.p)), np.zeros(g.p)
    minv = []
    for x, z, y in zip(g.x, g.z, g.y, strict=True):
        m = np.eye(len(y)) + z @ lam @ lam.T @ z.T
        mi = np.linalg.inv(m)
        logdet += np.linalg.slogdet(m)[1]
        xmx += x.T @ mi @ x
        xmy += x.T @ mi @ y
        minv.append(mi)
    beta = np.linalg.solve(xmx, xmy)
    rss = sum((y - x @ beta) @ mi @ (y - x @ beta) for x, y, mi in zip(g.x, g.y, minv, strict=True))
    zmx = np.stack([z.T @ mi @ x for x, z, mi in zip(g.x, g.z, minv, strict=True)])
    return logdet, xmx, beta, rss, zmx


def test_batched_parts_equal_dense_inverse():
    rng = np.random.default_rng(7)
    sizes = [3, 5, 4, 5, 2, 6]  # unequal subject sizes
    xs, zs, ys = [], [], []
    for n in sizes:
        t = rng.uniform(0, 4, n)
        xs.append(np.column_stack([np.ones(n), t, rng.integers(0, 2, n)]))
        zs.append(np.column_stack([np.ones(n), t]))
        ys.append(rng.normal(10, 2, n) + 0.5 * t)
    g = _Groups(xs, zs, ys, sum(sizes), 3, 2)
    for theta in ([0.8, 0.3, 0.5], [0.0, 0.0, 0.0], [2.5, -1.0, 0.1]):
        got = g.parts(np.array(theta))
        exp = _dense(g, np.array(theta))
        for a, b in zip(got, exp, strict=True):
            np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-10)
