"""%MPE and % reversal are undefined for sham animals and animals without an injury drop
(issue 13.3): flagged NaN, never 83 ± 100 % noise in a group mean."""

from __future__ import annotations

import numpy as np
import pandas as pd

from nplab.stats.endpoints import FLAG_NOT_INJURED, FLAG_SHAM, endpoints


def _data() -> pd.DataFrame:
    rows = []
    # cci1: 10 -> 2 g (80 % drop); cci2: 10 -> 9 g (10 % drop); sham1: 10 -> 10.5 g
    for animal, bl, pre, post in (("cci1", 10, 2, 6), ("cci2", 10, 9, 9.5),
                                  ("sham1", 10, 10.5, 9.0)):
        for t, v in (("BL", bl), ("pre", pre), (1.0, post), (2.0, post)):
            rows.append({"animal": animal, "paw": "ipsi", "time": t, "threshold_g": v})
    return pd.DataFrame(rows)


def test_sham_and_uninjured_are_flagged_not_computed() -> None:
    ep = endpoints(_data(), dv="threshold_g", subject="animal", time="time", baseline="BL",
                   predose="pre", cutoff=15.0, paw="paw", min_drop_pct=20.0, sham=["sham1"])
    sel = ep[ep["endpoint"].isin(["mpe", "reversal", "auc_mpe"])].set_index("animal")
    assert np.isfinite(sel.loc["cci1", "value"]).all()
    assert sel.loc["cci2", "value"].isna().all()
    assert (sel.loc["cci2", "flag"] == FLAG_NOT_INJURED).all()
    assert sel.loc["sham1", "value"].isna().all()
    assert (sel.loc["sham1", "flag"] == FLAG_SHAM).all()
    # change and AUC of the change stay defined for everyone
    chg = ep[ep["endpoint"].isin(["change", "auc_change"])]
    assert chg["value"].notna().all()


def test_defaults_unchanged_without_margin() -> None:
    ep = endpoints(_data(), dv="threshold_g", subject="animal", time="time", baseline="BL",
                   predose="pre", cutoff=15.0, paw="paw")
    assert ep.loc[ep["endpoint"] == "reversal", "value"].notna().sum() == 6
