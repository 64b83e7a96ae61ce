"""``nplab stats anova|mixed|dunnett|tukey|pairwise|report``: group statistics from a CSV.

Every subcommand reads one long-format table (CSV/TSV/Excel), writes one tidy table
(``-o``, CSV or Parquet) atomically with a provenance manifest beside it.

Other modules attach more subcommands to this group: add the module's name to
:data:`EXTENSIONS` (one line); the module exposes ``command`` — a click command (added as
is) or a click group (its subcommands are added to ``nplab stats``), or a list
``COMMANDS`` of click commands.
"""

from __future__ import annotations

import importlib
from pathlib import Path

import click

from nplab.cli._common import (
    check_outputs,
    manifest_option,
    output_option,
    round_option,
    table_argument,
    write_result,
)
from nplab.errors import InputError
from nplab.tables import atomic_write, read_table

#: Modules whose ``command`` is attached to ``nplab stats`` (the lead appends e.g.
#: ``"nplab.cli.stats_more"``).
EXTENSIONS: list[str] = ["nplab.cli.stats_more"]

_INPUT = table_argument()


def _read(path: Path, *columns: str | None):
    return read_table(path, required=[c for c in columns if c])


@click.group("stats")
def command() -> None:
    """Group statistics: mixed ANOVA, mixed models, post hoc tests, reports."""


@command.command("anova")
@_INPUT
@output_option()
@click.option("--dv", required=True, help="Response column (e.g. log_threshold).")
@click.option("--between", default=None,
              help="Between-subject factor(s), comma-separated (e.g. group or group,sex).")
@click.option("--within", default=None,
              help="Within-subject factor(s), comma-separated (e.g. time or time,paw).")
@click.option("--subject", default=None, help="Animal id column (needed with --within).")
@click.option("--observed", default=None,
              help="Measured (not manipulated) factor(s) for generalised eta², e.g. sex.")
@manifest_option()
@round_option()
def anova_cmd(table, output, dv, between, within, subject, observed, manifest):
    """Factorial mixed / repeated-measures / between ANOVA (Type III, GG/HF, Mauchly; = afex)."""
    from nplab.stats.anova import mixed_anova

    between_l, within_l, observed_l = _names(between), _names(within), _names(observed)
    data = _read(table, dv, *between_l, *within_l, subject)
    result = mixed_anova(data, dv=dv, between=between_l, within=within_l, subject=subject,
                         observed=observed_l)  # fmt: skip
    params = {"dv": dv, "between": between, "within": within, "subject": subject}
    if observed:
        params["observed"] = observed
    write_result(result, output, inputs=[table], parameters=params, manifest=manifest)


def _names(text: str | None) -> list[str]:
    """Comma-separated column names (``"treatment,sex"``) to a list (``None`` → [])."""
    return [t.strip() for t in (text or "").split(",") if t.strip()]


@command.command("mixed")
@_INPUT
@output_option()
@click.option("--formula", default=None,
              help="Fixed part, e.g. 'y ~ C(group) * C(time)' (or give --dv/--between/--within).")  # fmt: skip
@click.option("--dv", default=None, help="Response column (full factorial model without --formula).")
@click.option("--between", default=None, help="Between-animal factor(s), comma-separated.")
@click.option("--within", default=None, help="Within-animal factor(s), comma-separated.")
@click.option("--subject", required=True, help="Animal id column (random-effect groups).")
@click.option("--re-formula", default=None, help="Random part, e.g. '~day' (default: intercept).")
@click.option("--ddf", type=click.Choice(["satterthwaite", "asymptotic"]), default="satterthwaite",
              show_default=True, help="Denominator df of t and F tests.")  # fmt: skip
@click.option("--emmeans", "emmeans_specs", default=None,
              help="Also write marginal means for these comma-separated variables.")  # fmt: skip
@click.option("--emmeans-output", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="File for the marginal means (default: OUTPUT with .emmeans before suffix).")  # fmt: skip
@click.option("--anova", "with_anova", is_flag=True,
              help="Also write the Type III F tests (OUTPUT.anova.csv).")
@click.option("--dunnett-group", default=None,
              help="Also write Dunnett comparisons of this factor's marginal means "
                   "(OUTPUT.dunnett.csv).")
@click.option("--control", default=None, help="Control level for --dunnett-group (made the "
              "reference level of the fixed-effects table).")
@click.option("--by", default=None,
              help="Compare within each level of these comma-separated factors (e.g. time,sex).")
@manifest_option()
@round_option()
def mixed_cmd(table, output, formula, dv, between, within, subject, re_formula, ddf, emmeans_specs,
              emmeans_output, with_anova, dunnett_group, control, by, manifest):
    """Linear mixed model (REML, Satterthwaite df): fixed effects, Type III F tests, marginal
    means and Dunnett comparisons.  Animals with missing time points keep their other data."""
    from nplab.stats.mixedlm import mixed_model

    if dunnett_group and control is None:  # before anything is written
        raise InputError("--dunnett-group needs --control", column="control")
    emmeans_path = emmeans_output or output.with_name(f"{output.stem}.emmeans{output.suffix}")
    dunnett_path = output.with_name(f"{output.stem}.dunnett{output.suffix}")
    anova_path = output.with_name(f"{output.stem}.anova{output.suffix}")
    check_outputs([output, emmeans_path if emmeans_specs else None,
                   dunnett_path if dunnett_group else None,
                   anova_path if with_anova else None], [table])  # fmt: skip
    between_l, within_l = _names(between), _names(within)
    data = _read(table, subject, dv, *between_l, *within_l)
    fit = mixed_model(data, formula=formula, subject=subject, re_formula=re_formula, dv=dv,
                      between=between_l, within=within_l, ddf=ddf,
                      control=_label(control, data, between_l[0] if between_l else dunnett_group))  # fmt: skip
    params = {"formula": fit.formula, "subject": subject, "re_formula": re_formula, "ddf": ddf,
              "n_obs": fit.n_obs, "n_subjects": fit.n_subjects, "n_dropped": fit.n_dropped,
              "converged": fit.converged, "singular": fit.singular}  # fmt: skip
    # compute every table before writing any, so bad options leave no partial outputs
    extra = []
    if with_anova:
        extra.append((fit.anova(), anova_path, {**params, "anova": "type 3"}))
    if emmeans_specs:
        specs = _names(emmeans_specs)
        extra.append((fit.emmeans(specs), emmeans_path, {**params, "emmeans": specs}))
    if dunnett_group:
        by_l = _names(by)
        extra.append((fit.dunnett(dunnett_group, control, by=by_l or None), dunnett_path,
                      {**params, "dunnett_group": dunnett_group, "control": control, "by": by_l}))  # fmt: skip
    write_result(fit.fixed, output, inputs=[table], parameters=params, manifest=manifest)
    for frame, target, extra_params in extra:
        write_result(frame, target, inputs=[table], parameters=extra_params, manifest=manifest)
    click.echo(_mixed_summary(fit, re_formula, [output, *(t for _, t, _ in extra)]))


def _mixed_summary(fit, re_formula: str | None, outputs: list[Path]) -> str:
    """One line, as the other commands print: data used, model, df method, outputs."""
    dropped = f" ({fit.n_dropped} blank rows dropped)" if fit.n_dropped else ""
    random = f"random {re_formula} per {fit.subject}" if re_formula else \
        f"random intercept per {fit.subject}"  # fmt: skip
    df = "Satterthwaite df" if fit.ddf == "satterthwaite" else "Wald z"
    warn = "; SINGULAR FIT (simplify the random part)" if fit.singular else ""
    warn += "" if fit.converged else "; NOT CONVERGED"
    return (f"{fit.n_obs} observations from {fit.n_subjects} animals{dropped}: {fit.formula}, "
            f"{random}, REML, {df}{warn} -> {', '.join(map(str, outputs))}")


@command.command("paired")
@_INPUT
@output_option()
@click.option("--dv", required=True, help="Response column.")
@click.option("--within", required=True, help="Within-animal factor with the two conditions (paw).")
@click.option("--subject", required=True, help="Animal id column.")
@click.option("--a", "level_a", default=None, help="First condition (default: first level).")
@click.option("--b", "level_b", default=None, help="Second condition (default: second level).")
@click.option("--by", default=None, help="One test per level of this factor (e.g. time).")
@click.option("--test", type=click.Choice(["t", "wilcoxon"]), default="t", show_default=True)
@click.option("--p-adjust", default="holm", show_default=True,
              help="Adjustment across --by levels: holm, sidak, holm-sidak, bonferroni, none.")
@manifest_option()
@round_option()
def paired_cmd(table, output, dv, within, subject, level_a, level_b, by, test, p_adjust, manifest):
    """Paired t / Wilcoxon signed-rank test of two within-animal conditions (ipsi vs contra),
    at each time point with Holm/Šidák adjustment; animals lacking a value are counted."""
    from nplab.stats.paired import paired_tests

    data = _read(table, dv, within, subject, by)
    result = paired_tests(data, dv=dv, within=within, subject=subject,
                          a=_label(level_a, data, within), b=_label(level_b, data, within),
                          by=by, test=test, p_adjust=p_adjust)  # fmt: skip
    params = {"dv": dv, "within": within, "subject": subject, "a": level_a, "b": level_b,
              "by": by, "test": test, "p_adjust": p_adjust}  # fmt: skip
    write_result(result, output, inputs=[table], parameters=params, manifest=manifest)


def _label(value: str | None, data, column: str | None):
    """A level typed on the command line as the column's own value (``"7"`` → 7 if numeric)."""
    if value is None or column is None or column not in data.columns:
        return value
    for v in data[column].dropna().unique():
        if str(v) == value:
            return v
    return value


def _posthoc_options(fn):
    options = [
        click.option("--dv", required=True, help="Response column."),
        click.option("--group", required=True, help="Group (between) column."),
        click.option("--within", default=None,
                     help="Compare groups at each level of this factor (mixed design)."),
        click.option("--subject", default=None, help="Animal id column (with --within)."),
        click.option("--model", type=click.Choice(["multivariate", "univariate"]),
                     default="multivariate", show_default=True,
                     help="Error term at each level of --within."),
        click.option("--conf-level", type=float, default=0.95, show_default=True),
    ]  # fmt: skip
    for option in reversed(options):  # click applies decorators bottom-up
        fn = option(fn)
    return fn


def _by_time_or_oneway(data, dv, group, within, subject, model, method, **kw):
    from nplab.stats import posthoc

    if within is None:
        if subject is not None:  # one row per animal, or the test would pseudo-replicate
            from nplab.checks import raise_first_bad

            raise_first_bad(
                data[subject].duplicated(keep="first").to_numpy(),
                lambda i: f"animal {data[subject].iloc[i]!r} has more than one row; without "
                "--within the comparison needs one value per animal",
                file=data.attrs.get("source"), column=subject,
                expected="one row per animal, or --within for repeated measures",
            )  # fmt: skip
        if method == "dunnett":
            return posthoc.dunnett(data, dv=dv, group=group, **kw)
        if method == "tukey":
            return posthoc.tukey(data, dv=dv, group=group, conf_level=kw["conf_level"])
        return posthoc.pairwise(data, dv=dv, group=group, p_adjust=method, **kw)
    if subject is None:
        raise InputError("--within needs --subject", column="subject")
    return posthoc.posthoc_by_time(data, dv, group, within, subject, method=method, model=model,
                                   **kw)  # fmt: skip


@command.command("dunnett")
@_INPUT
@output_option()
@_posthoc_options
@click.option("--control", required=True, help="Control level of --group (e.g. vehicle).")
@click.option("--alternative", type=click.Choice(["two-sided", "greater", "less"]),
              default="two-sided", show_default=True)  # fmt: skip
@manifest_option()
@round_option()
def dunnett_cmd(table, output, dv, group, within, subject, model, conf_level, control,
                alternative, manifest):  # fmt: skip
    """Dunnett vs control (deterministic p-values), optionally at each time point."""
    data = _read(table, dv, group, within, subject)
    result = _by_time_or_oneway(data, dv, group, within, subject, model, "dunnett",
                                control=control, alternative=alternative, conf_level=conf_level)  # fmt: skip
    params = {"dv": dv, "group": group, "within": within, "subject": subject, "model": model,
              "control": control, "alternative": alternative, "conf_level": conf_level}  # fmt: skip
    write_result(result, output, inputs=[table], parameters=params, manifest=manifest)


@command.command("tukey")
@_INPUT
@output_option()
@_posthoc_options
@manifest_option()
@round_option()
def tukey_cmd(table, output, dv, group, within, subject, model, conf_level, manifest):
    """Tukey all pairs (Tukey–Kramer), optionally at each time point."""
    data = _read(table, dv, group, within, subject)
    result = _by_time_or_oneway(data, dv, group, within, subject, model, "tukey",
                                conf_level=conf_level)  # fmt: skip
    params = {"dv": dv, "group": group, "within": within, "subject": subject, "model": model,
              "conf_level": conf_level}  # fmt: skip
    write_result(result, output, inputs=[table], parameters=params, manifest=manifest)


def _parse_pairs(text: str | None):
    if not text:
        return None
    pairs = []
    for item in text.split(","):
        a, sep, b = item.partition(":")
        if not sep or not a.strip() or not b.strip():
            raise InputError(f"pair {item!r} is not of the form A:B", column="--pairs",
                             expected="comma-separated A:B pairs, e.g. drug:vehicle,sham:vehicle")  # fmt: skip
        pairs.append((a.strip(), b.strip()))
    return pairs


@command.command("pairwise")
@_INPUT
@output_option()
@_posthoc_options
@click.option("--pairs", default=None, help="Declared pairs 'A:B,C:D' (default: all pairs).")
@click.option("--adjust", type=click.Choice(["holm", "bonferroni", "sidak", "holm-sidak", "none"]),
              default="holm", show_default=True)  # fmt: skip
@manifest_option()
@round_option()
def pairwise_cmd(table, output, dv, group, within, subject, model, conf_level, pairs, adjust,
                 manifest):  # fmt: skip
    """Declared pairs with Holm / Bonferroni / Šidák adjustment."""
    data = _read(table, dv, group, within, subject)
    result = _by_time_or_oneway(data, dv, group, within, subject, model, adjust,
                                pairs=_parse_pairs(pairs), conf_level=conf_level)  # fmt: skip
    params = {"dv": dv, "group": group, "within": within, "subject": subject, "model": model,
              "pairs": pairs, "adjust": adjust, "conf_level": conf_level}  # fmt: skip
    write_result(result, output, inputs=[table], parameters=params, manifest=manifest)


@command.command("report")
@_INPUT
@output_option()
@click.option("--dv", required=True, help="Response column.")
@click.option("--between", required=True, help="Group column.")
@click.option("--within", required=True, help="Time column.")
@click.option("--subject", required=True, help="Animal id column.")
@click.option("--control", required=True, help="Control group for Dunnett at each time.")
@click.option("--model", type=click.Choice(["multivariate", "univariate"]),
              default="multivariate", show_default=True)  # fmt: skip
@click.option("--figure", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Also draw the time course (.png/.svg/.pdf).")  # fmt: skip
@click.option("--paragraph", type=click.Path(dir_okay=False, path_type=Path), default=None,
              help="Write the results paragraph here (default: OUTPUT with .txt suffix).")  # fmt: skip
@manifest_option()
@round_option()
def report_cmd(table, output, dv, between, within, subject, control, model, figure, paragraph,
               manifest):  # fmt: skip
    """Mixed ANOVA + Dunnett at each time: tables, a results paragraph and a figure.

    OUTPUT gets the ANOVA table; OUTPUT.dunnett.csv the post hoc table.
    """
    from nplab.figures import figure_format
    from nplab.stats.anova import mixed_anova
    from nplab.stats.posthoc import dunnett_by_time
    from nplab.stats.report import results_paragraph, save_figure, timecourse_figure

    dunnett_path = output.with_name(f"{output.stem}.dunnett{output.suffix}")
    target = paragraph or output.with_suffix(".txt")
    check_outputs([output, dunnett_path, target, figure], [table])
    if figure is not None:
        figure_format(figure)
    data = _read(table, dv, between, within, subject)
    aov = mixed_anova(data, dv=dv, between=between, within=within, subject=subject)
    ph = dunnett_by_time(data, dv, between, within, subject, control=control, model=model)
    text = results_paragraph(aov, dv=dv, posthoc=ph, control=control, within=within)
    params = {"dv": dv, "between": between, "within": within, "subject": subject,
              "control": control, "model": model}  # fmt: skip
    write_result(aov, output, inputs=[table], parameters=params, manifest=manifest)
    write_result(ph, dunnett_path, inputs=[table], parameters=params, manifest=manifest)
    with atomic_write(target, "w", encoding="utf-8", newline="\n") as fh:
        fh.write(text + "\n")
    if figure is not None:
        save_figure(timecourse_figure(data, dv, between, within, subject, ph, control=control),
                    figure)
    click.echo(text)


def _attach(group: click.Group, module_names: list[str]) -> None:
    for name in module_names:
        module = importlib.import_module(name)
        if hasattr(module, "COMMANDS"):  # a list of click commands
            for sub in module.COMMANDS:
                group.add_command(sub)
            continue
        extra = module.command
        if isinstance(extra, click.Group):
            for sub in extra.commands.values():
                group.add_command(sub)
        else:
            group.add_command(extra)


_attach(command, EXTENSIONS)
