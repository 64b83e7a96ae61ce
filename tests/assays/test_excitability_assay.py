"""The excitability room on the CCI sample study recovers the documented truth
(sample_data/ephys/excitability_truth.csv): treatment raises rheobase."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab.runner import run_study


@pytest.fixture(scope="module")
def run(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return run_study(repo_dir / "sample_data" / "cci_study.toml", tmp_path_factory.mktemp("ex"))


def test_cells_recover_true_rheobase(run, repo_dir):
    cells = pd.read_csv(run.outdir / "tables" / "excitability_cells.csv")
    truth = pd.read_csv(repo_dir / "sample_data" / "ephys" / "excitability_truth.csv")
    m = cells.merge(truth[["cell", "true_rheobase_pa"]], on="cell")
    assert len(m) == 18 and (m["status"] == "ok").all()
    # steps every 5 pA: the measured rheobase is the first step at or above the truth
    assert ((m["rheobase_pa"] >= m["true_rheobase_pa"]) & (m["rheobase_pa"] < m["true_rheobase_pa"] + 5)).all()
    assert (m["capacitance_pf"].between(50, 200)).all()


def test_treatment_raises_rheobase_animal_unit(run):
    stats = pd.read_csv(run.outdir / "tables" / "excitability_stats.csv")
    rb = stats[stats["measure_name"] == "rheobase_pa"]
    g = rb[rb["level"] == "group"].set_index("group")
    assert g.loc["CCI + vehicle", "mean"] < g.loc["CCI + amitriptyline 10 mg/kg", "mean"]
    assert g.loc["CCI + vehicle", "mean"] < g.loc["Sham + vehicle", "mean"]
    assert (g["n_animals"] == 3).all() and (g["n_cells"] == 6).all()
    test = rb[rb["level"] == "test"].iloc[0]
    assert test["n_animals"] == 9 and test["df"] == "2, 6" and test["p"] < 0.05
    assert (run.outdir / "figures").exists()
