"""The von Frey %-response room: per-animal psychometric 50 % thresholds over time.

``[data].vonfrey_percent`` names a long table of filament applications (``animal``,
``paw``, ``timepoint``, ``force_g`` and ``response``, or ``n_applied`` and
``n_withdrawals`` per filament); ``[protocols].vonfrey_percent`` its protocol (default
``vonfrey-percent``: logit link).  Each animal × paw × time point gets a 50 % threshold
from a binomial fit on log10 force (:func:`nplab.vonfrey.percent.psychometric_thresholds`;
Bradman et al. 2015); thresholds the data cannot identify keep their status and no
number, so the animal drops out of the complete-case time-course statistics.  The
thresholds are analysed on log10 with the shared time-course fittings (mixed ANOVA,
Dunnett against control per time point, endpoints).
"""

from __future__ import annotations

import pandas as pd

from nplab.assays import register
from nplab.assays._timecourse import TimecourseAssay, check_timepoints, join_animals
from nplab.assays.base import AssayContext
from nplab.protocols import Protocol

__all__ = ["VonFreyPercent"]


@register
class VonFreyPercent(TimecourseAssay):
    """von Frey %-response method (Chaplan et al. 1994; Bradman et al. 2015)."""

    name = "vonfrey_percent"
    title = "Mechanical allodynia: von Frey %-response, psychometric 50% threshold"
    data_doc = ("von Frey applications: animal, paw, timepoint, force_g, response "
                "(or n_applied, n_withdrawals)")
    protocol_kind = "vonfrey-percent"
    default_protocol = "vonfrey-percent"
    table_name = "vonfrey_percent_thresholds"
    measure_label = "50% withdrawal threshold (%-response)"
    unit = "g"

    def read(self, ctx: AssayContext) -> pd.DataFrame:
        from nplab.tables import read_table
        from nplab.vonfrey.percent import psychometric_thresholds

        path = ctx.study.data[self.name]
        proto = self.protocol(ctx)
        raw = read_table(path, required=["animal", "paw", "timepoint", "force_g"])
        check_timepoints(raw, ctx.study, path)
        raw = raw.drop(columns=[c for c in ("group",) if c in raw.columns])
        res = psychometric_thresholds(raw, by=["animal", "paw", "timepoint"],
                                      link=proto["link"], level=proto["ci_level"])
        res.attrs["max_force_g"] = float(pd.to_numeric(raw["force_g"]).max())
        return res

    def measure(self, ctx: AssayContext, raw: pd.DataFrame) -> pd.DataFrame:
        res = join_animals(raw, ctx.animals, ctx.study.data[self.name], ctx.other_animals)
        self._max_force = raw.attrs["max_force_g"]
        return ctx.order_table(res)

    def dv(self, ctx: AssayContext) -> tuple[str, str]:
        return "log10_threshold", "log10 50% threshold (g)"

    def cutoff_text(self, proto: Protocol, cutoff: float | None) -> str:
        given = proto.get("mpe_cutoff_g") is not None
        return f"{cutoff:g} g" + ("" if given else ", the strongest filament applied")

    def endpoint_spec(self, ctx: AssayContext, proto: Protocol) -> tuple[str, float | None, bool]:
        cutoff = proto.get("mpe_cutoff_g")
        return "threshold_50_g", cutoff if cutoff is not None else self._max_force, True
