"""Post hoc tests against R multcomp / mvtnorm / emmeans (tests/stats/reference/posthoc_reference.R).

Two references for each adjusted p-value: mvtnorm's ``pmvt`` (Genz–Bretz, error ~1e-6
absolute: compared at rtol 1e-4 + atol 5e-6 — the spec asks for ≥ 3 significant digits) and
``p_integral``, an independent deterministic evaluation with R's adaptive ``integrate``
(compared at rtol 1e-7).  Critical values (simultaneous CIs) at 5e-5 relative (R's root is
found on the noisy pmvt).  t, SE, df and differences are exact (1e-9).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nplab.errors import InputError
from nplab.stats.posthoc import (
    DUNNETT_COLUMNS,
    PAIR_COLUMNS,
    dunnett,
    dunnett_by_time,
    dunnett_critical,
    dunnett_pvalue,
    pairwise,
    posthoc_by_time,
    tukey,
)

REF = Path(__file__).parent / "reference"
P_RTOL, P_ATOL = 1e-4, 5e-6
P_INT_RTOL = 1e-7
CI_RTOL = 5e-5
EXACT = 1e-9


def _rec(name):
    return pd.read_csv(REF / f"posthoc_expected_{name}.csv", comment="#")


@pytest.fixture(scope="module")
def cci():
    return pd.read_csv(REF / "anova_data_cci.csv")


@pytest.mark.parametrize("alternative", ["two-sided", "greater", "less"])
def test_dunnett_1955_blood_counts(alternative):
    data = pd.read_csv(REF / "posthoc_data_dunnett1955.csv")
    got = dunnett(data, dv="count", group="group", control="control", alternative=alternative)
    assert list(got.columns) == DUNNETT_COLUMNS
    exp = _rec("dunnett1955")
    exp = exp[exp["alternative"] == alternative.replace("-", ".")]
    assert list(got["group"]) == list(exp["group"])
    for col in ("diff", "se", "t", "df"):
        np.testing.assert_allclose(got[col], exp[col], rtol=EXACT)
    np.testing.assert_allclose(got["p"], exp["p"], rtol=P_RTOL, atol=P_ATOL)
    np.testing.assert_allclose(got["p"], exp["p_integral"], rtol=P_INT_RTOL)
    for col in ("ci_low", "ci_high"):
        np.testing.assert_allclose(got[col], exp[col], rtol=CI_RTOL)


def test_dunnett_1955_published_two_sided_p_rounded():
    # Dunnett (1955): drug B differs from control at the 1 % level, drug A does not (5 %)
    data = pd.read_csv(REF / "posthoc_data_dunnett1955.csv")
    got = dunnett(data, dv="count", group="group", control="control").set_index("group")
    assert got.loc["drug_b", "p"] < 0.01 < 0.05 < got.loc["drug_a", "p"]


@pytest.mark.parametrize("case", ["h1", "h1n1"])
def test_dunnett_cci_and_single_animal_group(cci, case):
    h1 = cci[cci["time"] == "h1"]
    if case == "h1n1":  # drug_high reduced to one animal: pooled error still works
        h1 = h1[(h1["group"] != "drug_high") | (h1["animal"] == "drug_high_01")]
    got = dunnett(h1, dv="log_threshold", group="group", control="vehicle").set_index("group")
    exp = _rec("dunnett_cci").query("case == @case").set_index("group").loc[got.index]
    for col in ("diff", "se", "t", "df"):
        np.testing.assert_allclose(got[col], exp[col], rtol=EXACT)
    np.testing.assert_allclose(got["p"], exp["p"], rtol=P_RTOL, atol=P_ATOL)
    np.testing.assert_allclose(got["p"], exp["p_integral"], rtol=P_INT_RTOL)
    np.testing.assert_allclose(got["ci_low"], exp["ci_low"], rtol=CI_RTOL)


def test_single_comparison_reduces_to_t_test():
    # one treatment: Dunnett's p is the two-sided t-test p (exact reference)
    for t, lam, df in [(2.1, 0.6, 7), (4.2, 0.8, 30), (0.3, 0.5, 3.5), (7.5, 0.7, 12)]:
        assert dunnett_pvalue(t, [lam], df) == pytest.approx(2 * stats.t.sf(t, df), rel=1e-7)
        assert dunnett_pvalue(t, [lam], df, "greater") == pytest.approx(stats.t.sf(t, df), rel=1e-7)
        assert dunnett_critical([lam], df) == pytest.approx(stats.t.isf(0.025, df), rel=1e-8)


def test_equicorrelated_normal_limit_matches_independent_formula():
    # df = inf and lambda -> 0 (independent comparisons): P = 1 - (1 - p1)^m (Sidak exact)
    t, m = 2.3, 4
    lam = np.full(m, 1e-6)
    p1 = 2 * stats.norm.sf(t)
    assert dunnett_pvalue(t, lam, np.inf) == pytest.approx(1 - (1 - p1) ** m, rel=1e-8)


def test_deterministic_and_small_p_relative_accuracy():
    lam = [0.6, 0.55, 0.65]
    a = dunnett_pvalue(9.0, lam, 20)
    b = dunnett_pvalue(9.0, lam, 20)
    assert a == b  # bit-identical, no Monte Carlo
    # tiny p: bounded by Bonferroni (3 × single) and at least the single-comparison p
    single = 2 * stats.t.sf(9.0, 20)
    assert single < a < 3 * single
    assert a == pytest.approx(3 * single, rel=0.05)


def test_dunnett_by_time_matches_emmeans(cci):
    exp = _rec("dunnett_bytime")
    for model in ("multivariate", "univariate"):
        got = dunnett_by_time(
            cci, dv="log_threshold", between="group", within="time", subject="animal",
            control="vehicle", model=model,
        )  # fmt: skip
        assert list(got.columns) == ["time", *DUNNETT_COLUMNS]
        e = exp[exp["model"] == model].set_index(["time", "group"])
        g = got.set_index(["time", "group"]).loc[e.index]
        for col in ("diff", "se", "t", "df"):
            np.testing.assert_allclose(g[col], e[col], rtol=1e-8, err_msg=f"{model} {col}")
        np.testing.assert_allclose(g["p"], e["p"], rtol=P_RTOL, atol=P_ATOL, err_msg=model)
        np.testing.assert_allclose(g["p"], e["p_integral"], rtol=P_INT_RTOL, err_msg=model)


def test_tukey_matches_emmeans(cci):
    exp = _rec("tukey")
    h1 = cci[cci["time"] == "h1"]
    got = tukey(h1, dv="log_threshold", group="group")
    assert list(got.columns) == PAIR_COLUMNS
    e = exp[exp["case"] == "h1"]
    _compare_pairs(got, e)
    by = posthoc_by_time(
        cci, dv="log_threshold", between="group", within="time", subject="animal", method="tukey"
    )
    for time, sub in by.groupby("time", sort=False):
        _compare_pairs(sub, exp[exp["case"] == f"bytime_{time}"])


def _compare_pairs(got, exp):
    """Match rows by the emmeans contrast label 'a - b' (either orientation)."""
    labels = {c: i for i, c in enumerate(exp["contrast"])}
    for _, row in got.iterrows():
        key, sign = f"{row['a']} - {row['b']}", 1.0
        if key not in labels:
            key, sign = f"{row['b']} - {row['a']}", -1.0
        e = exp.iloc[labels[key]]
        assert sign * row["diff"] == pytest.approx(e["estimate"], rel=1e-9)
        assert row["se"] == pytest.approx(e["SE"], rel=1e-9)
        assert row["p_adj"] == pytest.approx(e["p.value"], rel=1e-6, abs=1e-10)  # R ptukey ~1e-11
        lo, hi = sorted([sign * row["ci_low"], sign * row["ci_high"]])
        # R's qtukey is accurate to ~1e-8: compare interval ends absolutely (× SE)
        assert lo == pytest.approx(e["lower.CL"], rel=1e-6, abs=1e-6 * row["se"])
        assert hi == pytest.approx(e["upper.CL"], rel=1e-6, abs=1e-6 * row["se"])


@pytest.mark.parametrize("adjust", ["holm", "bonferroni", "sidak", "none"])
def test_declared_pairs_adjustments(cci, adjust):
    h1 = cci[cci["time"] == "h1"]
    pairs = [("drug_high", "vehicle"), ("drug_low", "vehicle"), ("drug_high", "drug_low")]
    got = pairwise(h1, dv="log_threshold", group="group", pairs=pairs, p_adjust=adjust)
    _compare_pairs(got, _rec("pairs").query("adjust == @adjust").reset_index(drop=True))


def test_bad_inputs(cci):
    h1 = cci[cci["time"] == "h1"]
    with pytest.raises(InputError, match="control"):
        dunnett(h1, dv="log_threshold", group="group", control="saline")
    with pytest.raises(InputError, match="alternative"):
        dunnett(h1, dv="log_threshold", group="group", control="vehicle", alternative="up")
    with pytest.raises(InputError, match="p_adjust"):
        pairwise(h1, dv="log_threshold", group="group", p_adjust="fdr")
    one_each = h1.groupby("group").head(1)
    with pytest.raises(InputError, match="degrees of freedom"):
        dunnett(one_each, dv="log_threshold", group="group", control="vehicle")


# Published critical values for equal group sizes (ρ = 0.5, λ = 1/√2), α = 0.05, for
# m = 1..5 treatments: one-sided from Dunnett (1955) JASA 50:1096, Table 1a; two-sided from
# Dunnett (1964) Biometrics 20:482, Table II (the revised exact two-sided table).  Tables
# give 2 decimals: tolerance 0.006 (half a unit of rounding plus the tables' own rounding).
DUNNETT_TABLES = {
    ("two-sided", 5): [2.57, 3.03, 3.29, 3.48, 3.62],
    ("two-sided", 10): [2.23, 2.57, 2.76, 2.89, 2.99],
    ("two-sided", 20): [2.09, 2.38, 2.54, 2.65, 2.73],
    ("two-sided", np.inf): [1.96, 2.21, 2.35, 2.44, 2.51],
    ("greater", 5): [2.02, 2.44, 2.68, 2.85, 2.98],
    ("greater", 10): [1.81, 2.15, 2.34, 2.47, 2.56],
    ("greater", 20): [1.72, 2.03, 2.19, 2.30, 2.39],
    ("greater", np.inf): [1.64, 1.92, 2.06, 2.16, 2.23],
}


@pytest.mark.slow
@pytest.mark.parametrize("key", sorted(DUNNETT_TABLES, key=str))
def test_published_dunnett_tables(key):
    alternative, df = key
    for m, published in enumerate(DUNNETT_TABLES[key], start=1):
        got = dunnett_critical([np.sqrt(0.5)] * m, df, 0.95, alternative)
        assert got == pytest.approx(published, abs=0.006), (key, m)


def test_non_integer_small_df_falls_back_to_adaptive_quadrature():
    # the fixed rule is inexact near s = 0 for fractional df; the checked integral must
    # then agree with nested adaptive quadrature to 1e-9
    from nplab.stats.posthoc import _exceed

    lam = np.array([0.6, 0.55, 0.7])
    for t in (1.5, 4.0, 9.0):
        got = dunnett_pvalue(t, lam, 2.5)
        assert got == pytest.approx(_exceed(t, lam, 2.5, "two-sided"), rel=1e-9)
