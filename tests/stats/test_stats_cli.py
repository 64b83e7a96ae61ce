"""``nplab stats ...`` end to end: outputs, manifests, determinism, exit codes."""

from __future__ import annotations

import json
from pathlib import Path

import click
import numpy as np
import pandas as pd
import pytest

from nplab.cli import main
from nplab.cli import stats as stats_cli

REF = Path(__file__).parent / "reference"


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out, out.err


def test_anova_matches_afex_and_writes_manifest(tmp_path, capsys):
    out = tmp_path / "aov.csv"
    code, _, err = run(["stats", "anova", REF / "anova_data_obk.csv", "-o", out, "--dv", "value",
                        "--between", "treatment", "--within", "hour", "--subject", "id"], capsys)  # fmt: skip
    assert code == 0, err
    got = pd.read_csv(out)
    exp = pd.read_csv(REF / "anova_expected_obk.csv", comment="#")
    assert list(got["source"]) == ["treatment", "hour", "treatment:hour"]
    assert got["F"].to_numpy() == pytest.approx(exp["F"].to_numpy(), rel=1e-9)
    manifest = json.loads((tmp_path / "aov.csv.manifest.json").read_text())
    assert manifest["parameters"]["within"] == "hour"
    first = out.read_bytes()
    run(["stats", "anova", REF / "anova_data_obk.csv", "-o", out, "--dv", "value",
         "--between", "treatment", "--within", "hour", "--subject", "id"], capsys)  # fmt: skip
    assert out.read_bytes() == first  # byte-identical rerun


def test_dunnett_one_way_and_pairwise(tmp_path, capsys):
    data = REF / "posthoc_data_dunnett1955.csv"
    out = tmp_path / "d.csv"
    code, _, err = run(["stats", "dunnett", data, "-o", out, "--dv", "count", "--group", "group",
                        "--control", "control"], capsys)  # fmt: skip
    assert code == 0, err
    got = pd.read_csv(out)
    exp = pd.read_csv(REF / "posthoc_expected_dunnett1955.csv", comment="#").iloc[:2]
    assert got["p"].to_numpy() == pytest.approx(exp["p"].to_numpy(), rel=1e-4)
    out2 = tmp_path / "p.csv"
    code, _, err = run(["stats", "pairwise", data, "-o", out2, "--dv", "count", "--group", "group",
                        "--pairs", "drug_a:control,drug_b:control", "--adjust", "bonferroni"],
                       capsys)  # fmt: skip
    assert code == 0, err
    assert list(pd.read_csv(out2)["a"]) == ["drug_a", "drug_b"]
    code, _, err = run(["stats", "tukey", data, "-o", tmp_path / "t.csv", "--dv", "count",
                        "--group", "group"], capsys)  # fmt: skip
    assert code == 0 and len(pd.read_csv(tmp_path / "t.csv")) == 3


def test_report_writes_tables_paragraph_and_figure(tmp_path, capsys):
    out = tmp_path / "rep.csv"
    fig = tmp_path / "rep.png"
    code, stdout, err = run(["stats", "report", REF / "anova_data_obk.csv", "-o", out,
                             "--dv", "value", "--between", "treatment", "--within", "hour",
                             "--subject", "id", "--control", "control", "--figure", fig], capsys)  # fmt: skip
    assert code == 0, err
    assert stdout.startswith("A two-way mixed ANOVA (treatment × hour)")
    assert (tmp_path / "rep.txt").read_text().strip() == stdout.strip()
    assert len(pd.read_csv(tmp_path / "rep.dunnett.csv")) == 10
    assert fig.read_bytes()[:4] == b"\x89PNG"


def test_mixed_with_emmeans(tmp_path, capsys):
    out = tmp_path / "lmm.csv"
    code, _, err = run(["stats", "mixed", REF / "lmm_data_cci_missing.csv", "-o", out,
                        "--formula", "log_threshold ~ C(group) * C(time)", "--subject", "animal",
                        "--emmeans", "group", "--dunnett-group", "group", "--control", "vehicle",
                        "--by", "time"], capsys)  # fmt: skip
    assert code == 0, err
    assert len(pd.read_csv(tmp_path / "lmm.dunnett.csv")) == 18
    assert list(pd.read_csv(out).columns) == ["term", "estimate", "se", "df", "t", "p", "ci_low",
                                                  "ci_high"]
    assert len(pd.read_csv(tmp_path / "lmm.emmeans.csv")) == 4


def test_bad_input_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("animal,group,y\na,veh,1\nb,veh,oops\nc,drug,2\nd,drug,3\n")
    code, _, err = run(["stats", "dunnett", bad, "-o", tmp_path / "o.csv", "--dv", "y",
                        "--group", "group", "--control", "veh"], capsys)  # fmt: skip
    assert code == 2 and "row 3" in err and "'y'" in err and "Traceback" not in err
    code, _, err = run(["stats", "dunnett", bad, "-o", tmp_path / "o.csv", "--dv", "nope",
                        "--group", "group", "--control", "veh"], capsys)  # fmt: skip
    assert code == 2 and "nope" in err
    assert not (tmp_path / "o.csv").exists()


def test_extension_modules_attach_in_one_line(monkeypatch):
    import sys
    import types

    extra = types.ModuleType("fake_stats_more")

    @click.group()
    def grp():
        pass

    @grp.command("kruskal")
    def kruskal():
        pass

    extra.command = grp
    monkeypatch.setitem(sys.modules, "fake_stats_more", extra)
    group = click.Group("stats")
    stats_cli._attach(group, ["fake_stats_more"])
    assert "kruskal" in group.commands


def test_factorial_anova_and_satterthwaite_mixed_model_from_the_command_line(tmp_path, capsys):
    ref = Path(__file__).parent / "reference"
    out = tmp_path / "aov.csv"
    code, _, err = run(["stats", "anova", ref / "anova_data_fact.csv", "-o", out,
                        "--dv", "log_threshold", "--between", "treatment,sex", "--within",
                        "time,paw", "--subject", "animal", "--observed", "sex"], capsys)  # fmt: skip
    assert code == 0, err
    exp = pd.read_csv(ref / "anova_expected_fact_2b2w.csv", comment="#")
    np.testing.assert_allclose(pd.read_csv(out)["F"], exp["F"], rtol=1e-6)
    out = tmp_path / "lmm.csv"
    code, text, err = run(["stats", "mixed", ref / "lmm_data_fact_missing.csv", "-o", out,
                           "--dv", "log_threshold", "--between", "treatment,sex", "--within",
                           "time,paw", "--subject", "animal", "--anova", "--control", "vehicle"],
                          capsys)  # fmt: skip
    assert code == 0, err
    assert "observations from 54 animals" in text
    got = pd.read_csv(tmp_path / "lmm.anova.csv")
    exp = pd.read_csv(ref / "lmm_satt_expected_anova.csv", comment="#").query("case == 'both'")
    np.testing.assert_allclose(got["df2"], exp["df2"], rtol=1e-4)
