"""Current-clamp excitability: spikes vs eFEL (real and synthetic recordings), hand
checks of passive properties on an RC cell, rheobase vs the simulated truth, failed
rows for bad input."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.ephys import read_abf
from nplab.ephys.ccsynth import peak_times
from nplab.ephys.excitability import (
    CELL_COLUMNS,
    SWEEP_COLUMNS,
    adaptation_index,
    bursts,
    excitability,
)
from nplab.ephys.spikes import SPIKE_COLUMNS, detect_spikes, spikes

efel = pytest.importorskip("efel")

#: (file, voltage channel) of every current-clamp recording in shared/data/abf
CC_FILES = [
    ("171116sh_0018.abf", 0),
    ("17o05027_ic_ramp.abf", 0),
    ("17o05028_ic_steps.abf", 0),
    ("18425108.abf", 1),
    ("18425108_abf1.abf", 1),
    ("2020_03_02_0000.abf", 0),
    ("2020_07_29_0062.abf", 0),
    ("File_axon_2.abf", 0),
    ("File_axon_5.abf", 0),
    ("opto_aps_good_units.abf", 0),
]


def _efel(v: np.ndarray, sample_rate: float) -> dict:
    dt = 1000.0 / sample_rate
    efel.reset()
    efel.set_setting("Threshold", -20.0)
    efel.set_setting("DerivativeThreshold", 10.0)
    efel.set_setting("interp_step", dt)  # no resampling: same samples as nplab
    t = np.arange(v.size) * dt
    trace = {"T": t, "V": v, "stim_start": [0.0], "stim_end": [t[-1]]}
    return efel.get_feature_values(
        [trace], ["peak_indices", "AP_begin_indices"], raise_warnings=False
    )[0]


def _compare(v: np.ndarray, fs: float) -> tuple[int, int, int]:
    """Assert the eFEL agreement documented in protocols/currentclamp-steps.md;
    returns (spikes, thresholds compared, thresholds on the same sample)."""
    ref = _efel(v, fs)
    ours = detect_spikes(v, fs)
    pe = np.asarray(ref["peak_indices"] if ref["peak_indices"] is not None else [], dtype=int)
    assert len(ours) == pe.size  # identical spike counts
    if pe.size:
        assert np.max(np.abs(ours.peak_index - pe)) <= 1  # peak within one sample
        # eFEL drops onsets it cannot place (its list then shrinks): align each of its
        # onsets with the first peak after it and compare those spikes
        ab = ref["AP_begin_indices"]
        ab = np.asarray(ab if ab is not None else [], dtype=int)
        k = np.searchsorted(ours.peak_index, ab, side="left")
        ok = k < len(ours)
        k, ab = k[ok], ab[ok]
        mine = ours.threshold_index[k]
        # same sample, except where dV/dt equals the criterion to rounding on quantised
        # data (then within the 3-sample derivative window)
        assert np.all(np.abs(mine - ab) <= 3), (mine[mine != ab], ab[mine != ab])
        return pe.size, int(ab.size), int(np.sum(mine == ab))
    return 0, 0, 0


@pytest.mark.parametrize("name,channel", CC_FILES)
def test_spikes_match_efel_on_real_recordings(abf_path, name, channel):
    rec = read_abf(abf_path(name))
    total, compared, same = 0, 0, 0
    for s in range(rec.sweep_count):
        v = rec.sweep_view(s, channel).astype(float)
        n, c, e = _compare(v, rec.sample_rate)
        total, compared, same = total + n, compared + c, same + e
    assert same >= 0.9 * compared
    if name in {"17o05028_ic_steps.abf", "171116sh_0018.abf", "opto_aps_good_units.abf"}:
        assert total > 50  # the comparison is not vacuous


def test_synthetic_known_spike_times_and_efel(cc_synth):
    rec = read_abf(cc_synth.paths[0])
    fs = cc_synth.family.sample_rate
    n_total, compared, same = 0, 0, 0
    for s in range(rec.sweep_count):
        truth = peak_times(cc_synth.traces[0][s], fs)
        got = spikes(rec, s)
        assert list(got.columns) == SPIKE_COLUMNS
        assert len(got) == truth.size
        if truth.size:
            assert np.max(np.abs(got["peak_time_s"].to_numpy() - truth)) <= 1.0 / fs + 1e-9
        n_total += truth.size
        _n, c, e = _compare(rec.sweep_view(s, 0).astype(float), rec.sample_rate)
        compared, same = compared + c, same + e
    assert n_total > 50 and same >= 0.9 * compared


def test_passive_rc_cell_hand_check(cc_synth):
    """Pure RC cell (no Na/K): ΔV = I·R exactly, τ = C_m/g_L = 10 ms, C = 100 pF."""
    cell = excitability(cc_synth.paths[1]).cells.iloc[0]
    truth = cc_synth.cells[1]
    assert cell["input_resistance_mohm"] == pytest.approx(truth.input_resistance_mohm, rel=0.01)
    assert cell["tau_ms"] == pytest.approx(truth.tau_ms, rel=0.03)
    assert cell["capacitance_pf"] == pytest.approx(truth.capacitance_pf, rel=0.04)
    assert cell["resting_mv"] == pytest.approx(-65.0, abs=0.05)
    assert np.isnan(cell["rheobase_pa"]) and cell["max_firing_hz"] == 0


def test_rheobase_matches_simulated_truth(cc_synth):
    res = excitability(cc_synth.paths[0])
    cell = res.cells.iloc[0]
    true, step = cc_synth.true_rheobase, cc_synth.family.increment_pa
    # the family samples currents every 10 pA: rheobase is the first step at or above truth
    assert true <= cell["rheobase_pa"] < true + step
    assert cell["rheobase_step_pa"] == step
    assert cell["status"] == "ok" and not cell["spontaneous"]
    sw = res.sweeps
    assert list(sw.columns[: len(SWEEP_COLUMNS)]) == SWEEP_COLUMNS
    rate = sw["firing_hz"].to_numpy()
    assert np.all(np.diff(rate[sw["current_pa"] >= cell["rheobase_pa"]]) >= 0)  # f-I rises
    assert cell["fi_slope_hz_per_pa"] > 0
    assert cell["threshold_mv"] < -30 and 50 < cell["amplitude_mv"] < 120


def test_failed_rows_never_crash(abf_path, tmp_path):
    bad = tmp_path / "junk.abf"
    bad.write_bytes(b"not an abf")
    res = excitability([abf_path("171116sh_0011.abf"), bad, abf_path("opto_aps_good_units.abf")])
    cells = res.cells
    assert list(cells.columns) == CELL_COLUMNS
    assert (cells["status"] == "failed").all()
    assert "voltage clamp" in cells.iloc[0]["reason"]
    assert "ABF" in cells.iloc[1]["reason"]
    assert "no current step" in cells.iloc[2]["reason"]
    assert "no current is injected" in cells.iloc[2]["reason"]  # opto: light, not current


@pytest.mark.parametrize("name", ["18425108.abf", "18425108_abf1.abf"])
def test_pulse_train_is_not_a_step_family(abf_path, name):
    """One sweep: a -50 pA step (epoch B) then a train of 15 brief pulses (epoch F,
    "15 pulse AHP" protocol): no rheobase can be read, so failed, not "ok, no spike"."""
    cell = excitability(abf_path(name)).cells.iloc[0]
    assert cell["status"] == "failed"
    assert cell["reason"].startswith("not a step family: 1 sweep with one test-step current (-50 pA")
    assert "pulse-train epoch(s) F" in cell["reason"]


def test_user_list_and_ramp_reasons(abf_path):
    cells = excitability([abf_path("2020_03_02_0000.abf"), abf_path("17o05027_ic_ramp.abf")]).cells
    assert (cells["status"] == "failed").all()
    assert "user list changes the epochs" in cells.iloc[0]["reason"]
    assert "current injected in each sweep is unknown" in cells.iloc[0]["reason"]
    assert cells.iloc[1]["reason"].endswith("epoch A is a ramp, use protocol currentclamp-ramp")


def test_real_step_family_hand_checked(abf_path):
    """File_axon_5 (steps -100..300 pA by 50): no spike up to 150 pA, spikes at 200 pA
    (checked by eye on the traces); input resistance from the -100/-50/0 pA steps."""
    res = excitability(abf_path("File_axon_5.abf"))
    cell = res.cells.iloc[0]
    assert cell["rheobase_pa"] == 200.0 and cell["rheobase_step_pa"] == 50.0
    sw = res.sweeps.set_index("current_pa")
    dv = (sw["steady_state_mv"] - sw["baseline_mv"]).loc[[-100.0, -50.0, 0.0]]
    slope = np.polyfit([-100.0, -50.0, 0.0], dv.to_numpy(), 1)[0] * 1000
    assert cell["input_resistance_mohm"] == pytest.approx(slope, rel=1e-9)
    assert 50 < cell["input_resistance_mohm"] < 500


def test_parallel_identical_to_serial(abf_dir):
    files = [abf_dir / f for f, _ in CC_FILES if (abf_dir / f).is_file()]  # bundled: a subset
    if len(files) < 2:
        pytest.skip("fewer than 2 current-clamp files without the shared corpus")
    a = excitability(files, executor="serial")
    b = excitability(files, executor=2)
    pd.testing.assert_frame_equal(a.cells, b.cells)
    pd.testing.assert_frame_equal(a.sweeps, b.sweeps)


def test_adaptation_index_and_bursts():
    # ISIs 10, 20, 40 ms from the second on: (20-10)/30, (40-20)/60 -> mean 1/3
    t = np.cumsum([0, 5, 10, 20, 40]) / 1000.0
    assert adaptation_index(t) == pytest.approx(1 / 3)
    assert np.isnan(adaptation_index(t[:3]))
    # two bursts of 3 and 4 spikes (ISI 10 ms) separated by 1 s, one lone spike
    t = np.array([0, 0.01, 0.02, 1.0, 1.01, 1.02, 1.03, 3.0])
    assert bursts(t, 100.0, 3) == (2, 7 / 8, 3.5)


@pytest.mark.parametrize("seg", [[-40.0, -20.0, 0.0, -40.0], [-40.0, 0.0, -20.0, -40.0]])
def test_sample_exactly_at_threshold_is_one_spike(seg):
    """Quantised data can put a sample exactly at -20.00 mV on the upstroke or the
    downstroke: still one spike each (eFEL counts the same), never a lost or doubled one."""
    v = np.array([-60.0] * 20 + seg + [-60.0] * 20 + [-60.0, -40.0, 10.0, -40.0] + [-60.0] * 20)
    got = detect_spikes(v, 20000.0)
    assert len(got) == 2 and np.unique(got.peak_index).size == 2
    _compare(v, 20000.0)  # identical count and peaks to eFEL
