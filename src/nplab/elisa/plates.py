"""Plate-shaped files: reader exports and layout grids (8 x 12 or 16 x 24).

A *plate block* is a header row with the column numbers ``1 .. 12`` (or ``1 .. 24``)
followed by one row per plate row labelled ``A .. H`` (or ``A .. P``); the cell at the
top-left corner (left of ``1``, above ``A``) names the block. Reader exports (BioTek
Gen5, SoftMax Pro, Tecan Magellan, exported as CSV or XLSX) hold such a block below a
metadata header; :func:`read_plate` finds it. Layout files follow the plater
convention (Hughes 2016, rOpenSci ``plater``): several blocks, one per well variable,
the corner cell naming the variable (``kind``, ``sample``, ``nominal``, ``dilution``,
optionally ``anchor``), blocks separated by blank lines.
"""

from __future__ import annotations

import csv
import os
from pathlib import Path

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = ["read_layout", "read_plate", "read_plate_files"]

_SHAPES = {12: 8, 24: 16}


def _cells(path: str | os.PathLike[str]) -> list[list[str]]:
    p = Path(path)
    if not p.exists():
        raise InputError("file not found", file=path)
    if p.suffix.lower() in (".xlsx", ".xls"):
        raw = pd.read_excel(p, header=None, dtype=object)
        return [["" if pd.isna(v) else str(v).strip() for v in row] for row in raw.itertuples(index=False)]
    text = p.read_text(encoding="utf-8-sig", errors="replace")
    delim = "\t" if text.count("\t") > text.count(",") else ","
    return [[c.strip() for c in row] for row in csv.reader(text.splitlines(), delimiter=delim)]


def _num(text: str) -> str:
    try:
        v = float(text)
    except ValueError:
        return text
    return str(int(v)) if v == int(v) else text


def _blocks(rows: list[list[str]]) -> list[tuple[str, int, pd.DataFrame]]:
    """Every plate block: (corner label, file row of the header (1-based), grid)."""
    out = []
    for i, row in enumerate(rows):
        cells = [_num(c) for c in row]
        for j, c in enumerate(cells):
            if c != "1":
                continue
            ncol = 0
            while j + ncol < len(cells) and cells[j + ncol] == str(ncol + 1):
                ncol += 1
            if ncol not in _SHAPES or j == 0:
                continue
            nrow = _SHAPES[ncol]
            letters = [chr(ord("A") + k) for k in range(nrow)]
            body = rows[i + 1:i + 1 + nrow]
            if len(body) < nrow or [r[j - 1].upper() if len(r) >= j else "" for r in body] != letters:
                continue
            grid = pd.DataFrame(
                [[(r[j + k] if j + k < len(r) else "") for k in range(ncol)] for r in body],
                index=letters, columns=list(range(1, ncol + 1)),
            )
            out.append((row[j - 1], i + 1, grid))
            break
    return out


def _long(grid: pd.DataFrame, name: str) -> pd.DataFrame:
    s = grid.stack()
    wells = [f"{r}{c}" for r, c in s.index]
    return pd.DataFrame({"well": wells, name: s.to_numpy()})


def read_plate(path: str | os.PathLike[str], block: int = 0) -> pd.DataFrame:
    """Read the signal grid of a plate-reader export.

    Parameters
    ----------
    path
        CSV/TSV/XLSX export containing an 8 x 12 or 16 x 24 block (see module doc).
    block
        Which block to read when there are several (0 = first, e.g. the first
        wavelength).

    Returns
    -------
    DataFrame
        ``well`` (``A1`` ...), ``signal`` (float; empty or non-numeric cells such as
        ``OVRFLW`` are an error naming the well).
    """
    blocks = _blocks(_cells(path))
    if len(blocks) <= block:
        raise InputError(
            f"no plate block #{block + 1} found", file=path,
            expected="a header row 1..12 (or 1..24) followed by rows A..H (or A..P)",
        )
    _, hdr, grid = blocks[block]
    df = _long(grid, "signal")
    num = pd.to_numeric(df["signal"], errors="coerce")
    bad = num.isna()
    if bad.any():
        k = int(np.flatnonzero(bad)[0])
        raise InputError(
            f"well {df['well'].iloc[k]}: signal {df['signal'].iloc[k]!r} is not a number", file=path,
            row=hdr + 1 + "ABCDEFGHIJKLMNOP".index(df["well"].iloc[k][0]),
            expected="a numeric reading in every well (mark unused wells in the layout instead)",
        )
    df["signal"] = num.astype(float)
    df.attrs["source"] = str(path)
    df.attrs["shape"] = grid.shape
    return df


def read_layout(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a plater-style layout file: one block per well variable.

    Returns
    -------
    DataFrame
        ``well`` plus one column per block (named by the block's corner cell), empty
        cells as NaN; wells with an empty ``kind`` are unused and dropped.
    """
    blocks = _blocks(_cells(path))
    if not blocks:
        raise InputError("no layout block found", file=path,
                         expected="plater blocks: corner cell = variable name, columns 1..12, rows A..H")
    shapes = {g.shape for _, _, g in blocks}
    if len(shapes) > 1:
        raise InputError("layout blocks of different plate sizes", file=path,
                         expected="all blocks 8 x 12 or all 16 x 24")
    out = None
    for label, _, grid in blocks:
        name = label.strip().lower()
        if not name:
            raise InputError("a layout block has no name in its top-left cell", file=path,
                             expected="kind, sample, nominal, dilution or anchor")
        part = _long(grid, name)
        out = part if out is None else out.merge(part, on="well")
    out = out.replace("", np.nan)
    if "kind" not in out.columns:
        raise InputError("layout has no 'kind' block", file=path, column="kind",
                         expected="a block named kind (standard, blank, sample, qc)")
    out = out[out["kind"].notna()].reset_index(drop=True)
    out.attrs["source"] = str(path)
    out.attrs["shape"] = shapes.pop()
    return out


def read_plate_files(
    reader: str | os.PathLike[str], layout: str | os.PathLike[str], plate: str | None = None,
    block: int = 0,
) -> pd.DataFrame:
    """Join a reader export and its layout into the tidy table of :func:`quantify`.

    Parameters
    ----------
    reader, layout
        Paths of the reader export and the layout (same plate shape).
    plate
        Plate label written into the ``plate`` column (default the reader file's stem).
    block
        Block of the reader export to use.
    """
    sig = read_plate(reader, block)
    lay = read_layout(layout)
    if sig.attrs["shape"] != lay.attrs["shape"]:
        raise InputError(
            f"the reader export is a {sig.attrs['shape'][0]} x {sig.attrs['shape'][1]} plate, "
            f"the layout {lay.attrs['shape'][0]} x {lay.attrs['shape'][1]}", file=layout,
            expected="a layout of the same plate size as the reader export",
        )
    df = lay.merge(sig, on="well", how="left")
    df.insert(0, "plate", plate if plate is not None else Path(reader).stem)
    df.attrs["source"] = f"{reader} + {layout}"
    return df
