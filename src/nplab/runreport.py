"""The study-wide parts of a run's report: study, exclusions, ARRIVE checklist, summary.

The assays' own sections come from their rooms (:mod:`nplab.assays`); this module
builds what every study report has around them, from the study file and the run.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab import __version__
from nplab.assays.base import AssayContext
from nplab.blinding import unblind
from nplab.report import Section, plural

__all__ = ["arrive_facts", "arrive_section", "exclusion_section", "study_section",
           "summary_lines"]


def study_section(ctx: AssayContext, blinding_text: str) -> Section:
    """Objectives, design, groups with the number allocated, time points, blinding."""
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
    sec.p(blinding_text)
    return sec


def exclusion_section(ctx: AssayContext, excl: pd.DataFrame) -> Section:
    """The a-priori rules and the animals they excluded, with reasons."""
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
        n = plural(excl["animal"].nunique(), "animal")
        sec.p(f"{n} excluded before the statistics, decided on coded groups before "
              "unblinding:" if ctx.study.blinded else f"{n} excluded before the statistics:")
        sec.table(excl, "Excluded animals and reasons")
    return sec


def arrive_section(arrive: pd.DataFrame) -> Section:
    """The ARRIVE 2.0 Essential 10 checklist with the missing items listed."""
    sec = Section("ARRIVE 2.0 Essential 10", "arrive")
    missing = arrive[arrive["status"] != "reported"]
    sec.p(f"{(arrive['status'] == 'reported').sum()} of 10 items are fully reported from "
          "the study file and this run.")
    if len(missing):
        sec.p("Missing or incomplete items (add them to the study file):")
        sec.items(f"{r.item}. {r.title}: {r.missing}" for r in missing.itertuples())
    sec.table(arrive, "ARRIVE 2.0 Essential 10 checklist (Percie du Sert et al. 2020)")
    return sec


def arrive_facts(ctx: AssayContext, methods: list[str], blinding_text: str,
                 has_effect_ci: bool) -> dict[str, Any]:
    """What the run contributes to :func:`nplab.report.arrive_essential10`."""
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
        "methods": methods,
        "software": f"nplab {__version__}",
        "blinding": blinding_text,
        "has_descriptives": True,
        "has_effect_ci": has_effect_ci,
    }


def summary_lines(ctx: AssayContext, excl: pd.DataFrame) -> list[str]:
    """The first lines of the summary box: animals, groups, model, exclusions, blinding
    (one line; the full blinding statement is in the Study section only)."""
    s = ctx.study
    who = " ".join(str(s.meta[k]) for k in ("strain", "sex") if s.meta[k])
    if not s.blinded:
        blind = "Not blinded."
    elif ctx.key is not None:
        blind = ("Blinded: analysed on coded groups, unblinded with the key at the end "
                 "(see Study).")
    else:
        blind = "Blinded: analysed on coded groups; no key given, so groups stay coded."
    return [
        f"{plural(len(ctx.animals), s.meta['species'])}" + (f" ({who})" if who else "")
        + f" in {plural(len(s.groups), 'group')}; {s.model['type']} model "
        f"({s.surgery_protocol.name} protocol); {plural(len(s.timepoints), 'time point')}.",
        f"Excluded: {plural(excl['animal'].nunique(), 'animal')}"
        + (f" ({', '.join(sorted(set(excl['animal'])))})" if len(excl) else "") + ".",
        blind,
    ]
