"""``nplab vonfrey``: outputs, manifest, byte-identical reruns, exit codes."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pandas as pd
import pytest

from nplab.cli import main

REPO = Path(__file__).resolve().parents[2]


def run(args: list[str], capsys) -> tuple[int, str]:
    with pytest.raises(SystemExit) as exc:
        main(args)
    captured = capsys.readouterr()
    return exc.value.code, captured.out + captured.err


@pytest.fixture
def sheet(tmp_path: Path) -> Path:
    p = tmp_path / "vf.csv"
    pd.DataFrame(
        {
            "animal": ["r1", "r2", "r3"],
            "paw": ["left", "left", "right"],
            "timepoint": ["day7"] * 3,
            "responses": ["OOOXOXOX", "XXXX", "oxoxox"],
        }
    ).to_csv(p, index=False)
    return p


def test_cli_writes_table_and_manifest(sheet, tmp_path, capsys):
    out = tmp_path / "out" / "thr.csv"
    rc, text = run(["vonfrey", str(sheet), "--protocol", "vonfrey-updown-rat", "-o", str(out)], capsys)
    assert rc == 0 and "3 tests" in text
    table = pd.read_csv(out)
    assert table["status"].tolist() == ["ok", "below_range", "ok"]
    manifest = json.loads((out.parent / "thr.csv.manifest.json").read_text())
    assert "vonfrey-updown-rat" in json.dumps(manifest)
    first = out.read_bytes()
    rc, _ = run(["vonfrey", str(sheet), "-p", "vonfrey-updown-rat", "-o", str(out)], capsys)
    assert rc == 0 and out.read_bytes() == first


def test_cli_bad_input_exit_2(tmp_path, capsys):
    bad = tmp_path / "bad.csv"
    bad.write_text("animal,timepoint,responses\nr1,BL,OXOXOX\nr2,BL,OXK\n")
    rc, text = run(["vonfrey", str(bad), "-p", "vonfrey-updown-rat", "-o", str(tmp_path / "o.csv")], capsys)
    assert rc == 2 and "row 3" in text and "'responses'" in text and "Traceback" not in text
    assert not (tmp_path / "o.csv").exists()
    rc, text = run(["vonfrey", str(tmp_path / "missing.csv"), "-p", "vonfrey-updown-rat", "-o", str(tmp_path / "o.csv")], capsys)
    assert rc == 2 and "not found" in text
    rc, text = run(["vonfrey", str(bad), "-p", "cci", "-o", str(tmp_path / "o.csv")], capsys)
    assert rc == 2 and "kind" in text


def test_cli_subprocess_help():
    res = subprocess.run(
        [sys.executable, "-m", "nplab", "vonfrey", "--help"],
        capture_output=True, text=True, env={"PYTHONPATH": str(REPO / "src")}, check=False,
    )
    assert res.returncode == 0 and "--protocol" in res.stdout
