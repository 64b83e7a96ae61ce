"""``nplab ephys ic50``: per-cell and pooled IC50s from an experiment table."""

from __future__ import annotations

import re
import sys
from pathlib import Path

import click

from nplab.cli._common import check_outputs
from nplab.errors import InputError

__all__ = ["ic50_command"]

#: Files the command writes into OUTDIR (besides figures/).
_OUTPUT_FILES = ("per_sweep.csv", "cells.csv", "fits.csv", "references.csv", "state.csv",
                 "manifest.json")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9.+-]+", "_", str(text)).strip("_") or "x"


@click.command("ic50")
@click.argument("experiment_table", type=click.Path(path_type=Path, dir_okay=False))
@click.option("-p", "--protocol", default=None,
              help="patchclamp protocol for every file (default: the experiment's 'protocol' "
              "column, else each condition's name when it names a protocol).")
@click.option("-o", "--outdir", type=click.Path(path_type=Path, file_okay=False), required=True,
              help="Output folder (tables, figures, manifest).")
@click.option("--per-sweep", "per_sweep_path", type=click.Path(path_type=Path, dir_okay=False),
              default=None, help="Use this per-sweep table (from 'nplab ephys measure') instead "
              "of measuring the recordings.")
@click.option("--model", type=click.Choice(["LL.2", "LL.3", "LL.4"]), default=None,
              help="Hill model (default: protocol's ic50_model, else LL.2 = top 1, bottom 0).")
@click.option("--rundown", type=click.Choice(["none", "linear", "vehicle"]), default=None,
              help="Run-down correction (default: protocol's, else none).")
@click.option("--steady-state-sweeps", type=click.IntRange(min=1), default=None,
              help="Sweeps averaged at the end of each solution period (default: protocol's).")
@click.option("--measure", "measure_name", default=None,
              help="Which measurement of the per-sweep table to use, if it holds several.")
@click.option("--units", default=None, help="Override the current channel's units (e.g. pA).")
@click.option("-j", "--jobs", type=int, default=None, help="Local worker processes for measuring.")
@click.option("--scheduler", default=None, help="Dask scheduler address for measuring.")
@click.option("--progress/--no-progress", default=None,
              help="Progress bar while measuring (default: when stderr is a terminal).")
@click.option("--figures/--no-figures", default=True, show_default=True,
              help="Write figures (traces, time course, concentration-response).")
@click.option("--figure-format", type=click.Choice(["png", "svg", "pdf"]), default="png",
              show_default=True)
@click.option("--manifest/--no-manifest", default=True, show_default=True,
              help="Write a provenance manifest (OUTDIR/manifest.json).")
def ic50_command(experiment_table, protocol, outdir, per_sweep_path, model, rundown,
                 steady_state_sweeps, measure_name, units, jobs, scheduler, progress, figures,
                 figure_format, manifest) -> None:
    """Per-cell and pooled IC50s for EXPERIMENT_TABLE (cell, file, drug, conc_um, holding_mv,
    condition; files relative to the table's folder).

    Writes OUTDIR/per_sweep.csv, cells.csv (cell x concentration), fits.csv (per cell and
    pooled), references.csv (beside published values, matched by the table's 'target'
    column or else the protocol's target), state.csv (K_R, K_I, when it has an 'h' column), figures/ and manifest.json.
    """
    from nplab.ephys.ic50 import ic50
    from nplab.protocols import load_protocol
    from nplab.provenance import build_manifest, write_manifest
    from nplab.tables import read_table, staged_outputs, write_table

    if jobs is not None and scheduler is not None:
        raise InputError("give --jobs or --scheduler, not both", column="--scheduler")
    # e.g. --per-sweep OUT/per_sweep.csv -o OUT would replace the input table
    check_outputs([outdir / name for name in _OUTPUT_FILES], [experiment_table, per_sweep_path])
    proto = load_protocol(protocol, kind="patchclamp") if protocol is not None else None
    per_sweep = read_table(per_sweep_path) if per_sweep_path is not None else None
    measure_kwargs = {"executor": scheduler if scheduler is not None else jobs,
                      "progress": progress, "units": units}
    result = ic50(experiment_table, per_sweep, proto, measure=measure_name, model=model,
                  rundown=rundown, steady_state_sweeps=steady_state_sweeps,
                  measure_kwargs=measure_kwargs)
    base = experiment_table.parent
    inputs = [experiment_table]
    if per_sweep_path is not None:
        inputs.append(per_sweep_path)
    else:
        seen = dict.fromkeys(str(f) for f in result.cells["file"])
        inputs += [base / f for f in seen if (base / f).is_file()]
    with staged_outputs(outdir) as stage:
        written = []
        ps_cols = [c for c in result.sweeps.columns if c not in {"segment_label"}]
        written.append(write_table(result.sweeps[ps_cols], stage / "per_sweep.csv"))
        written.append(write_table(result.cells, stage / "cells.csv"))
        written.append(write_table(result.fits, stage / "fits.csv"))
        if result.references is not None:
            written.append(write_table(result.references, stage / "references.csv"))
        if result.state is not None:
            written.append(write_table(result.state, stage / "state.csv"))
        if figures:
            written += _figures(result, stage / "figures", base, figure_format)
        if manifest:
            record = build_manifest(
                inputs=inputs, outputs=written, protocols=_distinct(result.protocols),
                parameters={**result.parameters, "measure": measure_name, "units": units},
                command=["nplab", *sys.argv[1:]], output_root=stage,
            )
            write_manifest(record, stage / "manifest.json")
    pooled = result.fits[result.fits["level"] == "pooled_mean_log"]
    for _, r in pooled.iterrows():
        click.echo(f"{r['drug']} {r['condition']}: IC50 {r['ic50_um']:.4g} µM "
                   f"(n = {r['n_cells']} cells) [{r['status']}]", err=True)
    click.echo(f"-> {outdir}", err=True)


def _distinct(protocols: dict) -> list:
    seen: dict[str, object] = {}
    for p in protocols.values():
        if p is not None:
            seen.setdefault(f"{p.label}:{p.sha256}", p)
    return list(seen.values())


def _figures(result, folder: Path, base: Path, fmt: str) -> list[Path]:
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    from nplab.ephys.plots import (
        cell_traces,
        condition_label,
        plot_concentration_response,
        plot_time_course,
        plot_traces,
    )

    out: list[Path] = []
    folder.mkdir(parents=True, exist_ok=True)
    cells = result.cells
    for (drug, cond), g in cells.groupby(["drug", "condition"], sort=True):
        if not (g["role"] == "drug").any():
            continue
        p = folder / f"concentration_response_{_slug(drug)}_{_slug(cond)}.{fmt}"
        plot_concentration_response(cells, result.fits, drug=drug, condition=cond,
                                    models=result.models, path=p,
                                    label=condition_label(cond, result.protocols.get(cond)))
        out.append(p)
    for cell in sorted(cells["cell"].astype(str).unique()):
        p = folder / f"time_course_{_slug(cell)}.{fmt}"
        plot_time_course(result.sweeps, cell, path=p)
        out.append(p)
        try:
            traces = cell_traces(cells, cell, base_dir=base)
        except (InputError, OSError):
            traces = []  # recordings not readable here (e.g. per-sweep table given)
        if traces:
            units = str(cells.loc[cells["cell"].astype(str) == cell, "units"].iloc[0])
            p = folder / f"traces_{_slug(cell)}.{fmt}"
            plot_traces(traces, units=units, title=f"cell {cell}", path=p)
            out.append(p)
    plt.close("all")
    return out
