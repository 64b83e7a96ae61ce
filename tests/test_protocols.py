import pytest

from nplab.errors import ProtocolError
from nplab.protocols import list_protocols, load_protocol

CCI_HEADER = '[protocol]\nname = "my-cci"\nversion = "2.1"\nkind = "surgery"\n'
CCI_PARAMS = (
    '[parameters]\nmodel = "CCI"\nnerve = "sciatic"\nligatures = 4\nligature_material = "silk"\n'
)


def write(tmp_path, text, name="p.toml"):
    p = tmp_path / name
    p.write_text(text)
    return p


def test_shipped_protocols_listed_and_load():
    names = {p["name"] for p in list_protocols()}
    assert {"cci", "snl"} <= names
    cci = load_protocol("cci")
    assert cci.kind == "surgery" and cci["ligatures"] == 4 and cci.version == "1.0.0"
    assert cci.provenance()["parameters"]["model"] == "CCI"


def test_user_file_by_path_with_defaults(tmp_path):
    p = load_protocol(write(tmp_path, CCI_HEADER + CCI_PARAMS))
    assert p.name == "my-cci" and p.label == "my-cci@2.1"
    assert p["ligature_spacing_mm"] is None  # default filled in
    assert p["record_fields"][0] == "model"
    assert len(p.sha256) == 64


@pytest.mark.parametrize(
    ("extra", "column", "fragment"),
    [
        ("ligaturs = 3\n", "ligaturs", "unknown key 'ligaturs'"),
        ("", None, None),
    ],
)
def test_misspelt_key_named_with_file(tmp_path, extra, column, fragment):
    path = write(tmp_path, CCI_HEADER + CCI_PARAMS + extra)
    if fragment is None:
        load_protocol(path)
        return
    with pytest.raises(ProtocolError) as exc:
        load_protocol(path)
    assert exc.value.column == column and fragment in str(exc.value)
    assert str(path) in str(exc.value)


def test_wrong_type_range_choice_missing(tmp_path):
    cases = {
        CCI_PARAMS.replace("ligatures = 4", 'ligatures = "four"'): "wrong type",
        CCI_PARAMS.replace("ligatures = 4", "ligatures = 40"): "out of range",
        CCI_PARAMS.replace('model = "CCI"', 'model = "SCI"'): "not allowed",
        CCI_PARAMS.replace('nerve = "sciatic"\n', ""): "required key is missing",
        CCI_PARAMS + "allodynia_onset_days = [7, -1]\n": "out of range",
    }
    for params, message in cases.items():
        with pytest.raises(ProtocolError, match=message):
            load_protocol(write(tmp_path, CCI_HEADER + params))


def test_header_errors(tmp_path):
    with pytest.raises(ProtocolError, match="not valid TOML"):
        load_protocol(write(tmp_path, "[protocol\n"))
    with pytest.raises(ProtocolError, match="unknown protocol kind 'nope'"):
        load_protocol(write(tmp_path, CCI_HEADER.replace("surgery", "nope")))
    with pytest.raises(ProtocolError, match="unknown key 'autor'"):
        load_protocol(write(tmp_path, CCI_HEADER + 'autor = "me"\n' + CCI_PARAMS))
    with pytest.raises(ProtocolError, match="no protocol named 'cic'"):
        load_protocol("cic")
    with pytest.raises(ProtocolError, match="of kind 'surgery'"):
        load_protocol("cci", kind="hargreaves")


def test_overrides_are_validated_and_recorded():
    p = load_protocol("cci", ligatures=3)
    assert p["ligatures"] == 3 and p.overrides == {"ligatures": 3}
    with pytest.raises(ProtocolError, match="out of range"):
        load_protocol("cci", ligatures=-1)


def test_int_as_text_parameters_accept_an_integer(tmp_path):
    from nplab.protocols import Param, _validate_value

    spec = Param("str", None, int_as_text=True)
    assert _validate_value(3, spec, "f.toml", "epoch") == "3"
    assert _validate_value("D", spec, "f.toml", "epoch") == "D"
    with pytest.raises(ProtocolError, match="wrong type"):
        _validate_value(3, Param("str", None), "f.toml", "name")
    with pytest.raises(ProtocolError, match="wrong type"):
        _validate_value(True, spec, "f.toml", "epoch")


def test_bad_override_is_blamed_on_the_override_not_the_file():
    with pytest.raises(ProtocolError, match=r"override of protocol 'hargreaves-rat'.*cutoff_s"):
        load_protocol("hargreaves-rat", cutoff_s=-1.0)
    with pytest.raises(ProtocolError, match=r"override of protocol 'hargreaves-rat'.*cutof_s"):
        load_protocol("hargreaves-rat", cutof_s=15.0)
