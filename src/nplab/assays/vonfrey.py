"""The von Frey room of the study runner: up-down 50 % withdrawal thresholds.

Reads ``[data].vonfrey`` (a lab sheet, :func:`nplab.vonfrey.thresholds`) with the
protocol ``[protocols].vonfrey``; analyses thresholds over time per paw (log10 by
default, ``[analysis].log10_thresholds``) with the shared time-course fittings.
Exclusion rules: ``max_threshold_g`` (no allodynia) and ``min_drop_pct`` (too small a
drop from baseline).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, ClassVar

import pandas as pd

from nplab.assays import register
from nplab.assays._timecourse import TimecourseAssay, check_timepoints, describe, join_animals
from nplab.assays.base import AssayContext
from nplab.errors import InputError
from nplab.protocols import Param, Protocol

__all__ = ["VonFrey"]


@register
class VonFrey(TimecourseAssay):
    """von Frey up-down thresholds (Chaplan et al. 1994; Dixon 1980)."""

    name = "vonfrey"
    title = "Mechanical allodynia: von Frey 50% withdrawal threshold"
    data_doc = "von Frey lab sheet"
    protocol_kind = "vonfrey"
    default_protocol = "vonfrey-updown-rat"
    table_name = "vonfrey_thresholds"
    measure_label = "50% withdrawal threshold"
    unit = "g"
    exclusion_criteria: ClassVar[dict[str, Param]] = {
        "max_threshold_g": Param(
            "float", default=None, min=0, unit="g",
            doc="exclude if the threshold at the time point is above this (no allodynia)",
        ),
        "min_drop_pct": Param(
            "float", default=None, min=0, max=100, unit="%",
            doc="exclude if the drop from the baseline is below this percentage",
        ),
    }

    def check_rule(self, rule: dict[str, Any], file: Path, where: str) -> None:
        if rule["max_threshold_g"] is None and rule["min_drop_pct"] is None:
            raise InputError(
                "a von Frey exclusion rule needs a criterion",
                file=file,
                column=f"{where}.max_threshold_g",
                expected="max_threshold_g and/or min_drop_pct",
            )

    def read(self, ctx: AssayContext) -> pd.DataFrame:
        from nplab.vonfrey import thresholds

        path = ctx.study.data[self.name]
        res = thresholds(path, protocol=self.protocol(ctx))
        res.attrs["source"] = str(path)
        return res

    def measure(self, ctx: AssayContext, raw: pd.DataFrame) -> pd.DataFrame:
        path = ctx.study.data[self.name]
        check_timepoints(raw, ctx.study, path)
        res = join_animals(raw, ctx.animals, path, ctx.other_animals)
        return ctx.order_table(res)

    def exclusion_reasons(
        self, rule: dict[str, Any], row: pd.Series, baseline: pd.Series | None
    ) -> list[str]:
        tp, paw = rule["timepoint"], rule["paw"]
        thr = float(row["threshold_g"])
        status = str(row["status"])
        reasons = []
        if rule["max_threshold_g"] is not None and (
            status == "above_range" or thr > rule["max_threshold_g"]
        ):
            shown = "above the strongest filament" if status == "above_range" else f"{thr:.3g} g"
            reasons.append(f"{paw} threshold at {tp} {shown} > {rule['max_threshold_g']:g} g")
        if rule["min_drop_pct"] is not None and baseline is not None:
            b = float(baseline["threshold_g"])
            drop = (1.0 - thr / b) * 100.0 if b > 0 else float("nan")
            if not drop >= rule["min_drop_pct"]:
                reasons.append(
                    f"{paw} threshold dropped {drop:.1f}% from baseline "
                    f"(< {rule['min_drop_pct']:g}%)"
                )
        return reasons

    def dv(self, ctx: AssayContext) -> tuple[str, str]:
        if ctx.study.analysis.get("log10_thresholds", True):
            return "log10_threshold", "log10 threshold (g)"
        return "threshold_g", "threshold (g)"

    def descriptives(self, ctx: AssayContext, data: pd.DataFrame, dv: str) -> pd.DataFrame:
        """As the base, plus ``geometric_mean_g`` when log10 thresholds are analysed."""
        out = describe(data, ["group", "paw", "timepoint"], dv)
        if dv == "log10_threshold":
            out["geometric_mean_g"] = 10.0 ** out["mean"]
        out.insert(3, "measure", dv)
        return ctx.order_table(out)

    def cutoff_text(self, proto: Protocol, cutoff: float | None) -> str:
        return f"{cutoff:g} g, from kit {proto.params['kit']} of protocol {proto.name}"

    def endpoint_spec(self, ctx: AssayContext, proto: Protocol) -> tuple[str, float | None, bool]:
        from nplab.vonfrey import mpe_cutoff_g

        log10 = bool(ctx.study.analysis.get("log10_thresholds", True))
        return "threshold_g", mpe_cutoff_g(proto), log10
