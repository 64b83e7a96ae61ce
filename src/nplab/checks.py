"""Row checks shared by the table readers: report the first offending row.

Every reader validates a column with a boolean mask of bad rows and reports the first
one as an :class:`~nplab.errors.InputError` naming file, spreadsheet row, column and what
was expected; :func:`raise_first_bad` is that one step, so the row numbering
(:func:`~nplab.errors.row_number`) and the message shape are the same everywhere.
"""

from __future__ import annotations

import os
from collections.abc import Callable

import numpy as np
import pandas as pd

from nplab.errors import InputError, row_number

__all__ = ["first_bad", "raise_first_bad"]


def first_bad(bad: np.ndarray | pd.Series) -> int | None:
    """Position (0-based, in table order) of the first true entry of ``bad``, or None."""
    hits = np.flatnonzero(np.asarray(bad, dtype=bool))
    return int(hits[0]) if hits.size else None


def raise_first_bad(
    bad: np.ndarray | pd.Series,
    message: str | Callable[[int], str],
    *,
    file: str | os.PathLike[str] | None,
    column: str | None,
    expected: str | None,
) -> None:
    """Raise :class:`InputError` for the first row where ``bad`` is true (if any).

    Parameters
    ----------
    bad
        One boolean per data row, in file order (row 0 is spreadsheet row 2).
    message
        The reason, or a function of the bad row's 0-based position that gives it
        (to quote the offending value).
    file, column, expected
        As for :class:`InputError`.
    """
    i = first_bad(bad)
    if i is not None:
        raise InputError(
            message(i) if callable(message) else message,
            file=file,
            row=row_number(i),
            column=column,
            expected=expected,
        )
