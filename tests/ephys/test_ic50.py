"""Fractional currents, per-cell and pooled IC50s.

References (R, independent of nplab; scripts and recorded output beside the values):
* tests/ephys/reference/rundown.R (rundown.out): steady states, linear run-down and
  time-matched vehicle correction — tolerance 1e-10 relative.
* tests/ephys/reference/ic50_fits.R (ic50_fits.out): per-cell LL.2 fits (nls polished by
  BFGS), drc-style SEs (s²·(H/2)⁻¹, numerical Hessian), pooled mean log10 IC50 ± SEM with
  t CI, global LL.2 fit, LL.3 with the control point — estimates 1e-6 relative, SEs 1e-4
  (numerical Hessian in R).
"""

import math

import numpy as np
import pandas as pd
import pytest

from nplab.ephys.concentrations import assign_concentrations, validate_experiment
from nplab.ephys.ic50 import CELL_COLUMNS, FIT_COLUMNS, fit_cells, fractional_current, ic50
from nplab.errors import InputError

CONCS = [0.1, 0.3, 1.0, 3.0, 10.0]
FRACTIONS = {
    "A": [0.929091, 0.754231, 0.510000, 0.230000, 0.095909],
    "B": [0.963270, 0.926916, 0.681730, 0.390705, 0.121604],
    "C": [0.867119, 0.671911, 0.440430, 0.202527, 0.083682],
}
# recorded from ic50_fits.out
R_CELLS = {
    "A": dict(hill=1.0236593516, ic50=0.9872951361, se_hill=0.04753770, se_ic50=0.04800865,
              rse=0.0186030702),
    "B": dict(hill=1.2016356767, ic50=2.0007742469, se_hill=0.05420624, se_ic50=0.08105282,
              rse=0.0168299388),
    "C": dict(hill=0.9131601053, ic50=0.7150756253, se_hill=0.03502771, se_ic50=0.03126199,
              rse=0.0156579611),
}


def tagged_cell(file, fractions, control=-1000.0, n_ctrl=5, n_each=4, interval=5.0, drift=None):
    """Per-sweep rows of one tagged wash-in file (control, then one tag per concentration)."""
    values, tags, idx = [control] * n_ctrl, [""] * n_ctrl, [0] * n_ctrl
    for k, (c, f) in enumerate(zip(CONCS, fractions, strict=True), start=1):
        values += [control * f] * n_each
        tags += [f"+ami {c:g} uM"] * n_each
        idx += [k] * n_each
    n = len(values)
    v = np.asarray(values, dtype=float)
    if drift is not None:
        v = v * (1 + drift * np.arange(n))
    return pd.DataFrame({
        "file": file, "sweep": np.arange(n), "time_s": np.arange(n) * interval, "channel": 0,
        "measure": "peak_inward", "value": v, "baseline": 0.0, "units": "pA", "tag": tags,
        "tag_index": idx, "status": "ok", "reason": "",
    })


def experiment(cells, drug="amitriptyline", condition="rest"):
    return validate_experiment(pd.DataFrame({
        "cell": list(cells), "file": [f"{c}.abf" for c in cells], "drug": drug,
        "conc_um": np.nan, "holding_mv": -120.0, "condition": condition,
    }))


@pytest.fixture
def three_cells():
    ps = pd.concat([tagged_cell(f"{c}.abf", FRACTIONS[c]) for c in "ABC"], ignore_index=True)
    return ps, experiment("ABC")


def test_fractional_current_exact(three_cells):
    ps, exp = three_cells
    cells = fractional_current(assign_concentrations(ps, exp), steady_state_sweeps=3)
    assert list(cells.columns) == list(CELL_COLUMNS)
    drug = cells[cells["role"] == "drug"]
    for c in "ABC":
        got = drug[drug["cell"] == c].sort_values("conc_um")
        np.testing.assert_allclose(got["fraction"], FRACTIONS[c], rtol=1e-12)
        np.testing.assert_allclose(got["inhibition"], 1 - np.array(FRACTIONS[c]), rtol=1e-9)
        assert got["n_sweeps"].tolist() == [3] * 5
        assert (got["last_sweep"] - got["first_sweep"]).tolist() == [2] * 5
    assert (cells["status"] == "ok").all()


def test_linear_and_vehicle_rundown_match_r():
    # rundown.R: control sweeps 0-5, drug (1 uM) sweeps 6-11, steady state = last 3
    v = [-1000, -996, -991, -985, -982, -976, -700, -560, -520, -505, -500, -497]
    n = len(v)
    drug = pd.DataFrame({
        "file": "d.abf", "sweep": np.arange(n), "time_s": np.arange(n) * 5.0, "value": v,
        "units": "pA", "tag": [""] * 6 + ["+ami 1 uM"] * 6, "tag_index": [0] * 6 + [1] * 6,
        "status": "ok",
    })
    v1 = [-800, -799, -797, -796, -795, -793, -790, -788, -785, -783, -781, -779]
    v2 = [-1200, -1198, -1195, -1193, -1190, -1188, -1184, -1180, -1177, -1175, -1171, -1168]
    veh = [drug.assign(file=f, value=vals, tag=[""] * 6 + ["vehicle 0 uM"] * 6)
           for f, vals in (("v1.abf", v1), ("v2.abf", v2))]
    ps = pd.concat([drug, *veh], ignore_index=True)
    exp = validate_experiment(pd.DataFrame({
        "cell": ["d", "v1", "v2"], "file": ["d.abf", "v1.abf", "v2.abf"],
        "drug": ["ami", "vehicle", "vehicle"], "conc_um": np.nan, "holding_mv": -120,
        "condition": "rest"}))
    sw = assign_concentrations(ps, exp)
    lin = fractional_current(sw, steady_state_sweeps=3, rundown="linear")
    row = lin[(lin["cell"] == "d") & (lin["role"] == "drug")].iloc[0]
    assert row["current"] == pytest.approx(-500.666666666667, rel=1e-12)
    assert row["control_current"] == pytest.approx(-981.0, rel=1e-12)
    assert row["raw_fraction"] == pytest.approx(0.510363574584, rel=1e-10)
    assert row["rundown_factor"] == pytest.approx(0.970646191479, rel=1e-10)
    assert row["fraction"] == pytest.approx(0.525797740787, rel=1e-10)
    # R: 100*60*b/(a + b*tc) = -5.87 (amplitude declining) -> reported as +5.87 %/min
    assert row["rundown_pct_per_min"] == pytest.approx(5.870761704152, rel=1e-10)
    veh_cells = lin[lin["cell"] != "d"]
    assert set(veh_cells["role"]) == {"control", "vehicle"}
    vc = fractional_current(sw, steady_state_sweeps=3, rundown="vehicle")
    row = vc[(vc["cell"] == "d") & (vc["role"] == "drug")].iloc[0]
    assert row["rundown_factor"] == pytest.approx(0.983280032194, rel=1e-10)
    assert row["fraction"] == pytest.approx(0.519041939095, rel=1e-10)
    with pytest.raises(InputError, match="unknown run-down"):
        fractional_current(sw, rundown="exp")


def test_qc_failures_kept_with_reason(three_cells):
    ps, exp = three_cells
    small = tagged_cell("D.abf", FRACTIONS["A"], control=-50.0)
    failed = pd.DataFrame({"file": ["E.abf"], "sweep": [0], "time_s": [0.0], "value": [np.nan],
                           "units": [""], "tag": [""], "tag_index": [0], "status": ["failed"],
                           "reason": ["not an ABF file"]})
    # F: one file at 1 µM and no control file (layout B)
    nocontrol = tagged_cell("F.abf", FRACTIONS["B"]).iloc[:5].assign(value=-500.0)
    ps = pd.concat([ps, small, failed, nocontrol], ignore_index=True)
    exp = experiment("ABCDEF")
    exp.loc[exp["cell"] == "F", "conc_um"] = 1.0
    sw = assign_concentrations(ps, exp)
    cells = fractional_current(sw, steady_state_sweeps=3, min_control_current=100.0)
    status = cells.groupby("cell")["cell_status"].first()
    assert status.to_dict() == {"A": "ok", "B": "ok", "C": "ok", "D": "failed", "E": "failed",
                                "F": "failed"}
    reasons = cells.groupby("cell")["cell_reason"].first()
    assert "control current |-50| pA < minimum 100" in reasons["D"]
    assert "file E.abf failed: not an ABF file" in reasons["E"]
    assert "no control period" in reasons["F"]
    assert (cells.loc[cells["cell"].isin(["D", "E", "F"]), "status"] == "qc_failed").all()
    # external QC table (nplab.ephys.qc_cells style) fails cell B too
    qc = pd.DataFrame({"cell": ["A", "B"], "qc_pass": [True, False], "reason": ["", "Ra +35%"]})
    cells2 = fractional_current(sw, steady_state_sweeps=3, qc=qc)
    assert "QC: Ra +35%" in cells2.loc[cells2["cell"] == "B", "cell_reason"].iloc[0]
    assert (cells2.loc[cells2["cell"] == "A", "cell_status"] == "ok").all()


def test_fit_cells_match_r(three_cells):
    ps, exp = three_cells
    cells = fractional_current(assign_concentrations(ps, exp), steady_state_sweeps=3)
    fits, models = fit_cells(cells, model="LL.2")
    assert list(fits.columns) == list(FIT_COLUMNS)
    assert fits["level"].tolist() == ["cell"] * 3 + ["pooled_mean_log", "pooled_global"]
    per = fits[fits["level"] == "cell"].set_index("cell")
    for c, ref in R_CELLS.items():
        r = per.loc[c]
        assert r["ic50_um"] == pytest.approx(ref["ic50"], rel=1e-6)
        assert r["hill"] == pytest.approx(ref["hill"], rel=1e-6)
        assert r["ic50_se_um"] == pytest.approx(ref["se_ic50"], rel=1e-4)
        assert r["hill_se"] == pytest.approx(ref["se_hill"], rel=1e-4)
        assert r["residual_se"] == pytest.approx(ref["rse"], rel=1e-6)
        assert r["log10_ic50_se"] == pytest.approx(ref["se_ic50"] / (ref["ic50"] * math.log(10)),
                                                   rel=1e-4)
        assert r["df_resid"] == 3 and r["n_points"] == 5 and r["status"] == "ok"
        # Wald CI of the engine: estimate ± t(3)·se
        q = 3.182446305284263  # qt(0.975, 3)
        assert r["ic50_ci_low_um"] == pytest.approx(ref["ic50"] - q * ref["se_ic50"], rel=1e-4)
        assert bool(r["ic50_in_range"])
    a = per.loc["A"]
    assert a["ic50_logci_low_um"] == pytest.approx(0.84574506, rel=1e-4)
    assert a["ic50_logci_high_um"] == pytest.approx(1.15253607, rel=1e-4)
    pooled = fits[fits["level"] == "pooled_mean_log"].iloc[0]
    assert pooled["log10_ic50"] == pytest.approx(0.0499990202, abs=1e-8)
    assert pooled["log10_ic50_se"] == pytest.approx(0.1319499689, rel=1e-6)
    assert pooled["ic50_um"] == pytest.approx(1.1220159230, rel=1e-6)
    assert pooled["ic50_ci_low_um"] == pytest.approx(0.3035736878, rel=1e-6)
    assert pooled["ic50_ci_high_um"] == pytest.approx(4.1469988415, rel=1e-6)
    assert pooled["n_cells"] == 3
    glob = fits[fits["level"] == "pooled_global"].iloc[0]
    assert glob["ic50_um"] == pytest.approx(1.1502912785, rel=1e-6)
    assert glob["hill"] == pytest.approx(0.9963977323, rel=1e-6)
    assert glob["ic50_se_um"] == pytest.approx(0.14761044, rel=1e-4)
    assert glob["ic50_ci_low_um"] == pytest.approx(0.83139831, rel=1e-4)
    assert glob["n_points"] == 15 and glob["n_cells"] == 3
    assert ("amitriptyline", "rest", "pooled_global", "") in models


def test_ll3_uses_control_point_and_matches_r(three_cells):
    ps, exp = three_cells
    cells = fractional_current(assign_concentrations(ps, exp), steady_state_sweeps=3)
    fits, _ = fit_cells(cells[cells["cell"] == "A"], model="LL.3")
    r = fits[fits["level"] == "cell"].iloc[0]
    assert r["n_points"] == 6 and r["model"] == "LL.3"
    assert r["ic50_um"] == pytest.approx(0.9746082416, rel=1e-6)
    assert r["top"] == pytest.approx(1.0048014499, rel=1e-6)
    assert r["hill"] == pytest.approx(1.0154929222, rel=1e-6)


def test_qc_failed_cells_not_pooled_and_too_few_points(three_cells):
    ps, _ = three_cells
    bad = tagged_cell("D.abf", [0.01] * 5, control=-50.0)
    two = tagged_cell("G.abf", FRACTIONS["A"]).iloc[:13]  # control + 2 concentrations
    ps = pd.concat([ps, bad, two], ignore_index=True)
    cells = fractional_current(assign_concentrations(ps, experiment("ABCDG")),
                               steady_state_sweeps=3, min_control_current=100.0)
    fits, _ = fit_cells(cells)
    per = fits[fits["level"] == "cell"].set_index("cell")
    assert per.loc["D", "reason"].startswith("cell failed QC: control current")
    assert per.loc["G", "status"] == "not_fitted" and "too few" in per.loc["G", "reason"]
    pooled = fits[fits["level"] == "pooled_mean_log"].iloc[0]
    # D failed QC and G has no per-cell fit: the mean-log pool is A, B, C as in R
    assert pooled["n_cells"] == 3
    assert pooled["ic50_um"] == pytest.approx(1.1220159230, rel=1e-6)
    glob = fits[fits["level"] == "pooled_global"].iloc[0]
    assert glob["n_cells"] == 4 and glob["n_points"] == 17  # A, B, C + G's two points


def test_ic50_driver_with_per_sweep_table(three_cells, tmp_path):
    ps, exp = three_cells
    table = exp.assign(target="Nav1.7", conc_um="")
    path = tmp_path / "experiment.csv"
    table.to_csv(path, index=False)
    res = ic50(path, ps, protocol=None, steady_state_sweeps=3)
    assert res.parameters["ic50_model"] == "LL.2"
    assert res.references is not None and set(res.references["key"]) == {"Nav1.7"}
    ref = res.references[res.references["level"] == "pooled_mean_log"].iloc[0]
    assert ref["ratio"] == pytest.approx(1.1220159230 / 0.24, rel=1e-6)
    assert bool(ref["inside_ci"]) is False  # 0.24 < 0.30 (lower CI limit)
    assert res.state is None
    # same inputs -> identical tables
    again = ic50(path, ps, protocol=None, steady_state_sweeps=3)
    pd.testing.assert_frame_equal(res.fits, again.fits)
    pd.testing.assert_frame_equal(res.cells, again.cells)


# --------------------------------------------------------------------------- end to end
# The sample recordings (sample_data/ephys, written by make_recordings.py with known truth:
# Hill block, slope 1, IC50 20 µM at -120 mV, K_app 0.474308 µM at V½ (h = 0.5,
# K_I 0.24 µM), hERG 4.78 µM; run-down 0.3 %/min; navrest-cell04 with a 40% Ra drift).

TRUTH = {"patchclamp-nav-resting": 20.0, "patchclamp-nav-inactivated": 0.474308,
         "patchclamp-herg": 4.78}
TARGETS = {"patchclamp-nav-resting": "DRG-Na", "patchclamp-nav-inactivated": "Nav1.7",
           "patchclamp-herg": "hERG"}


def _sample_experiment(repo_dir):
    d = repo_dir / "sample_data" / "ephys"
    exp = pd.read_csv(d / "experiment.csv")
    exp["target"] = exp["condition"].map(TARGETS)
    exp["h"] = exp["condition"].map({"patchclamp-nav-resting": 1.0,
                                     "patchclamp-nav-inactivated": 0.5})
    wash = pd.DataFrame({"cell": ["navrest-washin01"], "file": ["navrest-washin01_0000.abf"],
                         "drug": ["amitriptyline"], "conc_um": [np.nan], "holding_mv": [-120.0],
                         "condition": ["patchclamp-nav-resting"], "target": ["DRG-Na"],
                         "h": [1.0]})
    exp = pd.concat([exp, wash], ignore_index=True)
    exp["file"] = [str(d / f) for f in exp["file"]]
    return exp


def test_sample_recordings_recover_true_ic50s(repo_dir):
    res = ic50(_sample_experiment(repo_dir), rundown="linear")
    fits = res.fits
    for cond, true in TRUTH.items():
        pooled = fits[(fits["condition"] == cond) & (fits["level"] == "pooled_mean_log")].iloc[0]
        assert pooled["ic50_ci_low_um"] <= true <= pooled["ic50_ci_high_um"], cond
        assert pooled["hill"] == pytest.approx(1.0, abs=0.03)
    # the Ra-drift cell fails QC: kept with its reason, fitted alone, not pooled
    bad = res.cells[res.cells["cell"] == "navrest-cell04"]
    assert (bad["cell_status"] == "failed").all() and "Ra change" in bad["cell_reason"].iloc[0]
    rest = fits[(fits["condition"] == "patchclamp-nav-resting")
                & (fits["level"] == "pooled_mean_log")].iloc[0]
    assert rest["n_cells"] == 4  # cells 01-03 and the tagged wash-in cell
    # the tagged wash-in file: concentrations parsed from "+amitriptyline 3 uM" etc.
    wash = res.cells[(res.cells["cell"] == "navrest-washin01") & (res.cells["role"] == "drug")]
    assert wash["conc_um"].tolist() == [3.0, 10.0, 30.0, 100.0]
    wfit = fits[fits["cell"] == "navrest-washin01"].iloc[0]
    # one cell's CI reflects its own noise only (not the run-down line's uncertainty):
    # checked to 5% here, the pooled CIs above carry the between-cell spread
    assert wfit["ic50_um"] == pytest.approx(20.0, rel=0.05)
    # state-dependent affinities from -120 mV (h = 1) and V½ (h = 0.5): K_R 20, K_I 0.24
    st = res.state[res.state["level"] == "pooled_mean_log"].iloc[0]
    assert abs(st["k_i_um"] - 0.24) < 1.96 * st["k_i_se_um"]
    assert abs(st["k_r_um"] - 20.0) < 1.96 * st["k_r_se_um"]
    # references: hERG and the K_I of Nav1.7 inside their CIs
    ref = res.references.set_index(["key", "level"])
    assert bool(ref.loc[("hERG", "pooled_mean_log"), "inside_ci"])
    assert bool(ref.loc[("Nav1.7", "pooled_mean_log:K_I"), "inside_ci"])
    # the V½ IC50 is an apparent constant (about 2 x K_I at h = 0.5): it is not shown
    # beside the K_I reference (issue 13.5: like with like); the K_I row above is
    assert ("Nav1.7", "pooled_mean_log") not in ref.index
    assert set(ref.loc["Nav1.7"].index) == {"pooled_mean_log:K_I", "pooled_global:K_I"}


@pytest.mark.slow
def test_cli_ic50_outputs_reproducible(repo_dir, tmp_path):
    from click.testing import CliRunner

    from nplab.cli.ephys_ic50 import ic50_command

    d = repo_dir / "sample_data" / "ephys"
    exp = pd.read_csv(d / "experiment.csv")
    exp = exp[exp["condition"] == "patchclamp-herg"].assign(target="hERG")
    exp["file"] = [str(d / f) for f in exp["file"]]
    table = tmp_path / "herg.csv"
    exp.to_csv(table, index=False)
    runner = CliRunner()
    outs = []
    for k in (1, 2):
        out = tmp_path / f"out{k}"
        r = runner.invoke(ic50_command, [str(table), "-o", str(out), "--rundown", "linear",
                                         "--figure-format", "svg"])
        assert r.exit_code == 0, r.output
        outs.append(out)
    names = sorted(p.relative_to(outs[0]).as_posix() for p in outs[0].rglob("*") if p.is_file())
    assert {"cells.csv", "fits.csv", "per_sweep.csv", "references.csv", "manifest.json"} <= set(names)
    assert "figures/concentration_response_amitriptyline_patchclamp-herg.svg" in names
    assert "figures/traces_herg-cell01.svg" in names and "figures/time_course_herg-cell01.svg" in names
    for n in names:
        if n != "manifest.json":
            assert (outs[0] / n).read_bytes() == (outs[1] / n).read_bytes(), n
    fits = pd.read_csv(outs[0] / "fits.csv")
    api = ic50(table, rundown="linear").fits
    np.testing.assert_allclose(fits["ic50_um"], api["ic50_um"], rtol=1e-12)
    # bad input -> InputError (exit code 2 through nplab.cli.main), never a traceback
    bad = tmp_path / "bad.csv"
    bad.write_text("cell,file,drug,conc_um,holding_mv\n")
    r = runner.invoke(ic50_command, [str(bad), "-o", str(tmp_path / "x")])
    assert isinstance(r.exception, InputError)


def test_rundown_across_files_needs_start_times(tmp_path):
    ps = pd.concat([tagged_cell("c0.abf", FRACTIONS["A"]).iloc[:5],
                    tagged_cell("c1.abf", FRACTIONS["A"]).iloc[:5]], ignore_index=True)
    ps["tag"], ps["tag_index"] = "", 0
    exp = pd.DataFrame({"cell": ["k", "k"], "file": ["c0.abf", "c1.abf"], "drug": "ami",
                        "conc_um": [0.0, 1.0], "holding_mv": -120, "condition": "rest"})
    path = tmp_path / "exp.csv"
    exp.to_csv(path, index=False)
    with pytest.raises(InputError, match=r"exp.csv, row 2, column 'start_s': no valid recording"):
        ic50(path, ps, rundown="linear")
    exp.assign(start_s=[0, 60]).to_csv(path, index=False)
    with pytest.raises(InputError, match="start_s is blank"):
        exp.assign(start_s=[0, None]).to_csv(path, index=False)
        ic50(path, ps, rundown="linear")


def test_ic50_schema_extends_the_patchclamp_schema():
    from nplab.ephys import PROTOCOL_SCHEMAS
    from nplab.ephys.ic50 import IC50_DEFAULTS, IC50_SCHEMA
    from nplab.protocols import load_protocol

    # nplab.ephys adds the concentration–response keys to the measurement schema
    for key, spec in IC50_SCHEMA.items():
        assert PROTOCOL_SCHEMAS["patchclamp"][key] is spec
        assert spec.default == IC50_DEFAULTS[key]
    proto = load_protocol("patchclamp-nav-resting")
    assert proto["rundown_correction"] == "linear" and proto["ic50_model"] == "LL.2"


def test_per_sweep_file_names_aligned_to_experiment(three_cells, tmp_path):
    ps, exp = three_cells
    measured = ps.assign(file="recordings/" + ps["file"])  # as 'nplab ephys measure DIR' names them
    res = ic50(exp, measured, steady_state_sweeps=3)
    base = ic50(exp, ps, steady_state_sweeps=3)
    pd.testing.assert_frame_equal(res.cells, base.cells)


@pytest.mark.slow
def test_parallel_measuring_gives_identical_tables(repo_dir):
    exp = _sample_experiment(repo_dir)
    exp = exp[exp["condition"] == "patchclamp-herg"]
    serial = ic50(exp, measure_kwargs={"executor": "serial"})
    parallel = ic50(exp, measure_kwargs={"executor": 2})
    pd.testing.assert_frame_equal(serial.cells, parallel.cells)
    pd.testing.assert_frame_equal(serial.fits, parallel.fits)
