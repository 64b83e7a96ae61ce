"""Robustness: every real ABF file gives a table or a clear failed row, never a traceback."""

from __future__ import annotations

import json

import pyabf
import pytest

from nplab.cli import main
from nplab.ephys import PER_SWEEP_COLUMNS, measure


@pytest.mark.parametrize(
    "protocol", ["patchclamp-nav-resting", "patchclamp-nav-inactivated", "patchclamp-herg"]
)
def test_every_corpus_file_measured_or_explained(abf_dir, protocol):
    files = sorted(abf_dir.glob("*.abf"))
    t = measure(files, protocol, executor="serial")
    assert list(t.columns) == PER_SWEEP_COLUMNS
    assert t["file"].drop_duplicates().tolist() == [str(f) for f in files]
    bad = t[t["status"] == "failed"]
    assert bad.groupby("file").size().eq(1).all()
    for file, reason in zip(bad["file"], bad["reason"], strict=True):
        assert reason and file.rsplit("/", 1)[-1] in reason


def test_time_windows_measure_every_sweep_of_the_corpus(abf_dir, tmp_path):
    # windows by time (first 10 ms = baseline, whole sweep = window): any file with
    # sweeps can be measured, including variable-length and gap-free files
    proto = tmp_path / "generic.toml"
    proto.write_text(
        '[protocol]\nname = "generic"\nversion = "1"\nkind = "patchclamp"\n'
        "[parameters]\nmeasure = \"mean\"\nbaseline = { start_ms = 0.0, end_ms = 10.0 }\n"
        "window = { start_ms = 0.0 }\n",
        encoding="utf-8",
    )
    files = sorted(abf_dir.glob("*.abf"))
    t = measure(files, proto)
    assert len(t) == sum(pyabf.ABF(str(f), loadData=False).sweepCount for f in files)
    # the only real files flagged by the header checks, each for a true inconsistency
    # (nplab.ephys.abfcheck): header interval 10 s vs synch array 8.93 s; units "A" on
    # a pA-scale signal
    reasons = t[t["status"] != "ok"].drop_duplicates("file").set_index("file")["reason"]
    present = {f.name for f in files}  # the shared corpus, or the bundled subset
    assert {f.rsplit("/", 1)[-1] for f in reasons.index} == {
        "File_axon_7.abf", "2018_12_09_pCLAMP11_0001.abf"} & present
    assert (t.loc[t["file"].isin(reasons.index), "status"] == "suspect").all()
    assert reasons.str.contains("synch array starts sweeps 8.92806 s apart|do not fit units 'A'").all()


def test_cli_measure_folder(abf_dir, tmp_path, capsys):
    # time windows (not epoch letters): every real file can be measured
    proto = tmp_path / "generic.toml"
    proto.write_text(
        '[protocol]\nname = "generic"\nversion = "1"\nkind = "patchclamp"\n'
        "[parameters]\nmeasure = \"mean\"\nbaseline = { start_ms = 0.0, end_ms = 10.0 }\n"
        "window = { start_ms = 0.0 }\n",
        encoding="utf-8",
    )
    out = tmp_path / "per_sweep.csv"
    with pytest.raises(SystemExit) as exc:
        main(["ephys", "measure", str(abf_dir), "-o", str(out), "-p", str(proto),
              "--no-progress"])
    assert exc.value.code == 0
    manifest = json.loads((tmp_path / "per_sweep.csv.manifest.json").read_text())
    assert manifest["protocols"][0]["name"] == "generic"
    assert out.read_text().startswith(",".join(PER_SWEEP_COLUMNS))


def test_cli_bad_protocol_exit_2(abf_dir, tmp_path, capsys):
    with pytest.raises(SystemExit) as exc:
        main(["ephys", "measure", str(abf_dir), "-o", str(tmp_path / "x.csv"), "-p", "nope"])
    assert exc.value.code == 2
    assert "no protocol named 'nope'" in capsys.readouterr().err
