"""Blinded analysis: run on coded group labels, unblind at the end with a separate key.

In a blinded study the animals table carries coded group labels (``A``, ``B``, ...) and
the allocation code is kept in a separate *unblinding key* file with the columns
``code`` and ``group`` (group = the name used in the study file).  ``nplab run``
computes every per-animal result, applies the exclusion rules and runs the omnibus
statistics on the codes; only then is the key read and applied (:func:`unblind`) to
label the tables and figures and to pick the control group for many-to-one
comparisons.  Without a key the whole report stays coded.  The report states which
(:func:`blinding_statement`).

References
----------
Percie du Sert N et al. (2020) PLoS Biol 18(7):e3000410, ARRIVE 2.0 item 5 (blinding).
Andrews NA et al. (2016) Ensuring transparency and minimization of methodologic bias in
preclinical pain research: PPRECISE considerations. Pain 157:901-909.
"""

from __future__ import annotations

import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab.errors import InputError, row_number
from nplab.tables import read_table, sha256_file

__all__ = ["blinding_statement", "check_codes", "check_study_labels", "read_key", "unblind"]


def read_key(path: str | os.PathLike[str]) -> dict[str, str]:
    """Read an unblinding key (columns ``code``, ``group``) into ``{code: group}``.

    Raises
    ------
    InputError
        When a column is missing, a cell is blank, or a code or group appears twice.
    """
    df = read_table(path, required=("code", "group"), dtype={"code": str, "group": str})
    for col in ("code", "group"):
        values = df[col].astype("string").str.strip()
        blank = values.isna() | (values == "")
        if blank.any():
            i = int(np.flatnonzero(blank.to_numpy())[0])
            raise InputError("blank cell", file=path, row=row_number(i), column=col)
        dup = values.duplicated()
        if dup.any():
            i = int(np.flatnonzero(dup.to_numpy())[0])
            raise InputError(
                f"{values.iloc[i]!r} appears twice",
                file=path,
                row=row_number(i),
                column=col,
                expected=f"each {col} once",
            )
        df[col] = values
    return dict(zip(df["code"], df["group"], strict=True))


def check_codes(
    labels: Iterable[str],
    groups: Iterable[str],
    key: Mapping[str, str] | None,
    *,
    file: str | os.PathLike[str] | None = None,
    key_file: str | os.PathLike[str] | None = None,
) -> None:
    """Check that group labels in the data are known.

    With a ``key`` every label must be a code of the key and every key group a group
    of the study; without one (unblinded study) every label must be a study group.
    When ``labels`` is a pandas Series read from ``file`` (index = 0-based data row),
    the error names the spreadsheet row of the first bad label.
    """
    rows: dict[str, int] = {}
    if isinstance(labels, pd.Series):
        for idx, v in zip(labels.index, labels.astype(str), strict=True):
            rows.setdefault(v, row_number(idx))
    labels = sorted(set(map(str, labels)))
    groups = set(map(str, groups))
    if key is None:
        unknown = [g for g in labels if g not in groups]
        if unknown:
            raise InputError(
                f"group {unknown[0]!r} is not a group of the study",
                file=file,
                row=rows.get(unknown[0]),
                column="group",
                expected=f"one of {', '.join(sorted(groups))}",
            )
        return
    unknown = [c for c in labels if c not in key]
    if unknown:
        raise InputError(
            f"group code {unknown[0]!r} is not in the unblinding key",
            file=file,
            row=rows.get(unknown[0]),
            column="group",
            expected=f"one of the codes {', '.join(sorted(key))} (key {key_file})",
        )
    foreign = [g for g in key.values() if g not in groups]
    if foreign:
        raise InputError(
            f"the key maps to {foreign[0]!r}, which is not a group of the study",
            file=key_file,
            column="group",
            expected=f"one of {', '.join(sorted(groups))}",
        )


def unblind(
    table: pd.DataFrame, key: Mapping[str, str] | None, *, columns: Iterable[str] = ("group",)
) -> pd.DataFrame:
    """Replace coded group labels by group names in ``columns`` (a copy).

    Columns that are absent are ignored; with ``key=None`` the table is returned
    unchanged (still blind).  A label missing from the key is an error, never left as is.
    """
    if key is None:
        return table
    out = table.copy()
    for col in columns:
        if col not in out.columns:
            continue
        values = out[col].astype(str)
        missing = ~values.isin(list(key)) & out[col].notna()
        if missing.any():
            raise InputError(
                f"code {values[missing].iloc[0]!r} is not in the unblinding key", column=col
            )
        out[col] = out[col].map(lambda v: key.get(str(v), v))
    return out


def blinding_statement(
    blinded: bool, key_path: Path | None, applied: bool, who: str = ""
) -> str:
    """One sentence for the report saying how the analysis was blinded."""
    if not blinded:
        return (
            "The study file declares no blinding: the analysis ran on the group names "
            "as recorded."
        )
    text = "The analysis ran on coded group labels: per-animal results, exclusions and "
    text += "the omnibus statistics were computed without knowing which code is which group. "
    if applied and key_path is not None:
        text += (
            f"The unblinding key ({key_path.name}, sha256 {sha256_file(key_path)[:12]}...) "
            "was applied at the end to label the groups and to choose the control group "
            "for the comparisons with control."
        )
    else:
        text += (
            "No unblinding key was given: groups are shown by their codes and no "
            "comparison with a control group was made."
        )
    if who:
        text += f" Blinding record: {who}"
    return text


def check_study_labels(study: Any, all_animals: pd.DataFrame, animals: pd.DataFrame,
                    key: dict[str, str] | None, key_path: Path | None) -> None:
    """The animals table's group labels fit the study: coded labels (at most one per
    group, no group names) while blind without a key, else names or key codes."""
    if study.blinded and key is None:
        # blind and no key: labels must be codes (not group names), at most one per group
        codes = sorted(set(animals["group"].astype(str)))
        named = [c for c in codes if c in set(study.groups["name"])]
        if named or len(codes) > len(study.groups):
            raise InputError(
                f"the study is blinded but the animals table has {len(codes)} group labels"
                + (f" including the group name {named[0]!r}" if named else ""),
                file=study.data["animals"],
                column="group",
                expected=f"at most {len(study.groups)} coded group labels",
            )
    else:
        in_run = all_animals["animal"].isin(set(animals["animal"]))
        check_codes(all_animals.loc[in_run, "group"], study.groups["name"], key,
                    file=study.data["animals"], key_file=key_path)
