"""Cell × concentration table (steady states, fractional current) from a per-sweep table.

Candidate: ``assign_concentrations`` + ``fractional_current`` (grouped once per cell and
period).  Baseline: the naive way, boolean-masking the whole per-sweep table for every
cell and every solution period and averaging its last N sweeps (fractions only, no QC or
run-down bookkeeping).  Both give the same fractions (checked before timing).

Run: ``PYTHONPATH=src python benchmarks/bench_ephys_ic50.py [--cells 400]``
"""

from __future__ import annotations

import argparse
import sys

import numpy as np
import pandas as pd
from _harness import compare

from nplab.ephys.concentrations import assign_concentrations, validate_experiment
from nplab.ephys.ic50 import fractional_current
from nplab.provenance import rng

CONCS = [0.1, 0.3, 1.0, 3.0, 10.0]
N_SWEEPS = 10  # per solution period
N_SS = 5


def make(n_cells: int) -> tuple[pd.DataFrame, pd.DataFrame]:
    g = rng()
    parts = []
    for c in range(n_cells):
        ic50 = 10 ** g.normal(0.0, 0.2)
        frac = np.repeat([1.0, *(1 / (1 + np.array(CONCS) / ic50))], N_SWEEPS)
        n = frac.size
        idx = np.repeat(np.arange(len(CONCS) + 1), N_SWEEPS)
        tags = np.array(["", *[f"+ami {x:g} uM" for x in CONCS]])[idx]
        parts.append(pd.DataFrame({
            "file": f"cell{c:05d}.abf", "sweep": np.arange(n), "time_s": np.arange(n) * 5.0,
            "value": -1000.0 * frac + g.normal(0, 5, n), "units": "pA", "tag": tags,
            "tag_index": idx, "status": "ok",
        }))
    ps = pd.concat(parts, ignore_index=True)
    exp = validate_experiment(pd.DataFrame({
        "cell": [f"c{c:05d}" for c in range(n_cells)],
        "file": [f"cell{c:05d}.abf" for c in range(n_cells)], "drug": "ami", "conc_um": np.nan,
        "holding_mv": -120.0, "condition": "rest"}))
    return ps, exp


def candidate(ps: pd.DataFrame, exp: pd.DataFrame) -> np.ndarray:
    cells = fractional_current(assign_concentrations(ps, exp), steady_state_sweeps=N_SS)
    return cells.sort_values(["cell", "segment_order"])["fraction"].to_numpy()


def naive(ps: pd.DataFrame, exp: pd.DataFrame) -> np.ndarray:
    out = []
    for _cell, f in sorted(zip(exp["cell"], exp["file"], strict=True)):
        rows = ps[ps["file"] == f]
        ctrl = rows[rows["tag_index"] == 0]["value"].to_numpy()[-N_SS:].mean()
        for k in sorted(rows["tag_index"].unique()):
            seg = rows[rows["tag_index"] == k]["value"].to_numpy()[-N_SS:]
            out.append(seg.mean() / ctrl)
    return np.asarray(out)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--cells", type=int, default=400)
    args, rest = parser.parse_known_args()
    ps, exp = make(args.cells)
    np.testing.assert_allclose(candidate(ps, exp), naive(ps, exp), rtol=1e-12)
    compare(
        f"ephys ic50: cell x concentration table, {args.cells} cells x 6 periods x {N_SWEEPS} sweeps",
        lambda: candidate(ps, exp),
        lambda: naive(ps, exp),
        baseline_name="per-cell/per-period boolean masks",
        repeats=3,
        argv=rest,
    )


if __name__ == "__main__":
    sys.exit(main())
