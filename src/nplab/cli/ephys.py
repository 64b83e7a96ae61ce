"""``nplab ephys``: patch-clamp recordings (per-sweep measurement; IC50s)."""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import (
    manifest_option,
    output_option,
    protocol_option,
    round_option,
    write_result,
)
from nplab.errors import InputError

__all__ = ["command"]

#: Failed files whose reason is echoed to stderr (all are in the output table).
_MAX_REPORTED = 20


@click.group("ephys")
def command() -> None:
    """Whole-cell patch-clamp recordings (ABF files)."""


@command.command("measure")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@protocol_option(default="patchclamp-nav-resting")
@output_option()
@click.option("-j", "--jobs", type=int, default=None, help="Local worker processes (default: all cores for large batches).")
@click.option("--scheduler", default=None, help="Dask scheduler address, e.g. tcp://host:8786.")
@click.option("--units", default=None, help="Override the current channel's units (e.g. pA).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@manifest_option()
@round_option()
def measure_cmd(files, protocol, output, jobs, scheduler, units, progress, manifest) -> None:
    """Measure every sweep of FILES (ABF files or folders of them): one row per file x sweep."""
    from nplab.ephys.measure import expand_paths, measure
    from nplab.protocols import load_protocol

    if jobs is not None and scheduler is not None:
        raise InputError("give --jobs or --scheduler, not both", column="--scheduler")
    proto = load_protocol(protocol, kind="patchclamp")
    paths = expand_paths(files)
    executor = scheduler if scheduler is not None else jobs
    table = measure(paths, proto, executor=executor, progress=progress, units=units)
    existing = [Path(p) for p in paths if Path(p).is_file()]
    write_result(
        table,
        output,
        inputs=existing,
        protocols=[proto],
        parameters={"units": units},
        manifest=manifest,
    )
    bad = table[table["status"] == "failed"]
    failed = len(bad)
    for reason in bad["reason"].head(_MAX_REPORTED).astype(str):
        click.echo(f"nplab: failed: {reason}", err=True)
    if failed > _MAX_REPORTED:
        click.echo(f"nplab: ... and {failed - _MAX_REPORTED} more failed file(s)", err=True)
    suspect = table.loc[table["status"] == "suspect", "file"].drop_duplicates()
    for file in suspect.head(_MAX_REPORTED).astype(str):
        why = table.loc[table["file"] == file, "reason"].iloc[0]
        click.echo(f"nplab: suspect: {file}: {why}", err=True)
    click.echo(
        f"measured {len(paths)} file(s), {len(table)} row(s), {failed} failed, "
        f"{len(suspect)} suspect file(s) -> {output}; protocol {proto.name} {proto.version}",
        err=True,
    )
    if failed == len(table):
        # nothing could be measured: the table (with every reason) is written, exit 2
        raise InputError(
            f"none of the {len(paths)} file(s) could be measured (reasons in {output})"
        )


# ``nplab ephys ic50`` (concentration–response from an experiment table).
from nplab.cli.ephys_ic50 import ic50_command  # noqa: E402

command.add_command(ic50_command)


@command.command("excitability")
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path))
@protocol_option(default="currentclamp-steps")
@output_option()
@click.option("--sweeps", "sweeps_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the per-sweep table here.")
@click.option("--spikes", "spikes_path", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Also write the per-spike table here.")
@click.option("--experiment", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="Table file, cell, animal, group[, condition] joined to the outputs.")
@click.option("--figures", "figures_dir", type=click.Path(path_type=Path, file_okay=False), default=None,
              help="Write f-I curves, traces at rheobase / 2x rheobase and phase plots (PNG) into "
                   "this folder: one representative cell per group with --experiment, else every cell.")
@click.option("-j", "--jobs", type=int, default=None, help="Local worker processes (default: all cores for large batches).")
@click.option("--units", default=None, help="Override the recorded units (e.g. mV when the header says pA).")
@click.option("--progress/--no-progress", default=None, help="Progress bar (default: when stderr is a terminal).")
@manifest_option()
def excitability_cmd(files, protocol, output, sweeps_path, spikes_path, experiment, figures_dir, jobs,
                     units, progress, manifest) -> None:
    """Current-clamp excitability of FILES (ABF files or folders): one row per cell
    (-o), optionally per sweep (--sweeps), per spike (--spikes) and figures (--figures)."""
    from nplab.cli._common import check_outputs, write_manifest_beside
    from nplab.ephys.excitability import excitability
    from nplab.ephys.excitability_plots import FIGURE_NAMES, excitability_figures
    from nplab.ephys.measure import expand_paths
    from nplab.protocols import load_protocol
    from nplab.tables import write_table

    paths = expand_paths(files)
    inputs = [Path(p) for p in paths if Path(p).is_file()] + ([experiment] if experiment else [])
    figure_paths = [figures_dir / f"{n}.png" for n in FIGURE_NAMES] if figures_dir is not None else []
    check_outputs([output, sweeps_path, spikes_path, *figure_paths], inputs)
    proto = load_protocol(protocol, kind="currentclamp")
    res = excitability(paths, proto, experiment=experiment, executor=jobs, progress=progress, units=units)
    written = [write_table(res.cells, output)]
    if sweeps_path is not None:
        written.append(write_table(res.sweeps, sweeps_path))
    if spikes_path is not None:
        written.append(write_table(res.spikes, spikes_path))
    if figures_dir is not None:
        written.extend(excitability_figures(res, figures_dir))
    if manifest:
        write_manifest_beside(output, inputs=inputs, outputs=written, protocols=[proto],
                              parameters={"units": units})
    bad = res.cells[res.cells["status"] == "failed"]
    for _, r in bad.head(_MAX_REPORTED).iterrows():
        click.echo(f"nplab: failed: {r['file']}: {r['reason']}", err=True)
    if len(bad) > _MAX_REPORTED:
        click.echo(f"nplab: ... and {len(bad) - _MAX_REPORTED} more failed file(s)", err=True)
    click.echo(f"analysed {len(paths)} file(s): {len(res.cells)} cell(s), {len(bad)} failed, "
               f"{len(res.sweeps)} sweep(s) -> {output}", err=True)
