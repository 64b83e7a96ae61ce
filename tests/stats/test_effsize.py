"""nplab.stats.effsize against R (reference/effsize_reference.R) and published values.

* Hedges' g: base-R coding of the exact J and noncentral-t CI (the method of
  ``effectsize::hedges_g``) and of the Hedges & Olkin normal CI; tolerances rel 1e-9 for
  d and g, abs 1e-6 for CI limits (R's ``pt`` with ncp warns of < full precision).  The
  published effectsize example ``hedges_g(mpg ~ am, data = mtcars)`` prints
  g = -1.44, 95% CI [-2.21, -0.65].
* η²: R afex 1.x ``aov_ez`` (``anova(es = c("pes", "ges"))`` and ``observed = "group"``) on
  an unbalanced 3-group × 4-time design; rel 1e-9.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.effsize import eta_squared, hedges_g, hedges_g_from_stats, hedges_j

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def rv() -> dict:
    v = pd.read_csv(REF / "effsize_values.csv")
    return {(r.case, r.name): r.value for r in v.itertuples()}


@pytest.mark.parametrize(("case", "ci"), [("mtcars", 0.95), ("mtcars90", 0.90)])
def test_hedges_g_mtcars(rv, case, ci):
    d = pd.read_csv(REF / "effsize_mtcars.csv")
    res = hedges_g(d, dv="mpg", group="am", a="automatic", b="manual", ci=ci)
    r = res.iloc[0]
    assert r.d == pytest.approx(rv[(case, "d")], rel=1e-9)
    assert r.g == pytest.approx(rv[(case, "g")], rel=1e-9)
    assert r.ci_low == pytest.approx(rv[(case, "lo")], abs=1e-6)
    assert r.ci_high == pytest.approx(rv[(case, "hi")], abs=1e-6)
    nres = hedges_g(d, dv="mpg", group="am", a="automatic", b="manual", ci=ci, ci_method="normal")
    assert nres.loc[0, "ci_low"] == pytest.approx(rv[(case, "nlo")], rel=1e-9)
    assert nres.loc[0, "ci_high"] == pytest.approx(rv[(case, "nhi")], rel=1e-9)
    if ci == 0.95:  # published effectsize output
        assert (round(r.g, 2), round(r.ci_low, 2), round(r.ci_high, 2)) == (-1.44, -2.21, -0.65)


def test_hedges_g_small_from_stats(rv):
    x = [4.1, 5.3, 3.8, 6.0, 4.9]
    y = [2.0, 1.4, 2.9, 1.1]
    s = pd.Series
    r = hedges_g_from_stats(s(x).mean(), s(x).std(), 5, s(y).mean(), s(y).std(), 4)
    assert r["g"] == pytest.approx(rv[("small", "g")], rel=1e-9)
    assert r["ci_low"] == pytest.approx(rv[("small", "lo")], abs=1e-6)
    assert r["ci_high"] == pytest.approx(rv[("small", "hi")], abs=1e-6)


def test_hedges_j_known_values():
    # Hedges (1981) Table 2: J(10) = 0.9228, J(20) = 0.9619; approx 1 - 3/(4 df - 1)
    assert hedges_j(10) == pytest.approx(0.9228, abs=1e-4)
    assert hedges_j(20) == pytest.approx(0.9619, abs=1e-4)
    assert hedges_j(200) == pytest.approx(1 - 3 / 799, abs=1e-6)


def test_hedges_g_vs_control_and_pairs():
    d = pd.DataFrame({"g": list("aaabbbccc"), "y": [1, 2, 3, 2, 3, 4, 5, 6, 7.0]})
    res = hedges_g(d, dv="y", group="g", control="a")
    assert list(zip(res.a, res.b, strict=True)) == [("b", "a"), ("c", "a")]
    assert res.loc[0, "d"] == pytest.approx(1.0)
    assert len(hedges_g(d, dv="y", group="g")) == 3


def _table(rv, with_ss=True):
    rows = []
    for src in ("group", "time", "group:time"):
        row = {"source": src, "df1": rv[(src, "df1")], "df2": rv[(src, "df2")], "F": rv[(src, "F")]}
        if with_ss:
            row["ss"] = rv[(src, "ss")]
            row["ss_error"] = rv[(src, "ss_error")]
        rows.append(row)
    return pd.DataFrame(rows)


def test_eta_squared_matches_afex(rv):
    tab = _table(rv)
    res = eta_squared(tab)
    for r in res.itertuples():
        assert r.np2 == pytest.approx(rv[(r.source, "pes")], rel=1e-9)
        assert r.ges == pytest.approx(rv[(r.source, "ges")], rel=1e-9)
    res = eta_squared(tab, observed=["group"])
    for r in res.itertuples():
        assert r.ges == pytest.approx(rv[(r.source, "ges_obs_group")], rel=1e-9)
    assert "np2" not in tab.columns  # input untouched


def test_eta_squared_without_ss(rv):
    res = eta_squared(_table(rv, with_ss=False))
    assert res["ges"].isna().all()
    assert res.loc[0, "np2"] == pytest.approx(rv[("group", "pes")], rel=1e-9)


def test_effsize_bad_input(rv):
    with pytest.raises(InputError, match="observed factor"):
        eta_squared(_table(rv), observed=["sex"])
    with pytest.raises(InputError, match="'F'"):
        eta_squared(pd.DataFrame({"source": ["a"], "df1": [1], "df2": [2]}))
    d = pd.DataFrame({"g": list("aab"), "y": [1, 2, 3.0]})
    with pytest.raises(InputError, match="at least 2"):
        hedges_g(d, dv="y", group="g", a="a", b="b")
    with pytest.raises(InputError, match="ci_method"):
        hedges_g_from_stats(1, 1, 3, 0, 1, 3, ci_method="boot")


def test_eta_squared_on_mixed_anova_output(rv):
    """stats.mixed_anova's table feeds eta_squared (afex values)."""
    from nplab.stats import anova

    d = pd.read_csv(REF / "effsize_mixed.csv")
    tab = anova.mixed_anova(d, dv="y", between="group", within="time", subject="rat")
    res = eta_squared(tab[["source", "df1", "df2", "F", "ss", "ss_error"]])
    for r in res.itertuples():
        assert r.np2 == pytest.approx(rv[(r.source, "pes")], rel=1e-8)
        assert r.ges == pytest.approx(rv[(r.source, "ges")], rel=1e-8)
