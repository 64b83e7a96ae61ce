"""Cold plate: latency to the first paw lift, or the number of lifts in a period.

The animal is placed on a plate held at a cold temperature (e.g. 4 degC for
cold allodynia in nerve-injured rats; 0 to -5 degC for mice) (Jasmin et al. 1998).  The
protocol's ``measure`` selects the read-out:

``latency``
    latency to the first nocifensive paw lift (``latency_s``), the cut-off as
    right-censoring, summarised as hot plate (:func:`nplab.behaviour.latency.hot_plate`).
``lifts``
    the number of paw lifts counted during ``period_s`` (``lifts`` column, whole
    numbers), summarised by the value engine (mean or median over trials).

Whole-animal test: no ``paw`` column is needed.

References
----------
Jasmin L, Kohan L, Franssen M, Janni G, Goff JR (1998) The cold plate as a test of
nociceptive behaviors: description and application to the study of chronic
neuropathic and inflammatory pain models. Pain 75:367-382.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab.behaviour.engine import (
    Measure,
    TableLike,
    read_value_trials,
    summarise_latency,
    summarise_values,
)
from nplab.behaviour.latency import ProtocolLike
from nplab.errors import ProtocolError
from nplab.protocols import load_protocol

__all__ = ["LIFTS", "cold_plate"]

LIFTS = Measure("lifts", "lift count", 0.0, None, integer=True, paws=False)


def cold_plate(
    trials: TableLike,
    protocol: ProtocolLike = "cold-plate",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Cold-plate read-out per animal x timepoint (``paw = "whole"``).

    Returns
    -------
    pandas.DataFrame
        ``measure = "latency"``: the columns of :func:`nplab.hargreaves.summarise`
        (``latency_s``, ``n_at_cutoff``, Tobit latency ...).  ``measure = "lifts"``:
        ``n_trials``, ``n_valid``, ``n_outliers``, ``n_at_cutoff`` (0), ``mean_lifts``,
        ``median_lifts``, ``sd_lifts``, ``lifts`` (averaging rule), ``status``,
        ``message``, ``protocol``.
    """
    proto = load_protocol(protocol, kind="cold-plate", **overrides)
    if proto["measure"] == "latency":
        return summarise_latency(trials, proto, animals, kind="cold-plate", paws=False)
    if proto["period_s"] is None:
        raise ProtocolError(
            "the lifts measure needs the counting period",
            file=proto.path,
            column="period_s",
            expected="period_s in seconds",
        )
    data = read_value_trials(trials, proto, LIFTS, animals, kind="cold-plate")
    return summarise_values(data, LIFTS)
