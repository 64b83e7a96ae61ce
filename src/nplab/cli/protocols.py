"""``nplab protocols list|show``."""

from __future__ import annotations

import json

import click

from nplab.protocols import describe_schema, list_protocols, load_protocol


@click.group("protocols")
def command() -> None:
    """List and inspect the protocols nplab ships (or your own .toml files)."""


@command.command("list")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
def list_cmd(as_json: bool) -> None:
    """List shipped protocols: name, version, kind and title."""
    rows = list_protocols()
    if as_json:
        click.echo(json.dumps(rows, indent=2))
        return
    width = max((len(r["name"]) for r in rows), default=4)
    for r in rows:
        click.echo(f"{r['name']:<{width}}  {r['version']:<7} {r['kind']:<15} {r['title']}")


@command.command("show")
@click.argument("name_or_path")
@click.option("--json", "as_json", is_flag=True, help="Machine-readable output.")
@click.option("--schema", is_flag=True, help="Also document every parameter (type, default, unit).")
def show_cmd(name_or_path: str, as_json: bool, schema: bool) -> None:
    """Print the resolved, validated parameters of NAME_OR_PATH (exit 2 if invalid)."""
    proto = load_protocol(name_or_path)
    record = proto.provenance()
    record["title"] = proto.title
    record["references"] = list(proto.references)
    if schema:
        record["schema"] = describe_schema(proto.kind)
    if as_json:
        click.echo(json.dumps(record, indent=2, default=str))
        return
    click.echo(f"{proto.name} {proto.version} ({proto.kind}): {proto.title}")
    click.echo(f"file: {proto.path}")
    click.echo(f"sha256: {proto.sha256}")
    for ref in proto.references:
        click.echo(f"reference: {ref}")
    click.echo("parameters:")
    for key, value in proto.params.items():
        click.echo(f"  {key} = {json.dumps(value, default=str)}")
    if schema:
        click.echo("schema:")
        for row in record["schema"]:
            unit = f" [{row['unit']}]" if row["unit"] else ""
            click.echo(
                f"  {row['key']} ({row['type']}{unit}, default {row['default']!r}): {row['doc']}"
            )
