"""Tests of nplab.doseresponse.fit against drc's published values and degenerate inputs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nplab.doseresponse as dr
from nplab.errors import InputError

REF = Path(__file__).parent / "reference"


@pytest.fixture(scope="module")
def ryegrass() -> pd.DataFrame:
    # drc's ``ryegrass`` data (Inderjit, Streibig & Olofsdotter 2002, Physiol Plant 114:422),
    # 24 rows as printed to 7 significant digits in public drc ports (see reference/README.md).
    return pd.read_csv(REF / "ryegrass.csv")


def test_ryegrass_ll4_matches_drc_summary(ryegrass):
    # drc: summary(drm(rootl ~ conc, data = ryegrass, fct = LL.4()))
    # b 2.98222 (0.46506), c 0.48141 (0.21219), d 7.79296 (0.18857), e 3.05795 (0.18573)
    # residual standard error 0.5196256 on 20 degrees of freedom.
    # Tolerance: 5e-5 relative on the estimates (drc prints 6 significant digits and the
    # data are the 7-digit printed values), 2e-4 relative on the SEs.
    f = dr.fit(ryegrass, x="conc", y="rootl", model="LL.4")
    assert f.success, f.message
    p = f.params.set_index("parameter")
    expected = {
        "hill": (2.98222, 0.46506),
        "bottom": (0.48141, 0.21219),
        "top": (7.79296, 0.18857),
        "ic50": (3.05795, 0.18573),
    }
    for name, (est, se) in expected.items():
        assert p.loc[name, "estimate"] == pytest.approx(est, rel=5e-5, abs=1e-5)
        assert p.loc[name, "se"] == pytest.approx(se, rel=2e-4)
    assert f.residual_se == pytest.approx(0.5196256, rel=1e-6)
    assert f.df_resid == 20
    assert list(f.params.columns[:8]) == [
        "curve", "parameter", "estimate", "se", "t", "p", "ci_low", "ci_high",
    ]


def test_predict_and_zero_dose(ryegrass):
    f = dr.fit(ryegrass, x="conc", y="rootl")
    c = f.coef()
    # zero dose is the limit of the falling curve: top
    assert f.predict([0.0])[0] == pytest.approx(c["top"], rel=1e-12)
    mid = f.predict([c["ic50"]])[0]
    assert mid == pytest.approx((c["top"] + c["bottom"]) / 2, rel=1e-12)


def test_synthetic_recovery_exact_data():
    # noiseless data from known parameters: the fit must recover them to 1e-6
    x = np.repeat([0, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30], 2)
    truth = dict(hill=1.3, bottom=5.0, top=95.0, ic50=0.7)
    y = truth["bottom"] + (truth["top"] - truth["bottom"]) / (1 + (x / truth["ic50"]) ** truth["hill"])
    rng = np.random.default_rng(1)
    y = y + rng.normal(0, 1e-9, y.size)
    f = dr.fit(pd.DataFrame({"x": x, "y": y}), x="x", y="y")
    p = f.params.set_index("parameter")["estimate"]
    for k, v in truth.items():
        assert p[k] == pytest.approx(v, rel=1e-6)


def test_fixed_parameters_ll4_equals_ll3(ryegrass):
    a = dr.fit(ryegrass, x="conc", y="rootl", model="LL.3")
    b = dr.fit(ryegrass, x="conc", y="rootl", model="LL.4", fixed={"bottom": 0})
    pa = a.params.set_index("parameter")
    pb = b.params.set_index("parameter")
    assert list(pa.index) == ["hill", "top", "ic50"]
    np.testing.assert_allclose(pa["estimate"], pb["estimate"], rtol=1e-8)
    np.testing.assert_allclose(pa["se"], pb["se"], rtol=1e-5)


def test_nan_policy(ryegrass):
    bad = ryegrass.copy()
    bad.loc[4, "rootl"] = np.nan
    with pytest.raises(InputError, match=r"row 6.*rootl"):
        dr.fit(bad, x="conc", y="rootl")
    f = dr.fit(bad, x="conc", y="rootl", nan_policy="omit")
    assert f.n_obs == 23 and f.df_resid == 19


@pytest.mark.parametrize(
    "mutate, match",
    [
        (lambda d: d.assign(rootl=3.0), "flat data"),
        (lambda d: d.assign(conc=1.0), "one concentration"),
        (lambda d: d.assign(rootl=np.nan), "missing"),
        (lambda d: d.assign(conc=-d["conc"] - 1), "negative dose"),
        (lambda d: d.head(3).assign(conc=[0, 1, 2]), "too few points"),
    ],
)
def test_degenerate_inputs_raise_clear_errors(ryegrass, mutate, match):
    with pytest.raises(InputError, match=match):
        dr.fit(mutate(ryegrass.copy()), x="conc", y="rootl")


def test_bad_specs(ryegrass):
    with pytest.raises(InputError, match="unknown dose-response model"):
        dr.fit(ryegrass, x="conc", y="rootl", model="LL.9")
    with pytest.raises(InputError, match="unknown parameter"):
        dr.fit(ryegrass, x="conc", y="rootl", fixed={"slope": 1})
    with pytest.raises(InputError, match=r"not estimated by LL\.3"):
        dr.fit(ryegrass, x="conc", y="rootl", model="LL.3", fixed={"bottom": 1})
    with pytest.raises(InputError, match="column"):
        dr.fit(ryegrass, x="dose", y="rootl")


@pytest.mark.parametrize("model", ["LL.3", "LL.4", "LL.5", "W1.4", "W2.4"])
@pytest.mark.parametrize("direction", [1.0, -1.0])
def test_ed_definition_consistent_with_model(model, direction):
    # ED_p is the dose at which the fitted curve has moved p % of the way from its
    # control level (dose 0) to the other asymptote; check by evaluating the model
    x = np.repeat([0, 0.05, 0.2, 0.5, 1, 2, 5, 20, 80], 2)
    base = 1 / (1 + (x / 1.5) ** 1.4)
    y = 10 + 80 * (base if direction > 0 else 1 - base)
    y = y + np.tile([-0.4, 0.4], 9)
    f = dr.fit(pd.DataFrame({"x": x, "y": y}), x="x", y="y", model=model)
    y0 = f.predict([0.0])[0]
    yinf = f.predict([1e12])[0]
    for p in (10, 50, 90):
        ed = f.ic(p, interval="none")["estimate"].iloc[0]
        assert f.predict([ed])[0] == pytest.approx(y0 + p / 100 * (yinf - y0), rel=1e-6)


def test_weibull_keeps_drc_orientation(ryegrass):
    # W1.4 and W2.4 are mirror images under hill -> -hill, bottom <-> top; the fit keeps
    # drc's orientation (bottom < top), so the two models give different curves as in
    # drc's ?weibull1 example (W1.4: hill > 0, W2.4: hill < 0 for a falling curve).
    w1 = dr.fit(ryegrass, x="conc", y="rootl", model="W1.4").coef()
    w2 = dr.fit(ryegrass, x="conc", y="rootl", model="W2.4").coef()
    assert w1["hill"] > 0 > w2["hill"]
    assert w1["bottom"] < w1["top"] and w2["bottom"] < w2["top"]
