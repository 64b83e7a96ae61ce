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
@click.option("--rtol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Accept CSV tables whose numbers agree within this relative tolerance "
                   "(e.g. a run of another release); listed, not counted as identical.")
@click.option("--atol", type=click.FloatRange(min=0), default=0.0, show_default=True,
              help="Absolute tolerance added to --rtol.")
def command(manifest: Path, jobs: int | None, keep: Path | None, rtol: float,
            atol: float) -> None:
    """Check a run's inputs against their sha256, rerun the study and report whether
    every output is byte-identical (exit 0) or exactly which differ (exit 3).  With
    --rtol/--atol, CSV tables whose numbers agree within the tolerance pass too."""
    from nplab.verify import verify

    res = verify(manifest, jobs=jobs, keep=keep, rtol=rtol, atol=atol)
    for line in res.lines():
        click.echo(line)
    if not res.ok:
        sys.exit(EXIT_DIFFERS)
