"""Benchmark: nplab.ephys.measure vs a pyabf setSweep loop on files with 100+ sweeps.

Builds synthetic Nav recordings (patchclamp-nav-resting step protocol, 50 kHz,
3,000 samples per sweep) in a temporary folder: 12 files × 200 sweeps.  The baseline
is the usual pyabf loop — ``ABF(path)``, then ``setSweep`` for each sweep and the same
baseline-mean / peak-in-window measurement with numpy — which rebuilds pyabf's epoch
table on every ``setSweep`` (quadratic in the sweep count).  nplab runs serially here
(one process) so the ratio is the per-core speed-up; both give the same numbers (the
script checks it).

    PYTHONPATH=src python benchmarks/bench_ephys_measure.py [--repeats N] [--json FILE]
"""

from __future__ import annotations

import sys
import tempfile
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from _harness import compare

from nplab.ephys import measure
from nplab.ephys.synth import NAV_RESTING, Cell, write_concentration_file
from nplab.protocols import load_protocol

N_FILES = 12
N_SWEEPS = 200


def make_files(folder: Path) -> list[str]:
    files = []
    for k in range(N_FILES):
        path = folder / f"bench_{k:03d}.abf"
        write_concentration_file(
            path, NAV_RESTING, Cell(f"c{k}"), 10.0, 20.0, sweeps=N_SWEEPS, seed=k
        )
        files.append(str(path))
    return files


def main() -> None:
    import pyabf

    proto = load_protocol(
        "patchclamp-nav-resting", leak_subtraction="none", membrane_test=None, peak_points=1
    )
    rate = NAV_RESTING.sample_rate
    with tempfile.TemporaryDirectory() as tmp:
        files = make_files(Path(tmp))

        def nplab_measure():
            return measure(files, proto, executor="serial", progress=False)

        def pyabf_loop():
            values = []
            for f in files:
                abf = pyabf.ABF(f)
                for s in abf.sweepList:
                    abf.setSweep(s)
                    ep = abf.sweepEpochs
                    a_end, d_start = ep.p2s[1], ep.p1s[4]
                    base = float(np.mean(abf.sweepY[a_end - int(0.005 * rate) : a_end], dtype=np.float64))
                    lo = d_start + round(0.3e-3 * rate)
                    hi = d_start + round(10e-3 * rate)
                    values.append(float(np.min(abf.sweepY[lo:hi])) - base)
            return np.array(values)

        ours = nplab_measure()["value"].to_numpy()
        theirs = pyabf_loop()
        np.testing.assert_allclose(ours, theirs, rtol=0, atol=1e-4)
        compare(
            f"ephys measure, {N_FILES} files x {N_SWEEPS} sweeps (serial)",
            nplab_measure,
            pyabf_loop,
            baseline_name="pyabf setSweep loop",
            repeats=5,
            baseline_repeats=3,
            extra={"files": N_FILES, "sweeps_per_file": N_SWEEPS},
        )


if __name__ == "__main__":
    main()
