"""Options and helpers shared by the subcommands."""

from __future__ import annotations

import sys
from collections.abc import Iterable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from nplab.errors import InputError, split_sheet
from nplab.protocols import Protocol
from nplab.provenance import build_manifest, write_manifest
from nplab.tables import EXCEL_SUFFIXES, round_table, write_table

if TYPE_CHECKING:  # pandas loads when a command runs, not for --help
    import pandas as pd

__all__ = [
    "check_not_an_input",
    "check_outputs",
    "manifest_option",
    "output_option",
    "protocol_option",
    "round_option",
    "rounded_path",
    "sheet_option",
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
    """Input table argument (CSV/TSV/XLSX), with ``--sheet NAME`` for workbooks.

    Not ``exists=True``: a missing file is reported by :func:`nplab.tables.read_table`
    as ``nplab: error: FILE: file not found`` (exit 2), like every other command, not as
    a click usage screen.  ``--sheet S`` (or ``book.xlsx#S`` as the path) reads sheet
    ``S``; the argument's value is then ``book.xlsx#S``, which
    :func:`~nplab.tables.read_table` and the manifest understand.
    """
    argument = click.argument(name, type=click.Path(dir_okay=False, path_type=Path),
                              callback=_with_sheet)
    option = sheet_option()

    def decorate(fn):
        return option(argument(fn))

    return decorate


_SHEET = "nplab.sheet"
_ROUND = "nplab.round"


def _remember(key: str):
    def callback(ctx: click.Context, _param: click.Parameter, value: Any) -> Any:
        ctx.meta[key] = value
        return value

    return callback


def sheet_option():
    """``--sheet NAME``: the sheet of an Excel input to read (eager; see table_argument)."""
    return click.option(
        "--sheet", "sheet_name", default=None, is_eager=True, expose_value=False,
        callback=_remember(_SHEET),
        help="Sheet of an .xlsx input (name, or 0-based number; default: the first). "
        "Same as writing the input as book.xlsx#Sheet.",
    )  # fmt: skip


def _with_sheet(ctx: click.Context, _param: click.Parameter, value: Path | None) -> Path | None:
    sheet = ctx.meta.get(_SHEET)
    if sheet is None or value is None:
        return value
    if split_sheet(value)[1] is not None:
        raise InputError("the sheet is given twice (after '#' and with --sheet)", file=value,
                         column="--sheet", expected="one of the two")  # fmt: skip
    if value.suffix.lower() not in EXCEL_SUFFIXES:
        raise InputError(f"--sheet {sheet!r} given, but this is not an Excel workbook",
                         file=value, column="--sheet", expected="--sheet only with .xlsx files")  # fmt: skip
    return value.with_name(f"{value.name}#{sheet}")


def round_option():
    """``--round N``: also write ``OUTPUT.rounded.csv`` with N significant digits."""
    return click.option(
        "--round", "round_digits", type=click.IntRange(1, 15), default=None,
        expose_value=False, callback=_remember(_ROUND),
        help="Also write a copy of each table rounded to N significant digits "
        "(OUTPUT.rounded.csv, for reading in Excel); OUTPUT keeps full precision.",
    )  # fmt: skip


def rounded_path(output: Path) -> Path:
    """Where the rounded copy of ``output`` goes: ``name.rounded.csv`` beside it."""
    return output.with_name(f"{output.stem}.rounded.csv")


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
    round_digits: int | None = None,
) -> None:
    """Write ``table`` atomically and, if asked, its provenance manifest beside it.

    With ``round_digits`` (or the command's ``--round N``) a copy rounded to that many
    significant digits (:func:`nplab.tables.round_table`) is written as
    :func:`rounded_path` beside ``output``, which keeps full precision; the manifest
    lists both and records ``round``.

    Raises
    ------
    InputError
        If ``output`` is one of the ``inputs`` (inputs are never modified).
    """
    inputs = list(inputs)
    check_not_an_input(output, inputs)
    if round_digits is None:
        ctx = click.get_current_context(silent=True)
        round_digits = ctx.meta.get(_ROUND) if ctx is not None else None
    outputs = [output]
    if round_digits is not None:
        outputs.append(rounded_path(output))
        check_not_an_input(outputs[1], inputs)
        parameters = {**(parameters or {}), "round": round_digits}
    write_table(table, output)
    if round_digits is not None:
        write_table(round_table(table, round_digits), outputs[1])
    if manifest:
        write_manifest_beside(
            output, inputs=inputs, outputs=outputs, protocols=protocols, parameters=parameters
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
