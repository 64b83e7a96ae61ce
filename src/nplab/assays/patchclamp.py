"""The patch-clamp room of the study runner: concentration–response and IC50s.

Reads ``[data].patchclamp`` (an experiment table: file, cell, drug, condition,
concentration, ...; :func:`nplab.ephys.concentrations.read_experiment`); the
recordings it names are measured in chunks on the run's executor (serial, local
processes or Dask) by :func:`nplab.ephys.ic50`, which also fits per-cell and pooled
IC50s, state dependence (``[patchclamp].h``) and the published-reference comparison
(``[patchclamp].references``).  Protocols per condition follow :func:`nplab.ephys.ic50`
(an experiment ``protocol`` column, or conditions named after a ``patchclamp``
protocol).
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd

from nplab.assays import register
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.errors import InputError
from nplab.protocols import Param
from nplab.report import Section

__all__ = ["PatchClamp", "batch_executor", "concentration_response_figure"]


def batch_executor(batch: dict[str, Any]) -> Any:
    """The ``executor`` argument of :func:`nplab.ephys.measure` for the run options."""
    if batch.get("scheduler") is not None:
        return batch["scheduler"]
    if batch.get("executor") is not None:
        return batch["executor"]
    jobs = batch.get("jobs")
    if jobs is None:
        return None  # nplab.batch default: local processes for large batches, else serial
    return "serial" if jobs == 1 else int(jobs)


@register
class PatchClamp(Assay):
    """Voltage-clamp block of Nav1.7, hERG, Kv7 ... by a drug: IC50s per cell and pooled."""

    name = "patchclamp"
    title = "Patch clamp: concentration–response and IC50"
    data_doc = "patch-clamp experiment table"
    options: ClassVar[dict[str, Param]] = {
        "h": Param(
            "dict",
            default={},
            doc="fraction of available channels per condition (state-dependent block)",
        ),
        "references": Param(
            "bool", default=True, doc="compare IC50s with the published reference table"
        ),
    }

    def check_options(self, options: dict[str, Any], file: Any) -> None:
        for cond, h in (options or {}).get("h", {}).items():
            if isinstance(h, bool) or not isinstance(h, int | float) or not 0 < h <= 1:
                raise InputError(
                    f"{h!r} is not a fraction",
                    file=file,
                    column=f"patchclamp.h.{cond}",
                    expected="a number in (0, 1]",
                )

    def read(self, ctx: AssayContext) -> Any:
        from nplab.ephys.concentrations import read_experiment
        from nplab.ephys.ic50 import ic50
        from nplab.protocols import load_protocol

        path = ctx.study.data[self.name]
        exp = read_experiment(str(path))
        files = [path.parent / f for f in dict.fromkeys(exp["file"])]
        for i, f in enumerate(files):
            if not f.is_file():
                raise InputError("recording not found", file=path, row=i + 2, column="file",
                                 expected=f"a file at {f}")
        ctx.inputs.extend(files)
        opts = ctx.study.options.get(self.name, {})
        res = ic50(path, protocol=None, h=dict(opts.get("h") or {}) or None,
                   references=bool(opts.get("references", True)),
                   measure_kwargs={"executor": batch_executor(ctx.batch),
                                   "progress": ctx.batch.get("progress")})
        labels = res.parameters.get("conditions", {None: res.parameters})
        for pars in labels.values():
            label = pars.get("protocol")
            if label:
                name = str(label).split("@")[0]
                ctx.protocols[f"patchclamp:{name}"] = load_protocol(name, kind="patchclamp")
        return exp, res

    def measure(self, ctx: AssayContext, raw: Any) -> Any:
        return raw

    def analyse(self, ctx: AssayContext, measured: Any) -> AssayReport:
        exp, res = measured
        rep = AssayReport(section=Section(self.title, self.name))
        sec, t = rep.section, rep.tables
        n_files = len(dict.fromkeys(exp["file"]))
        sec.p(f"{exp['cell'].nunique()} cells, {n_files} recordings, conditions "
              f"{', '.join(dict.fromkeys(exp['condition'].astype(str)))}. Fractional current "
              "I/I_control per cell and concentration; Hill fits per cell; pooled IC50 as the "
              "mean of log10 IC50 over cells passing QC and as one global fit "
              "(nplab.ephys.ic50).")
        t["patchclamp_sweeps"] = res.sweeps
        t["patchclamp_cells"] = res.cells
        t["patchclamp_fits"] = res.fits
        pooled = res.fits[res.fits["level"] != "cell"]
        sec.table(pooled[["drug", "condition", "level", "n_cells", "ic50_um", "ic50_ci_low_um",
                          "ic50_ci_high_um", "hill", "ic50_in_range", "status"]],
                  "Pooled IC50s (µM) with 95% CIs")
        failed = res.cells[res.cells["cell_status"] != "ok"].drop_duplicates("cell")
        if len(failed):
            sec.p("Cells left out of the pooled fits: " + "; ".join(
                f"{r.cell}: {r.cell_reason}" for r in failed.itertuples()) + ".")
            rep.exclusions = pd.DataFrame({"unit": failed["cell"].astype(str),
                                           "reason": failed["cell_reason"].astype(str)})
        if res.state is not None:
            t["patchclamp_state"] = res.state
            sec.table(res.state, "State-dependent block: resting (K_R) and inactivated-state "
                                 "(K_I) affinities from 1/K_app = h/K_R + (1 − h)/K_I "
                                 "(Bean et al. 1983)")
        if res.references is not None:
            t["patchclamp_references"] = res.references
            sec.table(res.references.drop(columns=["key", "reference_version"], errors="ignore"),
                      "Fitted IC50s beside published values (reference keys and versions in "
                      "tables/patchclamp_references.csv)")
        sec.plot(concentration_response_figure(res.cells, pooled, res.protocols),
                 "patchclamp_concentration_response",
                 "Fractional current per cell (points) and the pooled global Hill fit "
                 "(line) for each drug and condition; log concentration axis.")
        rep.methods.append(
            "Patch clamp: steady-state current per concentration, fractional current vs "
            "control, Hill-equation fits per cell and pooled (mean log10 IC50 ± SEM; global "
            "fit), drc-style inference (nplab.ephys, nplab.doseresponse)."
        )
        ml = pooled[(pooled["level"] == "pooled_mean_log") & (pooled["drug"] != "vehicle")]
        if len(ml):
            rep.summary.append("Pooled IC50s (mean log): " + "; ".join(
                f"{r.drug}, {r.condition}: {r.ic50_um:.3g} µM (95% CI {r.ic50_ci_low_um:.3g}–"
                f"{r.ic50_ci_high_um:.3g})" for r in ml.itertuples()) + ".")
        return rep


def concentration_response_figure(
    cells: pd.DataFrame, pooled: pd.DataFrame, protocols: dict[str, Any] | None = None
) -> Any:
    """Fractional current per cell and the pooled global Hill fit per drug × condition.

    Conditions are named by their protocols (``"Nav1.7, inactivated state"``,
    :func:`nplab.ephys.plots.condition_label`); the y axis is typeset I/I_control; the
    legend sits outside the axes.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure

    from nplab.ephys.plots import FRACTION_LABEL, condition_label
    from nplab.figures import figure_style

    protocols = protocols or {}
    combos = list(dict.fromkeys(zip(cells["drug"], cells["condition"], strict=True)))
    with figure_style():
        fig = Figure(figsize=(8.0, 4.2))
        FigureCanvasAgg(fig)
        ax = fig.add_subplot(1, 1, 1)
        for i, (drug, cond) in enumerate(combos):
            color = f"C{i % 10}"
            name = f"{drug}, {condition_label(cond, protocols.get(cond))}"
            d = cells[(cells["drug"] == drug) & (cells["condition"] == cond)
                      & (cells["role"] == "drug") & (cells["status"] == "ok")]
            ax.scatter(d["conc_um"], d["fraction"], s=12, color=color, alpha=0.6, lw=0)
            g = pooled[(pooled["drug"] == drug) & (pooled["condition"] == cond)
                       & (pooled["level"] == "pooled_global")]
            if len(g) and np.isfinite(g["ic50_um"].iloc[0]) and len(d):
                r = g.iloc[0]
                lo, hi = np.log10(d["conc_um"].min()) - 0.5, np.log10(d["conc_um"].max()) + 0.5
                x = np.logspace(lo, hi, 200)
                top = r["top"] if np.isfinite(r["top"]) else 1.0
                bottom = r["bottom"] if np.isfinite(r["bottom"]) else 0.0
                y = bottom + (top - bottom) / (1.0 + (x / r["ic50_um"]) ** r["hill"])
                ax.plot(x, y, color=color, label=f"{name}: IC50 {r['ic50_um']:.3g} µM")
            elif len(d):
                ax.plot([], [], "o", color=color, label=f"{name}: no fit")
        ax.set_xscale("log")
        ax.set_xlabel("concentration (µM)")
        ax.set_ylabel(FRACTION_LABEL)
        ax.axhline(0.5, color="0.8", lw=0.8, zorder=0)
        ax.legend(loc="upper left", bbox_to_anchor=(1.02, 1.0), borderaxespad=0.0)
        ax.grid(alpha=0.3)
        fig.tight_layout()
    return fig
