"""The current-clamp excitability room of the study runner.

Reads ``[data].excitability``: a table ``file, cell, animal`` (files relative to the
table's folder); the animal's group comes from the study's animals table.  Every
recording is analysed by :func:`nplab.ephys.excitability.excitability` with
``[protocols].excitability`` (default ``currentclamp-steps``) on the run's executor.
Groups are compared with the animal as the unit (animal means; one-way ANOVA or Welch
t, :func:`nplab.ephys.excitability_stats.compare_groups`); n cells and n animals are
reported everywhere.
"""

from __future__ import annotations

from typing import Any

import pandas as pd

from nplab.assays import register
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.assays.patchclamp import batch_executor
from nplab.errors import InputError
from nplab.report import Section

__all__ = ["Excitability", "fi_figure"]

#: Cell measures summarised per group (animal means).
MEASURES = ("rheobase_pa", "max_firing_hz", "input_resistance_mohm", "resting_mv", "threshold_mv")


@register
class Excitability(Assay):
    """Current-clamp excitability of DRG neurons: rheobase, firing, passive properties."""

    name = "excitability"
    title = "Current clamp: excitability of sensory neurons"
    data_doc = "current-clamp experiment table (file, cell, animal)"
    protocol_kind = "currentclamp"
    default_protocol = "currentclamp-steps"
    table_name = "excitability_cells"

    def read(self, ctx: AssayContext) -> Any:
        from nplab.ephys.excitability import excitability
        from nplab.tables import read_table

        path = ctx.study.data[self.name]
        exp = read_table(path)
        for col in ("file", "animal"):
            if col not in exp.columns:
                raise InputError(f"no '{col}' column", file=path, column=col,
                                 expected="columns file, cell, animal")
        files = [path.parent / str(f) for f in exp["file"]]
        for i, f in enumerate(files):
            if not f.is_file():
                raise InputError("recording not found", file=path, row=i + 2, column="file",
                                 expected=f"a file at {f}")
        ctx.inputs.extend(files)
        proto = self.protocol(ctx)
        res = excitability(files, proto, experiment=exp, executor=batch_executor(ctx.batch),
                           progress=ctx.batch.get("progress"))
        return res

    def measure(self, ctx: AssayContext, raw: Any) -> Any:
        groups = dict(zip(ctx.animals["animal"].astype(str), ctx.animals["group"].astype(str),
                          strict=False))
        for df in (raw.cells, raw.sweeps):
            df["animal"] = df["animal"].astype(str)
            df["group"] = df["animal"].map(groups)
            unknown = df.loc[df["group"].isna(), "animal"]
            if len(unknown):
                raise InputError(f"animal {unknown.iloc[0]} is not in the animals table",
                                 file=ctx.study.data[self.name], column="animal")
        return raw

    def analyse(self, ctx: AssayContext, res: Any) -> AssayReport:
        from nplab.ephys.excitability_stats import compare_groups

        rep = AssayReport(section=Section(self.title, self.name))
        sec, t = rep.section, rep.tables
        cells = ctx.order_table(res.cells)
        ok = cells[cells["status"] != "failed"]
        sec.p(f"{len(ok)} cells from {ok['animal'].nunique()} animals analysed "
              f"({len(cells) - len(ok)} recordings failed), protocol {res.protocol.label}: "
              "spikes = upward crossings of −20 mV, onset at dV/dt ≥ 10 mV/ms (eFEL "
              "conventions); rheobase = smallest step evoking ≥ 1 spike. Cells are nested in "
              "animals: groups are compared on animal means.")
        t["excitability_cells"] = cells
        t["excitability_sweeps"] = ctx.order_table(res.sweeps)
        rows = []
        for m in MEASURES:
            try:
                cmp = compare_groups(ok, m)
            except InputError:
                continue
            cmp.insert(0, "measure_name", m)
            rows.append(cmp)
        if rows:
            stats = pd.concat(rows, ignore_index=True)
            stats["group"] = stats["group"].map(lambda g: ctx.group_name(g) if isinstance(g, str) else g)
            t["excitability_stats"] = stats
            show = stats[stats["level"] == "group"][["measure_name", "group", "n_cells", "n_animals", "mean", "sd"]]
            sec.table(show, "Per group: mean and SD of animal means (n cells, n animals)")
            tests = stats[stats["level"] == "test"][["measure_name", "test", "n_cells", "n_animals", "statistic", "df", "p"]]
            sec.table(tests, "Group comparisons on animal means")
            rb = show[show["measure_name"] == "rheobase_pa"]
            if len(rb):
                rep.summary.append("Rheobase (mean of animal means): " + "; ".join(
                    f"{r.group}: {r.mean:.0f} pA (n = {r.n_cells} cells / {r.n_animals} animals)"
                    for r in rb.itertuples()) + ".")
        failed = cells[cells["status"] == "failed"]
        if len(failed):
            rep.exclusions = pd.DataFrame({"unit": failed["cell"].astype(str),
                                           "reason": failed["reason"].astype(str)})
        sec.plot(fi_figure(ok, res.sweeps, ctx), "excitability_fi",
                 "f–I curves: mean firing rate per step current by group (animal means ± SEM).")
        self._cell_figures(sec, res, cells, ctx)
        rep.methods.append(
            "Current clamp: spike detection and features with eFEL conventions (nplab.ephys."
            "spikes), rheobase, input resistance, f–I slope per cell (nplab.ephys.excitability); "
            "groups compared on per-animal means (Welch t or one-way ANOVA)."
        )
        return rep

    @staticmethod
    def _cell_figures(sec: Section, res: Any, cells: pd.DataFrame, ctx: AssayContext) -> None:
        """Traces at rheobase / 2× rheobase and phase plots of a representative cell per
        group (rheobase nearest the group median)."""
        from nplab.ephys.excitability_plots import phase_plot, representative_cells, rheobase_traces

        rep = representative_cells(cells, "group")
        if rep.empty:
            return
        names = ", ".join(f"{ctx.group_name(g)}: {c}" for g, c in zip(rep["group"], rep["cell"], strict=True))
        sec.plot(rheobase_traces(res, rep, label=ctx.group_name), "excitability_traces",
                 "Membrane potential at rheobase and at the step nearest 2× rheobase, one "
                 f"representative cell per group (rheobase nearest the group median; {names}).")
        sec.plot(phase_plot(res, rep, label=ctx.group_name), "excitability_phase",
                 "Phase plots (dV/dt against V) of the first spike at rheobase of the same cells.")


def fi_figure(cells: pd.DataFrame, sweeps: pd.DataFrame, ctx: AssayContext | None = None) -> Any:
    """f–I curves per group: mean over animals of each animal's mean rate per current
    (:func:`nplab.ephys.excitability_plots.fi_curves`)."""
    from nplab.ephys.excitability_plots import fi_curves

    return fi_curves(cells, sweeps, by="group", label=ctx.group_name if ctx is not None else None)
