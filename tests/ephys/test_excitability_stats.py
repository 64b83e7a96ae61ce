"""Animal-level statistics: the animal, not the cell, is the unit."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.ephys.excitability_stats import animal_means, compare_groups, paired_within_cell


def _cells():
    # 2 groups x 3 animals; animals have 1-3 cells
    rows = []
    vals = {"a1": [100, 120], "a2": [90], "a3": [110, 130, 150], "b1": [200, 220], "b2": [180], "b3": [260, 240]}
    for a, vs in vals.items():
        for k, v in enumerate(vs):
            rows.append({"animal": a, "group": "CCI+vehicle" if a[0] == "a" else "CCI+drug",
                         "cell": f"{a}c{k}", "rheobase_pa": float(v), "status": "ok"})
    rows.append({"animal": "a1", "group": "CCI+vehicle", "cell": "bad", "rheobase_pa": 999.0, "status": "failed"})
    return pd.DataFrame(rows)


def test_animal_means_by_hand():
    m = animal_means(_cells(), "rheobase_pa").set_index("animal")
    assert m.loc["a1", "rheobase_pa"] == 110 and m.loc["a1", "n_cells"] == 2  # failed cell out
    assert m.loc["a3", "rheobase_pa"] == 130 and m.loc["b3", "rheobase_pa"] == 250


def test_welch_on_animal_means_by_hand():
    res = compare_groups(_cells(), "rheobase_pa")
    test = res[res["level"] == "test"].iloc[0]
    # animal means: vehicle 110, 90, 130; drug 210, 180, 250 (computed by hand)
    x, y = np.array([110.0, 90.0, 130.0]), np.array([210.0, 180.0, 250.0])
    se = np.sqrt(x.var(ddof=1) / 3 + y.var(ddof=1) / 3)
    # groups in sorted order: "CCI+drug" first
    assert test["statistic"] == pytest.approx((y.mean() - x.mean()) / se)
    assert test["n_animals"] == 6 and test["n_cells"] == 11
    assert test["df"] < 4.01  # animals, not cells, give the degrees of freedom
    groups = res[res["level"] == "group"].set_index("group")
    assert groups.loc["CCI+vehicle", "n_cells"] == 6 and groups.loc["CCI+vehicle", "n_animals"] == 3


def test_mixed_model_runs_with_animal_random_effect():
    res = compare_groups(_cells(), "rheobase_pa", method="mixed")
    terms = res[res["level"] == "term"]
    assert len(terms) == 2 and (terms["n_animals"] == 6).all()


def test_paired_within_cell():
    rows = []
    for a, diffs in {"x": [10, 20], "y": [30], "z": [5, 15, 25]}.items():
        for k, d in enumerate(diffs):
            rows += [{"animal": a, "cell": f"{a}{k}", "condition": "baseline", "rheobase_pa": 100.0},
                     {"animal": a, "cell": f"{a}{k}", "condition": "drug", "rheobase_pa": 100.0 + d}]
    r = paired_within_cell(pd.DataFrame(rows), "rheobase_pa").iloc[0]
    assert r["mean_difference"] == pytest.approx((15 + 30 + 15) / 3)
    assert r["n_cells"] == 6 and r["n_animals"] == 3 and r["df"] == 2
