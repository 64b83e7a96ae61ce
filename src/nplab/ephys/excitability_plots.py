"""Figures of a current-clamp excitability analysis (issue 15, item 5).

* :func:`rheobase_traces` — membrane potential of each chosen cell at rheobase and at
  2× rheobase (the step whose current is nearest 2 × rheobase; the largest step when the
  family stops short of it, labelled with its real current).  Ramp cells: the ramp
  sweep with the first spike.
* :func:`phase_plot` — phase plane (dV/dt against V) of the first spike at rheobase,
  one line per chosen cell (coloured by group); dV/dt by central differences in mV/ms,
  as in :mod:`nplab.ephys.spikes`.
* :func:`fi_curves` — f–I curves: per group the mean over animals of each animal's
  mean rate per step current (± SEM across animals: the animal is the unit), or one
  curve per cell when no grouping column is present.
* :func:`representative_cells` — one cell per group: the analysed cell whose rheobase
  is nearest the group median (ties: the first in table order).
* :func:`excitability_figures` — all three written to a folder (``nplab ephys
  excitability --figures DIR``).

Traces are re-read from the recordings named in the result's ``file`` column with the
result's protocol (voltage channel, liquid-junction correction) and units override, so
a figure shows the same voltages the tables were measured on.  Files are written with
:func:`nplab.figures.save_figure` (identical inputs give identical bytes).

References: Bean BP (2007) Nat Rev Neurosci 8:451–465 (phase plots of the action
potential); Gouwens NW et al. (2019) Nat Neurosci 22:1182–1195 (traces at rheobase and
above as the standard excitability panel).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = [
    "FIGURE_NAMES",
    "excitability_figures",
    "fi_curves",
    "phase_plot",
    "representative_cells",
    "rheobase_sweeps",
    "rheobase_traces",
]

#: Base names of the files :func:`excitability_figures` writes.
FIGURE_NAMES = ("excitability_fi", "excitability_traces", "excitability_phase")

Label = Callable[[Any], str] | None


def _label(group: Any, label: Label) -> str:
    return label(group) if label is not None else str(group)


def _analysed(cells: pd.DataFrame) -> pd.DataFrame:
    return cells[cells["status"] != "failed"]


def representative_cells(
    cells: pd.DataFrame, by: str | None = "group", measure: str = "rheobase_pa"
) -> pd.DataFrame:
    """The cells to draw: per ``by`` group the analysed cell whose ``measure`` is nearest
    the group median (ties: the first in table order); every analysed cell with a finite
    ``measure`` when ``by`` is ``None`` or not a column.  Failed cells never qualify."""
    ok = _analysed(cells)
    ok = ok[np.isfinite(pd.to_numeric(ok[measure], errors="coerce"))]
    if by is None or by not in ok.columns:
        return ok
    picks = []
    for _g, d in ok.groupby(by, sort=True):
        x = d[measure].to_numpy(float)
        picks.append(d.index[int(np.argmin(np.abs(x - np.median(x))))])
    return ok.loc[picks]


def rheobase_sweeps(cell: pd.Series, sweeps: pd.DataFrame) -> list[tuple[int, float, str]]:
    """``(sweep, current_pa, label)`` of the sweeps drawn for ``cell``: the rheobase
    sweep and the one nearest 2 × rheobase (step families), or the ramp sweep with the
    first spike (ramps).  Empty when the cell has no rheobase."""
    rb = float(cell["rheobase_pa"])
    sw = sweeps[sweeps["file"] == cell["file"]]
    if not np.isfinite(rb) or sw.empty:
        return []
    if cell["recording"] == "ramp":
        firing = sw[sw["n_spikes"] > 0]
        if firing.empty:
            return []
        s = firing.iloc[0]
        return [(int(s["sweep"]), rb, f"ramp, first spike at {rb:.0f} pA")]
    cur = sw["current_pa"].to_numpy(float)
    at = sw.iloc[int(np.flatnonzero(cur == rb)[0])]
    out = [(int(at["sweep"]), rb, f"rheobase {rb:g} pA")]
    k = int(np.argmin(np.abs(cur - 2 * rb)))
    if cur[k] > rb:
        ratio = cur[k] / rb
        out.append((int(sw.iloc[k]["sweep"]), float(cur[k]), f"{cur[k]:g} pA ({ratio:.2g}× rheobase)"))
    return out


class _Traces:
    """Re-reads sweeps in mV exactly as :func:`~nplab.ephys.excitability.excitability`
    measured them (voltage channel, unit scale, LJP correction); caches recordings."""

    def __init__(self, res: Any) -> None:
        self.params = res.protocol.params
        self.units = (res.parameters or {}).get("units")
        self._recs: dict[str, Any] = {}

    def __call__(self, file: str, sweep: int) -> tuple[np.ndarray, float]:
        from nplab.ephys.abf import read_abf, unit_scale
        from nplab.ephys.excitability import _voltage_channel

        rec = self._recs.get(file)
        if rec is None:
            rec = self._recs[file] = read_abf(file, units=self.units)
        ch = _voltage_channel(rec, self.params)
        factor = unit_scale(rec.units[ch])[1]  # type: ignore[index]
        v = rec.sweep_view(sweep, ch).astype(np.float64) * factor - self.params["ljp_mv"]
        return v, rec.sample_rate


def _grid(n: int, ncols: int, panel: tuple[float, float]) -> tuple[Any, np.ndarray]:
    import matplotlib.pyplot as plt

    ncols = max(1, min(ncols, n))
    nrows = -(-n // ncols)
    fig, axes = plt.subplots(nrows, ncols, figsize=(panel[0] * ncols, panel[1] * nrows),
                             squeeze=False, sharey=True)
    for ax in axes.flat[n:]:
        ax.set_visible(False)
    return fig, axes.flat[:n]


def _title(cell: pd.Series, by: str | None, label: Label) -> str:
    head = str(cell["cell"])
    if by is not None and by in cell.index:
        head = f"{_label(cell[by], label)}: {head}"
    return head


def _empty(message: str) -> Any:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.0, 2.0))
    ax.text(0.5, 0.5, message, ha="center", va="center", fontsize=9)
    ax.set_axis_off()
    return fig


def rheobase_traces(
    res: Any,
    cells: pd.DataFrame | None = None,
    *,
    by: str | None = "group",
    label: Label = None,
    ncols: int = 3,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Traces at rheobase and 2× rheobase, one panel per cell.

    Parameters
    ----------
    res
        :class:`~nplab.ephys.excitability.ExcitabilityResult`.
    cells
        Rows of ``res.cells`` to draw; default :func:`representative_cells` by ``by``.
    by, label
        Grouping column shown in the panel titles and its display names.
    path
        Also save the figure there (PNG/SVG/PDF by suffix).

    Returns
    -------
    matplotlib.figure.Figure
    """
    chosen = representative_cells(res.cells, by) if cells is None else cells
    panels = [(c, rheobase_sweeps(c, res.sweeps)) for _, c in chosen.iterrows()]
    panels = [(c, s) for c, s in panels if s]
    if not panels:
        return _finish(_empty("no cell with a rheobase to draw"), path)
    read = _Traces(res)
    fig, axes = _grid(len(panels), ncols, (3.6, 2.6))
    for ax, (cell, picks) in zip(axes, panels, strict=True):
        for k, (sweep, _cur, text) in enumerate(picks):
            v, fs = read(cell["file"], sweep)
            ax.plot(np.arange(v.size) / fs * 1e3, v, lw=0.7, color=("C0", "C3")[k % 2], label=text)
        ax.set_title(_title(cell, by, label), fontsize=8)
        ax.set_xlabel("time (ms)")
        ax.legend(fontsize=6, frameon=False, loc="upper right")
    axes[0].set_ylabel("membrane potential (mV)")
    return _finish(fig, path)


def _first_spike(res: Any, cell: pd.Series, sweep: int) -> tuple[pd.Series | None, float]:
    """The first in-step spike of ``sweep`` and the next spike's onset (its threshold
    time, else its peak; inf if none)."""
    spk = res.spikes
    if spk is None or spk.empty:
        return None, np.inf
    sel = spk[(spk["file"] == cell["file"]) & (spk["sweep"] == sweep) & spk["in_step"].astype(bool)]
    if sel.empty:
        return None, np.inf
    if len(sel) < 2:
        return sel.iloc[0], np.inf
    nxt = sel.iloc[1]
    t = nxt["threshold_time_s"]
    return sel.iloc[0], float(t if np.isfinite(t) else nxt["peak_time_s"])


def phase_plot(
    res: Any,
    cells: pd.DataFrame | None = None,
    *,
    by: str | None = "group",
    label: Label = None,
    before_ms: float = 2.0,
    after_ms: float = 8.0,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """Phase plot (dV/dt against V) of the first spike at rheobase of each cell.

    The window runs from ``before_ms`` before the spike's threshold to ``after_ms``
    after its peak (cut at the next spike's onset).  Lines are coloured by ``by`` group when
    that column exists, else one colour per cell.  Parameters as :func:`rheobase_traces`.
    """
    chosen = representative_cells(res.cells, by) if cells is None else cells
    read = _Traces(res)
    groups = sorted(chosen[by].astype(str).unique()) if by is not None and by in chosen.columns else []
    lines = []
    for i, (_, cell) in enumerate(chosen.iterrows()):
        picks = rheobase_sweeps(cell, res.sweeps)
        spike, nxt = _first_spike(res, cell, picks[0][0]) if picks else (None, np.inf)
        if spike is None:
            continue
        v, fs = read(cell["file"], picks[0][0])
        t0 = spike["threshold_time_s"] if np.isfinite(spike["threshold_time_s"]) else spike["peak_time_s"]
        a = max(0, round((t0 - before_ms / 1e3) * fs))
        b = min(v.size, round((spike["peak_time_s"] + after_ms / 1e3) * fs) + 1)
        if np.isfinite(nxt):
            b = min(b, round(nxt * fs))
        dvdt = np.gradient(v) * fs / 1e3
        colour = f"C{groups.index(str(cell[by])) % 10}" if groups else f"C{i % 10}"
        lines.append((cell, v[a:b], dvdt[a:b], colour))
    if not lines:
        return _finish(_empty("no spike at rheobase to draw"), path)
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(4.5, 3.8))
    for cell, vv, dd, colour in lines:
        ax.plot(vv, dd, lw=0.8, color=colour, label=_title(cell, by if groups else None, label))
    ax.axhline(0.0, color="0.6", lw=0.5)
    ax.set_xlabel("membrane potential (mV)")
    ax.set_ylabel("dV/dt (mV/ms)")
    ax.set_title("first spike at rheobase", fontsize=9)
    ax.legend(fontsize=6, frameon=False)
    return _finish(fig, path)


def fi_curves(
    cells: pd.DataFrame,
    sweeps: pd.DataFrame,
    *,
    by: str | None = "group",
    label: Label = None,
    path: str | os.PathLike[str] | None = None,
) -> Any:
    """f–I curves: firing rate against step current.

    With a ``by`` column (and ``animal``): per group the mean over animals of each
    animal's mean rate per current, ± SEM across animals (n animals in the legend).
    Otherwise one curve per analysed step-family cell.
    """
    import matplotlib.pyplot as plt

    ok = _analysed(cells)
    ok = ok[ok["recording"] == "steps"]
    sw = sweeps[sweeps["file"].isin(set(ok["file"]))]
    fig, ax = plt.subplots(figsize=(6.0, 4.0))
    if by is not None and by in sw.columns and "animal" in sw.columns:
        for i, (g, d) in enumerate(sw.groupby(by, sort=True)):
            per_animal = d.groupby(["animal", "current_pa"])["firing_hz"].mean().unstack("animal")
            m = per_animal.mean(axis=1)
            se = per_animal.std(axis=1, ddof=1) / np.sqrt(per_animal.notna().sum(axis=1))
            ax.errorbar(m.index, m.to_numpy(), yerr=se.to_numpy(), color=f"C{i % 10}", marker="o",
                        ms=3, capsize=2,
                        label=f"{_label(g, label)} (n = {per_animal.shape[1]} animals)")
    else:
        for i, (f, d) in enumerate(sw.groupby("file", sort=False)):
            d = d.sort_values("current_pa", kind="stable")
            ax.plot(d["current_pa"], d["firing_hz"], marker="o", ms=3, lw=0.8, color=f"C{i % 10}",
                    label=str(d["cell"].iloc[0]) if "cell" in d.columns else Path(str(f)).stem)
    ax.set_xlabel("injected current (pA)")
    ax.set_ylabel("firing rate (Hz)")
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7)
    ax.grid(alpha=0.3)
    return _finish(fig, path)


def _finish(fig: Any, path: str | os.PathLike[str] | None) -> Any:
    fig.tight_layout()
    if path is not None:
        from nplab.figures import save_figure

        save_figure(fig, path)
    return fig


def excitability_figures(
    res: Any,
    outdir: str | os.PathLike[str],
    *,
    by: str | None = "group",
    label: Label = None,
    formats: Sequence[str] = ("png",),
) -> list[Path]:
    """Write the f–I, trace and phase figures of ``res`` into ``outdir`` (created) as
    ``<name>.<format>`` for every name in :data:`FIGURE_NAMES`; returns the paths.

    Cells drawn: one representative per ``by`` group when ``res.cells`` has that column
    (e.g. from an experiment table), else every analysed cell with a rheobase.
    """
    import matplotlib.pyplot as plt

    from nplab.figures import FIGURE_FORMATS, save_figure

    bad = [f for f in formats if f not in FIGURE_FORMATS]
    if bad:
        raise InputError(f"unsupported figure format {bad[0]!r}", column="formats",
                         expected=", ".join(FIGURE_FORMATS))
    out = Path(outdir)
    out.mkdir(parents=True, exist_ok=True)
    figs = {
        "excitability_fi": fi_curves(res.cells, res.sweeps, by=by, label=label),
        "excitability_traces": rheobase_traces(res, by=by, label=label),
        "excitability_phase": phase_plot(res, by=by, label=label),
    }
    written = []
    for name, fig in figs.items():
        for fmt in formats:
            written.append(save_figure(fig, out / f"{name}.{fmt}"))
        plt.close(fig)
    return written
