"""ELISA quantification against R ``nls`` (recorded with reference/elisa_nls.R), hand-computed
ICH M10 cases, the input errors and the plate-shaped readers."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.elisa import acceptance, quantify, read_layout, read_plate, read_plate_files
from nplab.elisa.synth import signal_of, simulate_plate
from nplab.errors import InputError

REF = Path(__file__).parent / "reference"
CASES = [("plate_ll4.csv", "LL.4", "none"), ("plate_ll4.csv", "LL.4", "1/y^2"),
         ("plate_ll4.csv", "LL.4", "pom"), ("plate_ll5.csv", "LL.5", "none"),
         ("plate_ll5.csv", "LL.5", "1/y^2")]


def _weights(w: str):
    return {"none": None, "1/y^2": "1/y^2", "pom": {"pom": 1.0}}[w]


@pytest.mark.parametrize(("file", "model", "weights"), CASES)
def test_parameters_and_back_calculation_match_r_nls(file, model, weights):
    table = pd.read_csv(REF / file)
    res = quantify(table, model=model, weights=_weights(weights))
    rp = pd.read_csv(REF / "nls_params.csv")
    rp = rp[(rp["file"] == file) & (rp["model"] == model) & (rp["weights"] == weights)]
    got = res.params.set_index("parameter")
    for _, r in rp.iterrows():
        # estimates: nls stops at its relative-offset tolerance 1e-9; SEs are s^2 (J'WJ)^-1
        assert got.loc[r["parameter"], "estimate"] == pytest.approx(r["estimate"], rel=1e-5, abs=1e-6)
        assert got.loc[r["parameter"], "se"] == pytest.approx(r["se"], rel=1e-4, abs=1e-7)
    assert res.plates["residual_se"].iloc[0] == pytest.approx(rp["rse"].iloc[0], rel=1e-6)
    assert res.plates["df_resid"].iloc[0] == rp["df"].iloc[0]
    rs = pd.read_csv(REF / "nls_samples.csv")
    rs = rs[(rs["file"] == file) & (rs["model"] == model) & (rs["weights"] == weights)]
    s = res.samples.set_index("sample")
    for _, r in rs.iterrows():
        assert s.loc[r["sample"], "well_concentration"] == pytest.approx(r["well_concentration"], rel=1e-5)
        if s.loc[r["sample"], "status"] == "ok":
            dil = s.loc[r["sample"], "dilution"]
            assert s.loc[r["sample"], "concentration"] == pytest.approx(dil * r["well_concentration"], rel=1e-5)
            assert s.loc[r["sample"], "se"] == pytest.approx(dil * r["se_well"], rel=1e-4)


def test_true_concentrations_recovered_within_ci():
    truth = {"U1": 60.0, "U2": 300.0, "U3": 900.0}
    table = pd.concat([simulate_plate(truth, plate=str(k), dilution=2, replicates=3, seed=k)
                       for k in range(20)])
    res = quantify(table, weights="1/y^2")
    s = res.samples
    assert (s["status"] == "ok").all() and res.plates["accepted"].all()
    s = s.assign(truth=s["sample"].map(truth))
    covered = (s["ci_low"] <= s["truth"]) & (s["truth"] <= s["ci_high"])
    assert covered.mean() >= 0.85  # nominal 95 %, 60 intervals
    err = np.abs(s["concentration"] / s["truth"] - 1)
    assert np.median(err) < 0.05 and err.max() < 0.3


def test_statuses_never_extrapolate():
    table = simulate_plate({"low": 3.0, "high": 5000.0, "mid": 200.0, "beyond": 1e7}, seed=3)
    res = quantify(table)
    s = res.samples.set_index("sample")
    assert s.loc["mid", "status"] == "ok"
    assert s.loc["low", "status"] == "below_lloq" and np.isnan(s.loc["low", "concentration"])
    assert s.loc["high", "status"] in ("above_uloq", "outside_curve")
    assert np.isnan(s.loc["high", "concentration"])
    # signal beyond the fitted top asymptote: no concentration exists
    top = res.params.set_index("parameter").loc["top", "estimate"]
    assert s.loc["beyond", "corrected"] > top or s.loc["beyond", "status"] in ("above_uloq", "outside_curve")
    assert s["lloq"].iloc[0] == pytest.approx(7.8125)


def test_m10_hand_computed_cases():
    nominal = np.array([0, 10, 20, 40, 80, 160, 320, 640, 1280.0])
    # recoveries 100 + deviation; the 0 is the (anchor) zero standard, 1280 an anchor
    dev = np.array([0, 24, 21, -19, 5, 0, 20.5, -24, 60.0])
    levels = pd.DataFrame({"plate": "p", "nominal": nominal, "anchor": [True] + [False] * 7 + [True],
                           "back_calculated": nominal * (1 + dev / 100)})
    lev, plates = acceptance(levels)
    # non-anchor levels: 10 (edge, 24 <= 25 pass), 20 (21 > 20 fail), 40 pass, 80 pass, 160 pass,
    # 320 (20.5 > 20 fail), 640 (edge, 24 <= 25 pass): 5 of 7 = 71 % pass < 75 %; 5 levels < 6
    assert lev["pass"].tolist()[1:8] == [True, False, True, True, True, False, True]
    assert lev["tolerance_pct"].tolist()[1:8] == [25, 20, 20, 20, 20, 20, 25]
    row = plates.iloc[0]
    assert row["n_levels"] == 7 and row["n_levels_pass"] == 5
    assert row["pct_levels_pass"] == pytest.approx(500 / 7)
    assert not row["accepted"] and "75%" in row["reason"] and "(< 6)" in row["reason"]
    assert (row["lloq"], row["uloq"]) == (10, 640)
    # one more passing level: 6 of 8 = 75 % and 6 levels -> accepted; LLOQ moves with the failures
    levels2 = pd.concat([levels, pd.DataFrame({"plate": ["p"], "nominal": [5.0], "anchor": [False],
                                               "back_calculated": [7.0]})])
    _, plates2 = acceptance(levels2)
    # 5 is now the lowest level (edge, 40 % fails); 10 is no longer an edge: 24 % > 20 % fails
    assert plates2.iloc[0]["n_levels_pass"] == 4 and not plates2.iloc[0]["accepted"]
    dev3 = np.array([0, 5, 10, -10, 5, 0, 15, -24, 60.0])
    _, plates3 = acceptance(levels.assign(back_calculated=nominal * (1 + dev3 / 100)))
    assert plates3.iloc[0]["accepted"] and plates3.iloc[0]["n_levels_pass"] == 7


def test_failing_plate_reported_not_raised():
    table = simulate_plate({"U1": 100.0}, seed=4)
    bad = table["kind"].eq("standard") & table["nominal"].isin([31.25, 62.5, 125.0])
    table.loc[bad, "signal"] *= 1.8
    res = quantify(table)
    assert not res.plates["accepted"].iloc[0]
    assert not res.samples["plate_accepted"].iloc[0]


def test_several_plates_one_curve_each():
    a = simulate_plate({"X": 100.0}, plate="a", curve=(-1.2, 0, 3, 150, 1), seed=1)
    b = simulate_plate({"X": 100.0}, plate="b", curve=(-1.2, 0, 2, 300, 1), seed=2)
    res = quantify(pd.concat([a, b]))
    ic = res.params[res.params["parameter"] == "ic50"].set_index("plate")["estimate"]
    assert ic["a"] == pytest.approx(150, rel=0.1) and ic["b"] == pytest.approx(300, rel=0.1)
    assert res.samples.set_index("plate")["concentration"].to_numpy() == pytest.approx([100, 100], rel=0.15)


@pytest.mark.parametrize(
    ("edit", "match"),
    [
        (lambda t: t[t["kind"] != "standard"], "no standard wells"),
        (lambda t: t[~t["nominal"].isin([500.0, 1000.0, 250.0])], "non-anchor standard level"),
        (lambda t: t.assign(signal=np.where(t["kind"] == "blank", 5.0, t["signal"])), "blank mean"),
        (lambda t: t.drop(index=t.index[(t["sample"] == "U1")][1:]), "has 1 well"),
        (lambda t: t.assign(kind=t["kind"].replace("blank", "blanc")), "unknown well kind"),
        (lambda t: t.assign(signal=t["signal"].astype(object).where(t.index != 5, "x")), "not a number"),
        (lambda t: t.drop(columns="signal"), "missing column"),
    ],
)
def test_input_errors(edit, match):
    table = simulate_plate({"U1": 100.0, "U2": 50.0}, seed=5)
    with pytest.raises(InputError, match=match):
        quantify(edit(table))


def test_single_well_allowed_when_asked():
    table = simulate_plate({"U1": 100.0}, seed=6, replicates=1)
    table = pd.concat([table, simulate_plate({}, seed=7)[lambda t: t["kind"] == "standard"]])
    res = quantify(table, min_replicates=1)
    assert np.isnan(res.samples["cv_pct"].iloc[0]) and res.samples["status"].iloc[0] == "ok"


def _grid_csv(path: Path, values: np.ndarray, corner: str = "", header: str = "") -> None:
    lines = [header] if header else []
    lines.append(",".join([corner] + [str(k) for k in range(1, values.shape[1] + 1)]))
    for r in range(values.shape[0]):
        lines.append(",".join([chr(65 + r)] + [str(v) for v in values[r]]))
    path.write_text("\n".join(lines) + "\n\n")


def test_plate_reader_and_layout_files(tmp_path):
    table = simulate_plate({"U1": 80.0, "U2": 400.0}, seed=8)
    grid = np.full((8, 12), 0.04)
    kinds = np.full((8, 12), "", dtype=object)
    samples = np.full((8, 12), "", dtype=object)
    nominal = np.full((8, 12), "", dtype=object)
    for _, r in table.iterrows():
        i, j = ord(r["well"][0]) - 65, int(r["well"][1:]) - 1
        grid[i, j] = r["signal"]
        kinds[i, j] = r["kind"]
        samples[i, j] = r["sample"]
        nominal[i, j] = "" if np.isnan(r["nominal"]) else r["nominal"]
    reader = tmp_path / "run1.csv"
    _grid_csv(reader, grid, header="Software Version,3.1\nPlate Number,Plate 1\nRead 1:450")
    layout = tmp_path / "layout.csv"
    _grid_csv(layout, kinds, corner="kind")
    text = layout.read_text()
    for name, arr in (("sample", samples), ("nominal", nominal)):
        extra = tmp_path / f"{name}.csv"
        _grid_csv(extra, arr, corner=name)
        text += extra.read_text()
    layout.write_text(text)
    sig = read_plate(reader)
    assert len(sig) == 96
    lay = read_layout(layout)
    assert set(lay.columns) == {"well", "kind", "sample", "nominal"}
    tidy = read_plate_files(reader, layout)
    direct = quantify(table)
    via = quantify(tidy)
    assert via.samples["concentration"].to_numpy() == pytest.approx(direct.samples["concentration"].to_numpy())
    assert via.plates["plate"].iloc[0] == "run1"
    # a 384-well layout with a 96-well export is an error naming both shapes
    big = tmp_path / "big.csv"
    _grid_csv(big, np.full((16, 24), "sample", dtype=object), corner="kind")
    with pytest.raises(InputError, match="8 x 12 plate, the layout 16 x 24"):
        read_plate_files(reader, big)
    with pytest.raises(InputError, match="no plate block"):
        read_plate(layout.parent / "sample.csv", block=3)


def test_figure(tmp_path):
    res = quantify(simulate_plate({"U1": 80.0, "U2": 3.0}, seed=9))
    out = res.plot(tmp_path / "curve.png")
    assert out.stat().st_size > 1000


def test_simulator_curve_is_the_model():
    assert signal_of(150.0, (-1.2, 0, 3, 150, 1)) == pytest.approx(1.5)
