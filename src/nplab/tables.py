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
import hashlib
import io
import os
import shutil
import tempfile
from collections.abc import Iterable, Iterator, Sequence
from pathlib import Path
from typing import TYPE_CHECKING

from nplab.errors import InputError, row_number

if TYPE_CHECKING:  # numpy/pandas load when a table is read or written (fast CLI start-up)
    import numpy as np
    import pandas as pd

__all__ = [
    "atomic_write",
    "read_table",
    "require_columns",
    "sha256_file",
    "staged_outputs",
    "to_numeric_column",
    "write_table",
]

_EXCEL = {".xlsx", ".xlsm", ".xls"}
_OUTPUT_SUFFIXES = {".csv", ".parquet"}
#: Identifier columns always read as text, so that "007" and "7" stay different animals.
ID_COLUMNS = ("animal", "cell", "cohort", "subject", "cage")


def read_table(
    path: str | os.PathLike[str],
    *,
    required: Sequence[str] = (),
    sheet: str | int = 0,
    dtype: dict[str, object] | None = None,
) -> pd.DataFrame:
    """Read a CSV or Excel table into a DataFrame, checking required columns.

    Column names are stripped of surrounding white space.  The returned frame has
    ``attrs["source"]`` set to the path, which later error messages use.

    Parameters
    ----------
    path
        ``.csv`` (or ``.tsv``/``.txt``, tab separated) or ``.xlsx`` file.
    required
        Column names that must be present.
    sheet
        Excel sheet name or index.
    dtype
        Passed to the reader (e.g. ``{"responses": str}``).  Identifier columns
        (:data:`ID_COLUMNS`) are read as text unless ``dtype`` says otherwise.

    Raises
    ------
    InputError
        If the file is missing, unreadable, empty or lacks a required column.
    """
    import pandas as pd

    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=p)
    if p.is_dir():
        raise InputError("is a folder, not a table", file=p, expected="a .csv or .xlsx file")
    suffix = p.suffix.lower()
    dtype = {**dict.fromkeys(ID_COLUMNS, str), **(dtype or {})}
    try:
        if suffix in _EXCEL:
            df = pd.read_excel(p, sheet_name=sheet, dtype=dtype)
        elif suffix in {".tsv", ".txt"}:
            df = pd.read_csv(p, sep="\t", dtype=dtype, skipinitialspace=True)
        else:
            df = pd.read_csv(p, dtype=dtype, skipinitialspace=True)
    except pd.errors.EmptyDataError:
        raise InputError(
            "the file is empty", file=p, expected="a header row and data rows"
        ) from None
    except (pd.errors.ParserError, UnicodeDecodeError, ValueError, OSError) as exc:
        raise InputError(f"cannot be read as a table: {exc}", file=p) from None
    df.columns = [str(c).strip() for c in df.columns]
    require_columns(df, required, file=p)
    df.attrs["source"] = str(p)
    return df


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
                expected=f"columns {', '.join(required)}; found {', '.join(map(str, df.columns))}",
            )


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
    values = pd.to_numeric(raw, errors="coerce").to_numpy(dtype=float)
    bad = np.isnan(values) & raw.notna().to_numpy()
    if not allow_missing:
        bad |= raw.isna().to_numpy()
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        shown = raw.iloc[i]
        shown = "a blank cell" if pd.isna(shown) else repr(shown)
        raise InputError(
            f"{shown} is not valid", file=file, row=row_number(i), column=column, expected=expected
        )
    return values


def sha256_file(path: str | os.PathLike[str], chunk: int = 1 << 20) -> str:
    """Streamed SHA-256 of a file (hex digest)."""
    h = hashlib.sha256()
    with open(path, "rb") as fh:
        while block := fh.read(chunk):
            h.update(block)
    return h.hexdigest()


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
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
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


@contextlib.contextmanager
def staged_outputs(outdir: str | os.PathLike[str]) -> Iterator[Path]:
    """Stage a run's outputs in a temporary folder and move them into ``outdir`` at the end.

    Yields the staging folder.  If the block raises, the staging folder is deleted and
    ``outdir`` is untouched; otherwise every staged file is renamed into ``outdir``
    (replacing files of the same name, leaving others alone).
    """
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    stage = Path(tempfile.mkdtemp(prefix=".nplab-stage-", dir=out))
    try:
        yield stage
        for src in sorted(stage.rglob("*")):
            if src.is_file():
                dest = out / src.relative_to(stage)
                dest.parent.mkdir(parents=True, exist_ok=True)
                os.replace(src, dest)
    finally:
        shutil.rmtree(stage, ignore_errors=True)
