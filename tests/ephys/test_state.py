"""State-dependent block (Bean et al. 1983; Kuo & Bean 1994).

References: the anchor numbers of shared/notes/patchclamp.md §3 (rounded, checked to their
printed precision) and R computations in tests/ephys/reference/state_dependent.R (output
recorded in state_dependent.out; checked to 1e-9 relative unless stated).
"""

import math

import numpy as np
import pandas as pd
import pytest

from nplab.ephys.state import (
    availability,
    delta_v_half,
    k_app,
    k_inactivated,
    k_inactivated_from_shift,
    state_dependent,
    state_table,
)
from nplab.errors import InputError

REL = 1e-9


def test_notes_anchor_numbers():
    # notes §3: K_R 20 µM, K_I 0.24 µM -> K_app 20, 2.17, 0.474, 0.266 at h = 1, .9, .5, .1
    got = k_app(np.array([1.0, 0.9, 0.5, 0.1]), 20.0, 0.24)
    assert [round(float(g), d) for g, d in zip(got, [0, 2, 3, 3], strict=True)] == [
        20.0, 2.17, 0.474, 0.266,
    ]
    assert round(k_inactivated(0.474, 0.5, 20.0), 3) == 0.240
    dv = delta_v_half(np.array([0.1, 0.24, 1.0, 3.0]), 20.0, 0.24, 6.0)
    assert np.round(dv, 1).tolist() == [-2.1, -4.1, -9.6, -14.8]


def test_k_app_matches_r():
    r = [20.0, 2.166064981949, 0.474308300395, 0.266311584554]
    got = k_app(np.array([1.0, 0.9, 0.5, 0.1]), 20.0, 0.24)
    np.testing.assert_allclose(got, r, rtol=1e-11)
    assert k_app(0.5, 20.0, 0.24) == pytest.approx(0.474308300395, rel=1e-11)


def test_state_dependent_pairs_match_r():
    res = state_dependent(20.0, 1.0, 0.474308300395, 0.5)
    assert res["k_r"] == pytest.approx(20.0, rel=1e-10)
    assert res["k_i"] == pytest.approx(0.24, rel=1e-10)
    res = state_dependent(4.0, 0.95, 0.5, 0.3, se_1=0.4, se_2=0.05)
    assert res["k_r"] == pytest.approx(8.666666666667, rel=REL)
    assert res["k_i"] == pytest.approx(0.356164383562, rel=REL)
    # R: numerical Jacobian (central differences, step 1e-6 relative) -> 1e-6 tolerance
    assert res["k_r_se"] == pytest.approx(2.3290966827, rel=1e-6)
    assert res["k_i_se"] == pytest.approx(0.0371090050, rel=1e-6)
    assert res["selectivity"] == pytest.approx(8.666666666667 / 0.356164383562, rel=REL)
    # order of the two conditions does not matter
    swapped = state_dependent(0.5, 0.3, 4.0, 0.95)
    assert swapped["k_r"] == pytest.approx(res["k_r"], rel=1e-12)


def test_delta_v_half_and_availability_match_r():
    r = [-2.059914916543, -4.087311658168, -9.560625426526, -14.777566458415]
    got = delta_v_half(np.array([0.1, 0.24, 1.0, 3.0]), 20.0, 0.24, 6.0)
    np.testing.assert_allclose(got, r, rtol=1e-11)
    assert availability(-80.0, -75.0, 6.0) == pytest.approx(0.697059283965, rel=1e-11)
    assert availability(-75.0, -75.0, 6.0) == 0.5


def test_k_inactivated_from_shift():
    d = np.array([0.1, 0.24, 1.0, 3.0])
    exact = delta_v_half(d, 20.0, 0.24, 6.0)
    # single point: exact inversion
    assert k_inactivated_from_shift(d[2:3], exact[2:3], 20.0, 6.0) == pytest.approx(0.24, rel=1e-12)
    noisy = exact + np.array([0.3, -0.2, 0.25, -0.1])
    # R optimize(tol = 1e-14) on log K_I
    assert k_inactivated_from_shift(d, noisy, 20.0, 6.0) == pytest.approx(0.2421158925, rel=1e-7)


def test_bad_inputs():
    with pytest.raises(InputError, match="same h"):
        state_dependent(1.0, 0.5, 2.0, 0.5)
    with pytest.raises(InputError, match="fraction"):
        state_dependent(1.0, 1.5, 2.0, 0.5)
    with pytest.raises(InputError, match="positive"):
        k_app(0.5, -1.0, 0.2)
    with pytest.raises(InputError, match="h < 1"):
        k_inactivated(1.0, 1.0, 20.0)
    # no inactivated-state preference: K_app at h = 0.5 larger than 2·K_R -> infinite K_I
    assert math.isinf(k_inactivated(50.0, 0.5, 20.0))
    with pytest.raises(InputError, match="slope"):
        delta_v_half(1.0, 20.0, 0.24, 0.0)


def test_state_table_from_fits():
    ln10 = math.log(10)
    fits = pd.DataFrame(
        {
            "drug": ["ami"] * 4,
            "condition": ["rest", "rest", "vhalf", "vhalf"],
            "level": ["pooled_mean_log", "pooled_global"] * 2,
            "ic50_um": [20.0, 20.0, 0.474308300395, 0.474308300395],
            "log10_ic50_se": [0.05, 0.05, 0.04, 0.04],
            "success": [True, True, True, False],
        }
    )
    tab = state_table(fits, {"rest": 1.0, "vhalf": 0.5})
    assert list(tab["status"]) == ["ok", "not_computed"]
    row = tab.iloc[0]
    assert row["condition_1"] == "rest" and row["h_2"] == 0.5
    assert row["k_r_um"] == pytest.approx(20.0, rel=1e-10)
    assert row["k_i_um"] == pytest.approx(0.24, rel=1e-10)
    # with h1 = 1 the K_R SE is the SE of K_app,1 (delta method: 0.05·ln10·20)
    assert row["k_r_se_um"] == pytest.approx(0.05 * ln10 * 20.0, rel=1e-10)
