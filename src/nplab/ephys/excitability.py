"""Current-clamp excitability of sensory neurons: step families, ramps and gap-free
recordings → a per-sweep table and a per-cell table.

* **Step families** (protocol ``currentclamp-steps``): the test step is an epoch of the
  command waveform (``test_epoch``, or the first Step epoch whose level changes from
  sweep to sweep).  Per sweep: injected current, spikes whose peak falls inside the
  step, mean rate over the step, first-spike latency (step onset → first peak, eFEL
  ``time_to_first_spike``), adaptation index (eFEL ``adaptation_index2``: mean of
  (ISI_{i+1} − ISI_i)/(ISI_{i+1} + ISI_i) from the second ISI on, ≥ 4 spikes), sag
  ratio on hyperpolarising steps ((V_min − V_ss)/(V_min − V_base), ipfx ``sag``).
  Per cell: resting potential (median pre-step baseline of sweeps without holding
  current), input resistance (least-squares slope of the steady-state ΔV–ΔI relation
  over sub-threshold steps from ``rin_min_pa`` to 0), membrane time constant
  (single-exponential fit to the response to the smallest hyperpolarising step),
  capacitance C = τ / R_in, rheobase (smallest step current evoking ≥ 1 spike, with the
  step size as its resolution), threshold/amplitude/half-width of the first spike at
  rheobase, f–I slope (least squares over supra-threshold steps up to the maximum
  rate) and maximum rate.  A cell firing at ≤ 0 pA is ``spontaneous`` and gets no
  rheobase.
* **Ramps** (``currentclamp-ramp``): rheobase = command current at the first spike's
  threshold sample (the ramp epoch of n samples read as pyabf does, ``linspace(level
  before, level, n)``; the ramp speed is recorded beside it).
* **Gap-free** recordings (operation mode 3): spontaneous rate and bursts (runs of
  ≥ ``burst_min_spikes`` spikes with ISIs ≤ ``burst_max_isi_ms``).

A file that is voltage clamp, has no step, is too noisy or cannot be read gives a
``failed`` cell row with its reason; cells that fail a QC limit stay in the table with
status ``qc_fail`` and the reasons.

References: Bean BP (2007) Nat Rev Neurosci 8:451–465; Gouwens NW et al. (2019) Nat
Neurosci 22:1182–1195 (ipfx feature definitions); Van Geit W et al. (2016) Front
Neuroinform 10:17 (eFEL); Study RE, Kral MG (1996) Pain 65:235–242 and Xie W et al.
(2005) Neuroscience 132:1081–1092 (DRG hyperexcitability after nerve injury);
Neher E (1992) Methods Enzymol 207:123–131 (liquid junction potentials).
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab.ephys.abf import CURRENT_UNITS, Epoch, Recording, read_abf, unit_scale
from nplab.ephys.spikes import SPIKE_COLUMNS, SpikeArrays, detect_spikes
from nplab.errors import InputError, NplabError
from nplab.protocols import Param, Protocol, load_protocol

__all__ = [
    "CELL_COLUMNS",
    "PROTOCOL_SCHEMAS",
    "SWEEP_COLUMNS",
    "ExcitabilityResult",
    "adaptation_index",
    "bursts",
    "excitability",
    "excitability_file",
    "fit_tau",
    "input_resistance",
]

#: Columns of the per-sweep table, in order.
SWEEP_COLUMNS = [
    "file",
    "cell",
    "sweep",
    "current_pa",
    "n_spikes",
    "n_flagged",
    "firing_hz",
    "first_latency_ms",
    "adaptation_index",
    "sag_ratio",
    "baseline_mv",
    "steady_state_mv",
    "step_start_s",
    "step_ms",
    "status",
    "reason",
]

#: Columns of the per-cell table, in order.
CELL_COLUMNS = [
    "file",
    "cell",
    "recording",
    "n_sweeps",
    "resting_mv",
    "input_resistance_mohm",
    "tau_ms",
    "capacitance_pf",
    "rheobase_pa",
    "rheobase_step_pa",
    "ramp_pa_per_s",
    "threshold_mv",
    "amplitude_mv",
    "half_width_ms",
    "fi_slope_hz_per_pa",
    "max_firing_hz",
    "spontaneous",
    "spontaneous_hz",
    "n_bursts",
    "burst_fraction",
    "mean_burst_spikes",
    "noise_mv",
    "holding_pa",
    "ljp_mv",
    "protocol",
    "status",
    "reason",
]

_STEP_DOC = {
    "epoch": Param("str", "", doc="Epoch letter.", int_as_text=True),
    "level_pa": Param("float", None, unit="pA", doc="Command level (first sweep)."),
    "increment_pa": Param("float", None, unit="pA", doc="Level change per sweep."),
    "duration_ms": Param("float", None, unit="ms", min=0, doc="Duration."),
    "note": Param("str", "", doc="What the epoch is for."),
}

#: Schema of ``currentclamp`` protocols (protocols/currentclamp-*.md).
PROTOCOL_SCHEMAS: dict[str, dict[str, Param]] = {
    "currentclamp": {
        "analysis": Param("str", "steps", choices=("steps", "ramp"), doc="Step family or ramp."),
        "channel": Param("int", None, min=0, doc="ADC channel of the membrane potential; unset: the first channel in mV."),
        "command_channel": Param("int", None, min=0, doc="DAC channel of the current command; unset: the first DAC in pA/nA."),
        "test_epoch": Param(
            "str", None, int_as_text=True,
            doc="Epoch of the test step or ramp (letter); unset: the first Step epoch whose "
            "level changes across sweeps (steps) or the first Ramp epoch (ramp).",
        ),
        "threshold_mv": Param("float", -20.0, unit="mV", doc="Spike = upward crossing of this level (eFEL Threshold)."),
        "dvdt_threshold": Param("float", 10.0, min=0, unit="mV/ms", doc="AP onset criterion (eFEL DerivativeThreshold)."),
        "dvdt_window": Param("int", 3, min=1, doc="Samples dV/dt must stay above the criterion (eFEL DerivativeWindow)."),
        "overshoot_mv": Param("float", 0.0, unit="mV", doc="Spikes peaking below this are flagged no_overshoot."),
        "ljp_mv": Param("float", 0.0, unit="mV", doc="Liquid junction potential subtracted from every voltage (0 = not corrected)."),
        "baseline_ms": Param("float", 50.0, min=0.1, unit="ms", doc="Pre-step window for the baseline potential."),
        "steady_state_ms": Param("float", 50.0, min=0.1, unit="ms", doc="End-of-step window for the steady-state potential."),
        "rin_min_pa": Param("float", -100.0, max=0, unit="pA", doc="Most negative step (relative to holding) used for input resistance."),
        "tau_fit_ms": Param("float", 100.0, min=1, unit="ms", doc="Longest span after step onset fitted for tau."),
        "burst_max_isi_ms": Param("float", 100.0, min=0, unit="ms", doc="Gap-free bursts: largest ISI inside a burst."),
        "burst_min_spikes": Param("int", 3, min=2, doc="Gap-free bursts: fewest spikes in a burst."),
        "qc_max_resting_mv": Param("float", -40.0, unit="mV", doc="QC: resting potential must be more negative."),
        "qc_max_holding_pa": Param("float", 100.0, min=0, unit="pA", doc="QC: largest |holding current|."),
        "qc_max_baseline_drift_mv": Param("float", 5.0, min=0, unit="mV", doc="QC: largest range of pre-step baselines across sweeps."),
        "qc_min_overshoot_mv": Param("float", 0.0, unit="mV", doc="QC: the first spike at rheobase must peak at or above this."),
        "qc_max_noise_mv": Param("float", 2.0, min=0, unit="mV", doc="Failed when the baseline noise (robust SD of the sample-to-sample differences / sqrt 2) exceeds this."),
        "bridge_balance": Param("str", "", doc="Bridge balance / series resistance compensation used (documentation; recorded)."),
        "step_protocol": Param("list[table]", [], fields=_STEP_DOC, doc="Documented current steps."),
    }
}


@dataclass
class ExcitabilityResult:
    """Result of :func:`excitability`.

    Attributes
    ----------
    sweeps
        Per-sweep table (:data:`SWEEP_COLUMNS`, plus the experiment columns).
    cells
        Per-cell table (:data:`CELL_COLUMNS`, plus the experiment columns).
    spikes
        Every detected spike (:data:`~nplab.ephys.spikes.SPIKE_COLUMNS` + ``cell``,
        ``in_step``).
    protocol
        The protocol used.
    """

    sweeps: pd.DataFrame
    cells: pd.DataFrame
    spikes: pd.DataFrame
    protocol: Protocol
    parameters: dict[str, Any] = field(default_factory=dict)


# ------------------------------------------------------------------ pure helpers
def adaptation_index(peak_times_s: np.ndarray) -> float:
    """eFEL ``adaptation_index2``: mean (ISI_{i+1} − ISI_i)/(ISI_{i+1} + ISI_i) over
    the ISIs from the second on; NaN with fewer than 4 spikes."""
    t = np.asarray(peak_times_s, dtype=float)
    if t.size < 4:
        return float("nan")
    isi = np.diff(t[1:])
    return float(np.mean((isi[1:] - isi[:-1]) / (isi[1:] + isi[:-1])))


def input_resistance(delta_i_pa: np.ndarray, delta_v_mv: np.ndarray) -> float:
    """Least-squares slope of ΔV on ΔI in MΩ (mV/pA × 1000); NaN with < 2 currents."""
    i = np.asarray(delta_i_pa, dtype=float)
    v = np.asarray(delta_v_mv, dtype=float)
    ok = np.isfinite(i) & np.isfinite(v)
    i, v = i[ok], v[ok]
    if np.unique(i).size < 2:
        return float("nan")
    slope = np.polyfit(i, v, 1)[0]
    return float(slope * 1000.0)


def fit_tau(v: np.ndarray, sample_rate: float) -> float:
    """Membrane time constant (ms) from a single exponential V(t) = a + b·exp(−t/τ)
    fitted by least squares (scipy ``curve_fit``) to a step response ``v`` that starts
    at the step onset; NaN when the fit fails."""
    from scipy.optimize import curve_fit

    v = np.asarray(v, dtype=float)
    if v.size < 10:
        return float("nan")
    t = np.arange(v.size) / sample_rate * 1000.0
    v0, v1 = v[: max(1, v.size // 100)].mean(), v[-max(1, v.size // 20) :].mean()
    if v1 == v0:
        return float("nan")
    frac = (v - v0) / (v1 - v0)
    k = int(np.argmax(frac >= 1 - math.exp(-1)))
    tau0 = max(t[k], t[1])

    def model(tt, a, b, tau):
        return a + b * np.exp(-tt / tau)

    try:
        popt, _ = curve_fit(model, t, v, p0=(v1, v0 - v1, tau0), maxfev=2000)
    except (RuntimeError, ValueError):
        return float("nan")
    tau = float(popt[2])
    return tau if 0 < tau < 10 * t[-1] else float("nan")


def bursts(peak_times_s: np.ndarray, max_isi_ms: float, min_spikes: int) -> tuple[int, float, float]:
    """``(n_bursts, fraction of spikes in bursts, mean spikes per burst)``: bursts are
    runs of ≥ ``min_spikes`` spikes whose consecutive ISIs are all ≤ ``max_isi_ms``."""
    t = np.asarray(peak_times_s, dtype=float)
    if t.size < min_spikes:
        return 0, (0.0 if t.size else float("nan")), float("nan")
    close = np.diff(t) * 1000.0 <= max_isi_ms
    edges = np.diff(close.astype(np.int8), prepend=0, append=0)
    starts, stops = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    sizes = (stops - starts) + 1  # spikes in each run
    sizes = sizes[sizes >= min_spikes]
    if sizes.size == 0:
        return 0, 0.0, float("nan")
    return int(sizes.size), float(sizes.sum() / t.size), float(sizes.mean())


def _noise_mv(v: np.ndarray) -> float:
    """Robust white-noise SD: 1.4826 × MAD of first differences / √2."""
    if v.size < 3:
        return float("nan")
    d = np.diff(v)
    return float(1.4826 * np.median(np.abs(d - np.median(d))) / math.sqrt(2.0))


# ------------------------------------------------------------------ recording
def _voltage_channel(rec: Recording, p: dict) -> int:
    if p["channel"] is not None:
        ch = int(p["channel"])
        if ch >= rec.channel_count:
            raise InputError(f"channel {ch} does not exist", file=rec.path, column="channel")
        scale = unit_scale(rec.units[ch])
        if scale is None or scale[0] != "voltage":
            raise InputError(
                f"channel {ch} is in '{rec.units[ch]}': voltage clamp or wrong units, not a "
                "current-clamp membrane potential",
                file=rec.path, column="channel", expected="a channel in mV (or units=mV)",
            )
        return ch
    for ch, u in enumerate(rec.units):
        scale = unit_scale(u)
        if scale is not None and scale[0] == "voltage":
            return ch
    raise InputError(
        f"no channel is in mV (units {', '.join(rec.units)}): voltage clamp, not current clamp "
        "(or wrong units in the header: pass units='mV')",
        file=rec.path, expected="a current-clamp recording with a membrane-potential channel",
    )


def _dac_units(rec: Recording) -> list[str]:
    try:
        return [str(u).replace("\x00", "").strip() for u in rec._abf.dacUnits]
    except (AttributeError, TypeError):
        return []


def _command_channel(rec: Recording, p: dict) -> tuple[int, float]:
    """DAC channel of the current command and its factor to pA."""
    units = _dac_units(rec)
    chans = [int(p["command_channel"])] if p["command_channel"] is not None else range(len(units))
    for d in chans:
        if d < len(units) and units[d] in CURRENT_UNITS:
            return d, CURRENT_UNITS[units[d]]
    raise InputError(
        f"no current command (DAC units {', '.join(units) or 'unknown'}): voltage clamp, "
        "not current clamp",
        file=rec.path, column="command_channel", expected="a DAC channel in pA or nA",
    )


def _test_epoch(rec: Recording, dac: int, p: dict, to_pa: float = 1.0) -> str:
    try:
        table0 = rec.epochs(0, dac)
    except InputError as exc:
        raise InputError(_no_epoch_table(rec, exc.reason), file=rec.path) from None
    inner = [e for e in table0 if e.index >= 0]
    if p["test_epoch"] is not None:
        key = str(p["test_epoch"]).strip()
        if not any(e.letter == key for e in inner):
            raise InputError(
                f"test epoch {key!r} is not in the epoch table",
                file=rec.path, column="test_epoch",
                expected="one of " + ", ".join(e.letter for e in inner),
            )
        return key
    want = "Ramp" if p["analysis"] == "ramp" else "Step"
    cands = [e for e in inner if e.type == want and e.stop > e.start]
    if want == "Step" and rec.sweep_count > 1:
        last = {e.letter: e.level for e in rec.epochs(rec.sweep_count - 1, dac)}
        varying = [e for e in cands if last.get(e.letter) != e.level]
        if varying:
            return varying[0].letter
    hold = rec.holding[dac] if dac < len(rec.holding) and math.isfinite(rec.holding[dac]) else 0.0
    cands = [e for e in cands if want == "Ramp" or e.level != hold]
    if not cands:
        raise InputError(_no_test_epoch(inner, want, hold, to_pa), file=rec.path, column="test_epoch")
    return cands[0].letter


def _no_epoch_table(rec: Recording, why: str) -> str:
    """Reason text when the command waveform has no usable epoch table."""
    from nplab.ephys.abf import _user_list_epoch_params

    codes = _user_list_epoch_params(rec._abf, rec._head) if rec._abf is not None else []
    if codes:
        return (
            "cannot locate the current steps: a Clampex user list changes the epochs from "
            f"sweep to sweep (user-list parameter code(s) {', '.join(map(str, codes))}) and the "
            "file's epoch table does not record the values used, so the current injected in "
            "each sweep is unknown; not analysed (re-record without a user list, or export "
            "the sweeps with their currents)"
        )
    return f"cannot locate the current steps: the command waveform has no usable epoch table ({why})"


#: Clampex epoch types that are trains of brief pulses (pyabf's names)
_TRAINS = ("Pulse", "Tri", "Cos", "BiPhsc")


def _no_test_epoch(inner: list[Epoch], want: str, hold: float, to_pa: float) -> str:
    """Reason text when no epoch qualifies as the test step (or ramp)."""
    if want == "Ramp":
        steps = [e.letter for e in inner if e.type == "Step" and e.level != hold]
        hint = f"; it has current step(s) in epoch(s) {', '.join(steps)}: use protocol currentclamp-steps" if steps else ""
        return "no ramp in the command waveform" + hint
    ramps = [e.letter for e in inner if e.type == "Ramp"]
    trains = [e.letter for e in inner if e.type in _TRAINS]
    if ramps:
        return (f"no current step in the command waveform: epoch {ramps[0]} is a ramp, use "
                "protocol currentclamp-ramp")
    if trains:
        return (f"no current step in the command waveform: epoch(s) {', '.join(trains)} are "
                "pulse trains, not a step family")
    return (f"no current step in the command waveform: every epoch stays at the holding current "
            f"({hold * to_pa:g} pA), so no current is injected (e.g. light-evoked or "
            "spontaneous activity recorded episodically); not a step family")


def _check_family(rec: Recording, dac: int, letter: str, to_pa: float, p: dict) -> None:
    """Refuse a test epoch that is not a step family: a pulse train, or a single current
    (one sweep, or every sweep the same), from which no rheobase can be read."""
    eps = [e for e in rec.epochs(0, dac) if e.index >= 0]
    test = next(e for e in eps if e.letter == letter)
    if p["analysis"] == "ramp":
        if test.type != "Ramp":
            raise InputError(f"test epoch {letter} is a {test.type}, not a ramp", file=rec.path,
                             column="test_epoch")
        return
    if test.type != "Step":
        raise InputError(
            f"not a step family: test epoch {letter} is a {test.type} epoch (a train of brief "
            "pulses), not a current step", file=rec.path, column="test_epoch",
        )
    levels = {round(_epoch(rec, s, dac, letter)[0].level * to_pa, 6) for s in range(rec.sweep_count)}
    if len(levels) < 2:
        trains = [e.letter for e in eps if e.type in _TRAINS]
        extra = (f"; the command has pulse-train epoch(s) {', '.join(trains)} (e.g. trains of brief "
                 "pulses to evoke single spikes), which this analysis does not measure") if trains else ""
        raise InputError(
            f"not a step family: {rec.sweep_count} sweep{'s' if rec.sweep_count != 1 else ''} "
            "with one test-step current "
            f"({levels.pop():g} pA in epoch {letter}), so no rheobase or f–I relation{extra}",
            file=rec.path, column="test_epoch", expected="sweeps stepping through at least two currents",
        )


def _epoch(rec: Recording, sweep: int, dac: int, letter: str) -> tuple[Epoch, float]:
    eps = rec.epochs(sweep, dac)
    for k, e in enumerate(eps):
        if e.letter == letter:
            prev = eps[k - 1].level if k > 0 else e.level
            return e, prev
    raise InputError(f"epoch {letter} missing in sweep {sweep}", file=rec.path, sweep=sweep)


def _cell_name(path: str) -> str:
    return Path(path).stem


def _failed(label: str, reason: str, proto: Protocol) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    cell = {c: np.nan for c in CELL_COLUMNS}
    cell.update(file=label, cell=_cell_name(label), recording="", n_sweeps=0, spontaneous=pd.NA,
                ljp_mv=proto["ljp_mv"], protocol=proto.label, status="failed", reason=reason)
    return (
        pd.DataFrame(columns=SWEEP_COLUMNS),
        pd.DataFrame([cell], columns=CELL_COLUMNS),
        pd.DataFrame(columns=[*SPIKE_COLUMNS, "cell", "in_step"]),
    )


def _spike_frame(label, cell, sweep, res: SpikeArrays, in_step) -> pd.DataFrame:
    df = res.frame()
    df.insert(0, "spike", np.arange(len(res)))
    df.insert(0, "sweep", sweep)
    df.insert(0, "file", label)
    df["cell"] = cell
    df["in_step"] = in_step
    return df


def excitability_file(
    path_or_rec: str | os.PathLike[str] | Recording,
    protocol: str | os.PathLike[str] | Protocol = "currentclamp-steps",
    *,
    units: str | None = None,
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Analyse one recording: ``(sweeps, cells, spikes)`` tables (never raises on bad
    data: the cell row is ``failed`` with the reason)."""
    proto = load_protocol(protocol, kind="currentclamp")
    if isinstance(path_or_rec, Recording):
        rec, label = path_or_rec, path_or_rec.path
    else:
        label = os.fspath(path_or_rec)
        try:
            rec = read_abf(label, units=units)
        except NplabError as exc:
            return _failed(label, getattr(exc, "reason", str(exc)), proto)
    try:
        return _analyse(rec, label, proto)
    except NplabError as exc:
        return _failed(label, getattr(exc, "reason", str(exc)), proto)


def _analyse(rec: Recording, label: str, proto: Protocol):
    p = proto.params
    ch = _voltage_channel(rec, p)
    factor = unit_scale(rec.units[ch])[1]  # type: ignore[index]
    fs = rec.sample_rate
    kw = dict(threshold_mv=p["threshold_mv"], dvdt_threshold=p["dvdt_threshold"],
              dvdt_window=p["dvdt_window"], overshoot_mv=p["overshoot_mv"])
    cell = _cell_name(label)
    if rec.operation_mode == 3:
        return _gapfree(rec, label, cell, ch, factor, proto, kw)
    dac, to_pa = _command_channel(rec, p)
    letter = _test_epoch(rec, dac, p, to_pa)
    _check_family(rec, dac, letter, to_pa, p)
    hold = rec.holding[dac] if dac < len(rec.holding) and math.isfinite(rec.holding[dac]) else 0.0
    hold_pa = hold * to_pa
    nb = max(1, round(p["baseline_ms"] * fs / 1000.0))
    nss = max(1, round(p["steady_state_ms"] * fs / 1000.0))
    rows, spk, traces = [], [], {}
    ramp_info = None
    for s in range(rec.sweep_count):
        ep, prev_level = _epoch(rec, s, dac, letter)
        v = rec.sweep_view(s, ch).astype(np.float64) * factor - p["ljp_mv"]
        a, b = ep.start, ep.stop
        res = detect_spikes(v, fs, start=a, ahp_end=b, **kw)
        in_step = (res.peak_index >= a) & (res.peak_index < b)
        sel = res.select(in_step)
        base = v[max(0, a - nb) : a]
        base_mv = _median_no_spikes(base, p["threshold_mv"])
        ss = v[max(a, b - nss) : b]
        ss_mv = float(np.mean(ss)) if ss.size else float("nan")
        cur = ep.level * to_pa
        dur_ms = (b - a) / fs * 1000.0
        n = len(sel)
        flagged = int(np.count_nonzero(sel.flag != "")) if n else 0
        first_lat = float((sel.peak_index[0] - a) / fs * 1000.0) if n else float("nan")
        sag = float("nan")
        if cur - hold_pa < 0 and n == 0 and b > a:
            vmin = float(np.min(v[a:b]))
            denom = vmin - base_mv
            sag = (vmin - ss_mv) / denom if denom < 0 else float("nan")
        reasons = sorted({f for fl in sel.flag for f in str(fl).split(";") if f})
        rows.append({
            "file": label, "cell": cell, "sweep": s, "current_pa": cur, "n_spikes": n,
            "n_flagged": flagged, "firing_hz": n / (dur_ms / 1000.0) if dur_ms > 0 else float("nan"),
            "first_latency_ms": first_lat, "adaptation_index": adaptation_index(sel.peak_time_s),
            "sag_ratio": sag, "baseline_mv": base_mv, "steady_state_mv": ss_mv,
            "step_start_s": a / fs, "step_ms": dur_ms,
            "status": "flagged" if flagged else "ok",
            "reason": ("spikes flagged: " + ", ".join(reasons)) if flagged else "",
        })
        spk.append(_spike_frame(label, cell, s, res, in_step))
        traces[s] = (v, a, b, sel)
        if p["analysis"] == "ramp" and ramp_info is None and n:
            k = sel.threshold_index[0] if sel.threshold_index[0] >= 0 else sel.peak_index[0]
            # pyabf's reading of a Clampex ramp epoch of n samples: linspace(before, level, n)
            frac = (k - a) / max(1, b - a - 1)
            i_at = (prev_level + (ep.level - prev_level) * frac) * to_pa
            speed = (ep.level - prev_level) * to_pa / ((b - a) / fs)
            ramp_info = (s, i_at, speed)
    sweeps = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    spikes_df = pd.concat(spk, ignore_index=True) if spk else pd.DataFrame()
    cell_row = _cell_summary(rec, label, cell, sweeps, traces, hold_pa, proto, fs, ramp_info)
    return sweeps, pd.DataFrame([cell_row], columns=CELL_COLUMNS), spikes_df


def _median_no_spikes(v: np.ndarray, thr: float) -> float:
    if v.size == 0:
        return float("nan")
    quiet = v[v < thr]
    return float(np.median(quiet if quiet.size else v))


def _cell_summary(rec, label, cell, sweeps, traces, hold_pa, proto, fs, ramp_info) -> dict:
    p = proto.params
    out: dict[str, Any] = {c: np.nan for c in CELL_COLUMNS}
    out.update(file=label, cell=cell, recording=p["analysis"], n_sweeps=len(sweeps),
               holding_pa=hold_pa, ljp_mv=p["ljp_mv"], protocol=proto.label,
               n_bursts=np.nan, spontaneous=False)
    cur = sweeps["current_pa"].to_numpy(float)
    n = sweeps["n_spikes"].to_numpy(int)
    dI = cur - hold_pa
    base = sweeps["baseline_mv"].to_numpy(float)
    out["resting_mv"] = float(np.nanmedian(base)) if base.size else np.nan
    # noise from the quiet pre-step baselines
    noise = []
    for v, a, _b, _sel in traces.values():
        seg = v[max(0, a - int(p["baseline_ms"] * fs / 1000)) : a]
        if seg.size > 10 and not np.any(seg > p["threshold_mv"]):
            noise.append(_noise_mv(seg))
    out["noise_mv"] = float(np.median(noise)) if noise else np.nan
    # spontaneous: spikes before the step or firing at <= 0 pA
    pre_spikes = any(np.any(v[:a] > p["threshold_mv"]) for v, a, _b, _s in traces.values())
    fires_at_rest = bool(np.any((n > 0) & (dI <= 0)))
    out["spontaneous"] = bool(pre_spikes or fires_at_rest)
    reasons: list[str] = []
    failed: list[str] = []
    if np.isfinite(out["noise_mv"]) and out["noise_mv"] > p["qc_max_noise_mv"]:
        failed.append(f"too noisy (baseline noise {out['noise_mv']:.2f} mV > {p['qc_max_noise_mv']:g})")
    if p["analysis"] == "steps":
        # input resistance over sub-threshold steps between rin_min_pa and 0
        sub = (n == 0) & (dI <= 0) & (dI >= p["rin_min_pa"])
        dv = sweeps["steady_state_mv"].to_numpy(float) - base
        if np.unique(dI[sub]).size < 2:
            sub = n == 0
        if np.unique(dI[sub]).size >= 2:
            out["input_resistance_mohm"] = input_resistance(dI[sub], dv[sub])
        elif np.count_nonzero(sub) == 1 and dI[sub][0] != 0:
            out["input_resistance_mohm"] = float(dv[sub][0] / dI[sub][0] * 1000.0)
        # tau on the smallest hyperpolarising sub-threshold step
        hyper = np.flatnonzero((n == 0) & (dI < 0))
        if hyper.size:
            s = int(hyper[np.argmax(dI[hyper])])
            v, a, b, _ = traces[sweeps["sweep"].iloc[s]]
            stop = min(b, a + int(p["tau_fit_ms"] * fs / 1000))
            seg = v[a:stop]
            k = int(np.argmin(seg)) if seg.size else 0
            seg = seg[: max(k + 1, 10)]
            out["tau_ms"] = fit_tau(seg, fs)
        if np.isfinite(out["tau_ms"]) and np.isfinite(out["input_resistance_mohm"]) and out["input_resistance_mohm"] > 0:
            out["capacitance_pf"] = 1000.0 * out["tau_ms"] / out["input_resistance_mohm"]
        order = np.argsort(cur, kind="stable")
        steps = np.unique(np.round(cur, 6))
        out["rheobase_step_pa"] = float(np.median(np.diff(steps))) if steps.size > 1 else np.nan
        firing = order[n[order] > 0]
        if firing.size:
            first = int(firing[0])
            if dI[first] <= 0:
                reasons.append("fires without injected current: spontaneous, no rheobase")
            else:
                out["rheobase_pa"] = float(cur[first])
                _first_spike(out, traces[int(sweeps["sweep"].iloc[first])][3])
            rate = sweeps["firing_hz"].to_numpy(float)
            out["max_firing_hz"] = float(np.nanmax(rate))
            top = order[int(np.argmax(rate[order]))]
            supra = order[(cur[order] >= cur[first]) & (cur[order] <= cur[top])]
            if np.unique(cur[supra]).size >= 2:
                out["fi_slope_hz_per_pa"] = float(np.polyfit(cur[supra], rate[supra], 1)[0])
        else:
            out["max_firing_hz"] = 0.0
            reasons.append("no spike at any step: rheobase above the largest step")
    else:
        if ramp_info is not None:
            s, i_at, speed = ramp_info
            out["ramp_pa_per_s"] = speed
            if i_at - hold_pa <= 0:
                reasons.append("first spike at or below holding current: spontaneous, no rheobase")
                out["spontaneous"] = True
            else:
                out["rheobase_pa"] = float(i_at)
            _first_spike(out, traces[s][3])
            out["max_firing_hz"] = float(np.nanmax(sweeps["firing_hz"]))
        else:
            reasons.append("no spike during the ramp")
            out["max_firing_hz"] = 0.0
    # QC
    qc = []
    if np.isfinite(out["resting_mv"]) and out["resting_mv"] >= p["qc_max_resting_mv"]:
        qc.append(f"resting potential {out['resting_mv']:.1f} mV >= {p['qc_max_resting_mv']:g}")
    if abs(hold_pa) > p["qc_max_holding_pa"]:
        qc.append(f"|holding current| {abs(hold_pa):.0f} pA > {p['qc_max_holding_pa']:g}")
    finite = base[np.isfinite(base)]
    if finite.size > 1 and np.ptp(finite) > p["qc_max_baseline_drift_mv"]:
        qc.append(f"baseline drifts {np.ptp(finite):.1f} mV > {p['qc_max_baseline_drift_mv']:g}")
    pk = out.pop("_first_peak", np.nan)
    if np.isfinite(pk) and pk < p["qc_min_overshoot_mv"]:
        qc.append(f"first spike peaks at {pk:.1f} mV < {p['qc_min_overshoot_mv']:g} (no overshoot)")
    if failed:
        out["status"] = "failed"
        out["reason"] = "; ".join(failed + qc + reasons)
    elif qc:
        out["status"] = "qc_fail"
        out["reason"] = "; ".join(qc + reasons)
    else:
        out["status"] = "ok"
        out["reason"] = "; ".join(reasons)
    return out


def _first_spike(out: dict, sel: SpikeArrays) -> None:
    if len(sel):
        out["threshold_mv"] = float(sel.threshold_mv[0])
        out["amplitude_mv"] = float(sel.amplitude_mv[0])
        out["half_width_ms"] = float(sel.half_width_ms[0])
        out["_first_peak"] = float(sel.peak_mv[0])


def _gapfree(rec, label, cell, ch, factor, proto, kw):
    p = proto.params
    fs = rec.sample_rate
    rows, spk, times = [], [], []
    total_s = 0.0
    quiet = []
    for s in range(rec.sweep_count):
        v = rec.sweep_view(s, ch).astype(np.float64) * factor - p["ljp_mv"]
        res = detect_spikes(v, fs, **kw)
        dur = v.size / fs
        flagged = int(np.count_nonzero(res.flag != "")) if len(res) else 0
        rows.append({
            "file": label, "cell": cell, "sweep": s, "current_pa": np.nan, "n_spikes": len(res),
            "n_flagged": flagged, "firing_hz": len(res) / dur, "first_latency_ms": np.nan,
            "adaptation_index": np.nan, "sag_ratio": np.nan,
            "baseline_mv": _median_no_spikes(v, p["threshold_mv"]), "steady_state_mv": np.nan,
            "step_start_s": 0.0, "step_ms": dur * 1000.0,
            "status": "flagged" if flagged else "ok", "reason": "spikes flagged" if flagged else "",
        })
        spk.append(_spike_frame(label, cell, s, res, np.ones(len(res), dtype=bool)))
        times.append(res.peak_time_s + total_s)
        total_s += dur
        quiet.append(v[: min(v.size, int(fs))])
    t = np.concatenate(times) if times else np.zeros(0)
    sweeps = pd.DataFrame(rows, columns=SWEEP_COLUMNS)
    out: dict[str, Any] = {c: np.nan for c in CELL_COLUMNS}
    nb, frac, mean_b = bursts(t, p["burst_max_isi_ms"], p["burst_min_spikes"])
    base = sweeps["baseline_mv"].to_numpy(float)
    out.update(file=label, cell=cell, recording="gap-free", n_sweeps=len(sweeps),
               resting_mv=float(np.nanmedian(base)), spontaneous=bool(t.size > 0),
               spontaneous_hz=t.size / total_s if total_s else np.nan, n_bursts=nb,
               burst_fraction=frac, mean_burst_spikes=mean_b,
               max_firing_hz=float(sweeps["firing_hz"].max()),
               noise_mv=float(np.median([_noise_mv(q[q < p["threshold_mv"]]) for q in quiet])),
               holding_pa=np.nan, ljp_mv=p["ljp_mv"], protocol=proto.label)
    if np.isfinite(out["noise_mv"]) and out["noise_mv"] > p["qc_max_noise_mv"]:
        out["status"], out["reason"] = "failed", f"too noisy (baseline noise {out['noise_mv']:.2f} mV)"
    elif out["resting_mv"] >= p["qc_max_resting_mv"] and not t.size:
        out["status"], out["reason"] = "qc_fail", f"resting potential {out['resting_mv']:.1f} mV"
    else:
        out["status"], out["reason"] = "ok", "gap-free recording: spontaneous activity only"
    spikes_df = pd.concat(spk, ignore_index=True)
    return sweeps, pd.DataFrame([out], columns=CELL_COLUMNS), spikes_df


# ------------------------------------------------------------------ batch
def _chunk(args) -> list[tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]]:
    files, proto, units = args
    return [excitability_file(f, proto, units=units) for f in files]


def excitability(
    path_or_rec: Any,
    protocol: str | os.PathLike[str] | Protocol = "currentclamp-steps",
    *,
    experiment: pd.DataFrame | str | os.PathLike[str] | None = None,
    executor: Any = None,
    progress: bool | None = None,
    units: str | None = None,
) -> ExcitabilityResult:
    """Current-clamp excitability of one or many recordings.

    Parameters
    ----------
    path_or_rec
        A :class:`~nplab.ephys.abf.Recording`, an ABF file, a folder (its ``*.abf``
        files, sorted) or a list of those.
    protocol
        ``currentclamp`` protocol name or path (``currentclamp-steps``,
        ``currentclamp-ramp``).
    experiment
        Optional table ``file, cell, animal, group[, condition]`` (file names matched
        on their base name) whose columns are added to both tables; its ``cell``
        replaces the default cell name (the file's stem).
    executor, progress
        Parallel map over files (:func:`nplab.batch.map_chunks`); results identical to
        serial.
    units
        Override of the recorded units (e.g. ``"mV"`` when the header says pA).

    Returns
    -------
    ExcitabilityResult
        ``.sweeps`` (:data:`SWEEP_COLUMNS`), ``.cells`` (:data:`CELL_COLUMNS`),
        ``.spikes``.  Cell ``status`` is ``ok``, ``qc_fail`` (kept, with the reason) or
        ``failed`` (no analysis possible, with the reason).
    """
    from nplab.batch import map_chunks
    from nplab.ephys.measure import expand_paths

    proto = load_protocol(protocol, kind="currentclamp")
    if isinstance(path_or_rec, Recording):
        parts = [excitability_file(path_or_rec, proto)]
    else:
        items = [path_or_rec] if isinstance(path_or_rec, str | os.PathLike) else list(path_or_rec)
        files = expand_paths(items)
        if not files:
            raise InputError("no files to analyse", expected="at least one .abf file")
        parts = map_chunks(_chunk, files, make_task=lambda c: (c, proto, units),
                           executor=executor, progress=progress, desc="excitability")
    sweeps = pd.concat([s for s, _, _ in parts], ignore_index=True) if parts else pd.DataFrame(columns=SWEEP_COLUMNS)
    cells = pd.concat([c for _, c, _ in parts], ignore_index=True)
    spikes = [k for _, _, k in parts if len(k)]
    spikes_df = pd.concat(spikes, ignore_index=True) if spikes else pd.DataFrame(columns=[*SPIKE_COLUMNS, "cell", "in_step"])
    sweeps = sweeps.astype({"sweep": "int64", "n_spikes": "int64", "n_flagged": "int64"})
    if experiment is not None:
        sweeps, cells, spikes_df = _join_experiment(experiment, sweeps, cells, spikes_df)
    return ExcitabilityResult(sweeps, cells, spikes_df, proto, {"units": units})


def _join_experiment(experiment, sweeps, cells, spikes):
    from nplab.tables import read_table

    exp = experiment if isinstance(experiment, pd.DataFrame) else read_table(experiment)
    if "file" not in exp.columns:
        raise InputError("the experiment table has no 'file' column", column="file")
    exp = exp.copy()
    exp["_key"] = [Path(str(f)).name for f in exp["file"]]
    if exp["_key"].duplicated().any():
        dup = exp.loc[exp["_key"].duplicated(), "file"].iloc[0]
        raise InputError(f"file {dup} is listed twice", column="file", expected="one row per file")
    extra = [c for c in exp.columns if c not in {"file", "_key"}]
    out = []
    for df in (sweeps, cells, spikes):
        key = [Path(str(f)).name for f in df["file"]]
        merged = df.assign(_key=key).merge(exp[["_key", *extra]], on="_key", how="left", suffixes=("_auto", ""))
        if "cell" in extra and "cell_auto" in merged.columns:
            merged["cell"] = merged["cell"].fillna(merged["cell_auto"])
            merged = merged.drop(columns="cell_auto")
        merged = merged.drop(columns="_key")
        cols = [c for c in df.columns if c in merged.columns] + [c for c in extra if c not in df.columns]
        out.append(merged[cols])
    return tuple(out)
