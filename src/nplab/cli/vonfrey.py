"""``nplab vonfrey SHEET --protocol NAME_OR_PATH -o OUT``: 50 % thresholds from a sheet."""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import (
    manifest_option,
    output_option,
    protocol_option,
    round_option,
    table_argument,
    write_result,
)
from nplab.errors import InputError
from nplab.protocols import load_protocol

__all__ = ["command"]


@click.command("vonfrey")
@table_argument("sheet")
@protocol_option()
@output_option()
@manifest_option()
@round_option()
@click.option("--timepoint", "timepoint", default=None, metavar="LABEL",
              help="Time point of every test, for a sheet without a 'timepoint' column "
              "(written to the output's timepoint column).")
def command(sheet: Path, protocol: str, output: Path, manifest: bool,
            timepoint: str | None) -> None:
    """Von Frey 50% withdrawal thresholds (up-down: Dixon-Chaplan / exact ML; SUDO).

    SHEET is a CSV/XLSX file, one row per test with a 'responses' column (e.g.
    OOOXOXOX) or one row per stimulus with 'stimulus', 'filament', 'response'.
    The protocol is required: rat and mouse kits differ ~8-fold in force, so a default
    would silently give wrong thresholds for the other species.
    It needs a 'timepoint' column (or --timepoint LABEL when every test is from one
    time point); a 'paw' column holds ipsi, contra, left or right.
    """
    from nplab.vonfrey import read_sheet, thresholds

    proto = load_protocol(protocol, kind="vonfrey")
    data = read_sheet(sheet)
    if timepoint is not None and "timepoint" in data.columns:
        raise InputError("--timepoint is given but the sheet has a 'timepoint' column",
                         file=sheet, column="timepoint",
                         expected="either the column or --timepoint, not both")
    if timepoint is not None:
        if not timepoint.strip():
            raise InputError("--timepoint is empty", column="--timepoint",
                             expected="a time point label such as BL or day7")
        cols = list(data.columns)
        after = next((c for c in ("paw", "animal") if c in cols), None)
        data.insert(0 if after is None else cols.index(after) + 1, "timepoint", timepoint)
    elif "timepoint" not in data.columns:
        raise InputError(
            "the sheet has no 'timepoint' column: tests of different days cannot be told "
            "apart",
            file=sheet, column="timepoint",
            expected=f"a 'timepoint' column (e.g. BL, day7) beside "
            f"{', '.join(map(str, data.columns[:6]))}, or --timepoint LABEL when every "
            "test is from one time point",
        )
    table = thresholds(data, proto)
    write_result(table, output, inputs=[sheet], protocols=[proto], manifest=manifest)
    counts = table["status"].value_counts().sort_index()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    click.echo(f"{len(table)} tests -> {output} ({summary}); protocol {proto.name} "
               f"{proto.version}, kit {proto.params['kit']}")
