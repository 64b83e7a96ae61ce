"""Allocation lists: balance, reproducibility, blinding key round trip, errors, CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest

from nplab.animals import read_animals
from nplab.blinding import read_key
from nplab.cli import main
from nplab.errors import InputError
from nplab.randomise import randomise

GROUPS = ["vehicle", "ami3", "ami10", "dulox30"]


def _animals(n=22):
    return pd.DataFrame(
        {
            "animal": [f"R{i:02d}" for i in range(1, n + 1)],
            "sex": ["male", "female"] * (n // 2),
            "cage": np.repeat(np.arange(1, n // 2 + 1), 2),
            "bl_g": np.linspace(8.0, 15.0, n),
        }
    )


def test_balance_within_each_stratum_and_complete_blocks():
    alloc = randomise(_animals(), GROUPS, seed=7, strata=["sex"])
    t = alloc.table
    for _, sub in t.groupby("sex"):
        counts = sub["group"].value_counts().reindex(GROUPS, fill_value=0)
        assert counts.max() - counts.min() <= 1  # 11 per sex: blocks of 4, 4, 3
        for _, blk in sub.groupby("block"):
            if len(blk) == 4:
                assert sorted(blk["group"]) == sorted(GROUPS)
    assert alloc.record["n_per_group"] == t["group"].value_counts().to_dict()
    assert alloc.record["seed"] == 7 and alloc.record["block_size"] == 4
    from nplab.protocols import validate_table
    from nplab.study import STUDY_SCHEMA

    rand = validate_table(alloc.record["study_file"], STUDY_SCHEMA["randomisation"].fields, None)
    assert rand["seed"] == 7 and "stratified by sex" in rand["method"]


def test_block_size_multiple_and_baseline_strata():
    alloc = randomise(_animals(32), GROUPS, seed=3, block_size=8, baseline="bl_g")
    t = alloc.table
    assert set(t["stratum"]) == {"1", "2"}  # below / above the median baseline
    for _, sub in t.groupby("stratum"):
        assert (sub["group"].value_counts() == 4).all()  # two full blocks of 8
    assert alloc.table.groupby("stratum")["bl_g"].max()["1"] < 11.6  # lower half
    with pytest.raises(InputError, match="multiple of the 4 groups"):
        randomise(_animals(), GROUPS, seed=1, block_size=6)


def test_reproducible_and_seed_dependent():
    a = randomise(_animals(), GROUPS, seed=7, strata=["sex"])
    b = randomise(_animals(), GROUPS, seed=7, strata=["sex"])
    c = randomise(_animals(), GROUPS, seed=8, strata=["sex"])
    pd.testing.assert_frame_equal(a.table, b.table)
    assert not a.table["group"].equals(c.table["group"])


def test_allocation_is_uniform_over_seeds():
    # over 1000 seeds each animal lands in each group with probability 1/4
    hits = np.zeros((8, 4))
    for seed in range(1000):
        g = randomise(_animals(8), GROUPS, seed=seed).table["group"]
        hits[np.arange(8), [GROUPS.index(x) for x in g]] += 1
    p = hits / 1000
    assert np.abs(p - 0.25).max() < 0.06  # binomial SD 0.0137: > 4 SD margin
    # codes: each group gets each letter equally often
    letters = [
        randomise(_animals(8), GROUPS, seed=s).key.set_index("group").loc["vehicle", "code"]
        for s in range(800)
    ]
    freq = pd.Series(letters).value_counts(normalize=True)
    assert set(freq.index) == set("ABCD") and np.abs(freq - 0.25).max() < 0.09


def test_key_and_blinded_table_are_what_the_runner_reads(tmp_path):
    alloc = randomise(_animals(), GROUPS, seed=7, strata=["sex", "cage"])
    alloc.key.to_csv(tmp_path / "key.csv", index=False)
    alloc.blinded.to_csv(tmp_path / "animals.csv", index=False)
    key = read_key(tmp_path / "key.csv")
    animals = read_animals(tmp_path / "animals.csv")
    truth = dict(zip(alloc.table["animal"], alloc.table["group"], strict=True))
    assert {a: key[c] for a, c in zip(animals["animal"], animals["group"], strict=True)} == truth


@pytest.mark.parametrize(
    ("df", "kw", "match"),
    [
        (_animals().assign(group="x"), {}, "already has a group"),
        (_animals().drop(columns="sex"), {"strata": ["sex"]}, "stratum column is missing"),
        (pd.concat([_animals(), _animals().iloc[:1]]), {}, "appears twice"),
        (_animals(), {"groups": ["a"]}, "two or more"),
        (_animals().assign(bl_g="x"), {"baseline": "bl_g"}, "not a number"),
    ],
)
def test_errors(df, kw, match):
    groups = kw.pop("groups", GROUPS)
    with pytest.raises(InputError, match=match):
        randomise(df, groups, seed=1, **kw)


def test_cli_writes_allocation_key_blinded_and_record(tmp_path, capsys):
    src = tmp_path / "animals.csv"
    _animals().to_csv(src, index=False)
    out = tmp_path / "allocation.csv"
    args = [
        "randomise",
        str(src),
        "--groups",
        ",".join(GROUPS),
        "--strata",
        "sex",
        "--seed",
        "7",
        "-o",
        str(out),
    ]
    with pytest.raises(SystemExit) as exc:
        main(args)
    assert exc.value.code == 0
    table = pd.read_csv(out)
    assert {"animal", "group", "code"} <= set(table.columns) and len(table) == 22
    key = read_key(tmp_path / "allocation_key.csv")
    assert set(key.values()) == set(GROUPS)
    record = json.loads((tmp_path / "allocation_record.json").read_text())
    assert record["seed"] == 7 and record["strata"] == ["sex"]
    assert (tmp_path / "allocation.csv.manifest.json").is_file()
    expected = randomise(_animals(), GROUPS, seed=7, strata=["sex"]).table
    assert list(table["group"]) == list(expected["group"])
