import json

import numpy as np

from nplab.protocols import load_protocol
from nplab.provenance import DEFAULT_SEED, build_manifest, package_versions, rng, write_manifest
from nplab.tables import sha256_file


def test_manifest_contents_and_reproducible_bytes(tmp_path, monkeypatch):
    monkeypatch.setenv("SOURCE_DATE_EPOCH", "1700000000")
    inp = tmp_path / "in.csv"
    inp.write_text("a\n1\n")
    out = tmp_path / "out.csv"
    out.write_text("b\n2\n")
    kwargs = dict(
        inputs=[inp],
        outputs=[out],
        protocols=[load_protocol("cci")],
        parameters={"alpha": 0.05},
        command=["nplab", "x"],
        root=tmp_path,
        output_root=tmp_path,
    )
    write_manifest(build_manifest(**kwargs), tmp_path / "m1.json")
    write_manifest(build_manifest(**kwargs), tmp_path / "m2.json")
    assert (tmp_path / "m1.json").read_bytes() == (tmp_path / "m2.json").read_bytes()
    m = json.loads((tmp_path / "m1.json").read_text())
    assert m["created"] == "2023-11-14T22:13:20+00:00"
    assert m["inputs"] == [{"path": "in.csv", "bytes": 4, "sha256": sha256_file(inp)}]
    assert m["outputs"][0]["path"] == "out.csv"
    assert m["protocols"][0]["name"] == "cci" and m["protocols"][0]["version"] == "1.0.0"
    assert m["parameters"] == {"alpha": 0.05}
    assert {"numpy", "scipy", "pandas", "statsmodels", "pyabf", "nplab"} <= set(m["versions"])


def test_rng_policy_deterministic():
    assert np.array_equal(rng().random(5), rng().random(5))
    assert np.array_equal(rng(DEFAULT_SEED).random(3), rng(None).random(3))
    assert not np.array_equal(rng(1).random(3), rng(2).random(3))


def test_package_versions_python():
    assert package_versions()["python"].count(".") == 2
