"""Time-course figure: mean +/- SEM latency per group, ipsi and contra paws."""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from nplab.animals import read_animals
from nplab.errors import InputError
from nplab.figures import figure_format, save_figure

_FORMATS = ("png", "svg")

__all__ = ["plot_timecourse"]


def plot_timecourse(
    summary: pd.DataFrame,
    animals: str | os.PathLike[str] | pd.DataFrame | None,
    path: str | os.PathLike[str],
    *,
    value: str = "latency_s",
) -> Path:
    """Plot mean +/- SEM of ``value`` per group over timepoints, one panel per paw.

    Parameters
    ----------
    summary
        Output of :func:`nplab.hargreaves.summarise`.  Rows with an empty ``value``
        (too few valid trials, excluded animals) are left out; SEM = SD / sqrt(n) over
        animals (n - 1 in the SD).
    animals
        Animals table giving ``group`` (may be ``None`` when the summary already has a
        ``group`` column).
    path
        ``.png`` or ``.svg`` output; written atomically and byte-reproducibly (no dates,
        fixed SVG hash salt).
    value
        Summary column to plot.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    target = Path(path)
    figure_format(target, _FORMATS)
    df = summary.copy()
    if animals is not None:
        table = read_animals(animals)
        df = df.drop(columns=[c for c in ("group",) if c in df.columns]).merge(
            table[["animal", "group"]], on="animal", how="left"
        )
        groups = [g for g in pd.unique(table["group"]) if g in set(df["group"])]
    elif "group" in df.columns:
        groups = list(pd.unique(df["group"]))
    else:
        raise InputError(
            "a time-course figure needs groups",
            column="group",
            expected="an animals table with a group column",
        )
    tps = list(pd.unique(df["timepoint"]))
    num = pd.to_numeric(pd.Series(tps), errors="coerce")
    if num.notna().all():
        tps = [tps[i] for i in np.argsort(num.to_numpy(), kind="stable")]
    xpos = {tp: i for i, tp in enumerate(tps)}
    df = df[df[value].notna()]
    stats = (
        df.groupby(["group", "paw", "timepoint"], sort=False)[value]
        .agg(["mean", "std", "count"])
        .reset_index()
    )
    stats["sem"] = stats["std"] / np.sqrt(stats["count"])

    with matplotlib.rc_context({"svg.hashsalt": "nplab", "svg.fonttype": "path"}):
        fig, axes = plt.subplots(1, 2, figsize=(9, 3.6), sharey=True)
        for ax, paw in zip(axes, ("ipsi", "contra"), strict=True):
            for g in groups:
                s = stats[(stats["group"] == g) & (stats["paw"] == paw)]
                s = s.assign(x=s["timepoint"].map(xpos)).sort_values("x")
                ax.errorbar(
                    s["x"], s["mean"], yerr=s["sem"].fillna(0), marker="o", capsize=3,
                    label=str(g),
                )
            ax.set_title(f"{paw}lateral paw")
            ax.set_xticks(range(len(tps)), [str(t) for t in tps])
            ax.set_xlabel("time point")
        axes[0].set_ylabel(f"{value.replace('_s', '')} (s), mean ± SEM")
        axes[1].legend(title="group", fontsize="small", frameon=False)
        fig.tight_layout()
        save_figure(fig, target, dpi="figure", formats=_FORMATS)
        plt.close(fig)
    return target
