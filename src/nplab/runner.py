"""``run_study``: from a study file to tables, figures, report and manifest.

Pure orchestration, and no assay is named here: the runner reads the animals table
and the blinding key, then walks the rooms (:mod:`nplab.assays`) that the study file
names in ``[data]`` — the primary outcome first, then the file's order.  Each assay
reads its inputs and measures (:meth:`~nplab.assays.base.Assay.read`,
:meth:`~nplab.assays.base.Assay.measure`); the study's exclusion rules are applied to
the per-animal measurements (with reasons); each assay then analyses
(:meth:`~nplab.assays.base.Assay.analyse`) and hands back tables, figures and its
report section, which the runner writes and renders into

``OUTDIR/``
    ``report.html`` (self-contained, :mod:`nplab.report`), ``manifest.json``
    (inputs and outputs with sha256, resolved protocols, versions),
    ``tables/*.csv`` (full precision; with ``[output] round = N`` also copies rounded
    to N significant digits in ``tables/rounded/``) and ``figures/*.png|svg``.

Everything is staged (:func:`nplab.tables.staged_outputs`): a run that fails leaves
OUTDIR as it was.  Rows are sorted and figures written without dates, so the same
inputs give byte-identical outputs (checked by ``nplab verify``).
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import pandas as pd

from nplab import __version__, assays, runreport
from nplab.animals import read_animals, select_cohort
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.background import Background, Pending
from nplab.blinding import blinding_statement, check_study_labels, read_key, unblind
from nplab.exclusions import apply_exclusions
from nplab.provenance import DEFAULT_SEED, build_manifest, write_manifest
from nplab.report import arrive_essential10, render_report
from nplab.rundir import previous_outputs, remove_stale_outputs, run_lock
from nplab.runwriter import RunWriter, save_figure
from nplab.study import Study, load_study
from nplab.tables import staged_outputs

__all__ = ["RunResult", "apply_exclusions", "cohorts", "run_study", "save_figure"]


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
    tables
        Every table written, by name.
    assay_exclusions
        Per assay, the items it left out (e.g. failed cells: ``unit, reason``).
    kept_stale
        Outputs of an earlier run in ``outdir`` that this run did not write but kept
        (edited since, or outside the folder), one line each saying why.
    """

    study: Study
    outdir: Path
    outputs: list[str]
    exclusions: pd.DataFrame
    tables: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    assay_exclusions: dict[str, pd.DataFrame] = field(default_factory=dict, repr=False)
    kept_stale: list[str] = field(default_factory=list)


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
        Local worker processes for the patch-clamp batch (1 = serial).  Unless
        ``jobs=1`` or ``executor="serial"``, every assay but the first reads its data in
        a child process while the runner goes on, and each assay's figures are saved in
        a child while the next assay is analysed (:mod:`nplab.background`; the same
        bytes, warnings and error messages as a serial run -- but a room's read error
        surfaces when that room is analysed, so when two things fail, which is reported
        can differ).
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
    ``tables/<name>.csv``: every table the assays hand back (see each assay module in
    :mod:`nplab.assays`, e.g. ``<assay>_descriptives``, ``<assay>_anova``).
    ``tables/arrive_checklist.csv``: item, title, status, from_study, missing.
    ``figures/*.png|svg``, ``report.html``, ``manifest.json``.

    Raises
    ------
    InputError
        For any problem with the study file or the data it names; nothing is written.
    """
    study = load_study(study_path)
    batch = {"executor": executor, "scheduler": scheduler, "jobs": jobs, "progress": progress}
    with run_lock(outdir):  # one run per folder, also while old outputs are removed
        return _run(study, Path(outdir), batch, cohort)


def cohorts(study_path: str | os.PathLike[str]) -> list[str]:
    """The cohorts of a study's animals table (sorted; empty when it has none)."""
    animals = read_animals(load_study(study_path).data["animals"])
    values = animals["cohort"].dropna().astype(str).str.strip()
    return sorted(v for v in set(values) if v)


def _assay_order(study: Study) -> list[str]:
    """The assays the study names: the primary outcome first, then ``[data]`` order."""
    named = [k for k in study.data if k != "animals"]
    primary = study.outcomes["primary"]
    return sorted(named, key=lambda n: n != primary)


def _read_room(room: Assay, ctx: AssayContext) -> tuple[Any, dict[str, Any], dict[str, Any],
                                                        list[Path]]:
    """``room``'s measurements, with what reading them set on the room and the context
    (so that a read done in a child process can be replayed here)."""
    protocols, inputs = dict(ctx.protocols), len(ctx.inputs)
    measured = room.measure(ctx, room.read(ctx))
    new = {k: v for k, v in ctx.protocols.items() if protocols.get(k) is not v}
    return measured, dict(vars(room)), new, ctx.inputs[inputs:]


def _describe(executor: Any) -> str | int | None:
    """The executor as the manifest records it (an executor object by its class)."""
    return executor if executor is None or isinstance(executor, str | int) else \
        type(executor).__name__


def _arrive(room: Assay, ctx: AssayContext, measured: dict[str, Any],
            pending: dict[str, Pending[Any]]) -> Any:
    """The measurements of ``room``; a read done in a child is collected (once) and what
    it set on the room and the context replayed here."""
    if room.name not in measured:
        value, state, protocols, inputs = pending.pop(room.name).result()
        vars(room).update(state)
        ctx.protocols.update(protocols)
        ctx.inputs.extend(i for i in inputs if i not in ctx.inputs)
        measured[room.name] = value
    return measured[room.name]


def _run(study: Study, outdir: Path, batch: dict[str, Any], cohort: str | None = None
         ) -> RunResult:
    previous = previous_outputs(outdir)
    all_animals = read_animals(study.data["animals"])
    animals = select_cohort(all_animals, cohort, study.data["animals"])
    key_path = study.unblinding_key if study.blinded else None
    key = read_key(key_path) if key_path is not None else None
    check_study_labels(study, all_animals, animals, key, key_path)
    parallel = batch.get("jobs") != 1 and batch.get("executor") != "serial"
    with staged_outputs(outdir) as stage, Background(enabled=parallel) as bg:
        w = RunWriter(stage, study.output.get("round"), bg)
        ctx = AssayContext(study=study, animals=animals, key=key, batch=batch,
                           other_animals=frozenset(set(all_animals["animal"])
                                                   - set(animals["animal"])))
        blinding = blinding_statement(study.blinded, key_path, key is not None,
                                      (study.blinding or {}).get("who", ""))
        rooms = [assays.get(n) for n in _assay_order(study)]
        # the first room is read here (its imports -- SciPy's optimisers, the
        # readers -- are then shared with the children), every other room in a child
        # while the runner goes on: the per-animal ones are needed for the exclusions,
        # the others when they are analysed
        measured = {rooms[0].name: _read_room(rooms[0], ctx)[0]}
        # (not with the caller's own executor object: it belongs to this process)
        own = batch.get("executor") is None or isinstance(batch.get("executor"), str | int)
        pending = {a.name: bg.compute(partial(_read_room, a, ctx), fork=own)
                   for a in rooms[1:]}
        for a in rooms:
            if a.per_animal:
                measured[a.name] = _arrive(a, ctx, measured, pending)
        excl = apply_exclusions(study, animals,
                                {a.name: measured[a.name] for a in rooms if a.per_animal})
        ctx.excluded = excl
        reports: list[AssayReport] = []
        for a in rooms:  # figures are saved (in a child) while the next assay analyses
            reports.append(a.analyse(ctx, _arrive(a, ctx, measured, pending)))
            w.section(reports[-1].section)
        for rep in reports:
            for name, table in rep.tables.items():
                w.table(name, table)
        excl_out = unblind(excl, key)
        w.table("exclusions", excl_out)
        methods = [m for rep in reports for m in rep.methods]
        facts = runreport.arrive_facts(ctx, methods, blinding,
                                       any(r.facts.get("has_effect_ci") for r in reports))
        arrive = arrive_essential10(study, facts)
        w.table("arrive_checklist", arrive)
        sections = [runreport.study_section(ctx, blinding),
                    runreport.exclusion_section(ctx, excl_out),
                    *(rep.section for rep in reports),
                    runreport.arrive_section(arrive)]
        summary = [*runreport.summary_lines(ctx, excl_out),
                   *(line for rep in reports for line in rep.summary)]
        if cohort is not None:
            summary.insert(0, f"Cohort {cohort} only ({len(animals)} of "
                              f"{len(all_animals)} animals).")
        w.finish()
        page = render_report(
            study.title,
            subtitle=" ".join(str(study.meta[k]) for k in ("species", "strain", "sex")
                              if study.meta[k])
            + f", {study.model['type']} model; study file {study.path.name}",
            summary=summary,
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
            inputs=[*study.input_files(), *sorted(set(ctx.inputs))],
            outputs=[stage / o for o in outputs],
            protocols=[study.surgery_protocol, *(ctx.protocols[k] for k in sorted(ctx.protocols))],
            parameters={
                "executor": _describe(batch.get("executor")),
                "jobs": batch.get("jobs"),
                "blinded": study.blinded,
                "unblinded_with_key": key is not None,
                "seed": DEFAULT_SEED,
                "round": study.output.get("round"),
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
    kept = remove_stale_outputs(outdir, previous, set(outputs))
    return RunResult(study=study, outdir=outdir, outputs=outputs, exclusions=excl_out,
                     tables=w.tables, kept_stale=kept,
                     assay_exclusions={a.name: r.exclusions for a, r in zip(rooms, reports,
                                                                           strict=True)
                                       if r.exclusions is not None})
