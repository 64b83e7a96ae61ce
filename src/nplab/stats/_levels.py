"""The level order of a factor: one rule for every table of :mod:`nplab.stats` (private).

**The rule.**  Levels are listed in the order in which they *first appear in the data*
(top to bottom), unless the user gives them:

1. ``levels={"time": ["BL", "D7", "1", "2", "4"]}`` (every public function of
   :mod:`nplab.stats` that orders levels accepts this keyword; the study runner passes
   the study file's group and time-point order) — the given order wins; levels listed
   but absent from the data are dropped; a data value that is not listed is an
   :class:`~nplab.errors.InputError` naming the column, the row and the missing level;
2. a pandas ``Categorical`` column — its category order is the user's order (unused
   categories dropped).

Numbers and numeric text (time points ``1, 2, 4, 6`` h) follow the same rule: they are
*not* sorted.  A table sorted by time gives the time order; a table whose first animal
lacks the first time point does not, so give ``levels=`` (or sort the table) when the
order of appearance is not the order wanted.  The reference level of a fixed-effects
(treatment-coded) table is the first level, or the ``control`` level when one is named
(:func:`nplab.stats.mixed_model`); every other table (means, contrasts, post hoc rows)
keeps the level order, with the control left out of its comparisons.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError

__all__ = ["given_for", "level_order"]


def level_order(
    values: pd.Series,
    column: str | None = None,
    *,
    given: Sequence | None = None,
    control: object | None = None,
    source: object | None = None,
) -> list:
    """Ordered levels of a factor column by the rule of this module.

    Parameters
    ----------
    values
        The factor column (rows in data order).  Blank cells are an error naming the row.
    column
        Its name, for messages (default: ``values.name``).
    given
        The user's level order (``levels[column]``): wins over the data's order; every
        value of the column must be listed (matched as given or as text, so the study
        file's ``"7"`` matches a numeric 7); listed levels absent from the data are
        dropped.  The data's own labels are returned.
    control
        A level to put first (the reference level of a treatment-coded fixed-effects
        table); an error if it is not a level.
    source
        File named in error messages (default: ``values.attrs["source"]``).

    Returns
    -------
    list
        The levels present in the data, in order.
    """
    column = str(values.name) if column is None else column
    source = values.attrs.get("source") if source is None else source
    raise_first_bad(values.isna().to_numpy(), "blank cell in a factor column", file=source,
                    column=column, expected="a group / level label")  # fmt: skip
    if given is not None:
        levels = _given(values, column, given, source)
    elif isinstance(values.dtype, pd.CategoricalDtype):
        present = set(values.unique())
        levels = [c for c in values.cat.categories if c in present]
    else:
        levels = pd.unique(values).tolist()
    if control is not None:
        hit = [x for x in levels if x == control] or [x for x in levels if str(x) == str(control)]
        if not hit:
            raise InputError(f"control {control!r} is not a level of {column!r}", file=source,
                             column=column, expected="one of " + ", ".join(map(str, levels)))  # fmt: skip
        levels = [hit[0], *[x for x in levels if x is not hit[0]]]
    return levels


def _given(values: pd.Series, column: str, given: Sequence, source: object) -> list:
    """The data's labels in the ``given`` order (see :func:`level_order`)."""
    given = [given] if isinstance(given, str) else list(given)
    text = [str(g) for g in given]
    if len(set(text)) != len(text):
        dup = next(t for i, t in enumerate(text) if t in text[:i])
        raise InputError(f"level {dup!r} is given twice for {column!r}", file=source,
                         column=column, expected="each level once")  # fmt: skip
    rank = {t: i for i, t in enumerate(text)}
    present = pd.unique(values).tolist()
    where: dict = {}
    for v in present:
        i = given.index(v) if v in given else rank.get(str(v))
        if i is None:
            bad = (values == v).to_numpy()
            raise_first_bad(bad, f"level {v!r} of {column!r} is not among the given levels",
                            file=source, column=column,
                            expected="one of " + ", ".join(text))  # fmt: skip
        where[v] = i
    return sorted(present, key=where.__getitem__)


def given_for(levels: Mapping[str, Sequence] | None, column: str | None) -> Sequence | None:
    """``levels[column]`` or ``None``; ``levels`` must be a mapping factor → level list."""
    if levels is None or column is None:
        return None
    if not isinstance(levels, Mapping):
        raise InputError(f"levels must map factor names to level lists, not {type(levels).__name__}",
                         column="levels", expected='e.g. {"time": ["BL", "D7", "D14"]}')  # fmt: skip
    return levels.get(column)
