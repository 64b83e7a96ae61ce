"""Concentrations of a patch-clamp experiment: which sweeps saw which drug concentration.

Two layouts are supported (see ``shared/notes/patchclamp.md`` §2):

A. **One long file per cell with the perfusion history in tags.**  Every sweep carries
   ``tag`` (text of the latest tag at or before it) and ``tag_index`` (0 before the first
   tag, then 1, 2, ...) in the per-sweep table.  Sweeps before the first tag are the
   control (0 µM).  The concentration of each later segment comes from the experiment
   table (a row with the tag text, or ``#k`` for the file's k-th tag, in the optional
   ``tag`` column) or, as a convenience,
   from the tag text itself ("+amitriptyline 1 uM", "300nM ami", "0.1 mM";
   :func:`parse_concentration`).  Tags that announce a washout ("wash", "washout") mark
   washout segments, kept in the tables but not fitted.
B. **One file per concentration**, each listed in the experiment table with its
   ``conc_um``.

The experiment table (:func:`read_experiment`) has one row per file (layout B) or per
file × tag (layout A), with the columns ``cell, file, drug, conc_um, holding_mv,
condition`` and optional ``tag`` (layout A mapping), ``start_s`` (start of the file in s
from the start of the cell's recording, for run-down correction across files),
``target`` (the reference key, e.g. ``Nav1.7``; see :mod:`nplab.ephys.references`),
``h`` (fraction of channels available at the holding potential, for
:mod:`nplab.ephys.state`), ``protocol`` (the ``patchclamp`` protocol that measures the
file's condition).  A cell's drug is the first
``drug`` of its rows that is not a no-drug name (``vehicle``, ``control``, ``none``,
``-``; so a control file may be listed as ``vehicle`` at 0 µM); cells with no drug at
all are time-matched vehicle cells.  Each cell has one condition.

The **steady state** of a segment is the mean of its last ``n`` sweeps (status ``ok``)
before the next solution change.  **Run-down** can be corrected by linear extrapolation
of the control period (Ip(t) = a + b·t fitted to the control sweeps; each later steady
state is divided by the extrapolated control at its time) or with time-matched vehicle
cells (fractional current = (I_drug/I_ctrl) / (I_veh(t)/I_veh,ctrl), the vehicle ratio
interpolated linearly in time and averaged across vehicle cells of the same condition).
"""

from __future__ import annotations

import math
import re
from decimal import Decimal

import numpy as np
import pandas as pd

from nplab.checks import raise_first_bad
from nplab.errors import InputError, row_number
from nplab.tables import read_table, require_columns, to_numeric_column

__all__ = [
    "EXPERIMENT_COLUMNS",
    "NO_DRUG",
    "RUNDOWN_METHODS",
    "assign_concentrations",
    "control_lines",
    "is_washout",
    "linear_rundown",
    "parse_concentration",
    "read_experiment",
    "rundown_factor",
    "steady_state",
    "validate_experiment",
    "vehicle_ratio",
]

#: Required columns of the experiment table.
EXPERIMENT_COLUMNS = ("cell", "file", "drug", "conc_um", "holding_mv", "condition")
#: Run-down correction options.
RUNDOWN_METHODS = ("none", "linear", "vehicle")

# µM per unit, as exact decimals: the written number is scaled in decimal arithmetic and
# rounded once, so "10 pM" -> 1e-05 and "3.45 nM" -> 0.00345 (the double nearest to
# the written value), not 9.999999999999999e-06 / 0.0034500000000000004.
_UNIT_TO_UM = {"p": Decimal("1e-6"), "n": Decimal("1e-3"), "u": Decimal(1), "µ": Decimal(1),
               "μ": Decimal(1), "m": Decimal(1000), "": Decimal(1000000)}
_NUMBER = r"(?P<num>(?:\d+(?:\.\d*)?|\.\d+)(?:[eE][+-]?\d+)?)"
# n/u/µ/p prefixes accept either case of the "M"; the milli prefix only as "mM" (so that
# "3min" or "1 mm" are not read as millimolar); a bare "M" (molar) must be upper case.
_CONC_RE = re.compile(
    _NUMBER
    + r"\s*(?:(?P<prefix>[pPnNuUµμ])[Mm]|(?P<milli>m)M|(?P<molar>M))(?![A-Za-z])"
)
_WASH_RE = re.compile(r"\b(wash|washout|wash-out|wash out)\b", re.IGNORECASE)
_VEHICLE = "vehicle"
# columns added to the per-sweep rows by assign_concentrations
_ADDED_COLUMNS = ("cell", "drug", "condition", "holding_mv", "target", "h", "start_s",
                  "elapsed_s", "conc_um", "role", "segment", "segment_label", "segment_order")
#: Drug names that mean "no drug" (the control solution) rather than a blocker.
NO_DRUG = ("vehicle", "control", "none", "-")


def parse_concentration(text: str) -> float | None:
    """Concentration in µM written in free tag text, or ``None`` if there is none.

    Accepts ``pM``, ``nM``, ``uM``/``µM``/``μM`` (either case of the ``M`` for these),
    ``mM`` and ``M``, with or without a space: "+amitriptyline 1 uM" → 1.0,
    "300nM ami" → 0.3, "0.1 mM" → 100.0.  Text with no concentration ("+drug at 3min",
    "wash") or with two different concentrations gives ``None`` (ambiguous; map it
    explicitly in the experiment table).
    """
    if not isinstance(text, str):
        return None
    found = set()
    for m in _CONC_RE.finditer(text):
        value = Decimal(m.group("num"))
        if m.group("prefix"):
            key = m.group("prefix").lower()
        elif m.group("milli"):
            key = "m"
        else:
            key = ""
        found.add(float(value * _UNIT_TO_UM[key]))
    if len(found) != 1:
        return None
    return found.pop()


def is_washout(text: str) -> bool:
    """Whether a tag's text announces a washout ("wash", "washout", "wash out")."""
    return isinstance(text, str) and bool(_WASH_RE.search(text))


def _norm_tag(text: object) -> str:
    return " ".join(str(text).split()).casefold() if isinstance(text, str) else ""


def _text(col: pd.Series) -> pd.Series:
    """A column as stripped text, blank cells as ""."""
    return col.reset_index(drop=True).map(lambda v: "" if pd.isna(v) else str(v).strip())


def validate_experiment(df: pd.DataFrame, *, file: str | None = None) -> pd.DataFrame:
    """Check an experiment table and return a clean copy.

    Columns ``cell``, ``file``, ``drug``, ``condition`` are text (blank cells are an
    error except ``condition``, which defaults to ""); ``conc_um`` is a number >= 0 or
    blank (blank: take concentrations from the file's tags); ``holding_mv`` a number or
    blank; one drug per cell (besides the no-drug names of :data:`NO_DRUG`); optional ``tag`` text, ``start_s`` number >= 0, ``h`` number in [0, 1],
    ``target`` and ``protocol`` text.  The same file may not get two rows with the same tag.

    Raises
    ------
    InputError
        Naming the file, spreadsheet row and column of the first bad value.
    """
    file = file if file is not None else df.attrs.get("source")
    require_columns(df, EXPERIMENT_COLUMNS, file=file)
    if len(df) == 0:
        raise InputError("the experiment table has no rows", file=file, expected="one row per file")
    out = pd.DataFrame(index=range(len(df)))
    for col in ("cell", "file", "drug"):
        raw = df[col].reset_index(drop=True)
        blank = raw.isna() | (raw.astype(str).str.strip() == "")
        raise_first_bad(blank, "blank cell", file=file, column=col, expected="text")
        out[col] = raw.astype(str).str.strip()
    out["condition"] = _text(df["condition"])
    conc = to_numeric_column(df, "conc_um", file=file, allow_missing=True, expected="a number >= 0 (µM) or blank")
    raise_first_bad(conc < 0, lambda i: f"{float(conc[i]):g} is negative", file=file,
                    column="conc_um", expected="a concentration >= 0 in µM")
    out["conc_um"] = conc
    out["holding_mv"] = to_numeric_column(
        df, "holding_mv", file=file, allow_missing=True, expected="a holding potential in mV"
    )
    out["tag"] = _text(df["tag"]) if "tag" in df else ""
    if "start_s" in df:
        start = to_numeric_column(df, "start_s", file=file, allow_missing=True, expected="a time >= 0 in s")
        bad = np.flatnonzero(start < 0)
        if bad.size:
            raise InputError("negative start time", file=file, row=row_number(int(bad[0])),
                             column="start_s", expected="a time >= 0 in s")
        out["start_s"] = start
    if "h" in df:
        h = to_numeric_column(df, "h", file=file, allow_missing=True, expected="a fraction in [0, 1]")
        bad = np.flatnonzero((h < 0) | (h > 1))
        if bad.size:
            raise InputError(f"{float(h[bad[0]]):g} is out of range", file=file, row=row_number(int(bad[0])),
                             column="h", expected="a fraction in [0, 1]")
        out["h"] = h
    for opt in ("target", "protocol"):
        if opt in df:
            out[opt] = _text(df[opt])
    # one cell, one condition (record a cell at two holding potentials as two cells)
    conds = out.groupby("cell")["condition"].nunique()
    if (conds > 1).any():
        c = conds[conds > 1].index[0]
        i = int(np.flatnonzero((out["cell"] == c).to_numpy())[-1])
        raise InputError(f"cell '{c}' has more than one condition", file=file, row=row_number(i),
                         column="condition",
                         expected="one condition per cell (use one cell id per condition)")
    # one drug per cell (a second drug, e.g. TTX at the end, would otherwise be fitted
    # silently as concentrations of the first one)
    is_drug = ~out["drug"].str.casefold().isin(NO_DRUG)
    drugs = out[is_drug].groupby("cell")["drug"].agg(lambda d: d.str.casefold().nunique())
    if (drugs > 1).any():
        c = drugs[drugs > 1].index[0]
        rows_c = out[is_drug & (out["cell"] == c)]
        first = rows_c["drug"].iloc[0].casefold()
        i = int(rows_c.index[(rows_c["drug"].str.casefold() != first).to_numpy()][0])
        raise InputError(f"cell '{c}' lists more than one drug", file=file, row=row_number(i),
                         column="drug",
                         expected="one drug per cell (plus vehicle/control rows at 0 µM)")
    # one file belongs to one cell
    owners = out.groupby("file")["cell"].nunique()
    if (owners > 1).any():
        f = owners[owners > 1].index[0]
        i = int(np.flatnonzero((out["file"] == f).to_numpy())[1])
        raise InputError(f"file '{f}' is listed for more than one cell", file=file,
                         row=row_number(i), column="cell", expected="one cell per file")
    key = out["file"] + "\x00" + out["tag"].map(_norm_tag)
    raise_first_bad(key.duplicated(), "the same file (and tag) is listed twice", file=file,
                    column="file", expected="one row per file, or per file and tag")
    # a file either has one untagged row or tag rows (a blank-tag row then means control)
    for f, rows in out.groupby("file", sort=False):
        untagged = rows[rows["tag"] == ""]
        if len(untagged) == 1 and len(rows) == 1 and math.isnan(untagged["conc_um"].iloc[0]):
            continue  # layout A with tags parsed from the recording
        missing = rows[np.isnan(rows["conc_um"].to_numpy())]
        if len(missing) and (rows["tag"] != "").any():
            i = int(missing.index[0])
            raise InputError(f"no concentration for a row of file '{f}'", file=file,
                             row=row_number(i), column="conc_um", expected="a number (µM)")
    out.attrs["source"] = file
    return out


def read_experiment(path: str) -> pd.DataFrame:
    """Read and validate an experiment table (CSV or Excel); see :func:`validate_experiment`."""
    df = read_table(path, required=EXPERIMENT_COLUMNS)
    return validate_experiment(df, file=str(path))


def _tag_concentration(
    file_rows: list[dict], tag_index: int, tag_text: str, *, file: str, source: str | None
) -> tuple[float, str, str]:
    """(conc_um, role, label) of tag period ``tag_index`` of one file (layout A)."""
    if tag_index == 0:
        blank = [r["conc_um"] for r in file_rows if r["tag"] == "" and not math.isnan(r["conc_um"])]
        return (float(blank[0]) if blank else 0.0), "control", "control"
    want = _norm_tag(tag_text)
    # by position ("#2" = the file's second tag; for repeated texts such as "<External>"),
    # then by text
    hit = [r["conc_um"] for r in file_rows if r["tag"].replace(" ", "") == f"#{tag_index}"]
    hit = hit or [r["conc_um"] for r in file_rows if r["tag"] != "" and _norm_tag(r["tag"]) == want]
    if hit:
        return float(hit[0]), "drug", tag_text
    if is_washout(tag_text):
        return math.nan, "washout", tag_text
    parsed = parse_concentration(tag_text)
    if parsed is None:
        raise InputError(
            f"cannot tell the concentration of tag {tag_index} ({tag_text!r}) of {file}",
            file=source,
            column="tag",
            expected=f"a row for file '{file}' with tag '{tag_text}' and its conc_um",
        )
    return parsed, "drug", tag_text


def assign_concentrations(
    per_sweep: pd.DataFrame,
    experiment: pd.DataFrame,
    *,
    measure: str | None = None,
    channel: int | None = None,
) -> pd.DataFrame:
    """Attach cell, drug, concentration and segment to every sweep of the experiment.

    Parameters
    ----------
    per_sweep
        Per-sweep table of :func:`nplab.ephys.measure` (columns ``file, sweep, time_s,
        channel, measure, value, tag, tag_index, status, reason``, ...).
    experiment
        Validated experiment table (:func:`validate_experiment`).
    measure, channel
        Which measurement and channel to use when the table holds several (required
        then; otherwise the only one present).

    Returns
    -------
    DataFrame
        The per-sweep rows of the experiment's files with added columns ``cell``,
        ``drug``, ``condition``, ``holding_mv``, ``conc_um``, ``role`` (``control``,
        ``drug``, ``washout``, ``vehicle``), ``segment`` (``file`` for one file per
        concentration, ``file#tag_index`` for tagged files), ``segment_order`` (order
        of the segment within the cell) and ``elapsed_s`` (``start_s`` + ``time_s``).
        Sorted by cell, elapsed time, file and sweep.

    Raises
    ------
    InputError
        If a listed file has no rows in ``per_sweep``, a tag has no concentration, or
        the measure/channel is ambiguous.
    """
    source = experiment.attrs.get("source")
    require_columns(per_sweep, ("file", "sweep", "time_s", "value", "status"))
    ps = per_sweep
    for col, want in (("measure", measure), ("channel", channel)):
        if col not in ps:
            continue
        present = sorted(pd.unique(ps[col].dropna()).tolist(), key=str)
        if want is None:
            if len(present) > 1:
                raise InputError(
                    f"the per-sweep table holds several values of '{col}': {present}",
                    column=col, expected=f"choose one with {col}=...",
                )
        else:
            ps = ps[ps[col] == want]
            if len(ps) == 0:
                raise InputError(f"no per-sweep rows with {col} = {want!r}", column=col,
                                 expected=f"one of {present}")
    # columns this function adds are replaced (e.g. when the per-sweep table written by
    # ``nplab ephys ic50`` itself is analysed again); merging would otherwise suffix them
    ps = ps.drop(columns=[c for c in _ADDED_COLUMNS if c in ps]).copy()
    ps["file"] = ps["file"].astype(str)
    if "tag_index" not in ps:
        ps["tag_index"] = 0
    if "tag" not in ps:
        ps["tag"] = ""
    ps["tag"] = ps["tag"].fillna("").astype(str)
    ps["tag_index"] = pd.to_numeric(ps["tag_index"], errors="coerce").fillna(0).astype(int)
    exp_rows: dict[str, list[dict]] = {}
    for rec in experiment.to_dict("records"):
        exp_rows.setdefault(rec["file"], []).append(rec)
    cell_drug: dict[str, str] = {}
    for rec in experiment.to_dict("records"):
        if rec["drug"].casefold() not in NO_DRUG:
            cell_drug.setdefault(rec["cell"], rec["drug"])
    present = set(ps["file"].unique())
    for i, f in enumerate(experiment["file"]):
        if f not in present:
            raise InputError(f"file '{f}' has no rows in the per-sweep table", file=source,
                             row=row_number(i), column="file", expected="a measured recording")
    ps = ps[ps["file"].isin(set(exp_rows))]
    # one row per file with its cell attributes (first experiment row of the file)
    opts = [c for c in ("target", "h") if c in experiment]
    per_file = experiment.drop_duplicates("file")[["file", "cell", "condition", "holding_mv",
                                                   *opts]].copy()
    per_file["drug"] = per_file["cell"].map(lambda c: cell_drug.get(c, _VEHICLE))
    per_file["start_s"] = (experiment.drop_duplicates("file")["start_s"].fillna(0.0).to_numpy()
                           if "start_s" in experiment else 0.0)
    out = ps.merge(per_file, on="file", how="left", sort=False)
    out["elapsed_s"] = out["start_s"] + pd.to_numeric(out["time_s"], errors="coerce").astype(float)
    # concentration of every (file, tag period): a small table resolved in plain Python
    periods = out[["file", "tag_index", "tag"]].drop_duplicates(["file", "tag_index"])
    seg_rows = []
    for f, ti, tag in periods.itertuples(index=False):
        rows = exp_rows[f]
        if len(rows) == 1 and rows[0]["tag"] == "" and not math.isnan(rows[0]["conc_um"]):
            conc = float(rows[0]["conc_um"])
            seg_rows.append((f, ti, conc, "drug", f"{conc:g} µM", f))
        else:
            conc, role, label = _tag_concentration(rows, int(ti), str(tag), file=f, source=source)
            seg_rows.append((f, ti, conc, role, label, f"{f}#{int(ti)}"))
    seg = pd.DataFrame(seg_rows, columns=["file", "tag_index", "conc_um", "role", "segment_label",
                                          "segment"])
    out = out.merge(seg, on=["file", "tag_index"], how="left", sort=False)
    out = out.sort_values(["cell", "elapsed_s", "file", "sweep"], kind="mergesort").reset_index(drop=True)
    first = out.drop_duplicates(["cell", "segment"])[["cell", "segment", "conc_um", "role", "drug"]]
    first = first.assign(segment_order=first.groupby("cell", sort=False).cumcount())
    first["role"] = _roles(first)
    out = out.drop(columns="role").merge(first[["cell", "segment", "segment_order", "role"]],
                                         on=["cell", "segment"], how="left", sort=False)
    out.loc[out["role"] == "control", "segment_label"] = "control"
    return out


def _roles(periods: pd.DataFrame) -> list[str]:
    """Role of each solution period (one row per cell × period, in time order).

    The earliest period of a cell is its ``control`` (it must be at 0 µM unless the cell
    is a vehicle cell).  Later periods: ``washout`` (washout tag, or 0 µM after a drug
    period), ``vehicle`` (any later period of a vehicle cell), ``drug`` otherwise; a
    later 0 µM period before any drug is also ``control`` (e.g. a second control file).
    """
    roles: list[str] = []
    seen_drug: dict[str, bool] = {}
    for cell, conc, role, drug, order in periods[
        ["cell", "conc_um", "role", "drug", "segment_order"]
    ].itertuples(index=False):
        if role == "washout":
            roles.append(role)
        elif str(drug).casefold() == _VEHICLE:
            roles.append("control" if order == 0 else "vehicle")
        elif conc == 0:
            roles.append("washout" if seen_drug.get(cell) else "control")
        else:
            roles.append("drug")
            seen_drug[cell] = True
    return roles


def steady_state(values: np.ndarray, n: int) -> tuple[float, int]:
    """Mean of the last ``n`` finite values (all of them when fewer); and how many were used.

    The steady state of a solution period is the mean of its last ``n`` sweeps before
    the next change (``shared/notes/patchclamp.md`` §2A, step 4).
    """
    if n < 1:
        raise InputError(f"steady-state sweeps must be >= 1, got {n}", column="steady_state_sweeps")
    v = np.asarray(values, dtype=float)
    v = v[np.isfinite(v)]
    if v.size == 0:
        return math.nan, 0
    tail = v[-n:]
    return float(tail.mean()), int(tail.size)


def control_lines(time_s: pd.Series, values: pd.Series, cell: pd.Series) -> pd.DataFrame:
    """Least-squares line ``a + b·t`` through each cell's control-period sweeps.

    Returns a frame indexed by cell with ``a``, ``b`` and ``n`` (sweeps used); ``a`` and
    ``b`` are NaN with fewer than two sweeps or no time span.
    """
    t = pd.to_numeric(time_s, errors="coerce").astype(float)
    v = pd.to_numeric(values, errors="coerce").astype(float)
    ok = np.isfinite(t.to_numpy()) & np.isfinite(v.to_numpy())
    t, v, grp = t[ok], v[ok], pd.Series(np.asarray(cell)[ok], index=t.index[ok])
    tm = t.groupby(grp).transform("mean")
    vm = v.groupby(grp).transform("mean")
    sxx = ((t - tm) ** 2).groupby(grp).sum()
    sxy = ((t - tm) * (v - vm)).groupby(grp).sum()
    n = t.groupby(grp).size()
    b = (sxy / sxx).where((n >= 2) & (sxx > 0))
    a = v.groupby(grp).mean() - b * t.groupby(grp).mean()
    return pd.DataFrame({"a": a, "b": b, "n": n})


def linear_rundown(time_s: np.ndarray, values: np.ndarray) -> tuple[float, float]:
    """Least-squares line ``a + b·t`` through one cell's control sweeps; ``(a, b)``.

    Needs at least two distinct times; otherwise ``(nan, nan)``.  (One-cell form of
    :func:`control_lines`.)
    """
    t = pd.Series(np.asarray(time_s, dtype=float))
    line = control_lines(t, pd.Series(np.asarray(values, dtype=float)), pd.Series(0, index=t.index))
    if line.empty:
        return math.nan, math.nan
    return float(line["a"].iloc[0]), float(line["b"].iloc[0])


def rundown_factor(
    time_s: np.ndarray, control_time_s: np.ndarray, a: np.ndarray, b: np.ndarray
) -> np.ndarray:
    """Expected control at ``time_s`` relative to the control steady state (linear run-down).

    With the control line ``a + b·t``: ``r = (a + b·t)/(a + b·t_ctrl)``; a fractional
    current measured at ``t`` is corrected by dividing it by ``r``.
    """
    t, t0 = np.asarray(time_s, dtype=float), np.asarray(control_time_s, dtype=float)
    with np.errstate(all="ignore"):
        return (np.asarray(a, dtype=float) + np.asarray(b, dtype=float) * t) / (
            np.asarray(a, dtype=float) + np.asarray(b, dtype=float) * t0)


def vehicle_ratio(vehicle_sweeps: pd.DataFrame, times: np.ndarray) -> np.ndarray:
    """Mean time-matched vehicle ratio ``I_veh(t)/I_veh,ctrl`` at ``times``.

    ``vehicle_sweeps`` holds ok sweeps of vehicle cells with columns ``cell``,
    ``elapsed_s``, ``value`` and ``ratio`` (value divided by that cell's control steady
    state).  Each cell's ratio is interpolated linearly in time; times outside a cell's
    recorded range give NaN for that cell; the result is the mean over cells with a
    value (NaN when none covers the time).
    """
    t = np.asarray(times, dtype=float)
    stack = []
    for _, g in vehicle_sweeps.groupby("cell", sort=True):
        g = g.sort_values("elapsed_s")
        x = g["elapsed_s"].to_numpy(dtype=float)
        y = g["ratio"].to_numpy(dtype=float)
        r = np.interp(t, x, y)
        r[(t < x[0]) | (t > x[-1])] = np.nan
        stack.append(r)
    if not stack:
        return np.full(t.shape, np.nan)
    arr = np.vstack(stack)
    with np.errstate(all="ignore"):
        counts = np.isfinite(arr).sum(axis=0)
        total = np.nansum(arr, axis=0)
    return np.where(counts > 0, total / np.maximum(counts, 1), np.nan)
