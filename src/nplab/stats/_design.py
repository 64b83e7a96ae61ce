"""Shared input checks for the group statistics: long-format data to a subject × level matrix.

Private helpers used by :mod:`nplab.stats.anova`, :mod:`nplab.stats.posthoc` and
:mod:`nplab.stats.report`, so that every analysis validates its input the same way and
reports bad input as :class:`~nplab.errors.InputError` naming the row and column.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError, row_number
from nplab.stats._levels import given_for, level_order
from nplab.tables import require_columns, to_numeric_column

__all__ = [
    "Design",
    "FactorialDesign",
    "as_factor_list",
    "check_frame",
    "factorial_design",
    "level_codes",
    "levels_of",
    "numeric_dv",
    "wide_design",
]

#: What an incomplete animal is told (Python and CLI names of the linear mixed model).
MIXED_MODEL_HINT = (
    "use the linear mixed model instead (Python: nplab.stats.mixed_model; "
    "command line: nplab stats mixed)"
)


def check_frame(data: object, columns: list[str | None]) -> pd.DataFrame:
    """Check that ``data`` is a DataFrame with all the named ``columns`` (``None`` skipped)."""
    if not isinstance(data, pd.DataFrame):
        raise InputError(f"data must be a pandas DataFrame, not {type(data).__name__}")
    wanted = [c for c in columns if c is not None]
    if len(set(wanted)) != len(wanted):
        raise InputError(f"the same column is given twice among {wanted}")
    require_columns(data, wanted)
    if len(data) == 0:
        raise InputError("the table has no data rows", file=data.attrs.get("source"))
    return data


def numeric_dv(data: pd.DataFrame, dv: str, *, allow_missing: bool = False) -> np.ndarray:
    """The dependent variable as float; blanks/text are an error naming the row."""
    values = to_numeric_column(data, dv, allow_missing=allow_missing)
    raise_first_bad(
        ~np.isfinite(values) & ~np.isnan(values),
        "infinite value",
        file=data.attrs.get("source"),
        column=dv,
        expected="a finite number",
    )
    return values


def levels_of(
    values: pd.Series, column: str, data: pd.DataFrame, given: Sequence | None = None
) -> list:
    """Ordered levels of a factor column: :func:`nplab.stats._levels.level_order`.

    Order of first appearance in the data, a Categorical's category order, or the user's
    ``given`` order (``levels={"time": [...]}``; every value must be listed).  Blank
    cells are an error naming the row.
    """
    return level_order(values, column, given=given, source=data.attrs.get("source"))


@dataclass(frozen=True)
class Design:
    """A complete subject × within-level matrix with the subjects' between-group codes.

    Attributes
    ----------
    y
        ``(n_subjects, n_within)`` float matrix of the dependent variable.
    group
        ``(n_subjects,)`` integer codes into ``group_levels`` (all 0 without a between factor).
    group_levels, within_levels
        Level labels in analysis order (``[None]`` when the factor is absent).
    subjects
        Subject labels, in row order of ``y``.
    """

    y: np.ndarray
    group: np.ndarray
    group_levels: list
    within_levels: list
    subjects: list

    @property
    def n_groups(self) -> int:
        return len(self.group_levels)

    @property
    def counts(self) -> np.ndarray:
        return np.bincount(self.group, minlength=self.n_groups)


def _codes(data: pd.DataFrame, column: str, levels: Mapping | None) -> tuple[np.ndarray, list]:
    """Integer codes of a factor column into its ordered levels (:func:`levels_of`)."""
    col = data[column].reset_index(drop=True)
    lev = levels_of(col, column, data, given_for(levels, column))
    return level_codes(col, lev), lev


def level_codes(values: pd.Series, levels: list) -> np.ndarray:
    """Position of each value in ``levels`` (every value must be a level), as int64.

    Same matching as ``pd.Categorical(values, categories=levels).codes`` (values hashed
    and compared by equality), by :func:`pandas.factorize` and a lookup of the few
    distinct values — several times faster on small tables; the Categorical is the
    fallback when the levels do not map one to one.
    """
    codes, uniques = pd.factorize(values)
    where = {v: i for i, v in enumerate(levels)}
    if len(where) == len(levels) and codes.min(initial=0) >= 0:
        try:
            lut = np.array([where[u] for u in uniques], dtype=np.int64)
        except (KeyError, TypeError):
            pass
        else:
            return lut[codes] if len(lut) else codes.astype(np.int64)
    return pd.Categorical(values, categories=levels).codes.astype(np.int64)


def _first_rows(codes: np.ndarray, n: int) -> np.ndarray:
    """For each of the ``n`` codes, the first row holding it (``len(codes)`` if none)."""
    first = np.full(n, len(codes))
    np.minimum.at(first, codes, np.arange(len(codes)))
    return first


def wide_design(
    data: pd.DataFrame,
    *,
    dv: str,
    subject: str | None,
    between: str | None = None,
    within: str | None = None,
    levels: Mapping[str, Sequence] | None = None,
) -> Design:
    """Validate long-format data and pivot it to a complete subject × within-level matrix.

    One row per subject and within level is required (no duplicates, no missing cells:
    an incomplete animal is an error that suggests :func:`nplab.stats.mixed_model`), and
    each subject must belong to exactly one between-group.  Without ``within`` every row
    is its own subject when ``subject`` is ``None``.  Levels are ordered by
    :func:`nplab.stats._levels.level_order` (``levels``: the user's order per factor).
    """
    if between is None and within is None:
        raise InputError("give a between factor, a within factor, or both")
    if within is not None and subject is None:
        raise InputError("a within-subject factor needs the subject column", column="subject")
    check_frame(data, [dv, subject, between, within])
    src = data.attrs.get("source")
    y = numeric_dv(data, dv)
    rows = np.arange(len(data))
    if subject is None:
        s_codes, subj_levels = rows, list(range(len(data)))
    else:
        s_codes, subj_levels = _codes(data, subject, None)
    if between is not None:
        g_codes, group_levels = _codes(data, between, levels)
    else:
        g_codes, group_levels = np.zeros(len(data), dtype=np.int64), [None]
    if within is not None:
        w_codes, within_levels = _codes(data, within, levels)
    else:
        w_codes, within_levels = np.zeros(len(data), dtype=np.int64), [None]
    n, k = len(subj_levels), len(within_levels)
    # subjects must not change group: compare each row with its subject's first row
    g_first = g_codes[_first_rows(s_codes, n)]
    moved = np.flatnonzero(g_codes != g_first[s_codes])
    if moved.size:
        i = int(moved[0])
        s, g = s_codes[i], g_codes[i]
        raise InputError(
            f"subject {subj_levels[s]!r} appears in two groups "
            f"({group_levels[g_first[s]]!r} and {group_levels[g]!r})",
            file=src,
            row=row_number(i),
            column=between,
            expected="one group per subject",
        )
    cell = s_codes * k + w_codes
    dup = np.flatnonzero(_first_rows(cell, n * k)[cell] != rows)
    if dup.size:
        i = int(dup[0])
        s, w = divmod(int(cell[i]), k)
        what = f" at {within} = {within_levels[w]!r}" if within is not None else ""
        raise InputError(
            f"subject {subj_levels[s]!r} has more than one value{what}",
            file=src,
            row=row_number(i),
            column=dv,
            expected="one row per subject and level (average replicate trials first)",
        )
    mat = np.full(n * k, np.nan)
    mat[cell] = y
    mat = mat.reshape(n, k)
    holes = np.isnan(mat)
    if holes.any():
        s, w = np.argwhere(holes)[0]
        raise InputError(
            f"subject {subj_levels[s]!r} has no value at {within} = {within_levels[w]!r} "
            f"({int(holes.any(axis=1).sum())} incomplete subject(s)); repeated-measures ANOVA "
            "needs complete data — use nplab.stats.mixed_model (linear mixed model) instead",
            file=src,
            column=within,
            expected="a value for every subject at every level",
        )
    return Design(
        y=mat,
        group=g_first.astype(int),
        group_levels=group_levels,
        within_levels=within_levels,
        subjects=list(subj_levels),
    )


def as_factor_list(factors: str | Sequence[str] | None, what: str) -> list[str]:
    """``None`` → ``[]``, ``"group"`` → ``["group"]``, a list of names is checked and kept."""
    if factors is None:
        return []
    if isinstance(factors, str):
        return [factors]
    out = list(factors)
    if not all(isinstance(f, str) and f for f in out):
        raise InputError(f"{what} factors must be column names, got {out!r}", column=what)
    return out


@dataclass(frozen=True)
class FactorialDesign:
    """Complete subject × within-cell matrix of a factorial split-plot design.

    Attributes
    ----------
    y
        ``(n_subjects, K)`` matrix; the ``K = Π k_w`` within cells are ordered with the
        *last* within factor varying fastest (time 1 paw 1, time 1 paw 2, …).
    between_codes
        ``(n_subjects, n_between)`` integer codes of each subject's between-factor levels.
    between, within
        Factor names in the order given.
    between_levels, within_levels
        Level labels per factor, in analysis order.
    subjects
        Subject labels in row order of ``y``.
    """

    y: np.ndarray
    between_codes: np.ndarray
    between: list
    within: list
    between_levels: list
    within_levels: list
    subjects: list




def factorial_design(
    data: pd.DataFrame,
    *,
    dv: str,
    subject: str | None,
    between: Sequence[str],
    within: Sequence[str],
    levels: Mapping[str, Sequence] | None = None,
) -> FactorialDesign:
    """Validate long data and pivot it to a subject × within-cell matrix (any number of factors).

    The generalisation of :func:`wide_design`: one row per subject and within cell, no
    missing cells (an incomplete animal is an error naming it and pointing to the mixed
    model), each subject in one between cell, and every between cell (combination of
    between levels) holding at least one subject.
    """
    between, within = list(between), list(within)
    if not between and not within:
        raise InputError("give a between factor, a within factor, or both")
    if within and subject is None:
        raise InputError("a within-subject factor needs the subject column", column="subject")
    check_frame(data, [dv, subject, *between, *within])
    src = data.attrs.get("source")
    y = numeric_dv(data, dv)
    if subject is None:
        s_codes, subj_levels = np.arange(len(data)), list(range(len(data)))
    else:
        s_codes, subj_levels = _codes(data, subject, None)
    b_codes, b_levels = [], []
    for f in between:
        c, lev = _codes(data, f, levels)
        b_codes.append(c)
        b_levels.append(lev)
    w_codes, w_levels = [], []
    for f in within:
        c, lev = _codes(data, f, levels)
        w_codes.append(c)
        w_levels.append(lev)
    n = len(subj_levels)
    k_w = [len(lev) for lev in w_levels]
    cell = np.zeros(len(data), dtype=np.int64)
    for c, k in zip(w_codes, k_w, strict=True):
        cell = cell * k + c
    k_all = int(np.prod(k_w)) if k_w else 1
    # subjects must not change between cell
    bmat = np.column_stack(b_codes) if between else np.zeros((len(data), 0), dtype=np.int64)
    first = np.full(n, -1)
    for i, s in enumerate(s_codes):
        if first[s] == -1:
            first[s] = i
        elif not np.array_equal(bmat[first[s]], bmat[i]):
            j = int(np.flatnonzero(bmat[first[s]] != bmat[i])[0])
            f = between[j]
            raise InputError(
                f"subject {subj_levels[s]!r} appears in two groups "
                f"({b_levels[j][bmat[first[s], j]]!r} and {b_levels[j][bmat[i, j]]!r}) of {f}",
                file=src, row=row_number(i), column=f, expected="one group per subject",
            )  # fmt: skip
    flat = s_codes * k_all + cell
    dup = pd.Series(flat).duplicated().to_numpy()
    if dup.any():
        i = int(np.flatnonzero(dup)[0])
        where = ", ".join(f"{f} = {data[f].iloc[i]!r}" for f in within)
        raise InputError(
            f"subject {subj_levels[s_codes[i]]!r} has more than one value"
            + (f" at {where}" if where else ""),
            file=src, row=row_number(i), column=dv,
            expected="one row per subject and level (average replicate trials first)",
        )  # fmt: skip
    mat = np.full(n * k_all, np.nan)
    mat[flat] = y
    mat = mat.reshape(n, k_all)
    holes = np.isnan(mat)
    if holes.any():
        s, w = np.argwhere(holes)[0]
        idx = np.unravel_index(int(w), k_w)
        where = ", ".join(f"{f} = {lev[i]!r}" for f, lev, i in zip(within, w_levels, idx, strict=True))
        raise InputError(
            f"subject {subj_levels[s]!r} has no value at {where} "
            f"({int(holes.any(axis=1).sum())} incomplete subject(s)); repeated-measures ANOVA "
            f"needs complete data — {MIXED_MODEL_HINT}",
            file=src, column=within[0], expected="a value for every subject in every cell",
        )  # fmt: skip
    codes = bmat[first] if between else np.zeros((n, 0), dtype=np.int64)
    if between:
        shape = [len(lev) for lev in b_levels]
        seen = np.zeros(shape, dtype=bool)
        seen[tuple(codes.T)] = True
        if not seen.all():
            empty = np.argwhere(~seen)[0]
            what = ", ".join(f"{f} = {lev[i]!r}" for f, lev, i in zip(between, b_levels, empty, strict=True))
            raise InputError(
                f"no subject has {what}: Type III tests need every combination of the "
                "between factors",
                file=src, column=between[0], expected="at least one subject per between cell",
            )  # fmt: skip
    return FactorialDesign(
        y=mat, between_codes=codes, between=between, within=within,
        between_levels=b_levels, within_levels=w_levels, subjects=list(subj_levels),
    )  # fmt: skip
