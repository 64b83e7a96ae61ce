"""Independent review checks (review1) of nplab.stats part B against R and by hand.

R values: ``reference/review_np.R`` (R 4.2.2, base ``stats``: kruskal.test, wilcox.test,
friedman.test, power.t.test, power.anova.test, and Hedges' g from its definition with a
``pt``/``uniroot`` noncentral-t interval), printed by the script and recorded below; data
in ``review_np_kw.csv`` / ``review_np_friedman.csv``.  Tolerances: rel 1e-10 for closed
forms (noncentral F power rel 1e-8); power.anova.test's n rel 1e-5 (R's default uniroot tol is 1.2e-4, nplab solves to
1e-12); Hedges' g CI abs 1e-9 (R printed to 12 decimals).  Endpoints: hand arithmetic.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.stats.effsize import hedges_g
from nplab.stats.endpoints import endpoints
from nplab.stats.nonparametric import dunn, friedman, kruskal, mann_whitney
from nplab.stats.power import power_anova, power_ttest

REF = Path(__file__).parent / "reference"


def test_kruskal_ties_and_group_of_one_against_r():
    d = pd.read_csv(REF / "review_np_kw.csv")
    res = kruskal(d, dv="y", group="g").iloc[0]
    assert res["H"] == pytest.approx(5.81209964412812, rel=1e-10)
    assert res["df"] == 3 and res["n"] == 19
    assert res["p"] == pytest.approx(0.121118568177608, rel=1e-10)


def test_dunn_vs_control_by_hand():
    # Dunn (1964) z with the tie-corrected variance, recomputed here from the ranks
    d = pd.read_csv(REF / "review_np_kw.csv")
    res = dunn(d, dv="y", group="g", control="veh", p_adjust="bonferroni")
    y = d["y"].to_numpy()
    r = pd.Series(y).rank().to_numpy()
    n = y.size
    _, t = np.unique(y, return_counts=True)
    var0 = n * (n + 1) / 12 - np.sum(t**3 - t) / (12 * (n - 1))
    assert len(res) == 3 and set(res["b"]) == {"veh"}
    for row in res.itertuples():
        ra, rb = r[(d.g == row.a).to_numpy()], r[(d.g == "veh").to_numpy()]
        z = (ra.mean() - rb.mean()) / math.sqrt(var0 * (1 / ra.size + 1 / rb.size))
        p = math.erfc(abs(z) / math.sqrt(2))
        assert row.z == pytest.approx(z, rel=1e-12)
        assert row.p == pytest.approx(p, rel=1e-12)
        assert row.p_adj == pytest.approx(min(1.0, 3 * p), rel=1e-12)


def test_mann_whitney_against_r():
    d = pd.read_csv(REF / "review_np_kw.csv")
    res = mann_whitney(d, dv="y", group="g", a="veh", b="pos").iloc[0]
    assert (res["W"], res["method"]) == (12.0, "normal")  # ties: normal approximation
    assert res["p"] == pytest.approx(0.214936131628594, rel=1e-10)
    x = pd.DataFrame({"g": ["x"] * 4 + ["y"] * 3, "v": [1.1, 2.2, 3.5, 4.1, 0.5, 0.7, 5.2]})
    two = mann_whitney(x, dv="v", group="g").iloc[0]
    assert (two["W"], two["method"]) == (8.0, "exact")
    assert two["p"] == pytest.approx(0.628571428571429, rel=1e-12)
    assert mann_whitney(x, dv="v", group="g", alternative="less").iloc[0]["p"] == pytest.approx(
        0.8, rel=1e-12
    )


def test_friedman_ties_against_r():
    f = pd.read_csv(REF / "review_np_friedman.csv")
    res = friedman(f, dv="y", within="t", subject="s").iloc[0]
    assert res["chi2"] == pytest.approx(0.348837209302326, rel=1e-10)
    assert res["df"] == 3
    assert res["p"] == pytest.approx(0.950596372470534, rel=1e-10)


def test_power_against_r():
    assert power_ttest(1.0, power=0.9).loc[0, "n_per_group"] == pytest.approx(
        22.021095570094, rel=1e-9
    )
    assert power_ttest(1.2, n=10).loc[0, "power"] == pytest.approx(0.71840215315806, rel=1e-10)
    one = power_ttest(1.2, n=10, alternative="one-sided")
    assert one.loc[0, "power"] == pytest.approx(0.825222452548755, rel=1e-10)
    f = math.sqrt((4 - 1) / 4 * 1 / 3)  # power.anova.test(between.var = 1, within.var = 3)
    assert power_anova(f, groups=4, power=0.8).loc[0, "n_per_group"] == pytest.approx(
        11.9261309577355, rel=1e-5
    )
    assert power_anova(f, groups=4, n=5).loc[0, "power"] == pytest.approx(
        0.353559423815302, rel=1e-8  # R's noncentral-F pf vs scipy's differ at 3e-10
    )


def test_hedges_g_exact_ci_against_r():
    d = pd.DataFrame({"g": ["a"] * 5 + ["b"] * 6,
                      "y": [5.1, 4.8, 6.2, 5.9, 5.5, 4.1, 4.4, 3.9, 5.0, 4.2, 4.6]})
    res = hedges_g(d, dv="y", group="g").iloc[0]
    assert res["d"] == pytest.approx(2.361262946172, abs=1e-9)
    assert res["g"] == pytest.approx(2.157898919427, abs=1e-9)
    assert res["ci_low"] == pytest.approx(0.663330012838, abs=1e-9)
    assert res["ci_high"] == pytest.approx(3.588736867592, abs=1e-9)


def test_endpoints_by_hand_linear():
    # Hargreaves latencies (s), cut-off 20 s: baseline 10, pre-dose 4, 8 / 6 / 5 s at 1, 2, 4 h
    d = pd.DataFrame({"rat": ["a"] * 5, "time": ["BL", "pre", 1, 2, 4],
                      "latency_s": [10.0, 4.0, 8.0, 6.0, 5.0]})
    res = endpoints(d, dv="latency_s", subject="rat", time="time", baseline="BL",
                    predose="pre", cutoff=20.0)
    assert set(res["scale"]) == {"linear"}

    def get(name):
        return res[res.endpoint == name]["value"].to_numpy()

    np.testing.assert_allclose(get("change"), [4, 2, 1], rtol=1e-15)
    np.testing.assert_allclose(get("mpe"), [25, 12.5, 6.25], rtol=1e-15)  # / (20 - 4)
    np.testing.assert_allclose(get("reversal"), [400 / 6, 200 / 6, 100 / 6], rtol=1e-15)
    # trapezoids from the pre-dose point at t = 0: (4+8)/2 + (8+6)/2 + 2(6+5)/2 = 24
    assert get("auc")[0] == pytest.approx(24.0, rel=1e-15)
    assert get("auc_change")[0] == pytest.approx(2 + 3 + 3, rel=1e-15)
    assert get("auc_mpe")[0] == pytest.approx(12.5 + 18.75 + 18.75, rel=1e-15)
    post = endpoints(d, dv="latency_s", subject="rat", time="time", baseline="BL",
                     predose="pre", cutoff=20.0, auc_from_predose=False)
    assert post[post.endpoint == "auc"]["value"].iloc[0] == pytest.approx(7 + 11, rel=1e-15)
