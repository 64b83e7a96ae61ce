"""nplab.stats.nonparametric against R (tests/stats/reference/np_reference.R).

Reference values: R 4.x base ``kruskal.test``, ``wilcox.test``, ``friedman.test``,
``p.adjust`` and a base-R coding of Dunn (1964); recorded in np_values.csv.  The R
documentation examples are also checked against their printed output
(airquality: chi-squared = 29.267, df = 4, p = 6.901e-06; RoundingTimes: chi-squared =
11.143, df = 2, p = 0.003805).  Tolerance: relative 1e-10 (both sides are closed forms).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.nonparametric import (
    adjust_pvalues,
    dunn,
    friedman,
    kruskal,
    mann_whitney,
    wilcoxon_exact_cdf,
)

REF = Path(__file__).parent / "reference"
RTOL = 1e-10


@pytest.fixture(scope="module")
def rvals() -> dict:
    v = pd.read_csv(REF / "np_values.csv")
    return {(r.test, str(r.case), r.name): r.value for r in v.itertuples()}


def _check_dunn_row(rvals: dict, test: str, r, names=("z", "p", "p_adj")) -> None:
    """Compare one Dunn row with R's by its pair of groups: R lists pairs in its (sorted)
    factor order; nplab in the order of first appearance, so a pair may come reversed
    (z changes sign, p does not)."""
    key, sign = f"{r.a}|{r.b}", 1.0
    if (test, key, "z") not in rvals:
        key, sign = f"{r.b}|{r.a}", -1.0
    for name in names:
        want = rvals[(test, key, name)] * (sign if name == "z" else 1.0)
        assert getattr(r, name) == pytest.approx(want, rel=RTOL), (test, key, name)


def test_kruskal_airquality_documented(rvals):
    aq = pd.read_csv(REF / "np_airquality.csv")
    res = kruskal(aq, dv="Ozone", group="Month")
    assert res.loc[0, "df"] == 4
    assert round(res.loc[0, "H"], 3) == 29.267
    assert f"{res.loc[0, 'p']:.3e}" == "6.901e-06"
    assert res.loc[0, "H"] == pytest.approx(rvals[("kruskal", "airquality", "H")], rel=RTOL)
    assert res.loc[0, "p"] == pytest.approx(rvals[("kruskal", "airquality", "p")], rel=RTOL)
    assert res.loc[0, "n"] == 116


def test_kruskal_ties(rvals):
    vf = pd.read_csv(REF / "np_vf_data.csv")
    res = kruskal(vf, dv="threshold_g", group="group")
    assert res.loc[0, "H"] == pytest.approx(rvals[("kruskal", "vf", "H")], rel=RTOL)
    assert res.loc[0, "p"] == pytest.approx(rvals[("kruskal", "vf", "p")], rel=RTOL)


def test_dunn_all_pairs_holm(rvals):
    vf = pd.read_csv(REF / "np_vf_data.csv")
    res = dunn(vf, dv="threshold_g", group="group")
    assert len(res) == 6
    first = list(dict.fromkeys(vf["group"]))  # pairs in the order of first appearance
    assert list(zip(res["a"], res["b"], strict=True)) == [
        (first[i], first[j]) for i in range(4) for j in range(i + 1, 4)]
    for r in res.itertuples():
        _check_dunn_row(rvals, "dunn_all_holm", r)
    # with R's level order given, the rows are R's, in R's order
    r_order = dunn(vf, dv="threshold_g", group="group", levels={"group": sorted(first)})
    for r in r_order.itertuples():
        assert (("dunn_all_holm", f"{r.a}|{r.b}", "z")) in rvals
        _check_dunn_row(rvals, "dunn_all_holm", r)


@pytest.mark.parametrize("method", ["holm", "bonferroni", "BH", "hochberg"])
def test_dunn_vs_control(rvals, method):
    vf = pd.read_csv(REF / "np_vf_data.csv")
    res = dunn(vf, dv="threshold_g", group="group", control="vehicle", p_adjust=method)
    assert len(res) == 3 and set(res["b"]) == {"vehicle"}
    for r in res.itertuples():
        _check_dunn_row(rvals, f"dunn_ctl_{method}", r, ("z", "p_adj"))


def test_dunn_airquality_missing_values(rvals):
    aq = pd.read_csv(REF / "np_airquality.csv")
    res = dunn(aq, dv="Ozone", group="Month", p_adjust="bonferroni")
    for r in res.itertuples():
        _check_dunn_row(rvals, "dunn_aq_bonf", r, ("z", "p_adj"))


@pytest.mark.parametrize("alt", ["two-sided", "greater", "less"])
def test_mann_whitney_exact(rvals, alt):
    d = pd.read_csv(REF / "np_mw_exact.csv")
    res = mann_whitney(d, dv="v", group="g", alternative=alt)
    ralt = alt.replace("-", ".")
    assert res.loc[0, "method"] == "exact"
    assert res.loc[0, "W"] == rvals[("mw_exact", ralt, "W")]
    assert res.loc[0, "p"] == pytest.approx(rvals[("mw_exact", ralt, "p")], rel=1e-12)


def test_mann_whitney_forced_normal(rvals):
    d = pd.read_csv(REF / "np_mw_exact.csv")
    res = mann_whitney(d, dv="v", group="g", exact=False)
    assert res.loc[0, "p"] == pytest.approx(rvals[("mw_exact_normal", "two.sided", "p")], rel=RTOL)
    res = mann_whitney(d, dv="v", group="g", exact=False, correct=False)
    assert res.loc[0, "p"] == pytest.approx(
        rvals[("mw_exact_normal_nocorr", "two.sided", "p")], rel=RTOL
    )


@pytest.mark.parametrize("alt", ["two-sided", "greater", "less"])
def test_mann_whitney_ties_normal(rvals, alt):
    vf = pd.read_csv(REF / "np_vf_data.csv")
    res = mann_whitney(vf, dv="threshold_g", group="group", a="drug_hi", b="vehicle",
                       alternative=alt, exact=True)
    ralt = alt.replace("-", ".")
    assert res.loc[0, "method"] == "normal"  # ties: R falls back to the normal approximation
    assert res.loc[0, "W"] == rvals[("mw_ties", ralt, "W")]
    assert res.loc[0, "p"] == pytest.approx(rvals[("mw_ties", ralt, "p")], rel=RTOL)


def test_mann_whitney_large_samples_normal(rvals):
    d = pd.read_csv(REF / "np_mw_large.csv")
    res = mann_whitney(d, dv="v", group="g")
    assert res.loc[0, "method"] == "normal"
    assert res.loc[0, "W"] == rvals[("mw_large", "two.sided", "W")]
    assert res.loc[0, "p"] == pytest.approx(rvals[("mw_large", "two.sided", "p")], rel=RTOL)


def test_wilcoxon_exact_cdf_small_case():
    # m = n = 2: W in {0,1,2,2,3,4} over C(4,2) = 6 arrangements
    np.testing.assert_allclose(wilcoxon_exact_cdf(2, 2), [1 / 6, 2 / 6, 4 / 6, 5 / 6, 1.0])


def test_friedman_roundingtimes_documented(rvals):
    rt = pd.read_csv(REF / "np_roundingtimes.csv")
    res = friedman(rt, dv="time", within="method", subject="player")
    assert round(res.loc[0, "chi2"], 3) == 11.143
    assert res.loc[0, "df"] == 2
    assert f"{res.loc[0, 'p']:.4g}" == "0.003805"
    assert res.loc[0, "chi2"] == pytest.approx(rvals[("friedman", "roundingtimes", "chi2")], rel=RTOL)


def test_friedman_within_each_group_with_ties(rvals):
    fr = pd.read_csv(REF / "np_fr_data.csv")
    res = friedman(fr, dv="score", within="time", subject="subject", group="group")
    assert list(res["group"]) == list(dict.fromkeys(fr["group"]))  # first appearance
    assert list(res["group"]) == ["vehicle", "drug", "drug_hi"]
    given = friedman(fr, dv="score", within="time", subject="subject", group="group",
                     levels={"group": ["drug", "drug_hi", "vehicle"]})
    assert list(given["group"]) == ["drug", "drug_hi", "vehicle"]
    pd.testing.assert_frame_equal(given.set_index("group").loc[list(res["group"])].reset_index(),
                                  res)
    for r in res.itertuples():
        assert r.chi2 == pytest.approx(rvals[("friedman_fr", r.group, "chi2")], rel=RTOL)
        assert r.p == pytest.approx(rvals[("friedman_fr", r.group, "p")], rel=RTOL)
        assert r.W == pytest.approx(r.chi2 / (r.n * 3))


def test_friedman_drops_incomplete_subject():
    fr = pd.read_csv(REF / "np_fr_data.csv")
    fr.loc[0, "score"] = np.nan
    res = friedman(fr, dv="score", within="time", subject="subject")
    assert res.loc[0, "n"] == 17


def test_adjust_pvalues_matches_r_p_adjust():
    # R: p.adjust(c(0.01, 0.02, 0.03, 0.04, 0.05), m) for m in holm, hochberg, BH, BY
    p = [0.01, 0.02, 0.03, 0.04, 0.05]
    np.testing.assert_allclose(adjust_pvalues(p, "holm"), [0.05, 0.08, 0.09, 0.09, 0.09])
    np.testing.assert_allclose(adjust_pvalues(p, "hochberg"), [0.05] * 5)
    np.testing.assert_allclose(adjust_pvalues(p, "BH"), [0.05] * 5)
    np.testing.assert_allclose(adjust_pvalues(p, "BY"), [0.1141666666666667] * 5)
    np.testing.assert_allclose(adjust_pvalues(p, "sidak")[0], 1 - 0.99**5)


def test_bad_inputs_name_row_and_column():
    d = pd.DataFrame({"g": ["a", "a", "b", "b"], "y": [1, "x", 3, 4]})
    d.attrs["source"] = "study.csv"
    with pytest.raises(InputError, match=r"study.csv, row 3, column 'y'"):
        kruskal(d, dv="y", group="g")
    with pytest.raises(InputError, match="control group"):
        dunn(d.assign(y=[1, 2, 3, 4]), dv="y", group="g", control="veh")
    with pytest.raises(InputError, match="name the two"):
        mann_whitney(pd.DataFrame({"g": list("abc"), "y": [1, 2, 3]}), dv="y", group="g")
    dup = pd.DataFrame({"s": [1, 1, 2, 2], "t": ["a", "a", "a", "b"], "y": [1, 2, 3, 4]})
    with pytest.raises(InputError, match="two values"):
        friedman(dup, dv="y", within="t", subject="s")


def test_kruskal_dunn_hollander_wolfe(rvals):
    # ?kruskal.test example (Hollander & Wolfe 1973, p. 116): chi-squared = 0.77143, p = 0.68
    hw = pd.read_csv(REF / "np_hollander_wolfe.csv")
    res = kruskal(hw, dv="rate", group="group")
    assert round(res.loc[0, "H"], 5) == 0.77143 and round(res.loc[0, "p"], 2) == 0.68
    assert res.loc[0, "p"] == pytest.approx(rvals[("kruskal", "hollander_wolfe", "p")], rel=RTOL)
    for r in dunn(hw, dv="rate", group="group").itertuples():
        _check_dunn_row(rvals, "dunn_hw_holm", r, ("z", "p_adj"))


def test_friedman_duplicate_names_the_spreadsheet_row():
    # review: the error named no row; blank values before it must not shift the number
    d = pd.DataFrame({"s": [1, 1, 2, 2, 2, 3, 3], "t": ["a", "b", "a", "b", "b", "a", "b"],
                      "y": [np.nan, 2.0, 1.0, 3.0, 4.0, 5.0, 1.0]})
    with pytest.raises(InputError, match=r"row 6, column 't': subject 2 has two values"):
        friedman(d, dv="y", within="t", subject="s")
