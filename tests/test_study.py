"""Study-file validation: the sample studies load; bad files name the file and key."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from nplab.errors import InputError
from nplab.study import load_study


@pytest.fixture()
def study_copy(repo_dir: Path, tmp_path: Path) -> Path:
    """A copy of the CCI sample study (file + data folder) that tests may edit."""
    shutil.copytree(repo_dir / "sample_data" / "cci", tmp_path / "cci")
    (tmp_path / "ephys").symlink_to(repo_dir / "sample_data" / "ephys")
    dest = tmp_path / "cci_study.toml"
    shutil.copy(repo_dir / "sample_data" / "cci_study.toml", dest)
    return dest


def _edit(path: Path, old: str, new: str) -> Path:
    text = path.read_text()
    assert old in text, old
    path.write_text(text.replace(old, new, 1))
    return path


def test_sample_studies_load(repo_dir: Path) -> None:
    s = load_study(repo_dir / "sample_data" / "cci_study.toml")
    assert s.name == "cci-sample"
    assert s.control_group == "CCI + vehicle"
    assert list(s.groups["name"])[:2] == ["Sham + vehicle", "CCI + vehicle"]
    assert s.groups.loc[s.groups["name"] == "Sham + vehicle", "model"].item() == "sham"
    assert s.groups.loc[s.groups["name"] == "CCI + vehicle", "model"].item() == "CCI"
    assert s.baseline_label == "BL" and s.predose_label == "D14"
    assert list(s.postdose["hours"]) == [1.0, 2.0, 4.0, 6.0]
    assert s.blinded and s.unblinding_key.name == "unblinding_key.csv"
    assert s.surgery["ligature_material"] == "4-0 chromic gut"
    assert s.protocols["vonfrey"] == "vonfrey-updown-rat"
    assert s.exclusions[0]["max_threshold_g"] == 4.0
    behaviour = {"acetone", "hot_plate", "rotarod"}
    assert set(s.data) == {"animals", "vonfrey", "hargreaves"} | behaviour | (
        {"patchclamp", "elisa", "qpcr"} if "patchclamp" in s.data else set()
    ) | ({"excitability"} if "excitability" in s.data else set()) | ({"western"} if "western" in s.data else set())
    snl = load_study(repo_dir / "sample_data" / "snl_study.toml")
    assert snl.model["type"] == "SNL" and not snl.blinded
    # defaults of absent tables are filled
    assert snl.analysis["alpha"] == 0.05 and snl.protocols["vonfrey"] == "vonfrey-updown-rat"


@pytest.mark.parametrize(
    ("old", "new", "match"),
    [
        ('dose = 3\n', 'dose = "three"\n', r"groups\[2\]\.dose"),
        ('dose = 3\n', 'dose = -3\n', r"groups\[2\]\.dose.*>= 0"),
        ('species = "rat"', 'speciez = "rat"', r"unknown key 'study\.speciez'"),
        ('kind = "predose"', 'kind = "pre"', r"timepoints\[1\]\.kind"),
        ('vonfrey = "cci/vonfrey.csv"', 'vonfrey = "cci/nothere.csv"', r"data\.vonfrey"),
        ('surgery_protocol = "cci"', 'surgery_protocol = "snl"', r"model\.surgery_protocol"),
        ('surgeon = "Surgeon A"\n', "", r"column 'surgeon'"),
        ('date = "2026-01-05"', 'date = "5/1/26"', "not a date"),
        ('label = "4h"', 'label = "2h"', r"'2h' appears twice"),
        ("hours = 4\n", "", r"timepoints\[4\]\.hours"),
        ("hours = 4\n", "hours = 1.5\n", "post-dose hours must increase"),
        ('timepoint = "D14"', 'timepoint = "D15"', r"exclusions\[0\]\.timepoint"),
        ("max_threshold_g = 4.0\n", "", r"exclusions\[0\]\.max_threshold_g"),
        ('key = "cci/unblinding_key.csv"', 'key = "cci/key.csv"', r"blinding\.key"),
        ('primary = "vonfrey"', 'primary = "tailflick"', r"outcomes\.primary"),
        ("[[groups]]\nname = \"CCI + amitriptyline 3 mg/kg\"",
         "[[groups]]\ncontrol = true\nname = \"CCI + amitriptyline 3 mg/kg\"",
         "more than one control group"),
    ],
)
def test_invalid_study_names_file_and_key(study_copy: Path, old: str, new: str, match: str) -> None:
    _edit(study_copy, old, new)
    with pytest.raises(InputError, match=match) as err:
        load_study(study_copy)
    assert str(study_copy) in str(err.value) or err.value.file is not None


def test_not_toml(tmp_path: Path) -> None:
    bad = tmp_path / "s.toml"
    bad.write_text("[study\ntitle = 1")
    with pytest.raises(InputError, match="not valid TOML"):
        load_study(bad)
    with pytest.raises(InputError, match="study file not found"):
        load_study(tmp_path / "missing.toml")
    other = tmp_path / "s.json"
    other.write_text("{}")
    with pytest.raises(InputError, match="study files are TOML"):
        load_study(other)


def test_yaml_study_equals_toml(study_copy: Path) -> None:
    yaml = pytest.importorskip("yaml")
    import tomllib

    data = tomllib.loads(study_copy.read_text())
    data["model"]["date"] = __import__("datetime").date(2026, 1, 5)  # YAML writes a date
    y = study_copy.with_suffix(".yaml")
    y.write_text(yaml.safe_dump(data, sort_keys=False))
    a, b = load_study(study_copy), load_study(y)
    assert a.groups.equals(b.groups) and a.timepoints.equals(b.timepoints)
    assert a.surgery == b.surgery and a.exclusions == b.exclusions and a.data == b.data
    bad = study_copy.with_name("bad.yaml")
    bad.write_text("study: [unclosed")
    with pytest.raises(InputError, match="not valid YAML"):
        load_study(bad)
    bad.write_text("- a list")
    with pytest.raises(InputError, match="not a mapping"):
        load_study(bad)


def test_cli_bad_study_exits_2_and_writes_nothing(study_copy: Path, tmp_path: Path, capsys) -> None:
    from nplab.cli import main

    _edit(study_copy, "dose = 3\n", 'dose = "three"\n')
    out = tmp_path / "out"
    with pytest.raises(SystemExit) as exit_:
        main(["run", str(study_copy), "-o", str(out)])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert "groups[2].dose" in err and "Traceback" not in err
    assert not out.exists()
