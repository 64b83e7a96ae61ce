"""The assay registry: the runner walks rooms it does not know by name."""

from __future__ import annotations

import ast
import re
import shutil
from pathlib import Path
from typing import Any, ClassVar

import pandas as pd
import pytest

from nplab import assays
from nplab.assays.base import Assay, AssayContext, AssayReport
from nplab.errors import InputError
from nplab.protocols import Param
from nplab.report import Section
from nplab.study import load_study

RUNNER = Path(assays.__file__).resolve().parents[1] / "runner.py"


def test_builtin_assays_registered() -> None:
    reg = assays.registry()
    for name in ("vonfrey", "hargreaves", "patchclamp"):
        assert name in reg
        assert reg[name].name == name
    assert reg["vonfrey"].per_animal and reg["hargreaves"].per_animal
    assert not reg["patchclamp"].per_animal


def test_runner_names_no_assay_and_stays_small() -> None:
    text = RUNNER.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 300
    code = "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#"))
    tree = ast.parse(code)
    strings = " ".join(
        n.value for n in ast.walk(tree) if isinstance(n, ast.Constant) and isinstance(n.value, str)
    )
    names = [n.id for n in ast.walk(tree) if isinstance(n, ast.Name)]
    names += [n.attr for n in ast.walk(tree) if isinstance(n, ast.Attribute)]
    for assay in assays.registry():
        assert not re.search(rf"\b{assay}\b", strings, re.IGNORECASE), assay
        assert assay not in names, assay
    assert "von Frey" not in strings and "Hargreaves" not in strings


def test_register_rejects_bad_names() -> None:
    class NoName(Assay):
        pass

    with pytest.raises(ValueError, match="identifier"):
        assays.register(NoName)

    class Animals(Assay):
        name = "animals"

    with pytest.raises(ValueError, match="animals table"):
        assays.register(Animals)


class _Grip(Assay):
    """A toy assay for the test: grip strength per animal, one value each."""

    name = "griptest"
    title = "Grip strength (test assay)"
    data_doc = "grip table"
    options: ClassVar[dict[str, Param]] = {
        "unit": Param("str", default="g", choices=("g", "N"), doc="force unit"),
    }

    def check_options(self, options: dict[str, Any], file: Path) -> None:
        if options.get("unit") == "N":
            raise InputError("newtons are not supported here", file=file, column="griptest.unit")

    def read(self, ctx: AssayContext) -> pd.DataFrame:
        return pd.read_csv(ctx.study.data[self.name], dtype={"animal": str})

    def measure(self, ctx: AssayContext, raw: pd.DataFrame) -> pd.DataFrame:
        info = ctx.animals.set_index("animal")
        return raw.assign(group=raw["animal"].map(info["group"]))

    def analyse(self, ctx: AssayContext, measured: pd.DataFrame) -> AssayReport:
        import matplotlib.pyplot as plt

        means = measured.groupby("group", sort=True)["force"].mean().reset_index()
        sec = Section(self.title, self.name).p(f"{len(measured)} animals measured.")
        sec.table(means, "Mean force per group")
        fig, ax = plt.subplots()
        ax.bar(means["group"], means["force"])
        sec.plot(fig, "griptest_bars", "Mean grip force per group")
        return AssayReport(
            section=sec,
            tables={"griptest_means": means},
            methods=["Grip strength: group means."],
            summary=["Grip strength measured."],
        )


@pytest.fixture()
def grip_registered():
    assays.register(_Grip)
    yield _Grip
    assays._REGISTRY.pop("griptest", None)


def _study_with_grip(repo_dir: Path, tmp_path: Path, extra: str = "") -> Path:
    shutil.copytree(repo_dir / "sample_data" / "snl", tmp_path / "snl", dirs_exist_ok=True)
    animals = pd.read_csv(tmp_path / "snl" / "animals.csv", dtype=str)
    pd.DataFrame({"animal": animals["animal"], "force": range(len(animals))}).to_csv(
        tmp_path / "grip.csv", index=False
    )
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text(encoding="utf-8")
    text = text.replace(
        'vonfrey = "snl/vonfrey.csv"', 'vonfrey = "snl/vonfrey.csv"\ngriptest = "grip.csv"'
    )
    path = tmp_path / "study.toml"
    path.write_text(text + extra, encoding="utf-8")
    return path


def test_new_assay_plugs_in_without_runner_edit(
    grip_registered, repo_dir: Path, tmp_path: Path
) -> None:
    from nplab.runner import run_study

    study = _study_with_grip(repo_dir, tmp_path, '\n[griptest]\nunit = "g"\n')
    res = run_study(study, tmp_path / "out")
    out = tmp_path / "out"
    assert "tables/griptest_means.csv" in res.outputs
    assert (out / "figures" / "griptest_bars.svg").is_file()
    html = (out / "report.html").read_text(encoding="utf-8")
    assert "Grip strength (test assay)" in html and 'id="griptest"' in html
    # the von Frey room (primary outcome) comes first, then the study file's [data] order
    assert html.index('id="vonfrey"') < html.index('id="griptest"')
    assert "Grip strength measured." in html


def test_assay_keys_validated_from_declarations(
    grip_registered, repo_dir: Path, tmp_path: Path
) -> None:
    bad = _study_with_grip(repo_dir, tmp_path, '\n[griptest]\nunit = "kg"\n')
    with pytest.raises(InputError, match=r"griptest\.unit"):
        load_study(bad)
    newtons = _study_with_grip(repo_dir, tmp_path, '\n[griptest]\nunit = "N"\n')
    with pytest.raises(InputError, match="newtons"):
        load_study(newtons)
    unknown = _study_with_grip(repo_dir, tmp_path, '\n[griptest]\ncolour = "red"\n')
    with pytest.raises(InputError, match=r"unknown key 'griptest\.colour'") as exc:
        load_study(unknown)
    assert str(unknown) in str(exc.value)


def test_unknown_data_key_lists_registered_assays(repo_dir: Path, tmp_path: Path) -> None:
    text = (repo_dir / "sample_data" / "snl_study.toml").read_text(encoding="utf-8")
    shutil.copytree(repo_dir / "sample_data" / "snl", tmp_path / "snl")
    path = tmp_path / "s.toml"
    path.write_text(
        text.replace('vonfrey = "snl/vonfrey.csv"', 'vonfrey = "snl/vonfrey.csv"\ngrip = "x.csv"'),
        encoding="utf-8",
    )
    with pytest.raises(InputError, match=r"unknown key 'data\.grip'") as exc:
        load_study(path)
    for name in ("hargreaves", "patchclamp", "vonfrey"):
        assert name in str(exc.value)


def test_study_data_keeps_file_order(repo_dir: Path) -> None:
    study = load_study(repo_dir / "sample_data" / "cci_study.toml")
    assert list(study.data) == [
        "animals", "vonfrey", "hargreaves", "acetone", "hot_plate", "rotarod", "patchclamp",
        "elisa", "qpcr", "excitability", "western",
    ]
    assert study.patchclamp == study.options["patchclamp"]
