"""nplab.qpcr against published worked examples (reference/published/README.md).

Tolerance: the printed precision of the publication (half a unit of the last printed digit,
plus 1e-9 for the binary representation), unless the README says otherwise.
"""

from __future__ import annotations

import os
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.qpcr import genorm, group_statistics, normfinder, relative_expression

PUB = Path(__file__).parent / "reference" / "published"
REF = Path(__file__).parent / "reference"


def _printed(decimals: int) -> float:
    return 0.5 * 10.0**-decimals + 1e-9


def _livak(table: str) -> pd.DataFrame:
    return pd.read_csv(PUB / "livak2001_results.csv").query("table == @table").set_index(["group", "quantity"])


def _long(wide: pd.DataFrame) -> pd.DataFrame:
    return wide.melt(id_vars=["animal", "group"], value_vars=["c_myc", "GAPDH"], var_name="target", value_name="cq")


def test_livak_separate_tubes_table():
    ct = pd.read_csv(REF / "ct1.csv")
    ct.insert(0, "group", ["brain"] * 6 + ["kidney"] * 6)
    ct.insert(0, "animal", [f"s{i}" for i in range(12)])
    res = relative_expression(_long(ct), ["GAPDH"], "brain")
    pub = _livak("separate_tubes")
    for grp, sub in ct.groupby("group"):
        got = {"c_myc_mean": sub["c_myc"].mean(), "c_myc_sd": sub["c_myc"].std(),
               "gapdh_mean": sub["GAPDH"].mean(), "gapdh_sd": sub["GAPDH"].std()}
        r = res[res["group"] == grp]
        got["delta_ct"] = r["delta_ct"].mean()
        got["delta_delta_ct"] = r["delta_delta_ct"].mean()
        got["fold_change"] = 2.0 ** -r["delta_delta_ct"].mean()
        for q, v in got.items():
            row = pub.loc[(grp, q)]
            assert v == pytest.approx(row["value"], abs=_printed(int(row["decimals"]))), (grp, q)
    st = group_statistics(res, "brain").iloc[0]
    assert st["ratio"] == pytest.approx(pub.loc[("kidney", "fold_change"), "value"], abs=_printed(1))


def test_livak_same_tube_table():
    wide = pd.read_csv(PUB / "livak2001_same_tube.csv")
    res = relative_expression(_long(wide), ["GAPDH"], "brain")
    pub = _livak("same_tube")
    kid_sd = res.loc[res["group"] == "kidney", "delta_ct"].std()
    for grp, r in res.groupby("group"):
        ddct, sd = r["delta_delta_ct"].mean(), r["delta_ct"].std()
        got = {"delta_ct": r["delta_ct"].mean(), "delta_ct_sd": sd, "delta_delta_ct": ddct,
               "fold_change": 2.0**-ddct, "fold_change_low": 2.0 ** -(ddct + sd),
               "fold_change_high": 2.0 ** -(ddct - sd)}
        for q, v in got.items():
            row = pub.loc[(grp, q)]
            # one unit of the last printed digit for this table (README: 6.9967 is printed 6.99)
            tol = 10.0 ** -int(row["decimals"]) + 1e-9
            assert v == pytest.approx(row["value"], abs=tol), (grp, q, v)
    assert kid_sd == pytest.approx(0.14, abs=_printed(2))


def _stability_input(shared_dir: Path, name: str) -> pd.DataFrame:
    path = shared_dir / "data" / "qpcr" / name
    if not path.is_file():  # same rule as tests/conftest.py missing_corpus
        msg = f"{path} not found (write it with reference/published/extract_normqpcr_data.R)"
        if os.environ.get("NPLAB_REQUIRE_CORPUS", "").strip() not in ("", "0"):
            pytest.fail(f"NPLAB_REQUIRE_CORPUS is set: {msg}", pytrace=False)
        pytest.skip(msg)
    d = pd.read_csv(path)
    return pd.DataFrame({"animal": d["sample"], "group": d["group"], "target": d["gene"],
                         "cq": -np.log2(d["quantity"])})


def test_genorm_reproduces_vandesompele_table3_ranking(shared_dir):
    data = _stability_input(shared_dir, "vandesompele2002_genorm.csv")
    pub = pd.read_csv(PUB / "vandesompele2002_genorm_ranking.csv")
    for tissue in ("BM", "POOL", "FIB", "LEU", "NB"):
        res = genorm(data[data["group"] == tissue], max_cq=np.inf).m
        assert set(res["gene"].iloc[:2]) == set(pub[tissue].iloc[:2]), tissue
        assert res["gene"].iloc[2:].tolist() == pub[tissue].iloc[2:].tolist(), tissue
        assert res["rank"].tolist() == pub["rank"].tolist()


def test_genorm_m_values_bone_marrow_trace(shared_dir):
    data = _stability_input(shared_dir, "vandesompele2002_genorm.csv")
    res = genorm(data[data["group"] == "BM"], max_cq=np.inf)
    pub = pd.read_csv(PUB / "vandesompele2002_genorm_bm_trace.csv")
    m = pub.merge(res.trace, on=["n_genes", "gene"], suffixes=("_pub", ""), how="left")
    assert len(res.trace) == len(pub) == 54
    assert m["m"].to_numpy() == pytest.approx(m["m_pub"].to_numpy(), abs=_printed(7))
    full = res.m.set_index("gene")["m"]
    ten = pub[pub["n_genes"] == 10].set_index("gene")["m"]
    assert full[ten.index].to_numpy() == pytest.approx(ten.to_numpy(), abs=_printed(7))


@pytest.mark.parametrize("dataset", ["colon", "bladder"])
def test_normfinder_reproduces_andersen_table3(shared_dir, dataset):
    data = _stability_input(shared_dir, f"andersen2004_{dataset}.csv")
    res = normfinder(data, max_cq=np.inf)
    pub = pd.read_csv(PUB / "andersen2004_normfinder_stability.csv").query("dataset == @dataset")
    assert res["gene"].tolist() == pub["gene"].tolist()
    assert res["stability"].to_numpy() == pytest.approx(pub["stability"].to_numpy(), abs=_printed(7))
    best = {"colon": ["UBC", "GAPD", "TPT1"], "bladder": ["HSPCB", "TEGT", "ATP5B"]}[dataset]
    assert res["gene"].iloc[:3].tolist() == best  # the paper's abstract
