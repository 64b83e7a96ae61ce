"""Benchmark: CLI start-up (``nplab --version``, ``--help``, ``<cmd> --help``).

Run:  PYTHONPATH=src python benchmarks/bench_cli_startup.py [--repeats N] [--json FILE]

Each measurement is a fresh ``python -m nplab ...`` process.  Baseline: the same command
with every subcommand module imported up front, as the CLI did before issue 19 (the
eager ``for name in SUBCOMMANDS: import_module(name)``), emulated by importing them all
before calling the CLI.  Targets (issue 19): ``--version`` / ``--help`` ≤ 0.15 s,
``<cmd> --help`` ≤ 0.3 s.  Check what loads with ``python -X importtime -m nplab --help``.
"""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))
from _harness import compare

SRC = str(Path(__file__).resolve().parents[1] / "src")
ENV = {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", "")}

EAGER = (
    "import importlib, sys\n"
    "from nplab.cli import SUBCOMMANDS, main\n"
    "for module, _help in SUBCOMMANDS.values():\n"
    "    importlib.import_module(module)\n"
    "main(sys.argv[1:])\n"
)


def _run(args: list[str]) -> None:
    subprocess.run(args, env=ENV, check=True, stdout=subprocess.DEVNULL)


def main() -> None:
    cases = [["--version"], ["--help"], ["vonfrey", "--help"], ["hargreaves", "--help"],
             ["run", "--help"], ["stats", "--help"]]  # fmt: skip
    for argv in cases:
        compare(
            f"nplab {' '.join(argv)}",
            lambda argv=argv: _run([sys.executable, "-m", "nplab", *argv]),
            lambda argv=argv: _run([sys.executable, "-c", EAGER, *argv]),
            baseline_name="eager import of every subcommand (before issue 19)",
        )
    compare("python -c 'import nplab' (floor)", lambda: _run([sys.executable, "-c", "import nplab"]))


if __name__ == "__main__":
    main()
