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
    "check_outputs",
    "manifest_option",
    "output_option",
    "protocol_option",
    "table_argument",
    "write_manifest_beside",
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


def check_outputs(outputs: Iterable[Path | None], inputs: Iterable[Path | None]) -> None:
    """Refuse, before anything is computed or written, any output that is an input or
    that names the same file as another output (one would silently replace the other).

    ``None`` entries (optional outputs/inputs not given) are skipped.
    """
    existing = [Path(p) for p in inputs if p is not None]
    seen: set[Path] = set()
    for out in outputs:
        if out is None:
            continue
        check_not_an_input(Path(out), existing)
        target = Path(out).resolve()
        if target in seen:
            raise InputError(
                "two outputs of the run name the same file",
                file=out,
                expected="a different file name for each output",
            )
        seen.add(target)


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


def table_argument(name: str = "table"):
    """Input table argument (CSV/TSV/XLSX).  Not ``exists=True``: a missing file is
    reported by :func:`nplab.tables.read_table` as ``nplab: error: FILE: file not found``
    (exit 2), like every other command, not as a click usage screen."""
    return click.argument(name, type=click.Path(dir_okay=False, path_type=Path))


def protocol_option(default: str | None = None):
    """``-p/--protocol NAME_OR_PATH`` (required when there is no default; click >= 8.3
    treats an explicit ``default=None`` as a given default, so none is passed)."""
    extra: dict[str, Any] = {} if default is None else {"default": default}
    return click.option(
        "-p",
        "--protocol",
        "protocol",
        required=default is None,
        show_default=default is not None,
        help="Protocol name (see 'nplab protocols list') or path to a .toml file.",
        **extra,
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
        write_manifest_beside(
            output, inputs=inputs, outputs=[output], protocols=protocols, parameters=parameters
        )


def write_manifest_beside(
    output: Path,
    *,
    inputs: Iterable[Path],
    outputs: Iterable[Path],
    protocols: Iterable[Protocol] = (),
    parameters: dict[str, Any] | None = None,
) -> Path:
    """Write the run's provenance manifest as ``OUTPUT.manifest.json`` beside ``output``.

    ``outputs`` lists every file the run wrote (the main table first); the command line
    is recorded as ``nplab ARGS...``.  Returns the manifest's path.
    """
    record = build_manifest(
        inputs=list(inputs),
        outputs=list(outputs),
        protocols=protocols,
        parameters=parameters,
        command=["nplab", *sys.argv[1:]],
    )
    target = output.with_name(output.name + ".manifest.json")
    write_manifest(record, target)
    return target
