"""``nplab elisa`` and ``nplab qpcr`` end to end."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab.cli import main
from nplab.elisa.synth import simulate_plate

QREF = Path(__file__).parents[1] / "qpcr" / "reference"


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out + out.err


def test_elisa_cli(tmp_path, capsys):
    t = pd.concat([simulate_plate({"A": 80.0, "B": 400.0}, plate=p, seed=i) for i, p in enumerate("xy")])
    src = tmp_path / "wells.csv"
    t.to_csv(src, index=False)
    out = tmp_path / "conc.csv"
    code, text = run(["elisa", src, "-o", out, "--plates", tmp_path / "p.csv", "--figure", tmp_path / "c.png"],
                     capsys)
    assert code == 0, text
    res = pd.read_csv(out)
    assert len(res) == 4 and set(res["status"]) == {"ok"}
    assert any(tmp_path.glob("*.manifest.json"))
    bad = tmp_path / "bad.csv"
    t[t["kind"] != "standard"].to_csv(bad, index=False)
    code, text = run(["elisa", bad, "-o", tmp_path / "z.csv"], capsys)
    assert code == 2 and "no standard wells" in text and not (tmp_path / "z.csv").exists()


def test_qpcr_cli(tmp_path, capsys):
    out = tmp_path / "expr.csv"
    code, text = run(["qpcr", QREF / "run_multi.csv", "-o", out, "--control", "sham",
                      "--stats", tmp_path / "s.csv", "--genorm", tmp_path / "g.csv"], capsys)
    assert code == 0, text
    res = pd.read_csv(out)
    assert {"animal", "group", "target", "delta_ct", "delta_delta_ct", "fold_change"} <= set(res.columns)
    code, text = run(["qpcr", QREF / "run_multi.csv", "-o", tmp_path / "x.csv", "--reference-genes", "Gapd"],
                     capsys)
    assert code == 2 and "Gapd" in text
