"""mixed_anova against R afex::aov_ez (values recorded by tests/stats/reference/anova_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.anova import ANOVA_COLUMNS, mixed_anova

REF = Path(__file__).parent / "reference"
CASES = {
    # name: dv, between, within, subject
    "obk": ("value", "treatment", "hour", "id"),
    "cci": ("log_threshold", "group", "time", "animal"),
    "within": ("log_threshold", None, "time", "animal"),
    "oneway": ("log_threshold", "group", None, "animal"),
    "spherical": ("y", "group", "t", "animal"),  # Huynh-Feldt epsilon > 1 (reported uncapped)
}
RTOL = 1e-6


def _load(name):
    data = pd.read_csv(REF / f"anova_data_{name}.csv")
    expected = pd.read_csv(REF / f"anova_expected_{name}.csv", comment="#")
    return data, expected


@pytest.mark.parametrize("name", sorted(CASES))
def test_matches_afex(name):
    data, expected = _load(name)
    dv, between, within, subject = CASES[name]
    got = mixed_anova(data, dv=dv, between=between, within=within, subject=subject)
    assert list(got.columns) == ANOVA_COLUMNS
    assert list(got["source"]) == list(expected["source"])
    pairs = {
        "df1": "df1", "df2": "df2", "F": "F", "p": "p", "np2": "np2", "ges": "ges",
        "ss": "SS", "ss_error": "SSE", "eps_gg": "eps_gg", "eps_hf": "eps_hf",
        "mauchly_w": "mauchly_w", "mauchly_p": "mauchly_p",
    }  # fmt: skip
    for ours, theirs in pairs.items():
        np.testing.assert_allclose(
            got[ours].to_numpy(float), expected[theirs].to_numpy(float),
            rtol=RTOL, atol=0, equal_nan=True, err_msg=f"{name}: {ours}",
        )  # fmt: skip
    within_rows = expected["eps_gg"].notna().to_numpy()
    for col in ("p_gg", "p_hf"):
        np.testing.assert_allclose(
            got.loc[within_rows, col].to_numpy(float),
            expected.loc[within_rows, col].to_numpy(float),
            rtol=RTOL,
            err_msg=f"{name}: {col}",
        )
    # between-subject rows: no correction applies, corrected p equals p
    np.testing.assert_array_equal(got.loc[~within_rows, "p_gg"], got.loc[~within_rows, "p"])


def test_row_order_and_level_order_do_not_matter():
    data, _ = _load("cci")
    a = mixed_anova(data, dv="log_threshold", between="group", within="time", subject="animal")
    shuffled = data.sample(frac=1.0, random_state=3).reset_index(drop=True)
    b = mixed_anova(shuffled, dv="log_threshold", between="group", within="time", subject="animal")
    pd.testing.assert_frame_equal(a, b, check_exact=False, rtol=1e-10)


def test_balanced_matches_classical_split_plot_formulas():
    # balanced design: Type III = classical split-plot sums of squares (Winer 1971)
    rng = np.random.default_rng(1)
    g, n, k = 3, 4, 4
    y = rng.normal(size=(g, n, k)) + np.arange(k) * 0.3
    rows = [
        {"s": f"{a}-{i}", "g": a, "t": t, "y": y[a, i, t]}
        for a in range(g) for i in range(n) for t in range(k)
    ]  # fmt: skip
    got = mixed_anova(pd.DataFrame(rows), dv="y", between="g", within="t", subject="s")
    grand = y.mean()
    ss_g = n * k * ((y.mean(axis=(1, 2)) - grand) ** 2).sum()
    ss_subj = k * ((y.mean(axis=2) - y.mean(axis=(1, 2))[:, None]) ** 2).sum()
    ss_t = g * n * ((y.mean(axis=(0, 1)) - grand) ** 2).sum()
    cell = y.mean(axis=1)
    ss_gt = n * ((cell - cell.mean(1, keepdims=True) - cell.mean(0) + grand) ** 2).sum()
    ss_tot = ((y - grand) ** 2).sum()
    ss_err = ss_tot - ss_g - ss_subj - ss_t - ss_gt
    np.testing.assert_allclose(got["ss"], [ss_g, ss_t, ss_gt], rtol=1e-10)
    np.testing.assert_allclose(got["ss_error"], [ss_subj, ss_err, ss_err], rtol=1e-10)
    f_gt = (ss_gt / ((g - 1) * (k - 1))) / (ss_err / ((n * g - g) * (k - 1)))
    assert got.loc[2, "F"] == pytest.approx(f_gt, rel=1e-10)


def test_incomplete_subject_is_an_error_pointing_to_mixed_model():
    data, _ = _load("cci")
    data = data.drop(index=5).reset_index(drop=True)
    with pytest.raises(InputError, match="mixed_model"):
        mixed_anova(data, dv="log_threshold", between="group", within="time", subject="animal")


def test_duplicate_cell_names_row():
    data, _ = _load("cci")
    data = pd.concat([data, data.iloc[[3]]], ignore_index=True)
    with pytest.raises(InputError, match=r"row 158.*more than one value"):
        mixed_anova(data, dv="log_threshold", between="group", within="time", subject="animal")


def test_text_in_dv_names_row_and_column():
    data, _ = _load("cci")
    data["log_threshold"] = data["log_threshold"].astype(object)
    data.loc[10, "log_threshold"] = "n/a"
    with pytest.raises(InputError, match=r"row 12.*log_threshold"):
        mixed_anova(data, dv="log_threshold", between="group", within="time", subject="animal")


def test_subject_in_two_groups_and_missing_column():
    data, _ = _load("cci")
    data.loc[0, "group"] = "vehicle"
    with pytest.raises(InputError, match="two groups"):
        mixed_anova(data, dv="log_threshold", between="group", within="time", subject="animal")
    with pytest.raises(InputError, match="missing"):
        mixed_anova(data, dv="nope", between="group", within="time", subject="animal")


def test_two_level_designs_equal_t_tests():
    # 2 time points: time effect = paired t test (within-only), group × time interaction =
    # pooled two-sample t test on the change scores (t² = F); no sphericity to assess
    from scipy import stats

    data, _ = _load("cci")
    two = data[data["time"].isin(["D14", "h1"]) & data["group"].isin(["vehicle", "drug_high"])]
    wide = two.pivot(index="animal", columns="time", values="log_threshold")
    grp = two.groupby("animal")["group"].first().loc[wide.index]
    change = wide["h1"] - wide["D14"]
    veh = two[two["group"] == "vehicle"]
    w = veh.pivot(index="animal", columns="time", values="log_threshold")
    rm = mixed_anova(veh, dv="log_threshold", within="time", subject="animal")
    t_paired = stats.ttest_rel(w["h1"], w["D14"])
    assert rm.loc[0, "F"] == pytest.approx(t_paired.statistic**2, rel=1e-10)
    assert rm.loc[0, "p"] == pytest.approx(t_paired.pvalue, rel=1e-9)
    assert rm.loc[0, "eps_gg"] == 1.0 and np.isnan(rm.loc[0, "mauchly_w"])
    mx = mixed_anova(two, dv="log_threshold", between="group", within="time", subject="animal")
    t_int = stats.ttest_ind(change[grp == "drug_high"], change[grp == "vehicle"])
    inter = mx.set_index("source").loc["group:time"]
    assert inter["F"] == pytest.approx(t_int.statistic**2, rel=1e-10)
    assert inter["p"] == pytest.approx(t_int.pvalue, rel=1e-9)
    assert inter["p_gg"] == inter["p"]


# --- factorial designs (tests/stats/reference/factorial_reference.R, afex 1.2.1) ---------
FACTORIAL = {
    # name: between, within, observed
    "2b2w": (["treatment", "sex"], ["time", "paw"], "sex"),
    "2b1w": (["treatment", "sex"], "time", ["sex"]),
    "1b2w": ("treatment", ["time", "paw"], None),
    "0b2w": (None, ["time", "paw"], None),
}


@pytest.mark.parametrize("name", sorted(FACTORIAL))
def test_factorial_matches_afex(name):
    data = pd.read_csv(REF / "anova_data_fact.csv")
    if name == "2b1w":
        data = data[data["paw"] == "ipsi"]
    expected = pd.read_csv(REF / f"anova_expected_fact_{name}.csv", comment="#")
    between, within, observed = FACTORIAL[name]
    got = mixed_anova(data, dv="log_threshold", between=between, within=within,
                      subject="animal", observed=observed)  # fmt: skip
    assert list(got["source"]) == list(expected["source"])
    pairs = {"df1": "df1", "df2": "df2", "F": "F", "p": "p", "np2": "np2", "ges": "ges",
             "ss": "SS", "ss_error": "SSE", "eps_gg": "eps_gg", "eps_hf": "eps_hf",
             "mauchly_w": "mauchly_w", "mauchly_p": "mauchly_p", "p_gg": "p_gg",
             "p_hf": "p_hf"}  # fmt: skip
    for ours, theirs in pairs.items():
        want = expected[theirs].to_numpy(float)
        have = got[ours].to_numpy(float)
        if ours in ("p_gg", "p_hf"):  # afex leaves them blank where no correction applies
            have = np.where(np.isnan(want), np.nan, have)
        if ours in ("eps_gg", "eps_hf"):  # two-level within terms: ε = 1 here, blank in afex
            within_row = got["source"].str.contains("time|paw").to_numpy()
            assert (have[np.isnan(want) & within_row] == 1.0).all()
            have = np.where(np.isnan(want), np.nan, have)
        np.testing.assert_allclose(have, want, rtol=RTOL, atol=0, equal_nan=True,
                                   err_msg=f"{name}: {ours}")  # fmt: skip


def test_factorial_observed_changes_only_ges():
    data = pd.read_csv(REF / "anova_data_fact.csv")
    a = mixed_anova(data, dv="log_threshold", between=["treatment", "sex"],
                    within=["time", "paw"], subject="animal")  # fmt: skip
    b = mixed_anova(data, dv="log_threshold", between=["treatment", "sex"],
                    within=["time", "paw"], subject="animal", observed="sex")  # fmt: skip
    np.testing.assert_array_equal(a["F"], b["F"])
    assert (b["ges"] <= a["ges"] + 1e-15).all() and (b["ges"] < a["ges"]).any()


def test_factorial_empty_between_cell_and_incomplete_animal_are_errors():
    data = pd.read_csv(REF / "anova_data_fact.csv")
    no_cell = data[~((data["treatment"] == "vehicle") & (data["sex"] == "M"))]
    with pytest.raises(InputError, match="no subject has treatment = 'vehicle', sex = 'M'"):
        mixed_anova(no_cell, dv="log_threshold", between=["treatment", "sex"],
                    within=["time", "paw"], subject="animal")  # fmt: skip
    with pytest.raises(InputError, match=r"more than one value at time = 'baseline'"):
        mixed_anova(data, dv="log_threshold", between="treatment", within="time",
                    subject="animal")  # fmt: skip
    hole = data.drop(index=data.index[(data["animal"] == "a03") & (data["paw"] == "contra")
                                      & (data["time"] == "d14")])  # fmt: skip
    with pytest.raises(InputError, match=r"a03.*time = 'd14', paw = 'contra'.*nplab stats mixed"):
        mixed_anova(hole, dv="log_threshold", between="treatment", within=["time", "paw"],
                    subject="animal")  # fmt: skip
