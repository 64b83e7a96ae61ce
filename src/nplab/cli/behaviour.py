"""``nplab behaviour TEST TRIALS -o OUT [--protocol P] [--animals A] [--set KEY=VALUE]``.

One subcommand per test of :mod:`nplab.behaviour` (hot-plate, tail-flick, cold-plate,
rotarod, acetone, randall-selitto, electronic-vonfrey, weight-bearing, formalin,
open-field); the protocol defaults to the shipped one of the same name.  Latency tests also take
``--cutoff`` and ``--km KM_OUT`` (group Kaplan-Meier medians).
"""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    table_argument,
    write_manifest_beside,
)
from nplab.cli.hargreaves import _overrides

__all__ = ["command"]

_LATENCY = ("hot-plate", "tail-flick", "cold-plate", "rotarod")
_WHAT = {
    "hot-plate": "Hot-plate latency (cut-off censored) per animal × timepoint.",
    "tail-flick": "Tail-flick latency (cut-off censored) per animal × timepoint.",
    "cold-plate": "Cold-plate latency to the first lift, or lifts per period.",
    "rotarod": "Rotarod latency to fall (trial end censored) and rod speed at the fall.",
    "acetone": "Acetone drop scores (0-3): sum, mean and % response per paw × timepoint.",
    "randall-selitto": "Randall-Selitto withdrawal force (g) per paw × timepoint.",
    "electronic-vonfrey": "Electronic von Frey withdrawal force (g), outlier rule applied.",
    "weight-bearing": "Static weight bearing: % weight on the ipsilateral hind paw.",
    "formalin": "Formalin test: phase I and phase II totals from binned behaviour.",
    "open-field": "Open field: distance travelled (m) and mean speed per animal × timepoint.",
}


@click.group("behaviour")
def command() -> None:
    """Other behavioural tests: hot plate, tail flick, cold plate, rotarod, acetone,
    Randall-Selitto, electronic von Frey, weight bearing, formalin, open field."""


def _make(test: str) -> click.Command:
    @click.command(
        test,
        help=_WHAT[test] + " TRIALS is a CSV/XLSX trial table "
        f"(columns: see 'nplab protocols show {test}').",
    )
    @table_argument("trials")
    @click.option(
        "-p",
        "--protocol",
        default=test,
        show_default=True,
        help="Protocol name or path to a .toml file.",
    )
    @output_option()
    @click.option(
        "--animals",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Animals table (group, injured_side, excluded).",
    )
    @click.option(
        "--set",
        "settings",
        multiple=True,
        metavar="KEY=VALUE",
        help="Override a protocol parameter (repeatable).",
    )
    @click.option(
        "--cutoff",
        type=float,
        default=None,
        help="Override the cut-off (cutoff_s) of a latency test.",
    )
    @click.option(
        "--km",
        "km_out",
        type=click.Path(dir_okay=False, path_type=Path),
        default=None,
        help="Latency tests: also write Kaplan-Meier medians.",
    )
    @manifest_option()
    def run(
        trials: Path,
        protocol: str,
        output: Path,
        animals: Path | None,
        settings: tuple[str, ...],
        cutoff: float | None,
        km_out: Path | None,
        manifest: bool,
    ) -> None:
        from nplab.behaviour import TESTS
        from nplab.behaviour.engine import km_latency
        from nplab.errors import InputError
        from nplab.protocols import load_protocol
        from nplab.tables import write_table

        if (cutoff is not None or km_out is not None) and test not in _LATENCY:
            raise InputError(
                f"--cutoff and --km apply to latency tests, not {test}",
                column="--cutoff" if cutoff is not None else "--km",
                expected=f"one of {', '.join(_LATENCY)}",
            )
        check_outputs([output, km_out], [trials, animals])
        proto = load_protocol(protocol, kind=test, **_overrides(cutoff, settings, test))
        table = TESTS[test](trials, proto, animals)
        km = None
        if km_out is not None:
            if test == "cold-plate" and proto["measure"] != "latency":
                raise InputError("--km needs measure = latency", column="--km")
            km = km_latency(trials, proto, animals, kind=test, paws=False)
        outputs = [write_table(table, output)]
        if km is not None:
            outputs.append(write_table(km, km_out))
        if manifest:
            write_manifest_beside(
                output,
                inputs=[trials] + ([animals] if animals is not None else []),
                outputs=outputs,
                protocols=[proto],
            )
        counts = table["status"].value_counts().sort_index()
        click.echo(
            f"{len(table)} rows -> {output} ("
            + ", ".join(f"{n} {s}" for s, n in counts.items())
            + ")"
        )

    return run


for _test in _WHAT:
    command.add_command(_make(_test))


@command.command("vonfrey-percent")
@click.argument("data", type=click.Path(exists=False, path_type=Path))
@output_option()
@click.option(
    "--percent",
    "percent_out",
    type=click.Path(dir_okay=False, path_type=Path),
    default=None,
    help="Also write % withdrawal per filament.",
)
@click.option("--link", type=click.Choice(["logit", "probit"]), default="logit", show_default=True)
@click.option(
    "--by",
    default=None,
    help="Comma-separated id columns of one fit (default: animal, group, paw, "
    "timepoint present; e.g. group,paw,timepoint pools the animals of a group).",
)
@click.option(
    "--pain-scores",
    is_flag=True,
    help="DATA is a pain-score table/folder (Abdus-Saboor et al. 2019 layout).",
)
@click.option(
    "--min-score",
    type=float,
    default=1.0,
    show_default=True,
    help="With --pain-scores: the pain score counted as a response.",
)
@manifest_option()
def vonfrey_percent(
    data: Path,
    output: Path,
    percent_out: Path | None,
    link: str,
    by: str | None,
    pain_scores: bool,
    min_score: float,
    manifest: bool,
) -> None:
    """von Frey %-response method: % withdrawal per filament and a psychometric 50 %
    threshold (logit/probit on log10 force) per animal × paw × timepoint.

    DATA has force_g and response (one row per application) or n_applied and
    n_withdrawals (one row per filament).
    """
    from nplab.tables import read_table, write_table
    from nplab.vonfrey.percent import percent_response, psychometric_thresholds, read_pain_scores

    check_outputs([output, percent_out], [data])
    table = (
        read_pain_scores(data, response_min_score=min_score) if pain_scores else (read_table(data))
    )
    ids = [c.strip() for c in by.split(",")] if by else None
    pct = percent_response(table, by=ids)
    thr = psychometric_thresholds(pct, by=ids, link=link)
    outputs = [write_table(thr, output)]
    if percent_out is not None:
        outputs.append(write_table(pct, percent_out))
    if manifest:
        write_manifest_beside(
            output,
            inputs=[data] if data.is_file() else sorted(data.glob("*.csv")),
            outputs=outputs,
            parameters={
                "link": link,
                "by": ids,
                "pain_scores": pain_scores,
                "min_score": min_score,
            },
        )
    counts = thr["status"].value_counts().sort_index()
    click.echo(
        f"{len(thr)} fits -> {output} (" + ", ".join(f"{n} {s}" for s, n in counts.items()) + ")"
    )
