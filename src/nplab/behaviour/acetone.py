"""Acetone drop test of cold allodynia: a score per application, summed, averaged, %.

A drop of acetone is applied to the plantar surface of the hind paw (Choi et al. 1994)
and the response is scored per application on the 4-point scale of Flatters & Bennett
(2004): 0 no response; 1 quick withdrawal, flick or stamp of the paw; 2 prolonged
withdrawal or repeated flicking; 3 repeated flicking with licking of the paw.  The
scores are summed over the applications (0-9 for 3 applications) or averaged; the %
response frequency (applications with any response, score > 0, x 100 / applications) is
Choi et al.'s original measure.  ``max_score`` sets the top of the scale for labs using
a 0-2 or 0-4 scale.

Input columns: ``animal``, ``paw``, ``timepoint``, ``trial`` (application 1, 2, ...),
``score`` (whole number 0..max_score); optional ``valid``, ``note``, ``group``.

References
----------
Choi Y, Yoon YW, Na HS, Kim SH, Chung JM (1994) Behavioral signs of ongoing pain and
cold allodynia in a rat model of neuropathic pain. Pain 59:369-376.
Flatters SJL, Bennett GJ (2004) Ethosuximide reverses paclitaxel- and
vincristine-induced painful peripheral neuropathy. Pain 109:150-161.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nplab.behaviour.engine import Measure, TableLike, read_value_trials, summarise_values
from nplab.behaviour.latency import ProtocolLike
from nplab.protocols import Protocol, load_protocol

__all__ = ["acetone"]


def _aggregate(rows: dict[str, np.ndarray], proto: Protocol) -> dict[str, float]:
    s = np.asarray(rows["score"], dtype=float)
    n = s.size
    total = float(s.sum()) if n else np.nan
    mean = float(s.mean()) if n else np.nan
    responses = int((s > 0).sum())
    pct = 100.0 * responses / n if n else np.nan
    value = {"sum": total, "mean": mean, "frequency": pct}[proto["aggregate"]]
    return {
        "score_sum": total,
        "score_mean": mean,
        "n_responses": responses,
        "response_pct": pct,
        "acetone_value": value,
    }


def acetone(
    trials: TableLike,
    protocol: ProtocolLike = "acetone",
    animals: TableLike | None = None,
    **overrides: Any,
) -> pd.DataFrame:
    """Acetone scores per animal x paw x timepoint.

    Returns
    -------
    pandas.DataFrame
        Id columns, ``paw``, ``timepoint``, ``n_trials``, ``n_valid`` (applications
        used), ``n_outliers``, ``n_at_cutoff`` (0), ``score_sum``, ``score_mean``,
        ``n_responses`` (applications with score > 0), ``response_pct`` (% response
        frequency), ``acetone_value`` (the protocol's ``aggregate``: sum, mean or
        frequency; empty for ``too_few_valid``/``excluded``), ``status``, ``message``,
        ``protocol``.  A sum over fewer applications than ``trials_per_paw`` is flagged
        ``trial_count`` (sums are only comparable over equal numbers of applications).
    """
    proto = load_protocol(protocol, kind="acetone", **overrides)
    measure = Measure("score", "score", 0.0, float(proto["max_score"]), integer=True)
    data = read_value_trials(trials, proto, measure, animals, kind="acetone")
    return summarise_values(data, measure, _aggregate, value_column="acetone_value")
