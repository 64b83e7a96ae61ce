"""``nplab western BANDS -o RATIOS.csv [-p western-densitometry] [--stats S.csv] ...``.

BANDS: densitometry table, one row per band (``blot, lane, animal, group, target, signal``
and ``loading_signal`` or ``total_protein``; an ``--animals`` table can supply ``group``).
"""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    protocol_option,
    table_argument,
    write_manifest_beside,
)

__all__ = ["command"]

_PATH = click.Path(dir_okay=False, path_type=Path)


def _pairs(text: str | None) -> dict[str, str] | None:
    if text is None:
        return None
    out = {}
    for item in filter(None, (t.strip() for t in text.split(","))):
        ph, sep, tot = item.partition("=")
        if not sep or not ph.strip() or not tot.strip():
            raise click.BadParameter(f"{item!r}: expected PHOSPHO=TOTAL, e.g. p-p65=p65", param_hint="--pairs")
        out[ph.strip()] = tot.strip()
    return out


@click.command("western")
@table_argument("bands")
@output_option()
@protocol_option(default="western-densitometry")
@click.option("--animals", type=_PATH, default=None, help="Animals table (animal, group) when BANDS has no group.")
@click.option("--control", default=None, help="Control group (overrides the protocol).")
@click.option("--loading", type=click.Choice(["loading_signal", "total_protein"]), default=None,
              help="Loading column (default: the protocol's, if the table has it).")
@click.option("--pairs", default=None, help="Phospho/total pairs PHOSPHO=TOTAL[,...] (overrides the protocol).")
@click.option("--stats", "stats_out", type=_PATH, default=None,
              help="Also write group differences on log2 fold change (LMM with blot effect, or Dunnett).")
@click.option("--ladder", type=_PATH, default=None, help="Loading series (blot, target, load, signal).")
@click.option("--linear-range", "range_out", type=_PATH, default=None,
              help="Write the loading series' linear-range check (needs --ladder).")
@manifest_option()
def command(bands: Path, output: Path, protocol: str, animals: Path | None, control: str | None,
            loading: str | None, pairs: str | None, stats_out: Path | None, ladder: Path | None,
            range_out: Path | None, manifest: bool) -> None:
    """Normalised band ratios, phospho/total, fold change vs the blot's control lanes."""
    from nplab.protocols import load_protocol
    from nplab.tables import read_table, write_table
    from nplab.western import linear_range, normalise_with_protocol, statistics

    if (ladder is None) != (range_out is None):
        raise click.UsageError("--ladder and --linear-range go together")
    check_outputs([output, stats_out, range_out], [bands, animals, ladder])
    proto = load_protocol(protocol)
    table = read_table(bands, required=["blot", "lane", "animal", "target", "signal"])
    if animals is not None:
        an = read_table(animals, required=["animal", "group"])[["animal", "group"]]
        src = table.attrs.get("source")
        table = table.drop(columns=[c for c in ("group",) if c in table.columns]).merge(an, on="animal", how="left")
        table.attrs["source"] = src
        if table["group"].isna().any():
            from nplab.errors import InputError

            miss = table.loc[table["group"].isna(), "animal"].iloc[0]
            raise InputError(f"animal {miss!r} is not in the animals table", file=animals, column="animal",
                             expected="every animal of BANDS in the animals table")
    res, used = normalise_with_protocol(table, proto.params, control=control, loading=loading,
                                        pairs=_pairs(pairs))
    outputs = [write_table(res, output)]
    if stats_out is not None:
        outputs.append(write_table(statistics(res, str(used["control"])), stats_out))
    if ladder is not None and range_out is not None:
        lad = read_table(ladder, required=["blot", "target", "load", "signal"])
        outputs.append(write_table(linear_range(lad, table, min_r2=proto.params["min_r2"]), range_out))
    if manifest:
        ins = [bands] + [x for x in (animals, ladder) if x is not None]
        write_manifest_beside(output, inputs=ins, outputs=outputs, protocols=[proto], parameters=used)
    click.echo(f"{len(res)} lane × measure rows ({res['measure'].nunique()} measures) written to {output}")
