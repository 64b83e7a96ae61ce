"""Checking long-format DataFrames passed to the ``nplab.stats`` functions (private)."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError
from nplab.stats._levels import level_order as _level_order
from nplab.tables import require_columns, to_numeric_column

__all__ = ["check_long", "level_order", "show"]


def check_long(
    data: pd.DataFrame,
    *,
    numeric: Sequence[str],
    factors: Sequence[str] = (),
    allow_missing: bool = True,
) -> pd.DataFrame:
    """Return a copy of ``data`` with ``numeric`` columns as float and no missing factors.

    Raises :class:`InputError` (file from ``data.attrs["source"]``, spreadsheet row,
    column) for a missing column, a non-numeric value or a blank factor cell.  Blank
    numeric cells become NaN when ``allow_missing``; the caller decides what to do with
    them (every public function documents it).  The input frame is never modified.
    """
    if not isinstance(data, pd.DataFrame):
        raise InputError("data must be a pandas DataFrame", expected="a long-format table")
    source = data.attrs.get("source")
    cols = [*numeric, *factors]
    require_columns(data, cols, file=source)
    out = data.reset_index(drop=True).copy()
    for col in numeric:
        out[col] = to_numeric_column(out, col, file=source, allow_missing=allow_missing)
    for col in factors:
        raise_first_bad(
            out[col].isna().to_numpy(), "blank cell", file=source, column=col, expected="a label"
        )
    return out


def level_order(values: pd.Series, given: Sequence | None = None) -> list:
    """Levels of a factor by the rule of :func:`nplab.stats._levels.level_order`."""
    return _level_order(values, given=given)


def show(value: object) -> str:
    """``repr`` of a cell value for messages: ``2`` or ``'r1'``, not ``np.int64(2)``."""
    return repr(value.item() if isinstance(value, np.generic) else value)
