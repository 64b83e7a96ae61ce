"""Synthetic ABF1 writer: files read back with pyabf (independent reader) and read_abf."""

from __future__ import annotations

import numpy as np
import pyabf
import pytest

from nplab.ephys import read_abf
from nplab.ephys.abfwrite import EpochSpec, quantize, write_abf1
from nplab.errors import InputError

EPOCHS = [
    EpochSpec("Step", -120.0, 200),
    EpochSpec("Step", -130.0, 200),
    EpochSpec("Step", -120.0, 200),
    EpochSpec("Step", 0.0, 400, level_inc=5.0),
    EpochSpec("Ramp", -60.0, 100),
]


@pytest.fixture
def written(tmp_path):
    rng = np.random.default_rng(7)
    data = rng.normal(0.0, 150.0, size=(6, 2, 1600))
    data[:, 1] = rng.normal(-70.0, 2.0, size=(6, 1600))
    path = write_abf1(
        tmp_path / "synthetic.abf",
        data,
        20000,
        units=["pA", "mV"],
        channel_names=["Im", "Vm"],
        epochs=EPOCHS,
        holding=-120.0,
        sweep_interval_s=10.0,
        tags=[(25.0, "+amitriptyline 1 uM"), (47.5, "wash")],
        pn_leak=True,
        comment="synthetic",
    )
    return path, data


def test_pyabf_reads_back_geometry_units_tags(written):
    path, _data = written
    abf = pyabf.ABF(str(path))
    assert abf.abfVersion["major"] == 1
    assert (abf.sweepCount, abf.channelCount, abf.sweepPointCount) == (6, 2, 1600)
    assert abf.dataRate == 20000
    assert abf.adcUnits == ["pA", "mV"]
    assert abf.adcNames == ["Im", "Vm"]
    assert abf.tagComments == ["+amitriptyline 1 uM", "wash"]
    np.testing.assert_allclose(abf.tagTimesSec, [25.0, 47.5], rtol=0, atol=1e-9)


def test_samples_round_trip_within_half_lsb(written):
    path, data = written
    abf = pyabf.ABF(str(path))
    for ch in range(2):
        peak = np.max(np.abs(data[:, ch]))
        lsb = peak / 30000.0
        # half an int16 step, plus float32 rounding of the read-back value (2**-24 relative)
        tol = 0.5 * lsb * (1 + 1e-6) + peak * 2.0**-23
        for s in range(6):
            abf.setSweep(s, channel=ch)
            assert np.max(np.abs(abf.sweepY - data[s, ch])) <= tol
            np.testing.assert_array_equal(abf.sweepY, quantize(data[:, ch])[s])


def test_epochs_read_back_by_pyabf(written):
    path, _ = written
    abf = pyabf.ABF(str(path))
    abf.setSweep(3)
    ep = abf.sweepEpochs
    pre = 1600 // 64
    assert ep.p1s[:6] == [0, pre, pre + 200, pre + 400, pre + 600, pre + 1000]
    assert ep.levels[1:6] == [-120.0, -130.0, -120.0, 15.0, -60.0]
    assert ep.types[1:6] == ["Step", "Step", "Step", "Step", "Ramp"]


def test_read_abf_gets_interval_tags_epochs_and_pn(written):
    path, _ = written
    rec = read_abf(path)
    assert rec.sweep_interval_s == 10.0
    np.testing.assert_array_equal(rec.sweep_times_s, np.arange(6) * 10.0)
    assert [(t.sweep, t.comment) for t in rec.tags] == [(2, "+amitriptyline 1 uM"), (4, "wash")]
    assert rec.epoch(3, "D").level == 15.0
    assert rec.leak_subtraction[0].enabled is True
    abf = pyabf.ABF(str(path))
    assert np.array_equal(rec._data, abf.data)


def test_writer_is_deterministic(tmp_path):
    data = np.linspace(-100, 100, 3 * 640).reshape(3, 640)
    a = write_abf1(tmp_path / "a.abf", data, 10000, epochs=EPOCHS[:2])
    b = write_abf1(tmp_path / "b.abf", data, 10000, epochs=EPOCHS[:2])
    assert a.read_bytes() == b.read_bytes()


def test_writer_rejects_bad_input(tmp_path):
    with pytest.raises(InputError, match="epochs need"):
        write_abf1(tmp_path / "x.abf", np.zeros((1, 100)), 10000, epochs=[EpochSpec(duration=200)])
    with pytest.raises(InputError, match="NaN"):
        write_abf1(tmp_path / "x.abf", np.full((1, 100), np.nan), 10000)
    with pytest.raises(InputError, match="shorter"):
        write_abf1(tmp_path / "x.abf", np.zeros((2, 1000)), 10000, sweep_interval_s=0.05)
