"""Per-sweep measurement of voltage-clamp currents: the per-sweep table.

Windows come from the protocol (kind ``patchclamp``), either by epoch (letter ``"A"``,
``"B"``, …, Clampex index as text ``"0"``, or ``"pre"``/``"post"`` for the holding
segments) plus offsets in ms, or by time from the sweep start.  Each sweep gives one
value: baseline-subtracted peak inward (min), peak outward (max), mean, end-of-step
steady state or tail peak (hERG), after blanking the capacitive transient, with
optional offline linear leak subtraction from a hyperpolarising step.

Methods: peak measurement relative to a pre-step baseline and linear leak subtraction
G_leak(V − V_hold) estimated from a small hyperpolarising step (Hille B, *Ion Channels
of Excitable Membranes*, 3rd ed. 2001, ch. 2; Bezanilla F & Armstrong CM 1977,
J Gen Physiol 70:549–566 for P/N leak subtraction, which if done online is reported
from the header, never re-applied).
"""

from __future__ import annotations

import math
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from nplab.ephys.abf import Recording, read_abf, unit_scale
from nplab.ephys.qc import membrane_test
from nplab.errors import InputError, NplabError
from nplab.protocols import Param, Protocol, load_protocol

__all__ = [
    "MEASURES",
    "PER_SWEEP_COLUMNS",
    "PROTOCOL_SCHEMAS",
    "expand_paths",
    "measure",
    "measure_file",
    "measure_trace",
    "resolve_window",
]

#: Measurement types (``measure`` parameter of a ``patchclamp`` protocol).
MEASURES = ("peak_inward", "peak_outward", "mean", "steady_state", "tail_peak")

#: Columns of the per-sweep table, in order (the contract with ``nplab.ephys`` IC50
#: analysis and the study runner).
PER_SWEEP_COLUMNS = [
    "file",
    "sweep",
    "time_s",
    "channel",
    "measure",
    "value",
    "baseline",
    "units",
    "tag",
    "tag_index",
    "ra_mohm",
    "rm_mohm",
    "cm_pf",
    "holding_pa",
    "leak_subtraction",
    "protocol",
    "status",
    "reason",
]

_WINDOW = {
    "epoch": Param(
        "str",
        None,
        doc="Epoch letter (A, B, …), Clampex index (0 = A; a number or its text), or "
        "'pre'/'post'; unset: offsets are times from the sweep start.",
        int_as_text=True,
    ),
    "anchor": Param(
        "str", "start", choices=("start", "end"), doc="Offsets count from the epoch start or end."
    ),
    "start_ms": Param("float", 0.0, unit="ms", doc="Window start relative to the anchor."),
    "end_ms": Param(
        "float", None, unit="ms", doc="Window end relative to the anchor; unset: the epoch end."
    ),
}
_STEP = {
    "epoch": Param("str", "", doc="Epoch letter (or Clampex index).", int_as_text=True),
    "level_mv": Param("float", None, unit="mV", doc="Command level."),
    "duration_ms": Param("float", None, unit="ms", min=0, doc="Duration."),
    "note": Param("str", "", doc="What the epoch is for."),
}

#: Schema of ``patchclamp`` protocols (see protocols/patchclamp-*.md).
PROTOCOL_SCHEMAS: dict[str, dict[str, Param]] = {
    "patchclamp": {
        "target": Param("str", "", doc="Channel / current measured (e.g. Nav1.7, hERG)."),
        "channel": Param("int", 0, min=0, doc="ADC channel holding the current."),
        "command_channel": Param("int", 0, min=0, doc="DAC channel whose epochs define windows."),
        "measure": Param("str", "peak_inward", choices=MEASURES, doc="Measurement type."),
        "baseline": Param(
            "table", None, fields=_WINDOW, doc="Baseline window (mean); unset: no baseline."
        ),
        "window": Param("table", None, required=True, fields=_WINDOW, doc="Measurement window."),
        "blanking_ms": Param(
            "float", 0.0, min=0, unit="ms", doc="Skip this much of the window start (capacitive transient)."
        ),
        "peak_points": Param(
            "int", 1, min=1, doc="Points averaged around the extremum (peak measures)."
        ),
        "steady_state_ms": Param(
            "float", 5.0, min=0, unit="ms", doc="End-of-window span averaged for steady_state."
        ),
        "leak_subtraction": Param(
            "str", "none", choices=("none", "linear"), doc="Offline linear leak subtraction."
        ),
        "leak_window": Param(
            "table", None, fields=_WINDOW, doc="Steady part of the hyperpolarising leak step."
        ),
        "membrane_test": Param(
            "str",
            None,
            int_as_text=True,
            doc="Epoch letter of the membrane-test step, or 'auto' (first step that "
            "changes level); unset: no membrane test.",
        ),
        "holding_mv": Param("float", None, unit="mV", doc="Holding potential."),
        "sweep_interval_s": Param(
            "float",
            None,
            min=0,
            unit="s",
            doc="Documented start-to-start interval of the protocol; measurement takes the "
            "true interval of each file from its header (ABF1 fEpisodeStartToStart, ABF2 "
            "protocol section, or the synch array), so this value is not applied.",
        ),
        "step_protocol": Param("list[table]", [], fields=_STEP, doc="Documented voltage steps."),
        "units": Param("str", None, doc="Override of the current channel's units."),
        "steady_state_sweeps": Param(
            "int", 5, min=1, doc="Last N sweeps before a solution change averaged for steady state."
        ),
        "qc_ra_change_max_pct": Param(
            "float", 20.0, min=0, unit="%", doc="Max |Ra change| from start to end of the cell."
        ),
        "qc_rundown_max_pct_per_min": Param(
            "float", 1.0, min=0, unit="%/min", doc="Max run-down rate during control."
        ),
        "qc_min_control_current": Param(
            "float", 0.0, min=0, unit="pA", doc="Min |control current| (steady state)."
        ),
    }
}


def resolve_window(
    rec: Recording, sweep: int, spec: dict[str, Any], *, command_channel: int = 0
) -> tuple[int, int, float]:
    """Sample range ``[start, stop)`` of a window in ``sweep`` and its command level.

    Returns
    -------
    (start, stop, level)
        ``level`` is the epoch's command level (NaN for time-based windows).

    Raises
    ------
    InputError
        When the epoch does not exist or the window is empty or reaches outside the
        sweep (never silently clipped).
    """
    rate = rec.sample_rate
    n = rec.sweep_points(sweep)
    epoch_key = spec.get("epoch")
    start_ms = float(spec.get("start_ms") or 0.0)
    end_ms = spec.get("end_ms")
    if epoch_key in (None, ""):
        lo = round(start_ms * rate / 1000.0)
        hi = n if end_ms is None else round(float(end_ms) * rate / 1000.0)
        level = float("nan")
    else:
        key: str | int = epoch_key if isinstance(epoch_key, int) else str(epoch_key).strip()
        if isinstance(key, str) and key.lstrip("-").isdigit():
            key = int(key)
        ep = rec.epoch(sweep, key, channel=command_channel)
        origin = ep.start if spec.get("anchor", "start") == "start" else ep.stop
        lo = origin + round(start_ms * rate / 1000.0)
        hi = ep.stop if end_ms is None else origin + round(float(end_ms) * rate / 1000.0)
        level = ep.level
    if not (0 <= lo < hi <= n):
        raise InputError(
            f"window {spec} gives samples [{lo}:{hi}] outside the sweep (0-{n})",
            file=rec.path,
            sweep=sweep,
            expected="a non-empty window inside the sweep",
        )
    return lo, hi, level


def measure_trace(
    trace: np.ndarray,
    window: tuple[int, int],
    *,
    measure: str,
    sample_rate: float,
    baseline: tuple[int, int] | None = None,
    blanking_ms: float = 0.0,
    peak_points: int = 1,
    steady_state_ms: float = 5.0,
) -> tuple[float, float]:
    """Measure one sweep: ``(value, baseline)``, ``value`` baseline-subtracted.

    Parameters
    ----------
    trace
        Samples of one sweep.
    window, baseline
        Sample ranges ``(start, stop)``; baseline = mean over its range (0 if None).
    measure
        ``peak_inward`` (minimum), ``peak_outward`` / ``tail_peak`` (maximum), ``mean``,
        ``steady_state`` (mean of the last ``steady_state_ms`` of the window).
    blanking_ms
        Samples in the first ``blanking_ms`` of the window are ignored.
    peak_points
        Number of samples averaged, centred on the extremum; near a window edge the
        block of ``peak_points`` samples is shifted to stay inside the window.
    """
    base = float(np.mean(trace[baseline[0] : baseline[1]], dtype=np.float64)) if baseline else 0.0
    lo = window[0] + round(blanking_ms * sample_rate / 1000.0)
    hi = window[1]
    if lo >= hi:
        raise ValueError("blanking removes the whole measurement window")
    seg = trace[lo:hi]
    if measure in ("peak_inward", "peak_outward", "tail_peak"):
        k = int(np.argmin(seg)) if measure == "peak_inward" else int(np.argmax(seg))
        # exactly peak_points samples centred on the extremum, shifted to stay inside
        # the window when the extremum is near either edge
        a = min(max(0, k - (peak_points - 1) // 2), max(0, seg.size - peak_points))
        b = min(seg.size, a + peak_points)
        raw = float(np.mean(seg[a:b], dtype=np.float64))
    elif measure == "mean":
        raw = float(np.mean(seg, dtype=np.float64))
    elif measure == "steady_state":
        m = max(1, round(steady_state_ms * sample_rate / 1000.0))
        raw = float(np.mean(seg[-m:], dtype=np.float64))
    else:
        raise ValueError(f"unknown measure {measure!r}")
    return raw - base, base


def _tag_columns(rec: Recording) -> tuple[list[str], list[int]]:
    """Most recent tag that occurred before the end of each sweep, and its 1-based index.

    A tag at 180.38 s in a file of 0.1-s sweeps every 5 s lies in sweep 36's interval
    (:attr:`Tag.sweep` = 36) but after sweep 36 was recorded, so it first applies to
    sweep 37; a tag during a sweep's recording applies to that sweep.
    """
    text, index = [], []
    for s in range(rec.sweep_count):
        end = float(rec.sweep_times_s[s]) + rec.sweep_points(s) / rec.sample_rate
        cur, k = "", 0
        for i, tag in enumerate(rec.tags):
            if tag.time_s < end:
                cur, k = tag.comment, i + 1
        text.append(cur)
        index.append(k)
    return text, index


def _failed_row(file: str, reason: str, proto: Protocol | None) -> pd.DataFrame:
    row = {c: np.nan for c in PER_SWEEP_COLUMNS}
    row.update(
        file=file,
        measure=proto["measure"] if proto else "",
        units="",
        tag="",
        leak_subtraction="",
        protocol=proto.label if proto else "",
        status="failed",
        reason=reason,
    )
    return _typed([row])


_INT_COLUMNS = ("sweep", "channel", "tag_index")
_FLOAT_COLUMNS = ("time_s", "value", "baseline", "ra_mohm", "rm_mohm", "cm_pf", "holding_pa")


def _typed(rows: list[dict[str, Any]]) -> pd.DataFrame:
    """The per-sweep table of ``rows`` (dicts keyed by :data:`PER_SWEEP_COLUMNS`).

    Built column by column with the final dtypes (nullable ``Int64`` for counts,
    ``float64`` for values, ``object`` for text), which is several times faster than a
    frame of rows converted afterwards -- this runs once per file of a batch.
    """
    cols: dict[str, Any] = {}
    for c in PER_SWEEP_COLUMNS:
        values = [r.get(c) for r in rows]
        if c in _INT_COLUMNS:
            cols[c] = pd.array(values, dtype="Int64")
        elif c in _FLOAT_COLUMNS:
            cols[c] = np.array(values, dtype=np.float64)
        else:
            cols[c] = pd.Series(values, dtype=object)
    return pd.DataFrame(cols)


def measure_file(
    path: str | os.PathLike[str], protocol: Protocol, units: str | None = None
) -> pd.DataFrame:
    """Per-sweep table for one file (see :func:`measure`); never raises on bad files.

    A file that cannot be read or measured gives one row with ``status="failed"``
    and the reason.
    """
    label = os.fspath(path)
    try:
        return _measure_file(label, protocol, units)
    except NplabError as exc:
        return _failed_row(label, str(exc), protocol)
    except MemoryError:
        return _failed_row(label, f"{label}: not enough memory to measure this file", protocol)
    except OSError as exc:
        return _failed_row(label, f"{label}: cannot read the file ({exc.strerror or exc})", protocol)
    except (ValueError, IndexError, ZeroDivisionError) as exc:
        return _failed_row(label, f"{label}: could not be measured ({exc})", protocol)
    except Exception as exc:  # one odd file must never abort a batch of thousands
        return _failed_row(
            label, f"{label}: unexpected error ({type(exc).__name__}: {exc})", protocol
        )


def _measure_file(label: str, proto: Protocol, units: str | None) -> pd.DataFrame:
    p = proto.params
    ch = int(p["channel"])
    override = units or p.get("units")
    rec = read_abf(label)
    if ch >= rec.channel_count:
        raise InputError(
            f"channel {ch} does not exist ({rec.channel_count} channel(s))",
            file=label,
            column="channel",
        )
    if override:
        rec.units[ch] = override
    unit = rec.units[ch]
    notes: list[str] = []
    if override:
        from nplab.ephys.abf import _unit_warning

        warn = _unit_warning(np.asarray(rec.sweep_view(0, ch)), unit)
    else:
        warn = rec.unit_warnings[ch]
    # implausible header or units (nplab.ephys.abfcheck): measured, but marked suspect
    suspect = [*rec.suspect, warn] if warn else list(rec.suspect)
    notes.extend(suspect)
    scale = unit_scale(unit)
    to_pa = scale[1] if scale and scale[0] == "current" else None
    if scale and scale[0] == "voltage":
        notes.append(f"channel {ch} records a voltage ({unit}): current-clamp recording?")
    cmd = int(p["command_channel"])
    leak_note = rec.leak_subtraction[ch].note if ch < len(rec.leak_subtraction) else ""
    tag_text, tag_index = _tag_columns(rec)

    rows = []
    for s in range(rec.sweep_count):
        trace = rec.sweep_view(s, ch)
        win = resolve_window(rec, s, p["window"], command_channel=cmd)
        base = (
            resolve_window(rec, s, p["baseline"], command_channel=cmd) if p["baseline"] else None
        )
        value, baseline = measure_trace(
            trace,
            win[:2],
            measure=p["measure"],
            sample_rate=rec.sample_rate,
            baseline=base[:2] if base else None,
            blanking_ms=p["blanking_ms"],
            peak_points=p["peak_points"],
            steady_state_ms=p["steady_state_ms"],
        )
        leak = leak_note
        if p["leak_subtraction"] == "linear":
            value, text = _linear_leak(rec, s, trace, p, win, base, baseline, value, cmd)
            leak = f"{text}; {leak_note}" if leak_note else text
        mt = {"ra_mohm": np.nan, "rm_mohm": np.nan, "cm_pf": np.nan, "holding_pa": np.nan}
        if p["membrane_test"]:
            if to_pa is None:
                if s == 0 and not (scale and scale[0] == "voltage"):
                    notes.append(f"membrane test needs a current channel (units '{unit}')")
            else:
                mt = _membrane(rec, s, trace, p["membrane_test"], cmd, to_pa)
        rows.append(
            {
                "file": label,
                "sweep": s,
                "time_s": float(rec.sweep_times_s[s]),
                "channel": ch,
                "measure": p["measure"],
                "value": value,
                "baseline": baseline,
                "units": unit,
                "tag": tag_text[s],
                "tag_index": tag_index[s],
                **mt,
                "leak_subtraction": leak,
                "protocol": proto.label,
                "status": "suspect" if suspect else "ok",
                "reason": "; ".join(notes),
            }
        )
    return _typed(rows)


def _linear_leak(rec, s, trace, p, win, base, baseline, value, cmd) -> tuple[float, str]:
    """Subtract G_leak·(V_test − V_hold) estimated from the leak step."""
    if not p["leak_window"] or base is None:
        raise InputError(
            "linear leak subtraction needs 'leak_window' and 'baseline' windows",
            file=rec.path,
            column="leak_window",
        )
    lw = resolve_window(rec, s, p["leak_window"], command_channel=cmd)
    i_leak = float(np.mean(trace[lw[0] : lw[1]], dtype=np.float64)) - baseline
    v_hold, v_leak, v_test = base[2], lw[2], win[2]
    if not all(math.isfinite(v) for v in (v_hold, v_leak, v_test)) or v_leak == v_hold:
        raise InputError(
            "linear leak subtraction needs epoch-based baseline, leak and measurement "
            f"windows with distinct command levels (hold {v_hold}, leak {v_leak}, test {v_test})",
            file=rec.path,
            sweep=s,
            column="leak_window",
        )
    g = i_leak / (v_leak - v_hold)
    corrected = value - g * (v_test - v_hold)
    return corrected, f"offline linear: G_leak={g:.6g} {rec.units[p['channel']]}/mV"


def _membrane(rec, s, trace, key, cmd, to_pa) -> dict[str, float]:
    eps = rec.epochs(s, cmd)
    idx = None
    if key == "auto":
        for i in range(1, len(eps)):
            if eps[i].type == "Step" and eps[i].level != eps[i - 1].level and eps[i].index >= 0:
                idx = i
                break
    else:
        want: str | int = key.strip()
        if isinstance(want, str) and want.lstrip("-").isdigit():
            want = int(want)
        # a letter or index that is not in the table is an InputError (as for windows)
        idx = eps.index(rec.epoch(s, want, channel=cmd))
    if idx is None or idx == 0:
        return {"ra_mohm": np.nan, "rm_mohm": np.nan, "cm_pf": np.nan, "holding_pa": np.nan}
    prev, step = eps[idx - 1], eps[idx]
    res = membrane_test(
        np.asarray(trace[prev.start : step.stop], dtype=np.float64) * to_pa,
        step_index=step.start - prev.start,
        dv_mv=step.level - prev.level,
        sample_rate=rec.sample_rate,
    )
    return res


def expand_paths(items: Iterable[str | os.PathLike[str]]) -> list[str]:
    """Files as given, with folders replaced by their ``*.abf`` files (sorted)."""
    out: list[str] = []
    for item in items:
        p = Path(item)
        if p.is_dir():
            out.extend(
                os.fspath(f) for f in sorted(p.iterdir()) if f.suffix.lower() == ".abf" and f.is_file()
            )
        else:
            out.append(os.fspath(item))
    return out


def _file_list(paths_or_table: Any) -> list[str]:
    if isinstance(paths_or_table, pd.DataFrame):
        if "file" not in paths_or_table.columns:
            raise InputError("the table has no 'file' column", column="file")
        return [str(f) for f in paths_or_table["file"]]
    if isinstance(paths_or_table, str | os.PathLike):
        return expand_paths([paths_or_table])
    if isinstance(paths_or_table, Sequence | Iterable):
        return expand_paths(list(paths_or_table))
    raise InputError(
        f"cannot measure {type(paths_or_table).__name__}",
        expected="a path, a list of paths, a folder or a table with a 'file' column",
    )


def _measure_chunk(args: tuple[list[str], Protocol, str | None]) -> list[pd.DataFrame]:
    files, proto, units = args
    return [measure_file(f, proto, units) for f in files]


def measure(
    paths_or_table: Any,
    protocol: str | os.PathLike[str] | Protocol = "patchclamp-nav-resting",
    *,
    executor: Any = None,
    progress: bool | None = None,
    units: str | None = None,
) -> pd.DataFrame:
    """Measure every sweep of every file: the per-sweep table.

    Parameters
    ----------
    paths_or_table
        A file, a folder (its ``*.abf`` files, sorted), a list of those, or a table
        with a ``file`` column (e.g. an experiment table; duplicates measured once
        per occurrence).
    protocol
        ``patchclamp`` protocol name, path or :class:`~nplab.protocols.Protocol`.
    executor
        ``None`` (serial for small batches, local process pool otherwise), ``"serial"``,
        an int (number of local processes), a ``concurrent.futures.Executor`` or a
        ``dask.distributed.Client``, or a Dask scheduler address ``"tcp://…"``.
        Results are identical to serial in every case.
    progress
        Show a tqdm bar; ``None``: only when stderr is a terminal.
    units
        Override of the current channel's units (e.g. ``"pA"``).

    Returns
    -------
    pandas.DataFrame
        One row per file × sweep, in input order then sweep:

        ``file`` (as given), ``sweep``, ``time_s`` (sweep start from the true sweep
        interval, s), ``channel``, ``measure``, ``value`` (baseline-subtracted, in
        ``units``), ``baseline``, ``units``, ``tag`` (text of the most recent tag that
        occurred before the end of this sweep's recording, "" if none), ``tag_index``
        (0 before any tag, then 1, 2, … in time order),
        ``ra_mohm``, ``rm_mohm``, ``cm_pf``, ``holding_pa`` (membrane test, NaN when
        none), ``leak_subtraction`` (note), ``protocol`` (name@version),
        ``status`` (``ok``/``suspect``/``failed``), ``reason``.  A file that cannot
        be read or measured yields one ``failed`` row with the reason; a file whose
        header is implausible but readable, or whose magnitudes do not fit the
        units, is measured and its rows are ``suspect`` with the reason (see
        :mod:`nplab.ephys.abfcheck`); downstream tables use only ``ok`` rows.  A
        worker process killed by the operating system gives a ``failed`` row
        "worker died (signal 9)" for its file only.
    """
    from nplab.batch import map_chunks

    proto = load_protocol(protocol, kind="patchclamp")
    files = _file_list(paths_or_table)
    if not files:
        raise InputError("no files to measure", expected="at least one .abf file")
    tables = map_chunks(
        _measure_chunk,
        files,
        make_task=lambda chunk: (chunk, proto, units),
        executor=executor,
        progress=progress,
        desc="measure",
        on_worker_death=lambda f, why: _failed_row(str(f), f"{f}: {why}", proto),
    )
    if not tables:
        return _typed([])
    return pd.concat(tables, ignore_index=True)
