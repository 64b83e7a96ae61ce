"""mixed_model against lme4 / emmeans (values recorded by tests/stats/reference/lmm_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.mixedlm import FIXED_COLUMNS, mixed_model

REF = Path(__file__).parent / "reference"
# statsmodels and lme4 use different optimizers: REML estimates agree to ~1e-5 relative
RTOL_FIXED = 1e-6  # fixed effects are GLS estimates, insensitive to small variance error
RTOL_SE = 1e-4
RTOL_VAR = 1e-4

GROUPS = ["sham", "vehicle", "drug_low", "drug_high"]
TIMES = ["BL", "D14", "h0.5", "h1", "h2", "h4"]


def _expected(name):
    return pd.read_csv(REF / f"lmm_expected_{name}.csv", comment="#")


@pytest.fixture(scope="module")
def sleep():
    return pd.read_csv(REF / "lmm_data_sleepstudy.csv")


@pytest.fixture(scope="module")
def sleep_slope(sleep):
    return mixed_model(sleep, formula="Reaction ~ Days", subject="Subject", re_formula="~Days",
                       ddf="asymptotic")  # fmt: skip


@pytest.fixture(scope="module")
def cci_fit():
    data = pd.read_csv(REF / "lmm_data_cci_missing.csv")
    data["group"] = pd.Categorical(data["group"], GROUPS)
    data["time"] = pd.Categorical(data["time"], TIMES)
    return mixed_model(data, formula="log_threshold ~ group * time", subject="animal",
                       ddf="asymptotic")  # fmt: skip


def test_sleepstudy_published_values(sleep_slope):
    # Bates et al. (2015) J Stat Softw 67(1): fixed effects 251.405 (6.825), 10.467 (1.546)
    fit = sleep_slope
    assert list(fit.fixed.columns) == FIXED_COLUMNS
    est = fit.fixed.set_index("term")
    assert est.loc["Intercept", "estimate"] == pytest.approx(251.405, abs=5e-4)
    assert est.loc["Days", "estimate"] == pytest.approx(10.467, abs=5e-4)
    assert est.loc["Intercept", "se"] == pytest.approx(6.825, abs=5e-4)
    assert est.loc["Days", "se"] == pytest.approx(1.546, abs=5e-4)
    assert fit.converged and fit.n_obs == 180 and fit.n_subjects == 18


@pytest.mark.parametrize("case", ["slope", "intercept"])
def test_sleepstudy_matches_lme4(sleep, sleep_slope, case):
    if case == "slope":
        fit = sleep_slope
    else:
        fit = mixed_model(sleep, formula="Reaction ~ Days", subject="Subject")
    exp = _expected("fixed").query("case == @case")
    np.testing.assert_allclose(fit.fixed["estimate"], exp["estimate"], rtol=RTOL_FIXED)
    np.testing.assert_allclose(fit.fixed["se"], exp["se"], rtol=RTOL_SE)
    vc = _expected("varcomp").query("case == @case")["vcov"].to_numpy()
    if case == "slope":  # lme4 order: var(Int), var(Days), cov, residual
        got = fit.variance.set_index("component")["variance"]
        ours = [got["Subject (intercept)"], got["Subject Days"],
                got["Subject (intercept):Days"], got["Residual"]]
    else:
        ours = fit.variance["variance"].to_numpy()
    np.testing.assert_allclose(ours, vc, rtol=RTOL_VAR)


def test_sleepstudy_emmeans_at_days(sleep_slope):
    fit = sleep_slope
    em = fit.emmeans("Days", at={"Days": [0, 4.5, 9]})
    exp = _expected("emmeans").query("case == 'sleep_days'")
    np.testing.assert_allclose(em["emmean"], exp["emmean"], rtol=RTOL_FIXED)
    np.testing.assert_allclose(em["se"], exp["SE"], rtol=RTOL_SE)
    np.testing.assert_allclose(em["ci_low"], exp["asymp.LCL"], rtol=RTOL_SE)


def test_cci_missing_fixed_effects_match_lme4(cci_fit):
    exp = _expected("fixed").query("case == 'cci'")
    assert len(exp) == len(cci_fit.fixed) == 24
    np.testing.assert_allclose(cci_fit.fixed["estimate"], exp["estimate"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(cci_fit.fixed["se"], exp["se"], rtol=RTOL_SE)
    assert cci_fit.n_obs == 147 and cci_fit.n_subjects == 26


def test_cci_emmeans_group_by_time(cci_fit):
    em = cci_fit.emmeans(["group", "time"])
    exp = _expected("emmeans").query("case == 'group_time'")
    got = em.set_index(["group", "time"]).loc[list(zip(exp["group"], exp["time"], strict=True))]
    np.testing.assert_allclose(got["emmean"], exp["emmean"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(got["se"], exp["SE"], rtol=RTOL_SE)
    np.testing.assert_allclose(got["ci_high"], exp["asymp.UCL"], rtol=RTOL_SE)
    # averaged over time with equal weights
    emg = cci_fit.emmeans("group")
    expg = _expected("emmeans").query("case == 'group'")
    np.testing.assert_allclose(emg["emmean"], expg["emmean"], rtol=1e-5)
    np.testing.assert_allclose(emg["se"], expg["SE"], rtol=RTOL_SE)


def test_blank_response_rows_are_dropped_and_counted():
    data = pd.read_csv(REF / "anova_data_cci.csv")
    data.loc[[3, 9], "log_threshold"] = np.nan
    fit = mixed_model(data, formula="log_threshold ~ C(group) + C(time)", subject="animal")
    assert fit.n_dropped == 2 and fit.n_obs == len(data) - 2


def test_bad_inputs():
    data = pd.read_csv(REF / "anova_data_cci.csv")
    with pytest.raises(InputError, match="missing"):
        mixed_model(data, formula="nope ~ group", subject="animal")
    with pytest.raises(InputError, match="formula"):
        mixed_model(data, formula="log_threshold group", subject="animal")
    fit = mixed_model(data, formula="log_threshold ~ group", subject="animal")
    with pytest.raises(InputError, match="not a variable"):
        fit.emmeans("dose")


def test_dunnett_by_time_from_mixed_model(cci_fit):
    # emmeans trt.vs.ctrl | time (asymptotic) + single-step p from mvtnorm::pmvnorm
    got = cci_fit.dunnett("group", control="vehicle", by="time")
    exp = _expected("dunnett")
    g = got.assign(time=got["time"].astype(str), group=got["group"].astype(str))
    g = g.set_index(["time", "group"]).loc[list(zip(exp["time"], exp["group"], strict=True))]
    np.testing.assert_allclose(g["diff"], exp["estimate"], rtol=1e-5, atol=1e-7)
    np.testing.assert_allclose(g["se"], exp["SE"], rtol=RTOL_SE)
    np.testing.assert_allclose(g["t"], exp["z.ratio"], rtol=2e-4)
    # z differs from lme4's by <= 2e-4 relative (REML optimum); p (up to 1e-9) follows it
    np.testing.assert_allclose(g["p"], exp["p_mvt"], rtol=1e-3, atol=5e-6)
    assert np.all(np.isinf(got["df"]))
    with pytest.raises(InputError, match="control"):
        cci_fit.dunnett("group", control="saline", by="time")


def test_dunnett_refuses_non_product_correlation():
    # additive model: group contrasts share the time effects, so the family is not of
    # Dunnett's product-correlation form — refused rather than silently mis-adjusted
    from nplab.errors import NplabError

    data = pd.read_csv(REF / "lmm_data_cci_missing.csv")
    fit = mixed_model(data, formula="log_threshold ~ C(group) + C(time)", subject="animal")
    with pytest.raises(NplabError, match="product correlation"):
        fit.dunnett("group", control="vehicle", by="time")
