"""Reading von Frey sheets: lab-sheet style or long style, validated, into tests.

Lab-sheet style: one row per test (animal x paw x timepoint), a ``responses`` column
with the X/O series in the order applied (case-insensitive, spaces ignored) and an
optional ``start_filament`` column overriding the protocol's start for that row.
Every other column (``animal``, ``paw``, ``timepoint``, ``group``, ...) is an id column
and is carried through to the output.

Long style: one row per stimulus with the id columns, ``stimulus`` (order of
application, a number; optional: without it the rows of each test are taken in file
order), ``filament`` (the filament applied, in the protocol's
``filament_unit``: grams, or handle numbers) and ``response`` (X or O).  The first
recorded filament is the start; every later filament must follow the up-down rule
(one filament weaker after X, one stronger after O).

Both styles: duplicated keys (same id values; in long style same ids and stimulus)
are an :class:`~nplab.errors.InputError` naming the rows.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nplab.errors import InputError, row_number
from nplab.tables import read_table, require_columns, to_numeric_column
from nplab.vonfrey.kits import Kit

__all__ = ["LONG_COLUMNS", "SHEET_COLUMNS", "Tests", "read_sheet", "sheet_tests"]

#: Reserved (non-id) columns of the lab-sheet style.
SHEET_COLUMNS = ("responses", "start_filament")
#: Reserved (non-id) columns of the long style.
LONG_COLUMNS = ("stimulus", "filament", "response")

_SERIES = re.compile(r"[XO]+")


@dataclass
class Tests:
    """Tests extracted from a sheet, one entry per output row.

    ``start`` is the 0-based kit index of the first stimulus (-1 if unknown);
    ``invalid`` holds an error message per test ("" if valid), ``invalid_column`` the
    column it concerns, ``expected`` what was expected there, ``rows`` the spreadsheet
    row each test's message refers to.
    """

    ids: pd.DataFrame
    patterns: np.ndarray
    start: np.ndarray
    rows: np.ndarray
    invalid: np.ndarray
    invalid_column: np.ndarray
    expected: np.ndarray
    file: str | None


def read_sheet(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a von Frey sheet (CSV/XLSX) keeping ``responses``/``response`` as text."""
    dtype = {"responses": str, "response": str}
    df = read_table(path, dtype=dtype)
    return df


def _style(df: pd.DataFrame) -> str:
    if "responses" in df.columns:
        return "sheet"
    if "response" in df.columns or "filament" in df.columns:
        return "long"
    raise InputError(
        "cannot tell the sheet style",
        file=df.attrs.get("source"),
        column="responses",
        expected="a 'responses' column (one row per test) or 'filament', 'response' "
        "(and 'stimulus') columns (one row per stimulus)",
    )


def _check_duplicates(df: pd.DataFrame, keys: list[str], file: str | None) -> None:
    if not keys:
        return
    dup = df.duplicated(keys, keep=False).to_numpy()
    if dup.any():
        idx = np.flatnonzero(dup)
        first = df.iloc[idx[0]][keys]
        hashes = pd.util.hash_pandas_object(df[keys].iloc[idx], index=False).to_numpy()
        same = idx[hashes == hashes[0]]
        rows = ", ".join(str(row_number(i)) for i in same[:5])
        raise InputError(
            f"duplicated key {', '.join(f'{k}={first[k]!r}' for k in keys)} in rows {rows}",
            file=file,
            row=row_number(same[1]),
            column=", ".join(keys),
            expected="one test per key",
        )


def _filament_index(values: np.ndarray, kit: Kit, unit: str) -> np.ndarray:
    """0-based kit index per value, -1 where the value is not a filament of the kit."""
    ref = np.asarray(kit.grams if unit == "grams" else (kit.handles or ()), dtype=float)
    out = np.full(values.shape, -1, dtype=np.int64)
    if ref.size == 0:
        return out
    pos = np.clip(np.searchsorted(ref, values), 0, ref.size - 1)
    for cand in (pos, np.clip(pos - 1, 0, ref.size - 1)):
        hit = np.isclose(ref[cand], values, rtol=1e-9, atol=1e-9) & (out < 0)
        out[hit] = cand[hit]
    return out


def sheet_tests(
    df: pd.DataFrame, kit: Kit, *, filament_unit: str, default_start: int
) -> Tests:
    """Turn a sheet (either style) into :class:`Tests`; raise on structural errors.

    Structural errors (missing columns, duplicated keys, non-numeric stimulus order)
    always raise.  Per-test problems (characters other than X/O, unknown filament,
    a filament disagreeing with the up-down rule) are returned in ``Tests.invalid``
    so the caller can raise or flag them per protocol.
    """
    file = df.attrs.get("source")
    if _style(df) == "sheet":
        return _sheet_style(df, kit, filament_unit, default_start, file)
    return _long_style(df, kit, filament_unit, file)


def _sheet_style(
    df: pd.DataFrame, kit: Kit, unit: str, default_start: int, file: str | None
) -> Tests:
    id_cols = [c for c in df.columns if c not in SHEET_COLUMNS]
    _check_duplicates(df, id_cols, file)
    n = len(df)
    raw = df["responses"]
    # normalise each distinct cell once (a study has few distinct series)
    codes, uniq = pd.factorize(raw, use_na_sentinel=True)
    text = ["" if pd.isna(u) else str(u) for u in uniq]
    norm = np.array(["".join(t.split()).upper() for t in text] + [""], dtype=object)
    good = np.array([bool(_SERIES.fullmatch(t)) for t in norm[:-1]] + [False])
    why = np.array(
        [
            "no responses recorded" if not t.strip() else f"{t!r} is not an up-down series"
            for t in [*text, ""]
        ],
        dtype=object,
    )
    # per distinct cell, then one take per row (no n-long string temporaries)
    pat = norm[codes]  # code -1 (blank cell) picks the trailing ""
    invalid = np.where(good, "", why).astype(object)[codes]
    column = np.full(n, "responses", dtype=object)
    # what was expected is only known here for bad characters; other problems found
    # later (a path leaving the kit) get their own text from the caller
    bad_chars = "only X (withdrawal) and O (no withdrawal)"
    expected = np.where(good, "", bad_chars).astype(object)[codes]
    start = np.full(n, default_start, dtype=np.int64)
    if "start_filament" in df.columns:
        values = to_numeric_column(
            df, "start_filament", file=file, allow_missing=True,
            expected=f"a filament of the kit ({unit}: {kit.labels(unit)})",
        )
        given = ~np.isnan(values)
        idx = _filament_index(np.where(given, values, 0.0), kit, unit)
        unknown = given & (idx < 0)
        start[given] = idx[given]
        fresh = unknown & (invalid == "")
        invalid[fresh] = [
            f"start filament {v:g} is not in kit '{kit.name}'" for v in values[fresh]
        ]
        column[fresh] = "start_filament"
        expected[fresh] = f"a filament of kit '{kit.name}' ({unit}: {kit.labels(unit)})"
    return Tests(
        ids=df[id_cols].reset_index(drop=True),
        patterns=pat,
        start=start,
        rows=np.arange(n) + 2,
        invalid=invalid,
        invalid_column=column,
        expected=expected,
        file=file,
    )


def _long_style(df: pd.DataFrame, kit: Kit, unit: str, file: str | None) -> Tests:
    require_columns(df, ("animal", "filament", "response"), file=file)
    id_cols = [c for c in df.columns if c not in LONG_COLUMNS]
    if "stimulus" in df.columns:
        _check_duplicates(df, [*id_cols, "stimulus"], file)
        order = to_numeric_column(
            df, "stimulus", file=file, expected="the stimulus order, a number"
        )
    else:  # no order column: the rows of each test in the order of the file
        order = np.arange(len(df), dtype=float)
    fil = to_numeric_column(
        df, "filament", file=file, expected=f"a filament of the kit in {unit}"
    )
    resp = df["response"].astype("string").str.strip().str.upper().fillna("").to_numpy(object)
    group = df.groupby(id_cols, sort=False, dropna=False).ngroup().to_numpy()
    perm = np.lexsort((order, group))
    g, resp_s, fil_s = group[perm], resp[perm], fil[perm]
    rows_s = perm + 2
    idx = _filament_index(fil_s, kit, unit)
    n_groups = int(group.max()) + 1 if len(group) else 0
    first = np.ones(len(g), dtype=bool)
    first[1:] = g[1:] != g[:-1]
    # problems, per stimulus row (sorted order); the first one per test is reported
    msg = np.full(len(g), "", dtype=object)
    col = np.full(len(g), "", dtype=object)
    exp = np.full(len(g), "", dtype=object)
    bad_resp = (resp_s != "X") & (resp_s != "O")
    msg[bad_resp] = [f"response {r!r} is not X or O" for r in resp_s[bad_resp]]
    col[bad_resp] = "response"
    exp[bad_resp] = "X (withdrawal) or O (no withdrawal)"
    unknown = (idx < 0) & (msg == "")
    msg[unknown] = [
        f"filament {v:g} is not in kit '{kit.name}' ({unit}: {kit.labels(unit)})"
        for v in fil_s[unknown]
    ]
    col[unknown] = "filament"
    exp[unknown] = f"a filament of kit '{kit.name}' in {unit}"
    prev_ok = np.zeros(len(g), dtype=bool)
    prev_ok[1:] = ~first[1:] & (idx[:-1] >= 0) & ~bad_resp[:-1] & (idx[1:] >= 0)
    expected = np.full(len(g), -2, dtype=np.int64)
    expected[1:] = idx[:-1] + np.where(resp_s[:-1] == "X", -1, 1)
    rule = prev_ok & (expected != idx) & (msg == "")
    if rule.any():
        ref = kit.grams if unit == "grams" else kit.handles
        where = np.flatnonzero(rule)
        msg[where] = [
            f"filament {fil_s[i]:g} disagrees with the up-down rule: after "
            f"{resp_s[i - 1]} at {fil_s[i - 1]:g} the next filament is "
            + (
                f"{ref[expected[i]]:g}"
                if 0 <= expected[i] < len(kit)
                else "outside the kit"
            )
            for i in where
        ]
        col[rule] = "filament"
        exp[rule] = "one filament weaker after X, one stronger after O"
    patterns = pd.Series(resp_s).groupby(g, sort=True).agg("".join).to_numpy(dtype=object)
    start = idx[first]
    test_rows = rows_s[first]
    invalid = np.full(n_groups, "", dtype=object)
    column = np.full(n_groups, "filament", dtype=object)
    expected = np.full(n_groups, "", dtype=object)
    has = np.flatnonzero(msg != "")
    if has.size:
        gi, pos = np.unique(g[has], return_index=True)
        invalid[gi] = msg[has][pos]
        column[gi] = col[has][pos]
        expected[gi] = exp[has][pos]
        test_rows = test_rows.copy()
        test_rows[gi] = rows_s[has][pos]
    ids = df[id_cols].iloc[perm[first]].reset_index(drop=True)
    return Tests(
        ids=ids,
        patterns=patterns,
        start=start,
        rows=test_rows,
        invalid=invalid,
        invalid_column=column,
        expected=expected,
        file=file,
    )
