"""One engine for trial-based behavioural measures.

A behavioural test records one row per trial (application, reading) of an animal's paw
(or of the whole animal) at a time point.  The engine validates such tables and
summarises them per animal x paw x timepoint, with the same rules, statuses and
exclusions for every test:

* latency tests with a cut-off (hot plate, tail flick, cold plate latency, rotarod) go
  through the Hargreaves machinery - trial validation, the cut-off as right-censoring,
  per-animal censored-normal (Tobit) latencies and group Kaplan-Meier medians
  (:func:`summarise_latency`, :func:`km_latency`; :mod:`nplab.hargreaves`);
* tests measuring a score, count, force or weight go through :func:`read_value_trials`
  and :func:`summarise_values`: trial validation against the measure's range, an optional
  outlier rule, an optional force cut-off (trials at it counted and flagged as censored),
  the averaging rule, the baseline acceptance window and excluded animals.

Input columns of a value test (long format, one row per trial): ``animal``, ``paw``
(``ipsi``/``contra`` or ``left``/``right`` with an animals table; optional for
whole-animal tests), ``timepoint``, ``trial`` (1, 2, ...), the measure's column (e.g.
``force_g``, ``score``, ``lifts``); optional ``valid`` (true/false; a blank measure is
allowed only on an invalid trial), ``group``, ``note``.

Statuses (``;``-joined in ``status``, explained in ``message``): ``ok``,
``too_few_valid``, ``excluded``, ``trial_count``, ``outliers_removed``, ``at_cutoff``,
``baseline_out_of_window``.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from nplab.animals import read_animals
from nplab.checks import raise_first_bad
from nplab.errors import InputError
from nplab.hargreaves.summary import _animal_groups, _is_baseline, _sorted
from nplab.hargreaves.summary import km_medians as _km_medians
from nplab.hargreaves.summary import summarise as _summarise_latency
from nplab.hargreaves.trials import _flag, _key_text, trial_keys, trial_numbers
from nplab.protocols import Protocol, load_protocol
from nplab.tables import read_table, require_columns, to_numeric_column

__all__ = [
    "KEY_COLUMNS",
    "Measure",
    "excluded_animals",
    "km_latency",
    "read_value_trials",
    "summarise_latency",
    "summarise_values",
]

KEY_COLUMNS = ("animal", "paw", "timepoint")
_ANIMAL_EXTRA = ("model", "sex", "cohort")

TableLike = str | os.PathLike[str] | pd.DataFrame


@dataclass(frozen=True)
class Measure:
    """What one value test records per trial.

    Attributes
    ----------
    column
        Input column of the measure (``force_g``, ``score``, ``lifts`` ...).
    unit
        Unit for messages (``g``, ``score``, ``count``).
    low, high
        Inclusive bounds of a valid value (``None``: unbounded).
    integer
        Values must be whole numbers (scores, counts).
    paws
        ``False`` for whole-animal tests (``paw`` optional, ``"whole"``).
    """

    column: str
    unit: str
    low: float | None = 0.0
    high: float | None = None
    integer: bool = False
    paws: bool = True


def summarise_latency(
    trials: TableLike,
    protocol: str | os.PathLike[str] | Protocol,
    animals: TableLike | None = None,
    *,
    kind: str,
    paws: bool,
    **overrides: Any,
) -> pd.DataFrame:
    """Per animal x paw x timepoint latencies with the cut-off as right-censoring.

    The columns and statuses are those of :func:`nplab.hargreaves.summarise`
    (``latency_s`` by the averaging rule, ``mean_latency_s`` with cut-off trials at the
    cut-off, ``n_at_cutoff``, ``censored``, the Tobit latency ``tobit_latency_s`` with
    its intervals, ``status``, ``message``, ``protocol``); ``paw`` is ``whole`` for
    whole-animal tests.
    """
    return _summarise_latency(trials, protocol, animals, kind=kind, paws=paws, **overrides)


def km_latency(
    trials: TableLike,
    protocol: str | os.PathLike[str] | Protocol,
    animals: TableLike | None = None,
    *,
    kind: str,
    paws: bool,
    **overrides: Any,
) -> pd.DataFrame:
    """Group Kaplan-Meier median latencies (:func:`nplab.hargreaves.km_medians`)."""
    return _km_medians(trials, protocol, animals, kind=kind, paws=paws, **overrides)


def _raw_table(trials: TableLike) -> tuple[pd.DataFrame, Any]:
    if isinstance(trials, pd.DataFrame):
        src = trials.attrs.get("source")
        df = trials.reset_index(drop=True).copy()
        df.attrs = {}
        df.columns = [str(c).strip() for c in df.columns]
    else:
        df = read_table(trials)
        src = df.attrs["source"]
    return df, src


def read_value_trials(
    trials: TableLike,
    protocol: str | os.PathLike[str] | Protocol,
    measure: Measure,
    animals: TableLike | None = None,
    *,
    kind: str,
    extra_columns: tuple[str, ...] = (),
    **overrides: Any,
) -> pd.DataFrame:
    """Read and validate a trial table of a value test.

    Parameters
    ----------
    trials
        CSV/XLSX path or DataFrame (columns in the module docstring).
    protocol
        Protocol name, path or loaded protocol of kind ``kind``; ``overrides`` replace
        its parameters.
    measure
        The measure's column, range and whether the test is per paw.
    animals
        Optional animals table (needed for ``left``/``right`` paws; gives groups and
        exclusions).
    extra_columns
        Further numeric columns the test needs, validated like the measure (e.g. the
        contra reading of weight bearing).

    Returns
    -------
    pandas.DataFrame
        One row per trial in input order: ``animal``, ``paw``, ``timepoint``, ``trial``,
        the measure column (float, NaN for blank invalid trials), ``valid``, ``used``
        (valid and not the discarded first trial), ``note``, ``source_row``, ``group``
        when given.  ``attrs``: ``source``, ``protocol``, ``animals``.

    Raises
    ------
    InputError
        Missing column, blank key, unknown animal, bad paw, trial number, flag or value
        (out of the measure's range, not a whole number), duplicate trial.
    """
    proto = load_protocol(protocol, kind=kind, **overrides)
    df, src = _raw_table(trials)
    whole = not measure.paws and (
        "paw" not in df.columns
        or _key_text(df["paw"]).str.lower().fillna("whole").isin(["whole", ""]).all()
    )
    need = [c for c in ("animal", "paw", "timepoint", "trial") if not (whole and c == "paw")]
    require_columns(df, [*need, measure.column, *extra_columns], file=src)
    if df.empty:
        raise InputError("the table has no trials", file=src, expected="one row per trial")
    animals_df = read_animals(animals) if animals is not None else None
    df.attrs["source"] = src
    animal, paw = trial_keys(df, animals_df, src, whole=whole)
    trial = trial_numbers(df, src)
    valid = _flag(df, "valid", True, src)
    out = pd.DataFrame(
        {
            "animal": animal.to_numpy(dtype=object),
            "paw": paw.to_numpy(dtype=object),
            "timepoint": df["timepoint"].to_numpy(dtype=object),
            "trial": trial.astype(np.int64),
        }
    )
    if isinstance(out["timepoint"].iloc[0], str) or out["timepoint"].map(type).nunique() > 1:
        out["timepoint"] = _key_text(df["timepoint"]).to_numpy(dtype=object)
    rng = _range_text(measure)
    for col in (measure.column, *extra_columns):
        values = to_numeric_column(df, col, file=src, allow_missing=True, expected=rng)
        blank = np.isnan(values)
        raise_first_bad(
            blank & valid,
            "a blank cell is not valid",
            file=src,
            column=col,
            expected=f"{rng} (blank only on an invalid trial, valid = false)",
        )
        bad = np.zeros(len(df), dtype=bool)
        if measure.low is not None:
            bad |= ~blank & (values < measure.low)
        if measure.high is not None:
            bad |= ~blank & (values > measure.high)
        if measure.integer:
            bad |= ~blank & (values != np.round(values))
        raise_first_bad(
            bad,
            lambda i, v=values: f"{v[i]:g} is not a valid {measure.unit} value",
            file=src,
            column=col,
            expected=rng,
        )
        out[col] = values
    out["valid"] = valid
    raise_first_bad(
        out.duplicated(["animal", "paw", "timepoint", "trial"]),
        lambda i: (
            f"trial {out['trial'].iloc[i]} of animal {out['animal'].iloc[i]!r}, paw "
            f"{out['paw'].iloc[i]}, timepoint {out['timepoint'].iloc[i]!r} appears twice"
        ),
        file=src,
        column="trial",
        expected="one row per animal, paw, timepoint and trial",
    )
    out["note"] = df["note"].to_numpy(dtype=object) if "note" in df.columns else None
    if "group" in df.columns:
        out["group"] = _key_text(df["group"]).to_numpy(dtype=object)
    out["source_row"] = np.arange(len(out)) + 2
    order = out.sort_values(["trial"], kind="stable")
    first = ~order.duplicated(list(KEY_COLUMNS))
    discarded = pd.Series(False, index=out.index)
    if proto.params.get("discard_first_trial", False):
        discarded.loc[order.index[first.to_numpy()]] = True
    out["used"] = out["valid"] & ~discarded.to_numpy()
    out.attrs = {"source": src, "protocol": proto, "animals": animals_df}
    return out


def _range_text(measure: Measure) -> str:
    kind = "a whole number" if measure.integer else "a number"
    if measure.low is not None and measure.high is not None:
        return f"{kind} from {measure.low:g} to {measure.high:g} ({measure.unit})"
    if measure.low is not None:
        return f"{kind} >= {measure.low:g} ({measure.unit})"
    return f"{kind} ({measure.unit})"


def excluded_animals(animals_df: pd.DataFrame | None) -> dict[str, str]:
    """``{animal: reason}`` of the animals marked excluded in the animals table."""
    out: dict[str, str] = {}
    if animals_df is None:
        return out
    for a, x, why in zip(
        animals_df["animal"], animals_df["excluded"], animals_df["exclusion_reason"], strict=True
    ):
        if x:
            out[a] = "" if pd.isna(why) else str(why)
    return out


def outlier_mask(values: np.ndarray, rule: str, fraction: float) -> np.ndarray:
    """Trials dropped by the protocol's outlier rule (True = outlier).

    ``median_deviation``: \\|x - median\\| > fraction x median (needs >= 3 trials);
    ``drop_extremes``: the single highest and lowest trial when >= 4 are valid (the
    usual electronic von Frey / Randall-Selitto practice of averaging the middle
    readings).
    """
    out = np.zeros(values.size, dtype=bool)
    if rule == "median_deviation" and values.size >= 3:
        med = float(np.median(values))
        out = np.abs(values - med) > fraction * abs(med)
    elif rule == "drop_extremes" and values.size >= 4:
        out[int(np.argmax(values))] = True
        out[int(np.argmin(values))] = True
    return out


Aggregate = Callable[[dict[str, np.ndarray], Protocol], dict[str, float]]
_NOT_VALUES = {"animal", "paw", "timepoint", "valid", "used", "note", "source_row", "group"}


def _default_aggregate(column: str) -> Aggregate:
    def agg(rows: dict[str, np.ndarray], proto: Protocol) -> dict[str, float]:
        v = np.asarray(rows[column], dtype=float)
        n = v.size
        avg = (np.median if proto["average"] == "median" else np.mean)(v) if n else np.nan
        return {
            f"mean_{column}": float(np.mean(v)) if n else np.nan,
            f"median_{column}": float(np.median(v)) if n else np.nan,
            f"sd_{column}": float(np.std(v, ddof=1)) if n > 1 else np.nan,
            column: float(avg),
        }

    return agg


def summarise_values(
    data: pd.DataFrame,
    measure: Measure,
    aggregate: Aggregate | None = None,
    *,
    value_column: str | None = None,
) -> pd.DataFrame:
    """Summarise validated value trials per animal x paw x timepoint.

    Parameters
    ----------
    data
        Output of :func:`read_value_trials` (its ``attrs`` carry protocol and animals).
    measure
        The measure read.
    aggregate
        Function of the used, non-outlier trials (``{column: array}`` in trial order,
        every value column of ``data``) and the protocol giving the output value columns; default: ``mean_<col>``, ``median_<col>``,
        ``sd_<col>`` and ``<col>`` (the protocol's ``average`` rule).
    value_column
        The column the baseline window and the ``too_few_valid``/``excluded`` blanking
        apply to (default: ``measure.column``).

    Returns
    -------
    pandas.DataFrame
        One row per animal x paw x timepoint (animal input order, ipsi, contra, time
        order): ``animal``, ``group`` (and ``model``/``sex``/``cohort``) when known,
        ``paw``, ``timepoint``, ``n_trials`` (rows), ``n_valid`` (used trials after
        outliers), ``n_outliers``, ``n_at_cutoff`` (used trials at the protocol's
        ``cutoff``, right-censored), the aggregate's columns, ``status``, ``message``,
        ``protocol``.  The value column is empty for ``too_few_valid`` and ``excluded``.
    """
    proto: Protocol = data.attrs["protocol"]
    animals_df = data.attrs.get("animals")
    col = measure.column
    value_column = value_column or col
    aggregate = aggregate or _default_aggregate(col)
    excluded = excluded_animals(animals_df)
    window = proto.params.get("baseline_window")
    if window is not None and (len(window) != 2 or window[0] >= window[1]):
        raise InputError(
            f"{window!r} is not a window",
            file=proto.path,
            column="baseline_window",
            expected="[low, high] with low < high",
        )
    baseline = str(proto.params.get("baseline_timepoint", "baseline")).strip().lower()
    rule = proto.params.get("outlier_rule", "none")
    fraction = float(proto.params.get("outlier_fraction", 0.2))
    cutoff = proto.params.get("cutoff")
    rows = []
    # one sort by (animal x paw x timepoint, trial), then array slices per group
    codes = data.groupby(list(KEY_COLUMNS), sort=False, dropna=False).ngroup().to_numpy()
    order = np.lexsort((data["trial"].to_numpy(), codes))
    cuts = np.flatnonzero(np.diff(codes[order])) + 1
    starts, ends = np.r_[0, cuts], np.r_[cuts, order.size]
    numeric = [c for c in data.columns if c not in _NOT_VALUES]
    arrays = {c: data[c].to_numpy()[order] for c in numeric}
    used_all = data["used"].to_numpy(dtype=bool)[order]
    valid_all = data["valid"].to_numpy(dtype=bool)[order]
    key_rows = data.iloc[order[starts]]
    for animal, paw, tp, a, b in zip(
        key_rows["animal"], key_rows["paw"], key_rows["timepoint"], starts, ends, strict=True
    ):
        u = used_all[a:b]
        v = arrays[col][a:b][u].astype(float)
        out_mask = outlier_mask(v, rule, fraction)
        kept = {c: arr[a:b][u][~out_mask] for c, arr in arrays.items()}
        v = v[~out_mask]
        flags, msgs = [], []
        n_cut = int(np.sum(v >= cutoff)) if cutoff is not None else 0
        if v.size < proto["min_valid_trials"]:
            flags.append("too_few_valid")
            msgs.append(f"{v.size} valid trial(s) < min_valid_trials {proto['min_valid_trials']}")
        if animal in excluded:
            flags.append("excluded")
            msgs.append("animal excluded" + (f": {excluded[animal]}" if excluded[animal] else ""))
        n_recorded = int(valid_all[a:b].sum())
        if n_recorded != proto["trials_per_paw"]:
            flags.append("trial_count")
            msgs.append(
                f"{n_recorded} valid trials recorded, protocol expects {proto['trials_per_paw']}"
            )
        if out_mask.any():
            flags.append("outliers_removed")
            dropped = ", ".join(str(t) for t in arrays["trial"][a:b][u][out_mask])
            msgs.append(f"trial(s) {dropped} dropped by the outlier rule {rule}")
        if n_cut:
            flags.append("at_cutoff")
            msgs.append(f"{n_cut} trial(s) at the cut-off {cutoff:g} {measure.unit} (censored)")
        row = {"animal": animal, "paw": paw, "timepoint": tp}
        values = aggregate(kept, proto)
        value = values.get(value_column, np.nan)
        if (
            window is not None
            and _is_baseline(tp, baseline)
            and value is not None
            and not np.isnan(value)
            and not (window[0] <= value <= window[1])
        ):
            flags.append("baseline_out_of_window")
            msgs.append(f"baseline {value_column} {value:g} outside [{window[0]:g}, {window[1]:g}]")
        if {"too_few_valid", "excluded"} & set(flags):
            values[value_column] = np.nan
        row.update(
            n_trials=int(b - a),
            n_valid=int(v.size),
            n_outliers=int(out_mask.sum()),
            n_at_cutoff=n_cut,
            **values,
            status=";".join(flags) if flags else "ok",
            message="; ".join(msgs),
            protocol=proto.label,
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    id_cols = ["animal"]
    if animals_df is not None:
        extra = ["group"] + [c for c in _ANIMAL_EXTRA if animals_df[c].notna().any()]
        out = out.merge(animals_df[["animal", *extra]], on="animal", how="left")
        id_cols += extra
    elif "group" in data.columns:
        out["group"] = out["animal"].map(_animal_groups(data))
        id_cols.append("group")
    out = _sorted(out, pd.unique(data["animal"]), pd.unique(data["timepoint"]))
    rest = [c for c in out.columns if c not in {*id_cols, "paw", "timepoint"}]
    return out[[*id_cols, "paw", "timepoint", *rest]].reset_index(drop=True)
