"""Every behavioural test has a versioned protocol (TOML + Markdown) documenting every key."""

from __future__ import annotations

import pytest

from nplab.behaviour import PROTOCOL_SCHEMAS, TESTS
from nplab.errors import ProtocolError
from nplab.protocols import load_protocol, protocol_dirs


@pytest.mark.parametrize("test", sorted(PROTOCOL_SCHEMAS))
def test_protocol_ships_with_markdown_documenting_every_key(test):
    proto = load_protocol(test)
    assert proto.kind == test and proto.version and proto.references
    md = next(d / f"{test}.md" for d in protocol_dirs() if (d / f"{test}.md").is_file())
    text = md.read_text(encoding="utf-8")
    for key in PROTOCOL_SCHEMAS[test]:
        assert f"| {key} |" in text, (test, key)
    assert "## Input columns" in text and "## References" in text


def test_bad_parameters_are_protocol_errors():
    with pytest.raises(ProtocolError, match="aggregate"):
        load_protocol("acetone", aggregate="median")
    with pytest.raises(ProtocolError, match="cutoff_s"):
        load_protocol("rotarod", cutoff_s=-1.0)


def test_every_test_has_a_protocol_schema():
    assert set(TESTS) <= set(PROTOCOL_SCHEMAS)
