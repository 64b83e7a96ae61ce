"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import click
import pandas as pd

from nplab.errors import InputError
from nplab.protocols import Protocol
from nplab.provenance import build_manifest, write_manifest
from nplab.tables import write_table

__all__ = [
    "check_not_an_input",
    "manifest_option",
    "output_option",
    "protocol_option",
    "write_result",
]


def check_not_an_input(output: Path, inputs: Iterable[Path]) -> None:
    """Refuse an output path that would overwrite one of the run's input files."""
    target = Path(output).resolve()
    for p in inputs:
        if Path(p).exists() and Path(p).resolve() == target:
            raise InputError(
                "the output would overwrite an input file",
                file=output,
                column="-o/--output",
                expected="a new file name (inputs are never modified)",
            )


def output_option(**kwargs: Any):
    """``-o/--output FILE``: CSV, or Parquet when the name ends in .parquet."""
    return click.option(
        "-o",
        "--output",
        type=click.Path(dir_okay=False, path_type=Path),
        required=True,
        help="Output table (.csv, or .parquet).",
        **kwargs,
    )


def protocol_option(default: str | None = None):
    """``-p/--protocol NAME_OR_PATH``."""
    return click.option(
        "-p",
        "--protocol",
        "protocol",
        default=default,
        required=default is None,
        show_default=default is not None,
        help="Protocol name (see 'nplab protocols list') or path to a .toml file.",
    )


def manifest_option():
    """``--manifest/--no-manifest``: write OUTPUT.manifest.json beside the output."""
    return click.option(
        "--manifest/--no-manifest",
        default=True,
        show_default=True,
        help="Write a provenance manifest (OUTPUT.manifest.json) beside the output.",
    )


def write_result(
    table: pd.DataFrame,
    output: Path,
    *,
    inputs: Iterable[Path],
    protocols: Iterable[Protocol] = (),
    parameters: dict[str, Any] | None = None,
    manifest: bool = True,
) -> None:
    """Write ``table`` atomically and, if asked, its provenance manifest beside it.

    Raises
    ------
    InputError
        If ``output`` is one of the ``inputs`` (inputs are never modified).
    """
    inputs = list(inputs)
    check_not_an_input(output, inputs)
    write_table(table, output)
    if manifest:
        record = build_manifest(
            inputs=inputs,
            outputs=[output],
            protocols=protocols,
            parameters=parameters,
            command=["nplab", *sys.argv[1:]],
        )
        write_manifest(record, output.with_name(output.name + ".manifest.json"))
