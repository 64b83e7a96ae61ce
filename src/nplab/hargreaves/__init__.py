"""Hargreaves plantar test: thermal withdrawal latencies with cut-off censoring.

Radiant heat is focused on the plantar surface of a hind paw and the latency to
withdrawal is recorded; a cut-off stops the trial to avoid tissue damage (Hargreaves
et al. 1988).  A trial that reaches the cut-off is right-censored: the true latency is
at least the cut-off.  nplab reports what papers report (the mean of trials with
cut-off trials entered at the cut-off) and flags it, and beside it a censoring-aware
estimate (censored-normal / Tobit model on log latency, :mod:`.censored`).

Public API
----------
:func:`summarise`
    Per animal x paw x timepoint summary (the entry point used by the study runner).
:func:`read_trials`
    Read and validate a trial-level table.
:func:`km_medians`
    Group-level Kaplan-Meier median latency per group x paw x timepoint.
:func:`paw_differences`
    ipsi - contra and ipsi / contra per animal x timepoint.
:func:`plot_timecourse`
    Mean +/- SEM time course per group, ipsi and contra.
:func:`tobit_fit`, :func:`km_median`
    The two estimators on plain arrays.

References
----------
Hargreaves K, Dubner R, Brown F, Flores C, Joris J (1988) A new and sensitive method for
measuring thermal nociception in cutaneous hyperalgesia. Pain 32:77-88.
Tobin J (1958) Estimation of relationships for limited dependent variables.
Econometrica 26:24-36.
Kaplan EL, Meier P (1958) Nonparametric estimation from incomplete observations.
J Am Stat Assoc 53:457-481.
"""

from __future__ import annotations

from nplab.protocols import Param

_SCHEMA = {
    "injury_margin_pct": Param(
        "float", default=20.0, min=0, max=100, unit="%",
        doc="%MPE and % reversal are undefined (flagged, left out of group means) for an "
        "animal x paw whose pre-dose value is not below its baseline by this percentage",
    ),
    "species": Param("str", default="rat", choices=("rat", "mouse"), doc="species tested"),
    "cutoff_s": Param(
        "float",
        default=20.0,
        min=1.0,
        max=120.0,
        unit="s",
        doc="cut-off time; a trial reaching it is right-censored",
    ),
    "cutoff_tolerance_s": Param(
        "float",
        default=0.0,
        min=0.0,
        max=1.0,
        unit="s",
        doc="latencies >= cutoff_s - tolerance count as at the cut-off (device rounding)",
    ),
    "trials_per_paw": Param(
        "int",
        default=3,
        min=1,
        max=20,
        doc="expected valid trials per paw per time point (other counts are flagged)",
    ),
    "min_intertrial_interval_s": Param(
        "float",
        default=None,
        min=0.0,
        unit="s",
        doc="minimum interval between trials on the same paw, checked when a time column "
        "(time_s or time) is recorded; shorter intervals are flagged",
    ),
    "discard_first_trial": Param(
        "bool", default=False, doc="drop the first trial (lowest trial number) as habituation"
    ),
    "min_valid_trials": Param(
        "int",
        default=2,
        min=1,
        max=20,
        doc="fewer valid trials than this: the time point is flagged and latency_s is empty",
    ),
    "baseline_timepoint": Param(
        "str", default="baseline", doc="timepoint label of the pre-injury baseline"
    ),
    "baseline_window_s": Param(
        "list",
        item="float",
        default=None,
        min=0.0,
        unit="s",
        doc="[low, high] acceptance window of baseline latency_s; outside it is flagged",
    ),
    "average": Param(
        "str",
        default="mean",
        choices=("mean", "median", "mean_last_n"),
        doc="rule giving latency_s from the valid trials",
    ),
    "average_last_n": Param(
        "int", default=3, min=1, max=20, doc="n of the mean_last_n rule (last n valid trials)"
    ),
    "km_variance": Param(
        "str",
        default="cluster",
        choices=("cluster", "greenwood"),
        doc="variance of the Kaplan-Meier curve: robust with trials clustered within "
        "animals (R survfit cluster = animal) or Greenwood (trials independent)",
    ),
    "ci_level": Param(
        "float",
        default=0.95,
        min=0.5,
        max=0.999,
        doc="confidence level of the Tobit and Kaplan-Meier intervals",
    ),
}

PROTOCOL_SCHEMAS = {"hargreaves": _SCHEMA}

from nplab.hargreaves.censored import km_median, tobit_fit  # noqa: E402
from nplab.hargreaves.plot import plot_timecourse  # noqa: E402
from nplab.hargreaves.summary import km_medians, paw_differences, summarise  # noqa: E402
from nplab.hargreaves.trials import read_trials  # noqa: E402

__all__ = [
    "PROTOCOL_SCHEMAS",
    "km_median",
    "km_medians",
    "paw_differences",
    "plot_timecourse",
    "read_trials",
    "summarise",
    "tobit_fit",
]
