"""Cq tables: tidy CSV/XLSX, Bio-Rad CFX and Thermo QuantStudio exports.

Column mapping (instrument column -> nplab column):

* tidy: ``animal, group, target, cq`` (+ optional ``replicate, tissue, plate, well``),
  one row per well;
* Bio-Rad CFX Maestro "Quantification Cq Results" (CSV/XLSX): ``Well -> well``,
  ``Target -> target``, ``Sample -> animal``, ``Cq -> cq``, ``Content`` kept as
  ``content``; only ``Unkn*`` wells are analysed (NTC, NRT, Std, Pos/Neg Ctrl dropped);
* Thermo QuantStudio (Design & Analysis / QuantStudio Real-Time PCR software)
  "Results" sheet or CSV: a metadata block of ``* key = value`` lines, then the header
  ``Well, Well Position, Sample Name, Target Name, ... CT`` (or ``Cq``):
  ``Well Position -> well``, ``Sample Name -> animal``, ``Target Name -> target``,
  ``CT``/``Cq -> cq``; with a ``Task`` column only ``UNKNOWN`` wells are kept.

"Undetermined" (and any non-numeric Cq) becomes NaN: not detected, never a number.
Groups (and tissues) can come from an animals table joined on ``animal``.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd

from nplab.errors import InputError

__all__ = ["FORMATS", "read_cq"]

FORMATS = ("auto", "tidy", "cfx", "quantstudio")
_CFX = {"Well": "well", "Target": "target", "Sample": "animal", "Cq": "cq", "Content": "content"}


def _raw(path: Path, sheet: str | int | None) -> pd.DataFrame:
    if not path.exists():
        raise InputError("file not found", file=path)
    if path.suffix.lower() in (".xlsx", ".xls"):
        if sheet is None:
            names = pd.ExcelFile(path).sheet_names
            sheet = "Results" if "Results" in names else 0
        return pd.read_excel(path, sheet_name=sheet, header=None, dtype=object)
    text = path.read_text(encoding="utf-8-sig", errors="replace")
    sep = "\t" if text.count("\t") > text.count(",") else ","
    rows = [line.split(sep) for line in text.splitlines()]
    width = max(len(r) for r in rows) if rows else 0
    return pd.DataFrame([r + [""] * (width - len(r)) for r in rows], dtype=object)


def _header_row(raw: pd.DataFrame, needed: set[str]) -> int | None:
    for i in range(min(len(raw), 200)):
        cells = {str(v).strip() for v in raw.iloc[i] if pd.notna(v)}
        if needed <= cells:
            return i
    return None


def _frame(raw: pd.DataFrame, i: int) -> pd.DataFrame:
    cols = [str(v).strip() if pd.notna(v) else f"_{k}" for k, v in enumerate(raw.iloc[i])]
    df = raw.iloc[i + 1:].copy()
    df.columns = cols
    df = df.replace("", np.nan).dropna(how="all")
    return df.loc[:, ~df.columns.str.startswith("_")]


def read_cq(
    path: str | os.PathLike[str],
    format: str = "auto",
    animals: pd.DataFrame | str | os.PathLike[str] | None = None,
    sheet: str | int | None = None,
) -> pd.DataFrame:
    """Read Cq values into the tidy table of :func:`relative_expression`.

    Parameters
    ----------
    path
        CSV/TSV/XLSX file.
    format
        ``"auto"`` (recognised from the header), ``"tidy"``, ``"cfx"`` or
        ``"quantstudio"`` (mapping in the module doc).
    animals
        Optional table (or path) with ``animal, group`` (and ``tissue``) joined on
        ``animal``; needed for instrument exports, which carry no groups.
    sheet
        Excel sheet (default ``Results`` when present, else the first).

    Returns
    -------
    DataFrame
        ``animal, [group, tissue,] target, cq, well, ...``; ``cq`` float, NaN when not
        detected; ``attrs["format"]`` names the recognised layout.
    """
    p = Path(path)
    if format not in FORMATS:
        raise InputError(f"unknown Cq format {format!r}", column="format", expected=", ".join(FORMATS))
    raw = _raw(p, sheet)
    found = None
    qs_ct = None
    for fmt, need in (("tidy", {"animal", "target", "cq"}), ("cfx", {"Well", "Target", "Sample", "Cq"}),
                      ("quantstudio", {"Well Position", "Sample Name", "Target Name"})):
        if format not in ("auto", fmt):
            continue
        i = _header_row(raw, need)
        if i is None:
            continue
        if fmt == "quantstudio":
            cells = {str(v).strip() for v in raw.iloc[i] if pd.notna(v)}
            qs_ct = "CT" if "CT" in cells else ("Cq" if "Cq" in cells else ("Ct" if "Ct" in cells else None))
            if qs_ct is None:
                continue
        found = (fmt, i)
        break
    if found is None:
        expected = {
            "auto": "a tidy table (animal, group, target, cq), a Bio-Rad CFX 'Quantification Cq Results' "
                    "export (Well, Target, Sample, Cq) or a QuantStudio 'Results' export "
                    "(Well Position, Sample Name, Target Name, CT)",
            "tidy": "columns animal, group, target, cq",
            "cfx": "Bio-Rad CFX columns Well, Fluor, Target, Content, Sample, Cq",
            "quantstudio": "QuantStudio columns Well, Well Position, Sample Name, Target Name, CT (or Cq)",
        }[format]
        raise InputError("unrecognised Cq table layout", file=path, expected=expected)
    fmt, i = found
    df = _frame(raw, i)
    if fmt == "cfx":
        df = df.rename(columns=_CFX)
        if "content" in df.columns:
            df = df[df["content"].astype(str).str.lower().str.startswith("unkn")]
    elif fmt == "quantstudio":
        if "Task" in df.columns:
            df = df[df["Task"].astype(str).str.upper() == "UNKNOWN"]
        df = df.drop(columns=[c for c in ("Well",) if c in df.columns])
        df = df.rename(columns={"Well Position": "well", "Sample Name": "animal", "Target Name": "target",
                                qs_ct: "cq"})
    df = df.copy()
    df["cq"] = pd.to_numeric(df["cq"], errors="coerce")
    df["animal"] = df["animal"].astype(str).str.strip()
    df["target"] = df["target"].astype(str).str.strip()
    if animals is not None:
        from nplab.tables import read_table

        an = animals if isinstance(animals, pd.DataFrame) else read_table(animals, required=["animal", "group"])
        an = an.assign(animal=an["animal"].astype(str).str.strip())
        extra = [c for c in ("group", "tissue") if c in an.columns]
        df = df.drop(columns=[c for c in extra if c in df.columns]).merge(
            an[["animal", *extra]], on="animal", how="left")
        if df["group"].isna().any():
            missing = sorted(set(df.loc[df["group"].isna(), "animal"]))
            raise InputError("animal(s) not in the animals table: " + ", ".join(missing[:5]),
                             file=path, column="animal", expected="every animal listed with its group")
    df = df.reset_index(drop=True)
    df.attrs["source"] = str(path)
    df.attrs["format"] = fmt
    return df
