"""Reading and validating a trial-level Hargreaves table.

Input columns (long format, one row per trial): ``animal``, ``paw``, ``timepoint``,
``trial``, ``latency_s``; optional ``cutoff_reached``, ``valid``, ``note``, ``group``,
and a trial clock, ``time_s`` (seconds, any origin) or ``time`` (clock time such as
``10:05:30`` or an ISO date-time), used for the inter-trial interval check.

Rules (each violation is an :class:`~nplab.errors.InputError` naming file, row and
column):

* ``latency_s`` must be a number with ``0 < latency_s <= cutoff_s``.  It may be blank
  only when the trial is invalid (``valid`` false) or ``cutoff_reached`` is true (then
  it is taken as the cut-off).
* A trial is at the cut-off (right-censored) when ``cutoff_reached`` is true or
  ``latency_s >= cutoff_s - cutoff_tolerance_s``; ``cutoff_reached`` true with a
  latency below that is contradictory and an error.
* ``valid`` / ``cutoff_reached``: true/false, yes/no, y/n, 1/0 (blank: valid true,
  cutoff_reached false).
* ``trial`` is a positive whole number; (animal, paw, timepoint, trial) is unique after
  left/right paws are resolved to ipsi/contra through the animals table.
* Trial times must increase with the trial number within animal x paw x timepoint.
"""

from __future__ import annotations

import os
from typing import Any

import numpy as np
import pandas as pd

from nplab.animals import read_animals, resolve_paws
from nplab.checks import raise_first_bad
from nplab.errors import InputError, row_number
from nplab.protocols import Protocol, load_protocol
from nplab.tables import read_table, require_columns, to_numeric_column

__all__ = ["KEY_COLUMNS", "REQUIRED_COLUMNS", "load_inputs", "read_trials", "trial_keys", "trial_numbers"]

REQUIRED_COLUMNS = ("animal", "paw", "timepoint", "trial", "latency_s")
KEY_COLUMNS = ("animal", "paw", "timepoint")
_TRUE = {"true", "yes", "y", "1", "1.0", "t"}
_FALSE = {"false", "no", "n", "0", "0.0", "f"}


def _flag(df: pd.DataFrame, column: str, blank: bool, file: Any) -> np.ndarray:
    if column not in df.columns:
        return np.full(len(df), blank, dtype=bool)
    raw = df[column]
    text = raw.astype("string").str.strip().str.lower().fillna("")
    ok = text.isin(list(_TRUE | _FALSE | {""}))
    raise_first_bad(
        ~ok.to_numpy(),
        lambda i: f"{raw.iloc[i]!r} is not true/false",
        file=file,
        column=column,
        expected="true/false, yes/no or 1/0",
    )
    out = text.isin(list(_TRUE)).to_numpy(dtype=bool, copy=True)
    out[(text == "").to_numpy()] = blank
    return out


def _times(df: pd.DataFrame, file: Any) -> np.ndarray | None:
    if "time_s" in df.columns:
        return to_numeric_column(
            df, "time_s", file=file, allow_missing=True, expected="seconds (a number)"
        )
    if "time" not in df.columns:
        return None
    raw = df["time"]
    text = raw.astype("string").str.strip()
    out = np.full(len(df), np.nan)
    first_kind = None
    for i, value in enumerate(text):
        if pd.isna(value) or value == "":
            continue
        kind = "date-time" if ("T" in value or "-" in value) else "clock time"
        if not np.isnan(pd.to_numeric(value, errors="coerce")):
            # a bare number (e.g. "300") would be read as nanoseconds by
            # pandas.to_timedelta; seconds belong in a time_s column
            raise InputError(
                f"{raw.iloc[i]!r} is a number, not a clock time",
                file=file,
                row=row_number(i),
                column="time",
                expected="a clock time HH:MM[:SS] or an ISO date-time "
                "(put seconds in a time_s column)",
            )
        try:
            if kind == "date-time":
                out[i] = pd.Timestamp(value).value / 1e9
            else:
                hms = value if value.count(":") != 1 else value + ":00"
                out[i] = pd.to_timedelta(hms).total_seconds()
        except (ValueError, TypeError):
            raise InputError(
                f"{raw.iloc[i]!r} is not a time",
                file=file,
                row=row_number(i),
                column="time",
                expected="a clock time HH:MM[:SS] or an ISO date-time",
            ) from None
        first_kind = first_kind or kind
        if kind != first_kind:
            raise InputError(
                f"{raw.iloc[i]!r} is a {kind} but earlier rows hold a {first_kind}",
                file=file,
                row=row_number(i),
                column="time",
                expected=f"every time as a {first_kind}",
            )
    return out


def _key_text(series: pd.Series) -> pd.Series:
    return series.astype("string").str.strip()


def read_trials(
    trials: str | os.PathLike[str] | pd.DataFrame,
    protocol: str | os.PathLike[str] | Protocol = "hargreaves-rat",
    animals: str | os.PathLike[str] | pd.DataFrame | None = None,
    *,
    kind: str = "hargreaves",
    paws: bool = True,
    **overrides: Any,
) -> pd.DataFrame:
    """Read and validate a Hargreaves (or other latency-with-cut-off) trial table.

    Parameters
    ----------
    trials
        CSV/XLSX path or DataFrame with the columns described in the module docstring.
    protocol
        Protocol name, path or loaded :class:`~nplab.protocols.Protocol` (kind
        ``hargreaves``); ``overrides`` replace its parameters.
    animals
        Optional animals table (path or DataFrame), needed for ``left``/``right`` paws.
    kind
        Protocol kind required (``hargreaves``; the other latency tests of
        :mod:`nplab.behaviour` - hot plate, tail flick, cold plate, rotarod - reuse this
        reader with their own kind).
    paws
        ``False`` for whole-animal tests (tail flick, hot plate, rotarod): the ``paw``
        column is optional and, when absent (or holding only ``whole``), every trial gets
        ``paw = "whole"``.

    Returns
    -------
    pandas.DataFrame
        One row per input trial, in input order, with ``animal`` (str), ``paw``
        (``ipsi``/``contra``), ``timepoint`` (as given), ``trial`` (int),
        ``latency_s`` (float; cut-off trials at ``cutoff_s``; NaN for blank invalid
        trials), ``at_cutoff`` (bool), ``valid`` (bool), ``used`` (bool: valid and not
        discarded as the first trial), ``time_s`` (float or NaN), ``note`` and
        ``source_row`` (spreadsheet row), plus ``group`` when the input has one.
        ``attrs["source"]``, ``attrs["protocol"]`` (the resolved protocol) and
        ``attrs["animals"]`` (validated animals table or None) are set.
    """
    data, proto, animals_df = load_inputs(
        trials, protocol, animals, overrides, kind=kind, paws=paws
    )
    data.attrs["protocol"] = proto
    data.attrs["animals"] = animals_df
    return data


def load_inputs(
    trials: str | os.PathLike[str] | pd.DataFrame,
    protocol: str | os.PathLike[str] | Protocol,
    animals: str | os.PathLike[str] | pd.DataFrame | None,
    overrides: dict[str, Any],
    *,
    kind: str = "hargreaves",
    paws: bool = True,
) -> tuple[pd.DataFrame, Protocol, pd.DataFrame | None]:
    """Validated trials (only ``attrs["source"]`` set), the protocol and the animals table.

    See :func:`read_trials` for the rules and the returned columns.
    """
    proto = load_protocol(protocol, kind=kind, **overrides)
    if isinstance(trials, pd.DataFrame):
        src = trials.attrs.get("source")
        df = trials.reset_index(drop=True).copy()
        df.attrs = {}
        df.columns = [str(c).strip() for c in df.columns]
    else:
        df = read_table(trials)
        src = df.attrs["source"]
    whole = not paws and (
        "paw" not in df.columns
        or _key_text(df["paw"]).str.lower().fillna("whole").isin(["whole", ""]).all()
    )
    require_columns(
        df, [c for c in REQUIRED_COLUMNS if not (whole and c == "paw")], file=src
    )
    if df.empty:
        raise InputError("the table has no trials", file=src, expected="one row per trial")
    df.attrs["source"] = src
    animals_df = read_animals(animals) if animals is not None else None

    animal, paw = trial_keys(df, animals_df, src, whole=whole)

    trial = trial_numbers(df, src)

    valid = _flag(df, "valid", True, src)
    reached = _flag(df, "cutoff_reached", False, src)
    cutoff = float(proto["cutoff_s"])
    tol = float(proto["cutoff_tolerance_s"])
    latency = to_numeric_column(
        df, "latency_s", file=src, allow_missing=True, expected="a latency in seconds"
    )
    blank = np.isnan(latency)
    raise_first_bad(
        blank & valid & ~reached,
        "a blank cell is not valid",
        file=src,
        column="latency_s",
        expected="a latency in seconds (blank only for invalid or cut-off trials)",
    )
    for mask, column, what, expected in (
        (
            ~blank & (latency <= 0),
            "latency_s",
            "latency {v} s is zero or negative",
            f"0 < latency_s <= {cutoff:g}",
        ),
        (
            ~blank & (latency > cutoff),
            "latency_s",
            f"latency {{v}} s is above the cut-off of {cutoff:g} s",
            f"latency_s <= cutoff_s = {cutoff:g}",
        ),
        (
            ~blank & reached & (latency < cutoff - tol),
            "cutoff_reached",
            "cutoff_reached is true but latency {v} s is below the cut-off",
            f"latency_s = {cutoff:g} when the cut-off was reached",
        ),
    ):
        raise_first_bad(
            mask,
            lambda i, what=what: what.format(v=f"{latency[i]:g}"),
            file=src,
            column=column,
            expected=expected,
        )
    at_cutoff = reached | (~blank & (latency >= cutoff - tol))
    latency = np.where(at_cutoff, cutoff, latency)

    out = pd.DataFrame(
        {
            "animal": animal.to_numpy(dtype=object),
            "paw": paw.to_numpy(dtype=object),
            "timepoint": df["timepoint"].to_numpy(dtype=object),
            "trial": trial.astype(np.int64),
            "latency_s": latency,
            "at_cutoff": at_cutoff,
            "valid": valid,
        }
    )
    if isinstance(out["timepoint"].iloc[0], str) or out["timepoint"].map(type).nunique() > 1:
        out["timepoint"] = _key_text(df["timepoint"]).to_numpy(dtype=object)
    raise_first_bad(
        out.duplicated(["animal", "paw", "timepoint", "trial"]),
        lambda i: f"trial {out['trial'].iloc[i]} of animal {out['animal'].iloc[i]!r}, paw "
        f"{out['paw'].iloc[i]}, timepoint {out['timepoint'].iloc[i]!r} appears twice",
        file=src,
        column="trial",
        expected="one row per animal, paw, timepoint and trial",
    )
    times = _times(df, src)
    out["time_s"] = np.nan if times is None else times
    out["note"] = df["note"].to_numpy(dtype=object) if "note" in df.columns else None
    if "group" in df.columns:
        out["group"] = _key_text(df["group"]).to_numpy(dtype=object)
        if animals_df is not None:
            expected = animal.map(dict(zip(animals_df["animal"], animals_df["group"], strict=True)))
            raise_first_bad(
                (expected.astype(str) != out["group"].astype(str)).to_numpy(),
                lambda i: f"group {out['group'].iloc[i]!r} differs from the animals table's "
                f"{expected.iloc[i]!r} for animal {animal.iloc[i]!r}",
                file=src,
                column="group",
                expected="the group given in the animals table",
            )
    out["source_row"] = np.arange(len(out)) + 2

    order = out.sort_values(["trial"], kind="stable")
    first = ~order.duplicated(list(KEY_COLUMNS))
    discarded = pd.Series(False, index=out.index)
    if proto["discard_first_trial"]:
        discarded.loc[order.index[first.to_numpy()]] = True
    out["used"] = out["valid"] & ~discarded.to_numpy()

    if times is not None:
        t = order.dropna(subset=["time_s"])
        prev = t.groupby(list(KEY_COLUMNS), sort=False)["time_s"].shift()
        back = (t["time_s"] <= prev).to_numpy()
        if back.any():
            i = int(t.index[np.flatnonzero(back)[0]])
            raise InputError(
                "trial time is not after the previous trial's",
                file=src,
                row=row_number(i),
                column="time_s" if "time_s" in df.columns else "time",
                expected="times increasing with the trial number",
            )
    out.attrs = {"source": src}
    return out, proto, animals_df


def trial_keys(
    df: pd.DataFrame, animals: pd.DataFrame | None, src: str | None, *, whole: bool
) -> tuple[pd.Series, pd.Series]:
    """Checked ``animal`` and ``paw`` keys of a trial table (shared by every trial test).

    Blank animal or time point cells, animals missing from the animals table and
    unknown paws are :class:`~nplab.errors.InputError` naming the file, row and column;
    ``whole=True`` (whole-animal tests such as rotarod): every paw is ``"whole"``.
    """
    for col in ("animal", "timepoint"):
        blank = df[col].isna() | (_key_text(df[col]) == "")
        raise_first_bad(blank, "blank cell", file=src, column=col, expected="an identifier")
    animal = _key_text(df["animal"]).astype(str)
    if animals is not None:
        known = set(animals["animal"])
        raise_first_bad(
            ~animal.isin(known),
            lambda i: f"animal {animal.iloc[i]!r} is not in the animals table",
            file=src,
            column="animal",
            expected="every animal listed in the animals table",
        )
    if whole:
        return animal, pd.Series("whole", index=df.index, dtype=object)
    return animal, resolve_paws(df.assign(animal=animal), animals, file=src)


def trial_numbers(df: pd.DataFrame, src: str | None) -> np.ndarray:
    """The ``trial`` column as whole numbers >= 1 (else InputError naming the row)."""
    trial = to_numeric_column(df, "trial", file=src, expected="a trial number 1, 2, ...")
    raise_first_bad(
        (trial < 1) | (trial != np.round(trial)),
        lambda i: f"{trial[i]:g} is not a trial number",
        file=src,
        column="trial",
        expected="a whole number >= 1",
    )
    return trial
