"""The Hargreaves room of the study runner: radiant-heat withdrawal latencies.

Reads ``[data].hargreaves`` (trials, :func:`nplab.hargreaves.summarise`) with the
protocol ``[protocols].hargreaves``; analyses the per animal × paw × time point
latency over time with the shared time-course fittings (%MPE against the protocol's
cut-off).  Exclusion rule criterion: ``max_latency_s``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from nplab.assays import register
from nplab.assays._timecourse import TimecourseAssay, check_timepoints, join_animals
from nplab.assays.base import AssayContext
from nplab.errors import InputError
from nplab.protocols import Param, Protocol
from nplab.tables import read_table

__all__ = ["Hargreaves"]


@register
class Hargreaves(TimecourseAssay):
    """Hargreaves thermal latencies (Hargreaves et al. 1988)."""

    name = "hargreaves"
    title = "Thermal hyperalgesia: Hargreaves withdrawal latency"
    data_doc = "Hargreaves trials"
    protocol_kind = "hargreaves"
    default_protocol = "hargreaves-rat"
    table_name = "hargreaves_summary"
    measure_label = "withdrawal latency"
    unit = "s"
    exclusion_criteria: ClassVar[dict[str, Param]] = {
        "max_latency_s": Param(
            "float", default=None, min=0, unit="s",
            doc="Hargreaves: exclude if the latency at the time point is above this",
        ),
    }

    def check_rule(self, rule: dict[str, Any], file: Path, where: str) -> None:
        if rule["max_latency_s"] is None:
            raise InputError(
                "a Hargreaves exclusion rule needs a criterion",
                file=file,
                column=f"{where}.max_latency_s",
            )

    def read(self, ctx: AssayContext) -> pd.DataFrame:
        from nplab.hargreaves import summarise

        path = ctx.study.data[self.name]
        proto = self.protocol(ctx)
        check_timepoints(read_table(path, required=("animal", "paw", "timepoint")),
                         ctx.study, path)
        return summarise(path, protocol=proto)

    def measure(self, ctx: AssayContext, raw: pd.DataFrame) -> pd.DataFrame:
        res = raw.drop(columns=[c for c in ("group", "model") if c in raw.columns])
        res = join_animals(res, ctx.animals, ctx.study.data[self.name], ctx.other_animals)
        return ctx.order_table(res)

    def exclusion_reasons(
        self, rule: dict[str, Any], row: pd.Series, baseline: pd.Series | None
    ) -> list[str]:
        lat = float(row["latency_s"])
        if lat <= rule["max_latency_s"]:
            return []
        return [f"{rule['paw']} latency at {rule['timepoint']} {lat:.3g} s > "
                f"{rule['max_latency_s']:g} s"]

    def dv(self, ctx: AssayContext) -> tuple[str, str]:
        return "latency_s", "latency (s)"

    def endpoint_spec(self, ctx: AssayContext, proto: Protocol) -> tuple[str, float | None, bool]:
        return "latency_s", proto.get("cutoff_s"), False
