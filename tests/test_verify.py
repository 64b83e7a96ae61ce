"""``nplab verify``: reruns are byte-identical; changed inputs/outputs are named."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from nplab.cli import main
from nplab.runner import run_study
from nplab.verify import verify


@pytest.fixture()
def snl_run(repo_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(repo_dir / "sample_data" / "snl", tmp_path / "study" / "snl")
    shutil.copy(repo_dir / "sample_data" / "snl_study.toml", tmp_path / "study")
    run_study(tmp_path / "study" / "snl_study.toml", tmp_path / "out")
    return tmp_path / "out" / "manifest.json"


def test_two_runs_are_byte_identical(snl_run: Path, tmp_path: Path) -> None:
    res = verify(snl_run, keep=tmp_path / "again")
    assert res.ok, res.lines()
    record = json.loads(snl_run.read_text())
    names = {o["path"] for o in record["outputs"]}
    assert set(res.identical) == names and "report.html" in names
    assert any(n.endswith(".svg") for n in names) and any(n.endswith(".png") for n in names)
    for n in names:
        assert (tmp_path / "again" / n).read_bytes() == (snl_run.parent / n).read_bytes()
    # the manifest records inputs (relative to the study) and resolved protocols
    assert {i["path"] for i in record["inputs"]} >= {"snl_study.toml", "snl/animals.csv",
                                                    "snl/vonfrey.csv"}
    assert [p["name"] for p in record["protocols"]] == ["snl", "vonfrey-updown-rat"]


def test_serial_run_equals_background_figure_saving(snl_run: Path, tmp_path: Path) -> None:
    """Figures saved in a child process (the default) are the bytes a serial run writes."""
    study = snl_run.parent.parent / "study" / "snl_study.toml"
    serial = run_study(study, tmp_path / "serial", jobs=1)
    record = json.loads(snl_run.read_text())
    names = {o["path"] for o in record["outputs"]}
    assert names == set(serial.outputs) and any(n.endswith(".png") for n in names)
    for n in names:
        assert (tmp_path / "serial" / n).read_bytes() == (snl_run.parent / n).read_bytes(), n


def test_changed_input_and_output_are_named(snl_run: Path, capsys) -> None:
    study_dir = snl_run.parent.parent / "study"
    sheet = study_dir / "snl" / "vonfrey.csv"
    lines = sheet.read_text().splitlines()
    first = lines[1].split(",")
    first[3] = "OOOOO" if first[3] != "OOOOO" else "OXOXOX"
    lines[1] = ",".join(first)
    sheet.write_text("\n".join(lines) + "\n")
    (snl_run.parent / "tables" / "exclusions.csv").write_text("edited\n")
    res = verify(snl_run)
    assert not res.ok
    assert res.inputs_changed == [("snl/vonfrey.csv", "sha256 differs from the manifest")]
    assert res.outputs_tampered == ["tables/exclusions.csv"]
    assert "tables/vonfrey_thresholds.csv" in res.outputs_differ
    assert "report.html" in res.outputs_differ
    with pytest.raises(SystemExit) as exit_:
        main(["verify", str(snl_run)])
    assert exit_.value.code == 3
    out = capsys.readouterr().out
    assert "INPUT CHANGED  snl/vonfrey.csv" in out and "DIFFERS        tables/vonfrey_thresholds.csv" in out


def test_not_a_manifest(tmp_path: Path, capsys) -> None:
    p = tmp_path / "m.json"
    p.write_text("{}")
    with pytest.raises(SystemExit) as exit_:
        main(["verify", str(p)])
    assert exit_.value.code == 2
    assert "not the manifest of an 'nplab run'" in capsys.readouterr().err


def test_input_edited_into_invalid_data_is_still_named(snl_run: Path, capsys) -> None:
    # review8: an edited input that no longer validates made verify stop with the
    # rerun's InputError (exit 2) without saying which input changed.
    sheet = snl_run.parent.parent / "study" / "snl" / "vonfrey.csv"
    sheet.write_text(sheet.read_text() + "garbage,row\n")
    res = verify(snl_run)
    assert not res.ok
    assert res.inputs_changed == [("snl/vonfrey.csv", "sha256 differs from the manifest")]
    assert res.rerun_error and "vonfrey.csv" in res.rerun_error
    with pytest.raises(SystemExit) as exit_:
        main(["verify", str(snl_run)])
    assert exit_.value.code == 3
    out = capsys.readouterr().out
    assert "INPUT CHANGED  snl/vonfrey.csv" in out and "RERUN FAILED" in out


def test_deleted_output_is_missing_not_edited(snl_run: Path, capsys) -> None:
    """Issue 18 item 8: a deleted output was reported as 'OUTPUT EDITED'."""
    (snl_run.parent / "tables" / "exclusions.csv").unlink()
    res = verify(snl_run)
    assert not res.ok
    assert res.outputs_deleted == ["tables/exclusions.csv"] and res.outputs_tampered == []
    assert "tables/exclusions.csv" in res.identical  # the rerun still reproduces it
    lines = res.lines()
    assert any(line.startswith("MISSING        tables/exclusions.csv") for line in lines)
    assert not any("OUTPUT EDITED" in line for line in lines)
    assert "1 deleted since the run" in lines[-1]


# --- numeric tolerance (a run of another release: last digits of p may move) --------

def _as_older_release(manifest: Path, rel: str, edit) -> None:
    """Rewrite one recorded output as another release might have written it, and its
    sha256 in the manifest (so it is not 'edited since the run')."""
    from nplab.tables import sha256_file

    f = manifest.parent / rel
    f.write_text(edit(f.read_text()))
    record = json.loads(manifest.read_text())
    for o in record["outputs"]:
        if o["path"] == rel:
            o["sha256"] = sha256_file(f)
    manifest.write_text(json.dumps(record))


def _nudge_p(text: str, factor: float) -> str:
    from io import StringIO

    import pandas as pd

    t = pd.read_csv(StringIO(text))
    t["p"] = t["p"] * factor
    return t.to_csv(index=False)


def test_tolerance_accepts_tables_whose_numbers_agree(snl_run: Path, capsys) -> None:
    table = "tables/vonfrey_dunnett.csv"
    _as_older_release(snl_run, table, lambda t: _nudge_p(t, 1 + 1e-11))
    strict = verify(snl_run)
    assert not strict.ok and strict.outputs_differ == [table]
    loose = verify(snl_run, rtol=1e-9)
    assert loose.ok and loose.outputs_differ == [] and table not in loose.identical
    (rel, worst_abs, worst_rel), = loose.within_tolerance
    assert rel == table and 0 < worst_rel <= 1.5e-11 and worst_abs < 1e-11
    assert any(line.startswith("WITHIN TOL.    tables/vonfrey_dunnett.csv")
               for line in loose.lines())
    with pytest.raises(SystemExit) as exc:
        main(["verify", str(snl_run), "--rtol", "1e-9"])
    assert exc.value.code == 0 and "table(s) within tolerance" in capsys.readouterr().out


def test_tolerance_does_not_hide_real_differences(snl_run: Path) -> None:
    table = "tables/vonfrey_dunnett.csv"
    _as_older_release(snl_run, table, lambda t: _nudge_p(t, 1 + 1e-6))
    res = verify(snl_run, rtol=1e-9)
    assert not res.ok and res.outputs_differ == [table] and res.within_tolerance == []


def test_table_difference_rules(tmp_path: Path) -> None:
    from nplab.verify import table_difference

    def files(a: str, b: str) -> tuple[Path, Path]:
        (tmp_path / "a.csv").write_text(a)
        (tmp_path / "b.csv").write_text(b)
        return tmp_path / "a.csv", tmp_path / "b.csv"

    base = "group,p,note\nA,0.5,ok\nB,,x\nC,inf,y\n"
    assert table_difference(*files(base, base.replace("0.5", "0.5000000001")), 1e-9) == \
        pytest.approx((1e-10, 2e-10))
    assert table_difference(*files(base, base.replace("0.5", "0.5000001")), 1e-9) is None
    assert table_difference(*files(base, base.replace("0.5", "0.50000001")), 0, 1e-7) \
        is not None  # atol alone
    assert table_difference(*files(base, base.replace(",ok", ",OK")), 1.0) is None  # text
    assert table_difference(*files(base, base.replace("B,,x", "B,0,x")), 1.0) is None  # NaN
    assert table_difference(*files(base, base.replace("inf", "-inf")), 1.0) is None
    assert table_difference(*files(base, base + "D,1,z\n"), 1.0) is None  # rows
    assert table_difference(*files(base, base.replace("note", "notes")), 1.0) is None


@pytest.mark.parametrize("tol", [{"rtol": float("nan")}, {"atol": float("inf")}, {"rtol": -1e-9}])
def test_tolerance_must_be_a_finite_non_negative_number(tmp_path: Path, tol) -> None:
    from nplab.errors import InputError

    with pytest.raises(InputError, match="finite numbers >= 0"):
        verify(tmp_path / "manifest.json", **tol)  # refused before anything is read
