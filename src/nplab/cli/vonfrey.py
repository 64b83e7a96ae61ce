"""``nplab vonfrey SHEET --protocol NAME_OR_PATH -o OUT``: 50 % thresholds from a sheet."""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import manifest_option, output_option, protocol_option, write_result
from nplab.protocols import load_protocol

__all__ = ["command"]


@click.command("vonfrey")
@click.argument("sheet", type=click.Path(dir_okay=False, path_type=Path))
@protocol_option()
@output_option()
@manifest_option()
def command(sheet: Path, protocol: str, output: Path, manifest: bool) -> None:
    """Von Frey 50% withdrawal thresholds (up-down: Dixon-Chaplan / exact ML; SUDO).

    SHEET is a CSV/XLSX file, one row per test with a 'responses' column (e.g.
    OOOXOXOX) or one row per stimulus with 'stimulus', 'filament', 'response'.
    The protocol is required: rat and mouse kits differ ~8-fold in force, so a default
    would silently give wrong thresholds for the other species.
    """
    from nplab.vonfrey import thresholds

    proto = load_protocol(protocol, kind="vonfrey")
    table = thresholds(sheet, proto)
    write_result(table, output, inputs=[sheet], protocols=[proto], manifest=manifest)
    counts = table["status"].value_counts().sort_index()
    summary = ", ".join(f"{n} {s}" for s, n in counts.items())
    click.echo(f"{len(table)} tests -> {output} ({summary}); protocol {proto.name} "
               f"{proto.version}, kit {proto.params['kit']}")
