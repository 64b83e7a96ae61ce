"""``nplab run STUDY... -o OUTDIR``: run whole studies (tables, figures, report, manifest)."""

from __future__ import annotations

import sys
from pathlib import Path

import click

from nplab.errors import InputError
from nplab.report import plural
from nplab.rundir import require_inside, run_lock, safe_component
from nplab.study import load_study


@click.command("run")
@click.argument("studies", nargs=-1, required=True, type=click.Path(path_type=Path))
@click.option(
    "-o",
    "--output",
    "outdir",
    required=True,
    type=click.Path(file_okay=False, path_type=Path),
    help="Output folder (one subfolder per study when several are given).",
)
@click.option("-j", "--jobs", type=click.IntRange(min=1), default=None,
              help="Worker processes for patch-clamp batches (default: all cores for 100+ "
                   "files; 1 = serial).")
@click.option("--scheduler", default=None, metavar="ADDR",
              help="Dask scheduler address (tcp://host:8786) for patch-clamp batches "
                   "(needs the nplab[dask] extra).")
@click.option("--by-cohort", is_flag=True,
              help="One run per cohort of the animals table (OUTDIR/<study id>-<cohort>/).")
@click.option("--progress/--no-progress", default=None,
              help="Progress bars (default: only when stderr is a terminal).")
def command(studies: tuple[Path, ...], outdir: Path, jobs: int | None, scheduler: str | None,
            by_cohort: bool, progress: bool | None) -> None:
    """Run every analysis STUDY (a .toml or .yaml study file) declares; write OUTDIR/report.html,
    tables/*.csv, figures/*.png|svg and manifest.json.

    With several study files (e.g. one per cohort), each gets OUTDIR/<study id>/;
    with --by-cohort each cohort of each study gets OUTDIR/<study id>-<cohort>/.
    """
    from nplab.runner import cohorts, run_study

    loaded = [load_study(s) for s in studies]  # validate all before running any
    names = [s.name for s in loaded]
    dup = sorted({n for n in names if names.count(n) > 1})
    if len(loaded) > 1 and dup:
        first, second = [s.path for s in loaded if s.name == dup[0]][:2]
        raise InputError(
            f"two study files have the id {dup[0]!r} (also {first})",
            file=second,
            column="study.id",
            expected="a different [study].id per study file (it names the subfolder)",
        )
    show = sys.stderr.isatty() if progress is None else progress
    runs: list[tuple[Path, Path, str | None, str]] = []
    for study in loaded:
        if by_cohort:
            found = cohorts(study.path)
            if not found:
                raise InputError("--by-cohort: the animals table has no cohorts",
                                 file=study.data["animals"], column="cohort")
            name = safe_component(study.name, "study id", file=study.path, column="study.id")
            for c in found:
                safe_component(c, "cohort", file=study.data["animals"], column="cohort")
                runs.append((study.path, outdir / f"{name}-{c}", c, f"{study.name} cohort {c}"))
        elif len(loaded) == 1:
            runs.append((study.path, outdir, None, study.name))
        else:
            name = safe_component(study.name, "study id", file=study.path, column="study.id")
            runs.append((study.path, outdir / name, None, study.name))
    for _, target, _, _ in runs:  # e.g. OUTDIR/<id> a symbolic link out of OUTDIR
        require_inside(outdir, target, what="output folder")
    for path, target, cohort, label in runs:
        with run_lock(target):  # one run per folder, also while old outputs are removed
            res = run_study(path, target, jobs=jobs, scheduler=scheduler, progress=show,
                            cohort=cohort)
        click.echo(
            f"{label}: {len(res.outputs)} outputs, "
            f"{plural(res.exclusions['animal'].nunique(), 'animal')} excluded; "
            f"report {target / 'report.html'}"
        )
        for line in res.kept_stale:
            click.echo(f"{label}: {line}", err=True)
