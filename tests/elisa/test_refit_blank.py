"""ICH M10 exclusion of failing standard levels with one refit; the blank mean's
uncertainty cancels from the back-calculated concentration (quantify docstring)."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.elisa import quantify
from nplab.elisa.synth import simulate_plate


def _plate_with_bad_level(factor: float = 1.6) -> tuple[pd.DataFrame, pd.Series]:
    t = simulate_plate({"A": 80.0, "B": 400.0}, seed=3)
    bad = (t["kind"] == "standard") & (t["nominal"] == 62.5)  # a pipetting error at one level
    t.loc[bad, "signal"] *= factor
    return t, bad


def test_failing_level_excluded_and_refit():
    t, bad = _plate_with_bad_level()
    first = quantify(t)
    st0 = first.standards.set_index("nominal")
    assert not st0.loc[62.5, "pass"]  # the corrupted level fails on the first fit
    res = quantify(t, refit_failing=True)
    st = res.standards.set_index("nominal")
    assert bool(st.loc[62.5, "excluded"]) and not st.loc[62.5, "pass"]
    assert (~st0["pass"].fillna(True)).sum() > st["excluded"].sum() == 1  # neighbours dragged by it recover
    assert st.drop(index=62.5)["pass"].dropna().all()
    # the refitted curve is the curve fitted without that level's wells
    ref = quantify(t[~bad])
    assert res.params["estimate"].to_numpy() == pytest.approx(ref.params["estimate"].to_numpy(), rel=1e-6)
    s, r = res.samples.set_index("sample"), ref.samples.set_index("sample")
    assert s["concentration"].to_numpy() == pytest.approx(r["concentration"].to_numpy(), rel=1e-6)
    # ICH M10 by hand: 8 non-anchor levels, the excluded one counts as failing -> 7/8 = 87.5 %
    pl = res.plates.iloc[0]
    n_fail = int(st["excluded"].sum())
    assert pl["n_levels"] == 8 and pl["n_levels_excluded"] == n_fail
    assert pl["pct_levels_pass"] == pytest.approx(100 * (8 - n_fail) / 8)
    assert bool(pl["accepted"]) == (8 - n_fail >= 6 and (8 - n_fail) / 8 >= 0.75)
    # without refit_failing nothing is excluded
    assert first.plates["n_levels_excluded"].iloc[0] == 0 and not first.standards["excluded"].any()


def test_exclusion_stops_at_the_level_rules():
    # three of 8 levels corrupted: at most 2 can be excluded (6 levels and 75 % must remain)
    t = simulate_plate({"A": 80.0}, seed=5)
    bad = (t["kind"] == "standard") & t["nominal"].isin([31.25, 125.0, 500.0])
    t.loc[bad, "signal"] *= np.where(t.loc[bad, "nominal"] == 125.0, 0.7, 1.4)
    res = quantify(t, refit_failing=True)
    pl = res.plates.iloc[0]
    assert bool(pl["converged"]) and pl["n_levels_excluded"] == 2
    assert res.standards["excluded"].sum() == 2 and not bool(pl["accepted"])
    assert "passing levels" in pl["reason"] or "% of standard levels" in pl["reason"]


@pytest.mark.parametrize("weights", [None, "1/y^2", "pom"])
def test_blank_mean_shift_moves_no_concentration(weights):
    t = simulate_plate({"A": 80.0, "B": 400.0, "C": 30.0}, seed=7)
    shifted = t.copy()
    blank = shifted["kind"] == "blank"
    shifted.loc[blank, "signal"] += 0.02  # a different blank mean, still below the lowest standard
    a, b = quantify(t, weights=weights), quantify(shifted, weights=weights)
    assert b.plates["blank_mean"].iloc[0] == pytest.approx(a.plates["blank_mean"].iloc[0] + 0.02)
    for col in ("concentration", "se", "ci_low", "ci_high"):
        assert b.samples[col].to_numpy() == pytest.approx(a.samples[col].to_numpy(), rel=1e-5), col
