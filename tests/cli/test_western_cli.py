"""``nplab western`` end to end: hand-computed ratios, stats, linear range, manifest, errors."""

from __future__ import annotations

import json

import pandas as pd
import pytest

from nplab.cli import main


def run(args, capsys):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    out = capsys.readouterr()
    return exc.value.code, out.out + out.err


def _bands() -> pd.DataFrame:
    # one blot; p-p65 and p65 per lane; total-protein stain per lane
    return pd.DataFrame({
        "blot": ["b1"] * 8, "lane": [1, 2, 3, 4] * 2, "animal": ["v1", "v2", "d1", "d2"] * 2,
        "target": ["p-p65"] * 4 + ["p65"] * 4,
        "signal": [200.0, 300.0, 100.0, 150.0, 100.0, 100.0, 100.0, 100.0],
        "total_protein": [1.0, 1.5, 1.0, 1.0] * 2,
    })


def test_western_cli_ratios_stats_manifest(tmp_path, capsys):
    src, animals = tmp_path / "bands.csv", tmp_path / "animals.csv"
    _bands().to_csv(src, index=False)
    pd.DataFrame({"animal": ["v1", "v2", "d1", "d2"],
                  "group": ["vehicle", "vehicle", "drug", "drug"]}).to_csv(animals, index=False)
    ladder = tmp_path / "ladder.csv"
    pd.DataFrame({"blot": "b1", "target": "p-p65", "load": [5, 10, 20, 40],
                  "signal": [50.0, 100.0, 200.0, 400.0]}).to_csv(ladder, index=False)
    out = tmp_path / "ratios.csv"
    code, text = run(["western", src, "-o", out, "--animals", animals, "--stats", tmp_path / "st.csv",
                      "--ladder", ladder, "--linear-range", tmp_path / "lin.csv"], capsys)
    assert code == 0, text
    res = pd.read_csv(out)
    # protocol western-densitometry: total_protein loading, pair p-p65/p65
    ratio = res[res["measure"] == "p-p65/p65"].set_index("animal")
    assert ratio.loc["v2", "value"] == pytest.approx(3.0)  # (300/1.5)/(100/1.5)
    assert ratio.loc["d1", "fold_change"] == pytest.approx(1.0 / 2.5)  # control mean (2 + 3)/2
    pp = res[res["measure"] == "p-p65"].set_index("animal")
    assert pp.loc["d2", "fold_change"] == pytest.approx(0.75)  # 150 / mean(200, 200)
    st = pd.read_csv(tmp_path / "st.csv")
    assert set(st["measure"]) == {"p-p65", "p65", "p-p65/p65"} and set(st["method"]) == {"Dunnett"}
    lin = pd.read_csv(tmp_path / "lin.csv")
    assert lin["r2"].iloc[0] == pytest.approx(1.0) and bool(lin["linear"].iloc[0])
    man = json.loads((tmp_path / "ratios.csv.manifest.json").read_text())
    assert "western-densitometry" in json.dumps(man) and "total_protein" in json.dumps(man)


def test_western_cli_bad_inputs(tmp_path, capsys):
    src = tmp_path / "bands.csv"
    b = _bands().assign(group=["vehicle", "vehicle", "drug", "drug"] * 2)
    b.to_csv(src, index=False)
    code, text = run(["western", src, "-o", tmp_path / "x.csv", "--control", "sham"], capsys)
    assert code == 2 and "sham" in text and not (tmp_path / "x.csv").exists()
    code, text = run(["western", src, "-o", tmp_path / "x.csv", "--pairs", "p-p65=p50"], capsys)
    assert code == 2 and "p50" in text
    b.assign(signal=b["signal"].where(b.index != 2, -1.0)).to_csv(src, index=False)
    code, text = run(["western", src, "-o", tmp_path / "x.csv"], capsys)
    assert code == 2 and "positive" in text
    code, text = run(["western", src, "-o", tmp_path / "x.csv", "--ladder", src], capsys)
    assert code == 2 and "--linear-range" in text
