"""``nplab elisa TABLE -o SAMPLES.csv [--layout LAYOUT] [-p elisa-sandwich] ...``.

TABLE is a tidy well table (well, kind, sample, nominal, dilution, signal[, plate]) or,
with ``--layout``, a plate-shaped reader export (8 x 12 / 16 x 24, CSV/XLSX) whose wells
are described by a plater-style layout file of the same shape.
"""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    protocol_option,
    write_manifest_beside,
)

__all__ = ["command"]

_PATH = click.Path(dir_okay=False, path_type=Path)


@click.command("elisa")
@click.argument("table", type=_PATH)
@output_option()
@protocol_option(default="elisa-sandwich")
@click.option("--layout", type=_PATH, default=None, help="Plate layout (plater blocks); TABLE is then a reader export.")
@click.option("--plate", default=None, help="Plate label for a reader export (default: its file name).")
@click.option("--standards", type=_PATH, default=None, help="Also write the back-fitted standards.")
@click.option("--plates", "plates_out", type=_PATH, default=None, help="Also write plate acceptance.")
@click.option("--params", "params_out", type=_PATH, default=None, help="Also write the curve parameters.")
@click.option("--figure", type=_PATH, default=None, help="Standard-curve figure (.png/.svg).")
@manifest_option()
def command(table: Path, output: Path, protocol: str, layout: Path | None, plate: str | None,
            standards: Path | None, plates_out: Path | None, params_out: Path | None,
            figure: Path | None, manifest: bool) -> None:
    """Quantify ELISA plates: 4PL/5PL standard curve per plate, back-calculated unknowns
    with CIs, ICH M10 standard acceptance, LLOQ/ULOQ statuses."""
    from nplab.elisa import quantify_with_protocol, read_plate_files
    from nplab.figures import figure_format
    from nplab.protocols import load_protocol
    from nplab.tables import read_table, write_table

    check_outputs([output, standards, plates_out, params_out, figure], [table, layout])
    if figure is not None:
        figure_format(figure, ("png", "svg"))
    proto = load_protocol(protocol)
    data = read_plate_files(table, layout, plate) if layout is not None else read_table(table)
    res = quantify_with_protocol(data, proto)
    outputs = [write_table(res.samples, output)]
    for df, path in ((res.standards, standards), (res.plates, plates_out), (res.params, params_out)):
        if path is not None:
            outputs.append(write_table(df, path))
    if figure is not None:
        outputs.append(res.plot(figure))
    if manifest:
        write_manifest_beside(output, inputs=[table] + ([layout] if layout else []), outputs=outputs,
                              protocols=[proto])
    n_ok = int((res.samples["status"] == "ok").sum())
    n_acc = int(res.plates["accepted"].sum())
    click.echo(f"{len(res.samples)} samples ({n_ok} within LLOQ-ULOQ) on {len(res.plates)} plate(s), "
               f"{n_acc} accepted; written to {output}")
