"""Drug-study endpoints of the behavioural tests through :mod:`nplab.stats.endpoints`.

%MPE uses the protocol's cut-off (``cutoff_s`` of the latency tests, ``cutoff`` of the
paw-pressure tests; none for scores, counts and weight shares, whose %MPE is left out);
% reversal, AUC and ipsi - contra are computed as for von Frey and Hargreaves.
"""

from __future__ import annotations

import os
from typing import Any

import pandas as pd

from nplab.errors import InputError
from nplab.protocols import Protocol, load_protocol
from nplab.stats.endpoints import endpoints

__all__ = ["VALUE_COLUMNS", "behaviour_endpoints"]

#: The per animal x paw x timepoint value each test's summary reports.
VALUE_COLUMNS = {
    "hot-plate": "latency_s",
    "tail-flick": "latency_s",
    "rotarod": "latency_s",
    "cold-plate": "latency_s",  # "lifts" for measure = "lifts"
    "acetone": "acetone_value",
    "randall-selitto": "force_g",
    "electronic-vonfrey": "force_g",
    "weight-bearing": "ipsi_pct",
}


def behaviour_endpoints(
    summary: pd.DataFrame,
    protocol: str | os.PathLike[str] | Protocol,
    *,
    baseline: Any,
    predose: Any,
    value: str | None = None,
) -> pd.DataFrame:
    """Endpoints (value, change, %MPE, % reversal, AUC, ipsi - contra) of a summary.

    Parameters
    ----------
    summary
        Output of one of the test functions (e.g. :func:`nplab.behaviour.hot_plate`).
    protocol
        The protocol it was summarised with (gives the test and the cut-off).
    baseline, predose
        Timepoint labels of the pre-injury baseline and the pre-dose measurement;
        post-dose timepoints must be hours (numbers).
    value
        Column to analyse (default: the test's, :data:`VALUE_COLUMNS`).

    Returns
    -------
    pandas.DataFrame
        As :func:`nplab.stats.endpoints.endpoints` (``animal``, ``group``, ``paw`` for
        per-paw tests, ``time``, ``time_h``, ``endpoint``, ``value``, ``scale`` =
        linear, ``flag``).
    """
    proto = load_protocol(protocol)
    if proto.kind not in VALUE_COLUMNS:
        raise InputError(
            f"no endpoints for a '{proto.kind}' protocol",
            expected=f"one of {', '.join(VALUE_COLUMNS)} (formalin: use the phase totals)",
        )
    dv = value or VALUE_COLUMNS[proto.kind]
    if proto.kind == "cold-plate" and proto["measure"] == "lifts" and value is None:
        dv = "lifts"
    cutoff = proto.params.get("cutoff_s") if dv == "latency_s" else proto.params.get("cutoff")
    per_paw = "paw" in summary.columns and set(summary["paw"]) != {"whole"}
    return endpoints(
        summary,
        dv=dv,
        subject="animal",
        time="timepoint",
        baseline=baseline,
        predose=predose,
        cutoff=cutoff,
        paw="paw" if per_paw else None,
        log10=False,
        group="group" if "group" in summary.columns else None,
    )
