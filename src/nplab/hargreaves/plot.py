"""Time-course figure: mean ± SEM latency per group, ipsi and contra paws as panels.

Drawn by :func:`nplab.stats.timecourse_figure` (the study runner's figure and style).
"""

from __future__ import annotations

import os
from pathlib import Path

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
    """Plot mean ± SEM of ``value`` per group over time points, one panel per paw.

    Parameters
    ----------
    summary
        Output of :func:`nplab.hargreaves.summarise`.  Rows with an empty ``value``
        (too few valid trials, excluded animals) are left out; SEM = SD / sqrt(n) over
        animals (n - 1 in the SD); individual animals are drawn as faint points and n is
        given per point; the panels share the y range.
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
    from nplab.stats.figure import timecourse_figure

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
    unit = value.rsplit("_", 1)[-1] if "_" in value else ""
    name = value.rsplit("_", 1)[0] if unit else value
    fig = timecourse_figure(
        df, value, "group", "timepoint", "animal", paw="paw",
        ylabel=f"{name} ({unit}), mean ± SEM" if unit else f"{name}, mean ± SEM",
        levels={"group": groups},
    )
    save_figure(fig, target, dpi="figure", formats=_FORMATS)
    return target
