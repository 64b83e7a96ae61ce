"""read_abf against pyabf (samples) and the vendor's ABFFIO.DLL (first values)."""

from __future__ import annotations

import numpy as np
import pyabf
import pytest

from nplab.ephys import read_abf
from nplab.errors import InputError


def test_corpus_present(shared_dir, vendor_first_values):
    assert len(list((shared_dir / "data" / "abf").glob("*.abf"))) == 31
    assert len(vendor_first_values) == 31


def test_every_abf_file_has_vendor_first_values(abf_dir, vendor_first_values):
    assert len(vendor_first_values) >= 9
    assert sorted(vendor_first_values) == sorted(p.name for p in abf_dir.glob("*.abf"))


def test_samples_equal_pyabf_exactly(abf_dir, abf_name):
    rec = read_abf(abf_dir / abf_name)
    abf = pyabf.ABF(str(abf_dir / abf_name))
    assert rec.sweep_count == abf.sweepCount
    assert rec.channel_count == abf.channelCount
    assert rec.sample_rate == abf.dataRate
    for ch in range(abf.channelCount):
        for s in range(abf.sweepCount):
            abf.setSweep(s, channel=ch)
            got = rec.sweep(s, ch)
            assert got.dtype == np.float32
            assert np.array_equal(got, abf.sweepY), (abf_name, s, ch)


def test_first_values_match_vendor_library(abf_dir, abf_name, vendor_first_values):
    rec = read_abf(abf_dir / abf_name)
    expected = vendor_first_values[abf_name]
    got = [float(rec.sweep(0, ch)[0]) for ch in range(rec.channel_count)]
    # the table is printed to 5 decimals: tolerance 1e-4 relative or 1e-5 absolute
    np.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)


def test_sweep_is_a_copy(abf_path):
    rec = read_abf(abf_path("171116sh_0011.abf"))
    a = rec.sweep(0)
    a[:] = 0.0
    assert not np.all(rec.sweep(0) == 0.0)
    view = rec.sweep_view(0)
    with pytest.raises(ValueError):
        view[0] = 1.0


def test_tag_sweep_uses_sweep_interval_abf2(abf_path):
    # 0.1-s sweeps every 5 s; tag at 180.38 s -> sweep 36 (pyabf's tagSweeps says 1803.78)
    rec = read_abf(abf_path("2018_11_16_sh_0006.abf"))
    assert rec.sweep_interval_s == 5.0
    assert rec.tags[0].comment == "+drug at 3min"
    assert rec.tags[0].sweep == 36
    assert rec.sweep_times_s[36] == 180.0


def test_abf1_sweep_interval_from_header(abf_path):
    # protocol "0402 VC 2s MT-50": one sweep every 2 s; pyabf reports 0.08265 s
    rec = read_abf(abf_path("multichannelAbf1WithTags.abf"))
    assert rec.sweep_interval_s == 2.0
    assert [t.comment for t in rec.tags] == ["+TGOT", "-TGOT"]
    # ABF2 twin (16d05007_vc_tags.abf) has tag times 173.98 s and 294.86 s -> sweeps 86, 147
    assert [t.sweep for t in rec.tags] == [86, 147]
    assert rec.sweep_times_s[-1] == pytest.approx(186 * 2.0)


def test_abf1_abf2_twins_agree_on_interval(abf_path):
    assert read_abf(abf_path("18425108_abf1.abf")).sweep_interval_s == 240.0
    assert read_abf(abf_path("18425108.abf")).sweep_interval_s == 240.0
    a1 = read_abf(abf_path("05210017_vc_abf1.abf"))
    assert a1.sweep_interval_s == 60.0


def test_gap_free_uses_sweep_length(abf_path):
    rec = read_abf(abf_path("File_axon_1.abf"))
    assert rec.sweep_count == 1
    assert rec.sweep_interval_s == pytest.approx(191.2832)


def test_epochs_start_after_one_64th_holding(abf_path):
    rec = read_abf(abf_path("171116sh_0012.abf"))
    eps = rec.epochs(0)
    assert (eps[0].letter, eps[0].start, eps[0].stop) == ("pre", 0, 70000 // 64)
    assert eps[1].letter == "A" and eps[1].start == 1093
    assert rec.epoch(0, "B").level == -110.0
    assert rec.epoch(0, 1).letter == "B"


def test_variable_length_sweeps(abf_path):
    rec = read_abf(abf_path("2020_06_16_0000.abf"))
    assert [rec.sweep_points(i) for i in range(3)] == [3540, 70040, 16040]
    with pytest.raises(InputError, match="epoch"):
        rec.epochs(0)


def test_units_override_and_magnitude_check(abf_path):
    rec = read_abf(abf_path("2018_12_09_pCLAMP11_0001.abf"))
    assert rec.header_units == ["A"]
    assert "do not fit units 'A'" in rec.unit_warnings[0]
    fixed = read_abf(abf_path("2018_12_09_pCLAMP11_0001.abf"), units="pA")
    assert fixed.units == ["pA"] and fixed.unit_warnings == [""]
    good = read_abf(abf_path("171116sh_0011.abf"))
    assert good.unit_warnings == [""]


def test_leak_subtraction_note(abf_path):
    rec = read_abf(abf_path("171116sh_0011.abf"))
    assert rec.leak_subtraction[0].enabled is False
    assert rec.leak_subtraction[0].note == "online P/N: off"


def test_bad_files(abf_path, tmp_path):
    with pytest.raises(InputError, match="file not found"):
        read_abf(tmp_path / "missing.abf")
    junk = tmp_path / "junk.abf"
    junk.write_bytes(b"hello world" * 10)
    with pytest.raises(InputError, match=r"junk\.abf"):
        read_abf(junk)
    truncated = tmp_path / "trunc.abf"
    truncated.write_bytes((abf_path("171116sh_0011.abf")).read_bytes()[:20000])
    with pytest.raises(InputError, match=r"trunc\.abf"):
        read_abf(truncated)


def test_abf1_holding_level_from_header_matches_abf2_twin(abf_path):
    # pyabf reports 10 mV (epoch A level) for the ABF1 copy; the ABF2 original holds at -10
    a1 = read_abf(abf_path("pclamp11_4ch_abf1.abf"))
    a2 = read_abf(abf_path("pclamp11_4ch.abf"))
    assert a1.holding[:4] == a2.holding[:4] == [-10.0, -20.0, 0.0, -40.0]
    assert a1.epochs(0)[0].level == a2.epochs(0)[0].level == -10.0
    assert read_abf(abf_path("multichannelAbf1WithTags.abf")).holding[0] == -50.0


def test_start_datetime(abf_path):
    assert read_abf(abf_path("171116sh_0011.abf")).start_datetime.isoformat().startswith(
        "2017-11-16T14:04:45"
    )


def test_invalid_start_datetime_is_none(abf_path):
    assert read_abf(abf_path("invalidDate-abf1.abf")).start_datetime is None


def test_epochs_callable_and_indexable(abf_path):
    rec = read_abf(abf_path("171116sh_0012.abf"))
    assert rec.epochs[2] == rec.epochs(2) == rec.epochs(2, channel=0)
    assert len(rec.epochs) == rec.sweep_count
    assert [eps[0].letter for eps in rec.epochs] == ["pre"] * rec.sweep_count


@pytest.mark.parametrize("name", ["multichannelAbf1WithTags.abf", "pclamp11_4ch.abf"])
@pytest.mark.parametrize("chunk", [1, 7, 4096])
def test_chunked_scaling_equals_pyabf_at_any_chunk_size(abf_path, monkeypatch, name, chunk):
    # the data block is read and scaled chunk by chunk: chunk edges (partial last chunk,
    # a chunk smaller than one frame of 2-4 channels, a channel offset) change nothing
    import nplab.ephys.abf as abf_module

    monkeypatch.setattr(abf_module, "_CHUNK", chunk)
    rec = read_abf(abf_path(name))
    full = pyabf.ABF(str(abf_path(name)))
    n = rec.sweep_points(0)
    got = np.stack(
        [
            np.concatenate([rec.sweep_view(s, ch) for s in range(rec.sweep_count)])
            for ch in range(rec.channel_count)
        ]
    )
    assert np.array_equal(got, full.data[:, : rec.sweep_count * n])


def test_file_shrinking_while_read_is_an_input_error(tmp_path):
    from nplab.ephys.abf import _read_into

    path = tmp_path / "short.bin"
    path.write_bytes(b"\x01\x00" * 10)
    buf = np.empty((4, 3), dtype=np.int16)
    with open(path, "rb", buffering=0) as fh, pytest.raises(InputError, match="truncated"):
        _read_into(fh, buf, "short.bin")
    with open(path, "rb", buffering=0) as fh:
        _read_into(fh, buf[:3], "short.bin")
    assert buf[:3].tolist() == [[1, 1, 1]] * 3


@pytest.mark.parametrize("n", [1, 2, 3, 101, 19_999, 20_000, 20_001])
def test_sorted_percentile_is_numpys_bit_for_bit(n):
    from nplab.ephys.abf import _percentile_sorted

    rng = np.random.default_rng(n)
    for values in (
        np.abs(rng.normal(-20.0, 5.0, n)).astype(np.float32),
        (rng.integers(0, 40, n) * 0.05).astype(np.float32),  # ties, as from int16 steps
        np.abs(rng.standard_cauchy(n)) * 1e-9,  # float64, heavy tail
    ):
        for q in (0, 1, 50, 99, 100):
            assert _percentile_sorted(np.sort(values), q) == float(np.percentile(values, q))


@pytest.mark.parametrize("n", [1, 2, 3, 4, 9, 10, 999, 1000])
def test_sorted_median_is_numpys_bit_for_bit(n):
    from nplab.ephys.abfcheck import _median

    rng = np.random.default_rng(n)
    starts = np.cumsum(rng.integers(19_990, 20_010, n + 1)) * 50.0 / 1e6  # sweep starts (s)
    for values in (np.diff(starts), rng.normal(1.0, 1e-3, n), rng.integers(0, 3, n) * 0.1):
        assert _median(values) == float(np.median(values))
    if n > 2:
        values = rng.normal(1.0, 1e-3, n)
        values[n // 3] = np.nan
        assert np.isnan(_median(values)) and np.isnan(np.median(values))
