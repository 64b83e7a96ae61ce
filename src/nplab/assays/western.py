"""The Western blot room of the study runner: densitometry → normalised ratios, fold change
against each blot's control lanes, group differences with the blot as a random effect.

``[data].western`` names a densitometry table (:mod:`nplab.western`: ``blot, lane, animal,
target, signal`` and ``total_protein`` or ``loading_signal``; optional ``tissue``). Groups
come from the study's animals table; the control lanes are the study's control group.
"""

from __future__ import annotations

from typing import Any

import numpy as np

from nplab.assays import register
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.assays.molecular import _groups, dot_plot
from nplab.report import Section

__all__ = ["Western"]


@register
class Western(Assay):
    """Protein levels by Western blot densitometry (p-p65/p65, Iba1, GFAP ...)."""

    name = "western"
    title = "Western blot: densitometry"
    data_doc = "densitometry table (blot, lane, animal, target, signal, total_protein or loading_signal)"
    protocol_kind = "western"
    default_protocol = "western-densitometry"
    table_name = "western_bands"

    def read(self, ctx: AssayContext) -> Any:
        from nplab.tables import read_table

        return read_table(ctx.study.data[self.name], required=["blot", "lane", "animal", "target", "signal"])

    def measure(self, ctx: AssayContext, raw: Any) -> Any:
        from nplab.western import normalise_with_protocol

        proto = self.protocol(ctx)
        path = ctx.study.data[self.name]
        data = _groups(ctx, raw.drop(columns=[c for c in ("group",) if c in raw.columns]), "animal", path)
        data.attrs["source"] = path
        # blinded without the key: values relative to the first coded group's lanes (reported as such)
        control = ctx.control if ctx.control is not None else sorted(data["group"])[0]
        res, used = normalise_with_protocol(data, proto.params, control=control)
        if "tissue" in data.columns:
            tissue = data.drop_duplicates(["blot", "lane"]).set_index(["blot", "lane"])["tissue"]
            res = res.join(tissue, on=["blot", "lane"])
        return res, used

    def analyse(self, ctx: AssayContext, measured: Any) -> AssayReport:
        from nplab.western import statistics

        res, used = measured
        rep = AssayReport(section=Section(self.title, self.name))
        sec, proto = rep.section, ctx.protocols[self.name]
        rep.tables["western_bands"] = res
        pairs = ", ".join(f"{k}/{v}" for k, v in used["pairs"].items()) or "none"
        sec.p(f"{res['blot'].nunique()} blot(s), {res['animal'].nunique()} animals; band signal / "
              f"{used['loading']} of the lane, phospho/total pairs: {pairs}; fold change against the mean of "
              f"each blot's control lanes (protocol {proto.label}).")
        flagged = res[res["flag"] != ""]
        if len(flagged):
            sec.p(f"{len(flagged)} lane × measure values without a fold change: "
                  + "; ".join(sorted({f"{r.blot} {r.measure} ({r.flag})" for r in flagged.itertuples()})) + ".")
        per = res.groupby(["measure", "animal", "group"], as_index=False)["fold_change"].mean()
        desc = (per.groupby(["measure", "group"], sort=False)["fold_change"]
                .agg(n="count", mean="mean", sem=lambda v: v.std(ddof=1) / np.sqrt(v.count())).reset_index())
        desc["group"] = desc["group"].map(ctx.group_name)
        rep.tables["western_summary"] = desc
        if ctx.control is None:
            sec.p("Blinded without the unblinding key: fold changes relative to the first coded group's "
                  "lanes; no statistics.")
            sec.table(desc, "Fold change per coded group: mean ± SEM (animal = unit)")
            return rep
        sec.table(desc, "Fold change vs control lanes per group: mean ± SEM (animal = unit)")
        st = statistics(res, ctx.control)
        if not st.empty:
            st["group"] = st["group"].map(ctx.group_name)
            rep.tables["western_stats"] = st
            sec.table(st, f"Difference to {ctx.group_name(ctx.control)} on log2 fold change (ratio = 2^diff; "
                          "linear mixed model with blot as random intercept when groups span blots)")
            rep.facts["has_effect_ci"] = True
        order = ctx.group_order()
        sec.plot(dot_plot(per.assign(measure=per["measure"].astype(str)), "fold_change", ["measure"], order,
                          "fold change vs control lanes", {g: ctx.group_name(g) for g in order}, log=True),
                 "western_dotplot", "Fold change per animal (dots, log axis) with group mean ± SEM.")
        rep.methods.append("Western blot: band volume / lane total protein (or loading control), phospho/total "
                           "ratio, fold change vs the blot's control lanes (nplab.western); log2 fold change "
                           "compared with a linear mixed model, blot as random intercept, animal = unit.")
        return rep
