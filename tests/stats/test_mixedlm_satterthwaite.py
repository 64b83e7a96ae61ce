"""mixed_model's Satterthwaite inference against lmerTest / emmeans.

Values recorded by tests/stats/reference/lmm_satterthwaite_reference.R (lme4 1.1-31,
lmerTest 3.1-3, emmeans 1.8.4-1) on a CCI-like design with 10 % of the observations
missing (treatment × sex between, time × paw within) and on sleepstudy.  nplab polishes
statsmodels' REML optimum in lme4's parametrisation; estimates then agree with lme4 to
~1e-8 and Satterthwaite df (numerical Hessians on both sides) to ~3e-5 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.stats.mixedlm import ANOVA_LMM_COLUMNS, FIXED_COLUMNS, mixed_model

REF = Path(__file__).parent / "reference"
RTOL_EST = 1e-6
RTOL_DF = 1e-4
ATOL_P = 1e-6


def _exp(name, case):
    return pd.read_csv(REF / f"lmm_satt_expected_{name}.csv", comment="#").query("case == @case")


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "lmm_data_fact_missing.csv")


@pytest.fixture(scope="module")
def ipsi_fit(data):
    return mixed_model(data[data["paw"] == "ipsi"], dv="log_threshold", between="treatment",
                       within="time", subject="animal")  # fmt: skip


@pytest.fixture(scope="module")
def both_fit(data):
    return mixed_model(data, dv="log_threshold", between=["treatment", "sex"],
                       within=["time", "paw"], subject="animal")  # fmt: skip


@pytest.fixture(scope="module")
def sleep_fit():
    sleep = pd.read_csv(REF / "lmm_data_sleepstudy.csv")
    return mixed_model(sleep, "Reaction ~ Days", "Subject", re_formula="~Days")


@pytest.mark.parametrize("case", ["ipsi", "both", "sleep"])
def test_fixed_effects_t_tests_match_lmertest(case, ipsi_fit, both_fit, sleep_fit):
    fit = {"ipsi": ipsi_fit, "both": both_fit, "sleep": sleep_fit}[case]
    exp = _exp("fixed", case)
    got = fit.fixed
    # sleepstudy's REML surface is flat at the optimum: nplab's deviance is 2e-9 below
    # lme4's (1743.628271958 vs …960), θ differ by ~1e-5, SEs by 6e-6 relative
    rtol = 2e-5 if case == "sleep" else RTOL_EST
    assert list(got.columns) == FIXED_COLUMNS and len(got) == len(exp)
    np.testing.assert_allclose(got["estimate"], exp["estimate"], rtol=RTOL_EST, atol=1e-9)
    np.testing.assert_allclose(got["se"], exp["se"], rtol=rtol)
    np.testing.assert_allclose(got["df"], exp["df"], rtol=RTOL_DF)
    np.testing.assert_allclose(got["t"], exp["t"], rtol=rtol, atol=1e-9)
    np.testing.assert_allclose(got["p"], exp["p"], rtol=1e-4, atol=ATOL_P)
    # the reference level of every factor is its first level in the data (vehicle, F,
    # baseline, ipsi): lme4 was fitted with those levels first
    if case != "sleep":
        assert not any("vehicle" in t or "baseline" in t or "[T.F]" in t or "ipsi" in t
                       for t in got["term"])  # fmt: skip
    vc = _exp("varcomp", case)["vcov"].to_numpy()
    ours = fit.variance.set_index("component")["variance"]
    ours = [ours["Subject (intercept)"], ours["Subject Days"],
            ours["Subject (intercept):Days"], ours["Residual"]] if case == "sleep" \
        else ours.to_numpy()  # fmt: skip
    np.testing.assert_allclose(ours, vc, rtol=5e-5 if case == "sleep" else 1e-5)


@pytest.mark.parametrize("case", ["ipsi", "both", "sleep"])
def test_type3_anova_matches_lmertest(case, ipsi_fit, both_fit, sleep_fit):
    fit = {"ipsi": ipsi_fit, "both": both_fit, "sleep": sleep_fit}[case]
    exp = _exp("anova", case)
    got = fit.anova()
    assert list(got.columns) == ANOVA_LMM_COLUMNS
    assert list(got["source"]) == list(exp["source"])
    np.testing.assert_array_equal(got["df1"], exp["df1"])
    np.testing.assert_allclose(got["df2"], exp["df2"], rtol=RTOL_DF)
    np.testing.assert_allclose(got["F"], exp["F"], rtol=3e-5 if case == "sleep" else 1e-6)
    np.testing.assert_allclose(got["p"], exp["p"], rtol=1e-4, atol=ATOL_P)


@pytest.mark.parametrize(("case", "by"), [("ipsi_time", ["time"]),
                                          ("both_time_sex", ["time", "sex"]),
                                          ("both_time", "time")])  # fmt: skip
def test_dunnett_within_strata_matches_emmeans(case, by, ipsi_fit, both_fit):
    fit = ipsi_fit if case.startswith("ipsi") else both_fit
    exp = _exp("dunnett", case)
    got = fit.dunnett("treatment", control="vehicle", by=by)
    keys = got[[by] if isinstance(by, str) else by].astype(str).agg("|".join, axis=1)
    assert list(keys) == list(exp["by"]) and list(got["treatment"]) == list(exp["group"])
    np.testing.assert_allclose(got["diff"], exp["estimate"], rtol=RTOL_EST, atol=1e-9)
    np.testing.assert_allclose(got["se"], exp["se"], rtol=RTOL_EST)
    np.testing.assert_allclose(got["df"], exp["df"], rtol=RTOL_DF)
    # exact single-step p with each contrast's df (independent R integral) ...
    np.testing.assert_allclose(got["p"], exp["p_dunnett"], rtol=1e-4, atol=ATOL_P)
    # ... and emmeans' own Monte Carlo "mvt" p (integer df), within its error
    np.testing.assert_allclose(got["p"], exp["p_emmeans"], atol=5e-5)


def test_asymptotic_option_gives_wald_z(data):
    fit = mixed_model(data[data["paw"] == "ipsi"], dv="log_threshold", between="treatment",
                      within="time", subject="animal", ddf="asymptotic")  # fmt: skip
    assert np.isinf(fit.fixed["df"]).all() and np.isinf(fit.anova()["df2"]).all()


def test_counts_description_and_control_as_reference(data):
    ipsi = data[data["paw"] == "ipsi"]
    fit = mixed_model(ipsi, dv="log_threshold", between="treatment", within="time",
                      subject="animal", control="duloxetine")  # fmt: skip
    assert fit.n_obs == len(ipsi) and fit.n_subjects == ipsi["animal"].nunique() == 54
    assert f"{len(ipsi)} observations from 54 animals" in fit.describe()
    assert "C(treatment)[T.vehicle]" in set(fit.fixed["term"])
    assert not fit.singular


def test_singular_fit_warns_and_is_flagged():
    rng = np.random.default_rng(3)
    n, k = 12, 4
    frame = pd.DataFrame({"animal": np.repeat([f"a{i}" for i in range(n)], k),
                          "group": np.repeat(["vehicle", "drug"] * (n // 2), k),
                          "time": np.tile(["t0", "t1", "t2", "t3"], n)})  # fmt: skip
    frame["y"] = rng.normal(size=len(frame))  # no animal effect at all
    frame.loc[frame.index[:4], "y"] -= frame.loc[frame.index[:4], "y"].mean()  # keep it pure noise
    with pytest.warns(UserWarning, match="singular"):
        fit = mixed_model(frame, dv="y", between="group", within="time", subject="animal")
    assert fit.singular and "SINGULAR" in fit.describe()
