"""The shipped hargreaves-rat / hargreaves-mouse protocols."""

from __future__ import annotations

import pytest

from nplab.errors import ProtocolError
from nplab.protocols import load_protocol


@pytest.mark.parametrize("name", ["hargreaves-rat", "hargreaves-mouse"])
def test_presets_load_with_documented_defaults(name, repo_dir):
    p = load_protocol(name, kind="hargreaves")
    assert p.kind == "hargreaves" and p.version == "1.0.0"
    assert p["cutoff_s"] == 20.0 and p["trials_per_paw"] == 3
    assert p["average"] == "mean" and p["min_valid_trials"] == 2
    assert p["min_intertrial_interval_s"] == 300.0 and p["discard_first_trial"] is False
    doc = (repo_dir / "protocols" / f"{name}.md").read_text()
    for key in p.params:
        assert f"| {key} |" in doc, key
    assert any("Hargreaves" in r for r in p.references)


def test_rat_baseline_window_and_overrides():
    assert load_protocol("hargreaves-rat")["baseline_window_s"] == [8.0, 12.0]
    assert load_protocol("hargreaves-mouse")["baseline_window_s"] is None
    p = load_protocol("hargreaves-mouse", cutoff_s=15.0, average="mean_last_n")
    assert p["cutoff_s"] == 15.0 and p.overrides == {"cutoff_s": 15.0, "average": "mean_last_n"}
    with pytest.raises(ProtocolError, match="average"):
        load_protocol("hargreaves-rat", average="mode")
    with pytest.raises(ProtocolError, match="cutoff_s"):
        load_protocol("hargreaves-rat", cutoff_s=-1.0)
