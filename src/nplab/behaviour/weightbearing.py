"""Static weight bearing (incapacitance): % of body weight on the ipsilateral paw.

The animal stands with each hind paw on its own force plate; the weight on each is
averaged over a few seconds per reading, and a few readings are taken per time point
(Schött et al. 1994; Bove et al. 2003).  Per reading, the ipsilateral share is
ipsi / (ipsi + contra) x 100 (50 % = even); nplab averages the per-reading shares (and
the grams) over the used readings.

Input columns: ``animal``, ``timepoint``, ``trial`` (reading), and either ``ipsi_g`` and
``contra_g`` or ``left_g`` and ``right_g`` (then an animals table with
``injured_side``); optional ``valid``, ``note``, ``group``.

References
----------
Schött E, Berge OG, Ängeby-Möller K, Hammarström G, Dalsgaard CJ, Brodin E (1994)
Weight bearing as an objective measure of arthritic pain in the rat. J Pharmacol
Toxicol Methods 31:79-83.
Bove SE, Calcaterra SL, Brooker RM, et al. (2003) Weight bearing as a measure of disease
progression and efficacy of anti-inflammatory compounds in a model of monosodium
iodoacetate-induced osteoarthritis. Osteoarthritis Cartilage 11:821-830.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nplab.animals import read_animals
from nplab.behaviour.engine import (
    Measure,
    TableLike,
    _raw_table,
    read_value_trials,
    summarise_values,
)
from nplab.behaviour.latency import ProtocolLike
from nplab.checks import raise_first_bad
from nplab.errors import InputError, row_number
from nplab.protocols import Protocol, load_protocol

__all__ = ["IPSI", "weight_bearing"]

IPSI = Measure("ipsi_g", "g", 0.0, None, paws=False)


def _aggregate(rows: dict[str, np.ndarray], proto: Protocol) -> dict[str, float]:
    ipsi = np.asarray(rows["ipsi_g"], dtype=float)
    contra = np.asarray(rows["contra_g"], dtype=float)
    n = ipsi.size
    pct = 100.0 * ipsi / (ipsi + contra)
    avg = np.median if proto["average"] == "median" else np.mean
    return {
        "ipsi_g": float(avg(ipsi)) if n else np.nan,
        "contra_g": float(avg(contra)) if n else np.nan,
        "ipsi_minus_contra_g": float(avg(ipsi - contra)) if n else np.nan,
        "sd_ipsi_pct": float(np.std(pct, ddof=1)) if n > 1 else np.nan,
        "ipsi_pct": float(avg(pct)) if n else np.nan,
    }


def _to_ipsi_contra(df: pd.DataFrame, src: Any, animals: TableLike | None) -> pd.DataFrame:
    if {"ipsi_g", "contra_g"} <= set(df.columns):
        return df
    if not {"left_g", "right_g"} <= set(df.columns):
        missing = "ipsi_g" if "ipsi_g" not in df.columns else "contra_g"
        raise InputError(
            "required column is missing",
            file=src,
            column=missing,
            expected="ipsi_g and contra_g, or left_g and right_g with an animals table",
        )
    if animals is None:
        raise InputError(
            "left_g/right_g need an animals table with injured_side",
            file=src,
            column="left_g",
            expected="ipsi_g/contra_g columns, or --animals",
        )
    a = read_animals(animals)
    side = (
        df["animal"]
        .astype(str)
        .str.strip()
        .map(dict(zip(a["animal"], a["injured_side"], strict=False)))
    )
    bad = ~side.isin(["left", "right"])
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"animal {df['animal'].iloc[i]!r} has no injured side in the animals table",
            file=src,
            row=row_number(i),
            column="animal",
            expected="injured_side left or right",
        )
    left = side.to_numpy() == "left"
    out = df.copy()
    out["ipsi_g"] = np.where(left, df["left_g"], df["right_g"])
    out["contra_g"] = np.where(left, df["right_g"], df["left_g"])
    return out


def weight_bearing(
    trials: TableLike,
    protocol: ProtocolLike = "weight-bearing",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """% weight on the ipsilateral hind paw per animal x timepoint (``paw = "whole"``).

    Returns
    -------
    pandas.DataFrame
        Id columns, ``paw``, ``timepoint``, ``n_trials``, ``n_valid``, ``n_outliers``,
        ``n_at_cutoff``, ``ipsi_g``, ``contra_g``, ``ipsi_minus_contra_g``,
        ``sd_ipsi_pct``, ``ipsi_pct`` (averaging rule over the readings' shares;
        empty for ``too_few_valid``/``excluded``), ``status``, ``message``,
        ``protocol``.

    Raises
    ------
    InputError
        Missing columns, a reading with no weight on either paw, bad values.
    """
    proto = load_protocol(protocol, kind="weight-bearing", **overrides)
    df, src = _raw_table(trials)
    df = _to_ipsi_contra(df, src, animals)
    df.attrs["source"] = src
    data = read_value_trials(
        df, proto, IPSI, animals, kind="weight-bearing", extra_columns=("contra_g",)
    )
    total = data["ipsi_g"].to_numpy(float) + data["contra_g"].to_numpy(float)
    raise_first_bad(
        total == 0,
        "no weight on either paw",
        file=src,
        column="ipsi_g",
        expected="ipsi_g + contra_g > 0",
    )
    return summarise_values(data, IPSI, _aggregate, value_column="ipsi_pct")
