"""Issue 13 item 6: the study file reports every missing required key at once, calls
them keys, and the README lists them; item 12: ``[output] round``; sheets in ``[data]``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.study import _schema, load_study


@pytest.fixture()
def snl_copy(repo_dir: Path, tmp_path: Path) -> Path:
    shutil.copytree(repo_dir / "sample_data" / "snl", tmp_path / "snl")
    shutil.copy(repo_dir / "sample_data" / "snl_study.toml", tmp_path / "snl_study.toml")
    return tmp_path / "snl_study.toml"


def _edit(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, old
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_all_missing_keys_reported_at_once(snl_copy: Path) -> None:
    _edit(snl_copy, 'title = "Amitriptyline after spinal nerve ligation in rats (pilot)"\n', "")
    _edit(snl_copy, 'side = "right"\n', "")
    _edit(snl_copy, 'animals = "snl/animals.csv"\n', "")
    _edit(snl_copy, 'label = "D7"\n', "")
    with pytest.raises(InputError) as exc:
        load_study(snl_copy)
    text = str(exc.value)
    assert "missing keys: study.title, model.side, timepoints[1].label, data.animals" in text
    assert "column" not in text


def test_missing_table_lists_its_keys_and_a_misspelling(snl_copy: Path) -> None:
    _edit(snl_copy, "[model]\n", "[modle]\n")
    with pytest.raises(InputError) as exc:
        load_study(snl_copy)
    assert "missing keys: model.type, model.surgery_protocol, model.side" in str(exc.value)
    assert "unknown key 'modle'" in str(exc.value)


def test_schema_errors_say_key_not_column(snl_copy: Path) -> None:
    _edit(snl_copy, "dose = 10\n", 'dose = "ten"\n')
    with pytest.raises(InputError, match=r"key 'groups\[2\]\.dose': 'ten' has the wrong type"):
        load_study(snl_copy)


def _required(schema, prefix=""):
    for key, spec in schema.items():
        name = prefix + key
        if spec.required and not (spec.fields and spec.type in ("table", "list[table]")):
            yield name
        if spec.fields and spec.type in ("table", "list[table]"):
            yield from _required(spec.fields, name + ("[]." if spec.type == "list[table]" else "."))


def test_readme_lists_every_required_key(repo_dir: Path) -> None:
    readme = (repo_dir / "README.md").read_text(encoding="utf-8")
    m = re.search(r"#### Study file keys\n(.*?)\n#", readme, re.S)
    assert m, "README has no 'Study file keys' section"
    rows = [line for line in m[1].splitlines() if line.startswith("|")]
    for key in _required(_schema()):
        if "[]." in key:  # an array of tables: [[groups]] row naming the field
            table, fld = key.split("[].")
            assert any(f"[[{table}]]" in r and f"`{fld}`" in r for r in rows), key
        else:
            assert any(f"`{key}`" in r for r in rows), key
    assert "`[output] round = 3`" in m[1]


def test_output_round_and_workbook_sheet_in_a_study(snl_copy: Path, tmp_path: Path) -> None:
    from nplab.runner import run_study
    from nplab.tables import round_table

    animals = pd.read_csv(tmp_path / "snl" / "animals.csv", dtype=str)
    with pd.ExcelWriter(tmp_path / "snl" / "book.xlsx") as xl:
        pd.DataFrame({"x": [1]}).to_excel(xl, sheet_name="Notes", index=False)
        animals.to_excel(xl, sheet_name="Animals", index=False)
    _edit(snl_copy, 'animals = "snl/animals.csv"', 'animals = "snl/book.xlsx#Animals"')
    snl_copy.write_text(snl_copy.read_text(encoding="utf-8") + "\n[output]\nround = 3\n",
                        encoding="utf-8")  # fmt: skip
    study = load_study(snl_copy)
    assert study.output == {"round": 3}
    assert study.data["animals"].name == "book.xlsx#Animals"
    res = run_study(snl_copy, tmp_path / "out")
    tables = sorted((res.outdir / "tables").glob("*.csv"))
    assert tables
    for full in tables:
        rounded = res.outdir / "tables" / "rounded" / full.name
        assert f"tables/rounded/{full.name}" in res.outputs
        want = round_table(pd.read_csv(full), 3)
        pd.testing.assert_frame_equal(pd.read_csv(rounded), want, check_dtype=False)
    thresholds = pd.read_csv(res.outdir / "tables" / "vonfrey_thresholds.csv")
    assert (thresholds["threshold_g"] != round_table(thresholds, 3)["threshold_g"]).any()
    manifest = json.loads((res.outdir / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["parameters"]["round"] == 3
    book = [r for r in manifest["inputs"] if r["path"].endswith("book.xlsx")]
    assert book and book[0]["sheet"] == "Animals"
