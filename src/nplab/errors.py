"""Exception types shared by every nplab module.

``NplabError`` is the base of every error nplab raises on purpose.  Errors about the
user's data or files are ``InputError`` (the CLI maps them to exit code 2 and prints
only the message); anything else escaping the CLI is an internal error (exit 1).

Row numbers in messages are the line numbers a user sees when opening the file in an
editor or spreadsheet: the header is line 1, so the first data row is row 2
(see :func:`row_number`).
"""

from __future__ import annotations

import re
from os import PathLike

__all__ = [
    "InputError",
    "NplabError",
    "ProtocolError",
    "plain_numbers",
    "row_number",
    "split_sheet",
]

#: ``book.xlsx#Sheet name``: a workbook path with the sheet to read after ``#``.
_SHEET_PATH = re.compile(r"^(?P<file>.+\.(?:xlsx|xlsm|xls))#(?P<sheet>.*)$", re.IGNORECASE)


def split_sheet(path: str | PathLike[str]) -> tuple[str, str | None]:
    """Split ``"book.xlsx#Sheet 2"`` into ``("book.xlsx", "Sheet 2")``.

    Only a ``#`` after an Excel suffix (``.xlsx``, ``.xlsm``, ``.xls``) starts a sheet
    name; any other path is returned whole with ``None``.
    """
    text = str(path)
    m = _SHEET_PATH.match(text)
    return (m["file"], m["sheet"]) if m else (text, None)


class NplabError(Exception):
    """Base class of every error nplab raises deliberately."""


class InputError(NplabError):
    """Bad input: a file, row (or sweep), column or value that is not what was expected.

    Parameters
    ----------
    message
        What is wrong, in the user's terms.
    file
        The file the problem is in (path as the user gave it), if any.
    row
        Row number as shown in a spreadsheet (header = 1), or ``None``.
    column
        Column (or parameter/key) name, or ``None``.
    expected
        What was expected instead, e.g. ``"a number > 0"``.
    sweep
        Sweep index for recordings, or ``None``.
    sheet
        Excel sheet the problem is in, or ``None``.  A ``file`` written
        ``book.xlsx#Sheet`` (as :func:`nplab.tables.read_table` records the source of a
        sheet) is split into file and sheet, so every error about a table read from a
        workbook names the sheet: ``book.xlsx, sheet 'Sheet', row 3, column 'x': ...``.
    key
        Key of a TOML/YAML file (study file, protocol), e.g. ``groups[1].dose``; shown
        as ``key '...'`` (``column`` is kept for callers that pass keys as columns).
    """

    def __init__(
        self,
        message: str,
        *,
        file: str | PathLike[str] | None = None,
        row: int | None = None,
        column: str | None = None,
        expected: str | None = None,
        sweep: int | None = None,
        sheet: str | int | None = None,
        key: str | None = None,
    ) -> None:
        self.reason = message
        self.file = None if file is None else str(file)
        if self.file is not None and sheet is None:
            self.file, sheet = split_sheet(self.file)
        self.sheet = sheet
        self.key = key
        self.row = row
        self._column_given = column is not None
        self.column = column if column is not None else key  # keys were passed as columns
        self.expected = expected
        self.sweep = sweep
        super().__init__(plain_numbers(self._format()))

    def _format(self) -> str:
        where = []
        if self.file is not None:
            where.append(self.file)
        if self.sheet is not None:
            where.append(f"sheet {self.sheet!r}")
        if self.key is not None:
            where.append(f"key '{self.key}'")
        if self.row is not None:
            where.append(f"row {self.row}")
        if self.sweep is not None:
            where.append(f"sweep {self.sweep}")
        if self._column_given:
            where.append(f"column '{self.column}'")
        text = (": ".join([", ".join(where), self.reason])) if where else self.reason
        if self.expected:
            text += f" (expected {self.expected})"
        return text


class ProtocolError(InputError):
    """A protocol parameter file is invalid (unknown key, wrong type, out of range)."""


# repr() of numpy scalars (numpy >= 2): np.float64(-1.0), np.int64(3), np.str_('a') ...
_NUMPY_REPR = re.compile(r"\bnp\.(?:float|int|uint|bool|str|bytes|complex|longdouble)[_0-9]*"
                         r"\(([^()]*)\)")


def plain_numbers(text: str) -> str:
    """Write numpy scalars in a message as the user typed them: ``np.float64(-1.0)`` -> ``-1.0``."""
    return _NUMPY_REPR.sub(r"\1", text)


def row_number(index: int) -> int:
    """Spreadsheet row number of the 0-based data row ``index`` (header is row 1)."""
    return int(index) + 2
