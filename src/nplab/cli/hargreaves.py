"""``nplab hargreaves TRIALS --protocol NAME_OR_PATH -o OUT [--animals A] [--figure F]``.

Protocol parameters can be overridden on the command line: ``--cutoff 15`` (the cut-off,
``cutoff_s``) or ``--set KEY=VALUE`` for any parameter (``--set discard_first_trial=true``,
``--set baseline_window_s=[8,12]``); overrides are validated like the protocol file and
recorded in the manifest.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Any

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    protocol_option,
    table_argument,
    write_manifest_beside,
)
from nplab.errors import InputError

__all__ = ["command"]


def _overrides(
    cutoff: float | None, settings: tuple[str, ...], kind: str = "hargreaves"
) -> dict[str, Any]:
    """``--set KEY=VALUE`` pairs (VALUE read as TOML, else as text) plus ``--cutoff``
    (``cutoff_s``); ``kind`` is the protocol kind whose schema types the values."""
    from nplab.protocols import schema_for

    schema = schema_for(kind)
    out: dict[str, Any] = {}
    for item in settings:
        key, sep, text = item.partition("=")
        if not sep or not key.strip():
            raise InputError(
                f"{item!r} is not KEY=VALUE", column="--set", expected="KEY=VALUE"
            )
        key, text = key.strip(), text.strip()
        param = schema.get(key)
        if param is not None and param.type == "str":
            value: Any = text.strip("\"'")  # e.g. baseline_timepoint=0 stays the text "0"
        else:
            try:
                value = tomllib.loads(f"v = {text}")["v"]
            except tomllib.TOMLDecodeError:
                value = text
        out[key] = value
    if cutoff is not None:
        out["cutoff_s"] = cutoff
    return out


@click.command("hargreaves")
@table_argument("trials")
@protocol_option()
@output_option()
@click.option(
    "--cutoff",
    "--cutoff-s",
    "cutoff",
    type=float,
    default=None,
    help="Override the protocol's cut-off (cutoff_s, seconds).",
)
@click.option(
    "--set",
    "settings",
    multiple=True,
    metavar="KEY=VALUE",
    help="Override a protocol parameter (repeatable), e.g. --set discard_first_trial=true.",
)
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
    cutoff: float | None,
    settings: tuple[str, ...],
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
    from nplab.figures import figure_format
    from nplab.hargreaves import km_medians, paw_differences, plot_timecourse, summarise
    from nplab.hargreaves.trials import read_trials
    from nplab.tables import write_table

    check_outputs([output, differences, km_out, figure], [trials, animals])
    if figure is not None:
        figure_format(figure, ("png", "svg"))
    data = read_trials(trials, protocol, animals, **_overrides(cutoff, settings))
    proto = data.attrs["protocol"]
    summary = summarise(data, proto, animals)
    if figure is not None and animals is None and "group" not in summary.columns:
        raise InputError(
            "--figure needs groups", column="group", expected="--animals with a group column"
        )
    # compute every table before writing anything: bad input leaves no output behind
    diffs = paw_differences(summary) if differences is not None else None
    km = km_medians(data, proto, animals) if km_out is not None else None
    outputs = [write_table(summary, output)]
    if diffs is not None:
        outputs.append(write_table(diffs, differences))
    if km is not None:
        outputs.append(write_table(km, km_out))
    if figure is not None:
        outputs.append(plot_timecourse(summary, animals, figure))
    if manifest:
        write_manifest_beside(
            output,
            inputs=[trials] + ([animals] if animals is not None else []),
            outputs=outputs,
            protocols=[proto],
        )
    click.echo(f"{len(summary)} animal × paw × timepoint rows written to {output}; protocol "
               f"{proto.name} {proto.version}, cut-off {proto.params['cutoff_s']:g} s")
