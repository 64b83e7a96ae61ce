"""``nplab verify OUTDIR/manifest.json``: check inputs, rerun, compare outputs byte for byte."""

from __future__ import annotations

import sys
from pathlib import Path

import click

#: Exit status when verification finds a difference (2 stays "bad input").
EXIT_DIFFERS = 3


@click.command("verify")
@click.argument("manifest", type=click.Path(path_type=Path))
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for the rerun.")
@click.option("--keep", type=click.Path(file_okay=False, path_type=Path), default=None,
              help="Keep the rerun's outputs in this folder.")
def command(manifest: Path, jobs: int | None, keep: Path | None) -> None:
    """Check a run's inputs against their sha256, rerun the study and report whether
    every output is byte-identical (exit 0) or exactly which differ (exit 3)."""
    from nplab.verify import verify

    res = verify(manifest, jobs=jobs, keep=keep)
    for line in res.lines():
        click.echo(line)
    if not res.ok:
        sys.exit(EXIT_DIFFERS)
