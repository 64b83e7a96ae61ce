"""Shared room fittings for per-animal time-course assays (von Frey, Hargreaves, ...).

:class:`TimecourseAssay` turns a measurement table with one row per animal × paw ×
time point into the report: descriptives, a mixed ANOVA (group × time point) and
Dunnett's test against the control at each time point per paw, a time-course figure
per paw, the results paragraph, and endpoints (%MPE, % reversal, AUC of the change
from pre-dose) with Dunnett's test on the AUC.  Subclasses say what is measured
(:meth:`TimecourseAssay.dv`, ``measure_label``, the %MPE cut-off) and how the raw
tables are read; every number comes from :mod:`nplab.stats`.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nplab.animals import resolve_paws
from nplab.assays.base import PAWS, Assay, AssayContext, AssayReport
from nplab.blinding import unblind
from nplab.errors import InputError
from nplab.protocols import Protocol
from nplab.report import Section, column_decimals, format_fixed

__all__ = ["TimecourseAssay", "check_timepoints", "describe", "join_animals"]

#: Paws in report order; ``whole`` for whole-animal tests (hot plate, rotarod, ...).
_ALL_PAWS = (*PAWS, "whole")
_PAW_WORDS = {"ipsi": "ipsilateral paw", "contra": "contralateral paw", "whole": "whole animal"}


def _primary_paw(study: Any, data: pd.DataFrame) -> str:
    """The study's primary paw, or ``whole`` for a whole-animal test."""
    return "whole" if set(data["paw"]) == {"whole"} else study.outcomes["primary_paw"]


def join_animals(
    df: pd.DataFrame, animals: pd.DataFrame, file: Path, others: Iterable[str] = ()
) -> pd.DataFrame:
    """Add group/model from the animals table; resolve paws; every animal must be known.

    Rows of ``others`` (animals of other cohorts) are dropped.
    """
    df = df.copy()
    df["animal"] = df["animal"].astype(str).str.strip()
    df = df[~df["animal"].isin(set(others))].reset_index(drop=True)
    unknown = ~df["animal"].isin(animals["animal"])
    if unknown.any():
        i = int(np.flatnonzero(unknown.to_numpy())[0])
        raise InputError(
            f"animal {df['animal'].iloc[i]!r} is not in the animals table",
            file=file,
            row=i + 2,
            column="animal",
        )
    df["paw"] = resolve_paws(df, animals, file=str(file))
    info = animals.set_index("animal")
    df.insert(1, "group", df["animal"].map(info["group"]).astype(str))
    df.insert(2, "model", df["animal"].map(info["model"]).astype("string"))
    return df


def check_timepoints(df: pd.DataFrame, study: Any, file: Path) -> None:
    """Every ``timepoint`` of ``df`` is declared in the study file (else InputError)."""
    labels = set(study.timepoints["label"])
    bad = ~df["timepoint"].astype(str).isin(labels)
    if bad.any():
        i = int(np.flatnonzero(bad.to_numpy())[0])
        raise InputError(
            f"time point {df['timepoint'].iloc[i]!r} is not declared in the study file",
            file=file,
            row=i + 2,
            column="timepoint",
            expected=f"one of {', '.join(study.timepoints['label'])}",
        )


def describe(data: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """n (non-missing), mean, SD and SEM of ``value`` per ``keys`` (first-seen order)."""
    g = data.groupby(keys, sort=False)[value]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    return out


def _complete(data: pd.DataFrame, dv: str, tps: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Animals with ``dv`` in every time point × paw cell of ``tps`` (dropped animals listed)."""
    d = data[data["timepoint"].isin(tps)]
    cell = d["timepoint"].astype(str) + "\x00" + d["paw"].astype(str)
    counts = cell[d[dv].notna()].groupby(d.loc[d[dv].notna(), "animal"]).nunique()
    keep = counts[counts == len(tps) * d["paw"].nunique()].index
    dropped = sorted(set(d["animal"]) - set(keep))
    return d[d["animal"].isin(keep)], dropped


def _join_factors(data: pd.DataFrame, ctx: AssayContext, factors: list[str]) -> pd.DataFrame:
    """Add between-animal factors (e.g. ``sex``) from the animals table; blanks are errors."""
    if not factors:
        return data
    animals = ctx.animals.set_index("animal")
    file = ctx.study.data.get("animals")
    data = data.copy()
    for f in factors:
        if f not in animals.columns:
            raise InputError(f"design.between names {f!r}, which is not a column of the "
                             "animals table", file=file, column=f,
                             expected="a column such as sex")  # fmt: skip
        col = animals[f].astype("string").str.strip()
        blank = col.isna() | (col == "")
        used = blank[blank.index.isin(set(data["animal"]))]
        if used.any():
            a = str(used[used].index[0])
            raise InputError(f"animal {a!r} has no {f}", file=file,
                             row=int(np.flatnonzero(animals.index == a)[0]) + 2, column=f,
                             expected=f"a {f} for every animal in the design")  # fmt: skip
        data[f] = data["animal"].map(col).astype(str)
    return data


def _units(data: pd.DataFrame, within: list[str]) -> list[tuple[str, pd.DataFrame, list[str]]]:
    """(paw label, rows, within factors) of each ANOVA: one per paw, or one with paw within."""
    paws = sorted(set(data["paw"]), key=_ALL_PAWS.index)
    if "paw" in within and len(paws) > 1:
        return [("+".join(paws), data, ["timepoint", "paw"])]
    return [(paw, data[data["paw"] == paw], ["timepoint"]) for paw in paws]


def _cited_or_postdose(dun: pd.DataFrame, primary: str, post: set[str],
                       alpha: float) -> pd.DataFrame:
    """The Dunnett rows the report shows: every comparison at the post-dose time points of
    the primary paw, and at every (paw, time point) where a comparison has p < alpha, so
    the table holds each time point the results paragraph cites
    (:func:`nplab.stats.results_paragraph` cites the comparisons with p < alpha)."""
    cited = dun.loc[dun["p"] < alpha, ["paw", "timepoint"]].drop_duplicates()
    key = pd.MultiIndex.from_frame(dun[["paw", "timepoint"]])
    keep = (dun["paw"] == primary) & dun["timepoint"].isin(post)
    return dun[keep.to_numpy() | key.isin(pd.MultiIndex.from_frame(cited))]


def _wide_endpoints(summ: pd.DataFrame) -> pd.DataFrame:
    """Group × endpoint rows, one column per time, cells ``mean ± SEM (n)`` with one
    number of decimals per column (:func:`nplab.report.column_decimals` of its means)."""
    time = summ["time"].map(lambda t: "AUC" if t in ("", None) else f"{t} h")
    dec = {t: column_decimals(summ.loc[time == t, "mean"]) for t in set(time)}
    cells = summ.assign(
        cell=[f"{format_fixed(m, dec[t])} ± {format_fixed(e, dec[t])} ({n})"
              if np.isfinite(m) else ("not defined" if n == 0 else f"— ({n})")
              for m, e, n, t in zip(summ["mean"], summ["sem"].fillna(0.0), summ["n"], time,
                                    strict=True)],
        time=time,
        endpoint=summ["endpoint"].map({"mpe": "%MPE", "reversal": "% reversal",
                                       "auc_change": "AUC of change"}),
    )
    wide = cells.pivot_table(index=["group", "endpoint"], columns="time", values="cell",
                             aggfunc="first", sort=False)
    return wide.reset_index().fillna("")


def _slug(value: object) -> str:
    """A level as a file-name part (``"female"``, ``"F"``)."""
    return "".join(c if c.isalnum() or c in "-." else "-" for c in str(value)).strip("-")


class TimecourseAssay(Assay):
    """An assay measured per animal × paw × time point and analysed over time.

    Subclasses implement :meth:`read`, :meth:`measure` (returning ``animal, group,
    model, paw, timepoint`` plus the measured columns), :meth:`dv` and
    :meth:`endpoint_spec`, and set ``measure_label`` (``"withdrawal latency"``).
    """

    per_animal = True
    #: What is measured, in words (figure titles, captions, methods).
    measure_label: ClassVar[str] = ""
    #: Unit of the analysed value when not log-transformed (endpoint AUC captions).
    unit: ClassVar[str] = ""

    def dv(self, ctx: AssayContext) -> tuple[str, str]:
        """(column analysed, label with unit)."""
        raise NotImplementedError

    def endpoint_spec(self, ctx: AssayContext, proto: Protocol) -> tuple[str, float | None, bool]:
        """(raw column, %MPE cut-off, analyse on log10) for :func:`nplab.stats.endpoints`."""
        raise NotImplementedError

    def cutoff_text(self, proto: Protocol, cutoff: float | None) -> str:
        """The %MPE cut-off in words for the methods text."""
        return "none" if cutoff is None else f"{cutoff:g} {self.unit}"

    def figure_axis(self, ctx: AssayContext) -> tuple[str, bool]:
        """(y label of the time-course figure, whether the analysed values are its log10).

        Log10-analysed values (von Frey thresholds) are drawn on their log scale with
        tick labels in the measured unit (:func:`nplab.stats.timecourse_figure`).
        """
        dv, ylabel = self.dv(ctx)
        if dv.startswith("log10_") and self.measure_label and self.unit:
            return f"{self.measure_label} ({self.unit})", True
        return f"{ylabel}, mean ± SEM", False

    # ------------------------------------------------------------------ analysis

    def descriptives(self, ctx: AssayContext, data: pd.DataFrame, dv: str) -> pd.DataFrame:
        """n, mean, SD, SEM of ``dv`` per group × paw × time point."""
        out = describe(data, ["group", "paw", "timepoint"], dv)
        out.insert(3, "measure", dv)
        return ctx.order_table(out)

    def analyse(self, ctx: AssayContext, measured: pd.DataFrame) -> AssayReport:
        """Descriptives, mixed ANOVA, Dunnett by time point, results paragraph and
        time-course figure per paw, endpoints."""
        from nplab import stats

        study = ctx.study
        name, table = self.name, measured
        rep = AssayReport(section=Section(self.title, name))
        rep.tables[self.table_name] = unblind(table, ctx.key)
        sec = rep.section
        dv, ylabel = self.dv(ctx)
        excluded = ctx.excluded_animals()
        data = table[~table["animal"].isin(excluded)].copy()
        proto = ctx.protocols[name]
        sec.p(
            f"Protocol {proto.name} {proto.version} ({proto.title}). "
            f"{len(table)} tests of {table['animal'].nunique()} animals; "
            f"{len(excluded & set(table['animal']))} excluded animals are left out of the "
            f"statistics. Analysed: {ylabel}."
        )
        if "status" in table.columns:
            flagged = table[table["status"] != "ok"]
            if len(flagged):
                counts = flagged["status"].value_counts().sort_index()
                sec.note(
                    "Flagged results (kept, with the protocol's convention): "
                    + ", ".join(f"{k}: {v}" for k, v in counts.items())
                    + f". See tables/{self.table_name}.csv."
                )
        planned = set(study.analysis["planned"])
        alpha = float(study.analysis.get("alpha", 0.05))
        desc = self.descriptives(ctx, data, dv)
        rep.tables[f"{name}_descriptives"] = unblind(desc, ctx.key)
        tps = list(study.timepoints["label"])
        ctrl = ctx.control
        primary = _primary_paw(study, table)
        design = getattr(study, "design", None) or {"between": ["group"],
                                                    "within": ["timepoint"],
                                                    "posthoc_gate": "omnibus"}
        extra = [f for f in design["between"] if f != "group"]
        data = _join_factors(data, ctx, extra)
        if extra:
            by_desc = ctx.order_table(describe(data, ["group", *extra, "paw", "timepoint"], dv))
            rep.tables[f"{name}_descriptives_by_{'_'.join(extra)}"] = unblind(by_desc, ctx.key)
        anovas, posthocs = [], []
        label = self.measure_label
        gate = design["posthoc_gate"]
        withheld = False
        figs: list[Any] = []
        # the study file's group and time-point order (nplab.stats level-order rule)
        levels = {"group": ctx.group_order(), "timepoint": tps, "paw": list(_ALL_PAWS)}
        for paw, rows, within in _units(data, design["within"]):
            d, dropped = _complete(rows, dv, tps)
            if d.empty or d["group"].nunique() < 2:
                continue
            anova = ph = None
            if "mixed_anova" in planned:
                anova = stats.mixed_anova(d, dv=dv, between=["group", *extra], within=within,
                                          subject="animal", observed=extra or None,
                                          levels=levels)
                anova.insert(0, "paw", paw)
                anova.insert(1, "n_animals", d["animal"].nunique())
                anova.insert(2, "animals_dropped_incomplete", ";".join(dropped))
                anovas.append(anova)
            if "dunnett" in planned and ctrl is not None:
                ph = stats.dunnett_by_time(d, dv=dv, between="group", within=within,
                                           subject="animal", control=ctrl, by=extra or None,
                                           levels=levels)
                ph = unblind(ph, ctx.key)
                if "paw" not in ph.columns:
                    ph.insert(0, "paw", paw)
                posthocs.append(ph[["paw", *[c for c in ph.columns if c != "paw"]]])
            # descriptive: every non-excluded animal, incomplete ones too (n per point)
            figs += self._figures(ctx, sec, unblind(rows, ctx.key), ph, extra, alpha)
            if anova is not None and ph is not None:
                withheld |= bool((ph["p"] < alpha).any()) and not stats.omnibus_passed(
                    anova, "group", gate, alpha)[0]
            if anova is not None:
                sec.p(f"{_PAW_WORDS.get(paw, 'Both paws').capitalize()}: "
                      + stats.results_paragraph(
                          anova, dv=ylabel, posthoc=ph, control=study.control_group,
                          within="timepoint" if len(within) == 1 and not extra
                          else [*within, *extra], alpha=alpha, gate=gate,
                          labels={"timepoint": "time point"}))
        stats.share_ylim(figs)  # every paw (and stratum) on the same y range
        sec.table(unblind(desc[desc["paw"] == primary], ctx.key).drop(columns=["measure"]),
                  f"{primary} paw: {ylabel} by group and time point")
        if anovas:
            anova = pd.concat(anovas, ignore_index=True)
            rep.tables[f"{name}_anova"] = anova
            factors = ["group", *extra, "time point", *(["paw"] if "+" in anova["paw"].iloc[0]
                                                        else [])]
            words = {2: "Two", 3: "Three", 4: "Four", 5: "Five"}.get(len(factors), "Multi")
            sec.table(anova[["paw", "source", "df1", "df2", "F", "p", "eps_gg", "p_gg", "np2",
                             "ges"]],
                      f"{words}-way mixed ANOVA ({' × '.join(factors)}), Type III, "
                      "Greenhouse–Geisser corrected p")
            between_words = " × ".join(["group", *extra])
            within_words = " × ".join(factors[len(extra) + 1:])
            rep.methods.append(
                f"{label.capitalize()} ({ylabel}): {words.lower()}-way mixed ANOVA, "
                f"{between_words} (between) × {within_words} (within), Type III sums of "
                "squares, Greenhouse–Geisser and Huynh–Feldt corrections"
                + (f", generalised η² with {', '.join(extra)} as measured (observed) factor"
                   if extra else "") + " (nplab.stats.mixed_anova)."
            )
        if "endpoints" in planned:
            self._endpoints(ctx, data, rep)
        if "dunnett" in planned and ctrl is None:
            sec.note("No comparison with control: the study is blind without a key, or "
                     "declares no control group.")
        if posthocs:
            dun = ctx.order_table(pd.concat(posthocs, ignore_index=True))
            rep.tables[f"{name}_dunnett"] = dun
            post = set(study.postdose["label"])
            within_of = "" if not extra else f" within each {' × '.join(extra)}"
            shown = _cited_or_postdose(dun, primary, post, alpha)
            cited_more = not (shown["paw"].eq(primary) & shown["timepoint"].isin(post)).all()
            sec.table(shown,
                      f"Dunnett's test vs {study.control_group} at each post-dose time point"
                      f"{within_of} ({primary} paw)"
                      + (" and at the other time points the results cite" if cited_more
                         else "")
                      + f"; difference in {ylabel}, 95% simultaneous CI")
            rep.facts["has_effect_ci"] = True
            rep.methods.append(
                f"Comparisons with {study.control_group} at each time point{within_of}: "
                "Dunnett's many-to-one test with the error of that time point"
                + (" pooled over all between-animal cells (df = N − number of cells, as "
                   "emmeans' multivariate model)" if extra else "")
                + " (nplab.stats.dunnett_by_time)."
            )
            if withheld:
                rep.methods.append(
                    "Post hoc differences are reported as shown only when "
                    + ("an omnibus effect involving group" if gate == "omnibus" else
                       "an interaction of group with a within-animal factor")
                    + " was significant (study file: design.posthoc_gate = "
                    f"\"{gate}\")."
                )
        return rep

    def _figures(self, ctx: AssayContext, sec: Section, named: pd.DataFrame,
                 ph: pd.DataFrame | None, extra: list[str], alpha: float) -> list[Any]:
        """One time-course figure per paw (and per level of the extra between factors);
        returns them (for a shared y range)."""
        from nplab import stats

        study = ctx.study
        label, name = self.measure_label, self.name
        fig_label, fig_log = self.figure_axis(ctx)
        tps = list(study.timepoints["label"])
        figs = []
        for at, sub in named.groupby(["paw", *extra], sort=False):
            at = at if isinstance(at, tuple) else (at,)
            paw, strata = at[0], dict(zip(extra, at[1:], strict=True))
            sel = ph
            if ph is not None:
                mask = ph["paw"] == paw
                for f, v in strata.items():
                    mask &= ph[f].astype(str) == str(v)
                sel = ph[mask]
            where = "".join(f", {f} {v}" for f, v in strata.items())
            fig = stats.timecourse_figure(
                sub, self.dv(ctx)[0], "group", "timepoint", "animal", posthoc=sel,
                alpha=alpha, ylabel=fig_label, log10=fig_log,
                title=f"{label.capitalize()}, {paw} paw{where}", control=study.control_group,
                levels={"timepoint": tps},
            )
            figs.append(fig)
            suffix = "".join(f"_{_slug(v)}" for v in strata.values())
            sec.plot(fig, f"{name}_timecourse_{paw}{suffix}",
                     f"{label.capitalize()} of the {_PAW_WORDS[paw]}{where} over time: mean ± "
                     "SEM per group" + (f" of the log10 values (geometric mean) on a log axis "
                                        f"in {self.unit}" if fig_log else "")
                     + "; individual animals as faint points; n per point in the legend (and "
                     "under the axis where it varies); excluded animals left out; the same y "
                     "range for every paw" + (f"; {stats.marks_note(study.control_group)}."
                                              if ph is not None else "."))
        return figs

    def _endpoints(self, ctx: AssayContext, data: pd.DataFrame, rep: AssayReport) -> None:
        """%MPE, % reversal, change and AUC per animal (nplab.stats.endpoints); group
        means; Dunnett on the AUC of the change from pre-dose."""
        from nplab import stats
        from nplab.stats.endpoints import endpoints

        study, sec, name = ctx.study, rep.section, self.name
        if not (study.baseline_label and study.predose_label and len(study.postdose)):
            sec.note("Endpoints need a baseline, a pre-dose and post-dose time points.")
            return
        raw, cutoff, log10 = self.endpoint_spec(ctx, ctx.protocols[name])
        hours = dict(zip(study.postdose["label"], study.postdose["hours"], strict=True))
        d = data[data["timepoint"].isin([study.baseline_label, study.predose_label, *hours])
                 ].copy()
        d["time"] = d["timepoint"].map(lambda t: hours.get(t, t)).astype(object)
        d = d.dropna(subset=[raw])
        proto = ctx.protocols[name]
        margin = proto.get("injury_margin_pct")
        sham = sorted(set(d.loc[d["model"].astype("string") == "sham", "animal"]))
        whole = set(d["paw"]) == {"whole"}
        ep = endpoints(d.drop(columns="paw") if whole else d, dv=raw, subject="animal",
                       time="time", baseline=study.baseline_label,
                       predose=study.predose_label, cutoff=cutoff,
                       paw=None if whole else "paw", log10=log10, group="group",
                       min_drop_pct=margin, sham=sham, levels={"group": ctx.group_order()})
        if whole:
            ep.insert(list(ep.columns).index("group") + 1, "paw", "whole")
        ep = ctx.order_table(ep)
        rep.tables[f"{name}_endpoints"] = unblind(ep, ctx.key)
        summ = describe(ep.assign(time=ep["time"].fillna("")),
                        ["group", "paw", "endpoint", "time"], "value")
        summ = unblind(ctx.order_table(summ), ctx.key)
        rep.tables[f"{name}_endpoint_summary"] = summ
        paw = _primary_paw(study, data)
        show = summ[(summ["paw"] == paw)
                    & summ["endpoint"].isin(["mpe", "reversal", "auc_change"])]
        scale = "log10 units" if log10 else self.unit
        sec.table(_wide_endpoints(show), f"Endpoints ({paw} paw), mean ± SEM (n): %MPE and % "
                  f"reversal at each post-dose time (h), AUC of the change from pre-dose "
                  f"({scale}·h); all values in tables/{name}_endpoint_summary.csv. %MPE and "
                  f"% reversal are not defined for sham animals"
                  + ("" if margin is None else f" or where the pre-dose value was not below "
                     f"baseline by {margin:g}%") + " (flagged in "
                  f"tables/{name}_endpoints.csv, left out of the means; n counts the "
                  "animals with a defined value)")
        rep.methods.append(
            f"Endpoints per animal ({name}): %MPE = (post − pre)/(cut-off − pre) × 100 "
            f"(cut-off {self.cutoff_text(ctx.protocols[name], cutoff)}), % reversal = "
            "(post − pre)/(baseline − pre) × 100, "
            f"trapezoidal AUC of the change from pre-dose over the post-dose hours"
            f"{' on log10 thresholds (Mills et al. 2012)' if log10 else ''} "
            "(nplab.stats.endpoints)."
        )
        ctrl = ctx.control
        if ctrl is None or "dunnett" not in study.analysis["planned"]:
            return
        auc = ep[(ep["endpoint"] == "auc_change") & ep["paw"].isin(_ALL_PAWS)].dropna(
            subset=["value"])
        rows = []
        for p in _ALL_PAWS:
            a = auc[auc["paw"] == p]
            if a["group"].nunique() >= 2 and ctrl in set(a["group"]):
                res = stats.dunnett(a, dv="value", group="group", control=ctrl,
                                    levels={"group": ctx.group_order()})
                res.insert(0, "paw", p)
                res.insert(1, "endpoint", "auc_change")
                rows.append(res)
        if rows:
            dun = unblind(ctx.order_table(pd.concat(rows, ignore_index=True)), ctx.key)
            rep.tables[f"{name}_auc_dunnett"] = dun
            sec.table(dun[dun["paw"] == paw],
                      f"Dunnett's test vs {study.control_group} on the AUC of the change from "
                      f"pre-dose ({paw} paw)")
