"""A fit that is not identifiable gives NaN estimates with the reason (issue 13.4).

Before: with 0 residual df an LL.4 fit of 4 points returned an IC50 (and
``success=False``), which a script that does not check the flag used.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

import nplab.doseresponse as dr


def _four_points() -> pd.DataFrame:
    x = np.array([0.1, 1.0, 10.0, 100.0])
    return pd.DataFrame({"conc": x, "resp": 100.0 / (1.0 + (x / 3.0) ** 1.2) + [1, -1, 1, -1]})


def test_zero_residual_df_gives_nan_estimates_with_reason() -> None:
    f = dr.fit(_four_points(), x="conc", y="resp", model="LL.4")
    assert not f.success
    assert "no residual degrees of freedom" in f.message and "NaN" in f.message
    p = f.params
    assert p["estimate"].isna().all()
    ic = f.ic(50)
    assert ic["estimate"].isna().all()


def test_identifiable_curves_keep_estimates_in_batched_fit() -> None:
    x = np.array([0.1, 0.3, 1.0, 3.0, 10.0, 30.0, 100.0])
    good = pd.DataFrame({"conc": x, "resp": 100.0 / (1.0 + (x / 3.0) ** 1.0)
                         + np.tile([0.5, -0.5], 4)[:7], "plate": "good"})
    thin = _four_points().assign(plate="thin")
    f = dr.fit(pd.concat([good, thin]), x="conc", y="resp", model="LL.4", curve="plate")
    stats = f.curve_stats.set_index("curve")
    assert bool(stats.loc["good", "success"]) and not bool(stats.loc["thin", "success"])
    assert "no residual degrees of freedom" in stats.loc["thin", "message"]
    p = f.params.set_index(["curve", "parameter"])
    assert np.isnan(p.loc[("thin", "ic50"), "estimate"])
    assert abs(p.loc[("good", "ic50"), "estimate"] - 3.0) < 0.5
