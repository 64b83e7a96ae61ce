"""Dixon's k by maximum likelihood against the printed table and an R computation.

Reference table: Dixon WJ (1980) Annu Rev Pharmacol Toxicol 20:441-462, Table 7 (from
Dixon 1965, JASA 60:967), 248 series, as transcribed in ``raqueladaia/vf_updown_analysis``
``data/dixon_k.csv`` (commit df1d85c0, copied to reference/dixon_k_vf_updown_analysis.csv).
Tolerance: our k rounded to 3 decimals equals the printed value exactly (and the
unrounded difference is < 0.0005).

Known typos in other circulated copies (checked against the ML values here):
``hxzhai/von-Frey`` k_table.txt: XOOOOO printed -0.983 (correct -0.893), XXXOXOOX
printed "--1.247"; ``shaoqiu0116/von_frey`` factor_looup_table.csv: xooooo -0.983
(correct -0.893), xxxxoxox +0.741 (correct -0.741).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.vonfrey import dixon_interval, dixon_k, dixon_table

REF = __import__("pathlib").Path(__file__).parent / "reference"


def mirror(s: str) -> str:
    return s.translate(str.maketrans("XO", "OX"))


@pytest.fixture(scope="module")
def printed() -> pd.DataFrame:
    return pd.read_csv(REF / "dixon_k_vf_updown_analysis.csv")


def test_reproduces_printed_table_to_three_decimals(printed):
    assert len(printed) == 248 and printed["OBSERVATION"].is_unique
    ours = printed["OBSERVATION"].map(dixon_k).to_numpy()
    assert np.array_equal(np.round(ours, 3), printed["STATISTIC"].to_numpy())
    assert np.max(np.abs(ours - printed["STATISTIC"].to_numpy())) < 0.0005


def test_table_covers_exactly_dixons_248_series(printed):
    table = dixon_table()
    assert len(table) == 248
    assert set(table["series"]) == set(printed["OBSERVATION"])
    assert table["n_nominal"].between(2, 6).all() and table["first_run"].between(1, 4).all()


def test_mirror_symmetry():
    for s in dixon_table()["series"]:
        assert dixon_k(mirror(s)) == -dixon_k(s)


@pytest.mark.parametrize(
    ("series", "typo", "correct"),
    [("XOOOOO", -0.983, -0.893), ("XXXOXOOX", None, -1.247), ("XXXXOXOX", 0.741, -0.741)],
)
def test_known_typos_in_public_copies(series, typo, correct):
    assert round(dixon_k(series), 3) == correct
    if typo is not None:
        assert round(dixon_k(series), 3) != typo


def test_case_and_spaces_ignored_and_cached():
    assert dixon_k("ooo xoxox") == dixon_k("OOOXOXOX")
    assert round(dixon_k("OOOXOXOX"), 3) == -0.453  # not k(OXOXOX) = -0.500


@pytest.mark.parametrize("bad", ["", "OXA", "O1X"])
def test_bad_characters(bad):
    with pytest.raises(InputError, match="X and O"):
        dixon_k(bad)


@pytest.mark.parametrize("uniform", ["XXXX", "OOOOO", "X"])
def test_no_crossing_has_no_estimate(uniform):
    with pytest.raises(InputError, match="never changes"):
        dixon_k(uniform)


def _r_reference() -> pd.DataFrame:
    # values written by reference/updown_reference.R (R stats::optimize/uniroot, tol 1e-12)
    return pd.read_csv(REF / "updown_reference.csv").set_index("case")


@pytest.mark.parametrize(
    "case",
    [
        "grid_OOOXOXOX",
        "grid_XOXOXX",
        "grid_OXXXXX",
        "grid_long_OOXOXOXXOXOO",
        "grid_long_XXXXXOXOOXO",
    ],
)
def test_k_and_likelihood_ratio_interval_match_r(case):
    ref = _r_reference().loc[case]
    series = case.split("_")[-1]
    k, lo, hi = dixon_interval(series)
    # R's optimize is accurate to ~1e-8 in mu; uniroot to 1e-12
    assert k == pytest.approx(ref["mu"] - ref["last"], abs=1e-6)
    assert lo == pytest.approx(ref["lo"] - ref["last"], abs=1e-7)
    assert hi == pytest.approx(ref["hi"] - ref["last"], abs=1e-7)


def test_second_public_copy_differs_only_by_its_known_typos():
    """hxzhai/von-Frey k_table.txt (0/1 notation): every entry agrees with the ML k to 3
    decimals except XOOOOO (printed -0.983, a transposition of -0.893) and XXXOXOOX
    (printed "--1.247")."""
    copy = pd.read_csv(REF / "dixon_k_hxzhai_von-Frey.txt", sep="\t", dtype=str)
    copy.columns = ["series", "k"]
    copy["series"] = copy["series"].str.replace("1", "X").str.replace("0", "O")
    assert len(copy) == 248
    wrong = {}
    for s, k in zip(copy["series"], copy["k"], strict=True):
        try:
            ok = float(k) == round(dixon_k(s), 3)
        except ValueError:
            ok = False
        if not ok:
            wrong[s] = k
    assert wrong == {"XOOOOO": "-0.983", "XXXOXOOX": "--1.247"}


def test_in_dixon_table_covers_exactly_the_printed_series():
    from nplab.vonfrey.dixon import in_dixon_table

    table = set(dixon_table()["series"])
    assert len(table) == 248 and all(in_dixon_table(s) for s in table)
    # initial run of 5, or more than 5 stimuli after the first change: not printed
    assert not in_dixon_table("OOOOOXOXOX")
    assert not in_dixon_table("OXOXOXO")
    assert not in_dixon_table("XXXX")


def test_series_outside_the_table_use_the_unrounded_ml_k():
    from nplab.vonfrey import thresholds

    row = thresholds(pd.DataFrame({"animal": ["a"], "responses": ["OXOXOXOX"]})).iloc[0]
    assert row["method"] == "dixon-ml-k" and row["status"] == "overrun"
    assert row["k"] == dixon_k("OXOXOXOX")
