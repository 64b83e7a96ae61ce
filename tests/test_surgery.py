import pytest

from nplab.errors import InputError
from nplab.protocols import load_protocol
from nplab.surgery import check_surgery_record


def test_surgery_record():
    p = load_protocol("snl")
    rec = check_surgery_record({"side": "left", "date": "2026-01-05", "surgeon": "AB"}, p)
    assert rec["model"] == "SNL" and rec["ligature_material"] == "6-0 silk"
    with pytest.raises(InputError, match="column 'surgeon'"):
        check_surgery_record({"side": "left", "date": "2026-01-05"}, p)
    with pytest.raises(InputError, match="not a date"):
        check_surgery_record({"side": "left", "date": "5/1/26", "surgeon": "AB"}, p)
    with pytest.raises(InputError, match="does not match"):
        check_surgery_record(
            {"model": "CCI", "side": "left", "date": "2026-01-05", "surgeon": "A"}, p
        )
