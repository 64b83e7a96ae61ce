"""SUDO (Bonin, Bories & De Koninck 2014, Mol Pain 10:26): filament units and grams.

Filament-unit values are hand-derived from the rule (5 stimuli from the middle filament,
down after X, up after O; 5th filament number -0.5 if X, +0.5 if O).  Grams come from
the kit's log-linear fit, checked against R's lm in reference/sudo_reference.R
(tolerance rel 1e-9).
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.vonfrey import sudo_fit, thresholds
from nplab.vonfrey.kits import KITS

REF = pd.read_csv(Path(__file__).parent / "reference" / "sudo_reference.csv")


def sheet(*responses: str) -> pd.DataFrame:
    return pd.DataFrame({"animal": [f"m{i}" for i in range(len(responses))], "responses": responses})


@pytest.mark.parametrize("kit", ["mouse-9", "chaplan-rat"])
def test_fit_matches_r_lm(kit):
    slope, intercept = sudo_fit(KITS[kit])
    ref = REF[REF["kit"] == kit].iloc[0]
    assert slope == pytest.approx(ref["slope"], rel=1e-10)
    assert intercept == pytest.approx(ref["intercept"], rel=1e-10)


@pytest.mark.parametrize(
    ("series", "filament", "status"),
    [
        ("XOXOX", 4.5, "ok"),  # 5 4 5 4 5, X at #5
        ("OXOXO", 5.5, "ok"),  # 5 6 5 6 5, O at #5
        ("XXOOO", 5.5, "ok"),  # 5 4 3 4 5
        ("OOOXX", 6.5, "ok"),  # 5 6 7 8 7, X at #7
        ("OOOOO", 9.5, "above_range"),  # 5 6 7 8 9, O at #9
        ("xxxxx", 0.5, "below_range"),  # 5 4 3 2 1, X at #1
    ],
)
def test_sudo_mouse_kit(series, filament, status):
    out = thresholds(sheet(series), "vonfrey-sudo")
    row = out.iloc[0]
    assert list(out.columns[:3]) == ["animal", "threshold_filament", "threshold_g"]
    assert row["threshold_filament"] == filament and row["status"] == status
    ref = REF[(REF["kit"] == "mouse-9") & (REF["filament"] == filament)]["grams"].iloc[0]
    assert row["threshold_g"] == pytest.approx(ref, rel=1e-9)
    assert row["method"] == "sudo" and row["protocol"] == "vonfrey-sudo@1.0.0"


def test_sudo_rat_kit_even_count_starts_below_middle():
    # 8 filaments: default start is #4 (2.0 g); OOXOX: 4 5 6 5 6, X at #6 -> 5.5
    row = thresholds(sheet("OOXOX"), "vonfrey-sudo", kit="chaplan-rat", start_filament=2.0).iloc[0]
    assert row["threshold_filament"] == 5.5
    ref = REF[(REF["kit"] == "chaplan-rat") & (REF["filament"] == 5.5)]["grams"].iloc[0]
    assert row["threshold_g"] == pytest.approx(ref, rel=1e-9)


def test_sudo_incomplete_overrun_invalid():
    out = thresholds(sheet("XOXO", "XOXOXO"), "vonfrey-sudo")
    assert list(out["status"]) == ["incomplete", "overrun"]
    assert pd.isna(out.loc[0, "threshold_g"]) and out.loc[1, "threshold_filament"] == 4.5
    with pytest.raises(InputError, match=r"row 2, column .responses.*only X"):
        thresholds(sheet("XOZOX"), "vonfrey-sudo")
