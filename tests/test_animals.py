import pandas as pd
import pytest

from nplab.animals import read_animals, resolve_paws
from nplab.errors import InputError


def animals():
    return read_animals(
        pd.DataFrame(
            {
                "animal": ["r1", "r2", "r3"],
                "group": ["veh", "veh", "ami"],
                "injured_side": ["Left", "right", "left"],
                "excluded": ["no", "yes", ""],
            }
        )
    )


def test_read_animals_normalises():
    a = animals()
    assert a["excluded"].tolist() == [False, True, False]
    assert a["injured_side"].tolist() == ["left", "right", "left"]
    assert "weight_g" in a.columns


def test_duplicate_and_bad_side():
    with pytest.raises(InputError, match="appears twice") as exc:
        read_animals(pd.DataFrame({"animal": ["a", "a"], "group": ["g", "g"]}))
    assert exc.value.row == 3
    with pytest.raises(InputError, match="not a side"):
        read_animals(pd.DataFrame({"animal": ["a"], "group": ["g"], "injured_side": ["up"]}))


def test_resolve_paws():
    data = pd.DataFrame({"animal": ["r1", "r1", "r2", "r3"], "paw": ["left", "R", "left", "Ipsi"]})
    assert resolve_paws(data, animals()).tolist() == ["ipsi", "contra", "contra", "ipsi"]
    with pytest.raises(InputError, match="need an animals table"):
        resolve_paws(data, None)
    with pytest.raises(InputError, match="not a paw") as exc:
        resolve_paws(pd.DataFrame({"animal": ["r1"], "paw": ["tail"]}), animals())
    assert exc.value.row == 2
