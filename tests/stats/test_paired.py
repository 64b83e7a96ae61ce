"""Paired t and Wilcoxon signed-rank tests against R (tests/stats/reference/paired_reference.R)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.paired import PAIRED_COLUMNS, paired_tests, signrank_exact_sf

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def data():
    return pd.read_csv(REF / "lmm_data_fact_missing.csv")


@pytest.fixture(scope="module")
def expected():
    return pd.read_csv(REF / "paired_expected.csv", comment="#")


def test_paired_t_ipsi_vs_contra_by_time(data, expected):
    got = paired_tests(data, dv="log_threshold", within="paw", subject="animal", by="time")
    assert list(got.columns) == ["time", *PAIRED_COLUMNS]
    assert list(got["time"]) == list(expected["time"])  # order of first appearance
    assert (got["a"] == "ipsi").all() and (got["b"] == "contra").all()
    np.testing.assert_array_equal(got["n"], expected["n"])
    for ours, theirs in [("mean_diff", "mean_diff"), ("statistic", "t"), ("df", "df"),
                         ("p", "p_t"), ("p_adj", "p_t_holm"), ("ci_low", "ci_low"),
                         ("ci_high", "ci_high")]:  # fmt: skip
        np.testing.assert_allclose(got[ours], expected[theirs], rtol=1e-9, err_msg=ours)
    # animals with one paw missing at a time point are counted, not dropped silently
    per_time = data.groupby(["time", "animal"]).size()
    assert list(got["n_dropped"]) == [int((per_time.loc[t] == 1).sum()) for t in got["time"]]
    sidak = paired_tests(data, dv="log_threshold", within="paw", subject="animal", by="time",
                         p_adjust="sidak")  # fmt: skip
    # R computed 1 - (1 - p)^m, which cancels below ~1e-14; ours keeps the digits
    np.testing.assert_allclose(sidak["p_adj"], expected["p_t_sidak"], rtol=1e-9, atol=1e-15)


def test_wilcoxon_exact_normal_and_ties_match_r(data, expected):
    kw = {"dv": "log_threshold", "within": "paw", "subject": "animal", "by": "time",
          "test": "wilcoxon"}  # fmt: skip
    exact = paired_tests(data, **kw)
    np.testing.assert_array_equal(exact["statistic"], expected["V_exact"])
    np.testing.assert_allclose(exact["p"], expected["p_exact"], rtol=1e-9)
    np.testing.assert_allclose(exact["p_adj"], expected["p_exact_holm"], rtol=1e-9)
    assert exact["method"].str.contains("exact").all()
    normal = paired_tests(data, exact=False, **kw)
    np.testing.assert_allclose(normal["p"], expected["p_normal"], rtol=1e-9)
    rounded = data.assign(log_threshold=data["log_threshold"].round(1))
    ties = paired_tests(rounded, **kw)
    np.testing.assert_array_equal(ties["statistic"], expected["V_ties"])
    np.testing.assert_allclose(ties["p"], expected["p_ties"], rtol=1e-9)
    assert ties["method"].str.contains("normal").all()


def test_signrank_distribution_textbook():
    # n = 5: 2^5 = 32 sign patterns; P(V >= 15) = 1/32, P(V >= 14) = 2/32, P(V >= 0) = 1
    assert signrank_exact_sf(15, 5) == pytest.approx(1 / 32)
    assert signrank_exact_sf(14, 5) == pytest.approx(2 / 32)
    assert signrank_exact_sf(0, 5) == pytest.approx(1.0)


def test_bad_levels_and_duplicates(data):
    with pytest.raises(InputError, match="'left' is not a level"):
        paired_tests(data, dv="log_threshold", within="paw", subject="animal", a="left")
    with pytest.raises(InputError, match="two values"):
        paired_tests(data, dv="log_threshold", within="paw", subject="animal")


def test_friedman_reports_dropped_animals(data):
    from nplab.stats import friedman

    ipsi = data[data["paw"] == "ipsi"]
    res = friedman(ipsi, dv="log_threshold", within="time", subject="animal")
    per_animal = ipsi.groupby("animal").size()
    assert res.loc[0, "n_dropped"] == int((per_animal < 4).sum()) > 0
    assert res.loc[0, "n"] == int((per_animal == 4).sum())


def test_paired_command_line(tmp_path, capsys, expected):
    from nplab.cli import main

    out = tmp_path / "paired.csv"
    with pytest.raises(SystemExit) as exc:
        main(["stats", "paired", str(REF / "lmm_data_fact_missing.csv"), "-o", str(out),
              "--dv", "log_threshold", "--within", "paw", "--subject", "animal", "--by", "time"])  # fmt: skip
    assert exc.value.code == 0, capsys.readouterr().err
    np.testing.assert_allclose(pd.read_csv(out)["p_adj"], expected["p_t_holm"], rtol=1e-9)
