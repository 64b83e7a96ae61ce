"""The open-field room runs the sedation check on the SNL sample study.

Simulated open-field sessions (written by the test, seeded): about 25 m per 10-min
session in every group, and 40 % less after amitriptyline 10 mg/kg at 2 h; the sample
study's truth (sample_data/README.md) has amitriptyline reversing the SNL allodynia at
2 h, so the check must report the dose as confounded at 2 h.  References: the group
means of the written distances and scipy's Welch t test; the sentence in the report.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from nplab.runner import run_study

pytestmark = pytest.mark.slow

DRUG = "SNL + amitriptyline 10 mg/kg"
VEHICLE = "SNL + vehicle"


def _sessions(repo_dir: Path, deficit: float, rng: np.random.Generator) -> pd.DataFrame:
    animals = pd.read_csv(repo_dir / "sample_data" / "snl" / "animals.csv", dtype=str)
    rows = []
    for a, g in zip(animals["animal"], animals["group"], strict=True):
        for tp in ("BL", "D7", "2h"):
            mean = 25.0 * (1 - deficit if (g == DRUG and tp == "2h") else 1.0)
            rows.append({"animal": a, "timepoint": tp,
                         "distance_cm": round(100 * rng.normal(mean, 2.5), 1)})
    return pd.DataFrame(rows)


def _run(repo_dir: Path, folder: Path, sessions: pd.DataFrame) -> Path:
    shutil.copytree(repo_dir / "sample_data" / "snl", folder / "snl", dirs_exist_ok=True)
    sessions.to_csv(folder / "openfield.csv", index=False)
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text(encoding="utf-8")
    text = text.replace('vonfrey = "snl/vonfrey.csv"',
                        'vonfrey = "snl/vonfrey.csv"\nopen_field = "openfield.csv"')
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return run_study(folder / "study.toml", folder / "out").outdir


@pytest.fixture(scope="module")
def sedated(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    sessions = _sessions(repo_dir, 0.4, np.random.default_rng(5))
    return _run(repo_dir, tmp_path_factory.mktemp("openfield"), sessions), sessions


def test_sedation_check_reports_the_distance_deficit(sedated) -> None:
    out, sessions = sedated
    sed = pd.read_csv(out / "tables" / "open_field_sedation_check.csv")
    row = sed.set_index(["group", "timepoint"]).loc[(DRUG, "2h")]
    animals = pd.read_csv(out.parent / "snl" / "animals.csv")
    d = sessions.merge(animals[["animal", "group"]], on="animal")
    d = d[d["timepoint"] == "2h"]
    drug = d.loc[d["group"] == DRUG, "distance_cm"].to_numpy() / 100
    veh = d.loc[d["group"] == VEHICLE, "distance_cm"].to_numpy() / 100
    assert row["motor_dose"] == pytest.approx(drug.mean(), rel=1e-12)
    assert row["motor_vehicle"] == pytest.approx(veh.mean(), rel=1e-12)
    assert row["motor_p"] == pytest.approx(stats.ttest_ind(drug, veh, equal_var=False).pvalue,
                                           rel=1e-9)
    assert row["motor_deficit"] and row["analgesic_effect"] and row["confounded"]
    assert set(sed["group"]) == {DRUG}  # vehicle groups are not doses
    html = (out / "report.html").read_text(encoding="utf-8")
    assert f"could explain the apparent analgesia of {DRUG} at 2h" in html
    summ = pd.read_csv(out / "tables" / "open_field_summary.csv")
    assert set(summ["paw"]) == {"whole"} and "speed_cm_s" in summ.columns


def test_no_deficit_no_confound(repo_dir: Path, tmp_path: Path) -> None:
    out = _run(repo_dir, tmp_path, _sessions(repo_dir, 0.0, np.random.default_rng(6)))
    sed = pd.read_csv(out / "tables" / "open_field_sedation_check.csv")
    assert not sed["confounded"].any()
    assert sed.set_index("timepoint").loc["2h", "verdict"] == (
        "analgesic effect without a motor deficit"
    )
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "No motor deficit coincided with an analgesic effect" in html
