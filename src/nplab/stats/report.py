"""Reporting: a plain-English results paragraph and a time-course figure.

The paragraph is generated only from the numbers in the tables (APA style: F(df1, df2),
p to three decimals or "p < .001", Greenhouse–Geisser ε with the corrected p, generalised
η²; American Psychological Association 2020, *Publication Manual*, 7th ed., §6.43–6.46).
The time-course figure (mean ± SEM per group over the within factor, animals as faint
points, post hoc marks vs the control) is :func:`nplab.stats.figure.timecourse_figure`,
re-exported here; it is written reproducibly (no timestamps, fixed SVG hash salt).
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from nplab import figures
from nplab.errors import InputError
from nplab.stats.figure import marks_note, share_ylim, timecourse_figure

__all__ = [
    "POSTHOC_GATES",
    "format_p",
    "marks_note",
    "omnibus_passed",
    "results_paragraph",
    "save_figure",
    "share_ylim",
    "stars",
    "timecourse_figure",
]

#: Values of ``gate`` in :func:`results_paragraph` (and ``design.posthoc_gate`` in a study).
POSTHOC_GATES = ("omnibus", "interaction", "none")
_WAYS = {1: "one", 2: "two", 3: "three", 4: "four", 5: "five"}


def format_p(p: float) -> str:
    """APA p-value: ``"p < .001"`` or ``"p = .023"`` (no leading zero)."""
    if not np.isfinite(p):
        return "p = n/a"
    if p < 0.001:
        return "p < .001"
    text = f"{p:.3f}"
    if text.startswith("0"):
        text = text[1:]
    return f"p = {text}"


def stars(p: float) -> str:
    """``"***"``, ``"**"``, ``"*"`` or ``""`` for p < .001, .01, .05."""
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def _num(x: float, digits: int = 2) -> str:
    return f"{x:.{digits}f}"


def _df(x: float) -> str:
    return f"{x:.0f}" if float(x).is_integer() else f"{x:.2f}"


def _significant(row: pd.Series, alpha: float, sphericity: str) -> bool:
    """The effect's test at ``alpha`` with the chosen sphericity correction."""
    within = np.isfinite(row["eps_gg"])
    if within and sphericity == "HF":
        return bool(row["p_hf"] < alpha)
    return bool(row["p_gg" if (within and sphericity == "GG") else "p"] < alpha)


def omnibus_passed(
    anova: pd.DataFrame, factor: str, gate: str = "omnibus", alpha: float = 0.05,
    sphericity: str = "GG",
) -> tuple[bool, list[str]]:
    """Whether the omnibus test a post hoc comparison of ``factor`` follows is significant.

    Parameters
    ----------
    anova
        A :func:`nplab.stats.mixed_anova` table.
    factor
        The factor the post hoc test compares (e.g. ``"group"``).
    gate
        ``"omnibus"``: any effect involving ``factor`` (its main effect or an interaction);
        ``"interaction"``: an interaction of ``factor`` with a within-subject factor (the
        group × time question of a time course); ``"none"``: always passes.
    alpha, sphericity
        As :func:`results_paragraph` (significance uses the corrected p of within effects).

    Returns
    -------
    (bool, list of str)
        Passed, and the sources the gate looked at.
    """
    if gate not in POSTHOC_GATES:
        raise InputError(f"unknown post hoc gate {gate!r}", expected=" / ".join(POSTHOC_GATES))
    rows = anova.set_index("source")
    look = [s for s in rows.index if factor in s.split(":")]
    if gate == "interaction":
        look = [s for s in look if ":" in s and np.isfinite(rows.loc[s, "eps_gg"])]
    if gate == "none":
        return True, look
    return any(_significant(rows.loc[s], alpha, sphericity) for s in look), look


def _effect_sentence(row: pd.Series, label: str, alpha: float, sphericity: str) -> str:
    within = np.isfinite(row["eps_gg"])
    sig = _significant(row, alpha, sphericity)
    verdict = "a significant" if sig else "no significant"
    text = (
        f"{verdict} {label}, F({_df(row['df1'])}, {_df(row['df2'])}) = {_num(row['F'])}, "
        f"{format_p(row['p'])}, generalised η² = {_num(row['ges'], 3)}"
    )
    if within and row["df1"] > 1 and np.isfinite(row["mauchly_w"]) and sphericity != "none":
        if sphericity == "HF":
            text += (
                f" (Huynh–Feldt ε = {_num(min(1.0, row['eps_hf']))}, corrected "
                f"{format_p(row['p_hf'])})"
            )
        else:
            text += (
                f" (Greenhouse–Geisser ε = {_num(row['eps_gg'])}, corrected "
                f"{format_p(row['p_gg'])})"
            )
    return text


def results_paragraph(
    anova: pd.DataFrame,
    *,
    dv: str | None = None,
    posthoc: pd.DataFrame | None = None,
    control: str | None = None,
    within: str | list[str] | None = None,
    alpha: float = 0.05,
    sphericity: str = "GG",
    method: str = "Dunnett's test",
    gate: str | bool = "none",
    factor: str = "group",
) -> str:
    """Plain-English results paragraph from a :func:`mixed_anova` table (and post hoc table).

    Parameters
    ----------
    anova
        Output of :func:`nplab.stats.mixed_anova`.
    dv
        Name of the response, used in the first sentence.
    posthoc
        Optional :func:`nplab.stats.dunnett_by_time` table (``<within>, group, diff, p,
        ci_low, ci_high``) or :func:`nplab.stats.dunnett` table.
    control
        Control group named in the post hoc sentence.
    within
        Name of the within factor column in ``posthoc``, or a list of the columns that
        name a comparison's cell (``["timepoint", "paw", "sex"]``).
    alpha
        Significance level used for the words "significant" / "no significant".
    sphericity
        Which correction decides significance of within effects and is reported:
        ``"GG"`` (default, afex's), ``"HF"`` or ``"none"``.
    method
        Name of the post hoc procedure as printed.
    gate
        When post hoc differences may be called shown (see :func:`omnibus_passed`):
        ``"omnibus"`` (or ``True``) — only when an omnibus effect involving ``factor``
        is significant; ``"interaction"`` — only when an interaction of ``factor`` with
        a within factor is; ``"none"`` (or ``False``, the default) — always.  When the
        gate is closed the paragraph says so and does not call any difference shown
        (the comparisons stay in the post hoc table, as exploratory).
    factor
        The factor the post hoc test compares (the gate looks at its effects).

    Returns
    -------
    str
        E.g. "A two-way mixed ANOVA (group × time) on log_threshold showed a significant
        group × time interaction, F(15, 110) = 8.11, p < .001, generalised η² = 0.348
        (Greenhouse–Geisser ε = 0.52, corrected p < .001); ..."
    """
    if sphericity not in ("GG", "HF", "none"):
        raise InputError(f"unknown sphericity correction {sphericity!r}", expected="GG / HF / none")
    need = {"source", "df1", "df2", "F", "p", "eps_gg", "p_gg", "eps_hf", "p_hf", "ges"}
    if not isinstance(anova, pd.DataFrame) or not need <= set(anova.columns) or anova.empty:
        raise InputError("the ANOVA table lacks the columns of mixed_anova",
                         expected=", ".join(sorted(need)))  # fmt: skip
    sources = list(anova["source"])
    inter = [s for s in sources if ":" in s]
    mains = [s for s in sources if ":" not in s]
    rows = anova.set_index("source")
    n_between = sum(1 for s in mains if not np.isfinite(rows.loc[s, "eps_gg"]))
    n_within = len(mains) - n_between
    if n_between and n_within:
        kind = f"A {_WAYS.get(len(mains), 'multi')}-way mixed ANOVA ({' × '.join(mains)})"
    elif n_within:
        kind = f"A one-way repeated-measures ANOVA ({mains[0]})"
    else:
        kind = f"A one-way ANOVA ({mains[0]})"
    on = f" on {dv}" if dv else ""
    parts = []
    for s in inter:
        parts.append(_effect_sentence(rows.loc[s], f"{s.replace(':', ' × ')} interaction", alpha,
                                      sphericity))  # fmt: skip
    for s in mains:
        parts.append(_effect_sentence(rows.loc[s], f"main effect of {s}", alpha, sphericity))
    text = f"{kind}{on} showed " + "; ".join(parts) + "."
    sph = [s for s in sources if np.isfinite(rows.loc[s, "mauchly_w"])] if "mauchly_w" in rows else []
    if sph:
        r = rows.loc[sph[0]]
        verdict = "was violated" if r["mauchly_p"] < alpha else "was not rejected"
        text += (
            f" Sphericity {verdict} (Mauchly's W = {_num(r['mauchly_w'], 3)}, "
            f"{format_p(r['mauchly_p'])})."
        )
    gate = {True: "omnibus", False: "none"}.get(gate, gate) if isinstance(gate, bool) else gate
    passed, looked = omnibus_passed(anova, factor, gate, alpha, sphericity)
    n_nom = int((posthoc["p"] < alpha).sum()) if posthoc is not None and "p" in posthoc else 0
    if n_nom and not passed:
        vs = f" against {control}" if control is not None else ""
        which = "effect involving" if gate == "omnibus" else "interaction of"
        text += (f" As no omnibus {which} {factor} was significant "
                 f"({', '.join(s.replace(':', ' × ') for s in looked)}), {method}{vs} is not "
                 f"interpreted: no difference between groups is shown ({n_nom} comparison(s) "
                 f"had a nominal p < {alpha:g}; exploratory, see the post hoc table).")
    elif posthoc is not None and len(posthoc):
        text += " " + _posthoc_sentence(posthoc, control, within, alpha, method)
    return text


def _posthoc_sentence(ph: pd.DataFrame, control, within, alpha: float, method: str) -> str:
    if not {"group", "diff", "p"} <= set(ph.columns):
        raise InputError("the post hoc table lacks group/diff/p columns", expected="dunnett output")
    vs = f" against {control}" if control is not None else ""
    cols = [within] if isinstance(within, str) else list(within or [])
    cols = [c for c in cols if c in ph.columns]
    where = f" at each {' × '.join(cols)}" if cols else ""
    sig = ph[ph["p"] < alpha]
    if sig.empty:
        return f"{method}{vs}{where} found no group that differed (all p ≥ {alpha:g})."
    items = []
    for group, sub in sig.groupby("group", sort=False):
        bits = []
        for _, r in sub.iterrows():
            at = ", ".join(f"{c} {r[c]}" for c in cols) + ": " if cols else ""
            bits.append(
                f"{at}difference {_num(r['diff'], 3)}"
                + (
                    f" [{_num(r['ci_low'], 3)}, {_num(r['ci_high'], 3)}]"
                    if "ci_low" in r and np.isfinite(r["ci_low"]) and np.isfinite(r["ci_high"])
                    else ""
                )
                + f", {format_p(r['p'])}"
            )
        items.append(f"{group} ({'; '.join(bits)})")
    return f"{method}{vs}{where} showed differences for " + "; ".join(items) + "."


def save_figure(fig, path: str | os.PathLike[str], dpi: int = 150) -> Path:
    """Save ``fig`` reproducibly (PNG/SVG/PDF by suffix), atomically (see :mod:`nplab.figures`)."""
    return figures.save_figure(fig, path, dpi=dpi)
