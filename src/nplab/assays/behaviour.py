"""The other behavioural tests as rooms of the study runner.

One assay per test of :mod:`nplab.behaviour` that is measured per animal (x paw) x time
point: ``acetone``, ``hot_plate``, ``tail_flick``, ``cold_plate``, ``rotarod``,
``randall_selitto``, ``electronic_vonfrey``, ``weight_bearing``, ``open_field`` (study-file keys
``[data].<name>`` and ``[protocols].<name>``, default protocol = the shipped one of the
test).  Each is analysed over time with the shared time-course fittings (mixed ANOVA,
Dunnett against control, endpoints with the protocol's cut-off).  Whole-animal tests
(hot plate, tail flick, cold plate, rotarod, weight bearing) report ``paw = "whole"``.

The ``rotarod`` and ``open_field`` (distance travelled) rooms also run the sedation check
(:func:`nplab.behaviour.sedation_check`): each dose against vehicle at the same
post-dose time points, on the motor measure and on the study's primary outcome, with a
sentence stating whether a motor/sedative effect could explain the analgesic effect.
The formalin test (phase totals, not a time course) has its own room,
:mod:`nplab.assays.formalin`.
"""

from __future__ import annotations

from typing import Any, ClassVar

import pandas as pd

from nplab.assays import get, register
from nplab.assays._timecourse import TimecourseAssay, check_timepoints, join_animals
from nplab.assays.base import AssayContext, AssayReport
from nplab.blinding import unblind
from nplab.protocols import Protocol
from nplab.tables import read_table

__all__ = ["BehaviourAssay", "MotorAssay"]


class BehaviourAssay(TimecourseAssay):
    """A test of :mod:`nplab.behaviour` in the study runner (subclassed per test)."""

    #: Test name (= protocol kind = default protocol) in :data:`nplab.behaviour.TESTS`.
    test: ClassVar[str] = ""
    #: Whether the test is per paw (else ``paw = "whole"``).
    paws: ClassVar[bool] = True
    #: Analysed column of the test's summary, and its label with unit.
    value: ClassVar[str] = ""
    value_label: ClassVar[str] = ""
    #: Whether analgesia raises the value (latencies, forces) or lowers it (scores).
    analgesia_higher: ClassVar[bool] = True

    def read(self, ctx: AssayContext) -> pd.DataFrame:
        from nplab.behaviour import TESTS

        path = ctx.study.data[self.name]
        proto = self.protocol(ctx)
        needed = ("animal", "paw", "timepoint") if self.paws else ("animal", "timepoint")
        check_timepoints(read_table(path, required=needed), ctx.study, path)
        return TESTS[self.test](path, proto)

    def measure(self, ctx: AssayContext, raw: pd.DataFrame) -> pd.DataFrame:
        res = raw.drop(columns=[c for c in ("group", "model") if c in raw.columns])
        file = ctx.study.data[self.name]
        if self.paws:
            res = join_animals(res, ctx.animals, file, ctx.other_animals)
        else:  # whole animal: no paw to resolve
            res = join_animals(res.assign(paw="ipsi"), ctx.animals, file, ctx.other_animals)
            res["paw"] = "whole"
        return ctx.order_table(res)

    def dv(self, ctx: AssayContext) -> tuple[str, str]:
        return self.value, self.value_label

    def endpoint_spec(self, ctx: AssayContext, proto: Protocol) -> tuple[str, float | None, bool]:
        cutoff = proto.get("cutoff_s") if self.value == "latency_s" else proto.get("cutoff")
        return self.value, cutoff, False


def _assay(
    name: str,
    test: str,
    title: str,
    label: str,
    value: str,
    value_label: str,
    unit: str,
    *,
    paws: bool,
    higher: bool = True,
) -> type[BehaviourAssay]:
    cls = type(
        name.title().replace("_", ""),
        (BehaviourAssay,),
        {
            "name": name,
            "test": test,
            "title": title,
            "data_doc": f"{title} trials (see protocols/{test}.md)",
            "protocol_kind": test,
            "default_protocol": test,
            "table_name": f"{name}_summary",
            "measure_label": label,
            "unit": unit,
            "paws": paws,
            "value": value,
            "value_label": value_label,
            "analgesia_higher": higher,
            "__module__": __name__,
            "__doc__": f"{title} (:mod:`nplab.behaviour`).",
        },
    )
    return register(cls)


Acetone = _assay(
    "acetone",
    "acetone",
    "Cold allodynia: acetone drop test",
    "acetone score",
    "acetone_value",
    "acetone score (sum of 3 applications)",
    "score",
    paws=True,
    higher=False,
)
HotPlate = _assay(
    "hot_plate",
    "hot-plate",
    "Thermal nociception: hot plate latency",
    "hot-plate latency",
    "latency_s",
    "latency (s)",
    "s",
    paws=False,
)
TailFlick = _assay(
    "tail_flick",
    "tail-flick",
    "Thermal nociception: tail-flick latency",
    "tail-flick latency",
    "latency_s",
    "latency (s)",
    "s",
    paws=False,
)
ColdPlate = _assay(
    "cold_plate",
    "cold-plate",
    "Cold allodynia: cold plate latency",
    "cold-plate latency",
    "latency_s",
    "latency (s)",
    "s",
    paws=False,
)
RandallSelitto = _assay(
    "randall_selitto",
    "randall-selitto",
    "Mechanical hyperalgesia: Randall-Selitto paw pressure",
    "withdrawal force",
    "force_g",
    "force (g)",
    "g",
    paws=True,
)
ElectronicVonFrey = _assay(
    "electronic_vonfrey",
    "electronic-vonfrey",
    "Mechanical allodynia: electronic von Frey",
    "withdrawal force",
    "force_g",
    "force (g)",
    "g",
    paws=True,
)
WeightBearing = _assay(
    "weight_bearing",
    "weight-bearing",
    "Spontaneous pain: static weight bearing",
    "weight on the ipsilateral paw",
    "ipsi_pct",
    "% weight on ipsilateral paw",
    "%",
    paws=False,
)


class MotorAssay(BehaviourAssay):
    """A motor/locomotor control test whose room runs the sedation check against the
    study's primary outcome (rotarod, open field)."""

    #: Words of the motor measure in the sedation-check table caption.
    motor_words: ClassVar[str] = ""

    def read(self, ctx: AssayContext) -> Any:
        table = super().read(ctx)
        # the analgesia read-out the check compares with: the primary outcome's
        # measurements, read through its own room (file I/O stays at this edge)
        self._analgesia = None
        primary = ctx.study.outcomes["primary"]
        if primary != self.name:
            other = get(primary)
            if isinstance(other, TimecourseAssay) and not isinstance(other, MotorAssay):
                measured = other.measure(ctx, other.read(ctx))
                higher = getattr(other, "analgesia_higher", True)
                self._analgesia = (primary, measured, other.dv(ctx), higher)
        return table

    def analyse(self, ctx: AssayContext, measured: pd.DataFrame) -> AssayReport:
        from nplab.behaviour import sedation_check

        rep = super().analyse(ctx, measured)
        sec = rep.section
        if getattr(self, "_analgesia", None) is None:
            sec.note("Sedation check: the primary outcome is not a per-animal time course.")
            return rep
        ctrl = ctx.control
        if ctrl is None:
            sec.note(
                "Sedation check not run: the study is blind without a key or has no control group."
            )
            return rep
        primary, other, (dv, dv_label), higher = self._analgesia
        excluded = ctx.excluded_animals()
        motor = unblind(measured[~measured["animal"].isin(excluded)], ctx.key)
        analgesia = unblind(other[~other["animal"].isin(excluded)], ctx.key)
        table, sentence = sedation_check(
            motor,
            analgesia,
            vehicle=ctx.group_name(ctrl),
            motor_value=self.value,
            analgesia_value=dv,
            analgesia_higher=higher,
            timepoints=list(ctx.study.postdose["label"]),
            groups=list(ctx.study.groups.loc[ctx.study.groups["treatment"] != "vehicle", "name"]),
        )
        rep.tables[f"{self.name}_sedation_check"] = table
        sec.p(
            sentence.replace(
                "the analgesia read-out",
                f"the primary outcome ({primary}: {dv_label}, ipsilateral paw)",
            )
        )
        sec.table(
            table[
                [
                    "group",
                    "timepoint",
                    "motor_vehicle",
                    "motor_dose",
                    "motor_change_pct",
                    "motor_p",
                    "analgesia_vehicle",
                    "analgesia_dose",
                    "analgesia_p",
                    "verdict",
                ]
            ],
            "Sedation check: each dose vs vehicle at each post-dose time point, "
            f"{self.motor_words} and {dv_label} (Welch t tests)",
        )
        rep.summary.append(sentence)
        rep.methods.append(
            f"Sedation check: {self.measure_label} and the primary outcome of each drug "
            "group compared with vehicle at each post-dose time point (Welch t tests; motor "
            "deficit = reduction of at least 20 % with p < 0.05) (nplab.behaviour.sedation_check)."
        )
        return rep


@register
class Rotarod(MotorAssay):
    """Rotarod latency to fall, with the sedation check against the primary outcome."""

    name = "rotarod"
    test = "rotarod"
    title = "Motor function: rotarod latency to fall (sedation check)"
    data_doc = "rotarod trials (see protocols/rotarod.md)"
    protocol_kind = "rotarod"
    default_protocol = "rotarod"
    table_name = "rotarod_summary"
    measure_label = "rotarod latency to fall"
    motor_words = "rotarod latency (s)"
    unit = "s"
    paws = False
    value = "latency_s"
    value_label = "latency to fall (s)"


@register
class OpenField(MotorAssay):
    """Open-field distance travelled, with the sedation check against the primary outcome."""

    name = "open_field"
    test = "open-field"
    title = "Locomotor activity: open-field distance travelled (sedation check)"
    data_doc = (
        "open-field sessions: animal, timepoint, distance_m or distance_cm "
        "(see protocols/open-field.md)"
    )
    protocol_kind = "open-field"
    default_protocol = "open-field"
    table_name = "open_field_summary"
    measure_label = "open-field distance travelled"
    motor_words = "open-field distance (m)"
    unit = "m"
    paws = False
    value = "distance_m"
    value_label = "distance travelled (m)"
