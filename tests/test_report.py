"""The HTML report: self-contained, every figure decodes in a real headless browser."""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.report import Section, arrive_essential10, html_table, render_report
from nplab.runner import save_figure
from nplab.study import load_study

_CHECK = """<script>
window.addEventListener('load', async () => {
  const imgs = [...document.images];
  await Promise.all(imgs.map(i => i.decode().catch(() => null)));
  const ok = imgs.filter(i => i.complete && i.naturalWidth > 0 && i.naturalHeight > 0);
  const svgs = document.querySelectorAll('svg').length;
  const el = document.createElement('pre');
  el.id = 'nplab-check';
  el.textContent = `images=${imgs.length} decoded=${ok.length} svg=${svgs}`;
  document.body.appendChild(el);
});
</script>"""


def chromium() -> str:
    for name in ("chromium", "chromium-browser", "google-chrome"):
        path = shutil.which(name)
        if path:
            return path
    if os.environ.get("CI"):
        pytest.fail("chromium is not installed (.ci/apt-packages.txt lists it)")
    pytest.skip("chromium not installed (apt-get install chromium fonts-dejavu-core)")


def _browser(html_file: Path, tmp: Path, *args: str) -> subprocess.CompletedProcess:
    cmd = [
        chromium(), "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
        "--no-first-run", "--disable-background-networking", "--disable-component-update",
        "--disable-sync", f"--user-data-dir={tmp / 'profile'}", "--virtual-time-budget=5000",
        *args, html_file.as_uri(),
    ]
    return subprocess.run(cmd, capture_output=True, text=True, timeout=120, check=False)


def check_in_browser(report: Path, tmp: Path) -> dict[str, int]:
    """Load a copy of ``report`` (with a checking script) in headless chromium.

    Returns the number of <img> elements, how many decoded with a nonzero natural size,
    and the number of inline <svg>; also takes a screenshot and checks it is not blank.
    """
    page = report.read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    probe = tmp / "probe.html"
    probe.write_text(page.replace("</body>", _CHECK + "</body>"), encoding="utf-8")
    dom = _browser(probe, tmp, "--dump-dom")
    m = re.search(r"images=(\d+) decoded=(\d+) svg=(\d+)", dom.stdout)
    assert m, f"no check output from chromium: {dom.stderr[-2000:]}"
    shot = tmp / "shot.png"
    _browser(report, tmp, f"--screenshot={shot}", "--window-size=1200,2400")
    assert shot.is_file() and shot.stat().st_size > 20_000
    from matplotlib.image import imread

    pixels = imread(shot)
    assert pixels.std() > 0.05  # not a blank page
    return {"images": int(m[1]), "decoded": int(m[2]), "svg": int(m[3])}


_LAYOUT = """<script>
window.addEventListener('load', async () => {
  const root = document.documentElement;
  const out = {viewport: root.clientWidth, page_overflow: root.scrollWidth - root.clientWidth,
               tables: 0, overflowing: [], clipped_cells: 0, figures: 0, overlaps: []};
  for (const tw of document.querySelectorAll('.tw')) {
    out.tables += 1;
    const cap = (tw.querySelector('caption') || {}).textContent || '';
    if (tw.scrollWidth > tw.clientWidth + 1 || tw.getBoundingClientRect().right > out.viewport + 1)
      out.overflowing.push(`${cap.slice(0, 60)} (${tw.scrollWidth} > ${tw.clientWidth} px)`);
  }
  for (const c of document.querySelectorAll('td, th'))
    if (c.scrollWidth > c.clientWidth + 1) out.clipped_cells += 1;
  const box = document.createElement('div');
  box.style.cssText = 'position:absolute;left:0;top:0;visibility:hidden';
  document.body.appendChild(box);
  const label = g => [...g.childNodes].filter(n => n.nodeType === 8).map(n => n.data.trim())
    .join('') || g.textContent.trim() || g.id;
  for (const img of document.querySelectorAll('img[src^="data:image/svg+xml;base64,"]')) {
    out.figures += 1;
    const svg = new DOMParser().parseFromString(atob(img.src.split(',')[1]), 'image/svg+xml');
    box.replaceChildren(document.importNode(svg.documentElement, true));
    const texts = [...box.querySelectorAll('g[id^="text_"]')];
    const glyphs = texts.map(g => [...g.querySelectorAll('use, path, text')]
      .map(e => e.getBoundingClientRect()).filter(r => r.width > 0 && r.height > 0));
    const hit = (a, b) => Math.min(a.right, b.right) - Math.max(a.left, b.left) > 0.5 &&
                          Math.min(a.bottom, b.bottom) - Math.max(a.top, b.top) > 0.5;
    for (let i = 0; i < texts.length; i++) for (let j = i + 1; j < texts.length; j++)
      if (glyphs[i].some(a => glyphs[j].some(b => hit(a, b))))
        out.overlaps.push(`${img.alt.slice(0, 50)}: "${label(texts[i])}" × "${label(texts[j])}"`);
  }
  box.remove();
  const el = document.createElement('pre');
  el.id = 'nplab-layout';
  el.textContent = 'LAYOUT' + JSON.stringify(out) + 'END';
  document.body.appendChild(el);
});
</script>"""

#: A4 (210 mm) less the report's @page margins (2 x 12 mm), in CSS px (96 per inch).
PRINT_WIDTH_PX = round((210 - 2 * 12) / 25.4 * 96)


def check_layout(report: Path, tmp: Path, *, width: int = 1280, media: str = "screen") -> dict:
    """Lay out a copy of ``report`` in headless chromium and measure it.

    ``media="print"`` applies the page's ``@media print`` rules on a window as wide as the
    printable width of an A4 page (the emulation of print layout without a DevTools
    client). Returns the page's horizontal overflow (px), the tables whose wrapper
    scrolls or reaches past the window (``overflowing``), the number of clipped cells,
    and, for every embedded SVG figure, pairs of text elements (``<g id="text_*">``,
    matplotlib's text groups) whose glyph boxes overlap (``overlaps``).
    """
    page = report.read_text(encoding="utf-8")
    page = re.sub(r'<meta http-equiv="Content-Security-Policy"[^>]*>', "", page)
    if media == "print":
        assert "@media print{" in page, "the report has no print styles"
        page = page.replace("@media print{", "@media all{")
    probe = tmp / f"layout-{media}-{width}.html"
    probe.write_text(page.replace("</body>", _LAYOUT + "</body>"), encoding="utf-8")
    dom = _browser(probe, tmp, "--dump-dom", "--hide-scrollbars", f"--window-size={width},900")
    m = re.search(r"LAYOUT(\{.*?\})END", dom.stdout)
    assert m, f"no layout output from chromium: {dom.stderr[-2000:]}"
    return json.loads(html.unescape(m[1]))


def assert_self_contained(page: str) -> None:
    """No resource is loaded from anywhere but the page itself."""
    for attr in re.findall(r'(?:src|href)="([^"]*)"', page):
        assert attr.startswith(("data:", "#")), attr
    assert "<script" not in page and "@import" not in page and "url(http" not in page
    assert "Content-Security-Policy" in page


def _demo_report(tmp_path: Path, repo_dir: Path) -> Path:
    import matplotlib.pyplot as plt

    figs = []
    for i in range(2):
        fig, ax = plt.subplots(figsize=(4, 3))
        ax.plot(np.arange(5), np.arange(5) ** (i + 1), marker="o")
        _png, svg = save_figure(fig, tmp_path / "figures", f"f{i}")
        from nplab.report import Figure

        figs.append(Figure(name=f"figures/f{i}", caption=f"figure {i} <&>", svg=svg.read_bytes()))
    sec = Section("Results", "results").p("Text with <b>markup</b> & ampersand.")
    sec.table(pd.DataFrame({"group": ["a<b", "c"], "mean": [1.23456789, np.nan],
                            "p": [1e-9, 0.0312]}), "A table")
    for f in figs:
        sec.figure(f)
    study = load_study(repo_dir / "sample_data" / "cci_study.toml")
    arrive = arrive_essential10(study, {"n_per_group": {"x": 3}, "methods": ["m"]})
    sec2 = Section("ARRIVE", "arrive").table(arrive)
    page = render_report("Demo <report>", summary=["one", "two"], sections=[sec, sec2])
    out = tmp_path / "report.html"
    out.write_text(page, encoding="utf-8")
    return out


def test_html_escaping_and_numbers() -> None:
    t = html_table(pd.DataFrame({"a": ["<x>"], "b": [0.000012345], "c": [True], "d": [12.5]}))
    assert "&lt;x&gt;" in t and "1.23e-05" in t and ">yes<" in t and ">12.5<" in t


def _cells(table_html: str) -> list[list[str]]:
    """The text of every header and data cell of an HTML table, row by row."""
    rows = re.findall(r"<tr>(.*?)</tr>", table_html, re.S)
    return [[html.unescape(re.sub(r"<[^>]+>", "", c))
             for c in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", r, re.S)] for r in rows]


def test_p_values_as_journals_print_them() -> None:
    # APA 7th ed. (2020) §6.36: "p < .001" below .001; otherwise an exact value, here to
    # 3 significant digits so that 0.00912 is not shown as ".009"
    df = pd.DataFrame({"paw": ["ipsi"] * 6,
                       "p": [1e-9, 0.0312, 0.98648, 0.5, 0.001, 0.000999],
                       "p_gg": [0.00912, 0.05, np.nan, 1.0, 0.1234, 0.0456],
                       "mauchly_p": [0.024] * 6})
    rows = _cells(html_table(df))
    assert [r[1] for r in rows[1:]] == ["< 0.001", "0.0312", "0.986", "0.500", "0.00100",
                                        "< 0.001"]
    assert [r[2] for r in rows[1:]] == ["0.00912", "0.0500", "", "1.00", "0.123", "0.0456"]
    assert {r[3] for r in rows[1:]} == {"0.0240"}
    assert [r[0] for r in rows[1:]] == ["ipsi"] * 6  # "paw" is not a p column


def test_one_number_of_decimals_per_column() -> None:
    df = pd.DataFrame({"mean": [1.05123, 12.5, 0.98, 10.0], "sem": [0.0372, 0.04, 0.1, 0.2],
                       "n": [10.0, 9.0, 10.0, 8.0], "F": [97.0213, 226.06, 1.16, 0.5]})
    rows = _cells(html_table(df))[1:]
    for j, want in enumerate([2, 4, 0, 2]):  # typical value to 3 significant digits
        got = {len(r[j].partition(".")[2]) for r in rows}
        assert got == {want}, (df.columns[j], [r[j] for r in rows])
    assert rows[3][0] == "10.00" and rows[0][3] == "97.02" and rows[1][2] == "9"


def test_human_headers_and_a_combined_ci_column() -> None:
    df = pd.DataFrame({"source": ["group", "timepoint"], "df1": [4.0, 5.0],
                       "df2": [43.0, 215.0], "eps_gg": [np.nan, 0.8012], "np2": [0.9, 0.84],
                       "ges": [0.785, 0.758], "diff": [0.7471, 0.0183],
                       "ci_low": [0.58422, -0.1048], "ci_high": [0.91008, 0.14142],
                       "ic50_um": [4.865, 0.2429], "ic50_ci_low_um": [4.691, 0.2370],
                       "ic50_ci_high_um": [5.046, 0.2488]})
    t = html_table(df)
    heads = re.findall(r"<th scope=\"col\">(.*?)</th>", t)
    assert heads == ["source", "df₁", "df₂", "ε<sub>GG</sub>", "partial η²", "generalised η²",
                     "difference", "95\u00a0% CI", "IC<sub>50</sub> (µM)",
                     "IC<sub>50</sub> 95\u00a0% CI (µM)"]
    rows = _cells(t)[1:]
    assert rows[0][7] == "0.584 – 0.910" and rows[1][7] == "-0.105 – 0.141"
    assert rows[0][9] == "4.69 – 5.05" and rows[1][9] == "0.24 – 0.25"


def test_long_citations_become_footnotes() -> None:
    jo = ("Jo SH, Youm JB, Lee CO, Earm YE, Ho WK (2000) Blockade of the HERG human "
          "cardiac K+ channel by the antidepressant drug amitriptyline. Br J Pharmacol "
          "129:1474-1480")
    df = pd.DataFrame({"drug": ["a", "a", "b"], "measure": ["IC50"] * 3,
                       "primary_source": [jo, jo, "secondary: project guide (primary "
                                          "source not identified)"]})
    t = html_table(df, table_id="refs")
    assert jo not in t.split("</table>")[0]  # out of the narrow cell ...
    rows = _cells(t)[1:]
    assert [r[2] for r in rows] == ["[1]", "[1]", "[2]"]  # one marker per distinct text
    notes = re.findall(r'<li id="(refs-fn\d)"[^>]*>(.*?)</li>', t.split("</table>")[1])
    assert notes == [("refs-fn1", html.escape(jo)),
                     ("refs-fn2", "secondary: project guide (primary source not identified)")]
    assert 'href="#refs-fn1"' in t
    short = html_table(pd.DataFrame({"source": ["group", "timepoint"], "F": [1.0, 2.0]}))
    assert ">group<" in short and "fn" not in short  # an ANOVA's short "source" stays


def test_report_renders_in_chromium(tmp_path: Path, repo_dir: Path) -> None:
    report = _demo_report(tmp_path, repo_dir)
    page = report.read_text()
    assert_self_contained(page)
    assert "Demo &lt;report&gt;" in page and "a&lt;b" in page
    res = check_in_browser(report, tmp_path)
    assert res == {"images": 2, "decoded": 2, "svg": 0}


def test_arrive_checklist_lists_missing(repo_dir: Path) -> None:
    full = load_study(repo_dir / "sample_data" / "cci_study.toml")
    facts = {"n_per_group": {"a": 10}, "n_total": 10, "methods": ["ANOVA."],
             "has_descriptives": True, "has_effect_ci": True}
    a = arrive_essential10(full, facts)
    assert list(a["item"]) == list(range(1, 11))
    assert (a["status"] == "reported").all(), a[a["status"] != "reported"]
    small = load_study(repo_dir / "sample_data" / "snl_study.toml")
    b = arrive_essential10(small, {"methods": []}).set_index("item")
    assert b.at[5, "status"] == "missing" and "blinding" in b.at[5, "missing"]
    assert b.at[3, "status"] == "partly reported"  # exclusions listed, no a-priori rules
    assert "a-priori exclusion criteria" in b.at[3, "missing"]
    assert b.at[8, "status"] == "partly reported" and "weight" in b.at[8, "missing"]
    assert b.at[10, "status"] == "missing"


@pytest.fixture(scope="module")
def cci_report(repo_dir: Path, tmp_path_factory: pytest.TempPathFactory):
    """The CCI sample study, run once for the report checks of this module."""
    from nplab.runner import run_study

    out = tmp_path_factory.mktemp("cci-report") / "out"
    return run_study(repo_dir / "sample_data" / "cci_study.toml", out), out


@pytest.mark.slow
def test_sample_study_report_in_chromium(cci_report, tmp_path: Path) -> None:
    res, out = cci_report
    report = out / "report.html"
    page = report.read_text(encoding="utf-8")
    assert_self_contained(page)
    n_figures = sum(o.endswith(".svg") for o in res.outputs)
    assert n_figures >= 2  # von Frey and Hargreaves time courses (+ patch clamp)
    assert page.count('<img class="fig"') == n_figures
    for section in ("Summary", "Exclusions", "Mechanical allodynia", "Thermal hyperalgesia",
                    "ARRIVE 2.0 Essential 10"):
        assert section in page
    got = check_in_browser(report, tmp_path)
    assert got["images"] == n_figures and got["decoded"] == n_figures


@pytest.mark.slow
@pytest.mark.parametrize(("media", "width"), [("screen", 1280), ("print", PRINT_WIDTH_PX)])
def test_sample_report_tables_fit(cci_report, tmp_path: Path, media: str, width: int) -> None:
    _res, out = cci_report
    got = check_layout(out / "report.html", tmp_path, width=width, media=media)
    assert got["viewport"] == width and got["tables"] >= 20 and got["figures"] >= 2
    assert got["overflowing"] == [], got["overflowing"]
    assert got["page_overflow"] <= 0 and got["clipped_cells"] == 0, got


@pytest.mark.slow
def test_sample_report_figures_have_no_overlapping_text(cci_report, tmp_path: Path) -> None:
    _res, out = cci_report
    got = check_layout(out / "report.html", tmp_path)
    assert got["figures"] >= 2
    assert got["overlaps"] == [], got["overlaps"]


def test_csv_keeps_machine_names_and_full_precision(cci_report) -> None:
    _res, out = cci_report
    anova = pd.read_csv(out / "tables" / "vonfrey_anova.csv")
    assert {"df1", "df2", "eps_gg", "p_gg", "np2", "ges"} <= set(anova.columns)
    dun = (out / "tables" / "vonfrey_dunnett.csv").read_text().splitlines()
    assert dun[0] == "paw,timepoint,group,diff,se,t,df,p,ci_low,ci_high"
    assert re.search(r",\d\.\d{12,}(e-\d+)?,", dun[2])  # full precision, not the HTML's
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "<th scope=\"col\">partial η²</th>" in page and ">np2<" not in page


def _section(page: str, anchor: str) -> str:
    return re.search(rf'<section id="{anchor}">(.*?)</section>', page, re.S)[1]


@pytest.mark.parametrize("assay", ["vonfrey", "hargreaves"])
def test_dunnett_table_shows_every_time_point_the_text_cites(cci_report, assay: str) -> None:
    _res, out = cci_report
    sec = _section((out / "report.html").read_text(encoding="utf-8"), assay)
    table = next(t for t in re.findall(r"<table>.*?</table>", sec, re.S)
                 if "Dunnett&#x27;s test vs CCI + vehicle at each" in t)
    rows = _cells(table)
    col = rows[0].index("time point")
    shown = {(r[0], r[col]) for r in rows[1:]}
    dun = pd.read_csv(out / "tables" / f"{assay}_dunnett.csv")
    cited = dun[dun["p"] < 0.05]  # nplab.stats.results_paragraph cites the rows with p < alpha
    assert len(cited) and set(cited["timepoint"]) - {"1h", "2h", "4h", "6h"}  # e.g. D14
    text = html.unescape(" ".join(re.findall(r"<p>(.*?)</p>", sec, re.S)))
    for tp in set(cited["timepoint"]):
        assert re.search(rf"\b{re.escape(tp)}\b:", text), tp  # the paragraph cites it ...
    missing = set(map(tuple, cited[["paw", "timepoint"]].to_numpy())) - shown
    assert not missing, f"cited in the text but not in the Dunnett table: {sorted(missing)}"


def test_endpoint_table_has_one_number_of_decimals_per_column(cci_report) -> None:
    _res, out = cci_report
    sec = _section((out / "report.html").read_text(encoding="utf-8"), "vonfrey")
    table = next(t for t in re.findall(r"<table>.*?</table>", sec, re.S)
                 if "<caption>Endpoints" in t)
    rows = _cells(table)
    assert rows[0][-5:] == ["1 h", "2 h", "4 h", "6 h", "AUC"]
    for j in range(2, len(rows[0])):
        cells = [m.groups() for r in rows[1:]
                 if (m := re.fullmatch(r"(-?\d+(?:\.\d+)?) ± (\d+(?:\.\d+)?) \(\d+\)", r[j]))]
        assert len(cells) >= 4, rows[0][j]
        decimals = {len(x.partition(".")[2]) for c in cells for x in c}  # mean and SEM alike
        assert len(decimals) == 1, (rows[0][j], cells)
