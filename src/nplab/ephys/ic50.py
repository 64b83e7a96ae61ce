"""Concentration–response of patch-clamp block: fractional current, per-cell and pooled IC50.

Pipeline (``shared/notes/patchclamp.md`` §2.2):

1. Each sweep gets its cell, drug and concentration
   (:func:`nplab.ephys.concentrations.assign_concentrations`).
2. :func:`fractional_current` — per cell × solution period, the steady-state current
   (mean of the last N ok sweeps), the cell's control steady state, optional run-down
   correction, and the fractional current ``I/I_control`` (1 − fractional block).
   Cell QC (failed files, no control, control current too small, run-down too fast,
   an external QC table) marks every row of a failing cell; those rows stay in the
   table with their reason and are left out of the pooled results.
3. :func:`fit_cells` — per cell, a Hill fit of ``I/I_control`` against concentration
   with :func:`nplab.doseresponse.fit`: by default ``LL.2`` (top 1, bottom 0),
   ``f = 1/(1 + (x/IC50)^h)``; ``LL.3`` (free top, bottom 0) and ``LL.4`` (free top and
   bottom, incomplete block) are selectable.  Pooled results per drug × condition:
   the mean of log10 IC50 across cells ± SEM (t-based CI, back-transformed: a
   geometric mean) and a global fit of all cells' points.
4. :func:`ic50` — the whole analysis from an experiment table (and per-sweep table or
   the recordings), with references (:mod:`nplab.ephys.references`) and state-dependent
   affinities (:mod:`nplab.ephys.state`) when the table provides them.

References
----------
Hill AV (1910) J Physiol 40:iv–vii (Hill equation).  Ritz C, Baty F, Streibig JC,
Gerhard D (2015) Dose-Response Analysis Using R. PLoS ONE 10(12):e0146021 (LL.2–LL.4
models, delta-method standard errors).
"""

from __future__ import annotations

import math
import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab._dist import t_ppf
from nplab.ephys.concentrations import (
    NO_DRUG,
    RUNDOWN_METHODS,
    assign_concentrations,
    control_lines,
    read_experiment,
    rundown_factor,
    validate_experiment,
    vehicle_ratio,
)
from nplab.errors import InputError, NplabError, row_number
from nplab.protocols import Param, Protocol, load_protocol
from nplab.tables import require_columns

__all__ = [
    "CELL_COLUMNS",
    "FIT_COLUMNS",
    "IC50_DEFAULTS",
    "IC50_SCHEMA",
    "MODELS",
    "IC50Result",
    "fit_cells",
    "fractional_current",
    "ic50",
]

#: Hill models offered for fractional currents and their free parameters.
MODELS: dict[str, tuple[str, ...]] = {
    "LL.2": ("hill", "ic50"),
    "LL.3": ("hill", "top", "ic50"),
    "LL.4": ("hill", "bottom", "top", "ic50"),
}

#: Analysis defaults (each can be set in a ``patchclamp`` protocol or as a keyword).
IC50_DEFAULTS: dict[str, Any] = {
    "steady_state_sweeps": 5,
    "ic50_model": "LL.2",
    "rundown_correction": "none",
    "confidence_level": 0.95,
}

#: Protocol parameters this module reads beyond the ``patchclamp`` schema of
#: :mod:`nplab.ephys.measure` (``steady_state_sweeps`` is shared; cell QC thresholds
#: ``qc_*`` are applied by :func:`nplab.ephys.qc_cells`).
IC50_SCHEMA: dict[str, Param] = {
    "ic50_model": Param(
        "str", default="LL.2", choices=tuple(MODELS), doc="Hill model for I/I_control"
    ),
    "rundown_correction": Param(
        "str", default="none", choices=RUNDOWN_METHODS, doc="run-down correction"
    ),
    "confidence_level": Param("float", default=0.95, min=0.5, max=0.999, doc="CI level"),
}

#: Columns of the cell × concentration table.
CELL_COLUMNS = (
    "drug", "condition", "cell", "segment_order", "role", "conc_um", "segment", "segment_label",
    "file", "holding_mv", "first_sweep", "last_sweep", "n_sweeps", "elapsed_s", "current",
    "control_current", "units", "raw_fraction", "rundown_factor", "fraction", "inhibition",
    "rundown_pct_per_min", "cell_status", "cell_reason", "status", "reason",
)

#: Columns of the fits table.
FIT_COLUMNS = (
    "drug", "condition", "level", "cell", "model", "n_cells", "n_points", "n_concentrations",
    "conc_min_um", "conc_max_um", "ic50_um", "ic50_se_um", "ic50_ci_low_um", "ic50_ci_high_um",
    "ic50_logci_low_um", "ic50_logci_high_um", "log10_ic50", "log10_ic50_se", "log10_ic50_sd", "hill", "hill_se", "top", "bottom",
    "residual_se", "df_resid", "ic50_in_range", "success", "status", "reason",
)

_LN10 = math.log(10.0)


def _param(protocol: Protocol | None, key: str, value: Any) -> Any:
    if value is not None:
        return value
    if protocol is not None and protocol.get(key) is not None:
        return protocol.get(key)
    return IC50_DEFAULTS[key]


def _cell_problems(sweeps: pd.DataFrame, qc: pd.DataFrame | None) -> dict[str, list[str]]:
    """Reasons (per cell) coming from failed files and an external QC table."""
    problems: dict[str, list[str]] = {}
    failed = sweeps[sweeps["status"].astype(str) != "ok"]
    rows_per_file = sweeps.groupby("file", sort=False).size()
    for (cell, f), g in failed.groupby(["cell", "file"], sort=True):
        n_all = int(rows_per_file[f])
        if len(g) == n_all:  # the whole file failed (or is suspect: implausible header)
            why = str(g["reason"].iloc[0]) if "reason" in g else "failed"
            word = str(g["status"].iloc[0]) if str(g["status"].iloc[0]) == "suspect" else "failed"
            problems.setdefault(cell, []).append(f"file {f} {word}: {why}")
    if qc is not None and len(qc):
        key = "cell" if "cell" in qc else "file"
        status_col = next((c for c in ("qc_pass", "status", "qc_status") if c in qc), None)
        if status_col is None:
            raise InputError("QC table needs a 'qc_pass' or 'status' column", column="status",
                             expected="True / ok / pass for cells that pass QC")
        cell_of_file = dict(zip(sweeps["file"], sweeps["cell"], strict=False))
        for _, row in qc.iterrows():
            if str(row[status_col]).strip().casefold() in {"ok", "pass", "passed", "true"}:
                continue
            cell = row[key] if key == "cell" else cell_of_file.get(str(row[key]))
            if cell is None:
                continue
            why = str(row.get("reason", "")) or "failed QC"
            problems.setdefault(str(cell), []).append(f"QC: {why}")
    return problems


def fractional_current(
    sweeps: pd.DataFrame,
    *,
    steady_state_sweeps: int = 5,
    rundown: str = "none",
    min_control_current: float | None = None,
    max_rundown_pct_per_min: float | None = None,
    qc: pd.DataFrame | None = None,
) -> pd.DataFrame:
    """Cell × concentration table of steady-state currents and fractional currents.

    Parameters
    ----------
    sweeps
        Output of :func:`~nplab.ephys.concentrations.assign_concentrations`.
    steady_state_sweeps
        N: each solution period's steady state is the mean of its last N ok sweeps.
    rundown
        ``"none"``, ``"linear"`` (divide by the control line extrapolated to the time of
        the steady state) or ``"vehicle"`` (divide by the mean time-matched vehicle ratio
        of the same condition).
    min_control_current
        Cells whose |control steady state| is smaller fail QC (recorded units).
    max_rundown_pct_per_min
        Cells whose control run-down exceeds this (%/min) fail QC.
    qc
        Optional external QC table (e.g. ``nplab.ephys.qc_cells``) with ``cell`` or
        ``file``, ``status`` (ok/pass) and ``reason``; failing cells fail QC here too.

    Returns
    -------
    DataFrame
        One row per cell × solution period (:data:`CELL_COLUMNS`), sorted by drug,
        condition, cell and period order: ``conc_um``; ``role`` (control, drug,
        washout, vehicle); ``n_sweeps`` averaged (``first_sweep``..``last_sweep`` of
        ``file``); ``elapsed_s`` mean time of those sweeps; ``current`` steady state;
        ``control_current``; ``raw_fraction`` = current/control_current;
        ``rundown_factor`` (expected control at that time / control steady state, 1
        without correction); ``fraction`` = raw_fraction/rundown_factor;
        ``inhibition`` = 1 − fraction; ``rundown_pct_per_min`` of the control period
        (−slope of the control line as % of the control steady state per minute;
        positive = the current amplitude declines, as :func:`nplab.ephys.qc_cells`); ``cell_status`` (``ok``/``failed``) with
        ``cell_reason``; row ``status`` (``ok``, ``qc_failed``, ``failed``) with
        ``reason``.
    """
    if rundown not in RUNDOWN_METHODS:
        raise InputError(f"unknown run-down correction {rundown!r}", column="rundown_correction",
                         expected=f"one of {', '.join(RUNDOWN_METHODS)}")
    if int(steady_state_sweeps) < 1:
        raise InputError("steady-state sweeps must be >= 1", column="steady_state_sweeps")
    n_ss = int(steady_state_sweeps)
    if len(sweeps) == 0:
        raise InputError("no sweeps to analyse", expected="per-sweep rows for the experiment's files")
    problems = _cell_problems(sweeps, qc)
    key = ["cell", "segment_order"]
    opts = [c for c in ("target", "h") if c in sweeps]
    meta = ["drug", "condition", "cell", "segment_order", "role", "conc_um", "segment",
            "segment_label", "file", "holding_mv", *opts]
    sw = sweeps.sort_values([*key, "elapsed_s", "sweep"], kind="mergesort")
    periods = sw.drop_duplicates(key)[meta].reset_index(drop=True)
    units = (sw.drop_duplicates("cell").set_index("cell")["units"].astype(str)
             if "units" in sw else pd.Series(dtype=str))
    value = pd.to_numeric(sw["value"], errors="coerce")
    ok = sw[(sw["status"].astype(str) == "ok") & np.isfinite(value.to_numpy(dtype=float))]
    # steady state: mean of the last N ok sweeps of each period
    tail = ok.groupby(key, sort=False).tail(n_ss)
    agg = tail.groupby(key, sort=False).agg(
        current=("value", "mean"), n_sweeps=("value", "size"), first_sweep=("sweep", "first"),
        last_sweep=("sweep", "last"), elapsed_s=("elapsed_s", "mean"),
    ).reset_index()
    periods = periods.merge(agg, on=key, how="left", sort=False)
    periods["n_sweeps"] = periods["n_sweeps"].fillna(0).astype(int)
    for c in ("first_sweep", "last_sweep"):
        periods[c] = periods[c].fillna(-1).astype(int)
    periods["current"] = periods["current"].astype(float)
    # control steady state: the last control period of the cell
    ctrl_p = periods[periods["role"] == "control"]
    last_ctrl = ctrl_p.loc[ctrl_p.groupby("cell", sort=False)["segment_order"].idxmax()]
    i_ctrl = last_ctrl.set_index("cell")["current"]
    t_ctrl = last_ctrl.set_index("cell")["elapsed_s"]
    # control line a + b*t through all ok control sweeps (least squares, per cell)
    c_sw = ok[ok["role"] == "control"]
    lines = control_lines(c_sw["elapsed_s"], c_sw["value"], c_sw["cell"])
    cells_idx = pd.Index(periods["cell"].unique())
    line_a = lines["a"].reindex(cells_idx)
    line_b = lines["b"].reindex(cells_idx)
    ic = i_ctrl.reindex(cells_idx)
    tc = t_ctrl.reindex(cells_idx)
    rate = -100.0 * 60.0 * line_b / (line_a + line_b * tc)
    first_role = periods[periods["segment_order"] == 0].set_index("cell")["role"].reindex(cells_idx)
    has_ctrl = pd.Series(cells_idx.isin(ctrl_p["cell"].unique()), index=cells_idx)
    cell_status, cell_reason = {}, {}
    for cell in cells_idx:
        reasons = list(problems.get(str(cell), []))
        ictl = ic[cell]
        u = units.get(cell, "")
        if not has_ctrl[cell] or first_role[cell] != "control":
            reasons.append("no control period before the first drug application")
        elif not np.isfinite(ictl):
            reasons.append("no usable control sweeps")
        elif min_control_current is not None and abs(ictl) < min_control_current:
            reasons.append(f"control current |{ictl:.4g}| {u} < minimum {min_control_current:g}")
        r = rate[cell]
        if max_rundown_pct_per_min is not None and np.isfinite(r) and r > max_rundown_pct_per_min:
            reasons.append(f"run-down {r:.3g} %/min exceeds {max_rundown_pct_per_min:g} %/min")
        cell_status[cell] = "failed" if reasons else "ok"
        cell_reason[cell] = "; ".join(reasons)
    cells = periods
    cells["control_current"] = cells["cell"].map(ic).astype(float)
    cells["units"] = cells["cell"].map(units).fillna("") if len(units) else ""
    cells["rundown_pct_per_min"] = cells["cell"].map(rate).astype(float)
    cells["cell_status"] = cells["cell"].map(cell_status)
    cells["cell_reason"] = cells["cell"].map(cell_reason)
    notes: list[list[str]] = [[] for _ in range(len(cells))]
    for i, n_used in enumerate(cells["n_sweeps"].to_numpy()):
        if n_used == 0:
            notes[i].append("no usable sweeps in this period")
        elif n_used < n_ss:
            notes[i].append(f"only {n_used} of {n_ss} steady-state sweeps")

    # fractional current and run-down correction
    cells["raw_fraction"] = cells["current"] / cells["control_current"]
    factor = np.ones(len(cells))
    role = cells["role"].to_numpy()
    if rundown == "linear":
        a = cells["cell"].map(line_a).to_numpy(dtype=float)
        b = cells["cell"].map(line_b).to_numpy(dtype=float)
        t0 = cells["cell"].map(tc).to_numpy(dtype=float)
        te = cells["elapsed_s"].to_numpy(dtype=float)
        corr = role != "control"
        factor = np.where(corr, rundown_factor(te, t0, a, b), 1.0)
        for i in np.flatnonzero(corr & ~(np.isfinite(a) & np.isfinite(b))):
            notes[i].append("linear run-down correction needs >= 2 control sweeps")
    elif rundown == "vehicle":
        veh_ok = [c for c, st in cell_status.items() if st == "ok"
                  and str(cells.loc[cells["cell"] == c, "drug"].iloc[0]).casefold() == "vehicle"]
        vs = ok[ok["cell"].isin(veh_ok)][["cell", "condition", "elapsed_s", "value"]].copy()
        vs["ratio"] = vs["value"].astype(float) / vs["cell"].map(ic).astype(float)
        target = np.isin(role, ["drug", "washout"])
        for cond in cells.loc[target, "condition"].unique():
            rows = np.flatnonzero(target & (cells["condition"] == cond).to_numpy())
            times = cells["elapsed_s"].to_numpy(dtype=float)[rows]
            factor[rows] = vehicle_ratio(vs[vs["condition"] == cond], times)
            for i in rows[~np.isfinite(factor[rows])]:
                notes[i].append("no time-matched vehicle cell of this condition covers this time")
    cells["rundown_factor"] = factor
    cells["fraction"] = cells["raw_fraction"] / cells["rundown_factor"]
    cells["inhibition"] = 1.0 - cells["fraction"]

    status, reason = [], []
    for i, (cst, creason, frac, rl, n_used) in enumerate(cells[
        ["cell_status", "cell_reason", "fraction", "role", "n_sweeps"]
    ].itertuples(index=False)):
        msgs = notes[i]
        if cst != "ok":
            status.append("qc_failed")
            msgs = [creason, *msgs]
        elif (not np.isfinite(frac) and rl != "washout") or n_used == 0:
            status.append("failed")
        else:
            status.append("ok")
        reason.append("; ".join(m for m in msgs if m))
    cells["status"] = status
    cells["reason"] = reason
    cells = cells[[*CELL_COLUMNS, *opts]]
    return cells.sort_values(["drug", "condition", "cell", "segment_order"], kind="mergesort",
                             ignore_index=True)


# --------------------------------------------------------------------------- fitting


def _fit_points(rows: pd.DataFrame, model: str) -> pd.DataFrame:
    """Points a Hill fit uses: ok drug periods (and controls when the top is free)."""
    roles = {"drug"} if model == "LL.2" else {"drug", "control"}
    # QC-failed cells are still fitted on their own (reported, never pooled)
    pts = rows[rows["status"].isin(["ok", "qc_failed"]) & rows["role"].isin(roles)]
    return pts[np.isfinite(pts["fraction"]) & np.isfinite(pts["conc_um"])]


def _engine_fit(points: pd.DataFrame, model: str, level: float) -> Any:
    from nplab.doseresponse import fit as dr_fit  # the shared fitting engine

    # LL.2 fixes bottom 0 and top 1, LL.3 bottom 0 (drc's definitions; the engine's too)
    data = points[["conc_um", "fraction"]].reset_index(drop=True)
    return dr_fit(data, x="conc_um", y="fraction", model=model, level=level)


def _estimates(result: Any) -> dict[str, tuple[float, float, float, float]]:
    params = result.params
    out = {}
    for _, r in params.iterrows():
        out[str(r["parameter"])] = (
            float(r["estimate"]), float(r["se"]), float(r["ci_low"]), float(r["ci_high"]),
        )
    return out


def _blank_fit(**kw: Any) -> dict[str, Any]:
    row = dict.fromkeys(FIT_COLUMNS, math.nan)
    row.update({"cell": "", "success": False, "status": "", "reason": "", "ic50_in_range": False})
    row.update(kw)
    return row


def _fit_row(points: pd.DataFrame, model: str, conf: float, **keys: Any) -> tuple[dict, Any]:
    drug_pts = points[points["role"] == "drug"]
    concs = np.unique(drug_pts["conc_um"].to_numpy())
    n_par = len(MODELS[model])
    row = _blank_fit(
        model=model, n_points=len(points), n_concentrations=len(concs),
        conc_min_um=float(concs.min()) if concs.size else math.nan,
        conc_max_um=float(concs.max()) if concs.size else math.nan, **keys,
    )
    if len(points) <= n_par or len(concs) < 2:
        row.update(status="not_fitted",
                   reason=f"{len(points)} points at {len(concs)} drug concentrations: too few for "
                          f"{model} ({n_par} parameters; need > {n_par} points and >= 2 "
                          "concentrations)")
        return row, None
    try:
        res = _engine_fit(points, model, conf)
    except NplabError as exc:  # degenerate data (e.g. flat): a row, never an abort
        row.update(status="fit_failed", reason=str(exc))
        return row, None
    row["success"] = bool(res.success)
    if not res.success:
        row.update(status="fit_failed", reason=str(res.message))
        return row, res
    est = _estimates(res)
    ic50, se, lo, hi = est["ic50"]
    hill, hill_se, _, _ = est.get("hill", (math.nan,) * 4)
    df = float(res.df_resid)
    row.update(
        ic50_um=ic50, ic50_se_um=se, ic50_ci_low_um=lo, ic50_ci_high_um=hi,
        log10_ic50=math.log10(ic50) if ic50 > 0 else math.nan,
        log10_ic50_se=se / (ic50 * _LN10) if ic50 > 0 else math.nan,
        hill=hill, hill_se=hill_se,
        top=est["top"][0] if "top" in est else 1.0,
        **_log_ci(ic50, se, df, conf),
        bottom=est["bottom"][0] if "bottom" in est else 0.0,
        residual_se=float(res.residual_se), df_resid=df,
        ic50_in_range=bool(row["conc_min_um"] <= ic50 <= row["conc_max_um"]),
        status="ok",
    )
    if not row["ic50_in_range"]:
        row["reason"] = "IC50 outside the tested concentrations (extrapolated)"
    return row, res


def _log_ci(ic50: float, se: float, df: float, conf: float) -> dict[str, float]:
    """CI of the IC50 on the log scale: exp(ln IC50 ± t·se/IC50) (delta method on ln IC50)."""
    if not (ic50 > 0 and np.isfinite(se) and df > 0):
        return {"ic50_logci_low_um": math.nan, "ic50_logci_high_um": math.nan}
    half = float(t_ppf(0.5 + conf / 2.0, df)) * se / ic50
    return {"ic50_logci_low_um": ic50 * math.exp(-half), "ic50_logci_high_um": ic50 * math.exp(half)}


def _mean_log_row(cell_rows: list[dict], conf: float, model: str, **keys: Any) -> dict:
    good = [r for r in cell_rows if r["status"] == "ok" and r.get("_cell_ok", False)
            and np.isfinite(r["log10_ic50"])]
    logs = np.array([r["log10_ic50"] for r in good])
    hills = np.array([r["hill"] for r in good])
    n = logs.size
    row = _blank_fit(model=model, n_cells=n, n_points=int(sum(r["n_points"] for r in good)),
                     **keys)
    if n == 0:
        row.update(status="not_fitted", reason="no cell passing QC with a successful fit")
        return row
    mean = float(logs.mean())
    sd = float(logs.std(ddof=1)) if n > 1 else math.nan
    sem = sd / math.sqrt(n) if n > 1 else math.nan
    t = float(t_ppf(0.5 + conf / 2.0, n - 1)) if n > 1 else math.nan
    all_concs = [c for r in good for c in (r["conc_min_um"], r["conc_max_um"])]
    row.update(
        ic50_um=10.0 ** mean, log10_ic50=mean, log10_ic50_se=sem, log10_ic50_sd=sd,
        ic50_ci_low_um=10.0 ** (mean - t * sem) if n > 1 else math.nan,
        ic50_ci_high_um=10.0 ** (mean + t * sem) if n > 1 else math.nan,
        ic50_logci_low_um=10.0 ** (mean - t * sem) if n > 1 else math.nan,
        ic50_logci_high_um=10.0 ** (mean + t * sem) if n > 1 else math.nan,
        hill=float(hills.mean()),
        hill_se=float(hills.std(ddof=1) / math.sqrt(n)) if n > 1 else math.nan,
        df_resid=float(n - 1), success=True, status="ok",
        conc_min_um=float(min(all_concs)), conc_max_um=float(max(all_concs)),
        n_concentrations=len({c for r in good for c in r["_concs"]}),
        top=float(np.mean([r["top"] for r in good])),
        bottom=float(np.mean([r["bottom"] for r in good])),
    )
    row["ic50_in_range"] = bool(row["conc_min_um"] <= row["ic50_um"] <= row["conc_max_um"])
    if n == 1:
        row["reason"] = "only one cell: no SEM or CI"
    return row


def fit_cells(
    cells: pd.DataFrame, *, model: str = "LL.2", confidence_level: float = 0.95
) -> tuple[pd.DataFrame, dict[tuple[str, str, str, str], Any]]:
    """Per-cell and pooled Hill fits of the fractional current.

    Parameters
    ----------
    cells
        Output of :func:`fractional_current`.
    model
        ``"LL.2"`` (top 1, bottom 0: ``I/Ictl = 1/(1 + (x/IC50)^h)``), ``"LL.3"``
        (free top) or ``"LL.4"`` (free top and bottom).  With a free top the control
        periods (x = 0, fraction 1) are fitted too; with LL.2 they carry no information
        and are left out.  Vehicle cells (drug ``vehicle``) get no fit rows.
    confidence_level
        Level of the pooled mean-log CI (per-cell and global CIs come from the engine).

    Returns
    -------
    fits, models
        ``fits`` (:data:`FIT_COLUMNS`), one row per cell (``level = "cell"``) and two
        pooled rows per drug × condition: ``pooled_mean_log`` (mean ± SEM of log10
        IC50 over cells passing QC with a successful fit; ``ic50_um`` = 10^mean, the
        geometric mean; CI = 10^(mean ± t(n−1)·SEM)) and ``pooled_global`` (one fit to
        all points of those cells).  IC50 columns are in µM; per-cell and global CIs
        ``ic50_ci_*`` are the engine's Wald intervals (drc ``confint``/``ED(interval =
        "delta")``), ``ic50_logci_*`` the always-positive intervals on the log scale,
        exp(ln IC50 ± t·se/IC50); ``log10_ic50_se`` by the delta method, se/(IC50·ln 10).
        For ``pooled_mean_log`` both CI pairs are 10^(mean ± t(n−1)·SEM).  QC-failed cells are fitted (status ``ok`` and
        ``reason`` "cell failed QC: ...") but never pooled.  ``models`` maps
        ``(drug, condition, level, cell)`` to the engine's fit objects.
    """
    if model not in MODELS:
        raise InputError(f"unknown model {model!r}", column="ic50_model",
                         expected=f"one of {', '.join(MODELS)}")
    rows: list[dict] = []
    fitted: dict[tuple[str, str, str, str], Any] = {}
    usable = cells[cells["role"].isin(["drug", "control"])]
    for (drug, cond), grp in usable.groupby(["drug", "condition"], sort=True):
        if str(drug).casefold() in NO_DRUG:
            continue  # time-matched vehicle cells: no concentration-response to fit
        cell_rows = []
        for cell, g in grp.groupby("cell", sort=True):
            pts = _fit_points(g, model)
            row, res = _fit_row(pts, model, confidence_level, drug=drug, condition=cond,
                                level="cell", cell=str(cell), n_cells=1)
            if row["status"] == "not_fitted":
                # say why periods were unusable (e.g. no time-matched vehicle cell)
                why = [r for r in dict.fromkeys(g.loc[g["role"] == "drug", "reason"].astype(str))
                       if r and r != "nan"]
                if why:
                    row["reason"] = "; ".join([row["reason"], *why])
            cell_ok = g["cell_status"].iloc[0] == "ok"
            if not cell_ok:
                why = g["cell_reason"].iloc[0]
                row["reason"] = "; ".join(x for x in (f"cell failed QC: {why}", row["reason"]) if x)
            row["_cell_ok"] = cell_ok
            row["_concs"] = set(pts.loc[pts["role"] == "drug", "conc_um"].tolist())
            cell_rows.append(row)
            if res is not None:
                fitted[(drug, cond, "cell", str(cell))] = res
        rows.extend(cell_rows)
        rows.append(_mean_log_row(cell_rows, confidence_level, model, drug=drug, condition=cond,
                                  level="pooled_mean_log"))
        ok_cells = grp[grp["cell_status"] == "ok"]
        pts = _fit_points(ok_cells, model)
        row, res = _fit_row(pts, model, confidence_level, drug=drug, condition=cond,
                            level="pooled_global", n_cells=int(ok_cells["cell"].nunique()))
        rows.append(row)
        if res is not None:
            fitted[(drug, cond, "pooled_global", "")] = res
    fits = pd.DataFrame(rows, columns=[*FIT_COLUMNS, "_cell_ok", "_concs"])
    fits = fits[list(FIT_COLUMNS)]
    fits["n_cells"] = fits["n_cells"].fillna(0).astype(int)
    for c in ("n_points", "n_concentrations"):
        fits[c] = fits[c].fillna(0).astype(int)
    fits["success"] = fits["success"].astype(bool)
    fits["ic50_in_range"] = fits["ic50_in_range"].astype(bool)
    order = {"cell": 0, "pooled_mean_log": 1, "pooled_global": 2}
    fits = fits.assign(_o=fits["level"].map(order)).sort_values(
        ["drug", "condition", "_o", "cell"], kind="mergesort").drop(columns="_o")
    return fits.reset_index(drop=True), fitted


# --------------------------------------------------------------------------- driver


@dataclass
class IC50Result:
    """Result of :func:`ic50`.

    Attributes
    ----------
    cells
        Cell × concentration table (:func:`fractional_current`).
    fits
        Per-cell and pooled fits (:func:`fit_cells`).
    sweeps
        The per-sweep rows with their cell, concentration and period.
    references
        Fitted pooled IC50s beside the published values
        (:func:`nplab.ephys.references.compare_to_references`), or ``None``.
    state
        Resting and inactivated-state affinities (:func:`nplab.ephys.state.state_table`)
        when the experiment gives the available fraction ``h`` of two conditions, else
        ``None``.
    models
        Engine fit objects keyed by ``(drug, condition, level, cell)``.
    parameters
        The analysis parameters used (with several conditions:
        ``{"conditions": {condition: parameters}}``).
    protocol
        The protocol, when all conditions used the same one.
    protocols
        The protocol of each condition (``None`` where there was none).
    """

    cells: pd.DataFrame
    fits: pd.DataFrame
    sweeps: pd.DataFrame
    references: pd.DataFrame | None = None
    state: pd.DataFrame | None = None
    models: dict[tuple[str, str, str, str], Any] = field(default_factory=dict)
    parameters: dict[str, Any] = field(default_factory=dict)
    protocol: Protocol | None = None
    protocols: dict[str, Protocol | None] = field(default_factory=dict)


def _file_start_times(
    experiment: pd.DataFrame, base: Path | None, failed_files: set[str] | frozenset[str] = frozenset()
) -> pd.DataFrame:
    """Fill ``start_s`` from the ABF headers' recording times (relative per cell).

    Needed for run-down correction across files (one file per concentration).  A file
    whose header reads but has no valid start time is an :class:`InputError` asking
    for ``start_s`` in the experiment table.  A file in ``failed_files`` (every row of it
    failed in the per-sweep table, e.g. unreadable) gets a blank start instead: it has
    no measurement to correct, and one bad file must not abort the batch.
    """
    import pyabf

    exp = experiment.copy()
    starts = []
    for i, f in enumerate(exp["file"]):
        p = Path(f) if base is None or Path(f).is_absolute() else base / f
        try:
            when = pyabf.ABF(str(p), loadData=False).abfDateTime
            ok = when.year >= 1980  # pyabf gives 1970/1900 dates for unset headers
        except Exception:  # unreadable header
            ok = False
        if not ok and f in failed_files:
            starts.append(math.nan)
            continue
        if not ok:
            raise InputError(
                "no valid recording start time in the file header, needed for run-down "
                f"correction across the files of cell '{exp['cell'].iloc[i]}'",
                file=experiment.attrs.get("source"), row=row_number(i), column="start_s",
                expected="a start_s column (s from the start of the cell's recording)",
            )
        starts.append(when.timestamp())
    exp["start_s"] = starts
    exp["start_s"] = exp["start_s"] - exp.groupby("cell")["start_s"].transform("min")
    return exp


def ic50(
    experiment: pd.DataFrame | str | os.PathLike[str],
    per_sweep: pd.DataFrame | None = None,
    protocol: str | os.PathLike[str] | Protocol | None = None,
    *,
    measure: str | None = None,
    channel: int | None = None,
    model: str | None = None,
    steady_state_sweeps: int | None = None,
    rundown: str | None = None,
    min_control_current: float | None = None,
    max_rundown_pct_per_min: float | None = None,
    confidence_level: float | None = None,
    qc: pd.DataFrame | None = None,
    references: bool | str | os.PathLike[str] | pd.DataFrame = True,
    h: Mapping[str, float] | None = None,
    measure_kwargs: Mapping[str, Any] | None = None,
    measure_func: Callable[..., pd.DataFrame] | None = None,
) -> IC50Result:
    """Per-cell and pooled IC50s of a patch-clamp concentration–response experiment.

    Parameters
    ----------
    experiment
        Experiment table (DataFrame or path to CSV/Excel) with ``cell, file, drug,
        conc_um, holding_mv, condition`` (see :mod:`nplab.ephys.concentrations`).
    per_sweep
        Per-sweep table of :func:`nplab.ephys.measure`.  When ``None`` the listed files
        (relative to the experiment table's folder) are measured with ``protocol``.
    protocol
        ``patchclamp`` protocol (name, path or loaded) for measuring and for the
        analysis defaults (``steady_state_sweeps``; ``ic50_model``,
        ``rundown_correction``, ``confidence_level`` when the schema has them; cell QC
        by :func:`nplab.ephys.qc_cells` with its ``qc_*`` thresholds).  ``None``
        (default): per condition, the experiment's ``protocol`` column, else the
        condition's name when it is a protocol name (``patchclamp-nav-resting``,
        ``patchclamp-nav-inactivated``, ``patchclamp-herg``), else
        :data:`IC50_DEFAULTS` without protocol QC.
    measure, channel
        Which measurement / channel of the per-sweep table to use if it has several.
    model, steady_state_sweeps, rundown, confidence_level
        Override the protocol's values (``ic50_model``, ``steady_state_sweeps``,
        ``rundown_correction``, ``confidence_level``).
    min_control_current, max_rundown_pct_per_min
        Extra cell QC thresholds of :func:`fractional_current` (recorded units; %/min),
        on top of the protocol's ``qc_*`` thresholds applied by ``qc_cells``.
    qc
        Per-cell or per-file QC table (``cell`` or ``file``, ``qc_pass`` or ``status``,
        ``reason``) used instead of :func:`nplab.ephys.qc_cells` with the protocol.
    references
        ``True``: compare pooled IC50s with ``protocols/references/<drug>.toml`` when
        such a file exists; a path or DataFrame: use that reference table; ``False``:
        skip.  Each drug × condition is matched by the experiment's ``target`` column,
        or else by its protocol's ``target`` parameter.
    h
        Fraction of available (resting) channels per condition, e.g.
        ``{"-120 mV": 1.0, "V1/2": 0.5}``; overrides an ``h`` column of the experiment.
        With two conditions of different ``h`` the resting (K_R) and inactivated (K_I)
        affinities are computed.
    measure_kwargs, measure_func
        Passed to / replacing :func:`nplab.ephys.measure` when ``per_sweep`` is None.

    Returns
    -------
    IC50Result
    """
    source = None
    if not isinstance(experiment, pd.DataFrame):
        source = Path(experiment)
        exp = read_experiment(str(experiment))
    else:
        exp = validate_experiment(experiment)
    base = source.parent if source is not None else None
    protos = _condition_protocols(exp, protocol, source)
    params_by: dict[str, dict[str, Any]] = {}
    for cond, proto in protos.items():
        params_by[cond] = {
            "protocol": proto.label if proto is not None else None,
            "steady_state_sweeps": int(_param(proto, "steady_state_sweeps", steady_state_sweeps)),
            "ic50_model": _param(proto, "ic50_model", model),
            "rundown_correction": _param(proto, "rundown_correction", rundown),
            "min_control_current": min_control_current,
            "max_rundown_pct_per_min": max_rundown_pct_per_min,
            "confidence_level": float(_param(proto, "confidence_level", confidence_level)),
        }
    if per_sweep is None:
        per_sweep = _measure_files(exp, protos, base, measure_func, measure_kwargs)
    else:
        require_columns(per_sweep, ("file", "sweep", "time_s", "value", "status"),
                        file=per_sweep.attrs.get("source"))
        per_sweep = _align_files(per_sweep, exp, base)
    needs_times = any(p["rundown_correction"] != "none" for p in params_by.values())
    multi_file_cells = exp.groupby("cell")["file"].nunique().gt(1).any()
    if ("start_s" not in exp or exp["start_s"].isna().any()) and multi_file_cells and needs_times:
        if "start_s" in exp and exp["start_s"].notna().any():
            raise InputError("start_s is blank for some files", file=source, column="start_s",
                             expected="a start time for every file, or none at all")
        status = per_sweep.assign(_f=per_sweep["file"].astype(str))
        ok_files = set(status.loc[status["status"] == "ok", "_f"])
        failed = set(status["_f"]) - ok_files
        exp = _file_start_times(exp, base, failed)
    sweep_parts, cell_parts, fit_parts, models = [], [], [], {}
    for cond, proto in protos.items():
        pc = params_by[cond]
        exp_c = exp[exp["condition"] == cond]
        exp_c.attrs["source"] = exp.attrs.get("source")
        ps_c = per_sweep[per_sweep["file"].astype(str).isin(set(exp_c["file"]))]
        sw = assign_concentrations(ps_c, exp_c, measure=measure, channel=channel)
        qc_c = qc if qc is not None else (_protocol_qc(sw, exp_c, proto) if proto is not None
                                          else None)
        cells_c = fractional_current(
            sw,
            steady_state_sweeps=pc["steady_state_sweeps"],
            rundown=pc["rundown_correction"],
            min_control_current=pc["min_control_current"],
            max_rundown_pct_per_min=pc["max_rundown_pct_per_min"],
            qc=qc_c,
        )
        fits_c, models_c = fit_cells(cells_c, model=pc["ic50_model"],
                                     confidence_level=pc["confidence_level"])
        sweep_parts.append(sw)
        cell_parts.append(cells_c)
        fit_parts.append(fits_c)
        models.update(models_c)
    sweeps = pd.concat(sweep_parts, ignore_index=True)
    cells = pd.concat(cell_parts, ignore_index=True).sort_values(
        ["drug", "condition", "cell", "segment_order"], kind="mergesort", ignore_index=True)
    fits = pd.concat(fit_parts, ignore_index=True)
    order = {"cell": 0, "pooled_mean_log": 1, "pooled_global": 2}
    fits = fits.assign(_o=fits["level"].map(order)).sort_values(
        ["drug", "condition", "_o", "cell"], kind="mergesort").drop(columns="_o")
    fits = fits.reset_index(drop=True)
    params = params_by[next(iter(params_by))] if len(params_by) == 1 else {
        "conditions": params_by}
    proto = next(iter(protos.values())) if len(protos) == 1 else None
    state_table = None
    h_map = dict(h or {})
    if not h_map and "h" in cells:
        for cond, g in cells.groupby("condition"):
            vals = g["h"].dropna().unique()
            if len(vals) == 1:
                h_map[str(cond)] = float(vals[0])
    if len(h_map) >= 2:
        from nplab.ephys.state import state_table as _state_table

        state_table = _state_table(fits, h_map)
    ref_table = None
    if references is not False:
        from nplab.ephys.references import (
            compare_state_to_references,
            compare_to_references,
            load_references,
        )

        targets = _targets(cells, protos)
        if isinstance(references, pd.DataFrame):
            ref = references
        elif references is True:
            ref = load_references(sorted(set(fits["drug"])), missing="skip")
        else:
            ref = load_references(path=references)
        if ref is not None and len(ref):
            ref_table = compare_to_references(fits, ref, targets=targets, h=h_map)
            if state_table is not None and len(state_table):
                extra = compare_state_to_references(state_table, ref, targets=targets)
                if len(extra):
                    ref_table = pd.concat([ref_table, extra], ignore_index=True)
    return IC50Result(cells=cells, fits=fits, sweeps=sweeps, references=ref_table,
                      state=state_table, models=models, parameters=params, protocol=proto,
                      protocols=dict(protos))


def _condition_protocols(
    exp: pd.DataFrame, protocol: Any, source: Path | None
) -> dict[str, Protocol | None]:
    """The protocol of each condition, in order of first appearance.

    ``protocol`` given: every condition uses it.  Otherwise the experiment's optional
    ``protocol`` column, else the condition's own name when it names a ``patchclamp``
    protocol (e.g. ``patchclamp-herg``), else none (analysis defaults; recordings can
    then not be measured).
    """
    from nplab.errors import ProtocolError

    conds = list(dict.fromkeys(exp["condition"]))
    if protocol is not None:
        proto = load_protocol(protocol, kind="patchclamp")
        return dict.fromkeys(conds, proto)
    out: dict[str, Protocol | None] = {}
    for cond in conds:
        rows = exp[exp["condition"] == cond]
        names = [n for n in dict.fromkeys(rows["protocol"]) if n] if "protocol" in rows else []
        if len(names) > 1:
            raise InputError(f"condition '{cond}' lists several protocols: {names}", file=source,
                             column="protocol", expected="one protocol per condition")
        if names:
            out[cond] = load_protocol(names[0], kind="patchclamp")
            continue
        try:
            out[cond] = load_protocol(cond, kind="patchclamp") if cond else None
        except ProtocolError:
            out[cond] = None
    return out


def _align_files(per_sweep: pd.DataFrame, exp: pd.DataFrame, base: Path | None) -> pd.DataFrame:
    """Rename per-sweep ``file`` entries to the experiment's spelling of the same file.

    A per-sweep table made by ``nplab ephys measure DIR`` names files as measured (e.g.
    ``data/cell01_0003.abf``) while the experiment table may list ``cell01_0003.abf``
    relative to its own folder.  Entries are matched exactly, then by resolved path,
    then by file name when that name is unique on both sides.
    """
    want = list(dict.fromkeys(exp["file"]))
    have = list(dict.fromkeys(per_sweep["file"].astype(str)))
    if set(want) <= set(have):
        return per_sweep

    def resolved(f: str, root: Path | None) -> str:
        p = Path(f)
        if root is not None and not p.is_absolute():
            p = root / p
        try:
            return str(p.resolve())
        except OSError:
            return str(p)

    by_path = {resolved(h, None): h for h in have}
    names: dict[str, list[str]] = {}
    for h in have:
        names.setdefault(Path(h).name, []).append(h)
    want_names: dict[str, int] = {}
    for w in want:
        want_names[Path(w).name] = want_names.get(Path(w).name, 0) + 1
    rename: dict[str, str] = {}
    for w in want:
        if w in have:
            continue
        hit = by_path.get(resolved(w, base))
        if hit is None and len(names.get(Path(w).name, [])) == 1 and want_names[Path(w).name] == 1:
            hit = names[Path(w).name][0]
        if hit is not None:
            rename[hit] = w
    if not rename:
        return per_sweep
    out = per_sweep.copy()
    out["file"] = out["file"].astype(str).map(lambda f: rename.get(f, f))
    return out


def _measure_files(
    exp: pd.DataFrame,
    protos: Mapping[str, Protocol | None],
    base: Path | None,
    measure_func: Callable[..., pd.DataFrame] | None,
    measure_kwargs: Mapping[str, Any] | None,
) -> pd.DataFrame:
    """Measure the experiment's recordings, each condition with its protocol."""
    if measure_func is None:
        from nplab.ephys import measure as measure_func  # type: ignore[no-redef]
    parts = []
    for cond, proto in protos.items():
        files = list(dict.fromkeys(exp.loc[exp["condition"] == cond, "file"]))
        if proto is None:
            raise InputError(f"no protocol to measure the recordings of condition '{cond}'",
                             file=exp.attrs.get("source"), column="protocol",
                             expected="--protocol, a 'protocol' column, or a condition named "
                                      "after a patchclamp protocol")
        paths = [str(base / f) if base is not None and not Path(f).is_absolute() else f
                 for f in files]
        ps = measure_func(paths, proto, **dict(measure_kwargs or {})).copy()
        back = dict(zip(paths, files, strict=True))
        ps["file"] = ps["file"].astype(str).map(lambda p, b=back: b.get(p, p))
        parts.append(ps)
    return pd.concat(parts, ignore_index=True)


def _protocol_qc(sweeps: pd.DataFrame, exp: pd.DataFrame, proto: Protocol) -> pd.DataFrame:
    """Cell QC of :func:`nplab.ephys.qc_cells` with the protocol's ``qc_*`` thresholds.

    Files whose concentrations come from tags are passed as control files (their control
    is the period before the first tag).
    """
    from nplab.ephys.qc import qc_cells

    files = exp.groupby("file", sort=False).agg(
        cell=("cell", "first"), conc_um=("conc_um", "first"), tagged=("tag", lambda t: (t != "").any())
    ).reset_index()
    tagged = files["tagged"] | files["conc_um"].isna()
    files.loc[tagged, "conc_um"] = 0.0
    cols = [c for c in sweeps.columns if c in {
        "file", "sweep", "time_s", "channel", "measure", "value", "baseline", "units", "tag",
        "tag_index", "ra_mohm", "rm_mohm", "cm_pf", "holding_pa", "status", "reason"}]
    ps = sweeps[cols].sort_values(["file", "sweep"], kind="mergesort").reset_index(drop=True)
    return qc_cells(ps, proto, experiment=files[["cell", "file", "conc_um"]])


def _targets(
    cells: pd.DataFrame, protos: Mapping[str, Protocol | None] | None = None
) -> dict[tuple[str, str], str]:
    """Reference target of each drug × condition.

    From the experiment's ``target`` column; where that is absent or blank, the
    ``target`` parameter of the condition's protocol (e.g. ``hERG`` for
    ``patchclamp-herg``), so that a plain experiment table is still compared with the
    published values.
    """
    out: dict[tuple[str, str], str] = {}
    for (drug, cond), g in cells.groupby(["drug", "condition"]):
        vals = ([str(v) for v in g["target"].dropna().unique() if str(v).strip()]
                if "target" in g else [])
        if not vals:
            proto = (protos or {}).get(str(cond))
            t = proto.get("target") if proto is not None else None
            vals = [str(t)] if t is not None and str(t).strip() else []
        if vals:
            out[(str(drug), str(cond))] = vals[0]
    return out
