"""Writer for synthetic ABF1 files with several channels, an epoch table, tags, a
sweep interval and P/N settings — what pyabf's ``abfWriter.writeABF1`` leaves out.

The header follows the ABF 1.8 layout (``ABFFileHeader`` of Molecular Devices'
ABFFIO; byte offsets as read by pyabf's ``abf1/headerV1.py`` and neo's
``axonrawio.py``): a 6,144-byte header (12 blocks of 512 bytes), the interleaved int16
data block, the tag section (64-byte entries: int32 ``lTagTime`` in ADC sample
intervals, 56-character comment, int16 type, int16 voice-tag number) and the synch
array (int32 start in ``fSynchTimeUnit`` µs, int32 length per sweep).  Values are
rounded (not truncated, unlike ``writeABF1``) to int16 with a per-channel gain
chosen from the data range.  :func:`nplab.ephys.read_abf` and pyabf read the files
back (tests prove it).

Two quirks of pyabf on ABF1 that the layout accounts for: pyabf takes the holding
level of DAC 0 from epoch A's level (``fEpochInitLevel[0]``), so epoch A should be at
the holding level; and pyabf sets ``sweepIntervalSec`` to the sweep length, whereas
:func:`~nplab.ephys.read_abf` reads ``fEpisodeStartToStart`` written here.
"""

from __future__ import annotations

import datetime as _dt
import os
import struct
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from nplab.errors import InputError
from nplab.tables import atomic_write

__all__ = ["EpochSpec", "quantize", "write_abf1"]

_BLOCK = 512
_HEADER_BLOCKS = 12
_ADC_RANGE = 10.0
_ADC_RESOLUTION = 32768
_EPOCH_TYPES = {"Off": 0, "Step": 1, "Ramp": 2}


@dataclass(frozen=True)
class EpochSpec:
    """One epoch of the DAC 0 waveform (Clampex epoch table row).

    ``duration`` and ``duration_inc`` are in samples; ``level`` in DAC units (mV);
    ``*_inc`` are per-sweep increments.
    """

    type: str = "Step"
    level: float = 0.0
    duration: int = 0
    level_inc: float = 0.0
    duration_inc: int = 0


def _gain(scale_factor: float) -> float:
    """The int16 → value gain pyabf derives from a float32 ``fInstrumentScaleFactor``."""
    f32 = struct.unpack("<f", struct.pack("<f", scale_factor))[0]
    return _ADC_RANGE / f32 / _ADC_RESOLUTION


def _scale_factor(data: np.ndarray, lsb: float | None) -> float:
    if lsb is None:
        peak = float(np.max(np.abs(data))) if data.size else 0.0
        lsb = peak / 30000.0 if peak > 0 else 1.0
    return _ADC_RANGE / (_ADC_RESOLUTION * lsb)


def quantize(values: np.ndarray, lsb: float | None = None) -> np.ndarray:
    """Values as they will read back from :func:`write_abf1` for one channel."""
    values = np.asarray(values, dtype=np.float64)
    gain = _gain(_scale_factor(values, lsb))
    q = np.clip(np.rint(values / gain), -32768, 32767).astype(np.int16)
    return (q.astype(np.float32) * np.float32(gain)).astype(np.float32)


def _pack_str(buf: bytearray, offset: int, size: int, text: str) -> None:
    raw = text.encode("latin-1", errors="replace")[:size]
    struct.pack_into(f"{size}s", buf, offset, raw.ljust(size, b" "))


def write_abf1(
    path: str | os.PathLike[str],
    sweeps: np.ndarray,
    sample_rate: float,
    *,
    units: str | Sequence[str] = "pA",
    channel_names: Sequence[str] | None = None,
    epochs: Sequence[EpochSpec] = (),
    holding: float = 0.0,
    dac_units: str = "mV",
    sweep_interval_s: float | None = None,
    tags: Sequence[tuple[float, str]] = (),
    pn_leak: bool = False,
    lsb: float | Sequence[float | None] | None = None,
    comment: str = "",
    protocol: str = "",
    start: _dt.datetime | None = None,
) -> Path:
    """Write an episodic ABF 1.83 file.

    Parameters
    ----------
    path
        Output file (written atomically).
    sweeps
        Array ``(sweeps, points)`` for one channel or ``(sweeps, channels, points)``.
    sample_rate
        Samples per second per channel (an integer number of Hz reads back exactly).
    units, channel_names
        ADC units (one for all or one per channel) and names.
    epochs
        DAC 0 epoch table (up to 10 epochs, A…J); the first ``points // 64`` samples
        of each sweep are the pre-epoch holding segment, as in Clampex.
    holding
        Holding level (DAC units), stored as ``fDACHoldingLevel`` and
        ``fInstrumentHoldingLevel``.
    sweep_interval_s
        Start-to-start interval (``fEpisodeStartToStart``); default: the sweep length.
    tags
        ``(time_s, comment)`` comment tags.
    pn_leak
        Mark online P/N leak subtraction as enabled for DAC 0 (header flag only).
    lsb
        Value of one int16 step per channel; default: data range / 30,000.
    comment, protocol
        File comment and protocol path (e.g. ``"C:\\\\protocols\\\\nav.pro"``).
    start
        Recording start (date/time written to the header); default 2000-01-01 00:00.

    Returns
    -------
    pathlib.Path
        The written file.
    """
    data = np.asarray(sweeps, dtype=np.float64)
    if data.ndim == 2:
        data = data[:, None, :]
    if data.ndim != 3 or 0 in data.shape:
        raise InputError("sweeps must be a non-empty (sweeps, [channels,] points) array")
    n_sweeps, nch, npts = data.shape
    if nch > 16:
        raise InputError(f"{nch} channels; ABF1 holds at most 16", column="channels")
    if not np.all(np.isfinite(data)):
        raise InputError("sweeps contain NaN or infinite values", expected="finite samples")
    if len(epochs) > 10:
        raise InputError(f"{len(epochs)} epochs; ABF1 holds at most 10 per DAC", column="epochs")
    pre = npts // 64
    used = pre + sum(e.duration + e.duration_inc * (n_sweeps - 1) for e in epochs)
    if used > npts:
        raise InputError(
            f"epochs need {used} samples but a sweep has {npts}", column="epochs"
        )
    unit_list = [units] * nch if isinstance(units, str) else list(units)
    names = list(channel_names) if channel_names is not None else [f"IN {i}" for i in range(nch)]
    lsbs = [lsb] * nch if lsb is None or isinstance(lsb, int | float) else list(lsb)
    if len(unit_list) != nch or len(names) != nch or len(lsbs) != nch:
        raise InputError("units, channel_names and lsb need one entry per channel")
    interval = float(sweep_interval_s) if sweep_interval_s else npts / sample_rate
    if interval * sample_rate < npts - 1e-6:
        raise InputError(
            "sweep_interval_s is shorter than a sweep", column="sweep_interval_s"
        )
    sample_interval_us = 1e6 / sample_rate / nch

    total = n_sweeps * nch * npts
    data_blocks = -(-total * 2 // _BLOCK)
    tag_ptr = _HEADER_BLOCKS + data_blocks
    tag_blocks = -(-len(tags) * 64 // _BLOCK)
    synch_ptr = tag_ptr + tag_blocks
    synch_blocks = -(-n_sweeps * 8 // _BLOCK)
    buf = bytearray((synch_ptr + synch_blocks) * _BLOCK)

    start = start or _dt.datetime(2000, 1, 1)
    struct.pack_into("4s", buf, 0, b"ABF ")
    struct.pack_into("<f", buf, 4, 1.83)  # fFileVersionNumber
    struct.pack_into("<h", buf, 8, 5)  # nOperationMode: episodic
    struct.pack_into("<i", buf, 10, total)  # lActualAcqLength
    struct.pack_into("<i", buf, 16, n_sweeps)  # lActualEpisodes
    struct.pack_into("<i", buf, 20, int(start.strftime("%Y%m%d")))  # lFileStartDate
    struct.pack_into("<i", buf, 24, start.hour * 3600 + start.minute * 60 + start.second)
    struct.pack_into("<f", buf, 32, 1.83)  # fHeaderVersionNumber
    struct.pack_into("<h", buf, 36, 1)  # nFileType: ABF
    struct.pack_into("<i", buf, 40, _HEADER_BLOCKS)  # lDataSectionPtr
    struct.pack_into("<i", buf, 44, tag_ptr if tags else 0)  # lTagSectionPtr
    struct.pack_into("<i", buf, 48, len(tags))  # lNumTagEntries
    struct.pack_into("<i", buf, 92, synch_ptr)  # lSynchArrayPtr
    struct.pack_into("<i", buf, 96, n_sweeps)  # lSynchArraySize
    struct.pack_into("<h", buf, 100, 0)  # nDataFormat: int16
    struct.pack_into("<h", buf, 120, nch)  # nADCNumChannels
    struct.pack_into("<f", buf, 122, sample_interval_us)  # fADCSampleInterval
    synch_unit_us = sample_interval_us / nch  # pyabf converts lTagTime with this too
    struct.pack_into("<f", buf, 130, synch_unit_us)  # fSynchTimeUnit (µs)
    struct.pack_into("<i", buf, 138, npts * nch)  # lNumSamplesPerEpisode
    struct.pack_into("<i", buf, 146, n_sweeps)  # lEpisodesPerRun
    struct.pack_into("<f", buf, 178, interval)  # fEpisodeStartToStart
    struct.pack_into("<f", buf, 244, _ADC_RANGE)
    struct.pack_into("<f", buf, 248, _ADC_RANGE)
    struct.pack_into("<i", buf, 252, _ADC_RESOLUTION)
    struct.pack_into("<i", buf, 256, _ADC_RESOLUTION)
    _pack_str(buf, 294, 16, "nplab")
    struct.pack_into("<h", buf, 366, start.microsecond // 1000)
    quantized = np.empty((n_sweeps, npts, nch), dtype="<i2")
    for i in range(16):
        struct.pack_into("<h", buf, 378 + 2 * i, i)  # nADCPtoLChannelMap
        struct.pack_into("<h", buf, 410 + 2 * i, i if i < nch else -1)  # nADCSamplingSeq
        struct.pack_into("<f", buf, 730 + 4 * i, 1.0)  # fADCProgrammableGain
        struct.pack_into("<f", buf, 1050 + 4 * i, 1.0)  # fSignalGain
        scale = 1.0
        if i < nch:
            scale = _scale_factor(data[:, i, :], lsbs[i])
            gain = _gain(scale)
            q = np.clip(np.rint(data[:, i, :] / gain), -32768, 32767)
            quantized[:, :, i] = q.astype("<i2")
            _pack_str(buf, 442 + 10 * i, 10, names[i])
            _pack_str(buf, 602 + 8 * i, 8, unit_list[i])
        struct.pack_into("<f", buf, 922 + 4 * i, scale)  # fInstrumentScaleFactor
    for d in range(4):
        _pack_str(buf, 1306 + 10 * d, 10, f"OUT {d}")
        _pack_str(buf, 1346 + 8 * d, 8, dac_units)
        struct.pack_into("<f", buf, 1378 + 4 * d, 1.0)  # fDACScaleFactor
        struct.pack_into("<f", buf, 1394 + 4 * d, holding)  # fDACHoldingLevel
    # epoch table of DAC 0
    struct.pack_into("<2h", buf, 2296, 1 if epochs else 0, 0)  # nWaveformEnable
    struct.pack_into("<2h", buf, 2300, 1 if epochs else 0, 0)  # nWaveformSource: epochs
    for k, ep in enumerate(epochs):
        if ep.type not in _EPOCH_TYPES:
            raise InputError(f"epoch type {ep.type!r}", column="epochs", expected="Step or Ramp")
        struct.pack_into("<h", buf, 2308 + 2 * k, _EPOCH_TYPES[ep.type])
        struct.pack_into("<f", buf, 2348 + 4 * k, ep.level)
        struct.pack_into("<f", buf, 2428 + 4 * k, ep.level_inc)
        struct.pack_into("<i", buf, 2508 + 4 * k, int(ep.duration))
        struct.pack_into("<i", buf, 2588 + 4 * k, int(ep.duration_inc))
    if not epochs:
        # pyabf's holding level for DAC 0 is fEpochInitLevel[0]
        struct.pack_into("<f", buf, 2348, holding)
    struct.pack_into("<2h", buf, 4456, 1 if pn_leak else 0, 0)  # nPNEnable
    struct.pack_into("<2h", buf, 4460, -1 if pn_leak else 0, 0)  # nPNPolarity
    _pack_str(buf, 4898, 256, protocol)
    _pack_str(buf, 5154, 128, comment)
    for d in range(4):
        struct.pack_into("<f", buf, 5298 + 4 * d, holding)  # fInstrumentHoldingLevel

    start_byte = _HEADER_BLOCKS * _BLOCK
    raw = quantized.tobytes()
    buf[start_byte : start_byte + len(raw)] = raw
    for k, (t, text) in enumerate(sorted(tags)):
        off = tag_ptr * _BLOCK + 64 * k
        struct.pack_into("<i", buf, off, round(float(t) * 1e6 / synch_unit_us))
        _pack_str(buf, off + 4, 56, text)
        struct.pack_into("<h", buf, off + 60, 1)  # nTagType: comment
    for s in range(n_sweeps):
        off = synch_ptr * _BLOCK + 8 * s
        struct.pack_into("<2i", buf, off, round(s * interval * 1e6 / synch_unit_us), npts * nch)

    target = Path(path)
    with atomic_write(target, "wb") as fh:
        fh.write(bytes(buf))
    return target
