"""Paper-ready time-course figures (issue 13 item 9, issue 14 item 6).

Geometry is checked with matplotlib's own renderer: after ``fig.canvas.draw()`` the
window extents of the mark texts are compared with each other, with the data lines
(``Path.intersects_bbox`` on every drawn polyline and error bar), the markers and caps,
the individual animals and the axes, and the legend with the axes — the automatic
"no overlapping marks, nothing outside" check of the issue's acceptance.
"""

from __future__ import annotations

import itertools
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest

from nplab.stats import dunnett_by_time, share_ylim, timecourse_figure

REF = Path(__file__).parent / "reference"
NOTE = "* p < 0.05, ** p < 0.01, *** p < 0.001 vs vehicle, Dunnett at each time point"


@pytest.fixture(scope="module")
def cci():
    return pd.read_csv(REF / "anova_data_cci.csv")


def _crowded():
    """Three treated groups alike and far from vehicle at t2 (three marks in one column),
    all groups much higher at t3 (steep lines rising past the marks)."""
    rng = np.random.default_rng(13)
    rows = []
    means = {"vehicle": [1.0, 1.0, 5.0, 9.0], "a": [1.0, 3.0, 7.0, 9.2],
             "b": [1.0, 3.1, 7.1, 9.1], "c": [1.0, 2.9, 6.9, 8.9]}  # fmt: skip
    for g, mu in means.items():
        for k in range(8):
            for t, m in zip(["t0", "t1", "t2", "t3"], mu, strict=True):
                rows.append((f"{g}{k}", g, t, m + rng.normal(0, 0.3)))
    data = pd.DataFrame(rows, columns=["animal", "group", "time", "y"])
    ph = pd.DataFrame({"time": ["t1"] * 3 + ["t2"] * 3,
                       "group": ["a", "b", "c"] * 2,
                       "p": [0.0004, 0.003, 0.04, 0.0001, 0.0002, 0.02]})  # fmt: skip
    return data, ph


def _marks(ax):
    return [t for t in ax.texts if t.get_text() and set(t.get_text()) == {"*"}]


def _drawn_paths(ax):
    """Display-space polylines of everything drawn with lines (lines, error bars)."""
    from matplotlib.collections import LineCollection
    from matplotlib.path import Path as MPath

    paths = []
    for line in ax.lines:
        if line.get_linestyle() in ("None", "", " ", "none"):
            continue
        xy = line.get_transform().transform(line.get_xydata())
        ok = np.isfinite(xy).all(axis=1)
        for _, run in itertools.groupby(range(len(xy)), key=lambda i: ok[i]):
            idx = list(run)
            if ok[idx[0]] and len(idx) > 1:
                paths.append(MPath(xy[idx]))
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            for seg in coll.get_segments():
                paths.append(MPath(coll.get_transform().transform(np.asarray(seg))))
    return paths


def _marker_boxes(ax, renderer):
    """Boxes of markers, caps and individual animals (display space)."""
    from matplotlib.collections import PathCollection
    from matplotlib.transforms import Bbox

    boxes = []
    px = renderer.points_to_pixels(1.0)
    for line in ax.lines:
        if line.get_marker() in (None, "None", "", " ", "none"):
            continue
        half = line.get_markersize() / 2 * px
        for x, y in line.get_transform().transform(line.get_xydata()):
            if np.isfinite(x) and np.isfinite(y):
                boxes.append(Bbox([[x - half, y - half], [x + half, y + half]]))
    for coll in ax.collections:
        if isinstance(coll, PathCollection):
            r = np.sqrt(coll.get_sizes().max()) / 2 * px
            for x, y in coll.get_offset_transform().transform(coll.get_offsets()):
                boxes.append(Bbox([[x - r, y - r], [x + r, y + r]]))
    return boxes


def _assert_marks_clear(fig):
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    if not isinstance(fig.canvas, FigureCanvasAgg):
        FigureCanvasAgg(fig)
    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    n_marks = 0
    for ax in fig.axes:
        marks = [t.get_window_extent(renderer) for t in _marks(ax)]
        n_marks += len(marks)
        for a, b in itertools.combinations(marks, 2):
            assert not a.overlaps(b), f"marks overlap: {a} {b}"
        paths, boxes = _drawn_paths(ax), _marker_boxes(ax, renderer)
        for m in marks:
            assert ax.bbox.x0 <= m.x0 and m.x1 <= ax.bbox.x1, "mark outside the axes"
            assert ax.bbox.y0 <= m.y0 and m.y1 <= ax.bbox.y1, "mark outside the axes"
            assert not any(p.intersects_bbox(m, filled=False) for p in paths), \
                "a mark touches a line or an error bar"
            assert not any(m.overlaps(b) for b in boxes), "a mark covers a marker or animal"
    return n_marks


def test_marks_never_collide(cci):
    data, ph = _crowded()
    fig = timecourse_figure(data, "y", "group", "time", "animal", ph, control="vehicle")
    assert _assert_marks_clear(fig) == 6
    ph = dunnett_by_time(cci, "log_threshold", "group", "time", "animal", control="vehicle")
    fig = timecourse_figure(cci, "log_threshold", "group", "time", "animal", ph,
                            control="vehicle")  # fmt: skip
    assert _assert_marks_clear(fig) == int((ph["p"] < 0.05).sum())


def test_marks_say_what_they_compare_and_legend_is_outside():
    data, ph = _crowded()
    fig = timecourse_figure(data, "y", "group", "time", "animal", ph, control="vehicle")
    fig.canvas.draw()
    legend = fig.axes[-1].get_legend()
    texts = [" ".join(t.get_text().split()) for t in legend.get_texts()]
    assert NOTE in texts
    box = legend.get_window_extent()
    for ax in fig.axes:
        assert not box.overlaps(ax.bbox), "the legend covers the data area"
    assert box.x1 <= fig.bbox.x1 and box.y0 >= fig.bbox.y0  # and is on the figure


def test_individual_animals_are_faint_points(cci):
    from matplotlib.collections import PathCollection

    fig = timecourse_figure(cci, "log_threshold", "group", "time", "animal")
    points = [c for c in fig.axes[0].collections if isinstance(c, PathCollection)]
    assert sum(len(c.get_offsets()) for c in points) == cci["log_threshold"].notna().sum()
    assert all(c.get_alpha() is not None and c.get_alpha() <= 0.5 for c in points)
    ys = np.sort(np.concatenate([c.get_offsets()[:, 1] for c in points]))
    np.testing.assert_allclose(ys, np.sort(cci["log_threshold"]))


def test_missing_cells_draw_with_n_per_point(cci):
    d = cci.copy()
    d = d.drop(index=d.index[(d["animal"] == d["animal"].iloc[0]) & (d["time"] == "h1")])
    d.loc[d.index[5], "log_threshold"] = np.nan  # a blank value
    d = d[~((d["group"] == "drug_low") & (d["time"] == "h2"))]  # an empty cell
    fig = timecourse_figure(d, "log_threshold", "group", "time", "animal")
    ax = fig.axes[0]
    counts = (d.dropna(subset=["log_threshold"]).groupby(["group", "time"]).size()
              .unstack(fill_value=0))  # fmt: skip
    order = [t.get_text() for t in ax.get_xticklabels()]  # first appearance: h1 last
    assert order == ["BL", "D14", "h0.5", "h2", "h4", "h1"]
    counts = counts.reindex(columns=order, fill_value=0)
    shown = [t.get_text() for t in ax.texts if t.get_text().isdigit()]
    expected = [str(n) for g in ["sham", "vehicle", "drug_low", "drug_high"]
                for n in counts.loc[g]]  # fmt: skip
    assert shown == expected
    labels = [t.get_text() for t in ax.get_legend().get_texts()]
    assert "drug_low (n = 7)" in labels
    lo, hi = counts.loc["sham"].min(), counts.loc["sham"].max()
    assert f"sham (n = {lo}–{hi})" in labels


def test_paw_panels_share_the_y_range(cci):
    ipsi = cci.assign(paw="ipsi")
    contra = cci.assign(paw="contra", log_threshold=cci["log_threshold"] * 0.3 + 0.9)
    both = pd.concat([contra, ipsi], ignore_index=True)
    ph = pd.concat([
        dunnett_by_time(d, "log_threshold", "group", "time", "animal", control="vehicle")
        .assign(paw=d["paw"].iloc[0]) for d in (ipsi, contra)])  # fmt: skip
    fig = timecourse_figure(both, "log_threshold", "group", "time", "animal", ph, paw="paw",
                            control="vehicle")  # fmt: skip
    assert [ax.get_title() for ax in fig.axes] == ["ipsilateral paw", "contralateral paw"]
    assert fig.axes[0].get_ylim() == fig.axes[1].get_ylim()
    _assert_marks_clear(fig)
    # the runner's separate figures per paw: share_ylim
    figs = [timecourse_figure(d, "log_threshold", "group", "time", "animal",
                              ph[ph["paw"] == d["paw"].iloc[0]].drop(columns="paw"))
            for d in (ipsi, contra)]  # fmt: skip
    assert figs[0].axes[0].get_ylim() != figs[1].axes[0].get_ylim()
    share_ylim(figs)
    assert figs[0].axes[0].get_ylim() == figs[1].axes[0].get_ylim()
    for f in figs:
        _assert_marks_clear(f)


def test_log10_values_on_a_gram_axis(cci):
    fig = timecourse_figure(cci, "log_threshold", "group", "time", "animal", log10=True,
                            ylabel="50% withdrawal threshold (g)")  # fmt: skip
    fig.canvas.draw()
    ax = fig.axes[0]
    assert ax.get_ylabel() == "50% withdrawal threshold (g)"
    ticks = [(t.get_position()[1], t.get_text()) for t in ax.get_yticklabels()
             if t.get_text()]  # fmt: skip
    assert len(ticks) >= 3
    for pos, text in ticks:
        grams = float(text)  # a plain number of grams, no log10, no minus sign
        assert grams > 0 and "−" not in text and "-" not in text
        assert pos == pytest.approx(np.log10(grams), abs=1e-9)
    lo, hi = ax.get_ylim()
    assert lo <= cci["log_threshold"].min() and hi >= cci["log_threshold"].max()


def test_von_frey_runner_asks_for_the_gram_axis():
    from nplab.assays.vonfrey import VonFrey

    ctx = SimpleNamespace(study=SimpleNamespace(analysis={}))
    assert VonFrey().figure_axis(ctx) == ("50% withdrawal threshold (g)", True)
    ctx = SimpleNamespace(study=SimpleNamespace(analysis={"log10_thresholds": False}))
    label, log10 = VonFrey().figure_axis(ctx)
    assert not log10 and label.startswith("threshold (g)")
