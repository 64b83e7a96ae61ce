"""The formalin test as a room of the study runner: phase I and phase II totals per group.

``[data].formalin`` names a table of binned nocifensive behaviour (licking time or
flinches per bin; columns in ``protocols/formalin.md``), ``[protocols].formalin`` its
protocol (default ``formalin``: 5-min bins, phase I 0-10 min, phase II 15-60 min).  An
optional ``timepoint`` column names the session (declared in the study file, e.g. the
post-dose hour at which formalin was injected); without it the session is ``test``.

Per session and phase the per-animal totals (:func:`nplab.behaviour.formalin`) of each
group are compared with the study's control group by Dunnett's many-to-one test, the
animal being the experimental unit (:func:`nplab.stats.dunnett`).  Animals excluded by
the study's rules, and phases with a missing or invalid bin (``incomplete_phase1/2``),
are left out of that phase.  The figure shows the time course of the behaviour per bin,
mean ± SEM per group, with the phases shaded (Tjølsen et al. 1992).
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from nplab.assays import register
from nplab.assays._timecourse import check_timepoints, describe, join_animals
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.blinding import unblind
from nplab.report import Section

__all__ = ["PHASES", "Formalin"]

#: Phases compared between groups, with their words in the report.
PHASES = {"phase1": "phase I", "phase2": "phase II"}


def _groups(ctx: AssayContext, df: pd.DataFrame) -> pd.DataFrame:
    """Group and model from the animals table (every animal must be known)."""
    file = ctx.study.data["formalin"]
    out = join_animals(df.drop(columns=["group"], errors="ignore").assign(paw="ipsi"),
                       ctx.animals, file, ctx.other_animals)
    return ctx.order_table(out.drop(columns="paw"))


@register
class Formalin(Assay):
    """Formalin test: phase I / phase II totals per animal, Dunnett against control."""

    name = "formalin"
    title = "Formalin test: phase I and phase II nocifensive behaviour"
    data_doc = "formalin bins: animal, bin_start_min, licking_s or flinches (protocols/formalin.md)"
    protocol_kind = "formalin"
    default_protocol = "formalin"
    table_name = "formalin_phases"

    def read(self, ctx: AssayContext) -> tuple[pd.DataFrame, pd.DataFrame]:
        from nplab.behaviour.formalin import formalin, formalin_bins
        from nplab.tables import read_table

        path = ctx.study.data[self.name]
        proto = self.protocol(ctx)
        raw = read_table(path, required=["animal", "bin_start_min"])
        if "timepoint" in raw.columns:
            check_timepoints(raw, ctx.study, path)
        return formalin(raw, proto), formalin_bins(raw, proto)

    def measure(self, ctx: AssayContext, raw: tuple[pd.DataFrame, pd.DataFrame]) -> Any:
        phases, bins = raw
        return _groups(ctx, phases), _groups(ctx, bins)

    def analyse(self, ctx: AssayContext, measured: Any) -> AssayReport:
        from nplab.stats import dunnett

        phases, bins = measured
        proto = ctx.protocols[self.name]
        m = proto["measure"]
        what = "licking/biting time (s)" if m == "licking_s" else "flinches (count)"
        rep = AssayReport(section=Section(self.title, self.name))
        sec = rep.section
        excluded = ctx.excluded_animals()
        rep.tables[self.table_name] = unblind(phases, ctx.key)
        p1, p2 = proto["phase1_min"], proto["phase2_min"]
        sec.p(
            f"Protocol {proto.name} {proto.version} ({proto.title}): {what} per "
            f"{proto['bin_min']:g}-min bin, phase I {p1[0]:g}–{p1[1]:g} min and phase II "
            f"{p2[0]:g}–{p2[1]:g} min after the injection (totals over the bins). "
            f"{phases['animal'].nunique()} animals; "
            f"{len(excluded & set(phases['animal']))} excluded animals are left out of the "
            "statistics."
        )
        flagged = phases[phases["status"] != "ok"]
        if len(flagged):
            sec.note("Flagged (phase left empty): " + ", ".join(
                f"{r.animal} ({r.status})" for r in flagged.itertuples())
                + f". See tables/{self.table_name}.csv.")
        data = phases[~phases["animal"].isin(excluded)]
        long = pd.concat(
            [data.assign(phase=p, value=data[f"{p}_{m}"]) for p in PHASES], ignore_index=True
        )
        desc = ctx.order_table(describe(long, ["group", "timepoint", "phase"], "value"))
        rep.tables["formalin_descriptives"] = unblind(desc, ctx.key)
        sec.table(unblind(desc, ctx.key), f"Phase totals of {what}: n, mean, SD, SEM per group")
        ctrl = ctx.control
        if ctrl is None:
            sec.note("No comparison with control: the study is blind without a key, or "
                     "declares no control group.")
        else:
            self._dunnett(ctx, long, rep, what, dunnett)
        for tp, sub in bins[~bins["animal"].isin(excluded)].groupby("timepoint", sort=False):
            fig, n_dropped = self._figure(ctx, sub, proto, what, tp)
            if fig is not None:
                sec.plot(fig, f"formalin_timecourse_{tp}",
                         f"Formalin test ({tp}): {what} per bin, mean ± SEM per group; phases "
                         "shaded" + (f"; {n_dropped} animal(s) with a missing bin left out"
                                     if n_dropped else "") + ".")
        rep.methods.append(
            f"Formalin test ({proto.label}): {what} summed over the bins of phase I "
            f"({p1[0]:g}–{p1[1]:g} min) and phase II ({p2[0]:g}–{p2[1]:g} min) per animal "
            "(nplab.behaviour.formalin); each phase compared with "
            f"{ctx.study.control_group} by Dunnett's many-to-one test, animal = unit "
            "(nplab.stats.dunnett)."
        )
        return rep

    def _dunnett(self, ctx: AssayContext, long: pd.DataFrame, rep: AssayReport, what: str,
                 dunnett: Any) -> None:
        alpha = float(ctx.study.analysis.get("alpha", 0.05))
        rows = []
        for (tp, phase), sub in long.groupby(["timepoint", "phase"], sort=False):
            sub = sub[np.isfinite(sub["value"].to_numpy(float))]
            if ctx.control not in set(sub["group"]) or sub["group"].nunique() < 2:
                continue
            res = dunnett(sub, "value", "group", ctx.control)
            res.insert(0, "phase", phase)
            res.insert(0, "timepoint", tp)
            rows.append(res)
        if not rows:
            rep.section.note("No phase had the control group and another group to compare.")
            return
        dun = unblind(pd.concat(rows, ignore_index=True), ctx.key)
        rep.tables["formalin_dunnett"] = dun
        rep.section.table(dun, f"Dunnett's test vs {ctx.study.control_group} per phase "
                          f"(difference in {what}, 95% simultaneous CI; animal = unit)")
        rep.facts["has_effect_ci"] = True
        sig = dun[dun["p"] < alpha]
        rep.summary.append(
            "Formalin test: "
            + ("; ".join(f"{r.group} {PHASES[r.phase]} {r.diff:+.3g} vs "
                         f"{ctx.study.control_group} (Dunnett p = {r.p:.2g})"
                         for r in sig.itertuples())
               if len(sig) else f"no phase differed from {ctx.study.control_group}")
            + "."
        )

    def _figure(self, ctx: AssayContext, bins: pd.DataFrame, proto: Any, what: str,
                tp: str) -> tuple[Any, int]:
        from nplab import stats

        m = proto["measure"]
        d = bins.dropna(subset=[m])
        counts = d.groupby("animal")["bin_mid_min"].nunique()
        complete = counts[counts == d["bin_mid_min"].nunique()].index
        dropped = d["animal"].nunique() - len(complete)
        d = d[d["animal"].isin(complete)]
        if d.empty:
            return None, dropped
        fig = stats.timecourse_figure(unblind(d, ctx.key), m, "group", "bin_mid_min", "animal",
                                      ylabel=f"{what} per bin, mean ± SEM",
                                      title=f"Formalin test ({tp})")
        ax = fig.axes[0]
        for key, label in PHASES.items():
            lo, hi = proto[f"{key}_min"]
            ax.axvspan(lo, hi, color="0.92", zorder=0)
            ax.text((lo + hi) / 2, 0.98, label, transform=ax.get_xaxis_transform(),
                    ha="center", va="top", fontsize=8, color="0.4")
        ax.set_xlabel("minutes after the formalin injection (bin centre)")
        return fig, dropped
