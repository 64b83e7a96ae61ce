"""Batched fitting (fit_many), the figure and the ``nplab doseresponse fit`` command."""

from __future__ import annotations

import json
import warnings
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy.optimize import least_squares

import nplab.doseresponse as dr
from nplab.cli import main
from nplab.doseresponse.batch import lm_many
from nplab.errors import InputError

REF = Path(__file__).parent / "reference"


def _plate(n: int, seed: int = 7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    conc = np.array([0.001, 0.003, 0.01, 0.03, 0.1, 0.3, 1, 3, 10, 30, 100])
    hill = rng.uniform(0.8, 2.0, n)
    bottom = rng.normal(0, 5, n)
    top = rng.normal(100, 5, n)
    ic50 = 10 ** rng.uniform(-1.5, 1.0, n)
    well = np.repeat(np.arange(n), conc.size)
    x = np.tile(conc, n)
    mu = bottom[well] + (top - bottom)[well] / (1 + (x / ic50[well]) ** hill[well])
    return pd.DataFrame({"well": well, "conc": x, "resp": mu + rng.normal(0, 3, x.size)})


def test_batched_lm_matches_scipy_least_squares_per_curve():
    # independent check of the batched LM: scipy's MINPACK LM on each curve, tight
    # tolerances, from the same start. The batch is never worse in RSS (1e-12
    # relative); estimates agree to 1e-6 (relative; bottom/top relative to max(|value|,
    # 1% of the span)) on >= 95% of curves and to 1e-5 on all: where they differ at
    # 1e-6 it is along a flat direction and MINPACK stopped first (its RSS is higher).
    data = _plate(60)
    xs = data["conc"].to_numpy().reshape(60, -1)
    ys = data["resp"].to_numpy().reshape(60, -1)
    th0 = dr.guess_many("LL", xs, ys, {"asym": 1.0})
    th, rss, conv, _ = lm_many("LL", xs, ys, np.ones_like(xs, bool), th0, np.arange(4))
    assert conv.all()
    close = []
    for i in range(60):
        def res(p, i=i):
            return p[1] + (p[2] - p[1]) / (1 + np.exp(p[0] * (np.log(xs[i]) - p[3]))) - ys[i]
        start = th0[i, :4].copy()
        start[3] = np.log(start[3])
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            ref = least_squares(res, start, method="lm", xtol=1e-15, ftol=1e-15, gtol=1e-15)
        est = ref.x.copy()
        est[3] = np.exp(est[3])
        span = abs(est[2] - est[1])
        denom = np.maximum(np.abs(est), [0, 0.01 * span, 0.01 * span, 0])
        dev = np.max(np.abs(th[i, :4] - est) / denom)
        assert dev < 1e-5
        assert rss[i] <= 2 * ref.cost * (1 + 1e-12)
        close.append(dev < 1e-6)
    assert np.mean(close) >= 0.95


def test_fit_many_equals_fit_estimates_and_flags_bad_curves():
    data = _plate(5)
    flat = pd.DataFrame({"well": 99, "conc": [0.1, 1, 10, 100], "resp": 5.0})
    single = pd.DataFrame({"well": 98, "conc": [1.0, 1.0, 1.0, 1.0, 1.0], "resp": [1, 2, 3, 4, 5.0]})
    allw = pd.concat([data, flat, single], ignore_index=True)
    many = dr.fit_many(allw, x="conc", y="resp", curve="well")
    st = many.curve_stats.set_index("curve")
    assert not st.loc[99, "success"] and "flat" in st.loc[99, "message"]
    assert not st.loc[98, "success"] and "one concentration" in st.loc[98, "message"]
    assert st.loc[list(range(5)), "success"].all()
    assert not many.success
    for w in range(5):
        one = dr.fit(data[data.well == w], x="conc", y="resp")
        a = one.params.set_index("parameter")
        b = many.params[many.params.curve == w].set_index("parameter")
        np.testing.assert_allclose(b["estimate"], a["estimate"], rtol=1e-6, atol=1e-6)
        # per-curve variance in fit_many = the single-curve fit's SEs
        np.testing.assert_allclose(b["se"], a["se"], rtol=1e-4)
    with pytest.raises(InputError, match=r"one concentration|flat data"):
        dr.fit(allw, x="conc", y="resp", curve="well")


def test_robust_fit_resists_an_outlier():
    rng = np.random.default_rng(3)
    x = np.repeat([0, 0.03, 0.1, 0.3, 1, 3, 10, 30], 3).astype(float)
    y = 2 + 98 / (1 + (x / 1.0) ** 1.2) + rng.normal(0, 1.5, x.size)
    y[16] += 60  # one gross outlier at dose 3 (above the IC50 of 1)
    d = pd.DataFrame({"x": x, "y": y})
    ls_fit = dr.fit(d, x="x", y="y")
    rob = dr.fit(d, x="x", y="y", robust="huber")
    err_ls = abs(np.log(ls_fit.coef()["ic50"]))
    err_rob = abs(np.log(rob.coef()["ic50"]))
    # least squares is pulled to log(IC50) = 0.47; the Huber fit stays within 0.05
    assert err_rob < 0.05 and err_ls > 0.3


def test_figure_files_are_reproducible(tmp_path):
    fit = dr.fit(pd.read_csv(REF / "twodrugs.csv"), x="conc_um", y="response", curve="drug")
    for ext in ("png", "svg"):
        a, b = tmp_path / f"a.{ext}", tmp_path / f"b.{ext}"
        dr.plot_fit(fit, a)
        dr.plot_fit(fit, b)
        assert a.read_bytes() == b.read_bytes() and a.stat().st_size > 1000
    assert dr.plot.zero_dose_position(np.array([0, 0.1, 1, 10])) < 0.1


def _run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main(args)
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_cli_fit_writes_table_ed_and_manifest(tmp_path, capsys):
    out = tmp_path / "params.csv"
    code, _, err = _run([
        "doseresponse", "fit", str(REF / "ryegrass.csv"), "--x", "conc", "--y", "rootl",
        "--ed", "50", "--ed", "10", "-o", str(out), "--figure", str(tmp_path / "f.svg"),
    ], capsys)
    assert code == 0, err
    tab = pd.read_csv(out).set_index("parameter")
    assert tab.loc["ic50", "estimate"] == pytest.approx(3.05795, rel=5e-5)
    assert tab.loc["ic50", "se"] == pytest.approx(0.18573, rel=2e-4)
    ed = pd.read_csv(tmp_path / "params_ed.csv")
    assert ed["estimate"].iloc[1] == pytest.approx(1.46371, rel=5e-5)
    man = json.loads((tmp_path / "params.csv.manifest.json").read_text())
    assert len(man["outputs"]) == 3
    first = out.read_bytes()
    code, *_ = _run([
        "doseresponse", "fit", str(REF / "ryegrass.csv"), "--x", "conc", "--y", "rootl",
        "--ed", "50", "--ed", "10", "-o", str(out), "--no-manifest",
    ], capsys)
    assert code == 0 and out.read_bytes() == first


def test_cli_bad_input_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("conc,rootl\n0,1\n1,x\n2,3\n")
    code, _, err = _run(["doseresponse", "fit", str(bad), "--x", "conc", "--y", "rootl",
                         "-o", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "row 3" in err and "rootl" in err and "Traceback" not in err
    code, _, err = _run(["doseresponse", "fit", str(REF / "ryegrass.csv"), "--x", "conc",
                         "--y", "rootl", "--fixed", "bottom", "-o", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "NAME=VALUE" in err
    code, _, err = _run(["doseresponse", "fit", str(REF / "ryegrass.csv"), "--x", "conc",
                         "--y", "rootl", "--fixed", "bottom=0", "--model", "LL.3",
                         "-o", str(tmp_path / "o.csv")], capsys)
    assert code == 2 and "not estimated by LL.3" in err


def test_vectorised_ed_table_equals_per_curve_path():
    data = _plate(6)
    data.loc[data.well == 5, "resp"] = data.loc[data.well == 5, "resp"] * 0.2 + 80  # shallow curve
    many = dr.fit_many(data, x="conc", y="resp", curve="well")
    fast = many.ic([10, 50, 90], interval="log")
    for w in range(6):
        slow = many.ic([10, 50, 90], interval="log", curve=w)
        got = fast[fast.curve == w].reset_index(drop=True)
        pd.testing.assert_frame_equal(got, slow, check_exact=False, rtol=1e-9)


def test_fit_rejects_curve_with_too_few_points():
    data = _plate(2)
    short = pd.DataFrame({"well": 7, "conc": [0.1, 1.0, 10.0], "resp": [90.0, 50.0, 10.0]})
    with pytest.raises(InputError, match="too few points"):
        dr.fit(pd.concat([data, short]), x="conc", y="resp", curve="well")
    many = dr.fit_many(pd.concat([data, short]), x="conc", y="resp", curve="well")
    st = many.curve_stats.set_index("curve")
    assert not st.loc[7, "success"] and "too few points" in st.loc[7, "message"]
    assert np.isnan(many.params.set_index(["curve", "parameter"]).loc[(7, "ic50"), "se"])


def test_cli_shared_comma_separated_matches_api(tmp_path, capsys):
    out = tmp_path / "p.csv"
    code, _, err = _run([
        "doseresponse", "fit", str(REF / "twodrugs.csv"), "--x", "conc_um", "--y", "response",
        "--curve", "drug", "--shared", "bottom,top", "-o", str(out), "--no-manifest",
    ], capsys)
    assert code == 0, err
    api = dr.fit(pd.read_csv(REF / "twodrugs.csv"), x="conc_um", y="response", curve="drug",
                 shared=("bottom", "top"))
    got = pd.read_csv(out)
    np.testing.assert_allclose(got["estimate"], api.params["estimate"], rtol=1e-12)
    assert got["shared"].sum() == 4
