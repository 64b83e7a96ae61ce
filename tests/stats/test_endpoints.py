"""nplab.stats.endpoints against an independent base-R coding of the definitions.

Reference: tests/stats/reference/endpoints_reference.R (-> endpoints_values.csv) on
endpoints_data.csv (2 rats × 2 paws, baseline/pre-dose/0.5/1/2 h, cut-off 15 g, with a
missing value, a rat without allodynia and a paw at the cut-off).  Tolerance rel 1e-12.
Hand-worked values: Hargreaves latencies, linear scale.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.stats.endpoints import (
    FLAG_CENSORED,
    FLAG_NO_ALLODYNIA,
    FLAG_PRE_AT_CUTOFF,
    auc_trapezoid,
    endpoints,
    percent_mpe,
    percent_reversal,
)

REF = Path(__file__).parent / "reference"
KW = dict(dv="threshold_g", subject="rat", time="time", baseline="BL", predose="pre",
          cutoff=15.0, paw="paw", group="group")


@pytest.fixture(scope="module")
def data() -> pd.DataFrame:
    return pd.read_csv(REF / "endpoints_data.csv")


@pytest.fixture(scope="module")
def ref() -> pd.DataFrame:
    return pd.read_csv(REF / "endpoints_values.csv")


def _lookup(res, rat, paw, endpoint, time_h=None, time=None):
    sel = (res.rat == rat) & (res.paw == paw) & (res.endpoint == endpoint)
    if time_h is not None:
        sel &= res.time_h == time_h
    if time is not None:
        sel &= res.time == time
    assert sel.sum() == 1
    return res[sel].iloc[0]


@pytest.mark.parametrize("scale", ["log10", "linear"])
def test_endpoints_match_r(data, ref, scale):
    res = endpoints(data, log10=(scale == "log10"), **KW)
    assert (res["scale"] == scale).all()
    r = ref[ref.scale == scale]
    for row in r.itertuples():
        if row.paw == "ipsi-contra":
            got = _lookup(res, row.rat, row.paw, "value", time=str(row.time))
        elif row.endpoint.endswith("postonly"):
            continue
        elif row.endpoint.startswith("auc"):
            got = _lookup(res, row.rat, row.paw, row.endpoint)
        else:
            got = _lookup(res, row.rat, row.paw, row.endpoint, time_h=float(row.time))
        if np.isnan(row.value):
            assert np.isnan(got.value) and got.flag, (row, got)
        else:
            assert got.value == pytest.approx(row.value, rel=1e-12, abs=1e-14), row
    post = endpoints(data, log10=(scale == "log10"), auc_from_predose=False, **KW)
    for row in r[r.endpoint.str.endswith("postonly")].itertuples():
        got = _lookup(post, row.rat, row.paw, row.endpoint.replace("_postonly", ""))
        if np.isnan(row.value):
            assert np.isnan(got.value)
        else:
            assert got.value == pytest.approx(row.value, rel=1e-12, abs=1e-14)


def test_log10_default_for_thresholds_and_flags(data):
    res = endpoints(data, **KW)
    assert (res["scale"] == "log10").all()
    assert np.isfinite(res["value"].dropna()).all()
    # r2 ipsi: baseline == pre-dose -> reversal undefined, flagged
    rev = _lookup(res, "r2", "ipsi", "reversal", time_h=2.0)
    assert np.isnan(rev.value) and FLAG_NO_ALLODYNIA in rev.flag
    # r2 contra: pre-dose at the cut-off -> %MPE undefined
    mpe = _lookup(res, "r2", "contra", "mpe", time_h=1.0)
    assert np.isnan(mpe.value) and FLAG_PRE_AT_CUTOFF in mpe.flag
    # measured 15 g (= cut-off) flagged as censored, not clipped
    v = _lookup(res, "r1", "contra", "value", time_h=0.5)
    assert v.value == pytest.approx(np.log10(15)) and FLAG_CENSORED in v.flag
    # missing value -> AUC undefined with a reason
    auc = _lookup(res, "r2", "ipsi", "auc")
    assert np.isnan(auc.value) and "missing" in auc.flag
    assert list(res.columns) == ["rat", "group", "paw", "time", "time_h", "endpoint", "value",
                                 "scale", "flag"]
    assert set(res.loc[res.rat == "r2", "group"]) == {"drug"}


def test_latency_linear_by_hand():
    # Hargreaves: baseline 10 s, pre-dose 4 s, cut-off 20 s; post 0.5 h 8 s, 1 h 12 s, 3 h 6 s
    d = pd.DataFrame({"mouse": ["m"] * 5, "t": ["base", "pre", 0.5, 1, 3],
                      "latency_s": [10, 4, 8, 12, 6.0]})
    res = endpoints(d, dv="latency_s", subject="mouse", time="t", baseline="base",
                    predose="pre", cutoff=20)
    assert (res["scale"] == "linear").all()
    get = lambda e, t=None: (res[(res.endpoint == e) & ((res.time_h == t) if t is not None  # noqa: E731
                             else res.time_h.isna())].value.iloc[0])
    assert get("mpe", 1.0) == pytest.approx(50.0)            # (12-4)/(20-4)
    assert get("reversal", 0.5) == pytest.approx(4 / 6 * 100)  # (8-4)/(10-4)
    assert get("change", 3.0) == pytest.approx(2.0)
    # AUC from t=0 (4 s): 0.5*(4+8)/2 + 0.5*(8+12)/2 + 2*(12+6)/2 = 3 + 5 + 18 = 26
    assert get("auc") == pytest.approx(26.0)
    # change: 0.5*(0+4)/2 + 0.5*(4+8)/2 + 2*(8+2)/2 = 1 + 3 + 10 = 14
    assert get("auc_change") == pytest.approx(14.0)
    assert list(res.loc[res.endpoint == "value", "time"]) == ["base", "pre", "0.5", "1", "3"]


def test_small_functions():
    v, f = percent_mpe(np.array([5.0, 7.0]), np.array([3.0, 9.0]), 9.0)
    assert v[0] == pytest.approx(100 * 2 / 6) and np.isnan(v[1]) and f[1] == FLAG_PRE_AT_CUTOFF
    v, f = percent_reversal(5.0, 3.0, 3.0)
    assert np.isnan(v) and f == FLAG_NO_ALLODYNIA
    assert auc_trapezoid([0, 1, 3], [0, 2, 2]) == pytest.approx(5.0)
    assert np.isnan(auc_trapezoid([0, 1], [1, np.nan]))


def test_endpoints_bad_input(data):
    bad = data.copy()
    bad.attrs["source"] = "vf.csv"
    bad.loc[3, "threshold_g"] = 0.0
    with pytest.raises(InputError, match=r"vf.csv, row 5, column 'threshold_g'"):
        endpoints(bad, **KW)
    bad = data.copy()
    bad.loc[4, "time"] = "late"
    with pytest.raises(InputError, match=r"row 6, column 'time'.*hours"):
        endpoints(bad, **KW)
    bad = data.copy()
    bad.loc[1, "paw"] = "left"
    with pytest.raises(InputError, match="unknown paw"):
        endpoints(bad, **KW)
    bad = data.copy()
    bad.loc[2, "time"] = bad.loc[3, "time"]
    with pytest.raises(InputError, match="second value"):
        endpoints(bad, **KW)
    with pytest.raises(InputError, match="no baseline"):
        endpoints(data, **{**KW, "baseline": "BL0"})
    kw = {**KW, "group": "group"}
    bad = data.copy()
    bad.loc[0, "group"] = "drug"
    with pytest.raises(InputError, match="more than one group"):
        endpoints(bad, **kw)
    assert data.loc[0, "group"] == "veh"  # input never modified


def test_post_dose_time_must_be_positive(data):
    bad = data.copy()
    bad.loc[2, "time"] = "0"
    with pytest.raises(InputError, match=r"row 4, column 'time'.*not after dosing"):
        endpoints(bad, **KW)


def test_output_is_deterministic_and_input_untouched(data):
    before = data.copy()
    a = endpoints(data, **KW)
    shuffled = data.sample(frac=1.0, random_state=3)
    assert shuffled["rat"].iloc[0] == "r2"  # animals now first appear in the other order
    # the same rows, animals (and groups) in their new order of first appearance
    b = endpoints(shuffled, **KW)
    assert list(dict.fromkeys(b["rat"])) == ["r2", "r1"]
    pd.testing.assert_frame_equal(pd.concat([a[a["rat"] == "r2"], a[a["rat"] == "r1"]],
                                            ignore_index=True), b)
    # given levels restore the order, whatever the row order of the input
    c = endpoints(shuffled, **KW, levels={"group": ["veh", "drug"]})
    pd.testing.assert_frame_equal(a, c)
    pd.testing.assert_frame_equal(data, before)


def test_duplicate_message_shows_plain_numeric_animal_ids():
    # review: numeric animal ids were shown as np.int64(7) in the message
    d = pd.DataFrame({"rat": [7, 7, 7, 7], "time": ["BL", "pre", "1", "1"],
                      "lat": [10.0, 5.0, 6.0, 7.0]})
    with pytest.raises(InputError, match=r"row 5, column 'time': animal 7 has a second value"):
        endpoints(d, dv="lat", subject="rat", time="time", baseline="BL", predose="pre")


def test_no_negative_zero_and_honest_auc_mpe_flag():
    # review: % reversal 0 / (baseline - pre < 0) was written as -0.0, and the %MPE AUC
    # of an animal at the cut-off before dosing claimed a missing value
    d = pd.DataFrame({"rat": ["c"] * 4, "time": ["BL", "pre", "1", "2"],
                      "lat": [11.0, 20.0, 20.0, 20.0]})
    res = endpoints(d, dv="lat", subject="rat", time="time", baseline="BL", predose="pre",
                    cutoff=20.0)
    rev = res[res.endpoint == "reversal"]["value"].to_numpy()
    assert (rev == 0).all() and not np.signbit(rev).any()
    auc_mpe = res[res.endpoint == "auc_mpe"].iloc[0]
    assert np.isnan(auc_mpe.value) and auc_mpe.flag == FLAG_PRE_AT_CUTOFF
    d.loc[3, "lat"] = np.nan
    res = endpoints(d, dv="lat", subject="rat", time="time", baseline="BL", predose="pre",
                    cutoff=20.0)
    flag = res[res.endpoint == "auc_mpe"].iloc[0].flag
    assert "missing value" in flag and FLAG_PRE_AT_CUTOFF in flag
