"""qPCR: ΔΔCt / NRQ / efficiency / geNorm against base-R values computed from the published
definitions (reference/qpcr_reference.R), NormFinder against its definition, readers, errors."""

from __future__ import annotations

from itertools import product
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab.errors import InputError
from nplab.qpcr import (
    average_replicates,
    efficiency,
    genorm,
    group_statistics,
    normfinder,
    read_cq,
    relative_expression,
)
from nplab.qpcr.synth import simulate_run

REF = Path(__file__).parent / "reference"
E = {"Tnf": 1.97, "Il1b": 1.92, "Gapdh": 2.0, "Actb": 1.95, "Hprt1": 1.9}


def _ct1() -> pd.DataFrame:
    ct = pd.read_csv(REF / "ct1.csv")
    rows = []
    for i, r in ct.iterrows():
        g = "brain" if i < 6 else "kidney"
        rows += [{"animal": f"s{i}", "group": g, "target": "c_myc", "cq": r["c_myc"]},
                 {"animal": f"s{i}", "group": g, "target": "GAPDH", "cq": r["GAPDH"]}]
    return pd.DataFrame(rows)


def test_livak_ddct_on_pcr_ct1():
    res = relative_expression(_ct1(), ["GAPDH"], "brain").set_index("animal")
    ref = pd.read_csv(REF / "ct1_livak.csv").set_index("animal")
    for col in ("delta_ct", "delta_delta_ct", "fold_change"):
        assert res.loc[ref.index, col].to_numpy() == pytest.approx(ref[col].to_numpy(), abs=1e-12)
    # kidney vs brain: mean ddCt -2.495 cycles, 2^2.495 = 5.64-fold (hand: 4.365 - 6.860)
    st = group_statistics(res.reset_index(), "brain")
    assert st["diff"].iloc[0] == pytest.approx(-2.495, abs=1e-12)
    assert st["ratio"].iloc[0] == pytest.approx(2**2.495, rel=1e-12)


def test_multi_reference_ddct_and_nrq_match_r():
    table = pd.read_csv(REF / "run_multi.csv")
    res = relative_expression(table, ["Gapdh", "Actb", "Hprt1"], "sham", efficiency=E)
    ref = pd.read_csv(REF / "run_multi_expression.csv")
    m = ref.merge(res, on=["animal", "group", "target"], suffixes=("_r", ""))
    assert len(m) == len(ref) == 36
    for col in ("delta_ct", "delta_delta_ct", "fold_change", "nrq"):
        assert m[col].to_numpy() == pytest.approx(m[col + "_r"].to_numpy(), rel=1e-10, abs=1e-10)


def test_not_detected_and_replicate_flags():
    table = pd.read_csv(REF / "run_multi.csv")
    avg = average_replicates(table)
    row5 = table.iloc[5]
    hit = avg[(avg["animal"] == row5["animal"]) & (avg["target"] == row5["target"])].iloc[0]
    assert hit["n_wells"] == 3 and hit["n_detected"] == 2 and hit["flag"] == "partly_detected"
    t = table.astype({"cq": object})
    t.loc[(t["animal"] == "sha01") & (t["target"] == "Tnf"), "cq"] = "Undetermined"
    res = relative_expression(t, ["Gapdh"], "sham")
    r = res[(res["animal"] == "sha01") & (res["target"] == "Tnf")].iloc[0]
    assert np.isnan(r["delta_ct"]) and r["flag"] == "not_detected"
    t.loc[(t["animal"] == "sha02") & (t["target"] == "Il1b") & (t["replicate"] == 1), "cq"] = 40.0
    t.loc[(t["animal"] == "sha02") & (t["target"] == "Il1b") & (t["replicate"] == 2), "cq"] = 27.0
    t.loc[(t["animal"] == "sha02") & (t["target"] == "Il1b") & (t["replicate"] == 3), "cq"] = 27.5
    avg = average_replicates(t, max_cq=35)
    r = avg[(avg["animal"] == "sha02") & (avg["target"] == "Il1b")].iloc[0]
    assert r["cq"] == pytest.approx(27.25) and r["sd_flag"]  # SD 0.354 > 0.3


def test_efficiency_matches_r_lm():
    res = efficiency(pd.read_csv(REF / "dilution.csv")).set_index("target")
    ref = pd.read_csv(REF / "dilution_efficiency.csv").set_index("target")
    for col in ("slope", "intercept", "r2", "efficiency"):
        assert res.loc[ref.index, col].to_numpy() == pytest.approx(ref[col].to_numpy(), rel=1e-10)
    assert res.loc["Tnf", "flag"] == "" and "outside" in res.loc["Il1b", "flag"]
    # slope -3.3219 is exactly 100 %: E = 10^(1/3.3219) = 2.000
    ideal = pd.DataFrame({"target": "x", "quantity": [1, 0.1, 0.01], "cq": [20, 20 + np.log2(10), 20 + 2 * np.log2(10)]})
    assert efficiency(ideal)["efficiency"].iloc[0] == pytest.approx(2.0, rel=1e-12)


def test_pfaffl_single_reference_ratio_by_hand():
    # Pfaffl (2001) eq. 1: ratio = E_t^dCq_t(control - sample) / E_r^dCq_r(control - sample)
    t = pd.DataFrame({"animal": ["c1", "c1", "c2", "c2", "s1", "s1"],
                      "group": ["ctl", "ctl", "ctl", "ctl", "trt", "trt"],
                      "target": ["T", "R"] * 3, "cq": [25.0, 18.0, 25.4, 18.2, 23.1, 18.4]})
    res = relative_expression(t, ["R"], "ctl", efficiency={"T": 1.9, "R": 2.05}).set_index("animal")
    expected = 1.9 ** (25.2 - 23.1) / 2.05 ** (18.1 - 18.4)
    assert res.loc["s1", "nrq"] == pytest.approx(expected, rel=1e-12)
    assert res.loc["s1", "fold_change"] == pytest.approx(2 ** -((23.1 - 18.4) - 7.1), rel=1e-12)


def test_geNorm_matches_r_definition():
    table = pd.read_csv(REF / "run_multi.csv")
    genes = ["Gapdh", "Actb", "Hprt1", "Tnf", "Il1b"]
    res = genorm(table, genes)
    ref = pd.read_csv(REF / "genorm_m.csv").set_index("gene")
    m = res.m.set_index("gene")
    assert m.loc[ref.index, "m"].to_numpy() == pytest.approx(ref["m"].to_numpy(), rel=1e-12)
    assert m.loc[ref.index, "m_stepwise"].to_numpy() == pytest.approx(ref["m_stepwise"].to_numpy(), rel=1e-12)
    rv = pd.read_csv(REF / "genorm_v.csv")
    assert res.v["label"].tolist() == rv["label"].tolist()
    assert res.v["v"].to_numpy() == pytest.approx(rv["v"].to_numpy(), rel=1e-12)
    order = rv["ranking"].iloc[0].split()
    assert set(res.m["gene"].iloc[:2]) == set(order[:2]) and res.m["gene"].tolist()[2:] == order[2:]


def test_geNorm_two_gene_m_by_hand():
    # two genes: M = SD of the log2 ratio; samples with ratios 1, 2, 3 cycles -> SD 1
    t = pd.DataFrame({"animal": np.repeat(["a", "b", "c"], 3), "target": ["A", "B", "C"] * 3,
                      "cq": [20, 21, 22, 20, 22, 22, 20, 23, 22.0]})
    res = genorm(t).m.set_index("gene")
    # A-B: diffs -1,-2,-3 -> SD 1; A-C: -2,-2,-2 -> 0; B-C: 1,0,-1 -> 1
    assert res.loc["A", "m"] == pytest.approx(0.5) and res.loc["B", "m"] == pytest.approx(1.0)
    assert res.loc["C", "m"] == pytest.approx(0.5)


def _normfinder_by_definition(y: np.ndarray, groups: np.ndarray) -> np.ndarray:
    """Loop transcription of Andersen et al. (2004) eqs., for the test only."""
    k = y.shape[0]
    gl = np.unique(groups)
    s2 = np.zeros((k, gl.size))
    mean = np.zeros((k, gl.size))
    ng = np.array([(groups == g).sum() for g in gl])
    for gi, g in enumerate(gl):
        z = y[:, groups == g]
        n = z.shape[1]
        r = np.zeros_like(z)
        for i, j in product(range(k), range(n)):
            r[i, j] = z[i, j] - z[i].mean() - z[:, j].mean() + z.mean()
        tot = (r**2).sum()
        for i in range(k):
            s2[i, gi] = ((r[i] ** 2).sum() / (n - 1) - tot / ((n - 1) * k * (k - 1))) / (1 - 2 / k)
            if s2[i, gi] < 0:  # replaced by a quarter of the smallest pairwise-difference variance
                s2[i, gi] = min(np.var(z[i] - z[m], ddof=1) for m in range(k) if m != i) / 4
        mean[:, gi] = z.mean(axis=1)
    d = mean - mean.mean(axis=1, keepdims=True) - mean.mean(axis=0, keepdims=True) + mean.mean()
    v = s2 / ng
    gam = max((d**2).sum() / ((gl.size - 1) * (k - 1)) - v.sum() / (k * gl.size), 0)
    return (np.abs(d * gam / (gam + v)) + np.sqrt(v + gam * v / (gam + v))).mean(axis=1)


def test_normfinder_matches_definition_and_ranks_sensibly():
    rng = np.random.default_rng(5)
    k, n = 5, 8
    groups = np.repeat(["a", "b"], n)
    y = rng.normal(20, 0.2, (k, 2 * n)) + rng.normal(0, 0.5, 2 * n)  # common input offset
    y[3] += rng.normal(0, 0.8, 2 * n)  # noisy gene
    y[4, n:] += 1.5  # gene shifted in group b
    names = [f"g{i}" for i in range(k)]
    t = pd.DataFrame([{"animal": f"s{j}", "group": groups[j], "target": names[i], "cq": y[i, j]}
                      for i in range(k) for j in range(2 * n)])
    res = normfinder(t).set_index("gene")
    expected = _normfinder_by_definition(y, groups)
    assert all(res.loc[names, "stability"].to_numpy() > 0)
    assert res.loc[names, "stability"].to_numpy() == pytest.approx(expected, rel=1e-10)
    worst2 = set(res.index[-2:])
    assert worst2 == {"g3", "g4"}
    one = normfinder(t.drop(columns="group")).set_index("gene")
    assert one.loc["g3", "stability"] == one["stability"].max()


def test_truth_recovered_from_simulated_run():
    table = simulate_run({"Tnf": {"vehicle": 2.0, "drug": 0.8}}, n_per_group=8, seed=2)
    res = relative_expression(table, ["Gapdh", "Actb", "Hprt1"], "sham")
    st = group_statistics(res, "sham").set_index("group")
    assert st.loc["vehicle", "diff"] == pytest.approx(-2.0, abs=0.4)
    assert st.loc["vehicle", "p"] < 0.001
    st2 = group_statistics(res, "vehicle").set_index("group")
    assert st2.loc["drug", "diff"] > 0 and st2.loc["drug", "p"] < 0.05


def test_unknown_reference_gene_names_the_targets():
    with pytest.raises(InputError, match=r"unknown gene\(s\) in reference_genes: Gapd.*targets in the table"):
        relative_expression(pd.read_csv(REF / "run_multi.csv"), ["Gapd"], "sham")
    with pytest.raises(InputError, match="control group"):
        relative_expression(pd.read_csv(REF / "run_multi.csv"), ["Gapdh"], "Sham")
    with pytest.raises(InputError, match="unknown gene"):
        genorm(pd.read_csv(REF / "run_multi.csv"), ["Gapdh", "Actb", "B2m"])


def test_readers_cfx_quantstudio_tidy(tmp_path):
    cfx = tmp_path / "cfx.csv"
    cfx.write_text(
        ",Well,Fluor,Target,Content,Sample,Biological Set Name,Cq,Cq Mean,Cq Std. Dev,Starting Quantity (SQ)\n"
        ",A01,SYBR,Tnf,Unkn,rat1,,25.1,25.1,0,\n"
        ",A02,SYBR,Tnf,Unkn,rat1,,NaN,25.1,0,\n"
        ",A03,SYBR,Gapdh,Unkn,rat1,,18.0,18.0,0,\n"
        ",H12,SYBR,Gapdh,NTC,,,NaN,,,\n")
    d = read_cq(cfx, animals=pd.DataFrame({"animal": ["rat1"], "group": ["vehicle"]}))
    assert d.attrs["format"] == "cfx" and len(d) == 3
    assert d["cq"].isna().sum() == 1 and set(d["group"]) == {"vehicle"}
    qs = tmp_path / "qs.csv"
    qs.write_text(
        "* Block Type = 96-Well Block (0.2mL)\n* Chemistry = SYBR_GREEN\n* Experiment Name = run7\n\n"
        "Well,Well Position,Omit,Sample Name,Target Name,Task,Reporter,Quencher,CT,Ct Mean\n"
        "1,A1,false,rat2,Il1b,UNKNOWN,SYBR,None,Undetermined,\n"
        "2,A2,false,rat2,Il1b,UNKNOWN,SYBR,None,27.8,27.8\n"
        "3,A3,false,NTC,Il1b,NTC,SYBR,None,Undetermined,\n")
    d = read_cq(qs)
    assert d.attrs["format"] == "quantstudio" and d["well"].tolist() == ["A1", "A2"]
    assert np.isnan(d["cq"].iloc[0]) and d["cq"].iloc[1] == 27.8
    bad = tmp_path / "bad.csv"
    bad.write_text("Sample,Gene,Ct\nr1,Tnf,22\n")
    with pytest.raises(InputError, match=r"unrecognised Cq table layout.*QuantStudio"):
        read_cq(bad)
    with pytest.raises(InputError, match="not in the animals table"):
        read_cq(cfx, animals=pd.DataFrame({"animal": ["rat9"], "group": ["x"]}))
