"""Per-sweep measurement on written files with analytically known values."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from nplab.ephys import PER_SWEEP_COLUMNS, measure, measure_trace
from nplab.ephys.abfwrite import EpochSpec, write_abf1
from nplab.protocols import load_protocol

RATE = 20000
NPTS = 1280
PRE = NPTS // 64  # 20
EPOCHS = [
    EpochSpec("Step", -120.0, 200),  # A  [20, 220)
    EpochSpec("Step", -130.0, 200),  # B  [220, 420)
    EpochSpec("Step", -120.0, 200),  # C  [420, 620)
    EpochSpec("Step", 0.0, 400),  # D  [620, 1020)
]
IH = -50.0  # holding current at -120 mV (pA)
G = 0.5  # leak conductance pA/mV
D0 = 620


def _sweep(peak: float) -> np.ndarray:
    v = np.full(NPTS, -120.0)
    v[220:420] = -130.0
    v[620:1020] = 0.0
    i = IH + G * (v + 120.0)
    k = np.arange(400)
    i[D0 : D0 + 400] += peak * np.exp(-((k - 20) ** 2) / 50.0)
    i[D0 : D0 + 3] += 5000.0  # capacitive artefact, removed by 0.3 ms blanking
    return i


@pytest.fixture
def nav_file(tmp_path):
    peaks = np.array([-1000.0, -900.0, -800.0, -700.0])
    data = np.stack([_sweep(p) for p in peaks])
    path = write_abf1(
        tmp_path / "nav.abf",
        data,
        RATE,
        epochs=EPOCHS,
        holding=-120.0,
        sweep_interval_s=10.0,
        tags=[(15.0, "+amitriptyline 10 uM")],
        lsb=0.25,
    )
    return path, peaks


def _proto(**overrides):
    return load_protocol("patchclamp-nav-resting", membrane_test=None, **overrides)


def test_peak_with_linear_leak_subtraction(nav_file):
    path, peaks = nav_file
    t = measure([path], _proto())
    assert list(t.columns) == PER_SWEEP_COLUMNS
    assert (t["status"] == "ok").all()
    # baseline = holding current; leak at 0 mV = G*(0-(-120)) = +60 pA is subtracted
    np.testing.assert_allclose(t["baseline"], IH, atol=1e-3)
    # peak_points=3 averages the extremum and its neighbours: exp(-1/50) for each side
    expected = peaks * (1 + 2 * np.exp(-1 / 50.0)) / 3
    np.testing.assert_allclose(t["value"], expected, atol=0.25)
    assert t["leak_subtraction"].str.startswith("offline linear: G_leak=0.5").all()


def test_without_leak_subtraction_and_single_point_peak(nav_file):
    path, peaks = nav_file
    t = measure([path], _proto(leak_subtraction="none", peak_points=1))
    np.testing.assert_allclose(t["value"], peaks + G * 120.0, atol=0.25)


def test_blanking_removes_capacitive_artefact(nav_file):
    path, _ = nav_file
    t = measure(
        [path],
        _proto(measure="peak_outward", leak_subtraction="none", peak_points=1, blanking_ms=0.0),
    )
    np.testing.assert_allclose(t["value"], 5000.0 + G * 120.0, atol=1)
    t = measure(
        [path],
        _proto(measure="peak_outward", leak_subtraction="none", peak_points=1, blanking_ms=0.3),
    )
    assert (t["value"] < 100).all()


def test_time_course_tags_and_order(nav_file):
    path, _ = nav_file
    t = measure([path, path], _proto())
    assert t["sweep"].tolist() == [0, 1, 2, 3, 0, 1, 2, 3]
    assert t["time_s"].tolist()[:4] == [0.0, 10.0, 20.0, 30.0]
    # tag at 15 s: after sweep 1 (10.000-10.064 s) was recorded, so it applies from sweep 2
    assert t["tag"].tolist()[:4] == ["", "", "+amitriptyline 10 uM", "+amitriptyline 10 uM"]
    assert t["tag_index"].tolist()[:4] == [0, 0, 1, 1]


def test_window_by_time_mean_and_steady_state(nav_file):
    path, _ = nav_file
    # epoch B (-130 mV) by time: samples [220, 420) = 11-21 ms; steady level IH - 5 pA
    win = {"epoch": None, "start_ms": 11.0, "end_ms": 21.0, "anchor": "start"}
    base = {"epoch": None, "start_ms": 6.0, "end_ms": 11.0, "anchor": "start"}
    t = measure([path], _proto(measure="mean", window=win, baseline=base, leak_subtraction="none"))
    np.testing.assert_allclose(t["value"], -5.0, atol=1e-3)
    t = measure(
        [path], _proto(measure="steady_state", window=win, baseline=base, leak_subtraction="none")
    )
    np.testing.assert_allclose(t["value"], -5.0, atol=1e-3)


def test_measure_trace_pure():
    x = np.array([0.0, 0.0, 0.0, -1.0, -3.0, -2.0, 5.0, 1.0])
    assert measure_trace(x, (3, 8), measure="peak_inward", sample_rate=1000, baseline=(0, 3)) == (-3.0, 0.0)
    v, b = measure_trace(x, (3, 8), measure="peak_inward", sample_rate=1000, peak_points=3)
    assert v == pytest.approx(-2.0) and b == 0.0
    assert measure_trace(x, (3, 8), measure="tail_peak", sample_rate=1000)[0] == 5.0
    assert measure_trace(x, (3, 8), measure="steady_state", sample_rate=1000, steady_state_ms=2)[0] == 3.0
    assert measure_trace(x, (3, 8), measure="mean", sample_rate=1000, blanking_ms=3)[0] == 3.0


def test_bad_file_gives_one_failed_row(nav_file, tmp_path):
    path, _ = nav_file
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"\x00" * 100)
    t = measure([path, junk, tmp_path / "missing.abf"], _proto())
    assert len(t) == 6
    bad = t[t["status"] == "failed"]
    assert bad["file"].tolist() == [str(junk), str(tmp_path / "missing.abf")]
    assert bad["reason"].str.contains("junk.abf|missing.abf").all()
    assert pd.isna(bad["sweep"]).all()


def test_table_input_and_units_override(nav_file):
    path, _ = nav_file
    t = measure(pd.DataFrame({"file": [str(path)]}), _proto(), units="A")
    assert (t["units"] == "A").all()
    assert t["reason"].str.contains("do not fit units 'A'").all()


def test_tag_columns_on_real_wash_in_file(abf_path):
    # 0.1-s sweeps every 5 s, "+drug at 3min" at 180.38 s: lies in sweep 36's interval
    # (Tag.sweep = 36) but after sweep 36 was recorded -> applies from sweep 37
    proto = load_protocol(
        "patchclamp-nav-resting",
        baseline={"epoch": "pre"},
        window={"epoch": "A"},
        leak_subtraction="none",
        membrane_test="A",
        blanking_ms=0.0,
    )
    t = measure(abf_path("2018_11_16_sh_0006.abf"), proto)
    assert len(t) == 60 and (t["status"] == "ok").all()
    assert t["tag_index"].tolist() == [0] * 37 + [1] * 23
    assert t.loc[37, "tag"] == "+drug at 3min"
    assert t.loc[37, "time_s"] == 185.0


def test_membrane_test_auto_finds_first_step(abf_path):
    kw = {"baseline": {"epoch": "pre"}, "window": {"epoch": "A"}, "leak_subtraction": "none"}
    name = "patchclamp-nav-resting"
    auto = measure(abf_path("2018_11_16_sh_0006.abf"), load_protocol(name, membrane_test="auto", **kw))
    explicit = measure(abf_path("2018_11_16_sh_0006.abf"), load_protocol(name, membrane_test="A", **kw))
    pd.testing.assert_frame_equal(auto, explicit)
    assert auto["ra_mohm"].notna().all()


def test_unexpected_errors_become_failed_rows(nav_file, monkeypatch):
    import importlib

    m = importlib.import_module("nplab.ephys.measure")  # the module, not the function

    path, _ = nav_file

    def boom(*args, **kwargs):
        raise KeyError("odd header")

    monkeypatch.setattr(m, "read_abf", boom)
    t = m.measure([path, path], _proto(), executor="serial")
    assert len(t) == 2 and (t["status"] == "failed").all()
    assert t["reason"].str.contains("unexpected error \\(KeyError").all()


def test_cli_units_override(nav_file, tmp_path):
    from nplab.cli import main

    path, _ = nav_file
    out = tmp_path / "t.csv"
    with pytest.raises(SystemExit) as exc:
        main(["ephys", "measure", str(path), "-o", str(out), "--units", "nA", "--no-manifest"])
    assert exc.value.code == 0
    t = pd.read_csv(out)
    assert (t["units"] == "nA").all() and len(t) == 4
    assert not (tmp_path / "t.csv.manifest.json").exists()


def test_epoch_by_index_text(nav_file):
    path, _ = nav_file
    by_letter = measure([path], _proto())
    by_index = measure(
        [path],
        _proto(
            window={"epoch": "3", "end_ms": 10.0},
            baseline={"epoch": "0", "anchor": "end", "start_ms": -5.0, "end_ms": 0.0},
            leak_window={"epoch": "1", "anchor": "end", "start_ms": -5.0, "end_ms": 0.0},
        ),
    )
    pd.testing.assert_frame_equal(by_letter, by_index)


@pytest.mark.parametrize("name", ["17o05028_ic_steps.abf", "File_axon_5.abf"])
def test_current_clamp_steps_get_a_note(abf_path, name):
    cc = measure(
        abf_path(name),
        _proto(window={"epoch": "B"}, baseline={"epoch": "A"}, leak_subtraction="none"),
    )
    assert (cc["status"] == "ok").all()
    assert cc["reason"].str.contains("current-clamp recording").all()
