"""Independent review (review4) of mixed_anova / dunnett / tukey / level order.

Reference values from ``tests/stats/reference/review4_reference.R`` on
``review4_data.csv`` (5 groups with n = 5, 4, 6, 3, 1; 5 integer time points stored in
shuffled row order; string animal ids):

* afex::aov_ez (Type III) — compared at 1e-6 relative;
* Dunnett at time 60 — by nested adaptive ``integrate`` of Dunnett's integral (1e-7
  relative), by multcomp ``glht(..., mcp(group = "Dunnett"))`` single-step (randomised
  QMC: 3 significant digits, atol 2e-4) for the one-sided alternatives;
* TukeyHSD — 1e-7 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.stats._design import levels_of
from nplab.stats.anova import mixed_anova
from nplab.stats.mixedlm import mixed_model
from nplab.stats.posthoc import dunnett, dunnett_by_time, tukey

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "review4_data.csv")


def test_anova_matches_afex_unbalanced_with_n1_group(data):
    res = mixed_anova(data, dv="y", between="group", within="time", subject="animal")
    assert list(res["source"]) == ["group", "time", "group:time"]
    expected = {
        "F": [8.89418355, 17.7264654, 4.33858448],
        "p": [0.00086254726, 1.87519053090e-09, 2.06456354329e-05],
        "eps_gg": [np.nan, 0.840148981841, 0.840148981841],
        "p_gg": [0.00086254726, 2.92481650457e-08, 8.31421046575e-05],
        "eps_hf": [np.nan, 1.13749178478, 1.13749178478],
        "p_hf": [0.00086254726, 1.87519053090e-09, 2.06456354329e-05],
        "mauchly_w": [np.nan, 0.693997308704, 0.693997308704],
        "mauchly_p": [np.nan, 0.874124758613, 0.874124758613],
        "np2": [0.717609474998, 0.558728026664, 0.553490810614],
        "ges": [0.638892357076, 0.277783228690, 0.273546962933],
        "ss": [35.7129739158, 7.7637842166, 7.6008009236],
    }
    for col, want in expected.items():
        np.testing.assert_allclose(res[col].to_numpy(float), want, rtol=1e-6, err_msg=col)
    np.testing.assert_array_equal(res["df1"], [4, 4, 16])
    np.testing.assert_array_equal(res["df2"], [14, 56, 56])


def test_dunnett_n1_group_two_sided_exact(data):
    res = dunnett(data[data["time"] == 60], dv="y", group="group", control="vehicle")
    res = res.set_index("group").loc[["sham", "drugA", "drugB", "solo"]]
    # nested adaptive integrate (independent of nplab's quadrature)
    np.testing.assert_allclose(
        res["p"], [0.2210455193, 0.001253368931, 0.9742252016, 0.6026684352], rtol=1e-7
    )
    np.testing.assert_allclose(
        res["t"], [1.9465814375, 4.7059354126, -0.4736824574, 1.2198208139], rtol=1e-9
    )
    crit = 2.78501061297
    np.testing.assert_allclose(res["ci_low"], res["diff"] - crit * res["se"], rtol=1e-9)
    # multcomp confint (its quantile is found on noisy pmvt: 2.784846)
    np.testing.assert_allclose(
        res["ci_low"], [-0.2501870202, 0.5175603020, -1.0587621904, -0.7627626989], atol=2e-4
    )
    np.testing.assert_allclose(
        res["ci_high"], [1.4121342828, 2.0180894249, 0.7509440234, 1.9517966218], atol=2e-4
    )


@pytest.mark.parametrize(
    ("alternative", "want"),
    [
        ("greater", [0.11245, 0.0006272, 0.94306, 0.32453]),
        ("less", [0.99918, 1.0, 0.66271, 0.99249]),
    ],
)
def test_dunnett_one_sided_sign_convention_as_multcomp(data, alternative, want):
    res = dunnett(data[data["time"] == 60], dv="y", group="group", control="vehicle",
                  alternative=alternative)  # fmt: skip
    res = res.set_index("group").loc[["sham", "drugA", "drugB", "solo"]]
    np.testing.assert_allclose(res["p"], want, atol=2e-4)
    open_side = "ci_high" if alternative == "greater" else "ci_low"
    assert np.isinf(res[open_side]).all()


def test_tukey_matches_tukeyhsd(data):
    res = tukey(data[data["time"] == 60], dv="y", group="group")
    got = {(a, b): row for a, b, row in zip(res["a"], res["b"], res.itertuples(), strict=True)}
    # R: "drugB-drugA" = drugB − drugA
    for (hi, lo), diff, p in [
        (("drugB", "drugA"), -1.42173394697, 0.003693778427),
        (("vehicle", "drugA"), -1.26782486346, 0.002619602198),
        (("solo", "sham"), 0.01354333014, 0.999999857782),
        (("vehicle", "solo"), -0.59451696147, 0.740618046404),
    ]:
        row = got.get((hi, lo))
        sign = 1.0
        if row is None:
            row, sign = got[(lo, hi)], -1.0
        np.testing.assert_allclose(sign * row.diff, diff, rtol=1e-9)
        np.testing.assert_allclose(row.p_adj, p, rtol=1e-7)


def test_numeric_levels_keep_first_appearance_unless_given():
    # one rule (nplab.stats._levels): numbers and numeric text are not sorted
    s = pd.Series(["240", "0", "30", "120", "60"])
    assert levels_of(s, "time", s.to_frame("time")) == ["240", "0", "30", "120", "60"]
    n = pd.Series([240, 0, 30, 120, 60])
    assert levels_of(n, "time", n.to_frame("time")) == [240, 0, 30, 120, 60]
    # given levels win; numbers given for a text column match by text (the data's labels)
    assert levels_of(s, "time", s.to_frame("time"), [0, 30, 60, 120, 240]) == [
        "0", "30", "60", "120", "240"]
    named = pd.Series(["baseline", "pre", "1", "2"])
    assert levels_of(named, "time", named.to_frame("time")) == ["baseline", "pre", "1", "2"]


def test_time_as_text_gives_same_order_and_numbers_as_integers(data):
    first = list(dict.fromkeys(data["time"]))  # the file's rows are shuffled
    assert first != sorted(first)
    as_int = dunnett_by_time(data, "y", "group", "time", "animal", control="vehicle")
    text = data.assign(time=data["time"].astype(str))
    as_str = dunnett_by_time(text, "y", "group", "time", "animal", control="vehicle")
    assert list(dict.fromkeys(as_int["time"])) == first
    assert list(dict.fromkeys(as_str["time"])) == [str(t) for t in first]
    cols = ["diff", "se", "t", "p", "ci_low", "ci_high"]
    np.testing.assert_array_equal(as_int[cols].to_numpy(), as_str[cols].to_numpy())
    order = {"time": [0, 30, 60, 120, 240]}
    by_int = dunnett_by_time(data, "y", "group", "time", "animal", control="vehicle",
                             levels=order)
    by_str = dunnett_by_time(text, "y", "group", "time", "animal", control="vehicle",
                             levels=order)
    assert list(dict.fromkeys(by_int["time"])) == [0, 30, 60, 120, 240]
    assert list(dict.fromkeys(by_str["time"])) == ["0", "30", "60", "120", "240"]
    np.testing.assert_array_equal(by_int[cols].to_numpy(), by_str[cols].to_numpy())
    key = ["time", "group"]
    pd.testing.assert_frame_equal(by_int.sort_values(key).reset_index(drop=True),
                                  as_int.sort_values(key).reset_index(drop=True))
    fit = mixed_model(text, formula="y ~ C(group) * C(time)", subject="animal", levels=order)
    em = fit.emmeans(["time"])
    assert list(em["time"]) == ["0", "30", "60", "120", "240"]
    em_first = mixed_model(text, formula="y ~ C(group) * C(time)", subject="animal"
                           ).emmeans(["time"])
    assert list(em_first["time"]) == [str(t) for t in first]


def test_emmeans_default_is_all_factors_in_formula_order(data):
    fit = mixed_model(data, formula="y ~ C(group) * C(time)", subject="animal")
    default = fit.emmeans()
    explicit = fit.emmeans(["group", "time"])
    assert list(default.columns[:2]) == ["group", "time"]
    pd.testing.assert_frame_equal(default, explicit)
    # saturated group × time model on complete data: each marginal mean is the cell mean
    row = default[(default["group"] == "vehicle") & (default["time"] == 0)].iloc[0]
    cell = data[(data["group"] == "vehicle") & (data["time"] == 0)]["y"].mean()
    np.testing.assert_allclose(row["emmean"], cell, rtol=1e-9)


def test_cli_mixed_bad_control_writes_nothing(tmp_path, capsys):
    from nplab.cli import main

    out = tmp_path / "lmm.csv"
    with pytest.raises(SystemExit) as exc:
        main(["stats", "mixed", str(REF / "review4_data.csv"), "-o", str(out),
              "--formula", "y ~ C(group) * C(time)", "--subject", "animal",
              "--emmeans", "group,time", "--dunnett-group", "group", "--control", "placebo",
              "--by", "time"])  # fmt: skip
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "placebo" in err and "'group'" in err
    assert list(tmp_path.iterdir()) == []  # no partial outputs (fixed table, emmeans)


def test_cli_one_way_with_subject_rejects_repeated_rows(tmp_path, capsys):
    from nplab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(["stats", "dunnett", str(REF / "review4_data.csv"), "-o", str(tmp_path / "o.csv"),
              "--dv", "y", "--group", "group", "--subject", "animal", "--control", "vehicle"])  # fmt: skip
    err = capsys.readouterr().err
    assert exc.value.code == 2 and "'animal'" in err and "row " in err and "--within" in err
    assert not (tmp_path / "o.csv").exists()
