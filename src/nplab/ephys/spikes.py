"""Action-potential detection and per-spike features on current-clamp sweeps.

Conventions (eFEL's defaults, Blue Brain Project, ``efel`` ``Settings``; recorded as
protocol parameters so a lab can change them):

* **Spike**: an upward crossing of ``threshold_mv`` (−20 mV), ``v[i-1] < thr ≤ v[i]``,
  that comes back down (``v[j-1] ≥ thr > v[j]``) before the end of the trace; the
  peak is the (first) maximum between the two crossings.  A crossing that never
  comes back down is not a spike (eFEL ``peak_indices``).
* **dV/dt**: central differences (one-sided at the ends), in mV/ms.
* **Threshold** (eFEL ``AP_begin_indices`` with ``DerivativeWindow`` = 3): walking
  back from the peak, the start of the last run of dV/dt > ``dvdt_threshold``
  (10 mV/ms) whose first ``dvdt_window`` samples stay ≥ the criterion and that begins after the previous spike's
  peak (eFEL: its first AHP minimum; V only falls in between); ``threshold_mv`` is the sample there (not interpolated).
* **Amplitude**: peak − threshold.  **Half-width**: full width at
  threshold + amplitude/2, with both crossings linearly interpolated between samples.
* **AHP**: minimum between the peak and the next spike's peak (or the end of the
  analysis window ``ahp_end``), relative to the threshold (negative = below).
* ``max_dvdt`` (upstroke, threshold → peak), ``min_dvdt`` (downstroke, peak → AHP
  minimum), ``isi_ms`` (peak to previous peak).

Flags (never silently dropped): ``no_overshoot`` when the peak stays below
``overshoot_mv`` (0 mV), ``depolarisation_block`` when the membrane does not
repolarise below the threshold of the window's first spike before the next spike (the
AHP minimum stays above it: the cell is stuck depolarised), ``no_threshold`` when
no dV/dt run qualifies.  Counts therefore equal eFEL's ``Spikecount`` on the same
samples; the flags say which spikes a study should not count as healthy firing.

References: Van Geit W et al. (2016) BluePyOpt, Front Neuroinform 10:17 (eFEL);
Bean BP (2007) The action potential in mammalian central neurons, Nat Rev Neurosci
8:451–465 (threshold, AHP); Gouwens NW et al. (2019) Nat Neurosci 22:1182–1195
(ipfx half-width and upstroke definitions).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

from nplab.ephys.abf import Recording, unit_scale
from nplab.errors import InputError

__all__ = [
    "SPIKE_COLUMNS",
    "SpikeArrays",
    "detect_spikes",
    "spikes",
    "to_millivolts",
]

#: Columns of :func:`spikes`, in order.
SPIKE_COLUMNS = [
    "file",
    "sweep",
    "spike",
    "peak_time_s",
    "peak_mv",
    "threshold_mv",
    "threshold_time_s",
    "amplitude_mv",
    "half_width_ms",
    "ahp_mv",
    "max_dvdt",
    "min_dvdt",
    "isi_ms",
    "flag",
]


@dataclass
class SpikeArrays:
    """Per-spike features of one trace as numpy arrays (one entry per spike).

    Index arrays are sample indices into the trace; times are in s from the trace's
    first sample; voltages in mV; ``dvdt`` in mV/ms; ``half_width_ms``, ``isi_ms`` in
    ms; ``flag`` is ``""`` or ``;``-joined flag names.
    """

    peak_index: np.ndarray
    threshold_index: np.ndarray
    ahp_index: np.ndarray
    peak_time_s: np.ndarray
    peak_mv: np.ndarray
    threshold_mv: np.ndarray
    threshold_time_s: np.ndarray
    amplitude_mv: np.ndarray
    half_width_ms: np.ndarray
    ahp_mv: np.ndarray
    max_dvdt: np.ndarray
    min_dvdt: np.ndarray
    isi_ms: np.ndarray
    flag: np.ndarray

    def __len__(self) -> int:
        return int(self.peak_index.size)

    def select(self, keep: np.ndarray) -> SpikeArrays:
        """The spikes where ``keep`` (bool mask or indices) holds."""
        return SpikeArrays(**{k: getattr(self, k)[keep] for k in self.__dataclass_fields__})

    def frame(self) -> pd.DataFrame:
        """The spikes as a DataFrame (feature columns of :data:`SPIKE_COLUMNS`)."""
        return pd.DataFrame({c: getattr(self, c) for c in SPIKE_COLUMNS[3:]})


def _crossings(v: np.ndarray, thr: float) -> tuple[np.ndarray, np.ndarray]:
    # a sample exactly at the threshold counts as above it, so up and down crossings
    # alternate even on quantised data (eFEL 5.7 behaves the same: a spike whose
    # upstroke or downstroke has a sample at exactly -20.00 mV is still one spike)
    above = v >= thr
    up = np.flatnonzero(above[1:] & ~above[:-1]) + 1
    dn = np.flatnonzero(~above[1:] & above[:-1]) + 1
    if up.size == 0 or dn.size == 0:
        return up[:0], dn[:0]
    dn = dn[dn > up[0]]
    up = up[: dn.size]
    dn = dn[: up.size]
    return up, dn


def _empty(n: int = 0) -> SpikeArrays:
    i = np.zeros(n, dtype=np.int64)
    f = np.full(n, np.nan)
    return SpikeArrays(i, i, i, f, f, f, f, f, f, f, f, f, f, np.full(n, "", dtype=object))


def detect_spikes(
    v: np.ndarray,
    sample_rate: float,
    *,
    threshold_mv: float = -20.0,
    dvdt_threshold: float = 10.0,
    dvdt_window: int = 3,
    overshoot_mv: float = 0.0,
    start: int = 0,
    ahp_end: int | None = None,
) -> SpikeArrays:
    """Detect action potentials in one voltage trace (mV) and measure them.

    Parameters
    ----------
    v
        Membrane potential in mV (1-D).
    sample_rate
        Samples per second.
    threshold_mv, dvdt_threshold, dvdt_window
        Detection level, onset criterion (mV/ms) and the number of consecutive
        samples dV/dt must exceed it (see the module notes; eFEL defaults).
    overshoot_mv
        Peaks below this are flagged ``no_overshoot``.
    start
        First sample the threshold search may use for the first spike (e.g. a step
        onset); earlier spikes use the trace start.
    ahp_end
        Last sample (exclusive) of the AHP search of a spike that has no later
        spike before it (e.g. the end of the current step); default: trace end.

    Returns
    -------
    SpikeArrays
    """
    v = np.asarray(v, dtype=np.float64)
    n = v.size
    if n < 3:
        return _empty()
    up, dn = _crossings(v, threshold_mv)
    k = up.size
    if k == 0:
        return _empty()
    dt_ms = 1000.0 / sample_rate
    peaks = np.empty(k, dtype=np.int64)
    for i in range(k):
        a, b = up[i], dn[i] + 1
        peaks[i] = a + int(np.argmax(v[a:b]))
    dvdt = np.gradient(v) / dt_ms

    # AHP minimum: peak -> next peak (or ahp_end / trace end)
    end = n if ahp_end is None else int(min(max(ahp_end, 1), n))
    ahp = np.empty(k, dtype=np.int64)
    for i in range(k):
        a = peaks[i]
        b = peaks[i + 1] if i + 1 < k else max(end, a + 1)
        if i + 1 < k and a < end < b:
            b = end
        b = max(b, a + 1)  # misaligned crossing pairs (see _crossings) can repeat a peak
        ahp[i] = a + int(np.argmin(v[a:b]))

    # threshold: start of the last qualifying run of dV/dt > thr before the peak
    # (eFEL: a run starts after a sample with dV/dt <= thr and its first
    # ``dvdt_window`` samples must all be >= thr)
    above = dvdt > dvdt_threshold
    starts = np.flatnonzero(above & ~np.concatenate(([False], above[:-1])))
    w = int(dvdt_window)
    ge = dvdt >= dvdt_threshold
    full = np.lib.stride_tricks.sliding_window_view(ge, w).all(axis=1) if n >= w else np.zeros(0, bool)
    starts = starts[starts < full.size]
    long_runs = starts[full[starts]]
    lower = np.empty(k, dtype=np.int64)
    lower[0] = max(0, int(start) - 2) if start > 1 else 0
    lower[1:] = peaks[:-1]  # eFEL: previous spike's first AHP minimum (V falls until then)
    pos = np.searchsorted(long_runs, peaks, side="left") - 1
    thr_idx = np.where(pos >= 0, long_runs[np.clip(pos, 0, None)] if long_runs.size else 0, -1)
    thr_ok = (pos >= 0) & (thr_idx > lower)
    thr_i = np.where(thr_ok, thr_idx, peaks)

    t = np.arange(n) / sample_rate
    peak_mv = v[peaks]
    thr_mv = np.where(thr_ok, v[thr_i], np.nan)
    amp = peak_mv - thr_mv
    ahp_mv = v[ahp] - thr_mv
    max_dvdt = np.empty(k)
    min_dvdt = np.empty(k)
    half = np.full(k, np.nan)
    for i in range(k):
        p, a, h = peaks[i], thr_i[i], ahp[i]
        max_dvdt[i] = dvdt[a : p + 1].max()
        min_dvdt[i] = dvdt[p : h + 1].min()
        if not thr_ok[i]:
            continue
        level = thr_mv[i] + amp[i] / 2.0
        rise = v[a : p + 1]
        r = np.flatnonzero(rise < level)
        fall = v[p : h + 1]
        f = np.flatnonzero(fall < level)
        if r.size == 0 or f.size == 0:
            continue
        r0 = a + r[-1]
        f1 = p + f[0]
        tr = r0 + (level - v[r0]) / (v[r0 + 1] - v[r0])
        tf = f1 - 1 + (v[f1 - 1] - level) / (v[f1 - 1] - v[f1])
        half[i] = (tf - tr) * dt_ms
    isi = np.full(k, np.nan)
    isi[1:] = np.diff(peaks) * dt_ms

    flags = np.full(k, "", dtype=object)
    first_thr = thr_mv[thr_ok][0] if thr_ok.any() else np.nan
    for i in range(k):
        f = []
        if peak_mv[i] < overshoot_mv:
            f.append("no_overshoot")
        if np.isfinite(first_thr) and v[ahp[i]] > first_thr:
            f.append("depolarisation_block")
        if not thr_ok[i]:
            f.append("no_threshold")
        flags[i] = ";".join(f)
    return SpikeArrays(
        peak_index=peaks,
        threshold_index=np.where(thr_ok, thr_i, -1),
        ahp_index=ahp,
        peak_time_s=t[peaks],
        peak_mv=peak_mv,
        threshold_mv=thr_mv,
        threshold_time_s=np.where(thr_ok, t[thr_i], np.nan),
        amplitude_mv=amp,
        half_width_ms=half,
        ahp_mv=ahp_mv,
        max_dvdt=max_dvdt,
        min_dvdt=min_dvdt,
        isi_ms=isi,
        flag=flags,
    )


def to_millivolts(rec: Recording, channel: int) -> float:
    """Factor converting ``channel`` to mV; :class:`InputError` if it is not a voltage."""
    scale = unit_scale(rec.units[channel])
    if scale is None or scale[0] != "voltage":
        raise InputError(
            f"channel {channel} is recorded in '{rec.units[channel]}', not a voltage: "
            "not a current-clamp recording (or wrong units in the header)",
            file=rec.path,
            column="channel",
            expected="a membrane-potential channel in mV (override with units= if the "
            "header is wrong)",
        )
    return scale[1]


def spikes(
    rec: Recording,
    sweep: int,
    channel: int = 0,
    threshold_mv: float = -20.0,
    dvdt_threshold: float = 10.0,
    *,
    dvdt_window: int = 3,
    overshoot_mv: float = 0.0,
    ljp_mv: float = 0.0,
) -> pd.DataFrame:
    """One row per action potential of one sweep (see the module notes).

    Parameters
    ----------
    rec
        A recording from :func:`nplab.ephys.read_abf`.
    sweep, channel
        Which sweep and which (voltage) channel.
    threshold_mv, dvdt_threshold
        Spike detection level (mV) and onset dV/dt criterion (mV/ms); eFEL defaults.
    dvdt_window
        Consecutive samples above ``dvdt_threshold`` needed at the onset.
    overshoot_mv
        Peaks below this level are flagged ``no_overshoot``.
    ljp_mv
        Liquid junction potential subtracted from every voltage (V_m = V_rec − LJP);
        detection uses the corrected voltage.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`SPIKE_COLUMNS`: ``file``, ``sweep``, ``spike`` (0-based),
        ``peak_time_s`` (from the sweep start), ``peak_mv``, ``threshold_mv``,
        ``threshold_time_s``, ``amplitude_mv``, ``half_width_ms``, ``ahp_mv``,
        ``max_dvdt``, ``min_dvdt`` (mV/ms), ``isi_ms``, ``flag``.
    """
    factor = to_millivolts(rec, channel)
    v = rec.sweep_view(sweep, channel).astype(np.float64) * factor - ljp_mv
    res = detect_spikes(
        v,
        rec.sample_rate,
        threshold_mv=threshold_mv,
        dvdt_threshold=dvdt_threshold,
        dvdt_window=dvdt_window,
        overshoot_mv=overshoot_mv,
    )
    df = res.frame()
    df.insert(0, "spike", np.arange(len(res)))
    df.insert(0, "sweep", int(sweep))
    df.insert(0, "file", rec.path)
    return df[SPIKE_COLUMNS]
