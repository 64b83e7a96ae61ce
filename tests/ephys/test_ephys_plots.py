"""Figures: traces per concentration, time course with concentration bands,
concentration–response with fit and CI band; reproducible files."""

import matplotlib

matplotlib.use("Agg")

import numpy as np
import pandas as pd
import pytest

from nplab.ephys.concentrations import assign_concentrations, validate_experiment
from nplab.ephys.ic50 import fit_cells, fractional_current
from nplab.ephys.plots import (
    plot_concentration_response,
    plot_time_course,
    plot_traces,
    save_figure,
)
from nplab.errors import InputError

CONCS = [0.1, 1.0, 10.0]


def _sweeps():
    rows = []
    for cell, ic50 in (("a", 1.0), ("b", 2.0), ("c", 0.5)):
        frac = [1.0] * 4 + [1 / (1 + c / ic50) for c in CONCS for _ in range(3)]
        tags = [""] * 4 + [f"+ami {c:g} uM" for c in CONCS for _ in range(3)]
        idx = [0] * 4 + [k for k in (1, 2, 3) for _ in range(3)]
        n = len(frac)
        rows.append(pd.DataFrame({
            "file": f"{cell}.abf", "sweep": np.arange(n), "time_s": np.arange(n) * 10.0,
            "value": -800.0 * np.array(frac), "units": "pA", "tag": tags, "tag_index": idx,
            "status": "ok",
        }))
    ps = pd.concat(rows, ignore_index=True)
    exp = validate_experiment(pd.DataFrame({
        "cell": ["a", "b", "c"], "file": ["a.abf", "b.abf", "c.abf"], "drug": "ami",
        "conc_um": np.nan, "holding_mv": -120, "condition": "rest"}))
    return assign_concentrations(ps, exp)


def test_time_course_bands(tmp_path):
    sw = _sweeps()
    fig = plot_time_course(sw, "a", path=tmp_path / "tc.png")
    ax = fig.axes[0]
    assert len(ax.patches) == 4  # control + 3 concentrations
    labels = [t.get_text() for t in ax.texts]
    assert labels == ["control", "100 nM", "1 µM", "10 µM"]
    points = next(ln for ln in ax.lines if ln.get_marker() == "o")
    x, _y = points.get_data()
    assert len([ln for ln in ax.lines if ln.get_linestyle() == "--"]) == 3  # solution changes
    np.testing.assert_allclose(x, np.arange(13) * 10 / 60)
    assert (tmp_path / "tc.png").stat().st_size > 0
    with pytest.raises(InputError, match="no sweeps for cell"):
        plot_time_course(sw, "zzz")


def test_traces_and_reproducible_files(tmp_path):
    t = np.arange(200) / 20000
    traces = [(0.0, t, -np.sin(t * 300)), (1.0, t, -0.5 * np.sin(t * 300)), (np.nan, t, 0 * t)]
    fig = plot_traces(traces, units="pA", title="cell a")
    ax = fig.axes[0]
    assert [ln.get_label() for ln in ax.lines] == ["control", "1 µM", "washout"]
    for suffix in ("png", "svg"):
        a, b = tmp_path / f"a.{suffix}", tmp_path / f"b.{suffix}"
        save_figure(fig, a)
        save_figure(fig, b)
        assert a.read_bytes() == b.read_bytes()
    assert b"Date" not in (tmp_path / "a.svg").read_bytes().split(b"</metadata>")[0][-400:]
    with pytest.raises(InputError):
        plot_traces([])


def test_concentration_response_with_fit_band(tmp_path):
    sw = _sweeps()
    cells = fractional_current(sw, steady_state_sweeps=2)
    fits, models = fit_cells(cells)
    fig = plot_concentration_response(cells, fits, drug="ami", condition="rest", models=models,
                                      path=tmp_path / "cr.svg")
    ax = fig.axes[0]
    assert len(ax.collections) >= 1  # CI band
    fit_line = next(ln for ln in ax.lines if ln.get_label().startswith("fit"))
    x, y = fit_line.get_data()
    model = models[("ami", "rest", "pooled_global", "")]
    np.testing.assert_allclose(y, model.predict(x), rtol=1e-12)
    # the control is drawn one decade below the lowest concentration, labelled "0"
    assert ax.get_xticklabels()[0].get_text() == "0"
    cells_pts = next(ln for ln in ax.lines if ln.get_label() == "cells")
    assert min(cells_pts.get_xdata()) == pytest.approx(0.01)
    with pytest.raises(InputError, match="no data"):
        plot_concentration_response(cells, fits, drug="other", condition="rest")
