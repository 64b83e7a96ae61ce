"""Reading Axon ABF1/ABF2 recordings: :func:`read_abf` returns a :class:`Recording`.

pyabf (Harden, swharden/pyABF, MIT) parses the header; the data block is read here
with numpy at ``dataByteStart`` (int16 scaled by pyabf's per-channel gain and offset,
or float32), which gives samples identical to pyabf's ``abf.data`` without pyabf's
per-``setSweep`` epoch-table rebuild (quadratic in the sweep count).  Files with
variable-length sweeps (event-driven, operation mode 1) fall back to pyabf.

Known pyabf pitfalls handled here (see the project's notes/patchclamp.md §1.3):

* ``tagSweeps`` divides tag times by the sweep *length*; the sweep index of a tag is
  ``floor(tag_time / sweep_interval)`` (:attr:`Tag.sweep`).
* For ABF1 pyabf sets the sweep interval to the sweep length; the real
  start-to-start interval is read from the ABF1 header (``fEpisodeStartToStart`` at
  byte 178) or from the synch array.
* The first 1/64 of every sweep is holding before epoch A (:meth:`Recording.epochs`
  lists it as the ``"pre"`` segment).
* :meth:`Recording.sweep` returns a copy, never a view of a buffer callers could
  corrupt.
* Unit strings can be wrong: ``units=`` overrides them and
  :attr:`Recording.unit_warnings` flags implausible magnitudes.

Hostile or corrupted headers (:mod:`nplab.ephys.abfcheck`): every count and offset is
checked against the file size *before* pyabf parses the header (a header claiming
2³¹−1 sweeps is an :class:`~nplab.errors.InputError`, not a 20-GB allocation); after
parsing, headers from which no number can be right fail, and implausible ones are
read with :attr:`Recording.suspect` reasons.  The header is read once per file; the
data block is read and scaled chunk by chunk into the float32 output (same float32
arithmetic as pyabf).
"""

from __future__ import annotations

import datetime as _dt
import math
import os
import struct
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from nplab.ephys.abfcheck import _median, check_layout, check_parsed, plausibility
from nplab.errors import InputError

__all__ = [
    "CURRENT_UNITS",
    "Epoch",
    "EpochTables",
    "LeakSubtraction",
    "Recording",
    "Tag",
    "read_abf",
    "unit_scale",
]

#: Current units and their size in pA.
CURRENT_UNITS: dict[str, float] = {"fA": 1e-3, "pA": 1.0, "nA": 1e3, "uA": 1e6, "µA": 1e6, "A": 1e12}
#: Voltage units and their size in mV.
VOLTAGE_UNITS: dict[str, float] = {"uV": 1e-3, "µV": 1e-3, "mV": 1.0, "V": 1e3}
# Plausible |signal| ranges (robust 99th percentile) in the base unit (pA, mV).
_PLAUSIBLE = {"current": (1e-3, 1e6), "voltage": (1e-2, 2e3)}


def unit_scale(units: str) -> tuple[str, float] | None:
    """Return ``(quantity, factor)`` with factor converting ``units`` to pA or mV.

    ``None`` for units nplab does not know (e.g. ``"V"`` on a pressure channel is
    still a voltage; ``"psi"`` is unknown).
    """
    u = units.strip()
    if u in CURRENT_UNITS:
        return "current", CURRENT_UNITS[u]
    if u in VOLTAGE_UNITS:
        return "voltage", VOLTAGE_UNITS[u]
    return None


@dataclass(frozen=True)
class Epoch:
    """One segment of a sweep's command waveform.

    Attributes
    ----------
    index
        Clampex epoch number (0 = epoch A); ``-1`` for the pre-epoch holding segment
        (the first 1/64 of the sweep) and ``-2`` for the post-epoch segment.
    letter
        ``"A"``, ``"B"``, …; ``"pre"`` / ``"post"`` for the holding segments.
    type
        ``"Step"``, ``"Ramp"``, ``"Pulse"``, …
    level
        Command level at this segment (DAC units, mV in voltage clamp).
    start, stop
        Sample indices within the sweep, half-open ``[start, stop)``.
    """

    index: int
    letter: str
    type: str
    level: float
    start: int
    stop: int


@dataclass(frozen=True)
class Tag:
    """A comment/external tag with its time and the sweep it falls in.

    ``sweep = floor(time_s / sweep_interval_s)`` (not pyabf's ``tagSweeps``); for
    variable-length sweeps, the last sweep that started at or before the tag.
    """

    time_s: float
    sweep: int
    comment: str


@dataclass(frozen=True)
class LeakSubtraction:
    """Online P/N leak-subtraction settings from the header (Bezanilla & Armstrong 1977).

    ``enabled`` is ``None`` when the header does not say.  ``note`` is a one-line
    description used in output tables.
    """

    enabled: bool | None
    pulses: int | None = None
    polarity: int | None = None
    holding_level: float | None = None

    @property
    def note(self) -> str:
        if self.enabled is None:
            return "online P/N: unknown"
        if not self.enabled:
            return "online P/N: off"
        parts = ["online P/N: on (data already leak-subtracted)"]
        if self.pulses:
            parts.append(f"{self.pulses} sub-pulses")
        if self.polarity is not None:
            parts.append("same polarity" if self.polarity > 0 else "opposite polarity")
        return ", ".join(parts)


@dataclass
class Recording:
    """A whole-cell recording read from an ABF file.

    Attributes
    ----------
    path
        File as given.
    abf_version
        e.g. ``"2.6.0.0"``.
    operation_mode
        1 variable-length event-driven, 3 gap-free, 5 episodic.
    sweep_count, channel_count
        Geometry.
    sample_rate
        Samples per second per channel (pyabf's ``dataRate``).
    sweep_interval_s
        Start-to-start interval of sweeps (true interval, see module notes).
    sweep_times_s
        Start time of every sweep (s) from the start of the recording.
    units
        Units of each channel (after ``units=`` override).
    header_units
        Units as written in the header.
    unit_warnings
        Per channel, ``""`` or a note that magnitudes do not fit the units.
    channel_names
        ADC names.
    tags
        :class:`Tag` list in time order.
    leak_subtraction
        Per channel :class:`LeakSubtraction`.
    protocol
        Clampex protocol name (``"None"`` if absent).
    holding
        Holding command per DAC channel (NaN when unknown); for ABF1 read from
        ``fDACHoldingLevel`` (pyabf uses the first epoch levels instead).
    start_datetime
        Recording start from the header (``None`` when the header's date is invalid).
    suspect
        Reasons the header is implausible but readable (``[]`` when none); see
        :mod:`nplab.ephys.abfcheck` for which checks fail a file and which only mark
        it suspect.
    """

    path: str
    abf_version: str
    operation_mode: int
    sweep_count: int
    channel_count: int
    sample_rate: float
    sweep_interval_s: float
    sweep_times_s: np.ndarray
    units: list[str]
    header_units: list[str]
    unit_warnings: list[str]
    channel_names: list[str]
    tags: list[Tag]
    leak_subtraction: list[LeakSubtraction]
    protocol: str
    holding: list[float]
    start_datetime: _dt.datetime | None = None
    suspect: list[str] = field(default_factory=list)
    _head: bytes = field(repr=False, default=b"")
    _data: np.ndarray | None = field(repr=False, default=None)
    _sweeps: list[np.ndarray] | None = field(repr=False, default=None)
    _sweep_points: int = field(repr=False, default=0)
    _abf: Any = field(repr=False, default=None)
    _epochs: dict[int, list[list[Epoch]] | str] = field(repr=False, default_factory=dict)

    # ------------------------------------------------------------------ data
    @property
    def sweep_length_s(self) -> float:
        """Length of sweep 0 in seconds."""
        return self.sweep_points(0) / self.sample_rate

    def sweep_points(self, i: int) -> int:
        """Number of samples in sweep ``i`` (per channel)."""
        self._check_sweep(i, 0)
        if self._sweeps is not None:
            return int(self._sweeps[i].shape[1])
        return self._sweep_points

    def _check_sweep(self, i: int, channel: int) -> None:
        if not (0 <= int(i) < self.sweep_count):
            raise InputError(
                f"sweep {i} does not exist",
                file=self.path,
                expected=f"a sweep index 0-{self.sweep_count - 1}",
            )
        if not (0 <= int(channel) < self.channel_count):
            raise InputError(
                f"channel {channel} does not exist",
                file=self.path,
                column="channel",
                expected=f"a channel index 0-{self.channel_count - 1}",
            )

    def sweep_view(self, i: int, channel: int = 0) -> np.ndarray:
        """Read-only view of sweep ``i`` (no copy; for fast internal use)."""
        self._check_sweep(i, channel)
        if self._sweeps is not None:
            view = self._sweeps[i][channel]
        else:
            n = self._sweep_points
            assert self._data is not None
            view = self._data[channel, i * n : (i + 1) * n]
        view = view.view()
        view.flags.writeable = False
        return view

    def sweep(self, i: int, channel: int = 0) -> np.ndarray:
        """Samples of sweep ``i`` on ``channel`` in recorded units (float32 copy)."""
        return np.array(self.sweep_view(i, channel), copy=True)

    def sweep_time(self, i: int = 0) -> np.ndarray:
        """Time of each sample of sweep ``i`` within the sweep (s)."""
        return np.arange(self.sweep_points(i)) / self.sample_rate

    # ---------------------------------------------------------------- epochs
    @property
    def epochs(self) -> EpochTables:
        """Epoch tables: ``rec.epochs(sweep, channel=0)`` or ``rec.epochs[sweep]``.

        Each table is a list of :class:`Epoch`: the pre-epoch holding segment
        (``letter="pre"``, the first ``sweep_points // 64`` samples), then epochs A,
        B, … and a ``"post"`` segment.  Raises :class:`~nplab.errors.InputError` when
        the file has no usable epoch table (no protocol, inconsistent sample
        indices, variable-length sweeps).
        """
        return EpochTables(self)

    def _epoch_tables(self, channel: int = 0) -> list[list[Epoch]] | str:
        """Every sweep's epoch table of ``channel`` (cached), or why there is none."""
        table = self._epochs.get(channel)
        if table is None:
            table = _epoch_table(self, channel)
            self._epochs[channel] = table
        return table

    def _epoch_list(self, sweep: int, channel: int = 0) -> list[Epoch]:
        self._check_sweep(sweep, 0)
        table = self._epoch_tables(channel)
        if isinstance(table, str):
            raise InputError(f"no usable epoch table: {table}", file=self.path, sweep=sweep)
        return list(table[sweep])

    def epoch(self, sweep: int, key: str | int, channel: int = 0) -> Epoch:
        """One epoch by letter (``"A"``), Clampex index (``0`` = A) or ``"pre"``/``"post"``."""
        for ep in self.epochs(sweep, channel):
            if (isinstance(key, str) and ep.letter == key.strip()) or (
                not isinstance(key, str) and ep.index == int(key)
            ):
                return ep
        letters = ", ".join(e.letter for e in self.epochs(sweep, channel))
        raise InputError(
            f"epoch {key!r} is not in the epoch table",
            file=self.path,
            sweep=sweep,
            expected=f"one of {letters}",
        )


class EpochTables:
    """Per-sweep epoch tables of a :class:`Recording` (callable and indexable)."""

    def __init__(self, rec: Recording) -> None:
        self._rec = rec

    def __call__(self, sweep: int, channel: int = 0) -> list[Epoch]:
        return self._rec._epoch_list(sweep, channel)

    def __getitem__(self, sweep: int) -> list[Epoch]:
        return self._rec._epoch_list(sweep, 0)

    def __len__(self) -> int:
        return self._rec.sweep_count

    def __iter__(self):
        return (self._rec._epoch_list(s, 0) for s in range(self._rec.sweep_count))


def _clean(text: Any) -> str:
    if isinstance(text, bytes):
        text = text.decode("latin-1")
    return str(text).replace("\x00", "").strip()


def _epoch_table(rec: Recording, channel: int) -> list[list[Epoch]] | str:
    abf = rec._abf
    if rec._sweeps is not None:
        return "variable-length sweeps have no fixed epoch table"
    if channel >= len(abf.holdingCommand):
        return f"no command waveform for channel {channel}"
    if abf.abfVersion["major"] == 1 and not _abf1_has_extended_header(rec._head):
        # pyabf reads ABF1 epochs from the ABF 1.8 extended header (bytes 2308-2668),
        # which are samples in files with the old 2048-byte header
        return "this ABF1 file has the old 2048-byte header, without an epoch section"
    varied = _user_list_epoch_params(abf, rec._head)
    if varied:
        return (
            f"a Clampex user list sets epoch parameters per sweep (parameter code(s) "
            f"{', '.join(map(str, varied))}) and the epoch table does not include them; "
            "define the windows by time instead"
        )
    if abf.abfVersion["major"] == 1 and channel >= 2:
        # the ABF1 header holds epoch tables for DAC 0 and 1 only; pyabf would
        # silently return DAC 0's epochs
        return f"ABF1 files store epoch tables for DAC channels 0 and 1 only, not {channel}"
    try:
        import pyabf.waveform

        table = pyabf.waveform.EpochTable(abf, channel)
    except Exception as exc:  # pyabf raises bare exceptions on odd headers
        return f"pyabf could not build it ({type(exc).__name__}: {exc})"
    n = rec._sweep_points
    out: list[list[Epoch]] = []
    for ew in table.epochWaveformsBySweep:
        eps: list[Epoch] = []
        count = len(ew.p1s)
        for k, (p1, p2, lev, typ) in enumerate(zip(ew.p1s, ew.p2s, ew.levels, ew.types, strict=True)):
            if not (0 <= p1 <= p2 <= n) or not math.isfinite(float(lev)):
                return f"epoch sample range [{p1}:{p2}] or level {lev} is invalid"
            if k == 0:
                idx, letter = -1, "pre"
            elif k == count - 1:
                idx, letter = -2, "post"
            else:
                idx = k - 1
                letter = chr(ord("A") + idx) if idx < 26 else f"E{idx}"
            eps.append(Epoch(idx, letter, str(typ), float(lev), int(p1), int(p2)))
        out.append(eps)
    return out


def _abf2_extent(path: Path) -> int | None:
    """Bytes an ABF2 file's section map describes (``None`` if not ABF2).

    ABF2 header (ABFFIO ``ABF_FileInfo``): signature ``"ABF2"``, then at byte 76 the
    section map, 18 entries of (uint32 block index, uint32 bytes, int64 count),
    512-byte blocks.
    """
    with open(path, "rb") as fh:
        head = fh.read(76 + 18 * 16)
    if len(head) < 76 + 18 * 16 or head[:4] != b"ABF2":
        return None
    extent = 0
    for k in range(18):
        block, nbytes, count = struct.unpack_from("<IIq", head, 76 + 16 * k)
        if block and nbytes and count > 0:
            extent = max(extent, block * 512 + nbytes * count)
    return extent or None


def _user_list_epoch_params(abf: Any, head: bytes) -> list[int]:
    """Codes of enabled Clampex user lists that vary epoch levels/durations/trains.

    ``nULParamToVary`` codes from 21 up address epoch parameters (ABFFIO
    ``ABFHEADR.H``: ``ABF_EPOCHINITLEVEL`` and following).  pyabf builds its epoch
    table without user lists (e.g. ``2020_03_02_0000.abf``: the recorded command
    steps to +50 pA in sweep 6 while the table says +100 pA).
    """
    if abf.abfVersion["major"] == 1:
        # ABF 1.8 extended group 12: nULEnable[4] (int16) at 3360, nULParamToVary[4] at
        # 3368 (pyabf 2.3.8 reads both as int32 at 3360)
        if not _abf1_has_extended_header(head):
            return []
        enable, params = _abf1_shorts(head, 3360, 4), _abf1_shorts(head, 3368, 4)
    else:
        enable = getattr(abf, "userListEnable", None)
        params = getattr(abf, "userListParamToVary", None)
    if enable is None or params is None:
        return []
    if not isinstance(enable, list | tuple):
        enable, params = [enable], [params]
    out = []
    for on, code in zip(enable, params, strict=False):
        try:
            if int(on) == 1 and int(code) >= 21:
                out.append(int(code))
        except (TypeError, ValueError):
            continue
    return out


# ---------------------------------------------------------------------- header
def _abf1_bytes(head: bytes, offset: int, size: int) -> bytes:
    """``size`` bytes of the cached ABF1 header at ``offset`` (zeros beyond it)."""
    raw = head[offset : offset + size]
    return raw if len(raw) == size else bytes(size)


def _abf1_float(head: bytes, offset: int) -> float:
    return struct.unpack("<f", _abf1_bytes(head, offset, 4))[0]


def _abf1_shorts(head: bytes, offset: int, count: int) -> tuple[int, ...]:
    return struct.unpack(f"<{count}h", _abf1_bytes(head, offset, 2 * count))


def _abf1_has_extended_header(head: bytes) -> bool:
    """True when bytes 2048-6143 of an ABF1 file are header, not a section.

    ABF1 section pointers (in 512-byte blocks): data at byte 40, tags 44, scope
    config 52, deltas 72, voice tags 80, synch array 92 (ABF 1.8 ``ABFFileHeader``).
    """
    ptrs = [_abf1_int(head, off) for off in (40, 44, 52, 72, 80, 92)]
    blocks = [b for b in ptrs if b > 0]
    return bool(blocks) and min(blocks) * 512 >= 6144


def _abf1_int(head: bytes, offset: int) -> int:
    return struct.unpack("<i", _abf1_bytes(head, offset, 4))[0]


def _synch_starts_s(abf: Any, path: Path) -> np.ndarray | None:
    """Sweep start times (s) from the synch array, or ``None``."""
    if abf.abfVersion["major"] == 1:
        h = abf._headerV1
        if not h.lSynchArrayPtr or not h.lSynchArraySize:
            return None
        count = int(h.lSynchArraySize)
        arr = np.fromfile(path, dtype="<i4", count=2 * count, offset=int(h.lSynchArrayPtr) * 512)
        if arr.size != 2 * count:
            return None
        starts = arr.reshape(-1, 2)[:, 0].astype(float)
        unit = float(h.fSynchTimeUnit)
    else:
        sec = getattr(abf, "_synchArraySection", None)
        if sec is None or not len(sec.lStart):
            return None
        starts = np.asarray(sec.lStart, dtype=float)
        unit = float(abf._protocolSection.fSynchTimeUnit)
    if unit > 0:
        return starts * unit / 1e6
    return starts / (abf.dataRate * abf.channelCount)


def _timing(abf: Any, path: Path, head: bytes, sweep_count: int, sweep_len_s: float,
            variable: bool):
    """True sweep interval, start times and the synch-array starts (notes §1.3 pitfalls 2, 3)."""
    if abf.nOperationMode == 3 or sweep_count == 1:
        # gap-free: fEpisodeStartToStart can be stale (pyabf issue #139)
        interval = sweep_len_s if abf.nOperationMode == 3 else _nominal(abf, head, sweep_len_s)
        return (interval if interval > 0 else sweep_len_s), np.zeros(1), None
    synch = _synch_starts_s(abf, path)
    if variable and synch is not None and synch.size == sweep_count:
        # start times from the start of the recording, the clock tag times use too
        interval = round(_median(np.diff(synch)), 9)
        return interval, synch, synch
    interval = _nominal(abf, head, sweep_len_s)
    if interval <= 0 and synch is not None and synch.size == sweep_count:
        d = np.diff(synch)
        if d.size and np.all(d > 0):
            interval = round(_median(d), 9)
    if not interval > 0:
        interval = sweep_len_s
    return interval, np.arange(sweep_count) * interval, synch


def _nominal(abf: Any, head: bytes, sweep_len_s: float) -> float:
    if abf.abfVersion["major"] == 1:
        value = _abf1_float(head, 178)  # fEpisodeStartToStart (ABF 1.8 header)
    else:
        value = float(abf._protocolSection.fEpisodeStartToStart)
    # header floats are float32: round to the ns so 0.2 stays 0.2
    return round(float(value), 9) if math.isfinite(value) and value > 0 else 0.0


def _leak(abf: Any, head: bytes, channel_count: int) -> list[LeakSubtraction]:
    out = []
    for ch in range(channel_count):
        try:
            if abf.abfVersion["major"] == 2:
                dac = abf._dacSection
                if ch >= len(dac.nLeakSubtractType):
                    out.append(LeakSubtraction(None))
                    continue
                kind = int(dac.nLeakSubtractType[ch])
                out.append(
                    LeakSubtraction(
                        enabled=kind != 0,
                        pulses=int(dac.nPNNumPulses[ch]) if kind else None,
                        polarity=int(dac.nPNPolarity[ch]) if kind else None,
                        holding_level=float(dac.fPNHoldingLevel[ch]) if kind else None,
                    )
                )
            else:
                # ABF1 extended on-line subtraction group: nPNEnable[2] at 4456,
                # nPNPolarity[2] at 4460 (ABF 1.8 header layout).  Old 2048-byte
                # headers (e.g. pyabf's writer) have no such group: those bytes are data.
                if not _abf1_has_extended_header(head):
                    out.append(LeakSubtraction(None))
                    continue
                enable = _abf1_shorts(head, 4456, 2)
                polarity = _abf1_shorts(head, 4460, 2)
                k = min(ch, 1)
                if enable[k] not in (0, 1):
                    out.append(LeakSubtraction(None))
                else:
                    on = bool(enable[k])
                    out.append(LeakSubtraction(on, polarity=int(polarity[k]) if on else None))
        except (AttributeError, IndexError, TypeError, ValueError):
            out.append(LeakSubtraction(None))
    return out


def _percentile_sorted(values: np.ndarray, q: int) -> float:
    """``np.percentile(values, q)`` of a sorted, NaN-free 1-D array, bit for bit.

    numpy's default ``"linear"`` method (Hyndman & Fan 1996, definition 7): the
    virtual index ``(n - 1) * q / 100`` in float64, then numpy's ``_lerp`` between its
    neighbours in the array's dtype (``a + (b - a) * t``, or ``b - (b - a) * (1 - t)``
    when ``t >= 0.5``).  ``np.percentile`` partitions with introselect, which on
    20,000 floats takes ~4x as long as numpy's (SIMD) sort plus this.
    """
    n = values.size
    virtual = (n - 1) * (q / 100)
    if virtual >= n - 1:
        return float(values[-1])
    lo = math.floor(virtual)
    t = virtual - lo
    a, b = values[lo], values[lo + 1]
    diff = b - a
    return float(b - diff * (1 - t) if t >= 0.5 else a + diff * t)


def _unit_warning(values: np.ndarray, units: str) -> str:
    """Note when a channel's magnitudes do not fit its units (notes §1.3 pitfall 6)."""
    scale = unit_scale(units)
    if scale is None or values.size == 0:
        return ""
    quantity, factor = scale
    # an evenly spaced sample of <= 20,000 points is plenty for a decade-scale check
    sample = values[:: max(1, values.size // 20_000)]
    finite = np.abs(sample)
    ok = np.isfinite(finite)
    if not ok.all():  # (int16 data is always finite: skip the masked copy)
        finite = finite[ok]
    if finite.size == 0:
        return ""
    finite.sort()
    level = _percentile_sorted(finite, 99) * factor
    low, high = _PLAUSIBLE[quantity]
    base = "pA" if quantity == "current" else "mV"
    if level == 0.0:
        return ""
    if level < low or level > high:
        return (
            f"magnitudes do not fit units '{units}' (99th percentile |x| = "
            f"{level:.3g} {base}); check the units or pass units="
        )
    return ""


def _start(abf: Any) -> _dt.datetime | None:
    when = getattr(abf, "abfDateTime", None)
    if not isinstance(when, _dt.datetime) or when.year < 1980:
        return None
    return when


def read_abf(path: str | os.PathLike[str], units: str | list[str] | None = None) -> Recording:
    """Read an ABF1/ABF2 file.

    Parameters
    ----------
    path
        The ``.abf`` file.
    units
        Override of the recorded units: one string for every channel or a list per
        channel (``None`` entries keep the header's).  Use it when the header is
        wrong (e.g. ``"A"`` written for a pA signal).

    Returns
    -------
    Recording
        Header information plus the samples, identical to pyabf's ``abf.data``.

    Raises
    ------
    InputError
        When the file is missing, not an ABF file, truncated or otherwise unreadable.

    Notes
    -----
    Data layout from the Axon ABF file format (Molecular Devices, *ABF File
    Support Pack* / ABFFIO, ``ABFFileHeader``): the data block is interleaved by
    channel, int16 scaled by the per-channel instrument/signal gains and offsets, or
    float32.
    """
    p = Path(path)
    label = os.fspath(path)
    if not p.is_file():
        raise InputError("file not found", file=label)
    with open(p, "rb") as fh:
        size = os.fstat(fh.fileno()).st_size
        head = fh.read(_HEAD_BYTES)
        check_layout(fh, head, size, label)
    abf = _parse_header(p, label, size)
    check_parsed(abf, label)

    nch = int(abf.channelCount)
    sweep_count = int(abf.sweepCount)
    if nch < 1 or sweep_count < 1 or abf.dataPointCount <= 0:
        raise InputError("the file holds no data", file=label)
    variable = False
    if sweep_count > 1 and hasattr(abf, "_synchArraySection"):
        variable = len(set(abf._synchArraySection.lLength)) > 1

    data = None
    sweeps = None
    npts = int(abf.sweepPointCount)
    if variable:
        sweeps, abf = _variable_sweeps(p, label, sweep_count, nch)
        sweep_len_s = sweeps[0].shape[1] / abf.dataRate
    else:
        if npts * sweep_count * nch > int(abf.dataPointCount) or npts <= 0:
            raise InputError("sweep geometry does not fit the data block", file=label)
        data = _load_data(abf, p, size, label)
        sweep_len_s = npts / abf.dataRate

    interval, times, synch = _timing(abf, p, head, sweep_count, sweep_len_s, variable)

    header_units = [_clean(u) for u in abf.adcUnits]
    if units is None:
        chosen = list(header_units)
    elif isinstance(units, str):
        chosen = [units] * nch
    else:
        if len(units) != nch:
            raise InputError(
                f"{len(units)} units given for {nch} channels", file=label, column="units"
            )
        chosen = [h if u is None else str(u) for u, h in zip(units, header_units, strict=True)]

    warnings = []
    for ch in range(nch):
        sample = data[ch] if data is not None else np.concatenate([s[ch] for s in sweeps or []])
        warnings.append(_unit_warning(sample, chosen[ch]))

    tags = []
    for t, c in zip(abf.tagTimesSec, abf.tagComments, strict=False):
        t = float(t)
        # last sweep started at or before the tag: floor(t / interval) for regular
        # sweeps, and right for the irregular starts of variable-length sweeps
        sweep = int(np.searchsorted(times, t + 1e-9, side="right")) - 1
        tags.append(Tag(time_s=t, sweep=max(0, min(sweep, sweep_count - 1)), comment=_clean(c)))
    tags.sort(key=lambda tg: tg.time_s)

    major = abf.abfVersion["major"]
    if major == 1:
        # pyabf takes ABF1 holding levels from fEpochInitLevel (the epoch table); the
        # header's fDACHoldingLevel[4] (byte 1394, ABF 1.8 layout) is the real one.
        dac = [float(v) for v in struct.unpack("<4f", _abf1_bytes(head, 1394, 16))]
        dac = [v if math.isfinite(v) and abs(v) < 1e6 else float("nan") for v in dac]
        # (pyabf's list has 20 entries, one per ABF1 epoch; ABF1 has 4 DAC channels)
        abf.holdingCommand = dac
    holding = []
    for v in abf.holdingCommand:
        v = float(v)
        holding.append(v if math.isfinite(v) else float("nan"))

    rec = Recording(
        path=label,
        abf_version=str(abf.abfVersionString),
        operation_mode=int(abf.nOperationMode),
        sweep_count=sweep_count,
        channel_count=nch,
        sample_rate=float(abf.dataRate),
        sweep_interval_s=float(interval),
        sweep_times_s=np.asarray(times, dtype=float),
        units=chosen,
        header_units=header_units,
        unit_warnings=warnings,
        channel_names=[_clean(n) for n in abf.adcNames],
        tags=tags,
        leak_subtraction=_leak(abf, head, nch),
        protocol=_clean(abf.protocol),
        holding=holding,
        start_datetime=_start(abf),
        _head=head,
        _data=data,
        _sweeps=sweeps,
        _sweep_points=npts,
        _abf=abf,
    )
    interval_us = (
        _abf1_float(head, 122) if major == 1 else float(abf._protocolSection.fADCSequenceInterval)
    )
    rec.suspect = plausibility(
        rec,
        abf,
        nominal=_nominal(abf, head, sweep_len_s),
        synch=synch,
        interval_us=interval_us,
        extended=major != 1 or _abf1_has_extended_header(head),
    )
    return rec


#: Bytes read once per file for the header checks and ABF1 fields (the ABF 1.8 header).
_HEAD_BYTES = 6144


def _raise_if_truncated(p: Path, size: int, label: str) -> None:
    extent = _abf2_extent(p)
    if extent is not None and size < extent:
        raise InputError(
            f"file is truncated ({size} bytes; its header describes {extent})",
            file=label,
            expected="a complete ABF file",
        ) from None


def _parse_header(p: Path, label: str, size: int) -> Any:
    """pyabf's header object (its errors turned into lab wording, never Python's)."""
    import pyabf

    try:
        return pyabf.ABF(str(p), loadData=False)
    except Exception as exc:  # pyabf raises bare Exception / struct.error / ValueError
        _raise_if_truncated(p, size, label)
        raise InputError(
            f"not a readable ABF file ({_plain(exc)})",
            file=label,
            expected="an Axon ABF1 or ABF2 file",
        ) from None


def _plain(exc: BaseException) -> str:
    """What went wrong reading a header, without Python/numpy wording."""
    if isinstance(exc, struct.error | EOFError):
        return "a header field lies past the end of the file"
    if isinstance(exc, UnicodeError):
        return "a text field of the header is not text"
    if isinstance(exc, NotImplementedError | ValueError) and "float" in str(exc):
        return "ABF1 files with float samples are not supported"
    if isinstance(exc, IndexError | KeyError):
        return "a header field points to an entry that does not exist"
    if isinstance(exc, ZeroDivisionError | OverflowError):
        return "a header field holds 0 or an out-of-range number where a size or rate is needed"
    return "the header could not be parsed"


def _variable_sweeps(p: Path, label: str, sweep_count: int, nch: int) -> tuple[list, Any]:
    """Variable-length sweeps (operation mode 1) through pyabf's setSweep."""
    import pyabf

    try:
        full = pyabf.ABF(str(p))
    except Exception as exc:
        raise InputError(f"cannot read the data block ({_plain(exc)})", file=label) from None
    sweeps = []
    for i in range(sweep_count):
        rows = []
        for ch in range(nch):
            full.setSweep(i, channel=ch)
            rows.append(np.array(full.sweepY, dtype=np.float32, copy=True))
        sweeps.append(np.vstack(rows))
    return sweeps, full


#: Samples converted per chunk: the int16 chunk (128 KB) and its float32 output
#: (256 KB) stay in L2 cache.
_CHUNK = 1 << 16


def _load_data(abf: Any, p: Path, size: int, label: str) -> np.ndarray:
    """The data block as float32 ``(channels, points)``, identical to pyabf's ``abf.data``.

    pyabf converts int16 to float32, then multiplies by the channel's gain and adds its
    offset, each in float32 (two roundings).  Here the int16 → float32 conversion and
    the multiplication run in one pass (``np.multiply(..., dtype=float32)``: the same
    float32 product), and a zero offset is not added (x + 0.0 == x).  The int16 block
    is read in chunks of :data:`_CHUNK` samples into one small buffer and each chunk
    is scaled straight into the output, so the int16 samples never make a round trip
    through main memory (one output allocation; ~15 % faster than reading the whole
    block and then scaling it, 1,000-sweep files).
    """
    count = int(abf.dataPointCount)
    nch = int(abf.channelCount)
    itemsize = np.dtype(abf._dtype).itemsize
    start = int(abf.dataByteStart)
    if start + count * itemsize > size:
        raise InputError(
            f"data block is truncated ({size} bytes; header expects {start + count * itemsize})",
            file=label,
        )
    ncols = count // nch
    if abf._dtype != np.int16:
        raw = np.fromfile(p, dtype=abf._dtype, count=count, offset=start)
        return np.ascontiguousarray(raw[: ncols * nch].reshape(ncols, nch).T, dtype=np.float32)
    gains = [np.float32(g) for g in abf._dataGain[:nch]]
    offsets = [np.float32(o) for o in abf._dataOffset[:nch]]
    data = np.empty((nch, ncols), dtype=np.float32)
    step = max(1, _CHUNK // nch)  # frames (one sample of every channel) per chunk
    buf = np.empty((min(step, ncols), nch), dtype=np.int16)
    with open(p, "rb", buffering=0) as fh:
        fh.seek(start)
        for a in range(0, ncols, step):
            b = min(a + step, ncols)
            chunk = buf[: b - a]
            _read_into(fh, chunk, label)
            for ch in range(nch):
                out = data[ch, a:b]
                np.multiply(chunk[:, ch], gains[ch], out=out, dtype=np.float32)
                if offsets[ch] != 0:
                    np.add(out, offsets[ch], out=out)
    return data


def _read_into(fh: Any, chunk: np.ndarray, label: str) -> None:
    """Fill the C-contiguous ``chunk`` from ``fh`` (a file that shrank is an InputError)."""
    view = memoryview(chunk).cast("B")
    done = 0
    while done < len(view):
        n = fh.readinto(view[done:])
        if not n:
            raise InputError("data block is truncated (the file shrank while read)", file=label)
        done += n
