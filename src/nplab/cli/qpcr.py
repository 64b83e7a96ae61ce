"""``nplab qpcr CQ_TABLE -o EXPRESSION.csv [-p qpcr-ddct] [--animals A] ...``.

CQ_TABLE: tidy (animal, group, target, cq), Bio-Rad CFX "Quantification Cq Results" or
QuantStudio "Results" export (``--format``; instrument exports need ``--animals``).
"""

from __future__ import annotations

from pathlib import Path

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    protocol_option,
    write_manifest_beside,
)

__all__ = ["command"]

_PATH = click.Path(dir_okay=False, path_type=Path)


@click.command("qpcr")
@click.argument("cq_table", type=_PATH)
@output_option()
@protocol_option(default="qpcr-ddct")
@click.option("--format", "fmt", type=click.Choice(["auto", "tidy", "cfx", "quantstudio"]), default="auto",
              show_default=True, help="Layout of CQ_TABLE.")
@click.option("--animals", type=_PATH, default=None, help="Animals table (animal, group[, tissue]).")
@click.option("--reference-genes", default=None, help="Comma-separated reference genes (overrides the protocol).")
@click.option("--control", default=None, help="Control group (overrides the protocol).")
@click.option("--dilution", type=_PATH, default=None,
              help="Dilution-series table (target, quantity, cq): efficiencies and NRQ.")
@click.option("--stats", "stats_out", type=_PATH, default=None, help="Also write Dunnett tests on ΔCt.")
@click.option("--genorm", "genorm_out", type=_PATH, default=None, help="Also write geNorm M of the reference genes.")
@manifest_option()
def command(cq_table: Path, output: Path, protocol: str, fmt: str, animals: Path | None,
            reference_genes: str | None, control: str | None, dilution: Path | None,
            stats_out: Path | None, genorm_out: Path | None, manifest: bool) -> None:
    """Relative expression per animal × target: ΔCt, ΔΔCt, fold change 2^-ΔΔCt (and NRQ)."""
    from nplab.protocols import load_protocol
    from nplab.qpcr import efficiency, genorm, group_statistics, read_cq, relative_expression
    from nplab.tables import read_table, write_table

    check_outputs([output, stats_out, genorm_out], [cq_table, animals, dilution])
    proto = load_protocol(protocol)
    p = proto.params
    refs = [g.strip() for g in reference_genes.split(",")] if reference_genes else list(p["reference_genes"])
    ctrl = control or p["control_group"]
    data = read_cq(cq_table, fmt, animals)
    eff = None
    if dilution is not None:
        eff = efficiency(read_table(dilution, required=["target", "quantity", "cq"]),
                         low=p["efficiency_low_pct"], high=p["efficiency_high_pct"])
    res = relative_expression(data, refs, ctrl, eff, max_cq=p["max_cq"], sd_limit=p["replicate_sd_limit"])
    st = group_statistics(res, ctrl) if stats_out is not None else None
    gn = genorm(data, refs).m if genorm_out is not None and len(refs) >= 3 else None
    outputs = [write_table(res, output)]
    if st is not None:
        outputs.append(write_table(st, stats_out))
    if genorm_out is not None:
        if gn is None:
            raise click.UsageError("--genorm needs at least 3 reference genes")
        outputs.append(write_table(gn, genorm_out))
    if manifest:
        ins = [cq_table] + [x for x in (animals, dilution) if x is not None]
        write_manifest_beside(output, inputs=ins, outputs=outputs, protocols=[proto],
                              parameters={"reference_genes": refs, "control": ctrl})
    click.echo(f"{len(res)} animal × target rows written to {output}")
