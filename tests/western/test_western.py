"""Western densitometry: hand-computed normalisation and fold change, LMM with blot effect."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.western import linear_range, normalise, statistics


def _blot() -> pd.DataFrame:
    return pd.DataFrame({
        "blot": ["b1"] * 8, "lane": [1, 2, 3, 4, 1, 2, 3, 4],
        "animal": ["v1", "v2", "d1", "d2"] * 2, "group": ["vehicle", "vehicle", "drug", "drug"] * 2,
        "target": ["p-p65"] * 4 + ["p65"] * 4,
        "signal": [200.0, 300.0, 100.0, 150.0, 100.0, 100.0, 100.0, 100.0],
        "loading_signal": [1.0, 1.5, 1.0, 1.0, 1.0, 1.5, 1.0, 1.0],
    })


def test_normalise_by_hand():
    out = normalise(_blot(), "vehicle", pairs={"p-p65": "p65"})
    pp = out[out["measure"] == "p-p65"].set_index("animal")
    # 200/1, 300/1.5 = 200, 100, 150 -> control mean 200
    assert pp["value"].tolist() == [200, 200, 100, 150]
    assert pp.loc["d2", "fold_change"] == pytest.approx(0.75)
    ratio = out[out["measure"] == "p-p65/p65"].set_index("animal")
    # (300/1.5)/(100/1.5) = 3; (200/1)/(100/1) = 2 -> control mean 2.5
    assert ratio.loc["v2", "value"] == pytest.approx(3.0)
    assert ratio.loc["d1", "fold_change"] == pytest.approx(1.0 / 2.5)


def test_blot_random_effect_removes_blot_shift():
    rng = np.random.default_rng(1)
    rows = []
    for b, shift in zip(["b1", "b2", "b3"], [1.0, 3.0, 0.5], strict=True):
        for g, eff in (("vehicle", 1.0), ("drug", 0.5)):
            for k in range(3):
                rows.append({"blot": b, "lane": f"{g}{k}", "animal": f"{b}{g}{k}", "group": g, "target": "Iba1",
                             "signal": shift * eff * np.exp(rng.normal(0, 0.1)), "loading_signal": 1.0})
    res = statistics(normalise(pd.DataFrame(rows), "vehicle"), "vehicle").set_index("group")
    assert res.loc["drug", "method"].startswith("LMM")
    assert res.loc["drug", "ratio"] == pytest.approx(0.5, rel=0.15) and res.loc["drug", "p"] < 0.001


def test_linear_range_flags_saturation():
    load = np.array([2.5, 5, 10, 20, 40.0])
    ladder = pd.DataFrame({"blot": "b1", "target": ["lin"] * 5 + ["sat"] * 5, "load": np.tile(load, 2),
                           "signal": np.r_[100 * load, 4000 * load / (load + 10)]})
    res = linear_range(ladder, _blot().assign(target="lin")).set_index("target")
    assert res.loc["lin", "loglog_slope"] == pytest.approx(1.0) and res.loc["lin", "linear"]
    assert res.loc["sat", "loglog_slope"] < 0.8 and not res.loc["sat", "linear"]
    assert res.loc["lin", "pct_in_range"] == pytest.approx(12.5)  # ladder 250..4000: only 300 of 8 bands


def test_errors():
    with pytest.raises(InputError, match="no loading column"):
        normalise(_blot().drop(columns="loading_signal"), "vehicle")
    with pytest.raises(InputError, match="not in the table"):
        normalise(_blot(), "vehicle", pairs={"p-p38": "p38"})
