"""Figures of a patch-clamp concentration–response experiment.

* :func:`plot_traces` — one representative (last steady-state) sweep per concentration.
* :func:`plot_time_course` — per-sweep current against time with the solution periods
  drawn as shaded bands labelled with their concentration.
* :func:`plot_concentration_response` — fractional current per cell and concentration
  (log axis; controls drawn at an offset position marked "0"), mean ± SEM per
  concentration, the pooled fitted Hill curve and its 95% confidence band
  (delta method, :meth:`DoseResponseFit.predict_interval`).

Figures are reproducible files: PNG without date/software metadata, SVG with a fixed
hash salt and no date (:func:`save_figure`).
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab import figures
from nplab.errors import InputError

__all__ = [
    "FRACTION_LABEL",
    "cell_traces",
    "condition_label",
    "plot_concentration_response",
    "plot_time_course",
    "plot_traces",
    "save_figure",
]

_SALT = "nplab-ephys"

#: Axis label of the fractional current, typeset (mathtext): I/I_control.
FRACTION_LABEL = r"$I/I_\mathrm{control}$"


def condition_label(condition: Any, protocol: Any = None) -> str:
    """A readable name of a recording condition: ``"Nav1.7, inactivated state"``.

    From the condition's ``patchclamp`` protocol: its ``label`` parameter when it has
    one, else the channel (the ``target`` parameter up to a " / ") and the channel state
    named in the title (``"...inactivated-state block..."``); without a protocol, the
    condition as given.
    """
    import re

    if protocol is None:
        return str(condition)
    if protocol.get("label"):
        return str(protocol.get("label"))
    target = str(protocol.get("target") or "").split(" / ")[0].strip()
    head = str(protocol.title).split(":")[0].strip()
    state = re.search(r"\b([A-Za-z]+)-state\b", str(protocol.title))
    return ", ".join([target or head or str(condition)]
                     + ([f"{state.group(1).lower()} state"] if state else []))  # fmt: skip


def save_figure(fig: Any, path: str | os.PathLike[str]) -> Path:
    """Save ``fig`` atomically and reproducibly as PNG, SVG or PDF (by suffix; PNG when
    the name has none), see :mod:`nplab.figures`."""
    target = Path(path)
    fmt = None if target.suffix else "png"
    return figures.save_figure(fig, target, dpi=120, salt=_SALT, fmt=fmt)


def _figure(ax: Any, size: tuple[float, float]) -> tuple[Any, Any]:
    import matplotlib.pyplot as plt

    if ax is not None:
        return ax.figure, ax
    with figures.figure_style():
        fig, ax = plt.subplots(figsize=size)
    return fig, ax


def _finish(fig: Any, path: str | os.PathLike[str] | None, own: bool) -> Any:
    if own:
        fig.tight_layout()
    if path is not None:
        save_figure(fig, path)
    if own and path is not None:
        import matplotlib.pyplot as plt

        plt.close(fig)
    return fig


def _conc_label(conc: float) -> str:
    if not np.isfinite(conc):
        return "washout"
    if conc == 0:
        return "control"
    return f"{conc:g} µM" if conc >= 1 else f"{conc * 1000:g} nM"


def plot_traces(
    traces: Sequence[tuple[float, np.ndarray, np.ndarray]],
    *,
    units: str = "pA",
    title: str | None = None,
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
) -> Any:
    """Overlay one trace per concentration.

    Parameters
    ----------
    traces
        ``(conc_um, time_s, current)`` per solution period (control has conc 0,
        washout NaN); drawn dark to light with increasing concentration.
    units
        Current units for the y label.
    path
        Save the figure there (PNG/SVG/PDF) when given.
    ax
        Draw into this axes instead of a new figure.
    """
    if not traces:
        raise InputError("no traces to plot", expected="at least one (conc, t, y) trace")
    import matplotlib as mpl

    fig, ax_ = _figure(ax, (5.0, 3.5))
    cmap = mpl.colormaps["viridis"]
    n = len(traces)
    for k, (conc, t, y) in enumerate(traces):
        colour = "0.5" if not np.isfinite(conc) else cmap(k / max(n - 1, 1) * 0.9)
        ax_.plot(np.asarray(t) * 1e3, y, lw=0.8, color=colour, label=_conc_label(conc))
    ax_.set_xlabel("time (ms)")
    ax_.set_ylabel(f"current ({units})")
    ax_.legend(fontsize=7, frameon=False)
    if title:
        ax_.set_title(title, fontsize=9)
    return _finish(fig, path, ax is None)


def plot_time_course(
    sweeps: pd.DataFrame,
    cell: str,
    *,
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
) -> Any:
    """Per-sweep current of one cell against time, solution periods as shaded bands.

    ``sweeps`` is :attr:`IC50Result.sweeps` (``cell``, ``elapsed_s``, ``value``,
    ``status``, ``conc_um``, ``segment_order``, ``units``).  Failed sweeps are drawn
    as open grey markers.
    """
    g = sweeps[sweeps["cell"].astype(str) == str(cell)]
    if g.empty:
        raise InputError(f"no sweeps for cell {cell!r}", column="cell")
    fig, ax_ = _figure(ax, (6.0, 3.2))
    t_min = g["elapsed_s"].to_numpy(dtype=float) / 60.0
    ok = (g["status"].astype(str) == "ok").to_numpy()
    segs = list(g.groupby("segment_order", sort=True))
    drug_concs = sorted({float(c) for c in g["conc_um"] if np.isfinite(c) and c > 0})
    for k, (_, s) in enumerate(segs):
        t0 = s["elapsed_s"].min() / 60.0
        t1 = s["elapsed_s"].max() / 60.0
        nxt = segs[k + 1][1]["elapsed_s"].min() / 60.0 if k + 1 < len(segs) else t1
        conc = float(s["conc_um"].iloc[0])
        if conc > 0:  # darker blue for higher concentrations
            level = (drug_concs.index(conc) + 1) / len(drug_concs)
            shade = (1.0 - 0.35 * level, 1.0 - 0.25 * level, 1.0)
        else:
            shade = "0.93"
        ax_.axvspan(t0, max(nxt, t1), color=shade, lw=0, zorder=0)
        if k:
            ax_.axvline(t0, color="0.5", lw=0.6, ls="--", zorder=1)
        ax_.text((t0 + max(nxt, t1)) / 2, 1.0, _conc_label(conc), transform=ax_.get_xaxis_transform(),
                 ha="center", va="bottom", fontsize=7)
    v = g["value"].to_numpy(dtype=float)
    ax_.plot(t_min[ok], v[ok], "o", ms=3, color="k", zorder=2)
    if (~ok).any():
        ax_.plot(t_min[~ok], v[~ok], "o", ms=3, mfc="none", color="0.6", zorder=2)
    units = str(g["units"].iloc[0]) if "units" in g else ""
    ax_.set_xlabel("time (min)")
    ax_.set_ylabel(f"current ({units})")
    ax_.set_title(f"cell {cell}", fontsize=9, pad=14)
    return _finish(fig, path, ax is None)


def _hill(x: np.ndarray, row: Mapping[str, Any]) -> np.ndarray:
    bottom, top = float(row["bottom"]), float(row["top"])
    return bottom + (top - bottom) / (1.0 + (x / float(row["ic50_um"])) ** float(row["hill"]))


def plot_concentration_response(
    cells: pd.DataFrame,
    fits: pd.DataFrame,
    *,
    drug: str,
    condition: str,
    models: Mapping[tuple[str, str, str, str], Any] | None = None,
    level: str = "pooled_global",
    path: str | os.PathLike[str] | None = None,
    ax: Any = None,
    label: str | None = None,
) -> Any:
    """Fractional current against concentration with the pooled fit and its CI band.

    ``label`` names the condition in the title (default: ``condition``; see
    :func:`condition_label`).  The legend sits outside the axes.

    Cells that passed QC are drawn as small grey points (QC-failed cells as crosses),
    the mean ± SEM per concentration in black, and the ``level`` fit
    (``pooled_global``: the fit to all points, with its delta-method 95% band when the
    fit object is in ``models``; ``pooled_mean_log``: the Hill curve at the mean log
    IC50 and mean slope, no band).  The control (0 µM) is drawn at a position one
    decade below the lowest concentration and labelled "0".
    """
    sel = cells[(cells["drug"] == drug) & (cells["condition"] == condition)
                & cells["role"].isin(["drug", "control"])]
    if sel.empty:
        raise InputError(f"no data for drug {drug!r}, condition {condition!r}", column="drug")
    pos = sel["conc_um"][sel["conc_um"] > 0]
    if pos.empty:
        raise InputError("no drug concentrations > 0 to plot", column="conc_um")
    lo, hi = float(pos.min()), float(pos.max())
    zero_at = lo / 10.0
    fig, ax_ = _figure(ax, (6.5, 3.5))
    x_plot = np.where(sel["conc_um"] > 0, sel["conc_um"], zero_at)
    good = ((sel["cell_status"] == "ok") & (sel["status"] == "ok")).to_numpy()
    y = sel["fraction"].to_numpy(dtype=float)
    ax_.plot(x_plot[good], y[good], "o", ms=3, color="0.6", label="cells", zorder=2)
    if (~good).any():
        ax_.plot(x_plot[~good], y[~good], "x", ms=4, color="tab:red", label="QC failed", zorder=2)
    ok_rows = sel[good]
    summary = ok_rows.groupby("conc_um")["fraction"].agg(["mean", "sem", "count"]).reset_index()
    xs = np.where(summary["conc_um"] > 0, summary["conc_um"], zero_at)
    ax_.errorbar(xs, summary["mean"], yerr=summary["sem"].fillna(0.0), fmt="o", color="k",
                 ms=5, capsize=2, label="mean ± SEM", zorder=3)
    row = fits[(fits["drug"] == drug) & (fits["condition"] == condition) & (fits["level"] == level)]
    grid = np.logspace(np.log10(lo) - 0.5, np.log10(hi) + 0.5, 200)
    if len(row) and bool(row["success"].iloc[0]):
        r = row.iloc[0]
        model = (models or {}).get((drug, condition, level, ""))
        if model is not None and hasattr(model, "predict_interval"):
            band = model.predict_interval(grid)
            ax_.fill_between(grid, band["ci_low"], band["ci_high"], color="tab:blue", alpha=0.2,
                             lw=0, label="95% CI")
            ax_.plot(grid, band["fit"], color="tab:blue", lw=1.5,
                     label=f"fit: IC50 {r['ic50_um']:.3g} µM")
        else:
            ax_.plot(grid, _hill(grid, r), color="tab:blue", lw=1.5,
                     label=f"{level}: IC50 {r['ic50_um']:.3g} µM")
    ax_.set_xscale("log")
    ticks = [zero_at, *[10.0**k for k in range(int(np.floor(np.log10(lo))), int(np.ceil(np.log10(hi))) + 1)]]
    ax_.set_xticks(ticks)
    ax_.set_xticklabels(["0", *[f"{t:g}" for t in ticks[1:]]])
    ax_.axvline(np.sqrt(zero_at * lo), color="0.8", lw=0.8, ls=":")
    ax_.set_xlabel(f"{drug} (µM)")
    ax_.set_ylabel(FRACTION_LABEL)
    name = label or (condition_label(condition) if condition else "")
    ax_.set_title(f"{drug}, {name}" if name else drug, fontsize=9)
    ax_.legend(fontsize=7, frameon=False, loc="upper left", bbox_to_anchor=(1.02, 1.0),
               borderaxespad=0.0)
    return _finish(fig, path, ax is None)


def cell_traces(
    cells: pd.DataFrame,
    cell: str,
    *,
    base_dir: str | os.PathLike[str] | None = None,
    channel: int = 0,
) -> list[tuple[float, np.ndarray, np.ndarray]]:
    """The last steady-state sweep of each solution period of ``cell``, read from its ABF.

    Returns ``(conc_um, time_s, current)`` tuples for :func:`plot_traces`; periods without
    usable sweeps are skipped.
    """
    from nplab.ephys.abf import read_abf

    rows = cells[(cells["cell"].astype(str) == str(cell)) & (cells["last_sweep"] >= 0)]
    out: list[tuple[float, np.ndarray, np.ndarray]] = []
    recs: dict[str, Any] = {}
    for _, r in rows.sort_values("segment_order").iterrows():
        f = str(r["file"])
        p = Path(f) if base_dir is None or Path(f).is_absolute() else Path(base_dir) / f
        if f not in recs:
            recs[f] = read_abf(p)
        rec = recs[f]
        i = int(r["last_sweep"])
        out.append((float(r["conc_um"]), rec.sweep_time(i), rec.sweep(i, channel=channel)))
    return out
