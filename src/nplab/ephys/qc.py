"""Cell quality control: membrane test per sweep and per-cell QC from the per-sweep table.

Membrane test (voltage-clamp step ΔV from holding): for the circuit Ra in series with
Rm ‖ Cm the current after the step is

    I(t) = ΔV/(Ra+Rm) + (ΔV/Ra − ΔV/(Ra+Rm))·exp(−t/τ),  τ = Ra·Rm·Cm/(Ra+Rm)

so Ra = ΔV / I(0), Ra + Rm = ΔV / ΔI_ss and Cm = τ·(Ra+Rm)/(Ra·Rm) (Gillis KD
1995, "Techniques for membrane capacitance measurements", in Sakmann & Neher (eds)
*Single-Channel Recording*, 2nd ed., ch. 7).  τ comes from a log-linear fit of the
transient between 80% and 20% of its peak; the transient amplitude at the step
onset, I(0) − ΔI_ss = Q/τ, from its charge Q (area above the steady state, trapezoid
rule from the step onset to 10 τ after the peak), which unlike back-extrapolating the fit is not inflated by the recording
filter's delay (the charge method of the Clampex membrane test).  pyabf's
``tools.memtest`` reports the same Ih but approximates Rm by Ra+Rm and Cm by τ/Ra.

Per-cell criteria (common acceptance practice, e.g. Ra change ≤ 20%; run-down
%/min during control; minimum control current) are thresholds in the protocol.
"""

from __future__ import annotations

import math
import os
from typing import Any

import numpy as np
import pandas as pd

from nplab.ephys.abf import unit_scale
from nplab.errors import InputError
from nplab.protocols import Protocol, load_protocol
from nplab.tables import require_columns

__all__ = ["QC_COLUMNS", "membrane_test", "qc_cells", "rundown_rate"]

QC_COLUMNS = [
    "cell",
    "files",
    "n_sweeps",
    "n_control_sweeps",
    "control_current",
    "units",
    "control_current_pa",
    "rundown_pct_per_min",
    "ra_start_mohm",
    "ra_end_mohm",
    "ra_change_pct",
    "cm_pf",
    "qc_pass",
    "reason",
]


#: The transient charge is integrated up to this many time constants after its peak.
_CHARGE_TAUS = 10.0


def membrane_test(
    trace_pa: np.ndarray, *, step_index: int, dv_mv: float, sample_rate: float
) -> dict[str, float]:
    """Ra, Rm, Cm and holding current from one voltage-clamp step.

    Parameters
    ----------
    trace_pa
        Current (pA) from the segment before the step to the end of the step.
    step_index
        Sample at which the step starts.
    dv_mv
        Step size (mV), step level minus the level before it.
    sample_rate
        Samples per second.

    Returns
    -------
    dict
        ``ra_mohm``, ``rm_mohm``, ``cm_pf``, ``holding_pa`` (NaN where the trace does
        not allow the estimate).
    """
    nan = {"ra_mohm": np.nan, "rm_mohm": np.nan, "cm_pf": np.nan, "holding_pa": np.nan}
    trace = np.asarray(trace_pa, dtype=np.float64)
    if step_index < 1 or step_index >= trace.size - 5 or dv_mv == 0:
        return nan
    ih = float(np.mean(trace[:step_index]))
    out = dict(nan, holding_pa=ih)
    step = trace[step_index:]
    tail = max(1, int(step.size * 0.2))
    i_ss = float(np.mean(step[-tail:]))
    d_ss = i_ss - ih
    sign = 1.0 if dv_mv > 0 else -1.0
    y = (step - i_ss) * sign
    kp = int(np.argmax(y[: max(2, step.size - tail)]))
    peak = y[kp]
    if not peak > 0 or d_ss * sign <= 0:
        return out
    after = y[kp:]
    below_hi = np.nonzero(after < 0.8 * peak)[0]
    below_lo = np.nonzero(after < 0.2 * peak)[0]
    if not below_hi.size or not below_lo.size:
        return out
    a, b = kp + int(below_hi[0]), kp + int(below_lo[0])
    if b - a < 3:
        return out
    t = np.arange(a, b) / sample_rate
    slope, _ = np.polyfit(t, np.log(y[a:b]), 1)
    if not slope < 0:
        return out
    tau = -1.0 / slope
    # transient amplitude at the step onset from its charge (robust to filtering):
    # Q = ∫ A0·exp(-t/τ) dt = A0·τ, trapezoid rule from the step onset to
    # _CHARGE_TAUS·τ after the peak (the transient has then decayed to e^-10 of its
    # peak); integrating further would add the slow currents and drift of a long step
    # (e.g. 171116sh_0011: Ra 38 → 24 MΩ across stable sweeps) instead of charge.
    end = min(step.size - tail, kp + math.ceil(_CHARGE_TAUS * tau * sample_rate) + 1)
    region = y[:end]
    charge = (float(np.sum(region)) - 0.5 * float(region[0])) / sample_rate
    a0 = charge / tau
    if not a0 > 0:
        return out
    r_total = abs(dv_mv) / abs(d_ss) * 1000.0  # mV / pA = GΩ -> MΩ
    ra = abs(dv_mv) / (a0 + abs(d_ss)) * 1000.0
    rm = r_total - ra
    if not rm > 0:
        return dict(out, ra_mohm=ra)
    r_par = ra * rm / (ra + rm)
    cm = tau / (r_par * 1e6) * 1e12
    return {"ra_mohm": ra, "rm_mohm": rm, "cm_pf": cm, "holding_pa": ih}


def rundown_rate(time_s: np.ndarray, value: np.ndarray) -> float:
    """Run-down in %/min: −100·60·slope(|I|)/|I|(t₀) from a least-squares line.

    Positive = current amplitude declining.  NaN with fewer than 3 points or no
    time span.
    """
    t = np.asarray(time_s, dtype=float)
    v = np.abs(np.asarray(value, dtype=float))
    ok = np.isfinite(t) & np.isfinite(v)
    t, v = t[ok], v[ok]
    if t.size < 3 or np.ptp(t) <= 0:
        return float("nan")
    slope, intercept = np.polyfit(t - t[0], v, 1)
    if intercept == 0:
        return float("nan")
    return float(-100.0 * 60.0 * slope / abs(intercept))


def qc_cells(
    per_sweep: pd.DataFrame,
    protocol: str | os.PathLike[str] | Protocol = "patchclamp-nav-resting",
    *,
    experiment: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Per-cell QC from the per-sweep table.

    Parameters
    ----------
    per_sweep
        Output of :func:`nplab.ephys.measure`.
    protocol
        ``patchclamp`` protocol with ``qc_*`` thresholds and ``steady_state_sweeps``.
    experiment
        Optional experiment table (``cell``, ``file``, ``conc_um``, optional ``tag``;
        one row per file, or per file × tag): files are grouped into cells, and
        control = sweeps before any tag of files with a row at ``conc_um == 0``, with
        a blank ``conc_um`` or with a tag mapping.  Without it each file is a cell and control = sweeps before the first
        tag (``tag_index == 0``).

    Returns
    -------
    pandas.DataFrame
        One row per cell (first-appearance order): ``cell``, ``files``, ``n_sweeps``,
        ``n_control_sweeps``, ``control_current`` (mean of the last
        ``steady_state_sweeps`` control values, in ``units``), ``units``,
        ``control_current_pa``, ``rundown_pct_per_min`` (during control,
        :func:`rundown_rate`), ``ra_start_mohm`` / ``ra_end_mohm`` (means of the first /
        last 3 membrane tests), ``ra_change_pct``, ``cm_pf`` (median), ``qc_pass``,
        ``reason`` (each failed criterion, or why the cell could not be measured).
        Criteria that cannot be evaluated (e.g. no membrane test) are not failures.
    """
    proto = load_protocol(protocol, kind="patchclamp")
    require_columns(per_sweep, ["file", "sweep", "time_s", "value", "status", "tag_index"])
    n_last = int(proto["steady_state_sweeps"])
    df = per_sweep.reset_index(drop=True)
    if experiment is not None:
        require_columns(experiment, ["cell", "file", "conc_um"])
        cell_of = {str(f): str(c) for f, c in zip(experiment["file"], experiment["cell"], strict=True)}
        # a file has a control period (its sweeps before the first tag) when any of its
        # rows is at 0 µM, has no concentration (given by tags) or maps a tag (layout A:
        # one row per file x tag, sweeps before the first tag are the control)
        conc = pd.to_numeric(experiment["conc_um"], errors="coerce").to_numpy(dtype=float)
        has_ctrl = (conc == 0.0) | np.isnan(conc)
        if "tag" in experiment.columns:
            has_ctrl |= experiment["tag"].fillna("").astype(str).str.strip().ne("").to_numpy()
        control_files = {str(f) for f, c in zip(experiment["file"], has_ctrl, strict=True) if c}
        missing = sorted(set(df["file"].astype(str)) - set(cell_of))
        if missing:
            raise InputError(
                f"file {missing[0]!r} of the per-sweep table is not in the experiment table",
                column="file",
            )
        cells = df["file"].astype(str).map(cell_of)
        is_control = df["file"].astype(str).isin(control_files) & df["tag_index"].fillna(0).eq(0)
    else:
        cells = df["file"].astype(str)
        is_control = df["tag_index"].fillna(0).eq(0)
    rows = []
    for cell in dict.fromkeys(cells):
        sub = df[cells == cell]
        files = ";".join(dict.fromkeys(sub["file"].astype(str)))
        ok = sub[sub["status"] == "ok"]
        row: dict[str, Any] = {c: np.nan for c in QC_COLUMNS}
        row.update(cell=cell, files=files, n_sweeps=len(ok), units="", qc_pass=False)
        if ok.empty:
            reasons = "; ".join(dict.fromkeys(sub["reason"].astype(str)))
            word = "suspect" if (sub["status"] == "suspect").all() else "not measured"
            row.update(n_control_sweeps=0, reason=f"{word}: {reasons}")
            rows.append(row)
            continue
        ctrl = ok[is_control[ok.index]]
        units = str(ok["units"].iloc[0]) if "units" in ok else ""
        row.update(n_control_sweeps=len(ctrl), units=units)
        fails: list[str] = []
        if len(ctrl):
            cc = float(ctrl["value"].tail(n_last).mean())
            scale = unit_scale(units)
            cc_pa = cc * scale[1] if scale and scale[0] == "current" else np.nan
            rate = rundown_rate(ctrl["time_s"].to_numpy(), ctrl["value"].to_numpy())
            row.update(control_current=cc, control_current_pa=cc_pa, rundown_pct_per_min=rate)
            if math.isfinite(cc_pa) and abs(cc_pa) < proto["qc_min_control_current"]:
                fails.append(
                    f"control current {abs(cc_pa):.4g} pA < {proto['qc_min_control_current']:g} pA"
                )
            if math.isfinite(rate) and rate > proto["qc_rundown_max_pct_per_min"]:
                fails.append(
                    f"run-down {rate:.3g} %/min > {proto['qc_rundown_max_pct_per_min']:g} %/min"
                )
        else:
            fails.append("no control sweeps")
        if "ra_mohm" in ok:
            ra = ok["ra_mohm"].to_numpy(dtype=float)
            ra = ra[np.isfinite(ra)]
            if ra.size >= 2:
                k = min(3, ra.size // 2)
                start, end = float(ra[:k].mean()), float(ra[-k:].mean())
                change = 100.0 * (end - start) / start
                row.update(ra_start_mohm=start, ra_end_mohm=end, ra_change_pct=change)
                if abs(change) > proto["qc_ra_change_max_pct"]:
                    fails.append(
                        f"Ra change {change:+.3g}% exceeds ±{proto['qc_ra_change_max_pct']:g}%"
                    )
        if "cm_pf" in ok:
            cm = ok["cm_pf"].to_numpy(dtype=float)
            cm = cm[np.isfinite(cm)]
            if cm.size:
                row["cm_pf"] = float(np.median(cm))
        if len(ok) < len(sub):
            fails.append(f"{len(sub) - len(ok)} sweep row(s) failed")
        row.update(qc_pass=not fails, reason="; ".join(fails))
        rows.append(row)
    out = pd.DataFrame(rows, columns=QC_COLUMNS)
    out["qc_pass"] = out["qc_pass"].astype(bool)
    return out
