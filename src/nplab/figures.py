"""Saving matplotlib figures reproducibly and atomically (shared by every plotting module).

Every figure nplab writes goes through :func:`save_figure`: the format follows the file
suffix, dates and software versions are left out of the file's metadata and SVG ids use a
fixed hash salt, so the same inputs give byte-identical figures; the file appears only
once it is complete (:func:`nplab.tables.atomic_write`).  :func:`figure_format` checks a
figure name up front, so a command can refuse a bad name before it writes anything.

:data:`STYLE` is the one figure style of nplab (the CLI and the study runner draw with
it: every figure maker builds its figure inside :func:`figure_style`, and
:func:`save_figure` saves under it): DejaVu Sans (shipped with matplotlib, so the same
glyphs on every machine) at journal sizes, and editable text in vector output — SVG
text stays ``<text>`` elements (``svg.fonttype = "none"``) and PDF/PS fonts are embedded
as TrueType (Type 42), as journals ask for figures that can be edited in Illustrator or
Inkscape.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from nplab.errors import InputError
from nplab.tables import atomic_write

__all__ = ["FIGURE_FORMATS", "STYLE", "figure_format", "figure_style", "save_figure"]

#: Figure formats nplab writes (by file suffix).
FIGURE_FORMATS = ("png", "svg", "pdf")

#: The nplab figure style (matplotlib rcParams).
STYLE: dict[str, Any] = {
    "svg.fonttype": "none",  # text as <text> elements: editable, searchable
    "pdf.fonttype": 42,  # TrueType (Type 42) fonts in PDF, not Type 3
    "ps.fonttype": 42,
    "font.family": "sans-serif",
    "font.sans-serif": ["DejaVu Sans"],
    "mathtext.fontset": "dejavusans",
    "font.size": 9.0,
    "axes.titlesize": 10.0,
    "axes.labelsize": 9.0,
    "xtick.labelsize": 8.0,
    "ytick.labelsize": 8.0,
    "legend.fontsize": 8.0,
    "legend.title_fontsize": 8.0,
    "legend.frameon": False,
    "axes.spines.top": False,
    "axes.spines.right": False,
    "axes.linewidth": 0.8,
    "lines.linewidth": 1.5,
    "lines.markersize": 5.0,
    "errorbar.capsize": 3.0,
    "savefig.facecolor": "white",
    "svg.hashsalt": "nplab",
}


@contextmanager
def figure_style(**overrides: Any) -> Iterator[None]:
    """Context in which nplab figures are built: :data:`STYLE` (plus ``overrides``).

    Fonts and sizes are taken when a text is created, so figure makers create their
    figures inside this context; :func:`save_figure` saves under it too.
    """
    import matplotlib

    with matplotlib.rc_context({**STYLE, **overrides}):
        yield


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
        The file is written under :data:`STYLE`: SVG text as ``<text>``, PDF fonts as
        TrueType (Type 42).
    formats
        Formats the caller accepts.
    fmt
        Format to write regardless of the suffix (already checked by the caller).
    savefig_kwargs
        Passed on to :meth:`matplotlib.figure.Figure.savefig` (e.g. ``bbox_inches``).
    """
    target = Path(path)
    fmt = fmt or figure_format(target, formats)
    with figure_style(**{"svg.hashsalt": salt}):
        with atomic_write(target, "wb") as fh:
            fig.savefig(fh, format=fmt, dpi=dpi, metadata=_METADATA[fmt], **savefig_kwargs)
    return target
