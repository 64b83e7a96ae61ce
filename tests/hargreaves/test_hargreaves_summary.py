"""Hand-computed summaries, censoring counts, protocol rules and input errors."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.hargreaves import km_medians, paw_differences, read_trials, summarise

DATA = Path(__file__).parent / "data"
TRIALS = (DATA / "trials_small.csv").read_text()
ANIMALS = (DATA / "animals_small.csv").read_text()


@pytest.fixture
def files(tmp_path):
    t = tmp_path / "trials.csv"
    a = tmp_path / "animals.csv"
    t.write_text(TRIALS)
    a.write_text(ANIMALS)
    return t, a


def row(s: pd.DataFrame, animal: str, paw: str, tp: str) -> pd.Series:
    hit = s[(s["animal"] == animal) & (s["paw"] == paw) & (s["timepoint"] == tp)]
    assert len(hit) == 1
    return hit.iloc[0]


def test_hand_computed_summary(files):
    t, a = files
    s = summarise(t, "hargreaves-rat", animals=a, baseline_window_s=None)
    assert list(s.columns[:4]) == ["animal", "group", "paw", "timepoint"]
    assert len(s) == 8
    # order: animal (input order), ipsi before contra, timepoint (input order)
    assert list(zip(s["animal"], s["paw"], s["timepoint"], strict=True))[:4] == [
        ("R1", "ipsi", "baseline"),
        ("R1", "ipsi", "day14"),
        ("R1", "contra", "baseline"),
        ("R1", "contra", "day14"),
    ]
    r = row(s, "R1", "ipsi", "baseline")  # left = injured side of R1
    assert (r["n_trials"], r["n_valid"], r["n_at_cutoff"], r["censored"]) == (3, 3, 0, False)
    assert r["mean_latency_s"] == pytest.approx(31.0 / 3, abs=1e-12)
    assert r["median_latency_s"] == pytest.approx(10.2, abs=1e-12)
    # SD by hand: deviations -0.1333.., -0.5333.., 0.6666..; sum sq = 0.746667; / 2
    assert r["sd_latency_s"] == pytest.approx(np.sqrt(0.7466666666666666 / 2), abs=1e-12)
    assert r["latency_s"] == r["mean_latency_s"]
    assert r["status"] == "ok" and r["protocol"] == "hargreaves-rat@1.0.0"
    assert r["group"] == "vehicle"

    r = row(s, "R1", "contra", "day14")  # 20 (cut), 12.3, blank with cutoff_reached
    assert (r["n_valid"], r["n_at_cutoff"], r["censored"]) == (3, 2, True)
    assert r["mean_latency_s"] == pytest.approx((20 + 12.3 + 20) / 3, abs=1e-12)
    assert r["median_latency_s"] == 20.0
    assert r["tobit_latency_s"] > r["mean_latency_s"]

    r = row(s, "R2", "contra", "baseline")  # R2 injured right: left = contra; trial 2 invalid
    assert (r["n_trials"], r["n_valid"]) == (3, 2)
    assert r["mean_latency_s"] == pytest.approx(9.3, abs=1e-12)
    # 2 valid trials recorded where the protocol expects 3 (the invalid one not repeated)
    assert r["status"] == "trial_count"
    assert r["message"] == "2 valid trials recorded, protocol expects 3"

    r = row(s, "R2", "ipsi", "day14")  # 14.0, 15.5, 20.0 (= cut-off without a flag)
    assert (r["n_at_cutoff"], r["censored"]) == (1, True)
    assert r["mean_latency_s"] == pytest.approx(49.5 / 3, abs=1e-12)

    r = row(s, "R2", "contra", "day14")  # every trial at the cut-off
    assert r["n_at_cutoff"] == 3 and r["status"] == "all_at_cutoff"
    assert np.isnan(r["tobit_latency_s"]) and np.isnan(r["tobit_ci_high_s"])
    assert "cut-off" in r["message"]
    assert int(s["n_at_cutoff"].sum()) == 6


def test_uncensored_tobit_is_geometric_mean(files):
    t, a = files
    s = summarise(t, animals=a, baseline_window_s=None)
    r = row(s, "R1", "ipsi", "baseline")
    assert r["tobit_latency_s"] == pytest.approx(np.exp(np.mean(np.log([10.2, 9.8, 11.0]))))
    assert r["tobit_ci_low_s"] < r["tobit_latency_s"] < r["tobit_ci_high_s"]


def test_protocol_rules(files):
    t, a = files
    s = summarise(t, animals=a, discard_first_trial=True, baseline_window_s=None)
    r = row(s, "R1", "ipsi", "baseline")
    assert (r["n_trials"], r["n_valid"]) == (3, 2)
    assert r["mean_latency_s"] == pytest.approx(10.4, abs=1e-12)
    r = row(s, "R2", "contra", "baseline")  # first discarded, second invalid: one left
    assert r["n_valid"] == 1 and r["status"] == "too_few_valid;trial_count"
    assert np.isnan(r["latency_s"]) and r["mean_latency_s"] == 9.6
    assert np.isnan(r["sd_latency_s"])

    s = summarise(t, animals=a, average="median", baseline_window_s=None)
    assert row(s, "R1", "ipsi", "day14")["latency_s"] == pytest.approx(5.2)
    s = summarise(t, animals=a, average="mean_last_n", average_last_n=2, baseline_window_s=None)
    assert row(s, "R1", "ipsi", "day14")["latency_s"] == pytest.approx((6.1 + 4.8) / 2)
    assert row(s, "R1", "ipsi", "day14")["mean_latency_s"] == pytest.approx(16.1 / 3)

    s = summarise(t, animals=a, baseline_window_s=[9.5, 12.0], trials_per_paw=4)
    r = row(s, "R2", "contra", "baseline")
    assert r["status"] == "trial_count;baseline_out_of_window"
    assert "9.3 s outside [9.5, 12] s" in r["message"]
    assert r["latency_s"] == pytest.approx(9.3)  # flagged, not removed
    assert row(s, "R2", "contra", "day14")["status"] == "trial_count;all_at_cutoff"

    s = summarise(t, animals=a, min_valid_trials=3, baseline_window_s=None)
    r = row(s, "R2", "contra", "baseline")
    assert r["status"] == "too_few_valid;trial_count" and np.isnan(r["tobit_latency_s"])
    assert r["message"].startswith("2 valid trial(s) < min_valid_trials 3; ")
    km = km_medians(t, animals=a, min_valid_trials=3)
    k = km[(km["group"] == "drug") & (km["paw"] == "contra") & (km["timepoint"] == "baseline")]
    assert k.empty


def test_cutoff_override_and_tolerance(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s\n"
        "M1,ipsi,bl,1,14.96\nM1,ipsi,bl,2,12.0\nM1,ipsi,bl,3,15\n"
    )
    s = summarise(p, "hargreaves-mouse", cutoff_s=15.0)
    assert s["n_at_cutoff"].iloc[0] == 1
    s = summarise(p, "hargreaves-mouse", cutoff_s=15.0, cutoff_tolerance_s=0.05)
    assert s["n_at_cutoff"].iloc[0] == 2
    assert s["mean_latency_s"].iloc[0] == pytest.approx((15 + 12 + 15) / 3)
    with pytest.raises(InputError, match="above the cut-off"):
        summarise(p, "hargreaves-mouse", cutoff_s=14.0)


def test_intertrial_interval_flag(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time\n"
        "R1,ipsi,bl,1,10,10:00:00\nR1,ipsi,bl,2,11,10:05:00\nR1,ipsi,bl,3,12,10:08:00\n"
        "R1,contra,bl,1,10,10:01:00\nR1,contra,bl,2,11,10:06:00\nR1,contra,bl,3,12,10:11:00\n"
    )
    s = summarise(p, baseline_window_s=None)
    assert list(s["status"]) == ["short_interval", "ok"]
    assert "180 s < min_intertrial_interval_s 300" in s["message"].iloc[0]
    s = summarise(p, baseline_window_s=None, min_intertrial_interval_s=None)
    assert list(s["status"]) == ["ok", "ok"]


def test_excluded_animal_and_groups_from_trials(tmp_path, files):
    t, _ = files
    a = tmp_path / "a2.csv"
    a.write_text(
        "animal,group,injured_side,excluded,exclusion_reason\n"
        "R1,vehicle,left,no,\nR2,drug,right,yes,autotomy\n"
    )
    s = summarise(t, animals=a, baseline_window_s=None)
    r2 = s[s["animal"] == "R2"]
    assert r2["status"].str.contains("excluded").all() and r2["latency_s"].isna().all()
    assert r2["tobit_latency_s"].isna().all() and r2["mean_latency_s"].notna().all()
    km = km_medians(t, animals=a)
    assert set(km["group"]) == {"vehicle"} and (km["n_animals"] == 1).all()
    assert "autotomy" in r2["message"].iloc[0]
    # group carried from the trial table when no animals table is given
    df = pd.read_csv(io.StringIO(TRIALS))
    df["paw"] = df["paw"].map({"left": "ipsi", "right": "contra"})
    df["group"] = np.where(df["animal"] == "R1", "veh", "dul")
    s = summarise(df, baseline_window_s=None)
    assert list(s.columns[:2]) == ["animal", "group"]
    assert set(zip(s["animal"], s["group"], strict=True)) == {("R1", "veh"), ("R2", "dul")}
    df.loc[3, "group"] = "dul"
    with pytest.raises(InputError, match="more than one group"):
        summarise(df)


def test_paw_differences(files):
    t, a = files
    s = summarise(t, animals=a, baseline_window_s=None)
    d = paw_differences(s)
    assert len(d) == 4
    r = d[(d["animal"] == "R1") & (d["timepoint"] == "day14")].iloc[0]
    ipsi, contra = 16.1 / 3, 52.3 / 3
    assert r["ipsi_minus_contra_s"] == pytest.approx(ipsi - contra, abs=1e-12)
    assert r["ipsi_over_contra"] == pytest.approx(ipsi / contra, abs=1e-12)
    assert bool(r["censored"]) and r["status"] == "ok"
    r = d[(d["animal"] == "R2") & (d["timepoint"] == "day14")].iloc[0]
    assert r["status"] == "contra:all_at_cutoff"
    one_paw = s[~((s["animal"] == "R1") & (s["paw"] == "contra"))]
    assert set(paw_differences(one_paw)["animal"]) == {"R2"}


def test_deterministic_output(files, tmp_path):
    from nplab.tables import write_table

    t, a = files
    a1 = write_table(summarise(t, animals=a), tmp_path / "a.csv").read_bytes()
    a2 = write_table(summarise(t, animals=a), tmp_path / "b.csv").read_bytes()
    assert a1 == a2


def test_xlsx_input(files, tmp_path):
    t, a = files
    x = tmp_path / "t.xlsx"
    pd.read_csv(t).to_excel(x, index=False)
    s1 = summarise(t, animals=a)
    s2 = summarise(x, animals=a)
    pd.testing.assert_frame_equal(s1, s2)


def _edit(tmp_path, row_idx: int, column: str, value) -> object:
    df = pd.read_csv(io.StringIO(TRIALS), dtype=str, keep_default_na=False)
    df.loc[row_idx, column] = value
    p = tmp_path / "bad.csv"
    df.to_csv(p, index=False)
    return p


@pytest.mark.parametrize(
    ("idx", "column", "value", "text"),
    [
        (4, "latency_s", "20.5", "above the cut-off"),
        (4, "latency_s", "0", "zero or negative"),
        (4, "latency_s", "-3", "zero or negative"),
        (4, "latency_s", "abc", "'abc' is not valid"),
        (4, "latency_s", "", "a blank cell is not valid"),
        (4, "latency_s", "20..0", "is not valid"),
        (4, "valid", "maybe", "'maybe' is not true/false"),
        (4, "cutoff_reached", "cut", "'cut' is not true/false"),
        (4, "cutoff_reached", "yes", "cutoff_reached is true but latency 10.1 s is below"),
        (4, "trial", "1", "appears twice"),
        (4, "trial", "1.5", "1.5 is not a trial number"),
        (4, "trial", "0", "0 is not a trial number"),
        (4, "latency_s", "12,5", "'12,5' is not valid"),
        (4, "latency_s", "inf", "above the cut-off"),
        (4, "trial", "x", "is not valid"),
        (4, "paw", "front", "is not a paw"),
        (4, "animal", "", "blank cell"),
    ],
)
def test_input_errors_name_file_row_column(files, tmp_path, idx, column, value, text):
    _, a = files
    p = _edit(tmp_path, idx, column, value)
    with pytest.raises(InputError) as exc:
        summarise(p, animals=a)
    msg = str(exc.value)
    assert text in msg
    assert "np." not in msg  # regression (review3): was "np.int64(0) is not a trial number"
    assert str(p) in msg and f"column '{column}'" in msg and f"row {idx + 2}" in msg


def test_missing_column_and_left_right_without_animals(files, tmp_path):
    t, _ = files
    df = pd.read_csv(t).drop(columns=["latency_s"])
    with pytest.raises(InputError, match="column 'latency_s'"):
        summarise(df)
    with pytest.raises(InputError, match="left/right paws need an animals table"):
        summarise(t)
    a = tmp_path / "a.csv"
    a.write_text("animal,group,injured_side\nR1,vehicle,left\n")
    with pytest.raises(InputError, match="'R2' is not in the animals table"):
        summarise(t, animals=a)


def test_time_going_backwards_is_an_error(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time_s\n"
        "R1,ipsi,bl,1,10,0\nR1,ipsi,bl,2,11,600\nR1,ipsi,bl,3,12,300\n"
    )
    with pytest.raises(InputError, match="row 4, column 'time_s'"):
        read_trials(p)


def test_group_column_must_agree_with_animals_table(files, tmp_path):
    t, a = files
    df = pd.read_csv(t)
    df["group"] = np.where(df["animal"] == "R1", "vehicle", "drug")
    s = summarise(df, animals=a)
    assert set(s["group"]) == {"vehicle", "drug"}
    km = km_medians(df, animals=a)
    assert list(km.columns[:3]) == ["group", "paw", "timepoint"]
    df.loc[5, "group"] = "drug"
    with pytest.raises(InputError, match="row 7, column 'group'"):
        summarise(df, animals=a)


def test_numeric_timepoints_sort_numerically(tmp_path):
    p = tmp_path / "t.csv"
    lines = ["animal,paw,timepoint,trial,latency_s"]
    for tp in (14, 0, 7):
        lines += [f"A,ipsi,{tp},1,10", f"A,ipsi,{tp},2,11"]
    p.write_text("\n".join(lines) + "\n")
    s = summarise(p)
    assert list(s["timepoint"]) == [0, 7, 14]
    assert s["status"].str.contains("trial_count").all()


def test_repeated_invalid_trial_is_not_a_count_problem(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,valid,note\n"
        "R1,ipsi,bl,1,10,,\nR1,ipsi,bl,2,,no,stepped\nR1,ipsi,bl,3,11,,\nR1,ipsi,bl,4,12,,\n"
    )
    r = summarise(p).iloc[0]
    assert (r["n_trials"], r["n_valid"], r["status"]) == (4, 3, "ok")
    assert r["mean_latency_s"] == pytest.approx(11.0)
    r = summarise(p, average="mean_last_n", average_last_n=2).iloc[0]
    assert r["latency_s"] == pytest.approx(11.5)


def test_nothing_analysable_gives_flagged_rows_and_empty_tables(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text("animal,paw,timepoint,trial,latency_s\nA,ipsi,0,1,10\nA,ipsi,7,1,11\n")
    s = summarise(p)
    assert list(s["status"]) == ["too_few_valid;trial_count"] * 2
    assert s["latency_s"].isna().all() and s["tobit_latency_s"].isna().all()
    km = km_medians(p)
    assert km.empty and "km_median_s" in km.columns
    assert paw_differences(s).empty


def test_clock_times_in_several_formats(tmp_path):
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time\n"
        "R1,ipsi,bl,1,10,10:00\nR1,ipsi,bl,2,11,10:04:59\nR1,ipsi,bl,3,12,2026-01-05T10:20:00\n"
    )
    with pytest.raises(InputError, match=r"row 4, column 'time'.*a date-time but earlier"):
        read_trials(p)  # mixed formats would give meaningless intervals
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time\n"
        "R1,ipsi,bl,1,10,10:00\nR1,ipsi,bl,2,11,10:04:59\nR1,ipsi,bl,3,12,10:20\n"
    )
    t = read_trials(p)
    assert list(t["time_s"]) == [36000.0, 36299.0, 37200.0]
    assert summarise(p, baseline_window_s=None)["status"].iloc[0] == "short_interval"
    p.write_text("animal,paw,timepoint,trial,latency_s,time\nR1,ipsi,bl,1,10,ten\n")
    with pytest.raises(InputError, match="'ten' is not a time"):
        read_trials(p)


def test_bare_numbers_in_time_column_are_an_error(tmp_path):
    # regression (review3): "300" in a `time` column was parsed by pandas.to_timedelta
    # as 300 ns, so every interval looked far below min_intertrial_interval_s and the
    # short_interval flag was silently wrong; seconds belong in time_s
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time\n"
        "R1,ipsi,bl,1,10,0\nR1,ipsi,bl,2,11,300\nR1,ipsi,bl,3,12,600\n"
    )
    with pytest.raises(InputError, match=r"row 2, column 'time'.*is a number"):
        read_trials(p)
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time_s\n"
        "R1,ipsi,bl,1,10,0\nR1,ipsi,bl,2,11,300\nR1,ipsi,bl,3,12,600\n"
    )
    assert list(read_trials(p)["time_s"]) == [0.0, 300.0, 600.0]
    assert summarise(p, baseline_window_s=None)["status"].iloc[0] == "ok"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s,time\n"
        "R1,ipsi,bl,1,10,2026-01-05\nR1,ipsi,bl,2,11,2026-01-05 00:05\n"
    )
    assert list(read_trials(p)["time_s"].diff().dropna()) == [300.0]


def test_km_interval_of_a_single_animal_is_not_estimable(tmp_path):
    # regression (review3): with km_variance = "cluster" and one animal in a group x paw x
    # timepoint, the robust variance is identically 0 and the interval collapsed onto
    # the median (R survfit(..., cluster = animal) gives 12, 12, 12 for these trials)
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,group,paw,timepoint,trial,latency_s\n"
        "A,veh,ipsi,bl,1,10\nA,veh,ipsi,bl,2,12\nA,veh,ipsi,bl,3,20\n"
        "B,drug,ipsi,bl,1,10\nB,drug,ipsi,bl,2,12\nB,drug,ipsi,bl,3,20\n"
        "C,drug,ipsi,bl,1,9\nC,drug,ipsi,bl,2,11\nC,drug,ipsi,bl,3,13\n"
    )
    km = km_medians(p).set_index("group")
    assert km.loc["veh", "km_median_s"] == 12.0
    assert np.isnan(km.loc["veh", "km_ci_low_s"]) and np.isnan(km.loc["veh", "km_ci_high_s"])
    assert km.loc["veh", "status"] == "ci_not_estimable"
    assert km.loc["drug", "status"] != "ci_not_estimable"
    # Greenwood's variance does not depend on clusters: R survfit(Surv(c(10, 12, 20),
    # c(1, 1, 0)) ~ 1) gives median 12, lower 10, upper NA
    g = km_medians(p, km_variance="greenwood").set_index("group").loc["veh"]
    assert (g["km_median_s"], g["km_ci_low_s"], g["status"]) == (12.0, 10.0, "ci_high_not_reached")


def test_numeric_baseline_timepoint_matches_float_timepoints(tmp_path):
    # regression (review3): timepoints read as floats (0.0, 0.5, ...) never matched a
    # baseline_timepoint of "0", so the baseline window was silently not checked
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s\n"
        "A,ipsi,0,1,15\nA,ipsi,0,2,16\nA,ipsi,0.5,1,15\nA,ipsi,0.5,2,16\n"
    )
    s = summarise(p, baseline_timepoint="0", trials_per_paw=2, min_intertrial_interval_s=None)
    assert list(s["timepoint"]) == [0.0, 0.5]
    assert list(s["status"]) == ["baseline_out_of_window", "ok"]
    s = summarise(p, baseline_timepoint="0.5", trials_per_paw=2)
    assert list(s["status"]) == ["ok", "baseline_out_of_window"]


def test_tobit_estimate_above_cutoff_is_noted(tmp_path):
    # review3: a Tobit latency beyond the cut-off is an extrapolation; it is kept (not
    # clipped) and said so in the message.  R: survreg(Surv(log(lat), ev) ~ 0 + a,
    # dist = "gaussian") on these trials gives coef a1 = 4.852656148 (exp = 128.1 s)
    p = tmp_path / "t.csv"
    p.write_text(
        "animal,paw,timepoint,trial,latency_s\n"
        "a1,ipsi,bl,1,0.1\na1,ipsi,bl,2,20\na1,ipsi,bl,3,20\na1,ipsi,bl,4,20\n"
        "a2,ipsi,bl,1,19.9\na2,ipsi,bl,2,20\na2,ipsi,bl,3,20\n"
    )
    s = summarise(p, baseline_window_s=None).set_index("animal")
    assert s.loc["a1", "tobit_latency_s"] == pytest.approx(np.exp(4.852656148), rel=1e-7)
    assert "above the cut-off" in s.loc["a1", "message"]
    assert s.loc["a1", "mean_latency_s"] == pytest.approx(15.025)
