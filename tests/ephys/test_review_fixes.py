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


def _rc_step(ra, rm, cm, dv, ih, rate, n_pre, n_step):
    """Ra in series with Rm || Cm, voltage step dv (textbook solution; pA, MΩ, pF, mV)."""
    tau = ra * rm / (ra + rm) * cm * 1e-6
    t = np.arange(n_step) / rate
    step = dv / (ra + rm) * 1e3 + (dv / ra - dv / (ra + rm)) * 1e3 * np.exp(-t / tau)
    return np.concatenate([np.full(n_pre, ih), ih + step]), t


def test_membrane_test_ignores_slow_currents_late_in_a_long_step():
    """A slow 5-pA current in the middle of a 200-ms step must not bias Ra/Cm.

    Reference: the RC-circuit solution (Gillis 1995) with Ra 10 MΩ, Rm 500 MΩ, Cm 100 pF;
    before the fix the whole step was integrated as transient charge (Ra off by ~20%).
    """
    from nplab.ephys import membrane_test

    rate = 100_000
    trace, t = _rc_step(10.0, 500.0, 100.0, -10.0, -80.0, rate, 500, 20_000)
    trace[500:] += 5.0 * np.exp(-(((t - 0.08) / 0.01) ** 2) / 2)  # slow current, 40-120 ms
    res = membrane_test(trace, step_index=500, dv_mv=-10.0, sample_rate=rate)
    assert res["ra_mohm"] == pytest.approx(10.0, rel=2e-3)
    assert res["cm_pf"] == pytest.approx(100.0, rel=3e-3)
    assert res["ra_mohm"] + res["rm_mohm"] == pytest.approx(510.0, rel=1e-6)


def test_membrane_test_stable_on_real_long_step(abf_path):
    """171116sh_0011 (memtest protocol, -10 mV for 200 ms): Ra is stable across sweeps.

    pyabf's Memtest (fit extrapolation) gives Ra 16.6-17.2 MΩ on every sweep; before the
    fix nplab gave 38 → 24 MΩ, failing a good cell on the Ra-change criterion.
    """
    import pyabf
    import pyabf.tools.memtest

    from nplab.ephys import qc_cells

    path = abf_path("171116sh_0011.abf")
    proto = load_protocol(
        "patchclamp-nav-resting",
        baseline={"epoch": "pre"},
        window={"epoch": "A"},
        measure="mean",
        leak_subtraction="none",
        membrane_test="A",
        blanking_ms=0.0,
    )
    t = measure(path, proto)
    ref = pyabf.tools.memtest.Memtest(pyabf.ABF(str(path))).Ra.values
    # charge method vs pyabf's extrapolation: agree within 15% on every sweep
    np.testing.assert_allclose(t["ra_mohm"], ref, rtol=0.15)
    q = qc_cells(t, proto)
    assert abs(q.loc[0, "ra_change_pct"]) < 10 and "Ra change" not in q.loc[0, "reason"]


def test_resolve_window_accepts_integer_epoch_index(short_file):
    """Issue 6 item 2: windows by epoch *index or letter*; 1 = epoch B (0 = A)."""
    from nplab.ephys import read_abf, resolve_window

    rec = read_abf(short_file)
    spec = {"epoch": 1, "anchor": "start", "start_ms": 0.0, "end_ms": 10.0}
    assert resolve_window(rec, 0, spec) == (220, 420, 0.0)
    assert resolve_window(rec, 0, dict(spec, epoch="B")) == (220, 420, 0.0)
    assert resolve_window(rec, 0, dict(spec, epoch="1")) == (220, 420, 0.0)


def test_cli_measure_reports_failed_files_on_stderr(short_file, tmp_path, capsys):
    """Bad files are failed rows and their reasons are also shown on stderr; when no
    file could be measured the exit code is 2 (issue 18 item 5), the table is written."""
    import pandas as pd

    from nplab.cli import main

    junk = tmp_path / "junk.abf"
    junk.write_text("not an ABF file", encoding="utf-8")
    out = tmp_path / "t.csv"
    args = ["ephys", "measure", str(short_file), str(junk), str(tmp_path / "gone.abf")]
    with pytest.raises(SystemExit) as exc:
        main([*args, "-o", str(out), "--no-manifest", "-p", "patchclamp-nav-resting"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "none of the 3 file(s) could be measured" in err
    assert "junk.abf: not a readable ABF file" in err
    assert "gone.abf: file not found" in err
    assert "Traceback" not in err
    t = pd.read_csv(out)
    assert t["status"].tolist() == ["failed"] * 3  # short.abf has no epoch D


def test_single_sweep_without_start_to_start_interval_uses_sweep_length(tmp_path):
    """fEpisodeStartToStart = 0 means 'not set' (pyabf falls back to the sweep length)."""
    import struct

    import pyabf

    from nplab.ephys import read_abf

    path = write_abf1(
        tmp_path / "one.abf", np.zeros((1, NPTS)), RATE, epochs=EPOCHS, holding=-120.0
    )
    raw = bytearray(path.read_bytes())
    struct.pack_into("<f", raw, 178, 0.0)  # ABF1 fEpisodeStartToStart
    path.write_bytes(bytes(raw))
    rec = read_abf(path)
    assert rec.sweep_interval_s == NPTS / RATE
    assert rec.sweep_interval_s == pyabf.ABF(str(path), loadData=False).sweepIntervalSec


def test_variable_length_sweep_times_share_the_tag_clock(abf_path):
    """2020_06_16_0000 (event-driven, mode 1): sweep starts are the synch-array starts
    from the start of the recording (the clock of tag times), not shifted to 0."""
    import pyabf

    from nplab.ephys import read_abf

    path = abf_path("2020_06_16_0000.abf")
    abf = pyabf.ABF(str(path), loadData=False)
    # ABF spec: lStart in fSynchTimeUnit µs, or in samples (all channels) when it is 0
    tick_us = abf._protocolSection.fSynchTimeUnit
    unit_s = tick_us / 1e6 if tick_us > 0 else 1.0 / (abf.dataRate * abf.channelCount)
    expected = np.asarray(abf._synchArraySection.lStart, dtype=float) * unit_s
    rec = read_abf(path)
    np.testing.assert_allclose(rec.sweep_times_s, expected, rtol=0, atol=1e-9)
    assert rec.sweep_times_s[0] > 1.0  # first trigger 1.45 s after acquisition start


def test_abf1_has_no_epoch_table_for_dac_2_and_3(abf_path):
    """pclamp11_4ch_abf1: ABF1 holds epochs for DAC 0-1 only; its ABF2 twin shows DAC 2
    and 3 step to +30/+40 mV, which pyabf's ABF1 table wrongly reports as +10 (DAC 0)."""
    from nplab.ephys import read_abf
    from nplab.errors import InputError

    abf1 = read_abf(abf_path("pclamp11_4ch_abf1.abf"))
    abf2 = read_abf(abf_path("pclamp11_4ch.abf"))
    for ch in (0, 1):
        assert abf1.epochs(0, ch) == abf2.epochs(0, ch)
    for ch in (2, 3):
        with pytest.raises(InputError, match="DAC channels 0 and 1 only"):
            abf1.epochs(0, ch)
    assert abf2.epoch(0, "A", channel=2).level == 30.0


def test_malformed_scheduler_address_is_an_input_error(short_file, tmp_path, capsys):
    """'--scheduler notanaddress' made distributed raise ValueError -> internal error."""
    from nplab.cli import main

    out = tmp_path / "t.csv"
    with pytest.raises(SystemExit) as exc:
        main(["ephys", "measure", str(short_file), "-o", str(out), "--scheduler", "notanaddress"])
    assert exc.value.code == 2
    err = capsys.readouterr().err
    assert "cannot connect to the Dask scheduler 'notanaddress'" in err
    assert "internal error" not in err


@pytest.mark.parametrize("name", ["2020_03_02_0000.abf", "user-list-durations.abf"])
def test_user_list_protocols_have_no_epoch_table(abf_path, name):
    """Epoch tables ignore Clampex user lists: refuse them rather than mis-place windows.

    Independent evidence from the recorded command channels: in 2020_03_02_0000 the
    I_Com channel (1) steps to about +49 pA in sweep 6 where pyabf's epoch B says +100;
    in user-list-durations the AO #0 channel (1) changes level at different samples in
    sweeps 0 and 1, while pyabf's epoch boundaries are identical in every sweep.
    """
    import pyabf

    from nplab.ephys import read_abf
    from nplab.errors import InputError

    abf = pyabf.ABF(str(abf_path(name)))
    if name.startswith("2020"):
        abf.setSweep(6, channel=0)
        p1, p2, level = abf.sweepEpochs.p1s[2], abf.sweepEpochs.p2s[2], abf.sweepEpochs.levels[2]
        abf.setSweep(6, channel=1)
        recorded = float(np.mean(abf.sweepY[p1 + 100 : p2 - 100]))
        assert level == 100.0 and abs(recorded - 50.0) < 3.0
    else:
        edges = []
        for s in (0, 1):
            abf.setSweep(s, channel=1)
            edges.append(np.nonzero(np.abs(np.diff(abf.sweepY)) > 20)[0][:3].tolist())
        assert edges[0] != edges[1]
    rec = read_abf(abf_path(name))
    with pytest.raises(InputError, match="user list"):
        rec.epochs(0)
    # windows by time still work
    t = measure(
        abf_path(name),
        load_protocol(
            "patchclamp-nav-resting",
            membrane_test=None,
            leak_subtraction="none",
            measure="mean",
            baseline={"start_ms": 0.0, "end_ms": 5.0},
            window={"start_ms": 5.0, "end_ms": 50.0},
        ),
    )
    assert (t["status"] == "ok").all() and len(t) == rec.sweep_count


def test_truncated_abf2_says_truncated(abf_path, tmp_path):
    """A half-copied ABF2 file: the error says 'truncated', not a struct.error text."""
    from nplab.ephys import read_abf
    from nplab.errors import InputError

    src = (abf_path("2018_11_16_sh_0006.abf")).read_bytes()
    cut = tmp_path / "cut.abf"
    cut.write_bytes(src[:150_000])
    with pytest.raises(InputError, match=r"cut\.abf.*file is truncated \(150000 bytes"):
        read_abf(cut)
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"ABF2" + bytes(100))  # signature only: not truncated, unreadable
    with pytest.raises(InputError, match="not a readable ABF file"):
        read_abf(junk)


def test_old_abf1_header_p_n_note_is_unknown_not_read_from_data(tmp_path, abf_path):
    """pyabf's writer makes ABF1 files with a 2048-byte header: bytes 4456-4463 (the ABF
    1.8 nPNEnable/nPNPolarity group) are samples there.  Samples of exactly 1 LSB used to
    be reported as 'online P/N: on'."""
    import struct

    import pyabf
    import pyabf.abfWriter

    from nplab.ephys import read_abf

    data = np.zeros((2, 3000))
    data[0, 0] = 1000.0  # sets the scale: 1 LSB = 1000 / 32768 * 10 ** k
    path = tmp_path / "pyabf_written.abf"
    pyabf.abfWriter.writeABF1(data, str(path), 20000, units="pA")
    raw = path.read_bytes()
    lsb = float(pyabf.ABF(str(path)).data[0][0]) / struct.unpack_from("<h", raw, 2048)[0]
    data[0, 1204:1206] = lsb  # int16 samples 1204-1205 sit at bytes 4456-4459
    pyabf.abfWriter.writeABF1(data, str(path), 20000, units="pA")
    assert struct.unpack_from("<2h", path.read_bytes(), 4456) == (1, 1)
    rec = read_abf(path)
    assert rec.leak_subtraction[0].enabled is None
    assert rec.leak_subtraction[0].note == "online P/N: unknown"
    # ABF 1.8 files (6144-byte header) still read the real setting
    assert read_abf(abf_path("pclamp11_4ch_abf1.abf")).leak_subtraction[0].enabled is False


def test_abf1_user_list_read_from_header(tmp_path):
    """ABF1 user list (ABF 1.8 header: nULEnable[4] int16 at 3360, nULParamToVary[4] at
    3368) varying an epoch duration (code 35) makes the epoch table unusable."""
    import struct

    from nplab.ephys import read_abf
    from nplab.errors import InputError

    path = write_abf1(tmp_path / "ul.abf", np.zeros((2, NPTS)), RATE, epochs=EPOCHS, holding=-120.0)
    assert read_abf(path).epoch(0, "B").start == 220  # no user list: table usable
    raw = bytearray(path.read_bytes())
    struct.pack_into("<4h", raw, 3360, 1, 0, 0, 0)
    struct.pack_into("<4h", raw, 3368, 35, 0, 0, 0)
    path.write_bytes(bytes(raw))
    with pytest.raises(InputError, match=r"user list .*code\(s\) 35"):
        read_abf(path).epochs(0)


def test_abf1_holding_has_one_value_per_dac(abf_path):
    """ABF1 has 4 DAC channels; pyabf's holdingCommand for ABF1 is the 20 epoch levels."""
    from nplab.ephys import read_abf

    rec = read_abf(abf_path("05210017_vc_abf1.abf"))
    assert rec.holding == [-70.0, 0.0, 0.0, 0.0]
    assert rec.leak_subtraction[0].enabled is False  # ABF 1.8 header (8192-byte data start)


def test_old_abf1_header_has_no_epoch_table(tmp_path):
    """pyabf-written ABF1 (2048-byte header): the epoch bytes pyabf reads are samples."""
    import pyabf.abfWriter

    from nplab.ephys import read_abf
    from nplab.errors import InputError

    path = tmp_path / "old.abf"
    pyabf.abfWriter.writeABF1(np.zeros((2, 3000)), str(path), 20000, units="pA")
    rec = read_abf(path)
    with pytest.raises(InputError, match="old 2048-byte header"):
        rec.epochs(0)
    assert rec.sweep(1).shape == (3000,)  # the data themselves are fine


def test_float32_abf2_samples_equal_pyabf(abf_path, tmp_path):
    """No float-format file in the corpus: rebuild 171116sh_0011 with float32 samples
    (nDataFormat = 1 at byte 30, data section of 4-byte items, synch array moved after
    it) and check the samples against pyabf and against the values written."""
    import struct

    import pyabf

    from nplab.ephys import read_abf

    src = abf_path("171116sh_0011.abf")
    raw = src.read_bytes()
    orig = pyabf.ABF(str(src))
    data_block, _, count = struct.unpack_from("<IIq", raw, 76 + 16 * 10)
    head = bytearray(raw[: data_block * 512])
    values = (orig.data[0].astype(np.float64) + 0.123).astype("<f4")
    body = values.tobytes() + bytes((-values.nbytes) % 512)
    sb, sn, sc = struct.unpack_from("<IIq", raw, 76 + 16 * 15)
    struct.pack_into("<IIq", head, 76 + 16 * 10, data_block, 4, count)
    struct.pack_into("<IIq", head, 76 + 16 * 15, (len(head) + len(body)) // 512, sn, sc)
    struct.pack_into("<h", head, 30, 1)
    path = tmp_path / "float.abf"
    path.write_bytes(bytes(head) + body + raw[sb * 512 : sb * 512 + sn * sc])
    abf = pyabf.ABF(str(path))
    rec = read_abf(path)
    n = rec.sweep_points(0)
    for s in range(rec.sweep_count):
        abf.setSweep(s)
        np.testing.assert_array_equal(rec.sweep(s), abf.sweepY)
        np.testing.assert_array_equal(rec.sweep(s), values[s * n : (s + 1) * n])


def test_qc_cells_layout_a_experiment_with_one_row_per_tag(repo_dir):
    """Layout A experiment tables list a file once per tag; the last row (a drug
    concentration) used to decide that the file had no control sweeps at all."""
    import pandas as pd

    from nplab.ephys import qc_cells

    path = repo_dir / "sample_data" / "ephys" / "navrest-washin01_0000.abf"
    t = measure(path, "patchclamp-nav-resting")
    exp = pd.DataFrame(
        {
            "cell": ["w1"] * 5,
            "file": [str(path)] * 5,
            "conc_um": [0.0, 3.0, 10.0, 30.0, 100.0],
            "tag": ["", "+amitriptyline 3 uM", "+amitriptyline 10 uM",
                    "+amitriptyline 30 uM", "+amitriptyline 100 uM"],
        }
    )
    q = qc_cells(t, "patchclamp-nav-resting", experiment=exp)
    # the first tag (99 s) falls in the 10th sweep's interval (10-s sweeps): 10 control sweeps
    assert q.loc[0, "n_control_sweeps"] == int((t["tag_index"] == 0).sum()) == 10
    assert "no control sweeps" not in q.loc[0, "reason"]
    # the same with tags only (no 0-µM row) and with a blank concentration
    q2 = qc_cells(t, "patchclamp-nav-resting", experiment=exp.iloc[1:])
    q3 = qc_cells(t, "patchclamp-nav-resting", experiment=exp.iloc[:1].assign(conc_um=np.nan, tag=""))
    assert q2.loc[0, "n_control_sweeps"] == q3.loc[0, "n_control_sweeps"] == 10
    # layout B: a drug-only file has no control
    q4 = qc_cells(t, "patchclamp-nav-resting", experiment=exp.iloc[1:2].assign(tag=""))
    assert q4.loc[0, "n_control_sweeps"] == 0


def test_membrane_test_epoch_must_exist(repo_dir):
    """membrane_test = 'Q' (no such epoch) used to give NaN Ra silently, and the cell
    then passed QC; now the file fails with the reason.  An index ('1' = B) works."""
    path = repo_dir / "sample_data" / "ephys" / "navrest-cell01_0000.abf"
    bad = measure(path, load_protocol("patchclamp-nav-resting", membrane_test="Q"))
    assert bad.loc[0, "status"] == "failed" and "epoch 'Q' is not in the epoch table" in bad.loc[0, "reason"]
    by_letter = measure(path, load_protocol("patchclamp-nav-resting", membrane_test="B"))
    by_index = measure(path, load_protocol("patchclamp-nav-resting", membrane_test="1"))
    np.testing.assert_array_equal(by_letter["ra_mohm"], by_index["ra_mohm"])
    assert np.isfinite(by_letter["ra_mohm"]).all()
