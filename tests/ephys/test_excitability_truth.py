"""Excitability against constructed truth: the ramp rheobase (current at the first
spike of a simulated Wang–Buzsáki ramp), the liquid-junction-potential correction, the
sag ratio of a trace with an analytic minimum and steady state, and the names
re-exported from ``nplab.ephys``."""

from __future__ import annotations

import math

import numpy as np
import pyabf
import pytest

from nplab.ephys.abfwrite import EpochSpec, write_abf1
from nplab.ephys.ccsynth import StepFamily
from nplab.ephys.excitability import excitability
from nplab.protocols import load_protocol


def test_ramp_rheobase_is_the_current_at_the_first_spike(cc_synth):
    ramp = cc_synth.ramp
    fs = ramp.sample_rate
    res = excitability(cc_synth.ramp_path, "currentclamp-ramp")
    cell = res.cells.iloc[0]
    assert cell["status"] == "ok" and cell["recording"] == "ramp"
    # truth: the injected command at the first sample where the noise-free trace's
    # dV/dt (central differences) reaches 10 mV/ms
    dvdt = np.gradient(cc_synth.ramp_trace) * fs / 1000.0
    onset = int(np.argmax(dvdt >= 10.0))
    per_sample = ramp.stop_pa / (ramp.layout()[3] - 1)  # one sample's current step
    assert cell["rheobase_pa"] == pytest.approx(ramp.command()[0, onset], abs=per_sample + 1e-9)
    # the same sample through an independent reader of the command waveform (pyabf)
    first = res.spikes[res.spikes["in_step"]].iloc[0]
    k = round(first["threshold_time_s"] * fs)
    abf = pyabf.ABF(str(cc_synth.ramp_path))
    abf.setSweep(0)
    assert cell["rheobase_pa"] == pytest.approx(abf.sweepC[k], abs=1e-6)
    assert cell["ramp_pa_per_s"] == pytest.approx(ramp.stop_pa / ((ramp.layout()[3]) / fs), rel=1e-9)
    assert 0 < cell["rheobase_pa"] < ramp.stop_pa


def test_liquid_junction_potential_shifts_every_voltage(cc_synth):
    ljp = 12.5
    proto = load_protocol("currentclamp-steps", kind="currentclamp")
    a = excitability(cc_synth.paths[0], proto)
    b = excitability(cc_synth.paths[0], proto.with_overrides(ljp_mv=ljp))
    ca, cb = a.cells.iloc[0], b.cells.iloc[0]
    assert cb["ljp_mv"] == ljp and ca["ljp_mv"] == 0
    for col in ("resting_mv", "threshold_mv"):  # V_m = V_recorded - LJP
        assert cb[col] == pytest.approx(ca[col] - ljp, abs=1e-9)
    for col in ("baseline_mv", "steady_state_mv"):
        np.testing.assert_allclose(b.sweeps[col], a.sweeps[col] - ljp, atol=1e-9)
    np.testing.assert_allclose(b.spikes["peak_mv"], a.spikes["peak_mv"] - ljp, atol=1e-9)
    # differences are unchanged: same spikes, amplitudes, input resistance, rheobase
    np.testing.assert_array_equal(b.sweeps["n_spikes"], a.sweeps["n_spikes"])
    for col in ("amplitude_mv", "input_resistance_mohm", "rheobase_pa"):
        assert cb[col] == pytest.approx(ca[col], rel=1e-9)
    assert cb["tau_ms"] == pytest.approx(ca["tau_ms"], rel=1e-6)  # iterative fit: its tolerance


def test_sag_ratio_of_a_constructed_response(tmp_path):
    """V(t) = V_base + s·(−a(1 − e^(−t/τ1)) + b(1 − e^(−t/τ2))) during the step: a fast
    hyperpolarisation relaxed by a slow h-like depolarisation.  Minimum at
    t* = ln(a·τ2 / (b·τ1)) / (1/τ1 − 1/τ2); steady state V_base − s(a − b); sag ratio
    (V_min − V_ss)/(V_min − V_base), independent of the scale s."""
    a, b, tau1, tau2, base = 20.0, 6.0, 10.0, 80.0, -65.0
    fam = StepFamily(first_pa=-150.0, increment_pa=50.0, sweeps=3, baseline_ms=100.0,
                     step_ms=1000.0, recovery_ms=100.0, sample_rate=10000)
    points, pre, na, nb, nc = fam.layout()
    t = np.arange(nb) / fam.sample_rate * 1000.0
    shape = -a * (1 - np.exp(-t / tau1)) + b * (1 - np.exp(-t / tau2))
    data = np.full((fam.sweeps, points), base)
    for k, cur in enumerate(fam.currents):
        data[k, pre + na : pre + na + nb] += (-cur / 100.0) * shape  # scale s = |I| / 100 pA
    t_star = math.log(a * tau2 / (b * tau1)) / (1 / tau1 - 1 / tau2)
    u_min = -a * (1 - math.exp(-t_star / tau1)) + b * (1 - math.exp(-t_star / tau2))
    u_ss = -(a - b)
    truth = (u_min - u_ss) / u_min  # (V_min - V_ss)/(V_min - V_base) with V = base + s·u
    path = write_abf1(tmp_path / "sag.abf", data, fam.sample_rate, units="mV", dac_units="pA",
                      epochs=(EpochSpec("Step", 0.0, na),
                              EpochSpec("Step", fam.first_pa, nb, level_inc=fam.increment_pa),
                              EpochSpec("Step", 0.0, nc)), lsb=0.01)
    res = excitability(path)
    sag = res.sweeps.set_index("current_pa")["sag_ratio"]
    # by hand: t* = ln(26.67)/0.0875 = 37.52 ms, u_min = -17.28 mV, u_ss = -14 mV
    assert truth == pytest.approx(0.1900, abs=1e-4)
    for cur in fam.currents:
        assert sag[cur] == pytest.approx(truth, abs=1e-3)


def test_public_names_from_nplab_ephys():
    import importlib

    import nplab.ephys as ephys

    spikes_module = importlib.import_module("nplab.ephys.spikes")
    ex_module = importlib.import_module("nplab.ephys.excitability")
    assert ephys.detect_spikes is spikes_module.detect_spikes
    assert ephys.excitability is ex_module.excitability  # like ephys.measure / ephys.ic50
    assert ephys.ExcitabilityResult is ex_module.ExcitabilityResult
    assert ephys.excitability_figures.__module__ == "nplab.ephys.excitability_plots"
    assert ephys.compare_groups.__module__ == "nplab.ephys.excitability_stats"
    # nplab.ephys.spikes stays the module (its per-sweep table function is spikes.spikes)
    assert ephys.spikes is spikes_module and callable(ephys.spikes.spikes)
    for name in ("detect_spikes", "excitability", "ExcitabilityResult", "excitability_figures",
                 "compare_groups"):
        assert name in ephys.__all__
