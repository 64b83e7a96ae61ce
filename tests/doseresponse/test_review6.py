"""Review 6 regression tests for the dose-response engine.

References: drc's printed ``summary(drm(rootl ~ conc, data = ryegrass, fct = LL.4()))``
(ic50 3.05795 (SE 0.18573), hill 2.98222 (0.46506), bottom 0.48141 (0.21219), top
7.79296 (0.18857)). Least-squares estimates and their SEs are equivariant under a
change of units: doses x * a give ic50 * a and SE(ic50) * a; responses y * b give
bottom, top (and their SEs) * b, hill unchanged. Tolerance: 2 units of drc's last
printed digit, relative to the rescaled value.
"""

from __future__ import annotations

import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

import nplab.doseresponse as dr
from nplab.errors import InputError

REF = Path(__file__).parent / "reference"
DRC = {  # parameter: (estimate, se), drc summary of ryegrass LL.4
    "hill": (2.98222, 0.46506),
    "bottom": (0.48141, 0.21219),
    "top": (7.79296, 0.18857),
    "ic50": (3.05795, 0.18573),
}


@pytest.fixture(scope="module")
def rye() -> pd.DataFrame:
    return pd.read_csv(REF / "ryegrass.csv")


@pytest.mark.parametrize("xs, ys", [(1e-6, 1.0), (1e-9, 1.0), (1.0, 1e6), (1e-6, -1e3)])
def test_units_do_not_change_standard_errors(rye, xs, ys):
    # molar concentrations (1e-9 .. 1e-5 M) and responses in pA used to give NaN SEs and
    # success=False (absolute finite-difference floors and a unit-dependent singularity test)
    data = rye.assign(conc=rye.conc * xs, rootl=rye.rootl * ys)
    scale = {"hill": 1.0, "bottom": ys, "top": ys, "ic50": xs}
    fits = [
        dr.fit(data, x="conc", y="rootl"),
        dr.fit_many(data.assign(cell="c1"), x="conc", y="rootl", curve="cell"),
    ]
    for f in fits:
        assert f.success, f.message
        p = f.params.set_index("parameter")
        for name, (est, se) in DRC.items():
            k = scale[name]
            if ys < 0:  # a rising curve: drc's orientation (bottom < top) gives hill < 0
                name = {"hill": "hill", "bottom": "top", "top": "bottom", "ic50": "ic50"}[name]
                k = -1.0 if name == "hill" else k
            assert p.loc[name, "estimate"] / k == pytest.approx(est, abs=2e-5 * max(1, abs(est)))
            assert p.loc[name, "se"] / abs(k) == pytest.approx(se, abs=2e-5)
        ed = f.ic([50], interval="delta")
        assert ed.se.iloc[0] / xs == pytest.approx(0.18573, abs=2e-5)


def test_units_do_not_change_shared_fit(rye):
    two = pd.concat([rye.assign(drug="A"), rye.assign(drug="B", conc=rye.conc * 2)])
    ref = dr.fit(two, x="conc", y="rootl", curve="drug", shared=("bottom", "top"))
    molar = dr.fit(two.assign(conc=two.conc * 1e-9), x="conc", y="rootl", curve="drug",
                   shared=("bottom", "top"))
    assert ref.success and molar.success
    rel_ref = ref.params.se / ref.params.estimate.abs()
    rel_mol = molar.params.se / molar.params.estimate.abs()
    np.testing.assert_allclose(rel_mol, rel_ref, rtol=1e-5)
    rp_ref = ref.relative_potency("A", "B", interval="fieller")
    rp_mol = molar.relative_potency("A", "B", interval="fieller")
    np.testing.assert_allclose(rp_mol[["ratio", "se", "ci_low", "ci_high"]].to_numpy(),
                               rp_ref[["ratio", "se", "ci_low", "ci_high"]].to_numpy(), rtol=1e-5)
    assert rp_ref.ratio.iloc[0] == pytest.approx(0.5, rel=1e-6)


def test_bad_specifications_are_input_errors_not_tracebacks(rye):
    every = {"hill": 3.0, "bottom": 0.5, "top": 7.8, "ic50": 3.0}
    with pytest.raises(InputError, match="nothing to estimate"):
        dr.fit(rye, x="conc", y="rootl", fixed=every)
    with pytest.raises(InputError, match="nothing to estimate"):
        dr.fit_many(rye.assign(c="a"), x="conc", y="rootl", curve="c", fixed=every)
    with pytest.raises(InputError, match="fixed must map"):
        dr.fit(rye, x="conc", y="rootl", fixed=[None, 0, None, None])
    for bad in (95, 0, 1.0, "x"):
        with pytest.raises(InputError, match="confidence level"):
            dr.fit(rye, x="conc", y="rootl", level=bad)
    f = dr.fit(rye, x="conc", y="rootl")
    with pytest.raises(InputError, match="confidence level"):
        f.ic(50, level=95)
    with pytest.raises(InputError, match="confidence level"):
        f.predict_interval([1.0], level=95)


# ---- three curves with shared parameters, against base R nls (threecurves_nls.R) ----
THREE_CASES = {
    # case: (model, shared, R name -> (curve, parameter))
    "LL4_shared_hill_top": ("LL.4", ("hill", "top"), {
        "b": ("A", "hill"), "d": ("A", "top"), "c1": ("A", "bottom"), "c2": ("B", "bottom"),
        "c3": ("C", "bottom"), "e1": ("A", "ic50"), "e2": ("B", "ic50"), "e3": ("C", "ic50"),
    }),
    "W14_shared_bottom_top": ("W1.4", ("bottom", "top"), {
        "c": ("A", "bottom"), "d": ("A", "top"), "b1": ("A", "hill"), "b2": ("B", "hill"),
        "b3": ("C", "hill"), "e1": ("A", "ic50"), "e2": ("B", "ic50"), "e3": ("C", "ic50"),
    }),
}


@pytest.mark.parametrize("case", sorted(THREE_CASES))
def test_three_curves_shared_parameters_against_r_nls(case):
    # Tolerances: estimates 1e-5 relative (nls stops at a relative-offset tolerance of
    # 1e-7; nplab's RSS must be <= R's), SEs 1e-4 relative (finite-difference Hessians
    # on both sides), RSS 1e-9 relative.
    model, shared, names = THREE_CASES[case]
    data = pd.read_csv(REF / "threecurves.csv")
    ref = pd.read_csv(REF / "threecurves_nls.csv")
    ref = ref[ref.case == case].set_index("quantity")["value"]
    f = dr.fit(data, x="dose_um", y="current_pct", model=model, curve="compound", shared=shared)
    assert f.success and f.df_resid == int(ref["df_resid"])
    assert f.rss <= ref["rss"] * (1 + 1e-12)
    assert f.rss == pytest.approx(ref["rss"], rel=1e-9)
    assert f.residual_se == pytest.approx(ref["residual_se"], rel=1e-9)
    p = f.params.set_index(["curve", "parameter"])
    for rname, key in names.items():
        assert p.loc[key, "estimate"] == pytest.approx(ref["estimate_" + rname], rel=1e-5), rname
        assert p.loc[key, "se"] == pytest.approx(ref["se_" + rname], rel=1e-4), rname
    ed = f.ic(50, interval="delta").set_index("curve")
    for k, label in enumerate("ABC", start=1):
        assert ed.loc[label, "estimate"] == pytest.approx(ref[f"ed50_{k}"], rel=1e-5)
        assert ed.loc[label, "se"] == pytest.approx(ref[f"ed50_se_{k}"], rel=1e-4)
    rp = f.relative_potency("A", "B", interval="fieller").iloc[0]
    assert rp["ratio"] == pytest.approx(ref["rp12_ratio"], rel=1e-5)
    assert rp["se"] == pytest.approx(ref["rp12_se"], rel=1e-4)
    assert rp["ci_low"] == pytest.approx(ref["rp12_fieller_low"], rel=1e-4)
    assert rp["ci_high"] == pytest.approx(ref["rp12_fieller_high"], rel=1e-4)


def test_shared_top_keeps_drc_orientation():
    # falling curves with shared hill and top: the mirrored solution (hill < 0, "top" =
    # the lower asymptote shared, bottom ~ 100 per curve) has a lower RSS but is a
    # different model; drc's orientation (bottom < top, hill > 0 for inhibition) is kept
    data = pd.read_csv(REF / "threecurves.csv")
    f = dr.fit(data, x="dose_um", y="current_pct", curve="compound", shared=("hill", "top"))
    full = f.curve_parameters()
    assert np.all(full.hill > 0) and np.all(full.bottom < full.top)
    assert full.top.iloc[0] == pytest.approx(99.8997, abs=1e-3)


def _cli(args, capsys):
    from nplab.cli import main

    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.err


def test_cli_never_overwrites_its_input_and_writes_nothing_on_error(tmp_path, capsys):
    data = tmp_path / "rye.csv"
    data.write_bytes((REF / "ryegrass.csv").read_bytes())
    original = data.read_bytes()
    base = ["doseresponse", "fit", str(data), "--x", "conc", "--y", "rootl"]
    for extra in (["-o", str(data)],
                  ["--ed", "50", "--ed-output", str(data), "-o", str(tmp_path / "a.csv")],
                  ["--figure", str(data), "-o", str(tmp_path / "b.csv")]):
        code, err = _cli(base + extra, capsys)
        assert code == 2 and "overwrite an input" in err and "Traceback" not in err
        assert data.read_bytes() == original
    # a bad ED level used to be reported only after the parameter table was written
    code, err = _cli([*base, "--ed", "150", "-o", str(tmp_path / "c.csv")], capsys)
    assert code == 2 and "between 0 and 100" in err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["rye.csv"]


def test_lettuce_ll3_matches_drc_anova_printout():
    # drc docs/reference/lettuce.md (hreinwald/drc): the data are printed there, and
    # anova(lettuce.m1, lettuce.m2) prints for lettuce.m1 = drm(weight ~ conc, fct = LL.3())
    # "1st model  ModelDf 11  RSS 0.24222". Tolerance: half a unit of the last printed digit.
    data = pd.read_csv(REF / "lettuce.csv")
    f = dr.fit(data, x="conc", y="weight", model="LL.3")
    assert f.success and f.df_resid == 11
    assert f.rss == pytest.approx(0.24222, abs=5e-6)
    assert f.coef()["bottom"] == 0.0  # LL.3: lower limit fixed at 0


@pytest.mark.parametrize("model", ["LL.4", "LL.5", "W1.4", "LL.2"])
def test_profile_interval_of_a_step_curve_is_flagged_not_a_traceback(model):
    # all responses jump between two doses (hill -> infinity): the profile of ED50 never
    # closes. It used to raise ZeroDivisionError (LL.5) or emit overflow warnings.
    x = np.repeat([0, 0.1, 1, 10, 100], 2)
    y = np.where(x < 5, 100.0, 0.0) + np.tile([0.1, -0.1], 5)
    if model == "LL.2":
        y = y / 100
    data = pd.DataFrame({"x": x, "y": y})
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        f = dr.fit(data, x="x", y="y", model=model)
        ed = f.ic(50, interval="profile").iloc[0]
    assert 1 <= ed["estimate"] <= 10
    if f.success:
        assert "profile does not close" in ed["status"]
        assert ed["ci_low"] == 0.0 and ed["ci_high"] == np.inf


def test_no_overflow_warnings_on_uninformative_data():
    # pure noise (no dose effect) with LL.3 overflowed in the self-starter, and the
    # log-scale interval of an extrapolated ED overflowed; both leaked RuntimeWarnings
    x = np.repeat([0, 0.1, 1, 10, 100], 2)
    noise = np.random.default_rng(0).normal(50, 5, 10)
    step = np.where(x < 5, 100.0, 0.0) + np.tile([0.1, -0.1], 5)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        dr.fit(pd.DataFrame({"x": x, "y": noise}), x="x", y="y", model="LL.3")
        f = dr.fit(pd.DataFrame({"x": x, "y": step}), x="x", y="y")
        ed = f.ic([10, 50, 90], interval="log")
    assert np.all(ed["estimate"] > 0)


@pytest.mark.parametrize("n_curves", [2, 60])
def test_weibull_multi_curve_paths_keep_drc_orientation(rye, n_curves):
    # W1.4 of ryegrass (drc mselect: logLik -17.46720, i.e. RSS 6.0242 on 20 df) was
    # fitted by fit(curve=...) and fit_many as the mirrored W1 curve (hill < 0,
    # bottom > top: RSS 5.2926, the W2.4 fit), unlike the single-curve fit and drc
    data = pd.concat([rye.assign(plate=i, rootl=rye.rootl * (1 + 0.01 * i)) for i in range(n_curves)])
    single = dr.fit(rye, x="conc", y="rootl", model="W1.4")
    assert single.rss == pytest.approx(6.024150924661057, rel=1e-9)
    fits = [dr.fit_many(data, x="conc", y="rootl", curve="plate", model="W1.4")]
    if n_curves == 2:
        fits.append(dr.fit(data, x="conc", y="rootl", curve="plate", model="W1.4"))
    for f in fits:
        cp = f.curve_parameters()
        assert f.success and np.all(cp.bottom < cp.top) and np.all(cp.hill > 0)
        first = f.params[f.params.curve == 0].set_index("parameter")["estimate"]
        for name, value in single.coef().items():
            if name != "asym":
                assert first[name] == pytest.approx(value, rel=1e-6)


def test_pooled_variance_ignores_curves_that_could_not_be_fitted(rye):
    # a flat well in fit_many(variance="pooled") used to add its 24 observations to the
    # pooled residual df (40 instead of 20), shrinking every other curve's SEs by ~30 %
    both = pd.concat([rye.assign(cell="c1"), rye.assign(cell="c2", rootl=5.0)])
    f = dr.fit_many(both, x="conc", y="rootl", curve="cell", variance="pooled")
    assert not f.success and f.df_resid == 20
    assert f.residual_se == pytest.approx(0.5196256, abs=1e-7)
    p = f.params[f.params.curve == "c1"].set_index("parameter")
    for name, (_est, se) in DRC.items():
        assert p.loc[name, "se"] == pytest.approx(se, abs=2e-5)
    ed = f.ic([10, 50, 90]).set_index(["curve", "level"]).loc["c1"]
    np.testing.assert_allclose(ed["ci_high"], [1.85330, 3.44538, 8.15148], atol=2e-5)
