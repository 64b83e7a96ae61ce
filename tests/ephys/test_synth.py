"""Synthetic recordings: Bean-equation anchors, deterministic sample files, truth recovered."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from scipy import optimize, stats

from nplab.ephys import measure, qc_cells, read_abf
from nplab.ephys.synth import apparent_ic50, fraction_unblocked, make_sample_recordings


def test_apparent_ic50_matches_published_illustration():
    # notes/patchclamp.md §3 (K_R = 20 µM, K_I = 0.24 µM): h = 0.9 -> 2.17 µM,
    # 0.5 -> 0.474 µM, 0.1 -> 0.266 µM (3 significant figures)
    assert apparent_ic50(20, 0.24, 1.0) == pytest.approx(20.0)
    assert apparent_ic50(20, 0.24, 0.9) == pytest.approx(2.17, abs=0.005)
    assert apparent_ic50(20, 0.24, 0.5) == pytest.approx(0.474, abs=0.0005)
    assert apparent_ic50(20, 0.24, 0.1) == pytest.approx(0.266, abs=0.0005)
    assert fraction_unblocked(4.78, 4.78) == 0.5


def test_sample_data_is_reproducible(repo_dir, tmp_path):
    committed = repo_dir / "sample_data" / "ephys"
    truth = make_sample_recordings(tmp_path)
    for name in sorted(set(truth["file"])):
        assert (tmp_path / name).read_bytes() == (committed / name).read_bytes(), name
    on_disk = pd.read_csv(committed / "truth.csv", keep_default_na=False, na_values=[""])
    assert list(on_disk["file"]) == list(truth["file"])
    np.testing.assert_allclose(on_disk["true_ic50_um"], truth["true_ic50_um"])
    total = sum(p.stat().st_size for p in committed.glob("*.abf"))
    assert total < 6e6


def _hill(c, log_ic50, n):
    return 1.0 / (1.0 + (c / 10.0**log_ic50) ** n)


@pytest.mark.parametrize(
    "condition", ["patchclamp-nav-resting", "patchclamp-nav-inactivated", "patchclamp-herg"]
)
def test_true_ic50_recovered_within_ci(repo_dir, condition):
    d = repo_dir / "sample_data" / "ephys"
    truth = pd.read_csv(d / "truth.csv")
    exp = truth[(truth["condition"] == condition) & (truth["layout"] == "per-file")].copy()
    exp["file"] = [str(d / f) for f in exp["file"]]
    per_sweep = measure(exp["file"], condition)
    assert (per_sweep["status"] == "ok").all()
    qc = qc_cells(per_sweep, condition, experiment=exp)
    expected_pass = exp.groupby("cell")["qc_expected"].first().eq("pass")
    assert qc.set_index("cell")["qc_pass"].to_dict() == expected_pass.to_dict()
    # steady state = mean of the last N sweeps of each file; I/I_control per cell.
    # Run-down is divided out with the TRUE rate (this test checks the measurement
    # chain; estimating run-down is the concentration-response analysis' job)
    n = 5 if "nav" in condition else 3
    per_sweep["t_cell"] = per_sweep["time_s"] + per_sweep["file"].map(
        dict(zip(exp["file"], exp["elapsed_s"], strict=True))
    )
    rate = per_sweep["file"].map(dict(zip(exp["file"], exp["rundown_pct_per_min"], strict=True)))
    per_sweep["corrected"] = per_sweep["value"] / (1 - rate / 100 * per_sweep["t_cell"] / 60)
    ss = per_sweep.groupby("file", sort=False)["corrected"].apply(lambda v: v.tail(n).mean())
    exp["ss"] = exp["file"].map(ss)
    exp = exp[exp["cell"].isin(qc.loc[qc["qc_pass"], "cell"])]
    exp["frac"] = exp["ss"] / exp.groupby("cell")["ss"].transform(lambda v: v.iloc[0])
    drug = exp[exp["conc_um"] > 0]
    popt, pcov = optimize.curve_fit(_hill, drug["conc_um"], drug["frac"], p0=[0.0, 1.0])
    dof = len(drug) - 2
    half = stats.t.ppf(0.975, dof) * np.sqrt(pcov[0, 0])
    true_log = np.log10(exp["true_ic50_um"].iloc[0])
    assert popt[0] - half <= true_log <= popt[0] + half
    assert abs(popt[1] - 1.0) < 0.1


def test_wash_in_file_tags_and_time_course(repo_dir):
    rec = read_abf(repo_dir / "sample_data" / "ephys" / "navrest-washin01_0000.abf")
    assert rec.sweep_interval_s == 10.0
    assert [t.comment for t in rec.tags] == [
        "+amitriptyline 3 uM",
        "+amitriptyline 10 uM",
        "+amitriptyline 30 uM",
        "+amitriptyline 100 uM",
    ]
    assert [t.sweep for t in rec.tags] == [9, 19, 29, 39]
    t = measure(rec.path, "patchclamp-nav-resting")
    assert t["tag_index"].tolist() == [k for k in range(5) for _ in range(10)]
    ss = t.groupby("tag_index")["value"].apply(lambda v: v.tail(5).mean())
    frac = (ss / ss[0]).to_numpy()[1:]
    # block reaches 1 - 1/(1 + C/20 µM) within 5 % (run-down 0.3 %/min, tau_on 15 s)
    np.testing.assert_allclose(frac, fraction_unblocked(np.array([3, 10, 30, 100]), 20.0), rtol=0.05)
