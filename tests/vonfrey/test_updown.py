"""Up-down thresholds: hand-computed Chaplan cases, exact ML against R, boundaries, rules.

Hand-computed cases use Chaplan's formula threshold = 10^(Xf + k*delta)/10^4 with the
*printed* Dixon k (3 decimals), the rat kit handles and delta = 0.224 (Chaplan et al.
1994); the printed k is rounded to 0.0005, so the tolerance is rel 3e-4
(0.0005 * 0.224 * ln 10 = 2.6e-4).
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError, ProtocolError
from nplab.vonfrey import CONVENTION_COLUMNS, RESULT_COLUMNS, dixon_k, thresholds

REF = Path(__file__).parent / "reference"
ID = ["animal", "paw", "timepoint"]


def sheet(*responses: str, **extra) -> pd.DataFrame:
    n = len(responses)
    return pd.DataFrame(
        {
            "animal": [f"r{i + 1}" for i in range(n)],
            "paw": "left",
            "timepoint": "day7",
            "responses": list(responses),
            **extra,
        }
    )


def test_output_columns_exactly():
    out = thresholds(sheet("OOOXOXOX"))
    assert list(out.columns) == ID + RESULT_COLUMNS + CONVENTION_COLUMNS
    row = out.iloc[0]
    assert row["protocol"] == "vonfrey-updown-rat@1.0.0"
    assert (row["kit"], row["xf_source"], row["delta_mode"], row["boundary"]) == (
        "chaplan-rat",
        "handle",
        "fixed",
        "chaplan",
    )


@pytest.mark.parametrize(
    ("series", "xf", "k_printed", "grams"),
    [
        # OOOXOXOX from 2.0 g (4.31): 4.31 4.56 4.74 4.93 4.74 4.93 4.74 4.93 -> Xf 4.93
        ("OOOXOXOX", 4.93, -0.453, 6.7379533526),
        # XOXOXX: 4.31 4.08 4.31 4.08 4.31 4.08 -> Xf 4.08
        ("XOXOXX", 4.08, -0.022, 1.1886992810),
        # OXXXXX: 4.31 4.56 4.31 4.08 3.84 3.61 -> Xf 3.61
        ("OXXXXX", 3.61, 0.893, 0.6457018043),
        # OXOXOX: 4.31 4.56 ... -> Xf 4.56
        ("oxoxox", 4.56, -0.500, 2.8054336380),
    ],
)
def test_hand_computed_chaplan_cases(series, xf, k_printed, grams):
    # the rat preset follows Chaplan exactly: Dixon's printed 3-decimal k
    row = thresholds(sheet(series)).iloc[0]
    assert row["status"] == "ok" and row["method"] == "dixon-table-k"
    assert row["xf"] == xf and row["delta"] == 0.224 and row["n_stimuli"] == len(series)
    assert row["pattern"] == series.upper()
    assert row["k"] == k_printed
    assert row["threshold_g"] == pytest.approx(grams, rel=1e-9)
    # k_source = "ml": the unrounded maximum-likelihood k (within the table's rounding)
    ml = thresholds(sheet(series), k_source="ml").iloc[0]
    assert ml["method"] == "dixon-ml-k" and round(ml["k"], 3) == k_printed
    assert ml["threshold_g"] == pytest.approx(grams, rel=3e-4)
    assert ml["threshold_g"] == pytest.approx(10 ** (xf + dixon_k(series) * 0.224) / 1e4, 1e-12)
    assert row["log10_threshold"] == pytest.approx(np.log10(row["threshold_g"]), abs=1e-12)
    assert row["ci_low_g"] < row["threshold_g"] < row["ci_high_g"]


def test_ci_maps_grid_interval_to_grams():
    ref = pd.read_csv(REF / "updown_reference.csv").set_index("case").loc["grid_OOOXOXOX"]
    row = thresholds(sheet("OOOXOXOX")).iloc[0]
    lo = 4.93 + (ref["lo"] - ref["last"]) * 0.224
    hi = 4.93 + (ref["hi"] - ref["last"]) * 0.224
    assert row["ci_low_g"] == pytest.approx(10**lo / 1e4, rel=1e-6)
    assert row["ci_high_g"] == pytest.approx(10**hi / 1e4, rel=1e-6)


@pytest.mark.parametrize(
    ("case", "series", "overrides", "status"),
    [
        ("exact_rat_OOOXOXOX", "OOOXOXOX", {}, "ok"),
        ("exact_rat_XXOXOOXO", "XXOXOOXO", {}, "overrun"),
        ("exact_rat_OXXOXX", "OXXOXX", {}, "ok"),
        (
            "exact_mouse_XOXOXX",
            "XOXOXX",
            {"kit": "mouse-9", "start_filament": 0.16, "xf_source": "grams",
             "boundary": "end_filament"},
            "ok",
        ),
    ],
)
def test_exact_ml_matches_r(case, series, overrides, status):
    """Christensen et al. 2020 'exact' delta; values from reference/updown_reference.R."""
    ref = pd.read_csv(REF / "updown_reference.csv").set_index("case").loc[case]
    row = thresholds(sheet(series), delta_mode="exact", **overrides).iloc[0]
    shift = 4.0 if case.startswith("exact_mouse") else 0.0  # R used log10(g) there
    assert row["method"] == "exact-ml" and row["status"] == status
    assert row["delta"] == pytest.approx(ref["sigma"], abs=1e-12)
    assert row["log10_threshold"] + 4 - shift == pytest.approx(ref["mu"], abs=1e-6)
    assert np.log10(row["ci_low_g"]) + 4 - shift == pytest.approx(ref["lo"], abs=1e-7)
    assert np.log10(row["ci_high_g"]) + 4 - shift == pytest.approx(ref["hi"], abs=1e-7)
    assert row["threshold_g"] == pytest.approx(10 ** (row["xf"] + row["k"] * row["delta"]) / 1e4)


def test_delta_modes():
    s = sheet("OOOXOXOX")
    kit_mean = thresholds(s, delta_mode="kit_mean").iloc[0]
    assert kit_mean["delta"] == pytest.approx((5.18 - 3.61) / 7, abs=1e-12)
    flexible = thresholds(s, delta_mode="flexible").iloc[0]
    assert flexible["delta"] == pytest.approx((4.93 - 4.31) / 3, abs=1e-12)
    grams = thresholds(s, xf_source="grams").iloc[0]
    assert grams["xf"] == pytest.approx(np.log10(8.0 * 1e4))
    k_table = round(dixon_k("OOOXOXOX"), 3)
    assert grams["threshold_g"] == pytest.approx(10 ** (np.log10(8.0) + k_table * 0.224))
    assert grams["xf_source"] == "grams"


@pytest.mark.parametrize(
    ("boundary", "below", "above"),
    # end_filament: the force of the last filament tested, in the kit's grams
    [("chaplan", 0.25, 15.0), ("end_filament", 0.4, 15.0)],
)
def test_boundary_policies(boundary, below, above):
    out = thresholds(sheet("XXXX", "OOOOO"), boundary=boundary)
    assert list(out["status"]) == ["below_range", "above_range"]
    assert out["threshold_g"].tolist() == pytest.approx([below, above], rel=1e-12)
    assert out["k"].isna().all() and out["ci_low_g"].isna().all()
    assert (out["method"] == "boundary").all() and (out["boundary"] == boundary).all()


def test_censored_boundary_gives_no_number():
    out = thresholds(sheet("XXXX", "OOOOO"), boundary="censored")
    assert out["threshold_g"].isna().all() and out["log10_threshold"].isna().all()
    assert list(out["status"]) == ["below_range", "above_range"]


def test_stopping_rule_flags():
    out = thresholds(sheet("OXOX", "XXX", "OOOXOXOXO", "OOOXOXOXO"), on_invalid="flag")
    assert list(out["status"]) == ["incomplete", "incomplete", "overrun", "overrun"]
    # early stop with a crossing still gets the ML value, flagged
    assert out.loc[0, "k"] == pytest.approx(dixon_k("OXOX"))
    assert np.isnan(out.loc[1, "threshold_g"])
    none = thresholds(sheet("OXOX"), stopping_rule="none").iloc[0]
    assert none["status"] == "ok"


def test_stopping_violation_can_be_an_error():
    with pytest.raises(InputError, match=r"row 3, column 'responses'.*4 stimuli after"):
        thresholds(sheet("OXOXOX", "OXO"), on_stopping_violation="error")


def test_path_leaving_the_kit():
    # 6 O's from 2.0 g: 2, 4, 6, 8, 15, then above the strongest filament
    with pytest.raises(InputError, match=r"row 2, column 'responses'.*leaves the kit"):
        thresholds(sheet("OOOOOO"))
    flagged = thresholds(sheet("OOOOOO", "OOOXOXOX"), on_invalid="flag")
    assert list(flagged["status"]) == ["invalid", "ok"]
    assert np.isnan(flagged.loc[0, "threshold_g"])


@pytest.mark.parametrize(
    ("value", "match"), [("OXAX", "not an up-down series"), (None, "no responses")]
)
def test_bad_characters(value, match):
    with pytest.raises(InputError, match=rf"row 3, column 'responses': .*{match}.*expected only X"):
        thresholds(sheet("OXOXOX", value))


def test_duplicated_keys():
    s = sheet("OXOXOX", "OXOXOX")
    s["animal"] = "r1"
    with pytest.raises(InputError, match=r"row 3.*duplicated key.*rows 2, 3"):
        thresholds(s)


def test_start_filament_override_and_unit():
    s = sheet("OXOXOX", "OXOXOX", start_filament=[np.nan, 4.0])
    out = thresholds(s)
    assert out["xf"].tolist() == [4.56, 4.74]
    # the input column is not an id column; the start used is a recorded convention
    assert list(out.columns).count("start_filament") == 1
    assert out["start_filament"].tolist() == [2.0, 4.0]
    with pytest.raises(InputError, match=r"row 2, column 'start_filament'.*not in kit"):
        thresholds(sheet("OXOXOX", start_filament=[3.0]))
    by_handle = thresholds(
        sheet("OXOXOX", start_filament=[4.56]), filament_unit="handle", start_filament=4.31
    )
    assert by_handle.loc[0, "xf"] == 4.74


def test_id_columns_carried_through_in_order():
    s = sheet("OXOXOX", "XOXOXX")
    s.insert(1, "group", ["vehicle", "drug"])
    out = thresholds(s)
    assert list(out.columns[:4]) == ["animal", "group", "paw", "timepoint"]
    assert out["group"].tolist() == ["vehicle", "drug"]


def long_sheet(series: str, start_g: float, animal: str = "r1") -> list[dict]:
    grams = [0.4, 0.6, 1.0, 2.0, 4.0, 6.0, 8.0, 15.0]
    i = grams.index(start_g)
    rows = []
    for n, c in enumerate(series, 1):
        rows.append(
            {"animal": animal, "paw": "left", "stimulus": n, "filament": grams[i], "response": c}
        )
        i += -1 if c.upper() == "X" else 1
    return rows


def test_long_style_equals_sheet_style():
    rows = long_sheet("OOOXOXOX", 2.0, "r1") + long_sheet("xoxoxx", 2.0, "r2")
    long = pd.DataFrame(rows[::-1])  # any row order; stimulus gives the order
    out = thresholds(long)
    assert out["animal"].tolist() == ["r2", "r1"]  # order of first appearance
    assert out["pattern"].tolist() == ["XOXOXX", "OOOXOXOX"]
    wide = thresholds(sheet("XOXOXX", "OOOXOXOX").drop(columns="timepoint"))
    assert out["threshold_g"].tolist() == wide["threshold_g"].tolist()


def test_long_style_rule_violation_and_errors():
    rows = long_sheet("OOOXOXOX", 2.0)
    rows[4]["filament"] = 6.0  # after X at 8 g the next filament must be 6 g: fine
    rows[5]["filament"] = 4.0  # after O at 6 g the next must be 8 g
    with pytest.raises(InputError, match=r"row 7, column 'filament'.*up-down rule.*next filament is 8"):
        thresholds(pd.DataFrame(rows))
    rows = long_sheet("OXOXOX", 2.0)
    rows[2]["response"] = "maybe"
    with pytest.raises(InputError, match=r"row 4, column 'response'.*not X or O"):
        thresholds(pd.DataFrame(rows))
    rows = long_sheet("OXOXOX", 2.0)
    rows[3]["stimulus"] = 3
    with pytest.raises(InputError, match="duplicated key"):
        thresholds(pd.DataFrame(rows))
    rows = long_sheet("OXOXOX", 2.0)
    rows[0]["filament"] = 2.5
    with pytest.raises(InputError, match=r"row 2, column 'filament'.*not in kit"):
        thresholds(pd.DataFrame(rows))
    flagged = thresholds(pd.DataFrame(rows), on_invalid="flag")
    assert flagged.loc[0, "status"] == "invalid"


def test_file_input_csv_and_xlsx(tmp_path):
    s = sheet("OOOXOXOX", "xxxx")
    csv, xlsx = tmp_path / "s.csv", tmp_path / "s.xlsx"
    s.to_csv(csv, index=False)
    s.to_excel(xlsx, index=False)
    a, b = thresholds(csv), thresholds(xlsx)
    pd.testing.assert_frame_equal(a, b)
    bad = sheet("OXOXOX", "OXQ")
    bad.to_csv(csv, index=False)
    with pytest.raises(InputError, match=r"s\.csv, row 3, column 'responses'"):
        thresholds(csv)


def test_no_style_and_empty():
    with pytest.raises(InputError, match="responses"):
        thresholds(pd.DataFrame({"animal": ["a"], "x": [1]}))
    with pytest.raises(InputError, match="no data rows"):
        thresholds(sheet())


def test_presets_and_custom_kits(tmp_path):
    mouse = thresholds(sheet("OOOXOXOX"), "vonfrey-updown-mouse").iloc[0]
    assert mouse["kit"] == "mouse-9" and mouse["delta"] == pytest.approx((4.31 - 1.65) / 8)
    # 0.16 g (3.22) O, 0.4 O, 0.6 O, 1.0 X, 0.6 O, 1.0 X, 0.6 O, 1.0 X -> Xf 4.08
    assert mouse["xf"] == 4.08
    tt = thresholds(sheet("OXOXOX"), kit="touch-test-20", start_filament=1.4).iloc[0]
    assert tt["kit"] == "touch-test-20" and tt["xf"] == 4.31  # 1.4 g -> 2.0 g (4.31)
    custom = tmp_path / "lab.toml"
    custom.write_text(
        '[protocol]\nname = "lab"\nversion = "0.1"\nkind = "vonfrey-updown"\n'
        "[parameters]\nkit = \"custom\"\nfilaments_g = [0.38, 0.57, 1.23, 1.83, 3.66, 5.93, 9.13, 13.1]\n"
        'start_filament = 1.83\nxf_source = "grams"\ndelta_mode = "kit_mean"\n'
    )
    row = thresholds(sheet("OXOXOX"), custom).iloc[0]
    assert row["protocol"] == "lab@0.1" and row["kit"] == "custom"
    assert row["delta"] == pytest.approx(np.log10(13.1 / 0.38) / 7)
    assert row["threshold_g"] == pytest.approx(10 ** (np.log10(3.66) - 0.5 * row["delta"]))
    with pytest.raises(ProtocolError, match="handle"):
        thresholds(sheet("OXOXOX"), custom, xf_source="handle")
    with pytest.raises(ProtocolError, match="kind"):
        thresholds(sheet("OXOXOX"), "cci")


def test_duplicate_keys_with_blank_id_cells():
    s = sheet("OXOXOX", "OXOXOX", "OXOXOX")
    s["paw"] = [None, "left", None]
    s["animal"] = "r1"
    with pytest.raises(InputError, match=r"row 4.*duplicated key.*rows 2, 4"):
        thresholds(s)


def test_estimate_outside_the_kit_is_noted():
    # XXXOXOXX: 4.31 4.08 3.84 3.61 3.84 3.61 3.84 3.61; k = -0.040 -> 0.399 g < 0.407 g
    row = thresholds(sheet("XXXOXOXX"), stopping_rule="none").iloc[0]
    assert row["status"] == "ok" and row["threshold_g"] < 10**3.61 / 1e4
    assert "below the weakest" in row["message"]


def test_up_down_ld50_help_example_flexible_delta():
    """Example of R package up.down.ld50 (Christensen et al. 2020; MikkelAStorm/Up.Down.Method):
    steps 0.008..2 g, end point 0.07 g, pattern "xoxoxx", delta_type "flexible", log10(g).
    R values (reference/updown_reference.R): k from grid_XOXOXX, d = sigma of the exact case."""
    ref = pd.read_csv(REF / "updown_reference.csv").set_index("case")
    k = ref.loc["grid_XOXOXX", "mu"] - ref.loc["grid_XOXOXX", "last"]
    d = ref.loc["exact_mouse_XOXOXX", "sigma"]  # mean log10 step over 0.07-0.16 g
    expected = 10 ** (np.log10(0.07) + d * k)
    row = thresholds(
        sheet("xoxoxx"),
        kit="mouse-9",
        start_filament=0.16,
        xf_source="grams",
        delta_mode="flexible",
        k_source="ml",
        boundary="end_filament",
    ).iloc[0]
    assert row["delta"] == pytest.approx(d, abs=1e-12)
    # R optimize() locates mu to ~1e-8 steps, hence rel 1e-7
    assert row["threshold_g"] == pytest.approx(expected, rel=1e-7)


def test_dixon_k_is_a_python_float():
    assert type(dixon_k("OXOXOX")) is float


def test_protocol_start_not_in_kit():
    with pytest.raises(ProtocolError, match="start_filament 3 is not a filament"):
        thresholds(sheet("OXOXOX"), start_filament=3.0)


def test_long_style_in_handles_needs_no_protocol_start():
    # review: a long sheet records the start filament itself; switching the rat preset
    # to handle numbers must not fail on the preset's start_filament (2.0, in grams)
    handle = dict(zip([0.4, 0.6, 1.0, 2.0, 4.0, 6.0, 8.0, 15.0],
                      [3.61, 3.84, 4.08, 4.31, 4.56, 4.74, 4.93, 5.18], strict=True))
    rows = long_sheet("OOOXOXOX", 2.0)
    for r in rows:
        r["filament"] = handle[r["filament"]]
    out = thresholds(pd.DataFrame(rows), filament_unit="handle")
    assert out.loc[0, "status"] == "ok" and out.loc[0, "xf"] == 4.93
    assert out.loc[0, "threshold_g"] == pytest.approx(10 ** (4.93 - 0.453 * 0.224) / 1e4, rel=3e-4)
    with pytest.raises(ProtocolError, match="start_filament 2 is not a filament"):
        thresholds(sheet("OXOXOX"), filament_unit="handle")  # a lab sheet does need it


def test_path_leaving_the_kit_error_says_what_was_expected():
    # review: the error named the wrong expectation ("only X and O") for a valid X/O
    # series whose path leaves the kit
    with pytest.raises(InputError) as err:
        thresholds(sheet("OXOXOX", "XXXXX"))
    msg = str(err.value)
    assert "row 3, column 'responses'" in msg and "leaves the kit at stimulus 5" in msg
    assert "only X" not in msg and "up-down path within kit 'chaplan-rat'" in msg


def test_long_style_without_stimulus_column_uses_file_order():
    # review: "one row per stimulus: applied filament, response" -- an order column is
    # not always kept; the rows of each test are then taken in file order
    rows = long_sheet("OOOXOXOX", 2.0, "r1") + long_sheet("xoxoxx", 2.0, "r2")
    long = pd.DataFrame(rows).drop(columns="stimulus")
    out = thresholds(long)
    assert out["pattern"].tolist() == ["OOOXOXOX", "XOXOXX"]
    with_order = thresholds(pd.DataFrame(rows))
    assert out["threshold_g"].tolist() == with_order["threshold_g"].tolist()
    # an order column is still honoured, and a rule violation still found, without it
    rows[5]["filament"] = 4.0
    with pytest.raises(InputError, match=r"row 7, column 'filament'.*up-down rule"):
        thresholds(pd.DataFrame(rows).drop(columns="stimulus"))


def test_custom_kit_without_handles_error_names_the_protocol_file(tmp_path):
    # review: the error for xf_source = 'handle' on a kit without handles named no file
    toml = tmp_path / "calibrated.toml"
    toml.write_text(
        '[protocol]\nname = "cal"\nversion = "1"\nkind = "vonfrey-updown"\n\n'
        "[parameters]\nkit = \"custom\"\nfilaments_g = [0.38, 0.57, 1.23, 1.83, 3.66]\n"
        "start_filament = 1.23\n"
    )
    with pytest.raises(ProtocolError) as err:
        thresholds(sheet("OXOXOX"), toml)
    assert str(err.value).startswith(f"{toml}, column 'xf_source': kit 'custom' has no handle")


def test_start_filament_recorded_in_every_row():
    # review: issue 3 lists the start filament among the conventions recorded in every
    # output row (protocol default, sheet override, or the first filament of a long test)
    out = thresholds(sheet("OXOXOX", "XOXOXX", start_filament=[np.nan, 1.0]))
    assert out["start_filament"].tolist() == [2.0, 1.0]
    by_handle = thresholds(sheet("OXOXOX"), filament_unit="handle", start_filament=4.31)
    assert by_handle["start_filament"].tolist() == [4.31]
    long = thresholds(pd.DataFrame(long_sheet("OOOXOXOX", 1.0)))
    assert long["start_filament"].tolist() == [1.0]
    sudo = thresholds(sheet("OXOXO"), "vonfrey-sudo")
    assert sudo["start_filament"].tolist() == [0.16]
    assert list(sudo.columns[-2:]) == ["start_filament", "fit"]
