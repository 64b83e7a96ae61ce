"""``nplab behaviour TEST ...``: outputs, manifest, errors as exit code 2."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab.cli import main

REF = Path(__file__).parent / "reference"


def _run(args):
    with pytest.raises(SystemExit) as exc:
        main([str(a) for a in args])
    return exc.value.code


def test_rotarod_cli_with_km_and_manifest(tmp_path):
    out, km = tmp_path / "rr.csv", tmp_path / "km.csv"
    assert _run(["behaviour", "rotarod", REF / "rotarod_trials.csv", "-o", out, "--km", km]) == 0
    table = pd.read_csv(out)
    assert len(table) == 6 and "speed_at_fall_rpm" in table.columns
    assert set(pd.read_csv(km)["group"]) == {"veh", "high"}
    assert (tmp_path / "rr.csv.manifest.json").is_file()


def test_bad_input_exit_2_one_line(tmp_path, capsys):
    assert _run(["behaviour", "acetone", REF / "rotarod_trials.csv", "-o", tmp_path / "a.csv"]) == 2
    err = capsys.readouterr().err
    assert "column 'paw'" in err and "Traceback" not in err
    assert not (tmp_path / "a.csv").exists()
    assert (
        _run(
            [
                "behaviour",
                "acetone",
                REF / "rotarod_trials.csv",
                "-o",
                tmp_path / "a.csv",
                "--km",
                tmp_path / "k.csv",
            ]
        )
        == 2
    )
    assert "latency tests" in capsys.readouterr().err
