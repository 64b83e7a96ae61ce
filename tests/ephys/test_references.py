"""Reference table of published amitriptyline values and the comparison with fits."""

import math

import numpy as np
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
    assert (ref["source"] != "").all() and (ref["version"] == "1.1.0").all()
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


def test_apparent_ic50_compared_with_kapp_for_the_same_h() -> None:
    """Issue 13.5: an IC50 at 0 < h < 1 is compared with K_app = 1/(h/K_R + (1-h)/K_I)
    from the resting and inactivated references of the same target, never with K_I alone.
    K_R 20 uM, K_I 0.24 uM, h 0.5: K_app = 1/(0.025 + 2.08333) = 0.474308 uM (by hand)."""
    refs = pd.DataFrame({
        "drug": "amitriptyline", "key": ["NavX-R", "NavX-I"], "target": "NavX",
        "measure": "IC50", "state": ["resting", "inactivated"], "value": [20.0, 0.24],
        "value_high": np.nan, "unit": "uM", "value_um": [20.0, 0.24],
        "value_high_um": np.nan, "system": "", "source": ["paper R", "paper I"],
        "primary_source": ["R 2001", "I 2002"], "checked": "abstract", "version": "1",
        "file": ""})
    fits = pd.DataFrame({"drug": "amitriptyline", "condition": ["half", "rest", "inact"],
                         "level": "pooled_mean_log", "ic50_um": [0.48, 19.0, 0.25],
                         "ic50_ci_low_um": [0.45, 17.0, 0.23],
                         "ic50_ci_high_um": [0.51, 21.0, 0.27]})
    targets = {("amitriptyline", c): "NavX" for c in ("half", "rest", "inact")}
    out = compare_to_references(fits, refs, targets=targets,
                                h={"half": 0.5, "rest": 1.0, "inact": 0.0})
    half = out[out["condition"] == "half"]
    assert len(half) == 1 and half["measure"].iloc[0] == "K_app (h=0.5)"
    assert half["reference_um"].iloc[0] == pytest.approx(1 / (0.5 / 20 + 0.5 / 0.24), rel=1e-12)
    assert half["reference_um"].iloc[0] == pytest.approx(0.474308, rel=1e-5)
    assert "paper R" in half["source"].iloc[0] and "paper I" in half["source"].iloc[0]
    assert list(out.loc[out["condition"] == "rest", "state"]) == ["resting"]
    assert list(out.loc[out["condition"] == "inact", "state"]) == ["inactivated"]
    # without the resting partner, the h = 0.5 IC50 gets no (mismatched) comparison
    only_ki = compare_to_references(fits, refs[refs["state"] == "inactivated"],
                                    targets=targets, h={"half": 0.5})
    assert "half" not in set(only_ki["condition"])
