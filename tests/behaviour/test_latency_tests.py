"""Latency tests (hot plate, tail flick, cold plate, rotarod) on the Hargreaves engine.

References: hand-computed means and rod speeds; R survival 3.5-3 ``survreg`` (per-animal
Tobit on log latency) and ``survfit(..., cluster = animal)`` Kaplan-Meier medians recorded
in ``reference/`` by ``reference/survival_reference.R`` (rotarod) and
``reference/latency_tests_reference.R`` (hot plate, tail flick, cold plate with their
protocols' cut-offs).  Tolerances: Tobit 1e-4 relative (optimiser), KM 1e-9 relative.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.behaviour import cold_plate, hot_plate, rotarod, tail_flick
from nplab.behaviour.engine import km_latency
from nplab.behaviour.latency import hot_plate_km, tail_flick_km
from nplab.behaviour.rotarod import rotarod_km
from nplab.errors import InputError, ProtocolError

REF = Path(__file__).parent / "reference"


def test_rotarod_means_and_speed_at_fall_by_hand():
    out = rotarod(REF / "rotarod_trials.csv").set_index("animal")
    assert (out["paw"] == "whole").all()
    assert out.loc["M1", "mean_latency_s"] == pytest.approx((300 + 245.5 + 300) / 3)
    assert out.loc["M1", "n_at_cutoff"] == 2 and bool(out.loc["M1", "censored"])
    # accelerating 4 -> 40 rpm over 300 s
    assert out.loc["M4", "speed_at_fall_rpm"] == pytest.approx(
        4 + 36 * ((95.3 + 120.8 + 88.1) / 3) / 300
    )
    fixed = rotarod(REF / "rotarod_trials.csv", mode="fixed", fixed_rpm=16.0)
    assert (fixed["speed_at_fall_rpm"] == 16.0).all()
    with pytest.raises(ProtocolError, match="fixed_rpm"):
        rotarod(REF / "rotarod_trials.csv", mode="fixed")


def test_rotarod_tobit_matches_r_survreg():
    out = rotarod(REF / "rotarod_trials.csv").set_index("animal")
    ref = pd.read_csv(REF / "rotarod_tobit.csv").set_index("animal")
    for col in (
        "tobit_latency_s",
        "tobit_se_log",
        "tobit_ci_low_s",
        "tobit_ci_high_s",
        "tobit_sigma_log",
    ):
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col], rtol=1e-4)


def test_rotarod_km_matches_r_survfit():
    km = rotarod_km(REF / "rotarod_trials.csv").set_index("group")
    ref = pd.read_csv(REF / "rotarod_km.csv").set_index("group")
    for g in ("veh", "high"):
        assert km.loc[g, "km_median_s"] == pytest.approx(ref.loc[g, "km_median_s"], rel=1e-9)
        assert km.loc[g, "km_ci_low_s"] == pytest.approx(ref.loc[g, "km_ci_low_s"], rel=1e-9)
        assert np.isnan(km.loc[g, "km_ci_high_s"])  # R: NA, upper limit not reached
        assert km.loc[g, "status"] == "ci_high_not_reached"


def _single(latencies, cut=None):
    rows = [
        {"animal": f"A{i}", "timepoint": "baseline", "trial": 1, "latency_s": v}
        for i, v in enumerate(latencies)
    ]
    df = pd.DataFrame(rows)
    if cut is not None:
        df["cutoff_reached"] = cut
    return df


def test_hot_plate_single_trial_censoring_flags():
    out = hot_plate(_single([12.5, 30.0, 8.0], [False, True, False]))
    assert list(out["latency_s"]) == [12.5, 30.0, 8.0]
    assert list(out["status"]) == ["ok", "all_at_cutoff", "ok"]
    assert list(out["censored"]) == [False, True, False]
    assert out["protocol"].iloc[0] == "hot-plate@1.0.0"


def test_tail_flick_latency_above_cutoff_is_an_error():
    df = pd.DataFrame(
        {"animal": "R1", "timepoint": "bl", "trial": [1, 2, 3], "latency_s": [3.2, 10.5, 4.0]}
    )
    with pytest.raises(InputError, match=r"row 3.*above the cut-off of 10 s"):
        tail_flick(df)
    df["latency_s"] = [3.2, 3.6, 4.0]
    out = tail_flick(df)
    assert out["latency_s"].iloc[0] == pytest.approx(3.6)


def test_whole_animal_test_rejects_paw_sides_and_hargreaves_protocol():
    df = _single([5.0])
    with pytest.raises(ProtocolError, match="kind 'hargreaves'"):
        hot_plate(df, protocol="hargreaves-rat")


def test_cold_plate_latency_and_lifts():
    lat = cold_plate(_single([20.0, 60.0], [False, True]))
    assert list(lat["n_at_cutoff"]) == [0, 1]
    lifts = pd.DataFrame(
        {"animal": ["A", "A", "B"], "timepoint": "d7", "trial": [1, 2, 1], "lifts": [4, 7, 2]}
    )
    out = cold_plate(lifts, measure="lifts", trials_per_paw=2).set_index("animal")
    assert out.loc["A", "lifts"] == pytest.approx(5.5)
    assert out.loc["B", "status"] == "trial_count"
    lifts["lifts"] = [4.0, 7.0, 2.5]
    with pytest.raises(InputError, match="lifts"):
        cold_plate(lifts, measure="lifts")


# Hot plate, tail flick and cold plate against R survival with each shipped protocol's
# cut-off (reference/latency_tests_reference.R).  The trial tables have no cutoff_reached
# column: the trials at 30 s / 10 s / 60 s are censored only through the protocol's
# cutoff_s, so these cases show that the parameter reaches the censoring.
LATENCY_KM = [
    ("hotplate", hot_plate_km, 30.0),
    ("coldplate", lambda t: km_latency(t, "cold-plate", kind="cold-plate", paws=False), 60.0),
    ("tailflick", tail_flick_km, 10.0),
]


@pytest.mark.parametrize(("stem", "km", "cutoff"), LATENCY_KM, ids=[c[0] for c in LATENCY_KM])
def test_latency_km_matches_r_survfit_with_the_protocol_cutoff(stem, km, cutoff):
    trials = pd.read_csv(REF / f"{stem}_trials.csv")
    got = km(REF / f"{stem}_trials.csv").set_index("group")
    ref = pd.read_csv(REF / f"{stem}_km.csv").set_index("group")
    for g in ref.index:
        n_cut = int(((trials["group"] == g) & (trials["latency_s"] >= cutoff)).sum())
        assert got.loc[g, "n_at_cutoff"] == n_cut
        for col in ("km_median_s", "km_ci_low_s", "km_ci_high_s"):
            if np.isnan(ref.loc[g, col]):
                assert np.isnan(got.loc[g, col]), (g, col)  # R: NA, limit not reached
            else:
                assert got.loc[g, col] == pytest.approx(ref.loc[g, col], rel=1e-9), (g, col)


def test_tail_flick_tobit_matches_r_survreg():
    out = tail_flick(REF / "tailflick_trials.csv").set_index("animal")
    ref = pd.read_csv(REF / "tailflick_tobit.csv").set_index("animal")
    assert list(out.loc[["T5", "T6", "T8"], "n_at_cutoff"]) == [1, 2, 1]
    for col in ref.columns:
        np.testing.assert_allclose(out.loc[ref.index, col], ref[col], rtol=1e-4)
