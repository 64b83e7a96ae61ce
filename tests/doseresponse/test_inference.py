"""ED/IC, relative potency and nested-model tests against independent R computations.

Reference values: ``reference/doseresponse_nls.csv``, written by
``reference/doseresponse_nls.R`` (base R ``nls`` + ``optimHess``; drc not used). drc's
own printed examples are in ``test_drc_examples.py``.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nplab.doseresponse as dr
from nplab.doseresponse import compare
from nplab.errors import InputError

REF = Path(__file__).parent / "reference"
# nls() stops at a relative offset of 1e-7, so the R estimates carry ~1e-7 relative
# noise; tolerances: 2e-6 relative on estimates/ED values, 2e-5 on SEs and CI limits.
EST = 2e-6
SE = 2e-5


@pytest.fixture(scope="module")
def rref() -> dict[tuple[str, str], float]:
    df = pd.read_csv(REF / "doseresponse_nls.csv")
    return {(c, q): v for c, q, v in df.itertuples(index=False)}


@pytest.fixture(scope="module")
def rye() -> dr.DoseResponseFit:
    return dr.fit(pd.read_csv(REF / "ryegrass.csv"), x="conc", y="rootl", model="LL.4")


@pytest.fixture(scope="module")
def two() -> pd.DataFrame:
    return pd.read_csv(REF / "twodrugs.csv")


def test_ryegrass_against_nls(rye, rref):
    p = rye.params.set_index("parameter")
    for name, r in zip(("hill", "bottom", "top", "ic50"), "bcde", strict=True):
        assert p.loc[name, "estimate"] == pytest.approx(rref["ryegrass_LL4", f"estimate_{r}"], rel=EST)
        assert p.loc[name, "se"] == pytest.approx(rref["ryegrass_LL4", f"se_hessian_{r}"], rel=SE)
    assert rye.rss == pytest.approx(rref["ryegrass_LL4", "rss"], rel=1e-10)
    assert rye.aic == pytest.approx(rref["ryegrass_LL4", "aic"], rel=1e-10)
    jtj = dr.fit(pd.read_csv(REF / "ryegrass.csv"), x="conc", y="rootl", se="jtj")
    pj = jtj.params.set_index("parameter")
    for name, r in zip(("hill", "bottom", "top", "ic50"), "bcde", strict=True):
        assert pj.loc[name, "se"] == pytest.approx(rref["ryegrass_LL4", f"se_jtj_{r}"], rel=SE)


@pytest.mark.parametrize("interval", ["delta", "log", "profile"])
def test_ed_intervals_against_r(rye, rref, interval):
    ed = rye.ic([10, 50, 90], interval=interval)
    for p, row in zip((10, 50, 90), ed.itertuples(), strict=True):
        assert row.estimate == pytest.approx(rref["ryegrass_LL4", f"ed{p}_estimate"], rel=EST)
        assert row.se == pytest.approx(rref["ryegrass_LL4", f"ed{p}_se"], rel=SE)
        assert row.ci_low == pytest.approx(rref["ryegrass_LL4", f"ed{p}_{interval}_low"], rel=SE)
        assert row.ci_high == pytest.approx(rref["ryegrass_LL4", f"ed{p}_{interval}_high"], rel=SE)


def test_ll3_vs_ll4_f_test_and_aic(rref):
    data = pd.read_csv(REF / "ryegrass.csv")
    f3 = dr.fit(data, x="conc", y="rootl", model="LL.3")
    f4 = dr.fit(data, x="conc", y="rootl", model="LL.4")
    res = compare(f3, f4).set_index("fit")
    assert res.loc["full", "f"] == pytest.approx(rref["ryegrass_LL3_vs_LL4", "f"], rel=1e-6)
    assert res.loc["full", "p"] == pytest.approx(rref["ryegrass_LL3_vs_LL4", "p"], rel=1e-6)
    assert res.loc["reduced", "aic"] == pytest.approx(rref["ryegrass_LL3_vs_LL4", "aic_LL3"], rel=1e-9)
    assert res.loc["full", "aic"] == pytest.approx(rref["ryegrass_LL3_vs_LL4", "aic_LL4"], rel=1e-9)
    with pytest.raises(InputError, match="reduced"):
        compare(f4, f3)


def test_two_curves_separate_pooled_variance(two, rref):
    f = dr.fit(two, x="conc_um", y="response", curve="drug")
    assert f.curves == ["A", "B"]
    p = f.params.set_index(["curve", "parameter"])
    for c in "AB":
        for name in ("hill", "bottom", "top", "ic50"):
            key = f"{name}_{c}"
            assert p.loc[(c, name), "estimate"] == pytest.approx(
                rref["twodrugs_separate", f"estimate_{key}"], rel=2e-5)
            assert p.loc[(c, name), "se"] == pytest.approx(
                rref["twodrugs_separate", f"se_hessian_{key}"], rel=1e-4)
    assert f.residual_se == pytest.approx(rref["twodrugs_separate", "residual_se"], rel=1e-8)


def test_shared_bottom_top_and_relative_potency(two, rref):
    f = dr.fit(two, x="conc_um", y="response", curve="drug", shared=("bottom", "top"))
    p = f.params.set_index(["curve", "parameter"])
    assert p.loc[("A", "bottom"), "shared"] and not p.loc[("A", "ic50"), "shared"]
    assert p.loc[("A", "top"), "estimate"] == p.loc[("B", "top"), "estimate"]
    for key, (c, name) in {
        "hill_A": ("A", "hill"), "hill_B": ("B", "hill"), "bottom": ("A", "bottom"),
        "top": ("B", "top"), "ic50_A": ("A", "ic50"), "ic50_B": ("B", "ic50"),
    }.items():
        assert p.loc[(c, name), "estimate"] == pytest.approx(rref["twodrugs_shared", f"estimate_{key}"], rel=EST)
        assert p.loc[(c, name), "se"] == pytest.approx(rref["twodrugs_shared", f"se_hessian_{key}"], rel=SE)
    rp = f.relative_potency("A", "B", 50, interval="delta").iloc[0]
    assert rp["ratio"] == pytest.approx(rref["twodrugs_shared", "rp50_ratio"], rel=EST)
    assert rp["se"] == pytest.approx(rref["twodrugs_shared", "rp50_se"], rel=SE)
    assert rp["ci_low"] == pytest.approx(rref["twodrugs_shared", "rp50_delta_low"], rel=SE)
    assert rp["ci_high"] == pytest.approx(rref["twodrugs_shared", "rp50_delta_high"], rel=SE)
    fi = f.relative_potency("A", "B", 50, interval="fieller").iloc[0]
    assert fi["ci_low"] == pytest.approx(rref["twodrugs_shared", "rp50_fieller_low"], rel=SE)
    assert fi["ci_high"] == pytest.approx(rref["twodrugs_shared", "rp50_fieller_high"], rel=SE)
    sep = dr.fit(two, x="conc_um", y="response", curve="drug")
    res = compare(f, sep).set_index("fit")
    assert res.loc["full", "f"] == pytest.approx(rref["twodrugs_shared_vs_separate", "f"], rel=1e-5)
    assert res.loc["full", "p"] == pytest.approx(rref["twodrugs_shared_vs_separate", "p"], rel=1e-4)
    assert res.loc["reduced", "aic"] == pytest.approx(rref["twodrugs_shared_vs_separate", "aic_shared"], rel=1e-8)


def test_flags_extrapolated_and_incomplete():
    # responses only start to fall at the top dose: IC50 beyond the tested range
    x = np.repeat([0.0, 0.1, 0.3, 1.0, 3.0, 10.0], 3)
    y = 100 / (1 + (x / 30.0) ** 1.5) + np.tile([-1.0, 0.0, 1.0], 6)
    f = dr.fit(pd.DataFrame({"x": x, "y": y}), x="x", y="y", fixed={"bottom": 0})
    status = f.ic(50)["status"].iloc[0]
    assert "ic_above_range" in status and "incomplete_bottom" in status

