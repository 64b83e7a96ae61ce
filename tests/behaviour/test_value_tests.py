"""Score / force / weight / binned tests on the value engine: hand-computed cases."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.behaviour import (
    acetone,
    behaviour_endpoints,
    electronic_vonfrey,
    formalin,
    hot_plate,
    randall_selitto,
    weight_bearing,
)
from nplab.errors import InputError, ProtocolError


def _trials(col, values, paw="ipsi", animal="R1", tp="baseline"):
    return pd.DataFrame(
        {
            "animal": animal,
            "paw": paw,
            "timepoint": tp,
            "trial": np.arange(1, len(values) + 1),
            col: values,
        }
    )


def test_acetone_sum_mean_frequency_by_hand():
    df = pd.concat([_trials("score", [0, 2, 3]), _trials("score", [0, 0, 1], paw="contra")])
    out = acetone(df).set_index("paw")
    # Flatters & Bennett 2004 scale, 3 applications: sum 0-9
    assert out.loc["ipsi", "score_sum"] == 5
    assert out.loc["ipsi", "score_mean"] == pytest.approx(5 / 3)
    assert out.loc["ipsi", "n_responses"] == 2
    assert out.loc["ipsi", "response_pct"] == pytest.approx(200 / 3)
    assert out.loc["ipsi", "acetone_value"] == 5
    assert out.loc["contra", "response_pct"] == pytest.approx(100 / 3)
    freq = acetone(df, aggregate="frequency").set_index("paw")
    assert freq.loc["ipsi", "acetone_value"] == pytest.approx(200 / 3)


@pytest.mark.parametrize("bad", [4, 1.5, -1])
def test_acetone_score_outside_scale_names_row(bad):
    df = _trials("score", [0, bad, 3])
    with pytest.raises(InputError, match=r"row 3.*column 'score'"):
        acetone(df)


def test_acetone_missing_application_blanks_value_and_flags():
    df = _trials("score", [1, 2])
    out = acetone(df)
    assert np.isnan(out["acetone_value"].iloc[0])
    assert out["status"].iloc[0] == "too_few_valid;trial_count"


def test_electronic_vonfrey_median_deviation_outlier_rule():
    out = electronic_vonfrey(_trials("force_g", [10.0, 12.0, 20.0]))
    # median 12; |20-12|/12 = 0.67 > 0.2 dropped; |10-12|/12 = 0.17 kept
    assert out["force_g"].iloc[0] == pytest.approx(11.0)
    assert out["n_outliers"].iloc[0] == 1
    assert "outliers_removed" in out["status"].iloc[0]
    extremes = electronic_vonfrey(
        _trials("force_g", [5.0, 9.0, 10.0, 30.0]), outlier_rule="drop_extremes", trials_per_paw=4
    )
    assert extremes["force_g"].iloc[0] == pytest.approx(9.5)


def test_randall_selitto_cutoff_censoring_and_errors():
    out = randall_selitto(_trials("force_g", [180.0, 250.0, 220.0]))
    assert out["force_g"].iloc[0] == pytest.approx(650 / 3)
    assert out["n_at_cutoff"].iloc[0] == 1 and out["status"].iloc[0] == "at_cutoff"
    with pytest.raises(InputError, match="above the cut-off of 250 g"):
        randall_selitto(_trials("force_g", [180.0, 260.0, 220.0]))
    with pytest.raises(InputError, match="column 'force_g'"):
        randall_selitto(_trials("force_g", [180.0, "abc", 220.0]))


def test_weight_bearing_percent_ipsi_by_hand_and_left_right():
    df = pd.DataFrame(
        {
            "animal": "R1",
            "timepoint": "d14",
            "trial": [1, 2],
            "ipsi_g": [80.0, 90.0],
            "contra_g": [120.0, 110.0],
        }
    )
    out = weight_bearing(df, trials_per_paw=2)
    assert out["ipsi_pct"].iloc[0] == pytest.approx((40 + 45) / 2)
    assert out["ipsi_minus_contra_g"].iloc[0] == pytest.approx(-30.0)
    lr = df.rename(columns={"ipsi_g": "left_g", "contra_g": "right_g"})
    animals = pd.DataFrame({"animal": ["R1"], "group": ["veh"], "injured_side": ["left"]})
    out2 = weight_bearing(lr, animals=animals, trials_per_paw=2)
    assert out2["ipsi_pct"].iloc[0] == pytest.approx(42.5)
    with pytest.raises(InputError, match="animals table"):
        weight_bearing(lr)


def _formalin(values, starts=None):
    starts = list(range(0, 60, 5)) if starts is None else starts
    return pd.DataFrame({"animal": "M1", "bin_start_min": starts, "licking_s": values})


def test_formalin_phase_totals_by_hand():
    v = [60.0, 30.0, 5.0, 10, 20, 30, 40, 50, 40, 30, 20, 10]
    out = formalin(_formalin(v))
    assert out["phase1_licking_s"].iloc[0] == 90
    assert out["interphase_licking_s"].iloc[0] == 5
    assert out["phase2_licking_s"].iloc[0] == 250
    assert out["total_licking_s"].iloc[0] == 345
    assert out["status"].iloc[0] == "ok"
    # Hunskaar & Hole 1987 mouse boundaries 0-5 / 20-30 min
    alt = formalin(_formalin(v), phase1_min=[0.0, 5.0], phase2_min=[20.0, 30.0])
    assert alt["phase1_licking_s"].iloc[0] == 60 and alt["phase2_licking_s"].iloc[0] == 50


def test_formalin_bad_bins():
    v = [60.0] * 12
    with pytest.raises(InputError, match="straddles a phase boundary"):
        formalin(_formalin(v), phase1_min=[0.0, 7.0])
    with pytest.raises(InputError, match=r"above|not a valid"):
        formalin(_formalin([301.0, *v[1:]]))
    with pytest.raises(InputError, match="grid"):
        formalin(_formalin(v, starts=[0, 5, 11, *range(15, 60, 5)]))
    with pytest.raises(ProtocolError, match="phase"):
        formalin(_formalin(v), phase1_min=[0.0, 20.0])
    out = formalin(_formalin(v[:-1], starts=list(range(0, 55, 5))))
    assert out["status"].iloc[0] == "incomplete_phase2"
    assert np.isnan(out["phase2_licking_s"].iloc[0])


def test_endpoints_use_protocol_cutoff_for_mpe():
    rows = []
    for tp, lat in (("baseline", 14.0), ("pre", 10.0), (1, 20.0), (2, 15.0)):
        rows.append({"animal": "M1", "group": "ami", "timepoint": tp, "trial": 1, "latency_s": lat})
    summ = hot_plate(pd.DataFrame(rows))
    ep = behaviour_endpoints(summ, "hot-plate", baseline="baseline", predose="pre")
    mpe = ep[(ep["endpoint"] == "mpe")].set_index("time")["value"]
    assert mpe["1"] == pytest.approx((20 - 10) / (30 - 10) * 100)
    rev = ep[(ep["endpoint"] == "reversal")].set_index("time")["value"]
    assert rev["2"] == pytest.approx((15 - 10) / (14 - 10) * 100)


def test_formalin_bins_phases_and_invalid_bin_by_hand():
    from nplab.behaviour.formalin import formalin_bins

    v = [60.0, 30.0, 5.0, 10, 20, 30, 40, 50, 40, 30, 20, 10, 4.0]
    df = _formalin(v, starts=list(range(0, 65, 5)))
    df["valid"] = [True] * 6 + [False] + [True] * 6
    out = formalin_bins(df)
    assert list(out["bin_mid_min"][:3]) == [2.5, 7.5, 12.5]
    # 0-10 phase I, 10-15 interphase, 15-60 phase II, 60-65 after (default protocol)
    assert list(out["phase"]) == ["phase1"] * 2 + ["interphase"] + ["phase2"] * 9 + ["after"]
    assert np.isnan(out["licking_s"].iloc[6]) and not out["used"].iloc[6]
    assert out["licking_s"].sum() == pytest.approx(sum(v) - v[6])
    # the totals skip the invalid bin: phase II incomplete
    assert formalin(df)["status"].iloc[0] == "incomplete_phase2"


def test_open_field_distance_and_speed_by_hand():
    from nplab.behaviour import open_field

    cm = pd.DataFrame(
        {"animal": ["A", "A", "B"], "timepoint": ["bl", "1h", "bl"],
         "distance_cm": [2450.0, 1200.0, 3000.0]}
    )
    out = open_field(cm).set_index(["animal", "timepoint"])
    assert out.loc[("A", "bl"), "distance_m"] == pytest.approx(24.5)
    # 600-s session: 24.5 m -> 2450 cm / 600 s
    assert out.loc[("A", "bl"), "speed_cm_s"] == pytest.approx(2450.0 / 600.0)
    assert (out["paw"] == "whole").all() and (out["status"] == "ok").all()
    two = pd.DataFrame(
        {"animal": "A", "timepoint": "bl", "trial": [1, 2], "distance_m": [20.0, 30.0]}
    )
    res = open_field(two, trials_per_paw=2, session_s=300.0)
    assert res["distance_m"].iloc[0] == 25.0
    assert res["speed_cm_s"].iloc[0] == pytest.approx(2500.0 / 300.0)
    with pytest.raises(InputError, match="both distance_m and distance_cm"):
        open_field(cm.assign(distance_m=1.0))
    with pytest.raises(InputError, match="distance_cm"):
        open_field(cm.assign(distance_cm=["12", "x", "3"]))
    with pytest.raises(InputError, match="distance_m"):
        open_field(two.assign(distance_m=[-1.0, 2.0]))
