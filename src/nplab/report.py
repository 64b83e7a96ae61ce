"""The study report: one self-contained HTML file a PI can open anywhere.

Everything is inside the file: styles inline, figures embedded as base64 ``data:`` URIs
(SVG, so they stay sharp when zoomed), no scripts, fonts or images loaded from the
network.  The page has a summary, one section per assay (tables, figures, the generated
results paragraph), the exclusions with their reasons, and the ARRIVE 2.0 Essential-10
checklist filled from the study file with the missing items listed
(:func:`arrive_essential10`).  Plain string templates with :func:`html.escape` (no
template engine dependency); the output is deterministic (no timestamps).

References
----------
Percie du Sert N, Hurst V, Ahluwalia A, et al. (2020) The ARRIVE guidelines 2.0:
Updated guidelines for reporting animal research. PLoS Biol 18(7):e3000410; Explanation
and elaboration: PLoS Biol 18(7):e3000411.
"""

from __future__ import annotations

import base64
import html
import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import pandas as pd

__all__ = [
    "ARRIVE_ESSENTIAL_10",
    "HEADERS",
    "Figure",
    "Section",
    "arrive_essential10",
    "column_decimals",
    "format_fixed",
    "format_p",
    "html_table",
    "human_header",
    "is_p_column",
    "plural",
    "render_report",
    "tidy_text",
]

#: The ARRIVE 2.0 Essential 10 items (number, title).
ARRIVE_ESSENTIAL_10 = (
    (1, "Study design"),
    (2, "Sample size"),
    (3, "Inclusion and exclusion criteria"),
    (4, "Randomisation"),
    (5, "Blinding/Masking"),
    (6, "Outcome measures"),
    (7, "Statistical methods"),
    (8, "Experimental animals"),
    (9, "Experimental procedures"),
    (10, "Results"),
)


_IRREGULAR = {"mouse": "mice", "analysis": "analyses", "guinea pig": "guinea pigs"}


def plural(n: int, word: str) -> str:
    """``"1 rat"``, ``"18 mice"``, ``"2 animals"``: the count with the right noun form."""
    if n == 1:
        return f"{n} {word}"
    w = word.strip()
    form = _IRREGULAR.get(w.lower())
    if form is None:
        form = w if w.lower().endswith(("s", "mice")) else w + "s"
    return f"{n} {form}"


_DOUBLE_STOP = re.compile(r"(?<!\.)\.\s*\.(?!\.)")


def tidy_text(text: str) -> str:
    """Collapse doubled full stops (``"i.p.."``, ``"unblinding.."``; an ellipsis stays)
    and runs of white space left by joining sentences."""
    return _DOUBLE_STOP.sub(".", " ".join(str(text).split()))


@dataclass(frozen=True)
class Figure:
    """A figure to embed: ``svg`` bytes (embedded) and its file name and caption."""

    name: str
    caption: str
    svg: bytes


@dataclass
class Section:
    """A report section: a heading and an ordered list of blocks.

    Blocks are ``("p", text)``, ``("table", DataFrame, caption)``,
    ``("figure", Figure)``, ``("list", [text, ...])`` or ``("note", text)``; a
    ``("plot", matplotlib_figure, name, caption)`` block is an unsaved figure that the
    study runner saves as ``figures/<name>.png|svg`` and turns into a ``figure`` block.
    """

    title: str
    anchor: str
    blocks: list[tuple[Any, ...]] = field(default_factory=list)

    def p(self, text: str) -> Section:
        self.blocks.append(("p", text))
        return self

    def note(self, text: str) -> Section:
        self.blocks.append(("note", text))
        return self

    def table(self, df: pd.DataFrame, caption: str = "") -> Section:
        self.blocks.append(("table", df, caption))
        return self

    def figure(self, fig: Figure) -> Section:
        self.blocks.append(("figure", fig))
        return self

    def plot(self, fig: Any, name: str, caption: str) -> Section:
        """An unsaved matplotlib figure, saved by the runner as ``figures/<name>``."""
        self.blocks.append(("plot", fig, name, caption))
        return self

    def items(self, items: Iterable[str]) -> Section:
        self.blocks.append(("list", list(items)))
        return self


def _fmt(value: Any, digits: int) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, bool | np.bool_):
        return "yes" if value else "no"
    if isinstance(value, float | np.floating):
        v = float(value)
        if math.isinf(v):
            return "∞" if v > 0 else "−∞"
        if v != 0 and (abs(v) < 10 ** (-digits + 1) or abs(v) >= 1e6):
            return f"{v:.{digits - 1}e}"
        return f"{v:.{digits}g}" if abs(v) >= 1 else f"{v:.{digits - 1}f}".rstrip("0").rstrip(".")
    if value is pd.NA:
        return ""
    return str(value)


# --- tables -------------------------------------------------------------------

#: Machine column name -> header shown in the report (HTML; the CSV keeps the name).
HEADERS: dict[str, str] = {
    "eps_gg": "ε<sub>GG</sub>", "eps_hf": "ε<sub>HF</sub>",
    "np2": "partial η²", "ges": "generalised η²",
    "df1": "df₁", "df2": "df₂", "df": "df", "df_resid": "residual df",
    "F": "<i>F</i>", "t": "<i>t</i>", "z": "<i>z</i>",
    "p": "<i>p</i>", "p_gg": "<i>p</i><sub>GG</sub>", "p_hf": "<i>p</i><sub>HF</sub>",
    "p_adj": "adjusted <i>p</i>", "p_value": "<i>p</i>",
    "mauchly_w": "Mauchly's <i>W</i>", "mauchly_p": "Mauchly's <i>p</i>",
    "diff": "difference", "se": "SE", "sd": "SD", "sem": "SEM", "n": "<i>n</i>",
    "ss": "SS", "ss_error": "SS error", "n_allocated": "<i>n</i> allocated",
    "n_animals": "animals", "n_cells": "cells", "timepoint": "time point",
    "ic50_in_range": "IC<sub>50</sub> within tested range", "inside_ci": "within CI",
    "hill": "Hill slope", "k_r_um": "K<sub>R</sub> (µM)", "k_i_um": "K<sub>I</sub> (µM)",
    "geometric_mean_g": "geometric mean (g)", "h_1": "<i>h</i> 1", "h_2": "<i>h</i> 2",
    "k_app_1_um": "K<sub>app</sub> 1 (µM)", "k_app_2_um": "K<sub>app</sub> 2 (µM)",
    "k_r_se_um": "SE of K<sub>R</sub> (µM)", "k_i_se_um": "SE of K<sub>I</sub> (µM)", "animals_dropped_incomplete":
    "animals dropped (incomplete)", "primary_source": "primary source",
}
_UNITS = {"um": "µM", "nm": "nM", "s": "s", "g": "g", "h": "h", "pct": "%", "mv": "mV",
          "pa": "pA", "pf": "pF", "mohm": "MΩ", "rpm": "rpm"}
_WORDS = {"ic50": "IC<sub>50</sub>", "ec50": "EC<sub>50</sub>", "sd": "SD", "sem": "SEM",
          "se": "SE", "ci": "CI", "n": "<i>n</i>", "auc": "AUC", "cv": "CV", "qc": "QC",
          "lloq": "LLOQ", "uloq": "ULOQ", "mpe": "%MPE"}
_CI = re.compile(r"^(?P<pre>(?:.*_)?)ci_low(?P<post>(?:_.*)?)$")
_P_COLUMN = re.compile(r"^(?:p|p_.+|.+_p|p_?values?|pval.*)$", re.IGNORECASE)
_FIXED_DECIMALS = {"F": 2, "t": 2, "z": 2}
_FOOTNOTE_COLUMN = re.compile(r"(?:^|_)(?:source|sources|citation|citations|reference_text)$")
_FOOTNOTE_MIN_CHARS = 40
_NBSP = "\u00a0"
_NUM = ' class="num"'


def is_p_column(name: str) -> bool:
    """Whether a column named ``name`` holds p-values (``p``, ``p_gg``, ``p_adj``,
    ``mauchly_p``, ``p_value``, ...)."""
    return bool(_P_COLUMN.match(str(name)))


def format_p(p: Any) -> str:
    """A p-value as journals print it in tables: ``"< 0.001"``, else 3 significant
    digits (``"0.0312"``, ``"0.288"``, ``"1.00"``); ``""`` when missing.

    American Psychological Association (2020) *Publication Manual*, 7th ed., §6.36
    (exact p to two or three decimals, p < .001 below that); 3 significant digits keep
    small p-values such as 0.00912 informative.
    """
    if p is None or p is pd.NA or isinstance(p, str):
        return "" if p is None or p is pd.NA else str(p)
    v = float(p)
    if math.isnan(v):
        return ""
    if v < 0.001:
        return "< 0.001"
    return f"{v:#.3g}".rstrip(".")


def human_header(name: str) -> str:
    """The report's header (HTML) for a machine column name: :data:`HEADERS`, else the
    words of the name with units in brackets (``ic50_ci_high_um`` -> ``IC50 CI high
    (µM)``, ``latency_s`` -> ``latency (s)``)."""
    name = str(name)
    if name in HEADERS:
        return HEADERS[name]
    words = name.split("_")
    unit = ""
    if len(words) > 1 and words[-1].lower() in _UNITS:
        unit = f" ({_UNITS[words.pop().lower()]})"
    text = " ".join(_WORDS.get(w.lower(), html.escape(w)) for w in words)
    return (text + unit).strip()


def _is_empty(v: Any) -> bool:
    return v is None or v is pd.NA or v == "" or (isinstance(v, float) and math.isnan(v))


def _is_number(v: Any) -> bool:
    return isinstance(v, int | float | np.number) and not isinstance(v, bool | np.bool_)


def column_decimals(values: Iterable[Any], sig: int = 3, max_decimals: int = 6) -> int | None:
    """One number of decimals for a whole column: enough for its typical (median
    absolute, zeros left out) value to show ``sig`` significant digits; 0 for whole
    numbers; ``None`` (scientific notation) when the typical value is below 1e-4 or at
    least 1e6."""
    x = np.array([float(v) for v in values if _is_number(v)], dtype=float)
    x = np.abs(x[np.isfinite(x)])
    if x.size == 0 or (np.all(x == np.round(x)) and np.all(x < 1e15)):
        return 0
    nz = x[x > 0]
    typical = float(np.median(nz)) if nz.size else 0.0
    if typical < 1e-4 or typical >= 1e6:
        return None
    return int(min(max_decimals, max(0, sig - 1 - math.floor(math.log10(typical)))))


def format_fixed(value: Any, decimals: int | None, sig: int = 3) -> str:
    """A number with ``decimals`` decimals (``None``: scientific, ``sig`` significant
    digits; from :func:`column_decimals`); ``""`` for missing, no ``-0.00``."""
    if not _is_number(value):
        return _fmt(value, sig)
    v = float(value)
    if math.isnan(v):
        return ""
    if math.isinf(v):
        return "∞" if v > 0 else "−∞"
    text = f"{v:.{sig - 1}e}" if decimals is None else f"{v:.{decimals}f}"
    return text[1:] if text.startswith("-") and float(text) == 0 else text


def _ci_pairs(columns: Sequence[str]) -> dict[str, tuple[str, str]]:
    """``{low column: (high column, estimate column or "")}`` for ``*ci_low*`` columns
    with a matching ``*ci_high*`` column."""
    pairs = {}
    for c in columns:
        m = _CI.match(str(c))
        if m is None:
            continue
        high = f"{m['pre']}ci_high{m['post']}"
        if high in columns:
            est = f"{m['pre'].rstrip('_')}{m['post']}" if m["pre"] else ""
            if est not in columns:
                est = next((e for e in ("diff", "estimate", "mean", "ratio")
                            if not m["pre"] and e in columns), "")
            pairs[c] = (high, est)
    return pairs


_BREAK_AFTER = re.compile(r"([_:/])(?=\w)")


def _text_cell(text: str) -> str:
    """Escaped cell text that may wrap after ``_``, ``:`` and ``/`` (machine values such
    as ``pooled_mean_log:K_I`` would otherwise widen their column)."""
    return _BREAK_AFTER.sub(r"\1<wbr>", html.escape(text))


@dataclass
class _Column:
    header: str
    cells: list[str]
    numeric: bool


def _table_columns(df: pd.DataFrame, sig: int, footnote: set[str], notes: dict[str, int],
                   tid: str) -> list[_Column]:
    cols = list(df.columns)
    pairs = _ci_pairs(cols)
    highs = {h for h, _ in pairs.values()}
    decimals = {c: _FIXED_DECIMALS.get(str(c), column_decimals(df[c], sig)) for c in cols}
    out = []
    for c in cols:
        if c in highs:
            continue
        col = df[c]
        numeric = all(_is_number(v) or v is None or v is pd.NA for v in col)
        if c in pairs:
            high, est = pairs[c]
            d = decimals[est] if est else column_decimals([*col, *df[high]], sig)
            m = _CI.match(str(c))
            what = human_header(f"{m['pre'].rstrip('_')}{m['post']}") if m["pre"] else ""
            unit = ""
            if what.endswith(")") and " (" in what:
                what, unit = what[: what.rindex(" (")], what[what.rindex(" ("):]
            head = f"{what} 95{_NBSP}% CI{unit}".strip()
            cells = []
            for lo, hi in zip(col, df[high], strict=True):
                a, b = format_fixed(lo, d, sig), format_fixed(hi, d, sig)
                cells.append(f"{a} – {b}" if a and b else a or b)
            out.append(_Column(head, [html.escape(s) for s in cells], True))
        elif is_p_column(c):
            out.append(_Column(human_header(c), [html.escape(format_p(v)) for v in col], True))
        elif str(c) in footnote:
            cells = []
            for v in col:
                text = "" if v is None or v is pd.NA or (isinstance(v, float) and math.isnan(v)) \
                    else str(v)
                if text:
                    k = notes.setdefault(text, len(notes) + 1)
                    cells.append(f'<a class="fnref" href="#{tid}-fn{k}">[{k}]</a>')
                else:
                    cells.append("")
            out.append(_Column(human_header(c), cells, False))
        else:
            d = decimals[c]
            out.append(_Column(human_header(c),
                               [_text_cell(format_fixed(v, d, sig)) for v in col], numeric))
    return out


def html_table(df: pd.DataFrame, caption: str = "", *, digits: int = 3, max_rows: int = 400,
               footnote: Iterable[str] | None = None, table_id: str = "") -> str:
    """An HTML ``<table>`` of ``df`` formatted for reading (the CSV keeps full precision
    and the machine names).

    * p-value columns (:func:`is_p_column`) as :func:`format_p` (``"< 0.001"``, else 3
      significant digits);
    * every other numeric column with one number of decimals for all its rows
      (:func:`column_decimals`; whole numbers without decimals; F and t with 2);
    * ``*ci_low*``/``*ci_high*`` pairs combined into one ``95 % CI`` column ``low – high``;
    * headers in words (:func:`human_header`: ε_GG, partial η², df₁, IC50 (µM), ...);
    * columns without any value left out (they stay in the CSV);
    * long text columns (citations: names ending in ``source``/``citation`` with a value
      longer than 40 characters, or the columns listed in ``footnote``) as numbered
      footnote markers with the text below the table.

    Parameters
    ----------
    df
        The table (values are escaped).
    caption
        Table caption.
    digits
        Significant digits of a column's typical value.
    max_rows
        Rows shown; a note gives the number left out (they stay in the CSV).
    footnote
        Columns to move into footnotes (default: detected by name).
    table_id
        Prefix of the footnote anchors, unique in the page (:func:`render_report` gives
        ``<section anchor>-t<n>``).
    """
    shown = df.head(max_rows)
    shown = shown[[c for c in shown.columns
                   if not all(_is_empty(v) for v in shown[c])]] if len(shown) else shown
    if footnote is None:
        fn_cols = {str(c) for c in df.columns if _FOOTNOTE_COLUMN.search(str(c)) and any(
            isinstance(v, str) and len(v) > _FOOTNOTE_MIN_CHARS for v in shown[c])}
    else:
        fn_cols = {str(c) for c in footnote}
    notes: dict[str, int] = {}
    tid = table_id or "t"
    cols = _table_columns(shown, digits, fn_cols, notes, tid)
    head = "".join(f'<th scope="col">{c.header}</th>' for c in cols)
    rows = []
    for i in range(len(shown)):
        cells = "".join(f"<td{_NUM if c.numeric else ''}>{c.cells[i]}</td>" for c in cols)
        rows.append(f"<tr>{cells}</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{len(df) - max_rows} more rows in the CSV file.</p>'
    fns = ""
    if notes:
        fns = '<ol class="fn">' + "".join(
            f'<li id="{tid}-fn{k}" value="{k}">{html.escape(text)}</li>'
            for text, k in notes.items()) + "</ol>"
    return (
        f'<div class="tw"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{fns}{more}"
    )


def _figure_html(fig: Figure) -> str:
    data = base64.b64encode(fig.svg).decode("ascii")
    return (
        f'<figure><img class="fig" alt="{html.escape(fig.caption)}" '
        f'src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{html.escape(fig.caption)} "
        f"<span class=\"files\">({html.escape(fig.name)}.svg / .png)</span></figcaption></figure>"
    )


def _block_html(block: tuple[Any, ...], table_id: str = "t") -> str:
    kind = block[0]
    if kind == "p":
        return f"<p>{html.escape(block[1])}</p>"
    if kind == "note":
        return f'<p class="note">{html.escape(block[1])}</p>'
    if kind == "table":
        return html_table(block[1], block[2], table_id=table_id)
    if kind == "figure":
        return _figure_html(block[1])
    if kind == "list":
        return "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in block[1]) + "</ul>"
    raise ValueError(f"unknown report block {kind!r}")


_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.45;overflow-wrap:break-word}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ccd;margin-top:2.2rem}
h3{margin-top:1.4rem}
nav ul{columns:2;list-style:none;padding-left:0}nav a{text-decoration:none}
.summary{background:#f4f6fb;border-left:4px solid #4a6fa5;padding:.6rem 1rem}
.tw{max-width:100%;overflow-x:auto;margin:.6rem 0}
table{border-collapse:collapse;font-size:.85rem;max-width:100%}caption{text-align:left;
font-weight:bold;padding:.2rem 0}
th,td{border:1px solid #ccd;padding:.15rem .45rem;text-align:left;vertical-align:top;
overflow-wrap:break-word}
th{background:#eef;font-weight:600;hyphens:auto}
td.num{text-align:right;font-variant-numeric:tabular-nums;white-space:nowrap}
td.num .fnref,a.fnref{text-decoration:none}
ol.fn{font-size:.8rem;color:#444;margin:.2rem 0 1rem;padding-left:2rem}
figure{margin:1rem 0}img.fig{max-width:100%;height:auto;border:1px solid #eee;
box-sizing:border-box}
figcaption{font-size:.85rem;color:#444}.files{color:#888}
.note{font-size:.85rem;color:#555}.missing{color:#a00;font-weight:bold}
.ok{color:#070}.partial{color:#a60}
@page{size:A4;margin:15mm 12mm}
@media print{
body{max-width:none;margin:0;padding:0;font-size:9.5pt;line-height:1.3}
nav{display:none}h2{break-after:avoid}
.tw{overflow:visible}table{font-size:7.5pt;width:100%}
th,td{padding:.1rem .25rem}td.num{white-space:normal}
tr,figure,img.fig{break-inside:avoid}thead{display:table-header-group}
a{color:inherit}
}
"""


def render_report(
    title: str,
    *,
    subtitle: str = "",
    summary: Sequence[str] = (),
    sections: Sequence[Section] = (),
    footer: str = "",
) -> str:
    """Assemble the report page.

    Parameters
    ----------
    title, subtitle
        Page heading.
    summary
        Sentences for the summary box at the top.
    sections
        The sections in order (a table of contents links them).
    footer
        Provenance line at the bottom (software versions; no timestamps, so reruns
        give identical bytes).

    Returns
    -------
    str
        The complete HTML document.
    """
    toc = "".join(
        f'<li><a href="#{html.escape(s.anchor)}">{html.escape(s.title)}</a></li>' for s in sections
    )
    body = []
    for s in sections:
        body.append(f'<section id="{html.escape(s.anchor)}"><h2>{html.escape(s.title)}</h2>')
        body.extend(_block_html(b, f"{s.anchor}-t{i}") for i, b in enumerate(s.blocks))
        body.append("</section>")
    summ = "".join(f"<li>{html.escape(t)}</li>" for t in summary)
    sub = f"<p>{html.escape(subtitle)}</p>" if subtitle else ""
    return (
        "<!DOCTYPE html>\n"
        '<html lang="en"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
        "img-src data:; style-src 'unsafe-inline'\">"
        f"<title>{html.escape(title)}</title><style>{_CSS}</style></head><body>\n"
        f"<header><h1>{html.escape(title)}</h1>{sub}</header>\n"
        f'<div class="summary"><h2 style="border:0;margin-top:.3rem">Summary</h2>'
        f"<ul>{summ}</ul></div>\n"
        f"<nav><h2>Contents</h2><ul>{toc}</ul></nav>\n" + "\n".join(body) + "\n"
        f'<footer><p class="note">{html.escape(footer)}</p></footer>\n</body></html>\n'
    )


def _status(missing: list[str], total: int) -> str:
    if not missing:
        return "reported"
    return "missing" if len(missing) >= total else "partly reported"


def arrive_essential10(study: Any, facts: dict[str, Any]) -> pd.DataFrame:
    """Fill the ARRIVE 2.0 Essential-10 checklist from a study and the run's facts.

    Parameters
    ----------
    study
        A :class:`nplab.study.Study`.
    facts
        What the run established: ``n_per_group`` (``{group: n analysed}``),
        ``n_total``, ``excluded`` (list of ``"animal: reason"``), ``methods`` (list of
        analysis descriptions), ``software`` (str), ``has_descriptives`` and
        ``has_effect_ci`` (bool).

    Returns
    -------
    DataFrame
        Columns ``item`` (1-10), ``title``, ``status`` (``reported``, ``partly
        reported`` or ``missing``), ``from_study`` (what the study file/run says) and
        ``missing`` (what a reader still needs, ``""`` when complete).
    """
    m = study.meta
    rows: list[tuple[int, str, str, list[str]]] = []

    def add(item: int, text: str, missing: list[str], total: int) -> None:
        rows.append((item, text, _status(missing, total), missing))

    groups = "; ".join(
        f"{r.name} ({r.treatment}{'' if r.dose == 0 else f' {r.dose:g} {r.unit}'}"
        f"{', control' if r.control else ''})"
        for r in study.groups.itertuples()
    )
    miss = [] if m["design"] else ["design description ([study].design)"]
    if study.control_group is None:
        miss.append("control group (control = true)")
    add(1, f"{m['design']} Groups: {groups}. Experimental unit: {m['experimental_unit']}.", miss, 3)

    npg = facts.get("n_per_group", {})
    n_text = ", ".join(f"{g}: {n}" for g, n in npg.items())
    miss = [] if m["sample_size"] else ["how the sample size was decided ([study].sample_size)"]
    add(2, f"n analysed per group: {n_text} (total {facts.get('n_total', 0)}). "
        f"{m['sample_size']}", miss, 2)

    rules = "; ".join(
        f"{r['name']}: {r['description'] or r}" for r in study.exclusions
    )
    excluded = facts.get("excluded", [])
    miss = [] if study.exclusions else ["a-priori exclusion criteria ([[exclusions]])"]
    add(3, f"Criteria: {rules or 'none declared'}. Excluded: "
        f"{'; '.join(excluded) if excluded else 'none'}.", miss, 2)

    r = study.randomisation
    if r is None:
        add(4, "", ["randomisation method ([randomisation])"], 1)
    else:
        miss = [] if r["sequence"] else ["how the sequence was generated (randomisation.sequence)"]
        if not r["confounders"]:
            miss.append("control of confounders (randomisation.confounders)")
        add(4, f"{r['method']}. {r['sequence']} {r['confounders']}".strip(), miss, 3)

    b = study.blinding
    if b is None:
        add(5, "", ["blinding record ([blinding])"], 1)
    else:
        miss = [] if b["who"] else ["who was blind at each stage (blinding.who)"]
        state = "blinded" if b["blinded"] else "not blinded"
        add(5, f"{state}. {b['who']} Code holder: {b['code_holder'] or 'not stated'}. "
            "How the analysis was blinded: see the Study section.", miss, 2)

    o = study.outcomes
    miss = [] if o["description"] else ["definition of the primary outcome (outcomes.description)"]
    add(6, f"Primary: {o['primary']} ({o['primary_paw']}). {o['description']} "
        f"Secondary: {', '.join(o['secondary']) or 'none stated'}.", miss, 2)

    methods = facts.get("methods", [])
    add(7, f"{' '.join(methods)} Software: {facts.get('software', 'nplab')}.",
        [] if methods else ["statistical methods (no analysis ran)"], 1)

    fields = {"species": "species", "strain": "strain", "sex": "sex", "age": "age",
              "weight": "weight", "supplier": "source/supplier"}
    miss = [f"{label} ([study].{key})" for key, label in fields.items() if not m[key]]
    add(8, ", ".join(f"{label}: {m[key]}" for key, label in fields.items() if m[key]) + ".",
        miss, len(fields))

    s = study.surgery
    proc = (f"Surgery: {study.surgery_protocol.title} (protocol {study.surgery_protocol.name} "
            f"{study.surgery_protocol.version}), {s.get('side', '')} side, "
            f"{s.get('date', '')}, {s.get('ligature_material', '')}. ")
    doses = "; ".join(
        f"{r.name}: {r.treatment} {r.dose:g} {r.unit} {r.route}".strip()
        for r in study.groups.itertuples()
    )
    miss = [] if m["procedures"] else ["dosing and testing schedule ([study].procedures)"]
    if not m["housing"]:
        miss.append("housing ([study].housing)")
    add(9, f"{proc}{m['procedures']} Treatments: {doses}.", miss, 3)

    miss = []
    if not facts.get("has_descriptives"):
        miss.append("descriptive statistics per group")
    if not facts.get("has_effect_ci"):
        miss.append("effect sizes with confidence intervals")
    add(10, "Group means with SEM and n per time point; comparisons with control with "
        "differences and 95% CIs (tables in this report).", miss, 2)

    titles = dict(ARRIVE_ESSENTIAL_10)
    return pd.DataFrame(
        {
            "item": [r[0] for r in rows],
            "title": [titles[r[0]] for r in rows],
            "status": [r[2] for r in rows],
            "from_study": [tidy_text(r[1]) for r in rows],
            "missing": ["; ".join(r[3]) for r in rows],
        }
    )
