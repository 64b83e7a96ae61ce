"""Saving matplotlib figures reproducibly and atomically (shared by every plotting module).

Every figure nplab writes goes through :func:`save_figure`: the format follows the file
suffix, dates and software versions are left out of the file's metadata and SVG ids use a
fixed hash salt, so the same inputs give byte-identical figures; the file appears only
once it is complete (:func:`nplab.tables.atomic_write`).  :func:`figure_format` checks a
figure name up front, so a command can refuse a bad name before it writes anything.
"""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nplab.errors import InputError
from nplab.tables import atomic_write

__all__ = ["FIGURE_FORMATS", "figure_format", "save_figure"]

#: Figure formats nplab writes (by file suffix).
FIGURE_FORMATS = ("png", "svg", "pdf")

# metadata that would otherwise change from run to run (dates) or machine to machine
_METADATA: dict[str, dict[str, None]] = {
    "png": {"Date": None, "Software": None},
    "svg": {"Date": None},
    "pdf": {"CreationDate": None, "ModDate": None, "Producer": None, "Creator": None},
}


def _expected(formats: Sequence[str]) -> str:
    names = [f".{f}" for f in formats]
    return names[0] if len(names) == 1 else ", ".join(names[:-1]) + " or " + names[-1]


def figure_format(path: str | os.PathLike[str], formats: Sequence[str] = FIGURE_FORMATS) -> str:
    """The format (``"png"``, ``"svg"``, ``"pdf"``) named by ``path``'s suffix.

    Raises
    ------
    InputError
        If the suffix is not one of ``formats`` (names the file and the formats).
    """
    fmt = Path(path).suffix.lower().lstrip(".")
    if fmt not in formats:
        raise InputError("unsupported figure format", file=path, expected=_expected(formats))
    return fmt


def save_figure(
    fig: Any,
    path: str | os.PathLike[str],
    *,
    dpi: float | str = 150,
    salt: str = "nplab",
    formats: Sequence[str] = FIGURE_FORMATS,
    fmt: str | None = None,
    **savefig_kwargs: Any,
) -> Path:
    """Save ``fig`` to ``path`` atomically and reproducibly; return the path.

    Parameters
    ----------
    fig
        A matplotlib figure.
    path
        Target file; its suffix picks the format (one of ``formats``).
    dpi
        Resolution of raster output (``"figure"``: the figure's own).
    salt
        ``svg.hashsalt`` for SVG element ids (fixed, so SVG files are reproducible).
    formats
        Formats the caller accepts.
    fmt
        Format to write regardless of the suffix (already checked by the caller).
    savefig_kwargs
        Passed on to :meth:`matplotlib.figure.Figure.savefig` (e.g. ``bbox_inches``).
    """
    import matplotlib

    target = Path(path)
    fmt = fmt or figure_format(target, formats)
    with matplotlib.rc_context({"svg.hashsalt": salt, "svg.fonttype": "path"}):
        with atomic_write(target, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, metadata=_METADATA[fmt], **savefig_kwargs)
    return target
