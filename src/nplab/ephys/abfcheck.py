"""Sanity and plausibility checks of ABF headers (what a hostile or corrupted header
must not do to a batch).

ABF files carry no checksum, so :func:`~nplab.ephys.read_abf` checks the header in two
steps:

1. **Layout** (:func:`check_layout`, before anything is allocated): every count and
   offset in the header is checked against the file size — ABF1 data, tag and synch
   array sections (``lDataSectionPtr``/``lActualAcqLength``, ``lTagSectionPtr``/
   ``lNumTagEntries``, ``lSynchArrayPtr``/``lSynchArraySize``), the ABF2 section map
   (18 entries of block, entry size, entry count), the channel count and the sweep
   count against the sweeps the data block can hold.  A header that fails is an
   :class:`~nplab.errors.InputError` naming the field, e.g. "header claims
   2147483647 sweeps; the data block holds 6".
2. **Plausibility** (:func:`plausibility`, after parsing).  The checks split into
   two kinds:

   ``failed`` — no trustworthy number can come out of the file:

   * sample rate not finite, ≤ 0 or outside 1 Hz – 1 MHz per channel (Axon
     digitizers sample at most 500 kHz);
   * a channel's int16 → value gain or offset is 0, infinite or NaN.

   ``suspect`` — the file reads, but a value in it contradicts another, so numbers
   (amplitudes, times, windows) may be wrong; the rows are measured and marked
   ``suspect`` with the reason, and downstream tables do not use them as ``ok``:

   * the ADC sample interval is not a whole number of 10-ns clock ticks (Clampex
     only writes intervals the digitizer clock can make; a changed byte in the
     float usually breaks this);
   * the start-to-start sweep interval is shorter than a sweep, longer than a day,
     or disagrees (by more than one sample, or 0.1 %) with the sweep starts in the
     synch array;
   * scaling factors outside what Axon hardware writes: ADC range outside
     (0, 20] V or not a whole number of 10 mV (10, 10.24, 11 V are real), ADC resolution not 2^11–2^16, programmable gain not a power of two
     up to 128, signal-conditioner or telegraphed amplifier gain not on the
     1–2–2.5–5 series, |instrument scale factor| outside 1e-6–1e3 V/unit;
   * the epoch table needs more samples than a sweep holds, or has negative
     durations or unknown epoch types (for DACs whose waveform is enabled);
   * the magnitudes of the measured channel do not fit its units
     (:attr:`~nplab.ephys.Recording.unit_warnings`; set in
     :mod:`nplab.ephys.measure`, cleared by a ``units=`` override that fits);
   * a recorded command channel (a mV channel in voltage clamp) does not follow
     the epoch table's step levels (checked on the first and last sweep).

Real files in the shared corpus flagged ``suspect`` (and why the flag is right):
``File_axon_7.abf`` (header start-to-start 10 s, synch array 8.928 s — one of the
two is wrong, so its sweep times cannot be trusted; written by a creator "0.0.0.0")
and ``2018_12_09_pCLAMP11_0001.abf`` (units "A" on a pA-scale signal; ``units="pA"``
clears it).  No real file fails.  Over 100 seeds of 200 random header bytes changed,
a synthetic ABF1 file was failed 85×, suspect 14× and unchanged 1×; the real ABF2
``2018_11_16_sh_0006.abf`` failed 99×, suspect 1× (``tests/ephys/test_abf_hostile.py``).
"""

from __future__ import annotations

import math
import struct
from typing import Any, BinaryIO

import numpy as np

from nplab.errors import InputError

__all__ = ["ABF1_HEADER_BYTES", "ABF2_SECTIONS", "check_layout", "check_parsed", "plausibility"]

#: Bytes of the ABF1 header pyabf reads (fields up to ``nCreatorBuildVersion``).
ABF1_HEADER_BYTES = 5806
_BLOCK = 512
#: ABF2 section map (ABFFIO ``ABF_FileInfo``): name and byte offset of each entry.
ABF2_SECTIONS = (
    ("protocol", 76), ("ADC", 92), ("DAC", 108), ("epoch", 124), ("ADC-per-DAC", 140),
    ("epoch-per-DAC", 156), ("user list", 172), ("stats region", 188), ("math", 204),
    ("strings", 220), ("data", 236), ("tag", 252), ("scope", 268), ("delta", 284),
    ("voice tag", 300), ("synch array", 316), ("annotation", 332), ("stats", 348),
)
_MAX_CHANNELS = 16
_RATE_LIMITS = (1.0, 1e6)


def _fail(label: str, message: str) -> InputError:
    return InputError(message, file=label, expected="an intact ABF header")


def _read(fh: BinaryIO, head: bytes, offset: int, fmt: str) -> tuple:
    """Unpack ``fmt`` at ``offset`` from the cached head or, beyond it, the file."""
    n = struct.calcsize(fmt)
    if offset + n <= len(head):
        return struct.unpack_from(fmt, head, offset)
    fh.seek(offset)
    raw = fh.read(n)
    if len(raw) < n:
        raise InputError(f"header field at byte {offset} lies past the end of the file")
    return struct.unpack(fmt, raw)


def _section_end(label: str, what: str, start: int, entry: int, count: int, size: int) -> None:
    end = start + entry * count
    if what.startswith("data") and 0 <= start < size < end:
        raise InputError(
            f"file is truncated ({size} bytes; its header describes {end})",
            file=label,
            expected="a complete ABF file",
        )
    if start < 0 or count < 0 or end > size:
        raise _fail(
            label,
            f"header claims {count} {what} of {entry} bytes at byte {start}, past the end "
            f"of the file ({size} bytes)",
        )


def _sweeps_held(label: str, claimed: int, mode: int, points: int, per_sweep: int, nch: int) -> None:
    if mode == 3:  # gap-free: one sweep whatever the header says (pyabf does the same)
        return
    if claimed < 0:
        raise _fail(label, f"header claims {claimed} sweeps")
    unit = per_sweep if mode != 1 and per_sweep > 0 else nch
    held = points // max(1, unit)
    if claimed > max(1, held):
        raise _fail(label, f"header claims {claimed} sweeps; the data block holds {held}")


def _nonzero(label: str, what: str, value: float) -> None:
    """Fields pyabf divides by: 0, NaN or infinite fail the file (no number can be right)."""
    if not (math.isfinite(value) and value != 0):
        raise _fail(label, f"implausible header: {what} is {value:.6g}")


def _check_rate(label: str, interval_us: float, nch: int) -> None:
    _nonzero(label, "the sample interval (us)", interval_us)
    rate = 1e6 / interval_us / nch
    if not _RATE_LIMITS[0] <= rate <= _RATE_LIMITS[1]:
        raise _fail(label, f"implausible header: sample rate {rate:.6g} Hz is outside "
                           "1 Hz - 1 MHz")


def check_layout(fh: BinaryIO, head: bytes, size: int, label: str) -> None:
    """Check every count and offset of the header against the file size.

    Parameters
    ----------
    fh
        The open file (read only for fields beyond ``head``).
    head
        The first bytes of the file (at least the ABF1 header when the file has it).
    size
        File size in bytes.
    label
        File name for messages.

    Raises
    ------
    InputError
        Naming the field that points outside the file or claims more than it holds.
    """
    sig = head[:4]
    if sig == b"ABF ":
        _check_abf1(fh, head, size, label)
    elif sig == b"ABF2":
        _check_abf2(fh, head, size, label)
    else:
        raise InputError(
            "not a readable ABF file (it does not start with an ABF signature)",
            file=label,
            expected="an Axon ABF1 or ABF2 file",
        )


def _check_abf1(fh: BinaryIO, head: bytes, size: int, label: str) -> None:
    if size < ABF1_HEADER_BYTES:
        raise InputError(
            f"not a readable ABF file ({size} bytes, fewer than an ABF1 header's "
            f"{ABF1_HEADER_BYTES})",
            file=label,
            expected="an Axon ABF1 or ABF2 file",
        )
    (mode,) = _read(fh, head, 8, "<h")
    (points,) = _read(fh, head, 10, "<i")
    (ignored,) = _read(fh, head, 14, "<h")
    (sweeps,) = _read(fh, head, 16, "<i")
    data_ptr, tag_ptr, n_tags = _read(fh, head, 40, "<3i")
    synch_ptr, n_synch = _read(fh, head, 92, "<2i")
    (fmt,) = _read(fh, head, 100, "<h")
    (nch,) = _read(fh, head, 120, "<h")
    (per_sweep,) = _read(fh, head, 138, "<i")
    if mode not in (1, 2, 3, 4, 5):
        raise _fail(label, f"header gives operation mode {mode} (known: 1-5)")
    if not 1 <= nch <= _MAX_CHANNELS:
        raise _fail(label, f"header claims {nch} channels (ABF1 holds 1-{_MAX_CHANNELS})")
    seq = _read(fh, head, 410, f"<{nch}h")
    bad = [s for s in seq if not 0 <= s < _MAX_CHANNELS]
    if bad:
        raise _fail(label, f"header's ADC sampling sequence names channel {bad[0]} (0-15)")
    if fmt not in (0, 1):
        raise _fail(label, f"header gives data format {fmt} (0 = int16, 1 = float32)")
    if points <= 0:
        raise InputError("the file holds no data", file=label)
    if data_ptr <= 0:
        raise _fail(label, f"header puts the data block at block {data_ptr}")
    item = 2 if fmt == 0 else 4
    _section_end(label, "data samples", data_ptr * _BLOCK + max(0, ignored), item, points, size)
    if n_tags:
        _section_end(label, "tags", tag_ptr * _BLOCK, 64, n_tags, size)
    if synch_ptr and n_synch:
        _section_end(label, "synch array entries", synch_ptr * _BLOCK, 8, n_synch, size)
    _sweeps_held(label, sweeps, mode, points, per_sweep, nch)
    (interval,) = _read(fh, head, 122, "<f")
    _check_rate(label, interval, nch)
    (adc_range,) = _read(fh, head, 244, "<f")
    (resolution,) = _read(fh, head, 252, "<i")
    _nonzero(label, "the ADC range", adc_range)
    _nonzero(label, "the ADC resolution", resolution)
    for ch, i in enumerate(seq):
        for name, off in (("instrument scale factor", 922), ("signal gain", 1050),
                          ("programmable gain", 730)):
            _nonzero(label, f"channel {ch} {name}", _read(fh, head, off + 4 * i, "<f")[0])
        if _read(fh, head, 4512 + 2 * i, "<h")[0] == 1:
            _nonzero(label, f"channel {ch} telegraphed gain",
                     _read(fh, head, 4576 + 4 * i, "<f")[0])


def _check_abf2(fh: BinaryIO, head: bytes, size: int, label: str) -> None:
    need = ABF2_SECTIONS[-1][1] + 16
    if size < need:
        raise InputError(
            f"not a readable ABF file ({size} bytes, fewer than the ABF2 section map's {need})",
            file=label,
            expected="an Axon ABF1 or ABF2 file",
        )
    sections = {}
    for name, off in ABF2_SECTIONS:
        block, entry, count = _read(fh, head, off, "<IIq")
        sections[name] = (block, entry, count)
        if count == 0 or block == 0:
            continue
        if count > 2**31 - 1 or count < 0 or entry == 0:
            raise _fail(
                label, f"header claims {count} {name} entries of {entry} bytes at block {block}"
            )
        _section_end(label, f"{name} entries", block * _BLOCK, entry, count, size)
    # sections pyabf always reads must be present
    for name in ("protocol", "ADC", "data", "strings"):
        block, entry, count = sections[name]
        if block == 0 or count <= 0:
            if name == "data":
                raise InputError("the file holds no data", file=label)
            raise _fail(label, f"header has no {name} section")
    nch = sections["ADC"][2]
    if nch > _MAX_CHANNELS:
        raise _fail(label, f"header claims {nch} channels (ABF2 holds 1-{_MAX_CHANNELS})")
    (fmt,) = _read(fh, head, 30, "<H")
    if fmt not in (0, 1):
        raise _fail(label, f"header gives data format {fmt} (0 = int16, 1 = float32)")
    _, entry, points = sections["data"]
    if entry not in (2, 4):
        raise _fail(label, f"header gives {entry}-byte samples (2 or 4)")
    (sweeps,) = _read(fh, head, 12, "<I")
    proto = sections["protocol"][0] * _BLOCK
    (mode,) = _read(fh, head, proto, "<h")
    (per_sweep,) = _read(fh, head, proto + 22, "<i")
    if mode not in (1, 2, 3, 4, 5):
        raise _fail(label, f"header gives operation mode {mode} (known: 1-5)")
    _sweeps_held(label, sweeps, mode, points, per_sweep, nch)
    _check_rate(label, _read(fh, head, proto + 2, "<f")[0], 1)
    _nonzero(label, "the ADC range", _read(fh, head, proto + 110, "<f")[0])
    _nonzero(label, "the ADC resolution", _read(fh, head, proto + 118, "<i")[0])
    adc_block, adc_entry, _ = sections["ADC"]
    for ch in range(nch):
        base = adc_block * _BLOCK + ch * adc_entry
        for name, off in (("instrument scale factor", 40), ("signal gain", 48),
                          ("programmable gain", 28)):
            _nonzero(label, f"channel {ch} {name}", _read(fh, head, base + off, "<f")[0])
        if _read(fh, head, base + 2, "<h")[0] == 1:
            _nonzero(label, f"channel {ch} telegraphed gain", _read(fh, head, base + 6, "<f")[0])


# ----------------------------------------------------------------- plausibility
_SERIES = (1.0, 2.0, 2.5, 5.0)


def _on_series(value: float, low: float = 1e-3, high: float = 1e5) -> bool:
    """True for 1–2–2.5–5 × 10^k values between ``low`` and ``high``."""
    if not (math.isfinite(value) and low <= value <= high):
        return False
    mant = value / 10.0 ** math.floor(math.log10(value))
    return any(abs(mant - s) <= 1e-5 * s for s in (*_SERIES, 10.0))


def _on_clock(interval_us: float) -> bool:
    """True when a float32 sample interval (µs) is a whole number of 10-ns ticks."""
    ticks = interval_us * 100.0
    ulp = float(np.spacing(np.float32(interval_us))) * 100.0
    return abs(ticks - round(ticks)) <= 0.5 * ulp + 1e-9


def _channel_scaling(abf: Any) -> list[dict[str, float]]:
    """Per-channel scaling components as pyabf applies them."""
    out = []
    if abf.abfVersion["major"] == 1:
        h = abf._headerV1
        for ch in range(abf.channelCount):
            i = h.nADCSamplingSeq[ch]
            out.append(dict(
                scale=h.fInstrumentScaleFactor[i], signal=h.fSignalGain[i],
                programmable=h.fADCProgrammableGain[i],
                telegraph=h.fTelegraphAdditGain[i] if h.nTelegraphEnable[i] == 1 else None,
                range=h.fADCRange, resolution=h.lADCResolution,
            ))
    else:
        a, p = abf._adcSection, abf._protocolSection
        for ch in range(abf.channelCount):
            out.append(dict(
                scale=a.fInstrumentScaleFactor[ch], signal=a.fSignalGain[ch],
                programmable=a.fADCProgrammableGain[ch],
                telegraph=a.fTelegraphAdditGain[ch] if a.nTelegraphEnable[ch] == 1 else None,
                range=p.fADCRange, resolution=p.lADCResolution,
            ))
    return out


def check_parsed(abf: Any, label: str) -> None:
    """Fail a parsed header from which no trustworthy number can come (before loading).

    Raises
    ------
    InputError
        Sample rate outside 1 Hz - 1 MHz, or a channel's gain or offset 0, infinite
        or NaN in float32.
    """
    rate = float(abf.dataRate)
    if not (math.isfinite(rate) and _RATE_LIMITS[0] <= rate <= _RATE_LIMITS[1]):
        raise _fail(label, f"implausible header: sample rate {rate:.6g} Hz is outside "
                           "1 Hz - 1 MHz")
    if abf._dtype != np.int16:
        return
    for ch, (gain, offset) in enumerate(zip(abf._dataGain, abf._dataOffset, strict=True)):
        g, o = float(gain), float(offset)
        if not (math.isfinite(g) and 1e-30 < abs(g) < 1e30 and math.isfinite(o) and abs(o) < 1e30):
            raise _fail(
                label,
                f"implausible header: channel {ch} scaling gives {g:.4g} per step and offset "
                f"{o:.4g} (a scale factor of 0 or beyond range)",
            )


def _scaling_problems(abf: Any) -> list[str]:
    suspect: list[str] = []
    if abf._dtype != np.int16:
        return suspect
    for ch, s in enumerate(_channel_scaling(abf)):
        what = []
        rng = float(s["range"])
        ulp = float(np.spacing(np.float32(rng))) if math.isfinite(rng) else 0.0
        if not (0.0 < rng <= 20.0 and abs(rng - round(rng, 2)) <= ulp):
            what.append(f"ADC range {rng:.6g} V")
        if s["resolution"] not in (2**11, 2**12, 2**13, 2**14, 2**15, 2**16):
            what.append(f"ADC resolution {s['resolution']}")
        if s["programmable"] not in (1, 2, 4, 8, 16, 32, 64, 128):
            what.append(f"programmable gain {s['programmable']:.6g}")
        if not _on_series(s["signal"]):
            what.append(f"signal gain {s['signal']:.6g}")
        if s["telegraph"] is not None and not _on_series(s["telegraph"], 1e-2, 1e4):
            what.append(f"telegraphed gain {s['telegraph']:.6g}")
        if not 1e-6 <= abs(s["scale"]) <= 1e3:
            what.append(f"instrument scale factor {s['scale']:.4g} V/unit")
        if what:
            suspect.append(f"channel {ch}: {', '.join(what)} not what Axon hardware writes")
    return suspect


def _epoch_problems(abf: Any, sweep_points: int, sweep_count: int, extended: bool) -> list[str]:
    """Epoch tables (of enabled DAC waveforms) that do not fit in a sweep."""
    tables = []
    if abf.abfVersion["major"] == 1:
        if not extended:  # old 2048-byte header: no epoch section
            return []
        h = abf._headerV1
        for dac in range(2):
            if h.nWaveformEnable[dac] == 1 and h.nWaveformSource[dac] == 1:
                sl = slice(10 * dac, 10 * dac + 10)
                tables.append((dac, h.nEpochType[sl], h.lEpochInitDuration[sl],
                               h.lEpochDurationInc[sl]))
    else:
        sec = abf._epochPerDacSection
        dac_sec = abf._dacSection
        entry = {d: i for i, d in enumerate(dac_sec.nDACNum)}
        for dac in sorted(set(sec.nDACNum)):
            i = entry.get(dac)
            if i is None or not (
                dac_sec.nWaveformEnable[i] == 1 and dac_sec.nWaveformSource[i] == 1
            ):
                continue
            rows = [i for i, d in enumerate(sec.nDACNum) if d == dac]
            tables.append((dac, [sec.nEpochType[i] for i in rows],
                           [sec.lEpochInitDuration[i] for i in rows],
                           [sec.lEpochDurationInc[i] for i in rows]))
    out = []
    pre = sweep_points // 64
    for dac, types, dur, inc in tables:
        used = [(t, d, k) for t, d, k in zip(types, dur, inc, strict=True) if t != 0]
        if any(t not in (1, 2, 3, 4, 5) for t, _, _ in used):
            out.append(f"DAC {dac} epoch table has unknown epoch types {[t for t, _, _ in used]}")
            continue
        last = sweep_count - 1
        need = pre + max(
            sum(d for _, d, _ in used), sum(d + k * last for _, d, k in used)
        )
        if any(d < 0 or d + k * last < 0 for _, d, k in used):
            out.append(f"DAC {dac} epoch table has negative durations")
        elif need > sweep_points:
            out.append(f"DAC {dac} epoch table needs {need} samples; a sweep has {sweep_points}")
    return out


def _median(values: np.ndarray) -> float:
    """``np.median`` of a 1-D float64 array, bit for bit (a sort instead of its partition).

    The middle value, or the mean ``(a + b) / 2`` of the two middle values (numpy's
    ``mean`` of two float64 numbers is the same sum and division); NaN when any
    value is NaN.  For the few hundred sweep starts of a file, ``np.median``'s
    overhead (~12 us) is most of the cost.
    """
    ordered = np.sort(values)
    n = ordered.size
    if n == 0 or math.isnan(ordered[-1]):
        return math.nan
    mid = n // 2
    return float(ordered[mid]) if n % 2 else float((ordered[mid - 1] + ordered[mid]) / 2)


def _timing_problems(
    nominal: float, synch: np.ndarray | None, sweep_len_s: float, rate: float, count: int,
    mode: int,
) -> list[str]:
    if mode == 3 or count < 2:
        return []
    out = []
    if nominal > 0:
        if nominal > 86400.0:
            out.append(f"sweep interval {nominal:.6g} s is longer than a day")
        elif nominal * rate < sweep_len_s * rate - 1.0 and mode != 1:
            out.append(
                f"sweep interval {nominal:.6g} s is shorter than a sweep ({sweep_len_s:.6g} s)"
            )
        if synch is not None and synch.size == count and mode != 1:
            d = np.diff(synch)
            gap = _median(d)
            if abs(gap - nominal) > max(1.0 / rate, 1e-3 * nominal):
                out.append(
                    f"header sweep interval {nominal:.6g} s but the synch array starts sweeps "
                    f"{gap:.6g} s apart"
                )
    return out


def _command_problems(rec: Any, abf: Any) -> list[str]:
    """A recorded mV channel that should follow the DAC 0 step levels but does not."""
    if rec.operation_mode != 5 or rec._sweeps is not None or rec.channel_count < 2:
        return []
    dac_units = [str(u).strip() for u in getattr(abf, "dacUnits", [])]
    if not dac_units or dac_units[0] != "mV":
        return []
    volt = [ch for ch in range(1, rec.channel_count) if rec.units[ch] == "mV"]
    if not volt or rec.units[0] == "mV":
        return []
    table = rec._epoch_tables(0)
    if isinstance(table, str):
        return []
    out = []
    for s in sorted({0, rec.sweep_count - 1}):
        steps = [e for e in table[s] if e.type == "Step" and e.stop - e.start >= 20]
        levels = np.array([e.level for e in steps])
        if levels.size < 2 or np.ptp(levels) < 10.0:
            continue
        trace = rec.sweep_view(s, volt[0])
        got = np.array([
            float(np.median(trace[e.start + (e.stop - e.start) // 4 : e.stop])) for e in steps
        ])
        if not np.all(np.isfinite(got)) or np.ptp(got) == 0:
            return [f"recorded command channel {volt[0]} is flat while the epoch table steps"]
        r = float(np.corrcoef(levels, got)[0, 1])
        if not r > 0.9:
            out.append(
                f"recorded command channel {volt[0]} does not follow the epoch table in sweep "
                f"{s} (correlation {r:.2f} with the step levels)"
            )
    return out[:1]


def plausibility(rec: Any, abf: Any, *, nominal: float, synch: np.ndarray | None,
                 interval_us: float | None, extended: bool = True) -> list[str]:
    """Reasons a readable header is implausible (``suspect``; see the module notes).

    Parameters
    ----------
    rec
        The :class:`~nplab.ephys.Recording` being built (samples loaded).
    abf
        pyabf's header object.
    nominal
        Start-to-start interval written in the header (0 when absent).
    synch
        Sweep starts from the synch array (s) or ``None``.
    interval_us
        ADC sample interval as written (ABF1 per channel-sample, ABF2 per sequence).
    extended
        False for ABF1 files with the old 2048-byte header (no epoch section).
    """
    suspect = _scaling_problems(abf)
    if interval_us is not None and not _on_clock(interval_us):
        suspect.insert(0, f"sample interval {interval_us:.9g} us is not a whole number of "
                          "10-ns digitizer clock ticks")
    if rec._sweeps is None:
        suspect += _timing_problems(nominal, synch, rec.sweep_length_s, rec.sample_rate,
                                    rec.sweep_count, rec.operation_mode)
        if rec.operation_mode != 3:
            try:
                suspect += _epoch_problems(abf, rec._sweep_points, rec.sweep_count, extended)
            except (AttributeError, IndexError, TypeError):
                suspect.append("the epoch table could not be read")
            if not suspect:
                suspect += _command_problems(rec, abf)
    return suspect
