"""Reading input tables and writing outputs atomically.

Data conventions (see README): inputs are CSV or Excel (``.xlsx``) tables in long
format, one row per observation, lower_snake_case column names, units in the names
where ambiguous (``threshold_g``, ``latency_s``, ``conc_um``).  Outputs are CSV, or
Parquet when the output name ends in ``.parquet``.

Every write goes to a temporary file in the destination folder that is renamed over
the target only once complete (:func:`atomic_write`), so a failed run never leaves a
half-written file and never touches its inputs.  :func:`staged_outputs` extends this to
a whole set of outputs written by one run.
"""

from __future__ import annotations

import contextlib
import io
import os
import re
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nplab.errors import InputError, row_number, split_sheet
from nplab.rundir import sha256_file

if TYPE_CHECKING:  # numpy/pandas load when a table is read or written (fast CLI start-up)
    import numpy as np
    import pandas as pd

__all__ = [
    "EXCEL_SUFFIXES",
    "atomic_write",
    "read_table",
    "require_columns",
    "round_table",
    "sha256_file",
    "staged_outputs",
    "to_numeric_column",
    "write_table",
]

_EXCEL = {".xlsx", ".xlsm", ".xls"}
#: Suffixes read as Excel workbooks (``book.xlsx#Sheet`` selects a sheet).
EXCEL_SUFFIXES = frozenset(_EXCEL)
_OUTPUT_SUFFIXES = {".csv", ".parquet"}
#: Identifier columns always read as text, so that "007" and "7" stay different animals.
ID_COLUMNS = ("animal", "cell", "cohort", "subject", "cage")


def read_table(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str] = (),
    sheet: str | int | None = None,
    dtype: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel table into a DataFrame, checking required columns.

    Column names are stripped of surrounding white space.  The returned frame has
    ``attrs["source"]`` set to the path, which later error messages use; for a workbook
    it is ``book.xlsx#Sheet`` with the sheet actually read, so every
    :class:`~nplab.errors.InputError` about the table names the sheet
    (``book.xlsx, sheet 'Sheet', row 3, column 'x': ...``).

    A ``.csv`` whose header is separated by semicolons (a "European" CSV, as Excel
    saves it where the decimal separator is a comma) is read with ``;`` as separator
    and, when its numbers use decimal commas (``1,5``), ``,`` as decimal separator; it
    is refused with an explanation when it mixes decimal commas and points.  How such a
    file was read is recorded in ``attrs["read_as"]`` (e.g. ``"semicolon-separated,
    decimal comma"``).

    Parameters
    ----------
    path
        ``.csv`` (or ``.tsv``/``.txt``, tab separated) or ``.xlsx`` file;
        ``book.xlsx#Sheet name`` reads that sheet of the workbook.
    required
        Column names that must be present.
    sheet
        Excel sheet name, or 0-based sheet number (default: the sheet named after ``#``
        in ``path``, else the first sheet).
    dtype
        Passed to the reader (e.g. ``{"responses": str}``).  Identifier columns
        (:data:`ID_COLUMNS`) are read as text unless ``dtype`` says otherwise.

    Raises
    ------
    InputError
        If the file or sheet is missing, unreadable, empty or lacks a required column.
    """
    import pandas as pd

    text, path_sheet = split_sheet(path)
    p = Path(text)
    if path_sheet is not None:
        if sheet is not None and str(sheet) != path_sheet:
            raise InputError(f"two sheets asked for: {path_sheet!r} (after '#') and {sheet!r}",
                             file=p, expected="the sheet once: book.xlsx#Sheet or --sheet Sheet")
        sheet = path_sheet
    if not p.exists():
        raise InputError("file not found", file=p)
    if p.is_dir():
        raise InputError("is a folder, not a table", file=p, expected="a .csv or .xlsx file")
    suffix = p.suffix.lower()
    dtype = {**dict.fromkeys(ID_COLUMNS, str), **(dtype or {})}
    if sheet is not None and suffix not in _EXCEL:
        raise InputError(f"sheet {sheet!r} asked for, but this is not an Excel workbook",
                         file=p, expected="a sheet only for .xlsx files")
    read_as = None
    if suffix in _EXCEL:
        df, source, sheet = _read_sheet(p, suffix, sheet, dtype)
    else:
        _check_text(p)
        source = str(p)
        sep, decimal = _text_format(p, suffix)
        try:
            df = _read(p, suffix, dtype=dtype, sep=sep, decimal=decimal)
        except pd.errors.EmptyDataError:
            raise InputError(
                "the file is empty", file=p, expected="a header row and data rows"
            ) from None
        except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
            raise _unreadable(p, suffix, exc, sep=sep) from None
        if sep == ";":
            read_as = "semicolon-separated" + (", decimal comma" if decimal == "," else "")
    names = [str(c).strip() for c in df.columns]
    if len(set(names)) < len(names) or any(_MANGLED.match(n) for n in names):
        _check_duplicate_columns(p, suffix, sheet, names, source)
    df.columns = names
    if suffix not in _EXCEL and read_as is None:
        _check_delimiter(p, suffix, names)
    require_columns(df, required, file=source)
    df.attrs["source"] = source
    if read_as is not None:
        df.attrs["read_as"] = read_as
    return df


# pandas renames a repeated column "x" to "x.1", "x.2", ...
_MANGLED = re.compile(r"^(?P<name>.+)\.\d+$")
_DELIMITERS = {";": "semicolon (;)", "\t": "tab", ",": "comma (,)", "|": "vertical bar (|)"}


def _read(p: Path, suffix: str, *, sheet: str | int = 0, dtype: dict | None = None,
          header_only: bool = False, sep: str | None = None, decimal: str = ".",
          ) -> pd.DataFrame:
    import pandas as pd

    kw: dict = {"header": None, "nrows": 1, "dtype": str} if header_only else {"dtype": dtype}
    if suffix in _EXCEL:
        return pd.read_excel(p, sheet_name=sheet, **kw)
    sep = sep or ("\t" if suffix in {".tsv", ".txt"} else ",")
    return pd.read_csv(p, sep=sep, decimal=decimal, skipinitialspace=True, **kw)


def _read_sheet(p: Path, suffix: str, sheet: str | int | None, dtype: dict
                ) -> tuple[pd.DataFrame, str, str]:
    """Read one sheet of a workbook: the frame, its source ``book.xlsx#Sheet``, the sheet."""
    import pandas as pd

    try:
        book = pd.ExcelFile(p)
    except OSError:
        raise
    except Exception as exc:  # openpyxl/xlrd/zipfile errors for a damaged or other file
        raise _unreadable(p, suffix, exc) from None
    with book:
        name = _choose_sheet(p, [str(n) for n in book.sheet_names], sheet)
        source = f"{p}#{name}"
        try:
            df = pd.read_excel(book, sheet_name=name, dtype=dtype)
        except (ValueError, TypeError) as exc:
            raise InputError(f"cannot be read as a table ({exc})", file=source,
                             expected="a header row and data rows") from None
    if df.shape[1] == 0:
        raise InputError("the sheet is empty", file=source, expected="a header row and data rows")
    return df, source, name


def _choose_sheet(p: Path, names: list[str], sheet: str | int | None) -> str:
    """The workbook's sheet asked for by name (or 0-based number); the first by default."""
    if sheet is None:
        return names[0]
    if str(sheet) in names:
        return str(sheet)
    folded = [n for n in names if n.strip().casefold() == str(sheet).strip().casefold()]
    if len(folded) == 1:
        return folded[0]
    if isinstance(sheet, int) or str(sheet).isdigit():
        if 0 <= int(sheet) < len(names):
            return names[int(sheet)]
    raise InputError(f"has no sheet {sheet!r}", file=p,
                     expected="one of " + ", ".join(map(repr, names))
                     + " (or a 0-based sheet number)")


#: A number written with a decimal comma (``1,5``, ``-0,25``) or a decimal point.
_DECIMAL_COMMA = re.compile(r"^[+-]?\d*,\d+$")
_DECIMAL_POINT = re.compile(r"^[+-]?(\d+\.\d*|\.\d+)([eE][+-]?\d+)?$")


def _text_format(p: Path, suffix: str) -> tuple[str | None, str]:
    """Separator and decimal mark of a text table: ``(None, ".")`` for the usual format.

    A ``.csv`` whose header is semicolon-separated is a "European" CSV: ``;`` between
    cells, and a decimal comma when numbers are written ``1,5``.  Mixed decimal marks
    (``1,5`` and ``2.5`` in one file) are ambiguous and refused with an explanation.
    """
    if _delimiter_hint(p, suffix) != ";":
        return None, "."
    import pandas as pd

    try:
        cells = pd.read_csv(p, sep=";", dtype=str, keep_default_na=False,
                            skipinitialspace=True)
    except (pd.errors.ParserError, pd.errors.EmptyDataError, UnicodeDecodeError,
            ValueError):
        return ";", "."  # the reader reports the problem
    comma = point = None
    for col in cells.columns:
        if str(col).strip() in ID_COLUMNS:
            continue
        values = cells[col].str.strip()
        for kind, pattern in (("comma", _DECIMAL_COMMA), ("point", _DECIMAL_POINT)):
            hits = values.str.match(pattern)
            if hits.any():
                i = int(hits.to_numpy().argmax())
                where = (row_number(i), str(col).strip(), values.iloc[i])
                comma = where if kind == "comma" and comma is None else comma
                point = where if kind == "point" and point is None else point
    if comma is not None and point is not None:
        raise InputError(
            f"semicolon-separated (European CSV) with both decimal commas ({comma[2]!r}, "
            f"row {comma[0]}, column '{comma[1]}') and points ({point[2]!r}, row {point[0]}, "
            f"column '{point[1]}')",
            file=p,
            expected="one decimal mark and no thousands separator, or the sheet saved as .xlsx",
        )
    return ";", "," if comma is not None else "."


def _check_text(p: Path) -> None:
    """Refuse binary files given as text tables (a short message, not their bytes)."""
    try:
        with open(p, "rb") as fh:
            head = fh.read(8192)
    except OSError:
        return  # reported by the reader
    if head.startswith(b"PK\x03\x04"):
        raise InputError(
            "is an Excel workbook or another zip file, not a text table",
            file=p, expected="a .csv text file, or the workbook named .xlsx",
        )
    if b"\x00" in head:
        raise InputError(
            "is not a text table: it holds binary data (a recording or a spreadsheet saved "
            "under another extension?)",
            file=p, expected="a CSV text file (comma separated) or an .xlsx workbook",
        )


def _first_line(p: Path) -> str:
    try:
        with open(p, encoding="utf-8", errors="replace") as fh:
            return fh.readline()
    except OSError:
        return ""


def _delimiter_hint(p: Path, suffix: str) -> str | None:
    """Name the separator the file seems to use when it is not the one nplab reads."""
    line = _first_line(p)
    used = "\t" if suffix in {".tsv", ".txt"} else ","
    counts = {d: line.count(d) for d in _DELIMITERS if d != used}
    best = max(counts, key=lambda d: counts[d]) if counts else None
    if best is None or counts[best] == 0 or line.count(used) >= counts[best]:
        return None
    return best


def _delimiter_error(p: Path, suffix: str, found: str) -> InputError:
    reads = "tab-separated" if suffix in {".tsv", ".txt"} else "comma-separated"
    return InputError(
        f"the file looks {_DELIMITERS[found]}-separated, but nplab reads {suffix or 'this'} "
        f"files as {reads}",
        file=p,
        expected="a comma-separated .csv (e.g. Excel: 'CSV UTF-8 (Comma delimited)'), a "
        "tab-separated .tsv, or the .xlsx workbook",
    )


def _check_delimiter(p: Path, suffix: str, names: list[str]) -> None:
    if len(names) == 1:
        found = _delimiter_hint(p, suffix)
        if found is not None:
            raise _delimiter_error(p, suffix, found)


def _unreadable(p: Path, suffix: str, exc: Exception, sep: str | None = None) -> InputError:
    """One short InputError for a file the reader refused, without pandas' wording."""
    if suffix in _EXCEL:
        return InputError(
            "cannot be read as an Excel workbook (damaged, or not a workbook: a CSV file "
            "named .xlsx?)",
            file=p, expected="an .xlsx workbook saved by Excel or LibreOffice, or a .csv file",
        )
    if isinstance(exc, UnicodeDecodeError):
        return InputError(
            f"is not UTF-8 text (byte 0x{exc.object[exc.start]:02x} at position {exc.start})",
            file=p, expected="a CSV saved as UTF-8 (e.g. Excel: 'CSV UTF-8 (Comma delimited)')",
        )
    found = _delimiter_hint(p, suffix)
    if found is not None and found != sep:
        return _delimiter_error(p, suffix, found)
    m = re.search(r"Expected (\d+) fields in line (\d+), saw (\d+)", str(exc))
    if m:
        return InputError(
            f"this row has {m[3]} fields but the header row has {m[1]}",
            file=p, row=int(m[2]),
            expected="the same number of separators on every row (quote cells containing a "
            "comma)",
        )
    if isinstance(exc, OSError):
        raise exc
    return InputError("cannot be read as a table", file=p,
                      expected="a comma-separated CSV text file or an .xlsx workbook")


def _check_duplicate_columns(p: Path, suffix: str, sheet: str | int | None, names: list[str],
                             source: str) -> None:
    """Refuse a header naming one column twice (pandas would keep the first)."""
    import pandas as pd

    try:
        sep = ";" if source == str(p) and _delimiter_hint(p, suffix) == ";" else None
        raw = _read(p, suffix, sheet=sheet or 0, header_only=True, sep=sep)
        header = [str(v).strip() for v in raw.iloc[0].tolist()] if len(raw) else names
    except (pd.errors.ParserError, ValueError, OSError):
        header = names
    seen: dict[str, int] = {}
    for i, name in enumerate(header):
        if name in seen and name != "nan":
            raise InputError(
                f"the column name appears twice (columns {seen[name] + 1} and {i + 1}); "
                "nplab will not guess which one to use",
                file=source, column=name, expected="each column name once",
            )
        seen.setdefault(name, i)


def require_columns(
    df: pd.DataFrame, required: Iterable[str], *, file: str | os.PathLike[str] | None = None
) -> None:
    """Raise :class:`InputError` naming the first required column that is missing."""
    file = file if file is not None else df.attrs.get("source")
    cols = set(df.columns)
    for name in required:
        if name not in cols:
            raise InputError(
                "required column is missing",
                file=file,
                column=name,
                expected=f"columns {', '.join(required)}; found {_shown(df.columns)}",
            )


def _clip(text: str, n: int = 60) -> str:
    return text if len(text) <= n else text[: n - 3] + "..."


def _shown(columns: Iterable[object], n: int = 8) -> str:
    """The first ``n`` column names, each clipped: messages stay one short line."""
    names = [_clip(repr(str(c))[1:-1], 30) for c in columns]
    more = f" and {len(names) - n} more" if len(names) > n else ""
    return ", ".join(names[:n]) + more


def to_numeric_column(
    df: pd.DataFrame,
    column: str,
    *,
    file: str | os.PathLike[str] | None = None,
    allow_missing: bool = False,
    expected: str = "a number",
) -> np.ndarray:
    """Convert ``df[column]`` to float, raising :class:`InputError` at the first bad row.

    Blank cells are an error unless ``allow_missing`` (then they become NaN).
    """
    import numpy as np
    import pandas as pd

    file = file if file is not None else df.attrs.get("source")
    raw = df[column]
    if isinstance(raw.dtype, np.dtype) and raw.dtype.kind in "fiu":  # already numbers
        values = raw.to_numpy(dtype=float)
        bad = np.zeros(len(values), dtype=bool) if allow_missing else np.isnan(values)
    else:
        values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
        bad = np.isnan(values) & raw.notna().to_numpy()
        if not allow_missing:
            bad |= raw.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[i]
        shown = "a blank cell" if pd.isna(shown) else _clip(repr(shown))
        raise InputError(
            f"{shown} is not valid", file=file, row=row_number(i), column=column, expected=expected
        )
    return values


@contextlib.contextmanager
def atomic_write(path: str | os.PathLike[str], mode: str = "w", **kwargs) -> Iterator[io.IOBase]:
    """Open a temporary file beside ``path``; rename it over ``path`` only on success.

    On any exception the temporary file is removed and ``path`` is left as it was.
    """
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    umask = os.umask(0)
    os.umask(umask)
    os.chmod(tmp, 0o666 & ~umask)  # mkstemp creates 0600; outputs get the usual mode
    try:
        with os.fdopen(fd, mode, **kwargs) as fh:
            yield fh
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, target)
    except BaseException as exc:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        if isinstance(exc, OSError) and exc.filename is None and exc.errno is not None:
            # e.g. "No space left on device" while writing: name the output
            raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(target)) from exc
        raise


def write_table(df: pd.DataFrame, path: str | os.PathLike[str]) -> Path:
    """Write ``df`` atomically as CSV, or Parquet when ``path`` ends in ``.parquet``.

    CSV output is deterministic: no index, ``\\n`` line endings, floats written with
    Python's shortest round-trip representation.
    """
    target = Path(path)
    suffix = target.suffix.lower()
    if suffix not in _OUTPUT_SUFFIXES:
        raise InputError(
            f"cannot write a table as '{suffix or target.name}'",
            file=target,
            column="-o/--output",
            expected="a name ending in .csv or .parquet",
        )
    if suffix == ".parquet":
        with atomic_write(target, "wb") as fh:
            df.to_parquet(fh, index=False)
    else:
        with atomic_write(target, "w", newline="", encoding="utf-8") as fh:
            df.to_csv(fh, index=False, lineterminator="\n")
    return target


def round_table(df: pd.DataFrame, digits: int) -> pd.DataFrame:
    """A copy of ``df`` with every float column rounded to ``digits`` significant digits.

    For people who read the tables in a spreadsheet: ``0.000123456`` becomes
    ``0.000123`` and ``1234.5678`` becomes ``1230.0`` with ``digits=3`` (significant
    digits, not decimals, so that small p-values and large concentrations both keep
    ``digits`` digits).  Integer, text and boolean columns, zeros, NaN and ±inf are left
    as they are.  Rounding is by Python's ``format(x, ".{digits}g")`` (round half to
    even on the binary value), so the written value is the shortest decimal with that
    many digits.  The full-precision table is the one to use for further analysis.
    """
    import numpy as np
    import pandas as pd

    if isinstance(digits, bool) or not isinstance(digits, int) or not 1 <= digits <= 15:
        raise InputError(f"cannot round to {digits!r} significant digits", column="round",
                         expected="an integer from 1 to 15")
    out = df.copy()
    for col in out.columns:
        if pd.api.types.is_float_dtype(out[col]):
            x = out[col].to_numpy(dtype=float, copy=True)
            ok = np.isfinite(x) & (x != 0)
            x[ok] = [float(format(v, f".{digits}g")) for v in x[ok]]
            out[col] = x
    return out


@contextlib.contextmanager
def staged_outputs(outdir: str | os.PathLike[str], *, lock_timeout: float = 0.0
                   ) -> Iterator[Path]:
    """Stage a run's outputs in a temporary folder and move them into ``outdir`` at the end.

    Yields the staging folder.  If the block raises, the staging folder is deleted and
    ``outdir`` is untouched; otherwise every staged file is renamed into ``outdir``
    (replacing files of the same name, leaving others alone).

    While staging, the run holds the lock of ``outdir`` (:func:`nplab.rundir.run_lock`;
    a second run waits ``lock_timeout`` seconds, then stops with an :class:`InputError`),
    and records its PID in the staging folder, so that staging folders left by a killed
    run are removed by the next run (:func:`nplab.rundir.clean_stale_stages`).  No file
    is moved through a symbolic link that leads out of ``outdir``.
    """
    from nplab.rundir import (
        OWNER_NAME,
        STAGE_PREFIX,
        clean_stale_stages,
        mark_stage,
        require_inside,
        run_lock,
    )

    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    with run_lock(out, timeout=lock_timeout):
        clean_stale_stages(out)
        stage = Path(tempfile.mkdtemp(prefix=STAGE_PREFIX, dir=out))
        try:
            mark_stage(stage)
            try:
                yield stage
            except OSError as exc:
                if exc.filename is not None or exc.errno is None:
                    raise
                # e.g. "No space left on device" from a plain write: name the folder
                raise OSError(exc.errno, exc.strerror or str(exc), os.fspath(out)) from exc
            owner = stage / OWNER_NAME
            moves = [(src, out / src.relative_to(stage)) for src in sorted(stage.rglob("*"))
                     if src.is_file() and src != owner]
            for _, dest in moves:  # check every destination before moving any
                require_inside(out, dest.parent)
            for src, dest in moves:
                dest.parent.mkdir(parents=True, exist_ok=True)
                require_inside(out, dest.parent)
                os.replace(src, dest)
        finally:
            shutil.rmtree(stage, ignore_errors=True)
