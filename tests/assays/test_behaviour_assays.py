"""The behaviour rooms on the CCI sample study recover the documented truth.

Truth (sample_data/README.md, cci/behaviour_truth.csv): amitriptyline 10 mg/kg and
duloxetine 30 mg/kg reverse the acetone cold allodynia of the ipsilateral paw at 2 h;
amitriptyline 10 mg/kg impairs rotarod performance at 1 h and 2 h (true -50 % and
-40 %), which the sedation check reports as a possible confound; no other drug group
has a motor deficit.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab import assays
from nplab.runner import run_study

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def run(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cci-behaviour")
    return run_study(repo_dir / "sample_data" / "cci_study.toml", out).outdir


def test_registered() -> None:
    reg = assays.registry()
    for name in (
        "acetone",
        "hot_plate",
        "rotarod",
        "tail_flick",
        "cold_plate",
        "randall_selitto",
        "electronic_vonfrey",
        "weight_bearing",
        "open_field",
        "vonfrey_percent",
    ):
        assert reg[name].name == name and reg[name].per_animal
    assert reg["formalin"].name == "formalin" and not reg["formalin"].per_animal


def test_acetone_reversal_recovered(run: Path) -> None:
    dun = pd.read_csv(run / "tables" / "acetone_dunnett.csv")
    at2 = dun[(dun["paw"] == "ipsi") & (dun["timepoint"] == "2h")].set_index("group")
    for drug in ("CCI + amitriptyline 10 mg/kg", "CCI + duloxetine 30 mg/kg"):
        assert at2.loc[drug, "diff"] < 0 and at2.loc[drug, "p"] < 0.05  # lower score
    desc = pd.read_csv(run / "tables" / "acetone_descriptives.csv")
    ipsi = desc[desc["paw"] == "ipsi"].set_index(["group", "timepoint"])["mean"]
    # allodynia: CCI + vehicle day-14 score sum far above its baseline (true 6.0 vs 0.9)
    assert ipsi[("CCI + vehicle", "D14")] > ipsi[("CCI + vehicle", "BL")] + 3


def test_sedation_check_reports_high_dose_only(run: Path) -> None:
    sed = pd.read_csv(run / "tables" / "rotarod_sedation_check.csv")
    confounded = set(
        zip(
            sed.loc[sed["confounded"], "group"],
            sed.loc[sed["confounded"], "timepoint"],
            strict=True,
        )
    )
    assert confounded == {
        ("CCI + amitriptyline 10 mg/kg", "1h"),
        ("CCI + amitriptyline 10 mg/kg", "2h"),
    }
    assert "Sham + vehicle" not in set(sed["group"])
    high = sed[sed["group"] == "CCI + amitriptyline 10 mg/kg"].set_index("timepoint")
    assert -60 < high.loc["2h", "motor_change_pct"] < -25  # true -40 %
    html = (run / "report.html").read_text(encoding="utf-8")
    assert "could explain the apparent analgesia of CCI + amitriptyline 10 mg/kg at 1h" in html
    assert (run / "tables" / "hot_plate_summary.csv").is_file()
    hp = pd.read_csv(run / "tables" / "hot_plate_summary.csv")
    assert set(hp["paw"]) == {"whole"}
