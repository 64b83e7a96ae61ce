"""Formalin test: nocifensive behaviour per time bin -> phase I and phase II totals.

After an intraplantar injection of dilute formalin the animal shows an early, acute
phase of licking/flinching (phase I, about 0-10 min) and, after a quiet interphase, a
late, inflammatory/central-sensitisation phase (phase II, about 15-60 min) (Dubuisson &
Dennis 1977; Hunskaar & Hole 1987; Tjølsen et al. 1992).  The behaviour is recorded per
time bin as seconds spent licking/biting the injected paw (``licking_s``) or as a count
of flinches (``flinches``); the phase totals are the sums over the bins in each phase.
The phase boundaries are protocol parameters (``phase1_min``, ``phase2_min``,
[start, end) in minutes after injection) because labs differ.

Input columns: ``animal``, ``bin_start_min`` (start of the bin, minutes after the
injection), the measure column (``licking_s`` in s, at most the bin width, or
``flinches``, whole numbers); optional ``timepoint`` (session label, default ``test``),
``valid``, ``note``, ``group``.  A bin must start on the grid of ``bin_min`` and lie
inside one phase or the interphase; a phase with a missing bin has no total (flagged
``incomplete_phase1``/``incomplete_phase2``).

References
----------
Dubuisson D, Dennis SG (1977) The formalin test: a quantitative study of the analgesic
effects of morphine, meperidine, and brain stem stimulation in rats and cats. Pain
4:161-174.
Hunskaar S, Hole K (1987) The formalin test in mice: dissociation between inflammatory
and non-inflammatory pain. Pain 30:103-114.
Tjølsen A, Berge OG, Hunskaar S, Rosland JH, Hole K (1992) The formalin test: an
evaluation of the method. Pain 51:5-17.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nplab.behaviour.engine import (
    Measure,
    TableLike,
    _raw_table,
    excluded_animals,
    read_value_trials,
)
from nplab.behaviour.latency import ProtocolLike
from nplab.checks import raise_first_bad
from nplab.errors import ProtocolError
from nplab.hargreaves.summary import _animal_groups
from nplab.protocols import Protocol, load_protocol
from nplab.tables import require_columns, to_numeric_column

__all__ = ["formalin", "formalin_bins"]


def _phase(proto: Any, key: str) -> tuple[float, float]:
    p = proto[key]
    if len(p) != 2 or p[0] >= p[1]:
        raise ProtocolError(
            f"{p!r} is not a phase",
            file=proto.path,
            column=key,
            expected="[start, end), start < end",
        )
    return float(p[0]), float(p[1])


def _read_bins(
    bins: TableLike, protocol: ProtocolLike, animals: TableLike | None, overrides: dict
) -> tuple[pd.DataFrame, Protocol, tuple[float, float], tuple[float, float]]:
    """Validated bins (:func:`read_value_trials` rows plus ``bin_start_min``), the
    protocol and the phase boundaries."""
    proto = load_protocol(protocol, kind="formalin", **overrides)
    m = proto["measure"]
    width = float(proto["bin_min"])
    p1, p2 = _phase(proto, "phase1_min"), _phase(proto, "phase2_min")
    if p1[1] > p2[0]:
        raise ProtocolError(
            "phase I ends after phase II starts",
            file=proto.path,
            column="phase1_min",
            expected="phase1_min end <= phase2_min start",
        )
    df, src = _raw_table(bins)
    require_columns(df, ["animal", "bin_start_min", m], file=src)
    start = to_numeric_column(df, "bin_start_min", file=src, expected="minutes >= 0")
    k = start / width
    raise_first_bad(
        (start < 0) | (np.abs(k - np.round(k)) > 1e-9),
        lambda i: f"bin start {start[i]:g} min is not on the {width:g}-min grid",
        file=src,
        column="bin_start_min",
        expected=f"a multiple of bin_min = {width:g} min, >= 0",
    )
    end = start + width

    def region(lo: float, hi: float) -> np.ndarray:
        return (start >= lo) & (end <= hi)

    inside = region(*p1) | region(*p2) | region(p1[1], p2[0]) | (start >= p2[1])
    raise_first_bad(
        ~inside,
        lambda i: (
            f"bin {start[i]:g}-{end[i]:g} min straddles a phase boundary "
            f"(phase I {p1[0]:g}-{p1[1]:g}, phase II {p2[0]:g}-{p2[1]:g} min)"
        ),
        file=src,
        column="bin_start_min",
        expected="bins lying inside one phase (set bin_min or the phase boundaries)",
    )
    work = df.copy()
    work["trial"] = np.round(k).astype(int) + 1
    if "timepoint" not in work.columns:
        work["timepoint"] = "test"
    work.attrs["source"] = src
    high = width * 60.0 if m == "licking_s" else None
    measure = Measure(
        m, "s" if m == "licking_s" else "flinches", 0.0, high, integer=(m == "flinches"), paws=False
    )
    data = read_value_trials(work, proto, measure, animals, kind="formalin")
    data["bin_start_min"] = start
    return data, proto, p1, p2


def formalin_bins(
    bins: TableLike,
    protocol: ProtocolLike = "formalin",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """The validated bins of a formalin test, one row per animal x timepoint x bin.

    For the time course of the behaviour (mean +/- SEM per group and bin) beside the
    phase totals of :func:`formalin`.

    Returns
    -------
    pandas.DataFrame
        ``animal``, ``group`` (when known), ``timepoint``, ``bin_start_min``,
        ``bin_mid_min`` (bin centre, minutes after the injection), ``phase``
        (``phase1``, ``interphase``, ``phase2`` or ``after``), the measure column
        (``licking_s`` or ``flinches``; empty when the bin is not used), ``used``
        (valid bin), ``protocol``; input order.

    Raises
    ------
    InputError
        As :func:`formalin`.
    """
    data, proto, p1, p2 = _read_bins(bins, protocol, animals, overrides)
    m = proto["measure"]
    width = float(proto["bin_min"])
    start = data["bin_start_min"].to_numpy(float)
    phase = np.select(
        [start + width <= p1[1], start + width <= p2[0], start + width <= p2[1]],
        ["phase1", "interphase", "phase2"],
        "after",
    )
    used = data["used"].to_numpy(bool)
    out = pd.DataFrame(
        {
            "animal": data["animal"],
            "timepoint": data["timepoint"],
            "bin_start_min": start,
            "bin_mid_min": start + width / 2.0,
            "phase": phase,
            m: np.where(used, data[m].to_numpy(float), np.nan),
            "used": used,
            "protocol": proto.label,
        }
    )
    animals_df = data.attrs["animals"]
    if animals_df is not None:
        out.insert(1, "group", out["animal"].map(animals_df.set_index("animal")["group"]))
    elif "group" in data.columns:
        out.insert(1, "group", out["animal"].map(_animal_groups(data)))
    return out


def formalin(
    bins: TableLike,
    protocol: ProtocolLike = "formalin",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Phase I and phase II totals per animal x timepoint.

    Returns
    -------
    pandas.DataFrame
        ``animal``, ``group`` (when known), ``timepoint``, ``n_bins`` (used bins),
        ``phase1_<m>``, ``interphase_<m>``, ``phase2_<m>``, ``total_<m>`` (sums over
        the bins; ``<m>`` is ``licking_s`` or ``flinches``; a phase with a missing or
        invalid bin is empty), ``status`` (``ok`` or ``incomplete_phase1``,
        ``incomplete_phase2``, ``excluded``), ``message``, ``protocol``.

    Raises
    ------
    InputError
        Missing column, bin start off the grid or straddling a phase boundary, a
        licking time above the bin width, negative or non-integer counts, duplicate bins.
    """
    data, proto, p1, p2 = _read_bins(bins, protocol, animals, overrides)
    m = proto["measure"]
    width = float(proto["bin_min"])
    excluded = excluded_animals(data.attrs["animals"])
    rows = []
    n_expected = {
        "phase1": round((p1[1] - p1[0]) / width),
        "phase2": round((p2[1] - p2[0]) / width),
    }
    for (animal, tp), sub in data.groupby(["animal", "timepoint"], sort=False):
        used = sub[sub["used"].to_numpy(bool)]
        s, v = used["bin_start_min"].to_numpy(float), used[m].to_numpy(float)
        flags, msgs, row = [], [], {"animal": animal, "timepoint": tp, "n_bins": len(used)}
        for name, (lo, hi) in (("phase1", p1), ("interphase", (p1[1], p2[0])), ("phase2", p2)):
            sel = (s >= lo) & (s + width <= hi)
            total = float(v[sel].sum())
            if name in n_expected and int(sel.sum()) != n_expected[name]:
                flags.append(f"incomplete_{name}")
                msgs.append(
                    f"{int(sel.sum())} of {n_expected[name]} bins recorded in {name} "
                    f"({lo:g}-{hi:g} min)"
                )
                total = np.nan
            row[f"{name}_{m}"] = total
        row[f"total_{m}"] = float(v.sum())
        if animal in excluded:
            flags.append("excluded")
            msgs.append("animal excluded" + (f": {excluded[animal]}" if excluded[animal] else ""))
            for name in ("phase1", "interphase", "phase2", "total"):
                row[f"{name}_{m}"] = np.nan
        row.update(
            status=";".join(flags) if flags else "ok",
            message="; ".join(msgs),
            protocol=proto.label,
        )
        rows.append(row)
    out = pd.DataFrame(rows)
    animals_df = data.attrs["animals"]
    ids = ["animal"]
    if animals_df is not None:
        out = out.merge(animals_df[["animal", "group"]], on="animal", how="left")
        ids.append("group")
    elif "group" in data.columns:
        out["group"] = out["animal"].map(_animal_groups(data))
        ids.append("group")
    rest = [c for c in out.columns if c not in ids]
    return out[[*ids, *rest]]
