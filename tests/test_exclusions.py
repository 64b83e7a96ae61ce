"""Exclusion rules of the study file, applied by nplab.runner.apply_exclusions."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pandas as pd

from nplab.animals import read_animals
from nplab.runner import apply_exclusions
from nplab.study import load_study


def _rule(**kw) -> dict:
    base = {"name": "r", "description": "", "assay": "vonfrey", "timepoint": "D7",
            "paw": "ipsi", "max_threshold_g": None, "min_drop_pct": None,
            "max_latency_s": None, "models": ["SNL"]}
    return {**base, **kw}


def test_rules(repo_dir: Path) -> None:
    study = load_study(repo_dir / "sample_data" / "snl_study.toml")
    animals = read_animals(pd.DataFrame({
        "animal": ["a1", "a2", "a3", "a4", "s1", "x1"],
        "group": ["SNL + vehicle"] * 4 + ["Sham + vehicle", "SNL + vehicle"],
        "model": ["SNL"] * 4 + ["sham", "SNL"],
        "excluded": [False] * 5 + [True],
        "exclusion_reason": [""] * 5 + ["autotomy"],
    }))
    rows = []
    #           BL     D7 ; a1: allodynic, a2: 5 g (no allodynia), a3: above range at D7,
    #           a4: small drop (8 -> 6 g = 25 %), s1: sham (rule does not apply)
    for animal, bl, d7, status in (("a1", 10, 1.0, "ok"), ("a2", 10, 5.0, "ok"),
                                   ("a3", 10, 15.0, "above_range"), ("a4", 8, 6.0, "ok"),
                                   ("s1", 10, 12.0, "ok"), ("x1", 10, 1.0, "ok")):
        rows += [{"animal": animal, "paw": "ipsi", "timepoint": "BL", "threshold_g": bl,
                  "status": "ok"},
                 {"animal": animal, "paw": "ipsi", "timepoint": "D7", "threshold_g": d7,
                  "status": status}]
    vf = pd.DataFrame(rows)
    s = dataclasses.replace(study, exclusions=[_rule(name="no allodynia", max_threshold_g=4.0)])
    ex = apply_exclusions(s, animals, {"vonfrey": vf})
    assert list(ex["animal"]) == ["a2", "a3", "a4", "x1"]
    assert ex.set_index("animal").at["a2", "reason"] == "ipsi threshold at D7 5 g > 4 g"
    assert "above the strongest filament" in ex.set_index("animal").at["a3", "reason"]
    assert ex.set_index("animal").at["x1", "rule"] == "animals table"
    assert ex.set_index("animal").at["x1", "reason"] == "autotomy"
    s = dataclasses.replace(study, exclusions=[_rule(name="drop", min_drop_pct=50.0)])
    ex = apply_exclusions(s, animals, {"vonfrey": vf}).set_index("animal")
    assert sorted(ex.index) == ["a3", "a4", "x1"]  # drops: a2 50 % (kept), a3 -50 %, a4 25 %
    assert ex.at["a4", "reason"] == "ipsi threshold dropped 25.0% from baseline (< 50%)"
    # a missing pre-dose test cannot be checked: excluded, and the reason says so
    ex = apply_exclusions(dataclasses.replace(study, exclusions=[_rule(max_threshold_g=4.0)]),
                          animals, {"vonfrey": vf[vf["animal"] != "a1"]}).set_index("animal")
    assert "rule cannot be checked" in ex.at["a1", "reason"]
    hg = pd.DataFrame({"animal": ["a1", "a2"], "paw": "ipsi", "timepoint": "D7",
                       "latency_s": [6.0, 11.0]})
    s = dataclasses.replace(study, exclusions=[_rule(assay="hargreaves", max_latency_s=9.0)])
    ex = apply_exclusions(s, animals[animals["animal"].isin(["a1", "a2"])], {"hargreaves": hg})
    assert list(ex["animal"]) == ["a2"] and "latency at D7 11 s > 9 s" in ex["reason"].iloc[0]
