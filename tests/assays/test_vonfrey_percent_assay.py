"""The von Frey %-response room on the SNL sample study with simulated filament data.

Simulated (written by the test, seeded): for every animal x paw x time point of the
SNL sample study, 9 filaments (0.6-26 g) applied 10 times each, withdrawals binomial
with a logistic psychometric curve on log10 force (slope 5 per log10 g) centred on the
study's true threshold (sample_data/snl/truth.csv).  References: the thresholds equal a
direct call of :func:`nplab.vonfrey.percent.psychometric_thresholds` (the room only
wires it); the recovered thresholds lie near the truth; the truth's effect
(amitriptyline reverses the ipsilateral allodynia at 2 h) is found by Dunnett.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.runner import run_study
from nplab.vonfrey.percent import psychometric_thresholds

pytestmark = pytest.mark.slow

FILAMENTS = (0.6, 1.0, 1.4, 2.0, 4.0, 6.0, 8.0, 15.0, 26.0)


def _applications(truth: pd.DataFrame, rng: np.random.Generator) -> pd.DataFrame:
    rows = []
    for r in truth.itertuples():
        for f in FILAMENTS:
            p = 1.0 / (1.0 + np.exp(-5.0 * (np.log10(f) - r.true_log10_threshold_g)))
            rows.append({"animal": r.animal, "paw": r.paw, "timepoint": r.timepoint,
                         "force_g": f, "n_applied": 10, "n_withdrawals": rng.binomial(10, p)})
    return pd.DataFrame(rows)


@pytest.fixture(scope="module")
def run(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    folder = tmp_path_factory.mktemp("vfpct")
    shutil.copytree(repo_dir / "sample_data" / "snl", folder / "snl")
    truth = pd.read_csv(folder / "snl" / "truth.csv")
    data = _applications(truth, np.random.default_rng(11))
    data.to_csv(folder / "vfpct.csv", index=False)
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text(encoding="utf-8")
    text = text.replace('vonfrey = "snl/vonfrey.csv"',
                        'vonfrey = "snl/vonfrey.csv"\nvonfrey_percent = "vfpct.csv"')
    (folder / "study.toml").write_text(text, encoding="utf-8")
    return run_study(folder / "study.toml", folder / "out").outdir, data, truth


def test_thresholds_are_the_psychometric_fits(run) -> None:
    out, data, truth = run
    got = pd.read_csv(out / "tables" / "vonfrey_percent_thresholds.csv")
    ref = psychometric_thresholds(data, by=["animal", "paw", "timepoint"])
    m = got.merge(ref, on=["animal", "paw", "timepoint"], suffixes=("", "_ref"))
    assert len(m) == len(ref) == len(truth)
    np.testing.assert_allclose(m["threshold_50_g"], m["threshold_50_g_ref"], rtol=1e-12)
    assert (m["status"] == m["status_ref"]).all()
    # near the simulated truth (10 applications x 9 filaments per fit)
    t = m.merge(truth, on=["animal", "paw", "timepoint"])
    err = (t["log10_threshold"] - t["true_log10_threshold_g"]).abs()
    assert err.median() < 0.1


def test_time_course_statistics_find_the_reversal(run) -> None:
    out, _, _ = run
    dun = pd.read_csv(out / "tables" / "vonfrey_percent_dunnett.csv")
    at2 = dun[(dun["paw"] == "ipsi") & (dun["timepoint"] == "2h")].set_index("group")
    assert at2.loc["SNL + amitriptyline 10 mg/kg", "diff"] > 0
    assert at2.loc["SNL + amitriptyline 10 mg/kg", "p"] < 0.05
    assert (out / "tables" / "vonfrey_percent_endpoints.csv").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert 'id="vonfrey_percent"' in html and "the strongest filament applied" in html
