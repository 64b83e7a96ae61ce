"""``nplab stats kruskal | dunn | mann-whitney | friedman | hedges-g | endpoints | power``.

Thin wrappers over :mod:`nplab.stats.nonparametric`, :mod:`nplab.stats.effsize`,
:mod:`nplab.stats.endpoints` and :mod:`nplab.stats.power`; the commands are collected in
:data:`COMMANDS` and attached to the ``nplab stats`` group.  Every command reads a long
CSV/Excel table, writes one tidy table (``-o``) atomically and a provenance manifest.
``--by COLUMN`` runs a test separately at each level of a column (e.g. at each time
point), adding that column first.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING

import click

from nplab.cli._common import (
    manifest_option,
    output_option,
    round_option,
    table_argument,
    write_result,
)
from nplab.errors import InputError
from nplab.tables import read_table

if TYPE_CHECKING:
    import pandas as pd

__all__ = ["COMMANDS"]

# Option choices as literals, so that ``nplab stats --help`` loads no statistics module
# (issue 19.2); tests/cli/test_lazy_imports.py checks that they equal the modules' lists
# (nplab.stats.nonparametric.P_ADJUST_METHODS, effsize.CI_METHODS, power.RM_EFFECTS).
P_ADJUST_METHODS = ("holm", "bonferroni", "sidak", "holm-sidak", "hochberg", "BH", "BY", "none")
CI_METHODS = ("exact", "normal")
RM_EFFECTS = ("between", "within", "interaction")

_INPUT = table_argument()
_BY = click.option("--by", default=None, help="Run the test at each level of this column.")


def _label(value: str, column: str | None, df: pd.DataFrame) -> object:
    """Map a level typed on the command line to the column's value (numbers too)."""
    import pandas as pd

    if column is None or column not in df.columns:
        return value
    for lev in pd.unique(df[column].dropna()):
        if str(lev) == value or (
            isinstance(lev, (int, float)) and _is_number(value) and float(value) == float(lev)
        ):
            return lev
    return value


def _is_number(text: str) -> bool:
    try:
        float(text)
    except ValueError:
        return False
    return True


def _per_level(
    df: pd.DataFrame,
    by: str | None,
    fn: Callable[[pd.DataFrame], pd.DataFrame],
    *,
    dv: str,
    group: str,
) -> pd.DataFrame:
    import pandas as pd

    from nplab.stats._longdata import check_long, level_order

    if by is None:
        return fn(df)
    # validate the whole table first so that error rows are the file's rows
    check_long(df, numeric=[dv], factors=[group, by])
    parts = []
    for lev in level_order(df[by]):
        sub = df[df[by] == lev].copy()
        sub.attrs = dict(df.attrs)
        try:
            res = fn(sub)
        except InputError as exc:  # say at which level of --by the test failed
            raise InputError(
                f"at {by} = {lev}: {exc.reason}", file=exc.file, row=exc.row,
                column=exc.column, expected=exc.expected,
            ) from None
        res.insert(0, by, lev)
        parts.append(res)
    return pd.concat(parts, ignore_index=True)


def _finish(table, output, inputs, params, manifest):
    write_result(table, output, inputs=inputs, parameters=params, manifest=manifest)
    click.echo(f"wrote {output} ({len(table)} rows)")


@click.command("kruskal")
@_INPUT
@click.option("--dv", required=True, help="Response column.")
@click.option("--group", required=True, help="Group column.")
@_BY
@output_option()
@manifest_option()
@round_option()
def kruskal_cmd(table, dv, group, by, output, manifest):
    """Kruskal–Wallis test (tie-corrected, as R kruskal.test): H, df, p."""
    from nplab.stats.nonparametric import kruskal

    df = read_table(table)
    res = _per_level(df, by, lambda d: kruskal(d, dv=dv, group=group), dv=dv, group=group)
    _finish(res, output, [table], {"dv": dv, "group": group, "by": by}, manifest)


@click.command("dunn")
@_INPUT
@click.option("--dv", required=True, help="Response column.")
@click.option("--group", required=True, help="Group column.")
@click.option("--control", default=None, help="Control group (k - 1 comparisons).")
@click.option("--p-adjust", "p_adjust", type=click.Choice(P_ADJUST_METHODS), default="holm",
              show_default=True)
@_BY
@output_option()
@manifest_option()
@round_option()
def dunn_cmd(table, dv, group, control, p_adjust, by, output, manifest):
    """Dunn's test on Kruskal–Wallis ranks (two-sided; all pairs or vs a control)."""
    from nplab.stats.nonparametric import dunn

    df = read_table(table)
    ctl = None if control is None else _label(control, group, df)
    res = _per_level(df, by, lambda d: dunn(d, dv=dv, group=group, control=ctl,
                                            p_adjust=p_adjust), dv=dv, group=group)
    _finish(res, output, [table],
            {"dv": dv, "group": group, "control": control, "p_adjust": p_adjust, "by": by},
            manifest)


@click.command("mann-whitney")
@_INPUT
@click.option("--dv", required=True, help="Response column.")
@click.option("--group", required=True, help="Group column.")
@click.option("-a", "a", default=None, help="First group (x of wilcox.test).")
@click.option("-b", "b", default=None, help="Second group (y).")
@click.option("--alternative", type=click.Choice(["two-sided", "greater", "less"]),
              default="two-sided", show_default=True)
@click.option("--exact/--normal", "exact", default=None,
              help="Force the exact or normal p-value (default: R's rule).")
@_BY
@output_option()
@manifest_option()
@round_option()
def mann_whitney_cmd(table, dv, group, a, b, alternative, exact, by, output, manifest):
    """Mann–Whitney / Wilcoxon rank-sum test of two groups (as R wilcox.test)."""
    from nplab.stats.nonparametric import mann_whitney

    df = read_table(table)
    ga, gb = _label(a, group, df) if a else None, _label(b, group, df) if b else None
    res = _per_level(df, by, lambda d: mann_whitney(d, dv=dv, group=group, a=ga, b=gb,
                                                    alternative=alternative, exact=exact),
                     dv=dv, group=group)
    _finish(res, output, [table], {"dv": dv, "group": group, "a": a, "b": b,
                                   "alternative": alternative, "exact": exact, "by": by}, manifest)


@click.command("friedman")
@_INPUT
@click.option("--dv", required=True, help="Response column.")
@click.option("--within", required=True, help="Repeated factor (e.g. time).")
@click.option("--subject", required=True, help="Animal column.")
@click.option("--group", default=None, help="Run within each level of this group column.")
@output_option()
@manifest_option()
@round_option()
def friedman_cmd(table, dv, within, subject, group, output, manifest):
    """Friedman test across a repeated factor (as R friedman.test)."""
    from nplab.stats.nonparametric import friedman

    df = read_table(table)
    res = friedman(df, dv=dv, within=within, subject=subject, group=group)
    _finish(res, output, [table],
            {"dv": dv, "within": within, "subject": subject, "group": group}, manifest)


@click.command("hedges-g")
@_INPUT
@click.option("--dv", required=True, help="Response column.")
@click.option("--group", required=True, help="Group column.")
@click.option("--control", default=None, help="Control group (each group vs control).")
@click.option("--ci", default=0.95, show_default=True, type=float, help="Confidence level.")
@click.option("--ci-method", type=click.Choice(CI_METHODS), default="exact", show_default=True)
@_BY
@output_option()
@manifest_option()
@round_option()
def hedges_g_cmd(table, dv, group, control, ci, ci_method, by, output, manifest):
    """Hedges' g with confidence interval for group contrasts."""
    from nplab.stats.effsize import hedges_g

    df = read_table(table)
    ctl = None if control is None else _label(control, group, df)
    res = _per_level(df, by, lambda d: hedges_g(d, dv=dv, group=group, control=ctl, ci=ci,
                                                ci_method=ci_method), dv=dv, group=group)
    _finish(res, output, [table], {"dv": dv, "group": group, "control": control, "ci": ci,
                                   "ci_method": ci_method, "by": by}, manifest)


@click.command("endpoints")
@_INPUT
@click.option("--dv", required=True, help="Threshold or latency column.")
@click.option("--subject", required=True, help="Animal column.")
@click.option("--time", "time_col", required=True, help="Time column (labels and hours).")
@click.option("--baseline", required=True, help="Label of the pre-injury baseline.")
@click.option("--predose", required=True, help="Label of the post-injury pre-dose time.")
@click.option("--cutoff", type=float, default=None,
              help="Strongest filament (g) or Hargreaves cut-off (s); enables %MPE.")
@click.option("--paw", default=None, help="Paw column (ipsi/contra).")
@click.option("--group", default=None, help="Treatment column to carry along.")
@click.option("--log10/--linear", "log10", default=None,
              help="Analysis scale (default: log10 when the dv name contains 'threshold' and "
                   "does not start with 'log').")
@click.option("--auc-from-predose/--auc-post-only", default=True, show_default=True,
              help="Include the pre-dose point at t = 0 in the AUC.")
@output_option()
@manifest_option()
@round_option()
def endpoints_cmd(table, dv, subject, time_col, baseline, predose, cutoff, paw, group, log10,
                  auc_from_predose, output, manifest):
    """Change from pre-dose, %MPE, % reversal, AUC and ipsi - contra per animal."""
    from nplab.stats.endpoints import endpoints

    df = read_table(table)
    res = endpoints(df, dv=dv, subject=subject, time=time_col, baseline=baseline,
                    predose=predose, cutoff=cutoff, paw=paw, group=group, log10=log10,
                    auc_from_predose=auc_from_predose)
    params = {"dv": dv, "subject": subject, "time": time_col, "baseline": baseline,
              "predose": predose, "cutoff": cutoff, "paw": paw, "group": group,
              "scale": str(res["scale"].iloc[0]) if len(res) else None,
              "auc_from_predose": auc_from_predose}
    _finish(res, output, [table], params, manifest)


@click.command("power")
@click.option("--design", type=click.Choice(["t", "anova", "rm"]), required=True,
              help="t: two groups; anova: one-way; rm: group x time (G*Power).")
@click.option("--effect-size", type=float, default=None,
              help="Cohen's d (t) or f (anova, rm); or estimate it with --pilot.")
@click.option("--effect", type=click.Choice([*RM_EFFECTS, "all"]), default="interaction",
              show_default=True, help="rm: which F test.")
@click.option("--groups", type=int, default=None, help="Number of groups.")
@click.option("--measures", type=int, default=None, help="rm: repeated measurements.")
@click.option("--rho", type=float, default=None, help="rm: correlation among measures.")
@click.option("--eps", type=float, default=None, help="rm: nonsphericity epsilon.")
@click.option("--n", "n", type=float, default=None,
              help="Per group (t, anova) or total (rm) animals: compute power.")
@click.option("--power", "target", type=float, default=None, help="Target power: compute n.")
@click.option("--alpha", type=float, default=0.05, show_default=True)
@click.option("--pilot", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Pilot study table to estimate d/f, rho and epsilon from.")
@click.option("--dv", default=None, help="--pilot: response column.")
@click.option("--subject", default=None, help="--pilot: animal column.")
@click.option("--between", default=None, help="--pilot: group column.")
@click.option("--within", default=None, help="--pilot: time column.")
@output_option()
@manifest_option()
@round_option()
def power_cmd(design, effect_size, effect, groups, measures, rho, eps, n, target, alpha, pilot,
              dv, subject, between, within, output, manifest):
    """Power or sample size from stated effects or a pilot study."""
    import pandas as pd

    from nplab.stats.power import pilot_effects, power_anova, power_rm_anova, power_ttest

    est = None
    if pilot is not None:
        if dv is None or subject is None:
            raise InputError("--pilot needs --dv and --subject", column="--pilot",
                             expected="--dv, --subject and --between and/or --within")
        est = pilot_effects(read_table(pilot), dv=dv, subject=subject, between=between,
                            within=within).set_index("effect")
    effects = list(RM_EFFECTS) if effect == "all" else [effect]
    if design != "rm":
        effects = ["between"]
    rows = []
    for eff in effects:
        size = effect_size
        k, m, r, e = groups, measures, rho, eps
        if est is not None:
            if eff not in est.index:
                raise InputError(f"the pilot design has no {eff} effect", column="--effect",
                                 expected=", ".join(est.index))
            p = est.loc[eff]
            if size is None:
                size = abs(p["d"]) if design == "t" else p["f"]
            k = int(p["groups"]) if k is None else k
            m = int(p["measures"]) if m is None else m
            r = float(p["rho"]) if r is None else r
            e = float(p["eps"]) if e is None else e
        if size is None or size != size:
            raise InputError("no effect size", column="--effect-size",
                             expected="--effect-size or a --pilot table that gives one")
        if design == "t":
            res = power_ttest(size, n=n, power=target, alpha=alpha)
        elif design == "anova":
            if k is None:
                raise InputError("--groups is required", column="--groups", expected="k >= 2")
            res = power_anova(size, groups=k, n=n, power=target, alpha=alpha)
        else:
            if k is None or m is None:
                raise InputError("--groups and --measures are required for rm",
                                 column="--groups/--measures", expected="integers")
            res = power_rm_anova(size, groups=k, measures=m, rho=0.5 if r is None else r,
                                 eps=1.0 if e is None else e, effect=eff,
                                 n_total=None if n is None else int(n), power=target, alpha=alpha)
        rows.append(res)
    table = pd.concat(rows, ignore_index=True)
    params = {"design": design, "effect_size": effect_size, "effect": effect, "groups": groups,
              "measures": measures, "rho": rho, "eps": eps, "n": n, "power": target,
              "alpha": alpha, "dv": dv, "subject": subject, "between": between,
              "within": within}
    _finish(table, output, [pilot] if pilot is not None else [], params, manifest)


#: Commands the ``nplab stats`` group attaches.
COMMANDS = [kruskal_cmd, dunn_cmd, mann_whitney_cmd, friedman_cmd, hedges_g_cmd, endpoints_cmd,
            power_cmd]
