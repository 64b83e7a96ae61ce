"""Synthetic current-clamp recordings shared by the excitability tests.

One vectorised Wang–Buzsáki run per test session (:func:`cc_synth`): a step family for a
spiking cell and a pure RC cell, a ramp for the spiking cell and the fine current grid
that gives the spiking cell's true rheobase are integrated together (RK4, 50 µs = one
sample at 20 kHz; 100 ms settling at 0 pA leaves the resting potential drifting by
~0.001 mV per 100 ms), so the simulation is paid once (a few seconds) rather than per
module.
"""

from __future__ import annotations

from types import SimpleNamespace

import numpy as np
import pytest

from nplab.ephys.ccsynth import (
    Ramp,
    StepFamily,
    WBCell,
    simulate_commands,
    write_ramp_file,
    write_step_file,
)

#: the step family and ramp of the synthetic cells (20 kHz)
FAMILY = StepFamily(baseline_ms=50.0, step_ms=300.0, recovery_ms=50.0)
RAMP = Ramp(stop_pa=100.0, baseline_ms=50.0, ramp_ms=300.0, recovery_ms=50.0)
#: rheobase grid: constant currents for the family's step duration
GRID_PA = np.arange(0.0, 40.0, 0.5)
DT_MS = 1000.0 / FAMILY.sample_rate


@pytest.fixture(scope="session")
def cc_synth(tmp_path_factory: pytest.TempPathFactory) -> SimpleNamespace:
    """Files and noise-free truth of the synthetic cells.

    Attributes: ``family``, ``ramp``, ``cells`` (spiking ``wb``, passive ``rc``),
    ``traces`` (``(2, sweeps, points)`` noise-free family), ``paths`` (their ABF files),
    ``ramp_trace`` (noise-free ramp sweep), ``ramp_path``, ``true_rheobase`` (pA:
    smallest grid current whose ``step_ms`` response crosses −20 mV).
    """
    cells = [WBCell("wb"), WBCell("rc", g_na_scale=0.0, g_k_scale=0.0)]
    fam = FAMILY.command()
    n_step = round(FAMILY.step_ms * FAMILY.sample_rate / 1000)
    rows = [fam, fam, RAMP.command(), np.repeat(GRID_PA[:, None], n_step, axis=1)]
    width = max(r.shape[1] for r in rows)
    cmd = np.vstack([np.pad(r, ((0, 0), (0, width - r.shape[1]))) for r in rows])
    who = [cells[0]] * FAMILY.sweeps + [cells[1]] * FAMILY.sweeps + [cells[0]] * (1 + GRID_PA.size)
    v = simulate_commands(who, cmd, FAMILY.sample_rate, dt_ms=DT_MS, settle_ms=100.0)
    n, points = FAMILY.sweeps, fam.shape[1]
    traces = v[: 2 * n, :points].reshape(2, n, points)
    ramp_trace = v[2 * n : 2 * n + 1, : RAMP.command().shape[1]]
    fires = np.any(v[2 * n + 1 :, :n_step] > -20.0, axis=1)
    folder = tmp_path_factory.mktemp("cc")
    paths = [write_step_file(folder / f"{c.name}.abf", c, FAMILY, traces=tr, seed=7)
             for c, tr in zip(cells, traces, strict=True)]
    ramp_path = write_ramp_file(folder / "wb_ramp.abf", cells[0], RAMP, traces=ramp_trace, seed=7)
    return SimpleNamespace(
        family=FAMILY, ramp=RAMP, cells=cells, traces=traces, paths=paths,
        ramp_trace=ramp_trace[0], ramp_path=ramp_path,
        true_rheobase=float(GRID_PA[np.argmax(fires)]) if fires.any() else float("nan"),
    )
