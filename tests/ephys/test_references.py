"""Reference table of published amitriptyline values and the comparison with fits."""

import math

import pandas as pd
import pytest

from nplab.ephys.references import (
    compare_state_to_references,
    compare_to_references,
    load_references,
    reference_dirs,
)
from nplab.errors import InputError
from nplab.protocols import list_protocols

# The values the technical guide (issue 6 item 11) lists, in µM.
GUIDE = {
    "SERT": 3.45e-3, "NET": 13.3e-3, "DAT": 3.78, "H1": 0.5e-3, "M1-M5": 11e-3,
    "alpha1": 4.4e-3, "Nav1.7": 0.24, "DRG-Na": 20.0, "Kv7.2/7.3": 10.0, "hERG": 4.78,
}


def test_amitriptyline_table_has_the_guide_values():
    ref = load_references("amitriptyline")
    got = dict(zip(ref["key"], ref["value_um"], strict=True))
    assert set(got) == set(GUIDE)
    for key, um in GUIDE.items():
        assert got[key] == pytest.approx(um, rel=1e-12), key
    m = ref.set_index("key").loc["M1-M5"]
    assert m["value_high_um"] == pytest.approx(0.024, rel=1e-12)
    assert (ref["source"] != "").all() and (ref["version"] == "1.0.0").all()
    assert "Br J Pharmacol 129:1474" in ref.set_index("key").loc["hERG", "primary_source"]
    assert set(ref["measure"]) == {"Ki", "IC50"}


def test_reference_folder_not_listed_as_protocols():
    assert reference_dirs(), "protocols/references must exist"
    assert "amitriptyline" not in {p["name"] for p in list_protocols()}


def test_user_reference_file_and_errors(tmp_path):
    p = tmp_path / "lidocaine.toml"
    p.write_text(
        '[reference]\ndrug = "lidocaine"\nversion = "0.1"\n'
        '[[values]]\nkey = "Nav1.5"\ntarget = "Nav1.5"\nmeasure = "IC50"\n'
        'value = 300\nunit = "uM"\nsource = "Bean et al. 1983"\n'
    )
    ref = load_references(path=p)
    assert ref["value_um"].tolist() == [300.0] and ref["drug"].tolist() == ["lidocaine"]
    p.write_text(p.read_text().replace('unit = "uM"', 'unit = "g/l"'))
    with pytest.raises(InputError, match=r"column 'values\[0\].unit'"):
        load_references(path=p)
    with pytest.raises(InputError, match="no reference table for 'unobtainium'"):
        load_references("unobtainium")
    assert load_references("unobtainium", missing="skip").empty


def _fits(ic50, lo, hi, level="pooled_mean_log"):
    return pd.DataFrame({"drug": ["amitriptyline"], "condition": ["vhalf inactivated"],
                         "level": [level], "ic50_um": [ic50], "ic50_ci_low_um": [lo],
                         "ic50_ci_high_um": [hi]})


def test_compare_ratio_and_inside_ci():
    ref = load_references("amitriptyline")
    targets = {("amitriptyline", "vhalf inactivated"): "Nav1.7"}
    out = compare_to_references(_fits(0.30, 0.2, 0.45), ref, targets=targets)
    assert len(out) == 1
    row = out.iloc[0]
    assert row["key"] == "Nav1.7" and row["ratio"] == pytest.approx(0.30 / 0.24, rel=1e-12)
    assert bool(row["inside_ci"]) is True
    out = compare_to_references(_fits(0.60, 0.5, 0.7), ref, targets=targets)
    assert bool(out["inside_ci"].iloc[0]) is False
    out = compare_to_references(_fits(0.60, math.nan, math.nan), ref, targets=targets)
    assert bool(out["inside_ci"].iloc[0]) is False
    # range reference: ratio to the geometric mean; overlap counts as inside
    out = compare_to_references(_fits(0.02, 0.018, 0.03), ref,
                                targets={("amitriptyline", "vhalf inactivated"): "m1-m5"})
    assert out["ratio"].iloc[0] == pytest.approx(0.02 / math.sqrt(0.011 * 0.024), rel=1e-12)
    assert bool(out["inside_ci"].iloc[0]) is True
    # no target -> nothing compared
    assert compare_to_references(_fits(1, 0.5, 2), ref, targets={}).empty


def test_state_constants_beside_state_references():
    ref = load_references("amitriptyline")
    state = pd.DataFrame([{
        "drug": "amitriptyline", "level": "pooled_mean_log", "condition_1": "rest",
        "condition_2": "vhalf", "k_r_um": 21.0, "k_r_se_um": 1.0, "k_i_um": 0.25,
        "k_i_se_um": 0.01, "status": "ok",
    }])
    targets = {("amitriptyline", "rest"): "DRG-Na", ("amitriptyline", "vhalf"): "Nav1.7"}
    out = compare_state_to_references(state, ref, targets=targets).set_index("level")
    ki = out.loc["pooled_mean_log:K_I"]
    assert ki["key"] == "Nav1.7" and ki["ic50_um"] == 0.25
    assert ki["ratio"] == pytest.approx(0.25 / 0.24, rel=1e-12)
    z = 1.959963984540054  # normal 97.5% quantile
    assert ki["ic50_ci_low_um"] == pytest.approx(0.25 - z * 0.01, rel=1e-12)
    assert bool(ki["inside_ci"]) is True
    kr = out.loc["pooled_mean_log:K_R"]
    assert kr["key"] == "DRG-Na" and bool(kr["inside_ci"]) is True
    state.loc[0, "k_i_um"] = 0.5
    out = compare_state_to_references(state, ref, targets=targets).set_index("level")
    assert bool(out.loc["pooled_mean_log:K_I", "inside_ci"]) is False
