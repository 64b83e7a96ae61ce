"""Synthetic current-clamp recordings with known truth: a Wang–Buzsáki neuron.

The single-compartment model of Wang XJ & Buzsáki G (1996) J Neurosci 16:6402–6413
(instantaneous m∞, h and n gates with φ = 5; g_Na 35, g_K 9, g_L 0.1 mS/cm²; E_Na
55, E_K −90, E_L −65 mV; C 1 µF/cm²) is integrated with a fixed-step classical
Runge–Kutta scheme (RK4, default 25 µs) — deterministic, no adaptive steps — for every
sweep of a step family at once, then sampled at the recording rate, given Gaussian
recording noise from :func:`nplab.provenance.rng` and written as an ABF1 file with
:func:`nplab.ephys.abfwrite.write_abf1` (ADC in mV, DAC in pA, epoch table with the
test step incremented per sweep, as Clampex writes it).

The membrane area turns injected pA into µA/cm²: with area A (cm²) the cell has
C = A µF, R_in(passive) = 1 / (g_L·A) and τ = C / g_L.  ``g_na_scale`` scales g_Na (a
Na-channel blocker such as amitriptyline lowers it and raises rheobase; a nerve
injury that up-regulates Nav1.3/1.7/1.8 raises it).  With ``g_na_scale = 0`` and
``g_k_scale = 0`` the cell is a pure RC circuit: the step response is exactly
ΔV = I·R (1 − e^(−t/τ)), the hand check for input resistance, τ and capacitance.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nplab.ephys.abfwrite import EpochSpec, write_abf1
from nplab.provenance import DEFAULT_SEED, rng

__all__ = [
    "SAMPLE_GNA",
    "Ramp",
    "StepFamily",
    "WBCell",
    "make_sample_cells",
    "peak_times",
    "rheobase",
    "simulate",
    "simulate_commands",
    "simulate_steps",
    "write_ramp_file",
    "write_step_file",
]

C_M = 1.0  # µF/cm²
E_NA, E_K, E_L = 55.0, -90.0, -65.0
G_NA, G_K, G_L = 35.0, 9.0, 0.1
PHI = 5.0


@dataclass(frozen=True)
class WBCell:
    """One model neuron.

    ``area_cm2`` 1e-4 gives C = 100 pF, passive R_in = 100 MΩ, τ = 10 ms.
    """

    name: str = "cell"
    area_cm2: float = 1e-4
    g_na_scale: float = 1.0
    g_k_scale: float = 1.0
    g_l: float = G_L
    e_l: float = E_L
    noise_mv: float = 0.05

    @property
    def capacitance_pf(self) -> float:
        return C_M * self.area_cm2 * 1e6

    @property
    def input_resistance_mohm(self) -> float:
        """Passive (leak-only) input resistance."""
        return 1.0 / (self.g_l * 1e-3 * self.area_cm2) / 1e6

    @property
    def tau_ms(self) -> float:
        return C_M / self.g_l


@dataclass(frozen=True)
class StepFamily:
    """Step protocol: baseline, test step (``first_pa`` + k·``increment_pa``), recovery."""

    first_pa: float = -40.0
    increment_pa: float = 10.0
    sweeps: int = 16
    baseline_ms: float = 100.0
    step_ms: float = 500.0
    recovery_ms: float = 200.0
    sample_rate: int = 20000

    @property
    def currents(self) -> np.ndarray:
        return self.first_pa + self.increment_pa * np.arange(self.sweeps)

    def layout(self) -> tuple[int, int, int, int, int]:
        """``(points, pre, n_baseline, n_step, n_recovery)`` in samples."""
        return _layout(self.sample_rate, self.baseline_ms, self.step_ms, self.recovery_ms)

    def command(self) -> np.ndarray:
        """Injected current (pA) per sample, one row per sweep (the command changes at
        the first sample of each epoch, as in Clampex)."""
        points, pre, na, nb, _nc = self.layout()
        row = np.zeros((self.sweeps, points))
        row[:, pre + na : pre + na + nb] = self.currents[:, None]
        return row


@dataclass(frozen=True)
class Ramp:
    """Ramp protocol (one sweep): baseline at 0 pA, a linear ramp from 0 to ``stop_pa``
    over ``ramp_ms``, recovery at 0 pA."""

    stop_pa: float = 100.0
    baseline_ms: float = 50.0
    ramp_ms: float = 300.0
    recovery_ms: float = 50.0
    sample_rate: int = 20000

    @property
    def speed_pa_per_s(self) -> float:
        return self.stop_pa / (self.ramp_ms / 1000.0)

    def layout(self) -> tuple[int, int, int, int, int]:
        """``(points, pre, n_baseline, n_ramp, n_recovery)`` in samples."""
        return _layout(self.sample_rate, self.baseline_ms, self.ramp_ms, self.recovery_ms)

    def command(self) -> np.ndarray:
        """Injected current (pA) per sample, shape ``(1, points)``: inside the ramp
        epoch of n samples, sample k carries ``stop_pa · k/(n − 1)`` (pyabf's
        ``np.linspace(level_before, level, n)`` reading of a Clampex ramp)."""
        points, pre, na, nb, _nc = self.layout()
        row = np.zeros((1, points))
        row[0, pre + na : pre + na + nb] = np.linspace(0.0, self.stop_pa, nb)
        return row


def _layout(fs: int, baseline_ms: float, step_ms: float, recovery_ms: float) -> tuple[int, int, int, int, int]:
    """Samples of a three-epoch sweep; Clampex adds a holding segment of 1/64 of the
    sweep before the first epoch."""
    na, nb, nc = (round(x * fs / 1000) for x in (baseline_ms, step_ms, recovery_ms))
    body = na + nb + nc
    points = body + body // 63 + 1
    while points - points // 64 < body:
        points += 1
    return points, points // 64, na, nb, nc


def _rates(v):
    x = v + 35.0
    am = np.where(np.abs(x) < 1e-6, 1.0, -0.1 * x / np.expm1(-0.1 * np.where(np.abs(x) < 1e-6, 1.0, x)))
    bm = 4.0 * np.exp(-(v + 60.0) / 18.0)
    ah = 0.07 * np.exp(-(v + 58.0) / 20.0)
    bh = 1.0 / (np.exp(-0.1 * (v + 28.0)) + 1.0)
    y = v + 34.0
    an = np.where(np.abs(y) < 1e-6, 0.1, -0.01 * y / np.expm1(-0.1 * np.where(np.abs(y) < 1e-6, 1.0, y)))
    bn = 0.125 * np.exp(-(v + 44.0) / 80.0)
    return am, bm, ah, bh, an, bn


def _deriv(v, h, n, i_ua, gna, gk, gl, el):
    am, bm, ah, bh, an, bn = _rates(v)
    m = am / (am + bm)
    dv = (-gna * m**3 * h * (v - E_NA) - gk * n**4 * (v - E_K) - gl * (v - el) + i_ua) / C_M
    return dv, PHI * (ah * (1 - h) - bh * h), PHI * (an * (1 - n) - bn * n)


def simulate(
    currents_pa: np.ndarray,
    cells: list[WBCell] | WBCell,
    *,
    duration_ms: float,
    dt_ms: float = 0.025,
    record_every: int = 1,
    settle_ms: float = 300.0,
) -> np.ndarray:
    """Integrate Wang–Buzsáki neurons (RK4, fixed step ``dt_ms``).

    Parameters
    ----------
    currents_pa
        Injected current per time step: array ``(steps,)`` shared by all traces or
        ``(traces, steps)``; traces = cells × sweeps when ``cells`` is a list (one
        row of currents per trace).
    cells
        One cell for all traces or one per trace.
    duration_ms
        Length of the simulation (steps = duration / dt).
    record_every
        Keep every k-th step.
    settle_ms
        Integration at 0 pA before time 0 to reach the resting state.

    Returns
    -------
    numpy.ndarray
        ``(traces, steps // record_every)`` membrane potential (mV).
    """
    cur = np.atleast_2d(np.asarray(currents_pa, dtype=float))
    steps = round(duration_ms / dt_ms)
    cell_list = [cells] * cur.shape[0] if isinstance(cells, WBCell) else list(cells)
    if len(cell_list) != cur.shape[0]:
        raise ValueError("one cell per trace (row of currents)")
    area = np.array([c.area_cm2 for c in cell_list])
    gna = np.array([G_NA * c.g_na_scale for c in cell_list])
    gk = np.array([G_K * c.g_k_scale for c in cell_list])
    gl = np.array([c.g_l for c in cell_list])
    el = np.array([c.e_l for c in cell_list])
    to_ua = 1e-6 / area  # pA -> µA/cm²
    v = el.copy()
    _am, _bm, ah, bh, an, bn = _rates(v)
    h, n = ah / (ah + bh), an / (an + bn)
    zero = np.zeros_like(v)
    for _ in range(round(settle_ms / dt_ms)):
        v, h, n = _rk4(v, h, n, zero, dt_ms, gna, gk, gl, el)
    out = np.empty((cur.shape[0], steps // record_every))
    for k in range(steps):
        i_ua = cur[:, min(k, cur.shape[1] - 1)] * to_ua
        v, h, n = _rk4(v, h, n, i_ua, dt_ms, gna, gk, gl, el)
        if (k + 1) % record_every == 0 and (k + 1) // record_every <= out.shape[1]:
            out[:, (k + 1) // record_every - 1] = v
    return out


def _rk4(v, h, n, i, dt, gna, gk, gl, el):
    k1 = _deriv(v, h, n, i, gna, gk, gl, el)
    k2 = _deriv(v + dt / 2 * k1[0], h + dt / 2 * k1[1], n + dt / 2 * k1[2], i, gna, gk, gl, el)
    k3 = _deriv(v + dt / 2 * k2[0], h + dt / 2 * k2[1], n + dt / 2 * k2[2], i, gna, gk, gl, el)
    k4 = _deriv(v + dt * k3[0], h + dt * k3[1], n + dt * k3[2], i, gna, gk, gl, el)
    return (
        v + dt / 6 * (k1[0] + 2 * k2[0] + 2 * k3[0] + k4[0]),
        h + dt / 6 * (k1[1] + 2 * k2[1] + 2 * k3[1] + k4[1]),
        n + dt / 6 * (k1[2] + 2 * k2[2] + 2 * k3[2] + k4[2]),
    )


def simulate_commands(
    cells: list[WBCell], commands_pa: np.ndarray, sample_rate: float, *, dt_ms: float = 0.025,
    settle_ms: float = 300.0,
) -> np.ndarray:
    """Noise-free membrane potential ``(traces, points)`` for per-sample commands.

    ``commands_pa`` is ``(traces, points)`` pA at ``sample_rate`` (one row per trace,
    one cell per row); ``1000 / sample_rate`` must be a whole number of ``dt_ms``
    steps.  Sample j is the state at time (j + 1)/rate after the sweep start, so the
    first sample of a step already feels the current.  All traces are integrated in
    one vectorised run (rows of different protocols can share it, zero-padded);
    ``settle_ms`` as in :func:`simulate`.
    """
    cmd = np.atleast_2d(np.asarray(commands_pa, dtype=float))
    over = round(1000.0 / sample_rate / dt_ms)
    if over < 1 or abs(over * dt_ms - 1000.0 / sample_rate) > 1e-9:
        raise ValueError("the sample interval must be a whole number of integration steps")
    points = cmd.shape[1]
    v = simulate(np.repeat(cmd, over, axis=1), cells, duration_ms=points * over * dt_ms,
                 dt_ms=dt_ms, record_every=over, settle_ms=settle_ms)
    return v


def simulate_steps(
    cells: list[WBCell], family: StepFamily, *, dt_ms: float = 0.025
) -> np.ndarray:
    """Noise-free membrane potential ``(cells, sweeps, points)`` at the family's rate
    (sample j is the state at time (j + 1)/rate after the sweep start; the first
    sample of the test step therefore already feels the current)."""
    cmd = np.tile(family.command(), (len(cells), 1))
    traces = [c for c in cells for _ in range(family.sweeps)]
    v = simulate_commands(traces, cmd, family.sample_rate, dt_ms=dt_ms)
    return v.reshape(len(cells), family.sweeps, -1)


def peak_times(v: np.ndarray, sample_rate: float, threshold_mv: float = -20.0) -> np.ndarray:
    """Times (s) of the maxima of the excursions above ``threshold_mv`` of a noise-free
    trace (the known spike times)."""
    above = v > threshold_mv
    edges = np.diff(above.astype(np.int8), prepend=0, append=0)
    ups, dns = np.flatnonzero(edges == 1), np.flatnonzero(edges == -1)
    return np.array([(a + int(np.argmax(v[a:b]))) / sample_rate for a, b in zip(ups, dns, strict=True)])


def rheobase(
    cell: WBCell, *, step_ms: float = 500.0, currents_pa: np.ndarray | None = None,
    dt_ms: float = 0.025,
) -> float:
    """Rheobase (pA) of a ``step_ms`` step on a fine current grid (default 0–200 pA in
    0.5 pA): the smallest current whose noise-free response crosses −20 mV.  All
    currents are integrated at once; NaN when none fires."""
    grid = np.arange(0.0, 200.25, 0.5) if currents_pa is None else np.asarray(currents_pa, float)
    v = simulate(grid[:, None], [cell] * grid.size, duration_ms=step_ms, dt_ms=dt_ms)
    fires = np.any(v > -20.0, axis=1)
    return float(grid[np.argmax(fires)]) if fires.any() else float("nan")


def _write(path, cell, traces, sample_rate, epochs, seed, protocol) -> Path:
    gen = rng(seed)
    data = traces + gen.normal(0.0, cell.noise_mv, size=traces.shape) if cell.noise_mv > 0 else traces
    return write_abf1(
        path,
        data,
        sample_rate,
        units="mV",
        channel_names=["Vm"],
        epochs=epochs,
        holding=0.0,
        dac_units="pA",
        lsb=0.01,
        protocol=f"C:\\protocols\\{protocol}.pro",
        comment=f"nplab synthetic Wang-Buzsaki: {cell.name}",
    )


def write_step_file(
    path: str | os.PathLike[str],
    cell: WBCell,
    family: StepFamily = StepFamily(),
    *,
    seed: int = DEFAULT_SEED,
    traces: np.ndarray | None = None,
) -> Path:
    """Simulate ``cell`` under ``family`` and write it as an ABF1 file (mV, pA).

    ``traces`` (``(sweeps, points)`` noise-free, from :func:`simulate_steps`) skips the
    simulation.
    """
    if traces is None:
        traces = simulate_steps([cell], family)[0]
    _points, _pre, na, nb, nc = family.layout()
    epochs = (
        EpochSpec("Step", 0.0, na),
        EpochSpec("Step", family.first_pa, nb, level_inc=family.increment_pa),
        EpochSpec("Step", 0.0, nc),
    )
    return _write(path, cell, traces, family.sample_rate, epochs, seed, "currentclamp-steps")


def write_ramp_file(
    path: str | os.PathLike[str],
    cell: WBCell,
    ramp: Ramp = Ramp(),
    *,
    seed: int = DEFAULT_SEED,
    traces: np.ndarray | None = None,
) -> Path:
    """Simulate ``cell`` under ``ramp`` and write it as a one-sweep ABF1 file (mV, pA)
    with epochs A (Step 0 pA), B (Ramp to ``stop_pa``), C (Step 0 pA).

    ``traces`` (``(1, points)`` noise-free, from :func:`simulate_commands` with
    :meth:`Ramp.command`) skips the simulation.
    """
    if traces is None:
        traces = simulate_commands([cell], ramp.command(), ramp.sample_rate)
    _points, _pre, na, nb, nc = ramp.layout()
    epochs = (EpochSpec("Step", 0.0, na), EpochSpec("Ramp", ramp.stop_pa, nb), EpochSpec("Step", 0.0, nc))
    return _write(path, cell, traces, ramp.sample_rate, epochs, seed, "currentclamp-ramp")


#: g_Na scale per study group in the sample data: nerve injury up-regulates Na
#: channels (Waxman SG et al. 1994 J Neurophysiol 72:466–470), amitriptyline blocks
#: them (Dick IE et al. 2007 J Pain 8:315–324).
SAMPLE_GNA = {"Sham + vehicle": 1.0, "CCI + vehicle": 1.3, "CCI + amitriptyline 10 mg/kg": 1.05}


def make_sample_cells(
    outdir: str | os.PathLike[str],
    animals: list[tuple[str, str]],
    *,
    cells_per_animal: int = 2,
    family: StepFamily = StepFamily(first_pa=-40.0, increment_pa=5.0, sweeps=20,
                                    baseline_ms=50.0, step_ms=300.0, recovery_ms=50.0),
    seed: int = DEFAULT_SEED,
) -> list[dict]:
    """Write one step-family ABF per cell for ``animals`` (``(animal, group name)``)
    and return the truth rows (file, cell, animal, group, g_na_scale, area, true
    rheobase on a 0.5 pA grid).  Cell-to-cell variation: area ±10 % and g_Na ±5 %
    from ``rng(seed)``; all cells are simulated in one vectorised run."""
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    gen = rng(seed)
    cells, meta = [], []
    for animal, group in animals:
        for k in range(cells_per_animal):
            area = 1e-4 * (1 + 0.1 * gen.uniform(-1, 1))
            gna = SAMPLE_GNA[group] * (1 + 0.05 * gen.uniform(-1, 1))
            name = f"{animal}_c{k + 1}"
            cells.append(WBCell(name, area_cm2=area, g_na_scale=gna))
            meta.append((animal, group))
    traces = simulate_steps(cells, family)
    grid = np.arange(0.0, 100.25, 0.5)
    v = simulate(np.repeat(grid, len(cells))[:, None], [c for _ in grid for c in cells],
                 duration_ms=family.step_ms)
    fires = np.any(v > -20.0, axis=1).reshape(grid.size, len(cells))
    rows = []
    for j, (cell, (animal, group)) in enumerate(zip(cells, meta, strict=True)):
        fname = f"cc_{cell.name}.abf"
        write_step_file(out / fname, cell, family, traces=traces[j], seed=seed + j + 1)
        true = float(grid[np.argmax(fires[:, j])]) if fires[:, j].any() else float("nan")
        rows.append({"file": fname, "cell": cell.name, "animal": animal, "group": group,
                     "g_na_scale": round(cell.g_na_scale, 6), "area_cm2": cell.area_cm2,
                     "capacitance_pf": round(cell.capacitance_pf, 4), "true_rheobase_pa": true})
    return rows
