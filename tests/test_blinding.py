"""Blinding: key reading, code checks, unblinding at the end, report statement."""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from nplab.blinding import blinding_statement, check_codes, read_key, unblind
from nplab.errors import InputError


def test_read_key_and_unblind(repo_dir: Path) -> None:
    key = read_key(repo_dir / "sample_data" / "cci" / "unblinding_key.csv")
    assert key["A"] == "CCI + vehicle" and len(key) == 5
    df = pd.DataFrame({"animal": ["R1", "R2"], "group": ["A", "C"], "x": [1.0, 2.0]})
    out = unblind(df, key)
    assert list(out["group"]) == ["CCI + vehicle", "Sham + vehicle"]
    assert list(df["group"]) == ["A", "C"]  # input untouched
    assert unblind(df, None) is df  # no key: still blind
    with pytest.raises(InputError, match="'Z' is not in the unblinding key"):
        unblind(pd.DataFrame({"group": ["Z"]}), key)


def test_key_errors(tmp_path: Path) -> None:
    p = tmp_path / "key.csv"
    p.write_text("code,group\nA,x\nA,y\n")
    with pytest.raises(InputError, match=r"key.csv, row 3, column 'code': 'A' appears twice"):
        read_key(p)
    p.write_text("code,group\nA,x\nB,\n")
    with pytest.raises(InputError, match=r"row 3, column 'group': blank"):
        read_key(p)
    p.write_text("code\nA\n")
    with pytest.raises(InputError, match="column 'group'"):
        read_key(p)


def test_check_codes() -> None:
    key = {"A": "veh", "B": "drug"}
    check_codes(["A", "B", "A"], ["veh", "drug"], key)
    with pytest.raises(InputError, match="code 'C' is not in the unblinding key"):
        check_codes(["A", "C"], ["veh", "drug"], key)
    with pytest.raises(InputError, match="maps to 'drug'"):
        check_codes(["A"], ["veh"], key)
    check_codes(["veh"], ["veh", "drug"], None)
    with pytest.raises(InputError, match="'A' is not a group of the study"):
        check_codes(["A"], ["veh", "drug"], None)


def test_statement(tmp_path: Path) -> None:
    k = tmp_path / "k.csv"
    k.write_text("code,group\nA,x\n")
    assert "no blinding" in blinding_statement(False, None, False)
    s = blinding_statement(True, k, True, "Tester blind.")
    assert "coded group labels" in s and "k.csv" in s and "applied at the end" in s
    assert s.endswith("Tester blind.")
    assert "No unblinding key" in blinding_statement(True, None, False)


def test_check_codes_names_the_row_of_the_first_bad_label() -> None:
    # review8: the animals-table error named file and column but no row
    labels = pd.Series(["veh", "drug", "veh", "Bogus"])
    with pytest.raises(InputError, match="'Bogus' is not a group") as err:
        check_codes(labels, ["veh", "drug"], None, file="animals.csv")
    assert err.value.row == 5
    with pytest.raises(InputError, match="code 'C' is not in the unblinding key") as err:
        check_codes(pd.Series(["A", "C", "B"]), ["veh", "drug"], {"A": "veh", "B": "drug"})
    assert err.value.row == 3
