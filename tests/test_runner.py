"""``nplab run`` on the sample studies recovers the documented ground truth."""

from __future__ import annotations

import shutil
from pathlib import Path

import pandas as pd
import pytest
from click.testing import CliRunner

from nplab.cli import cli
from nplab.errors import InputError
from nplab.runner import run_study

pytestmark = pytest.mark.slow  # runs the full sample study (~10-30 s on a shared 2-core box)

CCI_GROUPS = [
    "Sham + vehicle",
    "CCI + vehicle",
    "CCI + amitriptyline 3 mg/kg",
    "CCI + amitriptyline 10 mg/kg",
    "CCI + duloxetine 30 mg/kg",
]


@pytest.fixture(scope="module")
def cci_run(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    out = tmp_path_factory.mktemp("cci-run")
    return run_study(repo_dir / "sample_data" / "cci_study.toml", out)


@pytest.fixture()
def study_copy(repo_dir: Path, tmp_path: Path) -> Path:
    for name in ("cci", "snl"):
        shutil.copytree(repo_dir / "sample_data" / name, tmp_path / name)
    for name in ("cci_study.toml", "snl_study.toml"):
        shutil.copy(repo_dir / "sample_data" / name, tmp_path / name)
    (tmp_path / "ephys").symlink_to(repo_dir / "sample_data" / "ephys")  # recordings: read only
    return tmp_path / "cci_study.toml"


def _truth(repo_dir: Path, excluded: set[str]) -> pd.DataFrame:
    t = pd.read_csv(repo_dir / "sample_data" / "cci" / "truth.csv")
    return t[~t["animal"].isin(excluded)]


def test_outputs_written(cci_run) -> None:
    out = cci_run.outdir
    for name in (
        "report.html", "manifest.json", "tables/exclusions.csv", "tables/vonfrey_thresholds.csv",
        "tables/vonfrey_descriptives.csv", "tables/vonfrey_anova.csv",
        "tables/vonfrey_dunnett.csv", "tables/arrive_checklist.csv",
        "figures/vonfrey_timecourse_ipsi.png", "figures/vonfrey_timecourse_ipsi.svg",
        "figures/vonfrey_timecourse_contra.svg", "figures/hargreaves_timecourse_ipsi.svg",
        "tables/hargreaves_summary.csv", "tables/vonfrey_endpoints.csv",
        "tables/patchclamp_fits.csv", "figures/patchclamp_concentration_response.svg",
    ):
        assert (out / name).is_file(), name
    assert not list(out.glob(".nplab-stage-*"))  # staging folder cleaned up


def test_exclusions_are_the_simulated_non_responders(cci_run) -> None:
    ex = cci_run.exclusions
    assert list(ex["animal"]) == ["R07", "R33"]
    assert set(ex["rule"]) == {"no allodynia at pre-dose"}
    assert list(ex["group"]) == ["CCI + vehicle", "CCI + amitriptyline 3 mg/kg"]  # unblinded
    assert all("D14" in r and "> 4 g" in r for r in ex["reason"])


def test_vonfrey_recovers_truth(cci_run, repo_dir: Path) -> None:
    desc = pd.read_csv(cci_run.outdir / "tables" / "vonfrey_descriptives.csv")
    assert set(desc["group"]) == set(CCI_GROUPS)  # unblinded at the end
    n = desc[(desc["paw"] == "ipsi") & (desc["timepoint"] == "2h")].set_index("group")["n"]
    assert n.to_dict() == {g: (9 if g in CCI_GROUPS[1:3] else 10) for g in CCI_GROUPS}
    truth = _truth(repo_dir, {"R07", "R33"})
    true_mean = truth.groupby(["group", "paw", "timepoint"])["true_log10_threshold_g"].mean()
    ipsi = desc[desc["paw"] == "ipsi"].set_index(["group", "timepoint"])["mean"]
    # Post-dose ipsilateral group means (log10 g) within 0.15 of the simulated truth
    # (SE of a group mean of up-down estimates ~ 0.05; thresholds far from the kit's ends).
    for g in CCI_GROUPS[1:]:
        for tp in ("D14", "1h", "2h", "4h", "6h"):
            assert abs(ipsi[(g, tp)] - true_mean[(g, "ipsi", tp)]) < 0.15, (g, tp)
    at2h = ipsi.xs("2h", level="timepoint")
    order = [g for g in at2h.sort_values(ascending=False).index]
    assert order == ["Sham + vehicle", "CCI + duloxetine 30 mg/kg",
                     "CCI + amitriptyline 10 mg/kg", "CCI + amitriptyline 3 mg/kg",
                     "CCI + vehicle"]


def test_statistics_find_the_simulated_effects(cci_run) -> None:
    anova = pd.read_csv(cci_run.outdir / "tables" / "vonfrey_anova.csv")
    a = anova.set_index(["paw", "source"])
    assert a.loc[("ipsi", "group:timepoint"), "p_gg"] < 1e-6
    assert a.loc[("contra", "group:timepoint"), "p_gg"] > 0.05  # drugs act on the injured paw
    assert (anova["n_animals"] == 48).all()
    dun = pd.read_csv(cci_run.outdir / "tables" / "vonfrey_dunnett.csv")
    d2 = dun[(dun["paw"] == "ipsi") & (dun["timepoint"] == "2h")].set_index("group")
    for g in ("CCI + amitriptyline 10 mg/kg", "CCI + duloxetine 30 mg/kg"):
        assert d2.at[g, "diff"] > 0.3 and d2.at[g, "p"] < 0.001
    assert "CCI + vehicle" not in d2.index  # the control is not compared with itself
    d14 = dun[(dun["paw"] == "ipsi") & (dun["timepoint"] == "D14")].set_index("group")
    for g in CCI_GROUPS[2:]:
        assert d14.at[g, "p"] > 0.05  # no group difference before dosing


def test_hargreaves_recovers_truth(cci_run, repo_dir: Path) -> None:
    summ = pd.read_csv(cci_run.outdir / "tables" / "hargreaves_summary.csv")
    assert summ["n_at_cutoff"].sum() == 20  # the simulated cut-off trials (README)
    desc = pd.read_csv(cci_run.outdir / "tables" / "hargreaves_descriptives.csv")
    ipsi = desc[desc["paw"] == "ipsi"].set_index(["group", "timepoint"])["mean"]
    truth = _truth(repo_dir, {"R07", "R33"})
    true_mean = truth.groupby(["group", "paw", "timepoint"])["true_latency_s"].mean()
    # group mean latency (s) of 3 trials x 9-10 animals within 1.5 s of the true mean
    for g in CCI_GROUPS:
        for tp in ("D14", "2h"):
            assert abs(ipsi[(g, tp)] - true_mean[(g, "ipsi", tp)]) < 1.5, (g, tp)
    assert ipsi[("CCI + duloxetine 30 mg/kg", "2h")] > ipsi[("CCI + vehicle", "2h")] + 3


def test_patchclamp_recovers_ic50s(cci_run) -> None:
    fits = pd.read_csv(cci_run.outdir / "tables" / "patchclamp_fits.csv")
    pooled = fits[fits["level"] == "pooled_mean_log"].set_index("condition")
    # true values: sample_data/ephys/truth.csv (K_R 20 uM, apparent 0.474 uM at h = 0.5,
    # hERG 4.78 uM): inside the pooled 95% CI and within 8% of the estimate
    for cond, true in (("patchclamp-nav-resting", 20.0), ("patchclamp-nav-inactivated", 0.474),
                       ("patchclamp-herg", 4.78)):
        assert pooled.at[cond, "ic50_ci_low_um"] <= true <= pooled.at[cond, "ic50_ci_high_um"]
        assert abs(pooled.at[cond, "ic50_um"] / true - 1) < 0.08, cond
    state = pd.read_csv(cci_run.outdir / "tables" / "patchclamp_state.csv")
    st = state[state["level"] == "pooled_mean_log"].iloc[0]
    assert abs(st["k_r_um"] / 20.0 - 1) < 0.08 and abs(st["k_i_um"] / 0.24 - 1) < 0.08
    cells = pd.read_csv(cci_run.outdir / "tables" / "patchclamp_cells.csv")
    failed = set(cells.loc[cells["cell_status"] != "ok", "cell"])
    assert "navrest-cell04" in failed  # 40 % Ra drift: fails QC, not pooled
    assert pooled.at["patchclamp-nav-resting", "n_cells"] == 3


def test_report_states_blinding_and_exclusions(cci_run) -> None:
    page = (cci_run.outdir / "report.html").read_text()
    assert "coded group labels" in page and "unblinding_key.csv" in page
    assert "R07" in page and "R33" in page and "no allodynia at pre-dose" in page
    assert "ARRIVE 2.0 Essential 10" in page


def test_blind_without_key_stays_coded(study_copy: Path, tmp_path: Path) -> None:
    text = study_copy.read_text().replace('key = "cci/unblinding_key.csv"\n', "")
    study_copy.write_text(text)
    res = run_study(study_copy, tmp_path / "out")
    desc = pd.read_csv(tmp_path / "out" / "tables" / "vonfrey_descriptives.csv")
    assert set(desc["group"]) == set("ABCDE")
    assert not (tmp_path / "out" / "tables" / "vonfrey_dunnett.csv").exists()
    assert "No unblinding key" in (tmp_path / "out" / "report.html").read_text()
    assert list(res.exclusions["animal"]) == ["R07", "R33"]  # decided blind, same result


def test_failed_run_leaves_outdir_untouched(study_copy: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    out.mkdir()
    (out / "keep.txt").write_text("x")
    sheet = study_copy.parent / "cci" / "vonfrey.csv"
    lines = sheet.read_text().splitlines()
    lines[5] = lines[5].replace("R0", "Q0", 1)  # an animal that is not in the animals table
    sheet.write_text("\n".join(lines) + "\n")
    with pytest.raises(InputError, match=r"vonfrey.csv, row 6, column 'animal'"):
        run_study(study_copy, out)
    assert sorted(p.name for p in out.iterdir()) == ["keep.txt"]


def test_cli_runs_several_studies(study_copy: Path, tmp_path: Path) -> None:
    snl = study_copy.parent / "snl_study.toml"
    r = CliRunner().invoke(cli, ["run", str(snl), str(snl), "-o", str(tmp_path / "o")])
    assert r.exit_code != 0 and "snl-sample" in str(r.exception or r.output)
    r = CliRunner().invoke(cli, ["run", str(snl), "-o", str(tmp_path / "one")])
    assert r.exit_code == 0, r.output
    assert (tmp_path / "one" / "report.html").is_file()
    text = snl.read_text()
    for cohort in ("c1", "c2"):
        p = study_copy.parent / f"{cohort}.toml"
        p.write_text(text.replace('id = "snl-sample"', f'id = "{cohort}"'))
    r = CliRunner().invoke(cli, ["run", str(study_copy.parent / "c1.toml"),
                                 str(study_copy.parent / "c2.toml"), "-o", str(tmp_path / "many")])
    assert r.exit_code == 0, r.output
    for name in ("c1", "c2"):
        assert (tmp_path / "many" / name / "report.html").is_file()
    a, b = (tmp_path / "many" / n / "tables" / "vonfrey_descriptives.csv" for n in ("c1", "c2"))
    assert a.read_bytes() == b.read_bytes()
    assert "progress" not in r.output.lower()


def test_by_cohort(study_copy: Path, tmp_path: Path) -> None:
    snl = study_copy.parent / "snl_study.toml"
    r = CliRunner().invoke(cli, ["run", str(snl), "--by-cohort", "-o", str(tmp_path / "co")])
    assert r.exit_code == 0, r.output
    for c in ("1", "2"):
        desc = pd.read_csv(tmp_path / "co" / f"snl-sample-{c}" / "tables" /
                           "vonfrey_descriptives.csv")
        assert set(desc["n"]) == {3}  # 3 animals per group in each cohort
        page = (tmp_path / "co" / f"snl-sample-{c}" / "report.html").read_text()
        assert f"Cohort {c} only (9 of 18 animals)" in page


def test_rerun_into_used_folder_removes_only_stale_outputs(repo_dir: Path, tmp_path: Path) -> None:
    # review8: a von Frey-only study run into a folder holding an earlier full run left
    # the earlier Hargreaves tables/figures beside the new report (not in its manifest).
    import json

    study_dir = tmp_path / "study"
    shutil.copytree(repo_dir / "sample_data" / "snl", study_dir / "snl")
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text()
    (study_dir / "snl_study.toml").write_text(text)
    out = tmp_path / "out"
    run_study(study_dir / "snl_study.toml", out)
    stale = out / "tables" / "stale_from_earlier.csv"
    stale.write_text("x\n")
    record = json.loads((out / "manifest.json").read_text())
    from nplab.tables import sha256_file

    record["outputs"].append({"path": "tables/stale_from_earlier.csv",
                              "sha256": sha256_file(stale)})
    edited = out / "tables" / "edited_since.csv"
    edited.write_text("edited by the user\n")
    record["outputs"].append({"path": "tables/edited_since.csv", "sha256": "0" * 64})
    record["outputs"].append({"path": "../outside.txt", "sha256": "0"})
    (out / "manifest.json").write_text(json.dumps(record))
    (tmp_path / "outside.txt").write_text("keep\n")
    (out / "notes.txt").write_text("user file\n")
    res = run_study(study_dir / "snl_study.toml", out)
    assert not stale.exists()
    # issue 18.8: an old output edited since (hash differs) is kept, and the run says so
    assert edited.exists()
    assert any("edited_since.csv" in line for line in res.kept_stale)
    assert (out / "notes.txt").exists() and (tmp_path / "outside.txt").exists()
    for rel in res.outputs:
        assert (out / rel).is_file()


def test_two_study_files_with_one_id_name_the_files(repo_dir: Path, tmp_path: Path) -> None:
    # review8: the error named the key but neither study file
    shutil.copytree(repo_dir / "sample_data" / "snl", tmp_path / "snl")
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text()
    (tmp_path / "a.toml").write_text(text)
    (tmp_path / "b.toml").write_text(text)
    res = CliRunner().invoke(cli, ["run", str(tmp_path / "a.toml"), str(tmp_path / "b.toml"),
                                   "-o", str(tmp_path / "out")])
    assert res.exit_code != 0 and isinstance(res.exception, InputError)
    msg = str(res.exception)
    assert "b.toml" in msg and "a.toml" in msg and "study.id" in msg
    assert not (tmp_path / "out").exists()


def test_an_executor_object_is_used_here_and_named_in_the_manifest(repo_dir, tmp_path):
    """run_study(executor=<Executor>) (documented) ran into a JSON error writing the
    manifest; reads are then not forked (the executor belongs to this process)."""
    import json
    from concurrent.futures import ThreadPoolExecutor

    from nplab.runner import run_study

    with ThreadPoolExecutor(1) as ex:
        res = run_study(repo_dir / "sample_data" / "snl_study.toml", tmp_path / "o", executor=ex)
    record = json.loads((tmp_path / "o" / "manifest.json").read_text())
    assert record["parameters"]["executor"] == "ThreadPoolExecutor"
    serial = run_study(repo_dir / "sample_data" / "snl_study.toml", tmp_path / "s", jobs=1)
    assert res.outputs == serial.outputs
    for name in res.outputs:
        if name != "manifest.json":
            assert (tmp_path / "o" / name).read_bytes() == (tmp_path / "s" / name).read_bytes()
