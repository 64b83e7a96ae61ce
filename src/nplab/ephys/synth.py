"""Synthetic whole-cell recordings with known truth, written as ABF1 files.

Each sweep is the response of a passive cell (access resistance Ra in series with
Rm ‖ Cm; exact step responses of that RC circuit, so the membrane test recovers Ra,
Rm, Cm) plus a voltage-gated current plus Gaussian noise:

* **Na current** (Nav1.7 / DRG): Hodgkin–Huxley form
  I = g·m(t)³·h(t)·(V − E_Na), m = 1 − exp(−t/τm), h = exp(−t/τh) during the test
  pulse (Hodgkin AL, Huxley AF 1952, J Physiol 117:500–544).
* **hERG tail**: at the repolarising step the current recovers from inactivation
  (τ_rec) and deactivates (τ_deact): I = g·(V − E_K)·(1 − exp(−t/τ_rec))·exp(−t/τ_deact).

Drug block is a Hill equation of the unblocked fraction,
f = 1 / (1 + ([D]/IC50)^nH), with the apparent IC50 of a state-dependent blocker
from 1/K_app = h/K_R + (1 − h)/K_I (Bean BP, Cohen CJ, Tsien RW 1983, J Gen Physiol
81:613–642; Kuo CC, Bean BP 1994, Mol Pharmacol 46:716–725); h = 1 at −120 mV and
h = 0.5 at V½.  Reference values for amitriptyline: Nav1.7 inactivated-state
0.24 µM, rat DRG Na (resting) 20 µM, hERG 4.78 µM, Kv7.2/7.3 10 µM (the project's
technical guide; see protocols/ reference table).  Run-down is a linear loss of
conductance in %/min; wash-in approaches the new block exponentially.

Everything is deterministic for a given seed (:func:`nplab.provenance.rng`).
"""

from __future__ import annotations

import datetime as _dt
import os
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from nplab.ephys.abfwrite import EpochSpec, write_abf1
from nplab.provenance import DEFAULT_SEED, rng

__all__ = [
    "REFERENCE_IC50_UM",
    "Cell",
    "ProtocolShape",
    "apparent_ic50",
    "fraction_unblocked",
    "make_sample_recordings",
    "sweep_currents",
    "write_concentration_file",
    "write_washin_file",
]

#: Reference IC50s (µM) of amitriptyline used as truth.
REFERENCE_IC50_UM = {
    "nav_resting": 20.0,  # rat DRG Na currents (tonic)
    "nav_inactivated": 0.24,  # Nav1.7 inactivated state
    "herg": 4.78,
    "kv7": 10.0,
}


def apparent_ic50(k_r: float, k_i: float, h: float) -> float:
    """K_app from 1/K_app = h/K_R + (1 − h)/K_I (Bean et al. 1983)."""
    return 1.0 / (h / k_r + (1.0 - h) / k_i)


def fraction_unblocked(conc_um: float | np.ndarray, ic50_um: float, hill: float = 1.0):
    """Hill equation: 1 / (1 + (C/IC50)^nH)."""
    c = np.asarray(conc_um, dtype=float)
    return 1.0 / (1.0 + (c / ic50_um) ** hill)


@dataclass(frozen=True)
class Cell:
    """Passive and active properties of one synthetic cell.

    ``g_ns`` is the maximal conductance of the voltage-gated current (nS);
    ``ra_drift_pct`` the change of Ra over the whole recording (linear in time).
    """

    name: str
    ra_mohm: float = 6.0
    rm_mohm: float = 1000.0
    cm_pf: float = 16.0
    e_leak_mv: float = 0.0
    g_ns: float = 40.0
    rundown_pct_per_min: float = 0.3
    ra_drift_pct: float = 0.0
    noise_pa: float = 5.0


@dataclass(frozen=True)
class ProtocolShape:
    """Step protocol of a synthetic recording (mirrors a shipped patchclamp protocol)."""

    name: str
    kind: str  # "nav" or "herg"
    sample_rate: int
    points: int
    holding_mv: float
    epochs: tuple[EpochSpec, ...]
    test_epoch: int  # index of the epoch with the test pulse (nav) or tail (herg)
    interval_s: float
    h: float = 1.0  # availability at the holding potential (Bean h)


NAV_RESTING = ProtocolShape(
    "patchclamp-nav-resting",
    "nav",
    50000,
    3000,
    -120.0,
    (
        EpochSpec("Step", -120.0, 500),
        EpochSpec("Step", -130.0, 500),
        EpochSpec("Step", -120.0, 500),
        EpochSpec("Step", 0.0, 1000),
    ),
    3,
    10.0,
    h=1.0,
)
NAV_INACTIVATED = ProtocolShape(
    "patchclamp-nav-inactivated",
    "nav",
    50000,
    3750,
    -70.0,
    (
        EpochSpec("Step", -70.0, 500),
        EpochSpec("Step", -80.0, 500),
        EpochSpec("Step", -70.0, 500),
        EpochSpec("Step", -120.0, 1000),
        EpochSpec("Step", 0.0, 1000),
    ),
    4,
    10.0,
    h=0.5,
)
HERG = ProtocolShape(
    "patchclamp-herg",
    "herg",
    5000,
    6500,
    -80.0,
    (
        EpochSpec("Step", -80.0, 500),
        EpochSpec("Step", -90.0, 250),
        EpochSpec("Step", -80.0, 250),
        EpochSpec("Step", 20.0, 2500),
        EpochSpec("Step", -50.0, 2500),
    ),
    4,
    15.0,
)
SHAPES = {s.name: s for s in (NAV_RESTING, NAV_INACTIVATED, HERG)}

E_NA_MV = 60.0
E_K_MV = -90.0
TAU_M_MS, TAU_H_MS = 0.5, 2.0
TAU_REC_MS, TAU_DEACT_MS = 6.0, 300.0


def _command(shape: ProtocolShape) -> tuple[np.ndarray, list[tuple[int, float]]]:
    """Command voltage per sample and the (sample, ΔV) of every transition."""
    v = np.full(shape.points, shape.holding_mv)
    pos = shape.points // 64
    for ep in shape.epochs:
        v[pos : pos + ep.duration] = ep.level
        pos += ep.duration
    v[pos:] = shape.holding_mv
    jumps = [(int(k), float(v[k] - v[k - 1])) for k in np.nonzero(np.diff(v))[0] + 1]
    return v, jumps


def _epoch_start(shape: ProtocolShape, index: int) -> int:
    return shape.points // 64 + sum(ep.duration for ep in shape.epochs[:index])


def sweep_currents(
    shape: ProtocolShape,
    cell: Cell,
    scale: np.ndarray,
    ra_mohm: np.ndarray,
    noise: np.random.Generator | None,
) -> np.ndarray:
    """Currents (pA), one row per sweep.

    ``scale`` is, per sweep, the fraction of the voltage-gated conductance present
    (run-down × unblocked fraction); ``ra_mohm`` the access resistance per sweep.
    """
    n = shape.points
    dt = 1.0 / shape.sample_rate
    t = np.arange(n) * dt
    v, jumps = _command(shape)
    out = np.empty((len(scale), n))
    test0 = _epoch_start(shape, shape.test_epoch)
    tt = (np.arange(n) - test0) * dt * 1000.0  # ms from test/tail onset
    on = tt >= 0
    if shape.kind == "nav":
        end = test0 + shape.epochs[shape.test_epoch].duration
        gate = np.where(on, (1 - np.exp(-np.where(on, tt, 0) / TAU_M_MS)) ** 3 * np.exp(-np.where(on, tt, 0) / TAU_H_MS), 0.0)
        gate[end:] = 0.0
        active = gate * (v - E_NA_MV)  # per nS: pA
    else:
        end = test0 + shape.epochs[shape.test_epoch].duration
        x = np.where(on, tt, 0)
        gate = np.where(on, (1 - np.exp(-x / TAU_REC_MS)) * np.exp(-x / TAU_DEACT_MS), 0.0)
        gate[end:] = 0.0
        # small outward current during the depolarising step (mostly inactivated)
        d0 = _epoch_start(shape, shape.test_epoch - 1)
        y = (np.arange(n) - d0) * dt * 1000.0
        during = (y >= 0) & (np.arange(n) < test0)
        gate = gate + np.where(during, 0.08 * (1 - np.exp(-np.where(during, y, 0) / 50.0)), 0.0)
        active = gate * (v - E_K_MV)
    for s, (f, ra) in enumerate(zip(scale, ra_mohm, strict=True)):
        rt = ra + cell.rm_mohm
        tau = ra * cell.rm_mohm / rt * cell.cm_pf * 1e-6  # MΩ·pF = µs -> s
        i = np.full(n, (shape.holding_mv - cell.e_leak_mv) / rt * 1000.0)
        for k, dv in jumps:
            seg = t[k:] - t[k]
            i[k:] += dv / rt * 1000.0 + dv * 1000.0 * (1.0 / ra - 1.0 / rt) * np.exp(-seg / tau)
        i += cell.g_ns * f * active
        if noise is not None and cell.noise_pa > 0:
            i += noise.normal(0.0, cell.noise_pa, size=n)
        out[s] = i
    return out


def _write(path, shape, cell, scale, ra, gen, *, tags=(), start):
    data = sweep_currents(shape, cell, np.asarray(scale), np.asarray(ra), gen)
    return write_abf1(
        path,
        data,
        shape.sample_rate,
        units="pA",
        channel_names=["Im"],
        epochs=shape.epochs,
        holding=shape.holding_mv,
        sweep_interval_s=shape.interval_s,
        tags=tags,
        lsb=0.05 if shape.kind == "nav" else 0.02,
        protocol=f"C:\\protocols\\{shape.name}.pro",
        comment=f"nplab synthetic: {cell.name}",
        start=start,
    )


def write_concentration_file(
    path: str | os.PathLike[str],
    shape: ProtocolShape,
    cell: Cell,
    conc_um: float,
    ic50_um: float,
    *,
    hill: float = 1.0,
    sweeps: int = 8,
    elapsed_s: float = 0.0,
    total_s: float = 600.0,
    seed: int = DEFAULT_SEED,
    start: _dt.datetime | None = None,
) -> Path:
    """One file at one concentration (steady-state block), recorded ``elapsed_s`` after
    the cell's first sweep (run-down and Ra drift continue across files)."""
    times = elapsed_s + np.arange(sweeps) * shape.interval_s
    rundown = 1.0 - cell.rundown_pct_per_min / 100.0 * times / 60.0
    scale = rundown * fraction_unblocked(conc_um, ic50_um, hill)
    ra = cell.ra_mohm * (1.0 + cell.ra_drift_pct / 100.0 * times / total_s)
    base = start or _dt.datetime(2026, 1, 5, 10, 0, 0)
    return _write(path, shape, cell, scale, ra, rng(seed), start=base + _dt.timedelta(seconds=elapsed_s))


def write_washin_file(
    path: str | os.PathLike[str],
    shape: ProtocolShape,
    cell: Cell,
    concentrations_um: Sequence[float],
    ic50_um: float,
    *,
    hill: float = 1.0,
    sweeps_per_step: int = 10,
    tau_on_s: float = 15.0,
    drug: str = "amitriptyline",
    seed: int = DEFAULT_SEED,
) -> tuple[Path, list[tuple[float, str]]]:
    """One long file: control, then cumulative concentrations marked by comment tags
    ("+amitriptyline 3 uM") placed 1 s before the first sweep of each period; block
    approaches its steady state with time constant ``tau_on_s``."""
    n = sweeps_per_step * (len(concentrations_um) + 1)
    times = np.arange(n) * shape.interval_s
    levels = [0.0, *concentrations_um]
    f_target = fraction_unblocked(np.asarray(levels), ic50_um, hill)
    frac = np.empty(n)
    tags = []
    f_now = 1.0
    for k, lev in enumerate(levels):
        t0 = k * sweeps_per_step * shape.interval_s
        if k:
            tags.append((t0 - 1.0, f"+{drug} {lev:g} uM"))
        f_start = f_now
        for j in range(sweeps_per_step):
            s = k * sweeps_per_step + j
            dt = times[s] - (t0 - 1.0) if k else np.inf
            frac[s] = f_target[k] + (f_start - f_target[k]) * np.exp(-dt / tau_on_s)
        f_now = frac[k * sweeps_per_step + sweeps_per_step - 1]
    rundown = 1.0 - cell.rundown_pct_per_min / 100.0 * times / 60.0
    ra = cell.ra_mohm * (1.0 + cell.ra_drift_pct / 100.0 * times / times[-1])
    out = _write(
        path,
        shape,
        cell,
        rundown * frac,
        ra,
        rng(seed),
        tags=tags,
        start=_dt.datetime(2026, 1, 6, 9, 0, 0),
    )
    return out, tags


def make_sample_recordings(
    outdir: str | os.PathLike[str], *, seed: int = DEFAULT_SEED, drug: str = "amitriptyline"
) -> pd.DataFrame:
    """Write the sample recordings into ``outdir`` and return their truth table.

    Layout B (one file per concentration): Nav resting block (4 cells, the last with
    Ra rising 40% so it fails QC), Nav inactivated-state block at V½ (3 cells) and
    hERG tails (3 cells); layout A: one tagged wash-in file (Nav resting).

    Returns
    -------
    pandas.DataFrame
        One row per file: ``cell``, ``file`` (name within ``outdir``), ``drug``,
        ``conc_um``, ``holding_mv``, ``condition`` (protocol name), ``target``,
        ``layout`` (``per-file`` / ``wash-in``), ``elapsed_s``, ``true_ic50_um``
        (apparent IC50 under this protocol), ``true_hill``, ``k_r_um``, ``k_i_um``,
        ``h``, ``fraction_unblocked``, ``rundown_pct_per_min``, ``ra_mohm``,
        ``rm_mohm``, ``cm_pf``, ``ra_drift_pct``, ``qc_expected`` (pass/fail), ``tags``.
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    k_r, k_i = REFERENCE_IC50_UM["nav_resting"], REFERENCE_IC50_UM["nav_inactivated"]
    plans = [
        (NAV_RESTING, "Nav1.7/DRG Na", (0.0, 3.0, 10.0, 30.0, 100.0), apparent_ic50(k_r, k_i, 1.0), 4),
        (NAV_INACTIVATED, "Nav1.7", (0.0, 0.1, 0.3, 1.0, 3.0), apparent_ic50(k_r, k_i, 0.5), 3),
        (HERG, "hERG", (0.0, 1.0, 3.0, 10.0, 30.0), REFERENCE_IC50_UM["herg"], 3),
    ]
    rows = []
    counter = 0
    for shape, target, concs, ic50, n_cells in plans:
        prefix = {"nav": "nav", "herg": "herg"}[shape.kind]
        tag = "rest" if shape is NAV_RESTING else ("inact" if shape is NAV_INACTIVATED else "")
        for c in range(n_cells):
            name = f"{prefix}{tag}-cell{c + 1:02d}"
            cell = Cell(
                name,
                ra_mohm=6.0 + 0.5 * c,
                cm_pf=16.0 + 2.0 * c,
                g_ns=(30.0 + 5.0 * c) if shape.kind == "nav" else (10.0 + 2.0 * c),
                noise_pa=2.0 if shape.kind == "nav" else 1.5,
                ra_drift_pct=40.0 if (shape is NAV_RESTING and c == n_cells - 1) else 5.0,
            )
            per_file = 10 if shape.kind == "nav" else 8
            step_s = 120.0
            total = step_s * len(concs)
            for j, conc in enumerate(concs):
                counter += 1
                fname = f"{name}_{j:04d}.abf"
                write_concentration_file(
                    out / fname,
                    shape,
                    cell,
                    conc,
                    ic50,
                    sweeps=per_file,
                    elapsed_s=j * step_s,
                    total_s=total,
                    seed=seed + counter,
                )
                rows.append(
                    _truth_row(cell, fname, drug, conc, shape, target, "per-file", j * step_s, ic50, k_r, k_i, "")
                )
    # layout A: tagged wash-in, Nav resting
    cell = Cell(
        "navrest-washin01", ra_mohm=6.5, cm_pf=18.0, g_ns=35.0, ra_drift_pct=5.0, noise_pa=2.0
    )
    concs = (3.0, 10.0, 30.0, 100.0)
    counter += 1
    path, tags = write_washin_file(
        out / "navrest-washin01_0000.abf",
        NAV_RESTING,
        cell,
        concs,
        REFERENCE_IC50_UM["nav_resting"],
        drug=drug,
        seed=seed + counter,
    )
    for conc in (0.0, *concs):
        rows.append(
            _truth_row(
                cell,
                path.name,
                drug,
                conc,
                NAV_RESTING,
                "Nav1.7/DRG Na",
                "wash-in",
                0.0,
                REFERENCE_IC50_UM["nav_resting"],
                k_r,
                k_i,
                "; ".join(f"{t:g}s:{c}" for t, c in tags),
            )
        )
    return pd.DataFrame(rows)


def _truth_row(cell, fname, drug, conc, shape, target, layout, elapsed, ic50, k_r, k_i, tags):
    return {
        "cell": cell.name,
        "file": fname,
        "drug": drug if conc > 0 else "vehicle",
        "conc_um": conc,
        "holding_mv": shape.holding_mv,
        "condition": shape.name,
        "target": target,
        "layout": layout,
        "elapsed_s": elapsed,
        "true_ic50_um": round(ic50, 6),
        "true_hill": 1.0,
        "k_r_um": k_r if shape.kind == "nav" else np.nan,
        "k_i_um": k_i if shape.kind == "nav" else np.nan,
        "h": shape.h if shape.kind == "nav" else np.nan,
        "fraction_unblocked": round(float(fraction_unblocked(conc, ic50)), 6),
        "rundown_pct_per_min": cell.rundown_pct_per_min,
        "ra_mohm": cell.ra_mohm,
        "rm_mohm": cell.rm_mohm,
        "cm_pf": cell.cm_pf,
        "ra_drift_pct": cell.ra_drift_pct,
        "qc_expected": "fail" if cell.ra_drift_pct > 20 else "pass",
        "tags": tags,
    }

