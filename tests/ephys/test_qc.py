"""Membrane test against the RC-circuit solution and pyabf; per-cell QC criteria."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyabf
import pyabf.tools.memtest
import pytest

from nplab.ephys import measure, membrane_test, qc_cells, rundown_rate
from nplab.protocols import load_protocol


def rc_step_response(ra, rm, cm, dv, ih, rate, n_pre, n_step):
    """Textbook response of Ra in series with Rm || Cm to a voltage step (pA, MΩ, pF, mV).

    I(t) = dV/(Ra+Rm) + (dV/Ra - dV/(Ra+Rm)) exp(-t/tau), tau = Ra Rm Cm / (Ra+Rm).
    """
    tau = ra * rm / (ra + rm) * cm * 1e-6  # MΩ·pF = µs
    t = np.arange(n_step) / rate
    step = dv / (ra + rm) * 1e3 + (dv / ra - dv / (ra + rm)) * 1e3 * np.exp(-t / tau)
    return np.concatenate([np.full(n_pre, ih), ih + step])


@pytest.mark.parametrize(
    ("ra", "rm", "cm", "dv"),
    [(10.0, 500.0, 100.0, -10.0), (5.0, 1000.0, 200.0, 10.0), (20.0, 300.0, 50.0, -5.0)],
)
def test_membrane_test_recovers_rc_circuit(ra, rm, cm, dv):
    rate = 100_000
    trace = rc_step_response(ra, rm, cm, dv, -80.0, rate, 500, 5000)
    res = membrane_test(trace, step_index=500, dv_mv=dv, sample_rate=rate)
    # tau/dt >= 10 here: trapezoid charge bias <= (dt/tau)^2/12 < 0.1%
    assert res["holding_pa"] == pytest.approx(-80.0, abs=1e-9)
    assert res["ra_mohm"] == pytest.approx(ra, rel=2e-3)
    assert res["ra_mohm"] + res["rm_mohm"] == pytest.approx(ra + rm, rel=1e-6)
    assert res["cm_pf"] == pytest.approx(cm, rel=3e-3)


def test_membrane_test_degenerate_inputs():
    flat = np.zeros(100)
    assert np.isnan(membrane_test(flat, step_index=50, dv_mv=-10, sample_rate=1e4)["ra_mohm"])
    assert np.isnan(membrane_test(flat, step_index=50, dv_mv=0, sample_rate=1e4)["holding_pa"])


def test_membrane_test_matches_pyabf_on_real_file(abf_path):
    """Ih equals pyabf's Memtest; Ra+Rm equals pyabf's 'Rm' (which is dV/dI_ss)."""
    path = abf_path("2018_11_16_sh_0006.abf")
    proto = load_protocol(
        "patchclamp-nav-resting",
        baseline={"epoch": "pre"},
        window={"epoch": "A"},
        leak_subtraction="none",
        membrane_test="A",
        blanking_ms=0.0,
    )
    t = measure(path, proto)
    mt = pyabf.tools.memtest.Memtest(pyabf.ABF(str(path)))
    np.testing.assert_allclose(t["holding_pa"], mt.Ih.values, rtol=0, atol=1e-4)
    np.testing.assert_allclose(t["ra_mohm"] + t["rm_mohm"], mt.Rm.values, rtol=1e-4)
    # notes/patchclamp.md: pyabf sweep 0 Ih = -119.4 pA, Rm(total) = 505 MΩ
    assert t.loc[0, "holding_pa"] == pytest.approx(-119.4, abs=0.05)
    assert 5 < t.loc[0, "ra_mohm"] < 20 and 10 < t.loc[0, "cm_pf"] < 60


def test_rundown_rate_linear():
    t = np.arange(0, 300, 10.0)
    v = -1000.0 * (1 - 0.02 * t / 60.0)  # 2 %/min of the initial amplitude
    assert rundown_rate(t, v) == pytest.approx(2.0, rel=1e-12)
    assert rundown_rate(t, -v) == pytest.approx(2.0, rel=1e-12)
    assert np.isnan(rundown_rate(t[:2], v[:2]))


def _table(file, values, times, ra, tag_index, status="ok"):
    n = len(values)
    return pd.DataFrame(
        {
            "file": file,
            "sweep": range(n),
            "time_s": times,
            "value": values,
            "units": "pA",
            "tag_index": tag_index,
            "ra_mohm": ra,
            "cm_pf": 20.0,
            "status": status,
            "reason": "",
        }
    )


def test_qc_cells_criteria():
    t = np.arange(10) * 10.0
    good = _table("good.abf", -1000 * (1 - 0.005 * t / 60), t, np.full(10, 10.0), [0] * 5 + [1] * 5)
    ra_bad = _table("ra.abf", np.full(10, -1000.0), t, np.linspace(10, 13, 10), 0)
    small = _table("small.abf", np.full(10, -50.0), t, np.full(10, 10.0), 0)
    fast = _table("fast.abf", -1000 * (1 - 0.05 * t / 60), t, np.full(10, 10.0), 0)
    failed = _table("bad.abf", [np.nan], [np.nan], [np.nan], 0, status="failed")
    failed["reason"] = "bad.abf: not a readable ABF file"
    q = qc_cells(pd.concat([good, ra_bad, small, fast, failed]), "patchclamp-nav-resting")
    q = q.set_index("cell")
    assert q.loc["good.abf", "qc_pass"]
    assert q.loc["good.abf", "n_control_sweeps"] == 5
    assert q.loc["good.abf", "rundown_pct_per_min"] == pytest.approx(0.5, rel=1e-9)
    # Ra: mean of first 3 vs last 3 of linspace(10, 13, 10): 10.333 -> 12.667 = +22.6 %
    assert q.loc["ra.abf", "ra_change_pct"] == pytest.approx(100 * (38 / 3 - 31 / 3) / (31 / 3))
    assert not q.loc["ra.abf", "qc_pass"] and "Ra change" in q.loc["ra.abf", "reason"]
    assert not q.loc["small.abf", "qc_pass"] and "control current" in q.loc["small.abf", "reason"]
    assert not q.loc["fast.abf", "qc_pass"] and "run-down" in q.loc["fast.abf", "reason"]
    assert not q.loc["bad.abf", "qc_pass"] and "not measured" in q.loc["bad.abf", "reason"]
