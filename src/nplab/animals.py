"""The animals table and paw sides.

One row per animal: ``animal``, ``group``, ``model`` (CCI/SNL/sham), ``injured_side``
(left/right), ``sex``, ``weight_g``, ``cohort``, ``excluded`` (true/false) and
``exclusion_reason``.  Only ``animal`` and ``group`` are required.  Every measurement
table joins it on ``animal``; paws recorded as ``left``/``right`` are resolved to
``ipsi``/``contra`` through ``injured_side`` (:func:`resolve_paws`).
"""

from __future__ import annotations

import os

import numpy as np
import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError, row_number
from nplab.tables import read_table

__all__ = ["ANIMAL_COLUMNS", "PAW_VALUES", "check_paws", "read_animals", "resolve_paws",
           "select_cohort"]

ANIMAL_COLUMNS = (
    "animal",
    "group",
    "model",
    "injured_side",
    "sex",
    "weight_g",
    "cohort",
    "excluded",
    "exclusion_reason",
)
_TRUE = {"true", "yes", "y", "1", "x"}
_FALSE = {"false", "no", "n", "0", ""}


def read_animals(path: str | os.PathLike[str] | pd.DataFrame) -> pd.DataFrame:
    """Read and validate an animals table (CSV/XLSX or a DataFrame).

    Returns a copy with every column of :data:`ANIMAL_COLUMNS` (missing optional ones
    filled), ``animal`` as string, ``excluded`` as bool and ``injured_side`` lower case.
    """
    df = (
        path.copy()
        if isinstance(path, pd.DataFrame)
        else read_table(path, required=("animal", "group"))
    )
    src = df.attrs.get("source")
    for col in ("animal", "group"):
        if col not in df.columns:
            raise InputError("required column is missing", file=src, column=col)
    df["animal"] = df["animal"].astype(str).str.strip()
    raise_first_bad(
        df["animal"].duplicated(),
        lambda i: f"animal {df['animal'].iloc[i]!r} appears twice",
        file=src,
        column="animal",
        expected="one row per animal",
    )
    for col in ANIMAL_COLUMNS:
        if col not in df.columns:
            df[col] = pd.NA if col != "excluded" else False
    side = df["injured_side"].astype("string").str.strip().str.lower()
    raise_first_bad(
        side.notna() & ~side.isin(["left", "right", "none", "bilateral", ""]),
        lambda i: f"{df['injured_side'].iloc[i]!r} is not a side",
        file=src,
        column="injured_side",
        expected="left, right or none",
    )
    df["injured_side"] = side
    excl = df["excluded"].astype("string").fillna("").str.strip().str.lower()
    raise_first_bad(
        ~excl.isin(list(_TRUE | _FALSE)),
        lambda i: f"{df['excluded'].iloc[i]!r} is not true/false",
        file=src,
        column="excluded",
        expected="true or false",
    )
    df["excluded"] = excl.isin(list(_TRUE)).astype(bool)
    df.attrs["source"] = src
    return df


#: Paw values accepted in measurement tables (any case), and what they mean.
PAW_VALUES = {
    "ipsi": "ipsi", "ipsilateral": "ipsi", "i": "ipsi",
    "contra": "contra", "contralateral": "contra", "c": "contra",
    "left": "left", "l": "left", "right": "right", "r": "right",
}
_PAW_EXPECTED = "ipsi, contra, left or right (ipsilateral/contralateral, i/c, l/r; any case)"


def check_paws(data: pd.DataFrame, *, paw: str = "paw", file: str | None = None) -> None:
    """Refuse ``paw`` cells that name no paw (``middle``, ``3`` ...), naming the row.

    For tables whose paws are not resolved to ipsi/contra (e.g. von Frey sheets
    analysed without an animals table); :func:`resolve_paws` checks the same values.
    Blank cells are left to the caller (a blank id is one more key value).
    """
    raw = data[paw].astype("string").str.strip().str.lower()
    bad = ~raw.isin(list(PAW_VALUES)) & raw.notna() & (raw != "")
    raise_first_bad(
        bad.fillna(False).to_numpy(bool),
        lambda i: f"{str(data[paw].iloc[i])!r} is not a paw",
        file=file or data.attrs.get("source"),
        column=paw,
        expected=_PAW_EXPECTED,
    )


def resolve_paws(
    data: pd.DataFrame, animals: pd.DataFrame | None, *, paw: str = "paw", file: str | None = None
) -> pd.Series:
    """Return the ``paw`` column as ``ipsi``/``contra``.

    Values already ``ipsi``/``contra`` (any case; ``ipsilateral``/``contralateral``
    accepted) pass through.  ``left``/``right`` need ``animals`` with ``injured_side``.
    """
    file = file or data.attrs.get("source")
    raw = data[paw].astype("string").str.strip().str.lower()
    out = raw.replace(
        {"ipsilateral": "ipsi", "contralateral": "contra", "i": "ipsi", "c": "contra"}
    )
    lr = out.isin(["left", "right", "l", "r"])
    if lr.any():
        if animals is None:
            raise_first_bad(
                lr,
                "left/right paws need an animals table with injured_side",
                file=file,
                column=paw,
                expected="ipsi/contra, or an animals table",
            )
        side_map = dict(zip(animals["animal"].astype(str), animals["injured_side"], strict=True))
        sides = data.loc[lr, "animal"].astype(str).map(side_map)
        lr_val = out[lr].replace({"l": "left", "r": "right"})
        missing = sides.isna() | ~sides.isin(["left", "right"])
        if missing.any():
            i = int(np.flatnonzero(lr.to_numpy())[np.flatnonzero(missing.to_numpy())[0]])
            raise InputError(
                f"animal {data['animal'].iloc[i]!r} has no injured side in the animals table",
                file=file,
                row=row_number(i),
                column=paw,
                expected="injured_side left or right",
            )
        out.loc[lr] = np.where(lr_val.to_numpy() == sides.to_numpy(), "ipsi", "contra")
    raise_first_bad(
        ~out.isin(["ipsi", "contra"]),
        lambda i: f"{data[paw].iloc[i]!r} is not a paw",
        file=file,
        column=paw,
        expected=_PAW_EXPECTED,
    )
    return out.astype(str)


def select_cohort(animals: pd.DataFrame, cohort: str | None, file: str | os.PathLike[str]) -> pd.DataFrame:
    """The animals of ``cohort`` (all animals when it is None; InputError if none)."""
    if cohort is None:
        return animals
    keep = animals["cohort"].astype("string").str.strip() == str(cohort)
    if not keep.fillna(False).any():
        raise InputError(f"no animal is in cohort {cohort!r}", file=file, column="cohort")
    out = animals[keep.fillna(False).to_numpy()].reset_index(drop=True)
    out.attrs = dict(animals.attrs)
    return out
