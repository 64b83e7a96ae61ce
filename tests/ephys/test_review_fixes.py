"""Regression tests for bugs found in the independent review of patch-clamp part A."""

from __future__ import annotations

import numpy as np
import pytest

from nplab.ephys import measure, measure_trace
from nplab.ephys.abfwrite import EpochSpec, write_abf1
from nplab.protocols import load_protocol

RATE = 20000
NPTS = 1280  # pre-epoch holding = NPTS // 64 = 20 samples
EPOCHS = [EpochSpec("Step", -120.0, 200), EpochSpec("Step", 0.0, 400)]  # A [20,220) B [220,620)


@pytest.fixture
def short_file(tmp_path):
    data = np.tile(np.linspace(-10.0, 10.0, NPTS), (2, 1))
    return write_abf1(tmp_path / "short.abf", data, RATE, epochs=EPOCHS, holding=-120.0, lsb=0.25)


def test_epoch_window_beyond_sweep_end_is_an_error_not_clipped(short_file):
    # epoch B starts at sample 220; 100 ms = 2000 samples runs past the 1280-sample sweep
    proto = load_protocol(
        "patchclamp-nav-resting",
        membrane_test=None,
        leak_subtraction="none",
        window={"epoch": "B", "start_ms": 0.0, "end_ms": 100.0},
    )
    t = measure([short_file], proto)
    assert len(t) == 1 and t.loc[0, "status"] == "failed"
    assert "outside the sweep" in t.loc[0, "reason"] and "short.abf" in t.loc[0, "reason"]
    # a window starting before the sweep start is also refused (was clipped to 0)
    proto = load_protocol(
        "patchclamp-nav-resting",
        membrane_test=None,
        leak_subtraction="none",
        window={"epoch": "B", "start_ms": 0.0, "end_ms": 10.0},
        baseline={"epoch": "pre", "start_ms": -5.0, "end_ms": 1.0},
    )
    t = measure([short_file], proto)
    assert t.loc[0, "status"] == "failed" and "outside the sweep" in t.loc[0, "reason"]


def test_peak_points_at_window_start_averages_all_points():
    # extremum on the first sample of the window: the 3-point mean is x[3:6] (hand value)
    x = np.array([0.0, 0.0, 0.0, -9.0, -3.0, -3.0, -1.0, 0.0])
    v, _ = measure_trace(x, (3, 8), measure="peak_inward", sample_rate=1000, peak_points=3)
    assert v == pytest.approx((-9.0 - 3.0 - 3.0) / 3, abs=1e-12)
    # symmetric case at the window end: x[5:8]
    y = -x[::-1]
    v, _ = measure_trace(y, (0, 5), measure="peak_outward", sample_rate=1000, peak_points=3)
    assert v == pytest.approx((3.0 + 3.0 + 9.0) / 3, abs=1e-12)
    # window shorter than peak_points: mean of the whole window
    v, _ = measure_trace(x, (3, 5), measure="peak_inward", sample_rate=1000, peak_points=5)
    assert v == pytest.approx(-6.0, abs=1e-12)
