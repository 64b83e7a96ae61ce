"""Open field: distance travelled per animal x time point (locomotor activity).

The animal explores a square arena for a fixed session while a video tracker
(EthoVision, ANY-maze, ...) records the path; the distance travelled is the usual
measure of locomotor activity, and a drop in it beside an "analgesic" effect points to
sedation or motor impairment rather than analgesia (Prut & Belzung 2003; Mogil 2009;
:func:`nplab.behaviour.sedation_check`).  One session per time point is usual; repeated
sessions (``trial``) are averaged by the protocol's rule.

Input columns: ``animal``, ``timepoint``, and ``distance_m`` (metres) or
``distance_cm`` (centimetres, as EthoVision exports; converted to metres); optional
``trial`` (default 1), ``valid``, ``note``, ``group``.  Output: the value-engine
columns of :func:`nplab.behaviour.engine.summarise_values` (``paw = "whole"``,
``mean_distance_m``, ``median_distance_m``, ``sd_distance_m``, ``distance_m``) plus
``speed_cm_s`` = 100 x ``distance_m`` / ``session_s`` (mean speed over the session).

References
----------
Prut L, Belzung C (2003) The open field as a paradigm to measure the effects of drugs
on anxiety-like behaviors: a review. Eur J Pharmacol 463:3-33.
Mogil JS (2009) Animal models of pain: progress and challenges. Nat Rev Neurosci
10:283-294.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab.behaviour.engine import (
    Measure,
    TableLike,
    _raw_table,
    read_value_trials,
    summarise_values,
)
from nplab.behaviour.latency import ProtocolLike
from nplab.errors import InputError
from nplab.protocols import load_protocol
from nplab.tables import to_numeric_column

__all__ = ["DISTANCE", "open_field"]

DISTANCE = Measure("distance_m", "m", 0.0, None, paws=False)


def open_field(
    sessions: TableLike,
    protocol: ProtocolLike = "open-field",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Distance travelled (m) per animal x timepoint in the open field.

    Parameters
    ----------
    sessions
        CSV/XLSX path or DataFrame, one row per session (columns in the module
        docstring).
    protocol
        Protocol name, path or loaded protocol of kind ``open-field``; ``overrides``
        replace its parameters.
    animals
        Optional animals table (groups, exclusions).

    Returns
    -------
    pandas.DataFrame
        ``animal``, ``group`` (when known), ``paw`` (``whole``), ``timepoint``,
        ``n_trials``, ``n_valid``, ``n_outliers``, ``n_at_cutoff`` (0), ``mean_distance_m``,
        ``median_distance_m``, ``sd_distance_m``, ``distance_m`` (averaging rule),
        ``speed_cm_s``, ``status``, ``message``, ``protocol``.

    Raises
    ------
    InputError
        Missing columns, both ``distance_m`` and ``distance_cm``, a negative or blank
        distance on a valid session, unknown animal, duplicate session.
    """
    proto = load_protocol(protocol, kind="open-field", **overrides)
    df, src = _raw_table(sessions)
    if {"distance_m", "distance_cm"} <= set(df.columns):
        raise InputError(
            "the table has both distance_m and distance_cm",
            file=src,
            column="distance_cm",
            expected="one distance column: distance_m (m) or distance_cm (cm)",
        )
    if "distance_cm" in df.columns:
        cm = to_numeric_column(
            df, "distance_cm", file=src, allow_missing=True, expected="a distance in cm >= 0"
        )
        df = df.drop(columns="distance_cm").assign(distance_m=cm / 100.0)
    if "trial" not in df.columns:
        df["trial"] = 1
    df.attrs["source"] = src
    data = read_value_trials(df, proto, DISTANCE, animals, kind="open-field")
    out = summarise_values(data, DISTANCE)
    out.insert(
        out.columns.get_loc("status"), "speed_cm_s", 100.0 * out["distance_m"] / proto["session_s"]
    )
    return out
