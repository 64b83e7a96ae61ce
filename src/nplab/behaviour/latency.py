"""Latency tests with a cut-off: hot plate, tail flick (and the shared entry point).

Hot plate (Woolfe & MacDonald 1944; Eddy & Leimbach 1953): the animal is placed on a
plate held at 50-55 degC and the latency to the first nocifensive response (hind-paw
lick, shake or jump) is timed; a cut-off (30-60 s) prevents tissue damage.  Tail flick
(D'Amour & Smith 1941; Janssen et al. 1963 for warm-water immersion): latency to flick
the tail out of a radiant heat beam or 48-55 degC water, cut-off about 10 s.  Both are
whole-animal measures: the trial table needs no ``paw`` column.

Input columns: ``animal``, ``timepoint``, ``trial``, ``latency_s``; optional ``paw``
(``whole``), ``cutoff_reached``, ``valid``, ``note``, ``group``, ``time_s``/``time``
(see :func:`nplab.hargreaves.read_trials`).  A trial that reached the cut-off is
right-censored: counted (``n_at_cutoff``), flagged, and handled by the censored-normal
(Tobit) latency and the group Kaplan-Meier median.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from nplab.behaviour.engine import TableLike, km_latency, summarise_latency
from nplab.protocols import Protocol

__all__ = ["hot_plate", "hot_plate_km", "tail_flick", "tail_flick_km"]

ProtocolLike = str | os.PathLike[str] | Protocol


def hot_plate(
    trials: TableLike,
    protocol: ProtocolLike = "hot-plate",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Hot-plate latency per animal x timepoint (``paw = "whole"``).

    Returns the columns of :func:`nplab.hargreaves.summarise`: ``n_trials``,
    ``n_valid``, ``n_at_cutoff``, ``censored``, ``mean_latency_s``, ``median_latency_s``,
    ``sd_latency_s``, ``latency_s`` (averaging rule), the Tobit columns, ``status``,
    ``message``, ``protocol``.

    References
    ----------
    Eddy NB, Leimbach D (1953) J Pharmacol Exp Ther 107:385-393.
    """
    return summarise_latency(trials, protocol, animals, kind="hot-plate", paws=False, **overrides)


def hot_plate_km(
    trials: TableLike,
    protocol: ProtocolLike = "hot-plate",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Kaplan-Meier median hot-plate latency per group x timepoint."""
    return km_latency(trials, protocol, animals, kind="hot-plate", paws=False, **overrides)


def tail_flick(
    trials: TableLike,
    protocol: ProtocolLike = "tail-flick",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Tail-flick latency per animal x timepoint (columns as :func:`hot_plate`).

    References
    ----------
    D'Amour FE, Smith DL (1941) J Pharmacol Exp Ther 72:74-79.
    """
    return summarise_latency(trials, protocol, animals, kind="tail-flick", paws=False, **overrides)


def tail_flick_km(
    trials: TableLike,
    protocol: ProtocolLike = "tail-flick",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Kaplan-Meier median tail-flick latency per group x timepoint."""
    return km_latency(trials, protocol, animals, kind="tail-flick", paws=False, **overrides)
