"""The HTML report: self-contained, every figure decodes in a real headless browser."""

from __future__ import annotations

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
    assert "&lt;x&gt;" in t and "1.234e-05" in t and ">yes<" in t and ">12.5<" in t


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


@pytest.mark.slow
def test_sample_study_report_in_chromium(repo_dir: Path, tmp_path: Path) -> None:
    from nplab.runner import run_study

    res = run_study(repo_dir / "sample_data" / "cci_study.toml", tmp_path / "out")
    report = tmp_path / "out" / "report.html"
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
