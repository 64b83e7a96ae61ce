"""Dunnett by time within strata (issue 14.2) against emmeans on an afex model.

Reference: ``reference/posthoc_strata_reference.R`` →
``reference/posthoc_expected_strata.csv``: ``emmeans(aov_ez(treatment × sex between,
time × paw within), ~ treatment | time * paw * sex, model = "multivariate")`` (case
``by_sex``) and ``~ treatment | time * paw`` (case ``marginal``: means averaged over sex),
``contrast(..., "trt.vs.ctrl")``.  diff, SE, df and t are exact (1e-9 relative); the
adjusted p-value is compared with R's deterministic nested ``integrate`` evaluation at
1e-7 relative (the same evaluation agrees with mvtnorm ``pmvt`` to 1e-15 on this data).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats import dunnett_by_time, posthoc_by_time

REF = Path(__file__).parent / "reference"
LEVELS = {"time": ["baseline", "d7", "d14", "d21"], "paw": ["ipsi", "contra"],
          "treatment": ["vehicle", "amitriptyline", "duloxetine"], "sex": ["F", "M"]}


@pytest.fixture(scope="module")
def fact():
    return pd.read_csv(REF / "anova_data_fact.csv")


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(REF / "posthoc_expected_strata.csv", comment="#")


def _check(got: pd.DataFrame, exp: pd.DataFrame, keys: list[str]) -> None:
    g = got.set_index(keys)
    e = exp.set_index(keys)
    assert len(g) == len(e)
    g = g.loc[e.index]
    for col in ("diff", "se", "df", "t"):
        np.testing.assert_allclose(g[col], e[col], rtol=1e-9, err_msg=col)
    np.testing.assert_allclose(g["p"], e["p"], rtol=1e-7)


def test_dunnett_by_sex_matches_emmeans(fact, expected):
    got = dunnett_by_time(fact, "log_threshold", between="treatment", within=["time", "paw"],
                          subject="animal", control="vehicle", by="sex")
    assert list(got.columns[:4]) == ["time", "paw", "sex", "group"]
    assert (got["df"] == len(set(fact["animal"])) - 6).all()  # N − treatment × sex cells
    _check(got, expected[expected["case"] == "by_sex"], ["time", "paw", "sex", "group"])


def test_marginal_means_over_the_other_between_factor(fact, expected):
    got = dunnett_by_time(fact, "log_threshold", between=["treatment", "sex"],
                          within=["time", "paw"], subject="animal", control="vehicle")
    assert list(got.columns[:3]) == ["time", "paw", "group"]
    _check(got, expected[expected["case"] == "marginal"], ["time", "paw", "group"])


def test_one_within_factor_per_paw_equals_the_two_within_model(fact, expected):
    """The multivariate error uses one within cell's column: a paw subset gives the same."""
    ipsi = fact[fact["paw"] == "ipsi"]
    got = dunnett_by_time(ipsi, "log_threshold", "treatment", "time", "animal",
                          control="vehicle", by="sex")
    exp = expected[(expected["case"] == "by_sex") & (expected["paw"] == "ipsi")]
    _check(got, exp, ["time", "sex", "group"])


def test_levels_order_rows(fact):
    got = dunnett_by_time(fact, "log_threshold", "treatment", ["time", "paw"], "animal",
                          control="vehicle", by="sex", levels=LEVELS)
    assert list(dict.fromkeys(got["time"])) == LEVELS["time"]
    assert list(dict.fromkeys(got["sex"])) == ["F", "M"]
    assert list(got["group"][:2]) == ["amitriptyline", "duloxetine"]


def test_strata_refusals(fact):
    with pytest.raises(InputError, match="cannot also be a 'by'"):
        dunnett_by_time(fact, "log_threshold", "treatment", "time", "animal",
                        control="vehicle", by="treatment")
    with pytest.raises(InputError, match="univariate"):
        dunnett_by_time(fact[fact["paw"] == "ipsi"], "log_threshold", "treatment", "time",
                        "animal", control="vehicle", by="sex", model="univariate")
    tukey = posthoc_by_time(fact[fact["paw"] == "ipsi"], "log_threshold", "treatment", "time",
                            "animal", method="tukey", by="sex")
    assert set(tukey.columns[:4]) == {"time", "sex", "a", "b"}
