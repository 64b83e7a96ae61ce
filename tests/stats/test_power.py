"""nplab.stats.power against R (reference/power_reference.R) and published G*Power output.

* two groups: R ``power.t.test`` (n to 1e-10 with ``tol = 1e-12``; power rel 1e-8);
* one-way ANOVA: R ``power.anova.test`` (power rel 1e-8; n rel 1e-8 vs a uniroot at
  tol 1e-12, and rel 1e-5 vs ``power.anova.test``'s own default-tolerance n);
* group × time: the G*Power 3 λ/df formulas evaluated in R with ``pf`` (power rel 1e-8,
  N exact), plus G*Power's published outputs quoted on Cross Validated (question 68754,
  answer by the G*Power user): one-way ANOVA, 3 groups, f = .25, α = .05, power = .95 ⇒
  N = 252; within factor, 3 measures, ρ = 0 ⇒ N = 84.
"""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.power import (
    cohens_f,
    pilot_effects,
    power_anova,
    power_rm_anova,
    power_ttest,
)

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def rv() -> dict:
    v = pd.read_csv(REF / "power_values.csv")
    return {(r.case, r.name): r.value for r in v.itertuples()}


@pytest.mark.parametrize("d", [0.5, 0.8, 1.5])
def test_ttest_matches_power_t_test(rv, d):
    res = power_ttest(d, power=0.8)
    assert res.loc[0, "n_per_group"] == pytest.approx(rv[(f"t_n_d{d:.1f}", "n")], rel=1e-9)
    assert res.loc[0, "power"] == pytest.approx(0.8, abs=1e-10)
    res = power_ttest(d, n=10)
    assert res.loc[0, "power"] == pytest.approx(rv[(f"t_power_d{d:.1f}", "power")], rel=1e-8)
    res = power_ttest(d, n=10, alternative="one-sided")
    assert res.loc[0, "power"] == pytest.approx(rv[(f"t_power1_d{d:.1f}", "power")], rel=1e-8)


def test_ttest_alpha(rv):
    res = power_ttest(1.2, power=0.9, alpha=0.01)
    assert res.loc[0, "n_per_group"] == pytest.approx(rv[("t_n_a01", "n")], rel=1e-9)


def test_anova_matches_power_anova_test(rv):
    f = cohens_f([1, 2, 3, 4.5], sd=2.0)
    assert f == pytest.approx(rv[("anova_power", "f")], rel=1e-12)
    assert power_anova(f, groups=4, n=6).loc[0, "power"] == pytest.approx(
        rv[("anova_power", "power")], rel=1e-8
    )
    n = power_anova(f, groups=4, power=0.9).loc[0, "n_per_group"]
    assert n == pytest.approx(rv[("anova_n", "n")], rel=1e-8)
    assert n == pytest.approx(rv[("anova_n_pat", "n")], rel=1e-5)


def test_gpower_published_examples():
    res = power_anova(0.25, groups=3, power=0.95)
    assert math.ceil(res.loc[0, "n_per_group"]) * 3 == 252
    res = power_rm_anova(0.25, groups=1, measures=3, rho=0.0, effect="within", power=0.95)
    assert res.loc[0, "n_total"] == 84


@pytest.mark.parametrize("i", range(1, 7))
def test_rm_anova_matches_gpower_formulas_in_r(rv, i):
    c = pd.read_csv(REF / "power_rm_cases.csv").iloc[i - 1]
    kw = dict(groups=int(c.k), measures=int(c.m), rho=c.rho, eps=c.eps, effect=c.effect)
    res = power_rm_anova(c.f, n_total=int(c.N), **kw)
    assert res.loc[0, "power"] == pytest.approx(rv[(f"rm_{i}", "power")], rel=1e-8)
    res = power_rm_anova(c.f, power=0.9, **kw)
    assert res.loc[0, "n_total"] == rv[(f"rm_{i}", "N90")]
    assert res.loc[0, "power"] >= 0.9


def test_rm_between_ignores_eps_and_interaction_uses_it():
    a = power_rm_anova(0.3, groups=3, measures=4, eps=1.0, effect="between", n_total=30)
    b = power_rm_anova(0.3, groups=3, measures=4, eps=0.5, effect="between", n_total=30)
    assert a.loc[0, "power"] == b.loc[0, "power"]
    c = power_rm_anova(0.3, groups=3, measures=4, eps=0.5, effect="interaction", n_total=30)
    d = power_rm_anova(0.3, groups=3, measures=4, eps=1.0, effect="interaction", n_total=30)
    assert c.loc[0, "power"] < d.loc[0, "power"]
    assert c.loc[0, "df1"] == pytest.approx(3.0)


def _pilot() -> pd.DataFrame:
    # 2 groups x 3 times, 4 animals each; known structure
    rows = []
    base = {"veh": [10.0, 4.0, 4.0], "drug": [10.0, 4.0, 8.0]}
    dev = [[1, 0, 2], [-1, 1, -1], [0.5, -0.5, 0.0], [-0.5, -0.5, -1]]
    for g, mu in base.items():
        for a in range(4):
            for t in range(3):
                rows.append({"rat": f"{g}{a}", "group": g, "time": t, "y": mu[t] + dev[a][t]})
    return pd.DataFrame(rows)


def test_pilot_effects_by_hand():
    df = _pilot()
    res = pilot_effects(df, dv="y", subject="rat", between="group", within="time").set_index("effect")
    dev = np.array([[1, 0, 2], [-1, 1, -1], [0.5, -0.5, 0.0], [-0.5, -0.5, -1]])
    # residual covariance: both groups share the deviations, so S = dev'dev / 3 (pooled df 6)
    cov = 2 * dev.T @ dev / 6
    sd = math.sqrt(np.mean(np.diag(cov)))
    assert res.loc["between", "sd"] == pytest.approx(sd, rel=1e-12)
    # group means 6 and 22/3 -> population SD 2/3
    assert res.loc["between", "f"] == pytest.approx((2 / 3) / sd, rel=1e-12)
    # time means 10, 4, 6 -> population SD sqrt(56/9)
    assert res.loc["within", "f"] == pytest.approx(math.sqrt(56 / 9) / sd, rel=1e-12)
    # interaction residuals: +-(0, 2/3 ... ) computed directly
    cell = np.array([[10, 4, 4], [10, 4, 8.0]])
    inter = cell - cell.mean(1, keepdims=True) - cell.mean(0) + cell.mean()
    assert res.loc["interaction", "f"] == pytest.approx(np.sqrt(np.mean(inter**2)) / sd)
    corr = cov / np.sqrt(np.outer(np.diag(cov), np.diag(cov)))
    assert res.loc["within", "rho"] == pytest.approx(np.mean(corr[~np.eye(3, dtype=bool)]))
    assert 0.5 <= res.loc["within", "eps"] <= 1.0
    assert res.loc["within", "n_subjects"] == 8


def test_pilot_two_groups_gives_d():
    df = pd.DataFrame({"rat": range(6), "g": ["a"] * 3 + ["b"] * 3, "y": [1, 2, 3, 3, 4, 5.0]})
    res = pilot_effects(df, dv="y", subject="rat", between="g")
    assert res.loc[0, "d"] == pytest.approx(-2.0)  # (2 - 4) / pooled SD 1
    assert res.loc[0, "f"] == pytest.approx(1.0)


def test_power_bad_input():
    with pytest.raises(InputError, match="exactly one"):
        power_ttest(0.5)
    with pytest.raises(InputError, match="rho"):
        power_rm_anova(0.3, groups=2, measures=3, rho=1.0, n_total=20)
    with pytest.raises(InputError, match="eps"):
        power_rm_anova(0.3, groups=2, measures=3, eps=0.2, n_total=20)
    with pytest.raises(InputError, match="effect"):
        power_rm_anova(0.3, groups=2, measures=3, effect="time", n_total=20)


def test_pilot_duplicate_names_the_spreadsheet_row():
    # review: the error named no row (and the private column '_time' without within=)
    from nplab.errors import InputError
    from nplab.stats.power import pilot_effects

    d = pd.DataFrame({"rat": ["a", "b", "c", "c"], "grp": ["v", "v", "d", "d"],
                      "y": [1.0, 2.0, 3.0, 4.0]})
    with pytest.raises(InputError, match=r"row 5, column 'rat': subject 'c' has more"):
        pilot_effects(d, dv="y", subject="rat", between="grp")
