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

import numpy as np
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
        rep.methods.append(
            "Current clamp: spike detection and features with eFEL conventions (nplab.ephys."
            "spikes), rheobase, input resistance, f–I slope per cell (nplab.ephys.excitability); "
            "groups compared on per-animal means (Welch t or one-way ANOVA)."
        )
        return rep


def fi_figure(cells: pd.DataFrame, sweeps: pd.DataFrame, ctx: AssayContext | None = None) -> Any:
    """f–I curves per group: mean over animals of each animal's mean rate per current."""
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    sw = sweeps[sweeps["cell"].isin(set(cells["cell"]))]
    for i, (g, d) in enumerate(sw.groupby("group", sort=True)):
        per_animal = d.groupby(["animal", "current_pa"])["firing_hz"].mean().unstack("animal")
        m = per_animal.mean(axis=1)
        se = per_animal.std(axis=1, ddof=1) / np.sqrt(per_animal.notna().sum(axis=1))
        label = ctx.group_name(g) if ctx is not None else g
        ax.errorbar(m.index, m.to_numpy(), yerr=se.to_numpy(), color=f"C{i % 10}", marker="o",
                    ms=3, capsize=2, label=f"{label} (n = {per_animal.shape[1]} animals)")
    ax.set_xlabel("injected current (pA)")
    ax.set_ylabel("firing rate (Hz)")
    ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    fig.tight_layout()
    return fig
