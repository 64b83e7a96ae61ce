"""Protocol parameter schemas of the behavioural tests in :mod:`nplab.behaviour`.

Latency tests with a cut-off (hot plate, tail flick, cold plate latency, rotarod) share
the Hargreaves schema (cut-off as right-censoring, trials, averaging rule, Tobit and
Kaplan-Meier settings) with test-specific defaults and a few extra keys.  Tests that
measure a score, count, force or weight share :data:`VALUE_SCHEMA`.
"""

from __future__ import annotations

from dataclasses import replace

from nplab.hargreaves import PROTOCOL_SCHEMAS as _HARGREAVES
from nplab.protocols import Param

__all__ = ["PROTOCOL_SCHEMAS", "VALUE_SCHEMA"]


def _latency(cutoff: float, trials: int, min_valid: int, **extra: Param) -> dict[str, Param]:
    base = dict(_HARGREAVES["hargreaves"])
    base["cutoff_s"] = replace(base["cutoff_s"], default=cutoff, max=3600.0)
    base["trials_per_paw"] = replace(
        base["trials_per_paw"],
        default=trials,
        doc="expected valid trials per paw (per animal for whole-animal tests) per time point",
    )
    base["min_valid_trials"] = replace(base["min_valid_trials"], default=min_valid)
    base["min_intertrial_interval_s"] = replace(base["min_intertrial_interval_s"], default=None)
    base["species"] = replace(base["species"], default="mouse")
    base.update(extra)
    return base


#: Keys of the trial-value tests (score, count, force, weight), read by
#: :func:`nplab.behaviour.engine.summarise_values`.
VALUE_SCHEMA: dict[str, Param] = {
    "injury_margin_pct": replace(_HARGREAVES["hargreaves"]["injury_margin_pct"]),
    "species": Param("str", default="rat", choices=("rat", "mouse"), doc="species tested"),
    "trials_per_paw": Param(
        "int",
        default=3,
        min=1,
        max=50,
        doc="expected valid trials (applications, readings) per paw per time point; "
        "other counts are flagged trial_count",
    ),
    "min_valid_trials": Param(
        "int",
        default=1,
        min=1,
        max=50,
        doc="fewer valid trials (after outliers) than this: flagged too_few_valid, value empty",
    ),
    "discard_first_trial": Param(
        "bool", default=False, doc="drop the first trial (lowest trial number) as habituation"
    ),
    "baseline_timepoint": Param(
        "str", default="baseline", doc="timepoint label of the pre-injury baseline"
    ),
    "baseline_window": Param(
        "list",
        item="float",
        default=None,
        doc="[low, high] acceptance window of the baseline value; outside it is flagged",
    ),
    "average": Param(
        "str",
        default="mean",
        choices=("mean", "median"),
        doc="rule giving the per animal x paw x timepoint value from the used trials",
    ),
    "outlier_rule": Param(
        "str",
        default="none",
        choices=("none", "median_deviation", "drop_extremes"),
        doc="none; median_deviation: a trial further than outlier_fraction x median from "
        "the median of its animal x paw x timepoint is dropped; drop_extremes: the highest "
        "and lowest trials are dropped when at least 4 are valid",
    ),
    "outlier_fraction": Param(
        "float",
        default=0.2,
        min=0.0,
        max=10.0,
        doc="relative deviation from the median beyond which a trial is an outlier",
    ),
    "cutoff": Param(
        "float",
        default=None,
        min=0.0,
        doc="maximum stimulus (force cut-off) in the value's unit; a trial at it is "
        "right-censored: counted and flagged, and used by %MPE",
    ),
}

_TEMP = Param("float", default=None, min=-30.0, max=70.0, unit="degC", doc="plate/bath temperature")

_COLD_PLATE = {
    **_latency(30.0, 1, 1, plate_temperature_c=_TEMP),
    "measure": Param(
        "str",
        default="latency",
        choices=("latency", "lifts"),
        doc="latency: latency to the first paw lift (latency_s, cut-off censored); "
        "lifts: number of paw lifts (lifts column) counted during period_s",
    ),
    "period_s": Param(
        "float", default=None, min=1.0, unit="s", doc="counting period of the lifts measure"
    ),
    "average": Param(
        "str",
        default="mean",
        choices=("mean", "median", "mean_last_n"),
        doc="rule giving the value from the valid trials",
    ),
    "outlier_rule": VALUE_SCHEMA["outlier_rule"],
    "outlier_fraction": VALUE_SCHEMA["outlier_fraction"],
    "baseline_window": VALUE_SCHEMA["baseline_window"],
}

_ROTAROD = _latency(
    300.0,
    3,
    1,
    mode=Param(
        "str",
        default="accelerating",
        choices=("accelerating", "fixed"),
        doc="accelerating (speed ramps start_rpm -> end_rpm over ramp_s) or fixed speed",
    ),
    start_rpm=Param("float", default=4.0, min=0.0, max=100.0, unit="rpm", doc="start speed"),
    end_rpm=Param("float", default=40.0, min=0.0, max=100.0, unit="rpm", doc="end speed"),
    ramp_s=Param("float", default=300.0, min=1.0, unit="s", doc="duration of the ramp"),
    fixed_rpm=Param("float", default=None, min=0.0, max=100.0, unit="rpm", doc="fixed speed"),
)

_ACETONE = {
    **VALUE_SCHEMA,
    "injury_margin_pct": replace(
        VALUE_SCHEMA["injury_margin_pct"],
        default=None,
        doc="not used by default: acetone scores rise with injury, so the 'pre-dose below "
        "baseline' rule of the latency and force tests does not apply",
    ),
    "trials_per_paw": replace(VALUE_SCHEMA["trials_per_paw"], default=3),
    "max_score": Param("int", default=3, min=1, max=10, doc="highest score of the scale"),
    "aggregate": Param(
        "str",
        default="sum",
        choices=("sum", "mean", "frequency"),
        doc="value reported in acetone_value: score sum, mean score per application or "
        "% response frequency",
    ),
}

_FORMALIN = {
    "species": VALUE_SCHEMA["species"],
    "measure": Param(
        "str",
        default="licking_s",
        choices=("licking_s", "flinches"),
        doc="column holding the per-bin measure: time licking/biting (s) or flinch count",
    ),
    "bin_min": Param("float", default=5.0, min=0.1, max=60.0, unit="min", doc="bin width"),
    "phase1_min": Param(
        "list", item="float", default=[0.0, 10.0], min=0.0, unit="min", doc="phase I [start, end)"
    ),
    "phase2_min": Param(
        "list",
        item="float",
        default=[15.0, 60.0],
        min=0.0,
        unit="min",
        doc="phase II [start, end)",
    ),
}

_OPEN_FIELD = {
    **VALUE_SCHEMA,
    "injury_margin_pct": _ACETONE["injury_margin_pct"],
    "trials_per_paw": replace(
        VALUE_SCHEMA["trials_per_paw"], default=1, doc="expected valid sessions per time point"
    ),
    "arena_cm": Param("float", default=None, min=1.0, unit="cm", doc="side of the square arena"),
    "session_s": Param(
        "float", default=600.0, min=1.0, unit="s", doc="session length (gives speed_cm_s)"
    ),
    "light_lux": Param("float", default=None, min=0.0, unit="lx", doc="illumination of the arena"),
}

_VONFREY_PERCENT = {
    "injury_margin_pct": replace(VALUE_SCHEMA["injury_margin_pct"]),
    "species": VALUE_SCHEMA["species"],
    "applications": Param(
        "int", default=10, min=1, max=100, doc="applications of each filament (documentation)"
    ),
    "link": Param(
        "str",
        default="logit",
        choices=("logit", "probit"),
        doc="link of the psychometric fit of the withdrawals on log10 force",
    ),
    "ci_level": Param(
        "float", default=0.95, min=0.5, max=0.999, doc="level of the threshold's interval"
    ),
    "mpe_cutoff_g": Param(
        "float",
        default=None,
        min=0.0,
        unit="g",
        doc="%MPE cut-off; default: the strongest filament applied in the data",
    ),
}

#: Schemas per protocol kind (the loader imports them through nplab.protocols).
PROTOCOL_SCHEMAS: dict[str, dict[str, Param]] = {
    "hot-plate": _latency(
        30.0,
        1,
        1,
        plate_temperature_c=_TEMP,
        response=Param(
            "str",
            default="first_response",
            choices=("first_response", "lick", "jump"),
            doc="nocifensive behaviour that stops the timer",
        ),
    ),
    "tail-flick": _latency(
        10.0,
        3,
        2,
        stimulus=Param(
            "str",
            default="radiant",
            choices=("radiant", "immersion"),
            doc="radiant heat or warm-water immersion",
        ),
        water_temperature_c=_TEMP,
    ),
    "cold-plate": _COLD_PLATE,
    "rotarod": _ROTAROD,
    "acetone": _ACETONE,
    "randall-selitto": {
        **VALUE_SCHEMA,
        "cutoff": replace(VALUE_SCHEMA["cutoff"], default=250.0, unit="g"),
    },
    "electronic-vonfrey": {
        **VALUE_SCHEMA,
        "cutoff": replace(VALUE_SCHEMA["cutoff"], default=None, unit="g"),
    },
    "weight-bearing": {
        **VALUE_SCHEMA,
        "baseline_window": replace(
            VALUE_SCHEMA["baseline_window"],
            doc="[low, high] acceptance window of baseline ipsi_pct (% weight on the ipsi paw)",
        ),
    },
    "formalin": _FORMALIN,
    "open-field": _OPEN_FIELD,
    "vonfrey-percent": _VONFREY_PERCENT,
}
