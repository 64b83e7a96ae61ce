"""``run_study``: from a study file to tables, figures, report and manifest.

Pure orchestration: every number comes from the capability modules
(:mod:`nplab.vonfrey`, :mod:`nplab.hargreaves`, :mod:`nplab.ephys`,
:mod:`nplab.doseresponse`, :mod:`nplab.stats`); this module reads the inputs the study
file names, applies the study's exclusion rules (with reasons), runs the planned
analyses per assay and paw, unblinds at the end (:mod:`nplab.blinding`) and writes

``OUTDIR/``
    ``report.html`` (self-contained, :mod:`nplab.report`), ``manifest.json``
    (inputs and outputs with sha256, resolved protocols, versions),
    ``tables/*.csv`` and ``figures/*.png|svg``.

Everything is staged (:func:`nplab.tables.staged_outputs`): a run that fails leaves
OUTDIR as it was.  Rows are sorted and figures written without dates, so the same
inputs give byte-identical outputs (checked by ``nplab verify``).
"""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab import __version__, figures
from nplab.animals import read_animals, resolve_paws
from nplab.blinding import blinding_statement, check_codes, read_key, unblind
from nplab.errors import InputError
from nplab.protocols import Protocol
from nplab.provenance import DEFAULT_SEED, build_manifest, write_manifest
from nplab.report import Figure, Section, arrive_essential10, render_report
from nplab.study import Study, load_study
from nplab.tables import read_table, staged_outputs, write_table

__all__ = ["RunResult", "apply_exclusions", "cohorts", "run_study", "save_figure"]

_PAWS = ("ipsi", "contra")


@dataclass
class RunResult:
    """What :func:`run_study` wrote.

    Attributes
    ----------
    study
        The validated study.
    outdir
        The output folder.
    outputs
        Output files relative to ``outdir`` (sorted), manifest excluded.
    exclusions
        The exclusions table (``animal, group, rule, reason``).
    """

    study: Study
    outdir: Path
    outputs: list[str]
    exclusions: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)


# --------------------------------------------------------------------------- helpers


class _Writer:
    """Collect tables and figures into the staging folder, remembering what was written."""

    def __init__(self, stage: Path) -> None:
        self.stage = stage
        self.files: list[Path] = []
        self.tables: dict[str, pd.DataFrame] = {}

    def table(self, name: str, df: pd.DataFrame) -> pd.DataFrame:
        path = self.stage / "tables" / f"{name}.csv"
        write_table(df.reset_index(drop=True), path)
        self.files.append(path)
        self.tables[name] = df
        return df

    def figure(self, fig: Any, name: str, caption: str) -> Figure:
        out = save_figure(fig, self.stage / "figures", name)
        self.files.extend(out)
        return Figure(name=f"figures/{name}", caption=caption, svg=out[1].read_bytes())


def save_figure(fig: Any, folder: Path, name: str) -> tuple[Path, Path]:
    """Save a matplotlib figure as ``name.png`` and ``name.svg`` reproducibly; close it.

    Uses :func:`nplab.figures.save_figure` (no date/software metadata, fixed SVG ids),
    so identical figures give identical bytes.
    """
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    png = figures.save_figure(fig, folder / f"{name}.png", dpi=110)
    svg = figures.save_figure(fig, folder / f"{name}.svg")
    plt.close(fig)
    return png, svg


def _sorted(df: pd.DataFrame, keys: Iterable[str]) -> pd.DataFrame:
    keys = [k for k in keys if k in df.columns]
    return df.sort_values(keys, kind="mergesort").reset_index(drop=True) if keys else df


# ------------------------------------------------------------------------ exclusions


def apply_exclusions(
    study: Study,
    animals: pd.DataFrame,
    measures: dict[str, pd.DataFrame],
) -> pd.DataFrame:
    """Decide which animals are excluded, and why.

    Parameters
    ----------
    study
        Supplies the ``[[exclusions]]`` rules.
    animals
        The animals table (``excluded``/``exclusion_reason`` columns are honoured:
        rule ``animals table``).
    measures
        Per assay, one row per animal × paw × timepoint: von Frey with ``threshold_g``
        and ``status``, Hargreaves with ``latency_s``.

    Returns
    -------
    DataFrame
        One row per excluded animal and rule: ``animal, group, model, rule, reason``,
        sorted by animal.  Rules are applied to animals whose ``model`` is listed in
        the rule's ``models``; a rule that cannot be checked because the test is
        missing excludes the animal and says so.
    """
    rows: list[dict[str, Any]] = []
    info = animals.set_index("animal")
    for a in animals.loc[animals["excluded"], "animal"]:
        reason = info.at[a, "exclusion_reason"]
        rows.append(
            {
                "animal": a,
                "rule": "animals table",
                "reason": str(reason) if pd.notna(reason) and str(reason) else "marked excluded",
            }
        )
    for rule in study.exclusions:
        table = measures[rule["assay"]]
        tp, paw = rule["timepoint"], rule["paw"]
        models = set(rule["models"])
        model_col = info["model"].astype("string")
        candidates = [a for a in animals["animal"] if model_col.get(a) in models]
        sub = table[(table["timepoint"] == tp) & (table["paw"] == paw)].set_index("animal")
        base = None
        if rule["min_drop_pct"] is not None:
            bl = table[(table["timepoint"] == study.baseline_label) & (table["paw"] == paw)]
            base = bl.set_index("animal")
        for a in candidates:
            if a not in sub.index:
                rows.append(
                    {"animal": a, "rule": rule["name"],
                     "reason": f"no {paw} {rule['assay']} test at {tp}: the rule cannot be checked"}
                )
                continue
            reasons = []
            if rule["assay"] == "vonfrey":
                thr = float(sub.at[a, "threshold_g"])
                status = str(sub.at[a, "status"])
                if rule["max_threshold_g"] is not None and (
                    status == "above_range" or thr > rule["max_threshold_g"]
                ):
                    shown = "above the strongest filament" if status == "above_range" else (
                        f"{thr:.3g} g")
                    reasons.append(
                        f"{paw} threshold at {tp} {shown} > {rule['max_threshold_g']:g} g"
                    )
                if rule["min_drop_pct"] is not None and base is not None and a in base.index:
                    b = float(base.at[a, "threshold_g"])
                    drop = (1.0 - thr / b) * 100.0 if b > 0 else float("nan")
                    if not drop >= rule["min_drop_pct"]:
                        reasons.append(
                            f"{paw} threshold dropped {drop:.1f}% from baseline "
                            f"(< {rule['min_drop_pct']:g}%)"
                        )
            else:
                lat = float(sub.at[a, "latency_s"])
                if not lat <= rule["max_latency_s"]:
                    reasons.append(
                        f"{paw} latency at {tp} {lat:.3g} s > {rule['max_latency_s']:g} s"
                    )
            if reasons:
                rows.append({"animal": a, "rule": rule["name"], "reason": "; ".join(reasons)})
    out = pd.DataFrame(rows, columns=["animal", "rule", "reason"])
    out.insert(1, "group", out["animal"].map(info["group"]).astype("string"))
    out.insert(2, "model", out["animal"].map(info["model"]).astype("string"))
    return _sorted(out, ["animal", "rule"])


# --------------------------------------------------------------------------- assays


def _join_animals(
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


def _check_timepoints(df: pd.DataFrame, study: Study, file: Path) -> None:
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


@dataclass
class _Context:
    """State shared by the steps of one run."""

    study: Study
    animals: pd.DataFrame
    key: dict[str, str] | None
    writer: _Writer
    batch: dict[str, Any]
    excluded: pd.DataFrame | None = None
    protocols: dict[str, Protocol] = field(default_factory=dict)
    extra_inputs: list[Path] = field(default_factory=list)
    summary: list[str] = field(default_factory=list)
    methods: list[str] = field(default_factory=list)
    n_per_group: dict[str, int] = field(default_factory=dict)
    has_effect_ci: bool = False
    blinding_text: str = ""
    other_animals: frozenset[str] = frozenset()

    def inputs(self) -> list[Path]:
        return [*self.study.input_files(), *sorted(set(self.extra_inputs))]

    def group_name(self, label: str) -> str:
        return self.key.get(label, label) if self.key else label

    @property
    def control(self) -> str | None:
        """Control group label *in the data's coding* (None while blind without a key)."""
        ctrl = self.study.control_group
        if ctrl is None:
            return None
        if not self.study.blinded:
            return ctrl
        if self.key is None:
            return None
        codes = [c for c, g in self.key.items() if g == ctrl]
        return codes[0] if codes else None

    def group_order(self) -> list[str]:
        """Group labels in the data's coding, in the study file's group order."""
        names = list(self.study.groups["name"])
        if self.study.blinded:
            if self.key is None:
                return sorted(set(self.animals["group"]))
            inv = {g: c for c, g in self.key.items()}
            return [inv[g] for g in names if g in inv]
        return names


# ------------------------------------------------------------------- measurement


def _order_table(ctx: _Context, df: pd.DataFrame, extra: Iterable[str] = ()) -> pd.DataFrame:
    """Sort rows by group (study order), animal, paw (ipsi first), time point (study order)."""
    out = df.copy()
    keys: list[str] = []
    if "group" in out.columns:
        order = ctx.group_order()
        rank = {g: i for i, g in enumerate(order)}
        rank.update({ctx.group_name(g): i for i, g in enumerate(order)})
        out["_g"] = out["group"].map(lambda g: rank.get(g, len(rank)))
        keys.append("_g")
    if "animal" in out.columns:
        keys.append("animal")
    if "paw" in out.columns:
        out["_p"] = out["paw"].map({"ipsi": 0, "contra": 1})
        keys.append("_p")
    if "timepoint" in out.columns:
        rank_t = dict(zip(ctx.study.timepoints["label"], ctx.study.timepoints["order"],
                          strict=True))
        out["_t"] = out["timepoint"].map(rank_t)
        keys.append("_t")
    keys.extend(extra)
    out = out.sort_values(keys, kind="mergesort") if keys else out
    return out.drop(columns=[c for c in ("_g", "_p", "_t") if c in out.columns]).reset_index(
        drop=True
    )


def _measure_vonfrey(ctx: _Context) -> pd.DataFrame:
    from nplab.protocols import load_protocol
    from nplab.vonfrey import thresholds

    path = ctx.study.data["vonfrey"]
    proto = load_protocol(ctx.study.protocols["vonfrey"], kind="vonfrey")
    ctx.protocols["vonfrey"] = proto
    res = thresholds(path, protocol=proto)
    res.attrs["source"] = str(path)
    _check_timepoints(res, ctx.study, path)
    res = _join_animals(res, ctx.animals, path, ctx.other_animals)
    return _order_table(ctx, res)


def _measure_hargreaves(ctx: _Context) -> pd.DataFrame:
    from nplab.hargreaves import summarise
    from nplab.protocols import load_protocol

    path = ctx.study.data["hargreaves"]
    proto = load_protocol(ctx.study.protocols["hargreaves"], kind="hargreaves")
    ctx.protocols["hargreaves"] = proto
    _check_timepoints(read_table(path, required=("animal", "paw", "timepoint")), ctx.study,
                      path)
    res = summarise(path, protocol=proto)
    res = _join_animals(res.drop(columns=[c for c in ("group", "model") if c in res.columns]),
                        ctx.animals, path, ctx.other_animals)
    return _order_table(ctx, res)


def _measure_behaviour(ctx: _Context) -> dict[str, pd.DataFrame]:
    out: dict[str, pd.DataFrame] = {}
    if "vonfrey" in ctx.study.data:
        out["vonfrey"] = _measure_vonfrey(ctx)
    if "hargreaves" in ctx.study.data:
        out["hargreaves"] = _measure_hargreaves(ctx)
    return out


# ---------------------------------------------------------------------- analysis

_ASSAY = {
    "vonfrey": {
        "title": "Mechanical allodynia: von Frey 50% withdrawal threshold",
        "measure": "50% withdrawal threshold",
    },
    "hargreaves": {
        "title": "Thermal hyperalgesia: Hargreaves withdrawal latency",
        "measure": "withdrawal latency",
    },
}


def _dv(ctx: _Context, assay: str) -> tuple[str, str]:
    """(column, label with unit) analysed for an assay."""
    if assay == "vonfrey":
        if ctx.study.analysis.get("log10_thresholds", True):
            return "log10_threshold", "log10 threshold (g)"
        return "threshold_g", "threshold (g)"
    return "latency_s", "latency (s)"


def _describe(data: pd.DataFrame, keys: list[str], value: str) -> pd.DataFrame:
    """n (non-missing), mean, SD and SEM of ``value`` per ``keys`` (first-seen order)."""
    g = data.groupby(keys, sort=False)[value]
    out = g.agg(n="count", mean="mean", sd="std").reset_index()
    out["sem"] = out["sd"] / np.sqrt(out["n"])
    return out


def _descriptives(ctx: _Context, data: pd.DataFrame, dv: str) -> pd.DataFrame:
    """n, mean, SD, SEM of ``dv`` per group × paw × time point (log10: geometric mean g)."""
    out = _describe(data, ["group", "paw", "timepoint"], dv)
    if dv == "log10_threshold":
        out["geometric_mean_g"] = 10.0 ** out["mean"]
    out.insert(3, "measure", dv)
    return _order_table(ctx, out)


def _complete(data: pd.DataFrame, dv: str, tps: list[str]) -> tuple[pd.DataFrame, list[str]]:
    """Animals with ``dv`` at every time point in ``tps`` (dropped animals listed)."""
    d = data[data["timepoint"].isin(tps)]
    counts = d.dropna(subset=[dv]).groupby("animal")["timepoint"].nunique()
    keep = counts[counts == len(tps)].index
    dropped = sorted(set(d["animal"]) - set(keep))
    return d[d["animal"].isin(keep)], dropped


def _behaviour(ctx: _Context, assay: str, table: pd.DataFrame) -> Section:
    """One behavioural assay: descriptives, mixed ANOVA, Dunnett by time point, results
    paragraph and time-course figure per paw, endpoints."""
    from nplab import stats

    study, w = ctx.study, ctx.writer
    info = _ASSAY[assay]
    dv, ylabel = _dv(ctx, assay)
    excluded = set(ctx.excluded["animal"]) if ctx.excluded is not None else set()
    data = table[~table["animal"].isin(excluded)].copy()
    sec = Section(info["title"], assay)
    proto = ctx.protocols[assay]
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
                + f". See tables/{assay}_{'thresholds' if assay == 'vonfrey' else 'summary'}.csv."
            )
    planned = set(study.analysis["planned"])
    alpha = float(study.analysis.get("alpha", 0.05))
    desc = _descriptives(ctx, data, dv)
    w.table(f"{assay}_descriptives", unblind(desc, ctx.key))
    tps = list(study.timepoints["label"])
    ctrl = ctx.control
    primary = study.outcomes["primary_paw"]
    anovas, posthocs = [], []
    for paw in sorted(set(data["paw"]), key=_PAWS.index):
        d, dropped = _complete(data[data["paw"] == paw], dv, tps)
        if d.empty or d["group"].nunique() < 2:
            continue
        named = unblind(d, ctx.key)
        anova = ph = None
        if "mixed_anova" in planned:
            anova = stats.mixed_anova(d, dv=dv, between="group", within="timepoint",
                                      subject="animal")
            anova.insert(0, "paw", paw)
            anova.insert(1, "n_animals", d["animal"].nunique())
            anova.insert(2, "animals_dropped_incomplete", ";".join(dropped))
            anovas.append(anova)
        if "dunnett" in planned and ctrl is not None:
            ph = stats.dunnett_by_time(d, dv=dv, between="group", within="timepoint",
                                       subject="animal", control=ctrl)
            ph = unblind(ph, ctx.key)
            ph.insert(0, "paw", paw)
            posthocs.append(ph)
        fig = stats.timecourse_figure(
            named, dv, "group", "timepoint", "animal", posthoc=ph, alpha=alpha,
            ylabel=f"{ylabel}, mean ± SEM", title=f"{info['measure'].capitalize()}, {paw} paw",
        )
        sec.figure(w.figure(fig, f"{assay}_timecourse_{paw}",
                            f"{info['measure'].capitalize()} of the {paw}lateral paw over time, "
                            "mean ± SEM per group (excluded animals left out"
                            + ("; stars: Dunnett vs control at that time point)" if ph is not None
                               else ")")))
        if anova is not None:
            sec.p(f"{paw.capitalize()}lateral paw: " + stats.results_paragraph(
                anova, dv=ylabel, posthoc=ph, control=study.control_group,
                within="timepoint", alpha=alpha))
    sec.table(unblind(desc[desc["paw"] == primary], ctx.key).drop(columns=["measure"]),
              f"{primary} paw: {ylabel} by group and time point")
    if anovas:
        anova = pd.concat(anovas, ignore_index=True)
        w.table(f"{assay}_anova", anova)
        sec.table(anova[["paw", "source", "df1", "df2", "F", "p", "eps_gg", "p_gg", "np2",
                         "ges"]],
                  "Two-way mixed ANOVA (group × time point), Type III, Greenhouse–Geisser "
                  "corrected p")
        ctx.methods.append(
            f"{info['measure'].capitalize()} ({ylabel}): two-way mixed ANOVA, group "
            "(between) × time point (within), Type III sums of squares, Greenhouse–Geisser "
            "and Huynh–Feldt corrections (nplab.stats.mixed_anova)."
        )
    if "endpoints" in planned:
        _endpoints(ctx, assay, data, sec)
    if "dunnett" in planned and ctrl is None:
        sec.note("No comparison with control: the study is blind without a key, or "
                 "declares no control group.")
    if posthocs:
        dun = _order_table(ctx, pd.concat(posthocs, ignore_index=True))
        w.table(f"{assay}_dunnett", dun)
        post = set(study.postdose["label"])
        sec.table(dun[(dun["paw"] == primary) & dun["timepoint"].isin(post)],
                  f"Dunnett's test vs {study.control_group} at each post-dose time point "
                  f"({primary} paw; difference in {ylabel}, 95% simultaneous CI)")
        ctx.has_effect_ci = True
        ctx.methods.append(
            f"Comparisons with {study.control_group} at each time point: Dunnett's "
            "many-to-one test with the error of that time point (nplab.stats.dunnett_by_time)."
        )
    return sec


def _endpoints(ctx: _Context, assay: str, data: pd.DataFrame, sec: Section) -> None:
    """%MPE, % reversal, change and AUC per animal (nplab.stats.endpoints); group means;
    Dunnett on the AUC of the change from pre-dose."""
    from nplab import stats
    from nplab.stats.endpoints import endpoints

    study, w = ctx.study, ctx.writer
    if not (study.baseline_label and study.predose_label and len(study.postdose)):
        sec.note("Endpoints need a baseline, a pre-dose and post-dose time points.")
        return
    proto = ctx.protocols[assay]
    hours = dict(zip(study.postdose["label"], study.postdose["hours"], strict=True))
    d = data[data["timepoint"].isin([study.baseline_label, study.predose_label, *hours])].copy()
    d["time"] = d["timepoint"].map(lambda t: hours.get(t, t)).astype(object)
    if assay == "vonfrey":
        raw, cutoff = "threshold_g", proto.get("above_value_g")
        log10 = bool(study.analysis.get("log10_thresholds", True))
    else:
        raw, cutoff, log10 = "latency_s", proto.get("cutoff_s"), False
    d = d.dropna(subset=[raw])
    ep = endpoints(d, dv=raw, subject="animal", time="time",
                         baseline=study.baseline_label, predose=study.predose_label,
                         cutoff=cutoff, paw="paw", log10=log10, group="group")
    ep = _order_table(ctx, ep)
    w.table(f"{assay}_endpoints", unblind(ep, ctx.key))
    summ = _describe(ep.assign(time=ep["time"].fillna("")),
                     ["group", "paw", "endpoint", "time"], "value")
    summ = unblind(_order_table(ctx, summ), ctx.key)
    w.table(f"{assay}_endpoint_summary", summ)
    paw = study.outcomes["primary_paw"]
    show = summ[(summ["paw"] == paw) & summ["endpoint"].isin(["mpe", "reversal", "auc_change"])]
    scale = "log10 units" if log10 else ("s" if assay == "hargreaves" else "g")
    sec.table(_wide_endpoints(show), f"Endpoints ({paw} paw), mean ± SEM (n): %MPE and % "
              f"reversal at each post-dose time (h), AUC of the change from pre-dose "
              f"({scale}·h); all values in tables/{assay}_endpoint_summary.csv")
    ctx.methods.append(
        f"Endpoints per animal ({assay}): %MPE = (post − pre)/(cut-off − pre) × 100 "
        f"(cut-off {cutoff:g}), % reversal = (post − pre)/(baseline − pre) × 100, "
        f"trapezoidal AUC of the change from pre-dose over the post-dose hours"
        f"{' on log10 thresholds (Mills et al. 2012)' if log10 else ''} "
        "(nplab.stats.endpoints)."
    )
    ctrl = ctx.control
    if ctrl is None or "dunnett" not in study.analysis["planned"]:
        return
    auc = ep[(ep["endpoint"] == "auc_change") & ep["paw"].isin(_PAWS)].dropna(subset=["value"])
    rows = []
    for p in _PAWS:
        a = auc[auc["paw"] == p]
        if a["group"].nunique() >= 2 and ctrl in set(a["group"]):
            res = stats.dunnett(a, dv="value", group="group", control=ctrl)
            res.insert(0, "paw", p)
            res.insert(1, "endpoint", "auc_change")
            rows.append(res)
    if rows:
        dun = unblind(_order_table(ctx, pd.concat(rows, ignore_index=True)), ctx.key)
        w.table(f"{assay}_auc_dunnett", dun)
        sec.table(dun[dun["paw"] == paw],
                  f"Dunnett's test vs {study.control_group} on the AUC of the change from "
                  f"pre-dose ({paw} paw)")


def _wide_endpoints(summ: pd.DataFrame) -> pd.DataFrame:
    """Group × endpoint rows, one column per time, cells ``mean ± SEM (n)``."""
    cells = summ.assign(
        cell=[f"{m:.3g} ± {e:.2g} ({n})" if np.isfinite(m) else f"— ({n})"
              for m, e, n in zip(summ["mean"], summ["sem"].fillna(0.0), summ["n"], strict=True)],
        time=summ["time"].map(lambda t: "AUC" if t in ("", None) else f"{t} h"),
        endpoint=summ["endpoint"].map({"mpe": "%MPE", "reversal": "% reversal",
                                       "auc_change": "AUC of change"}),
    )
    wide = cells.pivot_table(index=["group", "endpoint"], columns="time", values="cell",
                             aggfunc="first", sort=False)
    return wide.reset_index().fillna("")


# ----------------------------------------------------------------------- sections


def _study_section(ctx: _Context) -> Section:
    s = ctx.study
    sec = Section("Study", "study")
    m = s.meta
    if m["objectives"]:
        sec.p(m["objectives"])
    if m["design"]:
        sec.p(m["design"])
    groups = unblind(ctx.animals[["animal", "group"]], ctx.key)
    n = groups.groupby("group").size()
    g = s.groups[["name", "treatment", "dose", "unit", "route", "model", "control"]].copy()
    g.insert(1, "n_allocated", g["name"].map(n).fillna(0).astype(int))
    sec.table(g, "Groups")
    tp = s.timepoints[["label", "kind", "days", "hours"]]
    sec.table(tp, "Time points (days relative to surgery; hours after dosing)")
    sec.p(ctx.blinding_text)
    return sec


def _exclusion_section(ctx: _Context, excl: pd.DataFrame) -> Section:
    sec = Section("Exclusions", "exclusions")
    if ctx.study.exclusions:
        sec.items(
            f"{r['name']}: {r['description'] or ''} ({r['assay']}, {r['paw']} paw at "
            f"{r['timepoint']}; applies to {', '.join(r['models'])})"
            for r in ctx.study.exclusions
        )
    else:
        sec.note("The study file declares no a-priori exclusion rules.")
    if excl.empty:
        sec.p("No animal was excluded.")
    else:
        sec.p(f"{excl['animal'].nunique()} animal(s) excluded before the statistics, "
              "decided on coded groups before unblinding:" if ctx.study.blinded else
              f"{excl['animal'].nunique()} animal(s) excluded before the statistics:")
        sec.table(excl, "Excluded animals and reasons")
    return sec


def _arrive_section(arrive: pd.DataFrame) -> Section:
    sec = Section("ARRIVE 2.0 Essential 10", "arrive")
    missing = arrive[arrive["status"] != "reported"]
    sec.p(f"{(arrive['status'] == 'reported').sum()} of 10 items are fully reported from "
          "the study file and this run.")
    if len(missing):
        sec.p("Missing or incomplete items (add them to the study file):")
        sec.items(f"{r.item}. {r.title}: {r.missing}" for r in missing.itertuples())
    sec.table(arrive, "ARRIVE 2.0 Essential 10 checklist (Percie du Sert et al. 2020)")
    return sec


def _arrive_facts(ctx: _Context) -> dict[str, Any]:
    excl = ctx.excluded if ctx.excluded is not None else pd.DataFrame(columns=["animal"])
    kept = ctx.animals[~ctx.animals["animal"].isin(excl["animal"])]
    npg = unblind(kept, ctx.key).groupby("group").size()
    order = [ctx.group_name(g) for g in ctx.group_order()]
    n_per_group = {g: int(npg.get(g, 0)) for g in order}
    reasons = unblind(excl, ctx.key) if len(excl) else excl
    return {
        "n_per_group": n_per_group,
        "n_total": int(sum(n_per_group.values())),
        "excluded": [f"{r.animal} ({r.group}): {r.reason}" for r in reasons.itertuples()],
        "methods": ctx.methods,
        "software": f"nplab {__version__}",
        "blinding": ctx.blinding_text,
        "has_descriptives": True,
        "has_effect_ci": ctx.has_effect_ci,
    }


# ----------------------------------------------------------------------------- run


def run_study(
    study_path: str | os.PathLike[str],
    outdir: str | os.PathLike[str],
    *,
    executor: str | None = None,
    scheduler: str | None = None,
    jobs: int | None = None,
    progress: bool | None = None,
    cohort: str | None = None,
) -> RunResult:
    """Run every analysis a study file declares and write the outputs into ``outdir``.

    Parameters
    ----------
    study_path
        The ``.toml`` study file (:func:`nplab.study.load_study`).
    outdir
        Output folder (created; files of the same name are replaced, others left).
    executor
        Patch-clamp batch executor as :func:`nplab.batch.map_chunks` takes it
        (``"serial"``, an int, a ``concurrent.futures.Executor``); default: local
        processes for batches of 100+ files, serial below (results identical).
    scheduler
        Dask distributed scheduler address (``tcp://host:8786``) or a
        ``distributed.Client``; implies ``executor="dask"``.
    jobs
        Local worker processes for the patch-clamp batch (1 = serial).
    progress
        Show a progress bar (default: only when stderr is a terminal).
    cohort
        Analyse only the animals of this ``cohort`` (animals table column); their
        behaviour rows are selected from the shared sheets (patch-clamp data are not
        per animal and are analysed in full).

    Returns
    -------
    RunResult

    Outputs
    -------
    ``tables/exclusions.csv``: animal, group, model, rule, reason.
    ``tables/vonfrey_thresholds.csv`` / ``tables/hargreaves_summary.csv``: the capability
    outputs with ``group`` and ``model`` joined (unblinded).
    ``tables/<assay>_descriptives.csv``: group, paw, timepoint, measure, n, mean, sd,
    sem (+ geometric_mean_g for log10 thresholds).
    ``tables/<assay>_anova.csv``: paw, n_animals, animals_dropped_incomplete and the
    columns of :func:`nplab.stats.mixed_anova`.
    ``tables/<assay>_dunnett.csv``: paw, timepoint and the columns of
    :func:`nplab.stats.dunnett`.
    ``tables/arrive_checklist.csv``: item, title, status, from_study, missing.
    ``figures/*.png|svg``, ``report.html``, ``manifest.json``.

    Raises
    ------
    InputError
        For any problem with the study file or the data it names; nothing is written.
    """
    study = load_study(study_path)
    batch = {"executor": executor, "scheduler": scheduler, "jobs": jobs, "progress": progress}
    return _run(study, Path(outdir), batch, cohort)


def cohorts(study_path: str | os.PathLike[str]) -> list[str]:
    """The cohorts of a study's animals table (sorted; empty when it has none)."""
    animals = read_animals(load_study(study_path).data["animals"])
    values = animals["cohort"].dropna().astype(str).str.strip()
    return sorted(v for v in set(values) if v)


def _select_cohort(animals: pd.DataFrame, cohort: str | None, file: Path) -> pd.DataFrame:
    if cohort is None:
        return animals
    keep = animals["cohort"].astype("string").str.strip() == str(cohort)
    if not keep.fillna(False).any():
        raise InputError(f"no animal is in cohort {cohort!r}", file=file, column="cohort")
    out = animals[keep.fillna(False).to_numpy()].reset_index(drop=True)
    out.attrs = dict(animals.attrs)
    return out


def _previous_outputs(outdir: Path) -> set[str]:
    """Outputs recorded by an earlier ``nplab run`` into ``outdir`` (its manifest.json)."""
    try:
        record = json.loads((Path(outdir) / "manifest.json").read_text(encoding="utf-8"))
        return {str(o["path"]) for o in record["outputs"]}
    except (OSError, ValueError, KeyError, TypeError):
        return set()


def _remove_stale_outputs(outdir: Path, previous: set[str], current: set[str]) -> None:
    """Delete outputs of an earlier run in ``outdir`` that this run did not write.

    Only files the earlier run's manifest lists as its outputs, inside ``outdir``;
    anything else in the folder is left alone.  Without this, e.g. the Hargreaves
    tables of an earlier run stayed beside a new report that has no Hargreaves data.
    """
    root = Path(outdir).resolve()
    for rel in sorted(previous - current):
        f = (root / rel).resolve()
        if f.is_relative_to(root) and f != root / "manifest.json" and f.is_file():
            f.unlink()


def _run(study: Study, outdir: Path, batch: dict[str, Any], cohort: str | None = None
         ) -> RunResult:
    previous = _previous_outputs(outdir)
    all_animals = read_animals(study.data["animals"])
    animals = _select_cohort(all_animals, cohort, study.data["animals"])
    key_path = study.unblinding_key if study.blinded else None
    key = read_key(key_path) if key_path is not None else None
    if study.blinded and key is None:
        # blind and no key: labels must be codes (not group names), at most one per group
        codes = sorted(set(animals["group"].astype(str)))
        named = [c for c in codes if c in set(study.groups["name"])]
        if named or len(codes) > len(study.groups):
            raise InputError(
                f"the study is blinded but the animals table has {len(codes)} group labels"
                + (f" including the group name {named[0]!r}" if named else ""),
                file=study.data["animals"],
                column="group",
                expected=f"at most {len(study.groups)} coded group labels",
            )
    else:
        in_run = all_animals["animal"].isin(set(animals["animal"]))
        check_codes(all_animals.loc[in_run, "group"], study.groups["name"], key,
                    file=study.data["animals"], key_file=key_path)
    with staged_outputs(outdir) as stage:
        w = _Writer(stage)
        ctx = _Context(study=study, animals=animals, key=key, writer=w, batch=batch)
        ctx.other_animals = frozenset(set(all_animals["animal"]) - set(animals["animal"]))
        ctx.blinding_text = blinding_statement(
            study.blinded, key_path, key is not None,
            (study.blinding or {}).get("who", ""),
        )
        measures = _measure_behaviour(ctx)
        excl = apply_exclusions(study, animals, measures)
        ctx.excluded = excl
        sections: list[Section] = []
        names = {"vonfrey": "vonfrey_thresholds", "hargreaves": "hargreaves_summary"}
        primary = study.outcomes["primary"]
        for assay in sorted(measures, key=lambda a: (a != primary, a)):
            w.table(names[assay], unblind(measures[assay], ctx.key))
            sections.append(_behaviour(ctx, assay, measures[assay]))
        if "patchclamp" in study.data:
            sections.append(_patchclamp(ctx))
        excl_out = unblind(excl, key)
        w.table("exclusions", excl_out)
        sections.insert(0, _exclusion_section(ctx, excl_out))
        sections.insert(0, _study_section(ctx))
        arrive = arrive_essential10(study, _arrive_facts(ctx))
        w.table("arrive_checklist", arrive)
        sections.append(_arrive_section(arrive))
        ctx.summary[:0] = _summary(ctx, excl_out)
        if cohort is not None:
            ctx.summary.insert(0, f"Cohort {cohort} only ({len(animals)} of "
                                  f"{len(all_animals)} animals).")
        page = render_report(
            study.title,
            subtitle=" ".join(str(study.meta[k]) for k in ("species", "strain", "sex")
                              if study.meta[k])
            + f", {study.model['type']} model; study file {study.path.name}",
            summary=ctx.summary,
            sections=sections,
            footer=f"Generated by nplab {__version__}. Inputs, protocol parameters and "
            "output hashes are in manifest.json; 'nplab verify manifest.json' reruns the "
            "analysis and checks every output byte for byte.",
        )
        report_path = stage / "report.html"
        with open(report_path, "w", encoding="utf-8", newline="\n") as fh:
            fh.write(page)
        w.files.append(report_path)
        outputs = sorted({p.relative_to(stage).as_posix() for p in w.files})
        record = build_manifest(
            inputs=ctx.inputs(),
            outputs=[stage / o for o in outputs],
            protocols=[study.surgery_protocol, *(ctx.protocols[k] for k in sorted(ctx.protocols))],
            parameters={
                "executor": batch.get("executor"),
                "jobs": batch.get("jobs"),
                "blinded": study.blinded,
                "unblinded_with_key": key is not None,
                "seed": DEFAULT_SEED,
            },
            command=["nplab", *sys.argv[1:]],
            root=study.root,
            output_root=stage,
            extra={
                "study": {
                    "path": str(study.path),
                    "relative_to_outdir": os.path.relpath(study.path, outdir.resolve()),
                    "name": study.name,
                    "cohort": cohort,
                    "title": study.title,
                },
            },
        )
        write_manifest(record, stage / "manifest.json")
    _remove_stale_outputs(outdir, previous, set(outputs))
    return RunResult(study=study, outdir=outdir, outputs=outputs, exclusions=excl_out,
                     tables=w.tables)


def _summary(ctx: _Context, excl: pd.DataFrame) -> list[str]:
    s = ctx.study
    n = len(ctx.animals)
    out = [
        f"{n} {s.meta['species']}s ({s.meta['strain']} {s.meta['sex']}) in "
        f"{len(s.groups)} groups; {s.model['type']} model ({s.surgery_protocol.name} "
        f"protocol); {len(s.timepoints)} time points.",
        f"Excluded: {excl['animal'].nunique()} animal(s)"
        + (f" ({', '.join(sorted(set(excl['animal'])))})" if len(excl) else "") + ".",
        ctx.blinding_text,
    ]
    return out


def _batch_executor(batch: dict[str, Any]) -> Any:
    """The ``executor`` argument of :func:`nplab.ephys.measure` for the run options."""
    if batch.get("scheduler") is not None:
        return batch["scheduler"]
    if batch.get("executor") is not None:
        return batch["executor"]
    jobs = batch.get("jobs")
    if jobs is None:
        return None  # nplab.batch default: local processes for large batches, else serial
    return "serial" if jobs == 1 else int(jobs)


def _patchclamp(ctx: _Context) -> Section:
    """Measure the recordings, per-cell and pooled IC50s, state dependence, references.

    Protocols per condition follow :func:`nplab.ephys.ic50` (an experiment ``protocol``
    column, or conditions named after a ``patchclamp`` protocol); the recordings are
    measured in chunks on the run's executor (serial, local processes or Dask).
    """
    from nplab.ephys.concentrations import read_experiment
    from nplab.ephys.ic50 import ic50
    from nplab.protocols import load_protocol

    study, w = ctx.study, ctx.writer
    path = study.data["patchclamp"]
    exp = read_experiment(str(path))
    files = [path.parent / f for f in dict.fromkeys(exp["file"])]
    for i, f in enumerate(files):
        if not f.is_file():
            raise InputError("recording not found", file=path, row=i + 2, column="file",
                             expected=f"a file at {f}")
    ctx.extra_inputs.extend(files)
    opts = study.patchclamp
    res = ic50(path, protocol=None, h=dict(opts.get("h") or {}) or None,
               references=bool(opts.get("references", True)),
               measure_kwargs={"executor": _batch_executor(ctx.batch),
                               "progress": ctx.batch.get("progress")})
    labels = res.parameters.get("conditions", {None: res.parameters})
    for pars in labels.values():
        label = pars.get("protocol")
        if label:
            name = str(label).split("@")[0]
            ctx.protocols[f"patchclamp:{name}"] = load_protocol(name, kind="patchclamp")
    sec = Section("Patch clamp: concentration–response and IC50", "patchclamp")
    sec.p(f"{exp['cell'].nunique()} cells, {len(files)} recordings, conditions "
          f"{', '.join(dict.fromkeys(exp['condition'].astype(str)))}. Fractional current "
          "I/I_control per cell and concentration; Hill fits per cell; pooled IC50 as the "
          "mean of log10 IC50 over cells passing QC and as one global fit (nplab.ephys.ic50).")
    w.table("patchclamp_sweeps", res.sweeps)
    w.table("patchclamp_cells", res.cells)
    w.table("patchclamp_fits", res.fits)
    pooled = res.fits[res.fits["level"] != "cell"]
    sec.table(pooled[["drug", "condition", "level", "n_cells", "ic50_um", "ic50_ci_low_um",
                      "ic50_ci_high_um", "hill", "ic50_in_range", "status"]],
              "Pooled IC50s (µM) with 95% CIs")
    failed = res.cells[res.cells["cell_status"] != "ok"].drop_duplicates("cell")
    if len(failed):
        sec.p("Cells left out of the pooled fits: " + "; ".join(
            f"{r.cell}: {r.cell_reason}" for r in failed.itertuples()) + ".")
    if res.state is not None:
        w.table("patchclamp_state", res.state)
        sec.table(res.state, "State-dependent block: resting (K_R) and inactivated-state (K_I) "
                             "affinities from 1/K_app = h/K_R + (1 − h)/K_I (Bean et al. 1983)")
    if res.references is not None:
        w.table("patchclamp_references", res.references)
        sec.table(res.references, "Fitted IC50s beside published values")
    fig = _concentration_response_figure(res.cells, pooled)
    sec.figure(w.figure(fig, "patchclamp_concentration_response",
                        "Fractional current per cell (points) and the pooled global Hill fit "
                        "(line) for each drug and condition; log concentration axis."))
    ctx.methods.append(
        "Patch clamp: steady-state current per concentration, fractional current vs "
        "control, Hill-equation fits per cell and pooled (mean log10 IC50 ± SEM; global "
        "fit), drc-style inference (nplab.ephys, nplab.doseresponse)."
    )
    ml = pooled[(pooled["level"] == "pooled_mean_log") & (pooled["drug"] != "vehicle")]
    if len(ml):
        ctx.summary.append("Pooled IC50s (mean log): " + "; ".join(
            f"{r.drug}, {r.condition}: {r.ic50_um:.3g} µM (95% CI {r.ic50_ci_low_um:.3g}–"
            f"{r.ic50_ci_high_um:.3g})" for r in ml.itertuples()) + ".")
    return sec


def _concentration_response_figure(cells: pd.DataFrame, pooled: pd.DataFrame) -> Any:
    import matplotlib.pyplot as plt

    combos = list(dict.fromkeys(zip(cells["drug"], cells["condition"], strict=True)))
    fig, ax = plt.subplots(figsize=(6.4, 4.2))
    for i, (drug, cond) in enumerate(combos):
        color = f"C{i % 10}"
        d = cells[(cells["drug"] == drug) & (cells["condition"] == cond)
                  & (cells["role"] == "drug") & (cells["status"] == "ok")]
        ax.scatter(d["conc_um"], d["fraction"], s=12, color=color, alpha=0.6)
        g = pooled[(pooled["drug"] == drug) & (pooled["condition"] == cond)
                   & (pooled["level"] == "pooled_global")]
        if len(g) and np.isfinite(g["ic50_um"].iloc[0]):
            r = g.iloc[0]
            lo, hi = np.log10(d["conc_um"].min()) - 0.5, np.log10(d["conc_um"].max()) + 0.5
            x = np.logspace(lo, hi, 200)
            top = r["top"] if np.isfinite(r["top"]) else 1.0
            bottom = r["bottom"] if np.isfinite(r["bottom"]) else 0.0
            y = bottom + (top - bottom) / (1.0 + (x / r["ic50_um"]) ** r["hill"])
            ax.plot(x, y, color=color, label=f"{drug}, {cond}: IC50 {r['ic50_um']:.3g} µM")
    ax.set_xscale("log")
    ax.set_xlabel("concentration (µM)")
    ax.set_ylabel("I / I_control")
    ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
