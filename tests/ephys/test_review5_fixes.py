"""Regression tests for bugs found in the independent review (review5) of the patch-clamp
concentration-response part (issue 6 items 4, 5, 7, 11)."""

from __future__ import annotations

import shutil

import pytest

from nplab.ephys.concentrations import parse_concentration, validate_experiment
from nplab.ephys.ic50 import ic50
from nplab.errors import InputError


def test_tag_concentrations_are_correctly_rounded():
    # the exact decimal value written in the tag, converted to µM (hand values)
    assert parse_concentration("10 pM") == 1e-05
    assert parse_concentration("0.3 nM") == 0.0003
    assert parse_concentration("0.7 nM") == 0.0007
    assert parse_concentration("+amitriptyline 1 uM") == 1.0
    assert parse_concentration("1µM") == 1.0
    assert parse_concentration("10 mM") == 10000.0
    assert parse_concentration("wash") is None


def test_negative_value_message_is_plain():
    import pandas as pd

    df = pd.DataFrame({"cell": ["c"], "file": ["f.abf"], "drug": ["ami"], "conc_um": [-1.0],
                       "holding_mv": [-120], "condition": ["rest"]})
    with pytest.raises(InputError) as e:
        validate_experiment(df, file="exp.csv")
    msg = str(e.value)
    assert "row 2" in msg and "conc_um" in msg and "-1 is negative" in msg
    assert "np.float64" not in msg


def test_unreadable_file_does_not_abort_the_batch(repo_dir, tmp_path):
    # one bad file of a cell (unreadable control) with run-down correction across files:
    # the header start time cannot be read; this used to abort the whole batch with an
    # InputError. Now the file is a failed row, the cell is kept with its reason and
    # the other cell is still fitted.
    d = repo_dir / "sample_data" / "ephys"
    rows = ["cell,file,drug,conc_um,holding_mv,condition"]
    for k in range(5):
        f = f"herg-cell01_000{k}.abf"
        shutil.copy(d / f, tmp_path / f)
        rows.append(f"good,{f},amitriptyline,{[0, 1, 3, 10, 30][k]},-80,patchclamp-herg")
    (tmp_path / "bad_0000.abf").write_bytes(b"not an abf file at all")
    shutil.copy(d / "herg-cell02_0001.abf", tmp_path / "bad_0001.abf")
    rows += ["bad,bad_0000.abf,vehicle,0,-80,patchclamp-herg",
             "bad,bad_0001.abf,amitriptyline,1,-80,patchclamp-herg"]
    (tmp_path / "exp.csv").write_text("\n".join(rows) + "\n")
    res = ic50(tmp_path / "exp.csv", rundown="linear")
    bad = res.cells[res.cells["cell"] == "bad"]
    assert len(bad) and (bad["cell_status"] == "failed").all()
    assert "bad_0000.abf" in bad["cell_reason"].iloc[0]
    good = res.fits[(res.fits["level"] == "cell") & (res.fits["cell"] == "good")].iloc[0]
    assert good["ic50_um"] == pytest.approx(4.78, rel=0.05)
    pooled = res.fits[res.fits["level"] == "pooled_mean_log"].iloc[0]
    assert pooled["n_cells"] == 1


def test_references_fall_back_to_the_protocol_target(repo_dir, tmp_path):
    # the sample experiment table has no 'target' column: the hERG protocol's target
    # ("hERG") must still put the fitted IC50 beside the published 4.78 µM (Jo et al.
    # 2000); an explicit target column still wins.
    d = repo_dir / "sample_data" / "ephys"
    rows = ["cell,file,drug,conc_um,holding_mv,condition"]
    for c in (1, 2):
        for k, conc in enumerate([0, 1, 3, 10, 30]):
            rows.append(f"herg-cell0{c},{d / f'herg-cell0{c}_000{k}.abf'},"
                        f"{'vehicle' if conc == 0 else 'amitriptyline'},{conc},-80,"
                        "patchclamp-herg")
    (tmp_path / "exp.csv").write_text("\n".join(rows) + "\n")
    res = ic50(tmp_path / "exp.csv", rundown="linear")
    ref = res.references.set_index("level")
    assert ref.loc["pooled_mean_log", "key"] == "hERG"
    assert ref.loc["pooled_mean_log", "reference_um"] == 4.78
    fit = res.fits.set_index("level").loc["pooled_mean_log"]
    assert ref.loc["pooled_mean_log", "ratio"] == pytest.approx(fit["ic50_um"] / 4.78, rel=1e-12)
    lines = (tmp_path / "exp.csv").read_text().splitlines()
    with_target = [lines[0] + ",target"] + [ln + ",no-such-target" for ln in lines[1:]]
    (tmp_path / "exp2.csv").write_text("\n".join(with_target) + "\n")
    res2 = ic50(tmp_path / "exp2.csv", rundown="linear")
    assert res2.references is None or len(res2.references) == 0


def test_per_sweep_table_written_by_ic50_can_be_analysed_again(repo_dir, tmp_path):
    # the per_sweep table of an ic50 run already carries cell/condition/start_s/...;
    # feeding it back (CLI --per-sweep) used to crash with KeyError 'start_s' (merge
    # suffixes). It must give the same fits.
    d = repo_dir / "sample_data" / "ephys"
    rows = ["cell,file,drug,conc_um,holding_mv,condition"]
    for k, conc in enumerate([0, 1, 3, 10, 30]):
        rows.append(f"herg-cell01,{d / f'herg-cell01_000{k}.abf'},"
                    f"{'vehicle' if conc == 0 else 'amitriptyline'},{conc},-80,patchclamp-herg")
    (tmp_path / "exp.csv").write_text("\n".join(rows) + "\n")
    first = ic50(tmp_path / "exp.csv", rundown="linear", references=False)
    again = ic50(tmp_path / "exp.csv", first.sweeps, rundown="linear", references=False)
    assert again.fits["ic50_um"].tolist() == first.fits["ic50_um"].tolist()
    assert again.cells["fraction"].tolist() == first.cells["fraction"].tolist()


def test_two_drugs_in_one_cell_is_an_input_error():
    # a second drug in the same cell used to be fitted silently as the first drug
    import pandas as pd

    df = pd.DataFrame({"cell": ["c", "c", "c", "d"], "file": ["a", "b", "e", "f"],
                       "drug": ["vehicle", "amitriptyline", "TTX", "Amitriptyline"],
                       "conc_um": [0.0, 1.0, 1.0, 1.0], "holding_mv": -120,
                       "condition": "rest"})
    with pytest.raises(InputError) as e:
        validate_experiment(df, file="exp.csv")
    msg = str(e.value)
    assert "row 4" in msg and "'drug'" in msg and "more than one drug" in msg
    # case differences and vehicle/control rows are not a second drug
    ok = df[df["drug"] != "TTX"].assign(drug=["control", "amitriptyline", "AMITRIPTYLINE"])
    assert len(validate_experiment(ok.reset_index(drop=True), file="exp.csv")) == 3


def test_unit_conversions_give_the_written_decimal():
    # nM -> µM scaled in decimal: the double nearest to the written value (hand values)
    from nplab.ephys.references import load_references

    ref = load_references("amitriptyline").set_index("key")
    assert ref.loc["SERT", "value_um"] == 0.00345
    assert ref.loc["DAT", "value_um"] == 3.78
    assert ref.loc["NET", "value_um"] == 0.0133
    assert ref.loc["M1-M5", "value_high_um"] == 0.024
    assert ref.loc["hERG", "value_um"] == 4.78
    assert parse_concentration("3.45 nM") == 0.00345
    assert parse_concentration("3780nM") == 3.78


def test_unfitted_cell_says_why_its_periods_were_unusable():
    # vehicle run-down correction without any vehicle cell: the fit row used to say only
    # "0 points at 0 drug concentrations"; it must carry the periods' reason too
    import pandas as pd

    rows = []
    for f, vals in (("a0.abf", [-100.0] * 3), ("a1.abf", [-50.0] * 3), ("a2.abf", [-30.0] * 3)):
        for i, v in enumerate(vals):
            rows.append({"file": f, "sweep": i, "time_s": 10.0 * i, "value": v,
                         "status": "ok", "reason": ""})
    exp = pd.DataFrame({"cell": ["A"] * 3, "file": ["a0.abf", "a1.abf", "a2.abf"],
                        "drug": ["vehicle", "ami", "ami"], "conc_um": [0.0, 1.0, 3.0],
                        "holding_mv": -120, "condition": "rest", "start_s": [0, 30, 60]})
    res = ic50(exp, pd.DataFrame(rows), rundown="vehicle", references=False)
    row = res.fits[res.fits["level"] == "cell"].iloc[0]
    assert row["status"] == "not_fitted"
    assert "no time-matched vehicle cell" in row["reason"]


def test_per_sweep_table_missing_columns_names_the_file(repo_dir, tmp_path):
    # a --per-sweep table without 'status' etc.: InputError naming that table and the
    # column (was an internal KeyError 'status', exit 1)
    import pandas as pd

    from nplab.tables import read_table

    p = tmp_path / "ps.csv"
    p.write_text("file,sweep\nnavrest-cell01_0000.abf,0\n")
    exp = repo_dir / "sample_data" / "ephys" / "experiment.csv"
    with pytest.raises(InputError) as e:
        ic50(exp, read_table(p), rundown="linear")
    assert "ps.csv" in str(e.value) and "required column is missing" in str(e.value)
    assert isinstance(pd.read_csv(p), pd.DataFrame)  # input untouched


def test_vehicle_correction_hand_values_and_no_vehicle_fit_rows():
    # time-matched vehicle: fraction = (I_drug/I_ctrl)/(I_veh(t)/I_veh,ctrl)
    # hand values: 0.5/0.9 and 0.2/0.8; vehicle cells get no (empty) fit rows
    import pandas as pd

    rows = []
    for f, v in (("a0", -100), ("a1", -50), ("a2", -20), ("v0", -100), ("v1", -90), ("v2", -80)):
        for i in range(3):
            rows.append({"file": f + ".abf", "sweep": i, "time_s": 10.0 * i, "value": float(v),
                         "status": "ok", "reason": ""})
    exp = pd.DataFrame({"cell": ["A"] * 3 + ["V"] * 3,
                        "file": [f + ".abf" for f in ("a0", "a1", "a2", "v0", "v1", "v2")],
                        "drug": ["vehicle", "ami", "ami"] + ["vehicle"] * 3,
                        "conc_um": [0, 1, 3, 0, 0, 0], "holding_mv": -120, "condition": "rest",
                        "start_s": [0, 30, 60] * 2})
    res = ic50(exp, pd.DataFrame(rows), rundown="vehicle", steady_state_sweeps=3,
               references=False)
    a = res.cells[(res.cells["cell"] == "A") & (res.cells["role"] == "drug")]
    assert a["fraction"].tolist() == pytest.approx([0.5 / 0.9, 0.2 / 0.8], rel=1e-12)
    assert set(res.fits["drug"]) == {"ami"}


def test_tags_mapped_by_position_when_texts_repeat():
    # perfusion-controller tags all read "<External>": map them as "#1", "#2"
    import numpy as np
    import pandas as pd

    from nplab.ephys.concentrations import assign_concentrations

    n = 9
    tag = [""] * 3 + ["<External>"] * 6
    ps = pd.DataFrame({"file": "long.abf", "sweep": np.arange(n), "time_s": 5.0 * np.arange(n),
                       "value": -100.0, "tag": tag, "tag_index": [0] * 3 + [1] * 3 + [2] * 3,
                       "status": "ok", "reason": ""})
    exp = validate_experiment(pd.DataFrame({
        "cell": ["k", "k"], "file": ["long.abf"] * 2, "drug": ["ami"] * 2,
        "conc_um": [0.3, 3.0], "holding_mv": [-120] * 2, "condition": ["rest"] * 2,
        "tag": ["#1", "# 2"]}))
    out = assign_concentrations(ps, exp)
    by = out.groupby("tag_index")["conc_um"].first()
    assert by.tolist() == [0.0, 0.3, 3.0]
