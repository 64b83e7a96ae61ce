"""``nplab doseresponse fit``: fit dose–response curves from a long table."""

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
from nplab.errors import InputError
from nplab.figures import figure_format
from nplab.tables import read_table, write_table

__all__ = ["command"]


def _parse_fixed(items: tuple[str, ...]) -> dict[str, float]:
    out: dict[str, float] = {}
    for item in items:
        key, sep, val = item.partition("=")
        if not sep:
            raise InputError(f"--fixed {item!r}", column="--fixed", expected="NAME=VALUE, e.g. bottom=0")
        try:
            out[key.strip()] = float(val)
        except ValueError:
            raise InputError(f"--fixed {item!r}: {val!r} is not a number", column="--fixed") from None
    return out


@click.group("doseresponse")
def command() -> None:
    """Dose–response curves: IC50/ED50, shared curves, potency ratios (drc-compatible)."""


@command.command("fit")
@table_argument("data")
@click.option("--x", "x", required=True, help="Dose/concentration column (>= 0, not log).")
@click.option("--y", "y", required=True, help="Response column.")
@click.option("--curve", default=None, help="Column splitting the data into curves.")
@click.option("--model", default="LL.4", show_default=True,
              help="LL.2, LL.3, LL.4, LL.5, W1.4 or W2.4.")
@click.option("--fixed", multiple=True, metavar="NAME=VALUE",
              help="Fix a parameter (hill, bottom, top, ic50, asym); repeatable or "
                   "comma-separated (bottom=0,top=100).")
@click.option("--shared", multiple=True, metavar="NAME",
              help="Parameter common to all curves; repeatable or comma-separated.")
@click.option("--nan-policy", type=click.Choice(["raise", "omit"]), default="raise",
              show_default=True, help="Missing values: error, or drop the rows.")
@click.option("--se", "se", type=click.Choice(["hessian", "jtj"]), default="hessian",
              show_default=True, help="Standard errors: drc's observed Hessian, or J'J.")
@click.option("--robust", type=click.Choice(["huber", "soft_l1", "cauchy", "arctan"]),
              default=None, help="Robust loss instead of least squares.")
@click.option("--many", is_flag=True,
              help="Independent curves with per-curve variance; failed curves are flagged "
                   "instead of stopping the run (plates of cells/wells).")
@click.option("--ed", "ed_levels", multiple=True, type=float, metavar="P",
              help="Also estimate ED_p/IC_p (percent); repeatable, e.g. --ed 50.")
@click.option("--interval", type=click.Choice(["delta", "log", "profile"]), default="delta",
              show_default=True, help="Confidence interval type of the ED values.")
@click.option("--ed-output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Table of ED values (default OUTPUT with suffix _ed).")
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Figure (.png/.svg/.pdf) of data, fits and confidence bands.")
@output_option()
@manifest_option()
def fit_cmd(
    data: Path, x: str, y: str, curve: str | None, model: str, fixed: tuple[str, ...],
    shared: tuple[str, ...], nan_policy: str, se: str, robust: str | None, many: bool,
    ed_levels: tuple[float, ...], interval: str, ed_output: Path | None, figure: Path | None,
    output: Path, manifest: bool,
) -> None:
    """Fit a dose–response model to DATA and write the parameter table to OUTPUT.

    Columns of OUTPUT: curve, parameter, estimate, se, t, p, ci_low, ci_high, shared,
    success, message (per curve with --many). With --ed, a second table (curve, level,
    estimate, se, ci_low, ci_high, interval, status) is written.
    """
    from nplab import doseresponse as dr

    ed_path = ed_output or output.with_name(output.stem + "_ed" + output.suffix)
    check_outputs([output, ed_path if ed_levels else None, figure], [data])
    if figure is not None:
        figure_format(figure)
    table = read_table(data, required=[c for c in (x, y, curve) if c])
    fixed_d = _parse_fixed(tuple(v for item in fixed for v in item.split(",") if v.strip()))
    shared = tuple(v.strip() for item in shared for v in item.split(",") if v.strip())
    if many:
        if curve is None:
            raise InputError("--many needs --curve", column="--curve")
        if shared or robust:
            raise InputError("--many fits independent curves by least squares",
                             expected="no --shared and no --robust with --many")
        res = dr.fit_many(table, x=x, y=y, curve=curve, model=model, fixed=fixed_d,
                          nan_policy=nan_policy, se=se)
    else:
        res = dr.fit(table, x=x, y=y, model=model, curve=curve, shared=shared, fixed=fixed_d,
                     nan_policy=nan_policy, se=se, robust=robust)
    outputs = [output]
    params = res.params
    if res.curve_stats is not None:
        params = params.merge(res.curve_stats[["curve", "success", "message"]], on="curve", how="left")
    else:
        params = params.assign(success=res.success, message=res.message)
    # everything that can fail on bad input is computed before the first file is written
    ed = None
    if ed_levels:
        ed = res.ic(list(ed_levels), interval=interval)
        outputs.append(ed_path)
    if figure is not None:
        outputs.append(figure)
    write_table(params, output)
    if ed is not None:
        write_table(ed, ed_path)
    if figure is not None:
        dr.plot_fit(res, figure, curves=None if len(res.curves) <= 12 else res.curves[:12])
    if manifest:
        write_manifest_beside(
            output, inputs=[data], outputs=outputs,
            parameters={
                "x": x, "y": y, "curve": curve, "model": model, "fixed": fixed_d,
                "shared": list(shared), "nan_policy": nan_policy, "se": se, "robust": robust,
                "many": many, "ed": list(ed_levels), "interval": interval,
            },
        )
    state = "converged" if res.success else f"NOT converged: {res.message}"
    click.echo(
        f"{res.model.name}: {len(res.curves)} curve(s), RSS {res.rss:.6g}, residual SE "
        f"{res.residual_se:.6g} on {res.df_resid} df; {state}. Wrote {output}"
    )
