"""``nplab hargreaves TRIALS --protocol NAME_OR_PATH -o OUT [--animals A] [--figure F]``."""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import manifest_option, output_option, protocol_option, write_result
from nplab.errors import InputError

__all__ = ["command"]


@click.command("hargreaves")
@click.argument("trials", type=click.Path(dir_okay=False, path_type=Path))
@protocol_option(default="hargreaves-rat")
@output_option()
@click.option(
    "--animals",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Animals table (group, injured_side, excluded).",
)
@click.option(
    "--figure",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also draw the time course (mean ± SEM per group, ipsi and contra) as .png/.svg.",
)
@click.option(
    "--differences",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write ipsi − contra and ipsi/contra per animal × timepoint to this table.",
)
@click.option(
    "--km",
    "km_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write Kaplan–Meier median latencies per group × paw × timepoint.",
)
@manifest_option()
def command(
    trials: Path,
    protocol: str,
    output: Path,
    animals: Path | None,
    figure: Path | None,
    differences: Path | None,
    km_out: Path | None,
    manifest: bool,
) -> None:
    """Summarise Hargreaves trial latencies per animal × paw × timepoint.

    TRIALS is a CSV/XLSX table with animal, paw, timepoint, trial, latency_s and optional
    cutoff_reached, valid, note, group, time_s/time columns.  Cut-off trials are counted
    and flagged; a censoring-aware (Tobit, log scale) latency is reported beside the mean.
    """
    from nplab.hargreaves import km_medians, paw_differences, plot_timecourse, summarise
    from nplab.hargreaves.trials import read_trials
    from nplab.tables import write_table

    data = read_trials(trials, protocol, animals)
    proto = data.attrs["protocol"]
    summary = summarise(data, proto, animals)
    if figure is not None and animals is None and "group" not in summary.columns:
        raise InputError(
            "--figure needs groups", column="group", expected="--animals with a group column"
        )
    # compute everything before writing anything
    diffs = paw_differences(summary) if differences is not None else None
    km = km_medians(data, proto, animals) if km_out is not None else None
    inputs = [trials] + ([animals] if animals is not None else [])
    if diffs is not None:
        write_table(diffs, differences)
    if km is not None:
        write_table(km, km_out)
    if figure is not None:
        plot_timecourse(summary, animals, figure)
    write_result(
        summary,
        output,
        inputs=inputs,
        protocols=[proto],
        parameters={
            "animals": None if animals is None else str(animals),
            "figure": None if figure is None else str(figure),
            "differences": None if differences is None else str(differences),
            "km": None if km_out is None else str(km_out),
        },
        manifest=manifest,
    )
    click.echo(f"{len(summary)} animal × paw × timepoint rows written to {output}")
