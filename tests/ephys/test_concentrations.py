"""Concentration assignment, experiment table, steady state and run-down helpers.

Numbers for the run-down line come from R (tests/ephys/reference/rundown.R, output in
rundown.out), tolerance 1e-10 relative.
"""

import math

import numpy as np
import pandas as pd
import pytest

from nplab.ephys.concentrations import (
    assign_concentrations,
    is_washout,
    linear_rundown,
    parse_concentration,
    read_experiment,
    rundown_factor,
    steady_state,
    validate_experiment,
    vehicle_ratio,
)
from nplab.errors import InputError


def per_sweep(file, values, tags=(), interval=5.0, status=None):
    """Per-sweep rows of one file; ``tags`` = [(first_sweep, text), ...]."""
    n = len(values)
    tag_text, tag_index = [""] * n, [0] * n
    for k, (start, text) in enumerate(tags, start=1):
        for i in range(start, n):
            tag_text[i], tag_index[i] = text, k
    return pd.DataFrame(
        {
            "file": file,
            "sweep": np.arange(n),
            "time_s": np.arange(n) * interval,
            "channel": 0,
            "measure": "peak_inward",
            "value": np.asarray(values, dtype=float),
            "baseline": 0.0,
            "units": "pA",
            "tag": tag_text,
            "tag_index": tag_index,
            "status": status if status is not None else ["ok"] * n,
            "reason": "",
        }
    )


@pytest.mark.parametrize(
    ("text", "um"),
    [
        ("+amitriptyline 1 uM", 1.0),
        ("+amitriptyline 1uM", 1.0),
        ("1 µM ami", 1.0),
        ("1 μM ami", 1.0),  # Greek mu
        ("300nM ami", 0.3),
        ("300 nm", 0.3),
        ("0.1 mM lidocaine", 100.0),
        ("10 pM", 1e-5),
        ("3e-1 uM", 0.3),
        (".5uM", 0.5),
        ("ami 1 uM (again 1uM)", 1.0),
    ],
)
def test_parse_concentration(text, um):
    assert parse_concentration(text) == pytest.approx(um, rel=1e-12)


@pytest.mark.parametrize("text", ["+drug at 3min", "wash", "drogue on", "+TGOT", "1 mm", "", "1 uM then 3 uM"])
def test_parse_concentration_none(text):
    assert parse_concentration(text) is None


def test_is_washout():
    assert is_washout("wash") and is_washout("Washout 5 min") and is_washout("wash out")
    assert not is_washout("+ami 1 uM") and not is_washout("dishwasher")


def test_validate_experiment_errors(tmp_path):
    good = "cell,file,drug,conc_um,holding_mv,condition\nc1,a.abf,ami,0,-120,rest\nc1,b.abf,ami,1,-120,rest\n"
    (tmp_path / "e.csv").write_text(good)
    exp = read_experiment(str(tmp_path / "e.csv"))
    assert exp["conc_um"].tolist() == [0.0, 1.0]
    bad = good.replace("c1,b.abf,ami,1", "c1,b.abf,ami,-1")
    (tmp_path / "bad.csv").write_text(bad)
    with pytest.raises(InputError, match=r"bad.csv, row 3, column 'conc_um'"):
        read_experiment(str(tmp_path / "bad.csv"))
    (tmp_path / "bad2.csv").write_text(good.replace("c1,b.abf,ami,1", "c1,b.abf,ami,lots"))
    with pytest.raises(InputError, match=r"row 3, column 'conc_um': 'lots' is not valid"):
        read_experiment(str(tmp_path / "bad2.csv"))
    (tmp_path / "bad3.csv").write_text("cell,file,drug,conc_um,holding_mv\nc1,a,ami,0,-120\n")
    with pytest.raises(InputError, match="column 'condition': required column is missing"):
        read_experiment(str(tmp_path / "bad3.csv"))
    (tmp_path / "bad4.csv").write_text(good + "c2,b.abf,ami,3,-120,rest\n")
    with pytest.raises(InputError, match="more than one cell"):
        read_experiment(str(tmp_path / "bad4.csv"))
    (tmp_path / "bad5.csv").write_text(good.replace("c1,b.abf", ",b.abf"))
    with pytest.raises(InputError, match=r"row 3, column 'cell': blank cell"):
        read_experiment(str(tmp_path / "bad5.csv"))
    df = pd.DataFrame({"cell": ["c"], "file": ["f"], "drug": ["d"], "conc_um": [0],
                       "holding_mv": [-80], "condition": ["x"], "h": [1.5]})
    with pytest.raises(InputError, match=r"row 2, column 'h'"):
        validate_experiment(df)


def test_layout_b_one_file_per_concentration():
    ps = pd.concat([per_sweep("c0.abf", [-1000] * 4), per_sweep("c1.abf", [-800] * 4),
                    per_sweep("c2.abf", [-400] * 4)])
    exp = validate_experiment(pd.DataFrame({
        "cell": ["k"] * 3, "file": ["c0.abf", "c1.abf", "c2.abf"], "drug": "ami",
        "conc_um": [0, 0.3, 3], "holding_mv": -120, "condition": "rest", "start_s": [0, 60, 120]}))
    out = assign_concentrations(ps, exp)
    seg = out.groupby("segment").agg(conc=("conc_um", "first"), role=("role", "first"),
                                     order=("segment_order", "first"), t=("elapsed_s", "min"))
    assert seg.loc["c0.abf"].tolist() == [0.0, "control", 0, 0.0]
    assert seg.loc["c2.abf"].tolist() == [3.0, "drug", 2, 120.0]
    # rows were not modified in the input
    assert "cell" not in ps


def test_layout_a_tags_parsed_mapped_and_washout():
    values = [-1000] * 3 + [-700] * 3 + [-400] * 3 + [-900] * 3
    ps = per_sweep("long.abf", values, tags=[(3, "+ami 0.3 uM"), (6, "+ami 3uM"), (9, "wash")])
    exp = validate_experiment(pd.DataFrame({
        "cell": ["k"], "file": ["long.abf"], "drug": ["ami"], "conc_um": [np.nan],
        "holding_mv": [-120], "condition": ["rest"]}))
    out = assign_concentrations(ps, exp)
    by = out.groupby("tag_index").agg(conc=("conc_um", "first"), role=("role", "first"))
    assert by["role"].tolist() == ["control", "drug", "drug", "washout"]
    assert by["conc"].iloc[:3].tolist() == [0.0, 0.3, 3.0] and math.isnan(by["conc"].iloc[3])
    # explicit mapping by tag text wins over parsing; unparseable tag without mapping -> error
    ps2 = per_sweep("long.abf", values, tags=[(3, "+drug at 3min"), (6, "+more"), (9, "wash")])
    with pytest.raises(InputError, match="cannot tell the concentration of tag 1"):
        assign_concentrations(ps2, exp)
    exp2 = validate_experiment(pd.DataFrame({
        "cell": ["k", "k"], "file": ["long.abf"] * 2, "drug": ["ami"] * 2, "conc_um": [1.0, 10.0],
        "holding_mv": [-120] * 2, "condition": ["rest"] * 2, "tag": ["+Drug at 3min ", "+more"]}))
    by2 = assign_concentrations(ps2, exp2).groupby("tag_index")["conc_um"].first()
    assert by2.iloc[:3].tolist() == [0.0, 1.0, 10.0]


def test_measure_and_channel_selection_and_missing_file():
    a = per_sweep("a.abf", [-1, -1])
    b = a.assign(measure="peak_outward")
    exp = validate_experiment(pd.DataFrame({
        "cell": ["k"], "file": ["a.abf"], "drug": ["ami"], "conc_um": [0.0],
        "holding_mv": [-80], "condition": ["x"]}))
    with pytest.raises(InputError, match="several values of 'measure'"):
        assign_concentrations(pd.concat([a, b]), exp)
    assert len(assign_concentrations(pd.concat([a, b]), exp, measure="peak_inward")) == 2
    with pytest.raises(InputError, match="no per-sweep rows with measure"):
        assign_concentrations(a, exp, measure="tail")
    exp2 = exp.assign(file="other.abf")
    with pytest.raises(InputError, match=r"file 'other\.abf' has no rows"):
        assign_concentrations(a, exp2)


def test_steady_state():
    assert steady_state(np.array([1.0, 2.0, 3.0, 4.0, 5.0]), 3) == (4.0, 3)
    assert steady_state(np.array([1.0, np.nan, 5.0]), 5) == (3.0, 2)
    v, n = steady_state(np.array([]), 3)
    assert math.isnan(v) and n == 0
    with pytest.raises(InputError):
        steady_state(np.array([1.0]), 0)


def test_linear_rundown_matches_r():
    t = np.arange(6) * 5.0
    v = np.array([-1000, -996, -991, -985, -982, -976], dtype=float)
    a, b = linear_rundown(t, v)
    assert a == pytest.approx(-1000.333333333334, rel=1e-12)
    assert b == pytest.approx(0.96, rel=1e-12)
    factor = rundown_factor(np.array([50.0]), np.array([20.0]), a, b)[0]
    assert factor == pytest.approx(0.970646191479, rel=1e-10)
    assert 0.510363574584 / factor == pytest.approx(0.525797740787, rel=1e-10)
    assert all(math.isnan(x) for x in linear_rundown(np.array([1.0]), np.array([2.0])))


def test_vehicle_ratio_matches_r():
    tv = np.arange(12) * 5.0
    v1 = np.array([-800, -799, -797, -796, -795, -793, -790, -788, -785, -783, -781, -779.0])
    v2 = np.array([-1200, -1198, -1195, -1193, -1190, -1188, -1184, -1180, -1177, -1175, -1171,
                   -1168.0])
    rows = pd.concat([
        pd.DataFrame({"cell": "v1", "elapsed_s": tv, "value": v1, "ratio": v1 / v1[3:6].mean()}),
        pd.DataFrame({"cell": "v2", "elapsed_s": tv, "value": v2, "ratio": v2 / v2[3:6].mean()}),
    ])
    got = vehicle_ratio(rows, np.array([50.0, 500.0]))
    assert got[0] == pytest.approx(0.983280032194, rel=1e-10)
    assert math.isnan(got[1])  # outside every vehicle cell's recording: not extrapolated
