"""Rotarod: latency to fall, the trial duration as the cut-off (right-censoring).

An animal that is still on the rod when the trial ends has a latency of at least the
trial duration: it is censored, not a fall (Dunham & Miya 1957; Jones & Roberts 1968
for the accelerating rod).  In an analgesic study the rotarod rules out motor
impairment or sedation as the reason a drug raises withdrawal thresholds
(:func:`nplab.behaviour.sedation.sedation_check`).

Input columns: ``animal``, ``timepoint``, ``trial``, ``latency_s`` (to fall); optional
``cutoff_reached`` (true: stayed on until the end), ``valid`` (false e.g. for a passive
rotation), ``note``, ``group``.  Output: the columns of
:func:`nplab.hargreaves.summarise` (``paw = "whole"``) plus ``speed_at_fall_rpm``: the
rod speed at the averaged latency (accelerating: start_rpm + (end_rpm - start_rpm) x
min(latency, ramp_s)/ramp_s; fixed: fixed_rpm).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nplab.behaviour.engine import TableLike, km_latency, summarise_latency
from nplab.behaviour.latency import ProtocolLike
from nplab.errors import ProtocolError
from nplab.protocols import load_protocol

__all__ = ["rotarod", "rotarod_km", "speed_at"]


def speed_at(latency_s: np.ndarray | float, proto: Any) -> np.ndarray:
    """Rod speed (rpm) at ``latency_s`` under the protocol's speed profile."""
    t = np.asarray(latency_s, dtype=float)
    if proto["mode"] == "fixed":
        if proto["fixed_rpm"] is None:
            raise ProtocolError(
                "fixed-speed rotarod needs fixed_rpm", file=proto.path, column="fixed_rpm"
            )
        return np.where(np.isnan(t), np.nan, float(proto["fixed_rpm"]))
    frac = np.clip(t / float(proto["ramp_s"]), 0.0, 1.0)
    return proto["start_rpm"] + (proto["end_rpm"] - proto["start_rpm"]) * frac


def rotarod(
    trials: TableLike,
    protocol: ProtocolLike = "rotarod",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Rotarod latency to fall per animal x timepoint, with the rod speed at the fall.

    References
    ----------
    Dunham NW, Miya TS (1957) J Am Pharm Assoc 46:208-209.
    Jones BJ, Roberts DJ (1968) J Pharm Pharmacol 20:302-304.
    """
    proto = load_protocol(protocol, kind="rotarod", **overrides)
    out = summarise_latency(trials, proto, animals, kind="rotarod", paws=False)
    out.insert(
        out.columns.get_loc("status"), "speed_at_fall_rpm", speed_at(out["latency_s"], proto)
    )
    return out


def rotarod_km(
    trials: TableLike,
    protocol: ProtocolLike = "rotarod",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Kaplan-Meier median latency to fall per group x timepoint."""
    return km_latency(trials, protocol, animals, kind="rotarod", paws=False, **overrides)
