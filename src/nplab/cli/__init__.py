"""Command-line interface: ``nplab <capability> ...``.

Exit codes: 0 success; 2 bad input or usage (one message on stderr naming the file,
row or sweep, column and what was expected; no traceback); 1 unexpected internal
error (``--verbose`` shows the traceback).

Each capability adds one module to :data:`SUBCOMMANDS`; the module exposes a click
command or group named ``command``.
"""

from __future__ import annotations

import importlib
import os
import re
import shlex
import sys
import traceback
from pathlib import Path

import click

from nplab import __version__
from nplab.errors import NplabError, plain_numbers

#: Modules that contribute a subcommand (``module.command``), in help order.
SUBCOMMANDS = [
    "nplab.cli.protocols",
    "nplab.cli.vonfrey",
    "nplab.cli.hargreaves",
    "nplab.cli.doseresponse",
    "nplab.cli.ephys",
    "nplab.cli.elisa",
    "nplab.cli.qpcr",
    "nplab.cli.stats",
    "nplab.cli.run",
    "nplab.cli.verify",
]


@click.group(context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100})
@click.version_option(__version__, "--version", prog_name="nplab")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")
def cli(verbose: bool) -> None:
    """nplab: von Frey, Hargreaves, patch-clamp, dose-response and group statistics
    for preclinical neuropathic-pain drug studies."""


for _name in SUBCOMMANDS:
    cli.add_command(importlib.import_module(_name).command)


# atomic writes go through a temporary ".NAME.XXXX.tmp" beside the output
_TEMP_NAME = re.compile(r"^\.(?P<name>.+)\.[^.]+\.tmp$")


#: Longest message printed (a binary file or a huge cell must not flood the terminal).
MAX_MESSAGE = 600


def one_line(text: str, limit: int = MAX_MESSAGE) -> str:
    """``text`` as one bounded line: control characters escaped, numpy reprs plain,
    clipped to ``limit`` characters (the start names the file, so it is kept)."""
    text = plain_numbers(str(text))
    text = "".join(c if c.isprintable() else repr(c)[1:-1] for c in text)
    return text if len(text) <= limit else text[: limit - 20] + " ... (message cut)"


def _user_path(path: Path) -> Path:
    """The output a user asked for, for a path of nplab's temporary or staging files."""
    match = _TEMP_NAME.match(path.name)
    if match:
        path = path.with_name(match["name"])
    parts = [p for p in path.parts if not p.startswith(".nplab-stage-")]
    return Path(*parts) if parts else path


def _file_system_error(exc: OSError) -> str:
    """One line for an OSError, naming the user's file (not our temporary file)."""
    reason = exc.strerror or str(exc)
    if exc.filename is None:
        return reason
    path = _user_path(Path(os.fsdecode(exc.filename)))
    return (
        f"{path}: {reason} (expected a path nplab can read or write: check the folder, "
        "its permissions and the free space)"
    )


def main(argv: list[str] | None = None) -> None:
    """Entry point of the ``nplab`` console script; never returns."""
    args = sys.argv[1:] if argv is None else list(argv)
    verbose = "-v" in args or "--verbose" in args
    try:
        rc = cli.main(args=args, prog_name="nplab", standalone_mode=False)
    except NplabError as exc:
        click.echo(f"nplab: error: {one_line(str(exc))}", err=True)
        sys.exit(2)
    except click.exceptions.Abort:
        click.echo("nplab: aborted", err=True)
        sys.exit(130)
    except click.ClickException as exc:
        exc.show()
        sys.exit(exc.exit_code)
    except OSError as exc:  # the file system refused: a user's problem, not a bug (exit 2)
        if verbose:
            traceback.print_exc()
        click.echo(f"nplab: error: {one_line(_file_system_error(exc))}", err=True)
        sys.exit(2)
    except KeyboardInterrupt:
        click.echo("nplab: interrupted", err=True)
        sys.exit(130)
    except Exception as exc:  # internal error: exit 1 with a hint
        if verbose:
            traceback.print_exc()
        click.echo(
            f"nplab: internal error: {type(exc).__name__}: {one_line(str(exc))}\n"
            "This is a bug in nplab; rerun with --verbose to see the traceback: "
            f"nplab --verbose {shlex.join(a for a in args if a not in ('-v', '--verbose'))}",
            err=True,
        )
        sys.exit(1)
    sys.exit(rc if isinstance(rc, int) else 0)
