"""``[design]`` in the study file (issue 14.7): sex from the animals table, paw as a
within-animal factor, Dunnett within each sex, figures per sex, the post hoc gate; the CCI
sample study's documented sex × treatment truth (sample_data/README.md) is recovered."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.runner import run_study
from nplab.study import load_study

pytestmark = pytest.mark.slow  # runs the sample study (von Frey + Hargreaves, ~10 s)

DUL, VEH = "CCI + duloxetine 30 mg/kg", "CCI + vehicle"


@pytest.fixture(scope="module")
def sex_run(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    return run_study(repo_dir / "sample_data" / "cci_sex_study.toml",
                     tmp_path_factory.mktemp("cci-sex-run"))


def test_one_factorial_anova_with_paw_within(sex_run) -> None:
    anova = pd.read_csv(sex_run.outdir / "tables" / "vonfrey_anova.csv")
    assert set(anova["paw"]) == {"ipsi+contra"}
    assert (anova["n_animals"] == 48).all()
    a = anova.set_index("source")
    assert "group:sex:timepoint:paw" in a.index
    assert a.loc["group:timepoint:paw", "p_gg"] < 1e-6  # the drugs act on the injured paw
    assert a.loc["sex", "p"] > 0.05  # no simulated main effect of sex


def test_dunnett_within_sex_recovers_the_sex_by_treatment_truth(sex_run, repo_dir) -> None:
    dun = pd.read_csv(sex_run.outdir / "tables" / "vonfrey_dunnett.csv")
    assert list(dun.columns[:4]) == ["paw", "timepoint", "sex", "group"]
    assert (dun["df"] == 48 - 10).all()  # N − group × sex cells
    at = dun[(dun["paw"] == "ipsi") & (dun["timepoint"] == "2h")].set_index(["group", "sex"])
    truth = pd.read_csv(repo_dir / "sample_data" / "cci" / "truth.csv")
    truth = truth[~truth["animal"].isin(["R07", "R33"]) & (truth["paw"] == "ipsi")
                  & (truth["timepoint"] == "2h")]
    true = truth.groupby(["group", "sex"])["true_log10_threshold_g"].mean()
    for sex in ("male", "female"):
        true_diff = true[(DUL, sex)] - true[(VEH, sex)]
        # SE of a difference of two 4-5 animal means of up-down estimates ≈ 0.07
        assert abs(at.loc[(DUL, sex), "diff"] - true_diff) < 0.2, sex
        assert at.loc[(DUL, sex), "p"] < 0.001
    # the documented truth: duloxetine works more in females (E 0.70 vs 0.40 log10 g)
    assert at.loc[(DUL, "female"), "diff"] - at.loc[(DUL, "male"), "diff"] > 0.1


def test_figures_per_paw_and_sex_and_report_words(sex_run) -> None:
    for paw in ("ipsi", "contra"):
        for sex in ("male", "female"):
            assert (sex_run.outdir / "figures" / f"vonfrey_timecourse_{paw}_{sex}.svg").is_file()
    html = (sex_run.outdir / "report.html").read_text(encoding="utf-8")
    assert "A four-way mixed ANOVA (group × sex × time point × paw)" in html
    assert "at each time point × paw × sex" in html
    by_sex = pd.read_csv(sex_run.outdir / "tables" / "vonfrey_descriptives_by_sex.csv")
    assert set(by_sex["sex"]) == {"male", "female"}


def _study_with(repo_dir: Path, tmp_path: Path, design: str, animals_edit=None) -> Path:
    shutil.copytree(repo_dir / "sample_data" / "cci", tmp_path / "cci")
    text = (repo_dir / "sample_data" / "cci_sex_study.toml").read_text(encoding="utf-8")
    head, rest = text.split("\n[design]\n", 1)
    rest = rest.split("[[exclusions]]", 1)[1]
    path = tmp_path / "s.toml"
    path.write_text(head + "\n" + design + "\n[[exclusions]]" + rest, encoding="utf-8")
    if animals_edit is not None:
        a = pd.read_csv(tmp_path / "cci" / "animals.csv")
        animals_edit(a).to_csv(tmp_path / "cci" / "animals.csv", index=False)
    return path


@pytest.mark.parametrize(("design", "column"), [
    ('[design]\nbetween = ["sex", "group"]\n', "design.between"),
    ('[design]\nwithin = ["time", "leg"]\n', "design.within"),
    ('[design]\nposthoc_gate = "sometimes"\n', "design.posthoc_gate"),
])
def test_design_refusals_name_the_key(repo_dir, tmp_path, design, column) -> None:
    with pytest.raises(InputError) as err:
        load_study(_study_with(repo_dir, tmp_path, design))
    assert err.value.column == column


def test_design_defaults_and_boolean_gate(repo_dir, tmp_path) -> None:
    st = load_study(_study_with(repo_dir, tmp_path, "[design]\nposthoc_gate = false\n"))
    assert st.design == {"between": ["group"], "within": ["timepoint"], "posthoc_gate": "none"}
    assert load_study(repo_dir / "sample_data" / "snl_study.toml").design["between"] == ["group"]


def test_animal_without_sex_is_an_input_error(repo_dir, tmp_path) -> None:
    def blank(a):
        a.loc[a["animal"] == "R05", "sex"] = None
        return a
    path = _study_with(repo_dir, tmp_path, '[design]\nbetween = ["group", "sex"]\n', blank)
    with pytest.raises(InputError, match="R05") as err:
        run_study(path, tmp_path / "out")
    assert err.value.column == "sex"
