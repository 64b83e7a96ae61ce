"""One figure style for nplab (nplab.figures.STYLE): editable vector text, readable labels.

Journals ask for vector figures whose text can be edited: SVG text must stay ``<text>``
elements (not glyph paths) and PDF fonts must be embedded as TrueType (Type 42,
``/FontFile2``), not Type 3.  Saved bytes stay reproducible.
"""

from __future__ import annotations

import hashlib
import xml.etree.ElementTree as ET

import numpy as np
import pandas as pd
import pytest

from nplab.figures import STYLE, save_figure
from nplab.protocols import load_protocol
from nplab.stats import timecourse_figure

SVG = "{http://www.w3.org/2000/svg}"


def _timecourse():
    rng = np.random.default_rng(1)
    rows = [(f"{g}{k}", g, t, rng.normal(1.0 + (g == "drug") * (t != "BL"), 0.2))
            for g in ("vehicle", "drug") for k in range(6) for t in ("BL", "1h", "2h")]  # fmt: skip
    data = pd.DataFrame(rows, columns=["animal", "group", "time", "y"])
    ph = pd.DataFrame({"time": ["1h", "2h"], "group": ["drug", "drug"], "p": [0.0004, 0.02]})
    return timecourse_figure(data, "y", "group", "time", "animal", ph, control="vehicle")


def test_svg_text_is_editable(tmp_path):
    path = save_figure(_timecourse(), tmp_path / "f.svg")
    root = ET.parse(path).getroot()
    texts = ["".join(t.itertext()) for t in root.iter(f"{SVG}text")]
    assert "***" in texts and "*" in texts and "time" in texts
    assert any("vehicle" in t for t in texts)
    styles = [t.get("style", "") for t in root.iter(f"{SVG}text")]
    assert all("DejaVu Sans" in s for s in styles)


def test_pdf_fonts_are_truetype_and_bytes_reproducible(tmp_path):
    digests = []
    for i in range(2):
        data = save_figure(_timecourse(), tmp_path / f"f{i}.pdf").read_bytes()
        # Type 42: the TrueType program embedded (/FontFile2), as a CIDFontType2 or
        # TrueType font; a Type 3 font (matplotlib's default) has neither
        assert b"/FontFile2" in data
        assert b"/Subtype /CIDFontType2" in data or b"/Subtype /TrueType" in data
        assert b"/Type3" not in data
        digests.append(hashlib.sha256(data).hexdigest())
    assert digests[0] == digests[1]
    assert STYLE["pdf.fonttype"] == 42 and STYLE["svg.fonttype"] == "none"


@pytest.mark.parametrize(
    ("protocol", "label"),
    [("patchclamp-nav-inactivated", "Nav1.7, inactivated state"),
     ("patchclamp-nav-resting", "Nav1.7, resting state"),
     ("patchclamp-herg", "hERG")],
)  # fmt: skip
def test_condition_label_from_protocol(protocol, label):
    from nplab.ephys.plots import condition_label

    assert condition_label(protocol, load_protocol(protocol, kind="patchclamp")) == label
    assert condition_label("my condition") == "my condition"


def _patch_tables():
    conc = np.array([0.1, 0.3, 1.0, 3.0, 10.0])
    cells, pooled = [], []
    for cond, ic50 in (("patchclamp-nav-inactivated", 0.5), ("patchclamp-nav-resting", 20.0)):
        for c in conc * (1 if ic50 < 1 else 30):
            cells.append(("amitriptyline", cond, "drug", "ok", c, 1 / (1 + c / ic50)))
        pooled.append(("amitriptyline", cond, "pooled_global", ic50, 1.0, 0.0, 1.0))
    return (pd.DataFrame(cells, columns=["drug", "condition", "role", "status", "conc_um",
                                         "fraction"]),
            pd.DataFrame(pooled, columns=["drug", "condition", "level", "ic50_um", "top",
                                          "bottom", "hill"]))  # fmt: skip


def test_concentration_response_labels_and_legend_outside():
    from nplab.assays.patchclamp import concentration_response_figure

    cells, pooled = _patch_tables()
    protocols = {c: load_protocol(c, kind="patchclamp") for c in pooled["condition"]}
    fig = concentration_response_figure(cells, pooled, protocols)
    fig.canvas.draw()
    ax = fig.axes[0]
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert labels[0].startswith("amitriptyline, Nav1.7, inactivated state: IC50 0.5 µM")
    assert not any("patchclamp-" in lab for lab in labels)
    assert ax.get_ylabel() == r"$I/I_\mathrm{control}$"  # typeset, not "I / I_control"
    assert not ax.get_legend().get_window_extent().overlaps(ax.bbox)


def test_dose_response_legend_outside_the_data():
    from nplab.doseresponse import fit
    from nplab.doseresponse.plot import plot_fit

    rng = np.random.default_rng(3)
    dose = np.repeat([0.1, 0.3, 1, 3, 10, 30], 3).astype(float)
    rows = []
    for curve, ec50 in (("A", 1.0), ("B", 5.0)):
        y = 100 / (1 + (dose / ec50)) + rng.normal(0, 2, dose.size)
        rows += [(curve, d, v) for d, v in zip(dose, y, strict=True)]
    df = pd.DataFrame(rows, columns=["drug", "dose", "response"])
    res = fit(df, x="dose", y="response", curve="drug", model="LL.4")
    figure = plot_fit(res)
    figure.canvas.draw()
    ax = figure.axes[0]
    assert not ax.get_legend().get_window_extent().overlaps(ax.bbox)


def test_hargreaves_cli_figure_is_the_runner_figure(tmp_path):
    """`nplab hargreaves --figure` draws with timecourse_figure: paw panels sharing y,
    animals as points, editable text."""
    from pathlib import Path

    from nplab.hargreaves import plot_timecourse, summarise

    data = Path(__file__).parent / "hargreaves" / "data"
    summary = summarise(data / "trials_small.csv", "hargreaves-rat",
                        animals=data / "animals_small.csv")  # fmt: skip
    path = plot_timecourse(summary, data / "animals_small.csv", tmp_path / "tc.svg")
    texts = ["".join(t.itertext()) for t in ET.parse(path).getroot().iter(f"{SVG}text")]
    assert {"ipsilateral paw", "contralateral paw", "individual animals"} <= set(texts)
