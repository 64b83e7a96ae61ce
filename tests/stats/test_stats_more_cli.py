"""CLI wrappers in nplab.cli.stats_more (attached to ``nplab stats`` by the lead).

The commands are mounted on a temporary ``stats`` group of the real ``nplab`` CLI so that
exit codes and error messages go through :func:`nplab.cli.main`.
"""

from __future__ import annotations

import json
from pathlib import Path

import click
import pandas as pd
import pytest

import nplab.cli as nplab_cli
from nplab.cli.stats_more import COMMANDS

REF = Path(__file__).parent / "reference"


@pytest.fixture
def run(monkeypatch, capsys):
    group = click.Group("stats")
    for cmd in COMMANDS:
        group.add_command(cmd)
    monkeypatch.setitem(nplab_cli.cli.commands, "stats", group)

    def _run(*args: str) -> tuple[int, str, str]:
        with pytest.raises(SystemExit) as exc:
            nplab_cli.main(["stats", *map(str, args)])
        out = capsys.readouterr()
        return exc.value.code, out.out, out.err

    return _run


def test_command_names():
    assert [c.name for c in COMMANDS] == ["kruskal", "dunn", "mann-whitney", "friedman",
                                          "hedges-g", "endpoints", "power"]


def test_kruskal_cli_and_reproducible(run, tmp_path):
    out = tmp_path / "kw.csv"
    code, _, err = run("kruskal", REF / "np_airquality.csv", "--dv", "Ozone", "--group", "Month",
                       "-o", out)
    assert code == 0, err
    res = pd.read_csv(out)
    assert round(res.loc[0, "H"], 3) == 29.267
    manifest = json.loads((tmp_path / "kw.csv.manifest.json").read_text())
    assert manifest["parameters"]["group"] == "Month"
    first = out.read_bytes()
    run("kruskal", REF / "np_airquality.csv", "--dv", "Ozone", "--group", "Month", "-o", out)
    assert out.read_bytes() == first


def test_dunn_cli_control_numeric_levels_and_by(run, tmp_path):
    out = tmp_path / "dunn.csv"
    code, _, err = run("dunn", REF / "np_airquality.csv", "--dv", "Ozone", "--group", "Month",
                       "--control", "5", "-o", out)
    assert code == 0, err
    res = pd.read_csv(out)
    assert len(res) == 4 and set(res["b"]) == {5}
    fr = tmp_path / "fr.csv"
    code, _, err = run("dunn", REF / "np_fr_data.csv", "--dv", "score", "--group", "group",
                       "--control", "vehicle", "--by", "time", "-o", fr)
    assert code == 0, err
    res = pd.read_csv(fr)
    assert list(res.columns[:3]) == ["time", "a", "b"] and len(res) == 8


def test_mann_whitney_friedman_hedges_cli(run, tmp_path):
    code, _, err = run("mann-whitney", REF / "np_mw_exact.csv", "--dv", "v", "--group", "g",
                       "-o", tmp_path / "mw.csv")
    assert code == 0, err
    assert pd.read_csv(tmp_path / "mw.csv").loc[0, "method"] == "exact"
    code, _, err = run("friedman", REF / "np_roundingtimes.csv", "--dv", "time", "--within",
                       "method", "--subject", "player", "-o", tmp_path / "f.csv")
    assert code == 0, err
    assert round(pd.read_csv(tmp_path / "f.csv").loc[0, "chi2"], 3) == 11.143
    code, _, err = run("hedges-g", REF / "effsize_mtcars.csv", "--dv", "mpg", "--group", "am",
                       "-o", tmp_path / "g.csv")
    assert code == 0, err
    g = pd.read_csv(tmp_path / "g.csv").loc[0]
    # mtcars lists a manual car first: a = manual (R's sorted factor gives automatic − manual)
    assert (g["a"], g["b"], round(g["g"], 2)) == ("manual", "automatic", 1.44)


def test_endpoints_cli(run, tmp_path):
    out = tmp_path / "ep.csv"
    code, _, err = run("endpoints", REF / "endpoints_data.csv", "--dv", "threshold_g",
                       "--subject", "rat", "--time", "time", "--baseline", "BL", "--predose",
                       "pre", "--cutoff", "15", "--paw", "paw", "--group", "group", "-o", out)
    assert code == 0, err
    res = pd.read_csv(out, keep_default_na=False)
    assert set(res["scale"]) == {"log10"}
    assert "censored at cut-off" in set(res["flag"])
    manifest = json.loads((tmp_path / "ep.csv.manifest.json").read_text())
    assert manifest["parameters"]["scale"] == "log10"


def test_power_cli_stated_and_pilot(run, tmp_path):
    out = tmp_path / "p.csv"
    code, _, err = run("power", "--design", "anova", "--effect-size", "0.25", "--groups", "3",
                       "--power", "0.95", "-o", out)
    assert code == 0, err
    assert pd.read_csv(out).loc[0, "n_per_group"] == pytest.approx(83.372, abs=1e-3)
    code, _, err = run("power", "--design", "rm", "--effect", "all", "--pilot",
                       REF / "effsize_mixed.csv", "--dv", "y", "--subject", "rat", "--between",
                       "group", "--within", "time", "--power", "0.9", "-o", out)
    assert code == 0, err
    res = pd.read_csv(out)
    assert list(res["effect"]) == ["between", "within", "interaction"]
    assert (res["power"] >= 0.9).all() and (res["groups"] == 3).all()


def test_bad_input_exit_2(run, tmp_path):
    bad = tmp_path / "bad.csv"
    bad.write_text("g,y\na,1\na,oops\nb,3\nb,4\n")
    code, _, err = run("kruskal", bad, "--dv", "y", "--group", "g", "-o", tmp_path / "o.csv")
    assert code == 2
    assert "bad.csv, row 3, column 'y'" in err and "Traceback" not in err
    assert not (tmp_path / "o.csv").exists()
    code, _, err = run("power", "--design", "t", "-o", tmp_path / "o.csv")
    assert code == 2 and "effect size" in err


def test_by_level_named_in_errors(run, tmp_path):
    # review: with --by, an error in one level's test did not say which level failed
    t = tmp_path / "t.csv"
    t.write_text("time,g,y\n1,a,1\n1,a,2\n1,b,3\n1,b,4\n2,a,1\n2,a,2\n2,b,3\n")
    code, _, err = run("hedges-g", t, "--dv", "y", "--group", "g", "--by", "time",
                       "-o", tmp_path / "o.csv")
    assert code == 2 and "Traceback" not in err
    assert "t.csv, column 'y': at time = 2: groups 'a' and 'b' have 2 and 1 values" in err
