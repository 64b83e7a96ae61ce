"""Command-line interface: ``nplab <capability> ...``.

Exit codes: 0 success; 2 bad input or usage (one message on stderr naming the file,
row or sweep, column and what was expected; no traceback); 1 unexpected internal
error (``--verbose`` shows the traceback).

Adding a subcommand is **one line** in :data:`SUBCOMMANDS`: ``"name": ("module", "short
help")``.  The module exposes a click command or group named ``command`` and is imported
only when that command runs (or its own ``--help`` is asked for); ``nplab --help`` lists the
commands from the short help kept here, so ``nplab --version`` / ``--help`` start without
numpy, pandas, scipy, statsmodels or matplotlib.  Keep subcommand modules light too: import
the heavy libraries (and the nplab modules that need them) inside the command function, so
``nplab <cmd> --help`` stays fast (``tests/cli/test_lazy_imports.py`` checks this).
"""

from __future__ import annotations

import atexit
import importlib
import os
import re
import shlex
import sys
import threading
import traceback
import warnings
from pathlib import Path
from typing import Any

import click

from nplab import __version__
from nplab.errors import NplabError, plain_numbers

#: Subcommands in help order: name -> (module exposing ``command``, short help for ``--help``).
SUBCOMMANDS: dict[str, tuple[str, str]] = {
    "protocols": ("nplab.cli.protocols", "List, show and check analysis protocols."),
    "vonfrey": ("nplab.cli.vonfrey", "Von Frey 50% withdrawal thresholds (up-down; SUDO)."),
    "hargreaves": ("nplab.cli.hargreaves", "Hargreaves withdrawal latencies: summaries, censoring."),
    "behaviour": ("nplab.cli.behaviour", "Other behavioural tests: hot plate, acetone, rotarod ..."),
    "randomise": ("nplab.cli.randomise", "Randomised, blinded allocation list (and unblinding key)."),
    "doseresponse": ("nplab.cli.doseresponse", "Fit concentration-/dose-response curves (LL.4 etc.)."),
    "ephys": ("nplab.cli.ephys", "Patch-clamp recordings (ABF): measurements, IC50."),
    "elisa": ("nplab.cli.elisa", "ELISA standard curves and sample concentrations."),
    "qpcr": ("nplab.cli.qpcr", "RT-qPCR relative expression (ddCt, Pfaffl, NRQ)."),
    "western": ("nplab.cli.western", "Western blot densitometry: normalised ratios, fold change."),
    "stats": ("nplab.cli.stats", "Group statistics: mixed ANOVA, post hoc tests, models."),
    "run": ("nplab.cli.run", "Run a whole study from its study file."),
    "verify": ("nplab.cli.verify", "Check outputs against their provenance manifest."),
}


class LazyGroup(click.Group):
    """A click group whose subcommands (:data:`SUBCOMMANDS`) are imported on first use."""

    def __init__(self, *args, lazy: dict[str, tuple[str, str]], **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.lazy = lazy

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*self.lazy, *(n for n in super().list_commands(ctx) if n not in self.lazy)]

    def get_command(self, ctx: click.Context, cmd_name: str) -> click.Command | None:
        if cmd_name not in self.commands and cmd_name in self.lazy:
            command = importlib.import_module(self.lazy[cmd_name][0]).command
            self.add_command(command, cmd_name)
        return super().get_command(ctx, cmd_name)

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        rows = []
        for name in self.list_commands(ctx):
            if name in self.commands:
                cmd = self.commands[name]
                if cmd.hidden:
                    continue
                rows.append((name, cmd.get_short_help_str(formatter.width - 6 - len(name))))
            else:
                rows.append((name, self.lazy[name][1]))
        if rows:
            with formatter.section("Commands"):
                formatter.write_dl(rows)


@click.group(
    cls=LazyGroup,
    lazy=SUBCOMMANDS,
    context_settings={"help_option_names": ["-h", "--help"], "max_content_width": 100},
)
@click.version_option(__version__, "--version", prog_name="nplab")
@click.option("-v", "--verbose", is_flag=True, help="Show tracebacks of internal errors.")
def cli(verbose: bool) -> None:
    """nplab: von Frey, Hargreaves, patch-clamp, dose-response and group statistics
    for preclinical neuropathic-pain drug studies."""


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
    """Entry point of the ``nplab`` console script; never returns.

    Run as the console script (``argv`` None), the process ends without tearing down
    its modules (:func:`_exit_now`); called with ``argv`` it raises ``SystemExit``.
    """
    try:
        _main(sys.argv[1:] if argv is None else list(argv))
    except SystemExit as exc:
        if argv is None:
            _exit_now(exc.code)
        raise


def _exit_now(code: object) -> None:
    """End the process with ``code`` once output is flushed and exit handlers have run,
    skipping the interpreter's teardown of pandas, SciPy and matplotlib (~0.25 s of a
    short command).  Falls back to a normal exit while other threads run."""
    if threading.active_count() > 1:
        return
    if code is not None and not isinstance(code, int):
        print(code, file=sys.stderr)
        code = 1
    atexit._run_exitfuncs()  # what a normal exit runs first (temporary files, logging)
    try:
        sys.stdout.flush()
        sys.stderr.flush()
    except (OSError, ValueError):  # e.g. a closed pipe: Python's own exit status then
        code = 120
    os._exit(code or 0)


def _show_warning(message: Warning | str, category: type[Warning], filename: str,
                  lineno: int, file: Any = None, line: str | None = None) -> None:
    click.echo(f"nplab: warning: {one_line(str(message))}", err=True)


def _main(args: list[str]) -> None:
    verbose = "-v" in args or "--verbose" in args
    try:
        with warnings.catch_warnings():
            if not verbose:  # one line per warning; --verbose keeps Python's file:line form
                warnings.showwarning = _show_warning
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
