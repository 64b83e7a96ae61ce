"""%-response von Frey: % per filament, psychometric 50 % threshold, statuses, public data.

References: R 4.x ``glm(binomial)`` + ``MASS::dose.p`` on the budworm data (Collett 1991;
Venables & Ripley 2002 section 7.2), recorded by ``reference/percent_reference.R``;
hand counts; the public CCI mouse data of Abdus-Saboor et al. 2019 (shared corpus).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.vonfrey.percent import (
    percent_response,
    psychometric_fit,
    psychometric_thresholds,
    read_pain_scores,
)

REF = Path(__file__).parent / "reference"


@pytest.mark.parametrize("link", ["logit", "probit"])
def test_threshold_matches_r_glm_dose_p(link):
    data = pd.read_csv(REF / "budworm.csv").rename(columns={"dose_ug": "force_g"})
    out = psychometric_thresholds(data, by=["sex"], link=link).set_index("sex")
    ref = pd.read_csv(REF / "percent_reference.csv")
    ref = ref[ref["link"] == link].set_index("sex")
    for sex in ("M", "F"):
        assert out.loc[sex, "status"] == "ok"
        # estimates to 1e-6; the SE (from the last IRLS weights) to 1e-4, because R's glm
        # stops on a relative deviance change of 1e-8 and statsmodels on its own criterion
        for col, rel in (
            ("log10_threshold", 1e-6),
            ("intercept", 1e-5),
            ("slope_log10", 1e-5),
            ("se_log10", 1e-4),
        ):
            assert out.loc[sex, col] == pytest.approx(ref.loc[sex, col], rel=rel)
        m, se = ref.loc[sex, "log10_threshold"], ref.loc[sex, "se_log10"]
        assert out.loc[sex, "ci_low_g"] == pytest.approx(10 ** (m - 1.959964 * se), rel=1e-4)
        assert out.loc[sex, "threshold_50_g"] == pytest.approx(10**m, rel=1e-6)


def test_percent_per_filament_by_hand():
    df = pd.DataFrame(
        {
            "animal": "M1",
            "force_g": [0.4] * 5 + [1.0] * 5 + [2.0] * 5,
            "response": list("OOOOX") + list("OXOXX") + list("XXXXX"),
        }
    )
    pct = percent_response(df)
    assert list(pct["percent_withdrawal"]) == [20.0, 60.0, 100.0]
    assert list(pct["n_applied"]) == [5, 5, 5]
    thr = psychometric_thresholds(df)
    assert thr["status"].iloc[0] == "ok"
    assert 0.4 < thr["threshold_50_g"].iloc[0] < 1.0  # 50 % crossed between 20 % and 60 %


@pytest.mark.parametrize(
    ("w", "status"),
    [
        ([5, 5, 5], "all_responded"),
        ([0, 0, 0], "none_responded"),
        ([0, 0, 5], "separated"),
        ([5, 3, 0], "decreasing"),
    ],
)
def test_unidentifiable_fits_are_statuses_not_numbers(w, status):
    res = psychometric_fit(np.array([0.4, 1.0, 2.0]), np.array([5, 5, 5]), np.array(w))
    assert res["status"] == status
    assert np.isnan(res["threshold_50_g"])
    assert res["message"]


def test_one_filament_and_bad_input():
    res = psychometric_fit(np.array([1.0]), np.array([5]), np.array([2]))
    assert res["status"] == "too_few_filaments"
    bad = pd.DataFrame({"animal": "A", "force_g": [1.0, 2.0], "response": ["X", "maybe"]})
    with pytest.raises(InputError, match=r"row 3.*'response'"):
        percent_response(bad)
    counts = pd.DataFrame({"animal": "A", "force_g": [1.0], "n_applied": [5], "n_withdrawals": [6]})
    with pytest.raises(InputError, match="n_withdrawals"):
        percent_response(counts)


def test_public_cci_mouse_data_load_without_reshaping(shared_dir):
    folder = shared_dir / "data" / "behaviour" / "abdus_saboor_2019_cci"
    if not folder.is_dir():
        pytest.skip("public CCI mouse data not in the shared corpus")
    data = read_pain_scores(folder)
    assert len(data) == 142 + 148
    assert set(data["paw"]) == {"ipsi", "contra"}
    assert set(data["force_g"]) == {0.07, 0.6, 1.4}
    assert data["animal"].nunique() == 10
    # SOURCES.md curation table: mean Pain Score, injured paw, Week 2 at 0.07 g = 1.50
    sel = data[
        (data["paw"] == "ipsi") & (data["timepoint"] == "Week 2") & (data["force_g"] == 0.07)
    ]
    assert sel["pain_score"].mean() == pytest.approx(1.50, abs=0.005)
    thr = psychometric_thresholds(data)  # per animal x paw x timepoint: mostly not identifiable
    assert len(thr) == data.groupby(["animal", "paw", "timepoint"]).ngroups
    assert (
        thr["status"]
        .isin(
            [
                "ok",
                "extrapolated",
                "far_outside_range",
                "all_responded",
                "none_responded",
                "separated",
                "decreasing",
            ]
        )
        .all()
    )
    ok = thr["status"].isin(["ok", "extrapolated"])
    assert thr.loc[ok, "threshold_50_g"].notna().all()
    assert thr.loc[~ok, "threshold_50_g"].isna().all()
    naive = shared_dir / "data" / "behaviour" / "abdus_saboor_2019_cci" / "c57_male_naive.csv"
    with pytest.raises(InputError, match="not a von Frey force"):
        read_pain_scores(naive)
