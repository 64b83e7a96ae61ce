"""The CLI starts without the heavy libraries: they load when a command runs (issue 19).

Functional, not timed: a fresh interpreter imports the CLI (or prints a help page) and we
look at ``sys.modules``.  ``nplab stats --help`` included: ``nplab.stats`` exports its
functions lazily and ``nplab.cli.stats_more`` keeps its option choices as literals (checked
against the statistics modules below).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import nplab.cli as cli_mod

HEAVY = ("pandas", "scipy", "statsmodels", "matplotlib")
SRC = str(Path(cli_mod.__file__).resolve().parents[2])


def _loaded_after(code: str) -> list[str]:
    probe = (
        "import sys, json\n"
        f"{code}\n"
        f"print(json.dumps(sorted(m for m in {HEAVY!r} if m in sys.modules)))"
    )
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True,
                         env=env, check=True)  # fmt: skip
    return json.loads(out.stdout.strip().splitlines()[-1])


def test_import_cli_loads_no_heavy_library():
    assert _loaded_after("import nplab.cli") == []


@pytest.mark.parametrize("argv", [["--version"], ["--help"]])
def test_top_level_help_and_version_load_no_heavy_library(argv):
    code = (
        "from nplab.cli import cli\n"
        f"try:\n    cli.main(args={argv!r}, prog_name='nplab', standalone_mode=False)\n"
        "except SystemExit:\n    pass"
    )
    assert _loaded_after(code) == []


@pytest.mark.parametrize("name", list(cli_mod.SUBCOMMANDS))
def test_subcommand_help_loads_no_heavy_library(name):
    code = (
        "from nplab.cli import cli\n"
        f"try:\n    cli.main(args=[{name!r}, '--help'], prog_name='nplab', standalone_mode=False)\n"
        "except SystemExit:\n    pass"
    )
    assert _loaded_after(code) == []


def test_help_lists_every_subcommand_with_its_short_help():
    env = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}
    out = subprocess.run([sys.executable, "-m", "nplab", "--help"], capture_output=True,
                         text=True, env=env, check=True).stdout  # fmt: skip
    lines = [" ".join(line.split()) for line in out.splitlines()]
    for name, (_module, short) in cli_mod.SUBCOMMANDS.items():
        assert f"{name} {short}" in lines


def test_every_subcommand_module_exposes_its_command():
    import importlib

    for name, (module, _short) in cli_mod.SUBCOMMANDS.items():
        assert importlib.import_module(module).command.name == name


def test_stats_help_option_choices_match_the_statistics_modules():
    from nplab.cli import stats_more
    from nplab.stats import effsize, nonparametric, power

    assert stats_more.P_ADJUST_METHODS == nonparametric.P_ADJUST_METHODS
    assert stats_more.CI_METHODS == effsize.CI_METHODS
    assert stats_more.RM_EFFECTS == power.RM_EFFECTS
