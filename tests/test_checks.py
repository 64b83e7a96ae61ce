import numpy as np
import pandas as pd
import pytest

from nplab.checks import first_bad, raise_first_bad
from nplab.errors import InputError


def test_first_bad_positions():
    assert first_bad(np.array([False, False])) is None
    assert first_bad(pd.Series([False, True, True], index=[7, 3, 1])) == 1  # position, not label


def test_raise_first_bad_names_spreadsheet_row_and_value():
    values = pd.Series(["1", "x", "y"])
    raise_first_bad(values == "z", "never", file="t.csv", column="c", expected="e")  # no raise
    with pytest.raises(InputError) as exc:
        raise_first_bad(values != "1", lambda i: f"{values.iloc[i]!r} is bad", file="t.csv",
                        column="c", expected="a number")  # fmt: skip
    err = exc.value
    assert (err.file, err.row, err.column, err.expected) == ("t.csv", 3, "c", "a number")
    assert str(err) == "t.csv, row 3, column 'c': 'x' is bad (expected a number)"
