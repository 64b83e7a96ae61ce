"""Issue 13 item 6: Excel sheets chosen and named in every error; European CSV files.

References: the values written into the test files (a workbook made with pandas/openpyxl,
CSV text typed as Excel writes it in a decimal-comma locale); equality is exact.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError, split_sheet
from nplab.tables import read_table, round_table, to_numeric_column

DATA = pd.DataFrame({"animal": ["r1", "r2", "r3"], "group": ["A", "B", "A"],
                     "Pain Score": [1.5, 2.25, 3.0]})  # fmt: skip


@pytest.fixture()
def book(tmp_path):
    path = tmp_path / "study.xlsx"
    with pd.ExcelWriter(path) as xl:
        pd.DataFrame({"note": ["read me first"]}).to_excel(xl, sheet_name="Info", index=False)
        DATA.to_excel(xl, sheet_name="Pain data", index=False)
        DATA.assign(**{"Pain Score": ["1.5", "n/a", "3"]}).to_excel(
            xl, sheet_name="Bad", index=False)
    return path


def test_sheet_chosen_by_hash_or_argument(book):
    for got in (read_table(f"{book}#Pain data"), read_table(book, sheet="Pain data"),
                read_table(book, sheet=1), read_table(f"{book}#pain data")):  # fmt: skip
        pd.testing.assert_frame_equal(got, DATA)
        assert got.attrs["source"] == f"{book}#Pain data"
    assert list(read_table(book).columns) == ["note"]  # default: the first sheet


def test_every_error_names_the_sheet(book):
    with pytest.raises(InputError) as exc:
        read_table(f"{book}#Pain data", required=["animal", "dose"])
    assert str(exc.value).startswith(f"{book}, sheet 'Pain data', column 'dose': required")
    assert exc.value.file == str(book) and exc.value.sheet == "Pain data"
    # later errors, raised from the frame's source, name it too (spreadsheet row 3)
    bad = read_table(book, sheet="Bad")
    with pytest.raises(InputError, match=r"study.xlsx, sheet 'Bad', row 3, column 'Pain Score'"):
        to_numeric_column(bad, "Pain Score")
    # the default (first) sheet is named as well
    with pytest.raises(InputError, match=r"sheet 'Info', column 'animal'"):
        read_table(book, required=["animal"])


def test_unknown_sheet_lists_the_sheets(book):
    with pytest.raises(InputError, match=r"has no sheet 'Pain'.*'Info', 'Pain data', 'Bad'"):
        read_table(f"{book}#Pain")
    with pytest.raises(InputError, match="two sheets asked for"):
        read_table(f"{book}#Info", sheet="Bad")
    csv = book.with_suffix(".csv")
    DATA.to_csv(csv, index=False)
    with pytest.raises(InputError, match="not an Excel workbook"):
        read_table(csv, sheet="Pain data")


def test_split_sheet():
    assert split_sheet("a/b.xlsx#Sheet 2") == ("a/b.xlsx", "Sheet 2")
    assert split_sheet("a/b#c.csv") == ("a/b#c.csv", None)
    assert split_sheet("b.XLSX#x#y") == ("b.XLSX", "x#y")


def test_european_csv_read_with_decimal_comma(tmp_path):
    p = tmp_path / "euro.csv"
    p.write_text("animal;group;Pain Score;note\nr1;A;1,5;left, then right\n"
                 "r2;B;2,25;\nr3;A;3;x\n", encoding="utf-8")  # fmt: skip
    got = read_table(p, required=["Pain Score"])
    np.testing.assert_array_equal(got["Pain Score"].to_numpy(), [1.5, 2.25, 3.0])
    assert got["note"].iloc[0] == "left, then right"
    assert got.attrs["read_as"] == "semicolon-separated, decimal comma"
    p.write_text("animal;x\nr1;1.5\nr2;2\n", encoding="utf-8")  # semicolons, decimal points
    got = read_table(p)
    assert got["x"].tolist() == [1.5, 2.0] and got.attrs["read_as"] == "semicolon-separated"


def test_european_csv_with_mixed_decimal_marks_is_explained(tmp_path):
    p = tmp_path / "mixed.csv"
    p.write_text("animal;x;y\nr1;1,5;2\nr2;1.234,5;3.5\n", encoding="utf-8")
    with pytest.raises(InputError) as exc:
        read_table(p)
    text = str(exc.value)
    assert "semicolon-separated (European CSV)" in text
    assert "'1,5', row 2, column 'x'" in text and "'3.5', row 3, column 'y'" in text


def test_round_table_significant_digits():
    df = pd.DataFrame({"p": [0.000123456, 0.0456789, 1.0, np.nan],
                       "conc": [1234.5678, -98765.4321, 0.0, np.inf],
                       "n": [1, 2, 3, 4], "name": ["a", "b", "c", "d"]})  # fmt: skip
    got = round_table(df, 3)
    assert got["p"].tolist()[:3] == [0.000123, 0.0457, 1.0] and np.isnan(got["p"].iloc[3])
    assert got["conc"].tolist() == [1230.0, -98800.0, 0.0, np.inf]
    assert got["n"].tolist() == [1, 2, 3, 4] and got["n"].dtype == df["n"].dtype
    assert got["name"].tolist() == ["a", "b", "c", "d"]
    assert df["p"].iloc[0] == 0.000123456  # the input is not modified
    with pytest.raises(InputError, match="significant digits"):
        round_table(df, 0)
