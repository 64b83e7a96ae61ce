"""Sedation check: dose vs vehicle on rotarod and on analgesia, with a verdict sentence."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nplab.behaviour import sedation_check
from nplab.errors import InputError


def _table(values: dict, column: str) -> pd.DataFrame:
    rows = []
    for (group, tp), vals in values.items():
        for i, v in enumerate(vals):
            rows.append({"animal": f"{group}{i}", "group": group, "timepoint": tp, column: v})
    return pd.DataFrame(rows)


VEH_RR = [290.0, 300.0, 280.0, 300.0, 295.0, 285.0]
MOTOR = {
    ("vehicle", 1): VEH_RR,
    ("low", 1): [300.0, 288.0, 292.0, 297.0, 281.0, 299.0],
    ("high", 1): [150.0, 120.0, 180.0, 140.0, 160.0, 130.0],
}
PAIN = {
    ("vehicle", 1): [2.0, 2.5, 1.8, 2.2, 2.1, 2.4],
    ("low", 1): [6.0, 7.5, 5.8, 6.6, 7.1, 6.4],
    ("high", 1): [9.0, 8.5, 10.0, 9.6, 8.8, 9.9],
}


def test_high_dose_confounded_low_dose_clean():
    out, text = sedation_check(
        _table(MOTOR, "latency_s"),
        _table(PAIN, "threshold_g"),
        vehicle="vehicle",
        analgesia_value="threshold_g",
    )
    out = out.set_index("group")
    assert out.loc["high", "confounded"] and not out.loc["low", "confounded"]
    assert out.loc["low", "verdict"] == "analgesic effect without a motor deficit"
    hv = np.array(MOTOR[("high", 1)])
    assert out.loc["high", "motor_change_pct"] == pytest.approx(
        100 * (hv.mean() - np.mean(VEH_RR)) / np.mean(VEH_RR)
    )
    assert out.loc["high", "motor_p"] == pytest.approx(
        stats.ttest_ind(hv, VEH_RR, equal_var=False).pvalue
    )
    assert "high at 1" in text and "could explain" in text and "low at 1" not in text


def test_no_deficit_sentence_and_direction_for_scores():
    motor = {k: v for k, v in MOTOR.items() if k[0] != "high"}
    pain = {("vehicle", 1): [6, 7, 6, 8, 7, 7], ("low", 1): [2, 1, 3, 2, 2, 1]}
    out, text = sedation_check(
        _table(motor, "latency_s"),
        _table(pain, "acetone_value"),
        vehicle="vehicle",
        analgesia_value="acetone_value",
        analgesia_higher=False,
    )
    assert bool(out["analgesic_effect"].iloc[0]) and not bool(out["motor_deficit"].iloc[0])
    assert "No motor deficit coincided" in text


def test_unknown_vehicle_is_an_error():
    with pytest.raises(InputError, match="vehicle group 'veh'"):
        sedation_check(_table(MOTOR, "latency_s"), _table(PAIN, "latency_s"), vehicle="veh")


def test_welch_p_is_scipys_welch_test_bit_for_bit():
    """welch_p repeats scipy.stats.ttest_ind(equal_var=False)'s arithmetic (so the run
    need not import scipy.stats): the same bits on 3,000 random samples of 2-30 values
    over 12 orders of magnitude, rounded, constant and heavy-tailed."""
    import warnings

    from nplab.behaviour.sedation import welch_p

    rng = np.random.default_rng(7)
    for i in range(3000):
        n1, n2 = rng.integers(2, 30, 2)
        scale = 10 ** rng.uniform(-6, 6)
        a = rng.normal(rng.uniform(-5, 5), rng.uniform(0.01, 3), n1) * scale
        b = (rng.standard_t(2, n2) if i % 5 == 0 else rng.normal(0, 1, n2)) * scale
        if i % 7 == 0:
            b = np.round(b, 1)
        if i % 11 == 0:
            a = np.full(n1, 3.0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            want = float(stats.ttest_ind(a, b, equal_var=False).pvalue)
        got = welch_p(a, b)
        assert got == want or (np.isnan(got) and np.isnan(want)), (i, got, want)
    assert np.isnan(welch_p(np.array([1.0]), np.array([1.0, 2.0])))
