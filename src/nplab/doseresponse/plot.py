"""Figure of a dose–response fit: data, fitted curve and confidence band per curve.

The dose axis is logarithmic; zero doses (controls) cannot sit on a log axis, so they
are drawn at an offset position one "step" below the lowest positive dose, with a
broken-axis mark between them and the tick labelled ``0`` (drc's
``plot(..., broken = TRUE)``). The confidence band is the pointwise delta-method
interval of the fitted mean (:meth:`DoseResponseFit.predict_interval`).
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from nplab.doseresponse.fitting import DoseResponseFit
from nplab.errors import InputError
from nplab.figures import figure_style, save_figure

__all__ = ["plot_fit", "zero_dose_position"]

MAX_CURVES = 12


def zero_dose_position(doses: np.ndarray) -> float:
    """Where to draw dose 0 on a log axis: one dose step below the lowest positive dose.

    The step is the median ratio between consecutive distinct positive doses (at
    least a factor 10**0.5, at most 100).
    """
    pos = np.unique(np.asarray(doses, dtype=float))
    pos = pos[pos > 0]
    if pos.size == 0:
        return 1.0
    if pos.size == 1:
        return float(pos[0] / 10.0)
    step = float(np.median(np.diff(np.log10(pos))))
    step = min(max(step, 0.5), 2.0)
    return float(pos[0] / 10 ** (1.5 * step))


def plot_fit(
    fit: DoseResponseFit,
    path: str | Path | None = None,
    ax: Any = None,
    *,
    curves: list[Any] | None = None,
    level: float | None = None,
    xlabel: str | None = None,
    ylabel: str | None = None,
    band: bool = True,
):
    """Plot data, fitted curve and confidence band of every (or the chosen) curve.

    Parameters
    ----------
    fit
        Result of :func:`~nplab.doseresponse.fit` or :func:`~nplab.doseresponse.fit_many`.
    path
        Save the figure here (``.png``, ``.svg`` or ``.pdf``; written atomically and
        reproducibly: no dates in metadata, fixed SVG hash salt).
    ax
        Draw into this matplotlib Axes instead of a new figure.
    curves
        Curves to draw (default all; at most 12 at once).
    level
        Confidence level of the band (default the fit's).
    xlabel, ylabel
        Axis labels (default the column names).
    band
        Draw the confidence band.

    Returns
    -------
    matplotlib.figure.Figure
    """
    import matplotlib

    if ax is None:
        matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    chosen = list(fit.curves) if curves is None else list(curves)
    if len(chosen) > MAX_CURVES:
        raise InputError(
            f"{len(chosen)} curves are too many for one figure", column="curves",
            expected=f"at most {MAX_CURVES} (pass curves=[...])",
        )
    ks = [fit._curve_pos(c) for c in chosen]
    d = fit.data
    x0 = zero_dose_position(d.x)
    pos = d.x[d.x > 0]
    lo = pos.min() if pos.size else 1.0
    hi = pos.max() if pos.size else 10.0
    grid = np.geomspace(lo / 10 ** 0.25, hi * 10 ** 0.25, 200)
    with figure_style(**{"svg.hashsalt": "nplab-doseresponse"}):
        own = ax is None
        if own:
            fig, ax = plt.subplots(figsize=(5.5, 4.0))
        else:
            fig = ax.figure
        colors = plt.rcParams["axes.prop_cycle"].by_key()["color"]
        for i, k in enumerate(ks):
            col = colors[i % len(colors)]
            sel = d.curve_idx == k
            xs = np.where(d.x[sel] > 0, d.x[sel], x0)
            label = None if fit.curves[k] == "all" and len(fit.curves) == 1 else str(fit.curves[k])
            ax.plot(xs, d.y[sel], "o", color=col, alpha=0.8, ms=4, label=label)
            if not np.all(np.isfinite(fit.layout.full_curve(fit.theta, k))):
                continue
            pi = fit.predict_interval(grid, fit.curves[k], level=level)
            ax.plot(grid, pi["fit"], "-", color=col, lw=1.5)
            if band and np.all(np.isfinite(pi["se"])):
                ax.fill_between(grid, pi["ci_low"], pi["ci_high"], color=col, alpha=0.2, lw=0)
            if np.any(d.x[sel] == 0):
                y0 = float(fit.predict([0.0], fit.curves[k])[0])
                ax.plot([x0 / 10 ** 0.15, x0 * 10 ** 0.15], [y0, y0], "-", color=col, lw=1.5)
        ax.set_xscale("log")
        if np.any(d.x == 0):
            _broken_axis(ax, x0, lo)
        ax.set_xlabel(xlabel or fit.x_col)
        ax.set_ylabel(ylabel or fit.y_col)
        ax.set_title(f"{fit.model.name} fit")
        if any(fit.curves[k] != "all" for k in ks):
            ax.legend(title=fit.curve_col, loc="upper left", bbox_to_anchor=(1.02, 1.0),
                      borderaxespad=0.0)  # outside the data
        if path is not None:
            _save(fig, Path(path))
        if own:
            plt.close(fig)
    return fig


def _broken_axis(ax: Any, x0: float, lo: float) -> None:
    """Label the offset zero position '0' and mark the break before the first dose."""
    from matplotlib.ticker import FixedLocator, NullFormatter, NullLocator

    ax.set_xlim(x0 / 10 ** 0.4, ax.get_xlim()[1])
    major = [t for t in ax.get_xticks() if lo / 10 ** 0.01 <= t <= ax.get_xlim()[1]]
    ax.xaxis.set_major_locator(FixedLocator([x0, *major]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.xaxis.set_minor_formatter(NullFormatter())
    ax.set_xticklabels(["0"] + [f"{t:g}" for t in major])
    brk = np.sqrt(x0 * lo)
    kw = {"transform": ax.get_xaxis_transform(), "color": "k", "clip_on": False, "lw": 1}
    for dx in (-0.04, 0.04):
        xm = brk * 10 ** dx
        ax.plot([xm / 10 ** 0.05, xm * 10 ** 0.05], [-0.03, 0.03], **kw)


def _save(fig: Any, path: Path) -> None:
    save_figure(fig, path, dpi=150, salt="nplab-doseresponse", bbox_inches="tight")
