"""Patch-clamp batches of a study on local processes and on a Dask cluster equal serial."""

from __future__ import annotations

from pathlib import Path

import pytest

from nplab.runner import run_study

STUDY = """
[study]
title = "Amitriptyline on Nav1.7 and hERG (sample recordings)"
id = "ephys-only"
species = "rat"

[model]
type = "CCI"
surgery_protocol = "cci"
side = "left"
date = "2026-01-05"
surgeon = "A"

[[groups]]
name = "CCI + vehicle"
treatment = "vehicle"
dose = 0
control = true

[[timepoints]]
label = "D14"
kind = "predose"
days = 14

[data]
animals = "{animals}"
patchclamp = "{experiment}"

[patchclamp]
h = {{ "patchclamp-nav-resting" = 1.0, "patchclamp-nav-inactivated" = 0.5 }}

[outcomes]
primary = "patchclamp"
"""


@pytest.fixture()
def ephys_study(repo_dir: Path, tmp_path: Path) -> Path:
    animals = tmp_path / "animals.csv"
    animals.write_text("animal,group\nR1,CCI + vehicle\n")
    exp = repo_dir / "sample_data" / "ephys" / "experiment.csv"
    path = tmp_path / "ephys_study.toml"
    path.write_text(STUDY.format(animals=animals.as_posix(), experiment=exp.as_posix()))
    return path


def _tables(out: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted((out / "tables").glob("patchclamp_*.csv"))}


@pytest.mark.slow
def test_processes_and_dask_equal_serial(ephys_study: Path, tmp_path: Path) -> None:
    distributed = pytest.importorskip("distributed")
    serial = run_study(ephys_study, tmp_path / "serial", executor="serial")
    ref = _tables(tmp_path / "serial")
    assert {"patchclamp_fits.csv", "patchclamp_cells.csv", "patchclamp_sweeps.csv"} <= set(ref)
    assert "figures/patchclamp_concentration_response.svg" in serial.outputs
    run_study(ephys_study, tmp_path / "procs", jobs=2)
    assert _tables(tmp_path / "procs") == ref
    with distributed.LocalCluster(n_workers=2, threads_per_worker=1, processes=False,
                                  dashboard_address=None) as cluster, \
            distributed.Client(cluster) as client:
        run_study(ephys_study, tmp_path / "dask", scheduler=client)
        run_study(ephys_study, tmp_path / "dask-addr", scheduler=cluster.scheduler_address)
    assert _tables(tmp_path / "dask") == ref
    assert _tables(tmp_path / "dask-addr") == ref
    # the whole output folder, report included, is identical too
    for name in serial.outputs:
        assert (tmp_path / "dask" / name).read_bytes() == (tmp_path / "serial" / name).read_bytes()
