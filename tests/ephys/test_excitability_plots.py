"""Excitability figures: the cells and sweeps chosen (hand-built tables), the drawn data
against the measured spikes, reproducible bytes, and the CLI's --figures."""

from __future__ import annotations

import matplotlib
import numpy as np
import pandas as pd
import pytest

from nplab.cli import main
from nplab.ephys.excitability import excitability
from nplab.ephys.excitability_plots import (
    FIGURE_NAMES,
    excitability_figures,
    phase_plot,
    representative_cells,
    rheobase_sweeps,
    rheobase_traces,
)

matplotlib.use("Agg")


@pytest.fixture(scope="module")
def sample(repo_dir):
    """Six sample cells (three animals) with a made-up two-group split."""
    folder = repo_dir / "sample_data" / "ephys"
    exp = pd.read_csv(folder / "excitability.csv").head(6)
    exp["file"] = [str(folder / f) for f in exp["file"]]
    exp["group"] = ["a", "a", "a", "b", "b", "b"]
    return excitability(list(exp["file"]), experiment=exp, executor="serial")


def test_representative_cell_is_nearest_the_group_median():
    cells = pd.DataFrame({
        "cell": list("pqrstu"), "group": list("aaabbb"),
        "rheobase_pa": [10.0, 30.0, 25.0, 5.0, np.nan, 50.0],
        "status": ["ok", "ok", "qc_fail", "ok", "ok", "failed"],
    })
    rep = representative_cells(cells, "group")
    # group a: median of 10, 30, 25 is 25 -> r; group b: only s is analysed with a rheobase
    assert list(rep["cell"]) == ["r", "s"]
    assert list(representative_cells(cells, None)["cell"]) == ["p", "q", "r", "s"]


def test_rheobase_and_twice_rheobase_sweeps():
    sweeps = pd.DataFrame({"file": "f", "sweep": range(6), "current_pa": [0.0, 10, 20, 30, 40, 50],
                           "n_spikes": [0, 0, 1, 3, 5, 6]})
    cell = pd.Series({"file": "f", "rheobase_pa": 20.0, "recording": "steps"})
    assert [(s, c) for s, c, _ in rheobase_sweeps(cell, sweeps)] == [(2, 20.0), (4, 40.0)]
    # family stops short of 2x: the largest step, labelled with its ratio
    cell["rheobase_pa"] = 40.0
    picks = rheobase_sweeps(cell, sweeps)
    assert [(s, c) for s, c, _ in picks] == [(4, 40.0), (5, 50.0)] and "1.2×" in picks[1][2]
    cell["rheobase_pa"] = np.nan
    assert rheobase_sweeps(cell, sweeps) == []


def test_traces_and_phase_show_the_measured_spike(sample):
    rep = representative_cells(sample.cells, "group")
    assert list(rep["group"]) == ["a", "b"]
    fig = rheobase_traces(sample, rep)
    ax = fig.axes[0]
    cell = rep.iloc[0]
    picks = rheobase_sweeps(cell, sample.sweeps)
    assert len(ax.lines) == 2  # rheobase and 2x rheobase
    # the drawn rheobase sweep is the one the spike table was measured on
    spk = sample.spikes[(sample.spikes["file"] == cell["file"]) & (sample.spikes["sweep"] == picks[0][0])]
    y = ax.lines[0].get_ydata()
    assert y.max() == pytest.approx(spk["peak_mv"].max(), abs=1e-9)
    fig = phase_plot(sample, rep)
    line = fig.axes[0].lines[0]
    first = spk[spk["in_step"]].iloc[0]
    # the phase loop reaches the first spike's peak and its maximal upstroke dV/dt
    assert line.get_xdata().max() == pytest.approx(first["peak_mv"], abs=1e-9)
    assert line.get_ydata().max() == pytest.approx(first["max_dvdt"], rel=1e-9)


def test_figures_are_reproducible(sample, tmp_path):
    a = excitability_figures(sample, tmp_path / "a")
    b = excitability_figures(sample, tmp_path / "b")
    assert [p.name for p in a] == [f"{n}.png" for n in FIGURE_NAMES]
    for x, y in zip(a, b, strict=True):
        assert x.read_bytes() == y.read_bytes()


def test_cli_figures(abf_path, tmp_path, capsys):
    out = tmp_path / "cells.csv"
    with pytest.raises(SystemExit) as exc:
        main(["ephys", "excitability", str(abf_path("File_axon_5.abf")), "-o", str(out),
              "--figures", str(tmp_path / "figs")])
    assert exc.value.code == 0, capsys.readouterr().err
    assert sorted(p.name for p in (tmp_path / "figs").iterdir()) == sorted(f"{n}.png" for n in FIGURE_NAMES)
