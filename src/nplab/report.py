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
    "Figure",
    "Section",
    "arrive_essential10",
    "html_table",
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


def html_table(df: pd.DataFrame, caption: str = "", *, digits: int = 4, max_rows: int = 400) -> str:
    """An HTML ``<table>`` of ``df`` (values escaped, floats to ``digits`` significant)."""
    head = "".join(f"<th>{html.escape(str(c))}</th>" for c in df.columns)
    rows = []
    shown = df.head(max_rows)
    for rec in shown.itertuples(index=False, name=None):
        cells = []
        for v in rec:
            num = isinstance(v, int | float | np.number) and not isinstance(v, bool)
            cls = ' class="num"' if num else ""
            cells.append(f"<td{cls}>{html.escape(_fmt(v, digits))}</td>")
        rows.append("<tr>" + "".join(cells) + "</tr>")
    cap = f"<caption>{html.escape(caption)}</caption>" if caption else ""
    more = ""
    if len(df) > max_rows:
        more = f'<p class="note">{len(df) - max_rows} more rows in the CSV file.</p>'
    return (
        f'<div class="tw"><table>{cap}<thead><tr>{head}</tr></thead>'
        f"<tbody>{''.join(rows)}</tbody></table></div>{more}"
    )


def _figure_html(fig: Figure) -> str:
    data = base64.b64encode(fig.svg).decode("ascii")
    return (
        f'<figure><img class="fig" alt="{html.escape(fig.caption)}" '
        f'src="data:image/svg+xml;base64,{data}">'
        f"<figcaption>{html.escape(fig.caption)} "
        f"<span class=\"files\">({html.escape(fig.name)}.svg / .png)</span></figcaption></figure>"
    )


def _block_html(block: tuple[Any, ...]) -> str:
    kind = block[0]
    if kind == "p":
        return f"<p>{html.escape(block[1])}</p>"
    if kind == "note":
        return f'<p class="note">{html.escape(block[1])}</p>'
    if kind == "table":
        return html_table(block[1], block[2])
    if kind == "figure":
        return _figure_html(block[1])
    if kind == "list":
        return "<ul>" + "".join(f"<li>{html.escape(t)}</li>" for t in block[1]) + "</ul>"
    raise ValueError(f"unknown report block {kind!r}")


_CSS = """
body{font-family:"DejaVu Sans",Helvetica,Arial,sans-serif;max-width:70rem;margin:2rem auto;
padding:0 1rem;color:#1a1a1a;line-height:1.45}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{border-bottom:2px solid #ccd;margin-top:2.2rem}
h3{margin-top:1.4rem}
nav ul{columns:2;list-style:none;padding-left:0}nav a{text-decoration:none}
.summary{background:#f4f6fb;border-left:4px solid #4a6fa5;padding:.6rem 1rem}
.tw{overflow-x:auto;margin:.6rem 0}
table{border-collapse:collapse;font-size:.85rem}caption{text-align:left;font-weight:bold;
padding:.2rem 0}th,td{border:1px solid #ccd;padding:.15rem .45rem;text-align:left}
th{background:#eef}td.num{text-align:right;font-variant-numeric:tabular-nums}
figure{margin:1rem 0}img.fig{max-width:100%;height:auto;border:1px solid #eee}
figcaption{font-size:.85rem;color:#444}.files{color:#888}
.note{font-size:.85rem;color:#555}.missing{color:#a00;font-weight:bold}
.ok{color:#070}.partial{color:#a60}
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
        body.extend(_block_html(b) for b in s.blocks)
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
