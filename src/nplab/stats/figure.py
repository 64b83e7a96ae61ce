"""The time-course figure: mean ± SEM per group over time, animals as faint points.

The figure is descriptive and never needs complete data: mean, SEM (SD / √n, n − 1 in
the SD) and n are computed per group × time point (× paw) from the animals present, an
empty cell is a gap in the line, and n is said per point (in the legend, and in a row
of counts under the time axis wherever n varies).  Post hoc marks (``*`` p < 0.05,
``**`` p < 0.01, ``***`` p < 0.001, as in GraphPad Prism) are placed above everything
drawn at their time point — means, error bars, caps, individual animals and the line
segments passing under the mark — stacked per group, so they never collide with each
other or with the data; the legend says what they compare.  The legend sits outside
the axes.  Paw (ipsi / contra) can be a panel (``paw=``); panels share the y range, and
:func:`share_ylim` gives separately drawn figures (the study runner's one figure per paw)
the same y range.  Values analysed on log10 (von Frey thresholds; Mills et al. 2012,
Weber's law) are drawn on their log scale with tick labels in the original unit.
The style is :data:`nplab.figures.STYLE`.
"""

from __future__ import annotations

import textwrap
import weakref
from collections.abc import Iterable, Sequence
from typing import Any

import numpy as np
import pandas as pd

from nplab.errors import InputError
from nplab.stats._design import check_frame, levels_of, numeric_dv

__all__ = ["marks_note", "share_ylim", "timecourse_figure"]

#: Paw panels in this order when the paw column holds nplab's paw names.
_PAW_ORDER = ("ipsi", "contra", "whole")
_PAW_TITLE = {"ipsi": "ipsilateral paw", "contra": "contralateral paw", "whole": "whole animal"}

# mark Texts of each axes, in placing order (time point, then group)
_MARKS: weakref.WeakKeyDictionary[Any, list[Any]] = weakref.WeakKeyDictionary()

_ROW_PT = 9.0  # height of one row of n counts under the axis (points)
_FIRST_ROW_PT = 19.0  # below the tick labels


def _stars(p: float) -> str:
    if not np.isfinite(p):
        return ""
    return "***" if p < 0.001 else "**" if p < 0.01 else "*" if p < 0.05 else ""


def marks_note(control: str | None = None, method: str = "Dunnett") -> str:
    """What the marks compare: ``"* p < 0.05, ** p < 0.01, *** p < 0.001 vs <control>,
    <method> at each time point"`` (figure legends and captions)."""
    vs = f" vs {control}" if control is not None else " vs control"
    return f"* p < 0.05, ** p < 0.01, *** p < 0.001{vs}, {method} at each time point"


def _wrap(text: str, width: int) -> str:
    """Break ``text`` into lines at its ", " (and then spaces) of at most ``width``."""
    lines: list[str] = []
    for chunk in text.split(", "):
        if lines and len(lines[-1]) + 2 + len(chunk) <= width:
            lines[-1] += ", " + chunk
        else:
            if lines:
                lines[-1] += ","
            lines.extend(textwrap.wrap(chunk, width) or [""])
    return "\n".join(lines)


def _positions(levels: list) -> tuple[np.ndarray, bool]:
    numeric = all(isinstance(v, int | float | np.integer | np.floating)
                  and not isinstance(v, bool) for v in levels)  # fmt: skip
    x = np.asarray(levels, dtype=float) if numeric else np.arange(len(levels), dtype=float)
    return x, numeric


def _cell_stats(values: np.ndarray) -> tuple[int, float, float]:
    v = values[np.isfinite(values)]
    n = len(v)
    if n == 0:
        return 0, np.nan, np.nan
    return n, float(v.mean()), float(v.std(ddof=1) / np.sqrt(n)) if n > 1 else 0.0


def _n_text(ns: Iterable[int]) -> str:
    vals = [n for n in ns if n > 0]
    if not vals:
        return "n = 0"
    lo, hi = min(vals), max(vals)
    return f"n = {lo}" if lo == hi else f"n = {lo}–{hi}"


def timecourse_figure(
    data: pd.DataFrame,
    dv: str,
    between: str,
    within: str,
    subject: str,
    posthoc: pd.DataFrame | None = None,
    *,
    alpha: float = 0.05,
    ylabel: str | None = None,
    title: str | None = None,
    control: str | None = None,
    method: str = "Dunnett",
    paw: str | None = None,
    log10: bool = False,
    levels: dict[str, Sequence] | None = None,
) -> Any:
    """Mean ± SEM per group over ``within``, individual animals as faint points.

    Parameters
    ----------
    data
        Long format, one row per animal × time point (× paw); missing rows and blank
        values are allowed (the figure is descriptive).
    dv, between, within, subject
        Columns: the value, the group, the time point and the animal.
    posthoc
        Optional table with ``group``, ``p`` and ``<within>`` columns (and ``<paw>`` when
        ``paw`` is given), e.g. :func:`nplab.stats.dunnett_by_time`; a group with
        p < ``alpha`` at a time point gets ``*``/``**``/``***`` in its colour.
    alpha
        Marks only where p < alpha.
    ylabel, title
        Axis label (default ``"<dv>, mean ± SEM"``) and title.
    control, method
        Named in the legend's note on the marks (:func:`marks_note`).
    paw
        Column drawn as panels (``ipsi``, ``contra`` ... in that order) sharing the y
        range; ``None``: one panel.
    log10
        ``dv`` holds log10 values: the axis stays linear in them (means and SEMs are of
        the logs) but is labelled in the original unit (``10**y``: 0.4, 1, 2, 4 ... g).
    levels
        Level order per column (``{"timepoint": [...], "group": [...]}``); default the
        order of first appearance, as in :mod:`nplab.stats`.  Numeric time points are
        positions on the x axis and drawn left to right whatever their order.

    Returns
    -------
    matplotlib.figure.Figure
        Laid out; save it with :func:`nplab.figures.save_figure`.
    """
    from matplotlib.backends.backend_agg import FigureCanvasAgg
    from matplotlib.figure import Figure
    from matplotlib.lines import Line2D

    from nplab.figures import figure_style

    check_frame(data, [dv, between, within, subject, paw])
    y_all = numeric_dv(data, dv, allow_missing=True)
    given = levels or {}
    groups = levels_of(data[between], between, data, given.get(between))
    times = levels_of(data[within], within, data, given.get(within))
    if paw is None:
        panels: list = [None]
        paw_of = np.full(len(data), None, dtype=object)
    else:
        found = levels_of(data[paw], paw, data)
        panels = sorted(found, key=lambda p: (_PAW_ORDER.index(p) if p in _PAW_ORDER else 99))
        paw_of = data[paw].to_numpy(dtype=object)
    marked = _marks_table(posthoc, within, paw)
    g_of = data[between].to_numpy(dtype=object)
    t_of = data[within].astype(str).to_numpy()
    x, numeric = _positions(times)
    if numeric:  # a numeric time axis is drawn left to right (lines join neighbours in time)
        order = np.argsort(x, kind="stable")
        times, x = [times[i] for i in order], x[order]
    spacing = float(np.min(np.diff(np.sort(x)))) if len(x) > 1 else 1.0
    n_g = len(groups)
    dodge = spacing * min(0.1, 0.5 / max(n_g, 1))
    offsets = (np.arange(n_g) - (n_g - 1) / 2) * dodge
    spread = 0.35 * (dodge if n_g > 1 else 0.1 * spacing)

    # per panel × group: n, mean, sem per time point and the animals' values
    cells: dict[tuple[Any, int], tuple[np.ndarray, np.ndarray, np.ndarray]] = {}
    points: dict[tuple[Any, int], tuple[np.ndarray, np.ndarray]] = {}
    for pw in panels:
        in_panel = np.ones(len(data), bool) if pw is None else paw_of == pw
        for gi, g in enumerate(groups):
            sel = in_panel & (g_of == g)
            stats, px, py = [], [], []
            for j, t in enumerate(times):
                v = y_all[sel & (t_of == str(t))]
                stats.append(_cell_stats(v))
                v = v[np.isfinite(v)]
                px.extend(x[j] + offsets[gi] + (np.linspace(-spread, spread, len(v))
                                                if len(v) > 1 else np.zeros(len(v))))
                py.extend(v)
            arr = np.array(stats, dtype=float).reshape(len(times), 3)
            cells[pw, gi] = (arr[:, 0].astype(int), arr[:, 1], arr[:, 2])
            points[pw, gi] = (np.asarray(px), np.asarray(py))
    ns = {gi: [n for pw in panels for n in cells[pw, gi][0]] for gi in range(n_g)}
    n_varies = any(len(set(v)) > 1 for v in ns.values())

    rows = n_g if n_varies else 0
    labels = [f"{g} ({_n_text(ns[gi])})" for gi, g in enumerate(groups)]
    chars = max([28, *(len(lab) for lab in labels)])
    width = 3.4 * len(panels) + 0.5 + 0.068 * chars  # legend: ~0.068 in per 8 pt character
    height = 3.6 + rows * _ROW_PT / 72
    with figure_style():
        fig = Figure(figsize=(width, height))
        FigureCanvasAgg(fig)
        axes = fig.subplots(1, len(panels), sharey=True, squeeze=False)[0]
        colours = [f"C{i % 10}" for i in range(n_g)]
        lows, highs = [], []
        for ax, pw in zip(axes, panels, strict=True):
            for gi in range(n_g):
                n, mean, sem = cells[pw, gi]
                px, py = points[pw, gi]
                ax.scatter(px, py, s=9, color=colours[gi], alpha=0.3, lw=0, zorder=1)
                ax.errorbar(x + offsets[gi], mean, yerr=sem, marker="o", ms=4, capsize=3,
                            lw=1.5, color=colours[gi], zorder=3, label=labels[gi])
                lows.extend([*py, *(mean - sem)])
                highs.extend([*py, *(mean + sem)])
                if n_varies:
                    _n_row(ax, x, n, gi, colours[gi])
            _add_marks(ax, marked, pw, groups, times, x, colours, alpha, within, paw)
            if not numeric:
                ax.set_xticks(x, [str(t) for t in times])
            ax.set_xlim(x.min() - 0.5 * spacing, x.max() + 0.5 * spacing)
            ax.set_xlabel(within, labelpad=4.0 + rows * _ROW_PT)
            if pw is not None:
                ax.set_title(_PAW_TITLE.get(pw, str(pw)))
        finite = [v for v in (*lows, *highs) if np.isfinite(v)]
        lo, hi = (min(finite), max(finite)) if finite else (0.0, 1.0)
        pad = 0.05 * (hi - lo) if hi > lo else 0.5
        axes[0].set_ylim(lo - pad, hi + pad)
        axes[0].set_ylabel(ylabel or f"{dv}, mean ± SEM")
        if log10:
            _unit_ticks(axes[0])
        if n_varies:
            for gi in range(n_g):
                axes[0].annotate("n", xy=(0, 0), xycoords="axes fraction", xytext=(
                    -4, -(_FIRST_ROW_PT + gi * _ROW_PT)), textcoords="offset points",
                    ha="right", va="top", fontsize=7, color=colours[gi])  # fmt: skip
        if title:
            if len(panels) > 1:
                fig.suptitle(title)
            else:
                axes[0].set_title(title)
        handles, entries = axes[-1].get_legend_handles_labels()
        handles.append(Line2D([], [], ls="none", marker="o", ms=3, color="0.4", alpha=0.4))
        entries.append("individual animals")
        if marked is not None:
            handles.append(Line2D([], [], ls="none"))
            entries.append(_wrap(marks_note(control, method), chars))
        axes[-1].legend(handles, entries, loc="upper left", bbox_to_anchor=(1.03, 1.0),
                        borderaxespad=0.0, handlelength=1.5)  # fmt: skip
        _fit(fig)
    return fig


def _marks_table(posthoc: pd.DataFrame | None, within: str, paw: str | None) -> Any:
    if posthoc is None:
        return None
    need = {"group", "p", within} | ({paw} if paw else set())
    if not isinstance(posthoc, pd.DataFrame) or not need <= set(posthoc.columns):
        raise InputError("the post hoc table lacks the columns the figure marks by",
                         column="posthoc", expected=", ".join(sorted(need)))  # fmt: skip
    return posthoc


def _add_marks(ax, marked, pw, groups, times, x, colours, alpha, within, paw) -> None:
    if marked is None:
        return
    rows = marked if paw is None else marked[marked[paw].astype(str) == str(pw)]
    texts = []
    for j, t in enumerate(times):
        at = rows[rows[within].astype(str) == str(t)]
        for gi, g in enumerate(groups):
            p = at.loc[at["group"].astype(str) == str(g), "p"]
            if p.empty or not np.isfinite(p.iloc[0]) or p.iloc[0] >= alpha:
                continue
            mark = ax.text(x[j], 0.0, _stars(float(p.iloc[0])), ha="center", va="bottom",
                           color=colours[gi], fontsize=9, zorder=5)
            mark.set_in_layout(False)  # placed inside the axes by _fit
            texts.append(mark)
    _MARKS[ax] = texts


def _n_row(ax, x, n, gi, colour) -> None:
    for xj, nj in zip(x, n, strict=True):
        ax.annotate(str(nj), xy=(xj, 0), xycoords=("data", "axes fraction"),
                    xytext=(0, -(_FIRST_ROW_PT + gi * _ROW_PT)), textcoords="offset points",
                    ha="center", va="top", fontsize=7, color=colour,
                    annotation_clip=False)  # fmt: skip


def _unit_ticks(ax) -> None:
    """Ticks at round values of 10**y, labelled in that unit (no negative log numbers)."""
    from matplotlib.ticker import FuncFormatter, Locator, NullLocator

    class _Round(Locator):
        def __call__(self):
            lo, hi = self.axis.get_view_interval()
            return self.tick_values(lo, hi)

        def tick_values(self, vmin, vmax):
            for mantissas in ((1.0,), (1.0, 2.0, 5.0), (1.0, 2.0, 4.0, 6.0, 8.0),
                              tuple(float(m) for m in range(1, 10))):  # fmt: skip
                ticks = [np.log10(m) + k for k in range(int(np.floor(vmin)) - 1,
                                                        int(np.ceil(vmax)) + 1)
                         for m in mantissas]  # fmt: skip
                ticks = [t for t in ticks if vmin <= t <= vmax]
                if len(ticks) >= 4:
                    return np.array(ticks)
            return np.array(ticks)

    ax.yaxis.set_major_locator(_Round())
    ax.yaxis.set_minor_locator(NullLocator())
    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _pos: f"{10.0 ** v:.3g}"))


# ---------------------------------------------------------------------- placing the marks


def _obstacles(ax, renderer) -> tuple[np.ndarray, np.ndarray]:
    """Segments (x0, y0, x1, y1) and boxes (x0, y0, x1, y1) of the drawn data, in pixels."""
    from matplotlib.collections import LineCollection, PathCollection

    px = renderer.points_to_pixels(1.0)
    segs, boxes = [], []

    def add_segments(xy: np.ndarray, lw: float) -> None:
        ok = np.isfinite(xy).all(axis=1)
        both = ok[:-1] & ok[1:]
        half = lw * px / 2
        for a, b in zip(xy[:-1][both], xy[1:][both], strict=True):
            segs.append((a[0], a[1] + half, b[0], b[1] + half))

    for line in ax.lines:
        if not line.get_visible():
            continue
        xy = line.get_transform().transform(line.get_xydata())
        if line.get_linestyle() not in ("None", "none", "", " "):
            add_segments(xy, line.get_linewidth())
        if line.get_marker() not in (None, "None", "none", "", " "):
            half = (line.get_markersize() / 2 + line.get_markeredgewidth()) * px
            for a in xy[np.isfinite(xy).all(axis=1)]:
                boxes.append((a[0] - half, a[1] - half, a[0] + half, a[1] + half))
    for coll in ax.collections:
        if isinstance(coll, LineCollection):
            lw = float(np.max(coll.get_linewidths())) if len(coll.get_linewidths()) else 1.0
            for seg in coll.get_segments():
                add_segments(coll.get_transform().transform(np.asarray(seg)), lw)
        elif isinstance(coll, PathCollection):
            offs = coll.get_offset_transform().transform(coll.get_offsets())
            sizes = coll.get_sizes()
            r = (np.sqrt(sizes.max()) / 2 if len(sizes) else 3.0) * px
            for a in offs[np.isfinite(offs).all(axis=1)]:
                boxes.append((a[0] - r, a[1] - r, a[0] + r, a[1] + r))
    return np.array(segs, float).reshape(-1, 4), np.array(boxes, float).reshape(-1, 4)


def _envelope(segs: np.ndarray, boxes: np.ndarray, lo: float, hi: float) -> float:
    """Highest pixel y of any segment or box over the x interval [lo, hi]."""
    best = -np.inf
    if len(segs):
        xa, ya, xb, yb = segs.T
        left, right = np.minimum(xa, xb), np.maximum(xa, xb)
        sel = (right >= lo) & (left <= hi)
        if sel.any():
            xa, ya, xb, yb, left, right = (v[sel] for v in (xa, ya, xb, yb, left, right))
            dx = np.where(xb != xa, xb - xa, 1.0)
            at = [np.clip(lo, left, right), np.clip(hi, left, right)]
            ys = [np.where(xb != xa, ya + (a - xa) / dx * (yb - ya), np.maximum(ya, yb))
                  for a in at]  # fmt: skip
            best = max(best, float(np.max(ys)))
    if len(boxes):
        sel = (boxes[:, 2] >= lo) & (boxes[:, 0] <= hi)
        if sel.any():
            best = max(best, float(boxes[sel, 3].max()))
    return best


def _place_marks(ax, renderer) -> tuple[float, float] | None:
    """Put each mark just above everything under it; return the top of the highest mark
    and the height (px) it rests on (None: no marks)."""
    marks = _MARKS.get(ax, [])
    if not marks:
        return None
    segs, boxes = _obstacles(ax, renderer)
    pad = renderer.points_to_pixels(1.5)
    placed: list[tuple[float, float, float, float]] = []
    lo_data = ax.get_ylim()[0]
    inverse = ax.transData.inverted()
    top, rest = -np.inf, np.nan
    for t in marks:
        xd = t.get_position()[0]
        t.set_y(lo_data)
        bb = t.get_window_extent(renderer)
        x0, x1 = bb.x0 - pad, bb.x1 + pad
        base = _envelope(segs, np.vstack([boxes, np.array(placed, float).reshape(-1, 4)]),
                         x0, x1)  # fmt: skip
        if not np.isfinite(base):
            base = ax.bbox.y0
        t.set_y(float(inverse.transform((ax.transData.transform((xd, 0))[0], base + pad))[1]))
        bb = t.get_window_extent(renderer)
        placed.append((bb.x0, bb.y0, bb.x1, bb.y1))
        if bb.y1 > top:
            top, rest = bb.y1, base
    return top, rest


def _fit(fig) -> bool:
    """Lay out ``fig`` and raise the y limit until every mark fits; True if it grew.

    The marks are fitted to a fixed layout first; the layout is then redone once (the new
    limit may change the tick labels, hence the axes) and checked again, so a figure is
    typically laid out twice.
    """
    grew_any = False
    for _ in range(6):
        fig.tight_layout()
        renderer = fig.canvas.get_renderer()
        grew = False
        for _ in range(12):
            if not any([_raise_for_marks(ax, renderer) for ax in fig.axes]):
                break
            grew = True
        if not grew:
            break
        grew_any = True
    return grew_any


def _raise_for_marks(ax, renderer) -> bool:
    """Raise ``ax``'s upper y limit so that its highest mark fits; True if it did.

    The mark keeps its height in pixels while what it rests on (data) comes down in
    proportion to the y range ``R``: with the mark resting at ``b`` px above the axes'
    bottom and ``m`` px tall, it fits under the limit ``L`` when the range is
    ``R·b/(L − m)``.  (Marks stacked on marks rest partly on pixels, so the step may fall
    short; the caller repeats.)
    """
    placed = _place_marks(ax, renderer)
    if placed is None:
        return False
    top, rest = placed
    limit = ax.bbox.y1 - renderer.points_to_pixels(2.0)
    if top <= limit:
        return False
    lo, hi = ax.get_ylim()
    y0, height = ax.bbox.y0, max(ax.bbox.height, 1.0)
    room = limit - (top - rest) - y0
    if np.isfinite(rest) and room > 0.05 * height and rest > y0:
        new_hi = lo + 1.01 * (hi - lo) * (rest - y0) / room
    else:
        new_hi = hi + 1.15 * (top - limit) * (hi - lo) / height
    ax.set_ylim(lo, max(new_hi, hi + 1e-9 * max(abs(hi), 1.0)))
    return True


def share_ylim(figures: Sequence[Any]) -> None:
    """Give every axes of ``figures`` (e.g. the ipsi and the contra figure) the same y
    range: the union of their ranges, with room for every figure's marks."""
    axes = [ax for fig in figures for ax in fig.axes]
    if len(axes) < 2:
        return
    for _ in range(12):
        lims = np.array([ax.get_ylim() for ax in axes])
        lo, hi = float(lims[:, 0].min()), float(lims[:, 1].max())
        for ax in axes:
            ax.set_ylim(lo, hi)
        with _style():
            grew = [_fit(fig) for fig in figures]
        if not any(grew):
            break


def _style():
    from nplab.figures import figure_style

    return figure_style()
