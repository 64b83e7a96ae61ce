"""The formalin room on the SNL sample study with a simulated formalin session.

Simulated truth (written by the test, seeded): licking per 5-min bin, phase I about
55 s per bin in every group, phase II about 60 s per bin in the vehicle and sham groups
and half of that after amitriptyline 10 mg/kg.  References: the phase totals summed here
with numpy from the written table; Dunnett's test from ``scipy.stats.dunnett`` (an
implementation independent of :mod:`nplab.stats`) on those totals: t statistics at
1e-9 relative, p values at 2e-3 absolute (scipy integrates the multivariate t by
randomised quasi-Monte Carlo), simultaneous CIs: centre at 1e-9 and width at 2e-3
relative.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nplab.errors import InputError
from nplab.runner import run_study

pytestmark = pytest.mark.slow

DRUG = "SNL + amitriptyline 10 mg/kg"
CONTROL = "SNL + vehicle"


def _formalin_table(animals: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for a, g in zip(animals["animal"], animals["group"], strict=True):
        late = 30.0 if g == DRUG else 60.0
        for start in range(0, 60, 5):
            mean = 55.0 if start < 10 else (8.0 if start < 15 else late)
            rows.append({"animal": a, "timepoint": "2h", "bin_start_min": start,
                         "licking_s": float(np.clip(round(rng.normal(mean, 8.0), 1), 0, 300))})
    df = pd.DataFrame(rows)
    df["valid"] = True
    # one invalid phase II bin (camera blocked): that animal has no phase II total
    df.loc[(df["animal"] == animals["animal"].iloc[0]) & (df["bin_start_min"] == 30),
           ["valid", "licking_s"]] = [False, np.nan]
    return df


def _study(repo_dir: Path, folder: Path, table: pd.DataFrame | None = None) -> Path:
    shutil.copytree(repo_dir / "sample_data" / "snl", folder / "snl", dirs_exist_ok=True)
    animals = pd.read_csv(folder / "snl" / "animals.csv", dtype=str)
    if table is None:
        table = _formalin_table(animals, np.random.default_rng(17))
    table.to_csv(folder / "formalin.csv", index=False)
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text(encoding="utf-8")
    text = text.replace('vonfrey = "snl/vonfrey.csv"',
                        'vonfrey = "snl/vonfrey.csv"\nformalin = "formalin.csv"')
    path = folder / "study.toml"
    path.write_text(text, encoding="utf-8")
    return path


@pytest.fixture(scope="module")
def run(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("formalin")
    return run_study(_study(repo_dir, folder), folder / "out").outdir


def test_phase_totals_are_the_bin_sums(run: Path) -> None:
    bins = pd.read_csv(run.parent / "formalin.csv")
    phases = pd.read_csv(run / "tables" / "formalin_phases.csv").set_index("animal")
    for animal, sub in bins.groupby("animal"):
        p1 = sub.loc[sub["bin_start_min"] < 10, "licking_s"].sum()
        assert phases.loc[animal, "phase1_licking_s"] == pytest.approx(p1, abs=1e-9)
        if sub["valid"].all():
            p2 = sub.loc[sub["bin_start_min"] >= 15, "licking_s"].sum()
            assert phases.loc[animal, "phase2_licking_s"] == pytest.approx(p2, abs=1e-9)
        else:
            assert phases.loc[animal, "status"] == "incomplete_phase2"
            assert np.isnan(phases.loc[animal, "phase2_licking_s"])


def test_dunnett_per_phase_matches_scipy(run: Path) -> None:
    phases = pd.read_csv(run / "tables" / "formalin_phases.csv")
    dun = pd.read_csv(run / "tables" / "formalin_dunnett.csv")
    groups = ["Sham + vehicle", DRUG]
    for phase in ("phase1", "phase2"):
        col = phases[f"{phase}_licking_s"]
        sample = {g: col[(phases["group"] == g) & col.notna()].to_numpy() for g in
                  [*groups, CONTROL]}
        ref = stats.dunnett(*(sample[g] for g in groups), control=sample[CONTROL],
                            random_state=np.random.default_rng(1))
        ci = ref.confidence_interval(0.95)
        got = dun[dun["phase"] == phase].set_index("group").loc[groups]
        np.testing.assert_allclose(got["t"], ref.statistic, rtol=1e-9)
        np.testing.assert_allclose(got["p"], ref.pvalue, atol=2e-3)
        # CI: same centre; half-width = critical value x SE, scipy's critical value by QMC
        np.testing.assert_allclose(got["ci_low"] + got["ci_high"], ci.low + ci.high, rtol=1e-9)
        np.testing.assert_allclose(got["ci_high"] - got["ci_low"], ci.high - ci.low, rtol=2e-3)
    # the simulated truth: phase II halved by the drug, phase I unchanged
    p2 = dun[(dun["phase"] == "phase2")].set_index("group")
    assert p2.loc[DRUG, "p"] < 0.001 and p2.loc[DRUG, "diff"] < 0
    p1 = dun[(dun["phase"] == "phase1")].set_index("group")
    assert p1.loc[DRUG, "p"] > 0.05


def test_report_figure_and_methods(run: Path) -> None:
    assert (run / "figures" / "formalin_timecourse_2h.svg").is_file()
    html = (run / "report.html").read_text(encoding="utf-8")
    assert 'id="formalin"' in html
    assert "phase I (0–10 min) and phase II (15–60 min)" in html
    assert "1 animal(s) with a missing bin left out" in html
    desc = pd.read_csv(run / "tables" / "formalin_descriptives.csv")
    assert set(desc["phase"]) == {"phase1", "phase2"}


def test_undeclared_session_is_an_error(repo_dir: Path, tmp_path: Path) -> None:
    animals = pd.read_csv(repo_dir / "sample_data" / "snl" / "animals.csv", dtype=str)
    table = _formalin_table(animals, np.random.default_rng(3)).assign(timepoint="day 3")
    with pytest.raises(InputError, match="time point 'day 3' is not declared"):
        run_study(_study(repo_dir, tmp_path, table), tmp_path / "out")
