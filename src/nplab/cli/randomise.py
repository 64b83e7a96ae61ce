"""``nplab randomise ANIMALS --groups A,B,C --strata sex --seed 7 -o allocation.csv``.

Writes the allocation (one row per animal with ``group`` and blinded ``code``), the
unblinding key (``code``, ``group``), the blinded animals table (``group`` = code) for
``nplab run``, and a JSON record of the method for the report, plus the provenance
manifest.
"""

from __future__ import annotations

import json
from pathlib import Path

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    table_argument,
    write_manifest_beside,
)
from nplab.errors import InputError

__all__ = ["command"]


def _split(text: str | None) -> list[str]:
    return [t.strip() for t in text.split(",") if t.strip()] if text else []


@click.command("randomise")
@table_argument("animals")
@click.option("--groups", required=True, help="Comma-separated group names.")
@click.option("--strata", default="", help="Comma-separated columns to stratify by (sex, cage).")
@click.option("--baseline", default=None, help="Numeric column to stratify by in quantile bins.")
@click.option("--baseline-bins", default=2, show_default=True, type=click.IntRange(2, 10))
@click.option("--block-size", default=None, type=int, help="Block size (multiple of groups).")
@click.option("--seed", required=True, type=int, help="Random seed (recorded).")
@output_option()
@click.option(
    "--key",
    "key_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Unblinding key (default: OUTPUT stem + '_key.csv').",
)
@click.option(
    "--blinded",
    "blinded_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Blinded animals table (default: OUTPUT stem + '_animals.csv').",
)
@manifest_option()
def command(
    animals: Path,
    groups: str,
    strata: str,
    baseline: str | None,
    baseline_bins: int,
    block_size: int | None,
    seed: int,
    output: Path,
    key_out: Path | None,
    blinded_out: Path | None,
    manifest: bool,
) -> None:
    """Allocate animals to groups: seeded, stratified block randomisation, blinded codes."""
    from nplab.randomise import randomise
    from nplab.tables import atomic_write, write_table

    if output.suffix.lower() not in {".csv", ".parquet"}:
        raise InputError(f"{output.name}: unsupported output", expected=".csv or .parquet")
    key_out = key_out or output.with_name(output.stem + "_key.csv")
    blinded_out = blinded_out or output.with_name(output.stem + "_animals.csv")
    record_out = output.with_name(output.stem + "_record.json")
    check_outputs([output, key_out, blinded_out, record_out], [animals])
    alloc = randomise(
        animals,
        _split(groups),
        seed=seed,
        strata=_split(strata),
        block_size=block_size,
        baseline=baseline,
        baseline_bins=baseline_bins,
    )
    outputs = [
        write_table(alloc.table, output),
        write_table(alloc.key, key_out),
        write_table(alloc.blinded, blinded_out),
    ]
    with atomic_write(record_out) as fh:
        fh.write(json.dumps(alloc.record, indent=2, sort_keys=True) + "\n")
    outputs.append(record_out)
    if manifest:
        write_manifest_beside(
            output, inputs=[animals], outputs=outputs, parameters={"randomise": alloc.record}
        )
    click.echo(
        f"{len(alloc.table)} animals allocated to {len(alloc.key)} groups -> {output}; "
        f"key {key_out}; blinded animals {blinded_out}"
    )
