"""The CCI sample study's molecular readouts recover the documented truth
(sample_data/README.md: CCI + vehicle raises TNF-α / IL-1β protein and Tnf / Il1b mRNA
over sham; amitriptyline 10 mg/kg and duloxetine lower them)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from nplab import assays
from nplab.animals import read_animals
from nplab.assays.base import AssayContext
from nplab.blinding import read_key
from nplab.study import load_study

STUDY = Path(__file__).parents[2] / "sample_data" / "cci_study.toml"


@pytest.fixture(scope="module")
def ctx():
    study = load_study(STUDY)
    key = read_key(study.unblinding_key)
    c = AssayContext(study=study, animals=read_animals(study.data["animals"]), key=key)
    c.excluded = pd.DataFrame(columns=["animal", "group", "model", "rule", "reason"])
    return c


def _run(name, ctx):
    a = assays.get(name)
    return a.analyse(ctx, a.measure(ctx, a.read(ctx)))


def test_elisa_section_recovers_truth(ctx):
    rep = _run("elisa", ctx)
    assert rep.tables["elisa_plates"]["accepted"].all()
    st = rep.tables["elisa_dunnett"].set_index(["analyte", "group"])
    for analyte in ("TNF-alpha", "IL-1beta"):
        # vehicle is the control: sham lower, amitriptyline 10 and duloxetine lower (true ratios 0.3-0.55)
        for g in ("Sham + vehicle", "CCI + amitriptyline 10 mg/kg", "CCI + duloxetine 30 mg/kg"):
            r = st.loc[(analyte, g)]
            assert r["ratio"] < 0.75 and r["p"] < 0.05, (analyte, g)
    summ = rep.tables["elisa_summary"].set_index(["analyte", "group"])
    assert summ.loc[("TNF-alpha", "CCI + vehicle"), "mean"] == pytest.approx(120, rel=0.25)
    assert rep.section.blocks


def test_qpcr_section_recovers_truth(ctx):
    rep = _run("qpcr", ctx)
    st = rep.tables["qpcr_dunnett"].set_index(["target", "group"])
    # true ΔΔCt vs vehicle: sham +2.0 / +1.6 cycles (fold 0.25 / 0.33), ami 10 +1.2 / +1.0
    assert st.loc[("Tnf", "Sham + vehicle"), "diff"] == pytest.approx(2.0, abs=0.45)
    for tgt in ("Tnf", "Il1b"):
        for g in ("Sham + vehicle", "CCI + amitriptyline 10 mg/kg", "CCI + duloxetine 30 mg/kg"):
            r = st.loc[(tgt, g)]
            assert r["ratio"] < 1 and r["p"] < 0.05, (tgt, g)
    expr = rep.tables["qpcr_expression"]
    veh = expr[expr["group"] == ctx.control]
    assert np.allclose(veh.groupby("target")["delta_delta_ct"].mean(), 0, atol=1e-9)


def test_western_section_recovers_truth(ctx):
    # sample_data/README.md: true log2 p-p65/p65 vs sham: CCI + vehicle +1.2, ami 3 +0.9,
    # ami 10 +0.4, duloxetine +0.45; blots differ by exposure (x1, x1.8, x0.6)
    rep = _run("western", ctx)
    st = rep.tables["western_stats"]
    st = st[st["measure"] == "p-p65/p65"].set_index("group")
    assert set(st["method"]) == {"LMM, blot random intercept"}
    truth = {"Sham + vehicle": -1.2, "CCI + amitriptyline 3 mg/kg": -0.3,
             "CCI + amitriptyline 10 mg/kg": -0.8, "CCI + duloxetine 30 mg/kg": -0.75}
    for g, diff in truth.items():
        assert st.loc[g, "ci_low"] < diff < st.loc[g, "ci_high"], g
    for g in ("Sham + vehicle", "CCI + amitriptyline 10 mg/kg", "CCI + duloxetine 30 mg/kg"):
        assert st.loc[g, "ratio"] < 0.8 and st.loc[g, "p"] < 0.05, g
    bands = rep.tables["western_bands"]
    veh = bands[(bands["group"] == ctx.control) & (bands["measure"] == "p-p65/p65")]
    # each blot's control lanes average to fold change 1 (the normalisation removes the blot effect)
    assert np.allclose(veh.groupby("blot")["fold_change"].mean(), 1.0)
    assert rep.section.blocks


def _study_with(tmp_path: Path, extra: str):
    """The CCI study file, copied to tmp_path (absolute data paths) with an extra table."""
    root = STUDY.parent
    text = STUDY.read_text(encoding="utf-8")
    for d in ("cci/", "ephys/"):
        text = text.replace(f'"{d}', f'"{root.as_posix()}/{d}')
    path = tmp_path / "study.toml"
    path.write_text(text + "\n" + extra, encoding="utf-8")
    study = load_study(path)
    c = AssayContext(study=study, animals=read_animals(study.data["animals"]), key=read_key(study.unblinding_key))
    c.excluded = pd.DataFrame(columns=["animal", "group", "model", "rule", "reason"])
    return c


def test_qpcr_room_efficiencies_give_nrq(tmp_path):
    # E = 2 for every gene: the NRQ (Hellemans 2007) equals 2^-ddCt exactly
    genes = ("Tnf", "Il1b", "Gapdh", "Actb", "Hprt1")
    c = _study_with(tmp_path, "[qpcr]\nefficiency = {" + ", ".join(f"{g} = 2.0" for g in genes) + "}\n")
    rep = _run("qpcr", c)
    ex = rep.tables["qpcr_expression"]
    assert np.allclose(ex["nrq"], ex["fold_change"], rtol=1e-12)
    sn = rep.tables["qpcr_dunnett_nrq"].set_index(["target", "group"])
    sd = rep.tables["qpcr_dunnett"].set_index(["target", "group"])
    assert np.allclose(sn["diff"], -sd.loc[sn.index, "diff"]) and np.allclose(sn["p"], sd.loc[sn.index, "p"])


def test_qpcr_room_dilution_series(tmp_path):
    # noise-free series: Cq = 20 - log10(q) / log10(E), so the fit returns E exactly
    true_e = {"Tnf": 1.9, "Il1b": 1.95, "Gapdh": 2.0, "Actb": 1.98, "Hprt1": 1.92}
    q = [1, 0.2, 0.04, 0.008]
    pd.DataFrame([{"target": t, "quantity": x, "cq": 20 - np.log10(x) / np.log10(e)}
                  for t, e in true_e.items() for x in q]).to_csv(tmp_path / "dil.csv", index=False)
    c = _study_with(tmp_path, '[qpcr]\ndilution = "dil.csv"\n')
    rep = _run("qpcr", c)
    fit = rep.tables["qpcr_efficiency"].set_index("target")
    assert fit.loc[list(true_e), "efficiency"].to_numpy() == pytest.approx(list(true_e.values()), rel=1e-10)
    # one animal by hand: E_t^(ctrl mean Cq_t - Cq_t) / geomean_r E_r^(ctrl mean Cq_r - Cq_r)
    raw = pd.read_csv(STUDY.parent / "cci" / "qpcr.csv", dtype={"animal": str})
    cq = raw.groupby(["animal", "target"])["cq"].mean().unstack()
    code = c.animals.set_index("animal")["group"]
    ctrl = cq[cq.index.map(code) == c.control].mean()
    a = cq.index[0]
    rq = {g: true_e[g] ** (ctrl[g] - cq.loc[a, g]) for g in true_e}
    expected = rq["Tnf"] / np.prod([rq[g] for g in ("Gapdh", "Actb", "Hprt1")]) ** (1 / 3)
    ex = rep.tables["qpcr_expression"].set_index(["animal", "target"])
    assert ex.loc[(a, "Tnf"), "nrq"] == pytest.approx(expected, rel=1e-10)
    assert "qpcr_dunnett_nrq" in rep.tables


def test_qpcr_options_errors(tmp_path):
    from nplab.errors import InputError

    with pytest.raises(InputError, match="both"):
        _study_with(tmp_path, '[qpcr]\ndilution = "d.csv"\nefficiency = {Tnf = 1.9}\n')
    with pytest.raises(InputError, match="amplification efficiency"):
        _study_with(tmp_path, "[qpcr]\nefficiency = {Tnf = 3.5}\n")
    with pytest.raises(InputError, match="not found"):
        _study_with(tmp_path, '[qpcr]\ndilution = "nothere.csv"\n')
