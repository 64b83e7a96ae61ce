"""The real ABF files bundled in tests/data/abf: provenance, licence, size and coverage.

Each row of tests/data/abf/SOURCES.md is checked against the file (bytes, sha256) and
against pyabf's reading of its header (format, operation mode, sweeps, channels, clamp
mode from the recorded units), so the provenance table cannot drift from the files.
"""

from __future__ import annotations

import hashlib
import re

import pyabf
import pytest

MAX_BYTES = 4_000_000  # issue 12: at most ~4 MB of bundled recordings
FIELDS = ("file", "origin", "format", "mode", "clamp", "sweeps", "channels", "bytes", "sha256")


def _rows(repo_dir) -> dict[str, dict[str, str]]:
    text = (repo_dir / "tests" / "data" / "abf" / "SOURCES.md").read_text(encoding="utf-8")
    out = {}
    for line in text.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) >= len(FIELDS) and cells[1].startswith("data/abfs/"):
            out[cells[0]] = dict(zip(FIELDS, cells, strict=False))
    return out


@pytest.fixture(scope="module")
def bundled(repo_dir):
    return repo_dir / "tests" / "data" / "abf", _rows(repo_dir)


def test_sources_lists_exactly_the_bundled_files(bundled):
    folder, rows = bundled
    files = sorted(p.name for p in folder.glob("*.abf"))
    assert len(files) >= 9
    assert sorted(rows) == files
    assert sum((folder / f).stat().st_size for f in files) <= MAX_BYTES


def test_licence_text_beside_the_files(bundled):
    folder, _ = bundled
    text = (folder / "LICENSE-pyABF.txt").read_text(encoding="utf-8")
    assert text.startswith("MIT License\n\nCopyright (c) 2018 Scott W Harden\n")
    assert "The above copyright notice and this permission notice shall be included" in text
    assert "3ad9cd6f2cdfe79bc1978736ab46314866ca1c4c" in (folder / "SOURCES.md").read_text()


def test_each_row_matches_its_file(bundled):
    folder, rows = bundled
    for name, row in rows.items():
        data = (folder / name).read_bytes()
        assert row["origin"] == f"data/abfs/{name}"
        assert int(row["bytes"]) == len(data), name
        assert row["sha256"] == hashlib.sha256(data).hexdigest(), name
        abf = pyabf.ABF(str(folder / name), loadData=False)
        major = "ABF1" if abf.abfVersion["major"] == 1 else "ABF2"
        assert row["format"] == f"{major} ({abf.abfVersionString})", name
        assert int(row["mode"]) == abf.nOperationMode, name
        assert int(row["sweeps"]) == abf.sweepCount, name
        assert int(row["channels"]) == abf.channelCount, name
        unit = abf.adcUnits[0].strip("\x00").strip()
        assert row["clamp"] == ("CC" if unit == "mV" else "VC"), name


def test_bundle_covers_formats_modes_channels_tags_and_clamps(bundled):
    folder, rows = bundled
    abfs = {n: pyabf.ABF(str(folder / n), loadData=False) for n in rows}
    assert {a.abfVersion["major"] for a in abfs.values()} == {1, 2}
    assert {3, 5} <= {a.nOperationMode for a in abfs.values()}  # gap-free, episodic
    assert max(a.channelCount for a in abfs.values()) >= 2
    assert any(a.tagComments for a in abfs.values() if a.abfVersion["major"] == 1)
    assert any(a.tagComments for a in abfs.values() if a.abfVersion["major"] == 2)
    assert {r["clamp"] for r in rows.values()} == {"VC", "CC"}
    # current-clamp steps (episodic, several sweeps) for spike detection
    assert any(r["clamp"] == "CC" and r["mode"] == "5" and int(r["sweeps"]) > 5
               for r in rows.values())  # fmt: skip
    assert all(re.fullmatch(r"[0-9a-f]{64}", r["sha256"]) for r in rows.values())
